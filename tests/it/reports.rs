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
