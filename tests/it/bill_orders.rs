//! Paying a post-paid bill online (issue 18): the customer sees the bills issued to them,
//! orders one through WeChat Pay (against the stand-in), and the bill is paid through the
//! ledger once — whatever the notifications repeat or add, and even when the desk took the
//! money first (then the online payment is kept for refund, never credited).

use serde_json::{Value, json};
use tests::{TestApp, graphql, post_json};

use crate::payments::{SP_APPID, Setup, notify, setup};

/// A post-paid account of the setup's customer (East property, so the East payee) with a
/// property fee: its bill for `period`, issued.
fn issued_bill(s: &Setup, account: &Value, period: &str) -> Value {
    let run = s.admin.ok("mutation($p: String!) { runBills(period: $p) { created skipped { reason } } }", json!({"p": period}));
    assert_eq!(run["runBills"]["created"], 1, "{run}");
    let bill =
        s.admin
            .ok("query($a: ID!, $p: String!) { bills(accountId: $a, period: $p) { id total state } }", json!({"a": account, "p": period}))
            ["bills"][0]
            .clone();
    assert_eq!(bill["state"], "DRAFT");
    bill
}

fn bill_order(s: &Setup, token: &str, bill: &Value) -> Value {
    graphql(
        s.app.app.http_addr,
        Some(token),
        "mutation($b: ID!) { createBillOrder(input: {billId: $b}) { id outTradeNo state amount billId accountId payment { appId package paySign } } }",
        json!({"b": bill["id"]}),
    )
}

fn ledger(s: &Setup, account: &Value) -> Vec<(String, String, Option<String>)> {
    let v = s.admin.ok(
        "query($a: ID!) { account(id: $a) { balance ledgerTotal ledger(first: 100) { items { kind amount externalRef } } } }",
        json!({"a": account}),
    );
    assert_eq!(v["account"]["balance"], v["account"]["ledgerTotal"]);
    assert_eq!(v["account"]["balance"], "0.00", "a post-paid account's balance does not move");
    v["account"]["ledger"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().into(), e["amount"].as_str().unwrap().into(), e["externalRef"].as_str().map(Into::into)))
        .collect()
}

fn bill_state(s: &Setup, bill: &Value) -> String {
    s.admin.ok("query($b: ID!) { bill(id: $b) { state } }", json!({"b": bill["id"]}))["bill"]["state"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customer_pays_a_bill_online_once_and_a_bill_paid_at_the_desk_keeps_the_payment_for_refund() {
    let s = setup().await;
    let addr = s.app.app.http_addr;
    // The setup's customer gets a post-paid account in the East property (its payee).
    let east =
        s.admin.ok("{ properties { id name } }", json!({}))["properties"].as_array().unwrap().iter().find(|p| p["name"] == "East").unwrap()
            ["id"]
            .clone();
    let meter = s.admin.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000000611\", phases: 1, linkType: FOUR_G, billingMode: POST_PAID}) { meter { id customerId } } }",
        json!({"p": east}),
    )["registerMeter"]["meter"]["id"]
        .clone();
    let customer =
        s.admin.ok("query($a: ID!) { account(id: $a) { customerId } }", json!({"a": s.accounts.0}))["account"]["customerId"].clone();
    let account = s.admin.ok(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m], propertyFee: \"88.00\"}) { account { id } } }",
        json!({"c": customer, "m": meter}),
    )["openAccount"]["account"]["id"]
        .clone();
    let flat = s.admin.ok(
        "mutation { createTariff(input: {name: \"Flat\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: FLAT, price: \"0.8\"}]}}) { id } }",
        json!({}),
    )["createTariff"]["id"]
        .clone();
    s.admin.ok("mutation($t: ID!) { assignTariff(input: {tariffId: $t}) }", json!({"t": flat}));
    let bill = issued_bill(&s, &account, "2026-11");
    assert_eq!(bill["total"], "88.00");

    // A draft is not the customer's to see or pay.
    let mine = |token: &str| graphql(addr, Some(token), "{ myBills { id state total lines { kind amount } } }", json!({}));
    assert_eq!(mine(&s.customer)["data"]["myBills"], json!([]));
    assert_eq!(bill_order(&s, &s.customer, &bill)["errors"][0]["extensions"]["code"], "NOT_FOUND");
    s.admin.ok("mutation($b: ID!) { issueBill(id: $b) { state } }", json!({"b": bill["id"]}));
    let seen = mine(&s.customer)["data"]["myBills"].clone();
    assert_eq!(
        seen,
        json!([{"id": bill["id"], "state": "ISSUED", "total": "88.00", "lines": [{"kind": "PROPERTY_FEE", "amount": "88.00"}]}])
    );

    // Not an operator's to order, nor another WeChat user's (signed in, bound to nothing).
    let e = s.admin.fails("mutation($b: ID!) { createBillOrder(input: {billId: $b}) { id } }", json!({"b": bill["id"]}));
    assert_eq!(e["code"], "FORBIDDEN");
    let wechat =
        server::wechat::standin::WechatStandIn::start("127.0.0.1:0".parse().unwrap(), &[(SP_APPID, "mini-program-secret-0123")]).unwrap();
    s.admin.ok(
        "mutation($a: String!, $b: String!) { setWechatApp(input: {appId: $a, appSecret: \"mini-program-secret-0123\", apiBase: $b}) }",
        json!({"a": SP_APPID, "b": wechat.base}),
    );
    let (_, t) = post_json(addr, "/auth/wechat", None, &json!({"tenant": s.admin.slug, "code": wechat.login_code(SP_APPID, "o-stranger")}));
    let stranger = t["accessToken"].as_str().unwrap().to_string();
    assert_eq!(bill_order(&s, &stranger, &bill)["errors"][0]["extensions"]["code"], "NOT_FOUND");
    assert_eq!(mine(&stranger)["data"]["myBills"], json!([]));
    // The fee before paying: the customer's own account answers, another's looks missing.
    s.admin.ok(r#"mutation { setServiceFee(input: {percent: "1.5", fixed: "0.30"}) { serviceFeePercent } }"#, json!({}));
    let fee = |token: &str| {
        graphql(addr, Some(token), "query($a: ID!) { rechargeFee(accountId: $a, amount: \"20.00\") }", json!({"a": s.accounts.0}))
    };
    assert_eq!(fee(&s.customer)["data"]["rechargeFee"], "0.60", "1.5 % of 20.00 + 0.30");
    assert_eq!(fee(&stranger)["errors"][0]["extensions"]["code"], "NOT_FOUND");
    s.admin.ok(r#"mutation { setServiceFee(input: {percent: "0", fixed: "0"}) { serviceFeePercent } }"#, json!({}));
    wechat.stop().await;

    // The customer's order is for the bill's total, into the East payee, with a paySign.
    let o = bill_order(&s, &s.customer, &bill);
    assert!(o.get("errors").is_none(), "{o}");
    let o = o["data"]["createBillOrder"].clone();
    assert_eq!(
        (o["state"].as_str(), o["amount"].as_str(), o["billId"].clone(), o["accountId"].clone()),
        (Some("CREATED"), Some("88.00"), bill["id"].clone(), account.clone())
    );
    assert_eq!(o["payment"]["appId"], SP_APPID);
    let no = o["outTradeNo"].as_str().unwrap().to_string();
    assert!(s.pay.pay(&no));
    let paid = TestApp::eventually(std::time::Duration::from_secs(20), || {
        let state = bill_state(&s, &bill);
        async move { state == "PAID" }
    })
    .await;
    assert!(paid, "deliveries: {:?}", s.pay.deliveries());
    let entries = ledger(&s, &account);
    assert_eq!(entries.len(), 2, "{entries:?}");
    let tx = entries.iter().find(|e| e.0 == "BILL_PAYMENT").and_then(|e| e.2.clone()).expect("the payment names its transaction");
    assert!(entries.contains(&("BILL_PAYMENT".into(), "88.00".into(), Some(tx.clone()))), "{entries:?}");
    assert!(entries.contains(&("BILL_SETTLEMENT".into(), "-88.00".into(), None)), "{entries:?}");

    // The same notification again, and another payment for the same order: nothing more is
    // credited; the second payment is kept as a difference for refund.
    let (h, body) = s.pay.notification(&no, |_| {}).unwrap();
    assert_eq!(notify(&s, &h, &body), 204);
    let (h, body) = s.pay.notification(&no, |t| t["transaction_id"] = json!("4200000000202612060000000042")).unwrap();
    assert_eq!(notify(&s, &h, &body), 204);
    assert_eq!(ledger(&s, &account).len(), 2);
    let diffs = s.admin.ok("{ paymentDifferences { orderId transactionId amount } }", json!({}))["paymentDifferences"].clone();
    assert_eq!(diffs, json!([{"orderId": o["id"], "transactionId": "4200000000202612060000000042", "amount": "88.00"}]));
    // A paid bill takes no new order.
    assert_eq!(bill_order(&s, &s.customer, &bill)["errors"][0]["extensions"]["code"], "CONFLICT");

    // Next month's bill: the customer orders it, but the desk takes cash first. The online
    // payment then arrives: not credited, the order closed, the money kept for refund.
    let october = issued_bill(&s, &account, "2026-10");
    s.admin.ok("mutation($b: ID!) { issueBill(id: $b) { state } }", json!({"b": october["id"]}));
    let o2 = bill_order(&s, &s.customer, &october)["data"]["createBillOrder"].clone();
    let no2 = o2["outTradeNo"].as_str().unwrap().to_string();
    s.admin.ok("mutation($b: ID!) { markBillPaid(id: $b, channel: CASH) { bill { state } } }", json!({"b": october["id"]}));
    assert!(s.pay.pay(&no2));
    let kept = TestApp::eventually(std::time::Duration::from_secs(20), || {
        let d = s.admin.ok("{ paymentDifferences { orderId } }", json!({}))["paymentDifferences"].clone();
        let order = o2["id"].clone();
        async move { d.as_array().is_some_and(|d| d.iter().any(|x| x["orderId"] == order)) }
    })
    .await;
    assert!(kept, "deliveries: {:?}", s.pay.deliveries());
    let d = s.admin.ok("{ paymentDifferences { orderId reason } }", json!({}))["paymentDifferences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["orderId"] == o2["id"])
        .unwrap()
        .clone();
    assert!(d["reason"].as_str().unwrap().contains("the bill could not be paid"), "{d}");
    let orders =
        s.admin.ok("query($a: ID!) { rechargeOrders(accountId: $a) { id state billId } }", json!({"a": account}))["rechargeOrders"].clone();
    let closed = orders.as_array().unwrap().iter().find(|x| x["id"] == o2["id"]).unwrap().clone();
    assert_eq!((closed["state"].as_str(), closed["billId"].clone()), (Some("CLOSED"), october["id"].clone()));
    // The account's ledger: the online payment of November and the cash of October, nothing else.
    let kinds: Vec<(String, String)> = ledger(&s, &account).into_iter().map(|e| (e.0, e.1)).collect();
    assert_eq!(kinds.iter().filter(|k| k.0 == "BILL_PAYMENT").count(), 2, "{kinds:?}");
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    s.pay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bill_paid_online_is_refunded_whole_reopening_the_bill_and_a_failed_refund_settles_it_again() {
    let s = setup().await;
    let east =
        s.admin.ok("{ properties { id name } }", json!({}))["properties"].as_array().unwrap().iter().find(|p| p["name"] == "East").unwrap()
            ["id"]
            .clone();
    let meter = s.admin.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000000612\", phases: 1, linkType: FOUR_G, billingMode: POST_PAID}) { meter { id } } }",
        json!({"p": east}),
    )["registerMeter"]["meter"]["id"]
        .clone();
    let customer =
        s.admin.ok("query($a: ID!) { account(id: $a) { customerId } }", json!({"a": s.accounts.0}))["account"]["customerId"].clone();
    let account = s.admin.ok(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m], propertyFee: \"60.00\"}) { account { id } } }",
        json!({"c": customer, "m": meter}),
    )["openAccount"]["account"]["id"]
        .clone();
    let flat = s.admin.ok(
        "mutation { createTariff(input: {name: \"Flat\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: FLAT, price: \"0.8\"}]}}) { id } }",
        json!({}),
    )["createTariff"]["id"]
        .clone();
    s.admin.ok("mutation($t: ID!) { assignTariff(input: {tariffId: $t}) }", json!({"t": flat}));
    let bill = issued_bill(&s, &account, "2026-11");
    s.admin.ok("mutation($b: ID!) { issueBill(id: $b) { state } }", json!({"b": bill["id"]}));
    let pay_online = |bill: &Value| {
        let o = bill_order(&s, &s.customer, bill)["data"]["createBillOrder"].clone();
        assert!(s.pay.pay(o["outTradeNo"].as_str().unwrap()));
        o
    };
    let paid = |bill: &Value| {
        let bill = bill.clone();
        let s = &s;
        async move {
            TestApp::eventually(std::time::Duration::from_secs(20), || {
                let st = bill_state(s, &bill);
                async move { st == "PAID" }
            })
            .await
        }
    };
    let o = pay_online(&bill);
    assert!(paid(&bill).await, "deliveries: {:?}", s.pay.deliveries());

    // A bill's payment is refunded whole: part of it is refused, nothing moves.
    const REFUND: &str =
        "mutation($o: ID!, $m: Decimal!) { refundPayment(input: {orderId: $o, amount: $m, reason: \"billed twice\"}) { id state } }";
    assert_eq!(s.admin.fails(REFUND, json!({"o": o["id"], "m": "10.00"}))["field"], "amount");
    assert_eq!(bill_state(&s, &bill), "PAID");
    // Whole: the bill opens again at once, the balance does not move (ledger() checks it).
    let r = s.admin.ok(REFUND, json!({"o": o["id"], "m": "60.00"}))["refundPayment"].clone();
    assert_eq!(bill_state(&s, &bill), "ISSUED");
    let kinds = |s: &Setup| ledger(s, &account).into_iter().map(|e| (e.0, e.1)).collect::<Vec<_>>();
    let k = kinds(&s);
    assert!(k.contains(&("REFUND".into(), "-60.00".into())) && k.contains(&("BILL_SETTLEMENT".into(), "60.00".into())), "{k:?}");
    let refunded = TestApp::eventually(std::time::Duration::from_secs(20), || {
        let st =
            s.admin.ok("query($o: ID!) { paymentRefunds(orderId: $o) { id state } }", json!({"o": o["id"]}))["paymentRefunds"][0]["state"]
                .clone();
        async move { st == "SUCCESS" }
    })
    .await;
    assert!(refunded, "{r}");
    assert_eq!(bill_state(&s, &bill), "ISSUED");
    // Refunded once: the same again is refused.
    assert_eq!(s.admin.fails(REFUND, json!({"o": o["id"], "m": "60.00"}))["field"], "amount");
    assert_eq!(bill_state(&s, &bill), "ISSUED");

    // The customer pays it again; WeChat then fails the refund: the money comes back and
    // settles the bill again — PAID, balance 0, every entry accounted for.
    let o2 = pay_online(&bill);
    assert!(paid(&bill).await);
    s.pay.fail_refunds(true);
    s.admin.ok(REFUND, json!({"o": o2["id"], "m": "60.00"}));
    // (Reopened at once, as above — unless the payments job has already seen the refund
    // fail and settled it again: either state is right at this instant.)
    let now = bill_state(&s, &bill);
    assert!(now == "ISSUED" || now == "PAID", "{now}");
    let failed = TestApp::eventually(std::time::Duration::from_secs(20), || {
        let st =
            s.admin.ok("query($o: ID!) { paymentRefunds(orderId: $o) { state } }", json!({"o": o2["id"]}))["paymentRefunds"][0]["state"]
                .clone();
        async move { st == "ABNORMAL" }
    })
    .await;
    assert!(failed);
    assert_eq!(bill_state(&s, &bill), "PAID", "settled again by the returned money");
    let k = kinds(&s);
    assert_eq!(k.iter().filter(|e| e.0 == "BILL_PAYMENT").count(), 2, "{k:?}");
    assert_eq!(k.iter().filter(|e| e.0 == "REFUND").count(), 2, "{k:?}");
    assert_eq!(k.iter().filter(|e| e.0 == "REVERSAL").count(), 1, "{k:?}");
    // Reconciliation takes the bill orders and their refunds like any other order: both
    // payments are in WeChat's bill and match, nothing is missing on either side.
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive().to_string();
    let payee = s.admin.ok("{ payees { id name } }", json!({}))["payees"].as_array().unwrap().iter().find(|p| p["name"] == "East").unwrap()
        ["id"]
        .clone();
    let r = s.admin.ok(
        "mutation($p: ID!, $d: NaiveDate!) { reconcilePayments(input: {payeeId: $p, date: $d}) { billRows matched discrepancies { kind outTradeNo } } }",
        json!({"p": payee, "d": today}),
    )["reconcilePayments"]
        .clone();
    assert_eq!(r["discrepancies"], json!([]), "{r}");
    assert!(r["matched"].as_i64().unwrap() >= 2, "{r}");
    s.pay.stop().await;
}
