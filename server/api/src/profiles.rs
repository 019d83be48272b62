//! GraphQL for device profiles (issue 20, docs/DEVICES.md): the meter models a tenant's meters
//! are read and commanded by — the built-in ones and the tenant's own — a meter's profile, and
//! what a meter lacks.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::graphql::{Res, err, tenant};
use domain::Invalid;
use domain::ids::MeterId;
use domain::profile::{CommandScheme, parse_operator, parse_password, parse_reads};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CommandSchemeKind {
    /// VoltLedger's sealed profile: 3DES under the meter's diversified key (docs/CONTROL.md).
    #[graphql(name = "VL3DES_1")]
    Vl3des1,
    /// DL/T 645-2007 0x1C in the clear, with a password level, password and operator code.
    #[graphql(name = "DLT645_PLAIN")]
    Dlt645Plain,
    /// A Modbus-RTU meter behind a serial server: reads and relay writes from its register map.
    #[graphql(name = "MODBUS")]
    Modbus,
    /// A vendor's 4G device publishing JSON (F43): readings and commands through its JSON map.
    #[graphql(name = "VENDOR_JSON")]
    VendorJson,
}

/// A meter model's profile (设备档案).
#[derive(SimpleObject)]
pub struct DeviceProfile {
    pub id: ID,
    pub name: String,
    /// The data identifiers a read asks for, in order (hex, `0001FF00`).
    pub reads: Vec<String>,
    pub scheme: CommandSchemeKind,
    /// The plain scheme's password level (PA, e.g. 2 or 4).
    pub password_level: Option<i32>,
    /// The plain scheme's operator code (C0..C3, hex).
    pub operator_code: Option<String>,
    /// Whether a password is kept (never shown).
    pub has_password: bool,
    /// MODBUS: the register map (JSON: `reads`, `trip`, `close`; docs/DEVICES.md).
    pub register_map: Option<String>,
    /// VENDOR_JSON: the JSON map (`time`, `meter`, `values`, `trip`, `close`, `read`).
    pub json_map: Option<String>,
    /// Shipped with the platform (not editable).
    pub builtin: bool,
    pub created_at: Option<DateTime<Utc>>,
}

impl From<store::ProfileRow> for DeviceProfile {
    fn from(r: store::ProfileRow) -> Self {
        let (scheme, level, operator) = match r.profile.scheme {
            CommandScheme::Sealed => (CommandSchemeKind::Vl3des1, None, None),
            CommandScheme::Plain { level, operator } => {
                (CommandSchemeKind::Dlt645Plain, Some(i32::from(level)), Some(format!("{operator:08X}")))
            }
            CommandScheme::Modbus => (CommandSchemeKind::Modbus, None, None),
            CommandScheme::VendorJson => (CommandSchemeKind::VendorJson, None, None),
        };
        Self {
            id: ID(r.profile.id),
            name: r.profile.name,
            reads: r.profile.reads.iter().map(|d| d.to_string()).collect(),
            scheme,
            password_level: level,
            operator_code: operator,
            has_password: r.has_password,
            register_map: r.profile.map.as_ref().and_then(|m| serde_json::to_string_pretty(m).ok()),
            json_map: r.profile.json.as_ref().and_then(|m| serde_json::to_string_pretty(m).ok()),
            builtin: r.profile.builtin,
            created_at: r.created_at,
        }
    }
}

/// An identifier a meter answered "no requested data" for: its reads ask for the parts.
#[derive(SimpleObject)]
pub struct MeterLack {
    pub di: String,
    pub reason: String,
    pub learned_at: DateTime<Utc>,
}

#[derive(InputObject)]
pub struct CreateDeviceProfileInput {
    pub name: String,
    /// Hex data identifiers in the order a read asks for them, separated by commas or spaces
    /// (MODBUS: left empty, the map's items are read).
    #[graphql(default)]
    pub reads: String,
    pub scheme: CommandSchemeKind,
    /// DLT645_PLAIN: the password level (0–9; 2 and 4 are usual).
    pub password_level: Option<i32>,
    /// DLT645_PLAIN: six digits, kept wrapped, never shown again.
    pub password: Option<String>,
    /// DLT645_PLAIN: the operator code, up to 8 hex digits.
    pub operator_code: Option<String>,
    /// MODBUS: the register map as JSON — `{"reads": [{"di": "00010000", "function": 3,
    /// "register": "0x0000", "format": "U32", "decimals": 2}, …], "trip": {"function": 5,
    /// "register": 0, "value": "0xFF00"}, "close": {…}}`.
    pub register_map: Option<String>,
    /// VENDOR_JSON: the JSON map — `{"time": {"field": "time", "format": "%Y-%m-%d
    /// %H:%M:%S"}, "values": [{"field": "EPI", "di": "00010000"}, …], "trip": "{…}",
    /// "close": "{…}", "read": "{…}"}`.
    pub json_map: Option<String>,
}

#[derive(Default)]
pub struct ProfileQuery;

#[Object]
impl ProfileQuery {
    /// The meter models (设备档案): built-in first, then the tenant's own.
    async fn device_profiles(&self, ctx: &Context<'_>) -> Res<Vec<DeviceProfile>> {
        Ok(tenant(ctx)?.device_profiles().await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    /// A meter's profile id and what it lacks.
    async fn meter_profile(&self, ctx: &Context<'_>, meter_id: ID) -> Res<MeterProfile> {
        meter_profile_of(ctx, meter_id).await
    }

    /// A meter's own daily freezes (read back from the meter: add `05060001 05060101` to its
    /// profile's reads) in `[from, to)`, newest first, each beside the platform's own daily
    /// freeze of the same instant. Bills take the meter's freeze at a period boundary when
    /// there is one. Register values as the meter keeps them (before PT/CT ratios).
    async fn meter_freezes(&self, ctx: &Context<'_>, meter_id: ID, from: DateTime<Utc>, to: DateTime<Utc>) -> Res<Vec<MeterFreezeLine>> {
        let t = tenant(ctx)?;
        let Some(meter) = MeterId::parse(meter_id.as_str()) else { return Err(err(super::ApiError::NotFound)) };
        t.require("meters", meter.as_str()).await.map_err(err)?;
        if to <= from || to - from > chrono::Duration::days(400) {
            return Err(err(Invalid::new("to", "after from, at most 400 days")));
        }
        let rows = t.meter_freezes(meter.as_str(), from, to).await.map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|f| {
                let [total, t1, t2, t3, t4] = f.meter;
                let platform_total = f.platform.and_then(|p| p[0]);
                MeterFreezeLine {
                    frozen_at: f.frozen_at,
                    total: total.unwrap_or_default(),
                    tariffs: vec![t1, t2, t3, t4],
                    platform_total,
                    platform_read_at: f.platform_read_at,
                    difference: platform_total.zip(total).map(|(p, m)| m - p),
                }
            })
            .collect())
    }
}

/// A meter's own daily freeze beside the platform's (冻结数据对比).
#[derive(SimpleObject)]
pub struct MeterFreezeLine {
    pub frozen_at: DateTime<Utc>,
    /// kWh, the meter's frozen forward active energy total.
    pub total: rust_decimal::Decimal,
    /// kWh, the tariffs (sharp, peak, flat, valley) as frozen; null where the meter keeps none.
    pub tariffs: Vec<Option<rust_decimal::Decimal>>,
    /// kWh, the platform's own daily freeze of the same instant (its last reading before).
    pub platform_total: Option<rust_decimal::Decimal>,
    pub platform_read_at: Option<DateTime<Utc>>,
    /// Meter minus platform, kWh: the energy between the platform's last reading and the
    /// boundary (what a bill gains by the meter's own freeze).
    pub difference: Option<rust_decimal::Decimal>,
}

async fn meter_profile_of(ctx: &Context<'_>, meter_id: ID) -> Res<MeterProfile> {
    {
        let t = tenant(ctx)?;
        let Some(meter) = MeterId::parse(meter_id.as_str()) else { return Err(err(super::ApiError::NotFound)) };
        t.require("meters", meter.as_str()).await.map_err(err)?;
        let profile_id = t.meter_profile_id(meter.as_str()).await.map_err(err)?;
        let lacks = t.meter_lacks(meter.as_str()).await.map_err(err)?;
        Ok(MeterProfile {
            meter_id,
            profile_id: ID(profile_id),
            lacks: lacks.into_iter().map(|l| MeterLack { di: l.di, reason: l.reason, learned_at: l.learned_at }).collect(),
        })
    }
}

#[derive(SimpleObject)]
pub struct MeterProfile {
    pub meter_id: ID,
    pub profile_id: ID,
    pub lacks: Vec<MeterLack>,
}

#[derive(Default)]
pub struct ProfileMutation;

#[Object]
impl ProfileMutation {
    /// A meter model of the tenant's own.
    async fn create_device_profile(&self, ctx: &Context<'_>, input: CreateDeviceProfileInput) -> Res<DeviceProfile> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(err(Invalid::new("name", "1 to 100 characters")));
        }
        if input.scheme != CommandSchemeKind::Modbus && input.register_map.is_some() {
            return Err(err(Invalid::new("registerMap", "only a MODBUS profile has a register map")));
        }
        if input.scheme != CommandSchemeKind::VendorJson && input.json_map.is_some() {
            return Err(err(Invalid::new("jsonMap", "only a VENDOR_JSON profile has a JSON map")));
        }
        let mapped = matches!(input.scheme, CommandSchemeKind::Modbus | CommandSchemeKind::VendorJson);
        if mapped && input.password.is_some() {
            return Err(err(Invalid::new("password", "a mapped profile takes no password")));
        }
        let (mut map, mut json) = (None, None);
        let (scheme, password) = match input.scheme {
            CommandSchemeKind::Modbus => {
                map = Some(domain::register_map::parse(input.register_map.as_deref().unwrap_or("")).map_err(err)?);
                (CommandScheme::Modbus, None)
            }
            CommandSchemeKind::VendorJson => {
                json = Some(domain::vendor_json::parse(input.json_map.as_deref().unwrap_or("")).map_err(err)?);
                (CommandScheme::VendorJson, None)
            }
            CommandSchemeKind::Vl3des1 => {
                if input.password.is_some() {
                    return Err(err(Invalid::new("password", "the sealed scheme takes no password (its keys are the tenant's)")));
                }
                (CommandScheme::Sealed, None)
            }
            CommandSchemeKind::Dlt645Plain => {
                let level = input.password_level.unwrap_or(2);
                if !(0..=9).contains(&level) {
                    return Err(err(Invalid::new("passwordLevel", "0 to 9")));
                }
                let password = parse_password(input.password.as_deref().unwrap_or("")).map_err(err)?;
                let operator = parse_operator(input.operator_code.as_deref().unwrap_or("")).map_err(err)?;
                (CommandScheme::Plain { level: level as u8, operator }, Some(password))
            }
        };
        let reads = match (&map, &json) {
            (Some(m), _) => m.items(),
            (_, Some(j)) => j.items(),
            _ => parse_reads(&input.reads).map_err(err)?,
        };
        let profile =
            domain::profile::DeviceProfile { id: String::new(), name: name.to_string(), reads, scheme, map, json, builtin: false };
        Ok(tenant(ctx)?.create_device_profile(&profile, password).await.map_err(err)?.into())
    }

    /// Retires a profile of the tenant's own; its meters go back to the default.
    async fn retire_device_profile(&self, ctx: &Context<'_>, id: ID) -> Res<bool> {
        tenant(ctx)?.retire_device_profile(id.as_str()).await.map_err(err)?;
        Ok(true)
    }

    /// Gives a meter a profile (built-in or the tenant's).
    async fn set_meter_profile(&self, ctx: &Context<'_>, meter_id: ID, profile_id: ID) -> Res<MeterProfile> {
        let t = tenant(ctx)?;
        let Some(meter) = MeterId::parse(meter_id.as_str()) else { return Err(err(super::ApiError::NotFound)) };
        t.set_meter_profile(&meter, profile_id.as_str()).await.map_err(err)?;
        meter_profile_of(ctx, meter_id).await
    }

    /// Forgets what a meter lacks (after a firmware change): its next read asks for everything
    /// its profile lists. Returns how many were forgotten.
    async fn forget_meter_lacks(&self, ctx: &Context<'_>, meter_id: ID) -> Res<i64> {
        let Some(meter) = MeterId::parse(meter_id.as_str()) else { return Err(err(super::ApiError::NotFound)) };
        Ok(tenant(ctx)?.forget_meter_lacks(&meter).await.map_err(err)? as i64)
    }
}
