//! Platform-side prepaid settlement (F12, F35): pricing the energy between two readings of a
//! meter under a tariff, and judging readings that cannot be billed as they stand.
//!
//! Owns: register deltas, TOU energy per rate (from the meter's registers or split by the
//! platform's calendar), tier splits on the account's cycle, exact cost, anomaly rules.
//! Must not: round money (that is `tariff::settle`), read clocks or storage.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::tariff::{Rate, Tariff, TouSource, split_by_time};

/// Energy registers of a reading, secondary side, kWh with 2 places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Registers {
    pub total: Decimal,
    /// Tariff 1..4 (sharp, peak, flat, valley) when the meter reported them.
    pub rates: [Option<Decimal>; 4],
}

/// A reading as settlement sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    pub at: DateTime<Utc>,
    pub registers: Registers,
}

/// What settlement must know about the meter.
#[derive(Debug, Clone, Copy)]
pub struct MeterTerms {
    /// PT × CT: primary energy = secondary × ratio.
    pub ratio: i64,
    /// Highest plausible average power on the secondary side; faster growth is a jump.
    pub jump_limit_kw: Decimal,
    pub tz: Tz,
}

/// Why a reading is not billed as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anomaly {
    /// A register went backwards: reset, rollover or a swapped meter.
    Backwards { register: &'static str, from: Decimal, to: Decimal },
    /// More energy than the meter can pass in the time.
    Jump { energy: Decimal, hours: Decimal, limit_kw: Decimal },
}

impl Anomaly {
    pub fn kind(&self) -> &'static str {
        match self {
            Anomaly::Backwards { .. } => "REGISTER_BACKWARDS",
            Anomaly::Jump { .. } => "IMPOSSIBLE_JUMP",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Anomaly::Backwards { register, from, to } => format!("{register} register went backwards from {from} to {to} kWh"),
            Anomaly::Jump { energy, hours, limit_kw } => {
                format!("{energy} kWh in {hours} h is above the {limit_kw} kW a meter can pass")
            }
        }
    }
}

/// The tier cycle an account is in: its key and the energy already used in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CycleUse {
    pub key: String,
    pub used: Decimal,
}

/// The priced energy of one interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priced {
    /// Primary-side kWh per rate, summing to `energy`.
    pub by_rate: Vec<(Rate, Decimal)>,
    /// Tier pieces `(kWh, increment)`, summing to `energy` when the tariff is tiered.
    pub by_tier: Vec<(Decimal, Decimal)>,
    pub energy: Decimal,
    /// Exact cost, yuan, unrounded.
    pub cost: Decimal,
    pub source: TouSource,
    /// The account's cycle after this interval.
    pub cycle: CycleUse,
}

const NAMES: [&str; 4] = ["sharp", "peak", "flat", "valley"];

/// Prices the energy between `prev` and `cur` (`cur` later). Rules, in order:
/// any register lower than before is [`Anomaly::Backwards`]; total growth faster than
/// `jump_limit_kw` (over at least a quarter hour) is [`Anomaly::Jump`]; otherwise the energy
/// is split per rate — by the meter's registers when the tariff says so and both readings
/// carry all four, else by the calendar in the tenant's time zone — and tiered on the cycle.
pub fn price(tariff: &Tariff, terms: &MeterTerms, prev: &Point, cur: &Point, cycle: &CycleUse) -> Result<Priced, Anomaly> {
    let (p, c) = (&prev.registers, &cur.registers);
    if c.total < p.total {
        return Err(Anomaly::Backwards { register: "total", from: p.total, to: c.total });
    }
    for (i, name) in NAMES.iter().enumerate() {
        if let (Some(Some(a)), Some(Some(b))) = (p.rates.get(i), c.rates.get(i))
            && b < a
        {
            return Err(Anomaly::Backwards { register: name, from: *a, to: *b });
        }
    }
    let secondary = c.total - p.total;
    let seconds = (cur.at - prev.at).num_seconds().max(900);
    let hours = Decimal::from(seconds) / Decimal::from(3600);
    if secondary > terms.jump_limit_kw * hours {
        return Err(Anomaly::Jump { energy: secondary, hours: hours.round_dp(2), limit_kw: terms.jump_limit_kw });
    }
    let ratio = Decimal::from(terms.ratio);
    let all_rates = p.rates.iter().chain(c.rates.iter()).all(Option::is_some);
    let (by_rate, source) = if tariff.source == TouSource::MeterRegisters && all_rates {
        let mut pieces = Vec::new();
        for rate in [Rate::Sharp, Rate::Peak, Rate::Flat, Rate::Valley] {
            let i = rate.register().unwrap_or(0);
            let delta = c.rates.get(i).copied().flatten().unwrap_or_default() - p.rates.get(i).copied().flatten().unwrap_or_default();
            if !delta.is_zero() {
                pieces.push((rate, delta * ratio));
            }
        }
        (pieces, TouSource::MeterRegisters)
    } else {
        let from = prev.at.with_timezone(&terms.tz).naive_local();
        let to = cur.at.with_timezone(&terms.tz).naive_local();
        let pieces = split_by_time(&tariff.calendar, from, to, secondary * ratio).into_iter().filter(|(_, e)| !e.is_zero()).collect();
        (pieces, TouSource::PlatformCalendar)
    };
    let energy: Decimal = by_rate.iter().map(|(_, e)| *e).sum();
    let mut cost = Decimal::ZERO;
    for (rate, e) in &by_rate {
        cost += *e * tariff.prices.price(*rate).unwrap_or_default();
    }
    let (by_tier, cycle) = match &tariff.tiers {
        None => (Vec::new(), cycle.clone()),
        Some((kind, tiers)) => {
            let key = kind.key(cur.at.with_timezone(&terms.tz).date_naive());
            let used = if key == cycle.key { cycle.used } else { Decimal::ZERO };
            let pieces = tiers.split(used, energy);
            (pieces, CycleUse { key, used: used + energy })
        }
    };
    for (e, add) in &by_tier {
        cost += *e * *add;
    }
    Ok(Priced { by_rate, by_tier, energy, cost, source, cycle })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::tariff::{TariffSpec, TierCycle, commercial_tou, settle};
    use chrono::TimeZone;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn tou(source: TouSource, tiers: bool) -> Tariff {
        Tariff::from_spec(&commercial_tou(source, tiers, None)).unwrap()
    }

    fn terms() -> MeterTerms {
        MeterTerms { ratio: 1, jump_limit_kw: d("100"), tz: chrono_tz::Asia::Shanghai }
    }

    /// Local Shanghai time on 2026-11-23.
    fn at(h: u32, m: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai.with_ymd_and_hms(2026, 11, 23, h, m, 0).unwrap().with_timezone(&Utc)
    }

    fn point(t: DateTime<Utc>, total: &str) -> Point {
        Point { at: t, registers: Registers { total: d(total), rates: [None; 4] } }
    }

    #[test]
    fn an_interval_across_valley_to_peak_is_priced_per_period_by_hand() {
        // 07:30 -> 08:30, 10 kWh: 5 valley × 0.3512 + 5 peak × 1.2034 = 1.756 + 6.017 = 7.773.
        let got = price(
            &tou(TouSource::PlatformCalendar, false),
            &terms(),
            &point(at(7, 30), "100.00"),
            &point(at(8, 30), "110.00"),
            &CycleUse::default(),
        )
        .unwrap();
        assert_eq!(got.by_rate, vec![(Rate::Valley, d("5.00")), (Rate::Peak, d("5.00"))]);
        assert_eq!(got.cost, d("7.773"));
        assert_eq!(settle(Decimal::ZERO, got.cost).charged, d("7.77"));
    }

    #[test]
    fn an_interval_across_a_tier_bound_is_split_at_the_bound_by_hand() {
        // 190 kWh used this month; 12:00 -> 13:00 flat, 25 kWh: 10 at tier 1 (+0), 15 at tier 2 (+0.05).
        // 25 × 0.7215 + 15 × 0.05 = 18.0375 + 0.75 = 18.7875.
        let cycle = CycleUse { key: "2026-11".into(), used: d("190") };
        let got =
            price(&tou(TouSource::PlatformCalendar, true), &terms(), &point(at(12, 0), "1000.00"), &point(at(13, 0), "1025.00"), &cycle)
                .unwrap();
        assert_eq!(got.by_tier, vec![(d("10"), d("0")), (d("15.00"), d("0.05"))]);
        assert_eq!(got.cost, d("18.7875"));
        assert_eq!(got.cycle, CycleUse { key: "2026-11".into(), used: d("215.00") });
        // A new month starts a new cycle.
        let old = CycleUse { key: "2026-10".into(), used: d("390") };
        let fresh =
            price(&tou(TouSource::PlatformCalendar, true), &terms(), &point(at(12, 0), "1000.00"), &point(at(13, 0), "1025.00"), &old)
                .unwrap();
        assert_eq!(fresh.by_tier, vec![(d("25.00"), d("0"))]);
    }

    #[test]
    fn meter_registers_decide_the_rate_when_the_tariff_says_so() {
        let prev = Point {
            at: at(7, 0),
            registers: Registers { total: d("10.00"), rates: [Some(d("1")), Some(d("2")), Some(d("3")), Some(d("4"))] },
        };
        let cur = Point {
            at: at(9, 0),
            registers: Registers { total: d("13.00"), rates: [Some(d("1")), Some(d("3.5")), Some(d("3")), Some(d("5.5"))] },
        };
        let got =
            price(&tou(TouSource::MeterRegisters, false), &MeterTerms { ratio: 40, ..terms() }, &prev, &cur, &CycleUse::default()).unwrap();
        assert_eq!(got.source, TouSource::MeterRegisters);
        assert_eq!(got.by_rate, vec![(Rate::Peak, d("60.0")), (Rate::Valley, d("60.0"))]);
        assert_eq!(got.cost, d("60") * d("1.2034") + d("60") * d("0.3512"));
        // Without per-rate registers the calendar decides, and says so.
        let got =
            price(&tou(TouSource::MeterRegisters, false), &terms(), &point(at(7, 0), "10"), &point(at(9, 0), "13"), &CycleUse::default())
                .unwrap();
        assert_eq!(got.source, TouSource::PlatformCalendar);
    }

    #[test]
    fn backwards_registers_and_impossible_jumps_are_anomalies() {
        let t = tou(TouSource::PlatformCalendar, false);
        let back = price(&t, &terms(), &point(at(7, 0), "500.00"), &point(at(8, 0), "3.00"), &CycleUse::default());
        assert_eq!(back.unwrap_err().kind(), "REGISTER_BACKWARDS");
        // 100 kW limit: 26 kWh in a quarter hour is too much, 25 is not.
        assert!(price(&t, &terms(), &point(at(7, 0), "0"), &point(at(7, 15), "25"), &CycleUse::default()).is_ok());
        let jump = price(&t, &terms(), &point(at(7, 0), "0"), &point(at(7, 15), "26"), &CycleUse::default());
        assert_eq!(jump.unwrap_err().kind(), "IMPOSSIBLE_JUMP");
        // A five-second gap is judged as a quarter hour, so a burst of readings is not a jump.
        assert!(
            price(&t, &terms(), &point(at(7, 0), "0"), &point(at(7, 0) + chrono::Duration::seconds(5), "1"), &CycleUse::default()).is_ok()
        );
    }

    /// A random tariff: 1–14 periods with random rates, random prices for all five rates,
    /// optionally 2–4 tiers with random bounds and increments.
    fn arb_tariff() -> impl Strategy<Value = Tariff> {
        (
            proptest::collection::btree_set(1u16..1440, 0..14),
            proptest::collection::vec(0usize..5, 14),
            proptest::collection::vec(0i64..30_000, 5),
            any::<bool>(),
            proptest::collection::btree_set(1i64..100_000, 1..4),
            proptest::collection::vec(0i64..5_000, 4),
        )
            .prop_map(|(cuts, rates, prices, tiered, bounds, adds)| {
                let hm = |m: u16| if m == 1440 { "24:00".to_string() } else { format!("{:02}:{:02}", m / 60, m % 60) };
                let edges: Vec<u16> = std::iter::once(0).chain(cuts.iter().copied()).chain(std::iter::once(1440)).collect();
                let periods = edges.windows(2).zip(&rates).map(|(w, r)| (hm(w[0]), hm(w[1]), Rate::ALL[*r])).collect();
                let steps: Vec<(Option<Decimal>, Decimal)> = bounds
                    .iter()
                    .map(|b| Some(Decimal::new(*b, 2)))
                    .chain(std::iter::once(None))
                    .zip(&adds)
                    .map(|(b, a)| (b, Decimal::new(*a, 4)))
                    .collect();
                Tariff::from_spec(&TariffSpec {
                    prices: Rate::ALL.iter().zip(&prices).map(|(r, p)| (*r, Decimal::new(*p, 4))).collect(),
                    periods,
                    seasons: vec![],
                    dates: vec![],
                    source: TouSource::PlatformCalendar,
                    tiers: tiered.then_some((TierCycle::Monthly, steps)),
                    capacity_price_per_kw: None,
                })
                .unwrap()
            })
    }

    proptest! {
        /// For random reading sequences under random TOU/tier tariffs, charging every interval
        /// (with the carry) equals the tariff applied to the total energy of each rate and
        /// tier, to the fen.
        #[test]
        fn interval_charges_sum_to_the_tariff_on_the_totals(
            steps in proptest::collection::vec((1i64..300, 0i64..2_000), 1..60),
            start in 0i64..1440,
            used in 0i64..50_000,
            tariff in arb_tariff(),
        ) {
            let t0 = chrono_tz::Asia::Shanghai.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap().with_timezone(&Utc) + chrono::Duration::minutes(start);
            let mut prev = point(t0, "0");
            let mut cycle = CycleUse { key: "2026-11".into(), used: Decimal::new(used, 2) };
            let (mut carry, mut posted) = (Decimal::ZERO, Decimal::ZERO);
            let mut per_rate = std::collections::BTreeMap::<Rate, Decimal>::new();
            let mut per_tier = std::collections::BTreeMap::<String, Decimal>::new();
            for (minutes, hundredths) in steps {
                let cur = Point { at: prev.at + chrono::Duration::minutes(minutes), registers: Registers { total: prev.registers.total + Decimal::new(hundredths, 2), rates: [None; 4] } };
                let Ok(p) = price(&tariff, &terms(), &prev, &cur, &cycle) else { prev = cur; continue };
                for (r, e) in &p.by_rate { *per_rate.entry(*r).or_default() += *e; }
                for (e, add) in &p.by_tier { *per_tier.entry(add.to_string()).or_default() += *e; }
                let s = settle(carry, p.cost);
                posted += s.charged;
                carry = s.carry;
                cycle = p.cycle;
                prev = cur;
            }
            let whole: Decimal = per_rate.iter().map(|(r, e)| *e * tariff.prices.price(*r).unwrap()).sum::<Decimal>()
                + per_tier.iter().map(|(add, e)| *e * Decimal::from_str(add).unwrap()).sum::<Decimal>();
            prop_assert_eq!(posted + carry, whole);
            // Independently: every kWh the registers grew by is priced once, and the tiers
            // split the whole month's energy exactly as one interval would.
            let grown = prev.registers.total;
            prop_assert_eq!(per_rate.values().copied().sum::<Decimal>(), grown);
            if let Some((_, tiers)) = &tariff.tiers {
                let mut whole_tiers = std::collections::BTreeMap::<String, Decimal>::new();
                for (e, add) in tiers.split(Decimal::new(used, 2), grown) { *whole_tiers.entry(add.to_string()).or_default() += e; }
                per_tier.retain(|_, e| !e.is_zero());
                prop_assert_eq!(per_tier, whole_tiers);
            }
            prop_assert!(carry < Decimal::new(1, 2));
        }
    }
}
