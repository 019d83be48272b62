//! The command outbox, cross-tenant: commands due for sending (queued, or sent and not
//! confirmed in time), marking them sent or timed out, and confirming relay commands against
//! the relay state the meter reports next (status word 3: bit 4 relay open, bit 12 hold power).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::ConnectionTrait;

use super::money::{CommandRow, conflict, parse};
use super::settle::insert_commands;
use super::sql::{Args, stmt};
use super::{Result, StoreError, TenantStore};
use domain::ids::*;

/// When commands are re-sent, given up or expired.
#[derive(Debug, Clone)]
pub struct DuePolicy {
    pub retry_after: chrono::Duration,
    pub max_attempts: i64,
    pub expire_after: chrono::Duration,
}

/// The most commands one dispatcher pass takes; a full pass is followed by another at once,
/// and every pass starts with the relay commands, so a new trip waits for at most one pass.
pub const DUE_PER_PASS: usize = 200;

/// A command to put on the wire now.
#[derive(Debug, Clone)]
pub struct DueCommand {
    pub tenant_id: String,
    pub id: String,
    pub meter_id: String,
    pub kind: domain::control::CommandKind,
    /// AUTO, OPERATOR or SCHEDULE.
    pub source: String,
    /// Kind-specific JSON (a purchase's amount and counter).
    pub payload: String,
    pub attempts: i64,
    pub tz: Tz,
    /// When the command became due (for an automatic trip: the commit of the reading that
    /// crossed the limit, or the end of the friendly hours that held it).
    pub created_at: DateTime<Utc>,
}

impl super::PlatformStore {
    /// Failed cut-offs escalate (issue 20): a meter whose account wants its power cut, whose
    /// TRIP failed and that does not report its relay open gets a new automatic TRIP — after
    /// 5 minutes, then 15, then every hour while it holds — unless one is on its way. The
    /// TRIP_FAILED alarm (and its SMS) says so meanwhile. Returns how many were queued.
    pub async fn retry_failed_trips(&self, now: DateTime<Utc>) -> Result<u64> {
        let b = self.backend();
        let sql = format!(
            "SELECT m.tenant_id, m.id, m.account_id,
                    (SELECT COUNT(*) FROM commands f WHERE f.tenant_id = m.tenant_id AND f.meter_id = m.id AND f.kind = 'TRIP'
                       AND f.status IN ('FAILED', 'TIMED_OUT', 'EXPIRED') AND f.created_at > $1) AS failures,
                    (SELECT MAX(COALESCE(f.replied_at, f.sent_at, f.created_at)) FROM commands f WHERE f.tenant_id = m.tenant_id
                       AND f.meter_id = m.id AND f.kind = 'TRIP') AS last_try
             FROM meter_live l JOIN meters m ON m.tenant_id = l.tenant_id AND m.id = l.meter_id AND m.retired_at IS NULL
             JOIN tenants t ON t.id = m.tenant_id AND t.status = 'ACTIVE'
             WHERE {} AND NOT EXISTS (SELECT 1 FROM commands q WHERE q.tenant_id = m.tenant_id AND q.meter_id = m.id
                 AND q.kind IN ('TRIP', 'CLOSE') AND q.status IN ('QUEUED', 'SENT', 'ACKNOWLEDGED'))",
            super::alarms::CUT_OFF_FAILED
        );
        let rows = self.db.query_all_raw(stmt(b, &sql, Args::new().t(now - chrono::Duration::days(7)))).await?;
        let mut queued = Vec::new();
        for r in &rows {
            let failures = super::registry::int(r, "failures")?;
            let last: Option<DateTime<Utc>> = r.try_get("", "last_try")?;
            let wait = chrono::Duration::minutes(match failures {
                ..=1 => 5,
                2 => 15,
                _ => 60,
            });
            if last.is_some_and(|at| now - at < wait) {
                continue;
            }
            queued.push(super::outbox::CommandRecord {
                id: uuid::Uuid::new_v4().to_string(),
                tenant_id: r.try_get("", "tenant_id")?,
                meter_id: r.try_get("", "id")?,
                account_id: r.try_get("", "account_id")?,
                kind: "TRIP".into(),
                source: "AUTO".into(),
                reason: format!("the cut-off failed {failures} time(s): tried again"),
                payload: String::new(),
                created_at: now,
                batch_id: None,
            });
        }
        if queued.is_empty() {
            return Ok(0);
        }
        super::settle::insert_commands(&self.db, &queued).await?;
        for c in &queued {
            tracing::warn!(tenant = %c.tenant_id, meter = %c.meter_id, reason = %c.reason, "automatic trip retried");
        }
        Ok(queued.len() as u64)
    }

    /// Commands to send, at most [`DUE_PER_PASS`], relay commands first (a trip must not wait
    /// behind a batch of reads): queued ones, and sent ones unconfirmed after `retry_after`. Those
    /// already tried `max_attempts` times end `TIMED_OUT`; those queued longer than
    /// `expire_after` end `EXPIRED`; a meter that is `LOST` gets nothing until it is heard
    /// from again (F36: its commands wait and are replayed when it reconnects); a command
    /// queued for later (an automatic trip held in friendly hours) waits for its time.
    pub async fn commands_due(&self, now: DateTime<Utc>, policy: &DuePolicy) -> Result<Vec<DueCommand>> {
        let b = self.backend();
        let stale = now - policy.retry_after;
        let sql = "UPDATE commands SET status = 'TIMED_OUT' WHERE status IN ('SENT', 'ACKNOWLEDGED') AND sent_at < $1 AND attempts >= $2
                   RETURNING tenant_id, id, meter_id, kind, attempts";
        for r in self.db.query_all_raw(stmt(b, sql, Args::new().t(stale).i(policy.max_attempts))).await? {
            let (tenant, id, meter, kind): (String, String, String, String) =
                (r.try_get("", "tenant_id")?, r.try_get("", "id")?, r.try_get("", "meter_id")?, r.try_get("", "kind")?);
            tracing::warn!(tenant, meter, command = %id, kind, attempts = super::registry::int(&r, "attempts")?, "command TIMED_OUT: no answer");
            metrics::counter!("voltledger_commands_total", "state" => "TIMED_OUT").increment(1);
        }
        // A relay command overtaken by a later one for the same meter (a trip held in friendly
        // hours, then a recharge's close; a trip still unconfirmed when the operator closes) is
        // neither sent nor sent again: a stale trip must not undo a later close.
        let sql = "UPDATE commands SET status = 'CANCELLED', reason = reason || ' — superseded by a later command'
                   WHERE status IN ('QUEUED', 'SENT', 'ACKNOWLEDGED') AND kind IN ('TRIP', 'CLOSE') AND EXISTS (
                     SELECT 1 FROM commands n WHERE n.tenant_id = commands.tenant_id AND n.meter_id = commands.meter_id
                       AND n.kind IN ('TRIP', 'CLOSE') AND n.status <> 'CANCELLED' AND n.created_at > commands.created_at)";
        self.db.execute_raw(stmt(b, sql, Args::new())).await?;
        // A kind this build does not know fails at once (never sent, never a relay action).
        let sql = "UPDATE commands SET status = 'FAILED', reason = reason || ' — unknown command kind'
                   WHERE status = 'QUEUED' AND kind NOT IN ('TRIP', 'CLOSE', 'HOLD_ON', 'HOLD_OFF', 'READ', 'PURCHASE', 'WRITE', 'TIME_SYNC')";
        self.db.execute_raw(stmt(b, sql, Args::new())).await?;
        let sql = "UPDATE commands SET status = 'EXPIRED' WHERE status = 'QUEUED' AND COALESCE(queued_at, created_at) < $1";
        self.db.execute_raw(stmt(b, sql, Args::new().t(now - policy.expire_after))).await?;
        let sql = "SELECT c.tenant_id, c.id, c.meter_id, c.kind, c.source, c.payload, c.attempts, COALESCE(c.queued_at, c.created_at) AS created_at, t.time_zone FROM commands c JOIN tenants t ON t.id = c.tenant_id
                   WHERE c.kind IN ('TRIP', 'CLOSE', 'HOLD_ON', 'HOLD_OFF', 'READ', 'PURCHASE', 'WRITE', 'TIME_SYNC') AND t.status = 'ACTIVE'
                     AND ((c.status = 'QUEUED' AND COALESCE(c.queued_at, c.created_at) <= $2) OR (c.status IN ('SENT', 'ACKNOWLEDGED') AND c.sent_at < $1))
                     AND NOT EXISTS (SELECT 1 FROM meter_live l WHERE l.tenant_id = c.tenant_id AND l.meter_id = c.meter_id AND l.link_state = 'LOST')
                     AND NOT (c.kind = 'READ' AND c.status = 'QUEUED' AND EXISTS (SELECT 1 FROM commands o WHERE o.tenant_id = c.tenant_id
                       AND o.meter_id = c.meter_id AND o.kind = 'READ' AND o.status IN ('SENT', 'ACKNOWLEDGED') AND o.id <> c.id))
                   ORDER BY CASE WHEN c.kind IN ('TRIP', 'CLOSE', 'HOLD_ON', 'HOLD_OFF') THEN 0 ELSE 1 END, COALESCE(c.queued_at, c.created_at)
                   LIMIT 200";
        let rows = self.db.query_all_raw(stmt(b, sql, Args::new().t(stale).t(now))).await?;
        rows.iter()
            .map(|r| {
                let tz: String = r.try_get("", "time_zone")?;
                let kind: String = r.try_get("", "kind")?;
                Ok(DueCommand {
                    tenant_id: r.try_get("", "tenant_id")?,
                    id: r.try_get("", "id")?,
                    meter_id: r.try_get("", "meter_id")?,
                    // Only known kinds are selected above; a row that says otherwise is corrupt.
                    kind: domain::control::CommandKind::parse(&kind)
                        .ok_or_else(|| super::StoreError::Database(format!("unknown command kind {kind:?}")))?,
                    source: r.try_get("", "source")?,
                    payload: r.try_get("", "payload")?,
                    attempts: super::registry::int(r, "attempts")?,
                    tz: tz.parse().unwrap_or(chrono_tz::Asia::Shanghai),
                    created_at: r.try_get("", "created_at")?,
                })
            })
            .collect()
    }

    /// A meter replied to a command: the oldest command of that family (remote control 0x1C,
    /// parameter write 0x14, wallet purchase 0x03) sent to it and not yet answered becomes
    /// `ACKNOWLEDGED` — a write or purchase `CONFIRMED`, as the meter checked its MAC and
    /// counter before answering — or `FAILED` with the meter's error bits.
    pub async fn command_replied(
        &self,
        tenant: &str,
        meter: &str,
        function: u8,
        refused: Option<&[&str]>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let b = self.backend();
        use dlt645::function as f;
        let (kinds, final_on_reply) = match function {
            f::SECURITY => ("('PURCHASE')", true),
            f::WRITE => ("('WRITE')", true),
            _ => ("('TRIP', 'CLOSE', 'HOLD_ON', 'HOLD_OFF')", false),
        };
        let sql = format!(
            "SELECT id FROM commands WHERE tenant_id = $1 AND meter_id = $2 AND status = 'SENT' AND kind IN {kinds}
             AND sent_at <= $3 ORDER BY sent_at, id LIMIT 1"
        );
        let Some(r) = self.db.query_one_raw(stmt(b, &sql, Args::new().s(tenant).s(meter).t(at))).await? else { return Ok(()) };
        let id: String = r.try_get("", "id")?;
        match refused {
            None if final_on_reply => {
                let sql = "UPDATE commands SET status = 'CONFIRMED', confirmed_at = $3, replied_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'SENT'";
                self.db.execute_raw(stmt(b, sql, Args::new().s(tenant).s(id).t(at))).await?;
            }
            None => {
                let sql =
                    "UPDATE commands SET status = 'ACKNOWLEDGED', replied_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'SENT'";
                self.db.execute_raw(stmt(b, sql, Args::new().s(tenant).s(id).t(at))).await?;
            }
            Some(bits) => {
                let why = format!("refused by the meter: {}", if bits.is_empty() { "no error bits".to_string() } else { bits.join(", ") });
                let sql = "UPDATE commands SET status = 'FAILED', replied_at = $4, reason = reason || ' — ' || $3 WHERE tenant_id = $1 AND id = $2 AND status = 'SENT'";
                tracing::warn!(tenant, meter, command = %id, reason = %why, "command FAILED");
                self.db.execute_raw(stmt(b, sql, Args::new().s(tenant).s(id).s(why).t(at))).await?;
            }
        }
        Ok(())
    }

    /// Claims a due command for one attempt: it becomes `SENT` with one more attempt, unless
    /// another server (or an earlier pass) took that attempt first — then false and this
    /// server leaves it alone, so no command goes on the wire twice for one attempt.
    pub async fn claim_command(&self, tenant: &str, id: &str, attempts: i64, now: DateTime<Utc>) -> Result<bool> {
        let sql = "UPDATE commands SET status = 'SENT', sent_at = $4, attempts = attempts + 1
                   WHERE tenant_id = $1 AND id = $2 AND attempts = $3 AND status IN ('QUEUED', 'SENT', 'ACKNOWLEDGED')";
        let args = Args::new().s(tenant).s(id).i(attempts).t(now);
        Ok(self.db.execute_raw(stmt(self.backend(), sql, args)).await?.rows_affected() == 1)
    }

    /// Records when a claimed command went on the wire.
    pub async fn mark_sent(&self, tenant: &str, id: &str, now: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE commands SET sent_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'SENT'";
        self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(tenant).s(id).t(now))).await?;
        Ok(())
    }

    /// Gives back a claimed attempt that never reached the broker: the command is due again
    /// at once (`retry_at` lies before the retry window), its attempt not counted.
    pub async fn unclaim_command(&self, tenant: &str, id: &str, retry_at: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE commands SET attempts = attempts - 1,
                     status = CASE WHEN attempts = 1 THEN 'QUEUED' ELSE status END,
                     sent_at = CASE WHEN attempts = 1 THEN NULL ELSE $3 END
                   WHERE tenant_id = $1 AND id = $2 AND status = 'SENT' AND attempts > 0";
        self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(tenant).s(id).t(retry_at))).await?;
        Ok(())
    }

    /// Ends a command that cannot be sent (no device route, bad address).
    pub async fn mark_failed(&self, tenant: &str, id: &str, reason: &str) -> Result<()> {
        metrics::counter!("voltledger_commands_total", "state" => "FAILED").increment(1);
        let sql = "UPDATE commands SET status = 'FAILED', reason = reason || ' — ' || $3 WHERE tenant_id = $1 AND id = $2";
        self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(tenant).s(id).s(reason))).await?;
        Ok(())
    }

    /// Confirms sent relay commands whose meter reported the wanted relay state in a reading
    /// taken after the command was sent (by the meter's clock). Reads and time syncs are
    /// confirmed by their answers (`profiles.rs`). Returns how many.
    pub async fn confirm_relays(&self, now: DateTime<Utc>) -> Result<u64> {
        let sql = "UPDATE commands SET status = 'CONFIRMED', confirmed_at = $1
                   WHERE status IN ('SENT', 'ACKNOWLEDGED') AND kind IN ('TRIP', 'CLOSE', 'HOLD_ON', 'HOLD_OFF') AND EXISTS (
                     SELECT 1 FROM meter_live l WHERE l.tenant_id = commands.tenant_id AND l.meter_id = commands.meter_id
                       AND l.read_at > commands.sent_at AND l.status_word_3 IS NOT NULL
                       AND ((commands.kind = 'TRIP' AND (l.status_word_3 & 16) <> 0) OR (commands.kind = 'CLOSE' AND (l.status_word_3 & 16) = 0)
                         OR (commands.kind = 'HOLD_ON' AND (l.status_word_3 & 4096) <> 0) OR (commands.kind = 'HOLD_OFF' AND (l.status_word_3 & 4096) = 0)))";
        let confirmed = self.db.execute_raw(stmt(self.backend(), sql, Args::new().t(now))).await?.rows_affected();
        metrics::counter!("voltledger_commands_total", "state" => "CONFIRMED").increment(confirmed);
        Ok(confirmed)
    }

    /// Meters with a profile of their own (standard, Modbus, vendor meters: they may never
    /// push) are read back once a relay command is acknowledged, so its confirmation does not
    /// wait for the next poll. Returns how many reads were queued.
    pub async fn read_back_acknowledged(&self, now: DateTime<Utc>) -> Result<usize> {
        let sql = "SELECT DISTINCT c.tenant_id, c.meter_id, m.account_id FROM commands c
                     JOIN meters m ON m.tenant_id = c.tenant_id AND m.id = c.meter_id AND m.profile_id IS NOT NULL
                   WHERE c.status = 'ACKNOWLEDGED' AND c.kind IN ('TRIP', 'CLOSE', 'HOLD_ON', 'HOLD_OFF') AND c.replied_at <= $1
                     AND NOT EXISTS (SELECT 1 FROM commands r WHERE r.tenant_id = c.tenant_id AND r.meter_id = c.meter_id
                                     AND r.kind = 'READ' AND r.created_at >= c.replied_at)";
        let rows = self.db.query_all_raw(stmt(self.backend(), sql, Args::new().t(now - chrono::Duration::seconds(2)))).await?;
        let mut records = Vec::with_capacity(rows.len());
        for r in &rows {
            let tenant: String = r.try_get("", "tenant_id")?;
            let Some(t) = TenantId::parse(&tenant) else { continue };
            let meter: String = r.try_get("", "meter_id")?;
            let mut c = self.tenant(t).command_record(
                &meter,
                r.try_get("", "account_id")?,
                "READ",
                "CONFIRM",
                "reading the relay back after an acknowledged command",
            );
            c.created_at = now;
            records.push(c);
        }
        if !records.is_empty() {
            insert_commands(&self.db, &records).await?;
            self.commands.submit(&records);
        }
        Ok(records.len())
    }

    /// The device login a meter's frames travel under, and its address (from the routing cache).
    pub fn device_of(&self, tenant: &str, meter: &str) -> Option<(String, dlt645::Address)> {
        let caches = self.caches.read().ok()?;
        let (user, address) = caches.downlinks.get(&(tenant.to_string(), meter.to_string()))?;
        dlt645::Address::from_u64(*address).map(|a| (user.clone(), a))
    }
}

// ---- a tenant's commands: operator commands, the history, cancel and re-send ----

impl TenantStore {
    /// An operator's relay command for one meter (TRIP, CLOSE, HOLD_ON, HOLD_OFF): queued
    /// and sent by the dispatcher like the automatic ones.
    pub async fn operator_command(&self, meter: &MeterId, kind: &str, reason: &str) -> Result<CommandRow> {
        if !domain::control::COMMAND_KINDS.contains(&kind) {
            return Err(conflict(format!("unknown command kind {kind:?}")));
        }
        let sql = "SELECT account_id FROM meters WHERE tenant_id = $1 AND id = $2 AND retired_at IS NULL";
        let r = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(meter.as_str()))).await?.ok_or(StoreError::NotFound)?;
        let record = self.command_record(meter.as_str(), r.try_get("", "account_id")?, kind, "OPERATOR", reason);
        insert_commands(&self.db(), std::slice::from_ref(&record)).await?;
        self.store.commands.submit(std::slice::from_ref(&record));
        self.command(&record.id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn command(&self, id: &str) -> Result<Option<CommandRow>> {
        Ok(self.commands_where(" AND id = $2", self.args().s(id), 1).await?.pop())
    }

    /// Cancels a command not yet confirmed (QUEUED or SENT); a frame already on the wire may
    /// still reach the meter.
    pub async fn cancel_command(&self, id: &CommandId) -> Result<CommandRow> {
        self.move_command(id, "CANCELLED", "status IN ('QUEUED', 'SENT', 'ACKNOWLEDGED')", "only a queued or sent command can be cancelled")
            .await
    }

    /// Queues a failed, timed-out or cancelled command again with fresh attempts (re-send).
    pub async fn resend_command(&self, id: &CommandId) -> Result<CommandRow> {
        self.move_command(
            id,
            "QUEUED",
            "status IN ('FAILED', 'TIMED_OUT', 'CANCELLED')",
            "only a failed, timed-out or cancelled command can be re-sent",
        )
        .await
    }

    async fn move_command(&self, id: &CommandId, to: &str, from: &str, refusal: &str) -> Result<CommandRow> {
        let sql = format!(
            "UPDATE commands SET status = $3, attempts = CASE WHEN $3 = 'QUEUED' THEN 0 ELSE attempts END WHERE tenant_id = $1 AND id = $2 AND {from}"
        );
        let done = self.db().execute_raw(stmt(self.backend(), &sql, self.args().s(id.as_str()).s(to))).await?;
        let row = self.command(id.as_str()).await?.ok_or(StoreError::NotFound)?;
        if done.rows_affected() == 0 {
            return Err(conflict(format!("{refusal} (it is {})", row.status)));
        }
        if to == "QUEUED" {
            let record = self.command_record(row.meter_id.as_str(), row.account_id.clone(), &row.kind, &row.source, &row.reason);
            self.store.commands.submit(std::slice::from_ref(&record));
        }
        Ok(row)
    }

    /// Commands, newest first, of one meter, in one status, of one kind.
    pub async fn commands_filtered(
        &self,
        meter: Option<&MeterId>,
        status: Option<&str>,
        kind: Option<&str>,
        limit: u64,
    ) -> Result<Vec<CommandRow>> {
        let mut args = self.args();
        let mut cond = String::new();
        if let Some(m) = meter {
            cond += &format!(" AND meter_id = ${}", args.push(m.as_str().to_string().into()));
        }
        if let Some(s) = status {
            cond += &format!(" AND status = ${}", args.push(s.to_string().into()));
        }
        if let Some(k) = kind {
            cond += &format!(" AND kind = ${}", args.push(k.to_string().into()));
        }
        self.commands_where(&cond, args, limit).await
    }

    pub(crate) async fn commands_where(&self, cond: &str, mut args: Args, limit: u64) -> Result<Vec<CommandRow>> {
        // A scoped operator sees the commands of its properties' meters.
        let scope = self.scope_clause("sm.property_id", &mut args);
        let cond = if scope.is_empty() {
            cond.to_string()
        } else {
            format!("{cond} AND meter_id IN (SELECT sm.id FROM meters sm WHERE sm.tenant_id = $1{scope})")
        };
        let sql = format!(
            "SELECT id, meter_id, account_id, kind, source, reason, payload, status, attempts, created_at, sent_at, replied_at, confirmed_at,
                    COALESCE((SELECT am.address FROM meters am WHERE am.tenant_id = commands.tenant_id AND am.id = commands.meter_id), '') AS meter_address
             FROM commands WHERE tenant_id = $1{cond} ORDER BY created_at DESC, id LIMIT {limit}"
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        rows.iter()
            .map(|r| {
                Ok(CommandRow {
                    id: parse(r, "id", CommandId::parse)?,
                    meter_id: parse(r, "meter_id", MeterId::parse)?,
                    account_id: r.try_get("", "account_id")?,
                    kind: r.try_get("", "kind")?,
                    source: r.try_get("", "source")?,
                    reason: r.try_get("", "reason")?,
                    payload: r.try_get("", "payload")?,
                    status: r.try_get("", "status")?,
                    attempts: super::registry::int(r, "attempts")?,
                    created_at: r.try_get("", "created_at")?,
                    sent_at: r.try_get("", "sent_at")?,
                    replied_at: r.try_get("", "replied_at")?,
                    confirmed_at: r.try_get("", "confirmed_at")?,
                    meter_address: r.try_get("", "meter_address")?,
                })
            })
            .collect()
    }
}
