//! Leases on periodic platform work (issue 21): a job runs once per period across every
//! worker replica. A run is claimed in `job_leases` by one statement that succeeds only when
//! the period has passed since the last claimed run and no other holder's lease is live; the
//! holder renews the lease while it runs and gives it back when the run ends. A worker that
//! dies mid-run loses its lease when it lapses, and another worker takes the job.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::{Args, Result, stmt};

/// What claiming a job's run came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This holder runs the job now (the run's number, counted across workers).
    Run(i64),
    /// Another worker ran it within the period, or is running it.
    Skip,
}

/// How long a claimed run's lease lasts without renewal.
pub const LEASE: Duration = Duration::from_secs(30);

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl super::PlatformStore {
    /// Claims job `name`'s run at `now` for `holder` when `every` has passed since the last
    /// claimed run (less a tolerance of a tenth of the period, at most a second, for the
    /// workers' ticks) and no live lease is held by another.
    pub async fn claim_job(&self, name: &str, holder: &str, every: Duration, now: DateTime<Utc>) -> Result<Claim> {
        let tolerance = (every / 10).min(Duration::from_secs(1));
        let since = now - chrono(every) + chrono(tolerance);
        let sql = "INSERT INTO job_leases (name, holder, started_at, lease_until, runs) VALUES ($1, $2, $3, $4, 1)
                   ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, started_at = excluded.started_at,
                     lease_until = excluded.lease_until, runs = job_leases.runs + 1
                   WHERE job_leases.started_at <= $5 AND (job_leases.lease_until <= $3 OR job_leases.holder = $2)
                   RETURNING runs";
        let args = Args::new().s(name).s(holder).t(now).t(now + chrono(LEASE)).t(since);
        let row = self.db.query_one_raw(stmt(self.backend(), sql, args)).await?;
        match row {
            Some(r) => Ok(Claim::Run(r.try_get("", "runs")?)),
            None => Ok(Claim::Skip),
        }
    }

    /// Keeps `holder`'s lease on a running job alive for another [`LEASE`]; false when the
    /// lease was lost (it lapsed and another worker took the job).
    pub async fn renew_job(&self, name: &str, holder: &str, now: DateTime<Utc>) -> Result<bool> {
        let sql = "UPDATE job_leases SET lease_until = $3 WHERE name = $1 AND holder = $2";
        let done = self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(name).s(holder).t(now + chrono(LEASE)))).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives a finished run's lease back (the period still counts from its start).
    pub async fn release_job(&self, name: &str, holder: &str, now: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE job_leases SET lease_until = $3 WHERE name = $1 AND holder = $2";
        self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(name).s(holder).t(now))).await?;
        Ok(())
    }

    /// Claims the long-held lease `name` (the exclusive uplink) for `holder` until `now +
    /// ttl` when it is free, has lapsed, or is already `holder`'s; true when `holder` holds it
    /// now. Each takeover counts as a run in [`Self::job_runs`].
    pub async fn claim_lease(&self, name: &str, holder: &str, ttl: Duration, now: DateTime<Utc>) -> Result<bool> {
        let sql = "INSERT INTO job_leases (name, holder, started_at, lease_until, runs) VALUES ($1, $2, $3, $4, 1)
                   ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until,
                     started_at = CASE WHEN job_leases.holder = excluded.holder THEN job_leases.started_at ELSE excluded.started_at END,
                     runs = job_leases.runs + CASE WHEN job_leases.holder = excluded.holder THEN 0 ELSE 1 END
                   WHERE job_leases.lease_until <= $3 OR job_leases.holder = $2
                   RETURNING runs";
        let args = Args::new().s(name).s(holder).t(now).t(now + chrono(ttl));
        Ok(self.db.query_one_raw(stmt(self.backend(), sql, args)).await?.is_some())
    }

    /// Extends `holder`'s lease `name` to `now + ttl`; false when another holds it now.
    pub async fn renew_lease(&self, name: &str, holder: &str, ttl: Duration, now: DateTime<Utc>) -> Result<bool> {
        let sql = "UPDATE job_leases SET lease_until = $3 WHERE name = $1 AND holder = $2";
        let done = self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(name).s(holder).t(now + chrono(ttl)))).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Who holds lease `name` until when, if anyone has claimed it.
    pub async fn lease_holder(&self, name: &str) -> Result<Option<(String, DateTime<Utc>)>> {
        let sql = "SELECT holder, lease_until FROM job_leases WHERE name = $1";
        let row = self.db.query_one_raw(stmt(self.backend(), sql, Args::new().s(name))).await?;
        row.map(|r| Ok((r.try_get("", "holder")?, r.try_get("", "lease_until")?))).transpose()
    }

    /// Every job's claimed runs so far, by name (operators and the drills read it).
    pub async fn job_runs(&self) -> Result<Vec<(String, i64, DateTime<Utc>)>> {
        let rows =
            self.db.query_all_raw(stmt(self.backend(), "SELECT name, runs, started_at FROM job_leases ORDER BY name", Args::new())).await?;
        rows.iter().map(|r| Ok((r.try_get("", "name")?, r.try_get("", "runs")?, r.try_get("", "started_at")?))).collect()
    }
}
