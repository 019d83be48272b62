//! Production roles (issue 21) inside one process: leases that give each period of a job to
//! one worker, and the metrics the API records. The multi-process drills (replicas, kills,
//! restarts) are in `server/tests/drills.rs`.

use std::time::Duration;

use chrono::Utc;
use server::store::Claim;
use tests::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_jobs_period_goes_to_one_worker_and_a_dead_workers_lease_lapses() {
    let app = TestApp::spawn().await;
    let p = app.app.store.platform();
    let every = Duration::from_secs(5);
    let t0 = Utc::now() + chrono::Duration::days(1);
    let at = move |s: i64| t0 + chrono::Duration::seconds(s);
    let job = format!("drill-{}", uuid::Uuid::new_v4().simple());

    assert_eq!(p.claim_job(&job, "a", every, at(0)).await.unwrap(), Claim::Run(1));
    assert_eq!(p.claim_job(&job, "b", every, at(1)).await.unwrap(), Claim::Skip, "a holds the lease");
    p.release_job(&job, "a", at(2)).await.unwrap();
    assert_eq!(p.claim_job(&job, "b", every, at(3)).await.unwrap(), Claim::Skip, "the period has not passed");
    assert_eq!(p.claim_job(&job, "b", every, at(5)).await.unwrap(), Claim::Run(2), "the next period, to whoever asks first");
    // b dies without giving the lease back: nobody runs the job until the lease lapses.
    assert_eq!(p.claim_job(&job, "a", every, at(11)).await.unwrap(), Claim::Skip, "b's lease is live");
    assert!(p.renew_job(&job, "b", at(20)).await.unwrap(), "b renews while it runs");
    assert_eq!(p.claim_job(&job, "a", every, at(45)).await.unwrap(), Claim::Skip, "renewed until 50 s");
    assert_eq!(p.claim_job(&job, "a", every, at(51)).await.unwrap(), Claim::Run(3), "lapsed: a takes over");
    assert!(!p.renew_job(&job, "b", at(52)).await.unwrap(), "b learns it lost the lease");
    p.release_job(&job, "b", at(52)).await.unwrap();
    assert_eq!(p.claim_job(&job, "c", every, at(53)).await.unwrap(), Claim::Skip, "b cannot give back what a holds");

    // Twenty workers asking at the same instant: one runs.
    p.release_job(&job, "a", at(60)).await.unwrap();
    let instant = at(100);
    let asks = (0..20).map(|n| {
        let (p, job) = (p.clone(), job.clone());
        tokio::spawn(async move { p.claim_job(&job, &format!("w{n}"), every, instant).await.unwrap() })
    });
    let claims = futures::future::join_all(asks).await;
    let ran: Vec<_> = claims.into_iter().map(Result::unwrap).filter(|c| matches!(c, Claim::Run(_))).collect();
    assert_eq!(ran, vec![Claim::Run(4)], "exactly one of twenty ran the period");
    let runs = p.job_runs().await.unwrap();
    assert_eq!(runs.iter().find(|r| r.0 == job).map(|r| r.1), Some(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platforms_own_jobs_are_claimed_in_the_lease_table() {
    let app = TestApp::spawn().await;
    let p = app.app.store.platform();
    // The single box runs every job through the same leases as a worker replica.
    let claimed = TestApp::eventually(Duration::from_secs(20), || {
        let p = p.clone();
        async move {
            let runs = p.job_runs().await.unwrap();
            ["link state", "alarms", "polling"].iter().all(|j| runs.iter().any(|r| r.0 == *j && r.1 >= 1))
        }
    })
    .await;
    assert!(claimed, "{:?}", p.job_runs().await.unwrap());
    assert!(!p.job_runs().await.unwrap().iter().any(|r| r.0 == "credential cache"), "the process's own cache refresh is never leased");
}
