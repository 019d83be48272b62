//! Issue 13's corrections, each as the test that failed before: ledger and audit cursors
//! that walk every row once (entries sharing a timestamp, inserts during the walk), balance
//! alarms raised in the transaction that moved the balance (a backlog settled at once still
//! raises each), the reset reading as a new start, default friendly hours, PT × CT in the
//! park platform's daily energy, bill runs that say what they could not bill, and park bills
//! without drafts.

use std::collections::HashSet;

use serde_json::{Value, json};
use tests::TestApp;

use crate::money::{account, feed, flat_tariff, local, open, reading, site};

fn ledger_walk(admin: &tests::Admin, acc: &Value, first: i64) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = admin.ok(
            "query($a: ID!, $f: Int!, $c: String) { account(id: $a) { ledger(first: $f, after: $c) { items { id } pageInfo { endCursor hasNextPage } } } }",
            json!({"a": acc, "f": first, "c": after}),
        )["account"]["ledger"]
            .clone();
        ids.extend(page["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()));
        if page["pageInfo"]["hasNextPage"] != true {
            return ids;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(String::from);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ledger_walk_returns_every_entry_once_even_when_a_batch_shares_one_timestamp() {
    let app = TestApp::spawn().await;
    let admin = app.admin("cursor").await;
    let s = site(&admin, 2, 130);
    flat_tariff(&admin, "0.01");
    let acc = open(&admin, &s, &[0], Some("5000.00"), "0");
    let (_, user, addr) = s.meters[0].clone();
    feed(&app, vec![reading(&user, addr, local(1, 0, 0), "1000.00")]).await;
    // 240 intervals settled in one batch: 240 entries with one created_at.
    let batch =
        (1..=240).map(|i| reading(&user, addr, local(1, 0, 0) + chrono::Duration::minutes(i), &format!("{}.00", 1000 + i))).collect();
    feed(&app, batch).await;
    let before = ledger_walk(&admin, &acc, 500);
    assert_eq!(before.len(), 241, "the opening recharge and 240 charges");

    // Walk in small pages while recharges land: every entry that existed is seen exactly once.
    let http = admin.http;
    let token = admin.token.clone();
    let acc2 = acc.clone();
    let writer = std::thread::spawn(move || {
        for i in 0..25 {
            let v = tests::graphql(
                http,
                Some(&token),
                "mutation($a: ID!, $m: Decimal!) { recharge(input: {accountId: $a, amount: $m, channel: CASH}) { receiptNo } }",
                json!({"a": acc2, "m": format!("1.{i:02}")}),
            );
            assert!(v.get("errors").is_none(), "{v}");
        }
    });
    for first in [7, 50] {
        let walked = ledger_walk(&admin, &acc, first);
        let unique: HashSet<&String> = walked.iter().collect();
        assert_eq!(unique.len(), walked.len(), "no entry twice (first: {first})");
        let missing: Vec<&String> = before.iter().filter(|id| !unique.contains(id)).collect();
        assert!(missing.is_empty(), "first: {first}: {} of {} entries skipped", missing.len(), before.len());
    }
    writer.join().unwrap();
    let after = ledger_walk(&admin, &acc, 13);
    assert_eq!(after.len(), 266);
    let a = account(&admin, &acc);
    assert_eq!(a["ledgerTotal"], a["balance"]);
    // A cursor of another account (or not a cursor at all) is refused, not read as a position.
    let other = open(&admin, &s, &[1], Some("1.00"), "0");
    let bad = admin.fails(
        "query($a: ID!, $c: String) { account(id: $a) { ledger(first: 5, after: $c) { items { id } } } }",
        json!({"a": other, "c": before[3]}),
    );
    assert_eq!(bad["field"], "after");
    let bad = admin.fails(
        "query($a: ID!) { account(id: $a) { ledger(first: 5, after: \"2026-11-01T00:00:00Z|x\") { items { id } } } }",
        json!({"a": acc}),
    );
    assert_eq!(bad["field"], "after");

    // The audit log walks the same way while mutations add to it.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = admin.ok(
            "query($c: String) { auditLog(first: 4, after: $c) { items { id } pageInfo { endCursor hasNextPage } } }",
            json!({"c": after}),
        )["auditLog"]
            .clone();
        seen.extend(page["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()));
        admin.ok(r#"mutation { createCustomer(input: {name: "Walker", phone: "13800000009"}) { id } }"#, json!({}));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(String::from);
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no audit record twice");
    assert!(seen.len() >= 27, "every mutation before the walk: {}", seen.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backlog_settled_at_once_raises_every_balance_alarm_and_queues_its_messages_in_the_same_transaction() {
    let app = TestApp::spawn().await;
    let admin = app.admin("balance-alarms").await;
    let s = site(&admin, 1, 140);
    flat_tariff(&admin, "1");
    admin.ok(
        "mutation($i: NotificationSettingsInput!) { setNotificationSettings(input: $i) { secretSet } }",
        json!({"i": {"provider": "TENCENT", "endpoint": "http://127.0.0.1:9/tencent/", "accessKeyId": "AKIDvolt", "accessKeySecret": "x",
                      "signName": "VoltLedger", "sdkAppId": "1400000001", "contacts": ["13800000001"]}}),
    );
    for (kind, code) in [("LOW_BALANCE_1", "SMS_1"), ("ARREARS", "SMS_2"), ("BALANCE_EXHAUSTED", "SMS_3"), ("BALANCE_RESTORED", "SMS_4")] {
        admin.ok(
            "mutation($k: String!, $c: String!) { setNotificationTemplate(alarmKind: $k, templateCode: $c) { alarmKind } }",
            json!({"k": kind, "c": code}),
        );
    }
    // Alarm 1 at 5.00, alarm 2 at 3.00, credit 2.00; 10.00 to start.
    let acc = open(&admin, &s, &[0], Some("10.00"), "2.00");
    let (_, user, addr) = s.meters[0].clone();
    feed(&app, vec![reading(&user, addr, local(2, 0, 0), "100.00")]).await;
    // A backlog after a reconnect, settled in one batch: 4.00, 2.00, -1.00, -3.00.
    let batch = [("106.00", 1), ("108.00", 2), ("111.00", 3), ("113.00", 4)]
        .iter()
        .map(|(t, h)| reading(&user, addr, local(2, *h, 0), t))
        .collect();
    feed(&app, batch).await;
    assert_eq!(account(&admin, &acc)["balance"], "-3.00");
    // No waiting for a sweep: the alarms and their messages were written with the charges.
    let alarms = admin.ok("query($a: ID!) { alarms(subjectId: $a, first: 50) { kind state } }", json!({"a": acc}))["alarms"].clone();
    let mut got: Vec<(String, String)> =
        alarms.as_array().unwrap().iter().map(|a| (a["kind"].as_str().unwrap().into(), a["state"].as_str().unwrap().into())).collect();
    got.sort();
    let want = [("ARREARS", "CLEARED"), ("BALANCE_EXHAUSTED", "ACTIVE"), ("LOW_BALANCE_1", "CLEARED"), ("LOW_BALANCE_2", "CLEARED")];
    assert_eq!(got, want.map(|(k, s)| (k.to_string(), s.to_string())), "{alarms}");
    let queued = admin.ok("{ notifications(first: 50) { alarmKind recipient } }", json!({}))["notifications"].clone();
    let mut kinds: Vec<&str> = queued.as_array().unwrap().iter().map(|n| n["alarmKind"].as_str().unwrap()).collect();
    kinds.sort();
    assert_eq!(kinds, ["ARREARS", "BALANCE_EXHAUSTED", "LOW_BALANCE_1"], "{queued}");
    assert!(queued.as_array().unwrap().iter().all(|n| n["recipient"] == "13800000000"), "the customer's phone: {queued}");

    // A recharge back above alarm 1: exhausted clears, BALANCE_RESTORED is recorded and told.
    admin.ok("mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"50.00\", channel: CASH}) { receiptNo } }", json!({"a": acc}));
    let active = admin.ok("query($a: ID!) { alarms(subjectId: $a, activeOnly: true) { kind } }", json!({"a": acc}))["alarms"].clone();
    assert_eq!(active, json!([]));
    let restored =
        admin.ok("query($a: ID!) { alarms(subjectId: $a, kind: \"BALANCE_RESTORED\") { state } }", json!({"a": acc}))["alarms"].clone();
    assert_eq!(restored, json!([{"state": "CLEARED"}]));
    let queued = admin.ok("{ notifications(first: 50) { alarmKind } }", json!({}))["notifications"].clone();
    assert!(queued.as_array().unwrap().iter().any(|n| n["alarmKind"] == "BALANCE_RESTORED"), "{queued}");
    // The sweep agrees with what the transactions did: nothing new, nothing cleared.
    let events = app.app.store.platform().evaluate_alarms(chrono::Utc::now()).await.unwrap();
    assert!(events.iter().all(|e| e.tenant_id != admin.tenant.to_string()), "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_register_reset_the_operator_sees_what_each_choice_bills_and_can_start_from_the_reset() {
    let app = TestApp::spawn().await;
    let admin = app.admin("reset").await;
    let s = site(&admin, 1, 150);
    flat_tariff(&admin, "1");
    let acc = open(&admin, &s, &[0], Some("100.00"), "0");
    let (_, user, addr) = s.meters[0].clone();
    feed(&app, vec![reading(&user, addr, local(4, 0, 0), "490.00"), reading(&user, addr, local(4, 1, 0), "500.00")]).await;
    assert_eq!(account(&admin, &acc)["balance"], "90.00");
    // The register resets to 12.00, then 12.60 arrives while the anomaly is open.
    feed(&app, vec![reading(&user, addr, local(4, 2, 0), "12.00")]).await;
    feed(&app, vec![reading(&user, addr, local(4, 3, 0), "12.60")]).await;
    assert_eq!(account(&admin, &acc)["balance"], "90.00");
    let an = admin.ok("{ settlementAnomalies { id kind } }", json!({}))["settlementAnomalies"][0].clone();
    assert_eq!(an["kind"], "REGISTER_BACKWARDS");
    let preview = admin.ok(
        "query($i: ID!) { anomalyResolutionPreview(id: $i) { action energy amount charges baselineTotal refused } }",
        json!({"i": an["id"]}),
    )["anomalyResolutionPreview"]
        .clone();
    assert_eq!(
        preview[0],
        json!({"action": "REBASE", "energy": "0", "amount": "0.00", "charges": 0, "baselineTotal": "12.6", "refused": null})
    );
    assert_eq!(
        preview[1],
        json!({"action": "REBASE_AT_ANOMALY", "energy": "0.6", "amount": "0.60", "charges": 1, "baselineTotal": "12", "refused": null})
    );
    assert_eq!(preview[2]["action"], "BILL_AS_IS");
    assert!(preview[2]["refused"].as_str().unwrap().contains("rebased"), "{preview}");
    // The preview changed nothing.
    assert_eq!(account(&admin, &acc)["balance"], "90.00");
    let open_now = admin.ok("{ settlementAnomalies { id } }", json!({}))["settlementAnomalies"].as_array().unwrap().len();
    assert_eq!(open_now, 1);
    let done = admin
        .ok("mutation($i: ID!) { resolveSettlementAnomaly(id: $i, action: REBASE_AT_ANOMALY) { resolution } }", json!({"i": an["id"]}));
    assert_eq!(done["resolveSettlementAnomaly"]["resolution"], "REBASED_AT_ANOMALY");
    assert_eq!(account(&admin, &acc)["balance"], "89.40", "the 0.60 kWh after the reset is billed");
    feed(&app, vec![reading(&user, addr, local(4, 4, 0), "13.00")]).await;
    let a = account(&admin, &acc);
    assert_eq!(a["balance"], "89.00", "then 0.40 more: nothing lost, nothing twice");
    assert_eq!(a["ledgerTotal"], a["balance"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_tenant_holds_automatic_trips_at_night_and_at_weekends_until_it_says_otherwise() {
    let app = TestApp::spawn().await;
    let admin = app.admin_with_defaults("friendly").await;
    let windows = admin.ok("{ friendlyHours { name weekdays start end } }", json!({}))["friendlyHours"].clone();
    assert_eq!(
        windows,
        json!([
            {"name": "周末 Weekend", "weekdays": [6, 7], "start": "00:00", "end": "24:00"},
            {"name": "夜间 Night", "weekdays": [1, 2, 3, 4, 5, 6, 7], "start": "20:00", "end": "08:00"}
        ])
    );
    // Editable like any other setting: emptied, trips go out at any hour.
    admin.ok("mutation { setFriendlyHours(windows: []) { name } }", json!({}));
    assert_eq!(admin.ok("{ friendlyHours { name } }", json!({}))["friendlyHours"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_yearly_tier_cycle_runs_on_across_months_and_restarts_with_the_year() {
    let app = TestApp::spawn().await;
    let admin = app.admin("yearly").await;
    let s = site(&admin, 1, 160);
    let t = admin.ok(
        "mutation { createTariff(input: {name: \"Yearly\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: FLAT, price: \"1\"}],
            tiers: {cycle: YEARLY, steps: [{upTo: \"10\", add: \"0\"}, {add: \"1\"}]}}}) { id } }",
        json!({}),
    )["createTariff"]["id"]
        .clone();
    admin.ok("mutation($t: ID!) { assignTariff(input: {tariffId: $t}) }", json!({"t": t}));
    let acc = open(&admin, &s, &[0], Some("100.00"), "0");
    let (_, user, addr) = s.meters[0].clone();
    let at = |y: i32, mo: u32, d: u32, h: u32| {
        use chrono::TimeZone;
        chrono::Utc.with_ymd_and_hms(y, mo, d, h, 0, 0).unwrap() - chrono::Duration::hours(8)
    };
    // By hand, flat 1.00 plus 1.00 above 10 kWh a year:
    //   Nov 1 → Nov 2: 8 kWh, 8 used            = 8.00
    //   → Nov 30: 4 kWh, 2 within and 2 above   = 6.00 (12 used)
    //   → Dec 2: 2 kWh, all above (the year runs on; a monthly cycle would restart) = 4.00
    //   → Jan 2 2027: 1 kWh in a new year       = 1.00
    for (when, total) in [(at(2026, 11, 1, 0), "0.00"), (at(2026, 11, 2, 0), "8.00"), (at(2026, 11, 30, 12), "12.00")] {
        feed(&app, vec![reading(&user, addr, when, total)]).await;
    }
    assert_eq!(account(&admin, &acc)["balance"], "86.00");
    feed(&app, vec![reading(&user, addr, at(2026, 12, 2, 12), "14.00")]).await;
    assert_eq!(account(&admin, &acc)["balance"], "82.00", "December continues 2026's cycle");
    feed(&app, vec![reading(&user, addr, at(2027, 1, 2, 12), "15.00")]).await;
    let a = account(&admin, &acc);
    assert_eq!(a["balance"], "81.00", "2027 starts a new cycle");
    assert_eq!(a["ledgerTotal"], a["balance"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepaid_accounts_are_charged_their_property_and_capacity_fees_once_a_month_through_the_ledger() {
    use server::domain::billing::Period;
    let app = TestApp::spawn().await;
    let admin = app.admin("fees").await;
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Park"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let register = |address: &str, mode: &str| {
        let r = admin.ok(
            "mutation($p: ID!, $a: String!, $m: BillingMode!) { registerMeter(input: {propertyId: $p, address: $a, phases: 3, linkType: FOUR_G, billingMode: $m}) { meter { id } credentials { username } } }",
            json!({"p": property, "a": address, "m": mode}),
        )["registerMeter"]
            .clone();
        (
            r["meter"]["id"].clone(),
            r["credentials"]["username"].as_str().unwrap().to_string(),
            mqtt_bridge::dlt645::Address::parse(address).unwrap(),
        )
    };
    let shop = register("000000000171", "PLATFORM_PREPAID");
    let office = register("000000000172", "POST_PAID");
    let t = admin.ok(
        "mutation { createTariff(input: {name: \"Demand\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: FLAT, price: \"1\"}], capacityPricePerKw: \"30\"}}) { id } }",
        json!({}),
    )["createTariff"]["id"]
        .clone();
    admin.ok("mutation($t: ID!) { assignTariff(input: {tariffId: $t}) }", json!({"t": t}));
    let customer =
        admin.ok(r#"mutation { createCustomer(input: {name: "Shop", phone: "13800000171"}) { id } }"#, json!({}))["createCustomer"]["id"]
            .clone();
    let open_with_fee = |meter: &Value, initial: Option<&str>| {
        admin.ok(
            "mutation($c: ID!, $m: ID!, $i: InitialPurchaseInput) { openAccount(input: {customerId: $c, meterIds: [$m], propertyFee: \"200.00\", initialPurchase: $i}) { account { id } } }",
            json!({"c": customer, "m": meter, "i": initial.map(|a| json!({"amount": a, "channel": "CASH"}))}),
        )["openAccount"]["account"]["id"]
            .clone()
    };
    let prepaid = open_with_fee(&shop.0, Some("1000.00"));
    let post_paid = open_with_fee(&office.0, None);
    // This period's maximum demand: the meter's register says 12.5 kW.
    let now = chrono::Utc::now();
    let tz = chrono_tz::Asia::Shanghai;
    // A new tenant settles on day 1 at 00:00 (Shanghai): this period is the one holding now.
    let period = Period::containing(now, tz, 1, 0);
    let mut r = reading(&shop.1, shop.2, (now - chrono::Duration::seconds(50)).max(period.start(tz, 1, 0)), "100.00");
    r.values.max_demand = Some("12.5000".parse().unwrap());
    feed(&app, vec![r]).await;
    let after = period.end(tz, 1, 0) + chrono::Duration::minutes(5);
    let t = app.app.store.tenant(admin.tenant.clone());
    // Before the period ends nothing is due for it; after, 200.00 + 12.5 kW × 30 = 375.00.
    assert_eq!(t.charge_monthly_fees(now).await.unwrap(), 0, "the period before this one: the account did not exist");
    assert_eq!(t.charge_monthly_fees(after).await.unwrap(), 2);
    assert_eq!(t.charge_monthly_fees(after).await.unwrap(), 0, "once per period");
    let a = admin.ok(
        "query($a: ID!) { account(id: $a) { balance ledgerTotal ledger(first: 10) { items { kind amount } } } }",
        json!({"a": prepaid}),
    )["account"]
        .clone();
    assert_eq!(a["balance"], "425.00");
    assert_eq!(a["ledgerTotal"], a["balance"]);
    let mut kinds: Vec<(String, String)> = a["ledger"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_string(), e["amount"].as_str().unwrap().to_string()))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [("CAPACITY_FEE_CHARGE", "-375.00"), ("PROPERTY_FEE_CHARGE", "-200.00"), ("RECHARGE_CASH", "1000.00")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    // A post-paid account's fees belong on its bill, not its ledger.
    let p = admin.ok("query($a: ID!) { account(id: $a) { balance } }", json!({"a": post_paid}));
    assert_eq!(p["account"]["balance"], "0.00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn park_platforms_get_primary_energy_and_only_issued_bills_and_bill_runs_list_what_they_could_not_bill() {
    let app = TestApp::spawn().await;
    let admin = app.admin("park-fixes").await;
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Park"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let register = |address: &str, mode: &str, pt: i32, ct: i32| {
        let r = admin.ok(
            "mutation($p: ID!, $a: String!, $m: BillingMode!, $pt: Int, $ct: Int) { registerMeter(input: {propertyId: $p, address: $a, phases: 3, linkType: FOUR_G, billingMode: $m, ptRatio: $pt, ctRatio: $ct}) { meter { id } credentials { username } } }",
            json!({"p": property, "a": address, "m": mode, "pt": pt, "ct": ct}),
        )["registerMeter"]
            .clone();
        (
            r["meter"]["id"].clone(),
            r["credentials"]["username"].as_str().unwrap().to_string(),
            mqtt_bridge::dlt645::Address::parse(address).unwrap(),
        )
    };
    let big = register("000000000181", "POST_PAID", 10, 20);
    let small = register("000000000182", "POST_PAID", 1, 1);
    let common = register("000000000183", "POST_PAID", 1, 1);
    // Energy on 2 Nov, between the midnight freezes: 1.50 on the big meter's dial is 300 kWh.
    feed(&app, vec![reading(&big.1, big.2, local(1, 23, 0), "10.00"), reading(&big.1, big.2, local(2, 23, 0), "11.50")]).await;
    feed(&app, vec![reading(&small.1, small.2, local(1, 23, 0), "10.00"), reading(&small.1, small.2, local(2, 23, 0), "11.50")]).await;
    let t = app.app.store.tenant(admin.tenant.clone());
    t.freeze_due(local(3, 2, 0)).await.unwrap();
    let (status, token) = admin.park_token("ENERGY_READ, BILLS_READ", &[&property]);
    assert_eq!(status, 200);
    let park = |q: &str| tests::graphql(app.app.http_addr, Some(&token), q, json!({}));
    let energy = park(r#"{ parkDailyEnergy(date: "2026-11-02") { address energy } }"#)["data"]["parkDailyEnergy"].clone();
    assert_eq!(energy, json!([{"address": "000000000181", "energy": "300.00"}, {"address": "000000000182", "energy": "1.50"}]));

    // A bill run: the small meter has no tariff — listed, not silently left out.
    let c =
        admin.ok(r#"mutation { createCustomer(input: {name: "Office", phone: "13800000181"}) { id } }"#, json!({}))["createCustomer"]["id"]
            .clone();
    let open = |m: &Value| {
        admin.ok(
            "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m]}) { account { id } } }",
            json!({"c": c, "m": m}),
        )["openAccount"]["account"]["id"]
            .clone()
    };
    let (a_big, a_small) = (open(&big.0), open(&small.0));
    let flat = admin.ok(
        "mutation { createTariff(input: {name: \"Flat\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: FLAT, price: \"0.5\"}]}}) { id } }",
        json!({}),
    )["createTariff"]["id"]
        .clone();
    admin.ok("mutation($t: ID!, $m: ID!) { assignTariff(input: {tariffId: $t, meterId: $m}) }", json!({"t": flat, "m": big.0}));
    let run =
        admin.ok("mutation { runBills(period: \"2026-11\") { created skipped { accountId reason } } }", json!({}))["runBills"].clone();
    assert_eq!(run["created"], 1, "{run}");
    assert_eq!(run["skipped"][0]["accountId"], a_small);
    assert!(run["skipped"][0]["reason"].as_str().unwrap().contains("no tariff"), "{run}");
    // A shared area whose common meter cannot be priced holds its members' bills, and says so.
    admin.ok(
        "mutation($m: ID!, $a: ID!) { createAllocationGroup(input: {name: \"Corridors\", meterId: $m, method: AREA, members: [{accountId: $a, weight: \"1\"}]}) { id } }",
        json!({"m": common.0, "a": a_big}),
    );
    let run =
        admin.ok("mutation { runBills(period: \"2026-10\") { created skipped { accountId reason } } }", json!({}))["runBills"].clone();
    let reasons: Vec<&str> =
        run["skipped"].as_array().unwrap().iter().filter(|s| s["accountId"] == a_big).map(|s| s["reason"].as_str().unwrap()).collect();
    assert!(reasons.iter().any(|r| r.contains("shared area Corridors")), "{run}");

    // Park platforms see issued bills only — a draft is not theirs to see.
    let bills = park(r#"{ parkBills(period: "2026-11") { accountId state } }"#)["data"]["parkBills"].clone();
    assert_eq!(bills, json!([]), "drafts are not shown");
    let id = admin.ok("{ bills(period: \"2026-11\") { id state } }", json!({}))["bills"][0]["id"].clone();
    admin.ok("mutation($b: ID!) { issueBill(id: $b) { state } }", json!({"b": id}));
    let bills = park(r#"{ parkBills(period: "2026-11") { accountId state } }"#)["data"]["parkBills"].clone();
    assert_eq!(bills, json!([{"accountId": a_big, "state": "ISSUED"}]));
    // Paging walks the operator's list: one per page, then an empty page.
    let page =
        |n: i32| admin.ok("query($p: Int!) { bills(page: $p, pageSize: 1) { id } }", json!({"p": n}))["bills"].as_array().unwrap().len();
    assert_eq!((page(1), page(2)), (1, 0));
}
