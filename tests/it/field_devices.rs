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
