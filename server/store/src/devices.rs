//! Device logins: the fleet of a device, credentials issued once, rotated and revoked.

use super::registry::*;
use super::sql::stmt;
use super::{Result, StoreError, TenantStore, hash_secret, mosquitto_hash};
use chrono::Utc;
use sea_orm::ConnectionTrait;

/// A device's broker login, shown once when issued.
#[derive(Debug, Clone)]
pub struct IssuedCredential {
    pub username: String,
    pub password: String,
}

/// Which object a device login belongs to.
#[derive(Debug, Clone, Copy)]
pub enum DeviceOwner {
    Meter,
    Gateway,
}

impl DeviceOwner {
    pub(crate) fn column(self) -> &'static str {
        match self {
            DeviceOwner::Meter => "meter_id",
            DeviceOwner::Gateway => "gateway_id",
        }
    }
}

pub(crate) fn new_credential() -> IssuedCredential {
    let user = uuid::Uuid::new_v4().simple().to_string();
    let secret = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    IssuedCredential { username: format!("d{}", user.get(..15).unwrap_or(&user)), password: secret }
}

/// One device of a tenant's fleet with the meters it speaks for (simulator and demo use).
#[derive(Debug, Clone)]
pub struct FleetDevice {
    pub username: String,
    pub gateway: bool,
    /// (address, phases)
    pub meters: Vec<(String, i64)>,
}

/// Each device login with the meters it speaks for — its own meter (a 4G meter) or every
/// meter behind its gateway — as `dm`. Two equi-joins instead of one join on an OR, which
/// PostgreSQL can only run as a nested loop (a minute at 10,000 devices).
pub(crate) const DEVICE_METERS: &str = "(SELECT c.tenant_id, c.username, c.gateway_id AS login_gateway_id, c.revoked_at,
        m.id AS meter_id, m.address, m.phases, m.gateway_id, m.retired_at
      FROM device_credentials c JOIN meters m ON m.tenant_id = c.tenant_id AND m.id = c.meter_id
    UNION ALL
    SELECT c.tenant_id, c.username, c.gateway_id, c.revoked_at, m.id, m.address, m.phases, m.gateway_id, m.retired_at
      FROM device_credentials c JOIN meters m ON m.tenant_id = c.tenant_id AND m.gateway_id = c.gateway_id AND c.gateway_id IS NOT NULL) dm";

impl TenantStore {
    /// Every active device login of the tenant with its meters.
    pub async fn device_fleet(&self) -> Result<Vec<FleetDevice>> {
        let sql = format!(
            "SELECT dm.username, dm.login_gateway_id AS gateway_id, dm.address, dm.phases FROM {DEVICE_METERS}
             WHERE dm.tenant_id = $1 AND dm.revoked_at IS NULL AND dm.retired_at IS NULL
             ORDER BY dm.username, dm.address"
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, self.args())).await?;
        let mut out: Vec<FleetDevice> = Vec::new();
        for r in rows {
            let username: String = r.try_get("", "username")?;
            let gateway = r.try_get::<Option<String>>("", "gateway_id")?.is_some();
            let meter = (r.try_get("", "address")?, int(&r, "phases")?);
            match out.last_mut() {
                Some(d) if d.username == username => d.meters.push(meter),
                _ => out.push(FleetDevice { username, gateway, meters: vec![meter] }),
            }
        }
        Ok(out)
    }

    /// Replaces a device's secret (rotation; the demo derives its simulator secrets).
    pub async fn set_device_secret(&self, username: &str, secret: &str) -> Result<()> {
        let sql = "UPDATE device_credentials SET secret_hash = $3, broker_hash = $4 WHERE tenant_id = $1 AND username = $2 AND revoked_at IS NULL";
        let args = self.args().s(username).s(hash_secret(secret)).s(mosquitto_hash(secret));
        let res = self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// A new secret for the active login of a meter or gateway (`owner` = `meter_id` or
    /// `gateway_id`); the username stays, the old secret stops working at the next connect.
    pub async fn rotate_device_credential(&self, owner: DeviceOwner, id: &str) -> Result<IssuedCredential> {
        let sql =
            format!("SELECT username FROM device_credentials WHERE tenant_id = $1 AND {} = $2 AND revoked_at IS NULL", owner.column());
        let row = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id))).await?.ok_or(StoreError::NotFound)?;
        let username: String = row.try_get("", "username")?;
        let password = new_credential().password;
        self.set_device_secret(&username, &password).await?;
        self.store.reload_caches().await?;
        Ok(IssuedCredential { username, password })
    }

    /// Ends a device's login; a fresh one can be issued with `issue_device_credential`.
    pub async fn revoke_device_credential(&self, owner: DeviceOwner, id: &str) -> Result<()> {
        let sql = format!(
            "UPDATE device_credentials SET revoked_at = $3 WHERE tenant_id = $1 AND {} = $2 AND revoked_at IS NULL",
            owner.column()
        );
        let res = self.db().execute_raw(stmt(self.backend(), &sql, self.args().s(id).t(Utc::now()))).await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.store.reload_caches().await
    }

    pub async fn reload(&self) -> Result<()> {
        self.store.reload_caches().await
    }
}
