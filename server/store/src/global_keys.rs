//! Keys unique across tenants (issue 21, part 6): something finds its tenant by them, so two
//! tenants must never hold one. Each is claimed in `global_keys` in the transaction that
//! writes it; the table's primary key `(kind, key)` refuses a second claim, so the writer
//! gets [`StoreError::Duplicate`](super::StoreError) as the old unique index gave it. The
//! tenant tables' own unique indexes lead with `tenant_id`, which lets Citus distribute them
//! by tenant (`global_keys` is a reference table there: infra/citus/).

use sea_orm::ConnectionTrait;

use super::{Result, stmt};

/// What a global key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GlobalKey {
    /// A device's broker login (`device_credentials.username`).
    DeviceUsername,
    /// A park platform's OAuth client id.
    ParkClient,
    /// A WeChat mini-program's AppID.
    WechatApp,
    /// A WeChat official account's AppID.
    OfficialAccount,
    /// A payment order's number (WeChat Pay's and Alipay's `out_trade_no`).
    OutTradeNo,
    /// A refund's number (`out_refund_no`).
    OutRefundNo,
}

impl GlobalKey {
    pub(crate) fn kind(self) -> &'static str {
        match self {
            GlobalKey::DeviceUsername => "device_username",
            GlobalKey::ParkClient => "park_client",
            GlobalKey::WechatApp => "wechat_app",
            GlobalKey::OfficialAccount => "official_account",
            GlobalKey::OutTradeNo => "out_trade_no",
            GlobalKey::OutRefundNo => "out_refund_no",
        }
    }
}

impl super::TenantStore {
    /// Claims `key` for this tenant on `conn` (the transaction writing the row that holds
    /// it); `Duplicate` when any tenant holds it already.
    pub(crate) async fn claim_global<C: ConnectionTrait>(&self, conn: &C, kind: GlobalKey, key: &str) -> Result<()> {
        let sql = "INSERT INTO global_keys (tenant_id, kind, key) VALUES ($1, $2, $3)";
        conn.execute_raw(stmt(self.backend(), sql, self.args().s(kind.kind()).s(key))).await?;
        Ok(())
    }

    /// Claims `key` for this tenant unless it holds it already; `Duplicate` when another
    /// tenant does. (Not an upsert: on PostgreSQL the tenant wall makes an `ON CONFLICT DO
    /// UPDATE` over another tenant's row an error, where a plain insert meets the key.)
    pub(crate) async fn hold_global<C: ConnectionTrait>(&self, conn: &C, kind: GlobalKey, key: &str) -> Result<()> {
        let sql = "SELECT 1 AS held FROM global_keys WHERE tenant_id = $1 AND kind = $2 AND key = $3";
        if conn.query_one_raw(stmt(self.backend(), sql, self.args().s(kind.kind()).s(key))).await?.is_some() {
            return Ok(());
        }
        self.claim_global(conn, kind, key).await
    }

    /// Gives back every key of `kind` this tenant holds but `keep` (a replaced AppID). Run
    /// with [`Self::hold_global`] after the row naming `keep` is written: that write holds
    /// the row's lock until the transaction ends, so a concurrent change by the same tenant
    /// waits for it, and the last writer's key is the one left.
    pub(crate) async fn release_global_except<C: ConnectionTrait>(&self, conn: &C, kind: GlobalKey, keep: &str) -> Result<()> {
        let sql = "DELETE FROM global_keys WHERE tenant_id = $1 AND kind = $2 AND key <> $3";
        conn.execute_raw(stmt(self.backend(), sql, self.args().s(kind.kind()).s(keep))).await?;
        Ok(())
    }
}
