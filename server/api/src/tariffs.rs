//! GraphQL for tariffs: plans (flat, TOU with seasons and dates, tiers), versions and their
//! assignment, the resale price rule and its guard, service fees, billing settings and the
//! price notice.

use super::graphql::{Res, err, parse_id, parse_ref, tenant};
use super::money::named;
use super::receipts::price_notice_html;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use domain::Invalid;
use domain::ids::*;
use domain::ledger::{ServiceFee, yuan};
use domain::tariff::{Rate, Tariff as DomainTariff, TariffError, TariffSpec, TierCycle as DomainCycle, TouSource as DomainSource};
use rust_decimal::Decimal;
use store::{self, StoreError};

/// TOU rate (费率): sharp 尖, peak 峰, flat 平, valley 谷, deep valley 深谷.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum TouRate {
    Sharp,
    Peak,
    Flat,
    Valley,
    DeepValley,
}

impl From<TouRate> for Rate {
    fn from(r: TouRate) -> Self {
        match r {
            TouRate::Sharp => Rate::Sharp,
            TouRate::Peak => Rate::Peak,
            TouRate::Flat => Rate::Flat,
            TouRate::Valley => Rate::Valley,
            TouRate::DeepValley => Rate::DeepValley,
        }
    }
}

impl From<Rate> for TouRate {
    fn from(r: Rate) -> Self {
        match r {
            Rate::Sharp => TouRate::Sharp,
            Rate::Peak => TouRate::Peak,
            Rate::Flat => TouRate::Flat,
            Rate::Valley => TouRate::Valley,
            Rate::DeepValley => TouRate::DeepValley,
        }
    }
}

/// Who decides the TOU period of each kWh (分时依据).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum TouSource {
    /// The meter's per-rate registers (表计费率寄存器).
    MeterRegisters,
    /// The platform's calendar in the tenant's time zone (平台时段).
    PlatformCalendar,
}

/// Tier cycle (阶梯周期).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum TierCycle {
    Monthly,
    Yearly,
}

#[derive(SimpleObject)]
pub struct RatePrice {
    pub rate: TouRate,
    /// Yuan per kWh.
    pub price: Decimal,
}

#[derive(SimpleObject)]
pub struct Period {
    /// `hh:mm` local time.
    pub start: String,
    /// `hh:mm`, `24:00` for the end of the day.
    pub end: String,
    pub rate: TouRate,
}

#[derive(SimpleObject)]
pub struct SeasonPlan {
    /// `MM-DD`, inclusive.
    pub from: String,
    pub to: String,
    pub periods: Vec<Period>,
}

#[derive(SimpleObject)]
pub struct DatePlan {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub periods: Vec<Period>,
}

#[derive(SimpleObject)]
pub struct TierStep {
    /// Upper bound of cumulative kWh in the cycle; null for the last tier.
    pub up_to: Option<Decimal>,
    /// Price increment, yuan/kWh.
    pub add: Decimal,
}

#[derive(SimpleObject)]
pub struct Tiers {
    pub cycle: TierCycle,
    pub steps: Vec<TierStep>,
}

/// One version of a tariff (电价版本).
#[derive(SimpleObject)]
pub struct TariffVersion {
    pub effective_from: DateTime<Utc>,
    pub prices: Vec<RatePrice>,
    /// The default day; empty means flat all day.
    pub periods: Vec<Period>,
    pub seasons: Vec<SeasonPlan>,
    pub dates: Vec<DatePlan>,
    pub source: TouSource,
    pub tiers: Option<Tiers>,
    pub capacity_price_per_kw: Option<Decimal>,
    /// Above the price cap, accepted by explicit override (超限价).
    pub above_cap: bool,
    pub created_at: DateTime<Utc>,
}

fn periods_out(p: &[(String, String, Rate)]) -> Vec<Period> {
    p.iter().map(|(s, e, r)| Period { start: s.clone(), end: e.clone(), rate: (*r).into() }).collect()
}

impl From<store::TariffVersionRow> for TariffVersion {
    fn from(v: store::TariffVersionRow) -> Self {
        let s = v.spec;
        Self {
            effective_from: v.effective_from,
            prices: s.prices.iter().map(|(r, p)| RatePrice { rate: (*r).into(), price: *p }).collect(),
            periods: periods_out(&s.periods),
            seasons: s.seasons.iter().map(|(f, t, p)| SeasonPlan { from: f.clone(), to: t.clone(), periods: periods_out(p) }).collect(),
            dates: s.dates.iter().map(|(d, p)| DatePlan { date: d.clone(), periods: periods_out(p) }).collect(),
            source: match s.source {
                DomainSource::MeterRegisters => TouSource::MeterRegisters,
                DomainSource::PlatformCalendar => TouSource::PlatformCalendar,
            },
            tiers: s.tiers.map(|(c, steps)| Tiers {
                cycle: if c == DomainCycle::Monthly { TierCycle::Monthly } else { TierCycle::Yearly },
                steps: steps.into_iter().map(|(up_to, add)| TierStep { up_to, add }).collect(),
            }),
            capacity_price_per_kw: s.capacity_price_per_kw,
            above_cap: v.above_cap,
            created_at: v.created_at,
        }
    }
}

/// A tariff and its history (电价方案).
#[derive(SimpleObject)]
pub struct Tariff {
    pub id: ID,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// All versions, oldest first.
    pub versions: Vec<TariffVersion>,
    /// Retired: out of the lists, not assignable; its versions stay for the history.
    pub retired_at: Option<DateTime<Utc>>,
}

impl From<store::TariffRow> for Tariff {
    fn from(t: store::TariffRow) -> Self {
        Self {
            id: ID(t.id.to_string()),
            name: t.name,
            created_at: t.created_at,
            versions: t.versions.into_iter().map(Into::into).collect(),
            retired_at: t.retired_at,
        }
    }
}

/// The tenant's money settings (计费设置).
#[derive(SimpleObject)]
pub struct MoneySettings {
    pub default_tariff_id: Option<ID>,
    /// Published catalogue flat price (目录电价), yuan/kWh.
    pub catalogue_price: Option<Decimal>,
    /// Allowed margin above it, percent (default 15).
    pub margin_percent: Decimal,
    /// The resulting cap, if a catalogue price is set.
    pub price_cap: Option<Decimal>,
    /// Highest plausible secondary-side power; faster register growth is an anomaly.
    pub jump_limit_kw: Decimal,
    /// Month-start freeze: day of month and hour, local time (结算日).
    pub settlement_day: i64,
    pub settlement_hour: i64,
    pub service_fee_percent: Decimal,
    pub service_fee_fixed: Decimal,
    /// The balance thresholds an account opened without its own gets (默认报警阈值).
    pub default_thresholds: super::money::BalanceThresholds,
}

impl From<store::MoneySettings> for MoneySettings {
    fn from(s: store::MoneySettings) -> Self {
        Self {
            default_tariff_id: s.default_tariff_id.map(|t| ID(t.to_string())),
            catalogue_price: s.price_rule.map(|r| r.catalogue),
            margin_percent: s.margin_percent,
            price_cap: s.price_rule.map(|r| r.cap().round_dp(6).normalize()),
            jump_limit_kw: s.jump_limit_kw,
            settlement_day: s.settlement_day,
            settlement_hour: s.settlement_hour,
            service_fee_percent: s.service_fee.percent,
            service_fee_fixed: yuan(s.service_fee.fixed_fen),
            default_thresholds: s.default_thresholds.into(),
        }
    }
}

#[derive(InputObject)]
pub struct RatePriceInput {
    pub rate: TouRate,
    pub price: Decimal,
}

#[derive(InputObject)]
pub struct PeriodInput {
    pub start: String,
    pub end: String,
    pub rate: TouRate,
}

#[derive(InputObject)]
pub struct SeasonInput {
    pub from: String,
    pub to: String,
    pub periods: Vec<PeriodInput>,
}

#[derive(InputObject)]
pub struct DatePlanInput {
    pub date: String,
    pub periods: Vec<PeriodInput>,
}

#[derive(InputObject)]
pub struct TierStepInput {
    pub up_to: Option<Decimal>,
    pub add: Decimal,
}

#[derive(InputObject)]
pub struct TiersInput {
    pub cycle: TierCycle,
    pub steps: Vec<TierStepInput>,
}

/// A tariff version: prices, the day plan(s), the TOU source, tiers.
#[derive(InputObject)]
pub struct TariffInput {
    pub prices: Vec<RatePriceInput>,
    #[graphql(default)]
    pub periods: Vec<PeriodInput>,
    #[graphql(default)]
    pub seasons: Vec<SeasonInput>,
    #[graphql(default)]
    pub dates: Vec<DatePlanInput>,
    #[graphql(default_with = "TouSource::PlatformCalendar")]
    pub source: TouSource,
    pub tiers: Option<TiersInput>,
    pub capacity_price_per_kw: Option<Decimal>,
}

fn periods_in(p: &[PeriodInput]) -> Vec<(String, String, Rate)> {
    p.iter().map(|x| (x.start.clone(), x.end.clone(), x.rate.into())).collect()
}

fn spec_of(t: &TariffInput) -> TariffSpec {
    TariffSpec {
        prices: t.prices.iter().map(|p| (p.rate.into(), p.price)).collect(),
        periods: periods_in(&t.periods),
        seasons: t.seasons.iter().map(|s| (s.from.clone(), s.to.clone(), periods_in(&s.periods))).collect(),
        dates: t.dates.iter().map(|d| (d.date.clone(), periods_in(&d.periods))).collect(),
        source: match t.source {
            TouSource::MeterRegisters => DomainSource::MeterRegisters,
            TouSource::PlatformCalendar => DomainSource::PlatformCalendar,
        },
        tiers: t.tiers.as_ref().map(|x| {
            (
                if x.cycle == TierCycle::Monthly { DomainCycle::Monthly } else { DomainCycle::Yearly },
                x.steps.iter().map(|s| (s.up_to, s.add)).collect(),
            )
        }),
        capacity_price_per_kw: t.capacity_price_per_kw,
    }
}

/// Validates a tariff input; errors name the field they are about.
fn validate_tariff(t: &TariffInput) -> Result<TariffSpec, Invalid> {
    let spec = spec_of(t);
    DomainTariff::from_spec(&spec).map_err(|e| {
        let field = match &e {
            TariffError::PeriodCount(_)
            | TariffError::NotCovering { .. }
            | TariffError::Overlap { .. }
            | TariffError::EmptyPeriod { .. }
            | TariffError::BadTime(_) => "tariff.periods",
            TariffError::MissingPrice(_) | TariffError::NegativePrice(_) | TariffError::PricePlaces(_) => "tariff.prices",
            TariffError::TierBounds(_) => "tariff.tiers",
            TariffError::BadDate(_) => "tariff.seasons",
            TariffError::DeepValleyFromRegisters => "tariff.source",
        };
        Invalid::new(field, e.to_string())
    })?;
    Ok(spec)
}

#[derive(InputObject)]
pub struct CreateTariffInput {
    pub name: String,
    /// When the first version takes effect; now when omitted.
    pub effective_from: Option<DateTime<Utc>>,
    pub tariff: TariffInput,
    /// Accept a price above the cap (F40); the version is flagged.
    #[graphql(default)]
    pub override_price_cap: bool,
}

#[derive(InputObject)]
pub struct AddTariffVersionInput {
    pub tariff_id: ID,
    pub effective_from: DateTime<Utc>,
    pub tariff: TariffInput,
    #[graphql(default)]
    pub override_price_cap: bool,
}

/// Assigns a tariff: to a meter (override), a property, or, with neither, the tenant default.
#[derive(InputObject)]
pub struct AssignTariffInput {
    /// Null clears the assignment.
    pub tariff_id: Option<ID>,
    pub property_id: Option<ID>,
    pub meter_id: Option<ID>,
}

#[derive(InputObject)]
pub struct PriceRuleInput {
    /// Catalogue flat price (目录电价); null turns the guard off.
    pub catalogue_price: Option<Decimal>,
    #[graphql(default_with = "Decimal::from(15)")]
    pub margin_percent: Decimal,
}

#[derive(InputObject)]
pub struct ServiceFeeInput {
    /// A property's own fee; the tenant's when omitted.
    pub property_id: Option<ID>,
    #[graphql(default)]
    pub percent: Decimal,
    #[graphql(default)]
    pub fixed: Decimal,
    /// Remove the property's own fee (it falls back to the tenant's).
    #[graphql(default)]
    pub clear: bool,
}

#[derive(InputObject)]
pub struct BillingSettingsInput {
    pub jump_limit_kw: Decimal,
    #[graphql(default = 1)]
    pub settlement_day: i64,
    #[graphql(default)]
    pub settlement_hour: i64,
    /// The tenant's IANA time zone (e.g. Asia/Shanghai); unchanged when omitted. Tariff
    /// periods, freezes, bills and reports follow it from the change on.
    pub time_zone: Option<String>,
}

async fn check_cap(t: &store::TenantStore, spec: &TariffSpec, override_cap: bool) -> Res<()> {
    let rule = t.money_settings().await.map_err(err)?.price_rule;
    let tariff = DomainTariff::from_spec(spec).map_err(|e| err(Invalid::new("tariff", e.to_string())))?;
    if let Some(cap) = rule.and_then(|r| r.exceeded_by(&tariff))
        && !override_cap
    {
        return Err(err(Invalid::new(
            "overridePriceCap",
            format!(
                "the highest price {} is above the allowed {}; confirm with overridePriceCap",
                tariff.highest_price(),
                cap.round_dp(6).normalize()
            ),
        )));
    }
    Ok(())
}

#[derive(Default)]
pub struct TariffQuery;

#[Object]
impl TariffQuery {
    async fn tariffs(&self, ctx: &Context<'_>) -> Res<Vec<Tariff>> {
        Ok(tenant(ctx)?.tariffs().await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    async fn tariff(&self, ctx: &Context<'_>, id: ID) -> Res<Option<Tariff>> {
        let Some(id) = TariffId::parse(id.as_str()) else { return Ok(None) };
        Ok(tenant(ctx)?.tariff(&id).await.map_err(err)?.map(Into::into))
    }

    async fn money_settings(&self, ctx: &Context<'_>) -> Res<MoneySettings> {
        Ok(tenant(ctx)?.money_settings().await.map_err(err)?.into())
    }

    /// The price notice to post for customers (电价公示): HTML with every tariff in force.
    async fn price_notice(&self, ctx: &Context<'_>) -> Res<String> {
        let t = tenant(ctx)?;
        let settings = t.money_settings().await.map_err(err)?;
        let tariffs = t.tariffs().await.map_err(err)?;
        let name = t.tenant_row().await.map_err(err)?.name;
        Ok(price_notice_html(&name, &settings, &tariffs, Utc::now()))
    }
}

#[derive(Default)]
pub struct TariffMutation;

#[Object]
impl TariffMutation {
    async fn create_tariff(&self, ctx: &Context<'_>, input: CreateTariffInput) -> Res<Tariff> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(err(Invalid::new("name", "1 to 100 characters")));
        }
        let spec = validate_tariff(&input.tariff).map_err(err)?;
        let t = tenant(ctx)?;
        check_cap(t, &spec, input.override_price_cap).await?;
        t.create_tariff(name, input.effective_from.unwrap_or_else(Utc::now), &spec, input.override_price_cap)
            .await
            .map(Into::into)
            .map_err(err)
    }

    /// Adds a version taking effect at an instant (price change, or a correction of the past
    /// followed by re-rating).
    async fn add_tariff_version(&self, ctx: &Context<'_>, input: AddTariffVersionInput) -> Res<Tariff> {
        let id = parse_id(&input.tariff_id, TariffId::parse)?;
        let spec = validate_tariff(&input.tariff).map_err(err)?;
        let t = tenant(ctx)?;
        check_cap(t, &spec, input.override_price_cap).await?;
        match t.add_tariff_version(&id, input.effective_from, &spec, input.override_price_cap).await {
            Err(StoreError::Duplicate) => Err(err(Invalid::new("effectiveFrom", "a version already takes effect at this instant"))),
            other => other.map(Into::into).map_err(err),
        }
    }

    async fn assign_tariff(&self, ctx: &Context<'_>, input: AssignTariffInput) -> Res<bool> {
        let tariff = parse_ref("tariffId", &input.tariff_id, TariffId::parse)?;
        let property = parse_ref("propertyId", &input.property_id, PropertyId::parse)?;
        let meter = parse_ref("meterId", &input.meter_id, MeterId::parse)?;
        if property.is_some() && meter.is_some() {
            return Err(err(Invalid::new("meterId", "assign to a property or a meter, not both")));
        }
        let field = if meter.is_some() {
            "meterId"
        } else if property.is_some() {
            "propertyId"
        } else {
            "tariffId"
        };
        tenant(ctx)?.assign_tariff(tariff.as_ref(), property.as_ref(), meter.as_ref()).await.map_err(named(field))?;
        Ok(true)
    }

    /// The resale price rule (F40).
    async fn set_price_rule(&self, ctx: &Context<'_>, input: PriceRuleInput) -> Res<MoneySettings> {
        if let Some(c) = input.catalogue_price
            && (c <= Decimal::ZERO || c.normalize().scale() > 6)
        {
            return Err(err(Invalid::new("cataloguePrice", "a positive price with at most 6 decimal places")));
        }
        if input.margin_percent.is_sign_negative() || input.margin_percent > Decimal::from(1000) {
            return Err(err(Invalid::new("marginPercent", "between 0 and 1000")));
        }
        tenant(ctx)?.set_price_rule(input.catalogue_price, input.margin_percent).await.map(Into::into).map_err(err)
    }

    /// The service fee per recharge (F39), tenant-wide or for one property.
    async fn set_service_fee(&self, ctx: &Context<'_>, input: ServiceFeeInput) -> Res<MoneySettings> {
        let property = parse_ref("propertyId", &input.property_id, PropertyId::parse)?;
        let fee = if input.clear { None } else { Some(ServiceFee::new(input.percent, input.fixed).map_err(err)?) };
        if property.is_none() && fee.is_none() {
            return Err(err(Invalid::new("clear", "only a property's own fee can be cleared")));
        }
        let t = tenant(ctx)?;
        t.set_service_fee(property.as_ref(), fee).await.map_err(named("propertyId"))?;
        t.money_settings().await.map(Into::into).map_err(err)
    }

    async fn set_billing_settings(&self, ctx: &Context<'_>, input: BillingSettingsInput) -> Res<MoneySettings> {
        if input.jump_limit_kw <= Decimal::ZERO || input.jump_limit_kw > Decimal::from(1_000_000) {
            return Err(err(Invalid::new("jumpLimitKw", "between 0 and 1,000,000 kW")));
        }
        if !(1..=28).contains(&input.settlement_day) {
            return Err(err(Invalid::new("settlementDay", "between 1 and 28")));
        }
        if !(0..=23).contains(&input.settlement_hour) {
            return Err(err(Invalid::new("settlementHour", "between 0 and 23")));
        }
        let t = tenant(ctx)?;
        if let Some(tz) = input.time_zone.as_deref().map(str::trim) {
            t.set_time_zone(tz).await.map_err(err)?;
        }
        t.set_billing_settings(input.jump_limit_kw, input.settlement_day, input.settlement_hour).await.map(Into::into).map_err(err)
    }

    /// Retires a tariff made by mistake or no longer used: refused while the tenant, a
    /// property or a meter uses it.
    async fn retire_tariff(&self, ctx: &Context<'_>, id: ID) -> Res<Tariff> {
        let id = parse_id(&id, TariffId::parse)?;
        tenant(ctx)?.retire_tariff(&id).await.map(Into::into).map_err(err)
    }

    /// Sets the balance thresholds accounts opened without their own get; open accounts keep
    /// theirs (`setAccountTerms` changes one).
    async fn set_default_thresholds(&self, ctx: &Context<'_>, input: super::money::ThresholdsInput) -> Res<MoneySettings> {
        let t = super::money::thresholds(&input).map_err(err)?;
        tenant(ctx)?.set_default_thresholds(t).await.map(Into::into).map_err(err)
    }
}
