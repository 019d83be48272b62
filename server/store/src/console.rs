//! The platform console's store: the SaaS operator's own logins (argon2id hashes made by the
//! API), sessions that logout revokes, and the platform's health figures across tenants.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, QueryResult};

use super::registry::int;
use super::sql::{Args, stmt};
use super::{Result, StoreError};

/// The subject of SaaS-operator tokens the CLI mints; no console operator may take the name.
pub const CLI_ADMIN: &str = "platform-admin";

/// A platform (SaaS) operator.
#[derive(Debug, Clone)]
pub struct PlatformOperator {
    pub id: String,
    pub username: String,
    pub password_hash: String,
    /// ACTIVE or DISABLED.
    pub status: String,
}

/// The platform at a glance, across every tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformHealth {
    pub tenants: i64,
    pub active_tenants: i64,
    pub meters: i64,
    pub meters_online: i64,
    pub meters_lost: i64,
    pub gateways: i64,
    pub gateways_lost: i64,
    pub commands_queued: i64,
    pub commands_sent: i64,
    pub notifications_pending: i64,
    pub open_alarms: i64,
}

fn operator_row(r: &QueryResult) -> Result<PlatformOperator> {
    Ok(PlatformOperator {
        id: r.try_get("", "id")?,
        username: r.try_get("", "username")?,
        password_hash: r.try_get("", "password_hash")?,
        status: r.try_get("", "status")?,
    })
}

impl super::PlatformStore {
    /// Adds a platform operator; `Duplicate` when the name is taken.
    pub async fn create_operator(&self, username: &str, password_hash: &str, now: DateTime<Utc>) -> Result<PlatformOperator> {
        let username = username.trim();
        if username.is_empty() || username.len() > 64 {
            return Err(StoreError::Invalid(domain::Invalid::new("username", "1 to 64 characters")));
        }
        if username.eq_ignore_ascii_case(CLI_ADMIN) {
            return Err(StoreError::Invalid(domain::Invalid::new("username", "reserved for tokens made by the CLI")));
        }
        let id = crate::ids::time_ordered().to_string();
        let sql = "INSERT INTO platform_operators (id, username, password_hash, status, created_at) VALUES ($1, $2, $3, 'ACTIVE', $4)";
        self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(&id).s(username).s(password_hash).t(now))).await?;
        Ok(PlatformOperator { id, username: username.into(), password_hash: password_hash.into(), status: "ACTIVE".into() })
    }

    pub async fn operator_by_name(&self, username: &str) -> Result<Option<PlatformOperator>> {
        let sql = "SELECT id, username, password_hash, status FROM platform_operators WHERE lower(username) = lower($1)";
        let row = self.db.query_one_raw(stmt(self.backend(), sql, Args::new().s(username.trim()))).await?;
        row.map(|r| operator_row(&r)).transpose()
    }

    /// A new password (its hash); ends every session of the operator. False when unknown.
    pub async fn set_operator_password(&self, username: &str, password_hash: &str, now: DateTime<Utc>) -> Result<bool> {
        let Some(op) = self.operator_by_name(username).await? else { return Ok(false) };
        let sql = "UPDATE platform_operators SET password_hash = $2 WHERE id = $1";
        self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(&op.id).s(password_hash))).await?;
        self.end_sessions(&op.id, now).await?;
        Ok(true)
    }

    /// Disables (`DISABLED`, every session ended) or enables (`ACTIVE`) an operator. False
    /// when unknown.
    pub async fn set_operator_status(&self, username: &str, status: &str, now: DateTime<Utc>) -> Result<bool> {
        if !matches!(status, "ACTIVE" | "DISABLED") {
            return Err(StoreError::Invalid(domain::Invalid::new("status", "ACTIVE or DISABLED")));
        }
        let Some(op) = self.operator_by_name(username).await? else { return Ok(false) };
        let sql = "UPDATE platform_operators SET status = $2 WHERE id = $1";
        self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(&op.id).s(status))).await?;
        if status == "DISABLED" {
            self.end_sessions(&op.id, now).await?;
        }
        Ok(true)
    }

    /// Ends every open console session of an operator.
    async fn end_sessions(&self, operator: &str, now: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE platform_sessions SET revoked_at = $2 WHERE operator_id = $1 AND revoked_at IS NULL";
        self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(operator).t(now))).await?;
        Ok(())
    }

    /// Opens a console session for `ttl`; returns its id.
    pub async fn create_console_session(&self, operator: &str, source: &str, ttl: Duration, now: DateTime<Utc>) -> Result<String> {
        let id = crate::ids::time_ordered().to_string();
        let sql = "INSERT INTO platform_sessions (id, operator_id, source, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";
        self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(&id).s(operator).s(source).t(now).t(now + ttl))).await?;
        let sql = "UPDATE platform_operators SET last_login_at = $2 WHERE id = $1";
        self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(operator).t(now))).await?;
        Ok(id)
    }

    /// The operator's username while the session is open, unexpired and its operator active.
    pub async fn console_session_live(&self, session: &str, operator: &str, now: DateTime<Utc>) -> Result<Option<String>> {
        let sql = "SELECT o.username FROM platform_sessions s JOIN platform_operators o ON o.id = s.operator_id
                   WHERE s.id = $1 AND s.operator_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3 AND o.status = 'ACTIVE'";
        let row = self.db.query_one_raw(stmt(self.backend(), sql, Args::new().s(session).s(operator).t(now))).await?;
        Ok(row.map(|r| r.try_get("", "username")).transpose()?)
    }

    pub async fn revoke_console_session(&self, session: &str, now: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE platform_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
        self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(session).t(now))).await?;
        Ok(())
    }

    /// Counts across every tenant: tenants, live fleet, queues, open alarms.
    pub async fn health(&self) -> Result<PlatformHealth> {
        let sql = "SELECT
            (SELECT COUNT(*) FROM tenants) AS tenants,
            (SELECT COUNT(*) FROM tenants WHERE status = 'ACTIVE') AS active_tenants,
            (SELECT COUNT(*) FROM meters WHERE retired_at IS NULL) AS meters,
            (SELECT COUNT(*) FROM meters m JOIN meter_live l ON l.tenant_id = m.tenant_id AND l.meter_id = m.id
              WHERE m.retired_at IS NULL AND l.link_state = 'ONLINE') AS meters_online,
            (SELECT COUNT(*) FROM meters m JOIN meter_live l ON l.tenant_id = m.tenant_id AND l.meter_id = m.id
              WHERE m.retired_at IS NULL AND l.link_state = 'LOST') AS meters_lost,
            (SELECT COUNT(*) FROM gateways WHERE retired_at IS NULL) AS gateways,
            (SELECT COUNT(*) FROM gateways WHERE retired_at IS NULL AND link_state = 'LOST') AS gateways_lost,
            (SELECT COUNT(*) FROM commands WHERE status = 'QUEUED') AS commands_queued,
            (SELECT COUNT(*) FROM commands WHERE status = 'SENT') AS commands_sent,
            (SELECT COUNT(*) FROM notifications WHERE status = 'PENDING') AS notifications_pending,
            (SELECT COUNT(*) FROM alarms WHERE state = 'ACTIVE') AS open_alarms";
        let Some(r) = self.db.query_one_raw(stmt(self.backend(), sql, Args::new())).await? else { return Ok(PlatformHealth::default()) };
        Ok(PlatformHealth {
            tenants: int(&r, "tenants")?,
            active_tenants: int(&r, "active_tenants")?,
            meters: int(&r, "meters")?,
            meters_online: int(&r, "meters_online")?,
            meters_lost: int(&r, "meters_lost")?,
            gateways: int(&r, "gateways")?,
            gateways_lost: int(&r, "gateways_lost")?,
            commands_queued: int(&r, "commands_queued")?,
            commands_sent: int(&r, "commands_sent")?,
            notifications_pending: int(&r, "notifications_pending")?,
            open_alarms: int(&r, "open_alarms")?,
        })
    }
}
