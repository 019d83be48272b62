//! Notifications (F24): alarm messages to customers and operators by SMS, signed as each
//! provider requires, with de-duplication, quiet hours, per-recipient limits and a delivery
//! log with retries; and to customers by WeChat subscription message.

pub mod sign;
pub mod sms;
pub mod standin;

use chrono::{DateTime, Utc};

use domain::control::quiet_wait;
use sms::{SendError, Sms};
use store::{Outcome, Store, StoreError};

/// Attempts before a message that keeps failing temporarily is given up.
pub const MAX_ATTEMPTS: i64 = 5;

/// How long a server holds a message it is sending; well above the HTTP timeout, so two
/// servers sweeping at once never send the same message twice.
const CLAIM: chrono::Duration = chrono::Duration::minutes(2);

/// Counts a delivery step by channel and outcome (`voltledger_{sms,wechat}_deliveries_total`).
fn delivered(channel: &'static str, status: &str) {
    let outcome = match status {
        "SENT" => "sent",
        "FAILED" => "failed",
        "SUPPRESSED" => "suppressed",
        _ => "retry",
    };
    match channel {
        "sms" => metrics::counter!("voltledger_sms_deliveries_total", "outcome" => outcome).increment(1),
        _ => metrics::counter!("voltledger_wechat_deliveries_total", "outcome" => outcome).increment(1),
    }
}

/// One delivery pass: every due message is waited (quiet hours), suppressed (the
/// recipient's daily limit), sent, or retried with backoff (30 s, 1 min, 2 min, …).
/// Returns how many were sent.
pub async fn deliver_due(store: &Store, client: &reqwest::Client, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut sent = 0;
    for d in store.platform().notifications_due(now, 200).await? {
        let (tenant, row) = (d.tenant_id.as_str(), &d.row);
        if !store.platform().claim_notification(tenant, &row.id, now, now + CLAIM).await? {
            continue;
        }
        let local = now.with_timezone(&d.tz).naive_local();
        if let Some(wait) = d.quiet.and_then(|(s, e)| quiet_wait(s, e, local)) {
            let o = Outcome {
                status: "PENDING",
                error: "waiting for quiet hours to end",
                provider_ref: None,
                attempted: false,
                next_attempt_at: now + wait,
            };
            delivered("sms", o.status);
            store.platform().notification_outcome(tenant, &row.id, &o, now).await?;
            continue;
        }
        if store.platform().sent_to(tenant, &row.recipient, now - chrono::Duration::hours(24)).await? >= d.daily_limit {
            let why = format!("the recipient already had {} messages in 24 h", d.daily_limit);
            let o = Outcome { status: "SUPPRESSED", error: &why, provider_ref: None, attempted: false, next_attempt_at: now };
            delivered("sms", o.status);
            store.platform().notification_outcome(tenant, &row.id, &o, now).await?;
            continue;
        }
        let params: Vec<(String, String)> = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&row.params)
            .map(|m| m.into_iter().map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        let sms = Sms { phone: &row.recipient, template: &row.template_code, params: &params, out_id: &row.id };
        let o = match sms::Sender(&d.account).send(client, &sms, now).await {
            Ok(reference) => {
                sent += 1;
                delivered("sms", "SENT");
                store
                    .platform()
                    .notification_outcome(
                        tenant,
                        &row.id,
                        &Outcome { status: "SENT", error: "", provider_ref: Some(&reference), attempted: true, next_attempt_at: now },
                        now,
                    )
                    .await?;
                continue;
            }
            Err(SendError::Refused(e)) => (String::from("FAILED"), e, now),
            Err(SendError::Temporary(e)) if row.attempts + 1 >= MAX_ATTEMPTS => (String::from("FAILED"), e, now),
            Err(SendError::Temporary(e)) => (String::from("PENDING"), e, now + chrono::Duration::seconds(30 << row.attempts.clamp(0, 10))),
        };
        let outcome = Outcome { status: &o.0, error: &o.1, provider_ref: None, attempted: true, next_attempt_at: o.2 };
        delivered("sms", outcome.status);
        store.platform().notification_outcome(tenant, &row.id, &outcome, now).await?;
    }
    Ok(sent)
}

/// Sends one test message now with a tenant's account (the settings screen's "test send"):
/// the provider's id for it, or why it was not sent. Nothing is queued or logged.
pub async fn send_test(account: &sms::SmsAccount, phone: &str, template: &str, params: &[(String, String)]) -> Result<String, SendError> {
    let client =
        reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().map_err(|e| SendError::Temporary(e.to_string()))?;
    let out_id = format!("test-{}", Utc::now().timestamp_millis());
    let msg = Sms { phone, template, params, out_id: &out_id };
    sms::Sender(account).send(&client, &msg, Utc::now()).await
}

/// One delivery pass of WeChat subscription messages: sent, given up when WeChat says the
/// customer has no subscription left (43101) or a value breaks a rule (47003), retried with
/// backoff otherwise (an invalid access token is fetched anew first).
pub async fn deliver_wechat_due(store: &Store, tokens: &crate::wechat::TokenCache, now: DateTime<Utc>) -> Result<usize, StoreError> {
    use crate::wechat::{WechatError, send_subscribe};
    let mut sent = 0;
    for d in store.platform().wechat_due(now, 200).await? {
        let (tenant, row, app) = (d.tenant_id.as_str(), &d.row, &d.app);
        if !store.platform().claim_notification(tenant, &row.id, now, now + CLAIM).await? {
            continue;
        }
        let data: serde_json::Value = serde_json::from_str(&row.params).unwrap_or_default();
        let mut body = serde_json::json!({"touser": row.recipient, "template_id": row.template_code, "data": data, "lang": "zh_CN"});
        if !d.page.is_empty() {
            body["page"] = serde_json::Value::from(d.page.clone());
        }
        let result = match tokens.get(&app.api_base, &app.app_id, &app.secret).await {
            Ok(token) => send_subscribe(&app.api_base, &token, &body).await,
            Err(e) => Err(e),
        };
        let (status, error, next) = match result {
            Ok(()) => {
                sent += 1;
                ("SENT", String::new(), now)
            }
            Err(WechatError::Refused { errcode: 43101, errmsg }) => {
                store.platform().subscription_exhausted(tenant, &row.recipient, &row.template_code).await?;
                ("FAILED", format!("43101 {errmsg}"), now)
            }
            Err(WechatError::Refused { errcode: code @ (40003 | 40037 | 47003 | 41030), errmsg }) => {
                ("FAILED", format!("{code} {errmsg}"), now)
            }
            Err(e) => {
                if let WechatError::Refused { errcode: 40001 | 42001, .. } = e {
                    tokens.forget(&app.api_base, &app.app_id);
                }
                if row.attempts + 1 >= MAX_ATTEMPTS {
                    ("FAILED", e.to_string(), now)
                } else {
                    ("PENDING", e.to_string(), now + chrono::Duration::seconds(30 << row.attempts.clamp(0, 10)))
                }
            }
        };
        let o = Outcome { status, error: &error, provider_ref: None, attempted: true, next_attempt_at: next };
        delivered("wechat", o.status);
        store.platform().notification_outcome(tenant, &row.id, &o, now).await?;
    }
    Ok(sent)
}
