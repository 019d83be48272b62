//! Observability at the HTTP edge: a span per request (its id, route, and — set by the
//! GraphQL handler — tenant and principal) that every log line inside carries, request
//! metrics by route and status, and the small apps bridges and workers serve: probes and
//! metrics.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{HttpRequest, HttpResponse, web};
use mqtt_bridge::session::BridgeStats;
use tracing::Instrument as _;

use crate::api::http::{Health, healthz, metrics_text, ready};

type Recorded = Option<metrics_exporter_prometheus::PrometheusHandle>;

/// Wraps every request of the API: a `request` span and the route's latency and status.
pub fn request<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: actix_web::dev::Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    // The matched pattern, never the raw path: ids in paths must not become label values.
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let id = uuid::Uuid::new_v4().simple().to_string();
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), route = %route,
        tenant = tracing::field::Empty, principal = tracing::field::Empty);
    let started = std::time::Instant::now();
    let call = srv.call(req);
    async move {
        let res = call.await;
        let status = match &res {
            Ok(r) => r.status().as_u16(),
            Err(e) => e.as_response_error().status_code().as_u16(),
        };
        metrics::counter!("voltledger_http_requests_total", "route" => route.clone(), "status" => status.to_string()).increment(1);
        metrics::histogram!("voltledger_http_request_duration_seconds", "route" => route).record(started.elapsed().as_secs_f64());
        res
    }
    .instrument(span)
}

type Probes = (Health, String, Arc<BridgeStats>, Recorded);

async fn probe_ready(state: web::Data<Probes>) -> HttpResponse {
    ready(&state.0).await
}

async fn probe_metrics(state: web::Data<Probes>, http: HttpRequest) -> HttpResponse {
    let given = http.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    if crate::store::hash_secret(given.trim()) != crate::store::hash_secret(&state.1) {
        return HttpResponse::Unauthorized().body("the internal token is required");
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(metrics_text(&state.2, state.3.as_ref()))
}

/// What a bridge or a worker serves on its HTTP listener.
pub fn probe_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(probe_ready))
        .route("/metrics", web::get().to(probe_metrics));
}

async fn open_metrics(state: web::Data<(Arc<BridgeStats>, Recorded)>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(metrics_text(&state.0, state.1.as_ref()))
}

/// The internal metrics listener: `/metrics` without a token (bind it to an internal address).
pub fn metrics_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(open_metrics));
}
