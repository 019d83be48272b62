//! Payments at the edge: payees and their credentials (GraphQL, PAYEES permission),
//! customers' recharge orders (GraphQL, mini-program), and the notification endpoints of
//! WeChat Pay (raw JSON body) and Alipay (form) as plain HTTP.

use super::auth::{CustomerLogin, Principal};
use super::graphql::{Res, err, parse_id, tenant};
use super::{ApiError, PublicUrl};
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use connectors::pay::alipay;
use connectors::pay::wechatpay::{KeyRing, MerchantSigner};
use domain::Invalid;
use domain::ids::{AccountId, BillId};
use domain::metering::from_scaled;
use rust_decimal::Decimal;
use store;

/// A merchant account receiving a tenant's payments (收款账户).
#[derive(SimpleObject)]
pub struct Payee {
    pub id: ID,
    pub name: String,
    /// PARTNER: a sub-merchant under the platform's service-provider account (特约商户);
    /// DIRECT: the company's own merchant account and keys (普通商户).
    pub mode: String,
    /// The WeChat Pay merchant number receiving the money: `sub_mchid` or `mchid`.
    pub sub_mchid: String,
    /// Bound to a property or an area; neither = the tenant's default.
    pub property_id: Option<ID>,
    pub area_id: Option<ID>,
    pub created_at: DateTime<Utc>,
    /// The payee's own credential sets (direct WeChat Pay, Alipay), secrets never shown.
    pub credentials: Vec<PayeeCredentialsView>,
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
            credentials: Vec::new(),
        }
    }
}

/// A payee's credential set for one channel, without its secrets.
#[derive(SimpleObject)]
pub struct PayeeCredentialsView {
    /// WECHAT or ALIPAY.
    pub channel: String,
    pub app_id: String,
    /// WeChat `mchid` or Alipay `seller_id`.
    pub merchant_id: String,
    /// WeChat: the merchant API certificate serial.
    pub serial: String,
    /// Keys trusted to verify the channel (WeChat: platform certificate serials and
    /// `PUB_KEY_ID_…`; Alipay: `alipay`).
    pub verify_key_ids: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<store::CredentialSummary> for PayeeCredentialsView {
    fn from(c: store::CredentialSummary) -> Self {
        Self {
            channel: c.channel,
            app_id: c.app_id,
            merchant_id: c.merchant_id,
            serial: c.serial,
            verify_key_ids: c.verify_key_ids,
            updated_at: c.updated_at,
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
    /// WECHAT (service provider), WECHAT_DIRECT, ALIPAY.
    pub channel: String,
    pub amount: Decimal,
    /// CREATED, PAID, CLOSED.
    pub state: String,
    pub transaction_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    /// WeChat: present on the order just created.
    pub payment: Option<RequestPayment>,
    /// Alipay: on the order just created, the link to show as a QR code or open in Alipay.
    pub qr_code: Option<String>,
    /// Alipay with `returnUrl` (mobile pages): on the order just created, Alipay's mobile
    /// cashier to send the browser to; it comes back to `returnUrl`.
    pub pay_url: Option<String>,
    /// The post-paid bill the order pays; null for a recharge.
    pub bill_id: Option<ID>,
}

impl From<store::OrderRow> for RechargeOrder {
    fn from(o: store::OrderRow) -> Self {
        Self {
            id: ID(o.id),
            out_trade_no: o.out_trade_no,
            account_id: ID(o.account_id),
            payee_id: ID(o.payee_id),
            channel: o.channel,
            amount: from_scaled(o.amount_x100, 2),
            state: o.state,
            transaction_id: o.transaction_id,
            created_at: o.created_at,
            expires_at: o.expires_at,
            paid_at: o.paid_at,
            bill_id: o.bill_id.map(ID),
            payment: None,
            qr_code: None,
            pay_url: None,
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

/// One difference between a channel's bill and our records (对账差异).
#[derive(SimpleObject)]
pub struct Discrepancy {
    /// Payments: MISSING_CREDIT, UNKNOWN_ORDER, MISSING_IN_BILL, AMOUNT_MISMATCH, NOT_IN_LEDGER.
    /// Refunds (of the order named): REFUND_UNKNOWN, REFUND_NOT_RECORDED, REFUND_MISSING_IN_BILL,
    /// REFUND_AMOUNT_MISMATCH.
    pub kind: String,
    pub out_trade_no: String,
    pub ours: Option<Decimal>,
    pub theirs: Option<Decimal>,
}

/// A payment kept for refund instead of credited (支付差异).
#[derive(SimpleObject)]
pub struct PaymentDifference {
    pub id: ID,
    pub order_id: ID,
    pub payee_id: ID,
    /// WECHAT or ALIPAY.
    pub channel: String,
    /// The channel's id of the payment that was not credited.
    pub transaction_id: String,
    pub amount: Decimal,
    pub paid_at: DateTime<Utc>,
    pub reason: String,
    /// OPEN or RESOLVED.
    pub state: String,
    pub resolution: String,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<store::PaymentDifferenceRow> for PaymentDifference {
    fn from(r: store::PaymentDifferenceRow) -> Self {
        Self {
            id: ID(r.id),
            order_id: ID(r.order_id),
            payee_id: ID(r.payee_id),
            channel: r.channel,
            transaction_id: r.transaction_id,
            amount: from_scaled(r.amount_x100, 2),
            paid_at: r.paid_at,
            reason: r.reason,
            state: r.state,
            resolution: r.resolution,
            resolved_by: r.resolved_by,
            resolved_at: r.resolved_at,
            created_at: r.created_at,
        }
    }
}

/// A payee's reconciliation for one day (对账结果).
#[derive(SimpleObject)]
pub struct Reconciliation {
    pub payee_id: ID,
    pub date: chrono::NaiveDate,
    pub ran_at: DateTime<Utc>,
    /// Detail rows in the channels' bills (WeChat Pay and Alipay together).
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
    /// The same split by channel (each channel settles to the payee separately).
    pub by_channel: Vec<ChannelSummary>,
}

/// One channel's part of a payee's takings.
#[derive(SimpleObject)]
pub struct ChannelSummary {
    /// WECHAT (service provider), WECHAT_DIRECT, ALIPAY.
    pub channel: String,
    pub payments: i64,
    pub paid: Decimal,
    pub refunded: Decimal,
}

#[derive(InputObject)]
pub struct RefundPaymentInput {
    pub order_id: ID,
    /// Yuan; at most what is left of the order.
    pub amount: Decimal,
    #[graphql(default)]
    pub reason: String,
}

/// How a payee receives WeChat Pay money.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum PayeeMode {
    /// A sub-merchant under the platform's service-provider account (the default).
    #[default]
    Partner,
    /// The company's own merchant account; its keys are set with `setPayeeWechatKeys`.
    Direct,
}

#[derive(InputObject)]
pub struct CreatePayeeInput {
    pub name: String,
    #[graphql(default)]
    pub mode: PayeeMode,
    /// The merchant number receiving the money: the sub-merchant number (特约商户号) for
    /// PARTNER, the company's own `mchid` for DIRECT.
    pub sub_mchid: String,
    pub property_id: Option<ID>,
    pub area_id: Option<ID>,
}

/// A direct payee's own WeChat Pay merchant keys. On a rotation, omitted secrets keep their
/// stored values; list the old and the new WeChat key until WeChat signs only with the new.
#[derive(InputObject)]
pub struct PayeeWechatKeysInput {
    pub payee_id: ID,
    /// The mini-program AppID bound to the merchant.
    pub app_id: String,
    /// Serial of the merchant API certificate.
    pub serial: String,
    /// `apiclient_key.pem` (PKCS#8); stored encrypted, never shown again.
    pub private_key_pem: Option<String>,
    /// The 32-character APIv3 key; stored encrypted, never shown again.
    pub api_v3_key: Option<String>,
    pub wechat_keys: Vec<WechatPayKeyInput>,
    #[graphql(default = "https://api.mch.weixin.qq.com")]
    pub api_base: String,
}

/// A payee's Alipay app (open platform). Omitted secrets keep their stored values.
#[derive(InputObject)]
pub struct PayeeAlipayInput {
    pub payee_id: ID,
    pub app_id: String,
    /// The seller's Alipay user id (2088 + 12 digits) that notifications must name.
    pub seller_id: String,
    /// The app private key (PKCS#8 PEM or bare Base64); stored encrypted, never shown again.
    pub app_private_key: Option<String>,
    /// Alipay's public key (SPKI PEM or bare Base64), from the open platform.
    pub alipay_public_key: String,
    #[graphql(default = "https://openapi.alipay.com/gateway.do")]
    pub gateway: String,
}

/// The channel a customer pays through.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum PayChannel {
    /// WeChat Pay in the mini-program (`wx.requestPayment`).
    #[default]
    Wechat,
    /// Alipay: a QR code to scan (or a link to open in Alipay).
    Alipay,
}

#[derive(InputObject)]
pub struct CreateBillOrderInput {
    /// An ISSUED bill of one of the customer's accounts; the order is for its total.
    pub bill_id: ID,
    #[graphql(default)]
    pub channel: PayChannel,
    /// Mobile pages, Alipay: where Alipay's cashier sends the payer back (a page under `/m/`
    /// of this platform's own address); the answer then carries `payUrl`, not a QR code.
    pub return_url: Option<String>,
}

#[derive(InputObject)]
pub struct CreateRechargeOrderInput {
    pub account_id: ID,
    /// Yuan, 1.00 to 5000.00.
    pub amount: Decimal,
    #[graphql(default)]
    pub channel: PayChannel,
    /// Mobile pages, Alipay: where Alipay's cashier sends the payer back (a page under `/m/`
    /// of this platform's own address); the answer then carries `payUrl`, not a QR code.
    pub return_url: Option<String>,
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
    MerchantSigner::from_pem(&i.sp_mchid, &i.serial, &i.private_key_pem).map_err(|e| Invalid::new("privateKeyPem", e.to_string()))?;
    if i.api_v3_key.len() != 32 {
        return Err(Invalid::new("apiV3Key", "32 characters"));
    }
    let wechat_keys = keys_that_parse(i.wechat_keys.into_iter().map(|k| (k.serial, k.public_key_pem)).collect(), "wechatKeys")?;
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
        wechat_keys,
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
        Ok(store.platform().payment_provider().await.map_err(err)?.map(Into::into))
    }

    /// Payee merchant accounts (收款账户).
    async fn payees(&self, ctx: &Context<'_>) -> Res<Vec<Payee>> {
        let t = tenant(ctx)?;
        let mut credentials = t.payee_credential_summaries().await.map_err(err)?;
        Ok(t.payees()
            .await
            .map_err(err)?
            .into_iter()
            .map(|p| {
                let own = credentials.extract_if(.., |c| c.payee_id == p.id).map(Into::into).collect();
                Payee { credentials: own, ..p.into() }
            })
            .collect())
    }

    /// Payments per payee in `[from, to)`, all channels and each apart: each property
    /// company's money apart (收款汇总).
    async fn payment_summary(&self, ctx: &Context<'_>, from: DateTime<Utc>, to: DateTime<Utc>) -> Res<Vec<PayeeSummary>> {
        if to <= from {
            return Err(err(Invalid::new("to", "after from")));
        }
        let rows = tenant(ctx)?.payment_summary(from, to).await.map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|t| {
                let (n, paid, refunded) = t.total();
                PayeeSummary {
                    payee_id: ID(t.payee.id),
                    name: t.payee.name,
                    sub_mchid: t.payee.sub_mchid,
                    payments: n,
                    paid: from_scaled(paid, 2),
                    refunded: from_scaled(refunded, 2),
                    net: from_scaled(paid - refunded, 2),
                    by_channel: t
                        .channels
                        .into_iter()
                        .map(|(channel, payments, paid, refunded)| ChannelSummary {
                            channel,
                            payments,
                            paid: from_scaled(paid, 2),
                            refunded: from_scaled(refunded, 2),
                        })
                        .collect(),
                }
            })
            .collect())
    }

    /// Stored reconciliations, newest day first (daily after 10:30, or on demand) (对账记录).
    async fn reconciliations(&self, ctx: &Context<'_>, payee_id: Option<ID>) -> Res<Vec<Reconciliation>> {
        let rows = tenant(ctx)?.reconciliations(payee_id.as_ref().map(|p| p.as_str()), 200).await.map_err(err)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Payments kept for refund instead of credited: a second payment for an order already
    /// paid, a payment for a closed order, a payment its account could not take (支付差异).
    async fn payment_differences(&self, ctx: &Context<'_>, #[graphql(default = true)] open_only: bool) -> Res<Vec<PaymentDifference>> {
        Ok(tenant(ctx)?.payment_differences(open_only).await.map_err(err)?.into_iter().map(Into::into).collect())
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
        store.platform().set_payment_provider(&provider).await.map_err(err)?;
        Ok(provider.into())
    }

    /// Marks a payment difference settled — refunded through the merchant platform, or
    /// explained — with what was done (required). The payee's alarm clears once nothing else
    /// is open.
    async fn resolve_payment_difference(&self, ctx: &Context<'_>, id: ID, resolution: String) -> Res<PaymentDifference> {
        if resolution.trim().is_empty() {
            return Err(err(Invalid::new("resolution", "say what was done (e.g. refunded on the merchant platform)")));
        }
        let id = parse_id(&id, |s| uuid::Uuid::parse_str(s).ok().map(|u| u.to_string()))?;
        let by = match ctx.data_opt::<Principal>() {
            Some(Principal::Operator { username, .. }) => username.clone(),
            Some(p) => p.actor().1,
            None => return Err(err(ApiError::Unauthenticated)),
        };
        Ok(tenant(ctx)?.resolve_payment_difference(&id, resolution.trim(), &by).await.map_err(err)?.into())
    }

    /// Adds a payee, bound to a property or an area or to neither (default): a sub-merchant
    /// under the platform (PARTNER) or the company's own merchant (DIRECT, keys to follow).
    async fn create_payee(&self, ctx: &Context<'_>, input: CreatePayeeInput) -> Res<Payee> {
        if input.name.trim().is_empty() {
            return Err(err(Invalid::new("name", "required")));
        }
        if !(8..=16).contains(&input.sub_mchid.len()) || !input.sub_mchid.chars().all(|c| c.is_ascii_digit()) {
            return Err(err(Invalid::new("subMchid", "a merchant number: 8 to 16 digits")));
        }
        let mode = if input.mode == PayeeMode::Direct { "DIRECT" } else { "PARTNER" };
        let (property, area) = (input.property_id.map(|p| p.to_string()), input.area_id.map(|a| a.to_string()));
        tenant(ctx)?
            .create_payee(input.name.trim(), mode, &input.sub_mchid, property.as_deref(), area.as_deref())
            .await
            .map_err(err)
            .map(Into::into)
    }

    /// Sets or rotates a DIRECT payee's own WeChat Pay keys. Its notifications arrive at
    /// `/pay/wechat/notify/{payeeId}`.
    async fn set_payee_wechat_keys(&self, ctx: &Context<'_>, input: PayeeWechatKeysInput) -> Res<Payee> {
        let t = tenant(ctx)?;
        let payee = t.payee(input.payee_id.as_str()).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?;
        if payee.mode != "DIRECT" {
            return Err(err(Invalid::new("payeeId", "a PARTNER payee is paid through the platform's account; it has no keys of its own")));
        }
        let stored = t.payee_credentials(&payee.id, "WECHAT").await.map_err(err)?;
        let private_key_pem = input
            .private_key_pem
            .or_else(|| stored.as_ref().map(|c| c.private_key_pem.clone()))
            .ok_or_else(|| err(Invalid::new("privateKeyPem", "required")))?;
        let api_v3_key = input
            .api_v3_key
            .or_else(|| stored.as_ref().map(|c| c.secret.clone()))
            .ok_or_else(|| err(Invalid::new("apiV3Key", "required")))?;
        MerchantSigner::from_pem(&payee.sub_mchid, &input.serial, &private_key_pem)
            .map_err(|e| err(Invalid::new("privateKeyPem", e.to_string())))?;
        if api_v3_key.len() != 32 {
            return Err(err(Invalid::new("apiV3Key", "32 characters")));
        }
        let verify_keys = checked_keys(input.wechat_keys.into_iter().map(|k| (k.serial, k.public_key_pem)).collect(), "wechatKeys")?;
        let public = ctx.data::<PublicUrl>().map_err(|_| err(ApiError::Internal("no public URL".into())))?;
        let credentials = store::PayeeCredentials {
            channel: "WECHAT".into(),
            app_id: input.app_id.trim().to_string(),
            merchant_id: payee.sub_mchid.clone(),
            serial: input.serial.trim().to_string(),
            private_key_pem,
            secret: api_v3_key,
            verify_keys,
            api_base: super::outbound_url(ctx, "apiBase", &input.api_base)?.trim_end_matches('/').to_string(),
            notify_url: format!("{}/pay/wechat/notify/{}", public.0, payee.id),
            updated_at: Utc::now(),
        };
        t.set_payee_credentials(&payee.id, &credentials).await.map_err(err)?;
        payee_view(t, payee).await
    }

    /// Downloads a DIRECT payee's WeChat Pay platform certificates (verified with the keys
    /// already trusted), adds new ones and drops expired ones. Also done every six hours.
    async fn refresh_wechat_pay_certificates(&self, ctx: &Context<'_>, payee_id: ID) -> Res<Payee> {
        let t = tenant(ctx)?;
        let payee = t.payee(payee_id.as_str()).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?;
        connectors::pay::certificates::refresh_payee(t, &payee.id, Utc::now().timestamp()).await.map_err(|e| err(ApiError::Conflict(e)))?;
        payee_view(t, payee).await
    }

    /// The SaaS operator: the same for the platform's service-provider account.
    async fn refresh_provider_certificates(&self, ctx: &Context<'_>) -> Res<PaymentProviderView> {
        let store = ctx.data::<store::Store>().map_err(|_| err(ApiError::Unauthenticated))?;
        connectors::pay::certificates::refresh_provider(store, Utc::now().timestamp()).await.map_err(|e| err(ApiError::Conflict(e)))?;
        let p = store.platform().payment_provider().await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?;
        Ok(p.into())
    }

    /// Sets or rotates a payee's Alipay app: customers may then pay its accounts by Alipay.
    /// Notifications arrive at `/pay/alipay/notify`.
    async fn set_payee_alipay(&self, ctx: &Context<'_>, input: PayeeAlipayInput) -> Res<Payee> {
        let t = tenant(ctx)?;
        let payee = t.payee(input.payee_id.as_str()).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?;
        let digits = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
        if !digits(&input.app_id, 16) {
            return Err(err(Invalid::new("appId", "an Alipay app id: 16 digits")));
        }
        if !(digits(&input.seller_id, 16) && input.seller_id.starts_with("2088")) {
            return Err(err(Invalid::new("sellerId", "an Alipay user id: 2088 and 12 digits")));
        }
        let stored = t.payee_credentials(&payee.id, "ALIPAY").await.map_err(err)?;
        let private_key_pem = input
            .app_private_key
            .map(|k| alipay::pem_armour(&k, "PRIVATE KEY"))
            .or_else(|| stored.as_ref().map(|c| c.private_key_pem.clone()))
            .ok_or_else(|| err(Invalid::new("appPrivateKey", "required")))?;
        MerchantSigner::from_pem(&input.app_id, "", &private_key_pem).map_err(|e| err(Invalid::new("appPrivateKey", e.to_string())))?;
        let verify_keys = checked_keys(
            vec![(alipay::ALIPAY_KEY.to_string(), alipay::pem_armour(&input.alipay_public_key, "PUBLIC KEY"))],
            "alipayPublicKey",
        )?;
        let public = ctx.data::<PublicUrl>().map_err(|_| err(ApiError::Internal("no public URL".into())))?;
        let credentials = store::PayeeCredentials {
            channel: "ALIPAY".into(),
            app_id: input.app_id,
            merchant_id: input.seller_id,
            serial: String::new(),
            private_key_pem,
            secret: String::new(),
            verify_keys,
            api_base: super::outbound_url(ctx, "gateway", &input.gateway)?.trim_end_matches('/').to_string(),
            notify_url: format!("{}/pay/alipay/notify", public.0),
            updated_at: Utc::now(),
        };
        t.set_payee_credentials(&payee.id, &credentials).await.map_err(err)?;
        payee_view(t, payee).await
    }

    /// Downloads the payee's trade bills for a day — WeChat Pay's (SHA1 checked) and Alipay's
    /// (from the link in its signed answer), for each channel it has — and compares them with
    /// our orders, refunds and ledger: payments and refunds missing on either side and amounts
    /// that differ.
    async fn reconcile_payments(&self, ctx: &Context<'_>, input: ReconcileInput) -> Res<Reconciliation> {
        let t = tenant(ctx)?;
        let payee = t.payee(input.payee_id.as_str()).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?;
        let r = connectors::pay::reconcile_payee(t, &payee, input.date).await.map_err(|e| err(ApiError::Conflict(e)))?;
        Ok(r.into())
    }

    /// Refunds (part of) a paid order to the payer through its channel (退电退款): the amount
    /// leaves the balance now and comes back if the channel fails the refund.
    async fn refund_payment(&self, ctx: &Context<'_>, input: RefundPaymentInput) -> Res<PaymentRefund> {
        let t = tenant(ctx)?;
        let order = t.order_by_id(input.order_id.as_str()).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?;
        let fen = domain::ledger::positive_fen("amount", input.amount).map_err(err)?;
        let refund = t.start_refund(&order, fen, input.reason.trim()).await.map_err(err)?;
        let refund = match connectors::pay::refund_any(t, &order, &refund).await {
            Ok(state) => connectors::pay::apply_refund_state(t, &refund, state).await.map_err(err)?,
            // Whether the channel took it is unknown: the sweep asks after the window.
            Err(e) => {
                tracing::warn!(cause = %e, refund = %refund.out_refund_no, "refund outcome unknown; queried later");
                refund
            }
        };
        Ok(refund.into())
    }

    /// Mini-program: an order to recharge one of the customer's accounts, into the payee of
    /// the account's meters. WeChat: the answer carries what `wx.requestPayment` needs;
    /// Alipay: a QR code. Credited only by the channel's notification (or a query).
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
        let fen = domain::ledger::positive_fen("amount", input.amount).map_err(err)?;
        if !(100..=500_000).contains(&fen) {
            return Err(err(Invalid::new("amount", "between 1.00 and 5000.00")));
        }
        let payee = t
            .payee_for_account(&account_id)
            .await
            .map_err(err)?
            .ok_or_else(|| err(ApiError::Conflict("no payee receives this account's payments".into())))?;
        let description = format!("电费充值 {}", account.number);
        let how = How { login: CustomerLogin::of(openid), channel: input.channel, return_url: input.return_url.as_deref() };
        place_order(t, &account_id, &payee, fen, &description, how, None).await
    }

    /// Mini-program and mobile pages: an order to pay an ISSUED post-paid bill of one of the
    /// customer's accounts, for its total, into the payee of the account's meters. When the
    /// channel's notification arrives the bill is paid through the ledger, once; a bill paid
    /// meanwhile at the desk (or re-issued) keeps the payment as a difference for refund.
    async fn create_bill_order(&self, ctx: &Context<'_>, input: CreateBillOrderInput) -> Res<RechargeOrder> {
        let Principal::Customer { openid, customer, .. } = ctx.data::<Principal>().map_err(|_| err(ApiError::Unauthenticated))? else {
            return Err(err(ApiError::Forbidden("customers only".into())));
        };
        let bill_id = parse_id(&input.bill_id, BillId::parse)?;
        let t = tenant(ctx)?;
        let bill = t.bill(&bill_id).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?;
        let account = t.account(&bill.account_id).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?;
        // Another customer's bill, or a draft nobody was shown: not found either way.
        if customer.as_deref() != Some(account.customer_id.as_str()) || bill.state == "DRAFT" {
            return Err(err(ApiError::NotFound));
        }
        if bill.state != "ISSUED" {
            return Err(err(ApiError::Conflict(format!("the bill is {}; only an issued bill is paid", bill.state))));
        }
        if bill.total_x100 <= 0 {
            return Err(err(ApiError::Conflict("the bill comes to nothing".into())));
        }
        let payee = t
            .payee_for_account(&bill.account_id)
            .await
            .map_err(err)?
            .ok_or_else(|| err(ApiError::Conflict("no payee receives this account's payments".into())))?;
        let description = format!("电费账单 {} {}", bill.period, account.number);
        let how = How { login: CustomerLogin::of(openid), channel: input.channel, return_url: input.return_url.as_deref() };
        place_order(t, &bill.account_id, &payee, bill.total_x100, &description, how, Some(&bill_id)).await
    }
}

/// How a customer pays: who signed in (which WeChat AppID the payer's openid belongs to, or
/// none), the channel, and for Alipay on the mobile pages where the cashier returns to.
struct How<'a> {
    login: CustomerLogin<'a>,
    channel: PayChannel,
    return_url: Option<&'a str>,
}

/// The return address must be a page of the mobile pages at this platform's own address
/// (the origin the channel notifies): Alipay sends the payer there, so it is no open redirect.
fn return_url_ok(return_url: &str, notify_url: &str) -> bool {
    let origin = |u: &str| -> Option<String> {
        let (scheme, rest) = u.split_once("://")?;
        let host = rest.split(['/', '?', '#']).next()?;
        (matches!(scheme, "http" | "https") && !host.is_empty() && !host.contains('@')).then(|| format!("{scheme}://{host}"))
    };
    let path_ok = |u: &str| {
        u.split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
            .is_some_and(|p| p.starts_with("/m/") && !p.contains(".."))
    };
    return_url.len() <= 512
        && !return_url.contains(['\r', '\n', '\\'])
        && origin(return_url).is_some()
        && origin(return_url) == origin(notify_url)
        && path_ok(return_url)
}

/// Creates an order with the payee's channel: WeChat JSAPI (what `wx.requestPayment` or
/// `getBrandWCPayRequest` needs, for the AppID the payer signed in with), an Alipay QR code,
/// or Alipay's mobile cashier (`payUrl`).
async fn place_order(
    t: &store::TenantStore,
    account_id: &AccountId,
    payee: &store::PayeeRow,
    fen: i64,
    description: &str,
    how: How<'_>,
    bill: Option<&BillId>,
) -> Res<RechargeOrder> {
    let out_trade_no = format!("VL{}{:016X}", Utc::now().format("%y%m%d%H%M%S"), rand::random::<u64>());
    let expires = Utc::now() + chrono::Duration::minutes(30);
    let refused = |e: connectors::pay::PayError| {
        tracing::warn!(cause = %e, order = %out_trade_no, "payment order failed");
        err(ApiError::Conflict(format!("the payment channel did not take the order: {e}")))
    };
    // The payer's WeChat identity, when there is one: (AppID it belongs to, openid).
    let wechat_payer = match how.login {
        CustomerLogin::MiniProgram(openid) => Some((None, openid)),
        CustomerLogin::OfficialAccount(openid) => {
            let (oa, _) = t
                .wechat_official_account()
                .await
                .map_err(err)?
                .ok_or_else(|| err(ApiError::Conflict("the official account is no longer set up".into())))?;
            Some((Some(oa.app_id), openid))
        }
        CustomerLogin::Code => None,
    };
    if how.channel == PayChannel::Alipay {
        let app = alipay::App::of_payee(t, &payee.id)
            .await
            .map_err(|_| err(ApiError::Conflict("Alipay is not set up for this account".into())))?;
        if let Some(ret) = how.return_url
            && !return_url_ok(ret, &app.notify_url)
        {
            return Err(err(Invalid::new("returnUrl", "a page under /m/ of this platform's own address")));
        }
        let payer = wechat_payer.as_ref().map_or("", |(_, o)| *o);
        let order = t
            .create_order(account_id, payee, fen, payer, &app.app_id, &out_trade_no, expires, "ALIPAY", &app.seller_id, bill)
            .await
            .map_err(err)?;
        if let Some(ret) = how.return_url {
            let url = alipay::wap_pay_url(&app, &order, description, ret).map_err(refused)?;
            return Ok(RechargeOrder { pay_url: Some(url), ..order.into() });
        }
        let qr = alipay::precreate(&app, &order, description).await.map_err(refused)?;
        return Ok(RechargeOrder { qr_code: Some(qr), ..order.into() });
    }
    let Some((oa_app, openid)) = wechat_payer else {
        return Err(err(ApiError::Conflict("WeChat Pay needs WeChat: open this page in WeChat, or pay with Alipay".into())));
    };
    let (merchant, channel) =
        connectors::pay::merchant_for_payee(t, payee).await.map_err(|_| err(ApiError::Conflict("WeChat Pay is not configured".into())))?;
    let app_id = oa_app.unwrap_or_else(|| merchant.app_id.clone());
    let order = t
        .create_order(account_id, payee, fen, openid, &app_id, &out_trade_no, expires, channel, &payee.sub_mchid, bill)
        .await
        .map_err(err)?;
    let prepay = connectors::pay::jsapi(&merchant, &order, description).await.map_err(refused)?;
    t.set_prepay_id(&order.id, &prepay).await.map_err(err)?;
    let pay = connectors::pay::request_payment(&merchant, &app_id, &prepay).map_err(|e| err(ApiError::Internal(e.to_string())))?;
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

/// A payee with its credential summaries.
pub(crate) async fn payee_view(t: &store::TenantStore, payee: store::PayeeRow) -> Res<Payee> {
    let own = t.payee_credential_summaries().await.map_err(err)?.into_iter().filter(|c| c.payee_id == payee.id).map(Into::into).collect();
    Ok(Payee { credentials: own, ..payee.into() })
}

/// Verification keys that parse, at least one.
pub(crate) fn keys_that_parse(keys: Vec<(String, String)>, field: &'static str) -> Result<Vec<(String, String)>, Invalid> {
    if keys.is_empty() {
        return Err(Invalid::new(field, "at least one"));
    }
    let mut ring = KeyRing::default();
    for (id, pem) in &keys {
        if id.trim().is_empty() {
            return Err(Invalid::new(field, "a key needs its serial or PUB_KEY_ID_…"));
        }
        ring.add_pem(id, pem).map_err(|e| Invalid::new(field, format!("{id}: {e}")))?;
    }
    Ok(keys)
}

pub(crate) fn checked_keys(keys: Vec<(String, String)>, field: &'static str) -> Res<Vec<(String, String)>> {
    keys_that_parse(keys, field).map_err(err)
}
