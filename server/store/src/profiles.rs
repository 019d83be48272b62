//! Device profiles and reads confirmed by their answers (issue 20).
//!
//! A tenant's profiles (`device_profiles`, beside the built-in ones of `domain::profile`), a
//! meter's profile, what a meter lacks (`meter_lacks`), the read plan a READ command asks
//! for, the relay scheme a meter takes, and the answers: a read is `CONFIRMED` when every
//! identifier it asked for was answered (the items the meter refused named in its reason;
//! `FAILED` when it refused them all) — and an identifier refused as "no requested data" is
//! learned as lacking, its parts read at once by a follow-up READ. A time sync is confirmed only by a valid meter clock
//! within 30 s of its arrival.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use dlt645::Di;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use super::sql::{Args, stmt};
use super::{Result, StoreError, TenantStore};
use domain::profile::{CommandScheme, DEFAULT_PROFILE, DeviceProfile};

/// A profile as the API shows it.
#[derive(Debug, Clone)]
pub struct ProfileRow {
    pub profile: DeviceProfile,
    pub has_password: bool,
    pub created_at: Option<DateTime<Utc>>,
}

/// What a meter lacks.
#[derive(Debug, Clone)]
pub struct Lack {
    pub di: String,
    pub reason: String,
    pub learned_at: DateTime<Utc>,
}

/// The relay scheme a meter takes, with the plain scheme's password opened.
#[derive(Debug, Clone)]
pub enum RelayScheme {
    Sealed,
    Plain {
        level: u8,
        password: u32,
        operator: u32,
    },
    /// A plain profile without a password (the built-in standard one): commands cannot be sent.
    NoPassword(String),
    /// A Modbus-RTU or vendor JSON meter: switched through its profile's map (the dispatcher
    /// reads it from the profile).
    Mapped(String),
}

/// One answer of a meter to a read (see [`PlatformStore::read_answered`](super::PlatformStore::read_answered)).
#[derive(Debug, Clone, Copy)]
pub struct ReadAnswer<'a> {
    /// The identifier a normal reply carries.
    pub di: Option<Di>,
    /// An abnormal reply's ERR bits.
    pub refused: Option<&'a [&'a str]>,
    /// The meter's clock when the same publish carried a valid one.
    pub clock: Option<NaiveDateTime>,
}

/// How far a meter's clock may be from the platform's after a time sync.
pub const CLOCK_TOLERANCE_S: i64 = 30;

fn reads_text(reads: &[Di]) -> String {
    reads.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(",")
}

fn reads_of(text: &str) -> Vec<Di> {
    text.split(',').filter_map(Di::parse).collect()
}

fn profile_row(r: &sea_orm::QueryResult) -> Result<ProfileRow> {
    let scheme: String = r.try_get("", "scheme")?;
    let scheme = match scheme.as_str() {
        "DLT645-PLAIN" => CommandScheme::Plain {
            level: super::registry::int(r, "password_level")? as u8,
            operator: super::registry::int(r, "operator_code")? as u32,
        },
        "MODBUS" => CommandScheme::Modbus,
        "VENDOR-JSON" => CommandScheme::VendorJson,
        _ => CommandScheme::Sealed,
    };
    let json_text: String = r.try_get("", "json_map")?;
    let json = if json_text.is_empty() {
        None
    } else {
        Some(serde_json::from_str(&json_text).map_err(|e| StoreError::Database(format!("a stored JSON map: {e}")))?)
    };
    let map_text: String = r.try_get("", "register_map")?;
    let map = if map_text.is_empty() {
        None
    } else {
        Some(serde_json::from_str(&map_text).map_err(|e| StoreError::Database(format!("a stored register map: {e}")))?)
    };
    Ok(ProfileRow {
        profile: DeviceProfile {
            id: r.try_get("", "id")?,
            name: r.try_get("", "name")?,
            reads: reads_of(&r.try_get::<String>("", "reads")?),
            scheme,
            map,
            json,
            builtin: false,
        },
        has_password: !r.try_get::<String>("", "wrapped_password")?.is_empty(),
        created_at: Some(r.try_get("", "created_at")?),
    })
}

const COLS: &str = "id, name, reads, scheme, password_level, operator_code, wrapped_password, register_map, json_map, created_at";

impl TenantStore {
    /// The built-in profiles, then the tenant's live ones by name.
    pub async fn device_profiles(&self) -> Result<Vec<ProfileRow>> {
        let mut out: Vec<ProfileRow> =
            domain::profile::builtins().into_iter().map(|p| ProfileRow { profile: p, has_password: false, created_at: None }).collect();
        let sql = format!("SELECT {COLS} FROM device_profiles WHERE tenant_id = $1 AND retired_at IS NULL ORDER BY name, id");
        for r in self.db().query_all_raw(stmt(self.backend(), &sql, self.args())).await? {
            out.push(profile_row(&r)?);
        }
        Ok(out)
    }

    /// A new profile (its id is made here); the plain scheme's password is kept wrapped with
    /// the KEK. A Modbus-RTU or vendor JSON profile reads its map's items.
    pub async fn create_device_profile(&self, p: &DeviceProfile, password: Option<u32>) -> Result<ProfileRow> {
        let id = uuid::Uuid::new_v4().to_string();
        let wrapped = match password {
            Some(p) => self.store.kek()?.wrap(&format!("{}/profile/{id}", self.tenant), format!("{p:06}").as_bytes())?,
            None => String::new(),
        };
        let (level, operator) = match &p.scheme {
            CommandScheme::Plain { level, operator } => (i64::from(*level), i64::from(*operator)),
            _ => (2, 0),
        };
        let json = |v: Option<String>| v.unwrap_or_default();
        let map_text = json(p.map.as_ref().and_then(|m| serde_json::to_string(m).ok()));
        let json_text = json(p.json.as_ref().and_then(|m| serde_json::to_string(m).ok()));
        let reads = match (&p.map, &p.json) {
            (Some(m), _) => m.items(),
            (_, Some(j)) => j.items(),
            _ => p.reads.clone(),
        };
        let sql = "INSERT INTO device_profiles (tenant_id, id, name, reads, scheme, password_level, operator_code, wrapped_password, register_map, json_map, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
        let args = self
            .args()
            .s(&id)
            .s(&p.name)
            .s(reads_text(&reads))
            .s(p.scheme.code())
            .i(level)
            .i(operator)
            .s(wrapped)
            .s(map_text)
            .s(json_text)
            .t(Utc::now());
        self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        self.device_profiles().await?.into_iter().find(|p| p.profile.id == id).ok_or(StoreError::NotFound)
    }

    /// Retires a profile of the tenant's own; its meters go back to the default profile.
    pub async fn retire_device_profile(&self, id: &str) -> Result<()> {
        let b = self.backend();
        let sql = "UPDATE device_profiles SET retired_at = $3 WHERE tenant_id = $1 AND id = $2 AND retired_at IS NULL";
        if self.db().execute_raw(stmt(b, sql, self.args().s(id).t(Utc::now()))).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let sql = "UPDATE meters SET profile_id = NULL WHERE tenant_id = $1 AND profile_id = $2";
        self.db().execute_raw(stmt(b, sql, self.args().s(id))).await?;
        Ok(())
    }

    /// Gives a meter (in scope) a profile: a built-in one or one of the tenant's.
    pub async fn set_meter_profile(&self, meter: &domain::ids::MeterId, profile: &str) -> Result<()> {
        let b = self.backend();
        self.require("meters", meter.as_str()).await?;
        let chosen = self.device_profiles().await?.into_iter().find(|p| p.profile.id == profile);
        let Some(chosen) = chosen else {
            return Err(StoreError::Invalid(domain::Invalid::new("profileId", "no such profile")));
        };
        let sql = "SELECT address, link_type, gateway_id FROM meters WHERE tenant_id = $1 AND id = $2";
        let r = self.db().query_one_raw(stmt(b, sql, self.args().s(meter.as_str()))).await?.ok_or(StoreError::NotFound)?;
        let link: String = r.try_get("", "link_type")?;
        let behind_gateway = r.try_get::<Option<String>>("", "gateway_id")?.is_some();
        let refuse = |m: &str| Err(StoreError::Invalid(domain::Invalid::new("profileId", m.to_string())));
        // A map's messages go to the device the meter is reached through: a vendor's JSON to a
        // 4G meter's own login only, a Modbus job to a serial server's bus only.
        if chosen.profile.scheme == CommandScheme::VendorJson && (link != "FOUR_G" || behind_gateway) {
            return refuse("a vendor JSON profile is for a FOUR_G meter with its own login");
        }
        if chosen.profile.scheme == CommandScheme::Modbus && (link != "SERIAL" || !behind_gateway) {
            return refuse("a Modbus-RTU profile is for a SERIAL meter behind its serial server (gateway)");
        }
        if chosen.profile.scheme == CommandScheme::Modbus {
            // A Modbus meter's registered address is its unit id on the bus.
            let address: String = r.try_get("", "address")?;
            let n = dlt645::Address::parse(&address).ok().and_then(|a| a.as_u64()).unwrap_or(0);
            domain::register_map::unit_of(n)
                .map_err(|e| StoreError::Invalid(domain::Invalid::new("profileId", format!("a Modbus-RTU profile: {}", e.message))))?;
        }
        let stored = if profile == DEFAULT_PROFILE { None } else { Some(profile) };
        let mut args = self.args().s(meter.as_str());
        let scope = self.scope_clause("property_id", &mut args);
        let sql = format!(
            "UPDATE meters SET profile_id = ${} WHERE tenant_id = $1 AND id = $2{scope}",
            args.push(stored.map(str::to_string).into())
        );
        if self.db().execute_raw(stmt(b, &sql, args)).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        // A vendor JSON device's messages are read through its profile's map: the bridge's
        // cache learns the change now.
        self.store.reload_caches().await?;
        Ok(())
    }

    /// A meter's profile id (the default when it has none).
    pub async fn meter_profile_id(&self, meter: &str) -> Result<String> {
        let sql = "SELECT profile_id FROM meters WHERE tenant_id = $1 AND id = $2";
        let r = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(meter))).await?.ok_or(StoreError::NotFound)?;
        Ok(r.try_get::<Option<String>>("", "profile_id")?.unwrap_or_else(|| DEFAULT_PROFILE.to_string()))
    }

    /// What a meter answered "no requested data" for.
    pub async fn meter_lacks(&self, meter: &str) -> Result<Vec<Lack>> {
        let sql = "SELECT di, reason, learned_at FROM meter_lacks WHERE tenant_id = $1 AND meter_id = $2 ORDER BY di";
        self.db()
            .query_all_raw(stmt(self.backend(), sql, self.args().s(meter)))
            .await?
            .iter()
            .map(|r| Ok(Lack { di: r.try_get("", "di")?, reason: r.try_get("", "reason")?, learned_at: r.try_get("", "learned_at")? }))
            .collect()
    }

    /// Forgets what a meter lacks (after a firmware change): its next read asks for everything.
    pub async fn forget_meter_lacks(&self, meter: &domain::ids::MeterId) -> Result<u64> {
        self.require("meters", meter.as_str()).await?;
        let sql = "DELETE FROM meter_lacks WHERE tenant_id = $1 AND meter_id = $2";
        Ok(self.db().execute_raw(stmt(self.backend(), sql, self.args().s(meter.as_str()))).await?.rows_affected())
    }
}

impl super::PlatformStore {
    async fn profile_of(&self, tenant: &str, meter: &str) -> Result<(DeviceProfile, String)> {
        let sql = format!(
            "SELECT m.profile_id, m.phases, m.billing_mode, p.{} FROM meters m LEFT JOIN device_profiles p ON p.tenant_id = m.tenant_id AND p.id = m.profile_id AND p.retired_at IS NULL
             WHERE m.tenant_id = $1 AND m.id = $2",
            COLS.replace(", ", ", p.")
        );
        let r = self.db.query_one_raw(stmt(self.backend(), &sql, Args::new().s(tenant).s(meter))).await?.ok_or(StoreError::NotFound)?;
        let id: Option<String> = r.try_get("", "profile_id")?;
        // A built-in profile is fitted to the meter (phases, wallet); a tenant's is as written.
        let three_phase = super::registry::int(&r, "phases")? == 3;
        let wallet = r.try_get::<String>("", "billing_mode")? == "METER_PREPAID";
        let builtin = |id: &str| {
            domain::profile::builtins().into_iter().find(|p| p.id == id).map(|mut p| {
                p.reads = domain::profile::fit(&p.reads, three_phase, wallet);
                p
            })
        };
        match id {
            Some(id) => match builtin(&id) {
                Some(p) => Ok((p, String::new())),
                None if r.try_get::<Option<String>>("", "id")?.is_some() => {
                    let row = profile_row(&r)?;
                    Ok((row.profile, r.try_get("", "wrapped_password")?))
                }
                None => Ok((builtin(DEFAULT_PROFILE).ok_or(StoreError::NotFound)?, String::new())),
            },
            None => Ok((builtin(DEFAULT_PROFILE).ok_or(StoreError::NotFound)?, String::new())),
        }
    }

    /// The meter's profile (a built-in one fitted to the meter).
    pub async fn meter_profile(&self, tenant: &str, meter: &str) -> Result<DeviceProfile> {
        Ok(self.profile_of(tenant, meter).await?.0)
    }

    /// What a READ asks the meter for: its profile's list, what it lacks replaced by the parts.
    pub async fn read_plan(&self, tenant: &str, meter: &str) -> Result<Vec<Di>> {
        let (profile, _) = self.profile_of(tenant, meter).await?;
        let sql = "SELECT di FROM meter_lacks WHERE tenant_id = $1 AND meter_id = $2";
        let lacks: HashSet<Di> = self
            .db
            .query_all_raw(stmt(self.backend(), sql, Args::new().s(tenant).s(meter)))
            .await?
            .iter()
            .filter_map(|r| r.try_get::<String>("", "di").ok().and_then(|d| Di::parse(&d)))
            .collect();
        Ok(domain::profile::plan(&profile.reads, &lacks))
    }

    /// How the meter's relay is commanded.
    pub async fn relay_scheme(&self, tenant: &str, meter: &str) -> Result<RelayScheme> {
        let (profile, wrapped) = self.profile_of(tenant, meter).await?;
        Ok(match profile.scheme {
            CommandScheme::Sealed => RelayScheme::Sealed,
            CommandScheme::Modbus | CommandScheme::VendorJson => RelayScheme::Mapped(profile.name),
            CommandScheme::Plain { .. } if wrapped.is_empty() => RelayScheme::NoPassword(profile.name),
            CommandScheme::Plain { level, operator } => {
                let opened = self.kek()?.unwrap(&format!("{tenant}/profile/{}", profile.id), &wrapped)?;
                let password = std::str::from_utf8(&opened)
                    .ok()
                    .and_then(|p| p.parse().ok())
                    .ok_or(StoreError::Database("bad profile password".into()))?;
                RelayScheme::Plain { level, password, operator }
            }
        })
    }

    /// Records what a READ asks for at this attempt (answers start again).
    pub async fn set_read_items(&self, tenant: &str, id: &str, items: &[Di]) -> Result<()> {
        let payload = json!({"items": items.iter().map(|d| d.to_string()).collect::<Vec<_>>(), "answers": {}}).to_string();
        let sql = "UPDATE commands SET payload = $3 WHERE tenant_id = $1 AND id = $2";
        self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(tenant).s(id).s(payload))).await?;
        Ok(())
    }

    /// The meters with a read or time sync waiting for answers: (tenant, meter).
    pub async fn awaiting_answers(&self) -> Result<HashSet<(String, String)>> {
        let sql =
            "SELECT DISTINCT tenant_id, meter_id FROM commands WHERE status IN ('SENT', 'ACKNOWLEDGED') AND kind IN ('READ', 'TIME_SYNC')";
        self.db
            .query_all_raw(stmt(self.backend(), sql, Args::new()))
            .await?
            .iter()
            .map(|r| Ok((r.try_get("", "tenant_id")?, r.try_get("", "meter_id")?)))
            .collect()
    }

    /// One answer to a read from a meter: a normal reply names its identifier; an abnormal one
    /// names none and answers the first identifier still waiting (a meter answers in order).
    /// The read completes when every identifier is answered. A valid meter clock in the same
    /// publish confirms a time sync sent before it when it is within [`CLOCK_TOLERANCE_S`].
    pub async fn read_answered(
        &self,
        tenant: &str,
        meter: &str,
        answer: ReadAnswer<'_>,
        tz: chrono_tz::Tz,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let ReadAnswer { di, refused, clock } = answer;
        let b = self.backend();
        if let Some(local) = clock {
            self.clock_answered(tenant, meter, local, tz, at).await?;
        }
        let sql = "SELECT id, payload, source, account_id, sent_at FROM commands WHERE tenant_id = $1 AND meter_id = $2 AND kind = 'READ'
                   AND status IN ('SENT', 'ACKNOWLEDGED') AND sent_at <= $3 ORDER BY sent_at, id LIMIT 1";
        let Some(r) = self.db.query_one_raw(stmt(b, sql, Args::new().s(tenant).s(meter).t(at))).await? else { return Ok(()) };
        let id: String = r.try_get("", "id")?;
        let mut payload: Value = serde_json::from_str(&r.try_get::<String>("", "payload")?).unwrap_or(Value::Null);
        let items: Vec<String> =
            payload["items"].as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default();
        if items.is_empty() {
            return Ok(());
        }
        let mut answers: HashMap<String, String> = serde_json::from_value(payload["answers"].clone()).unwrap_or_default();
        match (di, refused) {
            (Some(d), None) => {
                let d = d.to_string();
                if !items.contains(&d) || answers.contains_key(&d) {
                    return Ok(()); // not asked for (a push), or already answered
                }
                answers.insert(d, "ok".into());
            }
            (_, Some(bits)) => {
                let Some(first) = items.iter().find(|i| !answers.contains_key(*i)).cloned() else { return Ok(()) };
                let why = if bits.is_empty() { "an error without bits".to_string() } else { bits.join(", ") };
                tracing::info!(tenant, meter, di = %first, reason = %why, "a read item refused by the meter");
                answers.insert(first, why);
            }
            (None, None) => return Ok(()),
        }
        payload["answers"] = json!(answers);
        let complete = items.iter().all(|i| answers.contains_key(i));
        if !complete {
            let sql = "UPDATE commands SET payload = $3, status = 'ACKNOWLEDGED', replied_at = $4 WHERE tenant_id = $1 AND id = $2";
            self.db.execute_raw(stmt(b, sql, Args::new().s(tenant).s(&id).s(payload.to_string()).t(at))).await?;
            return Ok(());
        }
        // The relay state read after a relay command was acknowledged confirms it (a meter
        // that never pushes is confirmed by the next read of its status word).
        if answers.get(&dlt645::di::STATUS_WORD_3.to_string()).is_some_and(|a| a == "ok") {
            let read_sent: DateTime<Utc> = r.try_get("", "sent_at")?;
            let sql = "UPDATE commands SET status = 'CONFIRMED', confirmed_at = $4
                       WHERE tenant_id = $1 AND meter_id = $2 AND status = 'ACKNOWLEDGED' AND replied_at <= $3 AND EXISTS (
                         SELECT 1 FROM meter_live l WHERE l.tenant_id = commands.tenant_id AND l.meter_id = commands.meter_id AND l.status_word_3 IS NOT NULL
                           AND ((commands.kind = 'TRIP' AND (l.status_word_3 & 16) <> 0) OR (commands.kind = 'CLOSE' AND (l.status_word_3 & 16) = 0)
                             OR (commands.kind = 'HOLD_ON' AND (l.status_word_3 & 4096) <> 0) OR (commands.kind = 'HOLD_OFF' AND (l.status_word_3 & 4096) = 0)))";
            self.db.execute_raw(stmt(b, sql, Args::new().s(tenant).s(meter).t(read_sent).t(at))).await?;
        }
        let failed: Vec<(&String, &String)> = items.iter().filter_map(|i| answers.get(i).filter(|a| *a != "ok").map(|a| (i, a))).collect();
        if failed.is_empty() {
            let sql = "UPDATE commands SET payload = $3, status = 'CONFIRMED', replied_at = $4, confirmed_at = $4 WHERE tenant_id = $1 AND id = $2";
            self.db.execute_raw(stmt(b, sql, Args::new().s(tenant).s(&id).s(payload.to_string()).t(at))).await?;
            return Ok(());
        }
        // Some items refused: the read is confirmed by those answered with data (the refused
        // ones named in its reason), failed when none was.
        // Learn what the meter lacks; read the parts of what it lacks at once.
        let mut parts: Vec<Di> = Vec::new();
        for (item, why) in &failed {
            if !why.contains("no_requested_data") {
                continue;
            }
            let sql = "INSERT INTO meter_lacks (tenant_id, meter_id, di, reason, learned_at) VALUES ($1, $2, $3, $4, $5)
                       ON CONFLICT (tenant_id, meter_id, di) DO NOTHING";
            self.db.execute_raw(stmt(b, sql, Args::new().s(tenant).s(meter).s(*item).s(*why).t(at))).await?;
            if let Some(d) = Di::parse(item) {
                parts.extend(domain::profile::fallback(d));
            }
        }
        let reasons = failed.iter().map(|(i, w)| format!("{i}: {w}")).collect::<Vec<_>>().join("; ");
        let some_data = failed.len() < items.len();
        let (status, confirmed) = if some_data { ("CONFIRMED", Some(at)) } else { ("FAILED", None) };
        let sql = "UPDATE commands SET payload = $3, status = $6, replied_at = $4, confirmed_at = $7, reason = reason || ' — refused by the meter: ' || $5
                   WHERE tenant_id = $1 AND id = $2";
        let args = Args::new().s(tenant).s(&id).s(payload.to_string()).t(at).s(&reasons).s(status).ot(confirmed);
        self.db.execute_raw(stmt(b, sql, args)).await?;
        if some_data {
            tracing::info!(tenant, meter, command = %id, refused = %reasons, "read answered, some items refused");
        } else {
            tracing::warn!(tenant, meter, command = %id, reasons = %reasons, "read FAILED: every item refused");
        }
        let lacks: HashSet<Di> = self
            .db
            .query_all_raw(stmt(b, "SELECT di FROM meter_lacks WHERE tenant_id = $1 AND meter_id = $2", Args::new().s(tenant).s(meter)))
            .await?
            .iter()
            .filter_map(|r| r.try_get::<String>("", "di").ok().and_then(|d| Di::parse(&d)))
            .collect();
        let parts = domain::profile::plan(&parts, &lacks);
        if !parts.is_empty() {
            // With the clock, as the first read asked, so the values carry the meter's time.
            let clock: Vec<Di> = [dlt645::di::DATE, dlt645::di::TIME].into_iter().filter(|d| items.contains(&d.to_string())).collect();
            let parts: Vec<Di> = clock.into_iter().chain(parts).collect();
            let record = super::outbox::CommandRecord {
                id: uuid::Uuid::new_v4().to_string(),
                tenant_id: tenant.to_string(),
                meter_id: meter.to_string(),
                account_id: r.try_get("", "account_id")?,
                kind: "READ".into(),
                source: r.try_get("", "source")?,
                reason: format!(
                    "the registers of what the meter lacks ({})",
                    failed.iter().map(|(i, _)| i.as_str()).collect::<Vec<_>>().join(", ")
                ),
                payload: json!({"items": parts.iter().map(|d| d.to_string()).collect::<Vec<_>>(), "answers": {}}).to_string(),
                created_at: at,
                batch_id: None,
            };
            super::settle::insert_commands(&self.db, std::slice::from_ref(&record)).await?;
            self.commands.submit(std::slice::from_ref(&record));
        }
        Ok(())
    }

    /// A valid meter clock arrived: time syncs sent before it are confirmed when the clock is
    /// within tolerance of its arrival, and stay waiting (to be re-sent, then TIMED_OUT) when not.
    async fn clock_answered(&self, tenant: &str, meter: &str, local: NaiveDateTime, tz: chrono_tz::Tz, at: DateTime<Utc>) -> Result<()> {
        let Some(clock) = tz.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc)) else { return Ok(()) };
        let off = (clock - at).num_seconds();
        let b = self.backend();
        if off.abs() > CLOCK_TOLERANCE_S {
            let sql = "SELECT id FROM commands WHERE tenant_id = $1 AND meter_id = $2 AND kind = 'TIME_SYNC' AND status = 'SENT' AND sent_at <= $3";
            if self.db.query_one_raw(stmt(b, sql, Args::new().s(tenant).s(meter).t(at))).await?.is_some() {
                tracing::warn!(tenant, meter, off_s = off, "after a time sync the meter's clock is still off");
            }
            return Ok(());
        }
        let sql = "UPDATE commands SET status = 'CONFIRMED', confirmed_at = $3, replied_at = $3
                   WHERE tenant_id = $1 AND meter_id = $2 AND kind = 'TIME_SYNC' AND status = 'SENT' AND sent_at <= $3";
        self.db.execute_raw(stmt(b, sql, Args::new().s(tenant).s(meter).t(at))).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn read_lists_round_trip_through_their_text() {
        let reads = vec![dlt645::di::DATE, dlt645::di::FORWARD_ACTIVE_BLOCK];
        assert_eq!(reads_of(&reads_text(&reads)), reads);
    }
}
