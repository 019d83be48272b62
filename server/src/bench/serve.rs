//! `serve` holding a large fleet: a fleet of meters with prepaid accounts is provisioned,
//! then `voltledger serve` runs as a child process on that database (so its memory is its
//! own), idle, then answers signed-in list pages one at a time. The floor beside the pages
//! is `me`: a request that resolves its principal and reads no list.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::Target;
use super::api::{percentile, signed_in_operator_named};
use super::pipeline::{add_fleet, fresh_database, settings};
use crate::app::Application;

/// Resident and peak resident memory of a process, in KiB.
fn memory_kib(pid: u32) -> anyhow::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).context("reading the server's /proc status")?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}

/// Stops the child on every way out.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM first (a drain), then a kill if it is still there.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        for _ in 0..50 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn serve(
    database_url: Option<String>,
    meters: usize,
    requests: usize,
    idle: u64,
    keep: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    anyhow::ensure!(keep.is_none() || database_url.is_none(), "--keep keeps a SQLite fleet; it takes no --database-url");
    let dir = keep.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("voltledger-bench-{}", uuid::Uuid::new_v4().simple())));
    // A kept fleet: its tenant and size, written once it is provisioned.
    let marker = dir.join("bench-fleet.txt");
    let kept = std::fs::read_to_string(&marker).ok();
    anyhow::ensure!(
        kept.is_some() || !dir.join("voltledger.db").exists(),
        "{} holds a database but no finished fleet (a run stopped while provisioning?): remove it first",
        dir.display()
    );
    let target = Target { database_url: database_url.clone(), broker: None, bridge_sessions: 8, batch_time_ms: 0 };
    let url = if kept.is_some() { None } else { fresh_database(&database_url).await? };
    let backend = if url.as_deref().is_some_and(|u| u.starts_with("postgres")) { "PostgreSQL" } else { "SQLite" };

    // Provisioning is the setup, not the figure: on PostgreSQL its many small transactions
    // commit without waiting for the disk (this fresh database only; reset before `serve`).
    let database = url.as_deref().filter(|u| u.starts_with("postgres")).and_then(|u| u.rsplit_once('/')).map(|(_, name)| name.to_string());
    if let (Some(u), Some(name)) = (&url, &database) {
        super::pipeline::psql(u, &format!("ALTER DATABASE {name} SET synchronous_commit = off"), None)?;
    }
    // The fleet and a signed-in operator, written by an application of the benchmark's own.
    let (token, counted) = {
        let app = Application::build(&settings(&target, &dir, url.clone())?).await?.spawn();
        let tenant = match kept.as_deref().and_then(|k| k.split_whitespace().next()).and_then(crate::domain::ids::TenantId::parse) {
            Some(id) => {
                eprintln!("serving the fleet kept in {}", dir.display());
                app.store.tenant(id)
            }
            None => {
                let started = Instant::now();
                let fleet = add_fleet(&app, &dir, meters, true).await?;
                eprintln!("provisioned {meters} meters with accounts in {:.0} s", started.elapsed().as_secs_f64());
                if keep.is_some() {
                    std::fs::write(&marker, format!("{} {meters}\n", fleet.tenant.tenant_id().as_str()))?;
                }
                fleet.tenant
            }
        };
        let username = format!("bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let token = signed_in_operator_named(&app, &tenant, &username, chrono::Duration::hours(2)).await?;
        let (_, counted) = tenant.meters(&crate::store::MeterFilter::default(), 1, 1).await?;
        (token, counted)
    };
    // A kept fleet is served at the size it was provisioned at.
    let meters = kept.as_deref().and_then(|k| k.split_whitespace().nth(1)).and_then(|n| n.parse().ok()).unwrap_or(meters);
    anyhow::ensure!(counted as usize == meters, "{counted} meters provisioned, {meters} asked for");
    if let (Some(u), Some(name)) = (&url, &database) {
        super::pipeline::psql(u, &format!("ALTER DATABASE {name} RESET synchronous_commit"), None)?;
        super::pipeline::psql(u, "ANALYZE", None)?;
    }

    // The server, as an operator runs it: its own process, the same data directory (secrets).
    let http = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let mqtt = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("serve").arg("--data-dir").arg(&dir).args(["--no-demo", "--requests-per-minute", "100000000"]);
    cmd.args(["--http", &http.to_string(), "--mqtt-listen", &mqtt.to_string()]);
    if let Some(u) = &url {
        cmd.args(["--database-url", u]);
    }
    let server = Server(cmd.env("RUST_LOG", "warn").stdout(Stdio::null()).spawn().context("starting voltledger serve")?);
    let pid = server.0.id();
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let ready = client.get(format!("http://{http}/readyz")).send().await.map(|r| r.status().is_success()).unwrap_or(false);
        if ready {
            break;
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(120), "serve not ready after 120 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = started.elapsed();
    tokio::time::sleep(Duration::from_secs(idle)).await;
    let (rss_idle, peak_idle) = memory_kib(pid)?;
    println!(
        "serve ({backend}): {meters} meters with prepaid accounts; ready in {:.1} s; idle {idle} s: resident {:.1} MiB (peak {:.1} MiB; target < 300 MB)",
        ready.as_secs_f64(),
        rss_idle as f64 / 1024.0,
        peak_idle as f64 / 1024.0
    );

    let endpoint = format!("http://{http}/graphql");
    // The monitor's page as the portal asks for it (web/src/views/monitor/monitor.graphql).
    let monitor = |args: &str| {
        format!(
            "{{ meters({args}) {{ total page pageSize items {{ id address shopNo propertyId areaId gatewayId accountId billingMode \
             linkState lastSeenAt feeState priceNow rateNow balance accountNumber customerName areaName live {{ readAt energyTotal relayOpen }} }} }} }}"
        )
    };
    let middle = (meters / 40).max(1);
    let middle_name = format!("monitor page {middle}");
    // A shop number of the fleet (`S-0001` …), so the search finds rows.
    let search = format!("S-{:04}", (meters / 2).max(1));
    let search_name = format!("monitor search {search}");
    let queries = [
        ("me (the floor)", "{ me { kind permissions } }".to_string()),
        ("monitor page 1", monitor("page: 1, pageSize: 20")),
        (middle_name.as_str(), monitor(&format!("page: {middle}, pageSize: 20"))),
        (search_name.as_str(), monitor(&format!("filter: {{ q: \"{search}\" }}, page: 1, pageSize: 20"))),
        ("accounts page 1", "{ accounts(pageSize: 20) { total items { id number balance } } }".to_string()),
    ];
    for (name, query) in queries {
        let body = serde_json::json!({ "query": query }).to_string();
        let send = || client.post(&endpoint).bearer_auth(&token).header("content-type", "application/json").body(body.clone()).send();
        for _ in 0..20 {
            send().await?.text().await?;
        }
        let mut times = Vec::with_capacity(requests);
        for _ in 0..requests {
            let start = Instant::now();
            let text = send().await?.text().await?;
            times.push(start.elapsed());
            anyhow::ensure!(!text.contains("\"errors\""), "{name}: {text}");
            anyhow::ensure!(
                name.starts_with("me") || text.contains("\"address\"") || text.contains("\"number\""),
                "{name}: no rows: {text}"
            );
        }
        times.sort();
        println!(
            "  {name:<20} one at a time: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target p99 < 20 ms)",
            percentile(&times, 0.50),
            percentile(&times, 0.99),
            times.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
        );
    }
    let (rss, peak) = memory_kib(pid)?;
    println!("  after the requests: resident {:.1} MiB (peak {:.1} MiB)", rss as f64 / 1024.0, peak as f64 / 1024.0);
    drop(server);
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
