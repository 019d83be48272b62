//! Adapters facing people and park platforms: GraphQL (the one API), a few HTTP endpoints,
//! token checks and the one table mapping errors to codes. Parse input, call one store
//! method, map the result; no SQL here.

// The merged query root nests one level per part; the default limit (128) is too small.
#![recursion_limit = "256"]

pub mod alarms;
pub mod auth;
pub mod billing;
pub mod commands;
pub mod control;
pub mod customer;
pub mod desk;
pub mod export;
pub mod export_jobs;
pub mod forwarding;
pub mod graphql;
pub mod guard;
pub mod http;
pub mod identity;
pub mod imports;
pub mod list_exports;
pub mod login;
pub mod meters;
pub mod miniapp;
pub mod money;
pub mod pay;
pub mod platform;
pub mod portal;
pub mod profiles;
pub mod readings_export;
pub mod receipts;
pub mod registry;
pub mod reports;
pub mod schedules;
pub mod site_imports;
pub mod tariffs;
pub mod usage_reports;
pub mod webhooks;

use domain::Invalid;
use store::StoreError;

/// The address the outside world reaches this server at, without a trailing slash
/// (`https://pay.example.com`): payment channels' notification URLs are built on it.
#[derive(Debug, Clone)]
pub struct PublicUrl(pub String);

/// Where devices reach the MQTT broker (`mqtt://host:port`, or `mqtts://…` behind TLS),
/// given with every device login the API issues.
#[derive(Debug, Clone)]
pub struct DeviceBroker(pub String);

/// Whether tenant-set outbound URLs may reach local addresses (stand-ins in development).
#[derive(Debug, Clone, Copy, Default)]
pub struct OutboundPolicy {
    pub allow_local: bool,
}

/// Reverse proxies trusted to name the client in `X-Forwarded-For`.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<std::net::IpAddr>);

/// A tenant-set URL the platform will call, checked against the platform's outbound policy
/// (`domain::outbound`).
pub(crate) fn outbound_url(ctx: &async_graphql::Context<'_>, field: &'static str, text: &str) -> graphql::Res<String> {
    let allow_local = ctx.data_opt::<OutboundPolicy>().is_some_and(|p| p.allow_local);
    domain::outbound::check(field, text, allow_local).map_err(graphql::err)
}

/// The error codes clients see (`extensions.code`), one table for the whole API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Validation(Invalid),
    #[error("{0}")]
    Conflict(String),
    #[error("authentication required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("internal error (request {0})")]
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound => "NOT_FOUND",
            ApiError::Validation(_) => "VALIDATION",
            ApiError::Conflict(_) => "CONFLICT",
            ApiError::Unauthenticated => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::Internal(_) => "INTERNAL",
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        ApiError::Validation(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::Duplicate => ApiError::Conflict("an object with the same key already exists".into()),
            StoreError::Invalid(i) => ApiError::Validation(i),
            StoreError::Database(cause) => {
                // The cause is logged once here, at the edge; the client sees only a request id.
                let request = uuid::Uuid::new_v4().simple().to_string();
                tracing::error!(request = %request, cause = %cause, "store failure");
                ApiError::Internal(request)
            }
        }
    }
}

impl async_graphql::ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.to_string()).extend_with(|_, e| {
            e.set("code", self.code());
            if let ApiError::Validation(invalid) = self {
                e.set("field", invalid.field);
            }
        })
    }
}
