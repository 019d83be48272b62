//! Money to relay, end to end through the real broker and the simulator: an account runs out
//! -> TRIP decided -> remote-control frame on the meter's downlink -> the simulated relay
//! opens -> the meter's next reading confirms it; a recharge -> CLOSE -> the relay closes.

use std::time::Duration;

use mqtt_bridge::dlt645::Address;
use mqtt_bridge::session::BrokerAddr;
use mqtt_bridge::simulator::{SimConfig, SimDevice, SimHandle, SimMeter};
use serde_json::json;
use tests::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_exhausted_account_trips_the_simulated_relay_and_a_recharge_closes_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin("control").await;
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Park"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    // A three-phase meter with a high peak load, so its register moves every few seconds.
    let address = Address::from_u64(990_000_059).unwrap();
    let r = admin.ok(
        "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 3, linkType: FOUR_G}) { meter { id } credentials { username password } } }",
        json!({"p": property, "a": address.to_string()}),
    )["registerMeter"]
        .clone();
    let meter = r["meter"]["id"].clone();
    admin.ok(
        "mutation { createTariff(input: {name: \"Dear\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: SHARP, price: \"500\"}, {rate: PEAK, price: \"500\"}, {rate: FLAT, price: \"500\"}, {rate: VALLEY, price: \"500\"}]}}) { id } }",
        json!({}),
    );
    let tariff = admin.ok("{ tariffs { id } }", json!({}))["tariffs"][0]["id"].clone();
    admin.ok("mutation($t: ID!) { assignTariff(input: {tariffId: $t}) }", json!({"t": tariff}));
    let customer = admin.ok(r#"mutation { createCustomer(input: {name: "Workshop"}) { id } }"#, json!({}))["createCustomer"]["id"].clone();
    let account = admin.ok(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m], initialPurchase: {amount: \"1.00\", channel: CASH}}) { account { id } } }",
        json!({"c": customer, "m": meter}),
    )["openAccount"]["account"]["id"]
        .clone();

    let handle = SimHandle::default();
    let device = SimDevice {
        username: r["credentials"]["username"].as_str().unwrap().into(),
        password: r["credentials"]["password"].as_str().unwrap().into(),
        meters: vec![SimMeter::new(address, true)],
        gateway: false,
    };
    let broker = BrokerAddr::parse(&format!("mqtt://{}:{}", app.app.broker.host, app.app.broker.port)).unwrap();
    let config = SimConfig {
        broker,
        interval: Duration::from_secs(1),
        clock_offset: chrono::FixedOffset::east_opt(8 * 3600).unwrap(),
        rounds: None,
    };
    let sim = tokio::spawn(mqtt_bridge::simulator::run(config, vec![device], handle.clone()));

    let status = |kind: &str| {
        let cmds = admin.ok("query($m: ID!) { commands(meterId: $m) { kind status attempts } }", json!({"m": meter}))["commands"].clone();
        cmds.as_array().unwrap().iter().find(|c| c["kind"] == kind).map(|c| c["status"].as_str().unwrap().to_string())
    };
    // The first priced interval takes the balance below zero: TRIP, sent, relay open, confirmed.
    let tripped = TestApp::eventually(Duration::from_secs(90), || {
        let relay = handle.relay(address);
        let confirmed = status("TRIP").as_deref() == Some("CONFIRMED");
        async move { confirmed && relay == Some((true, false)) }
    })
    .await;
    let a = admin.ok("query($a: ID!) { account(id: $a) { balance relay balanceState } }", json!({"a": account}))["account"].clone();
    assert!(tripped, "trip not carried out: relay {:?}, TRIP {:?}, account {a}", handle.relay(address), status("TRIP"));
    assert_eq!((a["relay"].as_str(), a["balanceState"].as_str()), (Some("OPEN"), Some("EXHAUSTED")));

    // A recharge lifts the balance above the limit: CLOSE, relay closed, confirmed.
    admin.ok(
        "mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"100000\", channel: CASH}) { receiptNo } }",
        json!({"a": account}),
    );
    let closed = TestApp::eventually(Duration::from_secs(60), || {
        let relay = handle.relay(address);
        let confirmed = status("CLOSE").as_deref() == Some("CONFIRMED");
        async move { confirmed && relay == Some((false, false)) }
    })
    .await;
    assert!(closed, "close not carried out: relay {:?}, CLOSE {:?}", handle.relay(address), status("CLOSE"));
    let cmds = admin.ok("query($m: ID!) { commands(meterId: $m) { kind source attempts } }", json!({"m": meter}))["commands"].clone();
    assert_eq!(cmds, json!([{"kind": "CLOSE", "source": "AUTO", "attempts": 1}, {"kind": "TRIP", "source": "AUTO", "attempts": 1}]));

    // Operator commands: hold power on the meter, then a trip the meter refuses while held.
    let op = |q: &str| admin.ok(q, json!({"m": meter}));
    let hold = op("mutation($m: ID!) { setMeterHoldPower(input: {meterId: $m, reason: \"hospital\"}, hold: true) { id kind source } }")["setMeterHoldPower"].clone();
    assert_eq!((hold["kind"].as_str(), hold["source"].as_str()), (Some("HOLD_ON"), Some("OPERATOR")));
    let command_status = |id: &serde_json::Value| {
        let cmds = admin.ok("query($m: ID!) { commands(meterId: $m) { id status } }", json!({"m": meter}))["commands"].clone();
        cmds.as_array().unwrap().iter().find(|c| c["id"] == *id).map(|c| c["status"].as_str().unwrap().to_string())
    };
    let held = TestApp::eventually(Duration::from_secs(30), || {
        let ok = command_status(&hold["id"]).as_deref() == Some("CONFIRMED") && handle.relay(address) == Some((false, true));
        async move { ok }
    })
    .await;
    assert!(held, "hold not confirmed: {:?} {:?}", command_status(&hold["id"]), handle.relay(address));
    let trip = op("mutation($m: ID!) { tripMeter(input: {meterId: $m}) { id } }")["tripMeter"]["id"].clone();
    let refused = TestApp::eventually(Duration::from_secs(10), || {
        let s = command_status(&trip);
        async move { s.as_deref() == Some("FAILED") }
    })
    .await;
    assert!(refused, "the meter's abnormal reply fails the command: {:?}", command_status(&trip));
    assert_eq!(handle.relay(address), Some((false, true)), "a held meter refuses the trip");
    let reason = admin.ok("query($m: ID!) { commands(meterId: $m) { id reason } }", json!({"m": meter}))["commands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == trip)
        .map(|c| c["reason"].as_str().unwrap().to_string())
        .unwrap();
    assert!(reason.contains("refused by the meter"), "{reason}");
    let e = admin.fails("mutation($i: ID!) { cancelCommand(id: $i) { status } }", json!({"i": trip}));
    assert_eq!(e["code"], "CONFLICT", "a failed command cannot be cancelled");
    // Released, the same trip re-sent goes through.
    let release =
        op("mutation($m: ID!) { setMeterHoldPower(input: {meterId: $m}, hold: false) { id } }")["setMeterHoldPower"]["id"].clone();
    let released = TestApp::eventually(Duration::from_secs(30), || {
        let ok = command_status(&release).as_deref() == Some("CONFIRMED");
        async move { ok }
    })
    .await;
    assert!(released, "hold release: {:?}", command_status(&release));
    let again = admin.ok("mutation($i: ID!) { resendCommand(id: $i) { status } }", json!({"i": trip}))["resendCommand"].clone();
    assert_eq!(again["status"], "QUEUED");
    let opened = TestApp::eventually(Duration::from_secs(30), || {
        let ok = command_status(&trip).as_deref() == Some("CONFIRMED") && handle.relay(address) == Some((true, false));
        async move { ok }
    })
    .await;
    assert!(opened, "re-sent trip: {:?} {:?}", command_status(&trip), handle.relay(address));

    // Read now: the meter answers the request and the fresh reading confirms it.
    let read = op("mutation($m: ID!) { readMeterNow(input: {meterId: $m}) { id kind } }")["readMeterNow"]["id"].clone();
    let answered = TestApp::eventually(Duration::from_secs(15), || {
        let ok = command_status(&read).as_deref() == Some("CONFIRMED");
        async move { ok }
    })
    .await;
    assert!(answered, "read now: {:?}", command_status(&read));

    // A lost meter's commands wait, and go out when it is heard from again (F36).
    handle.set_faults(address, mqtt_bridge::simulator::Faults { silent: true, ..Default::default() });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.app.store.platform_sweep_link_state(chrono::Utc::now() + chrono::Duration::days(1)).await.unwrap();
    let close = op("mutation($m: ID!) { closeMeter(input: {meterId: $m}) { id } }")["closeMeter"]["id"].clone();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(command_status(&close).as_deref(), Some("QUEUED"), "nothing is sent to a lost meter");
    assert_eq!(handle.relay(address), Some((true, false)));
    handle.set_faults(address, mqtt_bridge::simulator::Faults::default());
    let replayed = TestApp::eventually(Duration::from_secs(30), || {
        let ok = command_status(&close).as_deref() == Some("CONFIRMED") && handle.relay(address) == Some((false, false));
        async move { ok }
    })
    .await;
    assert!(replayed, "replay after reconnect: {:?} {:?}", command_status(&close), handle.relay(address));
    sim.abort();
}
