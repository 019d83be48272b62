//! GraphQL for people and walls: the caller (`me`), operators, roles, sessions, park-platform
//! clients, the audit log, device credentials, the mini-program (customer accounts, binding),
//! park-platform reads and the SaaS operator's tenants. Who may call what is the guard's
//! table (`guard.rs`); resolvers here only parse, call the store and map.

use super::ApiError;
use super::auth::{Principal, hash_password, verify_password};
use super::graphql::{PageInfo, Res, err, parse_id, tenant};
use super::meters::DeviceCredentials;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use domain::Invalid;
use domain::access::{self, ParkScope, PermissionSet};
use domain::ids::*;
use domain::metering::from_scaled;
use rust_decimal::Decimal;
use store::{self, DeviceOwner};

/// A permission a role can grant (权限).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum Permission {
    /// Tenant settings: tariffs, prices, friendly hours, notifications (设置).
    Settings,
    /// Properties, areas, customers, gateways, meters, accounts (档案).
    Meters,
    /// Remote control and pushes (远程控制).
    Control,
    /// Recharges, purchases, transfers, invoices (售电).
    Sales,
    /// Refunds and reversals (退费/冲正).
    Refunds,
    /// Bills and reports (报表).
    Reports,
    /// Operators, roles, sessions, park clients, audit log (操作员).
    Operators,
    /// Payee merchant accounts (收款账户).
    Payees,
    /// Forwarding to park platforms (数据转发).
    Forwarding,
}

impl From<access::Permission> for Permission {
    fn from(p: access::Permission) -> Self {
        use access::Permission as P;
        match p {
            P::Settings => Self::Settings,
            P::Meters => Self::Meters,
            P::Control => Self::Control,
            P::Sales => Self::Sales,
            P::Refunds => Self::Refunds,
            P::Reports => Self::Reports,
            P::Operators => Self::Operators,
            P::Payees => Self::Payees,
            P::Forwarding => Self::Forwarding,
        }
    }
}

impl From<Permission> for access::Permission {
    fn from(p: Permission) -> Self {
        use access::Permission as P;
        match p {
            Permission::Settings => P::Settings,
            Permission::Meters => P::Meters,
            Permission::Control => P::Control,
            Permission::Sales => P::Sales,
            Permission::Refunds => P::Refunds,
            Permission::Reports => P::Reports,
            Permission::Operators => P::Operators,
            Permission::Payees => P::Payees,
            Permission::Forwarding => P::Forwarding,
        }
    }
}

pub(crate) fn perms(set: &PermissionSet) -> Vec<Permission> {
    set.iter().map(Into::into).collect()
}

pub(crate) fn perm_set(list: &[Permission]) -> PermissionSet {
    PermissionSet::of(&list.iter().map(|p| (*p).into()).collect::<Vec<access::Permission>>())
}

/// What a park-platform client may read (接口权限).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ClientScope {
    /// `bills:read`
    BillsRead,
    /// `energy:read`
    EnergyRead,
}

impl ClientScope {
    fn domain(self) -> ParkScope {
        match self {
            ClientScope::BillsRead => ParkScope::BillsRead,
            ClientScope::EnergyRead => ParkScope::EnergyRead,
        }
    }
}

/// A role: a named set of permissions (角色).
#[derive(SimpleObject)]
pub struct Role {
    pub id: ID,
    pub name: String,
    pub permissions: Vec<Permission>,
    /// Built-in roles cannot be changed (内置).
    pub builtin: bool,
}

impl From<store::RoleRow> for Role {
    fn from(r: store::RoleRow) -> Self {
        Self { id: ID(r.id), name: r.name, permissions: perms(&r.permissions), builtin: r.builtin }
    }
}

/// Enabled or disabled (启用/停用).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum OperatorStatus {
    Active,
    Disabled,
}

/// A person working in the portal (操作员).
#[derive(SimpleObject)]
pub struct Operator {
    pub id: ID,
    /// Login name (登录名).
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The properties the operator may see; null = all of them (数据范围).
    pub property_ids: Option<Vec<ID>>,
    pub status: OperatorStatus,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<store::OperatorRow> for Operator {
    fn from(o: store::OperatorRow) -> Self {
        Self {
            id: ID(o.id),
            username: o.username,
            display_name: o.display_name,
            role: o.role.into(),
            property_ids: o.properties.map(|p| p.into_iter().map(ID).collect()),
            status: if o.status == "ACTIVE" { OperatorStatus::Active } else { OperatorStatus::Disabled },
            last_login_at: o.last_login_at,
            created_at: o.created_at,
        }
    }
}

/// A login session: one refresh-token chain (会话).
#[derive(SimpleObject)]
pub struct Session {
    pub id: ID,
    /// `operator` or `customer`.
    pub principal_kind: String,
    pub principal_id: String,
    /// Address the session was opened from (来源地址).
    pub source: String,
    pub user_agent: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// LOGOUT, REVOKED, REFRESH_TOKEN_REUSED, PASSWORD_CHANGED, OPERATOR_DISABLED.
    pub revoked_reason: Option<String>,
}

impl From<store::SessionRow> for Session {
    fn from(s: store::SessionRow) -> Self {
        Self {
            id: ID(s.id),
            principal_kind: s.principal_kind,
            principal_id: s.principal_id,
            source: s.source,
            user_agent: s.user_agent,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
            revoked_at: s.revoked_at,
            revoked_reason: s.revoked_reason,
        }
    }
}

/// A park platform's API client (园区平台接口账号).
#[derive(SimpleObject)]
pub struct ParkClient {
    pub id: ID,
    pub name: String,
    /// Public client id for `POST /auth/token`.
    pub client_id: String,
    pub scopes: Vec<String>,
    /// The properties it may read (授权项目).
    pub property_ids: Vec<ID>,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<store::ParkClientRow> for ParkClient {
    fn from(c: store::ParkClientRow) -> Self {
        Self {
            id: ID(c.id),
            name: c.name,
            client_id: c.client_id,
            scopes: c.scopes,
            property_ids: c.properties.into_iter().map(ID).collect(),
            created_at: c.created_at,
            rotated_at: c.rotated_at,
            revoked_at: c.revoked_at,
        }
    }
}

/// A client with its secret, shown only once (密钥仅显示一次).
#[derive(SimpleObject)]
pub struct ParkClientSecret {
    pub client: ParkClient,
    pub client_secret: String,
}

/// One audit record (操作日志).
#[derive(SimpleObject)]
pub struct AuditEntry {
    pub id: ID,
    pub at: DateTime<Utc>,
    /// operator, customer, park or admin.
    pub actor_kind: String,
    pub actor_id: String,
    pub actor_name: String,
    /// The mutation (or `login`, `logout`, …).
    pub action: String,
    /// The object the action named.
    pub target_id: Option<String>,
    /// The arguments as JSON, secrets blanked.
    pub input: String,
    /// The object before, as JSON (变更前).
    pub before: Option<String>,
    /// The object after, as JSON (变更后).
    pub after: Option<String>,
    /// OK or the error code.
    pub outcome: String,
    /// The caller's address.
    pub source: String,
}

impl From<store::AuditRow> for AuditEntry {
    fn from(a: store::AuditRow) -> Self {
        Self {
            id: ID(a.id),
            at: a.at,
            actor_kind: a.actor_kind,
            actor_id: a.actor_id,
            actor_name: a.actor_name,
            action: a.action,
            target_id: a.target_id,
            input: a.input,
            before: a.before_state,
            after: a.after_state,
            outcome: a.outcome,
            source: a.source,
        }
    }
}

#[derive(SimpleObject)]
pub struct AuditConnection {
    pub items: Vec<AuditEntry>,
    pub page_info: PageInfo,
}

#[derive(InputObject, Default)]
pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub target_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl From<AuditFilter> for store::AuditFilter {
    fn from(f: AuditFilter) -> Self {
        Self { actor_id: f.actor_id, action: f.action, target_id: f.target_id, from: f.from, to: f.to }
    }
}

/// The signed-in principal (当前用户).
#[derive(SimpleObject)]
pub struct Me {
    /// operator, customer, park or admin.
    pub kind: String,
    pub id: String,
    pub name: String,
    pub tenant_id: Option<ID>,
    pub permissions: Vec<Permission>,
    /// Operators limited to some properties, and park clients: those properties.
    pub property_ids: Option<Vec<ID>>,
    /// Customers: the customer their WeChat login is bound to (绑定的客户).
    pub customer_id: Option<ID>,
    pub session_id: Option<ID>,
}

/// Daily energy of one meter for a park platform (日用电量).
#[derive(SimpleObject)]
pub struct MeterDayEnergy {
    pub meter_id: ID,
    pub address: String,
    pub property_id: ID,
    /// kWh between the two midnight freezes (secondary side).
    pub energy: Decimal,
}

pub(crate) fn principal<'a>(ctx: &'a Context<'_>) -> Res<&'a Principal> {
    ctx.data_opt::<Principal>().ok_or_else(|| err(ApiError::Unauthenticated))
}

pub(crate) fn ids(list: &Option<Vec<ID>>, field: &'static str) -> Res<Option<Vec<String>>> {
    match list {
        None => Ok(None),
        Some(l) => l
            .iter()
            .map(|i| PropertyId::parse(i.as_str()).map(|p| p.to_string()).ok_or_else(|| err(Invalid::new(field, "no such property"))))
            .collect::<Res<Vec<_>>>()
            .map(Some),
    }
}

/// A reference the store could not find is a validation error on the field it came from.
pub(crate) fn on_field(field: &'static str) -> impl Fn(store::StoreError) -> async_graphql::Error {
    move |e| match e {
        store::StoreError::Invalid(i) => err(Invalid::new(field, i.message)),
        e => err(e),
    }
}

pub(crate) fn check_password(username: &str, password: &str) -> Res<String> {
    access::check_password(username, password).map_err(err)?;
    hash_password(password).map_err(|e| err(ApiError::Internal(e)))
}

pub(crate) fn username_ok(u: &str) -> Res<()> {
    let ok = (3..=64).contains(&u.len()) && u.chars().all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if ok { Ok(()) } else { Err(err(Invalid::new("username", "3 to 64 of letters, digits, . _ - @"))) }
}

#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The caller: kind, permissions and scope (当前用户).
    async fn me(&self, ctx: &Context<'_>) -> Res<Me> {
        Ok(match principal(ctx)? {
            Principal::Operator { tenant, id, username, session, permissions, properties } => Me {
                kind: "operator".into(),
                id: id.clone(),
                name: username.clone(),
                tenant_id: Some(ID(tenant.to_string())),
                permissions: perms(permissions),
                property_ids: properties.as_ref().map(|p| p.iter().cloned().map(ID).collect()),
                customer_id: None,
                session_id: Some(ID(session.clone())),
            },
            Principal::Customer { tenant, openid, session, customer } => Me {
                kind: "customer".into(),
                id: openid.clone(),
                name: String::new(),
                tenant_id: Some(ID(tenant.to_string())),
                permissions: vec![],
                property_ids: None,
                customer_id: customer.clone().map(ID),
                session_id: Some(ID(session.clone())),
            },
            Principal::Park { tenant, client, name, properties, .. } => Me {
                kind: "park".into(),
                id: client.clone(),
                name: name.clone(),
                tenant_id: Some(ID(tenant.to_string())),
                permissions: vec![],
                property_ids: Some(properties.iter().cloned().map(ID).collect()),
                customer_id: None,
                session_id: None,
            },
            Principal::Admin { id, name } => Me {
                kind: "admin".into(),
                id: id.clone(),
                name: name.clone(),
                tenant_id: None,
                permissions: vec![],
                property_ids: None,
                customer_id: None,
                session_id: None,
            },
        })
    }

    /// Operators of the tenant (操作员).
    async fn operators(&self, ctx: &Context<'_>) -> Res<Vec<Operator>> {
        Ok(tenant(ctx)?.operators().await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    /// Built-in and custom roles (角色).
    async fn roles(&self, ctx: &Context<'_>) -> Res<Vec<Role>> {
        Ok(tenant(ctx)?.roles().await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    /// Sessions, newest first: of one operator, or all; live ones unless `includeEnded`.
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        operator_id: Option<ID>,
        #[graphql(default = false)] include_ended: bool,
    ) -> Res<Vec<Session>> {
        let t = tenant(ctx)?;
        let who = operator_id.as_ref().map(|o| ("operator", o.as_str()));
        Ok(t.sessions(who, include_ended).await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    /// Park-platform API clients (园区平台接口账号).
    async fn park_clients(&self, ctx: &Context<'_>) -> Res<Vec<ParkClient>> {
        Ok(tenant(ctx)?.park_clients().await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    /// The audit log, newest first (操作日志). Export: `GET /exports/audit.csv`.
    #[graphql(complexity = "(first.clamp(1, 500) as usize) * child_complexity")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilter>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> Res<AuditConnection> {
        if !(1..=500).contains(&first) {
            return Err(err(Invalid::new("first", "between 1 and 500")));
        }
        let not_ours = || err(Invalid::new("after", "not a cursor from this list"));
        let cursor = after.map(|c| uuid::Uuid::parse_str(&c).map(|u| u.to_string()).map_err(|_| not_ours())).transpose()?;
        let mut rows = match tenant(ctx)?.audit_log(&filter.map(Into::into).unwrap_or_default(), cursor, first as u64 + 1).await {
            Err(store::StoreError::NotFound) => return Err(not_ours()),
            other => other.map_err(err)?,
        };
        let has_next_page = rows.len() > first as usize;
        rows.truncate(first as usize);
        let end_cursor = rows.last().map(|a| a.id.clone());
        Ok(AuditConnection { items: rows.into_iter().map(Into::into).collect(), page_info: PageInfo { end_cursor, has_next_page } })
    }

    /// Park platforms: issued and paid bills of a period ("2026-10") for accounts with meters
    /// in the client's properties (账单) — never drafts or superseded versions. Paged: `page`
    /// from 1, `pageSize` up to 1000 (a short page is the last).
    async fn park_bills(
        &self,
        ctx: &Context<'_>,
        period: String,
        #[graphql(default = 1)] page: i32,
        #[graphql(default = 500)] page_size: i32,
    ) -> Res<Vec<super::billing::Bill>> {
        let Principal::Park { properties, .. } = principal(ctx)? else {
            return Err(err(ApiError::Forbidden("park clients only".into())));
        };
        domain::billing::Period::parse(&period).map_err(|_| err(Invalid::new("period", "YYYY-MM")))?;
        if !(1..=1000).contains(&page_size) {
            return Err(err(Invalid::new("pageSize", "between 1 and 1000")));
        }
        if page < 1 {
            return Err(err(Invalid::new("page", "from 1")));
        }
        let f =
            store::BillFilter { period: Some(period), properties: Some(properties.clone()), published_only: true, ..Default::default() };
        let offset = (page as u64 - 1) * page_size as u64;
        let bills = tenant(ctx)?.bills_where(&f, offset, page_size as u64, true).await.map_err(err)?;
        Ok(bills.into_iter().map(Into::into).collect())
    }

    /// Park platforms: each meter's energy on a local day, between the two midnight
    /// freezes (日用电量).
    async fn park_daily_energy(&self, ctx: &Context<'_>, date: NaiveDate) -> Res<Vec<MeterDayEnergy>> {
        let Principal::Park { properties, .. } = principal(ctx)? else {
            return Err(err(ApiError::Forbidden("park clients only".into())));
        };
        let t = tenant(ctx)?;
        let tz: chrono_tz::Tz = t.tenant_row().await.map_err(err)?.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
        let next = date.succ_opt().ok_or_else(|| err(Invalid::new("date", "out of range")))?;
        let from = domain::billing::local_instant(tz, date, 0);
        let to = domain::billing::local_instant(tz, next, 0);
        let rows = t.daily_energy(from, to, properties).await.map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|(m, address, p, used)| MeterDayEnergy { meter_id: ID(m), address, property_id: ID(p), energy: from_scaled(used, 2) })
            .collect())
    }
}

#[derive(InputObject)]
pub struct CreateOperatorInput {
    pub username: String,
    pub display_name: Option<String>,
    /// Checked against the password policy (密码策略).
    pub password: String,
    pub role_id: ID,
    /// Limit to these properties; omit for all.
    pub property_ids: Option<Vec<ID>>,
}

#[derive(InputObject)]
pub struct UpdateOperatorInput {
    pub id: ID,
    pub display_name: Option<String>,
    pub role_id: Option<ID>,
    /// New scope; with `allProperties: true` the limit is lifted.
    pub property_ids: Option<Vec<ID>>,
    pub all_properties: Option<bool>,
}

#[derive(InputObject)]
pub struct SetOperatorActiveInput {
    pub id: ID,
    pub active: bool,
}

#[derive(InputObject)]
pub struct ResetOperatorPasswordInput {
    pub id: ID,
    pub password: String,
}

#[derive(InputObject)]
pub struct ChangeMyPasswordInput {
    pub current_password: String,
    pub new_password: String,
}

#[derive(InputObject)]
pub struct RoleInput {
    pub name: String,
    pub permissions: Vec<Permission>,
}

#[derive(InputObject)]
pub struct UpdateRoleInput {
    pub id: ID,
    pub name: String,
    pub permissions: Vec<Permission>,
}

#[derive(InputObject)]
pub struct IdInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct CreateParkClientInput {
    pub name: String,
    pub scopes: Vec<ClientScope>,
    pub property_ids: Vec<ID>,
}

/// A meter (4G) or a gateway: exactly one.
#[derive(InputObject)]
pub struct DeviceInput {
    pub meter_id: Option<ID>,
    pub gateway_id: Option<ID>,
}

#[derive(Default)]
pub struct IdentityMutation;

pub(crate) fn device(input: &DeviceInput) -> Res<(DeviceOwner, String)> {
    match (&input.meter_id, &input.gateway_id) {
        (Some(m), None) => Ok((DeviceOwner::Meter, parse_id(m, MeterId::parse)?.to_string())),
        (None, Some(g)) => Ok((DeviceOwner::Gateway, parse_id(g, GatewayId::parse)?.to_string())),
        _ => Err(err(Invalid::new("meterId", "give a meterId or a gatewayId"))),
    }
}

#[Object]
impl IdentityMutation {
    /// Adds an operator (新增操作员).
    async fn create_operator(&self, ctx: &Context<'_>, input: CreateOperatorInput) -> Res<Operator> {
        username_ok(&input.username)?;
        let hash = check_password(&input.username, &input.password)?;
        let new = store::NewOperator {
            username: input.username,
            display_name: input.display_name.unwrap_or_default(),
            password_hash: hash,
            role_id: input.role_id.to_string(),
            properties: ids(&input.property_ids, "propertyIds")?,
        };
        let t = tenant(ctx)?;
        grantable(ctx, t, Some(&new.role_id), Some(new.properties.as_deref())).await?;
        t.create_operator(&new)
            .await
            .map_err(|e| match e {
                store::StoreError::Duplicate => err(Invalid::new("username", "already taken")),
                e => err(e),
            })
            .map(Into::into)
    }

    /// Changes an operator's name, role or property scope (修改操作员).
    async fn update_operator(&self, ctx: &Context<'_>, input: UpdateOperatorInput) -> Res<Operator> {
        let scope = match (input.all_properties, ids(&input.property_ids, "propertyIds")?) {
            (Some(true), _) => Some(None),
            (_, Some(p)) => Some(Some(p)),
            _ => None,
        };
        let role = input.role_id.map(|r| r.to_string());
        let t = tenant(ctx)?;
        grantable(ctx, t, role.as_deref(), scope.as_ref().map(|s| s.as_deref())).await?;
        t.update_operator(input.id.as_str(), input.display_name.as_deref(), role.as_deref(), scope).await.map_err(err).map(Into::into)
    }

    /// Enables or disables an operator; disabling ends their sessions (启用/停用).
    async fn set_operator_active(&self, ctx: &Context<'_>, input: SetOperatorActiveInput) -> Res<Operator> {
        if let Principal::Operator { id, .. } = principal(ctx)?
            && *id == input.id.as_str()
            && !input.active
        {
            return Err(err(ApiError::Conflict("you cannot disable yourself".into())));
        }
        tenant(ctx)?.set_operator_status(input.id.as_str(), input.active).await.map_err(err).map(Into::into)
    }

    /// Sets a new password for an operator and ends their sessions (重置密码).
    async fn reset_operator_password(&self, ctx: &Context<'_>, input: ResetOperatorPasswordInput) -> Res<Operator> {
        let t = tenant(ctx)?;
        let op = t.operator(input.id.as_str()).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?;
        let hash = check_password(&op.username, &input.password)?;
        t.set_operator_password(&op.id, &hash, None).await.map_err(err)?;
        t.operator(&op.id).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound)).map(Into::into)
    }

    /// Changes the caller's own password; other sessions end (修改密码).
    async fn change_my_password(&self, ctx: &Context<'_>, input: ChangeMyPasswordInput) -> Res<bool> {
        let Principal::Operator { id, username, session, .. } = principal(ctx)? else {
            return Err(err(ApiError::Forbidden("operators only".into())));
        };
        let t = tenant(ctx)?;
        let login = t.operator_login(username).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?;
        if !verify_password(&input.current_password, &login.password_hash) {
            return Err(err(Invalid::new("currentPassword", "does not match")));
        }
        let hash = check_password(username, &input.new_password).map_err(|_| {
            err(Invalid::new(
                "newPassword",
                access::check_password(username, &input.new_password).err().map(|e| e.message).unwrap_or_default(),
            ))
        })?;
        t.set_operator_password(id, &hash, Some(session)).await.map_err(err)?;
        Ok(true)
    }

    /// Adds a custom role (新增角色).
    async fn create_role(&self, ctx: &Context<'_>, input: RoleInput) -> Res<Role> {
        if input.name.trim().is_empty() {
            return Err(err(Invalid::new("name", "required")));
        }
        let t = tenant(ctx)?;
        grantable_permissions(ctx, &perm_set(&input.permissions))?;
        t.create_role(input.name.trim(), &perm_set(&input.permissions))
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict(_) | store::StoreError::Duplicate => err(Invalid::new("name", "already taken")),
                e => err(e),
            })
            .map(Into::into)
    }

    /// Changes a custom role (修改角色); operators holding it get the change at once.
    async fn update_role(&self, ctx: &Context<'_>, input: UpdateRoleInput) -> Res<Role> {
        if input.name.trim().is_empty() {
            return Err(err(Invalid::new("name", "required")));
        }
        grantable_permissions(ctx, &perm_set(&input.permissions))?;
        tenant(ctx)?.update_role(input.id.as_str(), input.name.trim(), &perm_set(&input.permissions)).await.map_err(err).map(Into::into)
    }

    /// Ends a session: its refresh token and access tokens stop working (强制下线).
    async fn revoke_session(&self, ctx: &Context<'_>, input: IdInput) -> Res<Session> {
        tenant(ctx)?.revoke_session(input.id.as_str(), "REVOKED").await.map_err(err).map(Into::into)
    }

    /// Adds a park-platform client; the secret is shown only in this answer.
    async fn create_park_client(&self, ctx: &Context<'_>, input: CreateParkClientInput) -> Res<ParkClientSecret> {
        if input.scopes.is_empty() {
            return Err(err(Invalid::new("scopes", "at least one")));
        }
        if input.property_ids.is_empty() {
            return Err(err(Invalid::new("propertyIds", "at least one")));
        }
        let scopes: Vec<String> = input.scopes.iter().map(|s| s.domain().code().to_string()).collect();
        let props = ids(&Some(input.property_ids), "propertyIds")?.unwrap_or_default();
        let (client, secret) =
            tenant(ctx)?.create_park_client(input.name.trim(), &scopes, &props).await.map_err(on_field("propertyIds"))?;
        Ok(ParkClientSecret { client: client.into(), client_secret: secret })
    }

    /// A new secret; tokens issued with the old one stop working (重置密钥).
    async fn rotate_park_client_secret(&self, ctx: &Context<'_>, input: IdInput) -> Res<ParkClientSecret> {
        let (client, secret) = tenant(ctx)?.rotate_park_client(input.id.as_str()).await.map_err(err)?;
        Ok(ParkClientSecret { client: client.into(), client_secret: secret })
    }

    /// Ends a park client for good (停用).
    async fn revoke_park_client(&self, ctx: &Context<'_>, input: IdInput) -> Res<ParkClient> {
        tenant(ctx)?.revoke_park_client(input.id.as_str()).await.map_err(err).map(Into::into)
    }

    /// A new broker password for a 4G meter or a gateway, shown once (重置设备密码).
    async fn rotate_device_credential(&self, ctx: &Context<'_>, input: DeviceInput) -> Res<DeviceCredentials> {
        let (owner, id) = device(&input)?;
        tenant(ctx)?.rotate_device_credential(owner, &id).await.map_err(err).map(Into::into)
    }

    /// Ends a device's broker login (吊销设备凭据).
    async fn revoke_device_credential(&self, ctx: &Context<'_>, input: DeviceInput) -> Res<bool> {
        let (owner, id) = device(&input)?;
        tenant(ctx)?.revoke_device_credential(owner, &id).await.map_err(err)?;
        Ok(true)
    }
}

/// The calling operator may not grant more than it holds (`domain::access::may_grant`): the
/// role's permissions and the property scope given to an operator must be within its own.
pub(crate) async fn grantable(ctx: &Context<'_>, t: &store::TenantStore, role: Option<&str>, scope: Option<Option<&[String]>>) -> Res<()> {
    let Principal::Operator { permissions, properties, .. } = principal(ctx)? else { return Ok(()) };
    let role_perms = match role {
        Some(r) => Some(t.role(r).await.map_err(err)?.ok_or_else(|| err(Invalid::new("roleId", "no such role")))?.permissions),
        None => None,
    };
    domain::access::may_grant((permissions, properties.as_deref()), role_perms.as_ref(), scope)
        .map_err(|e| err(ApiError::Forbidden(e.message)))
}

/// A role's permissions must be within the calling operator's own.
pub(crate) fn grantable_permissions(ctx: &Context<'_>, wanted: &PermissionSet) -> Res<()> {
    let Principal::Operator { permissions, properties, .. } = principal(ctx)? else { return Ok(()) };
    domain::access::may_grant((permissions, properties.as_deref()), Some(wanted), None).map_err(|e| err(ApiError::Forbidden(e.message)))
}
