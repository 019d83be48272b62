//! Expiring counters (the login throttle's): Redis when configured, shared by every API
//! replica; in-process with the embedded default.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub enum Counters {
    Memory(Mutex<HashMap<String, (u64, Instant)>>),
    Redis { conn: redis::aio::ConnectionManager, namespace: String },
}

impl Counters {
    pub fn memory() -> Self {
        Counters::Memory(Mutex::default())
    }

    /// Counters under `namespace:` in the Redis at `url`.
    pub async fn redis(url: &str, namespace: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        let conn = redis::aio::ConnectionManager::new(client).await.map_err(|e| e.to_string())?;
        Ok(Counters::Redis { conn, namespace: namespace.to_string() })
    }

    /// Adds `by` to a counter that expires `ttl_s` after its first hit; returns the count and
    /// the seconds it has left. When Redis cannot be reached the count is `u64::MAX`: callers
    /// that limit with it fail closed.
    pub async fn bump(&self, key: &str, by: u64, ttl_s: u64) -> (u64, u64) {
        match self {
            Counters::Memory(counters) => {
                let mut map = counters.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                if map.len() > 100_000 {
                    map.retain(|_, (_, until)| *until > now);
                }
                let entry = map.entry(key.to_string()).or_insert((0, now + Duration::from_secs(ttl_s)));
                if entry.1 <= now {
                    *entry = (0, now + Duration::from_secs(ttl_s));
                }
                entry.0 += by;
                (entry.0, entry.1.saturating_duration_since(now).as_secs())
            }
            Counters::Redis { conn, namespace } => {
                let key = format!("{namespace}:{key}");
                // A connection Redis dropped (a restart) fails its next command and is
                // re-established: the count is asked again before failing closed.
                let mut last = None;
                for attempt in 0..3u64 {
                    if attempt > 0 {
                        tokio::time::sleep(Duration::from_millis(150 * attempt)).await;
                    }
                    let mut conn = conn.clone();
                    let result: redis::RedisResult<(u64, (), i64)> = redis::pipe()
                        .atomic()
                        .incr(&key, by)
                        .cmd("EXPIRE")
                        .arg(&key)
                        .arg(ttl_s)
                        .arg("NX")
                        .cmd("TTL")
                        .arg(&key)
                        .query_async(&mut conn)
                        .await;
                    match result {
                        Ok((count, (), ttl)) => return (count, ttl.max(0) as u64),
                        Err(e) => last = Some(e),
                    }
                }
                if let Some(e) = last {
                    tracing::error!(cause = %e, "shared counters unavailable");
                }
                (u64::MAX, 60)
            }
        }
    }

    pub async fn clear(&self, key: &str) {
        match self {
            Counters::Memory(counters) => {
                counters.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
            }
            Counters::Redis { conn, namespace } => {
                let mut conn = conn.clone();
                let _: redis::RedisResult<()> = redis::cmd("DEL").arg(format!("{namespace}:{key}")).query_async(&mut conn).await;
            }
        }
    }
}
