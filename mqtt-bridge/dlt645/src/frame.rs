//! Link layer of DL/T 645-2007: framing, address, control code, checksum and the +33H offset.
//!
//! Owns bytes <-> [`Frame`]; knows nothing about what the data field means (see `items`).
//!
//! ```text
//!  FE.. | 68 | A0 A1 A2 A3 A4 A5 | 68 | C | L | D0 .. D(L-1) (+33H each) | CS | 16
//!       |<------------------- checksum: sum mod 256 ------------------>|
//! ```
//! Address and every multi-byte value travel least-significant byte first.

use std::fmt;

/// Start and end delimiters, wake-up preamble and the data offset (reference/dlt645.md §1).
pub const START: u8 = 0x68;
pub const END: u8 = 0x16;
pub const PREAMBLE: u8 = 0xFE;
pub const OFFSET: u8 = 0x33;
/// Bytes of a frame around its data field.
pub const OVERHEAD: usize = 12;
/// The encoder refuses to build request frames with more data than this (§1.1 length limits).
pub const MAX_REQUEST_DATA: usize = 200;

/// A meter address: 12 BCD digits, kept in reading order (`bytes[0]` holds the two
/// most significant digits). `AA` bytes are wildcards; all-`99` is broadcast.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address([u8; 6]);

impl Address {
    pub const BROADCAST: Address = Address([0x99; 6]);
    pub const ANY: Address = Address([0xAA; 6]);

    /// Parses 12 characters: decimal digits, or `A` for a wildcard digit (only in whole bytes).
    pub fn parse(text: &str) -> Result<Self, AddressError> {
        let text = text.trim();
        if text.len() != 12 || !text.is_ascii() {
            return Err(AddressError::Length(text.chars().count()));
        }
        let mut out = [0u8; 6];
        for (slot, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
            let hi = digit(pair.first().copied())?;
            let lo = digit(pair.get(1).copied())?;
            if (hi == 0xA) != (lo == 0xA) {
                return Err(AddressError::Digit(text.to_string()));
            }
            *slot = (hi << 4) | lo;
        }
        Ok(Self(out))
    }

    /// Builds an address from its six wire bytes (low byte first).
    pub fn from_wire(wire: [u8; 6]) -> Self {
        let mut bytes = wire;
        bytes.reverse();
        Self(bytes)
    }

    pub fn to_wire(self) -> [u8; 6] {
        let mut wire = self.0;
        wire.reverse();
        wire
    }

    /// Numeric form for compact storage and hashing (12 decimal digits); `None` for wildcards.
    pub fn as_u64(self) -> Option<u64> {
        let mut n = 0u64;
        for b in self.0 {
            let (hi, lo) = (b >> 4, b & 0x0F);
            if hi > 9 || lo > 9 {
                return None;
            }
            n = n * 100 + u64::from(hi) * 10 + u64::from(lo);
        }
        Some(n)
    }

    pub fn from_u64(n: u64) -> Option<Self> {
        if n > 999_999_999_999 {
            return None;
        }
        let mut out = [0u8; 6];
        let mut rest = n;
        for slot in out.iter_mut().rev() {
            let pair = (rest % 100) as u8;
            rest /= 100;
            *slot = ((pair / 10) << 4) | (pair % 10);
        }
        Some(Self(out))
    }

    pub fn is_broadcast(self) -> bool {
        self == Self::BROADCAST
    }

    /// True when any byte is the `AA` wildcard (point-to-point or reduced-digit addressing).
    pub fn has_wildcard(self) -> bool {
        self.0.contains(&0xAA)
    }
}

fn digit(c: Option<u8>) -> Result<u8, AddressError> {
    match c {
        Some(c @ b'0'..=b'9') => Ok(c - b'0'),
        Some(b'A' | b'a') => Ok(0xA),
        _ => Err(AddressError::Digit(c.map(char::from).unwrap_or(' ').to_string())),
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("a meter address has 12 digits, got {0}")]
    Length(usize),
    #[error("a meter address holds decimal digits (or AA wildcard bytes), got {0:?}")]
    Digit(String),
}

/// Who sent the frame (control bit D7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Request,
    Reply,
}

/// Function codes of DL/T 645-2007 (§2.1), plus 0x03 of the cost-control extension.
pub mod function {
    pub const SECURITY: u8 = 0x03;
    pub const BROADCAST_TIME: u8 = 0x08;
    pub const READ: u8 = 0x11;
    pub const READ_FOLLOW: u8 = 0x12;
    pub const READ_ADDRESS: u8 = 0x13;
    pub const WRITE: u8 = 0x14;
    pub const WRITE_ADDRESS: u8 = 0x15;
    pub const FREEZE: u8 = 0x16;
    pub const BAUD_RATE: u8 = 0x17;
    pub const PASSWORD: u8 = 0x18;
    pub const DEMAND_RESET: u8 = 0x19;
    pub const METER_RESET: u8 = 0x1A;
    pub const EVENT_RESET: u8 = 0x1B;
    pub const REMOTE_CONTROL: u8 = 0x1C;
    pub const PORT_OUTPUT: u8 = 0x1D;
}

/// The control byte C: D7 direction, D6 abnormal, D5 follow-up, D4..D0 function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Control {
    pub function: u8,
    pub direction: Direction,
    pub abnormal: bool,
    pub follow: bool,
}

impl Control {
    pub fn request(function: u8) -> Self {
        Self { function: function & 0x1F, direction: Direction::Request, abnormal: false, follow: false }
    }

    pub fn reply(function: u8) -> Self {
        Self { function: function & 0x1F, direction: Direction::Reply, abnormal: false, follow: false }
    }

    pub fn abnormal_reply(function: u8) -> Self {
        Self { abnormal: true, ..Self::reply(function) }
    }

    pub fn from_byte(c: u8) -> Self {
        Self {
            function: c & 0x1F,
            direction: if c & 0x80 != 0 { Direction::Reply } else { Direction::Request },
            abnormal: c & 0x40 != 0,
            follow: c & 0x20 != 0,
        }
    }

    pub fn to_byte(self) -> u8 {
        let mut c = self.function & 0x1F;
        if self.direction == Direction::Reply {
            c |= 0x80;
        }
        if self.abnormal {
            c |= 0x40;
        }
        if self.follow {
            c |= 0x20;
        }
        c
    }
}

/// One DL/T 645 frame with its data field already de-offset (−33H).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub address: Address,
    pub control: Control,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("no frame start (68H) in the input")]
    NoStart,
    #[error("frame incomplete: {needed} more byte(s) needed")]
    Incomplete { needed: usize },
    #[error("second start byte (68H) missing at offset 7, found {found:02X}H")]
    SecondStart { found: u8 },
    #[error("checksum mismatch: frame says {stated:02X}H, bytes sum to {computed:02X}H")]
    Checksum { stated: u8, computed: u8 },
    #[error("end byte (16H) missing, found {found:02X}H")]
    End { found: u8 },
    #[error("data field of {len} bytes exceeds the request limit of {MAX_REQUEST_DATA}")]
    TooLong { len: usize },
}

impl Frame {
    pub fn new(address: Address, control: Control, data: Vec<u8>) -> Self {
        Self { address, control, data }
    }

    /// Parses one frame that starts exactly at `bytes[0]` (after any preamble).
    /// Returns the frame and the number of bytes it used.
    pub fn parse(bytes: &[u8]) -> Result<(Frame, usize), FrameError> {
        let header = bytes.get(..10).ok_or_else(|| FrameError::Incomplete { needed: 10usize.saturating_sub(bytes.len()) })?;
        let (first, rest) = header.split_first().ok_or(FrameError::NoStart)?;
        if *first != START {
            return Err(FrameError::NoStart);
        }
        let mut wire = [0u8; 6];
        wire.copy_from_slice(rest.get(..6).ok_or(FrameError::Incomplete { needed: 10 })?);
        let second = rest.get(6).copied().unwrap_or_default();
        if second != START {
            return Err(FrameError::SecondStart { found: second });
        }
        let control = rest.get(7).copied().unwrap_or_default();
        let len = usize::from(rest.get(8).copied().unwrap_or_default());
        let total = OVERHEAD + len;
        let frame = bytes.get(..total).ok_or_else(|| FrameError::Incomplete { needed: total.saturating_sub(bytes.len()) })?;
        let (body, tail) = frame.split_at(10 + len);
        let (stated, end) = match tail {
            [cs, end] => (*cs, *end),
            _ => return Err(FrameError::Incomplete { needed: 2 }),
        };
        let computed = checksum(body);
        if computed != stated {
            return Err(FrameError::Checksum { stated, computed });
        }
        if end != END {
            return Err(FrameError::End { found: end });
        }
        let data = body.iter().skip(10).map(|b| b.wrapping_sub(OFFSET)).collect();
        Ok((Frame { address: Address::from_wire(wire), control: Control::from_byte(control), data }, total))
    }

    /// Appends the frame's wire bytes (no preamble) to `out`.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), FrameError> {
        let len = self.data.len();
        if len > usize::from(u8::MAX) || (self.control.direction == Direction::Request && len > MAX_REQUEST_DATA) {
            return Err(FrameError::TooLong { len });
        }
        let start = out.len();
        out.push(START);
        out.extend_from_slice(&self.address.to_wire());
        out.push(START);
        out.push(self.control.to_byte());
        out.push(len as u8);
        out.extend(self.data.iter().map(|b| b.wrapping_add(OFFSET)));
        let cs = checksum(out.get(start..).unwrap_or_default());
        out.push(cs);
        out.push(END);
        Ok(())
    }

    /// The frame's wire bytes, with `preamble` leading `FE` bytes.
    pub fn encode(&self, preamble: usize) -> Result<Vec<u8>, FrameError> {
        let mut out = Vec::with_capacity(preamble + OVERHEAD + self.data.len());
        out.extend(std::iter::repeat_n(PREAMBLE, preamble));
        self.write(&mut out)?;
        Ok(out)
    }
}

/// 8-bit sum of the bytes.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |acc, b| acc.wrapping_add(*b))
}

/// What a scan of a byte stream found: whole frames, frames rejected on the way (with the
/// offset where each candidate started), and the unused tail that may still complete.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Scan {
    pub frames: Vec<Frame>,
    pub rejected: Vec<(usize, FrameError)>,
    /// Offset of the first byte not consumed (an incomplete frame starts here).
    pub consumed: usize,
}

/// Scans a payload that may hold `FE` preambles, noise and several frames back to back.
/// A bad candidate resynchronises from the next 68H (§8 item 3); frames are delimited by
/// their length byte, never by searching for 16H.
pub fn scan(bytes: &[u8]) -> Scan {
    let mut out = Scan::default();
    let mut pos = 0;
    while let Some(rel) = bytes.get(pos..).and_then(|rest| rest.iter().position(|b| *b == START)) {
        let at = pos + rel;
        let candidate = bytes.get(at..).unwrap_or_default();
        match Frame::parse(candidate) {
            Ok((frame, used)) => {
                out.frames.push(frame);
                pos = at + used;
                out.consumed = pos;
            }
            Err(FrameError::Incomplete { needed }) => {
                // Could still complete in a later publish, unless another frame follows.
                if later_frame_exists(bytes, at + 1) {
                    out.rejected.push((at, FrameError::Incomplete { needed }));
                    pos = at + 1;
                    continue;
                }
                out.consumed = at;
                return out;
            }
            Err(err) => {
                out.rejected.push((at, err));
                pos = at + 1;
            }
        }
    }
    out.consumed = bytes.len();
    out
}

fn later_frame_exists(bytes: &[u8], from: usize) -> bool {
    let mut pos = from;
    while let Some(rel) = bytes.get(pos..).and_then(|rest| rest.iter().position(|b| *b == START)) {
        let at = pos + rel;
        if Frame::parse(bytes.get(at..).unwrap_or_default()).is_ok() {
            return true;
        }
        pos = at + 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap_or_default()
    }

    #[test]
    fn reference_read_request_decodes() {
        // reference/dlt645.md §1.4: read forward active total from 000102030425.
        let bytes = hex("68 25 04 03 02 01 00 68 11 04 33 33 34 33 E1 16");
        let (frame, used) = Frame::parse(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(used, 16);
        assert_eq!(frame.address.to_string(), "000102030425");
        assert_eq!(frame.control, Control::request(function::READ));
        assert_eq!(frame.data, vec![0x00, 0x00, 0x01, 0x00]);
        assert_eq!(frame.encode(0).unwrap_or_default(), bytes);
    }

    #[test]
    fn checksum_error_resyncs_to_the_next_frame() {
        let good = hex("68 25 04 03 02 01 00 68 11 04 33 33 34 33 E1 16");
        let mut bad = good.clone();
        if let Some(cs) = bad.get_mut(14) {
            *cs = 0xE2;
        }
        let mut payload = vec![0xFE, 0xFE];
        payload.extend(&bad);
        payload.extend([0xFE; 4]);
        payload.extend(&good);
        let scan = scan(&payload);
        assert_eq!(scan.frames.len(), 1);
        assert!(matches!(scan.rejected.first(), Some((2, FrameError::Checksum { stated: 0xE2, computed: 0xE1 }))));
        assert_eq!(scan.consumed, payload.len());
    }

    #[test]
    fn incomplete_tail_is_left_for_reassembly() {
        let good = hex("68 25 04 03 02 01 00 68 11 04 33 33 34 33 E1 16");
        let mut payload = good.clone();
        payload.extend(good.iter().take(9));
        let scan = scan(&payload);
        assert_eq!(scan.frames.len(), 1);
        assert_eq!(scan.consumed, 16);
        assert!(scan.rejected.is_empty());
    }

    #[test]
    fn control_byte_round_trips_every_value() {
        for c in 0..=u8::MAX {
            assert_eq!(Control::from_byte(c).to_byte(), c);
        }
    }

    #[test]
    fn address_parse_and_wire_order() {
        let a = Address::parse("000102030425").unwrap_or(Address::ANY);
        assert_eq!(a.to_wire(), [0x25, 0x04, 0x03, 0x02, 0x01, 0x00]);
        assert_eq!(a.as_u64(), Some(102_030_425));
        assert_eq!(Address::from_u64(102_030_425), Some(a));
        assert!(Address::parse("00010203042").is_err());
        assert!(Address::parse("00010203042x").is_err());
        assert!(Address::parse("AAAAAAAAAAAA").is_ok_and(|a| a.has_wildcard()));
    }
}
