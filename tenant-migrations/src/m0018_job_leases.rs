//! Production roles (issue 21): periodic platform work runs once per period across every
//! worker replica. A job's run is claimed in `job_leases` (one row per job, not per tenant):
//! the claim succeeds only when the period has passed since the last claimed run and no
//! other worker holds the lease; the lease is given back when the run ends, and lapses on
//! its own when the worker dies mid-run.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &["CREATE TABLE job_leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        started_at {ts} NOT NULL,
        lease_until {ts} NOT NULL,
        runs BIGINT NOT NULL DEFAULT 0
    )"];

const DOWN: &[&str] = &["DROP TABLE job_leases"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, DOWN).await
    }
}
