//! Meter and gateway simulator speaking DL/T 645-2007 over MQTT, for demos, tests and
//! benchmarks. A [`SimMeter`] is a deterministic model (daily load curve, tariff registers,
//! relay, faults); a device task publishes its meters' readings and answers downlink frames.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime, Timelike, Utc};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use rust_decimal::Decimal;
use tokio::sync::mpsc;

use crate::dlt645::secure::{self, Key, SealedControl, SealedWrite, WalletRecharge};
use crate::dlt645::{self, Address, Di, Frame, RelayAction, RemoteControl, Value, di, function};
use crate::port::Readings;
use crate::session::BrokerAddr;
use crate::uplink;

/// Password a simulated meter without a key accepts for plain remote control (level 02, §2.2).
pub const SIM_PASSWORD: u32 = 123_456;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Faults {
    /// Phase break on phase C (status word 6 bit 7, voltage 0).
    pub phase_loss: bool,
    /// Under-voltage on every phase (status word bit 1, ~180 V).
    pub under_voltage: bool,
    /// Over-voltage on every phase (status word bit 2, ~255 V).
    pub over_voltage: bool,
    /// Load above the meter's limit (status word bit 5 on every phase).
    pub overload: bool,
    /// Power flowing backwards (status word bit 6 on every phase).
    pub reverse_power: bool,
    /// The relay is bypassed: energy flows while it is open (consumption while tripped).
    pub bypass: bool,
    /// The terminal cover is open (status word 7 bit 9).
    pub cover_open: bool,
    /// Most of the load stops being metered (power falls to 5 %).
    pub power_drop: bool,
    /// Publishes nothing and answers nothing.
    pub silent: bool,
    /// Publishes nothing on its own but answers requests: a meter the platform must poll.
    pub push_off: bool,
}

/// One simulated meter.
#[derive(Debug, Clone)]
pub struct SimMeter {
    pub address: Address,
    pub three_phase: bool,
    /// Peak load in kW.
    pub peak_kw: Decimal,
    /// Exact energy registers in kWh (sharp, peak, flat, valley); reported truncated to 0.01.
    pub registers: [Decimal; 4],
    pub relay_open: bool,
    pub hold_power: bool,
    pub faults: Faults,
    /// The meter's 3DES key (profile `VL3DES-1`): with one, only protected commands are obeyed.
    pub key: Option<Key>,
    /// Highest command counter accepted; protected commands must exceed it.
    pub last_counter: u32,
    /// Meter-side prepaid wallet in fen and its purchase count.
    pub wallet_fen: i64,
    pub purchase_count: u32,
    /// Parameters written by the platform (alarm amounts, credit limit, prices, …).
    pub settings: std::collections::BTreeMap<Di, Value>,
    /// How far the meter's clock is off (a time sync sets it right).
    pub clock_skew: chrono::Duration,
    /// This month's maximum demand in kW (正向有功最大需量) and when: the largest 15-minute
    /// average power, each quarter hour ending at a reading sampled minute by minute (the load
    /// curve is a function of time, so the meter has a quarter hour behind it from its first
    /// reading); it starts again at the month's turn.
    pub max_demand: Option<(Decimal, NaiveDateTime)>,
    /// A plain standard DL/T 645-2007 meter (issue 20): block reads answered "no requested
    /// data" (ERR 02), single registers answered one by one, no money register; with no key it
    /// obeys plain 0x1C with its password ([`SIM_PASSWORD`]).
    pub standard: bool,
    last: Option<NaiveDateTime>,
}

/// Default TOU map of the simulated meters: tariff index (0 sharp .. 3 valley) by local hour.
pub fn tariff_of_hour(hour: u32) -> usize {
    match hour {
        19..=20 => 0,
        8..=10 | 17..=18 | 21 => 1,
        7 | 11..=16 | 22 => 2,
        _ => 3,
    }
}

/// Share of peak load by local hour (mall/park curve): night base, morning ramp, evening peak.
fn load_share(hour: u32) -> Decimal {
    const CURVE: [i64; 24] = [25, 22, 20, 20, 20, 25, 35, 50, 70, 85, 90, 88, 80, 82, 85, 86, 88, 92, 100, 98, 90, 75, 55, 35];
    Decimal::new(CURVE.get(hour as usize).copied().unwrap_or(50), 2)
}

fn hash(a: u64, b: i64) -> u64 {
    // SplitMix64: cheap deterministic noise per meter and time.
    let mut z = a ^ (b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl SimMeter {
    pub fn new(address: Address, three_phase: bool) -> Self {
        let seed = address.as_u64().unwrap_or_default();
        let peak = if three_phase { 20 + (seed % 60) as i64 } else { 3 + (seed % 6) as i64 };
        let start = Decimal::new((hash(seed, 0) % 5_000_000) as i64, 2);
        Self {
            address,
            three_phase,
            peak_kw: Decimal::from(peak),
            registers: [start / Decimal::from(8), start / Decimal::from(4), start / Decimal::from(4), start * Decimal::new(375, 3)],
            relay_open: false,
            hold_power: false,
            faults: Faults::default(),
            key: None,
            last_counter: 0,
            wallet_fen: 0,
            purchase_count: 0,
            settings: std::collections::BTreeMap::new(),
            clock_skew: chrono::Duration::zero(),
            max_demand: None,
            standard: false,
            last: None,
        }
    }

    /// The same meter answering as a plain standard meter (see [`SimMeter::standard`]).
    pub fn standard(mut self) -> Self {
        self.standard = true;
        self
    }

    /// The same meter holding its 3DES key.
    pub fn with_key(mut self, key: Key) -> Self {
        self.key = Some(key);
        self
    }

    fn truncated(v: Decimal, places: u32) -> Decimal {
        v.trunc_with_scale(places)
    }

    /// Active power (kW, 4 places) at a local time.
    fn power_at(&self, at: NaiveDateTime) -> Decimal {
        if self.relay_open && !self.faults.bypass {
            return Decimal::new(0, 4);
        }
        let noise = Decimal::new((hash(self.address.as_u64().unwrap_or_default(), at.and_utc().timestamp()) % 200) as i64 - 100, 3);
        let share = (load_share(at.hour()) + noise * Decimal::new(1, 1)).max(Decimal::new(5, 2));
        let drop = if self.faults.power_drop { Decimal::new(5, 2) } else { Decimal::ONE };
        Self::truncated(self.peak_kw * share * drop, 4)
    }

    /// Advances the registers to `at` and returns the snapshot the meter reports.
    pub fn reading_at(&mut self, at: NaiveDateTime) -> Readings {
        let power = self.power_at(at);
        if let Some(last) = self.last
            && at > last
        {
            let hours = Decimal::from((at - last).num_seconds()) / Decimal::from(3600);
            if let Some(reg) = self.registers.get_mut(tariff_of_hour(at.hour())) {
                *reg += power * hours;
            }
        }
        if self.last.is_none_or(|l| at > l) {
            self.last = Some(at);
        }
        let seed = self.address.as_u64().unwrap_or_default();
        let t = at.and_utc().timestamp();
        let mut r = Readings::default();
        let tariffs: Vec<Decimal> = self.registers.iter().map(|v| Self::truncated(*v, 2)).collect();
        r.energy_total = Some(Self::truncated(self.registers.iter().copied().sum(), 2));
        for (slot, v) in r.energy_tariffs.iter_mut().zip(tariffs) {
            *slot = Some(v);
        }
        let phases = if self.three_phase { 3 } else { 1 };
        let pf = Decimal::new(930 + (hash(seed, t + 7) % 60) as i64, 3);
        for p in 0..phases {
            let base = if self.faults.under_voltage {
                1800
            } else if self.faults.over_voltage {
                2550
            } else {
                2200
            };
            let mut v = Decimal::new(base + (hash(seed, t + p as i64) % 60) as i64 - 30, 1);
            if self.faults.phase_loss && p == 2 {
                v = Decimal::new(0, 1);
            }
            let per_phase = power / Decimal::from(phases);
            let amps = if v.is_zero() || (self.relay_open && !self.faults.bypass) {
                Decimal::ZERO
            } else {
                per_phase * Decimal::from(1000) / (v * pf)
            };
            if let Some(slot) = r.voltage.get_mut(p) {
                *slot = Some(v);
            }
            if let Some(slot) = r.current.get_mut(p) {
                *slot = Some(Self::truncated(amps, 3).round_dp(3));
            }
            let mut word = 0u16;
            if self.faults.under_voltage {
                word |= 1 << 1;
            }
            if self.faults.over_voltage {
                word |= 1 << 2;
            }
            if self.faults.overload {
                word |= 1 << 5;
            }
            if self.faults.reverse_power {
                word |= 1 << 6;
            }
            if self.faults.phase_loss && p == 2 {
                word |= 1 << 7;
            }
            if let Some(slot) = r.phase_faults.get_mut(p) {
                *slot = Some(word);
            }
        }
        r.active_power = Some(power);
        r.power_factor = Some(pf);
        r.frequency = Some(Decimal::new(4990 + (hash(seed, t + 11) % 20) as i64, 2));
        let mut sw3 = 0u16;
        if self.relay_open {
            sw3 |= (1 << 4) | (1 << 6);
        }
        if self.hold_power {
            sw3 |= 1 << 12;
        }
        r.status_word_3 = Some(sw3);
        r.status_word_7 = Some(if self.faults.cover_open { 1 << 9 } else { 0 });
        if self.purchase_count > 0 {
            r.remaining_amount = Some(Decimal::new(self.wallet_fen, 2));
        }
        let quarter: Decimal = (0..15).map(|k| self.power_at(at - chrono::Duration::minutes(k))).sum::<Decimal>() / Decimal::from(15);
        // XX.XXXX kW on the wire.
        let quarter = Self::truncated(quarter, 4).min(Decimal::new(999_999, 4));
        let this_month = self.max_demand.is_some_and(|(_, when)| (when.year(), when.month()) == (at.year(), at.month()));
        if !this_month || self.max_demand.is_some_and(|(kw, _)| quarter > kw) {
            self.max_demand = Some((quarter, at));
        }
        r.max_demand = self.max_demand.map(|(kw, _)| kw);
        r
    }
}

/// Encodes a snapshot as the frames a meter sends: clock, energy block, electrical values,
/// status words. Single-phase meters send phase A only.
pub fn reading_frames(address: Address, at: NaiveDateTime, r: &Readings, three_phase: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(400);
    let mut push = |id: Di, values: Vec<Value>| {
        if let Ok(frame) = dlt645::read_reply(address, id, &values) {
            let _ = frame.write(&mut out);
        }
    };
    let num = |v: Option<Decimal>| v.map(Value::Number).unwrap_or(Value::Missing);
    push(di::DATE, vec![Value::Text(at.format("%Y-%m-%d").to_string())]);
    push(di::TIME, vec![Value::Text(at.format("%H:%M:%S").to_string())]);
    let mut energy = vec![num(r.energy_total)];
    energy.extend(r.energy_tariffs.iter().map(|v| num(*v)));
    push(di::FORWARD_ACTIVE_BLOCK, energy);
    if three_phase {
        push(di::VOLTAGE_BLOCK, r.voltage.iter().map(|v| num(*v)).collect());
        push(di::CURRENT_BLOCK, r.current.iter().map(|v| num(*v)).collect());
    } else {
        push(di::VOLTAGE_A, vec![num(r.voltage[0])]);
        push(di::CURRENT_A, vec![num(r.current[0])]);
    }
    push(di::ACTIVE_POWER_TOTAL, vec![num(r.active_power)]);
    push(di::POWER_FACTOR_TOTAL, vec![num(r.power_factor)]);
    push(di::FREQUENCY, vec![num(r.frequency)]);
    push(di::STATUS_WORD_3, vec![Value::Word(r.status_word_3.unwrap_or_default())]);
    if let Some(w) = r.status_word_7 {
        push(di::STATUS_WORD_7, vec![Value::Word(w)]);
    }
    if r.remaining_amount.is_some() {
        push(di::REMAINING_AMOUNT, vec![num(r.remaining_amount)]);
    }
    if let Some(kw) = r.max_demand {
        // The bridge keeps the value; the stamp says when it was read.
        push(di::MAX_DEMAND_FORWARD, vec![Value::Demand { value: kw, at: at.format("%Y-%m-%d %H:%M").to_string() }]);
    }
    let phases = if three_phase { 3 } else { 1 };
    for (p, id) in [di::STATUS_WORD_PHASE_A, di::STATUS_WORD_PHASE_B, di::STATUS_WORD_PHASE_C].into_iter().take(phases).enumerate() {
        push(id, vec![Value::Word(r.phase_faults.get(p).copied().flatten().unwrap_or_default())]);
    }
    out
}

/// A standard meter's answer to a single-register read (None: it has no such register — a
/// block among them).
fn single_register(address: Address, id: Di, at: NaiveDateTime, r: &Readings, three_phase: bool) -> Option<Frame> {
    let num = |v: Option<Decimal>| v.map(Value::Number).unwrap_or(Value::Missing);
    let [d3, d2, d1, d0] = id.bytes();
    let phases = if three_phase { 3 } else { 1 };
    let values = match (d3, d2, d1, d0) {
        _ if id == di::DATE => vec![Value::Text(at.format("%Y-%m-%d").to_string())],
        _ if id == di::TIME => vec![Value::Text(at.format("%H:%M:%S").to_string())],
        (0x00, 0x01, 0x00, 0x00) => vec![num(r.energy_total)],
        (0x00, 0x01, t @ 1..=4, 0x00) => vec![num(r.energy_tariffs[usize::from(t - 1)])],
        (0x02, 0x01, p @ 1..=3, 0x00) if p <= phases => vec![num(r.voltage[usize::from(p - 1)])],
        (0x02, 0x02, p @ 1..=3, 0x00) if p <= phases => vec![num(r.current[usize::from(p - 1)])],
        (0x02, 0x03, 0x00, 0x00) => vec![num(r.active_power)],
        (0x02, 0x06, 0x00, 0x00) => vec![num(r.power_factor)],
        (0x02, 0x80, 0x00, 0x02) => vec![num(r.frequency)],
        (0x04, 0x00, 0x05, 0x03) => vec![Value::Word(r.status_word_3.unwrap_or_default())],
        (0x04, 0x00, 0x05, p @ 4..=6) if usize::from(p - 3) <= usize::from(phases) => {
            vec![Value::Word(r.phase_faults.get(usize::from(p - 4)).copied().flatten().unwrap_or_default())]
        }
        _ => return None,
    };
    dlt645::read_reply(address, id, &values).ok()
}

/// How the meter answers one downlink frame (None: not for it, or no reply due).
pub fn answer(meter: &mut SimMeter, frame: &Frame, now: NaiveDateTime) -> Option<Frame> {
    if meter.faults.silent || frame.control.direction != dlt645::Direction::Request {
        return None;
    }
    if frame.address.is_broadcast() {
        // Broadcasts (time sync, freeze) get no reply (§1.3); a time sync sets the clock.
        if frame.control.function == function::BROADCAST_TIME
            && let Some(t) = dlt645::broadcast_time_of(frame)
        {
            meter.clock_skew = t - now;
        }
        return None;
    }
    if frame.address != meter.address {
        return None;
    }
    match frame.control.function {
        function::READ => {
            let wire: [u8; 4] = frame.data.get(..4)?.try_into().ok()?;
            let id = Di::from_wire(wire);
            let r = meter.reading_at(now);
            if meter.standard {
                return single_register(meter.address, id, now + meter.clock_skew, &r, meter.three_phase)
                    .or_else(|| Some(dlt645::abnormal_reply(meter.address, function::READ, 0x02)));
            }
            let frames = reading_frames(meter.address, now + meter.clock_skew, &r, meter.three_phase);
            // Answer from the same snapshot the meter would push.
            let scan = dlt645::scan(&frames);
            scan.frames
                .into_iter()
                .find(|f| f.data.get(..4) == Some(&id.to_wire()[..]))
                .or_else(|| Some(dlt645::abnormal_reply(meter.address, function::READ, 0x02)))
        }
        function::REMOTE_CONTROL => {
            let refuse = || Some(dlt645::abnormal_reply(meter.address, function::REMOTE_CONTROL, 0x04));
            let action = if frame.data.first() == Some(&secure::PROTECTED_LEVEL) {
                // Wrong MAC, replayed (stale counter) or expired: refused, nothing changes.
                let Some(key) = &meter.key else { return refuse() };
                let Ok(sealed) = SealedControl::open(meter.address, &frame.data, key) else { return refuse() };
                if sealed.counter <= meter.last_counter || sealed.deadline <= now {
                    return refuse();
                }
                meter.last_counter = sealed.counter;
                sealed.action
            } else {
                // A meter with a key obeys no plain command, whatever the password.
                let Ok(rc) = RemoteControl::from_data(&frame.data) else { return refuse() };
                if meter.key.is_some() || rc.password != SIM_PASSWORD || rc.deadline <= now {
                    return refuse();
                }
                rc.action
            };
            match action {
                RelayAction::Trip if meter.hold_power => return refuse(),
                RelayAction::Trip => meter.relay_open = true,
                RelayAction::AllowClose | RelayAction::DirectClose => meter.relay_open = false,
                RelayAction::HoldOn => {
                    meter.hold_power = true;
                    meter.relay_open = false;
                }
                RelayAction::HoldOff => meter.hold_power = false,
                RelayAction::AlarmOn | RelayAction::AlarmOff => {}
            }
            Some(Frame::new(meter.address, dlt645::Control::reply(function::REMOTE_CONTROL), Vec::new()))
        }
        function::WRITE => {
            // A parameter write: MAC, fresh counter, and an item the meter knows.
            let refuse = |code| Some(dlt645::abnormal_reply(meter.address, function::WRITE, code));
            let Some(key) = &meter.key else { return refuse(0x04) };
            let Ok(w) = SealedWrite::open(meter.address, &frame.data, key) else { return refuse(0x04) };
            if w.counter <= meter.last_counter {
                return refuse(0x04);
            }
            let Ok(items) = dlt645::items::decode_items(&w.item) else { return refuse(0x01) };
            meter.last_counter = w.counter;
            for item in items {
                meter.settings.insert(item.di, item.value);
            }
            Some(Frame::new(meter.address, dlt645::Control::reply(function::WRITE), Vec::new()))
        }
        function::SECURITY => {
            // SERR bit 2: verification (MAC) failed; bit 5: purchase count not last + 1.
            let serr = |code: u16| Some(dlt645::abnormal_reply(meter.address, function::SECURITY, code));
            let Some(key) = &meter.key else { return serr(1 << 2) };
            match WalletRecharge::open(meter.address, &frame.data, key) {
                Err(_) => serr(1 << 2),
                Ok(r) if Some(r.count) != meter.purchase_count.checked_add(1) => serr(1 << 5),
                Ok(r) => {
                    meter.wallet_fen += i64::from(r.amount_fen);
                    meter.purchase_count = r.count;
                    Some(Frame::new(meter.address, dlt645::Control::reply(function::SECURITY), secure::RECHARGE.to_wire().to_vec()))
                }
            }
        }
        f => Some(dlt645::abnormal_reply(meter.address, f, 0x01)),
    }
}

/// A device as the simulator sees it: its MQTT identity and the meters it speaks for.
#[derive(Debug, Clone)]
pub struct SimDevice {
    pub username: String,
    pub password: String,
    pub meters: Vec<SimMeter>,
    /// True for a LoRa gateway (many meters), false for a 4G meter.
    pub gateway: bool,
}

/// What the simulator published, for tests to compare against the store exactly.
#[derive(Debug, Clone)]
pub struct Published {
    pub device: String,
    pub address: Address,
    pub at: NaiveDateTime,
    pub values: Readings,
}

#[derive(Clone, Default)]
pub struct SimHandle {
    pub(crate) meters: Arc<Mutex<HashMap<Address, Faults>>>,
    pub(crate) relays: Arc<Mutex<HashMap<Address, (bool, bool)>>>,
    skews: Arc<Mutex<HashMap<Address, chrono::Duration>>>,
    settings: Arc<Mutex<HashMap<Address, std::collections::BTreeMap<Di, Value>>>>,
    pub log: Arc<Mutex<Vec<Published>>>,
    pub keep_log: bool,
}

impl SimHandle {
    /// A handle that records every published snapshot (tests compare the store against it).
    pub fn recording() -> Self {
        Self { keep_log: true, ..Self::default() }
    }

    pub fn set_faults(&self, address: Address, faults: Faults) {
        if let Ok(mut m) = self.meters.lock() {
            m.insert(address, faults);
        }
    }

    /// Puts a meter's clock off by `skew` (applied at its device's next round).
    pub fn set_clock_skew(&self, address: Address, skew: chrono::Duration) {
        if let Ok(mut s) = self.skews.lock() {
            s.insert(address, skew);
        }
    }

    /// The parameters the platform has written to a meter.
    pub fn settings(&self, address: Address) -> std::collections::BTreeMap<Di, Value> {
        self.settings.lock().ok().and_then(|s| s.get(&address).cloned()).unwrap_or_default()
    }

    /// (relay open, hold power) of a meter as last seen by its device task.
    pub fn relay(&self, address: Address) -> Option<(bool, bool)> {
        self.relays.lock().ok().and_then(|r| r.get(&address).copied())
    }

    pub fn published(&self) -> Vec<Published> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub broker: BrokerAddr,
    pub interval: Duration,
    /// Offset of the meters' clocks (Asia/Shanghai: +08:00).
    pub clock_offset: FixedOffset,
    /// Stop after this many rounds (None: run forever).
    pub rounds: Option<u64>,
}

pub(crate) fn local_now(offset: FixedOffset) -> NaiveDateTime {
    let now: DateTime<Utc> = Utc::now();
    let local = now.with_timezone(&offset).naive_local();
    local.with_nanosecond(0).unwrap_or(local)
}

/// Runs every device as its own MQTT session; returns when all finished their rounds.
/// Dropping (or aborting) the returned future stops every device.
pub async fn run(config: SimConfig, devices: Vec<SimDevice>, handle: SimHandle) {
    let mut tasks = tokio::task::JoinSet::new();
    let count = devices.len().max(1) as u64;
    for (i, device) in devices.into_iter().enumerate() {
        let (cfg, h) = (config.clone(), handle.clone());
        // Spread first publishes over the interval so thousands of meters do not fire at once.
        let stagger = config.interval.mul_f64((i as u64 % count) as f64 / count as f64);
        tasks.spawn(async move { run_device(cfg, device, h, stagger).await });
    }
    while tasks.join_next().await.is_some() {}
}

async fn run_device(config: SimConfig, mut device: SimDevice, handle: SimHandle, stagger: Duration) {
    let mut options = MqttOptions::new(device.username.clone(), config.broker.host.clone(), config.broker.port);
    options.set_credentials(device.username.clone(), device.password.clone());
    options.set_keep_alive(Duration::from_secs(60));
    options.set_clean_session(false);
    let (client, events) = AsyncClient::new(options, 64);
    let up = uplink::up_topic(&device.username);
    let down = uplink::down_topic(&device.username);
    let _ = client.subscribe(down.clone(), QoS::AtLeastOnce).await;
    let finished = Arc::new(AtomicBool::new(false));
    let (commands_tx, mut commands) = mpsc::channel(16);
    let _connection = AbortOnDrop(tokio::spawn(drive_connection(events, down, commands_tx, finished.clone())));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + stagger, config.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut rounds = 0u64;
    let mut last_at: Option<NaiveDateTime> = None;
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if config.rounds.is_some_and(|r| rounds >= r) {
                    // Let queued publishes drain before the session ends.
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    finished.store(true, Ordering::Release);
                    let _ = client.disconnect().await;
                    continue;
                }
                rounds += 1;
                let mut at = local_now(config.clock_offset);
                if last_at.is_some_and(|l| at <= l) {
                    at = last_at.map(|l| l + chrono::Duration::seconds(1)).unwrap_or(at);
                }
                last_at = Some(at);
                let mut payload = Vec::new();
                for meter in &mut device.meters {
                    if let Some(f) = handle.meters.lock().ok().and_then(|m| m.get(&meter.address).copied()) {
                        meter.faults = f;
                    }
                    if meter.faults.silent || meter.faults.push_off {
                        continue;
                    }
                    if let Some(skew) = handle.skews.lock().ok().and_then(|mut s| s.remove(&meter.address)) {
                        meter.clock_skew = skew;
                    }
                    let r = meter.reading_at(at);
                    payload.extend(reading_frames(meter.address, at + meter.clock_skew, &r, meter.three_phase));
                    if handle.keep_log && let Ok(mut log) = handle.log.lock() {
                        log.push(Published { device: device.username.clone(), address: meter.address, at, values: r });
                    }
                }
                if !payload.is_empty() {
                    let _ = client.publish(up.clone(), QoS::AtLeastOnce, false, payload).await;
                }
            }
            received = commands.recv() => {
                // The connection ends only after our disconnect.
                let Some(payload) = received else { return };
                let now = local_now(config.clock_offset);
                let mut replies = Vec::new();
                for frame in dlt645::scan(&payload).frames {
                    for meter in &mut device.meters {
                        if let Some(reply) = answer(meter, &frame, now) {
                            let _ = reply.write(&mut replies);
                        }
                        if let Ok(mut r) = handle.relays.lock() {
                            r.insert(meter.address, (meter.relay_open, meter.hold_power));
                        }
                        if !meter.settings.is_empty()
                            && let Ok(mut s) = handle.settings.lock()
                        {
                            s.insert(meter.address, meter.settings.clone());
                        }
                    }
                }
                if !replies.is_empty() {
                    let _ = client.publish(up.clone(), QoS::AtLeastOnce, false, replies).await;
                }
            }
        }
    }
}

/// The JSON message a vendor 4G meter (Acrel-IoT style, F43) publishes: its local time, energy
/// (`EPI`, kWh), phase A voltage and current, power in whole watts (`P`), power factor and the
/// switch (`1` closed, `0` open).
pub fn vendor_message(r: &Readings, at: NaiveDateTime, relay_open: bool) -> String {
    let n = |v: Option<Decimal>| v.map(|d| d.to_string()).unwrap_or_else(|| "null".into());
    let watts = r.active_power.map(|kw| (kw * Decimal::from(1000)).trunc().to_string()).unwrap_or_else(|| "null".into());
    format!(
        r#"{{"time": "{}", "EPI": {}, "Ua": {}, "Ia": {}, "P": {watts}, "PF": {}, "switch": {}}}"#,
        at.format("%Y-%m-%d %H:%M:%S"),
        n(r.energy_total),
        n(r.voltage[0]),
        n(r.current[0]),
        n(r.power_factor),
        if relay_open { 0 } else { 1 }
    )
}

/// A vendor JSON 4G meter: publishes [`vendor_message`] every interval and on `{"cmd":
/// "report"}`, and obeys `{"cmd": "switch", "value": 0|1}` (0 opens the relay).
pub async fn run_vendor_device(config: SimConfig, username: String, password: String, mut meter: SimMeter, handle: SimHandle) {
    let mut options = MqttOptions::new(username.clone(), config.broker.host.clone(), config.broker.port);
    options.set_credentials(username.clone(), password);
    options.set_keep_alive(Duration::from_secs(60));
    options.set_clean_session(false);
    let (client, events) = AsyncClient::new(options, 64);
    let (up, down) = (uplink::up_topic(&username), uplink::down_topic(&username));
    let _ = client.subscribe(down.clone(), QoS::AtLeastOnce).await;
    let finished = Arc::new(AtomicBool::new(false));
    let (commands_tx, mut commands) = mpsc::channel(16);
    let _connection = AbortOnDrop(tokio::spawn(drive_connection(events, down, commands_tx, finished.clone())));
    let mut ticker = tokio::time::interval(config.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last: Option<NaiveDateTime> = None;
    loop {
        let report = tokio::select! {
            _ = ticker.tick() => true,
            received = commands.recv() => {
                let Some(payload) = received else { return };
                let cmd: serde_json::Value = serde_json::from_slice(&payload).unwrap_or_default();
                match (cmd["cmd"].as_str(), cmd["value"].as_u64()) {
                    (Some("switch"), Some(v)) => {
                        meter.relay_open = v == 0;
                        true
                    }
                    (Some("report"), _) => true,
                    _ => false,
                }
            }
        };
        if !report {
            continue;
        }
        if let Some(f) = handle.meters.lock().ok().and_then(|m| m.get(&meter.address).copied()) {
            meter.faults = f;
        }
        if let Ok(mut r) = handle.relays.lock() {
            r.insert(meter.address, (meter.relay_open, meter.hold_power));
        }
        if meter.faults.silent {
            continue;
        }
        // One message per second of its clock at most (a reading is kept once per read time).
        let mut at = local_now(config.clock_offset);
        if let Some(l) = last.filter(|l| at <= *l) {
            at = l + chrono::Duration::seconds(1);
        }
        last = Some(at);
        let r = meter.reading_at(at);
        let _ = client.publish(up.clone(), QoS::AtLeastOnce, false, vendor_message(&r, at, meter.relay_open)).await;
    }
}

/// Polls the device's MQTT connection in its own task: `EventLoop::poll` must not be
/// cancelled (a poll dropped mid-connect drops the half-open connection), so it cannot sit in
/// the device loop's `select!` beside the ticker. Forwards what arrives on the down topic.
async fn drive_connection(mut events: EventLoop, down: String, commands: mpsc::Sender<Vec<u8>>, finished: Arc<AtomicBool>) {
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::Publish(p))) if p.topic == down => {
                if commands.send(p.payload.to_vec()).await.is_err() {
                    return;
                }
            }
            Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => return,
            Ok(_) => {}
            Err(_) if finished.load(Ordering::Acquire) => return,
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Deterministic addresses for a simulated fleet: `prefix` followed by a running number.
pub fn fleet_address(prefix: u64, n: u64) -> Option<Address> {
    Address::from_u64(prefix * 1_000_000 + n)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn now() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap().and_hms_opt(12, 0, 0).unwrap()
    }

    /// Sends a remote-control command (deadline five minutes after `now()`) at `at`.
    fn command(meter: &mut SimMeter, action: RelayAction, password: u32, at: NaiveDateTime) -> Frame {
        let frame = RemoteControl { level: 2, password, operator: 1, action, deadline: now() + chrono::Duration::minutes(5) }
            .frame(meter.address)
            .unwrap();
        answer(meter, &frame, at).unwrap()
    }

    #[test]
    fn relay_follows_commands_and_hold_power_refuses_a_trip() {
        let mut m = SimMeter::new(Address::from_u64(42).unwrap(), false);
        let ok = command(&mut m, RelayAction::Trip, SIM_PASSWORD, now());
        assert_eq!(ok.control.to_byte(), 0x9C);
        assert!(m.relay_open);
        assert_eq!(m.reading_at(now()).active_power, Some(Decimal::new(0, 4)));
        command(&mut m, RelayAction::DirectClose, SIM_PASSWORD, now());
        assert!(!m.relay_open);
        command(&mut m, RelayAction::HoldOn, SIM_PASSWORD, now());
        let refused = command(&mut m, RelayAction::Trip, SIM_PASSWORD, now());
        assert_eq!((refused.control.to_byte(), refused.data.clone()), (0xDC, vec![0x04]));
        assert!(!m.relay_open);
        assert_eq!(m.reading_at(now()).status_word_3.map(|w| w & (1 << 12) != 0), Some(true));
    }

    #[test]
    fn wrong_password_or_expired_deadline_is_refused() {
        let mut m = SimMeter::new(Address::from_u64(42).unwrap(), false);
        let r = command(&mut m, RelayAction::Trip, 111_111, now());
        assert_eq!(r.control.to_byte(), 0xDC);
        let late = command(&mut m, RelayAction::Trip, SIM_PASSWORD, now() + chrono::Duration::hours(1));
        assert_eq!(late.control.to_byte(), 0xDC);
        assert!(!m.relay_open);
    }

    fn sealed(m: &SimMeter, key: &Key, action: RelayAction, counter: u32) -> Frame {
        SealedControl { operator: 1, action, deadline: now() + chrono::Duration::minutes(5), counter }.frame(m.address, key).unwrap()
    }

    #[test]
    fn a_keyed_meter_obeys_sealed_commands_once_and_refuses_plain_replayed_or_tampered_ones() {
        let master = Key::from_bytes([7; 16]);
        let mut m = SimMeter::new(Address::from_u64(42).unwrap(), false);
        let key = master.for_meter(m.address);
        m = m.with_key(key.clone());
        // Plain with the right password: refused.
        assert_eq!(command(&mut m, RelayAction::Trip, SIM_PASSWORD, now()).control.to_byte(), 0xDC);
        let trip = sealed(&m, &key, RelayAction::Trip, 5);
        assert_eq!(answer(&mut m, &trip, now()).unwrap().control.to_byte(), 0x9C);
        assert!(m.relay_open);
        m.relay_open = false;
        // The same frame again (replay): refused, relay untouched.
        assert_eq!(answer(&mut m, &trip, now()).unwrap().data, vec![0x04]);
        assert!(!m.relay_open);
        // A tampered frame, and one sealed under another meter's key: refused.
        let mut bad = sealed(&m, &key, RelayAction::Trip, 6);
        bad.data[10] ^= 0x40;
        assert_eq!(answer(&mut m, &bad, now()).unwrap().control.to_byte(), 0xDC);
        let foreign = sealed(&m, &master.for_meter(Address::from_u64(43).unwrap()), RelayAction::Trip, 7);
        assert_eq!(answer(&mut m, &foreign, now()).unwrap().control.to_byte(), 0xDC);
        assert!(!m.relay_open);
        // Expired deadline: refused.
        let late = sealed(&m, &key, RelayAction::Trip, 8);
        assert_eq!(answer(&mut m, &late, now() + chrono::Duration::hours(1)).unwrap().control.to_byte(), 0xDC);
        let fresh = sealed(&m, &key, RelayAction::Trip, 9);
        assert_eq!(answer(&mut m, &fresh, now()).unwrap().control.to_byte(), 0x9C);
        assert!(m.relay_open);
    }

    #[test]
    fn wallet_recharges_need_the_mac_and_the_next_count() {
        let mut m = SimMeter::new(Address::from_u64(44).unwrap(), false);
        let key = Key::from_bytes([9; 16]).for_meter(m.address);
        m = m.with_key(key.clone());
        let buy = |count, fen| WalletRecharge { operator: 1, amount_fen: fen, count }.frame(Address::from_u64(44).unwrap(), &key).unwrap();
        assert_eq!(answer(&mut m, &buy(1, 5_000), now()).unwrap().control.to_byte(), 0x83);
        let replay = answer(&mut m, &buy(1, 5_000), now()).unwrap();
        assert_eq!((replay.control.to_byte(), replay.data), (0xC3, vec![0x20, 0x00]));
        let skipped = answer(&mut m, &buy(3, 100), now()).unwrap();
        assert_eq!(skipped.data, vec![0x20, 0x00]);
        assert_eq!(answer(&mut m, &buy(2, 250), now()).unwrap().control.to_byte(), 0x83);
        assert_eq!((m.wallet_fen, m.purchase_count), (5_250, 2));
        assert_eq!(m.reading_at(now()).remaining_amount, Some(Decimal::new(5_250, 2)));
    }

    #[test]
    fn read_requests_are_answered_from_the_current_snapshot() {
        let mut m = SimMeter::new(Address::from_u64(42).unwrap(), true);
        let address = m.address;
        let reply = answer(&mut m, &dlt645::read_request(address, di::VOLTAGE_BLOCK), now()).unwrap();
        assert_eq!(reply.control.to_byte(), 0x91);
        assert_eq!(dlt645::items::decode_items(&reply.data).unwrap().len(), 3);
        let unknown = answer(&mut m, &dlt645::read_request(address, Di(0x1D00_0101)), now()).unwrap();
        assert_eq!((unknown.control.to_byte(), unknown.data), (0xD1, vec![0x02]));
        // Another meter's frame and broadcasts get no answer.
        assert!(answer(&mut m, &dlt645::read_request(Address::from_u64(43).unwrap(), di::VOLTAGE_BLOCK), now()).is_none());
        assert!(answer(&mut m, &dlt645::broadcast_time(now()), now()).is_none());
    }

    #[test]
    fn energy_only_grows_and_tariff_registers_sum_to_the_total() {
        let mut m = SimMeter::new(Address::from_u64(7).unwrap(), false);
        let mut last = Decimal::ZERO;
        for minutes in (0..48 * 60).step_by(15) {
            let r = m.reading_at(now() + chrono::Duration::minutes(minutes));
            let total = r.energy_total.unwrap();
            assert!(total >= last);
            let sum: Decimal = r.energy_tariffs.iter().map(|t| t.unwrap()).sum();
            // Each register is truncated to 0.01 kWh, so the parts may lag the total by < 0.04.
            assert!(total - sum < Decimal::new(4, 2) && total >= sum, "{total} vs {sum}");
            last = total;
        }
    }
}
