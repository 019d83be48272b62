//! Property scope, attacked: an operator limited to one property tries every spelling of
//! another property's ids, ids of every kind of object, variable defaults, several
//! operations in one document, tenant-wide changes, and granting itself more.

use serde_json::{Value, json};
use tests::{TestApp, graphql};

use crate::identity::{code, create_operator, customer_with_account, property_with_meter, role_id};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scoped_operator_reaches_nothing_outside_its_property_however_the_id_is_spelled() {
    let app = TestApp::spawn().await;
    let admin = app.admin("scope-attack").await;
    let (p1, m1) = property_with_meter(&admin, "East", "000000000501");
    let (p2, m2) = property_with_meter(&admin, "West", "000000000502");
    customer_with_account(&admin, "East shop", "13800000501", &m1);
    let (c2, _) = customer_with_account(&admin, "West shop", "13800000502", &m2);
    let west_account =
        admin.ok("query($c: ID!) { accounts(customerId: $c) { items { id } } }", json!({"c": c2}))["accounts"]["items"][0]["id"].clone();
    let receipt = admin.ok(
        "mutation($a: ID!) { recharge(input: {accountId: $a, amount: \"50.00\", channel: CASH}) { entries { id } } }",
        json!({"a": west_account}),
    )["recharge"]
        .clone();
    let west_entry = receipt["entries"][0]["id"].as_str().unwrap().to_string();
    // The East administrator: every permission, East only.
    create_operator(&admin, "east-admin", &role_id(&admin, "tenant admin"), Some(vec![&p1]));
    let east = app.session(&admin.tenant, "east-admin").await;
    let q = |query: &str, vars: Value| graphql(app.app.http_addr, Some(&east), query, vars);
    let commands_of =
        |m: &str| admin.ok("query($m: ID!) { commands(meterId: $m) { id } }", json!({"m": m}))["commands"].as_array().unwrap().len();

    // West's meter in every spelling: not found, nothing queued.
    let bare = m2.replace('-', "");
    let spellings = [m2.clone(), m2.to_uppercase(), bare.clone(), format!("{{{m2}}}"), format!("urn:uuid:{m2}"), format!(" {m2} ")];
    let trip = "mutation($m: ID!) { tripMeter(input: {meterId: $m}) { id } }";
    for s in &spellings {
        assert_eq!(code(&q(trip, json!({"m": s}))), "NOT_FOUND", "tripMeter with {s:?}");
        assert_eq!(code(&q("query($m: ID!) { meter(id: $m) { id } }", json!({"m": s}))), "NOT_FOUND", "meter({s:?})");
    }
    assert_eq!(commands_of(&m2), 0, "no command for West was queued");
    // Another tenant's administrator, every spelling: not found, nothing queued either.
    let other = app.admin("scope-stranger").await;
    for s in &spellings {
        assert_eq!(code(&other.gql(trip, json!({"m": s}))), "NOT_FOUND", "another tenant's tripMeter with {s:?}");
        let seen = other.gql("query($m: ID!) { meter(id: $m) { id } }", json!({"m": s}));
        let nothing = other.gql("query($m: ID!) { meter(id: $m) { id } }", json!({"m": uuid::Uuid::new_v4().to_string()}));
        assert_eq!(seen, nothing, "another tenant's meter({s:?}) answers as a missing one");
    }
    assert_eq!(commands_of(&m2), 0, "no command from another tenant either");
    // Its own meter works in any spelling.
    assert_eq!(code(&q(trip, json!({"m": m1.replace('-', "")}))), "");

    // Through a variable's default value, and through another operation's default.
    let defaulted = format!("mutation($m: ID! = \"{m2}\") {{ tripMeter(input: {{meterId: $m}}) {{ id }} }}");
    assert_eq!(code(&q(&defaulted, json!({}))), "NOT_FOUND");
    let two = format!(
        "mutation Mine($m: ID! = \"{m1}\") {{ readMeterNow(input: {{meterId: $m}}) {{ id }} }}
         mutation Theirs($m: ID! = \"{m2}\") {{ tripMeter(input: {{meterId: $m}}) {{ id }} }}"
    );
    let v = tests::graphql_operation(app.app.http_addr, &east, &two, "Theirs");
    assert_eq!(code(&v), "NOT_FOUND", "{v}");
    assert_eq!(commands_of(&m2), 0);
    // The same with a list default, the own id first in the document.
    let lists = format!(
        "mutation Mine($m: [ID!] = [\"{m1}\"]) {{ batchCommand(input: {{kind: \"READ\", selection: {{meterIds: $m}}}}) {{ total }} }}
         mutation Theirs($m: [ID!] = [\"{m2}\"]) {{ batchCommand(input: {{kind: \"TRIP\", selection: {{meterIds: $m}}}}) {{ total }} }}"
    );
    let v = tests::graphql_operation(app.app.http_addr, &east, &lists, "Theirs");
    assert_eq!(code(&v), "NOT_FOUND", "{v}");
    assert_eq!(commands_of(&m2), 0);

    // Ids of objects that are not meters: a West ledger entry, an unknown id, a role.
    assert_eq!(code(&q("query($e: ID!) { ledgerEntry(id: $e) { id } }", json!({"e": west_entry}))), "NOT_FOUND");
    assert_eq!(code(&q("mutation($e: ID!) { markInvoiced(entryIds: [$e]) }", json!({"e": west_entry}))), "NOT_FOUND");
    assert_eq!(code(&q("mutation($e: ID!) { reverseEntry(entryId: $e) { receiptNo } }", json!({"e": west_entry}))), "NOT_FOUND");
    let nobody = uuid::Uuid::new_v4().to_string();
    assert_eq!(code(&q(trip, json!({"m": nobody}))), "NOT_FOUND");
    let west_balance = admin.ok("query($a: ID!) { account(id: $a) { balance } }", json!({"a": west_account}))["account"]["balance"].clone();
    assert_eq!(west_balance, "50.00");

    // Tenant-wide changes: the default tariff is not East's to set; a tariff on its own meter is.
    let tariff = admin.ok(
        "mutation { createTariff(input: {name: \"Flat\", effectiveFrom: \"2026-01-01T00:00:00Z\", tariff: {prices: [{rate: FLAT, price: \"1\"}]}}) { id } }",
        json!({}),
    )["createTariff"]["id"]
        .clone();
    assert_eq!(code(&q("mutation($t: ID!) { assignTariff(input: {tariffId: $t}) }", json!({"t": tariff}))), "NOT_FOUND");
    assert_eq!(
        code(&q("mutation($t: ID!, $m: ID!) { assignTariff(input: {tariffId: $t, meterId: $m}) }", json!({"t": tariff, "m": m1}))),
        ""
    );
    assert_eq!(code(&q("query($t: ID!) { tariff(id: $t) { id } }", json!({"t": tariff}))), "", "reading a tariff is fine");

    // A batch selects only East's meters.
    let batch = q("mutation($p: ID!) { batchCommand(input: {kind: \"READ\", selection: {propertyId: $p}}) { total } }", json!({"p": p1}));
    assert_eq!(batch["data"]["batchCommand"]["total"], 1, "{batch}");
    assert_eq!(
        code(&q("mutation($p: ID!) { batchCommand(input: {kind: \"TRIP\", selection: {propertyId: $p}}) { total } }", json!({"p": p2}))),
        "NOT_FOUND"
    );

    // Granting: not all properties, not West, not a role wider than its own scope allows.
    let me = admin.ok("{ operators { id username } }", json!({}))["operators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["username"] == "east-admin")
        .unwrap()["id"]
        .clone();
    let lift = q("mutation($o: ID!) { updateOperator(input: {id: $o, allProperties: true}) { id } }", json!({"o": me}));
    assert_eq!(code(&lift), "FORBIDDEN", "{lift}");
    let widen =
        q("mutation($o: ID!, $p: [ID!]) { updateOperator(input: {id: $o, propertyIds: $p}) { id } }", json!({"o": me, "p": [p1, p2]}));
    assert_eq!(code(&widen), "NOT_FOUND", "{widen}");
    let made = q(
        "mutation($i: CreateOperatorInput!) { createOperator(input: $i) { id } }",
        json!({"i": {"username": "east-2", "password": "Strong-Pass 2026", "roleId": role_id(&admin, "viewer"), "propertyIds": null}}),
    );
    assert_ne!(code(&made), "", "a scoped operator cannot make an operator of all properties: {made}");
    let scope = admin.ok("{ operators { username propertyIds } }", json!({}))["operators"].clone();
    let mine = scope.as_array().unwrap().iter().find(|o| o["username"] == "east-admin").unwrap().clone();
    assert_eq!(mine["propertyIds"], json!([p1]), "its own scope is unchanged");
    assert!(!scope.to_string().contains("east-2"));

    // An operator of all properties, holding only OPERATORS, cannot grant what it lacks.
    let ops_only =
        admin.ok(r#"mutation { createRole(input: {name: "hr", permissions: [OPERATORS]}) { id } }"#, json!({}))["createRole"]["id"]
            .as_str()
            .unwrap()
            .to_string();
    create_operator(&admin, "hr-1", &ops_only, None);
    let hr = app.session(&admin.tenant, "hr-1").await;
    let hq = |query: &str, vars: Value| graphql(app.app.http_addr, Some(&hr), query, vars);
    assert_eq!(
        code(&hq(r#"mutation { createRole(input: {name: "boss", permissions: [SETTINGS, OPERATORS]}) { id } }"#, json!({}))),
        "FORBIDDEN"
    );
    let hr_id = admin.ok("{ operators { id username } }", json!({}))["operators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["username"] == "hr-1")
        .unwrap()["id"]
        .clone();
    assert_eq!(
        code(&hq(
            "mutation($o: ID!, $r: ID!) { updateOperator(input: {id: $o, roleId: $r}) { id } }",
            json!({"o": hr_id, "r": role_id(&admin, "tenant admin")})
        )),
        "FORBIDDEN",
        "no promotion of itself"
    );
}

/// Shared areas, bill runs and binding codes, attacked by an operator limited to East: a
/// group with one West member is not East's to run or retire (a run would charge the West
/// account); West's property in every spelling runs no bills, and neither does a run naming no
/// property; West's account gets no binding code.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scoped_operator_cannot_run_a_shared_area_reaching_another_property_nor_its_bills() {
    let app = TestApp::spawn().await;
    let admin = app.admin("scope-shares").await;
    let (p1, m1) = property_with_meter(&admin, "East", "000000000511");
    let (p2, m2) = property_with_meter(&admin, "West", "000000000512");
    let account_of = |c: &str| {
        admin.ok("query($c: ID!) { accounts(customerId: $c) { items { id } } }", json!({"c": c}))["accounts"]["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let east_account = account_of(&customer_with_account(&admin, "East shop", "13800000511", &m1).0);
    let west_account = account_of(&customer_with_account(&admin, "West shop", "13800000512", &m2).0);
    let group = |name: &str, members: Vec<&str>| {
        let members: Vec<Value> = members.into_iter().map(|a| json!({"accountId": a, "weight": "1"})).collect();
        admin.ok(
            "mutation($i: CreateAllocationGroupInput!) { createAllocationGroup(input: $i) { id } }",
            json!({"i": {"name": name, "meterId": m1, "method": "SHARES", "members": members}}),
        )["createAllocationGroup"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let spanning = group("Both", vec![&east_account, &west_account]);
    let east_only = group("East only", vec![&east_account]);
    create_operator(&admin, "east-reports", &role_id(&admin, "tenant admin"), Some(vec![&p1]));
    let east = app.session(&admin.tenant, "east-reports").await;
    let q = |query: &str, vars: Value| graphql(app.app.http_addr, Some(&east), query, vars);

    let run = "mutation($g: ID!) { runAllocation(groupId: $g, period: \"2026-10\") { amount } }";
    let retire = "mutation($g: ID!) { retireAllocationGroup(id: $g) { id } }";
    for s in [spanning.clone(), spanning.to_uppercase(), spanning.replace('-', ""), format!("{{{spanning}}}")] {
        assert_eq!(code(&q(run, json!({"g": s}))), "NOT_FOUND", "runAllocation({s:?})");
        assert_eq!(code(&q(retire, json!({"g": s}))), "NOT_FOUND", "retireAllocationGroup({s:?})");
    }
    let groups = admin.ok("{ allocationGroups { id } }", json!({}))["allocationGroups"].as_array().unwrap().len();
    assert_eq!(groups, 2, "nothing retired");
    // Its own group is its to retire.
    assert_eq!(code(&q(retire, json!({"g": east_only}))), "");

    let bills = "mutation($p: ID) { runBills(period: \"2026-10\", propertyId: $p) { created } }";
    for s in [p2.clone(), p2.to_uppercase(), p2.replace('-', ""), format!("urn:uuid:{p2}")] {
        assert_eq!(code(&q(bills, json!({"p": s}))), "NOT_FOUND", "runBills(propertyId: {s:?})");
    }
    assert_eq!(code(&q(bills, json!({"p": null}))), "FORBIDDEN", "the whole tenant's run is not a scoped operator's");
    assert_eq!(code(&q(bills, json!({"p": p1}))), "", "its own property's run");

    let issue = "mutation($a: ID!) { issueBindingCode(accountId: $a) }";
    for s in [west_account.clone(), west_account.to_uppercase(), west_account.replace('-', "")] {
        assert_eq!(code(&q(issue, json!({"a": s}))), "NOT_FOUND", "issueBindingCode({s:?})");
    }
    assert_eq!(code(&q(issue, json!({"a": east_account}))), "");
}
