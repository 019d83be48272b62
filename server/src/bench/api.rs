//! The API's own cost: signed-in GraphQL requests over HTTP, each resolving its principal
//! from the store (session + operator + role) and, on PostgreSQL, running its statements in
//! transactions that name the tenant (row-level security).

use std::time::{Duration, Instant};

use anyhow::Context;

use super::Target;
use super::pipeline::setup_fleet;
use crate::api::auth::Kind;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
}

pub async fn api(target: Target, meters: usize, requests: usize, concurrency: usize) -> anyhow::Result<()> {
    let bench = setup_fleet(&target, meters, true).await?;
    let t = &bench.tenant;
    let role = t.ensure_builtin_roles().await?;
    let hash = crate::api::auth::hash_password("Bench-Admin 2026").map_err(anyhow::Error::msg)?;
    let op = crate::store::NewOperator {
        username: "bench".into(),
        display_name: String::new(),
        password_hash: hash,
        role_id: role,
        properties: None,
    };
    let op = t.create_operator(&op).await?;
    let (session, _) = t.create_session("operator", &op.id, "bench", "bench", chrono::Duration::hours(1)).await?;
    let token = bench.app.keys.issue(Kind::Operator, Some(t.tenant_id()), &op.id, Some(&session.id), chrono::Duration::hours(1))?;
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
    let _ = std::fs::remove_dir_all(&bench.dir);
    Ok(())
}
