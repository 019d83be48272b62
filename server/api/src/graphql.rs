//! The GraphQL schema: registry queries and mutations, live values and reading history.
//! Every resolver reaches data only through the request's [`TenantStore`].

use async_graphql::{Context, Enum, ErrorExtensions, ID, InputObject, Object, Schema, SimpleObject};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::ApiError;
use domain::Invalid;
use domain::ids::*;
use domain::metering::{Ratios, from_scaled, scale};
use domain::registry::{self as reg, MeterInput};
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
    super::pay::PayQuery,
    super::desk::DeskQuery,
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
    super::pay::PayMutation,
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

const MAX_PAGE: i32 = 500;

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

/// How a meter reaches the platform (接入方式).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum LinkType {
    /// A 4G meter with its own MQTT login (4G直连).
    FourG,
    /// A meter behind a LoRa gateway (LoRa网关).
    LoraGateway,
    /// A meter on RS-485 behind a serial server (串口服务器).
    Serial,
}

/// Who keeps the balance (计费模式).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum BillingMode {
    /// The platform settles each reading (平台侧预付费).
    PlatformPrepaid,
    /// The meter keeps its wallet (表端预付费).
    MeterPrepaid,
    /// Monthly bill (后付费).
    PostPaid,
}

/// Connection state (在线状态).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum LinkState {
    /// Registered, never heard from (未上线).
    NeverSeen,
    /// Heard from within the allowed silence (在线).
    Online,
    /// Silent for longer than the tenant allows (失联).
    Lost,
}

/// Meter list status filter (状态筛选).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum MeterStatus {
    NeverSeen,
    Online,
    Lost,
    /// Retired meters (已拆除).
    Retired,
}

fn link_state(s: &str) -> LinkState {
    match s {
        "ONLINE" => LinkState::Online,
        "LOST" => LinkState::Lost,
        _ => LinkState::NeverSeen,
    }
}

// ---- objects ----

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

/// Electrical values of one reading, primary side (PT/CT ratios applied) (电参量).
#[derive(SimpleObject, Clone)]
pub struct Reading {
    /// When the meter took the reading (抄表时间).
    pub read_at: Option<DateTime<Utc>>,
    /// Forward active energy, total, kWh (正向有功总电能).
    pub energy_total: Option<Decimal>,
    /// Forward active energy in the sharp period, kWh (尖).
    pub energy_sharp: Option<Decimal>,
    /// Peak period, kWh (峰).
    pub energy_peak: Option<Decimal>,
    /// Flat period, kWh (平).
    pub energy_flat: Option<Decimal>,
    /// Valley period, kWh (谷).
    pub energy_valley: Option<Decimal>,
    /// Reverse active energy, kWh (反向有功).
    pub reverse_energy: Option<Decimal>,
    /// Phase voltages, V (电压).
    pub voltage_a: Option<Decimal>,
    pub voltage_b: Option<Decimal>,
    pub voltage_c: Option<Decimal>,
    /// Phase currents, A (电流).
    pub current_a: Option<Decimal>,
    pub current_b: Option<Decimal>,
    pub current_c: Option<Decimal>,
    /// Total active power, kW (有功功率).
    pub active_power: Option<Decimal>,
    /// Total reactive power, kvar (无功功率).
    pub reactive_power: Option<Decimal>,
    /// Total power factor (功率因数).
    pub power_factor: Option<Decimal>,
    /// Grid frequency, Hz (频率).
    pub frequency: Option<Decimal>,
    /// Maximum demand, kW (最大需量).
    pub max_demand: Option<Decimal>,
    /// Meter-side wallet remaining amount, yuan (剩余金额).
    pub remaining_amount: Option<Decimal>,
    /// Meter-side overdraft amount, yuan (透支金额).
    pub overdraft_amount: Option<Decimal>,
    /// Relay open as reported by status word 3 bit 4 (拉闸).
    pub relay_open: Option<bool>,
    /// Hold power on, status word 3 bit 12 (保电).
    pub hold_power: Option<bool>,
    /// Phases with a phase break (status words 4..6 bit 7) (断相/缺相).
    pub phase_loss: Vec<String>,
    /// Phases with under-voltage (bit 1) (欠压).
    pub under_voltage: Vec<String>,
}

impl Reading {
    fn from_values(v: &store::ValuesRow, ratios: Ratios) -> Self {
        let x = v.values;
        let s = |i: usize, places: u32| x.get(i).copied().flatten().map(|n| from_scaled(n, places));
        let energy = |i: usize| s(i, scale::ENERGY).map(|e| ratios.power(e));
        let volt = |i: usize| s(i, scale::VOLTAGE).map(|e| ratios.voltage(e));
        let amp = |i: usize| s(i, scale::CURRENT).map(|e| ratios.current(e));
        let pow = |i: usize| s(i, scale::POWER).map(|e| ratios.power(e));
        let sw3 = x.get(19).copied().flatten();
        let phases_with = |bit: i64| {
            ["A", "B", "C"]
                .iter()
                .enumerate()
                .filter(|(p, _)| x.get(20 + p).copied().flatten().is_some_and(|w| w & (1 << bit) != 0))
                .map(|(_, n)| n.to_string())
                .collect()
        };
        Self {
            read_at: v.read_at,
            energy_total: energy(0),
            energy_sharp: energy(1),
            energy_peak: energy(2),
            energy_flat: energy(3),
            energy_valley: energy(4),
            reverse_energy: energy(5),
            voltage_a: volt(6),
            voltage_b: volt(7),
            voltage_c: volt(8),
            current_a: amp(9),
            current_b: amp(10),
            current_c: amp(11),
            active_power: pow(12),
            reactive_power: pow(13),
            power_factor: s(14, scale::POWER_FACTOR),
            frequency: s(15, scale::FREQUENCY),
            max_demand: pow(16),
            remaining_amount: s(17, scale::MONEY),
            overdraft_amount: s(18, scale::MONEY),
            relay_open: sw3.map(|w| w & (1 << 4) != 0),
            hold_power: sw3.map(|w| w & (1 << 12) != 0),
            phase_loss: phases_with(7),
            under_voltage: phases_with(1),
        }
    }
}

/// An electricity meter (电表).
pub struct Meter(pub(crate) store::MeterRow);

#[Object]
impl Meter {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// DL/T 645 address, 12 digits (表地址).
    async fn address(&self) -> &str {
        &self.0.address
    }
    /// Model name (型号).
    async fn model(&self) -> &str {
        &self.0.model
    }
    /// 1 or 3 phases (相数).
    async fn phases(&self) -> i64 {
        self.0.phases
    }
    /// Voltage transformer ratio (PT变比).
    async fn pt_ratio(&self) -> i64 {
        self.0.pt_ratio
    }
    /// Current transformer ratio (CT变比).
    async fn ct_ratio(&self) -> i64 {
        self.0.ct_ratio
    }
    async fn link_type(&self) -> LinkType {
        match self.0.link_type.as_str() {
            "LORA_GATEWAY" => LinkType::LoraGateway,
            "SERIAL" => LinkType::Serial,
            _ => LinkType::FourG,
        }
    }
    async fn billing_mode(&self) -> BillingMode {
        match self.0.billing_mode.as_str() {
            "METER_PREPAID" => BillingMode::MeterPrepaid,
            "POST_PAID" => BillingMode::PostPaid,
            _ => BillingMode::PlatformPrepaid,
        }
    }
    /// Shop number (铺位号).
    async fn shop_no(&self) -> &str {
        &self.0.shop_no
    }
    async fn property_id(&self) -> ID {
        ID(self.0.property_id.to_string())
    }
    async fn area_id(&self) -> Option<ID> {
        self.0.area_id.as_ref().map(|a| ID(a.to_string()))
    }
    async fn customer_id(&self) -> Option<ID> {
        self.0.customer_id.as_ref().map(|a| ID(a.to_string()))
    }
    async fn gateway_id(&self) -> Option<ID> {
        self.0.gateway_id.as_ref().map(|a| ID(a.to_string()))
    }
    /// The account it bills to (户).
    async fn account_id(&self) -> Option<ID> {
        self.0.account_id.as_ref().map(|a| ID(a.to_string()))
    }
    /// Meter-side prepaid: why the wallet the meter reports cannot be right, if it cannot
    /// (more remaining than was ever loaded into it) (表端余额核对).
    async fn wallet_mismatch(&self, ctx: &Context<'_>) -> Res<Option<String>> {
        if self.0.billing_mode != "METER_PREPAID" {
            return Ok(None);
        }
        tenant(ctx)?.meter_balance_check(&self.0.id).await.map_err(err)
    }
    /// Its own tariff, overriding the property's and the tenant's (单表电价).
    async fn tariff_id(&self) -> Option<ID> {
        self.0.tariff_id.as_ref().map(|a| ID(a.to_string()))
    }
    /// Connection state (在线状态).
    async fn link_state(&self) -> LinkState {
        link_state(&self.0.live.link_state)
    }
    /// Its state on the meter monitor, most urgent first (费控状态).
    async fn fee_state(&self) -> FeeState {
        FeeState::parse(&self.0.desk.fee_state)
    }
    /// Its account's balance (余额).
    async fn balance(&self) -> Option<Decimal> {
        self.0.desk.balance_x100.map(domain::ledger::yuan)
    }
    /// Its account's number (户号).
    async fn account_number(&self) -> Option<&str> {
        self.0.desk.account_number.as_deref()
    }
    /// The customer's name: its account's, else the meter's own (客户).
    async fn customer_name(&self) -> Option<&str> {
        self.0.desk.customer_name.as_deref()
    }
    /// Its area's name (区域).
    async fn area_name(&self) -> Option<&str> {
        self.0.desk.area_name.as_deref()
    }
    /// The price per kWh now: the rate in force in the tenant's time zone under the tariff
    /// that prices the meter (its own, its property's or the tenant's), before tier
    /// increments (当前电价).
    async fn price_now(&self) -> Option<Decimal> {
        self.0.desk.price_now.map(|(_, p)| p)
    }
    /// The TOU rate in force now (当前时段).
    async fn rate_now(&self) -> Option<super::tariffs::TouRate> {
        self.0.desk.price_now.map(|(r, _)| r.into())
    }
    /// The account it bills to, with balance, terms and ledger.
    async fn account(&self, ctx: &Context<'_>) -> Res<Option<super::money::Account>> {
        let Some(id) = &self.0.account_id else { return Ok(None) };
        Ok(tenant(ctx)?.account(id).await.map_err(err)?.map(super::money::Account))
    }
    /// The customer of its account, else its own.
    async fn customer(&self, ctx: &Context<'_>) -> Res<Option<Customer>> {
        let t = tenant(ctx)?;
        let id = match &self.0.account_id {
            Some(a) => t.account(a).await.map_err(err)?.map(|a| a.customer_id).or_else(|| self.0.customer_id.clone()),
            None => self.0.customer_id.clone(),
        };
        let Some(id) = id else { return Ok(None) };
        Ok(t.customer(&id).await.map_err(err)?.map(Into::into))
    }
    async fn area(&self, ctx: &Context<'_>) -> Res<Option<Area>> {
        let Some(id) = &self.0.area_id else { return Ok(None) };
        Ok(tenant(ctx)?.area(id).await.map_err(err)?.map(Into::into))
    }
    /// Last time the meter was heard from (最后通讯时间).
    async fn last_seen_at(&self) -> Option<DateTime<Utc>> {
        self.0.live.last_seen_at
    }
    /// The newest reading, primary side (实时数据).
    async fn live(&self) -> Reading {
        Reading::from_values(&self.0.live.latest, Ratios { pt: self.0.pt_ratio, ct: self.0.ct_ratio })
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn retired_at(&self) -> Option<DateTime<Utc>> {
        self.0.retired_at
    }
    /// Reading history in `[from, to)`, oldest first, paged by cursor (历史数据).
    #[graphql(complexity = "(first.clamp(1, 1000) as usize) * child_complexity")]
    async fn readings(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        #[graphql(default = 100)] first: i32,
        after: Option<String>,
    ) -> Res<ReadingConnection> {
        let t = tenant(ctx)?;
        if !(1..=1000).contains(&first) {
            return Err(err(Invalid::new("first", "between 1 and 1000")));
        }
        if to <= from {
            return Err(err(Invalid::new("to", "must be after from")));
        }
        let after = match after {
            None => None,
            Some(c) => Some(
                DateTime::parse_from_rfc3339(&c)
                    .map_err(|_| err(Invalid::new("after", "not a cursor from this list")))?
                    .with_timezone(&Utc),
            ),
        };
        let mut rows = t.readings(&self.0.id, from, to, after, first as u64 + 1).await.map_err(err)?;
        let has_next_page = rows.len() > first as usize;
        rows.truncate(first as usize);
        let ratios = Ratios { pt: self.0.pt_ratio, ct: self.0.ct_ratio };
        // Exact to the nanosecond: a cursor that dropped digits would return its own row again.
        let end_cursor = rows.last().and_then(|r| r.read_at).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
        Ok(ReadingConnection {
            items: rows.iter().map(|r| Reading::from_values(r, ratios)).collect(),
            page_info: PageInfo { end_cursor, has_next_page },
        })
    }
}

/// Cursor position of a stream list.
#[derive(SimpleObject)]
pub struct PageInfo {
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
}

#[derive(SimpleObject)]
pub struct ReadingConnection {
    pub items: Vec<Reading>,
    pub page_info: PageInfo,
}

#[derive(SimpleObject)]
pub struct MeterPage {
    pub items: Vec<Meter>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
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

/// A device's MQTT login, shown only once, when issued (设备凭据).
#[derive(SimpleObject)]
pub struct DeviceCredentials {
    pub username: String,
    pub password: String,
    /// Where the device publishes frames.
    pub uplink_topic: String,
    /// Where the device receives commands.
    pub downlink_topic: String,
}

impl From<store::IssuedCredential> for DeviceCredentials {
    fn from(c: store::IssuedCredential) -> Self {
        Self {
            uplink_topic: mqtt_bridge::uplink::up_topic(&c.username),
            downlink_topic: mqtt_bridge::uplink::down_topic(&c.username),
            username: c.username,
            password: c.password,
        }
    }
}

#[derive(SimpleObject)]
pub struct RegisteredMeter {
    pub meter: Meter,
    /// Present for 4G meters; gateway meters use their gateway's login.
    pub credentials: Option<DeviceCredentials>,
}

#[derive(SimpleObject)]
pub struct RegisteredGateway {
    pub gateway: Gateway,
    pub credentials: DeviceCredentials,
}

/// A meter's state on the monitor (费控状态), most urgent first: the colour of its row.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum FeeState {
    /// In no open account (未开户).
    NotOpened,
    /// Power held whatever the balance (保电).
    HoldPower,
    /// Relay open, as the meter reports it, or as the platform wants it when the meter never
    /// reported its relay (分闸).
    Tripped,
    /// Below zero (欠费).
    Arrears,
    /// At or below alarm 2 (报警2).
    #[graphql(name = "ALARM_2")]
    Alarm2,
    /// At or below alarm 1 (报警1).
    #[graphql(name = "ALARM_1")]
    Alarm1,
    /// Normal (正常).
    Normal,
}

impl FeeState {
    pub fn as_str(self) -> &'static str {
        match self {
            FeeState::NotOpened => "NOT_OPENED",
            FeeState::HoldPower => "HOLD_POWER",
            FeeState::Tripped => "TRIPPED",
            FeeState::Arrears => "ARREARS",
            FeeState::Alarm2 => "ALARM_2",
            FeeState::Alarm1 => "ALARM_1",
            FeeState::Normal => "NORMAL",
        }
    }

    fn parse(s: &str) -> Self {
        [
            FeeState::NotOpened,
            FeeState::HoldPower,
            FeeState::Tripped,
            FeeState::Arrears,
            FeeState::Alarm2,
            FeeState::Alarm1,
            FeeState::Normal,
        ]
        .into_iter()
        .find(|f| f.as_str() == s)
        .unwrap_or(FeeState::Normal)
    }
}

/// Meter list filter.
#[derive(InputObject, Default)]
pub struct MeterFilter {
    pub property_id: Option<ID>,
    pub area_id: Option<ID>,
    pub gateway_id: Option<ID>,
    /// Meters of one account (一户多表).
    pub account_id: Option<ID>,
    pub status: Option<MeterStatus>,
    /// Text search in address, shop number and model.
    pub q: Option<String>,
    /// Meters in this state on the monitor.
    pub fee_state: Option<FeeState>,
}

/// The tenant (property company) the token speaks for.
#[derive(SimpleObject)]
pub struct Tenant {
    pub id: ID,
    pub name: String,
    /// IANA time zone used for tariffs, freezes and reports.
    pub time_zone: String,
    /// Expected seconds between meter pushes (抄表间隔).
    pub reading_interval_seconds: i64,
}

#[derive(Default)]
pub struct RegistryQuery;

#[Object]
impl RegistryQuery {
    /// The caller's tenant.
    async fn tenant(&self, ctx: &Context<'_>) -> Res<Tenant> {
        let t = tenant(ctx)?.tenant_row().await.map_err(err)?;
        Ok(Tenant { id: ID(t.id.to_string()), name: t.name, time_zone: t.time_zone, reading_interval_seconds: t.reading_interval_s })
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

// ---- inputs ----

#[derive(InputObject)]
pub struct CreatePropertyInput {
    pub name: String,
    #[graphql(default)]
    pub address: String,
}

#[derive(InputObject)]
pub struct UpdatePropertyInput {
    pub id: ID,
    pub name: String,
    #[graphql(default)]
    pub address: String,
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

fn not_found_as(field: &'static str) -> impl Fn(store::StoreError) -> async_graphql::Error {
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
        let p = reg::NewProperty::parse(&input.name, &input.address).map_err(err)?;
        Ok(tenant(ctx)?.create_property(&p).await.map_err(err)?.into())
    }

    async fn update_property(&self, ctx: &Context<'_>, input: UpdatePropertyInput) -> Res<Property> {
        let id = parse_id(&input.id, PropertyId::parse)?;
        let p = reg::NewProperty::parse(&input.name, &input.address).map_err(err)?;
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
