//! The audit log: every mutation's before/after images of the rows it touched (tenant and
//! platform), read back with filters and cursors.

use super::identity::*;
use super::sql::{Args, stmt};
use super::{Result, StoreError, TenantStore};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, QueryResult};

/// One audit record (操作日志).
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_id: String,
    pub actor_name: String,
    pub action: String,
    pub target_id: Option<String>,
    pub input: String,
    pub before_state: Option<String>,
    pub after_state: Option<String>,
    pub outcome: String,
    pub source: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub target_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Tables whose rows the audit log images (in this order of lookup).
pub(crate) const AUDITED_TABLES: &[&str] = &[
    "properties",
    "areas",
    "customers",
    "gateways",
    "meters",
    "accounts",
    "tariffs",
    "commands",
    "alarms",
    "bills",
    "ledger_entries",
    "operators",
    "roles",
    "park_clients",
    "sessions",
    "payees",
    "payment_orders",
    "payment_refunds",
];

pub(crate) fn audit_row(r: &QueryResult) -> Result<AuditRow> {
    Ok(AuditRow {
        id: s(r, "id")?,
        at: ts(r, "at")?,
        actor_kind: s(r, "actor_kind")?,
        actor_id: s(r, "actor_id")?,
        actor_name: s(r, "actor_name")?,
        action: s(r, "action")?,
        target_id: r.try_get("", "target_id")?,
        input: s(r, "input")?,
        before_state: r.try_get("", "before_state")?,
        after_state: r.try_get("", "after_state")?,
        outcome: s(r, "outcome")?,
        source: s(r, "source")?,
    })
}

impl TenantStore {
    /// The stored row an id names, as JSON without secret columns (for audit images).
    pub async fn snapshot(&self, id: &str) -> Result<Option<(String, serde_json::Value)>> {
        // One statement finds the table, a second reads the row.
        let find: Vec<String> =
            AUDITED_TABLES.iter().map(|t| format!("SELECT '{t}' AS t FROM {t} WHERE tenant_id = $1 AND id = $2")).collect();
        let sql = format!("SELECT t FROM ({}) found LIMIT 1", find.join(" UNION ALL "));
        let Some(found) = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id))).await? else {
            return Ok(None);
        };
        let found: String = found.try_get("", "t")?;
        let Some(table) = AUDITED_TABLES.iter().find(|t| **t == found) else { return Ok(None) };
        let sql = format!("SELECT * FROM {table} WHERE tenant_id = $1 AND id = $2");
        let row = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id))).await?;
        Ok(row.map(|r| (table.to_string(), row_json(&r))))
    }

    pub async fn record_audit(&self, a: &AuditRow) -> Result<()> {
        let sql =
            format!("INSERT INTO audit_log (tenant_id, {AUDIT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)");
        let args = self
            .args()
            .s(&a.id)
            .t(a.at)
            .s(&a.actor_kind)
            .s(&a.actor_id)
            .s(&a.actor_name)
            .s(&a.action)
            .os(a.target_id.clone())
            .s(&a.input)
            .os(a.before_state.clone())
            .os(a.after_state.clone())
            .s(&a.outcome)
            .s(&a.source);
        self.db().execute_raw(stmt(self.backend(), &sql, args)).await?;
        Ok(())
    }

    /// Audit records, newest first, `first` after the cursor `(at, id)`.
    /// Audit records newest first, after the record `after` (the previous page's last),
    /// compared with that stored row itself so a walk is exact and total. An `after` that is
    /// not a record of this tenant is NotFound.
    pub async fn audit_log(&self, f: &AuditFilter, after: Option<String>, first: u64) -> Result<Vec<AuditRow>> {
        if let Some(id) = &after {
            let sql = "SELECT 1 AS x FROM audit_log WHERE tenant_id = $1 AND id = $2";
            if self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(id.clone()))).await?.is_none() {
                return Err(StoreError::NotFound);
            }
        }
        let mut args = self.args();
        let mut cond = String::new();
        if let Some(a) = &f.actor_id {
            cond += &format!(" AND actor_id = ${}", args.push(a.clone().into()));
        }
        if let Some(a) = &f.action {
            cond += &format!(" AND action = ${}", args.push(a.clone().into()));
        }
        if let Some(t) = &f.target_id {
            cond += &format!(" AND target_id = ${}", args.push(t.clone().into()));
        }
        if let Some(t) = f.from {
            cond += &format!(" AND at >= ${}", args.push(t.into()));
        }
        if let Some(t) = f.to {
            cond += &format!(" AND at < ${}", args.push(t.into()));
        }
        if let Some(id) = after {
            let i = args.push(id.into());
            let at = format!("(SELECT c.at FROM audit_log c WHERE c.tenant_id = $1 AND c.id = ${i})");
            cond += &format!(" AND (at < {at} OR (at = {at} AND id < ${i}))");
        }
        let limit = args.push((first as i64).into());
        let sql = format!("SELECT {AUDIT_COLS} FROM audit_log WHERE tenant_id = $1{cond} ORDER BY at DESC, id DESC LIMIT ${limit}");
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        rows.iter().map(audit_row).collect()
    }
}

/// A whole row as JSON, every column.
pub(crate) fn row_json_all(r: &QueryResult) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for col in r.column_names() {
        map.insert(col.clone(), cell(r, &col));
    }
    serde_json::Value::Object(map)
}

pub(crate) fn cell(r: &QueryResult, col: &str) -> serde_json::Value {
    if let Ok(Some(i)) = r.try_get::<Option<i64>>("", col) {
        serde_json::Value::from(i)
    } else if let Ok(Some(i)) = r.try_get::<Option<i32>>("", col) {
        serde_json::Value::from(i)
    } else if let Ok(Some(t)) = r.try_get::<Option<String>>("", col) {
        serde_json::Value::from(t)
    } else if let Ok(Some(t)) = r.try_get::<Option<DateTime<Utc>>>("", col) {
        serde_json::Value::from(t.to_rfc3339())
    } else if let Ok(Some(b)) = r.try_get::<Option<bool>>("", col) {
        serde_json::Value::from(b)
    } else {
        serde_json::Value::Null
    }
}

/// A whole row as JSON, secret columns left out. Values are read as text, integers or
/// timestamps, whichever the column holds.
pub(crate) fn row_json(r: &QueryResult) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for col in r.column_names() {
        if SECRET_COLUMNS.contains(&col.as_str()) || col == "tenant_id" {
            continue;
        }
        map.insert(col.clone(), cell(r, &col));
    }
    serde_json::Value::Object(map)
}

/// One action of the SaaS operator (or a refusal of one).
#[derive(Debug, Clone)]
pub struct PlatformAuditRow {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    /// The tenant the action concerned, when one did.
    pub subject_tenant: Option<String>,
    pub input: String,
    pub outcome: String,
    pub source: String,
}

impl super::PlatformStore {
    pub async fn record_audit(&self, a: &PlatformAuditRow) -> Result<()> {
        let sql = "INSERT INTO platform_audit (id, at, actor, action, subject_tenant, input, outcome, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let args =
            Args::new().s(&a.id).t(a.at).s(&a.actor).s(&a.action).os(a.subject_tenant.clone()).s(&a.input).s(&a.outcome).s(&a.source);
        self.db.execute_raw(stmt(self.backend(), sql, args)).await?;
        Ok(())
    }

    /// The platform audit log, newest first.
    pub async fn audit_log(&self, limit: u64) -> Result<Vec<PlatformAuditRow>> {
        let sql = format!(
            "SELECT id, at, actor, action, subject_tenant, input, outcome, source FROM platform_audit ORDER BY at DESC, id DESC LIMIT {}",
            limit.clamp(1, 1000)
        );
        let rows = self.db.query_all_raw(stmt(self.backend(), &sql, Args::new())).await?;
        rows.iter()
            .map(|r| {
                Ok(PlatformAuditRow {
                    id: r.try_get("", "id")?,
                    at: r.try_get("", "at")?,
                    actor: r.try_get("", "actor")?,
                    action: r.try_get("", "action")?,
                    subject_tenant: r.try_get("", "subject_tenant")?,
                    input: r.try_get("", "input")?,
                    outcome: r.try_get("", "outcome")?,
                    source: r.try_get("", "source")?,
                })
            })
            .collect()
    }
}
