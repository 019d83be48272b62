//! The scheduler of reports (issue 19): makes the runs of schedules whose time has come and
//! sends each — the export built as the download builds it (`api::reports::build_table`),
//! written as .xlsx or CSV, e-mailed through the platform's relay with the file attached, or
//! posted to the schedule's webhook signed like forwarding. A failure stays on the run
//! (attempts, last error) and is retried with backoff for a day.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

use crate::api::export::Lang;
use crate::api::reports::{Params, build_table};
use crate::store::{Schedule, ScheduleRun, Store, TenantStore};
use connectors::mail::{Mail, MailConfig};
use domain::ids::PropertyId;

/// What a run made and how many rows it held.
pub struct Report {
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    pub rows: i64,
}

/// A failure: its message and whether retrying can help.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub permanent: bool,
}

fn failure(message: impl Into<String>, permanent: bool) -> Failure {
    Failure { message: message.into(), permanent }
}

/// One pass: runs made for every due schedule, then due runs sent. Answers how many were sent.
pub async fn run_pass(store: &Store, mail: Option<&MailConfig>, client: &reqwest::Client, now: DateTime<Utc>) -> Result<usize, String> {
    let mut sent = 0;
    for tenant in store.schedule_work(now).await.map_err(|e| e.to_string())? {
        let t = store.tenant(tenant);
        t.make_due_runs(now).await.map_err(|e| e.to_string())?;
        for (schedule, run) in t.due_runs(now, 20).await.map_err(|e| e.to_string())? {
            if !t.claim_run(&run.id, now, chrono::Duration::minutes(10)).await.map_err(|e| e.to_string())? {
                continue;
            }
            match send_run(&t, &schedule, &run, mail, client).await {
                Ok(rows) => {
                    t.run_sent(&run.id, rows, Utc::now()).await.map_err(|e| e.to_string())?;
                    tracing::info!(schedule = %schedule.id, run = %run.id, rows, "scheduled report sent");
                    sent += 1;
                }
                Err(f) => {
                    tracing::warn!(schedule = %schedule.id, run = %run.id, cause = %f.message, permanent = f.permanent, "scheduled report not sent");
                    t.run_failed(&run, &f.message, f.permanent, Utc::now()).await.map_err(|e| e.to_string())?;
                }
            }
        }
    }
    Ok(sent)
}

/// The report of a run, as the schedule says (format, language, filters, the run's period).
pub async fn make_report(t: &TenantStore, s: &Schedule, run: &ScheduleRun) -> Result<Report, Failure> {
    let tz: Tz = t.tenant_row().await.map_err(|e| failure(e.to_string(), false))?.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let mut q: Params = serde_urlencoded::from_str::<HashMap<String, String>>(&s.params).unwrap_or_default();
    q.insert("from".into(), run.period_from.to_rfc3339());
    q.insert("to".into(), run.period_to.to_rfc3339());
    // Reports of a month (demand, bills) take the period's month unless the filters name one.
    let local_from = run.period_from.with_timezone(&tz);
    q.entry("period".into()).or_insert_with(|| format!("{:04}-{:02}", local_from.year(), local_from.month()));
    let property = match q.get("propertyId").map(|p| p.trim()).filter(|p| !p.is_empty()) {
        Some(p) => Some(PropertyId::parse(p).ok_or_else(|| failure("propertyId: not an id", true))?),
        None => None,
    };
    let lang = Lang::parse(Some(&s.lang));
    let table = build_table(t, &s.report, &q, property, lang).await.map_err(|r| {
        // A refusal of the request itself will refuse every time; the rest may pass later.
        failure(format!("{}: {}", r.code, r.message), r.status.is_client_error())
    })?;
    let rows = table.rows.len() as i64;
    let stem = format!("{}-{}", table.name, local_from.format("%Y%m%d"));
    if s.format == "csv" {
        let bytes = crate::api::export::csv(&table, lang, tz).into_bytes();
        return Ok(Report { file_name: format!("{stem}.csv"), content_type: "text/csv; charset=utf-8", bytes, rows });
    }
    let bytes = tokio::task::spawn_blocking(move || crate::api::export::xlsx(&table, lang, tz))
        .await
        .map_err(|e| failure(e.to_string(), false))?
        .map_err(|e| failure(e, false))?;
    Ok(Report {
        file_name: format!("{stem}.xlsx"),
        content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
        rows,
    })
}

/// Makes and sends one run; answers its row count.
pub async fn send_run(
    t: &TenantStore,
    s: &Schedule,
    run: &ScheduleRun,
    mail: Option<&MailConfig>,
    client: &reqwest::Client,
) -> Result<i64, Failure> {
    let report = make_report(t, s, run).await?;
    let tenant = t.tenant_row().await.map_err(|e| failure(e.to_string(), false))?;
    let tz: Tz = tenant.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let (from, to) = (run.period_from.with_timezone(&tz), run.period_to.with_timezone(&tz));
    let period = format!("{} – {}", from.format("%Y-%m-%d %H:%M"), to.format("%Y-%m-%d %H:%M"));
    match s.channel.as_str() {
        "EMAIL" => {
            let Some(config) = mail else {
                return Err(failure("no mail relay is configured on this platform (VOLTLEDGER__MAIL__URL)", false));
            };
            let (subject, body) = if s.lang == "en" {
                (
                    format!("[{}] {} {}", tenant.name, s.name, from.format("%Y-%m-%d")),
                    format!(
                        "{}: the report \"{}\" for {period} ({}), {} rows, is attached.\n\nSent by VoltLedger on the schedule set by {}.\n",
                        tenant.name, s.name, tz, report.rows, s.created_by
                    ),
                )
            } else {
                (
                    format!("[{}] {} {}", tenant.name, s.name, from.format("%Y-%m-%d")),
                    format!(
                        "{}：报表「{}」，期间 {period}（{}），共 {} 行，见附件。\n\n此邮件由 VoltLedger 按 {} 设置的定时任务发送。\n",
                        tenant.name, s.name, tz, report.rows, s.created_by
                    ),
                )
            };
            let m = Mail {
                to: s.recipients.clone(),
                subject,
                body,
                file_name: report.file_name,
                content_type: report.content_type.to_string(),
                attachment: report.bytes,
            };
            connectors::mail::send(config, &m).await.map_err(|e| failure(e.message, e.permanent))?;
        }
        "WEBHOOK" => {
            let secret = t.schedule_secret(&s.id).await.map_err(|e| failure(e.to_string(), false))?;
            let ts = Utc::now().timestamp();
            let signature = connectors::forward::signature(&secret, ts, &report.bytes);
            let answer = client
                .post(&s.url)
                .header("Content-Type", report.content_type)
                .header("Content-Disposition", format!("attachment; filename=\"{}\"", report.file_name))
                .header("X-VoltLedger-Timestamp", ts.to_string())
                .header("X-VoltLedger-Signature", signature)
                .header("X-VoltLedger-Schedule", &s.id)
                .header("X-VoltLedger-Period", format!("{}/{}", run.period_from.to_rfc3339(), run.period_to.to_rfc3339()))
                .header("Idempotency-Key", &run.id)
                .header("User-Agent", "VoltLedger-Reports/1")
                .body(report.bytes)
                .send()
                .await
                .map_err(|e| failure(format!("webhook: {e}"), false))?;
            let status = answer.status();
            if !status.is_success() {
                return Err(failure(format!("webhook answered {status}"), false));
            }
        }
        other => return Err(failure(format!("unknown channel {other}"), true)),
    }
    Ok(report.rows)
}
