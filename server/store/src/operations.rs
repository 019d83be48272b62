//! Commands at scale: batches over a selection of meters (F21), friendly hours that hold
//! automatic trips back (F37), and polling of meters that do not push.

use crate::ids::NewId;
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;

use super::settle::insert_commands;
use super::sql::{Args, stmt};
use super::{CommandRow, Result, StoreError, TenantStore};
use domain::control::{FriendlyWindow, poll_budget};
use domain::ids::{AreaId, BatchId, MeterId, PropertyId, WindowId};

/// Kinds an operator may issue to a selection.
pub const BATCH_KINDS: [&str; 6] = ["TRIP", "CLOSE", "HOLD_ON", "HOLD_OFF", "READ", "TIME_SYNC"];
/// The most meters one batch may hold.
pub const BATCH_LIMIT: usize = 50_000;

/// Which meters a batch is for: a list, or everything matching the filters.
#[derive(Debug, Clone, Default)]
pub struct MeterSelection {
    pub meter_ids: Option<Vec<MeterId>>,
    pub property: Option<PropertyId>,
    pub area: Option<AreaId>,
}

#[derive(Debug, Clone)]
pub struct BatchRow {
    pub id: BatchId,
    pub kind: String,
    pub reason: String,
    pub total: i64,
    pub created_at: DateTime<Utc>,
    /// Commands of the batch by status.
    pub by_status: BTreeMap<String, i64>,
}

impl BatchRow {
    /// Commands that reached an end state (confirmed or not).
    pub fn finished(&self) -> i64 {
        ["CONFIRMED", "FAILED", "TIMED_OUT", "EXPIRED", "CANCELLED"].iter().map(|s| self.by_status.get(*s).copied().unwrap_or(0)).sum()
    }
}

impl TenantStore {
    /// Queues one command per selected meter, all in one transaction, and wakes the
    /// dispatcher. The meters proceed independently: an offline or slow one never holds up
    /// the others. A listed meter that is not this tenant's refuses the whole batch.
    pub async fn create_batch(&self, kind: &str, reason: &str, selection: &MeterSelection) -> Result<BatchRow> {
        let mut sql = "SELECT id, account_id FROM meters WHERE tenant_id = $1 AND retired_at IS NULL".to_string();
        let mut args = self.args();
        let mut n = 1;
        if let Some(p) = &selection.property {
            n += 1;
            sql.push_str(&format!(" AND property_id = ${n}"));
            args = args.s(p.as_str());
        }
        if let Some(a) = &selection.area {
            n += 1;
            sql.push_str(&format!(" AND area_id = ${n}"));
            args = args.s(a.as_str());
        }
        // A property-scoped operator's batch selects only meters of its properties.
        sql += &self.scope_clause("property_id", &mut args);
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        let mut meters: Vec<(String, Option<String>)> =
            rows.iter().map(|r| Ok((r.try_get("", "id")?, r.try_get("", "account_id")?))).collect::<Result<_>>()?;
        if let Some(list) = &selection.meter_ids {
            let wanted: std::collections::HashSet<&str> = list.iter().map(|m| m.as_str()).collect();
            meters.retain(|(id, _)| wanted.contains(id.as_str()));
            if meters.len() != wanted.len() {
                return Err(StoreError::NotFound);
            }
        }
        if meters.is_empty() {
            return Err(StoreError::Conflict("no meter matches the selection".into()));
        }
        if meters.len() > BATCH_LIMIT {
            return Err(StoreError::Conflict(format!("{} meters selected; a batch holds at most {BATCH_LIMIT}", meters.len())));
        }
        let id = BatchId::new_ordered();
        let now = Utc::now();
        let records: Vec<_> = meters
            .into_iter()
            .map(|(meter, account)| {
                let mut c = self.command_record(&meter, account, kind, "OPERATOR", reason);
                c.batch_id = Some(id.to_string());
                c.created_at = now;
                c
            })
            .collect();
        let txn = self.db().begin().await?;
        let sql = "INSERT INTO command_batches (tenant_id, id, kind, reason, total, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
        txn.execute_raw(stmt(self.backend(), sql, self.args().s(id.as_str()).s(kind).s(reason).i(records.len() as i64).t(now))).await?;
        for chunk in records.chunks(1000) {
            insert_commands(&txn, chunk).await?;
        }
        txn.commit().await?;
        self.store.commands.submit(&records);
        self.batch(&id).await
    }

    /// Batches newest first; a scoped handle sees those whose every command is for a meter of
    /// its properties.
    pub async fn batches(&self, limit: u64) -> Result<Vec<BatchRow>> {
        let mut args = self.args();
        let scope = match self.scope() {
            None => String::new(),
            // No property at all: no batch is wholly its own.
            Some([]) => return Ok(Vec::new()),
            Some(props) => {
                // `IN` rather than `NOT IN`: a NULL never makes a foreign meter look like ours.
                let list = super::scope::in_list(&mut args, props);
                format!(
                    " AND NOT EXISTS (SELECT 1 FROM commands c JOIN meters m ON m.tenant_id = c.tenant_id AND m.id = c.meter_id
                       WHERE c.tenant_id = $1 AND c.batch_id = b.id AND CASE WHEN m.property_id IN {list} THEN 0 ELSE 1 END = 1)"
                )
            }
        };
        let sql = format!(
            "SELECT b.id FROM command_batches b WHERE b.tenant_id = $1{scope} ORDER BY b.created_at DESC, b.id DESC LIMIT {}",
            limit.clamp(1, 200)
        );
        let mut out = Vec::new();
        for r in self.db().query_all_raw(stmt(self.backend(), &sql, args)).await? {
            let id: String = r.try_get("", "id")?;
            let id = BatchId::parse(&id).ok_or_else(|| StoreError::Database("bad batch id".into()))?;
            out.push(self.batch(&id).await?);
        }
        Ok(out)
    }

    pub async fn batch(&self, id: &BatchId) -> Result<BatchRow> {
        let sql = "SELECT id, kind, reason, total, created_at FROM command_batches WHERE tenant_id = $1 AND id = $2";
        let r = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(id.as_str()))).await?.ok_or(StoreError::NotFound)?;
        let sql = "SELECT status, COUNT(*) AS n FROM commands WHERE tenant_id = $1 AND batch_id = $2 GROUP BY status";
        let mut by_status = BTreeMap::new();
        for s in self.db().query_all_raw(stmt(self.backend(), sql, self.args().s(id.as_str()))).await? {
            by_status.insert(s.try_get("", "status")?, super::registry::int(&s, "n")?);
        }
        Ok(BatchRow {
            id: id.clone(),
            kind: r.try_get("", "kind")?,
            reason: r.try_get("", "reason")?,
            total: super::registry::int(&r, "total")?,
            created_at: r.try_get("", "created_at")?,
            by_status,
        })
    }

    /// Queues parameter writes for one meter (kind WRITE, payload `{"di", "value"}`, or
    /// `{"di", "raw"}` for a value given as `hex:…`, `{"di", "text"}` for `text:…`), one
    /// command per item, each sealed and confirmed on its own.
    pub async fn queue_writes(&self, meter: &MeterId, writes: &[(String, String, String)]) -> Result<Vec<CommandRow>> {
        let sql = "SELECT account_id FROM meters WHERE tenant_id = $1 AND id = $2 AND retired_at IS NULL";
        let r = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(meter.as_str()))).await?.ok_or(StoreError::NotFound)?;
        let account: Option<String> = r.try_get("", "account_id")?;
        let records: Vec<_> = writes
            .iter()
            .map(|(di, value, reason)| {
                let mut c = self.command_record(meter.as_str(), account.clone(), "WRITE", "OPERATOR", reason);
                // A value in hex is written as raw bytes (tables the codec has no format for).
                let value = match (value.strip_prefix("hex:"), value.strip_prefix("text:")) {
                    (Some(raw), _) => serde_json::json!({ "di": di, "raw": raw }),
                    (None, Some(text)) => serde_json::json!({ "di": di, "text": text }),
                    _ => serde_json::json!({ "di": di, "value": value }),
                };
                c.payload = value.to_string();
                c
            })
            .collect();
        insert_commands(&self.db(), &records).await?;
        self.store.commands.submit(&records);
        let mut out = Vec::new();
        for r in &records {
            out.extend(self.command(&r.id).await?);
        }
        Ok(out)
    }

    /// The batch's commands (per-meter results), optionally of one status.
    pub async fn batch_commands(&self, id: &BatchId, status: Option<&str>, limit: u64) -> Result<Vec<CommandRow>> {
        match status {
            Some(s) => self.commands_where(" AND batch_id = $2 AND status = $3", self.args().s(id.as_str()).s(s), limit).await,
            None => self.commands_where(" AND batch_id = $2", self.args().s(id.as_str()), limit).await,
        }
    }

    /// Replaces the tenant's friendly-hours windows (validated by the caller).
    pub async fn set_friendly_windows(&self, windows: &[FriendlyWindow]) -> Result<Vec<(WindowId, FriendlyWindow)>> {
        let txn = self.db().begin().await?;
        txn.execute_raw(stmt(self.backend(), "DELETE FROM friendly_windows WHERE tenant_id = $1", self.args())).await?;
        for w in windows {
            let sql = "INSERT INTO friendly_windows (tenant_id, id, name, weekdays, on_date, start_minute, end_minute) VALUES ($1, $2, $3, $4, $5, $6, $7)";
            let args = self
                .args()
                .s(WindowId::new_ordered().as_str())
                .s(&w.name)
                .i(i64::from(w.weekdays))
                .os(w.on_date.map(|d| d.to_string()))
                .i(i64::from(w.start_minute))
                .i(i64::from(w.end_minute));
            txn.execute_raw(stmt(self.backend(), sql, args)).await?;
        }
        // Held trips are looked at again under the new windows.
        let sql = "UPDATE commands SET queued_at = $2 WHERE tenant_id = $1 AND status = 'QUEUED' AND queued_at > $2";
        txn.execute_raw(stmt(self.backend(), sql, self.args().t(Utc::now()))).await?;
        txn.commit().await?;
        self.friendly_windows().await
    }

    /// For the benchmark: automatic trips decided since `since`, each the time from receiving
    /// the reading that decided it to putting its frame on the wire.
    pub async fn trip_latencies(&self, since: DateTime<Utc>) -> Result<Vec<chrono::Duration>> {
        Ok(self.trip_timings(since).await?.into_iter().map(|(decided, sent)| decided + sent).collect())
    }

    /// Each automatic trip since `since`, in two parts: from its reading's arrival at the
    /// bridge to the decision (in the ingest transaction), and from the decision to the frame
    /// published (the commit, the dispatcher's wake-up, framing and the publish).
    pub async fn trip_timings(&self, since: DateTime<Utc>) -> Result<Vec<(chrono::Duration, chrono::Duration)>> {
        let sql = "SELECT c.created_at, c.sent_at, (SELECT MAX(r.received_at) FROM readings r WHERE r.tenant_id = c.tenant_id AND r.meter_id = c.meter_id
                     AND r.received_at <= c.created_at) AS received_at
                   FROM commands c WHERE c.tenant_id = $1 AND c.kind = 'TRIP' AND c.source = 'AUTO' AND c.created_at >= $2 AND c.sent_at IS NOT NULL";
        let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args().t(since))).await?;
        let mut out = Vec::new();
        for r in rows {
            let created: DateTime<Utc> = r.try_get("", "created_at")?;
            let sent: DateTime<Utc> = r.try_get("", "sent_at")?;
            let received: Option<DateTime<Utc>> = r.try_get("", "received_at")?;
            if let Some(received) = received {
                out.push((created - received, sent - created));
            }
        }
        Ok(out)
    }

    /// Sets how often meters are expected to report (polling and lost detection follow it).
    pub async fn set_reading_schedule(&self, interval_s: i64, lost_after_intervals: i64) -> Result<()> {
        let sql = "UPDATE tenants SET reading_interval_s = $2, lost_after_intervals = $3 WHERE id = $1";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().i(interval_s).i(lost_after_intervals))).await?;
        Ok(())
    }

    pub async fn friendly_windows(&self) -> Result<Vec<(WindowId, FriendlyWindow)>> {
        self.store.platform().friendly_windows(self.tenant.as_str()).await
    }
}

impl super::PlatformStore {
    pub async fn friendly_windows(&self, tenant: &str) -> Result<Vec<(WindowId, FriendlyWindow)>> {
        let sql = "SELECT id, name, weekdays, on_date, start_minute, end_minute FROM friendly_windows WHERE tenant_id = $1 ORDER BY start_minute, id";
        let rows = self.db.query_all_raw(stmt(self.backend(), sql, Args::new().s(tenant))).await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("", "id")?;
                let on_date: Option<String> = r.try_get("", "on_date")?;
                let small = |c| super::registry::int(r, c).map(|v| u16::try_from(v).unwrap_or(0));
                Ok((
                    WindowId::parse(&id).ok_or(StoreError::Database("bad window id".into()))?,
                    FriendlyWindow {
                        name: r.try_get("", "name")?,
                        weekdays: u8::try_from(super::registry::int(r, "weekdays")?).unwrap_or(0),
                        on_date: on_date.and_then(|d| d.parse::<NaiveDate>().ok()),
                        start_minute: small("start_minute")?,
                        end_minute: small("end_minute")?,
                    },
                ))
            })
            .collect()
    }

    /// Holds an automatic trip until `until` (the end of the friendly hours): it is not due
    /// before, and does not expire meanwhile.
    pub async fn hold_command(&self, tenant: &str, id: &str, until: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE commands SET queued_at = $3, reason = CASE WHEN reason LIKE '%held in friendly hours%' THEN reason ELSE reason || ' — held in friendly hours' END
                   WHERE tenant_id = $1 AND id = $2 AND status = 'QUEUED'";
        self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(tenant).s(id).t(until))).await?;
        Ok(())
    }

    /// Polls meters that have not reported within their tenant's reading interval (a meter never
    /// heard from counts from its registration): queues a
    /// READ for the stalest ones, at most the budget that reads every meter once per interval
    /// when this runs every `sweep_s` seconds. Lost meters and meters with a read pending are
    /// skipped. Returns how many reads were queued.
    pub async fn poll_due(&self, now: DateTime<Utc>, sweep_s: u64) -> Result<usize> {
        let b = self.backend();
        let mut queued = 0;
        for t in self.platform().tenants().await? {
            if t.status != "ACTIVE" {
                continue;
            }
            let count = "SELECT COUNT(*) AS n FROM meter_live l WHERE l.tenant_id = $1 AND l.link_state <> 'LOST'";
            let n = match self.db.query_one_raw(stmt(b, count, Args::new().s(t.id.as_str()))).await? {
                Some(r) => super::registry::int(&r, "n")?,
                None => 0,
            };
            let budget = poll_budget(n as u64, t.reading_interval_s.max(1) as u64, sweep_s);
            if budget == 0 {
                continue;
            }
            let stale = now - chrono::Duration::seconds(t.reading_interval_s.max(1));
            let sql = format!(
                "SELECT l.meter_id, m.account_id FROM meter_live l JOIN meters m ON m.tenant_id = l.tenant_id AND m.id = l.meter_id AND m.retired_at IS NULL
                 WHERE l.tenant_id = $1 AND l.link_state <> 'LOST' AND COALESCE(l.last_seen_at, m.created_at) < $2
                   AND NOT EXISTS (SELECT 1 FROM commands c WHERE c.tenant_id = l.tenant_id AND c.meter_id = l.meter_id AND c.kind = 'READ'
                                   AND c.status IN ('QUEUED', 'SENT'))
                 ORDER BY COALESCE(l.last_seen_at, m.created_at) LIMIT {budget}"
            );
            let rows = self.db.query_all_raw(stmt(b, &sql, Args::new().s(t.id.as_str()).t(stale))).await?;
            if rows.is_empty() {
                continue;
            }
            let tenant = self.tenant(t.id.clone());
            let mut records = Vec::with_capacity(rows.len());
            for r in &rows {
                let meter: String = r.try_get("", "meter_id")?;
                let mut c = tenant.command_record(
                    &meter,
                    r.try_get("", "account_id")?,
                    "READ",
                    "SCHEDULE",
                    "polling: no reading within the interval",
                );
                c.created_at = now;
                records.push(c);
            }
            insert_commands(&self.db, &records).await?;
            self.commands.submit(&records);
            queued += records.len();
        }
        Ok(queued)
    }
}
