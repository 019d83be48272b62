//! Ingestion benchmarks across processes: the server side runs here, the devices in a child
//! process (so RSS figures are the server's own), talking through a real broker.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::NaiveDateTime;
use mqtt_bridge::dlt645::Address;
use mqtt_bridge::simulator::{SimMeter, reading_frames};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

use super::Target;
use crate::app::{Application, RunningApp, Settings};
use crate::fleet::{FleetPlan, provision, sim_devices};

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

pub(super) struct Bench {
    pub app: RunningApp,
    pub tenant: crate::store::TenantStore,
    pub file: std::path::PathBuf,
    pub devices: usize,
    pub dir: std::path::PathBuf,
    /// The fleet as simulator devices (meters holding their keys).
    pub sims: Vec<mqtt_bridge::simulator::SimDevice>,
    pub backend: &'static str,
}

/// A fresh PostgreSQL database beside the one named (dropped by hand: `vl_bench_*`).
pub(super) async fn fresh_database(url: &Option<String>) -> anyhow::Result<Option<String>> {
    let Some(url) = url.as_ref().filter(|u| u.starts_with("postgres")) else { return Ok(url.clone()) };
    let name = format!("vl_bench_{}", uuid::Uuid::new_v4().simple());
    crate::store::create_database(url, &name).await?;
    let (head, _) = url.rsplit_once('/').context("database URL ends with /dbname")?;
    Ok(Some(format!("{head}/{name}")))
}

pub(super) async fn setup(target: &Target, devices: usize) -> anyhow::Result<Bench> {
    setup_fleet(target, devices, false).await
}

/// The benchmarks' application: everything in one process, listeners on free loopback
/// ports, secrets generated in `dir`, no demo, no request limit.
pub(super) fn settings(target: &Target, dir: &std::path::Path, database_url: Option<String>) -> anyhow::Result<Settings> {
    Ok(Settings {
        role: crate::app::Role::All,
        grace: Duration::from_secs(5),
        metrics_listen: None,
        data_dir: dir.to_path_buf(),
        database_url,
        broker: target.broker.clone(),
        mqtt_listen: SocketAddr::from(([127, 0, 0, 1], free_port()?)),
        mqtt_tls: None,
        http_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        jwt_secret: None,
        key_encryption_key: None,
        bridge_password: None,
        bridge_sessions: target.bridge_sessions,
        batch_time: (target.batch_time_ms > 0).then(|| Duration::from_millis(target.batch_time_ms)),
        bridge_client_id: format!("voltledger-bridge-bench-{}", uuid::Uuid::new_v4().simple()),
        // The figures in docs/PERFORMANCE.md §3–4 are of `bridge_sessions` sessions sharing
        // the uplink; the exclusive mode is one session.
        uplink: Some(if target.broker.is_some() && target.bridge_sessions == 1 {
            crate::app::Uplink::Exclusive
        } else {
            crate::app::Uplink::Shared
        }),
        uplink_client_id: format!("voltledger-bridge-uplink-bench-{}", uuid::Uuid::new_v4().simple()),
        demo: false,
        demo_meters: 0,
        demo_interval: Duration::from_secs(30),
        redis_url: None,
        redis_namespace: "voltledger-bench".into(),
        public_url: None,
        device_broker_url: None,
        // The API benchmark signs in once and calls far faster than a person: the per-client
        // limit (1,200 a minute by default) would answer RATE_LIMITED after 1,200 requests.
        security: crate::app::SecuritySettings { allow_local_outbound: true, requests_per_minute: 100_000_000, ..Default::default() },
        web_dir: None,
        mail: None,
        serial_listen: None,
    })
}

/// A running application with a fresh database and a provisioned fleet of 4G meters (with a
/// tariff and funded prepaid accounts when `accounts`).
pub(super) async fn setup_fleet(target: &Target, devices: usize, accounts: bool) -> anyhow::Result<Bench> {
    let dir = std::env::temp_dir().join(format!("voltledger-bench-{}", uuid::Uuid::new_v4().simple()));
    let settings = settings(target, &dir, fresh_database(&target.database_url).await?)?;
    let app = Application::build(&settings).await?.spawn();
    let backend = if settings.database_url().starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    let fleet = add_fleet(&app, &dir, devices, accounts).await?;
    Ok(Bench { app, tenant: fleet.tenant, file: fleet.file, devices: fleet.devices, dir, sims: fleet.sims, backend })
}

/// One tenant's fleet in a running application: its tenant, its devices file for the
/// publishers, and its devices as simulator devices.
pub(super) struct Fleet {
    pub tenant: crate::store::TenantStore,
    pub file: std::path::PathBuf,
    pub devices: usize,
    pub sims: Vec<mqtt_bridge::simulator::SimDevice>,
}

/// A new tenant with a provisioned fleet of 4G meters (with a tariff and funded prepaid
/// accounts when `accounts`), its devices file written under `dir`.
pub(super) async fn add_fleet(app: &RunningApp, dir: &std::path::Path, devices: usize, accounts: bool) -> anyhow::Result<Fleet> {
    let slug = format!("bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let id = app.store.platform().create_tenant("Bench", &slug, "Asia/Shanghai").await?;
    let tenant = app.store.tenant(id);
    let started = Instant::now();
    // A distinct address prefix per fleet keeps several fleets and runs apart on a shared broker.
    static FLEETS: AtomicUsize = AtomicUsize::new(0);
    let prefix = 200 + ((uuid::Uuid::new_v4().as_u128() % 700) as u64 + FLEETS.fetch_add(1, Ordering::Relaxed) as u64 * 7) % 700;
    provision(&tenant, FleetPlan { meters: devices, gateways: 0, per_gateway: 1, address_prefix: prefix, accounts, at_once: 4 }).await?;
    // Fresh statistics on PostgreSQL, as autovacuum would have them on a running system:
    // plans cached while the tables were empty would otherwise scan 10,000 × 10,000 rows.
    // Not on SQLite, which keeps no statistics unless told to and `serve` never tells it: a
    // benchmark with them would measure plans no installation runs.
    if app.store.is_postgres() {
        app.store.platform().analyze().await?;
    }
    let sims = sim_devices(&tenant, "bench", &[]).await?;
    eprintln!("provisioned {} devices in {:.1} s", sims.len(), started.elapsed().as_secs_f64());
    let file = dir.join(format!("devices-{slug}.tsv"));
    let mut out = String::new();
    for d in &sims {
        for m in &d.meters {
            out += &format!("{}\t{}\t{}\t{}\n", d.username, d.password, m.address, if m.three_phase { 3 } else { 1 });
        }
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(&file, out)?;
    Ok(Fleet { tenant, file, devices: sims.len(), sims })
}

pub(super) fn child(bench: &Bench, readings: usize, storm: bool) -> anyhow::Result<std::process::Child> {
    publishers_child(&bench.app, &bench.file, readings, storm, None)
}

/// The publishers of the devices in `file`; with `rate`, all devices together publish
/// about that many readings a second, each device at an even pace.
pub(super) fn publishers_child(
    app: &RunningApp,
    file: &std::path::Path,
    readings: usize,
    storm: bool,
    rate: Option<f64>,
) -> anyhow::Result<std::process::Child> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.args(["bench", "publishers", "--broker"])
        .arg(app.broker.to_string())
        .arg("--file")
        .arg(file)
        .args(["--readings", &readings.to_string()]);
    if storm {
        cmd.arg("--storm");
    }
    if let Some(rate) = rate {
        cmd.args(["--rate", &format!("{rate:.0}")]);
    }
    Ok(cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?)
}

pub(super) fn wait_line(lines: &mut impl Iterator<Item = std::io::Result<String>>, want: &str) -> anyhow::Result<String> {
    for line in lines {
        let line = line?;
        if line.starts_with(want) {
            return Ok(line);
        }
        eprintln!("publishers: {line}");
    }
    bail!("publishers exited before {want}")
}

/// Waits until the bridge has committed `expected` readings. It watches the bridge's own
/// counter (a `COUNT(*)` every 20 ms took a good part of a core from the database under
/// test); the callers count the rows in the database after.
async fn wait_stored(bench: &Bench, expected: u64, since: Instant) -> anyhow::Result<Duration> {
    wait_committed(&bench.app, expected, since).await
}

/// Waits until the bridge's counters (stored + duplicates, all tenants) reach `expected`.
pub(super) async fn wait_committed(app: &RunningApp, expected: u64, since: Instant) -> anyhow::Result<Duration> {
    loop {
        let n = app.stats.stored.load(Ordering::Relaxed) + app.stats.duplicates.load(Ordering::Relaxed);
        if n >= expected {
            return Ok(since.elapsed());
        }
        if since.elapsed() > Duration::from_secs(600) {
            bail!("only {n} of {expected} readings stored after 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(super) fn describe(target: &Target) -> String {
    let db = match &target.database_url {
        Some(u) if u.starts_with("postgres") => "PostgreSQL",
        _ => "SQLite",
    };
    let broker = if target.broker.is_some() { "external broker" } else { "embedded rumqttd" };
    format!("{db}, {broker}, {} bridge session(s)", target.bridge_sessions)
}

pub async fn ingest(target: Target, devices: usize, readings: usize, accounts: bool) -> anyhow::Result<()> {
    let bench = setup_fleet(&target, devices, accounts).await?;
    let mut child = child(&bench, readings, false)?;
    let stdout = child.stdout.take().context("child stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    wait_line(&mut lines, "CONNECTED")?;
    let started = Instant::now();
    if let Some(mut stdin) = child.stdin.take() {
        writeln!(stdin, "GO")?;
    }
    let expected = (bench.devices * readings) as u64;
    let took = wait_stored(&bench, expected, started).await?;
    let _ = child.wait();
    // The output checked before a figure is printed: every reading once, none refused, and
    // with settlement on every interval charged once and every balance its entries' sum.
    let (duplicates, rejected) = (bench.app.stats.duplicates.load(Ordering::Relaxed), bench.app.stats.rejected.load(Ordering::Relaxed));
    let stored = bench.tenant.reading_count().await?;
    anyhow::ensure!(stored == expected, "{stored} readings stored, {expected} published");
    anyhow::ensure!(duplicates == 0 && rejected == 0, "{duplicates} duplicates and {rejected} rejected");
    let settlement = if accounts {
        let charges = bench.tenant.entry_count(crate::domain::ledger::EntryKind::EnergyCharge).await?;
        // The first reading of each meter opens its cursor; a later one is charged once, or
        // not at all when it arrives after a newer one (late: the newer one charged it).
        let intervals = (bench.devices * readings.saturating_sub(1)) as i64;
        anyhow::ensure!(charges > 0 && charges <= intervals, "{charges} energy charges for {intervals} intervals");
        let off = bench.tenant.accounts_off_ledger().await?;
        anyhow::ensure!(off == 0, "{off} accounts whose balance is not the sum of their entries");
        format!(", settlement on: {charges} energy charges for {intervals} intervals, every balance its entries' sum")
    } else {
        ", settlement off (meters without accounts)".to_string()
    };
    let rate = expected as f64 / took.as_secs_f64();
    println!(
        "ingest ({}): {expected} readings from {} devices stored in {:.2} s = {rate:.0} readings/s (duplicates 0, rejected 0{settlement})",
        describe(&target),
        bench.devices,
        took.as_secs_f64(),
    );
    let _ = std::fs::remove_dir_all(&bench.dir);
    if let Some(url) = target.database_url.as_deref().filter(|u| u.starts_with("postgres")) {
        let ceiling = copy_rate(url, expected as usize)?;
        println!(
            "ceiling: COPY of {expected} rows of the same shape into a table with the same key: {ceiling:.0} rows/s; ingest = {:.1} % of it",
            rate * 100.0 / ceiling
        );
    }
    Ok(())
}

pub async fn storm(target: Target, devices: usize, backlog: usize) -> anyhow::Result<()> {
    let bench = setup(&target, devices).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = rss_kib();
    let mut child = child(&bench, backlog, true)?;
    let stdout = child.stdout.take().context("child stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    wait_line(&mut lines, "CONNECTED")?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle = rss_kib();
    let started = Instant::now();
    if let Some(mut stdin) = child.stdin.take() {
        writeln!(stdin, "GO")?;
    }
    let back = wait_line(&mut lines, "ALLBACK")?;
    let expected = (bench.devices * backlog) as u64;
    let took = wait_stored(&bench, expected, started).await?;
    let _ = child.wait();
    let stored = bench.tenant.reading_count().await?;
    anyhow::ensure!(stored == expected, "{stored} readings stored, {expected} published");
    let per_session = (rss_idle.saturating_sub(rss_before)) as f64 * 1024.0 / bench.devices as f64;
    println!(
        "storm ({}): {} sessions dropped and reconnected with {backlog} backlog readings each; {back}; all {expected} stored {:.2} s after the drop",
        describe(&target),
        bench.devices,
        took.as_secs_f64()
    );
    if target.broker.is_none() {
        println!(
            "idle sessions: server RSS {} KiB before, {} KiB with {} idle device sessions = {:.0} bytes per session",
            rss_before, rss_idle, bench.devices, per_session
        );
    }
    let _ = std::fs::remove_dir_all(&bench.dir);
    Ok(())
}

/// Child process: connects every device, waits for GO, then publishes (ingest) or drops all
/// sessions and reconnects them at once with a backlog (storm).
pub async fn publishers(file: &std::path::Path, broker: &str, readings: usize, storm: bool, rate: Option<f64>) -> anyhow::Result<()> {
    let broker = mqtt_bridge::session::BrokerAddr::parse(broker).map_err(anyhow::Error::msg)?;
    let text = std::fs::read_to_string(file)?;
    let mut devices = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split('\t').collect();
        if let [user, pass, addr, phases] = parts[..] {
            devices.push((user.to_string(), pass.to_string(), Address::parse(addr)?, phases == "3"));
        }
    }
    let connected = Arc::new(AtomicUsize::new(0));
    let (go_tx, go_rx) = tokio::sync::watch::channel(false);
    let reconnected = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    let t0 = NaiveDateTime::parse_from_str("2026-11-01 00:00:00", "%Y-%m-%d %H:%M:%S")?;
    // Paced: each device publishes once a period, the devices' starts spread over it.
    let period = rate.filter(|r| *r > 0.0).map(|r| Duration::from_secs_f64(devices.len() as f64 / r));
    let count = devices.len();
    for (n, (user, pass, address, three)) in devices.clone().into_iter().enumerate() {
        let (connected, reconnected, mut go) = (connected.clone(), reconnected.clone(), go_rx.clone());
        let broker = broker.clone();
        tasks.push(tokio::spawn(async move {
            let session = |clean: bool| {
                let mut o = MqttOptions::new(user.clone(), broker.host.clone(), broker.port);
                o.set_credentials(user.clone(), pass.clone());
                o.set_keep_alive(Duration::from_secs(120));
                o.set_clean_session(clean);
                AsyncClient::new(o, readings + 8)
            };
            let (client, mut events) = session(false);
            // As a field device does: connect, then subscribe to its downlink topic (the
            // session keeps the subscription across the storm's reconnect).
            let mut subscribed = false;
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) if !subscribed => {
                        subscribed = true;
                        let _ = client.subscribe(mqtt_bridge::uplink::down_topic(&user), QoS::AtLeastOnce).await;
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => break,
                    Ok(_) => {}
                    Err(_) => {
                        subscribed = false;
                        tokio::time::sleep(Duration::from_millis(200)).await
                    }
                }
            }
            connected.fetch_add(1, Ordering::Relaxed);
            // Idle until GO, keeping the session alive.
            loop {
                tokio::select! {
                    _ = async { go.wait_for(|g| *g).await.is_ok() } => break,
                    r = events.poll() => if r.is_err() { tokio::time::sleep(Duration::from_millis(200)).await },
                }
            }
            let (client, mut events) = if storm {
                // The network drops: no DISCONNECT, the socket just goes away.
                drop(events);
                drop(client);
                session(false)
            } else {
                reconnected.fetch_add(1, Ordering::Relaxed);
                (client, events)
            };
            let mut back = !storm;
            let mut meter = SimMeter::new(address, three);
            let payloads: Vec<_> = (0..readings)
                .map(|i| {
                    let at = t0 + chrono::Duration::minutes(i as i64 * 15);
                    reading_frames(address, at, &meter.reading_at(at), three)
                })
                .collect();
            let topic = mqtt_bridge::uplink::up_topic(&user);
            let pacer = match period {
                None => {
                    for payload in payloads {
                        let _ = client.publish(topic.clone(), QoS::AtLeastOnce, false, payload).await;
                    }
                    None
                }
                Some(period) => {
                    // The event loop below must run while the pacer waits between publishes.
                    let client = client.clone();
                    let start = tokio::time::Instant::now() + period.mul_f64(n as f64 / count as f64);
                    Some(tokio::spawn(async move {
                        for (i, payload) in payloads.into_iter().enumerate() {
                            tokio::time::sleep_until(start + period * i as u32).await;
                            let _ = client.publish(topic.clone(), QoS::AtLeastOnce, false, payload).await;
                        }
                    }))
                }
            };
            let mut acked = 0;
            while acked < readings {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) if !back => {
                        back = true;
                        reconnected.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Event::Incoming(Packet::PubAck(_))) => acked += 1,
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
            if let Some(pacer) = pacer {
                let _ = pacer.await;
            }
            let _ = client.disconnect().await;
            let _ = tokio::time::timeout(Duration::from_secs(2), async { while events.poll().await.is_ok() {} }).await;
        }));
    }
    while connected.load(Ordering::Relaxed) < devices.len() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("CONNECTED {}", devices.len());
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let started = Instant::now();
    let _ = go_tx.send(true);
    if storm {
        while reconnected.load(Ordering::Relaxed) < devices.len() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        println!("ALLBACK all {} sessions back after {:.2} s", devices.len(), started.elapsed().as_secs_f64());
    }
    for t in tasks {
        let _ = t.await;
    }
    println!("DONE");
    Ok(())
}

/// The ingestion sink alone: decoded readings in batches, as the bridge hands them over.
pub async fn store(database_url: Option<String>, devices: usize, readings: usize, batch: usize) -> anyhow::Result<()> {
    let target = Target { database_url, broker: None, bridge_sessions: 1, batch_time_ms: 0 };
    let bench = setup(&target, devices).await?;
    let text = std::fs::read_to_string(&bench.file)?;
    let t0 = NaiveDateTime::parse_from_str("2026-11-01 00:00:00", "%Y-%m-%d %H:%M:%S")?;
    let mut all = Vec::with_capacity(devices * readings);
    let now = chrono::Utc::now();
    for i in 0..readings {
        for line in text.lines() {
            let parts: Vec<&str> = line.split('\t').collect();
            if let [user, _, addr, phases] = parts[..] {
                let address = Address::parse(addr)?;
                let at = t0 + chrono::Duration::minutes(i as i64 * 15);
                let mut meter = SimMeter::new(address, phases == "3");
                all.push(mqtt_bridge::port::MeterReading {
                    device: user.to_string(),
                    address,
                    read_at: mqtt_bridge::port::ReadTime::MeterClock(at),
                    received_at: now,
                    values: meter.reading_at(at),
                });
            }
        }
    }
    let total = all.len();
    let started = Instant::now();
    let mut worst = Duration::ZERO;
    for chunk in all.chunks(batch.max(1)) {
        let t = Instant::now();
        bench.app.store.store_readings(chunk.to_vec()).await?;
        worst = worst.max(t.elapsed());
    }
    let took = started.elapsed();
    let stored = bench.tenant.reading_count().await?;
    println!(
        "store ({}): {total} readings in batches of {batch}: {:.2} s = {:.0} readings/s, slowest batch {} ms, {stored} rows present",
        if target.database_url.as_deref().is_some_and(|u| u.starts_with("postgres")) { "PostgreSQL" } else { "SQLite" },
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64(),
        worst.as_millis()
    );
    let _ = std::fs::remove_dir_all(&bench.dir);
    Ok(())
}

/// Raw PostgreSQL COPY of the same row shape, through psql (the database's own ceiling).
pub fn copy(database_url: &str, rows: usize) -> anyhow::Result<()> {
    let rate = copy_rate(database_url, rows)?;
    println!("raw COPY (PostgreSQL, same columns and key): {rows} rows in {:.2} s = {rate:.0} rows/s", rows as f64 / rate);
    Ok(())
}

/// Rows per second of a raw COPY of `rows` reading-shaped rows into a fresh table with the
/// readings' key (dropped after).
pub(super) fn copy_rate(database_url: &str, rows: usize) -> anyhow::Result<f64> {
    let table = format!("bench_copy_{}", uuid::Uuid::new_v4().simple());
    // The value columns as the readings table has them now: the rows below follow their count.
    let value_columns = crate::store::reading_value_columns();
    let cols = value_columns.join(" BIGINT, ");
    let ddl = format!(
        "CREATE TABLE {table} (tenant_id TEXT NOT NULL, meter_id TEXT NOT NULL, read_at TIMESTAMPTZ NOT NULL, received_at TIMESTAMPTZ NOT NULL, {cols} BIGINT, PRIMARY KEY (tenant_id, meter_id, read_at))"
    );
    psql(database_url, &ddl, None)?;
    let tenant = uuid::Uuid::new_v4().to_string();
    let meters: Vec<String> = (0..1_000).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let mut data = String::with_capacity(rows * 200);
    let t0 = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).context("date")?;
    for i in 0..rows {
        let meter = &meters[i % meters.len()];
        let at = t0 + chrono::Duration::minutes((i / meters.len()) as i64);
        let stamp = at.format("%Y-%m-%d %H:%M:%S+00");
        data += &format!("{tenant}\t{meter}\t{stamp}\t{stamp}");
        for v in 0..value_columns.len() {
            data += &format!("\t{}", 100_000 + i * 7 + v);
        }
        data.push('\n');
    }
    let started = Instant::now();
    psql(database_url, &format!("COPY {table} FROM STDIN"), Some(data.as_bytes()))?;
    let took = started.elapsed();
    psql(database_url, &format!("DROP TABLE {table}"), None)?;
    Ok(rows as f64 / took.as_secs_f64().max(1e-9))
}

pub(super) fn psql(url: &str, sql: &str, stdin: Option<&[u8]>) -> anyhow::Result<()> {
    let mut child =
        Command::new("psql").arg(url).args(["-v", "ON_ERROR_STOP=1", "-qc", sql]).stdin(Stdio::piped()).spawn().context("running psql")?;
    if let (Some(data), Some(mut input)) = (stdin, child.stdin.take()) {
        input.write_all(data)?;
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("psql failed: {sql}");
    }
    Ok(())
}
