//! The built portal (`web/dist`) at `/` and the customers' mobile pages (`web/dist/m/`) at
//! `/m/`: hashed assets cached for a year, `index.html` (or `m/index.html` under `/m/`) never
//! cached and answered for every other GET path the API does not own (the single-page apps'
//! routes). The API's own paths are registered before these and stay untouched.

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpRequest, HttpResponse, web};

/// Where the built portal is.
#[derive(Clone)]
struct PortalDir(PathBuf);

/// Paths that belong to the API: an unknown one is a 404, not the portal.
const API_PREFIXES: [&str; 7] = ["/graphql", "/auth/", "/pay/", "/healthz", "/readyz", "/metrics", "/receipts/"];

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
                   font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// True when `dir` holds a built portal.
pub fn is_built(dir: &Path) -> bool {
    dir.join("index.html").is_file()
}

pub fn routes(cfg: &mut web::ServiceConfig, dir: Option<PathBuf>) {
    let Some(dir) = dir.filter(|d| is_built(d)) else {
        cfg.route("/", web::get().to(not_built));
        return;
    };
    cfg.app_data(web::Data::new(PortalDir(dir.clone())))
        .route("/", web::get().to(index))
        .route("/", web::head().to(index))
        .route("/index.html", web::get().to(index))
        .route("/m", web::get().to(index))
        .route("/m/", web::get().to(index))
        .service(
            web::scope("/assets")
                .wrap(
                    DefaultHeaders::new()
                        .add((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
                        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")),
                )
                .service(Files::new("", dir.join("assets"))),
        )
        .service(
            web::scope("")
                .wrap(DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")))
                .service(Files::new("/", &dir).default_handler(actix_web::dev::fn_service(fallback))),
        );
}

/// True for the customers' mobile pages (`/m`, `/m/…`).
fn is_mobile(path: &str) -> bool {
    path == "/m" || path.starts_with("/m/")
}

async fn index(req: HttpRequest, dir: web::Data<PortalDir>) -> actix_web::Result<HttpResponse> {
    let page = if is_mobile(req.path()) { dir.0.join("m").join("index.html") } else { dir.0.join("index.html") };
    let file = NamedFile::open_async(page).await?;
    let mut res = file.use_etag(true).use_last_modified(false).into_response(&req);
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    Ok(res)
}

/// A path no file answers: the portal's own route (GET) or nothing.
async fn fallback(req: actix_web::dev::ServiceRequest) -> Result<actix_web::dev::ServiceResponse, actix_web::Error> {
    let (req, _) = req.into_parts();
    let path = req.path();
    let is_api = API_PREFIXES.iter().any(|p| path.starts_with(p));
    let wants_page = req.method() == actix_web::http::Method::GET && !is_api && !path.starts_with("/assets/");
    let res = match (wants_page, req.app_data::<web::Data<PortalDir>>().cloned()) {
        (true, Some(dir)) => index(req.clone(), dir).await?,
        _ => HttpResponse::NotFound().finish(),
    };
    Ok(actix_web::dev::ServiceResponse::new(req, res))
}

async fn not_built() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").insert_header((header::CACHE_CONTROL, "no-cache")).body(
        "<!doctype html><meta charset=utf-8><title>VoltLedger</title>\
         <p>The portal is not built. Run <code>bash infra/run.sh</code> (it builds <code>web/</code> and starts the server), \
         or <code>npm --prefix web ci &amp;&amp; npm --prefix web run build</code>. The API is at <a href=/graphql>/graphql</a>.</p>",
    )
}
