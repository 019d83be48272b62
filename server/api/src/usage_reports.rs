//! Reports on energy and devices (issue 19), in the tenant's time zone, property scope kept,
//! exact decimals: energy by meter, area or property per hour, day or month with the TOU
//! split (用电量统计); the capacity-fee basis (15-minute maximum demand per meter and bill
//! period, 需量); meters and gateways whose link is lost (失联设备); an account's statement
//! (对账单). Each is a GraphQL query and an export (`GET /exports/{name}.xlsx|.csv`).

use std::collections::{BTreeMap, HashMap};

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::export::{Cell, Kind, Lang, Table, col};
use super::graphql::{Res, err, parse_id, parse_ref, tenant};
use domain::Invalid;
use domain::billing::{Period, max_demand_at};
use domain::ids::*;
use domain::ledger::EntryKind;
use domain::metering::from_scaled;
use domain::usage::{Registers, Usage, intervals};
use store::TenantStore;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum EnergyBucket {
    Hour,
    Day,
    Month,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum EnergyBy {
    Meter,
    Area,
    Property,
}

/// Energy used in one local period by one meter, area or property, primary side (× PT × CT).
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct EnergyLine {
    /// The local period: `2026-12-06 13:00`, `2026-12-06` or `2026-12`.
    pub period: String,
    /// The meter's, area's or property's id; `NONE` for meters in no area.
    pub key: String,
    /// The meter's address, the area's or property's name.
    pub name: String,
    /// kWh, total forward active energy.
    pub total: Decimal,
    /// kWh in the sharp, peak, flat and valley periods (尖峰平谷), from the meter's TOU
    /// registers (a meter without them shows 0 here and its energy in `total`).
    pub sharp: Decimal,
    pub peak: Decimal,
    pub flat: Decimal,
    pub valley: Decimal,
}

/// A meter's capacity-fee basis for a bill period (需量).
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct DemandLine {
    pub meter_id: ID,
    pub address: String,
    pub property_id: ID,
    pub account_number: Option<String>,
    pub customer_name: Option<String>,
    /// PT × CT.
    pub ratio: i64,
    /// The largest value of the meter's own maximum-demand register in the period, kW primary.
    pub register_demand: Option<Decimal>,
    /// The largest quarter-hour average from the meter's energy readings, kW primary, and the
    /// span it was measured over.
    pub interval_demand: Option<Decimal>,
    pub interval_from: Option<DateTime<Utc>>,
    pub interval_to: Option<DateTime<Utc>>,
    /// What a bill of the period counts: the register if the meter reported one, else the
    /// quarter-hour figure.
    pub basis: Option<Decimal>,
}

/// A meter or gateway whose link is lost (失联).
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct LostDeviceLine {
    /// METER or GATEWAY.
    pub kind: String,
    pub id: ID,
    /// The meter's address or the gateway's serial.
    pub label: String,
    pub property_id: ID,
    pub area_id: Option<ID>,
    pub account_number: Option<String>,
    /// When it was last heard from; null if never.
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// One line of a statement: a ledger entry, or a local day's energy charges summed.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct StatementLine {
    pub at: DateTime<Utc>,
    /// The entry kind (`ENERGY_CHARGE` lines sum a local day's charges).
    pub kind: String,
    /// What the customer reads: the kind's name, and for energy the day.
    pub label: String,
    /// How many ledger entries the line sums (1 but for energy).
    pub entries: i64,
    /// Yuan: credit positive, charge negative.
    pub amount: Decimal,
    /// The balance after the line.
    pub balance: Decimal,
    pub receipt_no: Option<i64>,
    pub note: String,
}

/// An account's statement for `[from, to)` (对账单): the balance at the start, every movement
/// and the balance at the end, which equals the ledger's.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct Statement {
    pub account_id: ID,
    pub account_number: String,
    pub customer_name: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub opening: Decimal,
    pub credits: Decimal,
    pub debits: Decimal,
    pub closing: Decimal,
    pub lines: Vec<StatementLine>,
}

fn range_limit(bucket: EnergyBucket) -> (Duration, &'static str) {
    match bucket {
        EnergyBucket::Hour => (Duration::days(31), "at most 31 days for hours"),
        EnergyBucket::Day => (Duration::days(400), "at most 400 days for days"),
        EnergyBucket::Month => (Duration::days(3 * 366), "at most three years"),
    }
}

fn check_range(from: DateTime<Utc>, to: DateTime<Utc>, longest: Duration, message: &str) -> Res<()> {
    if to <= from {
        return Err(err(Invalid::new("to", "must be after from")));
    }
    if to - from > longest {
        return Err(err(Invalid::new("to", message)));
    }
    Ok(())
}

/// The local period an interval ending at `at` belongs to (`(start, end]`: a reading at
/// midnight closes the day before).
fn period_of(tz: Tz, at: DateTime<Utc>, bucket: EnergyBucket) -> String {
    let local = (at - Duration::milliseconds(1)).with_timezone(&tz);
    match bucket {
        EnergyBucket::Hour => format!("{} {:02}:00", local.date_naive(), local.hour()),
        EnergyBucket::Day => local.date_naive().to_string(),
        EnergyBucket::Month => format!("{:04}-{:02}", local.year(), local.month()),
    }
}

fn kwh(x100: i64) -> Decimal {
    from_scaled(x100, 2)
}

fn series(points: &[store::RegisterPoint]) -> Vec<Registers> {
    points.iter().map(|p| p.registers).collect()
}

pub async fn energy_lines(
    t: &TenantStore,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: EnergyBucket,
    by: EnergyBy,
    property: Option<&PropertyId>,
    area: Option<&AreaId>,
) -> Res<Vec<EnergyLine>> {
    let (longest, message) = range_limit(bucket);
    check_range(from, to, longest, message)?;
    let tz = super::desk::time_zone(t).await?;
    let meters = t.report_meters(property, area).await.map_err(err)?;
    let names: HashMap<String, String> = match by {
        EnergyBy::Meter => HashMap::new(),
        EnergyBy::Area => t.areas(property).await.map_err(err)?.into_iter().map(|a| (a.id.to_string(), a.name)).collect(),
        EnergyBy::Property => t.properties().await.map_err(err)?.into_iter().map(|p| (p.id.to_string(), p.name)).collect(),
    };
    let mut lines: BTreeMap<(String, String), (String, Usage)> = BTreeMap::new();
    for m in &meters {
        let (key, name) = match by {
            EnergyBy::Meter => (m.id.clone(), m.address.clone()),
            EnergyBy::Area => match &m.area_id {
                Some(a) => (a.clone(), names.get(a).cloned().unwrap_or_default()),
                None => ("NONE".to_string(), String::new()),
            },
            EnergyBy::Property => (m.property_id.clone(), names.get(&m.property_id).cloned().unwrap_or_default()),
        };
        let points = t.register_series(&m.id, from, to).await.map_err(err)?;
        for i in intervals(&series(&points)) {
            let line = lines.entry((period_of(tz, i.to, bucket), key.clone())).or_insert_with(|| (name.clone(), Usage::default()));
            line.1.add(&i.usage.times(m.ratio));
        }
    }
    Ok(lines
        .into_iter()
        .map(|((period, key), (name, u))| EnergyLine {
            period,
            key,
            name,
            total: kwh(u.total),
            sharp: kwh(u.tou[0]),
            peak: kwh(u.tou[1]),
            flat: kwh(u.tou[2]),
            valley: kwh(u.tou[3]),
        })
        .collect())
}

pub async fn demand_lines(t: &TenantStore, period: &str, property: Option<&PropertyId>, area: Option<&AreaId>) -> Res<Vec<DemandLine>> {
    let period = Period::parse(period).map_err(err)?;
    let (tz, day, hour) = t.calendar().await.map_err(err)?;
    let (start, end) = (period.start(tz, day, hour), period.end(tz, day, hour));
    let registers = t.demand_registers(start, end).await.map_err(err)?;
    let meters = t.report_meters(property, area).await.map_err(err)?;
    let mut out = Vec::with_capacity(meters.len());
    for m in meters {
        let ratio = Decimal::from(m.ratio);
        // As bills count it: readings from the period's start on.
        let points: Vec<(DateTime<Utc>, Decimal)> = t
            .register_series(&m.id, start, end)
            .await
            .map_err(err)?
            .into_iter()
            .filter(|p| p.registers.at >= start)
            .map(|p| (p.registers.at, kwh(p.registers.total)))
            .collect();
        let interval = max_demand_at(&points);
        let register = registers.get(&m.id).map(|v| from_scaled(*v, domain::metering::scale::POWER) * ratio);
        let interval_demand = interval.map(|(_, _, kw)| {
            let mut d = (kw * ratio).round_dp(4);
            d.rescale(4);
            d
        });
        out.push(DemandLine {
            meter_id: ID(m.id),
            address: m.address,
            property_id: ID(m.property_id),
            account_number: m.account_number,
            customer_name: m.customer_name,
            ratio: m.ratio,
            register_demand: register,
            interval_demand,
            interval_from: interval.map(|(a, _, _)| a),
            interval_to: interval.map(|(_, b, _)| b),
            basis: register.or(interval_demand),
        });
    }
    Ok(out)
}

pub async fn lost_lines(t: &TenantStore, property: Option<&PropertyId>) -> Res<Vec<LostDeviceLine>> {
    Ok(t.lost_devices(property)
        .await
        .map_err(err)?
        .into_iter()
        .map(|d| LostDeviceLine {
            kind: d.kind.to_string(),
            id: ID(d.id),
            label: d.label,
            property_id: ID(d.property_id),
            area_id: d.area_id.map(ID),
            account_number: d.account_number,
            last_seen_at: d.last_seen_at,
        })
        .collect())
}

/// Kinds as a statement names them: Chinese, English.
fn kind_label(kind: EntryKind, lang: Lang) -> String {
    let label = kind.label();
    match (lang, label.split_once(' ')) {
        (Lang::En, Some((_, en))) => en.to_string(),
        (Lang::Zh, Some((zh, _))) => zh.to_string(),
        _ => label.to_string(),
    }
}

pub async fn statement(t: &TenantStore, account: &AccountId, from: DateTime<Utc>, to: DateTime<Utc>, lang: Lang) -> Res<Statement> {
    check_range(from, to, Duration::days(3 * 366), "at most three years after from")?;
    // Another property's account looks like another tenant's (the export has no guard).
    if let Some(scope) = t.scope()
        && !t.within_scope(&[account.to_string()], scope, true).await.map_err(err)?
    {
        return Err(err(store::StoreError::NotFound));
    }
    let Some(a) = t.account(account).await.map_err(err)? else { return Err(err(store::StoreError::NotFound)) };
    let tz = super::desk::time_zone(t).await?;
    let before = store::EntryFilter { account: Some(account.clone()), to: Some(from), ..Default::default() };
    let opening_totals = t.ledger_totals(&before).await.map_err(err)?;
    let opening = opening_totals.credits_x100 + opening_totals.debits_x100;
    let f = store::EntryFilter { account: Some(account.clone()), from: Some(from), to: Some(to), ..Default::default() };
    let mut entries = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = t.ledger_entries(&f, after.as_deref(), 1000).await.map_err(err)?;
        let full = page.len() == 1000;
        after = page.last().map(|e| e.entry.id.to_string());
        entries.extend(page.into_iter().map(|e| e.entry));
        if !full {
            break;
        }
        if entries.len() > 2_000_000 {
            return Err(err(Invalid::new("to", "too many entries: narrow the range")));
        }
    }
    entries.reverse();
    let mut lines: Vec<StatementLine> = Vec::new();
    let (mut balance, mut credits, mut debits) = (opening, 0i64, 0i64);
    let mut energy_day: Option<String> = None;
    for e in entries {
        balance += e.amount_x100;
        if e.amount_x100 >= 0 {
            credits += e.amount_x100;
        } else {
            debits += e.amount_x100;
        }
        if e.kind == EntryKind::EnergyCharge {
            let day = e.created_at.with_timezone(&tz).date_naive().to_string();
            if let Some(last) = lines.last_mut().filter(|l| l.kind == "ENERGY_CHARGE" && energy_day.as_deref() == Some(day.as_str())) {
                last.at = e.created_at;
                last.entries += 1;
                last.amount += kwh(e.amount_x100);
                last.balance = kwh(balance);
                continue;
            }
            energy_day = Some(day.clone());
            lines.push(StatementLine {
                at: e.created_at,
                kind: "ENERGY_CHARGE".into(),
                label: format!("{} {day}", kind_label(e.kind, lang)),
                entries: 1,
                amount: kwh(e.amount_x100),
                balance: kwh(balance),
                receipt_no: None,
                note: String::new(),
            });
            continue;
        }
        energy_day = None;
        lines.push(StatementLine {
            at: e.created_at,
            kind: e.kind.as_str().to_string(),
            label: kind_label(e.kind, lang),
            entries: 1,
            amount: kwh(e.amount_x100),
            balance: kwh(balance),
            receipt_no: e.receipt_no,
            note: e.note,
        });
    }
    let customer = t.customer(&a.customer_id).await.map_err(err)?.map(|c| c.name).unwrap_or_default();
    Ok(Statement {
        account_id: ID(a.id.to_string()),
        account_number: a.number,
        customer_name: customer,
        from,
        to,
        opening: kwh(opening),
        credits: kwh(credits),
        debits: kwh(debits),
        closing: kwh(balance),
        lines,
    })
}

// ---- as tables ----

pub fn energy_table(lines: &[EnergyLine]) -> Table {
    Table {
        name: "energy",
        title_zh: "用电量统计",
        title_en: "Energy",
        columns: vec![
            col("期间", "Period", Kind::Text),
            col("对象", "Key", Kind::Text),
            col("名称", "Name", Kind::Text),
            col("总电量(kWh)", "Total (kWh)", Kind::Kwh),
            col("尖(kWh)", "Sharp (kWh)", Kind::Kwh),
            col("峰(kWh)", "Peak (kWh)", Kind::Kwh),
            col("平(kWh)", "Flat (kWh)", Kind::Kwh),
            col("谷(kWh)", "Valley (kWh)", Kind::Kwh),
        ],
        rows: lines
            .iter()
            .map(|l| {
                vec![
                    l.period.as_str().into(),
                    l.key.as_str().into(),
                    l.name.as_str().into(),
                    Cell::Num(l.total),
                    Cell::Num(l.sharp),
                    Cell::Num(l.peak),
                    Cell::Num(l.flat),
                    Cell::Num(l.valley),
                ]
            })
            .collect(),
        sums: true,
    }
}

pub fn demand_table(lines: &[DemandLine]) -> Table {
    let num = |d: Option<Decimal>| d.map_or(Cell::Empty, Cell::Num);
    Table {
        name: "demand",
        title_zh: "需量统计",
        title_en: "Maximum demand",
        columns: vec![
            col("表地址", "Meter address", Kind::Text),
            col("户号", "Account", Kind::Text),
            col("客户", "Customer", Kind::Text),
            col("倍率", "Ratio", Kind::Number),
            col("表计最大需量(kW)", "Register demand (kW)", Kind::Number),
            col("15分钟最大需量(kW)", "15-minute demand (kW)", Kind::Number),
            col("出现时间", "Measured from", Kind::At),
            col("计费需量(kW)", "Billed demand (kW)", Kind::Number),
        ],
        rows: lines
            .iter()
            .map(|l| {
                vec![
                    l.address.as_str().into(),
                    l.account_number.clone().into(),
                    l.customer_name.clone().into(),
                    Cell::Int(l.ratio),
                    num(l.register_demand),
                    num(l.interval_demand),
                    l.interval_from.map_or(Cell::Empty, Cell::At),
                    num(l.basis),
                ]
            })
            .collect(),
        sums: false,
    }
}

pub fn lost_table(lines: &[LostDeviceLine]) -> Table {
    Table {
        name: "lost-devices",
        title_zh: "失联设备",
        title_en: "Lost devices",
        columns: vec![
            col("类型", "Kind", Kind::Text),
            col("表地址/网关编号", "Address / serial", Kind::Text),
            col("户号", "Account", Kind::Text),
            col("最后通信", "Last seen", Kind::At),
        ],
        rows: lines
            .iter()
            .map(|l| {
                vec![
                    l.kind.as_str().into(),
                    l.label.as_str().into(),
                    l.account_number.clone().into(),
                    l.last_seen_at.map_or(Cell::Empty, Cell::At),
                ]
            })
            .collect(),
        sums: false,
    }
}

/// The statement as a table: an opening line, the movements, and the sums of the amounts.
pub fn statement_table(s: &Statement, lang: Lang) -> Table {
    let mut rows = vec![vec![
        Cell::At(s.from),
        Cell::Text(if lang == Lang::En { "Opening balance".into() } else { "期初余额".into() }),
        Cell::Empty,
        Cell::Empty,
        Cell::Num(s.opening),
        Cell::Empty,
        Cell::Empty,
    ]];
    rows.extend(s.lines.iter().map(|l| {
        vec![
            Cell::At(l.at),
            l.label.as_str().into(),
            Cell::Int(l.entries),
            Cell::Num(l.amount),
            Cell::Num(l.balance),
            l.receipt_no.map_or(Cell::Empty, Cell::Int),
            l.note.as_str().into(),
        ]
    }));
    Table {
        name: "statement",
        title_zh: "对账单",
        title_en: "Statement",
        columns: vec![
            col("时间", "Time", Kind::At),
            col("摘要", "Item", Kind::Text),
            col("笔数", "Entries", Kind::Count),
            col("金额(元)", "Amount (yuan)", Kind::Money),
            col("余额(元)", "Balance (yuan)", Kind::Number),
            col("收据号", "Receipt", Kind::Number),
            col("备注", "Note", Kind::Text),
        ],
        rows,
        sums: true,
    }
}

#[derive(Default)]
pub struct UsageReportQuery;

#[Object]
impl UsageReportQuery {
    /// Energy used in `(from, to]` by local hour (at most 31 days), day (400 days) or month
    /// (three years) and by meter, area or property, primary side, with the TOU split
    /// (用电量统计).
    #[allow(clippy::too_many_arguments)]
    async fn energy_report(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bucket: EnergyBucket,
        by: EnergyBy,
        property_id: Option<ID>,
        area_id: Option<ID>,
    ) -> Res<Vec<EnergyLine>> {
        let property = parse_ref("propertyId", &property_id, PropertyId::parse)?;
        let area = parse_ref("areaId", &area_id, AreaId::parse)?;
        energy_lines(tenant(ctx)?, from, to, bucket, by, property.as_ref(), area.as_ref()).await
    }

    /// The capacity-fee basis of a bill period (`YYYY-MM`, the tenant's settlement day and
    /// hour): each active meter's maximum demand as its register and its quarter-hours show
    /// it, and the figure a bill counts (需量).
    async fn demand_report(&self, ctx: &Context<'_>, period: String, property_id: Option<ID>, area_id: Option<ID>) -> Res<Vec<DemandLine>> {
        let property = parse_ref("propertyId", &property_id, PropertyId::parse)?;
        let area = parse_ref("areaId", &area_id, AreaId::parse)?;
        demand_lines(tenant(ctx)?, &period, property.as_ref(), area.as_ref()).await
    }

    /// Meters and gateways whose link is lost, the longest silent first (失联设备).
    async fn lost_devices_report(&self, ctx: &Context<'_>, property_id: Option<ID>) -> Res<Vec<LostDeviceLine>> {
        let property = parse_ref("propertyId", &property_id, PropertyId::parse)?;
        lost_lines(tenant(ctx)?, property.as_ref()).await
    }

    /// An account's statement for `[from, to)` (对账单): opening balance, movements (a day's
    /// energy charges on one line), closing balance.
    async fn account_statement(&self, ctx: &Context<'_>, account_id: ID, from: DateTime<Utc>, to: DateTime<Utc>) -> Res<Statement> {
        let account = parse_id(&account_id, AccountId::parse)?;
        statement(tenant(ctx)?, &account, from, to, Lang::Zh).await
    }
}
