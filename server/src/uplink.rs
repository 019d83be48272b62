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
//! [`RENEW_EVERY`]. A holder that has not renewed for [`GIVE_UP_AFTER`] (its own monotonic
//! clock, a renewal that hangs included) stops its session before the lease can lapse, so
//! two replicas never take the session from each other, provided the replicas' wall clocks
//! (which the lease's times come from) agree within TTL − GIVE_UP_AFTER (NTP). A stopping
//! session with the database away leaves its batch unacknowledged instead of waiting for
//! it. On SIGTERM the holder drains (stores and acknowledges what it took, disconnects, the
//! session keeps the rest) and gives the lease back: a standby takes over within [`POLL`].
//! A holder killed outright is replaced when its lease lapses, within [`TTL`] + [`POLL`];
//! what it had not acknowledged is delivered again to its successor and not stored twice
//! (readings are keyed by meter and meter-clock time; a payload without a meter clock is
//! keyed by its arrival and may be stored again, which charges nothing twice: settlement
//! skips what its cursor has passed). A holder whose session cannot reach the broker for
//! [`BROKER_GRACE`] hands the uplink to another replica.

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
/// A holder that has not renewed for this long (measured from the start of its last
/// successful renewal, on its own monotonic clock) stops its session, whatever the database
/// is doing: well before [`TTL`] ends, so a standby never connects while it still does.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(6);
/// How often a standby tries to take the lease.
pub const POLL: Duration = Duration::from_secs(2);
/// A holder whose session has not been connected for this long hands the uplink over (it
/// may be the one cut off from the broker) and stands by for [`TTL`] before claiming again.
pub const BROKER_GRACE: Duration = Duration::from_secs(30);

/// Why a holder's session stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// The process is stopping (SIGTERM, SIGINT).
    Stopping,
    /// The lease was taken over, or could not be renewed in time.
    LeaseLost,
    /// No broker connection for [`BROKER_GRACE`].
    NoBroker,
}

/// The process is stopping (or whatever would tell it is gone).
fn stopping(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

/// Runs the exclusive uplink for `holder` (unique per process) until `stop` turns true.
/// `config` names the shared client id and opens one session.
pub async fn exclusive(config: BridgeConfig, store: Store, stats: Arc<BridgeStats>, mut stop: watch::Receiver<bool>, holder: String) {
    let config = BridgeConfig { sessions: 1, ..config };
    let platform = store.platform();
    let sink = Arc::new(store.clone());
    loop {
        if stopping(&stop) {
            break;
        }
        // A claim that answers late is not trusted: the lease it took may be about to lapse.
        let asked = Instant::now();
        let held = match tokio::time::timeout(RENEW_EVERY, platform.claim_lease(LEASE, &holder, TTL, Utc::now())).await {
            Ok(Ok(held)) => held && asked.elapsed() < RENEW_EVERY,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "claiming the uplink lease failed");
                false
            }
            Err(_) => {
                tracing::warn!("claiming the uplink lease took too long");
                false
            }
        };
        if !held {
            stats.standby.store(1, Ordering::Relaxed);
            pause(&mut stop, POLL).await;
            continue;
        }
        stats.standby.store(0, Ordering::Relaxed);
        metrics::gauge!("voltledger_bridge_uplink_held").set(1.0);
        tracing::info!(holder, client_id = %config.client_id, "this replica holds the uplink");

        // The session stops at the process's stop (and drains, the lease still renewed), when
        // the lease is lost, or when the broker has been out of reach for BROKER_GRACE.
        let (session_stop, session_stopped) = watch::channel(false);
        let session_stop = Arc::new(session_stop);
        let keeper = tokio::spawn(keep(platform.clone(), holder.clone(), stats.clone(), asked, session_stop.clone()));
        let forward = {
            let mut stop = stop.clone();
            tokio::spawn(async move {
                let _ = stop.wait_for(|s| *s).await;
                let _ = session_stop.send(true);
            })
        };
        mqtt_bridge::session::run_until(config.clone(), sink.clone(), stats.clone(), session_stopped).await;
        forward.abort();
        // Not stopping: the keeper ended the session (or every session task died, and the
        // keeper ends with NoBroker).
        let ended = if stopping(&stop) {
            keeper.abort();
            Ended::Stopping
        } else {
            keeper.await.unwrap_or(Ended::LeaseLost)
        };
        metrics::gauge!("voltledger_bridge_uplink_held").set(0.0);
        if ended != Ended::LeaseLost {
            // Given back at once, so a standby takes over within POLL.
            match tokio::time::timeout(RENEW_EVERY, platform.release_job(LEASE, &holder, Utc::now())).await {
                Ok(Ok(())) => {}
                _ => tracing::warn!("giving the uplink lease back failed; it lapses by itself"),
            }
        }
        if ended == Ended::Stopping || stopping(&stop) {
            break;
        }
        tracing::info!(holder, reason = ?ended, "standing by for the uplink");
        stats.standby.store(1, Ordering::Relaxed);
        if ended == Ended::NoBroker {
            // Another replica's turn first: it may reach the broker.
            pause(&mut stop, TTL).await;
        }
    }
    stats.standby.store(0, Ordering::Relaxed);
}

/// Sleeps `d`, or less if `stop` turns true.
async fn pause(stop: &mut watch::Receiver<bool>, d: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        Ok(_) = stop.wait_for(|s| *s) => {}
    }
}

/// Renews the holder's lease while its session runs (a drain included: it is aborted when
/// the session has ended); stops the session when the lease is lost or the broker stays out
/// of reach. `renewed`: when the last successful claim or renewal was asked.
async fn keep(
    platform: crate::store::PlatformStore,
    holder: String,
    stats: Arc<BridgeStats>,
    mut renewed: Instant,
    session_stop: Arc<watch::Sender<bool>>,
) -> Ended {
    let mut connected_at = Instant::now();
    let ended = loop {
        let give_up = renewed + GIVE_UP_AFTER;
        tokio::time::sleep_until((Instant::now() + RENEW_EVERY).min(give_up).into()).await;
        if BridgeStats::get(&stats.sessions) > 0 {
            connected_at = Instant::now();
        } else if connected_at.elapsed() >= BROKER_GRACE {
            tracing::warn!(
                holder,
                grace_s = BROKER_GRACE.as_secs(),
                "the uplink session has not reached the broker; handing the uplink over"
            );
            break Ended::NoBroker;
        }
        if Instant::now() >= give_up {
            tracing::warn!(holder, "the uplink lease was not renewed in time; stopping this replica's session");
            break Ended::LeaseLost;
        }
        let asked = Instant::now();
        match tokio::time::timeout_at(give_up.into(), platform.renew_lease(LEASE, &holder, TTL, Utc::now())).await {
            Ok(Ok(true)) => renewed = asked,
            Ok(Ok(false)) => {
                tracing::warn!(holder, "the uplink lease was taken over; stopping this replica's session");
                break Ended::LeaseLost;
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "renewing the uplink lease failed; trying again"),
            Err(_) => {
                tracing::warn!(holder, "renewing the uplink lease did not answer in time; stopping this replica's session");
                break Ended::LeaseLost;
            }
        }
    };
    let _ = session_stop.send(true);
    ended
}
