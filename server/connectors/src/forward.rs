//! Forwarding to park platforms over HTTPS webhooks or to the park's own MQTT broker
//! (docs/FORWARDING.md). Each request
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
    let mut link = if target.transport == "MQTT" { Link::Mqtt(None) } else { Link::Webhook };
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
        let started = std::time::Instant::now();
        // How many of the batch (a prefix: order per subject holds) the target took, and how
        // the try went.
        let (taken, status, error) = match &mut link {
            Link::Webhook => {
                let (status, error) = post_batch(client, &target.url, &secret, &events, &ids).await?;
                (if error.is_empty() { batch.len() } else { 0 }, status, error)
            }
            Link::Mqtt(broker) => {
                if broker.is_none() {
                    match ParkBroker::connect(t, &target).await {
                        Ok(b) => *broker = Some(b),
                        Err(e) => {
                            record(t, target_id, batch.len(), 0, &e, started).await?;
                            let failed: Vec<Delivery> = batch.into_iter().cloned().collect();
                            t.forward_failed(target_id, &failed, &e, now, give_up_after()).await.map_err(err)?;
                            break;
                        }
                    }
                }
                let Some(b) = broker.as_mut() else { break };
                let topics: Vec<String> = batch.iter().map(|d| mqtt_topic(&b.prefix, &d.kind, &d.subject)).collect();
                let (taken, error) = b.publish(&secret, &topics, &events, &ids).await;
                if !error.is_empty() {
                    // The link is suspect after a failure: the next pass connects again.
                    if let Some(b) = broker.take() {
                        b.close().await;
                    }
                }
                (taken, 0, error)
            }
        };
        record(t, target_id, batch.len(), status, &error, started).await?;
        let done: Vec<(String, String)> = batch[..taken].iter().map(|d| (d.kind.clone(), d.reference.clone())).collect();
        if !done.is_empty() {
            t.forward_delivered(target_id, &done, Utc::now()).await.map_err(err)?;
            delivered += done.len();
        }
        if !error.is_empty() {
            let failed: Vec<Delivery> = batch[taken..].iter().map(|d| (*d).clone()).collect();
            let dead = t.forward_failed(target_id, &failed, &error, now, give_up_after()).await.map_err(err)?;
            if dead > 0 {
                tracing::warn!(target = %target_id, dead, "forwarded events given up after a day of failures");
            }
            break;
        }
    }
    if let Link::Mqtt(Some(b)) = link {
        b.close().await;
    }
    Ok(delivered)
}

/// How a pass reaches its target: webhook requests, or one connection to the park's broker
/// (made at the first batch, closed at the end of the pass or after a failure).
enum Link {
    Webhook,
    Mqtt(Option<ParkBroker>),
}

async fn record(
    t: &TenantStore,
    target_id: &str,
    events: usize,
    status: i64,
    error: &str,
    started: std::time::Instant,
) -> Result<(), String> {
    let attempt = ForwardAttempt {
        id: uuid::Uuid::new_v4().to_string(),
        target_id: target_id.to_string(),
        at: Utc::now(),
        events: events as i64,
        status,
        error: error.to_string(),
        duration_ms: started.elapsed().as_millis() as i64,
    };
    t.record_forward_attempt(&attempt).await.map_err(|e| e.to_string())
}

/// One webhook request: `(status, error)`, the error empty when the target took the batch.
async fn post_batch(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    events: &[serde_json::Value],
    ids: &[String],
) -> Result<(i64, String), String> {
    let body = serde_json::to_vec(&json!({"events": events})).map_err(|e| e.to_string())?;
    let ts = Utc::now().timestamp();
    let key = hex::encode(Sha256::digest(ids.join("\n").as_bytes()));
    let answer = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-VoltLedger-Timestamp", ts.to_string())
        .header("X-VoltLedger-Signature", signature(secret, ts, &body))
        .header("Idempotency-Key", &key)
        .header("User-Agent", "VoltLedger-Forwarder/1")
        .body(body)
        .send()
        .await;
    Ok(match answer {
        Ok(r) if r.status().is_success() => (i64::from(r.status().as_u16()), String::new()),
        Ok(r) => (i64::from(r.status().as_u16()), format!("HTTP {}", r.status().as_u16())),
        Err(e) if e.is_timeout() => (0, "no answer within 10 s".to_string()),
        Err(e) => (0, e.without_url().to_string()),
    })
}

/// The topic an event is published on: `<prefix>/<kind>/<subject>` (`park/energy/reading/<meter id>`),
/// so a park can subscribe to what it wants and a subject's events share one ordered topic.
pub fn mqtt_topic(prefix: &str, kind: &str, subject: &str) -> String {
    let clean: String = subject.chars().filter(|c| !matches!(c, '/' | '+' | '#' | '\0')).collect();
    format!("{prefix}/{}/{clean}", kind.to_ascii_lowercase())
}

/// A connection to a park's own broker (MQTT 5): each event is a QoS 1 publish whose user
/// properties carry the same `X-VoltLedger-Timestamp`, `X-VoltLedger-Signature` (over
/// `timestamp + "." + payload`) and `Idempotency-Key` (the event's id) a webhook's headers
/// do. An event is delivered when the broker's PUBACK says it took it.
struct ParkBroker {
    client: rumqttc::v5::AsyncClient,
    seen: tokio::sync::mpsc::UnboundedReceiver<BrokerSeen>,
    task: tokio::task::JoinHandle<()>,
    prefix: String,
}

enum BrokerSeen {
    Connected,
    Sent(u16),
    Acked(u16, Option<String>),
    Lost(String),
}

impl ParkBroker {
    async fn connect(t: &TenantStore, target: &store::ForwardTarget) -> Result<ParkBroker, String> {
        use rumqttc::v5::{Event, Incoming, MqttOptions, mqttbytes::v5::ConnectReturnCode};
        // Checked when the target was made (against the platform's outbound policy); parsed here.
        let url = domain::outbound::check_broker("url", &target.url, true).map_err(|e| e.to_string())?;
        let password = t.forward_mqtt_password(&target.id).await.map_err(|e| e.to_string())?;
        let id: String = target.id.chars().filter(char::is_ascii_alphanumeric).take(16).collect();
        let mut o = MqttOptions::new(format!("voltledger-fwd-{id}"), url.host.clone(), url.port);
        o.set_credentials(target.username.clone(), password);
        o.set_keep_alive(Duration::from_secs(30));
        o.set_clean_start(true);
        o.set_connection_timeout(TIMEOUT.as_secs());
        if url.tls {
            o.set_transport(rumqttc::Transport::tls_with_config(rumqttc::TlsConfiguration::Rustls(std::sync::Arc::new(tls_config()?))));
        }
        let (client, mut events) = rumqttc::v5::AsyncClient::new(o, BATCH * 2);
        let (tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                let s = match events.poll().await {
                    Ok(Event::Incoming(Incoming::ConnAck(a))) if a.code == ConnectReturnCode::Success => BrokerSeen::Connected,
                    Ok(Event::Incoming(Incoming::ConnAck(a))) => {
                        BrokerSeen::Lost(format!("the broker refused the connection: {:?}", a.code))
                    }
                    Ok(Event::Incoming(Incoming::PubAck(a))) => {
                        use rumqttc::v5::mqttbytes::v5::PubAckReason;
                        let refused = match a.reason {
                            PubAckReason::Success | PubAckReason::NoMatchingSubscribers => None,
                            other => Some(format!("the broker refused the publish: {other:?}")),
                        };
                        BrokerSeen::Acked(a.pkid, refused)
                    }
                    Ok(Event::Incoming(Incoming::Disconnect(d))) => {
                        BrokerSeen::Lost(format!("the broker disconnected: {:?}", d.reason_code))
                    }
                    Ok(Event::Outgoing(rumqttc::Outgoing::Publish(pkid))) => BrokerSeen::Sent(pkid),
                    Ok(_) => continue,
                    Err(rumqttc::v5::ConnectionError::ConnectionRefused(code)) => {
                        BrokerSeen::Lost(format!("the broker refused the connection: {code:?}"))
                    }
                    Err(e) => BrokerSeen::Lost(format!("broker connection: {e}")),
                };
                let lost = matches!(s, BrokerSeen::Lost(_));
                if tx.send(s).is_err() || lost {
                    return;
                }
            }
        });
        let connected = tokio::time::timeout(TIMEOUT, seen.recv()).await;
        let b = ParkBroker { client, seen, task, prefix: url.prefix };
        match connected {
            Ok(Some(BrokerSeen::Connected)) => Ok(b),
            Ok(Some(BrokerSeen::Lost(e))) => {
                b.close().await;
                Err(e)
            }
            Ok(_) => {
                b.close().await;
                Err("broker connection: closed before CONNACK".to_string())
            }
            Err(_) => {
                b.close().await;
                Err(format!("no CONNACK within {} s", TIMEOUT.as_secs()))
            }
        }
    }

    /// Publishes the batch and waits for its acknowledgements: how many (from the first) the
    /// broker took, and an error when not all.
    async fn publish(&mut self, secret: &str, topics: &[String], events: &[serde_json::Value], ids: &[String]) -> (usize, String) {
        use rumqttc::v5::mqttbytes::{QoS, v5::PublishProperties};
        for ((topic, event), id) in topics.iter().zip(events).zip(ids) {
            let payload = match serde_json::to_vec(event) {
                Ok(p) => p,
                Err(e) => return (0, e.to_string()),
            };
            let ts = Utc::now().timestamp();
            let properties = PublishProperties {
                payload_format_indicator: Some(1),
                content_type: Some("application/json".to_string()),
                user_properties: vec![
                    ("X-VoltLedger-Timestamp".to_string(), ts.to_string()),
                    ("X-VoltLedger-Signature".to_string(), signature(secret, ts, &payload)),
                    ("Idempotency-Key".to_string(), id.clone()),
                ],
                ..Default::default()
            };
            if let Err(e) = self.client.publish_with_properties(topic.clone(), QoS::AtLeastOnce, false, payload, properties).await {
                return (0, format!("broker connection: {e}"));
            }
        }
        // Publishes leave in order; a PUBACK names its packet id, and ids are reused once
        // acknowledged (a broker's receive maximum bounds the publishes in flight), so an
        // acknowledgement belongs to the oldest publish of that id not acknowledged yet.
        let mut sent: Vec<u16> = Vec::with_capacity(events.len());
        let mut acked: Vec<bool> = Vec::with_capacity(events.len());
        let mut count = 0usize;
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        let mut error = String::new();
        while count < events.len() {
            match tokio::time::timeout_at(deadline, self.seen.recv()).await {
                Ok(Some(BrokerSeen::Sent(pkid))) => {
                    sent.push(pkid);
                    acked.push(false);
                }
                Ok(Some(BrokerSeen::Acked(pkid, None))) => {
                    let oldest = sent.iter().zip(acked.iter()).position(|(p, a)| *p == pkid && !*a);
                    if let Some(slot) = oldest.and_then(|i| acked.get_mut(i)) {
                        *slot = true;
                        count += 1;
                    }
                }
                Ok(Some(BrokerSeen::Acked(_, Some(refused)))) => {
                    error = refused;
                    break;
                }
                Ok(Some(BrokerSeen::Connected)) => {}
                Ok(Some(BrokerSeen::Lost(e))) => {
                    error = e;
                    break;
                }
                Ok(None) => {
                    error = "broker connection: closed".to_string();
                    break;
                }
                Err(_) => {
                    error = format!("not every publish acknowledged within {} s", TIMEOUT.as_secs());
                    break;
                }
            }
        }
        let taken = acked.iter().take_while(|a| **a).count();
        (
            taken,
            if taken == events.len() {
                String::new()
            } else if error.is_empty() {
                "not acknowledged".to_string()
            } else {
                error
            },
        )
    }

    async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.client.disconnect()).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.task.abort();
    }
}

/// TLS to a park's broker: the public web roots (webpki-roots), ring.
fn tls_config() -> Result<tokio_rustls::rustls::ClientConfig, String> {
    let roots = tokio_rustls::rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    Ok(tokio_rustls::rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth())
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
