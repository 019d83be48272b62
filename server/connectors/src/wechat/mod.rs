//! The WeChat mini-program server APIs the platform calls (../shared/reference/payments.md §3):
//! `jscode2session` (login), `stable_token` (access token), `getuserphonenumber` (phone
//! verification), and the official account's web authorization (`/sns/oauth2/access_token`:
//! the mobile pages' login inside WeChat's browser). `standin` is a local WeChat that the demo
//! and the tests use.

pub mod standin;

use serde::Deserialize;

/// A failure talking to WeChat, with WeChat's own code when it answered.
#[derive(Debug, thiserror::Error)]
pub enum WechatError {
    #[error("WeChat refused: {errcode} {errmsg}")]
    Refused { errcode: i64, errmsg: String },
    #[error("WeChat unreachable: {0}")]
    Transport(String),
    #[error("unexpected answer from WeChat: {0}")]
    Protocol(String),
}

/// The result of `jscode2session` (the `session_key` stays on the server and is not kept).
#[derive(Debug, Clone)]
pub struct CodeSession {
    pub openid: String,
    pub unionid: Option<String>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    openid: Option<String>,
    unionid: Option<String>,
    access_token: Option<String>,
    phone_info: Option<PhoneInfo>,
}

#[derive(Deserialize)]
struct PhoneInfo {
    #[serde(rename = "purePhoneNumber")]
    pure_phone_number: String,
    watermark: Watermark,
}

#[derive(Deserialize)]
struct Watermark {
    appid: String,
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .unwrap_or_default()
}

async fn answer(r: Result<reqwest::Response, reqwest::Error>) -> Result<Answer, WechatError> {
    let r = r.map_err(|e| WechatError::Transport(e.without_url().to_string()))?;
    let a: Answer = r.json().await.map_err(|e| WechatError::Protocol(e.without_url().to_string()))?;
    if a.errcode != 0 {
        return Err(WechatError::Refused { errcode: a.errcode, errmsg: a.errmsg });
    }
    Ok(a)
}

/// `GET /sns/jscode2session`: a login `code` from `wx.login()` -> the user's openid.
pub async fn code2session(api_base: &str, app_id: &str, secret: &str, code: &str) -> Result<CodeSession, WechatError> {
    let url = format!("{}/sns/jscode2session", api_base.trim_end_matches('/'));
    let query = [("appid", app_id), ("secret", secret), ("js_code", code), ("grant_type", "authorization_code")];
    let a = answer(http().get(url).query(&query).send().await).await?;
    let openid = a.openid.filter(|o| is_openid(o)).ok_or_else(|| WechatError::Protocol("no openid".into()))?;
    Ok(CodeSession { openid, unionid: a.unionid })
}

/// An openid as WeChat makes them (28 characters of `[A-Za-z0-9_-]`; any length up to 64 is
/// taken). Checked before an openid becomes a login subject, which keeps the subjects of the
/// other customer logins (`oa:…`, `code:…`) out of reach of whatever WeChat answers.
pub fn is_openid(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `GET /sns/oauth2/access_token`: the `code` WeChat's web authorization
/// (`/connect/oauth2/authorize`, scope `snsapi_base`) gave an official-account page -> the
/// user's openid under the official account. The web access token is not kept.
pub async fn oauth_openid(api_base: &str, app_id: &str, secret: &str, code: &str) -> Result<String, WechatError> {
    let url = format!("{}/sns/oauth2/access_token", api_base.trim_end_matches('/'));
    let query = [("appid", app_id), ("secret", secret), ("code", code), ("grant_type", "authorization_code")];
    let a = answer(http().get(url).query(&query).send().await).await?;
    a.openid.filter(|o| is_openid(o)).ok_or_else(|| WechatError::Protocol("no openid".into()))
}

/// `POST /cgi-bin/stable_token`: the app's access token.
pub async fn stable_token(api_base: &str, app_id: &str, secret: &str) -> Result<String, WechatError> {
    let url = format!("{}/cgi-bin/stable_token", api_base.trim_end_matches('/'));
    let body = serde_json::json!({"grant_type": "client_credential", "appid": app_id, "secret": secret, "force_refresh": false});
    let a = answer(http().post(url).json(&body).send().await).await?;
    a.access_token.ok_or_else(|| WechatError::Protocol("no access_token".into()))
}

/// `POST /wxa/business/getuserphonenumber`: the phone number behind a `getPhoneNumber` code,
/// checked to be issued for our AppID.
pub async fn phone_number(api_base: &str, app_id: &str, secret: &str, code: &str) -> Result<String, WechatError> {
    let token = stable_token(api_base, app_id, secret).await?;
    let url = format!("{}/wxa/business/getuserphonenumber", api_base.trim_end_matches('/'));
    let a =
        answer(http().post(url).query(&[("access_token", token.as_str())]).json(&serde_json::json!({"code": code})).send().await).await?;
    let info = a.phone_info.ok_or_else(|| WechatError::Protocol("no phone_info".into()))?;
    if info.watermark.appid != app_id {
        return Err(WechatError::Protocol("phone number issued for another AppID".into()));
    }
    Ok(info.pure_phone_number)
}

/// `POST /cgi-bin/message/subscribe/send`: one subscription message.
pub async fn send_subscribe(api_base: &str, access_token: &str, body: &serde_json::Value) -> Result<(), WechatError> {
    let url = format!("{}/cgi-bin/message/subscribe/send", api_base.trim_end_matches('/'));
    answer(http().post(url).query(&[("access_token", access_token)]).json(body).send().await).await.map(|_| ())
}

/// Access tokens per AppID, fetched through `stable_token` and kept until five minutes
/// before they expire (WeChat limits how often they may be fetched).
#[derive(Default)]
pub struct TokenCache {
    tokens: std::sync::Mutex<std::collections::HashMap<String, (String, std::time::Instant)>>,
}

impl TokenCache {
    pub async fn get(&self, api_base: &str, app_id: &str, secret: &str) -> Result<String, WechatError> {
        let key = format!("{api_base}|{app_id}");
        if let Some((t, until)) = self.tokens.lock().unwrap_or_else(|p| p.into_inner()).get(&key)
            && *until > std::time::Instant::now()
        {
            return Ok(t.clone());
        }
        let token = stable_token(api_base, app_id, secret).await?;
        let until = std::time::Instant::now() + std::time::Duration::from_secs(7200 - 300);
        self.tokens.lock().unwrap_or_else(|p| p.into_inner()).insert(key, (token.clone(), until));
        Ok(token)
    }

    /// Forgets a token WeChat called invalid (40001 / 42001).
    pub fn forget(&self, api_base: &str, app_id: &str) {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner()).remove(&format!("{api_base}|{app_id}"));
    }
}
