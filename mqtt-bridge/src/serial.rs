//! The serial-server collector (F9): RS-485 buses behind transparent TCP serial servers.
//!
//! A serial server (a USR/ZLAN-style box in TCP-client mode) connects to the collector's
//! listener and sends its **registration packet** — `username:password` of the device login
//! the platform issued for it as a gateway, then a new line. The collector opens an MQTT
//! session to the broker *as that device* (the broker checks the login and the topic rights,
//! exactly as for a 4G meter or a LoRa gateway), and becomes the bus's master:
//!
//! - every downlink publish on `vl/down/{username}` is one job; its requests go on the bus one
//!   at a time (half-duplex), each waiting for its reply up to the request timeout and resent
//!   up to `retries` times; a meter that stays silent has the rest of the job skipped (it is
//!   lost; its commands time out on the platform like any unanswered command);
//! - DL/T 645 frames travel as they are; a Modbus-RTU job (`{"modbus": {...}}`, built from the
//!   meter's register map) is run with `tokio-modbus`, and each register read is answered
//!   upward as the DL/T 645 item it stands for (an exception 02 as "no requested data", so the
//!   platform learns what the meter lacks; a relay write as a 0x1C reply);
//! - the job's replies go up in one publish on `vl/up/{username}`, so a meter's clock and
//!   values arrive together.
//!
//! The collector holds no secret and no table: it is a protocol converter that speaks for the
//! serial server with the serial server's own login. When the TCP connection ends, the MQTT
//! session ends with it and the gateway goes offline like any gateway.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use rust_decimal::Decimal;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_modbus::prelude::*;

use crate::dlt645::{self, Address, Di, Frame, Value, function};
use crate::port::DeviceAuth;
use crate::session::{BridgeStats, BrokerAddr};
use crate::uplink;

/// How the collector runs its buses.
#[derive(Debug, Clone)]
pub struct CollectorConfig {
    pub broker: BrokerAddr,
    /// How long one request waits for its reply.
    pub request_timeout: Duration,
    /// How many times a request without a reply is sent again.
    pub retries: u32,
    /// How long a new connection has to send its registration packet.
    pub login_timeout: Duration,
    /// After a request went unanswered, how long the line must stay silent before the next
    /// request goes out (a late reply must not be taken for the next one's).
    pub quiet: Duration,
    /// Serial servers connected (or registering) at once, at most.
    pub max_connections: usize,
}

impl CollectorConfig {
    pub fn new(broker: BrokerAddr) -> Self {
        Self {
            broker,
            request_timeout: Duration::from_millis(1_500),
            retries: 1,
            login_timeout: Duration::from_secs(10),
            quiet: Duration::from_millis(300),
            max_connections: 512,
        }
    }
}

/// One Modbus-RTU job on the wire (the platform's `domain::register_map` serialised).
#[derive(Debug, Clone, Deserialize)]
pub struct ModbusJob {
    /// The meter's registered address (its DL/T 645 identity upward).
    pub address: String,
    pub unit: u8,
    #[serde(default)]
    pub reads: Vec<ModbusRead>,
    #[serde(default)]
    pub write: Option<ModbusWrite>,
    /// A write is dropped after this instant (Unix seconds): a relay command that waited in
    /// the broker while the bus was away must not switch hours later.
    #[serde(default)]
    pub valid_until: Option<i64>,
}

impl ModbusJob {
    /// Whether the job is one the collector runs: a unit id, known functions and formats,
    /// decimals a number can carry, at most 40 reads.
    fn check(&self) -> Result<(), String> {
        if !(1..=247).contains(&self.unit) {
            return Err(format!("unit {} is not 1 to 247", self.unit));
        }
        if self.reads.len() > 40 {
            return Err("more than 40 reads".into());
        }
        for r in &self.reads {
            let known = matches!(r.format.as_str(), "U16" | "S16" | "U32" | "S32" | "U32_SWAPPED" | "S32_SWAPPED" | "RELAY");
            if !known || !matches!(r.function, 1 | 3 | 4) || r.decimals > 10 || (r.function == 1 && r.format != "RELAY") {
                return Err(format!(
                    "read {} ({}, function {}, {} decimals) is not one the collector runs",
                    r.di, r.format, r.function, r.decimals
                ));
            }
        }
        if let Some(w) = self.write {
            let fine = match w.function {
                5 => w.value == 0xFF00 || w.value == 0,
                6 => true,
                _ => false,
            };
            if !fine {
                return Err(format!("write function {} value {:#06x} is not one the collector runs", w.function, w.value));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ModbusRead {
    pub di: String,
    pub function: u8,
    pub register: u16,
    pub format: String,
    #[serde(default)]
    pub decimals: u8,
    #[serde(default)]
    pub open: Option<u16>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct ModbusWrite {
    pub function: u8,
    pub register: u16,
    pub value: u16,
}

#[derive(Deserialize)]
struct Envelope {
    modbus: ModbusJob,
}

/// Accepts serial servers until the task is aborted. `auth` is the platform's device login
/// check: a registration is refused unless it names a valid login, and a bus whose login is
/// revoked or rotated is closed within [`LOGIN_RECHECK`] (or after the job in progress) —
/// whatever the broker enforces. One bus per login: a new registration closes the old one.
pub async fn run(listener: TcpListener, config: CollectorConfig, stats: Arc<BridgeStats>, auth: Arc<dyn DeviceAuth>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    let buses: Buses = Arc::default();
    let mut next_id = 0u64;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "collector accept failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            stats.serial_refused.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(peer = %peer, "too many serial-server connections; refused");
            continue;
        };
        next_id += 1;
        let (config, stats, auth, buses, id) = (config.clone(), stats.clone(), auth.clone(), buses.clone(), next_id);
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(reason) = serve(stream, peer, &config, &stats, auth.as_ref(), (&buses, id)).await {
                tracing::info!(peer = %peer, reason = %reason, "serial server disconnected");
            }
        });
    }
}

/// The live bus of each login: its connection's id and what closes it.
type Buses = Arc<std::sync::Mutex<std::collections::HashMap<String, (u64, tokio::sync::oneshot::Sender<()>)>>>;

/// Reads the registration packet: `username:password` and a new line, at most 200 bytes.
async fn registration(stream: &mut TcpStream) -> Result<(String, String), String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        let n = stream.read(&mut byte).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed before its registration".into());
        }
        if byte[0] == b'\n' {
            break;
        }
        line.push(byte[0]);
        if line.len() > 200 {
            return Err("registration packet too long".into());
        }
    }
    let text = String::from_utf8(line).map_err(|_| "registration packet is not text".to_string())?;
    let (user, password) = text.trim_end_matches('\r').split_once(':').ok_or("registration packet is not username:password")?;
    if user.is_empty() || user.contains(['/', '+', '#']) {
        return Err("registration names no valid username".into());
    }
    Ok((user.to_string(), password.to_string()))
}

/// How often a connected bus's login is checked again.
pub const LOGIN_RECHECK: Duration = Duration::from_secs(5);

async fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    config: &CollectorConfig,
    stats: &BridgeStats,
    auth: &dyn DeviceAuth,
    (buses, id): (&Buses, u64),
) -> Result<(), String> {
    let _ = stream.set_nodelay(true);
    let login = tokio::time::timeout(config.login_timeout, registration(&mut stream)).await;
    let (username, password) = match login {
        Ok(Ok(l)) => l,
        Ok(Err(e)) => {
            stats.serial_refused.fetch_add(1, Ordering::Relaxed);
            return Err(e);
        }
        Err(_) => {
            stats.serial_refused.fetch_add(1, Ordering::Relaxed);
            return Err("no registration packet in time".into());
        }
    };
    // The platform's own check first: the broker may be one that lets anyone in. Only a
    // gateway's login with meters behind it speaks for a bus (a 4G meter's does not).
    if !auth.check(&username, &username, &password) || !auth.gateway(&username) {
        stats.serial_refused.fetch_add(1, Ordering::Relaxed);
        return Err(format!("the login {username:?} is not a valid serial server's"));
    }
    // One bus per login: a serial server that reconnects (its old connection half-open behind
    // a NAT) takes over; the old bus closes instead of fighting over the MQTT session.
    let (close_tx, mut closed) = tokio::sync::oneshot::channel::<()>();
    if let Ok(mut b) = buses.lock()
        && let Some((_, old)) = b.insert(username.clone(), (id, close_tx))
    {
        let _ = old.send(());
    }
    stats.serial_buses.fetch_add(1, Ordering::Relaxed);
    // Undone however the bus ends (a panic included).
    let _registered = Registered { stats, buses, username: username.clone(), id };
    bus(&mut stream, peer, config, stats, auth, (&username, &password), &mut closed).await
}

/// A live bus's place in the gauge and the login table, given back when it ends.
struct Registered<'a> {
    stats: &'a BridgeStats,
    buses: &'a Buses,
    username: String,
    id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.stats.serial_buses.fetch_sub(1, Ordering::Relaxed);
        if let Ok(mut b) = self.buses.lock()
            && b.get(&self.username).is_some_and(|(owner, _)| *owner == self.id)
        {
            b.remove(&self.username);
        }
    }
}

/// Aborts a task when dropped (the bus's MQTT session, however the bus ends).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves one registered bus until its connection, login or session ends.
async fn bus(
    stream: &mut TcpStream,
    peer: SocketAddr,
    config: &CollectorConfig,
    stats: &BridgeStats,
    auth: &dyn DeviceAuth,
    (username, password): (&str, &str),
    closed: &mut tokio::sync::oneshot::Receiver<()>,
) -> Result<(), String> {
    let still_valid = || auth.check(username, username, password);
    // The serial server's own MQTT session, with its own login.
    let mut options = MqttOptions::new(username, config.broker.host.clone(), config.broker.port);
    options.set_credentials(username, password);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_clean_session(false);
    let (client, mut events) = AsyncClient::new(options, 64);
    let down = uplink::down_topic(username);
    let up = uplink::up_topic(username);
    // The broker's answer to the login decides whether the bus is served at all.
    loop {
        match tokio::time::timeout(config.login_timeout, events.poll()).await {
            Ok(Ok(Event::Incoming(Packet::ConnAck(ack)))) if ack.code == rumqttc::ConnectReturnCode::Success => break,
            Ok(Ok(Event::Incoming(Packet::ConnAck(ack)))) => {
                stats.serial_refused.fetch_add(1, Ordering::Relaxed);
                return Err(format!("the broker refused {username:?}: {:?}", ack.code));
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                stats.serial_refused.fetch_add(1, Ordering::Relaxed);
                return Err(format!("the broker refused {username:?}: {e}"));
            }
            Err(_) => return Err("the broker did not answer".into()),
        }
    }
    client.subscribe(down.clone(), QoS::AtLeastOnce).await.map_err(|e| e.to_string())?;
    tracing::info!(peer = %peer, device = %username, "serial server connected");
    let (jobs_tx, mut jobs) = mpsc::channel::<Vec<u8>>(64);
    // The session is polled in its own task (a poll must not be cancelled mid-connect) and
    // never waits on the bus: a job that finds the queue full is dropped (the platform sends
    // an unconfirmed command again).
    let session = AbortOnDrop(tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) if p.topic == down => match jobs_tx.try_send(p.payload.to_vec()) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => tracing::warn!(topic = %down, "the bus is behind; a job was dropped"),
                    Err(mpsc::error::TrySendError::Closed(_)) => return,
                },
                Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => return,
                Ok(_) => {}
                // The login was revoked or rotated: the bus is no longer served.
                Err(rumqttc::ConnectionError::ConnectionRefused(code)) => {
                    tracing::warn!(?code, "the broker refused the serial server's login; closing its bus");
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "serial server's MQTT session lost; reconnecting");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }));
    let mut recheck = tokio::time::interval(LOGIN_RECHECK);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let result = loop {
        tokio::select! {
            _ = &mut *closed => break Err("the serial server registered again on a new connection".to_string()),
            _ = recheck.tick() => {
                if !still_valid() {
                    break Err(format!("the login {username:?} was revoked or rotated"));
                }
            }
            job = jobs.recv() => {
                let Some(job) = job else { break Err("the MQTT session ended".to_string()) };
                if !still_valid() {
                    break Err(format!("the login {username:?} was revoked or rotated"));
                }
                match run_job(stream, &job, config, stats).await {
                    Ok(replies) if !replies.is_empty() => {
                        if let Err(e) = client.publish(up.clone(), QoS::AtLeastOnce, false, replies).await {
                            break Err(format!("publishing replies: {e}"));
                        }
                    }
                    Ok(_) => {}
                    Err(e) => break Err(e),
                }
            }
            // Between jobs the bus is quiet: bytes now are noise; a read of 0 is the server gone.
            r = stream.readable() => {
                if r.is_err() {
                    break Err("the serial server's connection failed".into());
                }
                let mut sink = [0u8; 256];
                if let Ok(0) = stream.try_read(&mut sink) {
                    break Err("the serial server closed its connection".into());
                }
            }
        }
    };
    let _ = client.disconnect().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(session);
    result
}

/// Runs one downlink job on the bus; returns the replies to publish. An `Err` means the
/// serial server's connection is gone.
async fn run_job(stream: &mut TcpStream, payload: &[u8], config: &CollectorConfig, stats: &BridgeStats) -> Result<Vec<u8>, String> {
    if payload.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        && let Ok(env) = serde_json::from_slice::<Envelope>(payload)
    {
        if let Err(e) = env.modbus.check() {
            tracing::warn!(reason = %e, "a Modbus job the collector does not run; dropped");
            return Ok(Vec::new());
        }
        if env.modbus.write.is_some() && env.modbus.valid_until.is_some_and(|t| t < chrono::Utc::now().timestamp()) {
            tracing::warn!(meter = %env.modbus.address, "an expired relay write; dropped");
            return Ok(Vec::new());
        }
        return run_modbus(stream, &env.modbus, config, stats).await;
    }
    let bytes = match uplink::unwrap_payload(payload) {
        Ok((b, _)) => b,
        Err(e) => {
            tracing::warn!(error = %e, "a downlink job the collector cannot read; dropped");
            return Ok(Vec::new());
        }
    };
    let mut replies = Vec::new();
    let mut lost: Vec<Address> = Vec::new();
    for frame in dlt645::scan(&bytes).frames {
        if lost.contains(&frame.address) || frame.control.direction != dlt645::Direction::Request {
            continue;
        }
        let Ok(wire) = frame.encode(2) else { continue };
        if frame.address.is_broadcast() {
            // Broadcasts (time sync) get no reply; give the meters a moment.
            drain(stream);
            stream.write_all(&wire).await.map_err(|e| e.to_string())?;
            stats.serial_requests.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        match dlt645_exchange(stream, &wire, &frame, config, stats).await? {
            Some(reply) => {
                let _ = reply.write(&mut replies);
            }
            None => lost.push(frame.address),
        }
    }
    Ok(replies)
}

/// Discards whatever is waiting on the bus (a late reply to an earlier request).
fn drain(stream: &TcpStream) {
    let mut sink = [0u8; 256];
    while matches!(stream.try_read(&mut sink), Ok(n) if n > 0) {}
}

/// After a request went unanswered: waits until the line has been silent for `quiet` (at most
/// the request timeout), discarding what arrives — a late reply is not the next request's.
async fn settle(stream: &mut TcpStream, config: &CollectorConfig) -> Result<(), String> {
    let until = tokio::time::Instant::now() + config.request_timeout;
    let mut sink = [0u8; 256];
    loop {
        let quiet_until = (tokio::time::Instant::now() + config.quiet).min(until);
        match tokio::time::timeout_at(quiet_until, stream.read(&mut sink)).await {
            Err(_) => return Ok(()),
            Ok(Ok(0)) => return Err("the serial server closed its connection".into()),
            Ok(Err(e)) => return Err(e.to_string()),
            Ok(Ok(_)) if tokio::time::Instant::now() >= until => return Ok(()),
            Ok(Ok(_)) => {}
        }
    }
}

/// Whether a frame is the reply to this request: the same meter and function, and for a
/// normal read reply the same data identifier.
fn answers(reply: &Frame, request: &Frame) -> bool {
    reply.address == request.address
        && reply.control.direction == dlt645::Direction::Reply
        && reply.control.function == request.control.function
        && (request.control.function != function::READ || reply.control.abnormal || reply.data.get(..4) == request.data.get(..4))
}

/// One DL/T 645 request and its reply, with retries; the line settles after a silence.
async fn dlt645_exchange(
    stream: &mut TcpStream,
    wire: &[u8],
    request: &Frame,
    config: &CollectorConfig,
    stats: &BridgeStats,
) -> Result<Option<Frame>, String> {
    for _ in 0..=config.retries {
        drain(stream);
        stream.write_all(wire).await.map_err(|e| e.to_string())?;
        stats.serial_requests.fetch_add(1, Ordering::Relaxed);
        let mut buf = Vec::new();
        let deadline = tokio::time::Instant::now() + config.request_timeout;
        loop {
            let mut chunk = [0u8; 512];
            match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
                Err(_) => break,
                Ok(Ok(0)) => return Err("the serial server closed its connection".into()),
                Ok(Err(e)) => return Err(e.to_string()),
                Ok(Ok(n)) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            }
            let scan = dlt645::scan(&buf);
            if let Some(reply) = scan.frames.into_iter().find(|f| answers(f, request)) {
                // An error reply names no item: a repeated one must not answer the next
                // request, so the line settles first.
                if reply.control.abnormal {
                    settle(stream, config).await?;
                }
                return Ok(Some(reply));
            }
            // What was scanned is not scanned again; a flood is cut short.
            buf.drain(..scan.consumed.min(buf.len()));
            if buf.len() > 1024 {
                buf.clear();
            }
        }
        stats.serial_timeouts.fetch_add(1, Ordering::Relaxed);
        settle(stream, config).await?;
    }
    tracing::info!(meter = %request.address, "no reply on the bus; the rest of its job is skipped");
    Ok(None)
}

/// What one Modbus request is.
enum Op {
    Read { function: u8, register: u16, count: u16 },
    Write(ModbusWrite),
}

enum Answer {
    Words(Vec<u16>),
    Coils(Vec<bool>),
    Done,
}

/// One Modbus-RTU request through `tokio-modbus`, with retries: the crate frames it (CRC,
/// exception replies) on a pipe whose other end is pumped to the bus for this request only.
/// A reply of the wrong length counts as none; the line settles after a silence.
async fn modbus_exchange(
    stream: &mut TcpStream,
    unit: u8,
    op: &Op,
    config: &CollectorConfig,
    stats: &BridgeStats,
) -> Result<Option<Result<Answer, ExceptionCode>>, String> {
    for _ in 0..=config.retries {
        drain(stream);
        stats.serial_requests.fetch_add(1, Ordering::Relaxed);
        let (mut ours, theirs) = tokio::io::duplex(1024);
        let mut ctx = rtu::attach_slave(theirs, Slave(unit));
        // `call` with the raw response, not the typed readers: they assert the word count in
        // debug builds (a hostile reply would end the bus task); the count is checked below.
        let request = match op {
            Op::Read { function: 1, register, count } => Request::ReadCoils(*register, *count),
            Op::Read { function: 4, register, count } => Request::ReadInputRegisters(*register, *count),
            Op::Read { register, count, .. } => Request::ReadHoldingRegisters(*register, *count),
            Op::Write(w) if w.function == 5 => Request::WriteSingleCoil(w.register, w.value == 0xFF00),
            Op::Write(w) => Request::WriteSingleRegister(w.register, w.value),
        };
        let call = async {
            ctx.call(request).await.map(|r| {
                r.map(|response| match response {
                    Response::ReadCoils(c) => Answer::Coils(c),
                    Response::ReadHoldingRegisters(w) | Response::ReadInputRegisters(w) => Answer::Words(w),
                    _ => Answer::Done,
                })
            })
        };
        let outcome = tokio::select! {
            r = tokio::time::timeout(config.request_timeout, call) => r,
            r = tokio::io::copy_bidirectional(&mut ours, stream) => {
                return Err(format!("the serial server's connection ended: {r:?}"));
            }
        };
        let expected = match op {
            Op::Read { function: 3 | 4, count, .. } => Some(usize::from(*count)),
            _ => None,
        };
        match outcome {
            Ok(Ok(Ok(Answer::Words(w)))) if expected.is_some_and(|n| n != w.len()) => {
                tracing::debug!(unit, words = w.len(), "a Modbus reply of the wrong length");
            }
            Ok(Ok(Ok(Answer::Coils(c)))) if c.is_empty() => {}
            Ok(Ok(answer)) => return Ok(Some(answer)),
            // A garbled reply (CRC, header) counts like no reply: asked again.
            Ok(Err(e)) => tracing::debug!(unit, error = %e, "a Modbus reply the crate refused"),
            Err(_) => {}
        }
        stats.serial_timeouts.fetch_add(1, Ordering::Relaxed);
        settle(stream, config).await?;
    }
    Ok(None)
}

/// The number a register's words hold, exact (`None`: wrong length or too many decimals).
pub fn register_value(format: &str, words: &[u16], decimals: u8) -> Option<Decimal> {
    let w = |i: usize| words.get(i).copied();
    let raw: i64 = match format {
        "U16" => i64::from(w(0)?),
        "S16" => i64::from(w(0)? as i16),
        "U32" => i64::from((u32::from(w(0)?) << 16) | u32::from(w(1)?)),
        "S32" => i64::from(((u32::from(w(0)?) << 16) | u32::from(w(1)?)) as i32),
        "U32_SWAPPED" => i64::from((u32::from(w(1)?) << 16) | u32::from(w(0)?)),
        "S32_SWAPPED" => i64::from(((u32::from(w(1)?) << 16) | u32::from(w(0)?)) as i32),
        _ => return None,
    };
    Decimal::try_new(raw, u32::from(decimals)).ok()
}

async fn run_modbus(stream: &mut TcpStream, job: &ModbusJob, config: &CollectorConfig, stats: &BridgeStats) -> Result<Vec<u8>, String> {
    let Ok(address) = Address::parse(&job.address) else {
        tracing::warn!(address = %job.address, "a Modbus job for an address that is not one; dropped");
        return Ok(Vec::new());
    };
    let mut replies = Vec::new();
    if let Some(w) = job.write {
        let answer = modbus_exchange(stream, job.unit, &Op::Write(w), config, stats).await?;
        let frame = match answer {
            None => return Ok(replies),
            Some(Ok(_)) => Frame::new(address, dlt645::Control::reply(function::REMOTE_CONTROL), Vec::new()),
            Some(Err(code)) => {
                tracing::info!(meter = %address, ?code, "the meter refused the relay write");
                dlt645::abnormal_reply(address, function::REMOTE_CONTROL, 0x01)
            }
        };
        let _ = frame.write(&mut replies);
        return Ok(replies);
    }
    for r in &job.reads {
        let Some(di) = Di::parse(&r.di) else { continue };
        let count = if r.format.starts_with("U32") || r.format.starts_with("S32") { 2 } else { 1 };
        let op = Op::Read { function: r.function, register: r.register, count };
        let frame = match modbus_exchange(stream, job.unit, &op, config, stats).await? {
            // Silent: lost; the rest of the job is skipped.
            None => break,
            Some(Err(ExceptionCode::IllegalDataAddress)) => dlt645::abnormal_reply(address, function::READ, 0x02),
            Some(Err(code)) => {
                tracing::info!(meter = %address, di = %di, ?code, "the meter answered a Modbus exception");
                dlt645::abnormal_reply(address, function::READ, 0x01)
            }
            Some(Ok(answer)) => match converted(address, di, r, &answer) {
                Ok(f) => f,
                Err(reason) => {
                    tracing::warn!(meter = %address, di = %di, reason = %reason, "a register that does not fit its item");
                    dlt645::abnormal_reply(address, function::READ, 0x01)
                }
            },
        };
        let _ = frame.write(&mut replies);
    }
    Ok(replies)
}

/// A register read as the DL/T 645 read reply of the item it stands for.
fn converted(address: Address, di: Di, r: &ModbusRead, answer: &Answer) -> Result<Frame, String> {
    let value = match (r.format.as_str(), answer) {
        ("RELAY", Answer::Coils(c)) => {
            let open = u16::from(c.first().copied().unwrap_or(false)) == r.open.unwrap_or(1);
            Value::Word(if open { 1 << 4 } else { 0 })
        }
        ("RELAY", Answer::Words(w)) => {
            let open = w.first().copied() == r.open;
            Value::Word(if open { 1 << 4 } else { 0 })
        }
        (format, Answer::Words(w)) => {
            Value::Number(register_value(format, w, r.decimals).ok_or_else(|| format!("format {format} over {} word(s)", w.len()))?)
        }
        _ => return Err("an answer of the wrong kind".into()),
    };
    dlt645::read_reply(address, di, &[value]).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn register_words_make_exact_numbers_in_both_word_orders_and_signs() {
        assert_eq!(register_value("U32", &[0x0001, 0x86A0], 2), Some(Decimal::new(100_000, 2)));
        assert_eq!(register_value("U32_SWAPPED", &[0x86A0, 0x0001], 2), Some(Decimal::new(100_000, 2)));
        assert_eq!(register_value("S16", &[0xFFFE], 3), Some(Decimal::new(-2, 3)));
        assert_eq!(register_value("S32", &[0xFFFF, 0xFFFF], 0), Some(Decimal::new(-1, 0)));
        assert_eq!(register_value("U16", &[2201], 1), Some(Decimal::new(2201, 1)));
        assert_eq!(register_value("U32", &[1], 2), None, "a missing word");
        assert_eq!(register_value("F32", &[1, 2], 0), None);
        assert_eq!(register_value("U16", &[1], 200), None, "a scale no decimal carries");
    }

    #[test]
    fn jobs_the_collector_does_not_run_are_refused_before_the_bus() {
        let job = |j: &str| serde_json::from_str::<ModbusJob>(j).unwrap().check();
        let read = |f: u8, format: &str, decimals: u8| {
            format!(
                r#"{{"address": "000000000007", "unit": 7, "reads": [{{"di": "00010000", "function": {f}, "register": 0, "format": "{format}", "decimals": {decimals}}}]}}"#
            )
        };
        assert!(job(&read(3, "U32", 2)).is_ok());
        assert!(job(&read(3, "U32", 200)).is_err(), "a scale no decimal carries");
        assert!(job(&read(2, "U32", 2)).is_err());
        assert!(job(&read(3, "F32", 2)).is_err());
        assert!(job(&read(1, "U16", 0)).is_err(), "coils are the relay's");
        assert!(job(r#"{"address": "000000000007", "unit": 0}"#).is_err());
        assert!(job(r#"{"address": "000000000007", "unit": 248}"#).is_err());
        assert!(job(r#"{"address": "000000000007", "unit": 7, "write": {"function": 5, "register": 0, "value": 1}}"#).is_err());
        assert!(job(r#"{"address": "000000000007", "unit": 7, "write": {"function": 16, "register": 0, "value": 1}}"#).is_err());
    }

    #[test]
    fn only_the_same_meter_function_and_item_answer_a_request() {
        let a = Address::from_u64(485).unwrap();
        let request = dlt645::read_request(a, dlt645::di::VOLTAGE_A);
        let reply = |d: Di| dlt645::read_reply(a, d, &[Value::Number(Decimal::new(2201, 1))]).unwrap();
        assert!(answers(&reply(dlt645::di::VOLTAGE_A), &request));
        assert!(
            !answers(&dlt645::read_reply(a, dlt645::di::FORWARD_ACTIVE_TOTAL, &[Value::Number(Decimal::ONE)]).unwrap(), &request),
            "a late reply to the previous read"
        );
        assert!(answers(&dlt645::abnormal_reply(a, function::READ, 0x02), &request));
        assert!(!answers(&dlt645::abnormal_reply(a, function::REMOTE_CONTROL, 0x04), &request));
        assert!(!answers(&reply(dlt645::di::VOLTAGE_A), &dlt645::read_request(Address::from_u64(486).unwrap(), dlt645::di::VOLTAGE_A)));
    }

    #[test]
    fn a_register_beyond_its_item_is_refused_not_wrapped() {
        let a = Address::from_u64(7).unwrap();
        let r = ModbusRead { di: "00010000".into(), function: 3, register: 0, format: "U32".into(), decimals: 2, open: None };
        // 0xFFFFFFFF / 100 = 42,949,672.95 kWh: beyond XXXXXX.XX.
        assert!(converted(a, dlt645::di::FORWARD_ACTIVE_TOTAL, &r, &Answer::Words(vec![0xFFFF, 0xFFFF])).is_err());
        let ok = converted(a, dlt645::di::FORWARD_ACTIVE_TOTAL, &r, &Answer::Words(vec![0x0001, 0x86A0])).unwrap();
        let items = dlt645::items::decode_items(&ok.data).unwrap();
        assert_eq!(items[0].value, Value::Number(Decimal::new(100_000, 2)));
    }
}
