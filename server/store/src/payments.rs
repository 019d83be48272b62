//! Payments (issue 6, first part): the platform's WeChat Pay service-provider account (keys
//! wrapped with the KEK), payees per tenant, and recharge orders credited exactly once.

use super::registry::int;
use super::sql::{Args, stmt};
use super::{Result, StoreError, TenantStore};
use chrono::{DateTime, Utc};
use domain::ids::{AccountId, BillId, TenantId};
use sea_orm::{ConnectionTrait, QueryResult};

/// The service-provider account every partner-mode payment goes through.
#[derive(Clone)]
pub struct PaymentProvider {
    pub sp_mchid: String,
    pub sp_appid: String,
    /// Serial of the provider's merchant API certificate.
    pub serial: String,
    pub private_key_pem: String,
    pub api_v3_key: String,
    /// WeChat's verification keys: (serial or PUB_KEY_ID_…, SPKI PEM).
    pub wechat_keys: Vec<(String, String)>,
    /// `https://api.mch.weixin.qq.com` (or a stand-in).
    pub api_base: String,
    /// Where WeChat posts payment notifications (`…/pay/wechat/notify`).
    pub notify_url: String,
}

impl std::fmt::Debug for PaymentProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PaymentProvider({}, {}, <keys>)", self.sp_mchid, self.sp_appid)
    }
}

#[derive(Debug, Clone)]
pub struct PayeeRow {
    pub id: String,
    pub name: String,
    /// PARTNER (a sub-merchant under the platform's service-provider account) or DIRECT
    /// (the company's own merchant account and keys).
    pub mode: String,
    /// The WeChat Pay merchant number receiving the money: `sub_mchid` (PARTNER) or `mchid`.
    pub sub_mchid: String,
    pub property_id: Option<String>,
    pub area_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct OrderRow {
    pub tenant_id: String,
    pub id: String,
    pub out_trade_no: String,
    pub account_id: String,
    pub payee_id: String,
    /// WECHAT (partner), WECHAT_DIRECT, ALIPAY: which credential set the order lives under.
    pub channel: String,
    pub amount_x100: i64,
    pub openid: String,
    pub app_id: String,
    pub sub_mchid: String,
    pub prepay_id: Option<String>,
    /// CREATED, PAID, CLOSED.
    pub state: String,
    pub transaction_id: Option<String>,
    pub entry_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    /// The post-paid bill the order pays; `None` for a recharge.
    pub bill_id: Option<String>,
}

pub(crate) const PAYEE_COLS: &str = "id, name, mode, sub_mchid, property_id, area_id, created_at";

pub(crate) const ORDER_COLS: &str =
    "tenant_id, id, out_trade_no, account_id, payee_id, channel, amount_x100, openid, app_id, sub_mchid, prepay_id, state,
    transaction_id, entry_id, created_at, expires_at, paid_at, bill_id";

pub(crate) fn payee_row(r: &QueryResult) -> Result<PayeeRow> {
    Ok(PayeeRow {
        id: r.try_get("", "id")?,
        name: r.try_get("", "name")?,
        mode: r.try_get("", "mode")?,
        sub_mchid: r.try_get("", "sub_mchid")?,
        property_id: r.try_get("", "property_id")?,
        area_id: r.try_get("", "area_id")?,
        created_at: r.try_get("", "created_at")?,
    })
}

pub(crate) fn order_row(r: &QueryResult) -> Result<OrderRow> {
    Ok(OrderRow {
        tenant_id: r.try_get("", "tenant_id")?,
        id: r.try_get("", "id")?,
        out_trade_no: r.try_get("", "out_trade_no")?,
        account_id: r.try_get("", "account_id")?,
        payee_id: r.try_get("", "payee_id")?,
        channel: r.try_get("", "channel")?,
        amount_x100: int(r, "amount_x100")?,
        openid: r.try_get("", "openid")?,
        app_id: r.try_get("", "app_id")?,
        sub_mchid: r.try_get("", "sub_mchid")?,
        prepay_id: r.try_get("", "prepay_id")?,
        state: r.try_get("", "state")?,
        transaction_id: r.try_get("", "transaction_id")?,
        entry_id: r.try_get("", "entry_id")?,
        created_at: r.try_get("", "created_at")?,
        expires_at: r.try_get("", "expires_at")?,
        paid_at: r.try_get("", "paid_at")?,
        bill_id: r.try_get("", "bill_id")?,
    })
}

pub(crate) const PROVIDER_AAD: &str = "platform/WECHATPAY_PROVIDER/1";

impl super::PlatformStore {
    /// Platform operation: sets the service-provider account (secrets wrapped with the KEK).
    pub async fn set_payment_provider(&self, p: &PaymentProvider) -> Result<()> {
        let kek = self.kek()?;
        let key = kek.wrap(&format!("{PROVIDER_AAD}/key"), p.private_key_pem.as_bytes())?;
        let v3 = kek.wrap(&format!("{PROVIDER_AAD}/apiv3"), p.api_v3_key.as_bytes())?;
        let keys = serde_json::to_string(&p.wechat_keys).map_err(|e| StoreError::Database(e.to_string()))?;
        let sql = "INSERT INTO payment_provider (id, sp_mchid, sp_appid, serial, wrapped_private_key, wrapped_api_v3_key, wechat_keys, api_base, notify_url, updated_at)
                   VALUES ('wechat', $1, $2, $3, $4, $5, $6, $7, $8, $9)
                   ON CONFLICT (id) DO UPDATE SET sp_mchid = excluded.sp_mchid, sp_appid = excluded.sp_appid, serial = excluded.serial,
                   wrapped_private_key = excluded.wrapped_private_key, wrapped_api_v3_key = excluded.wrapped_api_v3_key,
                   wechat_keys = excluded.wechat_keys, api_base = excluded.api_base, notify_url = excluded.notify_url, updated_at = excluded.updated_at";
        let args =
            Args::new().s(&p.sp_mchid).s(&p.sp_appid).s(&p.serial).s(key).s(v3).s(keys).s(&p.api_base).s(&p.notify_url).t(Utc::now());
        self.db.execute_raw(stmt(self.backend(), sql, args)).await?;
        Ok(())
    }

    /// The service-provider account with its secrets opened (for WeChat calls only).
    pub async fn payment_provider(&self) -> Result<Option<PaymentProvider>> {
        let sql = "SELECT sp_mchid, sp_appid, serial, wrapped_private_key, wrapped_api_v3_key, wechat_keys, api_base, notify_url FROM payment_provider WHERE id = 'wechat'";
        let Some(r) = self.db.query_one_raw(stmt(self.backend(), sql, Args::new())).await? else { return Ok(None) };
        let kek = self.kek()?;
        let text = |b: Vec<u8>| String::from_utf8(b).map_err(|_| StoreError::Database("stored key is not text".into()));
        let key = text(kek.unwrap(&format!("{PROVIDER_AAD}/key"), &r.try_get::<String>("", "wrapped_private_key")?)?)?;
        let v3 = text(kek.unwrap(&format!("{PROVIDER_AAD}/apiv3"), &r.try_get::<String>("", "wrapped_api_v3_key")?)?)?;
        Ok(Some(PaymentProvider {
            sp_mchid: r.try_get("", "sp_mchid")?,
            sp_appid: r.try_get("", "sp_appid")?,
            serial: r.try_get("", "serial")?,
            private_key_pem: key,
            api_v3_key: v3,
            wechat_keys: serde_json::from_str(&r.try_get::<String>("", "wechat_keys")?).unwrap_or_default(),
            api_base: r.try_get("", "api_base")?,
            notify_url: r.try_get("", "notify_url")?,
        }))
    }

    /// Unpaid orders older than `created_before` not asked about since `checked_before`.
    pub async fn orders_to_check(&self, created_before: DateTime<Utc>, checked_before: DateTime<Utc>, limit: u64) -> Result<Vec<OrderRow>> {
        let sql = format!(
            "SELECT {ORDER_COLS} FROM payment_orders WHERE state = 'CREATED' AND created_at < $1 AND (checked_at IS NULL OR checked_at < $2)
             ORDER BY created_at LIMIT {limit}"
        );
        self.db
            .query_all_raw(stmt(self.backend(), &sql, Args::new().t(created_before).t(checked_before)))
            .await?
            .iter()
            .map(order_row)
            .collect()
    }

    pub async fn order_checked(&self, order: &OrderRow, now: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE payment_orders SET checked_at = $3 WHERE tenant_id = $1 AND id = $2";
        self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(&order.tenant_id).s(&order.id).t(now))).await?;
        Ok(())
    }

    pub async fn order_closed(&self, order: &OrderRow) -> Result<()> {
        let sql = "UPDATE payment_orders SET state = 'CLOSED' WHERE tenant_id = $1 AND id = $2 AND state = 'CREATED'";
        self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(&order.tenant_id).s(&order.id))).await?;
        Ok(())
    }

    /// An order by our order number, whichever tenant it belongs to (notifications).
    pub async fn order_by_trade_no(&self, out_trade_no: &str) -> Result<Option<OrderRow>> {
        let sql = format!("SELECT {ORDER_COLS} FROM payment_orders WHERE out_trade_no = $1");
        let row = self.db.query_one_raw(stmt(self.backend(), &sql, Args::new().s(out_trade_no))).await?;
        row.map(|r| order_row(&r)).transpose()
    }
}

impl TenantStore {
    pub async fn payment_provider(&self) -> Result<Option<PaymentProvider>> {
        self.store.platform().payment_provider().await
    }

    pub async fn create_payee(
        &self,
        name: &str,
        mode: &str,
        sub_mchid: &str,
        property: Option<&str>,
        area: Option<&str>,
    ) -> Result<PayeeRow> {
        if let Some(p) = property {
            self.require("properties", p).await.map_err(|_| domain::Invalid::new("propertyId", "no such property"))?;
        }
        if let Some(a) = area {
            self.require("areas", a).await.map_err(|_| domain::Invalid::new("areaId", "no such area"))?;
        }
        self.merchant_free(sub_mchid, None).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let sql = "INSERT INTO payees (tenant_id, id, name, mode, sub_mchid, property_id, area_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let args = self.args().s(&id).s(name).s(mode).s(sub_mchid).os(property).os(area).t(Utc::now());
        self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        self.payees().await?.into_iter().find(|p| p.id == id).ok_or(StoreError::NotFound)
    }

    /// Which ways to pay the tenant takes at all: (WeChat Pay, Alipay). WeChat Pay: a
    /// partner payee under the platform's service provider, or a direct payee with its own
    /// merchant keys; Alipay: a payee with an Alipay app.
    pub async fn payment_channels(&self) -> Result<(bool, bool)> {
        let sql = "SELECT p.mode, c.channel FROM payees p LEFT JOIN payee_credentials c ON c.tenant_id = p.tenant_id AND c.payee_id = p.id
                   WHERE p.tenant_id = $1 AND p.retired_at IS NULL";
        let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args())).await?;
        let provider = self.payment_provider().await?.is_some();
        let (mut wechat, mut alipay) = (false, false);
        for r in &rows {
            let mode: String = r.try_get("", "mode")?;
            let channel: Option<String> = r.try_get("", "channel")?;
            wechat |= (mode == "PARTNER" && provider) || channel.as_deref() == Some("WECHAT");
            alipay |= channel.as_deref() == Some("ALIPAY");
        }
        Ok((wechat, alipay))
    }

    pub async fn payees(&self) -> Result<Vec<PayeeRow>> {
        let sql = format!("SELECT {PAYEE_COLS} FROM payees WHERE tenant_id = $1 AND retired_at IS NULL ORDER BY name, id");
        self.db().query_all_raw(stmt(self.backend(), &sql, self.args())).await?.iter().map(payee_row).collect()
    }

    /// The payee that receives an account's money: one bound to the area of one of its
    /// meters, else to the property, else the tenant's default (bound to neither).
    pub async fn payee_for_account(&self, account: &AccountId) -> Result<Option<PayeeRow>> {
        let sql = format!(
            "SELECT {cols}, CASE WHEN p.area_id IS NOT NULL THEN 0 WHEN p.property_id IS NOT NULL THEN 1 ELSE 2 END AS rank
             FROM payees p WHERE p.tenant_id = $1 AND p.retired_at IS NULL AND (
                 p.area_id IN (SELECT area_id FROM meters WHERE tenant_id = $1 AND account_id = $2 AND area_id IS NOT NULL)
              OR (p.area_id IS NULL AND p.property_id IN (SELECT property_id FROM meters WHERE tenant_id = $1 AND account_id = $2))
              OR (p.area_id IS NULL AND p.property_id IS NULL))
             ORDER BY rank, p.created_at LIMIT 1",
            cols = PAYEE_COLS.split(", ").map(|c| format!("p.{c}")).collect::<Vec<_>>().join(", ")
        );
        let row = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(account.as_str()))).await?;
        row.map(|r| payee_row(&r)).transpose()
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn create_order(
        &self,
        account: &AccountId,
        payee: &PayeeRow,
        amount_x100: i64,
        openid: &str,
        app_id: &str,
        out_trade_no: &str,
        expires_at: DateTime<Utc>,
        channel: &str,
        merchant: &str,
        bill: Option<&BillId>,
    ) -> Result<OrderRow> {
        let id = uuid::Uuid::new_v4().to_string();
        let sql = "INSERT INTO payment_orders (tenant_id, id, out_trade_no, account_id, payee_id, channel, amount_x100, openid, app_id, sub_mchid, created_at, expires_at, bill_id)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
        let args = self
            .args()
            .s(&id)
            .s(out_trade_no)
            .s(account.as_str())
            .s(&payee.id)
            .s(channel)
            .i(amount_x100)
            .s(openid)
            .s(app_id)
            .s(merchant)
            .t(Utc::now())
            .t(expires_at)
            .os(bill.map(|b| b.to_string()));
        let txn = self.db().begin().await?;
        self.claim_global(&txn, super::global_keys::GlobalKey::OutTradeNo, out_trade_no).await?;
        txn.execute_raw(stmt(self.backend(), sql, args)).await?;
        txn.commit().await?;
        self.order(&id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn order(&self, id: &str) -> Result<Option<OrderRow>> {
        let sql = format!("SELECT {ORDER_COLS} FROM payment_orders WHERE tenant_id = $1 AND id = $2");
        let row = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id))).await?;
        row.map(|r| order_row(&r)).transpose()
    }

    pub async fn order_by_trade_no(&self, out_trade_no: &str) -> Result<Option<OrderRow>> {
        let sql = format!("SELECT {ORDER_COLS} FROM payment_orders WHERE tenant_id = $1 AND out_trade_no = $2");
        let row = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(out_trade_no))).await?;
        row.map(|r| order_row(&r)).transpose()
    }

    /// A payee's orders paid in `[from, to)`.
    pub async fn paid_orders_of_payee(&self, payee: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<OrderRow>> {
        let sql = format!(
            "SELECT {ORDER_COLS} FROM payment_orders WHERE tenant_id = $1 AND payee_id = $2 AND state = 'PAID' AND paid_at >= $3 AND paid_at < $4 ORDER BY paid_at"
        );
        self.db().query_all_raw(stmt(self.backend(), &sql, self.args().s(payee).t(from).t(to))).await?.iter().map(order_row).collect()
    }

    /// Per payee: payments credited in `[from, to)` and refunds started then that did not
    /// fail, in fen, by channel — two grouped statements for all payees.
    pub async fn payment_summary(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<PayeeTotals>> {
        let mut out: Vec<PayeeTotals> = self.payees().await?.into_iter().map(PayeeTotals::new).collect();
        let sql = "SELECT payee_id, channel, COUNT(*) AS n, CAST(COALESCE(SUM(amount_x100), 0) AS BIGINT) AS total FROM payment_orders
                   WHERE tenant_id = $1 AND state = 'PAID' AND paid_at >= $2 AND paid_at < $3 GROUP BY payee_id, channel";
        for r in self.db().query_all_raw(stmt(self.backend(), sql, self.args().t(from).t(to))).await? {
            let payee: String = r.try_get("", "payee_id")?;
            if let Some(t) = out.iter_mut().find(|t| t.payee.id == payee) {
                t.channel(r.try_get("", "channel")?).1 += int(&r, "n")?;
                t.channel(r.try_get("", "channel")?).2 += int(&r, "total")?;
            }
        }
        let sql = "SELECT o.payee_id, o.channel, CAST(COALESCE(SUM(r.amount_x100), 0) AS BIGINT) AS total FROM payment_refunds r
                   JOIN payment_orders o ON o.tenant_id = r.tenant_id AND o.id = r.order_id
                   WHERE r.tenant_id = $1 AND r.state IN ('PROCESSING', 'SUCCESS') AND r.created_at >= $2 AND r.created_at < $3
                   GROUP BY o.payee_id, o.channel";
        for r in self.db().query_all_raw(stmt(self.backend(), sql, self.args().t(from).t(to))).await? {
            let payee: String = r.try_get("", "payee_id")?;
            if let Some(t) = out.iter_mut().find(|t| t.payee.id == payee) {
                t.channel(r.try_get("", "channel")?).3 += int(&r, "total")?;
            }
        }
        Ok(out)
    }

    pub async fn orders_of_account(&self, account: &AccountId) -> Result<Vec<OrderRow>> {
        let sql =
            format!("SELECT {ORDER_COLS} FROM payment_orders WHERE tenant_id = $1 AND account_id = $2 ORDER BY created_at DESC LIMIT 100");
        self.db().query_all_raw(stmt(self.backend(), &sql, self.args().s(account.as_str()))).await?.iter().map(order_row).collect()
    }

    pub async fn set_prepay_id(&self, id: &str, prepay_id: &str) -> Result<()> {
        let sql = "UPDATE payment_orders SET prepay_id = $3 WHERE tenant_id = $1 AND id = $2";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id).s(prepay_id))).await?;
        Ok(())
    }

    /// A merchant number (WeChat sub-merchant or direct mchid, Alipay seller) or an Alipay app
    /// belongs to one tenant platform-wide: a company cannot register another company's
    /// merchant as its payee (and so reconcile its bills or receive its notifications).
    pub(crate) async fn merchant_free(&self, merchant_id: &str, alipay_app: Option<&str>) -> Result<()> {
        let taken = "the merchant account is registered by another company on this platform";
        // A platform read on purpose: the other tenants' rows are what must be checked.
        let sql = "SELECT 1 AS x FROM payees WHERE sub_mchid = $1 AND tenant_id <> $2
                   UNION ALL SELECT 1 AS x FROM payee_credentials WHERE merchant_id = $1 AND tenant_id <> $2";
        let args = Args::new().s(merchant_id).s(self.tenant.as_str());
        if !merchant_id.is_empty() && self.store.db.query_one_raw(stmt(self.backend(), sql, args)).await?.is_some() {
            return Err(StoreError::Conflict(taken.into()));
        }
        if let Some(app) = alipay_app {
            let sql = "SELECT 1 AS x FROM payee_credentials WHERE channel = 'ALIPAY' AND app_id = $1 AND tenant_id <> $2";
            if self.store.db.query_one_raw(stmt(self.backend(), sql, Args::new().s(app).s(self.tenant.as_str()))).await?.is_some() {
                return Err(StoreError::Conflict("the Alipay app is registered by another company on this platform".into()));
            }
        }
        // Then claimed in the platform's registry (a primary key decides): two companies
        // registering the same merchant at the same instant cannot both pass the check above.
        let mut claims = vec![("MERCHANT", merchant_id, taken)];
        if let Some(app) = alipay_app {
            claims.push(("ALIPAY_APP", app, "the Alipay app is registered by another company on this platform"));
        }
        for (kind, number, why) in claims.into_iter().filter(|c| !c.1.is_empty()) {
            let b = self.backend();
            let sql = "INSERT INTO merchant_owners (kind, number, owner_tenant, claimed_at) VALUES ($1, $2, $3, $4) ON CONFLICT (kind, number) DO NOTHING";
            self.store.db.execute_raw(stmt(b, sql, Args::new().s(kind).s(number).s(self.tenant.as_str()).t(Utc::now()))).await?;
            let sql = "SELECT owner_tenant FROM merchant_owners WHERE kind = $1 AND number = $2";
            let owner = self.store.db.query_one_raw(stmt(b, sql, Args::new().s(kind).s(number))).await?;
            let owner: Option<String> = owner.map(|r| r.try_get("", "owner_tenant")).transpose()?;
            if owner.as_deref() != Some(self.tenant.as_str()) {
                return Err(StoreError::Conflict(why.into()));
            }
        }
        Ok(())
    }

    /// Credits a paid order at most once, whatever arrives. The order is claimed
    /// (CREATED → PAID, compare-and-set) in the transaction that posts the recharge, so two
    /// notifications racing cannot both credit. The same payment again changes nothing. A
    /// different payment for an order already paid or closed — or a payment whose account
    /// can no longer take it — is never credited: it is kept as a payment difference for
    /// refund and raises PAYMENT_DIFFERENCE on the payee, in the same transaction.
    pub async fn settle_paid_order(&self, order: &OrderRow, transaction_id: &str, paid_at: DateTime<Utc>) -> Result<PaidOutcome> {
        // PostgreSQL may pick one of several racing deliveries as a deadlock victim (they
        // meet on the order, the account, the receipt counter and the alarms); that one is
        // rolled back whole and simply tried again.
        let mut tries = 0;
        loop {
            match self.settle_paid_order_once(order, transaction_id, paid_at).await {
                Err(StoreError::Database(e)) if tries < 4 && (e.contains("deadlock detected") || e.contains("could not serialize")) => {
                    tries += 1;
                    tracing::info!(order = %order.out_trade_no, tries, "payment settlement retried after a deadlock");
                    tokio::time::sleep(std::time::Duration::from_millis(20 * tries)).await;
                }
                other => return other,
            }
        }
    }

    pub(crate) async fn settle_paid_order_once(
        &self,
        order: &OrderRow,
        transaction_id: &str,
        paid_at: DateTime<Utc>,
    ) -> Result<PaidOutcome> {
        if let Some(bill) = order.bill_id.as_deref() {
            return self.settle_paid_bill_order(order, bill, transaction_id, paid_at).await;
        }
        let account = AccountId::parse(&order.account_id).ok_or(StoreError::NotFound)?;
        let (kind, via) = match order.channel.as_str() {
            "ALIPAY" => (domain::ledger::EntryKind::RechargeAlipay, "Alipay"),
            _ => (domain::ledger::EntryKind::RechargeWechat, "WeChat Pay"),
        };
        let b = self.backend();
        // Read before the writing transaction (SQLite: a transaction that reads first cannot
        // later take the write lock while another writer commits).
        let fee = {
            let txn = self.db().begin().await?;
            let fee = self.fee_for(&txn, &account).await?;
            txn.commit().await?;
            fee
        };
        let txn = self.db().begin().await?;
        let claim = "UPDATE payment_orders SET state = 'PAID', transaction_id = $3, paid_at = $4
                     WHERE tenant_id = $1 AND id = $2 AND state = 'CREATED'";
        let claimed = txn.execute_raw(stmt(b, claim, self.args().s(&order.id).s(transaction_id).t(paid_at))).await?.rows_affected() == 1;
        if claimed {
            let note = format!("{via} {}", order.out_trade_no);
            match self.recharge_in(&txn, &account, (order.amount_x100, kind), Some(transaction_id.to_string()), &note, Some(fee)).await {
                Ok(posted) => {
                    let entry = posted.entries.first().map(|e| e.id.to_string());
                    let sql = "UPDATE payment_orders SET entry_id = $3 WHERE tenant_id = $1 AND id = $2";
                    txn.execute_raw(stmt(b, sql, self.args().s(&order.id).os(entry))).await?;
                    txn.commit().await?;
                    self.store.announce(&posted);
                    return Ok(PaidOutcome::Credited(Box::new(posted)));
                }
                Err(StoreError::Conflict(why)) => {
                    txn.rollback().await?;
                    // This payment's entry exists already (credited before its order was
                    // marked, by an older release or another instance): it is credited.
                    if let Some(entry) = self.entry_by_ref(kind, transaction_id).await? {
                        let sql = "UPDATE payment_orders SET state = 'PAID', transaction_id = $3, paid_at = $4, entry_id = $5
                                   WHERE tenant_id = $1 AND id = $2 AND state = 'CREATED'";
                        let args = self.args().s(&order.id).s(transaction_id).t(paid_at).s(entry.id.as_str());
                        self.db().execute_raw(stmt(b, sql, args)).await?;
                        return Ok(PaidOutcome::AlreadyCredited);
                    }
                    // The account cannot take the money (closed since the order, or the fee
                    // rules refuse it): the order is closed to further payment and this one is
                    // kept for refund rather than lost. The order has no entry, so it can never
                    // be refunded twice — through the order and through the difference.
                    let txn = self.db().begin().await?;
                    let close = "UPDATE payment_orders SET state = 'CLOSED' WHERE tenant_id = $1 AND id = $2 AND state = 'CREATED'";
                    txn.execute_raw(stmt(b, close, self.args().s(&order.id))).await?;
                    let why = format!("the account could not be credited: {why}");
                    return self.not_credited(txn, order, transaction_id, paid_at, |_| why).await;
                }
                Err(e) => return Err(e),
            }
        }
        self.not_credited(txn, order, transaction_id, paid_at, |current| unclaimed("an order", current)).await
    }

    /// A paid order for a post-paid bill: claimed (CREATED → PAID) in the transaction that
    /// marks the bill PAID and posts BILL_PAYMENT (keyed by the channel's transaction id) and
    /// BILL_SETTLEMENT, so it is credited at most once. A bill that can no longer take it (paid
    /// at the desk meanwhile, superseded by a re-issue, its account closed) closes the order
    /// and keeps the payment as a difference for refund.
    async fn settle_paid_bill_order(
        &self,
        order: &OrderRow,
        bill: &str,
        transaction_id: &str,
        paid_at: DateTime<Utc>,
    ) -> Result<PaidOutcome> {
        let bill_id = BillId::parse(bill).ok_or(StoreError::NotFound)?;
        let channel = if order.channel == "ALIPAY" { "ALIPAY" } else { "WECHAT" };
        let b = self.backend();
        let txn = self.db().begin().await?;
        let claim = "UPDATE payment_orders SET state = 'PAID', transaction_id = $3, paid_at = $4
                     WHERE tenant_id = $1 AND id = $2 AND state = 'CREATED'";
        let claimed = txn.execute_raw(stmt(b, claim, self.args().s(&order.id).s(transaction_id).t(paid_at))).await?.rows_affected() == 1;
        if !claimed {
            return self.not_credited(txn, order, transaction_id, paid_at, |current| unclaimed("a bill order", current)).await;
        }
        let reference = format!("{} {}", order.out_trade_no, transaction_id);
        match self.pay_bill_in(&txn, &bill_id, Some(order.amount_x100), channel, &reference, Some(transaction_id)).await {
            Ok(posted) => {
                let entry = posted.entries.first().map(|e| e.id.to_string());
                let sql = "UPDATE payment_orders SET entry_id = $3 WHERE tenant_id = $1 AND id = $2";
                txn.execute_raw(stmt(b, sql, self.args().s(&order.id).os(entry))).await?;
                txn.commit().await?;
                self.store.announce(&posted);
                Ok(PaidOutcome::Credited(Box::new(posted)))
            }
            Err(StoreError::Conflict(why) | StoreError::Invalid(domain::Invalid { message: why, .. })) => {
                txn.rollback().await?;
                if self.entry_by_ref(domain::ledger::EntryKind::BillPayment, transaction_id).await?.is_some() {
                    return Ok(PaidOutcome::AlreadyCredited);
                }
                let txn = self.db().begin().await?;
                let close = "UPDATE payment_orders SET state = 'CLOSED' WHERE tenant_id = $1 AND id = $2 AND state = 'CREATED'";
                txn.execute_raw(stmt(b, close, self.args().s(&order.id))).await?;
                let why = format!("the bill could not be paid: {why}");
                self.not_credited(txn, order, transaction_id, paid_at, |_| why).await
            }
            Err(e) => Err(e),
        }
    }

    /// A payment the order did not take, in the transaction `txn`: the same payment again is
    /// nothing new; any other is kept as a difference (`reason` says why, from the order as it
    /// stands now).
    pub(crate) async fn not_credited(
        &self,
        txn: sea_orm::DatabaseTransaction,
        order: &OrderRow,
        transaction_id: &str,
        paid_at: DateTime<Utc>,
        reason: impl FnOnce(&OrderRow) -> String,
    ) -> Result<PaidOutcome> {
        let sql = format!("SELECT {ORDER_COLS} FROM payment_orders WHERE tenant_id = $1 AND id = $2");
        let current = txn.query_one_raw(stmt(self.backend(), &sql, self.args().s(&order.id))).await?.ok_or(StoreError::NotFound)?;
        let current = order_row(&current)?;
        if current.transaction_id.as_deref() == Some(transaction_id) {
            txn.commit().await?;
            return Ok(PaidOutcome::AlreadyCredited);
        }
        let outcome = self.keep_difference(&txn, &current, transaction_id, paid_at, &reason(&current)).await?;
        txn.commit().await?;
        self.after_difference(order, transaction_id, outcome).await
    }

    /// Records a payment that must not be credited (once per channel transaction) and raises
    /// PAYMENT_DIFFERENCE on its payee.
    pub(crate) async fn keep_difference(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        order: &OrderRow,
        transaction_id: &str,
        paid_at: DateTime<Utc>,
        reason: &str,
    ) -> Result<Option<(PaymentDifferenceRow, Option<super::AlarmEvent>)>> {
        let b = self.backend();
        let now = Utc::now();
        let channel = channel_family(&order.channel);
        let id = uuid::Uuid::new_v4().to_string();
        let sql = "INSERT INTO payment_differences (tenant_id, id, order_id, payee_id, channel, transaction_id, amount_x100, paid_at, reason, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (tenant_id, channel, transaction_id) DO NOTHING";
        let args = self
            .args()
            .s(&id)
            .s(&order.id)
            .s(&order.payee_id)
            .s(channel)
            .s(transaction_id)
            .i(order.amount_x100)
            .t(paid_at)
            .s(reason)
            .t(now);
        if txn.execute_raw(stmt(b, sql, args)).await?.rows_affected() == 0 {
            return Ok(None);
        }
        let event = super::alarms::raise_in(
            txn,
            (self.tenant.as_str(), "PAYEE", &order.payee_id),
            "PAYMENT_DIFFERENCE",
            ("MAJOR", "money the channel took does not match our records (the latest reconciliation, or a payment kept for refund)"),
            false,
            now,
        )
        .await?;
        let sql = format!("SELECT {DIFFERENCE_COLS} FROM payment_differences WHERE tenant_id = $1 AND id = $2");
        let row = txn.query_one_raw(stmt(b, &sql, self.args().s(&id))).await?.ok_or(StoreError::NotFound)?;
        Ok(Some((difference_row(&row)?, event)))
    }

    pub(crate) async fn after_difference(
        &self,
        order: &OrderRow,
        transaction_id: &str,
        kept: Option<(PaymentDifferenceRow, Option<super::AlarmEvent>)>,
    ) -> Result<PaidOutcome> {
        match kept {
            Some((row, event)) => {
                tracing::error!(order = %order.out_trade_no, transaction = %transaction_id, reason = %row.reason,
                    "payment kept as a difference for refund, not credited");
                if let Some(e) = event {
                    self.store.publish_alarms(&[e]);
                }
                Ok(PaidOutcome::Difference(Box::new(row)))
            }
            None => {
                let sql = format!(
                    "SELECT {DIFFERENCE_COLS} FROM payment_differences WHERE tenant_id = $1 AND channel = $2 AND transaction_id = $3"
                );
                let row = self
                    .db()
                    .query_one_raw(stmt(self.backend(), &sql, self.args().s(channel_family(&order.channel)).s(transaction_id)))
                    .await?;
                match row {
                    Some(r) => Ok(PaidOutcome::Difference(Box::new(difference_row(&r)?))),
                    None => Ok(PaidOutcome::AlreadyCredited),
                }
            }
        }
    }

    /// Payment differences, open first, newest first.
    pub async fn payment_differences(&self, open_only: bool) -> Result<Vec<PaymentDifferenceRow>> {
        let filter = if open_only { " AND state = 'OPEN'" } else { "" };
        let sql = format!(
            "SELECT {DIFFERENCE_COLS} FROM payment_differences WHERE tenant_id = $1{filter} ORDER BY CASE WHEN state = 'OPEN' THEN 0 ELSE 1 END, created_at DESC, id LIMIT 1000"
        );
        self.db().query_all_raw(stmt(self.backend(), &sql, self.args())).await?.iter().map(difference_row).collect()
    }

    /// Marks a difference settled (refunded through the merchant platform, or explained); the
    /// payee's alarm clears at the next evaluation once nothing else is open.
    pub async fn resolve_payment_difference(&self, id: &str, resolution: &str, by: &str) -> Result<PaymentDifferenceRow> {
        let sql = "UPDATE payment_differences SET state = 'RESOLVED', resolution = $3, resolved_by = $4, resolved_at = $5
                   WHERE tenant_id = $1 AND id = $2 AND state = 'OPEN'";
        let done = self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id).s(resolution).s(by).t(Utc::now()))).await?;
        let sql = format!("SELECT {DIFFERENCE_COLS} FROM payment_differences WHERE tenant_id = $1 AND id = $2");
        let row = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id))).await?.ok_or(StoreError::NotFound)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict("the difference is already resolved".into()));
        }
        difference_row(&row)
    }
}

/// What a payment notification (or query) did to its order.
#[derive(Debug)]
pub enum PaidOutcome {
    /// The order was credited now.
    Credited(Box<super::Posted>),
    /// The same payment was credited before: nothing changed.
    AlreadyCredited,
    /// A payment that must not be credited, kept for refund.
    Difference(Box<PaymentDifferenceRow>),
}

/// WeChat's partner and direct orders share transaction ids' space; Alipay has its own.
pub(crate) fn channel_family(channel: &str) -> &'static str {
    if channel == "ALIPAY" { "ALIPAY" } else { "WECHAT" }
}

/// A payment kept for refund instead of credited (a second payment for one order, a
/// payment for a closed order).
#[derive(Debug, Clone)]
pub struct PaymentDifferenceRow {
    pub id: String,
    pub order_id: String,
    pub payee_id: String,
    pub channel: String,
    pub transaction_id: String,
    pub amount_x100: i64,
    pub paid_at: DateTime<Utc>,
    pub reason: String,
    /// OPEN or RESOLVED.
    pub state: String,
    pub resolution: String,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub(crate) const DIFFERENCE_COLS: &str = "id, order_id, payee_id, channel, transaction_id, amount_x100, paid_at, reason, state, resolution, resolved_by, resolved_at, created_at";

pub(crate) fn difference_row(r: &QueryResult) -> Result<PaymentDifferenceRow> {
    Ok(PaymentDifferenceRow {
        id: r.try_get("", "id")?,
        order_id: r.try_get("", "order_id")?,
        payee_id: r.try_get("", "payee_id")?,
        channel: r.try_get("", "channel")?,
        transaction_id: r.try_get("", "transaction_id")?,
        amount_x100: int(r, "amount_x100")?,
        paid_at: r.try_get("", "paid_at")?,
        reason: r.try_get("", "reason")?,
        state: r.try_get("", "state")?,
        resolution: r.try_get("", "resolution")?,
        resolved_by: r.try_get("", "resolved_by")?,
        resolved_at: r.try_get("", "resolved_at")?,
        created_at: r.try_get("", "created_at")?,
    })
}

/// What a payee received in a period: per channel (channel, payments, paid fen, refunded fen).
#[derive(Debug, Clone)]
pub struct PayeeTotals {
    pub payee: PayeeRow,
    pub channels: Vec<(String, i64, i64, i64)>,
}

impl PayeeTotals {
    pub(crate) fn new(payee: PayeeRow) -> Self {
        Self { payee, channels: Vec::new() }
    }

    pub(crate) fn channel(&mut self, name: String) -> &mut (String, i64, i64, i64) {
        let at = match self.channels.iter().position(|c| c.0 == name) {
            Some(at) => at,
            None => {
                self.channels.push((name, 0, 0, 0));
                self.channels.len() - 1
            }
        };
        &mut self.channels[at]
    }

    /// (payments, paid, refunded) over all channels.
    pub fn total(&self) -> (i64, i64, i64) {
        self.channels.iter().fold((0, 0, 0), |(n, p, r), c| (n + c.1, p + c.2, r + c.3))
    }
}

pub(crate) const REFUND_COLS: &str = "tenant_id, id, order_id, out_refund_no, amount_x100, reason, state, refund_id, entry_id, reversal_entry_id, last_error, created_at, finished_at";

/// Checks a tenant id read from an order.
/// Why a payment was not credited to an order it could not claim, from the order as it stands.
fn unclaimed(what: &str, current: &OrderRow) -> String {
    match current.state.as_str() {
        "PAID" => {
            format!("a second payment for {what} already paid by transaction {}", current.transaction_id.as_deref().unwrap_or("(unknown)"))
        }
        "CLOSED" => format!("a payment for {what} that was closed unpaid"),
        other => format!("a payment for {what} in state {other}"),
    }
}

pub fn order_tenant(order: &OrderRow) -> Result<TenantId> {
    TenantId::parse(&order.tenant_id).ok_or(StoreError::NotFound)
}
