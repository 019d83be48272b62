//! Spreadsheets in, the site structure (issue 19): properties, their areas and their LoRa
//! gateways from one sheet, before the meters (`imports.rs`) that hang on them. A row names a
//! property and, optionally, an area of it and/or a gateway of it; what is not registered yet
//! is made, what is registered with the same data is unchanged, what is registered with other
//! data is an error at its row and column. Same rules as the meter import: every error listed,
//! a dry run by default, all or nothing, the same file again changes nothing.
//!
//! ```text
//! GET  /imports/sites-template.xlsx?lang=zh|en
//! POST /imports/sites?dryRun=true|false   (body: the .xlsx or .csv, bearer token)
//! ```

use std::collections::HashMap;
use std::str::FromStr;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use rust_decimal::Decimal;
use serde_json::json;

use super::export::{Cell, Kind, Lang, Table, col};
use super::http::HttpState;
use super::imports::{IMPORT_LIMIT, In, MAX_ROWS, RowError, header_map_of, letter, refuse};
use domain::ids::*;
use domain::registry::{NewArea, NewGateway, NewProperty};

/// The columns: key, Chinese and English header.
const COLUMNS: [(&str, &str, &str); 8] = [
    ("property", "项目", "Property"),
    ("address", "项目地址", "Property address"),
    ("contact", "联系人", "Contact"),
    ("contact_phone", "联系电话", "Contact phone"),
    ("area", "区域", "Area"),
    ("floor", "面积", "Floor area"),
    ("gateway", "网关序列号", "Gateway serial"),
    ("gateway_name", "网关名称", "Gateway name"),
];

const REQUIRED: [&str; 1] = ["property"];

/// What the sheet is compared with: the caller's live properties, areas and gateways.
#[derive(Default)]
pub struct Sites {
    /// Name -> the property (more than one of a name: the name is ambiguous).
    pub properties: HashMap<String, Vec<store::PropertyRow>>,
    /// (property id, area name) -> (id, floor area).
    pub areas: HashMap<(String, String), (AreaId, Option<i64>)>,
    /// Serial -> (property id, name).
    pub gateways: HashMap<String, (String, String)>,
    /// A property-scoped operator adds to its properties but makes none.
    pub scoped: bool,
    /// Every serial the tenant ever registered (retired, other properties' included).
    pub serials_ever: std::collections::HashSet<String>,
}

/// What a checked sheet writes, in order: new properties first (by name), then areas and
/// gateways naming their property by name.
#[derive(Debug, Default)]
pub struct SitePlan {
    pub properties: Vec<NewProperty>,
    pub areas: Vec<(String, String, Option<i64>)>,
    pub gateways: Vec<(String, NewGatewayRow)>,
    /// Rows that change nothing.
    pub unchanged: usize,
}

#[derive(Debug, Clone)]
pub struct NewGatewayRow {
    pub serial: String,
    pub name: String,
}

fn area_size(v: &In) -> Result<Option<Decimal>, String> {
    let t = v.text();
    if t.is_empty() {
        return Ok(None);
    }
    let d = Decimal::from_str(&t).map_err(|_| format!("“{t}” is not a number of m²"))?;
    Ok(Some(d))
}

/// Checks every row against what is registered; returns the plan or every error.
pub fn check(rows: &[Vec<In>], sites: &Sites) -> Result<SitePlan, Vec<RowError>> {
    let mut errors = Vec::new();
    let Some((header, body)) = rows.split_first() else {
        return Err(vec![RowError { row: 1, column: String::new(), field: String::new(), message: "the file is empty".into() }]);
    };
    let map = header_map_of(header, &COLUMNS, &REQUIRED)?;
    if body.len() > MAX_ROWS {
        return Err(vec![RowError {
            row: 1,
            column: String::new(),
            field: String::new(),
            message: format!("at most {MAX_ROWS} rows per file"),
        }]);
    }
    let empty = In::Empty;
    let mut plan = SitePlan::default();
    // Within the file: a new property's data and row, an area's floor and row, a gateway's row.
    let mut new_properties: HashMap<String, (NewProperty, usize)> = HashMap::new();
    let mut areas_seen: HashMap<(String, String), (Option<i64>, usize)> = HashMap::new();
    let mut gateways_seen: HashMap<String, usize> = HashMap::new();
    for (i, row) in body.iter().enumerate() {
        let n = i + 2;
        if row.iter().all(In::is_empty) {
            continue;
        }
        let cell = |key: &str| map.get(key).and_then(|c| row.get(*c)).unwrap_or(&empty);
        let before = errors.len();
        let mut fail = |key: &str, message: String| {
            let c = map.get(key).copied();
            let (_, zh, en) = COLUMNS.iter().find(|(k, _, _)| *k == key).copied().unwrap_or((key, key, key));
            errors.push(RowError { row: n, column: c.map(letter).unwrap_or_default(), field: format!("{zh} / {en}"), message });
        };
        let name = cell("property").text();
        let (address, contact, contact_phone) = (cell("address").text(), cell("contact").text(), cell("contact_phone").text());
        let given = NewProperty::parse(&name, &address).and_then(|p| p.with_contact(&contact, &contact_phone));
        let given = match given {
            Ok(p) => Some(p),
            Err(e) => {
                let key = match e.field {
                    "contactName" => "contact",
                    "contactPhone" => "contact_phone",
                    _ => "property",
                };
                fail(key, if name.is_empty() { "required".into() } else { e.message });
                None
            }
        };
        let Some(given) = given else { continue };
        // The property: registered (its data as given or left empty), new in this file (the
        // same on every row that fills it in), or new.
        let property_key: String = match sites.properties.get(&given.name).map(Vec::as_slice) {
            Some([p]) => {
                let differs = |given: &str, has: &str| !given.is_empty() && given != has;
                if differs(&given.address, &p.address) {
                    fail("address", format!("“{}” is registered with the address “{}”; change it in the portal", p.name, p.address));
                }
                if differs(&given.contact_name, &p.contact_name) || differs(&given.contact_phone, &p.contact_phone) {
                    fail("contact", format!("“{}” is registered with another contact; change it in the portal", p.name));
                }
                p.id.to_string()
            }
            Some(_) => {
                fail("property", format!("more than one property is named “{}”; rename one in the portal", given.name));
                continue;
            }
            None if sites.scoped => {
                fail(
                    "property",
                    format!("no property “{}” (of yours); a property-scoped operator adds to its own properties only", given.name),
                );
                continue;
            }
            None => {
                match new_properties.get_mut(&given.name) {
                    Some((first, first_row)) => {
                        let merge = |a: &mut String, b: &str| -> bool {
                            if b.is_empty() || a == b {
                                true
                            } else if a.is_empty() {
                                *a = b.to_string();
                                true
                            } else {
                                false
                            }
                        };
                        let row_no = *first_row;
                        if !merge(&mut first.address, &given.address) {
                            fail("address", format!("another address than on row {row_no}"));
                        }
                        if !merge(&mut first.contact_name, &given.contact_name) || !merge(&mut first.contact_phone, &given.contact_phone) {
                            fail("contact", format!("another contact than on row {row_no}"));
                        }
                    }
                    None => {
                        new_properties.insert(given.name.clone(), (given.clone(), n));
                    }
                }
                format!("new:{}", given.name)
            }
        };
        let existing_id = property_key.strip_prefix("new:").is_none().then(|| property_key.clone());
        let mut changes = false;
        // The area.
        let area_name = cell("area").text();
        let floor = area_size(cell("floor")).unwrap_or_else(|m| {
            fail("floor", m);
            None
        });
        if area_name.is_empty() {
            if floor.is_some() {
                fail("floor", "a floor area needs the area".into());
            }
        } else {
            let dummy = PropertyId::from_uuid(uuid::Uuid::nil());
            match NewArea::parse(dummy, &area_name, floor) {
                Err(e) => fail(if e.field == "floorArea" { "floor" } else { "area" }, e.message),
                Ok(a) => {
                    let registered = existing_id.as_ref().and_then(|p| sites.areas.get(&(p.clone(), a.name.clone())));
                    match (registered, areas_seen.get(&(property_key.clone(), a.name.clone()))) {
                        (Some((_, has)), _) if a.floor_area_x100.is_some() && a.floor_area_x100 != *has => {
                            fail("floor", format!("area “{}” is registered with another floor area; change it in the portal", a.name))
                        }
                        (Some(_), _) => {}
                        (None, Some((floor_then, row_no))) if a.floor_area_x100.is_some() && *floor_then != a.floor_area_x100 => {
                            fail("floor", format!("another floor area than on row {row_no}"))
                        }
                        (None, Some(_)) => {}
                        (None, None) => {
                            areas_seen.insert((property_key.clone(), a.name.clone()), (a.floor_area_x100, n));
                            plan.areas.push((property_key.clone(), a.name.clone(), a.floor_area_x100));
                            changes = true;
                        }
                    }
                }
            }
        }
        // The gateway.
        let serial = cell("gateway").text();
        let gateway_name = cell("gateway_name").text();
        if serial.is_empty() {
            if !gateway_name.is_empty() {
                fail("gateway_name", "a gateway name needs the serial".into());
            }
        } else {
            let dummy = PropertyId::from_uuid(uuid::Uuid::nil());
            let shown = if gateway_name.is_empty() { serial.clone() } else { gateway_name.clone() };
            match NewGateway::parse(dummy, &serial, &shown) {
                Err(e) => fail(if e.field == "serial" { "gateway" } else { "gateway_name" }, e.message),
                Ok(g) => match (sites.gateways.get(&g.serial), gateways_seen.get(&g.serial)) {
                    (_, Some(row_no)) => fail("gateway", format!("{} is also on row {row_no}", g.serial)),
                    (Some((p, has_name)), None) => {
                        gateways_seen.insert(g.serial.clone(), n);
                        if existing_id.as_deref() != Some(p.as_str()) {
                            fail("gateway", format!("gateway {} is registered in another property", g.serial));
                        } else if !gateway_name.is_empty() && gateway_name != *has_name {
                            fail("gateway_name", format!("gateway {} is registered as “{has_name}”; change it in the portal", g.serial));
                        }
                    }
                    (None, None) if sites.serials_ever.contains(&g.serial) => fail(
                        "gateway",
                        format!("gateway {} is registered in another property or was retired: a serial is registered once", g.serial),
                    ),
                    (None, None) => {
                        gateways_seen.insert(g.serial.clone(), n);
                        plan.gateways.push((property_key.clone(), NewGatewayRow { serial: g.serial, name: g.name }));
                        changes = true;
                    }
                },
            }
        }
        let new_property_row = new_properties.get(&given.name).is_some_and(|(_, first)| *first == n);
        if errors.len() == before && !changes && !new_property_row {
            plan.unchanged += 1;
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut made: Vec<(NewProperty, usize)> = new_properties.into_values().collect();
    made.sort_by_key(|(_, row)| *row);
    plan.properties = made.into_iter().map(|(p, _)| p).collect();
    Ok(plan)
}

/// The template: the header row and two example rows (a property with an area and a gateway).
pub fn template() -> Table {
    let text = |s: &str| Cell::Text(s.into());
    Table {
        name: "sites-import",
        title_zh: "项目区域网关导入",
        title_en: "Site import",
        columns: COLUMNS.iter().map(|(_, zh, en)| col(zh, en, Kind::Text)).collect(),
        rows: vec![
            vec![
                text("Riverside Industrial Park"),
                text("1 River Road"),
                text("Ms. Li"),
                text("0571-88886666"),
                text("Building A"),
                Cell::Num(Decimal::new(120050, 2)),
                text("GW-0001"),
                text("A roof"),
            ],
            vec![
                text("Riverside Industrial Park"),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                text("Building B"),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
            ],
        ],
        sums: false,
    }
}

async fn load(t: &store::TenantStore) -> Result<Sites, store::StoreError> {
    let mut sites = Sites { scoped: t.scope().is_some(), serials_ever: t.gateway_serials_ever().await?, ..Default::default() };
    for p in t.properties().await?.into_iter().filter(|p| p.retired_at.is_none()) {
        for a in t.areas(Some(&p.id)).await?.into_iter().filter(|a| a.retired_at.is_none()) {
            sites.areas.insert((p.id.to_string(), a.name.clone()), (a.id.clone(), a.floor_area_x100));
        }
        let (gateways, _) = t.gateways_of(Some(&p.id), 1, 10_000).await?;
        for g in gateways.into_iter().filter(|g| g.retired_at.is_none()) {
            sites.gateways.insert(g.serial.clone(), (p.id.to_string(), g.name.clone()));
        }
        sites.properties.entry(p.name.clone()).or_default().push(p);
    }
    Ok(sites)
}

/// `POST /imports/sites?dryRun=true|false` (bearer; the registry permission).
async fn import_sites(
    state: web::Data<HttpState>,
    http: HttpRequest,
    q: web::Query<HashMap<String, String>>,
    body: web::Bytes,
) -> HttpResponse {
    let (t, rows) = match super::imports::registry_upload(&state, &http, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let dry_run = q.get("dryRun").is_none_or(|v| v != "false");
    let sites = match load(&t).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(cause = %e, "site import names");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "internal error");
        }
    };
    let total = rows.len().saturating_sub(1);
    let plan = match check(&rows, &sites) {
        Ok(p) => p,
        Err(errors) => {
            return HttpResponse::UnprocessableEntity().json(json!({"dryRun": dry_run, "rows": total, "created": 0, "errors": errors}));
        }
    };
    let counts = json!({"properties": plan.properties.len(), "areas": plan.areas.len(), "gateways": plan.gateways.len()});
    let to_create = plan.properties.len() + plan.areas.len() + plan.gateways.len();
    if !dry_run && to_create > 0 {
        let gateways: Vec<(String, String, String)> =
            plan.gateways.iter().map(|(p, g)| (p.clone(), g.serial.clone(), g.name.clone())).collect();
        match t.import_sites(&plan.properties, &plan.areas, &gateways).await {
            Ok(()) => {}
            Err(store::StoreError::Conflict(m)) => return refuse(StatusCode::CONFLICT, "CONFLICT", &m),
            Err(e) => {
                tracing::error!(cause = %e, "site import");
                return refuse(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "internal error; nothing was imported");
            }
        }
    }
    HttpResponse::Ok().json(json!({
        "dryRun": dry_run, "rows": total, "created": if dry_run { 0 } else { to_create }, "toCreate": to_create,
        "counts": counts, "unchanged": plan.unchanged, "errors": [],
    }))
}

/// `GET /imports/sites-template.xlsx?lang=zh|en`.
async fn template_file(q: web::Query<HashMap<String, String>>) -> HttpResponse {
    let lang = Lang::parse(q.get("lang").map(String::as_str));
    match super::export::xlsx(&template(), lang, chrono_tz::Asia::Shanghai) {
        Ok(bytes) => HttpResponse::Ok()
            .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            .insert_header(("Content-Disposition", "attachment; filename=\"sites-import.xlsx\""))
            .body(bytes),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", &e),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/imports/sites").app_data(web::PayloadConfig::new(IMPORT_LIMIT)).route(web::post().to(import_sites)))
        .route("/imports/sites-template.xlsx", web::get().to(template_file));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(rows: &[&[&str]]) -> Vec<Vec<In>> {
        rows.iter().map(|r| r.iter().map(|c| if c.is_empty() { In::Empty } else { In::Text(c.to_string()) }).collect()).collect()
    }

    const HEAD: &[&str] = &["项目", "项目地址", "区域", "面积(m²)", "网关序列号"];

    #[test]
    fn a_new_property_with_its_areas_and_gateway_is_planned_once() {
        let rows = sheet(&[HEAD, &["East", "1 Road", "A", "10.5", "GW-1"], &["East", "", "B", "", ""], &["East", "", "A", "", ""]]);
        let plan = check(&rows, &Sites::default()).unwrap_or_default_plan();
        assert_eq!(plan.properties.len(), 1);
        assert_eq!(plan.properties[0].address, "1 Road");
        assert_eq!(plan.areas, vec![("new:East".into(), "A".into(), Some(1050)), ("new:East".into(), "B".into(), None)]);
        assert_eq!(plan.gateways.len(), 1);
        assert_eq!(plan.unchanged, 1, "the third row repeats the first's area");
    }

    #[test]
    fn conflicts_inside_the_file_are_errors_at_their_cells() {
        let rows = sheet(&[
            HEAD,
            &["East", "1 Road", "A", "10", "GW-1"],
            &["East", "2 Road", "A", "11", "GW-1"],
            &["", "", "C", "x", "bad serial!"],
        ]);
        let errors = check(&rows, &Sites::default()).err().unwrap_or_default();
        let at: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(at, vec![(3, "B"), (3, "D"), (3, "E"), (4, "A")], "{errors:?}");
        assert!(errors[0].message.contains("row 2"));
    }

    #[test]
    fn a_scoped_operator_makes_no_property() {
        let rows = sheet(&[HEAD, &["West", "", "", "", ""]]);
        let errors = check(&rows, &Sites { scoped: true, ..Default::default() }).err().unwrap_or_default();
        assert_eq!((errors.len(), errors.first().map(|e| e.column.as_str())), (1, Some("A")));
    }

    trait OrDefault {
        fn unwrap_or_default_plan(self) -> SitePlan;
    }

    impl OrDefault for Result<SitePlan, Vec<RowError>> {
        fn unwrap_or_default_plan(self) -> SitePlan {
            match self {
                Ok(p) => p,
                Err(e) => panic!("{e:?}"),
            }
        }
    }
}
