//! Reconciliation benchmark: a payee's day of N payments (and a refund for every tenth) as a
//! WeChat Pay trade bill, parsed and compared with our orders and refunds.

use std::time::Instant;

use chrono::Utc;

use crate::pay::{BillRecord, parse_trade_bill, reconcile, reconcile_refunds};
use crate::store::{OrderRow, RefundRow};

/// Differences planted in the bill: one amount changed, one payment left out, one payment
/// that is not ours.
const PLANTED: usize = 3;

fn order(n: usize) -> OrderRow {
    let now = Utc::now();
    OrderRow {
        tenant_id: "bench".into(),
        id: format!("order-{n}"),
        out_trade_no: format!("VL{n:020}"),
        account_id: format!("account-{}", n % 5_000),
        payee_id: "payee".into(),
        channel: "WECHAT".into(),
        amount_x100: 1_000 + (n as i64 % 90_000),
        openid: format!("openid-{n}"),
        app_id: "wx0000000000000001".into(),
        sub_mchid: "1900000109".into(),
        prepay_id: None,
        state: "PAID".into(),
        transaction_id: Some(format!("4200{n:024}")),
        entry_id: Some(format!("entry-{n}")),
        created_at: now,
        expires_at: now,
        paid_at: Some(now),
        bill_id: None,
    }
}

fn refund(n: usize, o: &OrderRow) -> RefundRow {
    RefundRow {
        tenant_id: "bench".into(),
        id: format!("refund-{n}"),
        order_id: o.id.clone(),
        out_refund_no: format!("RF{n:020}"),
        amount_x100: o.amount_x100 / 2,
        reason: String::new(),
        state: "SUCCESS".into(),
        refund_id: Some(format!("5030{n:024}")),
        entry_id: Some(format!("refund-entry-{n}")),
        reversal_entry_id: None,
        last_error: String::new(),
        created_at: Utc::now(),
        finished_at: Some(Utc::now()),
    }
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// One bill row in WeChat's layout: 27 fields, each behind a backtick.
fn bill_line(o: &OrderRow, state: &str, amount: i64, refund: Option<&RefundRow>) -> String {
    let (refund_id, refund_no, refunded) = match refund {
        Some(r) => (r.refund_id.clone().unwrap_or_default(), r.out_refund_no.clone(), yuan(r.amount_x100)),
        None => (String::new(), String::new(), "0.00".into()),
    };
    let fields = [
        "2026-11-22 10:00:00".to_string(),
        o.app_id.clone(),
        "1900000100".into(),
        o.sub_mchid.clone(),
        String::new(),
        o.transaction_id.clone().unwrap_or_default(),
        o.out_trade_no.clone(),
        o.openid.clone(),
        "JSAPI".into(),
        state.into(),
        "OTHERS".into(),
        "CNY".into(),
        yuan(amount),
        "0.00".into(),
        refund_id,
        refund_no,
        refunded.clone(),
        "0.00".into(),
        if refund.is_some() { "ORIGINAL".into() } else { String::new() },
        if refund.is_some() { "SUCCESS".into() } else { String::new() },
        "电费充值".into(),
        String::new(),
        "0.00".into(),
        "0.60%".into(),
        yuan(amount),
        refunded,
        String::new(),
    ];
    fields.iter().map(|f| format!("`{f}")).collect::<Vec<_>>().join(",")
}

pub fn reconcile_day(payments: usize) -> anyhow::Result<()> {
    anyhow::ensure!(payments >= 10, "at least 10 payments");
    let orders: Vec<OrderRow> = (0..payments).map(order).collect();
    let refunds: Vec<(String, RefundRow)> =
        orders.iter().enumerate().filter(|(n, _)| n % 10 == 0).map(|(n, o)| (o.out_trade_no.clone(), refund(n, o))).collect();
    let header = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
    let mut text = format!("\u{feff}{header}\r\n");
    for (n, o) in orders.iter().enumerate() {
        match n {
            1 => {} // left out of the bill
            2 => text += &(bill_line(o, "SUCCESS", o.amount_x100 + 1, None) + "\r\n"),
            _ => text += &(bill_line(o, "SUCCESS", o.amount_x100, None) + "\r\n"),
        }
    }
    text += &(bill_line(&order(payments), "SUCCESS", 5_000, None) + "\r\n"); // not ours
    for (o, (_, r)) in orders.iter().step_by(10).zip(&refunds) {
        text += &(bill_line(o, "REFUND", o.amount_x100, Some(r)) + "\r\n");
    }
    text += "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n`0,`0.00,`0.00,`0.00,`0.00000,`0.00,`0.00\r\n";

    let started = Instant::now();
    let bill: Vec<BillRecord> = parse_trade_bill(&text).map_err(|e| anyhow::anyhow!(e))?;
    let parsed = started.elapsed();
    let started = Instant::now();
    let (matched, found) = reconcile(&bill, &orders, &orders);
    let known: Vec<RefundRow> = refunds.iter().map(|(_, r)| r.clone()).collect();
    let (refunds_matched, refunds_found) = reconcile_refunds(&bill, &refunds, &known);
    let compared = started.elapsed();
    anyhow::ensure!(found.len() == PLANTED && refunds_found.is_empty(), "found {found:?} {refunds_found:?}");
    println!(
        "reconcile: {} bill rows ({:.1} MB, {payments} payments, {} refunds) parsed in {:.1} ms, compared in {:.1} ms; \
         matched {}, differences {} (planted {PLANTED})",
        bill.len(),
        text.len() as f64 / 1e6,
        refunds.len(),
        parsed.as_secs_f64() * 1e3,
        compared.as_secs_f64() * 1e3,
        matched + refunds_matched,
        found.len() + refunds_found.len(),
    );
    Ok(())
}
