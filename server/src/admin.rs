//! The binary's administration commands (tenants, operators, park clients, device logins)
//! and the codec tool; part of the `voltledger` binary (declared in main.rs), not the library.

use super::*;
use clap::Subcommand;

#[derive(Subcommand)]
pub(crate) enum PlatformOperatorCommand {
    /// Add a SaaS operator; prints a generated password once unless one is given.
    Create {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        username: String,
        #[arg(long, env = "VOLTLEDGER_OPERATOR_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Disable a SaaS operator: their console sessions end and they cannot sign in.
    Disable {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        username: String,
    },
    /// Enable a disabled SaaS operator again.
    Enable {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        username: String,
    },
    /// A new password; their console sessions end.
    ResetPassword {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        username: String,
        #[arg(long, env = "VOLTLEDGER_OPERATOR_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

pub(crate) async fn platform_operator(command: PlatformOperatorCommand) -> anyhow::Result<()> {
    let command_kind = match &command {
        PlatformOperatorCommand::Disable { .. } => "disable",
        _ => "other",
    };
    match command {
        PlatformOperatorCommand::Create { common, username, password } => {
            let store = common.store().await?;
            store.migrate().await?;
            let (password, generated) = password_or_generated(&username, password)?;
            let hash = server::api::auth::hash_password(&password).map_err(anyhow::Error::msg)?;
            let op =
                store.platform().create_operator(&username, &hash, chrono::Utc::now()).await.context("creating the platform operator")?;
            println!("platform operator {}\t{}", op.id, op.username);
            if generated {
                println!("password: {password}");
            }
        }
        PlatformOperatorCommand::Disable { common, username } | PlatformOperatorCommand::Enable { common, username } => {
            let status = if matches!(command_kind, "disable") { "DISABLED" } else { "ACTIVE" };
            let store = common.store().await?;
            if !store.platform().set_operator_status(&username, status, chrono::Utc::now()).await? {
                anyhow::bail!("no platform operator {username}");
            }
            println!("platform operator {username}: {status}");
        }
        PlatformOperatorCommand::ResetPassword { common, username, password } => {
            let store = common.store().await?;
            let (password, generated) = password_or_generated(&username, password)?;
            let hash = server::api::auth::hash_password(&password).map_err(anyhow::Error::msg)?;
            if !store.platform().set_operator_password(&username, &hash, chrono::Utc::now()).await? {
                anyhow::bail!("no platform operator {username}");
            }
            println!("password reset for {username}; their console sessions have ended");
            if generated {
                println!("password: {password}");
            }
        }
    }
    Ok(())
}

#[derive(Subcommand)]
pub(crate) enum TenantCommand {
    /// Create a tenant and print its id and an administrator token.
    Create {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        name: String,
        #[arg(long)]
        slug: String,
        #[arg(long, default_value = "Asia/Shanghai")]
        time_zone: String,
        /// The first administrator's login name.
        #[arg(long, default_value = "admin")]
        admin_username: String,
        /// Their password (checked against the policy); default: generated and printed once.
        #[arg(long, env = "VOLTLEDGER_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: Option<String>,
    },
    /// List tenants.
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Suspend a tenant: its tokens, devices and clients are refused until reactivated.
    Suspend {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        slug: String,
    },
    /// Reactivate a suspended tenant.
    Reactivate {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        slug: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum OperatorCommand {
    /// Add an operator with a built-in or custom role (every property).
    Create {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        /// Role name, e.g. "tenant admin", "finance", "operator", "viewer".
        #[arg(long, default_value = "tenant admin")]
        role: String,
        #[arg(long, env = "VOLTLEDGER_OPERATOR_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Set a new password and end the operator's sessions.
    ResetPassword {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        #[arg(long, env = "VOLTLEDGER_OPERATOR_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// List a tenant's operators.
    List {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum ParkClientCommand {
    /// Add a client; prints its client id and secret once.
    Create {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        /// bills:read and/or energy:read.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Property ids it may read.
        #[arg(long = "property", required = true)]
        properties: Vec<String>,
    },
    /// A new secret; tokens issued with the old one stop working.
    Rotate {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        id: String,
    },
    /// End a client for good.
    Revoke {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        id: String,
    },
    List {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum DeviceCommand {
    /// A new broker password for a 4G meter or a gateway (printed once).
    Rotate {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        tenant: String,
        #[arg(long, conflicts_with = "gateway", required_unless_present = "gateway")]
        meter: Option<String>,
        #[arg(long)]
        gateway: Option<String>,
    },
    /// End a device's broker login.
    Revoke {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        tenant: String,
        #[arg(long, conflicts_with = "gateway", required_unless_present = "gateway")]
        meter: Option<String>,
        #[arg(long)]
        gateway: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum EncodeCommand {
    /// Read request (0x11) for one data identifier.
    Read {
        #[arg(long)]
        address: String,
        /// DI3..DI0 as 8 hex digits, e.g. 00010000.
        #[arg(long)]
        di: String,
    },
    /// Remote control (0x1C): trip, allow_close, direct_close, alarm_on, alarm_off, hold_on, hold_off.
    Control {
        #[arg(long)]
        address: String,
        #[arg(long)]
        action: String,
        /// Deadline on the meter clock, "YYYY-MM-DD hh:mm:ss".
        #[arg(long)]
        deadline: String,
        #[arg(long, default_value_t = 2)]
        level: u8,
        #[arg(long, default_value_t = 123_456)]
        password: u32,
        #[arg(long, default_value = "00000000")]
        operator: String,
    },
    /// Broadcast time sync (0x08).
    Time {
        /// "YYYY-MM-DD hh:mm:ss".
        #[arg(long)]
        at: String,
    },
}

pub(crate) async fn park_client(command: ParkClientCommand) -> anyhow::Result<()> {
    let print = |c: &server::store::ParkClientRow| {
        let state = if c.revoked_at.is_some() { "REVOKED" } else { "ACTIVE" };
        println!("{}\t{}\t{}\t{}\t{}\t{}", c.id, c.client_id, c.name, c.scopes.join(" "), c.properties.join(","), state);
    };
    match command {
        ParkClientCommand::Create { common, tenant, name, scopes, properties } => {
            for s in &scopes {
                server::domain::access::ParkScope::parse(s).with_context(|| format!("unknown scope {s} (bills:read, energy:read)"))?;
            }
            let store = common.store().await?;
            let t = tenant_store(&store, tenant).await?;
            let (c, secret) = t.create_park_client(&name, &scopes, &properties).await.context("creating the client")?;
            print(&c);
            println!("client secret: {secret}");
        }
        ParkClientCommand::Rotate { common, tenant, id } => {
            let store = common.store().await?;
            let (c, secret) = tenant_store(&store, tenant).await?.rotate_park_client(&id).await.context("rotating the secret")?;
            print(&c);
            println!("client secret: {secret}");
        }
        ParkClientCommand::Revoke { common, tenant, id } => {
            let store = common.store().await?;
            print(&tenant_store(&store, tenant).await?.revoke_park_client(&id).await.context("revoking the client")?);
        }
        ParkClientCommand::List { common, tenant } => {
            let store = common.store().await?;
            for c in tenant_store(&store, tenant).await?.park_clients().await? {
                print(&c);
            }
        }
    }
    Ok(())
}

pub(crate) async fn device(command: DeviceCommand) -> anyhow::Result<()> {
    use server::store::DeviceOwner;
    let owner = |meter: Option<String>, gateway: Option<String>| match (meter, gateway) {
        (Some(m), _) => (DeviceOwner::Meter, m),
        (None, Some(g)) => (DeviceOwner::Gateway, g),
        (None, None) => (DeviceOwner::Meter, String::new()),
    };
    match command {
        DeviceCommand::Rotate { common, tenant, meter, gateway } => {
            let store = common.store().await?;
            let (o, id) = owner(meter, gateway);
            let c =
                tenant_store(&store, tenant).await?.rotate_device_credential(o, &id).await.context("no active login for that device")?;
            println!("username: {}\npassword: {}", c.username, c.password);
        }
        DeviceCommand::Revoke { common, tenant, meter, gateway } => {
            let store = common.store().await?;
            let (o, id) = owner(meter, gateway);
            tenant_store(&store, tenant).await?.revoke_device_credential(o, &id).await.context("no active login for that device")?;
            println!("revoked");
        }
    }
    Ok(())
}

pub(crate) async fn operator(command: OperatorCommand) -> anyhow::Result<()> {
    match command {
        OperatorCommand::Create { common, tenant, username, role, password } => {
            let store = common.store().await?;
            store.migrate().await?;
            let t = tenant_store(&store, tenant).await?;
            t.ensure_builtin_roles().await?;
            let role = t.roles().await?.into_iter().find(|r| r.name == role).with_context(|| format!("no role {role}"))?;
            let (password, generated) = password_or_generated(&username, password)?;
            let hash = server::api::auth::hash_password(&password).map_err(anyhow::Error::msg)?;
            let new = server::store::NewOperator {
                username: username.clone(),
                display_name: String::new(),
                password_hash: hash,
                role_id: role.id,
                properties: None,
            };
            let op = t.create_operator(&new).await.context("creating the operator")?;
            println!("operator {}\t{}\t{}", op.id, op.username, op.role.name);
            if generated {
                println!("password: {password}");
            }
        }
        OperatorCommand::ResetPassword { common, tenant, username, password } => {
            let store = common.store().await?;
            let t = tenant_store(&store, tenant).await?;
            let login = t.operator_login(&username).await?.with_context(|| format!("no operator {username}"))?;
            let (password, generated) = password_or_generated(&username, password)?;
            let hash = server::api::auth::hash_password(&password).map_err(anyhow::Error::msg)?;
            t.set_operator_password(&login.id, &hash, None).await?;
            println!("password reset for {username}; their sessions have ended");
            if generated {
                println!("password: {password}");
            }
        }
        OperatorCommand::List { common, tenant } => {
            let store = common.store().await?;
            let t = tenant_store(&store, tenant).await?;
            for o in t.operators().await? {
                let scope = o.properties.map(|p| p.join(",")).unwrap_or_else(|| "all properties".into());
                println!("{}\t{}\t{}\t{}\t{}", o.id, o.username, o.role.name, o.status, scope);
            }
        }
    }
    Ok(())
}
