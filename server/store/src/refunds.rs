//! Refunds of payments: debited first, reversed when the channel refuses; their states and
//! the sweep that asks the channel about those without an outcome.

use super::payments::*;
use super::registry::int;
use super::sql::{Args, stmt};
use super::{Result, StoreError, TenantStore};
use chrono::{DateTime, Utc};
use domain::ids::AccountId;
use sea_orm::{ConnectionTrait, QueryResult};

/// A refund of (part of) a paid order back to the payer (退款).
#[derive(Debug, Clone)]
pub struct RefundRow {
    pub tenant_id: String,
    pub id: String,
    pub order_id: String,
    pub out_refund_no: String,
    pub amount_x100: i64,
    pub reason: String,
    /// PROCESSING, SUCCESS, ABNORMAL, CLOSED, FAILED (refused at request).
    pub state: String,
    pub refund_id: Option<String>,
    pub entry_id: Option<String>,
    pub reversal_entry_id: Option<String>,
    pub last_error: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

pub(crate) fn refund_row(r: &QueryResult) -> Result<RefundRow> {
    Ok(RefundRow {
        tenant_id: r.try_get("", "tenant_id")?,
        id: r.try_get("", "id")?,
        order_id: r.try_get("", "order_id")?,
        out_refund_no: r.try_get("", "out_refund_no")?,
        amount_x100: int(r, "amount_x100")?,
        reason: r.try_get("", "reason")?,
        state: r.try_get("", "state")?,
        refund_id: r.try_get("", "refund_id")?,
        entry_id: r.try_get("", "entry_id")?,
        reversal_entry_id: r.try_get("", "reversal_entry_id")?,
        last_error: r.try_get("", "last_error")?,
        created_at: r.try_get("", "created_at")?,
        finished_at: r.try_get("", "finished_at")?,
    })
}

impl super::PlatformStore {
    /// Refunds still PROCESSING after `created_before`, not asked about since `checked_before`.
    pub async fn refunds_to_check(
        &self,
        created_before: DateTime<Utc>,
        checked_before: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<RefundRow>> {
        let sql = format!(
            "SELECT {REFUND_COLS} FROM payment_refunds WHERE state = 'PROCESSING' AND created_at < $1 AND (checked_at IS NULL OR checked_at < $2)
             ORDER BY created_at LIMIT {limit}"
        );
        self.db
            .query_all_raw(stmt(self.backend(), &sql, Args::new().t(created_before).t(checked_before)))
            .await?
            .iter()
            .map(refund_row)
            .collect()
    }

    pub async fn refund_checked(&self, refund: &RefundRow, now: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE payment_refunds SET checked_at = $3 WHERE tenant_id = $1 AND id = $2";
        self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(&refund.tenant_id).s(&refund.id).t(now))).await?;
        Ok(())
    }

    pub async fn refund_by_no(&self, out_refund_no: &str) -> Result<Option<RefundRow>> {
        let sql = format!("SELECT {REFUND_COLS} FROM payment_refunds WHERE out_refund_no = $1");
        let row = self.db.query_one_raw(stmt(self.backend(), &sql, Args::new().s(out_refund_no))).await?;
        row.map(|r| refund_row(&r)).transpose()
    }
}

impl TenantStore {
    pub async fn order_by_id(&self, id: &str) -> Result<Option<OrderRow>> {
        self.order(id).await
    }

    /// The payee's refunds that succeeded in `[from, to)`.
    pub async fn refunds_of_payee(&self, payee: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<RefundRow>> {
        let sql = format!(
            "SELECT {REFUND_COLS} FROM payment_refunds WHERE tenant_id = $1 AND state = 'SUCCESS' AND finished_at >= $2 AND finished_at < $3
             AND order_id IN (SELECT id FROM payment_orders WHERE tenant_id = $4 AND payee_id = $5) ORDER BY finished_at"
        );
        let args = self.args().t(from).t(to).s(self.tenant_id().as_str()).s(payee);
        self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?.iter().map(refund_row).collect()
    }

    pub async fn refund_by_no(&self, out_refund_no: &str) -> Result<Option<RefundRow>> {
        let sql = format!("SELECT {REFUND_COLS} FROM payment_refunds WHERE tenant_id = $1 AND out_refund_no = $2");
        let row = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(out_refund_no))).await?;
        row.map(|r| refund_row(&r)).transpose()
    }

    pub async fn refunds_of_order(&self, order: &str) -> Result<Vec<RefundRow>> {
        let sql = format!("SELECT {REFUND_COLS} FROM payment_refunds WHERE tenant_id = $1 AND order_id = $2 ORDER BY created_at");
        self.db().query_all_raw(stmt(self.backend(), &sql, self.args().s(order))).await?.iter().map(refund_row).collect()
    }

    /// Starts a refund: the money leaves the balance at once (a REFUND entry keyed by the
    /// refund number) so it cannot be spent twice; a refund that fails gives it back.
    pub async fn start_refund(&self, order: &OrderRow, amount_x100: i64, reason: &str) -> Result<RefundRow> {
        let b = self.backend();
        let account = AccountId::parse(&order.account_id).ok_or(StoreError::NotFound)?;
        // The order is locked (PostgreSQL; SQLite's write transaction is exclusive) and what
        // it has refunded is read inside the transaction that adds the refund: two refunds
        // racing cannot both pass the check.
        let txn = self.db().begin().await?;
        let lock = if b == sea_orm::DbBackend::Postgres { " FOR UPDATE" } else { "" };
        let sql = format!("SELECT {ORDER_COLS} FROM payment_orders WHERE tenant_id = $1 AND id = $2{lock}");
        let current = txn.query_one_raw(stmt(b, &sql, self.args().s(&order.id))).await?.ok_or(StoreError::NotFound)?;
        let current = order_row(&current)?;
        if current.state != "PAID" || current.entry_id.is_none() {
            return Err(StoreError::Conflict("only a paid and credited order can be refunded".into()));
        }
        let sql = "SELECT CAST(COALESCE(SUM(amount_x100), 0) AS BIGINT) AS s FROM payment_refunds WHERE tenant_id = $1 AND order_id = $2
                   AND state NOT IN ('FAILED', 'ABNORMAL', 'CLOSED')";
        let r = txn.query_one_raw(stmt(b, sql, self.args().s(&order.id))).await?.ok_or(StoreError::NotFound)?;
        let refunded = super::registry::int(&r, "s")?;
        if amount_x100 <= 0 || refunded + amount_x100 > current.amount_x100 {
            let left = current.amount_x100 - refunded;
            return Err(domain::Invalid::new("amount", format!("at most {} fen of this order is left to refund", left)).into());
        }
        // A bill order's money paid the bill, not the balance: it is refunded whole, and the
        // bill opens again (PAID -> ISSUED, its settlement given back) in the same transaction.
        let bill = match current.bill_id.as_deref() {
            None => None,
            Some(bill) => {
                if amount_x100 != current.amount_x100 {
                    return Err(domain::Invalid::new("amount", "a bill's payment is refunded whole").into());
                }
                let sql = "UPDATE bills SET state = 'ISSUED', paid_at = NULL WHERE tenant_id = $1 AND id = $2 AND state = 'PAID'";
                if txn.execute_raw(stmt(b, sql, self.args().s(bill))).await?.rows_affected() != 1 {
                    return Err(StoreError::Conflict("the bill is no longer paid by this order".into()));
                }
                let sql = format!("SELECT {} FROM bills WHERE tenant_id = $1 AND id = $2", super::billing::BILL_COLS);
                let row = txn.query_one_raw(stmt(b, &sql, self.args().s(bill))).await?.ok_or(StoreError::NotFound)?;
                Some(super::billing::bill_row(&row)?)
            }
        };
        let id = uuid::Uuid::new_v4().to_string();
        let out_refund_no = format!("VR{}{:016X}", Utc::now().format("%y%m%d%H%M%S"), rand::random::<u64>());
        self.claim_global(&txn, super::global_keys::GlobalKey::OutRefundNo, &out_refund_no).await?;
        let sql = "INSERT INTO payment_refunds (tenant_id, id, order_id, out_refund_no, amount_x100, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        txn.execute_raw(stmt(
            self.backend(),
            sql,
            self.args().s(&id).s(&order.id).s(&out_refund_no).i(amount_x100).s(reason).t(Utc::now()),
        ))
        .await?;
        let mut posting = super::Posting::new(domain::ledger::EntryKind::Refund, -amount_x100, &format!("refund {out_refund_no}"));
        posting.external_ref = Some(out_refund_no.clone());
        let posted = match &bill {
            None => self.post(&txn, &account, vec![posting], true, super::Guard::NotNegative).await?,
            Some(bill) => {
                // Two postings: a failed refund reverses the refund's alone (a reversal takes
                // the whole receipt), and the bill is then settled again on its own.
                let what = format!("bill {} v{} reopened by refund {out_refund_no}", bill.period, bill.version);
                let reopened = super::Posting::new(domain::ledger::EntryKind::BillSettlement, amount_x100, &what);
                self.post(&txn, &account, vec![reopened], false, super::Guard::None).await?;
                self.post(&txn, &account, vec![posting], true, super::Guard::None).await?
            }
        };
        let entry = posted.entries.first().map(|e| e.id.to_string());
        txn.execute_raw(stmt(
            self.backend(),
            "UPDATE payment_refunds SET entry_id = $3 WHERE tenant_id = $1 AND id = $2",
            self.args().s(&id).os(entry),
        ))
        .await?;
        txn.commit().await?;
        self.store.announce(&posted);
        self.refund_row_by_id(&id).await?.ok_or(StoreError::NotFound)
    }

    pub(crate) async fn refund_row_by_id(&self, id: &str) -> Result<Option<RefundRow>> {
        let sql = format!("SELECT {REFUND_COLS} FROM payment_refunds WHERE tenant_id = $1 AND id = $2");
        let row = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id))).await?;
        row.map(|r| refund_row(&r)).transpose()
    }

    /// Records WeChat's answer or notification for a refund. SUCCESS keeps the money out;
    /// ABNORMAL, CLOSED and FAILED give it back first — the reversal happens once whoever
    /// gets here first (a reversal is unique per entry) — and then the state moves from
    /// PROCESSING, so a refund is never seen failed with its money still out.
    pub async fn finish_refund(&self, refund: &RefundRow, state: &str, refund_id: Option<&str>, error: &str) -> Result<RefundRow> {
        let current = self.refund_row_by_id(&refund.id).await?.ok_or(StoreError::NotFound)?;
        if current.state != "PROCESSING" {
            return Ok(current);
        }
        let mut reversal = None;
        if state != "SUCCESS"
            && let Some(entry) = refund.entry_id.as_deref().and_then(domain::ids::EntryId::parse)
        {
            match self.reverse(&entry, &format!("refund {} {state}", refund.out_refund_no)).await {
                Ok(posted) => reversal = posted.entries.first().map(|e| e.id.to_string()),
                Err(StoreError::Conflict(m)) if m.contains("already reversed") => {}
                Err(e) => return Err(e),
            }
        }
        if reversal.is_some() {
            self.settle_bill_again(refund).await?;
        }
        let sql = "UPDATE payment_refunds SET state = $3, refund_id = COALESCE($4, refund_id), last_error = $5, finished_at = $6,
                   reversal_entry_id = COALESCE($7, reversal_entry_id) WHERE tenant_id = $1 AND id = $2 AND state = 'PROCESSING'";
        let args = self.args().s(&refund.id).s(state).os(refund_id).s(error).t(Utc::now()).os(reversal);
        self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        self.refund_row_by_id(&refund.id).await?.ok_or(StoreError::NotFound)
    }

    /// A bill order's refund failed and its money came back: the bill it had paid is settled
    /// with it again (ISSUED -> PAID and the settlement posted), so the balance does not keep
    /// money the bill was paid with. A bill paid otherwise meanwhile leaves the money on the
    /// balance, where the ledger shows it.
    async fn settle_bill_again(&self, refund: &RefundRow) -> Result<()> {
        let Some(order) = self.order_by_id(&refund.order_id).await? else { return Ok(()) };
        let (Some(bill), Some(account)) = (order.bill_id.as_deref(), AccountId::parse(&order.account_id)) else { return Ok(()) };
        let b = self.backend();
        let txn = self.db().begin().await?;
        let sql = "UPDATE bills SET state = 'PAID', paid_at = $3 WHERE tenant_id = $1 AND id = $2 AND state = 'ISSUED' AND total_x100 = $4";
        if txn.execute_raw(stmt(b, sql, self.args().s(bill).t(Utc::now()).i(refund.amount_x100))).await?.rows_affected() != 1 {
            return Ok(());
        }
        let what = format!("bill settled again: refund {} failed", refund.out_refund_no);
        let settled = super::Posting::new(domain::ledger::EntryKind::BillSettlement, -refund.amount_x100, &what);
        let posted = self.post(&txn, &account, vec![settled], true, super::Guard::None).await?;
        txn.commit().await?;
        self.store.announce(&posted);
        Ok(())
    }
}
