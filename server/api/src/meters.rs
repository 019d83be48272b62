//! GraphQL for a meter as the portal and park platforms read it: its registry fields, link
//! and fee state, balance, price now, live values and readings; the monitor's filter.

use super::graphql::*;
use super::registry::*;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use domain::Invalid;
use domain::metering::{Ratios, from_scaled, scale};
use rust_decimal::Decimal;
use store::{self};

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

pub(crate) fn link_state(s: &str) -> LinkState {
    match s {
        "ONLINE" => LinkState::Online,
        "LOST" => LinkState::Lost,
        _ => LinkState::NeverSeen,
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

/// A device's MQTT login, shown only once, when issued (设备凭据).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct DeviceCredentials {
    pub username: String,
    pub password: String,
    /// Where the device publishes frames.
    pub uplink_topic: String,
    /// Where the device receives commands.
    pub downlink_topic: String,
}

#[async_graphql::ComplexObject]
impl DeviceCredentials {
    /// Where the device connects (`mqtt://host:port`): the deployment's broker for devices.
    async fn broker_url(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.data_opt::<super::DeviceBroker>().map(|b| b.0.clone())
    }
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
