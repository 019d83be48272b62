//! Modbus-RTU register maps (issue 20, F9): what a Modbus meter model holds where, as data.
//!
//! A map lists, for each value the platform reads, the DL/T 645 data identifier it stands for
//! (so readings, plans, answers and alarms stay one vocabulary), the Modbus function and
//! register, the register format and its decimals; and the writes that trip and close the
//! relay. The collector in front of the bus converts each register to its item exactly: a map
//! is refused here when a register's decimals exceed what its item carries.
//!
//! Written by a tenant as JSON (the model's address table from its manual), e.g. Acrel
//! DDSY1352's energy: `{"di": "00010000", "function": 3, "register": "0x0000",
//! "format": "U32", "decimals": 2}`.
//!
//! Must not: know frames, CRCs or how the bus is reached.

use dlt645::Di;
use dlt645::items::{Format as ItemFormat, spec};
use serde::{Deserialize, Serialize};

use super::Invalid;

/// How a register's words make a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RegisterFormat {
    U16,
    S16,
    /// Two registers, high word first (the Modbus convention).
    U32,
    S32,
    /// Two registers, low word first (some vendors).
    U32Swapped,
    S32Swapped,
    /// The relay: open when the register (or coil, function 1) equals `open`; read as status
    /// word 3 (bit 4: relay open).
    Relay,
}

impl RegisterFormat {
    pub fn words(self) -> u16 {
        match self {
            RegisterFormat::U32 | RegisterFormat::S32 | RegisterFormat::U32Swapped | RegisterFormat::S32Swapped => 2,
            _ => 1,
        }
    }
}

/// One value read from the meter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRead {
    /// The DL/T 645 item the value stands for (`00010000` energy, `02010100` voltage A…).
    #[serde(with = "hex_di")]
    pub di: Di,
    /// 1 (coils, for the relay), 3 (holding registers) or 4 (input registers).
    pub function: u8,
    pub register: u16,
    pub format: RegisterFormat,
    /// The value is the register's integer over 10^decimals (0.01 kWh: 2).
    #[serde(default)]
    pub decimals: u8,
    /// `RELAY`: the value meaning "open" (a coil: 1 or 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<u16>,
}

/// A write that switches the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterWrite {
    /// 5 (single coil: value 0xFF00 on or 0x0000 off) or 6 (single register).
    pub function: u8,
    pub register: u16,
    pub value: u16,
}

/// A Modbus model's map.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterMap {
    pub reads: Vec<RegisterRead>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trip: Option<RegisterWrite>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close: Option<RegisterWrite>,
}

impl RegisterMap {
    /// The identifiers a read asks for, in the map's order.
    pub fn items(&self) -> Vec<Di> {
        self.reads.iter().map(|r| r.di).collect()
    }

    /// The map's reads for these identifiers, in their order (a read plan).
    pub fn select(&self, items: &[Di]) -> Vec<RegisterRead> {
        items.iter().filter_map(|d| self.reads.iter().find(|r| r.di == *d).cloned()).collect()
    }
}

/// A Modbus unit id from a meter's registered address: 1 to 247.
pub fn unit_of(address: u64) -> Result<u8, Invalid> {
    u8::try_from(address)
        .ok()
        .filter(|u| (1..=247).contains(u))
        .ok_or_else(|| Invalid::new("address", "a Modbus meter's address is its unit id, 1 to 247 (e.g. 000000000007)"))
}

/// Numbers may be written as JSON numbers or as `"0x000B"` / `"11"` strings (manuals give hex).
#[derive(Deserialize)]
#[serde(untagged)]
enum Num {
    N(u64),
    S(String),
}

impl Num {
    fn get(&self, field: &str) -> Result<u16, String> {
        let v = match self {
            Num::N(n) => *n,
            Num::S(s) => {
                let s = s.trim();
                let (digits, radix) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                    Some(h) => (h.trim_end_matches(['H', 'h']), 16),
                    None if s.ends_with(['H', 'h']) => (s.trim_end_matches(['H', 'h']), 16),
                    None => (s, 10),
                };
                u64::from_str_radix(digits, radix).map_err(|_| format!("{field} “{s}” is not a number (decimal, 0x… or …H)"))?
            }
        };
        u16::try_from(v).map_err(|_| format!("{field} {v} is beyond 0xFFFF"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRead {
    di: String,
    function: u8,
    register: Num,
    format: RegisterFormat,
    #[serde(default)]
    decimals: u8,
    #[serde(default)]
    open: Option<Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWrite {
    function: u8,
    register: Num,
    value: Num,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMap {
    reads: Vec<RawRead>,
    #[serde(default)]
    trip: Option<RawWrite>,
    #[serde(default)]
    close: Option<RawWrite>,
}

/// Parses and checks a register map written as JSON; every error names the entry.
pub fn parse(text: &str) -> Result<RegisterMap, Invalid> {
    let bad = |m: String| Invalid::new("registerMap", m);
    let raw: RawMap = serde_json::from_str(text).map_err(|e| bad(format!("not a register map: {e}")))?;
    if raw.reads.is_empty() || raw.reads.len() > 40 {
        return Err(bad("1 to 40 reads".into()));
    }
    let mut reads: Vec<RegisterRead> = Vec::new();
    for (i, r) in raw.reads.iter().enumerate() {
        let at = |m: String| bad(format!("reads[{i}] ({}): {m}", r.di));
        let di = Di::parse(&r.di).ok_or_else(|| at("not a data identifier (8 hex digits)".into()))?;
        if reads.iter().any(|x| x.di == di) {
            return Err(at("named twice".into()));
        }
        let register = r.register.get("register").map_err(at)?;
        let item = spec(di).ok_or_else(|| at("an identifier the codec does not decode".into()))?;
        match (r.format, item.format) {
            (RegisterFormat::Relay, _) if di != dlt645::di::STATUS_WORD_3 => {
                return Err(at("RELAY reads status word 3 (04000503)".into()));
            }
            (RegisterFormat::Relay, _) => {
                if !matches!(r.function, 1 | 3 | 4) {
                    return Err(at("function 1 (coil), 3 or 4".into()));
                }
                if r.open.is_none() {
                    return Err(at("RELAY needs the value meaning open".into()));
                }
            }
            (_, ItemFormat::Bcd { decimals, signed, .. }) => {
                if !matches!(r.function, 3 | 4) {
                    return Err(at("function 3 (holding) or 4 (input registers)".into()));
                }
                if r.decimals > decimals {
                    return Err(at(format!("{} decimals, but the item carries {decimals}: the value would not be exact", r.decimals)));
                }
                let signed_format = matches!(r.format, RegisterFormat::S16 | RegisterFormat::S32 | RegisterFormat::S32Swapped);
                if signed_format && !signed {
                    return Err(at("a signed register for an unsigned item".into()));
                }
            }
            _ => return Err(at("only numeric items and the relay (RELAY on 04000503) can come from registers".into())),
        }
        let open = match &r.open {
            Some(n) => Some(n.get("open").map_err(at)?),
            None => None,
        };
        reads.push(RegisterRead { di, function: r.function, register, format: r.format, decimals: r.decimals, open });
    }
    let write = |w: &Option<RawWrite>, name: &str| -> Result<Option<RegisterWrite>, Invalid> {
        let Some(w) = w else { return Ok(None) };
        let at = |m: String| bad(format!("{name}: {m}"));
        let register = w.register.get("register").map_err(at)?;
        let value = w.value.get("value").map_err(at)?;
        match w.function {
            5 if value != 0xFF00 && value != 0 => Err(at("a coil is written 0xFF00 (on) or 0x0000 (off)".into())),
            5 | 6 => Ok(Some(RegisterWrite { function: w.function, register, value })),
            _ => Err(at("function 5 (single coil) or 6 (single register)".into())),
        }
    };
    let (trip, close) = (write(&raw.trip, "trip")?, write(&raw.close, "close")?);
    // A switched relay is confirmed by reading it back.
    if (trip.is_some() || close.is_some()) && !reads.iter().any(|r| r.format == RegisterFormat::Relay) {
        return Err(bad("a map with trip or close writes reads the relay too (RELAY on 04000503)".into()));
    }
    Ok(RegisterMap { reads, trip, close })
}

/// Acrel DDSY1352's published address table (reads): energy total and TOU in 0.01 kWh,
/// voltage 0.1 V, current 0.01 A, active power and power factor in thousandths. Its relay
/// registers differ by firmware; a tenant's own profile adds them (docs/DEVICES.md).
pub fn acrel_ddsy1352() -> RegisterMap {
    let r = |di: Di, register: u16, format: RegisterFormat, decimals: u8| RegisterRead {
        di,
        function: 3,
        register,
        format,
        decimals,
        open: None,
    };
    let energy = |t: u8| Di::new(0x00, 0x01, t, 0x00);
    RegisterMap {
        reads: vec![
            r(energy(0), 0x0000, RegisterFormat::U32, 2),
            r(energy(1), 0x0002, RegisterFormat::U32, 2),
            r(energy(2), 0x0004, RegisterFormat::U32, 2),
            r(energy(3), 0x0006, RegisterFormat::U32, 2),
            r(energy(4), 0x0008, RegisterFormat::U32, 2),
            r(dlt645::di::VOLTAGE_A, 0x000B, RegisterFormat::U16, 1),
            r(dlt645::di::CURRENT_A, 0x000C, RegisterFormat::U16, 2),
            r(dlt645::di::ACTIVE_POWER_TOTAL, 0x000D, RegisterFormat::S16, 3),
            r(dlt645::di::POWER_FACTOR_TOTAL, 0x0010, RegisterFormat::S16, 3),
        ],
        trip: None,
        close: None,
    }
}

mod hex_di {
    use dlt645::Di;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Di, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:08X}", d.0))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Di, D::Error> {
        let s = String::deserialize(d)?;
        Di::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a data identifier")))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const GOOD: &str = r#"{"reads": [
        {"di": "00010000", "function": 3, "register": "0x0000", "format": "U32", "decimals": 2},
        {"di": "02010100", "function": 3, "register": "000BH", "format": "U16", "decimals": 1},
        {"di": "02030000", "function": 4, "register": 13, "format": "S16", "decimals": 3},
        {"di": "04000503", "function": 1, "register": 0, "format": "RELAY", "open": 1}],
      "trip": {"function": 5, "register": 0, "value": "0xFF00"},
      "close": {"function": 5, "register": 0, "value": 0}}"#;

    #[test]
    fn a_map_parses_from_the_manuals_spelling_and_round_trips_through_its_wire_form() {
        let m = parse(GOOD).unwrap();
        assert_eq!(m.reads[1].register, 0x000B);
        assert_eq!(m.reads[2].register, 13);
        assert_eq!(m.trip, Some(RegisterWrite { function: 5, register: 0, value: 0xFF00 }));
        let wire = serde_json::to_string(&m).unwrap();
        assert!(wire.contains(r#""di":"00010000""#), "{wire}");
        assert_eq!(serde_json::from_str::<RegisterMap>(&wire).unwrap(), m);
        assert_eq!(m.select(&[dlt645::di::VOLTAGE_A, dlt645::di::FORWARD_ACTIVE_TOTAL]).len(), 2);
        assert_eq!(parse(&serde_json::to_string(&acrel_ddsy1352()).unwrap()).unwrap(), acrel_ddsy1352());
    }

    #[test]
    fn a_map_that_would_lose_exactness_or_names_nonsense_is_refused_with_the_entry() {
        let one = |read: &str| parse(&format!(r#"{{"reads": [{read}]}}"#)).unwrap_err().message;
        // Energy carries two decimals: three would not be exact.
        assert!(one(r#"{"di": "00010000", "function": 3, "register": 0, "format": "U32", "decimals": 3}"#).contains("exact"));
        assert!(one(r#"{"di": "00010000", "function": 3, "register": 0, "format": "S32", "decimals": 2}"#).contains("signed"));
        assert!(one(r#"{"di": "0001000", "function": 3, "register": 0, "format": "U32"}"#).contains("reads[0]"));
        assert!(one(r#"{"di": "00010000", "function": 2, "register": 0, "format": "U32"}"#).contains("function"));
        assert!(one(r#"{"di": "00010000", "function": 3, "register": "0x1FFFF", "format": "U32"}"#).contains("0xFFFF"));
        assert!(one(r#"{"di": "00010000", "function": 3, "register": "x", "format": "U32"}"#).contains("not a number"));
        assert!(one(r#"{"di": "04000503", "function": 1, "register": 0, "format": "RELAY"}"#).contains("open"));
        assert!(one(r#"{"di": "02010100", "function": 3, "register": 0, "format": "RELAY", "open": 1}"#).contains("04000503"));
        assert!(one(r#"{"di": "00010000", "function": 3, "register": 0, "format": "F32"}"#).contains("not a register map"));
        assert!(one(r#"{"di": "00010000", "function": 3, "register": 0, "format": "U32", "scale": 2}"#).contains("not a register map"));
        assert!(parse(r#"{"reads": []}"#).is_err());
        let coil = r#"{"reads": [{"di": "00010000", "function": 3, "register": 0, "format": "U32"}], "trip": {"function": 5, "register": 0, "value": 1}}"#;
        assert!(parse(coil).unwrap_err().message.contains("0xFF00"));
        let blind = r#"{"reads": [{"di": "00010000", "function": 3, "register": 0, "format": "U32"}], "trip": {"function": 5, "register": 0, "value": "0xFF00"}}"#;
        assert!(parse(blind).unwrap_err().message.contains("RELAY"), "a trip that could never be confirmed");
        let twice = r#"{"reads": [{"di": "00010000", "function": 3, "register": 0, "format": "U32"}, {"di": "00010000", "function": 3, "register": 2, "format": "U32"}]}"#;
        assert!(parse(twice).unwrap_err().message.contains("twice"));
        assert_eq!(unit_of(7).unwrap(), 7);
        assert!(unit_of(0).is_err() && unit_of(248).is_err() && unit_of(990_000_645).is_err());
    }
}
