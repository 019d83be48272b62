//! GraphQL for scheduled reports (定时报表): a report export sent daily, weekly or monthly
//! for the period just ended, by e-mail with the file attached or to a signed webhook; pause,
//! resume, retire, send a period now, and each run with its attempts and last error. The
//! sending is the server's `report schedules` job.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::ApiError;
use super::graphql::{Res, err, tenant};
use domain::Invalid;
use domain::schedule::valid_address;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ScheduleCadence {
    /// Every day, the day before.
    Daily,
    /// Mondays, the week before (Monday to Sunday).
    Weekly,
    /// The 1st, the month before.
    Monthly,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ScheduleChannel {
    /// E-mail with the file attached, through the platform's mail relay.
    Email,
    /// A POST of the file to a URL, signed like forwarding (`X-VoltLedger-Signature`).
    Webhook,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ExportFormat {
    Xlsx,
    Csv,
}

/// A scheduled report (定时报表).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ReportSchedule {
    pub id: ID,
    pub name: String,
    /// The export sent: sales, energy, meter-readings, low-balances, demand, lost-devices,
    /// ledger, bills or alarms.
    pub report: String,
    /// The export's filters as a query string (`bucket=DAY&by=CHANNEL`); the range is the period.
    pub params: String,
    pub format: ExportFormat,
    /// zh or en.
    pub lang: String,
    pub cadence: ScheduleCadence,
    /// The local hour it is sent at.
    pub hour: i64,
    pub channel: ScheduleChannel,
    pub recipients: Vec<String>,
    pub url: String,
    /// ACTIVE or PAUSED.
    pub state: String,
    pub next_run_at: DateTime<Utc>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<store::Schedule> for ReportSchedule {
    fn from(s: store::Schedule) -> Self {
        Self {
            id: ID(s.id),
            name: s.name,
            report: s.report,
            params: s.params,
            format: if s.format == "csv" { ExportFormat::Csv } else { ExportFormat::Xlsx },
            lang: s.lang,
            cadence: match s.cadence.as_str() {
                "WEEKLY" => ScheduleCadence::Weekly,
                "MONTHLY" => ScheduleCadence::Monthly,
                _ => ScheduleCadence::Daily,
            },
            hour: s.hour,
            channel: if s.channel == "WEBHOOK" { ScheduleChannel::Webhook } else { ScheduleChannel::Email },
            recipients: s.recipients,
            url: s.url,
            state: s.state,
            next_run_at: s.next_run_at,
            created_by: s.created_by,
            created_at: s.created_at,
        }
    }
}

#[ComplexObject]
impl ReportSchedule {
    /// Its runs, newest period first.
    async fn runs(&self, ctx: &Context<'_>, #[graphql(default = 20)] first: i64) -> Res<Vec<ReportRun>> {
        let runs = tenant(ctx)?.schedule_runs(self.id.as_str(), first.clamp(1, 200) as u64).await.map_err(err)?;
        Ok(runs.into_iter().map(Into::into).collect())
    }
}

/// One period's report of a schedule: sent, still trying, or given up (DEAD).
#[derive(SimpleObject)]
pub struct ReportRun {
    pub id: ID,
    pub period_from: DateTime<Utc>,
    pub period_to: DateTime<Utc>,
    /// PENDING, SENT or DEAD.
    pub state: String,
    pub attempts: i64,
    pub next_at: DateTime<Utc>,
    pub last_error: String,
    /// The report's rows, once sent.
    pub rows_sent: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<store::ScheduleRun> for ReportRun {
    fn from(r: store::ScheduleRun) -> Self {
        Self {
            id: ID(r.id),
            period_from: r.period_from,
            period_to: r.period_to,
            state: r.state,
            attempts: r.attempts,
            next_at: r.next_at,
            last_error: r.last_error,
            rows_sent: r.rows_sent,
            created_at: r.created_at,
            sent_at: r.sent_at,
        }
    }
}

#[derive(InputObject)]
pub struct CreateReportScheduleInput {
    pub name: String,
    pub report: String,
    /// Filters as a query string; `from`, `to` and `link` are the schedule's own.
    #[graphql(default)]
    pub params: String,
    #[graphql(default_with = "ExportFormat::Xlsx")]
    pub format: ExportFormat,
    #[graphql(default_with = "String::from(\"zh\")")]
    pub lang: String,
    pub cadence: ScheduleCadence,
    /// Local hour, 0–23.
    #[graphql(default = 8)]
    pub hour: i64,
    pub channel: ScheduleChannel,
    /// E-mail: 1 to 20 addresses.
    #[graphql(default)]
    pub recipients: Vec<String>,
    /// Webhook: the URL the file is posted to.
    #[graphql(default)]
    pub url: String,
}

/// A new schedule, and for a webhook its signing secret (shown this once).
#[derive(SimpleObject)]
pub struct ReportScheduleCreated {
    pub schedule: ReportSchedule,
    pub secret: Option<String>,
}

/// The exports a schedule may send (the statement is one account's, sent on request).
const SCHEDULABLE: [&str; 9] = ["sales", "energy", "meter-readings", "low-balances", "demand", "lost-devices", "ledger", "bills", "alarms"];

fn check_params(params: &str) -> Res<String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(params.trim().trim_start_matches('?')).map_err(|_| err(Invalid::new("params", "a query string")))?;
    for (k, v) in &pairs {
        if matches!(k.as_str(), "from" | "to" | "link" | "lang") {
            return Err(err(Invalid::new("params", format!("{k} is the schedule's own"))));
        }
        if k.len() > 40 || v.len() > 200 {
            return Err(err(Invalid::new("params", "too long")));
        }
    }
    if pairs.len() > 20 {
        return Err(err(Invalid::new("params", "at most 20 filters")));
    }
    Ok(serde_urlencoded::to_string(&pairs).unwrap_or_default())
}

#[derive(Default)]
pub struct ScheduleQuery;

#[Object]
impl ScheduleQuery {
    /// The tenant's scheduled reports (定时报表).
    async fn report_schedules(&self, ctx: &Context<'_>) -> Res<Vec<ReportSchedule>> {
        Ok(tenant(ctx)?.schedules().await.map_err(err)?.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct ScheduleMutation;

#[Object]
impl ScheduleMutation {
    /// Schedules a report: sent at `hour` local after each period ends, first at the next
    /// such time.
    async fn create_report_schedule(&self, ctx: &Context<'_>, input: CreateReportScheduleInput) -> Res<ReportScheduleCreated> {
        let t = tenant(ctx)?;
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(err(Invalid::new("name", "1 to 100 characters")));
        }
        if !SCHEDULABLE.contains(&input.report.as_str()) {
            return Err(err(Invalid::new("report", format!("one of {}", SCHEDULABLE.join(", ")))));
        }
        if !(0..=23).contains(&input.hour) {
            return Err(err(Invalid::new("hour", "0 to 23")));
        }
        let lang = match input.lang.as_str() {
            "zh" | "en" => input.lang.clone(),
            _ => return Err(err(Invalid::new("lang", "zh or en"))),
        };
        let params = check_params(&input.params)?;
        let (recipients, url, secret) = match input.channel {
            ScheduleChannel::Email => {
                let mut list: Vec<String> = input.recipients.iter().map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect();
                list.sort();
                list.dedup();
                if list.is_empty() || list.len() > 20 {
                    return Err(err(Invalid::new("recipients", "1 to 20 e-mail addresses")));
                }
                if let Some(bad) = list.iter().find(|r| !valid_address(r)) {
                    return Err(err(Invalid::new("recipients", format!("{bad:?} is not an e-mail address"))));
                }
                (list, String::new(), None)
            }
            ScheduleChannel::Webhook => {
                let url = super::outbound_url(ctx, "url", input.url.trim())?;
                (Vec::new(), url, Some(hex::encode(rand::random::<[u8; 32]>())))
            }
        };
        let who = match ctx.data_opt::<super::auth::Principal>() {
            Some(super::auth::Principal::Operator { username, .. }) => username.clone(),
            _ => return Err(err(ApiError::Unauthenticated)),
        };
        let new = store::NewSchedule {
            name: name.to_string(),
            report: input.report.clone(),
            params,
            format: if input.format == ExportFormat::Csv { "csv".into() } else { "xlsx".into() },
            lang,
            cadence: match input.cadence {
                ScheduleCadence::Daily => "DAILY",
                ScheduleCadence::Weekly => "WEEKLY",
                ScheduleCadence::Monthly => "MONTHLY",
            }
            .into(),
            hour: input.hour as u32,
            channel: if input.channel == ScheduleChannel::Webhook { "WEBHOOK".into() } else { "EMAIL".into() },
            recipients,
            url,
            secret: secret.clone(),
            created_by: who,
        };
        let schedule = t.create_schedule(&new, Utc::now()).await.map_err(err)?;
        Ok(ReportScheduleCreated { schedule: schedule.into(), secret })
    }

    async fn pause_report_schedule(&self, ctx: &Context<'_>, id: ID) -> Res<ReportSchedule> {
        Ok(tenant(ctx)?.set_schedule_state(id.as_str(), "PAUSED", Utc::now()).await.map_err(err)?.into())
    }

    /// Active again from now (periods missed while paused are not sent; `runReportSchedule`
    /// sends one).
    async fn resume_report_schedule(&self, ctx: &Context<'_>, id: ID) -> Res<ReportSchedule> {
        Ok(tenant(ctx)?.set_schedule_state(id.as_str(), "ACTIVE", Utc::now()).await.map_err(err)?.into())
    }

    async fn retire_report_schedule(&self, ctx: &Context<'_>, id: ID) -> Res<ReportSchedule> {
        Ok(tenant(ctx)?.set_schedule_state(id.as_str(), "RETIRED", Utc::now()).await.map_err(err)?.into())
    }

    /// Sends the report of `[from, to)` now (a period missed, or again): a run the job picks
    /// up within a minute.
    async fn run_report_schedule(&self, ctx: &Context<'_>, id: ID, from: DateTime<Utc>, to: DateTime<Utc>) -> Res<ReportRun> {
        if to <= from {
            return Err(err(Invalid::new("to", "must be after from")));
        }
        if to - from > chrono::Duration::days(366) {
            return Err(err(Invalid::new("to", "at most a year after from")));
        }
        Ok(tenant(ctx)?.run_schedule_now(id.as_str(), from, to, Utc::now()).await.map_err(err)?.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_checked() {
        assert_eq!(check_params("?bucket=DAY&by=CHANNEL").ok().as_deref(), Some("bucket=DAY&by=CHANNEL"));
        assert!(check_params("from=2026-01-01").is_err());
        assert!(check_params("link=x").is_err());
    }
}
