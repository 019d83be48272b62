//! Payments (issue 6, first part): the platform's WeChat Pay service-provider account,
//! payee sub-merchants per tenant (bound to a property or an area), and recharge orders.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE payment_provider (
        id TEXT NOT NULL PRIMARY KEY,
        sp_mchid TEXT NOT NULL,
        sp_appid TEXT NOT NULL,
        serial TEXT NOT NULL,
        wrapped_private_key TEXT NOT NULL,
        wrapped_api_v3_key TEXT NOT NULL,
        wechat_keys TEXT NOT NULL,
        api_base TEXT NOT NULL,
        notify_url TEXT NOT NULL,
        updated_at {ts} NOT NULL
    )",
    "CREATE TABLE payees (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        mode TEXT NOT NULL,
        sub_mchid TEXT NOT NULL,
        property_id TEXT,
        area_id TEXT,
        created_at {ts} NOT NULL,
        retired_at {ts},
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE TABLE payment_orders (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        out_trade_no TEXT NOT NULL UNIQUE,
        account_id TEXT NOT NULL,
        payee_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        amount_x100 BIGINT NOT NULL,
        openid TEXT NOT NULL,
        app_id TEXT NOT NULL,
        sub_mchid TEXT NOT NULL,
        prepay_id TEXT,
        state TEXT NOT NULL DEFAULT 'CREATED',
        transaction_id TEXT UNIQUE,
        entry_id TEXT,
        created_at {ts} NOT NULL,
        expires_at {ts} NOT NULL,
        paid_at {ts},
        checked_at {ts},
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id),
        FOREIGN KEY (tenant_id, payee_id) REFERENCES payees (tenant_id, id)
    )",
    "CREATE INDEX payment_orders_account ON payment_orders (tenant_id, account_id, created_at)",
    "CREATE TABLE payment_refunds (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        out_refund_no TEXT NOT NULL UNIQUE,
        amount_x100 BIGINT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'PROCESSING',
        refund_id TEXT,
        entry_id TEXT,
        reversal_entry_id TEXT,
        last_error TEXT NOT NULL DEFAULT '',
        created_at {ts} NOT NULL,
        finished_at {ts},
        checked_at {ts},
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, order_id) REFERENCES payment_orders (tenant_id, id)
    )",
    "CREATE TABLE reconciliations (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        payee_id TEXT NOT NULL,
        bill_date TEXT NOT NULL,
        ran_at {ts} NOT NULL,
        bill_rows INTEGER NOT NULL,
        matched INTEGER NOT NULL,
        discrepancies TEXT NOT NULL,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, payee_id, bill_date),
        FOREIGN KEY (tenant_id, payee_id) REFERENCES payees (tenant_id, id)
    )",
    "CREATE INDEX payment_orders_pending ON payment_orders (created_at) WHERE state = 'CREATED'",
];

const DOWN: &[&str] = &[
    "DROP TABLE reconciliations",
    "DROP TABLE payment_refunds",
    "DROP TABLE payment_orders",
    "DROP TABLE payees",
    "DROP TABLE payment_provider",
];

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
