//! Modbus-RTU meters (F9) and vendor JSON devices (F43), issue 20: a device profile may carry
//! a register map (`domain::register_map`, scheme `MODBUS`) or a JSON map
//! (`domain::vendor_json`, scheme `VENDOR-JSON`), both stored as JSON; its reads are the
//! map's items.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "ALTER TABLE device_profiles ADD COLUMN register_map TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE device_profiles ADD COLUMN json_map TEXT NOT NULL DEFAULT ''",
];

const DOWN: &[&str] = &["ALTER TABLE device_profiles DROP COLUMN json_map", "ALTER TABLE device_profiles DROP COLUMN register_map"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, DOWN).await
    }
}
