//! The settlement kernel (F12): given a batch of new readings and the state of their meters
//! and accounts, decides everything settling them changes — the charges, the readings held as
//! anomalies, the meters' cursors, the accounts' money, balance states and relay decisions —
//! as a [`Plan`]. The store loads and locks that state, calls [`settle_batch`] and writes the
//! plan; nothing here reads a clock or storage, so the rules below are property-tested.
//!
//! Rules:
//! - a meter's readings are taken in time order; one at or before its cursor is late and
//!   changes nothing (a replay, a duplicate or an out-of-order arrival);
//! - a meter with no cursor takes its first reading as the cursor, uncharged;
//! - a meter without an open prepaid account moves its cursor without a charge, so billing
//!   starts at the reading where an account is opened;
//! - a reading with no tariff in force, or one [`price`] refuses, is held: the cursor stays,
//!   and the interval is priced from the same cursor once the cause is resolved;
//! - the exact cost is charged in whole fen with the account's sub-fen carry
//!   ([`tariff::settle`]), so over any split of the same energy the posted fen plus the
//!   carry equal the exact cost;
//! - each touched account's balance state and relay are decided once, on its final balance.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::ledger::{BalanceState, Control, Decision, Thresholds, decide, states_entered, yuan};
use crate::metering::{scale, to_scaled};
use crate::settlement::{Anomaly, CycleUse, MeterTerms, Point, Priced, price};
use crate::tariff::{self, History};

/// A new reading of a meter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival<M> {
    pub meter: M,
    pub point: Point,
}

/// What settlement knows of a meter.
#[derive(Debug, Clone)]
pub struct MeterState<A, T> {
    /// The account its energy is charged to: set only for a platform-prepaid meter on an account.
    pub account: Option<A>,
    /// The tariff that applies to it (its own, its property's or the tenant's default).
    pub tariff: Option<T>,
    pub terms: MeterTerms,
    /// The last settled reading.
    pub cursor: Option<Point>,
}

/// An account's money and control state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    /// Balance in fen.
    pub balance: i64,
    /// Sub-fen remainder, in `[0, 0.01)`.
    pub carry: Decimal,
    pub thresholds: Thresholds,
    pub control: Control,
    pub state: BalanceState,
    pub cycle: CycleUse,
    /// Only open accounts are charged.
    pub open: bool,
}

/// One interval charged to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge<M, A, T> {
    pub meter: M,
    pub account: A,
    pub tariff: T,
    /// The interval: from the cursor to the new reading.
    pub from: DateTime<Utc>,
    pub at: DateTime<Utc>,
    pub priced: Priced,
    /// Fen posted (positive: the ledger entry is its negation).
    pub fen: i64,
    /// The account's carry after this charge.
    pub carry: Decimal,
    /// The account's tier cycle before this interval.
    pub cycle_before: CycleUse,
}

/// Why a reading waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// No tariff is in force for the meter at the reading's time.
    NoTariff,
    /// The reading cannot be billed as it stands.
    Anomaly(Anomaly),
}

impl Hold {
    pub fn kind(&self) -> &'static str {
        match self {
            Hold::NoTariff => "NO_TARIFF",
            Hold::Anomaly(a) => a.kind(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Hold::NoTariff => "no tariff is in force for this meter; the interval waits".into(),
            Hold::Anomaly(a) => a.describe(),
        }
    }
}

/// A reading held back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held<M> {
    pub meter: M,
    pub at: DateTime<Utc>,
    pub why: Hold,
}

/// A relay decision an account's final balance calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided<A> {
    pub account: A,
    pub decision: Decision,
    pub reason: String,
}

/// Everything settling a batch changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<M, A, T> {
    /// Charges in (meter, time) order; zero-fen intervals are not listed.
    pub charges: Vec<Charge<M, A, T>>,
    pub held: Vec<Held<M>>,
    /// New cursors of the meters that moved.
    pub cursors: BTreeMap<M, Point>,
    /// Readings at or before their meter's cursor (changed nothing).
    pub late: usize,
    /// Accounts whose state the plan changed (their new state is in the `accounts` map).
    pub touched: Vec<A>,
    /// Balance states each touched account entered, in order (for alarms).
    pub entered: Vec<(A, Vec<BalanceState>)>,
    pub decisions: Vec<Decided<A>>,
}

impl<M, A, T> Default for Plan<M, A, T> {
    fn default() -> Self {
        Self {
            charges: Vec::new(),
            held: Vec::new(),
            cursors: BTreeMap::new(),
            late: 0,
            touched: Vec::new(),
            entered: Vec::new(),
            decisions: Vec::new(),
        }
    }
}

/// Settles `arrivals` against `meters` and `accounts`, updating both in place (cursors, money,
/// cycles, states, relays) and returning the plan to write. Readings of meters not in `meters`
/// are ignored; accounts not in `accounts` are treated as absent.
pub fn settle_batch<M, A, T, H>(
    mut arrivals: Vec<Arrival<M>>,
    meters: &mut BTreeMap<M, MeterState<A, T>>,
    accounts: &mut BTreeMap<A, AccountState>,
    tariffs: &BTreeMap<T, H>,
) -> Plan<M, A, T>
where
    M: Ord + Clone,
    A: Ord + Clone,
    T: Ord + Clone,
    H: Borrow<History>,
{
    let mut plan = Plan::default();
    arrivals.sort_by(|a, b| (&a.meter, a.point.at).cmp(&(&b.meter, b.point.at)));
    let mut before: BTreeMap<A, (i64, BalanceState)> = BTreeMap::new();
    for a in arrivals {
        let Some(meter) = meters.get_mut(&a.meter) else { continue };
        let Some(prev) = meter.cursor else {
            meter.cursor = Some(a.point);
            plan.cursors.insert(a.meter, a.point);
            continue;
        };
        if a.point.at <= prev.at {
            plan.late += 1;
            continue;
        }
        let charged = meter.account.as_ref().and_then(|k| accounts.get_mut(k).filter(|acc| acc.open).map(|acc| (k, acc)));
        let Some((account_key, account)) = charged else {
            meter.cursor = Some(a.point);
            plan.cursors.insert(a.meter, a.point);
            continue;
        };
        let in_force = meter.tariff.as_ref().and_then(|t| tariffs.get(t).and_then(|h| h.borrow().at(a.point.at)).map(|v| (t, v)));
        let Some((tariff_key, tariff)) = in_force else {
            plan.held.push(Held { meter: a.meter, at: a.point.at, why: Hold::NoTariff });
            continue;
        };
        match price(tariff, &meter.terms, &prev, &a.point, &account.cycle) {
            Err(anomaly) => plan.held.push(Held { meter: a.meter, at: a.point.at, why: Hold::Anomaly(anomaly) }),
            Ok(priced) => {
                before.entry(account_key.clone()).or_insert((account.balance, account.state));
                let cycle_before = std::mem::replace(&mut account.cycle, priced.cycle.clone());
                let s = tariff::settle(account.carry, priced.cost);
                let fen = to_scaled(s.charged, scale::MONEY).unwrap_or(0);
                account.carry = s.carry;
                if fen != 0 {
                    account.balance -= fen;
                    plan.charges.push(Charge {
                        meter: a.meter.clone(),
                        account: account_key.clone(),
                        tariff: tariff_key.clone(),
                        from: prev.at,
                        at: a.point.at,
                        priced,
                        fen,
                        carry: s.carry,
                        cycle_before,
                    });
                }
                meter.cursor = Some(a.point);
                plan.cursors.insert(a.meter, a.point);
            }
        }
    }
    for (key, (balance, state)) in before {
        let Some(acc) = accounts.get_mut(&key) else { continue };
        let path = states_entered(state, balance, acc.balance, acc.thresholds);
        if !path.is_empty() {
            plan.entered.push((key.clone(), path));
        }
        let (state, wanted, decision) = decide(acc.balance, acc.thresholds, acc.control);
        acc.state = state;
        acc.control.wanted = wanted;
        if let Some(decision) = decision {
            plan.decisions.push(Decided {
                account: key.clone(),
                decision,
                reason: format!("balance {} after settlement", yuan(acc.balance)),
            });
        }
        plan.touched.push(key);
    }
    plan
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::ledger::Relay;
    use crate::settlement::Registers;
    use crate::tariff::{Rate, Tariff, TariffSpec, TierCycle, TouSource};
    use chrono::TimeZone;
    use proptest::prelude::*;

    type Meters = BTreeMap<&'static str, MeterState<&'static str, &'static str>>;
    type Accounts = BTreeMap<&'static str, AccountState>;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap()
    }

    /// A flat price, a four-rate price on the meter's registers, or a flat price with monthly tiers.
    fn tariff(kind: u8) -> Tariff {
        let spec = match kind {
            0 => TariffSpec {
                prices: vec![(Rate::Flat, d("0.8537"))],
                periods: vec![],
                seasons: vec![],
                dates: vec![],
                source: TouSource::PlatformCalendar,
                tiers: None,
                capacity_price_per_kw: None,
            },
            1 => TariffSpec {
                prices: vec![(Rate::Sharp, d("1.3013")), (Rate::Peak, d("1.1")), (Rate::Flat, d("0.6677")), (Rate::Valley, d("0.3311"))],
                periods: vec![
                    ("00:00".into(), "08:00".into(), Rate::Valley),
                    ("08:00".into(), "10:00".into(), Rate::Peak),
                    ("10:00".into(), "11:00".into(), Rate::Sharp),
                    ("11:00".into(), "24:00".into(), Rate::Flat),
                ],
                seasons: vec![],
                dates: vec![],
                source: TouSource::MeterRegisters,
                tiers: None,
                capacity_price_per_kw: None,
            },
            _ => TariffSpec {
                prices: vec![(Rate::Flat, d("0.55"))],
                periods: vec![],
                seasons: vec![],
                dates: vec![],
                source: TouSource::PlatformCalendar,
                tiers: Some((TierCycle::Monthly, vec![(Some(d("30")), d("0")), (Some(d("80")), d("0.05")), (None, d("0.3"))])),
                capacity_price_per_kw: None,
            },
        };
        Tariff::from_spec(&spec).unwrap()
    }

    fn tariffs(kind: u8) -> BTreeMap<&'static str, History> {
        BTreeMap::from([("t", History(vec![(start() - chrono::Duration::days(60), tariff(kind))]))])
    }

    fn thresholds() -> Thresholds {
        Thresholds { alarm1: 5_000, alarm2: 2_000, credit_limit: 1_000 }
    }

    fn world(balance: i64, first: Point) -> (Meters, Accounts) {
        let terms = MeterTerms { ratio: 3, jump_limit_kw: d("100"), tz: chrono_tz::Asia::Shanghai };
        let meters = BTreeMap::from([("m", MeterState { account: Some("a"), tariff: Some("t"), terms, cursor: Some(first) })]);
        let (state, wanted, _) = decide(balance, thresholds(), Control { hold: false, wanted: Relay::Closed });
        let account = AccountState {
            balance,
            carry: Decimal::ZERO,
            thresholds: thresholds(),
            control: Control { hold: false, wanted },
            state,
            cycle: CycleUse { key: "2026-11".into(), used: d("12.5") },
            open: true,
        };
        (meters, BTreeMap::from([("a", account)]))
    }

    /// Readings of one meter at increasing times with non-decreasing registers: the first is
    /// the cursor, the rest arrive. Steps stay well under the jump limit; all in one month.
    fn readings() -> impl Strategy<Value = Vec<Point>> {
        prop::collection::vec((1i64..=180, [0i64..=900, 0i64..=900, 0i64..=900, 0i64..=900]), 2..24).prop_map(|steps| {
            let mut at = start();
            let mut rates = [d("100.00"), d("200.00"), d("300.00"), d("400.00")];
            let mut out = Vec::new();
            for (i, (minutes, grow)) in steps.into_iter().enumerate() {
                if i > 0 {
                    at += chrono::Duration::minutes(minutes);
                    // At most 36 kWh in at least 31 minutes: under the 100 kW jump limit.
                    at += chrono::Duration::minutes(30);
                    for (r, g) in rates.iter_mut().zip(grow) {
                        *r += Decimal::new(g, 2);
                    }
                }
                let total = rates.iter().copied().sum();
                out.push(Point { at, registers: Registers { total, rates: rates.map(Some) } });
            }
            out
        })
    }

    /// The exact cost of the energy from `a` to `b`, priced as one interval on the account's
    /// starting cycle (the kernel's own `price`, applied once).
    fn exact_cost(kind: u8, a: &Point, b: &Point) -> Decimal {
        let (meters, accounts) = world(0, *a);
        let t = tariff(kind);
        price(&t, &meters["m"].terms, a, b, &accounts["a"].cycle).unwrap().cost
    }

    fn arrivals(points: &[Point]) -> Vec<Arrival<&'static str>> {
        points.iter().map(|p| Arrival { meter: "m", point: *p }).collect()
    }

    /// Posted fen plus the final carry, in yuan: what the account was charged, exactly.
    fn charged(before: i64, acc: &AccountState) -> Decimal {
        yuan(before - acc.balance) + acc.carry
    }

    proptest! {
        /// The arrival order inside a batch does not matter.
        #[test]
        fn the_order_inside_a_batch_changes_nothing(points in readings(), kind in 0u8..3, seed in any::<u64>()) {
            let (mut m1, mut a1) = world(10_000, points[0]);
            let sorted = settle_batch(arrivals(&points[1..]), &mut m1, &mut a1, &tariffs(kind));
            let mut shuffled = arrivals(&points[1..]);
            let n = shuffled.len();
            for i in 0..n {
                let j = (seed.rotate_left(i as u32) as usize).wrapping_add(i) % n;
                shuffled.swap(i, j);
            }
            let (mut m2, mut a2) = world(10_000, points[0]);
            let any = settle_batch(shuffled, &mut m2, &mut a2, &tariffs(kind));
            prop_assert_eq!(sorted, any);
            prop_assert_eq!(a1, a2);
        }

        /// Splitting the same readings into consecutive batches charges the same intervals,
        /// leaves the same balance, carry, cycle and cursor as one batch.
        #[test]
        fn splitting_a_batch_changes_nothing(points in readings(), kind in 0u8..3, cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4)) {
            let (mut m1, mut a1) = world(10_000, points[0]);
            let whole = settle_batch(arrivals(&points[1..]), &mut m1, &mut a1, &tariffs(kind));
            let rest = &points[1..];
            let mut at: Vec<usize> = cuts.iter().map(|c| c.index(rest.len() + 1)).collect();
            at.extend([0, rest.len()]);
            at.sort();
            let (mut m2, mut a2) = world(10_000, points[0]);
            let mut charges = Vec::new();
            for w in at.windows(2) {
                charges.extend(settle_batch(arrivals(&rest[w[0]..w[1]]), &mut m2, &mut a2, &tariffs(kind)).charges);
            }
            prop_assert_eq!(whole.charges, charges);
            prop_assert_eq!(a1, a2);
            prop_assert_eq!(m1["m"].cursor, m2["m"].cursor);
        }

        /// Whatever order readings arrive in, one by one, the account is charged exactly the
        /// energy from the first cursor to the latest reading: late ones change nothing, and
        /// whole fen plus carry equal the exact cost of that one interval.
        #[test]
        fn any_arrival_order_charges_the_same(points in readings(), kind in 0u8..3, order in any::<u64>()) {
            let (mut meters, mut accounts) = world(10_000, points[0]);
            let mut rest = arrivals(&points[1..]);
            let n = rest.len();
            for i in (1..n).rev() {
                rest.swap(i, (order.rotate_left(i as u32) as usize) % (i + 1));
            }
            let mut late = 0;
            for a in rest {
                late += settle_batch(vec![a], &mut meters, &mut accounts, &tariffs(kind)).late;
            }
            let last = points[points.len() - 1];
            prop_assert_eq!(meters["m"].cursor, Some(last));
            prop_assert_eq!(charged(10_000, &accounts["a"]), exact_cost(kind, &points[0], &last));
            prop_assert!(late < n);
        }

        /// A batch delivered again charges nothing and changes nothing.
        #[test]
        fn a_replayed_batch_changes_nothing(points in readings(), kind in 0u8..3) {
            let (mut meters, mut accounts) = world(10_000, points[0]);
            settle_batch(arrivals(&points[1..]), &mut meters, &mut accounts, &tariffs(kind));
            let (m, a) = (meters["m"].cursor, accounts.clone());
            let again = settle_batch(arrivals(&points[1..]), &mut meters, &mut accounts, &tariffs(kind));
            prop_assert!(again.charges.is_empty() && again.decisions.is_empty() && again.cursors.is_empty());
            prop_assert_eq!(again.late, points.len() - 1);
            prop_assert_eq!(meters["m"].cursor, m);
            prop_assert_eq!(accounts, a);
        }

        /// The balance moves by exactly the fen charged, and the relay follows the final balance.
        #[test]
        fn the_balance_moves_by_the_charges_and_the_relay_follows_it(points in readings(), kind in 0u8..3, balance in -2_000i64..8_000) {
            let (mut meters, mut accounts) = world(balance, points[0]);
            let plan = settle_batch(arrivals(&points[1..]), &mut meters, &mut accounts, &tariffs(kind));
            let acc = &accounts["a"];
            prop_assert_eq!(acc.balance, balance - plan.charges.iter().map(|c| c.fen).sum::<i64>());
            prop_assert!(acc.carry >= Decimal::ZERO && acc.carry < d("0.01"));
            let (state, wanted, _) = decide(acc.balance, thresholds(), Control { hold: false, wanted: acc.control.wanted });
            prop_assert_eq!((acc.state, acc.control.wanted), (state, wanted));
            let (_, initially, _) = decide(balance, thresholds(), Control { hold: false, wanted: Relay::Closed });
            prop_assert_eq!(plan.decisions.len(), usize::from(initially != wanted));
        }
    }

    #[test]
    fn a_reading_without_tariff_or_with_an_anomaly_is_held_and_the_cursor_waits() {
        let first = Point { at: start(), registers: Registers { total: d("10"), rates: [None; 4] } };
        let (mut meters, mut accounts) = world(10_000, first);
        let later = |h: i64, total: &str| Point {
            at: start() + chrono::Duration::hours(h),
            registers: Registers { total: d(total), rates: [None; 4] },
        };
        let none: BTreeMap<&str, History> = BTreeMap::new();
        let plan = settle_batch(arrivals(&[later(1, "12")]), &mut meters, &mut accounts, &none);
        assert_eq!(plan.held.iter().map(|h| h.why.kind()).collect::<Vec<_>>(), ["NO_TARIFF"]);
        assert!(plan.cursors.is_empty() && plan.touched.is_empty());
        let plan = settle_batch(arrivals(&[later(2, "9"), later(3, "500")]), &mut meters, &mut accounts, &tariffs(0));
        assert_eq!(plan.held.iter().map(|h| h.why.kind()).collect::<Vec<_>>(), ["REGISTER_BACKWARDS", "IMPOSSIBLE_JUMP"]);
        assert_eq!(meters["m"].cursor, Some(first));
        // Resolved: the next good reading is priced from the same cursor.
        let plan = settle_batch(arrivals(&[later(4, "14")]), &mut meters, &mut accounts, &tariffs(0));
        assert_eq!(plan.charges.len(), 1);
        assert_eq!(plan.charges[0].from, start());
        // 4 kWh × ratio 3 × 0.8537 = 10.2444 → 1024 fen, carry 0.0044.
        assert_eq!((plan.charges[0].fen, accounts["a"].carry), (1024, d("0.0044")));
    }

    #[test]
    fn a_closed_account_or_an_unmetered_meter_moves_the_cursor_without_a_charge() {
        let first = Point { at: start(), registers: Registers { total: d("10"), rates: [None; 4] } };
        let (mut meters, mut accounts) = world(10_000, first);
        accounts.get_mut("a").unwrap().open = false;
        let next = Point { at: start() + chrono::Duration::hours(1), registers: Registers { total: d("11"), rates: [None; 4] } };
        let plan = settle_batch(arrivals(&[next]), &mut meters, &mut accounts, &tariffs(0));
        assert!(plan.charges.is_empty() && plan.touched.is_empty());
        assert_eq!(plan.cursors.get("m"), Some(&next));
        // A meter seen for the first time takes its first reading as the cursor.
        meters.get_mut("m").unwrap().cursor = None;
        let plan = settle_batch(arrivals(&[first]), &mut meters, &mut accounts, &tariffs(0));
        assert_eq!(plan.cursors.get("m"), Some(&first));
    }

    #[test]
    fn falling_through_the_thresholds_enters_each_state_and_trips_once() {
        let first = Point { at: start(), registers: Registers { total: d("0"), rates: [None; 4] } };
        let (mut meters, mut accounts) = world(6_000, first);
        // 30 kWh × 3 × 0.8537 = 76.833 yuan: from 60.00 to -16.84 (below the -10.00 credit limit).
        let next = Point { at: start() + chrono::Duration::hours(2), registers: Registers { total: d("30"), rates: [None; 4] } };
        let plan = settle_batch(arrivals(&[next]), &mut meters, &mut accounts, &tariffs(0));
        assert_eq!(accounts["a"].balance, 6_000 - 7_683);
        assert_eq!(plan.entered, vec![("a", vec![BalanceState::Low1, BalanceState::Low2, BalanceState::Arrears, BalanceState::Exhausted])]);
        assert_eq!(plan.decisions.iter().map(|x| x.decision).collect::<Vec<_>>(), [Decision::Trip]);
        assert_eq!(plan.decisions[0].reason, "balance -16.83 after settlement");
    }
}
