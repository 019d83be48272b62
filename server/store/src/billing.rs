//! Freezes, post-paid bills, shared-area allocation and re-rating. The bill run works on the
//! whole tenant at once (a handful of set queries, then memory, then bulk inserts) so a
//! 100,000-meter month fits in seconds; one account's re-issue takes the same path.

use super::allocation::*;
use super::bulk::{self, Cell, Col};
use super::money::{Guard, Posted, Posting};
use super::sql::stmt;
use super::{Result, StoreError, TenantStore};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::billing::{Period, allocate, line_fen};
use domain::ids::*;
use domain::ledger::{EntryKind, yuan};
use domain::settlement::Point;
use domain::tariff::{TierCycle, TouSource};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, QueryResult};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone)]
pub struct BillLineRow {
    pub line_no: i64,
    pub kind: String,
    pub meter_id: Option<String>,
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    pub amount_x100: i64,
}

#[derive(Debug, Clone)]
pub struct BillRow {
    pub id: BillId,
    pub account_id: AccountId,
    pub period: String,
    pub version: i64,
    pub state: String,
    pub total_x100: i64,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub issued_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub lines: Vec<BillLineRow>,
}

#[derive(Debug, Clone, Default)]
pub struct BillRun {
    pub created: usize,
    /// Accounts not billed, with the reason.
    pub skipped: Vec<(String, String)>,
}

/// Which bills to list.
#[derive(Debug, Clone, Default)]
pub struct BillFilter {
    pub period: Option<String>,
    pub account: Option<AccountId>,
    /// Only accounts with a meter in these properties (a park client's).
    pub properties: Option<Vec<String>>,
    /// Only what the customer may see: ISSUED and PAID (no drafts, no superseded versions).
    pub published_only: bool,
}

/// A meter as billing sees it.
#[derive(Debug, Clone)]
pub(crate) struct BillMeter {
    pub(crate) id: String,
    pub(crate) account: Option<String>,
    pub(crate) property: String,
    pub(crate) address: String,
    pub(crate) ratio: i64,
    pub(crate) tariff: Option<String>,
    pub(crate) post_paid: bool,
    pub(crate) prepaid: bool,
}

pub(crate) type Boundary = HashMap<String, Point>;

pub(crate) const BILL_COLS: &str =
    "id, account_id, period, version, state, total_x100, period_start, period_end, created_at, issued_at, paid_at";

pub(crate) fn bill_row(r: &QueryResult) -> Result<BillRow> {
    let id: String = r.try_get("", "id")?;
    let acc: String = r.try_get("", "account_id")?;
    Ok(BillRow {
        id: BillId::parse(&id).ok_or_else(|| StoreError::Database("bad bill id".into()))?,
        account_id: AccountId::parse(&acc).ok_or_else(|| StoreError::Database("bad account id".into()))?,
        period: r.try_get("", "period")?,
        version: super::registry::int(r, "version")?,
        state: r.try_get("", "state")?,
        total_x100: super::registry::int(r, "total_x100")?,
        period_start: r.try_get("", "period_start")?,
        period_end: r.try_get("", "period_end")?,
        created_at: r.try_get("", "created_at")?,
        issued_at: r.try_get("", "issued_at")?,
        paid_at: r.try_get("", "paid_at")?,
        lines: Vec::new(),
    })
}

impl TenantStore {
    pub(crate) async fn bill_meters(&self, account: Option<&AccountId>) -> Result<Vec<BillMeter>> {
        let (cond, args) = match account {
            Some(a) => (" AND m.account_id = $2", self.args().s(a.as_str())),
            None => ("", self.args()),
        };
        let sql = format!(
            "SELECT m.id, m.account_id, m.property_id, m.address, m.pt_ratio, m.ct_ratio, m.billing_mode,
                    COALESCE(m.tariff_id, p.tariff_id, t.default_tariff_id) AS tariff_id
             FROM meters m JOIN tenants t ON t.id = m.tenant_id JOIN properties p ON p.tenant_id = m.tenant_id AND p.id = m.property_id
             WHERE m.tenant_id = $1 AND m.retired_at IS NULL{cond} ORDER BY m.address"
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        rows.iter()
            .map(|r| {
                Ok(BillMeter {
                    id: r.try_get("", "id")?,
                    account: r.try_get("", "account_id")?,
                    property: r.try_get("", "property_id")?,
                    address: r.try_get("", "address")?,
                    ratio: super::registry::int(r, "pt_ratio")? * super::registry::int(r, "ct_ratio")?,
                    tariff: r.try_get("", "tariff_id")?,
                    post_paid: r.try_get::<String>("", "billing_mode")? == "POST_PAID",
                    prepaid: r.try_get::<String>("", "billing_mode")? == "PLATFORM_PREPAID",
                })
            })
            .collect()
    }

    /// Computes the bills of a period for post-paid accounts (all, one, or those with a
    /// post-paid meter in one property) without writing.
    pub(crate) async fn compute_bills(
        &self,
        period: Period,
        only: Option<&AccountId>,
        property: Option<&PropertyId>,
    ) -> Result<(Vec<(String, Vec<BillLineRow>)>, BillRun)> {
        let (tz, day, hour) = self.calendar().await?;
        let (start, end) = (period.start(tz, day, hour), period.end(tz, day, hour));
        let meters = self.bill_meters(None).await?;
        let at_start = self.registers_at(start, Some(end)).await?;
        let at_end = self.registers_at(end, None).await?;
        let demand = self.demand_registers(start, end).await?;
        let sql = "SELECT id, property_fee_x100 FROM accounts WHERE tenant_id = $1 AND property_fee_x100 <> 0";
        let mut fees: HashMap<String, i64> = HashMap::new();
        for r in self.db().query_all_raw(stmt(self.backend(), sql, self.args())).await? {
            fees.insert(r.try_get("", "id")?, super::registry::int(&r, "property_fee_x100")?);
        }
        // The service fee (F39) of each account: its property's (by its first meter) or the
        // tenant's, as for a recharge.
        let sql = "SELECT m.account_id, COALESCE(p.fee_percent, t.fee_percent) AS pct, COALESCE(p.fee_fixed_x100, t.fee_fixed_x100) AS fixed
                   FROM meters m JOIN tenants t ON t.id = m.tenant_id JOIN properties p ON p.tenant_id = m.tenant_id AND p.id = m.property_id
                   WHERE m.tenant_id = $1 AND m.account_id IS NOT NULL ORDER BY m.id";
        let mut service: HashMap<String, domain::ledger::ServiceFee> = HashMap::new();
        for r in self.db().query_all_raw(stmt(self.backend(), sql, self.args())).await? {
            let acc: String = r.try_get("", "account_id")?;
            let pct: String = r.try_get("", "pct")?;
            let fee =
                domain::ledger::ServiceFee { percent: pct.parse().unwrap_or_default(), fixed_fen: super::registry::int(&r, "fixed")? };
            service.entry(acc).or_insert(fee);
        }
        let mut run = BillRun::default();
        let mut by_account: BTreeMap<String, Vec<&BillMeter>> = BTreeMap::new();
        for m in meters.iter().filter(|m| m.post_paid) {
            if let Some(a) = &m.account
                && only.is_none_or(|o| o.as_str() == a)
            {
                by_account.entry(a.clone()).or_default().push(m);
            }
        }
        if let Some(p) = property {
            by_account.retain(|_, ms| ms.iter().any(|m| m.property == p.as_str()));
        }
        // Shared-area shares of post-paid accounts, by group.
        let groups = self.allocation_groups().await?;
        let mut unbillable: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut shares: HashMap<String, Vec<BillLineRow>> = HashMap::new();
        for g in &groups {
            let post_paid_members: Vec<&(AccountId, Decimal)> =
                g.members.iter().filter(|(a, _)| by_account.contains_key(a.as_str())).collect();
            if post_paid_members.is_empty() {
                continue;
            }
            let Some((energy, cost)) = self.group_cost(g, &meters, &at_start, &at_end, tz).await? else {
                // No share can be computed: its members are not billed without it (that would
                // undercharge silently) but listed for the operator to fix and run again.
                let address =
                    g.meter_id.as_ref().and_then(|id| meters.iter().find(|m| m.id == id.as_str())).map_or("?", |m| m.address.as_str());
                for (acc, _) in post_paid_members {
                    run.skipped.push((
                        acc.to_string(),
                        format!("shared area {}: the common meter {address} has no tariff in force or no readings for the period", g.name),
                    ));
                    unbillable.insert(acc.to_string());
                }
                continue;
            };
            let weights = Self::group_weights(g, &meters, &at_start, &at_end);
            let Ok(parts) = allocate(line_fen(cost), &weights) else {
                for (acc, _) in post_paid_members {
                    run.skipped.push((
                        acc.to_string(),
                        format!("shared area {}: no member used any energy in the period to weigh the shares by", g.name),
                    ));
                    unbillable.insert(acc.to_string());
                }
                continue;
            };
            let total_w: Decimal = weights.iter().copied().sum();
            for (((acc, _), w), part) in g.members.iter().zip(&weights).zip(parts) {
                let (description, quantity) = match energy {
                    Some(energy) => (
                        format!(
                            "{}: {} kWh, {} yuan × {}/{} ({})",
                            g.name,
                            energy.normalize(),
                            yuan(line_fen(cost)),
                            w.normalize(),
                            total_w.normalize(),
                            g.method
                        ),
                        (energy * *w / total_w).round_dp(2).normalize().to_string(),
                    ),
                    None => (
                        format!(
                            "{}: fixed {} yuan × {}/{} ({})",
                            g.name,
                            yuan(line_fen(cost)),
                            w.normalize(),
                            total_w.normalize(),
                            g.method
                        ),
                        "1".to_string(),
                    ),
                };
                shares.entry(acc.to_string()).or_default().push(BillLineRow {
                    line_no: 0,
                    kind: "SHARED_AREA".into(),
                    meter_id: g.meter_id.as_ref().map(ToString::to_string),
                    description,
                    quantity,
                    unit_price: String::new(),
                    amount_x100: part,
                });
            }
        }
        let mut bills = Vec::new();
        'accounts: for (account, ms) in by_account {
            if unbillable.contains(&account) {
                continue;
            }
            let mut lines = Vec::new();
            let mut energy_total = Decimal::ZERO;
            let mut tiers: Option<(TierCycle, domain::tariff::Tiers, Decimal)> = None;
            for m in ms {
                let Some(tariff_id) = &m.tariff else {
                    run.skipped.push((account.clone(), format!("meter {} has no tariff", m.address)));
                    continue 'accounts;
                };
                let history = self.store.tariff_history(&self.db(), self.tenant.as_str(), tariff_id).await?;
                let Some(tariff) = history.at(end - chrono::Duration::seconds(1)).cloned() else {
                    run.skipped.push((account.clone(), format!("meter {} has no tariff in force", m.address)));
                    continue 'accounts;
                };
                let (Some(a), Some(b)) = (at_start.get(&m.id), at_end.get(&m.id)) else {
                    continue; // no reading in or before the period: nothing to bill for this meter
                };
                if b.registers.total < a.registers.total {
                    run.skipped.push((account.clone(), format!("meter {} register went backwards in the period", m.address)));
                    continue 'accounts;
                }
                let (by_rate, source) = self.energy_by_rate(m, &tariff, tz, a, b).await?;
                for (rate, kwh) in &by_rate {
                    let price = tariff.prices.price(*rate).unwrap_or_default();
                    lines.push(BillLineRow {
                        line_no: 0,
                        kind: "ENERGY".into(),
                        meter_id: Some(m.id.clone()),
                        description: format!(
                            "meter {} {} ({} → {}, {})",
                            m.address,
                            rate.as_str(),
                            a.registers.total,
                            b.registers.total,
                            if source == TouSource::MeterRegisters { "meter registers" } else { "platform calendar" }
                        ),
                        quantity: kwh.normalize().to_string(),
                        unit_price: price.normalize().to_string(),
                        amount_x100: line_fen(*kwh * price),
                    });
                    energy_total += *kwh;
                }
                if let Some(kw_price) = tariff.capacity_price_per_kw
                    && let Some(kw) = self.max_demand(m, demand.get(&m.id).copied(), start, end).await?
                {
                    lines.push(BillLineRow {
                        line_no: 0,
                        kind: "CAPACITY".into(),
                        meter_id: Some(m.id.clone()),
                        description: format!("meter {} maximum 15-minute demand", m.address),
                        quantity: kw.normalize().to_string(),
                        unit_price: kw_price.normalize().to_string(),
                        amount_x100: line_fen(kw * kw_price),
                    });
                }
                if tiers.is_none()
                    && let Some((cycle, t)) = &tariff.tiers
                {
                    let used = if *cycle == TierCycle::Yearly { self.year_energy_before(&account, period).await? } else { Decimal::ZERO };
                    tiers = Some((*cycle, t.clone(), used));
                }
            }
            if let Some((_, t, used)) = tiers {
                for (kwh, add) in t.split(used, energy_total) {
                    if !add.is_zero() {
                        lines.push(BillLineRow {
                            line_no: 0,
                            kind: "TIER".into(),
                            meter_id: None,
                            description: format!("tier increment above {} kWh used in the cycle", used.normalize()),
                            quantity: kwh.normalize().to_string(),
                            unit_price: add.normalize().to_string(),
                            amount_x100: line_fen(kwh * add),
                        });
                    }
                }
            }
            lines.extend(shares.remove(&account).unwrap_or_default());
            if let Some(fee) = fees.get(&account).copied() {
                lines.push(BillLineRow {
                    line_no: 0,
                    kind: "PROPERTY_FEE".into(),
                    meter_id: None,
                    description: "property fee (物业费)".into(),
                    quantity: "1".into(),
                    unit_price: yuan(fee).to_string(),
                    amount_x100: fee,
                });
            }
            let subtotal: i64 = lines.iter().map(|l| l.amount_x100).sum();
            if let Some(fee) = service.get(&account)
                && let Some(amount) = fee.on_bill(subtotal)
            {
                lines.push(BillLineRow {
                    line_no: 0,
                    kind: "SERVICE_FEE".into(),
                    meter_id: None,
                    description: format!(
                        "service fee (服务费) {}% of {} + {} yuan",
                        fee.percent.normalize(),
                        yuan(subtotal),
                        yuan(fee.fixed_fen)
                    ),
                    quantity: "1".into(),
                    unit_price: yuan(amount).to_string(),
                    amount_x100: amount,
                });
            }
            for (i, l) in lines.iter_mut().enumerate() {
                l.line_no = i as i64 + 1;
            }
            bills.push((account, lines));
        }
        Ok((bills, run))
    }

    /// Energy of an account's issued or paid bills earlier in the same year (yearly tiers).
    pub(crate) async fn year_energy_before(&self, account: &str, period: Period) -> Result<Decimal> {
        let sql = "SELECT l.quantity FROM bill_lines l JOIN bills b ON b.tenant_id = l.tenant_id AND b.id = l.bill_id
                   WHERE l.tenant_id = $1 AND b.account_id = $2 AND l.kind = 'ENERGY' AND b.state <> 'SUPERSEDED'
                   AND b.period >= $3 AND b.period < $4";
        let args = self.args().s(account).s(format!("{:04}-01", period.year)).s(period.key());
        let rows = self.db().query_all_raw(stmt(self.backend(), sql, args)).await?;
        Ok(rows.iter().filter_map(|r| r.try_get::<String>("", "quantity").ok()?.parse::<Decimal>().ok()).sum())
    }

    /// What a group shares in the period: the common meter's energy and exact cost priced
    /// with its own tariff, or the fixed amount (no energy). `None` when the common meter has
    /// no readings or no tariff for the period.
    pub(crate) async fn group_cost(
        &self,
        g: &AllocationGroupRow,
        meters: &[BillMeter],
        at_start: &Boundary,
        at_end: &Boundary,
        tz: Tz,
    ) -> Result<Option<(Option<Decimal>, Decimal)>> {
        let Some(meter) = &g.meter_id else {
            return Ok(g.fixed_amount_x100.map(|fen| (None, yuan(fen))));
        };
        let Some(m) = meters.iter().find(|m| m.id == meter.as_str()) else { return Ok(None) };
        let (Some(a), Some(b)) = (at_start.get(&m.id), at_end.get(&m.id)) else { return Ok(None) };
        let Some(tariff_id) = &m.tariff else { return Ok(None) };
        let history = self.store.tariff_history(&self.db(), self.tenant.as_str(), tariff_id).await?;
        // The tariff in force just before the end point: a meter's own freeze sits exactly on
        // the boundary, where the next period's version may start.
        let Some(tariff) = history.at(b.at - chrono::Duration::seconds(1)).cloned() else { return Ok(None) };
        let (by_rate, _) = self.energy_by_rate(m, &tariff, tz, a, b).await?;
        let energy = by_rate.values().copied().sum();
        let cost = by_rate.iter().map(|(r, e)| *e * tariff.prices.price(*r).unwrap_or_default()).sum();
        Ok(Some((Some(energy), cost)))
    }

    pub(crate) async fn insert_bill<C: ConnectionTrait>(
        &self,
        db: &C,
        account: &str,
        period: Period,
        version: i64,
        lines: &[BillLineRow],
        (start, end): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<String> {
        let id = uuid::Uuid::new_v4().to_string();
        let total: i64 = lines.iter().map(|l| l.amount_x100).sum();
        let sql = "INSERT INTO bills (tenant_id, id, account_id, period, version, state, total_x100, period_start, period_end, created_at)
                   VALUES ($1, $2, $3, $4, $5, 'DRAFT', $6, $7, $8, $9)";
        db.execute_raw(stmt(
            self.backend(),
            sql,
            self.args().s(id.clone()).s(account).s(period.key()).i(version).i(total).t(start).t(end).t(Utc::now()),
        ))
        .await?;
        let rows: Vec<Vec<Cell>> = lines
            .iter()
            .map(|l| {
                vec![
                    Cell::Text(self.tenant.to_string()),
                    Cell::Text(id.clone()),
                    Cell::Int(l.line_no),
                    Cell::Text(l.kind.clone()),
                    Cell::opt_text(l.meter_id.clone()),
                    Cell::Text(l.description.clone()),
                    Cell::Text(l.quantity.clone()),
                    Cell::Text(l.unit_price.clone()),
                    Cell::Int(l.amount_x100),
                ]
            })
            .collect();
        bulk::insert(
            db,
            "bill_lines",
            &[
                ("tenant_id", Col::Text),
                ("bill_id", Col::Text),
                ("line_no", Col::Int),
                ("kind", Col::Text),
                ("meter_id", Col::Text),
                ("description", Col::Text),
                ("quantity", Col::Text),
                ("unit_price", Col::Text),
                ("amount_x100", Col::Int),
            ],
            &rows,
            "",
        )
        .await?;
        Ok(id)
    }

    /// Monthly fees of prepaid accounts, for the billing period that ended last: each open
    /// account with a property fee (物业费) and a platform-prepaid meter is charged the fee
    /// (PROPERTY_FEE_CHARGE), and each platform-prepaid meter whose tariff has a capacity price
    /// is charged its maximum 15-minute demand × that price (CAPACITY_FEE_CHARGE, 基本电费) —
    /// through the ledger like any charge (the state machine may trip), once: each charge is
    /// keyed by (account or meter, period), so running again changes nothing. Accounts opened
    /// after the period ended are not charged for it. Returns the charges posted.
    pub async fn charge_monthly_fees(&self, now: DateTime<Utc>) -> Result<usize> {
        let (tz, day, hour) = self.calendar().await?;
        let period = Period::containing(now, tz, day, hour).previous();
        let (start, end) = (period.start(tz, day, hour), period.end(tz, day, hour));
        // What this period charged already, in one read: the job looks every few minutes and
        // mostly finds everything done.
        let sql = "SELECT external_ref FROM ledger_entries WHERE tenant_id = $1 AND kind IN ('PROPERTY_FEE_CHARGE', 'CAPACITY_FEE_CHARGE')
                   AND external_ref LIKE $2";
        let charged: std::collections::HashSet<String> = self
            .db()
            .query_all_raw(stmt(self.backend(), sql, self.args().s(format!("%:{}", period.key()))))
            .await?
            .iter()
            .map(|r| r.try_get::<String>("", "external_ref"))
            .collect::<std::result::Result<_, _>>()?;
        let mut charges: Vec<(AccountId, Posting)> = Vec::new();
        let sql = "SELECT a.id, a.property_fee_x100 FROM accounts a WHERE a.tenant_id = $1 AND a.state = 'OPEN' AND a.property_fee_x100 > 0
                   AND a.created_at < $2 AND EXISTS (SELECT 1 FROM meters m WHERE m.tenant_id = a.tenant_id AND m.account_id = a.id
                   AND m.billing_mode = 'PLATFORM_PREPAID' AND m.retired_at IS NULL)
                   AND NOT EXISTS (SELECT 1 FROM meters m WHERE m.tenant_id = a.tenant_id AND m.account_id = a.id
                   AND m.billing_mode = 'POST_PAID' AND m.retired_at IS NULL) ORDER BY a.id";
        for r in self.db().query_all_raw(stmt(self.backend(), sql, self.args().t(end))).await? {
            let Some(account) = AccountId::parse(&r.try_get::<String>("", "id")?) else { continue };
            let fee = super::registry::int(&r, "property_fee_x100")?;
            let key = format!("{account}:{}", period.key());
            if charged.contains(&key) {
                continue;
            }
            let mut p = Posting::new(EntryKind::PropertyFeeCharge, -fee, &format!("property fee (物业费) {}", period.key()));
            p.external_ref = Some(key);
            charges.push((account, p));
        }
        // Capacity: a prepaid meter's demand goes to the account it is on, if that account
        // was open during the period (a new occupant does not pay the last one's demand).
        let sql = "SELECT id FROM accounts WHERE tenant_id = $1 AND state = 'OPEN' AND created_at < $2";
        let eligible: std::collections::HashSet<String> = self
            .db()
            .query_all_raw(stmt(self.backend(), sql, self.args().t(end)))
            .await?
            .iter()
            .map(|r| r.try_get::<String>("", "id"))
            .collect::<std::result::Result<_, _>>()?;
        // The month's demand registers are read only once a meter needs them.
        let mut demand: Option<HashMap<String, i64>> = None;
        for m in self.bill_meters(None).await?.iter().filter(|m| m.prepaid) {
            let (Some(account), Some(tariff_id)) = (m.account.as_deref().and_then(AccountId::parse), &m.tariff) else { continue };
            let key = format!("{}:{}", m.id, period.key());
            if !eligible.contains(account.as_str()) || charged.contains(&key) {
                continue;
            }
            let history = self.store.tariff_history(&self.db(), self.tenant.as_str(), tariff_id).await?;
            let Some(kw_price) = history.at(end - chrono::Duration::seconds(1)).and_then(|t| t.capacity_price_per_kw) else { continue };
            if demand.is_none() {
                demand = Some(self.demand_registers(start, end).await?);
            }
            let register = demand.as_ref().and_then(|d| d.get(&m.id).copied());
            let Some(kw) = self.max_demand(m, register, start, end).await? else { continue };
            let fen = line_fen(kw * kw_price);
            if fen <= 0 {
                continue;
            }
            let note = format!(
                "capacity fee (基本电费) {}: meter {} maximum demand {} kW × {}",
                period.key(),
                m.address,
                kw.normalize(),
                kw_price.normalize()
            );
            let mut p = Posting::new(EntryKind::CapacityFeeCharge, -fen, &note);
            p.meter_id = Some(m.id.clone());
            p.external_ref = Some(key);
            charges.push((account, p));
        }
        let mut posted = 0;
        for (account, p) in charges {
            // Another worker may post the same charge at once: the ledger's unique key on
            // (kind, external_ref) lets one through and answers the other with a conflict.
            let txn = self.db().begin().await?;
            match self.post(&txn, &account, vec![p], false, Guard::None).await {
                Ok(done) => {
                    txn.commit().await?;
                    self.store.announce(&done);
                    posted += 1;
                }
                // Charged meanwhile by another worker, or the account closed: nothing to do.
                Err(StoreError::Conflict(_) | StoreError::Duplicate) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(posted)
    }

    /// The month-end bill run: a draft bill for every post-paid account without one.
    pub async fn run_bills(&self, period: Period, property: Option<&PropertyId>) -> Result<BillRun> {
        let (tz, day, hour) = self.calendar().await?;
        let (start, end) = (period.start(tz, day, hour), period.end(tz, day, hour));
        let (bills, mut run) = self.compute_bills(period, None, property).await?;
        let sql = "SELECT DISTINCT account_id FROM bills WHERE tenant_id = $1 AND period = $2";
        let existing: std::collections::HashSet<String> = self
            .store
            .db
            .query_all_raw(stmt(self.backend(), sql, self.args().s(period.key())))
            .await?
            .iter()
            .filter_map(|r| r.try_get("", "account_id").ok())
            .collect();
        let txn = self.db().begin().await?;
        for (account, lines) in bills.iter().filter(|(a, _)| !existing.contains(a)) {
            self.insert_bill(&txn, account, period, 1, lines, (start, end)).await?;
            run.created += 1;
        }
        txn.commit().await?;
        Ok(run)
    }

    /// The first thousand bills, newest period first (see [`TenantStore::bills_where`]).
    pub async fn bills(&self, period: Option<&str>, account: Option<&AccountId>, with_lines: bool) -> Result<Vec<BillRow>> {
        self.bills_where(
            &BillFilter { period: period.map(Into::into), account: account.cloned(), ..Default::default() },
            0,
            1000,
            with_lines,
        )
        .await
    }

    /// Bills newest period first, then by account and version (newest first): a page of
    /// `limit` after skipping `offset`, in a total order, so paging walks every bill once.
    pub async fn bills_where(&self, f: &BillFilter, offset: u64, limit: u64, with_lines: bool) -> Result<Vec<BillRow>> {
        let mut cond = String::new();
        let mut args = self.args();
        if let Some(p) = &f.period {
            cond.push_str(&format!(" AND period = ${}", args.push(p.clone().into())));
        }
        if let Some(a) = &f.account {
            cond.push_str(&format!(" AND account_id = ${}", args.push(a.to_string().into())));
        }
        if let Some(properties) = &f.properties {
            let marks: Vec<String> = properties.iter().map(|p| format!("${}", args.push(p.clone().into()))).collect();
            let list = if marks.is_empty() { "NULL".to_string() } else { marks.join(", ") };
            cond.push_str(&format!(
                " AND account_id IN (SELECT m.account_id FROM meters m WHERE m.tenant_id = $1 AND m.account_id IS NOT NULL AND m.property_id IN ({list}))"
            ));
        }
        if f.published_only {
            cond.push_str(" AND state IN ('ISSUED', 'PAID')");
        }
        // A scoped handle sees the bills of accounts with a meter in its properties.
        cond.push_str(&self.account_scope("account_id", None, &mut args));
        let sql = format!(
            "SELECT {BILL_COLS} FROM bills WHERE tenant_id = $1{cond} ORDER BY period DESC, account_id, version DESC, id LIMIT {} OFFSET {}",
            limit.clamp(1, 1000),
            offset
        );
        let mut out: Vec<BillRow> =
            self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?.iter().map(bill_row).collect::<Result<_>>()?;
        if with_lines {
            for b in &mut out {
                b.lines = self.bill_lines(&b.id).await?;
            }
        }
        Ok(out)
    }

    pub(crate) async fn bill_lines(&self, id: &BillId) -> Result<Vec<BillLineRow>> {
        let sql = "SELECT line_no, kind, meter_id, description, quantity, unit_price, amount_x100 FROM bill_lines WHERE tenant_id = $1 AND bill_id = $2 ORDER BY line_no";
        let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args().s(id.as_str()))).await?;
        rows.iter()
            .map(|r| {
                Ok(BillLineRow {
                    line_no: super::registry::int(r, "line_no")?,
                    kind: r.try_get("", "kind")?,
                    meter_id: r.try_get("", "meter_id")?,
                    description: r.try_get("", "description")?,
                    quantity: r.try_get("", "quantity")?,
                    unit_price: r.try_get("", "unit_price")?,
                    amount_x100: super::registry::int(r, "amount_x100")?,
                })
            })
            .collect()
    }

    pub async fn bill(&self, id: &BillId) -> Result<Option<BillRow>> {
        let sql = format!("SELECT {BILL_COLS} FROM bills WHERE tenant_id = $1 AND id = $2");
        let Some(r) = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id.as_str()))).await? else { return Ok(None) };
        let mut b = bill_row(&r)?;
        b.lines = self.bill_lines(id).await?;
        Ok(Some(b))
    }

    /// DRAFT → ISSUED → PAID; anything else is a conflict.
    pub async fn advance_bill(&self, id: &BillId, to: &str) -> Result<BillRow> {
        // PAID goes through `pay_bill` (the ledger records the payment).
        let (from, col) = match to {
            "ISSUED" => ("DRAFT", "issued_at"),
            _ => return Err(StoreError::Conflict("unknown bill state".into())),
        };
        let now = Utc::now();
        let txn = self.db().begin().await?;
        let sql = format!("UPDATE bills SET state = $3, {col} = $4 WHERE tenant_id = $1 AND id = $2 AND state = $5");
        let done = txn.execute_raw(stmt(self.backend(), &sql, self.args().s(id.as_str()).s(to).t(now).s(from))).await?;
        if done.rows_affected() == 1 && super::forwarding::any_target(&txn, &[self.tenant.to_string()]).await? {
            // An issued bill reaches the park platforms that take bills (same transaction).
            let sql = "SELECT account_id FROM bills WHERE tenant_id = $1 AND id = $2";
            let r = txn.query_one_raw(stmt(self.backend(), sql, self.args().s(id.as_str()))).await?.ok_or(StoreError::NotFound)?;
            let account: String = r.try_get("", "account_id")?;
            let event = super::forwarding::Event {
                tenant: self.tenant.to_string(),
                kind: "BILL",
                reference: id.to_string(),
                properties: super::forwarding::account_properties(&txn, self.tenant.as_str(), &account).await?,
                subject: account,
                at: now,
            };
            super::forwarding::enqueue(&txn, &[event], now).await?;
        }
        txn.commit().await?;
        let bill = self.bill(id).await?.ok_or(StoreError::NotFound)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!("the bill is {}; only a {from} bill can become {to}", bill.state)));
        }
        Ok(bill)
    }

    /// Records an issued bill's payment taken by an operator: the bill becomes PAID and the
    /// account's ledger gets the money received (BILL_PAYMENT, with a receipt) and its
    /// application to the bill (BILL_SETTLEMENT), in one transaction: a bill is paid at most
    /// once, whatever arrives twice. `amount`, when given, must be the bill's total. The
    /// balance does not move (a post-paid account owes through its bills, not its balance).
    pub async fn pay_bill(&self, id: &BillId, amount: Option<i64>, channel: &str, reference: &str) -> Result<(BillRow, Posted)> {
        let txn = self.db().begin().await?;
        let posted = self.pay_bill_in(&txn, id, amount, channel, reference, None).await?;
        txn.commit().await?;
        self.store.announce(&posted);
        Ok((self.bill(id).await?.ok_or(StoreError::NotFound)?, posted))
    }

    /// The payment of a bill inside `txn` (the desk's, or a paid bill order's with the
    /// channel's transaction id as the entry's external reference: posted once per id).
    pub(crate) async fn pay_bill_in(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        id: &BillId,
        amount: Option<i64>,
        channel: &str,
        reference: &str,
        external_ref: Option<&str>,
    ) -> Result<Posted> {
        // Write first (SQLite: a transaction that reads first cannot later take the write lock
        // while another writer commits); a refusal below rolls the transaction back.
        let sql = "UPDATE bills SET state = 'PAID', paid_at = $3 WHERE tenant_id = $1 AND id = $2 AND state = 'ISSUED'";
        let moved = txn.execute_raw(stmt(self.backend(), sql, self.args().s(id.as_str()).t(Utc::now()))).await?.rows_affected() == 1;
        let sql = format!("SELECT {BILL_COLS} FROM bills WHERE tenant_id = $1 AND id = $2");
        let bill = match txn.query_one_raw(stmt(self.backend(), &sql, self.args().s(id.as_str()))).await? {
            Some(r) => bill_row(&r)?,
            None => return Err(StoreError::NotFound),
        };
        if let Some(a) = amount
            && a != bill.total_x100
        {
            return Err(StoreError::Invalid(domain::Invalid::new(
                "amount",
                format!("must be the bill's total of {}", yuan(bill.total_x100)),
            )));
        }
        if !moved {
            return Err(StoreError::Conflict(format!("the bill is {}; only an ISSUED bill can become PAID", bill.state)));
        }
        if bill.total_x100 <= 0 {
            return Err(StoreError::Conflict("the bill comes to nothing; there is nothing to pay".into()));
        }
        let what = format!("bill {} v{}", bill.period, bill.version);
        let mut paid = Posting::new(EntryKind::BillPayment, bill.total_x100, &format!("{what} {channel}"));
        paid.detail = if reference.is_empty() { channel.to_string() } else { format!("{channel} {reference}") };
        paid.external_ref = external_ref.map(str::to_string);
        let settled = Posting::new(EntryKind::BillSettlement, -bill.total_x100, &what);
        self.post(txn, &bill.account_id, vec![paid, settled], true, Guard::None).await
    }

    /// Re-issues a bill after a correction: computed afresh as a new version; the old one is
    /// superseded. A paid bill is not re-issued.
    pub async fn reissue_bill(&self, id: &BillId) -> Result<BillRow> {
        let old = self.bill(id).await?.ok_or(StoreError::NotFound)?;
        if old.state == "PAID" || old.state == "SUPERSEDED" {
            return Err(StoreError::Conflict(format!("a {} bill cannot be re-issued", old.state)));
        }
        let period = Period::parse(&old.period).map_err(|e| StoreError::Database(e.message))?;
        let (bills, run) = self.compute_bills(period, Some(&old.account_id), None).await?;
        if let Some((_, why)) = run.skipped.first() {
            return Err(StoreError::Conflict(why.clone()));
        }
        let lines = bills.into_iter().next().map(|b| b.1).unwrap_or_default();
        let txn = self.db().begin().await?;
        let sql = "UPDATE bills SET state = 'SUPERSEDED' WHERE tenant_id = $1 AND id = $2 AND state IN ('DRAFT', 'ISSUED')";
        if txn.execute_raw(stmt(self.backend(), sql, self.args().s(id.as_str()))).await?.rows_affected() == 0 {
            return Err(StoreError::Conflict("the bill changed meanwhile".into()));
        }
        let sql = "SELECT COALESCE(MAX(version), 0) AS v FROM bills WHERE tenant_id = $1 AND account_id = $2 AND period = $3";
        let v = txn
            .query_one_raw(stmt(self.backend(), sql, self.args().s(old.account_id.as_str()).s(old.period.clone())))
            .await?
            .map(|r| super::registry::int(&r, "v"))
            .transpose()?
            .unwrap_or(0);
        let new_id = self.insert_bill(&txn, old.account_id.as_str(), period, v + 1, &lines, (old.period_start, old.period_end)).await?;
        txn.commit().await?;
        self.bill(&BillId::parse(&new_id).ok_or(StoreError::NotFound)?).await?.ok_or(StoreError::NotFound)
    }

    // ---- shared areas ----

    // ---- re-rating ----
}
