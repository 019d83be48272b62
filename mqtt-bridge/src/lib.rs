//! The device side of VoltLedger: the DL/T 645-2007 codec, MQTT topics and payload forms,
//! the embedded broker, the uplink session and the meter/gateway simulator.
//!
//! Knows devices and protocols, never money or the database schema: it talks to the
//! business through the typed port in [`port`].

pub mod broker;
/// The codec, its own crate (`mqtt-bridge/dlt645`): pure, no I/O.
pub use dlt645;
pub mod downlink;
pub mod port;
pub mod serial;
pub mod serial_sim;
pub mod session;
pub mod simulator;
pub mod uplink;
