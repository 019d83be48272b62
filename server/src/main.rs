//! `voltledger`: one binary for every role (serve, migrate, simulate, tenant, frame, bench).
use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use mqtt_bridge::dlt645::{self, Address, Di, RelayAction, RemoteControl};
use server::app::{Application, Settings, data_secret};
use server::store::Store;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
mod admin;
use admin::*;

#[derive(Parser)]
#[command(name = "voltledger", version, about = "Remote prepaid electricity management platform")]
pub(crate) struct Cli {
    /// A TOML file of settings under the environment: `[database] url = "…"` is
    /// VOLTLEDGER__DATABASE__URL; a variable set in the environment wins over the file.
    #[arg(long, global = true, env = "VOLTLEDGER_CONFIG")]
    config: Option<PathBuf>,
    /// Log lines as text or as JSON (one object per line, with the request's span fields).
    #[arg(long, global = true, env = "VOLTLEDGER__LOG__FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

/// Where the process runs: production refuses unsafe settings at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Environment {
    Development,
    Production,
}

#[derive(clap::Args, Clone)]
pub(crate) struct Common {
    /// Data directory for the single-box default (SQLite file, generated secrets).
    #[arg(long, env = "VOLTLEDGER__DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Database URL (sqlite://… or postgres://…); default: SQLite in the data directory.
    #[arg(long, env = "VOLTLEDGER__DATABASE__URL")]
    database_url: Option<String>,
    /// JWT signing secret (at least 32 characters); default: generated in the data directory.
    #[arg(long, env = "VOLTLEDGER__AUTH__JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// Key-encryption key for secrets at rest (64 hex digits); default: generated in the data
    /// directory. Losing it loses every stored meter key.
    #[arg(long, env = "VOLTLEDGER__SECURITY__KEK", hide_env_values = true)]
    key_encryption_key: Option<String>,
}

impl Common {
    fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| server::app::default_database_url(&self.data_dir))
    }

    /// The store as every command needs it: connected, with the key-encryption key set (the
    /// one `serve` uses — given, or kept in the data directory), so commands that touch
    /// wrapped secrets (meter keys, payee keys) work as they do in the server.
    async fn store(&self) -> anyhow::Result<Store> {
        std::fs::create_dir_all(&self.data_dir)?;
        let store = Store::connect(&self.database_url()).await?;
        let kek = match &self.key_encryption_key {
            Some(k) => k.clone(),
            None => data_secret(&self.data_dir, "kek.secret")?,
        };
        store.set_key_encryption_key(server::store::Kek::from_hex(&kek).map_err(|e| anyhow::anyhow!("VOLTLEDGER__SECURITY__KEK: {e}"))?);
        Ok(store)
    }

    fn jwt_secret(&self) -> anyhow::Result<String> {
        match &self.jwt_secret {
            Some(s) => Ok(s.clone()),
            None => {
                std::fs::create_dir_all(&self.data_dir)?;
                data_secret(&self.data_dir, "jwt.secret")
            }
        }
    }
}

/// Security settings of `serve` (docs/SECURITY.md).
#[derive(clap::Args, Clone)]
pub(crate) struct SecurityArgs {
    /// Let tenant-set outbound URLs (payment gateways, SMS endpoints, the mini-program API)
    /// point at loopback or private addresses — local stand-ins only, never in production.
    /// Default: on with the demo, off with --no-demo.
    #[arg(long, env = "VOLTLEDGER__SECURITY__ALLOW_LOCAL_OUTBOUND")]
    allow_local_outbound: Option<bool>,
    /// A reverse proxy trusted to name the client in X-Forwarded-For (repeat, or a comma list).
    #[arg(long = "trusted-proxy", env = "VOLTLEDGER__SECURITY__TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Neither serve GraphiQL nor answer introspection.
    #[arg(long, env = "VOLTLEDGER__SECURITY__NO_GRAPHIQL")]
    no_graphiql: bool,
    /// Bearer token of the internal endpoints (/metrics, broker hooks), ≥ 16 characters;
    /// default: generated in the data directory (internal.secret).
    #[arg(long, env = "VOLTLEDGER__SECURITY__INTERNAL_TOKEN", hide_env_values = true)]
    internal_token: Option<String>,
    /// GraphQL requests per minute and principal (per address when anonymous).
    #[arg(long, env = "VOLTLEDGER__SECURITY__REQUESTS_PER_MINUTE", default_value_t = 1_200)]
    requests_per_minute: u64,
    /// Logins (and other secret checks) per client address in 15 minutes, successful ones
    /// included; raise it when many operators share one address (an office behind NAT).
    #[arg(long, env = "VOLTLEDGER__SECURITY__LOGIN_ATTEMPTS_PER_ADDRESS", default_value_t = 30)]
    login_attempts_per_address: u64,
}

// Parsed once at start-up: the size of `Serve` costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run the platform: API, bridge, broker (embedded unless --broker), jobs, demo data.
    Serve {
        #[command(flatten)]
        common: Common,
        /// External MQTT broker, mqtt://host:port (default: embedded rumqttd).
        #[arg(long, env = "VOLTLEDGER__MQTT__BROKER")]
        broker: Option<String>,
        /// Where the embedded broker listens (loopback unless configured: devices in the field
        /// need `0.0.0.0:1884` or a public address, set on purpose).
        #[arg(long, env = "VOLTLEDGER__MQTT__LISTEN", default_value = "127.0.0.1:1884")]
        mqtt_listen: SocketAddr,
        /// A TLS listener of the embedded broker for devices beyond loopback, e.g.
        /// `0.0.0.0:8883` (needs the certificate and key files below).
        #[arg(long, env = "VOLTLEDGER__MQTT__TLS_LISTEN", requires_all = ["mqtt_tls_cert_file", "mqtt_tls_key_file"])]
        mqtt_tls_listen: Option<SocketAddr>,
        /// PEM certificate chain of the TLS listener (read again for every connection, so a
        /// renewed certificate needs no restart).
        #[arg(long, env = "VOLTLEDGER__MQTT__TLS_CERT_FILE")]
        mqtt_tls_cert_file: Option<PathBuf>,
        /// PEM private key of the TLS listener.
        #[arg(long, env = "VOLTLEDGER__MQTT__TLS_KEY_FILE")]
        mqtt_tls_key_file: Option<PathBuf>,
        /// Where RS-485 serial servers connect to the collector (registration packet
        /// `username:password`, docs/DEVICES.md); none: no collector.
        #[arg(long, env = "VOLTLEDGER__SERIAL__LISTEN")]
        serial_listen: Option<SocketAddr>,
        /// Where the HTTP API listens.
        #[arg(long, env = "VOLTLEDGER__HTTP__LISTEN", default_value = "127.0.0.1:8080")]
        http: SocketAddr,
        /// Password of the bridge's own broker login (external broker).
        #[arg(long, env = "VOLTLEDGER__MQTT__BRIDGE_PASSWORD", hide_env_values = true)]
        bridge_password: Option<String>,
        /// Parallel bridge sessions sharing the uplink ($share).
        #[arg(long, env = "VOLTLEDGER__MQTT__BRIDGE_SESSIONS", default_value_t = 8)]
        bridge_sessions: usize,
        /// The store time an uplink batch aims at, in milliseconds: a batch takes as many
        /// publishes as the last stores needed this long for; 0 (the default): batches of up to
        /// 5,000 publishes. An experiment: at 50 and 80 % load it did not shorten the trip
        /// latency (docs/PERFORMANCE.md §15).
        #[arg(long, env = "VOLTLEDGER__MQTT__BATCH_TIME_MS", default_value_t = 0)]
        batch_time_ms: u64,
        /// MQTT client id prefix of this replica's bridge sessions (keep it stable per replica).
        #[arg(long, env = "VOLTLEDGER__MQTT__BRIDGE_CLIENT_ID", default_value = "voltledger-bridge")]
        bridge_client_id: String,
        /// How bridge replicas divide the uplink: `exclusive` (one replica at a time holds a
        /// plain persistent subscription, the others stand by; survives broker restarts) or
        /// `shared` (`$share` across every replica; only for brokers that keep shared
        /// subscriptions over a restart). Default: exclusive on an external broker.
        #[arg(long, env = "VOLTLEDGER__MQTT__UPLINK", value_enum)]
        uplink: Option<server::app::Uplink>,
        /// MQTT client id of the exclusive uplink session, the same on every bridge replica.
        #[arg(long, env = "VOLTLEDGER__MQTT__UPLINK_CLIENT_ID", default_value = "voltledger-bridge-uplink")]
        uplink_client_id: String,
        /// What this process runs: api, bridge, worker, or all of them (the single box).
        #[arg(long, env = "VOLTLEDGER__ROLE", value_enum, default_value = "all")]
        role: server::app::Role,
        /// Seconds a drain (SIGTERM, SIGINT) may take: in-flight requests, the bridge's batch
        /// and running jobs finish; what is left after is cut off.
        #[arg(long, env = "VOLTLEDGER__SHUTDOWN__GRACE_SECONDS", default_value_t = 20)]
        grace_seconds: u64,
        /// An internal address serving `/metrics` without the token (e.g. 0.0.0.0:9100 inside
        /// a cluster network); default: only `/metrics` on --http, behind the internal token.
        #[arg(long, env = "VOLTLEDGER__METRICS__LISTEN")]
        metrics_listen: Option<SocketAddr>,
        /// `production` refuses unsafe settings at start-up (generated secrets, no HTTPS public
        /// URL, the demo, local outbound addresses, a plain-text broker beyond loopback).
        #[arg(long, env = "VOLTLEDGER__ENVIRONMENT", value_enum, default_value = "development")]
        environment: Environment,
        /// Do not seed the demo tenant nor run the in-process simulator.
        #[arg(long, env = "VOLTLEDGER__NO_DEMO")]
        no_demo: bool,
        #[arg(long, default_value_t = 300)]
        demo_meters: usize,
        /// Seconds between simulated meter pushes.
        #[arg(long, default_value_t = 30)]
        demo_interval: u64,
        /// Redis for the login throttle shared by API replicas (default: in-process).
        #[arg(long = "redis", env = "VOLTLEDGER__REDIS__URL")]
        redis_url: Option<String>,
        /// The HTTPS address the outside world reaches this server at (payment channels post
        /// their notifications there). Default: the HTTP listen address.
        #[arg(long, env = "VOLTLEDGER__HTTP__PUBLIC_URL")]
        public_url: Option<String>,
        /// Where devices reach the broker (`mqtt://host:port`), shown with every device login.
        /// Default: --broker, else the embedded broker's listen address.
        #[arg(long, env = "VOLTLEDGER__MQTT__DEVICE_URL")]
        device_broker_url: Option<String>,
        /// The built portal served at `/` (default: `web/dist` when it holds a build).
        #[arg(long, env = "VOLTLEDGER__HTTP__WEB_DIR")]
        web_dir: Option<PathBuf>,
        /// The mail relay scheduled reports are e-mailed through:
        /// `smtp://user:password@host:587` (STARTTLS) or `smtps://…:465`. Default with the
        /// demo: a local stand-in (messages kept in <data-dir>/mail).
        #[arg(long, env = "VOLTLEDGER__MAIL__URL", hide_env_values = true)]
        mail_url: Option<String>,
        /// The sender of those e-mails.
        #[arg(long, env = "VOLTLEDGER__MAIL__FROM", default_value = "VoltLedger <reports@localhost>")]
        mail_from: String,
        /// A PEM certificate to trust for the relay besides the public roots (a private CA).
        #[arg(long, env = "VOLTLEDGER__MAIL__CA_FILE")]
        mail_ca_file: Option<PathBuf>,
        #[command(flatten)]
        security: SecurityArgs,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        common: Common,
    },
    /// Tenant administration (SaaS operator).
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Operators of a tenant (when nobody can log in any more).
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// The SaaS operators who sign in to the platform console (`/console`).
    PlatformOperator {
        #[command(subcommand)]
        command: PlatformOperatorCommand,
    },
    /// Park-platform API clients of a tenant.
    ParkClient {
        #[command(subcommand)]
        command: ParkClientCommand,
    },
    /// Device broker logins.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Export a tenant's audit log as CSV on standard output.
    AuditExport {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        tenant: String,
        /// From this instant (RFC 3339).
        #[arg(long)]
        from: Option<chrono::DateTime<chrono::Utc>>,
        /// Up to this instant (RFC 3339).
        #[arg(long)]
        to: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// A SaaS-operator token for the admin API (`platformTenants`, `createTenant`, …).
    AdminToken {
        #[command(flatten)]
        common: Common,
        /// Lifetime in minutes.
        #[arg(long, default_value_t = 60)]
        minutes: i64,
    },
    /// Decode or build DL/T 645-2007 frames.
    Frame {
        #[command(subcommand)]
        command: FrameCommand,
    },
    /// Run simulated meters and gateways against a broker, registered in a tenant.
    Simulate {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 100)]
        meters: usize,
        #[arg(long, default_value_t = 2)]
        gateways: usize,
        /// Seconds between pushes.
        #[arg(long, default_value_t = 30)]
        interval: u64,
        #[arg(long, env = "VOLTLEDGER__MQTT__BROKER", default_value = "mqtt://127.0.0.1:1884")]
        broker: String,
        /// Tenant slug to register the simulated fleet in (created if absent).
        #[arg(long, default_value = "simulated")]
        tenant: String,
        /// Stop after this many pushes per device.
        #[arg(long)]
        rounds: Option<u64>,
        /// Make N meters lose phase C.
        #[arg(long, default_value_t = 0)]
        phase_loss: usize,
        /// Make N meters report under-voltage.
        #[arg(long, default_value_t = 0)]
        under_voltage: usize,
        /// Make N meters go silent.
        #[arg(long, default_value_t = 0)]
        silent: usize,
    },
    /// Run one device with the MQTT login the portal showed when it was registered: a 4G meter
    /// (one --meter) or a LoRa gateway (several). Needs no database; readings only (the meters
    /// hold no key, so they refuse remote control).
    SimulateDevice {
        /// The broker address the portal showed (DeviceCredentials.brokerUrl).
        #[arg(long, env = "VOLTLEDGER__MQTT__BROKER", default_value = "mqtt://127.0.0.1:1884")]
        broker: String,
        #[arg(long)]
        username: String,
        /// The device's password (or VOLTLEDGER_DEVICE_PASSWORD, to keep it out of `ps`).
        #[arg(long, env = "VOLTLEDGER_DEVICE_PASSWORD", hide_env_values = true)]
        password: String,
        /// The 12-digit address of a meter this device speaks for; repeat for a gateway's meters.
        #[arg(long = "meter", required = true)]
        meters: Vec<String>,
        /// The meters are three-phase.
        #[arg(long)]
        three_phase: bool,
        /// Seconds between pushes.
        #[arg(long, default_value_t = 30)]
        interval: u64,
        /// Stop after this many pushes.
        #[arg(long)]
        rounds: Option<u64>,
    },
    /// Broker integration files for an external Mosquitto.
    Broker {
        #[command(subcommand)]
        command: BrokerCommand,
    },
    /// Benchmarks that print figures (see docs/PERFORMANCE.md).
    Bench {
        #[command(subcommand)]
        command: server::bench::BenchCommand,
    },
}

#[derive(Subcommand)]
pub(crate) enum BrokerCommand {
    /// Print a Mosquitto password file of every active device login (and the bridge's).
    MosquittoPasswd {
        #[command(flatten)]
        common: Common,
        /// The bridge's broker password, to include its line.
        #[arg(long, env = "VOLTLEDGER__MQTT__BRIDGE_PASSWORD", hide_env_values = true)]
        bridge_password: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum FrameCommand {
    /// Print one JSON object per frame found in the hex input (spaces allowed).
    Decode { hex: Vec<String> },
    /// Build a frame and print it as hex.
    Encode {
        #[command(subcommand)]
        frame: EncodeCommand,
    },
}

static LOG_FORMAT: std::sync::OnceLock<LogFormat> = std::sync::OnceLock::new();

pub(crate) fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,rumqttd=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match LOG_FORMAT.get().copied().unwrap_or(LogFormat::Text) {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
    };
}

#[tokio::main]
pub(crate) async fn main() -> std::process::ExitCode {
    let cli = match server::config::layered::<Cli>(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let _ = LOG_FORMAT.set(cli.log_format);
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

pub(crate) async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    match cli.command {
        Command::Frame { command } => return frame(command),
        Command::Bench { command } => {
            init_tracing();
            server::bench::run(command).await?;
        }
        Command::Broker { command: BrokerCommand::MosquittoPasswd { common, bridge_password } } => {
            let store = common.store().await?;
            store.migrate().await?;
            for line in store.platform().mosquitto_passwords(bridge_password.as_deref()).await? {
                println!("{line}");
            }
        }
        Command::Migrate { common } => {
            init_tracing();
            std::fs::create_dir_all(&common.data_dir)?;
            common.store().await?.migrate().await?;
            println!("migrations applied");
        }
        Command::Tenant { command } => match command {
            TenantCommand::Create { common, name, slug, time_zone, admin_username, admin_password } => {
                std::fs::create_dir_all(&common.data_dir)?;
                let store = common.store().await?;
                store.migrate().await?;
                let (password, generated) = password_or_generated(&admin_username, admin_password)?;
                let hash = server::api::auth::hash_password(&password).map_err(anyhow::Error::msg)?;
                let id = store
                    .platform()
                    .create_tenant_with_admin(&name, &slug, &time_zone, &admin_username, &hash)
                    .await
                    .context("creating the tenant")?;
                println!("tenant {id}\nadmin username: {admin_username}");
                if generated {
                    println!("admin password: {password}");
                }
            }
            TenantCommand::List { common } => {
                let store = common.store().await?;
                for t in store.platform().tenants().await? {
                    println!("{}\t{}\t{}\t{}", t.id, t.slug, t.status, t.name);
                }
            }
            TenantCommand::Suspend { common, slug } => {
                let store = common.store().await?;
                let t = store.platform().set_tenant_status(&slug, "SUSPENDED").await.with_context(|| format!("suspending {slug}"))?;
                println!("{}\t{}\t{}", t.id, t.slug, t.status);
            }
            TenantCommand::Reactivate { common, slug } => {
                let store = common.store().await?;
                let t = store.platform().set_tenant_status(&slug, "ACTIVE").await.with_context(|| format!("reactivating {slug}"))?;
                println!("{}\t{}\t{}", t.id, t.slug, t.status);
            }
        },
        Command::AdminToken { common, minutes } => {
            let keys = server::api::auth::TokenKeys::new(common.jwt_secret()?.as_bytes());
            let token = keys.issue(server::api::auth::Kind::Admin, None, "platform-admin", None, chrono::Duration::minutes(minutes))?;
            println!("{token}");
        }
        Command::Operator { command } => operator(command).await?,
        Command::PlatformOperator { command } => platform_operator(command).await?,
        Command::ParkClient { command } => park_client(command).await?,
        Command::Device { command } => device(command).await?,
        Command::AuditExport { common, tenant, from, to } => {
            let store = common.store().await?;
            let t = tenant_store(&store, tenant).await?;
            let filter = server::store::AuditFilter { from, to, ..Default::default() };
            print!("{}", server::api::login::audit_csv(&t, &filter).await?);
        }
        Command::Serve {
            common,
            broker,
            mqtt_listen,
            mqtt_tls_listen,
            mqtt_tls_cert_file,
            mqtt_tls_key_file,
            serial_listen,
            http,
            bridge_password,
            bridge_sessions,
            batch_time_ms,
            bridge_client_id,
            uplink,
            uplink_client_id,
            role,
            grace_seconds,
            metrics_listen,
            environment,
            no_demo,
            demo_meters,
            demo_interval,
            redis_url,
            public_url,
            device_broker_url,
            web_dir,
            mail_url,
            mail_from,
            mail_ca_file,
            security,
        } => {
            init_tracing();
            let mail = match mail_url {
                Some(url) => {
                    let ca = match mail_ca_file {
                        Some(f) => Some(std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?),
                        None => None,
                    };
                    Some(server::connectors::mail::MailConfig::parse(&url, &mail_from, ca).map_err(anyhow::Error::msg)?)
                }
                None => None,
            };
            let security = server::app::SecuritySettings {
                allow_local_outbound: security.allow_local_outbound.unwrap_or(!no_demo),
                trusted_proxies: security.trusted_proxies,
                no_graphiql: security.no_graphiql,
                internal_token: security.internal_token,
                requests_per_minute: security.requests_per_minute,
                login_attempts_per_address: security.login_attempts_per_address,
            };
            let settings = Settings {
                role,
                grace: Duration::from_secs(grace_seconds.max(1)),
                metrics_listen,
                data_dir: common.data_dir.clone(),
                database_url: common.database_url.clone(),
                broker,
                mqtt_listen,
                mqtt_tls: match (mqtt_tls_listen, mqtt_tls_cert_file, mqtt_tls_key_file) {
                    (Some(listen), Some(cert_file), Some(key_file)) => {
                        Some(mqtt_bridge::broker::TlsListener { listen, cert_file, key_file })
                    }
                    (None, None, None) => None,
                    _ => bail!("the broker's TLS listener needs VOLTLEDGER__MQTT__TLS_LISTEN, _CERT_FILE and _KEY_FILE together"),
                },
                http_listen: http,
                jwt_secret: common.jwt_secret.clone(),
                key_encryption_key: common.key_encryption_key.clone(),
                bridge_password,
                bridge_sessions,
                batch_time: (batch_time_ms > 0).then(|| Duration::from_millis(batch_time_ms)),
                bridge_client_id,
                uplink,
                uplink_client_id,
                demo: !no_demo,
                demo_meters,
                demo_interval: Duration::from_secs(demo_interval.max(1)),
                redis_url,
                redis_namespace: "voltledger".into(),
                public_url,
                device_broker_url,
                security,
                web_dir: Some(web_dir.unwrap_or_else(|| PathBuf::from("web/dist"))),
                mail,
                serial_listen,
            };
            if environment == Environment::Production {
                let problems = server::app::production_problems(&settings);
                if !problems.is_empty() {
                    bail!(
                        "refusing to start with VOLTLEDGER__ENVIRONMENT=production:\n  - {}\n(docs/OPERATIONS.md, \"Configuration\")",
                        problems.join("\n  - ")
                    );
                }
            }
            serve(settings).await?;
        }
        Command::Simulate { common, meters, gateways, interval, broker, tenant, rounds, phase_loss, under_voltage, silent } => {
            init_tracing();
            std::fs::create_dir_all(&common.data_dir)?;
            let store = common.store().await?;
            store.migrate().await?;
            let id = match store.platform().tenant_by_slug(&tenant).await? {
                Some(t) => t.id,
                None => store.platform().create_tenant("Simulated fleet", &tenant, "Asia/Shanghai").await?,
            };
            let t = store.tenant(id);
            let plan = server::fleet::FleetPlan {
                meters,
                gateways,
                per_gateway: (meters / 4 / gateways.max(1)).max(1),
                address_prefix: 900,
                accounts: true,
                at_once: 1,
            };
            server::fleet::provision(&t, plan).await?;
            let seed = data_secret(&common.data_dir, "simulator.secret")?;
            let devices = server::fleet::sim_devices(&t, &seed, &[]).await?;
            let handle = mqtt_bridge::simulator::SimHandle::default();
            let all: Vec<Address> = devices.iter().flat_map(|d| d.meters.iter().map(|m| m.address)).collect();
            let mut it = all.iter();
            for (n, fault) in [(phase_loss, 0), (under_voltage, 1), (silent, 2)] {
                for a in it.by_ref().take(n) {
                    let f = mqtt_bridge::simulator::Faults {
                        phase_loss: fault == 0,
                        under_voltage: fault == 1,
                        silent: fault == 2,
                        ..Default::default()
                    };
                    handle.set_faults(*a, f);
                }
            }
            eprintln!("simulating {} meters on {} devices against {broker} (tenant {tenant})", all.len(), devices.len());
            let cfg = mqtt_bridge::simulator::SimConfig {
                broker: mqtt_bridge::session::BrokerAddr::parse(&broker).map_err(anyhow::Error::msg)?,
                interval: Duration::from_secs(interval.max(1)),
                clock_offset: shanghai(),
                rounds,
            };
            mqtt_bridge::simulator::run(cfg, devices, handle).await;
        }
        Command::SimulateDevice { broker, username, password, meters, three_phase, interval, rounds } => {
            init_tracing();
            let mut sims = Vec::with_capacity(meters.len());
            for m in &meters {
                let address = Address::parse(m).map_err(|e| anyhow::anyhow!("meter address {m}: {e}"))?;
                sims.push(mqtt_bridge::simulator::SimMeter::new(address, three_phase));
            }
            let device = mqtt_bridge::simulator::SimDevice { username: username.clone(), password, gateway: sims.len() > 1, meters: sims };
            eprintln!("simulating device {username} with {} meter(s) against {broker}", meters.len());
            let cfg = mqtt_bridge::simulator::SimConfig {
                broker: mqtt_bridge::session::BrokerAddr::parse(&broker).map_err(anyhow::Error::msg)?,
                interval: Duration::from_secs(interval.max(1)),
                clock_offset: shanghai(),
                rounds,
            };
            mqtt_bridge::simulator::run(cfg, vec![device], mqtt_bridge::simulator::SimHandle::default()).await;
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

pub(crate) fn shanghai() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| chrono::FixedOffset::east_opt(0).unwrap_or(chrono::Utc.fix()))
}

use chrono::Offset as _;

/// A password from the command line (checked against the policy) or a generated one.
pub(crate) fn password_or_generated(username: &str, given: Option<String>) -> anyhow::Result<(String, bool)> {
    match given {
        Some(p) => {
            server::domain::access::check_password(username, &p).map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok((p, false))
        }
        None => Ok((format!("Vl-{}", uuid::Uuid::new_v4().simple()), true)),
    }
}

pub(crate) async fn tenant_store(store: &Store, slug: String) -> anyhow::Result<server::store::TenantStore> {
    let t = store.platform().tenant_by_slug(&slug).await?.with_context(|| format!("no tenant {slug}"))?;
    Ok(store.tenant(t.id))
}

pub(crate) async fn serve(mut settings: Settings) -> anyhow::Result<()> {
    // The demo's mail relay: a local SMTP stand-in (STARTTLS, AUTH) keeping each message as
    // an .eml file, unless a real relay is configured. Held for the life of the server.
    let mut mail_standin = None;
    if settings.demo && settings.mail.is_none() {
        let seed = data_secret(&settings.data_dir, "simulator.secret")?;
        let password = server::fleet::derived_secret(&seed, "smtp-standin");
        let dir = settings.data_dir.join("mail");
        let standin =
            server::connectors::mail::standin::SmtpStandIn::start("127.0.0.1:0".parse()?, "reports", &password, Some(dir)).await?;
        let url = format!("smtp://reports:{password}@localhost:{}", standin.addr.port());
        settings.mail = Some(
            server::connectors::mail::MailConfig::parse(
                &url,
                "VoltLedger demo <reports@localhost>",
                Some(standin.ca_pem.clone().into_bytes()),
            )
            .map_err(anyhow::Error::msg)?,
        );
        mail_standin = Some(standin);
    }
    // The demo's serial server needs a collector: an ephemeral one unless one is configured.
    if settings.demo && settings.serial_listen.is_none() {
        settings.serial_listen = Some("127.0.0.1:0".parse()?);
    }
    let app = Application::build(&settings).await?;
    let mut banner = format!("VoltLedger listening on http://{}/graphql (broker {})\n", app.http_addr, app.broker);
    match settings.web_dir.as_deref().filter(|d| server::api::portal::is_built(d)) {
        Some(_) => banner += &format!("portal: http://{0}/\ncustomers' mobile pages: http://{0}/m/\n", app.http_addr),
        None => banner += "portal: not built (bash infra/run.sh builds web/ and starts the server)\n",
    }
    if settings.demo {
        let store = app.store.clone();
        let id = match store.platform().tenant_by_slug("demo").await? {
            Some(t) => t.id,
            None => store.platform().create_tenant("Demo Property Co.", "demo", "Asia/Shanghai").await?,
        };
        let t = store.tenant(id.clone());
        let admin_password = format!("Demo-{}", &data_secret(&settings.data_dir, "demo-admin.secret")?[..16]);
        if t.operator_login("admin").await?.is_none() {
            let role_id = t.ensure_builtin_roles().await?;
            let hash = server::api::auth::hash_password(&admin_password).map_err(anyhow::Error::msg)?;
            let admin = server::store::NewOperator {
                username: "admin".into(),
                display_name: "Demo administrator".into(),
                password_hash: hash,
                role_id,
                properties: None,
            };
            t.create_operator(&admin).await?;
        }
        // The demo's console operator exists only in the single-box database: a demo run
        // against a shared database must not leave an all-tenant login behind.
        let console_password = if settings.database_url.is_none() {
            let password =
                format!("Saas-{}", data_secret(&settings.data_dir, "demo-platform.secret")?.chars().take(16).collect::<String>());
            if store.platform().operator_by_name("saas").await?.is_none() {
                let hash = server::api::auth::hash_password(&password).map_err(anyhow::Error::msg)?;
                store.platform().create_operator("saas", &hash, chrono::Utc::now()).await?;
            }
            password
        } else {
            "(none with --database-url: voltledger platform-operator create)".to_string()
        };
        let plan = server::fleet::FleetPlan {
            meters: settings.demo_meters,
            gateways: 2,
            per_gateway: 40,
            address_prefix: 100,
            accounts: true,
            at_once: 1,
        };
        server::fleet::provision(&t, plan).await?;
        let seed = data_secret(&settings.data_dir, "simulator.secret")?;
        // Field devices (issue 20): a serial server with a standard and a Modbus meter on its
        // bus, and a vendor JSON meter — simulated apart from the MQTT fleet.
        let field = server::fleet::field_devices(&t, &seed).await?;
        let devices = server::fleet::sim_devices(&t, &seed, &field.usernames).await?;
        banner += &format!(
            "demo tenant {id}: {} devices simulated every {}s\n\
             log in: POST /auth/login {{\"tenant\":\"demo\",\"username\":\"admin\",\"password\":\"{admin_password}\"}}\n\
             platform console: http://{}/console (username saas, password {console_password})\n",
            devices.len(),
            settings.demo_interval.as_secs(),
            app.http_addr
        );
        let cfg = mqtt_bridge::simulator::SimConfig {
            broker: app.broker.clone(),
            interval: settings.demo_interval,
            clock_offset: shanghai(),
            rounds: None,
        };
        tokio::spawn(mqtt_bridge::simulator::run(cfg.clone(), devices, mqtt_bridge::simulator::SimHandle::default()));
        let (json_user, json_secret, json_meter) = field.json_device;
        tokio::spawn(mqtt_bridge::simulator::run_vendor_device(
            cfg,
            json_user,
            json_secret,
            json_meter,
            mqtt_bridge::simulator::SimHandle::default(),
        ));
        if let Some(collector) = app.serial_addr {
            let (registration, bus) = (field.bus_registration, field.bus);
            tokio::spawn(async move {
                // A serial server reconnects when its connection drops.
                loop {
                    let handle = mqtt_bridge::simulator::SimHandle::default();
                    if let Err(e) = mqtt_bridge::serial_sim::run_bus(collector, &registration, bus.clone(), handle, shanghai()).await {
                        tracing::warn!(error = %e, "the simulated serial server lost its connection");
                    }
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            });
            banner += &format!("serial-server collector: {collector} (a simulated RS-485 bus: a DL/T 645 and a Modbus meter)\n");
        }
        banner += &demo_sms(&t, &seed).await?;
        banner += &demo_wechat(&t, &seed).await?;
        banner += &demo_wechat_pay(&app.store, &t, app.http_addr).await?;
        banner += &demo_alipay(&t, app.http_addr).await?;
    }
    if let Some(m) = &mail_standin {
        banner += &format!(
            "mail stand-in (SMTP, STARTTLS) at {}: scheduled reports land in {}\n",
            m.addr,
            settings.data_dir.join("mail").display()
        );
    }
    print!("{banner}");
    let _ = std::io::stdout().flush();
    app.run_until_stopped().await
}

/// The demo's SMS: a local stand-in of Alibaba Cloud SMS (it checks the signatures) as the
/// demo tenant's provider, unless an operator configured a real one.
async fn demo_sms(t: &server::store::TenantStore, seed: &str) -> anyhow::Result<String> {
    use server::notify::sms::Provider;
    let current = t.notification_settings().await?;
    if current.as_ref().is_some_and(|(s, _)| !s.endpoint.starts_with("http://127.0.0.1")) {
        return Ok(String::new());
    }
    let secret = server::fleet::derived_secret(seed, "sms-standin");
    let standin = server::notify::standin::SmsStandIn::start("127.0.0.1:0".parse()?, &[("LTAIdemo", &secret)])?;
    let settings = server::store::NotificationSettings {
        provider: Provider::Aliyun,
        endpoint: format!("{}/aliyun/", standin.base),
        access_key_id: "LTAIdemo".into(),
        sign_name: "VoltLedger".into(),
        sdk_app_id: String::new(),
        region: String::new(),
        contacts: vec!["13800000000".into()],
        quiet: None,
        daily_limit: 20,
    };
    t.set_notification_settings(&settings, Some(&secret)).await?;
    if current.is_none() {
        for (kind, code) in [
            ("PHASE_LOSS", "SMS_DEMO_PHASE"),
            ("METER_LOST", "SMS_DEMO_LOST"),
            ("GATEWAY_LOST", "SMS_DEMO_GATEWAY"),
            ("ARREARS", "SMS_DEMO_ARREARS"),
        ] {
            t.set_notification_template(kind, code).await?;
        }
    }
    // The stand-in's server task runs as long as the process.
    Ok(format!("SMS stand-in (Alibaba Cloud API, signatures checked) at {}/aliyun/\n", standin.base))
}

/// The demo's official account (公众号), beside its mini-program.
const DEMO_OFFICIAL_ACCOUNT: &str = "wxdemooa00000000";

/// The demo's mini-program: a local stand-in of WeChat as the tenant's AppID, so customer
/// logins (`POST /auth/wechat`) and `bindAccount` can be tried.
async fn demo_wechat(t: &server::store::TenantStore, seed: &str) -> anyhow::Result<String> {
    if t.wechat_app().await?.is_some_and(|a| !a.api_base.starts_with("http://127.0.0.1")) {
        return Ok(String::new());
    }
    let secret = server::fleet::derived_secret(seed, "wechat-standin");
    let app_id = "wxdemo0000000000";
    let standin = server::wechat::standin::WechatStandIn::start("127.0.0.1:0".parse()?, &[(app_id, &secret)])?;
    t.set_wechat_app(app_id, &secret, &standin.base).await?;
    // The official account the mobile pages sign in with inside WeChat's browser.
    let oa_secret = server::fleet::derived_secret(seed, "wechat-oa-standin");
    standin.add_app(DEMO_OFFICIAL_ACCOUNT, &oa_secret);
    let oa = server::store::WechatApp { app_id: DEMO_OFFICIAL_ACCOUNT.into(), secret: oa_secret, api_base: standin.base.clone() };
    t.set_wechat_official_account(&oa, &format!("{}/connect/oauth2/authorize", standin.base)).await?;
    Ok(format!(
        "WeChat stand-in at {base}: a login code from {base}/standin/login-code?appid={app_id}&openid=o-demo, then POST /auth/wechat {{\"tenant\":\"demo\",\"code\":…}}; \
         official account {DEMO_OFFICIAL_ACCOUNT} (mobile pages in WeChat: {base}/connect/oauth2/authorize)\n",
        base = standin.base
    ))
}

/// The demo's WeChat Pay: a local stand-in as the platform's service provider, one payee
/// (sub-merchant) per demo property, so customers' recharges can be paid end to end.
async fn demo_wechat_pay(store: &Store, t: &server::store::TenantStore, http: std::net::SocketAddr) -> anyhow::Result<String> {
    use server::pay::standin::{StandInConfig, WechatPayStandIn};
    if store.platform().payment_provider().await?.is_some_and(|p| !p.api_base.starts_with("http://127.0.0.1")) {
        return Ok(String::new());
    }
    let properties = t.properties().await?;
    let mut payees = t.payees().await?;
    for (i, p) in properties.iter().enumerate() {
        // A retired property takes no payments (and no new payee).
        if p.retired_at.is_none() && !payees.iter().any(|x| x.property_id.as_deref() == Some(p.id.as_str())) {
            payees.push(
                t.create_payee(&format!("{} payee", p.name), "PARTNER", &format!("19000002{i:02}"), Some(p.id.as_str()), None).await?,
            );
        }
    }
    let (private, public) = server::pay::wechatpay::generate_key_pair().map_err(anyhow::Error::msg)?;
    let api_v3_key = format!("{:032x}", rand::random::<u128>());
    let config = StandInConfig {
        sp_mchid: "1900000100".into(),
        sp_appid: "wxdemo0000000000".into(),
        sub_mchids: payees.iter().map(|p| p.sub_mchid.clone()).collect(),
        merchant_serial: "DEMO0000000000000000000000000000000000".into(),
        merchant_public_pem: public,
        api_v3_key: api_v3_key.clone(),
        time_scale: 1.0,
    };
    let standin = WechatPayStandIn::start("127.0.0.1:0".parse()?, config).map_err(anyhow::Error::msg)?;
    standin.bind_sub_appid(DEMO_OFFICIAL_ACCOUNT);
    let provider = server::store::PaymentProvider {
        sp_mchid: "1900000100".into(),
        sp_appid: "wxdemo0000000000".into(),
        serial: "DEMO0000000000000000000000000000000000".into(),
        private_key_pem: private,
        api_v3_key,
        wechat_keys: vec![(standin.wechat_key_id.clone(), standin.wechat_public_pem.clone())],
        api_base: standin.base.clone(),
        notify_url: format!("http://127.0.0.1:{}/pay/wechat/notify", http.port()),
    };
    store.platform().set_payment_provider(&provider).await?;
    // The stand-in's server task runs as long as the process.
    Ok(format!(
        "WeChat Pay stand-in at {base} (service provider 1900000100, {} payees); pay an order as the user: POST {base}/standin/pay?out_trade_no=…\n",
        payees.len(),
        base = standin.base
    ))
}

/// The demo's Alipay: a local gateway, one app per demo payee, so customers can also order
/// with `channel: ALIPAY` and pay the QR code.
async fn demo_alipay(t: &server::store::TenantStore, http: std::net::SocketAddr) -> anyhow::Result<String> {
    use server::pay::alipay_standin::AlipayStandIn;
    let gateway = AlipayStandIn::start("127.0.0.1:0".parse()?, 1.0).map_err(anyhow::Error::msg)?;
    let payees = t.payees().await?;
    for (i, payee) in payees.iter().enumerate() {
        if t.payee_credentials(&payee.id, "ALIPAY").await?.is_some_and(|c| !c.api_base.starts_with("http://127.0.0.1")) {
            continue; // a real Alipay app was set up: leave it
        }
        let (private, public) = server::pay::wechatpay::generate_key_pair().map_err(anyhow::Error::msg)?;
        let app_id = format!("20210001000000{i:02}");
        let seller = format!("20881000000000{i:02}");
        gateway.add_app(&app_id, &seller, &public).map_err(anyhow::Error::msg)?;
        let credentials = server::store::PayeeCredentials {
            channel: "ALIPAY".into(),
            app_id,
            merchant_id: seller,
            serial: String::new(),
            private_key_pem: private,
            secret: String::new(),
            verify_keys: vec![(server::pay::alipay::ALIPAY_KEY.into(), gateway.alipay_public_pem.clone())],
            api_base: gateway.gateway.clone(),
            notify_url: format!("http://127.0.0.1:{}/pay/alipay/notify", http.port()),
            updated_at: chrono::Utc::now(),
        };
        t.set_payee_credentials(&payee.id, &credentials).await?;
    }
    Ok(format!(
        "Alipay stand-in at {} ({} apps); pay a QR order as the payer: POST {}/standin/alipay/pay?out_trade_no=…\n",
        gateway.gateway,
        payees.len(),
        gateway.gateway.trim_end_matches("/gateway.do")
    ))
}

fn frame(command: FrameCommand) -> anyhow::Result<std::process::ExitCode> {
    match command {
        FrameCommand::Decode { hex } => {
            let text: String = hex.concat().chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = ::hex::decode(&text).context("input is not hex")?;
            let scan = dlt645::scan(&bytes);
            let mut out = std::io::stdout().lock();
            let mut failed = false;
            for frame in &scan.frames {
                match dlt645::report(frame) {
                    Ok(r) => writeln!(out, "{}", serde_json::to_string(&r)?)?,
                    // A whole frame whose content does not decode (a meter's date 0000-00-00):
                    // printed as such, with its bytes; the other frames still decode and the
                    // exit status stays 0 — only broken framing fails the command.
                    Err(e) => {
                        eprintln!("warning: frame from {}: {e}", frame.address);
                        let raw = serde_json::json!({
                            "address": frame.address.to_string(),
                            "control": format!("{:02X}", frame.control.to_byte()),
                            "dataHex": ::hex::encode_upper(&frame.data),
                            "error": e.to_string(),
                        });
                        writeln!(out, "{raw}")?;
                    }
                }
            }
            for (at, e) in &scan.rejected {
                eprintln!("error: bad frame at byte {at}: {e}");
                failed = true;
            }
            if scan.consumed < bytes.len() {
                eprintln!("error: {} trailing byte(s) do not form a whole frame", bytes.len() - scan.consumed);
                failed = true;
            }
            if scan.frames.is_empty() {
                if !failed {
                    eprintln!("error: no DL/T 645 frame in the input");
                }
                failed = true;
            }
            Ok(if failed { std::process::ExitCode::FAILURE } else { std::process::ExitCode::SUCCESS })
        }
        FrameCommand::Encode { frame } => {
            let built = match frame {
                EncodeCommand::Read { address, di } => {
                    let address = Address::parse(&address)?;
                    let di = Di::parse(&di).context("--di takes 8 hex digits, DI3..DI0")?;
                    dlt645::read_request(address, di)
                }
                EncodeCommand::Control { address, action, deadline, level, password, operator } => {
                    let address = Address::parse(&address)?;
                    let action = RelayAction::parse(&action).context("unknown --action")?;
                    let deadline = chrono::NaiveDateTime::parse_from_str(&deadline, "%Y-%m-%d %H:%M:%S")
                        .context("--deadline is \"YYYY-MM-DD hh:mm:ss\"")?;
                    if password > 999_999 {
                        bail!("--password has at most 6 digits");
                    }
                    let operator = u32::from_str_radix(&operator, 16).context("--operator is 8 hex digits")?;
                    RemoteControl { level, password, operator, action, deadline }.frame(address)?
                }
                EncodeCommand::Time { at } => {
                    let at = chrono::NaiveDateTime::parse_from_str(&at, "%Y-%m-%d %H:%M:%S").context("--at is \"YYYY-MM-DD hh:mm:ss\"")?;
                    dlt645::broadcast_time(at)
                }
            };
            let bytes = built.encode(0)?;
            println!("{}", bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" "));
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}
