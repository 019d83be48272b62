//! Device profiles (issue 20): what a meter model answers and how it is commanded, as data.
//!
//! A profile lists the DL/T 645 data identifiers a read asks for, in order (the clock first,
//! so the values carry the meter's time), and the command scheme its relay takes: the
//! project's sealed `VL3DES-1` or the standard's plain 0x1C with a password level, password
//! and operator code. Two profiles ship with the platform ([`builtins`]); a tenant adds its own
//! models. A meter that answers "no requested data" (ERR bit 1) for an identifier is
//! remembered as lacking it, and its reads ask for the identifier's parts instead
//! ([`fallback`], [`plan`]).
//!
//! Must not: know how frames are sent or stored.

use std::collections::HashSet;

use dlt645::{Di, di};

use super::Invalid;
use super::register_map::RegisterMap;
use super::vendor_json::JsonMap;

/// How a model's relay is commanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandScheme {
    /// The project's sealed profile (docs/CONTROL.md): 3DES under the meter's diversified key.
    Sealed,
    /// DL/T 645-2007 0x1C in the clear: `PA P0 P1 P2 | C0..C3 | N1 N2 | deadline`, the password
    /// (six digits, kept wrapped) at level `level`, with the operator code.
    Plain { level: u8, operator: u32 },
    /// A Modbus-RTU meter: reads and relay writes from the profile's register map.
    Modbus,
    /// A vendor's JSON device (F43): readings from its messages through the profile's JSON
    /// map; commands are the device's own messages, where the map has them.
    VendorJson,
}

impl CommandScheme {
    pub fn code(&self) -> &'static str {
        match self {
            CommandScheme::Sealed => "VL3DES-1",
            CommandScheme::Plain { .. } => "DLT645-PLAIN",
            CommandScheme::Modbus => "MODBUS",
            CommandScheme::VendorJson => "VENDOR-JSON",
        }
    }
}

/// A meter model's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceProfile {
    pub id: String,
    pub name: String,
    /// What a read asks for, in order.
    pub reads: Vec<Di>,
    pub scheme: CommandScheme,
    /// A Modbus-RTU model's register map (scheme `MODBUS`; `reads` are its items).
    pub map: Option<RegisterMap>,
    /// A vendor JSON device's map (scheme `VENDOR-JSON`; `reads` are its items).
    pub json: Option<JsonMap>,
    /// Shipped with the platform (not editable).
    pub builtin: bool,
}

/// The profile of meters registered without one: VoltLedger's own meters (and the simulator).
pub const DEFAULT_PROFILE: &str = "builtin-vl3des-1";
/// A standard DL/T 645-2007 meter with plain 0x1C commands.
pub const STANDARD_PROFILE: &str = "builtin-dlt645-2007";
/// Acrel DDSY1352 on Modbus-RTU (reads from its published address table; no relay writes).
pub const ACREL_DDSY1352_PROFILE: &str = "builtin-acrel-ddsy1352";

/// What a full read asks for: the clock, energy with its TOU split, the instantaneous values,
/// the status words and the money register.
fn full_read(blocks: bool) -> Vec<Di> {
    let mut out = vec![di::DATE, di::TIME];
    if blocks {
        out.extend([di::FORWARD_ACTIVE_BLOCK, di::VOLTAGE_BLOCK, di::CURRENT_BLOCK]);
    } else {
        out.extend(fallback(di::FORWARD_ACTIVE_BLOCK));
        out.extend(fallback(di::VOLTAGE_BLOCK));
        out.extend(fallback(di::CURRENT_BLOCK));
    }
    out.extend([
        di::ACTIVE_POWER_TOTAL,
        di::POWER_FACTOR_TOTAL,
        di::FREQUENCY,
        di::STATUS_WORD_3,
        di::STATUS_WORD_PHASE_A,
        di::STATUS_WORD_PHASE_B,
        di::STATUS_WORD_PHASE_C,
    ]);
    out
}

/// The profiles shipped with the platform.
pub fn builtins() -> Vec<DeviceProfile> {
    let mut own = full_read(true);
    own.push(di::REMAINING_AMOUNT);
    vec![
        DeviceProfile {
            id: DEFAULT_PROFILE.into(),
            name: "VoltLedger meter (VL3DES-1)".into(),
            reads: own,
            scheme: CommandScheme::Sealed,
            map: None,
            json: None,
            builtin: true,
        },
        DeviceProfile {
            id: STANDARD_PROFILE.into(),
            name: "DL/T 645-2007 standard meter (plain 0x1C)".into(),
            reads: full_read(true),
            scheme: CommandScheme::Plain { level: 2, operator: 0 },
            map: None,
            json: None,
            builtin: true,
        },
        modbus(ACREL_DDSY1352_PROFILE, "Acrel DDSY1352 (Modbus-RTU)", crate::register_map::acrel_ddsy1352(), true),
    ]
}

/// A Modbus-RTU model's profile: its reads are its map's items.
pub fn modbus(id: &str, name: &str, map: RegisterMap, builtin: bool) -> DeviceProfile {
    DeviceProfile {
        id: id.into(),
        name: name.into(),
        reads: map.items(),
        scheme: CommandScheme::Modbus,
        map: Some(map),
        json: None,
        builtin,
    }
}

/// The single registers a block stands for, asked instead when a meter lacks the block.
pub fn fallback(block: Di) -> Vec<Di> {
    let [d3, d2, d1, d0] = block.bytes();
    match (d3, d2, d1, d0) {
        // Forward active energy: total and the four tariffs.
        (0x00, x @ 0x00..=0x02, 0xFF, 0x00) => (0..=4).map(|t| Di::new(0x00, x, t, 0x00)).collect(),
        // Phase voltages, currents; power and power factor: total and per phase.
        (0x02, x @ (0x01 | 0x02), 0xFF, 0x00) => (1..=3).map(|p| Di::new(0x02, x, p, 0x00)).collect(),
        (0x02, x @ (0x03 | 0x04 | 0x06), 0xFF, 0x00) => (0..=3).map(|p| Di::new(0x02, x, p, 0x00)).collect(),
        // The status words one by one.
        (0x04, 0x00, 0x05, 0xFF) => (1..=7).map(|w| Di::new(0x04, 0x00, 0x05, w)).collect(),
        _ => Vec::new(),
    }
}

/// A built-in profile's reads fitted to one meter: a single-phase meter is asked for phase A's
/// voltage and current (not the three-phase blocks) and no phase B/C status word; a meter
/// without a wallet (not meter-side prepaid) for no money register. A tenant's own profile
/// is asked as written.
pub fn fit(reads: &[Di], three_phase: bool, wallet: bool) -> Vec<Di> {
    let b_c = [di::STATUS_WORD_PHASE_B, di::STATUS_WORD_PHASE_C];
    reads
        .iter()
        .filter_map(|d| match *d {
            d if !three_phase && d == di::VOLTAGE_BLOCK => Some(di::VOLTAGE_A),
            d if !three_phase && d == di::CURRENT_BLOCK => Some(di::CURRENT_A),
            d if !three_phase && b_c.contains(&d) => None,
            d if !wallet && (d == di::REMAINING_AMOUNT || d == di::OVERDRAFT_AMOUNT) => None,
            d => Some(d),
        })
        .collect()
}

/// What to ask a meter for: the profile's list, an identifier the meter lacks replaced by its
/// parts (those it lacks too left out), each once.
pub fn plan(reads: &[Di], lacks: &HashSet<Di>) -> Vec<Di> {
    let mut out: Vec<Di> = Vec::new();
    for d in reads {
        let parts = if lacks.contains(d) { fallback(*d) } else { vec![*d] };
        for p in parts {
            if !lacks.contains(&p) && !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// Parses a profile's read list: hex identifiers (`0001FF00`), separated by commas, spaces or
/// new lines, each one the codec can decode; at most 40.
pub fn parse_reads(text: &str) -> Result<Vec<Di>, Invalid> {
    let mut out = Vec::new();
    for part in text.split([',', ' ', '\n', '\r', '\t', ';', '，', '、', '；', '\u{3000}']).filter(|p| !p.is_empty()) {
        let v = u32::from_str_radix(part.trim_start_matches("0x"), 16)
            .ok()
            .filter(|_| part.trim_start_matches("0x").len() == 8)
            .ok_or_else(|| Invalid::new("reads", format!("“{part}” is not a data identifier (8 hex digits)")))?;
        let d = Di(v);
        if dlt645::items::spec(d).is_none() && fallback(d).is_empty() {
            return Err(Invalid::new("reads", format!("{part}: an identifier the codec does not decode")));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    if out.is_empty() || out.len() > 40 {
        return Err(Invalid::new("reads", "1 to 40 data identifiers"));
    }
    Ok(out)
}

/// A plain scheme's password: six decimal digits.
pub fn parse_password(text: &str) -> Result<u32, Invalid> {
    let t = text.trim();
    if t.len() != 6 || !t.chars().all(|c| c.is_ascii_digit()) {
        return Err(Invalid::new("password", "six digits"));
    }
    t.parse().map_err(|_| Invalid::new("password", "six digits"))
}

/// A plain scheme's operator code: up to eight hex digits (C0..C3).
pub fn parse_operator(text: &str) -> Result<u32, Invalid> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(0);
    }
    if t.len() > 8 {
        return Err(Invalid::new("operatorCode", "up to 8 hex digits"));
    }
    u32::from_str_radix(t, 16).map_err(|_| Invalid::new("operatorCode", "up to 8 hex digits"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_lacked_block_is_read_as_its_registers_and_a_lacked_register_is_skipped() {
        let std = builtins().into_iter().find(|p| p.id == STANDARD_PROFILE).unwrap();
        assert_eq!(plan(&std.reads, &HashSet::new()), std.reads);
        let lacks: HashSet<Di> = [di::FORWARD_ACTIVE_BLOCK, Di::new(0x00, 0x01, 0x04, 0x00)].into_iter().collect();
        let p = plan(&std.reads, &lacks);
        assert!(!p.contains(&di::FORWARD_ACTIVE_BLOCK));
        assert!(p.contains(&di::FORWARD_ACTIVE_TOTAL) && p.contains(&Di::new(0x00, 0x01, 0x03, 0x00)));
        assert!(!p.contains(&Di::new(0x00, 0x01, 0x04, 0x00)), "a register the meter lacks too is left out");
        assert_eq!(&p[..2], &[di::DATE, di::TIME], "the clock first");
    }

    #[test]
    fn a_built_in_profile_fits_a_single_phase_meter_without_a_wallet() {
        let own = builtins().into_iter().find(|p| p.id == DEFAULT_PROFILE).unwrap();
        let single = fit(&own.reads, false, false);
        assert!(single.contains(&di::VOLTAGE_A) && single.contains(&di::CURRENT_A));
        assert!(!single.contains(&di::VOLTAGE_BLOCK) && !single.contains(&di::STATUS_WORD_PHASE_C));
        assert!(!single.contains(&di::REMAINING_AMOUNT));
        assert_eq!(fit(&own.reads, true, true), own.reads, "a three-phase meter with a wallet is asked for everything");
    }

    #[test]
    fn read_lists_passwords_and_operator_codes_parse_or_say_why() {
        assert_eq!(parse_reads("04000101，04000102、0001FF00").unwrap().len(), 3, "full-width separators");
        assert_eq!(parse_reads("04000101, 04000102\n0001FF00").unwrap(), vec![di::DATE, di::TIME, di::FORWARD_ACTIVE_BLOCK]);
        assert_eq!(parse_reads("0001FF0").unwrap_err().field, "reads");
        assert!(parse_reads("12345678").is_err(), "unknown to the codec");
        assert!(parse_reads("").is_err());
        assert_eq!(parse_password("012345").unwrap(), 12345);
        assert!(parse_password("12345").is_err() && parse_password("12345a").is_err());
        assert_eq!(parse_operator("").unwrap(), 0);
        assert_eq!(parse_operator("0A0B0C0D").unwrap(), 0x0A0B0C0D);
        assert!(parse_operator("xyz").is_err());
    }
}
