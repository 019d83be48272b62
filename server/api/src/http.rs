//! HTTP edge: `/graphql` (POST queries, GET GraphiQL), `/graphql/ws` (subscriptions,
//! graphql-transport-ws; the token in the `connection_init` payload), `/healthz`, `/readyz`,
//! `/metrics`.

use std::sync::Arc;

use actix_web::Responder as _;
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::http::GraphiQLSource;
use async_graphql_actix_web::GraphQLResponse;

use super::auth::{Authenticated, Throttle, TokenKeys, authenticate};
use super::graphql::VoltSchema;
use super::guard::{Source, Suspended};
use store::Store;

pub struct HttpState {
    pub schema: VoltSchema,
    pub store: Store,
    pub keys: TokenKeys,
    pub throttle: Throttle,
    pub stats: Arc<mqtt_bridge::session::BridgeStats>,
    pub public_url: super::PublicUrl,
    pub device_broker: super::DeviceBroker,
    pub outbound: super::OutboundPolicy,
    pub proxies: super::TrustedProxies,
    /// Serve GraphiQL and answer introspection.
    pub graphiql: bool,
    /// Bearer token of the internal endpoints (`/metrics`, broker hooks).
    pub internal_token: String,
    /// GraphQL requests one principal (or anonymous address) may make per minute.
    pub requests_per_minute: u64,
    /// Exports running in the background (`/exports/jobs`).
    pub jobs: super::export_jobs::ExportJobs,
    /// What readiness checks (`/readyz`).
    pub health: Health,
    /// The process's metrics (the `metrics` facade's Prometheus recorder), when installed.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

/// What `/readyz` answers for, in every role: the database; Redis when events are shared;
/// the broker when this process runs bridge sessions; and not while draining.
#[derive(Clone)]
pub struct Health {
    pub store: Store,
    pub stats: Arc<mqtt_bridge::session::BridgeStats>,
    /// This process holds bridge sessions: ready only while one is connected.
    pub needs_broker: bool,
    /// Set at SIGTERM: the load balancer stops sending before the listener closes.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}

impl Health {
    /// `Ok` when ready, else what is not.
    pub async fn check(&self) -> Result<(), String> {
        if self.draining.load(std::sync::atomic::Ordering::Relaxed) {
            return Err("draining".into());
        }
        let db = tokio::time::timeout(std::time::Duration::from_secs(3), self.store.ping()).await;
        if !matches!(db, Ok(Ok(()))) {
            return Err("database unavailable".into());
        }
        if self.store.events_ready().await == Some(false) {
            return Err("Redis unavailable".into());
        }
        // A replica standing by for the exclusive uplink holds no session, and is ready.
        if self.needs_broker
            && mqtt_bridge::session::BridgeStats::get(&self.stats.sessions) == 0
            && mqtt_bridge::session::BridgeStats::get(&self.stats.standby) == 0
        {
            return Err("broker not connected".into());
        }
        Ok(())
    }
}

/// `/readyz` of any role.
pub async fn ready(health: &Health) -> HttpResponse {
    match health.check().await {
        Ok(()) => HttpResponse::Ok().body("ready"),
        Err(why) => HttpResponse::ServiceUnavailable().body(why),
    }
}

/// `/healthz`: the process answers (cheap; nothing else is asked).
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

/// The metrics text: the bridge's counters and whatever the process recorded.
pub fn metrics_text(stats: &mqtt_bridge::session::BridgeStats, recorded: Option<&metrics_exporter_prometheus::PrometheusHandle>) -> String {
    use mqtt_bridge::session::BridgeStats as S;
    let s = stats;
    let mut body = format!(
        "# TYPE voltledger_uplink_publishes_total counter\nvoltledger_uplink_publishes_total {}\n\
         # TYPE voltledger_readings_total counter\nvoltledger_readings_total {}\n\
         # TYPE voltledger_uplink_rejected_total counter\nvoltledger_uplink_rejected_total {}\n\
         # TYPE voltledger_uplink_unknown_meter_total counter\nvoltledger_uplink_unknown_meter_total {}\n\
         # TYPE voltledger_meter_error_replies_total counter\nvoltledger_meter_error_replies_total {}\n\
         # TYPE voltledger_serial_buses gauge\nvoltledger_serial_buses {}\n\
         # TYPE voltledger_serial_requests_total counter\nvoltledger_serial_requests_total {}\n\
         # TYPE voltledger_serial_timeouts_total counter\nvoltledger_serial_timeouts_total {}\n\
         # TYPE voltledger_serial_refused_total counter\nvoltledger_serial_refused_total {}\n\
         # TYPE voltledger_bridge_sessions gauge\nvoltledger_bridge_sessions {}\n\
         # TYPE voltledger_bridge_standby gauge\nvoltledger_bridge_standby {}\n",
        S::get(&s.publishes),
        S::get(&s.readings),
        S::get(&s.rejected),
        S::get(&s.unknown_meter),
        S::get(&s.error_replies),
        S::get(&s.serial_buses),
        S::get(&s.serial_requests),
        S::get(&s.serial_timeouts),
        S::get(&s.serial_refused),
        S::get(&s.sessions),
        S::get(&s.standby),
    );
    if let Some(h) = recorded {
        body += &h.render();
    }
    body
}

/// Adds who is calling to a request's data: the principal, the tenant store it may use
/// (scoped to its properties), or the suspended marker.
pub async fn identify(store: &Store, keys: &TokenKeys, bearer: Option<&str>, mut data: async_graphql::Data) -> async_graphql::Data {
    match authenticate(store, keys, bearer.unwrap_or("")).await {
        Some(Authenticated::Principal(p, t)) => {
            if let Some(t) = t {
                data.insert(t);
            }
            if matches!(*p, super::auth::Principal::Admin { .. }) {
                data.insert(store.clone());
            }
            data.insert(*p);
        }
        Some(Authenticated::Suspended) => data.insert(Suspended),
        None => {}
    }
    data
}

/// The largest request body any endpoint reads (a GraphQL document with its variables, a
/// payment notification, a login): beyond it the answer is 413 and nothing is parsed.
pub const BODY_LIMIT: usize = 256 * 1024;

/// `POST /graphql`: one request or a batch, JSON, at most [`BODY_LIMIT`] bytes.
async fn graphql(state: web::Data<HttpState>, http: HttpRequest, body: web::Bytes) -> HttpResponse {
    let batch: async_graphql::BatchRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return HttpResponse::BadRequest().json(
                serde_json::json!({"errors": [{"message": format!("not a GraphQL request: {e}"), "extensions": {"code": "BAD_REQUEST"}}]}),
            );
        }
    };
    let bearer = http.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
    let mut data = identify(&state.store, &state.keys, bearer, async_graphql::Data::default()).await;
    let source = super::login::source(&http);
    // A per-principal request rate (per address for anonymous callers).
    let caller = match data.get(&std::any::TypeId::of::<super::auth::Principal>()).and_then(|p| p.downcast_ref::<super::auth::Principal>())
    {
        Some(p) => format!("{}:{}", p.kind(), p.actor().0),
        None => format!("addr:{source}"),
    };
    if let Err(t) = state.throttle.rate("api", &caller, state.requests_per_minute, 60).await {
        return HttpResponse::TooManyRequests().insert_header(("Retry-After", t.retry_after_s.to_string())).json(
            serde_json::json!({"errors": [{"message": "too many requests; slow down", "extensions": {"code": "RATE_LIMITED", "retryAfter": t.retry_after_s}}]}),
        );
    }
    // Every log line of this request names who made it (the request span, crate::observe).
    let span = tracing::Span::current();
    span.record("principal", caller.as_str());
    if let Some(t) = data.get(&std::any::TypeId::of::<store::TenantStore>()).and_then(|t| t.downcast_ref::<store::TenantStore>()) {
        span.record("tenant", t.tenant_id().as_str());
    }
    data.insert(Source(source));
    data.insert(state.public_url.clone());
    data.insert(state.device_broker.clone());
    data.insert(state.outbound);
    let response = match batch {
        async_graphql::BatchRequest::Single(mut r) => {
            r.data = data;
            let (started, root) = (std::time::Instant::now(), root_field(&r.query));
            let response = state.schema.execute(r).await;
            // Labelled by the root field of requests that validated (a bounded set: the
            // schema's), never by what a caller names.
            let operation = if response.errors.is_empty() { root.unwrap_or_else(|| "unknown".into()) } else { "error".into() };
            metrics::histogram!("voltledger_graphql_request_duration_seconds", "operation" => operation)
                .record(started.elapsed().as_secs_f64());
            async_graphql::BatchResponse::Single(response)
        }
        async_graphql::BatchRequest::Batch(_) => {
            return HttpResponse::BadRequest()
                .json(serde_json::json!({"errors": [{"message": "batched requests are not accepted; send one request per call", "extensions": {"code": "BAD_REQUEST"}}]}));
        }
    };
    GraphQLResponse::from(response).respond_to(&http).map_into_boxed_body()
}

/// The first root field of a request's first operation (`meters` of `query { meters … }`).
fn root_field(query: &str) -> Option<String> {
    use async_graphql::parser::types::{DocumentOperations, Selection};
    let doc = async_graphql::parser::parse_query(query).ok()?;
    let op = match &doc.operations {
        DocumentOperations::Single(op) => op,
        DocumentOperations::Multiple(ops) => ops.values().next()?,
    };
    op.node.selection_set.node.items.iter().find_map(|s| match &s.node {
        Selection::Field(f) => Some(f.node.name.node.to_string()),
        _ => None,
    })
}

/// A GraphQL WebSocket's identity: the token it was opened with and whom it named then.
/// Every operation on the socket checks that the token still names the same principal
/// (`guard`), and the socket itself is closed when it stops doing so.
#[derive(Clone)]
pub struct WsIdentity {
    token: String,
    principal: super::auth::Principal,
    store: Store,
    keys: TokenKeys,
}

impl WsIdentity {
    /// Whether the token still names the same principal: the session is live, the token
    /// unexpired, the operator enabled with the same role and scope, the tenant active.
    pub async fn still_valid(&self) -> bool {
        matches!(authenticate(&self.store, &self.keys, &self.token).await, Some(Authenticated::Principal(p, _)) if *p == self.principal)
    }
}

/// How often an open socket's session is checked (besides before every operation).
const WS_SESSION_CHECK: std::time::Duration = std::time::Duration::from_secs(5);

/// Subscriptions (and queries and mutations) over WebSocket, graphql-transport-ws or the
/// older graphql-ws. The access token travels in the `connection_init` payload as
/// `{"Authorization": "Bearer …"}` (browsers cannot set headers on a WebSocket). The socket
/// keeps no identity of its own: each operation is checked against the session as it is
/// now, and the socket is closed (code 4401) within seconds of a logout, an expiry, a
/// revoked session, a disabled operator, a changed role or scope, or a suspended tenant.
async fn graphql_ws(state: web::Data<HttpState>, http: HttpRequest, payload: web::Payload) -> actix_web::Result<HttpResponse> {
    use async_graphql::http::{WebSocket, WebSocketProtocols, WsMessage};
    use futures::StreamExt as _;
    use std::str::FromStr as _;
    let protocol = http
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .and_then(|all| all.split(',').find_map(|p| WebSocketProtocols::from_str(p.trim()).ok()))
        .ok_or_else(|| actix_web::error::ErrorBadRequest("a GraphQL WebSocket protocol is required (graphql-transport-ws)"))?;
    let (mut response, mut session, messages) = actix_ws::handle(&http, payload)?;
    response.headers_mut().insert(
        actix_web::http::header::SEC_WEBSOCKET_PROTOCOL,
        actix_web::http::header::HeaderValue::from_static(protocol.sec_websocket_protocol()),
    );
    let source = super::login::source(&http);
    let outbound = state.outbound;
    let identity: Arc<std::sync::Mutex<Option<WsIdentity>>> = Arc::default();
    let (to_graphql, from_client) = futures::channel::mpsc::unbounded::<Vec<u8>>();
    let init_identity = identity.clone();
    let (init_store, init_keys) = (state.store.clone(), state.keys.clone());
    let mut graphql =
        WebSocket::new(state.schema.clone(), from_client, protocol).on_connection_init(move |init: serde_json::Value| async move {
            let bearer = ["Authorization", "authorization"]
                .iter()
                .find_map(|k| init.get(*k).and_then(|v| v.as_str()))
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .map(str::to_string);
            let mut data = identify(&init_store, &init_keys, bearer.as_deref(), async_graphql::Data::default()).await;
            data.insert(Source(source));
            data.insert(outbound);
            if let (Some(token), Some(principal)) = (
                bearer,
                data.get(&std::any::TypeId::of::<super::auth::Principal>())
                    .and_then(|p| p.downcast_ref::<super::auth::Principal>())
                    .cloned(),
            ) {
                let id = WsIdentity { token, principal, store: init_store.clone(), keys: init_keys.clone() };
                if let Ok(mut cell) = init_identity.lock() {
                    *cell = Some(id.clone());
                }
                data.insert(id);
            }
            Ok(data)
        });
    let mut messages = messages.aggregate_continuations().max_continuation_size(256 * 1024);
    let rate_state = state.clone();
    let rate_source = super::login::source(&http);
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(WS_SESSION_CHECK);
        let closing = loop {
            tokio::select! {
                m = messages.next() => match m {
                    Some(Ok(actix_ws::AggregatedMessage::Text(t))) => {
                        // The same per-principal rate as over HTTP, message by message.
                        let caller = identity.lock().ok().and_then(|c| c.as_ref().map(|i| format!("{}:{}", i.principal.kind(), i.principal.actor().0)))
                            .unwrap_or_else(|| format!("addr:{rate_source}"));
                        if rate_state.throttle.rate("api", &caller, rate_state.requests_per_minute, 60).await.is_err() {
                            break Some((4429, "too many requests; slow down".to_string()));
                        }
                        let _ = to_graphql.unbounded_send(t.as_bytes().to_vec());
                    }
                    Some(Ok(actix_ws::AggregatedMessage::Binary(_))) => break Some((1003, "text messages only".to_string())),
                    Some(Ok(actix_ws::AggregatedMessage::Ping(b))) => { if session.pong(&b).await.is_err() { break None; } }
                    Some(Ok(actix_ws::AggregatedMessage::Pong(_))) => {}
                    Some(Ok(actix_ws::AggregatedMessage::Close(_))) | Some(Err(_)) | None => break None,
                },
                out = graphql.next() => match out {
                    Some(WsMessage::Text(t)) => { if session.text(t).await.is_err() { break None; } }
                    Some(WsMessage::Close(code, reason)) => break Some((code, reason)),
                    None => break None,
                },
                _ = tick.tick() => {
                    // A draining replica sends its sockets away (1001), so clients reconnect
                    // to another replica and the drain does not wait for them.
                    if rate_state.health.draining.load(std::sync::atomic::Ordering::Relaxed) {
                        break Some((1001, "the server is restarting; reconnect".to_string()));
                    }
                    let current = identity.lock().ok().and_then(|c| c.clone());
                    if let Some(id) = current && !id.still_valid().await {
                        break Some((4401, "the session has ended; sign in again".to_string()));
                    }
                }
            }
        };
        let reason = closing.map(|(code, reason)| actix_ws::CloseReason { code: code.into(), description: Some(reason) });
        let _ = session.close(reason).await;
    });
    Ok(response)
}

async fn graphiql(state: web::Data<HttpState>) -> HttpResponse {
    if !state.graphiql {
        return HttpResponse::NotFound().finish();
    }
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(GraphiQLSource::build().endpoint("/graphql").finish())
}

/// Whether a request to an internal endpoint carries the internal token.
pub(crate) fn internal(state: &HttpState, http: &HttpRequest) -> bool {
    let given = http.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    // Compared as digests: the time taken says nothing about the token.
    store::hash_secret(given.trim()) == store::hash_secret(&state.internal_token)
}

async fn readyz(state: web::Data<HttpState>) -> HttpResponse {
    ready(&state.health).await
}

/// Prometheus text format (internal: the internal token as bearer; the metrics listener
/// serves the same without it, on an internal address).
async fn metrics(state: web::Data<HttpState>, http: HttpRequest) -> HttpResponse {
    if !internal(&state, &http) {
        return HttpResponse::Unauthorized().body("the internal token is required");
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(metrics_text(&state.stats, state.metrics.as_ref()))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Bodies beyond the limit are refused with 413 before anything reads them.
    cfg.app_data(web::PayloadConfig::new(BODY_LIMIT))
        .app_data(web::JsonConfig::default().limit(64 * 1024))
        .app_data(web::FormConfig::default().limit(64 * 1024));
    super::login::routes(cfg);
    super::reports::routes(cfg);
    super::imports::routes(cfg);
    super::webhooks::routes(cfg);
    cfg.route("/graphql", web::post().to(graphql))
        .route("/graphql", web::get().to(graphiql))
        .route("/graphql/ws", web::get().to(graphql_ws))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}
