//! Platform-side prepaid settlement inside the ingest transaction: each meter's cursor (the
//! last settled reading) moves forward over the new readings in time order; each interval is
//! priced (domain::settlement), charged with the account's sub-fen carry (tariff::settle),
//! posted as one ENERGY_CHARGE entry keyed by (meter, read time), and the account's state
//! machine may decide a trip or close. Late readings (at or before the cursor) and duplicates
//! change nothing; anomalies hold the cursor and are recorded once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult};

use super::bulk::{self, Cell, Col};
use super::sql::{Args, stmt};
use super::{Result, Store, StoreError};
use crate::control::CommandRecord;
use crate::domain::ledger::{BalanceState, Control, Decision, EntryKind, Relay, Thresholds, decide, states_entered};
use crate::domain::metering::{from_scaled, scale};
use crate::domain::settlement::{CycleUse, MeterTerms, Point, Registers, price};
use crate::domain::tariff::{History, Tariff, TariffSpec, settle};

/// A new reading, as settlement needs it.
#[derive(Debug, Clone)]
pub(crate) struct Arrival {
    pub tenant: String,
    pub meter: String,
    pub point: Point,
}

/// Registers from stored scaled values (`energy_total_x100`, `energy_t1..t4_x100`).
pub(crate) fn registers(total: Option<i64>, rates: [Option<i64>; 4]) -> Option<Registers> {
    let total = from_scaled(total?, scale::ENERGY);
    Some(Registers { total, rates: rates.map(|r| r.map(|v| from_scaled(v, scale::ENERGY))) })
}

/// What settling a batch did: its counts, the commands it decided and the alarm changes it
/// made (both to hand on after commit).
pub(crate) type Settled = (SettleReport, Vec<CommandRecord>, Vec<super::AlarmEvent>);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SettleReport {
    pub charged: usize,
    pub late: usize,
    pub anomalies: usize,
    pub decisions: usize,
}

struct MeterCtx {
    account: Option<String>,
    prepaid: bool,
    tariff: Option<String>,
    terms: MeterTerms,
    cursor: Option<Point>,
}

pub(crate) struct AccountCtx {
    pub balance: i64,
    pub carry: Decimal,
    pub thresholds: Thresholds,
    pub control: Control,
    pub state: BalanceState,
    pub cycle: CycleUse,
    pub open: bool,
}

impl AccountCtx {
    pub(crate) const COLUMNS: &'static str = "id, balance_x100, carry, credit_limit_x100, alarm1_x100, alarm2_x100, hold_power, relay_wanted, balance_state, tier_cycle, tier_used_x100, state";

    pub(crate) fn read(r: &QueryResult) -> Result<Self> {
        let int = |c: &str| super::registry::int(r, c);
        let carry: String = r.try_get("", "carry")?;
        Ok(Self {
            balance: int("balance_x100")?,
            carry: carry.parse().map_err(|_| StoreError::Database("bad carry".into()))?,
            thresholds: Thresholds { alarm1: int("alarm1_x100")?, alarm2: int("alarm2_x100")?, credit_limit: int("credit_limit_x100")? },
            control: Control { hold: int("hold_power")? != 0, wanted: Relay::parse(&r.try_get::<String>("", "relay_wanted")?) },
            state: BalanceState::parse(&r.try_get::<String>("", "balance_state")?),
            cycle: CycleUse { key: r.try_get("", "tier_cycle")?, used: from_scaled(int("tier_used_x100")?, scale::ENERGY) },
            open: r.try_get::<String>("", "state")? == "OPEN",
        })
    }
}

fn time(r: &QueryResult, col: &str) -> Result<Option<DateTime<Utc>>> {
    Ok(r.try_get::<Option<DateTime<Utc>>>("", col)?)
}

/// Account ids locked for the transaction in a fixed order (PostgreSQL), so concurrent
/// recharges wait for settlement and never interleave with it.
pub(crate) async fn lock_accounts<C: ConnectionTrait>(db: &C, pairs: &[(String, String)]) -> Result<HashMap<(String, String), AccountCtx>> {
    let mut out = HashMap::new();
    if pairs.is_empty() {
        return Ok(out);
    }
    let backend = db.get_database_backend();
    let lock = if backend == DbBackend::Postgres { " ORDER BY id FOR UPDATE" } else { "" };
    for (tenant, ids) in by_tenant(pairs) {
        let (source, join, args) = bulk::id_source(backend, &ids, 2);
        let cols = AccountCtx::COLUMNS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ");
        let lock = if lock.is_empty() { "" } else { " ORDER BY a.id FOR UPDATE OF a" };
        let sql = format!("SELECT a.tenant_id, {cols} FROM {source} {join} accounts a ON a.tenant_id = $1 AND a.id = k.id{lock}");
        let mut all = Args::new().s(tenant);
        all.0.extend(args.0);
        for r in db.query_all_raw(stmt(backend, &sql, all)).await? {
            out.insert((r.try_get("", "tenant_id")?, r.try_get("", "id")?), AccountCtx::read(&r)?);
        }
    }
    Ok(out)
}

/// Pairs grouped by tenant, tenants in order (a fixed lock order across transactions).
fn by_tenant(pairs: &[(String, String)]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (t, id) in pairs {
        out.entry(t.clone()).or_default().push(id.clone());
    }
    for ids in out.values_mut() {
        ids.sort();
        ids.dedup();
    }
    out
}

/// Writes account money and control state; returns the commands its decisions made.
pub(crate) async fn write_accounts<C: ConnectionTrait>(
    db: &C,
    accounts: &HashMap<(String, String), AccountCtx>,
    changed: &[(String, String)],
    decided: &[((String, String), Decision, String)],
) -> Result<Vec<CommandRecord>> {
    let rows: Vec<Vec<Cell>> = changed
        .iter()
        .filter_map(|k| accounts.get(k).map(|a| (k, a)))
        .map(|((t, id), a)| {
            vec![
                Cell::Text(t.clone()),
                Cell::Text(id.clone()),
                Cell::Int(a.balance),
                Cell::Text(a.carry.normalize().to_string()),
                Cell::Text(a.control.wanted.as_str().into()),
                Cell::Text(a.state.as_str().into()),
                Cell::Text(a.cycle.key.clone()),
                Cell::Int(crate::domain::metering::to_scaled(a.cycle.used, scale::ENERGY).unwrap_or(0)),
            ]
        })
        .collect();
    bulk::update(
        db,
        "accounts",
        &[("tenant_id", Col::Text), ("id", Col::Text)],
        &[
            ("balance_x100", Col::Int),
            ("carry", Col::Text),
            ("relay_wanted", Col::Text),
            ("balance_state", Col::Text),
            ("tier_cycle", Col::Text),
            ("tier_used_x100", Col::Int),
        ],
        &rows,
    )
    .await?;
    decisions_to_commands(db, decided).await
}

/// One command per platform-prepaid meter of each account with a decision.
pub(crate) async fn decisions_to_commands<C: ConnectionTrait>(
    db: &C,
    decided: &[((String, String), Decision, String)],
) -> Result<Vec<CommandRecord>> {
    let backend = db.get_database_backend();
    let now = Utc::now();
    let mut commands = Vec::new();
    for ((tenant, account), decision, reason) in decided {
        let sql = "SELECT id FROM meters WHERE tenant_id = $1 AND account_id = $2 AND retired_at IS NULL
                   AND billing_mode = 'PLATFORM_PREPAID' ORDER BY id";
        for r in db.query_all_raw(stmt(backend, sql, Args::new().s(tenant).s(account))).await? {
            commands.push(CommandRecord {
                id: uuid::Uuid::new_v4().to_string(),
                tenant_id: tenant.clone(),
                meter_id: r.try_get("", "id")?,
                account_id: Some(account.clone()),
                kind: decision.as_str().into(),
                source: "AUTO".into(),
                reason: reason.clone(),
                payload: String::new(),
                created_at: now,
                batch_id: None,
            });
        }
    }
    insert_commands(db, &commands).await?;
    Ok(commands)
}

pub(crate) async fn insert_commands<C: ConnectionTrait>(db: &C, commands: &[CommandRecord]) -> Result<()> {
    let rows: Vec<Vec<Cell>> = commands
        .iter()
        .map(|c| {
            vec![
                Cell::Text(c.tenant_id.clone()),
                Cell::Text(c.id.clone()),
                Cell::Text(c.meter_id.clone()),
                Cell::opt_text(c.account_id.clone()),
                Cell::Text(c.kind.clone()),
                Cell::Text(c.source.clone()),
                Cell::Text(c.reason.clone()),
                Cell::Text(c.payload.clone()),
                Cell::Time(c.created_at),
                Cell::opt_text(c.batch_id.clone()),
            ]
        })
        .collect();
    bulk::insert(
        db,
        "commands",
        &[
            ("tenant_id", Col::Text),
            ("id", Col::Text),
            ("meter_id", Col::Text),
            ("account_id", Col::Text),
            ("kind", Col::Text),
            ("source", Col::Text),
            ("reason", Col::Text),
            ("payload", Col::Text),
            ("created_at", Col::Time),
            ("batch_id", Col::Text),
        ],
        &rows,
        "",
    )
    .await?;
    Ok(())
}

impl Store {
    /// The versions of a tariff, cached until a version is added.
    pub(crate) async fn tariff_history<C: ConnectionTrait>(&self, db: &C, tenant: &str, tariff: &str) -> Result<Arc<History>> {
        let key = (tenant.to_string(), tariff.to_string());
        if let Some(h) = self.tariffs.read().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(h);
        }
        let sql = "SELECT effective_from, spec FROM tariff_versions WHERE tenant_id = $1 AND tariff_id = $2 ORDER BY effective_from";
        let mut versions = Vec::new();
        for r in db.query_all_raw(stmt(db.get_database_backend(), sql, Args::new().s(tenant).s(tariff))).await? {
            let spec: String = r.try_get("", "spec")?;
            let spec: TariffSpec = serde_json::from_str(&spec).map_err(|e| StoreError::Database(format!("stored tariff: {e}")))?;
            let t = Tariff::from_spec(&spec).map_err(|e| StoreError::Database(format!("stored tariff: {e}")))?;
            versions.push((r.try_get::<DateTime<Utc>>("", "effective_from")?, t));
        }
        let h = Arc::new(History(versions));
        if let Ok(mut c) = self.tariffs.write() {
            c.insert(key, h.clone());
        }
        Ok(h)
    }

    pub(crate) fn forget_tariff(&self, tenant: &str, tariff: &str) {
        if let Ok(mut c) = self.tariffs.write() {
            c.remove(&(tenant.to_string(), tariff.to_string()));
        }
    }

    /// Settles new readings inside the caller's transaction (which already holds the write).
    pub(crate) async fn settle_arrivals<C: ConnectionTrait>(&self, db: &C, arrivals: Vec<Arrival>) -> Result<Settled> {
        self.settle_with(db, arrivals, true).await
    }

    /// Settles without the jump check: an operator accepted a jump as real consumption.
    pub(crate) async fn settle_arrivals_unchecked<C: ConnectionTrait>(&self, db: &C, arrivals: Vec<Arrival>) -> Result<Settled> {
        self.settle_with(db, arrivals, false).await
    }

    async fn settle_with<C: ConnectionTrait>(&self, db: &C, mut arrivals: Vec<Arrival>, check_jumps: bool) -> Result<Settled> {
        let mut report = SettleReport::default();
        if arrivals.is_empty() {
            return Ok((report, Vec::new(), Vec::new()));
        }
        let backend = db.get_database_backend();
        let clock = std::time::Instant::now();
        arrivals.sort_by(|a, b| (&a.tenant, &a.meter, a.point.at).cmp(&(&b.tenant, &b.meter, b.point.at)));
        let mut keys: Vec<(String, String)> = arrivals.iter().map(|a| (a.tenant.clone(), a.meter.clone())).collect();
        keys.dedup();

        // Meters, their terms and cursors.
        let mut rows = Vec::new();
        for (tenant, ids) in by_tenant(&keys) {
            let (source, join, args) = bulk::id_source(backend, &ids, 2);
            let sql = format!(
                "SELECT m.tenant_id, m.id, m.account_id, m.billing_mode, m.pt_ratio, m.ct_ratio,
                        COALESCE(m.tariff_id, p.tariff_id, t.default_tariff_id) AS tariff_id, t.time_zone, t.jump_limit_kw,
                        s.read_at AS s_at, s.total_x100, s.t1_x100, s.t2_x100, s.t3_x100, s.t4_x100
                 FROM {source} {join} meters m ON m.tenant_id = $1 AND m.id = k.id
                 JOIN tenants t ON t.id = m.tenant_id
                 JOIN properties p ON p.tenant_id = m.tenant_id AND p.id = m.property_id
                 LEFT JOIN meter_settlement s ON s.tenant_id = m.tenant_id AND s.meter_id = m.id"
            );
            let mut all = Args::new().s(tenant);
            all.0.extend(args.0);
            rows.extend(db.query_all_raw(stmt(backend, &sql, all)).await?);
        }
        let mut meters: HashMap<(String, String), MeterCtx> = HashMap::new();
        for r in rows {
            let int = |c: &str| super::registry::int(&r, c);
            let oint = |c: &str| super::registry::opt_int(&r, c);
            let tz: String = r.try_get("", "time_zone")?;
            let limit: String = r.try_get("", "jump_limit_kw")?;
            let cursor = match (time(&r, "s_at")?, oint("total_x100")?) {
                (Some(at), total) => registers(total, [oint("t1_x100")?, oint("t2_x100")?, oint("t3_x100")?, oint("t4_x100")?])
                    .map(|registers| Point { at, registers }),
                _ => None,
            };
            meters.insert(
                (r.try_get("", "tenant_id")?, r.try_get("", "id")?),
                MeterCtx {
                    account: r.try_get("", "account_id")?,
                    prepaid: r.try_get::<String>("", "billing_mode")? == "PLATFORM_PREPAID",
                    tariff: r.try_get("", "tariff_id")?,
                    terms: MeterTerms {
                        ratio: int("pt_ratio")? * int("ct_ratio")?,
                        jump_limit_kw: if check_jumps {
                            limit.parse().unwrap_or(Decimal::ONE_HUNDRED)
                        } else {
                            Decimal::from(1_000_000_000_000i64)
                        },
                        tz: tz.parse::<Tz>().unwrap_or(chrono_tz::Asia::Shanghai),
                    },
                    cursor,
                },
            );
        }

        let loaded = clock.elapsed();
        // Accounts of prepaid meters, locked.
        let mut account_keys: Vec<(String, String)> =
            meters.iter().filter(|(_, m)| m.prepaid).filter_map(|((t, _), m)| m.account.clone().map(|a| (t.clone(), a))).collect();
        account_keys.sort();
        account_keys.dedup();
        let mut accounts = lock_accounts(db, &account_keys).await?;
        let before: HashMap<(String, String), (i64, BalanceState)> =
            accounts.iter().map(|(k, a)| (k.clone(), (a.balance, a.state))).collect();

        let locked = clock.elapsed();
        let mut entries: Vec<Vec<Cell>> = Vec::new();
        let mut anomalies: Vec<Vec<Cell>> = Vec::new();
        let mut cursors: BTreeMap<(String, String), Point> = BTreeMap::new();
        let mut touched: Vec<(String, String)> = Vec::new();
        let now = Utc::now();
        for a in arrivals {
            let key = (a.tenant.clone(), a.meter.clone());
            let Some(meter) = meters.get_mut(&key) else { continue };
            let Some(prev) = meter.cursor else {
                meter.cursor = Some(a.point);
                cursors.insert(key, a.point);
                continue;
            };
            if a.point.at <= prev.at {
                report.late += 1;
                continue;
            }
            let account_key = meter.account.clone().filter(|_| meter.prepaid).map(|acc| (a.tenant.clone(), acc));
            let account = account_key.as_ref().and_then(|k| accounts.get_mut(k)).filter(|acc| acc.open);
            let Some(account) = account else {
                // Nothing to charge: the cursor still follows the meter, so billing starts
                // from the reading at which an account is opened.
                meter.cursor = Some(a.point);
                cursors.insert(key, a.point);
                continue;
            };
            let history = match &meter.tariff {
                Some(t) => Some(self.tariff_history(db, &a.tenant, t).await?),
                None => None,
            };
            let Some(tariff) = history.as_ref().and_then(|h| h.at(a.point.at)) else {
                anomalies.push(anomaly_row(&a, "NO_TARIFF", "no tariff is in force for this meter; the interval waits", now));
                report.anomalies += 1;
                continue;
            };
            match price(tariff, &meter.terms, &prev, &a.point, &account.cycle) {
                Err(anomaly) => {
                    anomalies.push(anomaly_row(&a, anomaly.kind(), &anomaly.describe(), now));
                    report.anomalies += 1;
                }
                Ok(priced) => {
                    let cycle_before = account.cycle.clone();
                    let s = settle(account.carry, priced.cost);
                    let fen = crate::domain::metering::to_scaled(s.charged, scale::MONEY).unwrap_or(0);
                    account.carry = s.carry;
                    account.cycle = priced.cycle.clone();
                    if fen != 0 {
                        account.balance -= fen;
                        let detail = serde_json::json!({
                            "from": prev.at, "energy": priced.energy,
                            "byRate": priced.by_rate, "byTier": priced.by_tier,
                            "cost": priced.cost.normalize(), "carry": s.carry.normalize(), "source": priced.source,
                            "tariffId": meter.tariff,
                            "cycleKey": cycle_before.key, "cycleUsedBefore": cycle_before.used.normalize(),
                        });
                        entries.push(vec![
                            Cell::Text(a.tenant.clone()),
                            Cell::Text(crate::ids::time_ordered().to_string()),
                            Cell::Text(account_key.as_ref().map(|k| k.1.clone()).unwrap_or_default()),
                            Cell::Text(EntryKind::EnergyCharge.as_str().into()),
                            Cell::Int(-fen),
                            Cell::Time(now),
                            Cell::Text(a.meter.clone()),
                            Cell::Time(a.point.at),
                            Cell::Text(detail.to_string()),
                        ]);
                        report.charged += 1;
                    }
                    if let Some(k) = account_key {
                        touched.push(k);
                    }
                    meter.cursor = Some(a.point);
                    cursors.insert(key, a.point);
                }
            }
        }

        let computed = clock.elapsed();
        bulk::insert(
            db,
            "ledger_entries",
            &[
                ("tenant_id", Col::Text),
                ("id", Col::Text),
                ("account_id", Col::Text),
                ("kind", Col::Text),
                ("amount_x100", Col::Int),
                ("created_at", Col::Time),
                ("meter_id", Col::Text),
                ("read_at", Col::Time),
                ("detail", Col::Text),
            ],
            &entries,
            "",
        )
        .await?;
        bulk::insert(
            db,
            "settlement_anomalies",
            &[
                ("tenant_id", Col::Text),
                ("id", Col::Text),
                ("meter_id", Col::Text),
                ("kind", Col::Text),
                ("detail", Col::Text),
                ("read_at", Col::Time),
                ("detected_at", Col::Time),
            ],
            &dedup_anomalies(anomalies),
            "ON CONFLICT (tenant_id, meter_id, kind) WHERE resolved_at IS NULL DO NOTHING",
        )
        .await?;
        let entered = clock.elapsed();
        let cursor_rows: Vec<Vec<Cell>> = cursors.into_iter().map(|((t, m), p)| cursor_row(&t, &m, &p)).collect();
        upsert_cursors(db, &cursor_rows).await?;

        let cursored = clock.elapsed();
        touched.sort();
        touched.dedup();
        let mut decided = Vec::new();
        let mut paths = Vec::new();
        for k in &touched {
            if let Some(acc) = accounts.get_mut(k) {
                if let Some((balance, state)) = before.get(k) {
                    let path = states_entered(*state, *balance, acc.balance, acc.thresholds);
                    if !path.is_empty() {
                        paths.push((k.clone(), path));
                    }
                }
                let (state, wanted, decision) = decide(acc.balance, acc.thresholds, acc.control);
                acc.state = state;
                acc.control.wanted = wanted;
                if let Some(d) = decision {
                    decided.push((k.clone(), d, format!("balance {} after settlement", crate::domain::ledger::yuan(acc.balance))));
                }
            }
        }
        report.decisions = decided.len();
        let commands = write_accounts(db, &accounts, &touched, &decided).await?;
        let mut alarms = Vec::new();
        for ((tenant, account), path) in &paths {
            alarms.extend(super::alarms::balance_alarms_in(db, tenant, account, path, now).await?);
        }
        tracing::debug!(
            load_ms = loaded.as_millis() as u64,
            lock_ms = (locked - loaded).as_millis() as u64,
            compute_ms = (computed - locked).as_millis() as u64,
            entries_ms = (entered - computed).as_millis() as u64,
            cursors_ms = (cursored - entered).as_millis() as u64,
            total_ms = clock.elapsed().as_millis() as u64,
            "settlement timings"
        );
        Ok((report, commands, alarms))
    }
}

fn anomaly_row(a: &Arrival, kind: &str, detail: &str, now: DateTime<Utc>) -> Vec<Cell> {
    vec![
        Cell::Text(a.tenant.clone()),
        Cell::Text(uuid::Uuid::new_v4().to_string()),
        Cell::Text(a.meter.clone()),
        Cell::Text(kind.into()),
        Cell::Text(detail.into()),
        Cell::Time(a.point.at),
        Cell::Time(now),
    ]
}

/// One open anomaly per (meter, kind) per statement (a statement may not conflict with itself).
fn dedup_anomalies(rows: Vec<Vec<Cell>>) -> Vec<Vec<Cell>> {
    let mut seen = std::collections::HashSet::new();
    rows.into_iter()
        .filter(|r| {
            let key = (format!("{:?}", r.first()), format!("{:?}", r.get(2)), format!("{:?}", r.get(3)));
            seen.insert(key)
        })
        .collect()
}

pub(crate) fn cursor_row(tenant: &str, meter: &str, p: &Point) -> Vec<Cell> {
    let sc = |d: Decimal| Cell::opt_int(crate::domain::metering::to_scaled(d, scale::ENERGY));
    let [t1, t2, t3, t4] = p.registers.rates;
    vec![
        Cell::Text(tenant.into()),
        Cell::Text(meter.into()),
        Cell::Time(p.at),
        sc(p.registers.total),
        t1.map_or(Cell::Null, sc),
        t2.map_or(Cell::Null, sc),
        t3.map_or(Cell::Null, sc),
        t4.map_or(Cell::Null, sc),
    ]
}

pub(crate) async fn upsert_cursors<C: ConnectionTrait>(db: &C, rows: &[Vec<Cell>]) -> Result<()> {
    bulk::insert(
        db,
        "meter_settlement",
        &[
            ("tenant_id", Col::Text),
            ("meter_id", Col::Text),
            ("read_at", Col::Time),
            ("total_x100", Col::Int),
            ("t1_x100", Col::Int),
            ("t2_x100", Col::Int),
            ("t3_x100", Col::Int),
            ("t4_x100", Col::Int),
        ],
        rows,
        "ON CONFLICT (tenant_id, meter_id) DO UPDATE SET read_at = excluded.read_at, total_x100 = excluded.total_x100,
         t1_x100 = excluded.t1_x100, t2_x100 = excluded.t2_x100, t3_x100 = excluded.t3_x100, t4_x100 = excluded.t4_x100",
    )
    .await?;
    Ok(())
}
