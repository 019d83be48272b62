//! New ids: time-ordered UUIDs (version 7), so rows written together sit together in the
//! primary-key index instead of scattering across it. They read the clock and randomness,
//! which is why they are made here, at the edge, and not in the pure domain.

use domain::ids::*;

/// A UUID version 7 from the clock and 74 random bits.
pub fn time_ordered() -> uuid::Uuid {
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &rand::random::<[u8; 10]>()).into_uuid()
}

/// A new id of its kind.
pub trait NewId: Sized {
    fn new_ordered() -> Self;
}

macro_rules! new_id {
    ($($name:ident),* $(,)?) => {$(
        impl NewId for $name {
            fn new_ordered() -> Self {
                Self::from_uuid(time_ordered())
            }
        }
    )*};
}

new_id!(
    TenantId,
    PropertyId,
    AreaId,
    CustomerId,
    AccountId,
    MeterId,
    GatewayId,
    CredentialId,
    TariffId,
    EntryId,
    CommandId,
    AnomalyId,
    BillId,
    GroupId,
    AlarmId,
    BatchId,
    WindowId,
    NotificationId,
    PayeeId
);
