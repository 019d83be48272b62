//! Storing readings from the bridge: route each (device, address) to its tenant's meter,
//! insert idempotently on (tenant, meter, read time), update live state and gateway
//! last-seen, all in one transaction per batch.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use mqtt_bridge::port::{MeterReading, ReadTime, ReadingSink, Readings, SinkError, StoreReport};
use sea_orm::{ConnectionTrait, Value};

use super::bulk::{Cell, Col, unnest_params};
use super::sql::{Args, stmt};
use super::{Route, Store};
use domain::metering::{scale, to_scaled};

/// Stored value columns, in the order [`scaled_values`] yields them.
/// How many value columns a reading has.
pub(crate) const VALUE_COUNT: usize = 24;

pub(crate) const VALUE_COLUMNS: [&str; VALUE_COUNT] = [
    "energy_total_x100",
    "energy_t1_x100",
    "energy_t2_x100",
    "energy_t3_x100",
    "energy_t4_x100",
    "reverse_energy_x100",
    "voltage_a_x10",
    "voltage_b_x10",
    "voltage_c_x10",
    "current_a_x1000",
    "current_b_x1000",
    "current_c_x1000",
    "active_power_x10000",
    "reactive_power_x10000",
    "power_factor_x1000",
    "frequency_x100",
    "max_demand_x10000",
    "remaining_amount_x100",
    "overdraft_amount_x100",
    "status_word_3",
    "phase_faults_a",
    "phase_faults_b",
    "phase_faults_c",
    "status_word_7",
];

fn sc(v: Option<rust_decimal::Decimal>, places: u32) -> Option<i64> {
    v.and_then(|d| to_scaled(d, places))
}

/// The scaled integer of each value column (the codec already guarantees the places).
pub(crate) fn scaled_values(r: &Readings) -> [Option<i64>; VALUE_COUNT] {
    let [t1, t2, t3, t4] = r.energy_tariffs;
    let [va, vb, vc] = r.voltage;
    let [ia, ib, ic] = r.current;
    let [fa, fb, fc] = r.phase_faults;
    [
        sc(r.energy_total, scale::ENERGY),
        sc(t1, scale::ENERGY),
        sc(t2, scale::ENERGY),
        sc(t3, scale::ENERGY),
        sc(t4, scale::ENERGY),
        sc(r.reverse_energy_total, scale::ENERGY),
        sc(va, scale::VOLTAGE),
        sc(vb, scale::VOLTAGE),
        sc(vc, scale::VOLTAGE),
        sc(ia, scale::CURRENT),
        sc(ib, scale::CURRENT),
        sc(ic, scale::CURRENT),
        sc(r.active_power, scale::POWER),
        sc(r.reactive_power, scale::POWER),
        sc(r.power_factor, scale::POWER_FACTOR),
        sc(r.frequency, scale::FREQUENCY),
        sc(r.max_demand, scale::POWER),
        sc(r.remaining_amount, scale::MONEY),
        sc(r.overdraft_amount, scale::MONEY),
        r.status_word_3.map(i64::from),
        fa.map(i64::from),
        fb.map(i64::from),
        fc.map(i64::from),
        r.status_word_7.map(i64::from),
    ]
}

/// How far ahead of its arrival a reading may claim to be (clocks drift a little). A reading
/// further ahead comes from a clock set wrong — typically to another zone than the tenant's,
/// e.g. after the tenant's zone changed: stored, it would become the meter's newest reading and
/// hold every true reading back as late until real time caught up. It is refused instead.
pub const MAX_AHEAD: chrono::Duration = chrono::Duration::minutes(10);

/// The instant of a reading: the meter's wall clock is read in the tenant's time zone.
pub(crate) fn instant(read_at: ReadTime, route: &Route) -> Option<DateTime<Utc>> {
    match read_at {
        ReadTime::Instant(t) => Some(t),
        ReadTime::MeterClock(local) => route.tz.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc)),
    }
}

struct Row {
    route: Route,
    read_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
    values: [Option<i64>; VALUE_COUNT],
}

/// Rows per multi-row INSERT. SQLite's cost grows faster than linearly with the statement's
/// size (measured: 1,000 rows in 16-row statements 20x faster than in 500-row ones).
/// PostgreSQL uses `write_unnest` instead; see docs/PERFORMANCE.md.
fn chunk_rows(backend: sea_orm::DbBackend) -> usize {
    match backend {
        sea_orm::DbBackend::Postgres => 500,
        _ => 16,
    }
}

impl Store {
    pub async fn store_readings(&self, batch: Vec<MeterReading>) -> Result<StoreReport, super::StoreError> {
        let mut report = StoreReport::default();
        let mut rows = Vec::with_capacity(batch.len());
        let mut ahead = 0usize;
        {
            let caches = self.caches.read().map_err(|_| super::StoreError::Database("cache poisoned".into()))?;
            for r in batch {
                let Some(route) = caches.route(&r.device, r.address.as_u64().unwrap_or(u64::MAX)) else {
                    tracing::warn!(device = %r.device, address = %r.address, "meter not registered under this device; frame refused");
                    report.unknown += 1;
                    continue;
                };
                let Some(read_at) = instant(r.read_at, route) else {
                    report.unknown += 1;
                    continue;
                };
                if read_at > r.received_at + MAX_AHEAD {
                    ahead += 1;
                    report.unknown += 1;
                    continue;
                }
                rows.push(Row { route: route.clone(), read_at, received_at: r.received_at, values: scaled_values(&r.values) });
            }
        }
        if ahead > 0 {
            metrics::counter!("voltledger_readings_refused_total", "reason" => "clock_ahead").increment(ahead as u64);
            tracing::warn!(
                readings = ahead,
                "readings dated more than 10 minutes after they arrived refused: a meter clock is set wrong (sync its time)"
            );
        }
        self.store_rows(rows, report).await
    }

    /// Stores routed rows: readings, live state, gateway last-seen and settlement, in one
    /// transaction; decided commands go to the port after commit.
    async fn store_rows(&self, rows: Vec<Row>, mut report: StoreReport) -> Result<StoreReport, super::StoreError> {
        if rows.is_empty() {
            return Ok(report);
        }
        let backend = self.backend();
        let txn = super::begin_write(&self.db).await?;
        let (stored, (inserted, live_done)) = if backend == sea_orm::DbBackend::Postgres {
            write_unnest(&txn, &rows).await?
        } else {
            write_values(&txn, backend, &rows).await?
        };
        report.stored = stored;
        report.duplicates = rows.len() - report.stored;
        // Gateways heard from in this batch.
        let mut gateways: HashMap<(&str, &str), DateTime<Utc>> = HashMap::new();
        for row in &rows {
            if let Some(g) = &row.route.gateway {
                let e = gateways.entry((row.route.tenant.as_str(), g.as_str())).or_insert(row.received_at);
                *e = (*e).max(row.received_at);
            }
        }
        for ((tenant, gateway), seen) in gateways {
            let sql = "UPDATE gateways SET last_seen_at = $3, link_state = 'ONLINE' WHERE tenant_id = $1 AND id = $2";
            txn.execute_raw(stmt(backend, sql, Args::new().s(tenant).s(gateway).t(seen))).await?;
        }
        let arrivals = rows
            .iter()
            .filter_map(|row| {
                let [total, t1, t2, t3, t4, ..] = row.values;
                let registers = super::settle::registers(total, [t1, t2, t3, t4])?;
                Some(super::settle::Arrival {
                    tenant: row.route.tenant.to_string(),
                    meter: row.route.meter.to_string(),
                    point: domain::settlement::Point { at: row.read_at, registers },
                })
            })
            .collect();
        let (settled, commands, alarms) = self.settle_arrivals(&txn, arrivals).await?;
        forward_readings(&txn, &rows).await?;
        txn.commit().await?;
        // Ingest lag: from the instant a reading states (the meter's clock, a gateway's
        // stamp) to its commit.
        let committed = Utc::now();
        let lag = metrics::histogram!("voltledger_ingest_lag_seconds");
        for row in &rows {
            lag.record((committed - row.read_at).num_milliseconds().max(0) as f64 / 1000.0);
        }
        self.commands.submit(&commands);
        self.publish_alarms(&alarms);
        if settled.anomalies > 0 || settled.decisions > 0 {
            tracing::info!(
                charged = settled.charged,
                late = settled.late,
                anomalies = settled.anomalies,
                decisions = settled.decisions,
                "settled"
            );
        }
        tracing::debug!(
            rows = rows.len(),
            insert_ms = inserted.as_millis() as u64,
            live_ms = live_done.saturating_sub(inserted).as_millis() as u64,
            "readings committed"
        );
        Ok(report)
    }
}

/// The readings of a batch for the park platforms that take readings, in the batch's
/// transaction (a reading stored twice is one delivery). Nothing to do — one cheap query —
/// when no tenant of the batch forwards.
async fn forward_readings(txn: &sea_orm::DatabaseTransaction, rows: &[Row]) -> Result<(), super::StoreError> {
    let mut tenants: Vec<String> = rows.iter().map(|r| r.route.tenant.to_string()).collect();
    tenants.sort();
    tenants.dedup();
    if !super::forwarding::any_target(txn, &tenants).await? {
        return Ok(());
    }
    let mut events = Vec::with_capacity(rows.len());
    for tenant in &tenants {
        let mine: Vec<&Row> = rows.iter().filter(|r| r.route.tenant.as_str() == tenant).collect();
        let mut meters: Vec<String> = mine.iter().map(|r| r.route.meter.to_string()).collect();
        meters.sort();
        meters.dedup();
        let properties = super::forwarding::meter_properties(txn, tenant, &meters).await?;
        for r in mine {
            let meter = r.route.meter.to_string();
            events.push(super::forwarding::Event {
                tenant: tenant.clone(),
                kind: "READING",
                reference: super::forwarding::reading_ref(&meter, r.read_at),
                properties: properties.get(&meter).cloned().into_iter().collect(),
                subject: meter,
                at: r.read_at,
            });
        }
    }
    super::forwarding::enqueue(txn, &events, Utc::now()).await?;
    Ok(())
}

impl super::TenantStore {
    /// Imports readings taken outside MQTT (manual reading, 抄表导入, or a migration): stored
    /// and settled exactly like readings from the bridge. Unknown meters are counted.
    pub async fn import_readings(
        &self,
        readings: Vec<(domain::ids::MeterId, DateTime<Utc>, Readings)>,
    ) -> Result<StoreReport, super::StoreError> {
        let tz = self.tenant_row().await?.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
        let now = Utc::now();
        let rows = readings
            .into_iter()
            .map(|(meter, read_at, values)| Row {
                route: Route { tenant: self.tenant.clone(), meter, gateway: None, tz },
                read_at,
                received_at: now,
                values: scaled_values(&values),
            })
            .collect();
        self.store.store_rows(rows, StoreReport::default()).await
    }
}

/// Newest reading per meter in the batch (a statement may not upsert one row twice).
/// Per meter, the batch's live row: the newest reading's time, each value from the newest
/// reading that carries it (a batch holding a full reading and a later energy-only one keeps
/// the power and voltages of the first).
fn newest_per_meter(rows: &[Row]) -> Vec<Row> {
    let mut order: Vec<&Row> = rows.iter().collect();
    order.sort_by_key(|r| r.read_at);
    let mut latest: HashMap<&str, Row> = HashMap::new();
    for row in order {
        match latest.get_mut(row.route.meter.as_str()) {
            Some(slot) => {
                for (v, new) in slot.values.iter_mut().zip(row.values) {
                    if new.is_some() {
                        *v = new;
                    }
                }
                slot.read_at = row.read_at;
                slot.received_at = slot.received_at.max(row.received_at);
            }
            None => {
                latest.insert(
                    row.route.meter.as_str(),
                    Row { route: row.route.clone(), read_at: row.read_at, received_at: row.received_at, values: row.values },
                );
            }
        }
    }
    latest.into_values().collect()
}

/// Live values merge: a newer reading updates the values it carries and leaves the others as
/// they were (an energy-only push does not blank the power or the voltages); last seen always
/// advances; the power baseline (for the sudden-drop alarm) moves 1/32 of the way to each
/// newer reading's active power.
fn live_conflict_clause() -> String {
    let set_values = VALUE_COLUMNS
        .iter()
        .map(|c| {
            format!(
                "{c} = CASE WHEN meter_live.read_at IS NULL OR excluded.read_at >= meter_live.read_at THEN COALESCE(excluded.{c}, meter_live.{c}) ELSE meter_live.{c} END"
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "ON CONFLICT (tenant_id, meter_id) DO UPDATE SET
           last_seen_at = CASE WHEN meter_live.last_seen_at IS NULL OR excluded.last_seen_at > meter_live.last_seen_at THEN excluded.last_seen_at ELSE meter_live.last_seen_at END,
           link_state = 'ONLINE', {set_values},
           baseline_power_x10000 = CASE WHEN (meter_live.read_at IS NULL OR excluded.read_at > meter_live.read_at) AND excluded.active_power_x10000 IS NOT NULL
             THEN (COALESCE(meter_live.baseline_power_x10000, meter_live.active_power_x10000, excluded.active_power_x10000) * 31 + excluded.active_power_x10000) / 32
             ELSE meter_live.baseline_power_x10000 END,
           read_at = CASE WHEN meter_live.read_at IS NULL OR excluded.read_at >= meter_live.read_at THEN excluded.read_at ELSE meter_live.read_at END"
    )
}

type Timings = (std::time::Duration, std::time::Duration);

/// SQLite: multi-row VALUES in small statements.
async fn write_values(
    txn: &sea_orm::DatabaseTransaction,
    backend: sea_orm::DbBackend,
    rows: &[Row],
) -> Result<(usize, Timings), super::StoreError> {
    let started = std::time::Instant::now();
    let cols = VALUE_COLUMNS.join(", ");
    let mut stored = 0;
    let tuple = |args: &mut Args, row: &Row| {
        let mut ph = Vec::with_capacity(27);
        ph.push(args.push(Value::from(row.route.tenant.as_str().to_string())));
        ph.push(args.push(Value::from(row.route.meter.as_str().to_string())));
        ph.push(args.push(Value::from(row.read_at)));
        ph.push(args.push(Value::from(row.received_at)));
        for v in row.values {
            ph.push(args.push(Value::from(v)));
        }
        ph.iter().map(|n| format!("${n}")).collect::<Vec<_>>().join(",")
    };
    for chunk in rows.chunks(chunk_rows(backend)) {
        let mut args = Args::new();
        let tuples: Vec<String> = chunk.iter().map(|row| format!("({})", tuple(&mut args, row))).collect();
        let sql = format!(
            "INSERT INTO readings (tenant_id, meter_id, read_at, received_at, {cols}) VALUES {} ON CONFLICT (tenant_id, meter_id, read_at) DO NOTHING",
            tuples.join(",")
        );
        stored += txn.execute_raw(stmt(backend, &sql, args)).await?.rows_affected() as usize;
    }
    let inserted = started.elapsed();
    let live = newest_per_meter(rows);
    for chunk in live.chunks(chunk_rows(backend)) {
        let mut args = Args::new();
        let tuples: Vec<String> = chunk.iter().map(|row| format!("({},'ONLINE')", tuple(&mut args, row))).collect();
        let sql = format!(
            "INSERT INTO meter_live (tenant_id, meter_id, read_at, last_seen_at, {cols}, link_state) VALUES {} {}",
            tuples.join(","),
            live_conflict_clause()
        );
        txn.execute_raw(stmt(backend, &sql, args)).await?;
    }
    Ok((stored, (inserted, started.elapsed())))
}

/// PostgreSQL: one `UNNEST` statement per table whatever the batch size, its columns as
/// binary arrays (no literal to format here or to parse there) except a value column holding
/// a NULL in this batch, which goes as an array literal (see `bulk::unnest_params`). A statement
/// text per NULL pattern, each prepared once: a fleet sends a handful of patterns.
async fn write_unnest(txn: &sea_orm::DatabaseTransaction, rows: &[Row]) -> Result<(usize, Timings), super::StoreError> {
    let started = std::time::Instant::now();
    let backend = sea_orm::DbBackend::Postgres;
    let columns = |rows: &[&Row]| -> (Args, String) {
        let cells: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| {
                let mut c = Vec::with_capacity(4 + VALUE_COUNT);
                c.push(Cell::Text(r.route.tenant.as_str().to_string()));
                c.push(Cell::Text(r.route.meter.as_str().to_string()));
                c.push(Cell::Time(r.read_at));
                c.push(Cell::Time(r.received_at));
                c.extend(r.values.iter().map(|v| Cell::opt_int(*v)));
                c
            })
            .collect();
        let types = [Col::Text, Col::Text, Col::Time, Col::Time].into_iter().chain(std::iter::repeat_n(Col::Int, VALUE_COUNT));
        unnest_params(types, &cells)
    };
    let cols = VALUE_COLUMNS.join(", ");
    let all: Vec<&Row> = rows.iter().collect();
    let (args, casts) = columns(&all);
    let sql = format!(
        "INSERT INTO readings (tenant_id, meter_id, read_at, received_at, {cols}) SELECT * FROM UNNEST({casts}) ON CONFLICT (tenant_id, meter_id, read_at) DO NOTHING"
    );
    let stored = txn.execute_raw(stmt(backend, &sql, args)).await?.rows_affected() as usize;
    let inserted = started.elapsed();
    let live = newest_per_meter(rows);
    let live: Vec<&Row> = live.iter().collect();
    let (args, casts) = columns(&live);
    let sql = format!(
        "INSERT INTO meter_live (tenant_id, meter_id, read_at, last_seen_at, {cols}, link_state) SELECT u.*, 'ONLINE' FROM UNNEST({casts}) AS u {}",
        live_conflict_clause()
    );
    txn.execute_raw(stmt(backend, &sql, args)).await?;
    Ok((stored, (inserted, started.elapsed())))
}

/// The bridge's sink: durable before it returns, idempotent on (meter, read time).
impl ReadingSink for Store {
    async fn store(&self, batch: Vec<MeterReading>) -> Result<StoreReport, SinkError> {
        self.store_readings(batch).await.map_err(|e| SinkError(e.to_string()))
    }

    async fn freezes(&self, freezes: Vec<mqtt_bridge::port::MeterFreeze>) {
        if let Err(e) = self.store_meter_freezes(freezes).await {
            tracing::warn!(error = %e, "storing meters' own freezes failed");
        }
    }

    fn vendor_json(
        &self,
        device: &str,
        payload: &[u8],
        received_at: chrono::DateTime<chrono::Utc>,
    ) -> Option<Result<mqtt_bridge::port::VendorReading, mqtt_bridge::port::Rejection>> {
        use domain::vendor_json::{Stamp, decode};
        use mqtt_bridge::dlt645::{Address, Value};
        use mqtt_bridge::port::{ReadTime, Readings, Rejection, VendorReading};
        let (map, own) = self.caches.read().ok()?.vendor.get(device).cloned()?;
        let read = || -> Result<VendorReading, Rejection> {
            let r = decode(&map, payload).map_err(Rejection::Vendor)?;
            let address = match &r.meter {
                Some(a) => Address::parse(a).map_err(|e| Rejection::Vendor(format!("meter {a:?}: {e}")))?,
                None => Address::from_u64(own).ok_or_else(|| Rejection::Vendor("the device's meter has no address".into()))?,
            };
            let mut values = Readings::default();
            for (di, n) in &r.numbers {
                mqtt_bridge::uplink::set_item(&mut values, *di, &Value::Number(*n));
            }
            for (di, w) in &r.words {
                mqtt_bridge::uplink::set_item(&mut values, *di, &Value::Word(*w));
            }
            if values.is_empty() {
                let why = r.refused.iter().map(|(f, w)| format!("{f}: {w}")).collect::<Vec<_>>().join("; ");
                return Err(Rejection::Vendor(if why.is_empty() { "no mapped field in the message".into() } else { why }));
            }
            let read_at = match r.at {
                Some(Stamp::Local(t)) => ReadTime::MeterClock(t),
                Some(Stamp::Instant(t)) => ReadTime::Instant(t),
                None => ReadTime::Instant(received_at),
            };
            let answered = r.numbers.iter().map(|(d, _)| *d).chain(r.words.iter().map(|(d, _)| *d)).collect();
            Ok(VendorReading {
                reading: MeterReading { device: device.to_string(), address, read_at, received_at, values },
                answered,
                refused: r.refused.into_iter().map(|(f, w)| format!("{f}: {w}")).collect(),
            })
        };
        Some(read())
    }

    async fn replies(&self, replies: Vec<mqtt_bridge::port::ControlReply>) {
        // Read answers matter only for meters with a read or time sync waiting (one query per
        // batch, not one per frame: every push is made of read replies).
        let reads = replies.iter().any(|r| r.function == mqtt_bridge::dlt645::function::READ);
        let awaiting = if reads {
            match self.platform().awaiting_answers().await {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "looking up reads awaiting answers failed");
                    Default::default()
                }
            }
        } else {
            Default::default()
        };
        for r in replies {
            if r.function == mqtt_bridge::dlt645::function::READ && awaiting.is_empty() {
                continue;
            }
            let route = self.caches.read().ok().and_then(|c| c.route(&r.device, r.address.as_u64().unwrap_or(u64::MAX)).cloned());
            let Some(route) = route else { continue };
            // A reply counts only from the device the meter's commands are sent through.
            let sent_through = self
                .caches
                .read()
                .ok()
                .and_then(|c| c.downlinks.get(&(route.tenant.to_string(), route.meter.to_string())).map(|(device, _)| device.clone()));
            if sent_through.as_deref() != Some(r.device.as_str()) {
                tracing::warn!(device = %r.device, meter = %route.meter, "a command reply from a device the meter is not reached through; ignored");
                continue;
            }
            if r.function == mqtt_bridge::dlt645::function::READ {
                if !awaiting.contains(&(route.tenant.to_string(), route.meter.to_string())) {
                    continue;
                }
                let answered = self
                    .platform()
                    .read_answered(
                        route.tenant.as_str(),
                        route.meter.as_str(),
                        super::ReadAnswer { di: r.di, refused: r.refused.as_deref(), clock: r.clock },
                        route.tz,
                        r.received_at,
                    )
                    .await;
                if let Err(e) = answered {
                    tracing::warn!(error = %e, "recording a read answer failed");
                }
                continue;
            }
            if let Err(e) = self
                .platform()
                .command_replied(route.tenant.as_str(), route.meter.as_str(), r.function, r.refused.as_deref(), r.received_at)
                .await
            {
                tracing::warn!(error = %e, "recording a command reply failed");
            }
        }
    }
}

impl mqtt_bridge::port::DeviceAuth for Store {
    fn check(&self, client_id: &str, username: &str, password: &str) -> bool {
        self.check_device(client_id, username, password)
    }

    fn authorize(&self, client_id: &str, access: mqtt_bridge::port::Access<'_>) -> bool {
        self.authorize_device(client_id, access)
    }

    fn gateway(&self, username: &str) -> bool {
        self.caches.read().map(|c| c.routes.get(username).is_some_and(|r| r.values().any(|route| route.gateway.is_some()))).unwrap_or(false)
    }
}
