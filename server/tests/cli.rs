//! The `voltledger` binary as users call it: `frame decode` and `frame encode`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::process::Command;

fn voltledger(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_voltledger")).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn frame_decode_prints_one_json_object_per_frame() {
    let two = "FE FE 68 25 04 03 02 01 00 68 91 08 33 33 34 33 75 39 45 33 8B 16 68 61 01 00 00 00 00 68 D1 01 35 39 16";
    let (ok, stdout, _) = voltledger(&["frame", "decode", two]);
    assert!(ok);
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["items"][0]["value"], serde_json::json!(1206.42));
    assert_eq!(lines[0]["items"][0]["di"], "00010000");
    assert_eq!(lines[1]["error"]["bits"][0], "no_requested_data");
}

#[test]
fn a_bad_frame_prints_a_clear_error_and_exits_non_zero() {
    for (input, expected) in [
        ("68 25 04 03 02 01 00 68 11 04 33 33 34 33 E2 16", "checksum mismatch"),
        ("68 25 04 03 02 01 00 68 11 04 33", "trailing byte"),
        ("zz", "not hex"),
        ("00 11 22", "no DL/T 645 frame"),
    ] {
        let (ok, stdout, stderr) = voltledger(&["frame", "decode", input]);
        assert!(!ok, "{input}");
        assert!(stdout.is_empty(), "{input}: {stdout}");
        assert!(stderr.contains(expected), "{input}: {stderr}");
    }
}

#[test]
fn a_frame_whose_content_does_not_decode_is_printed_as_such_and_the_others_still_decode() {
    // A meter's date reply saying 0000-00-00, then a read request: both printed, exit 0.
    let input = "68 25 04 03 02 01 00 68 91 08 34 34 33 37 33 33 33 33 36 16 68 25 04 03 02 01 00 68 11 04 33 33 34 33 E1 16";
    let (ok, stdout, stderr) = voltledger(&["frame", "decode", input]);
    assert!(ok, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0]["error"].as_str().unwrap().contains("invalid date"), "{stdout}");
    assert_eq!(lines[0]["dataHex"], "0101000400000000", "the data field without the +33H offset");
    assert_eq!(lines[1]["items"][0]["di"], "00010000");
    assert!(stderr.contains("warning: frame from 000102030425"), "{stderr}");
}

#[test]
fn frame_encode_builds_what_decode_reads_back() {
    let (ok, read, _) = voltledger(&["frame", "encode", "read", "--address", "000102030425", "--di", "00010000"]);
    assert!(ok);
    assert_eq!(read.trim(), "68 25 04 03 02 01 00 68 11 04 33 33 34 33 E1 16");
    let (ok, control, _) =
        voltledger(&["frame", "encode", "control", "--address", "000000000161", "--action", "trip", "--deadline", "2026-11-30 12:00:00"]);
    assert!(ok);
    let (ok, decoded, _) = voltledger(&["frame", "decode", control.trim()]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(decoded.trim()).unwrap();
    assert_eq!(v["command"]["action"], "trip");
    assert_eq!(v["command"]["deadline"], "2026-11-30 12:00:00");
    let (ok, _, stderr) =
        voltledger(&["frame", "encode", "control", "--address", "999999999999", "--action", "trip", "--deadline", "2026-11-30 12:00:00"]);
    assert!(!ok);
    assert!(stderr.contains("broadcast"), "{stderr}");
}

#[test]
fn tenant_create_prints_an_id_and_an_administrator_login() {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("voltledger-cli-{}-{nanos}", std::process::id()));
    let data = dir.to_string_lossy().to_string();
    let (ok, stdout, stderr) = voltledger(&["tenant", "create", "--data-dir", &data, "--name", "Mall Co", "--slug", "mall-co"]);
    assert!(ok, "{stderr}");
    let id = stdout.lines().find_map(|l| l.strip_prefix("tenant ")).unwrap().trim().to_string();
    assert_eq!(id.len(), 36);
    assert!(stdout.contains("admin username: admin"), "{stdout}");
    let password = stdout.lines().find_map(|l| l.strip_prefix("admin password: ")).unwrap().trim().to_string();
    assert!(server::domain::access::check_password("admin", &password).is_ok(), "a generated password meets the policy");
    let (ok, list, _) = voltledger(&["operator", "list", "--data-dir", &data, "--tenant", "mall-co"]);
    assert!(ok && list.contains("\tadmin\ttenant admin\tACTIVE\tall properties"), "{list}");
    // A weak password is refused before anything is created.
    let (ok, _, stderr) =
        voltledger(&["operator", "create", "--data-dir", &data, "--tenant", "mall-co", "--username", "li", "--password", "short"]);
    assert!(!ok && stderr.contains("password"), "{stderr}");
    let (ok, out, stderr) = voltledger(&[
        "operator",
        "create",
        "--data-dir",
        &data,
        "--tenant",
        "mall-co",
        "--username",
        "li",
        "--role",
        "viewer",
        "--password",
        "Dian-Biao 2026",
    ]);
    assert!(ok && out.contains("\tli\tviewer"), "{stderr}");
    let (ok, list, _) = voltledger(&["tenant", "list", "--data-dir", &data]);
    assert!(ok && list.contains("mall-co") && list.contains(&id));
    // The same slug twice is refused with a clear error.
    let (ok, _, stderr) = voltledger(&["tenant", "create", "--data-dir", &data, "--name", "Again", "--slug", "mall-co"]);
    assert!(!ok && stderr.contains("error"), "{stderr}");
    let (ok, csv, stderr) = voltledger(&["audit-export", "--data-dir", &data, "--tenant", "mall-co"]);
    assert!(ok && csv.starts_with("at,actor_kind,actor_id,actor_name,action"), "{stderr}");
    let (ok, _, stderr) = voltledger(&[
        "park-client",
        "create",
        "--data-dir",
        &data,
        "--tenant",
        "mall-co",
        "--name",
        "P",
        "--scope",
        "bills:write",
        "--property",
        &id,
    ]);
    assert!(!ok && stderr.contains("unknown scope"), "{stderr}");
    // The SaaS operator's token is an HS256 JWT of kind admin.
    let (ok, token, _) = voltledger(&["admin-token", "--data-dir", &data]);
    assert!(ok);
    let keys = server::api::auth::TokenKeys::new(std::fs::read_to_string(dir.join("jwt.secret")).unwrap().trim().as_bytes());
    assert_eq!(keys.verify(token.trim()).map(|c| c.kind), Some(server::api::auth::Kind::Admin));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tenant_suspend_and_reactivate_change_the_status_and_refuse_unknown_slugs() {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("voltledger-cli-suspend-{}-{nanos}", std::process::id()));
    let data = dir.to_string_lossy().to_string();
    let (ok, _, stderr) = voltledger(&["tenant", "create", "--data-dir", &data, "--name", "Park Co", "--slug", "park-co"]);
    assert!(ok, "{stderr}");
    let (ok, out, stderr) = voltledger(&["tenant", "suspend", "--data-dir", &data, "--slug", "park-co"]);
    assert!(ok && out.contains("SUSPENDED"), "{stderr}");
    let (_, list, _) = voltledger(&["tenant", "list", "--data-dir", &data]);
    assert!(list.contains("park-co\tSUSPENDED"), "{list}");
    let (ok, out, _) = voltledger(&["tenant", "reactivate", "--data-dir", &data, "--slug", "park-co"]);
    assert!(ok && out.contains("ACTIVE"));
    let (ok, _, stderr) = voltledger(&["tenant", "suspend", "--data-dir", &data, "--slug", "nobody"]);
    assert!(!ok && stderr.contains("nobody"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn temp_data(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    std::env::temp_dir().join(format!("voltledger-cli-{name}-{}-{nanos}", std::process::id()))
}

/// One HTTP request on a fresh connection; (status, body).
fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

/// A GraphQL request with a bearer token; the answer as JSON.
fn gql(port: u16, token: &str, query: &str, variables: serde_json::Value) -> serde_json::Value {
    use std::io::{Read, Write};
    let body = serde_json::json!({ "query": query, "variables": variables }).to_string();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let json = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// Stops the child when the test ends, however it ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The README's run command (with a smaller demo) brings up the API with the demo tenant and
/// its login; `simulate` then registers and runs a fleet against its embedded broker, and
/// `migrate` and `broker mosquitto-passwd` work on the same data directory.
#[test]
fn serve_runs_the_demo_and_simulate_drives_a_fleet_into_it() {
    use std::io::BufRead;
    let dir = temp_data("serve");
    let data = dir.to_string_lossy().to_string();
    let (http_port, mqtt_port) = (free_port(), free_port());
    let (ok, out, stderr) = voltledger(&["migrate", "--data-dir", &data]);
    assert!(ok && out.contains("migrations applied"), "{stderr}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_voltledger"))
        .args(["serve", "--data-dir", &data, "--http", &format!("127.0.0.1:{http_port}")])
        .args(["--mqtt-listen", &format!("127.0.0.1:{mqtt_port}"), "--demo-meters", "12", "--demo-interval", "2"])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let serving = Running(child);
    let mut banner = String::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        banner += &line;
        banner.push('\n');
        if line.starts_with("log in:") {
            break;
        }
    }
    assert!(banner.contains(&format!("VoltLedger listening on http://127.0.0.1:{http_port}/graphql")), "{banner}");
    let login = banner.lines().find_map(|l| l.strip_prefix("log in: POST /auth/login ")).expect("a login line").trim().to_string();
    let (status, body) = http(http_port, "POST", "/auth/login", &login);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("accessToken"), "{body}");
    assert_eq!(http(http_port, "GET", "/healthz", "").0, 200);

    // `simulate` against the running server's broker, same data directory (same KEK).
    let (ok, out, stderr) = voltledger(&[
        "simulate",
        "--data-dir",
        &data,
        "--meters",
        "8",
        "--gateways",
        "1",
        "--interval",
        "1",
        "--rounds",
        "12",
        "--tenant",
        "sim-cli",
        "--broker",
        &format!("mqtt://127.0.0.1:{mqtt_port}"),
    ]);
    assert!(ok, "simulate failed: {stderr}{out}");
    assert!(stderr.contains("simulating 8 meters"), "{stderr}");
    // `simulate-device` with the login `registerMeter` showed: a wrong password publishes
    // nothing the server keeps, the right one makes the meter's readings appear.
    let token = {
        let (status, body) = http(http_port, "POST", "/auth/login", &login);
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["accessToken"].as_str().unwrap().to_string()
    };
    let properties = gql(http_port, &token, "{ properties { id } }", serde_json::json!({}));
    let property = properties["data"]["properties"][0]["id"].as_str().expect("a demo property").to_string();
    let registered = gql(
        http_port,
        &token,
        "mutation($i: RegisterMeterInput!) { registerMeter(input: $i) { meter { id } credentials { username password brokerUrl } } }",
        serde_json::json!({ "i": { "propertyId": property, "address": "880000000017", "phases": 1, "linkType": "FOUR_G" } }),
    );
    let reg = &registered["data"]["registerMeter"];
    let meter_id = reg["meter"]["id"].as_str().unwrap_or_else(|| panic!("{registered}")).to_string();
    let (user, pass, broker) = (
        reg["credentials"]["username"].as_str().unwrap().to_string(),
        reg["credentials"]["password"].as_str().unwrap().to_string(),
        reg["credentials"]["brokerUrl"].as_str().unwrap().to_string(),
    );
    assert_eq!(broker, format!("mqtt://127.0.0.1:{mqtt_port}"));
    let seen = |port: u16| {
        let v = gql(
            port,
            &token,
            "query($id: ID!) { meter(id: $id) { lastSeenAt live { energyTotal } } }",
            serde_json::json!({ "id": meter_id }),
        );
        v["data"]["meter"]["live"]["energyTotal"].as_str().map(str::to_string)
    };
    let device = |password: &str| {
        voltledger(&[
            "simulate-device",
            "--broker",
            &broker,
            "--username",
            &user,
            "--password",
            password,
            "--meter",
            "880000000017",
            "--interval",
            "1",
            "--rounds",
            "3",
        ])
    };
    let (ok, _, stderr) = device("not-the-password");
    assert!(ok, "{stderr}");
    assert_eq!(seen(http_port), None, "a device with a wrong password got its readings in");
    let (ok, _, stderr) = device(&pass);
    assert!(ok && stderr.contains("simulating device"), "{stderr}");
    let mut energy = None;
    for _ in 0..40 {
        energy = seen(http_port);
        if energy.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert!(energy.is_some(), "the registered meter's readings did not appear");
    let (ok, _, stderr) = voltledger(&["simulate-device", "--username", &user, "--password", &pass, "--meter", "88000000001"]);
    assert!(!ok && stderr.contains("meter address 88000000001"), "a bad address is refused: {stderr}");

    let (ok, passwd, stderr) = voltledger(&["broker", "mosquitto-passwd", "--data-dir", &data]);
    assert!(ok && passwd.lines().count() >= 2, "{stderr}");
    drop(serving);
    // The fleet's readings reached the store through the server's broker and bridge.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let readings = rt.block_on(async {
        let store = server::store::Store::connect(&server::app::default_database_url(&dir)).await.unwrap();
        let t = store.platform().tenant_by_slug("sim-cli").await.unwrap().expect("simulate made its tenant");
        store.tenant(t.id).reading_count().await.unwrap()
    });
    assert!(readings > 0, "no reading of the simulated fleet was stored");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_decode_prints_its_figures() {
    let (ok, out, stderr) = voltledger(&["bench", "decode", "--frames", "20000"]);
    assert!(ok, "{stderr}");
    assert!(out.contains("million/s"), "{out}{stderr}");
}

/// The readings export and the forwarder benchmarks check their own output (every row, every
/// event, every signature) before they print: small runs here.
#[test]
fn bench_export_and_forward_check_their_output_and_print_beside_their_ceilings() {
    let (ok, out, stderr) = voltledger(&["bench", "export", "--meters", "20", "--readings", "10"]);
    assert!(ok, "{stderr}");
    assert!(out.contains("200 rows") && out.contains("ceiling, database side alone") && out.contains("peak resident"), "{out}{stderr}");
    let (ok, out, stderr) = voltledger(&["bench", "forward", "--meters", "20", "--readings", "5"]);
    assert!(ok, "{stderr}");
    assert!(out.contains("100 readings") && out.contains("ceiling, the receiver alone") && out.contains("events/s"), "{out}{stderr}");
}

/// `bench api --under-ingest` measures the API while the fleet publishes, and checks that
/// every reading published was stored before it prints.
#[test]
fn bench_api_under_ingest_prints_latency_beside_the_ingest_rate() {
    let (ok, out, stderr) =
        voltledger(&["bench", "api", "--meters", "20", "--requests", "20", "--concurrency", "2", "--under-ingest", "5"]);
    assert!(ok, "{stderr}");
    assert!(out.contains("under ingest (100 readings from 20 devices stored in") && out.contains("p99"), "{out}{stderr}");
}

/// `bench trip` measures its ceiling, then trips under a paced load on a fresh fleet, and
/// checks every phase's output (readings stored once, balances their entries' sum) first.
/// 48 readings are 12 hours of the meters' day (midnight to noon): the nearly empty accounts
/// (3 yuan) cross their limit once the morning's load and prices come, whatever the fleet.
#[test]
fn bench_trip_prints_trip_latency_under_load_beside_its_ceiling() {
    let (ok, out, stderr) = voltledger(&["bench", "trip", "--devices", "20", "--readings", "48", "--loads", "0.5"]);
    assert!(ok, "{stderr}");
    assert!(out.contains("ceiling: 960 readings from 20 devices"), "{out}{stderr}");
    assert!(out.contains("at 50 % of the ceiling") && out.contains("trips: n=") && out.contains("decided -> published"), "{out}{stderr}");
}

/// `bench serve` runs `voltledger serve` as a child on a provisioned fleet and reads its
/// memory and its pages (each answered with rows, or the run fails).
#[test]
fn bench_serve_prints_the_servers_memory_and_page_latency() {
    let (ok, out, stderr) = voltledger(&["bench", "serve", "--meters", "60", "--requests", "5", "--idle", "1"]);
    assert!(ok, "{stderr}");
    assert!(out.contains("serve (SQLite): 60 meters with prepaid accounts") && out.contains("resident"), "{out}{stderr}");
    assert!(out.contains("monitor page 1") && out.contains("accounts page 1") && out.contains("p99"), "{out}{stderr}");
}

/// `bench copy` follows the readings table as it is (it failed once the table grew). It needs
/// PostgreSQL and psql: it runs in the PostgreSQL pass of the test command.
#[test]
fn bench_copy_follows_the_readings_schema() {
    let Ok(url) = std::env::var("VOLTLEDGER_TEST_DATABASE_URL") else { return };
    if !url.starts_with("postgres") {
        return;
    }
    let (ok, out, stderr) = voltledger(&["bench", "copy", "--database-url", &url, "--rows", "5000"]);
    assert!(ok, "{stderr}");
    assert!(out.contains("5000 rows in"), "{out}");
}

#[test]
fn platform_operator_create_and_reset_password_print_once_and_refuse_what_is_wrong() {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("voltledger-cli-console-{}-{nanos}", std::process::id()));
    let data = dir.to_string_lossy().to_string();
    let (ok, out, stderr) = voltledger(&["platform-operator", "create", "--data-dir", &data, "--username", "ops"]);
    assert!(ok, "{stderr}");
    assert!(out.contains("\tops") && out.contains("password: "), "a generated password is printed once: {out}");
    let (ok, _, stderr) = voltledger(&["platform-operator", "create", "--data-dir", &data, "--username", "ops"]);
    assert!(!ok, "the name is taken: {stderr}");
    let (ok, _, stderr) = voltledger(&["platform-operator", "create", "--data-dir", &data, "--username", "weak", "--password", "short"]);
    assert!(!ok && !stderr.is_empty(), "a weak password is refused");
    let (ok, out, stderr) =
        voltledger(&["platform-operator", "reset-password", "--data-dir", &data, "--username", "ops", "--password", "Console-Pass-2026!"]);
    assert!(ok && out.contains("password reset for ops") && !out.contains("password: "), "{stderr}");
    let (ok, _, stderr) = voltledger(&["platform-operator", "reset-password", "--data-dir", &data, "--username", "nobody"]);
    assert!(!ok && stderr.contains("no platform operator nobody"), "{stderr}");
    let (ok, out, stderr) = voltledger(&["platform-operator", "disable", "--data-dir", &data, "--username", "OPS"]);
    assert!(ok && out.contains("DISABLED"), "names are one whatever their case: {out} {stderr}");
    let (ok, out, _) = voltledger(&["platform-operator", "enable", "--data-dir", &data, "--username", "ops"]);
    assert!(ok && out.contains("ACTIVE"), "{out}");
    let (ok, _, _) = voltledger(&["platform-operator", "create", "--data-dir", &data, "--username", "platform-admin"]);
    assert!(!ok, "the CLI token's name is reserved");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn production_refuses_to_start_on_unsafe_settings_and_lists_them() {
    let dir = std::env::temp_dir().join(format!("vl-cli-{}", std::process::id()));
    let (ok, _, stderr) =
        voltledger(&["serve", "--environment", "production", "--data-dir", dir.to_str().unwrap(), "--http", "127.0.0.1:0"]);
    assert!(!ok);
    for needle in ["refusing to start", "VOLTLEDGER__AUTH__JWT_SECRET", "VOLTLEDGER__SECURITY__KEK", "PUBLIC_URL", "--no-demo"] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    // Nothing was created: the refusal comes before the data directory is touched.
    assert!(!dir.join("jwt.secret").exists());
}

#[test]
fn a_config_file_key_that_names_no_setting_is_refused() {
    let file = std::env::temp_dir().join(format!("vl-cli-{}.toml", std::process::id()));
    std::fs::write(&file, "[databse]\nurl = \"postgres://db/v\"\n").unwrap();
    let (ok, _, stderr) = voltledger(&["--config", file.to_str().unwrap(), "frame", "decode", "68"]);
    assert!(!ok);
    assert!(stderr.contains("VOLTLEDGER__DATABSE__URL: no such setting"), "{stderr}");
    let _ = std::fs::remove_file(&file);
}

#[test]
fn layered_settings_reach_serve_and_secrets_stay_out_of_its_help() {
    let dir = std::env::temp_dir().join(format!("vl-cli-help-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = dir.join("jwt");
    std::fs::write(&secret, "a-secret-that-must-not-be-printed-0123\n").unwrap();
    let file = dir.join("voltledger.toml");
    std::fs::write(&file, format!("role = \"worker\"\nno_demo = true\n[auth]\njwt_secret_file = {:?}\n", secret.to_str().unwrap()))
        .unwrap();
    let (ok, stdout, stderr) = voltledger(&["--config", file.to_str().unwrap(), "serve", "--help"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("--role"), "{stdout}");
    assert!(!stdout.contains("a-secret-that-must-not-be-printed"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
