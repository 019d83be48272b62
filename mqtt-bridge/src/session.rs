//! The bridge's MQTT session: subscribes to every device's uplink, decodes payloads in
//! batches, hands readings to the [`ReadingSink`] and acknowledges each publish (QoS 1) only
//! after the sink says the batch is durable. A crash before the commit means redelivery,
//! and the sink is idempotent, so nothing is lost and nothing is counted twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, Publish, QoS};
use tokio::sync::{mpsc, watch};

use crate::port::{ReadingSink, Rejection};
use crate::uplink::{self, UP_FILTER};

/// Where the broker is: `mqtt://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerAddr {
    pub host: String,
    pub port: u16,
}

impl BrokerAddr {
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url.strip_prefix("mqtt://").or_else(|| url.strip_prefix("tcp://")).unwrap_or(url);
        let (host, port) = rest.trim_end_matches('/').rsplit_once(':').ok_or_else(|| format!("broker URL {url:?} needs host:port"))?;
        let port = port.parse().map_err(|_| format!("broker URL {url:?} has a bad port"))?;
        if host.is_empty() {
            return Err(format!("broker URL {url:?} has no host"));
        }
        Ok(Self { host: host.to_string(), port })
    }
}

impl std::fmt::Display for BrokerAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "mqtt://{}:{}", self.host, self.port)
    }
}

#[derive(Debug, Clone)]
pub struct BridgeConfig {
    pub broker: BrokerAddr,
    pub client_id: String,
    pub username: String,
    pub password: String,
    /// Parallel sessions sharing the uplink through `$share/voltledger/...`.
    pub sessions: usize,
    pub batch_max: usize,
    pub batch_wait: Duration,
    /// The store time a batch aims at: a batch takes as many publishes as the last stores
    /// needed this long for (see [`BatchBound`]); meant to keep a reading's wait near two of
    /// these under a steady load, which the trip benchmark did not show (docs/PERFORMANCE.md
    /// §15). `None`: every batch may take `batch_max`.
    pub batch_time: Option<Duration>,
    /// Publishes taken from the broker and not yet in a batch (memory bound of the queue
    /// between the sessions and the batcher).
    pub queue: usize,
}

impl BridgeConfig {
    /// The queue the service uses: ten batches.
    pub const QUEUE: usize = 50_000;
}

/// Counters the bridge keeps (exposed as metrics and in benchmarks).
#[derive(Debug, Default)]
pub struct BridgeStats {
    pub publishes: AtomicU64,
    pub readings: AtomicU64,
    pub stored: AtomicU64,
    pub duplicates: AtomicU64,
    pub rejected: AtomicU64,
    pub unknown_meter: AtomicU64,
    pub other_frames: AtomicU64,
    /// Abnormal replies to reads (the meter's "no requested data" and other errors).
    pub error_replies: AtomicU64,
    /// Serial-server buses connected to the collector now (`crate::serial`).
    pub serial_buses: AtomicU64,
    /// Requests the collector put on a bus (retries included).
    pub serial_requests: AtomicU64,
    /// Bus requests that got no reply in time.
    pub serial_timeouts: AtomicU64,
    /// Serial-server connections closed for a missing or refused registration.
    pub serial_refused: AtomicU64,
    /// Bridge sessions connected to the broker now.
    pub sessions: AtomicU64,
    /// 1 while this replica stands by for the exclusive uplink another replica holds.
    pub standby: AtomicU64,
}

impl BridgeStats {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Runs the bridge until the task is dropped: `sessions` MQTT sessions (a shared
/// subscription when more than one) feed one batcher, so one transaction can cover the
/// in-flight windows of all sessions (rumqttd allows 100 unacknowledged publishes per
/// session, Mosquitto 20 by default).
pub async fn run<S: ReadingSink>(config: BridgeConfig, sink: Arc<S>, stats: Arc<BridgeStats>) {
    let (_never, stop) = watch::channel(false);
    run_until(config, sink, stats, stop).await
}

/// [`run`] until `stop` turns true, then drains: the batch in hand and every publish already
/// received are stored and acknowledged, nothing else is, and the sessions disconnect
/// cleanly. What the broker had not delivered stays with it (persistent sessions, or the
/// other members of the shared subscription).
pub async fn run_until<S: ReadingSink>(config: BridgeConfig, sink: Arc<S>, stats: Arc<BridgeStats>, stop: watch::Receiver<bool>) {
    let (tx, rx) = mpsc::channel::<Taken>(config.queue.max(1));
    let mut clients = Vec::new();
    // Dropped with this future (a bridge whose task is aborted), they end with it.
    let mut sessions = tokio::task::JoinSet::new();
    let mut ackers = tokio::task::JoinSet::new();
    let mut acks = Vec::new();
    for n in 0..config.sessions.max(1) {
        let connection = Arc::new(AtomicU64::new(0));
        let gate = Arc::new(tokio::sync::RwLock::new(()));
        let (client, task) = session(&config, n, tx.clone(), stats.clone(), stop.clone(), connection.clone(), gate.clone());
        sessions.spawn(task);
        // Acknowledgements leave through the session's request queue, which only its event
        // loop empties, and that loop waits while the batcher's queue is full. The batcher
        // therefore never waits on an acknowledgement: it hands them to this task, which
        // waits instead (see `acknowledgements_never_wait_on_a_full_queue`).
        let (ack_tx, mut ack_rx) = mpsc::unbounded_channel::<Ack>();
        let acker = client.clone();
        ackers.spawn(async move {
            while let Some(Ack { connection: on, pkid, qos }) = ack_rx.recv().await {
                // Received on an earlier connection: its packet id means nothing on this
                // one (rumqttd drops a session for an acknowledgement out of order, and a
                // broker that lost the session would take it for another publish); the
                // broker delivers that publish again and the store takes it once. The gate
                // keeps the session from moving to a new connection between this check and
                // the acknowledgement entering its request queue.
                let _open = gate.read().await;
                if on != connection.load(Ordering::Acquire) {
                    continue;
                }
                let mut p = Publish::new("", qos, Vec::<u8>::new());
                p.pkid = pkid;
                if acker.ack(&p).await.is_err() {
                    break; // the session is gone
                }
            }
        });
        acks.push(ack_tx);
        clients.push(client);
    }
    drop(tx);
    let bound = BatchBound::new(config.batch_max, config.batch_time);
    ingest(acks, rx, bound, config.batch_wait, sink, stats, stop).await;
    // One deadline for all of them; what has not closed by then is cut off.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    // The acknowledgements of what was stored go out first (the batcher dropped its
    // senders), then the goodbye, so the broker keeps (not redelivers at once) what it
    // still holds.
    if tokio::time::timeout_at(deadline, async { while ackers.join_next().await.is_some() {} }).await.is_err() {
        tracing::warn!("acknowledgements not handed to the sessions within 2 s; the broker delivers those publishes again");
        ackers.abort_all();
        while ackers.join_next().await.is_some() {}
    }
    for c in &clients {
        let _ = tokio::time::timeout_at(deadline, c.disconnect()).await;
    }
    if tokio::time::timeout_at(deadline, async { while sessions.join_next().await.is_some() {} }).await.is_err() {
        tracing::warn!("a bridge session did not close within 2 s; cut off");
        sessions.abort_all();
        while sessions.join_next().await.is_some() {}
    }
}

/// A publish taken from session `.0` on its connection `.1` (counted from 1 per session).
type Taken = (usize, u64, Publish);

/// What acknowledging a publish needs, without its payload.
struct Ack {
    connection: u64,
    pkid: u16,
    qos: QoS,
}

fn session(
    config: &BridgeConfig,
    n: usize,
    tx: mpsc::Sender<Taken>,
    stats: Arc<BridgeStats>,
    stop: watch::Receiver<bool>,
    connection: Arc<AtomicU64>,
    gate: Arc<tokio::sync::RwLock<()>>,
) -> (AsyncClient, impl std::future::Future<Output = ()> + Send + 'static) {
    let client_id = format!("{}-{n}", config.client_id);
    let mut options = MqttOptions::new(client_id, config.broker.host.clone(), config.broker.port);
    options.set_credentials(config.username.clone(), config.password.clone());
    options.set_keep_alive(Duration::from_secs(30));
    options.set_clean_session(false);
    options.set_manual_acks(true);
    options.set_inflight(1_000);
    options.set_max_packet_size(256 * 1024, 256 * 1024);
    // The request queue: subscriptions and acknowledgements (two batches' worth).
    let (client, mut events) = AsyncClient::new(options, (2 * config.batch_max).max(64));
    let filter = if config.sessions > 1 { format!("$share/voltledger/{UP_FILTER}") } else { UP_FILTER.to_string() };
    let broker = config.broker.clone();
    let subscriber = client.clone();
    let task = async move {
        // Counted in `stats.sessions` while connected, and uncounted however the task ends
        // (an aborted task too).
        let counters = stats.clone();
        let mut connected = Connected { stats, on: false };
        let mut up = |now: bool| connected.set(now);
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    connection.fetch_add(1, Ordering::AcqRel);
                    tracing::info!(broker = %broker, session = n, "bridge session connected");
                    up(true);
                    // Back during a drain: take nothing more (the persistent subscription
                    // holds), only let the acknowledgements out.
                    if *stop.borrow() {
                        continue;
                    }
                    // From a task of its own: the request queue may be full of
                    // acknowledgements, and only this loop empties it.
                    let (subscriber, filter) = (subscriber.clone(), filter.clone());
                    tokio::spawn(async move {
                        if let Err(e) = subscriber.subscribe(filter, QoS::AtLeastOnce).await {
                            tracing::warn!(error = %e, "subscribe failed");
                        }
                    });
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    counters.publishes.fetch_add(1, Ordering::Relaxed);
                    // Once draining, what arrives is not taken: unacknowledged, it is the
                    // broker's to deliver again.
                    if *stop.borrow() {
                        continue;
                    }
                    if tx.send((n, connection.load(Ordering::Acquire), p)).await.is_err() {
                        // The batcher gone. Stopping (it stopped meanwhile): the loop goes on
                        // so the acknowledgements of what was stored leave before the
                        // goodbye. Otherwise the bridge was dropped: so is this session.
                        if *stop.borrow() {
                            continue;
                        }
                        up(false);
                        return;
                    }
                }
                Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => {
                    up(false);
                    tracing::info!(session = n, "bridge session closed");
                    return;
                }
                Ok(_) => {}
                Err(e) => {
                    up(false);
                    // Publishes read from the broken connection and still in the event
                    // loop's buffer: taken under that connection's number, so they are stored
                    // but never acknowledged on the next connection (a resumed session
                    // delivers them again; a lost one does not, and they are kept).
                    let old = connection.load(Ordering::Acquire);
                    let buffered: Vec<Publish> = std::mem::take(&mut events.state.events)
                        .into_iter()
                        .filter_map(|e| match e {
                            Event::Incoming(Packet::Publish(p)) => Some(p),
                            _ => None,
                        })
                        .collect();
                    for p in buffered {
                        counters.publishes.fetch_add(1, Ordering::Relaxed);
                        if *stop.borrow() || tx.send((n, old, p)).await.is_err() {
                            break;
                        }
                    }
                    // No acknowledgement of the broken connection goes out on the next one:
                    // the connection number moves on under the gate, and the request queue is
                    // emptied before and after. An acker may hold the gate while it waits for
                    // room in a full queue, and emptying a full queue does not let a waiting
                    // sender in (flume), so the queue is emptied again until the gate is free
                    // rather than waited on (that wait would never end: only this loop empties
                    // the queue).
                    let closed = loop {
                        events.clean();
                        match gate.try_write() {
                            Ok(closed) => break closed,
                            Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
                        }
                    };
                    connection.fetch_add(1, Ordering::AcqRel);
                    events.clean();
                    drop(closed);
                    if *stop.borrow() {
                        return;
                    }
                    tracing::warn!(error = %e, broker = %broker, session = n, "bridge session lost; reconnecting");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    // Stopped meanwhile: no reconnect (it could take the session from the
                    // replica the exclusive uplink went to).
                    if *stop.borrow() {
                        return;
                    }
                }
            }
        }
    };
    (client, task)
}

/// One session's place in the connected count.
struct Connected {
    stats: Arc<BridgeStats>,
    on: bool,
}

impl Connected {
    fn set(&mut self, on: bool) {
        if on != self.on {
            self.on = on;
            if on {
                self.stats.sessions.fetch_add(1, Ordering::Relaxed);
            } else {
                self.stats.sessions.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

impl Drop for Connected {
    fn drop(&mut self) {
        self.set(false);
    }
}

async fn ingest<S: ReadingSink>(
    acks: Vec<mpsc::UnboundedSender<Ack>>,
    mut rx: mpsc::Receiver<Taken>,
    mut bound: BatchBound,
    batch_wait: Duration,
    sink: Arc<S>,
    stats: Arc<BridgeStats>,
    mut stop: watch::Receiver<bool>,
) {
    let mut pending: Vec<Taken> = Vec::with_capacity(bound.max);
    let mut draining = false;
    // Once stopping, stores still running are given up at one deadline for the whole drain,
    // however many batches it holds: a slow database cannot stretch the drain batch by batch
    // past the uplink lease.
    let mut give_up_at: Option<tokio::time::Instant> = None;
    loop {
        let batch_max = bound.next(rx.len());
        if draining {
            // What was received before the stop: the last batch; then done.
            while pending.len() < batch_max {
                match rx.try_recv() {
                    Ok(p) => pending.push(p),
                    Err(_) => break,
                }
            }
            if pending.is_empty() {
                tracing::info!("bridge drained: every publish taken is stored and acknowledged");
                return;
            }
        } else {
            let first = tokio::select! {
                p = rx.recv() => p,
                _ = stop.wait_for(|s| *s) => None,
            };
            let Some(first) = first else {
                draining = true;
                continue;
            };
            pending.push(first);
        }
        // Close the batch at `batch_max`, after `batch_wait`, or as soon as the stream pauses
        // (the brokers' in-flight windows are full and wait for our acknowledgements).
        let deadline = tokio::time::Instant::now() + batch_wait;
        while !draining && pending.len() < batch_max {
            let pause = tokio::time::Instant::now() + IDLE_GAP;
            match tokio::time::timeout_at(deadline.min(pause), rx.recv()).await {
                Ok(Some(p)) => pending.push(p),
                Ok(None) | Err(_) => break,
            }
        }
        let now = Utc::now();
        let mut readings = Vec::with_capacity(pending.len());
        let mut replies = Vec::new();
        let mut freezes = Vec::new();
        for (_, _, p) in &pending {
            // A vendor JSON device (F43) is read through its profile's map.
            let vendor = match uplink::device_of(&p.topic) {
                Ok(device) if p.payload.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') => {
                    sink.vendor_json(device, &p.payload, now).map(|v| (device, v))
                }
                _ => None,
            };
            if let Some((device, outcome)) = vendor {
                match outcome {
                    Ok(v) => {
                        for reason in &v.refused {
                            tracing::warn!(topic = %p.topic, reason = %reason, "vendor JSON field refused; the rest of the message was used");
                        }
                        stats.rejected.fetch_add(v.refused.len() as u64, Ordering::Relaxed);
                        let clock = match v.reading.read_at {
                            crate::port::ReadTime::MeterClock(t) => Some(t),
                            crate::port::ReadTime::Instant(_) => None,
                        };
                        for di in &v.answered {
                            replies.push(crate::port::ControlReply {
                                device: device.to_string(),
                                address: v.reading.address,
                                function: crate::dlt645::function::READ,
                                refused: None,
                                received_at: now,
                                di: Some(*di),
                                clock,
                            });
                        }
                        readings.push(v.reading);
                    }
                    Err(r) => {
                        stats.rejected.fetch_add(1, Ordering::Relaxed);
                        log_rejection(&p.topic, &r);
                    }
                }
                continue;
            }
            let outcome = uplink::device_of(&p.topic).and_then(|device| uplink::decode_uplink(device, &p.payload, now));
            match outcome {
                Ok(decoded) => {
                    stats.other_frames.fetch_add(decoded.others.len() as u64, Ordering::Relaxed);
                    let device = uplink::device_of(&p.topic).unwrap_or_default();
                    for f in &decoded.others {
                        let function = f.control.function;
                        if matches!(
                            function,
                            crate::dlt645::function::REMOTE_CONTROL | crate::dlt645::function::SECURITY | crate::dlt645::function::WRITE
                        ) && f.control.direction == crate::dlt645::Direction::Reply
                        {
                            replies.push(crate::port::ControlReply {
                                device: device.to_string(),
                                address: f.address,
                                function,
                                refused: crate::dlt645::ReplyError::of(f).map(|e| e.bits()),
                                received_at: now,
                                di: None,
                                clock: None,
                            });
                        }
                    }
                    // Read answers, in order (a read is confirmed by the answers it asked for).
                    for (address, di, error) in &decoded.answers {
                        if let Some(e) = error {
                            stats.error_replies.fetch_add(1, Ordering::Relaxed);
                            tracing::info!(device, %address, error = ?e.bits(), "the meter answered a read with an error");
                        }
                        replies.push(crate::port::ControlReply {
                            device: device.to_string(),
                            address: *address,
                            function: crate::dlt645::function::READ,
                            refused: error.map(|e| e.bits()),
                            received_at: now,
                            di: *di,
                            clock: decoded.clocks.iter().find(|(a, _)| a == address).map(|(_, c)| *c),
                        });
                    }
                    for r in &decoded.rejected {
                        // One frame of a payload whose other frames were used.
                        tracing::warn!(topic = %p.topic, reason = %r, kept = decoded.readings.len(), "uplink frame refused; the rest of the payload was used");
                    }
                    stats.rejected.fetch_add(decoded.rejected.len() as u64, Ordering::Relaxed);
                    readings.extend(decoded.readings);
                    freezes.extend(decoded.freezes);
                }
                Err(r) => {
                    stats.rejected.fetch_add(1, Ordering::Relaxed);
                    log_rejection(&p.topic, &r);
                }
            }
        }
        metrics::histogram!("voltledger_ingest_batch_size").record(pending.len() as f64);
        stats.readings.fetch_add(readings.len() as u64, Ordering::Relaxed);
        let (count, publishes, started) = (readings.len(), pending.len(), std::time::Instant::now());
        let mut delay = Duration::from_millis(100);
        loop {
            // Once stopping, a store that hangs (the database away) is given up after a
            // moment: dropped, its transaction rolls back and the batch stays unacknowledged.
            let attempt = std::time::Instant::now();
            let stored = tokio::select! {
                r = sink.store(readings.clone()) => Some(r),
                _ = async {
                    let _ = stop.wait_for(|s| *s).await;
                    let at = *give_up_at.get_or_insert_with(|| tokio::time::Instant::now() + STORE_GRACE);
                    tokio::time::sleep_until(at).await;
                } => None,
            };
            let Some(stored) = stored else {
                tracing::warn!(publishes, "stopping with a batch not stored in time; it is not acknowledged and comes again");
                return;
            };
            match stored {
                Ok(report) => {
                    // The store that succeeded, not the retries' waits before it.
                    bound.record(publishes, attempt.elapsed());
                    metrics::histogram!("voltledger_settlement_duration_seconds").record(started.elapsed().as_secs_f64());
                    metrics::counter!("voltledger_readings_stored_total").increment(report.stored as u64);
                    metrics::counter!("voltledger_readings_duplicate_total").increment(report.duplicates as u64);
                    metrics::counter!("voltledger_readings_refused_total", "reason" => "unknown_meter").increment(report.unknown as u64);
                    stats.stored.fetch_add(report.stored as u64, Ordering::Relaxed);
                    stats.duplicates.fetch_add(report.duplicates as u64, Ordering::Relaxed);
                    stats.unknown_meter.fetch_add(report.unknown as u64, Ordering::Relaxed);
                    tracing::debug!(publishes, readings = count, store_ms = started.elapsed().as_millis() as u64, "batch stored");
                    break;
                }
                Err(e) if *stop.borrow() => {
                    // Stopping (a drain, or the exclusive uplink handed over) with the
                    // database away: the batch is left unacknowledged, so the broker
                    // delivers it again to whoever takes the uplink next.
                    tracing::warn!(error = %e, publishes, "stopping with a batch not stored; it is not acknowledged and comes again");
                    return;
                }
                Err(e) => {
                    // Not acknowledged until durable: keep trying, the broker keeps the messages.
                    tracing::error!(error = %e, retry_in_ms = delay.as_millis() as u64, "storing readings failed");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        Ok(_) = stop.wait_for(|s| *s) => {}
                    }
                    if *stop.borrow() {
                        tracing::warn!(publishes, "stopping with a batch not stored; it is not acknowledged and comes again");
                        return;
                    }
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
        if !replies.is_empty() {
            sink.replies(std::mem::take(&mut replies)).await;
        }
        if !freezes.is_empty() {
            sink.freezes(freezes).await;
        }
        for (n, connection, p) in pending.drain(..) {
            if let Some(acks) = acks.get(n) {
                let _ = acks.send(Ack { connection, pkid: p.pkid, qos: p.qos });
            }
        }
    }
}

/// How many publishes the next batch takes.
///
/// With a target store time `T`, the bound learns the store's cost per publish from the
/// stores it has seen (a moving average of each store's time over its publishes, so a
/// batch's fixed cost is spread over its publishes) and takes `T` divided by that cost. The
/// size settles where a store takes `T`: at `n` publishes a store costs `f + n·p` and the
/// estimate is `f/n + p`, so `n = T / (f/n + p)` gives `f + n·p = T`. A reading then waits
/// for at most the store in progress and its own, about `2T`, as long as the load is below
/// what such batches carry. Above that, the backlog grows; once more than two bounded
/// batches wait, latency is lost already and the batch takes up to `max` (the fewest
/// commits clear it fastest).
#[derive(Debug, Clone)]
pub struct BatchBound {
    max: usize,
    target: Option<Duration>,
    /// Seconds of store time per publish, averaged; `None` before the first store.
    per_publish: Option<f64>,
}

impl BatchBound {
    /// The fewest publishes a bounded batch takes, whatever the stores cost.
    pub const FLOOR: usize = 64;

    pub fn new(max: usize, target: Option<Duration>) -> Self {
        Self { max: max.max(1), target, per_publish: None }
    }

    /// The most publishes the next batch takes, with `waiting` publishes queued.
    pub fn next(&self, waiting: usize) -> usize {
        let (Some(target), Some(per)) = (self.target, self.per_publish) else { return self.max };
        let bounded = if per > 0.0 { (target.as_secs_f64() / per) as usize } else { self.max };
        let bounded = bounded.clamp(Self::FLOOR.min(self.max), self.max);
        if waiting > 2 * bounded { self.max } else { bounded }
    }

    /// A store of `publishes` publishes took `took`.
    pub fn record(&mut self, publishes: usize, took: Duration) {
        if publishes == 0 {
            return;
        }
        let sample = took.as_secs_f64() / publishes as f64;
        self.per_publish = Some(match self.per_publish {
            Some(avg) => 0.7 * avg + 0.3 * sample,
            None => sample,
        });
    }
}

/// How long the stores of a drain may take once the bridge is stopping (all of them together).
const STORE_GRACE: Duration = Duration::from_secs(2);

/// A pause this long in the uplink stream closes the batch early.
const IDLE_GAP: Duration = Duration::from_millis(3);

fn log_rejection(topic: &str, r: &Rejection) {
    metrics::counter!("voltledger_readings_refused_total", "reason" => r.kind()).increment(1);
    tracing::warn!(topic, reason = %r, "uplink payload refused");
}

#[cfg(test)]
mod tests {
    use super::BatchBound;
    use std::time::Duration;

    /// A store costing `fixed + n * per` for `n` publishes.
    fn store_time(fixed_ms: f64, per_us: f64, n: usize) -> Duration {
        Duration::from_secs_f64((fixed_ms + per_us * n as f64 / 1000.0) / 1000.0)
    }

    #[test]
    fn the_batch_settles_where_a_store_takes_the_target() {
        let mut b = BatchBound::new(5_000, Some(Duration::from_millis(40)));
        assert_eq!(b.next(0), 5_000, "before any store, nothing is known");
        // A steady stream: each batch is as large as the bound allows.
        let mut n = 5_000;
        for _ in 0..40 {
            b.record(n, store_time(5.0, 100.0, n));
            n = b.next(0);
        }
        // f + n·p = T: (40 − 5) ms / 100 µs = 350 publishes.
        assert!((340..=360).contains(&n), "settled at {n}");
        let took = store_time(5.0, 100.0, n).as_secs_f64() * 1000.0;
        assert!((39.0..=41.0).contains(&took), "a store takes {took} ms");
    }

    #[test]
    fn a_backlog_of_more_than_two_bounded_batches_takes_the_maximum() {
        let mut b = BatchBound::new(5_000, Some(Duration::from_millis(40)));
        b.record(400, Duration::from_millis(40));
        assert_eq!(b.next(0), 400);
        assert_eq!(b.next(800), 400);
        assert_eq!(b.next(801), 5_000);
    }

    #[test]
    fn a_slow_store_keeps_the_floor_and_no_bound_keeps_the_maximum() {
        let mut b = BatchBound::new(5_000, Some(Duration::from_millis(40)));
        b.record(100, Duration::from_secs(2));
        assert_eq!(b.next(0), BatchBound::FLOOR);
        let mut unbounded = BatchBound::new(5_000, None);
        unbounded.record(100, Duration::from_secs(2));
        assert_eq!(unbounded.next(0), 5_000);
        // A maximum under the floor is still the maximum.
        let mut small = BatchBound::new(10, Some(Duration::from_millis(1)));
        small.record(10, Duration::from_secs(1));
        assert_eq!(small.next(0), 10);
    }
}
