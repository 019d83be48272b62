//! Notifications (F24): alarm messages to customers and operators by SMS, signed as each
//! provider requires, with de-duplication, quiet hours, per-recipient limits and a delivery
//! log with retries.

pub mod sign;
