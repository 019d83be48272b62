//! GraphQL for the SaaS operator: tenants (create, suspend, reactivate) and the platform's
//! audit log.

use super::ApiError;
use super::graphql::{Res, err};
use super::identity::*;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use domain::Invalid;
use domain::access::{self};
use store::{self, Store};

/// A tenant as the SaaS operator sees it (租户).
#[derive(SimpleObject)]
pub struct PlatformTenant {
    pub id: ID,
    pub name: String,
    pub slug: String,
    pub time_zone: String,
    /// ACTIVE or SUSPENDED.
    pub status: String,
}

impl From<store::TenantRow> for PlatformTenant {
    fn from(t: store::TenantRow) -> Self {
        Self { id: ID(t.id.to_string()), name: t.name, slug: t.slug, time_zone: t.time_zone, status: t.status }
    }
}

#[derive(InputObject)]
pub struct CreateTenantInput {
    pub name: String,
    pub slug: String,
    #[graphql(default = "Asia/Shanghai")]
    pub time_zone: String,
    pub admin_username: String,
    pub admin_password: String,
}

#[derive(InputObject)]
pub struct TenantSlugInput {
    pub slug: String,
}

/// One action of the SaaS operator.
#[derive(SimpleObject)]
pub struct PlatformAuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject_tenant: Option<String>,
    pub input: String,
    pub outcome: String,
    pub source: String,
}

#[derive(Default)]
pub struct PlatformQuery;

#[Object]
impl PlatformQuery {
    /// The SaaS operator: its own actions and refusals, newest first (平台操作日志).
    async fn platform_audit_log(&self, ctx: &Context<'_>, #[graphql(default = 100)] first: i32) -> Res<Vec<PlatformAuditEntry>> {
        let store = ctx.data::<Store>().map_err(|_| err(ApiError::Unauthenticated))?;
        let rows = store.platform().audit_log(first.clamp(1, 1000) as u64).await.map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|r| PlatformAuditEntry {
                at: r.at,
                actor: r.actor,
                action: r.action,
                subject_tenant: r.subject_tenant,
                input: r.input,
                outcome: r.outcome,
                source: r.source,
            })
            .collect())
    }

    /// The SaaS operator: every tenant (租户列表).
    async fn platform_tenants(&self, ctx: &Context<'_>) -> Res<Vec<PlatformTenant>> {
        let store = ctx.data::<Store>().map_err(|_| err(ApiError::Unauthenticated))?;
        Ok(store.platform().tenants().await.map_err(err)?.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct PlatformMutation;

#[Object]
impl PlatformMutation {
    /// The SaaS operator: a new tenant with its built-in roles and first administrator.
    async fn create_tenant(&self, ctx: &Context<'_>, input: CreateTenantInput) -> Res<PlatformTenant> {
        let store = ctx.data::<Store>().map_err(|_| err(ApiError::Unauthenticated))?;
        let slug_ok =
            (2..=40).contains(&input.slug.len()) && input.slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !slug_ok {
            return Err(err(Invalid::new("slug", "2 to 40 of a-z, 0-9, -")));
        }
        if input.time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(err(Invalid::new("timeZone", "not an IANA time zone")));
        }
        username_ok(&input.admin_username)?;
        let hash = check_password(&input.admin_username, &input.admin_password).map_err(|_| {
            err(Invalid::new(
                "adminPassword",
                access::check_password(&input.admin_username, &input.admin_password).err().map(|e| e.message).unwrap_or_default(),
            ))
        })?;
        let id = store
            .platform()
            .create_tenant_with_admin(input.name.trim(), &input.slug, &input.time_zone, &input.admin_username, &hash)
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict(_) | store::StoreError::Duplicate => err(Invalid::new("slug", "already taken")),
                e => err(e),
            })?;
        let t = store.tenant(id);
        t.tenant_row().await.map_err(err).map(Into::into)
    }

    /// The SaaS operator: suspends a tenant; its users, devices and clients are refused.
    async fn suspend_tenant(&self, ctx: &Context<'_>, input: TenantSlugInput) -> Res<PlatformTenant> {
        let store = ctx.data::<Store>().map_err(|_| err(ApiError::Unauthenticated))?;
        store.platform().set_tenant_status(&input.slug, "SUSPENDED").await.map_err(err).map(Into::into)
    }

    /// The SaaS operator: reactivates a suspended tenant.
    async fn reactivate_tenant(&self, ctx: &Context<'_>, input: TenantSlugInput) -> Res<PlatformTenant> {
        let store = ctx.data::<Store>().map_err(|_| err(ApiError::Unauthenticated))?;
        store.platform().set_tenant_status(&input.slug, "ACTIVE").await.map_err(err).map(Into::into)
    }
}
