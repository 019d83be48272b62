//! Post-paid billing rules (F16, F17): billing periods from the tenant's settlement day,
//! maximum 15-minute demand from interval data, bill line rounding, and exact allocation of a
//! shared amount by weights (largest remainder, so the parts always sum to the whole).
//!
//! Must not: read storage or clocks.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::{Decimal, RoundingStrategy};

use super::Invalid;

/// A billing month `YYYY-MM` and its instants: from the settlement day and hour of that
/// month (local time) to the same point of the next month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub year: i32,
    pub month: u32,
}

impl Period {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::new("period", "a month as YYYY-MM");
        let (y, m) = text.split_once('-').ok_or_else(bad)?;
        let (year, month) = (y.parse::<i32>().map_err(|_| bad())?, m.parse::<u32>().map_err(|_| bad())?);
        if !(2000..=2200).contains(&year) || !(1..=12).contains(&month) || m.len() != 2 {
            return Err(bad());
        }
        Ok(Self { year, month })
    }

    pub fn key(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    pub fn next(self) -> Self {
        if self.month == 12 { Self { year: self.year + 1, month: 1 } } else { Self { year: self.year, month: self.month + 1 } }
    }

    pub fn previous(self) -> Self {
        if self.month == 1 { Self { year: self.year - 1, month: 12 } } else { Self { year: self.year, month: self.month - 1 } }
    }

    /// The instant the period starts: settlement `day` (1..=28) at `hour` local.
    pub fn start(self, tz: Tz, day: u32, hour: u32) -> DateTime<Utc> {
        local_instant(tz, NaiveDate::from_ymd_opt(self.year, self.month, day.clamp(1, 28)).unwrap_or_default(), hour)
    }

    pub fn end(self, tz: Tz, day: u32, hour: u32) -> DateTime<Utc> {
        self.next().start(tz, day, hour)
    }

    /// The period containing `t` in the tenant's calendar.
    pub fn containing(t: DateTime<Utc>, tz: Tz, day: u32, hour: u32) -> Self {
        let local = t.with_timezone(&tz).date_naive();
        let here = Self { year: local.year(), month: local.month() };
        if t < here.start(tz, day, hour) { here.previous() } else { here }
    }
}

/// Local midnight (or `hour`) of a date as an instant; the earliest if ambiguous, the first
/// valid one after a gap.
pub fn local_instant(tz: Tz, date: NaiveDate, hour: u32) -> DateTime<Utc> {
    let naive = date.and_hms_opt(hour.min(23), 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        chrono::LocalResult::None => tz
            .from_local_datetime(&(naive + chrono::Duration::hours(1)))
            .earliest()
            .map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc)),
    }
}

/// Maximum 15-minute demand from cumulative energy readings `(instant, kWh)` sorted by time
/// (reference billing.md: the energy of a quarter hour × 4). For each reading, the energy
/// since the latest reading at least 15 minutes before it, over that span in hours; a span
/// over 20 minutes says nothing about a quarter hour and does not count. Readings closer
/// together are never a demand on their own: a short pair magnifies the registers' 0.01 kWh
/// resolution (0.01 kWh in 2 s reads as 18 kW). `None` without such a span.
pub fn max_demand_from_intervals(points: &[(DateTime<Utc>, Decimal)]) -> Option<Decimal> {
    max_demand_at(points).map(|(_, _, kw)| kw)
}

/// [`max_demand_from_intervals`] with the span it was seen in: `(start, end, kW)`.
pub fn max_demand_at(points: &[(DateTime<Utc>, Decimal)]) -> Option<(DateTime<Utc>, DateTime<Utc>, Decimal)> {
    const WINDOW: i64 = 900;
    const LONGEST: i64 = 1200;
    let mut best: Option<(DateTime<Utc>, DateTime<Utc>, Decimal)> = None;
    let mut j = 0usize;
    for (i, (ti, ei)) in points.iter().enumerate() {
        // The latest earlier reading still at least a window before this one.
        while j + 1 < i && points.get(j + 1).is_some_and(|(t, _)| (*ti - *t).num_seconds() >= WINDOW) {
            j += 1;
        }
        let Some((tj, ej)) = points.get(j).filter(|_| j < i) else { continue };
        let secs = (*ti - *tj).num_seconds();
        if (WINDOW..=LONGEST).contains(&secs) && ei >= ej {
            let kw = (*ei - *ej) * Decimal::from(3600) / Decimal::from(secs);
            if best.is_none_or(|(_, _, b)| kw > b) {
                best = Some((*tj, *ti, kw));
            }
        }
    }
    best
}

/// A bill line's amount in fen: the exact product rounded half up once, at the line.
pub fn line_fen(exact: Decimal) -> i64 {
    let r = exact.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let mut r2 = r;
    r2.rescale(2);
    i64::try_from(r2.mantissa()).unwrap_or(i64::MAX)
}

/// Splits `total` fen by `weights` (non-negative, not all zero): each part is the floor of its
/// exact share, and the fen left over go one each to the largest remainders (ties to the
/// earlier weight). The parts sum to `total` exactly.
pub fn allocate(total: i64, weights: &[Decimal]) -> Result<Vec<i64>, Invalid> {
    if weights.iter().any(|w| w.is_sign_negative() && !w.is_zero()) {
        return Err(Invalid::new("weight", "must not be negative"));
    }
    let sum: Decimal = weights.iter().copied().sum();
    if sum.is_zero() {
        return Err(Invalid::new("weight", "at least one weight must be positive"));
    }
    let sign = if total < 0 { -1 } else { 1 };
    let whole = Decimal::from(total.abs());
    let mut parts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let exact = whole * *w / sum;
        let floor = exact.floor();
        parts.push(i64::try_from(floor.mantissa() / 10i128.pow(floor.scale())).unwrap_or(0));
        remainders.push((exact - floor, i));
    }
    let mut left = total.abs() - parts.iter().sum::<i64>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders {
        if left <= 0 {
            break;
        }
        if let Some(p) = parts.get_mut(i) {
            *p += 1;
            left -= 1;
        }
    }
    Ok(parts.into_iter().map(|p| p * sign).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn periods_start_on_the_settlement_day_in_local_time() {
        let tz = chrono_tz::Asia::Shanghai;
        let p = Period::parse("2026-11").unwrap();
        assert_eq!(p.start(tz, 1, 0), Utc.with_ymd_and_hms(2026, 10, 31, 16, 0, 0).unwrap());
        assert_eq!(p.end(tz, 1, 0), Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap());
        assert_eq!(Period::parse("2026-12").unwrap().end(tz, 25, 8), Utc.with_ymd_and_hms(2027, 1, 25, 0, 0, 0).unwrap());
        // Settlement day 25 at 08:00 local: 25 Nov 07:00 local is still October's period.
        assert_eq!(Period::containing(Utc.with_ymd_and_hms(2026, 11, 24, 23, 0, 0).unwrap(), tz, 25, 8).key(), "2026-10");
        assert_eq!(Period::containing(Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap(), tz, 25, 8).key(), "2026-11");
        assert_eq!(Period::parse("2026-01").unwrap().previous().key(), "2025-12");
        for bad in ["2026-13", "2026-1", "26-11", "2026/11", ""] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn demand_is_the_largest_quarter_hour_average() {
        let t = |m: i64| Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap() + chrono::Duration::minutes(m);
        // 2.5 kWh in 15 min = 10 kW; from 0 to 20 min 3.5 kWh = 10.5 kW; the 5-minute pair alone
        // (1 kWh, 12 kW) is no quarter hour, and a 30-minute gap does not count.
        let pts = [(t(0), d("0")), (t(15), d("2.5")), (t(20), d("3.5")), (t(50), d("20"))];
        assert_eq!(max_demand_from_intervals(&pts), Some(d("10.5")));
        assert_eq!(max_demand_from_intervals(&pts[2..]), None);
        assert_eq!(max_demand_from_intervals(&pts[1..3]), None, "5 minutes of readings have no 15-minute demand");
    }

    #[test]
    fn frequent_readings_of_coarse_registers_give_the_true_demand() {
        // A steady 20 kW read every 2 s for 40 minutes, registers truncated to 0.01 kWh: any
        // 2-second pair reads 0 or 18 kW; the quarter hours read 20 kW within the resolution.
        let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let pts: Vec<(DateTime<Utc>, Decimal)> = (0..1200)
            .map(|k| {
                let secs = k * 2;
                let kwh = (Decimal::from(20 * secs) / Decimal::from(3600)).trunc_with_scale(2);
                (t0 + chrono::Duration::seconds(secs), kwh)
            })
            .collect();
        let kw = max_demand_from_intervals(&pts).unwrap();
        assert!((kw - d("20")).abs() <= d("0.05"), "{kw}");
    }

    #[test]
    fn allocation_by_area_by_hand() {
        // 100.00 yuan over 30, 30, 40 m² divides exactly; over three equal shares the floors
        // (33.33 each) leave one fen, which goes to the first of the tied remainders.
        assert_eq!(allocate(10_000, &[d("30"), d("30"), d("40")]).unwrap(), vec![3000, 3000, 4000]);
        assert_eq!(allocate(10_000, &[d("1"), d("1"), d("1")]).unwrap(), vec![3334, 3333, 3333]);
        assert_eq!(allocate(10_001, &[d("2.5"), d("7.5")]).unwrap(), vec![2500, 7501]);
        assert_eq!(allocate(-10, &[d("1"), d("2")]).unwrap(), vec![-3, -7]);
        assert!(allocate(10, &[d("0"), d("0")]).is_err());
        assert!(allocate(10, &[d("-1"), d("2")]).is_err());
    }

    proptest! {
        #[test]
        fn allocation_parts_sum_to_the_whole_and_stay_within_a_fen(total in -10_000_000i64..10_000_000, weights in proptest::collection::vec(0i64..100_000, 1..40)) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let ws: Vec<Decimal> = weights.iter().map(|w| Decimal::new(*w, 2)).collect();
            let parts = allocate(total, &ws).unwrap();
            prop_assert_eq!(parts.iter().sum::<i64>(), total);
            let sum: Decimal = ws.iter().copied().sum();
            for (p, w) in parts.iter().zip(&ws) {
                let exact = Decimal::from(total) * *w / sum;
                prop_assert!((Decimal::from(*p) - exact).abs() < Decimal::ONE, "part {} exact {}", p, exact);
            }
        }
    }
}
