//! WeChat Pay API v3, the protocol core (../shared/reference/payments.md §1): request
//! signing (`WECHATPAY2-SHA256-RSA2048`), verification of WeChat's signed responses and
//! callbacks against a key ring indexed by `Wechatpay-Serial`, the `AEAD_AES_256_GCM`
//! resources, and the mini-program `paySign`. Private-key signing uses `ring` (constant time);
//! the `rsa` crate only parses PEM public keys and makes the stand-in's keys.

use std::collections::HashMap;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey};

pub const SIGNATURE_TYPE: &str = "WECHATPAY2-SHA256-RSA2048";
/// Callbacks and responses older or newer than this are refused.
pub const TIMESTAMP_WINDOW_S: i64 = 300;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WechatPayError {
    #[error("not a usable key: {0}")]
    Key(String),
    #[error("signing failed")]
    Sign,
    #[error("missing or malformed header {0}")]
    Header(&'static str),
    #[error("timestamp outside the {TIMESTAMP_WINDOW_S}-second window")]
    Stale,
    #[error("unknown Wechatpay-Serial {0}")]
    UnknownSerial(String),
    #[error("signature does not verify")]
    BadSignature,
    #[error("resource cannot be decrypted: {0}")]
    Decrypt(&'static str),
}

type Result<T> = std::result::Result<T, WechatPayError>;

/// The DER inside a PEM block (`-----BEGIN …-----`).
pub fn pem_der(pem: &str) -> Result<Vec<u8>> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
    B64.decode(body).map_err(|_| WechatPayError::Key("not PEM".into()))
}

/// A merchant's signing identity: mchid, API certificate serial and private key.
pub struct MerchantSigner {
    pub mchid: String,
    pub serial: String,
    key: RsaKeyPair,
}

impl std::fmt::Debug for MerchantSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MerchantSigner({}, {}, <key>)", self.mchid, self.serial)
    }
}

impl MerchantSigner {
    /// From `apiclient_key.pem` (PKCS#8, `BEGIN PRIVATE KEY`).
    pub fn from_pem(mchid: &str, serial: &str, pkcs8_pem: &str) -> Result<Self> {
        let key = RsaKeyPair::from_pkcs8(&pem_der(pkcs8_pem)?).map_err(|e| WechatPayError::Key(e.to_string()))?;
        if key.public().modulus_len() < 256 {
            return Err(WechatPayError::Key("RSA keys must have at least 2048 bits".into()));
        }
        Ok(Self { mchid: mchid.into(), serial: serial.into(), key })
    }

    /// RSASSA-PKCS1-v1_5 / SHA-256, Base64.
    pub fn sign(&self, message: &[u8]) -> Result<String> {
        let mut sig = vec![0; self.key.public().modulus_len()];
        self.key.sign(&RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), message, &mut sig).map_err(|_| WechatPayError::Sign)?;
        Ok(B64.encode(sig))
    }

    /// The `Authorization` header of a request: five lines signed, `canonical_url` being the
    /// path and query exactly as sent, `body` the exact bytes sent (empty for GET).
    pub fn authorization(&self, method: &str, canonical_url: &str, body: &[u8], timestamp: i64, nonce: &str) -> Result<String> {
        let message = request_message(method, canonical_url, timestamp, nonce, body);
        let signature = self.sign(&message)?;
        Ok(format!(
            "{SIGNATURE_TYPE} mchid=\"{}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{}\"",
            self.mchid, self.serial
        ))
    }

    /// `paySign` for `wx.requestPayment`: four lines, the AppID of the order.
    pub fn pay_sign(&self, app_id: &str, timestamp: i64, nonce: &str, prepay_id: &str) -> Result<String> {
        self.sign(pay_sign_message(app_id, timestamp, nonce, prepay_id).as_bytes())
    }
}

/// `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`.
pub fn request_message(method: &str, canonical_url: &str, timestamp: i64, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut m = format!("{method}\n{canonical_url}\n{timestamp}\n{nonce}\n").into_bytes();
    m.extend_from_slice(body);
    m.push(b'\n');
    m
}

/// `APPID\nTIMESTAMP\nNONCE\nprepay_id=…\n`.
pub fn pay_sign_message(app_id: &str, timestamp: i64, nonce: &str, prepay_id: &str) -> String {
    format!("{app_id}\n{timestamp}\n{nonce}\nprepay_id={prepay_id}\n")
}

/// `TIMESTAMP\nNONCE\nBODY\n` (responses and callbacks).
pub fn response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut m = format!("{timestamp}\n{nonce}\n").into_bytes();
    m.extend_from_slice(body);
    m.push(b'\n');
    m
}

/// The fields of an `Authorization` header (the stand-in checks them).
pub fn parse_authorization(header: &str) -> Option<HashMap<String, String>> {
    let rest = header.strip_prefix(SIGNATURE_TYPE)?.trim_start();
    let mut out = HashMap::new();
    for pair in rest.split(',') {
        let (k, v) = pair.trim().split_once('=')?;
        out.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
    }
    ["mchid", "nonce_str", "signature", "timestamp", "serial_no"].iter().all(|k| out.contains_key(*k)).then_some(out)
}

/// WeChat's verification keys, by `Wechatpay-Serial`: platform certificates' serials and
/// the `PUB_KEY_ID_…` of the WeChat Pay public key. Several may be valid during a rotation.
#[derive(Clone, Default)]
pub struct KeyRing {
    keys: HashMap<String, Vec<u8>>,
}

/// The headers WeChat signs with.
#[derive(Debug, Clone, Copy)]
pub struct SignedHeaders<'a> {
    pub timestamp: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub serial: Option<&'a str>,
    pub signature_type: Option<&'a str>,
}

impl KeyRing {
    /// Adds a key from an SPKI PEM (`BEGIN PUBLIC KEY`, the WeChat Pay public key) or a
    /// platform certificate (`BEGIN CERTIFICATE`, whose serial must be `serial`).
    pub fn add_pem(&mut self, serial: &str, pem: &str) -> Result<()> {
        use rsa::pkcs1::EncodeRsaPublicKey;
        use rsa::pkcs8::DecodePublicKey;
        let key = if pem.contains("BEGIN CERTIFICATE") {
            let cert = PlatformCertificate::parse(pem)?;
            if !same_serial(&cert.serial, serial) {
                return Err(WechatPayError::Key(format!("the certificate's serial is {}, not {serial}", cert.serial)));
            }
            rsa::RsaPublicKey::from_public_key_der(&cert.spki_der)
        } else {
            rsa::RsaPublicKey::from_public_key_pem(pem.trim())
        }
        .map_err(|e| WechatPayError::Key(e.to_string()))?;
        let der = key.to_pkcs1_der().map_err(|e| WechatPayError::Key(e.to_string()))?;
        self.keys.insert(serial.to_string(), der.as_bytes().to_vec());
        Ok(())
    }

    pub fn serials(&self) -> Vec<String> {
        let mut s: Vec<String> = self.keys.keys().cloned().collect();
        s.sort();
        s
    }

    /// Checks a Base64 signature over `message` with the key named `serial` (the stand-in
    /// checks merchants' request signatures this way).
    pub fn verify_raw(&self, serial: &str, message: &[u8], signature: &str) -> Result<()> {
        let key = self.keys.get(serial).ok_or_else(|| WechatPayError::UnknownSerial(serial.to_string()))?;
        let sig = B64.decode(signature).map_err(|_| WechatPayError::BadSignature)?;
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key).verify(message, &sig).map_err(|_| WechatPayError::BadSignature)
    }

    /// Checks a signed response or callback: all headers present, the signature type, the
    /// timestamp within the window, a known serial, and the signature over exactly `body`.
    /// `WECHATPAY/SIGNTEST/` probes fail like any bad signature.
    pub fn verify(&self, h: SignedHeaders<'_>, body: &[u8], now: i64) -> Result<()> {
        let timestamp = h.timestamp.filter(|t| !t.is_empty()).ok_or(WechatPayError::Header("Wechatpay-Timestamp"))?;
        let nonce = h.nonce.filter(|t| !t.is_empty()).ok_or(WechatPayError::Header("Wechatpay-Nonce"))?;
        let signature = h.signature.filter(|t| !t.is_empty()).ok_or(WechatPayError::Header("Wechatpay-Signature"))?;
        let serial = h.serial.filter(|t| !t.is_empty()).ok_or(WechatPayError::Header("Wechatpay-Serial"))?;
        if h.signature_type.is_some_and(|t| t != SIGNATURE_TYPE) {
            return Err(WechatPayError::Header("Wechatpay-Signature-Type"));
        }
        let ts: i64 = timestamp.parse().map_err(|_| WechatPayError::Header("Wechatpay-Timestamp"))?;
        if (now - ts).abs() >= TIMESTAMP_WINDOW_S {
            return Err(WechatPayError::Stale);
        }
        let key = self.keys.get(serial).ok_or_else(|| WechatPayError::UnknownSerial(serial.to_string()))?;
        let sig = B64.decode(signature).map_err(|_| WechatPayError::BadSignature)?;
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key)
            .verify(&response_message(timestamp, nonce, body), &sig)
            .map_err(|_| WechatPayError::BadSignature)
    }
}

/// A WeChat Pay platform certificate: its serial (upper-case hex), public key and validity.
#[derive(Debug, Clone)]
pub struct PlatformCertificate {
    pub serial: String,
    pub spki_der: Vec<u8>,
    pub not_before: i64,
    pub not_after: i64,
}

impl PlatformCertificate {
    pub fn parse(pem: &str) -> Result<Self> {
        use x509_cert::der::{DecodePem, Encode};
        let cert = x509_cert::Certificate::from_pem(pem.trim().as_bytes()).map_err(|e| WechatPayError::Key(format!("certificate: {e}")))?;
        let tbs = &cert.tbs_certificate;
        Ok(Self {
            serial: hex::encode_upper(tbs.serial_number.as_bytes()),
            spki_der: tbs.subject_public_key_info.to_der().map_err(|e| WechatPayError::Key(e.to_string()))?,
            not_before: tbs.validity.not_before.to_unix_duration().as_secs() as i64,
            not_after: tbs.validity.not_after.to_unix_duration().as_secs() as i64,
        })
    }
}

/// Certificate serials compare as hex numbers (case and leading zero bytes aside).
pub fn same_serial(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim().trim_start_matches('0').to_ascii_uppercase();
    norm(a) == norm(b)
}

/// An encrypted `resource` of a callback or certificate download.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Resource {
    pub original_type: Option<String>,
    pub algorithm: String,
    pub ciphertext: String,
    pub nonce: String,
    #[serde(default)]
    pub associated_data: String,
}

fn cipher(api_v3_key: &[u8]) -> Result<Aes256Gcm> {
    if api_v3_key.len() != 32 {
        return Err(WechatPayError::Decrypt("the APIv3 key must be 32 bytes"));
    }
    Aes256Gcm::new_from_slice(api_v3_key).map_err(|_| WechatPayError::Decrypt("bad key"))
}

/// AEAD_AES_256_GCM: key = the APIv3 key's bytes, nonce = the 12 nonce characters, AAD =
/// `associated_data`, ciphertext = Base64 of encrypted bytes followed by the 16-byte tag.
pub fn decrypt(api_v3_key: &[u8], r: &Resource) -> Result<Vec<u8>> {
    if r.algorithm != "AEAD_AES_256_GCM" {
        return Err(WechatPayError::Decrypt("unknown algorithm"));
    }
    if r.nonce.len() != 12 {
        return Err(WechatPayError::Decrypt("the nonce must be 12 bytes"));
    }
    let data = B64.decode(&r.ciphertext).map_err(|_| WechatPayError::Decrypt("ciphertext is not Base64"))?;
    let nonce: [u8; 12] = r.nonce.as_bytes().try_into().map_err(|_| WechatPayError::Decrypt("the nonce must be 12 bytes"))?;
    cipher(api_v3_key)?
        .decrypt(&Nonce::from(nonce), Payload { msg: &data, aad: r.associated_data.as_bytes() })
        .map_err(|_| WechatPayError::Decrypt("authentication tag mismatch (wrong APIv3 key or altered data)"))
}

/// The reverse, as WeChat (and the stand-in) does it.
pub fn encrypt(api_v3_key: &[u8], original_type: &str, aad: &str, nonce: &str, plaintext: &[u8]) -> Result<Resource> {
    if nonce.len() != 12 {
        return Err(WechatPayError::Decrypt("the nonce must be 12 bytes"));
    }
    let iv: [u8; 12] = nonce.as_bytes().try_into().map_err(|_| WechatPayError::Decrypt("the nonce must be 12 bytes"))?;
    let sealed = cipher(api_v3_key)?
        .encrypt(&Nonce::from(iv), Payload { msg: plaintext, aad: aad.as_bytes() })
        .map_err(|_| WechatPayError::Decrypt("encryption failed"))?;
    Ok(Resource {
        original_type: Some(original_type.into()),
        algorithm: "AEAD_AES_256_GCM".into(),
        ciphertext: B64.encode(sealed),
        nonce: nonce.into(),
        associated_data: aad.into(),
    })
}

/// A fresh RSA-2048 key pair as (PKCS#8 private PEM, SPKI public PEM), for the stand-in and
/// tests (production keys come from the merchant platform).
pub fn generate_key_pair() -> Result<(String, String)> {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).map_err(|e| WechatPayError::Key(e.to_string()))?;
    let private_pem = private.to_pkcs8_pem(LineEnding::LF).map_err(|e| WechatPayError::Key(e.to_string()))?.to_string();
    let public_pem = private.to_public_key().to_public_key_pem(LineEnding::LF).map_err(|e| WechatPayError::Key(e.to_string()))?;
    Ok((private_pem, public_pem))
}

/// 32 upper-case hex characters, as WeChat's own examples use.
pub fn nonce_str() -> String {
    format!("{:032X}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn signing_strings_are_the_documented_lines() {
        assert_eq!(
            request_message("GET", "/v3/certificates", 1554208460, "593BEC0C930BF1AFEB40B4A08C8FB242", b""),
            b"GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n"
        );
        assert_eq!(
            pay_sign_message("wx8888888888888888", 1414561699, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS", "wx201410272009395522657a690389285100"),
            "wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n"
        );
    }

    #[test]
    fn a_signed_callback_verifies_and_every_alteration_is_refused() {
        let (private, public) = generate_key_pair().unwrap();
        let signer = MerchantSigner::from_pem("1900000001", "PUB_KEY_ID_0114232019072200000000000000000000", &private).unwrap();
        let mut ring = KeyRing::default();
        ring.add_pem("PUB_KEY_ID_0114232019072200000000000000000000", &public).unwrap();
        let body = br#"{"id":"EV-1","resource":{}}"#;
        let now = 1_800_000_000;
        let sig = signer.sign(&response_message(&now.to_string(), "NONCE", body)).unwrap();
        let ts = now.to_string();
        let h = SignedHeaders {
            timestamp: Some(&ts),
            nonce: Some("NONCE"),
            signature: Some(&sig),
            serial: Some("PUB_KEY_ID_0114232019072200000000000000000000"),
            signature_type: Some(SIGNATURE_TYPE),
        };
        assert_eq!(ring.verify(h, body, now + 10), Ok(()));
        assert_eq!(ring.verify(h, br#"{"id":"EV-2","resource":{}}"#, now), Err(WechatPayError::BadSignature));
        assert_eq!(ring.verify(h, body, now + 300), Err(WechatPayError::Stale));
        assert_eq!(ring.verify(h, body, now - 300), Err(WechatPayError::Stale));
        assert!(matches!(
            ring.verify(SignedHeaders { serial: Some("5157F09EFDC096DE15EBE81A47057A72"), ..h }, body, now),
            Err(WechatPayError::UnknownSerial(_))
        ));
        assert_eq!(ring.verify(SignedHeaders { nonce: None, ..h }, body, now), Err(WechatPayError::Header("Wechatpay-Nonce")));
        let probe = format!("WECHATPAY/SIGNTEST/{sig}");
        assert_eq!(ring.verify(SignedHeaders { signature: Some(&probe), ..h }, body, now), Err(WechatPayError::BadSignature));
        assert_eq!(
            ring.verify(SignedHeaders { signature_type: Some("WECHATPAY2-SHA256-RSA1024"), ..h }, body, now),
            Err(WechatPayError::Header("Wechatpay-Signature-Type"))
        );
    }

    #[test]
    fn resources_round_trip_and_refuse_a_wrong_key_nonce_or_aad() {
        let key = b"0123456789abcdef0123456789abcdef";
        let r = encrypt(key, "transaction", "transaction", "abcdef123456", br#"{"out_trade_no":"VL1"}"#).unwrap();
        assert_eq!(decrypt(key, &r).unwrap(), br#"{"out_trade_no":"VL1"}"#);
        assert!(decrypt(b"0123456789abcdef0123456789abcdeX", &r).is_err());
        assert!(decrypt(key, &Resource { associated_data: "refund".into(), ..r.clone() }).is_err());
        assert!(decrypt(key, &Resource { nonce: "abcdef123457".into(), ..r.clone() }).is_err());
        assert!(decrypt(b"short", &r).is_err());
        assert!(decrypt(key, &Resource { algorithm: "AES_128".into(), ..r }).is_err());
    }

    #[test]
    fn the_authorization_header_parses_back() {
        let (private, _) = generate_key_pair().unwrap();
        let signer = MerchantSigner::from_pem("1230000109", "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C", &private).unwrap();
        let h = signer
            .authorization("POST", "/v3/pay/partner/transactions/jsapi", b"{}", 1554208460, "593BEC0C930BF1AFEB40B4A08C8FB242")
            .unwrap();
        let f = parse_authorization(&h).unwrap();
        assert_eq!(f["mchid"], "1230000109");
        assert_eq!(f["serial_no"], "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C");
        assert_eq!(f["timestamp"], "1554208460");
        assert!(parse_authorization("Bearer x").is_none());
    }

    /// Vectors made by the Python `cryptography` package (testdata/wechatpay_vectors.py):
    /// we decrypt them, and our encryption of the same input is byte-identical.
    #[test]
    fn aes_gcm_matches_python_cryptography() {
        let vectors: Vec<serde_json::Value> = serde_json::from_str(include_str!("../../testdata/wechatpay_aes.json")).unwrap();
        assert_eq!(vectors.len(), 3);
        for v in vectors {
            let s = |k: &str| v[k].as_str().unwrap().to_string();
            let r = Resource {
                original_type: None,
                algorithm: "AEAD_AES_256_GCM".into(),
                ciphertext: s("ciphertext"),
                nonce: s("nonce"),
                associated_data: s("associated_data"),
            };
            assert_eq!(String::from_utf8(decrypt(s("key").as_bytes(), &r).unwrap()).unwrap(), s("plaintext"));
            let ours = encrypt(s("key").as_bytes(), "x", &s("associated_data"), &s("nonce"), s("plaintext").as_bytes()).unwrap();
            assert_eq!(ours.ciphertext, s("ciphertext"));
        }
    }

    /// PKCS#1 v1.5 is deterministic: the `openssl` CLI, an independent implementation, must
    /// produce the very same signature over the same string, and verify ours.
    #[test]
    fn signatures_match_the_openssl_cli() {
        let Ok(out) = std::process::Command::new("openssl").arg("version").output() else {
            panic!("the openssl CLI is needed for this cross-check (installed by .ci/run)");
        };
        assert!(out.status.success());
        let dir = std::env::temp_dir().join(format!("vl-wxpay-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let (private, public) = generate_key_pair().unwrap();
        std::fs::write(dir.join("key.pem"), &private).unwrap();
        std::fs::write(dir.join("pub.pem"), &public).unwrap();
        let message = request_message(
            "POST",
            "/v3/pay/partner/transactions/jsapi",
            1554208460,
            "593BEC0C930BF1AFEB40B4A08C8FB242",
            br#"{"sp_mchid":"1900000001"}"#,
        );
        std::fs::write(dir.join("msg"), &message).unwrap();
        let signed = std::process::Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(dir.join("key.pem"))
            .arg(dir.join("msg"))
            .output()
            .unwrap();
        assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
        let ours = MerchantSigner::from_pem("1900000001", "S", &private).unwrap().sign(&message).unwrap();
        assert_eq!(ours, B64.encode(&signed.stdout), "the same signature as openssl");
        std::fs::write(dir.join("sig"), B64.decode(&ours).unwrap()).unwrap();
        let verified = std::process::Command::new("openssl")
            .args(["dgst", "-sha256", "-verify"])
            .arg(dir.join("pub.pem"))
            .arg("-signature")
            .arg(dir.join("sig"))
            .arg(dir.join("msg"))
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&verified.stdout).contains("Verified OK"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
