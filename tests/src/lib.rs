//! Test harness shared by the end-to-end tests: a `TestApp` running the real application
//! (HTTP on port 0, bridge, broker) on a fresh database, with role-typed helpers.
//!
//! Backends: SQLite in a temporary file by default; a fresh PostgreSQL database per test
//! when `VOLTLEDGER_TEST_DATABASE_URL` is set; an external broker when
//! `VOLTLEDGER_TEST_MQTT_URL` is set (otherwise the embedded broker on a free port).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use server::app::{Application, RunningApp, Settings};

pub struct TestApp {
    pub app: RunningApp,
    pub data_dir: PathBuf,
    pub database: String,
}

/// A caller holding a tenant administrator token.
pub struct Admin {
    pub http: SocketAddr,
    pub token: String,
    pub tenant: server::domain::ids::TenantId,
    pub slug: String,
}

/// The password of every test tenant's `admin`.
pub const ADMIN_PASSWORD: &str = "Test-Admin-2026!";

/// The internal token of test servers (`/metrics`, broker hooks).
pub const INTERNAL_TOKEN: &str = "internal-test-token-2026";

/// Its argon2id hash, computed once per test binary.
fn admin_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| server::api::auth::hash_password(ADMIN_PASSWORD).unwrap()).clone()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap()
}

async fn fresh_database() -> String {
    match std::env::var("VOLTLEDGER_TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let name = format!("vl_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(base.as_str()).await.expect("connect to PostgreSQL");
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
            admin.close().await.ok();
            let (head, _) = base.rsplit_once('/').expect("database URL ends with /dbname");
            format!("{head}/{name}")
        }
        _ => String::new(),
    }
}

impl TestApp {
    pub fn uses_postgres() -> bool {
        std::env::var("VOLTLEDGER_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
    }

    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// A server with settings changed by `adjust` (e.g. production security settings).
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        // The server's warnings and errors, shown with a failing test's output (an INTERNAL
        // answer's cause is logged only under its request id). RUST_LOG overrides.
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=error,rumqttd=error"));
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).with_test_writer().try_init();
        let data_dir = std::env::temp_dir().join(format!("voltledger-test-{}", uuid::Uuid::new_v4().simple()));
        let database = fresh_database().await;
        let settings = Settings {
            role: server::app::Role::All,
            grace: Duration::from_secs(5),
            metrics_listen: None,
            data_dir: data_dir.clone(),
            database_url: (!database.is_empty()).then(|| database.clone()),
            broker: std::env::var("VOLTLEDGER_TEST_MQTT_URL").ok(),
            mqtt_listen: SocketAddr::from(([127, 0, 0, 1], free_port())),
            mqtt_tls: None,
            http_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            jwt_secret: Some("test-secret-test-secret-test-secret!".into()),
            key_encryption_key: None,
            bridge_password: Some("bridge-test-secret".into()),
            bridge_sessions: 1,
            batch_time: None,
            bridge_client_id: format!("voltledger-bridge-{}", uuid::Uuid::new_v4().simple()),
            // Exclusive when the tests run on an external broker (VOLTLEDGER_TEST_MQTT_URL):
            // every app its own lease (its own database) and its own uplink session on it.
            uplink: None,
            uplink_client_id: format!("voltledger-bridge-uplink-{}", uuid::Uuid::new_v4().simple()),
            demo: false,
            demo_meters: 0,
            demo_interval: Duration::from_secs(1),
            redis_url: std::env::var("VOLTLEDGER_TEST_REDIS_URL").ok(),
            redis_namespace: format!("vl-test-{}", uuid::Uuid::new_v4().simple()),
            public_url: None,
            device_broker_url: None,
            security: server::app::SecuritySettings {
                // The stand-ins listen on 127.0.0.1.
                allow_local_outbound: true,
                internal_token: Some(INTERNAL_TOKEN.into()),
                // Requests from 127.0.0.1 may name their client in X-Forwarded-For (the
                // proxy tests); other loopback addresses are ordinary clients.
                trusted_proxies: vec![std::net::IpAddr::from([127, 0, 0, 1])],
                // The isolation walk and the property tests call far faster than people do.
                requests_per_minute: 1_000_000,
                ..Default::default()
            },
            web_dir: None,
            mail: None,
            // The collector always runs in tests (an ephemeral port).
            serial_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        };
        let mut settings = settings;
        adjust(&mut settings);
        // The embedded broker's port is picked free and then bound by rumqttd: another test's
        // socket may take it in between (CI saw it once). Another port then, a few times.
        let mut tries = 0;
        let app = loop {
            match Application::build(&settings).await {
                Ok(app) => break app.spawn(),
                Err(e) if tries < 3 && settings.broker.is_none() && e.to_string().contains("embedded broker failed to start") => {
                    tries += 1;
                    settings.mqtt_listen = SocketAddr::from(([127, 0, 0, 1], free_port()));
                }
                Err(e) => panic!("application builds: {e:?}"),
            }
        };
        TestApp { app, data_dir, database }
    }

    /// A new tenant (slug `{slug}-xxxxxxxx`) and a signed-in session of its first
    /// administrator (`admin`, password [`ADMIN_PASSWORD`]). Its friendly hours are emptied,
    /// so automatic trips go out whenever the test runs; [`TestApp::admin_with_defaults`]
    /// keeps a new tenant's defaults.
    pub async fn admin(&self, slug: &str) -> Admin {
        let admin = self.admin_with_defaults(slug).await;
        self.app.store.tenant(admin.tenant.clone()).set_friendly_windows(&[]).await.unwrap();
        admin
    }

    /// A new tenant as the platform makes it, default friendly hours included.
    pub async fn admin_with_defaults(&self, slug: &str) -> Admin {
        let slug = format!("{slug}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let hash = admin_hash();
        let store = &self.app.store;
        let tenant =
            store.platform().create_tenant_with_admin(&format!("Tenant {slug}"), &slug, "Asia/Shanghai", "admin", &hash).await.unwrap();
        let token = self.session(&tenant, "admin").await;
        Admin { http: self.app.http_addr, token, tenant, slug }
    }

    /// An access token for an existing operator, through a fresh session (no password).
    pub async fn session(&self, tenant: &server::domain::ids::TenantId, username: &str) -> String {
        let t = self.app.store.tenant(tenant.clone());
        let op = t.operator_login(username).await.unwrap().expect("the operator exists");
        let (session, _) = t.create_session("operator", &op.id, "test", "test", chrono::Duration::hours(2)).await.unwrap();
        self.app.keys.issue(server::api::auth::Kind::Operator, Some(tenant), &op.id, Some(&session.id), chrono::Duration::hours(2)).unwrap()
    }

    /// Waits until `check` holds or the timeout passes; returns whether it held.
    pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let until = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < until {
            if check().await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// One HTTP/1.1 request over a real socket: (status, body).
pub fn http_request(http: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let (status, _, body) = http_exchange(http, method, path, headers, body);
    (status, body)
}

/// One HTTP/1.1 request over a real socket: (status, response head, body).
pub fn http_exchange(http: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, String) {
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: {http}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    let mut stream = TcpStream::connect(http).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(rest) } else { rest.to_string() };
    (status, head.to_string(), body)
}

/// One HTTP/1.1 request over a real socket: (status, response head, body bytes), for binary
/// answers (spreadsheets).
pub fn http_bytes(http: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, Vec<u8>) {
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: {http}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    let mut stream = TcpStream::connect(http).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let mut body = response[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            rest = &rest[eol + 2 + size + 2..];
        }
        body = out;
    }
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head, body)
}

/// A header's value in a response head (the name in any case).
pub fn header_value(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

/// POSTs JSON (with an optional bearer token): (status, JSON body or null).
pub fn post_json(http: SocketAddr, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a));
    }
    let (status, text) = http_request(http, "POST", path, &headers, &body.to_string());
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// POSTs a GraphQL request over real HTTP and returns the JSON body.
pub fn graphql(http: SocketAddr, token: Option<&str>, query: &str, variables: Value) -> Value {
    let (_, body) = post_json(http, "/graphql", token, &json!({ "query": query, "variables": variables }));
    assert!(!body.is_null(), "the GraphQL answer is not JSON");
    body
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&tail[..n]);
        rest = &tail[n + 2..];
    }
    out
}

impl Admin {
    /// A park-platform client of this tenant for `properties` with `scopes` (GraphQL enum
    /// names), and an access token from `POST /auth/token`: (status, token).
    pub fn park_token(&self, scopes: &str, properties: &[&Value]) -> (u16, String) {
        let client = self.ok(
            &format!("mutation($p: [ID!]!) {{ createParkClient(input: {{name: \"Park platform\", scopes: [{scopes}], propertyIds: $p}}) {{ client {{ clientId }} clientSecret }} }}"),
            json!({"p": properties}),
        )["createParkClient"]
            .clone();
        let form = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            client["client"]["clientId"].as_str().unwrap_or_default(),
            client["clientSecret"].as_str().unwrap_or_default()
        );
        let (status, body) =
            http_request(self.http, "POST", "/auth/token", &[("Content-Type", "application/x-www-form-urlencoded")], &form);
        let token =
            serde_json::from_str::<Value>(&body).ok().and_then(|v| v["access_token"].as_str().map(String::from)).unwrap_or_default();
        (status, token)
    }
}

/// Posts a GraphQL document with several operations, running the one named `operation`.
pub fn graphql_operation(http: SocketAddr, token: &str, query: &str, operation: &str) -> Value {
    let body = json!({"query": query, "operationName": operation}).to_string();
    let (_, text) = http_request(
        http,
        "POST",
        "/graphql",
        &[("Authorization", &format!("Bearer {token}")), ("Content-Type", "application/json")],
        &body,
    );
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

impl Admin {
    pub fn gql(&self, query: &str, variables: Value) -> Value {
        graphql(self.http, Some(&self.token), query, variables)
    }

    /// Runs a query that must succeed and returns its `data`.
    pub fn ok(&self, query: &str, variables: Value) -> Value {
        let v = self.gql(query, variables);
        assert!(v.get("errors").is_none(), "unexpected errors: {v}");
        v["data"].clone()
    }

    /// Runs a query that must fail and returns its first error's `extensions`.
    pub fn fails(&self, query: &str, variables: Value) -> Value {
        let v = self.gql(query, variables);
        v["errors"][0]["extensions"].clone()
    }
}
