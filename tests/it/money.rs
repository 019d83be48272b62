//! Money through GraphQL and the ingest path: hand-computed scenarios, replay and
//! out-of-order readings, anomalies, meter replacement, the price guard and service fee,
//! tenant walls, and concurrent money changes keeping balance = sum of entries.

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use mqtt_bridge::dlt645::Address;
use mqtt_bridge::port::{MeterReading, ReadTime, Readings};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tests::{Admin, TestApp};

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Shanghai local time on 2026-11-`day`.
pub(crate) fn local(day: u32, h: u32, m: u32) -> DateTime<Utc> {
    chrono_tz_shanghai(2026, 11, day, h, m)
}

fn chrono_tz_shanghai(y: i32, mo: u32, day: u32, h: u32, m: u32) -> DateTime<Utc> {
    // UTC+8 without daylight saving.
    Utc.with_ymd_and_hms(y, mo, day, h, m, 0).unwrap() - chrono::Duration::hours(8)
}

/// A property, a customer and `n` 4G meters with their logins.
pub(crate) struct Site {
    pub(crate) property: Value,
    pub(crate) customer: Value,
    pub(crate) meters: Vec<(Value, String, Address)>,
}

pub(crate) fn site(admin: &Admin, n: usize, first_address: u64) -> Site {
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Mall"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let customer =
        admin.ok(r#"mutation { createCustomer(input: {name: "Shop 1", phone: "13800000000"}) { id } }"#, json!({}))["createCustomer"]["id"]
            .clone();
    let meters = (0..n)
        .map(|i| {
            let address = format!("{:012}", first_address + i as u64);
            let r = admin.ok(
                "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 1, linkType: FOUR_G}) { meter { id } credentials { username } } }",
                json!({"p": property, "a": address}),
            );
            let m = &r["registerMeter"];
            (m["meter"]["id"].clone(), m["credentials"]["username"].as_str().unwrap().to_string(), Address::parse(&address).unwrap())
        })
        .collect();
    Site { property, customer, meters }
}

pub(crate) fn reading(device: &str, address: Address, at: DateTime<Utc>, total: &str) -> MeterReading {
    MeterReading {
        device: device.to_string(),
        address,
        read_at: ReadTime::Instant(at),
        // A reading from the simulated future arrives when it is taken (the store refuses
        // readings dated well after their arrival).
        received_at: Utc::now().max(at),
        values: Readings { energy_total: Some(d(total)), ..Readings::default() },
    }
}

pub(crate) async fn feed(app: &TestApp, batch: Vec<MeterReading>) {
    app.app.store.store_readings(batch).await.unwrap();
}

pub(crate) fn flat_tariff(admin: &Admin, price: &str) -> Value {
    let t = admin.ok(
        "mutation($p: Decimal!) { createTariff(input: {name: \"Flat\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: FLAT, price: $p}]}}) { id } }",
        json!({"p": price}),
    )["createTariff"]["id"]
        .clone();
    admin.ok("mutation($t: ID!) { assignTariff(input: {tariffId: $t}) }", json!({"t": t}));
    t
}

const ACCOUNT: &str = "query($a: ID!) { account(id: $a) { balance carry balanceState relay holdPower ledgerTotal state } }";

pub(crate) fn account(admin: &Admin, id: &Value) -> Value {
    admin.ok(ACCOUNT, json!({"a": id}))["account"].clone()
}

pub(crate) fn open(admin: &Admin, s: &Site, meters: &[usize], initial: Option<&str>, credit: &str) -> Value {
    let meter_ids: Vec<Value> = meters.iter().map(|i| s.meters[*i].0.clone()).collect();
    let initial = initial.map(|a| json!({"amount": a, "channel": "CASH"}));
    admin.ok(
        "mutation($i: OpenAccountInput!) { openAccount(input: $i) { account { id } receiptNo } }",
        json!({"i": {"customerId": s.customer, "meterIds": meter_ids, "initialPurchase": initial,
                      "thresholds": {"creditLimit": credit, "alarm1": "5.00", "alarm2": "3.00"}}}),
    )["openAccount"]["account"]["id"]
        .clone()
}

pub(crate) fn commands(admin: &Admin) -> Vec<(String, String)> {
    let r = admin.ok("{ commands { kind source meterId } }", json!({}));
    let mut v: Vec<(String, String)> = r["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["kind"].as_str().unwrap().to_string(), c["meterId"].as_str().unwrap().to_string()))
        .collect();
    v.reverse(); // oldest first
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepaid_runs_out_trips_at_the_credit_limit_and_a_recharge_closes() {
    let app = TestApp::spawn().await;
    let admin = app.admin("prepaid").await;
    let s = site(&admin, 1, 1);
    flat_tariff(&admin, "0.8");
    let acc = open(&admin, &s, &[0], Some("10.00"), "2.00");
    let (meter, user, addr) = s.meters[0].clone();
    assert_eq!(account(&admin, &acc)["balance"], "10.00");

    // The first reading is the baseline: nothing before the account is charged.
    feed(&app, vec![reading(&user, addr, local(1, 0, 0), "100.00")]).await;
    assert_eq!(account(&admin, &acc)["balance"], "10.00");
    // 5 kWh × 0.80 = 4.00 -> 6.00, normal.
    feed(&app, vec![reading(&user, addr, local(1, 1, 0), "105.00")]).await;
    let a = account(&admin, &acc);
    assert_eq!((a["balance"].as_str(), a["balanceState"].as_str()), (Some("6.00"), Some("NORMAL")));
    // 3 kWh = 2.40 -> 3.60, alarm 1 (≤ 5.00).
    feed(&app, vec![reading(&user, addr, local(1, 2, 0), "108.00")]).await;
    assert_eq!(account(&admin, &acc)["balanceState"], "LOW_1");
    // 4 kWh = 3.20 -> 0.40, alarm 2 (≤ 3.00).
    feed(&app, vec![reading(&user, addr, local(1, 3, 0), "112.00")]).await;
    assert_eq!(account(&admin, &acc)["balanceState"], "LOW_2");
    // 2 kWh = 1.60 -> -1.20, arrears within the 2.00 credit: still on.
    feed(&app, vec![reading(&user, addr, local(1, 4, 0), "114.00")]).await;
    let a = account(&admin, &acc);
    assert_eq!((a["balance"].as_str(), a["balanceState"].as_str(), a["relay"].as_str()), (Some("-1.20"), Some("ARREARS"), Some("CLOSED")));
    assert!(commands(&admin).is_empty());
    // 1 kWh = 0.80 -> -2.00: the limit. One trip, even when the reading comes again.
    feed(&app, vec![reading(&user, addr, local(1, 5, 0), "115.00")]).await;
    feed(&app, vec![reading(&user, addr, local(1, 5, 0), "115.00")]).await;
    let a = account(&admin, &acc);
    assert_eq!((a["balance"].as_str(), a["balanceState"].as_str(), a["relay"].as_str()), (Some("-2.00"), Some("EXHAUSTED"), Some("OPEN")));
    assert_eq!(commands(&admin), vec![("TRIP".to_string(), meter.as_str().unwrap().to_string())]);
    // Consumption while tripped is still charged; no second trip.
    feed(&app, vec![reading(&user, addr, local(1, 6, 0), "115.50")]).await;
    assert_eq!(account(&admin, &acc)["balance"], "-2.40");
    assert_eq!(commands(&admin).len(), 1);

    // A recharge above the limit closes.
    let r = admin.ok(
        "mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"50\", channel: CASH}) { receiptNo account { balance relay } entries { kind amount } } }",
        json!({"a": acc}),
    )["recharge"]
        .clone();
    assert_eq!(r["account"], json!({"balance": "47.60", "relay": "CLOSED"}));
    assert_eq!(r["receiptNo"], 2, "receipts are numbered per tenant: the initial purchase was 1");
    let kinds: Vec<String> = commands(&admin).into_iter().map(|c| c.0).collect();
    assert_eq!(kinds, vec!["TRIP", "CLOSE"]);
    let a = account(&admin, &acc);
    assert_eq!(a["ledgerTotal"], a["balance"]);

    // Hold power suppresses the trip; restoring prepaid mode trips at once.
    admin.ok("mutation($a: ID!) { setHoldPower(accountId: $a, hold: true) { account { holdPower } } }", json!({"a": acc}));
    feed(&app, vec![reading(&user, addr, local(1, 8, 0), "175.00")]).await; // 59.5 kWh = 47.60 -> 0.00
    feed(&app, vec![reading(&user, addr, local(1, 9, 0), "180.00")]).await; // 4.00 -> -4.00
    let a = account(&admin, &acc);
    assert_eq!((a["balance"].as_str(), a["relay"].as_str()), (Some("-4.00"), Some("CLOSED")));
    let kinds: Vec<String> = commands(&admin).into_iter().map(|c| c.0).collect();
    assert_eq!(kinds, vec!["TRIP", "CLOSE", "HOLD_ON"], "the meter is told about hold power, and not tripped");
    let r = admin.ok("mutation($a: ID!) { restorePrepaid(accountId: $a) { account { relay holdPower } } }", json!({"a": acc}));
    assert_eq!(r["restorePrepaid"]["account"], json!({"relay": "OPEN", "holdPower": false}));
    let kinds: Vec<String> = commands(&admin).into_iter().map(|c| c.0).collect();
    assert_eq!(kinds, vec!["TRIP", "CLOSE", "HOLD_ON", "HOLD_OFF", "TRIP"], "hold released before the trip");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intervals_crossing_a_tou_boundary_and_a_tier_bound_are_priced_by_hand() {
    let app = TestApp::spawn().await;
    let admin = app.admin("tou").await;
    let s = site(&admin, 1, 10);
    let tariff = json!({
        "prices": [{"rate": "SHARP", "price": "1.4521"}, {"rate": "PEAK", "price": "1.2034"}, {"rate": "FLAT", "price": "0.7215"}, {"rate": "VALLEY", "price": "0.3512"}],
        "periods": [
            {"start": "00:00", "end": "08:00", "rate": "VALLEY"}, {"start": "08:00", "end": "10:00", "rate": "PEAK"},
            {"start": "10:00", "end": "11:00", "rate": "SHARP"}, {"start": "11:00", "end": "18:00", "rate": "FLAT"},
            {"start": "18:00", "end": "22:00", "rate": "PEAK"}, {"start": "22:00", "end": "24:00", "rate": "VALLEY"}],
        "tiers": {"cycle": "MONTHLY", "steps": [{"upTo": "20", "add": "0"}, {"upTo": "40", "add": "0.05"}, {"add": "0.3"}]}
    });
    let t = admin.ok(
        "mutation($t: TariffInput!) { createTariff(input: {name: \"TOU\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: $t}) { id versions { source tiers { cycle } } } }",
        json!({"t": tariff}),
    )["createTariff"]
        .clone();
    assert_eq!(t["versions"][0]["source"], "PLATFORM_CALENDAR");
    admin.ok("mutation($t: ID!, $p: ID!) { assignTariff(input: {tariffId: $t, propertyId: $p}) }", json!({"t": t["id"], "p": s.property}));
    let acc = open(&admin, &s, &[0], Some("100.00"), "0");
    let (_, user, addr) = s.meters[0].clone();
    feed(&app, vec![reading(&user, addr, local(2, 7, 30), "0.00")]).await;
    // 07:30 -> 08:30, 10 kWh: 5 valley × 0.3512 + 5 peak × 1.2034 = 7.773; tier 1 (+0).
    feed(&app, vec![reading(&user, addr, local(2, 8, 30), "10.00")]).await;
    let a = account(&admin, &acc);
    assert_eq!((a["balance"].as_str(), a["carry"].as_str()), (Some("92.23"), Some("0.003")));
    // 12:00 -> 13:00 flat, 15 kWh from 10 used: 10 in tier 1, 5 in tier 2 (+0.05):
    // 15 × 0.7215 + 5 × 0.05 = 10.8225 + 0.25 = 11.0725; with the 0.003 carry 11.0755 -> 11.07.
    feed(&app, vec![reading(&user, addr, local(2, 12, 0), "10.00"), reading(&user, addr, local(2, 13, 0), "25.00")]).await;
    let a = account(&admin, &acc);
    assert_eq!((a["balance"].as_str(), a["carry"].as_str()), (Some("81.16"), Some("0.0055")));
    let entries = admin.ok("query($a: ID!) { account(id: $a) { ledger { items { kind amount detail } } } }", json!({"a": acc}));
    let items = entries["account"]["ledger"]["items"].as_array().unwrap().clone();
    assert_eq!(items[0]["amount"], "-11.07");
    let detail: Value = serde_json::from_str(items[0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["cost"], "11.0725");
    assert_eq!(detail["source"], "PLATFORM_CALENDAR");
    assert_eq!(a["ledgerTotal"], a["balance"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_late_and_backwards_readings_are_never_billed_twice_or_as_they_stand() {
    let app = TestApp::spawn().await;
    let admin = app.admin("hygiene").await;
    let s = site(&admin, 1, 20);
    flat_tariff(&admin, "1");
    let acc = open(&admin, &s, &[0], Some("1000.00"), "0");
    let (meter, user, addr) = s.meters[0].clone();
    let batch: Vec<MeterReading> = (0..10).map(|i| reading(&user, addr, local(3, i, 0), &format!("{}.00", 100 + i * 3))).collect();
    feed(&app, batch.clone()).await;
    assert_eq!(account(&admin, &acc)["balance"], "973.00"); // 27 kWh
    // The whole batch again, and again in reverse: nothing changes.
    feed(&app, batch.clone()).await;
    feed(&app, batch.iter().rev().cloned().collect()).await;
    assert_eq!(account(&admin, &acc)["balance"], "973.00");
    // A late reading between settled ones is stored but not billed again.
    feed(&app, vec![reading(&user, addr, local(3, 4, 30), "113.50")]).await;
    assert_eq!(account(&admin, &acc)["balance"], "973.00");

    // The register goes backwards (meter reset): an anomaly, nothing billed, the cursor holds.
    feed(&app, vec![reading(&user, addr, local(3, 10, 0), "2.00"), reading(&user, addr, local(3, 11, 0), "4.00")]).await;
    assert_eq!(account(&admin, &acc)["balance"], "973.00");
    let an = admin.ok("{ settlementAnomalies { id kind meterId } }", json!({}))["settlementAnomalies"].clone();
    assert_eq!(an.as_array().unwrap().len(), 1, "one open anomaly per meter and kind: {an}");
    assert_eq!((an[0]["kind"].as_str(), &an[0]["meterId"]), (Some("REGISTER_BACKWARDS"), &meter));
    let e = admin.fails("mutation($i: ID!) { resolveSettlementAnomaly(id: $i, action: BILL_AS_IS) { id } }", json!({"i": an[0]["id"]}));
    assert_eq!(e["code"], "CONFLICT");
    // Rebase on the newest reading (4.00); billing continues from there.
    admin.ok("mutation($i: ID!) { resolveSettlementAnomaly(id: $i, action: REBASE) { resolution } }", json!({"i": an[0]["id"]}));
    feed(&app, vec![reading(&user, addr, local(3, 12, 0), "6.50")]).await;
    assert_eq!(account(&admin, &acc)["balance"], "970.50");

    // An impossible jump (200 kWh in an hour on a 100 kW limit) is held until an operator decides.
    feed(&app, vec![reading(&user, addr, local(3, 13, 0), "206.50")]).await;
    assert_eq!(account(&admin, &acc)["balance"], "970.50");
    let an = admin.ok("{ settlementAnomalies { id kind } }", json!({}))["settlementAnomalies"].clone();
    assert_eq!(an[0]["kind"], "IMPOSSIBLE_JUMP");
    admin.ok("mutation($i: ID!) { resolveSettlementAnomaly(id: $i, action: BILL_AS_IS) { resolution } }", json!({"i": an[0]["id"]}));
    let a = account(&admin, &acc);
    assert_eq!(a["balance"], "770.50");
    assert_eq!(a["ledgerTotal"], a["balance"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meter_replacement_mid_month_keeps_balance_and_consumption_continuous() {
    let app = TestApp::spawn().await;
    let admin = app.admin("swap").await;
    let s = site(&admin, 2, 30);
    flat_tariff(&admin, "0.5");
    let acc = open(&admin, &s, &[0], Some("100.00"), "0");
    let (old, old_user, old_addr) = s.meters[0].clone();
    let (new, new_user, new_addr) = s.meters[1].clone();
    feed(&app, vec![reading(&old_user, old_addr, local(10, 0, 0), "5000.00"), reading(&old_user, old_addr, local(10, 12, 0), "5010.00")])
        .await;
    assert_eq!(account(&admin, &acc)["balance"], "95.00");
    // Swap at 15:00: the old meter's final 5014.00 (4 kWh = 2.00), the new one starts at 0.30.
    let r = admin.ok(
        "mutation($o: ID!, $n: ID!) { replaceMeter(input: {oldMeterId: $o, newMeterId: $n, oldFinalReading: \"5014.00\", newInitialReading: \"0.30\", replacedAt: \"2026-11-10T07:00:00Z\"}) { balance meters { id } } }",
        json!({"o": old, "n": new}),
    )["replaceMeter"]
        .clone();
    assert_eq!(r["balance"], "93.00");
    assert_eq!(r["meters"], json!([{"id": new}]));
    // The old meter's live value is its final register now, not its last push.
    let live = admin.ok("query($m: ID!) { meter(id: $m) { live { energyTotal } } }", json!({"m": old}));
    assert_eq!(live["meter"]["live"]["energyTotal"], "5014.00", "{live}");
    // Late frames of the old meter change nothing; the new meter bills from 0.30.
    feed(&app, vec![reading(&old_user, old_addr, local(10, 16, 0), "5020.00")]).await;
    feed(&app, vec![reading(&new_user, new_addr, local(10, 16, 0), "2.30")]).await;
    let a = account(&admin, &acc);
    assert_eq!(a["balance"], "92.00");
    assert_eq!(a["ledgerTotal"], a["balance"]);
    // Energy billed over the month is continuous: 10 + 4 + 2 = 16 kWh = 8.00.
    let m = admin.ok("query($m: ID!) { meter(id: $m) { retiredAt accountId } }", json!({"m": old}));
    assert!(m["meter"]["retiredAt"].is_string());
    assert!(m["meter"]["accountId"].is_null());
    // The list's kept total lost the old meter with its retirement (m0022).
    let list = admin.ok("{ meters(pageSize: 50) { total items { id } } }", json!({}))["meters"].clone();
    assert_eq!((list["total"].as_u64(), list["items"].as_array().map(Vec::len)), (Some(1), Some(1)), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_fee_receipts_reversals_refunds_transfers_and_closing() {
    let app = TestApp::spawn().await;
    let admin = app.admin("ledger").await;
    let s = site(&admin, 2, 40);
    flat_tariff(&admin, "1");
    admin.ok("mutation { setServiceFee(input: {percent: \"0.6\"}) { serviceFeePercent } }", json!({}));
    let a = open(&admin, &s, &[0], None, "0");
    let b = open(&admin, &s, &[1], None, "0");
    let r = admin.ok(
        "mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"123.45\", channel: TRANSFER, idempotencyKey: \"bank-1\"}) { receiptNo entries { id kind amount } account { balance } } }",
        json!({"a": a}),
    )["recharge"]
        .clone();
    // 0.6 % of 123.45 = 0.7407 -> 0.74, taken before the credit.
    assert_eq!(r["entries"][0]["amount"], "123.45");
    assert_eq!((r["entries"][1]["kind"].as_str(), r["entries"][1]["amount"].as_str()), (Some("SERVICE_FEE"), Some("-0.74")));
    assert_eq!(r["account"]["balance"], "122.71");
    // The same idempotency key posts nothing new.
    let again = admin.ok(
        "mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"123.45\", channel: TRANSFER, idempotencyKey: \"bank-1\"}) { receiptNo account { balance } } }",
        json!({"a": a}),
    )["recharge"]
        .clone();
    assert_eq!(again, json!({"receiptNo": r["receiptNo"], "account": {"balance": "122.71"}}));
    let receipt = admin.ok("query($n: Int!) { receipt(number: $n) { total html } }", json!({"n": r["receiptNo"]}))["receipt"].clone();
    assert_eq!(receipt["total"], "122.71");
    assert!(receipt["html"].as_str().unwrap().contains("服务费 Service fee"), "items are named, not coded");
    assert!(receipt["html"].as_str().unwrap().contains("(UTC+08:00)"), "in the tenant's time");
    assert!(
        receipt["html"].as_str().unwrap().contains("rounded down; the remainder under one fen is carried"),
        "the rounding rule is on the receipt"
    );
    // A fee that would swallow the recharge is a validation error.
    admin.ok("mutation { setServiceFee(input: {fixed: \"2.00\"}) { serviceFeeFixed } }", json!({}));
    let e = admin
        .fails("mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"2.00\", channel: CASH}) { receiptNo } }", json!({"a": a}));
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("VALIDATION"), Some("amount")));
    admin.ok("mutation { setServiceFee(input: {}) { serviceFeeFixed } }", json!({}));

    // Reversal (冲正) of the recharge reverses its fee with it, once.
    let rev = admin.ok("mutation($e: ID!) { reverseEntry(entryId: $e, note: \"wrong account\") { account { balance } entries { kind amount reversesId } } }", json!({"e": r["entries"][0]["id"]}))["reverseEntry"].clone();
    assert_eq!(rev["account"]["balance"], "0.00");
    assert_eq!(rev["entries"].as_array().unwrap().len(), 2);
    let e = admin.fails("mutation($e: ID!) { reverseEntry(entryId: $e) { receiptNo } }", json!({"e": r["entries"][0]["id"]}));
    assert_eq!(e["code"], "CONFLICT");

    // Refunds and transfers may not take a balance below zero.
    admin.ok("mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"50\", channel: CASH}) { receiptNo } }", json!({"a": a}));
    let e = admin.fails("mutation($a: ID!) { refund(input: {accountId: $a, amount: \"50.01\"}) { receiptNo } }", json!({"a": a}));
    assert_eq!(e["code"], "CONFLICT");
    assert_eq!(account(&admin, &a)["balance"], "50.00");
    let t = admin.ok("mutation($a: ID!, $b: ID!) { transferBalance(input: {fromAccountId: $a, toAccountId: $b, amount: \"20\"}) { from { account { balance } } to { account { balance } } } }", json!({"a": a, "b": b}))["transferBalance"].clone();
    assert_eq!(t, json!({"from": {"account": {"balance": "30.00"}}, "to": {"account": {"balance": "20.00"}}}));
    admin.ok("mutation($a: ID!) { refund(input: {accountId: $a, amount: \"10\"}) { receiptNo } }", json!({"a": a}));
    // Closing refunds the rest and releases the meter.
    let c = admin.ok(
        "mutation($a: ID!) { closeAccount(id: $a) { account { state balance ledgerTotal meters { id } } entries { kind amount } } }",
        json!({"a": a}),
    )["closeAccount"]
        .clone();
    assert_eq!(c["account"], json!({"state": "CLOSED", "balance": "0.00", "ledgerTotal": "0.00", "meters": []}));
    assert_eq!(c["entries"], json!([{"kind": "REFUND", "amount": "-20.00"}]));
    let e =
        admin.fails("mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"1\", channel: CASH}) { receiptNo } }", json!({"a": a}));
    assert_eq!(e["code"], "CONFLICT");
    // Entries can be marked invoiced once.
    let ids: Vec<Value> = admin.ok("query($b: ID!) { account(id: $b) { ledger { items { id } } } }", json!({"b": b}))["account"]["ledger"]
        ["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].clone())
        .collect();
    assert_eq!(admin.ok("mutation($i: [ID!]!) { markInvoiced(entryIds: $i) }", json!({"i": ids}))["markInvoiced"], 1);
    assert_eq!(admin.ok("mutation($i: [ID!]!) { markInvoiced(entryIds: $i) }", json!({"i": ids}))["markInvoiced"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tariffs_are_validated_and_the_price_guard_needs_an_explicit_override() {
    let app = TestApp::spawn().await;
    let admin = app.admin("tariffs").await;
    let create = "mutation($t: TariffInput!, $o: Boolean!) { createTariff(input: {name: \"T\", tariff: $t, overridePriceCap: $o}) { id versions { aboveCap } } }";
    let bad = [
        (
            json!({"prices": [{"rate": "PEAK", "price": "1"}, {"rate": "VALLEY", "price": "0.4"}], "periods": [{"start": "00:00", "end": "08:00", "rate": "VALLEY"}, {"start": "09:00", "end": "24:00", "rate": "PEAK"}]}),
            "tariff.periods",
        ),
        (
            json!({"prices": [{"rate": "FLAT", "price": "1"}], "periods": [{"start": "00:00", "end": "12:00", "rate": "FLAT"}]}),
            "tariff.periods",
        ),
        (json!({"prices": [{"rate": "FLAT", "price": "-0.1"}]}), "tariff.prices"),
        (
            json!({"prices": [{"rate": "PEAK", "price": "1"}], "periods": [{"start": "00:00", "end": "24:00", "rate": "VALLEY"}]}),
            "tariff.prices",
        ),
        (
            json!({"prices": [{"rate": "FLAT", "price": "1"}], "tiers": {"cycle": "MONTHLY", "steps": [{"upTo": "200", "add": "0"}, {"upTo": "100", "add": "0.1"}, {"add": "0.2"}]}}),
            "tariff.tiers",
        ),
        (
            json!({"prices": [{"rate": "FLAT", "price": "1"}, {"rate": "DEEP_VALLEY", "price": "0.2"}], "source": "METER_REGISTERS", "periods": [{"start": "00:00", "end": "06:00", "rate": "DEEP_VALLEY"}, {"start": "06:00", "end": "24:00", "rate": "FLAT"}]}),
            "tariff.source",
        ),
    ];
    for (t, field) in bad {
        let e = admin.fails(create, json!({"t": t, "o": false}));
        assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("VALIDATION"), Some(field)), "{t}");
    }
    assert_eq!(admin.ok("{ tariffs { id } }", json!({}))["tariffs"], json!([]));
    // Catalogue 0.60 + 15 % = 0.69: 0.80 needs the override and is flagged.
    let s = admin.ok("mutation { setPriceRule(input: {cataloguePrice: \"0.6\"}) { priceCap marginPercent } }", json!({}));
    assert_eq!(s["setPriceRule"], json!({"priceCap": "0.69", "marginPercent": "15"}));
    let flat = json!({"prices": [{"rate": "FLAT", "price": "0.8"}]});
    let e = admin.fails(create, json!({"t": flat, "o": false}));
    assert_eq!(e["field"], "overridePriceCap");
    let t = admin.ok(create, json!({"t": flat, "o": true}))["createTariff"].clone();
    assert_eq!(t["versions"], json!([{"aboveCap": true}]));
    let ok = admin.ok(create, json!({"t": {"prices": [{"rate": "FLAT", "price": "0.69"}]}, "o": false}))["createTariff"].clone();
    assert_eq!(ok["versions"], json!([{"aboveCap": false}]));
    // Versions keep history; a second version at the same instant is refused.
    admin.ok(
        "mutation($t: ID!, $v: TariffInput!) { addTariffVersion(input: {tariffId: $t, effectiveFrom: \"2027-01-01T00:00:00Z\", tariff: $v}) { id } }",
        json!({"t": ok["id"], "v": {"prices": [{"rate": "FLAT", "price": "0.65"}]}}),
    );
    let e = admin.fails(
        "mutation($t: ID!, $v: TariffInput!) { addTariffVersion(input: {tariffId: $t, effectiveFrom: \"2027-01-01T00:00:00Z\", tariff: $v}) { id } }",
        json!({"t": ok["id"], "v": {"prices": [{"rate": "FLAT", "price": "0.66"}]}}),
    );
    assert_eq!(e["field"], "effectiveFrom");
    let v = admin.ok("query($t: ID!) { tariff(id: $t) { versions { prices { price } } } }", json!({"t": ok["id"]}));
    assert_eq!(v["tariff"]["versions"], json!([{"prices": [{"price": "0.69"}]}, {"prices": [{"price": "0.65"}]}]));
    let notice = admin.ok("{ priceNotice }", json!({}))["priceNotice"].as_str().unwrap().to_string();
    assert!(notice.contains("0.69") && notice.contains("电价公示"), "{notice}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_accounts_entries_and_tariffs_are_not_found_and_unchanged() {
    let app = TestApp::spawn().await;
    let a = app.admin("money-a").await;
    let b = app.admin("money-b").await;
    let s = site(&a, 1, 50);
    let t = flat_tariff(&a, "1");
    let acc = open(&a, &s, &[0], Some("10"), "0");
    let entry = a.ok("query($a: ID!) { account(id: $a) { ledger { items { id } } } }", json!({"a": acc}))["account"]["ledger"]["items"][0]
        ["id"]
        .clone();
    let r = b.ok("query($a: ID!, $e: ID!, $t: ID!) { account(id: $a) { id } ledgerEntry(id: $e) { id } tariff(id: $t) { id } receipt(number: 1) { total } accounts { total } }", json!({"a": acc, "e": entry, "t": t}));
    assert_eq!(r, json!({"account": null, "ledgerEntry": null, "tariff": null, "receipt": null, "accounts": {"total": 0}}));
    for (q, v) in [
        ("mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"5\", channel: CASH}) { receiptNo } }", json!({"a": acc})),
        ("mutation($a: ID!) { refund(input: {accountId: $a, amount: \"5\"}) { receiptNo } }", json!({"a": acc})),
        ("mutation($a: ID!) { closeAccount(id: $a) { receiptNo } }", json!({"a": acc})),
        ("mutation($a: ID!) { setHoldPower(accountId: $a, hold: true) { receiptNo } }", json!({"a": acc})),
        ("mutation($e: ID!) { reverseEntry(entryId: $e) { receiptNo } }", json!({"e": entry})),
    ] {
        let e = b.fails(q, v);
        assert_eq!(e["code"], "NOT_FOUND", "{q}");
    }
    let e = b.fails("mutation($t: ID!) { assignTariff(input: {tariffId: $t}) }", json!({"t": t}));
    assert_eq!(e["code"], "VALIDATION");
    let e = b.fails(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m]}) { receiptNo } }",
        json!({"c": s.customer, "m": s.meters[0].0}),
    );
    assert_eq!(e["code"], "VALIDATION");
    let acc_a = account(&a, &acc);
    assert_eq!(
        (acc_a["balance"].as_str(), acc_a["holdPower"].as_bool(), acc_a["state"].as_str()),
        (Some("10.00"), Some(false), Some("OPEN"))
    );
}

/// Recharges, reversals, refunds and settlements race on a few accounts; afterwards every
/// balance equals the sum of its entries and the money adds up (PostgreSQL in CI).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_money_changes_keep_every_balance_equal_to_its_entries() {
    let app = TestApp::spawn().await;
    let admin = app.admin("race").await;
    let s = site(&admin, 4, 60);
    flat_tariff(&admin, "0.37");
    let accounts: Vec<Value> = (0..4).map(|i| open(&admin, &s, &[i], Some("100"), "1000")).collect();
    let store = app.app.store.tenant(admin.tenant.clone());
    let ids: Vec<server::domain::ids::AccountId> =
        accounts.iter().map(|a| server::domain::ids::AccountId::parse(a.as_str().unwrap()).unwrap()).collect();
    let mut tasks = Vec::new();
    for w in 0..6u64 {
        let store = store.clone();
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            let mut x = w * 7919 + 1;
            for _ in 0..25 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let acc = &ids[(x >> 33) as usize % ids.len()];
                let amount = 1 + (x >> 40) as i64 % 5000;
                match (x >> 20) % 3 {
                    0 | 1 => {
                        let p = store.recharge(acc, amount, server::domain::ledger::EntryKind::RechargeCash, None, "race").await.unwrap();
                        if (x >> 50) % 2 == 0 {
                            store.reverse(&p.entries[0].id, "race").await.unwrap();
                        }
                    }
                    _ => {
                        // Refunds may be refused when the balance is short; that is fine.
                        let _ = store.refund(acc, amount, "race").await;
                    }
                }
            }
        }));
    }
    let feeder = {
        let store = app.app.store.clone();
        let meters = s.meters.clone();
        tokio::spawn(async move {
            for step in 0..40u32 {
                let batch = meters
                    .iter()
                    .map(|(_, user, addr)| {
                        reading(
                            user,
                            *addr,
                            local(5, 0, 0) + chrono::Duration::minutes(i64::from(step) * 30),
                            &format!("{}.{:02}", 100 + step * 2, step % 100),
                        )
                    })
                    .collect();
                store.store_readings(batch).await.unwrap();
            }
        })
    };
    for t in tasks {
        t.await.unwrap();
    }
    feeder.await.unwrap();
    for (i, id) in ids.iter().enumerate() {
        let acc = store.account(id).await.unwrap().unwrap();
        assert_eq!(acc.balance_x100, store.ledger_sum(id).await.unwrap(), "account {i}");
    }
    // Every interval was charged exactly once: 39 intervals per meter.
    let charges = admin.ok("query($a: ID!) { account(id: $a) { ledger(first: 500) { items { kind } } } }", json!({"a": accounts[0]}));
    let n = charges["account"]["ledger"]["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "ENERGY_CHARGE").count();
    assert_eq!(n, 39);
}

/// Property over seeded random cases: readings arrive in random batches, shuffled, with
/// duplicates, then all again. Under a flat price with monthly tiers the cost depends only on
/// the energy, so whatever the order the account must be charged exactly
/// flat × E + tier increments on E (E = newest register − the first register to arrive), to
/// the fen through the carry; replaying everything changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_arrival_order_with_replays_charges_exactly_the_tariff_on_the_energy() {
    let app = TestApp::spawn().await;
    let admin = app.admin("replay-prop").await;
    let s = site(&admin, 6, 70);
    admin.ok(
        "mutation { createTariff(input: {name: \"Tiered\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: FLAT, price: \"0.5837\"}],
            tiers: {cycle: MONTHLY, steps: [{upTo: \"50\", add: \"0\"}, {upTo: \"120\", add: \"0.05\"}, {add: \"0.3\"}]}}}) { id } }",
        json!({}),
    );
    let t = admin.ok("{ tariffs { id } }", json!({}))["tariffs"][0]["id"].clone();
    admin.ok("mutation($t: ID!) { assignTariff(input: {tariffId: $t}) }", json!({"t": t}));
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for (case, (_, user, addr)) in s.meters.iter().enumerate() {
        let acc = open(&admin, &s, &[case], Some("10000"), "0");
        // 20–60 readings, 5–120 minutes apart, 0–9.99 kWh each (below the jump limit).
        let count = 20 + next(41) as i64;
        let mut at = local(4 + case as u32, 0, 0);
        let mut total = Decimal::new(100_000 + next(100_000) as i64, 2);
        let mut readings = Vec::new();
        for _ in 0..count {
            at += chrono::Duration::minutes(5 + next(116) as i64);
            total += Decimal::new(next(1_000) as i64, 2);
            readings.push((at, total));
        }
        // Shuffle, duplicate some, cut into random batches.
        let mut arrivals: Vec<(DateTime<Utc>, Decimal)> = readings.clone();
        for i in (1..arrivals.len()).rev() {
            arrivals.swap(i, next(i as u64 + 1) as usize);
        }
        for _ in 0..next(10) {
            let i = next(arrivals.len() as u64) as usize;
            arrivals.push(arrivals[i]);
        }
        let last = readings.last().unwrap().1;
        let mut rest = &arrivals[..];
        let mut baseline = None;
        while !rest.is_empty() {
            let n = 1 + next(rest.len() as u64) as usize;
            // A batch is settled in time order, so the earliest reading of the first batch
            // becomes the meter's baseline.
            baseline = baseline.or_else(|| rest[..n].iter().min_by_key(|(t, _)| *t).map(|r| r.1));
            let batch = rest[..n].iter().map(|(t, e)| reading(user, *addr, *t, &e.to_string())).collect();
            feed(&app, batch).await;
            rest = &rest[n..];
        }
        let once = account(&admin, &acc);
        feed(&app, arrivals.iter().map(|(t, e)| reading(user, *addr, *t, &e.to_string())).collect()).await;
        assert_eq!(account(&admin, &acc), once, "case {case}: replaying everything changed the account");

        // Expected: everything between the baseline and the newest reading is billed exactly
        // once (late readings only merge intervals; the newest always arrives).
        let e = last - baseline.unwrap();
        let tiers = [(d("50"), d("0")), (d("120"), d("0.05"))];
        let mut extra = Decimal::ZERO;
        let mut at_kwh = Decimal::ZERO;
        for (bound, add) in tiers {
            let piece = (bound - at_kwh).min(e - at_kwh).max(Decimal::ZERO);
            extra += piece * add;
            at_kwh = bound;
        }
        extra += (e - d("120")).max(Decimal::ZERO) * d("0.3");
        let exact = e * d("0.5837") + extra;
        let charged = d("10000") - d(once["balance"].as_str().unwrap());
        let carry = d(once["carry"].as_str().unwrap());
        assert_eq!(charged + carry, exact, "case {case}: E = {e}");
        assert_eq!(once["ledgerTotal"], once["balance"]);

        // A cursor walk in pages of any size returns every entry once, and they sum to the
        // balance (entries of one batch share a timestamp).
        let page_size = 1 + next(17) as i64;
        let (mut walked, mut sum, mut after) = (std::collections::HashSet::new(), Decimal::ZERO, None::<String>);
        loop {
            let page = admin.ok(
                "query($a: ID!, $f: Int!, $c: String) { account(id: $a) { ledger(first: $f, after: $c) { items { id amount } pageInfo { endCursor hasNextPage } } } }",
                json!({"a": acc, "f": page_size, "c": after}),
            )["account"]["ledger"]
                .clone();
            for e in page["items"].as_array().unwrap() {
                assert!(walked.insert(e["id"].as_str().unwrap().to_string()), "case {case}: an entry twice in pages of {page_size}");
                sum += d(e["amount"].as_str().unwrap());
            }
            if page["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = page["pageInfo"]["endCursor"].as_str().map(String::from);
        }
        let all = admin.ok("query($a: ID!) { account(id: $a) { ledger(first: 500) { items { id } } } }", json!({"a": acc}));
        assert_eq!(walked.len(), all["account"]["ledger"]["items"].as_array().unwrap().len(), "case {case}: pages of {page_size}");
        assert_eq!(sum, d(once["balance"].as_str().unwrap()), "case {case}: the walked entries sum to the balance");
    }
}

/// Tenant settings the portal's settings screen writes: default balance thresholds taken by
/// accounts opened without their own, the time zone (an unknown one refused, nothing
/// changed), the reading schedule read back; a tariff retired only when nothing uses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_thresholds_time_zone_and_retiring_a_tariff() {
    let app = TestApp::spawn().await;
    let admin = app.admin("settings").await;
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Block"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    const DEFAULTS: &str =
        "mutation($i: ThresholdsInput!) { setDefaultThresholds(input: $i) { defaultThresholds { creditLimit alarm1 alarm2 } } }";
    let e = admin.fails(DEFAULTS, json!({"i": {"creditLimit": "0", "alarm1": "10", "alarm2": "20"}}));
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("VALIDATION"), Some("alarm2")));
    let set = admin.ok(DEFAULTS, json!({"i": {"creditLimit": "5", "alarm1": "30", "alarm2": "10.50"}}))["setDefaultThresholds"].clone();
    assert_eq!(set["defaultThresholds"], json!({"creditLimit": "5.00", "alarm1": "30.00", "alarm2": "10.50"}));
    let meter = |address: &str| {
        admin.ok(
            "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 1, linkType: FOUR_G}) { meter { id } } }",
            json!({"p": property, "a": address}),
        )["registerMeter"]["meter"]["id"]
            .clone()
    };
    let customer = admin.ok(r#"mutation { createCustomer(input: {name: "Tenant"}) { id } }"#, json!({}))["createCustomer"]["id"].clone();
    let open = "mutation($c: ID!, $m: ID!, $t: ThresholdsInput) { openAccount(input: {customerId: $c, meterIds: [$m], thresholds: $t}) { account { creditLimit alarm1 alarm2 } } }";
    let defaulted = admin.ok(open, json!({"c": customer, "m": meter("000000000601"), "t": null}))["openAccount"]["account"].clone();
    assert_eq!(defaulted, json!({"creditLimit": "5.00", "alarm1": "30.00", "alarm2": "10.50"}));
    let own = admin.ok(open, json!({"c": customer, "m": meter("000000000602"), "t": {"alarm1": "8"}}))["openAccount"]["account"].clone();
    assert_eq!(own, json!({"creditLimit": "0.00", "alarm1": "8.00", "alarm2": "0.00"}));

    const BILLING: &str = "mutation($z: String) { setBillingSettings(input: {jumpLimitKw: \"100\", timeZone: $z}) { jumpLimitKw } }";
    let e = admin.fails(BILLING, json!({"z": "Mars/Olympus"}));
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("VALIDATION"), Some("timeZone")));
    let tenant = "{ tenant { timeZone readingIntervalSeconds lostAfterIntervals } }";
    assert_eq!(admin.ok(tenant, json!({}))["tenant"]["timeZone"], "Asia/Shanghai");
    admin.ok(BILLING, json!({"z": "Asia/Urumqi"}));
    admin.ok("mutation { setReadingSchedule(readingIntervalSeconds: 120, lostAfterIntervals: 5) { readingIntervalSeconds } }", json!({}));
    assert_eq!(
        admin.ok(tenant, json!({}))["tenant"],
        json!({"timeZone": "Asia/Urumqi", "readingIntervalSeconds": 120, "lostAfterIntervals": 5})
    );

    let tariff = |name: &str| {
        admin.ok(
            "mutation($n: String!) { createTariff(input: {name: $n, effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: FLAT, price: \"0.8\"}]}}) { id } }",
            json!({"n": name}),
        )["createTariff"]["id"]
            .clone()
    };
    let (used, mistake) = (tariff("Used"), tariff("Made by mistake"));
    admin.ok("mutation($t: ID!, $p: ID!) { assignTariff(input: {tariffId: $t, propertyId: $p}) }", json!({"t": used, "p": property}));
    const RETIRE: &str = "mutation($t: ID!) { retireTariff(id: $t) { id retiredAt } }";
    let e = admin.fails(RETIRE, json!({"t": used}));
    assert_eq!(e["code"], "CONFLICT", "a property uses it");
    let retired = admin.ok(RETIRE, json!({"t": mistake}))["retireTariff"].clone();
    assert!(retired["retiredAt"].is_string());
    assert_eq!(admin.fails(RETIRE, json!({"t": mistake}))["code"], "CONFLICT");
    let names: Vec<String> = admin.ok("{ tariffs { name } }", json!({}))["tariffs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().into())
        .collect();
    assert_eq!(names, vec!["Used".to_string()]);
    let e = admin
        .fails("mutation($t: ID!, $p: ID!) { assignTariff(input: {tariffId: $t, propertyId: $p}) }", json!({"t": mistake, "p": property}));
    assert_eq!(e["code"], "CONFLICT", "a retired tariff is not assigned");
    assert_eq!(admin.ok("query($t: ID!) { tariff(id: $t) { name } }", json!({"t": mistake}))["tariff"]["name"], "Made by mistake");
}
