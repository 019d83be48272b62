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
        received_at: Utc::now().max(at),
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
    let run = admin.ok(
        "mutation($g: ID!) { runAllocation(groupId: $g, period: \"2026-10\") { period energy amount shares { accountId weight amount disposition entryId } } }",
        json!({"g": g}),
    )["runAllocation"]
        .clone();
    assert_eq!((run["period"].as_str(), run["energy"].as_str(), run["amount"].as_str()), (Some("2026-10"), Some("300"), Some("150.00")));
    let shares = run["shares"].as_array().unwrap();
    let share = |acc: &Value| shares.iter().find(|x| x["accountId"] == *acc).unwrap().clone();
    assert_eq!((share(&a)["amount"].as_str(), share(&a)["disposition"].as_str()), (Some("45.00"), Some("ON_BILL")));
    assert_eq!((share(&b)["amount"].as_str(), share(&b)["disposition"].as_str()), (Some("105.00"), Some("POSTED")));
    let entry =
        admin.ok("query($e: ID!) { ledgerEntry(id: $e) { kind amount } }", json!({"e": share(&b)["entryId"]}))["ledgerEntry"].clone();
    assert_eq!(entry, json!({"kind": "SHARED_AREA_CHARGE", "amount": "-105.00"}));
    assert_eq!(admin.ok("query($b: ID!) { account(id: $b) { balance } }", json!({"b": b}))["account"]["balance"], "395.00");
    let e = admin.fails("mutation($g: ID!) { runAllocation(groupId: $g, period: \"2026-10\") { amount } }", json!({"g": g}));
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
    let e = admin.fails("mutation($b: ID!) { markBillPaid(id: $b) { bill { state } } }", json!({"b": v2["id"]}));
    assert_eq!(e["code"], "CONFLICT", "a draft is issued before it is paid");
    admin.ok("mutation($b: ID!) { issueBill(id: $b) { state } }", json!({"b": v2["id"]}));
    let paid =
        admin.ok("mutation($b: ID!) { markBillPaid(id: $b) { bill { state paidAt } } }", json!({"b": v2["id"]}))["markBillPaid"]["bill"]
            .clone();
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

/// Shared areas without a common meter (a fixed amount) and weighed by the members' own
/// metered energy; each run kept to the fen and read back; a retired group left out; a bill
/// with its service-fee line run for one property, paid once through the ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_and_energy_weighted_shared_areas_and_a_bill_paid_once_through_the_ledger() {
    let app = TestApp::spawn().await;
    let admin = app.admin("shares").await;
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Yard"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let other = admin.ok(r#"mutation { createProperty(input: {name: "Other"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let flat = admin.ok(
        "mutation { createTariff(input: {name: \"Flat\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: FLAT, price: \"0.5\"}]}}) { id } }",
        json!({}),
    )["createTariff"]["id"]
        .clone();
    admin.ok("mutation($t: ID!) { assignTariff(input: {tariffId: $t}) }", json!({"t": flat}));
    let a_meter = register(&admin, &property, "000000000501", "POST_PAID");
    let c_meter = register(&admin, &property, "000000000502", "PLATFORM_PREPAID");
    let common = register(&admin, &property, "000000000503", "POST_PAID");
    let elsewhere = register(&admin, &other, "000000000504", "POST_PAID");
    let a = open(&admin, &customer(&admin, "Post-paid shop"), &a_meter.0, "0", None);
    let c = open(&admin, &customer(&admin, "Prepaid shop"), &c_meter.0, "0", Some("500.00"));
    open(&admin, &customer(&admin, "Other property"), &elsewhere.0, "0", None);
    app.app
        .store
        .store_readings(vec![
            reading(&a_meter, local(10, 1, 0, 0), "0.00", None, None),
            reading(&a_meter, local(10, 31, 23, 0), "600.00", None, None),
            reading(&c_meter, local(10, 1, 0, 0), "100.00", None, None),
            reading(&c_meter, local(10, 31, 23, 0), "300.00", None, None),
            reading(&common, local(10, 1, 0, 0), "0.00", None, None),
            reading(&common, local(10, 31, 23, 0), "80.00", None, None),
            reading(&elsewhere, local(10, 1, 0, 0), "0.00", None, None),
            reading(&elsewhere, local(10, 31, 23, 0), "10.00", None, None),
        ])
        .await
        .unwrap();
    // A 1 % service fee, set after the opening purchase.
    admin.ok(r#"mutation { setServiceFee(input: {percent: "1"}) { serviceFeePercent } }"#, json!({}));

    // Refused: both a meter and an amount, neither, weights for ENERGY, a negative amount.
    let group = "mutation($i: CreateAllocationGroupInput!) { createAllocationGroup(input: $i) { id meterId fixedAmount method } }";
    for (input, field) in [
        (
            json!({"name": "X", "meterId": common.0, "fixedAmount": "1", "method": "SHARES", "members": [{"accountId": a, "weight": "1"}]}),
            "fixedAmount",
        ),
        (json!({"name": "X", "method": "SHARES", "members": [{"accountId": a, "weight": "1"}]}), "meterId"),
        (json!({"name": "X", "meterId": common.0, "method": "ENERGY", "members": [{"accountId": a, "weight": "1"}]}), "members"),
        (json!({"name": "X", "fixedAmount": "-5", "method": "SHARES", "members": [{"accountId": a, "weight": "1"}]}), "fixedAmount"),
        (json!({"name": "X", "fixedAmount": "5.001", "method": "SHARES", "members": [{"accountId": a, "weight": "1"}]}), "fixedAmount"),
        (
            json!({"name": "X", "fixedAmount": "5", "method": "SHARES", "members": [{"accountId": a, "weight": "1"}, {"accountId": a, "weight": "2"}]}),
            "members",
        ),
    ] {
        let e = admin.fails(group, json!({"i": input}));
        assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("VALIDATION"), Some(field)), "{input}");
    }
    assert_eq!(admin.ok("{ allocationGroups { id } }", json!({}))["allocationGroups"], json!([]), "nothing was made");
    // 100.01 yuan of cleaning split 1 : 2; the lifts' 80 kWh (40.00 yuan) by the members'
    // own energy, 600 : 200 kWh.
    let cleaning = admin.ok(
        group,
        json!({"i": {"name": "Cleaning", "fixedAmount": "100.01", "method": "SHARES", "members": [{"accountId": a, "weight": "1"}, {"accountId": c, "weight": "2"}]}}),
    )["createAllocationGroup"]
        .clone();
    assert_eq!(
        (cleaning["meterId"].clone(), cleaning["fixedAmount"].as_str(), cleaning["method"].as_str()),
        (Value::Null, Some("100.01"), Some("SHARES"))
    );
    let lifts = admin.ok(
        group,
        json!({"i": {"name": "Lifts", "meterId": common.0, "method": "ENERGY", "members": [{"accountId": a}, {"accountId": c}]}}),
    )["createAllocationGroup"]
        .clone();
    assert_eq!(lifts["method"], "ENERGY");

    let run = "mutation($g: ID!) { runAllocation(groupId: $g, period: \"2026-10\") { energy amount shares { accountId weight amount disposition entryId } } }";
    let fixed = admin.ok(run, json!({"g": cleaning["id"]}))["runAllocation"].clone();
    let shares = |r: &Value| -> Vec<(String, String, String, String)> {
        let mut v: Vec<_> = r["shares"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                let who = if x["accountId"] == a { "A" } else { "C" };
                (
                    who.to_string(),
                    x["weight"].as_str().unwrap().to_string(),
                    x["amount"].as_str().unwrap().to_string(),
                    x["disposition"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    // 10001 fen × 1/3 = 3333.67, × 2/3 = 6667.33: the fen left over goes to the larger remainder.
    assert_eq!((fixed["energy"].clone(), fixed["amount"].as_str()), (Value::Null, Some("100.01")));
    assert_eq!(
        shares(&fixed),
        vec![("A".into(), "1".into(), "33.34".into(), "ON_BILL".into()), ("C".into(), "2".into(), "66.67".into(), "POSTED".into())]
    );
    let by_energy = admin.ok(run, json!({"g": lifts["id"]}))["runAllocation"].clone();
    assert_eq!((by_energy["energy"].as_str(), by_energy["amount"].as_str()), (Some("80"), Some("40.00")));
    assert_eq!(
        shares(&by_energy),
        vec![("A".into(), "600".into(), "30.00".into(), "ON_BILL".into()), ("C".into(), "200".into(), "10.00".into(), "POSTED".into())]
    );
    // The prepaid member's shares are its ledger entries, exactly.
    for (r, amount) in [(&fixed, "-66.67"), (&by_energy, "-10.00")] {
        let id = r["shares"].as_array().unwrap().iter().find(|x| x["accountId"] == c).unwrap()["entryId"].clone();
        let e = admin.ok("query($e: ID!) { ledgerEntry(id: $e) { kind amount accountId } }", json!({"e": id}))["ledgerEntry"].clone();
        assert_eq!(e, json!({"kind": "SHARED_AREA_CHARGE", "amount": amount, "accountId": c}));
    }
    // Read back from the group, the same figures.
    let groups = admin.ok("{ allocationGroups { id runs { period amount shares { amount } } } }", json!({}))["allocationGroups"].clone();
    let read = groups.as_array().unwrap().iter().find(|g| g["id"] == cleaning["id"]).unwrap()["runs"].clone();
    let amounts: Vec<&str> = read[0]["shares"].as_array().unwrap().iter().map(|s| s["amount"].as_str().unwrap()).collect();
    let mut sorted = amounts.clone();
    sorted.sort();
    assert_eq!((read[0]["period"].as_str(), read[0]["amount"].as_str(), sorted), (Some("2026-10"), Some("100.01"), vec!["33.34", "66.67"]));

    // The bill run for the yard only: the other property's post-paid account waits.
    let bills = admin.ok(
        "mutation($p: ID!) { runBills(period: \"2026-10\", propertyId: $p) { created skipped { accountId reason } } }",
        json!({"p": property}),
    )["runBills"]
        .clone();
    assert_eq!(bills, json!({"created": 1, "skipped": []}));
    let bill = admin.ok("query($a: ID!) { bills(accountId: $a) { id total lines { kind quantity amount } } }", json!({"a": a}))["bills"][0]
        .clone();
    let lines: Vec<(String, String, String)> = bill["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["kind"].as_str().unwrap().into(), l["quantity"].as_str().unwrap().into(), l["amount"].as_str().unwrap().into()))
        .collect();
    // 600 kWh × 0.5 = 300.00; cleaning 33.34; lifts 30.00; 1 % of 363.34 = 3.6334 → 3.63.
    assert_eq!(
        lines,
        vec![
            ("ENERGY".into(), "600".into(), "300.00".into()),
            ("SHARED_AREA".into(), "1".into(), "33.34".into()),
            ("SHARED_AREA".into(), "60".into(), "30.00".into()),
            ("SERVICE_FEE".into(), "1".into(), "3.63".into()),
        ]
    );
    assert_eq!(bill["total"], "366.97");
    let e = admin.fails("mutation { runBills(period: \"2026-10\", propertyId: \"not-an-id\") { created } }", json!({}));
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("VALIDATION"), Some("propertyId")));

    // Paid once, through the ledger: a wrong amount changes nothing; the second payment is refused.
    admin.ok("mutation($b: ID!) { issueBill(id: $b) { state } }", json!({"b": bill["id"]}));
    let pay = "mutation($b: ID!, $x: Decimal) { markBillPaid(id: $b, amount: $x, channel: TRANSFER, reference: \"BANK-7781\") {
        bill { state paidAt } posting { receiptNo account { balance } entries { kind amount detail } } } }";
    let e = admin.fails(pay, json!({"b": bill["id"], "x": "366.96"}));
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("VALIDATION"), Some("amount")));
    assert_eq!(admin.ok("query($b: ID!) { bill(id: $b) { state } }", json!({"b": bill["id"]}))["bill"]["state"], "ISSUED");
    let paid = admin.ok(pay, json!({"b": bill["id"], "x": "366.97"}))["markBillPaid"].clone();
    assert_eq!(paid["bill"]["state"], "PAID");
    assert!(paid["posting"]["receiptNo"].is_i64(), "the payment has a receipt: {paid}");
    assert_eq!(paid["posting"]["account"]["balance"], "0.00", "a post-paid account's balance does not move");
    assert_eq!(
        paid["posting"]["entries"],
        json!([{"kind": "BILL_PAYMENT", "amount": "366.97", "detail": "TRANSFER BANK-7781"}, {"kind": "BILL_SETTLEMENT", "amount": "-366.97", "detail": ""}])
    );
    let e = admin.fails(pay, json!({"b": bill["id"], "x": null}));
    assert_eq!(e["code"], "CONFLICT");
    let entries = admin.ok("query($a: ID!) { account(id: $a) { balance ledger(first: 50) { items { kind } } } }", json!({"a": a}));
    assert_eq!(entries["account"]["balance"], "0.00");
    let kinds: Vec<String> =
        entries["account"]["ledger"]["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect();
    assert_eq!(kinds.iter().filter(|k| k.starts_with("BILL_")).count(), 2, "paid once: {kinds:?}");

    // Retired, the cleaning group is left out of lists and runs but its runs stay readable.
    admin.ok("mutation($g: ID!) { retireAllocationGroup(id: $g) { retiredAt } }", json!({"g": cleaning["id"]}));
    let e = admin.fails("mutation($g: ID!) { retireAllocationGroup(id: $g) { id } }", json!({"g": cleaning["id"]}));
    assert_eq!(e["code"], "CONFLICT");
    let ids: Vec<Value> = admin.ok("{ allocationGroups { id } }", json!({}))["allocationGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].clone())
        .collect();
    assert_eq!(ids, vec![lifts["id"].clone()]);
    let all = admin.ok("{ allocationGroups(includeRetired: true) { id runs { amount } } }", json!({}))["allocationGroups"].clone();
    assert!(all.as_array().unwrap().iter().any(|g| g["id"] == cleaning["id"] && g["runs"][0]["amount"] == "100.01"), "{all}");
    let e = admin.fails("mutation($g: ID!) { runAllocation(groupId: $g, period: \"2026-09\") { amount } }", json!({"g": cleaning["id"]}));
    assert_eq!(e["code"], "CONFLICT");
    // Another tenant's administrator cannot reach either group.
    let stranger = app.admin("shares-other").await;
    let e = stranger.fails("mutation($g: ID!) { retireAllocationGroup(id: $g) { id } }", json!({"g": lifts["id"]}));
    assert_eq!(e["code"], "NOT_FOUND");
    let e = stranger.fails(run, json!({"g": lifts["id"]}));
    assert_eq!(e["code"], "NOT_FOUND");
}
