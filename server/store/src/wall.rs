//! The second wall (PostgreSQL row-level security). Every tenant-owned table carries the
//! policy `tenant_wall`: when a transaction names a tenant (`voltledger.tenant`), it sees
//! and writes only that tenant's rows. [`TenantDb`] runs every statement of a
//! [`TenantStore`](super::TenantStore) in such a transaction; platform code names no tenant.
//! The first wall stays the `tenant_id = $1` every statement binds. SQLite has no RLS: there
//! `TenantDb` passes statements straight through.

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement};

use domain::ids::TenantId;

/// The role the application runs as on PostgreSQL, so the policies apply (superusers and the
/// tables' owner bypass them).
pub const APP_ROLE: &str = "voltledger_app";

/// A tenant's connection: statements run in transactions that name the tenant.
pub struct TenantDb<'a> {
    pub(super) db: &'a DatabaseConnection,
    pub(super) tenant: &'a TenantId,
}

impl TenantDb<'_> {
    /// A transaction naming the tenant (PostgreSQL), or a plain one (SQLite).
    pub async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        let txn = super::begin_write(self.db).await?;
        if self.db.get_database_backend() == DbBackend::Postgres {
            // The id is a parsed UUID (TenantId), so it is safe to inline.
            // Its tenant, and not the platform (whose connections see every tenant).
            txn.execute_unprepared(&format!(
                "SELECT set_config('voltledger.tenant', '{}', true), set_config('voltledger.platform', 'off', true)",
                self.tenant.as_str()
            ))
            .await?;
        }
        Ok(txn)
    }

    fn walled(&self) -> bool {
        self.db.get_database_backend() == DbBackend::Postgres
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for TenantDb<'_> {
    fn get_database_backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        if !self.walled() {
            return self.db.execute_raw(stmt).await;
        }
        let txn = self.begin().await?;
        let r = txn.execute_raw(stmt).await?;
        txn.commit().await?;
        Ok(r)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        if !self.walled() {
            return self.db.execute_unprepared(sql).await;
        }
        let txn = self.begin().await?;
        let r = txn.execute_unprepared(sql).await?;
        txn.commit().await?;
        Ok(r)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        if !self.walled() {
            return self.db.query_one_raw(stmt).await;
        }
        let txn = self.begin().await?;
        let r = txn.query_one_raw(stmt).await?;
        txn.commit().await?;
        Ok(r)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        if !self.walled() {
            return self.db.query_all_raw(stmt).await;
        }
        let txn = self.begin().await?;
        let r = txn.query_all_raw(stmt).await?;
        txn.commit().await?;
        Ok(r)
    }
}
