//! GraphQL for commands at scale: batches over a selection of meters with per-meter results
//! and progress (F21), and the tenant's friendly hours (F37).

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::commands::Command;
use super::graphql::{Res, err, parse_id, parse_ref, tenant};
use domain::Invalid;
use domain::control::FriendlyWindow;
use domain::ids::{AreaId, BatchId, MeterId, PropertyId};
use store::{self, BATCH_KINDS, MeterSelection, StoreError};

/// Which meters a batch is for: a list of meters, or every meter matching the filters (the
/// filters narrow a list too).
#[derive(InputObject, Default)]
pub struct MeterSelectionInput {
    pub meter_ids: Option<Vec<ID>>,
    pub property_id: Option<ID>,
    pub area_id: Option<ID>,
}

/// Prepaid settings for one meter; only the given ones are written.
#[derive(InputObject)]
pub struct MeterSettingsInput {
    pub meter_id: ID,
    /// Alarm amount 1, yuan.
    pub alarm1: Option<Decimal>,
    /// Alarm amount 2, yuan.
    pub alarm2: Option<Decimal>,
    /// Credit (overdraft) limit, yuan.
    pub credit_limit: Option<Decimal>,
    /// Overload power threshold, kW.
    pub overload_kw: Option<Decimal>,
}

#[derive(InputObject)]
pub struct BatchCommandInput {
    /// TRIP, CLOSE, HOLD_ON, HOLD_OFF, READ (read now) or TIME_SYNC.
    pub kind: String,
    pub selection: MeterSelectionInput,
    #[graphql(default)]
    pub reason: String,
}

/// How many of a batch's commands are in each status.
#[derive(SimpleObject)]
pub struct StatusCount {
    pub status: String,
    pub count: i64,
}

/// A command issued to many meters; each meter's command proceeds on its own.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CommandBatch {
    pub id: ID,
    pub kind: String,
    pub reason: String,
    pub total: i64,
    /// Commands in an end state (confirmed, failed, timed out, expired or cancelled).
    pub finished: i64,
    pub confirmed: i64,
    pub progress: Vec<StatusCount>,
    pub created_at: DateTime<Utc>,
}

#[async_graphql::ComplexObject]
impl CommandBatch {
    /// Per-meter results, optionally of one status.
    async fn commands(&self, ctx: &Context<'_>, status: Option<String>, #[graphql(default = 100)] first: i32) -> Res<Vec<Command>> {
        if !(1..=1000).contains(&first) {
            return Err(err(Invalid::new("first", "between 1 and 1000")));
        }
        let id = parse_id(&self.id, BatchId::parse)?;
        Ok(tenant(ctx)?.batch_commands(&id, status.as_deref(), first as u64).await.map_err(err)?.into_iter().map(Into::into).collect())
    }
}

impl From<store::BatchRow> for CommandBatch {
    fn from(b: store::BatchRow) -> Self {
        Self {
            id: ID(b.id.to_string()),
            finished: b.finished(),
            confirmed: b.by_status.get("CONFIRMED").copied().unwrap_or(0),
            kind: b.kind,
            reason: b.reason,
            total: b.total,
            progress: b.by_status.into_iter().map(|(status, count)| StatusCount { status, count }).collect(),
            created_at: b.created_at,
        }
    }
}

/// A window in the tenant's local time in which automatic trips wait (友好时段).
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "FriendlyWindowInput")]
pub struct FriendlyWindowSpec {
    pub name: String,
    /// Weekdays the window starts on: 1 Monday … 7 Sunday. Empty with `date`.
    #[graphql(default)]
    pub weekdays: Vec<i32>,
    /// One date (a holiday) instead of weekdays.
    pub date: Option<NaiveDate>,
    /// `HH:MM` local; a window whose end is not after its start runs past midnight.
    pub start: String,
    /// `HH:MM` local, up to `24:00`.
    pub end: String,
}

fn minute(field: &'static str, text: &str) -> Res<u16> {
    let bad = || err(Invalid::new(field, "HH:MM from 00:00 to 24:00"));
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h * 60 + m > 1440 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl FriendlyWindowSpec {
    fn to_domain(&self) -> Res<FriendlyWindow> {
        let mut weekdays = 0u8;
        for d in &self.weekdays {
            if !(1..=7).contains(d) {
                return Err(err(Invalid::new("weekdays", "1 (Monday) to 7 (Sunday)")));
            }
            weekdays |= 1 << (d - 1);
        }
        let w = FriendlyWindow {
            name: self.name.clone(),
            weekdays,
            on_date: self.date,
            start_minute: minute("start", &self.start)?,
            end_minute: minute("end", &self.end)?,
        };
        w.validate().map_err(err)?;
        Ok(w)
    }

    fn from_domain(w: FriendlyWindow) -> Self {
        let hhmm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        Self {
            weekdays: (1..=7).filter(|d| w.weekdays & (1 << (d - 1)) != 0).collect(),
            date: w.on_date,
            start: hhmm(w.start_minute),
            end: hhmm(w.end_minute),
            name: w.name,
        }
    }
}

#[derive(Default)]
pub struct ControlQuery;

#[Object]
impl ControlQuery {
    /// Command batches, newest first (批量操作).
    async fn command_batches(&self, ctx: &Context<'_>, #[graphql(default = 20)] first: i32) -> Res<Vec<CommandBatch>> {
        if !(1..=200).contains(&first) {
            return Err(err(Invalid::new("first", "between 1 and 200")));
        }
        Ok(tenant(ctx)?.batches(first as u64).await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    async fn command_batch(&self, ctx: &Context<'_>, id: ID) -> Res<CommandBatch> {
        let id = parse_id(&id, BatchId::parse)?;
        Ok(tenant(ctx)?.batch(&id).await.map_err(err)?.into())
    }

    /// The tenant's friendly hours: automatic trips wait while any window is open.
    async fn friendly_hours(&self, ctx: &Context<'_>) -> Res<Vec<FriendlyWindowSpec>> {
        Ok(tenant(ctx)?.friendly_windows().await.map_err(err)?.into_iter().map(|(_, w)| FriendlyWindowSpec::from_domain(w)).collect())
    }
}

#[derive(Default)]
pub struct ControlMutation;

#[Object]
impl ControlMutation {
    /// Issues one command to every selected meter (at most 50,000); progress and per-meter
    /// results are on the returned batch.
    async fn batch_command(&self, ctx: &Context<'_>, input: BatchCommandInput) -> Res<CommandBatch> {
        if !BATCH_KINDS.contains(&input.kind.as_str()) {
            return Err(err(Invalid::new("kind", format!("one of {}", BATCH_KINDS.join(", ")))));
        }
        let s = &input.selection;
        let meter_ids = match &s.meter_ids {
            None => None,
            Some(list) if list.is_empty() => return Err(err(Invalid::new("meterIds", "give at least one meter or leave it out"))),
            Some(list) => Some(list.iter().map(|m| parse_id(m, MeterId::parse)).collect::<Res<Vec<_>>>()?),
        };
        let selection = MeterSelection {
            meter_ids,
            property: parse_ref("propertyId", &s.property_id, PropertyId::parse)?,
            area: parse_ref("areaId", &s.area_id, AreaId::parse)?,
        };
        if selection.meter_ids.is_none() && selection.property.is_none() && selection.area.is_none() {
            return Err(err(Invalid::new("selection", "give meterIds, propertyId or areaId")));
        }
        let batch = tenant(ctx)?.create_batch(&input.kind, &input.reason, &selection).await.map_err(|e| match e {
            StoreError::Conflict(m) => err(Invalid::new("selection", m)),
            other => err(other),
        })?;
        Ok(batch.into())
    }

    /// How often the tenant's meters are expected to report: meters silent longer are polled,
    /// and lost after `lostAfterIntervals` intervals.
    async fn set_reading_schedule(
        &self,
        ctx: &Context<'_>,
        reading_interval_seconds: i64,
        #[graphql(default = 3)] lost_after_intervals: i64,
    ) -> Res<super::registry::Tenant> {
        if !(10..=86_400).contains(&reading_interval_seconds) {
            return Err(err(Invalid::new("readingIntervalSeconds", "between 10 and 86400")));
        }
        if !(1..=100).contains(&lost_after_intervals) {
            return Err(err(Invalid::new("lostAfterIntervals", "between 1 and 100")));
        }
        let t = tenant(ctx)?;
        t.set_reading_schedule(reading_interval_seconds, lost_after_intervals).await.map_err(err)?;
        let row = t.tenant_row().await.map_err(err)?;
        Ok(super::registry::Tenant {
            id: ID(row.id.to_string()),
            name: row.name,
            slug: row.slug,
            time_zone: row.time_zone,
            reading_interval_seconds: row.reading_interval_s,
            lost_after_intervals: row.lost_after_intervals,
        })
    }

    /// Pushes prepaid settings to a meter (meter-side alarms and limits): each given value is
    /// one sealed parameter write (alarm amounts 1/2 `04001001/2`, credit limit `04001003`,
    /// overload power `04000E01`), confirmed by the meter's reply.
    async fn push_meter_settings(&self, ctx: &Context<'_>, input: MeterSettingsInput) -> Res<Vec<Command>> {
        let meter = parse_id(&input.meter_id, MeterId::parse)?;
        let money_max = Decimal::new(99_999_999, 2);
        let mut writes = Vec::new();
        for (field, di, value, label) in [
            ("alarm1", "04001001", input.alarm1, "alarm amount 1"),
            ("alarm2", "04001002", input.alarm2, "alarm amount 2"),
            ("creditLimit", "04001003", input.credit_limit, "credit limit"),
        ] {
            if let Some(v) = value {
                if v.is_sign_negative() || v > money_max || v.scale() > 2 {
                    return Err(err(Invalid::new(field, "yuan from 0 to 999999.99, at most 2 decimals")));
                }
                writes.push((di.to_string(), v.to_string(), format!("{label} = {v}")));
            }
        }
        if let Some(kw) = input.overload_kw {
            if kw.is_sign_negative() || kw > Decimal::new(999_999, 4) || kw.scale() > 4 {
                return Err(err(Invalid::new("overloadKw", "kW from 0 to 99.9999")));
            }
            writes.push(("04000E01".into(), kw.to_string(), format!("overload power = {kw} kW")));
        }
        if writes.is_empty() {
            return Err(err(Invalid::new("input", "give at least one setting")));
        }
        Ok(tenant(ctx)?.queue_writes(&meter, &writes).await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    /// Pushes prices (sharp, peak, flat, valley; yuan/kWh) for meter-side prepaid meters, one
    /// sealed write per price: into the current set (`04050101`…`04`) at once, or, with
    /// `effectiveAt`, into the standby set (`04050201`…`04`) plus the switch time (`04000108`,
    /// the tenant's local time) at which the meter changes over.
    async fn push_meter_prices(
        &self,
        ctx: &Context<'_>,
        meter_id: ID,
        prices: Vec<Decimal>,
        effective_at: Option<DateTime<Utc>>,
    ) -> Res<Vec<Command>> {
        let meter = parse_id(&meter_id, MeterId::parse)?;
        let t = tenant(ctx)?;
        let set = if effective_at.is_some() { 2 } else { 1 };
        if effective_at.is_some_and(|at| at <= Utc::now()) {
            return Err(err(Invalid::new("effectiveAt", "must be in the future")));
        }
        if prices.is_empty() || prices.len() > 4 {
            return Err(err(Invalid::new("prices", "one to four prices: sharp, peak, flat, valley")));
        }
        let mut writes = Vec::new();
        for (i, p) in prices.iter().enumerate() {
            if p.is_sign_negative() || *p > Decimal::new(99_999_999, 4) || p.scale() > 4 {
                return Err(err(Invalid::new("prices", "yuan/kWh from 0 to 9999.9999, at most 4 decimals")));
            }
            writes.push((
                format!("04050{set}0{}", i + 1),
                p.to_string(),
                format!("price {} = {p}", ["sharp", "peak", "flat", "valley"].get(i).copied().unwrap_or("")),
            ));
        }
        if let Some(at) = effective_at {
            let tz: chrono_tz::Tz = t.tenant_row().await.map_err(err)?.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
            let local = at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
            writes.push(("04000108".into(), format!("text:{local}"), format!("switch to the standby prices at {local}")));
        }
        Ok(t.queue_writes(&meter, &writes).await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    /// Pushes a tariff's default day to the meter's first day time-slot table (`04010001`):
    /// each period's start and tariff number, as one sealed write.
    async fn push_meter_tou(&self, ctx: &Context<'_>, meter_id: ID, tariff_id: ID) -> Res<Vec<Command>> {
        let meter = parse_id(&meter_id, MeterId::parse)?;
        let t = tenant(ctx)?;
        let tariff = parse_ref("tariffId", &Some(tariff_id), domain::ids::TariffId::parse)?
            .ok_or_else(|| err(Invalid::new("tariffId", "required")))?;
        let row = t.tariff(&tariff).await.map_err(err)?.ok_or_else(|| err(Invalid::new("tariffId", "no such object")))?;
        let spec = row
            .versions
            .iter()
            .max_by_key(|v| v.effective_from)
            .map(|v| v.spec.clone())
            .ok_or_else(|| err(Invalid::new("tariffId", "the tariff has no version")))?;
        let slots = domain::control::day_slots(&spec).map_err(err)?;
        let raw = hex::encode(dlt645::day_table(&slots));
        let writes =
            vec![("04010001".to_string(), format!("hex:{raw}"), format!("TOU day table: {} periods from {}", slots.len(), row.name))];
        Ok(t.queue_writes(&meter, &writes).await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    /// Sets the meter's clock to the platform's (a DL/T 645 broadcast time on its device's
    /// downlink, then a clock read that confirms it).
    async fn sync_meter_time(&self, ctx: &Context<'_>, input: super::commands::MeterCommandInput) -> Res<Command> {
        let meter = parse_id(&input.meter_id, MeterId::parse)?;
        let reason = if input.reason.is_empty() { "time sync".to_string() } else { input.reason };
        Ok(tenant(ctx)?.operator_command(&meter, "TIME_SYNC", &reason).await.map_err(err)?.into())
    }

    /// Replaces the tenant's friendly hours (an empty list removes them).
    async fn set_friendly_hours(&self, ctx: &Context<'_>, windows: Vec<FriendlyWindowSpec>) -> Res<Vec<FriendlyWindowSpec>> {
        if windows.len() > 50 {
            return Err(err(Invalid::new("windows", "at most 50")));
        }
        let domain = windows.iter().map(FriendlyWindowSpec::to_domain).collect::<Res<Vec<_>>>()?;
        let saved = tenant(ctx)?.set_friendly_windows(&domain).await.map_err(err)?;
        Ok(saved.into_iter().map(|(_, w)| FriendlyWindowSpec::from_domain(w)).collect())
    }
}
