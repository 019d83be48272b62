//! Periodic platform work: one table of jobs ([`table`]) and one supervisor per lane.
//!
//! A job runs when its period has passed since it last ran (its first run at start-up, after
//! its offset). Jobs of a lane run one after another, so a lane's jobs never overlap; the two
//! lanes keep a slow payment channel from holding up alarms. A job's error is logged with
//! the job's name and its lane goes on; a lane that panics is restarted by its supervisor,
//! which logs which job was running and why it ended.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    Job { name, lane, every: Duration::from_secs(every_s), offset: Duration::from_secs(offset_s), run: Arc::new(move || Box::pin(f())) }
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
        job("credential cache", Lane::Core, 5, 0, {
            let s = s.clone();
            move || {
                let s = s.clone();
                async move { s.reload_caches().await.map_err(|e| e.to_string()) }
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

/// Runs a lane's jobs for ever; `running` names the job in progress (for the supervisor).
async fn run_lane(jobs: Vec<Job>, running: Arc<Mutex<&'static str>>) {
    let started = Instant::now();
    let mut last: Vec<Option<Instant>> = vec![None; jobs.len()];
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for (i, j) in jobs.iter().enumerate() {
            let now = Instant::now();
            if !due(now, started, last[i], j.every, j.offset) {
                continue;
            }
            last[i] = Some(now);
            if let Ok(mut r) = running.lock() {
                *r = j.name;
            }
            if let Err(e) = (j.run)().await {
                tracing::warn!(job = j.name, lane = j.lane.name(), error = %e, "job failed");
            }
        }
    }
}

/// Starts one supervised task per lane: a lane that ends (a panic in a job) is logged with
/// the job it was running and started again.
pub fn spawn(jobs: Vec<Job>) -> Vec<tokio::task::JoinHandle<()>> {
    [Lane::Core, Lane::Payments, Lane::Forwarding]
        .into_iter()
        .map(|lane| {
            let mine: Vec<Job> = jobs.iter().filter(|j| j.lane == lane).cloned().collect();
            tokio::spawn(async move {
                loop {
                    let running = Arc::new(Mutex::new("(between jobs)"));
                    let ended = tokio::spawn(run_lane(mine.clone(), running.clone())).await;
                    let job = running.lock().map(|r| *r).unwrap_or("(unknown)");
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
        let handles = spawn(vec![flaky]);
        tokio::time::sleep(Duration::from_millis(3_500)).await;
        assert!(runs.load(std::sync::atomic::Ordering::SeqCst) >= 2, "the lane ran again after the panic");
        for h in handles {
            h.abort();
        }
    }
}
