//! No reading is lost when the bridge dies before its commit: the broker is acknowledged only
//! after the store commits, so a new bridge session with the same client id receives the
//! unacknowledged publishes again, and the store takes each reading once.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::FixedOffset;
use mqtt_bridge::port::{MeterReading, ReadingSink, SinkError, StoreReport};
use mqtt_bridge::session::{BridgeConfig, BridgeStats};
use mqtt_bridge::simulator::{SimConfig, SimDevice, SimHandle, SimMeter};
use serde_json::json;
use tests::TestApp;

/// A store that never finishes committing: the process "dies" while it waits.
struct HangingSink;

impl ReadingSink for HangingSink {
    async fn store(&self, _batch: Vec<MeterReading>) -> Result<StoreReport, SinkError> {
        std::future::pending().await
    }
}

fn bridge_config(app: &TestApp, client_id: &str) -> BridgeConfig {
    BridgeConfig {
        broker: app.app.broker.clone(),
        client_id: client_id.into(),
        username: "voltledger-bridge".into(),
        password: "bridge-test-secret".into(),
        sessions: 1,
        batch_max: 100,
        batch_wait: Duration::from_millis(20),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readings_received_but_not_committed_are_redelivered_and_stored_once() {
    let app = TestApp::spawn().await;
    // Only the bridges of this test may consume the uplink.
    app.app.bridge.abort();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let admin = app.admin("durability").await;
    let p = admin.ok(r#"mutation { createProperty(input: {name: "P"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let mut devices = Vec::new();
    for n in 1..=3u64 {
        let address = mqtt_bridge::dlt645::Address::from_u64(9_000_000 + n).unwrap();
        let r = admin.ok(
            "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 1, linkType: FOUR_G}) { credentials { username password } } }",
            json!({"p": p, "a": address.to_string()}),
        );
        let c = &r["registerMeter"]["credentials"];
        devices.push(SimDevice {
            username: c["username"].as_str().unwrap().into(),
            password: c["password"].as_str().unwrap().into(),
            meters: vec![SimMeter::new(address, false)],
            gateway: false,
        });
    }
    let client_id = format!("voltledger-bridge-durable-{}", uuid::Uuid::new_v4().simple());

    // First bridge: receives everything, never commits, then dies.
    let first_stats = Arc::new(BridgeStats::default());
    let first = tokio::spawn(mqtt_bridge::session::run(bridge_config(&app, &client_id), Arc::new(HangingSink), first_stats.clone()));
    tokio::time::sleep(Duration::from_millis(800)).await; // subscribed
    let cfg = SimConfig {
        broker: app.app.broker.clone(),
        interval: Duration::from_millis(1100),
        clock_offset: FixedOffset::east_opt(8 * 3600).unwrap(),
        rounds: Some(2),
    };
    mqtt_bridge::simulator::run(cfg, devices, SimHandle::default()).await;
    let expected = 6;
    assert!(TestApp::eventually(Duration::from_secs(10), || async { first_stats.publishes.load(Ordering::Relaxed) >= expected }).await);
    first.abort();
    let tenant = app.app.store.tenant(admin.tenant.clone());
    assert_eq!(tenant.reading_count().await.unwrap(), 0, "nothing was committed");

    // Second bridge, same persistent session: the unacknowledged publishes come again.
    let second_stats = Arc::new(BridgeStats::default());
    let second =
        tokio::spawn(mqtt_bridge::session::run(bridge_config(&app, &client_id), Arc::new(app.app.store.clone()), second_stats.clone()));
    let stored = TestApp::eventually(Duration::from_secs(20), || async { tenant.reading_count().await.unwrap() == expected }).await;
    second.abort();
    assert!(stored, "stored {} of {expected}", tenant.reading_count().await.unwrap());
    assert_eq!(second_stats.duplicates.load(Ordering::Relaxed), 0);
}
