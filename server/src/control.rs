//! The command port: where control decisions leave the money core. Decisions are stored in
//! `commands` in the transaction that made them and handed to the port after commit; the
//! control issue's pipeline will implement the port and send them to meters.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// A command decided by the platform or asked for by an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRecord {
    pub id: String,
    pub tenant_id: String,
    pub meter_id: String,
    pub account_id: Option<String>,
    /// TRIP, CLOSE, PURCHASE, …
    pub kind: String,
    /// AUTO (decided by settlement or a recharge) or OPERATOR.
    pub source: String,
    pub reason: String,
    /// Kind-specific JSON (e.g. a purchase's amount and counter).
    pub payload: String,
    pub created_at: DateTime<Utc>,
}

pub trait CommandPort: Send + Sync {
    fn submit(&self, commands: &[CommandRecord]);
}

/// The in-memory port: keeps what was submitted, for the demo and tests.
#[derive(Clone, Default)]
pub struct CommandLog(Arc<Mutex<Vec<CommandRecord>>>);

impl CommandLog {
    pub fn taken(&self) -> Vec<CommandRecord> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl CommandPort for CommandLog {
    fn submit(&self, commands: &[CommandRecord]) {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(commands);
            let excess = v.len().saturating_sub(100_000);
            v.drain(..excess);
        }
    }
}
