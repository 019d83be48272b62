//! The exclusive uplink (issue 21): one bridge replica at a time holds a plain, persistent
//! subscription to every device's uplink under a client id all replicas share; the others
//! stand by.
//!
//! Why not `$share` across replicas: Mosquitto 2.0 keeps a persistent session's plain
//! subscriptions over a restart but not its shared ones, so what devices publish between the
//! broker's return and the bridges' resubscription reaches nobody and is lost. A plain
//! subscription is restored with the session, and everything published meanwhile waits in
//! its queue. `VOLTLEDGER__MQTT__UPLINK=shared` keeps `$share` for brokers that restore
//! shared subscriptions (docs/OPERATIONS.md).
//!
//! The holder is chosen by a lease in `job_leases` ([`LEASE`], [`TTL`]), renewed every
//! [`RENEW_EVERY`]. A holder that has not renewed for [`GIVE_UP_AFTER`] stops its session
//! before the lease can lapse, so two replicas never take the session from each other. On
//! SIGTERM the holder drains (stores and acknowledges what it took, disconnects, the
//! session keeps the rest) and gives the lease back: a standby takes over within
//! [`POLL`]. A holder killed outright is replaced when its lease lapses, within [`TTL`] +
//! [`POLL`]; what it had not acknowledged is delivered again to its successor and stored
//! once (readings are keyed by meter and instant).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::Utc;
use mqtt_bridge::session::{BridgeConfig, BridgeStats};
use tokio::sync::watch;

use crate::store::Store;

/// The lease's name in `job_leases`.
pub const LEASE: &str = "bridge uplink";
/// How long a lease lasts without renewal.
pub const TTL: Duration = Duration::from_secs(10);
/// How often the holder renews.
pub const RENEW_EVERY: Duration = Duration::from_secs(2);
/// A holder that could not renew for this long stops its session (before [`TTL`] ends).
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(6);
/// How often a standby tries to take the lease.
pub const POLL: Duration = Duration::from_secs(2);

/// Runs the exclusive uplink for `holder` (unique per process) until `stop` turns true.
/// `config` names the shared client id and opens one session.
pub async fn exclusive(config: BridgeConfig, store: Store, stats: Arc<BridgeStats>, mut stop: watch::Receiver<bool>, holder: String) {
    let config = BridgeConfig { sessions: 1, ..config };
    let platform = store.platform();
    let sink = Arc::new(store.clone());
    loop {
        if *stop.borrow() {
            break;
        }
        let held = match platform.claim_lease(LEASE, &holder, TTL, Utc::now()).await {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(error = %e, "claiming the uplink lease failed");
                false
            }
        };
        if !held {
            stats.standby.store(1, Ordering::Relaxed);
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.wait_for(|s| *s) => {}
            }
            continue;
        }
        stats.standby.store(0, Ordering::Relaxed);
        metrics::gauge!("voltledger_bridge_uplink_held").set(1.0);
        tracing::info!(holder, client_id = %config.client_id, "this replica holds the uplink");

        // The session stops at the process's stop or when the lease is lost.
        let (session_stop, session_stopped) = watch::channel(false);
        let keeper = {
            let (platform, holder, mut stop) = (platform.clone(), holder.clone(), stop.clone());
            tokio::spawn(async move {
                let mut renewed = Instant::now();
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(RENEW_EVERY) => {}
                        _ = stop.wait_for(|s| *s) => break,
                    }
                    match platform.renew_lease(LEASE, &holder, TTL, Utc::now()).await {
                        Ok(true) => renewed = Instant::now(),
                        Ok(false) => {
                            tracing::warn!(holder, "the uplink lease was taken over; stopping this replica's session");
                            break;
                        }
                        Err(e) if renewed.elapsed() >= GIVE_UP_AFTER => {
                            tracing::warn!(error = %e, holder, "the uplink lease could not be renewed in time; stopping this replica's session");
                            break;
                        }
                        Err(e) => tracing::warn!(error = %e, "renewing the uplink lease failed; trying again"),
                    }
                }
                let _ = session_stop.send(true);
            })
        };
        mqtt_bridge::session::run_until(config.clone(), sink.clone(), stats.clone(), session_stopped).await;
        keeper.abort();
        metrics::gauge!("voltledger_bridge_uplink_held").set(0.0);
        if *stop.borrow() {
            // Drained: the lease goes back at once, so a standby takes over within POLL.
            if let Err(e) = platform.release_job(LEASE, &holder, Utc::now()).await {
                tracing::warn!(error = %e, "giving the uplink lease back failed; it lapses by itself");
            }
            break;
        }
        tracing::info!(holder, "standing by for the uplink");
    }
    stats.standby.store(0, Ordering::Relaxed);
}
