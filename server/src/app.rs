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

/// Everything `serve` needs; see README "Production settings" for the variables.
#[derive(Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; default: SQLite in the data directory.
    pub database_url: Option<String>,
    /// External broker (`mqtt://host:port`); default: the embedded broker.
    pub broker: Option<String>,
    pub mqtt_listen: SocketAddr,
    pub http_listen: SocketAddr,
    pub jwt_secret: Option<String>,
    /// Key-encryption key (64 hex digits) wrapping stored secrets; default: in the data directory.
    pub key_encryption_key: Option<String>,
    /// Password the bridge uses on an external broker.
    pub bridge_password: Option<String>,
    pub bridge_sessions: usize,
    /// MQTT client id prefix of the bridge sessions; unique per replica on a shared broker.
    pub bridge_client_id: String,
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
            .field("http_listen", &self.http_listen)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<redacted>"))
            .field("demo", &self.demo)
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
    pub store: Store,
    pub keys: TokenKeys,
    pub stats: Arc<BridgeStats>,
    pub http_addr: SocketAddr,
    pub broker: BrokerAddr,
    /// The serial-server collector's listen address, when it runs.
    pub serial_addr: Option<SocketAddr>,
    server: actix_web::dev::Server,
    pub bridge: tokio::task::JoinHandle<()>,
    /// Link state, polls, alarms and messages, freezes; and the payment sweep.
    pub sweepers: Vec<tokio::task::JoinHandle<()>>,
    /// The downlink session and the command dispatcher.
    pub control: Vec<tokio::task::JoinHandle<()>>,
}

pub use store::BRIDGE_USER;

impl Application {
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
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
        let broker = match &settings.broker {
            Some(url) => BrokerAddr::parse(url).map_err(anyhow::Error::msg)?,
            None => {
                mqtt_bridge::broker::start_embedded(settings.mqtt_listen, Arc::new(store.clone()))?;
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
            sessions: settings.bridge_sessions.max(1),
            batch_max: 5_000,
            batch_wait: Duration::from_millis(50),
        };
        let (downlink, downlink_session) = mqtt_bridge::downlink::Downlink::connect(&bridge_cfg);
        let dispatch = dispatcher.spawn(store.clone(), downlink, crate::control::DispatchSettings::default());
        let bridge = tokio::spawn(mqtt_bridge::session::run(bridge_cfg, Arc::new(store.clone()), stats.clone()));
        // Serial servers connect here; each bus speaks for itself with its own device login.
        let mut control = vec![downlink_session, dispatch];
        let serial_addr = match settings.serial_listen {
            Some(addr) => {
                let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding the collector on {addr}"))?;
                let local = listener.local_addr()?;
                let config = mqtt_bridge::serial::CollectorConfig::new(broker.clone());
                control.push(tokio::spawn(mqtt_bridge::serial::run(listener, config, stats.clone(), Arc::new(store.clone()))));
                tracing::info!(listen = %local, "serial-server collector ready");
                Some(local)
            }
            None => None,
        };
        // Periodic work: one table of jobs, each lane supervised (crate::jobs).
        let sms_client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .context("building the HTTP client")?;
        let sweepers = crate::jobs::spawn(crate::jobs::table(&store, sms_client, settings.mail.clone()));
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
        });
        let web_dir = settings.web_dir.clone();
        let server = HttpServer::new(move || {
            let web_dir = web_dir.clone();
            App::new().app_data(state.clone()).configure(http::routes).configure(move |cfg| crate::api::portal::routes(cfg, web_dir))
        })
        .listen(listener)?
        .disable_signals()
        .run();
        Ok(Self { store, keys, stats, http_addr, broker, serial_addr, server, bridge, sweepers, control })
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let handle = self.server.handle();
        tokio::select! {
            r = self.server => r?,
            _ = tokio::signal::ctrl_c() => handle.stop(true).await,
        }
        self.bridge.abort();
        for t in self.sweepers.iter().chain(&self.control) {
            t.abort();
        }
        Ok(())
    }

    /// Runs the HTTP server in the background (tests).
    pub fn spawn(self) -> RunningApp {
        let handle = self.server.handle();
        tokio::spawn(self.server);
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
        }
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
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        self.bridge.abort();
        for t in self.sweepers.iter().chain(&self.control) {
            t.abort();
        }
    }
}
