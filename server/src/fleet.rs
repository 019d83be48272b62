//! Simulated fleets: provisions a tenant with properties, areas, customers, gateways and
//! meters (through the ordinary registry), and turns its devices into simulator devices.
//! Used by `serve` (demo data, with a tariff and funded prepaid accounts) and `simulate`.

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
    let mut accounts = Vec::with_capacity(plan.meters);
    for n in 0..plan.meters {
        let address = mqtt_bridge::simulator::fleet_address(plan.address_prefix, n as u64 + 1)
            .ok_or(StoreError::Conflict("address prefix too long".into()))?;
        let area = areas.get(n % areas.len().max(1)).map(|a| a.id.clone());
        let customer = t
            .create_customer(
                &NewCustomer::parse(&format!("Shop {:04}", n + 1), &format!("1380000{:04}", n % 10_000), &format!("S-{:04}", n + 1))
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
        accounts.push((customer.id, row.id));
    }
    if plan.accounts {
        demo_money(t, &accounts).await?;
    }
    Ok(())
}

/// Demo money: a TOU tariff with tiers as the tenant default, the price rule, and one prepaid
/// account per meter — most well funded, every tenth nearly empty so trips show up.
async fn demo_money(t: &TenantStore, accounts: &[(crate::domain::ids::CustomerId, crate::domain::ids::MeterId)]) -> Result<()> {
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
    for (n, (customer, meter)) in accounts.iter().enumerate() {
        let initial = if n % 10 == 9 { 300 } else { 30_000 }; // fen: 3.00 or 300.00 yuan
        let account = crate::store::NewAccount {
            customer: customer.clone(),
            number: None,
            meters: vec![meter.clone()],
            thresholds: Thresholds { alarm1: 50_00, alarm2: 20_00, credit_limit: 0 },
            property_fee_x100: 0,
            initial: Some((initial, EntryKind::RechargeCash)),
        };
        t.open_account(&account).await?;
    }
    Ok(())
}

/// The tenant's devices as simulator devices, with secrets derived from `seed` (and set).
pub async fn sim_devices(t: &TenantStore, seed: &str) -> Result<Vec<SimDevice>> {
    let mut out = Vec::new();
    for d in t.device_fleet().await? {
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
