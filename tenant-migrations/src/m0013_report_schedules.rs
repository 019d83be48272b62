//! Scheduled reports (issue 19): a tenant's schedules (which report, its filters, how often,
//! to whom: e-mail recipients or a webhook) and the runs they made, one per schedule and
//! period, each with its attempts and last error.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE report_schedules (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        -- An export name: sales, energy, meter-readings, low-balances, demand, lost-devices, ledger, bills, alarms.
        report TEXT NOT NULL,
        -- The export's filters as a query string (bucket=DAY&by=CHANNEL&propertyId=…); the range comes from the period.
        params TEXT NOT NULL DEFAULT '',
        -- xlsx or csv; zh or en.
        format TEXT NOT NULL DEFAULT 'xlsx',
        lang TEXT NOT NULL DEFAULT 'zh',
        -- DAILY, WEEKLY (Mondays) or MONTHLY (the 1st), sent at this local hour for the period just ended.
        cadence TEXT NOT NULL,
        hour INTEGER NOT NULL DEFAULT 8,
        -- EMAIL (recipients) or WEBHOOK (url, signed with the wrapped secret).
        channel TEXT NOT NULL,
        recipients TEXT NOT NULL DEFAULT '',
        url TEXT NOT NULL DEFAULT '',
        wrapped_secret TEXT NOT NULL DEFAULT '',
        -- ACTIVE, PAUSED or RETIRED.
        state TEXT NOT NULL DEFAULT 'ACTIVE',
        next_run_at {ts} NOT NULL,
        created_by TEXT NOT NULL,
        created_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE TABLE report_runs (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        schedule_id TEXT NOT NULL,
        period_from {ts} NOT NULL,
        period_to {ts} NOT NULL,
        -- PENDING (to send or retry), SENT or DEAD (gave up after a day).
        state TEXT NOT NULL DEFAULT 'PENDING',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at {ts} NOT NULL,
        last_error TEXT NOT NULL DEFAULT '',
        rows_sent BIGINT,
        created_at {ts} NOT NULL,
        sent_at {ts},
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, schedule_id, period_from)
    )",
    "CREATE INDEX report_runs_due ON report_runs (tenant_id, state, next_at)",
];

const DOWN: &[&str] = &["DROP TABLE report_runs", "DROP TABLE report_schedules"];

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
