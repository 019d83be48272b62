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
        txn.commit().await?;
        Ok(ids)
    }
}
