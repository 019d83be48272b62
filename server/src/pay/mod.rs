//! Payments: WeChat Pay v3 in service-provider (partner) mode — orders for customers'
//! recharges, the signed and encrypted payment notification, and a local stand-in of WeChat
//! Pay for the demo and the tests. Protocol facts: ../shared/reference/payments.md.

pub mod standin;
pub mod wechatpay;

use serde::Deserialize;
use serde_json::json;

use crate::store::{OrderRow, PaymentProvider};
use wechatpay::{KeyRing, MerchantSigner, SignedHeaders, WechatPayError, nonce_str};

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

/// The provider's signer and WeChat's key ring, built from the stored account.
pub fn credentials(p: &PaymentProvider) -> Result<(MerchantSigner, KeyRing), PayError> {
    let signer = MerchantSigner::from_pem(&p.sp_mchid, &p.serial, &p.private_key_pem).map_err(|e| PayError::Config(e.to_string()))?;
    let mut ring = KeyRing::default();
    for (serial, pem) in &p.wechat_keys {
        ring.add_pem(serial, pem).map_err(|e| PayError::Config(e.to_string()))?;
    }
    Ok((signer, ring))
}

/// Sends a signed request and returns the verified body (responses without WeChat's
/// signature are treated as forged).
async fn call(
    p: &PaymentProvider,
    signer: &MerchantSigner,
    ring: &KeyRing,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
) -> Result<(u16, Vec<u8>), PayError> {
    let now = chrono::Utc::now().timestamp();
    let bytes = body.unwrap_or_default();
    let auth = signer.authorization(method, path, &bytes, now, &nonce_str()).map_err(PayError::Untrusted)?;
    let client =
        reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().map_err(|e| PayError::Transport(e.to_string()))?;
    let url = format!("{}{}", p.api_base.trim_end_matches('/'), path);
    let request = match method {
        "GET" => client.get(url),
        _ => client.post(url).header("Content-Type", "application/json").body(bytes),
    };
    let r = request
        .header("Authorization", auth)
        .header("Accept", "application/json")
        .header("User-Agent", "voltledger")
        .send()
        .await
        .map_err(|e| PayError::Transport(e.to_string()))?;
    let status = r.status().as_u16();
    let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (ts, nonce, sig, serial, kind) = (
        header("Wechatpay-Timestamp"),
        header("Wechatpay-Nonce"),
        header("Wechatpay-Signature"),
        header("Wechatpay-Serial"),
        header("Wechatpay-Signature-Type"),
    );
    let body = r.bytes().await.map_err(|e| PayError::Transport(e.to_string()))?.to_vec();
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
    ring.verify(h, &body, chrono::Utc::now().timestamp()).map_err(PayError::Untrusted)?;
    Ok((status, body))
}

/// `POST /v3/pay/partner/transactions/jsapi`: the prepay id of a recharge order.
pub async fn partner_jsapi(p: &PaymentProvider, order: &OrderRow, description: &str) -> Result<String, PayError> {
    let (signer, ring) = credentials(p)?;
    let body = json!({
        "sp_appid": p.sp_appid,
        "sp_mchid": p.sp_mchid,
        "sub_mchid": order.sub_mchid,
        "description": description.chars().take(127).collect::<String>(),
        "out_trade_no": order.out_trade_no,
        "time_expire": order.expires_at.with_timezone(&chrono_tz::Asia::Shanghai).to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        "notify_url": p.notify_url,
        "amount": {"total": order.amount_x100, "currency": "CNY"},
        "payer": {"sp_openid": order.openid},
    });
    let bytes = serde_json::to_vec(&body).map_err(|e| PayError::Protocol(e.to_string()))?;
    let (_, answer) = call(p, &signer, &ring, "POST", "/v3/pay/partner/transactions/jsapi", Some(bytes)).await?;
    #[derive(Deserialize)]
    struct Prepay {
        prepay_id: String,
    }
    serde_json::from_slice::<Prepay>(&answer).map(|p| p.prepay_id).map_err(|e| PayError::Protocol(e.to_string()))
}

/// What `wx.requestPayment` needs, signed with the provider's key for the order's AppID.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RequestPayment {
    pub app_id: String,
    pub time_stamp: String,
    pub nonce_str: String,
    pub package: String,
    pub sign_type: String,
    pub pay_sign: String,
}

pub fn request_payment(p: &PaymentProvider, app_id: &str, prepay_id: &str) -> Result<RequestPayment, PayError> {
    let (signer, _) = credentials(p)?;
    let ts = chrono::Utc::now().timestamp();
    let nonce = nonce_str();
    let pay_sign = signer.pay_sign(app_id, ts, &nonce, prepay_id).map_err(PayError::Untrusted)?;
    Ok(RequestPayment {
        app_id: app_id.into(),
        time_stamp: ts.to_string(),
        nonce_str: nonce,
        package: format!("prepay_id={prepay_id}"),
        sign_type: "RSA".into(),
        pay_sign,
    })
}

/// The decrypted transaction of a partner-mode `TRANSACTION.SUCCESS` notification.
#[derive(Debug, Clone, Deserialize)]
pub struct Transaction {
    pub sp_appid: String,
    pub sp_mchid: String,
    pub sub_mchid: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub trade_state: String,
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
pub fn open_envelope(
    p: &PaymentProvider,
    ring: &KeyRing,
    h: SignedHeaders<'_>,
    body: &[u8],
    now: i64,
) -> Result<(String, Vec<u8>), NotifyRefusal> {
    ring.verify(h, body, now).map_err(NotifyRefusal::Signature)?;
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
    let plain = wechatpay::decrypt(p.api_v3_key.as_bytes(), &e.resource).map_err(NotifyRefusal::Resource)?;
    Ok((e.event_type, plain))
}

/// Verifies, decrypts and parses a payment notification (the business checks follow with
/// the order in hand).
pub fn open_notification(
    p: &PaymentProvider,
    ring: &KeyRing,
    h: SignedHeaders<'_>,
    body: &[u8],
    now: i64,
) -> Result<Transaction, NotifyRefusal> {
    let (event, plain) = open_envelope(p, ring, h, body, now)?;
    if event != "TRANSACTION.SUCCESS" {
        return Err(NotifyRefusal::NotSuccess);
    }
    serde_json::from_slice(&plain).map_err(|e| NotifyRefusal::Malformed(e.to_string()))
}

/// The decrypted resource of a `REFUND.SUCCESS` / `REFUND.ABNORMAL` / `REFUND.CLOSED`
/// notification.
#[derive(Debug, Clone, Deserialize)]
pub struct RefundNotice {
    pub sp_mchid: String,
    pub sub_mchid: String,
    pub out_refund_no: String,
    pub refund_id: String,
    pub refund_status: String,
    pub amount: RefundAmount,
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
pub async fn request_refund(p: &PaymentProvider, order: &OrderRow, refund: &crate::store::RefundRow) -> Result<RefundAnswer, PayError> {
    let (signer, ring) = credentials(p)?;
    let body = json!({
        "sub_mchid": order.sub_mchid,
        "transaction_id": order.transaction_id,
        "out_refund_no": refund.out_refund_no,
        "reason": refund.reason.chars().take(80).collect::<String>(),
        "notify_url": p.notify_url,
        "amount": {"refund": refund.amount_x100, "total": order.amount_x100, "currency": "CNY"},
    });
    let bytes = serde_json::to_vec(&body).map_err(|e| PayError::Protocol(e.to_string()))?;
    let (_, answer) = call(p, &signer, &ring, "POST", "/v3/refund/domestic/refunds", Some(bytes)).await?;
    serde_json::from_slice(&answer).map_err(|e| PayError::Protocol(e.to_string()))
}

/// The business checks of payments.md §1.6: our provider, the order's payee and AppID, the
/// ordered amount, a successful state.
pub fn check_transaction(p: &PaymentProvider, order: &OrderRow, t: &Transaction) -> Result<(), NotifyRefusal> {
    let wrong = |what: &str| Err(NotifyRefusal::Mismatch(format!("{what} does not match the order")));
    if t.sp_mchid != p.sp_mchid {
        return wrong("sp_mchid");
    }
    if t.sub_mchid != order.sub_mchid {
        return wrong("sub_mchid");
    }
    if t.sp_appid != order.app_id {
        return wrong("sp_appid");
    }
    if t.amount.total != order.amount_x100 {
        return wrong("amount");
    }
    if t.trade_state != "SUCCESS" {
        return Err(NotifyRefusal::NotSuccess);
    }
    Ok(())
}

/// An order as `query` answers it (unpaid orders have no transaction id).
#[derive(Debug, Clone, Deserialize)]
pub struct QueriedOrder {
    pub sp_mchid: String,
    pub sub_mchid: String,
    pub sp_appid: Option<String>,
    pub out_trade_no: String,
    pub transaction_id: Option<String>,
    pub trade_state: String,
    pub amount: Amount,
}

/// `GET /v3/pay/partner/transactions/out-trade-no/{no}?sp_mchid=…&sub_mchid=…`.
pub async fn query_partner(p: &PaymentProvider, order: &OrderRow) -> Result<QueriedOrder, PayError> {
    let (signer, ring) = credentials(p)?;
    let path =
        format!("/v3/pay/partner/transactions/out-trade-no/{}?sp_mchid={}&sub_mchid={}", order.out_trade_no, p.sp_mchid, order.sub_mchid);
    let (_, body) = call(p, &signer, &ring, "GET", &path, None).await?;
    serde_json::from_slice(&body).map_err(|e| PayError::Protocol(e.to_string()))
}

/// `POST …/out-trade-no/{no}/close` (answers 204, signed over the empty body).
pub async fn close_partner(p: &PaymentProvider, order: &OrderRow) -> Result<(), PayError> {
    let (signer, ring) = credentials(p)?;
    let path = format!("/v3/pay/partner/transactions/out-trade-no/{}/close", order.out_trade_no);
    let body = serde_json::to_vec(&json!({"sp_mchid": p.sp_mchid, "sub_mchid": order.sub_mchid}))
        .map_err(|e| PayError::Protocol(e.to_string()))?;
    call(p, &signer, &ring, "POST", &path, Some(body)).await.map(|_| ())
}

/// `GET /v3/refund/domestic/refunds/{out_refund_no}?sub_mchid=…`.
pub async fn query_refund(p: &PaymentProvider, order: &OrderRow, refund: &crate::store::RefundRow) -> Result<RefundAnswer, PayError> {
    let (signer, ring) = credentials(p)?;
    let path = format!("/v3/refund/domestic/refunds/{}?sub_mchid={}", refund.out_refund_no, order.sub_mchid);
    let (_, body) = call(p, &signer, &ring, "GET", &path, None).await?;
    serde_json::from_slice(&body).map_err(|e| PayError::Protocol(e.to_string()))
}

/// How long after ordering we wait for the notification before asking ourselves.
pub const NOTIFY_WINDOW: chrono::Duration = chrono::Duration::minutes(5);

/// Orders still unpaid after the notification window are queried (a payment whose
/// notification never came is credited like one that did); expired ones are closed so the
/// user cannot pay them any more. Each order is asked at most once a minute.
pub async fn sweep_pending(store: &crate::store::Store, now: chrono::DateTime<chrono::Utc>) -> Result<usize, crate::store::StoreError> {
    let Some(p) = store.platform_payment_provider().await? else { return Ok(0) };
    let mut settled = 0;
    for order in store.platform_orders_to_check(now - NOTIFY_WINDOW, now - chrono::Duration::minutes(1), 50).await? {
        store.platform_order_checked(&order, now).await?;
        let tenant = crate::store::order_tenant(&order)?;
        match query_partner(&p, &order).await {
            Ok(q) if q.trade_state == "SUCCESS" => {
                let matches = q.sp_mchid == p.sp_mchid && q.sub_mchid == order.sub_mchid && q.amount.total == order.amount_x100;
                match (matches, q.transaction_id) {
                    (true, Some(tx)) => {
                        store.tenant(tenant).settle_paid_order(&order, &tx, now).await?;
                        settled += 1;
                    }
                    _ => tracing::error!(order = %order.out_trade_no, "queried payment does not match its order; left for reconciliation"),
                }
            }
            Ok(q) if q.trade_state == "CLOSED" || q.trade_state == "REVOKED" || q.trade_state == "PAYERROR" => {
                store.platform_order_closed(&order).await?;
            }
            Ok(_) if order.expires_at <= now => match close_partner(&p, &order).await {
                Ok(()) => store.platform_order_closed(&order).await?,
                Err(e) => tracing::warn!(order = %order.out_trade_no, cause = %e, "closing an expired order failed"),
            },
            Ok(_) => {}
            Err(e) => tracing::warn!(order = %order.out_trade_no, cause = %e, "order query failed"),
        }
    }
    // Refunds whose outcome did not arrive: ask, and finish them as WeChat says.
    for refund in store.platform_refunds_to_check(now - NOTIFY_WINDOW, now - chrono::Duration::minutes(1), 50).await? {
        store.platform_refund_checked(&refund, now).await?;
        let Some(tenant) = crate::domain::ids::TenantId::parse(&refund.tenant_id) else { continue };
        let t = store.tenant(tenant);
        let Some(order) = t.order_by_id(&refund.order_id).await? else { continue };
        match query_refund(&p, &order, &refund).await {
            Ok(a) if matches!(a.status.as_str(), "SUCCESS" | "ABNORMAL" | "CLOSED") => {
                t.finish_refund(&refund, &a.status, Some(&a.refund_id), "").await?;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(refund = %refund.out_refund_no, cause = %e, "refund query failed"),
        }
    }
    Ok(settled)
}

/// One detail row of a WeChat Pay trade bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillRecord {
    pub sub_mchid: String,
    pub transaction_id: String,
    pub out_trade_no: String,
    /// SUCCESS, REFUND, …
    pub state: String,
    /// 应结订单金额, fen.
    pub amount: i64,
    pub out_refund_no: String,
    /// 退款金额, fen.
    pub refund: i64,
}

fn yuan_to_fen(text: &str) -> Result<i64, String> {
    use rust_decimal::prelude::ToPrimitive;
    let d: rust_decimal::Decimal = text.trim().parse().map_err(|_| format!("not an amount: {text}"))?;
    let fen = d * rust_decimal::Decimal::from(100);
    if !fen.fract().is_zero() {
        return Err(format!("more than 2 decimals: {text}"));
    }
    fen.to_i64().ok_or_else(|| format!("out of range: {text}"))
}

/// Parses a trade bill (payments.md §2.7): optional BOM, a header line, detail rows whose
/// every field starts with a backtick, then the summary header and row. Amounts in yuan.
pub fn parse_trade_bill(text: &str) -> Result<Vec<BillRecord>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    lines.next().ok_or("empty bill")?;
    let mut out = Vec::new();
    for (n, line) in lines.enumerate() {
        if line.starts_with("总交易单数") {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(|c| c.trim().trim_start_matches('`')).collect();
        if f.len() < 27 {
            return Err(format!("row {}: {} fields, expected 27", n + 2, f.len()));
        }
        let at = |i: usize| f.get(i).copied().unwrap_or("");
        let refund = if at(16).is_empty() { 0 } else { yuan_to_fen(at(16))? };
        out.push(BillRecord {
            sub_mchid: at(3).into(),
            transaction_id: at(5).into(),
            out_trade_no: at(6).into(),
            state: at(9).into(),
            amount: yuan_to_fen(at(12))?,
            out_refund_no: at(15).into(),
            refund,
        });
    }
    Ok(out)
}

/// `GET /v3/bill/tradebill` then the file: the bill of one sub-merchant for one day, its SHA1
/// checked against the signed answer (the file itself is not signed).
pub async fn trade_bill(p: &PaymentProvider, sub_mchid: &str, date: chrono::NaiveDate) -> Result<Vec<BillRecord>, PayError> {
    use sha1::Digest;
    let (signer, ring) = credentials(p)?;
    let path = format!("/v3/bill/tradebill?bill_date={}&sub_mchid={sub_mchid}&bill_type=ALL", date.format("%Y-%m-%d"));
    let (_, body) = call(p, &signer, &ring, "GET", &path, None).await?;
    let meta: serde_json::Value = serde_json::from_slice(&body).map_err(|e| PayError::Protocol(e.to_string()))?;
    let url = meta["download_url"].as_str().ok_or_else(|| PayError::Protocol("no download_url".into()))?;
    let expected = meta["hash_value"].as_str().unwrap_or("").to_lowercase();
    if meta["hash_type"].as_str() != Some("SHA1") {
        return Err(PayError::Protocol("unknown hash_type".into()));
    }
    let file_path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
        .ok_or_else(|| PayError::Protocol("bad download_url".into()))?;
    let now = chrono::Utc::now().timestamp();
    let auth = signer.authorization("GET", &file_path, b"", now, &nonce_str()).map_err(PayError::Untrusted)?;
    let file = reqwest::Client::new()
        .get(url)
        .header("Authorization", auth)
        .send()
        .await
        .map_err(|e| PayError::Transport(e.to_string()))?
        .bytes()
        .await
        .map_err(|e| PayError::Transport(e.to_string()))?;
    if hex::encode(sha1::Sha1::digest(&file)) != expected {
        return Err(PayError::Protocol("the bill file does not match its SHA1".into()));
    }
    parse_trade_bill(&String::from_utf8_lossy(&file)).map_err(PayError::Protocol)
}

/// One difference between WeChat's bill and our records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discrepancy {
    /// MISSING_CREDIT (paid at WeChat, not credited here), UNKNOWN_ORDER (not ours),
    /// MISSING_IN_BILL (credited here, absent from the bill), AMOUNT_MISMATCH, NOT_IN_LEDGER.
    pub kind: &'static str,
    pub out_trade_no: String,
    pub ours: Option<i64>,
    pub theirs: Option<i64>,
}

/// Reconciles one payee's day and keeps the result.
pub async fn reconcile_payee(
    t: &crate::store::TenantStore,
    p: &PaymentProvider,
    payee: &crate::store::PayeeRow,
    date: chrono::NaiveDate,
) -> Result<crate::store::ReconciliationRow, String> {
    let bill = trade_bill(p, &payee.sub_mchid, date).await.map_err(|e| format!("the bill could not be fetched: {e}"))?;
    let tz: chrono_tz::Tz = t.tenant_row().await.map_err(|e| e.to_string())?.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let next = date.succ_opt().ok_or("date out of range")?;
    let (from, to) = (crate::domain::billing::local_instant(tz, date, 0), crate::domain::billing::local_instant(tz, next, 0));
    let paid = t.paid_orders_of_payee(&payee.id, from, to).await.map_err(|e| e.to_string())?;
    let mut known = paid.clone();
    for r in &bill {
        if !known.iter().any(|o| o.out_trade_no == r.out_trade_no)
            && let Some(o) = t.order_by_trade_no(&r.out_trade_no).await.map_err(|e| e.to_string())?
        {
            known.push(o);
        }
    }
    let (matched, found) = reconcile(&bill, &paid, &known);
    let row = crate::store::ReconciliationRow {
        payee_id: payee.id.clone(),
        bill_date: date,
        ran_at: chrono::Utc::now(),
        bill_rows: bill.len() as i64,
        matched: matched as i64,
        discrepancies: found.into_iter().map(|d| (d.kind.to_string(), d.out_trade_no, d.ours, d.theirs)).collect(),
    };
    t.save_reconciliation(&row).await.map_err(|e| e.to_string())?;
    Ok(row)
}

/// The daily pass: after 10:30 in each tenant's time, every payee's yesterday is reconciled
/// once (WeChat publishes the previous day's bill from 10:00); failures are retried on the
/// next pass.
pub async fn reconcile_yesterday(
    store: &crate::store::Store,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, crate::store::StoreError> {
    let Some(p) = store.platform_payment_provider().await? else { return Ok(0) };
    let mut done = 0;
    for tenant in store.platform_tenants().await?.into_iter().filter(|t| t.status == "ACTIVE") {
        let tz: chrono_tz::Tz = tenant.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
        let local = now.with_timezone(&tz);
        if local.time() < chrono::NaiveTime::from_hms_opt(10, 30, 0).unwrap_or_default() {
            continue;
        }
        let Some(yesterday) = local.date_naive().pred_opt() else { continue };
        let t = store.tenant(tenant.id.clone());
        let done_already = t.reconciliations(None, 1000).await?;
        for payee in t.payees().await? {
            if done_already.iter().any(|r| r.payee_id == payee.id && r.bill_date == yesterday) {
                continue;
            }
            match reconcile_payee(&t, &p, &payee, yesterday).await {
                Ok(r) => {
                    done += 1;
                    if !r.discrepancies.is_empty() {
                        tracing::warn!(tenant = %tenant.slug, payee = %payee.name, date = %yesterday, differences = r.discrepancies.len(), "reconciliation found differences");
                    }
                }
                Err(e) => {
                    tracing::warn!(tenant = %tenant.slug, payee = %payee.name, cause = %e, "reconciliation failed; retried next pass")
                }
            }
        }
    }
    Ok(done)
}

/// Compares a day's bill (successful payments) with our orders paid that day for the payee.
pub fn reconcile(bill: &[BillRecord], ours_paid: &[OrderRow], ours_all: &[OrderRow]) -> (usize, Vec<Discrepancy>) {
    let mut out = Vec::new();
    let mut matched = 0;
    let paid: Vec<&BillRecord> = bill.iter().filter(|r| r.state == "SUCCESS").collect();
    for r in &paid {
        match ours_all.iter().find(|o| o.out_trade_no == r.out_trade_no) {
            None => {
                out.push(Discrepancy { kind: "UNKNOWN_ORDER", out_trade_no: r.out_trade_no.clone(), ours: None, theirs: Some(r.amount) })
            }
            Some(o) if o.state != "PAID" => {
                out.push(Discrepancy { kind: "MISSING_CREDIT", out_trade_no: r.out_trade_no.clone(), ours: None, theirs: Some(r.amount) })
            }
            Some(o) if o.amount_x100 != r.amount => out.push(Discrepancy {
                kind: "AMOUNT_MISMATCH",
                out_trade_no: r.out_trade_no.clone(),
                ours: Some(o.amount_x100),
                theirs: Some(r.amount),
            }),
            Some(o) if o.entry_id.is_none() => out.push(Discrepancy {
                kind: "NOT_IN_LEDGER",
                out_trade_no: r.out_trade_no.clone(),
                ours: Some(o.amount_x100),
                theirs: Some(r.amount),
            }),
            Some(_) => matched += 1,
        }
    }
    for o in ours_paid {
        if !paid.iter().any(|r| r.out_trade_no == o.out_trade_no) {
            out.push(Discrepancy {
                kind: "MISSING_IN_BILL",
                out_trade_no: o.out_trade_no.clone(),
                ours: Some(o.amount_x100),
                theirs: None,
            });
        }
    }
    (matched, out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

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
