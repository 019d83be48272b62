//! Sending commands to meters: the [`Dispatcher`] implements the store's command port
//! (`store::outbox`), so decisions stored in `commands` in the transaction that made them
//! wake it after commit; it frames, sends, retries, confirms and expires them.

use crate::domain::control::CommandKind;
use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use store::outbox::{CommandLog, CommandPort, CommandRecord};

/// The port that sends: decisions are already durable in `commands` (the outbox), so
/// `submit` only wakes the dispatcher, which also picks up anything left from before a
/// restart, retries unconfirmed commands and confirms them from the meters' relay state.
#[derive(Clone, Default)]
pub struct Dispatcher {
    wake: Arc<tokio::sync::Notify>,
}

impl CommandPort for Dispatcher {
    fn submit(&self, commands: &[CommandRecord]) {
        if !commands.is_empty() {
            self.wake.notify_one();
        }
    }
}

/// How the dispatcher talks to meters.
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    /// Resend a relay command not confirmed within this time…
    pub retry_after: chrono::Duration,
    /// …at most this many times in all, then it ends `TIMED_OUT`.
    pub max_attempts: i64,
    /// How long a command frame stays valid on the meter's clock.
    pub validity: chrono::Duration,
    /// A command still queued after this (its meter stayed lost) ends `EXPIRED` (F36).
    pub expire_after: chrono::Duration,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        Self {
            retry_after: chrono::Duration::seconds(60),
            max_attempts: 3,
            validity: chrono::Duration::minutes(10),
            expire_after: chrono::Duration::hours(24),
        }
    }
}

impl Dispatcher {
    /// Runs the dispatcher until the task is aborted: on every wake-up and every second,
    /// sends due commands as DL/T 645 frames (relay and purchase sealed under the meter's
    /// 3DES key with a fresh counter) and confirms sent ones.
    pub fn spawn(
        &self,
        store: crate::store::Store,
        downlink: mqtt_bridge::downlink::Downlink,
        settings: DispatchSettings,
    ) -> tokio::task::JoinHandle<()> {
        let wake = self.wake.clone();
        tokio::spawn(async move {
            // An interval, not a sleep: frequent wake-ups must not starve the confirmations.
            let mut ticker = tokio::time::interval(std::time::Duration::from_secs(1));
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                // Woken by a submit: send at once; the confirmations wait for the tick.
                let tick = tokio::select! {
                    _ = wake.notified() => false,
                    _ = ticker.tick() => true,
                };
                if tick {
                    let now = Utc::now();
                    if let Err(e) = store.platform().confirm_relays(now).await {
                        tracing::warn!(error = %e, "confirming commands failed");
                    }
                    if let Err(e) = store.platform().read_back_acknowledged(now).await {
                        tracing::warn!(error = %e, "reading acknowledged relays back failed");
                    }
                }
                // A full pass means more is due: go again at once.
                loop {
                    match dispatch_once(&store, &downlink, &settings).await {
                        Ok(n) if n >= crate::store::DUE_PER_PASS => continue,
                        Ok(_) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "command dispatch failed");
                            break;
                        }
                    }
                }
            }
        })
    }
}

/// Meters whose commands are framed and sent at once in a pass. Each command costs a few
/// statements (claim, counter, sent) and a publish; one at a time, a burst of trips (a
/// quarter-hour of readings crossing limits together) queued behind each other for hundreds
/// of milliseconds.
const METERS_AT_ONCE: usize = 8;

async fn dispatch_once(
    store: &crate::store::Store,
    downlink: &mqtt_bridge::downlink::Downlink,
    s: &DispatchSettings,
) -> Result<usize, crate::store::StoreError> {
    use futures::StreamExt as _;
    let now = Utc::now();
    let policy = crate::store::DuePolicy { retry_after: s.retry_after, max_attempts: s.max_attempts, expire_after: s.expire_after };
    let due = store.platform().commands_due(now, &policy).await?;
    let taken = due.len();
    // F37: automatic trips wait while the tenant's friendly hours last (each tenant's windows
    // read once a pass).
    let mut windows = std::collections::HashMap::new();
    for c in due.iter().filter(|c| c.kind == CommandKind::Trip && c.source == "AUTO") {
        if !windows.contains_key(&c.tenant_id) {
            let w: Vec<_> = store.platform().friendly_windows(&c.tenant_id).await?.into_iter().map(|(_, w)| w).collect();
            windows.insert(c.tenant_id.clone(), w);
        }
    }
    // A meter registered through another server may not be in this one's cache yet.
    if due.iter().any(|c| store.platform().device_of(&c.tenant_id, &c.meter_id).is_none()) {
        store.reload_caches().await?;
    }
    // One meter's commands in their order (its sealed frames carry increasing counters, and
    // its answers are matched to what it asked for in order); different meters at once.
    let mut groups: Vec<Vec<crate::store::DueCommand>> = Vec::new();
    let mut group_of: std::collections::HashMap<(String, String), usize> = std::collections::HashMap::new();
    for c in due {
        let key = (c.tenant_id.clone(), c.meter_id.clone());
        let n = *group_of.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        if let Some(g) = groups.get_mut(n) {
            g.push(c);
        }
    }
    let windows = &windows;
    let mut passes = futures::stream::iter(groups)
        .map(|group| async move {
            // One read at a time per meter: its answers are matched to what it asked for in order.
            let mut reading = false;
            for c in group {
                if c.kind == CommandKind::Read && std::mem::replace(&mut reading, true) {
                    continue;
                }
                dispatch_one(store, downlink, s, windows, now, c).await?;
            }
            Ok::<_, crate::store::StoreError>(())
        })
        .buffer_unordered(METERS_AT_ONCE);
    let mut first_error = None;
    while let Some(r) = passes.next().await {
        if let Err(e) = r {
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(taken),
    }
}

/// Frames and sends one command (or holds it in friendly hours, or fails it when it cannot
/// be sent).
async fn dispatch_one(
    store: &crate::store::Store,
    downlink: &mqtt_bridge::downlink::Downlink,
    s: &DispatchSettings,
    windows: &std::collections::HashMap<String, Vec<crate::domain::control::FriendlyWindow>>,
    now: DateTime<Utc>,
    c: crate::store::DueCommand,
) -> Result<(), crate::store::StoreError> {
    if c.kind == CommandKind::Trip && c.source == "AUTO" {
        let local = now.with_timezone(&c.tz).naive_local();
        if let Some(until) = windows.get(&c.tenant_id).and_then(|w| crate::domain::control::friendly_until(w, local)) {
            use chrono::TimeZone;
            let until =
                c.tz.from_local_datetime(&until).earliest().map(|t| t.with_timezone(&Utc)).unwrap_or(now + chrono::Duration::hours(1));
            store.platform().hold_command(&c.tenant_id, &c.id, until).await?;
            return Ok(());
        }
    }
    let Some((device, address)) = store.platform().device_of(&c.tenant_id, &c.meter_id) else {
        store.platform().mark_failed(&c.tenant_id, &c.id, "the meter has no device login to reach it").await?;
        return Ok(());
    };
    if !store.platform().claim_command(&c.tenant_id, &c.id, c.attempts, now).await? {
        return Ok(()); // another server took this attempt
    }
    let payload = match command_frames(store, &c, address, now + s.validity).await {
        Ok(Downlink::Frames(frames)) => {
            let mut bytes = Vec::new();
            frames.iter().try_for_each(|f| f.encode(2).map(|b| bytes.extend(b))).map(|_| bytes).map_err(|e| e.to_string())
        }
        Ok(Downlink::Bus(job)) => Ok(job.to_string().into_bytes()),
        Err(CommandBuild::Store(e)) => return Err(e),
        Err(CommandBuild::Refused(e)) => Err(e),
    };
    let bytes = match payload {
        Ok(b) => b,
        Err(e) => {
            store.platform().mark_failed(&c.tenant_id, &c.id, &e).await?;
            return Ok(());
        }
    };
    match downlink.send(&device, bytes).await {
        Ok(()) => {
            let sent = Utc::now();
            store.platform().mark_sent(&c.tenant_id, &c.id, sent).await?;
            metrics::counter!("voltledger_commands_total", "state" => "SENT").increment(1);
            // Reading that crossed the limit -> trip frame on the wire (first attempts).
            if c.kind == CommandKind::Trip && c.source == "AUTO" && c.attempts == 0 {
                metrics::histogram!("voltledger_command_latency_seconds")
                    .record((sent - c.created_at).num_milliseconds().max(0) as f64 / 1000.0);
            }
            tracing::info!(tenant = %c.tenant_id, meter = %c.meter_id, kind = %c.kind, attempt = c.attempts + 1, "command sent");
        }
        Err(e) => {
            tracing::warn!(error = %e, "downlink publish failed; will retry");
            let retry_at = now - s.retry_after - chrono::Duration::seconds(1);
            store.platform().unclaim_command(&c.tenant_id, &c.id, retry_at).await?;
        }
    }
    Ok(())
}

/// What a READ asks for: what a follow-up read names, else the meter's plan (its profile's
/// reads, what it lacks replaced by the parts).
async fn read_items(store: &crate::store::Store, c: &crate::store::DueCommand) -> Result<Vec<mqtt_bridge::dlt645::Di>, CommandBuild> {
    use mqtt_bridge::dlt645::Di;
    let named: Vec<Di> = serde_json::from_str::<serde_json::Value>(&c.payload)
        .ok()
        .and_then(|p| p["items"].as_array().map(|a| a.iter().filter_map(|v| v.as_str().and_then(Di::parse)).collect()))
        .unwrap_or_default();
    if !named.is_empty() {
        return Ok(named);
    }
    store.platform().read_plan(&c.tenant_id, &c.meter_id).await.map_err(CommandBuild::Store)
}

/// What goes down to the device for one command.
enum Downlink {
    /// DL/T 645 frames (a 4G meter, a LoRa gateway, or a DL/T 645 meter on a serial bus).
    Frames(Vec<mqtt_bridge::dlt645::Frame>),
    /// A Modbus-RTU job for the serial-server collector (`mqtt_bridge::serial::ModbusJob`), or
    /// a vendor JSON device's own command message.
    Bus(serde_json::Value),
}

enum CommandBuild {
    Store(crate::store::StoreError),
    /// The command cannot be built (bad payload, bad address): it ends FAILED with this.
    Refused(String),
}

/// The frames that carry one command. Relay commands travel sealed (profile `VL3DES-1`,
/// docs/CONTROL.md) with a counter taken for this attempt; a purchase carries the amount in
/// fen and the meter's purchase count under the MAC; a read asks for what the meter's profile
/// lists; a meter whose profile takes plain 0x1C gets its relay commands with its password.
async fn command_frames(
    store: &crate::store::Store,
    c: &crate::store::DueCommand,
    address: mqtt_bridge::dlt645::Address,
    valid_until: DateTime<Utc>,
) -> Result<Downlink, CommandBuild> {
    use mqtt_bridge::dlt645::secure::{SealedControl, SealedWrite, WalletRecharge};
    use mqtt_bridge::dlt645::{Di, RelayAction, Value, broadcast_time, di, items, read_request};
    let refused = |e: &dyn std::fmt::Display| CommandBuild::Refused(e.to_string());
    let reads = |ids: &[Di]| ids.iter().map(|d| read_request(address, *d)).collect::<Vec<_>>();
    let platform = store.platform();
    let key = || platform.meter_key(&c.tenant_id, address);
    let counter = || platform.next_counter(&c.tenant_id, &c.meter_id);
    // A Modbus-RTU meter (behind a serial server) or a vendor JSON device is read and switched
    // through its profile's map.
    let profile = platform.meter_profile(&c.tenant_id, &c.meter_id).await.map_err(CommandBuild::Store)?;
    if let Some(map) = &profile.map {
        return modbus_job(store, c, address, map, valid_until).await;
    }
    if let Some(map) = &profile.json {
        return vendor_message(store, c, map).await;
    }
    let frame = match c.kind {
        // What the meter's profile lists (what it lacks replaced by the parts), or what a
        // follow-up read names; recorded with the command, which the answers confirm.
        CommandKind::Read => {
            let items = read_items(store, c).await?;
            platform.set_read_items(&c.tenant_id, &c.id, &items).await.map_err(CommandBuild::Store)?;
            return Ok(Downlink::Frames(reads(&items)));
        }
        // DL/T 645 time sync is a broadcast (no reply); the clock read after it confirms it.
        CommandKind::TimeSync => {
            let mut frames = vec![broadcast_time(Utc::now().with_timezone(&c.tz).naive_local())];
            frames.extend(reads(&[di::DATE, di::TIME]));
            return Ok(Downlink::Frames(frames));
        }
        CommandKind::Write => {
            let p: serde_json::Value = serde_json::from_str(&c.payload).map_err(|e| refused(&e))?;
            let id = p["di"]
                .as_str()
                .and_then(|d| u32::from_str_radix(d, 16).ok())
                .ok_or_else(|| CommandBuild::Refused("write without a data identifier".into()))?;
            let value = match (p["raw"].as_str(), p["text"].as_str(), p["value"].as_str()) {
                (Some(raw), _, _) => Value::Raw(hex::decode(raw).map_err(|e| refused(&e))?),
                (None, Some(text), _) => Value::Text(text.to_string()),
                (None, None, Some(v)) => Value::Number(v.parse().map_err(|e: rust_decimal::Error| refused(&e))?),
                _ => return Err(CommandBuild::Refused("write without a value".into())),
            };
            let item = items::encode_items(Di(id), &[value]).map_err(|e| refused(&e))?;
            let key = key().await.map_err(CommandBuild::Store)?;
            let counter = counter().await.map_err(CommandBuild::Store)?;
            SealedWrite { operator: 0, item, counter }.frame(address, &key).map_err(|e| refused(&e))?
        }
        CommandKind::Purchase => {
            let p: serde_json::Value = serde_json::from_str(&c.payload).map_err(|e| refused(&e))?;
            let amount: rust_decimal::Decimal = p["amount"]
                .as_str()
                .and_then(|a| a.parse().ok())
                .ok_or_else(|| CommandBuild::Refused("purchase without an amount".into()))?;
            let amount_fen =
                u32::try_from(crate::domain::ledger::fen("amount", amount).map_err(|e| refused(&e))?).map_err(|e| refused(&e))?;
            let count = p["counter"]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| CommandBuild::Refused("purchase without a counter".into()))?;
            let key = key().await.map_err(CommandBuild::Store)?;
            WalletRecharge { operator: 0, amount_fen, count }.frame(address, &key).map_err(|e| refused(&e))?
        }
        CommandKind::Trip | CommandKind::Close | CommandKind::HoldOn | CommandKind::HoldOff => {
            let action = match c.kind {
                CommandKind::Trip => RelayAction::Trip,
                CommandKind::Close => RelayAction::DirectClose,
                CommandKind::HoldOn => RelayAction::HoldOn,
                _ => RelayAction::HoldOff,
            };
            let deadline = valid_until.with_timezone(&c.tz).naive_local();
            // The meter's profile says how its relay is commanded.
            match platform.relay_scheme(&c.tenant_id, &c.meter_id).await.map_err(CommandBuild::Store)? {
                crate::store::RelayScheme::Sealed => {}
                crate::store::RelayScheme::Plain { level, password, operator } => {
                    let rc = mqtt_bridge::dlt645::RemoteControl { level, password, operator, action, deadline };
                    return rc.frame(address).map(|f| Downlink::Frames(vec![f])).map_err(|e| refused(&e));
                }
                crate::store::RelayScheme::Mapped(profile) => {
                    return Err(CommandBuild::Refused(format!("the meter's profile “{profile}” has no map to switch it by")));
                }
                crate::store::RelayScheme::NoPassword(profile) => {
                    return Err(CommandBuild::Refused(format!(
                        "the meter's profile “{profile}” has no password for plain 0x1C commands: give the meter a profile of your own with its password"
                    )));
                }
            }
            let key = key().await.map_err(CommandBuild::Store)?;
            let counter = counter().await.map_err(CommandBuild::Store)?;
            SealedControl { operator: 0, action, deadline, counter }.frame(address, &key).map_err(|e| refused(&e))?
        }
    };
    Ok(Downlink::Frames(vec![frame]))
}

/// A Modbus-RTU meter's command as a job for the collector: a read asks for the registers its
/// map holds for the plan's items (recorded with the command, confirmed by the converted
/// answers); a trip or close is the map's write. Other commands have no Modbus form.
async fn modbus_job(
    store: &crate::store::Store,
    c: &crate::store::DueCommand,
    address: mqtt_bridge::dlt645::Address,
    map: &crate::domain::register_map::RegisterMap,
    valid_until: DateTime<Utc>,
) -> Result<Downlink, CommandBuild> {
    use mqtt_bridge::dlt645::Di;
    let platform = store.platform();
    let unit = address
        .as_u64()
        .ok_or_else(|| CommandBuild::Refused("the meter's address is not a unit id".into()))
        .and_then(|a| crate::domain::register_map::unit_of(a).map_err(|e| CommandBuild::Refused(e.message)))?;
    let job = |extra: serde_json::Value| {
        let mut j = serde_json::json!({"address": address.to_string(), "unit": unit});
        if let (Some(o), Some(e)) = (j.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        Downlink::Bus(serde_json::json!({ "modbus": j }))
    };
    match c.kind {
        CommandKind::Read => {
            let items = read_items(store, c).await?;
            let reads = map.select(&items);
            if reads.is_empty() {
                return Err(CommandBuild::Refused("nothing the meter's register map holds was asked for".into()));
            }
            let asked: Vec<Di> = reads.iter().map(|r| r.di).collect();
            platform.set_read_items(&c.tenant_id, &c.id, &asked).await.map_err(CommandBuild::Store)?;
            Ok(job(serde_json::json!({ "reads": reads })))
        }
        CommandKind::Trip | CommandKind::Close => {
            let write = if c.kind == CommandKind::Trip { map.trip } else { map.close };
            let write = write.ok_or_else(|| {
                CommandBuild::Refused(format!(
                    "the meter's register map has no {} write: add the relay register from the model's manual to a profile of your own",
                    if c.kind == CommandKind::Trip { "trip" } else { "close" }
                ))
            })?;
            // Dropped by the collector after this: a trip that waited for the bus must not switch
            // hours later.
            Ok(job(serde_json::json!({ "write": write, "valid_until": valid_until.timestamp() })))
        }
        other => Err(CommandBuild::Refused(format!("a Modbus-RTU meter takes no {other} command through its register map"))),
    }
}

/// A vendor JSON device's command: the message its map gives for a trip, a close or a report
/// now (a read, recorded with the map's items and confirmed by the messages that carry them).
async fn vendor_message(
    store: &crate::store::Store,
    c: &crate::store::DueCommand,
    map: &crate::domain::vendor_json::JsonMap,
) -> Result<Downlink, CommandBuild> {
    let (template, what) = match c.kind {
        CommandKind::Read => (&map.read, "report-now"),
        CommandKind::Trip => (&map.trip, "trip"),
        CommandKind::Close => (&map.close, "close"),
        other => return Err(CommandBuild::Refused(format!("a vendor JSON device takes no {other} command through its map"))),
    };
    let message = template.as_deref().ok_or_else(|| {
        CommandBuild::Refused(format!("the device's JSON map has no {what} message: add the vendor's command to a profile of your own"))
    })?;
    let message: serde_json::Value = serde_json::from_str(message).map_err(|e| CommandBuild::Refused(e.to_string()))?;
    if c.kind == CommandKind::Read {
        store.platform().set_read_items(&c.tenant_id, &c.id, &map.items()).await.map_err(CommandBuild::Store)?;
    }
    Ok(Downlink::Bus(message))
}
