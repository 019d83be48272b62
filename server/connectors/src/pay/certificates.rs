//! WeChat Pay platform certificates (payments.md §1.4): `GET /v3/certificates`, answered
//! signed by a key we already trust, each certificate AES-GCM-encrypted with the merchant's
//! APIv3 key. A refresh adds the certificates WeChat announces (a rotation: the new one
//! arrives before the old one retires, so both verify during the overlap) and drops expired
//! ones; the WeChat Pay public key (`PUB_KEY_ID_…`) never expires and is kept. The first
//! certificate is trusted out of band (the operator pastes it), never on first use.

use serde::Deserialize;

use super::wechatpay::{self, PlatformCertificate, Resource, same_serial};
use super::{Merchant, PayError};
use store::{Store, StoreError, TenantStore};

/// The certificates WeChat lists, decrypted and checked: (serial, certificate PEM).
pub async fn download(m: &Merchant) -> Result<Vec<(String, String)>, PayError> {
    #[derive(Deserialize)]
    struct Item {
        serial_no: String,
        encrypt_certificate: Resource,
    }
    #[derive(Deserialize)]
    struct List {
        data: Vec<Item>,
    }
    let list: List = m.call_json("GET", "/v3/certificates", None).await?;
    let mut out = Vec::new();
    for item in list.data {
        if item.encrypt_certificate.associated_data != "certificate" {
            return Err(PayError::Protocol("a certificate's associated_data is not \"certificate\"".into()));
        }
        let plain = wechatpay::decrypt(m.api_v3_key.as_bytes(), &item.encrypt_certificate).map_err(PayError::Untrusted)?;
        let pem = String::from_utf8(plain).map_err(|_| PayError::Protocol("a certificate is not text".into()))?;
        let cert = PlatformCertificate::parse(&pem).map_err(PayError::Untrusted)?;
        if !same_serial(&cert.serial, &item.serial_no) {
            return Err(PayError::Protocol(format!("certificate {} is listed as {}", cert.serial, item.serial_no)));
        }
        out.push((item.serial_no, pem));
    }
    Ok(out)
}

/// The keys to trust after a download: public keys as they are, certificates still valid
/// at `now`, and the downloaded ones not yet known.
pub fn merge(current: &[(String, String)], downloaded: Vec<(String, String)>, now: i64) -> Vec<(String, String)> {
    let valid = |pem: &str| PlatformCertificate::parse(pem).is_ok_and(|c| c.not_before <= now && now < c.not_after);
    let mut keys: Vec<(String, String)> =
        current.iter().filter(|(_, pem)| !pem.contains("BEGIN CERTIFICATE") || valid(pem)).cloned().collect();
    for (serial, pem) in downloaded {
        if valid(&pem) && !keys.iter().any(|(s, _)| same_serial(s, &serial)) {
            keys.push((serial, pem));
        }
    }
    keys
}

/// Whether a merchant verifies with platform certificates (public-key mode needs no refresh).
pub fn uses_certificates(keys: &[(String, String)]) -> bool {
    keys.iter().any(|(_, pem)| pem.contains("BEGIN CERTIFICATE"))
}

/// Refreshes the platform's service-provider account: its key ids afterwards.
pub async fn refresh_provider(store: &Store, now: i64) -> Result<Vec<String>, String> {
    let mut p = store.platform().payment_provider().await.map_err(|e| e.to_string())?.ok_or("WeChat Pay is not configured")?;
    let downloaded = download(&Merchant::partner(&p).map_err(|e| e.to_string())?).await.map_err(|e| e.to_string())?;
    let keys = merge(&p.wechat_keys, downloaded, now);
    if keys.is_empty() {
        return Err("no valid key would be left".into());
    }
    if keys != p.wechat_keys {
        p.wechat_keys = keys;
        store.platform().set_payment_provider(&p).await.map_err(|e| e.to_string())?;
    }
    Ok(p.wechat_keys.into_iter().map(|(k, _)| k).collect())
}

/// Refreshes a direct payee's WeChat keys: its key ids afterwards.
pub async fn refresh_payee(t: &TenantStore, payee: &str, now: i64) -> Result<Vec<String>, String> {
    let mut c = t.payee_credentials(payee, "WECHAT").await.map_err(|e| e.to_string())?.ok_or("the payee has no WeChat Pay keys")?;
    let downloaded = download(&Merchant::direct(&c).map_err(|e| e.to_string())?).await.map_err(|e| e.to_string())?;
    let keys = merge(&c.verify_keys, downloaded, now);
    if keys.is_empty() {
        return Err("no valid key would be left".into());
    }
    if keys != c.verify_keys {
        c.verify_keys = keys;
        t.set_payee_credentials(payee, &c).await.map_err(|e| e.to_string())?;
    }
    Ok(c.verify_keys.into_iter().map(|(k, _)| k).collect())
}

/// The scheduled pass (every few hours, well inside WeChat's overlap): every merchant in
/// certificate mode. Failures are logged and retried on the next pass.
pub async fn refresh_all(store: &Store, now: i64) -> Result<usize, StoreError> {
    let mut refreshed = 0;
    if let Some(p) = store.platform().payment_provider().await?
        && uses_certificates(&p.wechat_keys)
    {
        match refresh_provider(store, now).await {
            Ok(_) => refreshed += 1,
            Err(e) => tracing::warn!(cause = %e, "refreshing the provider's platform certificates failed"),
        }
    }
    for tenant in store.platform().tenants().await?.into_iter().filter(|t| t.status == "ACTIVE") {
        let t = store.tenant(tenant.id.clone());
        for payee in t.payees().await?.into_iter().filter(|p| p.mode == "DIRECT") {
            let Some(c) = t.payee_credentials(&payee.id, "WECHAT").await? else { continue };
            if !uses_certificates(&c.verify_keys) {
                continue;
            }
            match refresh_payee(&t, &payee.id, now).await {
                Ok(_) => refreshed += 1,
                Err(e) => tracing::warn!(tenant = %tenant.slug, payee = %payee.name, cause = %e, "refreshing platform certificates failed"),
            }
        }
    }
    Ok(refreshed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A self-signed certificate from the `openssl` CLI: (serial, PEM).
    fn openssl_certificate(serial: &str, days: u32) -> (String, String) {
        let dir = std::env::temp_dir().join(format!("vl-cert-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = std::process::Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", &days.to_string()])
            .args(["-subj", "/CN=Tenpay.com Root CA", "-set_serial", &format!("0x{serial}")])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let pem = std::fs::read_to_string(dir.join("cert.pem")).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        (serial.to_string(), pem)
    }

    #[test]
    fn certificates_parse_and_must_carry_the_serial_they_are_listed_under() {
        let (serial, pem) = openssl_certificate("3775B6A45ACD588826D15E583A95F5DD20FA6FE7", 30);
        let cert = PlatformCertificate::parse(&pem).unwrap();
        assert!(same_serial(&cert.serial, &serial), "{} vs {serial}", cert.serial);
        assert!(cert.not_after - cert.not_before >= 29 * 86_400);
        let mut ring = wechatpay::KeyRing::default();
        ring.add_pem(&serial, &pem).unwrap();
        assert!(ring.add_pem("0123ABCD", &pem).is_err(), "listed under another serial");
        assert!(PlatformCertificate::parse("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----").is_err());
    }

    #[test]
    fn a_refresh_adds_new_certificates_drops_expired_ones_and_keeps_public_keys() {
        let (_, public) = wechatpay::generate_key_pair().unwrap();
        let old = openssl_certificate("0A01", 1);
        let new = openssl_certificate("0B02", 30);
        let current = vec![("PUB_KEY_ID_0114232134912410000000000000".to_string(), public), old.clone()];
        let now = chrono::Utc::now().timestamp();
        let merged = merge(&current, vec![old.clone(), new.clone()], now);
        assert_eq!(merged.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["PUB_KEY_ID_0114232134912410000000000000", "0A01", "0B02"]);
        let in_ten_days = now + 10 * 86_400;
        let merged = merge(&merged, vec![old, new], in_ten_days);
        assert_eq!(
            merged.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["PUB_KEY_ID_0114232134912410000000000000", "0B02"],
            "expired dropped, not re-added"
        );
        assert!(uses_certificates(&merged));
    }
}
