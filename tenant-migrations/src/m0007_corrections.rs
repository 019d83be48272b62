//! Corrections (issue 13): payments that arrive for an order already paid or closed are kept
//! as payment differences for refund instead of being credited; every tenant without
//! friendly hours gets the default windows (no automatic trips 20:00–08:00 nor at weekends).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE payment_differences (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        payee_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        transaction_id TEXT NOT NULL,
        amount_x100 BIGINT NOT NULL,
        paid_at {ts} NOT NULL,
        reason TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'OPEN',
        resolution TEXT NOT NULL DEFAULT '',
        resolved_by TEXT,
        resolved_at {ts},
        created_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, order_id) REFERENCES payment_orders (tenant_id, id)
    )",
    "CREATE UNIQUE INDEX payment_differences_once ON payment_differences (tenant_id, channel, transaction_id)",
    "CREATE INDEX payment_differences_open ON payment_differences (tenant_id, payee_id, state)",
    // The SaaS operator's actions (issue 14): a platform table, so no tenant_id column.
    "CREATE TABLE platform_audit (
        id TEXT NOT NULL PRIMARY KEY,
        at {ts} NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject_tenant TEXT,
        input TEXT NOT NULL,
        outcome TEXT NOT NULL,
        source TEXT NOT NULL
    )",
    "CREATE INDEX platform_audit_at ON platform_audit (at)",
    // Which company a merchant number (WeChat sub-merchant or mchid, Alipay seller) or an
    // Alipay app belongs to, platform-wide: a platform table (no tenant_id), so its primary
    // key decides between two companies registering the same merchant at once.
    "CREATE TABLE merchant_owners (
        kind TEXT NOT NULL,
        number TEXT NOT NULL,
        owner_tenant TEXT NOT NULL,
        claimed_at {ts} NOT NULL,
        PRIMARY KEY (kind, number)
    )",
    "INSERT INTO merchant_owners (kind, number, owner_tenant, claimed_at)
     SELECT 'MERCHANT', sub_mchid, MIN(tenant_id), MIN(created_at) FROM payees WHERE sub_mchid <> '' GROUP BY sub_mchid",
];

/// Default friendly hours for tenants that have none (ids made by the database).
const WINDOWS_SQLITE: &[&str] = &["INSERT INTO friendly_windows (tenant_id, id, name, weekdays, on_date, start_minute, end_minute)
     SELECT t.id, lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a'
            || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))), w.name, w.weekdays, NULL, w.s, w.e
     FROM tenants t, (SELECT '夜间 Night' AS name, 127 AS weekdays, 1200 AS s, 480 AS e
                      UNION ALL SELECT '周末 Weekend', 96, 0, 1440) w
     WHERE NOT EXISTS (SELECT 1 FROM friendly_windows f WHERE f.tenant_id = t.id)"];
const WINDOWS_POSTGRES: &[&str] = &["INSERT INTO friendly_windows (tenant_id, id, name, weekdays, on_date, start_minute, end_minute)
     SELECT t.id, gen_random_uuid()::text, w.name, w.weekdays, NULL, w.s, w.e
     FROM tenants t, (VALUES ('夜间 Night', 127, 1200, 480), ('周末 Weekend', 96, 0, 1440)) AS w (name, weekdays, s, e)
     WHERE NOT EXISTS (SELECT 1 FROM friendly_windows f WHERE f.tenant_id = t.id)"];

/// Fail closed (issue 14): the tenant wall shows a statement no rows unless it names its
/// tenant, or its connection says it is the platform's (`voltledger.platform = on`, set by the
/// server for its own connections). Before, a statement that named no tenant saw them all.
/// Replaces the policy on every tenant table; later migrations call the function again.
const FAIL_CLOSED_WALL: &[&str] = &[
    "CREATE OR REPLACE FUNCTION voltledger_tenant_wall() RETURNS void LANGUAGE plpgsql AS $$
     DECLARE t text;
     BEGIN
        FOR t IN SELECT c.table_name FROM information_schema.columns c
                 JOIN pg_class k ON k.relname = c.table_name AND k.relnamespace = current_schema()::regnamespace
                 WHERE c.column_name = 'tenant_id' AND c.table_schema = current_schema() AND k.relkind = 'r'
        LOOP
            EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
            EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
            EXECUTE format('DROP POLICY IF EXISTS tenant_wall ON %I', t);
            EXECUTE format($p$CREATE POLICY tenant_wall ON %I
                USING (tenant_id = current_setting('voltledger.tenant', true) OR current_setting('voltledger.platform', true) = 'on')
                WITH CHECK (tenant_id = current_setting('voltledger.tenant', true) OR current_setting('voltledger.platform', true) = 'on')$p$, t);
        END LOOP;
     END $$",
];

const DOWN: &[&str] = &["DROP TABLE merchant_owners", "DROP TABLE platform_audit", "DROP TABLE payment_differences"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, UP).await?;
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            crate::apply_on_postgres(manager, WINDOWS_POSTGRES).await?;
        } else {
            crate::apply(manager, WINDOWS_SQLITE).await?;
        }
        crate::apply_on_postgres(manager, FAIL_CLOSED_WALL).await?;
        crate::apply_on_postgres(manager, &["SELECT voltledger_tenant_wall()"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, DOWN).await
    }
}
