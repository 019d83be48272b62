//! The whole schema, one migration set for SQLite and PostgreSQL.
//!
//! Every tenant-owned table has `tenant_id` leading its primary key and every foreign key,
//! so PostgreSQL can distribute by tenant (Citus) without change. Ids are UUID text; money
//! and meter values are exact scaled integers (`_x100` = hundredths), never floats.

pub use sea_orm_migration;
use sea_orm_migration::prelude::*;

mod m0001_foundation;
mod m0002_money;
mod m0003_control;
mod m0004_identity;
mod m0005_payments;
mod m0006_payee_credentials;
mod m0007_corrections;
mod m0008_desk;
mod m0009_console;
mod m0010_billing_completion;
mod m0011_customer_pages;
mod m0012_forwarding;
mod m0013_report_schedules;
mod m0014_forward_lease;
mod m0015_forward_mqtt;
mod m0016_device_profiles;
mod m0017_register_maps;
mod m0018_job_leases;
mod m0019_global_keys;
mod m0020_device_lookups;
mod m0021_meters_by_account;
mod m0022_meter_counts;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_foundation::Migration),
            Box::new(m0002_money::Migration),
            Box::new(m0003_control::Migration),
            Box::new(m0004_identity::Migration),
            Box::new(m0005_payments::Migration),
            Box::new(m0006_payee_credentials::Migration),
            Box::new(m0007_corrections::Migration),
            Box::new(m0008_desk::Migration),
            Box::new(m0009_console::Migration),
            Box::new(m0010_billing_completion::Migration),
            Box::new(m0011_customer_pages::Migration),
            Box::new(m0012_forwarding::Migration),
            Box::new(m0013_report_schedules::Migration),
            Box::new(m0014_forward_lease::Migration),
            Box::new(m0015_forward_mqtt::Migration),
            Box::new(m0016_device_profiles::Migration),
            Box::new(m0017_register_maps::Migration),
            Box::new(m0018_job_leases::Migration),
            Box::new(m0019_global_keys::Migration),
            Box::new(m0020_device_lookups::Migration),
            Box::new(m0021_meters_by_account::Migration),
            Box::new(m0022_meter_counts::Migration),
        ]
    }
}

/// Column types that differ between the two backends.
pub(crate) struct Dialect {
    pub timestamp: &'static str,
}

impl Dialect {
    pub fn of(manager: &SchemaManager) -> Self {
        match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Postgres => Self { timestamp: "TIMESTAMPTZ" },
            _ => Self { timestamp: "TEXT" },
        }
    }

    /// Replaces `{ts}` in DDL with the backend's timestamp type.
    pub fn render(&self, ddl: &str) -> String {
        ddl.replace("{ts}", self.timestamp)
    }
}

/// Runs DDL statements in order, `{ts}` rendered for the backend.
pub(crate) async fn apply(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let dialect = Dialect::of(manager);
    let db = manager.get_connection();
    for ddl in statements {
        db.execute_unprepared(&dialect.render(ddl)).await?;
    }
    Ok(())
}

/// On PostgreSQL only: runs the statements as they are (policies, roles, functions).
pub(crate) async fn apply_on_postgres(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    if manager.get_database_backend() != sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
    for ddl in statements {
        db.execute_unprepared(ddl).await?;
    }
    Ok(())
}
