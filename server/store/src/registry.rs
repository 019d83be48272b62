//! Tenant-scoped registry: properties, areas, customers, gateways, meters, device
//! credentials, live values and reading history. Every statement binds the tenant as `$1`.

use super::devices::*;
use super::ingest::VALUE_COLUMNS;
use super::sql::{Args, stmt};
use super::{Result, StoreError, TenantStore, hash_secret, mosquitto_hash};
use chrono::{DateTime, Utc};
use domain::ids::*;
use domain::registry::{MeterPatch, NewArea, NewCustomer, NewGateway, NewMeter, NewProperty};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult};

#[derive(Debug, Clone)]
pub struct PropertyRow {
    pub id: PropertyId,
    pub name: String,
    pub address: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
    /// The tariff assigned to the property, if any (its meters without their own use it).
    pub tariff_id: Option<TariffId>,
    pub contact_name: String,
    pub contact_phone: String,
}

#[derive(Debug, Clone)]
pub struct AreaRow {
    pub id: AreaId,
    pub property_id: PropertyId,
    pub name: String,
    pub floor_area_x100: Option<i64>,
    pub retired_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct CustomerRow {
    pub id: CustomerId,
    pub name: String,
    pub phone: String,
    pub shop_no: String,
    pub retired_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct GatewayRow {
    pub id: GatewayId,
    pub property_id: PropertyId,
    pub serial: String,
    pub name: String,
    pub link_state: String,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
}

/// Stored values of one reading (scaled integers, see `domain::metering::scale`).
#[derive(Debug, Clone)]
pub struct ValuesRow {
    pub read_at: Option<DateTime<Utc>>,
    pub values: [Option<i64>; super::ingest::VALUE_COUNT],
}

#[derive(Debug, Clone)]
pub struct LiveRow {
    pub last_seen_at: Option<DateTime<Utc>>,
    pub link_state: String,
    pub latest: ValuesRow,
}

#[derive(Debug, Clone)]
pub struct MeterRow {
    pub id: MeterId,
    pub property_id: PropertyId,
    pub area_id: Option<AreaId>,
    pub customer_id: Option<CustomerId>,
    pub account_id: Option<AccountId>,
    /// The meter's own tariff (price override), if any.
    pub tariff_id: Option<TariffId>,
    pub gateway_id: Option<GatewayId>,
    pub address: String,
    pub model: String,
    pub phases: i64,
    pub pt_ratio: i64,
    pub ct_ratio: i64,
    pub link_type: String,
    pub billing_mode: String,
    pub state: String,
    pub shop_no: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
    pub live: LiveRow,
    /// What the meter monitor shows beside it: its account, customer and area.
    pub desk: MeterDesk,
}

/// The meter monitor's view of a meter (电表监控): read with the meter in one statement.
#[derive(Debug, Clone, Default)]
pub struct MeterDesk {
    /// One of [`FEE_STATES`], computed by [`FEE_STATE_SQL`].
    pub fee_state: String,
    pub account_number: Option<String>,
    pub balance_x100: Option<i64>,
    pub customer_name: Option<String>,
    pub area_name: Option<String>,
    /// The tariff that prices it: its own, its property's or the tenant's.
    pub tariff_id: Option<TariffId>,
    time_zone: String,
    /// The rate in force now and its base price (tier increments not included).
    pub price_now: Option<(domain::tariff::Rate, rust_decimal::Decimal)>,
}

/// A meter's fee state, most urgent first: in no open account; power held; relay open (as the
/// meter reports it, or as the platform wants it when the meter never reported its relay);
/// then the account's balance state.
pub const FEE_STATES: [&str; 7] = ["NOT_OPENED", "HOLD_POWER", "TRIPPED", "ARREARS", "ALARM_2", "ALARM_1", "NORMAL"];

/// The fee state as SQL over `meters m`, `meter_live l` and `accounts a` (both backends), so
/// that the monitor's filter and its column cannot disagree.
pub(crate) const FEE_STATE_SQL: &str = "CASE WHEN a.id IS NULL OR a.state <> 'OPEN' THEN 'NOT_OPENED' \
     WHEN a.hold_power <> 0 THEN 'HOLD_POWER' \
     WHEN (l.status_word_3 IS NOT NULL AND (l.status_word_3 & 16) <> 0) OR (l.status_word_3 IS NULL AND a.relay_wanted = 'OPEN') THEN 'TRIPPED' \
     WHEN a.balance_state IN ('ARREARS', 'EXHAUSTED') THEN 'ARREARS' \
     WHEN a.balance_state = 'LOW_2' THEN 'ALARM_2' \
     WHEN a.balance_state = 'LOW_1' THEN 'ALARM_1' \
     ELSE 'NORMAL' END";

/// Meters with their live values, account, customer and area.
pub(crate) const METER_FROM: &str = "FROM meters m \
     LEFT JOIN meter_live l ON l.tenant_id = m.tenant_id AND l.meter_id = m.id \
     LEFT JOIN accounts a ON a.tenant_id = m.tenant_id AND a.id = m.account_id \
     LEFT JOIN customers c ON c.tenant_id = m.tenant_id AND c.id = COALESCE(a.customer_id, m.customer_id) \
     LEFT JOIN areas ar ON ar.tenant_id = m.tenant_id AND ar.id = m.area_id \
     JOIN properties p ON p.tenant_id = m.tenant_id AND p.id = m.property_id \
     JOIN tenants t ON t.id = m.tenant_id";

#[derive(Debug, Clone, Default)]
pub struct MeterFilter {
    pub property_id: Option<PropertyId>,
    pub area_id: Option<AreaId>,
    pub gateway_id: Option<GatewayId>,
    pub account_id: Option<AccountId>,
    /// ONLINE, LOST, NEVER_SEEN or RETIRED.
    pub status: Option<String>,
    pub q: Option<String>,
    /// One of [`FEE_STATES`].
    pub fee_state: Option<String>,
}

pub(crate) fn id<T>(r: &QueryResult, col: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text: String = r.try_get("", col)?;
    parse(&text).ok_or_else(|| StoreError::Database(format!("bad id in {col}")))
}

pub(crate) fn opt_id<T>(r: &QueryResult, col: &str, parse: fn(&str) -> Option<T>) -> Result<Option<T>> {
    let text: Option<String> = r.try_get("", col)?;
    Ok(text.as_deref().and_then(parse))
}

pub(crate) fn int(r: &QueryResult, col: &str) -> Result<i64> {
    // INTEGER columns decode as i32 on PostgreSQL and i64 on SQLite.
    r.try_get::<i64>("", col).or_else(|_| r.try_get::<i32>("", col).map(i64::from)).map_err(Into::into)
}

pub(crate) fn opt_int(r: &QueryResult, col: &str) -> Result<Option<i64>> {
    r.try_get::<Option<i64>>("", col).or_else(|_| r.try_get::<Option<i32>>("", col).map(|v| v.map(i64::from))).map_err(Into::into)
}

pub(crate) fn values_row(r: &QueryResult) -> Result<ValuesRow> {
    let mut values = [None; super::ingest::VALUE_COUNT];
    for (slot, col) in values.iter_mut().zip(VALUE_COLUMNS) {
        *slot = opt_int(r, col)?;
    }
    Ok(ValuesRow { read_at: r.try_get("", "read_at")?, values })
}

pub(crate) const METER_COLS: &str = "m.id, m.property_id, m.area_id, m.customer_id, m.account_id, m.tariff_id, m.gateway_id, m.address, m.model, m.phases, m.pt_ratio, m.ct_ratio, m.link_type, m.billing_mode, m.state, m.shop_no, m.created_at, m.retired_at, l.last_seen_at, l.link_state, l.read_at, \
     a.number AS account_number, a.balance_x100 AS account_balance_x100, c.name AS customer_name, ar.name AS area_name, \
     COALESCE(m.tariff_id, p.tariff_id, t.default_tariff_id) AS effective_tariff_id, t.time_zone AS tenant_time_zone";

pub(crate) fn meter_row(r: &QueryResult) -> Result<MeterRow> {
    Ok(MeterRow {
        id: id(r, "id", MeterId::parse)?,
        property_id: id(r, "property_id", PropertyId::parse)?,
        area_id: opt_id(r, "area_id", AreaId::parse)?,
        customer_id: opt_id(r, "customer_id", CustomerId::parse)?,
        account_id: opt_id(r, "account_id", AccountId::parse)?,
        tariff_id: opt_id(r, "tariff_id", TariffId::parse)?,
        gateway_id: opt_id(r, "gateway_id", GatewayId::parse)?,
        address: r.try_get("", "address")?,
        model: r.try_get("", "model")?,
        phases: int(r, "phases")?,
        pt_ratio: int(r, "pt_ratio")?,
        ct_ratio: int(r, "ct_ratio")?,
        link_type: r.try_get("", "link_type")?,
        billing_mode: r.try_get("", "billing_mode")?,
        state: r.try_get("", "state")?,
        shop_no: r.try_get("", "shop_no")?,
        created_at: r.try_get("", "created_at")?,
        retired_at: r.try_get("", "retired_at")?,
        live: LiveRow {
            last_seen_at: r.try_get("", "last_seen_at")?,
            link_state: r.try_get::<Option<String>>("", "link_state")?.unwrap_or_else(|| "NEVER_SEEN".into()),
            latest: values_row(r)?,
        },
        desk: MeterDesk {
            fee_state: r.try_get("", "fee_state")?,
            account_number: r.try_get("", "account_number")?,
            balance_x100: opt_int(r, "account_balance_x100")?,
            customer_name: r.try_get("", "customer_name")?,
            area_name: r.try_get("", "area_name")?,
            tariff_id: opt_id(r, "effective_tariff_id", TariffId::parse)?,
            time_zone: r.try_get("", "tenant_time_zone")?,
            price_now: None,
        },
    })
}

impl TenantStore {
    pub(crate) async fn exists(&self, table: &'static str, id: &str) -> Result<bool> {
        let sql = format!("SELECT 1 AS one FROM {table} WHERE tenant_id = $1 AND id = $2 AND retired_at IS NULL");
        Ok(self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id))).await?.is_some())
    }

    /// Checks a referenced object exists (and is live) in this tenant; another tenant's id is not found.
    pub async fn require(&self, table: &'static str, id: &str) -> Result<()> {
        if self.exists(table, id).await? { Ok(()) } else { Err(StoreError::NotFound) }
    }

    // ---- properties ----

    pub async fn create_property(&self, p: &NewProperty) -> Result<PropertyRow> {
        let id = PropertyId::from_uuid(uuid::Uuid::new_v4());
        let sql = "INSERT INTO properties (tenant_id, id, name, address, created_at, contact_name, contact_phone) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let args = self.args().s(id.as_str()).s(&p.name).s(&p.address).t(Utc::now()).s(&p.contact_name).s(&p.contact_phone);
        self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        self.property(&id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn update_property(&self, id: &PropertyId, p: &NewProperty) -> Result<PropertyRow> {
        let sql = "UPDATE properties SET name = $3, address = $4, contact_name = $5, contact_phone = $6
                   WHERE tenant_id = $1 AND id = $2 AND retired_at IS NULL";
        let args = self.args().s(id.as_str()).s(&p.name).s(&p.address).s(&p.contact_name).s(&p.contact_phone);
        let res = self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.property(id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn property(&self, id: &PropertyId) -> Result<Option<PropertyRow>> {
        let sql = "SELECT id, name, address, created_at, retired_at, tariff_id, contact_name, contact_phone FROM properties WHERE tenant_id = $1 AND id = $2";
        let row = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(id.as_str()))).await?;
        row.map(|r| property_row(&r)).transpose()
    }

    pub async fn properties(&self) -> Result<Vec<PropertyRow>> {
        let mut args = self.args();
        let scope = self.scope_clause("id", &mut args);
        let sql = format!(
            "SELECT id, name, address, created_at, retired_at, tariff_id, contact_name, contact_phone FROM properties WHERE tenant_id = $1{scope} ORDER BY name, id"
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        rows.iter().map(property_row).collect()
    }

    /// Retires an object; refused while live meters still point at it.
    pub async fn retire(&self, table: &'static str, id: &str) -> Result<()> {
        let dependants: Option<&str> = match table {
            "properties" => Some("property_id"),
            "areas" => Some("area_id"),
            "customers" => Some("customer_id"),
            "gateways" => Some("gateway_id"),
            _ => None,
        };
        let txn = self.db().begin().await?;
        if let Some(col) = dependants {
            let sql = format!("SELECT COUNT(*) AS n FROM meters WHERE tenant_id = $1 AND {col} = $2 AND retired_at IS NULL");
            let n = txn.query_one_raw(stmt(self.backend(), &sql, self.args().s(id))).await?.map(|r| int(&r, "n")).transpose()?.unwrap_or(0);
            if n > 0 {
                return Err(StoreError::Conflict(format!("{n} active meter(s) still belong to it")));
            }
        }
        let sql = format!("UPDATE {table} SET retired_at = $3 WHERE tenant_id = $1 AND id = $2 AND retired_at IS NULL");
        let res = txn.execute_raw(stmt(self.backend(), &sql, self.args().s(id).t(Utc::now()))).await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if table == "meters" {
            self.meter_left(&txn, id).await?;
        }
        if table == "meters" {
            txn.execute_raw(stmt(
                self.backend(),
                "UPDATE meters SET state = 'RETIRED' WHERE tenant_id = $1 AND id = $2",
                self.args().s(id),
            ))
            .await?;
        }
        if matches!(table, "meters" | "gateways") {
            let col = if table == "meters" { "meter_id" } else { "gateway_id" };
            let sql = format!("UPDATE device_credentials SET revoked_at = $3 WHERE tenant_id = $1 AND {col} = $2 AND revoked_at IS NULL");
            txn.execute_raw(stmt(self.backend(), &sql, self.args().s(id).t(Utc::now()))).await?;
        }
        txn.commit().await?;
        self.store.reload_caches().await
    }

    // ---- areas ----

    pub async fn create_area(&self, a: &NewArea) -> Result<AreaRow> {
        self.require("properties", a.property.as_str()).await?;
        let id = AreaId::from_uuid(uuid::Uuid::new_v4());
        let sql = "INSERT INTO areas (tenant_id, id, property_id, name, floor_area_m2_x100, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
        let args = self.args().s(id.as_str()).s(a.property.as_str()).s(&a.name).oi(a.floor_area_x100).t(Utc::now());
        self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        self.area(&id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn update_area(&self, id: &AreaId, name: &str, floor_area_x100: Option<i64>) -> Result<AreaRow> {
        let sql = "UPDATE areas SET name = $3, floor_area_m2_x100 = $4 WHERE tenant_id = $1 AND id = $2 AND retired_at IS NULL";
        let res = self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id.as_str()).s(name).oi(floor_area_x100))).await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.area(id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn area(&self, id: &AreaId) -> Result<Option<AreaRow>> {
        let sql = "SELECT id, property_id, name, floor_area_m2_x100, retired_at FROM areas WHERE tenant_id = $1 AND id = $2";
        let row = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(id.as_str()))).await?;
        row.map(|r| area_row(&r)).transpose()
    }

    pub async fn areas(&self, property: Option<&PropertyId>) -> Result<Vec<AreaRow>> {
        let mut args = self.args().s(property.map(|p| p.as_str()).unwrap_or(""));
        let scope = self.scope_clause("property_id", &mut args);
        let sql = format!(
            "SELECT id, property_id, name, floor_area_m2_x100, retired_at FROM areas WHERE tenant_id = $1 AND ($2 = '' OR property_id = $2){scope} ORDER BY name, id"
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        rows.iter().map(area_row).collect()
    }

    // ---- customers ----

    pub async fn create_customer(&self, c: &NewCustomer) -> Result<CustomerRow> {
        let id = CustomerId::from_uuid(uuid::Uuid::new_v4());
        let sql = "INSERT INTO customers (tenant_id, id, name, phone, shop_no, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
        self.store
            .db
            .execute_raw(stmt(self.backend(), sql, self.args().s(id.as_str()).s(&c.name).s(&c.phone).s(&c.shop_no).t(Utc::now())))
            .await?;
        self.customer(&id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn update_customer(&self, id: &CustomerId, c: &NewCustomer) -> Result<CustomerRow> {
        let sql = "UPDATE customers SET name = $3, phone = $4, shop_no = $5 WHERE tenant_id = $1 AND id = $2 AND retired_at IS NULL";
        let res = self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id.as_str()).s(&c.name).s(&c.phone).s(&c.shop_no))).await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.customer(id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn customer(&self, id: &CustomerId) -> Result<Option<CustomerRow>> {
        let sql = "SELECT id, name, phone, shop_no, retired_at FROM customers WHERE tenant_id = $1 AND id = $2";
        let row = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(id.as_str()))).await?;
        row.map(|r| customer_row(&r)).transpose()
    }

    pub async fn customers(&self, q: Option<&str>, page: u64, page_size: u64) -> Result<(Vec<CustomerRow>, u64)> {
        let mut args = self.args();
        let search = match q.map(str::trim).filter(|q| !q.is_empty()) {
            None => String::new(),
            Some(q) => {
                let n = args.push(like(q).into());
                format!(
                    " AND (LOWER(name) LIKE ${n} ESCAPE '\\' OR LOWER(phone) LIKE ${n} ESCAPE '\\' OR LOWER(shop_no) LIKE ${n} ESCAPE '\\')"
                )
            }
        };
        // As `scope_of` decides: a customer is a scoped operator's when one of its accounts has
        // a meter in its properties, or when it has no account at all yet.
        let scope = match self.scope() {
            None => String::new(),
            Some(props) => {
                let list = super::scope::in_list(&mut args, props);
                let held = "SELECT a.customer_id FROM accounts a JOIN meters sm ON sm.tenant_id = a.tenant_id AND sm.account_id = a.id WHERE a.tenant_id = $1";
                format!(
                    " AND (id IN ({held} AND sm.property_id IN {list}) OR NOT EXISTS (SELECT 1 FROM accounts na WHERE na.tenant_id = $1 AND na.customer_id = customers.id))"
                )
            }
        };
        let scope = format!("{search}{scope}");
        let total = self.count(&format!("SELECT COUNT(*) AS n FROM customers WHERE tenant_id = $1{scope}"), Args(args.0.clone())).await?;
        let limit = args.push((page_size as i64).into());
        let offset = args.push((((page.max(1) - 1) * page_size) as i64).into());
        let sql = format!(
            "SELECT id, name, phone, shop_no, retired_at FROM customers WHERE tenant_id = $1{scope} ORDER BY name, id LIMIT ${limit} OFFSET ${offset}"
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        Ok((rows.iter().map(customer_row).collect::<Result<_>>()?, total))
    }

    /// Active meters of the handle's properties (or of one), from the kept counts (m0022).
    async fn kept_meter_total(&self, property: Option<&PropertyId>) -> Result<u64> {
        let mut args = self.args();
        let mut cond = self.scope_clause("property_id", &mut args);
        if let Some(p) = property {
            cond += &format!(" AND property_id = ${}", args.push(p.as_str().to_string().into()));
        }
        let sql = format!("SELECT CAST(COALESCE(SUM(active), 0) AS BIGINT) AS n FROM meter_counts WHERE tenant_id = $1{cond}");
        self.count(&sql, args).await
    }

    /// Counts `n` more active meters in `property`, in the transaction that adds them.
    pub(crate) async fn meters_joined<C: ConnectionTrait>(&self, txn: &C, property: &str, n: i64) -> Result<()> {
        let sql = "INSERT INTO meter_counts (tenant_id, property_id, active) VALUES ($1, $2, $3)
                   ON CONFLICT (tenant_id, property_id) DO UPDATE SET active = meter_counts.active + excluded.active";
        txn.execute_raw(stmt(self.backend(), sql, self.args().s(property).i(n))).await?;
        Ok(())
    }

    /// Counts one active meter fewer in its property, in the transaction that retired it: only
    /// after an `UPDATE … AND retired_at IS NULL` that changed its row (that row's lock keeps
    /// a concurrent retirement of the same meter from counting it twice).
    pub(crate) async fn meter_left<C: ConnectionTrait>(&self, txn: &C, meter: &str) -> Result<()> {
        let sql = "UPDATE meter_counts SET active = active - 1 WHERE tenant_id = $1
                   AND property_id = (SELECT property_id FROM meters WHERE tenant_id = $1 AND id = $2)";
        txn.execute_raw(stmt(self.backend(), sql, self.args().s(meter))).await?;
        Ok(())
    }

    pub(crate) async fn count(&self, sql: &str, args: Args) -> Result<u64> {
        let row = self.db().query_one_raw(stmt(self.backend(), sql, args)).await?;
        Ok(row.map(|r| int(&r, "n")).transpose()?.unwrap_or(0) as u64)
    }

    // ---- gateways ----

    pub async fn register_gateway(&self, g: &NewGateway) -> Result<(GatewayRow, IssuedCredential)> {
        self.require("properties", g.property.as_str()).await?;
        let id = GatewayId::from_uuid(uuid::Uuid::new_v4());
        let cred = new_credential();
        let txn = self.db().begin().await?;
        let sql = "INSERT INTO gateways (tenant_id, id, property_id, serial, name, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
        txn.execute_raw(stmt(self.backend(), sql, self.args().s(id.as_str()).s(g.property.as_str()).s(&g.serial).s(&g.name).t(Utc::now())))
            .await?;
        self.claim_global(&txn, super::global_keys::GlobalKey::DeviceUsername, &cred.username).await?;
        let sql = "INSERT INTO device_credentials (tenant_id, id, username, secret_hash, gateway_id, created_at, broker_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let args = self
            .args()
            .s(uuid::Uuid::new_v4().to_string())
            .s(&cred.username)
            .s(hash_secret(&cred.password))
            .s(id.as_str())
            .t(Utc::now())
            .s(mosquitto_hash(&cred.password));
        txn.execute_raw(stmt(self.backend(), sql, args)).await?;
        txn.commit().await?;
        self.store.refresh_device(&cred.username).await?;
        Ok((self.gateway(&id).await?.ok_or(StoreError::NotFound)?, cred))
    }

    pub async fn gateway(&self, id: &GatewayId) -> Result<Option<GatewayRow>> {
        let sql =
            "SELECT id, property_id, serial, name, link_state, last_seen_at, retired_at FROM gateways WHERE tenant_id = $1 AND id = $2";
        let row = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(id.as_str()))).await?;
        row.map(|r| gateway_row(&r)).transpose()
    }

    pub async fn update_gateway(&self, id: &GatewayId, name: &str) -> Result<GatewayRow> {
        let sql = "UPDATE gateways SET name = $3 WHERE tenant_id = $1 AND id = $2 AND retired_at IS NULL";
        let res = self.db().execute_raw(stmt(self.backend(), sql, self.args().s(id.as_str()).s(name))).await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.gateway(id).await?.ok_or(StoreError::NotFound)
    }

    /// Gateways, of one property or all the handle may see, by serial.
    pub async fn gateways_of(&self, property: Option<&PropertyId>, page: u64, page_size: u64) -> Result<(Vec<GatewayRow>, u64)> {
        let mut args = self.args();
        let mut scope = self.scope_clause("property_id", &mut args);
        if let Some(p) = property {
            scope += &format!(" AND property_id = ${}", args.push(p.as_str().to_string().into()));
        }
        let total = self.count(&format!("SELECT COUNT(*) AS n FROM gateways WHERE tenant_id = $1{scope}"), Args(args.0.clone())).await?;
        let limit = args.push((page_size as i64).into());
        let offset = args.push((((page.max(1) - 1) * page_size) as i64).into());
        let sql = format!(
            "SELECT id, property_id, serial, name, link_state, last_seen_at, retired_at FROM gateways WHERE tenant_id = $1{scope} ORDER BY serial LIMIT ${limit} OFFSET ${offset}"
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        Ok((rows.iter().map(gateway_row).collect::<Result<_>>()?, total))
    }

    // ---- meters ----

    /// Registers a meter; a 4G meter gets its own broker login (returned once).
    pub async fn register_meter(&self, m: &NewMeter) -> Result<(MeterRow, Option<IssuedCredential>)> {
        self.require("properties", m.property.as_str()).await?;
        if let Some(a) = &m.area {
            self.require("areas", a.as_str()).await?;
        }
        if let Some(c) = &m.customer {
            self.require("customers", c.as_str()).await?;
        }
        if let Some(g) = &m.gateway {
            self.require("gateways", g.as_str()).await?;
        }
        let id = MeterId::from_uuid(uuid::Uuid::new_v4());
        let txn = self.db().begin().await?;
        let sql = "INSERT INTO meters (tenant_id, id, property_id, area_id, customer_id, gateway_id, address, model, phases, pt_ratio, ct_ratio, link_type, billing_mode, shop_no, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
        let args = self
            .args()
            .s(id.as_str())
            .s(m.property.as_str())
            .os(m.area.as_ref().map(|a| a.as_str()))
            .os(m.customer.as_ref().map(|c| c.as_str()))
            .os(m.gateway.as_ref().map(|g| g.as_str()))
            .s(m.address.to_string())
            .s(&m.model)
            .i(i64::from(m.phases))
            .i(m.pt_ratio)
            .i(m.ct_ratio)
            .s(m.link.as_str())
            .s(m.billing.as_str())
            .s(&m.shop_no)
            .t(Utc::now());
        txn.execute_raw(stmt(self.backend(), sql, args)).await?;
        txn.execute_raw(stmt(self.backend(), "INSERT INTO meter_live (tenant_id, meter_id) VALUES ($1, $2)", self.args().s(id.as_str())))
            .await?;
        self.meters_joined(&txn, m.property.as_str(), 1).await?;
        let cred = if m.link == domain::registry::LinkType::FourG {
            let cred = new_credential();
            self.claim_global(&txn, super::global_keys::GlobalKey::DeviceUsername, &cred.username).await?;
            let sql = "INSERT INTO device_credentials (tenant_id, id, username, secret_hash, meter_id, created_at, broker_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)";
            let args = self
                .args()
                .s(uuid::Uuid::new_v4().to_string())
                .s(&cred.username)
                .s(hash_secret(&cred.password))
                .s(id.as_str())
                .t(Utc::now())
                .s(mosquitto_hash(&cred.password));
            txn.execute_raw(stmt(self.backend(), sql, args)).await?;
            Some(cred)
        } else {
            None
        };
        txn.commit().await?;
        match (&cred, &m.gateway) {
            (Some(c), _) => self.store.refresh_device(&c.username).await?,
            (None, Some(g)) => {
                let sql = "SELECT username FROM device_credentials WHERE tenant_id = $1 AND gateway_id = $2 AND revoked_at IS NULL";
                for r in self.db().query_all_raw(stmt(self.backend(), sql, self.args().s(g.as_str()))).await? {
                    self.store.refresh_device(&r.try_get::<String>("", "username")?).await?;
                }
            }
            (None, None) => {}
        }
        Ok((self.meter(&id).await?.ok_or(StoreError::NotFound)?, cred))
    }

    pub async fn update_meter(&self, id: &MeterId, patch: &MeterPatch) -> Result<MeterRow> {
        if let Some(a) = &patch.area {
            self.require("areas", a.as_str()).await?;
        }
        if let Some(c) = &patch.customer {
            self.require("customers", c.as_str()).await?;
        }
        let sql = "UPDATE meters SET area_id = $3, customer_id = $4, model = $5, pt_ratio = $6, ct_ratio = $7, shop_no = $8 WHERE tenant_id = $1 AND id = $2 AND retired_at IS NULL";
        let args = self
            .args()
            .s(id.as_str())
            .os(patch.area.as_ref().map(|a| a.as_str()))
            .os(patch.customer.as_ref().map(|c| c.as_str()))
            .s(&patch.model)
            .i(patch.pt_ratio)
            .i(patch.ct_ratio)
            .s(&patch.shop_no);
        let res = self.db().execute_raw(stmt(self.backend(), sql, args)).await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.meter(id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn meter(&self, id: &MeterId) -> Result<Option<MeterRow>> {
        let sql = format!(
            "SELECT {METER_COLS}, {FEE_STATE_SQL} AS fee_state, {} {METER_FROM} WHERE m.tenant_id = $1 AND m.id = $2",
            live_value_cols()
        );
        let row = self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id.as_str()))).await?;
        let mut rows = row.map(|r| meter_row(&r)).transpose()?.into_iter().collect::<Vec<_>>();
        self.price_now(&mut rows, Utc::now()).await?;
        Ok(rows.pop())
    }

    /// Fills each meter's price at `now` from its tariff's version in force, each tariff read once.
    pub(crate) async fn price_now(&self, rows: &mut [MeterRow], now: DateTime<Utc>) -> Result<()> {
        for row in rows.iter_mut() {
            let Some(tid) = row.desk.tariff_id.clone() else { continue };
            let history = self.store.tariff_history(&self.db(), self.tenant.as_str(), tid.as_str()).await?;
            let tz: chrono_tz::Tz = row.desk.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
            row.desk.price_now = history.at(now).map(|tariff| tariff.price_at(now.with_timezone(&tz).naive_local()));
        }
        Ok(())
    }

    pub async fn meters(&self, f: &MeterFilter, page: u64, page_size: u64) -> Result<(Vec<MeterRow>, u64)> {
        let mut args = self.args();
        let mut cond = String::from("m.tenant_id = $1");
        cond += &self.scope_clause("m.property_id", &mut args);
        if let Some(p) = &f.property_id {
            cond += &format!(" AND m.property_id = ${}", args.push(p.as_str().to_string().into()));
        }
        if let Some(a) = &f.area_id {
            cond += &format!(" AND m.area_id = ${}", args.push(a.as_str().to_string().into()));
        }
        if let Some(g) = &f.gateway_id {
            cond += &format!(" AND m.gateway_id = ${}", args.push(g.as_str().to_string().into()));
        }
        if let Some(a) = &f.account_id {
            cond += &format!(" AND m.account_id = ${}", args.push(a.as_str().to_string().into()));
        }
        match f.status.as_deref() {
            Some("RETIRED") => cond += " AND m.retired_at IS NOT NULL",
            Some(s) => {
                cond +=
                    &format!(" AND m.retired_at IS NULL AND COALESCE(l.link_state, 'NEVER_SEEN') = ${}", args.push(s.to_string().into()))
            }
            None => cond += " AND m.retired_at IS NULL",
        }
        let q = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        if let Some(q) = q {
            let n = args.push(like(q).into());
            // SQLite's LIKE already ignores ASCII case (and its LOWER knows no other), so the
            // column is compared as it is there: a third of the search's scan on SQLite.
            let ci = |c: &str| if self.backend() == DbBackend::Postgres { format!("LOWER({c})") } else { c.to_string() };
            cond += &format!(
                " AND ({} LIKE ${n} ESCAPE '\\' OR {} LIKE ${n} ESCAPE '\\' OR {} LIKE ${n} ESCAPE '\\')",
                ci("m.address"),
                ci("m.shop_no"),
                ci("m.model")
            );
        }
        if let Some(fee) = &f.fee_state {
            cond += &format!(" AND {FEE_STATE_SQL} = ${}", args.push(fee.clone().into()));
        }
        let from = METER_FROM;
        // The total counts meters alone, joined only to what the conditions name: every other
        // join is to at most one row (and a meter always has its property and tenant), and
        // counting through all of them cost 1.2 s at 100,000 meters on SQLite against 37 ms.
        let mut count_from = String::from("FROM meters m");
        let live = matches!(f.status.as_deref(), Some(s) if s != "RETIRED") || f.fee_state.is_some();
        if live {
            count_from += " LEFT JOIN meter_live l ON l.tenant_id = m.tenant_id AND l.meter_id = m.id";
        }
        if f.fee_state.is_some() {
            count_from += " LEFT JOIN accounts a ON a.tenant_id = m.tenant_id AND a.id = m.account_id";
        }
        let count_sql = format!("SELECT COUNT(*) AS n {count_from} WHERE {cond}");
        let count_args = Args(args.0.clone());
        // The total: the properties' kept counts when only properties are named (m0022);
        // with a search, counted in the same scan as the page (a search reads every meter,
        // and reading them twice doubled its time); otherwise counted.
        let only_properties = f.area_id.is_none()
            && f.gateway_id.is_none()
            && f.account_id.is_none()
            && f.status.is_none()
            && q.is_none()
            && f.fee_state.is_none();
        let total = if only_properties {
            Some(self.kept_meter_total(f.property_id.as_ref()).await?)
        } else if q.is_some() {
            None
        } else {
            Some(self.count(&count_sql, Args(count_args.0.clone())).await?)
        };
        let counted_with_page = if total.is_none() { ", COUNT(*) OVER () AS n" } else { "" };
        // The page's ids first, through the same few joins as the count, then the page's
        // rows through every join: a deep page skips its offset along an index instead of
        // joining every skipped meter (page 2,500 of 100,000 meters ran for minutes).
        let limit = args.push((page_size as i64).into());
        let offset = args.push((((page.max(1) - 1) * page_size) as i64).into());
        let ids_sql =
            format!("SELECT m.id{counted_with_page} {count_from} WHERE {cond} ORDER BY m.address, m.id LIMIT ${limit} OFFSET ${offset}");
        let ids = self.db().query_all_raw(stmt(self.backend(), &ids_sql, args)).await?;
        let total = match (total, ids.first()) {
            (Some(t), _) => t,
            (None, Some(first)) => int(first, "n")?.max(0) as u64,
            // Past the last page of a search: its total counted on its own.
            (None, None) => self.count(&count_sql, count_args).await?,
        };
        if ids.is_empty() {
            return Ok((Vec::new(), total));
        }
        // In chunks: an export asks for up to 100,000 rows, and a statement takes at most
        // 32,766 parameters on SQLite and 65,535 on PostgreSQL. The chunks follow the order.
        let ids = ids.iter().map(|r| r.try_get::<String>("", "id")).collect::<std::result::Result<Vec<_>, _>>()?;
        let mut rows = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut args = self.args();
            let list = super::scope::in_list(&mut args, chunk);
            let sql = format!(
                "SELECT {METER_COLS}, {FEE_STATE_SQL} AS fee_state, {} {from} WHERE m.tenant_id = $1 AND m.id IN {list} ORDER BY m.address, m.id",
                live_value_cols()
            );
            for r in self.db().query_all_raw(stmt(self.backend(), &sql, args)).await? {
                rows.push(meter_row(&r)?);
            }
        }
        self.price_now(&mut rows, Utc::now()).await?;
        Ok((rows, total))
    }

    /// Readings of one meter in `[from, to)`, oldest first, after the cursor instant.
    pub async fn readings(
        &self,
        meter: &MeterId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: Option<DateTime<Utc>>,
        first: u64,
    ) -> Result<Vec<ValuesRow>> {
        let cols = VALUE_COLUMNS.join(", ");
        let lower = after.map_or(from, |a| a.max(from));
        let op = if after.is_some_and(|a| a >= from) { ">" } else { ">=" };
        let sql = format!(
            "SELECT read_at, {cols} FROM readings WHERE tenant_id = $1 AND meter_id = $2 AND read_at {op} $3 AND read_at < $4 ORDER BY read_at LIMIT $5"
        );
        let rows =
            self.db().query_all_raw(stmt(self.backend(), &sql, self.args().s(meter.as_str()).t(lower).t(to).i(first as i64))).await?;
        rows.iter().map(values_row).collect()
    }

    /// Count of stored readings, for tests and the overview.
    pub async fn reading_count(&self) -> Result<u64> {
        self.count("SELECT COUNT(*) AS n FROM readings WHERE tenant_id = $1", self.args()).await
    }
}

/// A LIKE pattern matching `q` anywhere, its wildcards escaped (`ESCAPE '\\'`).
/// Lower-cased: compare with `LOWER(column)`, so the search ignores case on both backends
/// (SQLite's LIKE ignores ASCII case, PostgreSQL's none).
pub(crate) fn like(q: &str) -> String {
    format!("%{}%", q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

pub(crate) fn live_value_cols() -> String {
    VALUE_COLUMNS.iter().map(|c| format!("l.{c}")).collect::<Vec<_>>().join(", ")
}

pub(crate) fn property_row(r: &QueryResult) -> Result<PropertyRow> {
    Ok(PropertyRow {
        id: id(r, "id", PropertyId::parse)?,
        name: r.try_get("", "name")?,
        address: r.try_get("", "address")?,
        created_at: r.try_get("", "created_at")?,
        retired_at: r.try_get("", "retired_at")?,
        tariff_id: opt_id(r, "tariff_id", TariffId::parse)?,
        contact_name: r.try_get("", "contact_name")?,
        contact_phone: r.try_get("", "contact_phone")?,
    })
}

pub(crate) fn area_row(r: &QueryResult) -> Result<AreaRow> {
    Ok(AreaRow {
        id: id(r, "id", AreaId::parse)?,
        property_id: id(r, "property_id", PropertyId::parse)?,
        name: r.try_get("", "name")?,
        floor_area_x100: opt_int(r, "floor_area_m2_x100")?,
        retired_at: r.try_get("", "retired_at")?,
    })
}

pub(crate) fn customer_row(r: &QueryResult) -> Result<CustomerRow> {
    Ok(CustomerRow {
        id: id(r, "id", CustomerId::parse)?,
        name: r.try_get("", "name")?,
        phone: r.try_get("", "phone")?,
        shop_no: r.try_get("", "shop_no")?,
        retired_at: r.try_get("", "retired_at")?,
    })
}

pub(crate) fn gateway_row(r: &QueryResult) -> Result<GatewayRow> {
    Ok(GatewayRow {
        id: id(r, "id", GatewayId::parse)?,
        property_id: id(r, "property_id", PropertyId::parse)?,
        serial: r.try_get("", "serial")?,
        name: r.try_get("", "name")?,
        link_state: r.try_get("", "link_state")?,
        last_seen_at: r.try_get("", "last_seen_at")?,
        retired_at: r.try_get("", "retired_at")?,
    })
}
