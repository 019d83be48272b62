//! The customers' mobile pages (issue 18): the tenant's WeChat official account, whose web
//! authorization signs customers in inside WeChat's browser; and the contact the property
//! shows its customers.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    // One official account per tenant; its secret wrapped with the KEK like the mini-program's.
    "CREATE TABLE wechat_official_accounts (
        tenant_id TEXT NOT NULL PRIMARY KEY REFERENCES tenants (id),
        app_id TEXT NOT NULL UNIQUE,
        wrapped_secret TEXT NOT NULL,
        api_base TEXT NOT NULL,
        -- WeChat's web authorization page (a stand-in's in the demo).
        authorize_url TEXT NOT NULL,
        updated_at {ts} NOT NULL
    )",
    "ALTER TABLE properties ADD COLUMN contact_name TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE properties ADD COLUMN contact_phone TEXT NOT NULL DEFAULT ''",
];

const DOWN: &[&str] = &["DROP TABLE wechat_official_accounts"];

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
