//! Device logins found by their meter or gateway (issue 22). The credential and routing
//! caches join `device_credentials` to `meters` on (tenant, meter) and (tenant, gateway);
//! without an index on those columns PostgreSQL could only use the (tenant, username) index's
//! tenant prefix, and when its statistics predate a tenant's fleet (a new tenant, a large
//! import) it planned a nested loop that reads the tenant's every login once per meter: 394 ms
//! for 821 meters during a benchmark's provisioning, and quadratic in the fleet.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE INDEX device_credentials_meter ON device_credentials (tenant_id, meter_id)",
    "CREATE INDEX device_credentials_gateway ON device_credentials (tenant_id, gateway_id)",
];

const DOWN: &[&str] = &["DROP INDEX device_credentials_gateway", "DROP INDEX device_credentials_meter"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, DOWN).await
    }
}
