//! Live events across replicas (issue 21): with Redis configured, committed alarm changes are
//! published on `{namespace}:alarm-events`, and every process hands what the channel carries
//! to its own live subscribers — so an alarm the worker raises reaches a subscription held by
//! any API replica. Without Redis (the single box) they stay in the process.
//!
//! The subscription reconnects on its own when Redis restarts; a change published while a
//! replica was cut off is not replayed (subscribers re-read the alarm list on reconnect, as
//! the portal does).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use tokio::sync::mpsc;

use super::{AlarmEvent, Store};

pub(crate) struct EventBus {
    tx: mpsc::UnboundedSender<AlarmEvent>,
    conn: redis::aio::ConnectionManager,
}

fn encode(e: &AlarmEvent) -> String {
    serde_json::json!({ "tenant": e.tenant_id, "alarm": e.alarm_id, "change": e.change }).to_string()
}

fn decode(payload: &str) -> Option<AlarmEvent> {
    let v: serde_json::Value = serde_json::from_str(payload).ok()?;
    let change = match v.get("change")?.as_str()? {
        "RAISED" => "RAISED",
        "CLEARED" => "CLEARED",
        _ => return None,
    };
    Some(AlarmEvent { tenant_id: v.get("tenant")?.as_str()?.to_string(), alarm_id: v.get("alarm")?.as_str()?.to_string(), change })
}

impl Store {
    /// Shares alarm changes with every replica through the Redis at `url` (keys and channels
    /// under `namespace:`). Fails when Redis cannot be reached now; later outages are
    /// waited out.
    pub async fn share_events(&self, url: &str, namespace: &str) -> Result<(), String> {
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        let conn = redis::aio::ConnectionManager::new(client.clone()).await.map_err(|e| e.to_string())?;
        let channel = format!("{namespace}:alarm-events");
        let (tx, mut rx) = mpsc::unbounded_channel::<AlarmEvent>();
        if self.event_bus.set(EventBus { tx, conn: conn.clone() }).is_err() {
            return Err("events are already shared".into());
        }
        // Publisher: in commit order; a change Redis refuses is still told to this process.
        let (local, mut publisher, topic) = (self.alarm_events.clone(), conn, channel.clone());
        tokio::spawn(async move {
            while let Some(e) = rx.recv().await {
                // A connection Redis dropped (a restart) fails its next command and is
                // re-established: the change is published again before it is kept local.
                let mut sent: redis::RedisResult<i64> = Ok(0);
                for attempt in 0..3u64 {
                    if attempt > 0 {
                        tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                    }
                    sent = redis::cmd("PUBLISH").arg(&topic).arg(encode(&e)).query_async(&mut publisher).await;
                    if sent.is_ok() {
                        break;
                    }
                }
                if let Err(cause) = sent {
                    tracing::warn!(%cause, alarm = %e.alarm_id, "alarm change not shared through Redis; told to this replica only");
                    let _ = local.send(e);
                }
            }
        });
        // Subscriber: everything published (this replica's own changes included) goes to the
        // live subscribers here.
        let local = self.alarm_events.clone();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let mut ready = Some(ready_tx);
            loop {
                match client.get_async_pubsub().await {
                    Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                        Ok(()) => {
                            tracing::info!(channel, "sharing alarm changes through Redis");
                            if let Some(r) = ready.take() {
                                let _ = r.send(());
                            }
                            let mut messages = pubsub.into_on_message();
                            while let Some(m) = messages.next().await {
                                match m.get_payload::<String>().ok().as_deref().and_then(decode) {
                                    Some(e) => {
                                        let _ = local.send(e);
                                    }
                                    None => tracing::warn!(channel, "an unreadable message on the alarm channel was ignored"),
                                }
                            }
                            tracing::warn!(channel, "the Redis subscription ended; reconnecting");
                        }
                        Err(cause) => tracing::warn!(%cause, "subscribing to alarm changes failed; retrying"),
                    },
                    Err(cause) => tracing::warn!(%cause, "Redis unreachable for alarm changes; retrying"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        // Start serving only once the subscription holds (or say why not, soon).
        tokio::time::timeout(Duration::from_secs(10), ready_rx)
            .await
            .map_err(|_| "subscribing to the alarm channel took longer than 10 s".to_string())?
            .map_err(|_| "the alarm subscription ended".to_string())
    }

    /// Whether shared events (Redis) answer now; `None` when events are not shared.
    pub async fn events_ready(&self) -> Option<bool> {
        let bus = self.event_bus.get()?;
        let mut conn = bus.conn.clone();
        let ping = tokio::time::timeout(Duration::from_secs(2), redis::cmd("PING").query_async::<String>(&mut conn)).await;
        Some(matches!(ping, Ok(Ok(_))))
    }

    /// Hands committed alarm changes to the live subscribers: through Redis when shared,
    /// else to this process's.
    pub(crate) fn send_alarm_events(&self, events: &[AlarmEvent]) {
        match self.event_bus.get() {
            Some(bus) => {
                for e in events {
                    let _ = bus.tx.send(e.clone());
                }
            }
            None => {
                for e in events {
                    let _ = self.alarm_events.send(e.clone());
                }
            }
        }
    }
}

pub(crate) type SharedBus = Arc<std::sync::OnceLock<EventBus>>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn events_round_trip_and_strangers_are_refused() {
        let e = AlarmEvent { tenant_id: "t1".into(), alarm_id: "a1".into(), change: "RAISED" };
        let back = decode(&encode(&e)).unwrap();
        assert_eq!((back.tenant_id.as_str(), back.alarm_id.as_str(), back.change), ("t1", "a1", "RAISED"));
        assert!(decode(r#"{"tenant":"t","alarm":"a","change":"DELETED"}"#).is_none());
        assert!(decode(r#"{"tenant":1,"alarm":"a","change":"RAISED"}"#).is_none());
        assert!(decode("not json").is_none());
    }
}
