//! Shared areas (公摊): allocation groups, their members and weights, and runs that post each
//! member's share exactly to the fen.

use super::money::{Guard, Posting};
use super::sql::stmt;
use super::{Result, StoreError, TenantStore};
use chrono::Utc;
use domain::billing::{Period, allocate, line_fen};
use domain::ids::*;
use domain::ledger::EntryKind;
use domain::metering::{from_scaled, scale};
use rust_decimal::Decimal;
use sea_orm::ConnectionTrait;

#[derive(Debug, Clone)]
pub struct AllocationGroupRow {
    pub id: GroupId,
    pub name: String,
    /// The common meter whose energy is shared; `None` for a fixed amount.
    pub meter_id: Option<MeterId>,
    /// A cost not metered, in fen per period (固定金额公摊); `None` for a metered group.
    pub fixed_amount_x100: Option<i64>,
    /// AREA (m²), SHARES, or ENERGY (each member's own metered energy in the period).
    pub method: String,
    pub members: Vec<(AccountId, Decimal)>,
    pub retired_at: Option<chrono::DateTime<Utc>>,
}

/// What a group shares: a common meter's energy, or a fixed amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedCost {
    Meter(MeterId),
    Fixed(i64),
}

/// One member's part of a run.
#[derive(Debug, Clone)]
pub struct ShareRow {
    pub account_id: AccountId,
    pub weight: Decimal,
    pub amount_x100: i64,
    /// POSTED, ON_BILL or ZERO.
    pub disposition: String,
    pub entry_id: Option<String>,
}

/// A group's allocation for one period, as run.
#[derive(Debug, Clone)]
pub struct AllocationRunRow {
    pub group_id: GroupId,
    pub period: String,
    pub period_start: chrono::DateTime<Utc>,
    /// The common meter's energy (kWh); `None` for a fixed amount.
    pub energy: Option<Decimal>,
    pub amount_x100: i64,
    pub created_at: chrono::DateTime<Utc>,
    pub shares: Vec<ShareRow>,
}

impl TenantStore {
    pub async fn create_allocation_group(
        &self,
        name: &str,
        cost: &SharedCost,
        method: &str,
        members: &[(AccountId, Decimal)],
    ) -> Result<AllocationGroupRow> {
        let b = self.backend();
        let txn = self.db().begin().await?;
        let id = GroupId::from_uuid(uuid::Uuid::new_v4());
        let done = match cost {
            SharedCost::Meter(meter) => {
                let sql = "INSERT INTO allocation_groups (tenant_id, id, name, meter_id, method, created_at) SELECT $1, $2, $3, id, $5, $6 FROM meters WHERE tenant_id = $1 AND id = $4 AND retired_at IS NULL";
                txn.execute_raw(stmt(b, sql, self.args().s(id.as_str()).s(name).s(meter.as_str()).s(method).t(Utc::now()))).await?
            }
            SharedCost::Fixed(fen) => {
                let sql = "INSERT INTO allocation_groups (tenant_id, id, name, meter_id, fixed_amount_x100, method, created_at) VALUES ($1, $2, $3, '', $4, $5, $6)";
                txn.execute_raw(stmt(b, sql, self.args().s(id.as_str()).s(name).i(*fen).s(method).t(Utc::now()))).await?
            }
        };
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        for (acc, w) in members {
            let sql = "INSERT INTO allocation_members (tenant_id, group_id, account_id, weight) SELECT $1, $2, id, $4 FROM accounts WHERE tenant_id = $1 AND id = $3";
            if txn.execute_raw(stmt(b, sql, self.args().s(id.as_str()).s(acc.as_str()).s(w.to_string()))).await?.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
        }
        txn.commit().await?;
        self.allocation_group(&id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn allocation_group(&self, id: &GroupId) -> Result<Option<AllocationGroupRow>> {
        Ok(self.allocation_groups_all().await?.into_iter().find(|g| g.id == *id))
    }

    /// Retires a group: no later bill or run uses it; its past runs stay readable.
    pub async fn retire_allocation_group(&self, id: &GroupId) -> Result<AllocationGroupRow> {
        let sql = "UPDATE allocation_groups SET retired_at = $3 WHERE tenant_id = $1 AND id = $2 AND retired_at IS NULL";
        let done = self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id.as_str()).t(Utc::now()))).await?;
        let g = self.allocation_group(id).await?.ok_or(StoreError::NotFound)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict("the group is already retired".into()));
        }
        Ok(g)
    }

    /// Each member account's own energy in a period (kWh, primary side): the ENERGY method's
    /// weights. A meter without a reading at both ends counts nothing.
    pub(crate) fn member_energy(
        members: &[(AccountId, Decimal)],
        meters: &[super::billing::BillMeter],
        at_start: &super::billing::Boundary,
        at_end: &super::billing::Boundary,
    ) -> Vec<Decimal> {
        members
            .iter()
            .map(|(acc, _)| {
                meters
                    .iter()
                    .filter(|m| m.account.as_deref() == Some(acc.as_str()))
                    .filter_map(|m| {
                        let (a, b) = (at_start.get(&m.id)?, at_end.get(&m.id)?);
                        (b.registers.total >= a.registers.total).then(|| (b.registers.total - a.registers.total) * Decimal::from(m.ratio))
                    })
                    .sum()
            })
            .collect()
    }

    /// The floor area (m²) of the areas an account's meters are in, each area counted once;
    /// `None` when none of them has one.
    pub async fn account_floor_area(&self, account: &AccountId) -> Result<Option<Decimal>> {
        let sql = "SELECT SUM(a.floor_area_m2_x100) AS s FROM areas a WHERE a.tenant_id = $1 AND a.id IN
                   (SELECT DISTINCT m.area_id FROM meters m WHERE m.tenant_id = $1 AND m.account_id = $2 AND m.retired_at IS NULL)";
        let r = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(account.as_str()))).await?;
        let sum = match r {
            Some(r) => r
                .try_get::<Option<i64>>("", "s")
                .or_else(|_| r.try_get::<Option<Decimal>>("", "s").map(|d| d.and_then(|d| i64::try_from(d.mantissa()).ok())))?,
            None => None,
        };
        Ok(sum.filter(|s| *s > 0).map(|s| from_scaled(s, 2).normalize()))
    }

    /// The groups in use (not retired).
    pub async fn allocation_groups(&self) -> Result<Vec<AllocationGroupRow>> {
        Ok(self.allocation_groups_all().await?.into_iter().filter(|g| g.retired_at.is_none()).collect())
    }

    /// Every group, retired ones included.
    pub async fn allocation_groups_all(&self) -> Result<Vec<AllocationGroupRow>> {
        let b = self.backend();
        let groups = self
            .db()
            .query_all_raw(stmt(
                b,
                "SELECT id, name, meter_id, fixed_amount_x100, method, retired_at FROM allocation_groups WHERE tenant_id = $1 ORDER BY name, id",
                self.args(),
            ))
            .await?;
        let members = self
            .db()
            .query_all_raw(stmt(
                b,
                "SELECT group_id, account_id, weight FROM allocation_members WHERE tenant_id = $1 ORDER BY account_id",
                self.args(),
            ))
            .await?;
        let mut out = Vec::new();
        for g in groups {
            let gid: String = g.try_get("", "id")?;
            let mut ms = Vec::new();
            for m in members.iter().filter(|m| m.try_get::<String>("", "group_id").ok().as_deref() == Some(gid.as_str())) {
                let acc: String = m.try_get("", "account_id")?;
                let w: String = m.try_get("", "weight")?;
                if let (Some(a), Ok(w)) = (AccountId::parse(&acc), w.parse()) {
                    ms.push((a, w));
                }
            }
            let meter: String = g.try_get("", "meter_id")?;
            let fixed = match g.try_get::<Option<i64>>("", "fixed_amount_x100") {
                Ok(v) => v,
                Err(_) => g.try_get::<Option<Decimal>>("", "fixed_amount_x100")?.and_then(|d| i64::try_from(d.mantissa()).ok()),
            };
            out.push(AllocationGroupRow {
                id: GroupId::parse(&gid).ok_or(StoreError::NotFound)?,
                name: g.try_get("", "name")?,
                meter_id: if meter.is_empty() { None } else { Some(MeterId::parse(&meter).ok_or(StoreError::NotFound)?) },
                fixed_amount_x100: fixed,
                method: g.try_get("", "method")?,
                members: ms,
                retired_at: g.try_get("", "retired_at")?,
            });
        }
        Ok(out)
    }

    /// A group's runs, newest period first, with every member's share.
    pub async fn allocation_runs(&self, group: &GroupId) -> Result<Vec<AllocationRunRow>> {
        let b = self.backend();
        let sql = "SELECT r.period, r.period_start, r.energy_x100, r.amount_x100, r.created_at, g.meter_id FROM allocation_runs r
                   JOIN allocation_groups g ON g.tenant_id = r.tenant_id AND g.id = r.group_id
                   WHERE r.tenant_id = $1 AND r.group_id = $2 ORDER BY r.period_start DESC";
        let runs = self.db().query_all_raw(stmt(b, sql, self.args().s(group.as_str()))).await?;
        let sql = "SELECT period_start, account_id, weight, amount_x100, disposition, entry_id FROM allocation_shares WHERE tenant_id = $1 AND group_id = $2 ORDER BY account_id";
        let shares = self.db().query_all_raw(stmt(b, sql, self.args().s(group.as_str()))).await?;
        let mut out = Vec::new();
        for r in runs {
            let start: chrono::DateTime<Utc> = r.try_get("", "period_start")?;
            let mut rows = Vec::new();
            for s in &shares {
                if s.try_get::<chrono::DateTime<Utc>>("", "period_start")? != start {
                    continue;
                }
                let acc: String = s.try_get("", "account_id")?;
                rows.push(ShareRow {
                    account_id: AccountId::parse(&acc).ok_or(StoreError::NotFound)?,
                    weight: s.try_get::<String>("", "weight")?.parse().unwrap_or_default(),
                    amount_x100: super::registry::int(s, "amount_x100")?,
                    disposition: s.try_get("", "disposition")?,
                    entry_id: s.try_get("", "entry_id")?,
                });
            }
            out.push(AllocationRunRow {
                group_id: group.clone(),
                period: r.try_get("", "period")?,
                period_start: start,
                // A fixed-amount group has no common meter, hence no energy.
                energy: (!r.try_get::<String>("", "meter_id")?.is_empty())
                    .then(|| from_scaled(super::registry::int(&r, "energy_x100").unwrap_or(0), scale::ENERGY).normalize()),
                amount_x100: super::registry::int(&r, "amount_x100")?,
                created_at: r.try_get("", "created_at")?,
                shares: rows,
            });
        }
        Ok(out)
    }

    /// Charges a group's shared-area cost for a period to its prepaid member accounts as
    /// SHARED_AREA_CHARGE entries (post-paid members get a bill line instead). Once per
    /// group and period; every member's share is kept with the run.
    pub async fn run_allocation(&self, group: &GroupId, period: Period) -> Result<AllocationRunRow> {
        let g = self.allocation_group(group).await?.ok_or(StoreError::NotFound)?;
        if g.retired_at.is_some() {
            return Err(StoreError::Conflict("the group is retired".into()));
        }
        let (tz, day, hour) = self.calendar().await?;
        let (start, end) = (period.start(tz, day, hour), period.end(tz, day, hour));
        let meters = self.bill_meters(None).await?;
        let (at_start, at_end) = (self.registers_at(start, Some(end)).await?, self.registers_at(end, None).await?);
        let (energy, cost) = self
            .group_cost(&g, &meters, &at_start, &at_end, tz)
            .await?
            .ok_or_else(|| StoreError::Conflict("the common meter has no readings or no tariff for this period".into()))?;
        let weights = Self::group_weights(&g, &meters, &at_start, &at_end);
        let amount = line_fen(cost);
        let parts = allocate(amount, &weights).map_err(|e| match g.method.as_str() {
            "ENERGY" => StoreError::Conflict("no member used any energy in the period: nothing to weigh the shares by".into()),
            _ => StoreError::Conflict(e.message),
        })?;
        let post_paid: std::collections::HashSet<&str> =
            meters.iter().filter(|m| m.post_paid).filter_map(|m| m.account.as_deref()).collect();
        let txn = self.db().begin().await?;
        let sql = "INSERT INTO allocation_runs (tenant_id, group_id, period_start, period_end, energy_x100, period, amount_x100, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let energy_x100 = energy.map_or(0, |e| domain::metering::to_scaled(e.round_dp(2), scale::ENERGY).unwrap_or(0));
        txn.execute_raw(stmt(
            self.backend(),
            sql,
            self.args().s(group.as_str()).t(start).t(end).i(energy_x100).s(period.key()).i(amount).t(Utc::now()),
        ))
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Duplicate => StoreError::Conflict(format!("the group was already allocated for {}", period.key())),
            other => other,
        })?;
        let total_w: Decimal = weights.iter().copied().sum();
        let mut posted = Vec::new();
        for (((acc, _), w), part) in g.members.iter().zip(&weights).zip(parts) {
            let (disposition, entry) = if post_paid.contains(acc.as_str()) {
                ("ON_BILL", None)
            } else if part == 0 {
                ("ZERO", None)
            } else {
                let what = match energy {
                    Some(e) => format!("{} kWh", e.normalize()),
                    None => format!("{} yuan", domain::ledger::yuan(amount)),
                };
                let mut p = Posting::new(
                    EntryKind::SharedAreaCharge,
                    -part,
                    &format!("{} {}: {what} × {}/{}", g.name, period.key(), w.normalize(), total_w.normalize()),
                );
                p.meter_id = g.meter_id.as_ref().map(ToString::to_string);
                let done = self.post(&txn, acc, vec![p], false, Guard::None).await?;
                let entry = done.entries.first().map(|e| e.id.to_string());
                posted.push(done);
                ("POSTED", entry)
            };
            let sql = "INSERT INTO allocation_shares (tenant_id, group_id, period_start, account_id, weight, amount_x100, disposition, entry_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
            txn.execute_raw(stmt(
                self.backend(),
                sql,
                self.args().s(group.as_str()).t(start).s(acc.as_str()).s(w.normalize().to_string()).i(part).s(disposition).os(entry),
            ))
            .await?;
        }
        txn.commit().await?;
        for p in &posted {
            self.store.announce(p);
        }
        self.allocation_runs(group).await?.into_iter().find(|r| r.period_start == start).ok_or(StoreError::NotFound)
    }

    /// The weights a group splits by: the members' own (m² or shares) or, for ENERGY, each
    /// member's metered energy in the period.
    pub(crate) fn group_weights(
        g: &AllocationGroupRow,
        meters: &[super::billing::BillMeter],
        at_start: &super::billing::Boundary,
        at_end: &super::billing::Boundary,
    ) -> Vec<Decimal> {
        if g.method == "ENERGY" {
            Self::member_energy(&g.members, meters, at_start, at_end)
        } else {
            g.members.iter().map(|m| m.1).collect()
        }
    }
}
