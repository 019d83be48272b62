//! Registry through GraphQL: validation errors name the field; tenants never see each other.

use serde_json::json;
use std::time::Duration;
use tests::{TestApp, graphql};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_errors_name_the_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin("validation").await;
    let p = admin.ok(r#"mutation { createProperty(input: {name: "Mall"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let register = "mutation($i: RegisterMeterInput!) { registerMeter(input: $i) { meter { id } } }";
    let cases = [
        (json!({"propertyId": p, "address": "12345", "phases": 1, "linkType": "FOUR_G"}), "address"),
        (json!({"propertyId": p, "address": "000000000001", "phases": 2, "linkType": "FOUR_G"}), "phases"),
        (json!({"propertyId": p, "address": "000000000001", "phases": 1, "linkType": "LORA_GATEWAY"}), "gatewayId"),
        (json!({"propertyId": p, "address": "000000000001", "phases": 1, "linkType": "FOUR_G", "ctRatio": 0}), "ctRatio"),
    ];
    for (input, field) in cases {
        let e = admin.fails(register, json!({"i": input}));
        assert_eq!(e["code"], "VALIDATION", "{input}");
        assert_eq!(e["field"], field, "{input}");
    }
    let e = admin.fails(r#"mutation { createProperty(input: {name: "  "}) { id } }"#, json!({}));
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("VALIDATION"), Some("name")));
    let ok = json!({"propertyId": p, "address": "000000000001", "phases": 1, "linkType": "FOUR_G"});
    admin.ok(register, json!({"i": ok}));
    let e = admin.fails(register, json!({"i": ok}));
    assert_eq!(e["field"], "address", "a duplicate address is refused");
    let total = admin.ok("{ meters { total } }", json!({}));
    assert_eq!(total["meters"]["total"], 1);
    let e = admin.fails("mutation($p: ID!) { retireProperty(input: {id: $p}) { id } }", json!({"p": p}));
    assert_eq!(e["code"], "CONFLICT", "a property with active meters cannot be retired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_ids_are_not_found_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let a = app.admin("tenant-a").await;
    let b = app.admin("tenant-b").await;
    let p = a.ok(r#"mutation { createProperty(input: {name: "A Mall"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let area =
        a.ok("mutation($p: ID!) { createArea(input: {propertyId: $p, name: \"A1\"}) { id } }", json!({"p": p}))["createArea"]["id"].clone();
    let c = a.ok(r#"mutation { createCustomer(input: {name: "Shop"}) { id } }"#, json!({}))["createCustomer"]["id"].clone();
    let gw = a.ok("mutation($p: ID!) { registerGateway(input: {propertyId: $p, serial: \"G1\"}) { gateway { id } } }", json!({"p": p}))["registerGateway"]["gateway"]["id"].clone();
    let m = a.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000000009\", phases: 1, linkType: FOUR_G}) { meter { id } } }",
        json!({"p": p}),
    )["registerMeter"]["meter"]["id"]
        .clone();

    // Reads: null or empty, exactly like an id that does not exist.
    let r = b.ok("query($m: ID!, $g: ID!) { meter(id: $m) { id } gateway(id: $g) { id } meters { total } properties { id } customers { total } gateways { total } }", json!({"m": m, "g": gw}));
    assert_eq!(
        r,
        json!({"meter": null, "gateway": null, "meters": {"total": 0}, "properties": [], "customers": {"total": 0}, "gateways": {"total": 0}})
    );
    let r =
        b.ok("query($p: ID!, $a: ID!) { areas(propertyId: $p) { id } meters(filter: {areaId: $a}) { total } }", json!({"p": p, "a": area}));
    assert_eq!(r, json!({"areas": [], "meters": {"total": 0}}));
    // Writes: NOT_FOUND for the object itself, VALIDATION for a reference; nothing changes.
    for (q, vars) in [
        ("mutation($id: ID!) { updateProperty(input: {id: $id, name: \"x\"}) { id } }", json!({"id": p})),
        ("mutation($id: ID!) { retireProperty(input: {id: $id}) { id } }", json!({"id": p})),
        ("mutation($id: ID!) { updateArea(input: {id: $id, name: \"x\"}) { id } }", json!({"id": area})),
        ("mutation($id: ID!) { retireArea(input: {id: $id}) { id } }", json!({"id": area})),
        ("mutation($id: ID!) { updateCustomer(input: {id: $id, name: \"x\"}) { id } }", json!({"id": c})),
        ("mutation($id: ID!) { retireCustomer(input: {id: $id}) { id } }", json!({"id": c})),
        ("mutation($id: ID!) { updateGateway(input: {id: $id, name: \"x\"}) { id } }", json!({"id": gw})),
        ("mutation($id: ID!) { retireGateway(input: {id: $id}) { id } }", json!({"id": gw})),
        ("mutation($id: ID!) { updateMeter(input: {id: $id, model: \"x\"}) { id } }", json!({"id": m})),
        ("mutation($id: ID!) { retireMeter(input: {id: $id}) { id } }", json!({"id": m})),
    ] {
        assert_eq!(b.fails(q, vars.clone())["code"], "NOT_FOUND", "{q}");
    }
    let e = b.fails("mutation($p: ID!) { createArea(input: {propertyId: $p, name: \"x\"}) { id } }", json!({"p": p}));
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("VALIDATION"), Some("propertyId")));
    let own = b.ok(r#"mutation { createProperty(input: {name: "B Mall"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let e = b.fails(
        "mutation($p: ID!, $c: ID!) { registerMeter(input: {propertyId: $p, customerId: $c, address: \"000000000010\", phases: 1, linkType: FOUR_G}) { meter { id } } }",
        json!({"p": own, "c": c}),
    );
    assert_eq!(e["code"], "VALIDATION", "another tenant's customer cannot be referenced");
    // Tenant A still sees everything unchanged.
    let r = a.ok("query($m: ID!) { meter(id: $m) { model retiredAt } properties { name retiredAt } }", json!({"m": m}));
    assert_eq!(r, json!({"meter": {"model": "", "retiredAt": null}, "properties": [{"name": "A Mall", "retiredAt": null}]}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_valid_token_are_refused() {
    let app = TestApp::spawn().await;
    let none = graphql(app.app.http_addr, None, "{ meters { total } }", json!({}));
    assert_eq!(none["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let forged = graphql(app.app.http_addr, Some("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."), "{ meters { total } }", json!({}));
    assert_eq!(forged["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_metrics_and_graphiql_are_served() {
    let app = TestApp::spawn().await;
    let addr = app.app.http_addr;
    // Ready once the database answers and the bridge's session is up.
    let ready = TestApp::eventually(Duration::from_secs(20), || async move {
        tokio::task::spawn_blocking(move || http_get(addr, "/readyz")).await.unwrap().0 == 200
    })
    .await;
    assert!(ready, "the server became ready");
    let (health, metrics, anonymous, graphiql) = tokio::task::spawn_blocking(move || {
        let health = http_get(addr, "/healthz");
        let bearer = format!("Bearer {}", tests::INTERNAL_TOKEN);
        let metrics = tests::http_request(addr, "GET", "/metrics", &[("Authorization", &bearer)], "");
        (health, metrics, http_get(addr, "/metrics"), http_get(addr, "/graphql"))
    })
    .await
    .unwrap();
    assert_eq!(health.0, 200);
    assert_eq!(metrics.0, 200);
    assert_eq!(anonymous.0, 401, "metrics on the public listener need the internal token");
    // The bridge's counters, and what the request middleware recorded by route and status.
    assert!(metrics.1.contains("voltledger_bridge_sessions 1"), "{}", metrics.1);
    assert!(metrics.1.contains(r#"voltledger_http_requests_total{route="/healthz",status="200"}"#), "{}", metrics.1);
    assert!(metrics.1.contains(r#"voltledger_http_request_duration_seconds_bucket{route="/readyz""#), "{}", metrics.1);
    assert_eq!(graphiql.0, 200);
    assert!(graphiql.1.to_lowercase().contains("graphiql"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_tenant_is_refused_everywhere_until_reactivated() {
    use mqtt_bridge::port::{MeterReading, ReadTime, Readings};
    let app = TestApp::spawn().await;
    let admin = app.admin("suspend").await;
    let other = app.admin("unaffected").await;
    let p = admin.ok(r#"mutation { createProperty(input: {name: "Mall"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let r = admin.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000000501\", phases: 1, linkType: FOUR_G}) { meter { id } credentials { username password } } }",
        json!({"p": p}),
    )["registerMeter"]
        .clone();
    let user = r["credentials"]["username"].as_str().unwrap().to_string();
    let password = r["credentials"]["password"].as_str().unwrap().to_string();
    let reading = |minute: i64| MeterReading {
        device: user.clone(),
        address: mqtt_bridge::dlt645::Address::parse("000000000501").unwrap(),
        read_at: ReadTime::Instant(chrono::Utc::now() - chrono::Duration::minutes(minute)),
        received_at: chrono::Utc::now(),
        values: Readings { energy_total: Some(rust_decimal::Decimal::new(1_000, 2)), ..Readings::default() },
    };
    let slug = app.app.store.platform().tenants().await.unwrap().into_iter().find(|t| t.id == admin.tenant).unwrap().slug;
    let t = app.app.store.platform().set_tenant_status(&slug, "SUSPENDED").await.unwrap();
    assert_eq!(t.status, "SUSPENDED");

    let e = admin.fails("{ meters { total } }", json!({}));
    assert_eq!(e["code"], "FORBIDDEN");
    let e = admin.fails(r#"mutation { createProperty(input: {name: "More"}) { id } }"#, json!({}));
    assert_eq!(e["code"], "FORBIDDEN");
    assert!(!app.app.store.check_device(&user, &user, &password), "the broker refuses its devices");
    let report = app.app.store.store_readings(vec![reading(10)]).await.unwrap();
    assert_eq!((report.stored, report.unknown), (0, 1), "its frames are refused");
    assert_eq!(other.ok("{ properties { id } }", json!({}))["properties"], json!([]), "other tenants are unaffected");

    app.app.store.platform().set_tenant_status(&slug, "ACTIVE").await.unwrap();
    assert_eq!(admin.ok("{ properties { id } }", json!({}))["properties"].as_array().unwrap().len(), 1, "nothing was deleted");
    assert!(app.app.store.check_device(&user, &user, &password));
    assert_eq!(app.app.store.store_readings(vec![reading(5)]).await.unwrap().stored, 1);
    assert!(app.app.store.platform().set_tenant_status("no-such-tenant", "SUSPENDED").await.is_err());
}

/// The meters list's total is kept per property (m0022) instead of counted per request. It
/// must stay the number of active meters the caller may see, whatever changed them: meters
/// registered, retired (twice), in another tenant, and for an operator of one property.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_meters_total_is_the_active_meters_in_scope_whatever_changed_them() {
    use crate::identity::{create_operator, property_with_meter, role_id};
    let app = TestApp::spawn().await;
    let admin = app.admin("totals").await;
    let (east, first) = property_with_meter(&admin, "East", "000000000601");
    let (west, _) = property_with_meter(&admin, "West", "000000000602");
    let register = |p: &str, a: &str| {
        admin.ok(
            "mutation($p: ID!, $a: String!) { registerMeter(input: {propertyId: $p, address: $a, phases: 1, linkType: FOUR_G}) { meter { id } } }",
            json!({"p": p, "a": a}),
        )["registerMeter"]["meter"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let second = register(&east, "000000000603");
    register(&east, "000000000604");
    // (total, rows listed): the rows are read from the meters themselves. A refusal: its code.
    let answer = |token: &str, filter: serde_json::Value| {
        graphql(
            admin.http,
            Some(token),
            "query($f: MeterFilter) { meters(filter: $f, pageSize: 500) { total items { id } } }",
            json!({"f": filter}),
        )
    };
    let listed = |token: &str, filter: serde_json::Value| {
        let v = answer(token, filter);
        let m = &v["data"]["meters"];
        (m["total"].as_u64().unwrap_or_else(|| panic!("{v}")), m["items"].as_array().map_or(0, Vec::len) as u64)
    };
    // Nothing of it: refused as not found, or an empty list with a total of 0.
    let sees_nothing = |token: &str, filter: serde_json::Value| {
        let v = answer(token, filter);
        let m = &v["data"]["meters"];
        let empty = m["total"] == 0 && m["items"] == json!([]);
        assert!(empty || v["errors"][0]["extensions"]["code"] == "NOT_FOUND", "{v}");
    };
    assert_eq!(listed(&admin.token, json!({})), (4, 4));
    assert_eq!(listed(&admin.token, json!({"propertyId": east})), (3, 3));
    assert_eq!(listed(&admin.token, json!({"propertyId": west})), (1, 1));
    // Another tenant's meters count for it, not here.
    let other = app.admin("totals-other").await;
    let (other_property, _) = property_with_meter(&other, "Elsewhere", "000000000601");
    assert_eq!(listed(&other.token, json!({})), (1, 1));
    assert_eq!(listed(&admin.token, json!({})), (4, 4));
    // Another tenant's property named in the filter: not found, nothing of it counted.
    sees_nothing(&admin.token, json!({"propertyId": other_property}));
    // Retired: one fewer; retiring it again changes nothing.
    admin.ok("mutation($i: ID!) { retireMeter(input: {id: $i}) { id } }", json!({"i": second}));
    assert_eq!(listed(&admin.token, json!({})), (3, 3));
    let again = admin.gql("mutation($i: ID!) { retireMeter(input: {id: $i}) { id } }", json!({"i": second}));
    assert!(again["errors"].is_array(), "{again}");
    assert_eq!(listed(&admin.token, json!({"propertyId": east})), (2, 2));
    assert_eq!(listed(&admin.token, json!({"status": "RETIRED"})), (1, 1));
    // An operator of West alone sees West's total, and none of East's even when it names East.
    create_operator(&admin, "west-only", &role_id(&admin, "tenant admin"), Some(vec![&west]));
    let west_op = app.session(&admin.tenant, "west-only").await;
    assert_eq!(listed(&west_op, json!({})), (1, 1));
    sees_nothing(&west_op, json!({"propertyId": east}));
    // The search counts in the same scan as its page, past its last page too.
    assert_eq!(listed(&admin.token, json!({"q": "00060"})), (3, 3));
    let past = graphql(
        admin.http,
        Some(&admin.token),
        "{ meters(filter: {q: \"00060\"}, page: 9, pageSize: 2) { total items { id } } }",
        json!({}),
    );
    assert_eq!(past["data"]["meters"]["total"], 3, "{past}");
    assert_eq!(past["data"]["meters"]["items"], json!([]));
    let page2 = graphql(
        admin.http,
        Some(&admin.token),
        "{ meters(filter: {q: \"00060\"}, page: 2, pageSize: 2) { total items { id } } }",
        json!({}),
    );
    assert_eq!(page2["data"]["meters"]["total"], 3, "{page2}");
    assert_eq!(page2["data"]["meters"]["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed(&admin.token, json!({"propertyId": east, "q": "601"})), (1, 1));
    // The bulk account import (批量开户) registers meters too.
    let rows: Vec<_> = ["000000000701", "000000000702"]
        .iter()
        .map(|a| server::store::ImportAccount {
            address: a.to_string(),
            customer_name: format!("Shop {a}"),
            billing_mode: server::domain::registry::BillingMode::PlatformPrepaid,
            property_fee_x100: 0,
        })
        .collect();
    let west_id = server::domain::ids::PropertyId::parse(&west).unwrap();
    app.app.store.tenant(admin.tenant.clone()).import_accounts(&west_id, &rows).await.unwrap();
    assert_eq!(listed(&admin.token, json!({})), (5, 5));
    assert_eq!(listed(&admin.token, json!({"propertyId": west})), (3, 3));
    let _ = first;
}
