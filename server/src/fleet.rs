//! Simulated fleets: provisions a tenant with properties, areas, customers, gateways and
//! meters (through the ordinary registry), and turns its devices into simulator devices.
//! Used by `serve` (demo data, with a tariff and funded prepaid accounts) and `simulate`.

use futures::{StreamExt as _, TryStreamExt as _};
use mqtt_bridge::dlt645::Address;
use mqtt_bridge::simulator::{SimDevice, SimMeter};
use sha2::{Digest, Sha256};

use crate::domain::registry::{MeterInput, NewArea, NewCustomer, NewGateway, NewMeter, NewProperty};
use crate::store::{Result, StoreError, TenantStore};

/// Shape of a fleet to provision.
#[derive(Debug, Clone, Copy)]
pub struct FleetPlan {
    pub meters: usize,
    pub gateways: usize,
    /// Meters behind each gateway (the rest are 4G meters).
    pub per_gateway: usize,
    /// Leading digits of the simulated addresses.
    pub address_prefix: u64,
    /// Also a default tariff and a funded prepaid account per meter (the demo).
    pub accounts: bool,
    /// Meters (and accounts) provisioned at once; 1 keeps ids and account numbers in the
    /// meters' order (the demo's), more is faster (benchmarks of large fleets).
    pub at_once: usize,
}

/// The secret a simulated device uses, derived so a restart can reconnect without storing it.
pub fn derived_secret(seed: &str, username: &str) -> String {
    hex::encode(Sha256::digest(format!("{seed}:{username}").as_bytes()))
}

/// Registers the plan's objects in the tenant (idempotent: skips when meters already exist).
pub async fn provision(t: &TenantStore, plan: FleetPlan) -> Result<()> {
    if !t.device_fleet().await?.is_empty() {
        return Ok(());
    }
    let invalid = |e: crate::domain::Invalid| StoreError::Conflict(e.to_string());
    let property = NewProperty::parse("Riverside Industrial Park", "1 Riverside Road")
        .and_then(|p| p.with_contact("Property service desk", "0571-8800 1234"))
        .map_err(invalid)?;
    let property = t.create_property(&property).await?;
    let mut areas = Vec::new();
    for name in ["Building A", "Building B", "Food Court", "Dormitory 1"] {
        let area = NewArea::parse(property.id.clone(), name, Some(rust_decimal::Decimal::new(250_000, 2))).map_err(invalid)?;
        areas.push(t.create_area(&area).await?);
    }
    let mut gateways = Vec::new();
    for g in 0..plan.gateways {
        let gw = NewGateway::parse(property.id.clone(), &format!("LORA-{:04}", g + 1), &format!("Gateway {}", g + 1)).map_err(invalid)?;
        gateways.push(t.register_gateway(&gw).await?.0);
    }
    let behind = (plan.gateways * plan.per_gateway).min(plan.meters);
    // A few meters at once (each is its own transactions); the order of the result is the
    // meters' order, whatever finishes first.
    let (property, areas, gateways) = (&property, &areas, &gateways);
    let accounts: Vec<_> = futures::stream::iter(0..plan.meters)
        .map(|n| {
            Ok(async move {
                let address = mqtt_bridge::simulator::fleet_address(plan.address_prefix, n as u64 + 1)
                    .ok_or(StoreError::Conflict("address prefix too long".into()))?;
                let area = areas.get(n % areas.len().max(1)).map(|a| a.id.clone());
                let customer = t
                    .create_customer(
                        &NewCustomer::parse(
                            &format!("Shop {:04}", n + 1),
                            &format!("1380000{:04}", n % 10_000),
                            &format!("S-{:04}", n + 1),
                        )
                        .map_err(invalid)?,
                    )
                    .await?;
                let gateway = if n < behind { gateways.get(n / plan.per_gateway.max(1)).map(|g| g.id.clone()) } else { None };
                let input = MeterInput {
                    address: address.to_string(),
                    model: if n % 5 == 0 { "DTSY1352".into() } else { "DDSY1352".into() },
                    phases: if n % 5 == 0 { 3 } else { 1 },
                    pt_ratio: None,
                    ct_ratio: if n % 5 == 0 { Some(40) } else { None },
                    link_type: if gateway.is_some() { "LORA_GATEWAY".into() } else { "FOUR_G".into() },
                    billing_mode: None,
                    shop_no: format!("S-{:04}", n + 1),
                };
                let meter = NewMeter::parse(property.id.clone(), area, Some(customer.id.clone()), gateway, &input).map_err(invalid)?;
                let (row, _) = t.register_meter(&meter).await?;
                Ok::<_, StoreError>((customer.id, row.id))
            })
        })
        // The first failure ends the provisioning (nothing after it is started).
        .try_buffered(plan.at_once.max(1))
        .try_collect()
        .await?;
    if plan.accounts {
        demo_money(t, &accounts, plan.at_once.max(1)).await?;
    }
    Ok(())
}

/// Demo money: a TOU tariff with tiers as the tenant default, the price rule, and one prepaid
/// account per meter — most well funded, every tenth nearly empty so trips show up.
async fn demo_money(
    t: &TenantStore,
    accounts: &[(crate::domain::ids::CustomerId, crate::domain::ids::MeterId)],
    at_once: usize,
) -> Result<()> {
    use crate::domain::ledger::{EntryKind, Thresholds};
    use crate::domain::tariff::{Rate, TariffSpec, TierCycle, TouSource};
    use rust_decimal::Decimal;
    let p = |a: &str, b: &str, r| (a.to_string(), b.to_string(), r);
    let spec = TariffSpec {
        prices: vec![
            (Rate::Sharp, Decimal::new(12856, 4)),
            (Rate::Peak, Decimal::new(10713, 4)),
            (Rate::Flat, Decimal::new(6475, 4)),
            (Rate::Valley, Decimal::new(2856, 4)),
        ],
        periods: vec![
            p("00:00", "08:00", Rate::Valley),
            p("08:00", "10:00", Rate::Peak),
            p("10:00", "12:00", Rate::Sharp),
            p("12:00", "17:00", Rate::Flat),
            p("17:00", "22:00", Rate::Peak),
            p("22:00", "24:00", Rate::Valley),
        ],
        seasons: vec![],
        dates: vec![],
        source: TouSource::PlatformCalendar,
        tiers: Some((
            TierCycle::Monthly,
            vec![(Some(Decimal::from(2000)), Decimal::ZERO), (Some(Decimal::from(5000)), Decimal::new(5, 2)), (None, Decimal::new(30, 2))],
        )),
        capacity_price_per_kw: None,
    };
    t.set_price_rule(Some(Decimal::new(6475, 4)), Decimal::from(15)).await?;
    let since = chrono::Utc::now() - chrono::Duration::days(365);
    let tariff = t.create_tariff("Commercial TOU 2026", since, &spec, true).await?;
    t.assign_tariff(Some(&tariff.id), None, None).await?;
    futures::stream::iter(accounts.iter().enumerate())
        .map(|(n, (customer, meter))| {
            Ok(async move {
                let initial = if n % 10 == 9 { 300 } else { 30_000 }; // fen: 3.00 or 300.00 yuan
                let account = crate::store::NewAccount {
                    customer: customer.clone(),
                    number: None,
                    meters: vec![meter.clone()],
                    thresholds: Thresholds { alarm1: 50_00, alarm2: 20_00, credit_limit: 0 },
                    property_fee_x100: 0,
                    initial: Some((initial, EntryKind::RechargeCash)),
                };
                t.open_account(&account).await.map(|_| ())
            })
        })
        .try_buffered(at_once)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// The tenant's devices as simulator devices, with secrets derived from `seed` (and set);
/// the devices in `skip` are simulated otherwise (the field devices).
pub async fn sim_devices(t: &TenantStore, seed: &str, skip: &[String]) -> Result<Vec<SimDevice>> {
    let mut out = Vec::new();
    for d in t.device_fleet().await?.into_iter().filter(|d| !skip.contains(&d.username)) {
        let secret = derived_secret(seed, &d.username);
        t.set_device_secret(&d.username, &secret).await?;
        let mut meters = Vec::with_capacity(d.meters.len());
        for (a, phases) in &d.meters {
            if let Ok(address) = Address::parse(a) {
                meters.push(SimMeter::new(address, *phases == 3).with_key(t.key_for_address(address).await?));
            }
        }
        out.push(SimDevice { username: d.username, password: secret, meters, gateway: d.gateway });
    }
    t.reload().await?;
    Ok(out)
}

/// The demo's plain DL/T 645 meter on the RS-485 bus (password [`mqtt_bridge::simulator::SIM_PASSWORD`]).
pub const DEMO_BUS_METER: u64 = 100_900_485;
/// The demo's Modbus-RTU meter on the same bus (its unit id).
pub const DEMO_MODBUS_UNIT: u64 = 7;
/// The demo's vendor JSON 4G meter.
pub const DEMO_JSON_METER: u64 = 100_900_043;

/// Acrel DDSY1352's registers plus a relay coil at 0000H (the simulator's Modbus meter).
pub const DEMO_REGISTER_MAP: &str = r#"{"reads": [
  {"di": "00010000", "function": 3, "register": "0x0000", "format": "U32", "decimals": 2},
  {"di": "00010100", "function": 3, "register": "0x0002", "format": "U32", "decimals": 2},
  {"di": "00010200", "function": 3, "register": "0x0004", "format": "U32", "decimals": 2},
  {"di": "00010300", "function": 3, "register": "0x0006", "format": "U32", "decimals": 2},
  {"di": "00010400", "function": 3, "register": "0x0008", "format": "U32", "decimals": 2},
  {"di": "02010100", "function": 3, "register": "000BH", "format": "U16", "decimals": 1},
  {"di": "02020100", "function": 3, "register": "000CH", "format": "U16", "decimals": 2},
  {"di": "02030000", "function": 3, "register": "000DH", "format": "S16", "decimals": 3},
  {"di": "02060000", "function": 3, "register": "0010H", "format": "S16", "decimals": 3},
  {"di": "04000503", "function": 1, "register": 0, "format": "RELAY", "open": 1}],
 "trip": {"function": 5, "register": 0, "value": "0xFF00"},
 "close": {"function": 5, "register": 0, "value": 0}}"#;

/// The simulator's vendor JSON meter ([`mqtt_bridge::simulator::vendor_message`]).
pub const DEMO_JSON_MAP: &str = r#"{"time": {"field": "time", "format": "%Y-%m-%d %H:%M:%S"},
  "values": [
    {"field": "EPI", "di": "00010000"},
    {"field": "Ua", "di": "02010100"},
    {"field": "Ia", "di": "02020100"},
    {"field": "P", "di": "02030000", "shift": 3},
    {"field": "PF", "di": "02060000"},
    {"field": "switch", "di": "04000503", "open": "0"}],
  "trip": "{\"cmd\": \"switch\", \"value\": 0}",
  "close": "{\"cmd\": \"switch\", \"value\": 1}",
  "read": "{\"cmd\": \"report\"}"}"#;

/// The demo's field devices (issue 20) and how the simulator speaks for them.
pub struct FieldDevices {
    /// The serial server's registration packet (`username:password`).
    pub bus_registration: String,
    pub bus: Vec<mqtt_bridge::serial_sim::BusMeter>,
    /// The vendor JSON meter's login and model.
    pub json_device: (String, String, SimMeter),
    /// Their device logins (the MQTT simulator leaves them alone).
    pub usernames: Vec<String>,
}

/// Registers (once) a serial server with a standard DL/T 645 meter and a Modbus meter on its
/// bus, and a vendor JSON 4G meter, each with its profile and a funded prepaid account; sets
/// their secrets from `seed`.
pub async fn field_devices(t: &TenantStore, seed: &str) -> Result<FieldDevices> {
    use crate::domain::profile::{CommandScheme, DeviceProfile};
    use mqtt_bridge::serial_sim::BusMeter;
    let invalid = |e: crate::domain::Invalid| StoreError::Conflict(e.to_string());
    let addr = |n: u64| Address::from_u64(n).ok_or(StoreError::Conflict("bad demo address".into()));
    let (bus_a, modbus_a, json_a) = (addr(DEMO_BUS_METER)?, addr(DEMO_MODBUS_UNIT)?, addr(DEMO_JSON_METER)?);
    let find = |fleet: &[crate::store::FleetDevice], a: Address| {
        fleet.iter().find(|d| d.meters.iter().any(|(m, _)| Address::parse(m).ok() == Some(a))).map(|d| d.username.clone())
    };
    let fleet = t.device_fleet().await?;
    if find(&fleet, modbus_a).is_none() {
        let property = t.properties().await?.into_iter().next().ok_or(StoreError::NotFound)?;
        let gw = NewGateway::parse(property.id.clone(), "RS485-0001", "Serial server, Dormitory 1").map_err(invalid)?;
        let gateway = t.register_gateway(&gw).await?.0;
        let profile = |name: &str, reads: Vec<mqtt_bridge::dlt645::Di>, scheme| DeviceProfile {
            id: String::new(),
            name: name.into(),
            reads,
            scheme,
            map: None,
            json: None,
            builtin: false,
        };
        use mqtt_bridge::dlt645::di;
        let plain = profile(
            "DTSD on RS-485 (plain 0x1C)",
            vec![di::DATE, di::TIME, di::FORWARD_ACTIVE_TOTAL, di::VOLTAGE_A, di::CURRENT_A, di::ACTIVE_POWER_TOTAL, di::STATUS_WORD_3],
            CommandScheme::Plain { level: 2, operator: 0 },
        );
        let plain = t.create_device_profile(&plain, Some(mqtt_bridge::simulator::SIM_PASSWORD)).await?;
        let modbus = DeviceProfile {
            map: Some(crate::domain::register_map::parse(DEMO_REGISTER_MAP).map_err(invalid)?),
            ..profile("Acrel DDSY1352 + relay coil", Vec::new(), CommandScheme::Modbus)
        };
        let modbus = t.create_device_profile(&modbus, None).await?;
        let json = DeviceProfile {
            json: Some(crate::domain::vendor_json::parse(DEMO_JSON_MAP).map_err(invalid)?),
            ..profile("Acrel IoT 4G (JSON)", Vec::new(), CommandScheme::VendorJson)
        };
        let json = t.create_device_profile(&json, None).await?;
        let mut accounts = Vec::new();
        for (n, (a, link, profile)) in
            [(bus_a, "SERIAL", plain.profile.id), (modbus_a, "SERIAL", modbus.profile.id), (json_a, "FOUR_G", json.profile.id)]
                .into_iter()
                .enumerate()
        {
            let customer = t
                .create_customer(
                    &NewCustomer::parse(&format!("Field shop {}", n + 1), "13900000000", &format!("F-{}", n + 1)).map_err(invalid)?,
                )
                .await?;
            let input = MeterInput {
                address: a.to_string(),
                model: ["DTSD (RS-485)", "DDSY1352 (Modbus)", "Acrel IoT 4G"].get(n).copied().unwrap_or_default().into(),
                phases: if n == 0 { 3 } else { 1 },
                pt_ratio: None,
                ct_ratio: None,
                link_type: link.into(),
                billing_mode: None,
                shop_no: format!("F-{}", n + 1),
            };
            let gateway = (link == "SERIAL").then(|| gateway.id.clone());
            let meter = NewMeter::parse(property.id.clone(), None, Some(customer.id.clone()), gateway, &input).map_err(invalid)?;
            let (row, _) = t.register_meter(&meter).await?;
            t.set_meter_profile(&row.id, &profile).await?;
            accounts.push((customer.id, row.id));
        }
        for (customer, meter) in accounts {
            let account = crate::store::NewAccount {
                customer,
                number: None,
                meters: vec![meter],
                thresholds: crate::domain::ledger::Thresholds { alarm1: 50_00, alarm2: 20_00, credit_limit: 0 },
                property_fee_x100: 0,
                initial: Some((30_000, crate::domain::ledger::EntryKind::RechargeCash)),
            };
            t.open_account(&account).await?;
        }
    }
    let fleet = t.device_fleet().await?;
    let (bus_user, json_user) = match (find(&fleet, modbus_a), find(&fleet, json_a)) {
        (Some(b), Some(j)) => (b, j),
        _ => return Err(StoreError::NotFound),
    };
    let (bus_secret, json_secret) = (derived_secret(seed, &bus_user), derived_secret(seed, &json_user));
    t.set_device_secret(&bus_user, &bus_secret).await?;
    t.set_device_secret(&json_user, &json_secret).await?;
    t.reload().await?;
    Ok(FieldDevices {
        bus_registration: format!("{bus_user}:{bus_secret}"),
        bus: vec![BusMeter::Dlt645(SimMeter::new(bus_a, true).standard()), BusMeter::Modbus(SimMeter::new(modbus_a, false))],
        json_device: (json_user.clone(), json_secret, SimMeter::new(json_a, false)),
        usernames: vec![bus_user, json_user],
    })
}
