//! Field devices (issue 20): what a meter we did not write sends — partial readings, missing
//! status words — is merged into the live view and never read as zero or "closed".

use serde_json::json;
use tests::TestApp;

fn reading(device: &str, at: chrono::DateTime<chrono::Utc>, values: mqtt_bridge::port::Readings) -> mqtt_bridge::port::MeterReading {
    mqtt_bridge::port::MeterReading {
        device: device.to_string(),
        address: mqtt_bridge::dlt645::Address::parse("000000000961").unwrap(),
        read_at: mqtt_bridge::port::ReadTime::Instant(at),
        received_at: chrono::Utc::now().max(at),
        values,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_reading_updates_what_it_carries_and_missing_values_raise_no_sudden_drop() {
    let app = TestApp::spawn().await;
    let admin = app.admin("partial").await;
    let p = admin.ok(r#"mutation { createProperty(input: {name: "Mall"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let r = admin.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000000961\", phases: 1, linkType: FOUR_G}) { meter { id } credentials { username } } }",
        json!({"p": p}),
    )["registerMeter"]
        .clone();
    let (meter, device) = (r["meter"]["id"].clone(), r["credentials"]["username"].as_str().unwrap().to_string());
    let d = |s: &str| Some(s.parse::<rust_decimal::Decimal>().unwrap());
    let t0 = chrono::Utc::now() - chrono::Duration::minutes(30);
    // Full readings: power 1.2345 kW with the relay closed, for a while (the running average).
    let full: Vec<_> = (0..6)
        .map(|i| {
            reading(
                &device,
                t0 + chrono::Duration::minutes(i),
                mqtt_bridge::port::Readings {
                    energy_total: d(&format!("{}.00", 100 + i)),
                    voltage: [d("220.1"), None, None],
                    active_power: d("1.2345"),
                    status_word_3: Some(0),
                    ..Default::default()
                },
            )
        })
        .collect();
    app.app.store.store_readings(full).await.unwrap();
    // Then energy only (as a meter answering a block read sends), in its own batch, then a
    // batch holding a full reading followed by an energy-only one.
    let energy_only = |at, kwh: &str| reading(&device, at, mqtt_bridge::port::Readings { energy_total: d(kwh), ..Default::default() });
    app.app.store.store_readings(vec![energy_only(t0 + chrono::Duration::minutes(10), "110.00")]).await.unwrap();
    let q = "query($m: ID!) { meter(id: $m) { live { readAt energyTotal activePower voltageA } } }";
    let live = admin.ok(q, json!({"m": meter}))["meter"]["live"].clone();
    assert_eq!(
        (live["energyTotal"].as_str(), live["activePower"].as_str(), live["voltageA"].as_str()),
        (Some("110.00"), Some("1.2345"), Some("220.1")),
        "{live}"
    );
    app.app
        .store
        .store_readings(vec![
            reading(
                &device,
                t0 + chrono::Duration::minutes(11),
                mqtt_bridge::port::Readings { energy_total: d("111.00"), active_power: d("1.5000"), ..Default::default() },
            ),
            energy_only(t0 + chrono::Duration::minutes(12), "112.00"),
        ])
        .await
        .unwrap();
    let live = admin.ok(q, json!({"m": meter}))["meter"]["live"].clone();
    assert_eq!((live["energyTotal"].as_str(), live["activePower"].as_str()), (Some("112.00"), Some("1.5000")), "{live}");
    // An older reading arriving late changes nothing live.
    app.app.store.store_readings(vec![energy_only(t0 + chrono::Duration::minutes(7), "107.00")]).await.unwrap();
    assert_eq!(admin.ok(q, json!({"m": meter}))["meter"]["live"]["energyTotal"], "112.00");

    // No false alarm from missing values: no sudden drop while power is merely unknown.
    let events = app.app.store.platform().evaluate_alarms(chrono::Utc::now()).await.unwrap();
    let alarms = admin.ok("{ alarms(activeOnly: true) { kind } }", json!({}))["alarms"].clone();
    assert!(!alarms.to_string().contains("SUDDEN_DROP"), "{alarms} {events:?}");
    // A real drop (power read, relay known closed) still raises it.
    app.app
        .store
        .store_readings(vec![reading(
            &device,
            t0 + chrono::Duration::minutes(13),
            mqtt_bridge::port::Readings {
                energy_total: d("112.01"),
                active_power: d("0.0100"),
                status_word_3: Some(0),
                ..Default::default()
            },
        )])
        .await
        .unwrap();
    app.app.store.platform().evaluate_alarms(chrono::Utc::now()).await.unwrap();
    let alarms = admin.ok("{ alarms(activeOnly: true) { kind } }", json!({}))["alarms"].clone();
    assert!(alarms.to_string().contains("SUDDEN_DROP"), "{alarms}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_automatic_cut_off_is_retried_on_a_schedule_and_alarmed_until_the_meter_reports_it_open() {
    let app = TestApp::spawn().await;
    let admin = app.admin("cutoff").await;
    let p = admin.ok(r#"mutation { createProperty(input: {name: "Mall"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let r = admin.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000000961\", phases: 1, linkType: FOUR_G}) { meter { id } credentials { username } } }",
        json!({"p": p}),
    )["registerMeter"]
        .clone();
    let (meter, device) = (r["meter"]["id"].clone(), r["credentials"]["username"].as_str().unwrap().to_string());
    admin.ok(
        "mutation { createTariff(input: {name: \"Dear\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: SHARP, price: \"500\"}, {rate: PEAK, price: \"500\"}, {rate: FLAT, price: \"500\"}, {rate: VALLEY, price: \"500\"}]}}) { id } }",
        json!({}),
    );
    let tariff = admin.ok("{ tariffs { id } }", json!({}))["tariffs"][0]["id"].clone();
    admin.ok("mutation($t: ID!) { assignTariff(input: {tariffId: $t}) }", json!({"t": tariff}));
    let customer = admin.ok(r#"mutation { createCustomer(input: {name: "Shop"}) { id } }"#, json!({}))["createCustomer"]["id"].clone();
    admin.ok(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m], initialPurchase: {amount: \"1.00\", channel: CASH}}) { account { id } } }",
        json!({"c": customer, "m": meter}),
    );
    let d = |s: &str| Some(s.parse::<rust_decimal::Decimal>().unwrap());
    let t0 = chrono::Utc::now() - chrono::Duration::minutes(20);
    let closed = |at, kwh: &str| {
        reading(&device, at, mqtt_bridge::port::Readings { energy_total: d(kwh), status_word_3: Some(0), ..Default::default() })
    };
    // A kWh at 500 yuan: the account is exhausted and an automatic TRIP is queued.
    app.app.store.store_readings(vec![closed(t0, "10.00"), closed(t0 + chrono::Duration::minutes(1), "11.00")]).await.unwrap();
    let trips = || {
        let all = admin.ok("query($m: ID!) { commands(meterId: $m) { id kind source status } }", json!({"m": meter}))["commands"].clone();
        all.as_array().unwrap().iter().filter(|c| c["kind"] == "TRIP").cloned().collect::<Vec<_>>()
    };
    let first = trips();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0]["source"], "AUTO");
    let platform = app.app.store.platform();
    let tenant = admin.tenant.to_string();
    // The meter refuses it.
    platform.mark_failed(&tenant, first[0]["id"].as_str().unwrap(), "the meter answered an error").await.unwrap();
    let now = chrono::Utc::now();
    platform.evaluate_alarms(now).await.unwrap();
    let active = || admin.ok("{ alarms(activeOnly: true) { kind } }", json!({}))["alarms"].to_string();
    assert!(active().contains("TRIP_FAILED"), "{}", active());
    // Not at once: five minutes after the failure, once; not again while it is on its way.
    assert_eq!(platform.retry_failed_trips(now).await.unwrap(), 0);
    assert_eq!(platform.retry_failed_trips(now + chrono::Duration::minutes(6)).await.unwrap(), 1);
    assert_eq!(platform.retry_failed_trips(now + chrono::Duration::minutes(7)).await.unwrap(), 0);
    let again = trips();
    assert_eq!(again.len(), 2, "{again:?}");
    let retry = again.iter().find(|c| c["id"] != first[0]["id"]).unwrap().clone();
    assert_eq!(retry["source"], "AUTO");
    // That one times out too: the next try waits fifteen minutes.
    platform.mark_failed(&tenant, retry["id"].as_str().unwrap(), "no answer").await.unwrap();
    assert_eq!(platform.retry_failed_trips(now + chrono::Duration::minutes(10)).await.unwrap(), 0);
    assert_eq!(platform.retry_failed_trips(now + chrono::Duration::minutes(30)).await.unwrap(), 1);
    // The meter reports its relay open (cut off by hand, or the retry worked): the alarm
    // clears and nothing more is tried.
    for c in trips() {
        platform.mark_failed(&tenant, c["id"].as_str().unwrap(), "superseded in the test").await.unwrap();
    }
    let open = reading(
        &device,
        t0 + chrono::Duration::minutes(2),
        mqtt_bridge::port::Readings { energy_total: d("11.00"), status_word_3: Some(16), ..Default::default() },
    );
    app.app.store.store_readings(vec![open]).await.unwrap();
    platform.evaluate_alarms(chrono::Utc::now()).await.unwrap();
    assert!(!active().contains("TRIP_FAILED"), "{}", active());
    assert_eq!(platform.retry_failed_trips(now + chrono::Duration::hours(3)).await.unwrap(), 0);
}

/// The commands of a meter, newest first: (id, kind, status, reason, payload-less).
fn commands_of(admin: &tests::Admin, meter: &serde_json::Value) -> Vec<serde_json::Value> {
    admin.ok("query($m: ID!) { commands(meterId: $m, first: 100) { id kind status reason } }", json!({"m": meter}))["commands"]
        .as_array()
        .unwrap()
        .clone()
}

async fn until_status(admin: &tests::Admin, meter: &serde_json::Value, id: &serde_json::Value, want: &str) -> String {
    let mut last = String::new();
    for _ in 0..200 {
        last = commands_of(admin, meter)
            .iter()
            .find(|c| c["id"] == *id)
            .map(|c| c["status"].as_str().unwrap().to_string())
            .unwrap_or_default();
        if last == want {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_standard_meter_is_read_through_its_profile_learns_what_it_lacks_and_is_switched_by_plain_0x1c() {
    use mqtt_bridge::dlt645::Address;
    use mqtt_bridge::simulator::{Faults, SimConfig, SimDevice, SimHandle, SimMeter};
    let app = TestApp::spawn().await;
    let admin = app.admin("standard-meter").await;
    let p = admin.ok(r#"mutation { createProperty(input: {name: "Works"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let address = Address::from_u64(990_000_645).unwrap();
    let r = admin.ok(
        "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 3, linkType: FOUR_G}) { meter { id } credentials { username password } } }",
        json!({"p": p, "a": address.to_string()}),
    )["registerMeter"]
        .clone();
    let meter = r["meter"]["id"].clone();

    // The profile: what a read asks for (blocks the meter will refuse), plain 0x1C with its password.
    const CREATE: &str = "mutation($i: CreateDeviceProfileInput!) { createDeviceProfile(input: $i) { id name reads scheme passwordLevel operatorCode hasPassword builtin } }";
    let input = |reads: &str, password: Option<&str>| json!({"i": {"name": "Acme DTSD (plain)", "reads": reads, "scheme": "DLT645_PLAIN", "passwordLevel": 2, "password": password, "operatorCode": "00000001"}});
    let reads = "04000101 04000102 0001FF00 0201FF00 02030000 04000503";
    assert_eq!(admin.fails(CREATE, input(reads, Some("12345")))["field"], "password");
    assert_eq!(admin.fails(CREATE, input(reads, None))["field"], "password");
    assert_eq!(admin.fails(CREATE, input("0001FF0", Some("123456")))["field"], "reads");
    assert_eq!(admin.fails(CREATE, input("12345678", Some("123456")))["field"], "reads");
    let profile = admin.ok(CREATE, input(reads, Some("123456")))["createDeviceProfile"].clone();
    assert_eq!(
        (profile["scheme"].as_str(), profile["hasPassword"].as_bool(), profile["builtin"].as_bool()),
        (Some("DLT645_PLAIN"), Some(true), Some(false))
    );
    assert!(
        !admin.gql("{ deviceProfiles { id name reads hasPassword operatorCode } }", json!({})).to_string().contains("123456"),
        "the password is never shown"
    );
    let listed = admin.ok("{ deviceProfiles { id builtin } }", json!({}))["deviceProfiles"].clone();
    assert_eq!(listed.as_array().unwrap().iter().filter(|p| p["builtin"] == true).count(), 3, "{listed}");
    // Another tenant neither sees nor uses it.
    let other = app.admin("standard-other").await;
    assert_eq!(other.ok("{ deviceProfiles { id builtin } }", json!({}))["deviceProfiles"].as_array().unwrap().len(), 3);
    let set = "mutation($m: ID!, $p: ID!) { setMeterProfile(meterId: $m, profileId: $p) { profileId lacks { di } } }";
    assert_eq!(other.fails(set, json!({"m": meter, "p": profile["id"]}))["code"], "NOT_FOUND");
    assert_eq!(admin.fails(set, json!({"m": meter, "p": "no-such-profile"}))["field"], "profileId");
    admin.ok(set, json!({"m": meter, "p": profile["id"]}));
    // An operator of another property: the meter is not found in any spelling, profiles are
    // the company's (it may not make one).
    let roles = admin.ok("{ roles { id name } }", json!({}))["roles"].clone();
    let role = roles.as_array().unwrap().iter().find(|r| r["name"] == "operator").unwrap()["id"].clone();
    let elsewhere =
        admin.ok(r#"mutation { createProperty(input: {name: "Elsewhere"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    admin.ok(
        "mutation($r: ID!, $p: ID!) { createOperator(input: {username: \"elsewhere-op\", password: \"Strong-Pass 2026\", roleId: $r, propertyIds: [$p]}) { id } }",
        json!({"r": role, "p": elsewhere}),
    );
    let scoped = tests::Admin {
        http: admin.http,
        token: app.session(&admin.tenant, "elsewhere-op").await,
        tenant: admin.tenant.clone(),
        slug: admin.slug.clone(),
    };
    let id = meter.as_str().unwrap();
    for spelling in [id.to_string(), id.to_uppercase(), format!(" {id} "), id.replace('-', "")] {
        assert_eq!(
            scoped.fails("query($m: ID!) { meterProfile(meterId: $m) { profileId } }", json!({"m": spelling}))["code"],
            "NOT_FOUND",
            "{spelling}"
        );
        assert_eq!(scoped.fails(set, json!({"m": spelling, "p": "builtin-vl3des-1"}))["code"], "NOT_FOUND", "{spelling}");
        assert_eq!(
            scoped.fails("mutation($m: ID!) { forgetMeterLacks(meterId: $m) }", json!({"m": spelling}))["code"],
            "NOT_FOUND",
            "{spelling}"
        );
        assert_eq!(
            scoped.fails(
                "query($m: ID!) { meterFreezes(meterId: $m, from: \"2026-01-01T00:00:00Z\", to: \"2026-12-01T00:00:00Z\") { total } }",
                json!({"m": spelling})
            )["code"],
            "NOT_FOUND",
            "{spelling}"
        );
    }
    assert_eq!(scoped.fails(CREATE, input(reads, Some("123456")))["code"], "FORBIDDEN");

    // A plain standard meter behind a transparent 4G DTU: it answers, it never pushes.
    let handle = SimHandle::default();
    handle.set_faults(address, Faults { push_off: true, ..Default::default() });
    let device = SimDevice {
        username: r["credentials"]["username"].as_str().unwrap().into(),
        password: r["credentials"]["password"].as_str().unwrap().into(),
        meters: vec![SimMeter::new(address, true).standard()],
        gateway: false,
    };
    let config = SimConfig {
        broker: mqtt_bridge::session::BrokerAddr::parse(&format!("mqtt://{}:{}", app.app.broker.host, app.app.broker.port)).unwrap(),
        interval: std::time::Duration::from_secs(1),
        clock_offset: chrono::FixedOffset::east_opt(8 * 3600).unwrap(),
        rounds: None,
    };
    let sim = tokio::spawn(mqtt_bridge::simulator::run(config, vec![device], handle.clone()));
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;

    // Read now: the blocks are refused (no requested data) — the read is confirmed by what was
    // answered, names what was refused, and the meter's registers are read at once instead.
    let errors_before = app.app.stats.error_replies.load(std::sync::atomic::Ordering::Relaxed);
    let read =
        admin.ok("mutation($m: ID!) { readMeterNow(input: {meterId: $m}) { id } }", json!({"m": meter}))["readMeterNow"]["id"].clone();
    assert_eq!(until_status(&admin, &meter, &read, "CONFIRMED").await, "CONFIRMED");
    let first = commands_of(&admin, &meter).into_iter().find(|c| c["id"] == read).unwrap();
    let reason = first["reason"].as_str().unwrap();
    assert!(reason.contains("0001FF00: no_requested_data") && reason.contains("0201FF00: no_requested_data"), "{reason}");
    assert!(app.app.stats.error_replies.load(std::sync::atomic::Ordering::Relaxed) >= errors_before + 2, "error replies are counted");
    let lacks =
        admin.ok("query($m: ID!) { meterProfile(meterId: $m) { profileId lacks { di reason } } }", json!({"m": meter}))["meterProfile"]
            .clone();
    assert_eq!(lacks["profileId"], profile["id"]);
    let lacked: Vec<&str> = lacks["lacks"].as_array().unwrap().iter().map(|l| l["di"].as_str().unwrap()).collect();
    assert_eq!(lacked, vec!["0001FF00", "0201FF00"]);
    let follow = TestApp::eventually(std::time::Duration::from_secs(20), || {
        let all = commands_of(&admin, &meter);
        let first = read.clone();
        async move { all.iter().any(|c| c["kind"] == "READ" && c["id"] != first && c["status"] == "CONFIRMED") }
    })
    .await;
    assert!(follow, "the registers' read: {:?}", commands_of(&admin, &meter));
    let live =
        admin
            .ok("query($m: ID!) { meter(id: $m) { live { energyTotal energySharp voltageA voltageC activePower } } }", json!({"m": meter}))
            ["meter"]["live"]
            .clone();
    assert!(
        live["energyTotal"].is_string()
            && live["energySharp"].is_string()
            && live["voltageC"].is_string()
            && live["activePower"].is_string(),
        "{live}"
    );

    // The next read asks for the registers directly: confirmed with nothing refused.
    let again =
        admin.ok("mutation($m: ID!) { readMeterNow(input: {meterId: $m}) { id } }", json!({"m": meter}))["readMeterNow"]["id"].clone();
    assert_eq!(until_status(&admin, &meter, &again, "CONFIRMED").await, "CONFIRMED");
    let second = commands_of(&admin, &meter).into_iter().find(|c| c["id"] == again).unwrap();
    assert!(!second["reason"].as_str().unwrap().contains("refused"), "{second}");

    // Plain 0x1C with the profile's password: the relay opens, and a read confirms the trip.
    let trip = admin.ok("mutation($m: ID!) { tripMeter(input: {meterId: $m}) { id } }", json!({"m": meter}))["tripMeter"]["id"].clone();
    assert_eq!(until_status(&admin, &meter, &trip, "ACKNOWLEDGED").await, "ACKNOWLEDGED");
    assert_eq!(handle.relay(address), Some((true, false)));
    admin.ok("mutation($m: ID!) { readMeterNow(input: {meterId: $m}) { id } }", json!({"m": meter}));
    let state = until_status(&admin, &meter, &trip, "CONFIRMED").await;
    let live = admin.ok("query($m: ID!) { meter(id: $m) { live { readAt relayOpen } } }", json!({"m": meter}));
    assert_eq!(state, "CONFIRMED", "the relay state read back confirms the trip: {:?} {live}", commands_of(&admin, &meter));
    let close = admin.ok("mutation($m: ID!) { closeMeter(input: {meterId: $m}) { id } }", json!({"m": meter}))["closeMeter"]["id"].clone();
    assert_eq!(until_status(&admin, &meter, &close, "ACKNOWLEDGED").await, "ACKNOWLEDGED");
    assert_eq!(handle.relay(address), Some((false, false)));

    // A profile with the wrong password: the meter refuses, the command fails with its reason.
    let wrong = admin.ok(CREATE, json!({"i": {"name": "Wrong", "reads": reads, "scheme": "DLT645_PLAIN", "password": "000000"}}))["createDeviceProfile"]["id"].clone();
    admin.ok(set, json!({"m": meter, "p": wrong}));
    let refused = admin.ok("mutation($m: ID!) { tripMeter(input: {meterId: $m}) { id } }", json!({"m": meter}))["tripMeter"]["id"].clone();
    assert_eq!(until_status(&admin, &meter, &refused, "FAILED").await, "FAILED");
    assert_eq!(handle.relay(address), Some((false, false)));
    // The built-in standard profile holds no password: nothing is sent, the reason says why.
    admin.ok(set, json!({"m": meter, "p": "builtin-dlt645-2007"}));
    let none = admin.ok("mutation($m: ID!) { tripMeter(input: {meterId: $m}) { id } }", json!({"m": meter}))["tripMeter"]["id"].clone();
    assert_eq!(until_status(&admin, &meter, &none, "FAILED").await, "FAILED");
    let why = commands_of(&admin, &meter).into_iter().find(|c| c["id"] == none).unwrap()["reason"].as_str().unwrap().to_string();
    assert!(why.contains("no password"), "{why}");
    // Forgetting what it lacks: the next read asks for the blocks again.
    assert_eq!(admin.ok("mutation($m: ID!) { forgetMeterLacks(meterId: $m) }", json!({"m": meter}))["forgetMeterLacks"], 2);
    sim.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_sync_is_confirmed_only_by_a_valid_meter_clock_within_tolerance() {
    use mqtt_bridge::port::{ControlReply, ReadingSink};
    let app = TestApp::spawn().await;
    let admin = app.admin("clock").await;
    let p = admin.ok(r#"mutation { createProperty(input: {name: "Mall"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let r = admin.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000000971\", phases: 1, linkType: FOUR_G}) { meter { id } credentials { username } } }",
        json!({"p": p}),
    )["registerMeter"]
        .clone();
    let (meter, device) = (r["meter"]["id"].clone(), r["credentials"]["username"].as_str().unwrap().to_string());
    let sync =
        admin.ok("mutation($m: ID!) { syncMeterTime(input: {meterId: $m}) { id } }", json!({"m": meter}))["syncMeterTime"]["id"].clone();
    assert_eq!(until_status(&admin, &meter, &sync, "SENT").await, "SENT", "sent to the (absent) device");
    let address = mqtt_bridge::dlt645::Address::parse("000000000971").unwrap();
    let answer = |clock: Option<chrono::NaiveDateTime>| ControlReply {
        device: device.clone(),
        address,
        function: mqtt_bridge::dlt645::function::READ,
        refused: None,
        received_at: chrono::Utc::now(),
        di: Some(mqtt_bridge::dlt645::di::TIME),
        clock,
    };
    let local = |off: i64| (chrono::Utc::now() + chrono::Duration::seconds(off)).with_timezone(&chrono_tz::Asia::Shanghai).naive_local();
    // A push without a valid clock (the meter said 0000-00-00), then a clock two minutes off:
    // neither confirms it.
    app.app.store.replies(vec![answer(None)]).await;
    app.app.store.replies(vec![answer(Some(local(120)))]).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(until_status(&admin, &meter, &sync, "SENT").await, "SENT");
    // A clock within 30 s does.
    app.app.store.replies(vec![answer(Some(local(5)))]).await;
    assert_eq!(until_status(&admin, &meter, &sync, "CONFIRMED").await, "CONFIRMED");
}

/// The DDSY1352 reads, the relay coil at 0000H read as status word 3, and the coil writes.
const MODBUS_MAP: &str = r#"{"reads": [
  {"di": "00010000", "function": 3, "register": "0x0000", "format": "U32", "decimals": 2},
  {"di": "00010100", "function": 3, "register": "0x0002", "format": "U32", "decimals": 2},
  {"di": "00010200", "function": 3, "register": "0x0004", "format": "U32", "decimals": 2},
  {"di": "00010300", "function": 3, "register": "0x0006", "format": "U32", "decimals": 2},
  {"di": "00010400", "function": 3, "register": "0x0008", "format": "U32", "decimals": 2},
  {"di": "02010100", "function": 3, "register": "000BH", "format": "U16", "decimals": 1},
  {"di": "02020100", "function": 3, "register": "000CH", "format": "U16", "decimals": 2},
  {"di": "02030000", "function": 3, "register": "000DH", "format": "S16", "decimals": 3},
  {"di": "02060000", "function": 3, "register": "0010H", "format": "S16", "decimals": 3},
  {"di": "02800002", "function": 3, "register": "0011H", "format": "U16", "decimals": 2},
  {"di": "04000503", "function": 1, "register": 0, "format": "RELAY", "open": 1}],
 "trip": {"function": 5, "register": 0, "value": "0xFF00"},
 "close": {"function": 5, "register": 0, "value": 0}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_serial_server_carries_a_standard_meter_and_a_modbus_meter_read_on_demand_and_on_schedule_and_switched() {
    use mqtt_bridge::dlt645::Address;
    use mqtt_bridge::serial_sim::{BusMeter, run_bus};
    use mqtt_bridge::simulator::{Faults, SimHandle, SimMeter};
    use tokio::io::AsyncReadExt;
    let app = TestApp::spawn().await;
    let collector = app.app.serial_addr.expect("the collector runs in tests");
    let admin = app.admin("serial-bus").await;
    let p = admin.ok(r#"mutation { createProperty(input: {name: "Dorm 3"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let gw = admin.ok(
        "mutation($p: ID!) { registerGateway(input: {propertyId: $p, serial: \"USR-TCP232-410S\"}) { gateway { id } credentials { username password } } }",
        json!({"p": p}),
    )["registerGateway"]
        .clone();
    let (user, password) = (gw["credentials"]["username"].as_str().unwrap(), gw["credentials"]["password"].as_str().unwrap());
    const REGISTER: &str = "mutation($p: ID!, $g: ID!, $a: String!, $n: Int!) { registerMeter(input: {propertyId: $p, gatewayId: $g, address: $a, phases: $n, linkType: SERIAL}) { meter { id } } }";
    let standard_address = Address::from_u64(990_000_485).unwrap();
    let modbus_address = Address::from_u64(7).unwrap();
    let standard =
        admin.ok(REGISTER, json!({"p": p, "g": gw["gateway"]["id"], "a": standard_address.to_string(), "n": 3}))["registerMeter"]["meter"]
            ["id"]
            .clone();
    let modbus = admin.ok(REGISTER, json!({"p": p, "g": gw["gateway"]["id"], "a": modbus_address.to_string(), "n": 1}))["registerMeter"]["meter"]
        ["id"]
        .clone();

    // Profiles: plain 0x1C for the standard meter; the register map for the Modbus one.
    const CREATE: &str = "mutation($i: CreateDeviceProfileInput!) { createDeviceProfile(input: $i) { id scheme reads registerMap } }";
    let plain = admin.ok(CREATE, json!({"i": {"name": "DTSD on RS-485", "reads": "04000101 04000102 00010000 02010100 02030000 04000503", "scheme": "DLT645_PLAIN", "password": "123456"}}))["createDeviceProfile"]["id"].clone();
    let modbus_input = |map: &str| json!({"i": {"name": "DDSY1352 + relay coil", "scheme": "MODBUS", "registerMap": map}});
    // A map that would round energy, a map with a misspelt field, a map on a plain profile.
    let inexact = MODBUS_MAP.replacen(r#""format": "U32", "decimals": 2"#, r#""format": "U32", "decimals": 3"#, 1);
    assert_eq!(admin.fails(CREATE, modbus_input(&inexact))["field"], "registerMap");
    let e = admin.gql(CREATE, modbus_input(&inexact));
    assert!(e["errors"][0]["message"].as_str().unwrap().contains("reads[0] (00010000)"), "{e}");
    assert_eq!(admin.fails(CREATE, modbus_input(&MODBUS_MAP.replace("decimals", "scale")))["field"], "registerMap");
    assert_eq!(
        admin.fails(
            CREATE,
            json!({"i": {"name": "x", "reads": "00010000", "scheme": "DLT645_PLAIN", "password": "123456", "registerMap": MODBUS_MAP}})
        )["field"],
        "registerMap"
    );
    let mapped = admin.ok(CREATE, modbus_input(MODBUS_MAP))["createDeviceProfile"].clone();
    assert_eq!(mapped["scheme"], "MODBUS");
    assert_eq!(mapped["reads"].as_array().unwrap().len(), 11, "{mapped}");
    let set = "mutation($m: ID!, $p: ID!) { setMeterProfile(meterId: $m, profileId: $p) { profileId } }";
    // A Modbus profile on a meter whose address is no unit id is refused.
    assert_eq!(admin.fails(set, json!({"m": standard, "p": mapped["id"]}))["field"], "profileId");
    admin.ok(set, json!({"m": standard, "p": plain}));
    admin.ok(set, json!({"m": modbus, "p": mapped["id"]}));
    // The built-in DDSY1352 profile reads but cannot switch: a trip fails with the reason.
    assert!(admin.ok("{ deviceProfiles { id } }", json!({}))["deviceProfiles"].to_string().contains("builtin-acrel-ddsy1352"));

    // Walls at the collector: a wrong password, another device's name, and garbage are cut off
    // before any MQTT session exists.
    let refused_before = app.app.stats.serial_refused.load(std::sync::atomic::Ordering::Relaxed);
    // A 4G meter's own (valid) login speaks for no bus either.
    let four_g = admin.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000990000486\", phases: 1, linkType: FOUR_G}) { credentials { username password } } }",
        json!({"p": p}),
    )["registerMeter"]["credentials"]
        .clone();
    let four_g = format!("{}:{}\n", four_g["username"].as_str().unwrap(), four_g["password"].as_str().unwrap());
    for packet in [format!("{user}:wrong-password\n"), "someone-else:whatever\n".to_string(), "no separator at all\n".to_string(), four_g] {
        let mut s = tokio::net::TcpStream::connect(collector).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut s, packet.as_bytes()).await.unwrap();
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut buf)).await.expect("closed in time").unwrap_or(0);
        assert_eq!(n, 0, "the collector closes the connection: {packet:?}");
    }
    assert_eq!(app.app.stats.serial_refused.load(std::sync::atomic::Ordering::Relaxed), refused_before + 4);

    // The bus: both meters behind one serial server, neither ever pushes.
    let handle = SimHandle::recording();
    let meters =
        vec![BusMeter::Dlt645(SimMeter::new(standard_address, true).standard()), BusMeter::Modbus(SimMeter::new(modbus_address, false))];
    let registration = format!("{user}:{password}");
    let offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let bus = tokio::spawn({
        let handle = handle.clone();
        async move { run_bus(collector, &registration, meters, handle, offset).await }
    });
    assert!(
        TestApp::eventually(std::time::Duration::from_secs(10), || {
            let n = app.app.stats.serial_buses.load(std::sync::atomic::Ordering::Relaxed);
            async move { n == 1 }
        })
        .await,
        "the serial server is connected"
    );

    // Read now, both meters: each read confirmed by its own answers.
    let read = |m: &serde_json::Value| {
        admin.ok("mutation($m: ID!) { readMeterNow(input: {meterId: $m}) { id } }", json!({"m": m}))["readMeterNow"]["id"].clone()
    };
    let (r1, r2) = (read(&standard), read(&modbus));
    assert_eq!(until_status(&admin, &standard, &r1, "CONFIRMED").await, "CONFIRMED", "{:?}", commands_of(&admin, &standard));
    assert_eq!(until_status(&admin, &modbus, &r2, "CONFIRMED").await, "CONFIRMED", "{:?}", commands_of(&admin, &modbus));
    // Frequency has no register on this meter: exception 02, learned as lacking, named in the reason.
    let reason = commands_of(&admin, &modbus).into_iter().find(|c| c["id"] == r2).unwrap()["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("02800002: no_requested_data"), "{reason}");
    let lacks =
        admin.ok("query($m: ID!) { meterProfile(meterId: $m) { lacks { di } } }", json!({"m": modbus}))["meterProfile"]["lacks"].clone();
    assert_eq!(lacks, json!([{"di": "02800002"}]));
    const LIVE: &str = "query($m: ID!) { meter(id: $m) { live { energyTotal energySharp energyValley voltageA currentA activePower powerFactor relayOpen } } }";
    let live = admin.ok(LIVE, json!({"m": modbus}))["meter"]["live"].clone();
    let answered = handle.published().into_iter().rfind(|p| p.address == modbus_address).expect("the Modbus meter answered");
    assert_eq!(live["energyTotal"].as_str(), answered.values.energy_total.map(|d| d.to_string()).as_deref(), "exact: {live}");
    for field in ["energySharp", "energyValley", "voltageA", "currentA", "activePower", "powerFactor"] {
        assert!(live[field].is_string(), "{field}: {live}");
    }
    assert_eq!(live["relayOpen"], false);
    let live = admin.ok(LIVE, json!({"m": standard}))["meter"]["live"].clone();
    assert!(live["energyTotal"].is_string() && live["voltageA"].is_string(), "{live}");

    // On schedule: with a 10 s reading interval the server's own polling queues reads for both;
    // they are sent and confirmed the same way. Then the schedule goes back to daily.
    const SCHEDULE: &str = "mutation($s: Int!) { setReadingSchedule(readingIntervalSeconds: $s, lostAfterIntervals: 100) { id } }";
    admin.ok(SCHEDULE, json!({"s": 10}));
    for m in [&standard, &modbus] {
        let polled = TestApp::eventually(std::time::Duration::from_secs(45), || {
            let all = commands_of(&admin, m);
            let (a, b) = (r1.clone(), r2.clone());
            async move { all.iter().any(|c| c["kind"] == "READ" && c["status"] == "CONFIRMED" && c["id"] != a && c["id"] != b) }
        })
        .await;
        assert!(polled, "a scheduled read: {:?}", commands_of(&admin, m));
    }
    admin.ok(SCHEDULE, json!({"s": 86_400}));

    // Trip and close the Modbus meter through its coil; the next read confirms from the coil.
    let trip = admin.ok("mutation($m: ID!) { tripMeter(input: {meterId: $m}) { id } }", json!({"m": modbus}))["tripMeter"]["id"].clone();
    assert_eq!(until_status(&admin, &modbus, &trip, "ACKNOWLEDGED").await, "ACKNOWLEDGED", "{:?}", commands_of(&admin, &modbus));
    assert_eq!(handle.relay(modbus_address), Some((true, false)));
    // A meter that never pushes is read back at once after the acknowledgement.
    assert_eq!(until_status(&admin, &modbus, &trip, "CONFIRMED").await, "CONFIRMED", "{:?}", commands_of(&admin, &modbus));
    assert_eq!(admin.ok(LIVE, json!({"m": modbus}))["meter"]["live"]["relayOpen"], true);
    let close = admin.ok("mutation($m: ID!) { closeMeter(input: {meterId: $m}) { id } }", json!({"m": modbus}))["closeMeter"]["id"].clone();
    assert_eq!(until_status(&admin, &modbus, &close, "ACKNOWLEDGED").await, "ACKNOWLEDGED");
    assert_eq!(handle.relay(modbus_address), Some((false, false)));
    // The standard meter on the same bus is switched in plain 0x1C.
    let trip2 = admin.ok("mutation($m: ID!) { tripMeter(input: {meterId: $m}) { id } }", json!({"m": standard}))["tripMeter"]["id"].clone();
    assert_eq!(until_status(&admin, &standard, &trip2, "CONFIRMED").await, "CONFIRMED", "{:?}", commands_of(&admin, &standard));
    assert_eq!(handle.relay(standard_address), Some((true, false)));
    // A trip still unconfirmed when a close follows is superseded: never sent again, so it
    // cannot open the relay after the close.
    handle.set_faults(standard_address, Faults { silent: true, ..Default::default() });
    let stale = admin.ok("mutation($m: ID!) { tripMeter(input: {meterId: $m}) { id } }", json!({"m": standard}))["tripMeter"]["id"].clone();
    assert_eq!(until_status(&admin, &standard, &stale, "SENT").await, "SENT");
    handle.set_faults(standard_address, Faults::default());
    let close2 =
        admin.ok("mutation($m: ID!) { closeMeter(input: {meterId: $m}) { id } }", json!({"m": standard}))["closeMeter"]["id"].clone();
    assert_eq!(until_status(&admin, &standard, &close2, "CONFIRMED").await, "CONFIRMED", "{:?}", commands_of(&admin, &standard));
    assert_eq!(until_status(&admin, &standard, &stale, "CANCELLED").await, "CANCELLED", "{:?}", commands_of(&admin, &standard));
    assert_eq!(handle.relay(standard_address), Some((false, false)));
    // A time sync has no Modbus form: it fails with the reason, nothing goes on the bus.
    let sync =
        admin.ok("mutation($m: ID!) { syncMeterTime(input: {meterId: $m}) { id } }", json!({"m": modbus}))["syncMeterTime"]["id"].clone();
    assert_eq!(until_status(&admin, &modbus, &sync, "FAILED").await, "FAILED");
    // The built-in DDSY1352 profile has no relay writes: a trip fails and says what to do.
    admin.ok(set, json!({"m": modbus, "p": "builtin-acrel-ddsy1352"}));
    let none = admin.ok("mutation($m: ID!) { tripMeter(input: {meterId: $m}) { id } }", json!({"m": modbus}))["tripMeter"]["id"].clone();
    assert_eq!(until_status(&admin, &modbus, &none, "FAILED").await, "FAILED");
    let why = commands_of(&admin, &modbus).into_iter().find(|c| c["id"] == none).unwrap()["reason"].as_str().unwrap().to_string();
    assert!(why.contains("no trip write"), "{why}");

    // A meter that falls silent is given up after its retries without blocking the bus: the
    // timeouts are counted and the other meter is still read.
    handle.set_faults(modbus_address, Faults { silent: true, ..Default::default() });
    let timeouts = app.app.stats.serial_timeouts.load(std::sync::atomic::Ordering::Relaxed);
    read(&modbus);
    let after = read(&standard);
    assert_eq!(until_status(&admin, &standard, &after, "CONFIRMED").await, "CONFIRMED");
    assert!(app.app.stats.serial_timeouts.load(std::sync::atomic::Ordering::Relaxed) > timeouts, "the silent meter's timeouts are counted");

    // The serial server's login is revoked while its bus is connected: the collector checks
    // the login again every few seconds (whatever the broker enforces) and closes the bus.
    admin.ok("mutation($g: ID!) { revokeDeviceCredential(input: {gatewayId: $g}) }", json!({"g": gw["gateway"]["id"]}));
    let ended = tokio::time::timeout(std::time::Duration::from_secs(20), bus).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "the collector closed the bus: {ended:?}");
    assert_eq!(app.app.stats.serial_buses.load(std::sync::atomic::Ordering::Relaxed), 0);
    // Reconnecting with the revoked login is refused at registration.
    let mut s = tokio::net::TcpStream::connect(collector).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut s, format!("{user}:{password}\n").as_bytes()).await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut buf)).await.expect("closed in time").unwrap_or(0);
    assert_eq!(n, 0, "a revoked login gets no bus");
}

/// An Acrel-IoT-style message map: the device's local time, energy, voltage, current, power in
/// watts (shifted three places to kW), power factor and the switch (0 = open).
const JSON_MAP: &str = r#"{"time": {"field": "time", "format": "%Y-%m-%d %H:%M:%S"},
  "values": [
    {"field": "EPI", "di": "00010000"},
    {"field": "Ua", "di": "02010100"},
    {"field": "Ia", "di": "02020100"},
    {"field": "P", "di": "02030000", "shift": 3},
    {"field": "PF", "di": "02060000"},
    {"field": "switch", "di": "04000503", "open": "0"}],
  "trip": "{\"cmd\": \"switch\", \"value\": 0}",
  "close": "{\"cmd\": \"switch\", \"value\": 1}",
  "read": "{\"cmd\": \"report\"}"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_vendor_json_meter_is_read_exactly_with_its_own_time_and_switched_by_its_own_messages() {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU8, Ordering};
    let app = TestApp::spawn().await;
    let admin = app.admin("vendor-json").await;
    let p = admin.ok(r#"mutation { createProperty(input: {name: "Mall"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let r = admin.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000990000043\", phases: 1, linkType: FOUR_G}) { meter { id } credentials { username password } } }",
        json!({"p": p}),
    )["registerMeter"]
        .clone();
    let meter = r["meter"]["id"].clone();
    let (user, password) =
        (r["credentials"]["username"].as_str().unwrap().to_string(), r["credentials"]["password"].as_str().unwrap().to_string());

    const CREATE: &str = "mutation($i: CreateDeviceProfileInput!) { createDeviceProfile(input: $i) { id scheme reads jsonMap } }";
    let input = |map: &str| json!({"i": {"name": "Acrel IoT 4G (JSON)", "scheme": "VENDOR_JSON", "jsonMap": map}});
    assert_eq!(admin.fails(CREATE, input(&JSON_MAP.replace(r#""shift": 3"#, r#""shift": 9"#)))["field"], "jsonMap");
    assert_eq!(
        admin.fails(CREATE, input(&JSON_MAP.replace("\"Ua\", \"di\": \"02010100\"", "\"Ua\", \"di\": \"0201010\"")))["field"],
        "jsonMap"
    );
    assert_eq!(
        admin.fails(CREATE, json!({"i": {"name": "x", "scheme": "MODBUS", "registerMap": MODBUS_MAP, "jsonMap": JSON_MAP}}))["field"],
        "jsonMap"
    );
    let profile = admin.ok(CREATE, input(JSON_MAP))["createDeviceProfile"].clone();
    assert_eq!((profile["scheme"].as_str(), profile["reads"].as_array().unwrap().len()), (Some("VENDOR_JSON"), 6), "{profile}");
    admin.ok(
        "mutation($m: ID!, $p: ID!) { setMeterProfile(meterId: $m, profileId: $p) { profileId } }",
        json!({"m": meter, "p": profile["id"]}),
    );
    // Billed like any meter: a flat 1.00 tariff and a prepaid account with 100.00.
    crate::money::flat_tariff(&admin, "1.00");
    let customer = admin.ok(r#"mutation { createCustomer(input: {name: "JSON shop", phone: "13800001111"}) { id } }"#, json!({}))
        ["createCustomer"]["id"]
        .clone();
    let account = admin.ok(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m], initialPurchase: {amount: \"100.00\", channel: CASH}, thresholds: {creditLimit: \"0\", alarm1: \"20.00\", alarm2: \"10.00\"}}) { account { id } } }",
        json!({"c": customer, "m": meter}),
    )["openAccount"]["account"]["id"]
        .clone();

    // The device: publishes its message, obeys its own switch and report commands.
    let switch = Arc::new(AtomicU8::new(1));
    let mut options = MqttOptions::new(user.clone(), app.app.broker.host.clone(), app.app.broker.port);
    options.set_credentials(user.clone(), password.clone());
    let (client, mut events) = AsyncClient::new(options, 32);
    let (up, down) = (format!("vl/up/{user}"), format!("vl/down/{user}"));
    client.subscribe(down.clone(), QoS::AtLeastOnce).await.unwrap();
    // One message per second of the device's clock at most (a reading is kept once per read time).
    let last = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let stamp = move || {
        let now = chrono::Utc::now().timestamp();
        let at = now.max(last.fetch_add(0, Ordering::SeqCst) + 1);
        last.fetch_max(at, Ordering::SeqCst);
        (chrono::DateTime::from_timestamp(at, 0).unwrap() + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M:%S").to_string()
    };
    let message = {
        let stamp = stamp.clone();
        move |switch: u8| {
            let local = stamp();
            format!(r#"{{"time": "{local}", "EPI": 1234.56, "Ua": 220.1, "Ia": "5.12", "P": 1126, "PF": 0.987, "switch": {switch}}}"#)
        }
    };
    let device = tokio::spawn({
        let (client, switch, up, message) = (client.clone(), switch.clone(), up.clone(), message.clone());
        async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) if p.topic == down => {
                        let cmd: serde_json::Value = serde_json::from_slice(&p.payload).unwrap_or_default();
                        if cmd["cmd"] == "switch" {
                            switch.store(cmd["value"].as_u64().unwrap_or(1) as u8, Ordering::SeqCst);
                        }
                        if cmd["cmd"] == "switch" || cmd["cmd"] == "report" {
                            let _ = client.publish(up.clone(), QoS::AtLeastOnce, false, message(switch.load(Ordering::SeqCst))).await;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
                }
            }
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    client.publish(up.clone(), QoS::AtLeastOnce, false, message(1)).await.unwrap();
    const LIVE: &str =
        "query($m: ID!) { meter(id: $m) { live { readAt energyTotal voltageA currentA activePower powerFactor relayOpen } } }";
    let live = || admin.ok(LIVE, json!({"m": meter}))["meter"]["live"].clone();
    assert!(
        TestApp::eventually(std::time::Duration::from_secs(10), || {
            let l = live();
            async move { l["energyTotal"] == "1234.56" }
        })
        .await,
        "{}",
        live()
    );
    let l = live();
    let number = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<rust_decimal::Decimal>().ok());
    let want = |s: &str| s.parse::<rust_decimal::Decimal>().ok();
    assert_eq!(
        (number(&l["voltageA"]), number(&l["currentA"]), number(&l["activePower"]), number(&l["powerFactor"]), &l["relayOpen"]),
        (want("220.1"), want("5.12"), want("1.126"), want("0.987"), &json!(false)),
        "exact, from the literals: {l}"
    );

    // Bad input: a field with more places than its item is refused alone; a broken message
    // changes nothing.
    let rejected = app.app.stats.rejected.load(std::sync::atomic::Ordering::Relaxed);
    let local = stamp();
    client.publish(up.clone(), QoS::AtLeastOnce, false, format!(r#"{{"time": "{local}", "EPI": 1234.567, "Ua": 221.5}}"#)).await.unwrap();
    client.publish(up.clone(), QoS::AtLeastOnce, false, "{\"EPI\": ").await.unwrap();
    assert!(
        TestApp::eventually(std::time::Duration::from_secs(10), || {
            let l = live();
            async move { l["voltageA"] == "221.5" }
        })
        .await
    );
    assert_eq!(live()["energyTotal"], "1234.56", "the refused field changed nothing");
    assert!(
        TestApp::eventually(std::time::Duration::from_secs(5), || {
            let n = app.app.stats.rejected.load(std::sync::atomic::Ordering::Relaxed);
            async move { n >= rejected + 2 }
        })
        .await,
        "the refused field and the broken message are counted"
    );

    // Read now: the device's report command; confirmed by the message that answers it.
    let read =
        admin.ok("mutation($m: ID!) { readMeterNow(input: {meterId: $m}) { id } }", json!({"m": meter}))["readMeterNow"]["id"].clone();
    assert_eq!(until_status(&admin, &meter, &read, "CONFIRMED").await, "CONFIRMED", "{:?}", commands_of(&admin, &meter));
    // Trip and close by the device's own messages, confirmed by the switch it reports.
    let trip = admin.ok("mutation($m: ID!) { tripMeter(input: {meterId: $m}) { id } }", json!({"m": meter}))["tripMeter"]["id"].clone();
    assert_eq!(until_status(&admin, &meter, &trip, "CONFIRMED").await, "CONFIRMED", "{:?}", commands_of(&admin, &meter));
    assert_eq!(switch.load(Ordering::SeqCst), 0);
    assert_eq!(live()["relayOpen"], true);
    let close = admin.ok("mutation($m: ID!) { closeMeter(input: {meterId: $m}) { id } }", json!({"m": meter}))["closeMeter"]["id"].clone();
    assert_eq!(until_status(&admin, &meter, &close, "CONFIRMED").await, "CONFIRMED");
    assert_eq!(switch.load(Ordering::SeqCst), 1);
    // No time sync in this vendor's messages: FAILED with the reason.
    let sync =
        admin.ok("mutation($m: ID!) { syncMeterTime(input: {meterId: $m}) { id } }", json!({"m": meter}))["syncMeterTime"]["id"].clone();
    assert_eq!(until_status(&admin, &meter, &sync, "FAILED").await, "FAILED");

    // Two more kWh on the register: 2.00 charged through the ledger.
    let before = crate::money::account(&admin, &account);
    client
        .publish(up.clone(), QoS::AtLeastOnce, false, format!(r#"{{"time": "{}", "EPI": 1236.56, "switch": 1}}"#, stamp()))
        .await
        .unwrap();
    assert!(
        TestApp::eventually(std::time::Duration::from_secs(10), || {
            let a = crate::money::account(&admin, &account);
            async move { a["balance"] == "98.00" }
        })
        .await,
        "before {before}, after {}",
        crate::money::account(&admin, &account)
    );
    let after = crate::money::account(&admin, &account);
    assert_eq!(after["ledgerTotal"], after["balance"], "the balance is the sum of its entries: {after}");

    // Another tenant's device publishing the same message is not read through this map.
    let other = app.admin("vendor-json-other").await;
    let op = other.ok(r#"mutation { createProperty(input: {name: "Elsewhere"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let o = other.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000990000043\", phases: 1, linkType: FOUR_G}) { meter { id } credentials { username password } } }",
        json!({"p": op}),
    )["registerMeter"]
        .clone();
    let ou = o["credentials"]["username"].as_str().unwrap().to_string();
    let mut options = MqttOptions::new(ou.clone(), app.app.broker.host.clone(), app.app.broker.port);
    options.set_credentials(ou.clone(), o["credentials"]["password"].as_str().unwrap());
    let (oc, mut oe) = AsyncClient::new(options, 8);
    let drive = tokio::spawn(async move { while oe.poll().await.is_ok() {} });
    oc.publish(format!("vl/up/{ou}"), QoS::AtLeastOnce, false, message(0)).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let theirs =
        other.ok("query($m: ID!) { meter(id: $m) { live { energyTotal } } }", json!({"m": o["meter"]["id"]}))["meter"]["live"].clone();
    assert!(theirs.is_null() || theirs["energyTotal"].is_null(), "{theirs}");
    assert_eq!(live()["relayOpen"], false, "ours untouched");
    drive.abort();
    device.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_meters_own_daily_freeze_is_read_back_compared_with_the_platforms_and_used_by_the_bill() {
    use chrono::TimeZone;
    use mqtt_bridge::dlt645::{Address, Di, Value, read_reply};
    use rumqttc::{AsyncClient, MqttOptions, QoS};
    let app = TestApp::spawn().await;
    let admin = app.admin("meter-freezes").await;
    let p = admin.ok(r#"mutation { createProperty(input: {name: "Works"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let address = Address::from_u64(777).unwrap();
    let r = admin.ok(
        "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 3, linkType: FOUR_G, billingMode: POST_PAID}) { meter { id } credentials { username password } } }",
        json!({"p": p, "a": address.to_string()}),
    )["registerMeter"]
        .clone();
    let meter = r["meter"]["id"].clone();
    let (user, password) =
        (r["credentials"]["username"].as_str().unwrap().to_string(), r["credentials"]["password"].as_str().unwrap().to_string());
    crate::money::flat_tariff(&admin, "1.00");
    let customer = admin.ok(r#"mutation { createCustomer(input: {name: "Works Ltd"}) { id } }"#, json!({}))["createCustomer"]["id"].clone();
    let account = admin.ok(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m], propertyFee: \"0\"}) { account { id } } }",
        json!({"c": customer, "m": meter}),
    )["openAccount"]["account"]["id"]
        .clone();

    // October 2026 (Shanghai): readings at 00:05 on the 1st, 23:45 on the 31st, 00:20 on 1 Nov.
    let local =
        |mo: u32, d: u32, h: u32, mi: u32| chrono::Utc.with_ymd_and_hms(2026, mo, d, h, mi, 0).unwrap() - chrono::Duration::hours(8);
    let reading = |at: chrono::DateTime<chrono::Utc>, total: &str| mqtt_bridge::port::MeterReading {
        device: user.clone(),
        address,
        read_at: mqtt_bridge::port::ReadTime::Instant(at),
        received_at: chrono::Utc::now(),
        values: mqtt_bridge::port::Readings { energy_total: Some(total.parse().unwrap()), ..Default::default() },
    };
    app.app
        .store
        .store_readings(vec![
            reading(local(10, 1, 0, 5), "1000.00"),
            reading(local(10, 31, 23, 45), "1300.00"),
            reading(local(11, 1, 0, 20), "1302.00"),
        ])
        .await
        .unwrap();
    // The platform's own daily freeze at 1 Nov 00:00: its last reading before (1300.00).
    app.app.store.tenant(admin.tenant.clone()).freeze("DAILY", local(11, 1, 0, 0)).await.unwrap();

    // The meter answers a read of its daily freezes 1 and 2 (time, then energy: total and tariffs).
    let num = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
    let mut payload = Vec::new();
    for (n, at, run) in [
        (1u8, "2026-11-01 00:00", ["1300.40", "100.00", "300.00", "400.00", "500.40"]),
        (2u8, "2026-10-01 00:00", ["999.80", "80.00", "250.00", "300.00", "369.80"]),
    ] {
        read_reply(address, Di::new(0x05, 0x06, 0x00, n), &[Value::Text(at.into())]).unwrap().write(&mut payload).unwrap();
        read_reply(address, Di::new(0x05, 0x06, 0x01, n), &[Value::Run(run.iter().map(|s| num(s)).collect())])
            .unwrap()
            .write(&mut payload)
            .unwrap();
    }
    let mut options = MqttOptions::new(user.clone(), app.app.broker.host.clone(), app.app.broker.port);
    options.set_credentials(user.clone(), password.clone());
    let (client, mut events) = AsyncClient::new(options, 8);
    let drive = tokio::spawn(async move { while events.poll().await.is_ok() {} });
    client.publish(format!("vl/up/{user}"), QoS::AtLeastOnce, false, payload).await.unwrap();

    const FREEZES: &str = "query($m: ID!) { meterFreezes(meterId: $m, from: \"2026-09-01T00:00:00Z\", to: \"2027-06-01T00:00:00Z\") { frozenAt total tariffs platformTotal difference } }";
    let freezes = || admin.ok(FREEZES, json!({"m": meter}))["meterFreezes"].clone();
    assert!(
        TestApp::eventually(std::time::Duration::from_secs(10), || {
            let f = freezes();
            async move { f.as_array().map(|a| a.len()) == Some(2) }
        })
        .await,
        "{}",
        freezes()
    );
    let f = freezes();
    let dec = |v: &serde_json::Value| v.as_str().map(num);
    assert_eq!(f[0]["frozenAt"], "2026-10-31T16:00:00+00:00", "{f}");
    assert_eq!(
        (dec(&f[0]["total"]), dec(&f[0]["platformTotal"]), dec(&f[0]["difference"])),
        (Some(num("1300.40")), Some(num("1300.00")), Some(num("0.40")))
    );
    assert_eq!(dec(&f[0]["tariffs"][3]), Some(num("500.40")));
    assert_eq!(
        (dec(&f[1]["total"]), &f[1]["platformTotal"]),
        (Some(num("999.80")), &serde_json::Value::Null),
        "no platform freeze on 1 Oct"
    );

    // A freeze from the future, and one above the meter's own reading after it, are refused.
    let mut planted = Vec::new();
    for (n, at, total) in [(3u8, "2027-01-01 00:00", "0.00"), (4u8, "2026-10-31 00:00", "2000.00")] {
        read_reply(address, Di::new(0x05, 0x06, 0x00, n), &[Value::Text(at.into())]).unwrap().write(&mut planted).unwrap();
        read_reply(address, Di::new(0x05, 0x06, 0x01, n), &[Value::Run(vec![num(total)])]).unwrap().write(&mut planted).unwrap();
    }
    client.publish(format!("vl/up/{user}"), QoS::AtLeastOnce, false, planted).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(freezes().as_array().unwrap().len(), 2, "{}", freezes());

    // The October bill runs from the meter's own freezes: 1300.40 − 999.80 = 300.60 kWh at 1.00
    // (from the readings alone it would be 1300.00 − 1000.00).
    let run = admin.ok("mutation { runBills(period: \"2026-10\") { created skipped { reason } } }", json!({}))["runBills"].clone();
    assert_eq!(run["created"], 1, "{run}");
    let bill =
        admin.ok("query($a: ID!) { bills(accountId: $a) { total lines { kind quantity } } }", json!({"a": account}))["bills"][0].clone();
    assert_eq!(dec(&bill["total"]), Some(num("300.60")), "{bill}");

    // Walls: another tenant neither reads these freezes nor records one for this meter.
    let other = app.admin("meter-freezes-other").await;
    assert_eq!(other.fails(FREEZES, json!({"m": meter}))["code"], "NOT_FOUND");
    let op = other.ok(r#"mutation { createProperty(input: {name: "Elsewhere"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let o = other.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000000778\", phases: 3, linkType: FOUR_G}) { credentials { username password } } }",
        json!({"p": op}),
    )["registerMeter"]["credentials"]
        .clone();
    let ou = o["username"].as_str().unwrap().to_string();
    let mut options = MqttOptions::new(ou.clone(), app.app.broker.host.clone(), app.app.broker.port);
    options.set_credentials(ou.clone(), o["password"].as_str().unwrap());
    let (oc, mut oe) = AsyncClient::new(options, 8);
    let odrive = tokio::spawn(async move { while oe.poll().await.is_ok() {} });
    let mut forged = Vec::new();
    read_reply(address, Di::new(0x05, 0x06, 0x00, 3), &[Value::Text("2026-09-01 00:00".into())]).unwrap().write(&mut forged).unwrap();
    read_reply(address, Di::new(0x05, 0x06, 0x01, 3), &[Value::Run(vec![num("1.00")])]).unwrap().write(&mut forged).unwrap();
    oc.publish(format!("vl/up/{ou}"), QoS::AtLeastOnce, false, forged).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(freezes().as_array().unwrap().len(), 2, "a freeze for our meter from another tenant's device is not recorded");
    drive.abort();
    odrive.abort();
}
