//! Failure drills (issue 21): real `voltledger` processes — two API replicas, two bridges and
//! two workers — on PostgreSQL, with a Mosquitto and a Redis of the drill's own (so they can
//! be restarted), under a steady simulated fleet:
//! - an alarm the workers raise reaches a subscription on either API replica, and so does its
//!   clearing after Redis restarted (and logins work again);
//! - each periodic job runs once per period although two workers try;
//! - one bridge holds the uplink (the exclusive mode, `server::uplink`) and the other stands
//!   by; the holder killed with SIGKILL mid-load is replaced when its lease lapses, the next
//!   holder drained by SIGTERM is replaced at once, and Mosquitto restarted (persistence on)
//!   loses nothing: the readings stored are exactly as many as the simulator published
//!   (readings are keyed by meter and instant, so none is stored twice), and every balance
//!   equals its ledger;
//! - the successor of the drained holder gets nothing delivered again (the drained holder
//!   acknowledged all it stored);
//! - every process drains on SIGTERM and exits 0.
//!
//! The drill needs PostgreSQL (`VOLTLEDGER_TEST_DATABASE_URL`, the PostgreSQL pass of CI)
//! and the `mosquitto` and `redis-server` programs; on the SQLite pass it says so and returns.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::{SinkExt as _, StreamExt as _};
use mqtt_bridge::simulator::SimDevice;
use serde_json::{Value, json};
use server::store::Store;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

const JWT: &str = "drill-secret-drill-secret-drill-secret!!";
const TOKEN: &str = "drill-internal-token-0123456789";
const PASSWORD: &str = "Drill-Passw0rd-2026";

/// The drills run one at a time: each starts a dozen processes on two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn program(name: &str) -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':').chain(["/usr/sbin", "/usr/bin", "/sbin"]) {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("the drill needs `{name}` (CI installs it: apt-get install mosquitto redis-server)");
}

fn sigterm(child: &Child) {
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
}

/// Waits for a child to exit; its status, or None after `within`.
fn wait_exit(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

struct Broker {
    child: Child,
    conf: PathBuf,
    port: u16,
}

impl Broker {
    fn start(dir: &Path) -> Broker {
        let port = free_port();
        // Started as root, Mosquitto drops to its own user: its directory must be writable
        // to it, or persistence silently saves nothing.
        let dir = &dir.join("broker");
        std::fs::create_dir_all(dir).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        let conf = dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\n\
                 max_queued_messages 1000000\nmax_inflight_messages 100\nlog_dest file {}/mosquitto.log\n",
                dir.display(),
                dir.display()
            ),
        )
        .unwrap();
        let mut b = Broker { child: Command::new("true").spawn().unwrap(), conf, port };
        b.restart();
        b
    }

    /// Starts (again) on the same port and persistence file.
    fn restart(&mut self) {
        self.child =
            Command::new(program("mosquitto")).arg("-c").arg(&self.conf).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        wait_port(self.port);
    }

    /// A graceful stop: Mosquitto writes its persistence file.
    fn stop(&mut self) {
        sigterm(&self.child);
        assert!(wait_exit(&mut self.child, Duration::from_secs(10)).is_some(), "mosquitto stops");
        let saved = self.conf.with_file_name("mosquitto.db");
        assert!(saved.exists(), "mosquitto saved its persistence file {}", saved.display());
    }
}

fn wait_port(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nothing listens on {port}");
}

// A failing drill leaves no process behind.
impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start() -> Redis {
        let port = free_port();
        let mut r = Redis { child: Command::new("true").spawn().unwrap(), port };
        r.restart();
        r
    }
    fn restart(&mut self) {
        self.child = Command::new(program("redis-server"))
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        wait_port(self.port);
    }
    fn kill(&mut self) {
        let _ = self.child.kill();
        self.child.wait().unwrap();
    }
}

/// One `voltledger serve` process.
struct Replica {
    name: String,
    child: Child,
    http: SocketAddr,
    metrics: SocketAddr,
    log: PathBuf,
    env: Vec<(String, String)>,
    args: Vec<String>,
}

impl Replica {
    fn spawn(name: &str, dir: &Path, env: Vec<(String, String)>, args: Vec<String>) -> Replica {
        let (http, metrics) = (SocketAddr::from(([127, 0, 0, 1], free_port())), SocketAddr::from(([127, 0, 0, 1], free_port())));
        let mut r = Replica {
            name: name.into(),
            child: Command::new("true").spawn().unwrap(),
            http,
            metrics,
            log: dir.join(format!("{name}.log")),
            env,
            args,
        };
        r.start();
        r
    }

    fn start(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        self.child = Command::new(env!("CARGO_BIN_EXE_voltledger"))
            .arg("serve")
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("VOLTLEDGER__HTTP__LISTEN", self.http.to_string())
            .env("VOLTLEDGER__METRICS__LISTEN", self.metrics.to_string())
            .env("VOLTLEDGER__DATA_DIR", self.log.with_extension("data"))
            .env("RUST_LOG", "info,sqlx=warn")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn ready(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = client.get(format!("http://{}/readyz", self.http)).send().await
                && r.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("{} never became ready:\n{}", self.name, self.log_text());
    }

    async fn metric(&self, line_start: &str) -> f64 {
        let text = reqwest::get(format!("http://{}/metrics", self.metrics)).await.unwrap().text().await.unwrap();
        text.lines().filter(|l| l.starts_with(line_start)).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum()
    }

    /// SIGTERM: the process drains and exits 0 within its grace period.
    fn drain(&mut self) {
        sigterm(&self.child);
        let status = wait_exit(&mut self.child, Duration::from_secs(20)).unwrap_or_else(|| panic!("{} did not stop", self.name));
        assert!(status.success(), "{} exited with {status}:\n{}", self.name, self.log_text());
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn alarm_socket(addr: SocketAddr, token: &str) -> Ws {
    let mut request = format!("ws://{addr}/graphql/ws").into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    ws.send(Message::text(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}}).to_string()))
        .await
        .unwrap();
    let ack = next_json(&mut ws, Duration::from_secs(10)).await.unwrap();
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let q = "subscription { alarmChanges { change alarm { kind } } }";
    ws.send(Message::text(json!({"id": "1", "type": "subscribe", "payload": {"query": q}}).to_string())).await.unwrap();
    ws
}

async fn next_json(ws: &mut Ws, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(&t).ok(),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            _ => return None,
        }
    }
}

/// Waits for `change` of a PHASE_LOSS alarm on the socket.
async fn hears(ws: &mut Ws, change: &str, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    while let Some(m) = next_json(ws, deadline.saturating_duration_since(tokio::time::Instant::now())).await {
        let c = &m["payload"]["data"]["alarmChanges"];
        if c["change"] == change && c["alarm"]["kind"] == "PHASE_LOSS" {
            return true;
        }
    }
    false
}

/// Whether the replica holds the uplink session (within `wait`).
async fn holds(r: &Replica, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if r.metric("voltledger_bridge_sessions").await == 1.0 && r.metric("voltledger_bridge_standby").await == 0.0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// Some(true) when `a` holds the uplink and `b` stands by, Some(false) the other way round.
async fn holder_of(a: &Replica, b: &Replica, wait: Duration) -> Option<bool> {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        let (sa, sb) = (a.metric("voltledger_bridge_sessions").await, b.metric("voltledger_bridge_sessions").await);
        let (wa, wb) = (a.metric("voltledger_bridge_standby").await, b.metric("voltledger_bridge_standby").await);
        if (sa, sb, wa, wb) == (1.0, 0.0, 0.0, 1.0) {
            return Some(true);
        }
        if (sa, sb, wa, wb) == (0.0, 1.0, 1.0, 0.0) {
            return Some(false);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

/// The tenant, a funded fleet of `meters` 4G meters and an operator (`drill`), as an
/// operator's tooling would make them.
async fn provision(db: &str, kek: &str, slug: &str, meters: usize) -> (Store, server::store::TenantStore, Vec<SimDevice>) {
    let store = Store::connect(db).await.unwrap();
    store.migrate().await.unwrap();
    store.set_key_encryption_key(server::store::Kek::from_hex(kek).unwrap());
    let tenant_id = store.platform().create_tenant("Drill Co.", slug, "Asia/Shanghai").await.unwrap();
    let t = store.tenant(tenant_id);
    let plan = server::fleet::FleetPlan { meters, gateways: 0, per_gateway: 1, address_prefix: 310, accounts: true, at_once: 1 };
    server::fleet::provision(&t, plan).await.unwrap();
    let role_id = t.ensure_builtin_roles().await.unwrap();
    let hash = server::api::auth::hash_password(PASSWORD).unwrap();
    let operator = server::store::NewOperator {
        username: "drill".into(),
        display_name: "Drill".into(),
        password_hash: hash,
        role_id,
        properties: None,
    };
    t.create_operator(&operator).await.unwrap();
    let devices = server::fleet::sim_devices(&t, "drill-seed", &[]).await.unwrap();
    (store, t, devices)
}

/// The environment of a split role on the drill's database, broker and Redis.
fn role_env(role: &str, db: &str, kek: &str, broker_url: &str, redis_url: &str) -> Vec<(String, String)> {
    [
        ("VOLTLEDGER__ROLE", role),
        ("VOLTLEDGER__NO_DEMO", "true"),
        ("VOLTLEDGER__DATABASE__URL", db),
        ("VOLTLEDGER__AUTH__JWT_SECRET", JWT),
        ("VOLTLEDGER__SECURITY__KEK", kek),
        ("VOLTLEDGER__SECURITY__INTERNAL_TOKEN", TOKEN),
        ("VOLTLEDGER__MQTT__BROKER", broker_url),
        ("VOLTLEDGER__MQTT__BRIDGE_PASSWORD", "drill-bridge"),
        ("VOLTLEDGER__REDIS__URL", redis_url),
        ("VOLTLEDGER__SHUTDOWN__GRACE_SECONDS", "10"),
        ("VOLTLEDGER__SECURITY__LOGIN_ATTEMPTS_PER_ADDRESS", "1000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

type Witnessed = std::sync::Arc<std::sync::Mutex<std::collections::HashSet<(String, Vec<u8>)>>>;

/// A persistent plain subscription of the drill's own, counting what the broker took from
/// the devices.
async fn witness(port: u16, name: &str) -> (Witnessed, tokio::task::JoinHandle<()>) {
    let witnessed = Witnessed::default();
    let mut options = rumqttc::MqttOptions::new(name, "127.0.0.1", port);
    options.set_clean_session(false);
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut events) = rumqttc::AsyncClient::new(options, 1_000);
    client.subscribe("vl/up/+", rumqttc::QoS::AtLeastOnce).await.unwrap();
    let seen = witnessed.clone();
    let task = tokio::spawn(async move {
        let _client = client;
        loop {
            match events.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    seen.lock().unwrap().insert((p.topic.clone(), p.payload.to_vec()));
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    (witnessed, task)
}

/// Every reading the simulator published is stored once (within a minute), and every
/// balance equals its ledger. `witnessed`: how many publishes the drill's own subscription
/// saw the broker take, named in a failure to tell the broker's side from the bridges'.
async fn all_stored(t: &server::store::TenantStore, published: usize, witnessed: usize, accounts: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut stored = 0;
    while Instant::now() < deadline {
        stored = t.reading_count().await.unwrap();
        if stored >= published as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(stored, published as u64, "stored readings vs published (the broker took {witnessed} publishes)");
    let (list, _) = t.accounts(None, 1, 1_000).await.unwrap();
    assert_eq!(list.len(), accounts);
    let mut charged = 0;
    for a in &list {
        assert_eq!(a.balance_x100, t.ledger_sum(&a.id).await.unwrap(), "account {} balance equals its ledger", a.id);
        charged += a.balance_x100;
    }
    assert!(charged > 0);
}

/// The PostgreSQL pass's database URL; None (and why, on stderr) on the SQLite pass.
fn postgres_pass() -> Option<String> {
    let Ok(base) = std::env::var("VOLTLEDGER_TEST_DATABASE_URL").map(|u| u.trim().to_string()) else {
        eprintln!("the drill runs on the PostgreSQL pass (VOLTLEDGER_TEST_DATABASE_URL); nothing to do on SQLite");
        return None;
    };
    if !base.starts_with("postgres") {
        eprintln!("the drill runs on PostgreSQL only");
        return None;
    }
    Some(base)
}

/// A fresh directory for one drill's files (broker, logs, cluster).
fn drill_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vl-drill-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn login(api: &Replica, slug: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("http://{}/auth/login", api.http))
        .json(&json!({"tenant": slug, "username": "drill", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "login through {}: {body}", api.name);
    body["accessToken"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_apis_two_bridges_and_two_workers_survive_kills_drains_and_restarts() {
    let Some(base) = postgres_pass() else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = drill_dir();
    let mut broker = Broker::start(&dir);
    let mut redis = Redis::start();
    let name = format!("vl_test_drill_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    server::store::create_database(&base, &name).await.unwrap();
    let db = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    let kek = hex::encode(rand::random::<[u8; 32]>());

    // The tenant, a funded fleet of 4G meters, and an operator — as an operator's tooling would.
    let slug = "drill";
    let (store, t, devices) = provision(&db, &kek, slug, 40).await;

    // The replicas: API and bridges configured by the environment, workers by a config file
    // with the key-encryption key in a secret file.
    let broker_url = format!("mqtt://127.0.0.1:{}", broker.port);
    let redis_url = format!("redis://127.0.0.1:{}", redis.port);
    let common = |role: &str| role_env(role, &db, &kek, &broker_url, &redis_url);
    let bridge_env = |n: u32| {
        let mut e = common("bridge");
        e.push(("VOLTLEDGER__MQTT__BRIDGE_CLIENT_ID".into(), format!("drill-bridge-{n}")));
        e
    };
    let kek_file = dir.join("kek");
    std::fs::write(&kek_file, format!("{kek}\n")).unwrap();
    let config = dir.join("worker.toml");
    std::fs::write(
        &config,
        format!(
            "role = \"worker\"\nno_demo = true\n[database]\nurl = {db:?}\n[auth]\njwt_secret = {JWT:?}\n[security]\nkek_file = {:?}\ninternal_token = {TOKEN:?}\n\
             [mqtt]\nbroker = {broker_url:?}\nbridge_password = \"drill-bridge\"\n[redis]\nurl = {redis_url:?}\n[shutdown]\ngrace_seconds = 10\n",
            kek_file.display().to_string()
        ),
    )
    .unwrap();
    let worker_args = vec!["--config".to_string(), config.display().to_string()];
    let mut api1 = Replica::spawn("api-1", &dir, common("api"), vec![]);
    let mut api2 = Replica::spawn("api-2", &dir, common("api"), vec![]);
    let mut bridge1 = Replica::spawn("bridge-1", &dir, bridge_env(1), vec![]);
    let mut bridge2 = Replica::spawn("bridge-2", &dir, bridge_env(2), vec![]);
    let mut worker1 = Replica::spawn("worker-1", &dir, vec![], worker_args.clone());
    let mut worker2 = Replica::spawn("worker-2", &dir, vec![], worker_args);
    for r in [&api1, &api2, &bridge1, &bridge2, &worker1, &worker2] {
        r.ready().await;
    }
    let runs_before = store.platform().job_runs().await.unwrap();
    let watch_from = Instant::now();

    // Sockets on both API replicas, with a token from one of them.
    let token = login(&api2, slug).await;
    let mut ws1 = alarm_socket(api1.http, &token).await;
    let mut ws2 = alarm_socket(api2.http, &token).await;

    // The fleet: a reading every 2 s from 40 meters for 70 s; one three-phase meter loses a phase.
    let handle = mqtt_bridge::simulator::SimHandle::recording();
    let faulty = devices.iter().flat_map(|d| &d.meters).find(|m| m.three_phase).expect("a three-phase meter").address;
    handle.set_faults(faulty, mqtt_bridge::simulator::Faults { phase_loss: true, ..Default::default() });
    let cfg = mqtt_bridge::simulator::SimConfig {
        broker: mqtt_bridge::session::BrokerAddr { host: "127.0.0.1".into(), port: broker.port },
        interval: Duration::from_secs(2),
        clock_offset: chrono::FixedOffset::east_opt(8 * 3600).unwrap(),
        rounds: Some(35),
    };
    // A witness: a persistent plain subscription of the drill's own, counting what the broker
    // took from the devices — a shortfall then tells the broker's side from the bridges'.
    let (witnessed, _witness_task) = witness(broker.port, "drill-witness").await;
    let fleet = tokio::spawn(mqtt_bridge::simulator::run(cfg, devices.clone(), handle.clone()));

    // An alarm the workers raise reaches a subscriber on either API replica.
    assert!(hears(&mut ws1, "RAISED", Duration::from_secs(40)).await, "api-1's subscriber heard the alarm");
    assert!(hears(&mut ws2, "RAISED", Duration::from_secs(10)).await, "api-2's subscriber heard the alarm");

    // One bridge holds the uplink, the other stands by.
    let first_is_holder = holder_of(&bridge1, &bridge2, Duration::from_secs(20)).await.expect("one bridge holds the uplink");
    let (holder, standby) = if first_is_holder { (&mut bridge1, &mut bridge2) } else { (&mut bridge2, &mut bridge1) };
    assert_eq!(standby.metric("voltledger_bridge_sessions").await, 0.0, "the standby holds no uplink session");

    // SIGKILL the holder mid-load: the standby takes the session over when the lease lapses
    // (what the holder had not acknowledged is delivered to it again), and the killed one
    // comes back as the standby.
    tokio::time::sleep(Duration::from_secs(3)).await;
    holder.child.kill().unwrap();
    holder.child.wait().unwrap();
    let killed = Instant::now();
    assert!(
        holds(standby, Duration::from_secs(20)).await,
        "the standby took the uplink over after the holder was killed:\n{}",
        standby.log_text()
    );
    eprintln!("drill: the standby took the uplink over {:.1} s after the holder was killed", killed.elapsed().as_secs_f64());
    holder.start();
    holder.ready().await;
    let (holder, standby) = (standby, holder);

    // SIGTERM the holder: it drains (stores and acknowledges what it took), gives the lease
    // back and exits 0; the standby takes over at once.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let drained = Instant::now();
    holder.drain();
    assert!(holder.log_text().contains("bridge drained"), "{}", holder.log_text());
    assert!(holds(standby, Duration::from_secs(5)).await, "the standby took the uplink over after a drain:\n{}", standby.log_text());
    eprintln!("drill: the standby took the uplink over {:.1} s after the holder was told to drain", drained.elapsed().as_secs_f64());
    holder.start();
    holder.ready().await;
    // A clean drain left nothing to deliver again: everything the drained holder took was
    // acknowledged, and what it did not take was never stored, so its successor (a standby
    // until then, its counters at zero) stores no duplicate.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = standby.metric("voltledger_readings_duplicate_total").await;
    assert_eq!(again, 0.0, "the successor of a drained holder was delivered again what had been stored");

    // Mosquitto restarted mid-load, its persistence on.
    tokio::time::sleep(Duration::from_secs(3)).await;
    broker.stop();
    tokio::time::sleep(Duration::from_secs(1)).await;
    broker.restart();
    bridge1.ready().await;
    bridge2.ready().await;

    // Redis restarted: logins work again, and alarm changes reach both replicas again.
    redis.kill();
    tokio::time::sleep(Duration::from_secs(1)).await;
    redis.restart();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = login(&api1, slug).await;
    assert!(!again.is_empty());
    handle.set_faults(faulty, mqtt_bridge::simulator::Faults::default());
    assert!(hears(&mut ws1, "CLEARED", Duration::from_secs(40)).await, "api-1 heard the clearing after Redis restarted");
    assert!(hears(&mut ws2, "CLEARED", Duration::from_secs(10)).await, "api-2 heard the clearing after Redis restarted");

    // Every published reading stored exactly once; every balance equals its ledger.
    tokio::time::timeout(Duration::from_secs(120), fleet).await.expect("the fleet finishes").unwrap();
    let published = handle.published();
    assert_eq!(published.len(), 40 * 35);
    let broker_took = witnessed.lock().unwrap().len();
    all_stored(&t, published.len(), broker_took, 40).await;

    // Each periodic job ran once per period while two workers tried.
    let elapsed = watch_from.elapsed().as_secs_f64();
    let runs_after = store.platform().job_runs().await.unwrap();
    let runs =
        |list: &[(String, i64, chrono::DateTime<chrono::Utc>)], job: &str| list.iter().find(|r| r.0 == job).map(|r| r.1).unwrap_or(0);
    // The uplink changed hands twice (a kill, a drain), each a claim of its lease.
    let takeovers = runs(&runs_after, "bridge uplink") - runs(&runs_before, "bridge uplink");
    assert!(takeovers >= 2, "the uplink lease was claimed {takeovers} times since the start");
    let link = runs(&runs_after, "link state") - runs(&runs_before, "link state");
    let most = (elapsed / 4.5).floor() as i64 + 1;
    assert!(link <= most, "link state ran {link} times in {elapsed:.0} s (at most {most})");
    assert!(link >= (elapsed / 5.0) as i64 - 3, "link state ran {link} times in {elapsed:.0} s");
    let skipped = worker1.metric("voltledger_jobs_runs_total{task=\"link state\",outcome=\"skipped\"}").await
        + worker2.metric("voltledger_jobs_runs_total{task=\"link state\",outcome=\"skipped\"}").await;
    assert!(skipped > 0.0, "the second worker found the period taken");

    // Everything drains on SIGTERM and exits 0. A draining API replica sends its sockets
    // away (1001) instead of waiting the grace period out for them.
    let began = Instant::now();
    api1.drain();
    assert!(began.elapsed() < Duration::from_secs(8), "api-1 drained in {:?} with a socket open", began.elapsed());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut code = None;
    while let Ok(Some(m)) = tokio::time::timeout_at(deadline, ws1.next()).await {
        if let Ok(Message::Close(frame)) = m {
            code = frame.map(|f| u16::from(f.code));
            break;
        }
    }
    assert_eq!(code, Some(1001), "api-1's socket was sent away with 1001");
    drop((ws1, ws2));
    for r in [&mut api2, &mut bridge1, &mut bridge2, &mut worker1, &mut worker2] {
        r.drain();
    }
    broker.stop();
    redis.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A PostgreSQL cluster of the drill's own on a free port (never the machine's shared one),
/// so it can be restarted. As root, its programs run as the `postgres` user.
struct Postgres {
    data: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Postgres {
    /// The newest installed major version's program (Debian: /usr/lib/postgresql/<major>/bin).
    fn bin(name: &str) -> PathBuf {
        let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let major = e.file_name().to_string_lossy().split('.').next()?.parse::<u32>().ok()?;
                        Some((major, e.path().join("bin").join(name)))
                    })
                    .filter(|(_, p)| p.is_file())
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found.pop().map(|(_, p)| p).unwrap_or_else(|| program(name))
    }

    fn command(&self, name: &str) -> Command {
        let program = Self::bin(name);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    fn init(dir: &Path) -> Postgres {
        let data = dir.join("pg");
        std::fs::create_dir_all(&data).unwrap();
        let root = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false);
        if root {
            assert!(Command::new("chown").arg("-R").arg("postgres:postgres").arg(&data).status().unwrap().success());
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
        let pg = Postgres { data, port: free_port(), as_postgres: root };
        let out = pg.command("initdb").arg("-D").arg(&pg.data).args(["-A", "trust", "-U", "postgres", "--no-sync"]).output().unwrap();
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        pg.start();
        pg
    }

    fn start(&self) {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, self.data.display());
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.join("server.log"))
            .args(["-o", &options, "-w", "start"])
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_ctl start: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// `immediate`: the postmaster and every backend are gone at once, as in a crash; the
    /// next start recovers from the WAL.
    fn stop(&self, mode: &str) {
        let out = self.command("pg_ctl").arg("-D").arg(&self.data).args(["-m", mode, "-w", "stop"]).output().unwrap();
        assert!(out.status.success(), "pg_ctl stop: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.command("pg_ctl").arg("-D").arg(&self.data).args(["-m", "immediate", "-w", "stop"]).output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgresql_crash_mid_load_loses_no_reading_and_every_role_recovers() {
    if postgres_pass().is_none() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = drill_dir();
    let pg = Postgres::init(&dir);
    let mut broker = Broker::start(&dir);
    let mut redis = Redis::start();
    server::store::create_database(&pg.url(), "drill").await.unwrap();
    let db = format!("postgres://postgres@127.0.0.1:{}/drill", pg.port);
    let kek = hex::encode(rand::random::<[u8; 32]>());
    let slug = "drill";
    let (_store, t, devices) = provision(&db, &kek, slug, 20).await;

    let (broker_url, redis_url) = (format!("mqtt://127.0.0.1:{}", broker.port), format!("redis://127.0.0.1:{}", redis.port));
    let env = |role: &str| {
        let mut e = role_env(role, &db, &kek, &broker_url, &redis_url);
        e.push(("VOLTLEDGER__MQTT__BRIDGE_CLIENT_ID".into(), format!("drill-{role}")));
        e
    };
    let mut api = Replica::spawn("api", &dir, env("api"), vec![]);
    let mut bridge = Replica::spawn("bridge", &dir, env("bridge"), vec![]);
    let mut worker = Replica::spawn("worker", &dir, env("worker"), vec![]);
    for r in [&api, &bridge, &worker] {
        r.ready().await;
    }
    assert!(!login(&api, slug).await.is_empty());

    // 20 meters, a reading every 2 s for 50 s; PostgreSQL crashes 12 s in and is back 8 s later.
    let handle = mqtt_bridge::simulator::SimHandle::recording();
    let cfg = mqtt_bridge::simulator::SimConfig {
        broker: mqtt_bridge::session::BrokerAddr { host: "127.0.0.1".into(), port: broker.port },
        interval: Duration::from_secs(2),
        clock_offset: chrono::FixedOffset::east_opt(8 * 3600).unwrap(),
        rounds: Some(25),
    };
    let (witnessed, _witness_task) = witness(broker.port, "drill-pg-witness").await;
    let fleet = tokio::spawn(mqtt_bridge::simulator::run(cfg, devices.clone(), handle.clone()));
    tokio::time::sleep(Duration::from_secs(12)).await;
    let stored_before = t.reading_count().await.unwrap();
    assert!(stored_before > 0, "readings were stored before the crash");
    pg.stop("immediate");

    // Down: every role says so on /readyz, and a login fails cleanly (503, not a hang).
    tokio::time::sleep(Duration::from_secs(4)).await;
    for r in [&api, &bridge, &worker] {
        let status = reqwest::get(format!("http://{}/readyz", r.http)).await.unwrap().status();
        assert_eq!(status, 503, "{} is not ready while PostgreSQL is down", r.name);
    }
    let attempt = reqwest::Client::new()
        .post(format!("http://{}/auth/login", api.http))
        .timeout(Duration::from_secs(30))
        .json(&json!({"tenant": slug, "username": "drill", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(attempt.status().is_server_error(), "a login while PostgreSQL is down: {}", attempt.status());
    tokio::time::sleep(Duration::from_secs(4)).await;
    pg.start();
    let back = Instant::now();

    // Back: every role is ready again, logins work, and the bridge stores what waited.
    for r in [&api, &bridge, &worker] {
        r.ready().await;
    }
    eprintln!("drill: every role ready {:.1} s after PostgreSQL came back", back.elapsed().as_secs_f64());
    assert!(!login(&api, slug).await.is_empty());
    tokio::time::timeout(Duration::from_secs(120), fleet).await.expect("the fleet finishes").unwrap();
    let published = handle.published();
    assert_eq!(published.len(), 20 * 25);
    let broker_took = witnessed.lock().unwrap().len();
    all_stored(&t, published.len(), broker_took, 20).await;
    for r in [&mut api, &mut bridge, &mut worker] {
        r.drain();
    }
    broker.stop();
    redis.kill();
    drop(pg);
    let _ = std::fs::remove_dir_all(&dir);
}
