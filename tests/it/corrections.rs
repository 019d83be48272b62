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
    let events = app.app.store.platform_evaluate_alarms(chrono::Utc::now()).await.unwrap();
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
