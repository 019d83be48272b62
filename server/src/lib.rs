//! VoltLedger server: the business (domain), its store, its API and the wiring that hosts
//! the device bridge. The binary `voltledger` (src/main.rs) is a thin CLI over this crate.

/// The GraphQL and HTTP edge, its own crate (`server/api`).
pub use api;
pub mod app;
pub mod bench;
pub mod config;
pub mod control;
/// The pure domain, its own crate (`server/domain`): no I/O, no clock, no randomness.
pub use domain;
pub mod fleet;
/// Id minting at the edge (clock and randomness), in the store crate.
pub use store::ids;
pub mod jobs;
pub mod observe;
pub mod schedules;
pub mod uplink;
/// The outside services and their stand-ins, in `server/connectors`.
pub use connectors::{self, forward, notify, pay, wechat};
/// The store, its own crate (`server/store`): the only one naming sea-orm.
pub use store;
