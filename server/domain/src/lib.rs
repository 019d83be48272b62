//! The pure domain: plain types and functions, no I/O, no clock, no randomness, no
//! database or web types. Everything here is testable with values alone.

pub mod access;
pub mod billing;
pub mod control;
pub mod ids;
pub mod ledger;
pub mod metering;
pub mod outbound;
pub mod profile;
pub mod register_map;
pub mod registry;
pub mod schedule;
pub mod settle;
pub mod settlement;
pub mod sms;
pub mod subscribe;
pub mod tariff;
pub mod usage;
pub mod vendor_json;

/// A field-level validation failure, named after the input field (API.md: `extensions.field`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}
