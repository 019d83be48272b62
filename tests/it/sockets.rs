//! A GraphQL WebSocket keeps no identity of its own: after a logout, an expired or revoked
//! session, a disabled operator, a changed role or a suspended tenant, the next operation
//! on an open socket is refused and the socket is closed (4401) within seconds — a live
//! subscription included.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tests::{TestApp, http_request};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(addr: std::net::SocketAddr, token: &str) -> Ws {
    let mut request = format!("ws://{addr}/graphql/ws").into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("the socket opens");
    let init = json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}});
    ws.send(Message::text(init.to_string())).await.unwrap();
    let ack = next_json(&mut ws).await.expect("an answer to connection_init");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws
}

/// The next JSON message, if one comes within 10 s and the socket is open.
async fn next_json(ws: &mut Ws) -> Option<Value> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(&t).ok(),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            _ => return None,
        }
    }
}

/// Runs a query on the socket: its `next` payload.
async fn ask(ws: &mut Ws, id: &str, query: &str) -> Value {
    ws.send(Message::text(json!({"id": id, "type": "subscribe", "payload": {"query": query}}).to_string())).await.unwrap();
    loop {
        let m = next_json(ws).await.expect("an answer");
        if m["id"] == id && m["type"] == "next" {
            return m["payload"].clone();
        }
        if m["id"] == id && m["type"] == "error" {
            return json!({"errors": m["payload"]});
        }
    }
}

/// The close code, if the server closes the socket within `wait`.
async fn closed_within(ws: &mut Ws, wait: Duration) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => return Some(frame.map(|f| u16::from(f.code)).unwrap_or(1005)),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_)) | None) => return Some(1006),
            Err(_) => return None,
        }
    }
}

fn error_code(v: &Value) -> String {
    v["errors"][0]["extensions"]["code"].as_str().unwrap_or("").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_open_socket_follows_the_session_logout_disable_role_change_and_suspension_close_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin("sockets").await;
    let addr = app.app.http_addr;

    // Logout: the next operation is refused, then the socket closes; a live subscription too.
    let token = app.session(&admin.tenant, "admin").await;
    let mut ws = open(addr, &token).await;
    assert_eq!(ask(&mut ws, "1", "{ meters { total } }").await["data"]["meters"]["total"], 0);
    let mut watching = open(addr, &token).await;
    watching
        .send(Message::text(
            json!({"id": "s", "type": "subscribe", "payload": {"query": "subscription { alarmChanges { change } }"}}).to_string(),
        ))
        .await
        .unwrap();
    let (status, _) = http_request(addr, "POST", "/auth/logout", &[("Authorization", &format!("Bearer {token}"))], "");
    assert_eq!(status, 204);
    assert_eq!(error_code(&ask(&mut ws, "2", "{ meters { total } }").await), "UNAUTHENTICATED");
    let mutation = r#"mutation { createProperty(input: {name: "After logout"}) { id } }"#;
    assert_eq!(error_code(&ask(&mut ws, "3", mutation).await), "UNAUTHENTICATED");
    assert_eq!(closed_within(&mut ws, Duration::from_secs(8)).await, Some(4401));
    assert_eq!(closed_within(&mut watching, Duration::from_secs(8)).await, Some(4401), "the subscription's socket closes too");
    let props = admin.ok("{ properties { name } }", json!({}))["properties"].clone();
    assert!(!props.to_string().contains("After logout"), "{props}");

    // A disabled operator, a changed role: their open sockets close.
    let role = |name: &str| {
        admin.ok("{ roles { id name } }", json!({}))["roles"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap()["id"].clone()
    };
    let mut ids = Vec::new();
    for user in ["ws-disabled", "ws-demoted"] {
        let v = admin.ok(
            "mutation($i: CreateOperatorInput!) { createOperator(input: $i) { id } }",
            json!({"i": {"username": user, "password": "Strong-Pass 2026", "roleId": role("operator")}}),
        );
        ids.push(v["createOperator"]["id"].clone());
    }
    let mut disabled = open(addr, &app.session(&admin.tenant, "ws-disabled").await).await;
    let mut demoted = open(addr, &app.session(&admin.tenant, "ws-demoted").await).await;
    assert_eq!(ask(&mut demoted, "1", "{ meters { total } }").await["data"]["meters"]["total"], 0);
    admin.ok("mutation($o: ID!) { setOperatorActive(input: {id: $o, active: false}) { status } }", json!({"o": ids[0]}));
    admin
        .ok("mutation($o: ID!, $r: ID!) { updateOperator(input: {id: $o, roleId: $r}) { id } }", json!({"o": ids[1], "r": role("viewer")}));
    assert_eq!(error_code(&ask(&mut demoted, "2", "{ meters { total } }").await), "UNAUTHENTICATED", "the old role no longer answers");
    assert_eq!(closed_within(&mut disabled, Duration::from_secs(8)).await, Some(4401));
    assert_eq!(closed_within(&mut demoted, Duration::from_secs(8)).await, Some(4401));

    // A suspended tenant: the administrator's socket closes.
    let mut suspended = open(addr, &app.session(&admin.tenant, "admin").await).await;
    app.app.store.platform().set_tenant_status(&admin.slug, "SUSPENDED").await.unwrap();
    app.app.store.reload_caches().await.unwrap();
    assert_eq!(closed_within(&mut suspended, Duration::from_secs(8)).await, Some(4401));

    // A socket that never identified itself gets nothing.
    app.app.store.platform().set_tenant_status(&admin.slug, "ACTIVE").await.unwrap();
    app.app.store.reload_caches().await.unwrap();
    let mut anonymous = open(addr, "not-a-token").await;
    assert_eq!(error_code(&ask(&mut anonymous, "1", "{ meters { total } }").await), "UNAUTHENTICATED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scoped_operators_alarm_stream_carries_only_its_properties() {
    let app = TestApp::spawn().await;
    let admin = app.admin("socket-scope").await;
    let s = crate::desk::desk(&admin);
    let role = crate::identity::role_id(&admin, "tenant admin");
    crate::identity::create_operator(&admin, "mall-watch", &role, Some(vec![&s.mall]));
    let token = app.session(&admin.tenant, "mall-watch").await;
    let mut ws = open(app.app.http_addr, &token).await;
    let sub =
        json!({"id": "a", "type": "subscribe", "payload": {"query": "subscription { alarmChanges { change alarm { subjectId kind } } }"}});
    ws.send(Message::text(sub.to_string())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // West's balance alarm first, then Mall's: the stream's first message is Mall's.
    let raise = |account: &str| {
        admin.ok(
            "mutation($a: ID!) { setAccountTerms(input: {accountId: $a, thresholds: {creditLimit: \"0\", alarm1: \"500.00\", alarm2: \"400.00\"}}) { account { balanceState } } }",
            json!({"a": account}),
        )
    };
    raise(&s.west_account);
    raise(&s.mall_account);
    let mut seen = Vec::new();
    while let Some(m) = next_json(&mut ws).await {
        assert_eq!(m["type"], "next", "{m}");
        let subject = m["payload"]["data"]["alarmChanges"]["alarm"]["subjectId"].as_str().unwrap().to_string();
        seen.push(subject);
        if seen.len() == 2 {
            break;
        }
    }
    assert!(!seen.is_empty(), "Mall's alarms arrive");
    assert!(seen.iter().all(|s_id| *s_id == s.mall_account), "only Mall's account: {seen:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_console_socket_closes_at_logout_and_no_other_session_passes_for_a_console_one() {
    let app = TestApp::spawn().await;
    let addr = app.app.http_addr;
    let admin = app.admin("console-socket").await;
    let password = "Console-Pass-2026!";
    let hash = server::api::auth::hash_password(password).unwrap();
    let op = app.app.store.platform().create_operator("socket-ops", &hash, chrono::Utc::now()).await.unwrap();
    let (_, body) = tests::post_json(addr, "/auth/platform/login", None, &json!({"username": "socket-ops", "password": password}));
    let token = body["accessToken"].as_str().unwrap().to_string();

    // Logout ends the console session: the open socket's next operation is refused, then it closes.
    let mut ws = open(addr, &token).await;
    assert!(ask(&mut ws, "1", "{ platformTenants { slug } }").await["data"]["platformTenants"].is_array());
    let (status, _) = http_request(addr, "POST", "/auth/platform/logout", &[("Authorization", &format!("Bearer {token}"))], "");
    assert_eq!(status, 204);
    assert_eq!(error_code(&ask(&mut ws, "2", "{ platformTenants { slug } }").await), "UNAUTHENTICATED");
    assert_eq!(closed_within(&mut ws, Duration::from_secs(8)).await, Some(4401));

    // Signed with the server's own key (as a leak of the key would allow, or a bug minting one):
    // an admin token naming a tenant operator's live session, another operator's session, or
    // the CLI's subject with a session, is refused; so is one naming a tenant.
    let tenant_op = app.app.store.tenant(admin.tenant.clone()).operator_login("admin").await.unwrap().unwrap();
    let (tenant_session, _) = app
        .app
        .store
        .tenant(admin.tenant.clone())
        .create_session("operator", &tenant_op.id, "test", "test", chrono::Duration::hours(1))
        .await
        .unwrap();
    let (_, body) = tests::post_json(addr, "/auth/platform/login", None, &json!({"username": "socket-ops", "password": password}));
    let real = app.app.keys.verify(body["accessToken"].as_str().unwrap()).unwrap();
    let console_session = real.sid.clone().unwrap();
    use server::api::auth::Kind::Admin;
    let hour = chrono::Duration::hours(1);
    for (sub, tenant, sid, what) in [
        (tenant_op.id.as_str(), None, Some(tenant_session.id.as_str()), "a tenant operator's session"),
        (op.id.as_str(), None, Some(tenant_session.id.as_str()), "the operator with a tenant's session id"),
        ("someone-else", None, Some(console_session.as_str()), "another subject on a live console session"),
        (server::api::auth::CLI_ADMIN, None, Some(console_session.as_str()), "the CLI's subject with a session"),
        (op.id.as_str(), Some(&admin.tenant), Some(console_session.as_str()), "a console session naming a tenant"),
    ] {
        let forged = app.app.keys.issue(Admin, tenant, sub, sid, hour).unwrap();
        let r = tests::graphql(addr, Some(&forged), "{ platformTenants { slug } }", json!({}));
        let code = r["errors"][0]["extensions"]["code"].as_str().unwrap_or_default().to_string();
        assert!(code == "UNAUTHENTICATED" || code == "FORBIDDEN", "{what}: {r}");
    }
    // The genuine one still works: the refusals above were not a broken session.
    let r = tests::graphql(addr, Some(body["accessToken"].as_str().unwrap()), "{ platformTenants { slug } }", json!({}));
    assert!(r["data"]["platformTenants"].is_array(), "{r}");
}
