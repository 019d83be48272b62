//! Tariffs and exact pricing (issue 3 groundwork; pure, not yet wired to the API or store).
//!
//! Owns: time-of-use day plans and calendars, tiered increments on cumulative energy,
//! validation with typed errors, splitting energy at tier boundaries and across TOU
//! periods, and fen-exact charging with the fractional remainder carried forward.
//! Must not: read clocks, touch money storage, or round anywhere but `settle`.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use rust_decimal::Decimal;

/// Rate of a TOU period (DL/T 645 tariff 1..4 = sharp, peak, flat, valley; deep valley extra).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Rate {
    Sharp,
    Peak,
    Flat,
    Valley,
    DeepValley,
}

/// Minutes since local midnight, 0..=1440.
pub type Minute = u16;

/// One period of a day: `[start, end)` in local minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: Minute,
    pub end: Minute,
    pub rate: Rate,
}

/// A validated day: periods in order, contiguous, covering 00:00–24:00, at most 14.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayPlan(Vec<Period>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TariffError {
    #[error("a day needs between 1 and {MAX_PERIODS} periods, got {0}")]
    PeriodCount(usize),
    #[error("periods must start at 00:00 and end at 24:00 (got {start:04} .. {end:04} minutes)")]
    NotCovering { start: Minute, end: Minute },
    #[error("period starting at minute {at} overlaps or leaves a gap after the previous one")]
    Overlap { at: Minute },
    #[error("period starting at minute {at} is empty or reversed")]
    EmptyPeriod { at: Minute },
    #[error("no price for rate {0:?}")]
    MissingPrice(Rate),
    #[error("prices must not be negative ({0})")]
    NegativePrice(Decimal),
    #[error("tier bounds must ascend and the last tier must be open (tier {0})")]
    TierBounds(usize),
    #[error("bad time of day {0:?} (use hh:mm, 24:00 for the end of the day)")]
    BadTime(String),
    #[error("bad date {0:?} (use MM-DD for seasons, YYYY-MM-DD for dates)")]
    BadDate(String),
    #[error("meter registers carry sharp, peak, flat and valley only; deep valley needs the platform calendar")]
    DeepValleyFromRegisters,
    #[error("prices may have at most 6 decimal places ({0})")]
    PricePlaces(Decimal),
}

pub const MAX_PERIODS: usize = 14;
const DAY: Minute = 1440;

impl DayPlan {
    pub fn new(mut periods: Vec<Period>) -> Result<Self, TariffError> {
        if periods.is_empty() || periods.len() > MAX_PERIODS {
            return Err(TariffError::PeriodCount(periods.len()));
        }
        periods.sort_by_key(|p| p.start);
        let (first, last) = (periods.first().map_or(0, |p| p.start), periods.last().map_or(0, |p| p.end));
        if first != 0 || last != DAY {
            return Err(TariffError::NotCovering { start: first, end: last });
        }
        let mut expected = 0;
        for p in &periods {
            if p.end <= p.start {
                return Err(TariffError::EmptyPeriod { at: p.start });
            }
            if p.start != expected {
                return Err(TariffError::Overlap { at: p.start });
            }
            expected = p.end;
        }
        Ok(Self(periods))
    }

    pub fn periods(&self) -> &[Period] {
        &self.0
    }

    pub fn rate_at(&self, minute: Minute) -> Rate {
        self.0.iter().find(|p| p.start <= minute && minute < p.end).or(self.0.last()).map_or(Rate::Flat, |p| p.rate)
    }
}

/// A month and day, `(month, day)`.
pub type MonthDay = (u32, u32);

/// A seasonal plan from `from` to `to` inclusive; it may wrap the year end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Season {
    pub from: MonthDay,
    pub to: MonthDay,
    pub plan: DayPlan,
}

/// Which day plan applies on a date: date-specific (holidays) first, then seasons, then default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub default: DayPlan,
    pub seasons: Vec<Season>,
    pub dates: Vec<(NaiveDate, DayPlan)>,
}

impl Calendar {
    pub fn plan_on(&self, date: NaiveDate) -> &DayPlan {
        if let Some((_, plan)) = self.dates.iter().find(|(d, _)| *d == date) {
            return plan;
        }
        let md = (date.month(), date.day());
        for Season { from, to, plan } in &self.seasons {
            let inside = if from <= to { *from <= md && md <= *to } else { md >= *from || md <= *to };
            if inside {
                return plan;
            }
        }
        &self.default
    }
}

/// Prices per rate (yuan/kWh), validated non-negative and complete for the plans used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatePrices(Vec<(Rate, Decimal)>);

impl RatePrices {
    pub fn new(prices: Vec<(Rate, Decimal)>, calendar: &Calendar) -> Result<Self, TariffError> {
        if let Some((_, p)) = prices.iter().find(|(_, p)| p.is_sign_negative() && !p.is_zero()) {
            return Err(TariffError::NegativePrice(*p));
        }
        let plans =
            std::iter::once(&calendar.default).chain(calendar.seasons.iter().map(|s| &s.plan)).chain(calendar.dates.iter().map(|d| &d.1));
        for plan in plans {
            for period in plan.periods() {
                if !prices.iter().any(|(r, _)| *r == period.rate) {
                    return Err(TariffError::MissingPrice(period.rate));
                }
            }
        }
        Ok(Self(prices))
    }

    pub fn price(&self, rate: Rate) -> Option<Decimal> {
        self.0.iter().find(|(r, _)| *r == rate).map(|(_, p)| *p)
    }
}

/// Tier increments on cumulative energy in a cycle: `(upper bound kWh or None for the
/// last tier, price increment yuan/kWh)`, bounds strictly ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tiers(Vec<(Option<Decimal>, Decimal)>);

impl Tiers {
    pub fn new(tiers: Vec<(Option<Decimal>, Decimal)>) -> Result<Self, TariffError> {
        let mut last = Decimal::ZERO;
        for (i, (bound, add)) in tiers.iter().enumerate() {
            if add.is_sign_negative() && !add.is_zero() {
                return Err(TariffError::NegativePrice(*add));
            }
            match bound {
                Some(b) if *b <= last => return Err(TariffError::TierBounds(i)),
                Some(b) => last = *b,
                None if i + 1 != tiers.len() => return Err(TariffError::TierBounds(i)),
                None => {}
            }
        }
        if tiers.last().is_none_or(|t| t.0.is_some()) {
            return Err(TariffError::TierBounds(tiers.len()));
        }
        Ok(Self(tiers))
    }

    /// Splits `energy` consumed after `cumulative` kWh of the cycle at the tier bounds:
    /// `(kWh, price increment)` pieces in order, summing exactly to `energy`.
    pub fn split(&self, cumulative: Decimal, energy: Decimal) -> Vec<(Decimal, Decimal)> {
        let mut out = Vec::new();
        let (mut at, mut left) = (cumulative, energy);
        for (bound, add) in &self.0 {
            if left.is_zero() {
                break;
            }
            let room = match bound {
                Some(b) if *b <= at => continue,
                Some(b) => (*b - at).min(left),
                None => left,
            };
            out.push((room, *add));
            at += room;
            left -= room;
        }
        out
    }
}

/// Splits the energy of a reading interval across TOU rates in proportion to the time spent
/// in each period (when the platform, not the meter, decides the period). Pieces are rounded
/// to 0.01 kWh and the rounding goes to the last piece, so they sum exactly to `energy`.
pub fn split_by_time(calendar: &Calendar, from: NaiveDateTime, to: NaiveDateTime, energy: Decimal) -> Vec<(Rate, Decimal)> {
    let total = (to - from).num_seconds();
    if total <= 0 {
        return vec![(calendar.plan_on(to.date()).rate_at(minute_of(to)), energy)];
    }
    let mut seconds: Vec<(Rate, i64)> = Vec::new();
    let mut t = from;
    while t < to {
        let plan = calendar.plan_on(t.date());
        let m = minute_of(t);
        let period =
            plan.periods().iter().find(|p| p.start <= m && m < p.end).copied().unwrap_or(Period { start: 0, end: DAY, rate: Rate::Flat });
        let end_of_period = t.date().and_hms_opt(0, 0, 0).map(|d| d + chrono::Duration::minutes(i64::from(period.end))).unwrap_or(to);
        let next = end_of_period.min(to);
        let secs = (next - t).num_seconds().max(1);
        match seconds.iter_mut().find(|(r, _)| *r == period.rate) {
            Some(slot) => slot.1 += secs,
            None => seconds.push((period.rate, secs)),
        }
        t = next.max(t + chrono::Duration::seconds(1));
    }
    let mut out = Vec::with_capacity(seconds.len());
    let mut assigned = Decimal::ZERO;
    let count = seconds.len();
    for (i, (rate, secs)) in seconds.into_iter().enumerate() {
        let piece = if i + 1 == count { energy - assigned } else { (energy * Decimal::from(secs) / Decimal::from(total)).round_dp(2) };
        assigned += piece;
        out.push((rate, piece));
    }
    out
}

fn minute_of(t: NaiveDateTime) -> Minute {
    (t.hour() * 60 + t.minute()) as Minute
}

/// Result of charging an exact cost to a ledger kept in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    /// Amount to post, 2 decimal places (yuan).
    pub charged: Decimal,
    /// Sub-fen remainder carried to the next settlement, in `[0, 0.01)`.
    pub carry: Decimal,
}

/// Charges `cost` (any precision) with the carried remainder: posts whole fen, carries the rest.
/// Over any sequence, the posted amounts plus the final carry equal the sum of the costs.
pub fn settle(carry: Decimal, cost: Decimal) -> Settled {
    let due = carry + cost;
    let charged = due.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToNegativeInfinity);
    Settled { charged, carry: due - charged }
}

/// Exact cost of energy at a price (kWh × yuan/kWh, no rounding).
pub fn cost(energy: Decimal, price: Decimal) -> Decimal {
    energy * price
}

/// Parses `hh:mm` into minutes (`24:00` allowed as the end of the day).
pub fn minute(text: &str) -> Option<Minute> {
    if text == "24:00" {
        return Some(DAY);
    }
    NaiveTime::parse_from_str(text, "%H:%M").ok().map(|t| (t.hour() * 60 + t.minute()) as Minute)
}

impl Rate {
    pub const ALL: [Rate; 5] = [Rate::Sharp, Rate::Peak, Rate::Flat, Rate::Valley, Rate::DeepValley];

    /// The DL/T 645 register index (tariff 1..4 → 0..3) of this rate, if the meter keeps one.
    pub fn register(self) -> Option<usize> {
        match self {
            Rate::Sharp => Some(0),
            Rate::Peak => Some(1),
            Rate::Flat => Some(2),
            Rate::Valley => Some(3),
            Rate::DeepValley => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Rate::Sharp => "SHARP",
            Rate::Peak => "PEAK",
            Rate::Flat => "FLAT",
            Rate::Valley => "VALLEY",
            Rate::DeepValley => "DEEP_VALLEY",
        }
    }
}

/// Who decides the TOU period of each kWh (reference billing.md: support both, say which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TouSource {
    /// The meter's per-rate registers (tariffs 1..4).
    MeterRegisters,
    /// The platform splits interval energy by its own calendar, in the tenant's time zone.
    PlatformCalendar,
}

/// The cycle tiered energy accumulates over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TierCycle {
    Monthly,
    Yearly,
}

impl TierCycle {
    /// The key naming the cycle a local date falls in (`2026-11` or `2026`).
    pub fn key(self, date: NaiveDate) -> String {
        match self {
            TierCycle::Monthly => format!("{:04}-{:02}", date.year(), date.month()),
            TierCycle::Yearly => format!("{:04}", date.year()),
        }
    }
}

/// A day as entered: `(start hh:mm, end hh:mm, rate)`.
pub type DaySpec = Vec<(String, String, Rate)>;
/// Tier steps as entered: `(upper bound kWh or None, increment yuan/kWh)`.
pub type TierSteps = Vec<(Option<Decimal>, Decimal)>;

/// A tariff as entered and stored (JSON): unvalidated until [`Tariff::from_spec`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TariffSpec {
    /// Price per rate, yuan/kWh. A flat tariff has one FLAT price and no periods.
    pub prices: Vec<(Rate, Decimal)>,
    /// The default day: `(start hh:mm, end hh:mm, rate)`; empty means FLAT all day.
    #[serde(default)]
    pub periods: Vec<(String, String, Rate)>,
    /// Seasonal days: `(from MM-DD, to MM-DD inclusive, periods)`.
    #[serde(default)]
    pub seasons: Vec<(String, String, DaySpec)>,
    /// Date-specific days (holidays): `(YYYY-MM-DD, periods)`.
    #[serde(default)]
    pub dates: Vec<(String, DaySpec)>,
    pub source: TouSource,
    /// Tier increments on cumulative energy: `(upper bound kWh or None, increment yuan/kWh)`.
    #[serde(default)]
    pub tiers: Option<(TierCycle, TierSteps)>,
    /// Capacity (basic) fee per kW of the month's maximum demand, for post-paid bills.
    #[serde(default)]
    pub capacity_price_per_kw: Option<Decimal>,
}

/// A validated tariff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tariff {
    pub calendar: Calendar,
    pub prices: RatePrices,
    pub source: TouSource,
    pub tiers: Option<(TierCycle, Tiers)>,
    pub capacity_price_per_kw: Option<Decimal>,
}

const MAX_PRICE_PLACES: u32 = 6;

fn day(periods: &[(String, String, Rate)]) -> Result<DayPlan, TariffError> {
    if periods.is_empty() {
        return DayPlan::new(vec![Period { start: 0, end: DAY, rate: Rate::Flat }]);
    }
    let parsed = periods
        .iter()
        .map(|(a, b, rate)| {
            let start = minute(a).ok_or_else(|| TariffError::BadTime(a.clone()))?;
            let end = minute(b).ok_or_else(|| TariffError::BadTime(b.clone()))?;
            Ok(Period { start, end, rate: *rate })
        })
        .collect::<Result<Vec<_>, TariffError>>()?;
    DayPlan::new(parsed)
}

fn month_day(text: &str) -> Result<MonthDay, TariffError> {
    NaiveDate::parse_from_str(&format!("2000-{text}"), "%Y-%m-%d")
        .map(|d| (d.month(), d.day()))
        .map_err(|_| TariffError::BadDate(text.to_string()))
}

fn check_price(p: Decimal) -> Result<(), TariffError> {
    if p.is_sign_negative() && !p.is_zero() {
        return Err(TariffError::NegativePrice(p));
    }
    if p.normalize().scale() > MAX_PRICE_PLACES {
        return Err(TariffError::PricePlaces(p));
    }
    Ok(())
}

impl Tariff {
    pub fn from_spec(spec: &TariffSpec) -> Result<Self, TariffError> {
        let default = day(&spec.periods)?;
        let seasons = spec
            .seasons
            .iter()
            .map(|(from, to, periods)| Ok(Season { from: month_day(from)?, to: month_day(to)?, plan: day(periods)? }))
            .collect::<Result<Vec<_>, TariffError>>()?;
        let dates = spec
            .dates
            .iter()
            .map(|(date, periods)| {
                let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| TariffError::BadDate(date.clone()))?;
                Ok((d, day(periods)?))
            })
            .collect::<Result<Vec<_>, TariffError>>()?;
        let calendar = Calendar { default, seasons, dates };
        for (_, p) in &spec.prices {
            check_price(*p)?;
        }
        let prices = RatePrices::new(spec.prices.clone(), &calendar)?;
        if spec.source == TouSource::MeterRegisters && calendar.rates_used().contains(&Rate::DeepValley) {
            return Err(TariffError::DeepValleyFromRegisters);
        }
        let tiers = match &spec.tiers {
            None => None,
            Some((cycle, steps)) => {
                for (_, add) in steps {
                    check_price(*add)?;
                }
                Some((*cycle, Tiers::new(steps.clone())?))
            }
        };
        if let Some(p) = spec.capacity_price_per_kw {
            check_price(p)?;
        }
        Ok(Self { calendar, prices, source: spec.source, tiers, capacity_price_per_kw: spec.capacity_price_per_kw })
    }

    /// The rate in force at a local instant and its base price (tier increments not included).
    pub fn price_at(&self, local: NaiveDateTime) -> (Rate, Decimal) {
        let minute = (local.hour() * 60 + local.minute()) as Minute;
        let rate = self.calendar.plan_on(local.date()).rate_at(minute);
        (rate, self.prices.price(rate).unwrap_or_default())
    }

    /// The highest price any kWh can cost: the dearest rate plus the largest tier increment.
    pub fn highest_price(&self) -> Decimal {
        let rate = self.prices.0.iter().map(|(_, p)| *p).max().unwrap_or_default();
        let tier = self.tiers.as_ref().map(|(_, t)| t.0.iter().map(|(_, add)| *add).max().unwrap_or_default()).unwrap_or_default();
        rate + tier
    }
}

impl Calendar {
    pub fn rates_used(&self) -> Vec<Rate> {
        let plans = std::iter::once(&self.default).chain(self.seasons.iter().map(|s| &s.plan)).chain(self.dates.iter().map(|d| &d.1));
        let mut rates: Vec<Rate> = plans.flat_map(|p| p.periods().iter().map(|x| x.rate)).collect();
        rates.sort();
        rates.dedup();
        rates
    }
}

/// The resale price rule (F40): a catalogue flat price and an allowed margin in percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceRule {
    pub catalogue: Decimal,
    pub margin_percent: Decimal,
}

impl PriceRule {
    pub fn cap(self) -> Decimal {
        self.catalogue * (Decimal::ONE_HUNDRED + self.margin_percent) / Decimal::ONE_HUNDRED
    }

    /// `Some(cap)` when the tariff's highest price exceeds the cap.
    pub fn exceeded_by(self, tariff: &Tariff) -> Option<Decimal> {
        (tariff.highest_price() > self.cap()).then(|| self.cap())
    }
}

/// A typical commercial TOU plan — valley at night, peak mornings and evenings, one sharp
/// hour — with optional monthly tiers (200 / 400 kWh, +0.05 / +0.30) and capacity price.
/// Used by benchmarks and by tests whose hand-computed figures rest on these prices.
pub fn commercial_tou(source: TouSource, tiers: bool, capacity_price_per_kw: Option<Decimal>) -> TariffSpec {
    let p = |a: &str, b: &str, r| (a.to_string(), b.to_string(), r);
    TariffSpec {
        prices: vec![
            (Rate::Sharp, Decimal::new(14521, 4)),
            (Rate::Peak, Decimal::new(12034, 4)),
            (Rate::Flat, Decimal::new(7215, 4)),
            (Rate::Valley, Decimal::new(3512, 4)),
        ],
        periods: vec![
            p("00:00", "08:00", Rate::Valley),
            p("08:00", "10:00", Rate::Peak),
            p("10:00", "11:00", Rate::Sharp),
            p("11:00", "18:00", Rate::Flat),
            p("18:00", "22:00", Rate::Peak),
            p("22:00", "24:00", Rate::Valley),
        ],
        seasons: vec![],
        dates: vec![],
        source,
        tiers: tiers.then(|| {
            (
                TierCycle::Monthly,
                vec![(Some(Decimal::from(200)), Decimal::ZERO), (Some(Decimal::from(400)), Decimal::new(5, 2)), (None, Decimal::new(3, 1))],
            )
        }),
        capacity_price_per_kw,
    }
}

/// A tariff's versions, each in force from its instant until the next one.
#[derive(Debug, Clone, Default)]
pub struct History(pub Vec<(chrono::DateTime<chrono::Utc>, Tariff)>);

impl History {
    /// The version in force at `t` (sorted on insertion).
    pub fn at(&self, t: chrono::DateTime<chrono::Utc>) -> Option<&Tariff> {
        self.0.iter().rev().find(|(from, _)| *from <= t).map(|(_, tariff)| tariff)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn p(start: &str, end: &str, rate: Rate) -> Period {
        Period { start: minute(start).unwrap(), end: minute(end).unwrap(), rate }
    }

    fn plan() -> DayPlan {
        DayPlan::new(vec![
            p("00:00", "08:00", Rate::Valley),
            p("08:00", "10:00", Rate::Peak),
            p("10:00", "11:00", Rate::Sharp),
            p("11:00", "18:00", Rate::Flat),
            p("18:00", "22:00", Rate::Peak),
            p("22:00", "24:00", Rate::Valley),
        ])
        .unwrap()
    }

    #[test]
    fn day_plans_must_cover_the_day_without_overlap() {
        assert_eq!(DayPlan::new(vec![p("00:00", "12:00", Rate::Flat)]), Err(TariffError::NotCovering { start: 0, end: 720 }));
        assert_eq!(
            DayPlan::new(vec![p("00:00", "13:00", Rate::Flat), p("12:00", "24:00", Rate::Peak)]),
            Err(TariffError::Overlap { at: 720 })
        );
        assert_eq!(
            DayPlan::new(vec![p("00:00", "10:00", Rate::Flat), p("11:00", "24:00", Rate::Peak)]),
            Err(TariffError::Overlap { at: 660 })
        );
        let fifteen: Vec<Period> =
            (0..15).map(|i| Period { start: i * 96, end: if i == 14 { DAY } else { (i + 1) * 96 }, rate: Rate::Flat }).collect();
        assert_eq!(DayPlan::new(fifteen), Err(TariffError::PeriodCount(15)));
        assert!(DayPlan::new(vec![p("00:00", "24:00", Rate::Flat)]).is_ok());
    }

    #[test]
    fn holidays_then_seasons_then_default() {
        let summer = DayPlan::new(vec![p("00:00", "24:00", Rate::Sharp)]).unwrap();
        let holiday = DayPlan::new(vec![p("00:00", "24:00", Rate::Valley)]).unwrap();
        let cal = Calendar {
            default: plan(),
            seasons: vec![Season { from: (7, 1), to: (8, 31), plan: summer.clone() }],
            dates: vec![(NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(), holiday.clone())],
        };
        assert_eq!(cal.plan_on(NaiveDate::from_ymd_opt(2026, 8, 1).unwrap()), &holiday);
        assert_eq!(cal.plan_on(NaiveDate::from_ymd_opt(2026, 7, 15).unwrap()), &summer);
        assert_eq!(cal.plan_on(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()), &plan());
        let winter =
            Calendar { default: plan(), seasons: vec![Season { from: (12, 1), to: (2, 28), plan: summer.clone() }], dates: vec![] };
        assert_eq!(winter.plan_on(NaiveDate::from_ymd_opt(2027, 1, 10).unwrap()), &summer, "seasons may wrap the year");
    }

    #[test]
    fn prices_must_cover_every_rate_used_and_not_be_negative() {
        let cal = Calendar { default: plan(), seasons: vec![], dates: vec![] };
        let missing = RatePrices::new(vec![(Rate::Peak, d("1.2")), (Rate::Flat, d("0.8")), (Rate::Valley, d("0.4"))], &cal);
        assert_eq!(missing, Err(TariffError::MissingPrice(Rate::Sharp)));
        let negative =
            RatePrices::new(vec![(Rate::Sharp, d("-1")), (Rate::Peak, d("1.2")), (Rate::Flat, d("0.8")), (Rate::Valley, d("0.4"))], &cal);
        assert_eq!(negative, Err(TariffError::NegativePrice(d("-1"))));
    }

    #[test]
    fn an_interval_crossing_a_tou_boundary_is_split_by_time() {
        // 07:30 -> 08:30 crosses valley -> peak: 10 kWh split 5 / 5.
        let cal = Calendar { default: plan(), seasons: vec![], dates: vec![] };
        let at = |h, m| NaiveDate::from_ymd_opt(2026, 11, 23).unwrap().and_hms_opt(h, m, 0).unwrap();
        assert_eq!(split_by_time(&cal, at(7, 30), at(8, 30), d("10.00")), vec![(Rate::Valley, d("5.00")), (Rate::Peak, d("5.00"))]);
        // Priced at valley 0.3512 and peak 1.2034: 5 × 0.3512 + 5 × 1.2034 = 7.7730 yuan.
        let total: Decimal = [(d("5.00"), d("0.3512")), (d("5.00"), d("1.2034"))].iter().map(|(e, pr)| cost(*e, *pr)).sum();
        assert_eq!(total, d("7.773"));
    }

    #[test]
    fn an_interval_crossing_a_tier_bound_is_split_at_the_bound() {
        let tiers = Tiers::new(vec![(Some(d("200")), d("0")), (Some(d("400")), d("0.05")), (None, d("0.30"))]).unwrap();
        assert_eq!(tiers.split(d("190"), d("25")), vec![(d("10"), d("0")), (d("15"), d("0.05"))]);
        assert_eq!(tiers.split(d("390"), d("20")), vec![(d("10"), d("0.05")), (d("10"), d("0.30"))]);
        assert_eq!(
            Tiers::new(vec![(Some(d("200")), d("0")), (Some(d("100")), d("0.1")), (None, d("0.2"))]),
            Err(TariffError::TierBounds(1))
        );
        assert_eq!(Tiers::new(vec![(Some(d("200")), d("0"))]), Err(TariffError::TierBounds(1)));
    }

    #[test]
    fn settle_posts_whole_fen_and_carries_the_rest() {
        let s = settle(Decimal::ZERO, d("0.123456"));
        assert_eq!((s.charged, s.carry), (d("0.12"), d("0.003456")));
        let s = settle(s.carry, d("0.006544"));
        assert_eq!((s.charged, s.carry), (d("0.01"), d("0")));
    }

    proptest! {
        #[test]
        fn many_small_settlements_sum_exactly_to_the_whole(costs in proptest::collection::vec((0i64..5_000_000, 0u32..7), 1..200)) {
            let costs: Vec<Decimal> = costs.into_iter().map(|(n, scale)| Decimal::new(n, scale)).collect();
            let mut carry = Decimal::ZERO;
            let mut posted = Decimal::ZERO;
            for c in &costs {
                let s = settle(carry, *c);
                prop_assert!(s.charged.scale() <= 2);
                prop_assert!(s.carry >= Decimal::ZERO && s.carry < Decimal::new(1, 2));
                posted += s.charged;
                carry = s.carry;
            }
            prop_assert_eq!(posted + carry, costs.iter().copied().sum::<Decimal>());
        }

        #[test]
        fn tier_pieces_sum_to_the_energy_and_respect_the_bounds(before in 0i64..100_000, energy in 0i64..100_000) {
            let tiers = Tiers::new(vec![(Some(Decimal::new(20_000, 2)), Decimal::ZERO), (Some(Decimal::new(40_000, 2)), Decimal::new(5, 2)), (None, Decimal::new(30, 2))]).unwrap();
            let (before, energy) = (Decimal::new(before, 2), Decimal::new(energy, 2));
            let pieces = tiers.split(before, energy);
            prop_assert_eq!(pieces.iter().map(|p| p.0).sum::<Decimal>(), energy);
            prop_assert!(pieces.iter().all(|p| p.0 > Decimal::ZERO));
            // Every piece but the last ends exactly on a tier bound.
            let mut at = before;
            for piece in pieces.iter().take(pieces.len().saturating_sub(1)) {
                at += piece.0;
                prop_assert!(at == Decimal::new(20_000, 2) || at == Decimal::new(40_000, 2), "piece ends at {}", at);
            }
        }

        #[test]
        fn time_split_pieces_sum_exactly(start in 0i64..(3 * 24 * 60), minutes in 1i64..(2 * 24 * 60), energy in 0i64..10_000_000) {
            let cal = Calendar { default: plan(), seasons: vec![], dates: vec![] };
            let t0 = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap().and_hms_opt(0, 0, 0).unwrap() + chrono::Duration::minutes(start);
            let energy = Decimal::new(energy, 2);
            let pieces = split_by_time(&cal, t0, t0 + chrono::Duration::minutes(minutes), energy);
            prop_assert_eq!(pieces.iter().map(|p| p.1).sum::<Decimal>(), energy);
        }
    }
}
