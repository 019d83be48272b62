//! Payee credentials (WeChat Pay direct merchant keys, Alipay app keys): wrapped with the KEK,
//! bound to tenant and payee, never read back out through the API.

use super::payments::*;
use super::sql::{Args, stmt};
use super::{Result, StoreError, TenantStore};
use chrono::{DateTime, Utc};
use domain::ids::TenantId;
use sea_orm::ConnectionTrait;

/// A payee's own credential set for one channel: a WeChat Pay merchant of its own (direct
/// mode) or an Alipay app. Secrets are wrapped with the KEK at rest and never leave the server.
#[derive(Clone)]
pub struct PayeeCredentials {
    /// WECHAT or ALIPAY.
    pub channel: String,
    pub app_id: String,
    /// WeChat `mchid`; Alipay `seller_id` (2088…).
    pub merchant_id: String,
    /// WeChat: the merchant API certificate serial; Alipay: empty.
    pub serial: String,
    pub private_key_pem: String,
    /// WeChat: the APIv3 key; Alipay: empty.
    pub secret: String,
    /// Keys that verify the channel's signatures: (serial or PUB_KEY_ID_…, SPKI PEM) for
    /// WeChat — several during a rotation; ("alipay", PEM) for Alipay.
    pub verify_keys: Vec<(String, String)>,
    /// WeChat's API host or Alipay's gateway (or a stand-in).
    pub api_base: String,
    /// Where the channel posts this payee's notifications.
    pub notify_url: String,
    pub updated_at: DateTime<Utc>,
}

/// A payee's credential set as operators may see it: no secrets.
#[derive(Debug, Clone)]
pub struct CredentialSummary {
    pub payee_id: String,
    pub channel: String,
    pub app_id: String,
    pub merchant_id: String,
    pub serial: String,
    pub verify_key_ids: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for PayeeCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PayeeCredentials({}, {}, {}, <keys>)", self.channel, self.app_id, self.merchant_id)
    }
}

impl super::PlatformStore {
    /// A payee by id, whichever tenant it belongs to (a direct merchant's notification names
    /// its payee in the path): (tenant id, payee).
    pub async fn payee(&self, id: &str) -> Result<Option<(TenantId, PayeeRow)>> {
        let sql = format!("SELECT tenant_id, {PAYEE_COLS} FROM payees WHERE id = $1 AND retired_at IS NULL");
        let Some(r) = self.db.query_one_raw(stmt(self.backend(), &sql, Args::new().s(id))).await? else { return Ok(None) };
        let tenant = TenantId::parse(&r.try_get::<String>("", "tenant_id")?).ok_or(StoreError::NotFound)?;
        Ok(Some((tenant, payee_row(&r)?)))
    }
}

impl TenantStore {
    pub async fn payee(&self, id: &str) -> Result<Option<PayeeRow>> {
        Ok(self.payees().await?.into_iter().find(|p| p.id == id))
    }

    pub(crate) fn credential_aad(&self, payee: &str, channel: &str, what: &str) -> String {
        format!("{}/PAYEE/{payee}/{channel}/{what}", self.tenant_id().as_str())
    }

    /// Sets (or rotates) a payee's credentials for a channel.
    pub async fn set_payee_credentials(&self, payee: &str, c: &PayeeCredentials) -> Result<()> {
        self.payee(payee).await?.ok_or(StoreError::NotFound)?;
        self.merchant_free(&c.merchant_id, Some(&c.app_id).filter(|_| c.channel == "ALIPAY").map(|s| s.as_str())).await?;
        let kek = self.store.kek()?;
        let key = kek.wrap(&self.credential_aad(payee, &c.channel, "key"), c.private_key_pem.as_bytes())?;
        let secret = kek.wrap(&self.credential_aad(payee, &c.channel, "secret"), c.secret.as_bytes())?;
        let keys = serde_json::to_string(&c.verify_keys).map_err(|e| StoreError::Database(e.to_string()))?;
        let sql = "INSERT INTO payee_credentials (tenant_id, payee_id, channel, app_id, merchant_id, serial, wrapped_private_key, wrapped_secret, verify_keys, api_base, notify_url, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                   ON CONFLICT (tenant_id, payee_id, channel) DO UPDATE SET app_id = excluded.app_id, merchant_id = excluded.merchant_id,
                   serial = excluded.serial, wrapped_private_key = excluded.wrapped_private_key, wrapped_secret = excluded.wrapped_secret,
                   verify_keys = excluded.verify_keys, api_base = excluded.api_base, notify_url = excluded.notify_url, updated_at = excluded.updated_at";
        let args = self
            .args()
            .s(payee)
            .s(&c.channel)
            .s(&c.app_id)
            .s(&c.merchant_id)
            .s(&c.serial)
            .s(key)
            .s(secret)
            .s(keys)
            .s(&c.api_base)
            .s(&c.notify_url)
            .t(Utc::now());
        self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        Ok(())
    }

    /// What credential sets the tenant's payees have, without their secrets: (payee id,
    /// channel, app id, merchant id, serial, verification key names, updated at).
    pub async fn payee_credential_summaries(&self) -> Result<Vec<CredentialSummary>> {
        let sql =
            "SELECT payee_id, channel, app_id, merchant_id, serial, verify_keys, updated_at FROM payee_credentials WHERE tenant_id = $1
                   ORDER BY payee_id, channel";
        let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args())).await?;
        rows.iter()
            .map(|r| {
                let keys: Vec<(String, String)> = serde_json::from_str(&r.try_get::<String>("", "verify_keys")?).unwrap_or_default();
                Ok(CredentialSummary {
                    payee_id: r.try_get("", "payee_id")?,
                    channel: r.try_get("", "channel")?,
                    app_id: r.try_get("", "app_id")?,
                    merchant_id: r.try_get("", "merchant_id")?,
                    serial: r.try_get("", "serial")?,
                    verify_key_ids: keys.into_iter().map(|(k, _)| k).collect(),
                    updated_at: r.try_get("", "updated_at")?,
                })
            })
            .collect()
    }

    /// A payee's credentials for a channel, secrets opened (for calls to the channel only).
    pub async fn payee_credentials(&self, payee: &str, channel: &str) -> Result<Option<PayeeCredentials>> {
        let sql = "SELECT app_id, merchant_id, serial, wrapped_private_key, wrapped_secret, verify_keys, api_base, notify_url, updated_at
                   FROM payee_credentials WHERE tenant_id = $1 AND payee_id = $2 AND channel = $3";
        let Some(r) = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(payee).s(channel))).await? else { return Ok(None) };
        let kek = self.store.kek()?;
        let text = |b: Vec<u8>| String::from_utf8(b).map_err(|_| StoreError::Database("stored key is not text".into()));
        let key = text(kek.unwrap(&self.credential_aad(payee, channel, "key"), &r.try_get::<String>("", "wrapped_private_key")?)?)?;
        let secret = text(kek.unwrap(&self.credential_aad(payee, channel, "secret"), &r.try_get::<String>("", "wrapped_secret")?)?)?;
        Ok(Some(PayeeCredentials {
            channel: channel.into(),
            app_id: r.try_get("", "app_id")?,
            merchant_id: r.try_get("", "merchant_id")?,
            serial: r.try_get("", "serial")?,
            private_key_pem: key,
            secret,
            verify_keys: serde_json::from_str(&r.try_get::<String>("", "verify_keys")?).unwrap_or_default(),
            api_base: r.try_get("", "api_base")?,
            notify_url: r.try_get("", "notify_url")?,
            updated_at: r.try_get("", "updated_at")?,
        }))
    }
}
