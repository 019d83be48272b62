//! Control and watch: wrapped tenant keys and meter command counters (3DES profile),
//! command batches, friendly hours, alarms, notifications.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE tenant_keys (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        purpose TEXT NOT NULL,
        version INTEGER NOT NULL,
        wrapped TEXT NOT NULL,
        created_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, purpose, version)
    )",
    "CREATE TABLE meter_counters (
        tenant_id TEXT NOT NULL,
        meter_id TEXT NOT NULL,
        counter BIGINT NOT NULL,
        PRIMARY KEY (tenant_id, meter_id),
        FOREIGN KEY (tenant_id, meter_id) REFERENCES meters (tenant_id, id)
    )",
    "CREATE TABLE command_batches (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        id TEXT NOT NULL,
        kind TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        total INTEGER NOT NULL,
        created_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, id)
    )",
    "ALTER TABLE readings ADD COLUMN status_word_7 INTEGER",
    "ALTER TABLE meter_live ADD COLUMN status_word_7 INTEGER",
    "ALTER TABLE meter_live ADD COLUMN baseline_power_x10000 BIGINT",
    "ALTER TABLE commands ADD COLUMN batch_id TEXT",
    "ALTER TABLE commands ADD COLUMN replied_at {ts}",
    "CREATE INDEX commands_batch ON commands (tenant_id, batch_id) WHERE batch_id IS NOT NULL",
    "CREATE TABLE friendly_windows (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        weekdays INTEGER NOT NULL DEFAULT 0,
        on_date TEXT,
        start_minute INTEGER NOT NULL,
        end_minute INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE TABLE alarms (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        id TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        subject_kind TEXT NOT NULL,
        kind TEXT NOT NULL,
        severity TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'ACTIVE',
        parent_id TEXT,
        detail TEXT NOT NULL DEFAULT '',
        raised_at {ts} NOT NULL,
        cleared_at {ts},
        acknowledged_at {ts},
        acknowledged_by TEXT,
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE UNIQUE INDEX alarms_one_active ON alarms (tenant_id, subject_id, kind) WHERE state = 'ACTIVE'",
    "CREATE INDEX alarms_recent ON alarms (tenant_id, raised_at)",
    "CREATE TABLE notification_settings (
        tenant_id TEXT NOT NULL PRIMARY KEY REFERENCES tenants (id),
        provider TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        access_key_id TEXT NOT NULL,
        secret_wrapped TEXT NOT NULL,
        sign_name TEXT NOT NULL,
        sdk_app_id TEXT NOT NULL DEFAULT '',
        region TEXT NOT NULL DEFAULT '',
        contacts TEXT NOT NULL DEFAULT '',
        quiet_start INTEGER,
        quiet_end INTEGER,
        daily_limit INTEGER NOT NULL DEFAULT 5,
        updated_at {ts} NOT NULL
    )",
    "CREATE TABLE notification_templates (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        alarm_kind TEXT NOT NULL,
        template_code TEXT NOT NULL,
        PRIMARY KEY (tenant_id, alarm_kind)
    )",
    "CREATE TABLE notifications (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        id TEXT NOT NULL,
        alarm_id TEXT NOT NULL,
        alarm_kind TEXT NOT NULL,
        recipient TEXT NOT NULL,
        template_code TEXT NOT NULL,
        params TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'PENDING',
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT NOT NULL DEFAULT '',
        provider_ref TEXT,
        created_at {ts} NOT NULL,
        next_attempt_at {ts} NOT NULL,
        sent_at {ts},
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, alarm_id, recipient)
    )",
    "CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'PENDING'",
    "CREATE INDEX notifications_recipient ON notifications (tenant_id, recipient, sent_at)",
];

const DOWN: &[&str] = &[
    "DROP TABLE notifications",
    "DROP TABLE notification_templates",
    "DROP TABLE notification_settings",
    "DROP TABLE alarms",
    "DROP TABLE friendly_windows",
    "DROP INDEX commands_batch",
    "DROP TABLE command_batches",
    "DROP TABLE meter_counters",
    "DROP TABLE tenant_keys",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, DOWN).await
    }
}
