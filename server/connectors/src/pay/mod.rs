//! Payments: customers' recharges through WeChat Pay v3 — in service-provider (partner)
//! mode through the platform's account, or direct mode through a payee's own merchant — and
//! Alipay (`alipay`); the signed and encrypted notifications; the sweep that asks about
//! orders and refunds whose outcome did not arrive; daily reconciliation; local stand-ins of
//! both channels for the demo and the tests. Protocol facts: ../shared/reference/payments.md.
pub mod alipay;
pub mod alipay_standin;
pub mod certificates;
pub mod standin;
pub mod wechatpay;
use serde::Deserialize;
use serde_json::json;
use store::{OrderRow, PayeeCredentials, PayeeRow, PaymentProvider, TenantStore};
use wechatpay::{KeyRing, MerchantSigner, SignedHeaders, WechatPayError, nonce_str};
mod reconciliation;
pub use reconciliation::*;

/// A failure talking to WeChat Pay.
#[derive(Debug, thiserror::Error)]
pub enum PayError {
    #[error("WeChat Pay unreachable: {0}")]
    Transport(String),
    #[error("WeChat Pay refused ({status}): {code} {message}")]
    Refused { status: u16, code: String, message: String },
    #[error("WeChat Pay answer not trusted: {0}")]
    Untrusted(WechatPayError),
    #[error("unexpected answer from WeChat Pay: {0}")]
    Protocol(String),
    #[error("payment configuration: {0}")]
    Config(String),
}

/// PARTNER: the platform's service-provider account calls for a sub-merchant; DIRECT: a
/// property company's own merchant account calls for itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Partner,
    Direct,
}

/// One WeChat Pay credential set: who signs our calls, which keys verify WeChat's answers
/// and notifications, and the APIv3 key that opens them.
pub struct Merchant {
    pub mode: Mode,
    /// The merchant making the calls: `sp_mchid` (partner) or the company's `mchid`.
    pub mchid: String,
    /// The AppID orders are paid under: `sp_appid` or the direct merchant's `appid`.
    pub app_id: String,
    signer: MerchantSigner,
    pub ring: KeyRing,
    api_v3_key: String,
    pub api_base: String,
    pub notify_url: String,
}

impl std::fmt::Debug for Merchant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Merchant({:?}, {}, <keys>)", self.mode, self.mchid)
    }
}

pub(crate) fn ring_of(keys: &[(String, String)]) -> Result<KeyRing, PayError> {
    let mut ring = KeyRing::default();
    for (serial, pem) in keys {
        ring.add_pem(serial, pem).map_err(|e| PayError::Config(e.to_string()))?;
    }
    Ok(ring)
}

impl Merchant {
    /// The platform's service-provider account.
    pub fn partner(p: &PaymentProvider) -> Result<Self, PayError> {
        Ok(Self {
            mode: Mode::Partner,
            mchid: p.sp_mchid.clone(),
            app_id: p.sp_appid.clone(),
            signer: MerchantSigner::from_pem(&p.sp_mchid, &p.serial, &p.private_key_pem).map_err(|e| PayError::Config(e.to_string()))?,
            ring: ring_of(&p.wechat_keys)?,
            api_v3_key: p.api_v3_key.clone(),
            api_base: p.api_base.clone(),
            notify_url: p.notify_url.clone(),
        })
    }

    /// A payee that is its own merchant.
    pub fn direct(c: &PayeeCredentials) -> Result<Self, PayError> {
        Ok(Self {
            mode: Mode::Direct,
            mchid: c.merchant_id.clone(),
            app_id: c.app_id.clone(),
            signer: MerchantSigner::from_pem(&c.merchant_id, &c.serial, &c.private_key_pem).map_err(|e| PayError::Config(e.to_string()))?,
            ring: ring_of(&c.verify_keys)?,
            api_v3_key: c.secret.clone(),
            api_base: c.api_base.clone(),
            notify_url: c.notify_url.clone(),
        })
    }

    /// Sends a signed request and returns the verified body (responses without WeChat's
    /// signature are treated as forged).
    async fn call(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> Result<Vec<u8>, PayError> {
        let now = chrono::Utc::now().timestamp();
        let bytes = body.unwrap_or_default();
        let auth = self.signer.authorization(method, path, &bytes, now, &nonce_str()).map_err(PayError::Untrusted)?;
        let url = format!("{}{}", self.api_base.trim_end_matches('/'), path);
        let request = match method {
            "GET" => http_client()?.get(url),
            _ => http_client()?.post(url).header("Content-Type", "application/json").body(bytes),
        };
        let r = request
            .header("Authorization", auth)
            .header("Accept", "application/json")
            .header("User-Agent", "voltledger")
            .send()
            .await
            .map_err(|e| PayError::Transport(e.without_url().to_string()))?;
        let status = r.status().as_u16();
        let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let (ts, nonce, sig, serial, kind) = (
            header("Wechatpay-Timestamp"),
            header("Wechatpay-Nonce"),
            header("Wechatpay-Signature"),
            header("Wechatpay-Serial"),
            header("Wechatpay-Signature-Type"),
        );
        let body = r.bytes().await.map_err(|e| PayError::Transport(e.without_url().to_string()))?.to_vec();
        if !(200..300).contains(&status) {
            let e: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            return Err(PayError::Refused {
                status,
                code: e["code"].as_str().unwrap_or("").to_string(),
                message: e["message"].as_str().unwrap_or("").to_string(),
            });
        }
        let h = SignedHeaders {
            timestamp: ts.as_deref(),
            nonce: nonce.as_deref(),
            signature: sig.as_deref(),
            serial: serial.as_deref(),
            signature_type: kind.as_deref(),
        };
        self.ring.verify(h, &body, chrono::Utc::now().timestamp()).map_err(PayError::Untrusted)?;
        Ok(body)
    }

    async fn call_json<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<T, PayError> {
        let bytes = body.map(|b| serde_json::to_vec(&b)).transpose().map_err(|e| PayError::Protocol(e.to_string()))?;
        let answer = self.call(method, path, bytes).await?;
        serde_json::from_slice(&answer).map_err(|e| PayError::Protocol(e.to_string()))
    }
}

pub(crate) fn http_client() -> Result<reqwest::Client, PayError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| PayError::Transport(e.without_url().to_string()))
}

/// The WeChat Pay merchant an order of this channel lives under.
pub async fn merchant_for_order(t: &TenantStore, order: &OrderRow) -> Result<Merchant, PayError> {
    merchant_of(t, &order.channel, &order.payee_id).await
}

/// The WeChat Pay merchant that takes a payee's new orders, and the orders' channel.
pub async fn merchant_for_payee(t: &TenantStore, payee: &PayeeRow) -> Result<(Merchant, &'static str), PayError> {
    let channel = if payee.mode == "DIRECT" { "WECHAT_DIRECT" } else { "WECHAT" };
    Ok((merchant_of(t, channel, &payee.id).await?, channel))
}

pub(crate) async fn merchant_of(t: &TenantStore, channel: &str, payee: &str) -> Result<Merchant, PayError> {
    let config = |e: store::StoreError| PayError::Config(e.to_string());
    match channel {
        "WECHAT_DIRECT" => {
            let c = t
                .payee_credentials(payee, "WECHAT")
                .await
                .map_err(config)?
                .ok_or_else(|| PayError::Config("the payee has no WeChat Pay merchant keys".into()))?;
            Merchant::direct(&c)
        }
        "WECHAT" => {
            let p = t.payment_provider().await.map_err(config)?.ok_or_else(|| PayError::Config("WeChat Pay is not configured".into()))?;
            Merchant::partner(&p)
        }
        other => Err(PayError::Config(format!("{other} orders are not WeChat Pay orders"))),
    }
}

/// `POST /v3/pay/partner/transactions/jsapi` or (direct) `/v3/pay/transactions/jsapi`: the
/// prepay id of a recharge order.
pub async fn jsapi(m: &Merchant, order: &OrderRow, description: &str) -> Result<String, PayError> {
    let expire = order.expires_at.with_timezone(&chrono_tz::Asia::Shanghai).to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let description: String = description.chars().take(127).collect();
    let amount = json!({"total": order.amount_x100, "currency": "CNY"});
    let (path, body) = match m.mode {
        // The payer's openid belongs to the order's AppID: the provider's own (the
        // mini-program) as `sp_openid`, else the sub-merchant's official account as
        // `sub_appid` and `sub_openid`.
        Mode::Partner if order.app_id == m.app_id || order.app_id.is_empty() => (
            "/v3/pay/partner/transactions/jsapi",
            json!({
                "sp_appid": m.app_id, "sp_mchid": m.mchid, "sub_mchid": order.sub_mchid, "description": description,
                "out_trade_no": order.out_trade_no, "time_expire": expire, "notify_url": m.notify_url, "amount": amount,
                "payer": {"sp_openid": order.openid},
            }),
        ),
        Mode::Partner => (
            "/v3/pay/partner/transactions/jsapi",
            json!({
                "sp_appid": m.app_id, "sp_mchid": m.mchid, "sub_appid": order.app_id, "sub_mchid": order.sub_mchid,
                "description": description, "out_trade_no": order.out_trade_no, "time_expire": expire,
                "notify_url": m.notify_url, "amount": amount, "payer": {"sub_openid": order.openid},
            }),
        ),
        Mode::Direct => (
            "/v3/pay/transactions/jsapi",
            json!({
                "appid": if order.app_id.is_empty() { &m.app_id } else { &order.app_id }, "mchid": m.mchid,
                "description": description, "out_trade_no": order.out_trade_no, "time_expire": expire,
                "notify_url": m.notify_url, "amount": amount, "payer": {"openid": order.openid},
            }),
        ),
    };
    #[derive(Deserialize)]
    struct Prepay {
        prepay_id: String,
    }
    m.call_json::<Prepay>("POST", path, Some(body)).await.map(|p| p.prepay_id)
}

/// What `wx.requestPayment` needs, signed with the merchant's key for its AppID.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RequestPayment {
    pub app_id: String,
    pub time_stamp: String,
    pub nonce_str: String,
    pub package: String,
    pub sign_type: String,
    pub pay_sign: String,
}

/// `app_id` is the AppID the payer's openid belongs to (the order's): the mini-program's for
/// `wx.requestPayment`, the official account's for `getBrandWCPayRequest` in WeChat's browser.
pub fn request_payment(m: &Merchant, app_id: &str, prepay_id: &str) -> Result<RequestPayment, PayError> {
    let ts = chrono::Utc::now().timestamp();
    let nonce = nonce_str();
    let pay_sign = m.signer.pay_sign(app_id, ts, &nonce, prepay_id).map_err(PayError::Untrusted)?;
    Ok(RequestPayment {
        app_id: app_id.to_string(),
        time_stamp: ts.to_string(),
        nonce_str: nonce,
        package: format!("prepay_id={prepay_id}"),
        sign_type: "RSA".into(),
        pay_sign,
    })
}

/// The decrypted transaction of a `TRANSACTION.SUCCESS` notification or an order query:
/// partner mode names `sp_appid`/`sp_mchid`/`sub_mchid`, direct mode `appid`/`mchid`.
#[derive(Debug, Clone, Deserialize)]
pub struct Transaction {
    #[serde(default)]
    pub sp_appid: Option<String>,
    #[serde(default)]
    pub sp_mchid: Option<String>,
    /// Partner mode, a payer under a sub-merchant's own AppID (an official account).
    #[serde(default)]
    pub sub_appid: Option<String>,
    #[serde(default)]
    pub sub_mchid: Option<String>,
    #[serde(default)]
    pub appid: Option<String>,
    #[serde(default)]
    pub mchid: Option<String>,
    pub out_trade_no: String,
    #[serde(default)]
    pub transaction_id: Option<String>,
    pub trade_state: String,
    #[serde(default)]
    pub success_time: Option<String>,
    pub amount: Amount,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Amount {
    pub total: i64,
}

/// Why a notification is refused (and nothing changes).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NotifyRefusal {
    #[error("signature: {0}")]
    Signature(WechatPayError),
    #[error("not a payment success event")]
    NotSuccess,
    #[error("resource: {0}")]
    Resource(WechatPayError),
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("{0}")]
    Mismatch(String),
}

/// A verified, decrypted notification: its event type and the resource's plaintext.
pub fn open_envelope(m: &Merchant, h: SignedHeaders<'_>, body: &[u8], now: i64) -> Result<(String, Vec<u8>), NotifyRefusal> {
    m.ring.verify(h, body, now).map_err(NotifyRefusal::Signature)?;
    #[derive(Deserialize)]
    struct Envelope {
        event_type: String,
        resource_type: String,
        resource: wechatpay::Resource,
    }
    let e: Envelope = serde_json::from_slice(body).map_err(|e| NotifyRefusal::Malformed(e.to_string()))?;
    if e.resource_type != "encrypt-resource" {
        return Err(NotifyRefusal::Malformed("resource_type is not encrypt-resource".into()));
    }
    let aad = if e.event_type.starts_with("REFUND.") { "refund" } else { "transaction" };
    if e.resource.associated_data != aad {
        return Err(NotifyRefusal::Malformed(format!("associated_data is not {aad}")));
    }
    let plain = wechatpay::decrypt(m.api_v3_key.as_bytes(), &e.resource).map_err(NotifyRefusal::Resource)?;
    Ok((e.event_type, plain))
}

/// Verifies, decrypts and parses a payment notification (the business checks follow with
/// the order in hand).
pub fn open_notification(m: &Merchant, h: SignedHeaders<'_>, body: &[u8], now: i64) -> Result<Transaction, NotifyRefusal> {
    let (event, plain) = open_envelope(m, h, body, now)?;
    if event != "TRANSACTION.SUCCESS" {
        return Err(NotifyRefusal::NotSuccess);
    }
    serde_json::from_slice(&plain).map_err(|e| NotifyRefusal::Malformed(e.to_string()))
}

/// The decrypted resource of a `REFUND.SUCCESS` / `REFUND.ABNORMAL` / `REFUND.CLOSED`
/// notification.
#[derive(Debug, Clone, Deserialize)]
pub struct RefundNotice {
    #[serde(default)]
    pub sp_mchid: Option<String>,
    #[serde(default)]
    pub sub_mchid: Option<String>,
    #[serde(default)]
    pub mchid: Option<String>,
    pub out_refund_no: String,
    pub refund_id: String,
    pub refund_status: String,
    pub amount: RefundAmount,
}

impl RefundNotice {
    /// The notice names the merchant the order lives under.
    pub fn belongs_to(&self, m: &Merchant, order: &OrderRow) -> bool {
        match m.mode {
            Mode::Partner => self.sp_mchid.as_deref() == Some(&m.mchid) && self.sub_mchid.as_deref() == Some(&order.sub_mchid),
            Mode::Direct => self.mchid.as_deref() == Some(&m.mchid) && m.mchid == order.sub_mchid,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct RefundAmount {
    pub refund: i64,
    pub total: i64,
}

/// WeChat's answer to a refund request.
#[derive(Debug, Clone, Deserialize)]
pub struct RefundAnswer {
    pub refund_id: String,
    pub out_refund_no: String,
    /// SUCCESS, CLOSED, PROCESSING, ABNORMAL.
    pub status: String,
}

/// `POST /v3/refund/domestic/refunds` (partner: with `sub_mchid`).
pub async fn request_refund(m: &Merchant, order: &OrderRow, refund: &store::RefundRow) -> Result<RefundAnswer, PayError> {
    let mut body = json!({
        "transaction_id": order.transaction_id,
        "out_refund_no": refund.out_refund_no,
        "reason": refund.reason.chars().take(80).collect::<String>(),
        "notify_url": m.notify_url,
        "amount": {"refund": refund.amount_x100, "total": order.amount_x100, "currency": "CNY"},
    });
    if m.mode == Mode::Partner {
        body["sub_mchid"] = json!(order.sub_mchid);
    }
    m.call_json("POST", "/v3/refund/domestic/refunds", Some(body)).await
}

/// The business checks of payments.md §1.6: the merchant (and sub-merchant) the order lives
/// under, its AppID, the ordered amount, a successful state.
pub fn check_transaction(m: &Merchant, order: &OrderRow, t: &Transaction) -> Result<(), NotifyRefusal> {
    let wrong = |what: &str| Err(NotifyRefusal::Mismatch(format!("{what} does not match the order")));
    let (mchid, appid) = match m.mode {
        Mode::Partner => {
            if t.sub_mchid.as_deref() != Some(&order.sub_mchid) {
                return wrong("sub_mchid");
            }
            // The order's AppID is the provider's (`sp_appid`), or the sub-merchant's own
            // official account the payer signed in with (`sub_appid`, beside the provider's).
            if order.app_id != m.app_id {
                if t.sub_appid.as_deref() != Some(order.app_id.as_str()) {
                    return wrong("sub_appid");
                }
                if t.sp_appid.as_deref() != Some(m.app_id.as_str()) {
                    return wrong("appid");
                }
                (t.sp_mchid.as_deref(), t.sub_appid.as_deref())
            } else {
                (t.sp_mchid.as_deref(), t.sp_appid.as_deref())
            }
        }
        Mode::Direct => {
            if m.mchid != order.sub_mchid {
                return wrong("mchid");
            }
            (t.mchid.as_deref(), t.appid.as_deref())
        }
    };
    if mchid != Some(m.mchid.as_str()) {
        return wrong("mchid");
    }
    if appid != Some(order.app_id.as_str()) {
        return wrong("appid");
    }
    if t.amount.total != order.amount_x100 {
        return wrong("amount");
    }
    if t.trade_state != "SUCCESS" {
        return Err(NotifyRefusal::NotSuccess);
    }
    Ok(())
}

/// `GET …/transactions/out-trade-no/{no}?…`: the order as WeChat knows it.
pub async fn query_order(m: &Merchant, order: &OrderRow) -> Result<Transaction, PayError> {
    let path = match m.mode {
        Mode::Partner => {
            format!("/v3/pay/partner/transactions/out-trade-no/{}?sp_mchid={}&sub_mchid={}", order.out_trade_no, m.mchid, order.sub_mchid)
        }
        Mode::Direct => format!("/v3/pay/transactions/out-trade-no/{}?mchid={}", order.out_trade_no, m.mchid),
    };
    m.call_json("GET", &path, None).await
}

/// `POST …/out-trade-no/{no}/close` (answers 204, signed over the empty body).
pub async fn close_order(m: &Merchant, order: &OrderRow) -> Result<(), PayError> {
    let (path, body) = match m.mode {
        Mode::Partner => (
            format!("/v3/pay/partner/transactions/out-trade-no/{}/close", order.out_trade_no),
            json!({"sp_mchid": m.mchid, "sub_mchid": order.sub_mchid}),
        ),
        Mode::Direct => (format!("/v3/pay/transactions/out-trade-no/{}/close", order.out_trade_no), json!({"mchid": m.mchid})),
    };
    let body = serde_json::to_vec(&body).map_err(|e| PayError::Protocol(e.to_string()))?;
    m.call("POST", &path, Some(body)).await.map(|_| ())
}

/// `GET /v3/refund/domestic/refunds/{out_refund_no}` (partner: `?sub_mchid=…`).
pub async fn query_refund(m: &Merchant, order: &OrderRow, refund: &store::RefundRow) -> Result<RefundAnswer, PayError> {
    let path = match m.mode {
        Mode::Partner => format!("/v3/refund/domestic/refunds/{}?sub_mchid={}", refund.out_refund_no, order.sub_mchid),
        Mode::Direct => format!("/v3/refund/domestic/refunds/{}", refund.out_refund_no),
    };
    m.call_json("GET", &path, None).await
}

/// What a channel says of an order when asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queried {
    /// Paid, for the order's merchant and amount: credit it with this transaction id, at the
    /// time the channel gives (if it gives one).
    Paid(String, Option<chrono::DateTime<chrono::Utc>>),
    /// Paid, but not as ordered (merchant or amount): left to reconciliation.
    Mismatch,
    Closed,
    Unpaid,
}

/// WeChat's times (`2026-11-27T10:00:00+08:00`).
pub fn rfc3339(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&chrono::Utc))
}

/// Asks the order's channel about it.
pub async fn query_any(t: &TenantStore, order: &OrderRow) -> Result<Queried, PayError> {
    if order.channel == "ALIPAY" {
        let app = alipay::App::of_payee(t, &order.payee_id).await?;
        let q = alipay::query(&app, order).await?;
        return Ok(match q.trade_status.as_str() {
            "TRADE_SUCCESS" | "TRADE_FINISHED" => match (yuan_to_fen(&q.total_amount), q.trade_no) {
                (Ok(fen), Some(no)) if fen == order.amount_x100 => {
                    Queried::Paid(no, q.send_pay_date.as_deref().and_then(alipay::beijing_time))
                }
                _ => Queried::Mismatch,
            },
            "TRADE_CLOSED" => Queried::Closed,
            _ => Queried::Unpaid,
        });
    }
    let m = merchant_for_order(t, order).await?;
    let q = match query_order(&m, order).await {
        Err(PayError::Refused { status: 404, .. }) => return Ok(Queried::Unpaid),
        other => other?,
    };
    Ok(match q.trade_state.as_str() {
        "SUCCESS" => match (check_transaction(&m, order, &q), q.transaction_id) {
            (Ok(()), Some(tx)) => Queried::Paid(tx, q.success_time.as_deref().and_then(rfc3339)),
            _ => Queried::Mismatch,
        },
        "CLOSED" | "REVOKED" | "PAYERROR" => Queried::Closed,
        _ => Queried::Unpaid,
    })
}

/// Closes an unpaid order at its channel so it can no longer be paid.
pub async fn close_any(t: &TenantStore, order: &OrderRow) -> Result<(), PayError> {
    if order.channel == "ALIPAY" {
        let app = alipay::App::of_payee(t, &order.payee_id).await?;
        return alipay::close(&app, order).await;
    }
    close_order(&merchant_for_order(t, order).await?, order).await
}

/// Where a refund stands at its channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundState {
    /// SUCCESS, ABNORMAL, CLOSED (WeChat's words) with the channel's refund id.
    Finished(String, String),
    Processing,
    /// The channel never took it (a definite refusal): the money comes back.
    Refused(String),
}

/// Requests a refund from the order's channel.
pub async fn refund_any(t: &TenantStore, order: &OrderRow, refund: &store::RefundRow) -> Result<RefundState, PayError> {
    if order.channel == "ALIPAY" {
        let app = alipay::App::of_payee(t, &order.payee_id).await?;
        return match alipay::refund(&app, order, refund).await {
            Ok(()) => Ok(RefundState::Finished("SUCCESS".into(), refund.out_refund_no.clone())),
            Err(PayError::Refused { code, message, .. }) => Ok(RefundState::Refused(format!("{code} {message}"))),
            Err(e) => Err(e),
        };
    }
    let m = merchant_for_order(t, order).await?;
    match request_refund(&m, order, refund).await {
        Ok(a) if matches!(a.status.as_str(), "SUCCESS" | "CLOSED" | "ABNORMAL") => Ok(RefundState::Finished(a.status, a.refund_id)),
        Ok(_) => Ok(RefundState::Processing),
        Err(PayError::Refused { status, code, message }) if (400..500).contains(&status) => {
            Ok(RefundState::Refused(format!("{code} {message}")))
        }
        Err(e) => Err(e),
    }
}

/// Asks the order's channel how a refund ended.
pub async fn query_refund_any(t: &TenantStore, order: &OrderRow, refund: &store::RefundRow) -> Result<RefundState, PayError> {
    if order.channel == "ALIPAY" {
        let app = alipay::App::of_payee(t, &order.payee_id).await?;
        return Ok(match alipay::query_refund(&app, order, refund).await? {
            true => RefundState::Finished("SUCCESS".into(), refund.out_refund_no.clone()),
            false => RefundState::Refused("Alipay has no such refund".into()),
        });
    }
    let m = merchant_for_order(t, order).await?;
    match query_refund(&m, order, refund).await {
        Ok(a) if matches!(a.status.as_str(), "SUCCESS" | "CLOSED" | "ABNORMAL") => Ok(RefundState::Finished(a.status, a.refund_id)),
        Ok(_) => Ok(RefundState::Processing),
        Err(PayError::Refused { status: 404, .. }) => Ok(RefundState::Refused("WeChat Pay has no such refund".into())),
        Err(e) => Err(e),
    }
}

/// Records a refund's state as the channel gave it.
pub async fn apply_refund_state(
    t: &TenantStore,
    refund: &store::RefundRow,
    state: RefundState,
) -> Result<store::RefundRow, store::StoreError> {
    match state {
        RefundState::Finished(status, id) => t.finish_refund(refund, &status, Some(&id), "").await,
        RefundState::Refused(why) => t.finish_refund(refund, "FAILED", None, &why).await,
        RefundState::Processing => Ok(refund.clone()),
    }
}

/// How long after ordering we wait for the notification before asking ourselves.
pub const NOTIFY_WINDOW: chrono::Duration = chrono::Duration::minutes(5);

/// Orders still unpaid after the notification window are queried (a payment whose
/// notification never came is credited like one that did); expired ones are closed so the
/// user cannot pay them any more. Refunds without an outcome are asked about likewise. Each
/// is asked at most once a minute.
pub async fn sweep_pending(store: &store::Store, now: chrono::DateTime<chrono::Utc>) -> Result<usize, store::StoreError> {
    let mut settled = 0;
    for order in store.platform().orders_to_check(now - NOTIFY_WINDOW, now - chrono::Duration::minutes(1), 50).await? {
        store.platform().order_checked(&order, now).await?;
        let t = store.tenant(store::order_tenant(&order)?);
        match query_any(&t, &order).await {
            Ok(Queried::Paid(tx, paid_at)) => {
                t.settle_paid_order(&order, &tx, paid_at.unwrap_or(now)).await?;
                settled += 1;
            }
            Ok(Queried::Mismatch) => {
                tracing::error!(order = %order.out_trade_no, "queried payment does not match its order; left for reconciliation")
            }
            Ok(Queried::Closed) => store.platform().order_closed(&order).await?,
            Ok(Queried::Unpaid) if order.expires_at <= now => match close_any(&t, &order).await {
                Ok(()) => store.platform().order_closed(&order).await?,
                Err(e) => tracing::warn!(order = %order.out_trade_no, cause = %e, "closing an expired order failed"),
            },
            Ok(Queried::Unpaid) => {}
            Err(e) => tracing::warn!(order = %order.out_trade_no, cause = %e, "order query failed"),
        }
    }
    for refund in store.platform().refunds_to_check(now - NOTIFY_WINDOW, now - chrono::Duration::minutes(1), 50).await? {
        store.platform().refund_checked(&refund, now).await?;
        let Some(tenant) = domain::ids::TenantId::parse(&refund.tenant_id) else { continue };
        let t = store.tenant(tenant);
        let Some(order) = t.order_by_id(&refund.order_id).await? else { continue };
        match query_refund_any(&t, &order, &refund).await {
            Ok(state) => {
                apply_refund_state(&t, &refund, state).await?;
            }
            Err(e) => tracing::warn!(refund = %refund.out_refund_no, cause = %e, "refund query failed"),
        }
    }
    Ok(settled)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use store::RefundRow;

    #[test]
    fn refunds_in_the_bill_are_matched_by_our_refund_number() {
        let ours = |no: &str, fen: i64, state: &str| RefundRow {
            tenant_id: "t".into(),
            id: format!("id-{no}"),
            order_id: "o".into(),
            out_refund_no: no.into(),
            amount_x100: fen,
            reason: String::new(),
            state: state.into(),
            refund_id: None,
            entry_id: None,
            reversal_entry_id: None,
            last_error: String::new(),
            created_at: chrono::Utc::now(),
            finished_at: None,
        };
        let billed = |no: &str, fen: i64| BillRecord {
            sub_mchid: String::new(),
            transaction_id: "tx".into(),
            out_trade_no: "VL1".into(),
            state: "REFUND".into(),
            amount: 3000,
            out_refund_no: no.into(),
            refund: fen,
        };
        let bill = [billed("RF1", 500), billed("RF2", 700), billed("RF3", 100), billed("RF9", 100)];
        let day = [
            ("VL1".to_string(), ours("RF1", 500, "SUCCESS")),
            ("VL1".to_string(), ours("RF2", 600, "SUCCESS")),
            ("VL2".to_string(), ours("RF4", 200, "SUCCESS")),
        ];
        let mut known: Vec<RefundRow> = day.iter().map(|(_, r)| r.clone()).collect();
        known.push(ours("RF3", 100, "PROCESSING"));
        let (matched, found) = reconcile_refunds(&bill, &day, &known);
        assert_eq!(matched, 1);
        let kinds: Vec<(&str, &str, Option<i64>, Option<i64>)> =
            found.iter().map(|d| (d.kind, d.out_trade_no.as_str(), d.ours, d.theirs)).collect();
        assert_eq!(
            kinds,
            [
                ("REFUND_AMOUNT_MISMATCH", "VL1", Some(600), Some(700)),
                ("REFUND_NOT_RECORDED", "VL1", Some(100), Some(100)),
                ("REFUND_UNKNOWN", "VL1", None, Some(100)),
                ("REFUND_MISSING_IN_BILL", "VL2", Some(200), None),
            ]
        );
        assert_eq!(reconcile_refunds(&bill[..1], &day[..1], &known).1, [], "a matching refund leaves nothing");
    }

    #[test]
    fn a_trade_bill_parses_with_bom_backticks_and_summary_and_refuses_bad_rows() {
        let header = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
        let row = "`2026-11-26 10:00:00,`wx1,`1900000100,`1900000201,`,`4200000001,`VL1,`o1,`JSAPI,`SUCCESS,`OTHERS,`CNY,`30.00,`0.00,`0,`0,`0.00,`0.00,`,`,`电费,`,`0.18000,`0.60%,`30.00,`0.00,`";
        let text = format!("\u{feff}{header}\r\n{row}\r\n总交易单数,应结订单总金额\r\n`1,`30.00\r\n");
        let bill = parse_trade_bill(&text).unwrap();
        assert_eq!(bill.len(), 1);
        assert_eq!((bill[0].out_trade_no.as_str(), bill[0].amount, bill[0].sub_mchid.as_str()), ("VL1", 3000, "1900000201"));
        assert!(parse_trade_bill(&format!("{header}\n`a,`b\n")).is_err(), "short row");
        assert!(
            parse_trade_bill(&format!("{header}\n{}\n", row.replace("`30.00,`0.00,`0,", "`30.001,`0.00,`0,"))).is_err(),
            "three decimals"
        );
        assert_eq!(yuan_to_fen("0.60").unwrap(), 60);
    }
}
