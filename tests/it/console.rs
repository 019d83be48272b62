//! The platform console: the SaaS operator's own login, its session, its reach (tenants and
//! platform health, never a tenant's data) and logout.

use serde_json::json;
use tests::{ADMIN_PASSWORD, TestApp, graphql, post_json};

const PASSWORD: &str = "Console-Pass-2026!";

fn login(app: &TestApp, username: &str, password: &str) -> (u16, serde_json::Value) {
    post_json(app.app.http_addr, "/auth/platform/login", None, &json!({"username": username, "password": password}))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_login_reaches_tenants_and_health_only_until_logout() {
    let app = TestApp::spawn().await;
    let hash = server::api::auth::hash_password(PASSWORD).unwrap();
    let name = format!("saas-{}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
    app.app.store.platform().create_operator(&name, &hash, chrono::Utc::now()).await.unwrap();
    let tenant = app.admin("console").await;
    let http = app.app.http_addr;
    let p = tenant.ok(r#"mutation { createProperty(input: {name: "Mall"}) { id } }"#, json!({}))["createProperty"]["id"].clone();
    let r = tenant.ok(
        "mutation($p: ID!) { registerMeter(input: {propertyId: $p, address: \"000000000701\", phases: 1, linkType: FOUR_G}) { meter { id } credentials { brokerUrl } } }",
        json!({"p": p}),
    );
    // A device's login says where to connect: the broker this deployment runs.
    let broker = &app.app.broker;
    assert_eq!(r["registerMeter"]["credentials"]["brokerUrl"], format!("mqtt://{}:{}", broker.host, broker.port));

    // Wrong password, unknown name, a tenant admin's credentials: all the same refusal.
    for (user, pass) in [(name.as_str(), "wrong"), ("nobody", PASSWORD), ("admin", ADMIN_PASSWORD)] {
        let (status, body) = login(&app, user, pass);
        assert_eq!((status, body["error"].as_str()), (401, Some("INVALID_CREDENTIALS")), "{user}");
    }
    let (status, body) = login(&app, &name, PASSWORD);
    assert_eq!(status, 200, "{body}");
    let token = body["accessToken"].as_str().unwrap().to_string();
    assert_eq!(body["expiresIn"], 8 * 3600);

    // Its reach: tenants and health, and the audit names the operator.
    let tenants = graphql(http, Some(&token), "{ platformTenants { slug status } }", json!({}));
    assert!(tenants["data"]["platformTenants"].as_array().unwrap().iter().any(|t| t["slug"] == tenant.slug.as_str()), "{tenants}");
    let health = graphql(http, Some(&token), "{ platformHealth { tenants activeTenants suspendedTenants meters checkedAt } }", json!({}));
    let h = &health["data"]["platformHealth"];
    assert!(h.is_object(), "{health}");
    let all = app.app.store.platform().tenants().await.unwrap();
    assert_eq!(h["tenants"], all.len());
    assert_eq!(h["meters"], 1, "the one meter of this database, never seen yet");
    assert_eq!(h["activeTenants"].as_i64().unwrap() + h["suspendedTenants"].as_i64().unwrap(), all.len() as i64);
    let me = graphql(http, Some(&token), "{ me { kind name } }", json!({}));
    assert_eq!(me["data"]["me"], json!({"kind": "admin", "name": name}));

    // Suspending a tenant from the console refuses its users at once; the audit names who.
    let r = graphql(http, Some(&token), "mutation($s: String!) { suspendTenant(input: {slug: $s}) { status } }", json!({"s": tenant.slug}));
    assert_eq!(r["data"]["suspendTenant"]["status"], "SUSPENDED", "{r}");
    assert_eq!(tenant.fails("{ properties { id } }", json!({}))["code"], "FORBIDDEN");
    let audit = graphql(http, Some(&token), "{ platformAuditLog(first: 20) { actor action subjectTenant } }", json!({}));
    assert!(
        audit["data"]["platformAuditLog"].as_array().unwrap().iter().any(|a| a["actor"] == name.as_str() && a["action"] == "suspendTenant"),
        "{audit}"
    );
    let r =
        graphql(http, Some(&token), "mutation($s: String!) { reactivateTenant(input: {slug: $s}) { status } }", json!({"s": tenant.slug}));
    assert_eq!(r["data"]["reactivateTenant"]["status"], "ACTIVE");
    assert!(tenant.ok("{ properties { id } }", json!({}))["properties"].is_array());

    // A tenant's creation names the field it refuses, and creates nothing.
    let before = app.app.store.platform().tenants().await.unwrap().len();
    let create = "mutation($n: String!, $u: String!) { createTenant(input: {name: $n, slug: \"new-co-console\", adminUsername: $u, adminPassword: \"Console-Admin-2026!\"}) { id } }";
    for (name, user, field) in [("  ", "boss", "name"), ("New Co", "b!", "adminUsername")] {
        let r = graphql(http, Some(&token), create, json!({"n": name, "u": user}));
        let e = &r["errors"][0]["extensions"];
        assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("VALIDATION"), Some(field)), "{r}");
    }
    assert_eq!(app.app.store.platform().tenants().await.unwrap().len(), before);

    // Walls both ways: the console token reads no tenant's data; a tenant token is no console.
    let e = graphql(http, Some(&token), "{ properties { id } }", json!({}));
    assert_eq!(e["errors"][0]["extensions"]["code"], "FORBIDDEN", "{e}");
    assert_eq!(tenant.fails("{ platformTenants { slug } }", json!({}))["code"], "FORBIDDEN");
    assert_eq!(tenant.fails("{ platformHealth { tenants } }", json!({}))["code"], "FORBIDDEN");
    let (status, _) = post_json(http, "/auth/platform/logout", Some(&tenant.token), &json!({}));
    assert_eq!(status, 401, "a tenant token does not end console sessions");

    // Logout ends the session: the same token is refused afterwards.
    let (status, _) = post_json(http, "/auth/platform/logout", Some(&token), &json!({}));
    assert_eq!(status, 204);
    let e = graphql(http, Some(&token), "{ platformTenants { slug } }", json!({}));
    assert_eq!(e["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{e}");

    // A new password ends every other console session too.
    let (_, body) = login(&app, &name, PASSWORD);
    let second = body["accessToken"].as_str().unwrap().to_string();
    let other = server::api::auth::hash_password("Another-Pass-2026!").unwrap();
    assert!(app.app.store.platform().set_operator_password(&name, &other, chrono::Utc::now()).await.unwrap());
    let e = graphql(http, Some(&second), "{ platformTenants { slug } }", json!({}));
    assert_eq!(e["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{e}");
    assert_eq!(login(&app, &name, PASSWORD).0, 401);
    assert_eq!(login(&app, &name, "Another-Pass-2026!").0, 200);

    // Disabling ends the sessions and refuses the login (after the password, so the answer
    // says nothing to a guesser); the name is one whatever its case; the CLI's name is reserved.
    let (_, body) = login(&app, &name.to_uppercase(), "Another-Pass-2026!");
    let third = body["accessToken"].as_str().unwrap().to_string();
    assert!(app.app.store.platform().set_operator_status(&name, "DISABLED", chrono::Utc::now()).await.unwrap());
    let e = graphql(http, Some(&third), "{ platformTenants { slug } }", json!({}));
    assert_eq!(e["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{e}");
    assert_eq!(
        login(&app, &name, "Another-Pass-2026!"),
        (403, json!({"error": "DISABLED", "message": "this platform operator is disabled"}))
    );
    assert_eq!(login(&app, &name, "wrong").0, 401);
    assert!(app.app.store.platform().create_operator(&name.to_uppercase(), &hash, chrono::Utc::now()).await.is_err());
    assert!(app.app.store.platform().create_operator("Platform-Admin", &hash, chrono::Utc::now()).await.is_err());
    let audit = app.app.store.platform().audit_log(50).await.unwrap();
    assert!(audit.iter().any(|a| a.actor == "(unknown)" && a.action == "consoleLoginFailed"), "unknown names are not written down");
    assert!(!audit.iter().any(|a| a.actor == "nobody"));
}
