//! People: roles, operators and their property scope, sessions with rotating refresh tokens,
//! park-platform clients, WeChat logins bound to customers. The audit log is in `audit`, the
//! scope check the API runs before every resolver in `scope`.

use super::audit::*;
use super::registry::int;
use super::scope::*;
use super::sql::{Args, stmt};
use super::{Result, StoreError, TenantStore, hash_secret};
use chrono::{DateTime, Duration, Utc};
use domain::Invalid;
use domain::access::{PermissionSet, builtin_roles};
use domain::ids::TenantId;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult};

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

/// The tenant's mini-program (AppID and secret; the secret is stored wrapped).
#[derive(Debug, Clone)]
pub struct WechatApp {
    pub app_id: String,
    pub secret: String,
    pub api_base: String,
}

/// Tenant-wide objects a scoped operator may name beside an object of its own (a tariff to
/// assign to its meter) or read, but not act on alone.
pub(crate) const SHARED_TABLES: &[&str] = &["tariffs"];

/// Columns never copied into an audit image.
pub(crate) const SECRET_COLUMNS: &[&str] = &["password_hash", "secret_hash", "broker_hash", "wrapped_secret", "secret_wrapped", "carry"];

pub(crate) fn ts(r: &QueryResult, col: &str) -> Result<DateTime<Utc>> {
    Ok(r.try_get("", col)?)
}

pub(crate) fn opt_ts(r: &QueryResult, col: &str) -> Result<Option<DateTime<Utc>>> {
    Ok(r.try_get("", col)?)
}

pub(crate) fn s(r: &QueryResult, col: &str) -> Result<String> {
    Ok(r.try_get("", col)?)
}

pub(crate) fn role_row(r: &QueryResult) -> Result<RoleRow> {
    Ok(RoleRow {
        id: s(r, "id")?,
        name: s(r, "name")?,
        permissions: PermissionSet::decode(&s(r, "permissions")?),
        builtin: int(r, "builtin")? != 0,
    })
}

pub(crate) fn session_row(r: &QueryResult) -> Result<SessionRow> {
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

pub(crate) fn park_row(r: &QueryResult) -> Result<ParkClientRow> {
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

/// A fresh 256-bit secret, URL-safe.
pub fn random_secret() -> String {
    use base64::Engine as _;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) const SESSION_COLS: &str =
    "id, principal_kind, principal_id, source, user_agent, created_at, last_used_at, expires_at, revoked_at, revoked_reason";

pub(crate) const PARK_COLS: &str = "id, name, client_id, scopes, property_ids, created_at, rotated_at, revoked_at";

pub(crate) const AUDIT_COLS: &str =
    "id, at, actor_kind, actor_id, actor_name, action, target_id, input, before_state, after_state, outcome, source";

impl super::PlatformStore {
    /// Platform operation: a tenant with its built-in roles and a first administrator whose
    /// password hash is given.
    pub async fn create_tenant_with_admin(
        &self,
        name: &str,
        slug: &str,
        time_zone: &str,
        admin_username: &str,
        admin_password_hash: &str,
    ) -> Result<TenantId> {
        let id = self.platform().create_tenant(name, slug, time_zone).await?;
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
    pub async fn refresh(&self, token: &str, now: DateTime<Utc>) -> Result<Refresh> {
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
    pub async fn tenant_tables(&self) -> Result<Vec<(String, Vec<String>)>> {
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
    pub async fn tenant_rows(&self, table: &str, tenant: &TenantId) -> Result<Vec<String>> {
        let known = self.platform().tenant_tables().await?;
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
    pub async fn park_client(&self, client_id: &str) -> Result<Option<(TenantId, ParkClientRow, String)>> {
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

    pub(crate) async fn operator_rows(&self, cond: &str, args: Args) -> Result<Vec<OperatorRow>> {
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

    pub(crate) async fn operator_properties(&self, operator: &str) -> Result<Vec<String>> {
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

    pub(crate) async fn check_properties(&self, properties: &Option<Vec<String>>) -> Result<()> {
        for p in properties.iter().flatten() {
            self.require("properties", p).await.map_err(|_| Invalid::new("propertyIds", format!("no such property {p}")))?;
        }
        Ok(())
    }

    pub(crate) async fn write_properties(
        &self,
        txn: &impl ConnectionTrait,
        operator: &str,
        properties: &Option<Vec<String>>,
    ) -> Result<()> {
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

    pub(crate) async fn revoke_sessions_of(&self, kind: &str, principal: &str, keep: Option<&str>, reason: &str) -> Result<()> {
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
        let txn = self.db().begin().await?;
        self.claim_global(&txn, super::global_keys::GlobalKey::ParkClient, &client_id).await?;
        txn.execute_raw(stmt(self.backend(), sql, args)).await?;
        txn.commit().await?;
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
        let kind = super::global_keys::GlobalKey::WechatApp;
        // The row first: its lock makes a concurrent change by the same tenant wait, so the
        // key check below sees what that change committed.
        let txn = self.db().begin().await?;
        txn.execute_raw(stmt(self.backend(), sql, self.args().s(app_id).s(wrapped).s(api_base).t(Utc::now()))).await?;
        self.hold_global(&txn, kind, app_id).await?;
        self.release_global_except(&txn, kind, app_id).await?;
        txn.commit().await?;
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

    /// The tenant's WeChat official account (公众号) for the mobile pages' login inside
    /// WeChat's browser: AppID, secret (stored encrypted), API base and the authorize page.
    pub async fn set_wechat_official_account(&self, app: &WechatApp, authorize_url: &str) -> Result<()> {
        let wrapped = self.store.kek()?.wrap(&format!("{}/WECHAT_OA", self.tenant.as_str()), app.secret.as_bytes())?;
        let sql = "INSERT INTO wechat_official_accounts (tenant_id, app_id, wrapped_secret, api_base, authorize_url, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6)
                   ON CONFLICT (tenant_id) DO UPDATE SET app_id = excluded.app_id, wrapped_secret = excluded.wrapped_secret,
                   api_base = excluded.api_base, authorize_url = excluded.authorize_url, updated_at = excluded.updated_at";
        let args = self.args().s(&app.app_id).s(wrapped).s(&app.api_base).s(authorize_url).t(Utc::now());
        let kind = super::global_keys::GlobalKey::OfficialAccount;
        let txn = self.db().begin().await?;
        txn.execute_raw(stmt(self.backend(), sql, args)).await?;
        self.hold_global(&txn, kind, &app.app_id).await?;
        self.release_global_except(&txn, kind, &app.app_id).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The official account with its secret opened, and its authorize page.
    pub async fn wechat_official_account(&self) -> Result<Option<(WechatApp, String)>> {
        let sql = "SELECT app_id, wrapped_secret, api_base, authorize_url FROM wechat_official_accounts WHERE tenant_id = $1";
        let Some(r) = self.db().query_one_raw(stmt(self.backend(), sql, self.args())).await? else {
            return Ok(None);
        };
        let secret = self.store.kek()?.unwrap(&format!("{}/WECHAT_OA", self.tenant.as_str()), &s(&r, "wrapped_secret")?)?;
        let app = WechatApp {
            app_id: s(&r, "app_id")?,
            secret: String::from_utf8(secret).map_err(|_| StoreError::Database("wechat secret is not text".into()))?,
            api_base: s(&r, "api_base")?,
        };
        Ok(Some((app, s(&r, "authorize_url")?)))
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

    /// The account's binding code (绑定码) the property prints for its customer: made on the
    /// first ask, or anew with `rotate` (the old one stops working at once). Eight characters
    /// without look-alikes (no 0/O, 1/I/L, U); stored wrapped with the KEK and as a hash.
    pub async fn binding_code(&self, account: &domain::ids::AccountId, rotate: bool) -> Result<String> {
        let b = self.backend();
        let sql = "SELECT binding_code_wrapped FROM accounts WHERE tenant_id = $1 AND id = $2 AND closed_at IS NULL";
        let row = self.db().query_one_raw(stmt(b, sql, self.args().s(account.as_str()))).await?.ok_or(StoreError::NotFound)?;
        let aad = format!("{}/binding/{}", self.tenant, account);
        let stored: Option<String> = row.try_get("", "binding_code_wrapped")?;
        if let (Some(w), false) = (stored, rotate) {
            return String::from_utf8(self.store.kek()?.unwrap(&aad, &w)?)
                .map_err(|_| StoreError::Database("binding code is not text".into()));
        }
        const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
        let bytes: [u8; 8] = rand::random();
        let code: String = bytes.iter().map(|x| char::from(ALPHABET[usize::from(*x) % ALPHABET.len()])).collect();
        let wrapped = self.store.kek()?.wrap(&aad, code.as_bytes())?;
        let sql = "UPDATE accounts SET binding_code_wrapped = $3, binding_code_hash = $4, binding_failures = 0, binding_locked_until = NULL
                   WHERE tenant_id = $1 AND id = $2";
        self.db()
            .execute_raw(stmt(
                b,
                sql,
                self.args().s(account.as_str()).s(wrapped).s(binding_hash(self.tenant.as_str(), account.as_str(), &code)),
            ))
            .await?;
        Ok(code)
    }

    /// Binds a login to the customer of the open account `account_number` whose binding code
    /// is `code` (spaces, dashes and case ignored): `subject` names the login from the
    /// customer's id (a WeChat openid, or the mobile pages' login by code). Ten wrong codes for
    /// an account lock binding by code for an hour (binding by phone still works; a new code
    /// clears it). Every refusal but the lock looks the same: no such account, or not its code.
    /// Returns (customer, subject).
    pub async fn bind_by_code(
        &self,
        subject: impl FnOnce(&str) -> String,
        account_number: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, String)> {
        let b = self.backend();
        // Write first (SQLite: a transaction that reads first cannot take the write lock later).
        let txn = self.db().begin().await?;
        let sql = "UPDATE accounts SET binding_failures = binding_failures WHERE tenant_id = $1 AND number = $2 AND closed_at IS NULL";
        txn.execute_raw(stmt(b, sql, self.args().s(account_number))).await?;
        let sql = "SELECT a.id, a.customer_id, a.binding_code_hash, a.binding_failures, a.binding_locked_until FROM accounts a
                   JOIN customers c ON c.tenant_id = a.tenant_id AND c.id = a.customer_id
                   WHERE a.tenant_id = $1 AND a.number = $2 AND a.closed_at IS NULL AND c.retired_at IS NULL";
        let Some(r) = txn.query_one_raw(stmt(b, sql, self.args().s(account_number))).await? else {
            return Err(StoreError::NotFound);
        };
        let (account, customer) = (s(&r, "id")?, s(&r, "customer_id")?);
        let locked: Option<DateTime<Utc>> = r.try_get("", "binding_locked_until")?;
        if locked.is_some_and(|l| l > now) {
            return Err(StoreError::Conflict(
                "too many wrong binding codes for this account; try again in an hour or bind with the phone number".into(),
            ));
        }
        let given: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_uppercase();
        let stored: Option<String> = r.try_get("", "binding_code_hash")?;
        if given.is_empty() || stored.as_deref() != Some(binding_hash(self.tenant.as_str(), &account, &given).as_str()) {
            let failures = int(&r, "binding_failures")? + 1;
            let (failures, until) = if failures >= 10 { (0, Some(now + Duration::hours(1))) } else { (failures, None) };
            let sql = "UPDATE accounts SET binding_failures = $3, binding_locked_until = $4 WHERE tenant_id = $1 AND id = $2";
            txn.execute_raw(stmt(b, sql, self.args().s(&account).i(failures).ot(until))).await?;
            txn.commit().await?;
            return Err(StoreError::NotFound);
        }
        let sql = "UPDATE accounts SET binding_failures = 0, binding_locked_until = NULL WHERE tenant_id = $1 AND id = $2";
        txn.execute_raw(stmt(b, sql, self.args().s(&account))).await?;
        let openid = subject(&customer);
        let sql = "INSERT INTO customer_logins (tenant_id, openid, customer_id, bound_at) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (tenant_id, openid) DO UPDATE SET customer_id = excluded.customer_id, bound_at = excluded.bound_at";
        txn.execute_raw(stmt(b, sql, self.args().s(&openid).s(&customer).t(now))).await?;
        txn.commit().await?;
        Ok((customer, openid))
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

    // ---- audit log ----
}

/// What a binding code is stored and compared as: bound to its tenant and account.
fn binding_hash(tenant: &str, account: &str, code: &str) -> String {
    hash_secret(&format!("binding:{tenant}:{account}:{code}"))
}
