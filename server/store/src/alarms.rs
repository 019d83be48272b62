//! Alarms (F23, F38, F41): rules over the live state — the meters' reported status words and
//! link state, the accounts' balance state, the gateways' link state — evaluated on a timer
//! for every tenant at once in a few set queries. One active alarm per subject and kind (a
//! unique partial index); an alarm clears when its condition no longer holds; a meter lost
//! behind a lost gateway is folded under the gateway's alarm.

use crate::ids::NewId;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::sql::{Args, stmt};
use super::{Result, Store, StoreError, TenantStore};
use domain::ids::AlarmId;

/// An alarm kind: what it watches and when it holds.
struct Rule {
    kind: &'static str,
    severity: &'static str,
    subject_kind: &'static str,
    /// Rows `(tenant_id, subject_id, gateway_id)` of the subjects the rule watches…
    source: &'static str,
    /// …and the condition, over the source's aliases (`l` meter_live, `a` accounts, `g` gateways).
    holds: String,
    detail: &'static str,
}

const METERS: &str = "meter_live l JOIN meters m ON m.tenant_id = l.tenant_id AND m.id = l.meter_id AND m.retired_at IS NULL";

/// A platform-prepaid meter whose account wants its power cut (relay open, no hold), that
/// does not report its relay open, and whose cut-off failed: a TRIP ended FAILED, TIMED_OUT
/// or EXPIRED after the meter's last confirmed relay command (aliases `l` meter_live, `m`
/// meters). The watchdog retries these and the TRIP_FAILED alarm names them.
pub(crate) const CUT_OFF_FAILED: &str = "m.billing_mode = 'PLATFORM_PREPAID'
    AND EXISTS (SELECT 1 FROM accounts wa WHERE wa.tenant_id = m.tenant_id AND wa.id = m.account_id AND wa.state = 'OPEN'
                AND wa.relay_wanted = 'OPEN' AND wa.hold_power = 0)
    AND NOT (l.status_word_3 IS NOT NULL AND (l.status_word_3 & 16) <> 0)
    AND EXISTS (SELECT 1 FROM commands fc WHERE fc.tenant_id = m.tenant_id AND fc.meter_id = m.id AND fc.kind = 'TRIP'
                AND fc.status IN ('FAILED', 'TIMED_OUT', 'EXPIRED')
                AND NOT EXISTS (SELECT 1 FROM commands ok WHERE ok.tenant_id = fc.tenant_id AND ok.meter_id = fc.meter_id
                                AND ok.kind IN ('TRIP', 'CLOSE') AND ok.status = 'CONFIRMED' AND ok.created_at > fc.created_at))";
const PHASE_BITS: &str = "(COALESCE(l.phase_faults_a, 0) | COALESCE(l.phase_faults_b, 0) | COALESCE(l.phase_faults_c, 0))";

fn rules() -> Vec<Rule> {
    let phase = |kind, severity, mask: u16, detail| Rule {
        kind,
        severity,
        subject_kind: "METER",
        source: METERS,
        holds: format!("({PHASE_BITS} & {mask}) <> 0"),
        detail,
    };
    let accounts = "accounts a";
    vec![
        Rule {
            kind: "GATEWAY_LOST",
            severity: "MAJOR",
            subject_kind: "GATEWAY",
            source: "gateways g",
            holds: "g.link_state = 'LOST' AND g.retired_at IS NULL".into(),
            detail: "the gateway has not been heard from for its tenant's lost-after intervals",
        },
        Rule {
            kind: "TRIP_FAILED",
            severity: "CRITICAL",
            subject_kind: "METER",
            source: METERS,
            holds: CUT_OFF_FAILED.into(),
            detail: "the account is out of money but the meter's cut-off failed: it is retried; power still flows",
        },
        Rule {
            kind: "METER_LOST",
            severity: "MAJOR",
            subject_kind: "METER",
            source: METERS,
            holds: "l.link_state = 'LOST'".into(),
            detail: "the meter has not been heard from for its tenant's lost-after intervals",
        },
        phase("PHASE_LOSS", "CRITICAL", (1 << 7) | 1, "phase break or loss of voltage (status words 4–6 bit 7 / bit 0)"),
        phase("UNDER_VOLTAGE", "MAJOR", 1 << 1, "under-voltage (status words 4–6 bit 1)"),
        phase("OVER_VOLTAGE", "MAJOR", 1 << 2, "over-voltage (status words 4–6 bit 2)"),
        phase("OVERLOAD", "MAJOR", 1 << 5, "overload (status words 4–6 bit 5)"),
        phase("REVERSE_ENERGY", "MINOR", 1 << 6, "power reversal (status words 4–6 bit 6)"),
        Rule {
            kind: "TRIPPED",
            severity: "INFO",
            subject_kind: "METER",
            source: METERS,
            holds: "(COALESCE(l.status_word_3, 0) & 16) <> 0".into(),
            detail: "the relay is open (status word 3 bit 4)",
        },
        Rule {
            kind: "CONSUMPTION_WHILE_TRIPPED",
            severity: "CRITICAL",
            subject_kind: "METER",
            source: METERS,
            holds: "(COALESCE(l.status_word_3, 0) & 16) <> 0 AND COALESCE(l.active_power_x10000, 0) > 100".into(),
            detail: "power flows through an open relay (bypass or tamper)",
        },
        Rule {
            kind: "TAMPER",
            severity: "CRITICAL",
            subject_kind: "METER",
            source: METERS,
            holds: "(COALESCE(l.status_word_7, 0) & 512) <> 0".into(),
            detail: "the terminal cover is open (status word 7 bit 9)",
        },
        Rule {
            kind: "SUDDEN_DROP",
            severity: "MAJOR",
            subject_kind: "METER",
            source: METERS,
            // Unknown is not zero: without a status word the relay is not known to be closed,
            // without a power reading nothing fell.
            holds: "l.status_word_3 IS NOT NULL AND (l.status_word_3 & 16) = 0 AND l.active_power_x10000 IS NOT NULL
                    AND COALESCE(l.baseline_power_x10000, 0) >= 5000 AND l.active_power_x10000 * 10 < l.baseline_power_x10000"
                .into(),
            detail: "active power fell below a tenth of the meter's running average with the relay closed",
        },
        Rule {
            kind: "LOW_BALANCE_1",
            severity: "MINOR",
            subject_kind: "ACCOUNT",
            source: accounts,
            holds: "a.state = 'OPEN' AND a.balance_state = 'LOW_1'".into(),
            detail: "balance at or below alarm amount 1",
        },
        Rule {
            kind: "LOW_BALANCE_2",
            severity: "MAJOR",
            subject_kind: "ACCOUNT",
            source: accounts,
            holds: "a.state = 'OPEN' AND a.balance_state = 'LOW_2'".into(),
            detail: "balance at or below alarm amount 2",
        },
        Rule {
            kind: "ARREARS",
            severity: "MAJOR",
            subject_kind: "ACCOUNT",
            source: accounts,
            holds: "a.state = 'OPEN' AND a.balance_state = 'ARREARS'".into(),
            detail: "balance below zero, within the credit limit",
        },
        Rule {
            kind: "BALANCE_EXHAUSTED",
            severity: "CRITICAL",
            subject_kind: "ACCOUNT",
            source: accounts,
            holds: "a.state = 'OPEN' AND a.balance_state = 'EXHAUSTED'".into(),
            detail: "balance at or below the credit limit: power goes off unless held",
        },
        Rule {
            kind: "PAYMENT_DIFFERENCE",
            severity: "MAJOR",
            subject_kind: "PAYEE",
            source: "payees p",
            holds: "p.retired_at IS NULL AND EXISTS (SELECT 1 FROM reconciliations r WHERE r.tenant_id = p.tenant_id AND r.payee_id = p.id
                    AND r.discrepancies <> '[]' AND NOT EXISTS (SELECT 1 FROM reconciliations n WHERE n.tenant_id = r.tenant_id
                    AND n.payee_id = r.payee_id AND n.bill_date > r.bill_date))
                    OR p.retired_at IS NULL AND EXISTS (SELECT 1 FROM payment_differences d WHERE d.tenant_id = p.tenant_id
                    AND d.payee_id = p.id AND d.state = 'OPEN')"
                .into(),
            detail: "money the channel took does not match our records (the latest reconciliation, or a payment kept for refund)",
        },
    ]
}

/// Every alarm kind, for the API's enum and filters.
pub const ALARM_KINDS: [&str; 18] = [
    "GATEWAY_LOST",
    "TRIP_FAILED",
    "METER_LOST",
    "PHASE_LOSS",
    "UNDER_VOLTAGE",
    "OVER_VOLTAGE",
    "OVERLOAD",
    "REVERSE_ENERGY",
    "TRIPPED",
    "CONSUMPTION_WHILE_TRIPPED",
    "TAMPER",
    "SUDDEN_DROP",
    "LOW_BALANCE_1",
    "LOW_BALANCE_2",
    "ARREARS",
    "BALANCE_EXHAUSTED",
    "BALANCE_RESTORED",
    "PAYMENT_DIFFERENCE",
];

fn subject_columns(source: &str) -> (&'static str, &'static str, &'static str) {
    match source.split_whitespace().next() {
        Some("gateways") => ("g.tenant_id", "g.id", "NULL"),
        Some("accounts") => ("a.tenant_id", "a.id", "NULL"),
        Some("payees") => ("p.tenant_id", "p.id", "NULL"),
        _ => ("l.tenant_id", "l.meter_id", "m.gateway_id"),
    }
}

/// One alarm as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmRow {
    pub tenant_id: String,
    pub id: String,
    pub subject_id: String,
    pub subject_kind: String,
    pub kind: String,
    pub severity: String,
    pub state: String,
    pub parent_id: Option<String>,
    pub detail: String,
    pub raised_at: DateTime<Utc>,
    pub cleared_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    /// Alarms folded under this one (a lost gateway's lost meters).
    pub folded: i64,
    /// The subject as people name it: a meter's address, a gateway's serial, an account's
    /// number, a payee's name.
    pub subject_label: String,
    /// The property of the subject (an account's: of its meters).
    pub property_id: Option<String>,
}

/// A change the alarm bell hears about.
#[derive(Debug, Clone)]
pub struct AlarmEvent {
    pub tenant_id: String,
    pub alarm_id: String,
    /// RAISED or CLEARED.
    pub change: &'static str,
}

pub(crate) const COLUMNS: &str = "tenant_id, id, subject_id, subject_kind, kind, severity, state, parent_id, detail, raised_at, cleared_at, acknowledged_at, acknowledged_by,
    (SELECT COUNT(*) FROM alarms c WHERE c.tenant_id = alarms.tenant_id AND c.parent_id = alarms.id) AS folded,
    COALESCE((SELECT sm.address FROM meters sm WHERE sm.tenant_id = alarms.tenant_id AND sm.id = alarms.subject_id),
             (SELECT sg.serial FROM gateways sg WHERE sg.tenant_id = alarms.tenant_id AND sg.id = alarms.subject_id),
             (SELECT sa.number FROM accounts sa WHERE sa.tenant_id = alarms.tenant_id AND sa.id = alarms.subject_id),
             (SELECT sp.name FROM payees sp WHERE sp.tenant_id = alarms.tenant_id AND sp.id = alarms.subject_id), '') AS subject_label,
    COALESCE((SELECT sm.property_id FROM meters sm WHERE sm.tenant_id = alarms.tenant_id AND sm.id = alarms.subject_id),
             (SELECT sg.property_id FROM gateways sg WHERE sg.tenant_id = alarms.tenant_id AND sg.id = alarms.subject_id),
             (SELECT MIN(sm.property_id) FROM meters sm WHERE sm.tenant_id = alarms.tenant_id AND sm.account_id = alarms.subject_id),
             (SELECT sp.property_id FROM payees sp WHERE sp.tenant_id = alarms.tenant_id AND sp.id = alarms.subject_id)) AS subject_property_id";

pub(crate) fn alarm_row(r: &sea_orm::QueryResult) -> Result<AlarmRow> {
    Ok(AlarmRow {
        tenant_id: r.try_get("", "tenant_id")?,
        id: r.try_get("", "id")?,
        subject_id: r.try_get("", "subject_id")?,
        subject_kind: r.try_get("", "subject_kind")?,
        kind: r.try_get("", "kind")?,
        severity: r.try_get("", "severity")?,
        state: r.try_get("", "state")?,
        parent_id: r.try_get("", "parent_id")?,
        detail: r.try_get("", "detail")?,
        raised_at: r.try_get("", "raised_at")?,
        cleared_at: r.try_get("", "cleared_at")?,
        acknowledged_at: r.try_get("", "acknowledged_at")?,
        acknowledged_by: r.try_get("", "acknowledged_by")?,
        folded: super::registry::int(r, "folded")?,
        subject_label: r.try_get("", "subject_label")?,
        property_id: r.try_get("", "subject_property_id")?,
    })
}

impl Store {
    /// Live alarm changes of every tenant (the API filters by the subscriber's tenant).
    pub fn alarm_events(&self) -> tokio::sync::broadcast::Receiver<AlarmEvent> {
        self.alarm_events.subscribe()
    }
}

impl super::PlatformStore {
    /// Evaluates every rule for every tenant: raises alarms whose condition holds and that are
    /// not active yet, clears active ones whose condition ended. Returns the changes.
    pub async fn evaluate_alarms(&self, now: DateTime<Utc>) -> Result<Vec<AlarmEvent>> {
        let b = self.backend();
        let rules = rules();
        // The subjects to raise an alarm for, read before the write transaction: the scans
        // cover the whole fleet, and on SQLite a write transaction holds the one writer (at
        // 30,000 meters each meter rule's scan took 73 ms, thirteen of them every 5 s, with
        // every ingest and recharge waiting). The meters' rules share one scan.
        let mut raise: Vec<(usize, Raise)> = Vec::new();
        let meter_rules: Vec<usize> = (0..rules.len()).filter(|&i| rules[i].source == METERS).collect();
        if !meter_rules.is_empty() {
            let (tenant, subject, gateway) = subject_columns(METERS);
            let flag = |i: usize| {
                format!(
                    "(({holds}) AND NOT EXISTS (SELECT 1 FROM alarms x WHERE x.tenant_id = {tenant} AND x.subject_id = {subject}
                       AND x.kind = '{kind}' AND x.state = 'ACTIVE'))",
                    holds = rules[i].holds,
                    kind = rules[i].kind
                )
            };
            let flags: Vec<String> = meter_rules.iter().map(|&i| format!("CASE WHEN {} THEN 1 ELSE 0 END AS r{i}", flag(i))).collect();
            let any: Vec<String> = meter_rules.iter().map(|&i| flag(i)).collect();
            let sql = format!(
                "SELECT {tenant} AS tenant_id, {subject} AS subject_id, {gateway} AS gateway_id, {} FROM {METERS} WHERE {}",
                flags.join(", "),
                any.join(" OR ")
            );
            for r in self.db.query_all_raw(stmt(b, &sql, Args::new())).await? {
                let row = Raise::of(&r)?;
                for &i in &meter_rules {
                    if super::registry::int(&r, &format!("r{i}"))? != 0 {
                        raise.push((i, row.clone()));
                    }
                }
            }
        }
        for (i, rule) in rules.iter().enumerate().filter(|(_, r)| r.source != METERS) {
            // Raise: the condition holds and no alarm of the kind is active for the subject.
            let (tenant, subject, gateway) = subject_columns(rule.source);
            let sql = format!(
                "SELECT {tenant} AS tenant_id, {subject} AS subject_id, {gateway} AS gateway_id FROM {source}
                 WHERE ({holds}) AND NOT EXISTS (SELECT 1 FROM alarms x WHERE x.tenant_id = {tenant} AND x.subject_id = {subject}
                   AND x.kind = $1 AND x.state = 'ACTIVE')",
                source = rule.source,
                holds = &rule.holds,
            );
            for r in self.db.query_all_raw(stmt(b, &sql, Args::new().s(rule.kind))).await? {
                raise.push((i, Raise::of(&r)?));
            }
        }
        // The changes and their forwarding deliveries commit together (the outbox is durable:
        // no change without its event, no event without its change). Rules in order, so a
        // lost gateway's alarm exists before its lost meters fold under it.
        let mut events = Vec::new();
        let txn = super::begin_write(&self.db).await?;
        for (i, rule) in rules.iter().enumerate() {
            for (_, row) in raise.iter().filter(|(r, _)| *r == i) {
                let id = AlarmId::new_ordered().to_string();
                let mut args = Args::new()
                    .s(&row.tenant_id)
                    .s(&id)
                    .s(&row.subject_id)
                    .s(rule.subject_kind)
                    .s(rule.kind)
                    .s(rule.severity)
                    .s(rule.detail)
                    .t(now);
                // F38: a meter lost behind a lost gateway folds under the gateway's alarm.
                let parent = match row.gateway_id.as_ref().filter(|_| rule.kind == "METER_LOST") {
                    Some(g) => {
                        args = args.s(g);
                        "(SELECT ga.id FROM alarms ga WHERE ga.tenant_id = $1 AND ga.subject_id = $9 AND ga.kind = 'GATEWAY_LOST' AND ga.state = 'ACTIVE')"
                    }
                    None => "NULL",
                };
                // Raised meanwhile (a balance alarm from a posting): the unique index keeps one.
                let sql = format!(
                    "INSERT INTO alarms (tenant_id, id, subject_id, subject_kind, kind, severity, state, parent_id, detail, raised_at)
                     SELECT $1, $2, $3, $4, $5, $6, 'ACTIVE', {parent}, $7, $8 WHERE 1 = 1
                     ON CONFLICT (tenant_id, subject_id, kind) WHERE state = 'ACTIVE' DO NOTHING"
                );
                if txn.execute_raw(stmt(b, &sql, args)).await?.rows_affected() > 0 {
                    events.push(AlarmEvent { tenant_id: row.tenant_id.clone(), alarm_id: id, change: "RAISED" });
                }
            }
            // Clear: active alarms of the kind whose subject no longer meets the condition,
            // judged now, inside the transaction (a subject read as holding above and changed
            // since is raised and cleared in the same commit).
            let (tenant, subject, _) = subject_columns(rule.source);
            let sql = format!(
                "UPDATE alarms SET state = 'CLEARED', cleared_at = $2 WHERE kind = $1 AND state = 'ACTIVE' AND NOT EXISTS (
                   SELECT 1 FROM {source} WHERE {tenant} = alarms.tenant_id AND {subject} = alarms.subject_id AND ({holds}))
                 RETURNING tenant_id, id",
                source = rule.source,
                holds = &rule.holds,
            );
            for r in txn.query_all_raw(stmt(b, &sql, Args::new().s(rule.kind).t(now))).await? {
                events.push(AlarmEvent { tenant_id: r.try_get("", "tenant_id")?, alarm_id: r.try_get("", "id")?, change: "CLEARED" });
            }
        }
        // Park platforms that take alarms get each change.
        let changes: Vec<(String, String, &str)> = events.iter().map(|e| (e.tenant_id.clone(), e.alarm_id.clone(), e.change)).collect();
        super::forwarding::enqueue_alarm_changes(&txn, &changes, now).await?;
        txn.commit().await?;
        self.send_alarm_events(&events);
        Ok(events)
    }
}

/// A subject a rule's condition holds for, with no active alarm of its kind.
#[derive(Debug, Clone)]
struct Raise {
    tenant_id: String,
    subject_id: String,
    /// The gateway a meter is behind (its lost alarm folds under the gateway's).
    gateway_id: Option<String>,
}

impl Raise {
    fn of(r: &sea_orm::QueryResult) -> Result<Self> {
        Ok(Self {
            tenant_id: r.try_get("", "tenant_id")?,
            subject_id: r.try_get("", "subject_id")?,
            gateway_id: r.try_get("", "gateway_id").ok().flatten(),
        })
    }
}

/// Filters of the alarm list.
#[derive(Debug, Clone, Default)]
pub struct AlarmFilter {
    pub active_only: bool,
    pub kind: Option<String>,
    pub subject_id: Option<String>,
    /// Include alarms folded under another (hidden by default).
    pub folded: bool,
    pub limit: u64,
    /// Alarms of one property's meters, gateways and accounts.
    pub property: Option<String>,
}

impl TenantStore {
    /// Live alarm changes (of every tenant: filter by `tenant_id`).
    pub fn alarm_events(&self) -> tokio::sync::broadcast::Receiver<AlarmEvent> {
        self.store.alarm_events.subscribe()
    }

    /// Alarms newest first.
    pub async fn alarms(&self, f: &AlarmFilter) -> Result<Vec<AlarmRow>> {
        let mut sql = format!("SELECT {COLUMNS} FROM alarms WHERE tenant_id = $1");
        let mut args = self.args();
        if f.active_only {
            sql.push_str(" AND state = 'ACTIVE'");
        }
        if !f.folded {
            sql.push_str(" AND parent_id IS NULL");
        }
        if let Some(k) = &f.kind {
            sql.push_str(&format!(" AND kind = ${}", args.push(k.clone().into())));
        }
        if let Some(s) = &f.subject_id {
            sql.push_str(&format!(" AND subject_id = ${}", args.push(s.clone().into())));
        }
        // A scoped operator sees the alarms of its properties' meters, gateways and accounts.
        sql.push_str(&self.subject_scope("subject_id", &mut args));
        if let Some(p) = &f.property {
            sql.push_str(&super::desk::subject_in("subject_id", std::slice::from_ref(p), &mut args));
        }
        sql.push_str(&format!(" ORDER BY raised_at DESC, id DESC LIMIT {}", f.limit.clamp(1, 1000)));
        self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?.iter().map(alarm_row).collect()
    }

    pub async fn alarm(&self, id: &str) -> Result<AlarmRow> {
        let sql = format!("SELECT {COLUMNS} FROM alarms WHERE tenant_id = $1 AND id = $2");
        let row = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id))).await?;
        alarm_row(&row.ok_or(StoreError::NotFound)?)
    }

    /// Acknowledges an alarm (once; the first acknowledgement is kept) and those folded under it.
    pub async fn acknowledge_alarm(&self, id: &str, by: &str, now: DateTime<Utc>) -> Result<AlarmRow> {
        self.alarm(id).await?;
        let sql = "UPDATE alarms SET acknowledged_at = $3, acknowledged_by = $4
                   WHERE tenant_id = $1 AND (id = $2 OR parent_id = $2) AND acknowledged_at IS NULL";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id).t(now).s(by))).await?;
        self.alarm(id).await
    }
}

/// Severity and detail of the balance alarms (the same words as their rules).
fn balance_terms(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "LOW_BALANCE_1" => ("MINOR", "balance at or below alarm amount 1"),
        "LOW_BALANCE_2" => ("MAJOR", "balance at or below alarm amount 2"),
        "ARREARS" => ("MAJOR", "balance below zero, within the credit limit"),
        "BALANCE_EXHAUSTED" => ("CRITICAL", "balance at or below the credit limit: power goes off unless held"),
        _ => ("INFO", "the balance is back above the alarm amounts"),
    }
}

/// Inserts one alarm (ACTIVE unless `cleared`) unless the kind is already active for the
/// subject; queues its messages on the same connection. The event, when one was raised.
pub(crate) async fn raise_in<C: ConnectionTrait>(
    db: &C,
    (tenant, subject_kind, subject): (&str, &str, &str),
    kind: &str,
    (severity, detail): (&str, &str),
    cleared: bool,
    now: DateTime<Utc>,
) -> Result<Option<AlarmEvent>> {
    let id = AlarmId::new_ordered().to_string();
    let (state, cleared_at) = if cleared { ("CLEARED", Some(now)) } else { ("ACTIVE", None) };
    let sql = "INSERT INTO alarms (tenant_id, id, subject_id, subject_kind, kind, severity, state, detail, raised_at, cleared_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
               ON CONFLICT (tenant_id, subject_id, kind) WHERE state = 'ACTIVE' DO NOTHING";
    let args = Args::new().s(tenant).s(&id).s(subject).s(subject_kind).s(kind).s(severity).s(state).s(detail).t(now).ot(cleared_at);
    if db.execute_raw(stmt(db.get_database_backend(), sql, args)).await?.rows_affected() == 0 {
        return Ok(None);
    }
    let alarm = AlarmRow {
        tenant_id: tenant.into(),
        id: id.clone(),
        subject_id: subject.into(),
        subject_kind: subject_kind.into(),
        kind: kind.into(),
        severity: severity.into(),
        state: state.into(),
        parent_id: None,
        detail: detail.into(),
        raised_at: now,
        cleared_at,
        acknowledged_at: None,
        acknowledged_by: None,
        folded: 0,
        // Messages name their subject themselves; the lists read these with the row.
        subject_label: String::new(),
        property_id: None,
    };
    super::notifications::enqueue_messages(db, &alarm, now).await?;
    Ok(Some(AlarmEvent { tenant_id: tenant.into(), alarm_id: id, change: "RAISED" }))
}

/// An account's balance alarms follow the states it entered, in the transaction that moved
/// its balance (F15, F23): entering a state clears the other balance alarms and raises its
/// own; coming back to NORMAL records BALANCE_RESTORED. Each raised alarm's messages are
/// queued in the same transaction. Returns the changes, to publish after commit.
pub(crate) async fn balance_alarms_in<C: ConnectionTrait>(
    db: &C,
    tenant: &str,
    account: &str,
    path: &[domain::ledger::BalanceState],
    now: DateTime<Utc>,
) -> Result<Vec<AlarmEvent>> {
    use domain::ledger::{BALANCE_ALARMS, BALANCE_RESTORED, balance_alarm};
    let b = db.get_database_backend();
    let mut events = Vec::new();
    for state in path {
        let kind = balance_alarm(*state);
        let others: Vec<String> = BALANCE_ALARMS.iter().filter(|k| Some(**k) != kind).map(|k| format!("'{k}'")).collect();
        let sql = format!(
            "UPDATE alarms SET state = 'CLEARED', cleared_at = $3 WHERE tenant_id = $1 AND subject_id = $2 AND state = 'ACTIVE'
             AND kind IN ({}) RETURNING id",
            others.join(", ")
        );
        for r in db.query_all_raw(stmt(b, &sql, Args::new().s(tenant).s(account).t(now))).await? {
            events.push(AlarmEvent { tenant_id: tenant.into(), alarm_id: r.try_get("", "id")?, change: "CLEARED" });
        }
        let (kind, cleared) = match kind {
            Some(k) => (k, false),
            None => (BALANCE_RESTORED, true),
        };
        if let Some(e) = raise_in(db, (tenant, "ACCOUNT", account), kind, balance_terms(kind), cleared, now).await? {
            events.push(e);
        }
    }
    Ok(events)
}

impl Store {
    /// Hands on what a committed posting decided: its commands to the dispatcher, its alarm
    /// changes to the live subscription.
    pub(crate) fn announce(&self, posted: &super::Posted) {
        self.commands.submit(&posted.commands);
        self.publish_alarms(&posted.alarms);
    }

    /// Tells the live subscription about alarm changes that committed.
    pub(crate) fn publish_alarms(&self, events: &[AlarmEvent]) {
        self.send_alarm_events(events);
    }
}
