//! Forwarding by MQTT (issue 19): a target is a webhook (`WEBHOOK`, as before) or the park's
//! own broker (`MQTT`: `url` is `mqtts://host:port/topic-prefix`), reached with the park's
//! credentials — the username in the clear, the password wrapped with the KEK like the
//! signing secret.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "ALTER TABLE forward_targets ADD COLUMN transport TEXT NOT NULL DEFAULT 'WEBHOOK'",
    "ALTER TABLE forward_targets ADD COLUMN username TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE forward_targets ADD COLUMN wrapped_password TEXT NOT NULL DEFAULT ''",
];

const DOWN: &[&str] = &[
    "ALTER TABLE forward_targets DROP COLUMN wrapped_password",
    "ALTER TABLE forward_targets DROP COLUMN username",
    "ALTER TABLE forward_targets DROP COLUMN transport",
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
