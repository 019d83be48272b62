//! GraphQL for the SaaS operator (the platform console): tenants (create, suspend,
//! reactivate), the platform's health figures and its audit log.

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

/// The platform at a glance, across every tenant (the console's health page).
#[derive(SimpleObject)]
pub struct PlatformHealth {
    pub tenants: i64,
    pub active_tenants: i64,
    pub suspended_tenants: i64,
    /// Meters not retired, and of them those online and lost.
    pub meters: i64,
    pub meters_online: i64,
    pub meters_lost: i64,
    pub gateways: i64,
    pub gateways_lost: i64,
    /// Commands waiting to be sent, and sent but not yet confirmed.
    pub commands_queued: i64,
    pub commands_sent: i64,
    /// SMS and WeChat messages waiting for delivery.
    pub notifications_pending: i64,
    pub open_alarms: i64,
    pub checked_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct PlatformQuery;

#[Object]
impl PlatformQuery {
    /// Counts across every tenant: tenants, the live fleet, queues and open alarms.
    async fn platform_health(&self, ctx: &Context<'_>) -> Res<PlatformHealth> {
        let store = ctx.data::<Store>().map_err(|_| err(ApiError::Unauthenticated))?;
        let h = store.platform().health().await.map_err(err)?;
        Ok(PlatformHealth {
            tenants: h.tenants,
            active_tenants: h.active_tenants,
            suspended_tenants: h.tenants - h.active_tenants,
            meters: h.meters,
            meters_online: h.meters_online,
            meters_lost: h.meters_lost,
            gateways: h.gateways,
            gateways_lost: h.gateways_lost,
            commands_queued: h.commands_queued,
            commands_sent: h.commands_sent,
            notifications_pending: h.notifications_pending,
            open_alarms: h.open_alarms,
            checked_at: Utc::now(),
        })
    }

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
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(err(Invalid::new("name", "1 to 100 characters")));
        }
        let slug_ok =
            (2..=40).contains(&input.slug.len()) && input.slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !slug_ok {
            return Err(err(Invalid::new("slug", "2 to 40 of a-z, 0-9, -")));
        }
        if input.time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(err(Invalid::new("timeZone", "not an IANA time zone")));
        }
        if username_ok(&input.admin_username).is_err() {
            return Err(err(Invalid::new("adminUsername", "3 to 64 of letters, digits, . _ - @")));
        }
        let hash = check_password(&input.admin_username, &input.admin_password).map_err(|_| {
            err(Invalid::new(
                "adminPassword",
                access::check_password(&input.admin_username, &input.admin_password).err().map(|e| e.message).unwrap_or_default(),
            ))
        })?;
        let id =
            store.platform().create_tenant_with_admin(name, &input.slug, &input.time_zone, &input.admin_username, &hash).await.map_err(
                |e| match e {
                    store::StoreError::Conflict(_) | store::StoreError::Duplicate => err(Invalid::new("slug", "already taken")),
                    e => err(e),
                },
            )?;
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
