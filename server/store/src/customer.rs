//! What a customer's own app reads beyond the account: usage over time, the price changes of
//! the tariffs that price their meters, and the properties their meters are in (the contact).
//! Every function takes the customer's own account or customer id; the API checks ownership
//! before it calls.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::registry::{PropertyRow, int, opt_int, property_row};
use super::sql::stmt;
use super::{Result, TariffRow, TenantStore};
use domain::ids::*;

impl TenantStore {
    /// The meter's energy register (hundredths of kWh, secondary side) at `at`: the last
    /// reading at or before it, else the first one after it (a meter counts nothing before
    /// it was first read).
    async fn register_near(&self, meter: &str, at: DateTime<Utc>) -> Result<Option<i64>> {
        let before = "SELECT energy_total_x100 FROM readings WHERE tenant_id = $1 AND meter_id = $2 AND read_at <= $3
                      AND energy_total_x100 IS NOT NULL ORDER BY read_at DESC LIMIT 1";
        if let Some(r) = self.db().query_one_raw(stmt(self.backend(), before, self.args().s(meter).t(at))).await? {
            return opt_int(&r, "energy_total_x100");
        }
        let after = "SELECT energy_total_x100 FROM readings WHERE tenant_id = $1 AND meter_id = $2 AND read_at > $3
                     AND energy_total_x100 IS NOT NULL ORDER BY read_at LIMIT 1";
        match self.db().query_one_raw(stmt(self.backend(), after, self.args().s(meter).t(at))).await? {
            Some(r) => opt_int(&r, "energy_total_x100"),
            None => Ok(None),
        }
    }

    /// Usage of an account's meters between consecutive `bounds` (n bounds, n − 1 buckets):
    /// (energy in hundredths of kWh on the primary side — PT × CT applied, as bills do — and
    /// the energy charges posted in the bucket, in fen, as a positive cost). A register that
    /// went down (a replaced meter) counts nothing for that bucket.
    pub async fn account_usage(&self, account: &AccountId, bounds: &[DateTime<Utc>]) -> Result<Vec<(i64, i64)>> {
        let mut out = vec![(0i64, 0i64); bounds.len().saturating_sub(1)];
        let sql = "SELECT id, pt_ratio, ct_ratio FROM meters WHERE tenant_id = $1 AND account_id = $2";
        let meters = self.db().query_all_raw(stmt(self.backend(), sql, self.args().s(account.as_str()))).await?;
        for m in &meters {
            let id: String = m.try_get("", "id")?;
            let ratio = int(m, "pt_ratio")?.saturating_mul(int(m, "ct_ratio")?);
            let mut registers = Vec::with_capacity(bounds.len());
            for at in bounds {
                registers.push(self.register_near(&id, *at).await?);
            }
            for (i, pair) in registers.windows(2).enumerate() {
                if let ([Some(a), Some(b)], Some(slot)) = (pair, out.get_mut(i)) {
                    slot.0 += (b - a).max(0).saturating_mul(ratio);
                }
            }
        }
        let kinds = [domain::ledger::EntryKind::EnergyCharge.as_str(), domain::ledger::EntryKind::Adjustment.as_str()];
        let sql =
            "SELECT CAST(COALESCE(SUM(amount_x100), 0) AS BIGINT) AS total FROM ledger_entries WHERE tenant_id = $1 AND account_id = $2
                   AND kind IN ($3, $4) AND created_at >= $5 AND created_at < $6";
        for (i, pair) in bounds.windows(2).enumerate() {
            let args = self.args().s(account.as_str()).s(kinds[0]).s(kinds[1]).t(pair[0]).t(pair[1]);
            let total = match self.db().query_one_raw(stmt(self.backend(), sql, args)).await? {
                Some(r) => opt_int(&r, "total")?.unwrap_or(0),
                None => 0,
            };
            if let Some(slot) = out.get_mut(i) {
                slot.1 = -total;
            }
        }
        Ok(out)
    }

    /// The tariffs pricing a customer's open accounts' meters (the meter's own, else its
    /// property's, else the tenant's default), each once.
    pub async fn customer_tariffs(&self, customer: &CustomerId) -> Result<Vec<TariffRow>> {
        let sql = "SELECT m.tariff_id AS own, p.tariff_id AS property FROM meters m
                   JOIN accounts a ON a.tenant_id = m.tenant_id AND a.id = m.account_id
                   JOIN properties p ON p.tenant_id = m.tenant_id AND p.id = m.property_id
                   WHERE m.tenant_id = $1 AND a.customer_id = $2 AND a.closed_at IS NULL AND m.retired_at IS NULL";
        let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args().s(customer.as_str()))).await?;
        let default = self.money_settings().await?.default_tariff_id;
        let mut ids: Vec<TariffId> = Vec::new();
        for r in &rows {
            let own: Option<String> = r.try_get("", "own")?;
            let property: Option<String> = r.try_get("", "property")?;
            let id = own.or(property).and_then(|t| TariffId::parse(&t)).or_else(|| default.clone());
            if let Some(id) = id
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        }
        let mut out = Vec::new();
        for id in ids {
            if let Some(t) = self.tariff(&id).await? {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// The properties a customer's open accounts have meters in.
    pub async fn customer_properties(&self, customer: &CustomerId) -> Result<Vec<PropertyRow>> {
        let sql = "SELECT p.id, p.name, p.address, p.created_at, p.retired_at, p.tariff_id, p.contact_name, p.contact_phone
                   FROM properties p WHERE p.tenant_id = $1 AND p.id IN (
                     SELECT m.property_id FROM meters m JOIN accounts a ON a.tenant_id = m.tenant_id AND a.id = m.account_id
                     WHERE m.tenant_id = $1 AND a.customer_id = $2 AND a.closed_at IS NULL)
                   ORDER BY p.name, p.id";
        let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args().s(customer.as_str()))).await?;
        rows.iter().map(property_row).collect()
    }
}
