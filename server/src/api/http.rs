//! HTTP edge: `/graphql` (POST queries, GET GraphiQL), `/graphql/ws` (subscriptions,
//! graphql-transport-ws; the token in the `connection_init` payload), `/healthz`, `/readyz`,
//! `/metrics`.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::http::GraphiQLSource;
use async_graphql_actix_web::{GraphQLRequest, GraphQLResponse, GraphQLSubscription};

use super::auth::{Authenticated, Throttle, TokenKeys, authenticate};
use super::graphql::VoltSchema;
use super::guard::{Source, Suspended};
use crate::store::Store;

pub struct HttpState {
    pub schema: VoltSchema,
    pub store: Store,
    pub keys: TokenKeys,
    pub throttle: Throttle,
    pub stats: Arc<mqtt_bridge::session::BridgeStats>,
    pub public_url: super::PublicUrl,
}

/// Adds who is calling to a request's data: the principal, the tenant store it may use
/// (scoped to its properties), or the suspended marker.
pub async fn identify(store: &Store, keys: &TokenKeys, bearer: Option<&str>, mut data: async_graphql::Data) -> async_graphql::Data {
    match authenticate(store, keys, bearer.unwrap_or("")).await {
        Some(Authenticated::Principal(p, t)) => {
            if let Some(t) = t {
                data.insert(t);
            }
            if matches!(*p, super::auth::Principal::Admin) {
                data.insert(store.clone());
            }
            data.insert(*p);
        }
        Some(Authenticated::Suspended) => data.insert(Suspended),
        None => {}
    }
    data
}

async fn graphql(state: web::Data<HttpState>, http: HttpRequest, request: GraphQLRequest) -> GraphQLResponse {
    let mut request = request.into_inner();
    let bearer = http.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
    let mut data = identify(&state.store, &state.keys, bearer, async_graphql::Data::default()).await;
    data.insert(Source(super::login::source(&http)));
    data.insert(state.public_url.clone());
    request.data = data;
    state.schema.execute(request).await.into()
}

/// Subscriptions over WebSocket. The access token travels in the `connection_init` payload as
/// `{"Authorization": "Bearer …"}` (browsers cannot set headers on a WebSocket).
async fn graphql_ws(state: web::Data<HttpState>, http: HttpRequest, payload: web::Payload) -> actix_web::Result<HttpResponse> {
    let (store, keys) = (state.store.clone(), state.keys.clone());
    GraphQLSubscription::new(state.schema.clone())
        .on_connection_init(move |init: serde_json::Value| async move {
            let bearer = ["Authorization", "authorization"]
                .iter()
                .find_map(|k| init.get(*k).and_then(|v| v.as_str()))
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .map(str::to_string);
            Ok(identify(&store, &keys, bearer.as_deref(), async_graphql::Data::default()).await)
        })
        .start(&http, payload)
}

async fn graphiql() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(GraphiQLSource::build().endpoint("/graphql").finish())
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

async fn readyz(state: web::Data<HttpState>) -> HttpResponse {
    match state.store.platform_tenants().await {
        Ok(_) => HttpResponse::Ok().body("ready"),
        Err(_) => HttpResponse::ServiceUnavailable().body("database unavailable"),
    }
}

/// Prometheus text format of the ingestion counters.
async fn metrics(state: web::Data<HttpState>) -> HttpResponse {
    use mqtt_bridge::session::BridgeStats as S;
    let s = &state.stats;
    let body = format!(
        "# TYPE voltledger_uplink_publishes_total counter\nvoltledger_uplink_publishes_total {}\n\
         # TYPE voltledger_readings_total counter\nvoltledger_readings_total {}\n\
         # TYPE voltledger_readings_stored_total counter\nvoltledger_readings_stored_total {}\n\
         # TYPE voltledger_readings_duplicate_total counter\nvoltledger_readings_duplicate_total {}\n\
         # TYPE voltledger_uplink_rejected_total counter\nvoltledger_uplink_rejected_total {}\n\
         # TYPE voltledger_uplink_unknown_meter_total counter\nvoltledger_uplink_unknown_meter_total {}\n",
        S::get(&s.publishes),
        S::get(&s.readings),
        S::get(&s.stored),
        S::get(&s.duplicates),
        S::get(&s.rejected),
        S::get(&s.unknown_meter),
    );
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(body)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    super::login::routes(cfg);
    super::pay::routes(cfg);
    cfg.route("/graphql", web::post().to(graphql))
        .route("/graphql", web::get().to(graphiql))
        .route("/graphql/ws", web::get().to(graphql_ws))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}
