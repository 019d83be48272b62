//! The embedded MQTT broker (rumqttd) for the single-box default.
//!
//! Every connection is checked by [`DeviceAuth`]; the client id must equal the username so a
//! device cannot pose as another session. rumqttd 0.20 has no per-topic ACL: the bridge
//! refuses frames whose meter is not registered under the device of the topic instead
//! (see docs/MQTT.md for the gap that remains).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

use crate::port::DeviceAuth;

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("embedded broker failed to start: {0}")]
    Start(String),
}

/// Starts the broker on its own threads; returns once it is accepting connections.
pub fn start_embedded(listen: SocketAddr, auth: Arc<dyn DeviceAuth>) -> Result<(), BrokerError> {
    let mut connections = ConnectionSettings {
        connection_timeout_ms: 60_000,
        max_payload_size: 64 * 1024,
        max_inflight_count: 1_000,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    connections.set_auth_handler(move |client_id: String, user: String, pass: String| {
        let ok = auth.check(&client_id, &user, &pass);
        async move { ok }
    });
    let server = ServerSettings { name: "v4-embedded".into(), listen, tls: None, next_connection_delay_ms: 0, connections };
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
        v4: Some(HashMap::from([("1".to_string(), server)])),
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
    // Wait until the listener accepts connections.
    for _ in 0..200 {
        if std::net::TcpStream::connect(listen).is_ok() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Err(BrokerError::Start(format!("nothing listening on {listen}")))
}
