//! Forwarding to park platforms (issue 19): a local receiver that fails, times out, answers
//! after taking the events (so they come again) and is killed and restarted mid-stream gets
//! every event, in order per meter, each request's signature checked; pause holds events
//! back, a day of failures makes them dead and a replay sends them again; a target limited
//! to a property gets only that property's events, and no other tenant sees or touches it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tests::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// 500, nothing taken.
    Fail,
    /// Takes the events, then answers after the forwarder has given up waiting.
    Hang,
    /// Takes the events and answers 500 (they come again).
    TakeAndFail,
}

#[derive(Default)]
struct Seen {
    secret: String,
    plan: VecDeque<Behaviour>,
    /// Events in order of first receipt.
    events: Vec<Value>,
    ids: HashSet<String>,
    duplicates: usize,
    bad_signatures: usize,
    requests: usize,
}

struct Receiver {
    addr: std::net::SocketAddr,
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

fn lock(s: &Arc<Mutex<Seen>>) -> std::sync::MutexGuard<'_, Seen> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

impl Receiver {
    async fn start(addr: std::net::SocketAddr, seen: Arc<Mutex<Seen>>) -> Receiver {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let state = state.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 8192];
                    // Head, then the body its Content-Length names.
                    let (head, body) = loop {
                        let Ok(n) = sock.read(&mut chunk).await else { return };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..i]).to_string();
                            let len: usize = head
                                .lines()
                                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                                .unwrap_or(0);
                            while buf.len() < i + 4 + len {
                                let Ok(n) = sock.read(&mut chunk).await else { return };
                                if n == 0 {
                                    return;
                                }
                                buf.extend_from_slice(&chunk[..n]);
                            }
                            break (head, buf[i + 4..i + 4 + len].to_vec());
                        }
                    };
                    let header = |name: &str| {
                        head.lines().find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                        })
                    };
                    let (ts, sig) =
                        (header("x-voltledger-timestamp").unwrap_or_default(), header("x-voltledger-signature").unwrap_or_default());
                    let status = {
                        let mut s = lock(&state);
                        s.requests += 1;
                        if !server::forward::verify(&s.secret, &ts, &sig, &body, chrono::Utc::now().timestamp(), 300) {
                            s.bad_signatures += 1;
                            401
                        } else {
                            let behaviour = s.plan.pop_front();
                            if behaviour != Some(Behaviour::Fail) {
                                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                                for e in v["events"].as_array().cloned().unwrap_or_default() {
                                    let id = e["id"].as_str().unwrap_or("").to_string();
                                    if s.ids.insert(id) {
                                        s.events.push(e);
                                    } else {
                                        s.duplicates += 1;
                                    }
                                }
                            }
                            match behaviour {
                                None => 200,
                                Some(Behaviour::Fail | Behaviour::TakeAndFail) => 500,
                                Some(Behaviour::Hang) => 0,
                            }
                        }
                    };
                    if status == 0 {
                        tokio::time::sleep(std::time::Duration::from_secs(12)).await;
                    }
                    let status = if status == 0 { 200 } else { status };
                    let answer = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    let _ = sock.write_all(answer.as_bytes()).await;
                });
            }
        });
        Receiver { addr, seen, task }
    }

    fn stop(self) -> (std::net::SocketAddr, Arc<Mutex<Seen>>) {
        self.task.abort();
        (self.addr, self.seen)
    }
}

fn reading(device: &str, address: &str, at: chrono::DateTime<chrono::Utc>, kwh: &str) -> mqtt_bridge::port::MeterReading {
    mqtt_bridge::port::MeterReading {
        device: device.to_string(),
        address: mqtt_bridge::dlt645::Address::parse(address).unwrap(),
        read_at: mqtt_bridge::port::ReadTime::Instant(at),
        received_at: chrono::Utc::now(),
        values: mqtt_bridge::port::Readings { energy_total: Some(kwh.parse().unwrap()), ..Default::default() },
    }
}

/// Passes of the forwarder at `now`, `now + 1 min`, … until nothing waits (or `max`).
async fn pump(app: &TestApp, from: chrono::DateTime<chrono::Utc>, max: i64) -> chrono::DateTime<chrono::Utc> {
    let mut now = from;
    for _ in 0..max {
        server::forward::run_pass(&app.app.store, now).await.unwrap();
        if app.app.store.forward_work().await.unwrap().is_empty() {
            break;
        }
        now += chrono::Duration::minutes(31);
    }
    now
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_event_reaches_the_park_in_order_whatever_the_receiver_does() {
    let app = TestApp::spawn().await;
    let admin = app.admin("forward").await;
    let seen = Arc::new(Mutex::new(Seen::default()));
    // Fails twice, hangs past the timeout once, takes a batch and fails once.
    lock(&seen).plan = VecDeque::from([Behaviour::Fail, Behaviour::Fail, Behaviour::Hang, Behaviour::TakeAndFail]);
    let receiver = Receiver::start("127.0.0.1:0".parse().unwrap(), seen.clone()).await;

    let east = admin.ok(r#"mutation { createProperty(input: {name: "East"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let west = admin.ok(r#"mutation { createProperty(input: {name: "West"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let mut devices = Vec::new();
    for (p, address) in [(&east, "000000000901"), (&east, "000000000902"), (&west, "000000000903")] {
        let r = admin.ok(
            "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 1, linkType: FOUR_G}) { meter { id } credentials { username } } }",
            json!({"p": p, "a": address}),
        )["registerMeter"]
            .clone();
        devices.push((r["meter"]["id"].as_str().unwrap().to_string(), r["credentials"]["username"].as_str().unwrap().to_string(), address));
    }
    let customer = admin.ok(r#"mutation { createCustomer(input: {name: "Shop"}) { id } }"#, json!({}))["createCustomer"]["id"].clone();
    let account = admin.ok(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m]}) { account { id } } }",
        json!({"c": customer, "m": devices[0].0}),
    )["openAccount"]["account"]["id"]
        .clone();

    // Set up, checked; the secret is shown once.
    const CREATE: &str =
        "mutation($i: CreateForwardTargetInput!) { createForwardTarget(input: $i) { secret target { id state events propertyIds } } }";
    let url = format!("http://{}/voltledger", receiver.addr);
    assert_eq!(admin.fails(CREATE, json!({"i": {"name": "Park", "url": url, "events": []}}))["field"], "events");
    assert_eq!(admin.fails(CREATE, json!({"i": {"name": "Park", "url": "ftp://x", "events": ["READING"]}}))["field"], "url");
    let created =
        admin.ok(CREATE, json!({"i": {"name": "Park", "url": url, "events": ["READING", "RECHARGE"]}}))["createForwardTarget"].clone();
    let secret = created["secret"].as_str().unwrap().to_string();
    let target = created["target"]["id"].clone();
    lock(&seen).secret = secret.clone();
    let listed = admin.gql("{ forwardTargets { id name url } }", json!({}));
    assert!(!listed.to_string().contains(&secret), "the secret is never shown again");
    // A second target sees West only (and takes readings only).
    let west_seen = Arc::new(Mutex::new(Seen::default()));
    let west_receiver = Receiver::start("127.0.0.1:0".parse().unwrap(), west_seen.clone()).await;
    let w = admin.ok(
        CREATE,
        json!({"i": {"name": "West park", "url": format!("http://{}/in", west_receiver.addr), "events": ["READING"], "propertyIds": [west]}}),
    )["createForwardTarget"]
        .clone();
    lock(&west_seen).secret = w["secret"].as_str().unwrap().to_string();

    // Another tenant neither sees nor touches them.
    let other = app.admin("elsewhere").await;
    assert_eq!(other.ok("{ forwardTargets { id } }", json!({}))["forwardTargets"], json!([]));
    assert_eq!(other.fails("mutation($t: ID!) { pauseForwardTarget(id: $t) { id } }", json!({"t": target}))["code"], "NOT_FOUND");

    // Readings of three meters, interleaved, and a recharge; some arrive twice.
    let t0 = chrono::Utc::now() - chrono::Duration::hours(6);
    let mut batch = Vec::new();
    for i in 0..12 {
        for (_, device, address) in &devices {
            batch.push(reading(device, address, t0 + chrono::Duration::minutes(15 * i), &format!("{}.00", 100 + i)));
        }
    }
    app.app.store.store_readings(batch[..20].to_vec()).await.unwrap();
    app.app.store.store_readings(batch[10..].to_vec()).await.unwrap();
    admin.ok(
        "mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"30.00\", channel: CASH}) { receiptNo } }",
        json!({"a": account}),
    );

    let now = pump(&app, chrono::Utc::now(), 20).await;
    // Killed mid-stream: more events meanwhile, nobody answers, then it is back.
    let (addr, seen) = receiver.stop();
    let mut later = Vec::new();
    for i in 12..16 {
        for (_, device, address) in &devices {
            later.push(reading(device, address, t0 + chrono::Duration::minutes(15 * i), &format!("{}.00", 100 + i)));
        }
    }
    app.app.store.store_readings(later).await.unwrap();
    let now = pump(&app, now, 2).await;
    let receiver = Receiver::start(addr, seen.clone()).await;
    pump(&app, now + chrono::Duration::hours(1), 20).await;

    {
        let s = lock(&seen);
        assert_eq!(s.bad_signatures, 0, "every request was signed with the target's secret");
        assert!(s.duplicates > 0, "the batch taken before the 500 came again");
        // Every reading of the three meters (16 each) and the recharge, once each.
        let kinds = s.events.iter().fold(HashMap::<String, usize>::new(), |mut m, e| {
            *m.entry(e["kind"].as_str().unwrap().to_string()).or_default() += 1;
            m
        });
        assert_eq!((kinds.get("READING"), kinds.get("RECHARGE")), (Some(&48), Some(&1)), "{kinds:?}");
        // In order per meter.
        for (meter, _, _) in &devices {
            let times: Vec<String> = s
                .events
                .iter()
                .filter(|e| e["kind"] == "READING" && e["data"]["meterId"] == meter.as_str())
                .map(|e| e["data"]["readAt"].as_str().unwrap().to_string())
                .collect();
            let mut sorted = times.clone();
            sorted.sort();
            assert_eq!(times, sorted, "meter {meter} in order");
            assert_eq!(times.len(), 16);
        }
        let r = s.events.iter().find(|e| e["kind"] == "RECHARGE").unwrap();
        assert_eq!((r["data"]["amount"].as_str(), r["data"]["kind"].as_str()), (Some("30.00"), Some("RECHARGE_CASH")));
        let first = s.events.iter().find(|e| e["kind"] == "READING").unwrap();
        assert_eq!(first["data"]["values"]["energyTotal"], "100.00", "{first}");
    }

    // West's park got West's meter only.
    {
        let ws = lock(&west_seen);
        assert_eq!(ws.events.len(), 16, "{:?}", ws.events.len());
        assert!(ws.events.iter().all(|e| e["data"]["meterId"] == devices[2].0.as_str()));
    }

    // The log shows every try: failures, the timeout, refusals while down, successes.
    let log =
        admin.ok(
            "query { forwardTargets { id counts { pending delivered dead } attempts(first: 200) { status error events } } }",
            json!({}),
        )["forwardTargets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == target)
            .unwrap()
            .clone();
    assert_eq!(log["counts"], json!({"pending": 0, "delivered": 49, "dead": 0}));
    let statuses: HashSet<i64> = log["attempts"].as_array().unwrap().iter().map(|a| a["status"].as_i64().unwrap()).collect();
    assert!(statuses.contains(&500) && statuses.contains(&0) && statuses.contains(&200), "{statuses:?}");

    // Paused: events wait. A day of failures: dead. A replay: sent again.
    admin.ok("mutation($t: ID!) { pauseForwardTarget(id: $t) { state } }", json!({"t": target}));
    admin
        .ok("mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"5.00\", channel: CASH}) { receiptNo } }", json!({"a": account}));
    let before = lock(&seen).events.len();
    server::forward::run_pass(&app.app.store, chrono::Utc::now()).await.unwrap();
    assert_eq!(lock(&seen).events.len(), before, "nothing while paused");
    admin.ok("mutation($t: ID!) { resumeForwardTarget(id: $t) { state } }", json!({"t": target}));
    lock(&seen).plan = VecDeque::from(vec![Behaviour::Fail; 1000]);
    let start = chrono::Utc::now();
    server::forward::run_pass(&app.app.store, start).await.unwrap();
    server::forward::run_pass(&app.app.store, start + chrono::Duration::hours(25)).await.unwrap();
    let counts = |admin: &tests::Admin| {
        admin.ok("{ forwardTargets { id counts { pending delivered dead } } }", json!({}))["forwardTargets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == target)
            .unwrap()["counts"]
            .clone()
    };
    assert_eq!(counts(&admin), json!({"pending": 0, "delivered": 49, "dead": 1}));
    lock(&seen).plan.clear();
    let again =
        admin.ok("mutation($t: ID!, $f: DateTime!) { replayForwardTarget(id: $t, from: $f) }", json!({"t": target, "f": t0.to_rfc3339()}));
    assert_eq!(again["replayForwardTarget"], 50, "everything from t0 is pending again");
    pump(&app, chrono::Utc::now(), 20).await;
    assert_eq!(counts(&admin), json!({"pending": 0, "delivered": 50, "dead": 0}));
    let s = lock(&seen);
    assert_eq!(s.events.len(), 50, "each event once at the receiver (replays come as duplicates)");
    assert_eq!(s.bad_signatures, 0);
    drop(s);
    receiver.stop();
    west_receiver.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_days_energy_and_alarm_changes_reach_the_park_signed_and_replay_from_their_sources() {
    use chrono::TimeZone;
    let app = TestApp::spawn().await;
    let admin = app.admin("daily").await;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let receiver = Receiver::start("127.0.0.1:0".parse().unwrap(), seen.clone()).await;
    let park = admin.ok(r#"mutation { createProperty(input: {name: "Park"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let r = admin.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000000931\", phases: 1, linkType: FOUR_G, ctRatio: 2}) { meter { id } credentials { username } } }",
        json!({"p": park}),
    )["registerMeter"]
        .clone();
    let (meter, device) = (r["meter"]["id"].as_str().unwrap().to_string(), r["credentials"]["username"].as_str().unwrap().to_string());
    let created = admin.ok(
        "mutation($i: CreateForwardTargetInput!) { createForwardTarget(input: $i) { secret target { id events } } }",
        json!({"i": {"name": "Park", "url": format!("http://{}/in", receiver.addr), "events": ["DAILY_ENERGY", "ALARM"]}}),
    )["createForwardTarget"]
        .clone();
    assert_eq!(created["target"]["events"], json!(["ALARM", "DAILY_ENERGY"]));
    lock(&seen).secret = created["secret"].as_str().unwrap().to_string();
    let target = created["target"]["id"].as_str().unwrap().to_string();

    // Readings across two local midnights: 10.00 at the first, 17.50 at the second (× CT 2).
    let tz = chrono_tz::Asia::Shanghai;
    let day = (chrono::Utc::now().with_timezone(&tz) - chrono::Duration::days(3)).date_naive();
    let midnight = |d: chrono::NaiveDate| tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap()).unwrap().with_timezone(&chrono::Utc);
    let (m1, m2) = (midnight(day), midnight(day + chrono::Duration::days(1)));
    app.app
        .store
        .store_readings(vec![
            reading(&device, "000000000931", m1 - chrono::Duration::minutes(15), "10.00"),
            reading(&device, "000000000931", m1 + chrono::Duration::hours(12), "14.00"),
            reading(&device, "000000000931", m2 - chrono::Duration::minutes(15), "17.50"),
        ])
        .await
        .unwrap();
    let t = app.app.store.tenant(admin.tenant.clone());
    t.freeze("DAILY", m1).await.unwrap();
    t.freeze("DAILY", m2).await.unwrap();
    // The same freeze again queues nothing new.
    t.freeze("DAILY", m2).await.unwrap();
    // The meter falls silent: a lost-link alarm is raised.
    app.app.store.platform().sweep_link_state(chrono::Utc::now() + chrono::Duration::days(1)).await.unwrap();
    let changes = app.app.store.platform().evaluate_alarms(chrono::Utc::now()).await.unwrap();
    assert!(changes.iter().any(|c| c.change == "RAISED"), "{changes:?}");
    pump(&app, chrono::Utc::now(), 10).await;

    let events = lock(&seen).events.clone();
    // (The app's own freeze job may add today's and yesterday's days: only ours are looked at.)
    let ours = |e: &&Value| {
        let to = e["data"]["to"].as_str().unwrap_or("");
        [m1, m2].iter().any(|m| to.starts_with(&m.format("%Y-%m-%dT%H:%M").to_string()))
    };
    let daily: Vec<&Value> = events.iter().filter(|e| e["kind"] == "DAILY_ENERGY").filter(ours).collect();
    assert_eq!(daily.len(), 2, "{events:?}");
    let second = daily
        .iter()
        .find(|e| e["data"]["to"].as_str().map(|s| s.starts_with(&m2.format("%Y-%m-%dT%H:%M").to_string())) == Some(true))
        .unwrap();
    assert_eq!(
        (
            second["data"]["meterId"].as_str(),
            second["data"]["startRegister"].as_str(),
            second["data"]["endRegister"].as_str(),
            second["data"]["usage"].as_str()
        ),
        (Some(meter.as_str()), Some("10.00"), Some("17.50"), Some("15.00")),
        "{second}"
    );
    assert_eq!(second["data"]["ratio"], 2);
    let alarms: Vec<&Value> = events.iter().filter(|e| e["kind"] == "ALARM").collect();
    assert!(
        alarms
            .iter()
            .any(|a| a["data"]["change"] == "RAISED" && a["data"]["kind"] == "METER_LOST" && a["data"]["subjectId"] == meter.as_str()),
        "{alarms:?}"
    );
    let (bad, duplicates) = {
        let s = lock(&seen);
        (s.bad_signatures, s.duplicates)
    };
    assert_eq!((bad, duplicates), (0, 0));

    // A replay from before the first midnight sends them again from the freezes and alarms.
    let replayed = admin.ok(
        "mutation($t: ID!, $f: DateTime!) { replayForwardTarget(id: $t, from: $f) }",
        json!({"t": target, "f": (m1 - chrono::Duration::hours(1)).to_rfc3339()}),
    )["replayForwardTarget"]
        .as_i64()
        .unwrap();
    assert!(replayed >= 3, "two days and an alarm queued again: {replayed}");
    let before = lock(&seen).requests;
    pump(&app, chrono::Utc::now(), 10).await;
    assert!(lock(&seen).requests > before);
    assert_eq!(lock(&seen).duplicates as i64, replayed, "the receiver saw each again, by its id");
}

/// A park's own Mosquitto with a login, on a port of its own.
struct ParkBroker {
    child: std::process::Child,
    port: u16,
    conf: std::path::PathBuf,
}

impl ParkBroker {
    fn start(dir: &std::path::Path, port: u16) -> ParkBroker {
        std::fs::create_dir_all(dir).unwrap();
        let passwd = dir.join("passwd");
        let ok = std::process::Command::new("mosquitto_passwd")
            .arg("-b")
            .arg("-c")
            .arg(&passwd)
            .args(["park", "park-secret"])
            .status()
            .expect("mosquitto_passwd (installed with mosquitto by .ci/run)");
        assert!(ok.success());
        let conf = dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\npersistence false\n", passwd.display()),
        )
        .unwrap();
        let child =
            std::process::Command::new("mosquitto").arg("-c").arg(&conf).spawn().expect("the mosquitto binary (installed by .ci/run)");
        ParkBroker { child, port, conf }
    }

    async fn up(&self) {
        let port = self.port;
        assert!(
            TestApp::eventually(
                std::time::Duration::from_secs(5),
                || async move { std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() }
            )
            .await
        );
    }

    fn restart(mut self) -> ParkBroker {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let child = std::process::Command::new("mosquitto").arg("-c").arg(&self.conf).spawn().unwrap();
        ParkBroker { child, port: self.port, conf: self.conf.clone() }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ParkBroker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A park platform's subscriber: every publish under `park/energy/#` with its user properties.
type Got = Arc<Mutex<Vec<(String, Vec<u8>, HashMap<String, String>)>>>;

async fn park_subscriber(port: u16, got: Got) -> rumqttc::v5::AsyncClient {
    use rumqttc::v5::{AsyncClient, Event, Incoming, MqttOptions, mqttbytes::QoS};
    let mut o = MqttOptions::new(format!("park-platform-{}", chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)), "127.0.0.1", port);
    o.set_credentials("park", "park-secret");
    let (client, mut events) = AsyncClient::new(o, 16);
    let (tx, mut subscribed) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Incoming::Publish(p))) => {
                    let props: HashMap<String, String> = p.properties.map(|p| p.user_properties.into_iter().collect()).unwrap_or_default();
                    got.lock().unwrap().push((String::from_utf8_lossy(&p.topic).to_string(), p.payload.to_vec(), props));
                }
                Ok(Event::Incoming(Incoming::SubAck(_))) => {
                    let _ = tx.send(());
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    client.subscribe("park/energy/#", QoS::AtLeastOnce).await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), subscribed.recv()).await.unwrap().unwrap();
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn to_the_parks_own_broker_every_event_arrives_signed_in_order_through_its_login() {
    if std::env::var("VOLTLEDGER_TEST_MQTT_URL").is_err() {
        return; // embedded-defaults pass: the park's Mosquitto belongs to the external-broker pass
    }
    let app = TestApp::spawn().await;
    let admin = app.admin("forward-mqtt").await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let broker = ParkBroker::start(&app.data_dir.join("park-broker"), port);
    broker.up().await;
    let got: Got = Arc::default();
    let _sub = park_subscriber(port, got.clone()).await;

    let p = admin.ok(r#"mutation { createProperty(input: {name: "Park"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let mut devices = Vec::new();
    for address in ["000000000931", "000000000932"] {
        let r = admin.ok(
            "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 1, linkType: FOUR_G}) { meter { id } credentials { username } } }",
            json!({"p": p, "a": address}),
        )["registerMeter"]
            .clone();
        devices.push((r["meter"]["id"].as_str().unwrap().to_string(), r["credentials"]["username"].as_str().unwrap().to_string(), address));
    }

    const CREATE: &str =
        "mutation($i: CreateForwardTargetInput!) { createForwardTarget(input: $i) { secret target { id transport username url } } }";
    let url = format!("mqtt://127.0.0.1:{port}/park/energy");
    let input = |url: &str, user: Option<&str>, pass: Option<&str>| json!({"i": {"name": "Park broker", "url": url, "events": ["READING"], "transport": "MQTT", "username": user, "password": pass}});
    // Refused by field: no login, a wildcard or no prefix, http, a login on a webhook.
    assert_eq!(admin.fails(CREATE, input(&url, None, Some("x")))["field"], "username");
    assert_eq!(admin.fails(CREATE, input(&url, Some("park"), None))["field"], "password");
    assert_eq!(admin.fails(CREATE, input(&format!("mqtt://127.0.0.1:{port}/park/#"), Some("park"), Some("x")))["field"], "url");
    assert_eq!(admin.fails(CREATE, input(&format!("mqtt://127.0.0.1:{port}"), Some("park"), Some("x")))["field"], "url");
    assert_eq!(admin.fails(CREATE, input("http://127.0.0.1/park", Some("park"), Some("x")))["field"], "url");
    let webhook_with_login =
        json!({"i": {"name": "W", "url": "http://127.0.0.1:9/in", "events": ["READING"], "username": "park", "password": "x"}});
    assert_eq!(admin.fails(CREATE, webhook_with_login)["field"], "username");

    let created = admin.ok(CREATE, input(&url, Some("park"), Some("park-secret")))["createForwardTarget"].clone();
    assert_eq!((created["target"]["transport"].as_str(), created["target"]["username"].as_str()), (Some("MQTT"), Some("park")));
    let secret = created["secret"].as_str().unwrap().to_string();
    let target = created["target"]["id"].clone();
    // A target with the wrong password: its events wait, the log says why.
    let wrong = admin.ok(CREATE, input(&url, Some("park"), Some("not-the-password")))["createForwardTarget"]["target"]["id"].clone();
    let listed = admin.gql("{ forwardTargets { id url username transport } }", json!({})).to_string();
    assert!(!listed.contains("park-secret") && !listed.contains("not-the-password"), "a broker password is never shown");
    let other = app.admin("elsewhere-mqtt").await;
    assert_eq!(other.ok("{ forwardTargets { id } }", json!({}))["forwardTargets"], json!([]));

    let t0 = chrono::Utc::now() - chrono::Duration::hours(3);
    let mut batch = Vec::new();
    for i in 0..8 {
        for (_, device, address) in &devices {
            batch.push(reading(device, address, t0 + chrono::Duration::minutes(15 * i), &format!("{}.00", 200 + i)));
        }
    }
    app.app.store.store_readings(batch).await.unwrap();
    let now = pump(&app, chrono::Utc::now(), 3).await;

    // The broker goes down mid-stream: the pass fails and keeps the events; back up, they go.
    let mut broker = broker;
    broker.stop();
    let mut later = Vec::new();
    for i in 8..12 {
        for (_, device, address) in &devices {
            later.push(reading(device, address, t0 + chrono::Duration::minutes(15 * i), &format!("{}.00", 200 + i)));
        }
    }
    app.app.store.store_readings(later).await.unwrap();
    server::forward::run_pass(&app.app.store, now).await.unwrap();
    let broker = broker.restart();
    broker.up().await;
    let _sub2 = park_subscriber(port, got.clone()).await;
    pump(&app, now + chrono::Duration::hours(1), 5).await;

    let targets = admin.ok("{ forwardTargets { id counts { pending delivered dead } attempts(first: 100) { status error events } } }", json!({}))
        ["forwardTargets"]
        .as_array()
        .unwrap()
        .clone();
    let find = |id: &Value| targets.iter().find(|t| &t["id"] == id).unwrap().clone();
    let ours = find(&target);
    assert_eq!(ours["counts"], json!({"pending": 0, "delivered": 24, "dead": 0}), "{ours}");
    let errors: Vec<String> = ours["attempts"].as_array().unwrap().iter().map(|a| a["error"].as_str().unwrap().to_string()).collect();
    assert!(errors.iter().any(|e| e.contains("broker connection")), "the outage is in the log: {errors:?}");
    let refused = find(&wrong);
    assert_eq!(refused["counts"]["delivered"], 0);
    assert_eq!(refused["counts"]["pending"], 24, "{refused}");
    let why = refused["attempts"][0]["error"].as_str().unwrap();
    assert!(why.contains("refused the connection"), "{why}");

    // Every event once (the outage's are not lost), signed, keyed and on its meter's topic, in
    // order per meter.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let got = got.lock().unwrap().clone();
    let mut ids = HashSet::new();
    for (topic, payload, props) in &got {
        let ts = props.get("X-VoltLedger-Timestamp").unwrap();
        let sig = props.get("X-VoltLedger-Signature").unwrap();
        assert!(server::forward::verify(&secret, ts, sig, payload, chrono::Utc::now().timestamp(), 300), "signature of {topic}");
        let event: Value = serde_json::from_slice(payload).unwrap();
        assert_eq!(props.get("Idempotency-Key").map(String::as_str), event["id"].as_str());
        assert_eq!(topic, &format!("park/energy/reading/{}", event["data"]["meterId"].as_str().unwrap()));
        ids.insert(event["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 24, "every reading of both meters");
    for (meter, _, _) in &devices {
        let times: Vec<String> = got
            .iter()
            .map(|(_, p, _)| serde_json::from_slice::<Value>(p).unwrap())
            .filter(|e| e["data"]["meterId"] == meter.as_str())
            .map(|e| e["data"]["readAt"].as_str().unwrap().to_string())
            .collect();
        let mut sorted = times.clone();
        sorted.sort();
        assert_eq!(times, sorted, "meter {meter} in order");
    }
    let first = got
        .iter()
        .map(|(_, p, _)| serde_json::from_slice::<Value>(p).unwrap())
        .find(|e| e["data"]["meterId"] == devices[0].0.as_str())
        .unwrap();
    assert_eq!(first["data"]["values"]["energyTotal"], "200.00");
}
