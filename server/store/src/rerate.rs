//! Re-rating: after a tariff correction of the past, the affected intervals are priced again
//! and the difference is posted as adjustments.

use super::bulk::{self, Cell, Col};
use super::money::{Guard, Posted, Posting};
use super::sql::stmt;
use super::{Result, StoreError, TenantStore};
use chrono::{DateTime, Utc};
use domain::ids::*;
use domain::ledger::EntryKind;
use domain::metering::scale;
use domain::settlement::{CycleUse, MeterTerms, price};
use domain::tariff::settle;
use rust_decimal::Decimal;
use sea_orm::ConnectionTrait;

impl TenantStore {
    /// Re-rates a meter's settled intervals with readings in `(from, to]` under the tariff
    /// versions now in force (after a tariff correction, F35): each interval's exact cost is
    /// recomputed and the total difference posted as one ADJUSTMENT entry (through the
    /// account's carry, so exactness holds). Re-running with nothing changed posts nothing.
    pub async fn rerate(&self, meter: &MeterId, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Option<Posted>> {
        let b = self.backend();
        let sql = "SELECT e.account_id, e.read_at, e.detail, c.cost AS rerated FROM ledger_entries e
                   LEFT JOIN interval_costs c ON c.tenant_id = e.tenant_id AND c.meter_id = e.meter_id AND c.read_at = e.read_at
                   WHERE e.tenant_id = $1 AND e.meter_id = $2 AND e.kind = 'ENERGY_CHARGE' AND e.read_at > $3 AND e.read_at <= $4 ORDER BY e.read_at";
        let rows = self.db().query_all_raw(stmt(b, sql, self.args().s(meter.as_str()).t(from).t(to))).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let m = self.bill_meters(None).await?.into_iter().find(|x| x.id == meter.as_str()).ok_or(StoreError::NotFound)?;
        let tariff_id = m.tariff.clone().ok_or_else(|| StoreError::Conflict("the meter has no tariff".into()))?;
        let history = self.store.tariff_history(&self.db(), self.tenant.as_str(), &tariff_id).await?;
        let (tz, _, _) = self.calendar().await?;
        let limit = self.money_settings().await?.jump_limit_kw;
        let terms = MeterTerms { ratio: m.ratio, jump_limit_kw: limit.max(Decimal::from(1_000_000)), tz };
        let mut account = None;
        let mut diff = Decimal::ZERO;
        let mut updates = Vec::new();
        for r in &rows {
            let acc: String = r.try_get("", "account_id")?;
            account = Some(acc);
            let detail: serde_json::Value = serde_json::from_str(&r.try_get::<String>("", "detail")?).unwrap_or_default();
            let at: DateTime<Utc> = r.try_get("", "read_at")?;
            let prev_at = detail["from"].as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc));
            let old: Decimal = match r.try_get::<Option<String>>("", "rerated")? {
                Some(c) => c.parse().unwrap_or_default(),
                None => detail["cost"].as_str().and_then(|s| s.parse().ok()).unwrap_or_default(),
            };
            let Some(prev_at) = prev_at else { continue };
            let pts = self.series(meter.as_str(), prev_at, at).await?;
            let (Some(p), Some(q)) = (pts.iter().find(|p| p.at == prev_at), pts.iter().find(|p| p.at == at)) else { continue };
            let Some(tariff) = history.at(at) else { continue };
            let cycle = CycleUse {
                key: detail["cycleKey"].as_str().unwrap_or_default().to_string(),
                used: detail["cycleUsedBefore"].as_str().and_then(|s| s.parse().ok()).unwrap_or_default(),
            };
            let Ok(priced) = price(tariff, &terms, p, q, &cycle) else { continue };
            if priced.cost != old {
                diff += priced.cost - old;
                updates.push(vec![
                    Cell::Text(self.tenant.to_string()),
                    Cell::Text(meter.to_string()),
                    Cell::Time(at),
                    Cell::Text(priced.cost.normalize().to_string()),
                    Cell::Time(Utc::now()),
                ]);
            }
        }
        let Some(account) = account.as_deref().and_then(AccountId::parse) else { return Ok(None) };
        if updates.is_empty() {
            return Ok(None);
        }
        let txn = self.db().begin().await?;
        bulk::insert(
            &txn,
            "interval_costs",
            &[("tenant_id", Col::Text), ("meter_id", Col::Text), ("read_at", Col::Time), ("cost", Col::Text), ("rerated_at", Col::Time)],
            &updates,
            "ON CONFLICT (tenant_id, meter_id, read_at) DO UPDATE SET cost = excluded.cost, rerated_at = excluded.rerated_at",
        )
        .await?;
        // Through the carry: post whole fen of (carry + diff), keep the rest. The update locks
        // the account row and reads the carry settlement may just have moved.
        let sql = "UPDATE accounts SET carry = carry WHERE tenant_id = $1 AND id = $2 RETURNING carry";
        let row = txn.query_one_raw(stmt(b, sql, self.args().s(account.as_str()))).await?.ok_or(StoreError::NotFound)?;
        let carry: Decimal = row.try_get::<String>("", "carry")?.parse().unwrap_or_default();
        let s = settle(carry, diff);
        let fen = domain::metering::to_scaled(s.charged, scale::MONEY).unwrap_or(0);
        let sql = "UPDATE accounts SET carry = $3 WHERE tenant_id = $1 AND id = $2";
        txn.execute_raw(stmt(b, sql, self.args().s(account.as_str()).s(s.carry.normalize().to_string()))).await?;
        let mut p = Posting::new(EntryKind::Adjustment, -fen, &format!("re-rated {} intervals ({} → {})", updates.len(), from, to));
        p.meter_id = Some(meter.to_string());
        p.detail = serde_json::json!({ "from": from, "to": to, "difference": diff.normalize(), "intervals": updates.len() }).to_string();
        let posted = self.post(&txn, &account, vec![p], false, Guard::None).await?;
        txn.commit().await?;
        self.store.announce(&posted);
        Ok(Some(posted))
    }
}
