//! Reconciliation: a day's trade bill from each channel (WeChat Pay's CSV, Alipay's archive)
//! against the orders and refunds we hold; every difference kept for an operator to resolve.

use super::wechatpay::nonce_str;
use super::*;
use std::collections::{HashMap, HashSet};
use store::{OrderRow, RefundRow};

/// One row of a channel's trade bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillRecord {
    /// The sub-merchant (WeChat Pay partner bills; empty otherwise).
    pub sub_mchid: String,
    pub transaction_id: String,
    pub out_trade_no: String,
    /// SUCCESS, REFUND, …
    pub state: String,
    /// 应结订单金额, fen.
    pub amount: i64,
    pub out_refund_no: String,
    /// 退款金额, fen.
    pub refund: i64,
}

pub fn yuan_to_fen(text: &str) -> Result<i64, String> {
    use rust_decimal::prelude::ToPrimitive;
    let d: rust_decimal::Decimal = text.trim().parse().map_err(|_| format!("not an amount: {text}"))?;
    let fen = d * rust_decimal::Decimal::from(100);
    if !fen.fract().is_zero() {
        return Err(format!("more than 2 decimals: {text}"));
    }
    fen.to_i64().ok_or_else(|| format!("out of range: {text}"))
}

/// Parses a trade bill (payments.md §2.7): optional BOM, a header line, detail rows whose
/// every field starts with a backtick, then the summary header and row. Amounts in yuan.
pub fn parse_trade_bill(text: &str) -> Result<Vec<BillRecord>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    lines.next().ok_or("empty bill")?;
    let mut out = Vec::new();
    for (n, line) in lines.enumerate() {
        if line.starts_with("总交易单数") {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(|c| c.trim().trim_start_matches('`')).collect();
        if f.len() < 27 {
            return Err(format!("row {}: {} fields, expected 27", n + 2, f.len()));
        }
        let at = |i: usize| f.get(i).copied().unwrap_or("");
        let refund = if at(16).is_empty() { 0 } else { yuan_to_fen(at(16))? };
        out.push(BillRecord {
            sub_mchid: at(3).into(),
            transaction_id: at(5).into(),
            out_trade_no: at(6).into(),
            state: at(9).into(),
            amount: yuan_to_fen(at(12))?,
            out_refund_no: at(15).into(),
            refund,
        });
    }
    Ok(out)
}

/// `GET /v3/bill/tradebill` then the file: the bill of one merchant (partner: of one
/// sub-merchant) for one day, its SHA1 checked against the signed answer (the file itself is
/// not signed).
pub async fn trade_bill(m: &Merchant, sub_mchid: &str, date: chrono::NaiveDate) -> Result<Vec<BillRecord>, PayError> {
    use sha1::Digest;
    let mut path = format!("/v3/bill/tradebill?bill_date={}&bill_type=ALL", date.format("%Y-%m-%d"));
    if m.mode == Mode::Partner {
        path += &format!("&sub_mchid={sub_mchid}");
    }
    let body = m.call("GET", &path, None).await?;
    let meta: serde_json::Value = serde_json::from_slice(&body).map_err(|e| PayError::Protocol(e.to_string()))?;
    let url = meta["download_url"].as_str().ok_or_else(|| PayError::Protocol("no download_url".into()))?;
    let expected = meta["hash_value"].as_str().unwrap_or("").to_lowercase();
    if meta["hash_type"].as_str() != Some("SHA1") {
        return Err(PayError::Protocol("unknown hash_type".into()));
    }
    let file_path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
        .ok_or_else(|| PayError::Protocol("bad download_url".into()))?;
    let now = chrono::Utc::now().timestamp();
    let auth = m.signer.authorization("GET", &file_path, b"", now, &nonce_str()).map_err(PayError::Untrusted)?;
    let file = http_client()?
        .get(url)
        .header("Authorization", auth)
        .send()
        .await
        .map_err(|e| PayError::Transport(e.without_url().to_string()))?
        .bytes()
        .await
        .map_err(|e| PayError::Transport(e.without_url().to_string()))?;
    if hex::encode(sha1::Sha1::digest(&file)) != expected {
        return Err(PayError::Protocol("the bill file does not match its SHA1".into()));
    }
    parse_trade_bill(&String::from_utf8_lossy(&file)).map_err(PayError::Protocol)
}

/// One difference between WeChat's bill and our records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discrepancy {
    /// Payments: MISSING_CREDIT (paid at the channel, not credited here), UNKNOWN_ORDER (not
    /// ours), MISSING_IN_BILL (credited here, absent from the bill), AMOUNT_MISMATCH,
    /// NOT_IN_LEDGER. Refunds (`out_trade_no` names the refunded order): REFUND_UNKNOWN (not
    /// ours), REFUND_NOT_RECORDED (refunded at the channel, not finished here),
    /// REFUND_MISSING_IN_BILL, REFUND_AMOUNT_MISMATCH.
    pub kind: &'static str,
    pub out_trade_no: String,
    pub ours: Option<i64>,
    pub theirs: Option<i64>,
}

/// Reconciles one payee's day on every channel it takes payments on (WeChat Pay, Alipay) and
/// keeps one result for the day.
pub async fn reconcile_payee(
    t: &store::TenantStore,
    payee: &store::PayeeRow,
    date: chrono::NaiveDate,
) -> Result<store::ReconciliationRow, String> {
    let mut bills: Vec<(&str, Vec<BillRecord>)> = Vec::new();
    let mut unconfigured = Vec::new();
    match merchant_for_payee(t, payee).await {
        Ok((m, _)) => {
            let bill =
                trade_bill(&m, &payee.sub_mchid, date).await.map_err(|e| format!("the WeChat Pay bill could not be fetched: {e}"))?;
            bills.push(("WECHAT", bill));
        }
        Err(e) => unconfigured.push(e.to_string()),
    }
    match alipay::App::of_payee(t, &payee.id).await {
        Ok(app) => {
            let bill = alipay::trade_bill(&app, date).await.map_err(|e| format!("the Alipay bill could not be fetched: {e}"))?;
            bills.push(("ALIPAY", bill));
        }
        Err(e) => unconfigured.push(e.to_string()),
    }
    if bills.is_empty() {
        return Err(format!("no channel to reconcile: {}", unconfigured.join("; ")));
    }
    let tz: chrono_tz::Tz = t.tenant_row().await.map_err(|e| e.to_string())?.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let next = date.succ_opt().ok_or("date out of range")?;
    let (from, to) = (domain::billing::local_instant(tz, date, 0), domain::billing::local_instant(tz, next, 0));
    let paid_that_day = t.paid_orders_of_payee(&payee.id, from, to).await.map_err(|e| e.to_string())?;
    let mut refunded_that_day = Vec::new();
    for r in t.refunds_of_payee(&payee.id, from, to).await.map_err(|e| e.to_string())? {
        if let Some(o) = t.order_by_id(&r.order_id).await.map_err(|e| e.to_string())? {
            refunded_that_day.push((o.channel, o.out_trade_no, r));
        }
    }
    let (mut bill_rows, mut matched, mut found) = (0, 0, Vec::new());
    for (channel, bill) in bills {
        let paid: Vec<OrderRow> = paid_that_day.iter().filter(|o| o.channel.starts_with(channel)).cloned().collect();
        let mut known = paid.clone();
        let mut seen: HashSet<String> = paid.iter().map(|o| o.out_trade_no.clone()).collect();
        for r in &bill {
            if seen.insert(r.out_trade_no.clone())
                && let Some(o) = t.order_by_trade_no(&r.out_trade_no).await.map_err(|e| e.to_string())?
            {
                known.push(o);
            }
        }
        let (m, f) = reconcile(&bill, &paid, &known);
        bill_rows += bill.len();
        matched += m;
        found.extend(f);
        let refunded: Vec<(String, RefundRow)> =
            refunded_that_day.iter().filter(|(c, _, _)| c.starts_with(channel)).map(|(_, no, r)| (no.clone(), r.clone())).collect();
        let mut known: Vec<RefundRow> = refunded.iter().map(|(_, r)| r.clone()).collect();
        let mut seen: HashSet<String> = known.iter().map(|k| k.out_refund_no.clone()).collect();
        for r in bill.iter().filter(|r| r.state == "REFUND") {
            if seen.insert(r.out_refund_no.clone())
                && let Some(k) = t.refund_by_no(&r.out_refund_no).await.map_err(|e| e.to_string())?
            {
                known.push(k);
            }
        }
        let (m, f) = reconcile_refunds(&bill, &refunded, &known);
        matched += m;
        found.extend(f);
    }
    let row = store::ReconciliationRow {
        payee_id: payee.id.clone(),
        bill_date: date,
        ran_at: chrono::Utc::now(),
        bill_rows: bill_rows as i64,
        matched: matched as i64,
        discrepancies: found.into_iter().map(|d| (d.kind.to_string(), d.out_trade_no, d.ours, d.theirs)).collect(),
    };
    t.save_reconciliation(&row).await.map_err(|e| e.to_string())?;
    Ok(row)
}

/// The daily pass: after 10:30 in each tenant's time, every payee's yesterday is reconciled
/// once (WeChat publishes the previous day's bill from 10:00); failures are retried on the
/// next pass.
pub async fn reconcile_yesterday(store: &store::Store, now: chrono::DateTime<chrono::Utc>) -> Result<usize, store::StoreError> {
    let mut done = 0;
    for tenant in store.platform().tenants().await?.into_iter().filter(|t| t.status == "ACTIVE") {
        let tz: chrono_tz::Tz = tenant.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
        let local = now.with_timezone(&tz);
        if local.time() < chrono::NaiveTime::from_hms_opt(10, 30, 0).unwrap_or_default() {
            continue;
        }
        let Some(yesterday) = local.date_naive().pred_opt() else { continue };
        let t = store.tenant(tenant.id.clone());
        let done_already = t.reconciliations(None, 1000).await?;
        for payee in t.payees().await? {
            if done_already.iter().any(|r| r.payee_id == payee.id && r.bill_date == yesterday) {
                continue;
            }
            if merchant_for_payee(&t, &payee).await.is_err() && alipay::App::of_payee(&t, &payee.id).await.is_err() {
                tracing::debug!(payee = %payee.name, "no payment channel to reconcile");
                continue;
            }
            match reconcile_payee(&t, &payee, yesterday).await {
                Ok(r) => {
                    done += 1;
                    if !r.discrepancies.is_empty() {
                        tracing::warn!(tenant = %tenant.slug, payee = %payee.name, date = %yesterday, differences = r.discrepancies.len(), "reconciliation found differences");
                    }
                }
                Err(e) => {
                    tracing::warn!(tenant = %tenant.slug, payee = %payee.name, cause = %e, "reconciliation failed; retried next pass")
                }
            }
        }
    }
    Ok(done)
}

/// Compares a day's bill (successful payments) with our orders paid that day for the payee.
pub fn reconcile(bill: &[BillRecord], ours_paid: &[OrderRow], ours_all: &[OrderRow]) -> (usize, Vec<Discrepancy>) {
    let mut out = Vec::new();
    let mut matched = 0;
    let paid: Vec<&BillRecord> = bill.iter().filter(|r| r.state == "SUCCESS").collect();
    let mut ours: HashMap<&str, &OrderRow> = HashMap::with_capacity(ours_all.len());
    for o in ours_all {
        ours.entry(o.out_trade_no.as_str()).or_insert(o);
    }
    for r in &paid {
        match ours.get(r.out_trade_no.as_str()) {
            None => {
                out.push(Discrepancy { kind: "UNKNOWN_ORDER", out_trade_no: r.out_trade_no.clone(), ours: None, theirs: Some(r.amount) })
            }
            Some(o) if o.state != "PAID" => {
                out.push(Discrepancy { kind: "MISSING_CREDIT", out_trade_no: r.out_trade_no.clone(), ours: None, theirs: Some(r.amount) })
            }
            Some(o) if o.amount_x100 != r.amount => out.push(Discrepancy {
                kind: "AMOUNT_MISMATCH",
                out_trade_no: r.out_trade_no.clone(),
                ours: Some(o.amount_x100),
                theirs: Some(r.amount),
            }),
            Some(o) if o.entry_id.is_none() => out.push(Discrepancy {
                kind: "NOT_IN_LEDGER",
                out_trade_no: r.out_trade_no.clone(),
                ours: Some(o.amount_x100),
                theirs: Some(r.amount),
            }),
            Some(_) => matched += 1,
        }
    }
    let billed: HashSet<&str> = paid.iter().map(|r| r.out_trade_no.as_str()).collect();
    for o in ours_paid {
        if !billed.contains(o.out_trade_no.as_str()) {
            out.push(Discrepancy {
                kind: "MISSING_IN_BILL",
                out_trade_no: o.out_trade_no.clone(),
                ours: Some(o.amount_x100),
                theirs: None,
            });
        }
    }
    (matched, out)
}

/// Compares a day's refund rows with our refunds that succeeded that day (`ours_day`, with
/// their orders' numbers); `known` also holds our other refunds the bill names.
pub fn reconcile_refunds(bill: &[BillRecord], ours_day: &[(String, RefundRow)], known: &[RefundRow]) -> (usize, Vec<Discrepancy>) {
    let mut out = Vec::new();
    let mut matched = 0;
    let billed: Vec<&BillRecord> = bill.iter().filter(|r| r.state == "REFUND").collect();
    let mut ours: HashMap<&str, &RefundRow> = HashMap::with_capacity(known.len());
    for k in known {
        ours.entry(k.out_refund_no.as_str()).or_insert(k);
    }
    for r in &billed {
        let difference = |kind, ours: Option<i64>| Discrepancy { kind, out_trade_no: r.out_trade_no.clone(), ours, theirs: Some(r.refund) };
        match ours.get(r.out_refund_no.as_str()) {
            None => out.push(difference("REFUND_UNKNOWN", None)),
            Some(k) if k.state != "SUCCESS" => out.push(difference("REFUND_NOT_RECORDED", Some(k.amount_x100))),
            Some(k) if k.amount_x100 != r.refund => out.push(difference("REFUND_AMOUNT_MISMATCH", Some(k.amount_x100))),
            Some(_) => matched += 1,
        }
    }
    let billed: HashSet<&str> = billed.iter().map(|r| r.out_refund_no.as_str()).collect();
    for (order, k) in ours_day.iter().filter(|(_, k)| !billed.contains(k.out_refund_no.as_str())) {
        out.push(Discrepancy { kind: "REFUND_MISSING_IN_BILL", out_trade_no: order.clone(), ours: Some(k.amount_x100), theirs: None });
    }
    (matched, out)
}
