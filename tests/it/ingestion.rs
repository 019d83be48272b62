//! Simulated meters and a LoRa gateway -> real broker -> bridge -> store -> GraphQL.

use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{FixedOffset, TimeZone, Utc};
use mqtt_bridge::dlt645::Address;
use mqtt_bridge::port::Readings;
use mqtt_bridge::simulator::{SimConfig, SimDevice, SimHandle, SimMeter};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tests::{Admin, TestApp};

const REGISTER_METER: &str = "mutation($input: RegisterMeterInput!) { registerMeter(input: $input) { meter { id address } credentials { username password uplinkTopic } } }";

struct Fleet {
    devices: Vec<SimDevice>,
    /// address -> (meter id, ct ratio)
    meters: Vec<(Address, String, i64)>,
}

/// Registers `four_g` 4G meters and one gateway with `behind` meters through GraphQL.
fn register_fleet(admin: &Admin, prefix: u64, four_g: usize, behind: usize) -> Fleet {
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Park", address: "1 Road"}) { id } }"#, json!({}))["createProperty"]
        ["id"]
        .clone();
    let area = admin.ok(
        "mutation($p: ID!) { createArea(input: {propertyId: $p, name: \"Block 1\", floorArea: \"1200.50\"}) { id floorArea } }",
        json!({"p": property}),
    );
    assert_eq!(area["createArea"]["floorArea"], "1200.50");
    let area_id = area["createArea"]["id"].clone();
    let gw = admin.ok(
        "mutation($p: ID!) { registerGateway(input: {propertyId: $p, serial: \"GW-1\"}) { gateway { id linkState } credentials { username password downlinkTopic } } }",
        json!({"p": property}),
    );
    assert_eq!(gw["registerGateway"]["gateway"]["linkState"], "NEVER_SEEN");
    let gw_id = gw["registerGateway"]["gateway"]["id"].clone();
    let mut fleet = Fleet { devices: Vec::new(), meters: Vec::new() };
    let mut gateway_meters = Vec::new();
    for n in 0..(four_g + behind) {
        let address = Address::from_u64(prefix * 1_000_000 + n as u64 + 1).unwrap();
        let three_phase = n % 3 == 0;
        let ct = if three_phase { 40 } else { 1 };
        let behind_gateway = n >= four_g;
        let mut input = json!({
            "propertyId": property, "areaId": area_id, "address": address.to_string(), "phases": if three_phase { 3 } else { 1 },
            "ctRatio": ct, "linkType": if behind_gateway { "LORA_GATEWAY" } else { "FOUR_G" }, "model": "DTSY1352",
        });
        if behind_gateway {
            input["gatewayId"] = gw_id.clone();
        }
        let r = admin.ok(REGISTER_METER, json!({"input": input}));
        let id = r["registerMeter"]["meter"]["id"].as_str().unwrap().to_string();
        fleet.meters.push((address, id, ct));
        let meter = SimMeter::new(address, three_phase);
        if behind_gateway {
            assert!(r["registerMeter"]["credentials"].is_null());
            gateway_meters.push(meter);
        } else {
            let c = &r["registerMeter"]["credentials"];
            assert_eq!(c["uplinkTopic"], format!("vl/up/{}", c["username"].as_str().unwrap()));
            fleet.devices.push(SimDevice {
                username: c["username"].as_str().unwrap().into(),
                password: c["password"].as_str().unwrap().into(),
                meters: vec![meter],
                gateway: false,
            });
        }
    }
    let c = &gw["registerGateway"]["credentials"];
    fleet.devices.push(SimDevice {
        username: c["username"].as_str().unwrap().into(),
        password: c["password"].as_str().unwrap().into(),
        meters: gateway_meters,
        gateway: true,
    });
    fleet
}

fn dec(v: &Value) -> Option<Decimal> {
    v.as_str().map(|s| Decimal::from_str(s).unwrap())
}

/// The values GraphQL must show for what the simulator published (PT 1, CT as registered).
fn expected(r: &Readings, ct: i64) -> Vec<(&'static str, Option<Decimal>)> {
    let ct = Decimal::from(ct);
    let e = |v: Option<Decimal>| v.map(|x| x * ct);
    vec![
        ("energyTotal", e(r.energy_total)),
        ("energySharp", e(r.energy_tariffs[0])),
        ("energyPeak", e(r.energy_tariffs[1])),
        ("energyFlat", e(r.energy_tariffs[2])),
        ("energyValley", e(r.energy_tariffs[3])),
        ("voltageA", r.voltage[0]),
        ("voltageB", r.voltage[1]),
        ("voltageC", r.voltage[2]),
        ("currentA", e(r.current[0])),
        ("currentB", e(r.current[1])),
        ("currentC", e(r.current[2])),
        ("activePower", e(r.active_power)),
        ("powerFactor", r.power_factor),
        ("frequency", r.frequency),
    ]
}

const READING_FIELDS: &str = "readAt energyTotal energySharp energyPeak energyFlat energyValley voltageA voltageB voltageC currentA currentB currentC activePower powerFactor frequency relayOpen holdPower phaseLoss underVoltage";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simulated_meters_and_a_gateway_publish_and_every_value_is_visible_exactly() {
    let app = TestApp::spawn().await;
    let admin = app.admin("e2e").await;
    let fleet = register_fleet(&admin, 7, 6, 5);
    let handle = SimHandle::recording();
    // A phase-loss fault on one three-phase meter shows up in its readings.
    handle.set_faults(fleet.meters[3].0, mqtt_bridge::simulator::Faults { phase_loss: true, ..Default::default() });
    let rounds = 3;
    let cfg = SimConfig {
        broker: app.app.broker.clone(),
        interval: Duration::from_millis(1100),
        clock_offset: FixedOffset::east_opt(8 * 3600).unwrap(),
        rounds: Some(rounds),
    };
    mqtt_bridge::simulator::run(cfg, fleet.devices.clone(), handle.clone()).await;
    let published = handle.published();
    assert_eq!(published.len(), fleet.meters.len() * rounds as usize);

    let tenant = app.app.store.tenant(admin.tenant.clone());
    let all_stored =
        TestApp::eventually(Duration::from_secs(30), || async { tenant.reading_count().await.unwrap() == published.len() as u64 }).await;
    assert!(all_stored, "stored {} of {}", tenant.reading_count().await.unwrap(), published.len());

    let shanghai = chrono_tz_offset();
    let from = Utc::now() - chrono::Duration::hours(1);
    let to = Utc::now() + chrono::Duration::hours(1);
    for (address, id, ct) in &fleet.meters {
        let q = format!(
            "query($id: ID!, $from: DateTime!, $to: DateTime!) {{ meter(id: $id) {{ address linkState lastSeenAt live {{ {READING_FIELDS} }} readings(from: $from, to: $to, first: 2) {{ items {{ {READING_FIELDS} }} pageInfo {{ endCursor hasNextPage }} }} }} }}"
        );
        let data = admin.ok(&q, json!({"id": id, "from": from, "to": to}));
        let meter = &data["meter"];
        assert_eq!(meter["linkState"], "ONLINE");
        // Page through the history with the cursor.
        let mut items: Vec<Value> = meter["readings"]["items"].as_array().unwrap().clone();
        assert_eq!(meter["readings"]["pageInfo"]["hasNextPage"], true);
        let cursor = meter["readings"]["pageInfo"]["endCursor"].clone();
        let q2 = format!(
            "query($id: ID!, $from: DateTime!, $to: DateTime!, $after: String) {{ meter(id: $id) {{ readings(from: $from, to: $to, first: 10, after: $after) {{ items {{ {READING_FIELDS} }} pageInfo {{ hasNextPage }} }} }} }}"
        );
        let more = admin.ok(&q2, json!({"id": id, "from": from, "to": to, "after": cursor}));
        items.extend(more["meter"]["readings"]["items"].as_array().unwrap().clone());
        assert_eq!(more["meter"]["readings"]["pageInfo"]["hasNextPage"], false);

        let mine: Vec<_> = published.iter().filter(|p| p.address == *address).collect();
        assert_eq!(items.len(), mine.len(), "meter {address}");
        for (item, p) in items.iter().zip(&mine) {
            let read_at = shanghai.from_local_datetime(&p.at).unwrap().with_timezone(&Utc);
            assert_eq!(chrono::DateTime::parse_from_rfc3339(item["readAt"].as_str().unwrap()).unwrap(), read_at);
            for (field, want) in expected(&p.values, *ct) {
                assert_eq!(dec(&item[field]), want, "{address} {field} at {}", p.at);
            }
            assert_eq!(item["relayOpen"], false);
        }
        let last = mine.last().unwrap();
        for (field, want) in expected(&last.values, *ct) {
            assert_eq!(dec(&meter["live"][field]), want, "live {address} {field}");
        }
        let lost_phase = if *address == fleet.meters[3].0 { json!(["C"]) } else { json!([]) };
        assert_eq!(meter["live"]["phaseLoss"], lost_phase, "{address}");
    }
    let gw = admin.ok("{ gateways { items { linkState lastSeenAt } } }", json!({}));
    assert_eq!(gw["gateways"]["items"][0]["linkState"], "ONLINE");

    // Filters: status, text, gateway.
    let lists = admin.ok(
        "query($gw: ID!) { online: meters(filter: {status: ONLINE}) { total } lost: meters(filter: {status: LOST}) { total } text: meters(filter: {q: \"7000006\"}) { total items { address } } behind: meters(filter: {gatewayId: $gw}) { total } }",
        json!({"gw": admin.ok("{ gateways { items { id } } }", json!({}))["gateways"]["items"][0]["id"]}),
    );
    assert_eq!(lists["online"]["total"], fleet.meters.len());
    assert_eq!(lists["lost"]["total"], 0);
    assert_eq!(lists["text"]["total"], 1);
    assert_eq!(lists["text"]["items"][0]["address"], "000007000006");
    assert_eq!(lists["behind"]["total"], 5);

    // Silence longer than the tenant allows (3 × 30 min by default) marks meters and the gateway
    // lost; the next reading brings a meter back.
    let later = Utc::now() + chrono::Duration::minutes(91);
    assert!(app.app.store.platform().sweep_link_state(later).await.unwrap() >= fleet.meters.len() as u64);
    let lost = admin.ok("{ meters(filter: {status: LOST}) { total } gateways { items { linkState } } }", json!({}));
    assert_eq!(lost["meters"]["total"], fleet.meters.len());
    assert_eq!(lost["gateways"]["items"][0]["linkState"], "LOST");
    let one = SimConfig {
        rounds: Some(1),
        ..SimConfig {
            broker: app.app.broker.clone(),
            interval: Duration::from_millis(1100),
            clock_offset: chrono_tz_offset(),
            rounds: None,
        }
    };
    mqtt_bridge::simulator::run(one, vec![fleet.devices[0].clone()], SimHandle::default()).await;
    let back = TestApp::eventually(Duration::from_secs(10), || async {
        admin.ok("{ meters(filter: {status: ONLINE}) { total } }", json!({}))["meters"]["total"] == 1
    })
    .await;
    assert!(back, "a meter that reports again is ONLINE");
    if std::env::var("VOLTLEDGER_TEST_MQTT_URL").is_err() {
        // On a shared external broker other tests' hostile payloads reach this bridge too.
        assert_eq!(app.app.stats.rejected.load(Ordering::Relaxed), 0);
    }
}

fn chrono_tz_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

async fn publish_as(app: &TestApp, username: &str, password: &str, topic: &str, payloads: Vec<Vec<u8>>) -> bool {
    use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS};
    let mut opts = MqttOptions::new(username, app.app.broker.host.clone(), app.app.broker.port);
    opts.set_credentials(username, password);
    let (client, mut events) = AsyncClient::new(opts, 16);
    let n = payloads.len();
    for p in payloads {
        client.publish(topic, QoS::AtLeastOnce, false, p).await.unwrap();
    }
    let mut acked = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while tokio::time::Instant::now() < deadline {
        match tokio::time::timeout_at(deadline, events.poll()).await {
            Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => {
                acked += 1;
                if acked == n {
                    let _ = client.disconnect().await;
                    return true;
                }
            }
            Ok(Ok(Event::Outgoing(Outgoing::Disconnect))) => return false,
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => return false,
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_and_malformed_payloads_are_counted_and_change_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin("hostile").await;
    let fleet = register_fleet(&admin, 8, 2, 1);
    let victim = &fleet.devices[0];
    let attacker = &fleet.devices[1];
    let tenant = app.app.store.tenant(admin.tenant.clone());

    // A frame for the victim's meter published on the attacker's own topic: refused by address check.
    let at = chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap().and_hms_opt(3, 4, 5).unwrap();
    let mut m = victim.meters[0].clone();
    let frames = mqtt_bridge::simulator::reading_frames(m.address, at, &m.reading_at(at), m.three_phase);
    let garbage = vec![0x68, 0x01, 0x02, 0xFF, 0x16, 0x00];
    let mut bad_checksum = frames.clone();
    let cs = bad_checksum.len() - 2;
    bad_checksum[cs] ^= 0x5A;
    let topic = mqtt_bridge::uplink::up_topic(&attacker.username);
    let sent = publish_as(
        &app,
        &attacker.username,
        &attacker.password,
        &topic,
        vec![frames.clone(), garbage, bad_checksum, b"{\"frame\": 12}".to_vec(), b"not hex at all".to_vec()],
    )
    .await;
    assert!(sent, "publishes from a registered device are accepted by the broker");
    let counted = TestApp::eventually(Duration::from_secs(10), || async {
        app.app.stats.unknown_meter.load(Ordering::Relaxed) >= 1 && app.app.stats.rejected.load(Ordering::Relaxed) >= 4
    })
    .await;
    assert!(
        counted,
        "unknown {} rejected {}",
        app.app.stats.unknown_meter.load(Ordering::Relaxed),
        app.app.stats.rejected.load(Ordering::Relaxed)
    );
    assert_eq!(tenant.reading_count().await.unwrap(), 0);

    // The embedded broker refuses a wrong password and a client id that is not the username.
    if std::env::var("VOLTLEDGER_TEST_MQTT_URL").is_err() {
        assert!(!publish_as(&app, &victim.username, "wrong-password", &topic, vec![b"x".to_vec()]).await);
        assert!(!publish_as(&app, "nobody", "nothing", &topic, vec![b"x".to_vec()]).await);
    }

    // The same frame on the victim's own topic is stored once, however often it is redelivered.
    let own = mqtt_bridge::uplink::up_topic(&victim.username);
    assert!(publish_as(&app, &victim.username, &victim.password, &own, vec![frames.clone(), frames.clone(), frames]).await);
    assert!(TestApp::eventually(Duration::from_secs(10), || async { tenant.reading_count().await.unwrap() == 1 }).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(tenant.reading_count().await.unwrap(), 1);
    assert!(app.app.stats.duplicates.load(Ordering::Relaxed) >= 2);
}

/// A meter whose clock is in another zone than the tenant's (the tenant's zone changed, the
/// meters' clocks did not) reports readings hours ahead: refused, so they never become the
/// meter's newest reading and hold the true ones back once the zones agree again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readings_dated_hours_ahead_of_their_arrival_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin("clock").await;
    let p = admin.ok(r#"mutation { createProperty(input: {name: "Clock"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let r = admin.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000007001\", phases: 1, linkType: FOUR_G}) { meter { id } credentials { username } } }",
        json!({"p": p}),
    )["registerMeter"]
        .clone();
    let device = r["credentials"]["username"].as_str().unwrap().to_string();
    let meter = r["meter"]["id"].clone();
    let shanghai = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    // What the meter's clock shows: Shanghai wall time, now.
    let reading = |kwh: &str| mqtt_bridge::port::MeterReading {
        device: device.clone(),
        address: Address::parse("000000007001").unwrap(),
        read_at: mqtt_bridge::port::ReadTime::MeterClock(Utc::now().with_timezone(&shanghai).naive_local()),
        received_at: Utc::now(),
        values: Readings { energy_total: Some(Decimal::from_str(kwh).unwrap()), ..Readings::default() },
    };
    let live =
        || admin.ok("query($m: ID!) { meter(id: $m) { live { readAt energyTotal } } }", json!({"m": meter}))["meter"]["live"].clone();
    let report = app.app.store.store_readings(vec![reading("10.00")]).await.unwrap();
    assert_eq!((report.stored, report.unknown), (1, 0));
    // The tenant's zone moves two hours west; the meter's clock stays: its readings now claim
    // to be two hours ahead, and are refused.
    let settings = "mutation($z: String!) { setBillingSettings(input: {jumpLimitKw: \"100\", timeZone: $z}) { settlementDay } }";
    admin.ok(settings, json!({"z": "Asia/Urumqi"}));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let report = app.app.store.store_readings(vec![reading("10.50")]).await.unwrap();
    assert_eq!((report.stored, report.unknown), (0, 1), "two hours ahead of its arrival");
    assert_eq!(live()["energyTotal"], "10.00");
    // Back to the meter's zone: its readings are taken again, in order.
    admin.ok(settings, json!({"z": "Asia/Shanghai"}));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let report = app.app.store.store_readings(vec![reading("11.00")]).await.unwrap();
    assert_eq!((report.stored, report.unknown), (1, 0));
    let now = live();
    assert_eq!(now["energyTotal"], "11.00");
    let at: chrono::DateTime<Utc> = now["readAt"].as_str().unwrap().parse().unwrap();
    assert!((at - Utc::now()).num_minutes().abs() < 2, "the newest reading is now, not hours ahead: {at}");
}
