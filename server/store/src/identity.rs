//! People and walls (issue 5): roles, operators and their property scope, sessions with
//! rotating refresh tokens, park-platform clients, WeChat logins bound to customers, the
//! audit log, and the scope check the API runs before every resolver.

use chrono::{DateTime, Duration, Utc};
use domain::Invalid;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult};

use super::registry::int;
use super::sql::{Args, stmt};
use super::{Result, Store, StoreError, TenantStore, hash_secret};
use domain::access::{PermissionSet, builtin_roles};
use domain::ids::TenantId;

#[derive(Debug, Clone)]
pub struct RoleRow {
    pub id: String,
    pub name: String,
    pub permissions: PermissionSet,
    pub builtin: bool,
}

#[derive(Debug, Clone)]
pub struct OperatorRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: RoleRow,
    /// `None` = every property.
    pub properties: Option<Vec<String>>,
    pub status: String,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// What a login checks.
#[derive(Debug, Clone)]
pub struct OperatorLogin {
    pub id: String,
    pub password_hash: String,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct NewOperator {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role_id: String,
    pub properties: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: String,
    pub principal_kind: String,
    pub principal_id: String,
    pub source: String,
    pub user_agent: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
}

/// The outcome of presenting a refresh token.
#[derive(Debug)]
pub enum Refresh {
    /// The token was current: here is its successor.
    Rotated { tenant: TenantId, session: Box<SessionRow>, token: String },
    /// The token had already been used: the whole session (of `tenant`) is now revoked.
    Reused { tenant: TenantId },
    /// Unknown, expired or revoked.
    Invalid,
}

#[derive(Debug, Clone)]
pub struct ParkClientRow {
    pub id: String,
    pub name: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub properties: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

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

/// The tenant's mini-program (AppID and secret; the secret is stored wrapped).
#[derive(Debug, Clone)]
pub struct WechatApp {
    pub app_id: String,
    pub secret: String,
    pub api_base: String,
}

/// Tables an id in a request may name, with how to find the property it belongs to. Used
/// for the property scope and for the audit log's before/after images.
const SCOPED_TABLES: &[(&str, &str)] = &[
    ("properties", "SELECT id AS p FROM properties WHERE tenant_id = $1 AND id = $2"),
    ("areas", "SELECT property_id AS p FROM areas WHERE tenant_id = $1 AND id = $2"),
    ("gateways", "SELECT property_id AS p FROM gateways WHERE tenant_id = $1 AND id = $2"),
    ("meters", "SELECT property_id AS p FROM meters WHERE tenant_id = $1 AND id = $2"),
    (
        "accounts",
        "SELECT m.property_id AS p FROM accounts a LEFT JOIN meters m ON m.tenant_id = a.tenant_id AND m.account_id = a.id
         WHERE a.tenant_id = $1 AND a.id = $2",
    ),
    (
        "customers",
        // An account without meters (closed, or all released) still binds its customer: it
        // yields '' (no property), so the customer is no scoped operator's.
        "SELECT COALESCE(m.property_id, CASE WHEN a.id IS NOT NULL THEN '' END) AS p FROM customers c
         LEFT JOIN accounts a ON a.tenant_id = c.tenant_id AND a.customer_id = c.id
         LEFT JOIN meters m ON m.tenant_id = a.tenant_id AND m.account_id = a.id WHERE c.tenant_id = $1 AND c.id = $2",
    ),
    (
        "commands",
        "SELECT m.property_id AS p FROM commands c JOIN meters m ON m.tenant_id = c.tenant_id AND m.id = c.meter_id
         WHERE c.tenant_id = $1 AND c.id = $2",
    ),
    (
        "alarms",
        "SELECT COALESCE(m.property_id, g.property_id, am.property_id, py.property_id) AS p FROM alarms a
         LEFT JOIN meters m ON m.tenant_id = a.tenant_id AND m.id = a.subject_id
         LEFT JOIN gateways g ON g.tenant_id = a.tenant_id AND g.id = a.subject_id
         LEFT JOIN meters am ON am.tenant_id = a.tenant_id AND am.account_id = a.subject_id
         LEFT JOIN payees py ON py.tenant_id = a.tenant_id AND py.id = a.subject_id WHERE a.tenant_id = $1 AND a.id = $2",
    ),
    (
        "payment_orders",
        "SELECT m.property_id AS p FROM payment_orders o LEFT JOIN meters m ON m.tenant_id = o.tenant_id AND m.account_id = o.account_id
         WHERE o.tenant_id = $1 AND o.id = $2",
    ),
    ("payees", "SELECT property_id AS p FROM payees WHERE tenant_id = $1 AND id = $2"),
    (
        "bills",
        "SELECT m.property_id AS p FROM bills b LEFT JOIN meters m ON m.tenant_id = b.tenant_id AND m.account_id = b.account_id
         WHERE b.tenant_id = $1 AND b.id = $2",
    ),
    (
        "ledger_entries",
        "SELECT m.property_id AS p FROM ledger_entries e LEFT JOIN meters m ON m.tenant_id = e.tenant_id AND m.account_id = e.account_id
         WHERE e.tenant_id = $1 AND e.id = $2",
    ),
    (
        "settlement_anomalies",
        "SELECT m.property_id AS p FROM settlement_anomalies x JOIN meters m ON m.tenant_id = x.tenant_id AND m.id = x.meter_id
         WHERE x.tenant_id = $1 AND x.id = $2",
    ),
    (
        "allocation_groups",
        "SELECT m.property_id AS p FROM allocation_groups g JOIN meters m ON m.tenant_id = g.tenant_id AND m.id = g.meter_id
         WHERE g.tenant_id = $1 AND g.id = $2",
    ),
    (
        "payment_refunds",
        "SELECT m.property_id AS p FROM payment_refunds r JOIN payment_orders o ON o.tenant_id = r.tenant_id AND o.id = r.order_id
         LEFT JOIN meters m ON m.tenant_id = o.tenant_id AND m.account_id = o.account_id WHERE r.tenant_id = $1 AND r.id = $2",
    ),
    (
        "payment_differences",
        "SELECT p.property_id AS p FROM payment_differences d JOIN payees p ON p.tenant_id = d.tenant_id AND p.id = d.payee_id WHERE d.tenant_id = $1 AND d.id = $2",
    ),
];

/// Tables whose every property must be in scope (an object spanning properties is not a
/// scoped operator's to act on): a batch's meters, an operator's properties (an operator of
/// all properties is in no scope).
const WHOLLY_SCOPED_TABLES: &[(&str, &str)] = &[
    (
        "command_batches",
        "SELECT m.property_id AS p FROM command_batches b JOIN commands c ON c.tenant_id = b.tenant_id AND c.batch_id = b.id
         JOIN meters m ON m.tenant_id = c.tenant_id AND m.id = c.meter_id WHERE b.tenant_id = $1 AND b.id = $2",
    ),
    (
        "operators",
        "SELECT CASE WHEN o.all_properties <> 0 THEN '*' ELSE x.property_id END AS p FROM operators o
         LEFT JOIN operator_properties x ON x.tenant_id = o.tenant_id AND x.operator_id = o.id WHERE o.tenant_id = $1 AND o.id = $2",
    ),
];

/// Tenant-wide objects a scoped operator may name beside an object of its own (a tariff to
/// assign to its meter) or read, but not act on alone.
const SHARED_TABLES: &[&str] = &["tariffs"];

/// Where an id named in a request stands for a property-scoped principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// An object of the principal's properties (or of none: a customer without accounts).
    InScope,
    /// An object of another property: it must look like another tenant's (not found).
    OutOfScope,
    /// A tenant-wide reference object (a tariff).
    Shared,
    /// Nothing a scoped principal may name: no such object, or a tenant-wide one (roles,
    /// park clients, …).
    Unknown,
}

/// Tables whose rows the audit log images (in this order of lookup).
const AUDITED_TABLES: &[&str] = &[
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

/// Columns never copied into an audit image.
const SECRET_COLUMNS: &[&str] = &["password_hash", "secret_hash", "broker_hash", "wrapped_secret", "secret_wrapped", "carry"];

fn ts(r: &QueryResult, col: &str) -> Result<DateTime<Utc>> {
    Ok(r.try_get("", col)?)
}

fn opt_ts(r: &QueryResult, col: &str) -> Result<Option<DateTime<Utc>>> {
    Ok(r.try_get("", col)?)
}

fn s(r: &QueryResult, col: &str) -> Result<String> {
    Ok(r.try_get("", col)?)
}

fn role_row(r: &QueryResult) -> Result<RoleRow> {
    Ok(RoleRow {
        id: s(r, "id")?,
        name: s(r, "name")?,
        permissions: PermissionSet::decode(&s(r, "permissions")?),
        builtin: int(r, "builtin")? != 0,
    })
}

fn session_row(r: &QueryResult) -> Result<SessionRow> {
    Ok(SessionRow {
        id: s(r, "id")?,
        principal_kind: s(r, "principal_kind")?,
        principal_id: s(r, "principal_id")?,
        source: s(r, "source")?,
        user_agent: s(r, "user_agent")?,
        created_at: ts(r, "created_at")?,
        last_used_at: ts(r, "last_used_at")?,
        expires_at: ts(r, "expires_at")?,
        revoked_at: opt_ts(r, "revoked_at")?,
        revoked_reason: r.try_get("", "revoked_reason")?,
    })
}

fn park_row(r: &QueryResult) -> Result<ParkClientRow> {
    let list = |c: &str| -> Result<Vec<String>> { Ok(s(r, c)?.split(',').filter(|x| !x.is_empty()).map(str::to_string).collect()) };
    Ok(ParkClientRow {
        id: s(r, "id")?,
        name: s(r, "name")?,
        client_id: s(r, "client_id")?,
        scopes: list("scopes")?,
        properties: list("property_ids")?,
        created_at: ts(r, "created_at")?,
        rotated_at: opt_ts(r, "rotated_at")?,
        revoked_at: opt_ts(r, "revoked_at")?,
    })
}

fn audit_row(r: &QueryResult) -> Result<AuditRow> {
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

/// A fresh 256-bit secret, URL-safe.
pub fn random_secret() -> String {
    use base64::Engine as _;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

const SESSION_COLS: &str =
    "id, principal_kind, principal_id, source, user_agent, created_at, last_used_at, expires_at, revoked_at, revoked_reason";
const PARK_COLS: &str = "id, name, client_id, scopes, property_ids, created_at, rotated_at, revoked_at";
const AUDIT_COLS: &str = "id, at, actor_kind, actor_id, actor_name, action, target_id, input, before_state, after_state, outcome, source";

pub(crate) fn in_list(args: &mut Args, items: &[String]) -> String {
    if items.is_empty() {
        return "(NULL)".into();
    }
    let marks: Vec<String> = items.iter().map(|i| format!("${}", args.push(i.clone().into()))).collect();
    format!("({})", marks.join(", "))
}

impl Store {
    /// Platform operation: a tenant with its built-in roles and a first administrator whose
    /// password hash is given.
    pub async fn platform_create_tenant_with_admin(
        &self,
        name: &str,
        slug: &str,
        time_zone: &str,
        admin_username: &str,
        admin_password_hash: &str,
    ) -> Result<TenantId> {
        let id = self.platform_create_tenant(name, slug, time_zone).await?;
        let t = self.tenant(id.clone());
        let role_id = t.ensure_builtin_roles().await?;
        let admin = NewOperator {
            username: admin_username.into(),
            display_name: "Administrator".into(),
            password_hash: admin_password_hash.into(),
            role_id,
            properties: None,
        };
        t.create_operator(&admin).await?;
        Ok(id)
    }

    /// A refresh token, wherever it belongs: rotate it, or detect its reuse.
    pub async fn platform_refresh(&self, token: &str, now: DateTime<Utc>) -> Result<Refresh> {
        let b = self.backend();
        let hash = hash_secret(token);
        let txn = super::begin_write(&self.db).await?;
        // Claim the token first (a write), so two racing refreshes cannot both rotate it.
        let claimed = txn
            .execute_raw(stmt(
                b,
                "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
                Args::new().s(&hash).t(now),
            ))
            .await?
            .rows_affected();
        let row = txn
            .query_one_raw(stmt(b, "SELECT tenant_id, session_id FROM refresh_tokens WHERE token_hash = $1", Args::new().s(&hash)))
            .await?;
        let Some(row) = row else {
            return Ok(Refresh::Invalid);
        };
        let tenant = TenantId::parse(&s(&row, "tenant_id")?).ok_or(StoreError::NotFound)?;
        let session_id = s(&row, "session_id")?;
        if claimed == 0 {
            // Presented again after it was rotated: someone holds a copy. End the session.
            let sql = "UPDATE sessions SET revoked_at = $3, revoked_reason = 'REFRESH_TOKEN_REUSED' WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL";
            txn.execute_raw(stmt(b, sql, Args::new().s(tenant.as_str()).s(&session_id).t(now))).await?;
            txn.commit().await?;
            return Ok(Refresh::Reused { tenant });
        }
        let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE tenant_id = $1 AND id = $2");
        let session = match txn.query_one_raw(stmt(b, &sql, Args::new().s(tenant.as_str()).s(&session_id))).await? {
            Some(r) => session_row(&r)?,
            None => return Ok(Refresh::Invalid),
        };
        if session.revoked_at.is_some() || session.expires_at <= now || !self.tenant_active(&tenant) {
            txn.commit().await?;
            return Ok(Refresh::Invalid);
        }
        let next = random_secret();
        txn.execute_raw(stmt(
            b,
            "INSERT INTO refresh_tokens (token_hash, tenant_id, session_id, issued_at) VALUES ($1, $2, $3, $4)",
            Args::new().s(hash_secret(&next)).s(tenant.as_str()).s(&session_id).t(now),
        ))
        .await?;
        txn.execute_raw(stmt(
            b,
            "UPDATE sessions SET last_used_at = $3 WHERE tenant_id = $1 AND id = $2",
            Args::new().s(tenant.as_str()).s(&session_id).t(now),
        ))
        .await?;
        txn.commit().await?;
        Ok(Refresh::Rotated { tenant, session: Box::new(session), token: next })
    }

    /// Every table with a `tenant_id` column (for the isolation proofs).
    pub async fn platform_tenant_tables(&self) -> Result<Vec<(String, Vec<String>)>> {
        let b = self.backend();
        let tables: Vec<String> = if b == DbBackend::Postgres {
            let sql = "SELECT DISTINCT table_name AS t FROM information_schema.columns WHERE column_name = 'tenant_id' AND table_schema = current_schema() ORDER BY 1";
            self.db.query_all_raw(stmt(b, sql, Args::new())).await?.iter().map(|r| s(r, "t")).collect::<Result<_>>()?
        } else {
            let sql = "SELECT name AS t FROM sqlite_master WHERE type = 'table' ORDER BY 1";
            self.db.query_all_raw(stmt(b, sql, Args::new())).await?.iter().map(|r| s(r, "t")).collect::<Result<_>>()?
        };
        let mut out = Vec::new();
        for t in tables {
            let sql = if b == DbBackend::Postgres {
                "SELECT column_name AS c FROM information_schema.columns WHERE table_name = $1 AND table_schema = current_schema() ORDER BY ordinal_position"
            } else {
                "SELECT name AS c FROM pragma_table_info($1)"
            };
            let cols: Vec<String> =
                self.db.query_all_raw(stmt(b, sql, Args::new().s(&t))).await?.iter().map(|r| s(r, "c")).collect::<Result<_>>()?;
            if cols.iter().any(|c| c == "tenant_id") {
                out.push((t, cols));
            }
        }
        Ok(out)
    }

    /// Every row of a tenant in `table`, as sorted JSON texts (isolation proofs).
    pub async fn platform_tenant_rows(&self, table: &str, tenant: &TenantId) -> Result<Vec<String>> {
        let known = self.platform_tenant_tables().await?;
        if !known.iter().any(|(t, _)| t == table) {
            return Err(StoreError::NotFound);
        }
        let sql = format!("SELECT * FROM {table} WHERE tenant_id = $1");
        let rows = self.db.query_all_raw(stmt(self.backend(), &sql, Args::new().s(tenant.as_str()))).await?;
        let mut out: Vec<String> = rows.iter().map(|r| row_json_all(r).to_string()).collect();
        out.sort();
        Ok(out)
    }

    /// A park client by its public client id: (tenant, row, secret hash).
    pub async fn platform_park_client(&self, client_id: &str) -> Result<Option<(TenantId, ParkClientRow, String)>> {
        let sql = format!("SELECT tenant_id, secret_hash, {PARK_COLS} FROM park_clients WHERE client_id = $1");
        let Some(r) = self.db.query_one_raw(stmt(self.backend(), &sql, Args::new().s(client_id))).await? else {
            return Ok(None);
        };
        let tenant = TenantId::parse(&s(&r, "tenant_id")?).ok_or(StoreError::NotFound)?;
        Ok(Some((tenant, park_row(&r)?, s(&r, "secret_hash")?)))
    }
}

impl TenantStore {
    // ---- roles ----

    /// Creates the built-in roles if missing; returns the tenant admin role's id.
    pub async fn ensure_builtin_roles(&self) -> Result<String> {
        for (name, perms) in builtin_roles() {
            let sql = "INSERT INTO roles (tenant_id, id, name, permissions, builtin, created_at) VALUES ($1, $2, $3, $4, 1, $5)
                       ON CONFLICT (tenant_id, name) DO NOTHING";
            let args = self.args().s(uuid::Uuid::new_v4().to_string()).s(name).s(perms.encode()).t(Utc::now());
            self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        }
        let roles = self.roles().await?;
        roles.into_iter().find(|r| r.builtin && r.name == domain::access::TENANT_ADMIN_ROLE).map(|r| r.id).ok_or(StoreError::NotFound)
    }

    pub async fn roles(&self) -> Result<Vec<RoleRow>> {
        let sql = "SELECT id, name, permissions, builtin FROM roles WHERE tenant_id = $1 ORDER BY builtin DESC, name";
        let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args())).await?;
        rows.iter().map(role_row).collect()
    }

    pub async fn role(&self, id: &str) -> Result<Option<RoleRow>> {
        let sql = "SELECT id, name, permissions, builtin FROM roles WHERE tenant_id = $1 AND id = $2";
        let row = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(id))).await?;
        row.map(|r| role_row(&r)).transpose()
    }

    pub async fn create_role(&self, name: &str, perms: &PermissionSet) -> Result<RoleRow> {
        let id = uuid::Uuid::new_v4().to_string();
        let sql = "INSERT INTO roles (tenant_id, id, name, permissions, builtin, created_at) VALUES ($1, $2, $3, $4, 0, $5)";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().s(&id).s(name).s(perms.encode()).t(Utc::now()))).await?;
        self.role(&id).await?.ok_or(StoreError::NotFound)
    }

    /// Changes a custom role; built-in roles are fixed.
    pub async fn update_role(&self, id: &str, name: &str, perms: &PermissionSet) -> Result<RoleRow> {
        let role = self.role(id).await?.ok_or(StoreError::NotFound)?;
        if role.builtin {
            return Err(StoreError::Conflict("built-in roles cannot be changed; create a custom role".into()));
        }
        let sql = "UPDATE roles SET name = $3, permissions = $4 WHERE tenant_id = $1 AND id = $2";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id).s(name).s(perms.encode()))).await?;
        self.role(id).await?.ok_or(StoreError::NotFound)
    }

    // ---- operators ----

    const OPERATOR_SELECT: &'static str =
        "SELECT o.id, o.username, o.display_name, o.all_properties, o.status, o.last_login_at, o.created_at,
        r.id AS role_id, r.name AS role_name, r.permissions, r.builtin
        FROM operators o JOIN roles r ON r.tenant_id = o.tenant_id AND r.id = o.role_id WHERE o.tenant_id = $1";

    async fn operator_rows(&self, cond: &str, args: Args) -> Result<Vec<OperatorRow>> {
        let sql = format!("{} {cond} ORDER BY o.username", Self::OPERATOR_SELECT);
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = s(r, "id")?;
            let properties = if int(r, "all_properties")? != 0 { None } else { Some(self.operator_properties(&id).await?) };
            out.push(OperatorRow {
                id,
                username: s(r, "username")?,
                display_name: s(r, "display_name")?,
                role: RoleRow {
                    id: s(r, "role_id")?,
                    name: s(r, "role_name")?,
                    permissions: PermissionSet::decode(&s(r, "permissions")?),
                    builtin: int(r, "builtin")? != 0,
                },
                properties,
                status: s(r, "status")?,
                last_login_at: opt_ts(r, "last_login_at")?,
                created_at: ts(r, "created_at")?,
            });
        }
        Ok(out)
    }

    async fn operator_properties(&self, operator: &str) -> Result<Vec<String>> {
        let sql = "SELECT property_id FROM operator_properties WHERE tenant_id = $1 AND operator_id = $2 ORDER BY property_id";
        let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args().s(operator))).await?;
        rows.iter().map(|r| s(r, "property_id")).collect()
    }

    pub async fn operators(&self) -> Result<Vec<OperatorRow>> {
        self.operator_rows("", self.args()).await
    }

    pub async fn operator(&self, id: &str) -> Result<Option<OperatorRow>> {
        Ok(self.operator_rows("AND o.id = $2", self.args().s(id)).await?.into_iter().next())
    }

    pub async fn operator_login(&self, username: &str) -> Result<Option<OperatorLogin>> {
        let sql = "SELECT id, password_hash, status FROM operators WHERE tenant_id = $1 AND username = $2";
        let row = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(username))).await?;
        row.map(|r| Ok(OperatorLogin { id: s(&r, "id")?, password_hash: s(&r, "password_hash")?, status: s(&r, "status")? })).transpose()
    }

    async fn check_properties(&self, properties: &Option<Vec<String>>) -> Result<()> {
        for p in properties.iter().flatten() {
            self.require("properties", p).await.map_err(|_| Invalid::new("propertyIds", format!("no such property {p}")))?;
        }
        Ok(())
    }

    async fn write_properties(&self, txn: &impl ConnectionTrait, operator: &str, properties: &Option<Vec<String>>) -> Result<()> {
        let b = self.backend();
        txn.execute_raw(stmt(b, "DELETE FROM operator_properties WHERE tenant_id = $1 AND operator_id = $2", self.args().s(operator)))
            .await?;
        for p in properties.iter().flatten() {
            let sql = "INSERT INTO operator_properties (tenant_id, operator_id, property_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
            txn.execute_raw(stmt(b, sql, self.args().s(operator).s(p))).await?;
        }
        let sql = "UPDATE operators SET all_properties = $3 WHERE tenant_id = $1 AND id = $2";
        txn.execute_raw(stmt(b, sql, self.args().s(operator).i(i64::from(properties.is_none())))).await?;
        Ok(())
    }

    pub async fn create_operator(&self, o: &NewOperator) -> Result<OperatorRow> {
        self.role(&o.role_id).await?.ok_or_else(|| Invalid::new("roleId", "no such role"))?;
        self.check_properties(&o.properties).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let now = Utc::now();
        let txn = self.db().begin().await?;
        let sql = "INSERT INTO operators (tenant_id, id, username, display_name, password_hash, role_id, password_changed_at, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $7)";
        let args = self.args().s(&id).s(&o.username).s(&o.display_name).s(&o.password_hash).s(&o.role_id).t(now);
        txn.execute_raw(stmt(self.backend(), sql, args)).await?;
        self.write_properties(&txn, &id, &o.properties).await?;
        txn.commit().await?;
        self.operator(&id).await?.ok_or(StoreError::NotFound)
    }

    /// Changes an operator's name, role and scope (`properties: None` = every property).
    pub async fn update_operator(
        &self,
        id: &str,
        display_name: Option<&str>,
        role_id: Option<&str>,
        properties: Option<Option<Vec<String>>>,
    ) -> Result<OperatorRow> {
        self.operator(id).await?.ok_or(StoreError::NotFound)?;
        if let Some(r) = role_id {
            self.role(r).await?.ok_or_else(|| Invalid::new("roleId", "no such role"))?;
        }
        if let Some(p) = &properties {
            self.check_properties(p).await?;
        }
        let txn = self.db().begin().await?;
        let b = self.backend();
        if let Some(n) = display_name {
            txn.execute_raw(stmt(b, "UPDATE operators SET display_name = $3 WHERE tenant_id = $1 AND id = $2", self.args().s(id).s(n)))
                .await?;
        }
        if let Some(r) = role_id {
            txn.execute_raw(stmt(b, "UPDATE operators SET role_id = $3 WHERE tenant_id = $1 AND id = $2", self.args().s(id).s(r))).await?;
        }
        if let Some(p) = &properties {
            self.write_properties(&txn, id, p).await?;
        }
        txn.commit().await?;
        self.operator(id).await?.ok_or(StoreError::NotFound)
    }

    /// Enables or disables an operator; disabling ends every session at once.
    pub async fn set_operator_status(&self, id: &str, active: bool) -> Result<OperatorRow> {
        let sql = "UPDATE operators SET status = $3 WHERE tenant_id = $1 AND id = $2";
        let res = self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id).s(if active { "ACTIVE" } else { "DISABLED" }))).await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if !active {
            self.revoke_sessions_of("operator", id, None, "OPERATOR_DISABLED").await?;
        }
        self.operator(id).await?.ok_or(StoreError::NotFound)
    }

    /// Sets a new password hash and ends the operator's other sessions.
    pub async fn set_operator_password(&self, id: &str, hash: &str, keep_session: Option<&str>) -> Result<()> {
        let sql = "UPDATE operators SET password_hash = $3, password_changed_at = $4 WHERE tenant_id = $1 AND id = $2";
        let res = self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id).s(hash).t(Utc::now()))).await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.revoke_sessions_of("operator", id, keep_session, "PASSWORD_CHANGED").await
    }

    pub async fn operator_logged_in(&self, id: &str, now: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE operators SET last_login_at = $3 WHERE tenant_id = $1 AND id = $2";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id).t(now))).await?;
        Ok(())
    }

    /// The operator behind a valid session: `None` when the session is revoked or expired or
    /// the operator is disabled.
    pub async fn active_operator(&self, session: &str, operator: &str, now: DateTime<Utc>) -> Result<Option<OperatorRow>> {
        let sql = "SELECT 1 AS one FROM sessions WHERE tenant_id = $1 AND id = $2 AND principal_kind = 'operator' AND principal_id = $3
                   AND revoked_at IS NULL AND expires_at > $4";
        let live = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(session).s(operator).t(now))).await?;
        if live.is_none() {
            return Ok(None);
        }
        Ok(self.operator(operator).await?.filter(|o| o.status == "ACTIVE"))
    }

    // ---- sessions ----

    /// Opens a session and returns it with its first refresh token.
    pub async fn create_session(
        &self,
        kind: &str,
        principal: &str,
        source: &str,
        user_agent: &str,
        lifetime: Duration,
    ) -> Result<(SessionRow, String)> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = Utc::now();
        let token = random_secret();
        let txn = self.db().begin().await?;
        let b = self.backend();
        let sql =
            "INSERT INTO sessions (tenant_id, id, principal_kind, principal_id, source, user_agent, created_at, last_used_at, expires_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)";
        let ua: String = user_agent.chars().take(200).collect();
        txn.execute_raw(stmt(b, sql, self.args().s(&id).s(kind).s(principal).s(source).s(ua).t(now).t(now + lifetime))).await?;
        let sql = "INSERT INTO refresh_tokens (token_hash, tenant_id, session_id, issued_at) VALUES ($1, $2, $3, $4)";
        txn.execute_raw(stmt(b, sql, Args::new().s(hash_secret(&token)).s(self.tenant.as_str()).s(&id).t(now))).await?;
        txn.commit().await?;
        let session = self.session(&id).await?.ok_or(StoreError::NotFound)?;
        Ok((session, token))
    }

    pub async fn session(&self, id: &str) -> Result<Option<SessionRow>> {
        let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE tenant_id = $1 AND id = $2");
        let row = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id))).await?;
        row.map(|r| session_row(&r)).transpose()
    }

    /// Sessions, newest first; only live ones unless `all`.
    pub async fn sessions(&self, principal: Option<(&str, &str)>, all: bool) -> Result<Vec<SessionRow>> {
        let mut args = self.args();
        let mut cond = String::new();
        if let Some((kind, id)) = principal {
            cond += &format!(
                " AND principal_kind = ${} AND principal_id = ${}",
                args.push(kind.to_string().into()),
                args.push(id.to_string().into())
            );
        }
        if !all {
            cond += &format!(" AND revoked_at IS NULL AND expires_at > ${}", args.push(Utc::now().into()));
        }
        let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE tenant_id = $1{cond} ORDER BY created_at DESC LIMIT 500");
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        rows.iter().map(session_row).collect()
    }

    pub async fn revoke_session(&self, id: &str, reason: &str) -> Result<SessionRow> {
        let sql = "UPDATE sessions SET revoked_at = $3, revoked_reason = $4 WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id).t(Utc::now()).s(reason))).await?;
        self.session(id).await?.ok_or(StoreError::NotFound)
    }

    async fn revoke_sessions_of(&self, kind: &str, principal: &str, keep: Option<&str>, reason: &str) -> Result<()> {
        let sql =
            "UPDATE sessions SET revoked_at = $4, revoked_reason = $5 WHERE tenant_id = $1 AND principal_kind = $2 AND principal_id = $3
                   AND revoked_at IS NULL AND id <> $6";
        let args = self.args().s(kind).s(principal).t(Utc::now()).s(reason).s(keep.unwrap_or(""));
        self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        Ok(())
    }

    /// Whether a session of this principal is live (for customer tokens).
    pub async fn session_live(&self, id: &str, kind: &str, principal: &str, now: DateTime<Utc>) -> Result<bool> {
        let sql = "SELECT 1 AS one FROM sessions WHERE tenant_id = $1 AND id = $2 AND principal_kind = $3 AND principal_id = $4
                   AND revoked_at IS NULL AND expires_at > $5";
        Ok(self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(id).s(kind).s(principal).t(now))).await?.is_some())
    }

    // ---- park-platform clients ----

    /// Creates a client; returns it with its secret (shown once).
    pub async fn create_park_client(&self, name: &str, scopes: &[String], properties: &[String]) -> Result<(ParkClientRow, String)> {
        self.check_properties(&Some(properties.to_vec())).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let client_id = format!("park_{}", uuid::Uuid::new_v4().simple());
        let secret = random_secret();
        let sql = "INSERT INTO park_clients (tenant_id, id, name, client_id, secret_hash, scopes, property_ids, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let args =
            self.args().s(&id).s(name).s(&client_id).s(hash_secret(&secret)).s(scopes.join(",")).s(properties.join(",")).t(Utc::now());
        self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        Ok((self.park_client(&id).await?.ok_or(StoreError::NotFound)?, secret))
    }

    pub async fn park_client(&self, id: &str) -> Result<Option<ParkClientRow>> {
        let sql = format!("SELECT {PARK_COLS} FROM park_clients WHERE tenant_id = $1 AND id = $2");
        let row = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id))).await?;
        row.map(|r| park_row(&r)).transpose()
    }

    pub async fn park_clients(&self) -> Result<Vec<ParkClientRow>> {
        let sql = format!("SELECT {PARK_COLS} FROM park_clients WHERE tenant_id = $1 ORDER BY name, id");
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, self.args())).await?;
        rows.iter().map(park_row).collect()
    }

    /// A new secret; tokens issued before now stop working.
    pub async fn rotate_park_client(&self, id: &str) -> Result<(ParkClientRow, String)> {
        let secret = random_secret();
        let sql = "UPDATE park_clients SET secret_hash = $3, rotated_at = $4 WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL";
        let res = self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id).s(hash_secret(&secret)).t(Utc::now()))).await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok((self.park_client(id).await?.ok_or(StoreError::NotFound)?, secret))
    }

    pub async fn revoke_park_client(&self, id: &str) -> Result<ParkClientRow> {
        let sql = "UPDATE park_clients SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id).t(Utc::now()))).await?;
        self.park_client(id).await?.ok_or(StoreError::NotFound)
    }

    // ---- WeChat mini-program and customer logins ----

    pub async fn set_wechat_app(&self, app_id: &str, secret: &str, api_base: &str) -> Result<()> {
        let wrapped = self.store.kek()?.wrap(&format!("{}/WECHAT_APP", self.tenant.as_str()), secret.as_bytes())?;
        let sql = "INSERT INTO wechat_apps (tenant_id, app_id, wrapped_secret, api_base, updated_at) VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (tenant_id) DO UPDATE SET app_id = excluded.app_id, wrapped_secret = excluded.wrapped_secret,
                   api_base = excluded.api_base, updated_at = excluded.updated_at";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().s(app_id).s(wrapped).s(api_base).t(Utc::now()))).await?;
        Ok(())
    }

    /// The mini-program with its secret opened (for calls to WeChat only).
    pub async fn wechat_app(&self) -> Result<Option<WechatApp>> {
        let sql = "SELECT app_id, wrapped_secret, api_base FROM wechat_apps WHERE tenant_id = $1";
        let Some(r) = self.db().query_one_raw(stmt(self.backend(), sql, self.args())).await? else {
            return Ok(None);
        };
        let secret = self.store.kek()?.unwrap(&format!("{}/WECHAT_APP", self.tenant.as_str()), &s(&r, "wrapped_secret")?)?;
        Ok(Some(WechatApp {
            app_id: s(&r, "app_id")?,
            secret: String::from_utf8(secret).map_err(|_| StoreError::Database("wechat secret is not text".into()))?,
            api_base: s(&r, "api_base")?,
        }))
    }

    /// The customer an openid is bound to.
    pub async fn customer_of_openid(&self, openid: &str) -> Result<Option<String>> {
        let sql = "SELECT l.customer_id FROM customer_logins l JOIN customers c ON c.tenant_id = l.tenant_id AND c.id = l.customer_id
                   WHERE l.tenant_id = $1 AND l.openid = $2 AND c.retired_at IS NULL";
        let row = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(openid))).await?;
        row.map(|r| s(&r, "customer_id")).transpose()
    }

    /// Binds an openid to the customer holding `account_number` when `phone` is that
    /// customer's phone. A mismatch and an unknown account look the same.
    pub async fn bind_openid(&self, openid: &str, account_number: &str, phone: &str) -> Result<String> {
        let sql = "SELECT c.id, c.phone FROM accounts a JOIN customers c ON c.tenant_id = a.tenant_id AND c.id = a.customer_id
                   WHERE a.tenant_id = $1 AND a.number = $2 AND a.closed_at IS NULL AND c.retired_at IS NULL";
        let row = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(account_number))).await?;
        let digits = |p: &str| p.chars().filter(char::is_ascii_digit).collect::<String>();
        let customer = match row {
            Some(r) if !phone.is_empty() && digits(&s(&r, "phone")?).ends_with(&digits(phone)) && digits(phone).len() >= 11 => s(&r, "id")?,
            _ => return Err(StoreError::NotFound),
        };
        let sql = "INSERT INTO customer_logins (tenant_id, openid, customer_id, bound_at) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (tenant_id, openid) DO UPDATE SET customer_id = excluded.customer_id, bound_at = excluded.bound_at";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().s(openid).s(&customer).t(Utc::now()))).await?;
        Ok(customer)
    }

    pub async fn unbind_openid(&self, openid: &str) -> Result<()> {
        let sql = "DELETE FROM customer_logins WHERE tenant_id = $1 AND openid = $2";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().s(openid))).await?;
        Ok(())
    }

    // ---- what park platforms read ----

    /// Accounts with at least one meter in `properties`.
    pub async fn accounts_in_properties(&self, properties: &[String]) -> Result<std::collections::HashSet<String>> {
        let mut args = self.args();
        let list = in_list(&mut args, properties);
        let sql =
            format!("SELECT DISTINCT account_id FROM meters WHERE tenant_id = $1 AND account_id IS NOT NULL AND property_id IN {list}");
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        rows.iter().map(|r| s(r, "account_id")).collect()
    }

    /// Energy per meter between two daily freezes (`from` and `to` are freeze instants):
    /// (meter id, address, property id, hundredths of kWh on the primary side — PT × CT
    /// applied, as bills do), meters in `properties` only.
    pub async fn daily_energy(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        properties: &[String],
    ) -> Result<Vec<(String, String, String, i64)>> {
        let mut args = self.args().t(from).t(to);
        let list = in_list(&mut args, properties);
        let sql = format!(
            "SELECT m.id, m.address, m.property_id, (b.total_x100 - a.total_x100) * m.pt_ratio * m.ct_ratio AS used
             FROM meters m
             JOIN freezes a ON a.tenant_id = m.tenant_id AND a.meter_id = m.id AND a.kind = 'DAILY' AND a.frozen_at = $2
             JOIN freezes b ON b.tenant_id = m.tenant_id AND b.meter_id = m.id AND b.kind = 'DAILY' AND b.frozen_at = $3
             WHERE m.tenant_id = $1 AND m.property_id IN {list} ORDER BY m.address"
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        rows.iter().map(|r| Ok((s(r, "id")?, s(r, "address")?, s(r, "property_id")?, int(r, "used")?))).collect()
    }

    // ---- property scope ----

    /// Where `id` (canonical UUID text) stands for a principal limited to `scope`.
    pub async fn scope_of(&self, id: &str, scope: &[String]) -> Result<Named> {
        for (table, sql) in SCOPED_TABLES {
            let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args().s(id))).await?;
            if rows.is_empty() {
                continue;
            }
            let properties: Vec<Option<String>> = rows.iter().map(|r| r.try_get("", "p")).collect::<std::result::Result<_, _>>()?;
            // In scope when one of its properties is. Bound to none: a customer without
            // accounts yet is anyone's to open one for; anything else (a tenant-wide payee,
            // an account whose meters were all released) is no scoped operator's.
            let known: Vec<&String> = properties.iter().flatten().collect();
            let in_scope = if known.is_empty() { *table == "customers" } else { known.iter().any(|p| scope.contains(p)) };
            return Ok(if in_scope { Named::InScope } else { Named::OutOfScope });
        }
        for (_, sql) in WHOLLY_SCOPED_TABLES {
            let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args().s(id))).await?;
            if rows.is_empty() {
                continue;
            }
            let properties: Vec<Option<String>> = rows.iter().map(|r| r.try_get("", "p")).collect::<std::result::Result<_, _>>()?;
            let all_in = properties.iter().all(|p| p.as_ref().is_some_and(|p| scope.contains(p)));
            return Ok(if all_in { Named::InScope } else { Named::OutOfScope });
        }
        for table in SHARED_TABLES {
            let sql = format!("SELECT 1 AS x FROM {table} WHERE tenant_id = $1 AND id = $2");
            if self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id))).await?.is_some() {
                return Ok(Named::Shared);
            }
        }
        Ok(Named::Unknown)
    }

    /// Whether a principal limited to `scope` may make a call naming `ids` (canonical): every
    /// id names an object of its properties, except tenant-wide reference objects (tariffs),
    /// which a read may name and a change only beside an object of its own. Anything else —
    /// another property's object, an unknown or tenant-wide id — is refused.
    pub async fn within_scope(&self, ids: &[String], scope: &[String], read_only: bool) -> Result<bool> {
        let mut own = false;
        let mut shared = false;
        for id in ids {
            match self.scope_of(id, scope).await? {
                Named::InScope => own = true,
                Named::Shared => shared = true,
                Named::OutOfScope | Named::Unknown => return Ok(false),
            }
        }
        Ok(!shared || own || read_only)
    }

    /// ` AND {column} IN (…)` for a property-scoped handle, empty otherwise.
    pub(crate) fn scope_clause(&self, column: &str, args: &mut Args) -> String {
        match &self.scope {
            None => String::new(),
            Some(props) => format!(" AND {column} IN {}", in_list(args, props)),
        }
    }

    // ---- audit log ----

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
fn row_json_all(r: &QueryResult) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for col in r.column_names() {
        map.insert(col.clone(), cell(r, &col));
    }
    serde_json::Value::Object(map)
}

fn cell(r: &QueryResult, col: &str) -> serde_json::Value {
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
fn row_json(r: &QueryResult) -> serde_json::Value {
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

impl Store {
    pub async fn platform_record_audit(&self, a: &PlatformAuditRow) -> Result<()> {
        let sql = "INSERT INTO platform_audit (id, at, actor, action, subject_tenant, input, outcome, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let args =
            Args::new().s(&a.id).t(a.at).s(&a.actor).s(&a.action).os(a.subject_tenant.clone()).s(&a.input).s(&a.outcome).s(&a.source);
        self.db.execute_raw(stmt(self.backend(), sql, args)).await?;
        Ok(())
    }

    /// The platform audit log, newest first.
    pub async fn platform_audit_log(&self, limit: u64) -> Result<Vec<PlatformAuditRow>> {
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
