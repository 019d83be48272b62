//! Money: tariffs and their versions, account terms, the ledger, settlement cursors and
//! anomalies, decided commands, meter-side purchases, freezes, bills, shared-area groups.
//!
//! Exact decimals that are not fen (prices, sub-fen carries, percentages) are stored as
//! decimal text; fen and hundredths of kWh as scaled integers.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_money"
    }
}

const UP: &[&str] = &[
    "ALTER TABLE tenants ADD COLUMN default_tariff_id TEXT",
    "ALTER TABLE tenants ADD COLUMN catalogue_price TEXT",
    "ALTER TABLE tenants ADD COLUMN price_margin_percent TEXT NOT NULL DEFAULT '15'",
    "ALTER TABLE tenants ADD COLUMN jump_limit_kw TEXT NOT NULL DEFAULT '100'",
    "ALTER TABLE tenants ADD COLUMN settlement_day INTEGER NOT NULL DEFAULT 1",
    "ALTER TABLE tenants ADD COLUMN settlement_hour INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE tenants ADD COLUMN fee_percent TEXT NOT NULL DEFAULT '0'",
    "ALTER TABLE tenants ADD COLUMN fee_fixed_x100 BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE properties ADD COLUMN tariff_id TEXT",
    "ALTER TABLE properties ADD COLUMN fee_percent TEXT",
    "ALTER TABLE properties ADD COLUMN fee_fixed_x100 BIGINT",
    "ALTER TABLE meters ADD COLUMN tariff_id TEXT",
    "ALTER TABLE accounts ADD COLUMN carry TEXT NOT NULL DEFAULT '0'",
    "ALTER TABLE accounts ADD COLUMN credit_limit_x100 BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE accounts ADD COLUMN alarm1_x100 BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE accounts ADD COLUMN alarm2_x100 BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE accounts ADD COLUMN hold_power INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE accounts ADD COLUMN relay_wanted TEXT NOT NULL DEFAULT 'CLOSED'",
    "ALTER TABLE accounts ADD COLUMN balance_state TEXT NOT NULL DEFAULT 'NORMAL'",
    "ALTER TABLE accounts ADD COLUMN tier_cycle TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE accounts ADD COLUMN tier_used_x100 BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE accounts ADD COLUMN property_fee_x100 BIGINT NOT NULL DEFAULT 0",
    "CREATE TABLE tariffs (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE TABLE tariff_versions (
        tenant_id TEXT NOT NULL,
        tariff_id TEXT NOT NULL,
        effective_from {ts} NOT NULL,
        spec TEXT NOT NULL,
        above_cap INTEGER NOT NULL DEFAULT 0,
        created_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, tariff_id, effective_from),
        FOREIGN KEY (tenant_id, tariff_id) REFERENCES tariffs (tenant_id, id)
    )",
    "CREATE TABLE tenant_counters (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        name TEXT NOT NULL,
        value BIGINT NOT NULL,
        PRIMARY KEY (tenant_id, name)
    )",
    "CREATE TABLE ledger_entries (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        account_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        amount_x100 BIGINT NOT NULL,
        created_at {ts} NOT NULL,
        receipt_no BIGINT,
        meter_id TEXT,
        read_at {ts},
        reverses_id TEXT,
        external_ref TEXT,
        detail TEXT NOT NULL DEFAULT '',
        note TEXT NOT NULL DEFAULT '',
        invoiced_at {ts},
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
    )",
    "CREATE INDEX ledger_account ON ledger_entries (tenant_id, account_id, created_at)",
    "CREATE INDEX ledger_receipt ON ledger_entries (tenant_id, receipt_no) WHERE receipt_no IS NOT NULL",
    "CREATE UNIQUE INDEX ledger_energy_once ON ledger_entries (tenant_id, meter_id, read_at) WHERE kind = 'ENERGY_CHARGE'",
    "CREATE UNIQUE INDEX ledger_reversed_once ON ledger_entries (tenant_id, reverses_id) WHERE reverses_id IS NOT NULL",
    "CREATE UNIQUE INDEX ledger_external_once ON ledger_entries (tenant_id, kind, external_ref) WHERE external_ref IS NOT NULL",
    "CREATE TABLE meter_settlement (
        tenant_id TEXT NOT NULL,
        meter_id TEXT NOT NULL,
        read_at {ts} NOT NULL,
        total_x100 BIGINT NOT NULL,
        t1_x100 BIGINT,
        t2_x100 BIGINT,
        t3_x100 BIGINT,
        t4_x100 BIGINT,
        PRIMARY KEY (tenant_id, meter_id),
        FOREIGN KEY (tenant_id, meter_id) REFERENCES meters (tenant_id, id)
    )",
    "CREATE TABLE settlement_anomalies (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        meter_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL,
        read_at {ts} NOT NULL,
        detected_at {ts} NOT NULL,
        resolved_at {ts},
        resolution TEXT,
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE UNIQUE INDEX anomalies_open_once ON settlement_anomalies (tenant_id, meter_id, kind) WHERE resolved_at IS NULL",
    "CREATE TABLE commands (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        meter_id TEXT NOT NULL,
        account_id TEXT,
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        payload TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'QUEUED',
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at {ts} NOT NULL,
        queued_at {ts},
        sent_at {ts},
        confirmed_at {ts},
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE INDEX commands_pending ON commands (status, created_at) WHERE status IN ('QUEUED', 'SENT')",
    "CREATE INDEX commands_meter ON commands (tenant_id, meter_id, created_at)",
    "CREATE TABLE meter_purchases (
        tenant_id TEXT NOT NULL,
        meter_id TEXT NOT NULL,
        counter BIGINT NOT NULL,
        amount_x100 BIGINT NOT NULL,
        entry_id TEXT NOT NULL,
        command_id TEXT NOT NULL,
        created_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, meter_id, counter)
    )",
    "CREATE TABLE meter_replacements (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        account_id TEXT NOT NULL,
        old_meter_id TEXT NOT NULL,
        new_meter_id TEXT NOT NULL,
        old_final_x100 BIGINT NOT NULL,
        new_initial_x100 BIGINT NOT NULL,
        replaced_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE TABLE freezes (
        tenant_id TEXT NOT NULL,
        meter_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        frozen_at {ts} NOT NULL,
        read_at {ts} NOT NULL,
        total_x100 BIGINT NOT NULL,
        t1_x100 BIGINT,
        t2_x100 BIGINT,
        t3_x100 BIGINT,
        t4_x100 BIGINT,
        source TEXT NOT NULL,
        PRIMARY KEY (tenant_id, meter_id, kind, frozen_at)
    )",
    "CREATE TABLE interval_costs (
        tenant_id TEXT NOT NULL,
        meter_id TEXT NOT NULL,
        read_at {ts} NOT NULL,
        cost TEXT NOT NULL,
        rerated_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, meter_id, read_at)
    )",
    "CREATE TABLE bills (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        account_id TEXT NOT NULL,
        period TEXT NOT NULL,
        version INTEGER NOT NULL,
        state TEXT NOT NULL,
        total_x100 BIGINT NOT NULL,
        period_start {ts} NOT NULL,
        period_end {ts} NOT NULL,
        created_at {ts} NOT NULL,
        issued_at {ts},
        paid_at {ts},
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, account_id, period, version)
    )",
    "CREATE TABLE bill_lines (
        tenant_id TEXT NOT NULL,
        bill_id TEXT NOT NULL,
        line_no INTEGER NOT NULL,
        kind TEXT NOT NULL,
        meter_id TEXT,
        description TEXT NOT NULL,
        quantity TEXT NOT NULL,
        unit_price TEXT NOT NULL,
        amount_x100 BIGINT NOT NULL,
        PRIMARY KEY (tenant_id, bill_id, line_no)
    )",
    "CREATE TABLE allocation_groups (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        meter_id TEXT NOT NULL,
        method TEXT NOT NULL,
        created_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE TABLE allocation_members (
        tenant_id TEXT NOT NULL,
        group_id TEXT NOT NULL,
        account_id TEXT NOT NULL,
        weight TEXT NOT NULL,
        PRIMARY KEY (tenant_id, group_id, account_id)
    )",
    "CREATE TABLE allocation_runs (
        tenant_id TEXT NOT NULL,
        group_id TEXT NOT NULL,
        period_start {ts} NOT NULL,
        period_end {ts} NOT NULL,
        energy_x100 BIGINT NOT NULL,
        created_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, group_id, period_start)
    )",
];

const DOWN: &[&str] = &[
    "DROP TABLE allocation_runs",
    "DROP TABLE allocation_members",
    "DROP TABLE allocation_groups",
    "DROP TABLE bill_lines",
    "DROP TABLE bills",
    "DROP TABLE interval_costs",
    "DROP TABLE freezes",
    "DROP TABLE meter_replacements",
    "DROP TABLE meter_purchases",
    "DROP TABLE commands",
    "DROP TABLE settlement_anomalies",
    "DROP TABLE meter_settlement",
    "DROP TABLE ledger_entries",
    "DROP TABLE tenant_counters",
    "DROP TABLE tariff_versions",
    "DROP TABLE tariffs",
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
