//! Forwarding (issue 19): a target is sent to by one worker at a time — a pass takes a lease
//! on the target before it sends and gives it back after, so two workers (or a pass and a
//! manual run) never send the same deliveries twice.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &["ALTER TABLE forward_targets ADD COLUMN lease_until {ts}"];

const DOWN: &[&str] = &["ALTER TABLE forward_targets DROP COLUMN lease_until"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, DOWN).await
    }
}
