//! Shared areas (公摊): allocation groups, their members and weights, and runs that post each
//! member's share exactly to the fen.

use super::money::{Guard, Posted, Posting};
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
    pub meter_id: MeterId,
    /// AREA (m²) or SHARES.
    pub method: String,
    pub members: Vec<(AccountId, Decimal)>,
}

impl TenantStore {
    pub async fn create_allocation_group(
        &self,
        name: &str,
        meter: &MeterId,
        method: &str,
        members: &[(AccountId, Decimal)],
    ) -> Result<AllocationGroupRow> {
        let b = self.backend();
        let txn = self.db().begin().await?;
        let id = GroupId::from_uuid(uuid::Uuid::new_v4());
        let sql = "INSERT INTO allocation_groups (tenant_id, id, name, meter_id, method, created_at) SELECT $1, $2, $3, id, $5, $6 FROM meters WHERE tenant_id = $1 AND id = $4";
        let done = txn.execute_raw(stmt(b, sql, self.args().s(id.as_str()).s(name).s(meter.as_str()).s(method).t(Utc::now()))).await?;
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
        self.allocation_groups().await?.into_iter().find(|g| g.id == id).ok_or(StoreError::NotFound)
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

    pub async fn allocation_groups(&self) -> Result<Vec<AllocationGroupRow>> {
        let b = self.backend();
        let groups = self
            .store
            .db
            .query_all_raw(stmt(
                b,
                "SELECT id, name, meter_id, method FROM allocation_groups WHERE tenant_id = $1 ORDER BY name, id",
                self.args(),
            ))
            .await?;
        let members = self
            .store
            .db
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
            out.push(AllocationGroupRow {
                id: GroupId::parse(&gid).ok_or(StoreError::NotFound)?,
                name: g.try_get("", "name")?,
                meter_id: MeterId::parse(&meter).ok_or(StoreError::NotFound)?,
                method: g.try_get("", "method")?,
                members: ms,
            });
        }
        Ok(out)
    }

    /// Charges a group's shared-area cost for a period to its prepaid member accounts as
    /// SHARED_AREA_CHARGE entries (post-paid members get a bill line instead). Once per
    /// group and period.
    pub async fn run_allocation(&self, group: &GroupId, period: Period) -> Result<Vec<Posted>> {
        let g = self.allocation_groups().await?.into_iter().find(|g| g.id == *group).ok_or(StoreError::NotFound)?;
        let (tz, day, hour) = self.calendar().await?;
        let (start, end) = (period.start(tz, day, hour), period.end(tz, day, hour));
        let meters = self.bill_meters(None).await?;
        let (at_start, at_end) = (self.registers_at(start, Some(end)).await?, self.registers_at(end, None).await?);
        let (energy, cost) = self
            .group_cost(&g, &meters, &at_start, &at_end, tz)
            .await?
            .ok_or_else(|| StoreError::Conflict("the common meter has no readings or no tariff for this period".into()))?;
        let weights: Vec<Decimal> = g.members.iter().map(|m| m.1).collect();
        let parts = allocate(line_fen(cost), &weights).map_err(|e| StoreError::Conflict(e.message))?;
        let post_paid: std::collections::HashSet<&str> =
            meters.iter().filter(|m| m.post_paid).filter_map(|m| m.account.as_deref()).collect();
        let txn = self.db().begin().await?;
        let sql = "INSERT INTO allocation_runs (tenant_id, group_id, period_start, period_end, energy_x100, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
        let energy_x100 = domain::metering::to_scaled(energy.round_dp(2), scale::ENERGY).unwrap_or(0);
        txn.execute_raw(stmt(self.backend(), sql, self.args().s(group.as_str()).t(start).t(end).i(energy_x100).t(Utc::now())))
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Duplicate => StoreError::Conflict(format!("the group was already allocated for {}", period.key())),
                other => other,
            })?;
        let total_w: Decimal = weights.iter().copied().sum();
        let mut posted = Vec::new();
        for ((acc, w), part) in g.members.iter().zip(parts) {
            if post_paid.contains(acc.as_str()) || part == 0 {
                continue;
            }
            let mut p = Posting::new(
                EntryKind::SharedAreaCharge,
                -part,
                &format!("{} {}: {} kWh × {}/{}", g.name, period.key(), energy.normalize(), w.normalize(), total_w.normalize()),
            );
            p.meter_id = Some(g.meter_id.to_string());
            posted.push(self.post(&txn, acc, vec![p], false, Guard::None).await?);
        }
        txn.commit().await?;
        for p in &posted {
            self.store.announce(p);
        }
        Ok(posted)
    }
}
