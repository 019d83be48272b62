//! Importing accounts from another system: one transaction per file, every row checked first.

use super::bulk::{self, Cell, Col};
use super::money::*;
use super::sql::stmt;
use super::{Result, StoreError, TenantStore};
use chrono::Utc;
use domain::ids::*;
use sea_orm::ConnectionTrait;

/// One row of a bulk account import (批量开户): a serial-linked meter, its customer and account.
#[derive(Debug, Clone)]
pub struct ImportAccount {
    pub address: String,
    pub customer_name: String,
    pub billing_mode: domain::registry::BillingMode,
    pub property_fee_x100: i64,
}

impl TenantStore {
    /// Imports customers, accounts and meters in bulk (one transaction; e.g. from a migration
    /// spreadsheet). Meters are registered as serial-linked without device logins; account
    /// numbers are `M` + the meter address. Returns the new (account, meter) ids.
    pub async fn import_accounts(&self, property: &PropertyId, rows: &[ImportAccount]) -> Result<Vec<(AccountId, MeterId)>> {
        let now = Utc::now();
        let t = self.tenant.to_string();
        let mut customers = Vec::new();
        let mut accounts = Vec::new();
        let mut meters = Vec::new();
        let mut ids = Vec::new();
        for r in rows {
            dlt645::Address::parse(&r.address).map_err(|_| conflict(format!("bad meter address {}", r.address)))?;
            let (c, a, m) = (
                CustomerId::from_uuid(uuid::Uuid::new_v4()),
                AccountId::from_uuid(uuid::Uuid::new_v4()),
                MeterId::from_uuid(uuid::Uuid::new_v4()),
            );
            customers.push(vec![Cell::Text(t.clone()), Cell::Text(c.to_string()), Cell::Text(r.customer_name.clone()), Cell::Time(now)]);
            accounts.push(vec![
                Cell::Text(t.clone()),
                Cell::Text(a.to_string()),
                Cell::Text(c.to_string()),
                Cell::Text(format!("M{}", r.address)),
                Cell::Int(r.property_fee_x100),
                Cell::Time(now),
            ]);
            meters.push(vec![
                Cell::Text(t.clone()),
                Cell::Text(m.to_string()),
                Cell::Text(property.to_string()),
                Cell::Text(c.to_string()),
                Cell::Text(a.to_string()),
                Cell::Text(r.address.clone()),
                Cell::Int(3),
                Cell::Text("SERIAL".into()),
                Cell::Text(r.billing_mode.as_str().into()),
                Cell::Time(now),
            ]);
            ids.push((a, m));
        }
        let txn = self.begin().await?;
        let found = txn
            .query_one_raw(stmt(
                self.backend(),
                "SELECT id FROM properties WHERE tenant_id = $1 AND id = $2",
                self.args().s(property.as_str()),
            ))
            .await?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        for chunk in customers.chunks(5_000) {
            bulk::insert(
                &txn,
                "customers",
                &[("tenant_id", Col::Text), ("id", Col::Text), ("name", Col::Text), ("created_at", Col::Time)],
                chunk,
                "",
            )
            .await?;
        }
        for chunk in accounts.chunks(5_000) {
            let cols = [
                ("tenant_id", Col::Text),
                ("id", Col::Text),
                ("customer_id", Col::Text),
                ("number", Col::Text),
                ("property_fee_x100", Col::Int),
                ("created_at", Col::Time),
            ];
            bulk::insert(&txn, "accounts", &cols, chunk, "").await?;
        }
        for chunk in meters.chunks(5_000) {
            let cols = [
                ("tenant_id", Col::Text),
                ("id", Col::Text),
                ("property_id", Col::Text),
                ("customer_id", Col::Text),
                ("account_id", Col::Text),
                ("address", Col::Text),
                ("phases", Col::Int),
                ("link_type", Col::Text),
                ("billing_mode", Col::Text),
                ("created_at", Col::Time),
            ];
            bulk::insert(&txn, "meters", &cols, chunk, "").await?;
        }
        self.meters_joined(&txn, property.as_str(), rows.len() as i64).await?;
        txn.commit().await?;
        Ok(ids)
    }
}

/// One checked row of a meter import (表计导入): the meter, and optionally its customer (by
/// name and phone), an account with a monthly property fee and an opening balance.
#[derive(Debug, Clone)]
pub struct ImportMeter {
    pub meter: domain::registry::NewMeter,
    /// (name, phone); the same pair on several rows is one customer.
    pub customer: Option<(String, String)>,
    pub opening_x100: i64,
    pub property_fee_x100: i64,
}

/// A meter already registered, as an import compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingMeter {
    pub property_id: String,
    pub area_id: Option<String>,
    pub link_type: String,
    pub phases: i64,
    pub pt_ratio: i64,
    pub ct_ratio: i64,
    pub billing_mode: String,
}

impl TenantStore {
    /// Every live meter of the tenant by address (what an import compares its rows with).
    pub async fn meters_by_address(&self) -> Result<std::collections::HashMap<String, ExistingMeter>> {
        let sql = "SELECT address, property_id, area_id, link_type, phases, pt_ratio, ct_ratio, billing_mode FROM meters
                   WHERE tenant_id = $1 AND retired_at IS NULL";
        let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args())).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("", "address")?,
                    ExistingMeter {
                        property_id: r.try_get("", "property_id")?,
                        area_id: r.try_get("", "area_id")?,
                        link_type: r.try_get("", "link_type")?,
                        phases: super::registry::int(r, "phases")?,
                        pt_ratio: super::registry::int(r, "pt_ratio")?,
                        ct_ratio: super::registry::int(r, "ct_ratio")?,
                        billing_mode: r.try_get("", "billing_mode")?,
                    },
                ))
            })
            .collect()
    }

    /// Imports checked rows in one transaction — all or nothing: each meter registered (4G
    /// meters without a device login yet: rotate one when the device is fitted), its customer
    /// found or made, an account opened with the meter and, when given, the opening balance
    /// posted through the ledger (an ADJUSTMENT "opening balance imported", on a receipt).
    /// Returns how many meters were registered.
    pub async fn import_meters(&self, rows: &[ImportMeter]) -> Result<usize> {
        let b = self.backend();
        let now = Utc::now();
        let defaults = self.money_settings().await?.default_thresholds;
        let txn = self.db().begin().await?;
        let mut customers: std::collections::HashMap<(String, String), CustomerId> = std::collections::HashMap::new();
        // Meters per property, counted once at the end (m0022).
        let mut joined: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
        for r in rows {
            let m = &r.meter;
            *joined.entry(m.property.as_str()).or_default() += 1;
            let id = MeterId::from_uuid(uuid::Uuid::new_v4());
            let sql = "INSERT INTO meters (tenant_id, id, property_id, area_id, customer_id, gateway_id, address, model, phases, pt_ratio, ct_ratio, link_type, billing_mode, shop_no, created_at)
                       VALUES ($1, $2, $3, $4, NULL, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
            let args = self
                .args()
                .s(id.as_str())
                .s(m.property.as_str())
                .os(m.area.as_ref().map(|a| a.as_str()))
                .os(m.gateway.as_ref().map(|g| g.as_str()))
                .s(m.address.to_string())
                .s(&m.model)
                .i(i64::from(m.phases))
                .i(m.pt_ratio)
                .i(m.ct_ratio)
                .s(m.link.as_str())
                .s(m.billing.as_str())
                .s(&m.shop_no)
                .t(now);
            txn.execute_raw(stmt(b, sql, args)).await.map_err(|e| match StoreError::from(e) {
                StoreError::Duplicate => conflict(format!("meter {} is already registered", m.address)),
                other => other,
            })?;
            txn.execute_raw(stmt(b, "INSERT INTO meter_live (tenant_id, meter_id) VALUES ($1, $2)", self.args().s(id.as_str()))).await?;
            let Some((name, phone)) = &r.customer else { continue };
            let customer = match customers.get(&(name.clone(), phone.clone())) {
                Some(c) => c.clone(),
                None => {
                    let sql = "SELECT id FROM customers WHERE tenant_id = $1 AND name = $2 AND phone = $3 AND retired_at IS NULL ORDER BY created_at LIMIT 1";
                    let found = txn.query_one_raw(stmt(b, sql, self.args().s(name).s(phone))).await?;
                    let c = match found {
                        Some(row) => CustomerId::parse(&row.try_get::<String>("", "id")?).ok_or(StoreError::NotFound)?,
                        None => {
                            let c = CustomerId::from_uuid(uuid::Uuid::new_v4());
                            let sql =
                                "INSERT INTO customers (tenant_id, id, name, phone, shop_no, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
                            txn.execute_raw(stmt(b, sql, self.args().s(c.as_str()).s(name).s(phone).s(&m.shop_no).t(now))).await?;
                            c
                        }
                    };
                    customers.insert((name.clone(), phone.clone()), c.clone());
                    c
                }
            };
            let account = AccountId::from_uuid(uuid::Uuid::new_v4());
            let number = format!("A{:08}", next_counter(&txn, self.tenant.as_str(), "account").await?);
            let sql = "INSERT INTO accounts (tenant_id, id, customer_id, number, created_at, credit_limit_x100, alarm1_x100, alarm2_x100, property_fee_x100)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
            let args = self
                .args()
                .s(account.as_str())
                .s(customer.as_str())
                .s(number)
                .t(now)
                .i(defaults.credit_limit)
                .i(defaults.alarm1)
                .i(defaults.alarm2)
                .i(r.property_fee_x100);
            txn.execute_raw(stmt(b, sql, args)).await?;
            self.attach_meter(&txn, &account, &customer, &id).await?;
            if r.opening_x100 != 0 {
                let opening =
                    Posting::new(domain::ledger::EntryKind::Adjustment, r.opening_x100, "opening balance imported (期初余额导入)");
                self.post(&txn, &account, vec![opening], true, super::Guard::None).await?;
            }
        }
        for (property, n) in joined {
            self.meters_joined(&txn, property, n).await?;
        }
        txn.commit().await?;
        Ok(rows.len())
    }
}

impl TenantStore {
    /// Imports a checked site sheet in one transaction — all or nothing: the new properties,
    /// then areas and gateways of a property named by its id or, for one made here, by
    /// `new:<name>`. Gateways are registered without a device login (rotate one in the portal
    /// when the gateway is fitted), as imported 4G meters are.
    pub async fn import_sites(
        &self,
        properties: &[domain::registry::NewProperty],
        areas: &[(String, String, Option<i64>)],
        gateways: &[(String, String, String)],
    ) -> Result<()> {
        let b = self.backend();
        let now = Utc::now();
        let txn = self.db().begin().await?;
        let mut made: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        for p in properties {
            let id = PropertyId::from_uuid(uuid::Uuid::new_v4());
            let sql = "INSERT INTO properties (tenant_id, id, name, address, created_at, contact_name, contact_phone) VALUES ($1, $2, $3, $4, $5, $6, $7)";
            txn.execute_raw(stmt(
                b,
                sql,
                self.args().s(id.as_str()).s(&p.name).s(&p.address).t(now).s(&p.contact_name).s(&p.contact_phone),
            ))
            .await?;
            made.insert(format!("new:{}", p.name), id.to_string());
        }
        // An existing property must still be live when the rows are written.
        let mut live: std::collections::HashSet<String> = made.values().cloned().collect();
        for key in areas.iter().map(|a| &a.0).chain(gateways.iter().map(|g| &g.0)) {
            if made.contains_key(key) || live.contains(key) {
                continue;
            }
            let sql = "SELECT 1 AS one FROM properties WHERE tenant_id = $1 AND id = $2 AND retired_at IS NULL";
            if txn.query_one_raw(stmt(b, sql, self.args().s(key))).await?.is_none() {
                return Err(StoreError::NotFound);
            }
            live.insert(key.clone());
        }
        let property = |key: &str| -> String { made.get(key).cloned().unwrap_or_else(|| key.to_string()) };
        for (key, name, floor) in areas {
            let p = property(key);
            let sql =
                "INSERT INTO areas (tenant_id, id, property_id, name, floor_area_m2_x100, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
            txn.execute_raw(stmt(b, sql, self.args().s(uuid::Uuid::new_v4().to_string()).s(&p).s(name).oi(*floor).t(now))).await?;
        }
        for (key, serial, name) in gateways {
            let p = property(key);
            let sql = "INSERT INTO gateways (tenant_id, id, property_id, serial, name, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
            txn.execute_raw(stmt(b, sql, self.args().s(uuid::Uuid::new_v4().to_string()).s(&p).s(serial).s(name).t(now))).await.map_err(
                |e| match StoreError::from(e) {
                    StoreError::Duplicate => conflict(format!("gateway {serial} is already registered")),
                    other => other,
                },
            )?;
        }
        txn.commit().await?;
        Ok(())
    }
}

impl TenantStore {
    /// Every gateway serial the tenant ever registered — retired ones and those of properties
    /// outside the caller's scope included (a serial is registered once per tenant), so an
    /// import's dry run refuses what its write would.
    pub async fn gateway_serials_ever(&self) -> Result<std::collections::HashSet<String>> {
        let sql = "SELECT serial FROM gateways WHERE tenant_id = $1";
        self.db().query_all_raw(stmt(self.backend(), sql, self.args())).await?.iter().map(|r| Ok(r.try_get("", "serial")?)).collect()
    }
}
