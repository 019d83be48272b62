//! GraphQL for the registry: tenants, properties and areas, customers, gateways and meters
//! (register, update, retire), with their device logins shown once.

use super::ApiError;
use super::graphql::*;
use super::meters::*;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use domain::Invalid;
use domain::ids::*;
use domain::metering::from_scaled;
use domain::registry::{self as reg, MeterInput};
use rust_decimal::Decimal;
use store::{self};

/// A site such as a mall or park (项目).
#[derive(SimpleObject)]
pub struct Property {
    pub id: ID,
    /// Name (名称).
    pub name: String,
    /// Postal address (地址).
    pub address: String,
    pub created_at: DateTime<Utc>,
    /// When it was retired, if it was (停用时间).
    pub retired_at: Option<DateTime<Utc>>,
    /// The tariff assigned to the property (`assignTariff(propertyId)`); its meters without
    /// their own tariff are priced by it, else by the tenant's default.
    pub tariff_id: Option<ID>,
    /// Whom customers call (物业联系人), shown in their app.
    pub contact_name: String,
    /// The contact's telephone.
    pub contact_phone: String,
}

impl From<store::PropertyRow> for Property {
    fn from(r: store::PropertyRow) -> Self {
        Self {
            id: ID(r.id.to_string()),
            name: r.name,
            address: r.address,
            created_at: r.created_at,
            retired_at: r.retired_at,
            tariff_id: r.tariff_id.map(|t| ID(t.to_string())),
            contact_name: r.contact_name,
            contact_phone: r.contact_phone,
        }
    }
}

/// An area or building inside a property (区域/楼栋).
#[derive(SimpleObject)]
pub struct Area {
    pub id: ID,
    pub property_id: ID,
    pub name: String,
    /// Floor area in m², used for shared-area allocation (面积).
    pub floor_area: Option<Decimal>,
    pub retired_at: Option<DateTime<Utc>>,
}

impl From<store::AreaRow> for Area {
    fn from(r: store::AreaRow) -> Self {
        Self {
            id: ID(r.id.to_string()),
            property_id: ID(r.property_id.to_string()),
            name: r.name,
            floor_area: r.floor_area_x100.map(|a| from_scaled(a, 2)),
            retired_at: r.retired_at,
        }
    }
}

/// The paying occupant: a shop, an enterprise, a dormitory room (客户).
#[derive(SimpleObject)]
pub struct Customer {
    pub id: ID,
    pub name: String,
    pub phone: String,
    /// Shop number (铺位号).
    pub shop_no: String,
    pub retired_at: Option<DateTime<Utc>>,
}

impl From<store::CustomerRow> for Customer {
    fn from(r: store::CustomerRow) -> Self {
        Self { id: ID(r.id.to_string()), name: r.name, phone: r.phone, shop_no: r.shop_no, retired_at: r.retired_at }
    }
}

/// A LoRa gateway publishing for the meters behind it (网关).
#[derive(SimpleObject)]
pub struct Gateway {
    pub id: ID,
    pub property_id: ID,
    /// Serial number (序列号).
    pub serial: String,
    pub name: String,
    pub link_state: LinkState,
    /// Last time anything was heard from it (最后通讯时间).
    pub last_seen_at: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
}

impl From<store::GatewayRow> for Gateway {
    fn from(r: store::GatewayRow) -> Self {
        Self {
            id: ID(r.id.to_string()),
            property_id: ID(r.property_id.to_string()),
            serial: r.serial,
            name: r.name,
            link_state: link_state(&r.link_state),
            last_seen_at: r.last_seen_at,
            retired_at: r.retired_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct GatewayPage {
    pub items: Vec<Gateway>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

#[derive(SimpleObject)]
pub struct CustomerPage {
    pub items: Vec<Customer>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

/// The tenant (property company) the token speaks for.
#[derive(SimpleObject)]
pub struct Tenant {
    pub id: ID,
    pub name: String,
    /// The company code people sign in with (and the mobile pages' `?tenant=`).
    pub slug: String,
    /// IANA time zone used for tariffs, freezes and reports.
    pub time_zone: String,
    /// Expected seconds between meter pushes (抄表间隔).
    pub reading_interval_seconds: i64,
    /// A meter is LOST after this many intervals without a push (离线判定).
    pub lost_after_intervals: i64,
}

#[derive(Default)]
pub struct RegistryQuery;

#[Object]
impl RegistryQuery {
    /// The caller's tenant.
    async fn tenant(&self, ctx: &Context<'_>) -> Res<Tenant> {
        let t = tenant(ctx)?.tenant_row().await.map_err(err)?;
        Ok(Tenant {
            id: ID(t.id.to_string()),
            name: t.name,
            slug: t.slug,
            time_zone: t.time_zone,
            reading_interval_seconds: t.reading_interval_s,
            lost_after_intervals: t.lost_after_intervals,
        })
    }

    async fn properties(&self, ctx: &Context<'_>) -> Res<Vec<Property>> {
        Ok(tenant(ctx)?.properties().await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    async fn areas(&self, ctx: &Context<'_>, property_id: Option<ID>) -> Res<Vec<Area>> {
        let p = match property_id {
            None => None,
            Some(id) => match PropertyId::parse(id.as_str()) {
                Some(p) => Some(p),
                None => return Ok(Vec::new()),
            },
        };
        Ok(tenant(ctx)?.areas(p.as_ref()).await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    #[graphql(complexity = "(page_size.clamp(1, 1000) as usize) * child_complexity")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 1)] page: i32,
        #[graphql(default = 20)] page_size: i32,
        #[graphql(desc = "Text in the name, phone or shop number.")] q: Option<String>,
    ) -> Res<CustomerPage> {
        let (page, page_size) = paging(page, page_size)?;
        let (rows, total) = tenant(ctx)?.customers(q.as_deref(), page, page_size).await.map_err(err)?;
        Ok(CustomerPage { items: rows.into_iter().map(Into::into).collect(), total, page, page_size })
    }

    /// Meters, paged, with filters by property, area, gateway, status and text (电表监控).
    #[graphql(complexity = "(page_size.clamp(1, 1000) as usize) * child_complexity")]
    async fn meters(
        &self,
        ctx: &Context<'_>,
        filter: Option<MeterFilter>,
        #[graphql(default = 1)] page: i32,
        #[graphql(default = 20)] page_size: i32,
    ) -> Res<MeterPage> {
        let (page, page_size) = paging(page, page_size)?;
        let f = filter.unwrap_or_default();
        let nothing = || MeterPage { items: Vec::new(), total: 0, page, page_size };
        // An id that cannot exist matches nothing (never another tenant's rows).
        let property_id = match f.property_id.as_ref().map(|i| PropertyId::parse(i.as_str())) {
            Some(None) => return Ok(nothing()),
            other => other.flatten(),
        };
        let area_id = match f.area_id.as_ref().map(|i| AreaId::parse(i.as_str())) {
            Some(None) => return Ok(nothing()),
            other => other.flatten(),
        };
        let gateway_id = match f.gateway_id.as_ref().map(|i| GatewayId::parse(i.as_str())) {
            Some(None) => return Ok(nothing()),
            other => other.flatten(),
        };
        let account_id = match f.account_id.as_ref().map(|i| AccountId::parse(i.as_str())) {
            Some(None) => return Ok(nothing()),
            other => other.flatten(),
        };
        let status = f.status.map(|s| {
            match s {
                MeterStatus::NeverSeen => "NEVER_SEEN",
                MeterStatus::Online => "ONLINE",
                MeterStatus::Lost => "LOST",
                MeterStatus::Retired => "RETIRED",
            }
            .to_string()
        });
        let fee_state = f.fee_state.map(|s| s.as_str().to_string());
        let filter = store::MeterFilter { property_id, area_id, gateway_id, account_id, status, q: f.q, fee_state };
        let (rows, total) = tenant(ctx)?.meters(&filter, page, page_size).await.map_err(err)?;
        Ok(MeterPage { items: rows.into_iter().map(Meter).collect(), total, page, page_size })
    }

    /// One meter with its live values; another tenant's id is not found.
    async fn meter(&self, ctx: &Context<'_>, id: ID) -> Res<Option<Meter>> {
        let Some(id) = MeterId::parse(id.as_str()) else { return Ok(None) };
        Ok(tenant(ctx)?.meter(&id).await.map_err(err)?.map(Meter))
    }

    #[graphql(complexity = "(page_size.clamp(1, 1000) as usize) * child_complexity")]
    async fn gateways(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 1)] page: i32,
        #[graphql(default = 20)] page_size: i32,
        #[graphql(desc = "The gateways of one property.")] property_id: Option<ID>,
    ) -> Res<GatewayPage> {
        let (page, page_size) = paging(page, page_size)?;
        let property = match property_id.as_ref().map(|p| PropertyId::parse(p.as_str())) {
            Some(None) => return Ok(GatewayPage { items: Vec::new(), total: 0, page, page_size }),
            other => other.flatten(),
        };
        let (rows, total) = tenant(ctx)?.gateways_of(property.as_ref(), page, page_size).await.map_err(err)?;
        Ok(GatewayPage { items: rows.into_iter().map(Into::into).collect(), total, page, page_size })
    }

    async fn gateway(&self, ctx: &Context<'_>, id: ID) -> Res<Option<Gateway>> {
        let Some(id) = GatewayId::parse(id.as_str()) else { return Ok(None) };
        Ok(tenant(ctx)?.gateway(&id).await.map_err(err)?.map(Into::into))
    }
}

#[derive(InputObject)]
pub struct CreatePropertyInput {
    pub name: String,
    #[graphql(default)]
    pub address: String,
    /// Whom customers call; shown in their app.
    #[graphql(default)]
    pub contact_name: String,
    #[graphql(default)]
    pub contact_phone: String,
}

#[derive(InputObject)]
pub struct UpdatePropertyInput {
    pub id: ID,
    pub name: String,
    #[graphql(default)]
    pub address: String,
    /// Left out: the contact stays as it is.
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
}

#[derive(InputObject)]
pub struct RetireInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct CreateAreaInput {
    pub property_id: ID,
    pub name: String,
    pub floor_area: Option<Decimal>,
}

#[derive(InputObject)]
pub struct UpdateAreaInput {
    pub id: ID,
    pub name: String,
    pub floor_area: Option<Decimal>,
}

#[derive(InputObject)]
pub struct CreateCustomerInput {
    pub name: String,
    #[graphql(default)]
    pub phone: String,
    #[graphql(default)]
    pub shop_no: String,
}

#[derive(InputObject)]
pub struct UpdateCustomerInput {
    pub id: ID,
    pub name: String,
    #[graphql(default)]
    pub phone: String,
    #[graphql(default)]
    pub shop_no: String,
}

#[derive(InputObject)]
pub struct RegisterGatewayInput {
    pub property_id: ID,
    pub serial: String,
    #[graphql(default)]
    pub name: String,
}

#[derive(InputObject)]
pub struct UpdateGatewayInput {
    pub id: ID,
    pub name: String,
}

#[derive(InputObject)]
pub struct RegisterMeterInput {
    pub property_id: ID,
    pub area_id: Option<ID>,
    pub customer_id: Option<ID>,
    /// Required for LORA_GATEWAY meters.
    pub gateway_id: Option<ID>,
    /// 12-digit DL/T 645 address.
    pub address: String,
    #[graphql(default)]
    pub model: String,
    pub phases: i32,
    pub pt_ratio: Option<i32>,
    pub ct_ratio: Option<i32>,
    pub link_type: LinkType,
    pub billing_mode: Option<BillingMode>,
    #[graphql(default)]
    pub shop_no: String,
}

#[derive(InputObject)]
pub struct UpdateMeterInput {
    pub id: ID,
    pub area_id: Option<ID>,
    pub customer_id: Option<ID>,
    #[graphql(default)]
    pub model: String,
    pub pt_ratio: Option<i32>,
    pub ct_ratio: Option<i32>,
    #[graphql(default)]
    pub shop_no: String,
}

pub(crate) fn not_found_as(field: &'static str) -> impl Fn(store::StoreError) -> async_graphql::Error {
    move |e| match e {
        store::StoreError::NotFound => err(Invalid::new(field, "no such object")),
        other => err(other),
    }
}

#[derive(Default)]
pub struct RegistryMutation;

#[Object]
impl RegistryMutation {
    async fn create_property(&self, ctx: &Context<'_>, input: CreatePropertyInput) -> Res<Property> {
        let p = reg::NewProperty::parse(&input.name, &input.address)
            .and_then(|p| p.with_contact(&input.contact_name, &input.contact_phone))
            .map_err(err)?;
        Ok(tenant(ctx)?.create_property(&p).await.map_err(err)?.into())
    }

    async fn update_property(&self, ctx: &Context<'_>, input: UpdatePropertyInput) -> Res<Property> {
        let id = parse_id(&input.id, PropertyId::parse)?;
        let t = tenant(ctx)?;
        let now = t.property(&id).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?;
        let p = reg::NewProperty::parse(&input.name, &input.address)
            .and_then(|p| {
                p.with_contact(
                    input.contact_name.as_deref().unwrap_or(&now.contact_name),
                    input.contact_phone.as_deref().unwrap_or(&now.contact_phone),
                )
            })
            .map_err(err)?;
        Ok(tenant(ctx)?.update_property(&id, &p).await.map_err(err)?.into())
    }

    /// Retires a property; refused while it still has active meters.
    async fn retire_property(&self, ctx: &Context<'_>, input: RetireInput) -> Res<Property> {
        let id = parse_id(&input.id, PropertyId::parse)?;
        let t = tenant(ctx)?;
        t.retire("properties", id.as_str()).await.map_err(err)?;
        Ok(t.property(&id).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?.into())
    }

    async fn create_area(&self, ctx: &Context<'_>, input: CreateAreaInput) -> Res<Area> {
        let property = parse_ref("propertyId", &Some(input.property_id), PropertyId::parse)?.ok_or_else(|| err(ApiError::NotFound))?;
        let a = reg::NewArea::parse(property, &input.name, input.floor_area).map_err(err)?;
        Ok(tenant(ctx)?.create_area(&a).await.map_err(not_found_as("propertyId"))?.into())
    }

    async fn update_area(&self, ctx: &Context<'_>, input: UpdateAreaInput) -> Res<Area> {
        let id = parse_id(&input.id, AreaId::parse)?;
        let nil = PropertyId::from_uuid(uuid::Uuid::nil());
        let a = reg::NewArea::parse(nil, &input.name, input.floor_area).map_err(err)?;
        Ok(tenant(ctx)?.update_area(&id, &a.name, a.floor_area_x100).await.map_err(err)?.into())
    }

    async fn retire_area(&self, ctx: &Context<'_>, input: RetireInput) -> Res<Area> {
        let id = parse_id(&input.id, AreaId::parse)?;
        let t = tenant(ctx)?;
        t.retire("areas", id.as_str()).await.map_err(err)?;
        Ok(t.area(&id).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?.into())
    }

    async fn create_customer(&self, ctx: &Context<'_>, input: CreateCustomerInput) -> Res<Customer> {
        let c = reg::NewCustomer::parse(&input.name, &input.phone, &input.shop_no).map_err(err)?;
        Ok(tenant(ctx)?.create_customer(&c).await.map_err(err)?.into())
    }

    async fn update_customer(&self, ctx: &Context<'_>, input: UpdateCustomerInput) -> Res<Customer> {
        let id = parse_id(&input.id, CustomerId::parse)?;
        let c = reg::NewCustomer::parse(&input.name, &input.phone, &input.shop_no).map_err(err)?;
        Ok(tenant(ctx)?.update_customer(&id, &c).await.map_err(err)?.into())
    }

    async fn retire_customer(&self, ctx: &Context<'_>, input: RetireInput) -> Res<Customer> {
        let id = parse_id(&input.id, CustomerId::parse)?;
        let t = tenant(ctx)?;
        t.retire("customers", id.as_str()).await.map_err(err)?;
        Ok(t.customer(&id).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?.into())
    }

    /// Registers a LoRa gateway and issues its MQTT login.
    async fn register_gateway(&self, ctx: &Context<'_>, input: RegisterGatewayInput) -> Res<RegisteredGateway> {
        let property = parse_ref("propertyId", &Some(input.property_id), PropertyId::parse)?.ok_or_else(|| err(ApiError::NotFound))?;
        let g = reg::NewGateway::parse(property, &input.serial, &input.name).map_err(err)?;
        let (gateway, cred) = tenant(ctx)?.register_gateway(&g).await.map_err(not_found_as("propertyId"))?;
        Ok(RegisteredGateway { gateway: gateway.into(), credentials: cred.into() })
    }

    async fn update_gateway(&self, ctx: &Context<'_>, input: UpdateGatewayInput) -> Res<Gateway> {
        let id = parse_id(&input.id, GatewayId::parse)?;
        Ok(tenant(ctx)?.update_gateway(&id, input.name.trim()).await.map_err(err)?.into())
    }

    /// Retires a gateway and revokes its login; refused while meters still use it.
    async fn retire_gateway(&self, ctx: &Context<'_>, input: RetireInput) -> Res<Gateway> {
        let id = parse_id(&input.id, GatewayId::parse)?;
        let t = tenant(ctx)?;
        t.retire("gateways", id.as_str()).await.map_err(err)?;
        Ok(t.gateway(&id).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?.into())
    }

    /// Registers a meter; a 4G meter gets its own MQTT login (returned once).
    async fn register_meter(&self, ctx: &Context<'_>, input: RegisterMeterInput) -> Res<RegisteredMeter> {
        let property = parse_ref("propertyId", &Some(input.property_id), PropertyId::parse)?.ok_or_else(|| err(ApiError::NotFound))?;
        let area = parse_ref("areaId", &input.area_id, AreaId::parse)?;
        let customer = parse_ref("customerId", &input.customer_id, CustomerId::parse)?;
        let gateway = parse_ref("gatewayId", &input.gateway_id, GatewayId::parse)?;
        let raw = MeterInput {
            address: input.address,
            model: input.model,
            phases: input.phases,
            pt_ratio: input.pt_ratio,
            ct_ratio: input.ct_ratio,
            link_type: match input.link_type {
                LinkType::FourG => "FOUR_G",
                LinkType::LoraGateway => "LORA_GATEWAY",
                LinkType::Serial => "SERIAL",
            }
            .into(),
            billing_mode: input.billing_mode.map(|b| {
                match b {
                    BillingMode::PlatformPrepaid => "PLATFORM_PREPAID",
                    BillingMode::MeterPrepaid => "METER_PREPAID",
                    BillingMode::PostPaid => "POST_PAID",
                }
                .into()
            }),
            shop_no: input.shop_no,
        };
        let m = reg::NewMeter::parse(property, area, customer, gateway, &raw).map_err(err)?;
        let (meter, cred) = tenant(ctx)?.register_meter(&m).await.map_err(|e| match e {
            store::StoreError::NotFound => err(Invalid::new("propertyId", "property, area, customer or gateway not found")),
            store::StoreError::Conflict(_) | store::StoreError::Duplicate => {
                err(Invalid::new("address", "a meter with this address is already registered"))
            }
            other => err(other),
        })?;
        Ok(RegisteredMeter { meter: Meter(meter), credentials: cred.map(Into::into) })
    }

    async fn update_meter(&self, ctx: &Context<'_>, input: UpdateMeterInput) -> Res<Meter> {
        let id = parse_id(&input.id, MeterId::parse)?;
        let area = parse_ref("areaId", &input.area_id, AreaId::parse)?;
        let customer = parse_ref("customerId", &input.customer_id, CustomerId::parse)?;
        let pt = reg::ratio("ptRatio", input.pt_ratio).map_err(err)?;
        let ct = reg::ratio("ctRatio", input.ct_ratio).map_err(err)?;
        let patch = reg::MeterPatch {
            area,
            customer,
            model: input.model.trim().chars().take(60).collect(),
            pt_ratio: pt,
            ct_ratio: ct,
            shop_no: input.shop_no.trim().chars().take(40).collect(),
        };
        Ok(Meter(tenant(ctx)?.update_meter(&id, &patch).await.map_err(err)?))
    }

    /// Retires a meter and revokes its login.
    async fn retire_meter(&self, ctx: &Context<'_>, input: RetireInput) -> Res<Meter> {
        let id = parse_id(&input.id, MeterId::parse)?;
        let t = tenant(ctx)?;
        t.retire("meters", id.as_str()).await.map_err(err)?;
        Ok(Meter(t.meter(&id).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?))
    }
}
