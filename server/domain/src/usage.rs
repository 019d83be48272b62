//! Energy used between readings, from a meter's register readings — what the energy report
//! (issue 19) sums; the 15-minute maximum demand is `billing::max_demand_at`, as bills count it. Registers are in
//! hundredths of a kWh on the meter's (secondary) side; the caller applies PT × CT.
//!
//! Usage is the increase of a register between two consecutive readings, attributed to the
//! later reading: the interval `(prev, at]` belongs to the period that contains `at`, so a
//! reading taken exactly at midnight closes the day before (as the meter-reading report
//! reads "the register at or before the end"). Summed over a period this equals the register
//! at its end minus the register at its start. A register that goes down (a replaced or reset
//! meter) counts 0 for that interval and the count goes on from the lower value.

use chrono::{DateTime, Utc};

/// A meter's registers read at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registers {
    pub at: DateTime<Utc>,
    /// Total forward active energy.
    pub total: i64,
    /// The time-of-use registers: sharp, peak, flat, valley (尖峰平谷); `None` where the
    /// reading did not carry one.
    pub tou: [Option<i64>; 4],
}

/// Energy used in an interval (or summed over several), hundredths of a kWh.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub total: i64,
    /// Sharp, peak, flat, valley. Where a reading lacks a TOU register, that part is not
    /// counted (so the four may sum to less than the total on a meter without TOU).
    pub tou: [i64; 4],
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        self.total += other.total;
        for (a, b) in self.tou.iter_mut().zip(other.tou) {
            *a += b;
        }
    }

    /// The same usage on the primary side.
    pub fn times(&self, ratio: i64) -> Usage {
        Usage { total: self.total.saturating_mul(ratio), tou: self.tou.map(|t| t.saturating_mul(ratio)) }
    }
}

/// One interval between consecutive readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub usage: Usage,
}

/// The intervals of a series of readings, oldest first (the series must be in time order;
/// readings out of order or at the same instant are skipped).
pub fn intervals(series: &[Registers]) -> Vec<Interval> {
    let mut out = Vec::with_capacity(series.len().saturating_sub(1));
    let mut prev: Option<&Registers> = None;
    for r in series {
        if let Some(p) = prev {
            if r.at <= p.at {
                continue;
            }
            let mut tou = [0; 4];
            for (i, t) in tou.iter_mut().enumerate() {
                if let (Some(a), Some(b)) = (p.tou[i], r.tou[i]) {
                    *t = (b - a).max(0);
                }
            }
            out.push(Interval { from: p.at, to: r.at, usage: Usage { total: (r.total - p.total).max(0), tou } });
        }
        prev = Some(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 3, h, m, 0).single().unwrap_or_default()
    }

    fn reg(h: u32, m: u32, total: i64, tou: [Option<i64>; 4]) -> Registers {
        Registers { at: at(h, m), total, tou }
    }

    #[test]
    fn intervals_are_the_increases_and_a_lower_register_counts_zero() {
        let s = [
            reg(0, 0, 1000, [Some(0), Some(400), Some(300), Some(300)]),
            reg(0, 15, 1100, [Some(0), Some(450), Some(350), Some(300)]),
            // A replaced meter: the register starts again lower.
            reg(0, 30, 50, [None, None, None, None]),
            reg(0, 45, 80, [None, None, None, None]),
        ];
        let i = intervals(&s);
        assert_eq!(i.len(), 3);
        assert_eq!(i[0].usage, Usage { total: 100, tou: [0, 50, 50, 0] });
        assert_eq!(i[1].usage, Usage::default());
        assert_eq!(i[2].usage, Usage { total: 30, tou: [0; 4] });
        assert_eq!((i[0].from, i[0].to), (at(0, 0), at(0, 15)));
    }

    #[test]
    fn readings_out_of_order_are_skipped() {
        let s = [reg(1, 0, 10, [None; 4]), reg(0, 30, 5, [None; 4]), reg(1, 15, 30, [None; 4])];
        let i = intervals(&s);
        assert_eq!(i.len(), 1);
        assert_eq!(i[0].usage.total, 20);
    }
}
