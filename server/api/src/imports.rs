//! Spreadsheets in (issue 19): meters, with their customers, accounts, property fees and
//! opening balances, from .xlsx (calamine) or .csv. `POST /imports/meters?dryRun=true`
//! checks every row and lists every error by row and column, writing nothing;
//! `dryRun=false` writes all rows in one transaction or none. A meter already registered
//! with the same data is unchanged, so importing the same file again changes nothing.
//! `GET /imports/meters-template.xlsx` is the template.

use std::collections::HashMap;
use std::io::Cursor;
use std::str::FromStr;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use calamine::{Data, Reader, Xlsx};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;

use super::auth::{Authenticated, Principal, authenticate};
use super::export::{Cell, Kind, Lang, Table, col};
use super::http::HttpState;
use domain::access::Permission;
use domain::ids::*;
use domain::registry::{MeterInput, NewMeter};

/// The largest file taken (10,000 meters fit in well under this).
pub const IMPORT_LIMIT: usize = 20 * 1024 * 1024;
/// Rows per file.
pub const MAX_ROWS: usize = 20_000;

/// The columns: key, Chinese and English header.
const COLUMNS: [(&str, &str, &str); 14] = [
    ("property", "项目", "Property"),
    ("area", "区域", "Area"),
    ("address", "表地址", "Meter address"),
    ("link", "接入方式", "Link"),
    ("gateway", "网关", "Gateway"),
    ("phases", "相数", "Phases"),
    ("pt", "PT", "PT"),
    ("ct", "CT", "CT"),
    ("billing", "计费方式", "Billing mode"),
    ("shop", "铺位号", "Shop no"),
    ("customer", "客户", "Customer"),
    ("phone", "电话", "Phone"),
    ("opening", "期初余额", "Opening balance"),
    ("fee", "物业费", "Property fee"),
];

const REQUIRED: [&str; 3] = ["property", "address", "link"];

/// A cell as read: text, a number, or nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum In {
    Text(String),
    Num(f64),
    Empty,
}

impl In {
    pub(crate) fn text(&self) -> String {
        match self {
            In::Text(s) => s.trim().to_string(),
            In::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            In::Num(n) => n.to_string(),
            In::Empty => String::new(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.text().is_empty()
    }
}

/// One error: the spreadsheet row (the header is row 1), the column letter and header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub field: String,
    pub message: String,
}

pub(crate) fn letter(i: usize) -> String {
    let mut out = Vec::new();
    let mut i = i;
    loop {
        out.push(char::from(b'A' + (i % 26) as u8));
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    out.iter().rev().collect()
}

/// The sheet's rows (the first sheet of a workbook, or the CSV), header first.
pub fn read_rows(bytes: &[u8]) -> Result<Vec<Vec<In>>, String> {
    if bytes.starts_with(b"PK") {
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| format!("not a readable .xlsx workbook: {e}"))?;
        let range =
            book.worksheet_range_at(0).ok_or("the workbook has no sheet")?.map_err(|e| format!("the first sheet cannot be read: {e}"))?;
        return Ok(range
            .rows()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        Data::Empty => In::Empty,
                        Data::String(s) => In::Text(s.clone()),
                        Data::Float(f) => In::Num(*f),
                        Data::Int(i) => In::Num(*i as f64),
                        Data::Bool(b) => In::Text(b.to_string()),
                        other => In::Text(other.to_string()),
                    })
                    .collect()
            })
            .collect());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "neither an .xlsx workbook nor UTF-8 CSV text".to_string())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("CSV: {e}"))?;
        rows.push(record.iter().map(|c| if c.trim().is_empty() { In::Empty } else { In::Text(c.to_string()) }).collect());
    }
    Ok(rows)
}

fn header_map(header: &[In]) -> Result<HashMap<&'static str, usize>, Vec<RowError>> {
    header_map_of(header, &COLUMNS, &REQUIRED)
}

/// Which column holds what, from the header row (Chinese or English headers, any case, a
/// unit in brackets ignored), for an import whose columns are `columns` (key, Chinese,
/// English).
pub(crate) fn header_map_of(
    header: &[In],
    columns: &[(&'static str, &'static str, &'static str)],
    required: &[&'static str],
) -> Result<HashMap<&'static str, usize>, Vec<RowError>> {
    let mut map = HashMap::new();
    let mut errors = Vec::new();
    for (i, cell) in header.iter().enumerate() {
        let text = cell.text();
        if text.is_empty() {
            continue;
        }
        let name = text.split(['(', '（']).next().unwrap_or("").trim().to_lowercase();
        match columns.iter().find(|(_, zh, en)| name == zh.to_lowercase() || name == en.to_lowercase()) {
            Some((key, _, _)) if map.contains_key(key) => {
                errors.push(RowError { row: 1, column: letter(i), field: text, message: "this column appears twice".into() })
            }
            Some((key, _, _)) => {
                map.insert(*key, i);
            }
            None => errors.push(RowError { row: 1, column: letter(i), field: text, message: "not a column of this import".into() }),
        }
    }
    for &key in required {
        if !map.contains_key(key) {
            let (_, zh, en) = columns.iter().find(|(k, _, _)| *k == key).copied().unwrap_or((key, key, key));
            errors.push(RowError {
                row: 1,
                column: String::new(),
                field: format!("{zh} / {en}"),
                message: "this column is required".into(),
            });
        }
    }
    if errors.is_empty() { Ok(map) } else { Err(errors) }
}

/// Names the store resolves, loaded once.
pub struct Names {
    /// Property name -> id (the caller's properties only).
    pub properties: HashMap<String, PropertyId>,
    /// (property id, area name) -> id.
    pub areas: HashMap<(String, String), AreaId>,
    /// (property id, gateway serial) -> id.
    pub gateways: HashMap<(String, String), GatewayId>,
    pub existing: HashMap<String, store::ExistingMeter>,
}

pub(crate) fn money(v: &In) -> Result<i64, String> {
    let text = v.text();
    if text.is_empty() {
        return Ok(0);
    }
    let d = Decimal::from_str(&text).map_err(|_| format!("“{text}” is not an amount"))?;
    if d.is_sign_negative() {
        return Err("must not be negative".into());
    }
    domain::metering::to_scaled(d, 2).ok_or_else(|| "at most 2 decimal places".into())
}

fn whole(v: &In) -> Result<Option<i32>, String> {
    match v {
        In::Empty => Ok(None),
        In::Num(n) if n.fract() == 0.0 && n.abs() < 1e9 => Ok(Some(*n as i32)),
        other => {
            let t = other.text();
            if t.is_empty() {
                return Ok(None);
            }
            t.parse::<i32>().map(Some).map_err(|_| format!("“{t}” is not a whole number"))
        }
    }
}

fn link(v: &In) -> Result<String, String> {
    let t = v.text().to_uppercase().replace([' ', '-'], "");
    Ok(match t.as_str() {
        "4G" | "FOURG" | "FOUR_G" => "FOUR_G",
        "LORA" | "LORAGATEWAY" | "LORA_GATEWAY" => "LORA_GATEWAY",
        "485" | "RS485" | "SERIAL" | "串口" => "SERIAL",
        "" => return Err("required: 4G, LoRa or 485".into()),
        _ => return Err(format!("“{}”: 4G, LoRa or 485", v.text())),
    }
    .to_string())
}

fn billing(v: &In) -> Result<Option<String>, String> {
    let t = v.text();
    Ok(Some(
        match t.to_uppercase().as_str() {
            "" => return Ok(None),
            "平台预付费" | "PLATFORM_PREPAID" | "PREPAID" => "PLATFORM_PREPAID",
            "表端预付费" | "METER_PREPAID" => "METER_PREPAID",
            "后付费" | "POST_PAID" | "POSTPAID" => "POST_PAID",
            _ => return Err(format!("“{t}”: 平台预付费, 表端预付费 or 后付费 (PLATFORM_PREPAID, METER_PREPAID, POST_PAID)")),
        }
        .to_string(),
    ))
}

/// Checks every row; returns the rows to write, how many are unchanged, and every error.
pub fn check(rows: &[Vec<In>], names: &Names) -> (Vec<store::ImportMeter>, usize, Vec<RowError>) {
    let mut errors = Vec::new();
    let Some((header, body)) = rows.split_first() else {
        errors.push(RowError { row: 1, column: String::new(), field: String::new(), message: "the file is empty".into() });
        return (Vec::new(), 0, errors);
    };
    let map = match header_map(header) {
        Ok(m) => m,
        Err(e) => return (Vec::new(), 0, e),
    };
    if body.len() > MAX_ROWS {
        errors.push(RowError { row: 1, column: String::new(), field: String::new(), message: format!("at most {MAX_ROWS} rows per file") });
        return (Vec::new(), 0, errors);
    }
    let empty = In::Empty;
    let mut out = Vec::new();
    let mut unchanged = 0;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, row) in body.iter().enumerate() {
        let n = i + 2;
        let cell = |key: &str| map.get(key).and_then(|c| row.get(*c)).unwrap_or(&empty);
        if row.iter().all(In::is_empty) {
            continue;
        }
        let mut fail = |key: &str, message: String| {
            let c = map.get(key).copied();
            let (_, zh, en) = COLUMNS.iter().find(|(k, _, _)| *k == key).copied().unwrap_or((key, key, key));
            errors.push(RowError { row: n, column: c.map(letter).unwrap_or_default(), field: format!("{zh} / {en}"), message });
        };
        let property = match names.properties.get(&cell("property").text()) {
            Some(p) => Some(p.clone()),
            None if cell("property").is_empty() => {
                fail("property", "required".into());
                None
            }
            None => {
                fail("property", format!("no property “{}” (of yours)", cell("property").text()));
                None
            }
        };
        let area = match (&property, cell("area").text()) {
            (_, a) if a.is_empty() => None,
            (Some(p), a) => match names.areas.get(&(p.to_string(), a.clone())) {
                Some(id) => Some(id.clone()),
                None => {
                    fail("area", format!("no area “{a}” in this property"));
                    None
                }
            },
            (None, _) => None,
        };
        let gateway = match (&property, cell("gateway").text()) {
            (_, g) if g.is_empty() => None,
            (Some(p), g) => match names.gateways.get(&(p.to_string(), g.clone())) {
                Some(id) => Some(id.clone()),
                None => {
                    fail("gateway", format!("no gateway “{g}” in this property"));
                    None
                }
            },
            (None, _) => None,
        };
        // A 12-digit address typed into Excel becomes a number: its leading zeros come back.
        let address = match cell("address") {
            In::Num(v) if v.fract() == 0.0 && *v >= 0.0 && *v < 1e12 => format!("{:012}", *v as u64),
            other => other.text(),
        };
        let link_type = link(cell("link")).unwrap_or_else(|m| {
            fail("link", m);
            String::new()
        });
        let phases = whole(cell("phases")).unwrap_or_else(|m| {
            fail("phases", m);
            None
        });
        let pt = whole(cell("pt")).unwrap_or_else(|m| {
            fail("pt", m);
            None
        });
        let ct = whole(cell("ct")).unwrap_or_else(|m| {
            fail("ct", m);
            None
        });
        let billing_mode = billing(cell("billing")).unwrap_or_else(|m| {
            fail("billing", m);
            None
        });
        let opening = money(cell("opening")).unwrap_or_else(|m| {
            fail("opening", m);
            0
        });
        let fee = money(cell("fee")).unwrap_or_else(|m| {
            fail("fee", m);
            0
        });
        let customer = cell("customer").text();
        let phone = cell("phone").text();
        if customer.chars().count() > 100 {
            fail("customer", "at most 100 characters".into());
        }
        if !phone.is_empty() && !phone.chars().all(|c| c.is_ascii_digit() || "+-() ".contains(c)) {
            fail("phone", format!("“{phone}” is not a telephone number"));
        }
        if customer.is_empty() && (opening != 0 || fee != 0 || !phone.is_empty()) {
            fail("customer", "an opening balance, a property fee or a phone needs the customer".into());
        }
        if let Some(first) = seen.get(&address) {
            fail("address", format!("{address} is also on row {first}"));
            continue;
        }
        if !address.is_empty() {
            seen.insert(address.clone(), n);
        }
        let Some(property) = property else { continue };
        let input = MeterInput {
            address: address.clone(),
            model: String::new(),
            phases: phases.unwrap_or(1),
            pt_ratio: pt,
            ct_ratio: ct,
            link_type: link_type.clone(),
            billing_mode,
            shop_no: cell("shop").text(),
        };
        let meter = match NewMeter::parse(property.clone(), area.clone(), None, gateway.clone(), &input) {
            Ok(m) => m,
            Err(e) => {
                let key = match e.field {
                    "address" => "address",
                    "phases" => "phases",
                    "ptRatio" => "pt",
                    "ctRatio" => "ct",
                    "linkType" => "link",
                    "billingMode" => "billing",
                    "gatewayId" => "gateway",
                    _ => "address",
                };
                if !(key == "link" && link_type.is_empty()) {
                    fail(key, e.message);
                }
                continue;
            }
        };
        if opening != 0 && meter.billing != domain::registry::BillingMode::PlatformPrepaid {
            fail("opening", "only a platform-prepaid account has a balance to open with".into());
            continue;
        }
        if let Some(old) = names.existing.get(&meter.address.to_string()) {
            let same = old.property_id == meter.property.as_str()
                && old.area_id.as_deref() == meter.area.as_ref().map(|a| a.as_str())
                && old.link_type == meter.link.as_str()
                && old.phases == i64::from(meter.phases)
                && old.pt_ratio == meter.pt_ratio
                && old.ct_ratio == meter.ct_ratio
                && old.billing_mode == meter.billing.as_str();
            if same {
                unchanged += 1;
            } else {
                fail("address", format!("meter {} is already registered with other data; change it in the portal", meter.address));
            }
            continue;
        }
        let customer = (!customer.is_empty()).then_some((customer, phone));
        out.push(store::ImportMeter { meter, customer, opening_x100: opening, property_fee_x100: fee });
    }
    (out, unchanged, errors)
}

/// The template: the header row and one example row.
pub fn template() -> Table {
    Table {
        name: "meters-import",
        title_zh: "表计导入",
        title_en: "Meter import",
        columns: COLUMNS.iter().map(|(_, zh, en)| col(zh, en, Kind::Text)).collect(),
        rows: vec![vec![
            Cell::Text("Riverside Industrial Park".into()),
            Cell::Text("Building A".into()),
            Cell::Text("000000001234".into()),
            Cell::Text("4G".into()),
            Cell::Empty,
            Cell::Int(1),
            Cell::Int(1),
            Cell::Int(1),
            Cell::Text("平台预付费".into()),
            Cell::Text("A-101".into()),
            Cell::Text("Tea shop".into()),
            Cell::Text("13800000000".into()),
            Cell::Num(Decimal::new(10000, 2)),
            Cell::Num(Decimal::new(5000, 2)),
        ]],
        sums: false,
    }
}

pub(crate) fn refuse(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"error": code, "message": message}))
}

pub(crate) fn bearer(http: &HttpRequest) -> &str {
    http.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("")
}

/// The start of every registry import: the caller (an operator of a live tenant with the
/// registry permission; its handle keeps its property scope) and the uploaded sheet's rows.
pub(crate) async fn registry_upload(
    state: &HttpState,
    http: &HttpRequest,
    body: web::Bytes,
) -> Result<(store::TenantStore, Vec<Vec<In>>), HttpResponse> {
    let (permissions, t) = match authenticate(&state.store, &state.keys, bearer(http)).await {
        Some(Authenticated::Principal(p, Some(t))) => match *p {
            Principal::Operator { permissions, .. } => (permissions, t),
            _ => return Err(refuse(StatusCode::FORBIDDEN, "FORBIDDEN", "operators only")),
        },
        Some(Authenticated::Suspended) => return Err(refuse(StatusCode::FORBIDDEN, "FORBIDDEN", "the tenant is suspended")),
        _ => return Err(refuse(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "authentication required")),
    };
    if !permissions.has(Permission::Meters) {
        return Err(refuse(StatusCode::FORBIDDEN, "FORBIDDEN", "your role does not allow changing the registry"));
    }
    match web::block(move || read_rows(&body)).await {
        Ok(Ok(rows)) => Ok((t, rows)),
        Ok(Err(m)) => Err(refuse(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION", &m)),
        Err(_) => Err(refuse(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "the file could not be read")),
    }
}

/// `POST /imports/meters?dryRun=true|false` with the .xlsx or .csv as the body (bearer; the
/// registry permission): 200 with what was (or would be) written, or 422 with every error
/// and nothing written.
async fn import_meters(
    state: web::Data<HttpState>,
    http: HttpRequest,
    q: web::Query<HashMap<String, String>>,
    body: web::Bytes,
) -> HttpResponse {
    let (t, rows) = match registry_upload(&state, &http, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let dry_run = q.get("dryRun").is_none_or(|v| v != "false");
    let names = match load_names(&t).await {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(cause = %e, "import names");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "internal error");
        }
    };
    let total = rows.len().saturating_sub(1);
    let (good, unchanged, errors) = check(&rows, &names);
    if !errors.is_empty() {
        return HttpResponse::UnprocessableEntity().json(json!({
            "dryRun": dry_run, "rows": total, "created": 0, "unchanged": unchanged, "errors": errors,
        }));
    }
    let created = if dry_run {
        0
    } else {
        match t.import_meters(&good).await {
            Ok(n) => n,
            Err(store::StoreError::Conflict(m)) => return refuse(StatusCode::CONFLICT, "CONFLICT", &m),
            Err(e) => {
                tracing::error!(cause = %e, "import");
                return refuse(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "internal error; nothing was imported");
            }
        }
    };
    HttpResponse::Ok().json(json!({
        "dryRun": dry_run, "rows": total, "created": created, "toCreate": good.len(), "unchanged": unchanged, "errors": [],
    }))
}

async fn load_names(t: &store::TenantStore) -> Result<Names, store::StoreError> {
    let mut names =
        Names { properties: HashMap::new(), areas: HashMap::new(), gateways: HashMap::new(), existing: t.meters_by_address().await? };
    for p in t.properties().await?.into_iter().filter(|p| p.retired_at.is_none()) {
        for a in t.areas(Some(&p.id)).await?.into_iter().filter(|a| a.retired_at.is_none()) {
            names.areas.insert((p.id.to_string(), a.name.clone()), a.id.clone());
        }
        let (gateways, _) = t.gateways_of(Some(&p.id), 1, 10_000).await?;
        for g in gateways.into_iter().filter(|g| g.retired_at.is_none()) {
            names.gateways.insert((p.id.to_string(), g.serial.clone()), g.id.clone());
        }
        names.properties.insert(p.name.clone(), p.id);
    }
    Ok(names)
}

/// `GET /imports/meters-template.xlsx?lang=zh|en`.
async fn template_file(q: web::Query<HashMap<String, String>>) -> HttpResponse {
    let lang = Lang::parse(q.get("lang").map(String::as_str));
    match super::export::xlsx(&template(), lang, chrono_tz::Asia::Shanghai) {
        Ok(bytes) => HttpResponse::Ok()
            .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            .insert_header(("Content-Disposition", "attachment; filename=\"meters-import.xlsx\""))
            .body(bytes),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", &e),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/imports/meters").app_data(web::PayloadConfig::new(IMPORT_LIMIT)).route(web::post().to(import_meters)))
        .route("/imports/meters-template.xlsx", web::get().to(template_file));
    super::site_imports::routes(cfg);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_in_either_language_and_units_in_brackets() {
        let h = |cells: &[&str]| cells.iter().map(|c| In::Text(c.to_string())).collect::<Vec<_>>();
        let map = header_map(&h(&["项目", "Meter Address", "接入方式", "期初余额(元)"])).unwrap_or_default();
        assert_eq!(
            (map.get("property"), map.get("address"), map.get("link"), map.get("opening")),
            (Some(&0), Some(&1), Some(&2), Some(&3))
        );
        let errors = header_map(&h(&["项目", "表地址", "Colour"])).err().unwrap_or_default();
        assert_eq!(errors.len(), 2, "an unknown column and the missing link: {errors:?}");
        assert_eq!((errors[0].column.as_str(), errors[0].row), ("C", 1));
    }

    #[test]
    fn cells_parse_exactly_or_say_why() {
        assert_eq!(money(&In::Num(100.1)), Ok(10010));
        assert_eq!(money(&In::Text("12.345".into())), Err("at most 2 decimal places".into()));
        assert_eq!(money(&In::Text("-1".into())), Err("must not be negative".into()));
        assert_eq!(whole(&In::Text("three".into())), Err("“three” is not a whole number".into()));
        assert_eq!(whole(&In::Num(3.0)), Ok(Some(3)));
        assert_eq!(link(&In::Text("lora".into())), Ok("LORA_GATEWAY".into()));
        assert_eq!(letter(27), "AB");
    }
}
