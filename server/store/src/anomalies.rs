//! Settlement anomalies: what holds a meter's settlement, the ways an operator resolves them
//! and what each would bill.

use super::money::*;
use super::settle::{cursor_row, upsert_cursors};
use super::sql::stmt;
use super::{Result, StoreError, TenantStore};
use crate::outbox::CommandRecord;
use chrono::{DateTime, Utc};
use domain::ids::*;
use domain::settlement::Point;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DatabaseTransaction};

impl TenantStore {
    pub async fn anomalies(&self, open_only: bool, meter: Option<&MeterId>) -> Result<Vec<AnomalyRow>> {
        let mut cond = String::new();
        let mut args = self.args();
        if open_only {
            cond.push_str(" AND resolved_at IS NULL");
        }
        if let Some(m) = meter {
            cond.push_str(" AND meter_id = $2");
            args = args.s(m.as_str());
        }
        let sql = format!(
            "SELECT id, meter_id, kind, detail, read_at, detected_at, resolved_at, resolution FROM settlement_anomalies
             WHERE tenant_id = $1{cond} ORDER BY detected_at DESC, id LIMIT 500"
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        rows.iter()
            .map(|r| {
                Ok(AnomalyRow {
                    id: parse(r, "id", AnomalyId::parse)?,
                    meter_id: parse(r, "meter_id", MeterId::parse)?,
                    kind: r.try_get("", "kind")?,
                    detail: r.try_get("", "detail")?,
                    read_at: r.try_get("", "read_at")?,
                    detected_at: r.try_get("", "detected_at")?,
                    resolved_at: r.try_get("", "resolved_at")?,
                    resolution: r.try_get("", "resolution")?,
                })
            })
            .collect()
    }

    /// Resolves an anomaly (see [`AnomalyResolution`]) and hands on what it decided.
    pub async fn resolve_anomaly(&self, id: &AnomalyId, how: AnomalyResolution) -> Result<AnomalyRow> {
        let txn = self.begin().await?;
        let (meter, _, commands, alarms) = self.apply_resolution(&txn, id, how).await?;
        txn.commit().await?;
        self.store.commands.submit(&commands);
        self.store.publish_alarms(&alarms);
        let mut all = self.anomalies(false, MeterId::parse(&meter).as_ref()).await?;
        all.retain(|a| a.id == *id);
        all.pop().ok_or(StoreError::NotFound)
    }

    /// What each resolution of an open anomaly would bill, computed by applying it in a
    /// transaction that is rolled back: nothing changes.
    pub async fn preview_anomaly(&self, id: &AnomalyId) -> Result<Vec<ResolutionEffect>> {
        let mut out = Vec::new();
        for how in AnomalyResolution::ALL {
            let txn = self.begin().await?;
            match self.apply_resolution(&txn, id, how).await {
                Ok((_, effect, _, _)) => out.push(effect),
                Err(StoreError::Conflict(why)) => {
                    out.push(ResolutionEffect { resolution: how, refused: Some(why), ..ResolutionEffect::none(how) })
                }
                Err(e) => return Err(e),
            }
            txn.rollback().await?;
        }
        Ok(out)
    }

    async fn apply_resolution(
        &self,
        txn: &DatabaseTransaction,
        id: &AnomalyId,
        how: AnomalyResolution,
    ) -> Result<(String, ResolutionEffect, Vec<CommandRecord>, Vec<super::AlarmEvent>)> {
        let b = self.backend();
        let sql = "SELECT meter_id, kind, read_at FROM settlement_anomalies WHERE tenant_id = $1 AND id = $2 AND resolved_at IS NULL";
        let r = txn.query_one_raw(stmt(b, sql, self.args().s(id.as_str()))).await?.ok_or(StoreError::NotFound)?;
        let meter: String = r.try_get("", "meter_id")?;
        let kind: String = r.try_get("", "kind")?;
        let at: DateTime<Utc> = r.try_get("", "read_at")?;
        if how == AnomalyResolution::BillAsIs && kind == "REGISTER_BACKWARDS" {
            return Err(conflict("a register that went backwards can only be rebased"));
        }
        let sql = "SELECT read_at FROM meter_settlement WHERE tenant_id = $1 AND meter_id = $2";
        let from: Option<DateTime<Utc>> = match txn.query_one_raw(stmt(b, sql, self.args().s(&meter))).await? {
            Some(r) => Some(r.try_get("", "read_at")?),
            None => None,
        };
        // Resolved first: settling below may record a new anomaly of the same kind (a second
        // reset), which the open one would otherwise swallow.
        let sql = "UPDATE settlement_anomalies SET resolved_at = $3, resolution = $4 WHERE tenant_id = $1 AND id = $2";
        txn.execute_raw(stmt(b, sql, self.args().s(id.as_str()).t(Utc::now()).s(how.as_str()))).await?;
        let (mut commands, mut alarms) = (Vec::new(), Vec::new());
        let settle = |arrivals: Vec<Point>, checked: bool| {
            let arrivals: Vec<_> = arrivals
                .into_iter()
                .map(|point| super::settle::Arrival { tenant: self.tenant.to_string(), meter: meter.clone(), point })
                .collect();
            async move {
                if checked {
                    self.store.settle_arrivals(txn, arrivals).await
                } else {
                    self.store.settle_arrivals_unchecked(txn, arrivals).await
                }
            }
        };
        let mut baseline = None;
        match how {
            AnomalyResolution::Rebase => {
                if let Some(point) = self.newest_point(txn, "readings", &meter).await? {
                    upsert_cursors(txn, &[cursor_row(self.tenant.as_str(), &meter, &point)]).await?;
                    baseline = Some(point);
                }
            }
            AnomalyResolution::RebaseAtAnomaly => {
                if from.is_some_and(|c| c >= at) {
                    return Err(conflict("settlement has already moved past the anomalous reading"));
                }
                let points = self.points_from(txn, &meter, at).await?;
                if let Some(first) = points.first().filter(|p| p.at == at) {
                    upsert_cursors(txn, &[cursor_row(self.tenant.as_str(), &meter, first)]).await?;
                    baseline = Some(*first);
                    let (_, c, a) = settle(points.into_iter().skip(1).collect(), true).await?;
                    commands.extend(c);
                    alarms.extend(a);
                } else {
                    return Err(conflict("the anomalous reading has no energy register to start from"));
                }
            }
            AnomalyResolution::BillAsIs => {
                if let Some(point) = self.newest_point(txn, "readings", &meter).await? {
                    let (_, c, a) = settle(vec![point], false).await?;
                    commands.extend(c);
                    alarms.extend(a);
                }
            }
        }
        // What the resolution charged: the meter's energy charges after the held cursor.
        let sql = "SELECT amount_x100, detail FROM ledger_entries WHERE tenant_id = $1 AND meter_id = $2 AND kind = 'ENERGY_CHARGE' AND read_at > $3";
        let mut effect = ResolutionEffect::none(how);
        effect.baseline = baseline;
        let since = from.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        for r in txn.query_all_raw(stmt(b, sql, self.args().s(&meter).t(since))).await? {
            effect.amount_x100 -= super::registry::int(&r, "amount_x100")?;
            effect.charges += 1;
            let detail: String = r.try_get("", "detail")?;
            if let Some(e) = serde_json::from_str::<serde_json::Value>(&detail).ok().and_then(|d| d.get("energy").cloned()) {
                effect.energy += serde_json::from_value::<Decimal>(e).unwrap_or_default();
            }
        }
        Ok((meter, effect, commands, alarms))
    }

    /// A meter's readings with an energy register at or after `at`, oldest first.
    async fn points_from(&self, txn: &DatabaseTransaction, meter: &str, at: DateTime<Utc>) -> Result<Vec<Point>> {
        let sql = "SELECT read_at, energy_total_x100 AS total_x100, energy_t1_x100 AS t1_x100, energy_t2_x100 AS t2_x100,
                          energy_t3_x100 AS t3_x100, energy_t4_x100 AS t4_x100 FROM readings
                   WHERE tenant_id = $1 AND meter_id = $2 AND read_at >= $3 AND energy_total_x100 IS NOT NULL ORDER BY read_at";
        let mut out = Vec::new();
        for r in txn.query_all_raw(stmt(self.backend(), sql, self.args().s(meter).t(at))).await? {
            if let Some(p) = super::freezes::point_of(&r, "read_at", "")? {
                out.push(p);
            }
        }
        Ok(out)
    }
}

/// How an operator settles an anomaly that holds a meter's settlement (异常处理).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnomalyResolution {
    /// The meter's newest reading becomes the baseline: nothing since the anomaly is billed.
    Rebase,
    /// The anomalous reading itself (a register reset, a replaced meter's first reading)
    /// becomes the baseline, and every reading after it is billed from there.
    RebaseAtAnomaly,
    /// The jump was real consumption: billed now, without the jump check.
    BillAsIs,
}

impl AnomalyResolution {
    pub const ALL: [AnomalyResolution; 3] = [AnomalyResolution::Rebase, AnomalyResolution::RebaseAtAnomaly, AnomalyResolution::BillAsIs];

    /// As recorded on the anomaly.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyResolution::Rebase => "REBASED",
            AnomalyResolution::RebaseAtAnomaly => "REBASED_AT_ANOMALY",
            AnomalyResolution::BillAsIs => "BILLED_AS_IS",
        }
    }
}

/// What one resolution bills (or would bill: a preview).
#[derive(Debug, Clone)]
pub struct ResolutionEffect {
    pub resolution: AnomalyResolution,
    /// kWh charged (primary side, PT×CT applied).
    pub energy: Decimal,
    /// Fen charged to the account.
    pub amount_x100: i64,
    /// Energy-charge entries posted.
    pub charges: usize,
    /// The reading settlement continues from.
    pub baseline: Option<Point>,
    /// Why this resolution is not allowed, if it is not.
    pub refused: Option<String>,
}

impl ResolutionEffect {
    fn none(resolution: AnomalyResolution) -> Self {
        Self { resolution, energy: Decimal::ZERO, amount_x100: 0, charges: 0, baseline: None, refused: None }
    }
}
