//! The isolation walk (issue 5): the schema is read by introspection; every query and
//! mutation that takes an id — as an argument or anywhere inside an input object — is called
//! by tenant A's administrator with each id tenant B owns (one per table), and must answer
//! exactly as it does for an id that exists nowhere; afterwards every row of B is unchanged.
//! Fields added later are walked without touching this file.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tests::{Admin, TestApp};

/// Type reference from introspection, unwrapped: (kind, name, non-null, list).
fn unwrap(t: &Value) -> (String, String, bool, bool) {
    let (mut t, mut non_null, mut list) = (t, false, false);
    loop {
        match t["kind"].as_str().unwrap_or("") {
            "NON_NULL" => {
                if !list {
                    non_null = true;
                }
            }
            "LIST" => list = true,
            _ => return (t["kind"].as_str().unwrap_or("").into(), t["name"].as_str().unwrap_or("").into(), non_null, list),
        }
        t = &t["ofType"];
    }
}

const TYPE_REF: &str = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

struct Schema {
    inputs: BTreeMap<String, Vec<Value>>,
    enums: BTreeMap<String, String>,
}

impl Schema {
    /// Whether an argument of this type can carry an id.
    fn carries_id(&self, t: &Value, depth: usize) -> bool {
        let (kind, name, _, _) = unwrap(t);
        match kind.as_str() {
            "SCALAR" => name == "ID",
            "INPUT_OBJECT" if depth < 4 => {
                self.inputs.get(&name).is_some_and(|fs| fs.iter().any(|f| self.carries_id(&f["type"], depth + 1)))
            }
            _ => false,
        }
    }

    /// A GraphQL literal for a value of this type with every id slot set to `id`; optional
    /// slots are filled only when they carry an id.
    fn literal(&self, t: &Value, id: &str, depth: usize) -> String {
        let (kind, name, _, list) = unwrap(t);
        let one = match kind.as_str() {
            "SCALAR" => match name.as_str() {
                "ID" => format!("\"{id}\""),
                "Int" => "1".into(),
                "Float" => "1.0".into(),
                "Boolean" => "false".into(),
                "Decimal" => "\"1.00\"".into(),
                "DateTime" => "\"2026-11-01T00:00:00Z\"".into(),
                "NaiveDate" | "Date" => "\"2026-11-01\"".into(),
                _ => "\"2026-11\"".into(),
            },
            "ENUM" => self.enums.get(&name).cloned().unwrap_or_default(),
            "INPUT_OBJECT" => {
                let fields = self.inputs.get(&name).cloned().unwrap_or_default();
                let parts: Vec<String> = fields
                    .iter()
                    .filter(|f| {
                        let (_, _, required, _) = unwrap(&f["type"]);
                        (required && f["defaultValue"].is_null()) || (depth < 4 && self.carries_id(&f["type"], depth + 1))
                    })
                    .map(|f| format!("{}: {}", f["name"].as_str().unwrap(), self.literal(&f["type"], id, depth + 1)))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
            _ => "null".into(),
        };
        if list { format!("[{one}]") } else { one }
    }
}

/// What a response amounts to: error codes and fields, and whether data came back.
fn outcome(v: &Value, field: &str) -> Value {
    let errors: Vec<Value> = v["errors"]
        .as_array()
        .map(|es| es.iter().map(|e| json!([e["extensions"]["code"], e["extensions"]["field"]])).collect())
        .unwrap_or_default();
    json!({"errors": errors, "data": v["data"][field]})
}

async fn populate(app: &TestApp, b: &Admin) {
    let p = b.ok(r#"mutation { createProperty(input: {name: "B Mall"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    b.ok("mutation($p: ID!) { createArea(input: {propertyId: $p, name: \"B1\"}) { id } }", json!({"p": p}));
    let c = b.ok(r#"mutation { createCustomer(input: {name: "B Shop", phone: "13800009999"}) { id } }"#, json!({}))["createCustomer"]["id"]
        .clone();
    let gw = b.ok("mutation($p: ID!) { registerGateway(input: {propertyId: $p, serial: \"BG1\"}) { gateway { id } } }", json!({"p": p}))
        ["registerGateway"]["gateway"]["id"]
        .clone();
    let m = b.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000000777\", phases: 1, linkType: FOUR_G}) { meter { id } } }",
        json!({"p": p}),
    )["registerMeter"]["meter"]["id"]
        .clone();
    let m2 = b.ok(
        "mutation($p: ID!, $g: ID!) { registerMeter(input: {propertyId: $p, gatewayId: $g, address: \"000000000778\", phases: 3, linkType: LORA_GATEWAY}) { meter { id } } }",
        json!({"p": p, "g": gw}),
    )["registerMeter"]["meter"]["id"]
        .clone();
    let account = b.ok(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m]}) { account { id } } }",
        json!({"c": c, "m": m}),
    )["openAccount"]["account"]["id"]
        .clone();
    let c2 = b.ok(r#"mutation { createCustomer(input: {name: "B Shop 2"}) { id } }"#, json!({}))["createCustomer"]["id"].clone();
    let account2 = b.ok(
        "mutation($c: ID!, $m: ID!) { openAccount(input: {customerId: $c, meterIds: [$m]}) { account { id } } }",
        json!({"c": c2, "m": m2}),
    )["openAccount"]["account"]["id"]
        .clone();
    b.ok(r#"mutation($a: ID!) { recharge(input: {accountId: $a, amount: "50.00", channel: CASH}) { receiptNo } }"#, json!({"a": account}));
    b.ok(
        "mutation { createTariff(input: {name: \"B Flat\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: FLAT, price: \"1.0\"}]}}) { id } }",
        json!({}),
    );
    b.ok("mutation($m: ID!) { readMeterNow(input: {meterId: $m}) { id } }", json!({"m": m}));
    b.ok(
        "mutation($m: ID!, $a: ID!, $b: ID!) { createAllocationGroup(input: {name: \"Hall\", meterId: $m, method: SHARES, members: [{accountId: $a, weight: \"1\"}, {accountId: $b, weight: \"1\"}]}) { id } }",
        json!({"m": m2, "a": account, "b": account2}),
    );
    b.ok(r#"mutation { createRole(input: {name: "B role", permissions: [CONTROL]}) { id } }"#, json!({}));
    b.ok(
        "mutation($p: ID!) { createParkClient(input: {name: \"B park\", scopes: [BILLS_READ], propertyIds: [$p]}) { clientSecret } }",
        json!({"p": p}),
    );
    let _ = app;
}

/// B's rows in every tenant table but those background jobs rewrite on their own.
async fn fingerprint(app: &TestApp, b: &Admin) -> BTreeMap<String, Vec<String>> {
    let store = &app.app.store;
    let mut out = BTreeMap::new();
    for (table, _) in store.platform().tenant_tables().await.unwrap() {
        if [
            "audit_log",
            "alarms",
            "notifications",
            "commands",
            "meter_live",
            "freezes",
            "readings",
            "sessions",
            "refresh_tokens",
            "meter_counters",
        ]
        .contains(&table.as_str())
        {
            continue;
        }
        out.insert(table.clone(), store.platform().tenant_rows(&table, &b.tenant).await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_field_taking_an_id_treats_another_tenants_ids_as_missing() {
    let app = TestApp::spawn().await;
    let a = app.admin("walk-a").await;
    let b = app.admin("walk-b").await;
    populate(&app, &b).await;

    // One id from every table of B that has ids.
    let store = &app.app.store;
    let mut b_ids: Vec<(String, String)> = Vec::new();
    for (table, cols) in store.platform().tenant_tables().await.unwrap() {
        if !cols.iter().any(|c| c == "id") {
            continue;
        }
        let rows = store.platform().tenant_rows(&table, &b.tenant).await.unwrap();
        if let Some(id) =
            rows.first().and_then(|r| serde_json::from_str::<Value>(r).ok()).and_then(|r| r["id"].as_str().map(str::to_string))
        {
            b_ids.push((table, id));
        }
    }
    assert!(b_ids.len() >= 12, "B should own many kinds of objects: {b_ids:?}");

    // The schema, by introspection.
    let intro = a.ok(
        &format!(
            "{{ __schema {{ queryType {{ name }} mutationType {{ name }} types {{ kind name enumValues {{ name }}
               inputFields {{ name defaultValue type {{ {TYPE_REF} }} }}
               fields {{ name args {{ name defaultValue type {{ {TYPE_REF} }} }} type {{ {TYPE_REF} }} }} }} }} }}"
        ),
        json!({}),
    );
    let types = intro["__schema"]["types"].as_array().unwrap().clone();
    let schema = Schema {
        inputs: types
            .iter()
            .filter(|t| t["kind"] == "INPUT_OBJECT")
            .map(|t| (t["name"].as_str().unwrap().to_string(), t["inputFields"].as_array().unwrap().clone()))
            .collect(),
        enums: types
            .iter()
            .filter(|t| t["kind"] == "ENUM")
            .map(|t| (t["name"].as_str().unwrap().to_string(), t["enumValues"][0]["name"].as_str().unwrap_or("").to_string()))
            .collect(),
    };
    let before = fingerprint(&app, &b).await;

    let mut walked = Vec::new();
    for (root, op) in [("queryType", "query"), ("mutationType", "mutation")] {
        let root_name = intro["__schema"][root]["name"].as_str().unwrap();
        let root_type = types.iter().find(|t| t["name"] == root_name).unwrap();
        for field in root_type["fields"].as_array().unwrap() {
            let name = field["name"].as_str().unwrap();
            let args = field["args"].as_array().unwrap();
            if !args.iter().any(|a| schema.carries_id(&a["type"], 0)) {
                continue;
            }
            let (kind, _, _, _) = unwrap(&field["type"]);
            let selection = if matches!(kind.as_str(), "OBJECT" | "INTERFACE" | "UNION") { " { __typename }" } else { "" };
            let call = |id: &str| {
                let parts: Vec<String> = args
                    .iter()
                    .filter(|arg| {
                        let (_, _, required, _) = unwrap(&arg["type"]);
                        (required && arg["defaultValue"].is_null()) || schema.carries_id(&arg["type"], 0)
                    })
                    .map(|arg| format!("{}: {}", arg["name"].as_str().unwrap(), schema.literal(&arg["type"], id, 0)))
                    .collect();
                let args = if parts.is_empty() { String::new() } else { format!("({})", parts.join(", ")) };
                format!("{op} {{ {name}{args}{selection} }}")
            };
            let missing = call(&uuid::Uuid::new_v4().to_string());
            let expected = outcome(&a.gql(&missing, json!({})), name);
            for (table, id) in &b_ids {
                let query = call(id);
                let got = outcome(&a.gql(&query, json!({})), name);
                assert_eq!(got, expected, "{name} with B's {table} id answers differently from a missing id:\n{query}");
            }
            walked.push(name.to_string());
        }
    }
    // The walk is not vacuous: it reached the reads and writes that matter.
    for must in [
        "meter",
        "account",
        "updateProperty",
        "recharge",
        "tripMeter",
        "cancelCommand",
        "revokeSession",
        "updateOperator",
        "rotateDeviceCredential",
    ] {
        assert!(walked.iter().any(|w| w == must), "{must} was not walked: {walked:?}");
    }
    assert!(walked.len() > 60, "only {} fields walked", walked.len());
    eprintln!("isolation walk: {} fields x {} foreign ids", walked.len(), b_ids.len());

    let after = fingerprint(&app, &b).await;
    for (table, rows) in &before {
        assert_eq!(Some(rows), after.get(table), "B's {table} rows changed");
    }
    // And the walk does reach B's data when B asks: the ids are real.
    let (_, meter) = b_ids.iter().find(|(t, _)| t == "meters").unwrap();
    assert_eq!(b.ok("query($m: ID!) { meter(id: $m) { id } }", json!({"m": meter}))["meter"]["id"], json!(meter));
}

/// PostgreSQL's row-level security: every tenant table carries the policy, the application
/// runs as the role it binds, and a transaction naming tenant A cannot read, change or add
/// tenant B's rows even with SQL that forgets the tenant filter.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_postgres_row_level_security_holds_a_transaction_to_its_tenant() {
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait};
    if !TestApp::uses_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    let a = app.admin("rls-a").await;
    let b = app.admin("rls-b").await;
    a.ok(r#"mutation { createProperty(input: {name: "A Mall"}) { id } }"#, json!({}));
    b.ok(r#"mutation { createProperty(input: {name: "B Mall"}) { id } }"#, json!({}));
    assert_eq!(app.app.store.platform().database_role().await.unwrap(), server::store::APP_ROLE, "the application runs behind the wall");

    let db = Database::connect(app.database.clone()).await.unwrap();
    let q = |sql: &str| Statement::from_string(DbBackend::Postgres, sql.to_string());
    let unwalled = db
        .query_all_raw(q("SELECT c.relname::text AS t FROM pg_class c JOIN information_schema.columns i ON i.table_name = c.relname AND i.column_name = 'tenant_id'
                 AND i.table_schema = current_schema() WHERE c.relkind = 'r' AND NOT (c.relrowsecurity AND c.relforcerowsecurity)"))
        .await
        .unwrap();
    assert!(
        unwalled.is_empty(),
        "tenant tables without the policy: {:?}",
        unwalled.iter().map(|r| r.try_get::<String>("", "t").unwrap()).collect::<Vec<_>>()
    );

    // Fail closed: a statement that names no tenant sees nothing; the platform says so.
    let txn = db.begin().await.unwrap();
    txn.execute_unprepared("SET LOCAL ROLE voltledger_app").await.unwrap();
    assert!(txn.query_all_raw(q("SELECT name FROM properties")).await.unwrap().is_empty(), "no tenant named: no rows");
    txn.execute_unprepared("SELECT set_config('voltledger.platform', 'on', true)").await.unwrap();
    assert_eq!(txn.query_all_raw(q("SELECT name FROM properties")).await.unwrap().len(), 2, "the platform sees every tenant");
    txn.rollback().await.unwrap();

    let txn = db.begin().await.unwrap();
    txn.execute_unprepared("SET LOCAL ROLE voltledger_app").await.unwrap();
    txn.execute_unprepared(&format!("SELECT set_config('voltledger.tenant', '{}', true)", a.tenant.as_str())).await.unwrap();
    let seen = txn.query_all_raw(q("SELECT name FROM properties")).await.unwrap();
    let names: Vec<String> = seen.iter().map(|r| r.try_get("", "name").unwrap()).collect();
    assert_eq!(names, vec!["A Mall".to_string()], "without a tenant filter only A's rows are visible");
    let changed =
        txn.execute_raw(q(&format!("UPDATE properties SET name = 'taken' WHERE tenant_id = '{}'", b.tenant.as_str()))).await.unwrap();
    assert_eq!(changed.rows_affected(), 0, "B's rows cannot be changed");
    let insert = format!(
        "INSERT INTO properties (tenant_id, id, name, created_at) VALUES ('{}', '{}', 'planted', now())",
        b.tenant.as_str(),
        uuid::Uuid::new_v4()
    );
    assert!(txn.execute_unprepared(&insert).await.is_err(), "a row for B cannot be written");
    txn.rollback().await.unwrap();
    assert_eq!(b.ok("{ properties { name } }", json!({}))["properties"], json!([{"name": "B Mall"}]));
}
