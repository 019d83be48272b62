//! The portal's desk through GraphQL: the overview dashboard against hand-computed figures,
//! the meter monitor's fee states and filter, the finance list across accounts (filters,
//! totals, a cursor walk), a meter's trend, and property scope on every list a scoped
//! operator can open.

use chrono::{DateTime, Duration, Utc};
use mqtt_bridge::dlt645::Address;
use mqtt_bridge::port::{MeterReading, ReadTime, Readings};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;
use tests::{Admin, TestApp, graphql};

use crate::identity::{code, create_operator, role_id};
use crate::money::feed;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Shanghai's midnight of the local day `days` before today (UTC+8, no daylight saving).
fn local_midnight(days_ago: i64) -> DateTime<Utc> {
    let now_local = Utc::now() + Duration::hours(8);
    let day = now_local.date_naive() - Duration::days(days_ago);
    day.and_hms_opt(0, 0, 0).unwrap().and_utc() - Duration::hours(8)
}

fn reading(device: &str, address: &str, at: DateTime<Utc>, values: Readings) -> MeterReading {
    MeterReading {
        device: device.to_string(),
        address: Address::parse(address).unwrap(),
        read_at: ReadTime::Instant(at),
        received_at: Utc::now().max(at),
        values,
    }
}

fn energy(total: &str) -> Readings {
    Readings { energy_total: Some(d(total)), ..Readings::default() }
}

pub(crate) struct Desk {
    pub(crate) mall: String,
    pub(crate) west: String,
    /// Mall's meters (id, device login, address); the first two in one account.
    pub(crate) meters: Vec<(String, String, String)>,
    pub(crate) west_meter: (String, String, String),
    pub(crate) mall_account: String,
    pub(crate) west_account: String,
}

fn register(admin: &Admin, property: &str, address: &str, pt: i64, ct: i64) -> (String, String, String) {
    let r = admin.ok(
        "mutation($p: ID!, $a: String!, $pt: Int!, $ct: Int!) { registerMeter(input: {propertyId: $p, address: $a, phases: 3, linkType: FOUR_G, ptRatio: $pt, ctRatio: $ct}) { meter { id } credentials { username } } }",
        json!({"p": property, "a": address, "pt": pt, "ct": ct}),
    );
    let m = &r["registerMeter"];
    (m["meter"]["id"].as_str().unwrap().into(), m["credentials"]["username"].as_str().unwrap().into(), address.into())
}

fn open_account(admin: &Admin, name: &str, meters: &[&str], initial: &str) -> String {
    let c = admin.ok("mutation($n: String!) { createCustomer(input: {name: $n, phone: \"13800001111\"}) { id } }", json!({"n": name}))
        ["createCustomer"]["id"]
        .clone();
    admin.ok(
        "mutation($c: ID!, $m: [ID!]!, $i: Decimal!) { openAccount(input: {customerId: $c, meterIds: $m, initialPurchase: {amount: $i, channel: CASH}, thresholds: {creditLimit: \"0\", alarm1: \"20.00\", alarm2: \"10.00\"}}) { account { id } } }",
        json!({"c": c, "m": meters, "i": initial}),
    )["openAccount"]["account"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Mall: three meters (two in one account, one not opened); West: one meter with PT 10 and
/// CT 2 in its own account; a flat tariff at 1.20.
pub(crate) fn desk(admin: &Admin) -> Desk {
    let id = |v: &Value, k: &str| v[k]["id"].as_str().unwrap().to_string();
    let mall = id(&admin.ok(r#"mutation { createProperty(input: {name: "Mall"}) { id } }"#, json!({})), "createProperty");
    let west = id(&admin.ok(r#"mutation { createProperty(input: {name: "West"}) { id } }"#, json!({})), "createProperty");
    let area = id(
        &admin.ok("mutation($p: ID!) { createArea(input: {propertyId: $p, name: \"Floor 1\"}) { id } }", json!({"p": mall})),
        "createArea",
    );
    let meters: Vec<_> = (0..3).map(|i| register(admin, &mall, &format!("{:012}", 700 + i), 1, 1)).collect();
    admin.ok("mutation($m: ID!, $a: ID!) { updateMeter(input: {id: $m, areaId: $a}) { id } }", json!({"m": meters[0].0, "a": area}));
    let west_meter = register(admin, &west, "000000000799", 10, 2);
    let t = admin.ok(
        "mutation { createTariff(input: {name: \"Flat\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: FLAT, price: \"1.20\"}]}}) { id } }",
        json!({}),
    )["createTariff"]["id"]
        .clone();
    admin.ok("mutation($t: ID!) { assignTariff(input: {tariffId: $t}) }", json!({"t": t}));
    let mall_account = open_account(admin, "Mall shop", &[&meters[0].0, &meters[1].0], "100.00");
    let west_account = open_account(admin, "West shop", &[&west_meter.0], "50.00");
    Desk { mall, west, meters, west_meter, mall_account, west_account }
}

const OVERVIEW: &str = "query($p: ID) { overview(propertyId: $p) {
    meters { total notOpened closed tripped holdPower prepaid postpaid online lost neverSeen }
    gateways { total online lost neverSeen }
    energyToday { hour energy } energyYesterday { hour energy }
    energyThisMonth energyLastMonth salesThisMonth salesLastMonth
    rechargeByChannel { channel amount count } activeAlarms
    lostMeters { id } lostGateways { id } } }";

fn hour(series: &Value, h: u64) -> Decimal {
    let found = series.as_array().unwrap().iter().find(|p| p["hour"] == h);
    found.map_or(Decimal::ZERO, |p| d(p["energy"].as_str().unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_overview_counts_and_sums_what_was_stored_in_the_callers_scope() {
    let app = TestApp::spawn().await;
    let admin = app.admin("desk-overview").await;
    let s = desk(&admin);
    admin.ok(
        "mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"20.00\", channel: TRANSFER}) { receiptNo } }",
        json!({"a": s.mall_account}),
    );
    // Yesterday, local: Mall's first meter 100.00 → 101.50 → 104.00 kWh across 10:00 and
    // 11:00; West's meter 49.90 → 50.10 (×PT 10 ×CT 2) across 10:00.
    let y = local_midnight(1);
    let (m0, w) = (&s.meters[0], &s.west_meter);
    feed(
        &app,
        vec![
            reading(&m0.1, &m0.2, y + Duration::minutes(9 * 60 + 30), energy("100.00")),
            reading(&m0.1, &m0.2, y + Duration::minutes(10 * 60 + 30), energy("101.50")),
            reading(&m0.1, &m0.2, y + Duration::minutes(11 * 60 + 10), energy("104.00")),
            reading(&w.1, &w.2, y + Duration::minutes(9 * 60 + 50), energy("49.90")),
            reading(&w.1, &w.2, y + Duration::minutes(10 * 60 + 20), energy("50.10")),
        ],
    )
    .await;

    let all = admin.ok(OVERVIEW, json!({}))["overview"].clone();
    let m = &all["meters"];
    assert_eq!(
        (m["total"].as_u64(), m["notOpened"].as_u64(), m["closed"].as_u64(), m["tripped"].as_u64()),
        (Some(4), Some(1), Some(3), Some(0)),
        "{m}"
    );
    assert_eq!((m["prepaid"].as_u64(), m["postpaid"].as_u64()), (Some(4), Some(0)));
    assert_eq!((m["online"].as_u64(), m["neverSeen"].as_u64()), (Some(2), Some(2)), "two meters reported");
    assert_eq!(all["energyYesterday"].as_array().unwrap().len(), 24, "yesterday has all its hours");
    assert_eq!(hour(&all["energyYesterday"], 9), d("0"));
    assert_eq!(hour(&all["energyYesterday"], 10), d("1.50") + d("4.00"));
    assert_eq!(hour(&all["energyYesterday"], 11), d("2.50"));
    let yesterday_total: Decimal = all["energyYesterday"].as_array().unwrap().iter().map(|p| d(p["energy"].as_str().unwrap())).sum();
    assert_eq!(yesterday_total, d("8.00"));
    // This month holds yesterday unless today is the first.
    let same_month = (Utc::now() + Duration::hours(8)).format("%m").to_string() == (y + Duration::hours(8)).format("%m").to_string();
    assert_eq!(d(all["energyThisMonth"].as_str().unwrap()), if same_month { d("8.00") } else { d("0") });
    let channels: Vec<(String, String, u64)> = all["rechargeByChannel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["channel"].as_str().unwrap().into(), c["amount"].as_str().unwrap().into(), c["count"].as_u64().unwrap()))
        .collect();
    assert!(channels.contains(&("CASH".into(), "150.00".into(), 2)), "{channels:?}");
    assert!(channels.contains(&("TRANSFER".into(), "20.00".into(), 1)), "{channels:?}");
    assert_eq!(all["salesThisMonth"], "170.00");
    let active = admin.ok("{ alarms(activeOnly: true) { id } }", json!({}))["alarms"].as_array().unwrap().len();
    assert_eq!(all["activeAlarms"].as_u64(), Some(active as u64), "the bell counts what the alarm list holds");

    // One property, by filter and by scope: the same figures.
    let west = admin.ok(OVERVIEW, json!({"p": s.west}))["overview"].clone();
    assert_eq!(west["meters"]["total"].as_u64(), Some(1));
    assert_eq!(hour(&west["energyYesterday"], 10), d("4.00"));
    assert_eq!(west["salesThisMonth"], "50.00");
    create_operator(&admin, "mall-desk", &role_id(&admin, "tenant admin"), Some(vec![&s.mall]));
    let mall = app.session(&admin.tenant, "mall-desk").await;
    let scoped = graphql(app.app.http_addr, Some(&mall), OVERVIEW, json!({}));
    let scoped = &scoped["data"]["overview"];
    assert_eq!(scoped["meters"]["total"].as_u64(), Some(3), "{scoped}");
    assert_eq!(hour(&scoped["energyYesterday"], 10), d("1.50"));
    assert_eq!(scoped["salesThisMonth"], "120.00");
    // Asking for another property by id: refused as missing, in every spelling.
    for spelling in [s.west.clone(), s.west.to_uppercase(), s.west.replace('-', "")] {
        let v = graphql(app.app.http_addr, Some(&mall), OVERVIEW, json!({"p": spelling}));
        assert_eq!(code(&v), "NOT_FOUND", "{v}");
    }
    // Another tenant sees none of it.
    let other = app.admin("desk-stranger").await;
    let theirs = other.ok(OVERVIEW, json!({}))["overview"].clone();
    assert_eq!(theirs["meters"]["total"].as_u64(), Some(0));
    assert_eq!(theirs["salesThisMonth"], "0.00");
    assert_eq!(code(&other.gql(OVERVIEW, json!({"p": s.mall}))), "NOT_FOUND");
}

const MONITOR: &str = "query($f: MeterFilter) { meters(filter: $f, pageSize: 100) { total items { address feeState balance accountNumber customerName areaName priceNow rateNow linkState } } }";

fn monitor(admin: &Admin, filter: Value) -> Value {
    admin.ok(MONITOR, json!({"f": filter}))["meters"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_meter_monitor_shows_account_customer_price_and_fee_state_and_filters_by_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin("desk-monitor").await;
    let s = desk(&admin);
    let all = monitor(&admin, json!({"propertyId": s.mall}));
    assert_eq!(all["total"].as_u64(), Some(3));
    let first = &all["items"][0];
    assert_eq!(first["address"], "000000000700");
    assert_eq!(first["feeState"], "NORMAL");
    assert_eq!(first["balance"], "100.00");
    assert_eq!(first["customerName"], "Mall shop");
    assert_eq!(first["areaName"], "Floor 1");
    assert_eq!(first["priceNow"], "1.20");
    assert_eq!(first["rateNow"], "FLAT");
    assert_eq!(all["items"][2]["feeState"], "NOT_OPENED");
    assert_eq!(all["items"][2]["balance"], Value::Null);
    assert_eq!(monitor(&admin, json!({"feeState": "NOT_OPENED"}))["total"].as_u64(), Some(1));

    // The balance falls to alarm 1, then alarm 2, then the meter reports its relay open.
    let spend = |amount: &str| {
        admin.ok(
            "mutation($a: ID!, $x: Decimal!) { refund(input: {accountId: $a, amount: $x}) { receiptNo } }",
            json!({"a": s.mall_account, "x": amount}),
        )
    };
    spend("85.00");
    assert_eq!(monitor(&admin, json!({"feeState": "ALARM_1"}))["total"].as_u64(), Some(2), "15.00 is at or below alarm 1");
    spend("7.00");
    assert_eq!(monitor(&admin, json!({"feeState": "ALARM_2"}))["total"].as_u64(), Some(2));
    let m0 = &s.meters[0];
    let open_relay = Readings { energy_total: Some(d("10")), status_word_3: Some(1 << 4), ..Readings::default() };
    feed(&app, vec![reading(&m0.1, &m0.2, Utc::now() - Duration::minutes(1), open_relay)]).await;
    let tripped = monitor(&admin, json!({"feeState": "TRIPPED"}));
    assert_eq!(tripped["total"].as_u64(), Some(1), "{tripped}");
    assert_eq!(tripped["items"][0]["address"], m0.2);
    // Hold power outranks everything but not opened.
    admin.ok("mutation($a: ID!) { setHoldPower(accountId: $a, hold: true) { account { holdPower } } }", json!({"a": s.mall_account}));
    assert_eq!(monitor(&admin, json!({"feeState": "HOLD_POWER"}))["total"].as_u64(), Some(2));
    let counts = admin.ok("{ overview { meters { holdPower tripped closed } } }", json!({}))["overview"]["meters"].clone();
    assert_eq!(counts["holdPower"].as_u64(), Some(2), "{counts}");
    assert_eq!(counts["tripped"].as_u64(), Some(0), "held meters count as closed");
    // A bad state is refused by the schema, and changes nothing.
    let bad = admin.gql(MONITOR, json!({"f": {"feeState": "BROKE"}}));
    assert!(bad["errors"].is_array(), "{bad}");
}

const ENTRIES: &str = "query($f: EntryFilter, $first: Int!, $after: String) { ledgerEntries(filter: $f, first: $first, after: $after) {
    items { accountNumber payeeId entry { id kind amount operator channel accountId } } pageInfo { endCursor hasNextPage } } }";
const TOTALS: &str = "query($f: EntryFilter) { ledgerTotals(filter: $f) { count credits debits net } }";

fn walk(app: &TestApp, token: &str, filter: Value, first: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let v = graphql(app.app.http_addr, Some(token), ENTRIES, json!({"f": filter, "first": first, "after": after}));
        let page = v["data"]["ledgerEntries"].clone();
        assert!(page.is_object(), "{v}");
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        if page["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_finance_list_filters_totals_and_pages_across_accounts_within_scope() {
    let app = TestApp::spawn().await;
    let admin = app.admin("desk-finance").await;
    let s = desk(&admin);
    let recharge = |account: &str, amount: &str, channel: &str| {
        admin.ok(
            "mutation($a: ID!, $x: Decimal!, $c: RechargeChannel!) { recharge(input: {accountId: $a, amount: $x, channel: $c}) { entries { id } } }",
            json!({"a": account, "x": amount, "c": channel}),
        )["recharge"]["entries"][0]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    recharge(&s.mall_account, "30.00", "TRANSFER");
    let to_reverse = recharge(&s.west_account, "12.34", "CASH");
    admin.ok("mutation($e: ID!) { reverseEntry(entryId: $e) { receiptNo } }", json!({"e": to_reverse}));

    let token = admin.token.clone();
    let everything = walk(&app, &token, json!({}), 1000);
    assert_eq!(everything.len(), 5, "two openings, two recharges, one reversal");
    assert!(everything.iter().all(|e| e["entry"]["operator"] == "admin"), "the operator is recorded");
    // A walk one by one returns the same entries in the same order.
    let one_by_one = walk(&app, &token, json!({}), 1);
    assert_eq!(one_by_one, everything);
    // Filters.
    let cash = walk(&app, &token, json!({"channel": "CASH"}), 100);
    assert_eq!(cash.len(), 3);
    assert!(cash.iter().all(|e| e["entry"]["kind"] == "RECHARGE_CASH" && e["entry"]["channel"] == "CASH"));
    let west = walk(&app, &token, json!({"propertyId": s.west}), 100);
    assert_eq!(west.len(), 3);
    assert!(west.iter().all(|e| e["entry"]["accountId"] == s.west_account.as_str()));
    let reversals = walk(&app, &token, json!({"kind": "REVERSAL"}), 100);
    assert_eq!(reversals.len(), 1);
    assert_eq!(reversals[0]["entry"]["amount"], "-12.34");
    assert!(walk(&app, &token, json!({"operator": "nobody"}), 100).is_empty());
    let future = (Utc::now() + Duration::days(1)).to_rfc3339();
    assert!(walk(&app, &token, json!({"from": future}), 100).is_empty());
    // Totals agree with the items.
    let totals = admin.ok(TOTALS, json!({"f": {}}))["ledgerTotals"].clone();
    let sum: Decimal = everything.iter().map(|e| d(e["entry"]["amount"].as_str().unwrap())).sum();
    assert_eq!(totals["count"].as_u64(), Some(5));
    assert_eq!(d(totals["net"].as_str().unwrap()), sum);
    assert_eq!(totals["credits"], "192.34");
    assert_eq!(totals["debits"], "-12.34");
    // Bad input: a clear error.
    for (filter, first) in [(json!({"channel": "BITCOIN"}), 10), (json!({}), 0), (json!({"from": future, "to": future}), 10)] {
        let v = admin.gql(ENTRIES, json!({"f": filter, "first": first}));
        assert_eq!(code(&v), "VALIDATION", "{filter} {first}: {v}");
    }
    let v = admin.gql(ENTRIES, json!({"first": 10, "after": "not-a-cursor"}));
    assert_eq!(code(&v), "VALIDATION", "{v}");

    // A Mall-only operator: Mall's entries, its totals; West's account id is missing.
    create_operator(&admin, "mall-cashier", &role_id(&admin, "tenant admin"), Some(vec![&s.mall]));
    let mall = app.session(&admin.tenant, "mall-cashier").await;
    let seen = walk(&app, &mall, json!({}), 100);
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|e| e["entry"]["accountId"] == s.mall_account.as_str()));
    let scoped_totals = graphql(app.app.http_addr, Some(&mall), TOTALS, json!({"f": {}}));
    assert_eq!(scoped_totals["data"]["ledgerTotals"]["credits"], "130.00", "{scoped_totals}");
    let v = graphql(app.app.http_addr, Some(&mall), ENTRIES, json!({"f": {"accountId": s.west_account}, "first": 10}));
    assert_eq!(code(&v), "NOT_FOUND", "{v}");
    // A West entry as the cursor is refused exactly like an id that never was: it says nothing.
    let west_cursor = graphql(app.app.http_addr, Some(&mall), ENTRIES, json!({"first": 10, "after": to_reverse}));
    let no_cursor = graphql(app.app.http_addr, Some(&mall), ENTRIES, json!({"first": 10, "after": uuid::Uuid::new_v4().to_string()}));
    assert_eq!(code(&west_cursor), "VALIDATION", "{west_cursor}");
    assert_eq!(west_cursor["errors"][0]["message"], no_cursor["errors"][0]["message"]);
    // A cursor outside the filter is refused too (admin, CASH entries, a reversal's id).
    let v = admin.gql(ENTRIES, json!({"f": {"channel": "CASH"}, "first": 10, "after": reversals[0]["entry"]["id"]}));
    assert_eq!(code(&v), "VALIDATION", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_meters_trend_sums_energy_and_averages_values_per_bucket_on_the_primary_side() {
    let app = TestApp::spawn().await;
    let admin = app.admin("desk-trend").await;
    let s = desk(&admin);
    let w = &s.west_meter;
    let start = local_midnight(2);
    let at = |min: i64| start + Duration::minutes(min);
    let values = |e: &str, v: &str| Readings { energy_total: Some(d(e)), voltage: [Some(d(v)), None, None], ..Readings::default() };
    feed(
        &app,
        vec![
            reading(&w.1, &w.2, at(50), values("10.00", "220.0")),
            reading(&w.1, &w.2, at(70), values("10.10", "230.0")),
            reading(&w.1, &w.2, at(100), values("10.25", "240.0")),
            reading(&w.1, &w.2, at(190), values("10.30", "225.0")),
        ],
    )
    .await;
    let q = "query($m: ID!, $f: DateTime!, $t: DateTime!, $b: TrendBucket!) { meterTrend(meterId: $m, from: $f, to: $t, bucket: $b) { at energy voltageA } }";
    let hourly = admin.ok(q, json!({"m": w.0, "f": at(60).to_rfc3339(), "t": at(240).to_rfc3339(), "b": "HOUR"}))["meterTrend"].clone();
    let points = hourly.as_array().unwrap();
    assert_eq!(points.len(), 2, "{hourly}");
    // 01:00–02:00: from 10.00 (read before the range) to 10.25, ×20; volts ×10.
    assert_eq!(d(points[0]["energy"].as_str().unwrap()), d("5.00"));
    assert_eq!(d(points[0]["voltageA"].as_str().unwrap()), d("2350"));
    assert_eq!(d(points[1]["energy"].as_str().unwrap()), d("1.00"));
    let daily =
        admin.ok(q, json!({"m": w.0, "f": start.to_rfc3339(), "t": (start + Duration::days(1)).to_rfc3339(), "b": "DAY"}))["meterTrend"]
            .clone();
    assert_eq!(daily.as_array().unwrap().len(), 1);
    assert_eq!(d(daily[0]["energy"].as_str().unwrap()), d("6.00"), "10.00 → 10.30, ×20");
    // Bad ranges are refused; another tenant's meter is empty.
    let v = admin.gql(q, json!({"m": w.0, "f": at(60).to_rfc3339(), "t": at(0).to_rfc3339(), "b": "HOUR"}));
    assert_eq!(code(&v), "VALIDATION");
    let v = admin.gql(q, json!({"m": w.0, "f": start.to_rfc3339(), "t": (start + Duration::days(40)).to_rfc3339(), "b": "HOUR"}));
    assert_eq!(code(&v), "VALIDATION");
    let other = app.admin("desk-trend-stranger").await;
    let v = other.gql(q, json!({"m": w.0, "f": start.to_rfc3339(), "t": at(240).to_rfc3339(), "b": "HOUR"}));
    assert!(v["data"]["meterTrend"].as_array().is_none_or(|a| a.is_empty()), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_list_a_scoped_operator_opens_holds_only_its_properties() {
    let app = TestApp::spawn().await;
    let admin = app.admin("desk-lists").await;
    let s = desk(&admin);
    // Something in every list on both sides: commands, bills run later, alarms from balance.
    for (m, _, _) in [&s.meters[0], &s.west_meter] {
        admin.ok("mutation($m: ID!) { readMeterNow(input: {meterId: $m}) { id } }", json!({"m": m}));
    }
    for a in [&s.mall_account, &s.west_account] {
        admin.ok(
            "mutation($a: ID!) { setAccountTerms(input: {accountId: $a, thresholds: {creditLimit: \"0\", alarm1: \"500.00\", alarm2: \"400.00\"}}) { account { balanceState } } }",
            json!({"a": a}),
        );
    }
    let all_alarms = admin.ok("{ alarms { subjectId } }", json!({}))["alarms"].as_array().unwrap().len();
    assert!(all_alarms >= 2, "balance alarms on both sides");
    create_operator(&admin, "mall-only", &role_id(&admin, "tenant admin"), Some(vec![&s.mall]));
    let mall = app.session(&admin.tenant, "mall-only").await;
    let q = |query: &str| graphql(app.app.http_addr, Some(&mall), query, json!({}));
    let accounts = q("{ accounts { total items { id } } }");
    assert_eq!(accounts["data"]["accounts"]["total"].as_u64(), Some(1), "{accounts}");
    assert_eq!(accounts["data"]["accounts"]["items"][0]["id"], s.mall_account.as_str());
    let commands = q("{ commands { meterId } }");
    let commands = commands["data"]["commands"].as_array().unwrap();
    assert!(!commands.is_empty());
    assert!(commands.iter().all(|c| c["meterId"] != s.west_meter.0.as_str()), "{commands:?}");
    let alarms = q("{ alarms { subjectId } }");
    let alarms = alarms["data"]["alarms"].as_array().unwrap();
    assert!(!alarms.is_empty());
    assert!(alarms.iter().all(|a| a["subjectId"] != s.west_account.as_str() && a["subjectId"] != s.west_meter.0.as_str()), "{alarms:?}");
    let meters = q("{ meters(pageSize: 100) { total } gateways { total } }");
    assert_eq!(meters["data"]["meters"]["total"].as_u64(), Some(3));
    let customers = q("{ customers(pageSize: 100) { items { name } } }");
    let names: Vec<&str> =
        customers["data"]["customers"]["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"Mall shop") && !names.contains(&"West shop"), "{names:?}");
    let bills = q("{ bills { accountId } }");
    assert!(bills["data"]["bills"].is_array(), "{bills}");
    // A customer whose account lost its meters (released, or the account closed) is nobody's
    // to a scoped operator: not listed, not found, not editable.
    let west_customer = admin.ok("{ customers(q: \"West shop\") { items { id } } }", json!({}))["customers"]["items"][0]["id"].clone();
    admin.ok("mutation($m: ID!) { releaseMeter(meterId: $m) }", json!({"m": s.west_meter.0}));
    let customers = q("{ customers(pageSize: 100) { items { name } } }");
    let names: Vec<&str> =
        customers["data"]["customers"]["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(!names.contains(&"West shop"), "{names:?}");
    let edit = graphql(
        app.app.http_addr,
        Some(&mall),
        "mutation($c: ID!) { updateCustomer(input: {id: $c, name: \"Mine now\", phone: \"13800000000\"}) { id } }",
        json!({"c": west_customer}),
    );
    assert_eq!(code(&edit), "NOT_FOUND", "{edit}");
    // A customer with no account yet is anyone's to open one for.
    admin.ok("mutation { createCustomer(input: {name: \"Newcomer\", phone: \"13800002222\"}) { id } }", json!({}));
    let customers = q("{ customers(q: \"Newcomer\") { total } }");
    assert_eq!(customers["data"]["customers"]["total"].as_u64(), Some(1), "{customers}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_desk_finds_accounts_customers_commands_and_alarms_by_what_people_type_and_prices_a_fee_before_paying() {
    let app = TestApp::spawn().await;
    let admin = app.admin("desk-search").await;
    let s = desk(&admin);
    // Text search: customers by name, accounts by the customer's name or their number.
    let customers = admin.ok("{ customers(q: \"West\") { total items { name } } }", json!({}))["customers"].clone();
    assert_eq!(customers["total"].as_u64(), Some(1));
    assert_eq!(customers["items"][0]["name"], "West shop");
    assert_eq!(admin.ok("{ customers(q: \"%\") { total } }", json!({}))["customers"]["total"].as_u64(), Some(0), "wildcards are literal");
    let accounts = admin.ok("{ accounts(q: \"mall\") { total items { id number } } }", json!({}))["accounts"].clone();
    assert_eq!(accounts["total"].as_u64(), Some(1), "{accounts}");
    assert_eq!(accounts["items"][0]["id"], s.mall_account.as_str());
    let number = accounts["items"][0]["number"].as_str().unwrap().to_string();
    let by_number = admin.ok("query($q: String) { accounts(q: $q) { items { id } } }", json!({"q": number}))["accounts"]["items"].clone();
    assert_eq!(by_number[0]["id"], s.mall_account.as_str());
    // Commands by status and kind.
    admin.ok("mutation($m: ID!) { readMeterNow(input: {meterId: $m}) { id } }", json!({"m": s.meters[0].0}));
    admin.ok("mutation($m: ID!) { tripMeter(input: {meterId: $m}) { id } }", json!({"m": s.meters[1].0}));
    let reads = admin.ok("{ commands(kind: \"READ\") { kind meterId } }", json!({}))["commands"].clone();
    assert!(!reads.as_array().unwrap().is_empty() && reads.as_array().unwrap().iter().all(|c| c["kind"] == "READ"), "{reads}");
    let trips = admin.ok("{ commands(kind: \"TRIP\", status: \"QUEUED\") { kind status meterId } }", json!({}))["commands"].clone();
    assert!(trips.as_array().unwrap().iter().all(|c| c["kind"] == "TRIP" && c["status"] == "QUEUED"), "{trips}");
    assert_eq!(code(&admin.gql("{ commands(kind: \"EXPLODE\") { id } }", json!({}))), "VALIDATION");
    // Alarms carry what people call their subject and its property, and filter by property.
    for a in [&s.mall_account, &s.west_account] {
        admin.ok(
            "mutation($a: ID!) { setAccountTerms(input: {accountId: $a, thresholds: {creditLimit: \"0\", alarm1: \"500.00\", alarm2: \"400.00\"}}) { account { id } } }",
            json!({"a": a}),
        );
    }
    let west =
        admin.ok("query($p: ID) { alarms(propertyId: $p) { subjectId subjectLabel propertyId } }", json!({"p": s.west}))["alarms"].clone();
    let west = west.as_array().unwrap();
    assert!(!west.is_empty());
    let west_number = admin.ok("query($a: ID!) { account(id: $a) { number } }", json!({"a": s.west_account}))["account"]["number"].clone();
    for a in west {
        assert_eq!(a["propertyId"], s.west.as_str());
        assert_eq!(a["subjectId"], s.west_account.as_str());
        assert_eq!(a["subjectLabel"], west_number);
    }
    // The fee a recharge would take, by the property's own rule.
    admin.ok(
        "mutation($p: ID!) { setServiceFee(input: {propertyId: $p, percent: \"1.5\", fixed: \"0.50\"}) { serviceFeeFixed } }",
        json!({"p": s.west}),
    );
    let fee = |account: &str, amount: &str| {
        admin.gql("query($a: ID!, $x: Decimal!) { rechargeFee(accountId: $a, amount: $x) }", json!({"a": account, "x": amount}))
    };
    assert_eq!(fee(&s.west_account, "100.00")["data"]["rechargeFee"], "2.00");
    assert_eq!(fee(&s.mall_account, "100.00")["data"]["rechargeFee"], "0.00");
    assert_eq!(code(&fee(&s.west_account, "-1")), "VALIDATION");
    let other = app.admin("desk-search-stranger").await;
    assert_eq!(code(&other.gql("query($a: ID!) { rechargeFee(accountId: $a, amount: \"1\") }", json!({"a": s.west_account}))), "NOT_FOUND");
    let foreign = other.ok("query($p: ID) { alarms(propertyId: $p) { id } }", json!({"p": s.west}))["alarms"].clone();
    assert_eq!(foreign.as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_name_their_meter_and_batches_are_listed_within_scope() {
    let app = TestApp::spawn().await;
    let admin = app.admin("desk-batches").await;
    let s = desk(&admin);
    let batch = "mutation($p: ID!) { batchCommand(input: {kind: \"READ\", selection: {propertyId: $p}}) { id total } }";
    let mall_batch = admin.ok(batch, json!({"p": s.mall}))["batchCommand"].clone();
    let west_batch = admin.ok(batch, json!({"p": s.west}))["batchCommand"].clone();
    assert_eq!(mall_batch["total"].as_u64(), Some(3));
    let listed = admin.ok("{ commandBatches { id total } }", json!({}))["commandBatches"].clone();
    let ids: Vec<&Value> = listed.as_array().unwrap().iter().map(|b| &b["id"]).collect();
    assert_eq!(ids, vec![&west_batch["id"], &mall_batch["id"]], "newest first");
    let commands = admin.ok("{ commands(kind: \"READ\") { meterId meterAddress } }", json!({}))["commands"].clone();
    for c in commands.as_array().unwrap() {
        let expected = s.meters.iter().chain([&s.west_meter]).find(|m| m.0 == c["meterId"].as_str().unwrap()).unwrap();
        assert_eq!(c["meterAddress"], expected.2.as_str());
    }
    create_operator(&admin, "mall-batches", &role_id(&admin, "tenant admin"), Some(vec![&s.mall]));
    let mall = app.session(&admin.tenant, "mall-batches").await;
    let seen = graphql(app.app.http_addr, Some(&mall), "{ commandBatches { id } }", json!({}));
    let seen: Vec<&Value> = seen["data"]["commandBatches"].as_array().unwrap().iter().map(|b| &b["id"]).collect();
    assert_eq!(seen, vec![&mall_batch["id"]], "West's batch is not Mall's to see");
    // An operator of no property at all sees no batch (a NULL must not make foreign meters ours).
    create_operator(&admin, "nowhere-batches", &role_id(&admin, "tenant admin"), Some(vec![]));
    let nowhere = app.session(&admin.tenant, "nowhere-batches").await;
    let seen = graphql(app.app.http_addr, Some(&nowhere), "{ commandBatches { id } }", json!({}));
    assert_eq!(seen["data"]["commandBatches"], json!([]), "{seen}");
    let other = app.admin("desk-batches-stranger").await;
    assert!(other.ok("{ commandBatches { id } }", json!({}))["commandBatches"].as_array().unwrap().is_empty());
    assert_eq!(code(&admin.gql("{ commands(status: \"REPLIED\") { id } }", json!({}))), "VALIDATION");
    assert_eq!(code(&admin.gql("{ commandBatches(first: 0) { id } }", json!({}))), "VALIDATION");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customer_reads_its_ledger_without_the_staffs_usernames() {
    let s = crate::payments::setup().await;
    let account = &s.accounts.0;
    s.admin.ok(
        "mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"10.00\", channel: CASH}) { receiptNo } }",
        json!({"a": account}),
    );
    let q = "{ myAccounts { id ledger { items { kind operator } } } }";
    let mine = graphql(s.app.app.http_addr, Some(&s.customer), q, json!({}));
    let entries = mine["data"]["myAccounts"][0]["ledger"]["items"].as_array().unwrap().clone();
    assert!(!entries.is_empty(), "{mine}");
    assert!(entries.iter().all(|e| e["operator"] == ""), "{entries:?}");
    let staff = s.admin.ok("query($a: ID!) { account(id: $a) { ledger { items { kind operator } } } }", json!({"a": account}));
    assert_eq!(staff["account"]["ledger"]["items"][0]["operator"], "admin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sites_screen_reads_a_propertys_tariff_and_gateways_and_a_scoped_operator_adds_customers() {
    let app = TestApp::spawn().await;
    let admin = app.admin("desk-sites").await;
    let s = desk(&admin);
    let t = admin.ok(
        "mutation { createTariff(input: {name: \"West flat\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: FLAT, price: \"0.90\"}]}}) { id } }",
        json!({}),
    )["createTariff"]["id"]
        .clone();
    admin.ok("mutation($t: ID!, $p: ID!) { assignTariff(input: {tariffId: $t, propertyId: $p}) }", json!({"t": t, "p": s.west}));
    let props = admin.ok("{ properties { id tariffId } }", json!({}))["properties"].clone();
    let of = |id: &str| props.as_array().unwrap().iter().find(|p| p["id"] == id).unwrap()["tariffId"].clone();
    assert_eq!(of(&s.west), t);
    assert_eq!(of(&s.mall), Value::Null, "Mall uses the tenant's default");
    let west_price = admin.ok("query($p: ID!) { meters(filter: {propertyId: $p}) { items { priceNow } } }", json!({"p": s.west}));
    assert_eq!(west_price["meters"]["items"][0]["priceNow"], "0.90");
    // Gateways of one property.
    let gw = |property: &str, serial: &str| {
        admin.ok(
            "mutation($p: ID!, $s: String!) { registerGateway(input: {propertyId: $p, serial: $s}) { gateway { id } } }",
            json!({"p": property, "s": serial}),
        )["registerGateway"]["gateway"]["id"]
            .clone()
    };
    let mall_gw = gw(&s.mall, "GW-MALL-1");
    gw(&s.west, "GW-WEST-1");
    let mall_gateways =
        admin.ok("query($p: ID) { gateways(propertyId: $p) { total items { id } } }", json!({"p": s.mall}))["gateways"].clone();
    assert_eq!(mall_gateways["total"].as_u64(), Some(1));
    assert_eq!(mall_gateways["items"][0]["id"], mall_gw);
    assert_eq!(admin.ok("{ gateways { total } }", json!({}))["gateways"]["total"].as_u64(), Some(2));
    // A Mall operator may add a customer (no account, so no property yet); West's gateways
    // are not its to list, in any spelling.
    create_operator(&admin, "mall-sites", &role_id(&admin, "tenant admin"), Some(vec![&s.mall]));
    let mall = app.session(&admin.tenant, "mall-sites").await;
    let made = graphql(
        app.app.http_addr,
        Some(&mall),
        "mutation { createCustomer(input: {name: \"Walk-in\", phone: \"13800003333\"}) { id } }",
        json!({}),
    );
    assert!(made["data"]["createCustomer"]["id"].is_string(), "{made}");
    let seen = graphql(app.app.http_addr, Some(&mall), "{ customers(q: \"Walk-in\") { total } }", json!({}));
    assert_eq!(seen["data"]["customers"]["total"].as_u64(), Some(1));
    for spelling in [s.west.clone(), s.west.to_uppercase()] {
        let v = graphql(app.app.http_addr, Some(&mall), "query($p: ID) { gateways(propertyId: $p) { total } }", json!({"p": spelling}));
        assert_eq!(code(&v), "NOT_FOUND", "{v}");
    }
    let own = graphql(app.app.http_addr, Some(&mall), "{ gateways { total } }", json!({}));
    assert_eq!(own["data"]["gateways"]["total"].as_u64(), Some(1));
}
