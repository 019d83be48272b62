//! Typed ids: opaque UUID strings that cannot be mixed up across kinds. New ids need the
//! clock and randomness, so they are made at the edge (`server::ids`), never here.

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
