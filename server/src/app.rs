//! Wiring: settings -> store, broker, bridge, simulator, HTTP; `Application::build` then
//! `run_until_stopped`, as in zero2prod. Tests build the same application on port 0.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use mqtt_bridge::session::{BridgeConfig, BridgeStats, BrokerAddr};

use crate::api::auth::TokenKeys;
use crate::api::graphql;
use crate::api::http::{self, HttpState};
use crate::store::Store;

/// What one `serve` process runs (docs/OPERATIONS.md). Any role runs as several replicas
/// against one PostgreSQL, Redis and broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Role {
    /// Everything in one process: the single box.
    #[default]
    All,
    /// HTTP: GraphQL (subscriptions through Redis), webhooks, payment notifications, the
    /// broker's hooks, the portal. Stateless.
    Api,
    /// The device side: uplink sessions (`$share`), the downlink, the command dispatcher,
    /// the serial-server collector.
    Bridge,
    /// Periodic platform work, each job once per period across workers (leases).
    Worker,
}

impl Role {
    pub fn serves_api(self) -> bool {
        matches!(self, Role::All | Role::Api)
    }
    pub fn runs_bridge(self) -> bool {
        matches!(self, Role::All | Role::Bridge)
    }
    pub fn runs_jobs(self) -> bool {
        matches!(self, Role::All | Role::Worker)
    }
    pub fn name(self) -> &'static str {
        match self {
            Role::All => "all",
            Role::Api => "api",
            Role::Bridge => "bridge",
            Role::Worker => "worker",
        }
    }
}

/// How bridge replicas divide the devices' uplink (crate::uplink).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Uplink {
    /// One replica at a time holds a plain persistent subscription under a client id every
    /// replica shares; the others stand by. Nothing is lost when the broker restarts.
    Exclusive,
    /// Every replica's sessions share the uplink through `$share`. Only for brokers that keep
    /// shared subscriptions over a restart (Mosquitto 2.0 does not).
    Shared,
}

/// Everything `serve` needs; see README "Production settings" for the variables.
#[derive(Clone)]
pub struct Settings {
    /// What this process runs.
    pub role: Role,
    /// How long a drain (SIGTERM, SIGINT) may take before what is left is cut off.
    pub grace: Duration,
    /// Where `/metrics` is served without a token (an internal address); `None`: only on the
    /// HTTP listener, behind the internal token.
    pub metrics_listen: Option<SocketAddr>,
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; default: SQLite in the data directory.
    pub database_url: Option<String>,
    /// External broker (`mqtt://host:port`); default: the embedded broker.
    pub broker: Option<String>,
    pub mqtt_listen: SocketAddr,
    /// The embedded broker's TLS listener for devices (MQTT over TLS, usually :8883).
    pub mqtt_tls: Option<mqtt_bridge::broker::TlsListener>,
    pub http_listen: SocketAddr,
    pub jwt_secret: Option<String>,
    /// Key-encryption key (64 hex digits) wrapping stored secrets; default: in the data directory.
    pub key_encryption_key: Option<String>,
    /// Password the bridge uses on an external broker.
    pub bridge_password: Option<String>,
    pub bridge_sessions: usize,
    /// The store time an uplink batch aims at (`BatchBound`); `None`: batches of up to 5,000
    /// publishes. A trip is decided in its reading's batch and sent after that batch commits;
    /// the bound was meant to shorten that wait under load, but measured no gain at 50 and
    /// 80 % load (docs/PERFORMANCE.md §15), so `serve` leaves it off.
    pub batch_time: Option<Duration>,
    /// MQTT client id prefix of the bridge sessions; unique per replica on a shared broker.
    pub bridge_client_id: String,
    /// How bridge replicas divide the uplink; `None`: exclusive on an external broker, shared
    /// on the embedded one (whose sessions do not outlive it anyway).
    pub uplink: Option<Uplink>,
    /// MQTT client id of the exclusive uplink session, the same on every bridge replica.
    pub uplink_client_id: String,
    /// Seed the demo tenant and run the simulator in-process.
    pub demo: bool,
    pub demo_meters: usize,
    pub demo_interval: Duration,
    /// Redis for the login throttle shared by API replicas; default: in-process.
    pub redis_url: Option<String>,
    /// Prefix of this deployment's Redis keys (replicas of one deployment share it).
    pub redis_namespace: String,
    /// Where payment channels reach this server (notification URLs); default: the HTTP
    /// listen address.
    pub public_url: Option<String>,
    /// Where devices reach the broker, shown with their logins (`mqtt://host:port`);
    /// default: `--broker`, else the embedded broker's listen address.
    pub device_broker_url: Option<String>,
    /// Walls that differ between a production box and the single-box demo.
    pub security: SecuritySettings,
    /// The built portal (`web/dist`) served at `/`; `None` or a folder without `index.html`:
    /// `/` says how to build it.
    pub web_dir: Option<PathBuf>,
    /// The mail relay scheduled reports are e-mailed through; `None`: e-mail schedules wait
    /// (their runs say why). The demo uses a local stand-in.
    pub mail: Option<connectors::mail::MailConfig>,
    /// Where serial servers (RS-485 buses, F9) connect to the collector; `None`: no collector.
    pub serial_listen: Option<SocketAddr>,
}

/// Security settings (docs/SECURITY.md).
#[derive(Debug, Clone, Default)]
pub struct SecuritySettings {
    /// Tenant-set outbound URLs may point at loopback or private addresses (local stand-ins;
    /// never in production).
    pub allow_local_outbound: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client (empty: the socket peer is
    /// the client).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Serve GraphiQL and answer introspection (off in production if you wish).
    pub no_graphiql: bool,
    /// Bearer token for `/metrics` and the broker hooks; default: generated in the data
    /// directory (`internal.secret`).
    pub internal_token: Option<String>,
    /// GraphQL requests per minute and principal; 0 = the default (1,200: a portal refreshing
    /// its screens makes a few dozen).
    pub requests_per_minute: u64,
    /// Secret checks per client address in the throttle's window (0: the default, 30).
    pub login_attempts_per_address: u64,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_ref().map(|u| redact(u)))
            .field("broker", &self.broker)
            .field("mqtt_listen", &self.mqtt_listen)
            .field("mqtt_tls", &self.mqtt_tls)
            .field("http_listen", &self.http_listen)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<redacted>"))
            .field("demo", &self.demo)
            .field("role", &self.role)
            .finish()
    }
}

fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((head, tail)) => format!("{}:<redacted>@{tail}", head.rsplit_once(':').map(|(h, _)| h).unwrap_or(head)),
        None => url.to_string(),
    }
}

impl Settings {
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| default_database_url(&self.data_dir))
    }

    /// The uplink mode in force.
    pub fn uplink(&self) -> Uplink {
        self.uplink.unwrap_or(if self.broker.is_some() { Uplink::Exclusive } else { Uplink::Shared })
    }
}

/// The single-box default: a SQLite file in the data directory, created if missing.
pub fn default_database_url(data_dir: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("voltledger.db").display())
}

/// A secret kept in the data directory, created on first use (single-box default only).
pub fn data_secret(dir: &std::path::Path, name: &str) -> anyhow::Result<String> {
    let path = dir.join(name);
    if let Ok(s) = std::fs::read_to_string(&path) {
        return Ok(s.trim().to_string());
    }
    let secret = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    std::fs::write(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(secret)
}

pub struct Application {
    pub role: Role,
    pub grace: Duration,
    /// Set at the start of a drain: `/readyz` answers 503 from then on.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
    /// Turned true to drain the bridge sessions and the job lanes.
    stop: tokio::sync::watch::Sender<bool>,
    pub store: Store,
    pub keys: TokenKeys,
    pub stats: Arc<BridgeStats>,
    pub http_addr: SocketAddr,
    pub broker: BrokerAddr,
    /// The serial-server collector's listen address, when it runs.
    pub serial_addr: Option<SocketAddr>,
    server: actix_web::dev::Server,
    /// The metrics listener, when configured.
    metrics_server: Option<actix_web::dev::Server>,
    pub metrics_addr: Option<SocketAddr>,
    /// The uplink sessions (a finished task where this role runs none).
    pub bridge: tokio::task::JoinHandle<()>,
    /// Link state, polls, alarms and messages, freezes; and the payment sweep.
    pub sweepers: Vec<tokio::task::JoinHandle<()>>,
    /// The downlink session and the command dispatcher.
    pub control: Vec<tokio::task::JoinHandle<()>>,
}

pub use store::BRIDGE_USER;

/// The process's metrics recorder: installed once (tests build many applications).
pub fn metrics_handle() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
            let seconds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];
            let sizes = [1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_500.0, 5_000.0];
            let built = PrometheusBuilder::new()
                .set_buckets(&seconds)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full("voltledger_ingest_batch_size".into()), &sizes))
                .map_err(|e| e.to_string())
                .and_then(|b| b.install_recorder().map_err(|e| e.to_string()));
            match built {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
            }
        })
        .clone()
}

/// What makes `settings` unsafe for production, one line each (empty: none). Checked at
/// start-up with `VOLTLEDGER__ENVIRONMENT=production`.
pub fn production_problems(settings: &Settings) -> Vec<String> {
    let mut problems = Vec::new();
    let generated =
        |what: &str, var: &str| format!("{what} is not given ({var} or {var}_FILE): one generated into the data directory would be used");
    if settings.jwt_secret.is_none() {
        problems.push(generated("the token signing secret", "VOLTLEDGER__AUTH__JWT_SECRET"));
    }
    if settings.key_encryption_key.is_none() {
        problems.push(generated("the key-encryption key", "VOLTLEDGER__SECURITY__KEK"));
    }
    if settings.security.internal_token.is_none() {
        problems.push(generated("the internal token", "VOLTLEDGER__SECURITY__INTERNAL_TOKEN"));
    }
    if (settings.broker.is_some() || settings.role != Role::All) && settings.bridge_password.is_none() {
        problems.push(generated("the bridge's broker password", "VOLTLEDGER__MQTT__BRIDGE_PASSWORD"));
    }
    match &settings.public_url {
        Some(u) if u.starts_with("https://") => {}
        Some(u) => {
            problems.push(format!("VOLTLEDGER__HTTP__PUBLIC_URL {u:?} is not https://: payment channels post notifications only to HTTPS"))
        }
        None => problems
            .push("VOLTLEDGER__HTTP__PUBLIC_URL is not set: payment channels need the HTTPS address that reaches this server".into()),
    }
    if settings.demo {
        problems.push("the demo is on: pass --no-demo (VOLTLEDGER__NO_DEMO=true)".into());
    }
    if settings.security.allow_local_outbound {
        problems.push("VOLTLEDGER__SECURITY__ALLOW_LOCAL_OUTBOUND lets tenant-set URLs reach loopback and private addresses".into());
    }
    if settings.broker.is_none() && settings.role.runs_bridge() && !settings.mqtt_listen.ip().is_loopback() {
        problems.push(format!(
            "the embedded broker listens on {} without TLS: devices' passwords would cross the network in clear — keep it on loopback and give devices its TLS listener (VOLTLEDGER__MQTT__TLS_LISTEN), or use Mosquitto or EMQX with TLS (infra/README.md)",
            settings.mqtt_listen
        ));
    }
    if settings.database_url().starts_with("sqlite") && settings.role != Role::All {
        problems.push("a split role on SQLite: replicas share one PostgreSQL".into());
    }
    problems
}

/// Refuses a split role without the shared parts it needs.
fn check_role(settings: &Settings) -> anyhow::Result<()> {
    if settings.role == Role::All {
        return Ok(());
    }
    let role = settings.role.name();
    let mut missing = Vec::new();
    if !settings.database_url().starts_with("postgres") {
        missing.push("a shared PostgreSQL (VOLTLEDGER__DATABASE__URL=postgres://…)");
    }
    if settings.redis_url.is_none() {
        missing.push("Redis (VOLTLEDGER__REDIS__URL), through which replicas share live events and throttles");
    }
    if settings.broker.is_none() && settings.role == Role::Bridge {
        missing.push("an external broker (VOLTLEDGER__MQTT__BROKER): the embedded one is for the single box");
    }
    if settings.demo {
        missing.push("--no-demo: the demo seeds and simulates in the single box only");
    }
    if settings.role == Role::Bridge && settings.bridge_client_id == "voltledger-bridge" {
        missing.push("a client id of its own (VOLTLEDGER__MQTT__BRIDGE_CLIENT_ID, stable per replica): replicas sharing one take each other's sessions over");
    }
    if !missing.is_empty() {
        anyhow::bail!("--role {role} runs beside other replicas and needs: {}", missing.join("; "));
    }
    Ok(())
}

impl Application {
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        check_role(settings)?;
        let metrics = metrics_handle();
        metrics::gauge!("voltledger_draining").set(0.0);
        std::fs::create_dir_all(&settings.data_dir).with_context(|| format!("creating {}", settings.data_dir.display()))?;
        let mut store = Store::connect(&settings.database_url()).await.context("connecting to the database")?;
        // Decisions go to the dispatcher (set before the store is shared with anyone).
        let dispatcher = crate::control::Dispatcher::default();
        store.set_command_port(Arc::new(dispatcher.clone()));
        store.migrate().await.context("migrating the database")?;
        let walled = store.behind_the_wall(&settings.database_url()).await.context("connecting as the application role")?;
        tracing::info!(row_level_security = walled, "database ready");
        let jwt = match &settings.jwt_secret {
            Some(s) if s.len() >= 32 => s.clone(),
            Some(_) => anyhow::bail!("VOLTLEDGER__AUTH__JWT_SECRET must be at least 32 characters"),
            None => data_secret(&settings.data_dir, "jwt.secret")?,
        };
        let keys = TokenKeys::new(jwt.as_bytes());
        let kek = match &settings.key_encryption_key {
            Some(k) => k.clone(),
            None => data_secret(&settings.data_dir, "kek.secret")?,
        };
        store.set_key_encryption_key(crate::store::Kek::from_hex(&kek).map_err(|e| anyhow::anyhow!("VOLTLEDGER__SECURITY__KEK: {e}"))?);
        let bridge_password = match &settings.bridge_password {
            Some(p) => p.clone(),
            None => data_secret(&settings.data_dir, "bridge.secret")?,
        };
        store.set_bridge_login(BRIDGE_USER, &bridge_password);
        if let Some(url) = &settings.redis_url {
            store.share_events(url, &settings.redis_namespace).await.map_err(|e| anyhow::anyhow!("sharing events through Redis: {e}"))?;
        }
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let draining = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let broker = match &settings.broker {
            Some(url) => BrokerAddr::parse(url).map_err(anyhow::Error::msg)?,
            None if !settings.role.runs_bridge() => BrokerAddr { host: "127.0.0.1".into(), port: settings.mqtt_listen.port() },
            None => {
                mqtt_bridge::broker::start_embedded(settings.mqtt_listen, settings.mqtt_tls.clone(), Arc::new(store.clone()))?;
                if let Some(t) = &settings.mqtt_tls {
                    tracing::info!(listen = %t.listen, cert = %t.cert_file.display(), "embedded broker: MQTT over TLS for devices");
                }
                BrokerAddr {
                    host: settings.mqtt_listen.ip().to_string().replace("0.0.0.0", "127.0.0.1"),
                    port: settings.mqtt_listen.port(),
                }
            }
        };
        let stats = Arc::new(BridgeStats::default());
        let bridge_cfg = BridgeConfig {
            broker: broker.clone(),
            client_id: settings.bridge_client_id.clone(),
            username: BRIDGE_USER.into(),
            password: bridge_password,
            // A bridge replica always shares the uplink (`$share`, which needs two sessions or
            // more): with a plain subscription every replica would take every publish.
            sessions: if settings.role == Role::Bridge { settings.bridge_sessions.max(2) } else { settings.bridge_sessions.max(1) },
            batch_max: 5_000,
            batch_wait: Duration::from_millis(50),
            batch_time: settings.batch_time,
            queue: BridgeConfig::QUEUE,
        };
        // The device side: uplink, downlink, dispatcher, collector.
        let mut control = Vec::new();
        let mut serial_addr = None;
        let bridge = if settings.role.runs_bridge() {
            let (downlink, downlink_session) = mqtt_bridge::downlink::Downlink::connect(&bridge_cfg);
            control.push(downlink_session);
            control.push(dispatcher.spawn(store.clone(), downlink, crate::control::DispatchSettings::default()));
            // Serial servers connect here; each bus speaks for itself with its own device login.
            if let Some(addr) = settings.serial_listen {
                let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding the collector on {addr}"))?;
                let local = listener.local_addr()?;
                let config = mqtt_bridge::serial::CollectorConfig::new(broker.clone());
                control.push(tokio::spawn(mqtt_bridge::serial::run(listener, config, stats.clone(), Arc::new(store.clone()))));
                tracing::info!(listen = %local, "serial-server collector ready");
                serial_addr = Some(local);
            }
            match settings.uplink() {
                Uplink::Shared => {
                    tokio::spawn(mqtt_bridge::session::run_until(bridge_cfg, Arc::new(store.clone()), stats.clone(), stopped.clone()))
                }
                Uplink::Exclusive => {
                    let config = BridgeConfig { client_id: settings.uplink_client_id.clone(), ..bridge_cfg };
                    let holder = format!("{}/{}", settings.bridge_client_id, uuid::Uuid::new_v4().simple());
                    tokio::spawn(crate::uplink::exclusive(config, store.clone(), stats.clone(), stopped.clone(), holder))
                }
            }
        } else {
            tokio::spawn(async {})
        };
        // Periodic work: one table of jobs, each lane supervised (crate::jobs).
        let sms_client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .context("building the HTTP client")?;
        let mut jobs = crate::jobs::local(&store);
        if settings.role.runs_jobs() {
            jobs.extend(crate::jobs::table(&store, sms_client, settings.mail.clone()));
        }
        let sweepers = crate::jobs::spawn(jobs, Some(crate::jobs::Leases::new(&store)), stopped);
        let health = crate::api::http::Health {
            store: store.clone(),
            stats: stats.clone(),
            needs_broker: settings.role.runs_bridge(),
            draining: draining.clone(),
        };
        let mut policy = crate::domain::access::ThrottlePolicy::default();
        if settings.security.login_attempts_per_address > 0 {
            policy.address_attempts = settings.security.login_attempts_per_address;
        }
        let throttle = match &settings.redis_url {
            Some(url) => crate::api::auth::Throttle::redis(url, &settings.redis_namespace, policy)
                .await
                .map_err(|e| anyhow::anyhow!("connecting to Redis: {e}"))?,
            None => crate::api::auth::Throttle::memory(policy),
        };
        let listener = std::net::TcpListener::bind(settings.http_listen).with_context(|| format!("binding {}", settings.http_listen))?;
        let http_addr = listener.local_addr()?;
        let public_url = settings.public_url.clone().unwrap_or_else(|| format!("http://{http_addr}")).trim_end_matches('/').to_string();
        let state = web::Data::new(HttpState {
            schema: graphql::schema_for(!settings.security.no_graphiql),
            store: store.clone(),
            keys: keys.clone(),
            throttle,
            stats: stats.clone(),
            public_url: crate::api::PublicUrl(public_url),
            device_broker: crate::api::DeviceBroker(
                settings.device_broker_url.clone().unwrap_or_else(|| format!("mqtt://{}:{}", broker.host, broker.port)),
            ),
            outbound: crate::api::OutboundPolicy { allow_local: settings.security.allow_local_outbound },
            proxies: crate::api::TrustedProxies(settings.security.trusted_proxies.clone()),
            graphiql: !settings.security.no_graphiql,
            internal_token: match &settings.security.internal_token {
                Some(t) if t.len() >= 16 => t.clone(),
                Some(_) => anyhow::bail!("VOLTLEDGER__SECURITY__INTERNAL_TOKEN must be at least 16 characters"),
                None => data_secret(&settings.data_dir, "internal.secret")?,
            },
            requests_per_minute: if settings.security.requests_per_minute == 0 { 1_200 } else { settings.security.requests_per_minute },
            jobs: crate::api::export_jobs::ExportJobs::new(settings.data_dir.join("exports")),
            health: health.clone(),
            metrics: metrics.clone(),
        });
        let web_dir = settings.web_dir.clone();
        let grace = settings.grace.as_secs().max(1);
        let server = if settings.role.serves_api() {
            HttpServer::new(move || {
                let web_dir = web_dir.clone();
                App::new()
                    .wrap_fn(crate::observe::request)
                    .app_data(state.clone())
                    .configure(http::routes)
                    .configure(move |cfg| crate::api::portal::routes(cfg, web_dir))
            })
            .listen(listener)?
            .disable_signals()
            .shutdown_timeout(grace)
            .run()
        } else {
            // Bridges and workers answer only their probes (and metrics behind the token).
            let probes = web::Data::new((health.clone(), state.internal_token.clone(), stats.clone(), metrics.clone()));
            HttpServer::new(move || App::new().app_data(probes.clone()).configure(crate::observe::probe_routes))
                .listen(listener)?
                .disable_signals()
                .shutdown_timeout(grace)
                .workers(1)
                .run()
        };
        let (metrics_server, metrics_addr) = match settings.metrics_listen {
            Some(addr) => {
                let listener = std::net::TcpListener::bind(addr).with_context(|| format!("binding the metrics listener on {addr}"))?;
                let local = listener.local_addr()?;
                let open = web::Data::new((stats.clone(), metrics.clone()));
                let server = HttpServer::new(move || App::new().app_data(open.clone()).configure(crate::observe::metrics_routes))
                    .listen(listener)?
                    .disable_signals()
                    .workers(1)
                    .run();
                (Some(server), Some(local))
            }
            None => (None, None),
        };
        tracing::info!(role = settings.role.name(), http = %http_addr, "serving");
        Ok(Self {
            role: settings.role,
            grace: settings.grace,
            draining,
            stop,
            store,
            keys,
            stats,
            http_addr,
            broker,
            serial_addr,
            server,
            metrics_server,
            metrics_addr,
            bridge,
            sweepers,
            control,
        })
    }

    /// Serves until SIGTERM or SIGINT, then drains within the grace period: `/readyz` turns
    /// 503, the HTTP listener stops accepting and finishes the requests in hand, the bridge
    /// stores and acknowledges what it took and closes its sessions, the job lanes finish
    /// the job they run; what is left when the grace period ends is cut off.
    pub async fn run_until_stopped(mut self) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let metrics_handle = self.metrics_server.as_ref().map(|s| s.handle());
        if let Some(m) = self.metrics_server.take() {
            tokio::spawn(m);
        }
        let mut server = tokio::spawn(self.server);
        let signal = tokio::select! {
            r = &mut server => {
                r??;
                return Ok(());
            }
            s = shutdown_signal() => s,
        };
        let begun = std::time::Instant::now();
        tracing::info!(signal, grace_s = self.grace.as_secs(), role = self.role.name(), "draining");
        self.draining.store(true, std::sync::atomic::Ordering::Relaxed);
        metrics::gauge!("voltledger_draining").set(1.0);
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + self.grace;
        // HTTP: stop accepting, finish in-flight requests (actix's own shutdown timeout).
        let http = async {
            handle.stop(true).await;
            let _ = server.await;
        };
        let bridge = async {
            let _ = (&mut self.bridge).await;
        };
        let lanes = futures::future::join_all(self.sweepers.iter_mut());
        let drained = tokio::time::timeout_at(deadline, async { tokio::join!(http, bridge, lanes) }).await;
        if drained.is_err() {
            tracing::warn!(grace_s = self.grace.as_secs(), "the grace period ended before the drain did; the rest is cut off");
        }
        if let Some(m) = metrics_handle {
            m.stop(false).await;
        }
        self.bridge.abort();
        for t in self.sweepers.iter().chain(&self.control) {
            t.abort();
        }
        tracing::info!(took_ms = begun.elapsed().as_millis() as u64, drained = drained.is_ok(), "stopped");
        Ok(())
    }

    /// Runs the HTTP server in the background (tests).
    pub fn spawn(self) -> RunningApp {
        let handle = self.server.handle();
        tokio::spawn(self.server);
        if let Some(m) = self.metrics_server {
            tokio::spawn(m);
        }
        RunningApp {
            store: self.store,
            keys: self.keys,
            stats: self.stats,
            http_addr: self.http_addr,
            broker: self.broker,
            serial_addr: self.serial_addr,
            handle,
            bridge: self.bridge,
            sweepers: self.sweepers,
            control: self.control,
            _stop: self.stop,
        }
    }
}

/// SIGTERM (a container's stop) or SIGINT (Ctrl-C); its name.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

pub struct RunningApp {
    pub store: Store,
    pub keys: TokenKeys,
    pub stats: Arc<BridgeStats>,
    pub http_addr: SocketAddr,
    pub broker: BrokerAddr,
    pub serial_addr: Option<SocketAddr>,
    pub handle: actix_web::dev::ServerHandle,
    pub bridge: tokio::task::JoinHandle<()>,
    /// Link state, polls, alarms and messages, freezes; and the payment sweep.
    pub sweepers: Vec<tokio::task::JoinHandle<()>>,
    /// The downlink session and the command dispatcher.
    pub control: Vec<tokio::task::JoinHandle<()>>,
    /// Held so the bridge and lanes keep running.
    _stop: tokio::sync::watch::Sender<bool>,
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        self.bridge.abort();
        for t in self.sweepers.iter().chain(&self.control) {
            t.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    fn settings() -> Settings {
        Settings {
            role: Role::All,
            grace: Duration::from_secs(20),
            metrics_listen: None,
            data_dir: PathBuf::from("data"),
            database_url: None,
            broker: None,
            mqtt_listen: "127.0.0.1:1884".parse().unwrap(),
            mqtt_tls: None,
            http_listen: "127.0.0.1:8080".parse().unwrap(),
            jwt_secret: None,
            key_encryption_key: None,
            bridge_password: None,
            bridge_sessions: 8,
            batch_time: None,
            bridge_client_id: "voltledger-bridge".into(),
            uplink: None,
            uplink_client_id: "voltledger-bridge-uplink".into(),
            demo: true,
            demo_meters: 300,
            demo_interval: Duration::from_secs(30),
            redis_url: None,
            redis_namespace: "voltledger".into(),
            public_url: None,
            device_broker_url: None,
            security: SecuritySettings { allow_local_outbound: true, ..Default::default() },
            web_dir: None,
            mail: None,
            serial_listen: None,
        }
    }

    #[test]
    fn production_names_every_unsafe_setting_and_passes_a_safe_one() {
        let mut s = settings();
        s.mqtt_listen = "0.0.0.0:1884".parse().unwrap();
        let problems = production_problems(&s).join("\n");
        for needle in [
            "AUTH__JWT_SECRET",
            "SECURITY__KEK",
            "INTERNAL_TOKEN",
            "PUBLIC_URL is not set",
            "--no-demo",
            "ALLOW_LOCAL_OUTBOUND",
            "without TLS",
        ] {
            assert!(problems.contains(needle), "{needle} missing from:\n{problems}");
        }
        s.public_url = Some("http://pay.example.com".into());
        assert!(production_problems(&s).join("\n").contains("is not https://"));
        // A safe box: secrets given, HTTPS, no demo, an external broker with its password.
        s.jwt_secret = Some("x".repeat(32));
        s.key_encryption_key = Some("0".repeat(64));
        s.security.internal_token = Some("t".repeat(16));
        s.security.allow_local_outbound = false;
        s.public_url = Some("https://pay.example.com".into());
        s.demo = false;
        s.broker = Some("mqtt://mosquitto:1883".into());
        assert_eq!(production_problems(&s).len(), 1, "{:?}", production_problems(&s));
        s.bridge_password = Some("b".repeat(20));
        assert!(production_problems(&s).is_empty(), "{:?}", production_problems(&s));
    }

    #[test]
    fn a_split_role_needs_postgres_redis_and_an_external_broker() {
        let mut s = settings();
        assert!(check_role(&s).is_ok(), "the single box needs nothing shared");
        s.role = Role::Bridge;
        let e = check_role(&s).unwrap_err().to_string();
        for needle in ["PostgreSQL", "Redis", "external broker", "--no-demo"] {
            assert!(e.contains(needle), "{needle} missing from {e}");
        }
        s.database_url = Some("postgres://db/voltledger".into());
        s.redis_url = Some("redis://redis:6379".into());
        s.broker = Some("mqtt://mosquitto:1883".into());
        s.demo = false;
        assert!(check_role(&s).unwrap_err().to_string().contains("client id of its own"));
        s.bridge_client_id = "bridge-1".into();
        assert!(check_role(&s).is_ok());
        // An API replica needs no broker of its own.
        s.role = Role::Api;
        s.broker = None;
        assert!(check_role(&s).is_ok());
    }
}
