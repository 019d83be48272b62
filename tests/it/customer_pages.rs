//! The customers' mobile pages (issue 18): inside WeChat's browser a customer signs in
//! through the official account's web authorization (walked through the stand-in's real
//! redirect), binds by code and pays with WeChat Pay under the official account's AppID;
//! outside WeChat the account number and binding code sign in, WeChat Pay is refused and
//! Alipay's mobile cashier takes the payment, credited once. And what the customer reads:
//! usage by day and month, price changes, the property's contact, their own receipts only.

use serde_json::{Value, json};
use server::pay::wechatpay::{KeyRing, pay_sign_message};
use tests::{TestApp, graphql, header_value, http_exchange, post_json};

use crate::payments::{SP_APPID, Setup, balance, setup};

const OA_APPID: &str = "wxoa000000000001";
const OA_SECRET: &str = "official-account-secret-01";

fn addr_of(base: &str) -> std::net::SocketAddr {
    base.trim_start_matches("http://").trim_end_matches('/').parse().unwrap()
}

/// The path and query of an absolute URL.
fn path_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    rest.find('/').map_or("/".to_string(), |i| rest[i..].to_string())
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1.split('#').next()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query).ok()?.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Walks WeChat's web authorization as the browser does: the authorize page, "allow" as
/// `openid`, and the redirect back: the code it carries (the state checked).
fn authorize(wechat: &server::wechat::standin::WechatStandIn, app_id: &str, openid: &str) -> String {
    let at = addr_of(&wechat.base);
    let back = "https://pages.example/m/login?next=%2Fm%2Fhome";
    let q = serde_urlencoded::to_string([
        ("appid", app_id),
        ("redirect_uri", back),
        ("response_type", "code"),
        ("scope", "snsapi_base"),
        ("state", "s-42"),
    ])
    .unwrap();
    let (status, _, page) = http_exchange(at, "GET", &format!("/connect/oauth2/authorize?{q}"), &[], "");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=allow") && page.contains(app_id), "{page}");
    let q = serde_urlencoded::to_string([("appid", app_id), ("redirect_uri", back), ("state", "s-42"), ("openid", openid)]).unwrap();
    let (status, head, _) = http_exchange(at, "GET", &format!("/standin/oauth2/allow?{q}"), &[], "");
    assert_eq!(status, 302);
    let location = header_value(&head, "location").unwrap();
    assert!(location.starts_with("https://pages.example/m/login?next=%2Fm%2Fhome&code="), "{location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some("s-42"));
    query_param(&location, "code").unwrap()
}

fn gql(s: &Setup, token: &str, query: &str, variables: Value) -> Value {
    graphql(s.app.app.http_addr, Some(token), query, variables)
}

fn code_of(v: &Value) -> String {
    v["errors"][0]["extensions"]["code"].as_str().unwrap_or("").to_string()
}

fn binding_code(s: &Setup, account: &str) -> String {
    s.admin.ok("mutation($a: ID!) { issueBindingCode(accountId: $a) }", json!({"a": account}))["issueBindingCode"]
        .as_str()
        .unwrap()
        .to_string()
}

fn number_of(s: &Setup, account: &str) -> String {
    s.admin.ok("query($a: ID!) { account(id: $a) { number } }", json!({"a": account}))["account"]["number"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_wechats_browser_the_official_account_signs_in_binds_by_code_and_pays_under_its_own_appid() {
    let s = setup().await;
    let addr = s.app.app.http_addr;
    let wechat = server::wechat::standin::WechatStandIn::start(
        "127.0.0.1:0".parse().unwrap(),
        &[(SP_APPID, "mini-program-secret-0123"), (OA_APPID, OA_SECRET)],
    )
    .unwrap();
    s.admin.ok(
        "mutation($a: String!, $b: String!) { setWechatApp(input: {appId: $a, appSecret: \"mini-program-secret-0123\", apiBase: $b}) }",
        json!({"a": SP_APPID, "b": wechat.base}),
    );

    // Before the official account is set up the pages learn so, and its login is refused.
    let config = |slug: &str| tests::http_request(addr, "GET", &format!("/auth/customer-config?tenant={slug}"), &[], "");
    let (status, body) = config(&s.admin.slug);
    let c: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (status, c["officialAccount"].clone(), c["wechatPay"].clone(), c["alipay"].clone()),
        (200, Value::Null, json!(true), json!(false))
    );
    assert_eq!(config("no-such-company").0, 404);
    let (status, refused) = post_json(addr, "/auth/wechat-oa", None, &json!({"tenant": s.admin.slug, "code": "x"}));
    assert_eq!((status, refused["error"].as_str()), (409, Some("NO_OFFICIAL_ACCOUNT")));

    // Set up, checked, the secret never shown; the pages then know the AppID and the page.
    const SET: &str = "mutation($i: SetWechatOfficialAccountInput!) { setWechatOfficialAccount(input: $i) { appId apiBase authorizeUrl } }";
    let input = |app: &str, secret: &str| json!({"i": {"appId": app, "appSecret": secret, "apiBase": wechat.base, "authorizeUrl": format!("{}/connect/oauth2/authorize", wechat.base)}});
    assert_eq!(s.admin.fails(SET, input("wx oa;drop", OA_SECRET))["field"], "appId");
    assert_eq!(s.admin.fails(SET, input(OA_APPID, "short"))["field"], "appSecret");
    let set = s.admin.ok(SET, input(OA_APPID, OA_SECRET));
    assert_eq!(set["setWechatOfficialAccount"]["appId"], OA_APPID);
    let shown = s.admin.gql("{ wechatOfficialAccount { appId apiBase authorizeUrl } }", json!({}));
    assert!(!shown.to_string().contains(OA_SECRET));
    let c: Value = serde_json::from_str(&config(&s.admin.slug).1).unwrap();
    assert_eq!(c["officialAccount"]["appId"], OA_APPID);
    assert_eq!(c["officialAccount"]["authorizeUrl"], format!("{}/connect/oauth2/authorize", wechat.base));
    assert!(!c.to_string().contains(OA_SECRET));

    // The code from the redirect signs in once; a mini-program code or a replay does not.
    let code = authorize(&wechat, OA_APPID, "o-oa-buyer");
    let (status, tokens) = post_json(addr, "/auth/wechat-oa", None, &json!({"tenant": s.admin.slug, "code": code}));
    assert_eq!(status, 200, "{tokens}");
    let token = tokens["accessToken"].as_str().unwrap().to_string();
    let (status, again) = post_json(addr, "/auth/wechat-oa", None, &json!({"tenant": s.admin.slug, "code": code}));
    assert_eq!((status, again["error"].as_str()), (401, Some("WECHAT_REFUSED")));
    let mini = wechat.login_code(SP_APPID, "o-oa-buyer");
    assert_eq!(post_json(addr, "/auth/wechat-oa", None, &json!({"tenant": s.admin.slug, "code": mini})).0, 401);
    // Another company's code for this user is no login here either.
    let other = s.app.admin("other").await;
    let code = authorize(&wechat, OA_APPID, "o-oa-buyer");
    let (status, _) = post_json(addr, "/auth/wechat-oa", None, &json!({"tenant": other.slug, "code": code}));
    assert_eq!(status, 409, "the other company has no official account: NO_OFFICIAL_ACCOUNT");

    // Signed in, bound to nothing: nothing to see. The phone's code belongs to the
    // mini-program; the binding code binds. Subscriptions are the mini-program's.
    assert_eq!(gql(&s, &token, "{ myAccounts { id } }", json!({}))["data"]["myAccounts"], json!([]));
    let bind = |proof: Value| gql(&s, &token, "mutation($i: BindAccountInput!) { bindAccount(input: $i) { id } }", json!({"i": proof}));
    let number = number_of(&s, &s.accounts.0);
    let v = bind(json!({"accountNumber": number, "phoneCode": wechat.phone_code(SP_APPID, "13800007777")}));
    assert_eq!(v["errors"][0]["extensions"]["field"], "phoneCode", "{v}");
    let v = bind(json!({"accountNumber": number, "bindingCode": binding_code(&s, &s.accounts.0)}));
    assert_eq!(v["data"]["bindAccount"].as_array().map(Vec::len), Some(2), "{v}");
    let v = gql(&s, &token, r#"mutation { reportSubscriptions(input: {accepted: []}) { templateId } }"#, json!({}));
    assert_eq!(code_of(&v), "FORBIDDEN");

    // WeChat Pay: the payer is the official account's user, so the order names it as
    // sub_appid; until the provider has the AppID bound, WeChat refuses the order.
    let order = |amount: &str| {
        gql(
            &s,
            &token,
            "mutation($a: ID!, $m: Decimal!) { createRechargeOrder(input: {accountId: $a, amount: $m}) { id outTradeNo payment { appId timeStamp nonceStr package signType paySign } } }",
            json!({"a": s.accounts.0, "m": amount}),
        )
    };
    assert_eq!(code_of(&order("30.00")), "CONFLICT");
    s.pay.bind_sub_appid(OA_APPID);
    let o = order("30.00");
    assert!(o.get("errors").is_none(), "{o}");
    let o = o["data"]["createRechargeOrder"].clone();
    let p = &o["payment"];
    assert_eq!(p["appId"], OA_APPID, "getBrandWCPayRequest is signed for the official account");
    let no = o["outTradeNo"].as_str().unwrap().to_string();
    assert_eq!(s.pay.order(&no).map(|x| x.openid), Some("o-oa-buyer".to_string()), "the bare openid, not our subject");
    let prepay = p["package"].as_str().unwrap().strip_prefix("prepay_id=").unwrap();
    let mut ring = KeyRing::default();
    ring.add_pem("provider", &s.provider_public).unwrap();
    let message = pay_sign_message(OA_APPID, p["timeStamp"].as_str().unwrap().parse().unwrap(), p["nonceStr"].as_str().unwrap(), prepay);
    assert!(ring.verify_raw("provider", message.as_bytes(), p["paySign"].as_str().unwrap()).is_ok());
    assert!(s.pay.pay(&no));
    let credited = TestApp::eventually(std::time::Duration::from_secs(20), || {
        let b = balance(&s.admin, &s.accounts.0);
        async move { b == "30.00" }
    })
    .await;
    assert!(credited, "deliveries: {:?}", s.pay.deliveries());
    let (h, body) = s.pay.notification(&no, |_| {}).unwrap();
    assert_eq!(crate::payments::notify(&s, &h, &body), 204);
    assert_eq!(balance(&s.admin, &s.accounts.0), "30.00", "credited once");
    wechat.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outside_wechat_the_binding_code_signs_in_and_alipays_mobile_cashier_is_credited_once() {
    let s = setup().await;
    let addr = s.app.app.http_addr;
    let ali = crate::payment_channels::with_alipay(&s).await;
    let account = s.accounts.0.clone();
    let number = number_of(&s, &account);
    let code = binding_code(&s, &account);
    let login = |tenant: &str, number: &str, code: &str| {
        post_json(addr, "/auth/binding-code", None, &json!({"tenant": tenant, "accountNumber": number, "bindingCode": code}))
    };

    // Another company's slug with this account's number and code: no such account there.
    let other = s.app.admin("other").await;
    let (status, v) = login(&other.slug, &number, &code);
    assert_eq!((status, v["error"].as_str()), (401, Some("BINDING_REFUSED")));
    // The code of one account does not open another.
    let second = number_of(&s, &s.accounts.1);
    assert_eq!(login(&s.admin.slug, &second, &code).0, 401);
    // Lower case and dashes are the same code (as printed on the card, typed on a phone).
    let typed = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
    let (status, tokens) = login(&s.admin.slug, &number, &typed);
    assert_eq!(status, 200, "{tokens}");
    let token = tokens["accessToken"].as_str().unwrap().to_string();

    // The customer's accounts, both properties; no binding of others, no subscriptions.
    let mine = gql(&s, &token, "{ myAccounts { id } myProperties { name contactPhone } }", json!({}));
    assert_eq!(mine["data"]["myAccounts"].as_array().map(Vec::len), Some(2), "{mine}");
    assert_eq!(mine["data"]["myProperties"].as_array().map(Vec::len), Some(2), "{mine}");
    let v = gql(
        &s,
        &token,
        "mutation($n: String!, $c: String!) { bindAccount(input: {accountNumber: $n, bindingCode: $c}) { id } }",
        json!({"n": second, "c": binding_code(&s, &s.accounts.1)}),
    );
    assert_eq!(code_of(&v), "FORBIDDEN", "{v}");

    // WeChat Pay needs WeChat.
    let order = |channel: &str, ret: Option<&str>| {
        gql(
            &s,
            &token,
            "mutation($a: ID!, $c: PayChannel!, $r: String) { createRechargeOrder(input: {accountId: $a, amount: \"25.00\", channel: $c, returnUrl: $r}) { id outTradeNo state payUrl qrCode } }",
            json!({"a": account, "c": channel, "r": ret}),
        )
    };
    let v = order("WECHAT", None);
    assert_eq!(code_of(&v), "CONFLICT");
    assert!(v["errors"][0]["message"].as_str().unwrap().contains("WeChat"), "{v}");
    // Alipay's cashier returns only to our own pages: no open redirect.
    for bad in ["http://evil.example/m/pay", "https://127.0.0.1.evil.example/m/pay", "javascript:alert(1)//m/"] {
        assert_eq!(order("ALIPAY", Some(bad))["errors"][0]["extensions"]["field"], "returnUrl", "{bad}");
    }
    let outside = format!("http://{addr}/graphql");
    assert_eq!(order("ALIPAY", Some(&outside))["errors"][0]["extensions"]["field"], "returnUrl");
    let back = format!("http://{addr}/m/orders?account={account}");
    let o = order("ALIPAY", Some(&back));
    assert!(o.get("errors").is_none(), "{o}");
    let o = o["data"]["createRechargeOrder"].clone();
    assert_eq!((o["state"].as_str(), o["qrCode"].clone()), (Some("CREATED"), Value::Null));
    let pay_url = o["payUrl"].as_str().unwrap().to_string();
    assert!(pay_url.starts_with(&ali.gateway.gateway), "{pay_url}");
    assert_eq!(query_param(&pay_url, "method").as_deref(), Some("alipay.trade.wap.pay"));

    // The browser opens the cashier (signature checked there) and pays; Alipay sends it back
    // to our page and notifies the server, which credits once.
    let gateway = addr_of(ali.gateway.gateway.trim_end_matches("/gateway.do"));
    let tampered = pay_url.replace("25.00", "0.01");
    let (_, _, refused) = http_exchange(gateway, "GET", &path_of(&tampered), &[], "");
    assert!(refused.contains("isv.invalid-signature") && !refused.contains("id=pay"), "a changed amount breaks the signature: {refused}");
    let (status, _, page) = http_exchange(gateway, "GET", &path_of(&pay_url), &[], "");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("25.00"), "{page}");
    let no = o["outTradeNo"].as_str().unwrap().to_string();
    let form = serde_urlencoded::to_string([("out_trade_no", no.as_str()), ("return_url", back.as_str())]).unwrap();
    let pay = || http_exchange(gateway, "POST", "/standin/alipay/wap-pay", &[("Content-Type", "application/x-www-form-urlencoded")], &form);
    let (status, head, _) = pay();
    assert_eq!(status, 302);
    let location = header_value(&head, "location").unwrap();
    assert!(location.starts_with(&format!("{back}&")), "{location}");
    assert_eq!(query_param(&location, "out_trade_no").as_deref(), Some(no.as_str()));
    let credited = TestApp::eventually(std::time::Duration::from_secs(20), || {
        let b = balance(&s.admin, &account);
        async move { b == "25.00" }
    })
    .await;
    assert!(credited, "deliveries: {:?}", ali.gateway.deliveries());
    // A second tap on the cashier's button pays nothing more; a replayed notification
    // credits nothing more.
    assert_eq!(pay().0, 404);
    let params = ali.gateway.notification(&no, |_| {}).unwrap();
    let form = serde_urlencoded::to_string(&params).unwrap();
    let (status, answer) =
        tests::http_request(addr, "POST", "/pay/alipay/notify", &[("Content-Type", "application/x-www-form-urlencoded")], &form);
    assert_eq!((status, answer.as_str()), (200, "success"));
    let ledger = gql(&s, &token, "{ myAccounts { id ledger(first: 20) { items { kind amount receiptNo } } } }", json!({}));
    let items = ledger["data"]["myAccounts"].as_array().unwrap().iter().find(|a| a["id"] == account.as_str()).unwrap()["ledger"]["items"]
        .as_array()
        .unwrap()
        .clone();
    let recharges: Vec<&Value> = items.iter().filter(|e| e["kind"] == "RECHARGE_ALIPAY").collect();
    assert_eq!(recharges.len(), 1, "{items:?}");
    assert_eq!(balance(&s.admin, &account), "25.00");

    // The receipt is the customer's own; another customer's is nobody's business.
    let receipt = recharges[0]["receiptNo"].as_i64().unwrap();
    let r = gql(&s, &token, "query($n: Int!) { myReceipt(number: $n) { number total html } }", json!({"n": receipt}));
    assert_eq!(r["data"]["myReceipt"]["total"], "25.00", "{r}");
    let stranger = other.ok(r#"mutation { createCustomer(input: {name: "Stranger", phone: "13900000000"}) { id } }"#, json!({}));
    assert!(stranger["createCustomer"]["id"].is_string());
    let c =
        s.admin.ok(r#"mutation { createCustomer(input: {name: "Neighbour", phone: "13900000001"}) { id } }"#, json!({}))["createCustomer"]
            ["id"]
            .clone();
    let opened = s.admin.ok("mutation($c: ID!) { openAccount(input: {customerId: $c, meterIds: []}) { account { id } } }", json!({"c": c}))
        ["openAccount"]["account"]["id"]
        .clone();
    let desk = s
        .admin
        .ok("mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"5.00\", channel: CASH}) { receiptNo } }", json!({"a": opened}));
    let theirs = desk["recharge"]["receiptNo"].as_i64().unwrap();
    let r = gql(&s, &token, "query($n: Int!) { myReceipt(number: $n) { number } }", json!({"n": theirs}));
    assert_eq!(r["data"]["myReceipt"], Value::Null, "{r}");
    let v = gql(
        &s,
        &token,
        "query($a: ID!) { myUsage(accountId: $a, bucket: DAY, from: \"2026-12-01T00:00:00Z\", to: \"2026-12-03T00:00:00Z\") { at } }",
        json!({"a": opened}),
    );
    assert_eq!(code_of(&v), "NOT_FOUND", "another customer's usage: {v}");

    // Guessing codes: each wrong one is refused alike, and from the fifth on the address is
    // held back — the right code included.
    for _ in 0..5 {
        let (status, v) = login(&s.admin.slug, &number, "WRONG234");
        assert!(status == 401 || status == 429, "{status} {v}");
    }
    let (status, v) = login(&s.admin.slug, &number, &code);
    assert_eq!(status, 429, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customer_reads_usage_by_day_and_month_price_changes_and_the_property_contact() {
    let app = TestApp::spawn().await;
    let admin = app.admin("usage").await;
    let addr = app.app.http_addr;
    let p = admin.ok(
        r#"mutation { createProperty(input: {name: "Harbour", contactName: "Ms Lin", contactPhone: "0571-8800 1234"}) { id contactName contactPhone } }"#,
        json!({}),
    )["createProperty"]
        .clone();
    assert_eq!(p["contactPhone"], "0571-8800 1234");
    let bad = admin.fails(r#"mutation { createProperty(input: {name: "X", contactPhone: "call me"}) { id } }"#, json!({}));
    assert_eq!(bad["field"], "contactPhone");
    // Renaming without the contact keeps it.
    let kept = admin.ok(
        "mutation($p: ID!) { updateProperty(input: {id: $p, name: \"Harbour Park\"}) { contactName contactPhone } }",
        json!({"p": p["id"]}),
    );
    assert_eq!(kept["updateProperty"], json!({"contactName": "Ms Lin", "contactPhone": "0571-8800 1234"}));

    let tariff = admin.ok(
        r#"mutation { createTariff(input: {name: "Shop", effectiveFrom: "2026-01-01T00:00:00Z", tariff: {prices: [{rate: FLAT, price: "1.00"}]}}) { id } }"#,
        json!({}),
    )["createTariff"]["id"]
        .clone();
    admin.ok("mutation($t: ID!) { assignTariff(input: {tariffId: $t}) }", json!({"t": tariff}));
    let registered = admin.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000000701\", phases: 1, linkType: FOUR_G, ctRatio: 2}) { meter { id } credentials { username } } }",
        json!({"p": p["id"]}),
    )["registerMeter"]
        .clone();
    let meter = registered["meter"]["id"].clone();
    let device = registered["credentials"]["username"].as_str().unwrap().to_string();
    let c = admin.ok(r#"mutation { createCustomer(input: {name: "Noodles", phone: "13800001111"}) { id } }"#, json!({}))["createCustomer"]
        ["id"]
        .clone();
    let account = admin.ok(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m], initialPurchase: {amount: \"100.00\", channel: CASH}}) { account { id number } } }",
        json!({"c": c, "m": meter}),
    )["openAccount"]["account"]
        .clone();

    // Readings over the last three local days (Asia/Shanghai): the register at 10.00, 11.00,
    // 12.50 and 15.00 kWh; CT 2 doubles what is billed and shown.
    let shanghai = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let today = chrono::Utc::now().with_timezone(&shanghai).date_naive();
    let midnight = |days_ago: i64| {
        (today - chrono::Duration::days(days_ago))
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_local_timezone(shanghai)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let h = chrono::Duration::hours;
    let address = mqtt_bridge::dlt645::Address::parse("000000000701").unwrap();
    let reading = |at: chrono::DateTime<chrono::Utc>, kwh: &str| mqtt_bridge::port::MeterReading {
        device: device.clone(),
        address,
        read_at: mqtt_bridge::port::ReadTime::Instant(at),
        received_at: chrono::Utc::now(),
        values: mqtt_bridge::port::Readings { energy_total: Some(kwh.parse().unwrap()), ..Default::default() },
    };
    let batch = vec![
        reading(midnight(3) + h(1), "10.00"),
        reading(midnight(3) + h(10), "11.00"),
        reading(midnight(2) + h(1), "12.50"),
        reading(midnight(1) + h(1), "15.00"),
        reading(midnight(1) + h(5), "15.00"),
    ];
    app.app.store.store_readings(batch).await.unwrap();

    let code = admin.ok("mutation($a: ID!) { issueBindingCode(accountId: $a) }", json!({"a": account["id"]}))["issueBindingCode"].clone();
    let (_, t) = post_json(
        addr,
        "/auth/binding-code",
        None,
        &json!({"tenant": admin.slug, "accountNumber": account["number"], "bindingCode": code}),
    );
    let token = t["accessToken"].as_str().unwrap().to_string();
    let q = |bucket: &str, from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>| {
        graphql(
            addr,
            Some(&token),
            "query($a: ID!, $b: UsageBucket!, $f: DateTime!, $t: DateTime!) { myUsage(accountId: $a, bucket: $b, from: $f, to: $t) { at energy cost } }",
            json!({"a": account["id"], "b": bucket, "f": from, "t": to}),
        )
    };
    // From a little after midnight: the buckets still start at local midnight.
    let days = q("DAY", midnight(3) + h(2), midnight(0) + h(23));
    let days = days["data"]["myUsage"].as_array().unwrap_or_else(|| panic!("{days}")).clone();
    let starts: Vec<chrono::DateTime<chrono::Utc>> = days.iter().map(|d| d["at"].as_str().unwrap().parse().unwrap()).collect();
    assert_eq!(starts, vec![midnight(3), midnight(2), midnight(1), midnight(0)]);
    let energy: Vec<&str> = days.iter().map(|d| d["energy"].as_str().unwrap()).collect();
    assert_eq!(energy, vec!["2.00", "3.00", "5.00", "0.00"], "{days:?}");
    let sum = |points: &[Value], field: &str| -> rust_decimal::Decimal {
        points.iter().map(|d| d[field].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap()).sum()
    };
    assert_eq!(sum(&days, "cost").to_string(), "10.00", "10 kWh at 1.00, charged within the window");
    let months = q("MONTH", midnight(3), midnight(0) + h(23));
    let months = months["data"]["myUsage"].as_array().unwrap_or_else(|| panic!("{months}")).clone();
    assert!((1..=2).contains(&months.len()), "{months:?}");
    assert_eq!(sum(&months, "energy").to_string(), "10.00", "{months:?}");
    assert_eq!(q("DAY", midnight(100), midnight(0))["errors"][0]["extensions"]["field"], "to");
    assert_eq!(q("MONTH", midnight(800), midnight(0))["errors"][0]["extensions"]["field"], "to");
    assert_eq!(q("DAY", midnight(0), midnight(1))["errors"][0]["extensions"]["field"], "to");

    // A price change announced for next week reaches the customer with before and after.
    let next = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    admin.ok(
        "mutation($t: ID!, $f: DateTime!) { addTariffVersion(input: {tariffId: $t, effectiveFrom: $f, tariff: {prices: [{rate: FLAT, price: \"1.10\"}]}}) { id } }",
        json!({"t": tariff, "f": next}),
    );
    let v = graphql(
        addr,
        Some(&token),
        "{ myPriceChanges { tariffName before { rate price } after { rate price } } myProperties { name contactName contactPhone } }",
        json!({}),
    );
    assert_eq!(
        v["data"]["myPriceChanges"],
        json!([{"tariffName": "Shop", "before": [{"rate": "FLAT", "price": "1.00"}], "after": [{"rate": "FLAT", "price": "1.10"}]}]),
        "{v}"
    );
    assert_eq!(v["data"]["myProperties"], json!([{"name": "Harbour Park", "contactName": "Ms Lin", "contactPhone": "0571-8800 1234"}]));
    // Operators do not use the customer's queries.
    assert_eq!(admin.fails("{ myProperties { name } }", json!({}))["code"], "FORBIDDEN");
}
