//! SMS providers over their HTTP APIs: Alibaba Cloud `SendSms` (RPC, signature V1) and
//! Tencent Cloud `SendSms` 2021-01-11 (TC3-HMAC-SHA256). Neither is idempotent; the caller
//! de-duplicates and keeps the delivery log.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::sign::{TC3_CONTENT_TYPE, Tc3Request, aliyun_rpc_signature, canonical_query, percent_encode};

pub use domain::sms::{Provider, SmsAccount};

/// One message: a template and its named parameters (Alibaba uses the names; Tencent the
/// values in order).
#[derive(Debug, Clone)]
pub struct Sms<'a> {
    pub phone: &'a str,
    pub template: &'a str,
    pub params: &'a [(String, String)],
    /// Our id, echoed in delivery receipts.
    pub out_id: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying (network, 5xx, throttling).
    #[error("temporary: {0}")]
    Temporary(String),
    /// The provider refused the message itself (bad number, template, signature).
    #[error("refused: {0}")]
    Refused(String),
}

fn host_of(endpoint: &str) -> String {
    endpoint.split("://").nth(1).unwrap_or(endpoint).split('/').next().unwrap_or_default().to_string()
}

/// Sends with a tenant's account (the account is plain configuration, in the domain).
pub struct Sender<'a>(pub &'a SmsAccount);

impl std::ops::Deref for Sender<'_> {
    type Target = SmsAccount;
    fn deref(&self) -> &SmsAccount {
        self.0
    }
}

impl Sender<'_> {
    /// Sends one message; returns the provider's id for it (BizId / SerialNo).
    pub async fn send(&self, client: &reqwest::Client, sms: &Sms<'_>, now: DateTime<Utc>) -> Result<String, SendError> {
        match self.provider {
            Provider::Aliyun => self.send_aliyun(client, sms, now).await,
            Provider::Tencent => self.send_tencent(client, sms, now).await,
        }
    }

    /// The signed form body of an Alibaba `SendSms` POST.
    pub fn aliyun_body(&self, sms: &Sms<'_>, now: DateTime<Utc>, nonce: &str) -> String {
        let template_param: serde_json::Map<String, serde_json::Value> =
            sms.params.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
        let mut p = BTreeMap::new();
        for (k, v) in [
            ("AccessKeyId", self.access_key_id.as_str()),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("RegionId", "cn-hangzhou"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("Version", "2017-05-25"),
            ("PhoneNumbers", sms.phone),
            ("SignName", self.sign_name.as_str()),
            ("TemplateCode", sms.template),
            ("OutId", sms.out_id),
        ] {
            p.insert(k.to_string(), v.to_string());
        }
        p.insert("SignatureNonce".into(), nonce.to_string());
        p.insert("Timestamp".into(), now.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        p.insert("TemplateParam".into(), serde_json::Value::Object(template_param).to_string());
        let signature = aliyun_rpc_signature("POST", &p, &self.secret);
        format!("{}&Signature={}", canonical_query(&p), percent_encode(&signature))
    }

    async fn send_aliyun(&self, client: &reqwest::Client, sms: &Sms<'_>, now: DateTime<Utc>) -> Result<String, SendError> {
        let body = self.aliyun_body(sms, now, &uuid::Uuid::new_v4().to_string());
        let response = client
            .post(&self.endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| SendError::Temporary(e.without_url().to_string()))?;
        let status = response.status();
        let json: serde_json::Value = response.json().await.map_err(|e| SendError::Temporary(format!("HTTP {status}: {e}")))?;
        match json["Code"].as_str() {
            Some("OK") => Ok(json["BizId"].as_str().unwrap_or_default().to_string()),
            Some(code) if code.contains("LIMIT") || status.is_server_error() => {
                Err(SendError::Temporary(format!("{code}: {}", json["Message"])))
            }
            Some(code) => Err(SendError::Refused(format!("{code}: {}", json["Message"].as_str().unwrap_or_default()))),
            None => Err(SendError::Temporary(format!("HTTP {status} without a Code"))),
        }
    }

    /// The JSON body of a Tencent `SendSms` request.
    pub fn tencent_body(&self, sms: &Sms<'_>) -> String {
        let phone = if sms.phone.starts_with('+') { sms.phone.to_string() } else { format!("+86{}", sms.phone) };
        serde_json::json!({
            "PhoneNumberSet": [phone],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": sms.template,
            "TemplateParamSet": sms.params.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
            "SessionContext": sms.out_id,
        })
        .to_string()
    }

    async fn send_tencent(&self, client: &reqwest::Client, sms: &Sms<'_>, now: DateTime<Utc>) -> Result<String, SendError> {
        let body = self.tencent_body(sms);
        // reqwest sends the endpoint's host (and port) as `Host`; the signature covers it.
        let host = host_of(&self.endpoint);
        let request = Tc3Request { service: "sms", host: &host, timestamp: now.timestamp(), payload: &body };
        let response = client
            .post(&self.endpoint)
            .header("content-type", TC3_CONTENT_TYPE)
            .header("x-tc-action", "SendSms")
            .header("x-tc-version", "2021-01-11")
            .header("x-tc-region", if self.region.is_empty() { "ap-guangzhou" } else { self.region.as_str() })
            .header("x-tc-timestamp", now.timestamp().to_string())
            .header("authorization", request.authorization(&self.access_key_id, &self.secret))
            .body(body)
            .send()
            .await
            .map_err(|e| SendError::Temporary(e.to_string()))?;
        let status = response.status();
        let json: serde_json::Value = response.json().await.map_err(|e| SendError::Temporary(format!("HTTP {status}: {e}")))?;
        let r = &json["Response"];
        if let Some(code) = r["Error"]["Code"].as_str() {
            let text = format!("{code}: {}", r["Error"]["Message"].as_str().unwrap_or_default());
            return Err(if code.starts_with("LimitExceeded") || code.starts_with("InternalError") {
                SendError::Temporary(text)
            } else {
                SendError::Refused(text)
            });
        }
        let first = &r["SendStatusSet"][0];
        match first["Code"].as_str() {
            Some("Ok") => Ok(first["SerialNo"].as_str().unwrap_or_default().to_string()),
            Some(code) => Err(SendError::Refused(format!("{code}: {}", first["Message"].as_str().unwrap_or_default()))),
            None => Err(SendError::Temporary(format!("HTTP {status} without a send status"))),
        }
    }
}
