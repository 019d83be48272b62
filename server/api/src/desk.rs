//! The portal's desk queries: the overview dashboard (首页概况), the finance list across
//! accounts (财务明细) and a meter's trend. Figures are computed in the tenant's time zone
//! and limited to the caller's property scope, like every list.

use async_graphql::{Context, Enum, ID, InputObject, InputType, Object, SimpleObject};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::graphql::{Meter, PageInfo, Res, err, parse_ref, tenant};
use super::money::{EntryKind, LedgerEntry};
use super::registry::Gateway;
use domain::Invalid;
use domain::ids::*;
use domain::ledger::yuan;
use domain::metering::{Ratios, from_scaled};
use store::{self, TenantStore};

/// Active meters by state. Every meter is exactly one of not opened, closed or tripped.
#[derive(SimpleObject)]
pub struct MeterCounts {
    pub total: u64,
    /// In no open account (未开户).
    pub not_opened: u64,
    /// In an account, relay closed (合闸).
    pub closed: u64,
    /// In an account, relay open (分闸).
    pub tripped: u64,
    /// Power held (保电), counted among the closed.
    pub hold_power: u64,
    /// Platform- or meter-side prepaid (预付费).
    pub prepaid: u64,
    /// Billed monthly (后付费).
    pub postpaid: u64,
    pub online: u64,
    pub lost: u64,
    pub never_seen: u64,
}

#[derive(SimpleObject)]
pub struct GatewayCounts {
    pub total: u64,
    pub online: u64,
    pub lost: u64,
    pub never_seen: u64,
}

/// Energy used in one local hour (kWh, primary side).
#[derive(SimpleObject)]
pub struct HourEnergy {
    /// Local hour, 0..23.
    pub hour: u32,
    pub energy: Decimal,
}

/// Recharges of one channel.
#[derive(SimpleObject)]
pub struct ChannelTotal {
    /// CASH, TRANSFER, WECHAT or ALIPAY.
    pub channel: String,
    pub amount: Decimal,
    pub count: u64,
}

/// The overview dashboard (首页概况).
#[derive(SimpleObject)]
pub struct Overview {
    pub meters: MeterCounts,
    pub gateways: GatewayCounts,
    /// Today's energy per local hour so far (hours still to come are absent).
    pub energy_today: Vec<HourEnergy>,
    /// Yesterday's energy per local hour, all 24.
    pub energy_yesterday: Vec<HourEnergy>,
    /// This month's energy so far (kWh, primary side).
    pub energy_this_month: Decimal,
    /// Last month's energy over the same span (from its first day to the same day and time),
    /// so that growth compares like with like.
    pub energy_last_month: Decimal,
    /// Recharges this month so far (售电额), every channel: gross, as paid in (before service
    /// fees, refunds and reversals, which the finance list shows).
    pub sales_this_month: Decimal,
    /// Recharges over the same span of last month.
    pub sales_last_month: Decimal,
    /// This month's recharges per channel.
    pub recharge_by_channel: Vec<ChannelTotal>,
    /// Active alarms not folded under another (the bell).
    pub active_alarms: u64,
    /// Lost meters, at most 50, longest silent first.
    pub lost_meters: Vec<Meter>,
    /// Lost gateways, at most 50.
    pub lost_gateways: Vec<Gateway>,
}

/// Which entries the finance list shows; every field narrows.
#[derive(InputObject, Default)]
pub struct EntryFilter {
    pub account_id: Option<ID>,
    pub property_id: Option<ID>,
    pub kind: Option<EntryKind>,
    /// Recharge channel: CASH, TRANSFER, WECHAT or ALIPAY.
    pub channel: Option<String>,
    /// The operator's username.
    pub operator: Option<String>,
    pub payee_id: Option<ID>,
    /// Posted at or after.
    pub from: Option<DateTime<Utc>>,
    /// Posted before.
    pub to: Option<DateTime<Utc>>,
}

/// A ledger entry on the finance list.
#[derive(SimpleObject)]
pub struct FinanceEntry {
    pub entry: LedgerEntry,
    /// The account's number (户号).
    pub account_number: String,
    /// The payee whose merchant account took the payment, for WeChat and Alipay recharges.
    pub payee_id: Option<ID>,
}

#[derive(SimpleObject)]
pub struct FinanceEntryConnection {
    pub items: Vec<FinanceEntry>,
    pub page_info: PageInfo,
}

/// Count and sums of the entries a filter selects.
#[derive(SimpleObject)]
pub struct EntryTotals {
    pub count: u64,
    /// Sum of the positive amounts.
    pub credits: Decimal,
    /// Sum of the negative amounts.
    pub debits: Decimal,
    /// Credits plus debits.
    pub net: Decimal,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum TrendBucket {
    Hour,
    Day,
}

/// One bucket of a meter's trend: energy used in it and the average of the values read in it
/// (primary side: PT and CT applied).
#[derive(SimpleObject)]
pub struct TrendPoint {
    /// The bucket's start.
    pub at: DateTime<Utc>,
    pub energy: Decimal,
    pub voltage_a: Option<Decimal>,
    pub current_a: Option<Decimal>,
    pub active_power: Option<Decimal>,
    pub power_factor: Option<Decimal>,
}

/// Local midnight of a date, as an instant (the earliest, should the zone repeat it).
pub(crate) fn midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&naive).earliest().map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc))
}

fn kwh(x100: i64) -> Decimal {
    from_scaled(x100, 2)
}

/// The same instant one month earlier, clamped to the end of a shorter month.
fn month_before(tz: Tz, t: DateTime<Utc>) -> DateTime<Utc> {
    let local = t.with_timezone(&tz);
    let shifted = local.date_naive().checked_sub_months(chrono::Months::new(1)).unwrap_or(local.date_naive());
    midnight(tz, shifted) + (t - midnight(tz, local.date_naive()))
}

fn property(id: &Option<ID>) -> Res<Option<PropertyId>> {
    parse_ref("propertyId", id, PropertyId::parse)
}

pub(crate) async fn time_zone(t: &TenantStore) -> Res<Tz> {
    let row = t.tenant_row().await.map_err(err)?;
    Ok(row.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai))
}

fn entry_filter(f: Option<EntryFilter>) -> Res<store::EntryFilter> {
    let f = f.unwrap_or_default();
    let kind = f.kind.map(|k| match k.to_value() {
        async_graphql::Value::Enum(name) => name.to_string(),
        other => other.to_string(),
    });
    if let Some(c) = &f.channel
        && !store::RECHARGE_KINDS.iter().any(|(_, ch)| ch == c)
    {
        return Err(err(Invalid::new("channel", "CASH, TRANSFER, WECHAT or ALIPAY")));
    }
    if let (Some(from), Some(to)) = (f.from, f.to)
        && to <= from
    {
        return Err(err(Invalid::new("to", "must be after from")));
    }
    Ok(store::EntryFilter {
        account: parse_ref("accountId", &f.account_id, AccountId::parse)?,
        property: property(&f.property_id)?,
        kind,
        channel: f.channel,
        operator: f.operator,
        payee: parse_ref("payeeId", &f.payee_id, PayeeId::parse)?,
        from: f.from,
        to: f.to,
    })
}

#[derive(Default)]
pub struct DeskQuery;

#[Object]
impl DeskQuery {
    /// The overview dashboard (首页概况) of the caller's properties, or of one.
    async fn overview(&self, ctx: &Context<'_>, property_id: Option<ID>) -> Res<Overview> {
        let t = tenant(ctx)?;
        let p = property(&property_id)?;
        if let Some(p) = &p {
            // Another tenant's property is as missing as one that never was.
            t.require("properties", p.as_str()).await.map_err(err)?;
        }
        let p = p.as_ref();
        let tz = time_zone(t).await?;
        let now = Utc::now();
        let today = now.with_timezone(&tz).date_naive();
        let yesterday = today.pred_opt().unwrap_or(today);
        // Hour boundaries from yesterday's midnight to now (the current hour ends now).
        let start = midnight(tz, yesterday);
        let mut instants: Vec<DateTime<Utc>> = (0..=48).map(|h| start + Duration::hours(h)).take_while(|b| *b < now).collect();
        instants.push(now);
        let energy = t.energy_between(p, &instants).await.map_err(err)?;
        let today_start = midnight(tz, today);
        let (mut energy_today, mut energy_yesterday) = (Vec::new(), Vec::new());
        for (i, e) in energy.iter().enumerate() {
            let at = instants[i];
            let hour = chrono::Timelike::hour(&at.with_timezone(&tz));
            let point = HourEnergy { hour, energy: kwh(*e) };
            if at >= today_start { energy_today.push(point) } else { energy_yesterday.push(point) }
        }
        let month_start = midnight(tz, today.with_day(1).unwrap_or(today));
        let last_month_start = month_before(tz, month_start);
        let last_month_same = month_before(tz, now).max(last_month_start);
        let this_month = t.energy_between(p, &[month_start, now]).await.map_err(err)?;
        let last_month = t.energy_between(p, &[last_month_start, last_month_same]).await.map_err(err)?;
        let by_channel = t.recharges_by_channel(p, month_start, now).await.map_err(err)?;
        let last_by_channel = t.recharges_by_channel(p, last_month_start, last_month_same).await.map_err(err)?;
        let c = t.meter_counts(p).await.map_err(err)?;
        let g = t.gateway_counts(p).await.map_err(err)?;
        Ok(Overview {
            meters: MeterCounts {
                total: c.total,
                not_opened: c.not_opened,
                closed: c.closed,
                tripped: c.tripped,
                hold_power: c.hold_power,
                prepaid: c.prepaid,
                postpaid: c.postpaid,
                online: c.online,
                lost: c.lost,
                never_seen: c.never_seen,
            },
            gateways: GatewayCounts { total: g.total, online: g.online, lost: g.lost, never_seen: g.never_seen },
            energy_today,
            energy_yesterday,
            energy_this_month: kwh(this_month.iter().sum()),
            energy_last_month: kwh(last_month.iter().sum()),
            sales_this_month: yuan(by_channel.iter().map(|(_, a, _)| a).sum()),
            sales_last_month: yuan(last_by_channel.iter().map(|(_, a, _)| a).sum()),
            recharge_by_channel: by_channel
                .into_iter()
                .map(|(channel, amount, count)| ChannelTotal { channel, amount: yuan(amount), count })
                .collect(),
            active_alarms: t.active_alarm_count(p).await.map_err(err)?,
            lost_meters: t.lost_meters(p, 50).await.map_err(err)?.into_iter().map(Meter).collect(),
            lost_gateways: t.lost_gateways(p, 50).await.map_err(err)?.into_iter().map(Into::into).collect(),
        })
    }

    /// Ledger entries across accounts, newest first (财务明细), paged by cursor.
    #[graphql(complexity = "(first.clamp(1, 1000) as usize) * child_complexity")]
    async fn ledger_entries(
        &self,
        ctx: &Context<'_>,
        filter: Option<EntryFilter>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> Res<FinanceEntryConnection> {
        if !(1..=1000).contains(&first) {
            return Err(err(Invalid::new("first", "between 1 and 1000")));
        }
        let f = entry_filter(filter)?;
        let after = match after {
            None => None,
            Some(c) => Some(EntryId::parse(&c).ok_or_else(|| err(Invalid::new("after", "not a cursor from this list")))?),
        };
        let t = tenant(ctx)?;
        let mut rows = match t.ledger_entries(&f, after.as_ref().map(|a| a.as_str()), first as u64 + 1).await {
            Err(store::StoreError::NotFound) => return Err(err(Invalid::new("after", "not a cursor from this list"))),
            other => other.map_err(err)?,
        };
        let has_next_page = rows.len() > first as usize;
        rows.truncate(first as usize);
        let end_cursor = rows.last().map(|r| r.entry.id.to_string());
        Ok(FinanceEntryConnection {
            items: rows
                .into_iter()
                .map(|r| FinanceEntry { account_number: r.account_number, payee_id: r.payee_id.map(ID), entry: r.entry.into() })
                .collect(),
            page_info: PageInfo { end_cursor, has_next_page },
        })
    }

    /// Count and sums of the entries the same filter selects.
    async fn ledger_totals(&self, ctx: &Context<'_>, filter: Option<EntryFilter>) -> Res<EntryTotals> {
        let f = entry_filter(filter)?;
        let s = tenant(ctx)?.ledger_totals(&f).await.map_err(err)?;
        Ok(EntryTotals {
            count: s.count,
            credits: yuan(s.credits_x100),
            debits: yuan(s.debits_x100),
            net: yuan(s.credits_x100 + s.debits_x100),
        })
    }

    /// The service fee a recharge of `amount` into the account would take (服务费), by the
    /// account's property's rule or the tenant's.
    async fn recharge_fee(&self, ctx: &Context<'_>, account_id: ID, amount: Decimal) -> Res<Decimal> {
        let account = super::graphql::parse_id(&account_id, AccountId::parse)?;
        let t = tenant(ctx)?;
        // A customer asks for their own accounts only (the mini-program shows the fee before
        // paying); another account looks missing.
        if let Ok(super::auth::Principal::Customer { customer, .. }) = ctx.data::<super::auth::Principal>() {
            let owner = t.account(&account).await.map_err(err)?.map(|a| a.customer_id.to_string());
            if owner.is_none() || owner != *customer {
                return Err(err(super::ApiError::NotFound));
            }
        }
        let fen = domain::ledger::positive_fen("amount", amount).map_err(err)?;
        Ok(yuan(t.recharge_fee(&account, fen).await.map_err(err)?))
    }

    /// A meter's trend over `[from, to)` in hours (up to 31 days) or local days (up to 366).
    async fn meter_trend(
        &self,
        ctx: &Context<'_>,
        meter_id: ID,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bucket: TrendBucket,
    ) -> Res<Vec<TrendPoint>> {
        if to <= from {
            return Err(err(Invalid::new("to", "must be after from")));
        }
        let (step, most) = match bucket {
            TrendBucket::Hour => (Duration::hours(1), Duration::days(31)),
            TrendBucket::Day => (Duration::days(1), Duration::days(366)),
        };
        if to - from > most {
            return Err(err(Invalid::new("to", format!("at most {} days after from", most.num_days()))));
        }
        let t = tenant(ctx)?;
        let Some(id) = MeterId::parse(meter_id.as_str()) else { return Ok(Vec::new()) };
        let Some(meter) = t.meter(&id).await.map_err(err)? else { return Ok(Vec::new()) };
        // Days start at local midnight.
        let from = match bucket {
            TrendBucket::Hour => from,
            TrendBucket::Day => {
                let tz = time_zone(t).await?;
                midnight(tz, from.with_timezone(&tz).date_naive())
            }
        };
        let ratios = Ratios { pt: meter.pt_ratio, ct: meter.ct_ratio };
        let rows = t.meter_trend(&id, ratios.pt * ratios.ct, from, to, step).await.map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|r| TrendPoint {
                at: r.at,
                energy: kwh(r.energy_x100),
                voltage_a: r.voltage_a_x10.map(|v| ratios.voltage(from_scaled(v, 1))),
                current_a: r.current_a_x1000.map(|v| ratios.current(from_scaled(v, 3))),
                active_power: r.active_power_x10000.map(|v| ratios.power(from_scaled(v, 4))),
                power_factor: r.power_factor_x1000.map(|v| from_scaled(v, 3)),
            })
            .collect())
    }
}
