//! Control benchmarks with a simulated fleet connected: a batch "read now" to every meter, the
//! command round trip, and the time from a reading that crosses the credit limit to the trip
//! frame on the wire. Timestamps come from the store (written by the bridge and the
//! dispatcher), so the figures are the platform's own latency, not the benchmark's polling.

use std::time::{Duration, Instant};

use mqtt_bridge::simulator::{SimConfig, SimHandle};

use super::Target;
use super::pipeline::setup_fleet;
use crate::store::{MeterFilter, MeterSelection};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

fn summary(what: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{what}: n={} p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.9),
        percentile(&ms, 0.99),
        ms.last().copied().unwrap_or(f64::NAN)
    );
}

pub async fn control(target: Target, meters: usize, samples: usize) -> anyhow::Result<()> {
    let bench = setup_fleet(&target, meters, true).await?;
    let tenant = bench.tenant.clone();
    let handle = SimHandle::default();
    let config = SimConfig {
        broker: bench.app.broker.clone(),
        // Background pushes spread over an hour; the measured traffic is the commands'.
        interval: Duration::from_secs(3600),
        clock_offset: chrono::FixedOffset::east_opt(8 * 3600).ok_or_else(|| anyhow::anyhow!("clock offset"))?,
        rounds: None,
    };
    let sim = tokio::spawn(mqtt_bridge::simulator::run(config, bench.sims.clone(), handle.clone()));
    tokio::time::sleep(Duration::from_secs(5 + (meters / 1000) as u64)).await;
    println!("control: {meters} simulated meters connected ({})", bench.backend);

    // 1. Read now for every meter, as one batch.
    let started = Instant::now();
    let batch = tenant.create_batch("READ", "bench", &MeterSelection::default()).await?;
    let (mut half, mut most) = (None, None);
    let total = batch.total;
    loop {
        let b = tenant.batch(&batch.id).await?;
        let confirmed = b.by_status.get("CONFIRMED").copied().unwrap_or(0);
        if half.is_none() && confirmed * 2 >= total {
            half = Some(started.elapsed());
        }
        if most.is_none() && confirmed * 100 >= total * 99 {
            most = Some(started.elapsed());
        }
        if b.finished() >= total || started.elapsed() > Duration::from_secs(600) {
            println!(
                "control: batch READ of {total} meters: 50% confirmed in {:.1} s, 99% in {:.1} s, all finished in {:.1} s ({} confirmed, {:?})",
                half.unwrap_or_default().as_secs_f64(),
                most.unwrap_or_default().as_secs_f64(),
                started.elapsed().as_secs_f64(),
                confirmed,
                b.by_status
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // 2. Command round trip: an operator trip, then a close, for a sample of meters, a few
    //    dozen in flight at once; created -> the meter's reply received by the platform.
    let (rows, _) = tenant.meters(&MeterFilter::default(), 1, samples.min(500) as u64).await?;
    for (in_flight, meters_used) in [(1, 100), (50, rows.len())] {
        let mut round_trips = Vec::new();
        for kind in ["TRIP", "CLOSE"] {
            for chunk in rows.iter().take(meters_used).collect::<Vec<_>>().chunks(in_flight) {
                let mut ids = Vec::new();
                for m in chunk {
                    ids.push(tenant.operator_command(&m.id, kind, "bench").await?.id);
                }
                let deadline = Instant::now() + Duration::from_secs(30);
                for id in ids {
                    loop {
                        let c = tenant.command(id.as_str()).await?;
                        if let Some(c) = c.filter(|c| c.replied_at.is_some()) {
                            if let Some(r) = c.replied_at {
                                round_trips.push((r - c.created_at).num_microseconds().unwrap_or(0) as f64 / 1000.0);
                            }
                            break;
                        }
                        if Instant::now() > deadline {
                            eprintln!("command {id} not answered in 30 s");
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        }
        summary(
            &format!(
                "control: relay command round trip (created -> meter's reply received), {in_flight} in flight, {meters} meters connected"
            ),
            round_trips,
        );
    }

    // 3. A reading that crosses the credit limit -> the sealed trip frame published. Leave one
    //    fen on the sample's accounts; then, like meters pushing on their own, one reading
    //    every 20 ms reaches the ingestion sink (the bridge's own entry point), each 1 kWh on.
    let mut sample = Vec::new();
    for m in rows.iter().take(samples.min(300)) {
        let Some(a) = m.account_id.as_ref() else { continue };
        let Some(acc) = tenant.account(a).await? else { continue };
        if acc.balance_x100 > 1 {
            tenant.refund(a, acc.balance_x100 - 1, "bench: leave one fen").await?;
        }
        let Some(device) = bench.sims.iter().find(|d| d.meters.iter().any(|s| s.address.to_string() == m.address)) else { continue };
        let total = m.live.latest.values.first().copied().flatten().unwrap_or(0);
        sample.push((device.username.clone(), m.address.clone(), total));
    }
    let trips_since = chrono::Utc::now();
    for (device, address, total_x100) in &sample {
        let Ok(address) = mqtt_bridge::dlt645::Address::parse(address) else { continue };
        let reading = mqtt_bridge::port::MeterReading {
            device: device.clone(),
            address,
            read_at: mqtt_bridge::port::ReadTime::Instant(chrono::Utc::now()),
            received_at: chrono::Utc::now(),
            values: mqtt_bridge::port::Readings {
                energy_total: Some(rust_decimal::Decimal::new(total_x100 + 100, 2)),
                ..Default::default()
            },
        };
        bench.app.store.store_readings(vec![reading]).await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let latencies = tenant.trip_latencies(trips_since).await?;
    summary(
        &format!(
            "control: reading crossing the limit (received) -> sealed trip frame published, {} of {} readings tripped",
            latencies.len(),
            sample.len()
        ),
        latencies.iter().map(|d| d.num_microseconds().unwrap_or(0) as f64 / 1000.0).collect(),
    );
    sim.abort();
    let _ = std::fs::remove_dir_all(&bench.dir);
    Ok(())
}

/// Reading over the limit -> sealed trip frame published, while the broker and the bridge
/// carry a paced load. First the ceiling: the fleet publishes as fast as it can with
/// settlement on. Then, for each load, a fresh fleet of the same size (its nearly empty
/// accounts not yet tripped) publishes at that share of the ceiling; every tenth account
/// crosses its limit on the way, and each trip is timed from its reading's arrival at the
/// bridge to the frame's publish (both stamped by the platform).
pub async fn trip(target: Target, devices: usize, readings: usize, loads: &[f64]) -> anyhow::Result<()> {
    let bench = setup_fleet(&target, devices, true).await?;
    // No friendly hours (F37): a tenant's default holds automatic trips back from 20:00 to
    // 08:00 and at weekends, and the benchmark measures trips at whatever hour it runs.
    bench.tenant.set_friendly_windows(&[]).await?;
    let what = super::pipeline::describe(&target);
    let (max, took) = paced(&bench.app, &bench.tenant, &bench.file, bench.devices, readings, None).await?;
    println!(
        "trip ({what}): ceiling: {} readings from {} devices with settlement on in {:.2} s = {max:.0} readings/s",
        bench.devices * readings,
        bench.devices,
        took.as_secs_f64()
    );
    for &load in loads {
        let fleet = super::pipeline::add_fleet(&bench.app, &bench.dir, devices, true).await?;
        fleet.tenant.set_friendly_windows(&[]).await?;
        let since = chrono::Utc::now();
        let (rate, took) = paced(&bench.app, &fleet.tenant, &fleet.file, fleet.devices, readings, Some(max * load)).await?;
        // Trips are published after their batch commits; give the last ones a moment (at
        // least the nearly empty tenth trips; heavy users may empty their accounts too).
        let expected = fleet.devices / 10;
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut timings = fleet.tenant.trip_timings(since).await?;
        while timings.len() < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            timings = fleet.tenant.trip_timings(since).await?;
        }
        anyhow::ensure!(!timings.is_empty(), "no trip published at {:.0} % load", load * 100.0);
        let ms = |d: &chrono::Duration| d.num_microseconds().unwrap_or(0) as f64 / 1000.0;
        summary(
            &format!(
                "trip ({what}): at {:.0} % of the ceiling ({rate:.0} readings/s for {:.1} s): reading crossing the limit (arrived) -> sealed trip frame published, {} trips",
                load * 100.0,
                took.as_secs_f64(),
                timings.len()
            ),
            timings.iter().map(|(a, b)| ms(a) + ms(b)).collect(),
        );
        summary("  of which arrival -> decided (batch, ingest transaction)", timings.iter().map(|(a, _)| ms(a)).collect());
        summary("  of which decided -> published (commit, dispatcher)", timings.iter().map(|(_, b)| ms(b)).collect());
    }
    let _ = std::fs::remove_dir_all(&bench.dir);
    Ok(())
}

/// Every device of a fleet publishes `readings` readings (at `rate` a second across the
/// fleet, or as fast as it can); returns the rate at which they were committed and the time
/// it took, after checking the fleet's output: every reading stored once, none refused, and
/// every balance its entries' sum.
async fn paced(
    app: &crate::app::RunningApp,
    tenant: &crate::store::TenantStore,
    file: &std::path::Path,
    devices: usize,
    readings: usize,
    rate: Option<f64>,
) -> anyhow::Result<(f64, Duration)> {
    use std::io::{BufRead as _, Write as _};
    use std::sync::atomic::Ordering;
    let counted = |app: &crate::app::RunningApp| app.stats.stored.load(Ordering::Relaxed) + app.stats.duplicates.load(Ordering::Relaxed);
    let (before, rejected) = (counted(app), app.stats.rejected.load(Ordering::Relaxed));
    let mut child = super::pipeline::publishers_child(app, file, readings, false, rate)?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("child stdout"))?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    super::pipeline::wait_line(&mut lines, "CONNECTED")?;
    let started = Instant::now();
    if let Some(mut stdin) = child.stdin.take() {
        writeln!(stdin, "GO")?;
    }
    let expected = (devices * readings) as u64;
    let took = super::pipeline::wait_committed(app, before + expected, started).await?;
    let _ = child.wait();
    let stored = tenant.reading_count().await?;
    anyhow::ensure!(stored == expected, "{stored} readings stored, {expected} published");
    let refused = app.stats.rejected.load(Ordering::Relaxed) - rejected;
    anyhow::ensure!(refused == 0, "{refused} readings refused");
    let off = tenant.accounts_off_ledger().await?;
    anyhow::ensure!(off == 0, "{off} accounts whose balance is not the sum of their entries");
    Ok((expected as f64 / took.as_secs_f64(), took))
}
