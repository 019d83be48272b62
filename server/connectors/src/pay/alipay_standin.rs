//! A local Alipay open-platform gateway for the demo and the tests. It checks every call's
//! RSA2 signature with the calling app's public key (unsigned `error_response` with
//! `isv.invalid-signature` otherwise, as Alipay answers), signs each `…_response` node with
//! its own key, keeps trades (precreate → the payer scans and pays → query, close, refund,
//! refund query), and posts signed `trade_status_sync` notifications to the trade's
//! `notify_url` on Alipay's retry schedule until the answer is exactly `success`. Trade bills
//! (`alipay.data.dataservice.bill.downloadurl.query`) are zips of GBK CSV files behind a
//! short-lived link, as Alipay serves them; unlike Alipay it also serves today's.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use super::alipay::{sign_content, yuan, yuan_to_fen};
use super::wechatpay::{self, KeyRing, MerchantSigner};

/// Alipay's notification retries, in seconds after the first try (4 m … 15 h, ~25 h in all).
pub const RETRY_SCHEDULE_S: [u64; 7] = [240, 600, 600, 3600, 7200, 21600, 54000];

#[derive(Debug, Clone)]
pub struct StandInTrade {
    pub out_trade_no: String,
    pub app_id: String,
    pub total: i64,
    pub notify_url: String,
    /// PRECREATED (not scanned: unknown to queries), TRADE_SUCCESS, TRADE_CLOSED.
    pub status: String,
    pub trade_no: Option<String>,
    /// When the payer paid (Beijing time, `yyyy-MM-dd HH:mm:ss`).
    pub paid_at: Option<String>,
    /// (out_request_no, fen).
    pub refunds: Vec<(String, i64)>,
}

struct StandInApp {
    seller_id: String,
    key: KeyRing,
}

struct State {
    apps: HashMap<String, StandInApp>,
    alipay: MerchantSigner,
    trades: HashMap<String, StandInTrade>,
    /// (out_trade_no, what our server answered).
    deliveries: Vec<(String, String)>,
    fail_refunds: bool,
    time_scale: f64,
    /// out_request_no -> when the refund was made (Beijing time).
    refunded_at: HashMap<String, String>,
    /// Planted in the bills: out_trade_no -> the amount billed (fen).
    bill_amounts: HashMap<String, i64>,
    /// Planted in the bills: (app_id, out_trade_no, fen) payments no order explains.
    extra_rows: Vec<(String, String, i64)>,
    /// The secret of this run's bill links.
    bill_token: String,
}

#[derive(Clone)]
pub struct AlipayStandIn {
    /// `http://127.0.0.1:port/gateway.do`.
    pub gateway: String,
    /// Alipay's public key (SPKI PEM) apps verify with.
    pub alipay_public_pem: String,
    state: Arc<Mutex<State>>,
    server: actix_web::dev::ServerHandle,
}

fn lock(s: &Arc<Mutex<State>>) -> std::sync::MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

impl AlipayStandIn {
    /// `time_scale`: one second of Alipay's retry schedule lasts this long here.
    pub fn start(listen: std::net::SocketAddr, time_scale: f64) -> Result<Self, String> {
        let (private, public) = wechatpay::generate_key_pair().map_err(|e| e.to_string())?;
        let alipay = MerchantSigner::from_pem("alipay", "", &private).map_err(|e| e.to_string())?;
        let state = Arc::new(Mutex::new(State {
            apps: HashMap::new(),
            alipay,
            trades: HashMap::new(),
            deliveries: Vec::new(),
            fail_refunds: false,
            time_scale,
            refunded_at: HashMap::new(),
            bill_amounts: HashMap::new(),
            extra_rows: Vec::new(),
            bill_token: format!("{:032x}", rand::random::<u128>()),
        }));
        let data = web::Data::new(state.clone());
        let me: web::Data<std::sync::OnceLock<AlipayStandIn>> = web::Data::new(std::sync::OnceLock::new());
        let me_for_app = me.clone();
        let listener = std::net::TcpListener::bind(listen).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(me_for_app.clone())
                .route("/gateway.do", web::post().to(gateway))
                // `alipay.trade.wap.pay` is a page the payer's browser opens.
                .route("/gateway.do", web::get().to(gateway))
                .route("/standin/alipay/pay", web::post().to(play_payer))
                .route("/standin/alipay/wap-pay", web::post().to(wap_pay))
                .route("/standin/alipay/bill", web::get().to(bill_file))
        })
        .workers(1)
        .listen(listener)
        .map_err(|e| e.to_string())?
        .disable_signals()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        let standin = Self { gateway: format!("http://{addr}/gateway.do"), alipay_public_pem: public, state, server: handle };
        let _ = me.set(standin.clone());
        Ok(standin)
    }

    /// Registers an app: its id, the seller it pays, and its public key (to check our calls).
    pub fn add_app(&self, app_id: &str, seller_id: &str, app_public_pem: &str) -> Result<(), String> {
        let mut key = KeyRing::default();
        key.add_pem(app_id, app_public_pem).map_err(|e| e.to_string())?;
        lock(&self.state).apps.insert(app_id.into(), StandInApp { seller_id: seller_id.into(), key });
        Ok(())
    }

    pub fn trade(&self, out_trade_no: &str) -> Option<StandInTrade> {
        lock(&self.state).trades.get(out_trade_no).cloned()
    }

    pub fn deliveries(&self) -> Vec<(String, String)> {
        lock(&self.state).deliveries.clone()
    }

    /// Bills this trade with another amount (a planted mismatch).
    pub fn bill_amount(&self, out_trade_no: &str, fen: i64) {
        lock(&self.state).bill_amounts.insert(out_trade_no.into(), fen);
    }

    /// Adds a payment to the app's bills that no order of ours explains.
    pub fn bill_extra(&self, app_id: &str, out_trade_no: &str, fen: i64) {
        lock(&self.state).extra_rows.push((app_id.into(), out_trade_no.into(), fen));
    }

    /// Takes the planted changes out of the bills again.
    pub fn clear_bill_plants(&self) {
        let mut s = lock(&self.state);
        s.bill_amounts.clear();
        s.extra_rows.clear();
    }

    /// From now on refunds are refused (ACQ.SELLER_BALANCE_NOT_ENOUGH).
    pub fn fail_refunds(&self, fail: bool) {
        lock(&self.state).fail_refunds = fail;
    }

    /// The signed notification of a paid trade as form parameters; `alter` changes them
    /// before signing (a correctly signed notification about something else).
    pub fn notification(&self, out_trade_no: &str, alter: impl FnOnce(&mut BTreeMap<String, String>)) -> Option<Vec<(String, String)>> {
        let s = lock(&self.state);
        let t = s.trades.get(out_trade_no)?;
        let seller = s.apps.get(&t.app_id).map(|a| a.seller_id.clone()).unwrap_or_default();
        let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M:%S").to_string();
        let mut p: BTreeMap<String, String> = [
            ("notify_time", now.clone()),
            ("notify_type", "trade_status_sync".into()),
            ("notify_id", notify_id_of(out_trade_no)),
            ("app_id", t.app_id.clone()),
            ("charset", "utf-8".into()),
            ("version", "1.0".into()),
            ("sign_type", "RSA2".into()),
            ("trade_no", t.trade_no.clone().unwrap_or_default()),
            ("out_trade_no", t.out_trade_no.clone()),
            ("buyer_id", "2088102177846880".into()),
            ("seller_id", seller),
            ("trade_status", t.status.clone()),
            ("total_amount", yuan(t.total)),
            ("receipt_amount", yuan(t.total)),
            ("buyer_pay_amount", yuan(t.total)),
            ("subject", "电费充值".into()),
            ("gmt_create", now.clone()),
            ("gmt_payment", t.paid_at.clone().unwrap_or(now)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        alter(&mut p);
        let content = sign_content(p.iter().map(|(k, v)| (k.as_str(), v.as_str())), true);
        let sign = s.alipay.sign(content.as_bytes()).ok()?;
        p.insert("sign".into(), sign);
        Some(p.into_iter().collect())
    }

    /// Plays the payer: scans and pays the trade, without the notification yet.
    pub fn pay_silently(&self, out_trade_no: &str) -> bool {
        let mut s = lock(&self.state);
        let Some(t) = s.trades.get_mut(out_trade_no) else { return false };
        if t.status != "PRECREATED" {
            return false;
        }
        t.status = "TRADE_SUCCESS".into();
        t.paid_at = Some(chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M:%S").to_string());
        t.trade_no = Some(format!("{}22001{:018}", chrono::Utc::now().format("%Y%m%d"), rand::random::<u64>() % 1_000_000_000_000_000_000));
        true
    }

    /// Plays the payer, then notifies on Alipay's schedule until the answer is `success`.
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
            match s.trades.get(out_trade_no) {
                Some(t) => (t.notify_url.clone(), s.time_scale),
                None => return,
            }
        };
        let client = reqwest::Client::new();
        let mut waited = 0;
        for at in std::iter::once(0).chain(RETRY_SCHEDULE_S) {
            tokio::time::sleep(std::time::Duration::from_secs_f64((at - waited) as f64 * scale)).await;
            waited = at;
            let Some(params) = self.notification(out_trade_no, |_| {}) else { return };
            let Ok(form) = serde_urlencoded::to_string(&params) else { return };
            let answer = match client
                .post(&url)
                .header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
                .body(form)
                .send()
                .await
            {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            lock(&self.state).deliveries.push((out_trade_no.to_string(), answer.clone()));
            if answer == "success" {
                return;
            }
        }
    }

    pub async fn stop(&self) {
        self.server.stop(false).await;
    }
}

/// A stable per-trade notification id (Alipay keeps `notify_id` across retries).
fn notify_id_of(out_trade_no: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(out_trade_no.as_bytes())[..16])
}

/// An answer: the method's node signed over its exact text.
fn signed(s: &State, method: &str, node: Value) -> HttpResponse {
    let node = node.to_string();
    let sign = s.alipay.sign(node.as_bytes()).unwrap_or_default();
    let name = format!("{}_response", method.replace('.', "_"));
    HttpResponse::Ok()
        .content_type("application/json;charset=utf-8")
        .body(format!("{{\"{name}\":{node},\"sign\":{}}}", Value::String(sign)))
}

fn business_failure(s: &State, method: &str, sub_code: &str, sub_msg: &str) -> HttpResponse {
    signed(s, method, json!({"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg}))
}

fn gateway_error(code: &str, msg: &str, sub_code: &str, sub_msg: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json;charset=utf-8")
        .json(json!({"error_response": {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}}))
}

type Shared = web::Data<Arc<Mutex<State>>>;

async fn gateway(state: Shared, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let mut params: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    match serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) {
        Ok(p) => params.extend(p),
        Err(_) => return gateway_error("40002", "Invalid Arguments", "isv.invalid-parameter", "表单无法解析"),
    }
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let (app_id, method) = (get("app_id"), get("method"));
    let mut s = lock(&state);
    let Some(app) = s.apps.get(&app_id) else {
        return gateway_error("40002", "Invalid Arguments", "isv.invalid-app-id", "无效的AppID参数");
    };
    if get("sign_type") != "RSA2" || get("charset") != "utf-8" || get("version") != "1.0" {
        return gateway_error("40002", "Invalid Arguments", "isv.invalid-signature-type", "sign_type, charset or version");
    }
    let content = sign_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), false);
    if app.key.verify_raw(&app_id, content.as_bytes(), &get("sign")).is_err() {
        return gateway_error("40002", "Invalid Arguments", "isv.invalid-signature", "验签出错");
    }
    let stamp = chrono::NaiveDateTime::parse_from_str(&get("timestamp"), "%Y-%m-%d %H:%M:%S").ok();
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).naive_local();
    if stamp.is_none_or(|t| (now - t).num_minutes().abs() > 30) {
        return gateway_error("40002", "Invalid Arguments", "isv.invalid-timestamp", "非法的时间戳参数");
    }
    let Ok(biz) = serde_json::from_str::<Value>(&get("biz_content")) else {
        return gateway_error("40002", "Invalid Arguments", "isv.missing-biz-content", "biz_content");
    };
    let no = biz["out_trade_no"].as_str().unwrap_or("").to_string();
    match method.as_str() {
        "alipay.trade.wap.pay" => {
            let fen = biz["total_amount"].as_str().and_then(|a| yuan_to_fen(a).ok()).unwrap_or(0);
            let (notify_url, return_url) = (get("notify_url"), get("return_url"));
            let subject = biz["subject"].as_str().unwrap_or("").to_string();
            let page = |status: u16, text: &str| {
                HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
                    .content_type("text/html; charset=utf-8")
                    .body(format!("<!doctype html><meta charset=utf-8><p id=error>{}</p>", html_escape(text)))
            };
            if no.is_empty() || no.len() > 64 || !(1..=10_000_000_000).contains(&fen) || subject.is_empty() {
                return page(400, "ACQ.INVALID_PARAMETER 参数无效");
            }
            if biz["product_code"].as_str() != Some("QUICK_WAP_WAY") {
                return page(400, "ACQ.INVALID_PARAMETER product_code");
            }
            if !notify_url.starts_with("http") || !(return_url.starts_with("http://") || return_url.starts_with("https://")) {
                return page(400, "ACQ.INVALID_PARAMETER notify_url or return_url");
            }
            match s.trades.get(&no) {
                Some(t) if t.total != fen || t.app_id != app_id => return page(400, "ACQ.TRADE_HAS_SUCCESS 交易已存在"),
                Some(t) if t.status != "PRECREATED" => return page(409, "ACQ.TRADE_HAS_SUCCESS 交易已支付"),
                _ => {}
            }
            s.trades.insert(
                no.clone(),
                StandInTrade {
                    out_trade_no: no.clone(),
                    app_id: app_id.clone(),
                    total: fen,
                    notify_url,
                    status: "PRECREATED".into(),
                    trade_no: None,
                    paid_at: None,
                    refunds: Vec::new(),
                },
            );
            let body = format!(
                "<!doctype html><html lang=zh><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\">\
                 <title>支付宝收银台</title><style>body{{font-family:sans-serif;margin:2em 1em}}.amount{{font-size:2em;margin:.5em 0}}\
                 button{{font-size:1.2em;padding:.7em;width:100%;background:#1677ff;color:#fff;border:0;border-radius:6px}}</style>\
                 <h3>支付宝 (stand-in)</h3><p id=subject>{subject}</p><p class=amount id=amount>¥{amount}</p>\
                 <form method=post action=\"/standin/alipay/wap-pay\"><input type=hidden name=out_trade_no value=\"{no}\">\
                 <input type=hidden name=return_url value=\"{ret}\"><button id=pay type=submit>确认付款 Pay</button></form></html>",
                subject = html_escape(&subject),
                amount = yuan(fen),
                no = html_escape(&no),
                ret = html_escape(&return_url)
            );
            HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body)
        }
        "alipay.trade.precreate" => {
            let fen = biz["total_amount"].as_str().and_then(|a| yuan_to_fen(a).ok()).unwrap_or(0);
            let notify_url = get("notify_url");
            if no.is_empty() || no.len() > 64 || !(1..=10_000_000_000).contains(&fen) || biz["subject"].as_str().unwrap_or("").is_empty() {
                return business_failure(&s, &method, "ACQ.INVALID_PARAMETER", "参数无效");
            }
            if !notify_url.starts_with("http") {
                return business_failure(&s, &method, "ACQ.INVALID_PARAMETER", "notify_url");
            }
            if let Some(t) = s.trades.get(&no)
                && (t.total != fen || t.status != "PRECREATED")
            {
                return business_failure(&s, &method, "ACQ.TRADE_HAS_SUCCESS", "交易已存在");
            }
            s.trades.insert(
                no.clone(),
                StandInTrade {
                    out_trade_no: no.clone(),
                    app_id: app_id.clone(),
                    total: fen,
                    notify_url,
                    status: "PRECREATED".into(),
                    trade_no: None,
                    paid_at: None,
                    refunds: Vec::new(),
                },
            );
            let qr = format!("https://qr.alipay.com/bax0{:020x}", rand::random::<u64>());
            signed(&s, &method, json!({"code": "10000", "msg": "Success", "out_trade_no": no, "qr_code": qr}))
        }
        "alipay.trade.query" => match s.trades.get(&no).filter(|t| t.app_id == app_id && t.status != "PRECREATED") {
            None => business_failure(&s, &method, "ACQ.TRADE_NOT_EXIST", "交易不存在"),
            Some(t) => signed(
                &s,
                &method,
                json!({"code": "10000", "msg": "Success", "trade_no": t.trade_no, "out_trade_no": t.out_trade_no,
                    "buyer_logon_id": "159****5620", "trade_status": t.status, "total_amount": yuan(t.total), "send_pay_date": t.paid_at}),
            ),
        },
        "alipay.trade.close" => {
            let status = s.trades.get(&no).filter(|t| t.app_id == app_id).map(|t| t.status.clone());
            match status.as_deref() {
                None => business_failure(&s, &method, "ACQ.TRADE_NOT_EXIST", "交易不存在"),
                Some("TRADE_SUCCESS") => business_failure(&s, &method, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法"),
                Some(_) => {
                    if let Some(t) = s.trades.get_mut(&no) {
                        t.status = "TRADE_CLOSED".into();
                    }
                    signed(&s, &method, json!({"code": "10000", "msg": "Success", "out_trade_no": no}))
                }
            }
        }
        "alipay.trade.refund" => {
            let request = biz["out_request_no"].as_str().unwrap_or("").to_string();
            let fen = biz["refund_amount"].as_str().and_then(|a| yuan_to_fen(a).ok()).unwrap_or(0);
            let fail = s.fail_refunds;
            let st = &mut *s;
            let Some(t) = st.trades.get_mut(&no).filter(|t| t.app_id == app_id && t.status == "TRADE_SUCCESS") else {
                return business_failure(&s, &method, "ACQ.TRADE_NOT_EXIST", "交易不存在");
            };
            let repeated = t.refunds.iter().any(|(r, _)| *r == request);
            let refunded: i64 = t.refunds.iter().map(|(_, f)| f).sum();
            if !repeated {
                if fail {
                    return business_failure(&s, &method, "ACQ.SELLER_BALANCE_NOT_ENOUGH", "卖家余额不足");
                }
                if fen <= 0 || request.is_empty() || refunded + fen > t.total {
                    return business_failure(&s, &method, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限");
                }
                t.refunds.push((request.clone(), fen));
                let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M:%S").to_string();
                st.refunded_at.insert(request, now);
            }
            let total_refunded: i64 = t.refunds.iter().map(|(_, f)| f).sum();
            let node = json!({"code": "10000", "msg": "Success", "trade_no": t.trade_no, "out_trade_no": no,
                "fund_change": if repeated { "N" } else { "Y" }, "refund_fee": yuan(total_refunded)});
            signed(&s, &method, node)
        }
        "alipay.trade.fastpay.refund.query" => {
            let request = biz["out_request_no"].as_str().unwrap_or("");
            let found =
                s.trades.get(&no).filter(|t| t.app_id == app_id).and_then(|t| t.refunds.iter().find(|(r, _)| r == request).cloned());
            let node = match found {
                Some((r, fen)) => json!({"code": "10000", "msg": "Success", "out_trade_no": no, "out_request_no": r,
                    "refund_amount": yuan(fen), "refund_status": "REFUND_SUCCESS"}),
                None => json!({"code": "10000", "msg": "Success", "out_trade_no": no, "out_request_no": request}),
            };
            signed(&s, &method, node)
        }
        "alipay.data.dataservice.bill.downloadurl.query" => {
            let date = biz["bill_date"].as_str().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            match (biz["bill_type"].as_str(), date) {
                (Some("trade"), Some(date)) => {
                    let url = format!(
                        "http://{}/standin/alipay/bill?app_id={app_id}&bill_date={}&token={}",
                        req.connection_info().host(),
                        date.format("%Y-%m-%d"),
                        s.bill_token
                    );
                    signed(&s, &method, json!({"code": "10000", "msg": "Success", "bill_download_url": url}))
                }
                _ => business_failure(&s, &method, "isv.invalid-parameter", "bill_type or bill_date"),
            }
        }
        _ => gateway_error("40004", "Business Failed", "isv.invalid-method", "不存在的方法名"),
    }
}

#[derive(serde::Deserialize)]
struct BillQuery {
    app_id: String,
    bill_date: chrono::NaiveDate,
    token: String,
}

/// The file behind a bill link: a zip of the details and the totals, GBK like Alipay's.
async fn bill_file(state: Shared, q: web::Query<BillQuery>) -> HttpResponse {
    let s = lock(&state);
    let Some(app) = s.apps.get(&q.app_id).filter(|_| q.token == s.bill_token) else {
        return HttpResponse::NotFound().body("bill not found");
    };
    match bill_zip(&s, &q.app_id, &app.seller_id, q.bill_date) {
        Ok(zip) => HttpResponse::Ok().content_type("application/zip").body(zip),
        Err(e) => HttpResponse::InternalServerError().body(e),
    }
}

const BILL_HEADER: &str = "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,\
    订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,\
    商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注";

/// One details row of an Alipay bill; every field followed by a tab, as in Alipay's files.
struct BillRow<'a> {
    trade_no: &'a str,
    out_trade_no: &'a str,
    /// 交易 or 退款.
    kind: &'a str,
    created: &'a str,
    finished: &'a str,
    /// Yuan; negative for refunds.
    amount: &'a str,
    out_request_no: &'a str,
    fee: &'a str,
}

impl BillRow<'_> {
    fn line(&self) -> String {
        let zero = "0.00";
        [
            self.trade_no,
            self.out_trade_no,
            self.kind,
            "电费充值",
            self.created,
            self.finished,
            "",
            "",
            "",
            "",
            "159****5620",
            self.amount,
            self.amount,
            zero,
            zero,
            zero,
            zero,
            zero,
            "",
            zero,
            zero,
            self.out_request_no,
            self.fee,
            zero,
            "",
        ]
        .iter()
        .map(|f| format!("{f}\t"))
        .collect::<Vec<_>>()
        .join(",")
    }
}

fn bill_zip(s: &State, app_id: &str, seller_id: &str, date: chrono::NaiveDate) -> Result<Vec<u8>, String> {
    use std::io::Write;
    let day = date.format("%Y-%m-%d").to_string();
    let on_day = |at: &Option<String>| at.as_deref().is_some_and(|a| a.starts_with(&day));
    let (mut rows, mut paid, mut refunded) = (Vec::new(), 0usize, 0usize);
    let mut trades: Vec<&StandInTrade> = s.trades.values().filter(|t| t.app_id == app_id).collect();
    trades.sort_by(|a, b| a.paid_at.cmp(&b.paid_at));
    for t in trades {
        let trade_no = t.trade_no.clone().unwrap_or_default();
        let paid_at = t.paid_at.clone().unwrap_or_default();
        let row = |kind: &str, finished: &str, amount: &str, out_request_no: &str, fee: &str| -> String {
            BillRow { trade_no: &trade_no, out_trade_no: &t.out_trade_no, kind, created: &paid_at, finished, amount, out_request_no, fee }
                .line()
        };
        if on_day(&t.paid_at) {
            let amount = yuan(s.bill_amounts.get(&t.out_trade_no).copied().unwrap_or(t.total));
            rows.push(row("交易", &paid_at, &amount, "", &yuan(t.total * 6 / 1000)));
            paid += 1;
        }
        for (request, fen) in &t.refunds {
            let at = s.refunded_at.get(request).cloned();
            if on_day(&at) {
                rows.push(row("退款", &at.unwrap_or_default(), &format!("-{}", yuan(*fen)), request, "0.00"));
                refunded += 1;
            }
        }
    }
    for (i, (_, out_trade_no, fen)) in s.extra_rows.iter().filter(|(a, _, _)| a == app_id).enumerate() {
        let (at, amount) = (format!("{day} 12:00:00"), yuan(*fen));
        let trade_no = format!("{}22001400000000{i:04}", date.format("%Y%m%d"));
        let line = BillRow {
            trade_no: &trade_no,
            out_trade_no,
            kind: "交易",
            created: &at,
            finished: &at,
            amount: &amount,
            out_request_no: "",
            fee: "0.00",
        };
        rows.push(line.line());
        paid += 1;
    }
    let stamp = date.format("%Y%m%d");
    let next = date.succ_opt().unwrap_or(date).format("%Y年%m月%d日");
    let details = format!(
        "#支付宝业务明细查询\r\n#账号：[{seller_id}0156]\r\n#起始日期：[{} 00:00:00]   终止日期：[{next} 00:00:00]\r\n\
         #-----------------------------------------业务明细列表----------------------------------------\r\n{BILL_HEADER}\r\n{}\r\n\
         #-----------------------------------------业务明细列表结束------------------------------------\r\n\
         #交易合计：{paid}笔，退款合计：{refunded}笔\r\n#导出时间：[{} 09:00:00]\r\n",
        date.format("%Y年%m月%d日"),
        rows.join("\r\n"),
        next
    );
    let totals = format!(
        "#支付宝业务汇总查询\r\n#账号：[{seller_id}0156]\r\n门店编号,门店名称,交易订单总笔数,退款订单总笔数\r\n合计,,{paid},{refunded}\r\n#导出时间：[{next} 09:00:00]\r\n"
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in
        [(format!("{seller_id}0156_{stamp}_业务明细.csv"), details), (format!("{seller_id}0156_{stamp}_业务明细(汇总).csv"), totals)]
    {
        zip.start_file(name, options).map_err(|e| e.to_string())?;
        zip.write_all(&encoding_rs::GBK.encode(&text).0).map_err(|e| e.to_string())?;
    }
    zip.finish().map(|c| c.into_inner()).map_err(|e| e.to_string())
}

#[derive(serde::Deserialize)]
struct PayQuery {
    out_trade_no: String,
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[derive(serde::Deserialize)]
struct WapPayForm {
    out_trade_no: String,
    return_url: String,
}

/// The cashier's pay button: the payer pays, the notification follows, and the browser goes
/// back to `return_url` with the signed synchronous return Alipay appends.
async fn wap_pay(me: web::Data<std::sync::OnceLock<AlipayStandIn>>, form: web::Form<WapPayForm>) -> HttpResponse {
    let Some(standin) = me.get() else { return HttpResponse::ServiceUnavailable().finish() };
    if !(form.return_url.starts_with("http://") || form.return_url.starts_with("https://")) || !standin.pay(&form.out_trade_no) {
        return HttpResponse::NotFound()
            .content_type("text/html; charset=utf-8")
            .body("<!doctype html><meta charset=utf-8><p id=error>ACQ.TRADE_NOT_EXIST 交易不存在或已支付</p>");
    }
    let s = lock(&standin.state);
    let Some(t) = s.trades.get(&form.out_trade_no) else { return HttpResponse::NotFound().finish() };
    let seller = s.apps.get(&t.app_id).map(|a| a.seller_id.clone()).unwrap_or_default();
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M:%S").to_string();
    let mut p: Vec<(String, String)> = [
        ("charset", "utf-8".to_string()),
        ("out_trade_no", t.out_trade_no.clone()),
        ("method", "alipay.trade.wap.pay.return".into()),
        ("total_amount", yuan(t.total)),
        ("trade_no", t.trade_no.clone().unwrap_or_default()),
        ("auth_app_id", t.app_id.clone()),
        ("version", "1.0".into()),
        ("app_id", t.app_id.clone()),
        ("sign_type", "RSA2".into()),
        ("seller_id", seller),
        ("timestamp", now),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    p.sort();
    let content = sign_content(p.iter().map(|(k, v)| (k.as_str(), v.as_str())), true);
    if let Ok(sign) = s.alipay.sign(content.as_bytes()) {
        p.push(("sign".into(), sign));
    }
    let query = serde_urlencoded::to_string(&p).unwrap_or_default();
    let sep = if form.return_url.contains('?') { '&' } else { '?' };
    HttpResponse::Found().insert_header(("Location", format!("{}{sep}{query}", form.return_url))).finish()
}

/// `POST /standin/alipay/pay?out_trade_no=…` (the stand-in's own helper): the payer scans
/// and pays; the notification follows.
async fn play_payer(me: web::Data<std::sync::OnceLock<AlipayStandIn>>, q: web::Query<PayQuery>) -> HttpResponse {
    match me.get() {
        Some(s) if s.pay(&q.out_trade_no) => HttpResponse::Ok().json(json!({"paid": q.out_trade_no})),
        _ => HttpResponse::NotFound().json(json!({"code": "ACQ.TRADE_NOT_EXIST", "message": "no unpaid trade with this number"})),
    }
}
