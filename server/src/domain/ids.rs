//! Typed ids: opaque UUID strings that cannot be mixed up across kinds.

use std::fmt;

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id read from the store or a request; UUID form is checked.
            pub fn parse(text: &str) -> Option<Self> {
                uuid::Uuid::parse_str(text).ok().map(|u| Self(u.to_string()))
            }

            pub fn from_uuid(u: uuid::Uuid) -> Self {
                Self(u.to_string())
            }

            /// A new time-ordered id (UUID version 7): rows written together sit together
            /// in the primary-key index instead of scattering across it.
            pub fn new_ordered() -> Self {
                Self(time_ordered().to_string())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}

id_type!(
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

/// A UUID version 7 from the clock and 74 random bits.
pub fn time_ordered() -> uuid::Uuid {
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &rand::random::<[u8; 10]>()).into_uuid()
}
