//! The store: the only crate that names sea-orm. Everything tenant-owned goes through a
//! [`TenantStore`], a handle that carries its tenant id and adds it to every statement;
//! cross-tenant work (tenant creation, ingestion routing, link-state sweeps) is on
//! [`Store`] under names that say so.

mod alarms;
mod allocation;
mod anomalies;
mod audit;
mod billing;
mod bulk;
mod commands;
mod console;
pub mod counters;
mod customer;
mod desk;
mod devices;
mod events;
mod forwarding;
mod freezes;
mod global_keys;
mod identity;
pub mod ids;
mod import;
mod ingest;
mod keys;
mod leases;
pub use leases::{Claim, LEASE};
mod meter_accounts;
mod money;
mod notifications;
mod operations;
pub mod outbox;
mod payee_keys;
mod payments;
mod profiles;
mod reconciliation;
mod refunds;
mod registry;
mod reports;
pub use forwarding::{Delivery, FORWARD_KINDS, ForwardAttempt, ForwardTarget, ForwardTransport, backoff};
pub use reports::{ExportReading, LostDevice, ReadingLine, RegisterPoint, ReportMeter, SaleRow};
mod rerate;
mod schedules;
pub use schedules::{NewSchedule, Schedule, ScheduleRun};
mod scope;
mod settle;
mod sql;
mod tariffs;
mod wall;

use crate::ids::NewId;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use sha2::{Digest, Sha256};
use tenant_migrations::sea_orm_migration::MigratorTrait;

use crate::outbox::{CommandLog, CommandPort};
pub use alarms::{ALARM_KINDS, AlarmEvent, AlarmFilter, AlarmRow};
pub use allocation::*;
pub use anomalies::{AnomalyResolution, ResolutionEffect};
pub use audit::*;
pub use billing::*;
pub use commands::{DUE_PER_PASS, DueCommand, DuePolicy};
pub use console::{CLI_ADMIN, PlatformHealth, PlatformOperator};
pub use desk::{DeskEntry, EntryFilter, EntryTotals, GatewayCounts, MeterCounts, RECHARGE_KINDS, TrendRow};
pub use devices::*;
use domain::ids::{GatewayId, MeterId, TenantId};
pub use identity::*;
pub use import::*;
pub use keys::Kek;
pub use meter_accounts::*;
pub use money::*;
pub use notifications::{DueNotification, DueWechat, NotificationRow, NotificationSettings, Outcome, WechatTemplateRow};
pub use operations::{BATCH_KINDS, BATCH_LIMIT, BatchRow, MeterSelection};
pub use payee_keys::*;
pub use payments::*;
pub use profiles::{CLOCK_TOLERANCE_S, Lack, ProfileRow, ReadAnswer, RelayScheme};
pub use reconciliation::*;
pub use refunds::*;
pub use registry::*;
pub use scope::*;
pub use settle::SettleReport;
use sql::{Args, stmt};
pub use wall::{APP_ROLE, TenantDb};

/// The bridge's own broker login: the one MQTT user not bound to a device.
pub const BRIDGE_USER: &str = "voltledger-bridge";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The change contradicts what is stored (a closed account, a balance that may not go
    /// below zero, an order already paid).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A unique key is already taken (the database said so, not a message).
    #[error("an object with the same key already exists")]
    Duplicate,
    /// An input names something that does not exist or cannot be (a role, a property, an
    /// amount under the fee), on the API field it came from.
    #[error("{0}")]
    Invalid(domain::Invalid),
    #[error("database: {0}")]
    Database(String),
}

impl From<sea_orm::DbErr> for StoreError {
    fn from(e: sea_orm::DbErr) -> Self {
        match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => StoreError::Duplicate,
            _ => StoreError::Database(e.to_string()),
        }
    }
}

impl From<domain::Invalid> for StoreError {
    fn from(e: domain::Invalid) -> Self {
        StoreError::Invalid(e)
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The platform's cross-tenant work — sweeps, routing, tenant administration, the SaaS
/// operator's reads — on its own type, so code that reaches across tenants says so where it
/// calls: `store.platform().tenants()`. Everything tenant-owned goes through [`TenantStore`].
#[derive(Clone)]
pub struct PlatformStore(Store);

impl std::ops::Deref for PlatformStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.0
    }
}

impl Store {
    /// The cross-tenant handle.
    pub fn platform(&self) -> PlatformStore {
        PlatformStore(self.clone())
    }
}

/// Creates database `name` (letters, digits and `_`) on the PostgreSQL server of `url`: the
/// benchmarks' fresh databases.
pub async fn create_database(url: &str, name: &str) -> Result<()> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::Invalid(domain::Invalid::new("name", "letters, digits and _ only")));
    }
    let admin = Database::connect(url).await?;
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
    Ok(())
}

/// The advisory lock migrations hold on PostgreSQL (any constant the schema owns).
const MIGRATION_LOCK: i64 = 0x766c_6d69_6772; // "vlmigr"

/// Where one (device, meter address) pair leads.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub tenant: TenantId,
    pub meter: MeterId,
    pub gateway: Option<GatewayId>,
    pub tz: Tz,
}

#[derive(Default)]
pub(crate) struct Caches {
    /// username -> sha256 of the secret (only active logins of active tenants)
    pub credentials: HashMap<String, String>,
    /// device username -> numeric meter address -> route (by device first, so one device's
    /// entries are found without reading the fleet's)
    pub routes: HashMap<String, HashMap<u64, Route>>,
    /// (tenant, meter) -> (device username, numeric address): the way down to a meter.
    pub downlinks: HashMap<(String, String), (String, u64)>,
    /// Tenants that are not ACTIVE (suspended): their tokens are refused.
    pub inactive: std::collections::HashSet<String>,
    /// device username -> the JSON map of a vendor JSON device (F43) and its own meter's
    /// numeric address.
    pub vendor: HashMap<String, (Arc<domain::vendor_json::JsonMap>, u64)>,
    /// When the full reload that built this cache began to read (`Store::reads`).
    loaded_at: u64,
    /// What that reload read, summed row by row.
    digest: CacheDigest,
    /// Whether that reload read something other than the one before it: while a fleet is
    /// being registered the next reload builds at once instead of reading twice.
    changing: bool,
    /// Devices refreshed one by one since this cache was loaded: when each refresh began
    /// to read, and the device.
    refreshed: Vec<(u64, String)>,
}

impl Caches {
    /// A full reload's snapshot, read from `began` on while `current` took single-device
    /// refreshes: a device whose refresh began to read after the reload did keeps its
    /// refreshed entries (its change may have committed after the snapshot read it). A
    /// refresh that began before is older than the snapshot and is not kept: its device
    /// may have been revoked in between (the revocation's own reload is this one).
    fn keep_refreshed(&mut self, current: &Caches, began: u64) {
        self.loaded_at = began;
        for (at, username) in current.refreshed.iter().filter(|(at, _)| *at > began) {
            self.take_device(current, username);
            // Recorded again: this cache now holds more than its snapshot read.
            self.refreshed.push((*at, username.clone()));
        }
    }

    /// Whether a reload that began to read at `began` and read `digest` may keep this cache
    /// as it is: the database reads as it did for this cache's snapshot, and every device
    /// refreshed since began to read after this reload did. (A refresh that began before
    /// may hold what the database no longer has: a login registered and revoked since the
    /// snapshot leaves the digest as it was, and only a rebuild drops the refreshed login.)
    fn unchanged(&self, digest: CacheDigest, began: u64) -> bool {
        self.loaded_at > 0 && self.digest == digest && self.refreshed.iter().all(|(at, _)| *at > began)
    }

    /// Applies one device's refresh that began to read at `began`, unless this cache was
    /// loaded by a reload that began later (its snapshot is the newer); whether it applied.
    fn apply_refresh(&mut self, fresh: &Caches, username: &str, began: u64) -> bool {
        if self.loaded_at > began {
            return false;
        }
        self.take_device(fresh, username);
        self.refreshed.push((began, username.to_string()));
        true
    }

    /// Where a device's frame from the meter at `address` leads.
    pub(crate) fn route(&self, device: &str, address: u64) -> Option<&Route> {
        self.routes.get(device).and_then(|r| r.get(&address))
    }

    /// Replaces one device's entries with those of `from`, reading only that device's
    /// (every registration refreshes one device; reading the fleet's entries each time made
    /// provisioning 100,000 meters quadratic).
    fn take_device(&mut self, from: &Caches, username: &str) {
        let downlink = |r: &Route| (r.tenant.as_str().to_string(), r.meter.as_str().to_string());
        self.credentials.remove(username);
        self.vendor.remove(username);
        for r in self.routes.remove(username).unwrap_or_default().values() {
            let key = downlink(r);
            if self.downlinks.get(&key).is_some_and(|(user, _)| user == username) {
                self.downlinks.remove(&key);
            }
        }
        if let Some(c) = from.credentials.get(username) {
            self.credentials.insert(username.to_string(), c.clone());
        }
        if let Some(routes) = from.routes.get(username) {
            for r in routes.values() {
                let key = downlink(r);
                if let Some(way) = from.downlinks.get(&key).filter(|(user, _)| user == username) {
                    self.downlinks.insert(key, way.clone());
                }
            }
            self.routes.insert(username.to_string(), routes.clone());
        }
        if let Some(v) = from.vendor.get(username) {
            self.vendor.insert(username.to_string(), v.clone());
        }
    }
}

/// What a cache reload read, as a sum of each row's SHA-256 (its first 128 bits) and a count
/// of rows: the same rows in any order give the same digest, so a plan that returns them in
/// another order does not force a rebuild.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CacheDigest {
    sum: u128,
    rows: u64,
}

impl CacheDigest {
    /// Adds one row: its fields, each length-prefixed (no two rows share an encoding).
    fn add(&mut self, fields: &[&str]) {
        let mut h = Sha256::new();
        for f in fields {
            h.update((f.len() as u64).to_le_bytes());
            h.update(f.as_bytes());
        }
        let d = h.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&d[..16]);
        self.sum = self.sum.wrapping_add(u128::from_le_bytes(first));
        self.rows += 1;
    }
}

/// Tariff versions by (tenant, tariff).
pub(crate) type TariffCache = Arc<RwLock<HashMap<(String, String), Arc<domain::tariff::History>>>>;

#[derive(Clone)]
pub struct Store {
    pub(crate) db: DatabaseConnection,
    pub(crate) caches: Arc<RwLock<Caches>>,
    /// The bridge's own broker login (username, sha256 of its secret).
    bridge_login: Arc<RwLock<Option<(String, String)>>>,
    /// Broker connections by client id: (username, sha256 of the secret) they logged in with.
    broker_logins: Arc<RwLock<HashMap<String, (String, String)>>>,
    /// Tariff versions by (tenant, tariff), loaded on first use.
    pub(crate) tariffs: TariffCache,
    /// Where decided commands go after commit.
    pub(crate) commands: Arc<dyn CommandPort>,
    /// One full cache reload at a time (each reads the whole fleet).
    reload: Arc<tokio::sync::Mutex<()>>,
    /// Numbers the cache reads (full reloads and single-device refreshes) in the order they
    /// begin, so a reload and a refresh that overlap can tell which read is newer.
    reads: Arc<std::sync::atomic::AtomicU64>,
    /// The key-encryption key and the tenants' opened meter master keys.
    pub(crate) keys: keys::SharedKeyRing,
    /// Alarm changes, for live subscribers.
    pub(crate) alarm_events: tokio::sync::broadcast::Sender<AlarmEvent>,
    /// Alarm changes shared with the other replicas (Redis), when configured.
    pub(crate) event_bus: events::SharedBus,
    /// Where the database is (the migrations' own connection).
    url: Arc<str>,
    /// The login's own pool when the application switched to `voltledger_app`: for
    /// maintenance only owners may do (`ANALYZE`).
    maintenance: Option<DatabaseConnection>,
}

/// Names of the stored reading value columns (benchmarks build the same row shape).
pub fn reading_value_columns() -> &'static [&'static str] {
    &ingest::VALUE_COLUMNS
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The same secret in Mosquitto's password-file form (`$7$`: PBKDF2-HMAC-SHA512, 101
/// rounds, 12-byte salt, 64-byte key, base64), so an external Mosquitto can check devices.
pub fn mosquitto_hash(secret: &str) -> String {
    use base64::Engine as _;
    let salt: [u8; 12] = rand::random();
    let mut key = [0u8; 64];
    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(secret.as_bytes(), &salt, 101, &mut key);
    let b64 = base64::engine::general_purpose::STANDARD;
    format!("$7$101${}${}", b64.encode(salt), b64.encode(key))
}

/// A tenant as the platform sees it.
#[derive(Debug, Clone)]
pub struct TenantRow {
    pub id: TenantId,
    pub name: String,
    pub slug: String,
    pub time_zone: String,
    pub reading_interval_s: i64,
    pub lost_after_intervals: i64,
    pub status: String,
}

/// Starts a transaction that may write. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`, waiting up to the busy timeout): a deferred transaction that reads and then
/// writes fails with SQLITE_BUSY, without waiting, when another connection wrote in between.
/// PostgreSQL ignores the mode.
pub(crate) async fn begin_write(db: &DatabaseConnection) -> std::result::Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() })
        .await
}

impl Store {
    /// Connects (creating a SQLite file if needed) without migrating.
    pub async fn connect(url: &str) -> Result<Self> {
        let db = Database::connect(Self::options(url)).await.map_err(|e| StoreError::Database(e.to_string()))?;
        Ok(Self {
            db,
            caches: Arc::default(),
            bridge_login: Arc::default(),
            broker_logins: Arc::default(),
            tariffs: Arc::default(),
            commands: Arc::new(CommandLog::default()),
            reload: Arc::default(),
            reads: Arc::default(),
            keys: Arc::default(),
            alarm_events: tokio::sync::broadcast::channel(1024).0,
            event_bus: Arc::default(),
            url: Arc::from(url),
            maintenance: None,
        })
    }

    fn options(url: &str) -> ConnectOptions {
        let mut options = ConnectOptions::new(url.to_string());
        let sqlite = url.starts_with("sqlite:");
        options.max_connections(if sqlite { 4 } else { 16 }).min_connections(1).sqlx_logging(false);
        // With the database gone, a request fails in seconds instead of queueing for the
        // driver's default 30 s (the PostgreSQL drill: logins answer 5xx while it is down).
        if !sqlite {
            options.acquire_timeout(std::time::Duration::from_secs(10)).connect_timeout(std::time::Duration::from_secs(5));
        }
        // Per-connection settings: WAL without an fsync per commit (durable at checkpoints,
        // safe against process crashes), foreign keys on, waits instead of SQLITE_BUSY.
        // PostgreSQL: the row-level-security policy shows a statement no tenant's rows unless
        // it names its tenant (TenantStore's transactions do) or the connection says it is the
        // platform's — ours do, explicitly, from their first packet.
        options.map_sqlx_postgres_opts(|o| o.options([("voltledger.platform", "on")]));
        options.map_sqlx_sqlite_opts(|o| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(std::time::Duration::from_secs(10))
        });
        options
    }

    /// Sends decided commands to `port` from now on (the default keeps them in memory).
    pub fn set_command_port(&mut self, port: Arc<dyn CommandPort>) {
        self.commands = port;
    }

    /// PostgreSQL (else SQLite).
    pub fn is_postgres(&self) -> bool {
        self.backend() == DbBackend::Postgres
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// On PostgreSQL, when connected as a superuser (who bypasses row-level security),
    /// reconnects so every connection runs as [`APP_ROLE`] and the tenant wall holds. A login
    /// that is not a superuser is held by the policies already (FORCE binds the owner).
    pub async fn behind_the_wall(&mut self, url: &str) -> Result<bool> {
        if self.backend() != DbBackend::Postgres {
            return Ok(false);
        }
        let sql = "SELECT r.rolsuper AS su, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS app FROM pg_roles r WHERE r.rolname = current_user";
        let row = self.db.query_one_raw(stmt(self.backend(), sql, Args::new().s(APP_ROLE))).await?.ok_or(StoreError::NotFound)?;
        let (superuser, app): (bool, bool) = (row.try_get("", "su")?, row.try_get("", "app")?);
        if !superuser {
            return Ok(true);
        }
        if !app {
            tracing::warn!("connected as a superuser and role {APP_ROLE} is missing: row-level security is bypassed");
            return Ok(false);
        }
        let mut options = Self::options(url);
        // `-c role=…` in the startup packet: every pooled connection starts as the role.
        options.map_sqlx_postgres_opts(|o| o.options([("role", APP_ROLE), ("voltledger.platform", "on")]));
        let app = Database::connect(options).await.map_err(|e| StoreError::Database(e.to_string()))?;
        self.maintenance = Some(std::mem::replace(&mut self.db, app));
        Ok(true)
    }

    /// The pool's connections: (in use, idle).
    pub fn pool_use(&self) -> (u32, u32) {
        let (size, idle) = match self.backend() {
            DbBackend::Postgres => {
                let p = self.db.get_postgres_connection_pool();
                (p.size(), p.num_idle() as u32)
            }
            DbBackend::Sqlite => {
                let p = self.db.get_sqlite_connection_pool();
                (p.size(), p.num_idle() as u32)
            }
            _ => (0, 0),
        };
        (size.saturating_sub(idle), idle)
    }

    /// Deliveries to park platforms waiting to go out, every tenant's.
    pub async fn forward_backlog(&self) -> Result<i64> {
        let r = self
            .db
            .query_one_raw(stmt(self.backend(), "SELECT COUNT(*) AS n FROM forward_deliveries WHERE state = 'PENDING'", Args::new()))
            .await?;
        Ok(r.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0))
    }

    /// One round trip to the database (readiness).
    pub async fn ping(&self) -> Result<()> {
        self.db.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    pub async fn migrate(&self) -> Result<()> {
        if self.backend() == DbBackend::Postgres {
            // Replicas starting together migrate one after another: the migrations run on one
            // connection holding an advisory lock; the later ones find nothing pending.
            let mut options = Self::options(&self.url);
            options.max_connections(1).min_connections(1);
            let one = Database::connect(options).await?;
            one.execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).await?;
            let done = tenant_migrations::Migrator::up(&one, None).await;
            let _ = one.execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).await;
            let _ = one.close().await;
            done?;
        } else {
            tenant_migrations::Migrator::up(&self.db, None).await?;
        }
        self.reload_caches().await
    }

    /// The handle every tenant-owned read and write goes through.
    pub fn tenant(&self, tenant: TenantId) -> TenantStore {
        TenantStore { store: self.clone(), tenant, scope: None, actor: None }
    }

    /// Sets the broker login the bridge itself uses (never a device credential).
    pub fn set_bridge_login(&self, username: &str, secret: &str) {
        if let Ok(mut b) = self.bridge_login.write() {
            *b = Some((username.to_string(), hash_secret(secret)));
        }
    }

    /// Device (or bridge) authentication for the broker: the client id must equal the
    /// username (bridge sessions use `{username}-{n}`), and the secret must match.
    pub fn check_device(&self, client_id: &str, username: &str, password: &str) -> bool {
        let hashed = hash_secret(password);
        let ok = if let Ok(b) = self.bridge_login.read()
            && let Some((user, hash)) = b.as_ref()
            && user == username
        {
            client_id.starts_with(user.as_str()) && *hash == hashed
        } else {
            client_id == username && self.caches.read().map(|c| c.credentials.get(username) == Some(&hashed)).unwrap_or(false)
        };
        if ok && let Ok(mut logins) = self.broker_logins.write() {
            logins.insert(client_id.to_string(), (username.to_string(), hashed));
        }
        ok
    }

    /// Topic rights on the embedded broker, for every packet of a connected client: the
    /// bridge (its login still the configured one) may do anything; a device may publish
    /// only on `vl/up/{username}` and subscribe only to `vl/down/{username}` — no wildcard,
    /// no `$share`, no other device's topic — and only while the secret it connected with is
    /// still its active login (revoked, rotated or its tenant suspended: the next packet
    /// closes the connection).
    pub fn authorize_device(&self, client_id: &str, access: mqtt_bridge::port::Access<'_>) -> bool {
        use mqtt_bridge::port::Access;
        // Asked for every packet: read under the locks, nothing copied.
        let Ok(logins) = self.broker_logins.read() else { return false };
        let Some((username, hashed)) = logins.get(client_id) else { return false };
        if let Ok(b) = self.bridge_login.read()
            && let Some((user, hash)) = b.as_ref()
            && user == username
        {
            return hash == hashed;
        }
        let valid = client_id == username && self.caches.read().map(|c| c.credentials.get(username) == Some(hashed)).unwrap_or(false);
        valid
            && match access {
                Access::Publish(topic) => topic.strip_prefix(mqtt_bridge::uplink::UP_PREFIX) == Some(username.as_str()),
                Access::Subscribe(filter) => filter.strip_prefix(mqtt_bridge::uplink::DOWN_PREFIX) == Some(username.as_str()),
                Access::PublishRetained(_) => false,
                Access::Stay => true,
            }
    }

    /// Rebuilds the credential and routing caches from the database. A device whose
    /// refresh began to read after this reload did keeps its refreshed entries: the
    /// reload's snapshot may predate that device's change. (Starting over instead never
    /// finished while a fleet was being registered: every registration refreshes a device,
    /// and each start over read the whole fleet again.)
    ///
    /// The reload first reads without building, and keeps the cache when the database reads
    /// as it did ([`Caches::unchanged`]): rebuilding 100,000 devices' entries every 5 s held
    /// two copies at once and kept an idle server's heap churning (docs/PERFORMANCE.md §16).
    pub async fn reload_caches(&self) -> Result<()> {
        use std::sync::atomic::Ordering::SeqCst;
        let _one = self.reload.lock().await;
        let settled = self.caches.read().map(|c| c.loaded_at > 0 && !c.changing).unwrap_or(false);
        if settled {
            let began = self.reads.fetch_add(1, SeqCst) + 1;
            let (_, digest) = self.load_caches(None, false).await?;
            if let Ok(mut c) = self.caches.write()
                && c.unchanged(digest, began)
            {
                c.loaded_at = began;
                return Ok(());
            }
        }
        // The rebuild reads (again); refreshes that began before this read are older than it.
        let began = self.reads.fetch_add(1, SeqCst) + 1;
        let (mut fresh, digest) = self.load_caches(None, true).await?;
        fresh.digest = digest;
        if let Ok(mut c) = self.caches.write() {
            // The first load has nothing to compare with: it is not a change (a second build
            // at start-up held two copies of the fleet's entries at once).
            fresh.changing = c.loaded_at > 0 && c.digest != digest;
            fresh.keep_refreshed(&c, began);
            *c = fresh;
        }
        Ok(())
    }

    /// Whether a tenant may use the platform (not suspended), as of the last cache reload.
    pub fn tenant_active(&self, tenant: &TenantId) -> bool {
        self.caches.read().map(|c| !c.inactive.contains(tenant.as_str())).unwrap_or(false)
    }

    /// Refreshes one device's login and routes (after a registration), leaving the rest.
    pub(crate) async fn refresh_device(&self, username: &str) -> Result<()> {
        let began = self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let (fresh, _) = self.load_caches(Some(username), true).await?;
        if let Ok(mut c) = self.caches.write() {
            c.apply_refresh(&fresh, username, began);
        }
        Ok(())
    }

    /// Reads the caches' rows (of one device, or all) and their digest; builds the caches
    /// only when `build`.
    async fn load_caches(&self, username: Option<&str>, build: bool) -> Result<(Caches, CacheDigest)> {
        let b = self.backend();
        let only = if username.is_some() { " AND c.username = $1" } else { "" };
        let only_dm = if username.is_some() { " AND dm.username = $1" } else { "" };
        let args = || match username {
            Some(u) => Args::new().s(u),
            None => Args::new(),
        };
        let creds_sql = format!(
            "SELECT c.username, c.secret_hash FROM device_credentials c JOIN tenants t ON t.id = c.tenant_id
             WHERE c.revoked_at IS NULL AND t.status = 'ACTIVE'{only}"
        );
        let routes_sql = format!(
            "SELECT dm.username, dm.tenant_id, dm.meter_id AS id, dm.address, dm.gateway_id, t.time_zone
             FROM {devices} JOIN tenants t ON t.id = dm.tenant_id
             WHERE dm.revoked_at IS NULL AND dm.retired_at IS NULL AND t.status = 'ACTIVE'{only_dm}",
            devices = devices::DEVICE_METERS
        );
        use futures::TryStreamExt as _;
        use sea_orm::StreamTrait as _;
        // Rows are read as a stream, one at a time: read whole, a reload of 100,000 devices
        // held every row of each query in memory at once, every 5 s.
        let mut caches = Caches::default();
        let mut digest = CacheDigest::default();
        if username.is_none() {
            let sql = "SELECT id FROM tenants WHERE status <> 'ACTIVE'";
            for r in self.db.query_all_raw(stmt(b, sql, Args::new())).await? {
                let id: String = r.try_get("", "id")?;
                digest.add(&["inactive", &id]);
                if build {
                    caches.inactive.insert(id);
                }
            }
        }
        let mut creds = self.db.stream_raw(stmt(b, &creds_sql, args())).await?;
        while let Some(r) = creds.try_next().await? {
            let (username, hash): (String, String) = (r.try_get("", "username")?, r.try_get("", "secret_hash")?);
            digest.add(&["credential", &username, &hash]);
            if build {
                caches.credentials.insert(username, hash);
            }
        }
        drop(creds);
        let mut routes = self.db.stream_raw(stmt(b, &routes_sql, args())).await?;
        while let Some(r) = routes.try_next().await? {
            let address: String = r.try_get("", "address")?;
            let tz: String = r.try_get("", "time_zone")?;
            let gateway: Option<String> = r.try_get("", "gateway_id")?;
            let (username, tenant, meter): (String, String, String) =
                (r.try_get("", "username")?, r.try_get("", "tenant_id")?, r.try_get("", "id")?);
            let through = gateway.as_deref().map_or_else(|| "-".to_string(), |g| format!("+{g}"));
            digest.add(&["route", &username, &tenant, &meter, &address, &through, &tz]);
            if !build {
                continue;
            }
            let Some(n) = dlt645::Address::parse(&address).ok().and_then(|a| a.as_u64()) else { continue };
            let route = Route {
                tenant: TenantId::parse(&tenant).ok_or(StoreError::NotFound)?,
                meter: MeterId::parse(&meter).ok_or(StoreError::NotFound)?,
                gateway: gateway.as_deref().and_then(GatewayId::parse),
                tz: tz.parse().unwrap_or(chrono_tz::Asia::Shanghai),
            };
            caches.downlinks.insert((route.tenant.as_str().to_string(), route.meter.as_str().to_string()), (username.clone(), n));
            caches.routes.entry(username).or_default().insert(n, route);
        }
        drop(routes);
        // Vendor JSON devices: the map of the meter's profile, by the device it publishes as.
        let vendor_sql = format!(
            "SELECT dm.username, dm.address, p.json_map FROM {devices} JOIN tenants t ON t.id = dm.tenant_id
             JOIN meters m ON m.tenant_id = dm.tenant_id AND m.id = dm.meter_id
             JOIN device_profiles p ON p.tenant_id = m.tenant_id AND p.id = m.profile_id AND p.retired_at IS NULL
             WHERE p.scheme = 'VENDOR-JSON' AND dm.login_gateway_id IS NULL AND dm.revoked_at IS NULL AND dm.retired_at IS NULL
               AND t.status = 'ACTIVE'{only_dm}",
            devices = devices::DEVICE_METERS
        );
        for r in self.db.query_all_raw(stmt(b, &vendor_sql, args())).await? {
            let (username, address, json): (String, String, String) =
                (r.try_get("", "username")?, r.try_get("", "address")?, r.try_get("", "json_map")?);
            digest.add(&["vendor", &username, &address, &json]);
            if !build {
                continue;
            }
            let Some(n) = dlt645::Address::parse(&address).ok().and_then(|a| a.as_u64()) else { continue };
            match serde_json::from_str::<domain::vendor_json::JsonMap>(&json) {
                Ok(map) => {
                    caches.vendor.insert(username, (Arc::new(map), n));
                }
                Err(e) => tracing::warn!(error = %e, "a stored JSON map that does not parse"),
            }
        }
        Ok((caches, digest))
    }
}

impl PlatformStore {
    /// Refreshes the planner's statistics (PostgreSQL `ANALYZE`, SQLite `ANALYZE`), e.g. after
    /// a bulk load.
    pub async fn analyze(&self) -> Result<()> {
        self.maintenance.as_ref().unwrap_or(&self.db).execute_unprepared("ANALYZE").await?;
        Ok(())
    }

    /// The database role statements run as (`voltledger_app` behind the wall on PostgreSQL).
    pub async fn database_role(&self) -> Result<String> {
        let sql = if self.backend() == DbBackend::Postgres { "SELECT current_user::text AS r" } else { "SELECT 'sqlite' AS r" };
        let row = self.db.query_one_raw(stmt(self.backend(), sql, Args::new())).await?.ok_or(StoreError::NotFound)?;
        Ok(row.try_get("", "r")?)
    }

    /// Platform operation: creates a tenant.
    pub async fn create_tenant(&self, name: &str, slug: &str, time_zone: &str) -> Result<TenantId> {
        time_zone.parse::<Tz>().map_err(|_| StoreError::Conflict(format!("unknown time zone {time_zone}")))?;
        let id = TenantId::from_uuid(uuid::Uuid::new_v4());
        let txn = begin_write(&self.db).await?;
        let sql = "INSERT INTO tenants (id, name, slug, time_zone, created_at) VALUES ($1, $2, $3, $4, $5)";
        let args = Args::new().s(id.as_str()).s(name).s(slug).s(time_zone).t(Utc::now());
        txn.execute_raw(stmt(self.backend(), sql, args)).await?;
        for w in domain::control::default_friendly_windows() {
            let sql = "INSERT INTO friendly_windows (tenant_id, id, name, weekdays, on_date, start_minute, end_minute) VALUES ($1, $2, $3, $4, NULL, $5, $6)";
            let args = Args::new()
                .s(id.as_str())
                .s(domain::ids::WindowId::new_ordered().as_str())
                .s(&w.name)
                .i(i64::from(w.weekdays))
                .i(i64::from(w.start_minute))
                .i(i64::from(w.end_minute));
            txn.execute_raw(stmt(self.backend(), sql, args)).await?;
        }
        txn.commit().await?;
        Ok(id)
    }

    pub async fn tenant_by_slug(&self, slug: &str) -> Result<Option<TenantRow>> {
        let sql = "SELECT id, name, slug, time_zone, reading_interval_s, lost_after_intervals, status FROM tenants WHERE slug = $1";
        let row = self.db.query_one_raw(stmt(self.backend(), sql, Args::new().s(slug))).await?;
        row.map(|r| tenant_row(&r)).transpose()
    }

    pub async fn tenants(&self) -> Result<Vec<TenantRow>> {
        let sql = "SELECT id, name, slug, time_zone, reading_interval_s, lost_after_intervals, status FROM tenants ORDER BY slug";
        let rows = self.db.query_all_raw(stmt(self.backend(), sql, Args::new())).await?;
        rows.iter().map(tenant_row).collect()
    }

    /// Platform operation: suspends (`SUSPENDED`) or reactivates (`ACTIVE`) a tenant. While
    /// suspended its tokens are refused (`FORBIDDEN`), its devices cannot log in to the
    /// broker and their frames are refused; nothing is deleted.
    pub async fn set_tenant_status(&self, slug: &str, status: &str) -> Result<TenantRow> {
        if status != "ACTIVE" && status != "SUSPENDED" {
            return Err(StoreError::Conflict(format!("unknown tenant status {status}")));
        }
        let sql = "UPDATE tenants SET status = $2 WHERE slug = $1";
        let done = self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(slug).s(status))).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.reload_caches().await?;
        self.platform().tenant_by_slug(slug).await?.ok_or(StoreError::NotFound)
    }

    /// Platform operation: Mosquitto password-file lines (`username:$7$…`) of every active
    /// device login, plus the bridge's own when its secret is given.
    pub async fn mosquitto_passwords(&self, bridge_secret: Option<&str>) -> Result<Vec<String>> {
        let sql = "SELECT c.username, c.broker_hash FROM device_credentials c JOIN tenants t ON t.id = c.tenant_id
                   WHERE c.revoked_at IS NULL AND t.status = 'ACTIVE' AND c.broker_hash <> '' ORDER BY c.username";
        let rows = self.db.query_all_raw(stmt(self.backend(), sql, Args::new())).await?;
        let mut lines = Vec::with_capacity(rows.len() + 1);
        if let Some(secret) = bridge_secret {
            lines.push(format!("{}:{}", crate::BRIDGE_USER, mosquitto_hash(secret)));
        }
        for r in rows {
            lines.push(format!("{}:{}", r.try_get::<String>("", "username")?, r.try_get::<String>("", "broker_hash")?));
        }
        Ok(lines)
    }

    /// Runs the freezes that are due for every active tenant.
    pub async fn freeze_due(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut n = 0;
        for t in self.platform().tenants().await?.into_iter().filter(|t| t.status == "ACTIVE") {
            n += self.tenant(t.id).freeze_due(now).await?;
        }
        Ok(n)
    }

    /// Charges every active tenant's prepaid accounts their monthly fees for the period that
    /// ended last (idempotent; see [`TenantStore::charge_monthly_fees`]).
    pub async fn charge_monthly_fees(&self, now: DateTime<Utc>) -> Result<usize> {
        let mut n = 0;
        for t in self.platform().tenants().await?.into_iter().filter(|t| t.status == "ACTIVE") {
            // One tenant's trouble (a broken stored tariff) does not hold up the others.
            match self.tenant(t.id.clone()).charge_monthly_fees(now).await {
                Ok(k) => n += k,
                Err(e) => tracing::warn!(tenant = %t.slug, error = %e, "monthly fees failed for a tenant"),
            }
        }
        Ok(n)
    }

    /// Marks meters and gateways lost when silent for longer than their tenant allows (F5).
    pub async fn sweep_link_state(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut changed = 0;
        for t in self.platform().tenants().await? {
            let cutoff = now - chrono::Duration::seconds(t.reading_interval_s.max(1) * t.lost_after_intervals.max(1));
            for (table, key) in [("meter_live", "meter_id"), ("gateways", "id")] {
                // Found by a read, then marked by key: the scan covers the tenant's fleet, and
                // an UPDATE scanning it would hold SQLite's one writer all that time. The
                // update checks again, so a device heard from meanwhile stays online.
                let silent =
                    format!("SELECT {key} AS id FROM {table} WHERE tenant_id = $1 AND link_state = 'ONLINE' AND last_seen_at < $2");
                let rows = self.db.query_all_raw(stmt(self.backend(), &silent, Args::new().s(t.id.as_str()).t(cutoff))).await?;
                let ids: Vec<String> = rows.iter().map(|r| r.try_get("", "id")).collect::<std::result::Result<_, _>>()?;
                for chunk in ids.chunks(500) {
                    let mut args = Args::new().s(t.id.as_str()).t(cutoff);
                    let list: Vec<String> = chunk.iter().map(|id| format!("${}", args.push(id.clone().into()))).collect();
                    let sql = format!(
                        "UPDATE {table} SET link_state = 'LOST' WHERE tenant_id = $1 AND {key} IN ({}) AND link_state = 'ONLINE' AND last_seen_at < $2",
                        list.join(", ")
                    );
                    changed += self.db.execute_raw(stmt(self.backend(), &sql, args)).await?.rows_affected();
                }
            }
        }
        Ok(changed)
    }
}

fn tenant_row(r: &sea_orm::QueryResult) -> Result<TenantRow> {
    Ok(TenantRow {
        id: TenantId::parse(&r.try_get::<String>("", "id")?).ok_or(StoreError::NotFound)?,
        name: r.try_get("", "name")?,
        slug: r.try_get("", "slug")?,
        time_zone: r.try_get("", "time_zone")?,
        reading_interval_s: i64::from(r.try_get::<i32>("", "reading_interval_s")?),
        lost_after_intervals: i64::from(r.try_get::<i32>("", "lost_after_intervals")?),
        status: r.try_get("", "status")?,
    })
}

/// The tenant-scoped handle. It cannot be built without a tenant, and every statement it
/// runs binds that tenant as `$1`.
#[derive(Clone)]
pub struct TenantStore {
    store: Store,
    tenant: TenantId,
    /// The properties a scoped operator may see; `None` = all of the tenant's.
    scope: Option<Arc<Vec<String>>>,
    /// Who acts through this handle (an operator's username), written on ledger entries;
    /// empty for the platform's own work (settlement, payment notifications).
    actor: Option<Arc<str>>,
}

impl TenantStore {
    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant
    }

    /// The same tenant, with lists limited to these properties.
    pub fn scoped(mut self, properties: Option<Vec<String>>) -> Self {
        self.scope = properties.map(Arc::new);
        self
    }

    /// The same tenant, acting for this operator.
    pub fn acting_as(mut self, actor: &str) -> Self {
        self.actor = Some(Arc::from(actor));
        self
    }

    pub fn actor(&self) -> &str {
        self.actor.as_deref().unwrap_or("")
    }

    pub fn scope(&self) -> Option<&[String]> {
        self.scope.as_deref().map(Vec::as_slice)
    }

    fn backend(&self) -> DbBackend {
        self.store.backend()
    }

    /// The tenant's connection: on PostgreSQL each statement runs in a transaction naming
    /// the tenant, so row-level security holds it to the tenant's rows.
    pub(crate) fn db(&self) -> TenantDb<'_> {
        TenantDb { db: &self.store.db, tenant: &self.tenant }
    }

    /// Arguments that already hold the tenant as `$1`.
    fn args(&self) -> Args {
        Args::new().s(self.tenant.as_str())
    }

    pub async fn tenant_row(&self) -> Result<TenantRow> {
        let sql = "SELECT id, name, slug, time_zone, reading_interval_s, lost_after_intervals, status FROM tenants WHERE id = $1";
        let row = self.db().query_one_raw(stmt(self.backend(), sql, self.args())).await?.ok_or(StoreError::NotFound)?;
        tenant_row(&row)
    }
}

#[cfg(test)]
mod cache_tests {
    #![allow(clippy::unwrap_used)]
    use super::{CacheDigest, Caches, Route};
    use domain::ids::{MeterId, TenantId};

    fn with_device(username: &str, secret: &str, address: u64) -> Caches {
        let mut c = Caches::default();
        let tenant = TenantId::parse("00000000-0000-7000-8000-000000000001").unwrap();
        let meter = MeterId::parse("00000000-0000-7000-8000-0000000000aa").unwrap();
        c.credentials.insert(username.into(), secret.into());
        c.downlinks.insert((tenant.as_str().into(), meter.as_str().into()), (username.into(), address));
        c.routes.entry(username.into()).or_default().insert(address, Route { tenant, meter, gateway: None, tz: chrono_tz::Asia::Shanghai });
        c
    }

    #[test]
    fn a_reload_keeps_the_devices_refreshed_while_it_read() {
        // The reload began to read at 3, before `new-device` was registered and before
        // `rotated`'s secret changed; both refreshes began to read later (5 and 6).
        let mut snapshot = with_device("rotated", "old-hash", 2);
        snapshot.credentials.insert("untouched".into(), "h".into());
        let mut current = with_device("new-device", "hash", 1);
        current.credentials.insert("rotated".into(), "new-hash".into());
        current.credentials.insert("earlier".into(), "stale-in-log".into());
        current.refreshed = vec![(1, "earlier".into()), (5, "new-device".into()), (6, "rotated".into())];
        snapshot.keep_refreshed(&current, 3);
        assert_eq!(snapshot.credentials.get("new-device").map(String::as_str), Some("hash"));
        assert_eq!(snapshot.routes.get("new-device").map(|r| r.len()), Some(1));
        assert_eq!(snapshot.downlinks.values().filter(|(u, _)| u == "new-device").count(), 1);
        assert_eq!(snapshot.credentials.get("rotated").map(String::as_str), Some("new-hash"));
        // `rotated`'s old route is gone with its old entries (the current cache has none).
        assert!(!snapshot.routes.contains_key("rotated"));
        assert_eq!(snapshot.downlinks.values().filter(|(u, _)| u == "rotated").count(), 0);
        assert_eq!(snapshot.credentials.get("untouched").map(String::as_str), Some("h"));
        // Refreshed before the reload began: the snapshot already has it (or its removal).
        assert_eq!(snapshot.credentials.get("earlier"), None);
        // The kept refreshes stay recorded: the cache holds more than its snapshot read.
        assert_eq!(snapshot.refreshed, vec![(5, "new-device".to_string()), (6, "rotated".to_string())]);
        assert_eq!(snapshot.loaded_at, 3);
    }

    fn digest_of(rows: &[&[&str]]) -> CacheDigest {
        let mut d = CacheDigest::default();
        for r in rows {
            d.add(r);
        }
        d
    }

    #[test]
    fn the_digest_is_of_the_rows_not_their_order() {
        let a: &[&str] = &["credential", "dev-1", "h1"];
        let b: &[&str] = &["credential", "dev-2", "h2"];
        assert_eq!(digest_of(&[a, b]), digest_of(&[b, a]));
        assert_ne!(digest_of(&[a, b]), digest_of(&[a]));
        // A changed secret, and fields that only move between columns, read as changes.
        assert_ne!(digest_of(&[a]), digest_of(&[&["credential", "dev-1", "h9"]]));
        assert_ne!(digest_of(&[&["credential", "ab", "c"]]), digest_of(&[&["credential", "a", "bc"]]));
    }

    #[test]
    fn a_reload_keeps_the_cache_only_when_nothing_changed_and_nothing_older_was_refreshed() {
        let read = digest_of(&[&["credential", "dev-1", "h1"]]);
        let mut cache = with_device("dev-1", "h1", 1);
        // Never loaded: always built.
        assert!(!cache.unchanged(read, 4));
        cache.loaded_at = 3;
        cache.digest = read;
        assert!(cache.unchanged(read, 4));
        assert!(!cache.unchanged(digest_of(&[&["credential", "dev-1", "h2"]]), 4));
        // The attacker's case: `gw` registered (its refresh, begun at 4, applied), then
        // revoked. The database reads as the snapshot did, yet the cache holds the login:
        // the reload begun at 5 must rebuild.
        assert!(cache.apply_refresh(&with_device("gw", "hash", 7), "gw", 4));
        assert!(!cache.unchanged(read, 5));
        // A refresh that began after the reload's read is newer than it, and may stay.
        assert!(cache.unchanged(read, 3));
    }

    #[test]
    fn a_refresh_read_before_a_revocations_reload_does_not_bring_the_login_back() {
        // A registration behind gateway `gw` refreshes it (its read begins at 2, the login
        // still active); the login is revoked, and the revocation's reload begins at 3 and
        // reads no `gw`; the refresh is applied while the reload reads.
        let mut current = Caches::default();
        assert!(current.apply_refresh(&with_device("gw", "hash", 7), "gw", 2));
        let mut snapshot = Caches::default();
        snapshot.keep_refreshed(&current, 3);
        assert_eq!(snapshot.credentials.get("gw"), None, "the revoked login stays out");
        assert!(!snapshot.routes.contains_key("gw"));
        // Applied only after the reload swapped in its snapshot: refused, the snapshot is newer.
        assert!(!snapshot.apply_refresh(&with_device("gw", "hash", 7), "gw", 2));
        assert_eq!(snapshot.credentials.get("gw"), None);
        // A refresh that began after the reload applies.
        assert!(snapshot.apply_refresh(&with_device("gw2", "hash", 8), "gw2", 4));
        assert_eq!(snapshot.credentials.get("gw2").map(String::as_str), Some("hash"));
    }
}
