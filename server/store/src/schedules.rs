//! Scheduled reports (issue 19): a tenant's schedules and their runs. A run is made once per
//! schedule and period (unique), sent by the scheduler (the server's `report schedules` job)
//! and retried with the forwarder's backoff until a day has passed, then DEAD; every attempt
//! leaves its error on the run, so failures are visible in the portal.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{ConnectionTrait, QueryResult};

use super::registry::{int, opt_int};
use super::sql::{Args, stmt};
use super::{Result, Store, StoreError, TenantStore};
use domain::ids::*;
use domain::schedule::{Cadence, next_run};

/// A scheduled report (定时报表).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub id: String,
    pub name: String,
    /// The export's name (`sales`, `energy`, …).
    pub report: String,
    /// The export's filters as a query string, without the range.
    pub params: String,
    /// xlsx or csv.
    pub format: String,
    /// zh or en.
    pub lang: String,
    pub cadence: String,
    pub hour: i64,
    /// EMAIL or WEBHOOK.
    pub channel: String,
    pub recipients: Vec<String>,
    pub url: String,
    /// ACTIVE, PAUSED or RETIRED.
    pub state: String,
    pub next_run_at: DateTime<Utc>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// What a new schedule says.
#[derive(Debug, Clone, Default)]
pub struct NewSchedule {
    pub name: String,
    pub report: String,
    pub params: String,
    pub format: String,
    pub lang: String,
    pub cadence: String,
    pub hour: u32,
    pub channel: String,
    pub recipients: Vec<String>,
    pub url: String,
    /// The webhook's HMAC secret (wrapped before it is stored).
    pub secret: Option<String>,
    pub created_by: String,
}

/// One run of a schedule: a period's report, sent or still trying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRun {
    pub id: String,
    pub schedule_id: String,
    pub period_from: DateTime<Utc>,
    pub period_to: DateTime<Utc>,
    /// PENDING, SENT or DEAD.
    pub state: String,
    pub attempts: i64,
    pub next_at: DateTime<Utc>,
    pub last_error: String,
    pub rows_sent: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

const SCHEDULE_COLS: &str =
    "id, name, report, params, format, lang, cadence, hour, channel, recipients, url, state, next_run_at, created_by, created_at";
const RUN_COLS: &str = "id, schedule_id, period_from, period_to, state, attempts, next_at, last_error, rows_sent, created_at, sent_at";

fn schedule_row(r: &QueryResult) -> Result<Schedule> {
    let recipients: String = r.try_get("", "recipients")?;
    Ok(Schedule {
        id: r.try_get("", "id")?,
        name: r.try_get("", "name")?,
        report: r.try_get("", "report")?,
        params: r.try_get("", "params")?,
        format: r.try_get("", "format")?,
        lang: r.try_get("", "lang")?,
        cadence: r.try_get("", "cadence")?,
        hour: int(r, "hour")?,
        channel: r.try_get("", "channel")?,
        recipients: recipients.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
        url: r.try_get("", "url")?,
        state: r.try_get("", "state")?,
        next_run_at: r.try_get("", "next_run_at")?,
        created_by: r.try_get("", "created_by")?,
        created_at: r.try_get("", "created_at")?,
    })
}

fn run_row(r: &QueryResult) -> Result<ScheduleRun> {
    Ok(ScheduleRun {
        id: r.try_get("", "id")?,
        schedule_id: r.try_get("", "schedule_id")?,
        period_from: r.try_get("", "period_from")?,
        period_to: r.try_get("", "period_to")?,
        state: r.try_get("", "state")?,
        attempts: int(r, "attempts")?,
        next_at: r.try_get("", "next_at")?,
        last_error: r.try_get("", "last_error")?,
        rows_sent: opt_int(r, "rows_sent")?,
        created_at: r.try_get("", "created_at")?,
        sent_at: r.try_get("", "sent_at")?,
    })
}

impl Store {
    /// Tenants with a schedule due or a run to send (the scheduler's work list).
    pub async fn schedule_work(&self, now: DateTime<Utc>) -> Result<Vec<TenantId>> {
        let sql = "SELECT id FROM tenants n WHERE n.status = 'ACTIVE' AND (
                     EXISTS (SELECT 1 FROM report_schedules s WHERE s.tenant_id = n.id AND s.state = 'ACTIVE' AND s.next_run_at <= $1)
                     OR EXISTS (SELECT 1 FROM report_runs r JOIN report_schedules s ON s.tenant_id = r.tenant_id AND s.id = r.schedule_id
                                WHERE r.tenant_id = n.id AND r.state = 'PENDING' AND r.next_at <= $1 AND s.state = 'ACTIVE'))";
        let rows = self.db.query_all_raw(stmt(self.backend(), sql, Args::new().t(now))).await?;
        rows.iter()
            .map(|r| {
                let t: String = r.try_get("", "id")?;
                TenantId::parse(&t).ok_or_else(|| StoreError::Database("bad tenant id".into()))
            })
            .collect()
    }
}

impl TenantStore {
    async fn zone(&self) -> Result<Tz> {
        Ok(self.tenant_row().await?.time_zone.parse::<Tz>().unwrap_or(chrono_tz::Asia::Shanghai))
    }

    pub async fn create_schedule(&self, s: &NewSchedule, now: DateTime<Utc>) -> Result<Schedule> {
        let cadence = Cadence::parse(&s.cadence)?;
        let id = uuid::Uuid::new_v4().to_string();
        let wrapped = match &s.secret {
            Some(secret) => self.store.kek()?.wrap(&format!("{}/schedule/{id}", self.tenant), secret.as_bytes())?,
            None => String::new(),
        };
        let next = next_run(cadence, s.hour, self.zone().await?, now).due;
        let sql =
            "INSERT INTO report_schedules (tenant_id, id, name, report, params, format, lang, cadence, hour, channel, recipients, url,
                   wrapped_secret, state, next_run_at, created_by, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'ACTIVE', $14, $15, $16)";
        let args = self
            .args()
            .s(&id)
            .s(&s.name)
            .s(&s.report)
            .s(&s.params)
            .s(&s.format)
            .s(&s.lang)
            .s(cadence.as_str())
            .i(i64::from(s.hour))
            .s(&s.channel)
            .s(s.recipients.join(","))
            .s(&s.url)
            .s(wrapped)
            .t(next)
            .s(&s.created_by)
            .t(now);
        self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        self.schedule(&id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn schedule(&self, id: &str) -> Result<Option<Schedule>> {
        let sql = format!("SELECT {SCHEDULE_COLS} FROM report_schedules WHERE tenant_id = $1 AND id = $2");
        self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id))).await?.map(|r| schedule_row(&r)).transpose()
    }

    pub async fn schedules(&self) -> Result<Vec<Schedule>> {
        let sql = format!("SELECT {SCHEDULE_COLS} FROM report_schedules WHERE tenant_id = $1 AND state <> 'RETIRED' ORDER BY name, id");
        self.db().query_all_raw(stmt(self.backend(), &sql, self.args())).await?.iter().map(schedule_row).collect()
    }

    /// The webhook secret, opened (for signing only).
    pub async fn schedule_secret(&self, id: &str) -> Result<String> {
        let sql = "SELECT wrapped_secret FROM report_schedules WHERE tenant_id = $1 AND id = $2";
        let r = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(id))).await?.ok_or(StoreError::NotFound)?;
        let wrapped: String = r.try_get("", "wrapped_secret")?;
        if wrapped.is_empty() {
            return Ok(String::new());
        }
        let secret = self.store.kek()?.unwrap(&format!("{}/schedule/{id}", self.tenant), &wrapped)?;
        String::from_utf8(secret).map_err(|_| StoreError::Database("secret is not text".into()))
    }

    /// ACTIVE (the next run recomputed from now), PAUSED or RETIRED.
    pub async fn set_schedule_state(&self, id: &str, state: &str, now: DateTime<Utc>) -> Result<Schedule> {
        let s = self.schedule(id).await?.filter(|s| s.state != "RETIRED").ok_or(StoreError::NotFound)?;
        let next = match state {
            "ACTIVE" => next_run(Cadence::parse(&s.cadence)?, s.hour.clamp(0, 23) as u32, self.zone().await?, now).due,
            _ => s.next_run_at,
        };
        let sql = "UPDATE report_schedules SET state = $3, next_run_at = $4 WHERE tenant_id = $1 AND id = $2";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id).s(state).t(next))).await?;
        self.schedule(id).await?.ok_or(StoreError::NotFound)
    }

    /// Makes the runs of every active schedule whose time has come (one per period: a run
    /// made twice is one row) and moves each schedule to its next time. Answers how many runs
    /// were made.
    pub async fn make_due_runs(&self, now: DateTime<Utc>) -> Result<usize> {
        let tz = self.zone().await?;
        let sql = format!("SELECT {SCHEDULE_COLS} FROM report_schedules WHERE tenant_id = $1 AND state = 'ACTIVE' AND next_run_at <= $2");
        let due: Vec<Schedule> = self
            .db()
            .query_all_raw(stmt(self.backend(), &sql, self.args().t(now)))
            .await?
            .iter()
            .map(schedule_row)
            .collect::<Result<_>>()?;
        let mut made = 0;
        for s in due {
            let cadence = Cadence::parse(&s.cadence)?;
            let hour = s.hour.clamp(0, 23) as u32;
            // The run of the period that ended before the due time (after downtime: the latest
            // one only — a schedule does not flood its recipients with every missed period).
            let run = next_run(cadence, hour, tz, s.next_run_at);
            let insert = match self.backend() {
                sea_orm::DatabaseBackend::Postgres => {
                    "INSERT INTO report_runs (tenant_id, id, schedule_id, period_from, period_to, state, next_at, created_at)
                     VALUES ($1, $2, $3, $4, $5, 'PENDING', $6, $6) ON CONFLICT (tenant_id, schedule_id, period_from) DO NOTHING"
                }
                _ => {
                    "INSERT OR IGNORE INTO report_runs (tenant_id, id, schedule_id, period_from, period_to, state, next_at, created_at)
                     VALUES ($1, $2, $3, $4, $5, 'PENDING', $6, $6)"
                }
            };
            let args = self.args().s(uuid::Uuid::new_v4().to_string()).s(&s.id).t(run.from).t(run.to).t(now);
            made += self.db().execute_raw(stmt(self.backend(), insert, args)).await?.rows_affected() as usize;
            let next = next_run(cadence, hour, tz, now + chrono::Duration::seconds(1)).due;
            let sql = "UPDATE report_schedules SET next_run_at = $3 WHERE tenant_id = $1 AND id = $2";
            self.db().execute_raw(stmt(self.backend(), sql, self.args().s(&s.id).t(next))).await?;
        }
        Ok(made)
    }

    /// Runs to send now (pending, their time come, their schedule active), oldest first.
    pub async fn due_runs(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<(Schedule, ScheduleRun)>> {
        let cols = RUN_COLS.split(", ").map(|c| format!("r.{c} AS r_{c}")).collect::<Vec<_>>().join(", ");
        let scols = SCHEDULE_COLS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {scols}, {cols} FROM report_runs r JOIN report_schedules s ON s.tenant_id = r.tenant_id AND s.id = r.schedule_id
             WHERE r.tenant_id = $1 AND r.state = 'PENDING' AND r.next_at <= $2 AND s.state = 'ACTIVE'
             ORDER BY r.next_at, r.id LIMIT {}",
            limit.clamp(1, 100)
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, self.args().t(now))).await?;
        rows.iter()
            .map(|r| {
                let run = ScheduleRun {
                    id: r.try_get("", "r_id")?,
                    schedule_id: r.try_get("", "r_schedule_id")?,
                    period_from: r.try_get("", "r_period_from")?,
                    period_to: r.try_get("", "r_period_to")?,
                    state: r.try_get("", "r_state")?,
                    attempts: int(r, "r_attempts")?,
                    next_at: r.try_get("", "r_next_at")?,
                    last_error: r.try_get("", "r_last_error")?,
                    rows_sent: opt_int(r, "r_rows_sent")?,
                    created_at: r.try_get("", "r_created_at")?,
                    sent_at: r.try_get("", "r_sent_at")?,
                };
                Ok((schedule_row(r)?, run))
            })
            .collect()
    }

    /// Takes a due run for sending: its next attempt moves `lease` ahead, so another worker
    /// (or pass) does not send it too; a worker that dies mid-send leaves it to be retried
    /// when the lease ends. Answers whether this caller got it.
    pub async fn claim_run(&self, run: &str, now: DateTime<Utc>, lease: chrono::Duration) -> Result<bool> {
        let sql = "UPDATE report_runs SET next_at = $3 WHERE tenant_id = $1 AND id = $2 AND state = 'PENDING' AND next_at <= $4";
        let args = self.args().s(run).t(now + lease).t(now);
        Ok(self.db().execute_raw(stmt(self.backend(), sql, args)).await?.rows_affected() == 1)
    }

    pub async fn run_sent(&self, run: &str, rows: i64, now: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE report_runs SET state = 'SENT', attempts = attempts + 1, sent_at = $3, rows_sent = $4, last_error = ''
                   WHERE tenant_id = $1 AND id = $2 AND state = 'PENDING'";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().s(run).t(now).i(rows))).await?;
        Ok(())
    }

    /// A failed attempt: retried with backoff, DEAD once a day has passed since the run was
    /// made (or at once when `permanent`: the report itself cannot be made).
    pub async fn run_failed(&self, run: &ScheduleRun, error: &str, permanent: bool, now: DateTime<Utc>) -> Result<()> {
        let attempts = run.attempts + 1;
        let dead = permanent || now - run.created_at >= chrono::Duration::hours(24);
        let next = now + super::forwarding::backoff(attempts);
        let error: String = error.chars().take(500).collect();
        let sql = "UPDATE report_runs SET state = $3, attempts = $4, next_at = $5, last_error = $6 WHERE tenant_id = $1 AND id = $2 AND state = 'PENDING'";
        let args = self.args().s(&run.id).s(if dead { "DEAD" } else { "PENDING" }).i(attempts).t(next).s(error);
        self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        Ok(())
    }

    /// A schedule's runs, newest period first.
    pub async fn schedule_runs(&self, schedule: &str, limit: u64) -> Result<Vec<ScheduleRun>> {
        let sql = format!(
            "SELECT {RUN_COLS} FROM report_runs WHERE tenant_id = $1 AND schedule_id = $2 ORDER BY period_from DESC, id LIMIT {}",
            limit.clamp(1, 200)
        );
        self.db().query_all_raw(stmt(self.backend(), &sql, self.args().s(schedule))).await?.iter().map(run_row).collect()
    }

    /// Queues a run of a schedule now for a period of the caller's choice (「立即发送」 / a
    /// resend): a new run even if that period was sent before.
    pub async fn run_schedule_now(
        &self,
        schedule: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<ScheduleRun> {
        self.schedule(schedule).await?.filter(|s| s.state != "RETIRED").ok_or(StoreError::NotFound)?;
        let id = uuid::Uuid::new_v4().to_string();
        // A resend of a period already run replaces its row (the unique key is per period).
        let sql = "DELETE FROM report_runs WHERE tenant_id = $1 AND schedule_id = $2 AND period_from = $3";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().s(schedule).t(from))).await?;
        let sql = "INSERT INTO report_runs (tenant_id, id, schedule_id, period_from, period_to, state, next_at, created_at)
                   VALUES ($1, $2, $3, $4, $5, 'PENDING', $6, $6)";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().s(&id).s(schedule).t(from).t(to).t(now))).await?;
        let sql = format!("SELECT {RUN_COLS} FROM report_runs WHERE tenant_id = $1 AND id = $2");
        let r = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(&id))).await?.ok_or(StoreError::NotFound)?;
        run_row(&r)
    }
}
