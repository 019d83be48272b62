//! Device logins on a real Mosquitto: the generated password file and the pattern ACL of
//! `infra/mosquitto/acl` let a device publish and subscribe only on its own topics.
//! Runs in the external-broker pass (VOLTLEDGER_TEST_MQTT_URL set); needs `mosquitto`.

use std::process::{Child, Command};
use std::time::Duration;

use rumqttc::{AsyncClient, ConnectionError, Event, MqttOptions, Packet, QoS, SubscribeReasonCode};
use serde_json::json;
use tests::TestApp;
use tokio::sync::mpsc;

struct Broker(Child);

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

enum Seen {
    Publish(String, Vec<u8>),
    SubAck(Vec<SubscribeReasonCode>),
    Refused,
}

fn connect(port: u16, user: &str, pass: &str) -> (AsyncClient, mpsc::UnboundedReceiver<Seen>) {
    let mut o = MqttOptions::new(user, "127.0.0.1", port);
    o.set_credentials(user, pass);
    let (client, mut events) = AsyncClient::new(o, 16);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let seen = match events.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => Seen::Publish(p.topic.clone(), p.payload.to_vec()),
                Ok(Event::Incoming(Packet::SubAck(a))) => Seen::SubAck(a.return_codes),
                Ok(_) => continue,
                Err(ConnectionError::ConnectionRefused(_)) => Seen::Refused,
                Err(_) => return,
            };
            let refused = matches!(seen, Seen::Refused);
            if tx.send(seen).is_err() || refused {
                return;
            }
        }
    });
    (client, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Option<Seen> {
    tokio::time::timeout(Duration::from_secs(3), rx.recv()).await.ok().flatten()
}

async fn collect(rx: &mut mpsc::UnboundedReceiver<Seen>, wait: Duration) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    while let Ok(Some(seen)) = tokio::time::timeout(wait, rx.recv()).await {
        if let Seen::Publish(t, p) = seen {
            out.push((t, p));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_mosquitto_a_device_may_use_only_its_own_topics() {
    if std::env::var("VOLTLEDGER_TEST_MQTT_URL").is_err() {
        return; // embedded-defaults pass: this test belongs to the external-broker pass
    }
    let app = TestApp::spawn().await;
    let admin = app.admin("mosquitto").await;
    let p = admin.ok(r#"mutation { createProperty(input: {name: "P"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let mut creds = Vec::new();
    for address in ["000000000301", "000000000302"] {
        let r = admin.ok(
            "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 1, linkType: FOUR_G}) { credentials { username password } } }",
            json!({"p": p, "a": address}),
        );
        let c = &r["registerMeter"]["credentials"];
        creds.push((c["username"].as_str().unwrap().to_string(), c["password"].as_str().unwrap().to_string()));
    }
    let (a, b) = (&creds[0], &creds[1]);

    let dir = app.data_dir.join("mosquitto");
    std::fs::create_dir_all(&dir).unwrap();
    let lines = app.app.store.platform().mosquitto_passwords(Some("bridge-secret")).await.unwrap();
    assert!(lines.iter().any(|l| l.starts_with(&format!("{}:$7$101$", a.0))));
    std::fs::write(dir.join("passwd"), lines.join("\n") + "\n").unwrap();
    let acl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/mosquitto/acl")).unwrap();
    std::fs::write(dir.join("acl"), acl).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let conf = format!(
        "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\nacl_file {}\npersistence false\n",
        dir.join("passwd").display(),
        dir.join("acl").display()
    );
    std::fs::write(dir.join("mosquitto.conf"), conf).unwrap();
    let child =
        Command::new("mosquitto").arg("-c").arg(dir.join("mosquitto.conf")).spawn().expect("the mosquitto binary (installed by .ci/run)");
    let _broker = Broker(child);
    assert!(TestApp::eventually(Duration::from_secs(5), || async { std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() }).await);

    // The bridge user reads every uplink.
    let (bridge, mut bridge_rx) = connect(port, "voltledger-bridge", "bridge-secret");
    bridge.subscribe("vl/up/#", QoS::AtLeastOnce).await.unwrap();
    assert!(matches!(next(&mut bridge_rx).await, Some(Seen::SubAck(c)) if c == vec![SubscribeReasonCode::Success(QoS::AtLeastOnce)]));

    // Device A: its own downlink is allowed, B's is refused.
    let (dev_a, mut a_rx) = connect(port, &a.0, &a.1);
    dev_a.subscribe(format!("vl/down/{}", a.0), QoS::AtLeastOnce).await.unwrap();
    assert!(matches!(next(&mut a_rx).await, Some(Seen::SubAck(c)) if c == vec![SubscribeReasonCode::Success(QoS::AtLeastOnce)]));
    // Mosquitto 2.0 answers a denied v3.1.1 subscription with a SUBACK (0x80 or, in older
    // releases, the granted QoS) and then delivers nothing on it: the delivery is what counts.
    dev_a.subscribe(format!("vl/down/{}", b.0), QoS::AtLeastOnce).await.unwrap();
    assert!(matches!(next(&mut a_rx).await, Some(Seen::SubAck(_))));

    // A publishes on its own uplink and on B's: only its own reaches the bridge.
    dev_a.publish(format!("vl/up/{}", a.0), QoS::AtLeastOnce, false, b"own".to_vec()).await.unwrap();
    dev_a.publish(format!("vl/up/{}", b.0), QoS::AtLeastOnce, false, b"spoofed".to_vec()).await.unwrap();
    let got = collect(&mut bridge_rx, Duration::from_millis(1500)).await;
    assert_eq!(got, vec![(format!("vl/up/{}", a.0), b"own".to_vec())]);

    // Commands for B never reach A; A's own do.
    bridge.publish(format!("vl/down/{}", b.0), QoS::AtLeastOnce, false, b"for-b".to_vec()).await.unwrap();
    bridge.publish(format!("vl/down/{}", a.0), QoS::AtLeastOnce, false, b"for-a".to_vec()).await.unwrap();
    let got = collect(&mut a_rx, Duration::from_millis(1500)).await;
    assert_eq!(got, vec![(format!("vl/down/{}", a.0), b"for-a".to_vec())]);

    // A wrong password, or another device's password, is refused at CONNECT.
    let (_c, mut rx) = connect(port, &a.0, "wrong");
    assert!(matches!(next(&mut rx).await, Some(Seen::Refused)));
    let (_c, mut rx) = connect(port, &a.0, &b.1);
    assert!(matches!(next(&mut rx).await, Some(Seen::Refused)));
}
