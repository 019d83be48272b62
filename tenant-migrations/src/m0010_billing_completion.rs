//! Portal part 2 (issue 17): shared areas without a common meter (a fixed amount per
//! period) and split by metered energy, retired groups, and each run's shares kept so a run
//! can be read back to the fen; the tenant's default balance thresholds for new accounts;
//! payment orders for post-paid bills; binding codes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    // A fixed-amount group has no common meter: `meter_id` is '' and this holds the fen.
    "ALTER TABLE allocation_groups ADD COLUMN fixed_amount_x100 BIGINT",
    "ALTER TABLE allocation_groups ADD COLUMN retired_at {ts}",
    "ALTER TABLE allocation_runs ADD COLUMN period TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE allocation_runs ADD COLUMN amount_x100 BIGINT NOT NULL DEFAULT 0",
    // One row per member of a run: its weight, its share, and where the share went.
    "CREATE TABLE allocation_shares (
        tenant_id TEXT NOT NULL,
        group_id TEXT NOT NULL,
        period_start {ts} NOT NULL,
        account_id TEXT NOT NULL,
        weight TEXT NOT NULL,
        amount_x100 BIGINT NOT NULL,
        -- POSTED (a ledger entry), ON_BILL (a post-paid member's bill line) or ZERO.
        disposition TEXT NOT NULL,
        entry_id TEXT,
        PRIMARY KEY (tenant_id, group_id, period_start, account_id)
    )",
    // The balance thresholds a new account gets when it is opened without its own.
    "ALTER TABLE tenants ADD COLUMN default_alarm1_x100 BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE tenants ADD COLUMN default_alarm2_x100 BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE tenants ADD COLUMN default_credit_limit_x100 BIGINT NOT NULL DEFAULT 0",
    // A tariff made by mistake leaves the lists; its versions stay for the history.
    "ALTER TABLE tariffs ADD COLUMN retired_at {ts}",
    // A customer's order to pay a post-paid bill (issue 18) names it; a recharge order has none.
    "ALTER TABLE payment_orders ADD COLUMN bill_id TEXT",
    // The binding code (绑定码) the property prints for the customer: wrapped with the KEK
    // (to print it again), found by its hash; wrong codes lock code binding for a while.
    "ALTER TABLE accounts ADD COLUMN binding_code_wrapped TEXT",
    "ALTER TABLE accounts ADD COLUMN binding_code_hash TEXT",
    "ALTER TABLE accounts ADD COLUMN binding_failures INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE accounts ADD COLUMN binding_locked_until {ts}",
];

const DOWN: &[&str] = &["DROP TABLE allocation_shares"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, UP).await?;
        // The tenant wall on the new table too.
        crate::apply_on_postgres(manager, &["SELECT voltledger_tenant_wall()"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, DOWN).await
    }
}
