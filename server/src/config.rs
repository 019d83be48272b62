//! Configuration layers (issue 21), lowest first: a setting's default, a TOML file
//! (`--config` or `VOLTLEDGER_CONFIG`), a secret's `*_FILE`, the environment, the command
//! line. The file and the `*_FILE` contents become the arguments' defaults, so whatever the
//! environment or the command line says still wins; nothing writes to the environment.
//!
//! The file's nested tables name the variables: `[database] url = "…"` is
//! `VOLTLEDGER__DATABASE__URL`, a top-level `role = "api"` is `VOLTLEDGER__ROLE`; lists are
//! joined with commas. A key that names no setting is refused (a typo must not pass
//! silently).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// Settings that hold secrets: each may also be given as the path of a file holding it,
/// `{NAME}_FILE` (container secrets, systemd credentials). The file's content, trailing
/// newline trimmed, is the value.
pub const SECRETS: &[&str] = &[
    "VOLTLEDGER__DATABASE__URL",
    "VOLTLEDGER__AUTH__JWT_SECRET",
    "VOLTLEDGER__SECURITY__KEK",
    "VOLTLEDGER__SECURITY__INTERNAL_TOKEN",
    "VOLTLEDGER__MQTT__BRIDGE_PASSWORD",
    "VOLTLEDGER__REDIS__URL",
    "VOLTLEDGER__MAIL__URL",
];

/// The file's settings as variable names and values.
pub fn flatten(text: &str) -> anyhow::Result<BTreeMap<String, String>> {
    // The parser's message quotes the offending line, which may hold a secret: only where.
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let at = e.span().map(|r| text.get(..r.start).unwrap_or_default().lines().count().max(1));
        match at {
            Some(line) => anyhow::anyhow!("the config file is not valid TOML (line {line})"),
            None => anyhow::anyhow!("the config file is not valid TOML"),
        }
    })?;
    let mut out = BTreeMap::new();
    walk("VOLTLEDGER", &table, &mut out)?;
    Ok(out)
}

fn walk(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, String>) -> anyhow::Result<()> {
    for (key, value) in table {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            bail!("config key {key:?}: letters, digits and _ only");
        }
        let name = format!("{prefix}__{}", key.to_ascii_uppercase());
        let text = match value {
            toml::Value::Table(t) => {
                walk(&name, t, out)?;
                continue;
            }
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    toml::Value::String(s) => Ok(s.clone()),
                    toml::Value::Integer(i) => Ok(i.to_string()),
                    _ => bail!("{name}: a list of strings or numbers only"),
                })
                .collect::<anyhow::Result<Vec<_>>>()?
                .join(","),
            toml::Value::Datetime(d) => d.to_string(),
        };
        out.insert(name, text);
    }
    Ok(())
}

/// Reads a secret's file.
fn read_secret(name: &str, path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{name}_FILE: reading {}", path.display()))?;
    let value = text.trim_end_matches(['\n', '\r']).to_string();
    if value.is_empty() {
        bail!("{name}_FILE: {} is empty", path.display());
    }
    Ok(value)
}

/// The defaults the layers give, by variable name: the file's settings, then the secrets
/// read from `*_FILE` (given in the environment or in the file). `env` answers what the
/// environment holds.
pub fn layer(file: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<BTreeMap<String, String>> {
    let mut layer = match file {
        Some(path) => flatten(&std::fs::read_to_string(path).with_context(|| format!("reading the config file {}", path.display()))?)
            .with_context(|| format!("in {}", path.display()))?,
        None => BTreeMap::new(),
    };
    for name in SECRETS {
        let file_var = format!("{name}_FILE");
        let path = env(&file_var).or_else(|| layer.remove(&file_var));
        if let Some(path) = path {
            if env(name).is_some() {
                bail!("both {name} and {file_var} are set: keep one");
            }
            layer.insert((*name).to_string(), read_secret(name, Path::new(&path))?);
        }
    }
    Ok(layer)
}

/// Parses the command line with the layers under it. A layered setting that no argument
/// takes is refused.
pub fn layered<C: clap::Parser>(args: Vec<OsString>) -> anyhow::Result<C> {
    let file = config_path(&args).or_else(|| std::env::var_os("VOLTLEDGER_CONFIG").map(PathBuf::from));
    let env = |k: &str| std::env::var(k).ok();
    let layer = layer(file.as_deref(), &env)?;
    let mut command = C::command();
    let mut used = std::collections::BTreeSet::new();
    command = with_defaults(command, &layer, &env, &mut used);
    if let Some(unknown) = layer.keys().find(|k| !used.contains(*k)) {
        bail!("{unknown}: no such setting (check the config file's keys)");
    }
    let matches = command.try_get_matches_from(args).unwrap_or_else(|e| e.exit());
    C::from_arg_matches(&matches).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Gives each argument whose variable is layered (and not in the environment) the layer's
/// value as its default, in every subcommand.
fn with_defaults(
    mut command: clap::Command,
    layer: &BTreeMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
    used: &mut std::collections::BTreeSet<String>,
) -> clap::Command {
    let ids: Vec<(clap::Id, String)> =
        command.get_arguments().filter_map(|a| a.get_env().and_then(|e| e.to_str()).map(|e| (a.get_id().clone(), e.to_string()))).collect();
    for (id, var) in ids {
        if let Some(value) = layer.get(&var) {
            used.insert(var.clone());
            if env(&var).is_none() {
                // Parsed once at start-up: the few strings leaked live as long as the process.
                let value: &'static str = Box::leak(value.clone().into_boxed_str());
                // Hidden in --help: a layered value may be a secret (flags show no value).
                command = command.mut_arg(id, |a| {
                    let takes_value = matches!(a.get_action(), clap::ArgAction::Set | clap::ArgAction::Append);
                    a.default_value(value).hide_default_value(takes_value).required(false)
                });
            }
        }
    }
    let names: Vec<String> = command.get_subcommands().map(|c| c.get_name().to_string()).collect();
    for name in names {
        let sub = command.find_subcommand(&name).cloned();
        if let Some(sub) = sub {
            let sub = with_defaults(sub, layer, env, used);
            command = command.mut_subcommand(name, |_| sub);
        }
    }
    command
}

fn config_path(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let Some(a) = a.to_str() else { continue };
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(p) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(p));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn nested_tables_name_the_variables() {
        let got = flatten("role = \"api\"\n[database]\nurl = \"postgres://db/v\"\n[security]\ntrusted_proxies = [\"10.0.0.1\", \"10.0.0.2\"]\nrequests_per_minute = 600\n[shutdown]\ngrace_seconds = 15\n").unwrap();
        assert_eq!(got["VOLTLEDGER__ROLE"], "api");
        assert_eq!(got["VOLTLEDGER__DATABASE__URL"], "postgres://db/v");
        assert_eq!(got["VOLTLEDGER__SECURITY__TRUSTED_PROXIES"], "10.0.0.1,10.0.0.2");
        assert_eq!(got["VOLTLEDGER__SECURITY__REQUESTS_PER_MINUTE"], "600");
        assert_eq!(got["VOLTLEDGER__SHUTDOWN__GRACE_SECONDS"], "15");
        assert!(flatten("[a]\n\"b c\" = 1").is_err(), "a key with a space");
        assert!(flatten("x = [{ a = 1 }]").is_err(), "a list of tables");
        assert!(flatten("not toml =").is_err());
    }

    #[test]
    fn secrets_come_from_files_and_the_environment_wins_over_both() {
        let dir = std::env::temp_dir().join(format!("vl-config-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let secret = dir.join("jwt");
        std::fs::write(&secret, "s3cret-from-a-file-0123456789abcdef\n").unwrap();
        let file = dir.join("voltledger.toml");
        std::fs::write(&file, format!("[auth]\njwt_secret_file = {:?}\n[http]\nlisten = \"0.0.0.0:8080\"\n", secret.display().to_string()))
            .unwrap();
        let none = |_: &str| None;
        let got = layer(Some(&file), &none).unwrap();
        assert_eq!(got["VOLTLEDGER__AUTH__JWT_SECRET"], "s3cret-from-a-file-0123456789abcdef", "newline trimmed");
        assert_eq!(got["VOLTLEDGER__HTTP__LISTEN"], "0.0.0.0:8080");
        assert!(!got.contains_key("VOLTLEDGER__AUTH__JWT_SECRET_FILE"));
        // In the environment: the file variable alone works, both at once are refused.
        let path = secret.display().to_string();
        let env_file = |k: &str| (k == "VOLTLEDGER__SECURITY__KEK_FILE").then(|| path.clone());
        assert_eq!(layer(None, &env_file).unwrap()["VOLTLEDGER__SECURITY__KEK"], "s3cret-from-a-file-0123456789abcdef");
        let both = |k: &str| match k {
            "VOLTLEDGER__SECURITY__KEK_FILE" => Some(path.clone()),
            "VOLTLEDGER__SECURITY__KEK" => Some("x".into()),
            _ => None,
        };
        assert!(layer(None, &both).unwrap_err().to_string().contains("both"));
        // A missing or empty secret file is an error, not an empty secret.
        let missing = |k: &str| (k == "VOLTLEDGER__AUTH__JWT_SECRET_FILE").then(|| "/nonexistent/jwt".to_string());
        assert!(layer(None, &missing).is_err());
        std::fs::write(&secret, "\n").unwrap();
        assert!(layer(Some(&file), &none).unwrap_err().to_string().contains("empty"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
