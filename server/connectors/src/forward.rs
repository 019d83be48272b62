//! Forwarding to park platforms over HTTPS webhooks (docs/FORWARDING.md). Each request
//! carries up to [`BATCH`] events of one target in order, as JSON `{"events": [...]}`,
//! signed with the target's secret:
//!
//! ```text
//! X-VoltLedger-Timestamp: 1765000000
//! X-VoltLedger-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//! Idempotency-Key: <hex SHA-256 of the events' ids, joined by newlines>
//! ```
//!
//! A 2xx answer delivers the batch; anything else (or no answer within [`TIMEOUT`]) is a
//! failed try for every event in it, retried with backoff; an event that has failed for a day
//! is dead. Order is kept per subject (a meter, an account): a subject's event waits while an
//! earlier one of the same subject waits for its retry.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};

use store::{Delivery, ForwardAttempt, Store, TenantStore};

/// Events per request.
pub const BATCH: usize = 100;
/// How long a target may take to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How long an event is retried before it is dead.
pub fn give_up_after() -> chrono::Duration {
    chrono::Duration::hours(24)
}
/// Requests per target per pass (a pass never holds the lane for long).
const BATCHES_PER_PASS: usize = 20;

/// The signature of a request: `v1=` and the hex HMAC-SHA256 of `timestamp.body`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable_key());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

// HMAC takes keys of any length; this cannot happen.
fn unreachable_key() -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(b"-").unwrap_or_else(|_| unreachable_key())
}

/// Checks a request's signature (what a receiver does), within `tolerance_s` of `now`.
pub fn verify(secret: &str, timestamp: &str, signature_header: &str, body: &[u8], now: i64, tolerance_s: i64) -> bool {
    let Ok(ts) = timestamp.parse::<i64>() else { return false };
    if (now - ts).abs() > tolerance_s {
        return false;
    }
    let expected = signature(secret, ts, body);
    expected.len() == signature_header.len() && expected.bytes().zip(signature_header.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(TIMEOUT).redirect(reqwest::redirect::Policy::none()).build().unwrap_or_default()
}

/// One pass over every target with deliveries waiting. Returns how many events were
/// delivered.
pub async fn run_pass(store: &Store, now: DateTime<Utc>) -> Result<usize, String> {
    let client = client();
    let mut delivered = 0;
    for (tenant, target) in store.forward_work().await.map_err(|e| e.to_string())? {
        let t = store.tenant(tenant);
        match deliver_target(&t, &client, &target, now).await {
            Ok(n) => delivered += n,
            Err(e) => tracing::warn!(target = %target, cause = %e, "forwarding pass failed"),
        }
    }
    Ok(delivered)
}

/// Sends a target's due deliveries in order, batch after batch, until one fails or none is
/// due.
pub async fn deliver_target(t: &TenantStore, client: &reqwest::Client, target_id: &str, now: DateTime<Utc>) -> Result<usize, String> {
    let err = |e: store::StoreError| e.to_string();
    // One sender per target: a pass that finds it taken leaves it to the holder. The lease
    // outlives a pass's longest run (20 batches, each bounded by the request timeout).
    // Another worker's pass is short when the target answers: wait a little for it.
    let mut until = None;
    for _ in 0..20 {
        let u = (Utc::now() + chrono::Duration::seconds(TIMEOUT.as_secs() as i64 * BATCHES_PER_PASS as i64 + 60)).trunc_subsecs(0);
        if t.lease_forward_target(target_id, Utc::now(), u).await.map_err(err)? {
            until = Some(u);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let Some(until) = until else { return Ok(0) };
    let sent = send_batches(t, client, target_id, now).await;
    t.release_forward_target(target_id, until).await.map_err(err)?;
    sent
}

async fn send_batches(t: &TenantStore, client: &reqwest::Client, target_id: &str, now: DateTime<Utc>) -> Result<usize, String> {
    let err = |e: store::StoreError| e.to_string();
    let Some(target) = t.forward_target(target_id).await.map_err(err)? else { return Ok(0) };
    if target.state != "ACTIVE" {
        return Ok(0);
    }
    let secret = t.forward_secret(target_id).await.map_err(err)?;
    let mut delivered = 0;
    for _ in 0..BATCHES_PER_PASS {
        let pending = t.forward_pending(target_id, (BATCH * 10) as u64).await.map_err(err)?;
        let mut blocked: HashSet<&str> = HashSet::new();
        let mut batch: Vec<&Delivery> = Vec::new();
        for d in &pending {
            if blocked.contains(d.subject.as_str()) {
                continue;
            }
            if d.next_at > now {
                // Waiting for its retry: later events of its subject wait behind it.
                blocked.insert(d.subject.as_str());
                continue;
            }
            batch.push(d);
            if batch.len() == BATCH {
                break;
            }
        }
        if batch.is_empty() {
            break;
        }
        let mut events = Vec::with_capacity(batch.len());
        let mut ids = Vec::with_capacity(batch.len());
        for d in &batch {
            ids.push(format!("{}:{}", d.kind, d.reference));
            events.push(t.forward_payload(d).await.map_err(err)?);
        }
        let body = serde_json::to_vec(&json!({"events": events})).map_err(|e| e.to_string())?;
        let ts = Utc::now().timestamp();
        let key = hex::encode(Sha256::digest(ids.join("\n").as_bytes()));
        let started = std::time::Instant::now();
        let answer = client
            .post(&target.url)
            .header("Content-Type", "application/json")
            .header("X-VoltLedger-Timestamp", ts.to_string())
            .header("X-VoltLedger-Signature", signature(&secret, ts, &body))
            .header("Idempotency-Key", &key)
            .header("User-Agent", "VoltLedger-Forwarder/1")
            .body(body)
            .send()
            .await;
        let (status, error) = match answer {
            Ok(r) if r.status().is_success() => (i64::from(r.status().as_u16()), String::new()),
            Ok(r) => (i64::from(r.status().as_u16()), format!("HTTP {}", r.status().as_u16())),
            Err(e) if e.is_timeout() => (0, "no answer within 10 s".to_string()),
            Err(e) => (0, e.without_url().to_string()),
        };
        let attempt = ForwardAttempt {
            id: uuid::Uuid::new_v4().to_string(),
            target_id: target_id.to_string(),
            at: Utc::now(),
            events: batch.len() as i64,
            status,
            error: error.clone(),
            duration_ms: started.elapsed().as_millis() as i64,
        };
        t.record_forward_attempt(&attempt).await.map_err(err)?;
        if error.is_empty() {
            let done: Vec<(String, String)> = batch.iter().map(|d| (d.kind.clone(), d.reference.clone())).collect();
            t.forward_delivered(target_id, &done, Utc::now()).await.map_err(err)?;
            delivered += batch.len();
        } else {
            let failed: Vec<Delivery> = batch.into_iter().cloned().collect();
            let dead = t.forward_failed(target_id, &failed, &error, now, give_up_after()).await.map_err(err)?;
            if dead > 0 {
                tracing::warn!(target = %target_id, dead, "forwarded events given up after a day of failures");
            }
            break;
        }
    }
    Ok(delivered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_secret_body_and_time() {
        let body = br#"{"events":[]}"#;
        let sig = signature("s3cret", 1_765_000_000, body);
        assert!(sig.starts_with("v1=") && sig.len() == 67);
        assert!(verify("s3cret", "1765000000", &sig, body, 1_765_000_100, 300));
        assert!(!verify("other", "1765000000", &sig, body, 1_765_000_100, 300));
        assert!(!verify("s3cret", "1765000000", &sig, br#"{"events":[1]}"#, 1_765_000_100, 300));
        assert!(!verify("s3cret", "1765000001", &sig, body, 1_765_000_100, 300));
        assert!(!verify("s3cret", "1765000000", &sig, body, 1_765_001_000, 300), "too old");
    }
}
