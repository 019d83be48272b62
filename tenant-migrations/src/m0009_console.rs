//! The platform console (issue 17): the SaaS operator's own logins and their sessions, apart
//! from every tenant (no tenant id, no row-level policy; only platform code reads them).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE platform_operators (
        id TEXT NOT NULL PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'ACTIVE',
        created_at {ts} NOT NULL,
        last_login_at {ts}
    )",
    "CREATE TABLE platform_sessions (
        id TEXT NOT NULL PRIMARY KEY,
        operator_id TEXT NOT NULL REFERENCES platform_operators (id),
        source TEXT NOT NULL DEFAULT '',
        created_at {ts} NOT NULL,
        expires_at {ts} NOT NULL,
        revoked_at {ts}
    )",
    "CREATE INDEX platform_sessions_operator ON platform_sessions (operator_id)",
    // `saas` and `SaaS` are one operator.
    "CREATE UNIQUE INDEX platform_operators_name ON platform_operators (lower(username))",
];

const DOWN: &[&str] = &["DROP INDEX platform_operators_name", "DROP TABLE platform_sessions", "DROP TABLE platform_operators"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, DOWN).await
    }
}
