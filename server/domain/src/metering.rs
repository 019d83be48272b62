//! Meter values: exact scaled storage, PT/CT ratios, and online/lost judgement.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

/// Decimal places each stored quantity keeps (the meter's own resolution, reference §3).
pub mod scale {
    pub const ENERGY: u32 = 2;
    pub const VOLTAGE: u32 = 1;
    pub const CURRENT: u32 = 3;
    pub const POWER: u32 = 4;
    pub const POWER_FACTOR: u32 = 3;
    pub const FREQUENCY: u32 = 2;
    pub const MONEY: u32 = 2;
}

/// A decimal as an integer count of 10^-places units; `None` if it has more places.
pub fn to_scaled(value: Decimal, places: u32) -> Option<i64> {
    let mut v = value;
    v.rescale(places);
    if v != value {
        return None;
    }
    i64::try_from(v.mantissa()).ok()
}

pub fn from_scaled(n: i64, places: u32) -> Decimal {
    Decimal::new(n, places)
}

/// Instrument-transformer ratios; primary = secondary × ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratios {
    pub pt: i64,
    pub ct: i64,
}

impl Ratios {
    pub const ONE: Ratios = Ratios { pt: 1, ct: 1 };

    pub fn voltage(self, v: Decimal) -> Decimal {
        v * Decimal::from(self.pt)
    }

    pub fn current(self, a: Decimal) -> Decimal {
        a * Decimal::from(self.ct)
    }

    /// Power and energy scale with both ratios.
    pub fn power(self, p: Decimal) -> Decimal {
        p * Decimal::from(self.pt * self.ct)
    }
}

/// Connection state of a meter or gateway (F5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    NeverSeen,
    Online,
    Lost,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::NeverSeen => "NEVER_SEEN",
            LinkState::Online => "ONLINE",
            LinkState::Lost => "LOST",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "ONLINE" => LinkState::Online,
            "LOST" => LinkState::Lost,
            _ => LinkState::NeverSeen,
        }
    }

    /// Lost once nothing was heard for `intervals` reading intervals.
    pub fn judge(last_seen: Option<DateTime<Utc>>, now: DateTime<Utc>, interval_s: i64, intervals: i64) -> Self {
        match last_seen {
            None => LinkState::NeverSeen,
            Some(t) if now - t > Duration::seconds(interval_s.max(1) * intervals.max(1)) => LinkState::Lost,
            Some(_) => LinkState::Online,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::str::FromStr;

    #[test]
    fn scaled_values_round_trip_and_refuse_extra_places() {
        let d = Decimal::from_str("1206.42").unwrap();
        assert_eq!(to_scaled(d, 2), Some(120_642));
        assert_eq!(from_scaled(120_642, 2), d);
        assert_eq!(to_scaled(Decimal::from_str("1.005").unwrap(), 2), None);
        assert_eq!(to_scaled(Decimal::from_str("-1.5").unwrap(), 3), Some(-1500));
    }

    #[test]
    fn ratios_apply_to_primary_side() {
        let r = Ratios { pt: 100, ct: 40 };
        assert_eq!(r.voltage(Decimal::from_str("100.1").unwrap()), Decimal::from_str("10010.0").unwrap());
        assert_eq!(r.power(Decimal::from_str("0.0125").unwrap()), Decimal::from_str("50.0000").unwrap());
    }

    #[test]
    fn lost_after_the_configured_multiple_of_the_interval() {
        let now = Utc::now();
        assert_eq!(LinkState::judge(None, now, 60, 3), LinkState::NeverSeen);
        assert_eq!(LinkState::judge(Some(now - Duration::seconds(180)), now, 60, 3), LinkState::Online);
        assert_eq!(LinkState::judge(Some(now - Duration::seconds(181)), now, 60, 3), LinkState::Lost);
    }
}
