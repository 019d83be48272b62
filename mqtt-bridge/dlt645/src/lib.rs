//! DL/T 645-2007 codec: pure functions over bytes, no I/O, no clock, no panics on input.
//!
//! `frame` is the link layer, `items` the data identifiers; this module adds the reply error
//! bits, the remote-control (0x1C) command and the JSON report printed by `frame decode`.
#![deny(clippy::indexing_slicing)]

pub mod frame;
pub mod items;
pub mod secure;

pub use frame::{Address, AddressError, Control, Direction, Frame, FrameError, Scan, function, scan};
pub use items::{Di, Format, Item, ItemError, Spec, Value, di};

use serde::Serialize;
use serde_json::value::RawValue;

/// Meanings of the bits of ERR, the one-byte error of abnormal replies (§2.3).
pub const ERR_BITS: [&str; 8] = [
    "other",
    "no_requested_data",
    "password_wrong_or_unauthorised",
    "baud_rate_not_changeable",
    "too_many_year_time_zones",
    "too_many_daily_time_slots",
    "too_many_tariffs",
    "reserved",
];

/// Meanings of the bits of SERR, the two-byte error of abnormal security (0x03) replies.
pub const SERR_BITS: [&str; 8] = [
    "other",
    "repeated_recharge",
    "esam_verification_failed",
    "identity_authentication_failed",
    "customer_number_mismatch",
    "recharge_count_error",
    "purchase_exceeds_hoarding_limit",
    "reserved",
];

/// The error carried by an abnormal reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyError {
    pub code: u16,
    /// Two bytes (SERR) for security replies, one byte (ERR) otherwise.
    pub wide: bool,
}

impl ReplyError {
    pub fn of(frame: &Frame) -> Option<Self> {
        if !frame.control.abnormal || frame.control.direction != Direction::Reply {
            return None;
        }
        let wide = frame.control.function == function::SECURITY;
        let lo = frame.data.first().copied().unwrap_or_default();
        let hi = if wide { frame.data.get(1).copied().unwrap_or_default() } else { 0 };
        Some(Self { code: u16::from_le_bytes([lo, hi]), wide })
    }

    pub fn bits(self) -> Vec<&'static str> {
        let names: &[&str] = if self.wide { &SERR_BITS } else { &ERR_BITS };
        (0..16u16).filter(|bit| self.code & (1 << bit) != 0).map(|bit| names.get(usize::from(bit)).copied().unwrap_or("reserved")).collect()
    }

    pub fn has(self, bit: u8) -> bool {
        self.code & (1 << bit) != 0
    }
}

/// `N1` of the remote-control command (§4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelayAction {
    Trip,
    AllowClose,
    DirectClose,
    AlarmOn,
    AlarmOff,
    HoldOn,
    HoldOff,
}

impl RelayAction {
    pub const ALL: [RelayAction; 7] = [
        RelayAction::Trip,
        RelayAction::AllowClose,
        RelayAction::DirectClose,
        RelayAction::AlarmOn,
        RelayAction::AlarmOff,
        RelayAction::HoldOn,
        RelayAction::HoldOff,
    ];

    pub fn code(self) -> u8 {
        match self {
            RelayAction::Trip => 0x1A,
            RelayAction::AllowClose => 0x1B,
            RelayAction::DirectClose => 0x1C,
            RelayAction::AlarmOn => 0x2A,
            RelayAction::AlarmOff => 0x2B,
            RelayAction::HoldOn => 0x3A,
            RelayAction::HoldOff => 0x3B,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    pub fn name(self) -> &'static str {
        match self {
            RelayAction::Trip => "trip",
            RelayAction::AllowClose => "allow_close",
            RelayAction::DirectClose => "direct_close",
            RelayAction::AlarmOn => "alarm_on",
            RelayAction::AlarmOff => "alarm_off",
            RelayAction::HoldOn => "hold_on",
            RelayAction::HoldOff => "hold_off",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// A plain (non-ESAM) remote-control command: `PA P0 P1 P2 | C0..C3 | N1 | N2 | N3..N8`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteControl {
    /// Privilege level (sent first) then six password digits.
    pub level: u8,
    pub password: u32,
    pub operator: u32,
    pub action: RelayAction,
    /// Validity deadline on the meter's clock, `YYYY-MM-DD hh:mm:ss`.
    pub deadline: chrono::NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("remote control data must be 16 bytes, got {0}")]
    Length(usize),
    #[error("unknown remote control command {0:02X}H")]
    Action(u8),
    #[error("invalid deadline in remote control command")]
    Deadline,
    #[error("invalid password digits")]
    Password,
    #[error("control frames may not go to a broadcast or wildcard address")]
    Address,
    #[error(transparent)]
    Frame(#[from] FrameError),
}

fn bcd_byte(n: u32) -> u8 {
    (((n / 10) % 10) << 4 | (n % 10)) as u8
}

fn from_bcd_byte(b: u8) -> Option<u32> {
    let (hi, lo) = (b >> 4, b & 0x0F);
    (hi <= 9 && lo <= 9).then_some(u32::from(hi) * 10 + u32::from(lo))
}

impl RemoteControl {
    pub fn to_data(&self) -> Vec<u8> {
        use chrono::{Datelike, Timelike};
        let p = self.password;
        let d = self.deadline;
        let mut out = vec![self.level, bcd_byte(p), bcd_byte(p / 100), bcd_byte(p / 10_000)];
        out.extend(self.operator.to_le_bytes());
        out.push(self.action.code());
        out.push(0);
        out.extend([
            bcd_byte(d.second()),
            bcd_byte(d.minute()),
            bcd_byte(d.hour()),
            bcd_byte(d.day()),
            bcd_byte(d.month()),
            bcd_byte((d.year().rem_euclid(100)) as u32),
        ]);
        out
    }

    pub fn from_data(data: &[u8]) -> Result<Self, CommandError> {
        let bytes: &[u8; 16] = data.try_into().map_err(|_| CommandError::Length(data.len()))?;
        let [level, p0, p1, p2, c0, c1, c2, c3, n1, _n2, s, mi, h, d, mo, y] = *bytes;
        let digit = |b| from_bcd_byte(b).ok_or(CommandError::Password);
        let password = digit(p0)? + digit(p1)? * 100 + digit(p2)? * 10_000;
        let action = RelayAction::from_code(n1).ok_or(CommandError::Action(n1))?;
        let num = |b| from_bcd_byte(b).ok_or(CommandError::Deadline);
        let date = chrono::NaiveDate::from_ymd_opt(2000 + num(y)? as i32, num(mo)?, num(d)?).ok_or(CommandError::Deadline)?;
        let deadline = date.and_hms_opt(num(h)?, num(mi)?, num(s)?).ok_or(CommandError::Deadline)?;
        Ok(Self { level, password, operator: u32::from_le_bytes([c0, c1, c2, c3]), action, deadline })
    }

    /// The request frame; refuses broadcast and wildcard addresses (§8 item 14).
    pub fn frame(&self, address: Address) -> Result<Frame, CommandError> {
        if address.is_broadcast() || address.has_wildcard() {
            return Err(CommandError::Address);
        }
        Ok(Frame::new(address, Control::request(function::REMOTE_CONTROL), self.to_data()))
    }
}

/// A read request for one identifier.
pub fn read_request(address: Address, di: Di) -> Frame {
    Frame::new(address, Control::request(function::READ), di.to_wire().to_vec())
}

/// A normal read reply carrying one identifier (or block).
pub fn read_reply(address: Address, di: Di, values: &[Value]) -> Result<Frame, ItemError> {
    Ok(Frame::new(address, Control::reply(function::READ), items::encode_items(di, values)?))
}

/// An abnormal reply with a one-byte ERR (or two-byte SERR for 0x03).
pub fn abnormal_reply(address: Address, function: u8, code: u16) -> Frame {
    let data = if function == function::SECURITY { code.to_le_bytes().to_vec() } else { vec![code as u8] };
    Frame::new(address, Control::abnormal_reply(function), data)
}

/// Broadcast time sync (0x08): `ss mm hh DD MM YY` to `99..99`; meters do not reply.
pub fn broadcast_time(at: chrono::NaiveDateTime) -> Frame {
    use chrono::{Datelike, Timelike};
    let data = vec![
        bcd_byte(at.second()),
        bcd_byte(at.minute()),
        bcd_byte(at.hour()),
        bcd_byte(at.day()),
        bcd_byte(at.month()),
        bcd_byte(at.year().rem_euclid(100) as u32),
    ];
    Frame::new(Address::BROADCAST, Control::request(function::BROADCAST_TIME), data)
}

/// The first day time-slot table (`04010001`): the meter's TOU periods.
pub const DAY_TABLE_1: Di = Di::new(0x04, 0x01, 0x00, 0x01);

/// The value of a day time-slot table: per slot `hhmmNN` (start time, tariff number 1 sharp,
/// 2 peak, 3 flat, 4 valley, …), each sent low byte first (`NN mm hh`); at most 14 slots.
pub fn day_table(slots: &[(u32, u32, u8)]) -> Vec<u8> {
    slots.iter().take(14).flat_map(|(h, m, n)| [bcd_byte(u32::from(*n)), bcd_byte(*m), bcd_byte(*h)]).collect()
}

/// The time a broadcast time sync carries (None: not one, or not a valid time).
pub fn broadcast_time_of(frame: &Frame) -> Option<chrono::NaiveDateTime> {
    if frame.control.function != function::BROADCAST_TIME {
        return None;
    }
    let bytes: [u8; 6] = frame.data.as_slice().try_into().ok()?;
    let [s, mi, h, d, mo, y] = bytes.map(from_bcd_byte);
    chrono::NaiveDate::from_ymd_opt(2000 + y? as i32, mo?, d?)?.and_hms_opt(h?, mi?, s?)
}

// ---- the JSON report of `voltledger frame decode` -------------------------------------------

#[derive(Debug, Serialize)]
pub struct FrameReport {
    pub address: String,
    pub control: ControlReport,
    pub items: Vec<ItemReport>,
    pub error: Option<ErrorReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandReport>,
}

#[derive(Debug, Serialize)]
pub struct ControlReport {
    pub function: String,
    pub direction: &'static str,
    pub abnormal: bool,
    pub follow: bool,
}

#[derive(Debug, Serialize)]
pub struct ItemReport {
    pub di: String,
    pub name: String,
    /// A JSON number written from the exact decimal, a string, or `null` (`None`).
    pub value: Option<Box<RawValue>>,
    pub unit: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ErrorReport {
    pub code: String,
    pub bits: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct CommandReport {
    pub action: &'static str,
    pub level: String,
    pub operator: String,
    pub deadline: String,
}

fn raw(json: String) -> Option<Box<RawValue>> {
    RawValue::from_string(json).ok()
}

fn null() -> Option<Box<RawValue>> {
    None
}

fn quoted(text: &str) -> Option<Box<RawValue>> {
    raw(serde_json::to_string(text).unwrap_or_default())
}

fn item_reports(item: &Item) -> Vec<ItemReport> {
    let unit = items::spec(item.di).map(|s| s.unit).unwrap_or("");
    let one = |value, at| ItemReport { di: item.di.to_string(), name: items::name(item.di), value, unit, at };
    match &item.value {
        Value::Number(n) => vec![one(raw(n.to_string()), None)],
        Value::Demand { value, at } => vec![one(raw(value.to_string()), Some(at.clone()))],
        Value::Text(t) => vec![one(quoted(t), None)],
        Value::Word(w) => vec![one(raw(w.to_string()), None)],
        Value::Missing => vec![one(null(), None)],
        Value::Raw(bytes) => vec![one(quoted(&hex::encode_upper(bytes)), None)],
        Value::Run(values) => values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let part = if i == 0 { "total".to_string() } else { format!("t{i}") };
                ItemReport {
                    di: item.di.to_string(),
                    name: format!("{}_{part}", items::name(item.di)),
                    value: raw(v.to_string()),
                    unit,
                    at: None,
                }
            })
            .collect(),
    }
}

/// Describes one frame; fails only when a read reply's data cannot be decoded.
pub fn report(frame: &Frame) -> Result<FrameReport, ItemError> {
    let c = frame.control;
    let error = ReplyError::of(frame)
        .map(|e| ErrorReport { code: if e.wide { format!("{:04X}", e.code) } else { format!("{:02X}", e.code) }, bits: e.bits() });
    let mut items = Vec::new();
    let mut command = None;
    if error.is_none() {
        match (c.function, c.direction) {
            (function::READ | function::READ_FOLLOW, Direction::Reply) => {
                let data = if c.function == function::READ_FOLLOW && !frame.data.is_empty() {
                    frame.data.get(..frame.data.len() - 1).unwrap_or_default()
                } else {
                    &frame.data
                };
                for item in items::decode_items(data)? {
                    items.extend(item_reports(&item));
                }
            }
            (function::READ | function::READ_FOLLOW | function::WRITE, Direction::Request) => {
                if let Some(head) = frame.data.get(..4) {
                    let mut wire = [0u8; 4];
                    wire.copy_from_slice(head);
                    let di = Di::from_wire(wire);
                    let unit = items::spec(di).map(|s| s.unit).unwrap_or("");
                    items.push(ItemReport { di: di.to_string(), name: items::name(di), value: null(), unit, at: None });
                }
            }
            (function::REMOTE_CONTROL, Direction::Request) => {
                if let Ok(rc) = RemoteControl::from_data(&frame.data) {
                    command = Some(CommandReport {
                        action: rc.action.name(),
                        level: format!("{:02X}", rc.level),
                        operator: format!("{:08X}", rc.operator),
                        deadline: rc.deadline.format("%Y-%m-%d %H:%M:%S").to_string(),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(FrameReport {
        address: frame.address.to_string(),
        control: ControlReport {
            function: format!("{:02X}", c.function),
            direction: match c.direction {
                Direction::Request => "request",
                Direction::Reply => "reply",
            },
            abnormal: c.abnormal,
            follow: c.follow,
        },
        items,
        error,
        command,
    })
}

#[cfg(test)]
mod tests;
