//! Device profiles (issue 20): a tenant's meter models — what a read asks for and how the relay
//! is commanded (the plain scheme's password kept wrapped with the KEK) — a meter's profile
//! (none: the platform's default), the identifiers a meter answered "no requested data" for
//! (its reads ask for their parts from then on).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE device_profiles (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        -- Hex data identifiers, comma-separated, in the order a read asks for them.
        reads TEXT NOT NULL,
        -- VL3DES-1 or DLT645-PLAIN.
        scheme TEXT NOT NULL,
        password_level INTEGER NOT NULL DEFAULT 2,
        operator_code INTEGER NOT NULL DEFAULT 0,
        wrapped_password TEXT NOT NULL DEFAULT '',
        created_at {ts} NOT NULL,
        retired_at {ts},
        PRIMARY KEY (tenant_id, id)
    )",
    "ALTER TABLE meters ADD COLUMN profile_id TEXT",
    "CREATE TABLE meter_lacks (
        tenant_id TEXT NOT NULL,
        meter_id TEXT NOT NULL,
        di TEXT NOT NULL,
        reason TEXT NOT NULL,
        learned_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, meter_id, di)
    )",
    // Reads and time syncs awaiting their answers (looked up for every batch of replies).
    "CREATE INDEX commands_awaiting ON commands (tenant_id, meter_id, kind) WHERE status IN ('SENT', 'ACKNOWLEDGED')",
];

const DOWN: &[&str] =
    &["DROP INDEX commands_awaiting", "DROP TABLE meter_lacks", "ALTER TABLE meters DROP COLUMN profile_id", "DROP TABLE device_profiles"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, UP).await?;
        // The new tenant tables behind the row-level-security wall (docs/SECURITY.md).
        crate::apply_on_postgres(manager, &["SELECT voltledger_tenant_wall()"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, DOWN).await
    }
}
