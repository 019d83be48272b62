//! End-to-end tests: one integration binary (matklad's `tests/it` layout).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod alarms;
mod bill_orders;
mod billing;
mod binding;
mod broker;
mod console;
mod control;
mod corrections;
mod customer_pages;
mod desk;
mod durability;
mod failclosed;
mod field_devices;
mod forwarding;
mod hardening;
mod identity;
mod imports;
mod ingestion;
mod isolation;
mod money;
mod mosquitto;
mod payment_channels;
mod payments;
mod portal;
mod production;
mod registry;
mod reports;
mod scope;
mod sockets;
