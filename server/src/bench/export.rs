//! The readings export at a million rows (issue 19): time and peak memory of the .xlsx and
//! the CSV, beside the two ceilings measured in the same run — reading the rows from the
//! database alone, and writing as many rows to a workbook without the database.

use std::time::Instant;

use anyhow::{Context, bail};
use chrono::NaiveDateTime;
use futures::StreamExt;
use mqtt_bridge::dlt645::Address;
use mqtt_bridge::simulator::SimMeter;

use super::Target;
use super::pipeline::setup;
use crate::api::export::{Lang, xlsx_rows};
use crate::api::readings_export::{self as rx, Selection};

/// The process's peak resident memory (VmHWM) in MiB.
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|n| n.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

/// Resets the peak to what is resident now (Linux: `/proc/self/clear_refs` 5).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

pub async fn export(database_url: Option<String>, meters: usize, readings: usize) -> anyhow::Result<()> {
    let target = Target { database_url, broker: None, bridge_sessions: 1, batch_time_ms: 0 };
    let bench = setup(&target, meters).await?;
    let text = std::fs::read_to_string(&bench.file)?;
    let fleet: Vec<(String, Address, bool)> = text
        .lines()
        .filter_map(|line| match line.split('\t').collect::<Vec<_>>()[..] {
            [user, _, addr, phases] => Address::parse(addr).ok().map(|a| (user.to_string(), a, phases == "3")),
            _ => None,
        })
        .collect();
    let t0 = NaiveDateTime::parse_from_str("2026-10-01 00:00:00", "%Y-%m-%d %H:%M:%S")?;
    let started = Instant::now();
    let now = chrono::Utc::now();
    for i in 0..readings {
        let at = t0 + chrono::Duration::minutes(i as i64 * 15);
        let batch: Vec<_> = fleet
            .iter()
            .map(|(user, address, three)| mqtt_bridge::port::MeterReading {
                device: user.clone(),
                address: *address,
                read_at: mqtt_bridge::port::ReadTime::MeterClock(at),
                received_at: now,
                values: SimMeter::new(*address, *three).reading_at(at),
            })
            .collect();
        bench.app.store.store_readings(batch).await?;
    }
    let total = (fleet.len() * readings) as i64;
    eprintln!("seeded {total} readings in {:.1} s", started.elapsed().as_secs_f64());
    let t = bench.tenant.clone();
    let tz = chrono_tz::Asia::Shanghai;
    let from = chrono::DateTime::parse_from_rfc3339("2026-09-01T00:00:00Z")?.with_timezone(&chrono::Utc);
    let to = chrono::DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")?.with_timezone(&chrono::Utc);
    let s = Selection { from, to, property: None, area: None, meter: None };
    let counted = rx::check(&t, &s).await.map_err(anyhow::Error::msg)?;
    if counted != total {
        bail!("{counted} readings stored of {total}");
    }

    // Ceiling 1: the database side alone (pages read and turned into rows, then dropped).
    let started = Instant::now();
    let (tx, mut sink) = tokio::sync::mpsc::channel(4);
    let drain = tokio::spawn(async move {
        let mut n = 0usize;
        while let Some(batch) = sink.recv().await {
            n += Vec::len(&batch);
        }
        n
    });
    let produced = rx::produce(t.clone(), s.clone(), tx).await.map_err(anyhow::Error::msg)?;
    let drained = drain.await?;
    let read_only = started.elapsed();
    if produced as i64 != total || drained != produced {
        bail!("read {produced} rows, drained {drained}, of {total}");
    }

    // Ceiling 2: the workbook alone, as many rows of the same shape, no database.
    let sample = t.readings_page(&t.report_meters(None, None).await?.first().context("a meter")?.id, from, to, None, 1).await?;
    let one = rx::row("000000000001", sample.first().context("a reading")?);
    let started = Instant::now();
    let rows = (0..total).map(move |_| one.clone());
    let book = tokio::task::spawn_blocking(move || xlsx_rows("抄表明细", &rx::columns(), rows, false, Lang::Zh, tz))
        .await?
        .map_err(anyhow::Error::msg)?;
    let write_only = started.elapsed();
    let synthetic_size = book.len();
    drop(book);

    // The export as the download makes it: .xlsx.
    reset_peak();
    let base = peak_mib();
    let started = Instant::now();
    let book = rx::xlsx(t.clone(), s.clone(), Lang::Zh, tz).await.map_err(anyhow::Error::msg)?;
    let xlsx_took = started.elapsed();
    let xlsx_peak = peak_mib();
    let xlsx_size = book.len();
    if !book.starts_with(b"PK") || xlsx_size < synthetic_size / 4 {
        bail!("the workbook is not a zip of the rows ({xlsx_size} bytes)");
    }
    drop(book);

    // And as CSV, streamed.
    reset_peak();
    let csv_base = peak_mib();
    let started = Instant::now();
    let mut stream = Box::pin(rx::csv_stream(t.clone(), s.clone(), Lang::Zh, tz));
    let (mut bytes, mut lines) = (0usize, 0usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    let csv_took = started.elapsed();
    let csv_peak = peak_mib();
    if lines as i64 != total + 1 {
        bail!("the CSV has {lines} lines for {total} readings and a header");
    }

    let rate = |took: std::time::Duration| total as f64 / took.as_secs_f64();
    println!("readings export ({}), {total} rows × 15 columns:", bench.backend);
    println!("  ceiling, database side alone: {:.2} s = {:.0} rows/s", read_only.as_secs_f64(), rate(read_only));
    println!(
        "  ceiling, workbook alone (no database): {:.2} s = {:.0} rows/s, {:.1} MB",
        write_only.as_secs_f64(),
        rate(write_only),
        synthetic_size as f64 / 1e6
    );
    println!(
        "  .xlsx export: {:.2} s = {:.0} rows/s, {:.1} MB, peak resident {:.0} MiB (at start {:.0} MiB)",
        xlsx_took.as_secs_f64(),
        rate(xlsx_took),
        xlsx_size as f64 / 1e6,
        xlsx_peak,
        base
    );
    println!(
        "  .csv export (streamed): {:.2} s = {:.0} rows/s, {:.1} MB, peak resident {:.0} MiB (at start {:.0} MiB)",
        csv_took.as_secs_f64(),
        rate(csv_took),
        bytes as f64 / 1e6,
        csv_peak,
        csv_base
    );
    let _ = std::fs::remove_dir_all(&bench.dir);
    Ok(())
}
