//! Alarms end to end: simulated faults through the real broker -> readings -> the rules ->
//! the alarm centre and the live subscription; a silent meter is lost, then cleared; a lost
//! gateway folds its meters' lost alarms (F38).

use std::time::Duration;

use futures::StreamExt;
use mqtt_bridge::dlt645::Address;
use mqtt_bridge::session::BrokerAddr;
use mqtt_bridge::simulator::{Faults, SimConfig, SimDevice, SimHandle, SimMeter};
use serde_json::{Value, json};
use tests::{Admin, TestApp};

fn sim_config(app: &TestApp) -> SimConfig {
    SimConfig {
        broker: BrokerAddr::parse(&format!("mqtt://{}:{}", app.app.broker.host, app.app.broker.port)).unwrap(),
        interval: Duration::from_secs(1),
        clock_offset: chrono::FixedOffset::east_opt(8 * 3600).unwrap(),
        rounds: None,
    }
}

/// Runs a simulated 4G meter (holding its key) under the login `registerMeter` answered with.
async fn simulate(app: &TestApp, admin: &Admin, registered: &Value, address: Address) -> (SimHandle, tokio::task::JoinHandle<()>) {
    let key = app.app.store.tenant(admin.tenant.clone()).key_for_address(address).await.unwrap();
    let handle = SimHandle::default();
    let device = SimDevice {
        username: registered["credentials"]["username"].as_str().unwrap().into(),
        password: registered["credentials"]["password"].as_str().unwrap().into(),
        meters: vec![SimMeter::new(address, true).with_key(key)],
        gateway: false,
    };
    (handle.clone(), tokio::spawn(mqtt_bridge::simulator::run(sim_config(app), vec![device], handle)))
}

/// Subscribes now (a subscription starts when first polled) and forwards what it yields.
fn listen(
    stream: impl futures::Stream<Item = async_graphql::Response> + Send + 'static,
) -> tokio::sync::mpsc::UnboundedReceiver<async_graphql::Response> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut stream = Box::pin(stream);
        while let Some(r) = stream.next().await {
            if tx.send(r).is_err() {
                break;
            }
        }
    });
    rx
}

fn active(admin: &Admin, include_folded: bool) -> Vec<Value> {
    admin.ok(
        "query($f: Boolean!) { alarms(activeOnly: true, includeFolded: $f) { id kind state subjectId parentId folded acknowledgedAt } }",
        json!({"f": include_folded}),
    )["alarms"]
        .as_array()
        .unwrap()
        .clone()
}

fn has(admin: &Admin, kind: &str, subject: &Value) -> bool {
    active(admin, true).iter().any(|a| a["kind"] == kind && a["subjectId"] == *subject)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn phase_loss_and_a_silent_meter_raise_alarms_that_clear_when_the_condition_ends() {
    let app = TestApp::spawn().await;
    let admin = app.admin("alarms").await;
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Park"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let address = Address::from_u64(990_000_083).unwrap();
    let r = admin.ok(
        "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 3, linkType: FOUR_G}) { meter { id } credentials { username password } } }",
        json!({"p": property, "a": address.to_string()}),
    )["registerMeter"]
        .clone();
    let meter = r["meter"]["id"].clone();

    // The portal's bell: the subscription, resolved for this tenant.
    let schema = server::api::graphql::schema();
    let identify = |token: String| {
        let (store, keys) = (app.app.store.clone(), app.app.keys.clone());
        async move { server::api::http::identify(&store, &keys, Some(&token), async_graphql::Data::default()).await }
    };
    let mut request = async_graphql::Request::new("subscription { alarmChanges { change alarm { kind subjectId state } } }");
    request.data = identify(admin.token.clone()).await;
    let mut bell = listen(schema.execute_stream(request));
    // Another tenant's bell hears nothing of this tenant.
    let other = app.admin("alarms-other").await;
    let mut request = async_graphql::Request::new("subscription { alarmChanges { change alarm { kind } } }");
    request.data = identify(other.token.clone()).await;
    let mut other_bell = listen(schema.execute_stream(request));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let handle = SimHandle::default();
    let device = SimDevice {
        username: r["credentials"]["username"].as_str().unwrap().into(),
        password: r["credentials"]["password"].as_str().unwrap().into(),
        meters: vec![SimMeter::new(address, true)],
        gateway: false,
    };
    let sim = tokio::spawn(mqtt_bridge::simulator::run(sim_config(&app), vec![device], handle.clone()));

    // Phase C breaks: PHASE_LOSS is raised once, pushed to the bell, and clears when mended.
    handle.set_faults(address, Faults { phase_loss: true, ..Default::default() });
    let raised = TestApp::eventually(Duration::from_secs(30), || {
        let ok = has(&admin, "PHASE_LOSS", &meter);
        async move { ok }
    })
    .await;
    assert!(raised, "phase loss alarm: {:?}", active(&admin, true));
    let pushed = tokio::time::timeout(Duration::from_secs(10), bell.recv()).await.expect("the bell rang").unwrap().into_result().unwrap();
    let change = pushed.data.into_json().unwrap();
    assert_eq!(change["alarmChanges"]["change"], "RAISED");
    assert_eq!(change["alarmChanges"]["alarm"]["kind"], "PHASE_LOSS");
    assert_eq!(change["alarmChanges"]["alarm"]["subjectId"], meter);
    tokio::time::sleep(Duration::from_secs(6)).await;
    let phase: Vec<Value> = active(&admin, true).into_iter().filter(|a| a["kind"] == "PHASE_LOSS").collect();
    assert_eq!(phase.len(), 1, "one active alarm per meter and kind: {phase:?}");
    let id = phase[0]["id"].clone();
    let ack =
        admin.ok("mutation($i: ID!) { acknowledgeAlarm(id: $i) { acknowledgedAt acknowledgedBy state } }", json!({"i": id}))["acknowledgeAlarm"].clone();
    assert!(ack["acknowledgedAt"].is_string());
    assert_eq!(ack["acknowledgedBy"], "admin", "the operator who acknowledged");
    assert_eq!(other.fails("mutation($i: ID!) { acknowledgeAlarm(id: $i) { id } }", json!({"i": id}))["code"], "NOT_FOUND");
    assert!(other_bell.try_recv().is_err(), "another tenant hears nothing");

    handle.set_faults(address, Faults::default());
    let cleared = TestApp::eventually(Duration::from_secs(30), || {
        let ok = !has(&admin, "PHASE_LOSS", &meter);
        async move { ok }
    })
    .await;
    assert!(cleared, "phase loss clears: {:?}", active(&admin, true));
    let history =
        admin.ok("query($m: ID!) { alarms(subjectId: $m, kind: \"PHASE_LOSS\") { state clearedAt acknowledgedAt } }", json!({"m": meter}))
            ["alarms"]
            .clone();
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["state"], "CLEARED");
    assert!(history[0]["clearedAt"].is_string() && history[0]["acknowledgedAt"].is_string());

    // The meter goes silent: lost, alarmed; heard again: cleared.
    handle.set_faults(address, Faults { silent: true, ..Default::default() });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.app.store.platform().sweep_link_state(chrono::Utc::now() + chrono::Duration::days(1)).await.unwrap();
    app.app.store.platform().evaluate_alarms(chrono::Utc::now()).await.unwrap();
    assert!(has(&admin, "METER_LOST", &meter), "{:?}", active(&admin, true));
    handle.set_faults(address, Faults::default());
    let back = TestApp::eventually(Duration::from_secs(30), || {
        let ok = !has(&admin, "METER_LOST", &meter);
        async move { ok }
    })
    .await;
    assert!(back, "lost clears when the meter is heard again: {:?}", active(&admin, true));
    let e = admin.fails("{ alarms(kind: \"NOT_A_KIND\") { id } }", json!({}));
    assert_eq!(e["code"], "VALIDATION");
    sim.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_gateway_folds_its_meters_lost_alarms() {
    let app = TestApp::spawn().await;
    let admin = app.admin("fold").await;
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Dorm"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let gw = admin.ok(
        "mutation($p: ID!) { registerGateway(input: {propertyId: $p, serial: \"GW-F\"}) { gateway { id } credentials { username password } } }",
        json!({"p": property}),
    )["registerGateway"]
        .clone();
    let mut meters = Vec::new();
    let mut sims = Vec::new();
    for n in 0..3 {
        let address = Address::from_u64(990_000_090 + n).unwrap();
        let r = admin.ok(
            "mutation($p: ID!, $a: String!, $g: ID!) { registerMeter(input: {propertyId: $p, address: $a, phases: 1, linkType: LORA_GATEWAY, gatewayId: $g}) { meter { id } } }",
            json!({"p": property, "a": address.to_string(), "g": gw["gateway"]["id"]}),
        );
        meters.push(r["registerMeter"]["meter"]["id"].clone());
        sims.push(SimMeter::new(address, false));
    }
    let device = SimDevice {
        username: gw["credentials"]["username"].as_str().unwrap().into(),
        password: gw["credentials"]["password"].as_str().unwrap().into(),
        meters: sims,
        gateway: true,
    };
    let config = SimConfig { rounds: Some(2), ..sim_config(&app) };
    mqtt_bridge::simulator::run(config, vec![device], SimHandle::default()).await;
    let online = TestApp::eventually(Duration::from_secs(20), || {
        let m = admin.ok("{ meters(pageSize: 10) { items { linkState } } }", json!({}));
        let ok = m["meters"]["items"].as_array().is_some_and(|a| a.iter().filter(|x| x["linkState"] == "ONLINE").count() == 3);
        async move { ok }
    })
    .await;
    assert!(online, "the gateway's meters reported");
    // The gateway and its meters fall silent.
    app.app.store.platform().sweep_link_state(chrono::Utc::now() + chrono::Duration::days(1)).await.unwrap();
    app.app.store.platform().evaluate_alarms(chrono::Utc::now()).await.unwrap();
    let top = active(&admin, false);
    let gateway_alarm: Vec<&Value> = top.iter().filter(|a| a["kind"] == "GATEWAY_LOST").collect();
    assert_eq!(gateway_alarm.len(), 1, "{top:?}");
    assert_eq!(gateway_alarm[0]["folded"], 3);
    assert!(!top.iter().any(|a| a["kind"] == "METER_LOST"), "meters' lost alarms are folded: {top:?}");
    let all = active(&admin, true);
    let folded: Vec<&Value> = all.iter().filter(|a| a["kind"] == "METER_LOST").collect();
    assert_eq!(folded.len(), 3);
    assert!(folded.iter().all(|a| a["parentId"] == gateway_alarm[0]["id"]));
    // Acknowledging the gateway's alarm acknowledges the folded ones.
    admin.ok("mutation($i: ID!) { acknowledgeAlarm(id: $i) { id } }", json!({"i": gateway_alarm[0]["id"]}));
    assert!(active(&admin, true).iter().all(|a| a["acknowledgedAt"].is_string()));
    // Evaluating again changes nothing.
    app.app.store.platform().evaluate_alarms(chrono::Utc::now()).await.unwrap();
    assert_eq!(active(&admin, true).len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn alarms_reach_people_by_sms_signed_as_each_provider_requires() {
    use server::notify::sms::Provider;
    use server::notify::standin::SmsStandIn;
    let app = TestApp::spawn().await;
    let standin =
        SmsStandIn::start("127.0.0.1:0".parse().unwrap(), &[("AKIDvolt", "tencent-secret"), ("LTAIvolt", "aliyun-secret")]).unwrap();
    let admin = app.admin("sms").await;
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Park"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let address = Address::from_u64(990_000_121).unwrap();
    let r = admin.ok(
        "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 3, linkType: FOUR_G}) { meter { id } credentials { username password } } }",
        json!({"p": property, "a": address.to_string()}),
    )["registerMeter"]
        .clone();
    let meter = r["meter"]["id"].clone();
    const SETTINGS: &str =
        "mutation($i: NotificationSettingsInput!) { setNotificationSettings(input: $i) { provider secretSet accessKeyId } }";
    let contacts = json!(["13800000001", "13800000002"]);
    let set = admin.ok(
        SETTINGS,
        json!({"i": {"provider": "TENCENT", "endpoint": format!("{}/tencent/", standin.base), "accessKeyId": "AKIDvolt", "accessKeySecret": "tencent-secret",
                      "signName": "VoltLedger", "sdkAppId": "1400000001", "contacts": contacts}}),
    );
    assert!(!set.to_string().contains("tencent-secret"), "the secret never comes back");
    assert_eq!(set["setNotificationSettings"]["secretSet"], true);
    let e = admin.fails(SETTINGS, json!({"i": {"provider": "TENCENT", "accessKeyId": "x", "accessKeySecret": "y", "signName": "s", "sdkAppId": "1", "contacts": ["12345"]}}));
    assert_eq!(e["field"], "contacts");
    admin.ok("mutation { setNotificationTemplate(alarmKind: \"PHASE_LOSS\", templateCode: \"1100001\") { alarmKind } }", json!({}));
    let log = || {
        admin.ok("{ notifications { alarmKind recipient status attempts lastError providerRef params createdAt sentAt } }", json!({}))["notifications"].clone()
    };

    let (handle, sim) = simulate(&app, &admin, &r, address).await;

    // 1. Phase loss -> one TC3-signed SMS per contact, once.
    handle.set_faults(address, Faults { phase_loss: true, ..Default::default() });
    let sent = TestApp::eventually(Duration::from_secs(40), || {
        let n = standin.received().len();
        async move { n == 2 }
    })
    .await;
    assert!(sent, "two messages: {:?} refused {:?} log {}", standin.received(), standin.refused(), log());
    let got = standin.received();
    assert!(got.iter().all(|m| m.provider == Provider::Tencent && m.template == "1100001" && m.sign_name == "VoltLedger"));
    assert_eq!(got.iter().map(|m| m.phone.as_str()).collect::<Vec<_>>().len(), 2);
    assert!(got.iter().any(|m| m.phone == "+8613800000001") && got.iter().any(|m| m.phone == "+8613800000002"));
    assert_eq!(got[0].params[0], ("1".to_string(), "缺相".to_string()), "{{1}} is the alarm");
    assert_eq!(got[0].params[1], ("2".to_string(), address.to_string()), "{{2}} is the meter");
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(standin.received().len(), 2, "the same alarm is not sent twice");
    let l = log();
    assert!(l.as_array().unwrap().iter().all(|n| n["status"] == "SENT" && n["providerRef"].is_string()), "{l}");

    // 2. A wrong secret: the provider refuses the signature; the message ends FAILED with why.
    handle.set_faults(address, Faults { under_voltage: true, ..Default::default() });
    admin.ok(
        SETTINGS,
        json!({"i": {"provider": "ALIYUN", "endpoint": format!("{}/aliyun/", standin.base), "accessKeyId": "LTAIvolt", "accessKeySecret": "not-the-secret",
                      "signName": "VoltLedger", "contacts": ["13800000001"]}}),
    );
    admin.ok("mutation { setNotificationTemplate(alarmKind: \"UNDER_VOLTAGE\", templateCode: \"SMS_2000001\") { alarmKind } }", json!({}));
    let failed = TestApp::eventually(Duration::from_secs(40), || {
        let l = log();
        let ok = l.as_array().unwrap().iter().any(|n| n["alarmKind"] == "UNDER_VOLTAGE" && n["status"] == "FAILED");
        async move { ok }
    })
    .await;
    assert!(failed, "{}", log());
    assert!(log().to_string().contains("SignatureDoesNotMatch"));
    assert!(standin.refused().contains(&"SignatureDoesNotMatch".to_string()));
    assert_eq!(standin.received().len(), 2);

    // 3. The right secret (kept when only settings change afterwards): a trip's alarm goes
    //    out signed with HMAC-SHA1 and named parameters.
    admin.ok(
        SETTINGS,
        json!({"i": {"provider": "ALIYUN", "endpoint": format!("{}/aliyun/", standin.base), "accessKeyId": "LTAIvolt", "accessKeySecret": "aliyun-secret",
                      "signName": "VoltLedger", "contacts": ["13800000001"], "dailyLimit": 2}}),
    );
    admin.ok("mutation { setNotificationTemplate(alarmKind: \"TRIPPED\", templateCode: \"SMS_3000001\") { alarmKind } }", json!({}));
    admin.ok("mutation($m: ID!) { tripMeter(input: {meterId: $m}) { id } }", json!({"m": meter}));
    // Long enough for the trip command's one retry (60 s) should its first frame be lost.
    let aliyun = TestApp::eventually(Duration::from_secs(90), || {
        let n = standin.received().iter().filter(|m| m.provider == Provider::Aliyun).count();
        async move { n == 1 }
    })
    .await;
    assert!(aliyun, "received {:?} refused {:?} log {}", standin.received(), standin.refused(), log());
    let m = standin.received().into_iter().find(|m| m.provider == Provider::Aliyun).unwrap();
    assert_eq!((m.phone.as_str(), m.template.as_str()), ("13800000001", "SMS_3000001"));
    assert!(m.params.contains(&("alarm".to_string(), "已拉闸".to_string())) && m.params.iter().any(|(k, _)| k == "time"), "{:?}", m.params);

    // 4. The daily limit (2: phase loss and the trip already went to this number) suppresses
    //    the next; quiet hours hold a message back instead of sending it.
    let now_local = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai);
    use chrono::Timelike;
    let hhmm = |m: i64| format!("{:02}:{:02}", m.rem_euclid(1440) / 60, m.rem_euclid(1440) % 60);
    let minute = i64::from(now_local.hour() * 60 + now_local.minute());
    admin.ok("mutation($m: ID!) { closeMeter(input: {meterId: $m}) { id } }", json!({"m": meter}));
    let closed = TestApp::eventually(Duration::from_secs(90), || {
        let ok = handle.relay(address) == Some((false, false)) && !has(&admin, "TRIPPED", &meter);
        async move { ok }
    })
    .await;
    assert!(closed);
    admin.ok("mutation($m: ID!) { tripMeter(input: {meterId: $m}) { id } }", json!({"m": meter}));
    let suppressed = TestApp::eventually(Duration::from_secs(90), || {
        let l = log();
        let ok = l.as_array().unwrap().iter().any(|n| n["alarmKind"] == "TRIPPED" && n["status"] == "SUPPRESSED");
        async move { ok }
    })
    .await;
    assert!(suppressed, "{}", log());
    admin.ok(
        SETTINGS,
        json!({"i": {"provider": "ALIYUN", "endpoint": format!("{}/aliyun/", standin.base), "accessKeyId": "LTAIvolt",
                      "signName": "VoltLedger", "contacts": ["13800000002"], "dailyLimit": 5,
                      "quietStart": hhmm(minute - 60), "quietEnd": hhmm(minute + 60)}}),
    );
    admin.ok("mutation($m: ID!) { closeMeter(input: {meterId: $m}) { id } }", json!({"m": meter}));
    let closed = TestApp::eventually(Duration::from_secs(90), || {
        let ok = !has(&admin, "TRIPPED", &meter);
        async move { ok }
    })
    .await;
    assert!(closed);
    admin.ok("mutation($m: ID!) { tripMeter(input: {meterId: $m}) { id } }", json!({"m": meter}));
    let waiting = TestApp::eventually(Duration::from_secs(90), || {
        let l = log();
        let ok = l.as_array().unwrap().iter().any(|n| {
            n["recipient"] == "13800000002"
                && n["alarmKind"] == "TRIPPED"
                && n["status"] == "PENDING"
                && n["lastError"].as_str().unwrap().contains("quiet hours")
        });
        async move { ok }
    })
    .await;
    assert!(waiting, "{}", log());
    assert_eq!(standin.received().iter().filter(|m| m.provider == Provider::Aliyun).count(), 1, "nothing sent in quiet hours");
    sim.abort();
    standin.stop().await;
}

/// Several workers sweep one database (DESIGN: workers coordinate through the database):
/// each claims a message before sending it, so a message goes out once however many sweep.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_sweeping_one_database_send_each_message_once() {
    use server::notify::standin::SmsStandIn;
    let app = TestApp::spawn().await;
    let standin = SmsStandIn::start("127.0.0.1:0".parse().unwrap(), &[("LTAIvolt", "aliyun-secret")]).unwrap();
    let admin = app.admin("workers").await;
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Park"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let address = Address::from_u64(990_000_131).unwrap();
    let r = admin.ok(
        "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 3, linkType: FOUR_G}) { credentials { username password } } }",
        json!({"p": property, "a": address.to_string()}),
    )["registerMeter"]
        .clone();
    admin.ok(
        "mutation($i: NotificationSettingsInput!) { setNotificationSettings(input: $i) { provider } }",
        json!({"i": {"provider": "ALIYUN", "endpoint": format!("{}/aliyun/", standin.base), "accessKeyId": "LTAIvolt", "accessKeySecret": "aliyun-secret",
                      "signName": "VoltLedger", "contacts": ["13800000001", "13800000002", "13800000003"]}}),
    );
    admin.ok("mutation { setNotificationTemplate(alarmKind: \"PHASE_LOSS\", templateCode: \"SMS_1000001\") { alarmKind } }", json!({}));

    // Four more workers besides the application's own sweeper, each sweeping without pause.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (store, stop) = (app.app.store.clone(), stop.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut sent = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    sent += server::notify::deliver_due(&store, &client, chrono::Utc::now()).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                sent
            })
        })
        .collect();

    let (handle, sim) = simulate(&app, &admin, &r, address).await;
    handle.set_faults(address, Faults { phase_loss: true, ..Default::default() });
    let sent = TestApp::eventually(Duration::from_secs(40), || {
        let n = standin.received().len();
        async move { n >= 3 }
    })
    .await;
    assert!(sent, "{:?} refused {:?}", standin.received(), standin.refused());
    // Two more sweeps of the application's own worker and many of the others.
    tokio::time::sleep(Duration::from_secs(11)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let by_workers: usize = futures::future::join_all(workers).await.into_iter().map(Result::unwrap).sum();
    let mut phones: Vec<String> = standin.received().into_iter().map(|m| m.phone).collect();
    phones.sort();
    assert_eq!(phones, ["13800000001", "13800000002", "13800000003"], "each contact once");
    assert!(by_workers <= 3, "the workers report what they sent: {by_workers}");
    let log = admin.ok("{ notifications { status attempts } }", json!({}))["notifications"].clone();
    assert!(log.as_array().unwrap().iter().all(|n| n["status"] == "SENT" && n["attempts"] == 1), "{log}");
    sim.abort();
    standin.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_meter_fault_and_balance_state_raises_its_alarm_and_clears() {
    let app = TestApp::spawn().await;
    let admin = app.admin("faults").await;
    let property = admin.ok(r#"mutation { createProperty(input: {name: "Works"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let address = Address::from_u64(990_000_141).unwrap();
    let r = admin.ok(
        "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 3, linkType: FOUR_G}) { meter { id } credentials { username password } } }",
        json!({"p": property, "a": address.to_string()}),
    )["registerMeter"]
        .clone();
    let meter = r["meter"]["id"].clone();
    let (handle, sim) = simulate(&app, &admin, &r, address).await;
    let until = |kind: &'static str, subject: Value, active_wanted: bool| {
        let admin = &admin;
        async move {
            TestApp::eventually(Duration::from_secs(30), || {
                let ok = has(admin, kind, &subject) == active_wanted;
                async move { ok }
            })
            .await
        }
    };
    let cases: [(Faults, &str); 7] = [
        (Faults { cover_open: true, ..Default::default() }, "TAMPER"),
        (Faults { over_voltage: true, ..Default::default() }, "OVER_VOLTAGE"),
        (Faults { under_voltage: true, ..Default::default() }, "UNDER_VOLTAGE"),
        (Faults { overload: true, ..Default::default() }, "OVERLOAD"),
        (Faults { reverse_power: true, ..Default::default() }, "REVERSE_ENERGY"),
        (Faults { phase_loss: true, ..Default::default() }, "PHASE_LOSS"),
        // Last: the power average has had a minute of normal readings to settle.
        (Faults { power_drop: true, ..Default::default() }, "SUDDEN_DROP"),
    ];
    for (faults, kind) in cases {
        handle.set_faults(address, faults);
        assert!(until(kind, meter.clone(), true).await, "{kind} raised: {:?}", active(&admin, true));
        handle.set_faults(address, Faults::default());
        assert!(until(kind, meter.clone(), false).await, "{kind} cleared: {:?}", active(&admin, true));
    }
    // Tripped, then power flows through the open relay (a bypass).
    admin.ok("mutation($m: ID!) { tripMeter(input: {meterId: $m}) { id } }", json!({"m": meter}));
    assert!(until("TRIPPED", meter.clone(), true).await, "{:?}", active(&admin, true));
    assert!(!has(&admin, "CONSUMPTION_WHILE_TRIPPED", &meter), "no power flows through an open relay");
    handle.set_faults(address, Faults { bypass: true, ..Default::default() });
    assert!(until("CONSUMPTION_WHILE_TRIPPED", meter.clone(), true).await, "{:?}", active(&admin, true));
    handle.set_faults(address, Faults::default());
    admin.ok("mutation($m: ID!) { closeMeter(input: {meterId: $m}) { id } }", json!({"m": meter}));
    assert!(until("TRIPPED", meter.clone(), false).await);
    assert!(until("CONSUMPTION_WHILE_TRIPPED", meter.clone(), false).await);
    sim.abort();

    // The balance states of an account: alarm 1, then alarm 2 (alarm 1 clears).
    let customer = admin.ok(r#"mutation { createCustomer(input: {name: "Canteen", phone: "13900000001"}) { id } }"#, json!({}))["createCustomer"]["id"].clone();
    let other = Address::from_u64(990_000_142).unwrap();
    let m2 = admin.ok(
        "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 1, linkType: FOUR_G}) { meter { id } } }",
        json!({"p": property, "a": other.to_string()}),
    )["registerMeter"]["meter"]["id"]
        .clone();
    let account = admin.ok(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m], thresholds: {alarm1: \"100\", alarm2: \"50\"}, initialPurchase: {amount: \"80\", channel: CASH}}) { account { id balanceState } } }",
        json!({"c": customer, "m": m2}),
    )["openAccount"]["account"]
        .clone();
    assert_eq!(account["balanceState"], "LOW_1");
    assert!(until("LOW_BALANCE_1", account["id"].clone(), true).await, "{:?}", active(&admin, true));
    admin.ok("mutation($a: ID!) { refund(input: {accountId: $a, amount: \"40\"}) { receiptNo } }", json!({"a": account["id"]}));
    assert!(until("LOW_BALANCE_2", account["id"].clone(), true).await, "{:?}", active(&admin, true));
    assert!(until("LOW_BALANCE_1", account["id"].clone(), false).await);
    admin.ok(
        "mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"500\", channel: CASH}) { receiptNo } }",
        json!({"a": account["id"]}),
    );
    assert!(until("LOW_BALANCE_2", account["id"].clone(), false).await);
}

/// F24's second channel: a customer who bound their WeChat login and accepted a one-time
/// subscription gets one subscription message when their balance runs low; without an
/// accepted subscription WeChat refuses (43101) and nothing more is tried.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_low_balance_reaches_the_customer_as_a_wechat_subscription_message() {
    use server::wechat::standin::WechatStandIn;
    let app = TestApp::spawn().await;
    let admin = app.admin("subscribe").await;
    let (app_id, secret) = ("wx00aa11bb22cc33dd", "wechat-app-secret-0123");
    let wechat = WechatStandIn::start("127.0.0.1:0".parse().unwrap(), &[(app_id, secret)]).unwrap();
    admin.ok(
        "mutation($a: String!, $s: String!, $b: String!) { setWechatApp(input: {appId: $a, appSecret: $s, apiBase: $b}) }",
        json!({"a": app_id, "s": secret, "b": wechat.base}),
    );
    let template = "mutation($k: String!, $t: String!) { setWechatTemplate(input: {alarmKind: $k, templateId: $t, page: \"pages/account/index\",
        fields: [{key: \"thing1\", source: SUBJECT}, {key: \"amount2\", source: BALANCE}, {key: \"time3\", source: TIME}, {key: \"thing4\", source: ALARM}]}) { templateId } }";
    admin.ok(template, json!({"k": "LOW_BALANCE_1", "t": "TPL-LOW-1"}));
    admin.ok(template, json!({"k": "LOW_BALANCE_2", "t": "TPL-LOW-2"}));
    let bad = admin.gql(
        "mutation { setWechatTemplate(input: {alarmKind: \"ARREARS\", templateId: \"T\", fields: [{key: \"amount1\", source: TIME}]}) { templateId } }",
        json!({}),
    );
    assert_eq!(bad["errors"][0]["extensions"]["field"], "fields", "a time cannot fill an amount key");

    let p = admin.ok(r#"mutation { createProperty(input: {name: "Mall"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let m = admin.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000000501\", phases: 1, linkType: FOUR_G, shopNo: \"A-101\"}) { meter { id } } }",
        json!({"p": p}),
    )["registerMeter"]["meter"]["id"]
        .clone();
    let c = admin.ok(r#"mutation { createCustomer(input: {name: "Tea shop", phone: "13800005555"}) { id } }"#, json!({}))["createCustomer"]
        ["id"]
        .clone();
    let opened = admin.ok(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m], thresholds: {alarm1: \"20\", alarm2: \"5\"},
            initialPurchase: {amount: \"50.00\", channel: CASH}}) { account { id number } } }",
        json!({"c": c, "m": m}),
    )["openAccount"]["account"]
        .clone();

    // The customer logs in, binds the account and accepts the low-balance subscription.
    let code = wechat.login_code(app_id, "o-tea-shop");
    let (_, tokens) = tests::post_json(app.app.http_addr, "/auth/wechat", None, &json!({"tenant": admin.slug, "code": code}));
    let customer = tokens["accessToken"].as_str().unwrap().to_string();
    let cq = |q: &str, v: Value| tests::graphql(app.app.http_addr, Some(&customer), q, v);
    let phone = wechat.phone_code(app_id, "13800005555");
    cq(
        "mutation($n: String!, $c: String!) { bindAccount(input: {accountNumber: $n, phoneCode: $c}) { number } }",
        json!({"n": opened["number"], "c": phone}),
    );
    let unknown = cq("mutation { reportSubscriptions(input: {accepted: [\"NOT-OURS\"]}) { remaining } }", json!({}));
    assert_eq!(unknown["errors"][0]["extensions"]["field"], "accepted");
    let reported =
        cq("mutation { reportSubscriptions(input: {accepted: [\"TPL-LOW-1\", \"TPL-LOW-2\"]}) { templateId remaining } }", json!({}));
    assert_eq!(
        reported["data"]["reportSubscriptions"],
        json!([{"templateId": "TPL-LOW-1", "remaining": 1}, {"templateId": "TPL-LOW-2", "remaining": 1}])
    );
    // WeChat knows of the first only (the user refused the second in the dialog).
    wechat.accept_subscription("o-tea-shop", "TPL-LOW-1");

    // The balance falls to 12.00: below alarm amount 1.
    admin.ok(r#"mutation($a: ID!) { refund(input: {accountId: $a, amount: "38.00"}) { receiptNo } }"#, json!({"a": opened["id"]}));
    let delivered = TestApp::eventually(Duration::from_secs(20), || {
        let n = wechat.delivered().len();
        async move { n == 1 }
    })
    .await;
    assert!(delivered, "log: {}", admin.ok("{ notifications { channel status lastError } }", json!({})));
    let message = wechat.delivered()[0].clone();
    assert_eq!((message.openid.as_str(), message.template_id.as_str()), ("o-tea-shop", "TPL-LOW-1"));
    assert_eq!(message.page.as_deref(), Some("pages/account/index"));
    let data: std::collections::HashMap<String, String> = message.data.into_iter().collect();
    assert_eq!(data["thing1"], opened["number"].as_str().unwrap(), "the account number (户号) names a balance alarm");
    assert_eq!(data["amount2"], "¥12.00");
    assert!(data["time3"].contains('年') && data["time3"].contains(':'), "{}", data["time3"]);

    // Down to 3.00: LOW_BALANCE_2. We counted a subscription, WeChat has none: refused once.
    admin.ok(r#"mutation($a: ID!) { refund(input: {accountId: $a, amount: "9.00"}) { receiptNo } }"#, json!({"a": opened["id"]}));
    let refused = TestApp::eventually(Duration::from_secs(20), || {
        let log = admin.ok("{ notifications { channel alarmKind status lastError } }", json!({}));
        async move { log.to_string().contains("43101") }
    })
    .await;
    assert!(refused);
    let log = admin.ok("{ notifications { channel alarmKind status recipient } }", json!({}))["notifications"].clone();
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|n| n == &json!({"channel": "WECHAT", "alarmKind": "LOW_BALANCE_1", "status": "SENT", "recipient": "o-tea-shop"}))
    );
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|n| n == &json!({"channel": "WECHAT", "alarmKind": "LOW_BALANCE_2", "status": "FAILED", "recipient": "o-tea-shop"}))
    );
    assert_eq!(wechat.delivered().len(), 1);
    let left = cq("{ mySubscriptions { templateId remaining } }", json!({}));
    assert_eq!(
        left["data"]["mySubscriptions"],
        json!([{"templateId": "TPL-LOW-1", "remaining": 0}, {"templateId": "TPL-LOW-2", "remaining": 0}])
    );
    wechat.stop().await;
}

/// The settings screen's test send: one message now with the tenant's account and the
/// template of the alarm kind, signed like any other (the stand-in checks); a wrong secret
/// comes back as the provider's refusal; nothing is queued in the delivery log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_sms_goes_out_now_with_the_kinds_template_and_says_what_the_provider_answered() {
    use server::notify::sms::Provider;
    use server::notify::standin::SmsStandIn;
    let app = TestApp::spawn().await;
    let standin = SmsStandIn::start("127.0.0.1:0".parse().unwrap(), &[("LTAIvolt", "aliyun-secret")]).unwrap();
    let admin = app.admin("sms-test").await;
    const TEST: &str =
        "mutation($k: String!, $p: String!) { sendTestNotification(alarmKind: $k, phone: $p) { sent templateCode providerRef error } }";
    // Before an account exists, and with a bad phone or kind: refused under the field.
    let e = admin.fails(TEST, json!({"k": "PHASE_LOSS", "p": "13800000009"}));
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("VALIDATION"), Some("alarmKind")));
    let settings = |secret: &str| {
        json!({"i": {"provider": "ALIYUN", "endpoint": format!("{}/aliyun/", standin.base), "accessKeyId": "LTAIvolt", "accessKeySecret": secret,
                      "signName": "VoltLedger", "contacts": ["13800000001"]}})
    };
    admin.ok("mutation($i: NotificationSettingsInput!) { setNotificationSettings(input: $i) { provider } }", settings("aliyun-secret"));
    let e = admin.fails(TEST, json!({"k": "PHASE_LOSS", "p": "13800000009"}));
    assert_eq!(e["field"], "alarmKind", "no template for the kind yet");
    admin.ok("mutation { setNotificationTemplate(alarmKind: \"PHASE_LOSS\", templateCode: \"SMS_1000001\") { alarmKind } }", json!({}));
    for (k, p, field) in [("PHASE_LOSS", "12345", "phone"), ("NOT_A_KIND", "13800000009", "alarmKind")] {
        let e = admin.fails(TEST, json!({"k": k, "p": p}));
        assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("VALIDATION"), Some(field)));
    }
    assert!(standin.received().is_empty());

    let ok = admin.ok(TEST, json!({"k": "PHASE_LOSS", "p": "13800000009"}))["sendTestNotification"].clone();
    assert_eq!((ok["sent"].as_bool(), ok["templateCode"].as_str(), ok["error"].clone()), (Some(true), Some("SMS_1000001"), Value::Null));
    assert!(ok["providerRef"].as_str().is_some_and(|r| !r.is_empty()), "{ok}");
    let got = standin.received();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(
        (m.provider, m.phone.as_str(), m.template.as_str(), m.sign_name.as_str()),
        (Provider::Aliyun, "13800000009", "SMS_1000001", "VoltLedger")
    );
    let params: std::collections::BTreeMap<_, _> = m.params.iter().cloned().collect();
    assert_eq!((params.get("subject").map(String::as_str), params.get("alarm").map(String::as_str)), (Some("测试"), Some("缺相")));
    assert_eq!(admin.ok("{ notifications { id } }", json!({}))["notifications"], json!([]), "a test is not queued");

    // A wrong secret: the stand-in refuses the signature, and the answer says so.
    admin.ok("mutation($i: NotificationSettingsInput!) { setNotificationSettings(input: $i) { provider } }", settings("not-the-secret"));
    let refused = admin.ok(TEST, json!({"k": "PHASE_LOSS", "p": "13800000009"}))["sendTestNotification"].clone();
    assert_eq!((refused["sent"].as_bool(), refused["providerRef"].clone()), (Some(false), Value::Null));
    assert!(refused["error"].as_str().is_some_and(|e| !e.is_empty()), "{refused}");
    assert_eq!(standin.received().len(), 1);
}
