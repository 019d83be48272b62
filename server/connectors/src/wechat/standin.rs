//! A local WeChat for the demo and the tests. It knows apps (AppID and secret), hands out
//! single-use login and phone codes that expire after five minutes, issues access tokens
//! through `stable_token`, and answers with WeChat's own shapes and error codes (`40029`
//! invalid code, `40125` invalid secret, `40001` invalid access token, `40013` invalid AppID),
//! web authorization of official accounts (`/connect/oauth2/authorize`: a page where the
//! user allows, then the redirect with a code; `/sns/oauth2/access_token`), and delivers
//! subscription messages only against accepted one-time subscriptions (`43101`
//! otherwise) with values that keep WeChat's rules (`47003` otherwise).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use serde::Deserialize;
use serde_json::json;

const CODE_LIFETIME: Duration = Duration::from_secs(300);

#[derive(Default)]
struct State {
    /// AppID -> secret.
    apps: HashMap<String, String>,
    /// Login code -> (AppID, openid, issued).
    login_codes: HashMap<String, (String, String, Instant)>,
    /// Web authorization code (official accounts) -> (AppID, openid, issued).
    oauth_codes: HashMap<String, (String, String, Instant)>,
    /// Phone code -> (AppID, phone, issued).
    phone_codes: HashMap<String, (String, String, Instant)>,
    /// Access token -> AppID.
    tokens: HashMap<String, String>,
    /// Openids this WeChat has seen (from login codes).
    openids: std::collections::HashSet<String>,
    /// (openid, template id) -> one-time subscriptions accepted and not yet used.
    quotas: HashMap<(String, String), u32>,
    /// Subscription messages delivered.
    delivered: Vec<SubscribeMessage>,
}

/// A subscription message the stand-in delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeMessage {
    pub app_id: String,
    pub openid: String,
    pub template_id: String,
    pub page: Option<String>,
    /// (key, value) pairs of `data`.
    pub data: Vec<(String, String)>,
}

#[derive(Clone)]
pub struct WechatStandIn {
    /// `http://127.0.0.1:port`, the `api_base` to configure.
    pub base: String,
    state: Arc<Mutex<State>>,
    server: actix_web::dev::ServerHandle,
}

fn code() -> String {
    format!("{:032x}", rand::random::<u128>())
}

impl WechatStandIn {
    pub fn start(listen: std::net::SocketAddr, apps: &[(&str, &str)]) -> std::io::Result<Self> {
        let state =
            Arc::new(Mutex::new(State { apps: apps.iter().map(|(a, s)| (a.to_string(), s.to_string())).collect(), ..State::default() }));
        let data = web::Data::new(state.clone());
        let listener = std::net::TcpListener::bind(listen)?;
        let addr = listener.local_addr()?;
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/sns/jscode2session", web::get().to(jscode2session))
                .route("/cgi-bin/stable_token", web::post().to(stable_token))
                .route("/wxa/business/getuserphonenumber", web::post().to(phone_number))
                .route("/cgi-bin/message/subscribe/send", web::post().to(subscribe_send))
                .route("/connect/oauth2/authorize", web::get().to(authorize_page))
                .route("/standin/oauth2/allow", web::get().to(authorize_allow))
                .route("/sns/oauth2/access_token", web::get().to(oauth_access_token))
                .route("/standin/login-code", web::get().to(mint_login_code))
                .route("/standin/phone-code", web::get().to(mint_phone_code))
        })
        .workers(1)
        .listen(listener)?
        .disable_signals()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Self { base: format!("http://{addr}"), state, server: handle })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What `wx.login()` would give the user `openid` of `app_id`.
    pub fn login_code(&self, app_id: &str, openid: &str) -> String {
        let c = code();
        let mut s = self.lock();
        s.openids.insert(openid.into());
        s.login_codes.insert(c.clone(), (app_id.into(), openid.into(), Instant::now()));
        c
    }

    /// Another app WeChat knows (an official account beside the mini-program).
    pub fn add_app(&self, app_id: &str, secret: &str) {
        self.lock().apps.insert(app_id.into(), secret.into());
    }

    /// What the redirect of `/connect/oauth2/authorize` would carry for the user `openid`
    /// of the official account `app_id`.
    pub fn oauth_code(&self, app_id: &str, openid: &str) -> String {
        let c = code();
        let mut s = self.lock();
        s.openids.insert(openid.into());
        s.oauth_codes.insert(c.clone(), (app_id.into(), openid.into(), Instant::now()));
        c
    }

    /// The user tapped "allow" for a one-time subscription to `template_id`.
    pub fn accept_subscription(&self, openid: &str, template_id: &str) {
        *self.lock().quotas.entry((openid.into(), template_id.into())).or_default() += 1;
    }

    /// Messages delivered so far.
    pub fn delivered(&self) -> Vec<SubscribeMessage> {
        self.lock().delivered.clone()
    }

    /// What the `getPhoneNumber` button would give for a user whose phone is `phone`.
    pub fn phone_code(&self, app_id: &str, phone: &str) -> String {
        let c = code();
        self.lock().phone_codes.insert(c.clone(), (app_id.into(), phone.into(), Instant::now()));
        c
    }

    pub async fn stop(&self) {
        self.server.stop(false).await;
    }
}

type Shared = web::Data<Arc<Mutex<State>>>;

fn refuse(errcode: i64, errmsg: &str) -> HttpResponse {
    // WeChat answers errors with HTTP 200 and an errcode.
    HttpResponse::Ok().json(json!({"errcode": errcode, "errmsg": errmsg}))
}

#[derive(Deserialize)]
struct CodeQuery {
    appid: String,
    secret: String,
    js_code: String,
    grant_type: String,
}

async fn jscode2session(state: Shared, q: web::Query<CodeQuery>) -> HttpResponse {
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    if q.grant_type != "authorization_code" {
        return refuse(40002, "invalid grant_type");
    }
    match s.apps.get(&q.appid) {
        None => return refuse(40013, "invalid appid"),
        Some(secret) if *secret != q.secret => return refuse(40125, "invalid appsecret"),
        Some(_) => {}
    }
    // Single use: the code is gone whether or not it matches.
    match s.login_codes.remove(&q.js_code) {
        Some((app, openid, at)) if app == q.appid && at.elapsed() < CODE_LIFETIME => {
            let session_key = code();
            HttpResponse::Ok().json(json!({"openid": openid, "session_key": session_key}))
        }
        _ => refuse(40029, "invalid code"),
    }
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    appid: String,
    redirect_uri: String,
    response_type: String,
    scope: String,
    #[serde(default)]
    state: String,
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The redirect target must be an absolute http(s) URL (WeChat also checks its domain
/// against the account's settings; the stand-in takes any).
fn redirect_ok(uri: &str) -> bool {
    (uri.starts_with("https://") || uri.starts_with("http://")) && !uri.contains(['\r', '\n'])
}

/// `GET /connect/oauth2/authorize`: what WeChat shows inside its browser. For `snsapi_base`
/// WeChat redirects silently; the stand-in shows the user it plays (an openid to edit) and an
/// "allow" button, so a test or a person chooses who signs in.
async fn authorize_page(state: Shared, q: web::Query<AuthorizeQuery>) -> HttpResponse {
    let known = state.lock().unwrap_or_else(|p| p.into_inner()).apps.contains_key(&q.appid);
    if !known {
        return HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body("<p>10003 redirect_uri 域名与后台配置不一致 / invalid appid</p>");
    }
    if q.response_type != "code" || !matches!(q.scope.as_str(), "snsapi_base" | "snsapi_userinfo") || !redirect_ok(&q.redirect_uri) {
        return HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body("<p>10003 invalid request (response_type, scope or redirect_uri)</p>");
    }
    let body = format!(
        "<!doctype html><html lang=zh><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\">\
         <title>微信授权</title><style>body{{font-family:sans-serif;margin:2em 1em}}input,button{{font-size:1.1em;padding:.6em;width:100%;box-sizing:border-box;margin:.4em 0}}button{{background:#07c160;color:#fff;border:0;border-radius:6px}}</style>\
         <h3>微信登录 (stand-in)</h3><p>公众号 {app} 请求获取你的身份 / asks who you are</p>\
         <form action=\"/standin/oauth2/allow\" method=get>\
         <input type=hidden name=appid value=\"{app}\"><input type=hidden name=redirect_uri value=\"{uri}\"><input type=hidden name=state value=\"{st}\">\
         <label>openid <input name=openid id=openid value=\"o-oa-demo\"></label><button id=allow type=submit>允许 Allow</button></form></html>",
        app = html_escape(&q.appid),
        uri = html_escape(&q.redirect_uri),
        st = html_escape(&q.state)
    );
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body)
}

#[derive(Deserialize)]
struct AllowQuery {
    appid: String,
    redirect_uri: String,
    #[serde(default)]
    state: String,
    openid: String,
}

/// The user allowed: back to `redirect_uri` with `code` and `state`, as WeChat redirects.
async fn authorize_allow(state: Shared, q: web::Query<AllowQuery>) -> HttpResponse {
    if !redirect_ok(&q.redirect_uri) || q.openid.is_empty() || q.openid.len() > 64 {
        return HttpResponse::BadRequest().finish();
    }
    let c = code();
    {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        if !s.apps.contains_key(&q.appid) {
            return HttpResponse::BadRequest().finish();
        }
        s.openids.insert(q.openid.clone());
        s.oauth_codes.insert(c.clone(), (q.appid.clone(), q.openid.clone(), Instant::now()));
    }
    // The fragment stays after the query, as WeChat does it.
    let (base, fragment) = match q.redirect_uri.split_once('#') {
        Some((b, f)) => (b.to_string(), format!("#{f}")),
        None => (q.redirect_uri.clone(), String::new()),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    let query = serde_urlencoded::to_string([("code", c.as_str()), ("state", q.state.as_str())]).unwrap_or_default();
    HttpResponse::Found().insert_header(("Location", format!("{base}{sep}{query}{fragment}"))).finish()
}

#[derive(Deserialize)]
struct OauthTokenQuery {
    appid: String,
    secret: String,
    code: String,
    grant_type: String,
}

/// `GET /sns/oauth2/access_token`: code -> web access token and openid (the code works once
/// and for five minutes).
async fn oauth_access_token(state: Shared, q: web::Query<OauthTokenQuery>) -> HttpResponse {
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    if q.grant_type != "authorization_code" {
        return refuse(40002, "invalid grant_type");
    }
    match s.apps.get(&q.appid) {
        None => return refuse(40013, "invalid appid"),
        Some(secret) if *secret != q.secret => return refuse(40125, "invalid appsecret"),
        Some(_) => {}
    }
    match s.oauth_codes.remove(&q.code) {
        Some((app, openid, at)) if app == q.appid && at.elapsed() < CODE_LIFETIME => HttpResponse::Ok().json(json!({
            "access_token": code(), "expires_in": 7200, "refresh_token": code(), "openid": openid, "scope": "snsapi_base"
        })),
        _ => refuse(40029, "invalid code"),
    }
}

#[derive(Deserialize)]
struct TokenBody {
    grant_type: String,
    appid: String,
    secret: String,
}

async fn stable_token(state: Shared, body: web::Json<TokenBody>) -> HttpResponse {
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    if body.grant_type != "client_credential" {
        return refuse(40002, "invalid grant_type");
    }
    match s.apps.get(&body.appid) {
        Some(secret) if *secret == body.secret => {}
        Some(_) => return refuse(40125, "invalid appsecret"),
        None => return refuse(40013, "invalid appid"),
    }
    let existing = s.tokens.iter().find(|(_, app)| **app == body.appid).map(|(t, _)| t.clone());
    let token = existing.unwrap_or_else(|| {
        let t = format!("{}{}", code(), code());
        s.tokens.insert(t.clone(), body.appid.clone());
        t
    });
    HttpResponse::Ok().json(json!({"access_token": token, "expires_in": 7200}))
}

#[derive(Deserialize)]
struct TokenQuery {
    access_token: String,
}

#[derive(Deserialize)]
struct PhoneBody {
    code: String,
}

async fn phone_number(state: Shared, q: web::Query<TokenQuery>, body: web::Json<PhoneBody>) -> HttpResponse {
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    let Some(app) = s.tokens.get(&q.access_token).cloned() else {
        return refuse(40001, "invalid credential, access_token is invalid or not latest");
    };
    match s.phone_codes.remove(&body.code) {
        Some((code_app, phone, at)) if code_app == app && at.elapsed() < CODE_LIFETIME => HttpResponse::Ok().json(json!({
            "errcode": 0,
            "errmsg": "ok",
            "phone_info": {
                "phoneNumber": phone,
                "purePhoneNumber": phone,
                "countryCode": "86",
                "watermark": {"timestamp": chrono::Utc::now().timestamp(), "appid": app}
            }
        })),
        _ => refuse(40029, "invalid code"),
    }
}

#[derive(Deserialize)]
struct SubscribeBody {
    touser: String,
    template_id: String,
    page: Option<String>,
    data: serde_json::Map<String, serde_json::Value>,
}

/// WeChat's value rules by key prefix (the same table our sender fits values to, written
/// out again here as WeChat states them).
fn value_ok(key: &str, value: &str) -> bool {
    let stem = key.trim_end_matches(|c: char| c.is_ascii_digit());
    let n = value.chars().count();
    match stem {
        "thing" => n <= 20,
        "number" => n <= 32 && value.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-'),
        "letter" => n <= 32 && value.chars().all(|c| c.is_ascii_alphabetic()),
        "symbol" => n <= 5,
        "character_string" => n <= 32 && value.is_ascii(),
        "time" | "date" => n <= 40 && value.chars().any(|c| c.is_ascii_digit()),
        "amount" => {
            let digits = value.trim_start_matches(['¥', '$']).trim_end_matches('元');
            n <= 12 && digits.trim_start_matches('-').replace('.', "").chars().all(|c| c.is_ascii_digit())
        }
        "phone_number" => n <= 17,
        "car_number" => n <= 8,
        "name" => n <= 20,
        "phrase" => n <= 5,
        _ => false,
    }
}

async fn subscribe_send(state: Shared, q: web::Query<TokenQuery>, body: web::Json<SubscribeBody>) -> HttpResponse {
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    let Some(app) = s.tokens.get(&q.access_token).cloned() else {
        return refuse(40001, "invalid credential, access_token is invalid or not latest");
    };
    if !s.openids.contains(&body.touser) {
        return refuse(40003, "invalid openid");
    }
    let mut data = Vec::new();
    for (key, v) in &body.data {
        let value = v.get("value").and_then(|x| x.as_str()).unwrap_or_default();
        if !value_ok(key, value) {
            return refuse(47003, &format!("argument invalid! data.{key}.value invalid"));
        }
        data.push((key.clone(), value.to_string()));
    }
    let quota = s.quotas.entry((body.touser.clone(), body.template_id.clone())).or_default();
    if *quota == 0 {
        return refuse(43101, "user refuse to accept the msg");
    }
    *quota -= 1;
    let message =
        SubscribeMessage { app_id: app, openid: body.touser.clone(), template_id: body.template_id.clone(), page: body.page.clone(), data };
    s.delivered.push(message);
    HttpResponse::Ok().json(json!({"errcode": 0, "errmsg": "ok"}))
}

// ---- the stand-in's own helpers (no WeChat counterpart): what the phone would produce ----

#[derive(Deserialize)]
struct MintLogin {
    appid: String,
    openid: String,
}

/// `GET /standin/login-code?appid=…&openid=…`: the code `wx.login()` would give that user.
async fn mint_login_code(state: Shared, q: web::Query<MintLogin>) -> HttpResponse {
    let c = code();
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    s.openids.insert(q.openid.clone());
    s.login_codes.insert(c.clone(), (q.appid.clone(), q.openid.clone(), Instant::now()));
    HttpResponse::Ok().json(json!({"code": c}))
}

#[derive(Deserialize)]
struct MintPhone {
    appid: String,
    phone: String,
}

/// `GET /standin/phone-code?appid=…&phone=…`: the code the getPhoneNumber button would give.
async fn mint_phone_code(state: Shared, q: web::Query<MintPhone>) -> HttpResponse {
    let c = code();
    state.lock().unwrap_or_else(|p| p.into_inner()).phone_codes.insert(c.clone(), (q.appid.clone(), q.phone.clone(), Instant::now()));
    HttpResponse::Ok().json(json!({"code": c}))
}
