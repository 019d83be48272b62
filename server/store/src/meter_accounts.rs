//! Meters on accounts: assignment and release (billing starts at the newest reading),
//! replacement (换表) with its final and initial registers, and meter-side purchases.

use super::money::*;
use super::settle::{cursor_row, insert_commands, upsert_cursors};
use super::sql::stmt;
use super::{Result, StoreError, TenantStore};
use crate::outbox::CommandRecord;
use chrono::{DateTime, Utc};
use domain::ids::*;
use domain::ledger::{EntryKind, yuan};
use domain::metering::{from_scaled, scale};
use domain::settlement::Point;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DatabaseTransaction};

/// Meter replacement input (换表).
#[derive(Debug, Clone)]
pub struct Replacement {
    pub old_meter: MeterId,
    pub new_meter: MeterId,
    /// The old meter's final total register (kWh, secondary).
    pub old_final: Decimal,
    /// The new meter's initial total register.
    pub new_initial: Decimal,
    pub at: DateTime<Utc>,
}

impl TenantStore {
    /// Puts a meter on an account; its settlement cursor restarts at its latest reading so
    /// energy used before the account existed is never charged to it.
    pub(crate) async fn attach_meter(
        &self,
        txn: &DatabaseTransaction,
        account: &AccountId,
        customer: &CustomerId,
        meter: &MeterId,
    ) -> Result<()> {
        let b = self.backend();
        let sql = "UPDATE meters SET account_id = $2, customer_id = $3 WHERE tenant_id = $1 AND id = $4 AND retired_at IS NULL
                   AND (account_id IS NULL OR account_id = $2)";
        let done = txn.execute_raw(stmt(b, sql, self.args().s(account.as_str()).s(customer.as_str()).s(meter.as_str()))).await?;
        if done.rows_affected() == 0 {
            let found =
                txn.query_one_raw(stmt(b, "SELECT id FROM meters WHERE tenant_id = $1 AND id = $2", self.args().s(meter.as_str()))).await?;
            return Err(if found.is_some() { conflict("meter is retired or belongs to another account") } else { StoreError::NotFound });
        }
        if let Some(point) = self.newest_point(txn, "meter_live", meter.as_str()).await? {
            upsert_cursors(txn, &[cursor_row(self.tenant.as_str(), meter.as_str(), &point)]).await?;
        }
        Ok(())
    }

    /// The newest energy registers of a meter as a settlement point, from `readings` or
    /// `meter_live`.
    pub(super) async fn newest_point(&self, txn: &DatabaseTransaction, table: &str, meter: &str) -> Result<Option<Point>> {
        let sql = format!(
            "SELECT read_at, energy_total_x100 AS total_x100, energy_t1_x100 AS t1_x100, energy_t2_x100 AS t2_x100,
                    energy_t3_x100 AS t3_x100, energy_t4_x100 AS t4_x100 FROM {table}
             WHERE tenant_id = $1 AND meter_id = $2 AND read_at IS NOT NULL AND energy_total_x100 IS NOT NULL ORDER BY read_at DESC LIMIT 1"
        );
        match txn.query_one_raw(stmt(self.backend(), &sql, self.args().s(meter))).await? {
            Some(r) => super::freezes::point_of(&r, "read_at", ""),
            None => Ok(None),
        }
    }

    /// Adds a meter to an open account (一户多表).
    pub async fn assign_meter(&self, account: &AccountId, meter: &MeterId) -> Result<AccountRow> {
        let txn = self.begin().await?;
        let acc = self.account_in(&txn, account).await?;
        if acc.state != "OPEN" {
            return Err(conflict("account is closed"));
        }
        self.attach_meter(&txn, account, &acc.customer_id, meter).await?;
        txn.commit().await?;
        Ok(acc)
    }

    /// Takes a meter off its account; its cursor keeps following it unbilled.
    pub async fn release_meter(&self, meter: &MeterId) -> Result<()> {
        let sql = "UPDATE meters SET account_id = NULL, customer_id = NULL WHERE tenant_id = $1 AND id = $2";
        let done = self.db().execute_raw(stmt(self.backend(), sql, self.args().s(meter.as_str()))).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub(crate) fn command_record(&self, meter: &str, account: Option<String>, kind: &str, source: &str, reason: &str) -> CommandRecord {
        CommandRecord {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: self.tenant.to_string(),
            meter_id: meter.to_string(),
            account_id: account,
            kind: kind.into(),
            source: source.into(),
            reason: reason.into(),
            payload: String::new(),
            created_at: Utc::now(),
            batch_id: None,
        }
    }

    /// Meter replacement (换表): the old meter's final register is settled as a reading, the
    /// old meter leaves the account and retires, the new one joins with its own initial
    /// register as its baseline. Balance and ledger stay with the account.
    pub async fn replace_meter(&self, r: &Replacement) -> Result<AccountRow> {
        let old = self.meter(&r.old_meter).await?.ok_or(StoreError::NotFound)?;
        let account_id: Option<String> = {
            let sql = "SELECT account_id FROM meters WHERE tenant_id = $1 AND id = $2";
            let row = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(old.id.as_str()))).await?;
            row.map(|x| x.try_get("", "account_id")).transpose()?.flatten()
        };
        let account = account_id.as_deref().and_then(AccountId::parse).ok_or_else(|| conflict("the old meter has no account"))?;
        let acc = self.account(&account).await?.ok_or(StoreError::NotFound)?;
        let to_x100 = |d: Decimal| domain::metering::to_scaled(d, scale::ENERGY).ok_or_else(|| conflict("registers have 2 decimal places"));
        let (final_x100, initial_x100) = (to_x100(r.old_final)?, to_x100(r.new_initial)?);
        // Settle the old meter's final reading through the normal path (idempotent).
        let txn = self.begin().await?;
        let sql = "INSERT INTO readings (tenant_id, meter_id, read_at, received_at, energy_total_x100) VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (tenant_id, meter_id, read_at) DO NOTHING";
        txn.execute_raw(stmt(self.backend(), sql, self.args().s(old.id.as_str()).t(r.at).t(Utc::now()).i(final_x100))).await?;
        let arrival = super::settle::Arrival {
            tenant: self.tenant.to_string(),
            meter: old.id.to_string(),
            point: Point { at: r.at, registers: domain::settlement::Registers { total: from_scaled(final_x100, 2), rates: [None; 4] } },
        };
        let (_, commands, alarms) = self.store.settle_arrivals(&txn, vec![arrival]).await?;
        let b = self.backend();
        // The old meter's live value is its final register from now on (unless it reported
        // something later, which the live upsert keeps).
        let sql = "INSERT INTO meter_live (tenant_id, meter_id, read_at, energy_total_x100) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (tenant_id, meter_id) DO UPDATE SET read_at = excluded.read_at, energy_total_x100 = excluded.energy_total_x100
                   WHERE meter_live.read_at IS NULL OR meter_live.read_at <= excluded.read_at";
        txn.execute_raw(stmt(b, sql, self.args().s(old.id.as_str()).t(r.at).i(final_x100))).await?;
        let retired = txn
            .execute_raw(stmt(
                b,
                "UPDATE meters SET account_id = NULL, retired_at = $3 WHERE tenant_id = $1 AND id = $2 AND retired_at IS NULL",
                self.args().s(old.id.as_str()).t(r.at),
            ))
            .await?;
        if retired.rows_affected() == 0 {
            return Err(conflict("the old meter is retired already"));
        }
        self.meter_left(&txn, old.id.as_str()).await?;
        txn.execute_raw(stmt(
            b,
            "UPDATE device_credentials SET revoked_at = $3 WHERE tenant_id = $1 AND meter_id = $2 AND revoked_at IS NULL",
            self.args().s(old.id.as_str()).t(Utc::now()),
        ))
        .await?;
        self.attach_meter(&txn, &account, &acc.customer_id, &r.new_meter).await?;
        let point = Point { at: r.at, registers: domain::settlement::Registers { total: from_scaled(initial_x100, 2), rates: [None; 4] } };
        upsert_cursors(&txn, &[cursor_row(self.tenant.as_str(), r.new_meter.as_str(), &point)]).await?;
        let sql = "INSERT INTO meter_replacements (tenant_id, id, account_id, old_meter_id, new_meter_id, old_final_x100, new_initial_x100, replaced_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let args = self
            .args()
            .s(uuid::Uuid::new_v4().to_string())
            .s(account.as_str())
            .s(old.id.as_str())
            .s(r.new_meter.as_str())
            .i(final_x100)
            .i(initial_x100)
            .t(r.at);
        txn.execute_raw(stmt(b, sql, args)).await?;
        let acc = self.account_in(&txn, &account).await?;
        txn.commit().await?;
        self.store.commands.submit(&commands);
        self.store.publish_alarms(&alarms);
        self.store.reload_caches().await?;
        Ok(acc)
    }

    /// Meter-side prepaid purchase (本地费控购电): the money is taken from the account as a
    /// METER_PURCHASE entry, the meter's next purchase counter is assigned, and a PURCHASE
    /// command carrying amount and counter goes to the command port.
    pub async fn meter_purchase(&self, meter: &MeterId, amount: i64) -> Result<(Posted, i64)> {
        let txn = self.begin().await?;
        let b = self.backend();
        // Lock the meter first: purchases for one meter take counters one at a time, and on
        // SQLite the transaction holds the write lock before it reads (no upgrade conflict).
        let sql = "UPDATE meters SET state = state WHERE tenant_id = $1 AND id = $2";
        txn.execute_raw(stmt(b, sql, self.args().s(meter.as_str()))).await?;
        let sql = "SELECT account_id, billing_mode FROM meters WHERE tenant_id = $1 AND id = $2 AND retired_at IS NULL";
        let r = txn.query_one_raw(stmt(b, sql, self.args().s(meter.as_str()))).await?.ok_or(StoreError::NotFound)?;
        if r.try_get::<String>("", "billing_mode")? != "METER_PREPAID" {
            return Err(conflict("the meter is not in meter-side prepaid mode"));
        }
        let account = r
            .try_get::<Option<String>>("", "account_id")?
            .as_deref()
            .and_then(AccountId::parse)
            .ok_or_else(|| conflict("the meter has no account"))?;
        let sql = "SELECT COALESCE(MAX(counter), 0) AS n FROM meter_purchases WHERE tenant_id = $1 AND meter_id = $2";
        let counter = txn
            .query_one_raw(stmt(b, sql, self.args().s(meter.as_str())))
            .await?
            .map(|r| super::registry::int(&r, "n"))
            .transpose()?
            .unwrap_or(0)
            + 1;
        let mut p = Posting::new(EntryKind::MeterPurchase, -amount, &format!("purchase #{counter} loaded into the meter"));
        p.meter_id = Some(meter.to_string());
        let mut posted = self.post(&txn, &account, vec![p], true, Guard::NotNegative).await?;
        let entry = posted.entries.first().map(|e| e.id.to_string()).unwrap_or_default();
        let command = CommandRecord {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: self.tenant.to_string(),
            meter_id: meter.to_string(),
            account_id: Some(account.to_string()),
            kind: "PURCHASE".into(),
            source: "OPERATOR".into(),
            reason: format!("purchase #{counter}"),
            payload: serde_json::json!({ "amount": yuan(amount), "counter": counter, "entryId": entry }).to_string(),
            created_at: Utc::now(),
            batch_id: None,
        };
        insert_commands(&txn, std::slice::from_ref(&command)).await?;
        let sql = "INSERT INTO meter_purchases (tenant_id, meter_id, counter, amount_x100, entry_id, command_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        txn.execute_raw(stmt(b, sql, self.args().s(meter.as_str()).i(counter).i(amount).s(entry).s(command.id.clone()).t(Utc::now())))
            .await?;
        txn.commit().await?;
        posted.commands.push(command);
        self.store.announce(&posted);
        Ok((posted, counter))
    }

    /// Meter-side prepaid: compares the balance the meter reports (remaining minus overdraft)
    /// with the purchases loaded minus energy used is the meter's job; the platform flags a
    /// meter whose reported remaining amount exceeds everything ever loaded into it.
    pub async fn meter_balance_check(&self, meter: &MeterId) -> Result<Option<String>> {
        let b = self.backend();
        let sql = "SELECT remaining_amount_x100, overdraft_amount_x100 FROM meter_live WHERE tenant_id = $1 AND meter_id = $2";
        let Some(r) = self.db().query_one_raw(stmt(b, sql, self.args().s(meter.as_str()))).await? else { return Ok(None) };
        let Some(remaining) = super::registry::opt_int(&r, "remaining_amount_x100")? else { return Ok(None) };
        let sql = "SELECT CAST(COALESCE(SUM(amount_x100), 0) AS BIGINT) AS s FROM meter_purchases WHERE tenant_id = $1 AND meter_id = $2";
        let loaded = self
            .store
            .db
            .query_one_raw(stmt(b, sql, self.args().s(meter.as_str())))
            .await?
            .map(|r| super::registry::int(&r, "s"))
            .transpose()?
            .unwrap_or(0);
        if remaining > loaded {
            return Ok(Some(format!("the meter reports {} remaining but only {} was ever loaded", yuan(remaining), yuan(loaded))));
        }
        Ok(None)
    }
}
