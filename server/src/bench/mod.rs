//! Benchmarks that print figures (recorded in docs/PERFORMANCE.md). Not tests.

use std::time::{Duration, Instant};

use clap::Subcommand;
use mqtt_bridge::dlt645::{self, Address, Value, di};
use rust_decimal::Decimal;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Frame decode rate on one core: framing + checksum + de-offset, and full item decode.
    Decode {
        #[arg(long, default_value_t = 5_000_000)]
        frames: usize,
    },
    /// End-to-end ingestion: publishers (a child process) -> broker -> bridge -> stored.
    Ingest {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 1_000)]
        devices: usize,
        /// Readings each device publishes (one publish per reading).
        #[arg(long, default_value_t = 20)]
        readings: usize,
        /// Settlement on: every meter in a prepaid account under a TOU tariff with tiers
        /// (every tenth nearly empty, so state changes and trips are written too).
        #[arg(long)]
        accounts: bool,
    },
    /// Reconnect storm: all sessions drop at once and reconnect, each with a backlog.
    Storm {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 5_407)]
        devices: usize,
        /// Readings each device has queued while disconnected.
        #[arg(long, default_value_t = 4)]
        backlog: usize,
    },
    /// The store alone: batches of decoded readings through the ingestion sink.
    Store {
        /// Database URL; default: a fresh SQLite file.
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 1_000)]
        devices: usize,
        #[arg(long, default_value_t = 20)]
        readings: usize,
        #[arg(long, default_value_t = 1_000)]
        batch: usize,
    },
    /// Settlement throughput: readings through the ingest path with and without prepaid accounts.
    Settle {
        /// Database URL; default: a fresh SQLite file.
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 2_000)]
        meters: usize,
        #[arg(long, default_value_t = 25)]
        readings: usize,
        #[arg(long, default_value_t = 1_000)]
        batch: usize,
    },
    /// The month-end post-paid bill run.
    Bills {
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 100_000)]
        meters: usize,
    },
    /// Daily reconciliation of one payee: a WeChat Pay trade bill parsed and compared with
    /// our orders and refunds (no network, no database).
    Reconcile {
        #[arg(long, default_value_t = 20_000)]
        payments: usize,
    },
    /// The readings export at a million rows (.xlsx and CSV): time and peak memory beside
    /// reading the rows alone and writing as many rows alone.
    Export {
        /// Database URL; default: a fresh SQLite file.
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 1_000)]
        meters: usize,
        #[arg(long, default_value_t = 1_000)]
        readings: usize,
    },
    /// Forwarding throughput to a local receiver checking signatures, beside the receiver's
    /// own ceiling.
    Forward {
        /// Database URL; default: a fresh SQLite file.
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 1_000)]
        meters: usize,
        #[arg(long, default_value_t = 50)]
        readings: usize,
    },
    /// Raw PostgreSQL COPY of reading rows (the database's own limit), through psql.
    Copy {
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value_t = 200_000)]
        rows: usize,
    },
    /// Control with a simulated fleet connected: batch read-now, command round trip, and
    /// reading-crosses-the-limit to trip frame on the wire.
    Control {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 10_000)]
        meters: usize,
        /// Meters sampled for the round-trip and trip-latency figures.
        #[arg(long, default_value_t = 500)]
        samples: usize,
    },
    /// Reading over the limit -> trip frame published while ingesting at a share of the
    /// maximum rate (measured first, settlement on), each load on a fresh fleet.
    Trip {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 2_000)]
        devices: usize,
        /// Readings each device publishes in each phase.
        #[arg(long, default_value_t = 30)]
        readings: usize,
        /// Shares of the measured maximum to run at, comma separated.
        #[arg(long, value_delimiter = ',', default_value = "0.1,0.8")]
        loads: Vec<f64>,
    },
    /// Signed-in GraphQL requests over HTTP: latency one at a time, throughput with several
    /// clients (principal lookup, guard, row-level security on PostgreSQL).
    Api {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 1000)]
        meters: usize,
        #[arg(long, default_value_t = 2000)]
        requests: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Then the same requests one at a time while every device publishes this many
        /// readings (0: not under load).
        #[arg(long, default_value_t = 0)]
        under_ingest: usize,
    },
    /// `serve` with a large fleet: provisions meters with prepaid accounts, runs `serve` as a
    /// child process on them, and prints its idle memory and list pages' latency.
    Serve {
        /// Database URL; default: a fresh SQLite file.
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 100_000)]
        meters: usize,
        #[arg(long, default_value_t = 1_000)]
        requests: usize,
        /// Seconds the server sits idle before its memory is read.
        #[arg(long, default_value_t = 30)]
        idle: u64,
        /// SQLite only: keep the provisioned fleet in this directory, and serve the fleet
        /// found there instead of provisioning again (100,000 meters take minutes to set up).
        #[arg(long)]
        keep: Option<std::path::PathBuf>,
    },
    /// Publishing side of `ingest` and `storm` (run as a child process).
    #[command(hide = true)]
    Publishers {
        #[arg(long)]
        file: std::path::PathBuf,
        #[arg(long)]
        broker: String,
        #[arg(long)]
        readings: usize,
        #[arg(long)]
        storm: bool,
        /// Readings a second across all devices, each device at an even pace (default: as
        /// fast as the broker takes them).
        #[arg(long)]
        rate: Option<f64>,
    },
}

#[derive(clap::Args, Clone)]
pub struct Target {
    /// Database URL; default: a fresh SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    /// External broker; default: the embedded broker.
    #[arg(long)]
    broker: Option<String>,
    #[arg(long, default_value_t = 8)]
    bridge_sessions: usize,
    /// The store time a bridge batch aims at, in milliseconds (`serve --batch-time-ms`); 0
    /// (the default, as `serve`'s): batches of up to 5,000 publishes.
    #[arg(long, default_value_t = 0)]
    batch_time_ms: u64,
}

pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Decode { frames } => decode(frames),
        BenchCommand::Ingest { target, devices, readings, accounts } => pipeline::ingest(target, devices, readings, accounts).await?,
        BenchCommand::Storm { target, devices, backlog } => pipeline::storm(target, devices, backlog).await?,
        BenchCommand::Store { database_url, devices, readings, batch } => pipeline::store(database_url, devices, readings, batch).await?,
        BenchCommand::Settle { database_url, meters, readings, batch } => money::settle(database_url, meters, readings, batch).await?,
        BenchCommand::Bills { database_url, meters } => money::bills(database_url, meters).await?,
        BenchCommand::Control { target, meters, samples } => control::control(target, meters, samples).await?,
        BenchCommand::Trip { target, devices, readings, loads } => control::trip(target, devices, readings, &loads).await?,
        BenchCommand::Api { target, meters, requests, concurrency, under_ingest } => {
            api::api(target, meters, requests, concurrency, under_ingest).await?
        }
        BenchCommand::Serve { database_url, meters, requests, idle, keep } => {
            serve::serve(database_url, meters, requests, idle, keep).await?
        }
        BenchCommand::Reconcile { payments } => payments::reconcile_day(payments)?,
        BenchCommand::Export { database_url, meters, readings } => export::export(database_url, meters, readings).await?,
        BenchCommand::Forward { database_url, meters, readings } => forward::forward(database_url, meters, readings).await?,
        BenchCommand::Copy { database_url, rows } => pipeline::copy(&database_url, rows)?,
        BenchCommand::Publishers { file, broker, readings, storm, rate } => {
            pipeline::publishers(&file, &broker, readings, storm, rate).await?
        }
    }
    Ok(())
}

mod api;
mod control;
mod export;
mod forward;
mod money;
mod payments;
mod pipeline;
mod serve;

fn decode(n: usize) {
    let address = Address::from_u64(100_000_161).unwrap_or(Address::ANY);
    let values =
        [Decimal::new(120_642, 2), Decimal::new(10_050, 2), Decimal::new(40_025, 2), Decimal::new(30_000, 2), Decimal::new(40_567, 2)];
    let frame = dlt645::read_reply(address, di::FORWARD_ACTIVE_BLOCK, &values.map(Value::Number)).ok();
    let bytes = frame.and_then(|f| f.encode(2).ok()).unwrap_or_default();
    // A payload of 100 frames back to back, as a gateway sends.
    let payload: Vec<u8> = bytes.iter().copied().cycle().take(bytes.len() * 100).collect();
    let rounds = (n / 100).max(1);
    let started = Instant::now();
    let mut frames = 0usize;
    for _ in 0..rounds {
        frames += std::hint::black_box(dlt645::scan(std::hint::black_box(&payload))).frames.len();
    }
    report("frame decode (scan, 30-byte energy-block frames)", frames, started.elapsed());
    let started = Instant::now();
    let mut items = 0usize;
    for _ in 0..rounds {
        for f in dlt645::scan(&payload).frames {
            items += dlt645::items::decode_items(&f.data).map(|i| i.len()).unwrap_or(0);
        }
    }
    report("frame + item decode (5 exact decimals each)", rounds * 100, started.elapsed());
    let _ = std::hint::black_box(items);
}

fn report(what: &str, n: usize, took: Duration) {
    let rate = n as f64 / took.as_secs_f64();
    println!("{what}: {n} in {:.3} s = {:.2} million/s on one core", took.as_secs_f64(), rate / 1e6);
}
