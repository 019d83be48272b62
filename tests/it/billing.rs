//! Post-paid bills with capacity fee, shared area and property fee (by hand), versioned
//! re-issue, prepaid shared-area charges, freezes and re-rating after a tariff correction.

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

/// Shanghai local time (UTC+8).
fn local(mo: u32, day: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, mo, day, h, m, 0).unwrap() - chrono::Duration::hours(8)
}

fn register(admin: &Admin, property: &Value, address: &str, mode: &str) -> (Value, String, Address) {
    let r = admin.ok(
        "mutation($p: ID!, $a: String!, $b: BillingMode!) { registerMeter(input: {propertyId: $p, address: $a, phases: 3, linkType: FOUR_G, billingMode: $b}) { meter { id } credentials { username } } }",
        json!({"p": property, "a": address, "b": mode}),
    )["registerMeter"]
        .clone();
    (r["meter"]["id"].clone(), r["credentials"]["username"].as_str().unwrap().to_string(), Address::parse(address).unwrap())
}

fn reading(m: &(Value, String, Address), at: DateTime<Utc>, total: &str, rates: Option<[&str; 4]>, demand: Option<&str>) -> MeterReading {
    MeterReading {
        device: m.1.clone(),
        address: m.2,
        read_at: ReadTime::Instant(at),
        received_at: Utc::now(),
        values: Readings {
            energy_total: Some(d(total)),
            energy_tariffs: rates.map(|r| r.map(|x| Some(d(x)))).unwrap_or_default(),
            max_demand: demand.map(d),
            ..Readings::default()
        },
    }
}

fn customer(admin: &Admin, name: &str) -> Value {
    admin.ok("mutation($n: String!) { createCustomer(input: {name: $n}) { id } }", json!({"n": name}))["createCustomer"]["id"].clone()
}

fn open(admin: &Admin, customer: &Value, meter: &Value, property_fee: &str, initial: Option<&str>) -> Value {
    let initial = initial.map(|a| json!({"amount": a, "channel": "CASH"}));
    admin.ok(
        "mutation($c: ID!, $m: ID!, $f: Decimal!, $i: InitialPurchaseInput) { openAccount(input: {customerId: $c, meterIds: [$m], propertyFee: $f, initialPurchase: $i}) { account { id } } }",
        json!({"c": customer, "m": meter, "f": property_fee, "i": initial}),
    )["openAccount"]["account"]["id"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_paid_bill_with_capacity_fee_shared_area_and_property_fee_by_hand() {
    let app = TestApp::spawn().await;
    let admin = app.admin("bills").await;
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Park"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let factory = register(&admin, &property, "000000000101", "POST_PAID");
    let shop = register(&admin, &property, "000000000102", "PLATFORM_PREPAID");
    let common = register(&admin, &property, "000000000103", "POST_PAID");
    // TOU from the meter's registers with a demand charge of 30 yuan/kW.
    let tou = admin.ok(
        "mutation { createTariff(input: {name: \"Industrial\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {
            prices: [{rate: SHARP, price: \"1.2\"}, {rate: PEAK, price: \"1.0\"}, {rate: FLAT, price: \"0.7\"}, {rate: VALLEY, price: \"0.3\"}],
            periods: [{start: \"00:00\", end: \"08:00\", rate: VALLEY}, {start: \"08:00\", end: \"10:00\", rate: SHARP},
                      {start: \"10:00\", end: \"18:00\", rate: PEAK}, {start: \"18:00\", end: \"24:00\", rate: FLAT}],
            source: METER_REGISTERS, capacityPricePerKw: \"30\"}}) { id } }",
        json!({}),
    )["createTariff"]["id"]
        .clone();
    admin.ok("mutation($t: ID!) { assignTariff(input: {tariffId: $t}) }", json!({"t": tou}));
    let flat = admin.ok(
        "mutation { createTariff(input: {name: \"Common\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: FLAT, price: \"0.5\"}]}}) { id } }",
        json!({}),
    )["createTariff"]["id"]
        .clone();
    admin.ok("mutation($t: ID!, $m: ID!) { assignTariff(input: {tariffId: $t, meterId: $m}) }", json!({"t": flat, "m": shop.0}));
    admin.ok("mutation($t: ID!, $m: ID!) { assignTariff(input: {tariffId: $t, meterId: $m}) }", json!({"t": flat, "m": common.0}));

    let a = open(&admin, &customer(&admin, "Factory"), &factory.0, "200.00", None);
    let b = open(&admin, &customer(&admin, "Shop"), &shop.0, "0", Some("500.00"));
    // October 2026 runs from 1 Oct 00:00 to 1 Nov 00:00 Shanghai time (settlement day 1, 00:00).
    app.app
        .store
        .store_readings(vec![
            reading(&factory, local(10, 1, 0, 0), "1000.00", Some(["100.00", "200.00", "300.00", "400.00"]), None),
            reading(&factory, local(10, 15, 14, 0), "1300.00", Some(["120.00", "280.00", "400.00", "500.00"]), Some("12.5000")),
            reading(&factory, local(10, 31, 23, 45), "1600.00", Some(["150.00", "350.00", "500.00", "600.00"]), Some("9.0000")),
            reading(&factory, local(11, 1, 0, 15), "1601.00", Some(["150.00", "350.00", "500.00", "601.00"]), Some("40.0000")),
            reading(&common, local(10, 1, 0, 0), "0.00", None, None),
            reading(&common, local(10, 31, 23, 0), "300.00", None, None),
        ])
        .await
        .unwrap();
    let g = admin.ok(
        "mutation($m: ID!, $a: ID!, $b: ID!) { createAllocationGroup(input: {name: \"Corridors\", meterId: $m, method: AREA, members: [{accountId: $a, weight: \"30\"}, {accountId: $b, weight: \"70\"}]}) { id } }",
        json!({"m": common.0, "a": a, "b": b}),
    )["createAllocationGroup"]["id"]
        .clone();

    let run = admin.ok("mutation { runBills(period: \"2026-10\") { created skipped { reason } } }", json!({}))["runBills"].clone();
    assert_eq!(run, json!({"created": 1, "skipped": []}));
    let bills = admin
        .ok("query($a: ID!) { bills(accountId: $a) { id version state total lines { kind quantity unitPrice amount } } }", json!({"a": a}))
        ["bills"]
        .clone();
    let bill = &bills[0];
    // Energy from the registers: 50 × 1.2 + 150 × 1.0 + 200 × 0.7 + 200 × 0.3 = 60 + 150 + 140 + 60 = 410.00.
    // Demand: the register's maximum in the month, 12.5 kW × 30 = 375.00 (the 40 kW of November is not October's).
    // Shared area: 300 kWh × 0.5 = 150.00 × 30/100 = 45.00. Property fee 200.00. Total 1030.00.
    let lines: Vec<(String, String, String)> = bill["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["kind"].as_str().unwrap().into(), l["quantity"].as_str().unwrap().into(), l["amount"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("ENERGY".into(), "50".into(), "60.00".into()),
            ("ENERGY".into(), "150".into(), "150.00".into()),
            ("ENERGY".into(), "200".into(), "140.00".into()),
            ("ENERGY".into(), "200".into(), "60.00".into()),
            ("CAPACITY".into(), "12.5".into(), "375.00".into()),
            ("SHARED_AREA".into(), "90".into(), "45.00".into()),
            ("PROPERTY_FEE".into(), "1".into(), "200.00".into()),
        ]
    );
    assert_eq!((bill["total"].as_str(), bill["state"].as_str(), bill["version"].as_i64()), (Some("1030.00"), Some("DRAFT"), Some(1)));
    // The prepaid member pays its 70 % as a ledger entry, once.
    let posted = admin.ok(
        "mutation($g: ID!) { runAllocation(groupId: $g, period: \"2026-10\") { account { id balance } entries { kind amount } } }",
        json!({"g": g}),
    )["runAllocation"]
        .clone();
    assert_eq!(
        posted,
        json!([{"account": {"id": b, "balance": "395.00"}, "entries": [{"kind": "SHARED_AREA_CHARGE", "amount": "-105.00"}]}])
    );
    let e = admin.fails("mutation($g: ID!) { runAllocation(groupId: $g, period: \"2026-10\") { receiptNo } }", json!({"g": g}));
    assert_eq!(e["code"], "CONFLICT");

    // A correction (property fee 250) re-issues the bill as version 2; version 1 is superseded.
    admin.ok(
        "mutation($a: ID!) { setAccountTerms(input: {accountId: $a, thresholds: {}, propertyFee: \"250\"}) { receiptNo } }",
        json!({"a": a}),
    );
    let v2 =
        admin.ok("mutation($b: ID!) { reissueBill(id: $b) { id version total state } }", json!({"b": bill["id"]}))["reissueBill"].clone();
    assert_eq!((v2["version"].as_i64(), v2["total"].as_str(), v2["state"].as_str()), (Some(2), Some("1080.00"), Some("DRAFT")));
    let old = admin.ok("query($b: ID!) { bill(id: $b) { state } }", json!({"b": bill["id"]}));
    assert_eq!(old["bill"]["state"], "SUPERSEDED");
    let e = admin.fails("mutation($b: ID!) { markBillPaid(id: $b) { state } }", json!({"b": v2["id"]}));
    assert_eq!(e["code"], "CONFLICT", "a draft is issued before it is paid");
    admin.ok("mutation($b: ID!) { issueBill(id: $b) { state } }", json!({"b": v2["id"]}));
    let paid = admin.ok("mutation($b: ID!) { markBillPaid(id: $b) { state paidAt } }", json!({"b": v2["id"]}))["markBillPaid"].clone();
    assert_eq!(paid["state"], "PAID");
    let e = admin.fails("mutation($b: ID!) { reissueBill(id: $b) { id } }", json!({"b": v2["id"]}));
    assert_eq!(e["code"], "CONFLICT");
    // The run is idempotent per period.
    assert_eq!(admin.ok("mutation { runBills(period: \"2026-10\") { created } }", json!({}))["runBills"]["created"], 0);
    let e = admin.fails("mutation { runBills(period: \"2026-13\") { created } }", json!({}));
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("VALIDATION"), Some("period")));

    // A daily freeze holds the registers of each meter's last reading before the instant
    // (17 Oct 00:00 local, a day the scheduler does not freeze during the test).
    let n = admin.ok("mutation { freezeRegisters(at: \"2026-10-16T16:00:00Z\") }", json!({}))["freezeRegisters"].clone();
    assert_eq!(n, 2, "two meters had readings before the instant");
    let again = admin.ok("mutation { freezeRegisters(at: \"2026-10-16T16:00:00Z\") }", json!({}))["freezeRegisters"].clone();
    assert_eq!(again, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tariff_correction_is_re_rated_once_with_the_difference_posted() {
    let app = TestApp::spawn().await;
    let admin = app.admin("rerate").await;
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Dorm"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let m = register(&admin, &property, "000000000201", "PLATFORM_PREPAID");
    let t = admin.ok(
        "mutation { createTariff(input: {name: \"Flat\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: FLAT, price: \"1.0\"}]}}) { id } }",
        json!({}),
    )["createTariff"]["id"]
        .clone();
    admin.ok("mutation($t: ID!) { assignTariff(input: {tariffId: $t}) }", json!({"t": t}));
    let acc = open(&admin, &customer(&admin, "Room 101"), &m.0, "0", Some("100.00"));
    let batch: Vec<MeterReading> =
        (0..5).map(|i| reading(&m, local(11, 3, 10 + i, 0), &format!("{}.33", 10 + i * 3), None, None)).collect();
    app.app.store.store_readings(batch).await.unwrap();
    let balance =
        |admin: &Admin| admin.ok("query($a: ID!) { account(id: $a) { balance carry ledgerTotal } }", json!({"a": acc}))["account"].clone();
    assert_eq!(balance(&admin)["balance"], "88.00"); // 12 kWh × 1.0
    // The price from 3 Nov 12:00 local should have been 1.10: intervals ending 13:00 and 14:00
    // (3 kWh each) cost 0.30 more each; the one ending 12:00 is not affected.
    admin.ok(
        "mutation($t: ID!) { addTariffVersion(input: {tariffId: $t, effectiveFrom: \"2026-11-03T04:00:01Z\", tariff: {prices: [{rate: FLAT, price: \"1.10\"}]}}) { id } }",
        json!({"t": t}),
    );
    let r = admin.ok(
        "mutation($m: ID!) { rerate(meterId: $m, from: \"2026-11-01T00:00:00Z\", to: \"2026-11-04T00:00:00Z\") { entries { kind amount detail } account { balance } } }",
        json!({"m": m.0}),
    )["rerate"]
        .clone();
    assert_eq!(r["entries"][0]["kind"], "ADJUSTMENT");
    assert_eq!(r["entries"][0]["amount"], "-0.60");
    assert_eq!(r["account"]["balance"], "87.40");
    // Nothing changed since: a second re-rate posts nothing.
    let again = admin.ok(
        "mutation($m: ID!) { rerate(meterId: $m, from: \"2026-11-01T00:00:00Z\", to: \"2026-11-04T00:00:00Z\") { receiptNo } }",
        json!({"m": m.0}),
    );
    assert!(again["rerate"].is_null());
    let b = balance(&admin);
    assert_eq!(b["ledgerTotal"], b["balance"]);
    // New readings settle at the corrected price.
    app.app.store.store_readings(vec![reading(&m, local(11, 3, 15, 0), "25.33", None, None)]).await.unwrap();
    assert_eq!(balance(&admin)["balance"], "84.10");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meter_side_purchases_count_up_and_a_wallet_above_what_was_loaded_is_flagged() {
    let app = TestApp::spawn().await;
    let admin = app.admin("wallet").await;
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Dorm"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let m = register(&admin, &property, "000000000301", "METER_PREPAID");
    let acc = open(&admin, &customer(&admin, "Room 3"), &m.0, "0", Some("100.00"));
    let buy = "mutation($m: ID!, $a: Decimal!) { purchaseForMeter(meterId: $m, amount: $a) { counter posting { account { balance } entries { kind amount } } } }";
    let first = admin.ok(buy, json!({"m": m.0, "a": "30"}))["purchaseForMeter"].clone();
    assert_eq!(first["counter"], 1);
    assert_eq!(first["posting"]["account"]["balance"], "70.00");
    assert_eq!(first["posting"]["entries"], json!([{"kind": "METER_PURCHASE", "amount": "-30.00"}]));
    assert_eq!(admin.ok(buy, json!({"m": m.0, "a": "20"}))["purchaseForMeter"]["counter"], 2);
    let e = admin.fails(buy, json!({"m": m.0, "a": "50.01"}));
    assert_eq!(e["code"], "CONFLICT", "not more than the account holds");
    let cmds = admin.ok("query($m: ID!) { commands(meterId: $m) { kind payload } }", json!({"m": m.0}))["commands"].clone();
    assert_eq!(cmds.as_array().unwrap().len(), 2);
    let payload: Value = serde_json::from_str(cmds[0]["payload"].as_str().unwrap()).unwrap();
    assert_eq!(
        (cmds[0]["kind"].as_str(), payload["counter"].as_i64(), payload["amount"].as_str()),
        (Some("PURCHASE"), Some(2), Some("20.00"))
    );
    // The meter reports its wallet: 45.00 is plausible (50 loaded), 60.00 is not.
    let wallet = |amount: &str| MeterReading {
        device: m.1.clone(),
        address: m.2,
        read_at: ReadTime::Instant(Utc::now()),
        received_at: Utc::now(),
        values: Readings { remaining_amount: Some(d(amount)), ..Readings::default() },
    };
    app.app.store.store_readings(vec![wallet("45.00")]).await.unwrap();
    let q = "query($m: ID!) { meter(id: $m) { walletMismatch } }";
    assert!(admin.ok(q, json!({"m": m.0}))["meter"]["walletMismatch"].is_null());
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    app.app.store.store_readings(vec![wallet("60.00")]).await.unwrap();
    let flagged = admin.ok(q, json!({"m": m.0}))["meter"]["walletMismatch"].as_str().unwrap().to_string();
    assert!(flagged.contains("60.00") && flagged.contains("50.00"), "{flagged}");
    let a = admin.ok("query($a: ID!) { account(id: $a) { balance ledgerTotal } }", json!({"a": acc}))["account"].clone();
    assert_eq!(a, json!({"balance": "50.00", "ledgerTotal": "50.00"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn area_weights_default_to_the_floor_area_of_the_members_areas() {
    let app = TestApp::spawn().await;
    let admin = app.admin("areas").await;
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Mall"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let area = |name: &str, m2: &str| {
        admin.ok(
            "mutation($p: ID!, $n: String!, $f: Decimal!) { createArea(input: {propertyId: $p, name: $n, floorArea: $f}) { id } }",
            json!({"p": property, "n": name, "f": m2}),
        )["createArea"]["id"]
            .clone()
    };
    let (a1, a2) = (area("East", "30.5"), area("West", "69.5"));
    let meter = |address: &str, area: &Value| {
        admin.ok(
            "mutation($p: ID!, $a: String!, $r: ID!) { registerMeter(input: {propertyId: $p, areaId: $r, address: $a, phases: 1, linkType: FOUR_G}) { meter { id } } }",
            json!({"p": property, "a": address, "r": area}),
        )["registerMeter"]["meter"]["id"]
            .clone()
    };
    let (m1, m2, common) = (meter("000000000401", &a1), meter("000000000402", &a2), meter("000000000403", &a1));
    let x = open(&admin, &customer(&admin, "East shop"), &m1, "0", None);
    let y = open(&admin, &customer(&admin, "West shop"), &m2, "0", None);
    let g = admin.ok(
        "mutation($m: ID!, $x: ID!, $y: ID!) { createAllocationGroup(input: {name: \"Lifts\", meterId: $m, method: AREA, members: [{accountId: $x}, {accountId: $y}]}) { members { accountId weight } } }",
        json!({"m": common, "x": x, "y": y}),
    )["createAllocationGroup"]["members"]
        .clone();
    let mut weights: Vec<(String, String)> =
        g.as_array().unwrap().iter().map(|m| (m["accountId"].as_str().unwrap().into(), m["weight"].as_str().unwrap().into())).collect();
    weights.sort_by_key(|w| w.1.clone());
    let expected = |acc: &Value, w: &str| (acc.as_str().unwrap().to_string(), w.to_string());
    assert_eq!(weights, vec![expected(&x, "30.5"), expected(&y, "69.5")]);
    let e = admin.fails(
        "mutation($m: ID!, $x: ID!) { createAllocationGroup(input: {name: \"Pumps\", meterId: $m, method: SHARES, members: [{accountId: $x}]}) { id } }",
        json!({"m": common, "x": x}),
    );
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("VALIDATION"), Some("members")));
}
