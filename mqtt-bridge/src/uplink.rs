//! Uplink payloads: topic scheme, the three accepted payload forms, and turning frames into
//! per-meter [`MeterReading`]s.
//!
//! Topics: a device publishes on `vl/up/{username}` and subscribes to `vl/down/{username}`.
//! Payload forms: raw binary frames (default), the same bytes as hex text, or a JSON envelope
//! `{"meter": "...", "frame": "<hex>", "ts": <unix seconds | RFC 3339>}` (also `"frames": [..]`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::Deserialize;

use crate::dlt645::{self, Address, Di, Direction, Value, di, function};
use crate::port::{MeterReading, ReadTime, Readings, Rejection};

pub const UP_PREFIX: &str = "vl/up/";
pub const DOWN_PREFIX: &str = "vl/down/";
pub const UP_FILTER: &str = "vl/up/+";

pub fn up_topic(device: &str) -> String {
    format!("{UP_PREFIX}{device}")
}

pub fn down_topic(device: &str) -> String {
    format!("{DOWN_PREFIX}{device}")
}

/// The device username an uplink topic belongs to.
pub fn device_of(topic: &str) -> Result<&str, Rejection> {
    topic.strip_prefix(UP_PREFIX).filter(|d| !d.is_empty() && !d.contains('/')).ok_or_else(|| Rejection::Topic(topic.to_string()))
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    frame: Option<String>,
    #[serde(default)]
    frames: Vec<String>,
    #[serde(default)]
    ts: Option<serde_json::Value>,
}

/// The bytes of the frames in a payload and the instant an envelope states, if any.
pub fn unwrap_payload(payload: &[u8]) -> Result<(Vec<u8>, Option<DateTime<Utc>>), Rejection> {
    let first = payload.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first == Some(b'{') {
        let env: Envelope = serde_json::from_slice(payload).map_err(|e| Rejection::Envelope(e.to_string()))?;
        let mut bytes = Vec::new();
        for text in env.frame.iter().chain(env.frames.iter()) {
            bytes.extend(parse_hex(text.as_bytes()).ok_or_else(|| Rejection::Envelope("frame is not hex".into()))?);
        }
        let ts = match env.ts {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::Number(n)) => {
                Some(n.as_i64().and_then(|s| DateTime::from_timestamp(s, 0)).ok_or_else(|| Rejection::Envelope("ts out of range".into()))?)
            }
            Some(serde_json::Value::String(s)) => {
                Some(DateTime::parse_from_rfc3339(&s).map_err(|e| Rejection::Envelope(format!("ts: {e}")))?.with_timezone(&Utc))
            }
            Some(_) => return Err(Rejection::Envelope("ts must be a number or an RFC 3339 string".into())),
        };
        return Ok((bytes, ts));
    }
    if !payload.is_empty() && payload.iter().all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace()) {
        return parse_hex(payload).map(|b| (b, None)).ok_or(Rejection::NoFrame);
    }
    Ok((payload.to_vec(), None))
}

fn parse_hex(text: &[u8]) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    hex::decode(digits).ok()
}

#[derive(Default)]
struct Draft {
    values: Readings,
    date: Option<NaiveDate>,
    time: Option<NaiveTime>,
}

/// Half of a daily freeze record n of a meter: its time or its energy run.
type FreezePart = (Address, u8, Option<NaiveDateTime>, Option<Vec<rust_decimal::Decimal>>);

/// What one uplink publish held.
#[derive(Debug, Default)]
pub struct Decoded {
    /// One reading per meter address with read-reply frames.
    pub readings: Vec<MeterReading>,
    /// Frames that are not read replies (command replies), returned apart.
    pub others: Vec<dlt645::Frame>,
    /// Frames refused inside an otherwise usable payload.
    pub rejected: Vec<Rejection>,
    /// Every read reply in order: the meter, the identifier of a normal reply (none for an
    /// abnormal one) and an abnormal reply's error.
    pub answers: Vec<(Address, Option<Di>, Option<dlt645::ReplyError>)>,
    /// Meters whose valid date and time the publish carried, with that clock.
    pub clocks: Vec<(Address, NaiveDateTime)>,
    /// Daily freeze records whose time and energy the publish both carried.
    pub freezes: Vec<crate::port::MeterFreeze>,
}

/// Decodes one uplink publish into one reading per meter address it carries.
pub fn decode_uplink(device: &str, payload: &[u8], received_at: DateTime<Utc>) -> Result<Decoded, Rejection> {
    let (bytes, stated) = unwrap_payload(payload)?;
    let scan = dlt645::scan(&bytes);
    if scan.frames.is_empty() {
        return Err(Rejection::NoFrame);
    }
    let mut rejected: Vec<Rejection> =
        scan.rejected.iter().map(|(at, e)| Rejection::Item { address: format!("offset {at}"), reason: e.to_string() }).collect();
    if scan.consumed < bytes.len() {
        // A frame cut at the end of the publish; reassembly across publishes is not kept yet.
        rejected.push(Rejection::Item {
            address: format!("offset {}", scan.consumed),
            reason: format!("{} byte(s) at the end do not form a whole frame", bytes.len() - scan.consumed),
        });
    }
    let mut drafts: Vec<(Address, Draft)> = Vec::new();
    let mut others = Vec::new();
    let mut answers = Vec::new();
    let mut freeze_parts: Vec<FreezePart> = Vec::new();
    for frame in scan.frames {
        let c = frame.control;
        if c.direction == Direction::Reply && c.abnormal && c.function == function::READ {
            answers.push((frame.address, None, dlt645::ReplyError::of(&frame)));
            continue;
        }
        if c.direction != Direction::Reply || c.abnormal || c.function != function::READ {
            others.push(frame);
            continue;
        }
        if let Some(wire) = frame.data.get(..4).and_then(|w| <[u8; 4]>::try_from(w).ok()) {
            answers.push((frame.address, Some(Di::from_wire(wire)), None));
        }
        let items = match dlt645::items::decode_items(&frame.data) {
            Ok(items) => items,
            Err(e) => {
                rejected.push(Rejection::Item { address: frame.address.to_string(), reason: e.to_string() });
                continue;
            }
        };
        let slot = match drafts.iter().position(|(a, _)| *a == frame.address) {
            Some(i) => i,
            None => {
                drafts.push((frame.address, Draft::default()));
                drafts.len() - 1
            }
        };
        if let Some((_, draft)) = drafts.get_mut(slot) {
            for item in items {
                // A daily freeze record n: its time (05 06 00 n) and energy run (05 06 01 n).
                match (item.di.bytes(), &item.value) {
                    ([0x05, 0x06, 0x00, n], Value::Text(t)) => {
                        let at = NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M").ok();
                        freeze_parts.push((frame.address, n, at, None));
                    }
                    ([0x05, 0x06, 0x01, n], Value::Run(run)) => freeze_parts.push((frame.address, n, None, Some(run.clone()))),
                    _ => apply(draft, item.di, &item.value),
                }
            }
        }
    }
    let mut freezes = Vec::new();
    for (address, n, at, _) in &freeze_parts {
        let Some(at) = at else { continue };
        let run = freeze_parts.iter().find_map(|(a, m, _, r)| (a == address && m == n).then_some(r.as_ref()).flatten());
        if let Some(run) = run.filter(|r| !r.is_empty()) {
            freezes.push(crate::port::MeterFreeze {
                device: device.to_string(),
                address: *address,
                at: *at,
                registers: run.clone(),
                received_at,
            });
        }
    }
    let clocks = drafts.iter().filter_map(|(a, d)| Some((*a, NaiveDateTime::new(d.date?, d.time?)))).collect();
    let readings = drafts
        .into_iter()
        .filter(|(_, d)| !d.values.is_empty())
        .map(|(address, d)| {
            let read_at = match (d.date, d.time, stated) {
                (Some(date), Some(time), _) => ReadTime::MeterClock(NaiveDateTime::new(date, time)),
                (_, _, Some(ts)) => ReadTime::Instant(ts),
                _ => ReadTime::Instant(received_at),
            };
            MeterReading { device: device.to_string(), address, read_at, received_at, values: d.values }
        })
        .collect();
    Ok(Decoded { readings, others, rejected, answers, clocks, freezes })
}

fn number(v: &Value) -> Option<rust_decimal::Decimal> {
    match v {
        Value::Number(n) | Value::Demand { value: n, .. } => Some(*n),
        _ => None,
    }
}

fn apply(d: &mut Draft, id: Di, v: &Value) {
    if id == di::DATE {
        d.date = text(v).and_then(|t| NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok());
    } else if id == di::TIME {
        d.time = text(v).and_then(|t| NaiveTime::parse_from_str(&t, "%H:%M:%S").ok());
    } else {
        set_item(&mut d.values, id, v);
    }
}

/// Puts one item's value into a snapshot (items it does not keep are ignored).
pub fn set_item(r: &mut Readings, id: Di, v: &Value) {
    let [d3, d2, d1, d0] = id.bytes();
    match (d3, d2, d1, d0) {
        (0x00, 0x01, 0x00, 0x00) => r.energy_total = number(v),
        (0x00, 0x01, t @ 0x01..=0x04, 0x00) => {
            if let Some(slot) = r.energy_tariffs.get_mut(usize::from(t - 1)) {
                *slot = number(v);
            }
        }
        (0x00, 0x02, 0x00, 0x00) => r.reverse_energy_total = number(v),
        (0x02, 0x01, p @ 0x01..=0x03, 0x00) => {
            if let Some(slot) = r.voltage.get_mut(usize::from(p - 1)) {
                *slot = number(v);
            }
        }
        (0x02, 0x02, p @ 0x01..=0x03, 0x00) => {
            if let Some(slot) = r.current.get_mut(usize::from(p - 1)) {
                *slot = number(v);
            }
        }
        (0x02, 0x03, 0x00, 0x00) => r.active_power = number(v),
        (0x02, 0x04, 0x00, 0x00) => r.reactive_power = number(v),
        (0x02, 0x06, 0x00, 0x00) => r.power_factor = number(v),
        (0x02, 0x80, 0x00, 0x02) => r.frequency = number(v),
        (0x01, 0x01, 0x00, 0x00) => r.max_demand = number(v),
        (0x00, 0x90, 0x02, 0x00) => r.remaining_amount = number(v),
        (0x00, 0x90, 0x02, 0x01) => r.overdraft_amount = number(v),
        (0x04, 0x00, 0x05, 0x03) => r.status_word_3 = word(v),
        (0x04, 0x00, 0x05, 0x07) => r.status_word_7 = word(v),
        (0x04, 0x00, 0x05, p @ 0x04..=0x06) => {
            if let Some(slot) = r.phase_faults.get_mut(usize::from(p - 4)) {
                *slot = word(v);
            }
        }
        _ => {}
    }
}

fn word(v: &Value) -> Option<u16> {
    match v {
        Value::Word(w) => Some(*w),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(t) => Some(t.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::simulator::{SimMeter, reading_frames};

    fn sample() -> (Vec<u8>, NaiveDateTime, Readings) {
        let at = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap().and_hms_opt(8, 30, 0).unwrap();
        let mut m = SimMeter::new(Address::from_u64(161).unwrap(), true);
        let r = m.reading_at(at);
        (reading_frames(m.address, at, &r, true), at, r)
    }

    #[test]
    fn binary_hex_and_json_payloads_give_the_same_reading() {
        let (bytes, at, values) = sample();
        let now = Utc::now();
        let hex_text = bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ");
        let json = format!(r#"{{"meter": "000000000161", "frame": "{}", "ts": 1795440000}}"#, hex::encode(&bytes));
        for payload in [bytes.clone(), hex_text.into_bytes(), json.into_bytes()] {
            let d = decode_uplink("dev", &payload, now).unwrap();
            assert_eq!(d.readings.len(), 1);
            assert_eq!(d.readings[0].values, values);
            // The meter clock in the payload wins over the envelope's ts.
            assert_eq!(d.readings[0].read_at, ReadTime::MeterClock(at));
        }
    }

    #[test]
    fn envelope_ts_is_used_without_a_meter_clock() {
        let frame = dlt645::read_reply(
            Address::from_u64(161).unwrap(),
            di::FORWARD_ACTIVE_TOTAL,
            &[Value::Number(rust_decimal::Decimal::new(100, 2))],
        )
        .unwrap();
        let json = format!(r#"{{"frames": ["{}"], "ts": "2026-11-23T00:30:00Z"}}"#, hex::encode(frame.encode(0).unwrap()));
        let d = decode_uplink("dev", json.as_bytes(), Utc::now()).unwrap();
        assert_eq!(
            d.readings[0].read_at,
            ReadTime::Instant(DateTime::parse_from_rfc3339("2026-11-23T00:30:00Z").unwrap().with_timezone(&Utc))
        );
    }

    #[test]
    fn malformed_payloads_are_refused_with_a_reason() {
        let now = Utc::now();
        assert_eq!(decode_uplink("dev", b"", now).unwrap_err(), Rejection::NoFrame);
        assert_eq!(decode_uplink("dev", &[0x68, 0x01, 0x02], now).unwrap_err(), Rejection::NoFrame);
        assert!(matches!(decode_uplink("dev", br#"{"frame": 12}"#, now), Err(Rejection::Envelope(_))));
        assert!(matches!(decode_uplink("dev", br#"{"frame": "zz"}"#, now), Err(Rejection::Envelope(_))));
        assert!(matches!(device_of("vl/up/a/b"), Err(Rejection::Topic(_))));
        assert_eq!(device_of("vl/up/d123").unwrap(), "d123");
    }

    #[test]
    fn a_frame_cut_at_the_end_is_reported_and_the_rest_is_used() {
        let (mut bytes, _, values) = sample();
        let whole = bytes.len();
        bytes.extend_from_slice(&sample().0[..9]);
        let d = decode_uplink("dev", &bytes, Utc::now()).unwrap();
        assert_eq!(d.readings[0].values, values);
        assert_eq!(d.rejected.len(), 1, "{:?}", d.rejected);
        assert!(d.rejected[0].to_string().contains(&format!("offset {whole}")));
    }

    #[test]
    fn a_gateway_payload_yields_one_reading_per_meter() {
        let at = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap().and_hms_opt(8, 30, 0).unwrap();
        let mut payload = Vec::new();
        for n in 1..=3 {
            let mut m = SimMeter::new(Address::from_u64(n).unwrap(), false);
            payload.extend(reading_frames(m.address, at, &m.reading_at(at), false));
        }
        let d = decode_uplink("gw", &payload, Utc::now()).unwrap();
        let addresses: Vec<String> = d.readings.iter().map(|r| r.address.to_string()).collect();
        assert_eq!(addresses, ["000000000001", "000000000002", "000000000003"]);
    }
}
