//! Tariffs and their versions, the resale price rule, billing settings and service fees.

use super::money::*;
use super::sql::stmt;
use super::{Result, StoreError, TenantStore};
use chrono::{DateTime, Utc};
use domain::ids::*;
use domain::ledger::{ServiceFee, Thresholds};
use domain::tariff::{PriceRule, Tariff, TariffSpec};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DatabaseTransaction};

impl TenantStore {
    pub async fn money_settings(&self) -> Result<MoneySettings> {
        let sql = "SELECT default_tariff_id, catalogue_price, price_margin_percent, jump_limit_kw, settlement_day, settlement_hour,
                   fee_percent, fee_fixed_x100, default_alarm1_x100, default_alarm2_x100, default_credit_limit_x100 FROM tenants WHERE id = $1";
        let r = self.db().query_one_raw(stmt(self.backend(), sql, self.args())).await?.ok_or(StoreError::NotFound)?;
        let dec = |c: &str| -> Result<Decimal> { r.try_get::<String>("", c).map(|s| s.parse().unwrap_or_default()).map_err(Into::into) };
        let margin = dec("price_margin_percent")?;
        let catalogue: Option<String> = r.try_get("", "catalogue_price")?;
        Ok(MoneySettings {
            default_tariff_id: r.try_get::<Option<String>>("", "default_tariff_id")?.as_deref().and_then(TariffId::parse),
            price_rule: catalogue.and_then(|c| c.parse().ok()).map(|catalogue| PriceRule { catalogue, margin_percent: margin }),
            margin_percent: margin,
            jump_limit_kw: dec("jump_limit_kw")?,
            settlement_day: super::registry::int(&r, "settlement_day")?,
            settlement_hour: super::registry::int(&r, "settlement_hour")?,
            service_fee: ServiceFee { percent: dec("fee_percent")?, fixed_fen: super::registry::int(&r, "fee_fixed_x100")? },
            default_thresholds: Thresholds {
                alarm1: super::registry::int(&r, "default_alarm1_x100")?,
                alarm2: super::registry::int(&r, "default_alarm2_x100")?,
                credit_limit: super::registry::int(&r, "default_credit_limit_x100")?,
            },
        })
    }

    /// Sets the balance thresholds accounts opened without their own get (open accounts keep
    /// theirs).
    pub async fn set_default_thresholds(&self, t: Thresholds) -> Result<MoneySettings> {
        let sql = "UPDATE tenants SET default_alarm1_x100 = $2, default_alarm2_x100 = $3, default_credit_limit_x100 = $4 WHERE id = $1";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().i(t.alarm1).i(t.alarm2).i(t.credit_limit))).await?;
        self.money_settings().await
    }

    /// Sets the tenant's time zone (tariff periods, freezes, bills, reports from now on) and
    /// reloads the devices' view of it.
    pub async fn set_time_zone(&self, time_zone: &str) -> Result<()> {
        if time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(StoreError::Invalid(domain::Invalid::new("timeZone", "an IANA time zone such as Asia/Shanghai")));
        }
        let sql = "UPDATE tenants SET time_zone = $2 WHERE id = $1";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().s(time_zone))).await?;
        self.reload().await
    }

    pub async fn set_price_rule(&self, catalogue: Option<Decimal>, margin_percent: Decimal) -> Result<MoneySettings> {
        let sql = "UPDATE tenants SET catalogue_price = $2, price_margin_percent = $3 WHERE id = $1";
        self.store
            .db
            .execute_raw(stmt(self.backend(), sql, self.args().os(catalogue.map(|c| c.to_string())).s(margin_percent.to_string())))
            .await?;
        self.money_settings().await
    }

    pub async fn set_billing_settings(&self, jump_limit_kw: Decimal, settlement_day: i64, settlement_hour: i64) -> Result<MoneySettings> {
        let sql = "UPDATE tenants SET jump_limit_kw = $2, settlement_day = $3, settlement_hour = $4 WHERE id = $1";
        self.store
            .db
            .execute_raw(stmt(self.backend(), sql, self.args().s(jump_limit_kw.to_string()).i(settlement_day).i(settlement_hour)))
            .await?;
        self.money_settings().await
    }

    /// Sets the service fee of the tenant (no property) or of one property (None clears it).
    pub async fn set_service_fee(&self, property: Option<&PropertyId>, fee: Option<ServiceFee>) -> Result<()> {
        let b = self.backend();
        match property {
            None => {
                let f = fee.unwrap_or_default();
                let sql = "UPDATE tenants SET fee_percent = $2, fee_fixed_x100 = $3 WHERE id = $1";
                self.db().execute_raw(stmt(b, sql, self.args().s(f.percent.to_string()).i(f.fixed_fen))).await?;
            }
            Some(p) => {
                let sql = "UPDATE properties SET fee_percent = $3, fee_fixed_x100 = $4 WHERE tenant_id = $1 AND id = $2";
                let args = self.args().s(p.as_str()).os(fee.map(|f| f.percent.to_string())).oi(fee.map(|f| f.fixed_fen));
                if self.db().execute_raw(stmt(b, sql, args)).await?.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
            }
        }
        Ok(())
    }

    pub async fn property_fee(&self, property: &PropertyId) -> Result<Option<ServiceFee>> {
        let sql = "SELECT fee_percent, fee_fixed_x100 FROM properties WHERE tenant_id = $1 AND id = $2";
        let r = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(property.as_str()))).await?.ok_or(StoreError::NotFound)?;
        let pct: Option<String> = r.try_get("", "fee_percent")?;
        Ok(match (pct, super::registry::opt_int(&r, "fee_fixed_x100")?) {
            (Some(p), Some(f)) => Some(ServiceFee { percent: p.parse().unwrap_or_default(), fixed_fen: f }),
            _ => None,
        })
    }

    /// Creates a tariff with its first version. The price rule (F40) is checked here:
    /// a tariff above the cap needs `override_cap` and is then flagged.
    pub async fn create_tariff(
        &self,
        name: &str,
        effective_from: DateTime<Utc>,
        spec: &TariffSpec,
        override_cap: bool,
    ) -> Result<TariffRow> {
        let id = TariffId::from_uuid(uuid::Uuid::new_v4());
        let txn = self.begin().await?;
        let sql = "INSERT INTO tariffs (tenant_id, id, name, created_at) VALUES ($1, $2, $3, $4)";
        txn.execute_raw(stmt(self.backend(), sql, self.args().s(id.as_str()).s(name).t(Utc::now()))).await?;
        self.insert_version(&txn, &id, effective_from, spec, override_cap).await?;
        txn.commit().await?;
        self.tariff(&id).await?.ok_or(StoreError::NotFound)
    }

    /// Adds a version taking effect at `effective_from` (history is kept; the past may be
    /// corrected by adding a version with an earlier instant and re-rating).
    pub async fn add_tariff_version(
        &self,
        tariff: &TariffId,
        effective_from: DateTime<Utc>,
        spec: &TariffSpec,
        override_cap: bool,
    ) -> Result<TariffRow> {
        let txn = self.begin().await?;
        let found = txn
            .query_one_raw(stmt(self.backend(), "SELECT id FROM tariffs WHERE tenant_id = $1 AND id = $2", self.args().s(tariff.as_str())))
            .await?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        self.insert_version(&txn, tariff, effective_from, spec, override_cap).await?;
        txn.commit().await?;
        self.store.forget_tariff(self.tenant.as_str(), tariff.as_str());
        self.tariff(tariff).await?.ok_or(StoreError::NotFound)
    }

    async fn insert_version(
        &self,
        txn: &DatabaseTransaction,
        id: &TariffId,
        from: DateTime<Utc>,
        spec: &TariffSpec,
        override_cap: bool,
    ) -> Result<()> {
        let tariff = Tariff::from_spec(spec).map_err(|e| StoreError::Conflict(e.to_string()))?;
        let rule = self.money_settings().await?.price_rule;
        let above = rule.and_then(|r| r.exceeded_by(&tariff));
        if let Some(cap) = above
            && !override_cap
        {
            return Err(StoreError::Conflict(format!(
                "the highest price {} is above the allowed {} (catalogue price plus margin); confirm with overridePriceCap",
                tariff.highest_price(),
                cap.round_dp(6)
            )));
        }
        let body = serde_json::to_string(spec).map_err(|e| StoreError::Database(e.to_string()))?;
        let sql = "INSERT INTO tariff_versions (tenant_id, tariff_id, effective_from, spec, above_cap, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
        let args = self.args().s(id.as_str()).t(from).s(body).i(i64::from(above.is_some())).t(Utc::now());
        txn.execute_raw(stmt(self.backend(), sql, args)).await?;
        Ok(())
    }

    pub async fn tariff(&self, id: &TariffId) -> Result<Option<TariffRow>> {
        Ok(self.tariffs_where(Some(id)).await?.pop())
    }

    /// The tariffs in use (not retired).
    pub async fn tariffs(&self) -> Result<Vec<TariffRow>> {
        Ok(self.tariffs_where(None).await?.into_iter().filter(|t| t.retired_at.is_none()).collect())
    }

    /// Retires a tariff: it leaves the lists and cannot be assigned; refused while the tenant,
    /// a property or a meter uses it. Its versions stay (bills and re-rating read them).
    pub async fn retire_tariff(&self, id: &TariffId) -> Result<TariffRow> {
        let b = self.backend();
        let sql = "SELECT (SELECT COUNT(*) FROM tenants WHERE id = $1 AND default_tariff_id = $2)
                        + (SELECT COUNT(*) FROM properties WHERE tenant_id = $1 AND tariff_id = $2 AND retired_at IS NULL)
                        + (SELECT COUNT(*) FROM meters WHERE tenant_id = $1 AND tariff_id = $2 AND retired_at IS NULL) AS n";
        let r = self.db().query_one_raw(stmt(b, sql, self.args().s(id.as_str()))).await?.ok_or(StoreError::NotFound)?;
        if super::registry::int(&r, "n")? > 0 {
            return Err(StoreError::Conflict("the tariff is in use (tenant default, a property or a meter): assign another first".into()));
        }
        let sql = "UPDATE tariffs SET retired_at = $3 WHERE tenant_id = $1 AND id = $2 AND retired_at IS NULL";
        let done = self.db().execute_raw(stmt(b, sql, self.args().s(id.as_str()).t(Utc::now()))).await?;
        let row = self.tariff(id).await?.ok_or(StoreError::NotFound)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict("the tariff is already retired".into()));
        }
        Ok(row)
    }

    async fn tariffs_where(&self, id: Option<&TariffId>) -> Result<Vec<TariffRow>> {
        let b = self.backend();
        let (cond, args) = match id {
            Some(id) => (" AND id = $2", self.args().s(id.as_str())),
            None => ("", self.args()),
        };
        let sql = format!("SELECT id, name, created_at, retired_at FROM tariffs WHERE tenant_id = $1{cond} ORDER BY name, id");
        let mut out = Vec::new();
        for r in self.db().query_all_raw(stmt(b, &sql, args)).await? {
            let tid = parse(&r, "id", TariffId::parse)?;
            let sql = "SELECT effective_from, spec, above_cap, created_at FROM tariff_versions WHERE tenant_id = $1 AND tariff_id = $2 ORDER BY effective_from";
            let mut versions = Vec::new();
            for v in self.db().query_all_raw(stmt(b, sql, self.args().s(tid.as_str()))).await? {
                let spec: String = v.try_get("", "spec")?;
                versions.push(TariffVersionRow {
                    effective_from: v.try_get("", "effective_from")?,
                    spec: serde_json::from_str(&spec).map_err(|e| StoreError::Database(e.to_string()))?,
                    above_cap: super::registry::int(&v, "above_cap")? != 0,
                    created_at: v.try_get("", "created_at")?,
                });
            }
            out.push(TariffRow {
                id: tid,
                name: r.try_get("", "name")?,
                created_at: r.try_get("", "created_at")?,
                versions,
                retired_at: r.try_get("", "retired_at")?,
            });
        }
        Ok(out)
    }

    /// Assigns a tariff to the tenant (default), a property, or a meter (override); `None`
    /// clears it. Waiting NO_TARIFF anomalies are released to be priced on the next reading.
    pub async fn assign_tariff(&self, tariff: Option<&TariffId>, property: Option<&PropertyId>, meter: Option<&MeterId>) -> Result<()> {
        let b = self.backend();
        if let Some(t) = tariff {
            match self.tariff(t).await? {
                None => return Err(StoreError::NotFound),
                Some(row) if row.retired_at.is_some() => return Err(StoreError::Conflict("the tariff is retired".into())),
                Some(_) => {}
            }
        }
        let t = tariff.map(|t| t.to_string());
        let done = match (property, meter) {
            (None, None) => {
                self.db().execute_raw(stmt(b, "UPDATE tenants SET default_tariff_id = $2 WHERE id = $1", self.args().os(t))).await?
            }
            (Some(p), None) => {
                self.store
                    .db
                    .execute_raw(stmt(
                        b,
                        "UPDATE properties SET tariff_id = $3 WHERE tenant_id = $1 AND id = $2",
                        self.args().s(p.as_str()).os(t),
                    ))
                    .await?
            }
            (None, Some(m)) => {
                self.store
                    .db
                    .execute_raw(stmt(
                        b,
                        "UPDATE meters SET tariff_id = $3 WHERE tenant_id = $1 AND id = $2",
                        self.args().s(m.as_str()).os(t),
                    ))
                    .await?
            }
            (Some(_), Some(_)) => return Err(conflict("assign to a property or a meter, not both")),
        };
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let sql = "UPDATE settlement_anomalies SET resolved_at = $2, resolution = 'TARIFF_ASSIGNED' WHERE tenant_id = $1 AND kind = 'NO_TARIFF' AND resolved_at IS NULL";
        self.db().execute_raw(stmt(b, sql, self.args().t(Utc::now()))).await?;
        Ok(())
    }
}
