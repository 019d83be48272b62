//! Frozen registers: the midnight and period-start freezes, registers at an instant, energy
//! by rate and the 15-minute maximum demand bills are computed from.

use super::billing::*;
use super::bulk::{self, Cell, Col};
use super::settle::registers;
use super::sql::stmt;
use super::{Result, TenantStore};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::billing::{Period, max_demand_from_intervals};
use domain::metering::{from_scaled, scale};
use domain::settlement::Point;
use domain::tariff::{Rate, Tariff, TouSource, split_by_time};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, QueryResult};
use std::collections::{BTreeMap, HashMap};

/// The columns a freeze row is written with (the platform's and a meter's own).
const FREEZE_COLUMNS: &[(&str, Col)] = &[
    ("tenant_id", Col::Text),
    ("meter_id", Col::Text),
    ("kind", Col::Text),
    ("frozen_at", Col::Time),
    ("read_at", Col::Time),
    ("total_x100", Col::Int),
    ("t1_x100", Col::Int),
    ("t2_x100", Col::Int),
    ("t3_x100", Col::Int),
    ("t4_x100", Col::Int),
    ("source", Col::Text),
];

pub(crate) fn point_of(r: &QueryResult, at_col: &str, prefix: &str) -> Result<Option<Point>> {
    let oint = |c: &str| super::registry::opt_int(r, &format!("{prefix}{c}"));
    let at: DateTime<Utc> = r.try_get("", at_col)?;
    Ok(registers(oint("total_x100")?, [oint("t1_x100")?, oint("t2_x100")?, oint("t3_x100")?, oint("t4_x100")?])
        .map(|registers| Point { at, registers }))
}

impl TenantStore {
    pub async fn calendar(&self) -> Result<(Tz, u32, u32)> {
        let s = self.money_settings().await?;
        let tz = self.tenant_row().await?.time_zone.parse::<Tz>().unwrap_or(chrono_tz::Asia::Shanghai);
        Ok((tz, s.settlement_day.clamp(1, 28) as u32, s.settlement_hour.clamp(0, 23) as u32))
    }

    /// Registers of every meter at `at`: the last reading at or before it (within 62 days),
    /// else the stored freeze of that instant.
    /// With `first_after`, meters without one use their first reading in `(at, first_after]`.
    /// A meter's own daily freeze at that instant (`METER_DAILY`, read back from the meter)
    /// wins over both: it is the register at the boundary itself, not the last reading before.
    pub(crate) async fn registers_at(&self, at: DateTime<Utc>, first_after: Option<DateTime<Utc>>) -> Result<Boundary> {
        let mut out = HashMap::new();
        let sql = "SELECT meter_id, read_at, total_x100, t1_x100, t2_x100, t3_x100, t4_x100 FROM freezes
                   WHERE tenant_id = $1 AND kind = 'METER_DAILY' AND frozen_at = $2";
        for r in self.db().query_all_raw(stmt(self.backend(), sql, self.args().t(at))).await? {
            if let Some(p) = point_of(&r, "read_at", "")? {
                out.insert(r.try_get("", "meter_id")?, p);
            }
        }
        self.registers_from_readings(at, first_after, out).await
    }

    /// Registers at `at` from readings and the platform's own freezes only (what the platform
    /// freezes itself), filling `out` where it has none.
    async fn registers_from_readings(&self, at: DateTime<Utc>, first_after: Option<DateTime<Utc>>, mut out: Boundary) -> Result<Boundary> {
        let b = self.backend();
        let cols = "r.meter_id, r.read_at, r.energy_total_x100 AS total_x100, r.energy_t1_x100 AS t1_x100, r.energy_t2_x100 AS t2_x100,
                    r.energy_t3_x100 AS t3_x100, r.energy_t4_x100 AS t4_x100";
        // Per meter, the newest qualifying reading through the primary key (an index probe per
        // meter on both backends, whatever the planner thinks of a grouped join).
        let sql = format!(
            "SELECT {cols} FROM meters m JOIN readings r ON r.tenant_id = m.tenant_id AND r.meter_id = m.id
               AND r.read_at = (SELECT MAX(x.read_at) FROM readings x WHERE x.tenant_id = m.tenant_id AND x.meter_id = m.id
                                AND x.read_at <= $2 AND x.read_at > $3 AND x.energy_total_x100 IS NOT NULL)
             WHERE m.tenant_id = $1"
        );
        for r in self.db().query_all_raw(stmt(b, &sql, self.args().t(at).t(at - chrono::Duration::days(62)))).await? {
            let m: String = r.try_get("", "meter_id")?;
            if !out.contains_key(&m)
                && let Some(p) = point_of(&r, "read_at", "")?
            {
                out.insert(m, p);
            }
        }
        if let Some(until) = first_after {
            let sql = format!(
                "SELECT {cols} FROM meters m JOIN readings r ON r.tenant_id = m.tenant_id AND r.meter_id = m.id
                   AND r.read_at = (SELECT MIN(x.read_at) FROM readings x WHERE x.tenant_id = m.tenant_id AND x.meter_id = m.id
                                    AND x.read_at > $2 AND x.read_at <= $3 AND x.energy_total_x100 IS NOT NULL)
                 WHERE m.tenant_id = $1"
            );
            for r in self.db().query_all_raw(stmt(b, &sql, self.args().t(at).t(until))).await? {
                let m: String = r.try_get("", "meter_id")?;
                if !out.contains_key(&m)
                    && let Some(p) = point_of(&r, "read_at", "")?
                {
                    out.insert(m, p);
                }
            }
        }
        // Readings win (late frames included); a stored freeze fills in where readings are
        // no longer kept.
        let sql = "SELECT meter_id, read_at, total_x100, t1_x100, t2_x100, t3_x100, t4_x100 FROM freezes
                   WHERE tenant_id = $1 AND frozen_at = $2 AND kind <> 'METER_DAILY'";
        for r in self.db().query_all_raw(stmt(b, sql, self.args().t(at))).await? {
            let m: String = r.try_get("", "meter_id")?;
            if !out.contains_key(&m)
                && let Some(p) = point_of(&r, "read_at", "")?
            {
                out.insert(m, p);
            }
        }
        Ok(out)
    }

    /// Freezes every meter's registers at `at` (DAILY at local midnight, MONTHLY at the
    /// settlement instant) from the last reading before it; idempotent.
    pub async fn freeze(&self, kind: &str, at: DateTime<Utc>) -> Result<u64> {
        // The platform's own freeze, from its readings: compared with the meter's, never copied.
        let regs = self.registers_from_readings(at, None, HashMap::new()).await?;
        let sc = |d: Decimal| domain::metering::to_scaled(d, scale::ENERGY);
        let rows: Vec<Vec<Cell>> = regs
            .iter()
            .map(|(m, p)| {
                let [t1, t2, t3, t4] = p.registers.rates.map(|r| Cell::opt_int(r.and_then(sc)));
                vec![
                    Cell::Text(self.tenant.to_string()),
                    Cell::Text(m.clone()),
                    Cell::Text(kind.into()),
                    Cell::Time(at),
                    Cell::Time(p.at),
                    Cell::opt_int(sc(p.registers.total)),
                    t1,
                    t2,
                    t3,
                    t4,
                    Cell::Text("READINGS".into()),
                ]
            })
            .collect();
        let n = bulk::insert(&self.db(), "freezes", FREEZE_COLUMNS, &rows, "ON CONFLICT (tenant_id, meter_id, kind, frozen_at) DO NOTHING")
            .await?;
        // A day's energy for the park platforms that take it (queued once per meter and day).
        if kind == "DAILY" {
            let meters: Vec<String> = regs.keys().cloned().collect();
            super::forwarding::enqueue_daily_energy(&self.db(), self.tenant.as_str(), &meters, at).await?;
        }
        Ok(n)
    }

    /// Freezes due at `now`: the daily freeze at each local midnight and the month-start
    /// freeze at the settlement instant, each once, an hour after the boundary so that the
    /// readings of the boundary have arrived.
    pub async fn freeze_due(&self, now: DateTime<Utc>) -> Result<u64> {
        let (tz, day, hour) = self.calendar().await?;
        let grace = chrono::Duration::hours(1);
        let today = now.with_timezone(&tz).date_naive();
        let mut due = Vec::new();
        for d in [today, today - chrono::Duration::days(1)] {
            due.push(("DAILY", domain::billing::local_instant(tz, d, 0)));
        }
        let p = Period::containing(now, tz, day, hour);
        due.push(("MONTHLY", p.start(tz, day, hour)));
        due.push(("MONTHLY", p.previous().start(tz, day, hour)));
        let mut n = 0;
        for (kind, at) in due {
            if at + grace > now {
                continue;
            }
            let sql = "SELECT 1 AS x FROM freezes WHERE tenant_id = $1 AND kind = $2 AND frozen_at = $3 LIMIT 1";
            if self.db().query_one_raw(stmt(self.backend(), sql, self.args().s(kind).t(at))).await?.is_none() {
                n += self.freeze(kind, at).await?;
            }
        }
        Ok(n)
    }

    /// Cumulative energy readings of one meter in `[from, to]`, oldest first.
    pub(crate) async fn series(&self, meter: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Point>> {
        let sql = "SELECT read_at, energy_total_x100 AS total_x100, energy_t1_x100 AS t1_x100, energy_t2_x100 AS t2_x100,
                   energy_t3_x100 AS t3_x100, energy_t4_x100 AS t4_x100 FROM readings
                   WHERE tenant_id = $1 AND meter_id = $2 AND read_at >= $3 AND read_at <= $4 AND energy_total_x100 IS NOT NULL ORDER BY read_at";
        let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args().s(meter).t(from).t(to))).await?;
        Ok(rows.iter().filter_map(|r| point_of(r, "read_at", "").ok().flatten()).collect())
    }

    /// Primary-side kWh per rate between two boundary points: from the meter's registers
    /// when the tariff says so and both carry them, else split interval by interval by the
    /// platform calendar. Returns the pieces and the source used.
    pub(crate) async fn energy_by_rate(
        &self,
        m: &BillMeter,
        tariff: &Tariff,
        tz: Tz,
        a: &Point,
        b: &Point,
    ) -> Result<(BTreeMap<Rate, Decimal>, TouSource)> {
        let ratio = Decimal::from(m.ratio);
        let mut out = BTreeMap::new();
        let all = a.registers.rates.iter().chain(b.registers.rates.iter()).all(Option::is_some);
        if tariff.source == TouSource::MeterRegisters && all {
            for rate in [Rate::Sharp, Rate::Peak, Rate::Flat, Rate::Valley] {
                let i = rate.register().unwrap_or(0);
                let delta = b.registers.rates.get(i).copied().flatten().unwrap_or_default()
                    - a.registers.rates.get(i).copied().flatten().unwrap_or_default();
                if !delta.is_zero() {
                    *out.entry(rate).or_default() += delta * ratio;
                }
            }
            return Ok((out, TouSource::MeterRegisters));
        }
        // The boundaries themselves belong to the series: a meter's own freeze at the period's
        // edge is not a reading.
        let mut series = self.series(&m.id, a.at, b.at).await?;
        if series.first().map(|p| p.at) != Some(a.at) {
            series.insert(0, *a);
        }
        if series.last().map(|p| p.at) != Some(b.at) {
            series.push(*b);
        }
        for w in series.windows(2) {
            if let [p, q] = w {
                let e = q.registers.total - p.registers.total;
                if e.is_sign_negative() {
                    continue;
                }
                let from = p.at.with_timezone(&tz).naive_local();
                let to = q.at.with_timezone(&tz).naive_local();
                for (rate, piece) in split_by_time(&tariff.calendar, from, to, e * ratio) {
                    *out.entry(rate).or_default() += piece;
                }
            }
        }
        Ok((out, TouSource::PlatformCalendar))
    }

    /// The largest demand register each meter reported in `(start, end]`, kW ×10⁴.
    pub async fn demand_registers(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<HashMap<String, i64>> {
        let sql = "SELECT meter_id, MAX(max_demand_x10000) AS md FROM readings WHERE tenant_id = $1 AND read_at > $2 AND read_at <= $3
                   AND max_demand_x10000 IS NOT NULL GROUP BY meter_id";
        let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args().t(start).t(end))).await?;
        let mut out = HashMap::new();
        for r in rows {
            if let Some(v) = super::registry::opt_int(&r, "md")? {
                out.insert(r.try_get::<String>("", "meter_id")?, v);
            }
        }
        Ok(out)
    }

    /// Maximum demand (kW, primary) of a meter in the period: its demand register if it
    /// reported one, else the largest quarter-hour average from its readings.
    pub(crate) async fn max_demand(
        &self,
        m: &BillMeter,
        register: Option<i64>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Option<Decimal>> {
        let kw = match register {
            Some(v) => Some(from_scaled(v, scale::POWER)),
            None => {
                let pts: Vec<(DateTime<Utc>, Decimal)> =
                    self.series(&m.id, start, end).await?.into_iter().map(|p| (p.at, p.registers.total)).collect();
                max_demand_from_intervals(&pts)
            }
        };
        Ok(kw.map(|k| k * Decimal::from(m.ratio)))
    }
}

/// A meter's own freeze beside the platform's at the same instant.
#[derive(Debug, Clone)]
pub struct FreezeComparison {
    pub frozen_at: DateTime<Utc>,
    /// kWh, total then tariffs, as the meter froze them.
    pub meter: [Option<Decimal>; 5],
    /// The platform's own daily freeze at that instant (from its last reading before), if made.
    pub platform: Option<[Option<Decimal>; 5]>,
    pub platform_read_at: Option<DateTime<Utc>>,
}

impl TenantStore {
    /// Records a meter's own daily freeze (its registers at `frozen_at`), once — if it fits
    /// the meter's readings around it (not below the last before, not above the first after,
    /// within two days); a freeze that does not is refused (logged) and changes nothing.
    pub async fn record_meter_freeze(&self, meter: &str, frozen_at: DateTime<Utc>, registers: &[Decimal]) -> Result<u64> {
        let Some(total) = registers.first().and_then(|d| domain::metering::to_scaled(*d, scale::ENERGY)) else { return Ok(0) };
        let b = self.backend();
        let window = chrono::Duration::days(2);
        let before = "SELECT energy_total_x100 AS t FROM readings WHERE tenant_id = $1 AND meter_id = $2 AND read_at <= $3 AND read_at > $4
                      AND energy_total_x100 IS NOT NULL ORDER BY read_at DESC LIMIT 1";
        let after = "SELECT energy_total_x100 AS t FROM readings WHERE tenant_id = $1 AND meter_id = $2 AND read_at >= $3 AND read_at < $4
                     AND energy_total_x100 IS NOT NULL ORDER BY read_at LIMIT 1";
        let last_before = match self.db().query_one_raw(stmt(b, before, self.args().s(meter).t(frozen_at).t(frozen_at - window))).await? {
            Some(r) => super::registry::opt_int(&r, "t")?,
            None => None,
        };
        let first_after = match self.db().query_one_raw(stmt(b, after, self.args().s(meter).t(frozen_at).t(frozen_at + window))).await? {
            Some(r) => super::registry::opt_int(&r, "t")?,
            None => None,
        };
        if last_before.is_some_and(|x| total < x) || first_after.is_some_and(|x| total > x) {
            tracing::warn!(
                tenant = %self.tenant, meter, %frozen_at, total, ?last_before, ?first_after,
                "a meter's freeze outside its readings around it; refused"
            );
            return Ok(0);
        }
        let sc = |d: Option<&Decimal>| Cell::opt_int(d.and_then(|d| domain::metering::to_scaled(*d, scale::ENERGY)));
        let row = vec![
            Cell::Text(self.tenant.to_string()),
            Cell::Text(meter.to_string()),
            Cell::Text("METER_DAILY".into()),
            Cell::Time(frozen_at),
            Cell::Time(frozen_at),
            sc(registers.first()),
            sc(registers.get(1)),
            sc(registers.get(2)),
            sc(registers.get(3)),
            sc(registers.get(4)),
            Cell::Text("METER".into()),
        ];
        Ok(bulk::insert(&self.db(), "freezes", FREEZE_COLUMNS, &[row], "ON CONFLICT (tenant_id, meter_id, kind, frozen_at) DO NOTHING")
            .await?)
    }

    /// A meter's own freezes in `[from, to)`, each beside the platform's daily freeze of the
    /// same instant, newest first.
    pub async fn meter_freezes(&self, meter: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<FreezeComparison>> {
        let sql = "SELECT f.frozen_at, f.total_x100, f.t1_x100, f.t2_x100, f.t3_x100, f.t4_x100,
                          p.read_at AS p_read_at, p.total_x100 AS p_total_x100, p.t1_x100 AS p_t1_x100, p.t2_x100 AS p_t2_x100,
                          p.t3_x100 AS p_t3_x100, p.t4_x100 AS p_t4_x100
                   FROM freezes f LEFT JOIN freezes p ON p.tenant_id = f.tenant_id AND p.meter_id = f.meter_id AND p.kind = 'DAILY'
                        AND p.frozen_at = f.frozen_at
                   WHERE f.tenant_id = $1 AND f.meter_id = $2 AND f.kind = 'METER_DAILY' AND f.frozen_at >= $3 AND f.frozen_at < $4
                   ORDER BY f.frozen_at DESC LIMIT 400";
        let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args().s(meter).t(from).t(to))).await?;
        let regs = |r: &QueryResult, prefix: &str| -> Result<[Option<Decimal>; 5]> {
            let v = |c: &str| -> Result<Option<Decimal>> {
                Ok(super::registry::opt_int(r, &format!("{prefix}{c}"))?.map(|x| from_scaled(x, scale::ENERGY)))
            };
            Ok([v("total_x100")?, v("t1_x100")?, v("t2_x100")?, v("t3_x100")?, v("t4_x100")?])
        };
        rows.iter()
            .map(|r| {
                let platform_read_at: Option<DateTime<Utc>> = r.try_get("", "p_read_at")?;
                Ok(FreezeComparison {
                    frozen_at: r.try_get("", "frozen_at")?,
                    meter: regs(r, "")?,
                    platform: if platform_read_at.is_some() { Some(regs(r, "p_")?) } else { None },
                    platform_read_at,
                })
            })
            .collect()
    }
}

impl super::Store {
    /// Meters' own daily freezes from the bridge: each recorded for the meter its device and
    /// address route to, at its clock's instant in the tenant's time zone.
    pub async fn store_meter_freezes(&self, freezes: Vec<mqtt_bridge::port::MeterFreeze>) -> Result<u64> {
        use chrono::TimeZone;
        let mut n = 0;
        for f in freezes {
            let Some(address) = f.address.as_u64() else { continue };
            let route = self.caches.read().ok().and_then(|c| c.route(&f.device, address).cloned());
            let Some(route) = route else { continue };
            let Some(at) = route.tz.from_local_datetime(&f.at).earliest().map(|t| t.with_timezone(&Utc)) else { continue };
            // Not from the future, not older than a meter keeps (62 records and a margin). A
            // record that turned over between the reads of its time and its energy pairs a day
            // with the next day's energy: the readings around it refuse that (below).
            if at > f.received_at + chrono::Duration::minutes(10) || at < f.received_at - chrono::Duration::days(100) {
                tracing::info!(meter = %route.meter, frozen_at = %at, "a meter's freeze out of its window; not recorded");
                continue;
            }
            let tenant = self.tenant(route.tenant.clone());
            match tenant.record_meter_freeze(route.meter.as_str(), at, &f.registers).await {
                Ok(k) => n += k,
                Err(e) => tracing::warn!(error = %e, meter = %route.meter, "recording a meter's freeze failed"),
            }
        }
        Ok(n)
    }
}
