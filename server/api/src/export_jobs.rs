//! Exports as background jobs with progress (issue 19): a large export (a year of readings is
//! a million rows and tens of seconds of writing) runs while the portal shows how far it is,
//! then downloads through an expiring signed link.
//!
//! ```text
//! POST /exports/jobs {"path": "/exports/readings.xlsx?from=…&to=…"}   (bearer)
//!   202 {"id", "state": "RUNNING", "rows": 0, "total": 1000000, "file"}
//! GET  /exports/jobs/{id}                                            (bearer)
//!   200 {"id", "state": "RUNNING"|"DONE"|"FAILED", "rows", "total", "file", "error",
//!        "url": "/exports/jobs/{id}/file?link=…" (when DONE; five minutes), "expiresAt"}
//! GET  /exports/jobs/{id}/file?link=…   (or bearer)                  the file
//! ```
//!
//! A job is checked like the download it stands for (the same `authorize`: rights, scope,
//! parameters, the row limit) before it starts, so a refusal is immediate. It belongs to the
//! operator who started it: another operator, another tenant, or the link of another job sees
//! `404`. The file is written under `<data-dir>/exports/` and removed an hour after the job
//! ends (or at the next start). Jobs live in the process that runs them: behind several API
//! replicas, status and download must reach that replica (docs/REPORTS.md).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::auth::{Authenticated, authenticate, authenticate_link};
use super::http::HttpState;
use super::reports::{LINK_TTL, Params, Refusal, authorize, bearer, build_table, readings_selection, refuse};

/// Jobs one tenant may run at once.
const PER_TENANT: usize = 2;
/// How long a finished job's file is kept.
fn keep() -> chrono::Duration {
    chrono::Duration::hours(1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    Done,
    Failed,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Running => "RUNNING",
            State::Done => "DONE",
            State::Failed => "FAILED",
        }
    }
}

struct Job {
    tenant: String,
    operator: String,
    state: State,
    rows: Arc<AtomicU64>,
    total: u64,
    file: String,
    path: PathBuf,
    error: String,
    finished: Option<DateTime<Utc>>,
}

/// The jobs of this process and where their files go.
#[derive(Clone)]
pub struct ExportJobs {
    dir: PathBuf,
    jobs: Arc<Mutex<HashMap<String, Job>>>,
}

impl ExportJobs {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir, jobs: Arc::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Job>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets jobs that ended more than [`keep`] ago and removes their files.
    fn sweep(&self, now: DateTime<Utc>) {
        let mut jobs = self.lock();
        let old: Vec<String> =
            jobs.iter().filter(|(_, j)| j.finished.is_some_and(|f| now - f > keep())).map(|(id, _)| id.clone()).collect();
        for id in old {
            if let Some(j) = jobs.remove(&id) {
                let _ = std::fs::remove_file(&j.path);
            }
        }
    }

    fn finish(&self, id: &str, result: Result<(), String>) {
        let mut jobs = self.lock();
        if let Some(j) = jobs.get_mut(id) {
            j.finished = Some(Utc::now());
            match result {
                Ok(()) => {
                    j.state = State::Done;
                    if j.total < j.rows.load(Ordering::Relaxed) {
                        j.total = j.rows.load(Ordering::Relaxed);
                    }
                }
                Err(e) => {
                    tracing::error!(job = %id, cause = %e, "export job failed");
                    j.state = State::Failed;
                    j.error = e;
                    let _ = std::fs::remove_file(&j.path);
                }
            }
        }
    }
}

#[derive(serde::Deserialize)]
struct StartBody {
    /// `/exports/…` with its query, as for a download.
    path: String,
}

fn refused(r: Refusal) -> HttpResponse {
    refuse(r.status, r.code, &r.message)
}

/// `POST /exports/jobs {path}`.
async fn start(state: web::Data<HttpState>, http: HttpRequest, body: web::Json<StartBody>) -> HttpResponse {
    let path = body.path.trim();
    let Some(rest) = path.strip_prefix("/exports/") else {
        return refuse(StatusCode::BAD_REQUEST, "VALIDATION", "path: an export under /exports/");
    };
    if path.contains(['\r', '\n', '#']) || path.len() > 2000 {
        return refuse(StatusCode::BAD_REQUEST, "VALIDATION", "path: an export under /exports/");
    }
    let (file, query) = rest.split_once('?').unwrap_or((rest, ""));
    let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(query) else {
        return refuse(StatusCode::BAD_REQUEST, "VALIDATION", "path: the query cannot be read");
    };
    let q: Params = pairs.into_iter().filter(|(k, _)| k != "link").collect();
    let who = authenticate(&state.store, &state.keys, bearer(&http)).await;
    let export = match authorize(who, file, &q) {
        Ok(e) => e,
        Err(r) => return refused(r),
    };
    let tz = match super::desk::time_zone(&export.t).await {
        Ok(tz) => tz,
        Err(e) => return refused(Refusal::of(e)),
    };
    let tenant = export.t.tenant_id().to_string();
    // Checked before it starts: the parameters, the size.
    let readings = if export.name == "readings" {
        let s = match readings_selection(&q, export.property.clone()) {
            Ok(s) => s,
            Err(m) => return refused(Refusal::bad(m)),
        };
        match super::readings_export::check(&export.t, &s).await {
            Ok(n) => Some((s, n)),
            Err(m) => return refused(Refusal::bad(m)),
        }
    } else {
        None
    };
    let jobs = state.jobs.clone();
    jobs.sweep(Utc::now());
    if let Err(e) = std::fs::create_dir_all(&jobs.dir) {
        tracing::error!(cause = %e, "export directory");
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "internal error");
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let ext = export.ext.clone();
    let file_name = format!("{}-{}.{ext}", export.name, Utc::now().with_timezone(&tz).format("%Y%m%d-%H%M%S"));
    let rows = Arc::new(AtomicU64::new(0));
    {
        let mut all = jobs.lock();
        if all.values().filter(|j| j.tenant == tenant && j.state == State::Running).count() >= PER_TENANT {
            return refuse(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", "two exports are already running for this company; wait for one");
        }
        all.insert(
            id.clone(),
            Job {
                tenant,
                operator: export.operator.clone(),
                state: State::Running,
                rows: rows.clone(),
                total: readings.as_ref().map(|(_, n)| *n as u64).unwrap_or(0),
                file: file_name.clone(),
                path: jobs.dir.join(format!("{id}.{ext}")),
                error: String::new(),
                finished: None,
            },
        );
    }
    let path = jobs.dir.join(format!("{id}.{ext}"));
    let job_id = id.clone();
    let runner = jobs.clone();
    tokio::spawn(async move {
        let csv = ext == "csv";
        let result = match readings {
            Some((s, _)) => super::readings_export::to_file(export.t, s, csv, export.lang, tz, rows, path).await,
            None => match build_table(&export.t, &export.name, &q, export.property, export.lang).await {
                Err(r) => Err(r.message),
                Ok(table) => {
                    if let Some(j) = runner.lock().get_mut(&job_id) {
                        j.total = table.rows.len() as u64;
                    }
                    let n = table.rows.len() as u64;
                    let lang = export.lang;
                    let written = tokio::task::spawn_blocking(move || -> Result<(), String> {
                        let bytes =
                            if csv { super::export::csv(&table, lang, tz).into_bytes() } else { super::export::xlsx(&table, lang, tz)? };
                        std::fs::write(&path, bytes).map_err(|e| e.to_string())
                    })
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r);
                    if written.is_ok() {
                        rows.store(n, Ordering::Relaxed);
                    }
                    written
                }
            },
        };
        runner.finish(&job_id, result);
    });
    let view = status_of(&state, &id, None);
    HttpResponse::Accepted().insert_header(("Cache-Control", "no-store")).json(view)
}

/// A job as the owner sees it; with `link_claims` a download link when it is done.
fn status_of(state: &HttpState, id: &str, link_claims: Option<&super::auth::Claims>) -> serde_json::Value {
    let jobs = state.jobs.lock();
    let Some(j) = jobs.get(id) else { return json!(null) };
    let rows = j.rows.load(Ordering::Relaxed);
    let mut v = json!({
        "id": id, "state": j.state.as_str(), "rows": rows, "total": j.total.max(rows), "file": j.file, "error": j.error,
    });
    if j.state == State::Done
        && let Some(claims) = link_claims
    {
        let bound = format!("/exports/jobs/{id}/file");
        match state.keys.issue_link(claims, &bound, LINK_TTL) {
            Ok(token) => {
                v["url"] = json!(format!("{bound}?link={token}"));
                v["expiresAt"] = json!((Utc::now() + LINK_TTL).to_rfc3339());
            }
            Err(e) => tracing::error!(cause = %e, "link token"),
        }
    }
    v
}

/// The job, if the caller (an operator of its tenant) started it.
fn owned(state: &HttpState, id: &str, who: Option<Authenticated>) -> Result<(), Refusal> {
    let (tenant, operator) = match who {
        Some(Authenticated::Principal(p, Some(t))) => match *p {
            super::auth::Principal::Operator { id, .. } => (t.tenant_id().to_string(), id),
            _ => return Err(Refusal { status: StatusCode::FORBIDDEN, code: "FORBIDDEN", message: "operators only".into() }),
        },
        Some(Authenticated::Suspended) => {
            return Err(Refusal { status: StatusCode::FORBIDDEN, code: "FORBIDDEN", message: "the tenant is suspended".into() });
        }
        _ => return Err(Refusal { status: StatusCode::UNAUTHORIZED, code: "UNAUTHENTICATED", message: "authentication required".into() }),
    };
    let jobs = state.jobs.lock();
    match jobs.get(id) {
        Some(j) if j.tenant == tenant && j.operator == operator => Ok(()),
        _ => Err(Refusal { status: StatusCode::NOT_FOUND, code: "NOT_FOUND", message: "no such export job".into() }),
    }
}

/// `GET /exports/jobs/{id}`.
async fn status(state: web::Data<HttpState>, http: HttpRequest, id: web::Path<String>) -> HttpResponse {
    let token = bearer(&http);
    let Some(claims) = state.keys.verify(token).filter(|c| c.path.is_none()) else {
        return refuse(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "authentication required");
    };
    if let Err(r) = owned(&state, &id, authenticate(&state.store, &state.keys, token).await) {
        return refused(r);
    }
    HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(status_of(&state, &id, Some(&claims)))
}

/// `GET /exports/jobs/{id}/file` (the link from the status, or bearer).
async fn download(state: web::Data<HttpState>, http: HttpRequest, id: web::Path<String>, q: web::Query<Params>) -> HttpResponse {
    let who = match q.get("link") {
        Some(token) => authenticate_link(&state.store, &state.keys, token, http.path()).await,
        None => authenticate(&state.store, &state.keys, bearer(&http)).await,
    };
    if let Err(r) = owned(&state, &id, who) {
        return refused(r);
    }
    let (path, file, done) = {
        let jobs = state.jobs.lock();
        match jobs.get(id.as_str()) {
            Some(j) => (j.path.clone(), j.file.clone(), j.state == State::Done),
            None => return refuse(StatusCode::NOT_FOUND, "NOT_FOUND", "no such export job"),
        }
    };
    if !done {
        return refuse(StatusCode::CONFLICT, "CONFLICT", "the export is not finished");
    }
    match actix_files::NamedFile::open_async(&path).await {
        Ok(f) => {
            let f = f.set_content_disposition(actix_web::http::header::ContentDisposition {
                disposition: actix_web::http::header::DispositionType::Attachment,
                parameters: vec![actix_web::http::header::DispositionParam::Filename(file.clone())],
            });
            let mut res = f.into_response(&http);
            let content_type = if file.ends_with(".csv") {
                "text/csv; charset=utf-8"
            } else {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            };
            let headers = res.headers_mut();
            headers.insert(actix_web::http::header::CONTENT_TYPE, actix_web::http::header::HeaderValue::from_static(content_type));
            headers.insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
            res
        }
        Err(_) => refuse(StatusCode::NOT_FOUND, "NOT_FOUND", "the file is gone; start the export again"),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/exports/jobs", web::post().to(start))
        .route("/exports/jobs/{id}", web::get().to(status))
        .route("/exports/jobs/{id}/file", web::get().to(download));
}
