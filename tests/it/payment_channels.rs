//! Payments (issue 6, second part): a payee that is its own WeChat Pay merchant (direct
//! mode) is paid, refunded and reconciled with its own keys at its own notification path,
//! and WeChat's key for it rotates with overlap; Alipay recharges end to end against the
//! local gateway with RSA2 in both directions, and forged, tampered and foreign
//! notifications are refused with nothing changed.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use server::pay::alipay_standin::AlipayStandIn;
use server::pay::wechatpay::{KeyRing, generate_key_pair, pay_sign_message};
use tests::{TestApp, graphql, http_request};

use crate::payments::{SP_APPID, Setup, balance, order, setup};

const DIRECT_MCHID: &str = "1230000109";
const DIRECT_SERIAL: &str = "3775B6A45ACD588826D15E583A95F5DD20FA6FE7";
const DIRECT_V3: &str = "direct-v3-key-0123456789abcdefgh";
const ALIPAY_APP: &str = "2021000123456789";
const SELLER: &str = "2088102146225135";

/// A third property whose payee is DIRECT, with a meter and an account of the same
/// customer: (payee id, account id).
fn north(s: &Setup) -> (String, String) {
    let customer =
        s.admin.ok("query($a: ID!) { account(id: $a) { customerId } }", json!({"a": s.accounts.0}))["account"]["customerId"].clone();
    let p = s.admin.ok(r#"mutation { createProperty(input: {name: "North"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let payee = s.admin.ok(
        "mutation($p: ID!, $m: String!) { createPayee(input: {name: \"North\", mode: DIRECT, subMchid: $m, propertyId: $p}) { id mode subMchid credentials { channel } } }",
        json!({"p": p, "m": DIRECT_MCHID}),
    )["createPayee"]
        .clone();
    assert_eq!((payee["mode"].as_str(), payee["credentials"].as_array().map(Vec::len)), (Some("DIRECT"), Some(0)));
    let m = s.admin.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000000603\", phases: 1, linkType: FOUR_G}) { meter { id } } }",
        json!({"p": p}),
    )["registerMeter"]["meter"]["id"]
        .clone();
    let a = s.admin.ok(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m]}) { account { id } } }",
        json!({"c": customer, "m": m}),
    )["openAccount"]["account"]["id"]
        .clone();
    (payee["id"].as_str().unwrap().into(), a.as_str().unwrap().into())
}

const SET_KEYS: &str = "mutation($i: PayeeWechatKeysInput!) { setPayeeWechatKeys(input: $i) { id credentials { channel appId merchantId serial verifyKeyIds } } }";

fn post_notification(s: &Setup, path: &str, headers: &[(String, String)], body: &[u8]) -> u16 {
    let mut h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    h.push(("Content-Type", "application/json"));
    http_request(s.app.app.http_addr, "POST", path, &h, &String::from_utf8_lossy(body)).0
}

async fn credited(s: &Setup, account: &str, expected: &str) -> bool {
    TestApp::eventually(Duration::from_secs(20), || {
        let b = balance(&s.admin, account);
        let want = expected.to_string();
        async move { b == want }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_direct_merchant_payee_is_paid_refunded_and_reconciled_with_its_own_keys() {
    let s = setup().await;
    let (payee, account) = north(&s);
    let (private, public) = generate_key_pair().unwrap();
    let (key_id, wechat_pem) = s.pay.add_direct_merchant(DIRECT_MCHID, SP_APPID, DIRECT_SERIAL, &public, DIRECT_V3).unwrap();

    // Keys are checked before anything is stored; secrets never come back.
    let input = |keys: Value, private: Option<&str>, v3: Option<&str>| {
        json!({"i": {"payeeId": payee, "appId": SP_APPID, "serial": DIRECT_SERIAL, "privateKeyPem": private, "apiV3Key": v3,
            "wechatKeys": keys, "apiBase": s.pay.base}})
    };
    let one_key = json!([{"serial": key_id, "publicKeyPem": wechat_pem}]);
    let bad = s.admin.fails(SET_KEYS, input(one_key.clone(), Some("not a key"), Some(DIRECT_V3)));
    assert_eq!(bad["field"], "privateKeyPem", "{bad}");
    let bad = s.admin.fails(SET_KEYS, input(one_key.clone(), Some(&private), Some("short")));
    assert_eq!(bad["field"], "apiV3Key", "{bad}");
    let none = s.admin.ok("{ payees { name credentials { channel } } }", json!({}));
    assert!(none["payees"].as_array().unwrap().iter().all(|p| p["credentials"].as_array().unwrap().is_empty()), "nothing stored");
    let set = s.admin.ok(SET_KEYS, input(one_key.clone(), Some(&private), Some(DIRECT_V3)));
    let c = &set["setPayeeWechatKeys"]["credentials"][0];
    assert_eq!((c["merchantId"].as_str(), c["verifyKeyIds"][0].as_str()), (Some(DIRECT_MCHID), Some(key_id.as_str())));
    let everything = s.admin.gql("{ payees { id credentials { channel appId merchantId serial verifyKeyIds updatedAt } } }", json!({}));
    assert!(!everything.to_string().contains("PRIVATE KEY") && !everything.to_string().contains(DIRECT_V3));
    // A PARTNER payee has no keys of its own.
    let east = everything["data"]["payees"].as_array().unwrap().iter().find(|p| p["id"] != payee.as_str()).unwrap()["id"].clone();
    let refused = s.admin.fails(SET_KEYS, json!({"i": {"payeeId": east, "appId": SP_APPID, "serial": DIRECT_SERIAL, "privateKeyPem": private, "apiV3Key": DIRECT_V3, "wechatKeys": one_key}}));
    assert_eq!(refused["field"], "payeeId");

    // The customer's order for North goes to the direct merchant, signed with its key.
    let o = order(&s, &account, "40.00");
    let no = o["outTradeNo"].as_str().unwrap().to_string();
    assert_eq!(s.pay.order(&no).map(|o| (o.mchid, o.direct)), Some((DIRECT_MCHID.to_string(), true)));
    let p = &o["payment"];
    let prepay = p["package"].as_str().unwrap().strip_prefix("prepay_id=").unwrap();
    let mut ring = KeyRing::default();
    ring.add_pem(DIRECT_SERIAL, &public).unwrap();
    let message = pay_sign_message(SP_APPID, p["timeStamp"].as_str().unwrap().parse().unwrap(), p["nonceStr"].as_str().unwrap(), prepay);
    assert!(ring.verify_raw(DIRECT_SERIAL, message.as_bytes(), p["paySign"].as_str().unwrap()).is_ok(), "paySign by the direct merchant");

    // Paid: the notification reaches the payee's own path and is credited once.
    assert!(s.pay.pay(&no));
    assert!(credited(&s, &account, "40.00").await, "deliveries: {:?}", s.pay.deliveries());
    let own_path = format!("/pay/wechat/notify/{payee}");
    let (h, body) = s.pay.notification(&no, |_| {}).unwrap();
    assert_eq!(post_notification(&s, &own_path, &h, &body), 204, "again: acknowledged");
    // The direct merchant's notification at the platform's path: WeChat's key for the
    // direct merchant is not the provider's (unknown serial).
    assert_eq!(post_notification(&s, "/pay/wechat/notify", &h, &body), 401);
    // A notification for a partner order posted to the direct payee's path is not its own.
    let partner = order(&s, &s.accounts.0, "5.00");
    let partner_no = partner["outTradeNo"].as_str().unwrap().to_string();
    s.pay.pay_silently(&partner_no);
    let (ph, pbody) = s.pay.notification(&partner_no, |_| {}).unwrap();
    assert_eq!(post_notification(&s, &own_path, &ph, &pbody), 401);
    // Signed with the direct merchant's key, but naming another merchant: refused.
    let (fh, fbody) = s.pay.notification(&no, |t| t["mchid"] = json!("1999999999")).unwrap();
    assert_eq!(post_notification(&s, &own_path, &fh, &fbody), 400);
    assert_eq!(post_notification(&s, "/pay/wechat/notify/00000000-0000-4000-8000-000000000000", &h, &body), 404);
    assert_eq!(balance(&s.admin, &account), "40.00");
    assert_eq!(balance(&s.admin, &s.accounts.0), "0.00");

    // WeChat rotates the key it signs with: unknown until listed, then both verify
    // (overlap), then the old one is dropped.
    let (new_id, new_pem) = s.pay.rotate_direct_key(DIRECT_MCHID).unwrap();
    let (nh, nbody) = s.pay.notification(&no, |_| {}).unwrap();
    assert_eq!(post_notification(&s, &own_path, &nh, &nbody), 401, "not yet trusted");
    let both = json!([{"serial": key_id, "publicKeyPem": wechat_pem}, {"serial": new_id, "publicKeyPem": new_pem}]);
    let rotated = s.admin.ok(SET_KEYS, input(both, None, None));
    assert_eq!(rotated["setPayeeWechatKeys"]["credentials"][0]["verifyKeyIds"].as_array().unwrap().len(), 2);
    assert_eq!(post_notification(&s, &own_path, &nh, &nbody), 204, "new key, secrets kept");
    assert_eq!(post_notification(&s, &own_path, &h, &body), 204, "old key during the overlap");
    s.admin.ok(SET_KEYS, input(json!([{"serial": new_id, "publicKeyPem": new_pem}]), None, None));
    assert_eq!(post_notification(&s, &own_path, &h, &body), 401, "old key retired");
    assert_eq!(balance(&s.admin, &account), "40.00", "still one credit");

    // A refund goes back through the direct merchant; its outcome arrives at its path.
    let order_id = o["id"].clone();
    let r = s.admin.ok(
        "mutation($o: ID!) { refundPayment(input: {orderId: $o, amount: \"15.00\", reason: \"moved out\"}) { state } }",
        json!({"o": order_id}),
    )["refundPayment"]
        .clone();
    assert_eq!(r["state"], "PROCESSING");
    let done = TestApp::eventually(Duration::from_secs(20), || {
        let v = s.admin.ok("query($o: ID!) { paymentRefunds(orderId: $o) { state } }", json!({"o": order_id}));
        async move { v["paymentRefunds"][0]["state"] == "SUCCESS" }
    })
    .await;
    assert!(done);
    assert_eq!(s.pay.refunds().len(), 1);
    assert_eq!(balance(&s.admin, &account), "25.00");

    // Orders whose outcome did not arrive are asked about through the direct endpoints:
    // one paid silently is credited, one never paid is closed after its expiry.
    let silent = order(&s, &account, "6.00");
    let silent_no = silent["outTradeNo"].as_str().unwrap().to_string();
    s.pay.pay_silently(&silent_no);
    let unpaid = order(&s, &account, "9.00");
    let unpaid_no = unpaid["outTradeNo"].as_str().unwrap().to_string();
    server::pay::sweep_pending(&s.app.app.store, chrono::Utc::now() + chrono::Duration::minutes(31)).await.unwrap();
    assert_eq!(balance(&s.admin, &account), "31.00");
    assert_eq!(s.pay.order(&unpaid_no).unwrap().state, "CLOSED");

    // Finance sees North apart from East and West; its own bill reconciles.
    let from = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let to = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let summary = s.admin.ok(
        "query($f: DateTime!, $t: DateTime!) { paymentSummary(from: $f, to: $t) { name subMchid paid refunded } }",
        json!({"f": from, "t": to}),
    )["paymentSummary"]
        .clone();
    let north_row = summary.as_array().unwrap().iter().find(|r| r["name"] == "North").unwrap();
    assert_eq!((north_row["paid"].as_str(), north_row["refunded"].as_str()), (Some("46.00"), Some("15.00")), "{summary}");
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive().to_string();
    let rec = s.admin.ok(
        "mutation($p: ID!, $d: NaiveDate!) { reconcilePayments(input: {payeeId: $p, date: $d}) { billRows matched discrepancies { kind } } }",
        json!({"p": payee, "d": today}),
    )["reconcilePayments"]
        .clone();
    // Two payments and the refund, each matched.
    assert_eq!((rec["billRows"].as_i64(), rec["matched"].as_i64()), (Some(3), Some(3)), "{rec}");
    assert_eq!(rec["discrepancies"], json!([]));
    s.pay.stop().await;
}

pub(crate) struct Alipay {
    pub gateway: AlipayStandIn,
    payee: String,
    app_private: String,
}

/// East's payee gets an Alipay app at a fresh local gateway.
pub(crate) async fn with_alipay(s: &Setup) -> Alipay {
    let gateway = AlipayStandIn::start("127.0.0.1:0".parse().unwrap(), 0.001).unwrap();
    let (private, public) = generate_key_pair().unwrap();
    gateway.add_app(ALIPAY_APP, SELLER, &public).unwrap();
    let payees = s.admin.ok("{ payees { id name } }", json!({}))["payees"].clone();
    let payee = payees.as_array().unwrap().iter().find(|p| p["name"] == "East").unwrap()["id"].as_str().unwrap().to_string();
    let set = "mutation($i: PayeeAlipayInput!) { setPayeeAlipay(input: $i) { credentials { channel appId merchantId verifyKeyIds } } }";
    let input = |app: &str, key: &str| json!({"i": {"payeeId": payee, "appId": app, "sellerId": SELLER, "appPrivateKey": key, "alipayPublicKey": gateway.alipay_public_pem, "gateway": gateway.gateway}});
    assert_eq!(s.admin.fails(set, input("123", &private))["field"], "appId");
    assert_eq!(s.admin.fails(set, input(ALIPAY_APP, "MIIBroken"))["field"], "appPrivateKey");
    // Alipay's key tool prints bare Base64: accepted as such.
    let bare: String = private.lines().filter(|l| !l.starts_with("-----")).collect();
    let v = s.admin.ok(set, input(ALIPAY_APP, &bare));
    assert_eq!(v["setPayeeAlipay"]["credentials"][0]["channel"], "ALIPAY");
    assert!(!v.to_string().contains(&bare[..40]));
    Alipay { gateway, payee, app_private: private }
}

fn alipay_order(s: &Setup, account: &str, amount: &str) -> Value {
    let v = graphql(
        s.app.app.http_addr,
        Some(&s.customer),
        "mutation($a: ID!, $m: Decimal!) { createRechargeOrder(input: {accountId: $a, amount: $m, channel: ALIPAY}) { id outTradeNo channel state qrCode payment { appId } } }",
        json!({"a": account, "m": amount}),
    );
    assert!(v.get("errors").is_none(), "{v}");
    v["data"]["createRechargeOrder"].clone()
}

fn post_form(s: &Setup, params: &[(String, String)]) -> (u16, String) {
    let form = serde_urlencoded::to_string(params).unwrap();
    http_request(s.app.app.http_addr, "POST", "/pay/alipay/notify", &[("Content-Type", "application/x-www-form-urlencoded")], &form)
}

fn altered(params: &[(String, String)], key: &str, value: &str) -> Vec<(String, String)> {
    params.iter().map(|(k, v)| (k.clone(), if k == key { value.to_string() } else { v.clone() })).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn alipay_recharges_end_to_end_and_refuses_forged_notifications() {
    let s = setup().await;
    let ali = with_alipay(&s).await;
    let a1 = s.accounts.0.clone();
    let o = alipay_order(&s, &a1, "30.00");
    assert_eq!((o["channel"].as_str(), o["state"].as_str()), (Some("ALIPAY"), Some("CREATED")));
    assert!(o["qrCode"].as_str().unwrap().starts_with("https://qr.alipay.com/"), "{o}");
    assert!(o["payment"].is_null());
    let no = o["outTradeNo"].as_str().unwrap().to_string();
    assert_eq!(ali.gateway.trade(&no).map(|t| t.total), Some(3000));

    // Before the payment: a notification for it cannot be made up.
    ali.gateway.pay_silently(&no);
    let genuine = ali.gateway.notification(&no, |_| {}).unwrap();
    let tampered = altered(&genuine, "total_amount", "3000.00");
    assert_eq!(post_form(&s, &tampered), (401, "failure".into()), "amount changed after signing");
    let other_seller = ali.gateway.notification(&no, |p| {
        p.insert("seller_id".into(), "2088000000000000".into());
    });
    assert_eq!(post_form(&s, &other_seller.unwrap()).0, 400, "signed, but for another seller");
    let other_app = ali.gateway.notification(&no, |p: &mut BTreeMap<String, String>| {
        p.insert("app_id".into(), "2021000999999999".into());
    });
    assert_eq!(post_form(&s, &other_app.unwrap()).0, 400, "signed, but for another app");
    let wrong_amount = ali.gateway.notification(&no, |p| {
        p.insert("total_amount".into(), "0.01".into());
    });
    assert_eq!(post_form(&s, &wrong_amount.unwrap()).0, 400, "signed, but not the ordered amount");
    // Signed with the app's own key instead of Alipay's.
    let signer = server::pay::wechatpay::MerchantSigner::from_pem(ALIPAY_APP, "", &ali.app_private).unwrap();
    let content = server::pay::alipay::sign_content(genuine.iter().map(|(k, v)| (k.as_str(), v.as_str())), true);
    let self_signed = altered(&genuine, "sign", &signer.sign(content.as_bytes()).unwrap());
    assert_eq!(post_form(&s, &self_signed).0, 401, "not Alipay's key");
    assert_eq!(post_form(&s, &altered(&genuine, "out_trade_no", "VL-NOT-OURS")).0, 400);
    assert_eq!(post_form(&s, &[("a".into(), "b".into())]).0, 400);
    assert_eq!(balance(&s.admin, &a1), "0.00", "nothing changed");

    // The genuine one, then again and five at once: one credit.
    assert_eq!(post_form(&s, &genuine), (200, "success".into()));
    let handles: Vec<_> = (0..5)
        .map(|_| {
            let p = genuine.clone();
            let addr = s.app.app.http_addr;
            std::thread::spawn(move || {
                let form = serde_urlencoded::to_string(&p).unwrap();
                http_request(addr, "POST", "/pay/alipay/notify", &[("Content-Type", "application/x-www-form-urlencoded")], &form)
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), (200, "success".to_string()));
    }
    assert_eq!(balance(&s.admin, &a1), "30.00");
    let entries = s.admin.ok("query($a: ID!) { account(id: $a) { ledger { items { kind amount } } } }", json!({"a": a1}));
    let kinds: Vec<&str> = entries["account"]["ledger"]["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["RECHARGE_ALIPAY"], "{entries}");
    // The same order paid again under another trade number: kept for refund, never credited.
    let second = ali.gateway.notification(&no, |p| {
        p.insert("trade_no".into(), "2026120422001400000000009999".into());
    });
    assert_eq!(post_form(&s, &second.unwrap()), (200, "success".into()));
    assert_eq!(balance(&s.admin, &a1), "30.00");
    let diffs = s.admin.ok("{ paymentDifferences { channel transactionId amount } }", json!({}))["paymentDifferences"].clone();
    assert_eq!(diffs, json!([{"channel": "ALIPAY", "transactionId": "2026120422001400000000009999", "amount": "30.00"}]));

    // Paid by the payer, notified by the gateway on its schedule.
    let o2 = alipay_order(&s, &a1, "12.50");
    let no2 = o2["outTradeNo"].as_str().unwrap().to_string();
    assert!(ali.gateway.pay(&no2));
    assert!(credited(&s, &a1, "42.50").await, "deliveries: {:?}", ali.gateway.deliveries());
    // The gateway records a delivery once our answer reaches it, which may be after the credit.
    let answered = TestApp::eventually(Duration::from_secs(10), || {
        let last = ali.gateway.deliveries().last().map(|d| d.1.clone());
        async move { last.is_some() }
    })
    .await;
    assert!(answered);
    assert_eq!(ali.gateway.deliveries().last().unwrap().1, "success");

    // Refunds are synchronous at Alipay; a refused one gives the money back.
    let refund = "mutation($o: ID!, $m: Decimal!) { refundPayment(input: {orderId: $o, amount: $m}) { state lastError } }";
    let r = s.admin.ok(refund, json!({"o": o["id"], "m": "10.00"}))["refundPayment"].clone();
    assert_eq!(r["state"], "SUCCESS", "{r}");
    assert_eq!(ali.gateway.trade(&no).unwrap().refunds.len(), 1);
    assert_eq!(balance(&s.admin, &a1), "32.50");
    ali.gateway.fail_refunds(true);
    let r = s.admin.ok(refund, json!({"o": o["id"], "m": "5.00"}))["refundPayment"].clone();
    assert_eq!(r["state"], "FAILED", "{r}");
    assert!(r["lastError"].as_str().unwrap().contains("SELLER_BALANCE_NOT_ENOUGH"));
    assert_eq!(balance(&s.admin, &a1), "32.50", "the refused refund's money is back");

    // Paid without a notification: the sweep asks after the window and credits; an unpaid
    // order past its expiry is closed.
    let o3 = alipay_order(&s, &a1, "7.00");
    let no3 = o3["outTradeNo"].as_str().unwrap().to_string();
    ali.gateway.pay_silently(&no3);
    let o4 = alipay_order(&s, &a1, "8.00");
    let later = chrono::Utc::now() + chrono::Duration::minutes(31);
    let settled = server::pay::sweep_pending(&s.app.app.store, later).await.unwrap();
    assert!(settled >= 1);
    assert_eq!(balance(&s.admin, &a1), "39.50");
    let orders = s.admin.ok("query($a: ID!) { rechargeOrders(accountId: $a) { id state } }", json!({"a": a1}))["rechargeOrders"].clone();
    let state_of = |id: &Value| orders.as_array().unwrap().iter().find(|o| o["id"] == *id).unwrap()["state"].clone();
    assert_eq!((state_of(&o3["id"]), state_of(&o4["id"])), (json!("PAID"), json!("CLOSED")));
    assert_eq!(ali.gateway.trade(o4["outTradeNo"].as_str().unwrap()).unwrap().status, "TRADE_CLOSED");

    // Finance sees the Alipay takings apart (the failed refund does not count).
    let from = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let to = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let summary = s.admin.ok(
        "query($f: DateTime!, $t: DateTime!) { paymentSummary(from: $f, to: $t) { payeeId paid net byChannel { channel payments paid refunded } } }",
        json!({"f": from, "t": to}),
    )["paymentSummary"]
        .clone();
    let east = summary.as_array().unwrap().iter().find(|r| r["payeeId"] == ali.payee.as_str()).unwrap();
    assert_eq!(east["byChannel"], json!([{"channel": "ALIPAY", "payments": 3, "paid": "49.50", "refunded": "10.00"}]), "{summary}");
    assert_eq!((east["paid"].as_str(), east["net"].as_str()), (Some("49.50"), Some("39.50")));

    // The day's Alipay bill (a zip of GBK files) agrees with us: three payments and the
    // refund that went through matched (the refused one is in neither).
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive().to_string();
    let reconcile = || {
        s.admin.ok(
            "mutation($p: ID!, $d: NaiveDate!) { reconcilePayments(input: {payeeId: $p, date: $d}) { billRows matched discrepancies { kind outTradeNo ours theirs } } }",
            json!({"p": ali.payee, "d": today}),
        )["reconcilePayments"]
            .clone()
    };
    let rec = reconcile();
    assert_eq!((rec["billRows"].as_i64(), rec["matched"].as_i64()), (Some(4), Some(4)), "{rec}");
    assert_eq!(rec["discrepancies"], json!([]));
    // Planted: a payment billed for another amount, and one no order of ours explains.
    ali.gateway.bill_amount(&no2, 1350);
    ali.gateway.bill_extra(ALIPAY_APP, "VL-NOT-OURS-1", 500);
    let rec = reconcile();
    let mut found: Vec<(String, String)> = rec["discrepancies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["kind"].as_str().unwrap().to_string(), d["outTradeNo"].as_str().unwrap().to_string()))
        .collect();
    found.sort();
    assert_eq!(found, [("AMOUNT_MISMATCH".to_string(), no2.clone()), ("UNKNOWN_ORDER".to_string(), "VL-NOT-OURS-1".to_string())], "{rec}");
    ali.gateway.clear_bill_plants();
    assert_eq!(reconcile()["discrepancies"], json!([]));
    ali.gateway.stop().await;
    s.pay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_account_whose_payee_has_no_alipay_app_cannot_order_by_alipay() {
    let s = setup().await;
    let v = graphql(
        s.app.app.http_addr,
        Some(&s.customer),
        "mutation($a: ID!) { createRechargeOrder(input: {accountId: $a, amount: \"10.00\", channel: ALIPAY}) { id } }",
        json!({"a": s.accounts.0}),
    );
    assert_eq!(v["errors"][0]["extensions"]["code"], "CONFLICT", "{v}");
    let orders = s.admin.ok("query($a: ID!) { rechargeOrders(accountId: $a) { id } }", json!({"a": s.accounts.0}));
    assert_eq!(orders["rechargeOrders"], json!([]), "no order left behind");
    s.pay.stop().await;
}

/// A self-signed platform certificate from the `openssl` CLI: (certificate PEM, key PEM).
fn platform_certificate(serial: &str) -> (String, String) {
    let dir = std::env::temp_dir().join(format!("vl-platform-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "1800"])
        .args(["-subj", "/C=CN/O=Tenpay.com/CN=Tenpay.com sign", "-set_serial", &format!("0x{serial}")])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pair = (std::fs::read_to_string(dir.join("cert.pem")).unwrap(), std::fs::read_to_string(dir.join("key.pem")).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
    pair
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn platform_certificates_are_trusted_out_of_band_then_rotated_by_download() {
    let s = setup().await;
    let (payee, account) = north(&s);
    let (private, public) = generate_key_pair().unwrap();
    s.pay.add_direct_merchant(DIRECT_MCHID, SP_APPID, DIRECT_SERIAL, &public, DIRECT_V3).unwrap();
    const A: &str = "5B1C0E8F3D7A4A2B9C6E1F0A7D3B5C8E9F1A2B3C";
    const B: &str = "6C2D1F903E8B5B3CAD7F20B18E4C6D9FA02B3C4D";
    const C: &str = "7D3E20A14F9C6C4DBE8031C29F5D7EA0B13C4D5E";
    let (cert_a, key_a) = platform_certificate(A);
    s.pay.add_platform_certificate(DIRECT_MCHID, A, &cert_a, &key_a, true).unwrap();

    // The operator pastes certificate A; it must carry the serial it is listed under.
    let keys = |serial: &str, pem: &str| {
        json!({"i": {"payeeId": payee, "appId": SP_APPID, "serial": DIRECT_SERIAL, "privateKeyPem": private, "apiV3Key": DIRECT_V3,
            "wechatKeys": [{"serial": serial, "publicKeyPem": pem}], "apiBase": s.pay.base}})
    };
    assert_eq!(s.admin.fails(SET_KEYS, keys(B, &cert_a))["field"], "wechatKeys");
    s.admin.ok(SET_KEYS, keys(A, &cert_a));
    let refresh = "mutation($p: ID!) { refreshWechatPayCertificates(payeeId: $p) { credentials { verifyKeyIds } } }";
    let ids = |v: &Value| {
        v["refreshWechatPayCertificates"]["credentials"][0]["verifyKeyIds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&s.admin.ok(refresh, json!({"p": payee}))), [A], "nothing new yet");

    // WeChat announces B ahead of the switch; the download (signed with A) brings it in.
    let (cert_b, key_b) = platform_certificate(B);
    s.pay.add_platform_certificate(DIRECT_MCHID, B, &cert_b, &key_b, false).unwrap();
    assert_eq!(ids(&s.admin.ok(refresh, json!({"p": payee}))), [A, B]);

    // After the switch, WeChat signs with B: a payment is credited.
    s.pay.add_platform_certificate(DIRECT_MCHID, B, &cert_b, &key_b, true).unwrap();
    let o = order(&s, &account, "20.00");
    assert!(s.pay.pay(o["outTradeNo"].as_str().unwrap()));
    assert!(credited(&s, &account, "20.00").await, "deliveries: {:?}", s.pay.deliveries());

    // A list signed by a key we do not trust changes nothing.
    let (cert_c, key_c) = platform_certificate(C);
    s.pay.add_platform_certificate(DIRECT_MCHID, C, &cert_c, &key_c, true).unwrap();
    let refused = s.admin.fails(refresh, json!({"p": payee}));
    assert_eq!(refused["code"], "CONFLICT", "{refused}");
    let kept = s.admin.ok("{ payees { id credentials { verifyKeyIds } } }", json!({}))["payees"].clone();
    let north_keys = &kept.as_array().unwrap().iter().find(|p| p["id"] == payee.as_str()).unwrap()["credentials"][0]["verifyKeyIds"];
    assert_eq!(*north_keys, json!([A, B]));
    s.pay.stop().await;
}
