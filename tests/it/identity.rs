//! People and walls (issue 5): logins, refresh-token rotation and reuse, throttling, token
//! forgeries, the permission matrix, property scope, park clients, mini-program customers,
//! the audit log and the SaaS operator's API — all over real HTTP.

use serde_json::{Value, json};
use server::api::auth::Kind;
use tests::{ADMIN_PASSWORD, Admin, TestApp, graphql, http_request, post_json};

fn login(app: &TestApp, tenant: &str, username: &str, password: &str) -> (u16, Value) {
    post_json(app.app.http_addr, "/auth/login", None, &json!({"tenant": tenant, "username": username, "password": password}))
}

pub(crate) fn code(v: &Value) -> String {
    v["errors"][0]["extensions"]["code"].as_str().unwrap_or("").to_string()
}

/// A property with one 4G meter: (property id, meter id).
pub(crate) fn property_with_meter(admin: &Admin, name: &str, address: &str) -> (String, String) {
    let p = admin.ok("mutation($n: String!) { createProperty(input: {name: $n}) { id } }", json!({"n": name}))["createProperty"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let m = admin.ok(
        "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 1, linkType: FOUR_G}) { meter { id } } }",
        json!({"p": p, "a": address}),
    )["registerMeter"]["meter"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    (p, m)
}

/// A customer with a phone and an account holding `meter`: (customer id, account number).
pub(crate) fn customer_with_account(admin: &Admin, name: &str, phone: &str, meter: &str) -> (String, String) {
    let c =
        admin.ok(
            "mutation($n: String!, $p: String!) { createCustomer(input: {name: $n, phone: $p}) { id } }",
            json!({"n": name, "p": phone}),
        )["createCustomer"]["id"]
            .as_str()
            .unwrap()
            .to_string();
    let number = admin.ok(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m]}) { account { number } } }",
        json!({"c": c, "m": meter}),
    )["openAccount"]["account"]["number"]
        .as_str()
        .unwrap()
        .to_string();
    (c, number)
}

pub(crate) fn role_id(admin: &Admin, name: &str) -> String {
    let roles = admin.ok("{ roles { id name } }", json!({}))["roles"].clone();
    roles.as_array().unwrap().iter().find(|r| r["name"] == name).unwrap()["id"].as_str().unwrap().to_string()
}

pub(crate) fn create_operator(admin: &Admin, username: &str, role: &str, properties: Option<Vec<&str>>) -> String {
    let v = admin.ok(
        "mutation($i: CreateOperatorInput!) { createOperator(input: $i) { id } }",
        json!({"i": {"username": username, "password": "Strong-Pass 2026", "roleId": role, "propertyIds": properties}}),
    );
    v["createOperator"]["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_refresh_rotation_reuse_detection_and_logout() {
    let app = TestApp::spawn().await;
    let admin = app.admin("login").await;
    let (status, wrong) = login(&app, &admin.slug, "admin", "Not-The-Password 1");
    assert_eq!((status, wrong["error"].as_str()), (401, Some("INVALID_CREDENTIALS")));
    let (status, unknown) = login(&app, &admin.slug, "nobody", ADMIN_PASSWORD);
    assert_eq!((status, &unknown["error"]), (401, &wrong["error"]), "an unknown user looks like a wrong password");

    let (status, t1) = login(&app, &admin.slug, "admin", ADMIN_PASSWORD);
    assert_eq!(status, 200, "{t1}");
    let access1 = t1["accessToken"].as_str().unwrap();
    let me = graphql(app.app.http_addr, Some(access1), "{ me { kind name permissions sessionId } }", json!({}));
    assert_eq!(me["data"]["me"]["kind"], "operator");
    assert_eq!(me["data"]["me"]["permissions"].as_array().unwrap().len(), 9);

    // Refresh: a new pair; the old refresh token is spent.
    let (status, t2) = post_json(app.app.http_addr, "/auth/refresh", None, &json!({"refreshToken": t1["refreshToken"]}));
    assert_eq!(status, 200, "{t2}");
    assert_ne!(t2["refreshToken"], t1["refreshToken"]);
    let access2 = t2["accessToken"].as_str().unwrap();
    assert_eq!(graphql(app.app.http_addr, Some(access2), "{ me { kind } }", json!({}))["data"]["me"]["kind"], "operator");

    // Someone replays the first refresh token: the whole session ends, for both holders.
    let (status, reused) = post_json(app.app.http_addr, "/auth/refresh", None, &json!({"refreshToken": t1["refreshToken"]}));
    assert_eq!((status, reused["error"].as_str()), (401, Some("REFRESH_TOKEN_REUSED")));
    let (status, _) = post_json(app.app.http_addr, "/auth/refresh", None, &json!({"refreshToken": t2["refreshToken"]}));
    assert_eq!(status, 401, "the successor dies with its session");
    assert_eq!(code(&graphql(app.app.http_addr, Some(access2), "{ me { kind } }", json!({}))), "UNAUTHENTICATED");
    let sessions = admin.ok("{ sessions(includeEnded: true) { revokedReason } }", json!({}))["sessions"].clone();
    assert!(sessions.as_array().unwrap().iter().any(|s| s["revokedReason"] == "REFRESH_TOKEN_REUSED"), "{sessions}");

    // Logout ends a session at once.
    let (_, t3) = login(&app, &admin.slug, "admin", ADMIN_PASSWORD);
    let access3 = t3["accessToken"].as_str().unwrap();
    let (status, _) = post_json(app.app.http_addr, "/auth/logout", Some(access3), &json!({}));
    assert_eq!(status, 204);
    assert_eq!(code(&graphql(app.app.http_addr, Some(access3), "{ me { kind } }", json!({}))), "UNAUTHENTICATED");
    let (status, _) = post_json(app.app.http_addr, "/auth/refresh", None, &json!({"refreshToken": t3["refreshToken"]}));
    assert_eq!(status, 401);

    // An administrator ends another operator's session; disabling ends all of them.
    let viewer = role_id(&admin, "viewer");
    let li = create_operator(&admin, "li.na", &viewer, None);
    let (_, tl) = login(&app, &admin.slug, "li.na", "Strong-Pass 2026");
    let li_access = tl["accessToken"].as_str().unwrap();
    let live = admin.ok("query($o: ID!) { sessions(operatorId: $o) { id } }", json!({"o": li}))["sessions"].clone();
    assert_eq!(live.as_array().unwrap().len(), 1);
    admin.ok("mutation($s: ID!) { revokeSession(input: {id: $s}) { revokedAt } }", json!({"s": live[0]["id"]}));
    assert_eq!(code(&graphql(app.app.http_addr, Some(li_access), "{ me { kind } }", json!({}))), "UNAUTHENTICATED");
    let (_, tl) = login(&app, &admin.slug, "li.na", "Strong-Pass 2026");
    admin.ok("mutation($o: ID!) { setOperatorActive(input: {id: $o, active: false}) { status } }", json!({"o": li}));
    assert_eq!(code(&graphql(app.app.http_addr, tl["accessToken"].as_str(), "{ me { kind } }", json!({}))), "UNAUTHENTICATED");
    let (status, _) = login(&app, &admin.slug, "li.na", "Strong-Pass 2026");
    assert_eq!(status, 403, "a disabled operator cannot log in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn brute_force_is_throttled_per_account_and_per_address() {
    let app = TestApp::spawn().await;
    let admin = app.admin("throttle").await;
    for _ in 0..5 {
        assert_eq!(login(&app, &admin.slug, "admin", "Wrong-Password 99").0, 401);
    }
    let (status, locked) = login(&app, &admin.slug, "admin", ADMIN_PASSWORD);
    assert_eq!(status, 429, "locked after five failures, even with the right password: {locked}");
    assert!(locked["retryAfter"].as_u64().unwrap() > 0);
    // The lock is per account: another operator of the tenant still logs in.
    let viewer = role_id(&admin, "viewer");
    create_operator(&admin, "wang", &viewer, None);
    assert_eq!(login(&app, &admin.slug, "wang", "Strong-Pass 2026").0, 200);
    // And per address: 30 attempts from one address in the window, whatever the accounts.
    let mut last = 0;
    for i in 0..30 {
        last = login(&app, &admin.slug, &format!("ghost{i}"), "Wrong-Password 99").0;
    }
    assert_eq!(last, 429, "the address is over its rate");
    assert_eq!(login(&app, &admin.slug, "wang", "Strong-Pass 2026").0, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_foreign_expired_and_revoked_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let a = app.admin("tokens-a").await;
    let b = app.admin("tokens-b").await;
    let keys = &app.app.keys;
    let http = app.app.http_addr;
    let me = |t: &str| code(&graphql(http, Some(t), "{ properties { id } }", json!({})));
    assert_eq!(code(&graphql(http, Some(&a.token), "{ properties { id } }", json!({}))), "");
    let a_claims = keys.verify(&a.token).unwrap();
    // alg none with A's claims.
    let parts: Vec<&str> = a.token.split('.').collect();
    assert_eq!(me(&format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1])), "UNAUTHENTICATED");
    // Signed with another key.
    let other = server::api::auth::TokenKeys::new(b"an attacker's key, 32 bytes long");
    let forged = other.issue(Kind::Operator, Some(&a.tenant), &a_claims.sub, a_claims.sid.as_deref(), chrono::Duration::hours(1)).unwrap();
    assert_eq!(me(&forged), "UNAUTHENTICATED");
    // A's operator and session under B's tenant id: no such session there.
    let wrong_tenant =
        keys.issue(Kind::Operator, Some(&b.tenant), &a_claims.sub, a_claims.sid.as_deref(), chrono::Duration::hours(1)).unwrap();
    assert_eq!(me(&wrong_tenant), "UNAUTHENTICATED");
    // Expired.
    let expired =
        keys.issue(Kind::Operator, Some(&a.tenant), &a_claims.sub, a_claims.sid.as_deref(), chrono::Duration::minutes(-10)).unwrap();
    assert_eq!(me(&expired), "UNAUTHENTICATED");
    // A customer-kind token is no operator even with the operator's ids.
    let as_customer =
        keys.issue(Kind::Customer, Some(&a.tenant), &a_claims.sub, a_claims.sid.as_deref(), chrono::Duration::hours(1)).unwrap();
    assert_eq!(me(&as_customer), "UNAUTHENTICATED");
    // Revoked.
    a.ok("mutation($s: ID!) { revokeSession(input: {id: $s}) { id } }", json!({"s": a_claims.sid}));
    assert_eq!(me(&a.token), "UNAUTHENTICATED");
    assert_eq!(code(&graphql(http, None, "{ properties { id } }", json!({}))), "UNAUTHENTICATED");
}

/// Each built-in role against one action per permission; a custom role; a scoped operator.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_permission_matrix_and_the_property_scope() {
    let app = TestApp::spawn().await;
    let admin = app.admin("matrix").await;
    let (p1, m1) = property_with_meter(&admin, "East", "000000000101");
    let (_p2, m2) = property_with_meter(&admin, "West", "000000000102");
    let (c1, _) = customer_with_account(&admin, "Shop 1", "13800000001", &m1);
    let account =
        admin.ok("query($c: ID!) { accounts(customerId: $c) { items { id } } }", json!({"c": c1}))["accounts"]["items"][0]["id"].clone();

    // (query, variables, permission it needs or "" for reading)
    let actions: Vec<(&str, &str, Value)> = vec![
        ("", "{ meters { total } }", json!({})),
        ("METERS", r#"mutation { createProperty(input: {name: "New"}) { id } }"#, json!({})),
        ("CONTROL", "mutation($m: ID!) { readMeterNow(input: {meterId: $m}) { id } }", json!({"m": m1})),
        (
            "SALES",
            r#"mutation($a: ID!) { recharge(input: {accountId: $a, amount: "10.00", channel: CASH}) { receiptNo } }"#,
            json!({"a": account}),
        ),
        ("REFUNDS", r#"mutation($a: ID!) { refund(input: {accountId: $a, amount: "1.00"}) { receiptNo } }"#, json!({"a": account})),
        ("SETTINGS", "{ notificationSettings { provider } }", json!({})),
        ("REPORTS", r#"mutation { runBills(period: "2026-10") { created } }"#, json!({})),
        ("OPERATORS", "{ auditLog { items { id } } }", json!({})),
    ];
    let matrix: Vec<(&str, Vec<&str>)> = vec![
        ("tenant admin", vec!["", "METERS", "CONTROL", "SALES", "REFUNDS", "SETTINGS", "REPORTS", "OPERATORS"]),
        ("finance", vec!["", "SALES", "REFUNDS", "REPORTS"]),
        ("operator", vec!["", "METERS", "CONTROL", "SALES"]),
        ("viewer", vec![""]),
    ];
    for (role, allowed) in &matrix {
        let user = format!("u-{}", role.replace(' ', "-"));
        create_operator(&admin, &user, &role_id(&admin, role), None);
        let token = app.session(&admin.tenant, &user).await;
        for (perm, query, vars) in &actions {
            let answer = graphql(app.app.http_addr, Some(&token), query, vars.clone());
            let forbidden = code(&answer) == "FORBIDDEN";
            assert_eq!(forbidden, !allowed.contains(perm), "{role} on {query}: {answer}");
        }
    }

    // A custom role with only CONTROL; a change of role applies to live sessions at once.
    let custom = admin.ok(r#"mutation { createRole(input: {name: "dispatcher", permissions: [CONTROL]}) { id permissions } }"#, json!({}))
        ["createRole"]
        .clone();
    assert_eq!(custom["permissions"], json!(["CONTROL"]));
    let d = create_operator(&admin, "dispatcher1", custom["id"].as_str().unwrap(), None);
    let token = app.session(&admin.tenant, "dispatcher1").await;
    let read_now = "mutation($m: ID!) { readMeterNow(input: {meterId: $m}) { id } }";
    assert_eq!(code(&graphql(app.app.http_addr, Some(&token), read_now, json!({"m": m1}))), "");
    assert_eq!(
        code(&graphql(app.app.http_addr, Some(&token), r#"mutation { createProperty(input: {name: "X"}) { id } }"#, json!({}))),
        "FORBIDDEN"
    );
    admin.ok(
        "mutation($o: ID!, $r: ID!) { updateOperator(input: {id: $o, roleId: $r}) { id } }",
        json!({"o": d, "r": role_id(&admin, "viewer")}),
    );
    assert_eq!(code(&graphql(app.app.http_addr, Some(&token), read_now, json!({"m": m1}))), "FORBIDDEN");
    assert!(
        code(&admin.gql(
            r#"mutation($r: ID!) { updateRole(input: {id: $r, name: "x", permissions: []}) { id } }"#,
            json!({"r": role_id(&admin, "viewer")})
        )) == "CONFLICT"
    );

    // An operator limited to the East property: West's meter is not found, lists are scoped,
    // lists that cannot be scoped are refused.
    create_operator(&admin, "east-op", &role_id(&admin, "operator"), Some(vec![&p1]));
    let east = app.session(&admin.tenant, "east-op").await;
    let q = |query: &str, vars: Value| graphql(app.app.http_addr, Some(&east), query, vars);
    assert_eq!(q("query($m: ID!) { meter(id: $m) { id } }", json!({"m": m1}))["data"]["meter"]["id"], json!(m1));
    assert_eq!(code(&q("query($m: ID!) { meter(id: $m) { id } }", json!({"m": m2}))), "NOT_FOUND");
    assert_eq!(code(&q(read_now, json!({"m": m2}))), "NOT_FOUND");
    assert_eq!(code(&q(read_now, json!({"m": m1}))), "");
    assert_eq!(q("{ meters { total items { id } } }", json!({}))["data"]["meters"]["total"], 1);
    assert_eq!(q("{ properties { id } }", json!({}))["data"]["properties"].as_array().unwrap().len(), 1);
    // Customers are scoped like their accounts; a list the store cannot scope is refused.
    let customers = q("{ customers { total items { id } } }", json!({}));
    assert_eq!(customers["data"]["customers"]["total"], 1, "{customers}");
    assert_eq!(customers["data"]["customers"]["items"][0]["id"], json!(c1));
    assert_eq!(code(&q("{ settlementAnomalies { id } }", json!({}))), "FORBIDDEN");
    assert_eq!(code(&q(r#"mutation { createProperty(input: {name: "Mine"}) { id } }"#, json!({}))), "FORBIDDEN");
    assert_eq!(q("query($c: ID!) { accounts(customerId: $c) { total } }", json!({"c": c1}))["data"]["accounts"]["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_mutation_is_audited_with_before_and_after_and_exported() {
    let app = TestApp::spawn().await;
    let admin = app.admin("audit").await;
    let p = admin.ok(r#"mutation { createProperty(input: {name: "Old name"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    admin.ok(r#"mutation($p: ID!) { updateProperty(input: {id: $p, name: "New name"}) { id } }"#, json!({"p": p}));
    let refused = admin.gql(
        r#"mutation { createOperator(input: {username: "x1", password: "weak", roleId: "00000000-0000-0000-0000-000000000000"}) { id } }"#,
        json!({}),
    );
    assert_eq!(code(&refused), "VALIDATION");
    let log =
        admin.ok("{ auditLog(first: 10) { items { action actorKind actorName targetId input before after outcome source } } }", json!({}))
            ["auditLog"]["items"]
            .clone();
    let items = log.as_array().unwrap();
    let update = items.iter().find(|a| a["action"] == "updateProperty").unwrap();
    assert_eq!(update["targetId"], p);
    assert_eq!((update["actorKind"].as_str(), update["actorName"].as_str()), (Some("operator"), Some("admin")));
    assert!(update["before"].as_str().unwrap().contains("Old name"));
    assert!(update["after"].as_str().unwrap().contains("New name"));
    assert_eq!(update["source"], "127.0.0.1");
    let create = items.iter().find(|a| a["action"] == "createProperty").unwrap();
    assert!(create["before"].is_null() && create["after"].as_str().unwrap().contains("Old name"), "{create}");
    let failed = items.iter().find(|a| a["action"] == "createOperator").unwrap();
    assert_eq!(failed["outcome"], "VALIDATION");
    assert!(failed["input"].as_str().unwrap().contains("\"password\":\"***\""), "secrets are blanked: {failed}");
    assert!(!failed["input"].as_str().unwrap().contains("weak"));

    let auth = format!("Bearer {}", admin.token);
    let (status, csv) = http_request(app.app.http_addr, "GET", "/exports/audit.csv", &[("Authorization", &auth)], "");
    assert_eq!(status, 200);
    assert!(csv.starts_with("at,actor_kind,actor_id"), "{csv}");
    assert!(csv.contains("\"updateProperty\"") && csv.contains("New name"));
    // A viewer may not export it.
    create_operator(&admin, "viewer1", &role_id(&admin, "viewer"), None);
    let viewer = format!("Bearer {}", app.session(&admin.tenant, "viewer1").await);
    assert_eq!(http_request(app.app.http_addr, "GET", "/exports/audit.csv", &[("Authorization", &viewer)], "").0, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn park_clients_read_only_their_scopes_and_properties() {
    let app = TestApp::spawn().await;
    let admin = app.admin("park").await;
    let (p1, _) = property_with_meter(&admin, "Park A", "000000000201");
    let (_p2, _) = property_with_meter(&admin, "Park B", "000000000202");
    let created = admin.ok(
        "mutation($p: ID!) { createParkClient(input: {name: \"Park platform\", scopes: [ENERGY_READ], propertyIds: [$p]}) { client { id clientId scopes } clientSecret } }",
        json!({"p": p1}),
    )["createParkClient"]
        .clone();
    let client_id = created["client"]["clientId"].as_str().unwrap();
    let secret = created["clientSecret"].as_str().unwrap();
    assert!(!admin.ok("{ parkClients { clientId } }", json!({})).to_string().contains(secret), "the secret is shown once");

    let form = format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}");
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    let (status, body) = http_request(app.app.http_addr, "POST", "/auth/token", &headers, &form);
    assert_eq!(status, 200, "{body}");
    let token: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(token["scope"], "energy:read");
    let access = token["access_token"].as_str().unwrap().to_string();
    let q = |t: &str, query: &str| graphql(app.app.http_addr, Some(t), query, json!({}));
    assert_eq!(q(&access, r#"{ parkDailyEnergy(date: "2026-11-01") { meterId } }"#)["data"]["parkDailyEnergy"], json!([]));
    assert_eq!(code(&q(&access, r#"{ parkBills(period: "2026-10") { id } }"#)), "FORBIDDEN", "no bills:read scope");
    assert_eq!(code(&q(&access, "{ meters { total } }")), "FORBIDDEN", "operator fields are not for clients");
    assert_eq!(q(&access, "{ me { kind propertyIds } }")["data"]["me"], json!({"kind": "park", "propertyIds": [p1]}));

    let bad = format!("grant_type=client_credentials&client_id={client_id}&client_secret=wrong");
    assert_eq!(http_request(app.app.http_addr, "POST", "/auth/token", &headers, &bad).0, 401);
    // Rotation: the old secret and tokens issued before it stop working.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let rotated =
        admin.ok("mutation($i: ID!) { rotateParkClientSecret(input: {id: $i}) { clientSecret } }", json!({"i": created["client"]["id"]}));
    assert_eq!(code(&q(&access, r#"{ parkDailyEnergy(date: "2026-11-01") { meterId } }"#)), "UNAUTHENTICATED");
    assert_eq!(http_request(app.app.http_addr, "POST", "/auth/token", &headers, &form).0, 401);
    let fresh = format!(
        "grant_type=client_credentials&client_id={client_id}&client_secret={}",
        rotated["rotateParkClientSecret"]["clientSecret"].as_str().unwrap()
    );
    assert_eq!(http_request(app.app.http_addr, "POST", "/auth/token", &headers, &fresh).0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mini_program_customers_log_in_with_wechat_bind_by_phone_and_see_only_their_own() {
    let app = TestApp::spawn().await;
    let admin = app.admin("mini").await;
    let wechat =
        server::wechat::standin::WechatStandIn::start("127.0.0.1:0".parse().unwrap(), &[("wx0123456789abcdef", "app-secret-0123456789")])
            .unwrap();
    admin.ok(
        "mutation($b: String!) { setWechatApp(input: {appId: \"wx0123456789abcdef\", appSecret: \"app-secret-0123456789\", apiBase: $b}) }",
        json!({"b": wechat.base}),
    );
    let (_, m1) = property_with_meter(&admin, "Mall", "000000000301");
    let (_, m2) = property_with_meter(&admin, "Mall 2", "000000000302");
    let (_, number1) = customer_with_account(&admin, "Tea shop", "13800001111", &m1);
    let (_, number2) = customer_with_account(&admin, "Noodle shop", "13900002222", &m2);

    let wx_login = |openid: &str| {
        let code = wechat.login_code("wx0123456789abcdef", openid);
        post_json(app.app.http_addr, "/auth/wechat", None, &json!({"tenant": admin.slug, "code": code}))
    };
    let (status, t) = wx_login("o-tea");
    assert_eq!(status, 200, "{t}");
    let access = t["accessToken"].as_str().unwrap().to_string();
    let q = |query: &str, vars: Value| graphql(app.app.http_addr, Some(&access), query, vars);
    assert_eq!(q("{ me { kind id customerId } }", json!({}))["data"]["me"], json!({"kind": "customer", "id": "o-tea", "customerId": null}));
    assert_eq!(q("{ myAccounts { number } }", json!({}))["data"]["myAccounts"], json!([]));

    // Binding needs the account number and the phone WeChat vouches for.
    let bind = "mutation($n: String!, $c: String!) { bindAccount(input: {accountNumber: $n, phoneCode: $c}) { number } }";
    let wrong_phone = wechat.phone_code("wx0123456789abcdef", "13700009999");
    assert_eq!(q(bind, json!({"n": number1, "c": wrong_phone}))["errors"][0]["extensions"]["field"], "accountNumber");
    let other_account = wechat.phone_code("wx0123456789abcdef", "13800001111");
    assert_eq!(code(&q(bind, json!({"n": number2, "c": other_account}))), "VALIDATION");
    let right = wechat.phone_code("wx0123456789abcdef", "13800001111");
    assert_eq!(q(bind, json!({"n": number1, "c": right}))["data"]["bindAccount"], json!([{"number": number1}]));
    assert_eq!(code(&q(bind, json!({"n": number1, "c": right}))), "VALIDATION", "a phone code works once");
    assert_eq!(
        q("{ myAccounts { number meters { id } } }", json!({}))["data"]["myAccounts"],
        json!([{"number": number1, "meters": [{"id": m1}]}])
    );

    // A customer reaches nothing of the operators' API, nor another customer's objects.
    assert_eq!(code(&q("{ meters { total } }", json!({}))), "FORBIDDEN");
    assert_eq!(code(&q("query($m: ID!) { meter(id: $m) { id } }", json!({"m": m2}))), "FORBIDDEN");
    let (_, other) = wx_login("o-noodle");
    let other_view = graphql(app.app.http_addr, other["accessToken"].as_str(), "{ myAccounts { number } }", json!({}));
    assert_eq!(other_view["data"]["myAccounts"], json!([]), "an unbound customer sees nothing");

    // A used or made-up code is refused by WeChat, and so by us.
    let (status, refused) = post_json(app.app.http_addr, "/auth/wechat", None, &json!({"tenant": admin.slug, "code": "made-up"}));
    assert_eq!((status, refused["error"].as_str()), (401, Some("WECHAT_REFUSED")));
    wechat.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_saas_operator_creates_suspends_and_reactivates_tenants() {
    let app = TestApp::spawn().await;
    let admin_token = app.app.keys.issue(Kind::Admin, None, "platform-admin", None, chrono::Duration::minutes(10)).unwrap();
    let q = |t: &str, query: &str, vars: Value| graphql(app.app.http_addr, Some(t), query, vars);
    let slug = format!("co-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let create = "mutation($s: String!, $p: String!) { createTenant(input: {name: \"New Co\", slug: $s, adminUsername: \"boss\", adminPassword: $p}) { id slug status } }";
    assert_eq!(q(&admin_token, create, json!({"s": slug, "p": "weak"}))["errors"][0]["extensions"]["field"], "adminPassword");
    let created = q(&admin_token, create, json!({"s": slug, "p": "Chief-Pass 2026!"}));
    assert_eq!(created["data"]["createTenant"]["status"], "ACTIVE", "{created}");
    assert_eq!(code(&q(&admin_token, create, json!({"s": slug, "p": "Chief-Pass 2026!"}))), "VALIDATION", "slug taken");
    let (status, t) = login(&app, &slug, "boss", "Chief-Pass 2026!");
    assert_eq!(status, 200);
    let boss = t["accessToken"].as_str().unwrap().to_string();
    // Tenant operators cannot use the SaaS operator's API, nor the reverse.
    assert_eq!(code(&q(&boss, "{ platformTenants { slug } }", json!({}))), "FORBIDDEN");
    assert_eq!(code(&q(&admin_token, "{ meters { total } }", json!({}))), "FORBIDDEN");

    q(&admin_token, "mutation($s: String!) { suspendTenant(input: {slug: $s}) { status } }", json!({"s": slug}));
    assert_eq!(code(&q(&boss, "{ properties { id } }", json!({}))), "FORBIDDEN");
    assert_eq!(login(&app, &slug, "boss", "Chief-Pass 2026!").0, 403);
    q(&admin_token, "mutation($s: String!) { reactivateTenant(input: {slug: $s}) { status } }", json!({"s": slug}));
    assert_eq!(code(&q(&boss, "{ properties { id } }", json!({}))), "");
    let list = q(&admin_token, "{ platformTenants { slug status } }", json!({}));
    assert!(list["data"]["platformTenants"].as_array().unwrap().iter().any(|t| t["slug"] == json!(slug) && t["status"] == "ACTIVE"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn device_logins_rotate_and_revoke_and_the_emqx_hooks_follow() {
    let app = TestApp::spawn().await;
    let admin = app.admin("devices").await;
    let p = admin.ok(r#"mutation { createProperty(input: {name: "Mall"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let r = admin.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000000401\", phases: 1, linkType: FOUR_G}) { meter { id } credentials { username password uplinkTopic } } }",
        json!({"p": p}),
    )["registerMeter"]
        .clone();
    let (meter, user, old) =
        (r["meter"]["id"].clone(), r["credentials"]["username"].as_str().unwrap().to_string(), r["credentials"]["password"].clone());
    let authn = |password: &Value| {
        post_json(
            app.app.http_addr,
            "/broker/emqx/authn",
            Some(tests::INTERNAL_TOKEN),
            &json!({"username": user, "password": password, "clientid": user}),
        )
        .1["result"]
            .clone()
    };
    assert_eq!(authn(&old), "allow");
    assert_eq!(authn(&json!("guess")), "deny");
    // The bridge's own login: its sessions' client ids start with its username, the shared
    // exclusive uplink's default id included; another client id is refused.
    let bridge = |client: &str| {
        post_json(
            app.app.http_addr,
            "/broker/emqx/authn",
            Some(tests::INTERNAL_TOKEN),
            &json!({"username": "voltledger-bridge", "password": "bridge-test-secret", "clientid": client}),
        )
        .1["result"]
            .clone()
    };
    assert_eq!(bridge("voltledger-bridge-uplink-0"), "allow");
    assert_eq!(bridge("voltledger-bridge-7-down"), "allow");
    assert_eq!(bridge("someone-else-0"), "deny");
    let authz = |topic: &str, action: &str| {
        post_json(
            app.app.http_addr,
            "/broker/emqx/authz",
            Some(tests::INTERNAL_TOKEN),
            &json!({"username": user, "topic": topic, "action": action}),
        )
        .1["result"]
            .clone()
    };
    assert_eq!(authz(r["credentials"]["uplinkTopic"].as_str().unwrap(), "publish"), "allow");
    assert_eq!(authz("vl/up/someone-else", "publish"), "deny");
    assert_eq!(authz("vl/down/#", "subscribe"), "deny");

    let rotated = admin.ok("mutation($m: ID!) { rotateDeviceCredential(input: {meterId: $m}) { username password } }", json!({"m": meter}))
        ["rotateDeviceCredential"]
        .clone();
    assert_eq!(rotated["username"], json!(user), "the username stays");
    assert_eq!(authn(&old), "deny", "the old secret stops working");
    assert_eq!(authn(&rotated["password"]), "allow");
    let audit = admin.ok("{ auditLog(filter: {action: \"rotateDeviceCredential\"}) { items { input after } } }", json!({}));
    assert!(!audit.to_string().contains(rotated["password"].as_str().unwrap()), "the new secret is not in the audit log");

    admin.ok("mutation($m: ID!) { revokeDeviceCredential(input: {meterId: $m}) }", json!({"m": meter}));
    assert_eq!(authn(&rotated["password"]), "deny");
    assert_eq!(
        code(&admin.gql("mutation($m: ID!) { rotateDeviceCredential(input: {meterId: $m}) { username } }", json!({"m": meter}))),
        "NOT_FOUND"
    );
}
