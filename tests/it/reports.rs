//! Reports and exports (issue 19, first part): sales by day and channel, operator and payee;
//! the meter-reading report; arrears and low balances — as GraphQL and as .xlsx/.csv read
//! back by an independent reader (Python's openpyxl) with the API's values; download links
//! bound to one export, dead after logout, useless as bearer tokens; property scope in
//! every spelling.

use std::process::Command;

use serde_json::{Value, json};
use tests::{Admin, TestApp, graphql, http_bytes, post_json};

/// The rows of the first sheet as openpyxl reads them (formulas as their stored values):
/// every cell as text, numbers with two decimals, dates as ISO text.
fn read_xlsx(bytes: &[u8]) -> Vec<Vec<String>> {
    let path = std::env::temp_dir().join(format!("vl-export-{}.xlsx", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, bytes).unwrap();
    let script = r#"
import json, sys, datetime
from openpyxl import load_workbook
wb = load_workbook(sys.argv[1], data_only=True)
ws = wb.worksheets[0]
out = {"title": ws.title, "frozen": ws.freeze_panes, "rows": []}
for row in ws.iter_rows(values_only=True):
    cells = []
    for v in row:
        if v is None: cells.append("")
        elif isinstance(v, bool): cells.append(str(v))
        elif isinstance(v, (int, float)): cells.append("%.2f" % v)
        elif isinstance(v, datetime.datetime): cells.append(v.isoformat(sep=" "))
        else: cells.append(str(v))
    out["rows"].append(cells)
print(json.dumps(out))
"#;
    // Debian's python3 (where the test setup installs python3-openpyxl), else the one on PATH.
    let python = std::env::var("VOLTLEDGER_PYTHON")
        .unwrap_or_else(|_| if std::path::Path::new("/usr/bin/python3").exists() { "/usr/bin/python3".into() } else { "python3".into() });
    let out = Command::new(python).arg("-c").arg(script).arg(&path).output().expect("python3 runs (the test setup installs it)");
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "openpyxl could not read the export: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["frozen"], "A2", "the header row is frozen");
    v["rows"].as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect()).collect()
}

fn get(addr: std::net::SocketAddr, path: &str, token: Option<&str>) -> (u16, String, Vec<u8>) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.as_deref().map(|a| vec![("Authorization", a)]).unwrap_or_default();
    http_bytes(addr, "GET", path, &headers, "")
}

fn money(v: &Value) -> String {
    format!("{:.2}", v.as_str().unwrap().parse::<f64>().unwrap())
}

struct Site {
    app: TestApp,
    admin: Admin,
    east: Value,
    west: Value,
    accounts: Vec<Value>,
    /// The meters' MQTT usernames (their readings' device).
    devices: Vec<String>,
}

/// Two properties, a meter and an account in each; cash, transfer and a reversal at the
/// desk today.
async fn site() -> Site {
    let app = TestApp::spawn().await;
    let admin = app.admin("reports").await;
    let mut props = Vec::new();
    let mut accounts = Vec::new();
    let mut devices = Vec::new();
    for (name, address) in [("East", "000000000801"), ("West", "000000000802")] {
        let p = admin.ok("mutation($n: String!) { createProperty(input: {name: $n}) { id } }", json!({"n": name}))["createProperty"]["id"]
            .clone();
        let r = admin.ok(
            "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 1, linkType: FOUR_G, ptRatio: 1, ctRatio: 3}) { meter { id } credentials { username } } }",
            json!({"p": p, "a": address}),
        )["registerMeter"]
            .clone();
        let m = r["meter"]["id"].clone();
        devices.push(r["credentials"]["username"].as_str().unwrap().to_string());
        let c = admin.ok(
            "mutation($n: String!) { createCustomer(input: {name: $n, phone: \"13800008888\"}) { id } }",
            json!({"n": format!("{name} shop")}),
        )["createCustomer"]["id"]
            .clone();
        let a = admin.ok(
            "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m]}) { account { id number } } }",
            json!({"c": c, "m": m}),
        )["openAccount"]["account"]
            .clone();
        props.push(p);
        accounts.push(a);
    }
    let recharge = |a: &Value, amount: &str, channel: &str| {
        admin.ok(
            "mutation($a: ID!, $m: Decimal!, $c: RechargeChannel!) { recharge(input: {accountId: $a, amount: $m, channel: $c}) { entries { id kind } } }",
            json!({"a": a["id"], "m": amount, "c": channel}),
        )["recharge"]["entries"][0]["id"]
            .clone()
    };
    recharge(&accounts[0], "100.00", "CASH");
    recharge(&accounts[0], "50.50", "TRANSFER");
    let wrong = recharge(&accounts[1], "20.00", "CASH");
    admin.ok("mutation($e: ID!) { reverseEntry(entryId: $e, note: \"typo\") { receiptNo } }", json!({"e": wrong}));
    recharge(&accounts[1], "2.00", "CASH");
    Site { app, admin, east: props[0].clone(), west: props[1].clone(), accounts, devices }
}

fn today() -> (String, String) {
    let now = chrono::Utc::now();
    ((now - chrono::Duration::days(1)).to_rfc3339(), (now + chrono::Duration::hours(1)).to_rfc3339())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sales_report_sums_money_received_by_channel_and_its_export_reads_back_the_same() {
    let s = site().await;
    let addr = s.app.app.http_addr;
    let (from, to) = today();
    let q = "query($f: DateTime!, $t: DateTime!, $b: SalesBucket!, $by: SalesBy!, $p: ID) { salesReport(from: $f, to: $t, bucket: $b, by: $by, propertyId: $p) { period key name count amount } }";
    let report = |by: &str, p: Value| s.admin.ok(q, json!({"f": from, "t": to, "b": "YEAR", "by": by, "p": p}))["salesReport"].clone();
    let by_channel = report("CHANNEL", Value::Null);
    let lines: Vec<(String, i64, String)> = by_channel
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["key"].as_str().unwrap().to_string(), l["count"].as_i64().unwrap(), l["amount"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        lines,
        vec![("CASH".into(), 3, "122.00".into()), ("REFUND".into(), 1, "-20.00".into()), ("TRANSFER".into(), 1, "50.50".into())],
        "{by_channel}"
    );
    let by_operator = report("OPERATOR", Value::Null);
    assert_eq!(by_operator.as_array().unwrap().len(), 1, "one operator took it all: {by_operator}");
    assert_eq!(by_operator[0]["amount"], "152.50");
    let east_only = report("CHANNEL", s.east.clone());
    assert_eq!(east_only.as_array().unwrap().iter().map(|l| l["amount"].as_str().unwrap()).collect::<Vec<_>>(), vec!["100.00", "50.50"]);
    assert_eq!(s.admin.fails(q, json!({"f": to, "t": from, "b": "DAY", "by": "CHANNEL"}))["field"], "to");

    // The same as .xlsx, read by openpyxl: headers, typed numbers, the sums row's values.
    let path = format!("/exports/sales.xlsx?from={}&to={}&bucket=YEAR&by=CHANNEL&lang=en", urlencode(&from), urlencode(&to));
    let (status, head, bytes) = get(addr, &path, Some(&s.admin.token));
    assert_eq!(status, 200, "{head} {}", String::from_utf8_lossy(&bytes));
    assert!(head.contains("spreadsheetml"), "{head}");
    let rows = read_xlsx(&bytes);
    assert_eq!(rows[0], vec!["Period", "Key", "Name", "Count", "Amount (yuan)"]);
    let body: Vec<Vec<String>> = rows[1..rows.len() - 1].to_vec();
    let expected: Vec<Vec<String>> = by_channel
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            vec![
                l["period"].as_str().unwrap().to_string(),
                l["key"].as_str().unwrap().to_string(),
                l["name"].as_str().unwrap().to_string(),
                format!("{}.00", l["count"]),
                money(&l["amount"]),
            ]
        })
        .collect();
    assert_eq!(body, expected);
    assert_eq!(rows.last().unwrap(), &vec!["Total".to_string(), String::new(), String::new(), "5.00".into(), "152.50".into()]);

    // CSV: a BOM, Chinese headers by default, exact decimals, the sums row.
    let (status, _, csv) = get(addr, &path.replace("sales.xlsx", "sales.csv").replace("&lang=en", ""), Some(&s.admin.token));
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("\u{feff}\"期间\",\"维度\",\"名称\",\"笔数\",\"金额(元)\"\r\n"), "{csv}");
    assert!(csv.ends_with("\"合计\",,,5,152.50\r\n"), "{csv}");

    // Without a token, with a customer's or another tenant's: nothing.
    assert_eq!(get(addr, &path, None).0, 401);
    let other = s.app.admin("elsewhere").await;
    let (status, _, theirs) = get(addr, &path, Some(&other.token));
    assert_eq!(status, 200);
    let rows = read_xlsx(&theirs);
    assert_eq!(rows.len(), 1, "another tenant's export holds only its own (empty) sales: {rows:?}");
    let (status, _, _) = get(addr, &format!("{path}&propertyId={}", s.east.as_str().unwrap()), Some(&other.token));
    assert_eq!(status, 200, "a foreign property id filters to nothing");
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap().trim_start_matches("x=").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_links_open_one_export_for_a_live_session_only() {
    let s = site().await;
    let addr = s.app.app.http_addr;
    let path = "/exports/low-balances.csv?includeLow=true&lang=en";
    let (status, link) = post_json(addr, "/exports/link", Some(&s.admin.token), &json!({"path": path}));
    assert_eq!(status, 200, "{link}");
    let url = link["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("/exports/low-balances.csv?"), "{url}");
    let (status, _, body) = get(addr, &url, None);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    // Bound to its query: another export or another filter with the same token is refused.
    let token = url.split("link=").nth(1).unwrap().to_string();
    assert_eq!(get(addr, &format!("/exports/low-balances.csv?includeLow=false&lang=en&link={token}"), None).0, 401);
    assert_eq!(get(addr, &format!("/exports/sales.csv?link={token}"), None).0, 401);
    // Not a bearer token anywhere.
    let v = graphql(addr, Some(&token), "{ me { username } }", json!({}));
    assert!(v.get("errors").is_some() || v["data"]["me"].is_null(), "{v}");
    assert_eq!(get(addr, path, Some(&token)).0, 401);
    // Links only for exports.
    assert_eq!(post_json(addr, "/exports/link", Some(&s.admin.token), &json!({"path": "/graphql"})).0, 400);
    assert_eq!(post_json(addr, "/exports/link", None, &json!({"path": path})).0, 401);
    // After logout the link is dead.
    let (status, _) = post_json(addr, "/auth/logout", Some(&s.admin.token), &json!({}));
    assert!(status == 200 || status == 204, "{status}");
    assert_eq!(get(addr, &url, None).0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_meter_reading_report_and_the_arrears_list_keep_property_scope() {
    let s = site().await;
    let addr = s.app.app.http_addr;
    // Readings: East's register 10.00 -> 14.50 (CT 3: 13.50 kWh); West has none in the period.
    let t0 = chrono::Utc::now() - chrono::Duration::hours(10);
    let device = s.devices[0].clone();
    let reading = |at: chrono::DateTime<chrono::Utc>, kwh: &str| mqtt_bridge::port::MeterReading {
        device: device.clone(),
        address: mqtt_bridge::dlt645::Address::parse("000000000801").unwrap(),
        read_at: mqtt_bridge::port::ReadTime::Instant(at),
        received_at: chrono::Utc::now(),
        values: mqtt_bridge::port::Readings { energy_total: Some(kwh.parse().unwrap()), ..Default::default() },
    };
    s.app.app.store.store_readings(vec![reading(t0, "10.00"), reading(t0 + chrono::Duration::hours(4), "14.50")]).await.unwrap();

    let (from, to) = ((t0 - chrono::Duration::hours(1)).to_rfc3339(), chrono::Utc::now().to_rfc3339());
    let q = "query($f: DateTime!, $t: DateTime!, $p: ID) { meterReadingReport(from: $f, to: $t, propertyId: $p) { address accountNumber ratio startRegister endRegister usage } }";
    let all = s.admin.ok(q, json!({"f": from, "t": to}))["meterReadingReport"].clone();
    assert_eq!(
        all,
        json!([
            {"address": "000000000801", "accountNumber": s.accounts[0]["number"], "ratio": 3, "startRegister": "10.00", "endRegister": "14.50", "usage": "13.50"},
            {"address": "000000000802", "accountNumber": s.accounts[1]["number"], "ratio": 3, "startRegister": null, "endRegister": null, "usage": null}
        ])
    );
    // An operator of West only sees West, whatever property it names.
    let role = s.admin.ok("{ roles { id name } }", json!({}))["roles"].as_array().unwrap().iter().find(|r| r["name"] == "viewer").unwrap()
        ["id"]
        .clone();
    s.admin.ok(
        "mutation($r: ID!, $p: ID!) { createOperator(input: {username: \"westie\", password: \"Strong-Pass 2026\", roleId: $r, propertyIds: [$p]}) { id } }",
        json!({"r": role, "p": s.west}),
    );
    let west = s.app.session(&s.admin.tenant, "westie").await;
    let mine = graphql(addr, Some(&west), q, json!({"f": from, "t": to}));
    assert_eq!(mine["data"]["meterReadingReport"].as_array().map(Vec::len), Some(1), "{mine}");
    let east = graphql(addr, Some(&west), q, json!({"f": from, "t": to, "p": s.east}));
    assert_eq!(east["errors"][0]["extensions"]["code"], "NOT_FOUND", "{east}");
    // Its export is scoped the same; the sales report needs the reports permission.
    let path = format!("/exports/meter-readings.xlsx?from={}&to={}", urlencode(&from), urlencode(&to));
    let (status, _, bytes) = get(addr, &path, Some(&west));
    assert_eq!(status, 200);
    let rows = read_xlsx(&bytes);
    assert_eq!(rows.len(), 3, "header, West's meter and the sums: {rows:?}");
    assert_eq!((rows[1][0].as_str(), rows[1][3].as_str(), rows[1][8].as_str()), ("000000000802", "3.00", ""));
    assert_eq!(rows[2][8], "0.00");
    let (status, _, bytes) = get(addr, &path, Some(&s.admin.token));
    assert_eq!(status, 200);
    let rows = read_xlsx(&bytes);
    assert_eq!(rows[0][0], "表地址");
    assert_eq!(rows[1][8], "13.50");
    assert_eq!(rows.last().unwrap()[8], "13.50", "the usage summed");
    assert_eq!(get(addr, &format!("{path}&propertyId={}", s.east.as_str().unwrap()), Some(&west)).0, 404);
    let sales = format!("/exports/sales.xlsx?from={}&to={}", urlencode(&from), urlencode(&to));
    assert_eq!(get(addr, &sales, Some(&west)).0, 403);

    // Arrears and low balances: West's account (2.00 left, alarm amounts set) is low.
    s.admin.ok(
        "mutation($a: ID!) { setAccountTerms(input: {accountId: $a, thresholds: {alarm1: \"10.00\", alarm2: \"5.00\"}}) { account { balanceState } } }",
        json!({"a": s.accounts[1]["id"]}),
    );
    let low = s.admin.ok("{ lowBalanceReport { number balance balanceState } }", json!({}))["lowBalanceReport"].clone();
    assert_eq!(low, json!([{"number": s.accounts[1]["number"], "balance": "2.00", "balanceState": "LOW_2"}]));
    let arrears_only = s.admin.ok("{ lowBalanceReport(includeLow: false) { number } }", json!({}))["lowBalanceReport"].clone();
    assert_eq!(arrears_only, json!([]));
    let from_east =
        s.admin.ok("query($p: ID!) { lowBalanceReport(propertyId: $p) { number } }", json!({"p": s.east}))["lowBalanceReport"].clone();
    assert_eq!(from_east, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_bills_and_alarms_lists_export_what_the_api_lists() {
    let s = site().await;
    let addr = s.app.app.http_addr;
    let (from, to) = today();
    let path = format!("/exports/ledger.xlsx?from={}&to={}&lang=en", urlencode(&from), urlencode(&to));
    let (status, _, bytes) = get(addr, &path, Some(&s.admin.token));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let rows = read_xlsx(&bytes);
    assert_eq!(rows[0], vec!["Time", "Account", "Kind", "Amount (yuan)", "Receipt", "Operator", "Note"]);
    let api = s.admin.ok(
        "query($f: DateTime!, $t: DateTime!) { ledgerEntries(filter: {from: $f, to: $t}, first: 100) { items { entry { amount receiptNo } } } ledgerTotals(filter: {from: $f, to: $t}) { count } }",
        json!({"f": from, "t": to}),
    );
    let items: Vec<Value> = api["ledgerEntries"]["items"].as_array().unwrap().iter().map(|i| i["entry"].clone()).collect();
    assert_eq!(rows.len() - 2, items.len(), "every entry and the sums row: {rows:?}");
    assert_eq!(rows.len() - 2, api["ledgerTotals"]["count"].as_u64().unwrap() as usize);
    for (row, item) in rows[1..].iter().zip(&items) {
        assert_eq!(row[3], money(&item["amount"]), "{row:?} {item}");
    }
    let total: f64 = items.iter().map(|i| i["amount"].as_str().unwrap().parse::<f64>().unwrap()).sum();
    assert_eq!(rows.last().unwrap()[3], format!("{total:.2}"));
    // Only the East account's entries when East is asked; a West-only operator cannot export
    // the ledger without the reports permission.
    let (_, _, east) = get(addr, &format!("{path}&propertyId={}", s.east.as_str().unwrap()), Some(&s.admin.token));
    let east = read_xlsx(&east);
    assert!(east[1..east.len() - 1].iter().all(|r| r[1] == s.accounts[0]["number"].as_str().unwrap()), "{east:?}");
    // Bills (none yet: the header only) and alarms export too.
    let (status, _, bytes) = get(addr, "/exports/bills.csv?lang=en", Some(&s.admin.token));
    assert_eq!(status, 200);
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        "\u{feff}\"Account\",\"Period\",\"Version\",\"State\",\"Total (yuan)\",\"Issued at\",\"Paid at\"\r\n"
    );
    let (status, _, bytes) = get(addr, "/exports/alarms.xlsx", Some(&s.admin.token));
    assert_eq!(status, 200);
    assert_eq!(read_xlsx(&bytes)[0][0], "发生时间");
    assert_eq!(get(addr, "/exports/nothing.xlsx", Some(&s.admin.token)).0, 404);
    assert_eq!(get(addr, "/exports/alarms.pdf", Some(&s.admin.token)).0, 404);
    assert_eq!(get(addr, "/exports/ledger.xlsx?from=yesterday&to=now", Some(&s.admin.token)).0, 400);
}

/// Local midnight (Asia/Shanghai, the tenant's zone) `days` days ago.
fn local_midnight(days: i64) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    let tz = chrono_tz::Asia::Shanghai;
    let date = (chrono::Utc::now().with_timezone(&tz) - chrono::Duration::days(days)).date_naive();
    tz.from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap()).unwrap().with_timezone(&chrono::Utc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn energy_by_hour_day_and_property_splits_tou_and_demand_shows_the_quarter_hour_bills_count() {
    let s = site().await;
    let addr = s.app.app.http_addr;
    let base = local_midnight(3);
    let h = |m: i64| base + chrono::Duration::minutes(m);
    let device = s.devices[0].clone();
    // Registers: total, then sharp, peak, flat, valley (kWh, secondary); East's CT is 3.
    let reading = |at: chrono::DateTime<chrono::Utc>, total: &str, tou: [&str; 4], demand: Option<&str>| mqtt_bridge::port::MeterReading {
        device: device.clone(),
        address: mqtt_bridge::dlt645::Address::parse("000000000801").unwrap(),
        read_at: mqtt_bridge::port::ReadTime::Instant(at),
        received_at: chrono::Utc::now(),
        values: mqtt_bridge::port::Readings {
            energy_total: Some(total.parse().unwrap()),
            energy_tariffs: tou.map(|t| Some(t.parse().unwrap())),
            max_demand: demand.map(|d| d.parse().unwrap()),
            ..Default::default()
        },
    };
    s.app
        .app
        .store
        .store_readings(vec![
            reading(h(-60), "100.00", ["0", "40.00", "30.00", "30.00"], None),
            // (23:00, 10:00]: 10 kWh, 5 peak + 5 flat.
            reading(h(600), "110.00", ["0", "45.00", "35.00", "30.00"], None),
            // Quarter hours: 2 kWh (8 kW), then 1 kWh (4 kW); the register says 3.5 kW.
            reading(h(615), "112.00", ["0", "47.00", "35.00", "30.00"], Some("3.5")),
            reading(h(630), "113.00", ["0", "48.00", "35.00", "30.00"], None),
            // Midnight closes the day: 7 kWh valley.
            reading(h(1440), "120.00", ["0", "48.00", "35.00", "37.00"], None),
            reading(h(1500), "121.00", ["0", "48.00", "35.00", "38.00"], None),
        ])
        .await
        .unwrap();
    let day = |m: i64| (base + chrono::Duration::minutes(m)).with_timezone(&chrono_tz::Asia::Shanghai).date_naive().to_string();
    let q = "query($f: DateTime!, $t: DateTime!, $b: EnergyBucket!, $by: EnergyBy!, $p: ID) {
        energyReport(from: $f, to: $t, bucket: $b, by: $by, propertyId: $p) { period key name total sharp peak flat valley } }";
    let (from, to) = (base.to_rfc3339(), h(2880).to_rfc3339());
    let by_day = s.admin.ok(q, json!({"f": from, "t": to, "b": "DAY", "by": "PROPERTY"}))["energyReport"].clone();
    assert_eq!(
        by_day,
        json!([
            {"period": day(0), "key": s.east, "name": "East", "total": "60.00", "sharp": "0.00", "peak": "24.00", "flat": "15.00", "valley": "21.00"},
            {"period": day(1440), "key": s.east, "name": "East", "total": "3.00", "sharp": "0.00", "peak": "0.00", "flat": "0.00", "valley": "3.00"}
        ])
    );
    let by_hour =
        s.admin.ok(q, json!({"f": h(540).to_rfc3339(), "t": h(660).to_rfc3339(), "b": "HOUR", "by": "METER"}))["energyReport"].clone();
    let hours: Vec<(String, String)> = by_hour
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["period"].as_str().unwrap().to_string(), l["total"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(hours, vec![(format!("{} 09:00", day(0)), "30.00".to_string()), (format!("{} 10:00", day(0)), "9.00".to_string())]);
    assert_eq!(by_hour[0]["name"], "000000000801");
    // A month's lines sum to the register's difference × CT, however the days fall.
    let by_month = s.admin.ok(q, json!({"f": from, "t": to, "b": "MONTH", "by": "METER"}))["energyReport"].clone();
    let total: f64 = by_month.as_array().unwrap().iter().map(|l| l["total"].as_str().unwrap().parse::<f64>().unwrap()).sum();
    assert!((total - 63.0).abs() < 1e-9, "{by_month}");
    // Hours are bounded; West (no readings) has no lines.
    let long = graphql(addr, Some(&s.admin.token), q, json!({"f": from, "t": h(60 * 24 * 40).to_rfc3339(), "b": "HOUR", "by": "METER"}));
    assert_eq!(long["errors"][0]["extensions"]["field"], "to", "{long}");
    let west = s.admin.ok(q, json!({"f": from, "t": to, "b": "DAY", "by": "METER", "p": s.west}))["energyReport"].clone();
    assert_eq!(west, json!([]));

    // The export reads back with the same figures and sums.
    let path = format!("/exports/energy.xlsx?from={}&to={}&bucket=DAY&by=PROPERTY&lang=en", urlencode(&from), urlencode(&to));
    let (status, _, bytes) = get(addr, &path, Some(&s.admin.token));
    assert_eq!(status, 200);
    let rows = read_xlsx(&bytes);
    assert_eq!(rows[0][..4], ["Period", "Key", "Name", "Total (kWh)"]);
    assert_eq!((rows[1][3].as_str(), rows[1][5].as_str(), rows[1][7].as_str()), ("60.00", "24.00", "21.00"));
    assert_eq!((rows[3][0].as_str(), rows[3][3].as_str(), rows[3][7].as_str()), ("Total", "63.00", "24.00"));
    assert_eq!(get(addr, &path.replace("bucket=DAY", "bucket=WEEK"), Some(&s.admin.token)).0, 400);

    // Every reading, streamed: CSV and .xlsx with the registers as the meter gave them.
    let (rf, rt) = (urlencode(&h(-120).to_rfc3339()), urlencode(&h(2880).to_rfc3339()));
    let (status, _, bytes) = get(addr, &format!("/exports/readings.csv?from={rf}&to={rt}&lang=en"), Some(&s.admin.token));
    assert_eq!(status, 200);
    let csv = String::from_utf8(bytes).unwrap();
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 7, "a header and six readings: {csv}");
    assert!(lines[0].starts_with("\u{feff}\"Meter address\",\"Read at\",\"Total (kWh)\""), "{}", lines[0]);
    assert!(lines[1].starts_with("\"000000000801\",") && lines[1].contains(",100.00,0.00,40.00,30.00,30.00,"), "{}", lines[1]);
    let (status, _, bytes) =
        get(addr, &format!("/exports/readings.xlsx?from={rf}&to={rt}&propertyId={}", s.east.as_str().unwrap()), Some(&s.admin.token));
    assert_eq!(status, 200);
    let rows = read_xlsx(&bytes);
    assert_eq!(rows.len(), 7);
    assert_eq!((rows[0][0].as_str(), rows[6][2].as_str(), rows[6][6].as_str()), ("表地址", "121.00", "38.00"));
    let (status, _, bytes) =
        get(addr, &format!("/exports/readings.csv?from={rf}&to={rt}&propertyId={}", s.west.as_str().unwrap()), Some(&s.admin.token));
    assert_eq!((status, String::from_utf8(bytes).unwrap().trim_end().lines().count()), (200, 1), "West has no readings");
    assert_eq!(get(addr, &format!("/exports/readings.csv?from={rt}&to={rf}"), Some(&s.admin.token)).0, 400);

    // The capacity-fee basis of the bill period: the register (3.5 kW × 3) is what a bill
    // counts; the best quarter hour was 2 kWh in 15 minutes = 8 kW × 3.
    let period = base.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m").to_string();
    let dq =
        "query($p: String!) { demandReport(period: $p) { address ratio registerDemand intervalDemand intervalFrom intervalTo basis } }";
    let demand = s.admin.ok(dq, json!({"p": period}))["demandReport"].clone();
    let east = demand.as_array().unwrap().iter().find(|l| l["address"] == "000000000801").unwrap().clone();
    assert_eq!(
        (east["registerDemand"].as_str(), east["intervalDemand"].as_str(), east["basis"].as_str()),
        (Some("10.5000"), Some("24.0000"), Some("10.5000"))
    );
    let span = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().with_timezone(&chrono::Utc);
    assert_eq!((span(&east["intervalFrom"]), span(&east["intervalTo"])), (h(600), h(615)));
    let bad = graphql(addr, Some(&s.admin.token), dq, json!({"p": "2026-13"}));
    assert_eq!(bad["errors"][0]["extensions"]["code"], "VALIDATION", "{bad}");
    let (status, _, bytes) = get(addr, &format!("/exports/demand.csv?period={period}"), Some(&s.admin.token));
    assert_eq!(status, 200);
    let csv = String::from_utf8(bytes).unwrap();
    assert!(csv.starts_with('\u{feff}'), "BOM");
    assert!(csv.contains("\"000000000801\",") && csv.contains(",10.5000,24.0000,"), "{csv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_runs_from_the_opening_balance_to_the_ledger_balance_and_lost_devices_keep_scope() {
    let s = site().await;
    let addr = s.app.app.http_addr;
    let account = s.accounts[0]["id"].clone();
    let q = "query($a: ID!, $f: DateTime!, $t: DateTime!) { accountStatement(accountId: $a, from: $f, to: $t) {
        accountNumber customerName opening credits debits closing lines { kind label entries amount balance receiptNo } } }";
    let (from, to) = today();
    let st = s.admin.ok(q, json!({"a": account, "f": from, "t": to}))["accountStatement"].clone();
    assert_eq!(st["accountNumber"], s.accounts[0]["number"]);
    assert_eq!(st["customerName"], "East shop");
    assert_eq!((st["opening"].as_str(), st["credits"].as_str(), st["closing"].as_str()), (Some("0.00"), Some("150.50"), Some("150.50")));
    let lines = st["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{st}");
    assert_eq!(
        (lines[0]["kind"].as_str(), lines[0]["amount"].as_str(), lines[0]["balance"].as_str()),
        (Some("RECHARGE_CASH"), Some("100.00"), Some("100.00"))
    );
    assert_eq!((lines[1]["label"].as_str(), lines[1]["balance"].as_str()), (Some("转账充值"), Some("150.50")));
    assert!(lines[0]["receiptNo"].is_number());
    // The closing balance is the account's.
    let balance = s.admin.ok("query($a: ID!) { account(id: $a) { balance } }", json!({"a": account}))["account"]["balance"].clone();
    assert_eq!(st["closing"], balance);
    // From after the recharges: they are the opening balance, nothing moved.
    let later = chrono::Utc::now() + chrono::Duration::minutes(30);
    let st2 = s.admin.ok(q, json!({"a": account, "f": later.to_rfc3339(), "t": (later + chrono::Duration::hours(1)).to_rfc3339()}))["accountStatement"].clone();
    assert_eq!(
        (st2["opening"].as_str(), st2["closing"].as_str(), st2["lines"].as_array().map(Vec::len)),
        (Some("150.50"), Some("150.50"), Some(0))
    );
    // The export: an opening line, the movements, the sum of the amounts.
    let path = format!("/exports/statement.xlsx?accountId={}&from={}&to={}", account.as_str().unwrap(), urlencode(&from), urlencode(&to));
    let (status, _, bytes) = get(addr, &path, Some(&s.admin.token));
    assert_eq!(status, 200);
    let rows = read_xlsx(&bytes);
    assert_eq!((rows[1][1].as_str(), rows[1][4].as_str()), ("期初余额", "0.00"));
    assert_eq!((rows[2][3].as_str(), rows[3][4].as_str()), ("100.00", "150.50"));
    assert_eq!((rows[4][0].as_str(), rows[4][3].as_str()), ("合计", "150.50"));

    // An operator of West: East's account is not found, in the API and the export, in any spelling.
    let role = s.admin.ok("{ roles { id name } }", json!({}))["roles"].as_array().unwrap().iter().find(|r| r["name"] == "viewer").unwrap()
        ["id"]
        .clone();
    s.admin.ok(
        "mutation($r: ID!, $p: ID!) { createOperator(input: {username: \"westie\", password: \"Strong-Pass 2026\", roleId: $r, propertyIds: [$p]}) { id } }",
        json!({"r": role, "p": s.west}),
    );
    let west = s.app.session(&s.admin.tenant, "westie").await;
    let id = account.as_str().unwrap().to_string();
    for spelling in [id.clone(), id.to_uppercase(), id.replace('-', ""), format!("urn:uuid:{id}")] {
        let r = graphql(addr, Some(&west), q, json!({"a": spelling, "f": from, "t": to}));
        assert_eq!(r["errors"][0]["extensions"]["code"], "NOT_FOUND", "{spelling}: {r}");
        let p = format!("/exports/statement.csv?accountId={}&from={}&to={}", urlencode(&spelling), urlencode(&from), urlencode(&to));
        let (status, _, body) = get(addr, &p, Some(&west));
        assert!(status == 404 || status == 400, "{spelling}: {status} {}", String::from_utf8_lossy(&body));
        assert!(!String::from_utf8_lossy(&body).contains("East shop"));
    }
    // West's own account is fine.
    let own = graphql(addr, Some(&west), q, json!({"a": s.accounts[1]["id"], "f": from, "t": to}));
    assert_eq!(own["data"]["accountStatement"]["customerName"], "West shop", "{own}");

    // Lost devices: East's meter reported, then fell silent for a day; West's never spoke.
    let reading = mqtt_bridge::port::MeterReading {
        device: s.devices[0].clone(),
        address: mqtt_bridge::dlt645::Address::parse("000000000801").unwrap(),
        read_at: mqtt_bridge::port::ReadTime::Instant(chrono::Utc::now()),
        received_at: chrono::Utc::now(),
        values: mqtt_bridge::port::Readings { energy_total: Some("1.00".parse().unwrap()), ..Default::default() },
    };
    s.app.app.store.store_readings(vec![reading]).await.unwrap();
    s.app.app.store.platform().sweep_link_state(chrono::Utc::now() + chrono::Duration::days(1)).await.unwrap();
    let lq = "query($p: ID) { lostDevicesReport(propertyId: $p) { kind label accountNumber lastSeenAt } }";
    let lost = s.admin.ok(lq, json!({}))["lostDevicesReport"].clone();
    assert_eq!(lost.as_array().map(Vec::len), Some(1), "{lost}");
    assert_eq!((lost[0]["kind"].as_str(), lost[0]["label"].as_str()), (Some("METER"), Some("000000000801")));
    assert!(lost[0]["lastSeenAt"].is_string());
    let mine = graphql(addr, Some(&west), lq, json!({}));
    assert_eq!(mine["data"]["lostDevicesReport"], json!([]), "{mine}");
    let theirs = graphql(addr, Some(&west), lq, json!({"p": s.east}));
    assert_eq!(theirs["errors"][0]["extensions"]["code"], "NOT_FOUND", "{theirs}");
    let (status, _, bytes) = get(addr, "/exports/lost-devices.csv?lang=en", Some(&s.admin.token));
    assert_eq!(status, 200);
    assert!(String::from_utf8(bytes).unwrap().contains("\"METER\",\"000000000801\""));
}

/// A webhook receiver answering each request with the next status of `plan` (then 200),
/// keeping (head, body) of each.
async fn webhook(plan: Vec<u16>) -> (std::net::SocketAddr, std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let plan = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::from(plan)));
    let kept = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (kept, plan) = (kept.clone(), plan.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 16384];
                loop {
                    let Ok(n) = sock.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
                    let head = String::from_utf8_lossy(&buf[..i]).to_string();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                        .unwrap_or(0);
                    if buf.len() < i + 4 + len {
                        continue;
                    }
                    let status = plan.lock().unwrap().pop_front().unwrap_or(200);
                    kept.lock().unwrap().push((head, buf[i + 4..i + 4 + len].to_vec()));
                    let _ =
                        sock.write_all(format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes()).await;
                    return;
                }
            });
        }
    });
    (addr, seen)
}

/// Sends due runs until `id` is no longer pending or was attempted `attempts` times: the app's own job may take
/// a run first — a run is claimed before it is sent, so it goes out once either way.
async fn send_until_done(
    app: &TestApp,
    mail: &server::connectors::mail::MailConfig,
    tenant: &server::domain::ids::TenantId,
    id: &str,
    at: chrono::DateTime<chrono::Utc>,
    attempts: i64,
) -> Value {
    let client = reqwest::Client::new();
    let t = app.app.store.tenant(tenant.clone());
    for _ in 0..50 {
        server::schedules::run_pass(&app.app.store, Some(mail), &client, at).await.unwrap();
        let schedules = t.schedules().await.unwrap();
        for s in schedules {
            for r in t.schedule_runs(&s.id, 50).await.unwrap() {
                if r.id == id && (r.state != "PENDING" || r.attempts >= attempts) {
                    return json!({"state": r.state, "attempts": r.attempts, "lastError": r.last_error, "rowsSent": r.rows_sent});
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("run {id} was never attempted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_reports_are_mailed_over_starttls_with_the_export_attached_and_retried_until_sent() {
    use server::connectors::mail::{MailConfig, standin::SmtpStandIn};
    let smtp = SmtpStandIn::start("127.0.0.1:0".parse().unwrap(), "reports", "relay-Pass-2026", None).await.unwrap();
    let mail = MailConfig::parse(
        &format!("smtp://reports:relay-Pass-2026@localhost:{}", smtp.addr.port()),
        "VoltLedger <reports@localhost>",
        Some(smtp.ca_pem.clone().into_bytes()),
    )
    .unwrap();
    // The app's own job sends through the same relay: whoever claims a run sends it.
    let app_mail = mail.clone();
    let app = TestApp::spawn_with(move |settings| settings.mail = Some(app_mail)).await;
    let admin = app.admin("schedules").await;
    let p = admin.ok("mutation { createProperty(input: {name: \"Park\"}) { id } }", json!({}))["createProperty"]["id"].clone();
    let m = admin.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000000901\", phases: 1, linkType: FOUR_G}) { meter { id } } }",
        json!({"p": p}),
    )["registerMeter"]["meter"]["id"]
        .clone();
    let c =
        admin.ok("mutation { createCustomer(input: {name: \"Shop\", phone: \"13800001111\"}) { id } }", json!({}))["createCustomer"]["id"]
            .clone();
    let a = admin.ok(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m]}) { account { id } } }",
        json!({"c": c, "m": m}),
    )["openAccount"]["account"]["id"]
        .clone();
    admin.ok("mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"88.80\", channel: CASH}) { receiptNo } }", json!({"a": a}));
    let addr = app.app.http_addr;

    // Refused: a bad address, an unknown report, the range in the filters, no permission.
    let create = "mutation($i: CreateReportScheduleInput!) { createReportSchedule(input: $i) { schedule { id state nextRunAt } secret } }";
    let base = json!({"name": "Daily sales", "report": "sales", "params": "bucket=DAY&by=CHANNEL", "lang": "en", "cadence": "DAILY", "hour": 8, "channel": "EMAIL", "recipients": ["ops@park.example.cn"]});
    for (field, bad) in [
        ("recipients", json!({"recipients": ["not-an-address"]})),
        ("report", json!({"report": "statement"})),
        ("params", json!({"params": "from=2026-01-01T00:00:00Z"})),
        ("hour", json!({"hour": 24})),
    ] {
        let mut input = base.clone();
        for (k, v) in bad.as_object().unwrap() {
            input[k] = v.clone();
        }
        let r = graphql(addr, Some(&admin.token), create, json!({"i": input}));
        assert_eq!(r["errors"][0]["extensions"]["field"], field, "{r}");
    }
    let created = admin.ok(create, json!({"i": base}))["createReportSchedule"].clone();
    assert!(created["secret"].is_null(), "e-mail schedules have no secret");
    let id = created["schedule"]["id"].as_str().unwrap().to_string();
    let next = chrono::DateTime::parse_from_rfc3339(created["schedule"]["nextRunAt"].as_str().unwrap()).unwrap();
    assert!(next > chrono::Utc::now() && next < chrono::Utc::now() + chrono::Duration::hours(25), "the next 08:00 local: {next}");

    // Send today's sales now; the relay refuses the first attempt (451): retried, then sent.
    smtp.refuse_next(1);
    let (from, to) = today();
    let run = admin.ok(
        "mutation($s: ID!, $f: DateTime!, $t: DateTime!) { runReportSchedule(id: $s, from: $f, to: $t) { id state } }",
        json!({"s": id, "f": from, "t": to}),
    )["runReportSchedule"]
        .clone();
    let run_id = run["id"].as_str().unwrap().to_string();
    let first = send_until_done(&app, &mail, &admin.tenant, &run_id, chrono::Utc::now(), 1).await;
    assert_eq!((first["state"].as_str(), first["attempts"].as_i64()), (Some("PENDING"), Some(1)), "{first}");
    assert!(first["lastError"].as_str().unwrap().contains("451"), "{first}");
    let done = send_until_done(&app, &mail, &admin.tenant, &run_id, chrono::Utc::now() + chrono::Duration::minutes(1), 2).await;
    assert_eq!((done["state"].as_str(), done["attempts"].as_i64(), done["rowsSent"].as_i64()), (Some("SENT"), Some(2), Some(1)), "{done}");
    assert_eq!(smtp.refused(), vec!["451 4.3.0".to_string()]);
    let got = smtp.received();
    assert_eq!(got.len(), 1, "sent once");
    assert!(got[0].tls, "the message went over STARTTLS");
    assert_eq!((got[0].user.as_str(), got[0].to.clone()), ("reports", vec!["ops@park.example.cn".to_string()]));
    assert!(got[0].subject().contains("Daily sales"), "{}", got[0].subject());
    let files = got[0].attachments();
    assert_eq!(files.len(), 1);
    assert!(files[0].0.starts_with("sales-") && files[0].0.ends_with(".xlsx"), "{}", files[0].0);
    // The attachment, opened by an independent reader, holds the API's figures.
    let rows = read_xlsx(&files[0].1);
    let api = admin.ok(
        "query($f: DateTime!, $t: DateTime!) { salesReport(from: $f, to: $t, bucket: DAY, by: CHANNEL) { period key count amount } }",
        json!({"f": from, "t": to}),
    )["salesReport"]
        .clone();
    assert_eq!(rows[0][..5], ["Period", "Key", "Name", "Count", "Amount (yuan)"]);
    assert_eq!((rows[1][1].as_str(), rows[1][4].as_str()), (api[0]["key"].as_str().unwrap(), money(&api[0]["amount"]).as_str()));
    assert_eq!(rows[1][4], "88.80");
    let listed = admin.ok("{ reportSchedules { id runs { state attempts rowsSent lastError } } }", json!({}))["reportSchedules"].clone();
    assert_eq!(listed[0]["runs"][0], json!({"state": "SENT", "attempts": 2, "rowsSent": 1, "lastError": ""}));

    // The schedule's own time: the run of the day before, made once however often it is looked at.
    let t = app.app.store.tenant(admin.tenant.clone());
    let later = next.with_timezone(&chrono::Utc) + chrono::Duration::minutes(1);
    assert_eq!(t.make_due_runs(later).await.unwrap(), 1);
    assert_eq!(t.make_due_runs(later).await.unwrap(), 0);
    let runs = t.schedule_runs(&id, 10).await.unwrap();
    let due = runs.iter().find(|r| r.id != run_id).unwrap();
    assert_eq!(due.period_to.with_timezone(&chrono_tz::Asia::Shanghai).format("%H:%M").to_string(), "00:00");
    assert_eq!(due.period_to - due.period_from, chrono::Duration::days(1));

    // A webhook schedule: the file posted with a signature the receiver verifies; a 500 is retried.
    let (hook, seen) = webhook(vec![500]).await;
    let input = json!({"name": "Arrears", "report": "low-balances", "format": "CSV", "cadence": "WEEKLY", "channel": "WEBHOOK", "url": format!("http://{hook}/reports")});
    let created = admin.ok(create, json!({"i": input}))["createReportSchedule"].clone();
    let secret = created["secret"].as_str().unwrap().to_string();
    let hook_id = created["schedule"]["id"].as_str().unwrap().to_string();
    let run = admin.ok(
        "mutation($s: ID!, $f: DateTime!, $t: DateTime!) { runReportSchedule(id: $s, from: $f, to: $t) { id } }",
        json!({"s": hook_id, "f": from, "t": to}),
    )["runReportSchedule"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let first = send_until_done(&app, &mail, &admin.tenant, &run, chrono::Utc::now(), 1).await;
    assert_eq!(first["state"], "PENDING");
    assert!(first["lastError"].as_str().unwrap().contains("500"), "{first}");
    let done = send_until_done(&app, &mail, &admin.tenant, &run, chrono::Utc::now() + chrono::Duration::minutes(1), 2).await;
    assert_eq!(done["state"], "SENT", "{done}");
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 2);
    let (head, body) = &requests[1];
    let header = |name: &str| {
        head.lines().find_map(|l| l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string()))
    };
    let (ts, sig) = (header("x-voltledger-timestamp").unwrap(), header("x-voltledger-signature").unwrap());
    assert!(server::forward::verify(&secret, &ts, &sig, body, chrono::Utc::now().timestamp(), 300), "the receiver checks the signature");
    assert!(!server::forward::verify("another secret", &ts, &sig, body, chrono::Utc::now().timestamp(), 300));
    assert_eq!(header("idempotency-key").as_deref(), Some(run.as_str()));
    assert!(String::from_utf8_lossy(body).starts_with('\u{feff}'), "the CSV with its BOM");

    // Pause and retire; another tenant and a viewer see nothing of it.
    let paused = admin.ok("mutation($s: ID!) { pauseReportSchedule(id: $s) { state } }", json!({"s": id}))["pauseReportSchedule"].clone();
    assert_eq!(paused["state"], "PAUSED");
    let other = app.admin("other").await;
    assert_eq!(other.ok("{ reportSchedules { id } }", json!({}))["reportSchedules"], json!([]));
    let r = graphql(addr, Some(&other.token), "mutation($s: ID!) { retireReportSchedule(id: $s) { id } }", json!({"s": id}));
    assert_eq!(r["errors"][0]["extensions"]["code"], "NOT_FOUND", "{r}");
    let role =
        admin.ok("{ roles { id name } }", json!({}))["roles"].as_array().unwrap().iter().find(|r| r["name"] == "viewer").unwrap()["id"]
            .clone();
    admin.ok(
        "mutation($r: ID!) { createOperator(input: {username: \"looker\", password: \"Strong-Pass 2026\", roleId: $r}) { id } }",
        json!({"r": role}),
    );
    let viewer = app.session(&admin.tenant, "looker").await;
    // An operator limited to one property (finance: with the reports permission) may not schedule
    // tenant-wide reports, list them, nor touch one by its id.
    let admin_role =
        admin.ok("{ roles { id name } }", json!({}))["roles"].as_array().unwrap().iter().find(|r| r["name"] == "finance").unwrap()["id"]
            .clone();
    admin.ok(
        "mutation($r: ID!, $p: ID!) { createOperator(input: {username: \"parkonly\", password: \"Strong-Pass 2026\", roleId: $r, propertyIds: [$p]}) { id } }",
        json!({"r": admin_role, "p": p}),
    );
    let scoped = app.session(&admin.tenant, "parkonly").await;
    let r = graphql(addr, Some(&scoped), "{ reportSchedules { id } }", json!({}));
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{r}");
    let r = graphql(addr, Some(&scoped), create, json!({"i": base}));
    assert!(r["data"].is_null() || r["data"]["createReportSchedule"].is_null(), "{r}");
    assert!(r["errors"][0]["extensions"]["code"] == "FORBIDDEN", "{r}");
    for spelling in [id.clone(), id.to_uppercase(), id.replace('-', "")] {
        let r = graphql(addr, Some(&scoped), "mutation($s: ID!) { pauseReportSchedule(id: $s) { id } }", json!({"s": spelling}));
        assert!(
            r["errors"][0]["extensions"]["code"] == "NOT_FOUND" || r["errors"][0]["extensions"]["code"] == "FORBIDDEN",
            "{spelling}: {r}"
        );
    }
    let r = graphql(addr, Some(&viewer), "{ reportSchedules { id } }", json!({}));
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{r}");
    admin.ok("mutation($s: ID!) { retireReportSchedule(id: $s) { state } }", json!({"s": id}));
    assert_eq!(admin.ok("{ reportSchedules { id } }", json!({}))["reportSchedules"].as_array().map(Vec::len), Some(1));

    // The relay's walls: no mail before STARTTLS, wrong credentials refused (permanently).
    {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let mut sock = BufReader::new(tokio::net::TcpStream::connect(smtp.addr).await.unwrap());
        let mut line = String::new();
        sock.read_line(&mut line).await.unwrap();
        sock.get_mut().write_all(b"EHLO test\r\nMAIL FROM:<a@b.cn>\r\n").await.unwrap();
        let mut replies = Vec::new();
        while replies.len() < 6 {
            line.clear();
            sock.read_line(&mut line).await.unwrap();
            replies.push(line.trim().to_string());
            if line.starts_with("530") {
                break;
            }
        }
        assert!(replies.iter().any(|r| r == "250 STARTTLS"), "{replies:?}");
        assert!(replies.last().unwrap().starts_with("530 5.7.0 Must issue a STARTTLS"), "{replies:?}");
    }
    let wrong = MailConfig::parse(
        &format!("smtp://reports:guess@localhost:{}", smtp.addr.port()),
        "a@localhost",
        Some(smtp.ca_pem.clone().into_bytes()),
    )
    .unwrap();
    let m = server::connectors::mail::Mail {
        to: vec!["x@park.example.cn".into()],
        subject: "s".into(),
        body: "b".into(),
        file_name: "f.csv".into(),
        content_type: "text/csv".into(),
        attachment: b"a".to_vec(),
    };
    let e = server::connectors::mail::send(&wrong, &m).await.unwrap_err();
    assert!(e.permanent && e.message.contains("535"), "{e:?}");
    // A relay whose certificate nobody trusts is not spoken to.
    let untrusted =
        MailConfig::parse(&format!("smtp://reports:relay-Pass-2026@localhost:{}", smtp.addr.port()), "a@localhost", None).unwrap();
    assert!(server::connectors::mail::send(&untrusted, &m).await.is_err());
    assert_eq!(smtp.received().len(), 1, "nothing else got through");
}

/// Polls an export job until it ends.
async fn job_done(addr: std::net::SocketAddr, token: &str, id: &str) -> Value {
    for _ in 0..600 {
        let (status, _, body) = get(addr, &format!("/exports/jobs/{id}"), Some(token));
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert!(v["rows"].as_u64().unwrap() <= v["total"].as_u64().unwrap(), "progress never passes its total: {v}");
        if v["state"] != "RUNNING" {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the job did not end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_export_runs_as_a_job_with_progress_and_downloads_through_its_own_link() {
    let s = site().await;
    let addr = s.app.app.http_addr;
    // 3,000 readings of East's meter, a minute apart.
    let base = chrono::Utc::now() - chrono::Duration::days(3);
    let readings: Vec<mqtt_bridge::port::MeterReading> = (0..3000)
        .map(|i| mqtt_bridge::port::MeterReading {
            device: s.devices[0].clone(),
            address: mqtt_bridge::dlt645::Address::parse("000000000801").unwrap(),
            read_at: mqtt_bridge::port::ReadTime::Instant(base + chrono::Duration::minutes(i)),
            received_at: chrono::Utc::now(),
            values: mqtt_bridge::port::Readings { energy_total: Some(rust_decimal::Decimal::new(10_000 + i, 2)), ..Default::default() },
        })
        .collect();
    s.app.app.store.store_readings(readings).await.unwrap();
    let (rf, rt) = (urlencode(&(base - chrono::Duration::hours(1)).to_rfc3339()), urlencode(&chrono::Utc::now().to_rfc3339()));
    let path = format!("/exports/readings.xlsx?from={rf}&to={rt}&lang=en");

    // Refused at once, like the download: bad range, unknown export, no token, a role without
    // reports for money, another property than the caller's.
    let start = |token: Option<&str>, path: &str| post_json(addr, "/exports/jobs", token, &json!({"path": path}));
    assert_eq!(start(Some(&s.admin.token), &format!("/exports/readings.xlsx?from={rt}&to={rf}")).0, 400);
    assert_eq!(start(Some(&s.admin.token), "/exports/nothing.xlsx").0, 404);
    assert_eq!(start(Some(&s.admin.token), "/graphql").0, 400);
    assert_eq!(start(None, &path).0, 401);

    let (status, job) = start(Some(&s.admin.token), &path);
    assert_eq!(status, 202, "{job}");
    assert_eq!((job["state"].as_str(), job["total"].as_u64()), (Some("RUNNING"), Some(3000)), "the total is known at the start: {job}");
    let id = job["id"].as_str().unwrap().to_string();
    let done = job_done(addr, &s.admin.token, &id).await;
    assert_eq!((done["state"].as_str(), done["rows"].as_u64(), done["total"].as_u64()), (Some("DONE"), Some(3000), Some(3000)), "{done}");
    let url = done["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("/exports/jobs/{id}/file?link=")), "{url}");
    let (status, _, bytes) = get(addr, &url, None);
    assert_eq!(status, 200);
    let rows = read_xlsx(&bytes);
    assert_eq!(rows.len(), 3001, "a header and every reading");
    assert_eq!((rows[0][0].as_str(), rows[1][2].as_str(), rows[3000][2].as_str()), ("Meter address", "100.00", "129.99"));
    // The same rows as the direct download.
    let (status, _, direct) = get(addr, &path, Some(&s.admin.token));
    assert_eq!(status, 200);
    assert_eq!(read_xlsx(&direct), rows);

    // A CSV job of a report: rows are the report's lines.
    let (f, t) = today();
    let (status, job) = start(Some(&s.admin.token), &format!("/exports/sales.csv?from={}&to={}&by=CHANNEL", urlencode(&f), urlencode(&t)));
    assert_eq!(status, 202, "{job}");
    let done = job_done(addr, &s.admin.token, job["id"].as_str().unwrap()).await;
    assert_eq!(done["state"], "DONE", "{done}");
    let (status, _, csv) = get(addr, done["url"].as_str().unwrap(), None);
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with('\u{feff}') && csv.contains("CASH"), "{csv}");
    assert_eq!(csv.trim_end().split("\r\n").count() as u64, done["rows"].as_u64().unwrap() + 2, "header, lines, sums: {csv}");

    // Walls: the job is its starter's. Another operator of the tenant, another tenant, no
    // token: not found / unauthenticated; one job's link opens no other job; a West-only
    // operator cannot start an export of East; a viewer no money report.
    let roles = s.admin.ok("{ roles { id name } }", json!({}))["roles"].clone();
    let role = |n: &str| roles.as_array().unwrap().iter().find(|r| r["name"] == n).unwrap()["id"].clone();
    s.admin.ok(
        "mutation($r: ID!, $p: ID!) { createOperator(input: {username: \"west-jobs\", password: \"Strong-Pass 2026\", roleId: $r, propertyIds: [$p]}) { id } }",
        json!({"r": role("tenant admin"), "p": s.west}),
    );
    let west = s.app.session(&s.admin.tenant, "west-jobs").await;
    assert_eq!(get(addr, &format!("/exports/jobs/{id}"), Some(&west)).0, 404);
    assert_eq!(get(addr, &format!("/exports/jobs/{id}/file"), Some(&west)).0, 404);
    let other = s.app.admin("elsewhere-jobs").await;
    assert_eq!(get(addr, &format!("/exports/jobs/{id}"), Some(&other.token)).0, 404);
    assert_eq!(get(addr, &format!("/exports/jobs/{id}/file"), None).0, 401);
    let token = url.split("link=").nth(1).unwrap();
    let second = job["id"].as_str().unwrap();
    assert_eq!(get(addr, &format!("/exports/jobs/{second}/file?link={token}"), None).0, 401, "a link opens its own job only");
    assert_eq!(get(addr, &format!("/exports/jobs/{id}"), Some(token)).0, 401, "a link is no bearer token");
    let east = s.east.as_str().unwrap();
    assert_eq!(start(Some(&west), &format!("{path}&propertyId={east}")).0, 404);
    s.admin.ok(
        "mutation($r: ID!) { createOperator(input: {username: \"jobs-viewer\", password: \"Strong-Pass 2026\", roleId: $r}) { id } }",
        json!({"r": role("viewer")}),
    );
    let viewer = s.app.session(&s.admin.tenant, "jobs-viewer").await;
    assert_eq!(start(Some(&viewer), &format!("/exports/sales.csv?from={}&to={}", urlencode(&f), urlencode(&t))).0, 403);
    // After logout the job's link is dead.
    let (status, _) = post_json(addr, "/auth/logout", Some(&s.admin.token), &json!({}));
    assert!(status == 200 || status == 204, "{status}");
    assert_eq!(get(addr, &url, None).0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_meter_customer_and_command_lists_export_what_the_api_lists_within_scope() {
    let s = site().await;
    let addr = s.app.app.http_addr;
    let api = s.admin.ok("{ meters(pageSize: 100) { items { address } } customers(pageSize: 100) { items { name phone } } }", json!({}));
    let (status, _, bytes) = get(addr, "/exports/meters.xlsx?lang=en", Some(&s.admin.token));
    assert_eq!(status, 200);
    let rows = read_xlsx(&bytes);
    assert_eq!(rows[0][..3], ["Meter address", "Property", "Area"]);
    let mut addresses: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
    let mut listed: Vec<String> =
        api["meters"]["items"].as_array().unwrap().iter().map(|m| m["address"].as_str().unwrap().to_string()).collect();
    addresses.sort();
    listed.sort();
    assert_eq!(addresses, listed);
    let east = rows.iter().find(|r| r[0] == "000000000801").unwrap();
    assert_eq!((east[1].as_str(), east[6].as_str(), east[8].as_str()), ("East", "East shop", "150.50"), "{east:?}");
    let (status, _, csv) = get(addr, "/exports/customers.csv", Some(&s.admin.token));
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("\u{feff}\"客户\",\"电话\""), "{csv}");
    for c in api["customers"]["items"].as_array().unwrap() {
        assert!(csv.contains(&format!("\"{}\",\"{}\"", c["name"].as_str().unwrap(), c["phone"].as_str().unwrap())), "{csv}");
    }
    // A trip from the desk appears in the commands export.
    let meter = s.admin.ok("{ meters(pageSize: 100) { items { id address } } }", json!({}))["meters"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["address"] == "000000000802")
        .unwrap()["id"]
        .clone();
    s.admin.ok("mutation($m: ID!) { tripMeter(input: {meterId: $m, reason: \"test\"}) { id } }", json!({"m": meter}));
    let (status, _, csv) = get(addr, "/exports/commands.csv?lang=en&kind=TRIP", Some(&s.admin.token));
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains("\"000000000802\",\"TRIP\""), "{csv}");
    assert_eq!(get(addr, "/exports/commands.csv?kind=EXPLODE", Some(&s.admin.token)).0, 400);
    assert_eq!(get(addr, "/exports/meters.csv?status=SLEEPY", Some(&s.admin.token)).0, 400);
    // A gateway filter: no meter hangs on an unknown gateway (header only).
    let (status, _, csv) = get(addr, &format!("/exports/meters.csv?gatewayId={}", uuid::Uuid::new_v4()), Some(&s.admin.token));
    assert_eq!((status, String::from_utf8(csv).unwrap().trim_end().lines().count()), (200, 1));
    // A West-only operator exports West's meter, customer and command only; East is not found.
    let roles = s.admin.ok("{ roles { id name } }", json!({}))["roles"].clone();
    let role = roles.as_array().unwrap().iter().find(|r| r["name"] == "operator").unwrap()["id"].clone();
    s.admin.ok(
        "mutation($r: ID!, $p: ID!) { createOperator(input: {username: \"west-lists\", password: \"Strong-Pass 2026\", roleId: $r, propertyIds: [$p]}) { id } }",
        json!({"r": role, "p": s.west}),
    );
    let west = s.app.session(&s.admin.tenant, "west-lists").await;
    let (status, _, csv) = get(addr, "/exports/meters.csv", Some(&west));
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains("000000000802") && !csv.contains("000000000801"), "{csv}");
    let (_, _, csv) = get(addr, "/exports/customers.csv", Some(&west));
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains("West shop") && !csv.contains("East shop"), "{csv}");
    let (_, _, csv) = get(addr, "/exports/commands.csv", Some(&west));
    assert!(String::from_utf8(csv).unwrap().contains("000000000802"));
    assert_eq!(get(addr, &format!("/exports/meters.csv?propertyId={}", s.east.as_str().unwrap()), Some(&west)).0, 404);
}
