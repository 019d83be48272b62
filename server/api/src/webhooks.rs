//! The payment channels' notifications, apart from the GraphQL resolvers: WeChat Pay
//! (`/pay/wechat/notify` for the provider, `/pay/wechat/notify/{payee}` for a direct payee;
//! payments and refunds) and Alipay (`/pay/alipay/notify`). Each is verified with that
//! credential set's keys only, matched to its order, then credited through the recharge path.

use super::http::HttpState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use connectors::pay::wechatpay::SignedHeaders;
use connectors::pay::{Merchant, NotifyRefusal, alipay, check_transaction, open_envelope};
use serde_json::json;
use store;

pub(crate) fn fail(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"code": "FAIL", "message": message}))
}

/// `POST /pay/wechat/notify`: WeChat Pay's notifications for the platform's service-provider
/// account (partner payees).
pub(crate) async fn wechat_notify(state: web::Data<HttpState>, http: HttpRequest, body: web::Bytes) -> HttpResponse {
    let merchant = match state.store.platform().payment_provider().await {
        Ok(Some(p)) => Merchant::partner(&p),
        Ok(None) => return fail(StatusCode::SERVICE_UNAVAILABLE, "payments are not configured"),
        Err(e) => {
            tracing::error!(cause = %e, "payment provider unreadable");
            return fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    match merchant {
        Ok(m) => wechat_event(&state, &m, None, &http, &body).await,
        Err(e) => {
            tracing::error!(cause = %e, "payment provider keys unusable");
            fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

/// `POST /pay/wechat/notify/{payee}`: WeChat Pay's notifications for a payee that is its own
/// merchant (direct mode), checked with that payee's keys only.
pub(crate) async fn wechat_notify_direct(
    state: web::Data<HttpState>,
    http: HttpRequest,
    payee: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let found = match state.store.platform().payee(&payee).await {
        Ok(Some((tenant, p))) if p.mode == "DIRECT" => state.store.tenant(tenant).payee_credentials(&p.id, "WECHAT").await,
        Ok(_) => return fail(StatusCode::NOT_FOUND, "no such payee"),
        Err(e) => Err(e),
    };
    let merchant = match found {
        Ok(Some(c)) => Merchant::direct(&c),
        Ok(None) => return fail(StatusCode::NOT_FOUND, "the payee has no WeChat Pay keys"),
        Err(e) => {
            tracing::error!(cause = %e, "payee credentials unreadable");
            return fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    match merchant {
        Ok(m) => wechat_event(&state, &m, Some(payee.as_str()), &http, &body).await,
        Err(e) => {
            tracing::error!(cause = %e, "payee keys unusable");
            fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

/// A notification for one merchant. The raw body is checked (signature, timestamp,
/// serial), decrypted, matched to the order (merchant, sub-merchant, AppID, amount, state)
/// and credited once, keyed by WeChat's transaction id; anything else is refused with a
/// 4xx and changes nothing.
pub(crate) async fn wechat_event(
    state: &HttpState,
    merchant: &Merchant,
    payee: Option<&str>,
    http: &HttpRequest,
    body: &[u8],
) -> HttpResponse {
    let header = |name: &str| http.headers().get(name).and_then(|v| v.to_str().ok());
    let h = SignedHeaders {
        timestamp: header("Wechatpay-Timestamp"),
        nonce: header("Wechatpay-Nonce"),
        signature: header("Wechatpay-Signature"),
        serial: header("Wechatpay-Serial"),
        signature_type: header("Wechatpay-Signature-Type"),
    };
    let (event, plain) = match open_envelope(merchant, h, body, Utc::now().timestamp()) {
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
        return refund_notice(state, merchant, payee, &plain).await;
    }
    if event != "TRANSACTION.SUCCESS" {
        return fail(StatusCode::BAD_REQUEST, "not a payment success event");
    }
    let transaction: connectors::pay::Transaction = match serde_json::from_slice(&plain) {
        Ok(t) => t,
        Err(e) => return fail(StatusCode::BAD_REQUEST, &format!("malformed transaction: {e}")),
    };
    let order = match state.store.platform().order_by_trade_no(&transaction.out_trade_no).await {
        Ok(Some(o)) if payee.is_none_or(|p| p == o.payee_id) => o,
        Ok(_) => return fail(StatusCode::BAD_REQUEST, "no such order"),
        Err(e) => {
            tracing::error!(cause = %e, "order lookup failed");
            return fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    let expected_channel = if payee.is_some() { "WECHAT_DIRECT" } else { "WECHAT" };
    if order.channel != expected_channel {
        return fail(StatusCode::BAD_REQUEST, "the order is not paid through this merchant");
    }
    if let Err(e) = check_transaction(merchant, &order, &transaction) {
        tracing::warn!(reason = %e, order = %order.out_trade_no, "payment notification does not match its order");
        return fail(StatusCode::BAD_REQUEST, &e.to_string());
    }
    let Some(transaction_id) = transaction.transaction_id.filter(|t| !t.is_empty()) else {
        return fail(StatusCode::BAD_REQUEST, "no transaction_id");
    };
    let Ok(tenant) = store::order_tenant(&order) else { return fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error") };
    let paid_at = transaction.success_time.as_deref().and_then(connectors::pay::rfc3339).unwrap_or_else(Utc::now);
    match state.store.tenant(tenant).settle_paid_order(&order, &transaction_id, paid_at).await {
        Ok(_) => HttpResponse::NoContent().finish(),
        Err(e) => {
            tracing::error!(cause = %e, order = %order.out_trade_no, "crediting a paid order failed");
            fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error; retry")
        }
    }
}

/// A refund's outcome: matched to our refund by number and to its merchant, applied once.
pub(crate) async fn refund_notice(state: &HttpState, merchant: &Merchant, payee: Option<&str>, plain: &[u8]) -> HttpResponse {
    let notice: connectors::pay::RefundNotice = match serde_json::from_slice(plain) {
        Ok(n) => n,
        Err(e) => return fail(StatusCode::BAD_REQUEST, &format!("malformed refund: {e}")),
    };
    let refund = match state.store.platform().refund_by_no(&notice.out_refund_no).await {
        Ok(Some(r)) => r,
        Ok(None) => return fail(StatusCode::BAD_REQUEST, "no such refund"),
        Err(e) => {
            tracing::error!(cause = %e, "refund lookup failed");
            return fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    let Some(tenant) = domain::ids::TenantId::parse(&refund.tenant_id) else {
        return fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
    };
    let t = state.store.tenant(tenant);
    let order = match t.order_by_id(&refund.order_id).await {
        Ok(Some(o)) => o,
        _ => return fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
    };
    if payee.is_some_and(|p| p != order.payee_id)
        || !notice.belongs_to(merchant, &order)
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

pub(crate) fn alipay_answer(status: StatusCode, text: &'static str) -> HttpResponse {
    HttpResponse::build(status).content_type("text/plain; charset=utf-8").body(text)
}

/// `POST /pay/alipay/notify`: Alipay's `trade_status_sync`. The order named selects the
/// payee's Alipay key; the RSA2 signature over the parameters is checked before anything
/// else is believed; then app, seller and amount must match the order, and a paid trade is
/// credited once, keyed by Alipay's `trade_no`. The answer is `success` (Alipay stops
/// retrying) or a 4xx `failure` that changed nothing.
pub(crate) async fn alipay_notify(state: web::Data<HttpState>, body: web::Bytes) -> HttpResponse {
    let Ok(params) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return alipay_answer(StatusCode::BAD_REQUEST, "failure");
    };
    let no = params.iter().find(|(k, _)| k == "out_trade_no").map(|(_, v)| v.clone()).unwrap_or_default();
    let order = match state.store.platform().order_by_trade_no(&no).await {
        Ok(Some(o)) if o.channel == "ALIPAY" => o,
        Ok(_) => return alipay_answer(StatusCode::BAD_REQUEST, "failure"),
        Err(e) => {
            tracing::error!(cause = %e, "order lookup failed");
            return alipay_answer(StatusCode::INTERNAL_SERVER_ERROR, "failure");
        }
    };
    let Ok(tenant) = store::order_tenant(&order) else { return alipay_answer(StatusCode::INTERNAL_SERVER_ERROR, "failure") };
    let t = state.store.tenant(tenant);
    let app = match alipay::App::of_payee(&t, &order.payee_id).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(cause = %e, "payee Alipay app unusable");
            return alipay_answer(StatusCode::INTERNAL_SERVER_ERROR, "failure");
        }
    };
    let checked = alipay::verify_notification(&app, &params).and_then(|()| alipay::check_notification(&app, &order, &params));
    let trade_no = match checked {
        Ok(Some(trade_no)) => trade_no,
        Ok(None) => return alipay_answer(StatusCode::OK, "success"),
        Err(e) => {
            tracing::warn!(reason = %e, order = %order.out_trade_no, "Alipay notification refused");
            return alipay_answer(
                if matches!(e, NotifyRefusal::Signature(_)) { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST },
                "failure",
            );
        }
    };
    let paid_at = params.iter().find(|(k, _)| k == "gmt_payment").and_then(|(_, v)| alipay::beijing_time(v)).unwrap_or_else(Utc::now);
    match t.settle_paid_order(&order, &trade_no, paid_at).await {
        Ok(_) => alipay_answer(StatusCode::OK, "success"),
        Err(e) => {
            tracing::error!(cause = %e, order = %order.out_trade_no, "crediting a paid order failed");
            alipay_answer(StatusCode::INTERNAL_SERVER_ERROR, "failure")
        }
    }
}

/// Counts a payment notification by channel and outcome: accepted (2xx, a replay included),
/// refused (4xx: a bad signature, an unknown payee) or failed (5xx: the channel retries).
fn counted(channel: &'static str, r: HttpResponse) -> HttpResponse {
    let outcome = match r.status().as_u16() {
        200..=299 => "accepted",
        400..=499 => "refused",
        _ => "failed",
    };
    metrics::counter!("voltledger_payment_notifications_total", "channel" => channel, "outcome" => outcome).increment(1);
    r
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/pay/wechat/notify", web::post().to(|s, h, b| async { counted("wechat", wechat_notify(s, h, b).await) }))
        .route(
            "/pay/wechat/notify/{payee}",
            web::post().to(|s, h, p, b| async { counted("wechat", wechat_notify_direct(s, h, p, b).await) }),
        )
        .route("/pay/alipay/notify", web::post().to(|s, b| async { counted("alipay", alipay_notify(s, b).await) }));
}
