//! The portal's lists as spreadsheets (issue 19: every list exports): meters as the meter
//! monitor shows them (电表监控), customers (客户), and commands (命令记录). Each reads the same
//! store calls as its GraphQL list, so property scope is the same.

use rust_decimal::Decimal;

use super::export::{Cell, Kind, Table, col};
use super::reports::{Params, Refusal};
use domain::ids::*;
use domain::metering::from_scaled;
use store::TenantStore;

/// Rows an export of a list writes at most.
const MAX: u64 = 100_000;

fn money(x100: Option<i64>) -> Cell {
    x100.map_or(Cell::Empty, |v| Cell::Num(Decimal::new(v, 2)))
}

fn id<T>(q: &Params, key: &'static str, parse: fn(&str) -> Option<T>) -> Result<Option<T>, Refusal> {
    match q.get(key).map(String::as_str).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(|| Refusal::bad(format!("{key}: not an id"))),
    }
}

/// `meters`: filters `propertyId`, `areaId`, `gatewayId`, `status` (ONLINE, LOST, NEVER_SEEN, RETIRED), `feeState`, `q`.
pub async fn meters_table(t: &TenantStore, q: &Params, property: Option<PropertyId>) -> Result<Table, Refusal> {
    let status = q.get("status").filter(|s| !s.is_empty()).cloned();
    if let Some(s) = &status
        && !["ONLINE", "LOST", "NEVER_SEEN", "RETIRED"].contains(&s.as_str())
    {
        return Err(Refusal::bad("status: ONLINE, LOST, NEVER_SEEN or RETIRED"));
    }
    let fee_state = q.get("feeState").filter(|s| !s.is_empty()).cloned();
    if let Some(f) = &fee_state
        && !store::FEE_STATES.contains(&f.as_str())
    {
        return Err(Refusal::bad(format!("feeState: one of {}", store::FEE_STATES.join(", "))));
    }
    let f = store::MeterFilter {
        property_id: property,
        area_id: id(q, "areaId", AreaId::parse)?,
        gateway_id: id(q, "gatewayId", GatewayId::parse)?,
        status,
        q: q.get("q").filter(|s| !s.trim().is_empty()).map(|s| s.trim().to_string()),
        fee_state,
        ..Default::default()
    };
    let internal = |e: store::StoreError| Refusal::of(super::graphql::err(e));
    let names: std::collections::HashMap<String, String> =
        t.properties().await.map_err(internal)?.into_iter().map(|p| (p.id.to_string(), p.name)).collect();
    let (meters, _) = t.meters(&f, 1, MAX).await.map_err(internal)?;
    let rows = meters
        .into_iter()
        .map(|m| {
            let total = m.live.latest.values[0];
            vec![
                m.address.as_str().into(),
                names.get(m.property_id.as_str()).cloned().unwrap_or_default().into(),
                m.desk.area_name.clone().into(),
                m.shop_no.as_str().into(),
                m.link_type.as_str().into(),
                m.billing_mode.as_str().into(),
                m.desk.customer_name.clone().into(),
                m.desk.account_number.clone().into(),
                money(m.desk.balance_x100),
                m.desk.fee_state.as_str().into(),
                m.live.link_state.as_str().into(),
                m.live.last_seen_at.map_or(Cell::Empty, Cell::At),
                total.map_or(Cell::Empty, |v| Cell::Num(from_scaled(v, 2))),
                Cell::Int(m.pt_ratio),
                Cell::Int(m.ct_ratio),
            ]
        })
        .collect();
    Ok(Table {
        name: "meters",
        title_zh: "电表",
        title_en: "Meters",
        columns: vec![
            col("表地址", "Meter address", Kind::Text),
            col("项目", "Property", Kind::Text),
            col("区域", "Area", Kind::Text),
            col("铺位号", "Shop no", Kind::Text),
            col("接入方式", "Link", Kind::Text),
            col("计费方式", "Billing mode", Kind::Text),
            col("客户", "Customer", Kind::Text),
            col("账户", "Account", Kind::Text),
            col("余额(元)", "Balance", Kind::Money),
            col("费控状态", "Fee state", Kind::Text),
            col("通讯状态", "Link state", Kind::Text),
            col("最后通讯", "Last seen", Kind::At),
            col("总电量(kWh)", "Total (kWh)", Kind::Number),
            col("PT", "PT", Kind::Number),
            col("CT", "CT", Kind::Number),
        ],
        rows,
        sums: false,
    })
}

/// `customers`: filter `q` (name, phone, shop no).
pub async fn customers_table(t: &TenantStore, q: &Params) -> Result<Table, Refusal> {
    let text = q.get("q").map(|s| s.trim()).filter(|s| !s.is_empty());
    let (customers, _) = t.customers(text, 1, MAX).await.map_err(|e| Refusal::of(super::graphql::err(e)))?;
    let rows = customers
        .into_iter()
        .filter(|c| c.retired_at.is_none())
        .map(|c| vec![c.name.as_str().into(), c.phone.as_str().into(), c.shop_no.as_str().into()])
        .collect();
    Ok(Table {
        name: "customers",
        title_zh: "客户",
        title_en: "Customers",
        columns: vec![col("客户", "Customer", Kind::Text), col("电话", "Phone", Kind::Text), col("铺位号", "Shop no", Kind::Text)],
        rows,
        sums: false,
    })
}

/// `commands`: filters `meterId`, `status`, `kind`; the newest 10,000.
pub async fn commands_table(t: &TenantStore, q: &Params) -> Result<Table, Refusal> {
    let meter = id(q, "meterId", MeterId::parse)?;
    let status = q.get("status").filter(|s| !s.is_empty()).cloned();
    const STATUSES: [&str; 8] = ["QUEUED", "SENT", "ACKNOWLEDGED", "CONFIRMED", "FAILED", "TIMED_OUT", "EXPIRED", "CANCELLED"];
    if let Some(s) = &status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(Refusal::bad(format!("status: one of {}", STATUSES.join(", "))));
    }
    let kind = q.get("kind").filter(|s| !s.is_empty()).cloned();
    if let Some(k) = &kind
        && !domain::control::COMMAND_KINDS.contains(&k.as_str())
    {
        return Err(Refusal::bad(format!("kind: one of {}", domain::control::COMMAND_KINDS.join(", "))));
    }
    let commands = t
        .commands_filtered(meter.as_ref(), status.as_deref(), kind.as_deref(), 10_000)
        .await
        .map_err(|e| Refusal::of(super::graphql::err(e)))?;
    let rows = commands
        .into_iter()
        .map(|c| {
            vec![
                Cell::At(c.created_at),
                c.meter_address.as_str().into(),
                c.kind.as_str().into(),
                c.source.as_str().into(),
                c.reason.as_str().into(),
                c.status.as_str().into(),
                Cell::Int(c.attempts),
                c.sent_at.map_or(Cell::Empty, Cell::At),
                c.confirmed_at.map_or(Cell::Empty, Cell::At),
            ]
        })
        .collect();
    Ok(Table {
        name: "commands",
        title_zh: "命令记录",
        title_en: "Commands",
        columns: vec![
            col("创建时间", "Created at", Kind::At),
            col("表地址", "Meter address", Kind::Text),
            col("命令", "Command", Kind::Text),
            col("来源", "Source", Kind::Text),
            col("原因", "Reason", Kind::Text),
            col("状态", "Status", Kind::Text),
            col("尝试次数", "Attempts", Kind::Count),
            col("发送时间", "Sent at", Kind::At),
            col("确认时间", "Confirmed at", Kind::At),
        ],
        rows,
        sums: false,
    })
}
