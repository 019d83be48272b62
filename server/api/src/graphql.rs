//! The GraphQL schema: registry queries and mutations, live values and reading history.
//! Every resolver reaches data only through the request's [`TenantStore`].

use super::ApiError;
pub use super::meters::{Meter, Reading};
use super::registry::*;
use async_graphql::{Context, ErrorExtensions, ID, Schema, SimpleObject};
use domain::Invalid;
use store::{self, TenantStore};

pub type VoltSchema = Schema<QueryRoot, MutationRoot, super::alarms::AlarmSubscription>;

/// The query root: registry and money.
#[derive(async_graphql::MergedObject, Default)]
pub struct QueryRoot(
    RegistryQuery,
    super::money::MoneyQuery,
    super::tariffs::TariffQuery,
    super::commands::CommandQuery,
    super::billing::BillingQuery,
    super::alarms::AlarmQuery,
    super::alarms::NotificationQuery,
    super::control::ControlQuery,
    super::identity::IdentityQuery,
    super::miniapp::MiniappQuery,
    super::customer::CustomerQuery,
    super::platform::PlatformQuery,
    super::pay::PayQuery,
    super::desk::DeskQuery,
    super::reports::ReportQuery,
    super::usage_reports::UsageReportQuery,
    super::forwarding::ForwardingQuery,
    super::schedules::ScheduleQuery,
    super::profiles::ProfileQuery,
);

/// The mutation root: registry and money.
#[derive(async_graphql::MergedObject, Default)]
pub struct MutationRoot(
    RegistryMutation,
    super::money::MoneyMutation,
    super::tariffs::TariffMutation,
    super::commands::CommandMutation,
    super::billing::BillingMutation,
    super::alarms::AlarmMutation,
    super::alarms::NotificationMutation,
    super::control::ControlMutation,
    super::identity::IdentityMutation,
    super::miniapp::MiniappMutation,
    super::customer::CustomerMutation,
    super::platform::PlatformMutation,
    super::pay::PayMutation,
    super::forwarding::ForwardingMutation,
    super::schedules::ScheduleMutation,
    super::profiles::ProfileMutation,
);

pub fn schema() -> VoltSchema {
    schema_for(true)
}

/// The schema, with introspection (`__schema`, `__type`) answered or not.
pub fn schema_for(introspection: bool) -> VoltSchema {
    let builder = Schema::build(QueryRoot::default(), MutationRoot::default(), super::alarms::AlarmSubscription);
    let builder = if introspection { builder } else { builder.disable_introspection() };
    builder
        .extension(super::guard::Guard)
        .limit_depth(12)
        // Lists count as many times as their page size asks for (`complexity` on the paged
        // fields): 100 aliases of 500 meters with 1,000 readings each cannot pass.
        .limit_complexity(50_000)
        .finish()
}

pub(crate) type Res<T> = async_graphql::Result<T>;

pub use super::guard::Suspended;

pub(crate) fn tenant<'a>(ctx: &'a Context<'_>) -> Res<&'a TenantStore> {
    if ctx.data_opt::<Suspended>().is_some() {
        return Err(ApiError::Forbidden("the tenant is suspended; contact the platform operator".into()).extend());
    }
    ctx.data_opt::<TenantStore>().ok_or_else(|| ApiError::Unauthenticated.extend())
}

pub(crate) fn err(e: impl Into<ApiError>) -> async_graphql::Error {
    e.into().extend()
}

/// A malformed id behaves like an id that does not exist.
pub(crate) fn parse_id<T>(id: &ID, parse: fn(&str) -> Option<T>) -> Res<T> {
    parse(id.as_str()).ok_or_else(|| err(ApiError::NotFound))
}

pub(crate) fn parse_ref<T>(field: &'static str, id: &Option<ID>, parse: fn(&str) -> Option<T>) -> Res<Option<T>> {
    match id {
        None => Ok(None),
        Some(id) => parse(id.as_str()).map(Some).ok_or_else(|| err(Invalid::new(field, "no such object"))),
    }
}

pub(crate) const MAX_PAGE: i32 = 500;

pub(crate) fn paging(page: i32, page_size: i32) -> Res<(u64, u64)> {
    if page < 1 {
        return Err(err(Invalid::new("page", "starts at 1")));
    }
    if !(1..=MAX_PAGE).contains(&page_size) {
        return Err(err(Invalid::new("pageSize", format!("between 1 and {MAX_PAGE}"))));
    }
    Ok((page as u64, page_size as u64))
}

// ---- enums ----

// ---- objects ----

/// Cursor position of a stream list.
#[derive(SimpleObject)]
pub struct PageInfo {
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
}

// ---- inputs ----

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    /// The committed SDL must match the code (API.md); regenerate with
    /// `UPDATE_SCHEMA=1 cargo test -p server committed_schema`.
    #[test]
    fn committed_schema_matches_the_code() {
        let sdl = super::schema().sdl();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
        if std::env::var("UPDATE_SCHEMA").is_ok() {
            std::fs::write(&path, &sdl).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == sdl, "server/schema.graphql is out of date; run with UPDATE_SCHEMA=1");
    }

    #[test]
    fn schema_exposes_the_core_types_with_business_terms() {
        let sdl = super::schema().sdl();
        for ty in ["type Meter", "type Reading", "enum LinkType", "enum BillingMode", "type Gateway"] {
            assert!(sdl.contains(ty), "{ty} missing");
        }
        assert!(sdl.contains("hold power") || sdl.contains("保电"));
    }
}
