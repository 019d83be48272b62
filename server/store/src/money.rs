//! Tenant-scoped money: accounts, the ledger, tariffs, price rule and service fees, anomalies,
//! commands, meter-side purchases. Every money change is one transaction that posts immutable
//! entries and moves the balance by exactly their sum; the account row is locked by that
//! update, so concurrent recharges, reversals and settlement serialize per account.

use super::bulk::{self, Cell, Col};
use super::settle::{ACCOUNT_COLUMNS, decisions_to_commands, insert_commands, read_account};
use super::sql::{Args, stmt};
use super::{Result, StoreError, TenantStore};
use crate::ids::NewId;
use crate::outbox::CommandRecord;
use chrono::{DateTime, Utc};
use domain::ids::*;
use domain::ledger::{EntryKind, ServiceFee, Thresholds, decide, states_entered, yuan};
use domain::tariff::{PriceRule, TariffSpec};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult};

#[derive(Debug, Clone)]
pub struct AccountRow {
    pub id: AccountId,
    pub customer_id: CustomerId,
    pub number: String,
    pub balance_x100: i64,
    pub carry: Decimal,
    pub state: String,
    pub balance_state: String,
    pub relay_wanted: String,
    pub hold_power: bool,
    pub credit_limit_x100: i64,
    pub alarm1_x100: i64,
    pub alarm2_x100: i64,
    pub property_fee_x100: i64,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct EntryRow {
    pub id: EntryId,
    pub account_id: AccountId,
    pub kind: EntryKind,
    pub amount_x100: i64,
    pub created_at: DateTime<Utc>,
    pub receipt_no: Option<i64>,
    pub meter_id: Option<String>,
    pub read_at: Option<DateTime<Utc>>,
    pub reverses_id: Option<String>,
    pub external_ref: Option<String>,
    pub detail: String,
    pub note: String,
    pub invoiced_at: Option<DateTime<Utc>>,
    /// The operator who posted it; empty for the platform's own postings.
    pub created_by: String,
}

/// What a money operation posted.
#[derive(Debug, Clone)]
pub struct Posted {
    pub account: AccountRow,
    pub entries: Vec<EntryRow>,
    pub receipt_no: Option<i64>,
    pub commands: Vec<CommandRecord>,
    /// Balance alarms raised or cleared by the posting (published after commit).
    pub alarms: Vec<super::AlarmEvent>,
}

#[derive(Debug, Clone)]
pub struct TariffRow {
    pub id: TariffId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub versions: Vec<TariffVersionRow>,
    pub retired_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct TariffVersionRow {
    pub effective_from: DateTime<Utc>,
    pub spec: TariffSpec,
    pub above_cap: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct AnomalyRow {
    pub id: AnomalyId,
    pub meter_id: MeterId,
    pub kind: String,
    pub detail: String,
    pub read_at: DateTime<Utc>,
    pub detected_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CommandRow {
    pub id: CommandId,
    pub meter_id: MeterId,
    pub account_id: Option<String>,
    pub kind: String,
    pub source: String,
    pub reason: String,
    pub payload: String,
    pub status: String,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// When the meter's reply reached the bridge.
    pub replied_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The meter's DL/T 645 address, as people name it.
    pub meter_address: String,
}

/// Money settings of the tenant.
#[derive(Debug, Clone)]
pub struct MoneySettings {
    pub default_tariff_id: Option<TariffId>,
    pub price_rule: Option<PriceRule>,
    pub margin_percent: Decimal,
    pub jump_limit_kw: Decimal,
    pub settlement_day: i64,
    pub settlement_hour: i64,
    pub service_fee: ServiceFee,
    /// What an account opened without thresholds gets.
    pub default_thresholds: Thresholds,
}

/// One entry to post.
#[derive(Debug, Clone)]
pub struct Posting {
    pub kind: EntryKind,
    pub amount_x100: i64,
    pub meter_id: Option<String>,
    pub reverses_id: Option<String>,
    pub external_ref: Option<String>,
    pub detail: String,
    pub note: String,
}

impl Posting {
    pub fn new(kind: EntryKind, amount_x100: i64, note: &str) -> Self {
        Self { kind, amount_x100, meter_id: None, reverses_id: None, external_ref: None, detail: String::new(), note: note.to_string() }
    }
}

/// What the balance must satisfy after a posting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    None,
    /// Refunds and transfers out may not take the balance below zero.
    NotNegative,
    /// The closing refund: not below zero, and no balance alarm (the account is closing,
    /// its customer is not told it is running low).
    Closing,
}

pub(crate) const ACCOUNT_COLS: &str = "id, customer_id, number, balance_x100, carry, state, balance_state, relay_wanted, hold_power,
    credit_limit_x100, alarm1_x100, alarm2_x100, property_fee_x100, created_at, closed_at";

pub(crate) const ENTRY_COLS: &str = "id, account_id, kind, amount_x100, created_at, receipt_no, meter_id, read_at, reverses_id, external_ref, detail, note, invoiced_at, created_by";

pub(super) fn account_row(r: &QueryResult) -> Result<AccountRow> {
    let int = |c: &str| super::registry::int(r, c);
    let carry: String = r.try_get("", "carry")?;
    Ok(AccountRow {
        id: parse(r, "id", AccountId::parse)?,
        customer_id: parse(r, "customer_id", CustomerId::parse)?,
        number: r.try_get("", "number")?,
        balance_x100: int("balance_x100")?,
        carry: carry.parse().unwrap_or_default(),
        state: r.try_get("", "state")?,
        balance_state: r.try_get("", "balance_state")?,
        relay_wanted: r.try_get("", "relay_wanted")?,
        hold_power: int("hold_power")? != 0,
        credit_limit_x100: int("credit_limit_x100")?,
        alarm1_x100: int("alarm1_x100")?,
        alarm2_x100: int("alarm2_x100")?,
        property_fee_x100: int("property_fee_x100")?,
        created_at: r.try_get("", "created_at")?,
        closed_at: r.try_get("", "closed_at")?,
    })
}

pub(crate) fn entry_row(r: &QueryResult) -> Result<EntryRow> {
    Ok(EntryRow {
        id: parse(r, "id", EntryId::parse)?,
        account_id: parse(r, "account_id", AccountId::parse)?,
        kind: {
            let kind: String = r.try_get("", "kind")?;
            EntryKind::parse(&kind).ok_or_else(|| StoreError::Database(format!("unknown ledger entry kind {kind}")))?
        },
        amount_x100: super::registry::int(r, "amount_x100")?,
        created_at: r.try_get("", "created_at")?,
        receipt_no: super::registry::opt_int(r, "receipt_no")?,
        meter_id: r.try_get("", "meter_id")?,
        read_at: r.try_get("", "read_at")?,
        reverses_id: r.try_get("", "reverses_id")?,
        external_ref: r.try_get("", "external_ref")?,
        detail: r.try_get("", "detail")?,
        note: r.try_get("", "note")?,
        invoiced_at: r.try_get("", "invoiced_at")?,
        created_by: r.try_get("", "created_by")?,
    })
}

pub(super) fn parse<T>(r: &QueryResult, col: &str, f: fn(&str) -> Option<T>) -> Result<T> {
    let text: String = r.try_get("", col)?;
    f(&text).ok_or_else(|| StoreError::Database(format!("bad id in {col}")))
}

pub(super) fn conflict(msg: impl Into<String>) -> StoreError {
    StoreError::Conflict(msg.into())
}

/// New account input, validated by the API layer.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub customer: CustomerId,
    pub number: Option<String>,
    pub meters: Vec<MeterId>,
    pub thresholds: Thresholds,
    pub property_fee_x100: i64,
    /// Initial purchase (开户购电): amount in fen and the recharge kind.
    pub initial: Option<(i64, EntryKind)>,
}

impl TenantStore {
    pub(super) async fn begin(&self) -> Result<DatabaseTransaction> {
        Ok(self.db().begin().await?)
    }

    pub async fn account(&self, id: &AccountId) -> Result<Option<AccountRow>> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE tenant_id = $1 AND id = $2");
        let row = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id.as_str()))).await?;
        row.as_ref().map(account_row).transpose()
    }

    pub async fn accounts(&self, customer: Option<&CustomerId>, page: u64, page_size: u64) -> Result<(Vec<AccountRow>, u64)> {
        self.accounts_matching(customer, None, page, page_size).await
    }

    /// Accounts, optionally of one customer and matching `q` in the account number or the
    /// customer's name, phone or shop number.
    pub async fn accounts_matching(
        &self,
        customer: Option<&CustomerId>,
        q: Option<&str>,
        page: u64,
        page_size: u64,
    ) -> Result<(Vec<AccountRow>, u64)> {
        let mut args = self.args();
        let mut filter = match customer {
            Some(c) => format!(" AND customer_id = ${}", args.push(c.as_str().to_string().into())),
            None => String::new(),
        };
        if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
            let n = args.push(super::registry::like(q).into());
            filter += &format!(
                " AND (LOWER(number) LIKE ${n} ESCAPE '\\' OR customer_id IN (SELECT sc.id FROM customers sc WHERE sc.tenant_id = $1
                   AND (LOWER(sc.name) LIKE ${n} ESCAPE '\\' OR LOWER(sc.phone) LIKE ${n} ESCAPE '\\' OR LOWER(sc.shop_no) LIKE ${n} ESCAPE '\\')))"
            );
        }
        // A scoped operator sees the accounts with a meter in its properties.
        filter += &self.account_scope("id", None, &mut args);
        let total = {
            let sql = format!("SELECT COUNT(*) AS n FROM accounts WHERE tenant_id = $1{filter}");
            let r = self.db().query_one_raw(stmt(self.backend(), &sql, Args(args.0.clone()))).await?;
            r.map(|r| super::registry::int(&r, "n")).transpose()?.unwrap_or(0) as u64
        };
        let sql = format!(
            "SELECT {ACCOUNT_COLS} FROM accounts WHERE tenant_id = $1{filter} ORDER BY number LIMIT {} OFFSET {}",
            page_size,
            (page - 1) * page_size
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        Ok((rows.iter().map(account_row).collect::<Result<_>>()?, total))
    }

    /// Opens an account (开户) for a customer with its meters; billing starts at each meter's
    /// latest reading. An initial purchase is posted like any recharge.
    pub async fn open_account(&self, a: &NewAccount) -> Result<Posted> {
        let txn = self.begin().await?;
        let b = self.backend();
        // Write first (lock the customer): on SQLite a transaction that reads and then writes
        // fails when another writer committed in between.
        let sql = "UPDATE customers SET name = name WHERE tenant_id = $1 AND id = $2";
        txn.execute_raw(stmt(b, sql, self.args().s(a.customer.as_str()))).await?;
        let exists = txn
            .query_one_raw(stmt(
                b,
                "SELECT id FROM customers WHERE tenant_id = $1 AND id = $2 AND retired_at IS NULL",
                self.args().s(a.customer.as_str()),
            ))
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let id = AccountId::from_uuid(uuid::Uuid::new_v4());
        let number = match &a.number {
            Some(n) => n.clone(),
            None => format!("A{:08}", next_counter(&txn, self.tenant.as_str(), "account").await?),
        };
        let sql = "INSERT INTO accounts (tenant_id, id, customer_id, number, created_at, credit_limit_x100, alarm1_x100, alarm2_x100, property_fee_x100)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        let args = self
            .args()
            .s(id.as_str())
            .s(a.customer.as_str())
            .s(number)
            .t(Utc::now())
            .i(a.thresholds.credit_limit)
            .i(a.thresholds.alarm1)
            .i(a.thresholds.alarm2)
            .i(a.property_fee_x100);
        txn.execute_raw(stmt(b, sql, args)).await?;
        for m in &a.meters {
            self.attach_meter(&txn, &id, &a.customer, m).await?;
        }
        let posted = match a.initial {
            Some((amount, kind)) => self.recharge_in(&txn, &id, (amount, kind), None, "initial purchase (开户购电)", None).await?,
            None => {
                Posted { account: self.account_in(&txn, &id).await?, entries: vec![], receipt_no: None, commands: vec![], alarms: vec![] }
            }
        };
        txn.commit().await?;
        self.store.announce(&posted);
        Ok(posted)
    }

    pub(crate) async fn account_in(&self, txn: &DatabaseTransaction, id: &AccountId) -> Result<AccountRow> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE tenant_id = $1 AND id = $2");
        let row = txn.query_one_raw(stmt(self.backend(), &sql, self.args().s(id.as_str()))).await?.ok_or(StoreError::NotFound)?;
        account_row(&row)
    }

    /// The core of every money change: moves the balance by the postings' sum (locking the
    /// row), checks the guard, runs the state machine, numbers the receipt, writes the entries
    /// and any decided commands. The caller commits.
    pub(crate) async fn post(
        &self,
        txn: &DatabaseTransaction,
        account: &AccountId,
        postings: Vec<Posting>,
        receipt: bool,
        guard: Guard,
    ) -> Result<Posted> {
        let b = self.backend();
        let delta: i64 = postings.iter().map(|p| p.amount_x100).sum();
        let sql = format!(
            "UPDATE accounts SET balance_x100 = balance_x100 + $3 WHERE tenant_id = $1 AND id = $2 AND state = 'OPEN' RETURNING {}",
            ACCOUNT_COLUMNS
        );
        let Some(r) = txn.query_one_raw(stmt(b, &sql, self.args().s(account.as_str()).i(delta))).await? else {
            // Read inside the transaction: on SQLite it holds the write lock.
            let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE tenant_id = $1 AND id = $2");
            let found = txn.query_one_raw(stmt(b, &sql, self.args().s(account.as_str()))).await?;
            return Err(if found.is_some() { conflict("account is closed") } else { StoreError::NotFound });
        };
        let ctx = read_account(&r)?;
        if matches!(guard, Guard::NotNegative | Guard::Closing) && ctx.balance < 0 {
            return Err(conflict(format!("the balance is {}; it may not go below zero", yuan(ctx.balance - delta))));
        }
        let path =
            if guard == Guard::Closing { Vec::new() } else { states_entered(ctx.state, ctx.balance - delta, ctx.balance, ctx.thresholds) };
        let (state, wanted, decision) = decide(ctx.balance, ctx.thresholds, ctx.control);
        if state != ctx.state || wanted != ctx.control.wanted {
            let sql = "UPDATE accounts SET balance_state = $3, relay_wanted = $4 WHERE tenant_id = $1 AND id = $2";
            txn.execute_raw(stmt(b, sql, self.args().s(account.as_str()).s(state.as_str()).s(wanted.as_str()))).await?;
        }
        let receipt_no = if receipt { Some(next_counter(txn, self.tenant.as_str(), "receipt").await?) } else { None };
        let now = Utc::now();
        let mut entries = Vec::with_capacity(postings.len());
        for p in postings {
            entries.push(EntryRow {
                id: EntryId::new_ordered(),
                account_id: account.clone(),
                kind: p.kind,
                amount_x100: p.amount_x100,
                created_at: now,
                receipt_no,
                meter_id: p.meter_id,
                read_at: None,
                reverses_id: p.reverses_id,
                external_ref: p.external_ref,
                detail: p.detail,
                note: p.note,
                invoiced_at: None,
                created_by: self.actor().to_string(),
            });
        }
        insert_entries(txn, self.tenant.as_str(), &entries).await?;
        // Money received reaches the park platforms that take it (same transaction).
        let recharges: Vec<&EntryRow> =
            entries.iter().filter(|e| super::RECHARGE_KINDS.iter().any(|(k, _)| *k == e.kind.as_str())).collect();
        if !recharges.is_empty() && super::forwarding::any_target(txn, &[self.tenant.to_string()]).await? {
            let properties = super::forwarding::account_properties(txn, self.tenant.as_str(), account.as_str()).await?;
            let events: Vec<super::forwarding::Event> = recharges
                .iter()
                .map(|e| super::forwarding::Event {
                    tenant: self.tenant.to_string(),
                    kind: "RECHARGE",
                    reference: e.id.to_string(),
                    subject: account.to_string(),
                    at: e.created_at,
                    properties: properties.clone(),
                })
                .collect();
            super::forwarding::enqueue(txn, &events, Utc::now()).await?;
        }
        let commands = match decision {
            Some(d) => {
                let reason = format!("balance {} after {}", yuan(ctx.balance), entries.first().map_or("a change", |e| e.kind.as_str()));
                decisions_to_commands(txn, &[((self.tenant.to_string(), account.to_string()), d, reason)]).await?
            }
            None => vec![],
        };
        let alarms = super::alarms::balance_alarms_in(txn, self.tenant.as_str(), account.as_str(), &path, now).await?;
        Ok(Posted { account: self.account_in(txn, account).await?, entries, receipt_no, commands, alarms })
    }

    /// The service fee for an account: its property's (by its first meter) or the tenant's.
    pub(super) async fn fee_for(&self, txn: &DatabaseTransaction, account: &AccountId) -> Result<ServiceFee> {
        let sql = "SELECT COALESCE(p.fee_percent, t.fee_percent) AS pct, COALESCE(p.fee_fixed_x100, t.fee_fixed_x100) AS fixed
                   FROM tenants t LEFT JOIN meters m ON m.tenant_id = t.id AND m.account_id = $2
                   LEFT JOIN properties p ON p.tenant_id = m.tenant_id AND p.id = m.property_id
                   WHERE t.id = $1 ORDER BY m.id LIMIT 1";
        let r = txn.query_one_raw(stmt(self.backend(), sql, self.args().s(account.as_str()))).await?.ok_or(StoreError::NotFound)?;
        let pct: String = r.try_get("", "pct")?;
        Ok(ServiceFee { percent: pct.parse().unwrap_or_default(), fixed_fen: super::registry::int(&r, "fixed")? })
    }

    /// The service fee a recharge of `amount` fen into the account would take, before it is
    /// made (the sales desk shows it).
    pub async fn recharge_fee(&self, account: &AccountId, amount: i64) -> Result<i64> {
        if self.account(account).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        let txn = self.begin().await?;
        let fee = self.fee_for(&txn, account).await?;
        txn.rollback().await?;
        fee.on(amount).map_err(|e| conflict(e.message))
    }

    pub(super) async fn recharge_in(
        &self,
        txn: &DatabaseTransaction,
        account: &AccountId,
        (amount, kind): (i64, EntryKind),
        external_ref: Option<String>,
        note: &str,
        fee: Option<ServiceFee>,
    ) -> Result<Posted> {
        let fee = match fee {
            Some(f) => f,
            None => self.fee_for(txn, account).await?,
        };
        // Under the fee: an invalid amount (its own field).
        let fee = fee.on(amount)?;
        let mut recharge = Posting::new(kind, amount, note);
        recharge.external_ref = external_ref;
        let mut postings = vec![recharge];
        if fee > 0 {
            postings.push(Posting::new(EntryKind::ServiceFee, -fee, "service fee (服务费)"));
        }
        self.post(txn, account, postings, true, Guard::None).await
    }

    /// A recharge (cash, transfer, or a payment channel), idempotent on `external_ref`: the
    /// same reference posts once and a repeat returns the first posting's receipt.
    pub async fn recharge(
        &self,
        account: &AccountId,
        amount: i64,
        kind: EntryKind,
        external_ref: Option<String>,
        note: &str,
    ) -> Result<Posted> {
        if let Some(r) = &external_ref
            && let Some(existing) = self.entry_by_ref(kind, r).await?
        {
            return self.posted_for_receipt(&existing).await;
        }
        // Read before the transaction: on SQLite a transaction that reads first cannot later
        // take the write lock while another writer commits.
        let fee = {
            let txn = self.begin().await?;
            let fee = self.fee_for(&txn, account).await?;
            txn.commit().await?;
            fee
        };
        let txn = self.begin().await?;
        let posted = match self.recharge_in(&txn, account, (amount, kind), external_ref.clone(), note, Some(fee)).await {
            Err(StoreError::Conflict(m)) if external_ref.is_some() && m.contains("same key") => {
                drop(txn);
                let existing =
                    self.entry_by_ref(kind, external_ref.as_deref().unwrap_or_default()).await?.ok_or(StoreError::Conflict(m))?;
                return self.posted_for_receipt(&existing).await;
            }
            other => other?,
        };
        txn.commit().await?;
        self.store.announce(&posted);
        Ok(posted)
    }

    pub(super) async fn entry_by_ref(&self, kind: EntryKind, external_ref: &str) -> Result<Option<EntryRow>> {
        let sql = format!("SELECT {ENTRY_COLS} FROM ledger_entries WHERE tenant_id = $1 AND kind = $2 AND external_ref = $3");
        let r = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(kind.as_str()).s(external_ref))).await?;
        r.as_ref().map(entry_row).transpose()
    }

    pub(crate) async fn posted_for_receipt(&self, e: &EntryRow) -> Result<Posted> {
        let entries = match e.receipt_no {
            Some(n) => self.receipt_entries(n).await?,
            None => vec![e.clone()],
        };
        let account = self.account(&e.account_id).await?.ok_or(StoreError::NotFound)?;
        Ok(Posted { account, entries, receipt_no: e.receipt_no, commands: vec![], alarms: vec![] })
    }

    /// A refund (退电) paid out of the balance; it may not take the balance below zero.
    pub async fn refund(&self, account: &AccountId, amount: i64, note: &str) -> Result<Posted> {
        let txn = self.begin().await?;
        let posted = self.post(&txn, account, vec![Posting::new(EntryKind::Refund, -amount, note)], true, Guard::NotNegative).await?;
        txn.commit().await?;
        self.store.announce(&posted);
        Ok(posted)
    }

    /// A reversal (冲正): a compensating entry for each entry on the original's receipt (a
    /// recharge and its service fee go together), each linked to what it reverses. Once only.
    pub async fn reverse(&self, entry: &EntryId, note: &str) -> Result<Posted> {
        let original = self.entry(entry).await?.ok_or(StoreError::NotFound)?;
        if original.kind == EntryKind::Reversal {
            return Err(conflict("a reversal cannot itself be reversed; post a new entry instead"));
        }
        let group = match original.receipt_no {
            Some(n) => self.receipt_entries(n).await?.into_iter().filter(|e| e.kind != EntryKind::Reversal).collect(),
            None => vec![original.clone()],
        };
        let postings: Vec<Posting> = group
            .iter()
            .map(|e| {
                let mut p = Posting::new(EntryKind::Reversal, -e.amount_x100, note);
                p.reverses_id = Some(e.id.to_string());
                p.meter_id = e.meter_id.clone();
                p
            })
            .collect();
        let txn = self.begin().await?;
        let posted = match self.post(&txn, &original.account_id, postings, true, Guard::None).await {
            Err(StoreError::Conflict(m)) if m.contains("same key") => return Err(conflict("this entry is already reversed")),
            other => other?,
        };
        txn.commit().await?;
        self.store.announce(&posted);
        Ok(posted)
    }

    /// Moves money between two accounts of this tenant (余额转移), both entries on one receipt.
    pub async fn transfer(&self, from: &AccountId, to: &AccountId, amount: i64, note: &str) -> Result<(Posted, Posted)> {
        if from == to {
            return Err(conflict("choose two different accounts"));
        }
        let txn = self.begin().await?;
        // Lock in id order so two opposite transfers cannot deadlock.
        let (first, second) = if from < to { (from, to) } else { (to, from) };
        let mut out = Vec::new();
        for acc in [first, second] {
            let (kind, amount, guard) = if acc == from {
                (EntryKind::TransferOut, -amount, Guard::NotNegative)
            } else {
                (EntryKind::TransferIn, amount, Guard::None)
            };
            out.push(self.post(&txn, acc, vec![Posting::new(kind, amount, note)], true, guard).await?);
        }
        txn.commit().await?;
        let (a, b) = (out.remove(0), out.remove(0));
        let (out_p, in_p) = if first == from { (a, b) } else { (b, a) };
        self.store.announce(&out_p);
        self.store.announce(&in_p);
        Ok((out_p, in_p))
    }

    pub async fn entry(&self, id: &EntryId) -> Result<Option<EntryRow>> {
        let sql = format!("SELECT {ENTRY_COLS} FROM ledger_entries WHERE tenant_id = $1 AND id = $2");
        let r = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id.as_str()))).await?;
        r.as_ref().map(entry_row).transpose()
    }

    pub async fn receipt_entries(&self, receipt_no: i64) -> Result<Vec<EntryRow>> {
        let sql = format!("SELECT {ENTRY_COLS} FROM ledger_entries WHERE tenant_id = $1 AND receipt_no = $2 ORDER BY amount_x100 DESC, id");
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, self.args().i(receipt_no))).await?;
        rows.iter().map(entry_row).collect()
    }

    /// Entries of an account, newest first, after an optional cursor `(created_at, id)`.
    /// An account's entries newest first, after the entry `after` (the previous page's last).
    /// The cursor is compared with the stored row itself — its own `created_at` and id — so a
    /// walk is exact and total whatever the timestamps' precision and however many entries
    /// share one (a batch settled together does). An `after` not of this account is NotFound.
    pub async fn ledger(&self, account: &AccountId, after: Option<&str>, limit: u64) -> Result<Vec<EntryRow>> {
        let b = self.backend();
        let (cond, args) = match after {
            Some(id) => {
                let sql = "SELECT 1 AS x FROM ledger_entries WHERE tenant_id = $1 AND account_id = $2 AND id = $3";
                if self.db().query_one_raw(stmt(b, sql, self.args().s(account.as_str()).s(id))).await?.is_none() {
                    return Err(StoreError::NotFound);
                }
                (
                    " AND (created_at < (SELECT c.created_at FROM ledger_entries c WHERE c.tenant_id = $1 AND c.id = $3)
                       OR (created_at = (SELECT c.created_at FROM ledger_entries c WHERE c.tenant_id = $1 AND c.id = $3) AND id < $3))",
                    self.args().s(account.as_str()).s(id),
                )
            }
            None => ("", self.args().s(account.as_str())),
        };
        let sql = format!(
            "SELECT {ENTRY_COLS} FROM ledger_entries WHERE tenant_id = $1 AND account_id = $2{cond} ORDER BY created_at DESC, id DESC LIMIT {limit}"
        );
        let rows = self.db().query_all_raw(stmt(b, &sql, args)).await?;
        rows.iter().map(entry_row).collect()
    }

    /// The sum of an account's entries (what its balance must equal).
    pub async fn ledger_sum(&self, account: &AccountId) -> Result<i64> {
        let sql = "SELECT COALESCE(SUM(amount_x100), 0) AS s FROM ledger_entries WHERE tenant_id = $1 AND account_id = $2";
        let r = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(account.as_str()))).await?;
        match r {
            Some(r) => r
                .try_get::<i64>("", "s")
                .or_else(|_| r.try_get::<Decimal>("", "s").map(|d| i64::try_from(d.mantissa()).unwrap_or(0)))
                .map_err(Into::into),
            None => Ok(0),
        }
    }

    /// The tenant's accounts whose balance differs from the sum of their entries (a
    /// benchmark's check after bulk settlement; always 0 unless something is broken).
    pub async fn accounts_off_ledger(&self) -> Result<i64> {
        let sql = "SELECT COUNT(*) AS n FROM accounts a WHERE a.tenant_id = $1 AND a.balance_x100 <>
             (SELECT CAST(COALESCE(SUM(e.amount_x100), 0) AS BIGINT) FROM ledger_entries e WHERE e.tenant_id = a.tenant_id AND e.account_id = a.id)";
        let r = self.db().query_one_raw(stmt(self.backend(), sql, self.args())).await?;
        Ok(r.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0))
    }

    /// How many entries of a kind the tenant's ledger holds.
    pub async fn entry_count(&self, kind: EntryKind) -> Result<i64> {
        let sql = "SELECT COUNT(*) AS n FROM ledger_entries WHERE tenant_id = $1 AND kind = $2";
        let r = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(kind.as_str()))).await?;
        Ok(r.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0))
    }

    /// Marks entries invoiced (已开票); returns how many were newly marked.
    pub async fn mark_invoiced(&self, ids: &[EntryId]) -> Result<u64> {
        let mut n = 0;
        let txn = self.begin().await?;
        for id in ids {
            let sql = "UPDATE ledger_entries SET invoiced_at = $3 WHERE tenant_id = $1 AND id = $2 AND invoiced_at IS NULL";
            n += txn.execute_raw(stmt(self.backend(), sql, self.args().s(id.as_str()).t(Utc::now()))).await?.rows_affected();
        }
        txn.commit().await?;
        Ok(n)
    }

    /// Changes thresholds, credit limit and property fee; the state machine runs again.
    pub async fn set_account_terms(&self, account: &AccountId, t: Thresholds, property_fee_x100: i64) -> Result<Posted> {
        let txn = self.begin().await?;
        let sql = "UPDATE accounts SET credit_limit_x100 = $3, alarm1_x100 = $4, alarm2_x100 = $5, property_fee_x100 = $6 WHERE tenant_id = $1 AND id = $2";
        let args = self.args().s(account.as_str()).i(t.credit_limit).i(t.alarm1).i(t.alarm2).i(property_fee_x100);
        if txn.execute_raw(stmt(self.backend(), sql, args)).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let posted = self.post(&txn, account, vec![], false, Guard::None).await?;
        txn.commit().await?;
        self.store.announce(&posted);
        Ok(posted)
    }

    /// Hold power (保电) on or off; releasing it (restore prepaid, 恢复预付费) may trip at once.
    /// The meters too are told (HOLD_ON / HOLD_OFF), before any trip the release decides.
    pub async fn set_hold_power(&self, account: &AccountId, hold: bool) -> Result<Posted> {
        let txn = self.begin().await?;
        let sql = "UPDATE accounts SET hold_power = $3 WHERE tenant_id = $1 AND id = $2";
        if txn.execute_raw(stmt(self.backend(), sql, self.args().s(account.as_str()).i(i64::from(hold)))).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let sql = "SELECT id FROM meters WHERE tenant_id = $1 AND account_id = $2 AND retired_at IS NULL AND billing_mode = 'PLATFORM_PREPAID' ORDER BY id";
        let mut told = Vec::new();
        for r in txn.query_all_raw(stmt(self.backend(), sql, self.args().s(account.as_str()))).await? {
            told.push(self.command_record(
                &r.try_get::<String>("", "id")?,
                Some(account.to_string()),
                if hold { "HOLD_ON" } else { "HOLD_OFF" },
                "AUTO",
                "hold power changed on the account",
            ));
        }
        insert_commands(&txn, &told).await?;
        let mut posted = self.post(&txn, account, vec![], false, Guard::None).await?;
        txn.commit().await?;
        told.append(&mut posted.commands);
        posted.commands = told;
        self.store.announce(&posted);
        Ok(posted)
    }

    /// Closes an account (销户): it must not owe money; a positive balance is refunded in
    /// full on the closing receipt; its meters are released.
    pub async fn close_account(&self, account: &AccountId, note: &str) -> Result<Posted> {
        let txn = self.begin().await?;
        let acc = self.account_in(&txn, account).await?;
        if acc.state != "OPEN" {
            return Err(conflict("account is already closed"));
        }
        if acc.balance_x100 < 0 {
            return Err(conflict(format!("the account owes {}; settle it before closing", yuan(-acc.balance_x100))));
        }
        let mut posted = if acc.balance_x100 > 0 {
            self.post(&txn, account, vec![Posting::new(EntryKind::Refund, -acc.balance_x100, note)], true, Guard::Closing).await?
        } else {
            Posted { account: acc.clone(), entries: vec![], receipt_no: None, commands: vec![], alarms: vec![] }
        };
        let b = self.backend();
        txn.execute_raw(stmt(
            b,
            "UPDATE meters SET account_id = NULL, customer_id = NULL WHERE tenant_id = $1 AND account_id = $2",
            self.args().s(account.as_str()),
        ))
        .await?;
        let sql = "UPDATE accounts SET state = 'CLOSED', closed_at = $3, relay_wanted = 'CLOSED' WHERE tenant_id = $1 AND id = $2";
        txn.execute_raw(stmt(b, sql, self.args().s(account.as_str()).t(Utc::now()))).await?;
        // A closed account keeps no balance alarm.
        let sql = "UPDATE alarms SET state = 'CLEARED', cleared_at = $3 WHERE tenant_id = $1 AND subject_id = $2 AND state = 'ACTIVE' RETURNING id";
        for r in txn.query_all_raw(stmt(b, sql, self.args().s(account.as_str()).t(Utc::now()))).await? {
            posted.alarms.push(super::AlarmEvent { tenant_id: self.tenant.to_string(), alarm_id: r.try_get("", "id")?, change: "CLEARED" });
        }
        posted.account = self.account_in(&txn, account).await?;
        posted.commands.clear();
        txn.commit().await?;
        self.store.publish_alarms(&posted.alarms);
        Ok(posted)
    }
}

/// Gapless per-tenant counters (receipt numbers, account numbers): the row lock held until
/// commit serializes them, and a rolled-back transaction gives its number back.
pub(crate) async fn next_counter<C: ConnectionTrait>(db: &C, tenant: &str, name: &str) -> Result<i64> {
    let sql = "INSERT INTO tenant_counters (tenant_id, name, value) VALUES ($1, $2, 1)
               ON CONFLICT (tenant_id, name) DO UPDATE SET value = tenant_counters.value + 1 RETURNING value";
    let r = db.query_one_raw(stmt(db.get_database_backend(), sql, Args::new().s(tenant).s(name))).await?.ok_or(StoreError::NotFound)?;
    super::registry::int(&r, "value")
}

pub(crate) async fn insert_entries<C: ConnectionTrait>(db: &C, tenant: &str, entries: &[EntryRow]) -> Result<()> {
    let rows: Vec<Vec<Cell>> = entries
        .iter()
        .map(|e| {
            vec![
                Cell::Text(tenant.into()),
                Cell::Text(e.id.to_string()),
                Cell::Text(e.account_id.to_string()),
                Cell::Text(e.kind.as_str().into()),
                Cell::Int(e.amount_x100),
                Cell::Time(e.created_at),
                Cell::opt_int(e.receipt_no),
                Cell::opt_text(e.meter_id.clone()),
                Cell::opt_text(e.reverses_id.clone()),
                Cell::opt_text(e.external_ref.clone()),
                Cell::Text(e.detail.clone()),
                Cell::Text(e.note.clone()),
                Cell::Text(e.created_by.clone()),
            ]
        })
        .collect();
    bulk::insert(
        db,
        "ledger_entries",
        &[
            ("tenant_id", Col::Text),
            ("id", Col::Text),
            ("account_id", Col::Text),
            ("kind", Col::Text),
            ("amount_x100", Col::Int),
            ("created_at", Col::Time),
            ("receipt_no", Col::Int),
            ("meter_id", Col::Text),
            ("reverses_id", Col::Text),
            ("external_ref", Col::Text),
            ("detail", Col::Text),
            ("note", Col::Text),
            ("created_by", Col::Text),
        ],
        &rows,
        "",
    )
    .await?;
    Ok(())
}
