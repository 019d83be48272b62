//! The portal's desk (issue 16): ledger entries record the operator who posted them (empty
//! for the platform's own postings: settlement, payment notifications), and the finance list
//! across accounts reads entries by time.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "ALTER TABLE ledger_entries ADD COLUMN created_by TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX ledger_created ON ledger_entries (tenant_id, created_at)",
];

const DOWN: &[&str] = &["DROP INDEX ledger_created", "ALTER TABLE ledger_entries DROP COLUMN created_by"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, DOWN).await
    }
}
