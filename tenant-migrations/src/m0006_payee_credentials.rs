//! Payments (issue 6, second part): payees that are their own WeChat Pay merchant (direct
//! mode) and payees' Alipay apps. Each is a credential set kept per payee and channel, its
//! secrets wrapped with the KEK, and the payee's verification keys (several during a
//! rotation).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &["CREATE TABLE payee_credentials (
        tenant_id TEXT NOT NULL,
        payee_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        app_id TEXT NOT NULL,
        merchant_id TEXT NOT NULL,
        serial TEXT NOT NULL DEFAULT '',
        wrapped_private_key TEXT NOT NULL,
        wrapped_secret TEXT NOT NULL DEFAULT '',
        verify_keys TEXT NOT NULL,
        api_base TEXT NOT NULL,
        notify_url TEXT NOT NULL,
        updated_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, payee_id, channel),
        FOREIGN KEY (tenant_id, payee_id) REFERENCES payees (tenant_id, id)
    )"];

const DOWN: &[&str] = &["DROP TABLE payee_credentials"];

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
