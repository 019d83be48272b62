//! Distributable by tenant (issue 21, part 6). On Citus every unique index of a table
//! distributed by `tenant_id` must contain `tenant_id`; eight did not. Now:
//! - keys that must be unique across tenants because something finds its tenant by them —
//!   a device's broker login, a park platform's client id, a WeChat mini-program's and an
//!   official account's AppID, a payment's and a refund's order number — are claimed in
//!   `global_keys` (a small table Citus keeps as a reference table, on every node) in the
//!   transaction that writes them, and their own unique index leads with `tenant_id`;
//! - keys unique within a tenant only lead with `tenant_id` too: WeChat's transaction id (a
//!   notification reaches its order by the order number, which is global; the transaction
//!   id only keeps one payment from crediting two of a tenant's orders) and a refresh
//!   token's hash (256 random bits);
//! - each keeps a plain index for the lookups by the key alone.
//!
//! SQLite (the single box, never distributed) keeps its inline constraints, which it cannot
//! drop; `global_keys` is written on both. `infra/citus/` distributes the tables.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE global_keys (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        tenant_id TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    )",
    "INSERT INTO global_keys (kind, key, tenant_id) SELECT 'device_username', username, tenant_id FROM device_credentials",
    "INSERT INTO global_keys (kind, key, tenant_id) SELECT 'park_client', client_id, tenant_id FROM park_clients",
    "INSERT INTO global_keys (kind, key, tenant_id) SELECT 'wechat_app', app_id, tenant_id FROM wechat_apps",
    "INSERT INTO global_keys (kind, key, tenant_id) SELECT 'official_account', app_id, tenant_id FROM wechat_official_accounts",
    "INSERT INTO global_keys (kind, key, tenant_id) SELECT 'out_trade_no', out_trade_no, tenant_id FROM payment_orders",
    "INSERT INTO global_keys (kind, key, tenant_id) SELECT 'out_refund_no', out_refund_no, tenant_id FROM payment_refunds",
];

const POSTGRES: &[&str] = &[
    "DROP INDEX device_credentials_username",
    "CREATE UNIQUE INDEX device_credentials_username ON device_credentials (tenant_id, username)",
    "CREATE INDEX device_credentials_by_username ON device_credentials (username)",
    "ALTER TABLE park_clients DROP CONSTRAINT park_clients_client_id_key",
    "ALTER TABLE park_clients ADD CONSTRAINT park_clients_client_id_key UNIQUE (tenant_id, client_id)",
    "CREATE INDEX park_clients_by_client_id ON park_clients (client_id)",
    "ALTER TABLE payment_orders DROP CONSTRAINT payment_orders_out_trade_no_key",
    "ALTER TABLE payment_orders ADD CONSTRAINT payment_orders_out_trade_no_key UNIQUE (tenant_id, out_trade_no)",
    "CREATE INDEX payment_orders_by_out_trade_no ON payment_orders (out_trade_no)",
    "ALTER TABLE payment_orders DROP CONSTRAINT payment_orders_transaction_id_key",
    "ALTER TABLE payment_orders ADD CONSTRAINT payment_orders_transaction_id_key UNIQUE (tenant_id, transaction_id)",
    "CREATE INDEX payment_orders_by_transaction_id ON payment_orders (transaction_id)",
    "ALTER TABLE payment_refunds DROP CONSTRAINT payment_refunds_out_refund_no_key",
    "ALTER TABLE payment_refunds ADD CONSTRAINT payment_refunds_out_refund_no_key UNIQUE (tenant_id, out_refund_no)",
    "CREATE INDEX payment_refunds_by_out_refund_no ON payment_refunds (out_refund_no)",
    "ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_pkey",
    "ALTER TABLE refresh_tokens ADD PRIMARY KEY (tenant_id, token_hash)",
    "CREATE INDEX refresh_tokens_by_hash ON refresh_tokens (token_hash)",
    "ALTER TABLE wechat_apps DROP CONSTRAINT wechat_apps_app_id_key",
    "ALTER TABLE wechat_apps ADD CONSTRAINT wechat_apps_app_id_key UNIQUE (tenant_id, app_id)",
    "CREATE INDEX wechat_apps_by_app_id ON wechat_apps (app_id)",
    "ALTER TABLE wechat_official_accounts DROP CONSTRAINT wechat_official_accounts_app_id_key",
    "ALTER TABLE wechat_official_accounts ADD CONSTRAINT wechat_official_accounts_app_id_key UNIQUE (tenant_id, app_id)",
    "CREATE INDEX wechat_official_accounts_by_app_id ON wechat_official_accounts (app_id)",
    // The tenant wall on the new table too.
    "SELECT voltledger_tenant_wall()",
];

const DOWN: &[&str] = &["DROP TABLE global_keys"];

const DOWN_POSTGRES: &[&str] = &[
    "DROP INDEX device_credentials_by_username",
    "DROP INDEX device_credentials_username",
    "CREATE UNIQUE INDEX device_credentials_username ON device_credentials (username)",
    "DROP INDEX park_clients_by_client_id",
    "ALTER TABLE park_clients DROP CONSTRAINT park_clients_client_id_key",
    "ALTER TABLE park_clients ADD CONSTRAINT park_clients_client_id_key UNIQUE (client_id)",
    "DROP INDEX payment_orders_by_out_trade_no",
    "ALTER TABLE payment_orders DROP CONSTRAINT payment_orders_out_trade_no_key",
    "ALTER TABLE payment_orders ADD CONSTRAINT payment_orders_out_trade_no_key UNIQUE (out_trade_no)",
    "DROP INDEX payment_orders_by_transaction_id",
    "ALTER TABLE payment_orders DROP CONSTRAINT payment_orders_transaction_id_key",
    "ALTER TABLE payment_orders ADD CONSTRAINT payment_orders_transaction_id_key UNIQUE (transaction_id)",
    "DROP INDEX payment_refunds_by_out_refund_no",
    "ALTER TABLE payment_refunds DROP CONSTRAINT payment_refunds_out_refund_no_key",
    "ALTER TABLE payment_refunds ADD CONSTRAINT payment_refunds_out_refund_no_key UNIQUE (out_refund_no)",
    "DROP INDEX refresh_tokens_by_hash",
    "ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_pkey",
    "ALTER TABLE refresh_tokens ADD PRIMARY KEY (token_hash)",
    "DROP INDEX wechat_apps_by_app_id",
    "ALTER TABLE wechat_apps DROP CONSTRAINT wechat_apps_app_id_key",
    "ALTER TABLE wechat_apps ADD CONSTRAINT wechat_apps_app_id_key UNIQUE (app_id)",
    "DROP INDEX wechat_official_accounts_by_app_id",
    "ALTER TABLE wechat_official_accounts DROP CONSTRAINT wechat_official_accounts_app_id_key",
    "ALTER TABLE wechat_official_accounts ADD CONSTRAINT wechat_official_accounts_app_id_key UNIQUE (app_id)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, UP).await?;
        crate::apply_on_postgres(manager, POSTGRES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply_on_postgres(manager, DOWN_POSTGRES).await?;
        crate::apply(manager, DOWN).await
    }
}
