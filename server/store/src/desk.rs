//! The portal's read models: the overview dashboard (首页概况), the cross-account ledger
//! (财务明细) and a meter's trend. Everything here reads; property scope applies as in every
//! list (a scoped operator's handle counts only its properties).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, QueryResult};

use super::registry::{FEE_STATE_SQL, GatewayRow, METER_FROM, MeterRow, int};
use super::scope::in_list;
use super::sql::{Args, stmt};
use super::{Result, StoreError, TenantStore};
use domain::ids::*;

/// Meter counts by state (relay: every active meter is not opened, closed or tripped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeterCounts {
    pub total: u64,
    pub not_opened: u64,
    pub closed: u64,
    pub tripped: u64,
    pub hold_power: u64,
    pub prepaid: u64,
    pub postpaid: u64,
    pub online: u64,
    pub lost: u64,
    pub never_seen: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayCounts {
    pub total: u64,
    pub online: u64,
    pub lost: u64,
    pub never_seen: u64,
}

/// Energy between instants, summed over meters, primary side, in hundredths of a kWh.
pub type EnergyX100 = i64;

/// A cross-account ledger filter; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub account: Option<AccountId>,
    pub property: Option<PropertyId>,
    pub kind: Option<String>,
    /// The recharge channel: CASH, TRANSFER, WECHAT or ALIPAY.
    pub channel: Option<String>,
    /// The operator's username that posted the entry.
    pub operator: Option<String>,
    pub payee: Option<PayeeId>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// A ledger entry with what the finance list shows beside it.
#[derive(Debug, Clone)]
pub struct DeskEntry {
    pub entry: super::EntryRow,
    pub account_number: String,
    pub payee_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryTotals {
    pub count: u64,
    pub credits_x100: i64,
    pub debits_x100: i64,
}

/// One bucket of a meter's trend: energy used in it (primary side) and average live values
/// (secondary scaled integers, as stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendRow {
    pub at: DateTime<Utc>,
    pub energy_x100: i64,
    pub voltage_a_x10: Option<i64>,
    pub current_a_x1000: Option<i64>,
    pub active_power_x10000: Option<i64>,
    pub power_factor_x1000: Option<i64>,
}

/// Recharge kinds and the channel each names.
pub const RECHARGE_KINDS: [(&str, &str); 4] =
    [("RECHARGE_CASH", "CASH"), ("RECHARGE_TRANSFER", "TRANSFER"), ("RECHARGE_WECHAT", "WECHAT"), ("RECHARGE_ALIPAY", "ALIPAY")];

fn count(r: &QueryResult, col: &str) -> Result<u64> {
    Ok(int(r, col)?.max(0) as u64)
}

/// A SUM over BIGINT is NUMERIC on PostgreSQL and INTEGER on SQLite.
fn sum(r: &QueryResult, col: &str) -> Result<i64> {
    if let Ok(v) = r.try_get::<Option<i64>>("", col) {
        return Ok(v.unwrap_or(0));
    }
    let d: Option<Decimal> = r.try_get("", col)?;
    d.map(|d| i64::try_from(d.trunc().mantissa()).map_err(|_| StoreError::Database(format!("{col} out of range"))))
        .transpose()
        .map(Option::unwrap_or_default)
}

/// ` AND {subject_col} IN (meters, gateways, accounts and payees of these properties)`.
pub(crate) fn subject_in(subject_col: &str, properties: &[String], args: &mut Args) -> String {
    let list = in_list(args, properties);
    format!(
        " AND ({subject_col} IN (SELECT sm.id FROM meters sm WHERE sm.tenant_id = $1 AND sm.property_id IN {list})
          OR {subject_col} IN (SELECT sg.id FROM gateways sg WHERE sg.tenant_id = $1 AND sg.property_id IN {list})
          OR {subject_col} IN (SELECT sm.account_id FROM meters sm WHERE sm.tenant_id = $1 AND sm.account_id IS NOT NULL AND sm.property_id IN {list})
          OR {subject_col} IN (SELECT sp.id FROM payees sp WHERE sp.tenant_id = $1 AND sp.property_id IN {list}))"
    )
}

impl TenantStore {
    /// ` AND {account_col} IN (accounts with a meter in these properties)`, for the handle's
    /// scope and an optional property filter.
    pub(crate) fn account_scope(&self, account_col: &str, property: Option<&PropertyId>, args: &mut Args) -> String {
        let mut out = String::new();
        let mut limit = |props: &[String], args: &mut Args| {
            let list = in_list(args, props);
            out.push_str(&format!(
                " AND {account_col} IN (SELECT sm.account_id FROM meters sm WHERE sm.tenant_id = $1 AND sm.account_id IS NOT NULL AND sm.property_id IN {list})"
            ));
        };
        if let Some(scope) = self.scope() {
            limit(scope, args);
        }
        if let Some(p) = property {
            limit(&[p.as_str().to_string()], args);
        }
        out
    }

    /// ` AND {subject_col} IN (meters, gateways and accounts of the handle's properties)`.
    pub(crate) fn subject_scope(&self, subject_col: &str, args: &mut Args) -> String {
        match self.scope() {
            None => String::new(),
            Some(scope) => subject_in(subject_col, scope, args),
        }
    }

    fn meter_conditions(&self, property: Option<&PropertyId>, args: &mut Args) -> String {
        let mut cond = String::from("m.tenant_id = $1 AND m.retired_at IS NULL");
        cond += &self.scope_clause("m.property_id", args);
        if let Some(p) = property {
            cond += &format!(" AND m.property_id = ${}", args.push(p.as_str().to_string().into()));
        }
        cond
    }

    /// Active meters counted by fee state, link state and billing mode.
    pub async fn meter_counts(&self, property: Option<&PropertyId>) -> Result<MeterCounts> {
        let mut args = self.args();
        let cond = self.meter_conditions(property, &mut args);
        let sql = format!(
            "SELECT fee_state, link, billing_mode, COUNT(*) AS n FROM (
               SELECT {FEE_STATE_SQL} AS fee_state, COALESCE(l.link_state, 'NEVER_SEEN') AS link, m.billing_mode {METER_FROM} WHERE {cond}
             ) s GROUP BY fee_state, link, billing_mode"
        );
        let mut c = MeterCounts::default();
        for r in self.db().query_all_raw(stmt(self.backend(), &sql, args)).await? {
            let n = count(&r, "n")?;
            let fee: String = r.try_get("", "fee_state")?;
            let link: String = r.try_get("", "link")?;
            let mode: String = r.try_get("", "billing_mode")?;
            c.total += n;
            match fee.as_str() {
                "NOT_OPENED" => c.not_opened += n,
                "TRIPPED" => c.tripped += n,
                _ => c.closed += n,
            }
            if fee == "HOLD_POWER" {
                c.hold_power += n;
            }
            if mode == "POST_PAID" {
                c.postpaid += n;
            } else {
                c.prepaid += n;
            }
            match link.as_str() {
                "ONLINE" => c.online += n,
                "LOST" => c.lost += n,
                _ => c.never_seen += n,
            }
        }
        Ok(c)
    }

    pub async fn gateway_counts(&self, property: Option<&PropertyId>) -> Result<GatewayCounts> {
        let mut args = self.args();
        let mut cond = String::from("tenant_id = $1 AND retired_at IS NULL");
        cond += &self.scope_clause("property_id", &mut args);
        if let Some(p) = property {
            cond += &format!(" AND property_id = ${}", args.push(p.as_str().to_string().into()));
        }
        let sql = format!("SELECT link_state, COUNT(*) AS n FROM gateways WHERE {cond} GROUP BY link_state");
        let mut c = GatewayCounts::default();
        for r in self.db().query_all_raw(stmt(self.backend(), &sql, args)).await? {
            let n = count(&r, "n")?;
            let link: String = r.try_get("", "link_state")?;
            c.total += n;
            match link.as_str() {
                "ONLINE" => c.online += n,
                "LOST" => c.lost += n,
                _ => c.never_seen += n,
            }
        }
        Ok(c)
    }

    /// Each active meter's energy register (primary side, hundredths of a kWh) as of its last
    /// reading before `at` (`first` = false) or its first reading ever (`first` = true);
    /// meters with no such reading are absent.
    async fn registers(&self, property: Option<&PropertyId>, at: Option<DateTime<Utc>>) -> Result<HashMap<String, i64>> {
        let mut args = self.args();
        let cond = self.meter_conditions(property, &mut args);
        let (when, order) = match at {
            Some(at) => (format!(" AND r.read_at < ${}", args.push(at.into())), "DESC"),
            None => (String::new(), "ASC"),
        };
        let sql = format!(
            "SELECT m.id, m.pt_ratio, m.ct_ratio,
                    (SELECT r.energy_total_x100 FROM readings r
                      WHERE r.tenant_id = m.tenant_id AND r.meter_id = m.id{when} AND r.energy_total_x100 IS NOT NULL
                      ORDER BY r.read_at {order} LIMIT 1) AS e
             FROM meters m WHERE {cond}"
        );
        let mut out = HashMap::new();
        for r in self.db().query_all_raw(stmt(self.backend(), &sql, args)).await? {
            let Some(e) = super::registry::opt_int(&r, "e")? else { continue };
            let ratio = int(&r, "pt_ratio")? * int(&r, "ct_ratio")?;
            out.insert(r.try_get::<String>("", "id")?, e.saturating_mul(ratio));
        }
        Ok(out)
    }

    /// Energy used between consecutive instants, summed over active meters: for each meter the
    /// growth of its register between its last readings before each instant. A meter first
    /// heard from inside an interval counts from its first reading; a register that went
    /// backwards (a replaced or reset meter) adds nothing.
    pub async fn energy_between(&self, property: Option<&PropertyId>, instants: &[DateTime<Utc>]) -> Result<Vec<EnergyX100>> {
        let first = self.registers(property, None).await?;
        let mut registers = Vec::with_capacity(instants.len());
        for at in instants {
            registers.push(self.registers(property, Some(*at)).await?);
        }
        Ok(registers
            .windows(2)
            .map(|w| {
                w[1].iter()
                    // Absent before the interval: nothing was read before it, so its first
                    // reading ever lies inside it.
                    .filter_map(|(meter, end)| w[0].get(meter).or_else(|| first.get(meter)).map(|start| end - start))
                    .filter(|d| *d > 0)
                    .sum::<i64>()
            })
            .collect())
    }

    /// Recharges (every recharge kind) posted in `[from, to)`, per channel: (channel, amount, count).
    pub async fn recharges_by_channel(
        &self,
        property: Option<&PropertyId>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(String, i64, u64)>> {
        let mut args = self.args();
        let f = args.push(from.into());
        let t = args.push(to.into());
        let scope = self.account_scope("e.account_id", property, &mut args);
        let kinds: Vec<String> = RECHARGE_KINDS.iter().map(|(k, _)| format!("'{k}'")).collect();
        let sql = format!(
            "SELECT e.kind, SUM(e.amount_x100) AS s, COUNT(*) AS n FROM ledger_entries e
             WHERE e.tenant_id = $1 AND e.created_at >= ${f} AND e.created_at < ${t} AND e.kind IN ({}){scope}
             GROUP BY e.kind",
            kinds.join(", ")
        );
        let mut found: HashMap<String, (i64, u64)> = HashMap::new();
        for r in self.db().query_all_raw(stmt(self.backend(), &sql, args)).await? {
            found.insert(r.try_get("", "kind")?, (sum(&r, "s")?, count(&r, "n")?));
        }
        Ok(RECHARGE_KINDS
            .iter()
            .map(|(kind, channel)| {
                let (amount, n) = found.get(*kind).copied().unwrap_or_default();
                (channel.to_string(), amount, n)
            })
            .collect())
    }

    /// Active alarms in scope, not folded under another.
    pub async fn active_alarm_count(&self, property: Option<&PropertyId>) -> Result<u64> {
        let mut args = self.args();
        let mut scope = self.subject_scope("subject_id", &mut args);
        if let Some(p) = property {
            scope += &subject_in("subject_id", &[p.as_str().to_string()], &mut args);
        }
        let sql = format!("SELECT COUNT(*) AS n FROM alarms WHERE tenant_id = $1 AND state = 'ACTIVE' AND parent_id IS NULL{scope}");
        let r = self.db().query_one_raw(stmt(self.backend(), &sql, args)).await?;
        r.map(|r| count(&r, "n")).transpose().map(Option::unwrap_or_default)
    }

    /// Lost meters (at most `limit`), longest silent first.
    pub async fn lost_meters(&self, property: Option<&PropertyId>, limit: u64) -> Result<Vec<MeterRow>> {
        let filter = super::MeterFilter { property_id: property.cloned(), status: Some("LOST".into()), ..Default::default() };
        Ok(self.meters(&filter, 1, limit).await?.0)
    }

    /// Lost gateways (at most `limit`).
    pub async fn lost_gateways(&self, property: Option<&PropertyId>, limit: u64) -> Result<Vec<GatewayRow>> {
        let mut args = self.args();
        let mut cond = String::from("tenant_id = $1 AND retired_at IS NULL AND link_state = 'LOST'");
        cond += &self.scope_clause("property_id", &mut args);
        if let Some(p) = property {
            cond += &format!(" AND property_id = ${}", args.push(p.as_str().to_string().into()));
        }
        let sql = format!(
            "SELECT id, property_id, serial, name, link_state, last_seen_at, retired_at FROM gateways WHERE {cond} ORDER BY last_seen_at, serial LIMIT {limit}"
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        rows.iter().map(super::registry::gateway_row).collect()
    }

    fn entry_conditions(&self, f: &EntryFilter, args: &mut Args) -> String {
        let mut cond = String::from("e.tenant_id = $1");
        cond += &self.account_scope("e.account_id", f.property.as_ref(), args);
        if let Some(a) = &f.account {
            cond += &format!(" AND e.account_id = ${}", args.push(a.as_str().to_string().into()));
        }
        if let Some(k) = &f.kind {
            cond += &format!(" AND e.kind = ${}", args.push(k.clone().into()));
        }
        if let Some(c) = &f.channel {
            let kind = RECHARGE_KINDS.iter().find(|(_, ch)| ch == c).map_or("", |(k, _)| k);
            cond += &format!(" AND e.kind = ${}", args.push(kind.to_string().into()));
        }
        if let Some(o) = &f.operator {
            cond += &format!(" AND e.created_by = ${}", args.push(o.clone().into()));
        }
        if let Some(p) = &f.payee {
            cond += &format!(
                " AND e.id IN (SELECT po.entry_id FROM payment_orders po WHERE po.tenant_id = $1 AND po.entry_id IS NOT NULL AND po.payee_id = ${})",
                args.push(p.as_str().to_string().into())
            );
        }
        if let Some(from) = f.from {
            cond += &format!(" AND e.created_at >= ${}", args.push(from.into()));
        }
        if let Some(to) = f.to {
            cond += &format!(" AND e.created_at < ${}", args.push(to.into()));
        }
        cond
    }

    /// Ledger entries across accounts, newest first, after the cursor entry.
    pub async fn ledger_entries(&self, f: &EntryFilter, after: Option<&str>, limit: u64) -> Result<Vec<DeskEntry>> {
        let mut args = self.args();
        let mut cond = self.entry_conditions(f, &mut args);
        if let Some(id) = after {
            // The cursor must be an entry of this very list (filter and scope): anything else is
            // refused alike, so a cursor says nothing about entries the caller may not see.
            let mut cargs = self.args();
            let ccond = self.entry_conditions(f, &mut cargs);
            let n = cargs.push(id.to_string().into());
            let sql = format!("SELECT e.created_at FROM ledger_entries e WHERE {ccond} AND e.id = ${n}");
            let Some(c) = self.db().query_one_raw(stmt(self.backend(), &sql, cargs)).await? else {
                return Err(StoreError::NotFound);
            };
            let at: DateTime<Utc> = c.try_get("", "created_at")?;
            let a = args.push(at.into());
            let i = args.push(id.to_string().into());
            cond += &format!(" AND (e.created_at < ${a} OR (e.created_at = ${a} AND e.id < ${i}))");
        }
        let cols = super::money::ENTRY_COLS.split(", ").map(|c| format!("e.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {cols}, a.number AS account_number,
                    (SELECT po.payee_id FROM payment_orders po WHERE po.tenant_id = e.tenant_id AND po.entry_id = e.id) AS payee_id
             FROM ledger_entries e JOIN accounts a ON a.tenant_id = e.tenant_id AND a.id = e.account_id
             WHERE {cond} ORDER BY e.created_at DESC, e.id DESC LIMIT {}",
            limit.clamp(1, 1001)
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        rows.iter()
            .map(|r| {
                Ok(DeskEntry {
                    entry: super::money::entry_row(r)?,
                    account_number: r.try_get("", "account_number")?,
                    payee_id: r.try_get("", "payee_id")?,
                })
            })
            .collect()
    }

    /// Count and sums of the entries a filter selects.
    pub async fn ledger_totals(&self, f: &EntryFilter) -> Result<EntryTotals> {
        let mut args = self.args();
        let cond = self.entry_conditions(f, &mut args);
        let sql = format!(
            "SELECT COUNT(*) AS n,
                    SUM(CASE WHEN e.amount_x100 > 0 THEN e.amount_x100 ELSE 0 END) AS credits,
                    SUM(CASE WHEN e.amount_x100 < 0 THEN e.amount_x100 ELSE 0 END) AS debits
             FROM ledger_entries e WHERE {cond}"
        );
        let Some(r) = self.db().query_one_raw(stmt(self.backend(), &sql, args)).await? else { return Ok(EntryTotals::default()) };
        Ok(EntryTotals { count: count(&r, "n")?, credits_x100: sum(&r, "credits")?, debits_x100: sum(&r, "debits")? })
    }

    /// A meter's readings in `[from, to)` folded into buckets of `bucket` starting at `from`:
    /// energy used in each (register growth from the last reading before the bucket, primary
    /// side) and the average of the live values read in it. Empty buckets are left out.
    /// `ratio` = PT × CT of the meter (energy is summed on the primary side).
    pub async fn meter_trend(
        &self,
        meter: &MeterId,
        ratio: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bucket: Duration,
    ) -> Result<Vec<TrendRow>> {
        let sql = "SELECT read_at, energy_total_x100, voltage_a_x10, current_a_x1000, active_power_x10000, power_factor_x1000 FROM readings
                   WHERE tenant_id = $1 AND meter_id = $2 AND read_at >= $3 AND read_at < $4 ORDER BY read_at";
        let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args().s(meter.as_str()).t(from).t(to))).await?;
        let sql = "SELECT energy_total_x100 FROM readings WHERE tenant_id = $1 AND meter_id = $2 AND read_at < $3 AND energy_total_x100 IS NOT NULL
                   ORDER BY read_at DESC LIMIT 1";
        let before = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(meter.as_str()).t(from))).await?;
        let mut last = match before {
            Some(r) => super::registry::opt_int(&r, "energy_total_x100")?.map(|e| e.saturating_mul(ratio)),
            None => None,
        };
        let step = bucket.num_seconds().max(1);
        let mut out: Vec<TrendRow> = Vec::new();
        let mut sums: [(i64, i64); 4] = [(0, 0); 4];
        let flush = |out: &mut Vec<TrendRow>, sums: &mut [(i64, i64); 4]| {
            if let Some(b) = out.last_mut() {
                let avg = |(s, n): (i64, i64)| (n > 0).then(|| s / n);
                b.voltage_a_x10 = avg(sums[0]);
                b.current_a_x1000 = avg(sums[1]);
                b.active_power_x10000 = avg(sums[2]);
                b.power_factor_x1000 = avg(sums[3]);
            }
            *sums = [(0, 0); 4];
        };
        for r in &rows {
            let at: DateTime<Utc> = r.try_get("", "read_at")?;
            let start = from + Duration::seconds((at - from).num_seconds().div_euclid(step) * step);
            if out.last().map(|b| b.at) != Some(start) {
                flush(&mut out, &mut sums);
                out.push(TrendRow {
                    at: start,
                    energy_x100: 0,
                    voltage_a_x10: None,
                    current_a_x1000: None,
                    active_power_x10000: None,
                    power_factor_x1000: None,
                });
            }
            if let Some(e) = super::registry::opt_int(r, "energy_total_x100")? {
                let e = e.saturating_mul(ratio);
                if let (Some(prev), Some(b)) = (last, out.last_mut()) {
                    b.energy_x100 += (e - prev).max(0);
                }
                last = Some(e);
            }
            for (i, col) in ["voltage_a_x10", "current_a_x1000", "active_power_x10000", "power_factor_x1000"].iter().enumerate() {
                if let Some(v) = super::registry::opt_int(r, col)? {
                    sums[i].0 += v;
                    sums[i].1 += 1;
                }
            }
        }
        flush(&mut out, &mut sums);
        Ok(out)
    }
}
