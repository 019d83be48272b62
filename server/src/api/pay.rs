//! Payments at the edge: payees (GraphQL, PAYEES permission), customers' recharge orders
//! (GraphQL, mini-program), and the WeChat Pay notification endpoint (plain HTTP, raw body).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::json;

use super::ApiError;
use super::auth::Principal;
use super::graphql::{Res, err, parse_id, tenant};
use super::http::HttpState;
use crate::domain::Invalid;
use crate::domain::ids::AccountId;
use crate::domain::metering::from_scaled;
use crate::pay::wechatpay::SignedHeaders;
use crate::pay::{NotifyRefusal, check_transaction, credentials, open_envelope, partner_jsapi, request_payment, request_refund};
use crate::store;

/// A merchant account receiving a tenant's payments (收款账户).
#[derive(SimpleObject)]
pub struct Payee {
    pub id: ID,
    pub name: String,
    /// PARTNER: a sub-merchant under the platform's service-provider account (特约商户).
    pub mode: String,
    pub sub_mchid: String,
    /// Bound to a property or an area; neither = the tenant's default.
    pub property_id: Option<ID>,
    pub area_id: Option<ID>,
    pub created_at: DateTime<Utc>,
}

impl From<store::PayeeRow> for Payee {
    fn from(p: store::PayeeRow) -> Self {
        Self {
            id: ID(p.id),
            name: p.name,
            mode: p.mode,
            sub_mchid: p.sub_mchid,
            property_id: p.property_id.map(ID),
            area_id: p.area_id.map(ID),
            created_at: p.created_at,
        }
    }
}

/// The parameters of `wx.requestPayment` (调起支付参数).
#[derive(SimpleObject)]
pub struct RequestPayment {
    pub app_id: String,
    pub time_stamp: String,
    pub nonce_str: String,
    pub package: String,
    pub sign_type: String,
    pub pay_sign: String,
}

/// A customer's recharge by WeChat Pay (充值订单).
#[derive(SimpleObject)]
pub struct RechargeOrder {
    pub id: ID,
    pub out_trade_no: String,
    pub account_id: ID,
    pub payee_id: ID,
    pub amount: Decimal,
    /// CREATED, PAID, CLOSED.
    pub state: String,
    pub transaction_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    /// Present on the order just created.
    pub payment: Option<RequestPayment>,
}

impl From<store::OrderRow> for RechargeOrder {
    fn from(o: store::OrderRow) -> Self {
        Self {
            id: ID(o.id),
            out_trade_no: o.out_trade_no,
            account_id: ID(o.account_id),
            payee_id: ID(o.payee_id),
            amount: from_scaled(o.amount_x100, 2),
            state: o.state,
            transaction_id: o.transaction_id,
            created_at: o.created_at,
            expires_at: o.expires_at,
            paid_at: o.paid_at,
            payment: None,
        }
    }
}

/// A refund to the original payment (退款).
#[derive(SimpleObject)]
pub struct PaymentRefund {
    pub id: ID,
    pub order_id: ID,
    pub out_refund_no: String,
    pub amount: Decimal,
    pub reason: String,
    /// PROCESSING, SUCCESS, ABNORMAL, CLOSED, FAILED.
    pub state: String,
    pub refund_id: Option<String>,
    pub last_error: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<store::RefundRow> for PaymentRefund {
    fn from(r: store::RefundRow) -> Self {
        Self {
            id: ID(r.id),
            order_id: ID(r.order_id),
            out_refund_no: r.out_refund_no,
            amount: from_scaled(r.amount_x100, 2),
            reason: r.reason,
            state: r.state,
            refund_id: r.refund_id,
            last_error: r.last_error,
            created_at: r.created_at,
            finished_at: r.finished_at,
        }
    }
}

/// One difference between WeChat's bill and our records (对账差异).
#[derive(SimpleObject)]
pub struct Discrepancy {
    /// MISSING_CREDIT, UNKNOWN_ORDER, MISSING_IN_BILL, AMOUNT_MISMATCH, NOT_IN_LEDGER.
    pub kind: String,
    pub out_trade_no: String,
    pub ours: Option<Decimal>,
    pub theirs: Option<Decimal>,
}

/// A payee's reconciliation for one day (对账结果).
#[derive(SimpleObject)]
pub struct Reconciliation {
    pub payee_id: ID,
    pub date: chrono::NaiveDate,
    pub ran_at: DateTime<Utc>,
    /// Detail rows in WeChat's bill.
    pub bill_rows: i32,
    pub matched: i32,
    pub discrepancies: Vec<Discrepancy>,
}

impl From<store::ReconciliationRow> for Reconciliation {
    fn from(r: store::ReconciliationRow) -> Self {
        Self {
            payee_id: ID(r.payee_id),
            date: r.bill_date,
            ran_at: r.ran_at,
            bill_rows: r.bill_rows as i32,
            matched: r.matched as i32,
            discrepancies: r
                .discrepancies
                .into_iter()
                .map(|(kind, out_trade_no, ours, theirs)| Discrepancy {
                    kind,
                    out_trade_no,
                    ours: ours.map(|f| from_scaled(f, 2)),
                    theirs: theirs.map(|f| from_scaled(f, 2)),
                })
                .collect(),
        }
    }
}

#[derive(InputObject)]
pub struct ReconcileInput {
    pub payee_id: ID,
    /// The local day (the tenant's time zone).
    pub date: chrono::NaiveDate,
}

/// What one payee received in a period (收款汇总).
#[derive(SimpleObject)]
pub struct PayeeSummary {
    pub payee_id: ID,
    pub name: String,
    pub sub_mchid: String,
    /// Payments credited.
    pub payments: i64,
    pub paid: Decimal,
    /// Refunds started and not failed.
    pub refunded: Decimal,
    pub net: Decimal,
}

#[derive(InputObject)]
pub struct RefundPaymentInput {
    pub order_id: ID,
    /// Yuan; at most what is left of the order.
    pub amount: Decimal,
    #[graphql(default)]
    pub reason: String,
}

#[derive(InputObject)]
pub struct CreatePayeeInput {
    pub name: String,
    /// The property company's sub-merchant number (特约商户号).
    pub sub_mchid: String,
    pub property_id: Option<ID>,
    pub area_id: Option<ID>,
}

#[derive(InputObject)]
pub struct CreateRechargeOrderInput {
    pub account_id: ID,
    /// Yuan, 1.00 to 5000.00.
    pub amount: Decimal,
}

/// The platform's WeChat Pay service-provider account, without its secrets (服务商配置).
#[derive(SimpleObject)]
pub struct PaymentProviderView {
    pub sp_mchid: String,
    pub sp_appid: String,
    /// Serial of the provider's merchant API certificate.
    pub serial: String,
    /// WeChat's verification keys in use (platform certificate serials, `PUB_KEY_ID_…`).
    pub wechat_key_serials: Vec<String>,
    pub api_base: String,
    pub notify_url: String,
}

impl From<store::PaymentProvider> for PaymentProviderView {
    fn from(p: store::PaymentProvider) -> Self {
        Self {
            sp_mchid: p.sp_mchid,
            sp_appid: p.sp_appid,
            serial: p.serial,
            wechat_key_serials: p.wechat_keys.into_iter().map(|(s, _)| s).collect(),
            api_base: p.api_base,
            notify_url: p.notify_url,
        }
    }
}

/// One of WeChat's verification keys.
#[derive(InputObject)]
pub struct WechatPayKeyInput {
    /// A platform certificate's serial or the public key's `PUB_KEY_ID_…`.
    pub serial: String,
    /// SPKI PEM (`BEGIN PUBLIC KEY`).
    pub public_key_pem: String,
}

#[derive(InputObject)]
pub struct PaymentProviderInput {
    pub sp_mchid: String,
    pub sp_appid: String,
    pub serial: String,
    /// `apiclient_key.pem` (PKCS#8); stored encrypted, never shown again.
    pub private_key_pem: String,
    /// The 32-character APIv3 key; stored encrypted, never shown again.
    pub api_v3_key: String,
    /// During a rotation give both the old and the new key.
    pub wechat_keys: Vec<WechatPayKeyInput>,
    #[graphql(default = "https://api.mch.weixin.qq.com")]
    pub api_base: String,
    /// Public HTTPS URL of `/pay/wechat/notify` (no query string).
    pub notify_url: String,
}

/// Checks and builds the provider account (the keys must parse, the APIv3 key be 32 bytes).
pub fn provider_from_input(i: PaymentProviderInput) -> Result<store::PaymentProvider, Invalid> {
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if !digits(&i.sp_mchid) {
        return Err(Invalid::new("spMchid", "a merchant number"));
    }
    crate::pay::wechatpay::MerchantSigner::from_pem(&i.sp_mchid, &i.serial, &i.private_key_pem)
        .map_err(|e| Invalid::new("privateKeyPem", e.to_string()))?;
    if i.api_v3_key.len() != 32 {
        return Err(Invalid::new("apiV3Key", "32 characters"));
    }
    if i.wechat_keys.is_empty() {
        return Err(Invalid::new("wechatKeys", "at least one"));
    }
    let mut ring = crate::pay::wechatpay::KeyRing::default();
    for k in &i.wechat_keys {
        ring.add_pem(&k.serial, &k.public_key_pem).map_err(|e| Invalid::new("wechatKeys", format!("{}: {e}", k.serial)))?;
    }
    let local = i.notify_url.starts_with("http://127.0.0.1") || i.notify_url.starts_with("http://localhost");
    if !(i.notify_url.starts_with("https://") || local) || i.notify_url.contains('?') {
        return Err(Invalid::new("notifyUrl", "an https URL without a query string"));
    }
    Ok(store::PaymentProvider {
        sp_mchid: i.sp_mchid,
        sp_appid: i.sp_appid,
        serial: i.serial,
        private_key_pem: i.private_key_pem,
        api_v3_key: i.api_v3_key,
        wechat_keys: i.wechat_keys.into_iter().map(|k| (k.serial, k.public_key_pem)).collect(),
        api_base: i.api_base,
        notify_url: i.notify_url,
    })
}

#[derive(Default)]
pub struct PayQuery;

#[Object]
impl PayQuery {
    /// The SaaS operator: the WeChat Pay service-provider account (secrets never shown).
    async fn payment_provider(&self, ctx: &Context<'_>) -> Res<Option<PaymentProviderView>> {
        let store = ctx.data::<store::Store>().map_err(|_| err(ApiError::Unauthenticated))?;
        Ok(store.platform_payment_provider().await.map_err(err)?.map(Into::into))
    }

    /// Payee merchant accounts (收款账户).
    async fn payees(&self, ctx: &Context<'_>) -> Res<Vec<Payee>> {
        Ok(tenant(ctx)?.payees().await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    /// WeChat payments per payee in `[from, to)`: each property company's money apart (收款汇总).
    async fn payment_summary(&self, ctx: &Context<'_>, from: DateTime<Utc>, to: DateTime<Utc>) -> Res<Vec<PayeeSummary>> {
        if to <= from {
            return Err(err(Invalid::new("to", "after from")));
        }
        let rows = tenant(ctx)?.payment_summary(from, to).await.map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|(p, n, paid, refunded)| PayeeSummary {
                payee_id: ID(p.id),
                name: p.name,
                sub_mchid: p.sub_mchid,
                payments: n,
                paid: from_scaled(paid, 2),
                refunded: from_scaled(refunded, 2),
                net: from_scaled(paid - refunded, 2),
            })
            .collect())
    }

    /// Stored reconciliations, newest day first (daily after 10:30, or on demand) (对账记录).
    async fn reconciliations(&self, ctx: &Context<'_>, payee_id: Option<ID>) -> Res<Vec<Reconciliation>> {
        let rows = tenant(ctx)?.reconciliations(payee_id.as_ref().map(|p| p.as_str()), 200).await.map_err(err)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Refunds of a recharge order (退款记录).
    async fn payment_refunds(&self, ctx: &Context<'_>, order_id: ID) -> Res<Vec<PaymentRefund>> {
        let t = tenant(ctx)?;
        t.order_by_id(order_id.as_str()).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?;
        Ok(t.refunds_of_order(order_id.as_str()).await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    /// Recharge orders of an account, newest first (充值订单).
    async fn recharge_orders(&self, ctx: &Context<'_>, account_id: ID) -> Res<Vec<RechargeOrder>> {
        let account = parse_id(&account_id, AccountId::parse)?;
        let t = tenant(ctx)?;
        if let Principal::Customer { customer, .. } = ctx.data::<Principal>().map_err(|_| err(ApiError::Unauthenticated))? {
            let owner = t.account(&account).await.map_err(err)?.map(|a| a.customer_id.to_string());
            if owner.is_none() || owner != *customer {
                return Err(err(ApiError::NotFound));
            }
        }
        Ok(t.orders_of_account(&account).await.map_err(err)?.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct PayMutation;

#[Object]
impl PayMutation {
    /// The SaaS operator: sets (or rotates) the service-provider account. WeChat key
    /// rotation: list the old and the new key until WeChat signs only with the new one.
    async fn set_payment_provider(&self, ctx: &Context<'_>, input: PaymentProviderInput) -> Res<PaymentProviderView> {
        let store = ctx.data::<store::Store>().map_err(|_| err(ApiError::Unauthenticated))?;
        let provider = provider_from_input(input).map_err(err)?;
        store.platform_set_payment_provider(&provider).await.map_err(err)?;
        Ok(provider.into())
    }

    /// Adds a payee: a sub-merchant, bound to a property or an area or to neither (default).
    async fn create_payee(&self, ctx: &Context<'_>, input: CreatePayeeInput) -> Res<Payee> {
        if input.name.trim().is_empty() {
            return Err(err(Invalid::new("name", "required")));
        }
        if !(8..=16).contains(&input.sub_mchid.len()) || !input.sub_mchid.chars().all(|c| c.is_ascii_digit()) {
            return Err(err(Invalid::new("subMchid", "a merchant number: 8 to 16 digits")));
        }
        let (property, area) = (input.property_id.map(|p| p.to_string()), input.area_id.map(|a| a.to_string()));
        tenant(ctx)?
            .create_payee(input.name.trim(), &input.sub_mchid, property.as_deref(), area.as_deref())
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict(m) if m.contains("property") => err(Invalid::new("propertyId", m)),
                store::StoreError::Conflict(m) if m.contains("area") => err(Invalid::new("areaId", m)),
                e => err(e),
            })
            .map(Into::into)
    }

    /// Downloads WeChat's trade bill of a payee for a day (SHA1 checked), and compares it with
    /// our orders and ledger: payments missing on either side and amounts that differ.
    async fn reconcile_payments(&self, ctx: &Context<'_>, input: ReconcileInput) -> Res<Reconciliation> {
        let t = tenant(ctx)?;
        let payee =
            t.payees().await.map_err(err)?.into_iter().find(|p| p.id == input.payee_id.as_str()).ok_or_else(|| err(ApiError::NotFound))?;
        let provider =
            t.payment_provider().await.map_err(err)?.ok_or_else(|| err(ApiError::Conflict("WeChat Pay is not configured".into())))?;
        let r = crate::pay::reconcile_payee(t, &provider, &payee, input.date).await.map_err(|e| err(ApiError::Conflict(e)))?;
        Ok(r.into())
    }

    /// Refunds (part of) a paid WeChat order to the payer (退电退款): the amount leaves the
    /// balance now and comes back if WeChat fails the refund.
    async fn refund_payment(&self, ctx: &Context<'_>, input: RefundPaymentInput) -> Res<PaymentRefund> {
        let t = tenant(ctx)?;
        let order = t.order_by_id(input.order_id.as_str()).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?;
        let fen = crate::domain::ledger::positive_fen("amount", input.amount).map_err(err)?;
        let provider =
            t.payment_provider().await.map_err(err)?.ok_or_else(|| err(ApiError::Conflict("WeChat Pay is not configured".into())))?;
        let refund = t.start_refund(&order, fen, input.reason.trim()).await.map_err(|e| match e {
            store::StoreError::Conflict(m) if m.contains("left to refund") => err(Invalid::new("amount", m)),
            e => err(e),
        })?;
        let refund = match request_refund(&provider, &order, &refund).await {
            Ok(a) if a.status == "SUCCESS" => t.finish_refund(&refund, "SUCCESS", Some(&a.refund_id), "").await,
            Ok(a) if a.status == "CLOSED" || a.status == "ABNORMAL" => t.finish_refund(&refund, &a.status, Some(&a.refund_id), "").await,
            Ok(a) => {
                // PROCESSING: the notification finishes it.
                let _ = a;
                Ok(refund)
            }
            Err(e) => t.finish_refund(&refund, "FAILED", None, &e.to_string()).await,
        }
        .map_err(err)?;
        Ok(refund.into())
    }

    /// Mini-program: a WeChat Pay order to recharge one of the customer's accounts; the
    /// answer carries what `wx.requestPayment` needs. Credited only by WeChat's notification.
    async fn create_recharge_order(&self, ctx: &Context<'_>, input: CreateRechargeOrderInput) -> Res<RechargeOrder> {
        let Principal::Customer { openid, customer, .. } = ctx.data::<Principal>().map_err(|_| err(ApiError::Unauthenticated))? else {
            return Err(err(ApiError::Forbidden("customers only".into())));
        };
        let account_id = parse_id(&input.account_id, AccountId::parse)?;
        let t = tenant(ctx)?;
        let account = t.account(&account_id).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?;
        if customer.as_deref() != Some(account.customer_id.as_str()) {
            return Err(err(ApiError::NotFound));
        }
        if account.state != "OPEN" {
            return Err(err(ApiError::Conflict("the account is closed".into())));
        }
        let fen = crate::domain::ledger::positive_fen("amount", input.amount).map_err(err)?;
        if !(100..=500_000).contains(&fen) {
            return Err(err(Invalid::new("amount", "between 1.00 and 5000.00")));
        }
        let provider =
            t.payment_provider().await.map_err(err)?.ok_or_else(|| err(ApiError::Conflict("WeChat Pay is not configured".into())))?;
        let payee = t
            .payee_for_account(&account_id)
            .await
            .map_err(err)?
            .ok_or_else(|| err(ApiError::Conflict("no payee receives this account's payments".into())))?;
        let out_trade_no = format!("VL{}{:016X}", Utc::now().format("%y%m%d%H%M%S"), rand::random::<u64>());
        let expires = Utc::now() + chrono::Duration::minutes(30);
        let order = t.create_order(&account_id, &payee, fen, openid, &provider.sp_appid, &out_trade_no, expires).await.map_err(err)?;
        let description = format!("电费充值 {}", account.number);
        let prepay = partner_jsapi(&provider, &order, &description).await.map_err(|e| {
            tracing::warn!(cause = %e, order = %order.out_trade_no, "WeChat Pay order failed");
            err(ApiError::Conflict(format!("WeChat Pay did not take the order: {e}")))
        })?;
        t.set_prepay_id(&order.id, &prepay).await.map_err(err)?;
        let pay = request_payment(&provider, &provider.sp_appid, &prepay).map_err(|e| err(ApiError::Internal(e.to_string())))?;
        let mut out: RechargeOrder = order.into();
        out.payment = Some(RequestPayment {
            app_id: pay.app_id,
            time_stamp: pay.time_stamp,
            nonce_str: pay.nonce_str,
            package: pay.package,
            sign_type: pay.sign_type,
            pay_sign: pay.pay_sign,
        });
        Ok(out)
    }
}

fn fail(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"code": "FAIL", "message": message}))
}

/// `POST /pay/wechat/notify`: WeChat Pay's payment notification. The raw body is checked
/// (signature, timestamp, serial), decrypted, matched to the order (provider, payee,
/// AppID, amount, state) and credited once, keyed by WeChat's transaction id; anything else
/// is refused with a 4xx and changes nothing.
async fn wechat_notify(state: web::Data<HttpState>, http: HttpRequest, body: web::Bytes) -> HttpResponse {
    let provider = match state.store.platform_payment_provider().await {
        Ok(Some(p)) => p,
        Ok(None) => return fail(StatusCode::SERVICE_UNAVAILABLE, "payments are not configured"),
        Err(e) => {
            tracing::error!(cause = %e, "payment provider unreadable");
            return fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    let ring = match credentials(&provider) {
        Ok((_, ring)) => ring,
        Err(e) => {
            tracing::error!(cause = %e, "payment provider keys unusable");
            return fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    let header = |name: &str| http.headers().get(name).and_then(|v| v.to_str().ok());
    let h = SignedHeaders {
        timestamp: header("Wechatpay-Timestamp"),
        nonce: header("Wechatpay-Nonce"),
        signature: header("Wechatpay-Signature"),
        serial: header("Wechatpay-Serial"),
        signature_type: header("Wechatpay-Signature-Type"),
    };
    let (event, plain) = match open_envelope(&provider, &ring, h, &body, Utc::now().timestamp()) {
        Ok(opened) => opened,
        Err(e @ NotifyRefusal::Signature(_)) => {
            tracing::warn!(reason = %e, "payment notification refused");
            return fail(StatusCode::UNAUTHORIZED, &e.to_string());
        }
        Err(e) => {
            tracing::warn!(reason = %e, "payment notification refused");
            return fail(StatusCode::BAD_REQUEST, &e.to_string());
        }
    };
    if event.starts_with("REFUND.") {
        return refund_notice(&state, &provider, &plain).await;
    }
    if event != "TRANSACTION.SUCCESS" {
        return fail(StatusCode::BAD_REQUEST, "not a payment success event");
    }
    let transaction: crate::pay::Transaction = match serde_json::from_slice(&plain) {
        Ok(t) => t,
        Err(e) => return fail(StatusCode::BAD_REQUEST, &format!("malformed transaction: {e}")),
    };
    let order = match state.store.platform_order_by_trade_no(&transaction.out_trade_no).await {
        Ok(Some(o)) => o,
        Ok(None) => return fail(StatusCode::BAD_REQUEST, "no such order"),
        Err(e) => {
            tracing::error!(cause = %e, "order lookup failed");
            return fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    if let Err(e) = check_transaction(&provider, &order, &transaction) {
        tracing::warn!(reason = %e, order = %order.out_trade_no, "payment notification does not match its order");
        return fail(StatusCode::BAD_REQUEST, &e.to_string());
    }
    let Ok(tenant) = store::order_tenant(&order) else { return fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error") };
    let paid_at = transaction
        .success_time
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(Utc::now);
    match state.store.tenant(tenant).settle_paid_order(&order, &transaction.transaction_id, paid_at).await {
        Ok(_) => HttpResponse::NoContent().finish(),
        Err(e) => {
            tracing::error!(cause = %e, order = %order.out_trade_no, "crediting a paid order failed");
            fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error; retry")
        }
    }
}

/// A refund's outcome: matched to our refund by number and to its payee, applied once.
async fn refund_notice(state: &HttpState, provider: &store::PaymentProvider, plain: &[u8]) -> HttpResponse {
    let notice: crate::pay::RefundNotice = match serde_json::from_slice(plain) {
        Ok(n) => n,
        Err(e) => return fail(StatusCode::BAD_REQUEST, &format!("malformed refund: {e}")),
    };
    let refund = match state.store.platform_refund_by_no(&notice.out_refund_no).await {
        Ok(Some(r)) => r,
        Ok(None) => return fail(StatusCode::BAD_REQUEST, "no such refund"),
        Err(e) => {
            tracing::error!(cause = %e, "refund lookup failed");
            return fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    let Some(tenant) = crate::domain::ids::TenantId::parse(&refund.tenant_id) else {
        return fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
    };
    let t = state.store.tenant(tenant);
    let order = match t.order_by_id(&refund.order_id).await {
        Ok(Some(o)) => o,
        _ => return fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
    };
    if notice.sp_mchid != provider.sp_mchid
        || notice.sub_mchid != order.sub_mchid
        || notice.amount.refund != refund.amount_x100
        || notice.amount.total != order.amount_x100
    {
        tracing::warn!(refund = %refund.out_refund_no, "refund notification does not match the refund");
        return fail(StatusCode::BAD_REQUEST, "the refund notification does not match the refund");
    }
    let outcome = match notice.refund_status.as_str() {
        "SUCCESS" => "SUCCESS",
        "ABNORMAL" => "ABNORMAL",
        "CLOSED" => "CLOSED",
        _ => return HttpResponse::NoContent().finish(),
    };
    match t.finish_refund(&refund, outcome, Some(&notice.refund_id), "").await {
        Ok(_) => HttpResponse::NoContent().finish(),
        Err(e) => {
            tracing::error!(cause = %e, "applying a refund notification failed");
            fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error; retry")
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/pay/wechat/notify", web::post().to(wechat_notify));
}
