//! The built portal at `/`: the page itself never cached, hashed assets cached for a year,
//! the single-page app's own routes answered with the page, and the API's paths untouched
//! (an unknown API path is a 404, not the page; a POST is never the page).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::json;
use tests::TestApp;

/// (status, lower-cased head, body) of one request.
fn get(http: SocketAddr, method: &str, path: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(http).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let request = format!("{method} {path} HTTP/1.1\r\nHost: {http}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_portal_is_served_beside_the_api_with_its_caching_and_its_routes() {
    let dir = std::env::temp_dir().join(format!("voltledger-portal-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>VoltLedger portal</title><div id=app></div>").unwrap();
    std::fs::write(dir.join("assets/index-3f2a9c.js"), "console.log('portal')").unwrap();
    std::fs::write(dir.join("favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>").unwrap();
    let web = dir.clone();
    let app = TestApp::spawn_with(move |s| s.web_dir = Some(web)).await;
    let http = app.app.http_addr;

    let (status, head, body) = get(http, "GET", "/");
    assert_eq!(status, 200);
    assert!(body.contains("VoltLedger portal"));
    assert!(head.contains("cache-control: no-cache"), "{head}");
    assert!(head.contains("content-security-policy: default-src 'self'"), "{head}");
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");

    let (status, head, body) = get(http, "GET", "/assets/index-3f2a9c.js");
    assert_eq!(status, 200);
    assert_eq!(body, "console.log('portal')");
    assert!(head.contains("cache-control: public, max-age=31536000, immutable"), "{head}");
    assert!(head.contains("javascript"), "{head}");
    assert_eq!(get(http, "GET", "/assets/missing-000000.js").0, 404, "a missing asset is not the page");
    assert_eq!(get(http, "GET", "/favicon.svg").0, 200);

    // The app's own routes, deep links included, get the page.
    for route in ["/monitor", "/meters/8d3c/detail", "/finance?kind=REFUND"] {
        let (status, head, body) = get(http, "GET", route);
        assert_eq!(status, 200, "{route}");
        assert!(body.contains("VoltLedger portal"), "{route}");
        assert!(head.contains("no-cache"), "{route}");
    }
    // Outside the folder: nothing.
    for path in ["/../Cargo.toml", "/assets/../../etc/passwd", "/%2e%2e/Cargo.toml"] {
        let (status, _, body) = get(http, "GET", path);
        assert!(!body.contains("[workspace]") && !body.contains("root:"), "{path}: {status}");
    }
    // The API stays the API.
    let (status, _, body) = get(http, "GET", "/healthz");
    assert_eq!(status, 200);
    assert!(!body.contains("VoltLedger portal"));
    let (_, v) = tests::post_json(http, "/graphql", None, &json!({"query": "{ __typename }"}));
    assert_eq!(v["data"]["__typename"], "QueryRoot", "{v}");
    for path in ["/auth/nothing-here", "/pay/nothing", "/graphqlx"] {
        let (status, _, body) = get(http, "GET", path);
        assert_eq!(status, 404, "{path}");
        assert!(!body.contains("VoltLedger portal"), "{path}");
    }
    let (status, _, body) = get(http, "POST", "/monitor");
    assert_ne!(status, 200, "a POST is not a page");
    assert!(!body.contains("VoltLedger portal"));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_built_portal_the_root_says_how_to_build_it() {
    let app = TestApp::spawn_with(|s| s.web_dir = Some(std::env::temp_dir().join("voltledger-no-portal-here"))).await;
    let (status, head, body) = get(app.app.http_addr, "GET", "/");
    assert_eq!(status, 200);
    assert!(body.contains("infra/run.sh"), "{body}");
    assert!(head.contains("text/html"));
    assert_eq!(get(app.app.http_addr, "GET", "/monitor").0, 404);
}
