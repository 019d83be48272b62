//! Application layer: data identifiers (DI) and their value formats (reference/dlt645.md §3).
//!
//! Owns the DI catalogue and the exact BCD <-> decimal conversion, including the sign bit
//! (bit 7 of the most significant byte, the last one on the wire). Values are exact
//! [`Decimal`]s, never floats. Unknown identifiers are kept as raw bytes, not errors.

use std::fmt;

use rust_decimal::Decimal;

/// A data identifier, held as `DI3 DI2 DI1 DI0` (document order); sent `DI0` first.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Di(pub u32);

impl Di {
    pub const fn new(di3: u8, di2: u8, di1: u8, di0: u8) -> Self {
        Self(u32::from_be_bytes([di3, di2, di1, di0]))
    }

    pub fn bytes(self) -> [u8; 4] {
        self.0.to_be_bytes()
    }

    pub fn from_wire(wire: [u8; 4]) -> Self {
        Self(u32::from_le_bytes(wire))
    }

    pub fn to_wire(self) -> [u8; 4] {
        self.0.to_le_bytes()
    }

    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.len() != 8 {
            return None;
        }
        u32::from_str_radix(text, 16).ok().map(Self)
    }

    fn with_di1(self, v: u8) -> Self {
        let [a, b, _, d] = self.bytes();
        Self::new(a, b, v, d)
    }

    fn with_di0(self, v: u8) -> Self {
        let [a, b, c, _] = self.bytes();
        Self::new(a, b, c, v)
    }
}

impl fmt::Display for Di {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08X}", self.0)
    }
}

impl fmt::Debug for Di {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Di({self})")
    }
}

/// Well-known identifiers the platform reads and the simulator answers.
pub mod di {
    use super::Di;
    pub const COMBINED_ACTIVE_TOTAL: Di = Di::new(0x00, 0x00, 0x00, 0x00);
    pub const FORWARD_ACTIVE_TOTAL: Di = Di::new(0x00, 0x01, 0x00, 0x00);
    pub const FORWARD_ACTIVE_BLOCK: Di = Di::new(0x00, 0x01, 0xFF, 0x00);
    pub const REVERSE_ACTIVE_TOTAL: Di = Di::new(0x00, 0x02, 0x00, 0x00);
    pub const FORWARD_ACTIVE_LAST_SETTLEMENT_BLOCK: Di = Di::new(0x00, 0x01, 0xFF, 0x01);
    pub const MAX_DEMAND_FORWARD: Di = Di::new(0x01, 0x01, 0x00, 0x00);
    pub const VOLTAGE_A: Di = Di::new(0x02, 0x01, 0x01, 0x00);
    pub const VOLTAGE_BLOCK: Di = Di::new(0x02, 0x01, 0xFF, 0x00);
    pub const CURRENT_A: Di = Di::new(0x02, 0x02, 0x01, 0x00);
    pub const CURRENT_BLOCK: Di = Di::new(0x02, 0x02, 0xFF, 0x00);
    pub const ACTIVE_POWER_TOTAL: Di = Di::new(0x02, 0x03, 0x00, 0x00);
    pub const ACTIVE_POWER_BLOCK: Di = Di::new(0x02, 0x03, 0xFF, 0x00);
    pub const REACTIVE_POWER_TOTAL: Di = Di::new(0x02, 0x04, 0x00, 0x00);
    pub const POWER_FACTOR_TOTAL: Di = Di::new(0x02, 0x06, 0x00, 0x00);
    pub const POWER_FACTOR_BLOCK: Di = Di::new(0x02, 0x06, 0xFF, 0x00);
    pub const FREQUENCY: Di = Di::new(0x02, 0x80, 0x00, 0x02);
    pub const CURRENT_DEMAND: Di = Di::new(0x02, 0x80, 0x00, 0x04);
    pub const DATE: Di = Di::new(0x04, 0x00, 0x01, 0x01);
    pub const TIME: Di = Di::new(0x04, 0x00, 0x01, 0x02);
    pub const COMM_ADDRESS: Di = Di::new(0x04, 0x00, 0x04, 0x01);
    pub const STATUS_WORD_1: Di = Di::new(0x04, 0x00, 0x05, 0x01);
    pub const STATUS_WORD_3: Di = Di::new(0x04, 0x00, 0x05, 0x03);
    pub const STATUS_WORD_PHASE_A: Di = Di::new(0x04, 0x00, 0x05, 0x04);
    pub const STATUS_WORD_PHASE_B: Di = Di::new(0x04, 0x00, 0x05, 0x05);
    pub const STATUS_WORD_PHASE_C: Di = Di::new(0x04, 0x00, 0x05, 0x06);
    pub const STATUS_WORD_7: Di = Di::new(0x04, 0x00, 0x05, 0x07);
    pub const STATUS_WORDS_ALL: Di = Di::new(0x04, 0x00, 0x05, 0xFF);
    pub const ALARM_AMOUNT_1: Di = Di::new(0x04, 0x00, 0x10, 0x01);
    pub const ALARM_AMOUNT_2: Di = Di::new(0x04, 0x00, 0x10, 0x02);
    pub const CREDIT_LIMIT: Di = Di::new(0x04, 0x00, 0x10, 0x03);
    pub const REMAINING_AMOUNT: Di = Di::new(0x00, 0x90, 0x02, 0x00);
    pub const OVERDRAFT_AMOUNT: Di = Di::new(0x00, 0x90, 0x02, 0x01);
    pub const DAILY_FREEZE_TIME_1: Di = Di::new(0x05, 0x06, 0x00, 0x01);
    pub const DAILY_FREEZE_FORWARD_1: Di = Di::new(0x05, 0x06, 0x01, 0x01);
}

/// How an item's bytes are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Packed BCD, LSB first, with an implied decimal point; optional sign bit.
    Bcd { len: u8, decimals: u8, signed: bool },
    /// Demand `XX.XXXX` (3 bytes) followed by its time `YYMMDDhhmm` (5 bytes).
    Demand { signed: bool },
    /// `YYMMDDhhmm`, sent `mm hh DD MM YY`.
    Stamp,
    /// `YYMMDDWW`, sent `WW DD MM YY` (weekday 0 = Sunday).
    DateWeek,
    /// `hhmmss`, sent `ss mm hh`.
    Time,
    /// Two-byte binary status word, LSB first.
    Word,
    /// Six BCD bytes (an address or number), LSB first.
    Address,
    /// A run of 4-byte `XXXXXX.XX` energies: total then tariffs (freeze records).
    EnergyRun,
}

impl Format {
    /// Fixed length in bytes, `None` for variable runs.
    pub fn fixed_len(self) -> Option<usize> {
        Some(match self {
            Format::Bcd { len, .. } => usize::from(len),
            Format::Demand { .. } => 8,
            Format::Stamp => 5,
            Format::DateWeek => 4,
            Format::Time => 3,
            Format::Word => 2,
            Format::Address => 6,
            Format::EnergyRun => return None,
        })
    }
}

/// What the catalogue knows about one identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub format: Format,
    pub unit: &'static str,
}

const fn bcd(len: u8, decimals: u8, signed: bool, unit: &'static str) -> Option<Spec> {
    Some(Spec { format: Format::Bcd { len, decimals, signed }, unit })
}

const fn of(format: Format, unit: &'static str) -> Option<Spec> {
    Some(Spec { format, unit })
}

const ENERGY_QUANTITIES: [&str; 11] = [
    "combined_active",
    "forward_active",
    "reverse_active",
    "combined_reactive_1",
    "combined_reactive_2",
    "reactive_q1",
    "reactive_q2",
    "reactive_q3",
    "reactive_q4",
    "forward_apparent",
    "reverse_apparent",
];

fn energy_unit(di2: u8) -> &'static str {
    match di2 {
        0x00..=0x02 => "kWh",
        0x03..=0x08 => "kvarh",
        _ => "kVAh",
    }
}

fn demand_unit(di2: u8) -> &'static str {
    match di2 {
        0x00..=0x02 => "kW",
        0x03..=0x08 => "kvar",
        _ => "kVA",
    }
}

/// The catalogue (reference/dlt645.md §3.2–§3.7). `None` means unknown: kept raw.
pub fn spec(di: Di) -> Option<Spec> {
    let [d3, d2, d1, d0] = di.bytes();
    match (d3, d2, d1, d0) {
        // §3.6 prepayment values (DI2 = 90 sits inside class 00).
        (0x00, 0x90, 0x01, 0x00 | 0x01) => bcd(4, 2, false, "kWh"),
        (0x00, 0x90, 0x02, 0x00 | 0x01) => bcd(4, 2, false, "yuan"),
        // §3.2 energy: quantity, tariff 0..=63, period 0..=12.
        (0x00, 0x00..=0x0A, 0x00..=0x3F, 0x00..=0x0C) => bcd(4, 2, matches!(d2, 0x00 | 0x03 | 0x04), energy_unit(d2)),
        // §3.3 demand + time.
        (0x01, 0x01..=0x0A, 0x00..=0x3F, 0x00..=0x0C) => of(Format::Demand { signed: matches!(d2, 0x03 | 0x04) }, demand_unit(d2)),
        // §3.4 variables.
        (0x02, 0x01, 0x01..=0x03, 0x00) => bcd(2, 1, false, "V"),
        (0x02, 0x02, 0x01..=0x03, 0x00) => bcd(3, 3, true, "A"),
        (0x02, 0x03, 0x00..=0x03, 0x00) => bcd(3, 4, true, "kW"),
        (0x02, 0x04, 0x00..=0x03, 0x00) => bcd(3, 4, true, "kvar"),
        (0x02, 0x05, 0x00..=0x03, 0x00) => bcd(3, 4, false, "kVA"),
        (0x02, 0x06, 0x00..=0x03, 0x00) => bcd(2, 3, true, ""),
        (0x02, 0x07, 0x01..=0x03, 0x00) => bcd(2, 1, false, "°"),
        (0x02, 0x08 | 0x09, 0x01..=0x03, 0x00) => bcd(2, 2, false, "%"),
        (0x02, 0x0A | 0x0B, 0x01..=0x03, 0x01..=0x15) => bcd(2, 2, false, "%"),
        (0x02, 0x80, 0x00, 0x01) => bcd(3, 3, true, "A"),
        (0x02, 0x80, 0x00, 0x02) => bcd(2, 2, false, "Hz"),
        (0x02, 0x80, 0x00, 0x03) => bcd(3, 4, true, "kW"),
        (0x02, 0x80, 0x00, 0x04) => bcd(3, 4, true, "kW"),
        (0x02, 0x80, 0x00, 0x05) => bcd(3, 4, true, "kvar"),
        (0x02, 0x80, 0x00, 0x06) => bcd(3, 4, false, "kVA"),
        (0x02, 0x80, 0x00, 0x07) => bcd(2, 1, true, "°C"),
        (0x02, 0x80, 0x00, 0x08 | 0x09) => bcd(2, 2, false, "V"),
        (0x02, 0x80, 0x00, 0x0A) => bcd(4, 0, false, "min"),
        (0x02, 0x80, 0x00, 0x0B | 0x20 | 0x21) => bcd(4, 4, false, "yuan/kWh"),
        (0x02, 0x80, 0x00, 0x22) => bcd(2, 0, false, "min"),
        // §3.6 last purchase records.
        (0x03, 0x33, 0x01, 0x01) => of(Format::Stamp, ""),
        (0x03, 0x33, 0x02, 0x01) => bcd(2, 0, false, ""),
        (0x03, 0x33, 0x03..=0x06, 0x01) => bcd(4, 2, false, "yuan"),
        // §3.5 parameters and status words.
        (0x04, 0x00, 0x01, 0x01) => of(Format::DateWeek, ""),
        (0x04, 0x00, 0x01, 0x02) => of(Format::Time, ""),
        (0x04, 0x00, 0x01, 0x03 | 0x04) => bcd(1, 0, false, "min"),
        (0x04, 0x00, 0x01, 0x08) => of(Format::Stamp, ""),
        (0x04, 0x00, 0x04, 0x01 | 0x02 | 0x0E) => of(Format::Address, ""),
        (0x04, 0x00, 0x05, 0x01..=0x07) => of(Format::Word, ""),
        (0x04, 0x00, 0x0B, 0x01..=0x03) => bcd(2, 0, false, ""),
        (0x04, 0x00, 0x0E, 0x01 | 0x02) => bcd(3, 4, false, "kW"),
        (0x04, 0x00, 0x0E, 0x03 | 0x04) => bcd(2, 1, false, "V"),
        (0x04, 0x00, 0x0F, 0x01..=0x04) => bcd(4, 2, false, "kWh"),
        (0x04, 0x00, 0x10, 0x01..=0x05) => bcd(4, 2, false, "yuan"),
        (0x04, 0x05, 0x01 | 0x02, 0x01..=0x0C) => bcd(4, 4, false, "yuan/kWh"),
        (0x04, 0x09, 0x0B, 0x01) => bcd(3, 4, false, "kW"),
        // §3.7 freezes: time of the record, energy runs, max demand.
        (0x05, 0x00..=0x07, 0x00, 0x01..=0x3E) => of(Format::Stamp, ""),
        (0x05, 0x00..=0x07, 0x01..=0x08, 0x01..=0x3E) => of(Format::EnergyRun, energy_unit(d1 - 1)),
        _ => None,
    }
}

/// A stable snake_case name for an identifier (`forward_active_energy_t2_settlement_1`).
pub fn name(di: Di) -> String {
    let [d3, d2, d1, d0] = di.bytes();
    let tariff = |t: u8| if t == 0 { "total".to_string() } else { format!("t{t}") };
    let period = |p: u8| if p == 0 { String::new() } else { format!("_settlement_{p}") };
    let phase = |p: u8| match p {
        0 => "total",
        1 => "a",
        2 => "b",
        3 => "c",
        _ => "n",
    };
    let quantity = |q: u8| ENERGY_QUANTITIES.get(usize::from(q)).copied().unwrap_or("energy");
    match (d3, d2, d1, d0) {
        (0x00, 0x90, 0x01, 0x00) => "remaining_energy".into(),
        (0x00, 0x90, 0x01, 0x01) => "overdraft_energy".into(),
        (0x00, 0x90, 0x02, 0x00) => "remaining_amount".into(),
        (0x00, 0x90, 0x02, 0x01) => "overdraft_amount".into(),
        (0x00, q, t, p) if spec(di).is_some() => format!("{}_energy_{}{}", quantity(q), tariff(t), period(p)),
        (0x01, q, t, p) if spec(di).is_some() => format!("{}_max_demand_{}{}", quantity(q), tariff(t), period(p)),
        (0x02, 0x01, p, _) => format!("voltage_{}", phase(p)),
        (0x02, 0x02, p, _) => format!("current_{}", phase(p)),
        (0x02, 0x03, p, _) => format!("active_power_{}", phase(p)),
        (0x02, 0x04, p, _) => format!("reactive_power_{}", phase(p)),
        (0x02, 0x05, p, _) => format!("apparent_power_{}", phase(p)),
        (0x02, 0x06, p, _) => format!("power_factor_{}", phase(p)),
        (0x02, 0x07, p, _) => format!("phase_angle_{}", phase(p)),
        (0x02, 0x08, p, _) => format!("voltage_thd_{}", phase(p)),
        (0x02, 0x09, p, _) => format!("current_thd_{}", phase(p)),
        (0x02, 0x0A, p, h) => format!("voltage_harmonic_{}_{h}", phase(p)),
        (0x02, 0x0B, p, h) => format!("current_harmonic_{}_{h}", phase(p)),
        (0x02, 0x80, 0x00, n) => match n {
            0x01 => "neutral_current",
            0x02 => "frequency",
            0x03 => "active_power_1min_average",
            0x04 => "active_demand",
            0x05 => "reactive_demand",
            0x06 => "apparent_demand",
            0x07 => "temperature",
            0x08 => "clock_battery_voltage",
            0x09 => "backup_battery_voltage",
            0x0A => "battery_working_time",
            0x0B => "step_price",
            0x20 => "current_price",
            0x21 => "current_tariff_price",
            0x22 => "auth_remaining_time",
            _ => "unknown",
        }
        .into(),
        (0x03, 0x33, n, 0x01) => match n {
            0x01 => "last_purchase_time",
            0x02 => "purchase_count",
            0x03 => "last_purchase_amount",
            0x04 => "remaining_before_last_purchase",
            0x05 => "remaining_after_last_purchase",
            0x06 => "cumulative_purchase_amount",
            _ => "unknown",
        }
        .into(),
        (0x04, 0x00, 0x01, 0x01) => "date".into(),
        (0x04, 0x00, 0x01, 0x02) => "time".into(),
        (0x04, 0x00, 0x01, 0x03) => "demand_period".into(),
        (0x04, 0x00, 0x01, 0x04) => "demand_sliding_time".into(),
        (0x04, 0x00, 0x01, 0x08) => "price_set_switch_time".into(),
        (0x04, 0x00, 0x04, 0x01) => "comm_address".into(),
        (0x04, 0x00, 0x04, 0x02) => "meter_number".into(),
        (0x04, 0x00, 0x04, 0x0E) => "customer_number".into(),
        (0x04, 0x00, 0x05, n @ 0x01..=0x07) => format!("status_word_{n}"),
        (0x04, 0x00, 0x0B, n) => format!("settlement_day_{n}"),
        (0x04, 0x00, 0x0E, 0x01) => "forward_power_limit".into(),
        (0x04, 0x00, 0x0E, 0x02) => "reverse_power_limit".into(),
        (0x04, 0x00, 0x0E, 0x03) => "voltage_upper_limit".into(),
        (0x04, 0x00, 0x0E, 0x04) => "voltage_lower_limit".into(),
        (0x04, 0x00, 0x0F, n) => format!("energy_limit_{n}"),
        (0x04, 0x00, 0x10, 0x01) => "alarm_amount_1".into(),
        (0x04, 0x00, 0x10, 0x02) => "alarm_amount_2".into(),
        (0x04, 0x00, 0x10, 0x03) => "credit_limit".into(),
        (0x04, 0x00, 0x10, 0x04) => "hoarding_limit".into(),
        (0x04, 0x00, 0x10, 0x05) => "close_allowed_amount".into(),
        (0x04, 0x05, 0x01, n) => format!("price_{n}"),
        (0x04, 0x05, 0x02, n) => format!("standby_price_{n}"),
        (0x04, 0x09, 0x0B, 0x01) => "overload_power_threshold".into(),
        (0x05, kind, item, n) if spec(di).is_some() => {
            let kind = match kind {
                0x00 => "timed",
                0x01 => "instant",
                0x04 => "hourly",
                0x06 => "daily",
                _ => "agreed",
            };
            let item = if item == 0 { "time".to_string() } else { format!("{}_energy", quantity(item - 1)) };
            format!("{kind}_freeze_{item}_{n}")
        }
        _ => "unknown".into(),
    }
}

/// A decoded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Number(Decimal),
    /// A demand with the meter-local time it occurred (`YYYY-MM-DD hh:mm`).
    Demand {
        value: Decimal,
        at: String,
    },
    /// Meter-local date, time or timestamp, as text.
    Text(String),
    Word(u16),
    /// A run of energies (total first, then tariff 1..n).
    Run(Vec<Decimal>),
    /// The meter filled the field with FF/EE: "not supported".
    Missing,
    Raw(Vec<u8>),
}

/// One identifier and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub di: Di,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    #[error("data field too short for a data identifier ({0} bytes)")]
    NoIdentifier(usize),
    #[error("{di}: {needed} byte(s) expected, {got} present")]
    Length { di: Di, needed: usize, got: usize },
    #[error("{di}: invalid BCD byte {byte:02X}H")]
    Bcd { di: Di, byte: u8 },
    #[error("{di}: invalid date or time {text}")]
    Calendar { di: Di, text: String },
    #[error("{di}: value {value} does not fit the item's format")]
    Range { di: Di, value: String },
    #[error("{di}: value of the wrong kind for this item")]
    Kind { di: Di },
}

/// Unsigned packed BCD (LSB first) to an integer; `None` on a non-decimal nibble.
fn bcd_to_u64(bytes: &[u8], di: Di) -> Result<u64, ItemError> {
    let mut n = 0u64;
    for &b in bytes.iter().rev() {
        let (hi, lo) = (b >> 4, b & 0x0F);
        if hi > 9 || lo > 9 {
            return Err(ItemError::Bcd { di, byte: b });
        }
        n = n * 100 + u64::from(hi) * 10 + u64::from(lo);
    }
    Ok(n)
}

fn u64_to_bcd(mut n: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            let pair = (n % 100) as u8;
            n /= 100;
            ((pair / 10) << 4) | (pair % 10)
        })
        .collect()
}

fn is_fill(bytes: &[u8]) -> bool {
    !bytes.is_empty() && (bytes.iter().all(|b| *b == 0xFF) || bytes.iter().all(|b| *b == 0xEE))
}

/// Decodes a BCD number with `decimals` implied places; the sign is bit 7 of the last byte.
pub fn decode_bcd(bytes: &[u8], decimals: u8, signed: bool, di: Di) -> Result<Decimal, ItemError> {
    let mut magnitude = bytes.to_vec();
    let mut negative = false;
    if signed && let Some(top) = magnitude.last_mut() {
        negative = *top & 0x80 != 0;
        *top &= 0x7F;
    }
    let n = bcd_to_u64(&magnitude, di)?;
    let n = i64::try_from(n).map_err(|_| ItemError::Range { di, value: n.to_string() })?;
    let mut d = Decimal::new(if negative { -n } else { n }, u32::from(decimals));
    if d.is_zero() {
        d.set_sign_positive(true);
    }
    Ok(d)
}

/// Encodes `value` exactly with `decimals` places into `len` BCD bytes; refuses what does not fit.
pub fn encode_bcd(value: Decimal, len: usize, decimals: u8, signed: bool, di: Di) -> Result<Vec<u8>, ItemError> {
    let range = || ItemError::Range { di, value: value.to_string() };
    let scaled = value.checked_mul(Decimal::from(10u64.pow(u32::from(decimals)))).ok_or_else(range)?;
    if !scaled.fract().is_zero() || (value.is_sign_negative() && !value.is_zero() && !signed) {
        return Err(range());
    }
    let magnitude: u64 = scaled.abs().trunc().try_into().map_err(|_| range())?;
    let digits = len * 2 - usize::from(signed);
    // A signed item keeps 7 bits in the top byte: at most "7" as its high digit.
    let limit = if signed { 8 * 10u64.pow(digits as u32) } else { 10u64.pow(digits as u32) };
    if magnitude >= limit {
        return Err(range());
    }
    let mut out = u64_to_bcd(magnitude, len);
    if signed
        && value.is_sign_negative()
        && magnitude != 0
        && let Some(top) = out.last_mut()
    {
        *top |= 0x80;
    }
    Ok(out)
}

fn two(bytes: &[u8], i: usize, di: Di) -> Result<u8, ItemError> {
    let b = bytes.get(i).copied().unwrap_or_default();
    bcd_to_u64(&[b], di).map(|n| n as u8)
}

fn decode_stamp(bytes: &[u8], di: Di) -> Result<String, ItemError> {
    // wire: mm hh DD MM YY
    let (mi, h, d, mo, y) = (two(bytes, 0, di)?, two(bytes, 1, di)?, two(bytes, 2, di)?, two(bytes, 3, di)?, two(bytes, 4, di)?);
    let text = format!("20{y:02}-{mo:02}-{d:02} {h:02}:{mi:02}");
    let valid = chrono::NaiveDate::from_ymd_opt(2000 + i32::from(y), u32::from(mo), u32::from(d)).is_some() && h < 24 && mi < 60;
    if valid { Ok(text) } else { Err(ItemError::Calendar { di, text }) }
}

fn decode_date_week(bytes: &[u8], di: Di) -> Result<String, ItemError> {
    // wire: WW DD MM YY
    let (w, d, mo, y) = (two(bytes, 0, di)?, two(bytes, 1, di)?, two(bytes, 2, di)?, two(bytes, 3, di)?);
    let text = format!("20{y:02}-{mo:02}-{d:02}");
    let valid = chrono::NaiveDate::from_ymd_opt(2000 + i32::from(y), u32::from(mo), u32::from(d)).is_some() && w < 7;
    if valid { Ok(text) } else { Err(ItemError::Calendar { di, text }) }
}

fn decode_time(bytes: &[u8], di: Di) -> Result<String, ItemError> {
    let (s, mi, h) = (two(bytes, 0, di)?, two(bytes, 1, di)?, two(bytes, 2, di)?);
    let text = format!("{h:02}:{mi:02}:{s:02}");
    if h < 24 && mi < 60 && s < 60 { Ok(text) } else { Err(ItemError::Calendar { di, text }) }
}

/// Decodes one value of a known format from exactly its bytes.
pub fn decode_value(di: Di, format: Format, bytes: &[u8]) -> Result<Value, ItemError> {
    if let Some(needed) = format.fixed_len()
        && needed != bytes.len()
    {
        return Err(ItemError::Length { di, needed, got: bytes.len() });
    }
    if is_fill(bytes) {
        return Ok(Value::Missing);
    }
    Ok(match format {
        Format::Bcd { decimals, signed, .. } => Value::Number(decode_bcd(bytes, decimals, signed, di)?),
        Format::Demand { signed } => {
            let (value, at) = bytes.split_at(3);
            Value::Demand { value: decode_bcd(value, 4, signed, di)?, at: decode_stamp(at, di)? }
        }
        Format::Stamp => Value::Text(decode_stamp(bytes, di)?),
        Format::DateWeek => Value::Text(decode_date_week(bytes, di)?),
        Format::Time => Value::Text(decode_time(bytes, di)?),
        Format::Word => {
            Value::Word(u16::from_le_bytes([bytes.first().copied().unwrap_or_default(), bytes.get(1).copied().unwrap_or_default()]))
        }
        Format::Address => Value::Text(format!("{:012}", bcd_to_u64(bytes, di)?)),
        Format::EnergyRun => {
            if !bytes.len().is_multiple_of(4) || bytes.is_empty() {
                return Err(ItemError::Length { di, needed: bytes.len().div_ceil(4).max(1) * 4, got: bytes.len() });
            }
            Value::Run(bytes.chunks(4).map(|c| decode_bcd(c, 2, false, di)).collect::<Result<_, _>>()?)
        }
    })
}

fn parse_pairs(text: &str, century: bool, di: Di) -> Result<Vec<u8>, ItemError> {
    let bad = || ItemError::Calendar { di, text: text.to_string() };
    let text_body = if century { text.strip_prefix("20").ok_or_else(bad)? } else { text };
    let seps = ['-', ' ', ':'];
    let digits: String = text_body.chars().filter(|c| !seps.contains(c)).collect();
    if !digits.len().is_multiple_of(2) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    digits
        .as_bytes()
        .chunks(2)
        .map(|p| match p {
            [h, l] => Ok(((h - b'0') << 4) | (l - b'0')),
            _ => Err(bad()),
        })
        .collect()
}

/// Encodes a value in the item's wire format (the inverse of [`decode_value`]).
pub fn encode_value(di: Di, format: Format, value: &Value) -> Result<Vec<u8>, ItemError> {
    let kind = || ItemError::Kind { di };
    let out = match (format, value) {
        (f, Value::Missing) => vec![0xFF; f.fixed_len().unwrap_or(4)],
        (Format::Bcd { len, decimals, signed }, Value::Number(n)) => encode_bcd(*n, usize::from(len), decimals, signed, di)?,
        (Format::Demand { signed }, Value::Demand { value, at }) => {
            let mut out = encode_bcd(*value, 3, 4, signed, di)?;
            out.extend(encode_value(di, Format::Stamp, &Value::Text(at.clone()))?);
            return Ok(out);
        }
        (Format::Stamp | Format::DateWeek | Format::Time, Value::Text(t)) => {
            let mut pairs = parse_pairs(t, format != Format::Time, di)?;
            pairs.reverse();
            if format == Format::DateWeek {
                let date = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| ItemError::Calendar { di, text: t.clone() })?;
                pairs.insert(0, chrono::Datelike::weekday(&date).num_days_from_sunday() as u8);
            }
            pairs
        }
        (Format::Word, Value::Word(w)) => w.to_le_bytes().to_vec(),
        (Format::Address, Value::Text(t)) => {
            let n: u64 = t.parse().map_err(|_| kind())?;
            if n > 999_999_999_999 {
                return Err(ItemError::Range { di, value: t.clone() });
            }
            u64_to_bcd(n, 6)
        }
        (Format::EnergyRun, Value::Run(values)) => {
            let mut out = Vec::with_capacity(values.len() * 4);
            for v in values {
                out.extend(encode_bcd(*v, 4, 2, false, di)?);
            }
            out
        }
        _ => return Err(kind()),
    };
    if let Some(len) = format.fixed_len()
        && out.len() != len
    {
        return Err(ItemError::Length { di, needed: len, got: out.len() });
    }
    Ok(out)
}

/// The members of a block identifier (DI1 or DI0 = FF), in table order, lazily.
fn block_members(di: Di) -> Option<impl Iterator<Item = (Di, Spec)>> {
    let [_, _, d1, d0] = di.bytes();
    let make: fn(Di, u8) -> Di = if d1 == 0xFF && d0 != 0xFF {
        Di::with_di1
    } else if d0 == 0xFF && d1 != 0xFF {
        Di::with_di0
    } else {
        return None;
    };
    // Members start at index 0 (totals) or 1 (phases, status words) and run contiguously.
    let start = (0..=1u8).find(|i| spec(make(di, *i)).is_some())?;
    Some((start..=0x3F).map_while(move |i| spec(make(di, i)).map(|s| (make(di, i), s))))
}

/// Decodes a read reply's data field: DI, then the value (or a block of values).
pub fn decode_items(data: &[u8]) -> Result<Vec<Item>, ItemError> {
    let (head, body) = data.split_at_checked(4).ok_or(ItemError::NoIdentifier(data.len()))?;
    let mut wire = [0u8; 4];
    wire.copy_from_slice(head);
    let di = Di::from_wire(wire);
    if let Some(spec) = spec(di) {
        return Ok(vec![Item { di, value: decode_value(di, spec.format, body)? }]);
    }
    if let Some(members) = block_members(di) {
        let mut items = Vec::new();
        let mut rest = body;
        for (member, member_spec) in members {
            if rest.is_empty() {
                break;
            }
            let Some(len) = member_spec.format.fixed_len() else { break };
            let Some((bytes, tail)) = rest.split_at_checked(len) else {
                return Err(ItemError::Length { di: member, needed: len, got: rest.len() });
            };
            items.push(Item { di: member, value: decode_value(member, member_spec.format, bytes)? });
            rest = tail;
        }
        if !rest.is_empty() {
            items.push(Item { di, value: Value::Raw(rest.to_vec()) });
        }
        return Ok(items);
    }
    Ok(vec![Item { di, value: Value::Raw(body.to_vec()) }])
}

/// Builds the data field of a read reply for one identifier (a block when `values` has several).
pub fn encode_items(di: Di, values: &[Value]) -> Result<Vec<u8>, ItemError> {
    let mut out = di.to_wire().to_vec();
    if let Some(spec) = spec(di) {
        let value = values.first().ok_or(ItemError::Kind { di })?;
        out.extend(encode_value(di, spec.format, value)?);
        return Ok(out);
    }
    if let Some(members) = block_members(di) {
        for ((member, member_spec), value) in members.zip(values) {
            out.extend(encode_value(member, member_spec.format, value)?);
        }
        return Ok(out);
    }
    match values.first() {
        Some(Value::Raw(bytes)) => out.extend(bytes),
        _ => return Err(ItemError::Kind { di }),
    }
    Ok(out)
}
