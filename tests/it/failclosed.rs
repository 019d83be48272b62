//! Fail closed: a command kind nobody knows is refused where it is made and, if one reaches
//! the dispatcher anyway (an old row, a hand edit), it fails there — never a relay action.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use tests::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_command_kind_is_never_sent_as_a_relay_action() {
    let app = TestApp::spawn().await;
    let admin = app.admin("unknown-kind").await;
    let p = admin.ok(r#"mutation { createProperty(input: {name: "P"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let meter = admin.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000000601\", phases: 1, linkType: FOUR_G}) { meter { id } } }",
        json!({"p": p}),
    )["registerMeter"]["meter"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let t = app.app.store.tenant(admin.tenant.clone());
    let m = server::domain::ids::MeterId::parse(&meter).unwrap();
    let refused = t.operator_command(&m, "REBOOT", "test").await;
    assert!(matches!(refused, Err(server::store::StoreError::Conflict(ref e)) if e.contains("unknown command kind")), "{refused:?}");

    // A row of an unknown kind put straight into the outbox.
    let url = if TestApp::uses_postgres() { app.database.clone() } else { server::app::default_database_url(&app.data_dir) };
    let db = sea_orm::Database::connect(url).await.unwrap();
    let backend = db.get_database_backend();
    let id = uuid::Uuid::new_v4().to_string();
    let sql = if backend == sea_orm::DbBackend::Postgres {
        "INSERT INTO commands (tenant_id, id, meter_id, kind, source, created_at) VALUES ($1, $2, $3, 'REBOOT', 'OPERATOR', $4)"
    } else {
        "INSERT INTO commands (tenant_id, id, meter_id, kind, source, created_at) VALUES (?1, ?2, ?3, 'REBOOT', 'OPERATOR', ?4)"
    };
    let values: Vec<sea_orm::Value> =
        vec![admin.tenant.to_string().into(), id.clone().into(), meter.clone().into(), chrono::Utc::now().into()];
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await.unwrap();
    let failed = TestApp::eventually(Duration::from_secs(15), || {
        let c = admin.ok("query($m: ID!) { commands(meterId: $m) { id status reason } }", json!({"m": meter}))["commands"].clone();
        let id = id.clone();
        async move { c.as_array().unwrap().iter().any(|x| x["id"] == id.as_str() && x["status"] == "FAILED") }
    })
    .await;
    let c = admin.ok("query($m: ID!) { commands(meterId: $m) { id kind status reason sentAt } }", json!({"m": meter}))["commands"].clone();
    assert!(failed, "{c}");
    let row = c.as_array().unwrap().iter().find(|x| x["id"] == id.as_str()).unwrap();
    assert!(row["sentAt"].is_null(), "nothing went out: {row}");
}
