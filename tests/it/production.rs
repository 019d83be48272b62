//! Production roles (issue 21) inside one process: leases that give each period of a job to
//! one worker, and the metrics the API records. The multi-process drills (replicas, kills,
//! restarts) are in `server/tests/drills.rs`.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_uplink_lease_has_one_holder_until_it_lapses_or_is_given_back() {
    let app = TestApp::spawn().await;
    let p = app.app.store.platform();
    let ttl = Duration::from_secs(10);
    let t0 = Utc::now() + chrono::Duration::days(1);
    let at = move |s: i64| t0 + chrono::Duration::seconds(s);
    let lease = format!("uplink-{}", uuid::Uuid::new_v4().simple());

    assert!(p.claim_lease(&lease, "a", ttl, at(0)).await.unwrap(), "free: a takes it");
    assert!(!p.claim_lease(&lease, "b", ttl, at(1)).await.unwrap(), "a holds it");
    assert!(p.claim_lease(&lease, "a", ttl, at(2)).await.unwrap(), "the holder may claim again");
    assert!(p.renew_lease(&lease, "a", ttl, at(8)).await.unwrap(), "a renews: until 18 s");
    assert!(!p.claim_lease(&lease, "b", ttl, at(17)).await.unwrap(), "renewed: still a's");
    assert!(!p.renew_lease(&lease, "b", ttl, at(17)).await.unwrap(), "b cannot renew what a holds");
    // a dies: the lease lapses and b takes it; a learns it lost it.
    assert!(p.claim_lease(&lease, "b", ttl, at(19)).await.unwrap(), "lapsed: b takes over");
    assert!(!p.renew_lease(&lease, "a", ttl, at(20)).await.unwrap(), "a learns it lost the lease");
    assert!(!p.claim_lease(&lease, "a", ttl, at(21)).await.unwrap(), "b's now");
    // b drains and gives it back: a takes it at once.
    p.release_job(&lease, "b", at(22)).await.unwrap();
    assert!(p.claim_lease(&lease, "a", ttl, at(22)).await.unwrap(), "given back: a takes it at once");
    assert_eq!(p.lease_holder(&lease).await.unwrap().map(|(h, _)| h).as_deref(), Some("a"));
    // Each change of holder counted once (a, b, a); the holder's own claims not.
    let runs = p.job_runs().await.unwrap().into_iter().find(|r| r.0 == lease).map(|r| r.1);
    assert_eq!(runs, Some(3));

    // Twenty replicas asking for a free lease at the same instant: one holds it.
    p.release_job(&lease, "a", at(30)).await.unwrap();
    let asks = (0..20).map(|n| {
        let (p, lease) = (p.clone(), lease.clone());
        tokio::spawn(async move { p.claim_lease(&lease, &format!("r{n}"), ttl, at(31)).await.unwrap() })
    });
    let held = futures::future::join_all(asks).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(held, 1, "one replica holds the uplink");
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

/// Distributable by tenant (issue 21, part 6): on PostgreSQL every unique index of a table
/// with a `tenant_id` leads with it, so Citus can distribute each such table by tenant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_unique_index_of_a_tenant_table_leads_with_tenant_id() {
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
    if !TestApp::uses_postgres() {
        eprintln!("SQLite keeps its inline unique constraints (the single box is never distributed)");
        return;
    }
    let app = TestApp::spawn().await;
    let db = Database::connect(app.database.clone()).await.unwrap();
    let sql = "SELECT c.relname::text AS t, i.relname::text AS i
               FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
               WHERE c.relnamespace = current_schema()::regnamespace AND x.indisunique
                 -- the claims of keys unique across tenants: a reference table, on every node
                 AND c.relname <> 'global_keys'
                 AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
                 AND x.indkey[0] <> (SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')
               ORDER BY 1, 2";
    let rows = db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql.to_string())).await.unwrap();
    let offenders: Vec<String> =
        rows.iter().map(|r| format!("{}.{}", r.try_get::<String>("", "t").unwrap(), r.try_get::<String>("", "i").unwrap())).collect();
    assert!(offenders.is_empty(), "unique indexes that do not lead with tenant_id: {offenders:?}");
    // A foreign key between two tenant tables names the tenant first (Citus joins them on
    // the shard that holds the tenant).
    let sql = "SELECT c.conname::text AS k FROM pg_constraint c
               WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
                 AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.confrelid AND a.attname = 'tenant_id')
                 AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attname = 'tenant_id')
                 AND ((SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attnum = c.conkey[1]) <> 'tenant_id'
                      OR (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.confrelid AND a.attnum = c.confkey[1]) <> 'tenant_id')";
    let rows = db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql.to_string())).await.unwrap();
    let keys: Vec<String> = rows.iter().map(|r| r.try_get::<String>("", "k").unwrap()).collect();
    assert!(keys.is_empty(), "foreign keys between tenant tables without tenant_id first: {keys:?}");
    // The walk sees the tenant tables at all: the reading table's key is one of them.
    let seen = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
             WHERE c.relnamespace = current_schema()::regnamespace AND x.indisunique AND c.relname = 'readings'"
                .to_string(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert!(seen >= 1);
}

/// A key something finds its tenant by is one tenant's only: another tenant cannot take a
/// mini-program's or an official account's AppID in any spelling the store keeps, and an
/// AppID a tenant replaced is free again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_appid_held_by_one_tenant_is_refused_to_another_until_it_is_let_go() {
    let app = TestApp::spawn().await;
    let a = app.admin("gk-a").await;
    let b = app.admin("gk-b").await;
    let set = "mutation($i: SetWechatAppInput!) { setWechatApp(input: $i) }";
    let input = |app_id: &str| json!({"i": {"appId": app_id, "appSecret": "0123456789abcdef0123", "apiBase": "http://127.0.0.1:9"}});
    let app_id = format!("wx{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    a.ok(set, input(&app_id));
    a.ok(set, input(&app_id)); // the holder may set it again
    for spelling in [app_id.clone(), format!("  {app_id} ")] {
        let refused = b.fails(set, input(&spelling));
        assert_eq!(refused["field"], "appId", "{spelling:?}: {refused}");
    }
    // A replaces its AppID: the old one is free, the new one is A's.
    let other = format!("wx{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    a.ok(set, input(&other));
    b.ok(set, input(&app_id));
    assert_eq!(b.fails(set, input(&other))["field"], "appId");
    let owner = app.app.store.tenant(b.tenant.clone()).wechat_app().await.unwrap().unwrap();
    assert_eq!(owner.app_id, app_id);
}

/// A tenant changing its AppID from two places at once ends with exactly the key of the
/// AppID it holds: none left behind to block others, none missing to let another tenant in.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appid_changes_of_one_tenant_leave_exactly_the_held_key() {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let app = TestApp::spawn().await;
    let a = app.admin("gk-race").await;
    let t = app.app.store.tenant(a.tenant.clone());
    let ids: Vec<String> = (0..4).map(|_| format!("wx{}", &uuid::Uuid::new_v4().simple().to_string()[..16])).collect();
    for round in 0..5 {
        let sets = (0..8).map(|n| {
            let (t, id) = (t.clone(), ids[(n + round) % ids.len()].clone());
            tokio::spawn(async move { t.set_wechat_app(&id, "0123456789abcdef0123", "http://127.0.0.1:9").await })
        });
        for r in futures::future::join_all(sets).await {
            // The tenant's row is written first, so its writers take turns: none is refused.
            r.unwrap().unwrap();
        }
        let held = t.wechat_app().await.unwrap().unwrap().app_id;
        let url = if TestApp::uses_postgres() { app.database.clone() } else { server::app::default_database_url(&app.data_dir) };
        let db = Database::connect(url).await.unwrap();
        let sql = format!(
            "SELECT key FROM global_keys WHERE tenant_id = '{}' AND kind = 'wechat_app' ORDER BY key",
            a.tenant.as_str().replace('\'', "")
        );
        let keys: Vec<String> = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String>("", "key").unwrap())
            .collect();
        assert_eq!(keys, vec![held.clone()], "round {round}: the keys held are exactly the AppID in use");
    }
}
