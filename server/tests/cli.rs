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
