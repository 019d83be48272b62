//! The reports' read models (issue 19): money received by payee, operator and channel; the
//! meter-reading report (抄表: registers at the start and end of a period and the usage); the
//! arrears and low-balance list. Every query keeps the handle's property scope; bucketing by
//! the tenant's days and months is the API's (it knows the time zone).

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, QueryResult};

use super::money::{ACCOUNT_COLS, AccountRow, account_row};
use super::registry::{int, opt_int};
use super::sql::stmt;
use super::{Result, TenantStore};
use domain::ids::*;

/// One entry of money received (or given back): what the sales report sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleRow {
    pub at: DateTime<Utc>,
    /// Fen: positive received, negative refunded or reversed.
    pub amount_x100: i64,
    /// CASH, TRANSFER, WECHAT, ALIPAY; REFUND for money given back.
    pub channel: String,
    /// The operator's username; '' for the customer's own online payment.
    pub operator: String,
    /// The payee an online payment went to; None at the desk.
    pub payee_id: Option<String>,
}

/// Kinds of money received, with the channel each names (a bill payment names its channel
/// first in its detail).
const RECEIVED: [(&str, &str); 4] =
    [("RECHARGE_CASH", "CASH"), ("RECHARGE_TRANSFER", "TRANSFER"), ("RECHARGE_WECHAT", "WECHAT"), ("RECHARGE_ALIPAY", "ALIPAY")];

/// One meter's line in the meter-reading report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadingLine {
    pub meter_id: String,
    pub address: String,
    pub property_id: String,
    pub area_id: Option<String>,
    pub account_number: Option<String>,
    pub customer_name: Option<String>,
    /// PT × CT.
    pub ratio: i64,
    /// Register (hundredths of kWh, secondary) and when it was read, at or before the start
    /// (else the first reading after it).
    pub start: Option<(i64, DateTime<Utc>)>,
    /// The last register at or before the end.
    pub end: Option<(i64, DateTime<Utc>)>,
}

impl ReadingLine {
    /// Usage on the primary side (hundredths of kWh); a register that went down counts 0.
    pub fn usage_x100(&self) -> Option<i64> {
        match (self.start, self.end) {
            (Some((a, _)), Some((b, _))) => Some((b - a).max(0).saturating_mul(self.ratio)),
            _ => None,
        }
    }
}

/// A meter as the energy, demand and reading reports list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportMeter {
    pub id: String,
    pub address: String,
    pub property_id: String,
    pub area_id: Option<String>,
    pub account_id: Option<String>,
    pub account_number: Option<String>,
    pub customer_name: Option<String>,
    /// PT × CT.
    pub ratio: i64,
}

/// A meter or gateway whose link is lost (失联设备).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostDevice {
    /// METER or GATEWAY.
    pub kind: &'static str,
    pub id: String,
    /// The meter's address or the gateway's serial.
    pub label: String,
    pub property_id: String,
    pub area_id: Option<String>,
    pub account_number: Option<String>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// A register reading with the meter's own maximum-demand register (kW × 10,000), for the
/// capacity-fee basis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterPoint {
    pub registers: domain::usage::Registers,
    pub max_demand_x10000: Option<i64>,
}

/// A reading as the readings export lists it (scaled integers as stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportReading {
    pub at: DateTime<Utc>,
    /// Hundredths of a kWh: total, then sharp, peak, flat, valley.
    pub energy: [Option<i64>; 5],
    /// Tenths of a volt, phases A, B, C.
    pub voltage: [Option<i64>; 3],
    /// Thousandths of an ampere.
    pub current: [Option<i64>; 3],
    /// kW × 10,000.
    pub active_power: Option<i64>,
    /// × 1,000.
    pub power_factor: Option<i64>,
}

impl TenantStore {
    /// Money received and given back in `[from, to)`: recharges, bill payments, refunds and
    /// reversals of those, oldest first, in the handle's scope and an optional property.
    pub async fn sales(&self, from: DateTime<Utc>, to: DateTime<Utc>, property: Option<&PropertyId>) -> Result<Vec<SaleRow>> {
        let mut args = self.args().t(from).t(to);
        let scope = self.account_scope("e.account_id", property, &mut args);
        let sql = format!(
            "SELECT e.created_at, e.amount_x100, e.kind, e.detail, e.created_by,
                    (SELECT po.payee_id FROM payment_orders po WHERE po.tenant_id = e.tenant_id AND po.entry_id = e.id) AS payee_id,
                    (SELECT r.kind FROM ledger_entries r WHERE r.tenant_id = e.tenant_id AND r.id = e.reverses_id) AS reversed_kind
             FROM ledger_entries e
             WHERE e.tenant_id = $1 AND e.created_at >= $2 AND e.created_at < $3
               AND e.kind IN ('RECHARGE_CASH', 'RECHARGE_TRANSFER', 'RECHARGE_WECHAT', 'RECHARGE_ALIPAY', 'BILL_PAYMENT', 'REFUND', 'REVERSAL'){scope}
             ORDER BY e.created_at, e.id"
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let kind: String = r.try_get("", "kind")?;
            let reversed: Option<String> = r.try_get("", "reversed_kind")?;
            let detail: String = r.try_get("", "detail")?;
            let channel = match kind.as_str() {
                "BILL_PAYMENT" => detail.split_whitespace().next().unwrap_or("CASH").to_string(),
                "REFUND" => "REFUND".to_string(),
                // A reversal counts only when it takes back money received.
                "REVERSAL" => match reversed.as_deref() {
                    Some(k) if k == "BILL_PAYMENT" || RECEIVED.iter().any(|(r, _)| *r == k) => "REFUND".to_string(),
                    _ => continue,
                },
                k => RECEIVED.iter().find(|(r, _)| *r == k).map(|(_, c)| c.to_string()).unwrap_or_default(),
            };
            out.push(SaleRow {
                at: r.try_get("", "created_at")?,
                amount_x100: int(r, "amount_x100")?,
                channel,
                operator: r.try_get("", "created_by")?,
                payee_id: r.try_get("", "payee_id")?,
            });
        }
        Ok(out)
    }

    /// The register nearest an instant: the last at or before it, else the first after it
    /// (when `or_after`).
    async fn register_at(&self, meter: &str, at: DateTime<Utc>, or_after: bool) -> Result<Option<(i64, DateTime<Utc>)>> {
        let pick = |r: &QueryResult| -> Result<Option<(i64, DateTime<Utc>)>> {
            Ok(opt_int(r, "energy_total_x100")?.map(|e| (e, r.try_get("", "read_at").unwrap_or(at))))
        };
        let sql = "SELECT energy_total_x100, read_at FROM readings WHERE tenant_id = $1 AND meter_id = $2 AND read_at <= $3
                   AND energy_total_x100 IS NOT NULL ORDER BY read_at DESC LIMIT 1";
        if let Some(r) = self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(meter).t(at))).await? {
            return pick(&r);
        }
        if !or_after {
            return Ok(None);
        }
        let sql = "SELECT energy_total_x100, read_at FROM readings WHERE tenant_id = $1 AND meter_id = $2 AND read_at > $3
                   AND energy_total_x100 IS NOT NULL ORDER BY read_at LIMIT 1";
        match self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(meter).t(at))).await? {
            Some(r) => pick(&r),
            None => Ok(None),
        }
    }

    /// The meter-reading report for `[from, to]`: every active meter in scope (and in the
    /// property or area asked), ordered by address, with its registers and usage.
    pub async fn reading_report(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        property: Option<&PropertyId>,
        area: Option<&AreaId>,
    ) -> Result<Vec<ReadingLine>> {
        let meters = self.report_meters(property, area).await?;
        let mut out = Vec::with_capacity(meters.len());
        for m in meters {
            let start = self.register_at(&m.id, from, true).await?;
            let end = self.register_at(&m.id, to, false).await?;
            out.push(ReadingLine {
                address: m.address,
                property_id: m.property_id,
                area_id: m.area_id,
                account_number: m.account_number,
                customer_name: m.customer_name,
                ratio: m.ratio,
                start,
                // An end before the start (no reading in the period) is no end.
                end: end.filter(|(_, at)| start.is_none_or(|(_, s)| *at >= s)),
                meter_id: m.id,
            });
        }
        Ok(out)
    }

    /// The active meters in scope (and in the property or area asked), by address.
    pub async fn report_meters(&self, property: Option<&PropertyId>, area: Option<&AreaId>) -> Result<Vec<ReportMeter>> {
        let mut args = self.args();
        let mut cond = self.scope_clause("m.property_id", &mut args);
        if let Some(p) = property {
            cond += &format!(" AND m.property_id = ${}", args.push(p.as_str().to_string().into()));
        }
        if let Some(a) = area {
            cond += &format!(" AND m.area_id = ${}", args.push(a.as_str().to_string().into()));
        }
        let sql = format!(
            "SELECT m.id, m.address, m.property_id, m.area_id, m.account_id, m.pt_ratio, m.ct_ratio, a.number, c.name
             FROM meters m LEFT JOIN accounts a ON a.tenant_id = m.tenant_id AND a.id = m.account_id
             LEFT JOIN customers c ON c.tenant_id = a.tenant_id AND c.id = a.customer_id
             WHERE m.tenant_id = $1 AND m.retired_at IS NULL{cond} ORDER BY m.address"
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        rows.iter()
            .map(|r| {
                Ok(ReportMeter {
                    id: r.try_get("", "id")?,
                    address: r.try_get("", "address")?,
                    property_id: r.try_get("", "property_id")?,
                    area_id: r.try_get("", "area_id")?,
                    account_id: r.try_get("", "account_id")?,
                    account_number: r.try_get("", "number")?,
                    customer_name: r.try_get("", "name")?,
                    ratio: int(r, "pt_ratio")?.saturating_mul(int(r, "ct_ratio")?),
                })
            })
            .collect()
    }

    /// A meter's registers for the energy reports: the last reading at or before `from` (the
    /// baseline), then every reading in `(from, to]`, oldest first; readings without a total
    /// register are left out.
    pub async fn register_series(&self, meter: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<RegisterPoint>> {
        const COLS: &str = "read_at, energy_total_x100, energy_t1_x100, energy_t2_x100, energy_t3_x100, energy_t4_x100, max_demand_x10000";
        let point = |r: &QueryResult| -> Result<RegisterPoint> {
            Ok(RegisterPoint {
                registers: domain::usage::Registers {
                    at: r.try_get("", "read_at")?,
                    total: int(r, "energy_total_x100")?,
                    tou: [
                        opt_int(r, "energy_t1_x100")?,
                        opt_int(r, "energy_t2_x100")?,
                        opt_int(r, "energy_t3_x100")?,
                        opt_int(r, "energy_t4_x100")?,
                    ],
                },
                max_demand_x10000: opt_int(r, "max_demand_x10000")?,
            })
        };
        let base = format!(
            "SELECT {COLS} FROM readings WHERE tenant_id = $1 AND meter_id = $2 AND read_at <= $3
             AND energy_total_x100 IS NOT NULL ORDER BY read_at DESC LIMIT 1"
        );
        let mut out = Vec::new();
        if let Some(r) = self.db().query_one_raw(stmt(self.backend(), &base, self.args().s(meter).t(from))).await? {
            out.push(point(&r)?);
        }
        let sql = format!(
            "SELECT {COLS} FROM readings WHERE tenant_id = $1 AND meter_id = $2 AND read_at > $3 AND read_at <= $4
             AND energy_total_x100 IS NOT NULL ORDER BY read_at"
        );
        for r in self.db().query_all_raw(stmt(self.backend(), &sql, self.args().s(meter).t(from).t(to))).await? {
            out.push(point(&r)?);
        }
        Ok(out)
    }

    /// How many readings the meters in scope (and in the property or area asked, or one
    /// meter) took in `[from, to)`.
    pub async fn count_readings(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        property: Option<&PropertyId>,
        area: Option<&AreaId>,
        meter: Option<&MeterId>,
    ) -> Result<i64> {
        let mut args = self.args().t(from).t(to);
        let mut cond = self.scope_clause("m.property_id", &mut args);
        if let Some(p) = property {
            cond += &format!(" AND m.property_id = ${}", args.push(p.as_str().to_string().into()));
        }
        if let Some(a) = area {
            cond += &format!(" AND m.area_id = ${}", args.push(a.as_str().to_string().into()));
        }
        if let Some(m) = meter {
            cond += &format!(" AND m.id = ${}", args.push(m.to_string().into()));
        }
        let sql = format!(
            "SELECT COUNT(*) AS n FROM readings r JOIN meters m ON m.tenant_id = r.tenant_id AND m.id = r.meter_id
             WHERE r.tenant_id = $1 AND r.read_at >= $2 AND r.read_at < $3 AND m.retired_at IS NULL{cond}"
        );
        match self.db().query_one_raw(stmt(self.backend(), &sql, args)).await? {
            Some(r) => int(&r, "n"),
            None => Ok(0),
        }
    }

    /// A page of a meter's readings in `[from, to)` after `after`, oldest first (the export
    /// pages by the primary key, never by offset).
    pub async fn readings_page(
        &self,
        meter: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: Option<DateTime<Utc>>,
        limit: u64,
    ) -> Result<Vec<ExportReading>> {
        let sql = format!(
            "SELECT read_at, energy_total_x100, energy_t1_x100, energy_t2_x100, energy_t3_x100, energy_t4_x100, voltage_a_x10,
                    voltage_b_x10, voltage_c_x10, current_a_x1000, current_b_x1000, current_c_x1000, active_power_x10000, power_factor_x1000
             FROM readings WHERE tenant_id = $1 AND meter_id = $2 AND read_at >= $3 AND read_at < $4 AND read_at > $5
             ORDER BY read_at LIMIT {}",
            limit.clamp(1, 50_000)
        );
        let after = after.unwrap_or(from - chrono::Duration::seconds(1));
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, self.args().s(meter).t(from).t(to).t(after))).await?;
        rows.iter()
            .map(|r| {
                Ok(ExportReading {
                    at: r.try_get("", "read_at")?,
                    energy: [
                        opt_int(r, "energy_total_x100")?,
                        opt_int(r, "energy_t1_x100")?,
                        opt_int(r, "energy_t2_x100")?,
                        opt_int(r, "energy_t3_x100")?,
                        opt_int(r, "energy_t4_x100")?,
                    ],
                    voltage: [opt_int(r, "voltage_a_x10")?, opt_int(r, "voltage_b_x10")?, opt_int(r, "voltage_c_x10")?],
                    current: [opt_int(r, "current_a_x1000")?, opt_int(r, "current_b_x1000")?, opt_int(r, "current_c_x1000")?],
                    active_power: opt_int(r, "active_power_x10000")?,
                    power_factor: opt_int(r, "power_factor_x1000")?,
                })
            })
            .collect()
    }

    /// Meters and gateways whose link is lost, in scope and an optional property, the longest
    /// silent first.
    pub async fn lost_devices(&self, property: Option<&PropertyId>) -> Result<Vec<LostDevice>> {
        let mut args = self.args();
        let mut cond = self.scope_clause("m.property_id", &mut args);
        if let Some(p) = property {
            cond += &format!(" AND m.property_id = ${}", args.push(p.as_str().to_string().into()));
        }
        let sql = format!(
            "SELECT m.id, m.address, m.property_id, m.area_id, a.number, l.last_seen_at
             FROM meters m JOIN meter_live l ON l.tenant_id = m.tenant_id AND l.meter_id = m.id
             LEFT JOIN accounts a ON a.tenant_id = m.tenant_id AND a.id = m.account_id
             WHERE m.tenant_id = $1 AND m.retired_at IS NULL AND l.link_state = 'LOST'{cond}"
        );
        let mut out = Vec::new();
        for r in self.db().query_all_raw(stmt(self.backend(), &sql, args)).await? {
            out.push(LostDevice {
                kind: "METER",
                id: r.try_get("", "id")?,
                label: r.try_get("", "address")?,
                property_id: r.try_get("", "property_id")?,
                area_id: r.try_get("", "area_id")?,
                account_number: r.try_get("", "number")?,
                last_seen_at: r.try_get("", "last_seen_at")?,
            });
        }
        let mut args = self.args();
        let mut cond = self.scope_clause("g.property_id", &mut args);
        if let Some(p) = property {
            cond += &format!(" AND g.property_id = ${}", args.push(p.as_str().to_string().into()));
        }
        let sql = format!(
            "SELECT g.id, g.serial, g.property_id, g.last_seen_at FROM gateways g
             WHERE g.tenant_id = $1 AND g.retired_at IS NULL AND g.link_state = 'LOST'{cond}"
        );
        for r in self.db().query_all_raw(stmt(self.backend(), &sql, args)).await? {
            out.push(LostDevice {
                kind: "GATEWAY",
                id: r.try_get("", "id")?,
                label: r.try_get("", "serial")?,
                property_id: r.try_get("", "property_id")?,
                area_id: None,
                account_number: None,
                last_seen_at: r.try_get("", "last_seen_at")?,
            });
        }
        // Never seen sorts first (silent the longest), then by the last time seen.
        out.sort_by(|a, b| a.last_seen_at.cmp(&b.last_seen_at).then_with(|| a.label.cmp(&b.label)));
        Ok(out)
    }

    /// Open accounts in arrears or below their alarm amounts (欠费与低余额), in scope and an
    /// optional property, lowest balance first.
    pub async fn low_balances(&self, property: Option<&PropertyId>, states: &[&str]) -> Result<Vec<AccountRow>> {
        let mut args = self.args();
        let list = super::scope::in_list(&mut args, &states.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let scope = self.account_scope("id", property, &mut args);
        let sql = format!(
            "SELECT {ACCOUNT_COLS} FROM accounts WHERE tenant_id = $1 AND state = 'OPEN' AND balance_state IN {list}{scope}
             ORDER BY balance_x100, number"
        );
        let rows = self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?;
        rows.iter().map(account_row).collect()
    }
}
