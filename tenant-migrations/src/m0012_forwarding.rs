//! Forwarding to park platforms (issue 19): targets, the durable outbox of deliveries (one
//! row per event and target, written in the event's own transaction) and the log of every
//! request made to a target.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE forward_targets (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        url TEXT NOT NULL,
        -- The HMAC-SHA256 key requests are signed with, wrapped with the KEK.
        wrapped_secret TEXT NOT NULL,
        -- Comma-separated: READING, RECHARGE, BILL.
        events TEXT NOT NULL,
        -- Comma-separated property ids; empty = every property.
        properties TEXT NOT NULL DEFAULT '',
        -- ACTIVE, PAUSED (deliveries wait) or RETIRED.
        state TEXT NOT NULL DEFAULT 'ACTIVE',
        created_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE TABLE forward_deliveries (
        tenant_id TEXT NOT NULL,
        target_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        -- The event's key within its kind: a repeated event is the same delivery.
        ref TEXT NOT NULL,
        -- Order is kept per subject (the meter, the account).
        subject TEXT NOT NULL,
        at {ts} NOT NULL,
        created_at {ts} NOT NULL,
        -- PENDING, DELIVERED or DEAD.
        state TEXT NOT NULL DEFAULT 'PENDING',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at {ts} NOT NULL,
        first_failed_at {ts},
        last_error TEXT NOT NULL DEFAULT '',
        delivered_at {ts},
        PRIMARY KEY (tenant_id, target_id, kind, ref)
    )",
    "CREATE INDEX forward_pending ON forward_deliveries (tenant_id, target_id, state, at)",
    "CREATE TABLE forward_attempts (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        target_id TEXT NOT NULL,
        at {ts} NOT NULL,
        events INTEGER NOT NULL,
        status INTEGER NOT NULL,
        error TEXT NOT NULL DEFAULT '',
        duration_ms BIGINT NOT NULL,
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE INDEX forward_attempts_at ON forward_attempts (tenant_id, target_id, at)",
];

const DOWN: &[&str] = &["DROP TABLE forward_attempts", "DROP TABLE forward_deliveries", "DROP TABLE forward_targets"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, UP).await?;
        crate::apply_on_postgres(manager, &["SELECT voltledger_tenant_wall()"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, DOWN).await
    }
}
