//! Meters in from a spreadsheet (issue 19): a broken file is refused with every error by row
//! and column and nothing written; a dry run writes nothing; the file commits all or nothing
//! (meters, customers, accounts, opening balances through the ledger); the same file again
//! changes nothing; an .xlsx written by another program (openpyxl, an address typed as a
//! number) reads the same; property scope holds; 10,000 meters in one file.

use std::process::Command;

use serde_json::{Value, json};
use tests::{Admin, TestApp, http_bytes};

fn import(addr: std::net::SocketAddr, token: &str, body: &[u8], dry_run: bool) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    // http_bytes sends the body as text; the CSV is UTF-8 and an .xlsx goes as Latin-1-safe
    // bytes through `import_binary`.
    let (status, _, answer) = http_bytes(
        addr,
        "POST",
        &format!("/imports/meters?dryRun={dry_run}"),
        &[("Authorization", &auth), ("Content-Type", "text/csv")],
        std::str::from_utf8(body).unwrap(),
    );
    (status, serde_json::from_slice(&answer).unwrap_or(Value::Null))
}

/// Posts raw bytes (an .xlsx) with reqwest.
async fn import_binary(addr: std::net::SocketAddr, token: &str, body: Vec<u8>, dry_run: bool) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/imports/meters?dryRun={dry_run}"))
        .bearer_auth(token)
        .header("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn python() -> String {
    std::env::var("VOLTLEDGER_PYTHON")
        .unwrap_or_else(|_| if std::path::Path::new("/usr/bin/python3").exists() { "/usr/bin/python3".into() } else { "python3".into() })
}

fn count_meters(admin: &Admin) -> u64 {
    admin.ok("{ meters(pageSize: 1) { total } }", json!({}))["meters"]["total"].as_u64().unwrap()
}

async fn site() -> (TestApp, Admin) {
    let app = TestApp::spawn().await;
    let admin = app.admin("imports").await;
    for name in ["Harbour", "Hillside"] {
        let p = admin.ok("mutation($n: String!) { createProperty(input: {name: $n}) { id } }", json!({"n": name}))["createProperty"]["id"]
            .clone();
        for a in ["Block A", "Block B"] {
            admin.ok("mutation($p: ID!, $n: String!) { createArea(input: {propertyId: $p, name: $n}) { id } }", json!({"p": p, "n": a}));
        }
        admin.ok(
            "mutation($p: ID!, $s: String!) { registerGateway(input: {propertyId: $p, serial: $s}) { gateway { id } } }",
            json!({"p": p, "s": format!("GW-{name}")}),
        );
    }
    (app, admin)
}

const HEADER: &str = "项目,区域,表地址,接入方式,网关,相数,PT,CT,计费方式,铺位号,客户,电话,期初余额(元),物业费\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_file_names_every_error_and_a_good_one_commits_once() {
    let (app, admin) = site().await;
    let addr = app.app.http_addr;
    let before = count_meters(&admin);
    let broken = format!(
        "{HEADER}\
         Harbour,Block A,000000001001,4G,,1,1,1,平台预付费,A-1,Tea shop,13800000001,100.00,50\n\
         Harbour,Block Z,000000001002,4G,,1,1,1,,,,,,\n\
         Harbour,,12345,4G,,1,1,1,,,,,,\n\
         Harbour,,000000001001,485,,1,1,1,,,,,,\n\
         Harbour,,000000001005,4G,,1,two,1,,,,,,\n\
         Harbour,,000000001006,LoRa,,1,1,1,,,,,,\n\
         Harbour,,000000001007,4G,,1,1,1,后付费,,Noodles,,20.00,\n\
         Nowhere,,000000001008,4G,,1,1,1,,,,,,\n\
         Harbour,,000000001009,4G,,1,1,1,,,,,-5,\n"
    );
    let (status, v) = import(addr, &admin.token, broken.as_bytes(), false);
    assert_eq!(status, 422, "{v}");
    let errors: Vec<(u64, String, String)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["column"].as_str().unwrap().to_string(), e["message"].as_str().unwrap().to_string()))
        .collect();
    let has = |row: u64, column: &str, words: &str| errors.iter().any(|(r, c, m)| *r == row && c == column && m.contains(words));
    assert!(has(3, "B", "no area “Block Z”"), "{errors:?}");
    assert!(has(4, "C", "12"), "a short address: {errors:?}");
    assert!(has(5, "C", "also on row 2"), "a duplicate address: {errors:?}");
    assert!(has(6, "G", "“two” is not a whole number"), "text in a number cell: {errors:?}");
    assert!(has(7, "E", "gateway"), "a LoRa meter without its gateway: {errors:?}");
    assert!(has(8, "M", "platform-prepaid"), "an opening balance on a post-paid account: {errors:?}");
    assert!(has(9, "A", "no property “Nowhere”"), "{errors:?}");
    assert!(has(10, "M", "must not be negative"), "{errors:?}");
    assert!(!errors.iter().any(|(r, _, _)| *r == 2), "row 2 is fine: {errors:?}");
    assert_eq!(count_meters(&admin), before, "nothing written");

    // A good file: a dry run writes nothing, the import writes everything.
    let good = format!(
        "{HEADER}\
         Harbour,Block A,000000001001,4G,,1,1,1,平台预付费,A-1,Tea shop,13800000001,100.00,50\n\
         Harbour,Block A,000000001002,4G,,3,1,20,,A-2,Tea shop,13800000001,25.50,\n\
         Harbour,Block B,000000001003,LoRa,GW-Harbour,1,1,1,后付费,B-1,Noodles,13900000002,,80\n\
         Hillside,,000000001004,485,,1,1,1,,,,,,\n"
    );
    let (status, v) = import(addr, &admin.token, good.as_bytes(), true);
    assert_eq!((status, v["toCreate"].as_u64(), v["created"].as_u64()), (200, Some(4), Some(0)), "{v}");
    assert_eq!(count_meters(&admin), before);
    let (status, v) = import(addr, &admin.token, good.as_bytes(), false);
    assert_eq!((status, v["created"].as_u64()), (200, Some(4)), "{v}");
    assert_eq!(count_meters(&admin), before + 4);
    // One customer for the two tea-shop rows, each meter with its account; opening balances
    // through the ledger, equal to the balance.
    let accounts = admin.ok("{ accounts(pageSize: 50) { items { number balance ledgerTotal propertyFee meters { address ctRatio phases linkType } ledger(first: 5) { items { kind amount } } } } }", json!({}))["accounts"]["items"]
        .as_array()
        .unwrap()
        .clone();
    let by_meter =
        |a: &str| accounts.iter().find(|x| x["meters"][0]["address"] == a).unwrap_or_else(|| panic!("no account for {a}")).clone();
    let a1 = by_meter("000000001001");
    assert_eq!(
        (a1["balance"].as_str(), a1["ledgerTotal"].as_str(), a1["propertyFee"].as_str()),
        (Some("100.00"), Some("100.00"), Some("50.00"))
    );
    assert_eq!(a1["ledger"]["items"], json!([{"kind": "ADJUSTMENT", "amount": "100.00"}]));
    let a2 = by_meter("000000001002");
    assert_eq!(
        (a2["balance"].as_str(), a2["meters"][0]["ctRatio"].as_i64(), a2["meters"][0]["phases"].as_i64()),
        (Some("25.50"), Some(20), Some(3))
    );
    let a3 = by_meter("000000001003");
    assert_eq!((a3["balance"].as_str(), a3["meters"][0]["linkType"].as_str()), (Some("0.00"), Some("LORA_GATEWAY")));
    let customers = admin.ok("{ customers(pageSize: 50) { items { name phone } } }", json!({}))["customers"]["items"].clone();
    assert_eq!(customers.as_array().unwrap().iter().filter(|c| c["name"] == "Tea shop").count(), 1, "{customers}");
    // The same file again: nothing changes.
    let (status, v) = import(addr, &admin.token, good.as_bytes(), false);
    assert_eq!((status, v["created"].as_u64(), v["unchanged"].as_u64()), (200, Some(0), Some(4)), "{v}");
    assert_eq!(count_meters(&admin), before + 4);
    // The same address with other data is an error, not a silent change.
    let changed = good.replace("000000001004,485", "000000001004,4G");
    let (status, v) = import(addr, &admin.token, changed.as_bytes(), true);
    assert_eq!(status, 422);
    assert!(v["errors"][0]["message"].as_str().unwrap().contains("already registered with other data"), "{v}");

    // Walls: no token, a role without the registry, an operator of Hillside only naming
    // Harbour, another tenant naming this one's property.
    assert_eq!(import(addr, "", good.as_bytes(), true).0, 401);
    let roles = admin.ok("{ roles { id name } }", json!({}))["roles"].clone();
    let role = |n: &str| roles.as_array().unwrap().iter().find(|r| r["name"] == n).unwrap()["id"].clone();
    let hillside = admin.ok("{ properties { id name } }", json!({}))["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Hillside")
        .unwrap()["id"]
        .clone();
    admin.ok(
        "mutation($r: ID!) { createOperator(input: {username: \"reader\", password: \"Strong-Pass 2026\", roleId: $r}) { id } }",
        json!({"r": role("viewer")}),
    );
    let reader = app.session(&admin.tenant, "reader").await;
    assert_eq!(import(addr, &reader, good.as_bytes(), true).0, 403);
    admin.ok(
        "mutation($r: ID!, $p: ID!) { createOperator(input: {username: \"hill\", password: \"Strong-Pass 2026\", roleId: $r, propertyIds: [$p]}) { id } }",
        json!({"r": role("operator"), "p": hillside}),
    );
    let hill = app.session(&admin.tenant, "hill").await;
    let harbour_row = format!("{HEADER}Harbour,,000000002001,4G,,1,1,1,,,,,,\n");
    let (status, v) = import(addr, &hill, harbour_row.as_bytes(), false);
    assert_eq!(status, 422);
    assert!(v["errors"][0]["message"].as_str().unwrap().contains("no property “Harbour” (of yours)"), "{v}");
    let other = app.admin("elsewhere").await;
    let (status, _) = import(addr, &other.token, harbour_row.as_bytes(), false);
    assert_eq!(status, 422);
    assert_eq!(count_meters(&admin), before + 4);

    // An .xlsx written by another program: an address typed as a number loses its leading
    // zeros in Excel, and comes back.
    let path = std::env::temp_dir().join(format!("vl-import-{}.xlsx", uuid::Uuid::new_v4().simple()));
    let script = r#"
import sys
from openpyxl import Workbook
wb = Workbook(); ws = wb.active
ws.append(["Property", "Area", "Meter address", "Link", "Phases", "CT", "Customer", "Phone", "Opening balance"])
ws.append(["Hillside", "Block A", 3001, "4G", 3, 5, "Bakery", "13700000003", 12.5])
wb.save(sys.argv[1])
"#;
    let out = Command::new(python()).arg("-c").arg(script).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let (status, v) = import_binary(addr, &admin.token, bytes, false).await;
    assert_eq!((status, v["created"].as_u64()), (200, Some(1)), "{v}");
    let m =
        admin.ok("{ meters(filter: {q: \"000000003001\"}) { items { address ctRatio phases } } }", json!({}))["meters"]["items"][0].clone();
    assert_eq!(m, json!({"address": "000000003001", "ctRatio": 5, "phases": 3}));

    // The template is a workbook with the columns, in either language.
    let (status, _, template) = http_bytes(addr, "GET", "/imports/meters-template.xlsx?lang=en", &[], "");
    assert_eq!(status, 200);
    assert!(template.starts_with(b"PK"));
    // And garbage is refused plainly.
    let (status, v) = import_binary(addr, &admin.token, vec![0x50, 0x4b, 0x03, 0x04, 0xff, 0xfe], true).await;
    assert_eq!(status, 422, "{v}");
    assert!(v["message"].as_str().unwrap().contains("xlsx"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_meters_in_one_file() {
    let (app, admin) = site().await;
    let mut file = String::from(HEADER);
    for i in 0..10_000 {
        let (property, area) = if i % 2 == 0 { ("Harbour", "Block A") } else { ("Hillside", "Block B") };
        file += &format!("{property},{area},{:012},485,,1,1,1,,S-{i},,,,\n", 100_000 + i);
    }
    let started = std::time::Instant::now();
    let (status, v) = import(app.app.http_addr, &admin.token, file.as_bytes(), false);
    assert_eq!((status, v["created"].as_u64()), (200, Some(10_000)), "{v}");
    eprintln!("10,000 meters imported in {:?}", started.elapsed());
    assert_eq!(count_meters(&admin), 10_000);
    let (status, v) = import(app.app.http_addr, &admin.token, file.as_bytes(), false);
    assert_eq!((status, v["unchanged"].as_u64()), (200, Some(10_000)), "{v}");
    // The list export reads all 10,000 through the meters list (its rows in chunks, in the
    // list's order: by address).
    let auth = format!("Bearer {}", admin.token);
    let (status, _, csv) = http_bytes(app.app.http_addr, "GET", "/exports/meters.csv", &[("Authorization", &auth)], "");
    assert_eq!(status, 200);
    let csv = String::from_utf8_lossy(&csv);
    let addresses: Vec<&str> =
        csv.lines().skip(1).filter_map(|l| l.split(',').next()).map(|a| a.trim_matches('"')).filter(|a| !a.is_empty()).collect();
    assert_eq!(addresses.len(), 10_000);
    let expected: Vec<String> = (0..10_000).map(|i| format!("{:012}", 100_000 + i)).collect();
    let first_difference = addresses.iter().zip(&expected).position(|(a, e)| a != e);
    assert_eq!(first_difference, None, "the export's addresses out of order or missing");
}

fn import_sites(addr: std::net::SocketAddr, token: &str, body: &str, dry_run: bool) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let (status, _, answer) = http_bytes(
        addr,
        "POST",
        &format!("/imports/sites?dryRun={dry_run}"),
        &[("Authorization", &auth), ("Content-Type", "text/csv")],
        body,
    );
    (status, serde_json::from_slice(&answer).unwrap_or(Value::Null))
}

/// (properties, areas, gateways) the tenant has, as names.
fn structure(admin: &Admin) -> (Vec<String>, Vec<String>, Vec<String>) {
    let v = admin.ok(
        "{ properties { id name } areas { propertyId name floorArea } gateways(pageSize: 200) { items { propertyId serial name } } }",
        json!({}),
    );
    let names: std::collections::HashMap<String, String> = v["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap().to_string(), p["name"].as_str().unwrap().to_string()))
        .collect();
    let mut props: Vec<String> = names.values().cloned().collect();
    let mut areas: Vec<String> = v["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{}/{}/{}",
                names[a["propertyId"].as_str().unwrap()],
                a["name"].as_str().unwrap(),
                a["floorArea"].as_str().unwrap_or("-")
            )
        })
        .collect();
    let mut gws: Vec<String> = v["gateways"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| format!("{}/{}/{}", names[g["propertyId"].as_str().unwrap()], g["serial"].as_str().unwrap(), g["name"].as_str().unwrap()))
        .collect();
    props.sort();
    areas.sort();
    gws.sort();
    (props, areas, gws)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn properties_areas_and_gateways_come_in_from_one_sheet_all_or_nothing_and_once() {
    let (app, admin) = site().await;
    let addr = app.app.http_addr;
    let before = structure(&admin);
    const HEAD: &str = "项目,项目地址,联系人,联系电话,区域,面积(m²),网关序列号,网关名称\n";
    // Broken: another address for a new property on a later row, a floor area that is not a
    // number, a gateway serial twice, a gateway of Harbour named under Hillside, an existing
    // area with another floor area, a bad phone, a row without a property.
    let broken = format!(
        "{HEAD}\
         Lakeside,9 Lake Road,Ms. Wu,0571-1234,North,100.50,GW-L1,North roof\n\
         Lakeside,8 Lake Road,,,South,,GW-L2,\n\
         Lakeside,,,,East,wide,GW-L1,\n\
         Hillside,,,,Block C,,GW-Harbour,\n\
         Harbour,,,,Block A,77,,\n\
         Riverside,,Mr. Z,call me,,,,\n\
         ,,,,Block Q,,,\n"
    );
    let (status, v) = import_sites(addr, &admin.token, &broken, false);
    assert_eq!(status, 422, "{v}");
    let at: Vec<(u64, String)> =
        v["errors"].as_array().unwrap().iter().map(|e| (e["row"].as_u64().unwrap(), e["column"].as_str().unwrap().to_string())).collect();
    let want: Vec<(u64, String)> =
        [(3, "B"), (4, "F"), (4, "G"), (5, "G"), (6, "F"), (7, "D"), (8, "A")].iter().map(|(r, c)| (*r, c.to_string())).collect();
    assert_eq!(at, want, "{v}");
    assert!(v["errors"][0]["message"].as_str().unwrap().contains("row 2"), "{v}");
    assert_eq!(structure(&admin), before, "nothing written");

    // Good: a new property with two areas and two gateways, a new area and gateway in an
    // existing property, and a row that repeats what is there.
    let good = format!(
        "{HEAD}\
         Lakeside,9 Lake Road,Ms. Wu,0571-1234,North,100.50,GW-L1,North roof\n\
         Lakeside,,,,South,,GW-L2,\n\
         Harbour,,,,Block C,,GW-H2,\n\
         Hillside,,,,Block A,,GW-Hillside,\n"
    );
    let (status, v) = import_sites(addr, &admin.token, &good, true);
    assert_eq!((status, v["toCreate"].as_u64(), v["created"].as_u64()), (200, Some(7), Some(0)), "{v}");
    assert_eq!(v["counts"], json!({"properties": 1, "areas": 3, "gateways": 3}));
    assert_eq!(v["unchanged"], 1);
    assert_eq!(structure(&admin), before, "a dry run writes nothing");
    let (status, v) = import_sites(addr, &admin.token, &good, false);
    assert_eq!((status, v["created"].as_u64()), (200, Some(7)), "{v}");
    let after = structure(&admin);
    assert!(after.0.contains(&"Lakeside".to_string()));
    for a in ["Lakeside/North/100.50", "Lakeside/South/-", "Harbour/Block C/-"] {
        assert!(after.1.contains(&a.to_string()), "{a} in {:?}", after.1);
    }
    for g in ["Lakeside/GW-L1/North roof", "Lakeside/GW-L2/GW-L2", "Harbour/GW-H2/GW-H2"] {
        assert!(after.2.contains(&g.to_string()), "{g} in {:?}", after.2);
    }
    let lake = admin.ok("{ properties { name address contactName contactPhone } }", json!({}))["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Lakeside")
        .unwrap()
        .clone();
    assert_eq!((lake["address"].as_str(), lake["contactPhone"].as_str()), (Some("9 Lake Road"), Some("0571-1234")));
    // The same file again changes nothing; the meters import can now name what came in.
    let (status, v) = import_sites(addr, &admin.token, &good, false);
    assert_eq!((status, v["created"].as_u64(), v["unchanged"].as_u64()), (200, Some(0), Some(4)), "{v}");
    assert_eq!(structure(&admin), after);
    let meters = format!("{HEADER}Lakeside,South,000000005001,LoRa,GW-L2,1,1,1,,,,,,\n");
    let (status, v) = import(addr, &admin.token, meters.as_bytes(), false);
    assert_eq!((status, v["created"].as_u64()), (200, Some(1)), "{v}");

    // Walls: no token; a viewer; an operator of Hillside may add to Hillside but neither make a
    // property nor touch Harbour (not found, as another tenant's); another tenant's sheet naming
    // Harbour makes its own Harbour, never touching this one's.
    assert_eq!(import_sites(addr, "", &good, true).0, 401);
    let roles = admin.ok("{ roles { id name } }", json!({}))["roles"].clone();
    let role = |n: &str| roles.as_array().unwrap().iter().find(|r| r["name"] == n).unwrap()["id"].clone();
    admin.ok(
        "mutation($r: ID!) { createOperator(input: {username: \"site-viewer\", password: \"Strong-Pass 2026\", roleId: $r}) { id } }",
        json!({"r": role("viewer")}),
    );
    let viewer = app.session(&admin.tenant, "site-viewer").await;
    assert_eq!(import_sites(addr, &viewer, &good, true).0, 403);
    let hillside = admin.ok("{ properties { id name } }", json!({}))["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Hillside")
        .unwrap()["id"]
        .clone();
    admin.ok(
        "mutation($r: ID!, $p: ID!) { createOperator(input: {username: \"site-hill\", password: \"Strong-Pass 2026\", roleId: $r, propertyIds: [$p]}) { id } }",
        json!({"r": role("operator"), "p": hillside}),
    );
    let hill = app.session(&admin.tenant, "site-hill").await;
    let (status, v) = import_sites(addr, &hill, &format!("{HEAD}Harbour,,,,Block Z,,,\nNewPark,,,,,,,\nHillside,,,,Block Z,,,\n"), false);
    assert_eq!(status, 422, "{v}");
    let rows: Vec<u64> = v["errors"].as_array().unwrap().iter().map(|e| e["row"].as_u64().unwrap()).collect();
    assert_eq!(rows, vec![2, 3], "{v}");
    assert!(v["errors"][0]["message"].as_str().unwrap().contains("of yours"), "{v}");
    let (status, v) = import_sites(addr, &hill, &format!("{HEAD}Hillside,,,,Block Z,,,\n"), false);
    assert_eq!((status, v["created"].as_u64()), (200, Some(1)), "{v}");
    // A serial of a property outside the operator's scope is refused in the dry run already,
    // at its cell (as a retired gateway's is), not by the write.
    let (status, v) = import_sites(addr, &hill, &format!("{HEAD}Hillside,,,,,,GW-H2,\n"), true);
    assert_eq!((status, v["errors"][0]["column"].as_str()), (422, Some("G")), "{v}");
    let other = app.admin("elsewhere-sites").await;
    let (status, v) = import_sites(addr, &other.token, &format!("{HEAD}Harbour,,,,Block Y,,GW-O1,\n"), false);
    assert_eq!((status, v["counts"]["properties"].as_u64()), (200, Some(1)), "{v}");
    let (_, areas, _) = structure(&admin);
    assert!(!areas.iter().any(|a| a.contains("Block Y")), "the other tenant's rows stay its own");
    // A gateway serial registered in another tenant is no conflict here (serials are per tenant).
    let (status, v) = import_sites(addr, &other.token, &format!("{HEAD}Harbour,,,,,,GW-L1,\n"), false);
    assert_eq!((status, v["created"].as_u64()), (200, Some(1)), "{v}");

    // The template, and an .xlsx written by openpyxl.
    let (status, _, template) = http_bytes(addr, "GET", "/imports/sites-template.xlsx?lang=en", &[], "");
    assert_eq!(status, 200);
    assert!(template.starts_with(b"PK"));
    let path = std::env::temp_dir().join(format!("vl-sites-{}.xlsx", uuid::Uuid::new_v4().simple()));
    let script = r#"
import sys
from openpyxl import Workbook
wb = Workbook(); ws = wb.active
ws.append(["Property", "Area", "Floor area", "Gateway serial"])
ws.append(["Hillside", "Block X", 42.25, "GW-X1"])
wb.save(sys.argv[1])
"#;
    let out = Command::new(python()).arg("-c").arg(script).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/imports/sites?dryRun=false"))
        .bearer_auth(&admin.token)
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_, areas, gws) = structure(&admin);
    assert!(areas.contains(&"Hillside/Block X/42.25".to_string()), "{areas:?}");
    assert!(gws.contains(&"Hillside/GW-X1/GW-X1".to_string()), "{gws:?}");
}
