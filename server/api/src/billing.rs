//! GraphQL for post-paid billing, freezes, shared-area allocation and re-rating.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::graphql::{Res, err, parse_id, tenant};
use super::money::Posting;
use domain::Invalid;
use domain::billing::Period;
use domain::ids::*;
use domain::ledger::yuan;
use store::{self, StoreError};

/// Bill lifecycle (账单状态).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum BillState {
    Draft,
    Issued,
    Paid,
    /// Replaced by a newer version after a correction.
    Superseded,
}

/// How a shared area is split (公摊方式).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum AllocationMethod {
    /// By floor area in m² (按面积).
    Area,
    /// By fixed shares (按比例).
    Shares,
}

#[derive(SimpleObject)]
pub struct BillLine {
    pub line_no: i64,
    /// ENERGY, TIER, CAPACITY, SHARED_AREA or PROPERTY_FEE.
    pub kind: String,
    pub meter_id: Option<ID>,
    /// What was billed and how (published formula).
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    pub amount: Decimal,
}

/// A post-paid monthly bill (账单), versioned.
#[derive(SimpleObject)]
pub struct Bill {
    pub id: ID,
    pub account_id: ID,
    /// `YYYY-MM`.
    pub period: String,
    pub version: i64,
    pub state: BillState,
    pub total: Decimal,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub issued_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub lines: Vec<BillLine>,
}

impl From<store::BillRow> for Bill {
    fn from(b: store::BillRow) -> Self {
        Self {
            id: ID(b.id.to_string()),
            account_id: ID(b.account_id.to_string()),
            period: b.period,
            version: b.version,
            state: match b.state.as_str() {
                "ISSUED" => BillState::Issued,
                "PAID" => BillState::Paid,
                "SUPERSEDED" => BillState::Superseded,
                _ => BillState::Draft,
            },
            total: yuan(b.total_x100),
            period_start: b.period_start,
            period_end: b.period_end,
            created_at: b.created_at,
            issued_at: b.issued_at,
            paid_at: b.paid_at,
            lines: b
                .lines
                .into_iter()
                .map(|l| BillLine {
                    line_no: l.line_no,
                    kind: l.kind,
                    meter_id: l.meter_id.map(ID),
                    description: l.description,
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    amount: yuan(l.amount_x100),
                })
                .collect(),
        }
    }
}

#[derive(SimpleObject)]
pub struct SkippedAccount {
    pub account_id: ID,
    pub reason: String,
}

#[derive(SimpleObject)]
pub struct BillRunResult {
    pub created: u64,
    pub skipped: Vec<SkippedAccount>,
}

#[derive(SimpleObject)]
pub struct AllocationMember {
    pub account_id: ID,
    /// m² or share.
    pub weight: Decimal,
}

/// A common-area meter and the accounts that share it (公摊组).
#[derive(SimpleObject)]
pub struct AllocationGroup {
    pub id: ID,
    pub name: String,
    pub meter_id: ID,
    pub method: AllocationMethod,
    pub members: Vec<AllocationMember>,
}

impl From<store::AllocationGroupRow> for AllocationGroup {
    fn from(g: store::AllocationGroupRow) -> Self {
        Self {
            id: ID(g.id.to_string()),
            name: g.name,
            meter_id: ID(g.meter_id.to_string()),
            method: if g.method == "AREA" { AllocationMethod::Area } else { AllocationMethod::Shares },
            members: g.members.into_iter().map(|(a, w)| AllocationMember { account_id: ID(a.to_string()), weight: w }).collect(),
        }
    }
}

fn period(text: &str) -> Res<Period> {
    Period::parse(text).map_err(err)
}

#[derive(Default)]
pub struct BillingQuery;

#[Object]
impl BillingQuery {
    /// Bills, newest period first, then by account and version; filter by period
    /// (`YYYY-MM`) and account. Paged: `page` from 1, `pageSize` up to 1000 (a short page is
    /// the last).
    #[graphql(complexity = "(page_size.clamp(1, 1000) as usize) * child_complexity")]
    async fn bills(
        &self,
        ctx: &Context<'_>,
        period: Option<String>,
        account_id: Option<ID>,
        #[graphql(default = 1)] page: i32,
        #[graphql(default = 1000)] page_size: i32,
    ) -> Res<Vec<Bill>> {
        if let Some(p) = &period {
            Period::parse(p).map_err(err)?;
        }
        if !(1..=1000).contains(&page_size) {
            return Err(err(domain::Invalid::new("pageSize", "between 1 and 1000")));
        }
        if page < 1 {
            return Err(err(domain::Invalid::new("page", "from 1")));
        }
        let account = match account_id.as_ref().map(|a| AccountId::parse(a.as_str())) {
            Some(None) => return Ok(vec![]),
            other => other.flatten(),
        };
        let f = store::BillFilter { period, account, ..Default::default() };
        let offset = (page as u64 - 1) * page_size as u64;
        Ok(tenant(ctx)?.bills_where(&f, offset, page_size as u64, true).await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    async fn bill(&self, ctx: &Context<'_>, id: ID) -> Res<Option<Bill>> {
        let Some(id) = BillId::parse(id.as_str()) else { return Ok(None) };
        Ok(tenant(ctx)?.bill(&id).await.map_err(err)?.map(Into::into))
    }

    async fn allocation_groups(&self, ctx: &Context<'_>) -> Res<Vec<AllocationGroup>> {
        Ok(tenant(ctx)?.allocation_groups().await.map_err(err)?.into_iter().map(Into::into).collect())
    }
}

#[derive(InputObject)]
pub struct AllocationMemberInput {
    pub account_id: ID,
    /// m² (AREA) or a share (SHARES). For AREA it may be omitted: the floor area of the areas
    /// the account's meters are in is used.
    pub weight: Option<Decimal>,
}

#[derive(InputObject)]
pub struct CreateAllocationGroupInput {
    pub name: String,
    /// The common-area meter (公摊表).
    pub meter_id: ID,
    pub method: AllocationMethod,
    /// Weights: m² for AREA, shares for SHARES.
    pub members: Vec<AllocationMemberInput>,
}

#[derive(Default)]
pub struct BillingMutation;

#[Object]
impl BillingMutation {
    /// The month-end bill run: a draft for every post-paid account of the period without one.
    async fn run_bills(&self, ctx: &Context<'_>, period: String) -> Res<BillRunResult> {
        let p = self::period(&period)?;
        let run = tenant(ctx)?.run_bills(p).await.map_err(err)?;
        Ok(BillRunResult {
            created: run.created as u64,
            skipped: run.skipped.into_iter().map(|(a, reason)| SkippedAccount { account_id: ID(a), reason }).collect(),
        })
    }

    async fn issue_bill(&self, ctx: &Context<'_>, id: ID) -> Res<Bill> {
        let id = parse_id(&id, BillId::parse)?;
        tenant(ctx)?.advance_bill(&id, "ISSUED").await.map(Into::into).map_err(err)
    }

    async fn mark_bill_paid(&self, ctx: &Context<'_>, id: ID) -> Res<Bill> {
        let id = parse_id(&id, BillId::parse)?;
        tenant(ctx)?.advance_bill(&id, "PAID").await.map(Into::into).map_err(err)
    }

    /// Computes a bill again after a correction as a new version; the old one is superseded.
    async fn reissue_bill(&self, ctx: &Context<'_>, id: ID) -> Res<Bill> {
        let id = parse_id(&id, BillId::parse)?;
        tenant(ctx)?.reissue_bill(&id).await.map(Into::into).map_err(err)
    }

    /// Freezes every meter's registers at an instant (normally done by the scheduler at local
    /// midnight and at the settlement instant); returns how many were frozen.
    async fn freeze_registers(&self, ctx: &Context<'_>, at: DateTime<Utc>, #[graphql(default)] monthly: bool) -> Res<u64> {
        tenant(ctx)?.freeze(if monthly { "MONTHLY" } else { "DAILY" }, at).await.map_err(err)
    }

    async fn create_allocation_group(&self, ctx: &Context<'_>, input: CreateAllocationGroupInput) -> Res<AllocationGroup> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(err(Invalid::new("name", "1 to 100 characters")));
        }
        let meter = MeterId::parse(input.meter_id.as_str()).ok_or_else(|| err(Invalid::new("meterId", "no such object")))?;
        if input.members.is_empty() {
            return Err(err(Invalid::new("members", "at least one account")));
        }
        let t = tenant(ctx)?;
        let mut members = Vec::new();
        for m in &input.members {
            let a = AccountId::parse(m.account_id.as_str()).ok_or_else(|| err(Invalid::new("members", "no such account")))?;
            let weight = match (m.weight, input.method) {
                (Some(w), _) => w,
                (None, AllocationMethod::Area) => match t.account_floor_area(&a).await.map_err(err)? {
                    Some(w) => w,
                    None => {
                        return Err(err(Invalid::new("members", "an account's meters have no area with a floor area; give its weight")));
                    }
                },
                (None, AllocationMethod::Shares) => return Err(err(Invalid::new("members", "every member needs a share"))),
            };
            if weight.is_sign_negative() || weight.normalize().scale() > 4 {
                return Err(err(Invalid::new("members", "weights are not negative, with at most 4 decimal places")));
            }
            members.push((a, weight));
        }
        if members.iter().all(|m| m.1.is_zero()) {
            return Err(err(Invalid::new("members", "at least one weight must be positive")));
        }
        let method = if input.method == AllocationMethod::Area { "AREA" } else { "SHARES" };
        match t.create_allocation_group(name, &meter, method, &members).await {
            Err(StoreError::NotFound) => Err(err(Invalid::new("members", "no such meter or account"))),
            other => other.map(Into::into).map_err(err),
        }
    }

    /// Charges a group's shared-area cost for a period to its prepaid members (once).
    async fn run_allocation(&self, ctx: &Context<'_>, group_id: ID, period: String) -> Res<Vec<Posting>> {
        let group = parse_id(&group_id, GroupId::parse)?;
        let p = self::period(&period)?;
        Ok(tenant(ctx)?.run_allocation(&group, p).await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    /// Re-rates a meter's settled intervals in `(from, to]` under the tariff versions now in
    /// force, posting the difference as one adjustment (F35). Null when nothing changed.
    async fn rerate(&self, ctx: &Context<'_>, meter_id: ID, from: DateTime<Utc>, to: DateTime<Utc>) -> Res<Option<Posting>> {
        let meter = parse_id(&meter_id, MeterId::parse)?;
        if to <= from {
            return Err(err(Invalid::new("to", "must be after from")));
        }
        Ok(tenant(ctx)?.rerate(&meter, from, to).await.map_err(err)?.map(Into::into))
    }
}
