//! The outbox of commands: control decisions are stored in `commands` in the transaction that
//! made them and handed to a [`CommandPort`] after commit. The server's dispatcher is the port
//! that sends; [`CommandLog`] keeps them in memory for the demo and tests.

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
    /// The batch the command belongs to, if it was issued for a selection of meters.
    pub batch_id: Option<String>,
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
