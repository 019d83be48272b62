//! Periodic platform work: one table of jobs ([`table`]) and one supervisor per lane.
//!
//! A job runs when its period has passed since it last ran (its first run at start-up, after
//! its offset). Jobs of a lane run one after another, so a lane's jobs never overlap; the two
//! lanes keep a slow payment channel from holding up alarms. A job's error is logged with
//! the job's name and its lane goes on; a lane that panics is restarted by its supervisor,
//! which logs which job was running and why it ended.
//!
//! Platform work (everything but the process's own cache refresh) runs once per period across
//! every worker replica: before a run the job is claimed in the database
//! ([`crate::store::PlatformStore::claim_job`]); a replica whose claim fails skips the run. The
//! lease is renewed while the job runs and given back when it ends. On drain a lane finishes
//! the job it is running and starts no other.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::store::Store;

type Run = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// One periodic job.
#[derive(Clone)]
pub struct Job {
    pub name: &'static str,
    pub lane: Lane,
    pub every: Duration,
    /// Wait before the first run (spreads jobs that share a period).
    pub offset: Duration,
    /// Platform work, run once per period across replicas (leased); else every process's own.
    pub shared: bool,
    run: Run,
}

/// Jobs of a lane run one after another; lanes run side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Link state, polling, alarms, messages, caches, freezes, monthly fees.
    Core,
    /// Work that talks to the payment channels.
    Payments,
    /// Deliveries to park platforms (a slow receiver holds up nothing else).
    Forwarding,
}

impl Lane {
    fn name(self) -> &'static str {
        match self {
            Lane::Core => "core",
            Lane::Payments => "payments",
            Lane::Forwarding => "forwarding",
        }
    }
}

fn job<F, Fut>(name: &'static str, lane: Lane, every_s: u64, offset_s: u64, f: F) -> Job
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    Job {
        name,
        lane,
        every: Duration::from_secs(every_s),
        offset: Duration::from_secs(offset_s),
        shared: true,
        run: Arc::new(move || Box::pin(f())),
    }
}

/// The process's own jobs (never leased): what every role needs whatever else it runs.
pub fn local(store: &Store) -> Vec<Job> {
    let s = store.clone();
    let mut refresh = job("credential cache", Lane::Core, 5, 0, move || {
        let s = s.clone();
        async move { s.reload_caches().await.map_err(|e| e.to_string()) }
    });
    refresh.shared = false;
    let s = store.clone();
    let mut sample = job("metrics sample", Lane::Core, 15, 0, move || {
        let s = s.clone();
        async move {
            // Rendering folds the histograms' samples into their buckets: without a scrape
            // they would pile up in memory.
            if let Some(h) = crate::app::metrics_handle() {
                drop(h.render());
            }
            let (in_use, idle) = s.pool_use();
            metrics::gauge!("voltledger_db_pool_connections", "state" => "in_use").set(f64::from(in_use));
            metrics::gauge!("voltledger_db_pool_connections", "state" => "idle").set(f64::from(idle));
            let backlog = s.forward_backlog().await.map_err(|e| e.to_string())?;
            metrics::gauge!("voltledger_forwarding_backlog").set(backlog as f64);
            Ok(())
        }
    });
    sample.shared = false;
    vec![refresh, sample]
}

/// A task aborted when its handle is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How a process's lanes claim platform work.
#[derive(Clone)]
pub struct Leases {
    pub store: Store,
    /// This replica's name in `job_leases` (host, process, a random part).
    pub holder: String,
}

impl Leases {
    pub fn new(store: &Store) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
        Self { store: store.clone(), holder: format!("{host}-{}-{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8]) }
    }
}

/// Whether a job whose last run started at `last` (never: `None`, started at `started`) is due.
pub fn due(now: Instant, started: Instant, last: Option<Instant>, every: Duration, offset: Duration) -> bool {
    match last {
        None => now.duration_since(started) >= offset,
        Some(at) => now.duration_since(at) >= every,
    }
}

/// Every periodic job of the platform.
pub fn table(store: &Store, sms: reqwest::Client, mail: Option<connectors::mail::MailConfig>) -> Vec<Job> {
    let now = chrono::Utc::now;
    let wechat_tokens = Arc::new(crate::wechat::TokenCache::default());
    let reports_client = sms.clone();
    let s = store.clone();
    let mut jobs = vec![
        job("link state", Lane::Core, 5, 0, {
            let s = s.clone();
            move || {
                let s = s.clone();
                async move { s.platform().sweep_link_state(now()).await.map(drop).map_err(|e| e.to_string()) }
            }
        }),
        job("polling", Lane::Core, 5, 0, {
            let s = s.clone();
            move || {
                let s = s.clone();
                async move { s.platform().poll_due(now(), 5).await.map(drop).map_err(|e| e.to_string()) }
            }
        }),
        job("alarms", Lane::Core, 5, 0, {
            let s = s.clone();
            move || {
                let s = s.clone();
                async move {
                    let events = s.platform().evaluate_alarms(now()).await.map_err(|e| e.to_string())?;
                    s.platform().enqueue_notifications(&events, now()).await.map(drop).map_err(|e| e.to_string())
                }
            }
        }),
        // A failed automatic cut-off is tried again (5 min, 15 min, then hourly) and alarmed.
        job("cut-off retries", Lane::Core, 60, 20, {
            let s = s.clone();
            move || {
                let s = s.clone();
                async move { s.platform().retry_failed_trips(now()).await.map(drop).map_err(|e| e.to_string()) }
            }
        }),
        job("sms delivery", Lane::Core, 5, 0, {
            let s = s.clone();
            move || {
                let (s, sms) = (s.clone(), sms.clone());
                async move { crate::notify::deliver_due(&s, &sms, now()).await.map(drop).map_err(|e| e.to_string()) }
            }
        }),
        job("wechat delivery", Lane::Core, 5, 0, {
            let s = s.clone();
            move || {
                let (s, tokens) = (s.clone(), wechat_tokens.clone());
                async move { crate::notify::deliver_wechat_due(&s, &tokens, now()).await.map(drop).map_err(|e| e.to_string()) }
            }
        }),
        job("register freezes", Lane::Core, 300, 0, {
            let s = s.clone();
            move || {
                let s = s.clone();
                async move { s.platform().freeze_due(now()).await.map(drop).map_err(|e| e.to_string()) }
            }
        }),
        // Keyed per period: checking every five minutes charges each fee once.
        job("monthly fees", Lane::Core, 300, 0, {
            let s = s.clone();
            move || {
                let s = s.clone();
                async move { s.platform().charge_monthly_fees(now()).await.map(drop).map_err(|e| e.to_string()) }
            }
        }),
        job("unpaid orders", Lane::Payments, 5, 0, {
            let s = s.clone();
            move || {
                let s = s.clone();
                async move { crate::pay::sweep_pending(&s, now()).await.map(drop).map_err(|e| e.to_string()) }
            }
        }),
        // WeChat overlaps its certificates for days.
        job("platform certificates", Lane::Payments, 6 * 3600, 15, {
            let s = s.clone();
            move || {
                let s = s.clone();
                async move { crate::pay::certificates::refresh_all(&s, now().timestamp()).await.map(drop).map_err(|e| e.to_string()) }
            }
        }),
        job("forwarding", Lane::Forwarding, 2, 0, {
            let s = s.clone();
            move || {
                let s = s.clone();
                async move { crate::forward::run_pass(&s, now()).await.map(drop) }
            }
        }),
        // Scheduled reports: a slow relay or webhook holds up only forwarding's lane.
        job("report schedules", Lane::Forwarding, 20, 5, {
            let s = s.clone();
            move || {
                let (s, client, mail) = (s.clone(), reports_client.clone(), mail.clone());
                async move { crate::schedules::run_pass(&s, mail.as_ref(), &client, now()).await.map(drop) }
            }
        }),
        // After 10:30 the day's bills exist; looked at every five minutes.
        job("daily reconciliation", Lane::Payments, 300, 10, move || {
            let s = s.clone();
            async move { crate::pay::reconcile_yesterday(&s, now()).await.map(drop).map_err(|e| e.to_string()) }
        }),
    ];
    jobs.sort_by_key(|j| j.lane != Lane::Core);
    jobs
}

/// Runs a lane's jobs until `stop`; `running` names the job in progress (for the supervisor).
async fn run_lane(jobs: Vec<Job>, running: Arc<Mutex<&'static str>>, leases: Option<Leases>, stop: watch::Receiver<bool>) {
    let started = Instant::now();
    let mut last: Vec<Option<Instant>> = vec![None; jobs.len()];
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for (i, j) in jobs.iter().enumerate() {
            if *stop.borrow() {
                return;
            }
            let now = Instant::now();
            if !due(now, started, last[i], j.every, j.offset) {
                continue;
            }
            last[i] = Some(now);
            if let Ok(mut r) = running.lock() {
                *r = j.name;
            }
            run_once(j, leases.as_ref()).await;
            if let Ok(mut r) = running.lock() {
                *r = "(between jobs)";
            }
        }
    }
}

/// One run of a due job: claimed first when it is platform work, its lease renewed while it
/// runs and given back after.
async fn run_once(j: &Job, leases: Option<&Leases>) {
    let lease = match leases.filter(|_| j.shared) {
        None => None,
        Some(l) => match l.store.platform().claim_job(j.name, &l.holder, j.every, chrono::Utc::now()).await {
            Ok(crate::store::Claim::Run(_)) => Some(l),
            Ok(crate::store::Claim::Skip) => {
                metrics::counter!("voltledger_jobs_runs_total", "task" => j.name, "outcome" => "skipped").increment(1);
                return;
            }
            Err(e) => {
                tracing::warn!(job = j.name, error = %e, "claiming a job failed; the run is skipped");
                metrics::counter!("voltledger_jobs_runs_total", "task" => j.name, "outcome" => "failed").increment(1);
                return;
            }
        },
    };
    let begun = Instant::now();
    // The lease is renewed beside the run (never pausing it); a lease found lost is not
    // renewed again (another worker took the job: this run finishes, the next is theirs).
    let renewal = lease.map(|l| {
        let (store, name, holder) = (l.store.clone(), j.name, l.holder.clone());
        AbortOnDrop(tokio::spawn(async move {
            let mut renew = tokio::time::interval(crate::store::LEASE / 3);
            renew.tick().await;
            loop {
                renew.tick().await;
                match store.platform().renew_job(name, &holder, chrono::Utc::now()).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(job = name, "a job's lease was lost while it ran; another worker has the next run");
                        return;
                    }
                    Err(e) => tracing::warn!(job = name, error = %e, "renewing a job's lease failed"),
                }
            }
        }))
    });
    let result = (j.run)().await;
    drop(renewal);
    if let Some(l) = lease
        && let Err(e) = l.store.platform().release_job(j.name, &l.holder, chrono::Utc::now()).await
    {
        tracing::warn!(job = j.name, error = %e, "giving a job's lease back failed; it lapses on its own");
    }
    let took = begun.elapsed();
    metrics::histogram!("voltledger_job_duration_seconds", "task" => j.name).record(took.as_secs_f64());
    // A run longer than a second holds its lane (and on SQLite, perhaps the one writer).
    if took >= SLOW_RUN {
        tracing::info!(job = j.name, ms = took.as_millis() as u64, "a slow job run");
    }
    let outcome = match result {
        Ok(()) => "ran",
        Err(e) => {
            tracing::warn!(job = j.name, lane = j.lane.name(), error = %e, "job failed");
            "failed"
        }
    };
    metrics::counter!("voltledger_jobs_runs_total", "task" => j.name, "outcome" => outcome).increment(1);
}

/// A job run this long is logged.
const SLOW_RUN: Duration = Duration::from_secs(1);

/// Starts one supervised task per lane: a lane that ends (a panic in a job) is logged with
/// the job it was running and started again.
pub fn spawn(jobs: Vec<Job>, leases: Option<Leases>, stop: watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
    [Lane::Core, Lane::Payments, Lane::Forwarding]
        .into_iter()
        .filter(|lane| jobs.iter().any(|j| j.lane == *lane))
        .map(|lane| {
            let mine: Vec<Job> = jobs.iter().filter(|j| j.lane == lane).cloned().collect();
            let (leases, stop) = (leases.clone(), stop.clone());
            tokio::spawn(async move {
                loop {
                    let running = Arc::new(Mutex::new("(between jobs)"));
                    // Aborting the supervisor aborts the lane it runs.
                    let mut lane_task = AbortOnDrop(tokio::spawn(run_lane(mine.clone(), running.clone(), leases.clone(), stop.clone())));
                    let ended = (&mut lane_task.0).await;
                    let job = running.lock().map(|r| *r).unwrap_or("(unknown)");
                    if *stop.borrow() {
                        return;
                    }
                    match ended {
                        Err(e) if e.is_panic() => tracing::error!(lane = lane.name(), job, "a job panicked; its lane restarts"),
                        Err(e) => tracing::error!(lane = lane.name(), job, error = %e, "a job lane ended; it restarts"),
                        Ok(()) => tracing::error!(lane = lane.name(), job, "a job lane returned; it restarts"),
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_runs_after_its_offset_then_once_per_period() {
        let t0 = Instant::now();
        let (every, offset) = (Duration::from_secs(300), Duration::from_secs(10));
        assert!(!due(t0 + Duration::from_secs(9), t0, None, every, offset));
        assert!(due(t0 + Duration::from_secs(10), t0, None, every, offset));
        let ran = t0 + Duration::from_secs(10);
        assert!(!due(ran + Duration::from_secs(299), t0, Some(ran), every, offset));
        assert!(due(ran + Duration::from_secs(300), t0, Some(ran), every, offset));
    }

    #[tokio::test]
    async fn a_panicking_job_is_logged_and_its_lane_restarts() {
        let runs = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counter = runs.clone();
        let flaky = job("flaky", Lane::Core, 0, 0, move || {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                if n == 0 {
                    panic!("first run fails");
                }
                Ok(())
            }
        });
        let (_stop, stopped) = watch::channel(false);
        let handles = spawn(vec![flaky], None, stopped);
        tokio::time::sleep(Duration::from_millis(3_500)).await;
        assert!(runs.load(std::sync::atomic::Ordering::SeqCst) >= 2, "the lane ran again after the panic");
        for h in handles {
            h.abort();
        }
    }
}
