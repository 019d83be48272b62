//! Money benchmarks: settlement throughput through the ingest path, and the month-end bill run.

use std::time::Instant;

use anyhow::Context as _;
use chrono::{DateTime, TimeZone, Utc};
use mqtt_bridge::port::Readings;
use rust_decimal::Decimal;

use crate::domain::billing::Period;
use crate::domain::ledger::EntryKind;
use crate::domain::registry::BillingMode;
use crate::domain::tariff::{TariffSpec, TouSource, commercial_tou};
use crate::store::{ImportAccount, Store, TenantStore};

async fn fresh_tenant(database_url: Option<String>) -> anyhow::Result<(TenantStore, String, std::path::PathBuf)> {
    let dir = std::env::temp_dir().join(format!("voltledger-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let url = match super::pipeline::fresh_database(&database_url).await? {
        Some(u) => u,
        None => format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
    };
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    let id = store.platform().create_tenant("Bench", "bench", "Asia/Shanghai").await?;
    let backend = if url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    Ok((store.tenant(id), backend.to_string(), dir))
}

fn tou(source: TouSource, tiers: bool, capacity: bool) -> TariffSpec {
    commercial_tou(source, tiers, capacity.then(|| Decimal::from(30)))
}

fn start() -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

/// Settlement throughput: the same readings stored twice over — once for meters without
/// accounts (storage only) and once for prepaid accounts under a TOU + tier tariff.
pub async fn settle(database_url: Option<String>, meters: usize, readings: usize, batch: usize) -> anyhow::Result<()> {
    let (tenant, backend, dir) = fresh_tenant(database_url).await?;
    let property = tenant.create_property(&crate::domain::registry::NewProperty::parse("Bench", "")?).await?.id;
    let spec = tou(TouSource::PlatformCalendar, true, false);
    let tariff = tenant.create_tariff("TOU", start() - chrono::Duration::days(30), &spec, true).await?;
    tenant.assign_tariff(Some(&tariff.id), None, None).await?;
    let mut figures = Vec::new();
    for (round, prepaid) in [(0u64, false), (1, true)] {
        let rows: Vec<ImportAccount> = (0..meters)
            .map(|i| ImportAccount {
                address: format!("{:012}", 700_000_000 + round * 1_000_000 + i as u64),
                customer_name: format!("Shop {i}"),
                billing_mode: BillingMode::PlatformPrepaid,
                property_fee_x100: 0,
            })
            .collect();
        let ids = tenant.import_accounts(&property, &rows).await?;
        if prepaid {
            for (account, _) in &ids {
                tenant.recharge(account, 1_000_000, EntryKind::RechargeCash, None, "bench").await?;
            }
        } else {
            for (_, meter) in &ids {
                tenant.release_meter(meter).await?;
            }
        }
        let mut all = Vec::with_capacity(meters * readings);
        for r in 0..readings {
            for (i, (_, meter)) in ids.iter().enumerate() {
                let total = Decimal::new(100_000 + (r as i64) * (50 + (i as i64 % 70)), 2);
                all.push((
                    meter.clone(),
                    start() + chrono::Duration::minutes(r as i64 * 15),
                    Readings { energy_total: Some(total), ..Readings::default() },
                ));
            }
        }
        let total = all.len();
        let started = Instant::now();
        let mut rest = all;
        while !rest.is_empty() {
            let tail = rest.split_off(batch.min(rest.len()));
            tenant.import_readings(rest).await?;
            rest = tail;
        }
        let took = started.elapsed();
        figures.push((prepaid, total, took));
        if prepaid {
            let (account, _) = ids.first().context("no meters")?;
            let balance = tenant.account(account).await?.context("account")?.balance_x100;
            anyhow::ensure!(balance == tenant.ledger_sum(account).await?, "balance differs from its entries");
        }
    }
    for (prepaid, total, took) in figures {
        println!(
            "{} ({backend}): {total} readings in batches of {batch}: {:.2} s = {:.0} readings/s",
            if prepaid { "store + settle (prepaid accounts, TOU by calendar + tiers)" } else { "store only (meters without accounts)" },
            took.as_secs_f64(),
            total as f64 / took.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The month-end bill run for `meters` post-paid accounts (TOU from the meters' registers,
/// capacity fee from the demand register, property fee).
pub async fn bills(database_url: Option<String>, meters: usize) -> anyhow::Result<()> {
    let (tenant, backend, dir) = fresh_tenant(database_url).await?;
    let property = tenant.create_property(&crate::domain::registry::NewProperty::parse("Bench", "")?).await?.id;
    let tariff = tenant
        .create_tariff("Industrial", start() - chrono::Duration::days(60), &tou(TouSource::MeterRegisters, false, true), true)
        .await?;
    tenant.assign_tariff(Some(&tariff.id), None, None).await?;
    let setup = Instant::now();
    let rows: Vec<ImportAccount> = (0..meters)
        .map(|i| ImportAccount {
            address: format!("{:012}", 800_000_000 + i as u64),
            customer_name: format!("Enterprise {i}"),
            billing_mode: BillingMode::PostPaid,
            property_fee_x100: 50_000,
        })
        .collect();
    let ids = tenant.import_accounts(&property, &rows).await?;
    let period = Period::parse("2026-11")?;
    let (tz, t0) = (chrono_tz::Asia::Shanghai, start());
    let t1 = period.end(tz, 1, 0) - chrono::Duration::minutes(15);
    let mid = t0 + chrono::Duration::days(14);
    let regs = |base: i64| Readings {
        energy_total: Some(Decimal::new(base * 4, 2)),
        energy_tariffs: [
            Some(Decimal::new(base, 2)),
            Some(Decimal::new(base, 2)),
            Some(Decimal::new(base, 2)),
            Some(Decimal::new(base, 2)),
        ],
        ..Readings::default()
    };
    let mut all = Vec::with_capacity(meters * 3);
    for (i, (_, meter)) in ids.iter().enumerate() {
        let base = 100_000 + i as i64;
        all.push((meter.clone(), t0, regs(base)));
        all.push((meter.clone(), mid, Readings { max_demand: Some(Decimal::new(125_000 + (i as i64 % 1000), 4)), ..regs(base + 20_000) }));
        all.push((meter.clone(), t1, regs(base + 45_000)));
    }
    let mut rest = all;
    while !rest.is_empty() {
        let tail = rest.split_off(5_000.min(rest.len()));
        tenant.import_readings(rest).await?;
        rest = tail;
    }
    eprintln!("set up {meters} accounts and {} readings in {:.1} s", meters * 3, setup.elapsed().as_secs_f64());
    let started = Instant::now();
    let run = tenant.run_bills(period, None).await?;
    let took = started.elapsed();
    let sample = tenant.bills(Some("2026-11"), ids.first().map(|x| &x.0), true).await?;
    let lines = sample.first().map_or(0, |b| b.lines.len());
    println!(
        "bill run ({backend}): {} bills ({} skipped, {lines} lines each) for {meters} post-paid meters in {:.2} s",
        run.created,
        run.skipped.len(),
        took.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
