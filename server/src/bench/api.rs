//! The API's own cost: signed-in GraphQL requests over HTTP, each resolving its principal
//! from the store (session + operator + role) and, on PostgreSQL, running its statements in
//! transactions that name the tenant (row-level security).

use std::time::{Duration, Instant};

use anyhow::Context;

use super::Target;
use super::pipeline::setup_fleet;
use crate::api::auth::Kind;

/// The benchmarks' operator (administrator role, all properties) and a bearer token of a
/// session of its own, valid for `valid`.
pub(super) async fn signed_in_operator(
    app: &crate::app::RunningApp,
    t: &crate::store::TenantStore,
    valid: chrono::Duration,
) -> anyhow::Result<String> {
    signed_in_operator_named(app, t, "bench", valid).await
}

/// As [`signed_in_operator`], a new operator of the given username.
pub(super) async fn signed_in_operator_named(
    app: &crate::app::RunningApp,
    t: &crate::store::TenantStore,
    username: &str,
    valid: chrono::Duration,
) -> anyhow::Result<String> {
    let role = t.ensure_builtin_roles().await?;
    let hash = crate::api::auth::hash_password("Bench-Admin 2026").map_err(anyhow::Error::msg)?;
    let op = crate::store::NewOperator {
        username: username.into(),
        display_name: String::new(),
        password_hash: hash,
        role_id: role,
        properties: None,
    };
    let op = t.create_operator(&op).await?;
    let (session, _) = t.create_session("operator", &op.id, "bench", "bench", valid).await?;
    Ok(app.keys.issue(Kind::Operator, Some(t.tenant_id()), &op.id, Some(&session.id), valid)?)
}

/// The `p` quantile of sorted durations, in milliseconds.
pub(super) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
}

pub async fn api(target: Target, meters: usize, requests: usize, concurrency: usize, under_ingest: usize) -> anyhow::Result<()> {
    let bench = setup_fleet(&target, meters, true).await?;
    let token = signed_in_operator(&bench.app, &bench.tenant, chrono::Duration::hours(1)).await?;
    let url = format!("http://{}/graphql", bench.app.http_addr);
    let client = reqwest::Client::new();
    let queries = [
        ("me", "{ me { kind permissions } }"),
        ("meters page of 20", "{ meters(pageSize: 20) { total items { id address linkState } } }"),
        ("accounts page of 20", "{ accounts(pageSize: 20) { total items { id number balance } } }"),
    ];
    println!("API ({}): {meters} meters with accounts, {requests} requests per query", bench.backend);
    for (name, query) in queries {
        let body = serde_json::json!({ "query": query }).to_string();
        // Warm up: connections, statement caches.
        for _ in 0..20 {
            client.post(&url).bearer_auth(&token).header("content-type", "application/json").body(body.clone()).send().await?;
        }
        let mut times = Vec::with_capacity(requests);
        for _ in 0..requests {
            let start = Instant::now();
            let r = client.post(&url).bearer_auth(&token).header("content-type", "application/json").body(body.clone()).send().await?;
            let text = r.text().await?;
            times.push(start.elapsed());
            if text.contains("\"errors\"") {
                anyhow::bail!("{name}: {text}");
            }
        }
        times.sort();
        // Throughput with several clients at once.
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..concurrency {
            let (client, url, token, body) = (client.clone(), url.clone(), token.clone(), body.clone());
            let each = requests / concurrency.max(1);
            tasks.spawn(async move {
                for _ in 0..each {
                    client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await?
                        .text()
                        .await?;
                }
                anyhow::Ok(())
            });
        }
        while let Some(r) = tasks.join_next().await {
            r.context("a client task")??;
        }
        let rate = (requests / concurrency.max(1) * concurrency) as f64 / started.elapsed().as_secs_f64();
        println!(
            "  {name:<20} one at a time: p50 {:.2} ms, p99 {:.2} ms; {concurrency} clients: {rate:.0} requests/s",
            percentile(&times, 0.50),
            percentile(&times, 0.99)
        );
    }
    if under_ingest > 0 {
        under_load(&bench, &client, &url, &token, queries[1], under_ingest).await?;
    }
    let _ = std::fs::remove_dir_all(&bench.dir);
    Ok(())
}

/// One query, one request at a time, while every device publishes `readings` readings
/// through the broker into this process's bridge (the single box: API, bridge and
/// settlement share the process and the database).
async fn under_load(
    bench: &super::pipeline::Bench,
    client: &reqwest::Client,
    url: &str,
    token: &str,
    (name, query): (&str, &str),
    readings: usize,
) -> anyhow::Result<()> {
    use std::io::{BufRead as _, Write as _};
    let body = serde_json::json!({ "query": query }).to_string();
    let before = bench.tenant.reading_count().await?;
    let expected = before + (bench.devices * readings) as u64;
    let mut child = super::pipeline::child(bench, readings, false)?;
    let stdout = child.stdout.take().context("child stdout")?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    super::pipeline::wait_line(&mut lines, "CONNECTED")?;
    if let Some(mut stdin) = child.stdin.take() {
        writeln!(stdin, "GO")?;
    }
    let started = Instant::now();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (tenant, done) = (bench.tenant.clone(), done.clone());
        tokio::spawn(async move {
            loop {
                if tenant.reading_count().await? >= expected {
                    done.store(true, std::sync::atomic::Ordering::Relaxed);
                    return anyhow::Ok(started.elapsed());
                }
                if started.elapsed() > Duration::from_secs(600) {
                    anyhow::bail!("the readings were not all stored within 10 minutes");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let mut times = Vec::new();
    while !done.load(std::sync::atomic::Ordering::Relaxed) && !watcher.is_finished() {
        let start = Instant::now();
        let r = client.post(url).bearer_auth(token).header("content-type", "application/json").body(body.clone()).send().await?;
        let text = r.text().await?;
        times.push(start.elapsed());
        if text.contains("\"errors\"") {
            let _ = child.kill();
            anyhow::bail!("{name} under ingest: {text}");
        }
    }
    let took = match watcher.await.context("the watcher")? {
        Ok(took) => took,
        Err(e) => {
            let _ = child.kill();
            return Err(e);
        }
    };
    let _ = child.wait();
    times.sort();
    println!(
        "  {name:<20} under ingest ({} readings from {} devices stored in {:.1} s = {:.0} readings/s): {} requests, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        expected - before,
        bench.devices,
        took.as_secs_f64(),
        (expected - before) as f64 / took.as_secs_f64(),
        times.len(),
        percentile(&times, 0.50),
        percentile(&times, 0.99),
        times.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0),
    );
    Ok(())
}
