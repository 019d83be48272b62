//! Request signing of the SMS providers (pure: the caller gives the clock and the nonce).
//! Alibaba Cloud RPC signature V1 (HMAC-SHA1) and Tencent Cloud TC3-HMAC-SHA256, checked
//! against the vendors' published examples.

use std::collections::BTreeMap;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// RFC 3986 percent-encoding as both vendors canonicalise: unreserved characters stay,
/// every other UTF-8 byte becomes `%XY` (upper case).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The canonicalised query: parameters sorted by name, names and values encoded.
pub fn canonical_query(params: &BTreeMap<String, String>) -> String {
    params.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect::<Vec<_>>().join("&")
}

/// Alibaba Cloud RPC signature V1: `Base64(HMAC-SHA1(secret + "&", METHOD&%2F&enc(query)))`
/// over every parameter except `Signature`.
pub fn aliyun_rpc_signature(method: &str, params: &BTreeMap<String, String>, access_key_secret: &str) -> String {
    let to_sign = format!("{method}&{}&{}", percent_encode("/"), percent_encode(&canonical_query(params)));
    let mut mac =
        <Hmac<sha1::Sha1> as Mac>::new_from_slice(format!("{access_key_secret}&").as_bytes()).unwrap_or_else(|_| unreachable_hmac());
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn hmac256(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable_hmac());
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// HMAC accepts keys of any length; this is never reached.
fn unreachable_hmac<T>() -> T {
    panic!("HMAC accepts any key length")
}

/// What TC3 signs: a POST to `/` with the JSON body and the `content-type;host` headers.
#[derive(Debug, Clone)]
pub struct Tc3Request<'a> {
    pub service: &'a str,
    pub host: &'a str,
    pub timestamp: i64,
    pub payload: &'a str,
}

pub const TC3_CONTENT_TYPE: &str = "application/json; charset=utf-8";

impl Tc3Request<'_> {
    fn date(&self) -> String {
        chrono::DateTime::from_timestamp(self.timestamp, 0).map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
    }

    pub fn canonical_request(&self) -> String {
        format!(
            "POST\n/\n\ncontent-type:{TC3_CONTENT_TYPE}\nhost:{}\n\ncontent-type;host\n{}",
            self.host,
            hex::encode(Sha256::digest(self.payload.as_bytes()))
        )
    }

    /// The lower-hex signature.
    pub fn signature(&self, secret_key: &str) -> String {
        let date = self.date();
        let scope = format!("{date}/{}/tc3_request", self.service);
        let to_sign =
            format!("TC3-HMAC-SHA256\n{}\n{scope}\n{}", self.timestamp, hex::encode(Sha256::digest(self.canonical_request().as_bytes())));
        let k_date = hmac256(format!("TC3{secret_key}").as_bytes(), &date);
        let k_service = hmac256(&k_date, self.service);
        let k_signing = hmac256(&k_service, "tc3_request");
        hex::encode(hmac256(&k_signing, &to_sign))
    }

    /// The `Authorization` header value.
    pub fn authorization(&self, secret_id: &str, secret_key: &str) -> String {
        format!(
            "TC3-HMAC-SHA256 Credential={secret_id}/{}/{}/tc3_request, SignedHeaders=content-type;host, Signature={}",
            self.date(),
            self.service,
            self.signature(secret_key)
        )
    }
}

/// Constant-time comparison of two signatures.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliyun_v1_matches_the_vendors_sms_example() {
        let params: BTreeMap<String, String> = [
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", "{\"customer\":\"test\"}"),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(aliyun_rpc_signature("GET", &params, "testSecret"), "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
        assert_eq!(percent_encode("a b*~"), "a%20b%2A~");
    }

    #[test]
    fn tc3_matches_the_vendors_cvm_example() {
        let r = Tc3Request {
            service: "cvm",
            host: "cvm.tencentcloudapi.com",
            timestamp: 1_551_113_065,
            payload: r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#,
        };
        assert_eq!(
            hex::encode(Sha256::digest(r.canonical_request().as_bytes())),
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(r.signature("Gu5t9xGARNpq86cd98joQYCN3*******"), "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c");
        assert_eq!(r.signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"), "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
        assert!(
            r.authorization("AKID", "k")
                .starts_with("TC3-HMAC-SHA256 Credential=AKID/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=")
        );
    }
}
