//! Control rules without I/O: friendly hours (F37) — windows in the tenant's local time in
//! which automatic trips wait — and the polling budget that spreads reads over the interval.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use super::Invalid;

/// One window: on the given weekdays (bit 0 Monday … bit 6 Sunday) or on one date (a
/// holiday), from `start_minute` to `end_minute` of the local day. A window whose end is not
/// after its start runs past midnight into the next day (22:00–07:00).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FriendlyWindow {
    pub name: String,
    pub weekdays: u8,
    pub on_date: Option<NaiveDate>,
    pub start_minute: u16,
    pub end_minute: u16,
}

pub const ALL_WEEK: u8 = 0x7F;

impl FriendlyWindow {
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.name.trim().is_empty() {
            return Err(Invalid::new("name", "required"));
        }
        if self.weekdays & !ALL_WEEK != 0 {
            return Err(Invalid::new("weekdays", "bits 0 (Monday) to 6 (Sunday) only"));
        }
        if (self.weekdays == 0) == self.on_date.is_none() {
            return Err(Invalid::new("weekdays", "give weekdays or a date, not both or neither"));
        }
        if self.start_minute >= 1440 || self.end_minute == 0 || self.end_minute > 1440 {
            return Err(Invalid::new("start", "times run from 00:00 to 24:00"));
        }
        if self.start_minute == self.end_minute {
            return Err(Invalid::new("end", "a window cannot be empty (use 00:00–24:00 for a whole day)"));
        }
        Ok(())
    }

    fn starts_on(&self, day: NaiveDate) -> bool {
        match self.on_date {
            Some(d) => d == day,
            None => self.weekdays & (1 << day.weekday().num_days_from_monday()) != 0,
        }
    }

    /// Whether `local` (the tenant's wall clock) falls inside the window.
    pub fn contains(&self, local: NaiveDateTime) -> bool {
        let minute = (local.hour() * 60 + local.minute()) as u16;
        let day = local.date();
        if self.start_minute < self.end_minute {
            return self.starts_on(day) && minute >= self.start_minute && minute < self.end_minute;
        }
        let started_today = self.starts_on(day) && minute >= self.start_minute;
        let started_yesterday = day.pred_opt().is_some_and(|y| self.starts_on(y)) && minute < self.end_minute;
        started_today || started_yesterday
    }
}

/// Every command kind the platform sends. Anything else is refused where it is made and, if
/// it ever reaches the dispatcher, fails there: never a relay action.
pub const COMMAND_KINDS: [&str; 8] = ["TRIP", "CLOSE", "HOLD_ON", "HOLD_OFF", "READ", "TIME_SYNC", "WRITE", "PURCHASE"];

/// What a command asks of a meter, parsed once where a stored command is read: an unknown
/// kind is an error there, so the dispatcher's matches are exhaustive and nothing unknown
/// can fall through to a relay action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandKind {
    /// Open the relay (拉闸).
    Trip,
    /// Close the relay (合闸).
    Close,
    /// Hold power on (保电).
    HoldOn,
    /// Release hold power (解除保电).
    HoldOff,
    /// Read the clock and the values a push carries (抄表).
    Read,
    /// Set the meter's clock (校时).
    TimeSync,
    /// A sealed parameter write.
    Write,
    /// Load money into a meter-side wallet (表端购电).
    Purchase,
}

impl std::fmt::Display for CommandKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl CommandKind {
    pub const ALL: [CommandKind; 8] = [
        CommandKind::Trip,
        CommandKind::Close,
        CommandKind::HoldOn,
        CommandKind::HoldOff,
        CommandKind::Read,
        CommandKind::TimeSync,
        CommandKind::Write,
        CommandKind::Purchase,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommandKind::Trip => "TRIP",
            CommandKind::Close => "CLOSE",
            CommandKind::HoldOn => "HOLD_ON",
            CommandKind::HoldOff => "HOLD_OFF",
            CommandKind::Read => "READ",
            CommandKind::TimeSync => "TIME_SYNC",
            CommandKind::Write => "WRITE",
            CommandKind::Purchase => "PURCHASE",
        }
    }

    /// `None` for anything but the stored spelling of a known kind.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Relay commands (remote control 0x1C) go out before reads and writes.
    pub fn is_relay(self) -> bool {
        matches!(self, CommandKind::Trip | CommandKind::Close | CommandKind::HoldOn | CommandKind::HoldOff)
    }
}

/// The friendly hours a new tenant starts with (editable): no automatic trips from 20:00 to
/// 08:00, nor on Saturdays and Sundays — a cut-off nobody can answer is the complaint the
/// field reports name first.
pub fn default_friendly_windows() -> Vec<FriendlyWindow> {
    vec![
        FriendlyWindow { name: "夜间 Night".into(), weekdays: ALL_WEEK, on_date: None, start_minute: 20 * 60, end_minute: 8 * 60 },
        FriendlyWindow { name: "周末 Weekend".into(), weekdays: 0b110_0000, on_date: None, start_minute: 0, end_minute: 1440 },
    ]
}

/// Whether automatic trips are held back at `local`.
pub fn in_friendly_hours(windows: &[FriendlyWindow], local: NaiveDateTime) -> bool {
    windows.iter().any(|w| w.contains(local))
}

/// When friendly hours that hold at `local` end: the first minute outside every window
/// (looking up to eight days ahead); None when `local` is outside them.
pub fn friendly_until(windows: &[FriendlyWindow], local: NaiveDateTime) -> Option<NaiveDateTime> {
    if !in_friendly_hours(windows, local) {
        return None;
    }
    let start = local.with_second(0).unwrap_or(local);
    (1..=8 * 1440)
        .map(|m| start + chrono::Duration::minutes(m))
        .find(|t| !in_friendly_hours(windows, *t))
        .or(Some(start + chrono::Duration::days(8)))
}

/// How many meters to poll in one sweep so that `meters` are each read once per `interval_s`
/// when sweeps run every `sweep_s`: the reads spread evenly instead of firing at once.
pub fn poll_budget(meters: u64, interval_s: u64, sweep_s: u64) -> u64 {
    if meters == 0 {
        return 0;
    }
    (meters * sweep_s).div_ceil(interval_s.max(1)).max(1)
}

/// How long a message must wait at `local` for quiet hours `start`–`end` (local minutes; a
/// window whose end is not after its start runs past midnight) to end; None outside them.
pub fn quiet_wait(start: u16, end: u16, local: NaiveDateTime) -> Option<chrono::Duration> {
    let m = (local.hour() * 60 + local.minute()) as i64;
    let (s, e) = (i64::from(start), i64::from(end));
    let minutes = if s < e {
        (m >= s && m < e).then_some(e - m)
    } else if m >= s {
        Some(1440 - m + e)
    } else {
        (m < e).then_some(e - m)
    }?;
    Some(chrono::Duration::seconds(minutes * 60 - i64::from(local.second())))
}

/// The meter's day time-slot table for a tariff's default day: `(hour, minute, tariff no.)`
/// per period start, numbered as the meter's registers (1 sharp, 2 peak, 3 flat, 4 valley,
/// 5 deep valley). A tariff without periods is flat all day.
pub fn day_slots(spec: &super::tariff::TariffSpec) -> Result<Vec<(u32, u32, u8)>, Invalid> {
    use super::tariff::Rate;
    if spec.periods.is_empty() {
        return Ok(vec![(0, 0, 3)]);
    }
    if spec.periods.len() > 14 {
        return Err(Invalid::new("tariffId", "a meter holds at most 14 periods a day"));
    }
    spec.periods
        .iter()
        .map(|(start, _, rate)| {
            let (h, m) = start.split_once(':').ok_or_else(|| Invalid::new("tariffId", format!("bad period start {start}")))?;
            let (h, m): (u32, u32) = (
                h.parse().map_err(|_| Invalid::new("tariffId", "bad hour"))?,
                m.parse().map_err(|_| Invalid::new("tariffId", "bad minute"))?,
            );
            let n = match rate {
                Rate::Sharp => 1,
                Rate::Peak => 2,
                Rate::Flat => 3,
                Rate::Valley => 4,
                Rate::DeepValley => 5,
            };
            Ok((h, m, n))
        })
        .collect()
}

/// The alarm's name in messages to people.
pub fn alarm_label(kind: &str) -> &'static str {
    match kind {
        "GATEWAY_LOST" => "网关离线",
        "METER_LOST" => "电表离线",
        "PHASE_LOSS" => "缺相",
        "UNDER_VOLTAGE" => "欠压",
        "OVER_VOLTAGE" => "过压",
        "OVERLOAD" => "过载",
        "REVERSE_ENERGY" => "反向电能",
        "TRIPPED" => "已拉闸",
        "CONSUMPTION_WHILE_TRIPPED" => "拉闸后仍有用电",
        "TAMPER" => "表盖开启",
        "SUDDEN_DROP" => "用电量骤降",
        "LOW_BALANCE_1" => "余额不足(报警1)",
        "LOW_BALANCE_2" => "余额不足(报警2)",
        "ARREARS" => "欠费",
        "BALANCE_EXHAUSTED" => "余额耗尽(将断电)",
        "BALANCE_RESTORED" => "余额已恢复",
        "PAYMENT_DIFFERENCE" => "对账差异",
        _ => "告警",
    }
}

#[cfg(test)]
mod command_kind_tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_and_nothing_else_parses() {
        for k in CommandKind::ALL {
            assert_eq!(CommandKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(COMMAND_KINDS.to_vec(), CommandKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>());
        for bad in ["", "trip", "TRIP ", "OPEN", "RELAY_OPEN", "READ\0"] {
            assert_eq!(CommandKind::parse(bad), None, "{bad:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(d: u32, h: u32, m: u32) -> NaiveDateTime {
        // 2026-11-23 is a Monday.
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap().and_hms_opt(h, m, 0).unwrap()
    }

    fn window(weekdays: u8, start: u16, end: u16) -> FriendlyWindow {
        FriendlyWindow { name: "w".into(), weekdays, on_date: None, start_minute: start, end_minute: end }
    }

    #[test]
    fn a_night_window_runs_past_midnight_into_the_next_day() {
        let nights = window(ALL_WEEK, 22 * 60, 7 * 60);
        assert!(nights.contains(at(23, 22, 0)));
        assert!(nights.contains(at(24, 6, 59)));
        assert!(!nights.contains(at(24, 7, 0)));
        assert!(!nights.contains(at(23, 21, 59)));
        // Friday nights only: Saturday 06:00 is inside, Sunday 06:00 is not.
        let friday = window(1 << 4, 22 * 60, 7 * 60);
        assert!(friday.contains(at(28, 6, 0)));
        assert!(!friday.contains(at(29, 6, 0)));
        assert!(!friday.contains(at(27, 6, 0)));
    }

    #[test]
    fn held_trips_wait_until_the_first_minute_outside_every_window() {
        let nights = window(ALL_WEEK, 22 * 60, 7 * 60);
        assert_eq!(friendly_until(std::slice::from_ref(&nights), at(23, 23, 30)), Some(at(24, 7, 0)));
        assert_eq!(friendly_until(std::slice::from_ref(&nights), at(23, 12, 0)), None);
        // Overlapping windows chain: nights and the whole of Tuesday.
        let tuesday = window(1 << 1, 0, 1440);
        assert_eq!(friendly_until(&[nights, tuesday], at(23, 23, 0)), Some(at(25, 7, 0)));
    }

    #[test]
    fn weekends_and_holidays() {
        let weekend = window((1 << 5) | (1 << 6), 0, 1440);
        assert!(weekend.contains(at(28, 0, 0)) && weekend.contains(at(29, 23, 59)));
        assert!(!weekend.contains(at(30, 0, 0)));
        let holiday = FriendlyWindow {
            name: "h".into(),
            weekdays: 0,
            on_date: NaiveDate::from_ymd_opt(2026, 11, 25),
            start_minute: 0,
            end_minute: 1440,
        };
        assert!(holiday.validate().is_ok());
        assert!(in_friendly_hours(&[weekend, holiday.clone()], at(25, 12, 0)));
        assert!(!in_friendly_hours(&[holiday], at(26, 12, 0)));
    }

    #[test]
    fn bad_windows_are_refused_naming_the_field() {
        assert_eq!(window(0, 0, 60).validate().unwrap_err().field, "weekdays");
        assert_eq!(window(1, 60, 60).validate().unwrap_err().field, "end");
        assert_eq!(window(1, 1440, 60).validate().unwrap_err().field, "start");
        assert_eq!(window(0x80, 0, 60).validate().unwrap_err().field, "weekdays");
    }

    #[test]
    fn a_tou_day_becomes_the_meters_slot_table() {
        let spec = crate::tariff::commercial_tou(crate::tariff::TouSource::PlatformCalendar, false, None);
        let slots = day_slots(&spec).unwrap();
        assert_eq!(slots.len(), spec.periods.len());
        assert_eq!(slots.first().map(|s| (s.0, s.1)), Some((0, 0)));
        assert!(slots.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)));
        let mut flat = spec.clone();
        flat.periods.clear();
        assert_eq!(day_slots(&flat).unwrap(), vec![(0, 0, 3)]);
    }

    #[test]
    fn quiet_hours_wait_until_they_end() {
        assert_eq!(quiet_wait(22 * 60, 7 * 60, at(23, 23, 0)), Some(chrono::Duration::hours(8)));
        assert_eq!(quiet_wait(22 * 60, 7 * 60, at(24, 6, 30)), Some(chrono::Duration::minutes(30)));
        assert_eq!(quiet_wait(22 * 60, 7 * 60, at(24, 7, 0)), None);
        assert_eq!(quiet_wait(12 * 60, 14 * 60, at(24, 13, 0)), Some(chrono::Duration::hours(1)));
        assert_eq!(quiet_wait(12 * 60, 14 * 60, at(24, 14, 0)), None);
    }

    #[test]
    fn the_poll_budget_reads_every_meter_once_per_interval() {
        assert_eq!(poll_budget(10_000, 1800, 5), 28);
        assert_eq!(poll_budget(3, 1800, 5), 1);
        assert_eq!(poll_budget(0, 1800, 5), 0);
        // Over an interval's worth of sweeps the budget covers the fleet.
        assert!(poll_budget(10_000, 1800, 5) * (1800 / 5) >= 10_000);
    }
}
