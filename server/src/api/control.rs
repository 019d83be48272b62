//! GraphQL for commands at scale: batches over a selection of meters with per-meter results
//! and progress (F21), and the tenant's friendly hours (F37).

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use super::graphql::{Res, err, parse_id, parse_ref, tenant};
use super::money::Command;
use crate::domain::Invalid;
use crate::domain::control::FriendlyWindow;
use crate::domain::ids::{AreaId, BatchId, MeterId, PropertyId};
use crate::store::{self, BATCH_KINDS, MeterSelection, StoreError};

/// Which meters a batch is for: a list of meters, or every meter matching the filters (the
/// filters narrow a list too).
#[derive(InputObject, Default)]
pub struct MeterSelectionInput {
    pub meter_ids: Option<Vec<ID>>,
    pub property_id: Option<ID>,
    pub area_id: Option<ID>,
}

#[derive(InputObject)]
pub struct BatchCommandInput {
    /// TRIP, CLOSE, HOLD_ON, HOLD_OFF or READ (read now).
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
    ) -> Res<super::graphql::Tenant> {
        if !(10..=86_400).contains(&reading_interval_seconds) {
            return Err(err(Invalid::new("readingIntervalSeconds", "between 10 and 86400")));
        }
        if !(1..=100).contains(&lost_after_intervals) {
            return Err(err(Invalid::new("lostAfterIntervals", "between 1 and 100")));
        }
        let t = tenant(ctx)?;
        t.set_reading_schedule(reading_interval_seconds, lost_after_intervals).await.map_err(err)?;
        let row = t.tenant_row().await.map_err(err)?;
        Ok(super::graphql::Tenant {
            id: ID(row.id.to_string()),
            name: row.name,
            time_zone: row.time_zone,
            reading_interval_seconds: row.reading_interval_s,
        })
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
