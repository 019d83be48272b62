//! Codec tests: golden frames, error replies, and properties (round trips, arbitrary bytes).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::str::FromStr;

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn addr(s: &str) -> Address {
    Address::parse(s).unwrap()
}

#[test]
fn read_reply_of_forward_active_total_decodes_exactly() {
    // 000102030425 replies 0x91 with DI 00010000 and 1206.42 kWh (BCD 00 12 06 42 -> LSB first).
    let frame = read_reply(addr("000102030425"), di::FORWARD_ACTIVE_TOTAL, &[Value::Number(dec("1206.42"))]).unwrap();
    let bytes = frame.encode(2).unwrap();
    assert_eq!(bytes, hex("FE FE 68 25 04 03 02 01 00 68 91 08 33 33 34 33 75 39 45 33 8B 16"));
    let scan = scan(&bytes);
    let items = items::decode_items(&scan.frames[0].data).unwrap();
    assert_eq!(items, vec![Item { di: di::FORWARD_ACTIVE_TOTAL, value: Value::Number(dec("1206.42")) }]);
}

#[test]
fn signed_current_and_power_factor_use_the_top_bit() {
    // current -1.234 A: magnitude 001.234 -> BCD 34 12 00, sign bit on the last byte -> 34 12 80.
    let data = items::encode_items(Di::new(0x02, 0x02, 0x01, 0x00), &[Value::Number(dec("-1.234"))]).unwrap();
    assert_eq!(&data[4..], &[0x34, 0x12, 0x80]);
    let pf = items::decode_items(&[0x00, 0x00, 0x06, 0x02, 0x00, 0x90]).unwrap();
    assert_eq!(pf[0].value, Value::Number(dec("-1.000")));
}

#[test]
fn voltage_block_expands_to_three_phases() {
    let frame = read_reply(
        addr("000000000161"),
        di::VOLTAGE_BLOCK,
        &[Value::Number(dec("220.1")), Value::Number(dec("219.8")), Value::Number(dec("0.0"))],
    )
    .unwrap();
    let items = items::decode_items(&frame.data).unwrap();
    let names: Vec<String> = items.iter().map(|i| items::name(i.di)).collect();
    assert_eq!(names, ["voltage_a", "voltage_b", "voltage_c"]);
    assert_eq!(items[1].value, Value::Number(dec("219.8")));
}

#[test]
fn energy_block_carries_total_and_tariffs() {
    let values: Vec<Value> = ["100.00", "10.50", "40.25", "30.00", "19.25"].iter().map(|v| Value::Number(dec(v))).collect();
    let frame = read_reply(addr("000000000001"), di::FORWARD_ACTIVE_BLOCK, &values).unwrap();
    let items = items::decode_items(&frame.data).unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(items::name(items[2].di), "forward_active_energy_t2");
    assert_eq!(items[2].value, Value::Number(dec("40.25")));
}

#[test]
fn unknown_identifier_is_kept_raw() {
    let items = items::decode_items(&[0x01, 0x00, 0x00, 0x1D, 0xAB, 0xCD]).unwrap();
    assert_eq!(items, vec![Item { di: Di(0x1D00_0001), value: Value::Raw(vec![0xAB, 0xCD]) }]);
}

#[test]
fn invalid_bcd_is_a_typed_error() {
    let err = items::decode_items(&[0x00, 0x00, 0x01, 0x00, 0x1A, 0x00, 0x00, 0x00]).unwrap_err();
    assert_eq!(err, ItemError::Bcd { di: di::FORWARD_ACTIVE_TOTAL, byte: 0x1A });
}

#[test]
fn fill_bytes_mean_not_supported() {
    let items = items::decode_items(&[0x00, 0x01, 0x01, 0x02, 0xFF, 0xFF]).unwrap();
    assert_eq!(items[0].value, Value::Missing);
}

#[test]
fn abnormal_reply_reports_error_bits() {
    let frame = abnormal_reply(addr("000000000161"), function::READ, 0x02);
    let bytes = frame.encode(0).unwrap();
    assert_eq!(bytes[8], 0xD1);
    let report = report(&scan(&bytes).frames[0]).unwrap();
    let e = report.error.unwrap();
    assert_eq!(e.code, "02");
    assert_eq!(e.bits, ["no_requested_data"]);

    let sec = abnormal_reply(addr("000000000161"), function::SECURITY, 0x0022);
    let e = ReplyError::of(&sec).unwrap();
    assert_eq!(e.bits(), ["repeated_recharge", "recharge_count_error"]);
}

#[test]
fn remote_control_round_trips_and_refuses_broadcast() {
    let rc = RemoteControl {
        level: 0x02,
        password: 123_456,
        operator: 0x0102_0304,
        action: RelayAction::Trip,
        deadline: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap().and_hms_opt(12, 0, 0).unwrap(),
    };
    let data = rc.to_data();
    // PA first, then the password low byte first (§2.2): 02 56 34 12.
    assert_eq!(&data[..4], &[0x02, 0x56, 0x34, 0x12]);
    assert_eq!(data[8], 0x1A);
    assert_eq!(RemoteControl::from_data(&data).unwrap(), rc);
    assert_eq!(rc.frame(Address::BROADCAST), Err(CommandError::Address));
    assert_eq!(rc.frame(Address::ANY), Err(CommandError::Address));
    let frame = rc.frame(addr("000000000161")).unwrap();
    let r = report(&frame).unwrap();
    assert_eq!(r.command.unwrap().action, "trip");
}

#[test]
fn date_and_time_items_follow_wire_order() {
    // 2026-11-23 is a Monday: wire WW DD MM YY = 01 23 11 26.
    let data = items::encode_items(di::DATE, &[Value::Text("2026-11-23".into())]).unwrap();
    assert_eq!(&data[4..], &[0x01, 0x23, 0x11, 0x26]);
    let data = items::encode_items(di::TIME, &[Value::Text("20:15:07".into())]).unwrap();
    assert_eq!(&data[4..], &[0x07, 0x15, 0x20]);
    let items = items::decode_items(&data).unwrap();
    assert_eq!(items[0].value, Value::Text("20:15:07".into()));
}

#[test]
fn demand_carries_its_time() {
    let v = Value::Demand { value: dec("12.3456"), at: "2026-11-01 08:15".into() };
    let data = items::encode_items(di::MAX_DEMAND_FORWARD, std::slice::from_ref(&v)).unwrap();
    assert_eq!(items::decode_items(&data).unwrap()[0].value, v);
}

#[test]
fn golden_frames_in_testdata_decode_to_their_json() {
    let text = include_str!("../../testdata/golden.txt");
    let mut checked = 0;
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty() && !b.starts_with('#')) {
        let mut lines = block.lines().filter(|l| !l.starts_with('#'));
        let (Some(hex_line), Some(json)) = (lines.next(), lines.next()) else { continue };
        let scan = scan(&hex(hex_line));
        assert!(scan.rejected.is_empty(), "{hex_line}: {:?}", scan.rejected);
        let out = serde_json::to_string(&report(&scan.frames[0]).unwrap()).unwrap();
        let got: serde_json::Value = serde_json::from_str(&out).unwrap();
        let want: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(got, want, "{hex_line}");
        checked += 1;
    }
    assert!(checked >= 5, "golden file holds {checked} frames");
}

fn arb_address() -> impl Strategy<Value = Address> {
    (0u64..=999_999_999_999).prop_map(|n| Address::from_u64(n).unwrap())
}

fn arb_frame() -> impl Strategy<Value = Frame> {
    (arb_address(), any::<u8>(), proptest::collection::vec(any::<u8>(), 0..=200))
        .prop_map(|(a, c, data)| Frame::new(a, Control::from_byte(c), data))
}

/// Identifiers with a fixed-size numeric format, and a value that fits it.
fn arb_numeric_item() -> impl Strategy<Value = (Di, Value)> {
    let dis = vec![
        di::COMBINED_ACTIVE_TOTAL,
        di::FORWARD_ACTIVE_TOTAL,
        Di::new(0x00, 0x01, 0x03, 0x05),
        di::VOLTAGE_A,
        di::CURRENT_A,
        di::ACTIVE_POWER_TOTAL,
        di::POWER_FACTOR_TOTAL,
        di::FREQUENCY,
        di::REMAINING_AMOUNT,
        di::ALARM_AMOUNT_1,
        Di::new(0x04, 0x05, 0x01, 0x01),
        Di::new(0x02, 0x80, 0x00, 0x07),
    ];
    proptest::sample::select(dis).prop_flat_map(|di| {
        let Some(Spec { format: Format::Bcd { len, decimals, signed }, .. }) = items::spec(di) else { unreachable!() };
        let digits = u32::from(len) * 2 - u32::from(signed);
        let max = if signed { 8 * 10i64.pow(digits) - 1 } else { 10i64.pow(digits) - 1 };
        let min = if signed { -max } else { 0 };
        (min..=max).prop_map(move |n| (di, Value::Number(Decimal::new(n, u32::from(decimals)))))
    })
}

proptest! {
    #[test]
    fn any_frame_round_trips(frame in arb_frame(), preamble in 0usize..5) {
        let bytes = frame.encode(preamble).unwrap();
        let scan = scan(&bytes);
        prop_assert!(scan.rejected.is_empty());
        prop_assert_eq!(scan.frames, vec![frame]);
        prop_assert_eq!(scan.consumed, bytes.len());
    }

    #[test]
    fn concatenated_frames_all_come_back(frames in proptest::collection::vec(arb_frame(), 1..6)) {
        let mut bytes = Vec::new();
        for f in &frames {
            bytes.extend(f.encode(1).unwrap());
        }
        prop_assert_eq!(scan(&bytes).frames, frames);
    }

    #[test]
    fn numeric_items_round_trip_exactly((di, value) in arb_numeric_item(), address in arb_address()) {
        let frame = read_reply(address, di, std::slice::from_ref(&value)).unwrap();
        let bytes = frame.encode(0).unwrap();
        let back = scan(&bytes);
        let items = items::decode_items(&back.frames[0].data).unwrap();
        prop_assert_eq!(items, vec![Item { di, value }]);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let s = scan(&bytes);
        prop_assert!(s.consumed <= bytes.len());
        for f in &s.frames {
            let _ = report(f);
            let _ = items::decode_items(&f.data);
            let _ = RemoteControl::from_data(&f.data);
        }
        let _ = items::decode_items(&bytes);
    }

    #[test]
    fn a_single_corrupted_byte_is_always_rejected(frame in arb_frame(), at in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let mut bytes = frame.encode(0).unwrap();
        let i = at.index(bytes.len());
        bytes[i] ^= flip;
        let s = scan(&bytes);
        // A single corrupted byte is caught by the checksum, the delimiters or the length.
        prop_assert!(s.frames.is_empty(), "{:?} accepted after corrupting byte {}", s.frames, i);
    }

    #[test]
    fn items_from_arbitrary_data_never_panic(di in any::<u32>(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut data = Di(di).to_wire().to_vec();
        data.extend(body);
        if let Ok(items) = items::decode_items(&data) {
            for item in items {
                let _ = items::name(item.di);
            }
        }
    }
}
