//! When a scheduled report runs and which period it covers (issue 19). A schedule sends, at
//! a local hour, the report of the period that just ended: DAILY yesterday, WEEKLY the week
//! Monday to Monday, MONTHLY the calendar month — all in the tenant's zone. Pure: the clock
//! is an argument.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::Invalid;
use super::billing::local_instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    Daily,
    Weekly,
    Monthly,
}

impl Cadence {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "DAILY" => Ok(Cadence::Daily),
            "WEEKLY" => Ok(Cadence::Weekly),
            "MONTHLY" => Ok(Cadence::Monthly),
            _ => Err(Invalid::new("cadence", "DAILY, WEEKLY or MONTHLY")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Daily => "DAILY",
            Cadence::Weekly => "WEEKLY",
            Cadence::Monthly => "MONTHLY",
        }
    }

    /// The first local date of the period containing `d`.
    fn period_start(self, d: NaiveDate) -> NaiveDate {
        match self {
            Cadence::Daily => d,
            Cadence::Weekly => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
            Cadence::Monthly => d.with_day(1).unwrap_or(d),
        }
    }

    /// The first local date of the period after the one starting on `start`.
    fn next_start(self, start: NaiveDate) -> NaiveDate {
        match self {
            Cadence::Daily => start + Duration::days(1),
            Cadence::Weekly => start + Duration::days(7),
            Cadence::Monthly => start.checked_add_months(chrono::Months::new(1)).unwrap_or(start),
        }
    }
}

/// A run: the period `[from, to)` it reports and when it is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub due: DateTime<Utc>,
}

/// The run due next at or after `after`: the first period end whose send time (its end
/// date at `hour` local) is at or after `after`.
pub fn next_run(cadence: Cadence, hour: u32, tz: Tz, after: DateTime<Utc>) -> Run {
    let today = after.with_timezone(&tz).date_naive();
    // The period that ends at the start of the current one is sent today at `hour`; if that
    // time has passed, the one after.
    let mut end = cadence.period_start(today);
    loop {
        let due = local_instant(tz, end, hour);
        if due >= after {
            let start = previous_start(cadence, end);
            return Run { from: local_instant(tz, start, 0), to: local_instant(tz, end, 0), due };
        }
        end = cadence.next_start(end);
    }
}

fn previous_start(cadence: Cadence, end: NaiveDate) -> NaiveDate {
    match cadence {
        Cadence::Daily => end - Duration::days(1),
        Cadence::Weekly => end - Duration::days(7),
        Cadence::Monthly => end.checked_sub_months(chrono::Months::new(1)).unwrap_or(end),
    }
}

/// An e-mail address as the mail relay will take it: local part, `@`, a domain with a dot
/// or `localhost`, no spaces or angle brackets.
pub fn valid_address(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else { return false };
    let ok = |p: &str| !p.is_empty() && p.len() <= 128 && !p.chars().any(|c| c.is_whitespace() || "<>()[],;:\\\"".contains(c));
    ok(local)
        && ok(domain)
        && s.len() <= 254
        && (domain.contains('.') || domain == "localhost")
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai.with_ymd_and_hms(y, m, d, h, min, 0).single().map(|t| t.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn daily_sends_yesterday_at_the_hour_and_tomorrow_once_it_passed() {
        let tz = chrono_tz::Asia::Shanghai;
        let r = next_run(Cadence::Daily, 8, tz, sh(2026, 12, 6, 7, 0));
        assert_eq!(r, Run { from: sh(2026, 12, 5, 0, 0), to: sh(2026, 12, 6, 0, 0), due: sh(2026, 12, 6, 8, 0) });
        let r = next_run(Cadence::Daily, 8, tz, sh(2026, 12, 6, 8, 1));
        assert_eq!(r, Run { from: sh(2026, 12, 6, 0, 0), to: sh(2026, 12, 7, 0, 0), due: sh(2026, 12, 7, 8, 0) });
    }

    #[test]
    fn weekly_runs_monday_to_monday_and_monthly_the_calendar_month() {
        let tz = chrono_tz::Asia::Shanghai;
        // 2026-12-06 is a Sunday: the week of Nov 30 is sent on Monday Dec 7.
        let r = next_run(Cadence::Weekly, 9, tz, sh(2026, 12, 6, 12, 0));
        assert_eq!(r, Run { from: sh(2026, 11, 30, 0, 0), to: sh(2026, 12, 7, 0, 0), due: sh(2026, 12, 7, 9, 0) });
        let r = next_run(Cadence::Monthly, 6, tz, sh(2026, 12, 6, 12, 0));
        assert_eq!(r, Run { from: sh(2026, 12, 1, 0, 0), to: sh(2027, 1, 1, 0, 0), due: sh(2027, 1, 1, 6, 0) });
        let r = next_run(Cadence::Monthly, 6, tz, sh(2026, 12, 1, 5, 0));
        assert_eq!(r, Run { from: sh(2026, 11, 1, 0, 0), to: sh(2026, 12, 1, 0, 0), due: sh(2026, 12, 1, 6, 0) });
    }

    #[test]
    fn addresses_are_checked() {
        assert!(valid_address("ops@park.example.cn") && valid_address("a.b+c@localhost"));
        for bad in ["ops@", "@x.cn", "a b@x.cn", "a@x", "a@.cn", "<a@x.cn>", "a@x.cn,b@y.cn"] {
            assert!(!valid_address(bad), "{bad}");
        }
    }

    #[test]
    fn cadences_parse_and_print() {
        for c in [Cadence::Daily, Cadence::Weekly, Cadence::Monthly] {
            assert_eq!(Cadence::parse(c.as_str()), Ok(c));
        }
        assert!(Cadence::parse("HOURLY").is_err());
    }
}
