//! Secrets at rest. Each tenant has a meter master key (2-key 3DES), stored only wrapped with
//! the key-encryption key from configuration (AES-256-GCM, the tenant and purpose bound in as
//! associated data); a meter's own key is diversified from it by address (profile
//! `VL3DES-1`, docs/CONTROL.md). Keys never leave the process except to provision meters.

// aes-gcm 0.10 still speaks generic-array 0.14, deprecated in favour of 1.x.
#![allow(deprecated)]

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use dlt645::Address;
use dlt645::secure::Key;
use sea_orm::ConnectionTrait;

use super::sql::{Args, stmt};
use super::{Result, Store, StoreError, TenantStore};
use domain::ids::MeterId;

const METER_MASTER: &str = "METER_MASTER";

/// The key-encryption key (32 bytes, given as 64 hex digits).
#[derive(Clone)]
pub struct Kek(Aes256Gcm);

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(<redacted>)")
    }
}

impl Kek {
    pub fn from_hex(text: &str) -> std::result::Result<Self, String> {
        let bytes = hex::decode(text.trim()).map_err(|_| "the key-encryption key must be 64 hex digits".to_string())?;
        Aes256Gcm::new_from_slice(&bytes).map(Self).map_err(|_| "the key-encryption key must be 32 bytes (64 hex digits)".to_string())
    }

    /// `v1:` + base64(nonce ‖ ciphertext ‖ tag).
    pub fn wrap(&self, aad: &str, secret: &[u8]) -> Result<String> {
        let nonce: [u8; 12] = rand::random();
        let sealed = self
            .0
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret, aad: aad.as_bytes() })
            .map_err(|_| StoreError::Database("wrapping a key failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(format!("v1:{}", B64.encode(out)))
    }

    pub fn unwrap(&self, aad: &str, wrapped: &str) -> Result<Vec<u8>> {
        let bad = || StoreError::Database("a stored key does not open with the configured key-encryption key".into());
        let raw = wrapped.strip_prefix("v1:").and_then(|b| B64.decode(b).ok()).ok_or_else(bad)?;
        if raw.len() < 12 {
            return Err(bad());
        }
        let (nonce, sealed) = raw.split_at(12);
        self.0.decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: aad.as_bytes() }).map_err(|_| bad())
    }
}

/// The KEK and the master keys already opened, by tenant.
#[derive(Default)]
pub(crate) struct KeyRing {
    kek: Option<Kek>,
    masters: HashMap<String, Key>,
}

pub(crate) type SharedKeyRing = Arc<RwLock<KeyRing>>;

fn aad(tenant: &str, purpose: &str, version: i64) -> String {
    format!("{tenant}/{purpose}/{version}")
}

impl Store {
    pub fn set_key_encryption_key(&self, kek: Kek) {
        if let Ok(mut ring) = self.keys.write() {
            ring.kek = Some(kek);
            ring.masters.clear();
        }
    }

    pub(crate) fn kek(&self) -> Result<Kek> {
        self.keys
            .read()
            .ok()
            .and_then(|r| r.kek.clone())
            .ok_or_else(|| StoreError::Database("no key-encryption key is configured (VOLTLEDGER__SECURITY__KEK)".into()))
    }

    /// The tenant's meter master key: opened from storage, or made on first use.
    async fn meter_master(&self, tenant: &str) -> Result<Key> {
        if let Some(k) = self.keys.read().ok().and_then(|r| r.masters.get(tenant).cloned()) {
            return Ok(k);
        }
        let kek = self.kek()?;
        let b = self.backend();
        let load = "SELECT version, wrapped FROM tenant_keys WHERE tenant_id = $1 AND purpose = $2 ORDER BY version DESC LIMIT 1";
        let mut row = self.db.query_one_raw(stmt(b, load, Args::new().s(tenant).s(METER_MASTER))).await?;
        if row.is_none() {
            let fresh: [u8; 16] = rand::random();
            let wrapped = kek.wrap(&aad(tenant, METER_MASTER, 1), &fresh)?;
            let sql = "INSERT INTO tenant_keys (tenant_id, purpose, version, wrapped, created_at) VALUES ($1, $2, 1, $3, $4)
                       ON CONFLICT (tenant_id, purpose, version) DO NOTHING";
            self.db.execute_raw(stmt(b, sql, Args::new().s(tenant).s(METER_MASTER).s(wrapped).t(chrono::Utc::now()))).await?;
            row = self.db.query_one_raw(stmt(b, load, Args::new().s(tenant).s(METER_MASTER))).await?;
        }
        let row = row.ok_or(StoreError::NotFound)?;
        let version = super::registry::int(&row, "version")?;
        let wrapped: String = row.try_get("", "wrapped")?;
        let bytes: [u8; 16] = kek
            .unwrap(&aad(tenant, METER_MASTER, version), &wrapped)?
            .try_into()
            .map_err(|_| StoreError::Database("a stored meter master key has the wrong length".into()))?;
        let key = Key::from_bytes(bytes);
        if let Ok(mut ring) = self.keys.write() {
            ring.masters.insert(tenant.to_string(), key.clone());
        }
        Ok(key)
    }
}

impl super::PlatformStore {
    /// The 3DES key of the meter at `address` in `tenant`.
    pub async fn meter_key(&self, tenant: &str, address: Address) -> Result<Key> {
        Ok(self.meter_master(tenant).await?.for_meter(address))
    }

    /// The next command counter of a meter (1, 2, …); every protected frame takes a new one,
    /// re-sends included, so the meter can refuse anything it has seen.
    pub async fn next_counter(&self, tenant: &str, meter: &str) -> Result<u32> {
        let sql = "INSERT INTO meter_counters (tenant_id, meter_id, counter) VALUES ($1, $2, 1)
                   ON CONFLICT (tenant_id, meter_id) DO UPDATE SET counter = meter_counters.counter + 1 RETURNING counter";
        let row = self.db.query_one_raw(stmt(self.backend(), sql, Args::new().s(tenant).s(meter))).await?.ok_or(StoreError::NotFound)?;
        u32::try_from(super::registry::int(&row, "counter")?)
            .map_err(|_| StoreError::Conflict("the meter's command counter is exhausted".into()))
    }
}

impl TenantStore {
    /// A meter's 3DES key, for provisioning it (the simulator, a factory key file). Never part
    /// of any API answer or log line.
    pub async fn meter_key(&self, meter: &MeterId) -> Result<Key> {
        let sql = "SELECT address FROM meters WHERE tenant_id = $1 AND id = $2";
        let row = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(meter.as_str()))).await?;
        let address: String = row.ok_or(StoreError::NotFound)?.try_get("", "address")?;
        let address = Address::parse(&address).map_err(|e| StoreError::Database(e.to_string()))?;
        self.key_for_address(address).await
    }

    /// The key a meter at `address` of this tenant holds (derived; no lookup).
    pub async fn key_for_address(&self, address: Address) -> Result<Key> {
        self.store.platform().meter_key(self.tenant.as_str(), address).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn wrapped_keys_open_only_with_the_same_kek_and_binding() {
        let kek = Kek::from_hex(&"ab".repeat(32)).unwrap();
        let w = kek.wrap("t1/METER_MASTER/1", b"0123456789abcdef").unwrap();
        assert!(!w.contains("0123456789abcdef"));
        assert_eq!(kek.unwrap("t1/METER_MASTER/1", &w).unwrap(), b"0123456789abcdef");
        assert!(kek.unwrap("t2/METER_MASTER/1", &w).is_err(), "another tenant's binding");
        assert!(Kek::from_hex(&"cd".repeat(32)).unwrap().unwrap("t1/METER_MASTER/1", &w).is_err());
        assert!(kek.unwrap("t1/METER_MASTER/1", "v1:AAAA").is_err());
        assert!(Kek::from_hex("abc").is_err());
        assert_eq!(format!("{kek:?}"), "Kek(<redacted>)");
    }
}
