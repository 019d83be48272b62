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

/// A 4G meter registered in a new property of the admin's tenant; its device login.
fn meter_login(admin: &tests::Admin, address: mqtt_bridge::dlt645::Address) -> (String, String) {
    let p = admin.ok(r#"mutation { createProperty(input: {name: "P"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let r = admin.ok(
        "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 1, linkType: FOUR_G}) { credentials { username password } } }",
        json!({"p": p, "a": address.to_string()}),
    );
    let c = &r["registerMeter"]["credentials"];
    (c["username"].as_str().unwrap().to_string(), c["password"].as_str().unwrap().to_string())
}

/// An embedded broker of the test's own on a free port, on the app's device logins.
fn own_broker(app: &TestApp) -> u16 {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    mqtt_bridge::broker::start_embedded(std::net::SocketAddr::from(([127, 0, 0, 1], port)), None, Arc::new(app.app.store.clone())).unwrap();
    port
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
        batch_time: None,
        queue: BridgeConfig::QUEUE,
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

/// A backlog far larger than the bridge's queues: the batcher must not wait on an
/// acknowledgement while the session waits on the batcher's queue. The embedded broker hands
/// a session up to 100 unacknowledged publishes (rumqttd's outgoing window), more than the
/// bridge's queue (8), batch (4) and request queue (64, the floor) hold together, so before the
/// acknowledgements had their own task this bridge stopped for good after a few batches (as
/// `bench ingest` did with 100,000 readings against the service's queues on Mosquitto).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledgements_never_wait_on_a_full_queue() {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    let app = TestApp::spawn().await;
    app.app.bridge.abort();
    let admin = app.admin("backlog").await;
    let address = mqtt_bridge::dlt645::Address::from_u64(9_100_001).unwrap();
    let (user, pass) = meter_login(&admin, address);
    // A broker of the test's own (the machine's Mosquitto holds a session to 20 in flight,
    // fewer than the queues: no deadlock to find there).
    let port = own_broker(&app);
    let config = BridgeConfig {
        broker: mqtt_bridge::session::BrokerAddr { host: "127.0.0.1".into(), port },
        queue: 8,
        batch_max: 4,
        ..bridge_config(&app, &format!("voltledger-bridge-backlog-{}", uuid::Uuid::new_v4().simple()))
    };

    // The bridge's persistent session subscribes, then leaves.
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let stats = Arc::new(BridgeStats::default());
    let first = tokio::spawn(mqtt_bridge::session::run_until(config.clone(), Arc::new(app.app.store.clone()), stats.clone(), stop));
    assert!(TestApp::eventually(Duration::from_secs(10), || async { stats.sessions.load(Ordering::Relaxed) == 1 }).await);
    tokio::time::sleep(Duration::from_millis(300)).await; // subscribed
    stop_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), first).await.expect("the bridge drains").unwrap();

    // The device publishes its backlog meanwhile.
    let readings = 600;
    let mut o = MqttOptions::new(user.clone(), "127.0.0.1", port);
    o.set_credentials(user.clone(), pass);
    let (device, mut events) = AsyncClient::new(o, readings + 8);
    let t0 = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    let mut meter = SimMeter::new(address, false);
    for i in 0..readings {
        let at = t0 + chrono::Duration::minutes(i as i64);
        let payload = mqtt_bridge::simulator::reading_frames(address, at, &meter.reading_at(at), false);
        device.publish(mqtt_bridge::uplink::up_topic(&user), QoS::AtLeastOnce, false, payload).await.unwrap();
    }
    let mut acked = 0;
    let published = tokio::time::timeout(Duration::from_secs(20), async {
        while acked < readings {
            if let Ok(Event::Incoming(Packet::PubAck(_))) = events.poll().await {
                acked += 1;
            }
        }
    })
    .await;
    assert!(published.is_ok(), "the broker took {acked} of {readings}");

    // The bridge comes back to a backlog of 600 with a queue of 8 and batches of 4.
    let stats = Arc::new(BridgeStats::default());
    let second = tokio::spawn(mqtt_bridge::session::run(config, Arc::new(app.app.store.clone()), stats.clone()));
    let tenant = app.app.store.tenant(admin.tenant.clone());
    let stored = TestApp::eventually(Duration::from_secs(60), || async { tenant.reading_count().await.unwrap() == readings as u64 }).await;
    second.abort();
    assert!(
        stored,
        "stored {} of {readings}; the bridge took {}",
        tenant.reading_count().await.unwrap(),
        stats.publishes.load(Ordering::Relaxed)
    );
    assert_eq!(stats.duplicates.load(Ordering::Relaxed), 0);
}

/// A store that takes its time (a slow database), then stores nothing.
struct SlowSink {
    each: Duration,
    finished: Arc<std::sync::atomic::AtomicUsize>,
}

impl ReadingSink for SlowSink {
    async fn store(&self, _batch: Vec<MeterReading>) -> Result<StoreReport, SinkError> {
        tokio::time::sleep(self.each).await;
        self.finished.fetch_add(1, Ordering::Relaxed);
        Ok(StoreReport::default())
    }
}

/// A drain with several batches taken and a slow database ends within one grace period of
/// the stop, not one per batch: the exclusive uplink's holder must let go of the broker
/// session before its lease (10 s) runs out, or the standby takes the session from a holder
/// still acknowledging. Before the shared deadline each drained batch had 2 s of its own, so
/// this drain (six batches of 1.5 s) would run for all six, about 9 s by that arithmetic
/// (not run against the old code).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_drain_ends_within_one_grace_period_however_many_batches_it_holds() {
    use rumqttc::{AsyncClient, MqttOptions, QoS};
    let app = TestApp::spawn().await;
    app.app.bridge.abort();
    let admin = app.admin("slowdrain").await;
    let address = mqtt_bridge::dlt645::Address::from_u64(9_200_001).unwrap();
    let (user, pass) = meter_login(&admin, address);
    let port = own_broker(&app);
    let config = BridgeConfig {
        broker: mqtt_bridge::session::BrokerAddr { host: "127.0.0.1".into(), port },
        batch_max: 1,
        ..bridge_config(&app, &format!("voltledger-bridge-slowdrain-{}", uuid::Uuid::new_v4().simple()))
    };
    let finished = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sink = Arc::new(SlowSink { each: Duration::from_millis(1500), finished: finished.clone() });
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let stats = Arc::new(BridgeStats::default());
    let bridge = tokio::spawn(mqtt_bridge::session::run_until(config, sink, stats.clone(), stop));
    assert!(TestApp::eventually(Duration::from_secs(10), || async { stats.sessions.load(Ordering::Relaxed) == 1 }).await);
    tokio::time::sleep(Duration::from_millis(300)).await; // subscribed

    // Six readings, one batch each, all taken by the bridge while the first is being stored.
    let readings = 6;
    let mut o = MqttOptions::new(user.clone(), "127.0.0.1", port);
    o.set_credentials(user.clone(), pass);
    let (device, mut events) = AsyncClient::new(o, readings + 8);
    let poller = tokio::spawn(async move { while events.poll().await.is_ok() {} });
    let t0 = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    let mut meter = SimMeter::new(address, false);
    for i in 0..readings {
        let at = t0 + chrono::Duration::minutes(i as i64);
        let payload = mqtt_bridge::simulator::reading_frames(address, at, &meter.reading_at(at), false);
        device.publish(mqtt_bridge::uplink::up_topic(&user), QoS::AtLeastOnce, false, payload).await.unwrap();
    }
    let taken = TestApp::eventually(Duration::from_secs(10), || async { stats.publishes.load(Ordering::Relaxed) >= readings as u64 }).await;
    assert!(taken, "the bridge took {} of {readings}", stats.publishes.load(Ordering::Relaxed));

    let stopped = std::time::Instant::now();
    stop_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(20), bridge).await.expect("the bridge ends").unwrap();
    let took = stopped.elapsed();
    poller.abort();
    // One grace period (2 s) and the goodbye; per batch it would be about 9 s.
    assert!(took < Duration::from_millis(3500), "the drain took {took:?}");
    let done = finished.load(Ordering::Relaxed);
    assert!(done < readings, "{done} of {readings} slow stores finished: the drain was not cut at its deadline");
}
