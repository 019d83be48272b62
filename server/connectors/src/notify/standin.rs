//! A local stand-in for the SMS providers, for the demo and the tests: it speaks both
//! `SendSms` APIs and checks what the real services check — the key id, the signature over
//! exactly the bytes received, the timestamp window, nonce reuse (Alibaba), the phone number
//! and the template parameters — answering with the providers' own success and error shapes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::sign::{Tc3Request, aliyun_rpc_signature, same};
use super::sms::Provider;

/// A message the stand-in accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedSms {
    pub provider: Provider,
    pub access_key_id: String,
    pub phone: String,
    pub sign_name: String,
    pub template: String,
    /// Alibaba: the named parameters; Tencent: the values in order, named `1`, `2`, …
    pub params: Vec<(String, String)>,
}

#[derive(Default)]
struct State {
    /// Key id -> secret of the accounts the stand-in knows.
    accounts: HashMap<String, String>,
    nonces: HashSet<String>,
    received: Vec<ReceivedSms>,
    refused: Vec<String>,
}

#[derive(Clone)]
pub struct SmsStandIn {
    /// `http://127.0.0.1:port`; Alibaba at `/aliyun/`, Tencent at `/tencent/`.
    pub base: String,
    state: Arc<Mutex<State>>,
    server: actix_web::dev::ServerHandle,
}

impl SmsStandIn {
    /// Starts on `listen` (port 0: any free port) knowing the given (key id, secret) pairs.
    pub fn start(listen: std::net::SocketAddr, accounts: &[(&str, &str)]) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(State {
            accounts: accounts.iter().map(|(k, s)| (k.to_string(), s.to_string())).collect(),
            ..State::default()
        }));
        let data = web::Data::new(state.clone());
        let listener = std::net::TcpListener::bind(listen)?;
        let addr = listener.local_addr()?;
        let server = HttpServer::new(move || {
            App::new().app_data(data.clone()).route("/aliyun/", web::post().to(aliyun)).route("/tencent/", web::post().to(tencent))
        })
        .workers(1)
        .listen(listener)?
        .disable_signals()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Self { base: format!("http://{addr}"), state, server: handle })
    }

    pub fn received(&self) -> Vec<ReceivedSms> {
        self.state.lock().map(|s| s.received.clone()).unwrap_or_default()
    }

    /// Why requests were refused (error codes), in order.
    pub fn refused(&self) -> Vec<String> {
        self.state.lock().map(|s| s.refused.clone()).unwrap_or_default()
    }

    pub async fn stop(&self) {
        self.server.stop(false).await;
    }
}

type Shared = web::Data<Arc<Mutex<State>>>;

fn within(at: DateTime<Utc>, window_s: i64) -> bool {
    (Utc::now() - at).num_seconds().abs() <= window_s
}

fn mainland_phone(p: &str) -> bool {
    let digits =
        p.strip_prefix("+86").or_else(|| p.strip_prefix("0086")).or_else(|| p.strip_prefix("86").filter(|r| r.len() == 11)).unwrap_or(p);
    digits.len() == 11 && digits.starts_with('1') && digits.bytes().all(|b| b.is_ascii_digit())
}

fn aliyun_error(state: &Shared, status: u16, code: &str, message: &str) -> HttpResponse {
    if let Ok(mut s) = state.lock() {
        s.refused.push(code.to_string());
    }
    let status = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(status).json(json!({"Code": code, "Message": message, "RequestId": uuid::Uuid::new_v4().to_string()}))
}

async fn aliyun(state: Shared, form: web::Form<BTreeMap<String, String>>) -> HttpResponse {
    let mut params = form.into_inner();
    let Some(signature) = params.remove("Signature") else {
        return aliyun_error(&state, 400, "MissingSignature", "Signature is mandatory");
    };
    let get = |k: &str| params.get(k).cloned().unwrap_or_default();
    let secret = state.lock().ok().and_then(|s| s.accounts.get(&get("AccessKeyId")).cloned());
    let Some(secret) = secret else {
        return aliyun_error(&state, 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
    };
    if get("SignatureMethod") != "HMAC-SHA1"
        || get("SignatureVersion") != "1.0"
        || get("Action") != "SendSms"
        || get("Version") != "2017-05-25"
    {
        return aliyun_error(&state, 400, "InvalidParameter", "unsupported action, version or signature method");
    }
    match DateTime::parse_from_rfc3339(&get("Timestamp")) {
        Ok(t) if within(t.with_timezone(&Utc), 15 * 60) => {}
        _ => return aliyun_error(&state, 400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."),
    }
    if !same(&aliyun_rpc_signature("POST", &params, &secret), &signature) {
        return aliyun_error(&state, 400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.");
    }
    let nonce = get("SignatureNonce");
    let fresh = state.lock().map(|mut s| s.nonces.insert(nonce.clone())).unwrap_or(false);
    if nonce.is_empty() || !fresh {
        return aliyun_error(&state, 400, "SignatureNonceUsed", "Specified signature nonce was used already.");
    }
    let phone = get("PhoneNumbers");
    if !phone.split(',').all(mainland_phone) {
        return aliyun_error(&state, 200, "isv.MOBILE_NUMBER_ILLEGAL", "invalid phone number");
    }
    let template_params = match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&get("TemplateParam")) {
        Ok(m) if m.values().all(|v| v.is_string()) => m.into_iter().map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string())).collect(),
        _ => return aliyun_error(&state, 200, "isv.INVALID_JSON_PARAM", "TemplateParam must be a JSON object of strings"),
    };
    if let Ok(mut s) = state.lock() {
        s.received.push(ReceivedSms {
            provider: Provider::Aliyun,
            access_key_id: get("AccessKeyId"),
            phone,
            sign_name: get("SignName"),
            template: get("TemplateCode"),
            params: template_params,
        });
    }
    HttpResponse::Ok().json(json!({"Code": "OK", "Message": "OK", "BizId": uuid::Uuid::new_v4().simple().to_string(), "RequestId": uuid::Uuid::new_v4().to_string()}))
}

fn tencent_error(state: &Shared, code: &str, message: &str) -> HttpResponse {
    if let Ok(mut s) = state.lock() {
        s.refused.push(code.to_string());
    }
    HttpResponse::Ok()
        .json(json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": uuid::Uuid::new_v4().to_string()}}))
}

async fn tencent(state: Shared, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    let header = |k: &str| request.headers().get(k).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let authorization = header("authorization");
    let Some(rest) = authorization.strip_prefix("TC3-HMAC-SHA256 ") else {
        return tencent_error(&state, "AuthFailure.InvalidAuthorization", "Authorization is not TC3-HMAC-SHA256");
    };
    let parts: HashMap<&str, &str> = rest.split(", ").filter_map(|p| p.split_once('=')).collect();
    let credential: Vec<&str> = parts.get("Credential").unwrap_or(&"").split('/').collect();
    let [secret_id, date, service, "tc3_request"] = credential.as_slice() else {
        return tencent_error(&state, "AuthFailure.InvalidAuthorization", "bad Credential");
    };
    if parts.get("SignedHeaders") != Some(&"content-type;host") || *service != "sms" {
        return tencent_error(&state, "AuthFailure.InvalidAuthorization", "unexpected signed headers or service");
    }
    let secret = state.lock().ok().and_then(|s| s.accounts.get(*secret_id).cloned());
    let Some(secret) = secret else { return tencent_error(&state, "AuthFailure.SecretIdNotFound", "The SecretId is not found") };
    let Ok(timestamp) = header("x-tc-timestamp").parse::<i64>() else {
        return tencent_error(&state, "MissingParameter", "X-TC-Timestamp is required");
    };
    let at = DateTime::from_timestamp(timestamp, 0).unwrap_or_default();
    if !within(at, 5 * 60) || at.format("%Y-%m-%d").to_string() != *date {
        return tencent_error(&state, "AuthFailure.SignatureExpire", "Signature expired");
    }
    if header("content-type") != super::sign::TC3_CONTENT_TYPE
        || header("x-tc-action") != "SendSms"
        || header("x-tc-version") != "2021-01-11"
    {
        return tencent_error(&state, "InvalidParameter", "unexpected content type, action or version");
    }
    let payload = String::from_utf8_lossy(&body).to_string();
    let host = header("host");
    let expected = Tc3Request { service: "sms", host: &host, timestamp, payload: &payload }.signature(&secret);
    if !same(&expected, parts.get("Signature").unwrap_or(&"")) {
        return tencent_error(&state, "AuthFailure.SignatureFailure", "The provided credentials could not be validated.");
    }
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&payload) else {
        return tencent_error(&state, "InvalidParameter", "body is not JSON");
    };
    let phone = json["PhoneNumberSet"][0].as_str().unwrap_or_default().to_string();
    let values: Option<Vec<String>> =
        json["TemplateParamSet"].as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect());
    let serial = uuid::Uuid::new_v4().simple().to_string();
    if !mainland_phone(&phone) {
        return HttpResponse::Ok().json(json!({"Response": {"SendStatusSet": [{"SerialNo": "", "PhoneNumber": phone, "Fee": 0, "Code": "InvalidParameterValue.IncorrectPhoneNumber", "Message": "invalid phone"}], "RequestId": serial}}));
    }
    if let Ok(mut s) = state.lock() {
        s.received.push(ReceivedSms {
            provider: Provider::Tencent,
            access_key_id: secret_id.to_string(),
            phone: phone.clone(),
            sign_name: json["SignName"].as_str().unwrap_or_default().to_string(),
            template: json["TemplateId"].as_str().unwrap_or_default().to_string(),
            params: values.unwrap_or_default().into_iter().enumerate().map(|(i, v)| ((i + 1).to_string(), v)).collect(),
        });
    }
    HttpResponse::Ok().json(json!({"Response": {"SendStatusSet": [{"SerialNo": serial, "PhoneNumber": phone, "Fee": 1, "SessionContext": json["SessionContext"], "Code": "Ok", "Message": "send success"}], "RequestId": uuid::Uuid::new_v4().to_string()}}))
}
