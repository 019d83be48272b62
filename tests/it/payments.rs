//! Payments (issue 6, first part): a customer recharges through WeChat Pay v3 in
//! service-provider mode against the stand-in — order, paySign, notification, credited
//! once — payments for two properties land in their two payees, and forged, stale,
//! foreign-key, tampered and other-merchant notifications are refused with nothing changed.

use serde_json::{Value, json};
use server::pay::standin::{StandInConfig, WechatPayStandIn};
use server::pay::wechatpay::{KeyRing, generate_key_pair, pay_sign_message};
use server::store::PaymentProvider;
use tests::{Admin, TestApp, graphql, http_request, post_json};

const SP_MCHID: &str = "1900000100";
pub(crate) const SP_APPID: &str = "wxsp000000000001";
const SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
const API_V3_KEY: &str = "v3key-0123456789abcdef0123456789";

pub(crate) struct Setup {
    pub app: TestApp,
    pub admin: Admin,
    pub pay: WechatPayStandIn,
    pub provider_public: String,
    pub customer: String,
    pub accounts: (String, String),
}

pub(crate) fn balance(admin: &Admin, account: &str) -> String {
    admin.ok("query($a: ID!) { account(id: $a) { balance } }", json!({"a": account}))["account"]["balance"].as_str().unwrap().to_string()
}

/// The platform's provider account pointed at a fresh WeChat Pay stand-in: (stand-in, the
/// provider's public key).
async fn with_provider(app: &TestApp) -> (WechatPayStandIn, String) {
    let (private, public) = generate_key_pair().unwrap();
    let pay = WechatPayStandIn::start(
        "127.0.0.1:0".parse().unwrap(),
        StandInConfig {
            sp_mchid: SP_MCHID.into(),
            sp_appid: SP_APPID.into(),
            sub_mchids: vec!["1900000201".into(), "1900000202".into()],
            merchant_serial: SERIAL.into(),
            merchant_public_pem: public.clone(),
            api_v3_key: API_V3_KEY.into(),
            time_scale: 0.01,
        },
    )
    .unwrap();
    app.app
        .store
        .platform()
        .set_payment_provider(&PaymentProvider {
            sp_mchid: SP_MCHID.into(),
            sp_appid: SP_APPID.into(),
            serial: SERIAL.into(),
            private_key_pem: private,
            api_v3_key: API_V3_KEY.into(),
            wechat_keys: vec![(pay.wechat_key_id.clone(), pay.wechat_public_pem.clone())],
            api_base: pay.base.clone(),
            notify_url: format!("http://{}/pay/wechat/notify", app.app.http_addr),
        })
        .await
        .unwrap();
    (pay, public)
}

/// A customer signed in through the mini-program and bound to the account `number`.
pub(crate) async fn customer_token(app: &TestApp, admin: &Admin, phone: &str, number: &Value) -> String {
    let wechat =
        server::wechat::standin::WechatStandIn::start("127.0.0.1:0".parse().unwrap(), &[(SP_APPID, "mini-program-secret-0123")]).unwrap();
    admin.ok(
        "mutation($a: String!, $b: String!) { setWechatApp(input: {appId: $a, appSecret: \"mini-program-secret-0123\", apiBase: $b}) }",
        json!({"a": SP_APPID, "b": wechat.base}),
    );
    let code = wechat.login_code(SP_APPID, "o-payer");
    let (_, t) = post_json(app.app.http_addr, "/auth/wechat", None, &json!({"tenant": admin.slug, "code": code}));
    let customer = t["accessToken"].as_str().unwrap().to_string();
    let phone_code = wechat.phone_code(SP_APPID, phone);
    let bound = graphql(
        app.app.http_addr,
        Some(&customer),
        "mutation($n: String!, $c: String!) { bindAccount(input: {accountNumber: $n, phoneCode: $c}) { id } }",
        json!({"n": number, "c": phone_code}),
    );
    assert!(bound.get("errors").is_none(), "{bound}");
    wechat.stop().await;
    customer
}

pub(crate) async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let admin = app.admin("pay").await;
    let (pay, public) = with_provider(&app).await;

    // Two properties, each with its payee; one customer with an account in each.
    let mut ids = Vec::new();
    for (name, sub, address) in [("East", "1900000201", "000000000601"), ("West", "1900000202", "000000000602")] {
        let p = admin.ok("mutation($n: String!) { createProperty(input: {name: $n}) { id } }", json!({"n": name}))["createProperty"]["id"]
            .clone();
        admin.ok(
            "mutation($n: String!, $s: String!, $p: ID!) { createPayee(input: {name: $n, subMchid: $s, propertyId: $p}) { id } }",
            json!({"n": name, "s": sub, "p": p}),
        );
        let m = admin.ok(
            "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 1, linkType: FOUR_G}) { meter { id } } }",
            json!({"p": p, "a": address}),
        )["registerMeter"]["meter"]["id"]
            .clone();
        ids.push(m);
    }
    let c = admin.ok(r#"mutation { createCustomer(input: {name: "Tea shop", phone: "13800007777"}) { id } }"#, json!({}))["createCustomer"]
        ["id"]
        .clone();
    let mut accounts = Vec::new();
    for m in &ids {
        let a = admin.ok(
            "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m]}) { account { id number } } }",
            json!({"c": c, "m": m}),
        )["openAccount"]["account"]
            .clone();
        accounts.push(a);
    }

    // The customer signs in through the mini-program (same AppID as the payments).
    let customer = customer_token(&app, &admin, "13800007777", &accounts[0]["number"]).await;
    Setup {
        app,
        admin,
        pay,
        provider_public: public,
        customer,
        accounts: (accounts[0]["id"].as_str().unwrap().into(), accounts[1]["id"].as_str().unwrap().into()),
    }
}

pub(crate) fn order(s: &Setup, account: &str, amount: &str) -> Value {
    let v = graphql(
        s.app.app.http_addr,
        Some(&s.customer),
        "mutation($a: ID!, $m: Decimal!) { createRechargeOrder(input: {accountId: $a, amount: $m}) { id outTradeNo state payeeId
            payment { appId timeStamp nonceStr package signType paySign } } }",
        json!({"a": account, "m": amount}),
    );
    assert!(v.get("errors").is_none(), "{v}");
    v["data"]["createRechargeOrder"].clone()
}

pub(crate) fn notify(s: &Setup, headers: &[(String, String)], body: &[u8]) -> u16 {
    let mut h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    h.push(("Content-Type", "application/json"));
    http_request(s.app.app.http_addr, "POST", "/pay/wechat/notify", &h, &String::from_utf8_lossy(body)).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customer_recharges_through_wechat_pay_and_is_credited_once() {
    let s = setup().await;
    let (a1, a2) = s.accounts.clone();
    let o = order(&s, &a1, "30.00");
    assert_eq!(o["state"], "CREATED");
    // paySign: the provider's signature over the four documented lines, for the same AppID.
    let p = &o["payment"];
    assert_eq!((p["appId"].as_str(), p["signType"].as_str()), (Some(SP_APPID), Some("RSA")));
    let prepay = p["package"].as_str().unwrap().strip_prefix("prepay_id=").unwrap();
    let mut ring = KeyRing::default();
    ring.add_pem(SERIAL, &s.provider_public).unwrap();
    let message = pay_sign_message(SP_APPID, p["timeStamp"].as_str().unwrap().parse().unwrap(), p["nonceStr"].as_str().unwrap(), prepay);
    assert!(ring.verify_raw(SERIAL, message.as_bytes(), p["paySign"].as_str().unwrap()).is_ok());
    let no = o["outTradeNo"].as_str().unwrap().to_string();
    assert_eq!(s.pay.order(&no).unwrap().sub_mchid, "1900000201", "East's payee");

    // The user pays; WeChat notifies; the account is credited.
    assert!(s.pay.pay(&no));
    let credited = TestApp::eventually(std::time::Duration::from_secs(20), || {
        let b = balance(&s.admin, &a1);
        async move { b == "30.00" }
    })
    .await;
    assert!(credited, "deliveries: {:?}", s.pay.deliveries());
    // The stand-in records a delivery once our answer reaches it, which may be after the credit.
    let answered = TestApp::eventually(std::time::Duration::from_secs(10), || {
        let last = s.pay.deliveries().last().map(|d| d.1);
        async move { last.is_some() }
    })
    .await;
    assert!(answered);
    assert_eq!(s.pay.deliveries().last().unwrap().1, 204);
    let orders = graphql(
        s.app.app.http_addr,
        Some(&s.customer),
        "query($a: ID!) { rechargeOrders(accountId: $a) { state transactionId } }",
        json!({"a": a1}),
    );
    assert_eq!(orders["data"]["rechargeOrders"][0]["state"], "PAID");

    // The same notification again, and five at once: still one credit.
    let (h, body) = s.pay.notification(&no, |_| {}).unwrap();
    assert_eq!(notify(&s, &h, &body), 204);
    let handles: Vec<_> = (0..5)
        .map(|_| {
            let (h, body) = s.pay.notification(&no, |_| {}).unwrap();
            let addr = s.app.app.http_addr;
            std::thread::spawn(move || {
                let mut hs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                hs.push(("Content-Type", "application/json"));
                http_request(addr, "POST", "/pay/wechat/notify", &hs, &String::from_utf8_lossy(&body)).0
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 204);
    }
    assert_eq!(balance(&s.admin, &a1), "30.00");
    let ledger = s.admin.ok("query($a: ID!) { account(id: $a) { ledger(first: 10) { items { kind amount } } } }", json!({"a": a1}));
    let wechat: Vec<&Value> =
        ledger["account"]["ledger"]["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "RECHARGE_WECHAT").collect();
    assert_eq!(wechat.len(), 1, "{ledger}");

    // A validly signed success for the same order with another transaction id (a second
    // payment, or a forger with WeChat's key): never credited, kept for refund, alarmed — and
    // its replays, with the same or yet another id, change nothing more.
    let first_tx = s.pay.order(&no).unwrap().transaction_id.unwrap();
    for (tx, times) in [("4200000000202612040000000001", 3), ("4200000000202612040000000002", 1)] {
        for _ in 0..times {
            let (h, body) = s.pay.notification(&no, |t| t["transaction_id"] = json!(tx)).unwrap();
            assert_eq!(notify(&s, &h, &body), 204, "answered, so WeChat stops retrying");
        }
    }
    assert_eq!(balance(&s.admin, &a1), "30.00", "credited once, whatever arrives");
    let ledger =
        s.admin.ok("query($a: ID!) { account(id: $a) { ledger(first: 50) { items { kind } } ledgerTotal balance } }", json!({"a": a1}));
    let recharges = ledger["account"]["ledger"]["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "RECHARGE_WECHAT").count();
    assert_eq!(recharges, 1, "{ledger}");
    assert_eq!(ledger["account"]["ledgerTotal"], ledger["account"]["balance"]);
    let orders = graphql(
        s.app.app.http_addr,
        Some(&s.customer),
        "query($a: ID!) { rechargeOrders(accountId: $a) { outTradeNo state transactionId } }",
        json!({"a": a1}),
    );
    let mine = orders["data"]["rechargeOrders"].as_array().unwrap().iter().find(|o| o["outTradeNo"] == no.as_str()).unwrap().clone();
    assert_eq!(
        (mine["state"].as_str(), mine["transactionId"].as_str()),
        (Some("PAID"), Some(first_tx.as_str())),
        "the first payment stays the order's"
    );
    let diffs =
        s.admin.ok("{ paymentDifferences { id orderId transactionId amount state reason } }", json!({}))["paymentDifferences"].clone();
    let diffs = diffs.as_array().unwrap();
    assert_eq!(diffs.len(), 2, "one per foreign transaction: {diffs:?}");
    assert!(diffs.iter().all(|d| d["orderId"] == o["id"] && d["amount"] == "30.00" && d["state"] == "OPEN"));
    assert!(diffs[0]["reason"].as_str().unwrap().contains("already paid"), "{diffs:?}");
    let alarm = s.admin.ok("{ alarms(activeOnly: true, kind: \"PAYMENT_DIFFERENCE\") { subjectId subjectKind } }", json!({}));
    assert_eq!(alarm["alarms"][0]["subjectId"], o["payeeId"], "{alarm}");
    // Settled by the operator (refunded on the merchant platform): once.
    let resolve = "mutation($id: ID!, $r: String!) { resolvePaymentDifference(id: $id, resolution: $r) { state resolution resolvedBy } }";
    assert_eq!(s.admin.fails(resolve, json!({"id": diffs[0]["id"], "r": " "}))["field"], "resolution");
    let done = s.admin.ok(resolve, json!({"id": diffs[0]["id"], "r": "refunded on the merchant platform"}));
    assert_eq!(done["resolvePaymentDifference"]["state"], "RESOLVED");
    assert_eq!(s.admin.fails(resolve, json!({"id": diffs[0]["id"], "r": "again"}))["code"], "CONFLICT");
    let open = s.admin.ok("{ paymentDifferences { id } }", json!({}))["paymentDifferences"].as_array().unwrap().len();
    assert_eq!(open, 1);

    // West's account pays into West's payee.
    let o2 = order(&s, &a2, "20.00");
    let no2 = o2["outTradeNo"].as_str().unwrap();
    assert_eq!(s.pay.order(no2).unwrap().sub_mchid, "1900000202", "West's payee");
    assert_ne!(o2["payeeId"], o["payeeId"]);
    s.pay.pay(no2);
    assert!(
        TestApp::eventually(std::time::Duration::from_secs(20), || {
            let b = balance(&s.admin, &a2);
            async move { b == "20.00" }
        })
        .await
    );
    // West's order paid a second time: West's difference is open while East's are settled;
    // East's alarm clears, West's stays (each payee's alarm is its own).
    let (h, body) = s.pay.notification(no2, |t| t["transaction_id"] = json!("4200000000202612040000000777")).unwrap();
    assert_eq!(notify(&s, &h, &body), 204);
    let open = s.admin.ok("{ paymentDifferences { id payeeId } }", json!({}))["paymentDifferences"].clone();
    for d in open.as_array().unwrap().iter().filter(|d| d["payeeId"] == o["payeeId"]) {
        s.admin.ok("mutation($id: ID!) { resolvePaymentDifference(id: $id, resolution: \"refunded\") { state } }", json!({"id": d["id"]}));
    }
    s.app.app.store.platform().evaluate_alarms(chrono::Utc::now()).await.unwrap();
    let active = s.admin.ok("{ alarms(activeOnly: true, kind: \"PAYMENT_DIFFERENCE\") { subjectId } }", json!({}))["alarms"].clone();
    assert_eq!(active, json!([{"subjectId": o2["payeeId"]}]), "East cleared, West still open");

    // The finance figures split by payee.
    let from = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let to = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let summary = s.admin.ok(
        "query($f: DateTime!, $t: DateTime!) { paymentSummary(from: $f, to: $t) { name subMchid payments paid net } }",
        json!({"f": from, "t": to}),
    );
    assert_eq!(
        summary["paymentSummary"],
        json!([
            {"name": "East", "subMchid": "1900000201", "payments": 1, "paid": "30.00", "net": "30.00"},
            {"name": "West", "subMchid": "1900000202", "payments": 1, "paid": "20.00", "net": "20.00"}
        ])
    );

    // Another customer's token cannot order for these accounts.
    let other = s.app.admin("pay-other").await;
    assert_eq!(
        other.fails("mutation($a: ID!) { createRechargeOrder(input: {accountId: $a, amount: \"5.00\"}) { id } }", json!({"a": a1}))["code"],
        "FORBIDDEN",
        "operators do not place customers' orders"
    );
    let bad = graphql(
        s.app.app.http_addr,
        Some(&s.customer),
        "mutation($a: ID!) { createRechargeOrder(input: {accountId: $a, amount: \"0.10\"}) { id } }",
        json!({"a": a1}),
    );
    assert_eq!(bad["errors"][0]["extensions"]["field"], "amount");
    s.pay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_stale_foreign_and_tampered_notifications_are_refused_and_change_nothing() {
    let s = setup().await;
    let (a1, _) = s.accounts.clone();
    let o = order(&s, &a1, "10.00");
    let no = o["outTradeNo"].as_str().unwrap().to_string();
    assert!(s.pay.pay_silently(&no));
    let now = chrono::Utc::now().timestamp();
    let set = |h: &mut Vec<(String, String)>, name: &str, value: &str| {
        for (k, v) in h.iter_mut() {
            if k == name {
                *v = value.to_string();
            }
        }
    };

    // A forged signature (another key's, well formed).
    let (mut h, body) = s.pay.notification(&no, |_| {}).unwrap();
    let (other_key, _) = generate_key_pair().unwrap();
    let forger = server::pay::wechatpay::MerchantSigner::from_pem("x", "x", &other_key).unwrap();
    let ts = h.iter().find(|(k, _)| k == "Wechatpay-Timestamp").unwrap().1.clone();
    let nonce = h.iter().find(|(k, _)| k == "Wechatpay-Nonce").unwrap().1.clone();
    let forged = forger.sign(&server::pay::wechatpay::response_message(&ts, &nonce, &body)).unwrap();
    set(&mut h, "Wechatpay-Signature", &forged);
    assert_eq!(notify(&s, &h, &body), 401, "forged signature");
    // A body altered after signing.
    let (h, body) = s.pay.notification(&no, |_| {}).unwrap();
    let altered = String::from_utf8(body).unwrap().replace("TRANSACTION.SUCCESS", "TRANSACTION.SUCCESS ");
    assert_eq!(notify(&s, &h, altered.as_bytes()), 401, "altered body");
    // A stale timestamp (properly signed six minutes ago).
    let (h, body) = s.pay.notification_at(&no, now - 360, |_| {}).unwrap();
    assert_eq!(notify(&s, &h, &body), 401, "stale");
    // An unknown serial.
    let (mut h, body) = s.pay.notification(&no, |_| {}).unwrap();
    set(&mut h, "Wechatpay-Serial", "PUB_KEY_ID_0000000000000000000000000000000000");
    assert_eq!(notify(&s, &h, &body), 401, "unknown serial");
    // A signature probe.
    let (mut h, body) = s.pay.notification(&no, |_| {}).unwrap();
    let sig = h.iter().find(|(k, _)| k == "Wechatpay-Signature").unwrap().1.clone();
    set(&mut h, "Wechatpay-Signature", &format!("WECHATPAY/SIGNTEST/{sig}"));
    assert_eq!(notify(&s, &h, &body), 401, "signature probe");
    // Signed by WeChat but not matching the order: amount, payee, provider, state.
    let (h, body) = s.pay.notification(&no, |t| t["amount"]["total"] = json!(100_000)).unwrap();
    assert_eq!(notify(&s, &h, &body), 400, "tampered amount");
    let (h, body) = s.pay.notification(&no, |t| t["sub_mchid"] = json!("1900000202")).unwrap();
    assert_eq!(notify(&s, &h, &body), 400, "another payee's payment");
    let (h, body) = s.pay.notification(&no, |t| t["sp_mchid"] = json!("1900009999")).unwrap();
    assert_eq!(notify(&s, &h, &body), 400, "another provider");
    let (h, body) = s.pay.notification(&no, |t| t["trade_state"] = json!("NOTPAY")).unwrap();
    assert_eq!(notify(&s, &h, &body), 400, "not paid");
    let (h, body) = s.pay.notification(&no, |t| t["out_trade_no"] = json!("VL-NOT-OURS-000001")).unwrap();
    assert_eq!(notify(&s, &h, &body), 400, "unknown order");

    assert_eq!(balance(&s.admin, &a1), "0.00", "nothing was credited");
    let orders = s.admin.ok("query($a: ID!) { rechargeOrders(accountId: $a) { state } }", json!({"a": a1}));
    assert_eq!(orders["rechargeOrders"][0]["state"], "CREATED");

    // The genuine notification still works afterwards.
    let (h, body) = s.pay.notification(&no, |_| {}).unwrap();
    assert_eq!(notify(&s, &h, &body), 204);
    assert_eq!(balance(&s.admin, &a1), "10.00");
    s.pay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_order_signed_with_the_wrong_key_is_refused_by_wechat_pay() {
    let s = setup().await;
    let mut provider = s.app.app.store.platform().payment_provider().await.unwrap().unwrap();
    provider.private_key_pem = generate_key_pair().unwrap().0;
    s.app.app.store.platform().set_payment_provider(&provider).await.unwrap();
    let v = graphql(
        s.app.app.http_addr,
        Some(&s.customer),
        "mutation($a: ID!) { createRechargeOrder(input: {accountId: $a, amount: \"5.00\"}) { id } }",
        json!({"a": s.accounts.0}),
    );
    assert_eq!(v["errors"][0]["extensions"]["code"], "CONFLICT");
    assert!(v["errors"][0]["message"].as_str().unwrap().contains("SIGN_ERROR"), "{v}");
    s.pay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unpaid_orders_are_queried_after_the_window_then_credited_or_closed() {
    let s = setup().await;
    let (a1, _) = s.accounts.clone();
    // Paid, but the notification never arrives: the query finds it.
    let paid = order(&s, &a1, "12.00");
    let paid_no = paid["outTradeNo"].as_str().unwrap().to_string();
    assert!(s.pay.pay_silently(&paid_no));
    // Never paid: closed once expired.
    let unpaid = order(&s, &a1, "8.00");
    let unpaid_no = unpaid["outTradeNo"].as_str().unwrap().to_string();
    let store = &s.app.app.store;
    let later = chrono::Utc::now() + chrono::Duration::minutes(10);
    assert_eq!(server::pay::sweep_pending(store, later).await.unwrap(), 1);
    assert_eq!(balance(&s.admin, &a1), "12.00");
    assert_eq!(s.pay.order(&unpaid_no).unwrap().state, "NOTPAY", "not expired yet: left open");
    assert_eq!(server::pay::sweep_pending(store, later).await.unwrap(), 0, "asked at most once a minute");
    let expired = chrono::Utc::now() + chrono::Duration::minutes(45);
    server::pay::sweep_pending(store, expired).await.unwrap();
    assert_eq!(s.pay.order(&unpaid_no).unwrap().state, "CLOSED");
    let orders =
        s.admin.ok("query($a: ID!) { rechargeOrders(accountId: $a) { outTradeNo state } }", json!({"a": a1}))["rechargeOrders"].clone();
    let state = |no: &str| orders.as_array().unwrap().iter().find(|o| o["outTradeNo"] == no).unwrap()["state"].clone();
    assert_eq!((state(&paid_no), state(&unpaid_no)), (json!("PAID"), json!("CLOSED")));
    // A late notification of the paid order changes nothing.
    let (h, body) = s.pay.notification(&paid_no, |_| {}).unwrap();
    assert_eq!(notify(&s, &h, &body), 204);
    assert_eq!(balance(&s.admin, &a1), "12.00");
    // A success for the order closed unpaid is not credited: kept for refund.
    let (h, body) = s.pay.notification(&unpaid_no, |t| t["transaction_id"] = json!("4200000000202612040000000099")).unwrap();
    assert_eq!(notify(&s, &h, &body), 204);
    assert_eq!(balance(&s.admin, &a1), "12.00");
    let diffs = s.admin.ok("{ paymentDifferences { orderId amount reason } }", json!({}))["paymentDifferences"].clone();
    assert_eq!(diffs[0]["orderId"], unpaid["id"], "{diffs}");
    assert!(diffs[0]["reason"].as_str().unwrap().contains("closed"), "{diffs}");
    assert_eq!(diffs.as_array().unwrap().len(), 1);
    s.pay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_saas_operator_sets_the_provider_and_its_secrets_never_come_back() {
    let app = TestApp::spawn().await;
    let admin_token =
        app.app.keys.issue(server::api::auth::Kind::Admin, None, "platform-admin", None, chrono::Duration::minutes(5)).unwrap();
    let (private, _) = generate_key_pair().unwrap();
    let (_, wechat_old) = generate_key_pair().unwrap();
    let (_, wechat_new) = generate_key_pair().unwrap();
    let set = "mutation($i: PaymentProviderInput!) { setPaymentProvider(input: $i) { spMchid serial wechatKeySerials notifyUrl } }";
    let input = |key: &str, v3: &str| {
        json!({"i": {"spMchid": SP_MCHID, "spAppid": SP_APPID, "serial": SERIAL, "privateKeyPem": key, "apiV3Key": v3,
            "wechatKeys": [{"serial": "PUB_KEY_ID_OLD", "publicKeyPem": wechat_old}, {"serial": "PUB_KEY_ID_NEW", "publicKeyPem": wechat_new}],
            "notifyUrl": "https://pay.example.com/pay/wechat/notify"}})
    };
    let bad = graphql(app.app.http_addr, Some(&admin_token), set, input("not a key", API_V3_KEY));
    assert_eq!(bad["errors"][0]["extensions"]["field"], "privateKeyPem");
    let bad = graphql(app.app.http_addr, Some(&admin_token), set, input(&private, "short"));
    assert_eq!(bad["errors"][0]["extensions"]["field"], "apiV3Key");
    let ok = graphql(app.app.http_addr, Some(&admin_token), set, input(&private, API_V3_KEY));
    assert_eq!(ok["data"]["setPaymentProvider"]["wechatKeySerials"], json!(["PUB_KEY_ID_OLD", "PUB_KEY_ID_NEW"]), "{ok}");
    let view = graphql(app.app.http_addr, Some(&admin_token), "{ paymentProvider { spMchid serial apiBase } }", json!({}));
    assert_eq!(view["data"]["paymentProvider"]["apiBase"], "https://api.mch.weixin.qq.com");
    assert!(!view.to_string().contains("PRIVATE KEY") && !view.to_string().contains(API_V3_KEY));
    // A tenant administrator cannot see or set it.
    let tenant = app.admin("pay-admin").await;
    assert_eq!(tenant.fails("{ paymentProvider { spMchid } }", json!({}))["code"], "FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refunds_go_back_to_the_payment_and_a_failed_refund_returns_the_money() {
    let s = setup().await;
    let (a1, _) = s.accounts.clone();
    let o = order(&s, &a1, "30.00");
    let no = o["outTradeNo"].as_str().unwrap().to_string();
    s.pay.pay(&no);
    assert!(
        TestApp::eventually(std::time::Duration::from_secs(20), || {
            let b = balance(&s.admin, &a1);
            async move { b == "30.00" }
        })
        .await
    );
    let refund =
        "mutation($o: ID!, $m: Decimal!) { refundPayment(input: {orderId: $o, amount: $m, reason: \"moving out\"}) { id state amount } }";
    let r1 = s.admin.ok(refund, json!({"o": o["id"], "m": "10.00"}))["refundPayment"].clone();
    assert_eq!(r1["state"], "PROCESSING");
    assert_eq!(balance(&s.admin, &a1), "20.00", "the money leaves the balance at once");
    let state = |id: &Value| {
        let refunds =
            s.admin.ok("query($o: ID!) { paymentRefunds(orderId: $o) { id state refundId } }", json!({"o": o["id"]}))["paymentRefunds"]
                .clone();
        refunds.as_array().unwrap().iter().find(|r| r["id"] == *id).unwrap()["state"].clone()
    };
    assert!(
        TestApp::eventually(std::time::Duration::from_secs(20), || {
            let st = state(&r1["id"]);
            async move { st == "SUCCESS" }
        })
        .await
    );
    assert_eq!(balance(&s.admin, &a1), "20.00");

    // More than what is left of the order is refused, nothing moves.
    assert_eq!(s.admin.fails(refund, json!({"o": o["id"], "m": "25.00"}))["field"], "amount");
    assert_eq!(balance(&s.admin, &a1), "20.00");

    // WeChat fails the next refund: the money comes back, once.
    s.pay.fail_refunds(true);
    let r2 = s.admin.ok(refund, json!({"o": o["id"], "m": "5.00"}))["refundPayment"].clone();
    assert_eq!(balance(&s.admin, &a1), "15.00");
    assert!(
        TestApp::eventually(std::time::Duration::from_secs(20), || {
            let st = state(&r2["id"]);
            async move { st == "ABNORMAL" }
        })
        .await
    );
    assert_eq!(balance(&s.admin, &a1), "20.00", "returned by a reversal");
    let ledger = s.admin.ok("query($a: ID!) { account(id: $a) { ledger(first: 20) { items { kind amount } } } }", json!({"a": a1}));
    let kinds: Vec<String> =
        ledger["account"]["ledger"]["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "REFUND").count(), 2, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "REVERSAL").count(), 1, "{kinds:?}");
    // No outcome arrives: the sweep asks WeChat after the window and finishes the refund.
    s.pay.fail_refunds(false);
    s.pay.silent_refunds(true);
    let r3 = s.admin.ok(refund, json!({"o": o["id"], "m": "2.00"}))["refundPayment"].clone();
    assert_eq!(balance(&s.admin, &a1), "18.00");
    assert_eq!(state(&r3["id"]), "PROCESSING");
    server::pay::sweep_pending(&s.app.app.store, chrono::Utc::now() + chrono::Duration::minutes(10)).await.unwrap();
    assert_eq!(state(&r3["id"]), "SUCCESS");
    assert_eq!(balance(&s.admin, &a1), "18.00");
    // A viewer may not refund.
    let viewer_role =
        s.admin.ok("{ roles { id name } }", json!({}))["roles"].as_array().unwrap().iter().find(|r| r["name"] == "viewer").unwrap()["id"]
            .clone();
    s.admin.ok(
        "mutation($r: ID!) { createOperator(input: {username: \"viewer1\", password: \"Strong-Pass 2026\", roleId: $r}) { id } }",
        json!({"r": viewer_role}),
    );
    let token = s.app.session(&s.admin.tenant, "viewer1").await;
    let denied = graphql(s.app.app.http_addr, Some(&token), refund, json!({"o": o["id"], "m": "1.00"}));
    assert_eq!(denied["errors"][0]["extensions"]["code"], "FORBIDDEN");
    s.pay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reconciliation_finds_planted_differences_per_payee() {
    let s = setup().await;
    let (a1, _) = s.accounts.clone();
    let o1 = order(&s, &a1, "30.00");
    let no1 = o1["outTradeNo"].as_str().unwrap().to_string();
    s.pay.pay(&no1);
    assert!(
        TestApp::eventually(std::time::Duration::from_secs(20), || {
            let b = balance(&s.admin, &a1);
            async move { b == "30.00" }
        })
        .await
    );
    let o2 = order(&s, &a1, "12.00");
    let no2 = o2["outTradeNo"].as_str().unwrap().to_string();
    s.pay.pay_silently(&no2);
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive().to_string();
    let payees = s.admin.ok("{ payees { id name } }", json!({}))["payees"].clone();
    let payee = |name: &str| payees.as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()["id"].clone();
    let run = |p: Value| {
        s.admin.ok(
            "mutation($p: ID!, $d: NaiveDate!) { reconcilePayments(input: {payeeId: $p, date: $d}) { billRows matched discrepancies { kind outTradeNo ours theirs } } }",
            json!({"p": p, "d": today}),
        )["reconcilePayments"]
            .clone()
    };
    // Clean: both payments are in the bill; the silent one is not credited yet.
    let r = run(payee("East"));
    assert_eq!((r["billRows"].as_i64(), r["matched"].as_i64()), (Some(2), Some(1)), "{r}");
    assert_eq!(r["discrepancies"], json!([{"kind": "MISSING_CREDIT", "outTradeNo": no2, "ours": null, "theirs": "12.00"}]));
    // Plant a wrong amount and a payment we never ordered.
    s.pay.bill_amount(&no1, 3100);
    s.pay.bill_extra("1900000201", "VL-NOT-OURS-000002", 500);
    let r = run(payee("East"));
    let kinds: Vec<(String, String)> = r["discrepancies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["kind"].as_str().unwrap().to_string(), d["outTradeNo"].as_str().unwrap().to_string()))
        .collect();
    assert!(kinds.contains(&("AMOUNT_MISMATCH".into(), no1.clone())), "{r}");
    assert!(kinds.contains(&("UNKNOWN_ORDER".into(), "VL-NOT-OURS-000002".into())), "{r}");
    assert!(kinds.contains(&("MISSING_CREDIT".into(), no2.clone())), "{r}");
    assert_eq!(r["matched"], 0);
    // Results are kept; the daily pass reconciles yesterday once per payee after 10:30.
    let kept = s.admin.ok("{ reconciliations { date matched discrepancies { kind } } }", json!({}))["reconciliations"].clone();
    assert_eq!(kept.as_array().unwrap().len(), 1, "one row per payee and day: {kept}");
    assert_eq!(kept[0]["discrepancies"].as_array().unwrap().len(), 3);
    // Differences raise an alarm on the payee (SMS to the contacts where a template is set);
    // it clears when the payee's latest reconciliation is clean.
    let difference = |admin: &Admin| {
        admin.ok(r#"{ alarms(activeOnly: true, kind: "PAYMENT_DIFFERENCE") { subjectKind subjectId severity } }"#, json!({}))["alarms"]
            .clone()
    };
    s.app.app.store.platform().evaluate_alarms(chrono::Utc::now()).await.unwrap();
    assert_eq!(difference(&s.admin), json!([{"subjectKind": "PAYEE", "subjectId": payee("East"), "severity": "MAJOR"}]));
    let tomorrow_noon =
        chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive().succ_opt().unwrap().and_hms_opt(12, 0, 0).unwrap();
    let at = tomorrow_noon.and_local_timezone(chrono_tz::Asia::Shanghai).unwrap().with_timezone(&chrono::Utc);
    assert_eq!(server::pay::reconcile_yesterday(&s.app.app.store, at).await.unwrap(), 1, "West only: East's day is done already");
    assert_eq!(server::pay::reconcile_yesterday(&s.app.app.store, at).await.unwrap(), 0, "once");
    let kept = s.admin.ok("{ reconciliations { date } }", json!({}))["reconciliations"].clone();
    assert_eq!(kept.as_array().unwrap().len(), 2);
    // West's payee has its own, empty bill.
    let r = run(payee("West"));
    assert_eq!((r["billRows"].as_i64(), r["discrepancies"].as_array().map(Vec::len)), (Some(0), Some(0)));
    // East's day is set right (the bill corrected, the late notification in): its rerun is
    // clean and the alarm clears.
    s.pay.bill_amount(&no1, 3000);
    s.pay.clear_bill_extras();
    let (h, body) = s.pay.notification(&no2, |_| {}).unwrap();
    assert_eq!(notify(&s, &h, &body), 204);
    let r = run(payee("East"));
    assert_eq!(r["discrepancies"], json!([]), "{r}");
    s.app.app.store.platform().evaluate_alarms(chrono::Utc::now()).await.unwrap();
    assert_eq!(difference(&s.admin), json!([]));
    s.pay.stop().await;
}

/// Done means: order -> pay -> notification -> credited -> the tripped meter is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_payment_closes_the_meter_it_tripped_for() {
    use super::money::{account, commands, feed, flat_tariff, local, open, reading, site};
    let app = TestApp::spawn().await;
    let admin = app.admin("pay-trip").await;
    let (pay, _) = with_provider(&app).await;
    let s = site(&admin, 1, 701);
    flat_tariff(&admin, "1.0");
    admin.ok(
        "mutation($p: ID!) { createPayee(input: {name: \"Mall\", subMchid: \"1900000201\", propertyId: $p}) { id } }",
        json!({"p": s.property}),
    );
    let acc = open(&admin, &s, &[0], Some("1.00"), "0.00");
    let (meter, user, addr) = s.meters[0].clone();
    feed(&app, vec![reading(&user, addr, local(1, 0, 0), "100.00")]).await;
    feed(&app, vec![reading(&user, addr, local(1, 1, 0), "102.00")]).await;
    let a = account(&admin, &acc);
    assert_eq!((a["balance"].as_str(), a["relay"].as_str()), (Some("-1.00"), Some("OPEN")), "tripped: {a}");
    assert_eq!(commands(&admin), vec![("TRIP".to_string(), meter.as_str().unwrap().to_string())]);

    let number = admin.ok("query($a: ID!) { account(id: $a) { number } }", json!({"a": acc}))["account"]["number"].clone();
    let customer = customer_token(&app, &admin, "13800000000", &number).await;
    let o = graphql(
        app.app.http_addr,
        Some(&customer),
        "mutation($a: ID!) { createRechargeOrder(input: {accountId: $a, amount: \"20.00\"}) { outTradeNo } }",
        json!({"a": acc}),
    );
    let no = o["data"]["createRechargeOrder"]["outTradeNo"].as_str().unwrap_or_else(|| panic!("{o}")).to_string();
    assert!(pay.pay(&no));
    let closed = TestApp::eventually(std::time::Duration::from_secs(20), || {
        let a = account(&admin, &acc);
        async move { a["relay"] == "CLOSED" }
    })
    .await;
    assert!(closed, "{}", account(&admin, &acc));
    assert_eq!(account(&admin, &acc)["balance"], "19.00");
    let kinds: Vec<String> = commands(&admin).into_iter().map(|c| c.0).collect();
    assert_eq!(kinds, vec!["TRIP", "CLOSE"]);
    pay.stop().await;
}

/// Whatever arrives, in any order and at once: validly signed successes for several orders,
/// each replayed with its own transaction id and with others. Every order is credited once
/// (by whichever payment came first), every other payment is kept once as a difference, and
/// the balance equals the sum of its entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn notification_storms_with_new_transaction_ids_credit_each_order_once() {
    let s = setup().await;
    let (a1, _) = s.accounts.clone();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let amounts = ["10.00", "12.34", "1.50", "99.99", "7.00"];
    let mut deliveries = Vec::new();
    let mut expected_differences = 0;
    for (i, amount) in amounts.iter().enumerate() {
        let no = order(&s, &a1, amount)["outTradeNo"].as_str().unwrap().to_string();
        // 1–4 distinct payments for the order, each delivered 1–3 times.
        let payments = 1 + next(4);
        expected_differences += payments - 1;
        for p in 0..payments {
            let tx = format!("42000000002026120400{i:02}{p:06}");
            for _ in 0..1 + next(3) {
                deliveries.push(s.pay.notification(&no, |t| t["transaction_id"] = json!(tx)).unwrap());
            }
        }
    }
    for i in (1..deliveries.len()).rev() {
        deliveries.swap(i, next(i as u64 + 1) as usize);
    }
    let addr = s.app.app.http_addr;
    let handles: Vec<_> = deliveries
        .into_iter()
        .map(|(h, body)| {
            std::thread::spawn(move || {
                let mut hs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                hs.push(("Content-Type", "application/json"));
                http_request(addr, "POST", "/pay/wechat/notify", &hs, &String::from_utf8_lossy(&body)).0
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 204);
    }
    assert_eq!(balance(&s.admin, &a1), "130.83", "each order credited once");
    let acc =
        s.admin.ok("query($a: ID!) { account(id: $a) { balance ledgerTotal ledger(first: 100) { items { kind } } } }", json!({"a": a1}));
    assert_eq!(acc["account"]["ledgerTotal"], acc["account"]["balance"]);
    assert_eq!(acc["account"]["ledger"]["items"].as_array().unwrap().len(), amounts.len());
    let diffs = s.admin.ok("{ paymentDifferences { transactionId } }", json!({}))["paymentDifferences"].as_array().unwrap().len();
    assert_eq!(diffs as u64, expected_differences);
    s.pay.stop().await;
}

/// A payment for an account closed after its order was placed is not lost and not credited:
/// the order is closed to further payment, the money is kept as a difference for refund,
/// and the order itself cannot be refunded too (the money would go back twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_payment_for_an_account_closed_meanwhile_is_kept_for_refund_once() {
    let s = setup().await;
    let (a1, _) = s.accounts.clone();
    let o = order(&s, &a1, "15.00");
    let no = o["outTradeNo"].as_str().unwrap().to_string();
    s.admin.ok("mutation($a: ID!) { closeAccount(id: $a) { account { state } } }", json!({"a": a1}));
    assert!(s.pay.pay(&no));
    let kept = TestApp::eventually(std::time::Duration::from_secs(20), || {
        let d = s.admin.ok("{ paymentDifferences { orderId amount reason } }", json!({}))["paymentDifferences"].clone();
        async move { d.as_array().is_some_and(|d| d.len() == 1) }
    })
    .await;
    assert!(kept, "deliveries: {:?}", s.pay.deliveries());
    let d = s.admin.ok("{ paymentDifferences { orderId amount reason } }", json!({}))["paymentDifferences"][0].clone();
    assert_eq!((d["orderId"].clone(), d["amount"].as_str()), (o["id"].clone(), Some("15.00")));
    assert!(d["reason"].as_str().unwrap().contains("could not be credited"), "{d}");
    let acc = s.admin.ok("query($a: ID!) { account(id: $a) { balance state ledgerTotal } }", json!({"a": a1}))["account"].clone();
    assert_eq!(acc, json!({"balance": "0.00", "state": "CLOSED", "ledgerTotal": "0.00"}));
    let orders = s.admin.ok("query($a: ID!) { rechargeOrders(accountId: $a) { id state } }", json!({"a": a1}))["rechargeOrders"].clone();
    assert_eq!(orders[0]["state"], "CLOSED");
    let refund = s
        .admin
        .fails("mutation($o: ID!) { refundPayment(input: {orderId: $o, amount: \"15.00\", reason: \"x\"}) { id } }", json!({"o": o["id"]}));
    assert_eq!(refund["code"], "CONFLICT", "{refund}");
    // WeChat retries: still one difference, nothing credited.
    let (h, body) = s.pay.notification(&no, |_| {}).unwrap();
    assert_eq!(notify(&s, &h, &body), 204);
    assert_eq!(s.admin.ok("{ paymentDifferences { id } }", json!({}))["paymentDifferences"].as_array().unwrap().len(), 1);
    s.pay.stop().await;
}

/// Refunds racing for one order cannot refund more than was paid: what is refunded already is
/// read under the order's lock, in the refund's own transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_refunds_never_return_more_than_the_payment() {
    let s = setup().await;
    let (a1, _) = s.accounts.clone();
    // Cash on the account too, so only the order's own amount can stop the refunds.
    s.admin.ok("mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"100.00\", channel: CASH}) { receiptNo } }", json!({"a": a1}));
    let o = order(&s, &a1, "30.00");
    s.pay.pay(o["outTradeNo"].as_str().unwrap());
    assert!(
        TestApp::eventually(std::time::Duration::from_secs(20), || {
            let b = balance(&s.admin, &a1);
            async move { b == "130.00" }
        })
        .await
    );
    let refund = "mutation($o: ID!) { refundPayment(input: {orderId: $o, amount: \"10.00\", reason: \"race\"}) { id } }";
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let (addr, token, id) = (s.app.app.http_addr, s.admin.token.clone(), o["id"].clone());
            std::thread::spawn(move || graphql(addr, Some(&token), refund, json!({"o": id})))
        })
        .collect();
    let answers: Vec<Value> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let accepted = answers.iter().filter(|a| a.get("errors").is_none()).count();
    assert_eq!(accepted, 3, "exactly three refunds of 10.00 fit into 30.00: {answers:?}");
    assert_eq!(balance(&s.admin, &a1), "100.00");
    let refunds = s.admin.ok("query($o: ID!) { paymentRefunds(orderId: $o) { amount } }", json!({"o": o["id"]}))["paymentRefunds"].clone();
    assert_eq!(refunds.as_array().unwrap().len(), 3);
    s.pay.stop().await;
}
