//! Forwarding throughput (issue 19): readings queued for a park platform and sent by the
//! forwarder to a local receiver that checks every request's signature, beside the ceiling
//! measured in the same run — the same receiver taking pre-built requests of the same size
//! from the same HTTP client, with no database behind the sender.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::bail;
use chrono::NaiveDateTime;
use mqtt_bridge::dlt645::Address;
use mqtt_bridge::simulator::SimMeter;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Target;
use super::pipeline::setup;

/// A park platform's receiver: HTTP/1.1 with keep-alive, each request's signature checked and
/// its events counted.
struct Receiver {
    addr: std::net::SocketAddr,
    events: Arc<AtomicUsize>,
    bad: Arc<AtomicUsize>,
}

async fn receiver(secret: String) -> anyhow::Result<Receiver> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (events, bad) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (e, b) = (events.clone(), bad.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (e, b, secret) = (e.clone(), b.clone(), secret.clone());
            tokio::spawn(async move {
                let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
                let mut chunk = vec![0u8; 1 << 16];
                loop {
                    let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                    let header = |name: &str| head.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()));
                    let len: usize = header("content-length:").and_then(|v| v.parse().ok()).unwrap_or(0);
                    while buf.len() < i + 4 + len {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = buf[i + 4..i + 4 + len].to_vec();
                    buf.drain(..i + 4 + len);
                    let (ts, sig) =
                        (header("x-voltledger-timestamp:").unwrap_or_default(), header("x-voltledger-signature:").unwrap_or_default());
                    let ok = connectors::forward::verify(&secret, &ts, &sig, &body, chrono::Utc::now().timestamp(), 300);
                    if ok {
                        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                        e.fetch_add(v["events"].as_array().map_or(0, Vec::len), Ordering::Relaxed);
                    } else {
                        b.fetch_add(1, Ordering::Relaxed);
                    }
                    let status = if ok { "200 OK" } else { "401 Unauthorized" };
                    if sock.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(Receiver { addr, events, bad })
}

pub async fn forward(database_url: Option<String>, meters: usize, readings: usize) -> anyhow::Result<()> {
    let target = Target { database_url, broker: None, bridge_sessions: 1, batch_time_ms: 0 };
    let bench = setup(&target, meters).await?;
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let rx = receiver(secret.clone()).await?;
    let url = format!("http://{}/park", rx.addr);
    let t = bench.tenant.clone();
    let created =
        t.create_forward_target("Bench park", &url, &["READING".to_string()], &[], &secret, &store::ForwardTransport::Webhook).await?;
    // Readings queue their deliveries in the transaction that stores them.
    let text = std::fs::read_to_string(&bench.file)?;
    let fleet: Vec<(String, Address, bool)> = text
        .lines()
        .filter_map(|line| match line.split('\t').collect::<Vec<_>>()[..] {
            [user, _, addr, phases] => Address::parse(addr).ok().map(|a| (user.to_string(), a, phases == "3")),
            _ => None,
        })
        .collect();
    let t0 = NaiveDateTime::parse_from_str("2026-10-01 00:00:00", "%Y-%m-%d %H:%M:%S")?;
    let now = chrono::Utc::now();
    // The forwarder runs alongside in the app: pause it while queuing so the run below is timed.
    t.set_forward_state(&created.id, "PAUSED").await?;
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
    let total = fleet.len() * readings;
    let queued: i64 = t.forward_counts(&created.id).await?.values().sum();
    if queued as usize != total {
        bail!("{queued} deliveries queued for {total} readings");
    }

    // Ceiling: the receiver alone, with requests of the same size from the same client.
    let sample_body = {
        let pending = t.forward_pending(&created.id, connectors::forward::BATCH as u64).await?;
        let mut events = Vec::new();
        for d in &pending {
            events.push(t.forward_payload(d).await?);
        }
        serde_json::to_vec(&serde_json::json!({"events": events}))?
    };
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let requests = total.div_ceil(connectors::forward::BATCH);
    let before = rx.events.load(Ordering::Relaxed);
    let started = Instant::now();
    for _ in 0..requests {
        let ts = chrono::Utc::now().timestamp();
        client
            .post(&url)
            .header("Content-Type", "application/json")
            .header("X-VoltLedger-Timestamp", ts.to_string())
            .header("X-VoltLedger-Signature", connectors::forward::signature(&secret, ts, &sample_body))
            .body(sample_body.clone())
            .send()
            .await?
            .error_for_status()?;
    }
    let ceiling = started.elapsed();
    let ceiling_events = rx.events.load(Ordering::Relaxed) - before;

    // The forwarder: passes until nothing waits.
    t.set_forward_state(&created.id, "ACTIVE").await?;
    let before = rx.events.load(Ordering::Relaxed);
    let started = Instant::now();
    loop {
        connectors::forward::run_pass(&bench.app.store, chrono::Utc::now()).await.map_err(anyhow::Error::msg)?;
        if bench.app.store.forward_work().await?.is_empty() {
            break;
        }
    }
    let took = started.elapsed();
    let received = rx.events.load(Ordering::Relaxed) - before;
    let delivered = t.forward_counts(&created.id).await?.get("DELIVERED").copied().unwrap_or(0);
    if delivered as usize != total || received < total || rx.bad.load(Ordering::Relaxed) > 0 {
        bail!("{delivered} delivered, {received} received of {total}, {} bad signatures", rx.bad.load(Ordering::Relaxed));
    }
    println!("forwarding ({}), {total} readings to a local receiver checking signatures:", bench.backend);
    println!(
        "  ceiling, the receiver alone (pre-built {}-event requests, one client): {:.2} s = {:.0} events/s",
        connectors::forward::BATCH,
        ceiling.as_secs_f64(),
        ceiling_events as f64 / ceiling.as_secs_f64()
    );
    println!(
        "  the forwarder (pending read, payloads from their sources, signed, marked delivered): {:.2} s = {:.0} events/s ({} received, duplicates {})",
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64(),
        received,
        received - total
    );
    let _ = std::fs::remove_dir_all(&bench.dir);
    Ok(())
}
