//! Forwarding to park platforms (issue 19): targets (a park platform's HTTPS endpoint, its
//! HMAC secret KEK-wrapped, the events it takes and the properties it may see) and a durable
//! outbox of deliveries. A delivery row is written in the transaction that makes the event
//! (a reading stored, money posted, a bill issued) — one per target, keyed by (target, kind,
//! ref) so a repeated event is one delivery — and names its source; the payload is read
//! from the source when it is sent. The forwarder (connectors::forward) sends them in order,
//! retries with backoff for a day, then marks them dead.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, QueryResult};
use serde_json::{Value, json};

use super::registry::{int, opt_int};
use super::sql::{Args, stmt};
use super::{Result, Store, StoreError, TenantStore};
use domain::ids::*;
use domain::metering::from_scaled;

/// What a park platform may receive.
pub const FORWARD_KINDS: [&str; 5] = ["READING", "RECHARGE", "BILL", "DAILY_ENERGY", "ALARM"];

/// A park platform's endpoint (转发目标).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardTarget {
    pub id: String,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    /// The properties whose events it receives; empty = every property.
    pub properties: Vec<String>,
    /// ACTIVE, PAUSED (deliveries wait) or RETIRED.
    pub state: String,
    pub created_at: DateTime<Utc>,
    /// WEBHOOK (an HTTPS endpoint) or MQTT (the park's own broker; `url` is
    /// `mqtts://host:port/topic-prefix`).
    pub transport: String,
    /// The broker login of an MQTT target (its password is kept wrapped).
    pub username: String,
}

/// How a new target is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardTransport {
    Webhook,
    Mqtt { username: String, password: String },
}

/// One event for one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub target_id: String,
    pub kind: String,
    /// The event's key within its kind (`meter@millis`, an entry id, a bill id).
    pub reference: String,
    /// What order is kept per: the meter, or the account.
    pub subject: String,
    pub at: DateTime<Utc>,
    /// PENDING, DELIVERED or DEAD.
    pub state: String,
    pub attempts: i64,
    pub next_at: DateTime<Utc>,
    pub first_failed_at: Option<DateTime<Utc>>,
    pub last_error: String,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// One request to a target and how it went (the delivery log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardAttempt {
    pub id: String,
    pub target_id: String,
    pub at: DateTime<Utc>,
    pub events: i64,
    /// The HTTP status; 0 when no answer came.
    pub status: i64,
    pub error: String,
    pub duration_ms: i64,
}

const TARGET_COLS: &str = "id, name, url, events, properties, state, created_at, transport, username";
const DELIVERY_COLS: &str = "target_id, kind, ref, subject, at, state, attempts, next_at, first_failed_at, last_error, delivered_at";

fn list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn target_row(r: &QueryResult) -> Result<ForwardTarget> {
    Ok(ForwardTarget {
        id: r.try_get("", "id")?,
        name: r.try_get("", "name")?,
        url: r.try_get("", "url")?,
        events: list(&r.try_get::<String>("", "events")?),
        properties: list(&r.try_get::<String>("", "properties")?),
        state: r.try_get("", "state")?,
        created_at: r.try_get("", "created_at")?,
        transport: r.try_get("", "transport")?,
        username: r.try_get("", "username")?,
    })
}

fn delivery_row(r: &QueryResult) -> Result<Delivery> {
    Ok(Delivery {
        target_id: r.try_get("", "target_id")?,
        kind: r.try_get("", "kind")?,
        reference: r.try_get("", "ref")?,
        subject: r.try_get("", "subject")?,
        at: r.try_get("", "at")?,
        state: r.try_get("", "state")?,
        attempts: int(r, "attempts")?,
        next_at: r.try_get("", "next_at")?,
        first_failed_at: r.try_get("", "first_failed_at")?,
        last_error: r.try_get("", "last_error")?,
        delivered_at: r.try_get("", "delivered_at")?,
    })
}

/// An event about to be enqueued: (tenant, kind, ref, subject, at, the properties it
/// concerns — a target limited to some properties takes it when one of them is theirs).
pub(crate) struct Event {
    pub tenant: String,
    pub kind: &'static str,
    pub reference: String,
    pub subject: String,
    pub at: DateTime<Utc>,
    pub properties: Vec<String>,
}

/// Writes the deliveries of `events` for every live target of their tenants that takes
/// their kind, inside `db` (the event's own transaction). A repeated event adds nothing.
pub(crate) async fn enqueue<C: ConnectionTrait>(db: &C, events: &[Event], now: DateTime<Utc>) -> Result<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    let b = db.get_database_backend();
    let tenants: HashSet<&str> = events.iter().map(|e| e.tenant.as_str()).collect();
    let mut args = Args::new();
    let list_sql = super::scope::in_list(&mut args, &tenants.iter().map(|t| t.to_string()).collect::<Vec<_>>());
    let sql = format!("SELECT tenant_id, {TARGET_COLS} FROM forward_targets WHERE state <> 'RETIRED' AND tenant_id IN {list_sql}");
    let rows = db.query_all_raw(stmt(b, &sql, args)).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut targets: HashMap<String, Vec<ForwardTarget>> = HashMap::new();
    for r in &rows {
        targets.entry(r.try_get("", "tenant_id")?).or_default().push(target_row(r)?);
    }
    let mut batch: Vec<(&Event, &ForwardTarget)> = Vec::new();
    for e in events {
        for t in targets.get(&e.tenant).into_iter().flatten() {
            let takes = t.events.iter().any(|k| k == e.kind);
            let sees = t.properties.is_empty() || e.properties.iter().any(|p| t.properties.contains(p));
            if takes && sees {
                batch.push((e, t));
            }
        }
    }
    insert_deliveries(db, &batch, now).await
}

/// The properties of some meters (for targets limited to properties).
pub(crate) async fn meter_properties<C: ConnectionTrait>(db: &C, tenant: &str, meters: &[String]) -> Result<HashMap<String, String>> {
    let mut args = Args::new().s(tenant);
    let list = super::scope::in_list(&mut args, meters);
    let sql = format!("SELECT id, property_id FROM meters WHERE tenant_id = $1 AND id IN {list}");
    let rows = db.query_all_raw(stmt(db.get_database_backend(), &sql, args)).await?;
    rows.iter().map(|r| Ok((r.try_get("", "id")?, r.try_get("", "property_id")?))).collect()
}

/// Whether any tenant among `tenants` has a live target (the hot path's cheap check).
pub(crate) async fn any_target<C: ConnectionTrait>(db: &C, tenants: &[String]) -> Result<bool> {
    let mut args = Args::new();
    let list = super::scope::in_list(&mut args, tenants);
    let sql = format!("SELECT COUNT(*) AS n FROM forward_targets WHERE state <> 'RETIRED' AND tenant_id IN {list}");
    Ok(match db.query_one_raw(stmt(db.get_database_backend(), &sql, args)).await? {
        Some(r) => int(&r, "n")? > 0,
        None => false,
    })
}

/// The reading reference: the meter and the read time in milliseconds.
pub(crate) fn reading_ref(meter: &str, at: DateTime<Utc>) -> String {
    format!("{meter}@{}", at.timestamp_millis())
}

impl Store {
    /// Targets with deliveries waiting, across tenants: (tenant, target id), the forwarder's
    /// work list. Paused and retired targets wait.
    pub async fn forward_work(&self) -> Result<Vec<(TenantId, String)>> {
        let sql = "SELECT DISTINCT d.tenant_id, d.target_id FROM forward_deliveries d
                   JOIN forward_targets t ON t.tenant_id = d.tenant_id AND t.id = d.target_id AND t.state = 'ACTIVE'
                   JOIN tenants n ON n.id = d.tenant_id AND n.status = 'ACTIVE'
                   WHERE d.state = 'PENDING'";
        let rows = self.db.query_all_raw(stmt(self.backend(), sql, Args::new())).await?;
        rows.iter()
            .map(|r| {
                let t: String = r.try_get("", "tenant_id")?;
                Ok((TenantId::parse(&t).ok_or_else(|| StoreError::Database("bad tenant id".into()))?, r.try_get("", "target_id")?))
            })
            .collect()
    }
}

impl TenantStore {
    pub async fn create_forward_target(
        &self,
        name: &str,
        url: &str,
        events: &[String],
        properties: &[String],
        secret: &str,
        transport: &ForwardTransport,
    ) -> Result<ForwardTarget> {
        for p in properties {
            self.require("properties", p).await.map_err(|_| domain::Invalid::new("propertyIds", "no such property"))?;
        }
        let id = uuid::Uuid::new_v4().to_string();
        let kek = self.store.kek()?;
        let wrapped = kek.wrap(&format!("{}/forward/{id}", self.tenant), secret.as_bytes())?;
        let (kind, username, wrapped_password) = match transport {
            ForwardTransport::Webhook => ("WEBHOOK", String::new(), String::new()),
            ForwardTransport::Mqtt { username, password } => {
                ("MQTT", username.clone(), kek.wrap(&format!("{}/forward-mqtt/{id}", self.tenant), password.as_bytes())?)
            }
        };
        let sql = "INSERT INTO forward_targets (tenant_id, id, name, url, wrapped_secret, events, properties, state, created_at, transport, username, wrapped_password)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, 'ACTIVE', $8, $9, $10, $11)";
        let args = self
            .args()
            .s(&id)
            .s(name)
            .s(url)
            .s(wrapped)
            .s(events.join(","))
            .s(properties.join(","))
            .t(Utc::now())
            .s(kind)
            .s(username)
            .s(wrapped_password);
        self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        self.forward_target(&id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn forward_target(&self, id: &str) -> Result<Option<ForwardTarget>> {
        let sql = format!("SELECT {TARGET_COLS} FROM forward_targets WHERE tenant_id = $1 AND id = $2");
        let row = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id))).await?;
        row.map(|r| target_row(&r)).transpose()
    }

    pub async fn forward_targets(&self) -> Result<Vec<ForwardTarget>> {
        let sql = format!("SELECT {TARGET_COLS} FROM forward_targets WHERE tenant_id = $1 AND state <> 'RETIRED' ORDER BY name, id");
        self.db().query_all_raw(stmt(self.backend(), &sql, self.args())).await?.iter().map(target_row).collect()
    }

    /// The target's HMAC secret, opened (for signing only).
    pub async fn forward_secret(&self, id: &str) -> Result<String> {
        let sql = "SELECT wrapped_secret FROM forward_targets WHERE tenant_id = $1 AND id = $2";
        let r = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(id))).await?.ok_or(StoreError::NotFound)?;
        let secret = self.store.kek()?.unwrap(&format!("{}/forward/{id}", self.tenant), &r.try_get::<String>("", "wrapped_secret")?)?;
        String::from_utf8(secret).map_err(|_| StoreError::Database("secret is not text".into()))
    }

    /// An MQTT target's broker password, opened (for connecting only); empty when it has none.
    pub async fn forward_mqtt_password(&self, id: &str) -> Result<String> {
        let sql = "SELECT wrapped_password FROM forward_targets WHERE tenant_id = $1 AND id = $2";
        let r = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(id))).await?.ok_or(StoreError::NotFound)?;
        let wrapped: String = r.try_get("", "wrapped_password")?;
        if wrapped.is_empty() {
            return Ok(String::new());
        }
        let password = self.store.kek()?.unwrap(&format!("{}/forward-mqtt/{id}", self.tenant), &wrapped)?;
        String::from_utf8(password).map_err(|_| StoreError::Database("password is not text".into()))
    }

    /// ACTIVE, PAUSED or RETIRED.
    pub async fn set_forward_state(&self, id: &str, state: &str) -> Result<ForwardTarget> {
        let sql = "UPDATE forward_targets SET state = $3 WHERE tenant_id = $1 AND id = $2 AND state <> 'RETIRED'";
        if self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id).s(state))).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.forward_target(id).await?.ok_or(StoreError::NotFound)
    }

    /// Queues again what the target takes from `from` on — delivered and dead ones too —
    /// from the sources themselves (replay). Returns how many deliveries are pending anew.
    pub async fn replay_forward(&self, id: &str, from: DateTime<Utc>) -> Result<usize> {
        let target = self.forward_target(id).await?.ok_or(StoreError::NotFound)?;
        let now = Utc::now();
        let b = self.backend();
        let txn = self.db().begin().await?;
        let mut events = Vec::new();
        let props = |p: Option<String>| p.into_iter().collect::<Vec<_>>();
        if target.events.iter().any(|k| k == "READING") {
            let sql = "SELECT r.meter_id, r.read_at, m.property_id FROM readings r JOIN meters m ON m.tenant_id = r.tenant_id AND m.id = r.meter_id
                       WHERE r.tenant_id = $1 AND r.read_at >= $2 ORDER BY r.read_at";
            for r in txn.query_all_raw(stmt(b, sql, self.args().t(from))).await? {
                let (meter, at): (String, DateTime<Utc>) = (r.try_get("", "meter_id")?, r.try_get("", "read_at")?);
                events.push(Event {
                    tenant: self.tenant.to_string(),
                    kind: "READING",
                    reference: reading_ref(&meter, at),
                    subject: meter,
                    at,
                    properties: props(r.try_get("", "property_id")?),
                });
            }
        }
        if target.events.iter().any(|k| k == "RECHARGE") {
            let sql = "SELECT e.id, e.account_id, e.created_at FROM ledger_entries e WHERE e.tenant_id = $1 AND e.created_at >= $2
                       AND e.kind IN ('RECHARGE_CASH', 'RECHARGE_TRANSFER', 'RECHARGE_WECHAT', 'RECHARGE_ALIPAY')";
            for r in txn.query_all_raw(stmt(b, sql, self.args().t(from))).await? {
                let account: String = r.try_get("", "account_id")?;
                events.push(Event {
                    tenant: self.tenant.to_string(),
                    kind: "RECHARGE",
                    reference: r.try_get("", "id")?,
                    properties: account_properties(&txn, self.tenant.as_str(), &account).await?,
                    subject: account,
                    at: r.try_get("", "created_at")?,
                });
            }
        }
        if target.events.iter().any(|k| k == "BILL") {
            let sql =
                "SELECT id, account_id, issued_at FROM bills WHERE tenant_id = $1 AND issued_at >= $2 AND state IN ('ISSUED', 'PAID')";
            for r in txn.query_all_raw(stmt(b, sql, self.args().t(from))).await? {
                let account: String = r.try_get("", "account_id")?;
                events.push(Event {
                    tenant: self.tenant.to_string(),
                    kind: "BILL",
                    reference: r.try_get("", "id")?,
                    properties: account_properties(&txn, self.tenant.as_str(), &account).await?,
                    subject: account,
                    at: r.try_get("", "issued_at")?,
                });
            }
        }
        if target.events.iter().any(|k| k == "DAILY_ENERGY") {
            let sql = "SELECT f.meter_id, f.frozen_at, m.property_id FROM freezes f JOIN meters m ON m.tenant_id = f.tenant_id AND m.id = f.meter_id
                       WHERE f.tenant_id = $1 AND f.kind = 'DAILY' AND f.frozen_at >= $2 ORDER BY f.frozen_at";
            for r in txn.query_all_raw(stmt(b, sql, self.args().t(from))).await? {
                let (meter, at): (String, DateTime<Utc>) = (r.try_get("", "meter_id")?, r.try_get("", "frozen_at")?);
                events.push(Event {
                    tenant: self.tenant.to_string(),
                    kind: "DAILY_ENERGY",
                    reference: reading_ref(&meter, at),
                    subject: meter,
                    at,
                    properties: props(r.try_get("", "property_id")?),
                });
            }
        }
        if target.events.iter().any(|k| k == "ALARM") {
            let sql = "SELECT id, subject_id, subject_kind, raised_at, cleared_at FROM alarms WHERE tenant_id = $1 AND (raised_at >= $2 OR cleared_at >= $2)";
            for r in txn.query_all_raw(stmt(b, sql, self.args().t(from))).await? {
                let (id, subject, kind): (String, String, String) =
                    (r.try_get("", "id")?, r.try_get("", "subject_id")?, r.try_get("", "subject_kind")?);
                let properties = subject_properties(&txn, self.tenant.as_str(), &kind, &subject).await?;
                let raised: DateTime<Utc> = r.try_get("", "raised_at")?;
                let cleared: Option<DateTime<Utc>> = r.try_get("", "cleared_at")?;
                for (change, at) in [("RAISED", Some(raised)), ("CLEARED", cleared)] {
                    if let Some(at) = at.filter(|a| *a >= from) {
                        events.push(Event {
                            tenant: self.tenant.to_string(),
                            kind: "ALARM",
                            reference: format!("{id}:{change}"),
                            subject: subject.clone(),
                            at,
                            properties: properties.clone(),
                        });
                    }
                }
            }
        }
        // Only this target: enqueue new ones, and set those it had back to pending.
        enqueue_for(&txn, &target, &events, now).await?;
        let sql = "UPDATE forward_deliveries SET state = 'PENDING', attempts = 0, next_at = $3, first_failed_at = NULL, last_error = '', delivered_at = NULL
                   WHERE tenant_id = $1 AND target_id = $2 AND at >= $4";
        let n = txn.execute_raw(stmt(b, sql, self.args().s(id).t(now).t(from))).await?.rows_affected() as usize;
        txn.commit().await?;
        Ok(n)
    }

    /// The target's deliveries, newest first, optionally of one state.
    pub async fn forward_deliveries(&self, target: &str, state: Option<&str>, limit: u64) -> Result<Vec<Delivery>> {
        let mut args = self.args().s(target);
        let cond = match state {
            Some(s) => format!(" AND state = ${}", args.push(s.to_string().into())),
            None => String::new(),
        };
        let sql = format!(
            "SELECT {DELIVERY_COLS} FROM forward_deliveries WHERE tenant_id = $1 AND target_id = $2{cond} ORDER BY at DESC, ref DESC LIMIT {}",
            limit.clamp(1, 1000)
        );
        self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?.iter().map(delivery_row).collect()
    }

    /// Counts by state (PENDING, DELIVERED, DEAD).
    pub async fn forward_counts(&self, target: &str) -> Result<HashMap<String, i64>> {
        let sql = "SELECT state, COUNT(*) AS n FROM forward_deliveries WHERE tenant_id = $1 AND target_id = $2 GROUP BY state";
        let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args().s(target))).await?;
        rows.iter().map(|r| Ok((r.try_get("", "state")?, int(r, "n")?))).collect()
    }

    /// The pending deliveries of a target in delivery order (oldest event first), due or not:
    /// the caller keeps a subject's order by stopping at its first delivery not yet due.
    pub async fn forward_pending(&self, target: &str, limit: u64) -> Result<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLS} FROM forward_deliveries WHERE tenant_id = $1 AND target_id = $2 AND state = 'PENDING'
             ORDER BY at, kind, ref LIMIT {}",
            limit.clamp(1, 5000)
        );
        self.db().query_all_raw(stmt(self.backend(), &sql, self.args().s(target))).await?.iter().map(delivery_row).collect()
    }

    /// What a delivery carries, read from its source now.
    pub async fn forward_payload(&self, d: &Delivery) -> Result<Value> {
        let b = self.backend();
        let data = match d.kind.as_str() {
            "READING" => {
                let cols = super::ingest::VALUE_COLUMNS.join(", ");
                let sql = format!(
                    "SELECT m.address, m.property_id, m.pt_ratio, m.ct_ratio, {cols} FROM readings r
                     JOIN meters m ON m.tenant_id = r.tenant_id AND m.id = r.meter_id
                     WHERE r.tenant_id = $1 AND r.meter_id = $2 AND r.read_at = $3"
                );
                let r = self.db().query_one_raw(stmt(b, &sql, self.args().s(&d.subject).t(d.at))).await?.ok_or(StoreError::NotFound)?;
                let mut values = serde_json::Map::new();
                for c in super::ingest::VALUE_COLUMNS {
                    let (name, scale) = c.rsplit_once("_x").unwrap_or((c, "1"));
                    let digits = scale.len().saturating_sub(1) as u32;
                    if let Some(v) = opt_int(&r, c)? {
                        values.insert(camel(name), json!(from_scaled(v, digits).to_string()));
                    }
                }
                json!({"meterId": d.subject, "address": r.try_get::<String>("", "address")?, "propertyId": r.try_get::<String>("", "property_id")?,
                       "readAt": d.at, "ptRatio": int(&r, "pt_ratio")?, "ctRatio": int(&r, "ct_ratio")?, "values": values})
            }
            "RECHARGE" => {
                let sql = "SELECT e.kind, e.amount_x100, e.created_at, e.receipt_no, e.external_ref, a.number FROM ledger_entries e
                           JOIN accounts a ON a.tenant_id = e.tenant_id AND a.id = e.account_id WHERE e.tenant_id = $1 AND e.id = $2";
                let r = self.db().query_one_raw(stmt(b, sql, self.args().s(&d.reference))).await?.ok_or(StoreError::NotFound)?;
                json!({"entryId": d.reference, "accountId": d.subject, "accountNumber": r.try_get::<String>("", "number")?,
                       "kind": r.try_get::<String>("", "kind")?, "amount": from_scaled(int(&r, "amount_x100")?, 2).to_string(),
                       "at": r.try_get::<DateTime<Utc>>("", "created_at")?, "receiptNo": opt_int(&r, "receipt_no")?})
            }
            "BILL" => {
                let bill = BillId::parse(&d.reference).ok_or(StoreError::NotFound)?;
                let row = self.bill(&bill).await?.ok_or(StoreError::NotFound)?;
                let lines = &row.lines;
                json!({"billId": d.reference, "accountId": row.account_id.to_string(), "period": row.period, "version": row.version,
                       "state": row.state, "total": from_scaled(row.total_x100, 2).to_string(), "issuedAt": row.issued_at,
                       "lines": lines.iter().map(|l| json!({"kind": l.kind, "description": l.description,
                           "amount": from_scaled(l.amount_x100, 2).to_string()})).collect::<Vec<_>>()})
            }
            "DAILY_ENERGY" => {
                // The day that ends at the freeze: its registers then and at the day's start.
                let sql = "SELECT f.frozen_at, f.read_at, f.total_x100, f.t1_x100, f.t2_x100, f.t3_x100, f.t4_x100, m.address, m.property_id, m.pt_ratio, m.ct_ratio
                           FROM freezes f JOIN meters m ON m.tenant_id = f.tenant_id AND m.id = f.meter_id
                           WHERE f.tenant_id = $1 AND f.meter_id = $2 AND f.kind = 'DAILY' AND f.frozen_at <= $3 ORDER BY f.frozen_at DESC LIMIT 2";
                let rows = self.db().query_all_raw(stmt(b, sql, self.args().s(&d.subject).t(d.at))).await?;
                let end =
                    rows.first().filter(|r| r.try_get::<DateTime<Utc>>("", "frozen_at").ok() == Some(d.at)).ok_or(StoreError::NotFound)?;
                let start =
                    rows.get(1).filter(|r| r.try_get::<DateTime<Utc>>("", "frozen_at").ok() == Some(d.at - chrono::Duration::days(1)));
                let ratio = int(end, "pt_ratio")?.saturating_mul(int(end, "ct_ratio")?);
                let register = |r: &QueryResult, c: &str| opt_int(r, c);
                let used = |c: &str| -> Result<Option<String>> {
                    Ok(match (start.map(|s| register(s, c)).transpose()?.flatten(), register(end, c)?) {
                        (Some(a), Some(b)) => Some(from_scaled((b - a).max(0).saturating_mul(ratio), 2).to_string()),
                        _ => None,
                    })
                };
                let reg = |r: Option<&QueryResult>| -> Result<Option<String>> {
                    Ok(match r {
                        Some(r) => register(r, "total_x100")?.map(|v| from_scaled(v, 2).to_string()),
                        None => None,
                    })
                };
                json!({"meterId": d.subject, "address": end.try_get::<String>("", "address")?, "propertyId": end.try_get::<String>("", "property_id")?,
                       "from": d.at - chrono::Duration::days(1), "to": d.at, "ratio": ratio,
                       "startRegister": reg(start)?, "endRegister": reg(Some(end))?,
                       "usage": used("total_x100")?, "sharp": used("t1_x100")?, "peak": used("t2_x100")?, "flat": used("t3_x100")?, "valley": used("t4_x100")?})
            }
            "ALARM" => {
                let (alarm, change) = d.reference.rsplit_once(':').ok_or(StoreError::NotFound)?;
                let sql = "SELECT kind, severity, state, subject_id, subject_kind, detail, raised_at, cleared_at FROM alarms WHERE tenant_id = $1 AND id = $2";
                let r = self.db().query_one_raw(stmt(b, sql, self.args().s(alarm))).await?.ok_or(StoreError::NotFound)?;
                json!({"alarmId": alarm, "change": change, "kind": r.try_get::<String>("", "kind")?, "severity": r.try_get::<String>("", "severity")?,
                       "subjectId": r.try_get::<String>("", "subject_id")?, "subjectKind": r.try_get::<String>("", "subject_kind")?,
                       "detail": r.try_get::<String>("", "detail")?, "raisedAt": r.try_get::<DateTime<Utc>>("", "raised_at")?,
                       "clearedAt": r.try_get::<Option<DateTime<Utc>>>("", "cleared_at")?})
            }
            other => return Err(StoreError::Database(format!("unknown forwarding kind {other}"))),
        };
        Ok(json!({"id": format!("{}:{}", d.kind, d.reference), "kind": d.kind, "at": d.at, "data": data}))
    }

    /// Takes the target for sending until `until` if no other worker holds it: answers
    /// whether this caller got it. A worker that dies holding it loses it when it ends.
    pub async fn lease_forward_target(&self, id: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<bool> {
        let sql =
            "UPDATE forward_targets SET lease_until = $3 WHERE tenant_id = $1 AND id = $2 AND (lease_until IS NULL OR lease_until <= $4)";
        Ok(self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id).t(until).t(now))).await?.rows_affected() == 1)
    }

    /// Gives the target back (held until `until`: only the holder's own lease is cleared).
    pub async fn release_forward_target(&self, id: &str, until: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE forward_targets SET lease_until = NULL WHERE tenant_id = $1 AND id = $2 AND lease_until = $3";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id).t(until))).await?;
        Ok(())
    }

    pub async fn forward_delivered(&self, target: &str, done: &[(String, String)], now: DateTime<Utc>) -> Result<()> {
        for (kind, reference) in done {
            let sql = "UPDATE forward_deliveries SET state = 'DELIVERED', delivered_at = $5, attempts = attempts + 1, last_error = ''
                       WHERE tenant_id = $1 AND target_id = $2 AND kind = $3 AND ref = $4 AND state = 'PENDING'";
            self.db().execute_raw(stmt(self.backend(), sql, self.args().s(target).s(kind).s(reference).t(now))).await?;
        }
        Ok(())
    }

    /// A failed try: the next after `retry_in`, or dead once it has failed for `give_up_after`.
    pub async fn forward_failed(
        &self,
        target: &str,
        failed: &[Delivery],
        error: &str,
        now: DateTime<Utc>,
        give_up_after: chrono::Duration,
    ) -> Result<usize> {
        let mut dead = 0;
        for d in failed {
            let first = d.first_failed_at.unwrap_or(now);
            let attempts = d.attempts + 1;
            let state = if now - first >= give_up_after { "DEAD" } else { "PENDING" };
            dead += usize::from(state == "DEAD");
            let next = now + backoff(attempts);
            let sql = "UPDATE forward_deliveries SET state = $5, attempts = $6, next_at = $7, first_failed_at = $8, last_error = $9
                       WHERE tenant_id = $1 AND target_id = $2 AND kind = $3 AND ref = $4 AND state = 'PENDING'";
            let args = self.args().s(target).s(&d.kind).s(&d.reference).s(state).i(attempts).t(next).t(first).s(error);
            self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        }
        Ok(dead)
    }

    pub async fn record_forward_attempt(&self, a: &ForwardAttempt) -> Result<()> {
        let sql = "INSERT INTO forward_attempts (tenant_id, id, target_id, at, events, status, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let args = self.args().s(&a.id).s(&a.target_id).t(a.at).i(a.events).i(a.status).s(&a.error).i(a.duration_ms);
        self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        Ok(())
    }

    pub async fn forward_attempts(&self, target: &str, limit: u64) -> Result<Vec<ForwardAttempt>> {
        let sql = format!(
            "SELECT id, target_id, at, events, status, error, duration_ms FROM forward_attempts WHERE tenant_id = $1 AND target_id = $2
             ORDER BY at DESC, id DESC LIMIT {}",
            limit.clamp(1, 1000)
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, self.args().s(target))).await?;
        rows.iter()
            .map(|r| {
                Ok(ForwardAttempt {
                    id: r.try_get("", "id")?,
                    target_id: r.try_get("", "target_id")?,
                    at: r.try_get("", "at")?,
                    events: int(r, "events")?,
                    status: int(r, "status")?,
                    error: r.try_get("", "error")?,
                    duration_ms: int(r, "duration_ms")?,
                })
            })
            .collect()
    }
}

/// Deliveries for one target only (replay).
async fn enqueue_for<C: ConnectionTrait>(db: &C, target: &ForwardTarget, events: &[Event], now: DateTime<Utc>) -> Result<usize> {
    let mine: Vec<(&Event, &ForwardTarget)> = events
        .iter()
        .filter(|e| target.events.iter().any(|k| k == e.kind))
        .filter(|e| target.properties.is_empty() || e.properties.iter().any(|p| target.properties.contains(p)))
        .map(|e| (e, target))
        .collect();
    insert_deliveries(db, &mine, now).await
}

/// Writes one PENDING delivery per (event, target), 50 to a statement; an event already
/// queued for the target adds nothing.
async fn insert_deliveries<C: ConnectionTrait>(db: &C, pairs: &[(&Event, &ForwardTarget)], now: DateTime<Utc>) -> Result<usize> {
    let b = db.get_database_backend();
    let mut added = 0;
    for chunk in pairs.chunks(50) {
        let mut args = Args::new();
        let mut tuples = Vec::with_capacity(chunk.len());
        for (e, t) in chunk {
            let n = args.0.len();
            args = args.s(&e.tenant).s(&t.id).s(e.kind).s(&e.reference).s(&e.subject).t(e.at).t(now);
            tuples.push(format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, 'PENDING', 0, ${}, '')",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6,
                n + 7,
                n + 7
            ));
        }
        let sql = format!(
            "INSERT INTO forward_deliveries (tenant_id, target_id, kind, ref, subject, at, created_at, state, attempts, next_at, last_error)
             VALUES {} ON CONFLICT (tenant_id, target_id, kind, ref) DO NOTHING",
            tuples.join(", ")
        );
        added += db.execute_raw(stmt(b, &sql, args)).await?.rows_affected() as usize;
    }
    Ok(added)
}

/// The properties an alarm's subject (a meter, gateway or account) belongs to.
async fn subject_properties<C: ConnectionTrait>(db: &C, tenant: &str, kind: &str, subject: &str) -> Result<Vec<String>> {
    let sql = match kind {
        "METER" => "SELECT property_id FROM meters WHERE tenant_id = $1 AND id = $2",
        "GATEWAY" => "SELECT property_id FROM gateways WHERE tenant_id = $1 AND id = $2",
        _ => return account_properties(db, tenant, subject).await,
    };
    let rows = db.query_all_raw(stmt(db.get_database_backend(), sql, Args::new().s(tenant).s(subject))).await?;
    rows.iter().map(|r| r.try_get("", "property_id").map_err(Into::into)).collect()
}

/// Queues ALARM events for alarm changes (tenant, alarm id, RAISED or CLEARED), ordered per
/// subject; tenants without a target cost one count.
pub(crate) async fn enqueue_alarm_changes<C: ConnectionTrait>(
    db: &C,
    changes: &[(String, String, &str)],
    now: DateTime<Utc>,
) -> Result<usize> {
    let tenants: Vec<String> = changes.iter().map(|c| c.0.clone()).collect::<HashSet<_>>().into_iter().collect();
    if changes.is_empty() || !any_target(db, &tenants).await? {
        return Ok(0);
    }
    let mut events = Vec::with_capacity(changes.len());
    for (tenant, alarm, change) in changes {
        let sql = "SELECT subject_id, subject_kind FROM alarms WHERE tenant_id = $1 AND id = $2";
        let Some(r) = db.query_one_raw(stmt(db.get_database_backend(), sql, Args::new().s(tenant).s(alarm))).await? else { continue };
        let (subject, kind): (String, String) = (r.try_get("", "subject_id")?, r.try_get("", "subject_kind")?);
        events.push(Event {
            tenant: tenant.clone(),
            kind: "ALARM",
            reference: format!("{alarm}:{change}"),
            properties: subject_properties(db, tenant, &kind, &subject).await?,
            subject,
            at: now,
        });
    }
    enqueue(db, &events, now).await
}

/// Queues DAILY_ENERGY events for the meters frozen at a local midnight (the day before it).
pub(crate) async fn enqueue_daily_energy<C: ConnectionTrait>(
    db: &C,
    tenant: &str,
    meters: &[String],
    frozen_at: DateTime<Utc>,
) -> Result<usize> {
    if meters.is_empty() || !any_target(db, &[tenant.to_string()]).await? {
        return Ok(0);
    }
    let mut events = Vec::with_capacity(meters.len());
    for chunk in meters.chunks(500) {
        let properties = meter_properties(db, tenant, chunk).await?;
        for m in chunk {
            events.push(Event {
                tenant: tenant.to_string(),
                kind: "DAILY_ENERGY",
                reference: reading_ref(m, frozen_at),
                subject: m.clone(),
                at: frozen_at,
                properties: properties.get(m).cloned().into_iter().collect(),
            });
        }
    }
    enqueue(db, &events, Utc::now()).await
}

/// The properties an account has meters in.
pub(crate) async fn account_properties<C: ConnectionTrait>(db: &C, tenant: &str, account: &str) -> Result<Vec<String>> {
    let sql = "SELECT DISTINCT property_id FROM meters WHERE tenant_id = $1 AND account_id = $2";
    let rows = db.query_all_raw(stmt(db.get_database_backend(), sql, Args::new().s(tenant).s(account))).await?;
    rows.iter().map(|r| r.try_get("", "property_id").map_err(Into::into)).collect()
}

/// Retry delays: 10 s, 30 s, 1 min, 5 min, 15 min, then every 30 min.
pub fn backoff(attempts: i64) -> chrono::Duration {
    chrono::Duration::seconds(match attempts {
        ..=1 => 10,
        2 => 30,
        3 => 60,
        4 => 300,
        5 => 900,
        _ => 1800,
    })
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in snake.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn value_names_become_camel_case() {
        assert_eq!(super::camel("energy_t1"), "energyT1");
        assert_eq!(super::camel("voltage_a"), "voltageA");
    }
}
