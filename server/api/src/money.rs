//! GraphQL for money: accounts, the ledger and receipts, tariffs and the price rule, service
//! fees, settlement anomalies, decided commands, meter-side purchases. Parse input into domain
//! values, call one store method, map the result.

use super::ApiError;
use super::graphql::{Meter, PageInfo, Res, err, paging, parse_id, tenant};
use super::receipts::receipt_html;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use domain::Invalid;
use domain::ids::*;
use domain::ledger::{self, EntryKind as Kind, Thresholds, positive_fen, yuan};
use rust_decimal::Decimal;
use store::{self, StoreError};
// ---- enums ----

/// Kind of ledger entry (流水类型): the domain's kinds, one for one (a kind added there
/// fails to compile here until it is named).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::ledger::EntryKind")]
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
    /// Money received for a post-paid bill (账单缴费).
    BillPayment,
    /// A post-paid bill settled by its payment (账单结清).
    BillSettlement,
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
            amount: domain::metering::from_scaled(e.amount_x100, 2),
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
            Some(super::auth::Principal::Operator { .. } | super::auth::Principal::Admin { .. })
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
            kind: e.kind.into(),
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
            channel: store::RECHARGE_KINDS.iter().find(|(k, _)| *k == e.kind.as_str()).map(|(_, c)| c.to_string()),
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
        receipt_view(tenant(ctx)?, number, None).await
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
}

// ---- inputs ----

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

/// Balance thresholds (余额阈值), yuan.
#[derive(SimpleObject)]
pub struct BalanceThresholds {
    /// Credit limit (赊欠额度): the trip happens at minus this balance.
    pub credit_limit: Decimal,
    pub alarm1: Decimal,
    pub alarm2: Decimal,
}

impl From<Thresholds> for BalanceThresholds {
    fn from(t: Thresholds) -> Self {
        Self { credit_limit: yuan(t.credit_limit), alarm1: yuan(t.alarm1), alarm2: yuan(t.alarm2) }
    }
}

pub(crate) fn thresholds(t: &ThresholdsInput) -> Result<Thresholds, Invalid> {
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

pub(crate) fn money(field: &'static str, v: Decimal) -> Res<i64> {
    positive_fen(field, v).map_err(err)
}

pub(crate) fn id_field<T>(field: &'static str, id: &ID, parse: fn(&str) -> Option<T>) -> Res<T> {
    parse(id.as_str()).ok_or_else(|| err(Invalid::new(field, "no such object")))
}

/// A store NOT_FOUND on a referenced object names the input field.
pub(crate) fn named(field: &'static str) -> impl Fn(StoreError) -> async_graphql::Error {
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
        let t = match input.thresholds.as_ref().map(thresholds).transpose().map_err(err)? {
            Some(t) => t,
            // The tenant's defaults (设置 → 默认报警阈值).
            None => tenant(ctx)?.money_settings().await.map_err(err)?.default_thresholds,
        };
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
            if v.is_sign_negative() || domain::metering::to_scaled(v, 2).is_none() {
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

    async fn resolve_settlement_anomaly(&self, ctx: &Context<'_>, id: ID, action: AnomalyAction) -> Res<SettlementAnomaly> {
        let id = parse_id(&id, AnomalyId::parse)?;
        tenant(ctx)?.resolve_anomaly(&id, action.into()).await.map(Into::into).map_err(err)
    }
}

/// A receipt by number; with `customer`, only one of that customer's own accounts (another's
/// is `None`, as if it did not exist).
pub(crate) async fn receipt_view(t: &store::TenantStore, number: i64, customer: Option<&str>) -> Res<Option<Receipt>> {
    let entries = t.receipt_entries(number).await.map_err(err)?;
    let Some(first) = entries.first() else { return Ok(None) };
    let account = t.account(&first.account_id).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?;
    if customer.is_some_and(|c| c != account.customer_id.as_str()) {
        return Ok(None);
    }
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
