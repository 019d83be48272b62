//! Money rules: ledger entry kinds, amounts in fen, recharge service fees (F39), and the
//! prepaid state machine that turns a balance into alarms and trip/close decisions (F14, F15).
//!
//! Must not: touch storage or decide how a command reaches a meter.
// Fen literals are grouped yuan_fen (100_00 = 100.00 yuan).
#![allow(clippy::inconsistent_digit_grouping)]

use rust_decimal::{Decimal, RoundingStrategy};

use super::Invalid;
use super::metering::{from_scaled, scale, to_scaled};

/// Kinds of ledger entry (F13). Credits are positive, debits negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    RechargeCash,
    RechargeTransfer,
    RechargeWechat,
    RechargeAlipay,
    ServiceFee,
    Refund,
    Reversal,
    EnergyCharge,
    SharedAreaCharge,
    PropertyFeeCharge,
    CapacityFeeCharge,
    TransferOut,
    TransferIn,
    /// The difference posted by a re-rating after a correction (F35).
    Adjustment,
    /// Money handed over when a meter-side prepaid meter is loaded (mirror of the purchase).
    MeterPurchase,
    /// Money received for a post-paid bill (缴费).
    BillPayment,
    /// A post-paid bill settled by its payment (账单结清): the payment's mirror.
    BillSettlement,
}

impl EntryKind {
    pub const ALL: [EntryKind; 17] = [
        EntryKind::RechargeCash,
        EntryKind::RechargeTransfer,
        EntryKind::RechargeWechat,
        EntryKind::RechargeAlipay,
        EntryKind::ServiceFee,
        EntryKind::Refund,
        EntryKind::Reversal,
        EntryKind::EnergyCharge,
        EntryKind::SharedAreaCharge,
        EntryKind::PropertyFeeCharge,
        EntryKind::CapacityFeeCharge,
        EntryKind::TransferOut,
        EntryKind::TransferIn,
        EntryKind::Adjustment,
        EntryKind::MeterPurchase,
        EntryKind::BillPayment,
        EntryKind::BillSettlement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::RechargeCash => "RECHARGE_CASH",
            EntryKind::RechargeTransfer => "RECHARGE_TRANSFER",
            EntryKind::RechargeWechat => "RECHARGE_WECHAT",
            EntryKind::RechargeAlipay => "RECHARGE_ALIPAY",
            EntryKind::ServiceFee => "SERVICE_FEE",
            EntryKind::Refund => "REFUND",
            EntryKind::Reversal => "REVERSAL",
            EntryKind::EnergyCharge => "ENERGY_CHARGE",
            EntryKind::SharedAreaCharge => "SHARED_AREA_CHARGE",
            EntryKind::PropertyFeeCharge => "PROPERTY_FEE_CHARGE",
            EntryKind::CapacityFeeCharge => "CAPACITY_FEE_CHARGE",
            EntryKind::TransferOut => "TRANSFER_OUT",
            EntryKind::TransferIn => "TRANSFER_IN",
            EntryKind::Adjustment => "ADJUSTMENT",
            EntryKind::MeterPurchase => "METER_PURCHASE",
            EntryKind::BillPayment => "BILL_PAYMENT",
            EntryKind::BillSettlement => "BILL_SETTLEMENT",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The name a customer reads on a receipt: Chinese, then English.
    pub fn label(self) -> &'static str {
        match self {
            EntryKind::RechargeCash => "现金充值 Cash recharge",
            EntryKind::RechargeTransfer => "转账充值 Bank transfer recharge",
            EntryKind::RechargeWechat => "微信充值 WeChat Pay recharge",
            EntryKind::RechargeAlipay => "支付宝充值 Alipay recharge",
            EntryKind::ServiceFee => "服务费 Service fee",
            EntryKind::Refund => "退费 Refund",
            EntryKind::Reversal => "冲正 Reversal",
            EntryKind::EnergyCharge => "电费 Energy",
            EntryKind::SharedAreaCharge => "公摊 Shared area",
            EntryKind::PropertyFeeCharge => "物业费 Property fee",
            EntryKind::CapacityFeeCharge => "容量费 Capacity fee",
            EntryKind::TransferOut => "转出 Transfer out",
            EntryKind::TransferIn => "转入 Transfer in",
            EntryKind::Adjustment => "调账 Adjustment",
            EntryKind::MeterPurchase => "表端购电 Meter purchase",
            EntryKind::BillPayment => "账单缴费 Bill payment",
            EntryKind::BillSettlement => "账单结清 Bill settled",
        }
    }

    /// Entries a customer gets a numbered receipt for.
    pub fn has_receipt(self) -> bool {
        matches!(
            self,
            EntryKind::RechargeCash
                | EntryKind::RechargeTransfer
                | EntryKind::RechargeWechat
                | EntryKind::RechargeAlipay
                | EntryKind::Refund
                | EntryKind::Reversal
                | EntryKind::TransferOut
                | EntryKind::TransferIn
                | EntryKind::BillPayment
        )
    }
}

/// Yuan with at most 2 places, as fen; anything else is invalid input.
pub fn fen(field: &'static str, yuan: Decimal) -> Result<i64, Invalid> {
    to_scaled(yuan, scale::MONEY).ok_or_else(|| Invalid::new(field, "at most 2 decimal places (fen)"))
}

/// A positive amount in yuan, as fen.
pub fn positive_fen(field: &'static str, yuan: Decimal) -> Result<i64, Invalid> {
    let f = fen(field, yuan)?;
    if f <= 0 {
        return Err(Invalid::new(field, "must be greater than zero"));
    }
    if f > 100_000_000_00 {
        return Err(Invalid::new(field, "at most 100,000,000.00"));
    }
    Ok(f)
}

pub fn yuan(fen: i64) -> Decimal {
    from_scaled(fen, scale::MONEY)
}

/// Service fee per recharge (F39): a percentage and/or a fixed amount, taken before the credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServiceFee {
    pub percent: Decimal,
    pub fixed_fen: i64,
}

impl ServiceFee {
    pub fn new(percent: Decimal, fixed: Decimal) -> Result<Self, Invalid> {
        if percent.is_sign_negative() || percent >= Decimal::ONE_HUNDRED {
            return Err(Invalid::new("percent", "between 0 and 100"));
        }
        if percent.normalize().scale() > 4 {
            return Err(Invalid::new("percent", "at most 4 decimal places"));
        }
        let fixed_fen = fen("fixed", fixed)?;
        if fixed_fen < 0 {
            return Err(Invalid::new("fixed", "must not be negative"));
        }
        Ok(Self { percent, fixed_fen })
    }

    /// The fee in fen on a recharge of `amount_fen`: the percentage rounded half up to the fen,
    /// plus the fixed part. It must leave something to credit.
    pub fn on(self, amount_fen: i64) -> Result<i64, Invalid> {
        let pct = (Decimal::from(amount_fen) * self.percent / Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
        let fee = i64::try_from(pct.mantissa()).unwrap_or(i64::MAX).saturating_add(self.fixed_fen);
        if fee >= amount_fen {
            return Err(Invalid::new("amount", format!("must exceed the service fee of {}", yuan(fee))));
        }
        Ok(fee)
    }
}

impl ServiceFee {
    /// The fee on a post-paid bill whose other lines come to `subtotal_fen`: the percentage
    /// rounded half up to the fen plus the fixed part; `None` when there is no fee or nothing
    /// to charge it on.
    pub fn on_bill(self, subtotal_fen: i64) -> Option<i64> {
        if subtotal_fen <= 0 || (self.percent.is_zero() && self.fixed_fen == 0) {
            return None;
        }
        let pct = (Decimal::from(subtotal_fen) * self.percent / Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
        Some(i64::try_from(pct.mantissa()).unwrap_or(i64::MAX).saturating_add(self.fixed_fen))
    }
}

/// Balance thresholds of an account, in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Alarm 1 (报警1): warn at or below this balance.
    pub alarm1: i64,
    /// Alarm 2 (报警2): warn harder at or below this balance.
    pub alarm2: i64,
    /// Credit limit (赊欠): how far below zero the account may go before the trip.
    pub credit_limit: i64,
}

impl Thresholds {
    pub fn new(alarm1: i64, alarm2: i64, credit_limit: i64) -> Result<Self, Invalid> {
        if credit_limit < 0 {
            return Err(Invalid::new("creditLimit", "must not be negative"));
        }
        if alarm2 > alarm1 {
            return Err(Invalid::new("alarm2", "must not exceed alarm 1"));
        }
        if alarm2 < -credit_limit {
            return Err(Invalid::new("alarm2", "must not be below the trip point (minus the credit limit)"));
        }
        Ok(Self { alarm1, alarm2, credit_limit })
    }
}

/// Where a balance stands (F15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalanceState {
    Normal,
    Low1,
    Low2,
    /// Below zero but within the credit limit (欠费).
    Arrears,
    /// At or below minus the credit limit: power must go off unless held.
    Exhausted,
}

impl BalanceState {
    pub fn of(balance: i64, t: Thresholds) -> Self {
        if balance <= -t.credit_limit {
            BalanceState::Exhausted
        } else if balance < 0 {
            BalanceState::Arrears
        } else if balance <= t.alarm2 {
            BalanceState::Low2
        } else if balance <= t.alarm1 {
            BalanceState::Low1
        } else {
            BalanceState::Normal
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BalanceState::Normal => "NORMAL",
            BalanceState::Low1 => "LOW_1",
            BalanceState::Low2 => "LOW_2",
            BalanceState::Arrears => "ARREARS",
            BalanceState::Exhausted => "EXHAUSTED",
        }
    }

    pub fn parse(s: &str) -> Self {
        [BalanceState::Low1, BalanceState::Low2, BalanceState::Arrears, BalanceState::Exhausted]
            .into_iter()
            .find(|b| b.as_str() == s)
            .unwrap_or(BalanceState::Normal)
    }
}

/// The relay position the platform wants for an account's meters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relay {
    Closed,
    Open,
}

impl Relay {
    pub fn as_str(self) -> &'static str {
        match self {
            Relay::Closed => "CLOSED",
            Relay::Open => "OPEN",
        }
    }

    pub fn parse(s: &str) -> Self {
        if s == "OPEN" { Relay::Open } else { Relay::Closed }
    }
}

/// A control decision for every platform-prepaid meter of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Trip,
    Close,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Trip => "TRIP",
            Decision::Close => "CLOSE",
        }
    }
}

/// The account's control inputs besides its balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Control {
    /// Hold power (保电): never trip.
    pub hold: bool,
    /// The relay position last decided.
    pub wanted: Relay,
}

/// The state machine (F15): the new balance state, the relay now wanted, and the decision to
/// send if the wanted position changed. Trip at the limit unless held; close once a recharge
/// (or a released hold, or a raised limit) lifts the balance above it.
pub fn decide(balance: i64, t: Thresholds, c: Control) -> (BalanceState, Relay, Option<Decision>) {
    let state = BalanceState::of(balance, t);
    let wanted = if state == BalanceState::Exhausted && !c.hold { Relay::Open } else { Relay::Closed };
    let decision = match (c.wanted, wanted) {
        (Relay::Closed, Relay::Open) => Some(Decision::Trip),
        (Relay::Open, Relay::Closed) => Some(Decision::Close),
        _ => None,
    };
    (state, wanted, decision)
}

/// The alarm a balance state keeps active on its account (F15, F23); NORMAL keeps none.
pub fn balance_alarm(s: BalanceState) -> Option<&'static str> {
    match s {
        BalanceState::Normal => None,
        BalanceState::Low1 => Some("LOW_BALANCE_1"),
        BalanceState::Low2 => Some("LOW_BALANCE_2"),
        BalanceState::Arrears => Some("ARREARS"),
        BalanceState::Exhausted => Some("BALANCE_EXHAUSTED"),
    }
}

/// The alarm kinds a balance state can keep active.
pub const BALANCE_ALARMS: [&str; 4] = ["LOW_BALANCE_1", "LOW_BALANCE_2", "ARREARS", "BALANCE_EXHAUSTED"];

/// The event (not a lasting condition) recorded when a balance comes back to NORMAL.
pub const BALANCE_RESTORED: &str = "BALANCE_RESTORED";

/// The balance states an account enters, in order, when its balance moves from `before` to
/// `after` while its stored state is `stored`. Falling, every state the balance passes
/// through counts — a backlog settled in one batch still enters alarm 1 and alarm 2 on its
/// way to arrears; rising, only where it lands. Empty when the state does not change.
pub fn states_entered(stored: BalanceState, before: i64, after: i64, t: Thresholds) -> Vec<BalanceState> {
    let mut points: Vec<i64> = if after < before {
        // The highest balance of each state below `before`, where the falling balance enters it.
        [t.alarm1, t.alarm2, -1, -t.credit_limit].into_iter().filter(|p| *p >= after && *p < before).collect()
    } else {
        Vec::new()
    };
    points.push(after);
    points.sort_unstable_by(|a, b| b.cmp(a));
    let mut path: Vec<BalanceState> = points.into_iter().map(|p| BalanceState::of(p, t)).collect();
    path.dedup();
    path.retain(|s| *s != stored);
    path
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn fees_round_half_up_and_must_leave_a_credit() {
        let fee = ServiceFee::new(d("0.6"), d("0")).unwrap();
        assert_eq!(fee.on(100_00).unwrap(), 60); // 0.6 % of 100.00 = 0.60
        assert_eq!(fee.on(12_345).unwrap(), 74); // 0.6 % of 123.45 = 0.7407 -> 0.74
        assert_eq!(ServiceFee::new(d("1"), d("0")).unwrap().on(50).unwrap(), 1); // 0.5 fen -> 1
        let fixed = ServiceFee::new(d("0"), d("2.00")).unwrap();
        assert_eq!(fixed.on(10_00).unwrap(), 200);
        assert_eq!(fixed.on(2_00).unwrap_err().field, "amount");
        assert_eq!(ServiceFee::new(d("100"), d("0")).unwrap_err().field, "percent");
        // On a bill: 0.6% of 123.45 yuan is 74.07 fen → 74, plus 2.00 fixed; nothing on nothing.
        let bill = ServiceFee::new(d("0.6"), d("2.00")).unwrap();
        assert_eq!(bill.on_bill(12_345), Some(274));
        assert_eq!(bill.on_bill(0), None);
        assert_eq!(bill.on_bill(-500), None);
        assert_eq!(ServiceFee::default().on_bill(12_345), None);
        // Half a fen rounds up: 0.5% of 1.00 yuan.
        assert_eq!(ServiceFee::new(d("0.5"), d("0")).unwrap().on_bill(100), Some(1));
        assert_eq!(ServiceFee::new(d("1"), d("0.001")).unwrap_err().field, "fixed");
    }

    #[test]
    fn trip_at_the_limit_close_above_it_and_hold_suppresses() {
        let t = Thresholds::new(50_00, 20_00, 10_00).unwrap();
        let closed = Control { hold: false, wanted: Relay::Closed };
        assert_eq!(decide(60_00, t, closed), (BalanceState::Normal, Relay::Closed, None));
        assert_eq!(decide(50_00, t, closed).0, BalanceState::Low1);
        assert_eq!(decide(20_00, t, closed).0, BalanceState::Low2);
        assert_eq!(decide(-9_99, t, closed), (BalanceState::Arrears, Relay::Closed, None));
        assert_eq!(decide(-10_00, t, closed), (BalanceState::Exhausted, Relay::Open, Some(Decision::Trip)));
        let open = Control { hold: false, wanted: Relay::Open };
        assert_eq!(decide(-10_00, t, open).2, None, "already tripped: no second trip");
        assert_eq!(decide(-9_99, t, open), (BalanceState::Arrears, Relay::Closed, Some(Decision::Close)));
        let held = Control { hold: true, wanted: Relay::Closed };
        assert_eq!(decide(-500_00, t, held), (BalanceState::Exhausted, Relay::Closed, None));
        // Releasing the hold while exhausted trips at once.
        assert_eq!(decide(-500_00, t, closed).2, Some(Decision::Trip));
        // Holding a tripped account closes it.
        assert_eq!(decide(-500_00, t, Control { hold: true, wanted: Relay::Open }).2, Some(Decision::Close));
    }

    #[test]
    fn a_falling_balance_enters_every_state_it_crosses_a_rising_one_only_where_it_lands() {
        use BalanceState::*;
        let t = Thresholds::new(50_00, 20_00, 10_00).unwrap();
        assert_eq!(states_entered(Normal, 60_00, -20_00, t), vec![Low1, Low2, Arrears, Exhausted]);
        assert_eq!(states_entered(Normal, 60_00, 30_00, t), vec![Low1]);
        assert_eq!(states_entered(Low1, 30_00, 25_00, t), Vec::<BalanceState>::new());
        assert_eq!(states_entered(Low1, 30_00, -1, t), vec![Low2, Arrears]);
        assert_eq!(states_entered(Exhausted, -20_00, 100_00, t), vec![Normal]);
        assert_eq!(states_entered(Arrears, -5_00, 10_00, t), vec![Low2]);
        // No credit: zero is already exhausted, arrears is never entered.
        let none = Thresholds::new(50_00, 20_00, 0).unwrap();
        assert_eq!(states_entered(Low2, 10_00, -3_00, none), vec![Exhausted]);
        // Terms changed without money moving: the state it is now.
        assert_eq!(states_entered(Normal, 40_00, 40_00, t), vec![Low1]);
    }

    #[test]
    fn thresholds_are_ordered() {
        assert_eq!(Thresholds::new(10_00, 20_00, 0).unwrap_err().field, "alarm2");
        assert_eq!(Thresholds::new(10_00, 5_00, -1).unwrap_err().field, "creditLimit");
        assert_eq!(Thresholds::new(10_00, -20_00, 10_00).unwrap_err().field, "alarm2");
    }

    proptest! {
        /// Whatever path a balance takes, decisions alternate trip/close and the last decision
        /// matches the relay the final balance wants.
        #[test]
        fn decisions_alternate_and_end_in_the_wanted_position(moves in proptest::collection::vec((-5_000i64..5_000, any::<bool>()), 1..100)) {
            let t = Thresholds::new(30_00, 10_00, 5_00).unwrap();
            let (mut balance, mut control, mut last) = (0i64, Control { hold: false, wanted: Relay::Closed }, None);
            for (delta, hold) in moves {
                balance += delta;
                control.hold = hold;
                let (_, wanted, decision) = decide(balance, t, control);
                if let Some(d) = decision {
                    prop_assert_ne!(Some(d), last);
                    last = Some(d);
                }
                control.wanted = wanted;
            }
            let expected = if balance <= -5_00 && !control.hold { Relay::Open } else { Relay::Closed };
            prop_assert_eq!(control.wanted, expected);
        }

        /// Following the states entered step by step always ends in the final balance's state,
        /// and a fall never skips a state between the two.
        #[test]
        fn the_states_entered_end_where_the_balance_is(steps in proptest::collection::vec(-8_000i64..8_000, 1..60)) {
            let t = Thresholds::new(30_00, 10_00, 5_00).unwrap();
            let (mut balance, mut state) = (40_00i64, BalanceState::Normal);
            for delta in steps {
                let after = balance + delta;
                let path = states_entered(state, balance, after, t);
                if let Some(last) = path.last() {
                    state = *last;
                }
                prop_assert_eq!(state, BalanceState::of(after, t));
                if delta < 0 {
                    let rank = |s: BalanceState| [BalanceState::Normal, BalanceState::Low1, BalanceState::Low2, BalanceState::Arrears, BalanceState::Exhausted].iter().position(|x| *x == s).unwrap();
                    let mut seen = vec![rank(BalanceState::of(balance, t))];
                    seen.extend(path.iter().map(|s| rank(*s)));
                    for w in seen.windows(2) {
                        prop_assert_eq!(w[1], w[0] + 1);
                    }
                }
                balance = after;
            }
        }
    }
}
