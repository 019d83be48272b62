//! The edges, attacked: oversized bodies, the internal endpoints, tenant-set URLs that point
//! inside the platform's network, introspection on a production server, and the login
//! throttle behind a reverse proxy (a spoofed X-Forwarded-For, a victim locked out on
//! purpose, a burst of parallel guesses).

use serde_json::{Value, json};
use tests::{ADMIN_PASSWORD, INTERNAL_TOKEN, TestApp, graphql, http_request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn big(n: usize) -> String {
    "x".repeat(n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_beyond_the_limit_are_refused_and_internal_endpoints_need_the_internal_token() {
    let app = TestApp::spawn().await;
    let addr = app.app.http_addr;
    let json = [("Content-Type", "application/json")];
    let query = json!({"query": format!("{{ me {{ kind }} }} # {}", big(300 * 1024))}).to_string();
    assert_eq!(http_request(addr, "POST", "/graphql", &json, &query).0, 413);
    let login = json!({"tenant": "x", "username": "y", "password": big(100 * 1024)}).to_string();
    assert_eq!(http_request(addr, "POST", "/auth/login", &json, &login).0, 413);
    assert_eq!(http_request(addr, "POST", "/pay/wechat/notify", &json, &big(300 * 1024)).0, 413);
    // A request within the limit is answered as usual.
    assert_eq!(http_request(addr, "POST", "/graphql", &json, &json!({"query": "{ me { kind } }"}).to_string()).0, 200);
    assert_eq!(http_request(addr, "POST", "/graphql", &json, "[not json").0, 400);

    // /metrics and the broker hooks answer only the internal token.
    assert_eq!(http_request(addr, "GET", "/metrics", &[], "").0, 401);
    let bearer = format!("Bearer {INTERNAL_TOKEN}");
    let (status, body) = http_request(addr, "GET", "/metrics", &[("Authorization", &bearer)], "");
    assert_eq!(status, 200);
    assert!(body.contains("voltledger_readings_total"));
    let guess = json!({"username": "d1", "password": "guess", "clientid": "d1"}).to_string();
    assert_eq!(http_request(addr, "POST", "/broker/emqx/authn", &json, &guess).0, 401, "no password oracle for strangers");
    assert_eq!(
        http_request(
            addr,
            "POST",
            "/broker/emqx/authz",
            &json,
            &json!({"username": "d1", "topic": "#", "action": "subscribe"}).to_string()
        )
        .0,
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_production_server_refuses_urls_into_its_own_network_and_hides_its_schema() {
    let app = TestApp::spawn_with(|s| {
        s.security.allow_local_outbound = false;
        s.security.no_graphiql = true;
    })
    .await;
    let admin = app.admin("outbound").await;
    let settings = "mutation($e: String!) { setNotificationSettings(input: {provider: \"ALIYUN\", endpoint: $e, accessKeyId: \"AK\", accessKeySecret: \"S\", signName: \"V\", contacts: []}) { provider } }";
    for bad in [
        "http://localhost@169.254.169.254/latest/meta-data/",
        "https://localhost@169.254.169.254/",
        "https://169.254.169.254/",
        "https://10.0.0.1/",
        "https://[::1]:8080/",
        "https://2130706433/",
        "http://dysmsapi.aliyuncs.com/",
    ] {
        let e = admin.fails(settings, json!({"e": bad}));
        assert_eq!(e["field"], "endpoint", "{bad}: {e}");
    }
    admin.ok(settings, json!({"e": "https://dysmsapi.aliyuncs.com/"}));
    let wechat =
        "mutation($b: String!) { setWechatApp(input: {appId: \"wx0123456789abcdef\", appSecret: \"app-secret-0123456789\", apiBase: $b}) }";
    assert_eq!(admin.fails(wechat, json!({"b": "http://127.0.0.1:9/"}))["field"], "apiBase");
    // Introspection and GraphiQL are off.
    for q in [
        "{ __schema { types { name } } }",
        "{ __type(name: \"MutationRoot\") { fields { name } } }",
        "{ a: __type(name: \"Meter\") { name } }",
    ] {
        let v = graphql(app.app.http_addr, Some(&admin.token), q, json!({}));
        assert!(v["data"].is_null() || v["data"].as_object().is_some_and(|d| d.values().all(|x| x.is_null())), "{q}: {v}");
        assert!(!v.to_string().contains("MutationRoot") && !v.to_string().contains("fields"), "{q}: {v}");
    }
    assert_eq!(http_request(app.app.http_addr, "GET", "/graphql", &[], "").0, 404);
}

/// One login from a given loopback source address (127.0.0.1 is the trusted proxy of test
/// servers; 127.0.0.2 is an ordinary client), optionally with X-Forwarded-For.
async fn login_from(addr: std::net::SocketAddr, from: [u8; 4], forwarded: Option<&str>, body: &Value) -> u16 {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(std::net::SocketAddr::from((from, 0))).unwrap();
    let mut s = socket.connect(addr).await.unwrap();
    let body = body.to_string();
    let xff = forwarded.map(|f| format!("X-Forwarded-For: {f}\r\n")).unwrap_or_default();
    let req = format!(
        "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{xff}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn behind_a_proxy_each_client_has_its_own_count_and_nobody_locks_out_a_victim() {
    let app = TestApp::spawn().await;
    let admin = app.admin("proxy").await;
    let addr = app.app.http_addr;
    let wrong = json!({"tenant": admin.slug, "username": "admin", "password": "Wrong-Password 99"});
    let right = json!({"tenant": admin.slug, "username": "admin", "password": ADMIN_PASSWORD});
    // An attacker (198.51.100.7, through the proxy) fails five times: locked out itself…
    for _ in 0..5 {
        assert_eq!(login_from(addr, [127, 0, 0, 1], Some("198.51.100.7"), &wrong).await, 401);
    }
    assert_eq!(login_from(addr, [127, 0, 0, 1], Some("198.51.100.7"), &right).await, 429);
    // …but the administrator, elsewhere, still logs in.
    assert_eq!(login_from(addr, [127, 0, 0, 1], Some("198.51.100.8"), &right).await, 200);
    // A client that is not a trusted proxy cannot pick its address: its header is ignored,
    // and its failures are counted against its socket address.
    for i in 0..5 {
        assert_eq!(login_from(addr, [127, 0, 0, 2], Some(&format!("192.0.2.{i}")), &wrong).await, 401);
    }
    assert_eq!(
        login_from(addr, [127, 0, 0, 2], Some("192.0.2.200"), &right).await,
        429,
        "spoofing X-Forwarded-For does not reset the count"
    );
    let audit =
        admin.ok("{ auditLog(first: 50, filter: {action: \"loginFailed\"}) { items { source } } }", json!({}))["auditLog"]["items"].clone();
    let sources: Vec<&str> = audit.as_array().unwrap().iter().map(|a| a["source"].as_str().unwrap()).collect();
    assert!(
        sources.contains(&"198.51.100.7") && sources.contains(&"127.0.0.2") && !sources.iter().any(|s| s.starts_with("192.0.2.")),
        "{sources:?}"
    );

    // A burst of parallel guesses is counted before any is checked: at most five are tried.
    let tries: Vec<_> = (0..20)
        .map(|_| {
            let wrong = wrong.clone();
            tokio::spawn(async move { login_from(addr, [127, 0, 0, 1], Some("198.51.100.99"), &wrong).await })
        })
        .collect();
    let mut checked = 0;
    for t in tries {
        let status = t.await.unwrap();
        assert!(status == 401 || status == 429, "{status}");
        checked += usize::from(status == 401);
    }
    assert!(checked <= 5, "{checked} guesses were checked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_merchant_belongs_to_one_company_and_every_refusal_login_and_platform_action_is_audited() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.admin("merchant-a").await, app.admin("merchant-b").await);
    let payee = "mutation($s: String!) { createPayee(input: {name: \"Mall\", subMchid: $s}) { id } }";
    a.ok(payee, json!({"s": "1900000301"}));
    a.ok(payee, json!({"s": "1900000301"})); // the same company may name it twice
    let taken = b.fails(payee, json!({"s": "1900000301"}));
    assert_eq!(taken["code"], "CONFLICT", "another company's sub-merchant: {taken}");
    // Two companies registering one new merchant at the same instant: exactly one has it.
    let racers: Vec<_> = [&a, &b]
        .into_iter()
        .flat_map(|admin| std::iter::repeat_n((admin.http, admin.token.clone()), 4))
        .map(|(http, token)| std::thread::spawn(move || graphql(http, Some(&token), payee, json!({"s": "1900000399"}))))
        .collect();
    let answers: Vec<Value> = racers.into_iter().map(|h| h.join().unwrap()).collect();
    let owners: std::collections::HashSet<String> = [&a, &b]
        .iter()
        .filter(|admin| {
            admin.ok("{ payees { subMchid } }", json!({}))["payees"].as_array().unwrap().iter().any(|p| p["subMchid"] == "1900000399")
        })
        .map(|admin| admin.slug.clone())
        .collect();
    assert_eq!(owners.len(), 1, "one company owns the merchant: {answers:?}");

    // A refused mutation is in the audit log, with who and from where.
    let viewer =
        a.ok("{ roles { id name } }", json!({}))["roles"].as_array().unwrap().iter().find(|r| r["name"] == "viewer").unwrap()["id"].clone();
    a.ok(
        "mutation($i: CreateOperatorInput!) { createOperator(input: $i) { id } }",
        json!({"i": {"username": "looker", "password": "Strong-Pass 2026", "roleId": viewer}}),
    );
    let looker = app.session(&a.tenant, "looker").await;
    let refused = graphql(app.app.http_addr, Some(&looker), r#"mutation { createProperty(input: {name: "Not mine"}) { id } }"#, json!({}));
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let log =
        a.ok("{ auditLog(first: 50, filter: {action: \"createProperty\"}) { items { actorName outcome source } } }", json!({}))["auditLog"]
            ["items"]
            .clone();
    assert_eq!(log[0]["outcome"], "FORBIDDEN", "{log}");
    assert_eq!((log[0]["actorName"].as_str(), log[0]["source"].as_str()), (Some("looker"), Some("127.0.0.1")));

    // Logins of every kind: a park client's token, a refresh, an unknown username.
    let property = a.ok(r#"mutation { createProperty(input: {name: "Park"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    assert_eq!(a.park_token("ENERGY_READ", &[&property]).0, 200);
    let (status, body) = tests::post_json(
        app.app.http_addr,
        "/auth/login",
        None,
        &json!({"tenant": a.slug, "username": "admin", "password": ADMIN_PASSWORD}),
    );
    assert_eq!(status, 200, "{body}");
    let (status, _) = tests::post_json(app.app.http_addr, "/auth/refresh", None, &json!({"refreshToken": body["refreshToken"]}));
    assert_eq!(status, 200);
    assert_eq!(
        tests::post_json(
            app.app.http_addr,
            "/auth/login",
            None,
            &json!({"tenant": a.slug, "username": "nobody", "password": "Wrong-Password 99"})
        )
        .0,
        401
    );
    let actions: Vec<(String, String)> = a.ok("{ auditLog(first: 100) { items { action outcome } } }", json!({}))["auditLog"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["action"].as_str().unwrap().to_string(), x["outcome"].as_str().unwrap().to_string()))
        .collect();
    for want in [("token", "OK"), ("login", "OK"), ("refresh", "OK"), ("loginFailed", "UNKNOWN_USERNAME")] {
        assert!(actions.contains(&(want.0.to_string(), want.1.to_string())), "{want:?} missing from {actions:?}");
    }

    // The SaaS operator's actions go to the platform audit log.
    let admin = app.app.keys.issue(server::api::auth::Kind::Admin, None, "platform-admin", None, chrono::Duration::minutes(10)).unwrap();
    let v = graphql(
        app.app.http_addr,
        Some(&admin),
        "mutation($s: String!) { suspendTenant(input: {slug: $s}) { status } }",
        json!({"s": b.slug}),
    );
    assert_eq!(v["data"]["suspendTenant"]["status"], "SUSPENDED", "{v}");
    let log = graphql(app.app.http_addr, Some(&admin), "{ platformAuditLog { action subjectTenant outcome source } }", json!({}));
    assert_eq!(
        log["data"]["platformAuditLog"][0],
        json!({"action": "suspendTenant", "subjectTenant": b.slug, "outcome": "OK", "source": "127.0.0.1"}),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_principal_past_its_request_rate_is_slowed_and_page_sizes_count_in_the_complexity() {
    let app = TestApp::spawn_with(|s| s.security.requests_per_minute = 20).await;
    let admin = app.admin("rate").await;
    for _ in 0..20 {
        assert_eq!(graphql(app.app.http_addr, Some(&admin.token), "{ me { kind } }", json!({}))["data"]["me"]["kind"], "operator");
    }
    let slowed = graphql(app.app.http_addr, Some(&admin.token), "{ me { kind } }", json!({}));
    assert_eq!(slowed["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{slowed}");
    // Another principal has its own count.
    let other = app.admin("rate-2").await;
    assert_eq!(graphql(app.app.http_addr, Some(&other.token), "{ me { kind } }", json!({}))["data"]["me"]["kind"], "operator");

    // Many aliases of large pages of readings are refused before they run.
    let heavy: String = (0..20)
        .map(|i| format!("m{i}: meters(pageSize: 500) {{ items {{ readings(from: \"2026-01-01T00:00:00Z\", to: \"2026-12-31T00:00:00Z\", first: 1000) {{ items {{ readAt energyTotal }} }} }} }}"))
        .collect();
    let v = graphql(app.app.http_addr, Some(&other.token), &format!("{{ {heavy} }}"), json!({}));
    assert!(v["errors"][0]["message"].as_str().unwrap_or("").to_lowercase().contains("complex"), "{v}");
    // An ordinary portal page passes.
    let page = graphql(
        app.app.http_addr,
        Some(&other.token),
        "{ meters(pageSize: 100) { total items { id address linkState live { energyTotal activePower } } } }",
        json!({}),
    );
    assert!(page.get("errors").is_none(), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_wechat_answers_without_the_secret_or_its_address() {
    let app = TestApp::spawn().await;
    let admin = app.admin("upstream").await;
    // WeChat's address is unreachable (nothing listens on port 9).
    admin.ok(
        "mutation { setWechatApp(input: {appId: \"wx0123456789abcdef\", appSecret: \"app-secret-0123456789-TOPSECRET\", apiBase: \"http://127.0.0.1:9\"}) }",
        json!({}),
    );
    let (status, body) = tests::post_json(app.app.http_addr, "/auth/wechat", None, &json!({"tenant": admin.slug, "code": "any-code"}));
    assert_eq!(status, 502, "{body}");
    let text = body.to_string();
    assert!(!text.contains("TOPSECRET") && !text.contains("127.0.0.1") && !text.contains("secret="), "{text}");
}
