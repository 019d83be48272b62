//! The token endpoints (plain HTTP, API.md): operator login, refresh-token rotation, logout,
//! park-platform client credentials, customer logins (mini-program, official account, binding
//! code) and what the mobile pages need to start; the audit export; and the EMQX
//! HTTP authentication/authorization hooks for device logins.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::auth::{
    ACCESS_TTL, Authenticated, CUSTOMER_SESSION_TTL, Kind, PARK_TTL, Principal, SESSION_TTL, authenticate, burn_password_check,
    verify_password,
};
use super::http::HttpState;
use domain::access::Permission;
use store::{AuditFilter, AuditRow, Refresh, TenantStore, hash_secret};

/// The caller's address as the socket saw it (a proxy's `X-Forwarded-For` is not trusted).
/// The client's address: the socket peer, or — when the peer is a trusted reverse proxy —
/// the nearest address in `X-Forwarded-For` that is not itself a trusted proxy (entries
/// further left were written by the client and prove nothing).
pub fn source(http: &HttpRequest) -> String {
    let trusted = http.app_data::<web::Data<HttpState>>().map(|s| s.proxies.0.clone()).unwrap_or_default();
    let forwarded: Vec<&str> = http.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
    client_address(http.peer_addr().map(|a| a.ip()), &forwarded.join(","), &trusted).map(|ip| ip.to_string()).unwrap_or_default()
}

/// See [`source`].
pub fn client_address(peer: Option<std::net::IpAddr>, forwarded_for: &str, trusted: &[std::net::IpAddr]) -> Option<std::net::IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    // An address as proxies write it: bare, with a port, IPv6 in brackets.
    let parse = |hop: &str| -> Option<std::net::IpAddr> {
        let hop = hop.trim();
        hop.parse::<std::net::IpAddr>()
            .ok()
            .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
            .or_else(|| hop.trim_start_matches('[').trim_end_matches(']').parse().ok())
    };
    let mut client = peer;
    for hop in forwarded_for.split(',').rev().filter(|h| !h.trim().is_empty()) {
        let Some(ip) = parse(hop) else { return Some(client) };
        client = ip;
        if !trusted.contains(&ip) {
            break;
        }
    }
    Some(client)
}

fn user_agent(http: &HttpRequest) -> String {
    http.headers().get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

fn refuse(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"error": code, "message": message}))
}

fn internal(e: impl std::fmt::Display) -> HttpResponse {
    let request = uuid::Uuid::new_v4().simple().to_string();
    tracing::error!(request = %request, cause = %e, "auth endpoint failure");
    refuse(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", &format!("internal error (request {request})"))
}

async fn audit(t: &TenantStore, kind: &str, actor: (&str, &str), action: &str, outcome: &str, source: &str) {
    let row = AuditRow {
        id: uuid::Uuid::new_v4().to_string(),
        at: Utc::now(),
        actor_kind: kind.into(),
        actor_id: actor.0.into(),
        actor_name: actor.1.into(),
        action: action.into(),
        target_id: None,
        input: "{}".into(),
        before_state: None,
        after_state: None,
        outcome: outcome.into(),
        source: source.into(),
    };
    if let Err(e) = t.record_audit(&row).await {
        tracing::error!(cause = %e, "audit record not written");
    }
}

fn tokens(access: String, refresh: String) -> HttpResponse {
    HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(json!({
        "accessToken": access,
        "refreshToken": refresh,
        "tokenType": "Bearer",
        "expiresIn": ACCESS_TTL.num_seconds(),
    }))
}

#[derive(Deserialize)]
pub struct LoginBody {
    /// The tenant's slug (company code).
    tenant: String,
    username: String,
    password: String,
}

/// `POST /auth/login`: operator password login -> access and refresh tokens.
async fn login(state: web::Data<HttpState>, http: HttpRequest, body: web::Json<LoginBody>) -> HttpResponse {
    let src = source(&http);
    let account = format!("{}/{}", body.tenant, body.username.to_lowercase());
    if let Err(t) = state.throttle.attempt("login", &account, &src).await {
        return HttpResponse::TooManyRequests().insert_header(("Retry-After", t.retry_after_s.to_string())).json(
            json!({"error": "TOO_MANY_ATTEMPTS", "message": "too many login attempts; try again later", "retryAfter": t.retry_after_s}),
        );
    }
    let denied = || refuse(StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS", "wrong company, username or password");
    let password = body.password.clone();
    let tenant = match state.store.platform().tenant_by_slug(&body.tenant).await {
        Ok(t) => t,
        Err(e) => return internal(e),
    };
    let Some(tenant) = tenant else {
        let _ = web::block(move || burn_password_check(&password)).await;
        return denied();
    };
    let t = state.store.tenant(tenant.id.clone());
    let login = match t.operator_login(&body.username).await {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    let Some(login) = login else {
        let _ = web::block(move || burn_password_check(&password)).await;
        audit(&t, "operator", ("", &body.username), "loginFailed", "UNKNOWN_USERNAME", &src).await;
        return denied();
    };
    let hash = login.password_hash.clone();
    let ok = web::block(move || verify_password(&password, &hash)).await.unwrap_or(false);
    if !ok {
        audit(&t, "operator", (&login.id, &body.username), "loginFailed", "INVALID_CREDENTIALS", &src).await;
        return denied();
    }
    if login.status != "ACTIVE" {
        audit(&t, "operator", (&login.id, &body.username), "loginFailed", "DISABLED", &src).await;
        return refuse(StatusCode::FORBIDDEN, "DISABLED", "this operator is disabled");
    }
    if tenant.status != "ACTIVE" {
        audit(&t, "operator", (&login.id, &body.username), "loginFailed", "SUSPENDED", &src).await;
        return refuse(StatusCode::FORBIDDEN, "FORBIDDEN", "the tenant is suspended; contact the platform operator");
    }
    state.throttle.succeeded("login", &account, &src).await;
    let (session, refresh) = match t.create_session("operator", &login.id, &src, &user_agent(&http), SESSION_TTL).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let _ = t.operator_logged_in(&login.id, Utc::now()).await;
    audit(&t, "operator", (&login.id, &body.username), "login", "OK", &src).await;
    match state.keys.issue(Kind::Operator, Some(&tenant.id), &login.id, Some(&session.id), ACCESS_TTL) {
        Ok(access) => tokens(access, refresh),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshBody {
    refresh_token: String,
}

/// `POST /auth/refresh`: a refresh token -> a new access token and the next refresh token.
/// A refresh token works once; presenting a used one ends the whole session.
async fn refresh(state: web::Data<HttpState>, http: HttpRequest, body: web::Json<RefreshBody>) -> HttpResponse {
    let src = source(&http);
    if let Err(t) = state.throttle.attempt("refresh", "", &src).await {
        return HttpResponse::TooManyRequests().insert_header(("Retry-After", t.retry_after_s.to_string())).finish();
    }
    match state.store.platform().refresh(&body.refresh_token, Utc::now()).await {
        Ok(Refresh::Rotated { tenant, session, token }) => {
            let kind = if session.principal_kind == "customer" { Kind::Customer } else { Kind::Operator };
            audit(&state.store.tenant(tenant.clone()), &session.principal_kind, (&session.principal_id, ""), "refresh", "OK", &src).await;
            match state.keys.issue(kind, Some(&tenant), &session.principal_id, Some(&session.id), ACCESS_TTL) {
                Ok(access) => tokens(access, token),
                Err(e) => internal(e),
            }
        }
        Ok(Refresh::Reused { tenant }) => {
            tracing::warn!(source = %src, "a used refresh token was presented again; its session is revoked");
            audit(&state.store.tenant(tenant), "session", ("", ""), "refreshReused", "SESSION_REVOKED", &src).await;
            refuse(StatusCode::UNAUTHORIZED, "REFRESH_TOKEN_REUSED", "this refresh token was already used; the session has been ended")
        }
        Ok(Refresh::Invalid) => refuse(StatusCode::UNAUTHORIZED, "INVALID_REFRESH_TOKEN", "unknown, expired or revoked refresh token"),
        Err(e) => internal(e),
    }
}

fn bearer(http: &HttpRequest) -> Option<&str> {
    http.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim)
}

/// `POST /auth/logout`: ends the session of the bearer token.
async fn logout(state: web::Data<HttpState>, http: HttpRequest) -> HttpResponse {
    let Some(Authenticated::Principal(p, Some(t))) = authenticate(&state.store, &state.keys, bearer(&http).unwrap_or("")).await else {
        return refuse(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "authentication required");
    };
    let session = match p.as_ref() {
        Principal::Operator { session, .. } | Principal::Customer { session, .. } => session.clone(),
        _ => return refuse(StatusCode::BAD_REQUEST, "NO_SESSION", "this token has no session"),
    };
    if let Err(e) = t.revoke_session(&session, "LOGOUT").await {
        return internal(e);
    }
    let (id, name) = p.actor();
    audit(&t, p.kind(), (&id, &name), "logout", "OK", &source(&http)).await;
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
pub struct ClientCredentials {
    grant_type: String,
    client_id: String,
    client_secret: String,
}

/// `POST /auth/token`: OAuth 2.0 client credentials for park platforms (form or JSON).
async fn client_token(
    state: web::Data<HttpState>,
    http: HttpRequest,
    body: web::Either<web::Form<ClientCredentials>, web::Json<ClientCredentials>>,
) -> HttpResponse {
    let body = match body {
        web::Either::Left(f) => f.into_inner(),
        web::Either::Right(j) => j.into_inner(),
    };
    let src = source(&http);
    let oauth = |status: StatusCode, error: &str| HttpResponse::build(status).json(json!({"error": error}));
    if body.grant_type != "client_credentials" {
        return oauth(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let account = format!("park/{}", body.client_id);
    if let Err(t) = state.throttle.attempt("token", &account, &src).await {
        return HttpResponse::TooManyRequests()
            .insert_header(("Retry-After", t.retry_after_s.to_string()))
            .json(json!({"error": "slow_down"}));
    }
    let found = match state.store.platform().park_client(&body.client_id).await {
        Ok(f) => f,
        Err(e) => return internal(e),
    };
    let Some((tenant, client, hash)) = found else {
        return oauth(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    let matches: bool = {
        use subtle_eq::eq;
        eq(hash_secret(&body.client_secret).as_bytes(), hash.as_bytes())
    };
    let t = state.store.tenant(tenant.clone());
    if !matches || client.revoked_at.is_some() {
        let why = if matches { "REVOKED" } else { "INVALID_CLIENT" };
        audit(&t, "park", (&client.id, &client.name), "tokenFailed", why, &src).await;
        return oauth(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if !state.store.tenant_active(&tenant) {
        audit(&t, "park", (&client.id, &client.name), "tokenFailed", "SUSPENDED", &src).await;
        return oauth(StatusCode::FORBIDDEN, "access_denied");
    }
    state.throttle.succeeded("token", &account, &src).await;
    audit(&t, "park", (&client.id, &client.name), "token", "OK", &src).await;
    match state.keys.issue(Kind::Park, Some(&tenant), &client.id, None, PARK_TTL) {
        Ok(token) => HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": PARK_TTL.num_seconds(),
            "scope": client.scopes.join(" "),
        })),
        Err(e) => internal(e),
    }
}

/// Constant-time comparison of equal-length byte strings.
mod subtle_eq {
    pub fn eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

#[derive(Deserialize)]
pub struct WechatLogin {
    /// The tenant's slug.
    tenant: String,
    /// The `code` from `wx.login()`.
    code: String,
}

/// `POST /auth/wechat`: mini-program login: `code2session` at WeChat -> our tokens carrying
/// the openid (bound to a customer with the `bindAccount` mutation).
async fn wechat_login(state: web::Data<HttpState>, http: HttpRequest, body: web::Json<WechatLogin>) -> HttpResponse {
    let src = source(&http);
    if let Err(t) = state.throttle.attempt("wechat", "", &src).await {
        return HttpResponse::TooManyRequests().insert_header(("Retry-After", t.retry_after_s.to_string())).finish();
    }
    let tenant = match state.store.platform().tenant_by_slug(&body.tenant).await {
        Ok(Some(t)) if t.status == "ACTIVE" => t,
        Ok(Some(_)) => return refuse(StatusCode::FORBIDDEN, "FORBIDDEN", "the tenant is suspended"),
        Ok(None) => return refuse(StatusCode::NOT_FOUND, "NOT_FOUND", "no such tenant"),
        Err(e) => return internal(e),
    };
    let t = state.store.tenant(tenant.id.clone());
    let app = match t.wechat_app().await {
        Ok(Some(a)) => a,
        Ok(None) => return refuse(StatusCode::CONFLICT, "NO_MINI_PROGRAM", "the tenant has no mini-program configured"),
        Err(e) => return internal(e),
    };
    let session = match connectors::wechat::code2session(&app.api_base, &app.app_id, &app.secret, &body.code).await {
        Ok(s) => s,
        Err(connectors::wechat::WechatError::Refused { errcode, errmsg }) => {
            audit(&t, "customer", ("", ""), "loginFailed", "WECHAT_REFUSED", &src).await;
            return refuse(StatusCode::UNAUTHORIZED, "WECHAT_REFUSED", &format!("WeChat refused the code: {errcode} {errmsg}"));
        }
        Err(e) => {
            tracing::warn!(error = %e, "jscode2session failed");
            return refuse(StatusCode::BAD_GATEWAY, "WECHAT_UNAVAILABLE", "WeChat could not be reached; try again");
        }
    };
    let (s, refresh) = match t.create_session("customer", &session.openid, &src, &user_agent(&http), CUSTOMER_SESSION_TTL).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    audit(&t, "customer", (&session.openid, ""), "login", "OK", &src).await;
    match state.keys.issue(Kind::Customer, Some(&tenant.id), &session.openid, Some(&s.id), ACCESS_TTL) {
        Ok(access) => tokens(access, refresh),
        Err(e) => internal(e),
    }
}

/// An active tenant by slug, or the refusal to answer.
async fn active_tenant(state: &HttpState, slug: &str) -> Result<(store::TenantRow, TenantStore), HttpResponse> {
    match state.store.platform().tenant_by_slug(slug).await {
        Ok(Some(t)) if t.status == "ACTIVE" => {
            let store = state.store.tenant(t.id.clone());
            Ok((t, store))
        }
        Ok(Some(_)) => Err(refuse(StatusCode::FORBIDDEN, "FORBIDDEN", "the tenant is suspended")),
        Ok(None) => Err(refuse(StatusCode::NOT_FOUND, "NOT_FOUND", "no such tenant")),
        Err(e) => Err(internal(e)),
    }
}

/// A customer session for `subject` and its tokens.
async fn customer_tokens(state: &HttpState, http: &HttpRequest, tenant: &store::TenantRow, t: &TenantStore, subject: &str) -> HttpResponse {
    let src = source(http);
    let (s, refresh) = match t.create_session("customer", subject, &src, &user_agent(http), CUSTOMER_SESSION_TTL).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    audit(t, "customer", (subject, ""), "login", "OK", &src).await;
    match state.keys.issue(Kind::Customer, Some(&tenant.id), subject, Some(&s.id), ACCESS_TTL) {
        Ok(access) => tokens(access, refresh),
        Err(e) => internal(e),
    }
}

/// `POST /auth/wechat-oa`: the mobile pages inside WeChat's browser: the `code` of the
/// official account's web authorization -> our tokens for the openid under that account
/// (bound to a customer with `bindAccount`, by binding code).
async fn wechat_oa_login(state: web::Data<HttpState>, http: HttpRequest, body: web::Json<WechatLogin>) -> HttpResponse {
    let src = source(&http);
    if let Err(t) = state.throttle.attempt("wechat", "", &src).await {
        return HttpResponse::TooManyRequests().insert_header(("Retry-After", t.retry_after_s.to_string())).finish();
    }
    let (tenant, t) = match active_tenant(&state, &body.tenant).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let app = match t.wechat_official_account().await {
        Ok(Some((a, _))) => a,
        Ok(None) => return refuse(StatusCode::CONFLICT, "NO_OFFICIAL_ACCOUNT", "the tenant has no official account configured"),
        Err(e) => return internal(e),
    };
    let openid = match connectors::wechat::oauth_openid(&app.api_base, &app.app_id, &app.secret, &body.code).await {
        Ok(o) => o,
        Err(connectors::wechat::WechatError::Refused { errcode, errmsg }) => {
            audit(&t, "customer", ("", ""), "loginFailed", "WECHAT_REFUSED", &src).await;
            return refuse(StatusCode::UNAUTHORIZED, "WECHAT_REFUSED", &format!("WeChat refused the code: {errcode} {errmsg}"));
        }
        Err(e) => {
            tracing::warn!(error = %e, "oauth2 access_token failed");
            return refuse(StatusCode::BAD_GATEWAY, "WECHAT_UNAVAILABLE", "WeChat could not be reached; try again");
        }
    };
    customer_tokens(&state, &http, &tenant, &t, &format!("{}{openid}", super::auth::OFFICIAL_ACCOUNT_PREFIX)).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeLogin {
    tenant: String,
    account_number: String,
    binding_code: String,
}

/// `POST /auth/binding-code`: the mobile pages outside WeChat: the account number and the
/// binding code the property printed -> our tokens for the customer holding the account. The
/// same wall as binding by code: ten wrong codes lock the account's code for an hour, and the
/// address throttle counts every try.
async fn code_login(state: web::Data<HttpState>, http: HttpRequest, body: web::Json<CodeLogin>) -> HttpResponse {
    let src = source(&http);
    let number = body.account_number.trim();
    let key = format!("{}/{}", body.tenant, number);
    if let Err(t) = state.throttle.attempt("code", &key, &src).await {
        return HttpResponse::TooManyRequests()
            .insert_header(("Retry-After", t.retry_after_s.to_string()))
            .json(json!({"error": "THROTTLED", "message": "too many tries; wait and try again"}));
    }
    let (tenant, t) = match active_tenant(&state, &body.tenant).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let code_subject = |customer: &str| format!("{}{customer}", super::auth::CODE_PREFIX);
    match t.bind_by_code(code_subject, number, &body.binding_code, Utc::now()).await {
        Ok((_, subject)) => {
            state.throttle.succeeded("code", &key, &src).await;
            customer_tokens(&state, &http, &tenant, &t, &subject).await
        }
        Err(store::StoreError::Conflict(m)) => {
            audit(&t, "customer", ("", number), "loginFailed", "LOCKED", &src).await;
            refuse(StatusCode::TOO_MANY_REQUESTS, "BINDING_LOCKED", &m)
        }
        Err(store::StoreError::NotFound) => {
            audit(&t, "customer", ("", number), "loginFailed", "BINDING_REFUSED", &src).await;
            refuse(StatusCode::UNAUTHORIZED, "BINDING_REFUSED", "no account with this number and binding code")
        }
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
pub struct ConfigQuery {
    tenant: String,
}

/// `GET /auth/customer-config?tenant=`: what the mobile pages need before anyone signs in:
/// the company's name, its official account (AppID and the authorize page) and which ways to
/// pay it takes. No secret, nothing about customers.
async fn customer_config(state: web::Data<HttpState>, q: web::Query<ConfigQuery>) -> HttpResponse {
    let (tenant, t) = match active_tenant(&state, &q.tenant).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let oa = match t.wechat_official_account().await {
        Ok(oa) => oa.map(|(a, authorize)| json!({"appId": a.app_id, "authorizeUrl": authorize})),
        Err(e) => return internal(e),
    };
    let (wechat_pay, alipay) = match t.payment_channels().await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    HttpResponse::Ok().insert_header(("Cache-Control", "no-cache")).json(json!({
        "tenant": tenant.name,
        // Customers' days and months (usage) start at the company's local midnight.
        "timeZone": tenant.time_zone,
        "officialAccount": oa,
        "wechatPay": wechat_pay,
        "alipay": alipay,
    }))
}

#[derive(Deserialize)]
pub struct AuditQuery {
    from: Option<chrono::DateTime<Utc>>,
    to: Option<chrono::DateTime<Utc>>,
    action: Option<String>,
    actor_id: Option<String>,
}

fn csv_field(s: &str) -> String {
    // Quote always; a leading formula character is neutralised for spreadsheets.
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The audit log as CSV, newest first (the HTTP export and `voltledger audit-export`).
pub async fn audit_csv(t: &TenantStore, filter: &AuditFilter) -> Result<String, store::StoreError> {
    let mut out = String::from("at,actor_kind,actor_id,actor_name,action,target_id,outcome,source,input,before,after\n");
    let mut cursor = None;
    loop {
        let rows = t.audit_log(filter, cursor.clone(), 1000).await?;
        for a in &rows {
            let fields = [
                a.at.to_rfc3339(),
                a.actor_kind.clone(),
                a.actor_id.clone(),
                a.actor_name.clone(),
                a.action.clone(),
                a.target_id.clone().unwrap_or_default(),
                a.outcome.clone(),
                a.source.clone(),
                a.input.clone(),
                a.before_state.clone().unwrap_or_default(),
                a.after_state.clone().unwrap_or_default(),
            ];
            out += &fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
            out.push('\n');
        }
        match rows.last() {
            Some(last) if rows.len() == 1000 => cursor = Some(last.id.clone()),
            _ => return Ok(out),
        }
    }
}

/// `GET /exports/audit.csv`: the audit log as CSV (needs the OPERATORS permission).
async fn audit_export(state: web::Data<HttpState>, http: HttpRequest, q: web::Query<AuditQuery>) -> HttpResponse {
    let Some(Authenticated::Principal(p, Some(t))) = authenticate(&state.store, &state.keys, bearer(&http).unwrap_or("")).await else {
        return refuse(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "authentication required");
    };
    let Principal::Operator { permissions, .. } = p.as_ref() else {
        return refuse(StatusCode::FORBIDDEN, "FORBIDDEN", "operators only");
    };
    if !permissions.has(Permission::Operators) || t.scope().is_some() {
        return refuse(StatusCode::FORBIDDEN, "FORBIDDEN", "your role does not allow the audit log");
    }
    let filter = AuditFilter { actor_id: q.actor_id.clone(), action: q.action.clone(), target_id: None, from: q.from, to: q.to };
    let out = match audit_csv(&t, &filter).await {
        Ok(csv) => csv,
        Err(e) => return internal(e),
    };
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"audit.csv\""))
        .body(out)
}

#[derive(Deserialize)]
pub struct EmqxAuthn {
    username: String,
    password: String,
    clientid: String,
}

/// `POST /broker/emqx/authn`: EMQX HTTP authentication of a device (or the bridge).
async fn emqx_authn(state: web::Data<HttpState>, http: HttpRequest, body: web::Json<EmqxAuthn>) -> HttpResponse {
    // An internal endpoint: only the broker, holding the internal token, may ask (else it
    // would answer password guesses for anyone).
    if !super::http::internal(&state, &http) {
        return refuse(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "the internal token is required");
    }
    let ok = state.store.check_device(&body.clientid, &body.username, &body.password);
    HttpResponse::Ok().json(json!({"result": if ok { "allow" } else { "deny" }, "is_superuser": false}))
}

#[derive(Deserialize)]
pub struct EmqxAuthz {
    username: String,
    topic: String,
    /// `publish` or `subscribe`.
    action: String,
}

/// The topic rights of `infra/mosquitto/acl`, as a function.
pub fn topic_allowed(username: &str, topic: &str, action: &str) -> bool {
    let topic = topic.strip_prefix("$share/voltledger/").unwrap_or(topic);
    if username == store::BRIDGE_USER {
        return match action {
            "subscribe" => topic == "vl/up/#" || topic.starts_with("vl/up/"),
            "publish" => topic.starts_with("vl/down/"),
            _ => false,
        };
    }
    if username.is_empty() || username.contains(['/', '+', '#']) {
        return false;
    }
    match action {
        "publish" => topic == mqtt_bridge::uplink::up_topic(username),
        "subscribe" => topic == mqtt_bridge::uplink::down_topic(username),
        _ => false,
    }
}

/// `POST /broker/emqx/authz`: EMQX HTTP authorization: a device publishes only on its
/// uplink and subscribes only to its downlink.
async fn emqx_authz(state: web::Data<HttpState>, http: HttpRequest, body: web::Json<EmqxAuthz>) -> HttpResponse {
    if !super::http::internal(&state, &http) {
        return refuse(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "the internal token is required");
    }
    let ok = topic_allowed(&body.username, &body.topic, &body.action);
    HttpResponse::Ok().json(json!({"result": if ok { "allow" } else { "deny" }}))
}

// ---- the platform console ----

/// How long a console login lasts; there is no refresh: the SaaS operator logs in again.
pub const CONSOLE_TTL: chrono::Duration = chrono::Duration::hours(8);

async fn platform_audit(store: &store::Store, actor: &str, action: &str, outcome: &str, source: &str) {
    let row = store::PlatformAuditRow {
        id: uuid::Uuid::new_v4().to_string(),
        at: Utc::now(),
        actor: actor.into(),
        action: action.into(),
        subject_tenant: None,
        input: "{}".into(),
        outcome: outcome.into(),
        source: source.into(),
    };
    if let Err(e) = store.platform().record_audit(&row).await {
        tracing::error!(cause = %e, "platform audit record not written");
    }
}

#[derive(Deserialize)]
pub struct ConsoleLoginBody {
    username: String,
    password: String,
}

/// `POST /auth/platform/login`: the SaaS operator's password login -> an access token bound
/// to a console session ([`CONSOLE_TTL`], ended by `/auth/platform/logout`).
async fn console_login(state: web::Data<HttpState>, http: HttpRequest, body: web::Json<ConsoleLoginBody>) -> HttpResponse {
    let src = source(&http);
    let account = format!("platform/{}", body.username.trim().to_lowercase());
    if let Err(t) = state.throttle.attempt("console", &account, &src).await {
        return HttpResponse::TooManyRequests().insert_header(("Retry-After", t.retry_after_s.to_string())).json(
            json!({"error": "TOO_MANY_ATTEMPTS", "message": "too many login attempts; try again later", "retryAfter": t.retry_after_s}),
        );
    }
    let denied = || refuse(StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS", "wrong username or password");
    let platform = state.store.platform();
    let password = body.password.clone();
    let op = match platform.operator_by_name(&body.username).await {
        Ok(op) => op,
        Err(e) => return internal(e),
    };
    let Some(op) = op else {
        let _ = web::block(move || burn_password_check(&password)).await;
        // Not the name typed: it may be anyone's, or a password typed in the wrong box.
        platform_audit(&state.store, "(unknown)", "consoleLoginFailed", "UNKNOWN_USERNAME", &src).await;
        return denied();
    };
    let hash = op.password_hash.clone();
    if !web::block(move || verify_password(&password, &hash)).await.unwrap_or(false) {
        platform_audit(&state.store, &op.username, "consoleLoginFailed", "INVALID_CREDENTIALS", &src).await;
        return denied();
    }
    if op.status != "ACTIVE" {
        platform_audit(&state.store, &op.username, "consoleLoginFailed", "DISABLED", &src).await;
        return refuse(StatusCode::FORBIDDEN, "DISABLED", "this platform operator is disabled");
    }
    state.throttle.succeeded("console", &account, &src).await;
    let session = match platform.create_console_session(&op.id, &src, CONSOLE_TTL, Utc::now()).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    // A new password or a disabling that landed while the password was being checked ends
    // what that check would have opened.
    match platform.operator_by_name(&op.username).await {
        Ok(Some(now)) if now.password_hash == op.password_hash && now.status == "ACTIVE" => {}
        Ok(_) => {
            let _ = platform.revoke_console_session(&session, Utc::now()).await;
            return denied();
        }
        Err(e) => return internal(e),
    }
    platform_audit(&state.store, &op.username, "consoleLogin", "OK", &src).await;
    match state.keys.issue(Kind::Admin, None, &op.id, Some(&session), CONSOLE_TTL) {
        Ok(access) => HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(json!({
            "accessToken": access,
            "tokenType": "Bearer",
            "expiresIn": CONSOLE_TTL.num_seconds(),
        })),
        Err(e) => internal(e),
    }
}

/// `POST /auth/platform/logout`: ends the console session of the bearer token; the token is
/// refused from then on, open sockets included.
async fn console_logout(state: web::Data<HttpState>, http: HttpRequest) -> HttpResponse {
    let unauthenticated = || refuse(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "authentication required");
    let Some(claims) = state.keys.verify(bearer(&http).unwrap_or("")) else { return unauthenticated() };
    let (Kind::Admin, Some(session)) = (claims.kind, claims.sid.as_deref()) else { return unauthenticated() };
    let Some(Authenticated::Principal(p, None)) = authenticate(&state.store, &state.keys, bearer(&http).unwrap_or("")).await else {
        return unauthenticated();
    };
    if let Err(e) = state.store.platform().revoke_console_session(session, Utc::now()).await {
        return internal(e);
    }
    platform_audit(&state.store, &p.actor().1, "consoleLogout", "OK", &source(&http)).await;
    HttpResponse::NoContent().finish()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/login", web::post().to(login))
        .route("/auth/refresh", web::post().to(refresh))
        .route("/auth/logout", web::post().to(logout))
        .route("/auth/token", web::post().to(client_token))
        .route("/auth/wechat", web::post().to(wechat_login))
        .route("/auth/wechat-oa", web::post().to(wechat_oa_login))
        .route("/auth/binding-code", web::post().to(code_login))
        .route("/auth/customer-config", web::get().to(customer_config))
        .route("/auth/platform/login", web::post().to(console_login))
        .route("/auth/platform/logout", web::post().to(console_logout))
        .route("/exports/audit.csv", web::get().to(audit_export))
        .route("/broker/emqx/authn", web::post().to(emqx_authn))
        .route("/broker/emqx/authz", web::post().to(emqx_authz));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn the_client_is_the_nearest_untrusted_hop() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let proxy = [ip("10.0.0.2"), ip("10.0.0.3")];
        // Not through a trusted proxy: the header is the caller's own claim.
        assert_eq!(client_address(Some(ip("203.0.113.9")), "1.2.3.4", &proxy), Some(ip("203.0.113.9")));
        // Through the proxies: the nearest untrusted hop, whatever the client wrote before it.
        assert_eq!(client_address(Some(ip("10.0.0.2")), "6.6.6.6, 198.51.100.7, 10.0.0.3", &proxy), Some(ip("198.51.100.7")));
        // Garbage in the chain stops the walk at the last good hop.
        assert_eq!(client_address(Some(ip("10.0.0.2")), "nonsense, 198.51.100.7", &proxy), Some(ip("198.51.100.7")));
        assert_eq!(client_address(Some(ip("10.0.0.2")), "", &proxy), Some(ip("10.0.0.2")));
        // Ports, brackets and empty entries as proxies write them.
        assert_eq!(client_address(Some(ip("10.0.0.2")), "198.51.100.7:4711, ", &proxy), Some(ip("198.51.100.7")));
        assert_eq!(client_address(Some(ip("10.0.0.2")), "[2001:db8::7]:443", &proxy), Some(ip("2001:db8::7")));
        assert_eq!(client_address(Some(ip("10.0.0.2")), "[2001:db8::8]", &proxy), Some(ip("2001:db8::8")));
    }

    #[test]
    fn emqx_topic_rights_match_the_mosquitto_acl() {
        assert!(topic_allowed("d1", "vl/up/d1", "publish"));
        assert!(!topic_allowed("d1", "vl/up/d2", "publish"));
        assert!(topic_allowed("d1", "vl/down/d1", "subscribe"));
        assert!(!topic_allowed("d1", "vl/down/d2", "subscribe"));
        assert!(!topic_allowed("d1", "vl/down/#", "subscribe"));
        assert!(!topic_allowed("d1", "vl/up/d1", "subscribe"));
        assert!(!topic_allowed("d+", "vl/up/d+", "publish"));
        assert!(topic_allowed("voltledger-bridge", "$share/voltledger/vl/up/#", "subscribe"));
        assert!(topic_allowed("voltledger-bridge", "vl/down/d1", "publish"));
        assert!(!topic_allowed("voltledger-bridge", "vl/up/d1", "publish"));
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_field("=1+1"), "\"'=1+1\"");
    }
}
