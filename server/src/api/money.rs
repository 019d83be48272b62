//! GraphQL for money: accounts, the ledger and receipts, tariffs and the price rule, service
//! fees, settlement anomalies, decided commands, meter-side purchases. Parse input into domain
//! values, call one store method, map the result.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::ApiError;
use super::graphql::{Meter, PageInfo, Res, err, paging, parse_id, parse_ref, tenant};
use super::receipts::{price_notice_html, receipt_html};
use crate::domain::Invalid;
use crate::domain::ids::*;
use crate::domain::ledger::{self, EntryKind as Kind, ServiceFee, Thresholds, positive_fen, yuan};
use crate::domain::tariff::{Rate, Tariff as DomainTariff, TariffError, TariffSpec, TierCycle as DomainCycle, TouSource as DomainSource};
use crate::store::{self, StoreError};

// ---- enums ----

/// Kind of ledger entry (流水类型).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum EntryKind {
    /// Cash recharge (现金充值).
    RechargeCash,
    /// Bank transfer recharge (转账充值).
    RechargeTransfer,
    /// WeChat Pay recharge (微信充值).
    RechargeWechat,
    /// Alipay recharge (支付宝充值).
    RechargeAlipay,
    /// Service fee taken from a recharge (服务费).
    ServiceFee,
    /// Refund paid out (退电).
    Refund,
    /// Compensating entry for an earlier one (冲正).
    Reversal,
    /// Energy used, settled per reading (电费).
    EnergyCharge,
    /// Shared-area allocation (公摊).
    SharedAreaCharge,
    /// Property fee (物业费).
    PropertyFeeCharge,
    /// Capacity or demand fee (容量费/基本电费).
    CapacityFeeCharge,
    /// Balance moved to another account (转出).
    TransferOut,
    /// Balance moved from another account (转入).
    TransferIn,
    /// Re-rating difference after a correction (调账).
    Adjustment,
    /// Money loaded into a meter-side prepaid meter (表端购电).
    MeterPurchase,
}

fn kind_out(s: &str) -> EntryKind {
    match Kind::parse(s) {
        Some(Kind::RechargeCash) => EntryKind::RechargeCash,
        Some(Kind::RechargeTransfer) => EntryKind::RechargeTransfer,
        Some(Kind::RechargeWechat) => EntryKind::RechargeWechat,
        Some(Kind::RechargeAlipay) => EntryKind::RechargeAlipay,
        Some(Kind::ServiceFee) => EntryKind::ServiceFee,
        Some(Kind::Refund) => EntryKind::Refund,
        Some(Kind::Reversal) => EntryKind::Reversal,
        Some(Kind::SharedAreaCharge) => EntryKind::SharedAreaCharge,
        Some(Kind::PropertyFeeCharge) => EntryKind::PropertyFeeCharge,
        Some(Kind::CapacityFeeCharge) => EntryKind::CapacityFeeCharge,
        Some(Kind::TransferOut) => EntryKind::TransferOut,
        Some(Kind::TransferIn) => EntryKind::TransferIn,
        Some(Kind::Adjustment) => EntryKind::Adjustment,
        Some(Kind::MeterPurchase) => EntryKind::MeterPurchase,
        Some(Kind::EnergyCharge) | None => EntryKind::EnergyCharge,
    }
}

/// How an operator-taken recharge was paid (收款方式).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum RechargeChannel {
    Cash,
    Transfer,
}

impl RechargeChannel {
    fn kind(self) -> Kind {
        match self {
            RechargeChannel::Cash => Kind::RechargeCash,
            RechargeChannel::Transfer => Kind::RechargeTransfer,
        }
    }
}

/// Where a balance stands (余额状态).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum BalanceState {
    Normal,
    /// At or below alarm 1 (报警1).
    Low1,
    /// At or below alarm 2 (报警2).
    Low2,
    /// Below zero within the credit limit (欠费).
    Arrears,
    /// At the credit limit: power off unless held (透支用尽).
    Exhausted,
}

/// The relay position the platform wants (继电器).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum RelayPosition {
    Closed,
    Open,
}

/// Account lifecycle (账户状态).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum AccountState {
    Open,
    Closed,
}

/// TOU rate (费率): sharp 尖, peak 峰, flat 平, valley 谷, deep valley 深谷.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum TouRate {
    Sharp,
    Peak,
    Flat,
    Valley,
    DeepValley,
}

impl From<TouRate> for Rate {
    fn from(r: TouRate) -> Self {
        match r {
            TouRate::Sharp => Rate::Sharp,
            TouRate::Peak => Rate::Peak,
            TouRate::Flat => Rate::Flat,
            TouRate::Valley => Rate::Valley,
            TouRate::DeepValley => Rate::DeepValley,
        }
    }
}

impl From<Rate> for TouRate {
    fn from(r: Rate) -> Self {
        match r {
            Rate::Sharp => TouRate::Sharp,
            Rate::Peak => TouRate::Peak,
            Rate::Flat => TouRate::Flat,
            Rate::Valley => TouRate::Valley,
            Rate::DeepValley => TouRate::DeepValley,
        }
    }
}

/// Who decides the TOU period of each kWh (分时依据).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum TouSource {
    /// The meter's per-rate registers (表计费率寄存器).
    MeterRegisters,
    /// The platform's calendar in the tenant's time zone (平台时段).
    PlatformCalendar,
}

/// Tier cycle (阶梯周期).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum TierCycle {
    Monthly,
    Yearly,
}

/// What resolving an anomaly does (异常处理).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum AnomalyAction {
    /// Take the newest reading as the new baseline; nothing since the anomaly is billed.
    Rebase,
    /// Take the anomalous reading itself as the new baseline (a register reset): the gap is
    /// not billed, every reading after it is.
    RebaseAtAnomaly,
    /// Accept the jump as real consumption and bill it now.
    BillAsIs,
}

impl From<AnomalyAction> for store::AnomalyResolution {
    fn from(a: AnomalyAction) -> Self {
        match a {
            AnomalyAction::Rebase => store::AnomalyResolution::Rebase,
            AnomalyAction::RebaseAtAnomaly => store::AnomalyResolution::RebaseAtAnomaly,
            AnomalyAction::BillAsIs => store::AnomalyResolution::BillAsIs,
        }
    }
}

impl From<store::AnomalyResolution> for AnomalyAction {
    fn from(a: store::AnomalyResolution) -> Self {
        match a {
            store::AnomalyResolution::Rebase => AnomalyAction::Rebase,
            store::AnomalyResolution::RebaseAtAnomaly => AnomalyAction::RebaseAtAnomaly,
            store::AnomalyResolution::BillAsIs => AnomalyAction::BillAsIs,
        }
    }
}

/// What one way of resolving an anomaly bills (a preview: nothing is changed).
#[derive(SimpleObject)]
pub struct AnomalyResolutionPreview {
    pub action: AnomalyAction,
    /// kWh charged (PT×CT applied).
    pub energy: Decimal,
    /// Charged to the account (元).
    pub amount: Decimal,
    /// Energy-charge entries it posts.
    pub charges: i32,
    /// The reading settlement continues from.
    pub baseline_at: Option<DateTime<Utc>>,
    pub baseline_total: Option<Decimal>,
    /// Why this action is not allowed here, if it is not.
    pub refused: Option<String>,
}

impl From<store::ResolutionEffect> for AnomalyResolutionPreview {
    fn from(e: store::ResolutionEffect) -> Self {
        Self {
            action: e.resolution.into(),
            energy: e.energy.normalize(),
            amount: crate::domain::metering::from_scaled(e.amount_x100, 2),
            charges: e.charges as i32,
            baseline_at: e.baseline.map(|p| p.at),
            baseline_total: e.baseline.map(|p| p.registers.total.normalize()),
            refused: e.refused,
        }
    }
}

// ---- objects ----

/// A prepaid or post-paid account (户): one balance shared by its meters.
pub struct Account(pub(crate) store::AccountRow);

#[Object]
impl Account {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Account number (户号).
    async fn number(&self) -> &str {
        &self.0.number
    }
    async fn customer_id(&self) -> ID {
        ID(self.0.customer_id.to_string())
    }
    /// Balance in yuan (余额); always the sum of the ledger entries.
    async fn balance(&self) -> Decimal {
        yuan(self.0.balance_x100)
    }
    /// Sub-fen remainder carried to the next settlement (未入账尾差), in yuan: charges are
    /// posted in whole fen rounded down, the rest waits here, so posted + carry = the exact
    /// cost (always below 0.01).
    async fn carry(&self) -> Decimal {
        self.0.carry
    }
    async fn state(&self) -> AccountState {
        if self.0.state == "OPEN" { AccountState::Open } else { AccountState::Closed }
    }
    async fn balance_state(&self) -> BalanceState {
        match ledger::BalanceState::parse(&self.0.balance_state) {
            ledger::BalanceState::Normal => BalanceState::Normal,
            ledger::BalanceState::Low1 => BalanceState::Low1,
            ledger::BalanceState::Low2 => BalanceState::Low2,
            ledger::BalanceState::Arrears => BalanceState::Arrears,
            ledger::BalanceState::Exhausted => BalanceState::Exhausted,
        }
    }
    /// The relay position the platform wants for its platform-prepaid meters.
    async fn relay(&self) -> RelayPosition {
        if self.0.relay_wanted == "OPEN" { RelayPosition::Open } else { RelayPosition::Closed }
    }
    /// Hold power (保电): trips are suppressed.
    async fn hold_power(&self) -> bool {
        self.0.hold_power
    }
    /// Credit limit (赊欠额度), yuan.
    async fn credit_limit(&self) -> Decimal {
        yuan(self.0.credit_limit_x100)
    }
    /// Alarm amount 1 (报警金额1).
    async fn alarm1(&self) -> Decimal {
        yuan(self.0.alarm1_x100)
    }
    /// Alarm amount 2 (报警金额2).
    async fn alarm2(&self) -> Decimal {
        yuan(self.0.alarm2_x100)
    }
    /// Monthly property fee (物业费) for post-paid bills.
    async fn property_fee(&self) -> Decimal {
        yuan(self.0.property_fee_x100)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    /// The account's meters (一户多表).
    async fn meters(&self, ctx: &Context<'_>) -> Res<Vec<Meter>> {
        let f = store::MeterFilter { account_id: Some(self.0.id.clone()), ..Default::default() };
        let (rows, _) = tenant(ctx)?.meters(&f, 1, 500).await.map_err(err)?;
        Ok(rows.into_iter().map(Meter).collect())
    }
    /// Ledger entries, newest first, paged by cursor (流水).
    #[graphql(complexity = "(first.clamp(1, 500) as usize) * child_complexity")]
    async fn ledger(&self, ctx: &Context<'_>, #[graphql(default = 50)] first: i32, after: Option<String>) -> Res<EntryConnection> {
        if !(1..=500).contains(&first) {
            return Err(err(Invalid::new("first", "between 1 and 500")));
        }
        let not_ours = || err(Invalid::new("after", "not a cursor from this list"));
        let after = after.map(|c| EntryId::parse(&c).ok_or_else(not_ours)).transpose()?;
        let mut rows = match tenant(ctx)?.ledger(&self.0.id, after.as_ref().map(|e| e.as_str()), first as u64 + 1).await {
            Err(store::StoreError::NotFound) => return Err(not_ours()),
            other => other.map_err(err)?,
        };
        let has_next_page = rows.len() > first as usize;
        rows.truncate(first as usize);
        let end_cursor = rows.last().map(|e| e.id.to_string());
        // Staff usernames are the company's: a customer's own ledger does not name them.
        let staff = matches!(
            ctx.data_opt::<super::auth::Principal>(),
            Some(super::auth::Principal::Operator { .. } | super::auth::Principal::Admin)
        );
        let items =
            rows.into_iter().map(LedgerEntry::from).map(|e| if staff { e } else { LedgerEntry { operator: String::new(), ..e } }).collect();
        Ok(EntryConnection { items, page_info: PageInfo { end_cursor, has_next_page } })
    }
    /// The sum of all entries, computed afresh (equals `balance`).
    async fn ledger_total(&self, ctx: &Context<'_>) -> Res<Decimal> {
        Ok(yuan(tenant(ctx)?.ledger_sum(&self.0.id).await.map_err(err)?))
    }
}

/// An immutable ledger entry (流水).
#[derive(SimpleObject)]
pub struct LedgerEntry {
    pub id: ID,
    pub account_id: ID,
    pub kind: EntryKind,
    /// Signed yuan: credits positive, charges negative.
    pub amount: Decimal,
    pub created_at: DateTime<Utc>,
    /// Receipt number, sequential per tenant (收据号).
    pub receipt_no: Option<i64>,
    pub meter_id: Option<ID>,
    /// For energy charges: the reading settled.
    pub read_at: Option<DateTime<Utc>>,
    /// For reversals: the entry reversed.
    pub reverses_id: Option<ID>,
    /// A payment channel's transaction id or the caller's idempotency key.
    pub external_ref: Option<String>,
    /// JSON detail (energy per rate and tier, exact cost, carry, tariff).
    pub detail: String,
    pub note: String,
    /// When it was invoiced (开票时间).
    pub invoiced_at: Option<DateTime<Utc>>,
    /// The operator (username) who posted it; empty for the platform's own postings
    /// (settlement, payment notifications) (操作员).
    pub operator: String,
    /// For recharges: CASH, TRANSFER, WECHAT or ALIPAY (充值渠道).
    pub channel: Option<String>,
}

impl From<store::EntryRow> for LedgerEntry {
    fn from(e: store::EntryRow) -> Self {
        Self {
            id: ID(e.id.to_string()),
            account_id: ID(e.account_id.to_string()),
            kind: kind_out(&e.kind),
            amount: yuan(e.amount_x100),
            created_at: e.created_at,
            receipt_no: e.receipt_no,
            meter_id: e.meter_id.map(ID),
            read_at: e.read_at,
            reverses_id: e.reverses_id.map(ID),
            external_ref: e.external_ref,
            detail: e.detail,
            note: e.note,
            invoiced_at: e.invoiced_at,
            channel: store::RECHARGE_KINDS.iter().find(|(k, _)| *k == e.kind).map(|(_, c)| c.to_string()),
            operator: e.created_by,
        }
    }
}

#[derive(SimpleObject)]
pub struct EntryConnection {
    pub items: Vec<LedgerEntry>,
    pub page_info: PageInfo,
}

#[derive(SimpleObject)]
pub struct AccountPage {
    pub items: Vec<Account>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

/// The outcome of a money operation.
#[derive(SimpleObject)]
pub struct Posting {
    pub account: Account,
    pub entries: Vec<LedgerEntry>,
    pub receipt_no: Option<i64>,
}

impl From<store::Posted> for Posting {
    fn from(p: store::Posted) -> Self {
        Self { account: Account(p.account), entries: p.entries.into_iter().map(Into::into).collect(), receipt_no: p.receipt_no }
    }
}

#[derive(SimpleObject)]
pub struct Transfer {
    pub from: Posting,
    pub to: Posting,
}

/// A printable receipt (收据).
#[derive(SimpleObject)]
pub struct Receipt {
    pub number: i64,
    pub account: Account,
    pub entries: Vec<LedgerEntry>,
    /// Net amount of the receipt.
    pub total: Decimal,
    /// A self-contained HTML page to print.
    pub html: String,
}

#[derive(SimpleObject)]
pub struct RatePrice {
    pub rate: TouRate,
    /// Yuan per kWh.
    pub price: Decimal,
}

#[derive(SimpleObject)]
pub struct Period {
    /// `hh:mm` local time.
    pub start: String,
    /// `hh:mm`, `24:00` for the end of the day.
    pub end: String,
    pub rate: TouRate,
}

#[derive(SimpleObject)]
pub struct SeasonPlan {
    /// `MM-DD`, inclusive.
    pub from: String,
    pub to: String,
    pub periods: Vec<Period>,
}

#[derive(SimpleObject)]
pub struct DatePlan {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub periods: Vec<Period>,
}

#[derive(SimpleObject)]
pub struct TierStep {
    /// Upper bound of cumulative kWh in the cycle; null for the last tier.
    pub up_to: Option<Decimal>,
    /// Price increment, yuan/kWh.
    pub add: Decimal,
}

#[derive(SimpleObject)]
pub struct Tiers {
    pub cycle: TierCycle,
    pub steps: Vec<TierStep>,
}

/// One version of a tariff (电价版本).
#[derive(SimpleObject)]
pub struct TariffVersion {
    pub effective_from: DateTime<Utc>,
    pub prices: Vec<RatePrice>,
    /// The default day; empty means flat all day.
    pub periods: Vec<Period>,
    pub seasons: Vec<SeasonPlan>,
    pub dates: Vec<DatePlan>,
    pub source: TouSource,
    pub tiers: Option<Tiers>,
    pub capacity_price_per_kw: Option<Decimal>,
    /// Above the price cap, accepted by explicit override (超限价).
    pub above_cap: bool,
    pub created_at: DateTime<Utc>,
}

fn periods_out(p: &[(String, String, Rate)]) -> Vec<Period> {
    p.iter().map(|(s, e, r)| Period { start: s.clone(), end: e.clone(), rate: (*r).into() }).collect()
}

impl From<store::TariffVersionRow> for TariffVersion {
    fn from(v: store::TariffVersionRow) -> Self {
        let s = v.spec;
        Self {
            effective_from: v.effective_from,
            prices: s.prices.iter().map(|(r, p)| RatePrice { rate: (*r).into(), price: *p }).collect(),
            periods: periods_out(&s.periods),
            seasons: s.seasons.iter().map(|(f, t, p)| SeasonPlan { from: f.clone(), to: t.clone(), periods: periods_out(p) }).collect(),
            dates: s.dates.iter().map(|(d, p)| DatePlan { date: d.clone(), periods: periods_out(p) }).collect(),
            source: match s.source {
                DomainSource::MeterRegisters => TouSource::MeterRegisters,
                DomainSource::PlatformCalendar => TouSource::PlatformCalendar,
            },
            tiers: s.tiers.map(|(c, steps)| Tiers {
                cycle: if c == DomainCycle::Monthly { TierCycle::Monthly } else { TierCycle::Yearly },
                steps: steps.into_iter().map(|(up_to, add)| TierStep { up_to, add }).collect(),
            }),
            capacity_price_per_kw: s.capacity_price_per_kw,
            above_cap: v.above_cap,
            created_at: v.created_at,
        }
    }
}

/// A tariff and its history (电价方案).
#[derive(SimpleObject)]
pub struct Tariff {
    pub id: ID,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// All versions, oldest first.
    pub versions: Vec<TariffVersion>,
}

impl From<store::TariffRow> for Tariff {
    fn from(t: store::TariffRow) -> Self {
        Self {
            id: ID(t.id.to_string()),
            name: t.name,
            created_at: t.created_at,
            versions: t.versions.into_iter().map(Into::into).collect(),
        }
    }
}

/// The tenant's money settings (计费设置).
#[derive(SimpleObject)]
pub struct MoneySettings {
    pub default_tariff_id: Option<ID>,
    /// Published catalogue flat price (目录电价), yuan/kWh.
    pub catalogue_price: Option<Decimal>,
    /// Allowed margin above it, percent (default 15).
    pub margin_percent: Decimal,
    /// The resulting cap, if a catalogue price is set.
    pub price_cap: Option<Decimal>,
    /// Highest plausible secondary-side power; faster register growth is an anomaly.
    pub jump_limit_kw: Decimal,
    /// Month-start freeze: day of month and hour, local time (结算日).
    pub settlement_day: i64,
    pub settlement_hour: i64,
    pub service_fee_percent: Decimal,
    pub service_fee_fixed: Decimal,
}

impl From<store::MoneySettings> for MoneySettings {
    fn from(s: store::MoneySettings) -> Self {
        Self {
            default_tariff_id: s.default_tariff_id.map(|t| ID(t.to_string())),
            catalogue_price: s.price_rule.map(|r| r.catalogue),
            margin_percent: s.margin_percent,
            price_cap: s.price_rule.map(|r| r.cap().round_dp(6).normalize()),
            jump_limit_kw: s.jump_limit_kw,
            settlement_day: s.settlement_day,
            settlement_hour: s.settlement_hour,
            service_fee_percent: s.service_fee.percent,
            service_fee_fixed: yuan(s.service_fee.fixed_fen),
        }
    }
}

/// A reading settlement would not bill as it stands (结算异常).
#[derive(SimpleObject)]
pub struct SettlementAnomaly {
    pub id: ID,
    pub meter_id: ID,
    /// REGISTER_BACKWARDS, IMPOSSIBLE_JUMP or NO_TARIFF.
    pub kind: String,
    pub detail: String,
    pub read_at: DateTime<Utc>,
    pub detected_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
}

impl From<store::AnomalyRow> for SettlementAnomaly {
    fn from(a: store::AnomalyRow) -> Self {
        Self {
            id: ID(a.id.to_string()),
            meter_id: ID(a.meter_id.to_string()),
            kind: a.kind,
            detail: a.detail,
            read_at: a.read_at,
            detected_at: a.detected_at,
            resolved_at: a.resolved_at,
            resolution: a.resolution,
        }
    }
}

/// A command decided for a meter (控制指令); relay commands are sent by the dispatcher.
#[derive(SimpleObject)]
pub struct Command {
    pub id: ID,
    pub meter_id: ID,
    pub account_id: Option<ID>,
    /// TRIP, CLOSE, PURCHASE, …
    pub kind: String,
    /// AUTO (decided by settlement or a recharge), OPERATOR, or SCHEDULE (polling).
    pub source: String,
    pub reason: String,
    pub payload: String,
    /// QUEUED, SENT, ACKNOWLEDGED (the meter accepted the frame), CONFIRMED (a later reading
    /// shows the wanted state), FAILED (refused, with the meter's error bits in `reason`),
    /// TIMED_OUT, EXPIRED, CANCELLED.
    pub status: String,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// When the meter's reply (normal or abnormal) reached the platform.
    pub replied_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The meter's address (表地址).
    pub meter_address: String,
}

impl From<store::CommandRow> for Command {
    fn from(c: store::CommandRow) -> Self {
        Self {
            id: ID(c.id.to_string()),
            meter_id: ID(c.meter_id.to_string()),
            account_id: c.account_id.map(ID),
            kind: c.kind,
            source: c.source,
            reason: c.reason,
            payload: c.payload,
            status: c.status,
            attempts: c.attempts,
            created_at: c.created_at,
            sent_at: c.sent_at,
            replied_at: c.replied_at,
            confirmed_at: c.confirmed_at,
            meter_address: c.meter_address,
        }
    }
}

#[derive(SimpleObject)]
pub struct MeterPurchase {
    pub posting: Posting,
    /// The purchase counter the meter will check (购电次数).
    pub counter: i64,
}

// ---- queries ----

#[derive(Default)]
pub struct MoneyQuery;

#[Object]
impl MoneyQuery {
    async fn account(&self, ctx: &Context<'_>, id: ID) -> Res<Option<Account>> {
        let Some(id) = AccountId::parse(id.as_str()) else { return Ok(None) };
        Ok(tenant(ctx)?.account(&id).await.map_err(err)?.map(Account))
    }

    #[graphql(complexity = "(page_size.clamp(1, 1000) as usize) * child_complexity")]
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        customer_id: Option<ID>,
        #[graphql(default = 1)] page: i32,
        #[graphql(default = 50)] page_size: i32,
        #[graphql(desc = "Text in the account number or the customer's name, phone or shop number.")] q: Option<String>,
    ) -> Res<AccountPage> {
        let (page, page_size) = paging(page, page_size)?;
        let customer = match customer_id.as_ref().map(|c| CustomerId::parse(c.as_str())) {
            Some(None) => return Ok(AccountPage { items: vec![], total: 0, page, page_size }),
            other => other.flatten(),
        };
        let (rows, total) = tenant(ctx)?.accounts_matching(customer.as_ref(), q.as_deref(), page, page_size).await.map_err(err)?;
        Ok(AccountPage { items: rows.into_iter().map(Account).collect(), total, page, page_size })
    }

    async fn ledger_entry(&self, ctx: &Context<'_>, id: ID) -> Res<Option<LedgerEntry>> {
        let Some(id) = EntryId::parse(id.as_str()) else { return Ok(None) };
        Ok(tenant(ctx)?.entry(&id).await.map_err(err)?.map(Into::into))
    }

    /// A receipt by number, with a printable page.
    async fn receipt(&self, ctx: &Context<'_>, number: i64) -> Res<Option<Receipt>> {
        let t = tenant(ctx)?;
        let entries = t.receipt_entries(number).await.map_err(err)?;
        let Some(first) = entries.first() else { return Ok(None) };
        let account = t.account(&first.account_id).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?;
        let customer = t.customer(&account.customer_id).await.map_err(err)?;
        let tenant_row = t.tenant_row().await.map_err(err)?;
        let total: i64 = entries.iter().map(|e| e.amount_x100).sum();
        let tz: chrono_tz::Tz = tenant_row.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
        let html = receipt_html(&tenant_row.name, tz, number, &account, customer.as_ref().map_or("", |c| c.name.as_str()), &entries, total);
        Ok(Some(Receipt {
            number,
            account: Account(account),
            entries: entries.into_iter().map(Into::into).collect(),
            total: yuan(total),
            html,
        }))
    }

    async fn tariffs(&self, ctx: &Context<'_>) -> Res<Vec<Tariff>> {
        Ok(tenant(ctx)?.tariffs().await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    async fn tariff(&self, ctx: &Context<'_>, id: ID) -> Res<Option<Tariff>> {
        let Some(id) = TariffId::parse(id.as_str()) else { return Ok(None) };
        Ok(tenant(ctx)?.tariff(&id).await.map_err(err)?.map(Into::into))
    }

    async fn money_settings(&self, ctx: &Context<'_>) -> Res<MoneySettings> {
        Ok(tenant(ctx)?.money_settings().await.map_err(err)?.into())
    }

    /// The price notice to post for customers (电价公示): HTML with every tariff in force.
    async fn price_notice(&self, ctx: &Context<'_>) -> Res<String> {
        let t = tenant(ctx)?;
        let settings = t.money_settings().await.map_err(err)?;
        let tariffs = t.tariffs().await.map_err(err)?;
        let name = t.tenant_row().await.map_err(err)?.name;
        Ok(price_notice_html(&name, &settings, &tariffs, Utc::now()))
    }

    /// What each way of resolving an open anomaly would bill, before choosing (nothing is
    /// changed).
    async fn anomaly_resolution_preview(&self, ctx: &Context<'_>, id: ID) -> Res<Vec<AnomalyResolutionPreview>> {
        let id = parse_id(&id, AnomalyId::parse)?;
        Ok(tenant(ctx)?.preview_anomaly(&id).await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    async fn settlement_anomalies(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = true)] open_only: bool,
        meter_id: Option<ID>,
    ) -> Res<Vec<SettlementAnomaly>> {
        let meter = match meter_id.as_ref().map(|m| MeterId::parse(m.as_str())) {
            Some(None) => return Ok(vec![]),
            other => other.flatten(),
        };
        Ok(tenant(ctx)?.anomalies(open_only, meter.as_ref()).await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    /// Commands decided for meters, newest first.
    async fn commands(
        &self,
        ctx: &Context<'_>,
        meter_id: Option<ID>,
        #[graphql(default = 100)] first: i32,
        #[graphql(desc = "QUEUED, SENT, ACKNOWLEDGED, CONFIRMED, FAILED, TIMED_OUT, EXPIRED or CANCELLED.")] status: Option<String>,
        #[graphql(desc = "TRIP, CLOSE, HOLD_ON, HOLD_OFF, READ, TIME_SYNC, WRITE or PURCHASE.")] kind: Option<String>,
    ) -> Res<Vec<Command>> {
        if !(1..=1000).contains(&first) {
            return Err(err(Invalid::new("first", "between 1 and 1000")));
        }
        const STATUSES: [&str; 8] = ["QUEUED", "SENT", "ACKNOWLEDGED", "CONFIRMED", "FAILED", "TIMED_OUT", "EXPIRED", "CANCELLED"];
        if let Some(s) = &status
            && !STATUSES.contains(&s.as_str())
        {
            return Err(err(Invalid::new("status", format!("one of {}", STATUSES.join(", ")))));
        }
        if let Some(k) = &kind
            && !crate::domain::control::COMMAND_KINDS.contains(&k.as_str())
        {
            return Err(err(Invalid::new("kind", format!("one of {}", crate::domain::control::COMMAND_KINDS.join(", ")))));
        }
        let meter = match meter_id.as_ref().map(|m| MeterId::parse(m.as_str())) {
            Some(None) => return Ok(vec![]),
            other => other.flatten(),
        };
        let t = tenant(ctx)?;
        let rows = t.commands_filtered(meter.as_ref(), status.as_deref(), kind.as_deref(), first as u64).await.map_err(err)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

// ---- inputs ----

/// An operator's command for one meter.
#[derive(InputObject)]
pub struct MeterCommandInput {
    pub meter_id: ID,
    /// Why (kept with the command).
    #[graphql(default)]
    pub reason: String,
}

#[derive(InputObject)]
pub struct ThresholdsInput {
    /// Credit limit (赊欠额度), yuan ≥ 0; the trip happens at minus this balance.
    #[graphql(default)]
    pub credit_limit: Decimal,
    #[graphql(default)]
    pub alarm1: Decimal,
    #[graphql(default)]
    pub alarm2: Decimal,
}

fn thresholds(t: &ThresholdsInput) -> Result<Thresholds, Invalid> {
    let f = |field, v| ledger::fen(field, v);
    Thresholds::new(f("alarm1", t.alarm1)?, f("alarm2", t.alarm2)?, f("creditLimit", t.credit_limit)?)
}

#[derive(InputObject)]
pub struct InitialPurchaseInput {
    pub amount: Decimal,
    pub channel: RechargeChannel,
}

#[derive(InputObject)]
pub struct OpenAccountInput {
    pub customer_id: ID,
    /// Account number (户号); generated when omitted.
    pub number: Option<String>,
    pub meter_ids: Vec<ID>,
    pub thresholds: Option<ThresholdsInput>,
    /// Monthly property fee for post-paid bills (物业费).
    pub property_fee: Option<Decimal>,
    /// Initial purchase (开户购电).
    pub initial_purchase: Option<InitialPurchaseInput>,
}

#[derive(InputObject)]
pub struct RechargeInput {
    pub account_id: ID,
    pub amount: Decimal,
    pub channel: RechargeChannel,
    /// A key the caller may retry with; the same key posts once.
    pub idempotency_key: Option<String>,
    #[graphql(default)]
    pub note: String,
}

#[derive(InputObject)]
pub struct RefundInput {
    pub account_id: ID,
    pub amount: Decimal,
    #[graphql(default)]
    pub note: String,
}

#[derive(InputObject)]
pub struct TransferInput {
    pub from_account_id: ID,
    pub to_account_id: ID,
    pub amount: Decimal,
    #[graphql(default)]
    pub note: String,
}

#[derive(InputObject)]
pub struct AccountTermsInput {
    pub account_id: ID,
    pub thresholds: ThresholdsInput,
    #[graphql(default)]
    pub property_fee: Decimal,
}

#[derive(InputObject)]
pub struct ReplaceMeterInput {
    pub old_meter_id: ID,
    /// A registered meter not on any account.
    pub new_meter_id: ID,
    /// The old meter's final total register (旧表止码), kWh.
    pub old_final_reading: Decimal,
    /// The new meter's initial total register (新表起码), kWh.
    pub new_initial_reading: Decimal,
    /// When the swap happened; now when omitted.
    pub replaced_at: Option<DateTime<Utc>>,
}

#[derive(InputObject)]
pub struct RatePriceInput {
    pub rate: TouRate,
    pub price: Decimal,
}

#[derive(InputObject)]
pub struct PeriodInput {
    pub start: String,
    pub end: String,
    pub rate: TouRate,
}

#[derive(InputObject)]
pub struct SeasonInput {
    pub from: String,
    pub to: String,
    pub periods: Vec<PeriodInput>,
}

#[derive(InputObject)]
pub struct DatePlanInput {
    pub date: String,
    pub periods: Vec<PeriodInput>,
}

#[derive(InputObject)]
pub struct TierStepInput {
    pub up_to: Option<Decimal>,
    pub add: Decimal,
}

#[derive(InputObject)]
pub struct TiersInput {
    pub cycle: TierCycle,
    pub steps: Vec<TierStepInput>,
}

/// A tariff version: prices, the day plan(s), the TOU source, tiers.
#[derive(InputObject)]
pub struct TariffInput {
    pub prices: Vec<RatePriceInput>,
    #[graphql(default)]
    pub periods: Vec<PeriodInput>,
    #[graphql(default)]
    pub seasons: Vec<SeasonInput>,
    #[graphql(default)]
    pub dates: Vec<DatePlanInput>,
    #[graphql(default_with = "TouSource::PlatformCalendar")]
    pub source: TouSource,
    pub tiers: Option<TiersInput>,
    pub capacity_price_per_kw: Option<Decimal>,
}

fn periods_in(p: &[PeriodInput]) -> Vec<(String, String, Rate)> {
    p.iter().map(|x| (x.start.clone(), x.end.clone(), x.rate.into())).collect()
}

fn spec_of(t: &TariffInput) -> TariffSpec {
    TariffSpec {
        prices: t.prices.iter().map(|p| (p.rate.into(), p.price)).collect(),
        periods: periods_in(&t.periods),
        seasons: t.seasons.iter().map(|s| (s.from.clone(), s.to.clone(), periods_in(&s.periods))).collect(),
        dates: t.dates.iter().map(|d| (d.date.clone(), periods_in(&d.periods))).collect(),
        source: match t.source {
            TouSource::MeterRegisters => DomainSource::MeterRegisters,
            TouSource::PlatformCalendar => DomainSource::PlatformCalendar,
        },
        tiers: t.tiers.as_ref().map(|x| {
            (
                if x.cycle == TierCycle::Monthly { DomainCycle::Monthly } else { DomainCycle::Yearly },
                x.steps.iter().map(|s| (s.up_to, s.add)).collect(),
            )
        }),
        capacity_price_per_kw: t.capacity_price_per_kw,
    }
}

/// Validates a tariff input; errors name the field they are about.
fn validate_tariff(t: &TariffInput) -> Result<TariffSpec, Invalid> {
    let spec = spec_of(t);
    DomainTariff::from_spec(&spec).map_err(|e| {
        let field = match &e {
            TariffError::PeriodCount(_)
            | TariffError::NotCovering { .. }
            | TariffError::Overlap { .. }
            | TariffError::EmptyPeriod { .. }
            | TariffError::BadTime(_) => "tariff.periods",
            TariffError::MissingPrice(_) | TariffError::NegativePrice(_) | TariffError::PricePlaces(_) => "tariff.prices",
            TariffError::TierBounds(_) => "tariff.tiers",
            TariffError::BadDate(_) => "tariff.seasons",
            TariffError::DeepValleyFromRegisters => "tariff.source",
        };
        Invalid::new(field, e.to_string())
    })?;
    Ok(spec)
}

#[derive(InputObject)]
pub struct CreateTariffInput {
    pub name: String,
    /// When the first version takes effect; now when omitted.
    pub effective_from: Option<DateTime<Utc>>,
    pub tariff: TariffInput,
    /// Accept a price above the cap (F40); the version is flagged.
    #[graphql(default)]
    pub override_price_cap: bool,
}

#[derive(InputObject)]
pub struct AddTariffVersionInput {
    pub tariff_id: ID,
    pub effective_from: DateTime<Utc>,
    pub tariff: TariffInput,
    #[graphql(default)]
    pub override_price_cap: bool,
}

/// Assigns a tariff: to a meter (override), a property, or, with neither, the tenant default.
#[derive(InputObject)]
pub struct AssignTariffInput {
    /// Null clears the assignment.
    pub tariff_id: Option<ID>,
    pub property_id: Option<ID>,
    pub meter_id: Option<ID>,
}

#[derive(InputObject)]
pub struct PriceRuleInput {
    /// Catalogue flat price (目录电价); null turns the guard off.
    pub catalogue_price: Option<Decimal>,
    #[graphql(default_with = "Decimal::from(15)")]
    pub margin_percent: Decimal,
}

#[derive(InputObject)]
pub struct ServiceFeeInput {
    /// A property's own fee; the tenant's when omitted.
    pub property_id: Option<ID>,
    #[graphql(default)]
    pub percent: Decimal,
    #[graphql(default)]
    pub fixed: Decimal,
    /// Remove the property's own fee (it falls back to the tenant's).
    #[graphql(default)]
    pub clear: bool,
}

#[derive(InputObject)]
pub struct BillingSettingsInput {
    pub jump_limit_kw: Decimal,
    #[graphql(default = 1)]
    pub settlement_day: i64,
    #[graphql(default)]
    pub settlement_hour: i64,
}

fn money(field: &'static str, v: Decimal) -> Res<i64> {
    positive_fen(field, v).map_err(err)
}

fn id_field<T>(field: &'static str, id: &ID, parse: fn(&str) -> Option<T>) -> Res<T> {
    parse(id.as_str()).ok_or_else(|| err(Invalid::new(field, "no such object")))
}

/// A store NOT_FOUND on a referenced object names the input field.
fn named(field: &'static str) -> impl Fn(StoreError) -> async_graphql::Error {
    move |e| match e {
        StoreError::NotFound => err(Invalid::new(field, "no such object")),
        other => err(other),
    }
}

// ---- mutations ----

#[derive(Default)]
pub struct MoneyMutation;

#[Object]
impl MoneyMutation {
    /// Opens an account (开户) with its meters and an optional initial purchase.
    async fn open_account(&self, ctx: &Context<'_>, input: OpenAccountInput) -> Res<Posting> {
        let customer = id_field("customerId", &input.customer_id, CustomerId::parse)?;
        let meters = input.meter_ids.iter().map(|m| id_field("meterIds", m, MeterId::parse)).collect::<Res<Vec<_>>>()?;
        let t = input.thresholds.as_ref().map(thresholds).transpose().map_err(err)?.unwrap_or(Thresholds {
            alarm1: 0,
            alarm2: 0,
            credit_limit: 0,
        });
        let number = match input.number.as_deref().map(str::trim) {
            Some("") => return Err(err(Invalid::new("number", "must not be empty"))),
            Some(n) if n.chars().count() > 40 => return Err(err(Invalid::new("number", "at most 40 characters"))),
            other => other.map(str::to_string),
        };
        let property_fee = ledger::fen("propertyFee", input.property_fee.unwrap_or_default()).map_err(err)?;
        let initial = input
            .initial_purchase
            .as_ref()
            .map(|p| money("initialPurchase.amount", p.amount).map(|a| (a, p.channel.kind())))
            .transpose()?;
        let new = store::NewAccount { customer, number, meters, thresholds: t, property_fee_x100: property_fee, initial };
        tenant(ctx)?.open_account(&new).await.map(Into::into).map_err(named("meterIds"))
    }

    /// Closes an account (销户): refunds a positive balance and releases its meters.
    async fn close_account(&self, ctx: &Context<'_>, id: ID, #[graphql(default)] note: String) -> Res<Posting> {
        let id = parse_id(&id, AccountId::parse)?;
        tenant(ctx)?.close_account(&id, &note).await.map(Into::into).map_err(err)
    }

    /// Adds a meter to an account (一户多表); billing starts at its latest reading.
    async fn assign_meter_to_account(&self, ctx: &Context<'_>, account_id: ID, meter_id: ID) -> Res<Account> {
        let account = parse_id(&account_id, AccountId::parse)?;
        let meter = id_field("meterId", &meter_id, MeterId::parse)?;
        tenant(ctx)?.assign_meter(&account, &meter).await.map(Account).map_err(err)
    }

    /// Takes a meter off its account.
    async fn release_meter(&self, ctx: &Context<'_>, meter_id: ID) -> Res<bool> {
        let meter = parse_id(&meter_id, MeterId::parse)?;
        tenant(ctx)?.release_meter(&meter).await.map_err(err)?;
        Ok(true)
    }

    /// Replaces a meter (换表): settles the old meter's final reading, retires it and puts the
    /// new meter on the same account from its initial reading.
    async fn replace_meter(&self, ctx: &Context<'_>, input: ReplaceMeterInput) -> Res<Account> {
        let old_meter = parse_id(&input.old_meter_id, MeterId::parse)?;
        let new_meter = id_field("newMeterId", &input.new_meter_id, MeterId::parse)?;
        if old_meter == new_meter {
            return Err(err(Invalid::new("newMeterId", "must differ from the old meter")));
        }
        for (field, v) in [("oldFinalReading", input.old_final_reading), ("newInitialReading", input.new_initial_reading)] {
            if v.is_sign_negative() || crate::domain::metering::to_scaled(v, 2).is_none() {
                return Err(err(Invalid::new(field, "a register in kWh, not negative, at most 2 decimal places")));
            }
        }
        let r = store::Replacement {
            old_meter,
            new_meter,
            old_final: input.old_final_reading,
            new_initial: input.new_initial_reading,
            at: input.replaced_at.unwrap_or_else(Utc::now),
        };
        tenant(ctx)?.replace_meter(&r).await.map(Account).map_err(named("newMeterId"))
    }

    /// A recharge taken by an operator (cash or transfer); the service fee is taken first.
    async fn recharge(&self, ctx: &Context<'_>, input: RechargeInput) -> Res<Posting> {
        let account = parse_id(&input.account_id, AccountId::parse)?;
        let amount = money("amount", input.amount)?;
        if let Some(k) = &input.idempotency_key
            && (k.is_empty() || k.len() > 64)
        {
            return Err(err(Invalid::new("idempotencyKey", "1 to 64 characters")));
        }
        let t = tenant(ctx)?;
        let posted = t.recharge(&account, amount, input.channel.kind(), input.idempotency_key, &input.note).await;
        posted.map(Into::into).map_err(err)
    }

    /// A refund (退电) out of the balance.
    async fn refund(&self, ctx: &Context<'_>, input: RefundInput) -> Res<Posting> {
        let account = parse_id(&input.account_id, AccountId::parse)?;
        let amount = money("amount", input.amount)?;
        tenant(ctx)?.refund(&account, amount, &input.note).await.map(Into::into).map_err(err)
    }

    /// Reverses an entry (冲正) with compensating entries; a recharge's fee goes with it.
    async fn reverse_entry(&self, ctx: &Context<'_>, entry_id: ID, #[graphql(default)] note: String) -> Res<Posting> {
        let entry = parse_id(&entry_id, EntryId::parse)?;
        tenant(ctx)?.reverse(&entry, &note).await.map(Into::into).map_err(err)
    }

    /// Moves balance between two accounts (余额转移).
    async fn transfer_balance(&self, ctx: &Context<'_>, input: TransferInput) -> Res<Transfer> {
        let from = parse_id(&input.from_account_id, AccountId::parse)?;
        let to = id_field("toAccountId", &input.to_account_id, AccountId::parse)?;
        let amount = money("amount", input.amount)?;
        let (a, b) = tenant(ctx)?.transfer(&from, &to, amount, &input.note).await.map_err(err)?;
        Ok(Transfer { from: a.into(), to: b.into() })
    }

    /// Marks entries invoiced (开票); returns how many were newly marked.
    async fn mark_invoiced(&self, ctx: &Context<'_>, entry_ids: Vec<ID>) -> Res<u64> {
        let ids = entry_ids.iter().filter_map(|i| EntryId::parse(i.as_str())).collect::<Vec<_>>();
        tenant(ctx)?.mark_invoiced(&ids).await.map_err(err)
    }

    /// Sets thresholds, credit limit and property fee; trip/close is decided again.
    async fn set_account_terms(&self, ctx: &Context<'_>, input: AccountTermsInput) -> Res<Posting> {
        let account = parse_id(&input.account_id, AccountId::parse)?;
        let t = thresholds(&input.thresholds).map_err(err)?;
        let fee = ledger::fen("propertyFee", input.property_fee).map_err(err)?;
        tenant(ctx)?.set_account_terms(&account, t, fee).await.map(Into::into).map_err(err)
    }

    /// Hold power (保电) on or off.
    async fn set_hold_power(&self, ctx: &Context<'_>, account_id: ID, hold: bool) -> Res<Posting> {
        let account = parse_id(&account_id, AccountId::parse)?;
        tenant(ctx)?.set_hold_power(&account, hold).await.map(Into::into).map_err(err)
    }

    /// Restores prepaid control (恢复预付费): hold released, trip/close decided by balance.
    async fn restore_prepaid(&self, ctx: &Context<'_>, account_id: ID) -> Res<Posting> {
        let account = parse_id(&account_id, AccountId::parse)?;
        tenant(ctx)?.set_hold_power(&account, false).await.map(Into::into).map_err(err)
    }

    async fn create_tariff(&self, ctx: &Context<'_>, input: CreateTariffInput) -> Res<Tariff> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(err(Invalid::new("name", "1 to 100 characters")));
        }
        let spec = validate_tariff(&input.tariff).map_err(err)?;
        let t = tenant(ctx)?;
        check_cap(t, &spec, input.override_price_cap).await?;
        t.create_tariff(name, input.effective_from.unwrap_or_else(Utc::now), &spec, input.override_price_cap)
            .await
            .map(Into::into)
            .map_err(err)
    }

    /// Adds a version taking effect at an instant (price change, or a correction of the past
    /// followed by re-rating).
    async fn add_tariff_version(&self, ctx: &Context<'_>, input: AddTariffVersionInput) -> Res<Tariff> {
        let id = parse_id(&input.tariff_id, TariffId::parse)?;
        let spec = validate_tariff(&input.tariff).map_err(err)?;
        let t = tenant(ctx)?;
        check_cap(t, &spec, input.override_price_cap).await?;
        match t.add_tariff_version(&id, input.effective_from, &spec, input.override_price_cap).await {
            Err(StoreError::Duplicate) => Err(err(Invalid::new("effectiveFrom", "a version already takes effect at this instant"))),
            other => other.map(Into::into).map_err(err),
        }
    }

    async fn assign_tariff(&self, ctx: &Context<'_>, input: AssignTariffInput) -> Res<bool> {
        let tariff = parse_ref("tariffId", &input.tariff_id, TariffId::parse)?;
        let property = parse_ref("propertyId", &input.property_id, PropertyId::parse)?;
        let meter = parse_ref("meterId", &input.meter_id, MeterId::parse)?;
        if property.is_some() && meter.is_some() {
            return Err(err(Invalid::new("meterId", "assign to a property or a meter, not both")));
        }
        let field = if meter.is_some() {
            "meterId"
        } else if property.is_some() {
            "propertyId"
        } else {
            "tariffId"
        };
        tenant(ctx)?.assign_tariff(tariff.as_ref(), property.as_ref(), meter.as_ref()).await.map_err(named(field))?;
        Ok(true)
    }

    /// The resale price rule (F40).
    async fn set_price_rule(&self, ctx: &Context<'_>, input: PriceRuleInput) -> Res<MoneySettings> {
        if let Some(c) = input.catalogue_price
            && (c <= Decimal::ZERO || c.normalize().scale() > 6)
        {
            return Err(err(Invalid::new("cataloguePrice", "a positive price with at most 6 decimal places")));
        }
        if input.margin_percent.is_sign_negative() || input.margin_percent > Decimal::from(1000) {
            return Err(err(Invalid::new("marginPercent", "between 0 and 1000")));
        }
        tenant(ctx)?.set_price_rule(input.catalogue_price, input.margin_percent).await.map(Into::into).map_err(err)
    }

    /// The service fee per recharge (F39), tenant-wide or for one property.
    async fn set_service_fee(&self, ctx: &Context<'_>, input: ServiceFeeInput) -> Res<MoneySettings> {
        let property = parse_ref("propertyId", &input.property_id, PropertyId::parse)?;
        let fee = if input.clear { None } else { Some(ServiceFee::new(input.percent, input.fixed).map_err(err)?) };
        if property.is_none() && fee.is_none() {
            return Err(err(Invalid::new("clear", "only a property's own fee can be cleared")));
        }
        let t = tenant(ctx)?;
        t.set_service_fee(property.as_ref(), fee).await.map_err(named("propertyId"))?;
        t.money_settings().await.map(Into::into).map_err(err)
    }

    async fn set_billing_settings(&self, ctx: &Context<'_>, input: BillingSettingsInput) -> Res<MoneySettings> {
        if input.jump_limit_kw <= Decimal::ZERO || input.jump_limit_kw > Decimal::from(1_000_000) {
            return Err(err(Invalid::new("jumpLimitKw", "between 0 and 1,000,000 kW")));
        }
        if !(1..=28).contains(&input.settlement_day) {
            return Err(err(Invalid::new("settlementDay", "between 1 and 28")));
        }
        if !(0..=23).contains(&input.settlement_hour) {
            return Err(err(Invalid::new("settlementHour", "between 0 and 23")));
        }
        tenant(ctx)?
            .set_billing_settings(input.jump_limit_kw, input.settlement_day, input.settlement_hour)
            .await
            .map(Into::into)
            .map_err(err)
    }

    async fn resolve_settlement_anomaly(&self, ctx: &Context<'_>, id: ID, action: AnomalyAction) -> Res<SettlementAnomaly> {
        let id = parse_id(&id, AnomalyId::parse)?;
        tenant(ctx)?.resolve_anomaly(&id, action.into()).await.map(Into::into).map_err(err)
    }

    /// Trips a meter now (拉闸) as an operator; sent by the dispatcher, confirmed by the
    /// relay state the meter reports next.
    async fn trip_meter(&self, ctx: &Context<'_>, input: MeterCommandInput) -> Res<Command> {
        operator_command(ctx, &input, "TRIP").await
    }

    /// Closes a meter's relay now (合闸) as an operator.
    async fn close_meter(&self, ctx: &Context<'_>, input: MeterCommandInput) -> Res<Command> {
        operator_command(ctx, &input, "CLOSE").await
    }

    /// Hold power on one meter (保电), or its release, as an operator.
    async fn set_meter_hold_power(&self, ctx: &Context<'_>, input: MeterCommandInput, hold: bool) -> Res<Command> {
        operator_command(ctx, &input, if hold { "HOLD_ON" } else { "HOLD_OFF" }).await
    }

    /// Reads a meter now (立即抄表): clock, energy registers, power and status; confirmed when
    /// the fresh reading is stored.
    async fn read_meter_now(&self, ctx: &Context<'_>, input: MeterCommandInput) -> Res<Command> {
        operator_command(ctx, &input, "READ").await
    }

    /// Cancels a queued or sent command.
    async fn cancel_command(&self, ctx: &Context<'_>, id: ID) -> Res<Command> {
        let id = parse_id(&id, CommandId::parse)?;
        tenant(ctx)?.cancel_command(&id).await.map(Into::into).map_err(err)
    }

    /// Re-sends a failed, timed-out or cancelled command.
    async fn resend_command(&self, ctx: &Context<'_>, id: ID) -> Res<Command> {
        let id = parse_id(&id, CommandId::parse)?;
        tenant(ctx)?.resend_command(&id).await.map(Into::into).map_err(err)
    }

    /// Loads money into a meter-side prepaid meter (表端购电) with the next purchase counter.
    async fn purchase_for_meter(&self, ctx: &Context<'_>, meter_id: ID, amount: Decimal) -> Res<MeterPurchase> {
        let meter = parse_id(&meter_id, MeterId::parse)?;
        let amount = money("amount", amount)?;
        let (posted, counter) = tenant(ctx)?.meter_purchase(&meter, amount).await.map_err(err)?;
        Ok(MeterPurchase { posting: posted.into(), counter })
    }
}

async fn operator_command(ctx: &Context<'_>, input: &MeterCommandInput, kind: &str) -> Res<Command> {
    let meter = parse_id(&input.meter_id, MeterId::parse)?;
    if input.reason.chars().count() > 200 {
        return Err(err(Invalid::new("reason", "at most 200 characters")));
    }
    let reason = if input.reason.trim().is_empty() { "operator".to_string() } else { input.reason.trim().to_string() };
    tenant(ctx)?.operator_command(&meter, kind, &reason).await.map(Into::into).map_err(err)
}

async fn check_cap(t: &store::TenantStore, spec: &TariffSpec, override_cap: bool) -> Res<()> {
    let rule = t.money_settings().await.map_err(err)?.price_rule;
    let tariff = DomainTariff::from_spec(spec).map_err(|e| err(Invalid::new("tariff", e.to_string())))?;
    if let Some(cap) = rule.and_then(|r| r.exceeded_by(&tariff))
        && !override_cap
    {
        return Err(err(Invalid::new(
            "overridePriceCap",
            format!(
                "the highest price {} is above the allowed {}; confirm with overridePriceCap",
                tariff.highest_price(),
                cap.round_dp(6).normalize()
            ),
        )));
    }
    Ok(())
}
