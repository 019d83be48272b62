//! Reconciliation results: a channel's daily bill against the orders, with the differences.

use super::registry::int;
use super::sql::stmt;
use super::{Result, StoreError, TenantStore};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, QueryResult};

/// A stored reconciliation of one payee's day.
#[derive(Debug, Clone)]
pub struct ReconciliationRow {
    pub payee_id: String,
    pub bill_date: chrono::NaiveDate,
    pub ran_at: DateTime<Utc>,
    pub bill_rows: i64,
    pub matched: i64,
    /// (kind, out_trade_no, ours fen, theirs fen).
    pub discrepancies: Vec<(String, String, Option<i64>, Option<i64>)>,
}

pub(crate) fn reconciliation_row(r: &QueryResult) -> Result<ReconciliationRow> {
    let date: String = r.try_get("", "bill_date")?;
    Ok(ReconciliationRow {
        payee_id: r.try_get("", "payee_id")?,
        bill_date: chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|e| StoreError::Database(e.to_string()))?,
        ran_at: r.try_get("", "ran_at")?,
        bill_rows: int(r, "bill_rows")?,
        matched: int(r, "matched")?,
        discrepancies: serde_json::from_str(&r.try_get::<String>("", "discrepancies")?).unwrap_or_default(),
    })
}

impl TenantStore {
    /// Keeps the latest result for a payee's day.
    pub async fn save_reconciliation(&self, r: &ReconciliationRow) -> Result<()> {
        let items = serde_json::to_string(&r.discrepancies).map_err(|e| StoreError::Database(e.to_string()))?;
        let sql = "INSERT INTO reconciliations (tenant_id, id, payee_id, bill_date, ran_at, bill_rows, matched, discrepancies) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                   ON CONFLICT (tenant_id, payee_id, bill_date) DO UPDATE SET ran_at = excluded.ran_at, bill_rows = excluded.bill_rows,
                   matched = excluded.matched, discrepancies = excluded.discrepancies";
        let args = self
            .args()
            .s(uuid::Uuid::new_v4().to_string())
            .s(&r.payee_id)
            .s(r.bill_date.format("%Y-%m-%d").to_string())
            .t(r.ran_at)
            .i(r.bill_rows)
            .i(r.matched)
            .s(items);
        self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        Ok(())
    }

    pub async fn reconciliations(&self, payee: Option<&str>, limit: u64) -> Result<Vec<ReconciliationRow>> {
        let sql = format!(
            "SELECT payee_id, bill_date, ran_at, bill_rows, matched, discrepancies FROM reconciliations WHERE tenant_id = $1 AND ($2 = '' OR payee_id = $2)
             ORDER BY bill_date DESC, payee_id LIMIT {}",
            limit.clamp(1, 1000)
        );
        self.db()
            .query_all_raw(stmt(self.backend(), &sql, self.args().s(payee.unwrap_or(""))))
            .await?
            .iter()
            .map(reconciliation_row)
            .collect()
    }
}
