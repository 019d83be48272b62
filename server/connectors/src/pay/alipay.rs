//! Alipay, the second channel (payments.md §5): RSA2 request signing, verification of
//! Alipay's signed answers and notifications, and the trade calls a recharge needs —
//! `alipay.trade.precreate` (a QR code the payer scans or opens in Alipay),
//! `alipay.trade.wap.pay` (the mobile cashier a phone browser is sent to), query, close,
//! refund and refund query. Credentials belong to the payee (its own Alipay app).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::wechatpay::{KeyRing, MerchantSigner, WechatPayError};
use super::{BillRecord, NotifyRefusal, PayError, http_client};
use store::{OrderRow, PayeeCredentials, RefundRow, TenantStore};

/// The name Alipay's public key is kept under in a payee's verification keys.
pub const ALIPAY_KEY: &str = "alipay";

/// A payee's Alipay app: who signs our calls, the key that verifies Alipay.
pub struct App {
    pub app_id: String,
    /// The seller (收款支付宝账号 user id, 2088…) notifications must name.
    pub seller_id: String,
    signer: MerchantSigner,
    ring: KeyRing,
    pub gateway: String,
    pub notify_url: String,
}

impl App {
    pub fn new(c: &PayeeCredentials) -> Result<Self, PayError> {
        let config = |e: WechatPayError| PayError::Config(e.to_string());
        let mut ring = KeyRing::default();
        for (name, pem) in c.verify_keys.iter().filter(|(name, _)| name == ALIPAY_KEY) {
            ring.add_pem(name, pem).map_err(config)?;
        }
        Ok(Self {
            app_id: c.app_id.clone(),
            seller_id: c.merchant_id.clone(),
            signer: MerchantSigner::from_pem(&c.app_id, "", &c.private_key_pem).map_err(config)?,
            ring,
            gateway: c.api_base.clone(),
            notify_url: c.notify_url.clone(),
        })
    }

    pub async fn of_payee(t: &TenantStore, payee: &str) -> Result<Self, PayError> {
        let c = t
            .payee_credentials(payee, "ALIPAY")
            .await
            .map_err(|e| PayError::Config(e.to_string()))?
            .ok_or_else(|| PayError::Config("the payee has no Alipay app".into()))?;
        Self::new(&c)
    }

    /// Checks an RSA2 signature by Alipay over `content`.
    pub fn verify(&self, content: &str, sign: &str) -> Result<(), WechatPayError> {
        self.ring.verify_raw(ALIPAY_KEY, content.as_bytes(), sign)
    }
}

/// What both sides sign: every non-empty parameter but `sign` (and, in notifications,
/// `sign_type`), sorted by name, `name=value` joined with `&`, values as they are (no
/// encoding).
pub fn sign_content<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>, notification: bool) -> String {
    let mut kept: Vec<(&str, &str)> =
        params.into_iter().filter(|(k, v)| !v.is_empty() && *k != "sign" && !(notification && *k == "sign_type")).collect();
    kept.sort();
    kept.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// Alipay's times (`2026-11-27 10:00:00`, Beijing time).
pub fn beijing_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .ok()?
        .and_local_timezone(chrono_tz::Asia::Shanghai)
        .single()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// Fen as Alipay's yuan text (`12.30`).
pub fn yuan(fen: i64) -> String {
    format!("{}{}.{:02}", if fen < 0 { "-" } else { "" }, (fen / 100).abs(), (fen % 100).abs())
}

pub use super::yuan_to_fen;

/// Signs and posts one call to the gateway; returns the verified `…_response` node when
/// Alipay says `10000`, the refusal otherwise. An answer without Alipay's signature is not
/// trusted (gateway-level errors come unsigned: the caller cannot know what happened).
async fn call(app: &App, method: &str, biz: Value, with_notify: bool) -> Result<Value, PayError> {
    let timestamp = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M:%S").to_string();
    let mut params: Vec<(String, String)> = vec![
        ("app_id".into(), app.app_id.clone()),
        ("method".into(), method.into()),
        ("format".into(), "JSON".into()),
        ("charset".into(), "utf-8".into()),
        ("sign_type".into(), "RSA2".into()),
        ("timestamp".into(), timestamp),
        ("version".into(), "1.0".into()),
        ("biz_content".into(), biz.to_string()),
    ];
    if with_notify {
        params.push(("notify_url".into(), app.notify_url.clone()));
    }
    let content = sign_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), false);
    let sign = app.signer.sign(content.as_bytes()).map_err(PayError::Untrusted)?;
    params.push(("sign".into(), sign));
    let form = serde_urlencoded::to_string(&params).map_err(|e| PayError::Protocol(e.to_string()))?;
    let text = http_client()?
        .post(&app.gateway)
        .header("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
        .body(form)
        .send()
        .await
        .map_err(|e| PayError::Transport(e.without_url().to_string()))?
        .text()
        .await
        .map_err(|e| PayError::Transport(e.without_url().to_string()))?;
    let node = verified_node(app, method, &text)?;
    let code = node["code"].as_str().unwrap_or("");
    if code != "10000" {
        let pick = |a: &str, b: &str| node[a].as_str().or(node[b].as_str()).unwrap_or("").to_string();
        return Err(PayError::Refused { status: 200, code: pick("sub_code", "code"), message: pick("sub_msg", "msg") });
    }
    Ok(node)
}

/// The `alipay_trade_x_response` node of an answer, its signature checked over the node's
/// exact text.
pub fn verified_node(app: &App, method: &str, text: &str) -> Result<Value, PayError> {
    let name = format!("{}_response", method.replace('.', "_"));
    let parts: HashMap<String, &serde_json::value::RawValue> =
        serde_json::from_str(text).map_err(|e| PayError::Protocol(format!("answer is not JSON: {e}")))?;
    let Some(raw) = parts.get(&name) else {
        return Err(PayError::Protocol(format!(
            "no {name} in the answer (gateway error: {})",
            parts.get("error_response").map(|r| r.get()).unwrap_or("none")
        )));
    };
    let sign: String =
        parts.get("sign").and_then(|s| serde_json::from_str(s.get()).ok()).ok_or(PayError::Untrusted(WechatPayError::Header("sign")))?;
    app.verify(raw.get(), &sign).map_err(PayError::Untrusted)?;
    serde_json::from_str(raw.get()).map_err(|e| PayError::Protocol(e.to_string()))
}

/// `alipay.trade.precreate`: the QR code (an `https://qr.alipay.com/…` link) of a recharge.
pub async fn precreate(app: &App, order: &OrderRow, subject: &str) -> Result<String, PayError> {
    let timeout = order.expires_at.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M:%S").to_string();
    let biz = json!({"out_trade_no": order.out_trade_no, "total_amount": yuan(order.amount_x100),
        "subject": subject.chars().take(256).collect::<String>(), "time_expire": timeout});
    let node = call(app, "alipay.trade.precreate", biz, true).await?;
    if node["out_trade_no"].as_str() != Some(order.out_trade_no.as_str()) {
        return Err(PayError::Protocol("the answer names another order".into()));
    }
    node["qr_code"].as_str().map(str::to_string).ok_or_else(|| PayError::Protocol("no qr_code".into()))
}

/// `alipay.trade.wap.pay`: a page request, not a call — the signed gateway address the
/// payer's mobile browser is sent to (Alipay's cashier), which comes back to `return_url`
/// once paid. The payment is credited by the notification (or a query) as for every order;
/// the return only brings the payer back.
pub fn wap_pay_url(app: &App, order: &OrderRow, subject: &str, return_url: &str) -> Result<String, PayError> {
    let timestamp = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M:%S").to_string();
    let timeout = order.expires_at.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M:%S").to_string();
    let biz = json!({"out_trade_no": order.out_trade_no, "total_amount": yuan(order.amount_x100),
        "subject": subject.chars().take(256).collect::<String>(), "product_code": "QUICK_WAP_WAY",
        "time_expire": timeout, "quit_url": return_url});
    let mut params: Vec<(String, String)> = vec![
        ("app_id".into(), app.app_id.clone()),
        ("method".into(), "alipay.trade.wap.pay".into()),
        ("format".into(), "JSON".into()),
        ("charset".into(), "utf-8".into()),
        ("sign_type".into(), "RSA2".into()),
        ("timestamp".into(), timestamp),
        ("version".into(), "1.0".into()),
        ("notify_url".into(), app.notify_url.clone()),
        ("return_url".into(), return_url.into()),
        ("biz_content".into(), biz.to_string()),
    ];
    let content = sign_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), false);
    let sign = app.signer.sign(content.as_bytes()).map_err(PayError::Untrusted)?;
    params.push(("sign".into(), sign));
    let query = serde_urlencoded::to_string(&params).map_err(|e| PayError::Protocol(e.to_string()))?;
    let sep = if app.gateway.contains('?') { '&' } else { '?' };
    Ok(format!("{}{sep}{query}", app.gateway))
}

/// A trade as `alipay.trade.query` tells it.
#[derive(Debug, Clone, Deserialize)]
pub struct Trade {
    pub trade_no: Option<String>,
    /// When the payer paid (Beijing time).
    #[serde(default)]
    pub send_pay_date: Option<String>,
    pub trade_status: String,
    pub total_amount: String,
}

/// `alipay.trade.query`. A precreated trade nobody scanned does not exist at Alipay yet: it
/// is reported as waiting.
pub async fn query(app: &App, order: &OrderRow) -> Result<Trade, PayError> {
    match call(app, "alipay.trade.query", json!({"out_trade_no": order.out_trade_no}), false).await {
        Ok(node) => serde_json::from_value(node).map_err(|e| PayError::Protocol(e.to_string())),
        Err(PayError::Refused { code, .. }) if code == "ACQ.TRADE_NOT_EXIST" => {
            Ok(Trade { trade_no: None, send_pay_date: None, trade_status: "WAIT_BUYER_PAY".into(), total_amount: yuan(order.amount_x100) })
        }
        Err(e) => Err(e),
    }
}

/// `alipay.trade.close` (a trade never scanned needs no closing).
pub async fn close(app: &App, order: &OrderRow) -> Result<(), PayError> {
    match call(app, "alipay.trade.close", json!({"out_trade_no": order.out_trade_no}), false).await {
        Ok(_) => Ok(()),
        Err(PayError::Refused { code, .. }) if code == "ACQ.TRADE_NOT_EXIST" => Ok(()),
        Err(e) => Err(e),
    }
}

/// `alipay.trade.refund`: synchronous; `10000` means refunded (a repeated request with the
/// same `out_request_no` answers the same without moving money twice).
pub async fn refund(app: &App, order: &OrderRow, refund: &RefundRow) -> Result<(), PayError> {
    let biz = json!({"out_trade_no": order.out_trade_no, "refund_amount": yuan(refund.amount_x100),
        "out_request_no": refund.out_refund_no, "refund_reason": refund.reason.chars().take(80).collect::<String>()});
    call(app, "alipay.trade.refund", biz, false).await.map(|_| ())
}

/// `alipay.trade.fastpay.refund.query`: whether the refund was made (`REFUND_SUCCESS`).
pub async fn query_refund(app: &App, order: &OrderRow, refund: &RefundRow) -> Result<bool, PayError> {
    let biz = json!({"out_trade_no": order.out_trade_no, "out_request_no": refund.out_refund_no});
    let node = call(app, "alipay.trade.fastpay.refund.query", biz, false).await?;
    Ok(node["refund_status"].as_str() == Some("REFUND_SUCCESS"))
}

/// `alipay.data.dataservice.bill.downloadurl.query` then the file: the app's trade bill of
/// one day. The download link arrives in Alipay's signed answer and is short-lived; the file
/// itself is not signed.
pub async fn trade_bill(app: &App, date: chrono::NaiveDate) -> Result<Vec<BillRecord>, PayError> {
    let biz = json!({"bill_type": "trade", "bill_date": date.format("%Y-%m-%d").to_string()});
    let node = call(app, "alipay.data.dataservice.bill.downloadurl.query", biz, false).await?;
    let url = node["bill_download_url"].as_str().ok_or_else(|| PayError::Protocol("no bill_download_url".into()))?;
    let answer = http_client()?.get(url).send().await.map_err(|e| PayError::Transport(e.without_url().to_string()))?;
    if !answer.status().is_success() {
        return Err(PayError::Transport(format!("the bill download answered {}", answer.status())));
    }
    let file = answer.bytes().await.map_err(|e| PayError::Transport(e.without_url().to_string()))?;
    parse_bill_zip(&file).map_err(PayError::Protocol)
}

/// The bill archive: a zip holding `…_业务明细.csv` (the details) and `…_业务明细(汇总).csv`
/// (the totals), both GBK; entry names may be GBK too.
pub fn parse_bill_zip(bytes: &[u8]) -> Result<Vec<BillRecord>, String> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| format!("the bill is not a zip archive: {e}"))?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| format!("bill archive entry {i}: {e}"))?;
        let name = match std::str::from_utf8(entry.name_raw()) {
            Ok(n) => n.to_string(),
            Err(_) => encoding_rs::GBK.decode(entry.name_raw()).0.into_owned(),
        };
        if !name.ends_with("业务明细.csv") {
            continue;
        }
        const LIMIT: u64 = 256 * 1024 * 1024;
        let mut raw = Vec::new();
        (&mut entry).take(LIMIT + 1).read_to_end(&mut raw).map_err(|e| format!("{name}: {e}"))?;
        if raw.len() as u64 > LIMIT {
            return Err(format!("{name}: larger than {LIMIT} bytes"));
        }
        let (text, _, bad) = encoding_rs::GBK.decode(&raw);
        if bad {
            return Err(format!("{name}: not GBK text"));
        }
        return parse_trade_bill(&text);
    }
    Err("the bill archive has no 业务明细.csv".into())
}

/// The details file: `#` comment lines around a header row (`支付宝交易号,商户订单号,业务类型,…`)
/// and one row per business, every field padded with spaces or tabs. 业务类型 交易 is a payment
/// (订单金额 in yuan), 退款 a refund (a negative 订单金额, 退款批次号/请求号 naming it).
pub fn parse_trade_bill(text: &str) -> Result<Vec<BillRecord>, String> {
    const FIELDS: usize = 22;
    let mut out = Vec::new();
    let mut in_details = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start_matches('\u{feff}');
        if line.starts_with('#') {
            if in_details {
                break;
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(|c| c.trim_matches(|ch: char| ch.is_whitespace())).collect();
        if !in_details {
            if f.first() != Some(&"支付宝交易号") {
                return Err(format!("line {}: expected the header row", n + 1));
            }
            in_details = true;
            continue;
        }
        if f.len() < FIELDS {
            return Err(format!("line {}: {} fields, expected at least {FIELDS}", n + 1, f.len()));
        }
        let at = |i: usize| f.get(i).copied().unwrap_or("");
        let amount = yuan_to_fen(at(11)).map_err(|e| format!("line {}: {e}", n + 1))?;
        let (state, amount, out_refund_no, refund) = match at(2) {
            "交易" => ("SUCCESS", amount, String::new(), 0),
            "退款" => ("REFUND", 0, at(21).to_string(), -amount),
            other => (other, 0, String::new(), 0),
        };
        out.push(BillRecord {
            sub_mchid: String::new(),
            transaction_id: at(0).into(),
            out_trade_no: at(1).into(),
            state: state.into(),
            amount,
            out_refund_no,
            refund,
        });
    }
    if !in_details {
        return Err("no details in the bill".into());
    }
    Ok(out)
}

/// Verifies an asynchronous notification (form parameters as received, decoded): Alipay's
/// RSA2 signature over every parameter but `sign` and `sign_type`.
pub fn verify_notification(app: &App, params: &[(String, String)]) -> Result<(), NotifyRefusal> {
    if params.iter().any(|(k, v)| k == "sign_type" && v != "RSA2") {
        return Err(NotifyRefusal::Signature(WechatPayError::Header("sign_type")));
    }
    let sign = params.iter().find(|(k, _)| k == "sign").map(|(_, v)| v.as_str()).unwrap_or("");
    let content = sign_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), true);
    app.verify(&content, sign).map_err(NotifyRefusal::Signature)
}

/// The business checks of a verified notification against its order: our app, our seller,
/// the ordered amount. `Some(trade_no)` when it reports the trade paid, `None` for other
/// statuses (acknowledged, nothing to do).
pub fn check_notification(app: &App, order: &OrderRow, params: &[(String, String)]) -> Result<Option<String>, NotifyRefusal> {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("");
    let wrong = |what: &str| Err(NotifyRefusal::Mismatch(format!("{what} does not match the order")));
    if get("app_id") != app.app_id || order.app_id != app.app_id {
        return wrong("app_id");
    }
    if get("seller_id") != app.seller_id {
        return wrong("seller_id");
    }
    if get("out_trade_no") != order.out_trade_no {
        return wrong("out_trade_no");
    }
    match yuan_to_fen(get("total_amount")) {
        Ok(fen) if fen == order.amount_x100 => {}
        _ => return wrong("total_amount"),
    }
    let trade_no = get("trade_no");
    if trade_no.is_empty() {
        return Err(NotifyRefusal::Malformed("no trade_no".into()));
    }
    Ok(matches!(get("trade_status"), "TRADE_SUCCESS" | "TRADE_FINISHED").then(|| trade_no.to_string()))
}

/// Wraps a bare Base64 key (as Alipay's key tool prints it) in PEM armour.
pub fn pem_armour(text: &str, label: &str) -> String {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return text.to_string();
    }
    let body: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let lines: Vec<String> = body.as_bytes().chunks(64).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_bill_archive_made_by_python_parses_names_and_text_in_gbk() {
        let bill = parse_bill_zip(include_bytes!("../../testdata/alipay_bill.zip")).unwrap();
        assert_eq!(bill.len(), 2);
        assert_eq!(
            (bill[0].transaction_id.as_str(), bill[0].out_trade_no.as_str(), bill[0].state.as_str(), bill[0].amount),
            ("2026120122001400001", "VLA1", "SUCCESS", 4250)
        );
        assert_eq!((bill[1].state.as_str(), bill[1].refund, bill[1].out_refund_no.as_str()), ("REFUND", 1250, "RF1"));
    }

    #[test]
    fn bad_bills_are_refused_with_a_reason() {
        assert!(parse_bill_zip(b"PK not really").unwrap_err().contains("not a zip"));
        let header = "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）";
        let fields = |amount: &str| {
            let mut f = vec!["2026120122001400001", "VLA1", "交易"];
            f.extend(std::iter::repeat_n("", 8));
            f.push(amount);
            f.extend(std::iter::repeat_n("", 13));
            f.join(",")
        };
        assert_eq!(parse_trade_bill(&format!("#明细\n{header}\n{}\n#结束\n", fields("30.00"))).unwrap()[0].amount, 3000);
        assert!(parse_trade_bill(&format!("{header}\n{}\n", fields("30.001"))).unwrap_err().contains("line 2"));
        assert!(parse_trade_bill(&format!("{header}\nVLA1,交易,30.00\n")).unwrap_err().contains("fields"));
        assert!(parse_trade_bill("#明细\n2026,VLA1\n").unwrap_err().contains("header"));
        assert!(parse_trade_bill("#明细\n#结束\n").is_err(), "no header row at all");
    }

    #[test]
    fn the_signed_string_sorts_drops_empty_values_and_sign_and_in_notifications_sign_type() {
        let p = [("b", "2"), ("a", "1"), ("sign", "x"), ("sign_type", "RSA2"), ("c", ""), ("d", "a=b&c")];
        assert_eq!(sign_content(p, false), "a=1&b=2&d=a=b&c&sign_type=RSA2");
        assert_eq!(sign_content(p, true), "a=1&b=2&d=a=b&c");
    }

    #[test]
    fn yuan_text_is_exact() {
        assert_eq!(yuan(1230), "12.30");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan_to_fen("12.30").unwrap(), 1230);
        assert!(yuan_to_fen("12.301").is_err());
        assert!(yuan_to_fen("abc").is_err());
    }

    /// Our RSA2 signature over the sorted string verifies with the `openssl` CLI, and one the
    /// CLI made verifies with ours (the independent implementation of payments.md §6.1).
    #[test]
    fn rsa2_signatures_agree_with_openssl() {
        use std::process::Command;
        let dir = std::env::temp_dir().join(format!("vl-alipay-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let (private, public) = super::super::wechatpay::generate_key_pair().unwrap();
        std::fs::write(dir.join("key.pem"), &private).unwrap();
        std::fs::write(dir.join("pub.pem"), &public).unwrap();
        let content = sign_content(
            [
                ("app_id", "2021000000000001"),
                ("out_trade_no", "VL1"),
                ("total_amount", "30.00"),
                ("trade_status", "TRADE_SUCCESS"),
                ("subject", "电费"),
            ],
            true,
        );
        std::fs::write(dir.join("content"), &content).unwrap();
        let signer = MerchantSigner::from_pem("2021000000000001", "", &private).unwrap();
        let ours = signer.sign(content.as_bytes()).unwrap();
        std::fs::write(dir.join("sig.bin"), base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &ours).unwrap()).unwrap();
        let ok = Command::new("openssl")
            .args(["dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.bin", "content"])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(ok.status.success(), "openssl rejects our signature: {}", String::from_utf8_lossy(&ok.stdout));
        let theirs = Command::new("openssl").args(["dgst", "-sha256", "-sign", "key.pem", "content"]).current_dir(&dir).output().unwrap();
        let theirs = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, theirs.stdout);
        let creds = PayeeCredentials {
            channel: "ALIPAY".into(),
            app_id: "2021000000000001".into(),
            merchant_id: "2088000000000001".into(),
            serial: String::new(),
            private_key_pem: private.clone(),
            secret: String::new(),
            verify_keys: vec![(ALIPAY_KEY.into(), public.clone())],
            api_base: "http://127.0.0.1:9/gateway.do".into(),
            notify_url: "http://127.0.0.1:9/pay/alipay/notify".into(),
            updated_at: chrono::Utc::now(),
        };
        let app = App::new(&creds).unwrap();
        app.verify(&content, &theirs).unwrap();
        assert!(app.verify(&content.replace("30.00", "31.00"), &theirs).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bare_base64_keys_get_pem_armour() {
        let (_, public) = super::super::wechatpay::generate_key_pair().unwrap();
        let bare: String = public.lines().filter(|l| !l.starts_with("-----")).collect();
        let mut ring = KeyRing::default();
        ring.add_pem("k", &pem_armour(&bare, "PUBLIC KEY")).unwrap();
        assert_eq!(pem_armour(&public, "PUBLIC KEY"), public.trim());
    }
}
