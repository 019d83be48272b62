//! A local WeChat Pay (v3) for the demo and the tests, per the checklist of payments.md §8.
//! It plays the platform's service-provider account and any number of ordinary (direct)
//! merchants, each with its own keys: WeChat's own RSA key pair per merchant announced as a
//! `PUB_KEY_ID_…` public key (rotatable); every request's `Authorization` checked against
//! the calling merchant's public key (five-line string, 401 `SIGN_ERROR` otherwise); JSAPI
//! orders (partner and direct), query by `out-trade-no`, close, refunds and their query,
//! trade bills; every 2xx answer signed; a "pay" hook playing the user, after which
//! `TRANSACTION.SUCCESS` is posted to the order's `notify_url`, encrypted with the merchant's
//! APIv3 key, signed, and retried on WeChat's schedule (time-scaled) until 200/204.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use super::wechatpay::{self, KeyRing, MerchantSigner, request_message};

/// WeChat's retry schedule for notifications, in seconds (15 s … 6 h, 24 h 4 min in all).
pub const RETRY_SCHEDULE_S: [u64; 15] = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600];

/// The identity the stand-in plays, and the provider it serves.
pub struct StandInConfig {
    pub sp_mchid: String,
    pub sp_appid: String,
    /// Sub-merchants that exist.
    pub sub_mchids: Vec<String>,
    /// The provider's merchant certificate serial and public key (to check our signatures).
    pub merchant_serial: String,
    pub merchant_public_pem: String,
    pub api_v3_key: String,
    /// One second of WeChat's retry schedule lasts this long here.
    pub time_scale: f64,
}

/// A notification as sent: headers and the exact body bytes.
pub type Notification = (Vec<(String, String)>, Vec<u8>);

#[derive(Debug, Clone)]
pub struct StandInOrder {
    /// The merchant the order lives under: the provider, or a direct merchant.
    pub mchid: String,
    pub direct: bool,
    pub out_trade_no: String,
    pub sub_mchid: String,
    pub sp_appid: String,
    /// A sub-merchant's own AppID the payer's openid belongs to (an official account).
    pub sub_appid: Option<String>,
    pub openid: String,
    pub total: i64,
    pub notify_url: String,
    pub state: String,
    pub transaction_id: Option<String>,
    /// When the user paid (RFC 3339, Beijing time).
    pub success_time: Option<String>,
}

#[derive(Debug, Clone)]
pub struct StandInRefund {
    pub out_refund_no: String,
    pub refund_id: String,
    pub out_trade_no: String,
    pub amount: i64,
    pub status: String,
}

struct State {
    /// Changes planted in the bills: out_trade_no -> amount billed (fen), and extra rows.
    bill_amounts: HashMap<String, i64>,
    extra_rows: Vec<(String, String, i64)>,
    /// Bill files by download token.
    files: HashMap<String, Vec<u8>>,
    refunds: Vec<StandInRefund>,
    /// When set, refunds end ABNORMAL (the payer's card was cancelled, say).
    fail_refunds: bool,
    /// When set, refund outcomes are not notified (only a query tells).
    silent_refunds: bool,
    config: StandInConfig,
    merchant: KeyRing,
    wechat: MerchantSigner,
    /// Ordinary (direct) merchants by mchid.
    direct: HashMap<String, DirectMerchant>,
    /// Platform certificates served at `/v3/certificates`, per merchant: (serial, PEM).
    certificates: HashMap<String, Vec<(String, String)>>,
    orders: HashMap<String, StandInOrder>,
    /// Sub-merchants' own AppIDs (official accounts) bound to the provider: `sub_appid`.
    sub_appids: std::collections::HashSet<String>,
    /// Notification deliveries: (out_trade_no, HTTP status our server answered).
    deliveries: Vec<(String, u16)>,
}

/// An ordinary merchant with its own keys, and the WeChat Pay public key WeChat signs its
/// answers and notifications with.
struct DirectMerchant {
    appid: String,
    serial: String,
    key: KeyRing,
    api_v3_key: String,
    wechat: MerchantSigner,
}

impl State {
    /// WeChat's signer towards a merchant.
    fn wechat_for(&self, mchid: &str) -> &MerchantSigner {
        self.direct.get(mchid).map(|d| &d.wechat).unwrap_or(&self.wechat)
    }

    fn api_v3_key_of(&self, mchid: &str) -> &str {
        self.direct.get(mchid).map(|d| d.api_v3_key.as_str()).unwrap_or(&self.config.api_v3_key)
    }
}

#[derive(Clone)]
pub struct WechatPayStandIn {
    /// `http://127.0.0.1:port`, the provider's `api_base`.
    pub base: String,
    /// The key id and SPKI PEM our server must trust.
    pub wechat_key_id: String,
    pub wechat_public_pem: String,
    state: Arc<Mutex<State>>,
    server: actix_web::dev::ServerHandle,
}

fn lock(s: &Arc<Mutex<State>>) -> std::sync::MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

impl WechatPayStandIn {
    pub fn start(listen: std::net::SocketAddr, config: StandInConfig) -> Result<Self, String> {
        let (private, public) = wechatpay::generate_key_pair().map_err(|e| e.to_string())?;
        let key_id = format!("PUB_KEY_ID_{:032}", rand::random::<u64>());
        let wechat = MerchantSigner::from_pem(&config.sp_mchid, &key_id, &private).map_err(|e| e.to_string())?;
        let mut merchant = KeyRing::default();
        merchant.add_pem(&config.merchant_serial, &config.merchant_public_pem).map_err(|e| e.to_string())?;
        let state = Arc::new(Mutex::new(State {
            bill_amounts: HashMap::new(),
            extra_rows: Vec::new(),
            files: HashMap::new(),
            refunds: Vec::new(),
            fail_refunds: false,
            silent_refunds: false,
            config,
            merchant,
            wechat,
            direct: HashMap::new(),
            certificates: HashMap::new(),
            orders: HashMap::new(),
            sub_appids: std::collections::HashSet::new(),
            deliveries: Vec::new(),
        }));
        let data = web::Data::new(state.clone());
        let me: web::Data<std::sync::OnceLock<WechatPayStandIn>> = web::Data::new(std::sync::OnceLock::new());
        let me_for_app = me.clone();
        let listener = std::net::TcpListener::bind(listen).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(me_for_app.clone())
                .route("/standin/pay", web::post().to(play_user))
                .route("/v3/pay/partner/transactions/jsapi", web::post().to(jsapi))
                .route("/v3/pay/partner/transactions/out-trade-no/{no}", web::get().to(query))
                .route("/v3/pay/partner/transactions/out-trade-no/{no}/close", web::post().to(close))
                .route("/v3/pay/transactions/jsapi", web::post().to(jsapi_direct))
                .route("/v3/pay/transactions/out-trade-no/{no}", web::get().to(query))
                .route("/v3/pay/transactions/out-trade-no/{no}/close", web::post().to(close))
                .route("/v3/refund/domestic/refunds", web::post().to(refund))
                .route("/v3/refund/domestic/refunds/{no}", web::get().to(refund_query))
                .route("/v3/bill/tradebill", web::get().to(tradebill))
                .route("/v3/certificates", web::get().to(certificates))
                .route("/v3/billdownload/file", web::get().to(billfile))
        })
        .workers(1)
        .listen(listener)
        .map_err(|e| e.to_string())?
        .disable_signals()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        let standin = Self { base: format!("http://{addr}"), wechat_key_id: key_id, wechat_public_pem: public, state, server: handle };
        let _ = me.set(standin.clone());
        Ok(standin)
    }

    /// Opens an ordinary merchant account (direct mode): its AppID, certificate serial,
    /// public key and APIv3 key. Answers the `PUB_KEY_ID_…` and SPKI PEM of the WeChat Pay
    /// public key it gets.
    pub fn add_direct_merchant(
        &self,
        mchid: &str,
        appid: &str,
        serial: &str,
        public_pem: &str,
        api_v3_key: &str,
    ) -> Result<(String, String), String> {
        let (private, public) = wechatpay::generate_key_pair().map_err(|e| e.to_string())?;
        let key_id = format!("PUB_KEY_ID_{:032}", rand::random::<u64>());
        let wechat = MerchantSigner::from_pem(mchid, &key_id, &private).map_err(|e| e.to_string())?;
        let mut key = KeyRing::default();
        key.add_pem(serial, public_pem).map_err(|e| e.to_string())?;
        let m = DirectMerchant { appid: appid.into(), serial: serial.into(), key, api_v3_key: api_v3_key.into(), wechat };
        lock(&self.state).direct.insert(mchid.into(), m);
        Ok((key_id, public))
    }

    /// WeChat starts signing a direct merchant's answers and notifications with a new public
    /// key (a rotation): answers its `PUB_KEY_ID_…` and PEM.
    pub fn rotate_direct_key(&self, mchid: &str) -> Result<(String, String), String> {
        let (private, public) = wechatpay::generate_key_pair().map_err(|e| e.to_string())?;
        let key_id = format!("PUB_KEY_ID_{:032}", rand::random::<u64>());
        let wechat = MerchantSigner::from_pem(mchid, &key_id, &private).map_err(|e| e.to_string())?;
        let mut s = lock(&self.state);
        let m = s.direct.get_mut(mchid).ok_or("no such merchant")?;
        m.wechat = wechat;
        Ok((key_id, public))
    }

    /// Announces a platform certificate (and its private key) to a merchant — the provider
    /// or a direct one — at `/v3/certificates`; with `sign_now` WeChat signs that merchant's
    /// answers and notifications with it from now on (the rotation's switch).
    pub fn add_platform_certificate(&self, mchid: &str, serial: &str, cert_pem: &str, key_pem: &str, sign_now: bool) -> Result<(), String> {
        let signer = MerchantSigner::from_pem(mchid, serial, key_pem).map_err(|e| e.to_string())?;
        let mut s = lock(&self.state);
        s.certificates.entry(mchid.to_string()).or_default().push((serial.to_string(), cert_pem.to_string()));
        if sign_now {
            match s.direct.get_mut(mchid) {
                Some(d) => d.wechat = signer,
                None => s.wechat = signer,
            }
        }
        Ok(())
    }

    pub fn order(&self, out_trade_no: &str) -> Option<StandInOrder> {
        lock(&self.state).orders.get(out_trade_no).cloned()
    }

    pub fn deliveries(&self) -> Vec<(String, u16)> {
        lock(&self.state).deliveries.clone()
    }

    /// The signed, encrypted `TRANSACTION.SUCCESS` notification of a paid order, as
    /// (headers, body): tests send it again, late, or altered.
    pub fn notification(&self, out_trade_no: &str, alter: impl FnOnce(&mut Value)) -> Option<Notification> {
        self.notification_at(out_trade_no, chrono::Utc::now().timestamp(), alter)
    }

    /// The same, signed at another time (a late or replayed delivery).
    pub fn notification_at(&self, out_trade_no: &str, timestamp: i64, alter: impl FnOnce(&mut Value)) -> Option<Notification> {
        let s = lock(&self.state);
        let o = s.orders.get(out_trade_no)?;
        let mut transaction = json!({
            "out_trade_no": o.out_trade_no,
            "transaction_id": o.transaction_id.clone().unwrap_or_default(),
            "trade_type": "JSAPI",
            "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功",
            "bank_type": "OTHERS",
            "success_time": o.success_time.clone().unwrap_or_else(beijing_now),
            "amount": {"total": o.total, "payer_total": o.total, "currency": "CNY", "payer_currency": "CNY"},
        });
        if o.direct {
            transaction["appid"] = json!(o.sp_appid);
            transaction["mchid"] = json!(o.mchid);
            transaction["payer"] = json!({"openid": o.openid});
        } else {
            transaction["sp_appid"] = json!(o.sp_appid);
            transaction["sp_mchid"] = json!(s.config.sp_mchid);
            transaction["sub_mchid"] = json!(o.sub_mchid);
            match &o.sub_appid {
                Some(sub) => {
                    transaction["sub_appid"] = json!(sub);
                    transaction["payer"] = json!({"sub_openid": o.openid});
                }
                None => transaction["payer"] = json!({"sp_openid": o.openid}),
            }
        }
        alter(&mut transaction);
        let nonce: String = format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
        let resource = wechatpay::encrypt(
            s.api_v3_key_of(&o.mchid).as_bytes(),
            "transaction",
            "transaction",
            &nonce,
            transaction.to_string().as_bytes(),
        )
        .ok()?;
        let body = json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "create_time": chrono::Utc::now().to_rfc3339(),
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": resource,
        })
        .to_string()
        .into_bytes();
        Some((signed_headers(s.wechat_for(&o.mchid), &body, timestamp), body))
    }

    /// Plays the user paying an order, without the notification yet.
    pub fn pay_silently(&self, out_trade_no: &str) -> bool {
        let mut s = lock(&self.state);
        let Some(o) = s.orders.get_mut(out_trade_no) else { return false };
        if o.state != "NOTPAY" {
            return false;
        }
        o.state = "SUCCESS".into();
        o.transaction_id = Some(format!("4200{:024}", rand::random::<u64>()));
        o.success_time = Some(beijing_now());
        true
    }

    /// Plays the user paying an order: marks it paid and delivers the notification to its
    /// `notify_url` on WeChat's retry schedule until the server answers 200 or 204.
    pub fn pay(&self, out_trade_no: &str) -> bool {
        if !self.pay_silently(out_trade_no) {
            return false;
        }
        let me = self.clone();
        let no = out_trade_no.to_string();
        tokio::spawn(async move { me.deliver(&no).await });
        true
    }

    async fn deliver(&self, out_trade_no: &str) {
        let (url, scale) = {
            let s = lock(&self.state);
            match s.orders.get(out_trade_no) {
                Some(o) => (o.notify_url.clone(), s.config.time_scale),
                None => return,
            }
        };
        let client = reqwest::Client::new();
        for wait in std::iter::once(0).chain(RETRY_SCHEDULE_S) {
            tokio::time::sleep(std::time::Duration::from_secs_f64(wait as f64 * scale)).await;
            let Some((headers, body)) = self.notification(out_trade_no, |_| {}) else { return };
            let mut r = client.post(&url).header("Content-Type", "application/json").body(body);
            for (k, v) in headers {
                r = r.header(k, v);
            }
            let status = r.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
            lock(&self.state).deliveries.push((out_trade_no.to_string(), status));
            if status == 200 || status == 204 {
                return;
            }
        }
    }

    /// Bills this order with another amount (a planted mismatch).
    pub fn bill_amount(&self, out_trade_no: &str, fen: i64) {
        lock(&self.state).bill_amounts.insert(out_trade_no.into(), fen);
    }

    /// Adds a payment to the bills that no order of ours explains.
    pub fn bill_extra(&self, sub_mchid: &str, out_trade_no: &str, fen: i64) {
        lock(&self.state).extra_rows.push((sub_mchid.into(), out_trade_no.into(), fen));
    }

    /// Takes the planted extra payments out of the bills again.
    pub fn clear_bill_extras(&self) {
        lock(&self.state).extra_rows.clear();
    }

    pub fn refunds(&self) -> Vec<StandInRefund> {
        lock(&self.state).refunds.clone()
    }

    /// Binds a sub-merchant's own AppID (an official account) to the provider, so orders may
    /// name it as `sub_appid` with the payer's `sub_openid`.
    pub fn bind_sub_appid(&self, app_id: &str) {
        lock(&self.state).sub_appids.insert(app_id.into());
    }

    /// From now on refunds end ABNORMAL instead of SUCCESS.
    pub fn fail_refunds(&self, fail: bool) {
        lock(&self.state).fail_refunds = fail;
    }

    /// From now on refund outcomes are not notified.
    pub fn silent_refunds(&self, silent: bool) {
        lock(&self.state).silent_refunds = silent;
    }

    pub async fn stop(&self) {
        self.server.stop(false).await;
    }
}

fn beijing_now() -> String {
    chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

fn signed_headers(wechat: &MerchantSigner, body: &[u8], ts: i64) -> Vec<(String, String)> {
    let nonce = wechatpay::nonce_str();
    let signature = wechat.sign(&wechatpay::response_message(&ts.to_string(), &nonce, body)).unwrap_or_default();
    vec![
        ("Wechatpay-Timestamp".into(), ts.to_string()),
        ("Wechatpay-Nonce".into(), nonce),
        ("Wechatpay-Signature".into(), signature),
        ("Wechatpay-Serial".into(), wechat.serial.clone()),
        ("Wechatpay-Signature-Type".into(), wechatpay::SIGNATURE_TYPE.into()),
        ("Request-ID".into(), uuid::Uuid::new_v4().to_string()),
    ]
}

/// An answer to `mchid`, signed (when successful) with the WeChat key that merchant trusts.
fn answer(s: &State, mchid: &str, status: actix_web::http::StatusCode, body: Value) -> HttpResponse {
    let bytes = if status == actix_web::http::StatusCode::NO_CONTENT { Vec::new() } else { body.to_string().into_bytes() };
    let mut r = HttpResponse::build(status);
    if status.is_success() {
        for (k, v) in signed_headers(s.wechat_for(mchid), &bytes, chrono::Utc::now().timestamp()) {
            r.insert_header((k, v));
        }
    }
    r.content_type("application/json").body(bytes)
}

fn error(s: &State, status: u16, code: &str, message: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    answer(s, "", status, json!({"code": code, "message": message}))
}

/// The checks WeChat makes of a merchant request: scheme, mchid, serial, timestamp window,
/// the signature over exactly what arrived. Answers the calling merchant's mchid.
fn check_request(s: &State, req: &HttpRequest, body: &[u8]) -> Result<String, Box<HttpResponse>> {
    let header = req.headers().get("Authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(f) = wechatpay::parse_authorization(header) else {
        return Err(Box::new(error(s, 401, "SIGN_ERROR", "Authorization missing or not WECHATPAY2-SHA256-RSA2048")));
    };
    let (serial, ring) = match s.direct.get(&f["mchid"]) {
        Some(d) => (d.serial.as_str(), &d.key),
        None if f["mchid"] == s.config.sp_mchid => (s.config.merchant_serial.as_str(), &s.merchant),
        None => return Err(Box::new(error(s, 401, "SIGN_ERROR", "mchid does not match the certificate"))),
    };
    let path = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("");
    let ts: i64 = f["timestamp"].parse().unwrap_or(0);
    let message = request_message(req.method().as_str(), path, ts, &f["nonce_str"], body);
    if (chrono::Utc::now().timestamp() - ts).abs() >= wechatpay::TIMESTAMP_WINDOW_S {
        return Err(Box::new(error(s, 401, "SIGN_ERROR", "timestamp expired")));
    }
    if f["serial_no"] != serial {
        return Err(Box::new(error(s, 401, "SIGN_ERROR", "unknown certificate serial")));
    }
    match ring.verify_raw(&f["serial_no"], &message, &f["signature"]) {
        Ok(()) => Ok(f["mchid"].clone()),
        Err(_) => Err(Box::new(error(s, 401, "SIGN_ERROR", "signature does not verify"))),
    }
}

type Shared = web::Data<Arc<Mutex<State>>>;

async fn jsapi(state: Shared, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let mut s = lock(&state);
    let caller = match check_request(&s, &req, &body) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let Ok(b) = serde_json::from_slice::<Value>(&body) else { return error(&s, 400, "PARAM_ERROR", "body is not JSON") };
    let text = |k: &str| b[k].as_str().unwrap_or("").to_string();
    if caller != s.config.sp_mchid || text("sp_mchid") != s.config.sp_mchid || text("sp_appid") != s.config.sp_appid {
        return error(&s, 400, "PARAM_ERROR", "sp_mchid or sp_appid does not match");
    }
    if !s.config.sub_mchids.contains(&text("sub_mchid")) {
        return error(&s, 400, "PARAM_ERROR", "sub_mchid is not a sub-merchant of this service provider");
    }
    // The payer under the provider's AppID, or under a sub-merchant's own AppID bound to it.
    let sub_appid = b["sub_appid"].as_str().map(str::to_string);
    let openid = match &sub_appid {
        None => b["payer"]["sp_openid"].as_str().unwrap_or("").to_string(),
        Some(a) if s.sub_appids.contains(a) => b["payer"]["sub_openid"].as_str().unwrap_or("").to_string(),
        Some(_) => return error(&s, 400, "PARAM_ERROR", "sub_appid is not bound to sub_mchid"),
    };
    let order = StandInOrder {
        mchid: caller.clone(),
        direct: false,
        out_trade_no: text("out_trade_no"),
        sub_mchid: text("sub_mchid"),
        sp_appid: text("sp_appid"),
        sub_appid,
        openid,
        total: b["amount"]["total"].as_i64().unwrap_or(0),
        notify_url: text("notify_url"),
        state: "NOTPAY".into(),
        transaction_id: None,
        success_time: None,
    };
    take_order(&mut s, &caller, order)
}

/// `POST /v3/pay/transactions/jsapi`: an ordinary merchant's own order.
async fn jsapi_direct(state: Shared, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let mut s = lock(&state);
    let caller = match check_request(&s, &req, &body) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let Ok(b) = serde_json::from_slice::<Value>(&body) else { return error(&s, 400, "PARAM_ERROR", "body is not JSON") };
    let text = |k: &str| b[k].as_str().unwrap_or("").to_string();
    let Some(appid) = s.direct.get(&caller).map(|d| d.appid.clone()) else {
        return error(&s, 400, "PARAM_ERROR", "not an ordinary merchant");
    };
    if text("mchid") != caller || text("appid") != appid {
        return error(&s, 400, "PARAM_ERROR", "mchid or appid does not match");
    }
    let order = StandInOrder {
        mchid: caller.clone(),
        direct: true,
        out_trade_no: text("out_trade_no"),
        sub_mchid: caller.clone(),
        sp_appid: appid,
        sub_appid: None,
        openid: b["payer"]["openid"].as_str().unwrap_or("").to_string(),
        total: b["amount"]["total"].as_i64().unwrap_or(0),
        notify_url: text("notify_url"),
        state: "NOTPAY".into(),
        transaction_id: None,
        success_time: None,
    };
    take_order(&mut s, &caller, order)
}

fn take_order(s: &mut State, caller: &str, order: StandInOrder) -> HttpResponse {
    let no = order.out_trade_no.clone();
    if order.total <= 0
        || order.openid.is_empty()
        || no.len() < 6
        || !order.notify_url.starts_with("http")
        || order.notify_url.contains('?')
    {
        return error(s, 400, "PARAM_ERROR", "amount, payer, out_trade_no or notify_url invalid");
    }
    if s.orders.contains_key(&no) {
        return error(s, 400, "INVALID_REQUEST", "out_trade_no already used");
    }
    s.orders.insert(no, order);
    let prepay = format!("wx{}{:016x}", chrono::Utc::now().format("%d%H%M%S"), rand::random::<u64>());
    answer(s, caller, actix_web::http::StatusCode::OK, json!({"prepay_id": prepay}))
}

async fn query(state: Shared, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let s = lock(&state);
    let caller = match check_request(&s, &req, b"") {
        Ok(c) => c,
        Err(r) => return *r,
    };
    match s.orders.get(path.as_str()).filter(|o| o.mchid == caller) {
        None => error(&s, 404, "ORDER_NOT_EXIST", "order does not exist"),
        Some(o) if o.direct => answer(
            &s,
            &caller,
            actix_web::http::StatusCode::OK,
            json!({"mchid": o.mchid, "appid": o.sp_appid, "out_trade_no": o.out_trade_no,
                   "transaction_id": o.transaction_id, "trade_state": o.state, "success_time": o.success_time, "amount": {"total": o.total, "currency": "CNY"}}),
        ),
        Some(o) => answer(
            &s,
            &caller,
            actix_web::http::StatusCode::OK,
            json!({"sp_mchid": s.config.sp_mchid, "sub_mchid": o.sub_mchid, "sp_appid": o.sp_appid, "sub_appid": o.sub_appid,
                   "out_trade_no": o.out_trade_no, "transaction_id": o.transaction_id, "trade_state": o.state,
                   "success_time": o.success_time, "amount": {"total": o.total, "currency": "CNY"}}),
        ),
    }
}

async fn close(state: Shared, req: HttpRequest, path: web::Path<String>, body: web::Bytes) -> HttpResponse {
    let mut s = lock(&state);
    let caller = match check_request(&s, &req, &body) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let state_now = s.orders.get(path.as_str()).filter(|o| o.mchid == caller).map(|o| o.state.clone());
    match state_now.as_deref() {
        None => error(&s, 404, "ORDER_NOT_EXIST", "order does not exist"),
        Some("SUCCESS") => error(&s, 400, "ORDER_PAID", "order already paid"),
        Some(_) => {
            if let Some(o) = s.orders.get_mut(path.as_str()) {
                o.state = "CLOSED".into();
            }
            answer(&s, &caller, actix_web::http::StatusCode::NO_CONTENT, Value::Null)
        }
    }
}

/// `POST /v3/refund/domestic/refunds`: accepted as PROCESSING; the outcome follows as a
/// `REFUND.SUCCESS` (or `REFUND.ABNORMAL`) notification.
async fn refund(state: Shared, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let shared = state.get_ref().clone();
    let mut s = lock(&state);
    let caller = match check_request(&s, &req, &body) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let Ok(b) = serde_json::from_slice::<Value>(&body) else { return error(&s, 400, "PARAM_ERROR", "body is not JSON") };
    let tx = b["transaction_id"].as_str().unwrap_or("").to_string();
    let Some(order) = s.orders.values().find(|o| o.transaction_id.as_deref() == Some(tx.as_str()) && o.mchid == caller).cloned() else {
        return error(&s, 404, "RESOURCE_NOT_EXISTS", "no such transaction");
    };
    let (refund, total) = (b["amount"]["refund"].as_i64().unwrap_or(0), b["amount"]["total"].as_i64().unwrap_or(0));
    let already: i64 = s.refunds.iter().filter(|r| r.out_trade_no == order.out_trade_no && r.status != "ABNORMAL").map(|r| r.amount).sum();
    let sub_mchid_ok = if order.direct { b["sub_mchid"].is_null() } else { b["sub_mchid"].as_str() == Some(order.sub_mchid.as_str()) };
    if !sub_mchid_ok || total != order.total || refund <= 0 || already + refund > order.total {
        return error(&s, 400, "INVALID_REQUEST", "refund does not fit the order");
    }
    let out_refund_no = b["out_refund_no"].as_str().unwrap_or("").to_string();
    if s.refunds.iter().any(|r| r.out_refund_no == out_refund_no) {
        return error(&s, 400, "INVALID_REQUEST", "out_refund_no already used");
    }
    let refund_id = format!("5030{:024}", rand::random::<u64>());
    let status = if s.fail_refunds { "ABNORMAL" } else { "SUCCESS" };
    s.refunds.push(StandInRefund {
        out_refund_no: out_refund_no.clone(),
        refund_id: refund_id.clone(),
        out_trade_no: order.out_trade_no.clone(),
        amount: refund,
        status: status.into(),
    });
    let mut notice = json!({
        "out_trade_no": order.out_trade_no, "transaction_id": tx,
        "out_refund_no": out_refund_no, "refund_id": refund_id, "refund_status": status,
        "user_received_account": "支付用户零钱", "amount": {"total": total, "refund": refund, "payer_total": total, "payer_refund": refund},
    });
    if order.direct {
        notice["mchid"] = json!(order.mchid);
    } else {
        notice["sp_mchid"] = json!(s.config.sp_mchid);
        notice["sub_mchid"] = json!(order.sub_mchid);
    }
    let url = b["notify_url"].as_str().unwrap_or(&order.notify_url).to_string();
    let answer_body = json!({"refund_id": refund_id, "out_refund_no": out_refund_no, "transaction_id": tx, "out_trade_no": order.out_trade_no,
        "status": "PROCESSING", "amount": {"total": total, "refund": refund, "currency": "CNY"}});
    let response = answer(&s, &caller, actix_web::http::StatusCode::OK, answer_body);
    let event = if status == "SUCCESS" { "REFUND.SUCCESS" } else { "REFUND.ABNORMAL" };
    let scale = s.config.time_scale;
    let silent = s.silent_refunds;
    drop(s);
    if silent {
        return response;
    }
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        for wait in std::iter::once(1).chain(RETRY_SCHEDULE_S) {
            tokio::time::sleep(std::time::Duration::from_secs_f64(wait as f64 * scale)).await;
            let (headers, body) = {
                let s = lock(&shared);
                let nonce = format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
                let Ok(resource) =
                    wechatpay::encrypt(s.api_v3_key_of(&caller).as_bytes(), "refund", "refund", &nonce, notice.to_string().as_bytes())
                else {
                    return;
                };
                let body = json!({"id": uuid::Uuid::new_v4().to_string(), "create_time": chrono::Utc::now().to_rfc3339(), "resource_type": "encrypt-resource",
                    "event_type": event, "summary": "退款", "resource": resource}).to_string().into_bytes();
                (signed_headers(s.wechat_for(&caller), &body, chrono::Utc::now().timestamp()), body)
            };
            let mut r = client.post(&url).header("Content-Type", "application/json").body(body);
            for (k, v) in headers {
                r = r.header(k, v);
            }
            let code = r.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
            if code == 200 || code == 204 {
                return;
            }
        }
    });
    response
}

#[derive(serde::Deserialize)]
struct BillQuery {
    bill_date: String,
    sub_mchid: Option<String>,
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, (fen % 100).abs())
}

/// `GET /v3/bill/tradebill`: the day's paid orders (all days alike here) of a sub-merchant as
/// a CSV of backtick-prefixed fields, announced with its SHA1 and a download token.
async fn tradebill(state: Shared, req: HttpRequest, q: web::Query<BillQuery>) -> HttpResponse {
    use sha1::Digest;
    let mut s = lock(&state);
    let caller = match check_request(&s, &req, b"") {
        Ok(c) => c,
        Err(r) => return *r,
    };
    if chrono::NaiveDate::parse_from_str(&q.bill_date, "%Y-%m-%d").is_err() {
        return error(&s, 400, "PARAM_ERROR", "bill_date");
    }
    let header = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
    let mut csv = format!("\u{feff}{header}\r\n");
    let mut rows = 0;
    let mut total = 0;
    let direct = s.direct.contains_key(&caller);
    let wanted = |sub: &str| if direct { sub == caller } else { q.sub_mchid.as_deref().is_none_or(|w| w == sub) };
    // (sub-merchant, transaction, order, billed fen, refund: (WeChat's number, ours, fen)).
    type Line = (String, String, String, i64, Option<(String, String, i64)>);
    let mut lines: Vec<Line> = s
        .orders
        .values()
        .filter(|o| o.state == "SUCCESS" && o.mchid == caller && wanted(&o.sub_mchid))
        .map(|o| {
            (
                o.sub_mchid.clone(),
                o.transaction_id.clone().unwrap_or_default(),
                o.out_trade_no.clone(),
                *s.bill_amounts.get(&o.out_trade_no).unwrap_or(&o.total),
                None,
            )
        })
        .collect();
    for r in s.refunds.iter().filter(|r| r.status == "SUCCESS") {
        if let Some(o) = s.orders.get(&r.out_trade_no).filter(|o| o.mchid == caller && wanted(&o.sub_mchid)) {
            let refund = Some((r.refund_id.clone(), r.out_refund_no.clone(), r.amount));
            lines.push((o.sub_mchid.clone(), o.transaction_id.clone().unwrap_or_default(), o.out_trade_no.clone(), o.total, refund));
        }
    }
    for (sub, no, fen) in s.extra_rows.iter().filter(|(sub, _, _)| wanted(sub)) {
        lines.push((sub.clone(), format!("4200{:024}", rand::random::<u64>()), no.clone(), *fen, None));
    }
    lines.sort();
    let mut refunded = 0;
    for (sub, tx, no, fen, refund) in lines {
        let (refund_id, out_refund_no, refund_fen) = refund.clone().unwrap_or_else(|| ("0".into(), "0".into(), 0));
        refunded += refund_fen;
        let f = [
            format!("{} 10:00:00", q.bill_date),
            s.direct.get(&caller).map(|d| d.appid.clone()).unwrap_or_else(|| s.config.sp_appid.clone()),
            caller.clone(),
            if direct { String::new() } else { sub },
            String::new(),
            tx,
            no,
            "o-user".into(),
            "JSAPI".into(),
            if refund.is_some() { "REFUND" } else { "SUCCESS" }.into(),
            "OTHERS".into(),
            "CNY".into(),
            yuan(fen),
            "0.00".into(),
            refund_id,
            out_refund_no,
            yuan(refund_fen),
            "0.00".into(),
            if refund.is_some() { "ORIGINAL" } else { "" }.into(),
            if refund.is_some() { "SUCCESS" } else { "" }.into(),
            "电费充值".into(),
            String::new(),
            "0.00000".into(),
            "0.60%".into(),
            yuan(fen),
            yuan(refund_fen),
            String::new(),
        ];
        csv += &f.iter().map(|x| format!("`{x}")).collect::<Vec<_>>().join(",");
        csv += "\r\n";
        rows += 1;
        if refund.is_none() {
            total += fen;
        }
    }
    csv += "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n";
    csv += &format!("`{rows},`{},`{},`0.00,`0.00000,`{},`{}\r\n", yuan(total), yuan(refunded), yuan(total), yuan(refunded));
    let bytes = csv.into_bytes();
    let hash = hex::encode(sha1::Sha1::digest(&bytes));
    let token = format!("{:032x}", rand::random::<u128>());
    s.files.insert(token.clone(), bytes);
    let host = req.connection_info().host().to_string();
    answer(
        &s,
        &caller,
        actix_web::http::StatusCode::OK,
        json!({"hash_type": "SHA1", "hash_value": hash, "download_url": format!("http://{host}/v3/billdownload/file?token={token}")}),
    )
}

/// `GET /v3/certificates`: the calling merchant's platform certificates, each encrypted
/// with its APIv3 key (associated data `certificate`), the answer signed as any other.
async fn certificates(state: Shared, req: HttpRequest) -> HttpResponse {
    let s = lock(&state);
    let caller = match check_request(&s, &req, b"") {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let mut data = Vec::new();
    for (serial, pem) in s.certificates.get(&caller).into_iter().flatten() {
        let nonce = format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
        let Ok(resource) = wechatpay::encrypt(s.api_v3_key_of(&caller).as_bytes(), "certificate", "certificate", &nonce, pem.as_bytes())
        else {
            return error(&s, 500, "SYSTEM_ERROR", "encryption failed");
        };
        let validity = wechatpay::PlatformCertificate::parse(pem).ok();
        let time = |t: Option<i64>| {
            t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .map(|t| t.with_timezone(&chrono_tz::Asia::Shanghai).to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
        };
        data.push(json!({"serial_no": serial, "effective_time": time(validity.as_ref().map(|v| v.not_before)),
            "expire_time": time(validity.as_ref().map(|v| v.not_after)), "encrypt_certificate": resource}));
    }
    answer(&s, &caller, actix_web::http::StatusCode::OK, json!({"data": data}))
}

#[derive(serde::Deserialize)]
struct FileQuery {
    token: String,
}

/// The bill file: requested with a signature, answered unsigned (as WeChat does).
async fn billfile(state: Shared, req: HttpRequest, q: web::Query<FileQuery>) -> HttpResponse {
    let s = lock(&state);
    if let Err(r) = check_request(&s, &req, b"") {
        return *r;
    }
    match s.files.get(&q.token) {
        Some(bytes) => HttpResponse::Ok().content_type("text/csv; charset=utf-8").body(bytes.clone()),
        None => error(&s, 404, "RESOURCE_NOT_EXISTS", "no such file"),
    }
}

#[derive(serde::Deserialize)]
struct PayQuery {
    out_trade_no: String,
}

/// `POST /standin/pay?out_trade_no=…` (the stand-in's own helper, no WeChat counterpart):
/// the user pays the order; the notification follows.
async fn play_user(me: web::Data<std::sync::OnceLock<WechatPayStandIn>>, q: web::Query<PayQuery>) -> HttpResponse {
    match me.get() {
        Some(s) if s.pay(&q.out_trade_no) => HttpResponse::Ok().json(json!({"paid": q.out_trade_no})),
        _ => HttpResponse::NotFound().json(json!({"code": "ORDER_NOT_EXIST", "message": "no unpaid order with this number"})),
    }
}

/// `GET /v3/refund/domestic/refunds/{out_refund_no}`: a refund's status.
async fn refund_query(state: Shared, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let s = lock(&state);
    let caller = match check_request(&s, &req, b"") {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let mine = |r: &&StandInRefund| s.orders.get(&r.out_trade_no).is_some_and(|o| o.mchid == caller);
    match s.refunds.iter().filter(mine).find(|r| r.out_refund_no == path.as_str()) {
        None => error(&s, 404, "RESOURCE_NOT_EXISTS", "no such refund"),
        Some(r) => answer(
            &s,
            &caller,
            actix_web::http::StatusCode::OK,
            json!({"refund_id": r.refund_id, "out_refund_no": r.out_refund_no, "out_trade_no": r.out_trade_no, "status": r.status}),
        ),
    }
}
