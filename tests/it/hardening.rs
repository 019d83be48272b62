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
    let v = graphql(app.app.http_addr, Some(&admin.token), "{ __schema { types { name } } }", json!({}));
    assert_eq!(v["errors"][0]["extensions"]["code"], "FORBIDDEN", "{v}");
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
