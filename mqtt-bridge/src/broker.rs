//! The embedded MQTT broker (rumqttd) for the single-box default.
//!
//! Every connection is checked by [`DeviceAuth`]; the client id must equal the username so a
//! device cannot pose as another session. Every packet a client sends afterwards is
//! authorized by [`DeviceAuth::authorize`] before the broker routes it (topic rights: a
//! device publishes only on its own uplink and subscribes only to its own downlink; a will
//! on another topic refuses the CONNECT; a revoked or rotated login is dropped at its next
//! packet). rumqttd 0.20 has no hook for this: the hook is a small patch carried in
//! `third_party/rumqttd` (see its README for the removal condition).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rand::distributions::{Alphanumeric, DistString};

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

use crate::port::{Access, DeviceAuth};

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("embedded broker failed to start: {0}")]
    Start(String),
}

/// A TLS listener of the embedded broker for devices beyond loopback (MQTT over TLS,
/// usually port 8883): PEM files of the certificate chain and its private key. They are read
/// again for every connection, so a renewed certificate needs no restart.
#[derive(Debug, Clone)]
pub struct TlsListener {
    pub listen: SocketAddr,
    pub cert_file: std::path::PathBuf,
    pub key_file: std::path::PathBuf,
}

impl TlsListener {
    /// The files are there and hold what they should (checked at start, not at the first
    /// device's handshake).
    fn check(&self) -> Result<(), BrokerError> {
        for (file, what) in [(&self.cert_file, "CERTIFICATE"), (&self.key_file, "PRIVATE KEY")] {
            let text = std::fs::read_to_string(file).map_err(|e| BrokerError::Start(format!("reading {}: {e}", file.display())))?;
            if !text.lines().any(|l| l.starts_with("-----BEGIN") && l.contains(what)) {
                return Err(BrokerError::Start(format!("{} holds no PEM {what}", file.display())));
            }
        }
        Ok(())
    }
}

/// Starts the broker on its own threads; returns once it is accepting connections (on
/// `listen`, and on the TLS listener if there is one).
pub fn start_embedded(listen: SocketAddr, tls: Option<TlsListener>, auth: Arc<dyn DeviceAuth>) -> Result<(), BrokerError> {
    if let Some(t) = &tls {
        t.check()?;
        // rumqttd builds its rustls server configuration with the process's default crypto
        // provider, and the tree compiles rustls with two (ring and aws-lc-rs), so rustls
        // cannot pick one: ring, as everywhere else here. Already installed: kept.
        let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    }
    let mut connections = ConnectionSettings {
        connection_timeout_ms: 60_000,
        max_payload_size: 64 * 1024,
        max_inflight_count: 1_000,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
        topic_authorizer: None,
    };
    let rights = auth.clone();
    connections.topic_authorizer = Some(Arc::new(move |client_id: &str, action: rumqttd::TopicAction<'_>| {
        let access = match action {
            rumqttd::TopicAction::Publish(t) => Access::Publish(t),
            rumqttd::TopicAction::PublishRetained(t) => Access::PublishRetained(t),
            rumqttd::TopicAction::Subscribe(f) => Access::Subscribe(f),
            rumqttd::TopicAction::Other => Access::Stay,
        };
        let ok = rights.authorize(client_id, access);
        if !ok {
            tracing::warn!(client_id, ?access, "broker refused a client's packet; connection closed");
        }
        ok
    }));
    let probe = Arc::new(ReadinessProbe::new());
    let probe_auth = probe.clone();
    connections.set_auth_handler(move |client_id: String, user: String, pass: String| {
        let ok = probe_auth.accepts(&client_id, &user, &pass) || auth.check(&client_id, &user, &pass);
        async move { ok }
    });
    let mut servers = HashMap::new();
    if let Some(t) = &tls {
        let secure = ServerSettings {
            name: "v4-embedded-tls".into(),
            listen: t.listen,
            tls: Some(rumqttd::TlsConfig::Rustls {
                capath: None,
                certpath: t.cert_file.display().to_string(),
                keypath: t.key_file.display().to_string(),
            }),
            next_connection_delay_ms: 0,
            connections: connections.clone(),
        };
        servers.insert("2".to_string(), secure);
    }
    servers.insert(
        "1".to_string(),
        ServerSettings { name: "v4-embedded".into(), listen, tls: None, next_connection_delay_ms: 0, connections },
    );
    let config = Config {
        id: 0,
        router: RouterConfig {
            max_connections: 100_000,
            max_outgoing_packet_count: 1_000,
            max_segment_size: 16 * 1024 * 1024,
            max_segment_count: 4,
            custom_segment: None,
            initialized_filters: None,
            shared_subscriptions_strategy: Default::default(),
        },
        v4: Some(servers),
        ..Default::default()
    };
    let mut broker = Broker::new(config);
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            if let Err(e) = broker.start() {
                tracing::error!(error = %e, "embedded broker stopped");
            }
        })
        .map_err(|e| BrokerError::Start(e.to_string()))?;
    for _ in 0..200 {
        if probe.connects(listen) {
            probe.retire();
            let Some(t) = &tls else { return Ok(()) };
            for _ in 0..200 {
                if std::net::TcpStream::connect_timeout(&t.listen, Duration::from_millis(100)).is_ok() {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            return Err(BrokerError::Start(format!("nothing listening on {} (TLS)", t.listen)));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    probe.retire();
    Err(BrokerError::Start(format!("nothing listening on {listen}")))
}

/// A one-time login that proves the broker answers MQTT. A bare TCP probe would be logged by
/// rumqttd as a failed connection; this one connects, is acknowledged and leaves.
/// Its random password is valid only until the broker is up.
struct ReadinessProbe {
    client_id: String,
    password: String,
    live: AtomicBool,
}

impl ReadinessProbe {
    fn new() -> Self {
        let mut rng = rand::thread_rng();
        Self {
            client_id: format!("voltledger-probe-{}", Alphanumeric.sample_string(&mut rng, 12)),
            password: Alphanumeric.sample_string(&mut rng, 32),
            live: AtomicBool::new(true),
        }
    }

    fn accepts(&self, client_id: &str, user: &str, pass: &str) -> bool {
        self.live.load(Ordering::Acquire) && client_id == self.client_id && user == self.client_id && pass == self.password
    }

    fn retire(&self) {
        self.live.store(false, Ordering::Release);
    }

    /// CONNECT (MQTT 3.1.1, clean session) → CONNACK accepted → close (rumqttd logs a peer's
    /// close after CONNACK as an ordinary disconnect).
    fn connects(&self, listen: SocketAddr) -> bool {
        let Ok(mut stream) = TcpStream::connect_timeout(&listen, Duration::from_millis(200)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let mut body = vec![0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xC2, 0x00, 0x3C];
        for field in [&self.client_id, &self.client_id, &self.password] {
            body.extend_from_slice(&(field.len() as u16).to_be_bytes());
            body.extend_from_slice(field.as_bytes());
        }
        let mut packet = vec![0x10, body.len() as u8];
        packet.extend_from_slice(&body);
        let mut connack = [0u8; 4];
        stream.write_all(&packet).is_ok() && stream.read_exact(&mut connack).is_ok() && connack == [0x20, 0x02, 0x00, 0x00]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readiness_login_is_its_own_and_dies_with_the_probe() {
        let probe = ReadinessProbe::new();
        let (id, pass) = (probe.client_id.clone(), probe.password.clone());
        assert!(probe.accepts(&id, &id, &pass));
        assert!(!probe.accepts(&id, &id, "guess"));
        assert!(!probe.accepts("meter-1", &id, &pass), "the client id must be the probe's");
        assert!(!ReadinessProbe::new().accepts(&id, &id, &pass), "each start draws a new login");
        probe.retire();
        assert!(!probe.accepts(&id, &id, &pass));
    }
}
