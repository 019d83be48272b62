//! The embedded broker (the single-box default) holds its walls when attacked: a device
//! login of one tenant can neither read nor write another device's topics — no `#`, no
//! `$share`, no other uplink or downlink, no will on someone else's topic — and a revoked
//! login loses its live connection. The broker runs here against the app's store on both
//! passes (SQLite and PostgreSQL), the test itself acting as the bridge.

use std::time::Duration;

use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet, QoS};
use serde_json::json;
use tests::{Admin, TestApp};
use tokio::sync::mpsc;

#[derive(Debug)]
enum Seen {
    Publish(String, Vec<u8>),
    SubAck,
    Closed,
}

fn connect(port: u16, client_id: &str, user: &str, pass: &str, will: Option<&str>) -> (AsyncClient, mpsc::UnboundedReceiver<Seen>) {
    connect_with(port, client_id, user, pass, will, |_| {})
}

fn connect_with(
    port: u16,
    client_id: &str,
    user: &str,
    pass: &str,
    will: Option<&str>,
    tune: impl FnOnce(&mut MqttOptions),
) -> (AsyncClient, mpsc::UnboundedReceiver<Seen>) {
    let mut o = MqttOptions::new(client_id, "127.0.0.1", port);
    tune(&mut o);
    o.set_credentials(user, pass);
    o.set_keep_alive(Duration::from_secs(5));
    if let Some(topic) = will {
        o.set_last_will(LastWill::new(topic, b"gone".to_vec(), QoS::AtLeastOnce, false));
    }
    let (client, mut events) = AsyncClient::new(o, 16);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let seen = match events.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => Seen::Publish(p.topic.clone(), p.payload.to_vec()),
                Ok(Event::Incoming(Packet::SubAck(_))) => Seen::SubAck,
                Ok(_) => continue,
                Err(_) => {
                    let _ = tx.send(Seen::Closed);
                    return; // no reconnect: a closed connection stays closed
                }
            };
            if tx.send(seen).is_err() {
                return;
            }
        }
    });
    (client, rx)
}

/// What arrives within `wait`.
async fn drain(rx: &mut mpsc::UnboundedReceiver<Seen>, wait: Duration) -> Vec<Seen> {
    let mut out = Vec::new();
    while let Ok(Some(seen)) = tokio::time::timeout(wait, rx.recv()).await {
        let closed = matches!(seen, Seen::Closed);
        out.push(seen);
        if closed {
            break;
        }
    }
    out
}

fn closed(seen: &[Seen]) -> bool {
    matches!(seen.last(), Some(Seen::Closed))
}

fn device(admin: &Admin, address: &str) -> (serde_json::Value, String, String) {
    let p = admin.ok(r#"mutation { createProperty(input: {name: "P"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let r = admin.ok(
        "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 1, linkType: FOUR_G}) { meter { id } credentials { username password } } }",
        json!({"p": p, "a": address}),
    );
    let c = &r["registerMeter"]["credentials"];
    (r["registerMeter"]["meter"]["id"].clone(), c["username"].as_str().unwrap().to_string(), c["password"].as_str().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_the_embedded_broker_a_device_may_use_only_its_own_topics_and_a_revoked_login_is_dropped() {
    let app = TestApp::spawn().await;
    let (ta, tb) = (app.admin("broker-a").await, app.admin("broker-b").await);
    let (_, a_user, a_pass) = device(&ta, "000000000401");
    let (b_meter, b_user, b_pass) = device(&tb, "000000000402");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    mqtt_bridge::broker::start_embedded(listen, None, std::sync::Arc::new(app.app.store.clone())).unwrap();

    // The bridge reads every uplink; device A its own downlink.
    let (bridge, mut bridge_rx) = connect(port, "voltledger-bridge-t1", "voltledger-bridge", "bridge-test-secret", None);
    bridge.subscribe("vl/up/#", QoS::AtLeastOnce).await.unwrap();
    assert!(matches!(drain(&mut bridge_rx, Duration::from_millis(800)).await.first(), Some(Seen::SubAck)));
    let (dev_a, mut a_rx) = connect(port, &a_user, &a_user, &a_pass, None);
    dev_a.subscribe(format!("vl/down/{a_user}"), QoS::AtLeastOnce).await.unwrap();
    assert!(matches!(drain(&mut a_rx, Duration::from_millis(800)).await.first(), Some(Seen::SubAck)));

    // B (another tenant) may not listen to everything, nor to a shared group of uplinks,
    // nor to A's downlink: each attempt closes its connection, and it receives nothing.
    for filter in ["#".to_string(), "vl/up/+".to_string(), "$share/g/vl/up/+".to_string(), format!("vl/down/{a_user}")] {
        let (dev_b, mut b_rx) = connect(port, &b_user, &b_user, &b_pass, None);
        dev_b.subscribe(filter.clone(), QoS::AtLeastOnce).await.unwrap();
        dev_a.publish(format!("vl/up/{a_user}"), QoS::AtLeastOnce, false, b"a-reading".to_vec()).await.unwrap();
        let seen = drain(&mut b_rx, Duration::from_millis(1500)).await;
        assert!(closed(&seen), "subscribing to {filter}: {seen:?}");
        assert!(!seen.iter().any(|s| matches!(s, Seen::Publish(..))), "B received A's traffic through {filter}: {seen:?}");
    }
    let got = drain(&mut bridge_rx, Duration::from_millis(500)).await;
    assert!(got.iter().all(|s| matches!(s, Seen::Publish(t, p) if *t == format!("vl/up/{a_user}") && p == b"a-reading")), "{got:?}");

    // B may not publish on A's uplink (readings in A) nor on A's downlink (commands to A).
    for topic in [format!("vl/up/{a_user}"), format!("vl/down/{a_user}")] {
        let (dev_b, mut b_rx) = connect(port, &b_user, &b_user, &b_pass, None);
        dev_b.publish(topic.clone(), QoS::AtLeastOnce, false, b"forged".to_vec()).await.unwrap();
        assert!(closed(&drain(&mut b_rx, Duration::from_millis(1500)).await), "publishing on {topic}");
    }
    let to_bridge = drain(&mut bridge_rx, Duration::from_millis(500)).await;
    assert!(!to_bridge.iter().any(|s| matches!(s, Seen::Publish(_, p) if p == b"forged")), "{to_bridge:?}");
    let to_a = drain(&mut a_rx, Duration::from_millis(300)).await;
    assert!(!to_a.iter().any(|s| matches!(s, Seen::Publish(..))), "{to_a:?}");

    // A will on A's topic is refused at CONNECT (it would be published when B leaves).
    let (_willful, mut w_rx) = connect(port, &b_user, &b_user, &b_pass, Some(&format!("vl/up/{a_user}")));
    assert!(closed(&drain(&mut w_rx, Duration::from_millis(1500)).await));

    // B on its own topics works.
    let (dev_b, mut b_rx) = connect(port, &b_user, &b_user, &b_pass, None);
    dev_b.subscribe(format!("vl/down/{b_user}"), QoS::AtLeastOnce).await.unwrap();
    assert!(matches!(drain(&mut b_rx, Duration::from_millis(800)).await.first(), Some(Seen::SubAck)));
    dev_b.publish(format!("vl/up/{b_user}"), QoS::AtLeastOnce, false, b"b-own".to_vec()).await.unwrap();
    let got = drain(&mut bridge_rx, Duration::from_millis(800)).await;
    assert!(got.iter().any(|s| matches!(s, Seen::Publish(t, p) if *t == format!("vl/up/{b_user}") && p == b"b-own")), "{got:?}");

    // A command reaches the one device whose downlink it names (the broker finds exact
    // filters by hash since issue 22): B's command reaches B only, and no spelling near A's
    // topic reaches A; A's own topic does.
    bridge.publish(format!("vl/down/{b_user}"), QoS::AtLeastOnce, false, b"cmd-b".to_vec()).await.unwrap();
    let near = [
        format!("vl/down/{a_user}/"),
        format!("vl/down/{a_user}x"),
        format!("vl/down/{}", a_user.to_uppercase()),
        format!("VL/down/{a_user}"),
        format!("vl/down//{a_user}"),
        format!("/vl/down/{a_user}"),
    ];
    for topic in &near {
        bridge.publish(topic.clone(), QoS::AtLeastOnce, false, b"near-a".to_vec()).await.unwrap();
    }
    let to_b = drain(&mut b_rx, Duration::from_millis(800)).await;
    assert!(to_b.iter().any(|s| matches!(s, Seen::Publish(t, p) if *t == format!("vl/down/{b_user}") && p == b"cmd-b")), "{to_b:?}");
    assert!(!to_b.iter().any(|s| matches!(s, Seen::Publish(_, p) if p == b"near-a")), "{to_b:?}");
    let to_a = drain(&mut a_rx, Duration::from_millis(300)).await;
    assert!(!to_a.iter().any(|s| matches!(s, Seen::Publish(..))), "A received another topic's command: {to_a:?}");
    bridge.publish(format!("vl/down/{a_user}"), QoS::AtLeastOnce, false, b"cmd-a".to_vec()).await.unwrap();
    let to_a = drain(&mut a_rx, Duration::from_millis(800)).await;
    assert!(to_a.iter().any(|s| matches!(s, Seen::Publish(t, p) if *t == format!("vl/down/{a_user}") && p == b"cmd-a")), "{to_a:?}");
    assert!(!drain(&mut b_rx, Duration::from_millis(300)).await.iter().any(|s| matches!(s, Seen::Publish(..))));

    // A retained message (replayed to every later subscriber, even after a revocation) is
    // the bridge's only.
    let (retainer, mut r_rx) = connect(port, &b_user, &b_user, &b_pass, None);
    retainer.publish(format!("vl/up/{b_user}"), QoS::AtLeastOnce, true, b"sticky".to_vec()).await.unwrap();
    assert!(closed(&drain(&mut r_rx, Duration::from_millis(1500)).await), "a retained publish closes the device's connection");
    let (dev_b, mut b_rx) = connect(port, &b_user, &b_user, &b_pass, None);
    dev_b.subscribe(format!("vl/down/{b_user}"), QoS::AtLeastOnce).await.unwrap();
    assert!(matches!(drain(&mut b_rx, Duration::from_millis(800)).await.first(), Some(Seen::SubAck)));

    // Revoking B's login drops its open connection at its next packet (at the latest its
    // keep-alive); its publish is not delivered.
    tb.ok("mutation($m: ID!) { revokeDeviceCredential(input: {meterId: $m}) }", json!({"m": b_meter}));
    dev_b.publish(format!("vl/up/{b_user}"), QoS::AtLeastOnce, false, b"after-revoke".to_vec()).await.unwrap();
    assert!(closed(&drain(&mut b_rx, Duration::from_secs(8)).await), "a revoked login keeps its connection");
    let got = drain(&mut bridge_rx, Duration::from_millis(500)).await;
    assert!(!got.iter().any(|s| matches!(s, Seen::Publish(_, p) if p == b"after-revoke")), "{got:?}");
    // …and cannot log in again.
    let (_again, mut again_rx) = connect(port, &b_user, &b_user, &b_pass, None);
    assert!(closed(&drain(&mut again_rx, Duration::from_millis(1500)).await));
}

/// The embedded broker's connection buffers start small and grow with the traffic (a carried
/// rumqttd patch, issue 22), so the packet limit is what bounds them: a device that sends a
/// publish over the limit (64 KiB) on its own topic is cut off and nothing of it reaches the
/// bridge, and the broker goes on serving — the same device's next small publish arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_oversized_publish_closes_the_device_connection_and_reaches_no_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin("broker-big").await;
    let (_, user, pass) = device(&admin, "000000000403");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    mqtt_bridge::broker::start_embedded(listen, None, std::sync::Arc::new(app.app.store.clone())).unwrap();
    let roomy = |o: &mut MqttOptions| {
        o.set_max_packet_size(1 << 20, 1 << 20);
    };
    let (bridge, mut bridge_rx) = connect_with(port, "voltledger-bridge-t3", "voltledger-bridge", "bridge-test-secret", None, roomy);
    bridge.subscribe("vl/up/#", QoS::AtLeastOnce).await.unwrap();
    assert!(matches!(drain(&mut bridge_rx, Duration::from_millis(800)).await.first(), Some(Seen::SubAck)));

    // The client lets itself send 1 MiB; the broker takes 64 KiB: 40 KiB goes through (the
    // buffers grow past their first size), 200 KiB closes the connection.
    let (big, mut big_rx) = connect_with(port, &user, &user, &pass, None, roomy);
    big.publish(format!("vl/up/{user}"), QoS::AtLeastOnce, false, vec![0x68u8; 40 * 1024]).await.unwrap();
    let got = drain(&mut bridge_rx, Duration::from_millis(1500)).await;
    assert!(
        got.iter().any(|s| matches!(s, Seen::Publish(_, p) if p.len() == 40 * 1024)),
        "a 40 KiB publish did not arrive: {} packets",
        got.len()
    );
    big.publish(format!("vl/up/{user}"), QoS::AtLeastOnce, false, vec![0x68u8; 200 * 1024]).await.unwrap();
    assert!(closed(&drain(&mut big_rx, Duration::from_secs(3)).await), "an oversized publish keeps its connection");
    let got = drain(&mut bridge_rx, Duration::from_millis(500)).await;
    assert!(!got.iter().any(|s| matches!(s, Seen::Publish(..))), "the oversized publish reached the bridge: {} packets", got.len());

    let (small, mut small_rx) = connect(port, &user, &user, &pass, None);
    small.publish(format!("vl/up/{user}"), QoS::AtLeastOnce, false, b"small".to_vec()).await.unwrap();
    let got = drain(&mut bridge_rx, Duration::from_millis(1500)).await;
    assert!(got.iter().any(|s| matches!(s, Seen::Publish(t, p) if *t == format!("vl/up/{user}") && p == b"small")), "{got:?}");
    assert!(!closed(&drain(&mut small_rx, Duration::from_millis(300)).await));
}

/// A device connects over TLS to the embedded broker's TLS listener (MQTT over TLS, issue 21)
/// with its own login and its publish reaches the bridge on the plain loopback listener.
/// Attacks: plain MQTT on the TLS port, a client that does not trust the certificate, a
/// wrong password over TLS, and a client that opens TCP and never speaks — which must not
/// hold the listener up for the next device.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn devices_reach_the_embedded_broker_over_tls_and_a_silent_client_does_not_hold_the_listener() {
    let app = TestApp::spawn().await;
    let admin = app.admin("broker-tls").await;
    let (_, user, pass) = device(&admin, "000000000411");
    let dir = std::env::temp_dir().join(format!("vl-broker-tls-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let rcgen::CertifiedKey { cert, key_pair } = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key_pair.serialize_pem()).unwrap();
    let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (listen, tls_listen) = (free(), free());
    // Files that are not what they claim are refused at start, not at the first handshake.
    let wrong = mqtt_bridge::broker::TlsListener { listen: tls_listen, cert_file: key_file.clone(), key_file: key_file.clone() };
    let refused = mqtt_bridge::broker::start_embedded(free(), Some(wrong), std::sync::Arc::new(app.app.store.clone()));
    assert!(refused.is_err_and(|e| e.to_string().contains("holds no PEM CERTIFICATE")));
    let tls = mqtt_bridge::broker::TlsListener { listen: tls_listen, cert_file: cert_file.clone(), key_file: key_file.clone() };
    mqtt_bridge::broker::start_embedded(listen, Some(tls), std::sync::Arc::new(app.app.store.clone())).unwrap();

    let (bridge, mut bridge_rx) = connect(listen.port(), "voltledger-bridge-tls", "voltledger-bridge", "bridge-test-secret", None);
    bridge.subscribe("vl/up/#", QoS::AtLeastOnce).await.unwrap();
    assert!(matches!(drain(&mut bridge_rx, Duration::from_millis(800)).await.first(), Some(Seen::SubAck)));

    // Silent clients: TCP open, no handshake. They must not stop the device below.
    let _silent: Vec<_> = (0..3).map(|_| std::net::TcpStream::connect(tls_listen).unwrap()).collect();

    // rumqttc's simple TLS configuration uses the process's default rustls provider, which
    // start_embedded installed (ring) with its TLS listener.
    let over_tls = |client_id: &str, user: &str, pass: &str, ca: Vec<u8>| {
        let mut o = MqttOptions::new(client_id, "localhost", tls_listen.port());
        o.set_credentials(user, pass);
        o.set_keep_alive(Duration::from_secs(5));
        o.set_transport(rumqttc::Transport::tls_with_config(rumqttc::TlsConfiguration::Simple { ca, alpn: None, client_auth: None }));
        o
    };
    let outcome = |o: MqttOptions| async move {
        let (client, mut events) = AsyncClient::new(o, 16);
        let connected = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(a))) => return a.code == rumqttc::ConnectReturnCode::Success,
                    Ok(_) => continue,
                    Err(_) => return false,
                }
            }
        })
        .await
        .unwrap_or(false);
        (client, events, connected)
    };

    let (device_client, mut device_events, connected) = outcome(over_tls(&user, &user, &pass, cert.pem().into_bytes())).await;
    assert!(connected, "the device connects over TLS while silent clients hold connections open");
    device_client.publish(format!("vl/up/{user}"), QoS::AtLeastOnce, false, b"over-tls".to_vec()).await.unwrap();
    tokio::spawn(async move { while device_events.poll().await.is_ok() {} });
    let seen = drain(&mut bridge_rx, Duration::from_millis(1500)).await;
    assert!(
        seen.iter().any(|s| matches!(s, Seen::Publish(t, p) if *t == format!("vl/up/{user}") && p == b"over-tls")),
        "the bridge received the device's publish: {seen:?}"
    );

    // A wrong password over TLS, a client trusting another certificate, plain MQTT on the
    // TLS port: none gets in.
    let (_, _, ok) = outcome(over_tls(&user, &user, "not-the-password", cert.pem().into_bytes())).await;
    assert!(!ok, "a wrong password over TLS is refused");
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap().cert.pem().into_bytes();
    let (_, _, ok) = outcome(over_tls(&user, &user, &pass, other)).await;
    assert!(!ok, "a client that does not trust the broker's certificate does not connect");
    let mut plain = MqttOptions::new(user.clone(), "127.0.0.1", tls_listen.port());
    plain.set_credentials(user.clone(), pass.clone());
    let (_, _, ok) = outcome(plain).await;
    assert!(!ok, "plain MQTT on the TLS port does not connect");
    let _ = std::fs::remove_dir_all(&dir);
}
