//! Reports (issue 19), in the tenant's time zone, property scope kept, exact decimals: money
//! received by day, month or year per channel, operator or payee (售电统计); the
//! meter-reading report (抄表); arrears and low balances (欠费/低余额). Each is a GraphQL
//! query and an export (`GET /exports/{name}.xlsx|.csv`, the same rows as a table).

use std::collections::BTreeMap;

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::export::{Cell, Kind, Table, col};
use super::graphql::{Res, err, parse_ref, tenant};
use domain::Invalid;
use domain::ids::*;
use domain::metering::from_scaled;
use store::TenantStore;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SalesBucket {
    Day,
    Month,
    Year,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SalesBy {
    /// CASH, TRANSFER, WECHAT, ALIPAY; REFUND for money given back.
    Channel,
    /// The operator who took the money; ONLINE for the customer's own payments, SYSTEM for
    /// what the platform posted itself.
    Operator,
    /// The payee an online payment went to; DESK for money taken at the desk.
    Payee,
}

/// One line of the sales report: a period and a key, with the count and net amount.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct SalesLine {
    /// The local period: `2026-12-06`, `2026-12` or `2026`.
    pub period: String,
    pub key: String,
    /// What the key names (the payee's name; the key itself otherwise).
    pub name: String,
    pub count: i64,
    /// Yuan, net of refunds and reversals.
    pub amount: Decimal,
}

/// One meter's line of the meter-reading report (抄表).
#[derive(SimpleObject, Debug, Clone)]
pub struct ReadingReportLine {
    pub meter_id: ID,
    pub address: String,
    pub property_id: ID,
    pub area_id: Option<ID>,
    pub account_number: Option<String>,
    pub customer_name: Option<String>,
    /// PT × CT.
    pub ratio: i64,
    /// The register (kWh, as the meter shows it) at the start, and when it was read.
    pub start_register: Option<Decimal>,
    pub start_read_at: Option<DateTime<Utc>>,
    pub end_register: Option<Decimal>,
    pub end_read_at: Option<DateTime<Utc>>,
    /// kWh on the primary side (× PT × CT), as bills count it.
    pub usage: Option<Decimal>,
}

/// An account in arrears or low (欠费/低余额).
#[derive(SimpleObject, Debug, Clone)]
pub struct LowBalanceLine {
    pub account_id: ID,
    pub number: String,
    pub customer_name: String,
    pub phone: String,
    pub balance: Decimal,
    /// LOW_1, LOW_2, ARREARS or EXHAUSTED.
    pub balance_state: String,
}

fn period(tz: Tz, at: DateTime<Utc>, bucket: SalesBucket) -> String {
    let d = at.with_timezone(&tz).date_naive();
    match bucket {
        SalesBucket::Day => d.to_string(),
        SalesBucket::Month => format!("{:04}-{:02}", d.year(), d.month()),
        SalesBucket::Year => format!("{:04}", d.year()),
    }
}

fn check_range(from: DateTime<Utc>, to: DateTime<Utc>) -> Res<()> {
    if to <= from {
        return Err(err(Invalid::new("to", "must be after from")));
    }
    if to - from > chrono::Duration::days(3 * 366) {
        return Err(err(Invalid::new("to", "at most three years after from")));
    }
    Ok(())
}

pub async fn sales_lines(
    t: &TenantStore,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: SalesBucket,
    by: SalesBy,
    property: Option<&PropertyId>,
) -> Res<Vec<SalesLine>> {
    check_range(from, to)?;
    let tz = super::desk::time_zone(t).await?;
    let payees: BTreeMap<String, String> = t.payees().await.map_err(err)?.into_iter().map(|p| (p.id, p.name)).collect();
    let mut lines: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for s in t.sales(from, to, property).await.map_err(err)? {
        let key = match by {
            SalesBy::Channel => s.channel,
            SalesBy::Operator if s.operator.is_empty() && s.payee_id.is_some() => "ONLINE".to_string(),
            // Posted by the platform itself (demo data, imports): no operator, no order.
            SalesBy::Operator if s.operator.is_empty() => "SYSTEM".to_string(),
            SalesBy::Operator => s.operator,
            SalesBy::Payee => s.payee_id.unwrap_or_else(|| "DESK".to_string()),
        };
        let line = lines.entry((period(tz, s.at, bucket), key)).or_default();
        line.0 += 1;
        line.1 += s.amount_x100;
    }
    Ok(lines
        .into_iter()
        .map(|((period, key), (count, fen))| SalesLine {
            name: if by == SalesBy::Payee { payees.get(&key).cloned().unwrap_or_else(|| key.clone()) } else { key.clone() },
            period,
            key,
            count,
            amount: from_scaled(fen, 2),
        })
        .collect())
}

pub async fn reading_lines(
    t: &TenantStore,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    property: Option<&PropertyId>,
    area: Option<&AreaId>,
) -> Res<Vec<ReadingReportLine>> {
    check_range(from, to)?;
    let rows = t.reading_report(from, to, property, area).await.map_err(err)?;
    Ok(rows
        .into_iter()
        .map(|r| ReadingReportLine {
            usage: r.usage_x100().map(|u| from_scaled(u, 2)),
            meter_id: ID(r.meter_id),
            address: r.address,
            property_id: ID(r.property_id),
            area_id: r.area_id.map(ID),
            account_number: r.account_number,
            customer_name: r.customer_name,
            ratio: r.ratio,
            start_register: r.start.map(|(e, _)| from_scaled(e, 2)),
            start_read_at: r.start.map(|(_, at)| at),
            end_register: r.end.map(|(e, _)| from_scaled(e, 2)),
            end_read_at: r.end.map(|(_, at)| at),
        })
        .collect())
}

pub async fn low_balance_lines(t: &TenantStore, property: Option<&PropertyId>, include_low: bool) -> Res<Vec<LowBalanceLine>> {
    let states: &[&str] = if include_low { &["ARREARS", "EXHAUSTED", "LOW_2", "LOW_1"] } else { &["ARREARS", "EXHAUSTED"] };
    let rows = t.low_balances(property, states).await.map_err(err)?;
    let mut out = Vec::with_capacity(rows.len());
    for a in rows {
        let c = t.customer(&a.customer_id).await.map_err(err)?;
        out.push(LowBalanceLine {
            account_id: ID(a.id.to_string()),
            number: a.number,
            customer_name: c.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
            phone: c.map(|c| c.phone).unwrap_or_default(),
            balance: from_scaled(a.balance_x100, 2),
            balance_state: a.balance_state,
        });
    }
    Ok(out)
}

// ---- as tables ----

pub fn sales_table(lines: &[SalesLine]) -> Table {
    Table {
        name: "sales",
        title_zh: "售电统计",
        title_en: "Sales",
        columns: vec![
            col("期间", "Period", Kind::Text),
            col("维度", "Key", Kind::Text),
            col("名称", "Name", Kind::Text),
            col("笔数", "Count", Kind::Count),
            col("金额(元)", "Amount (yuan)", Kind::Money),
        ],
        rows: lines
            .iter()
            .map(|l| vec![l.period.as_str().into(), l.key.as_str().into(), l.name.as_str().into(), Cell::Int(l.count), Cell::Num(l.amount)])
            .collect(),
        sums: true,
    }
}

pub fn reading_table(lines: &[ReadingReportLine]) -> Table {
    let num = |d: Option<Decimal>| d.map_or(Cell::Empty, Cell::Num);
    let at = |d: Option<DateTime<Utc>>| d.map_or(Cell::Empty, Cell::At);
    Table {
        name: "meter-readings",
        title_zh: "抄表报表",
        title_en: "Meter readings",
        columns: vec![
            col("表地址", "Meter address", Kind::Text),
            col("户号", "Account", Kind::Text),
            col("客户", "Customer", Kind::Text),
            col("倍率", "Ratio", Kind::Number),
            col("起始读数(kWh)", "Start register (kWh)", Kind::Number),
            col("起始时间", "Start read at", Kind::At),
            col("结束读数(kWh)", "End register (kWh)", Kind::Number),
            col("结束时间", "End read at", Kind::At),
            col("用电量(kWh)", "Usage (kWh)", Kind::Kwh),
        ],
        rows: lines
            .iter()
            .map(|l| {
                vec![
                    l.address.as_str().into(),
                    l.account_number.clone().into(),
                    l.customer_name.clone().into(),
                    Cell::Int(l.ratio),
                    num(l.start_register),
                    at(l.start_read_at),
                    num(l.end_register),
                    at(l.end_read_at),
                    num(l.usage),
                ]
            })
            .collect(),
        sums: true,
    }
}

pub fn low_balance_table(lines: &[LowBalanceLine]) -> Table {
    Table {
        name: "low-balances",
        title_zh: "欠费与低余额",
        title_en: "Arrears and low balances",
        columns: vec![
            col("户号", "Account", Kind::Text),
            col("客户", "Customer", Kind::Text),
            col("电话", "Phone", Kind::Text),
            col("余额(元)", "Balance (yuan)", Kind::Money),
            col("状态", "State", Kind::Text),
        ],
        rows: lines
            .iter()
            .map(|l| {
                vec![
                    l.number.as_str().into(),
                    l.customer_name.as_str().into(),
                    l.phone.as_str().into(),
                    Cell::Num(l.balance),
                    l.balance_state.as_str().into(),
                ]
            })
            .collect(),
        sums: true,
    }
}

/// The ledger entries a filter selects (财务明细 / 充值记录), every page, newest first.
pub async fn ledger_table(t: &TenantStore, f: &store::EntryFilter, lang: Lang) -> Res<Table> {
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = t.ledger_entries(f, after.as_deref(), 1000).await.map_err(err)?;
        for e in &page {
            let label = e.entry.kind.label();
            // Labels are "中文 English".
            let label = match (lang, label.split_once(' ')) {
                (Lang::En, Some((_, en))) => en.to_string(),
                (Lang::Zh, Some((zh, _))) => zh.to_string(),
                _ => label.to_string(),
            };
            rows.push(vec![
                Cell::At(e.entry.created_at),
                e.account_number.as_str().into(),
                Cell::Text(label),
                Cell::Num(from_scaled(e.entry.amount_x100, 2)),
                e.entry.receipt_no.map_or(Cell::Empty, Cell::Int),
                e.entry.created_by.as_str().into(),
                e.entry.note.as_str().into(),
            ]);
        }
        match page.last() {
            Some(last) if page.len() == 1000 => after = Some(last.entry.id.to_string()),
            _ => break,
        }
        if rows.len() >= 1_000_000 {
            return Err(err(Invalid::new("to", "more than 1,000,000 entries: narrow the range")));
        }
    }
    Ok(Table {
        name: "ledger",
        title_zh: "财务明细",
        title_en: "Ledger entries",
        columns: vec![
            col("时间", "Time", Kind::At),
            col("户号", "Account", Kind::Text),
            col("类型", "Kind", Kind::Text),
            col("金额(元)", "Amount (yuan)", Kind::Money),
            col("收据号", "Receipt", Kind::Number),
            col("操作员", "Operator", Kind::Text),
            col("备注", "Note", Kind::Text),
        ],
        rows,
        sums: true,
    })
}

/// Bills (账单), newest period first, of a period and property when given.
pub async fn bills_table(t: &TenantStore, period: Option<String>, property: Option<&PropertyId>) -> Res<Table> {
    let f = store::BillFilter { period, properties: property.map(|p| vec![p.to_string()]), ..Default::default() };
    let mut rows = Vec::new();
    let mut offset = 0;
    loop {
        let page = t.bills_where(&f, offset, 1000, false).await.map_err(err)?;
        for b in &page {
            let number = t.account(&b.account_id).await.map_err(err)?.map(|a| a.number).unwrap_or_default();
            rows.push(vec![
                Cell::Text(number),
                b.period.as_str().into(),
                Cell::Int(b.version),
                b.state.as_str().into(),
                Cell::Num(from_scaled(b.total_x100, 2)),
                b.issued_at.map_or(Cell::Empty, Cell::At),
                b.paid_at.map_or(Cell::Empty, Cell::At),
            ]);
        }
        if page.len() < 1000 {
            break;
        }
        offset += 1000;
    }
    Ok(Table {
        name: "bills",
        title_zh: "账单",
        title_en: "Bills",
        columns: vec![
            col("户号", "Account", Kind::Text),
            col("账期", "Period", Kind::Text),
            col("版本", "Version", Kind::Number),
            col("状态", "State", Kind::Text),
            col("金额(元)", "Total (yuan)", Kind::Money),
            col("出账时间", "Issued at", Kind::At),
            col("缴费时间", "Paid at", Kind::At),
        ],
        rows,
        sums: true,
    })
}

/// Alarm history (告警记录), newest first (the last 1,000 the filter selects).
pub async fn alarms_table(t: &TenantStore, active_only: bool, property: Option<&PropertyId>) -> Res<Table> {
    let f = store::AlarmFilter { active_only, limit: 1000, property: property.map(|p| p.to_string()), ..Default::default() };
    let rows = t
        .alarms(&f)
        .await
        .map_err(err)?
        .into_iter()
        .map(|a| {
            vec![
                Cell::At(a.raised_at),
                a.kind.as_str().into(),
                a.severity.as_str().into(),
                a.subject_label.as_str().into(),
                a.state.as_str().into(),
                a.cleared_at.map_or(Cell::Empty, Cell::At),
                a.acknowledged_by.into(),
                a.detail.as_str().into(),
            ]
        })
        .collect();
    Ok(Table {
        name: "alarms",
        title_zh: "告警记录",
        title_en: "Alarms",
        columns: vec![
            col("发生时间", "Raised at", Kind::At),
            col("类型", "Kind", Kind::Text),
            col("级别", "Severity", Kind::Text),
            col("对象", "Subject", Kind::Text),
            col("状态", "State", Kind::Text),
            col("恢复时间", "Cleared at", Kind::At),
            col("确认人", "Acknowledged by", Kind::Text),
            col("详情", "Detail", Kind::Text),
        ],
        rows,
        sums: false,
    })
}

#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// Money received in `[from, to)` by local day, month or year and by channel, operator or
    /// payee (售电统计): recharges and bill payments, net of refunds and reversals.
    async fn sales_report(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bucket: SalesBucket,
        by: SalesBy,
        property_id: Option<ID>,
    ) -> Res<Vec<SalesLine>> {
        let property = parse_ref("propertyId", &property_id, PropertyId::parse)?;
        sales_lines(tenant(ctx)?, from, to, bucket, by, property.as_ref()).await
    }

    /// The meter-reading report (抄表) for `[from, to]`: each active meter's registers at the
    /// start and the end and its usage.
    async fn meter_reading_report(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        property_id: Option<ID>,
        area_id: Option<ID>,
    ) -> Res<Vec<ReadingReportLine>> {
        let property = parse_ref("propertyId", &property_id, PropertyId::parse)?;
        let area = parse_ref("areaId", &area_id, AreaId::parse)?;
        reading_lines(tenant(ctx)?, from, to, property.as_ref(), area.as_ref()).await
    }

    /// Open accounts in arrears (and, with `includeLow`, below an alarm amount), lowest
    /// balance first (欠费与低余额).
    async fn low_balance_report(
        &self,
        ctx: &Context<'_>,
        property_id: Option<ID>,
        #[graphql(default = true)] include_low: bool,
    ) -> Res<Vec<LowBalanceLine>> {
        let property = parse_ref("propertyId", &property_id, PropertyId::parse)?;
        low_balance_lines(tenant(ctx)?, property.as_ref(), include_low).await
    }
}

// ---- exports over HTTP ----

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::auth::{Authenticated, Principal, authenticate, authenticate_link};
use super::export::Lang;
use super::http::HttpState;
use domain::access::Permission;

/// How long a download link works.
pub(crate) const LINK_TTL: chrono::Duration = chrono::Duration::minutes(5);

pub(crate) fn refuse(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"error": code, "message": message}))
}

pub(crate) fn bearer(http: &HttpRequest) -> &str {
    http.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("")
}

/// The request's path and query without the link token: what a link is bound to.
fn bound_path(http: &HttpRequest) -> String {
    let kept: Vec<(String, String)> = serde_urlencoded::from_str::<Vec<(String, String)>>(http.query_string())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != "link")
        .collect();
    let q = serde_urlencoded::to_string(&kept).unwrap_or_default();
    if q.is_empty() { http.path().to_string() } else { format!("{}?{q}", http.path()) }
}

#[derive(serde::Deserialize)]
struct LinkBody {
    /// `/exports/…` with its query.
    path: String,
}

/// `POST /exports/link {path}` (bearer): a download link for one export, working for five
/// minutes and only while the caller's session is live — for `<a href>` downloads that
/// cannot carry a header. The export checks the caller's rights when the link is opened.
async fn link(state: web::Data<HttpState>, http: HttpRequest, body: web::Json<LinkBody>) -> HttpResponse {
    let Some(claims) = state.keys.verify(bearer(&http)).filter(|c| c.path.is_none()) else {
        return refuse(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "authentication required");
    };
    if !matches!(authenticate(&state.store, &state.keys, bearer(&http)).await, Some(Authenticated::Principal(..))) {
        return refuse(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "authentication required");
    }
    let path = body.path.trim();
    if !path.starts_with("/exports/") || path.starts_with("/exports/link") || path.contains(['\r', '\n', '#']) || path.len() > 2000 {
        return refuse(StatusCode::BAD_REQUEST, "VALIDATION", "path: an export under /exports/");
    }
    // Bound to the path as the export will see it (the query normalised, no token).
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default().into_iter().filter(|(k, _)| k != "link").collect();
    let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let bound = if q.is_empty() { p.to_string() } else { format!("{p}?{q}") };
    match state.keys.issue_link(&claims, &bound, LINK_TTL) {
        Ok(token) => {
            let sep = if bound.contains('?') { '&' } else { '?' };
            HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(json!({
                "url": format!("{bound}{sep}link={token}"),
                "expiresAt": (Utc::now() + LINK_TTL).to_rfc3339(),
            }))
        }
        Err(e) => {
            tracing::error!(cause = %e, "link token");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "internal error")
        }
    }
}

type Query = web::Query<std::collections::HashMap<String, String>>;
/// An export's parameters.
pub type Params = std::collections::HashMap<String, String>;

/// A query parameter refused: `400 VALIDATION` naming it.
fn bad(message: &str) -> HttpResponse {
    refuse(StatusCode::BAD_REQUEST, "VALIDATION", message)
}

fn instant(q: &Params, key: &'static str) -> Result<DateTime<Utc>, String> {
    let text = q.get(key).ok_or_else(|| format!("{key}: required"))?;
    DateTime::parse_from_rfc3339(text).map(|d| d.with_timezone(&Utc)).map_err(|_| format!("{key}: an RFC 3339 instant"))
}

fn range(q: &Params) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    Ok((instant(q, "from")?, instant(q, "to")?))
}

fn id_param<T>(q: &Params, key: &'static str, parse: fn(&str) -> Option<T>) -> Result<Option<T>, String> {
    match q.get(key).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse(s).map(Some).ok_or_else(|| format!("{key}: not an id")),
    }
}

/// Why an export could not be made: the HTTP status, the API's error code and a message.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn bad(message: impl Into<String>) -> Self {
        Refusal { status: StatusCode::BAD_REQUEST, code: "VALIDATION", message: message.into() }
    }

    pub fn of(e: async_graphql::Error) -> Self {
        let code = e.extensions.as_ref().and_then(|x| x.get("code")).map(|v| v.to_string().trim_matches('"').to_string());
        let (status, code) = match code.as_deref() {
            Some("NOT_FOUND") => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            Some("FORBIDDEN") => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            Some("INTERNAL") => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL"),
            _ => (StatusCode::BAD_REQUEST, "VALIDATION"),
        };
        Refusal { status, code, message: e.message }
    }
}

/// The export names `build_table` knows.
pub const EXPORTS: [&str; 13] = [
    "sales",
    "meter-readings",
    "low-balances",
    "ledger",
    "bills",
    "alarms",
    "energy",
    "demand",
    "lost-devices",
    "statement",
    "meters",
    "customers",
    "commands",
];

/// Which exports need the reports permission (money figures).
pub fn needs_reports(name: &str) -> bool {
    matches!(name, "sales" | "ledger" | "bills")
}

/// An export as a table, for a tenant handle (its property scope applies) and the export's
/// parameters; `property` is the `propertyId` parameter, already checked against the scope.
/// Shared by the download (`GET /exports/…`) and scheduled reports.
pub async fn build_table(t: &TenantStore, name: &str, q: &Params, property: Option<PropertyId>, lang: Lang) -> Result<Table, Refusal> {
    Ok(match name {
        "sales" => {
            let (from, to) = match range(q) {
                Ok(r) => r,
                Err(m) => return Err(Refusal::bad(m)),
            };
            let bucket = match q.get("bucket").map(String::as_str).unwrap_or("DAY") {
                "DAY" => SalesBucket::Day,
                "MONTH" => SalesBucket::Month,
                "YEAR" => SalesBucket::Year,
                _ => return Err(Refusal::bad("bucket: DAY, MONTH or YEAR")),
            };
            let by = match q.get("by").map(String::as_str).unwrap_or("CHANNEL") {
                "CHANNEL" => SalesBy::Channel,
                "OPERATOR" => SalesBy::Operator,
                "PAYEE" => SalesBy::Payee,
                _ => return Err(Refusal::bad("by: CHANNEL, OPERATOR or PAYEE")),
            };
            match sales_lines(t, from, to, bucket, by, property.as_ref()).await {
                Ok(lines) => sales_table(&lines),
                Err(e) => return Err(Refusal::of(e)),
            }
        }
        "meter-readings" => {
            let (from, to) = match range(q) {
                Ok(r) => r,
                Err(m) => return Err(Refusal::bad(m)),
            };
            let area = match id_param(q, "areaId", AreaId::parse) {
                Ok(a) => a,
                Err(m) => return Err(Refusal::bad(m)),
            };
            match reading_lines(t, from, to, property.as_ref(), area.as_ref()).await {
                Ok(lines) => reading_table(&lines),
                Err(e) => return Err(Refusal::of(e)),
            }
        }
        "low-balances" => {
            let include_low = q.get("includeLow").is_none_or(|v| v != "false");
            match low_balance_lines(t, property.as_ref(), include_low).await {
                Ok(lines) => low_balance_table(&lines),
                Err(e) => return Err(Refusal::of(e)),
            }
        }
        "ledger" => {
            let (from, to) = match range(q) {
                Ok(r) => r,
                Err(m) => return Err(Refusal::bad(m)),
            };
            let account = match id_param(q, "accountId", AccountId::parse) {
                Ok(a) => a,
                Err(m) => return Err(Refusal::bad(m)),
            };
            let payee = match id_param(q, "payeeId", PayeeId::parse) {
                Ok(p) => p,
                Err(m) => return Err(Refusal::bad(m)),
            };
            let f = store::EntryFilter {
                account,
                property: property.clone(),
                kind: q.get("kind").cloned().filter(|k| !k.is_empty()),
                channel: q.get("channel").cloned().filter(|c| !c.is_empty()),
                operator: q.get("operator").cloned().filter(|o| !o.is_empty()),
                payee,
                from: Some(from),
                to: Some(to),
            };
            match ledger_table(t, &f, lang).await {
                Ok(table) => table,
                Err(e) => return Err(Refusal::of(e)),
            }
        }
        "bills" => {
            let period = q.get("period").cloned().filter(|p| !p.is_empty());
            match bills_table(t, period, property.as_ref()).await {
                Ok(table) => table,
                Err(e) => return Err(Refusal::of(e)),
            }
        }
        "alarms" => {
            let active = q.get("activeOnly").is_some_and(|v| v == "true");
            match alarms_table(t, active, property.as_ref()).await {
                Ok(table) => table,
                Err(e) => return Err(Refusal::of(e)),
            }
        }
        "energy" => {
            let (from, to) = match range(q) {
                Ok(r) => r,
                Err(m) => return Err(Refusal::bad(m)),
            };
            use super::usage_reports::{EnergyBucket, EnergyBy};
            let bucket = match q.get("bucket").map(String::as_str).unwrap_or("DAY") {
                "HOUR" => EnergyBucket::Hour,
                "DAY" => EnergyBucket::Day,
                "MONTH" => EnergyBucket::Month,
                _ => return Err(Refusal::bad("bucket: HOUR, DAY or MONTH")),
            };
            let by = match q.get("by").map(String::as_str).unwrap_or("METER") {
                "METER" => EnergyBy::Meter,
                "AREA" => EnergyBy::Area,
                "PROPERTY" => EnergyBy::Property,
                _ => return Err(Refusal::bad("by: METER, AREA or PROPERTY")),
            };
            let area = match id_param(q, "areaId", AreaId::parse) {
                Ok(a) => a,
                Err(m) => return Err(Refusal::bad(m)),
            };
            match super::usage_reports::energy_lines(t, from, to, bucket, by, property.as_ref(), area.as_ref()).await {
                Ok(lines) => super::usage_reports::energy_table(&lines),
                Err(e) => return Err(Refusal::of(e)),
            }
        }
        "demand" => {
            let Some(period) = q.get("period") else { return Err(Refusal::bad("period: required (YYYY-MM)")) };
            let area = match id_param(q, "areaId", AreaId::parse) {
                Ok(a) => a,
                Err(m) => return Err(Refusal::bad(m)),
            };
            match super::usage_reports::demand_lines(t, period, property.as_ref(), area.as_ref()).await {
                Ok(lines) => super::usage_reports::demand_table(&lines),
                Err(e) => return Err(Refusal::of(e)),
            }
        }
        "meters" => super::list_exports::meters_table(t, q, property).await?,
        "customers" => super::list_exports::customers_table(t, q).await?,
        "commands" => super::list_exports::commands_table(t, q).await?,
        "lost-devices" => match super::usage_reports::lost_lines(t, property.as_ref()).await {
            Ok(lines) => super::usage_reports::lost_table(&lines),
            Err(e) => return Err(Refusal::of(e)),
        },
        "statement" => {
            let (from, to) = match range(q) {
                Ok(r) => r,
                Err(m) => return Err(Refusal::bad(m)),
            };
            let account = match id_param(q, "accountId", AccountId::parse) {
                Ok(Some(a)) => a,
                Ok(None) => return Err(Refusal::bad("accountId: required")),
                Err(m) => return Err(Refusal::bad(m)),
            };
            match super::usage_reports::statement(t, &account, from, to, lang).await {
                Ok(s) => super::usage_reports::statement_table(&s, lang),
                Err(e) => return Err(Refusal::of(e)),
            }
        }
        _ => return Err(Refusal { status: StatusCode::NOT_FOUND, code: "NOT_FOUND", message: "no such export".into() }),
    })
}

/// An export a caller may open: its tenant handle (scoped), name, extension, language and
/// property filter.
pub struct Export {
    pub t: TenantStore,
    pub name: String,
    pub ext: String,
    pub lang: Lang,
    pub property: Option<PropertyId>,
    /// The operator who asked.
    pub operator: String,
}

/// The rules every export is opened by — who may (an operator of a live tenant), which
/// export (`name.xlsx|csv`), the property filter inside the caller's scope (another looks like
/// another tenant's: not found), money figures only with the reports permission.
pub fn authorize(who: Option<Authenticated>, file: &str, q: &Params) -> Result<Export, Refusal> {
    let (permissions, scope, t, operator) = match who {
        Some(Authenticated::Principal(p, Some(t))) => match *p {
            Principal::Operator { permissions, properties, id, .. } => (permissions, properties, t, id),
            _ => return Err(Refusal { status: StatusCode::FORBIDDEN, code: "FORBIDDEN", message: "operators only".into() }),
        },
        Some(Authenticated::Suspended) => {
            return Err(Refusal { status: StatusCode::FORBIDDEN, code: "FORBIDDEN", message: "the tenant is suspended".into() });
        }
        _ => return Err(Refusal { status: StatusCode::UNAUTHORIZED, code: "UNAUTHENTICATED", message: "authentication required".into() }),
    };
    let not_found = |m: &str| Refusal { status: StatusCode::NOT_FOUND, code: "NOT_FOUND", message: m.into() };
    let Some((name, ext)) = file.rsplit_once('.') else { return Err(not_found("no such export")) };
    if ext != "xlsx" && ext != "csv" {
        return Err(not_found("exports are .xlsx or .csv"));
    }
    if name != "readings" && !EXPORTS.contains(&name) {
        return Err(not_found("no such export"));
    }
    let lang = Lang::parse(q.get("lang").map(String::as_str));
    let property = id_param(q, "propertyId", PropertyId::parse).map_err(Refusal::bad)?;
    if let (Some(p), Some(scope)) = (&property, &scope)
        && !scope.iter().any(|s| s == p.as_str())
    {
        return Err(not_found("no such property"));
    }
    if needs_reports(name) && !permissions.has(Permission::Reports) {
        return Err(Refusal { status: StatusCode::FORBIDDEN, code: "FORBIDDEN", message: "your role does not allow reports".into() });
    }
    Ok(Export { t, name: name.to_string(), ext: ext.to_string(), lang, property, operator })
}

/// `GET /exports/{name}.xlsx|.csv?…&lang=zh|en` (bearer, or `link=` from `/exports/link`):
/// a report as a spreadsheet. `sales` (from, to, bucket DAY|MONTH|YEAR, by
/// CHANNEL|OPERATOR|PAYEE, propertyId) needs the reports permission; `meter-readings` (from,
/// to, propertyId, areaId) and `low-balances` (propertyId, includeLow) any operator. Property
/// scope applies as in the API.
async fn export(state: web::Data<HttpState>, http: HttpRequest, path: web::Path<String>, q: Query) -> HttpResponse {
    let who = match q.get("link") {
        Some(token) => authenticate_link(&state.store, &state.keys, token, &bound_path(&http)).await,
        None => authenticate(&state.store, &state.keys, bearer(&http)).await,
    };
    let Export { t, name, ext, lang, property, .. } = match authorize(who, &path, &q) {
        Ok(e) => e,
        Err(r) => return refuse(r.status, r.code, &r.message),
    };
    let (name, ext) = (name.as_str(), ext.as_str());
    if name == "readings" {
        return readings(t, &q, property, ext, lang).await;
    }
    let table = match build_table(&t, name, &q, property, lang).await {
        Ok(table) => table,
        Err(r) => return refuse(r.status, r.code, &r.message),
    };
    let tz = match super::desk::time_zone(&t).await {
        Ok(tz) => tz,
        Err(e) => {
            let r = Refusal::of(e);
            return refuse(r.status, r.code, &r.message);
        }
    };
    let file = format!("{}-{}.{ext}", table.name, Utc::now().with_timezone(&tz).format("%Y%m%d-%H%M"));
    let disposition = ("Content-Disposition", format!("attachment; filename=\"{file}\""));
    if ext == "csv" {
        return HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header(disposition)
            .insert_header(("Cache-Control", "no-store"))
            .body(super::export::csv(&table, lang, tz));
    }
    // Writing the workbook is CPU work: off the async workers.
    match web::block(move || super::export::xlsx(&table, lang, tz)).await {
        Ok(Ok(bytes)) => HttpResponse::Ok()
            .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            .insert_header(disposition)
            .insert_header(("Cache-Control", "no-store"))
            .body(bytes),
        Ok(Err(e)) => {
            tracing::error!(cause = %e, "xlsx export failed");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "the workbook could not be written")
        }
        Err(e) => {
            tracing::error!(cause = %e, "xlsx export failed");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "the workbook could not be written")
        }
    }
}

/// The readings export's selection from its parameters.
pub fn readings_selection(q: &Params, property: Option<PropertyId>) -> Result<super::readings_export::Selection, String> {
    let (from, to) = range(q)?;
    let area = id_param(q, "areaId", AreaId::parse)?;
    let meter = id_param(q, "meterId", MeterId::parse)?;
    Ok(super::readings_export::Selection { from, to, property, area, meter })
}

/// `GET /exports/readings.xlsx|.csv?from&to&propertyId&areaId&meterId`: every reading in the
/// range, streamed (super::readings_export).
async fn readings(t: TenantStore, q: &Params, property: Option<PropertyId>, ext: &str, lang: Lang) -> HttpResponse {
    use super::readings_export as rx;
    let s = match readings_selection(q, property) {
        Ok(s) => s,
        Err(m) => return bad(&m),
    };
    if let Err(m) = rx::check(&t, &s).await {
        return bad(&m);
    }
    let tz = match super::desk::time_zone(&t).await {
        Ok(tz) => tz,
        Err(e) => {
            let r = Refusal::of(e);
            return refuse(r.status, r.code, &r.message);
        }
    };
    let file = format!("readings-{}.{ext}", s.from.with_timezone(&tz).format("%Y%m%d"));
    let disposition = ("Content-Disposition", format!("attachment; filename=\"{file}\""));
    if ext == "csv" {
        return HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header(disposition)
            .insert_header(("Cache-Control", "no-store"))
            .streaming(rx::csv_stream(t, s, lang, tz));
    }
    match rx::xlsx(t, s, lang, tz).await {
        Ok(bytes) => HttpResponse::Ok()
            .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            .insert_header(disposition)
            .insert_header(("Cache-Control", "no-store"))
            .body(bytes),
        Err(e) => {
            tracing::error!(cause = %e, "readings export failed");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "the workbook could not be written")
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    super::export_jobs::routes(cfg);
    cfg.route("/exports/link", web::post().to(link)).route("/exports/{name}", web::get().to(export));
}
