//! The typed port between the bridge and the business: decoded readings go up, nothing
//! about accounts, money or tables comes down. Raw meter values (secondary side, before
//! PT/CT ratios); the server applies ratios and tenant time zones.

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;

use crate::dlt645::Address;

/// When a reading was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadTime {
    /// The meter's own clock (04000101 + 04000102 in the same payload), local wall time.
    MeterClock(NaiveDateTime),
    /// An instant stated by a gateway envelope, or the bridge's receive time as a last resort.
    Instant(DateTime<Utc>),
}

/// One meter's snapshot from one uplink publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterReading {
    /// MQTT username of the device whose topic carried the frame (a 4G meter or a gateway).
    pub device: String,
    pub address: Address,
    pub read_at: ReadTime,
    pub received_at: DateTime<Utc>,
    pub values: Readings,
}

/// Values as the meter reports them; `None` where the payload did not carry the item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readings {
    /// Forward active energy, kWh: total then tariffs 1..4 (sharp, peak, flat, valley).
    pub energy_total: Option<Decimal>,
    pub energy_tariffs: [Option<Decimal>; 4],
    pub reverse_energy_total: Option<Decimal>,
    /// Volts, phases A, B, C.
    pub voltage: [Option<Decimal>; 3],
    /// Amperes, phases A, B, C (signed).
    pub current: [Option<Decimal>; 3],
    /// kW (signed).
    pub active_power: Option<Decimal>,
    /// kvar (signed).
    pub reactive_power: Option<Decimal>,
    pub power_factor: Option<Decimal>,
    /// Hz.
    pub frequency: Option<Decimal>,
    /// kW, current maximum demand.
    pub max_demand: Option<Decimal>,
    /// Yuan, meter-side prepaid wallet.
    pub remaining_amount: Option<Decimal>,
    pub overdraft_amount: Option<Decimal>,
    /// Status word 3 (relay state bit 4, hold power bit 12).
    pub status_word_3: Option<u16>,
    /// Status word 7 (all-phase faults; bit 9 cover opened).
    pub status_word_7: Option<u16>,
    /// Status words 4..6: faults of phases A, B, C (bit 7 phase break, bit 1 under-voltage).
    pub phase_faults: [Option<u16>; 3],
}

impl Readings {
    pub fn is_empty(&self) -> bool {
        *self == Readings::default()
    }
}

/// Why an uplink publish was refused; counted and logged by the bridge, never stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("topic {0:?} is not an uplink topic")]
    Topic(String),
    #[error("payload holds no DL/T 645 frame")]
    NoFrame,
    #[error("malformed JSON envelope: {0}")]
    Envelope(String),
    #[error("frame from {address}: {reason}")]
    Item { address: String, reason: String },
    #[error("meter {address} is not registered under device {device}")]
    UnknownMeter { device: String, address: String },
    #[error("vendor JSON message: {0}")]
    Vendor(String),
}

impl Rejection {
    /// The reason as a metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            Rejection::Topic(_) => "topic",
            Rejection::NoFrame => "no_frame",
            Rejection::Envelope(_) => "envelope",
            Rejection::Item { .. } => "item",
            Rejection::UnknownMeter { .. } => "unknown_meter",
            Rejection::Vendor(_) => "vendor",
        }
    }
}

/// What the store did with a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreReport {
    pub stored: usize,
    pub duplicates: usize,
    pub unknown: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("store unavailable: {0}")]
pub struct SinkError(pub String);

/// Where decoded readings go. Implementations must be idempotent on (meter, read time) and
/// must return only after the batch is durable: the bridge acknowledges to the broker then.
pub trait ReadingSink: Send + Sync + 'static {
    fn store(&self, batch: Vec<MeterReading>) -> impl Future<Output = Result<StoreReport, SinkError>> + Send;

    /// Replies of meters to remote-control commands (0x1C), after the batch they came in
    /// was stored. The default ignores them.
    fn replies(&self, replies: Vec<ControlReply>) -> impl Future<Output = ()> + Send {
        let _ = replies;
        async {}
    }

    /// A JSON message from a vendor device whose profile maps its fields (F43): its reading,
    /// or why it was refused; `None` when the device has no such map (the payload is then
    /// read as DL/T 645). Synchronous: answered from an in-memory cache.
    /// Meters' own frozen registers (DL/T 645 daily freezes read back), after the batch they
    /// came in was stored. The default ignores them.
    fn freezes(&self, freezes: Vec<MeterFreeze>) -> impl Future<Output = ()> + Send {
        let _ = freezes;
        async {}
    }

    fn vendor_json(&self, device: &str, payload: &[u8], received_at: DateTime<Utc>) -> Option<Result<VendorReading, Rejection>> {
        let _ = (device, payload, received_at);
        None
    }
}

/// A meter's own daily freeze (DL/T 645 §3.7: `05060001`+n the record's time on the meter's
/// clock, `05060101`+n its forward active energy, total then tariffs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterFreeze {
    pub device: String,
    pub address: crate::dlt645::Address,
    /// The freeze's time on the meter's clock (local wall time).
    pub at: NaiveDateTime,
    /// kWh: total, then tariffs 1..4 (as many as the meter keeps).
    pub registers: Vec<Decimal>,
    pub received_at: DateTime<Utc>,
}

/// A vendor JSON message read through its device's map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorReading {
    pub reading: MeterReading,
    /// The items the message carried (answers to a read waiting for them).
    pub answered: Vec<crate::dlt645::Di>,
    /// Fields present but refused, with why (the rest of the message is used).
    pub refused: Vec<String>,
}

/// A meter's reply to a remote-control (0x1C), parameter write (0x14), wallet purchase (0x03)
/// or read (0x11) request: accepted, or refused with its error bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlReply {
    pub device: String,
    pub address: Address,
    /// The request's function code (0x1C, 0x14, 0x03 or 0x11).
    pub function: u8,
    /// `None` for a normal reply; the ERR bits' names for an abnormal one.
    pub refused: Option<Vec<&'static str>>,
    pub received_at: DateTime<Utc>,
    /// A read's answer: the identifier a normal reply carries (an abnormal one names none).
    pub di: Option<crate::dlt645::Di>,
    /// A read's answer: the meter's clock (local wall time) when the same publish carried a
    /// valid date and time for this meter.
    pub clock: Option<chrono::NaiveDateTime>,
}

/// Device authentication, answered by the business from its in-memory credential cache
/// (synchronous: the embedded broker calls it on its own runtime thread).
pub trait DeviceAuth: Send + Sync + 'static {
    fn check(&self, client_id: &str, username: &str, password: &str) -> bool;

    /// Whether a connected client (by client id) may do `access` — asked by the embedded
    /// broker for every packet, so it must be cheap. A device may publish only on its own
    /// uplink and subscribe only to its own downlink, and only while the login it connected
    /// with is still valid (a revoked or rotated credential loses its connection at its next
    /// packet); the bridge may do anything.
    fn authorize(&self, client_id: &str, access: Access<'_>) -> bool;

    /// Whether a login is a gateway's with meters behind it (a serial server may speak for a
    /// bus only with such a login). The default: no.
    fn gateway(&self, username: &str) -> bool {
        let _ = username;
        false
    }
}

/// What a connected client asks the broker to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access<'a> {
    Publish(&'a str),
    /// A retained publish: replayed to every later subscriber, so the bridge's only.
    PublishRetained(&'a str),
    Subscribe(&'a str),
    /// Any other packet (keep-alive, acknowledgements): may it stay connected?
    Stay,
}
