//! The reports' read models (issue 19): money received by payee, operator and channel; the
//! meter-reading report (抄表: registers at the start and end of a period and the usage); the
//! arrears and low-balance list. Every query keeps the handle's property scope; bucketing by
//! the tenant's days and months is the API's (it knows the time zone).

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, QueryResult};

use super::money::{ACCOUNT_COLS, AccountRow, account_row};
use super::registry::{int, opt_int};
use super::sql::stmt;
use super::{Result, TenantStore};
use domain::ids::*;

/// One entry of money received (or given back): what the sales report sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleRow {
    pub at: DateTime<Utc>,
    /// Fen: positive received, negative refunded or reversed.
    pub amount_x100: i64,
    /// CASH, TRANSFER, WECHAT, ALIPAY; REFUND for money given back.
    pub channel: String,
    /// The operator's username; '' for the customer's own online payment.
    pub operator: String,
    /// The payee an online payment went to; None at the desk.
    pub payee_id: Option<String>,
}

/// Kinds of money received, with the channel each names (a bill payment names its channel
/// first in its detail).
const RECEIVED: [(&str, &str); 4] =
    [("RECHARGE_CASH", "CASH"), ("RECHARGE_TRANSFER", "TRANSFER"), ("RECHARGE_WECHAT", "WECHAT"), ("RECHARGE_ALIPAY", "ALIPAY")];

/// One meter's line in the meter-reading report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadingLine {
    pub meter_id: String,
    pub address: String,
    pub property_id: String,
    pub area_id: Option<String>,
    pub account_number: Option<String>,
    pub customer_name: Option<String>,
    /// PT × CT.
    pub ratio: i64,
    /// Register (hundredths of kWh, secondary) and when it was read, at or before the start
    /// (else the first reading after it).
    pub start: Option<(i64, DateTime<Utc>)>,
    /// The last register at or before the end.
    pub end: Option<(i64, DateTime<Utc>)>,
}

impl ReadingLine {
    /// Usage on the primary side (hundredths of kWh); a register that went down counts 0.
    pub fn usage_x100(&self) -> Option<i64> {
        match (self.start, self.end) {
            (Some((a, _)), Some((b, _))) => Some((b - a).max(0).saturating_mul(self.ratio)),
            _ => None,
        }
    }
}

impl TenantStore {
    /// Money received and given back in `[from, to)`: recharges, bill payments, refunds and
    /// reversals of those, oldest first, in the handle's scope and an optional property.
    pub async fn sales(&self, from: DateTime<Utc>, to: DateTime<Utc>, property: Option<&PropertyId>) -> Result<Vec<SaleRow>> {
        let mut args = self.args().t(from).t(to);
        let scope = self.account_scope("e.account_id", property, &mut args);
        let sql = format!(
            "SELECT e.created_at, e.amount_x100, e.kind, e.detail, e.created_by,
                    (SELECT po.payee_id FROM payment_orders po WHERE po.tenant_id = e.tenant_id AND po.entry_id = e.id) AS payee_id,
                    (SELECT r.kind FROM ledger_entries r WHERE r.tenant_id = e.tenant_id AND r.id = e.reverses_id) AS reversed_kind
             FROM ledger_entries e
             WHERE e.tenant_id = $1 AND e.created_at >= $2 AND e.created_at < $3
               AND e.kind IN ('RECHARGE_CASH', 'RECHARGE_TRANSFER', 'RECHARGE_WECHAT', 'RECHARGE_ALIPAY', 'BILL_PAYMENT', 'REFUND', 'REVERSAL'){scope}
             ORDER BY e.created_at, e.id"
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let kind: String = r.try_get("", "kind")?;
            let reversed: Option<String> = r.try_get("", "reversed_kind")?;
            let detail: String = r.try_get("", "detail")?;
            let channel = match kind.as_str() {
                "BILL_PAYMENT" => detail.split_whitespace().next().unwrap_or("CASH").to_string(),
                "REFUND" => "REFUND".to_string(),
                // A reversal counts only when it takes back money received.
                "REVERSAL" => match reversed.as_deref() {
                    Some(k) if k == "BILL_PAYMENT" || RECEIVED.iter().any(|(r, _)| *r == k) => "REFUND".to_string(),
                    _ => continue,
                },
                k => RECEIVED.iter().find(|(r, _)| *r == k).map(|(_, c)| c.to_string()).unwrap_or_default(),
            };
            out.push(SaleRow {
                at: r.try_get("", "created_at")?,
                amount_x100: int(r, "amount_x100")?,
                channel,
                operator: r.try_get("", "created_by")?,
                payee_id: r.try_get("", "payee_id")?,
            });
        }
        Ok(out)
    }

    /// The register nearest an instant: the last at or before it, else the first after it
    /// (when `or_after`).
    async fn register_at(&self, meter: &str, at: DateTime<Utc>, or_after: bool) -> Result<Option<(i64, DateTime<Utc>)>> {
        let pick = |r: &QueryResult| -> Result<Option<(i64, DateTime<Utc>)>> {
            Ok(opt_int(r, "energy_total_x100")?.map(|e| (e, r.try_get("", "read_at").unwrap_or(at))))
        };
        let sql = "SELECT energy_total_x100, read_at FROM readings WHERE tenant_id = $1 AND meter_id = $2 AND read_at <= $3
                   AND energy_total_x100 IS NOT NULL ORDER BY read_at DESC LIMIT 1";
        if let Some(r) = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(meter).t(at))).await? {
            return pick(&r);
        }
        if !or_after {
            return Ok(None);
        }
        let sql = "SELECT energy_total_x100, read_at FROM readings WHERE tenant_id = $1 AND meter_id = $2 AND read_at > $3
                   AND energy_total_x100 IS NOT NULL ORDER BY read_at LIMIT 1";
        match self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(meter).t(at))).await? {
            Some(r) => pick(&r),
            None => Ok(None),
        }
    }

    /// The meter-reading report for `[from, to]`: every active meter in scope (and in the
    /// property or area asked), ordered by address, with its registers and usage.
    pub async fn reading_report(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        property: Option<&PropertyId>,
        area: Option<&AreaId>,
    ) -> Result<Vec<ReadingLine>> {
        let mut args = self.args();
        let mut cond = self.scope_clause("m.property_id", &mut args);
        if let Some(p) = property {
            cond += &format!(" AND m.property_id = ${}", args.push(p.as_str().to_string().into()));
        }
        if let Some(a) = area {
            cond += &format!(" AND m.area_id = ${}", args.push(a.as_str().to_string().into()));
        }
        let sql = format!(
            "SELECT m.id, m.address, m.property_id, m.area_id, m.pt_ratio, m.ct_ratio, a.number, c.name
             FROM meters m LEFT JOIN accounts a ON a.tenant_id = m.tenant_id AND a.id = m.account_id
             LEFT JOIN customers c ON c.tenant_id = a.tenant_id AND c.id = a.customer_id
             WHERE m.tenant_id = $1 AND m.retired_at IS NULL{cond} ORDER BY m.address"
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.try_get("", "id")?;
            let start = self.register_at(&id, from, true).await?;
            let end = self.register_at(&id, to, false).await?;
            out.push(ReadingLine {
                address: r.try_get("", "address")?,
                property_id: r.try_get("", "property_id")?,
                area_id: r.try_get("", "area_id")?,
                account_number: r.try_get("", "number")?,
                customer_name: r.try_get("", "name")?,
                ratio: int(r, "pt_ratio")?.saturating_mul(int(r, "ct_ratio")?),
                start,
                // An end before the start (no reading in the period) is no end.
                end: end.filter(|(_, at)| start.is_none_or(|(_, s)| *at >= s)),
                meter_id: id,
            });
        }
        Ok(out)
    }

    /// Open accounts in arrears or below their alarm amounts (欠费与低余额), in scope and an
    /// optional property, lowest balance first.
    pub async fn low_balances(&self, property: Option<&PropertyId>, states: &[&str]) -> Result<Vec<AccountRow>> {
        let mut args = self.args();
        let list = super::scope::in_list(&mut args, &states.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let scope = self.account_scope("id", property, &mut args);
        let sql = format!(
            "SELECT {ACCOUNT_COLS} FROM accounts WHERE tenant_id = $1 AND state = 'OPEN' AND balance_state IN {list}{scope}
             ORDER BY balance_x100, number"
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        rows.iter().map(account_row).collect()
    }
}
