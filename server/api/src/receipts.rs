//! Printable pages for customers: receipts and the price notice, rendered as self-contained
//! HTML (escaped, Chinese then English), apart from the resolvers that fetch their data.

use chrono::{DateTime, Utc};

use domain::ledger::yuan;
use store;

/// How charges are rounded, in the customer's words (receipts, price notices).
pub(crate) const ROUNDING_RULE: &str = "电费按分入账，不足一分的尾差结转至下次计费，入账金额与结转尾差之和始终等于精确电费。\
     Energy charges are posted in whole fen, rounded down; the remainder under one fen is carried to the next charge, \
     so what is posted plus what is carried always equals the exact cost.";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub(crate) fn receipt_html(
    company: &str,
    tz: chrono_tz::Tz,
    number: i64,
    account: &store::AccountRow,
    customer: &str,
    entries: &[store::EntryRow],
    total: i64,
) -> String {
    let rows: String = entries
        .iter()
        .map(|e| {
            let item = e.kind.label();
            format!("<tr><td>{}</td><td>{}</td><td class=n>{}</td></tr>", esc(item), esc(&e.note), yuan(e.amount_x100))
        })
        .collect();
    // The tenant's local time, with its offset.
    let at = entries.first().map(|e| e.created_at.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S (UTC%:z)").to_string()).unwrap_or_default();
    format!(
        "<!doctype html><html lang=zh><meta charset=utf-8><title>收据 {number:08}</title>\
         <style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}td,th{{padding:.3em .6em;border-bottom:1px solid #ccc}}.n{{text-align:right}}</style>\
         <h1>{} 收据 / Receipt</h1><p>No. {number:08} · {at}</p><p>户号 Account {} · {}</p>\
         <table><tr><th>项目 Item</th><th>说明 Note</th><th class=n>金额 Amount (元)</th></tr>{rows}\
         <tr><th colspan=2>合计 Total</th><th class=n>{}</th></tr></table><p>余额 Balance after: {} 元</p><p><small>{ROUNDING_RULE}</small></p></html>",
        esc(company),
        esc(&account.number),
        esc(customer),
        yuan(total),
        yuan(account.balance_x100)
    )
}

pub(crate) fn price_notice_html(
    company: &str,
    settings: &store::MoneySettings,
    tariffs: &[store::TariffRow],
    now: DateTime<Utc>,
) -> String {
    let mut body = String::new();
    for t in tariffs {
        let Some(v) = t.versions.iter().rev().find(|v| v.effective_from <= now).or(t.versions.last()) else { continue };
        body.push_str(&format!(
            "<h2>{}</h2><p>自 {} 起执行 / effective from</p><table>",
            esc(&t.name),
            v.effective_from.format("%Y-%m-%d %H:%M UTC")
        ));
        for (rate, price) in &v.spec.prices {
            body.push_str(&format!("<tr><td>{}</td><td class=n>{} 元/kWh</td></tr>", rate.as_str(), price));
        }
        body.push_str("</table>");
        if !v.spec.periods.is_empty() {
            let p: Vec<String> = v.spec.periods.iter().map(|(s, e, r)| format!("{s}–{e} {}", r.as_str())).collect();
            body.push_str(&format!("<p>时段 Periods: {}</p>", esc(&p.join(", "))));
        }
        if let Some((cycle, steps)) = &v.spec.tiers {
            let s: Vec<String> =
                steps.iter().map(|(up, add)| format!("{} +{add}", up.map_or("above".into(), |u| format!("≤{u} kWh")))).collect();
            body.push_str(&format!("<p>阶梯 Tiers ({cycle:?}): {}</p>", esc(&s.join("; "))));
        }
    }
    let rule = match settings.price_rule {
        Some(r) => format!(
            "<p>目录电价 Catalogue price {} 元/kWh; 上浮上限 cap {} 元/kWh ({}%).</p>",
            r.catalogue,
            r.cap().round_dp(6).normalize(),
            r.margin_percent
        ),
        None => String::new(),
    };
    format!(
        "<!doctype html><html lang=zh><meta charset=utf-8><title>电价公示</title>\
         <style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}td{{padding:.3em .6em}}.n{{text-align:right}}</style>\
         <h1>{} 电价公示 / Price notice</h1>{rule}{body}<p>{ROUNDING_RULE}</p><p>公示日期 Published {}</p></html>",
        esc(company),
        now.format("%Y-%m-%d")
    )
}
