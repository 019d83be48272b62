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
    /// By each member's own metered energy in the period (按用电量): no weights are given.
    Energy,
}

impl AllocationMethod {
    fn as_str(self) -> &'static str {
        match self {
            Self::Area => "AREA",
            Self::Shares => "SHARES",
            Self::Energy => "ENERGY",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "AREA" => Self::Area,
            "ENERGY" => Self::Energy,
            _ => Self::Shares,
        }
    }
}

#[derive(SimpleObject)]
pub struct BillLine {
    pub line_no: i64,
    /// ENERGY, TIER, CAPACITY, SHARED_AREA, PROPERTY_FEE or SERVICE_FEE.
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

/// How a bill was paid (缴费方式).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum BillPaymentChannel {
    Cash,
    /// Bank transfer (转账).
    Transfer,
    /// WeChat Pay taken outside the platform (a shop's own code).
    Wechat,
    /// Alipay taken outside the platform.
    Alipay,
}

impl BillPaymentChannel {
    fn as_str(self) -> &'static str {
        match self {
            Self::Cash => "CASH",
            Self::Transfer => "TRANSFER",
            Self::Wechat => "WECHAT",
            Self::Alipay => "ALIPAY",
        }
    }
}

/// A bill paid: the bill and the ledger entries that record it.
#[derive(SimpleObject)]
pub struct BillPayment {
    pub bill: Bill,
    pub posting: Posting,
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
    /// m² or share; for ENERGY the weight of each run is the member's energy, shown there.
    pub weight: Decimal,
}

/// What a shared area splits (公摊组): a common meter's energy or a fixed amount per period.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct AllocationGroup {
    pub id: ID,
    pub name: String,
    /// The common-area meter (公摊表); null for a fixed amount.
    pub meter_id: Option<ID>,
    /// A cost not metered, shared every period (固定金额); null for a metered group.
    pub fixed_amount: Option<Decimal>,
    pub method: AllocationMethod,
    pub members: Vec<AllocationMember>,
    /// Retired: no later bill or run uses it; its runs stay readable.
    pub retired_at: Option<DateTime<Utc>>,
}

#[async_graphql::ComplexObject]
impl AllocationGroup {
    /// Its runs, newest period first.
    async fn runs(&self, ctx: &Context<'_>) -> Res<Vec<AllocationRun>> {
        let Some(id) = GroupId::parse(self.id.as_str()) else { return Ok(vec![]) };
        Ok(tenant(ctx)?.allocation_runs(&id).await.map_err(err)?.into_iter().map(Into::into).collect())
    }
}

impl From<store::AllocationGroupRow> for AllocationGroup {
    fn from(g: store::AllocationGroupRow) -> Self {
        Self {
            id: ID(g.id.to_string()),
            name: g.name,
            meter_id: g.meter_id.map(|m| ID(m.to_string())),
            fixed_amount: g.fixed_amount_x100.map(yuan),
            method: AllocationMethod::parse(&g.method),
            members: g.members.into_iter().map(|(a, w)| AllocationMember { account_id: ID(a.to_string()), weight: w }).collect(),
            retired_at: g.retired_at,
        }
    }
}

/// Where a member's share went (分摊去向).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ShareDisposition {
    /// Charged to a prepaid account (a SHARED_AREA_CHARGE entry).
    Posted,
    /// A post-paid member's: it is a line of that account's bill.
    OnBill,
    /// The share rounded to nothing; nothing posted.
    Zero,
}

/// One member's part of a run, exact to the fen.
#[derive(SimpleObject)]
pub struct AllocationShare {
    pub account_id: ID,
    /// The weight used: m², share, or the member's kWh in the period (ENERGY).
    pub weight: Decimal,
    pub amount: Decimal,
    pub disposition: ShareDisposition,
    /// The ledger entry of a POSTED share.
    pub entry_id: Option<ID>,
}

/// A group's allocation of one period (公摊结果): the shares sum to the amount exactly.
#[derive(SimpleObject)]
pub struct AllocationRun {
    pub group_id: ID,
    /// `YYYY-MM`.
    pub period: String,
    /// The common meter's energy in the period (kWh); null for a fixed amount.
    pub energy: Option<Decimal>,
    pub amount: Decimal,
    pub created_at: DateTime<Utc>,
    pub shares: Vec<AllocationShare>,
}

impl From<store::AllocationRunRow> for AllocationRun {
    fn from(r: store::AllocationRunRow) -> Self {
        Self {
            group_id: ID(r.group_id.to_string()),
            period: r.period,
            energy: r.energy,
            amount: yuan(r.amount_x100),
            created_at: r.created_at,
            shares: r
                .shares
                .into_iter()
                .map(|s| AllocationShare {
                    account_id: ID(s.account_id.to_string()),
                    weight: s.weight,
                    amount: yuan(s.amount_x100),
                    disposition: match s.disposition.as_str() {
                        "POSTED" => ShareDisposition::Posted,
                        "ON_BILL" => ShareDisposition::OnBill,
                        _ => ShareDisposition::Zero,
                    },
                    entry_id: s.entry_id.map(ID),
                })
                .collect(),
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

    /// Shared-area groups; retired ones only when asked.
    async fn allocation_groups(&self, ctx: &Context<'_>, #[graphql(default)] include_retired: bool) -> Res<Vec<AllocationGroup>> {
        let t = tenant(ctx)?;
        let groups = if include_retired { t.allocation_groups_all().await } else { t.allocation_groups().await };
        Ok(groups.map_err(err)?.into_iter().map(Into::into).collect())
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
    /// The common-area meter (公摊表) whose energy is shared; or give `fixedAmount`.
    pub meter_id: Option<ID>,
    /// A cost not metered, shared every period (固定金额, yuan); or give `meterId`.
    pub fixed_amount: Option<Decimal>,
    pub method: AllocationMethod,
    /// Weights: m² for AREA, shares for SHARES; none for ENERGY.
    pub members: Vec<AllocationMemberInput>,
}

#[derive(Default)]
pub struct BillingMutation;

#[Object]
impl BillingMutation {
    /// The month-end bill run: a draft for every post-paid account of the period without one
    /// (with a post-paid meter in `propertyId`, when given: a property-scoped operator names
    /// one of theirs).
    async fn run_bills(&self, ctx: &Context<'_>, period: String, property_id: Option<ID>) -> Res<BillRunResult> {
        let p = self::period(&period)?;
        let property = match &property_id {
            Some(id) => Some(PropertyId::parse(id.as_str()).ok_or_else(|| err(Invalid::new("propertyId", "no such object")))?),
            None => None,
        };
        let run = tenant(ctx)?.run_bills(p, property.as_ref()).await.map_err(err)?;
        Ok(BillRunResult {
            created: run.created as u64,
            skipped: run.skipped.into_iter().map(|(a, reason)| SkippedAccount { account_id: ID(a), reason }).collect(),
        })
    }

    async fn issue_bill(&self, ctx: &Context<'_>, id: ID) -> Res<Bill> {
        let id = parse_id(&id, BillId::parse)?;
        tenant(ctx)?.advance_bill(&id, "ISSUED").await.map(Into::into).map_err(err)
    }

    /// Records an issued bill's payment (缴费): the amount must be the bill's total; the
    /// account's ledger gets the money received (BILL_PAYMENT, with a receipt) and the bill
    /// settled by it (BILL_SETTLEMENT), in one transaction with the bill becoming PAID — once.
    async fn mark_bill_paid(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(desc = "The amount received (yuan); the bill's total when omitted.")] amount: Option<Decimal>,
        #[graphql(default_with = "BillPaymentChannel::Cash")] channel: BillPaymentChannel,
        #[graphql(default, desc = "The bank transfer's or terminal's reference, up to 64 characters.")] reference: String,
    ) -> Res<BillPayment> {
        let id = parse_id(&id, BillId::parse)?;
        let reference = reference.trim();
        if reference.chars().count() > 64 {
            return Err(err(Invalid::new("reference", "at most 64 characters")));
        }
        let amount = match amount {
            Some(a) => Some(domain::ledger::fen("amount", a).map_err(err)?),
            None => None,
        };
        let (bill, posted) = tenant(ctx)?.pay_bill(&id, amount, channel.as_str(), reference).await.map_err(err)?;
        Ok(BillPayment { bill: bill.into(), posting: posted.into() })
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
        let cost = match (&input.meter_id, input.fixed_amount) {
            (Some(m), None) => {
                store::SharedCost::Meter(MeterId::parse(m.as_str()).ok_or_else(|| err(Invalid::new("meterId", "no such object")))?)
            }
            (None, Some(a)) => {
                let fen = domain::ledger::fen("fixedAmount", a).map_err(err)?;
                if fen <= 0 {
                    return Err(err(Invalid::new("fixedAmount", "must be positive")));
                }
                store::SharedCost::Fixed(fen)
            }
            (Some(_), Some(_)) => return Err(err(Invalid::new("fixedAmount", "a common meter or a fixed amount, not both"))),
            (None, None) => return Err(err(Invalid::new("meterId", "a common meter or a fixed amount"))),
        };
        if input.method == AllocationMethod::Energy && input.members.iter().any(|m| m.weight.is_some()) {
            return Err(err(Invalid::new("members", "ENERGY weighs members by their own energy: give no weights")));
        }
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
                // Stored as 1; each run weighs by the member's energy in its period.
                (None, AllocationMethod::Energy) => Decimal::ONE,
            };
            if weight.is_sign_negative() || weight.normalize().scale() > 4 {
                return Err(err(Invalid::new("members", "weights are not negative, with at most 4 decimal places")));
            }
            members.push((a, weight));
        }
        if members.iter().all(|m| m.1.is_zero()) {
            return Err(err(Invalid::new("members", "at least one weight must be positive")));
        }
        if members.iter().enumerate().any(|(i, m)| members[..i].iter().any(|o| o.0 == m.0)) {
            return Err(err(Invalid::new("members", "an account is listed twice")));
        }
        match t.create_allocation_group(name, &cost, input.method.as_str(), &members).await {
            Err(StoreError::NotFound) => Err(err(Invalid::new("members", "no such meter or account"))),
            other => other.map(Into::into).map_err(err),
        }
    }

    /// Charges a group's shared-area cost for a period to its prepaid members (once); the
    /// run names every member's share, which sum to its amount exactly.
    async fn run_allocation(&self, ctx: &Context<'_>, group_id: ID, period: String) -> Res<AllocationRun> {
        let group = parse_id(&group_id, GroupId::parse)?;
        let p = self::period(&period)?;
        Ok(tenant(ctx)?.run_allocation(&group, p).await.map_err(err)?.into())
    }

    /// Retires a shared-area group: later bills and runs leave it out; its runs stay.
    async fn retire_allocation_group(&self, ctx: &Context<'_>, id: ID) -> Res<AllocationGroup> {
        let id = parse_id(&id, GroupId::parse)?;
        tenant(ctx)?.retire_allocation_group(&id).await.map(Into::into).map_err(err)
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
