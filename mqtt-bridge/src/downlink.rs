//! Downlink: one MQTT session of the bridge that publishes command frames to a device's
//! `vl/down/{username}` topic at QoS 1. Replies and relay states come back on the uplink.

use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, QoS};

use crate::session::BridgeConfig;
use crate::uplink::down_topic;

#[derive(Clone)]
pub struct Downlink {
    client: AsyncClient,
}

impl Downlink {
    /// Connects as `{client_id}-down` with the bridge's login; the returned task keeps the
    /// session alive (and reconnects) until it is aborted.
    pub fn connect(config: &BridgeConfig) -> (Self, tokio::task::JoinHandle<()>) {
        let mut options = MqttOptions::new(format!("{}-down", config.client_id), config.broker.host.clone(), config.broker.port);
        options.set_credentials(config.username.clone(), config.password.clone());
        options.set_keep_alive(Duration::from_secs(30));
        options.set_clean_session(true);
        let (client, mut events) = AsyncClient::new(options, 10_000);
        let broker = config.broker.clone();
        let task = tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(rumqttc::Packet::ConnAck(_))) => tracing::info!(broker = %broker, "downlink session connected"),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, broker = %broker, "downlink session lost; reconnecting");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        });
        (Self { client }, task)
    }

    /// Queues one frame for the device (delivered at least once while the session lives).
    pub async fn send(&self, device: &str, frame: Vec<u8>) -> Result<(), String> {
        self.client.publish(down_topic(device), QoS::AtLeastOnce, false, frame).await.map_err(|e| e.to_string())
    }
}
