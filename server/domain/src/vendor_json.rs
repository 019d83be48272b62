//! Vendor JSON devices (issue 20, F43): 4G meters that publish JSON instead of DL/T 645
//! frames, mapped to readings through their profile.
//!
//! A map names, per JSON field (a dotted path into the message, `data.EPI`), the DL/T 645
//! item it stands for — one vocabulary for readings, plans and alarms — and how many places
//! the number is shifted (a device sending `12345` for 123.45 kWh: `"shift": 2`); the field
//! holding the device's own timestamp and its form; the field naming the meter when one
//! device speaks for several; and the payloads the device takes to trip, close and report.
//!
//! Numbers are read from their literal text, never through a float, and a value with more
//! places than its item carries is refused, never rounded.
//!
//! Must not: know MQTT, topics or the database.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};
use dlt645::Di;
use dlt645::items::{Format as ItemFormat, spec};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::Invalid;

/// How a message states when it was measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonTime {
    pub field: String,
    /// `UNIX` (seconds), `UNIX_MS`, `RFC3339`, or a `chrono` pattern of the meter's local
    /// clock (`%Y-%m-%d %H:%M:%S`).
    pub format: String,
}

/// One field of the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonField {
    pub field: String,
    /// The DL/T 645 item the value stands for (hex).
    pub di: String,
    /// The number is the value times 10^shift (an integer-only device).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shift: u8,
    /// The relay (status word 3): the field's value (as text) meaning "open".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<String>,
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

/// A vendor's JSON map.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonMap {
    /// The field naming the meter's address (a device for several meters); none: the
    /// device's own meter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<JsonTime>,
    pub values: Vec<JsonField>,
    /// What the device is sent to trip, close or report now (its own command messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<String>,
}

impl JsonMap {
    /// The items the map reads, in its order.
    pub fn items(&self) -> Vec<Di> {
        self.values.iter().filter_map(|v| Di::parse(&v.di)).collect()
    }
}

/// Parses and checks a map written as JSON; every error names the entry.
pub fn parse(text: &str) -> Result<JsonMap, Invalid> {
    let bad = |m: String| Invalid::new("jsonMap", m);
    let map: JsonMap = serde_json::from_str(text).map_err(|e| bad(format!("not a JSON map: {e}")))?;
    if map.values.is_empty() || map.values.len() > 40 {
        return Err(bad("1 to 40 values".into()));
    }
    let mut seen = Vec::new();
    for (i, v) in map.values.iter().enumerate() {
        let at = |m: &str| bad(format!("values[{i}] ({}): {m}", v.field));
        if v.field.trim().is_empty() || v.field.split('.').any(str::is_empty) {
            return Err(at("a field path like `EPI` or `data.EPI`"));
        }
        let di = Di::parse(&v.di).ok_or_else(|| at("di is not a data identifier (8 hex digits)"))?;
        if seen.contains(&di) {
            return Err(at("names an item twice"));
        }
        seen.push(di);
        let item = spec(di).ok_or_else(|| at("an identifier the codec does not decode"))?;
        match (item.format, &v.open) {
            (ItemFormat::Word, Some(_)) if di == dlt645::di::STATUS_WORD_3 => {}
            (_, Some(_)) => return Err(at("`open` is for the relay (04000503)")),
            (ItemFormat::Bcd { .. }, None) => {}
            _ => return Err(at("only numeric items and the relay (with `open`) come from JSON")),
        }
        if v.shift > 6 {
            return Err(at("shift is 0 to 6"));
        }
    }
    if let Some(t) = &map.time {
        let pattern_ok =
            t.format.contains('%') && !chrono::format::StrftimeItems::new(&t.format).any(|i| matches!(i, chrono::format::Item::Error));
        let fine = matches!(t.format.as_str(), "UNIX" | "UNIX_MS" | "RFC3339") || pattern_ok;
        if !fine || t.field.trim().is_empty() {
            return Err(bad("time: a field and UNIX, UNIX_MS, RFC3339 or a %-pattern".into()));
        }
    }
    for (name, template) in [("trip", &map.trip), ("close", &map.close), ("read", &map.read)] {
        let Some(t) = template else { continue };
        let message: serde_json::Value =
            serde_json::from_str(t).map_err(|_| bad(format!("{name}: the device's command message must be JSON")))?;
        // The platform's own downlink forms are not a vendor's message.
        if !message.is_object() || ["modbus", "frame", "frames"].iter().any(|k| message.get(k).is_some()) {
            return Err(bad(format!("{name}: a JSON object of the vendor's own (not `modbus`, `frame` or `frames`)")));
        }
    }
    Ok(map)
}

/// When a message says it was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// The meter's local clock (a pattern without a zone).
    Local(NaiveDateTime),
    Instant(DateTime<Utc>),
}

/// What one message holds through the map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonReading {
    pub meter: Option<String>,
    pub at: Option<Stamp>,
    /// Numbers (exact) and relay words, by item.
    pub numbers: Vec<(Di, Decimal)>,
    pub words: Vec<(Di, u16)>,
    /// Fields present but refused, with why.
    pub refused: Vec<(String, String)>,
}

/// The value at a dotted path, as its literal JSON text.
fn lookup<'a>(root: &'a RawValue, path: &str) -> Option<&'a RawValue> {
    let mut at = root;
    for key in path.split('.') {
        let object: HashMap<String, &RawValue> = serde_json::from_str(at.get()).ok()?;
        at = object.get(key).copied()?;
    }
    Some(at)
}

/// A field's text: a string's contents, or a number's literal.
fn text(raw: &RawValue) -> Option<String> {
    let t = raw.get().trim();
    if t.starts_with('"') {
        return serde_json::from_str::<String>(t).ok();
    }
    (t != "null" && !t.starts_with(['{', '['])).then(|| t.to_string())
}

/// Decodes one message; fields the map names but the message lacks are simply absent.
pub fn decode(map: &JsonMap, payload: &[u8]) -> Result<JsonReading, String> {
    let text_payload = std::str::from_utf8(payload).map_err(|_| "the message is not UTF-8".to_string())?;
    let root: &RawValue = serde_json::from_str(text_payload).map_err(|e| format!("the message is not JSON: {e}"))?;
    if !root.get().trim_start().starts_with('{') {
        return Err("the message is not a JSON object".into());
    }
    let mut out = JsonReading::default();
    if let Some(path) = &map.meter {
        out.meter = Some(lookup(root, path).and_then(text).ok_or_else(|| format!("no meter address at `{path}`"))?);
    }
    if let Some(t) = &map.time
        && let Some(raw) = lookup(root, &t.field).and_then(text)
    {
        let bad = || format!("`{}` = {raw:?} is not a {} time", t.field, t.format);
        out.at = Some(match t.format.as_str() {
            "UNIX" => Stamp::Instant(raw.parse::<i64>().ok().and_then(|s| DateTime::from_timestamp(s, 0)).ok_or_else(bad)?),
            "UNIX_MS" => Stamp::Instant(raw.parse::<i64>().ok().and_then(DateTime::from_timestamp_millis).ok_or_else(bad)?),
            "RFC3339" => Stamp::Instant(DateTime::parse_from_rfc3339(&raw).map_err(|_| bad())?.with_timezone(&Utc)),
            pattern => Stamp::Local(NaiveDateTime::parse_from_str(&raw, pattern).map_err(|_| bad())?),
        });
    }
    for v in &map.values {
        let Some(di) = Di::parse(&v.di) else { continue };
        let Some(raw) = lookup(root, &v.field) else { continue };
        let Some(value) = text(raw) else {
            out.refused.push((v.field.clone(), "not a number or text".into()));
            continue;
        };
        if let Some(open) = &v.open {
            out.words.push((di, if value == *open { 1 << 4 } else { 0 }));
            continue;
        }
        // Plain decimal literals only — `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, short enough to be
        // kept exactly: no exponent, no `_`, no leading zeros, no bare point.
        let literal = value.strip_prefix('-').unwrap_or(&value);
        let (int, frac) = literal.split_once('.').map_or((literal, None), |(i, f)| (i, Some(f)));
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        let plain = digits(int)
            && (int == "0" || !int.starts_with('0'))
            && frac.is_none_or(digits)
            && literal.len() <= 24
            && !(value.starts_with('-') && spec(di).is_some_and(|s| matches!(s.format, ItemFormat::Bcd { signed: false, .. })));
        let number = match Decimal::from_str(&value) {
            Ok(n) if plain => n * Decimal::new(1, u32::from(v.shift)),
            _ => {
                out.refused.push((v.field.clone(), format!("{value:?} is not a decimal number")));
                continue;
            }
        };
        let Some(spec) = spec(di) else { continue };
        let ItemFormat::Bcd { decimals, .. } = spec.format else { continue };
        let places = u32::from(decimals);
        if number.normalize().scale() > places {
            out.refused.push((v.field.clone(), format!("{number} has more places than the item carries ({places})")));
            continue;
        }
        // The item's range and sign, as a meter would carry it (never wrapped).
        if let Err(e) = dlt645::items::encode_value(di, spec.format, &dlt645::Value::Number(number)) {
            out.refused.push((v.field.clone(), e.to_string()));
            continue;
        }
        out.numbers.push((di, number.normalize()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const MAP: &str = r#"{"time": {"field": "time", "format": "%Y-%m-%d %H:%M:%S"},
      "values": [
        {"field": "EPI", "di": "00010000"},
        {"field": "data.Ua", "di": "02010100"},
        {"field": "P", "di": "02030000", "shift": 3},
        {"field": "switch", "di": "04000503", "open": "0"}],
      "trip": "{\"cmd\": \"switch\", \"value\": 0}",
      "close": "{\"cmd\": \"switch\", \"value\": 1}"}"#;

    #[test]
    fn a_message_is_read_exactly_from_its_literals_with_the_devices_time() {
        let map = parse(MAP).unwrap();
        let msg = br#"{"time": "2026-12-06 08:30:00", "EPI": 12345.67, "data": {"Ua": "220.1"}, "P": -1234, "switch": 0}"#;
        let r = decode(&map, msg).unwrap();
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap().and_hms_opt(8, 30, 0).unwrap();
        assert_eq!(r.at, Some(Stamp::Local(at)));
        assert_eq!(
            r.numbers,
            vec![
                (dlt645::di::FORWARD_ACTIVE_TOTAL, Decimal::new(1_234_567, 2)),
                (dlt645::di::VOLTAGE_A, Decimal::new(2201, 1)),
                (dlt645::di::ACTIVE_POWER_TOTAL, Decimal::new(-1234, 3)),
            ]
        );
        assert_eq!(r.words, vec![(dlt645::di::STATUS_WORD_3, 1 << 4)]);
        // A float would turn 0.1 + 0.2 into 0.30000000000000004: literals are kept.
        let exact = decode(&map, br#"{"EPI": 999999.99}"#).unwrap();
        assert_eq!(exact.numbers, vec![(dlt645::di::FORWARD_ACTIVE_TOTAL, Decimal::new(99_999_999, 2))]);
        // Beyond the item's range, a negative energy, an exponent, 29 digits: refused.
        for bad in [
            r#"{"EPI": 1000000.00}"#,
            r#"{"EPI": -5}"#,
            r#"{"EPI": 1e3}"#,
            r#"{"EPI": "0.01000000000000000000000000001"}"#,
            r#"{"EPI": "0007.05"}"#,
            r#"{"EPI": "7."}"#,
            r#"{"EPI": ".5"}"#,
            r#"{"EPI": "-0"}"#,
        ] {
            let r = decode(&map, bad.as_bytes()).unwrap();
            assert!(r.numbers.is_empty() && r.refused.len() == 1, "{bad}: {r:?}");
        }
    }

    #[test]
    fn too_many_places_bad_numbers_and_bad_messages_are_refused_never_rounded() {
        let map = parse(MAP).unwrap();
        let r = decode(&map, br#"{"EPI": 1.005, "data": {"Ua": "x"}, "switch": null}"#).unwrap();
        assert!(r.numbers.is_empty() && r.words.is_empty());
        assert_eq!(r.refused.len(), 3, "{:?}", r.refused);
        assert!(decode(&map, b"[1, 2]").is_err());
        assert!(decode(&map, b"not json").is_err());
        assert!(decode(&map, br#"{"time": "yesterday", "EPI": 1}"#).unwrap_err().contains("time"));
        let unix = parse(r#"{"time": {"field": "ts", "format": "UNIX_MS"}, "values": [{"field": "e", "di": "00010000"}]}"#).unwrap();
        let r = decode(&unix, br#"{"ts": 1796517000000, "e": 1}"#).unwrap();
        assert_eq!(r.at, Some(Stamp::Instant(DateTime::from_timestamp(1_796_517_000, 0).unwrap())));
    }

    #[test]
    fn a_map_names_what_is_wrong_with_it() {
        let one = |v: &str| parse(&format!(r#"{{"values": [{v}]}}"#)).unwrap_err().message;
        assert!(one(r#"{"field": "", "di": "00010000"}"#).contains("values[0]"));
        assert!(one(r#"{"field": "a..b", "di": "00010000"}"#).contains("path"));
        assert!(one(r#"{"field": "e", "di": "0001000"}"#).contains("di"));
        assert!(one(r#"{"field": "e", "di": "02010100", "open": "1"}"#).contains("relay"));
        assert!(one(r#"{"field": "e", "di": "00010000", "shift": 9}"#).contains("shift"));
        assert!(one(r#"{"field": "e", "di": "00010000", "scale": 2}"#).contains("not a JSON map"));
        assert!(parse(r#"{"values": []}"#).is_err());
        let bad_trip = r#"{"values": [{"field": "e", "di": "00010000"}], "trip": "switch off"}"#;
        assert!(parse(bad_trip).unwrap_err().message.contains("trip"));
        // A platform downlink form smuggled in as a vendor message.
        let smuggled = r#"{"values": [{"field": "e", "di": "00010000"}], "read": "{\"modbus\": {\"unit\": 9}}"}"#;
        assert!(parse(smuggled).unwrap_err().message.contains("read"));
        let bad_time = r#"{"time": {"field": "t", "format": "DATE"}, "values": [{"field": "e", "di": "00010000"}]}"#;
        assert!(parse(bad_time).unwrap_err().message.contains("time"));
        let bad_pattern = r#"{"time": {"field": "t", "format": "%Q"}, "values": [{"field": "e", "di": "00010000"}]}"#;
        assert!(parse(bad_pattern).unwrap_err().message.contains("time"));
    }
}
