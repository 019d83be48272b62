//! Money to relay, end to end through the real broker and the simulator: an account runs out
//! -> TRIP decided -> remote-control frame on the meter's downlink -> the simulated relay
//! opens -> the meter's next reading confirms it; a recharge -> CLOSE -> the relay closes.
//! Every relay command travels sealed under the meter's 3DES key (profile VL3DES-1); a replayed
//! frame and a meter holding another key refuse, and the platform's command ends FAILED.

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
        // The meter holds its 3DES key: only sealed commands move its relay.
        meters: vec![
            SimMeter::new(address, true).with_key(app.app.store.tenant(admin.tenant.clone()).key_for_address(address).await.unwrap()),
        ],
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
    // The account's exhaustion is an alarm too (raised with the charge that caused it).
    let l = admin.ok("query($a: ID!) { alarms(activeOnly: true, subjectId: $a) { kind } }", json!({"a": account}))["alarms"].clone();
    assert!(l.as_array().unwrap().iter().any(|x| x["kind"] == "BALANCE_EXHAUSTED"), "exhausted alarm for the exhausted account: {l}");

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
    // The default profile fitted to this meter (no wallet): nothing it asked for was refused.
    let reasons = admin.ok("query($m: ID!) { commands(meterId: $m) { id reason } }", json!({"m": meter}))["commands"].clone();
    let why = reasons.as_array().unwrap().iter().find(|c| c["id"] == read).unwrap()["reason"].as_str().unwrap().to_string();
    assert!(!why.contains("refused"), "{why}");

    // A lost meter's commands wait, and go out when it is heard from again (F36).
    handle.set_faults(address, mqtt_bridge::simulator::Faults { silent: true, ..Default::default() });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.app.store.platform().sweep_link_state(chrono::Utc::now() + chrono::Duration::days(1)).await.unwrap();
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

/// Registers a three-phase 4G meter in a fresh tenant; returns (admin, meter id, username, password).
async fn one_meter(app: &TestApp, slug: &str, address: Address) -> (tests::Admin, serde_json::Value, String, String) {
    let admin = app.admin(slug).await;
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Park"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let r = admin.ok(
        "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 3, linkType: FOUR_G}) { meter { id } credentials { username password } } }",
        json!({"p": property, "a": address.to_string()}),
    )["registerMeter"]
        .clone();
    let (user, pass) =
        (r["credentials"]["username"].as_str().unwrap().to_string(), r["credentials"]["password"].as_str().unwrap().to_string());
    (admin, r["meter"]["id"].clone(), user, pass)
}

/// Waits until the meter has reported (so its device is subscribed to its downlink).
async fn online(admin: &tests::Admin, meter: &serde_json::Value) {
    let ok = TestApp::eventually(Duration::from_secs(30), || {
        let m = admin.ok("query($m: ID!) { meter(id: $m) { linkState } }", json!({"m": meter}));
        async move { m["meter"]["linkState"] == "ONLINE" }
    })
    .await;
    assert!(ok, "the meter came online");
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

fn sim_config(app: &TestApp) -> SimConfig {
    SimConfig {
        broker: BrokerAddr::parse(&format!("mqtt://{}:{}", app.app.broker.host, app.app.broker.port)).unwrap(),
        interval: Duration::from_secs(1),
        clock_offset: chrono::FixedOffset::east_opt(8 * 3600).unwrap(),
        rounds: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replayed_frame_and_a_wrong_key_are_refused_by_the_meter() {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    let app = TestApp::spawn().await;
    let address = Address::from_u64(990_000_071).unwrap();
    let (admin, meter, user, pass) = one_meter(&app, "replay", address).await;
    let key = app.app.store.tenant(admin.tenant.clone()).key_for_address(address).await.unwrap();

    // An eavesdropper on the device's downlink (the bridge's own login, as a compromised
    // broker would be) records every frame sent to the meter.
    let mut options = MqttOptions::new(
        format!("{}-tap-{}", server::app::BRIDGE_USER, uuid::Uuid::new_v4().simple()),
        app.app.broker.host.clone(),
        app.app.broker.port,
    );
    options.set_credentials(server::app::BRIDGE_USER, "bridge-test-secret");
    let (tap, mut events) = AsyncClient::new(options, 100);
    let down = format!("vl/down/{user}");
    tap.subscribe(down.clone(), QoS::AtLeastOnce).await.unwrap();
    let captured = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Vec<u8>>::new()));
    let sink = captured.clone();
    let tap_task = tokio::spawn(async move {
        while let Ok(e) = events.poll().await {
            if let Event::Incoming(Packet::Publish(p)) = e {
                sink.lock().unwrap().push(p.payload.to_vec());
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;

    let handle = SimHandle::default();
    let device = SimDevice {
        username: user.clone(),
        password: pass.clone(),
        meters: vec![SimMeter::new(address, true).with_key(key)],
        gateway: false,
    };
    let sim = tokio::spawn(mqtt_bridge::simulator::run(sim_config(&app), vec![device], handle.clone()));
    let command_status = |id: &serde_json::Value| {
        let cmds = admin.ok("query($m: ID!) { commands(meterId: $m) { id status reason } }", json!({"m": meter}))["commands"].clone();
        cmds.as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == *id)
            .map(|c| (c["status"].as_str().unwrap().to_string(), c["reason"].as_str().unwrap().to_string()))
    };
    let until = |id: serde_json::Value, want: &'static str, relay: Option<(bool, bool)>| {
        let (h, cs) = (handle.clone(), &command_status);
        TestApp::eventually(Duration::from_secs(30), move || {
            let ok = cs(&id).is_some_and(|(s, _)| s == want) && (relay.is_none() || h.relay(address) == relay);
            async move { ok }
        })
    };
    online(&admin, &meter).await;
    let op = |q: &str| admin.ok(q, json!({"m": meter}));
    let trip = op("mutation($m: ID!) { tripMeter(input: {meterId: $m}) { id } }")["tripMeter"]["id"].clone();
    assert!(until(trip.clone(), "CONFIRMED", Some((true, false))).await, "sealed trip: {:?}", command_status(&trip));
    let close = op("mutation($m: ID!) { closeMeter(input: {meterId: $m}) { id } }")["closeMeter"]["id"].clone();
    assert!(until(close.clone(), "CONFIRMED", Some((false, false))).await, "sealed close: {:?}", command_status(&close));

    // Replaying the recorded trip frame changes nothing: its counter is spent.
    let frames = captured.lock().unwrap().clone();
    eprintln!("captured {} publishes: {:?}", frames.len(), frames.iter().map(|f| hex_of(f)).collect::<Vec<_>>());
    let trip_frame = frames.iter().find(|f| f.windows(2).any(|w| w == [0x1C, 0x1C])).cloned().expect("a sealed 0x1C frame was recorded");
    assert!(!trip_frame.windows(3).any(|w| w == [0x1A + 0x33, 0x33, 0x33]), "the action byte travels encrypted");
    tap.publish(down.clone(), QoS::AtLeastOnce, false, trip_frame.clone()).await.unwrap();
    // A tampered copy (one ciphertext bit flipped, checksum fixed) is refused too.
    let mut tampered = trip_frame.clone();
    let start = tampered.iter().position(|b| *b == 0x68).unwrap();
    tampered[start + 10 + 12] ^= 0x01;
    let end = tampered.len() - 2;
    tampered[end] = tampered[start..end].iter().fold(0u8, |a, b| a.wrapping_add(*b));
    tap.publish(down.clone(), QoS::AtLeastOnce, false, tampered).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(handle.relay(address), Some((false, false)), "replayed and tampered trips are refused");
    sim.abort();
    tap_task.abort();

    // The same meter provisioned with another key: the platform's trip is refused by the
    // meter and ends FAILED with the meter's error bits.
    let wrong = mqtt_bridge::dlt645::secure::Key::from_bytes([0x5A; 16]).for_meter(address);
    let device = SimDevice { username: user, password: pass, meters: vec![SimMeter::new(address, true).with_key(wrong)], gateway: false };
    let handle2 = SimHandle::default();
    let sim = tokio::spawn(mqtt_bridge::simulator::run(sim_config(&app), vec![device], handle2.clone()));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let trip = op("mutation($m: ID!) { tripMeter(input: {meterId: $m}) { id } }")["tripMeter"]["id"].clone();
    let failed = TestApp::eventually(Duration::from_secs(30), || {
        let s = command_status(&trip);
        async move { s.is_some_and(|(s, _)| s == "FAILED") }
    })
    .await;
    let (_, reason) = command_status(&trip).unwrap();
    assert!(failed && reason.contains("password_wrong_or_unauthorised"), "{:?}", command_status(&trip));
    assert_ne!(handle2.relay(address), Some((true, false)));
    sim.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn friendly_hours_hold_an_automatic_trip_until_the_window_closes() {
    let app = TestApp::spawn().await;
    let address = Address::from_u64(990_000_077).unwrap();
    let (admin, meter, user, pass) = one_meter(&app, "friendly", address).await;
    // Every day, all day: no automatic trip may go out.
    let set = admin.ok(
        "mutation { setFriendlyHours(windows: [{name: \"Always\", weekdays: [1,2,3,4,5,6,7], start: \"00:00\", end: \"24:00\"}]) { name weekdays start end } }",
        json!({}),
    );
    assert_eq!(set["setFriendlyHours"][0]["end"], "24:00");
    let e = admin.fails(
        "mutation { setFriendlyHours(windows: [{name: \"Bad\", weekdays: [8], start: \"00:00\", end: \"01:00\"}]) { name } }",
        json!({}),
    );
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("VALIDATION"), Some("weekdays")));
    admin.ok(
        "mutation { createTariff(input: {name: \"Dear\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: SHARP, price: \"500\"}, {rate: PEAK, price: \"500\"}, {rate: FLAT, price: \"500\"}, {rate: VALLEY, price: \"500\"}]}}) { id } }",
        json!({}),
    );
    let tariff = admin.ok("{ tariffs { id } }", json!({}))["tariffs"][0]["id"].clone();
    admin.ok("mutation($t: ID!) { assignTariff(input: {tariffId: $t}) }", json!({"t": tariff}));
    let customer =
        admin.ok(r#"mutation { createCustomer(input: {name: "Night shop"}) { id } }"#, json!({}))["createCustomer"]["id"].clone();
    admin.ok(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m], initialPurchase: {amount: \"1.00\", channel: CASH}}) { account { id } } }",
        json!({"c": customer, "m": meter}),
    );
    let key = app.app.store.tenant(admin.tenant.clone()).key_for_address(address).await.unwrap();
    let handle = SimHandle::default();
    let device = SimDevice { username: user, password: pass, meters: vec![SimMeter::new(address, true).with_key(key)], gateway: false };
    let sim = tokio::spawn(mqtt_bridge::simulator::run(sim_config(&app), vec![device], handle.clone()));
    let trip = || {
        let cmds = admin.ok("query($m: ID!) { commands(meterId: $m) { kind source status } }", json!({"m": meter}))["commands"].clone();
        cmds.as_array().unwrap().iter().find(|c| c["kind"] == "TRIP").cloned()
    };
    let decided = TestApp::eventually(Duration::from_secs(60), || {
        let t = trip();
        async move { t.is_some() }
    })
    .await;
    assert!(decided, "the account ran out");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let held = trip().unwrap();
    assert_eq!((held["source"].as_str(), held["status"].as_str()), (Some("AUTO"), Some("QUEUED")), "held in friendly hours");
    assert!(handle.relay(address).is_none_or(|r| r == (false, false)), "power stays on: {:?}", handle.relay(address));
    // The window is removed: the held trip goes out and the relay opens.
    admin.ok("mutation { setFriendlyHours(windows: []) { name } }", json!({}));
    let tripped = TestApp::eventually(Duration::from_secs(30), || {
        let ok = trip().is_some_and(|t| t["status"] == "CONFIRMED") && handle.relay(address) == Some((true, false));
        async move { ok }
    })
    .await;
    assert!(tripped, "trip after the window: {:?} {:?}", trip(), handle.relay(address));
    sim.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_proceeds_per_meter_and_a_silent_meter_does_not_hold_up_the_rest() {
    let app = TestApp::spawn().await;
    let admin = app.admin("batch").await;
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Mall"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let gw = admin.ok(
        "mutation($p: ID!) { registerGateway(input: {propertyId: $p, serial: \"GW-B\"}) { gateway { id } credentials { username password } } }",
        json!({"p": property}),
    )["registerGateway"]
        .clone();
    let tenant = app.app.store.tenant(admin.tenant.clone());
    let (mut meters, mut sims) = (Vec::new(), Vec::new());
    for n in 0..4 {
        let address = Address::from_u64(990_000_100 + n).unwrap();
        let r = admin.ok(
            "mutation($p: ID!, $a: String!, $g: ID!) { registerMeter(input: {propertyId: $p, address: $a, phases: 1, linkType: LORA_GATEWAY, gatewayId: $g}) { meter { id } } }",
            json!({"p": property, "a": address.to_string(), "g": gw["gateway"]["id"]}),
        );
        meters.push(r["registerMeter"]["meter"]["id"].clone());
        sims.push(SimMeter::new(address, false).with_key(tenant.key_for_address(address).await.unwrap()));
    }
    let silent = Address::from_u64(990_000_103).unwrap();
    let handle = SimHandle::default();
    let device = SimDevice {
        username: gw["credentials"]["username"].as_str().unwrap().into(),
        password: gw["credentials"]["password"].as_str().unwrap().into(),
        meters: sims,
        gateway: true,
    };
    let sim = tokio::spawn(mqtt_bridge::simulator::run(sim_config(&app), vec![device], handle.clone()));
    handle.set_faults(silent, mqtt_bridge::simulator::Faults { silent: true, ..Default::default() });
    // Faults apply at the device's next round.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let batch = admin.ok(
        "mutation($p: ID!) { batchCommand(input: {kind: \"TRIP\", selection: {propertyId: $p}, reason: \"maintenance\"}) { id total } }",
        json!({"p": property}),
    )["batchCommand"]
        .clone();
    assert_eq!(batch["total"], 4);
    let progress = || {
        admin
            .ok("query($b: ID!) { commandBatch(id: $b) { total finished confirmed progress { status count } } }", json!({"b": batch["id"]}))
            ["commandBatch"]
            .clone()
    };
    let three = TestApp::eventually(Duration::from_secs(30), || {
        let p = progress();
        async move { p["confirmed"] == 3 }
    })
    .await;
    assert!(three, "three meters tripped: {}", progress());
    let p = progress();
    assert_eq!(p["finished"], 3, "the silent meter's command is still open: {p}");
    let open = admin.ok(
        "query($b: ID!) { commandBatch(id: $b) { commands(status: \"SENT\") { meterId } } }",
        json!({"b": batch["id"]}),
    )["commandBatch"]["commands"]
        .clone();
    assert_eq!(open, json!([{"meterId": meters[3]}]), "{}", progress());
    for n in 0..3 {
        assert_eq!(handle.relay(Address::from_u64(990_000_100 + n).unwrap()), Some((true, false)));
    }

    // A list with another tenant's meter is refused whole; bad kinds and empty selections too.
    let other = app.admin("batch-other").await;
    let e = other.fails(
        "mutation($m: [ID!]) { batchCommand(input: {kind: \"READ\", selection: {meterIds: $m}}) { id } }",
        json!({"m": [meters[0]]}),
    );
    assert_eq!(e["code"], "NOT_FOUND");
    let e = admin.fails(
        "mutation($m: [ID!]) { batchCommand(input: {kind: \"EXPLODE\", selection: {meterIds: $m}}) { id } }",
        json!({"m": [meters[0]]}),
    );
    assert_eq!(e["field"], "kind");
    let e = admin.fails("mutation { batchCommand(input: {kind: \"READ\", selection: {}}) { id } }", json!({}));
    assert_eq!(e["field"], "selection");
    assert_eq!(other.fails("query($b: ID!) { commandBatch(id: $b) { id } }", json!({"b": batch["id"]}))["code"], "NOT_FOUND");
    // Read now for a list.
    let read = admin.ok(
        "mutation($m: [ID!]) { batchCommand(input: {kind: \"READ\", selection: {meterIds: $m}}) { id total } }",
        json!({"m": [meters[0], meters[1]]}),
    )["batchCommand"]
        .clone();
    assert_eq!(read["total"], 2);
    let answered = TestApp::eventually(Duration::from_secs(30), || {
        let p = admin.ok("query($b: ID!) { commandBatch(id: $b) { confirmed } }", json!({"b": read["id"]}));
        async move { p["commandBatch"]["confirmed"] == 2 }
    })
    .await;
    assert!(answered);
    sim.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn meters_that_do_not_push_are_polled_and_pushing_meters_are_not() {
    let app = TestApp::spawn().await;
    let quiet = Address::from_u64(990_000_111).unwrap();
    let (admin, quiet_id, user, pass) = one_meter(&app, "poll", quiet).await;
    let t = admin.ok("mutation { setReadingSchedule(readingIntervalSeconds: 10) { readingIntervalSeconds } }", json!({}));
    assert_eq!(t["setReadingSchedule"]["readingIntervalSeconds"], 10);
    assert_eq!(
        admin.fails("mutation { setReadingSchedule(readingIntervalSeconds: 1) { id } }", json!({}))["field"],
        "readingIntervalSeconds"
    );
    let handle = SimHandle::default();
    handle.set_faults(quiet, mqtt_bridge::simulator::Faults { push_off: true, ..Default::default() });
    let device = SimDevice { username: user, password: pass, meters: vec![SimMeter::new(quiet, true)], gateway: false };
    let sim = tokio::spawn(mqtt_bridge::simulator::run(sim_config(&app), vec![device], handle.clone()));
    let polled = TestApp::eventually(Duration::from_secs(40), || {
        let cmds = admin.ok("query($m: ID!) { commands(meterId: $m) { kind source status } }", json!({"m": quiet_id}))["commands"].clone();
        let ok = cmds.as_array().unwrap().iter().any(|c| c["kind"] == "READ" && c["source"] == "SCHEDULE" && c["status"] == "CONFIRMED");
        async move { ok }
    })
    .await;
    assert!(
        polled,
        "the quiet meter was polled and answered: {}",
        admin.ok("query($m: ID!) { commands(meterId: $m) { kind source status reason } }", json!({"m": quiet_id}))
    );
    let m = admin.ok("query($m: ID!) { meter(id: $m) { linkState } }", json!({"m": quiet_id}));
    assert_eq!(m["meter"]["linkState"], "ONLINE", "a polled meter is online");
    sim.abort();

    // A meter that pushes every second is never polled.
    let loud = Address::from_u64(990_000_112).unwrap();
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Loud"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let r = admin.ok(
        "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 1, linkType: FOUR_G}) { meter { id } credentials { username password } } }",
        json!({"p": property, "a": loud.to_string()}),
    )["registerMeter"]
        .clone();
    let device = SimDevice {
        username: r["credentials"]["username"].as_str().unwrap().into(),
        password: r["credentials"]["password"].as_str().unwrap().into(),
        meters: vec![SimMeter::new(loud, false)],
        gateway: false,
    };
    let sim = tokio::spawn(mqtt_bridge::simulator::run(sim_config(&app), vec![device], SimHandle::default()));
    tokio::time::sleep(Duration::from_secs(16)).await;
    let cmds = admin.ok("query($m: ID!) { commands(meterId: $m) { kind } }", json!({"m": r["meter"]["id"]}))["commands"].clone();
    assert_eq!(cmds, json!([]), "a pushing meter is not polled");
    sim.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn settings_prices_and_the_clock_are_pushed_as_sealed_writes_and_confirmed() {
    use mqtt_bridge::dlt645::{Di, Value};
    use rust_decimal::Decimal;
    let app = TestApp::spawn().await;
    let address = Address::from_u64(990_000_131).unwrap();
    let (admin, meter, user, pass) = one_meter(&app, "settings", address).await;
    let key = app.app.store.tenant(admin.tenant.clone()).key_for_address(address).await.unwrap();
    let handle = SimHandle::default();
    // The meter's clock is ten minutes slow.
    handle.set_clock_skew(address, chrono::Duration::minutes(-10));
    let device = SimDevice { username: user, password: pass, meters: vec![SimMeter::new(address, true).with_key(key)], gateway: false };
    let sim = tokio::spawn(mqtt_bridge::simulator::run(sim_config(&app), vec![device], handle.clone()));
    let statuses = |ids: &[serde_json::Value]| {
        let cmds = admin.ok("query($m: ID!) { commands(meterId: $m) { id status reason } }", json!({"m": meter}))["commands"].clone();
        ids.iter()
            .map(|id| {
                cmds.as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["id"] == *id)
                    .map(|c| c["status"].as_str().unwrap().to_string())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
    };
    let all_confirmed = |ids: Vec<serde_json::Value>| {
        let s = &statuses;
        TestApp::eventually(Duration::from_secs(30), move || {
            let ok = s(&ids).iter().all(|x| x == "CONFIRMED");
            async move { ok }
        })
    };

    online(&admin, &meter).await;
    let pushed = admin.ok(
        "mutation($m: ID!) { pushMeterSettings(input: {meterId: $m, alarm1: \"50.00\", alarm2: \"20\", creditLimit: \"10.5\", overloadKw: \"12.5\"}) { id kind reason } }",
        json!({"m": meter}),
    )["pushMeterSettings"]
        .clone();
    let ids: Vec<_> = pushed.as_array().unwrap().iter().map(|c| c["id"].clone()).collect();
    assert_eq!(ids.len(), 4);
    assert!(all_confirmed(ids.clone()).await, "settings: {:?}", statuses(&ids));
    let on_meter = handle.settings(address);
    assert_eq!(on_meter.get(&Di(0x0400_1001)), Some(&Value::Number(Decimal::new(5000, 2))));
    assert_eq!(on_meter.get(&Di(0x0400_1003)), Some(&Value::Number(Decimal::new(1050, 2))));
    assert_eq!(on_meter.get(&Di(0x0400_0E01)), Some(&Value::Number(Decimal::new(125_000, 4))));

    let prices = admin
        .ok("mutation($m: ID!) { pushMeterPrices(meterId: $m, prices: [\"1.2\", \"0.9\", \"0.6\", \"0.3\"]) { id } }", json!({"m": meter}))
        ["pushMeterPrices"]
        .clone();
    let ids: Vec<_> = prices.as_array().unwrap().iter().map(|c| c["id"].clone()).collect();
    assert!(all_confirmed(ids.clone()).await, "prices: {:?}", statuses(&ids));
    assert_eq!(handle.settings(address).get(&Di(0x0405_0103)), Some(&Value::Number(Decimal::new(6000, 4))));
    // A later price change: the standby set and the switch time, in the tenant's local time.
    let standby = admin.ok(
        "mutation($m: ID!) { pushMeterPrices(meterId: $m, prices: [\"1.3\", \"1.0\", \"0.65\", \"0.35\"], effectiveAt: \"2030-01-01T00:00:00+08:00\") { id } }",
        json!({"m": meter}),
    )["pushMeterPrices"]
        .clone();
    let ids: Vec<_> = standby.as_array().unwrap().iter().map(|c| c["id"].clone()).collect();
    assert_eq!(ids.len(), 5);
    assert!(all_confirmed(ids.clone()).await, "standby prices: {:?}", statuses(&ids));
    let on_meter = handle.settings(address);
    assert_eq!(on_meter.get(&Di(0x0405_0203)), Some(&Value::Number(Decimal::new(6500, 4))));
    assert_eq!(on_meter.get(&Di(0x0400_0108)), Some(&Value::Text("2030-01-01 00:00".into())));
    assert_eq!(on_meter.get(&Di(0x0405_0103)), Some(&Value::Number(Decimal::new(6000, 4))), "the current set is unchanged");
    let e = admin.fails(
        "mutation($m: ID!) { pushMeterPrices(meterId: $m, prices: [\"1\"], effectiveAt: \"2020-01-01T00:00:00Z\") { id } }",
        json!({"m": meter}),
    );
    assert_eq!(e["field"], "effectiveAt");

    // The TOU day of a tariff becomes the meter's slot table: start hhmm and tariff number.
    let tariff = admin.ok(
        "mutation { createTariff(input: {name: \"Shop TOU\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {
            prices: [{rate: SHARP, price: \"1.2\"}, {rate: PEAK, price: \"1.0\"}, {rate: FLAT, price: \"0.7\"}, {rate: VALLEY, price: \"0.3\"}],
            periods: [{start: \"00:00\", end: \"08:00\", rate: VALLEY}, {start: \"08:00\", end: \"10:30\", rate: SHARP},
                      {start: \"10:30\", end: \"18:00\", rate: PEAK}, {start: \"18:00\", end: \"24:00\", rate: FLAT}]}}) { id } }",
        json!({}),
    )["createTariff"]["id"]
        .clone();
    let tou = admin.ok("mutation($m: ID!, $t: ID!) { pushMeterTou(meterId: $m, tariffId: $t) { id } }", json!({"m": meter, "t": tariff}))["pushMeterTou"]
        .clone();
    assert!(all_confirmed(vec![tou[0]["id"].clone()]).await, "tou: {:?}", statuses(&[tou[0]["id"].clone()]));
    let table = vec![0x04, 0x00, 0x00, 0x01, 0x00, 0x08, 0x02, 0x30, 0x10, 0x03, 0x00, 0x18];
    assert_eq!(
        handle.settings(address).get(&Di(0x0401_0001)),
        Some(&Value::Raw(table)),
        "NN mm hh per slot: valley 00:00, sharp 08:00, peak 10:30, flat 18:00"
    );

    let e = admin.fails("mutation($m: ID!) { pushMeterSettings(input: {meterId: $m, alarm1: \"-1\"}) { id } }", json!({"m": meter}));
    assert_eq!(e["field"], "alarm1");
    let e = admin.fails("mutation($m: ID!) { pushMeterPrices(meterId: $m, prices: []) { id } }", json!({"m": meter}));
    assert_eq!(e["field"], "prices");

    // The slow clock: the sync is confirmed only once the clock the meter reports agrees.
    let sync =
        admin.ok("mutation($m: ID!) { syncMeterTime(input: {meterId: $m}) { id kind } }", json!({"m": meter}))["syncMeterTime"].clone();
    assert_eq!(sync["kind"], "TIME_SYNC");
    assert!(all_confirmed(vec![sync["id"].clone()]).await, "time sync: {:?}", statuses(&[sync["id"].clone()]));
    sim.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_meter_side_purchase_loads_the_simulated_wallet_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin("wallet-sim").await;
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Dorm"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let address = Address::from_u64(990_000_151).unwrap();
    let r = admin.ok(
        "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 1, linkType: FOUR_G, billingMode: METER_PREPAID}) { meter { id } credentials { username password } } }",
        json!({"p": property, "a": address.to_string()}),
    )["registerMeter"]
        .clone();
    let meter = r["meter"]["id"].clone();
    let customer = admin.ok(r#"mutation { createCustomer(input: {name: "Room 9"}) { id } }"#, json!({}))["createCustomer"]["id"].clone();
    admin.ok(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m], initialPurchase: {amount: \"100\", channel: CASH}}) { account { id } } }",
        json!({"c": customer, "m": meter}),
    );
    let key = app.app.store.tenant(admin.tenant.clone()).key_for_address(address).await.unwrap();
    let handle = SimHandle::default();
    let device = SimDevice {
        username: r["credentials"]["username"].as_str().unwrap().into(),
        password: r["credentials"]["password"].as_str().unwrap().into(),
        meters: vec![SimMeter::new(address, false).with_key(key)],
        gateway: false,
    };
    let sim = tokio::spawn(mqtt_bridge::simulator::run(sim_config(&app), vec![device], handle.clone()));
    online(&admin, &meter).await;
    let buy = "mutation($m: ID!, $a: Decimal!) { purchaseForMeter(meterId: $m, amount: $a) { counter } }";
    assert_eq!(admin.ok(buy, json!({"m": meter, "a": "30"}))["purchaseForMeter"]["counter"], 1);
    assert_eq!(admin.ok(buy, json!({"m": meter, "a": "12.34"}))["purchaseForMeter"]["counter"], 2);
    let purchases = || {
        let cmds = admin.ok("query($m: ID!) { commands(meterId: $m) { kind status } }", json!({"m": meter}))["commands"].clone();
        cmds.as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "PURCHASE")
            .map(|c| c["status"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let loaded = TestApp::eventually(Duration::from_secs(30), || {
        let p = purchases();
        async move { p == ["CONFIRMED", "CONFIRMED"] }
    })
    .await;
    assert!(loaded, "{:?}", purchases());
    // The meter reports its wallet: both purchases, once each.
    let wallet = TestApp::eventually(Duration::from_secs(15), || {
        let m =
            admin.ok("query($m: ID!) { meter(id: $m) { live { remainingAmount } walletMismatch } }", json!({"m": meter}))["meter"].clone();
        async move { m["live"]["remainingAmount"] == "42.34" && m["walletMismatch"].is_null() }
    })
    .await;
    assert!(wallet, "{}", admin.ok("query($m: ID!) { meter(id: $m) { live { remainingAmount } walletMismatch } }", json!({"m": meter})));
    sim.abort();
}
