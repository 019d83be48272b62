//! Notifications (F24): per-tenant SMS account (secret wrapped with the KEK), templates per
//! alarm kind, and the delivery log. An alarm raised once gives one message per recipient
//! (unique (alarm, recipient)); delivery waits out quiet hours, respects a per-recipient daily
//! limit, and retries with backoff.

use crate::ids::NewId;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::sql::{Args, stmt};
use super::{AlarmEvent, Result, StoreError, TenantStore};
use domain::ids::NotificationId;
use domain::sms::{Provider, SmsAccount};

/// What the tenant configures (the secret only goes in).
#[derive(Debug, Clone)]
pub struct NotificationSettings {
    pub provider: Provider,
    pub endpoint: String,
    pub access_key_id: String,
    pub sign_name: String,
    pub sdk_app_id: String,
    pub region: String,
    /// Operator phones for meter and gateway alarms.
    pub contacts: Vec<String>,
    /// Local minutes; messages wait from start to end (may run past midnight).
    pub quiet: Option<(u16, u16)>,
    pub daily_limit: i64,
}

#[derive(Debug, Clone)]
pub struct NotificationRow {
    pub id: String,
    /// SMS or WECHAT.
    pub channel: String,
    pub alarm_id: String,
    pub alarm_kind: String,
    pub recipient: String,
    pub template_code: String,
    pub params: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: String,
    pub provider_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

const SETTINGS: &str =
    "provider, endpoint, access_key_id, secret_wrapped, sign_name, sdk_app_id, region, contacts, quiet_start, quiet_end, daily_limit";

fn settings_row(r: &sea_orm::QueryResult) -> Result<(NotificationSettings, String)> {
    let provider: String = r.try_get("", "provider")?;
    let contacts: String = r.try_get("", "contacts")?;
    let q = |c| r.try_get::<Option<i64>>("", c).or_else(|_| r.try_get::<Option<i32>>("", c).map(|v| v.map(i64::from)));
    let quiet = match (q("quiet_start")?, q("quiet_end")?) {
        (Some(s), Some(e)) => Some((s as u16, e as u16)),
        _ => None,
    };
    Ok((
        NotificationSettings {
            provider: Provider::parse(&provider).ok_or_else(|| StoreError::Database(format!("unknown SMS provider {provider}")))?,
            endpoint: r.try_get("", "endpoint")?,
            access_key_id: r.try_get("", "access_key_id")?,
            sign_name: r.try_get("", "sign_name")?,
            sdk_app_id: r.try_get("", "sdk_app_id")?,
            region: r.try_get("", "region")?,
            contacts: contacts.split(',').filter(|c| !c.is_empty()).map(String::from).collect(),
            quiet,
            daily_limit: super::registry::int(r, "daily_limit")?,
        },
        r.try_get("", "secret_wrapped")?,
    ))
}

fn notification_row(r: &sea_orm::QueryResult) -> Result<NotificationRow> {
    Ok(NotificationRow {
        id: r.try_get("", "id")?,
        channel: r.try_get("", "channel")?,
        alarm_id: r.try_get("", "alarm_id")?,
        alarm_kind: r.try_get("", "alarm_kind")?,
        recipient: r.try_get("", "recipient")?,
        template_code: r.try_get("", "template_code")?,
        params: r.try_get("", "params")?,
        status: r.try_get("", "status")?,
        attempts: super::registry::int(r, "attempts")?,
        last_error: r.try_get("", "last_error")?,
        provider_ref: r.try_get("", "provider_ref")?,
        created_at: r.try_get("", "created_at")?,
        next_attempt_at: r.try_get("", "next_attempt_at")?,
        sent_at: r.try_get("", "sent_at")?,
    })
}

const NOTIFICATION_COLUMNS: &str = "id, channel, alarm_id, alarm_kind, recipient, template_code, params, status, attempts, last_error, provider_ref, created_at, next_attempt_at, sent_at";

fn secret_aad(tenant: &str) -> String {
    format!("{tenant}/SMS_SECRET/1")
}

impl TenantStore {
    /// Sets the tenant's SMS account; the secret is stored wrapped with the KEK. Without a
    /// new secret the stored one stays.
    pub async fn set_notification_settings(&self, s: &NotificationSettings, secret: Option<&str>) -> Result<()> {
        let tenant = self.tenant.as_str();
        let wrapped = match secret {
            Some(secret) => self.store.kek()?.wrap(&secret_aad(tenant), secret.as_bytes())?,
            None => self
                .notification_settings()
                .await?
                .map(|(_, w)| w)
                .ok_or_else(|| StoreError::Conflict("give the access key secret".into()))?,
        };
        let (qs, qe) = match s.quiet {
            Some((a, b)) => (Some(i64::from(a)), Some(i64::from(b))),
            None => (None, None),
        };
        let sql = format!(
            "INSERT INTO notification_settings (tenant_id, {SETTINGS}, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (tenant_id) DO UPDATE SET provider = excluded.provider, endpoint = excluded.endpoint, access_key_id = excluded.access_key_id,
               secret_wrapped = excluded.secret_wrapped, sign_name = excluded.sign_name, sdk_app_id = excluded.sdk_app_id, region = excluded.region,
               contacts = excluded.contacts, quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, daily_limit = excluded.daily_limit,
               updated_at = excluded.updated_at"
        );
        let args = self
            .args()
            .s(s.provider.as_str())
            .s(&s.endpoint)
            .s(&s.access_key_id)
            .s(wrapped)
            .s(&s.sign_name)
            .s(&s.sdk_app_id)
            .s(&s.region)
            .s(s.contacts.join(","))
            .oi(qs)
            .oi(qe)
            .i(s.daily_limit)
            .t(Utc::now());
        self.db().execute_raw(stmt(self.backend(), &sql, args)).await?;
        Ok(())
    }

    /// The settings and the wrapped secret (never unwrapped here).
    pub async fn notification_settings(&self) -> Result<Option<(NotificationSettings, String)>> {
        let sql = format!("SELECT {SETTINGS} FROM notification_settings WHERE tenant_id = $1");
        let row = self.db().query_one_raw(stmt(self.backend(), &sql, self.args())).await?;
        row.as_ref().map(settings_row).transpose()
    }

    /// The tenant's SMS account with its secret unwrapped (for a test message sent now); `None`
    /// when no account is set up.
    pub async fn sms_account(&self) -> Result<Option<SmsAccount>> {
        let Some((s, wrapped)) = self.notification_settings().await? else { return Ok(None) };
        let secret = String::from_utf8(self.store.kek()?.unwrap(&secret_aad(self.tenant.as_str()), &wrapped)?)
            .map_err(|_| StoreError::Database("stored SMS secret is not text".into()))?;
        Ok(Some(SmsAccount {
            provider: s.provider,
            endpoint: s.endpoint,
            access_key_id: s.access_key_id,
            secret,
            sign_name: s.sign_name,
            sdk_app_id: s.sdk_app_id,
            region: s.region,
        }))
    }

    /// Sets (or with an empty code removes) the SMS template for an alarm kind.
    pub async fn set_notification_template(&self, kind: &str, template_code: &str) -> Result<()> {
        let b = self.backend();
        if template_code.is_empty() {
            let sql = "DELETE FROM notification_templates WHERE tenant_id = $1 AND alarm_kind = $2";
            self.db().execute_raw(stmt(b, sql, self.args().s(kind))).await?;
        } else {
            let sql = "INSERT INTO notification_templates (tenant_id, alarm_kind, template_code) VALUES ($1, $2, $3)
                       ON CONFLICT (tenant_id, alarm_kind) DO UPDATE SET template_code = excluded.template_code";
            self.db().execute_raw(stmt(b, sql, self.args().s(kind).s(template_code))).await?;
        }
        Ok(())
    }

    pub async fn notification_templates(&self) -> Result<Vec<(String, String)>> {
        let sql = "SELECT alarm_kind, template_code FROM notification_templates WHERE tenant_id = $1 ORDER BY alarm_kind";
        let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args())).await?;
        rows.iter().map(|r| Ok((r.try_get("", "alarm_kind")?, r.try_get("", "template_code")?))).collect()
    }

    /// The delivery log, newest first.
    pub async fn notifications(&self, status: Option<&str>, limit: u64) -> Result<Vec<NotificationRow>> {
        let (cond, args) = match status {
            Some(s) => (" AND status = $2", self.args().s(s)),
            None => ("", self.args()),
        };
        let sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE tenant_id = $1{cond} ORDER BY created_at DESC, id DESC LIMIT {}",
            limit.clamp(1, 1000)
        );
        self.db().query_all_raw(stmt(self.backend(), &sql, args)).await?.iter().map(notification_row).collect()
    }
}

/// What one delivery step did.
#[derive(Debug, Clone, Copy)]
pub struct Outcome<'a> {
    /// PENDING (wait or retry), SENT, FAILED or SUPPRESSED.
    pub status: &'a str,
    pub error: &'a str,
    pub provider_ref: Option<&'a str>,
    /// Whether the provider was called (counts as an attempt).
    pub attempted: bool,
    pub next_attempt_at: DateTime<Utc>,
}

/// A message due for delivery, with what is needed to send it.
pub struct DueNotification {
    pub tenant_id: String,
    pub row: NotificationRow,
    pub account: SmsAccount,
    pub quiet: Option<(u16, u16)>,
    pub daily_limit: i64,
    pub tz: chrono_tz::Tz,
}

impl super::PlatformStore {
    /// Queues the messages of newly raised top-level alarms (see [`enqueue_messages`]), each
    /// alarm's in one transaction. Returns how many were queued.
    pub async fn enqueue_notifications(&self, events: &[AlarmEvent], now: DateTime<Utc>) -> Result<usize> {
        let mut queued = 0;
        for e in events.iter().filter(|e| e.change == "RAISED") {
            let txn = super::begin_write(&self.db).await?;
            let sql = format!("SELECT {} FROM alarms WHERE tenant_id = $1 AND id = $2", super::alarms::COLUMNS);
            let Some(r) = txn.query_one_raw(stmt(self.backend(), &sql, Args::new().s(&e.tenant_id).s(&e.alarm_id))).await? else {
                continue;
            };
            let alarm = super::alarms::alarm_row(&r)?;
            if alarm.parent_id.is_none() {
                queued += enqueue_messages(&txn, &alarm, now).await?;
            }
            txn.commit().await?;
        }
        Ok(queued)
    }

    /// Pending messages due now, with their tenant's SMS account (secret unwrapped).
    pub async fn notifications_due(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<DueNotification>> {
        let b = self.backend();
        let sql = format!(
            "SELECT n.tenant_id, n.{cols}, {settings}, t.time_zone FROM notifications n
             JOIN notification_settings s ON s.tenant_id = n.tenant_id JOIN tenants t ON t.id = n.tenant_id
             WHERE n.status = 'PENDING' AND n.channel = 'SMS' AND n.next_attempt_at <= $1 AND t.status = 'ACTIVE'
             ORDER BY n.next_attempt_at LIMIT {limit}",
            cols = NOTIFICATION_COLUMNS.replace(", ", ", n."),
            settings = SETTINGS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", "),
        );
        let kek = self.kek()?;
        let mut out = Vec::new();
        for r in self.db.query_all_raw(stmt(b, &sql, Args::new().t(now))).await? {
            let tenant_id: String = r.try_get("", "tenant_id")?;
            let (s, wrapped) = settings_row(&r)?;
            let secret = String::from_utf8(kek.unwrap(&secret_aad(&tenant_id), &wrapped)?)
                .map_err(|_| StoreError::Database("stored SMS secret is not text".into()))?;
            let tz: String = r.try_get("", "time_zone")?;
            out.push(DueNotification {
                row: notification_row(&r)?,
                account: SmsAccount {
                    provider: s.provider,
                    endpoint: s.endpoint,
                    access_key_id: s.access_key_id,
                    secret,
                    sign_name: s.sign_name,
                    sdk_app_id: s.sdk_app_id,
                    region: s.region,
                },
                quiet: s.quiet,
                daily_limit: s.daily_limit,
                tz: tz.parse().unwrap_or(chrono_tz::Asia::Shanghai),
                tenant_id,
            });
        }
        Ok(out)
    }

    /// Messages sent to a recipient since `since` (for the daily limit).
    pub async fn sent_to(&self, tenant: &str, recipient: &str, since: DateTime<Utc>) -> Result<i64> {
        let sql = "SELECT COUNT(*) AS n FROM notifications WHERE tenant_id = $1 AND recipient = $2 AND status = 'SENT' AND sent_at >= $3";
        let r = self.db.query_one_raw(stmt(self.backend(), sql, Args::new().s(tenant).s(recipient).t(since))).await?;
        r.map(|r| super::registry::int(&r, "n")).transpose().map(|n| n.unwrap_or(0))
    }

    /// Claims a due message for one delivery attempt: its next attempt moves to `lease_until`,
    /// so another server (or another sweep) running at the same time skips it. False when
    /// someone else claimed it first or it is no longer due. A claim left by a crashed server
    /// simply expires and the message is tried again.
    pub async fn claim_notification(&self, tenant: &str, id: &str, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> Result<bool> {
        let sql = "UPDATE notifications SET next_attempt_at = $4
                   WHERE tenant_id = $1 AND id = $2 AND status = 'PENDING' AND next_attempt_at <= $3";
        let args = Args::new().s(tenant).s(id).t(now).t(lease_until);
        Ok(self.db.execute_raw(stmt(self.backend(), sql, args)).await?.rows_affected() == 1)
    }

    /// Records the outcome of one delivery step.
    pub async fn notification_outcome(&self, tenant: &str, id: &str, o: &Outcome<'_>, now: DateTime<Utc>) -> Result<()> {
        let Outcome { status, error, provider_ref, attempted, next_attempt_at } = *o;
        let sql = "UPDATE notifications SET status = $3, last_error = $4, provider_ref = COALESCE($5, provider_ref),
                   attempts = attempts + $6, next_attempt_at = $7, sent_at = CASE WHEN $3 = 'SENT' THEN $8 ELSE sent_at END
                   WHERE tenant_id = $1 AND id = $2";
        let args = Args::new().s(tenant).s(id).s(status).s(error).os(provider_ref).i(i64::from(attempted)).t(next_attempt_at).t(now);
        self.db.execute_raw(stmt(self.backend(), sql, args)).await?;
        Ok(())
    }
}

/// A tenant's subscription-message template for one alarm kind (订阅消息模板).
#[derive(Debug, Clone)]
pub struct WechatTemplateRow {
    pub alarm_kind: String,
    pub template_id: String,
    /// (template key, source) pairs, e.g. ("thing1", SUBJECT).
    pub fields: Vec<(String, domain::subscribe::Source)>,
    /// The mini-program page the message opens.
    pub page: String,
}

/// A WeChat message due now, with the tenant's mini-program (secret opened).
#[derive(Debug, Clone)]
pub struct DueWechat {
    pub tenant_id: String,
    pub row: NotificationRow,
    pub app: super::WechatApp,
    pub page: String,
}

fn wechat_template_row(r: &sea_orm::QueryResult) -> Result<WechatTemplateRow> {
    let fields: Vec<(String, String)> = serde_json::from_str(&r.try_get::<String>("", "fields")?).unwrap_or_default();
    Ok(WechatTemplateRow {
        alarm_kind: r.try_get("", "alarm_kind")?,
        template_id: r.try_get("", "template_id")?,
        fields: fields.into_iter().filter_map(|(k, s)| domain::subscribe::Source::parse(&s).map(|s| (k, s))).collect(),
        page: r.try_get("", "page")?,
    })
}

impl TenantStore {
    /// Sets the subscription-message template used for an alarm kind.
    pub async fn set_wechat_template(&self, t: &WechatTemplateRow) -> Result<()> {
        let fields: Vec<(String, String)> = t.fields.iter().map(|(k, s)| (k.clone(), s.code().to_string())).collect();
        let fields = serde_json::to_string(&fields).map_err(|e| StoreError::Database(e.to_string()))?;
        let sql = "INSERT INTO wechat_templates (tenant_id, alarm_kind, template_id, fields, page) VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (tenant_id, alarm_kind) DO UPDATE SET template_id = excluded.template_id, fields = excluded.fields, page = excluded.page";
        self.db().execute_raw(stmt(self.backend(), sql, self.args().s(&t.alarm_kind).s(&t.template_id).s(fields).s(&t.page))).await?;
        Ok(())
    }

    pub async fn wechat_templates(&self) -> Result<Vec<WechatTemplateRow>> {
        let sql = "SELECT alarm_kind, template_id, fields, page FROM wechat_templates WHERE tenant_id = $1 ORDER BY alarm_kind";
        self.db().query_all_raw(stmt(self.backend(), sql, self.args())).await?.iter().map(wechat_template_row).collect()
    }

    /// A customer accepted one-time subscriptions (`wx.requestSubscribeMessage` answered
    /// `accept`): one more message allowed per template. Only the tenant's templates count.
    pub async fn add_subscriptions(&self, openid: &str, template_ids: &[String]) -> Result<Vec<(String, i64)>> {
        let known: Vec<String> = self.wechat_templates().await?.into_iter().map(|t| t.template_id).collect();
        if let Some(unknown) = template_ids.iter().find(|t| !known.contains(t)) {
            return Err(StoreError::Conflict(format!("no such template {unknown}")));
        }
        for t in template_ids {
            let sql = "INSERT INTO subscription_quotas (tenant_id, openid, template_id, remaining, updated_at) VALUES ($1, $2, $3, 1, $4)
                       ON CONFLICT (tenant_id, openid, template_id) DO UPDATE SET remaining = subscription_quotas.remaining + 1, updated_at = excluded.updated_at";
            self.db().execute_raw(stmt(self.backend(), sql, self.args().s(openid).s(t).t(Utc::now()))).await?;
        }
        self.subscriptions(openid).await
    }

    /// Messages still allowed per template for a customer.
    pub async fn subscriptions(&self, openid: &str) -> Result<Vec<(String, i64)>> {
        let sql = "SELECT template_id, remaining FROM subscription_quotas WHERE tenant_id = $1 AND openid = $2 ORDER BY template_id";
        let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args().s(openid))).await?;
        rows.iter().map(|r| Ok((r.try_get("", "template_id")?, super::registry::int(r, "remaining")?))).collect()
    }
}

impl super::PlatformStore {
    /// WeChat messages due now with their tenant's mini-program.
    pub async fn wechat_due(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<DueWechat>> {
        let b = self.backend();
        let sql = format!(
            "SELECT n.tenant_id, n.{cols}, COALESCE(w.page, '') AS page FROM notifications n
             JOIN tenants t ON t.id = n.tenant_id
             LEFT JOIN wechat_templates w ON w.tenant_id = n.tenant_id AND w.alarm_kind = n.alarm_kind
             WHERE n.status = 'PENDING' AND n.channel = 'WECHAT' AND n.next_attempt_at <= $1 AND t.status = 'ACTIVE'
             ORDER BY n.next_attempt_at LIMIT {limit}",
            cols = NOTIFICATION_COLUMNS.replace(", ", ", n."),
        );
        let mut out = Vec::new();
        for r in self.db.query_all_raw(stmt(b, &sql, Args::new().t(now))).await? {
            let tenant_id: String = r.try_get("", "tenant_id")?;
            let t = self.tenant(domain::ids::TenantId::parse(&tenant_id).ok_or(StoreError::NotFound)?);
            let Some(app) = t.wechat_app().await? else { continue };
            out.push(DueWechat { row: notification_row(&r)?, app, page: r.try_get("", "page")?, tenant_id });
        }
        Ok(out)
    }

    /// WeChat said the customer has no subscription left: forget what we counted.
    pub async fn subscription_exhausted(&self, tenant: &str, openid: &str, template: &str) -> Result<()> {
        let sql = "UPDATE subscription_quotas SET remaining = 0 WHERE tenant_id = $1 AND openid = $2 AND template_id = $3";
        self.db.execute_raw(stmt(self.backend(), sql, Args::new().s(tenant).s(openid).s(template))).await?;
        Ok(())
    }
}

/// Queues the messages of one newly raised top-level alarm, on the caller's connection (the
/// transaction that raised it, for balance alarms): an SMS per recipient — the customer's
/// phone for account alarms, the tenant's contacts for meter, gateway and payee alarms —
/// where the tenant has an SMS account and a template for the kind; and a WeChat message per
/// bound customer login with a subscription left, where the kind has a subscription
/// template (the subscription is used up as the message is queued). Replays of the same
/// alarm queue nothing (unique (alarm, recipient)). Returns how many were queued.
pub(crate) async fn enqueue_messages<C: ConnectionTrait>(db: &C, alarm: &super::AlarmRow, now: DateTime<Utc>) -> Result<usize> {
    Ok(enqueue_sms(db, alarm, now).await? + enqueue_wechat(db, alarm, now).await?)
}

async fn tenant_zone<C: ConnectionTrait>(db: &C, tenant: &str) -> Result<chrono_tz::Tz> {
    let sql = "SELECT time_zone FROM tenants WHERE id = $1";
    let r = db.query_one_raw(stmt(db.get_database_backend(), sql, Args::new().s(tenant))).await?.ok_or(StoreError::NotFound)?;
    Ok(r.try_get::<String>("", "time_zone")?.parse().unwrap_or(chrono_tz::Asia::Shanghai))
}

async fn enqueue_sms<C: ConnectionTrait>(db: &C, alarm: &super::AlarmRow, now: DateTime<Utc>) -> Result<usize> {
    let b = db.get_database_backend();
    let tenant = alarm.tenant_id.as_str();
    let sql = format!("SELECT {SETTINGS} FROM notification_settings WHERE tenant_id = $1");
    let Some(settings) = db.query_one_raw(stmt(b, &sql, Args::new().s(tenant))).await? else { return Ok(0) };
    let (settings, _) = settings_row(&settings)?;
    let sql = "SELECT template_code FROM notification_templates WHERE tenant_id = $1 AND alarm_kind = $2";
    let Some(template) = db.query_one_raw(stmt(b, sql, Args::new().s(tenant).s(&alarm.kind))).await? else { return Ok(0) };
    let template: String = template.try_get("", "template_code")?;
    let one = |sql: &'static str| db.query_one_raw(stmt(b, sql, Args::new().s(tenant).s(&alarm.subject_id)));
    let (label, recipients) = match alarm.subject_kind.as_str() {
        "ACCOUNT" => {
            let sql = "SELECT a.number, c.phone FROM accounts a JOIN customers c ON c.tenant_id = a.tenant_id AND c.id = a.customer_id
                       WHERE a.tenant_id = $1 AND a.id = $2";
            match one(sql).await? {
                Some(r) => (r.try_get::<String>("", "number")?, vec![r.try_get::<String>("", "phone")?]),
                None => return Ok(0),
            }
        }
        "PAYEE" => match one("SELECT name FROM payees WHERE tenant_id = $1 AND id = $2").await? {
            Some(r) => (r.try_get::<String>("", "name")?, settings.contacts.clone()),
            None => return Ok(0),
        },
        "GATEWAY" => match one("SELECT serial FROM gateways WHERE tenant_id = $1 AND id = $2").await? {
            Some(r) => (r.try_get::<String>("", "serial")?, settings.contacts.clone()),
            None => return Ok(0),
        },
        _ => match one("SELECT address, shop_no FROM meters WHERE tenant_id = $1 AND id = $2").await? {
            Some(r) => {
                let shop: String = r.try_get("", "shop_no")?;
                (if shop.is_empty() { r.try_get::<String>("", "address")? } else { shop }, settings.contacts.clone())
            }
            None => return Ok(0),
        },
    };
    let tz = tenant_zone(db, tenant).await?;
    let params = serde_json::json!({
        "subject": label,
        "alarm": domain::control::alarm_label(&alarm.kind),
        "time": alarm.raised_at.with_timezone(&tz).format("%m-%d %H:%M").to_string(),
    })
    .to_string();
    let mut queued = 0;
    for phone in recipients.iter().filter(|p| !p.trim().is_empty()) {
        let sql =
            "INSERT INTO notifications (tenant_id, id, alarm_id, alarm_kind, recipient, template_code, params, created_at, next_attempt_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (tenant_id, alarm_id, recipient) DO NOTHING";
        let args = Args::new()
            .s(tenant)
            .s(NotificationId::new_ordered().as_str())
            .s(&alarm.id)
            .s(&alarm.kind)
            .s(phone.trim())
            .s(&template)
            .s(&params)
            .t(now);
        queued += db.execute_raw(stmt(b, sql, args)).await?.rows_affected() as usize;
    }
    Ok(queued)
}

async fn enqueue_wechat<C: ConnectionTrait>(db: &C, alarm: &super::AlarmRow, now: DateTime<Utc>) -> Result<usize> {
    let b = db.get_database_backend();
    let tenant = alarm.tenant_id.as_str();
    let sql = "SELECT alarm_kind, template_id, fields, page FROM wechat_templates WHERE tenant_id = $1 AND alarm_kind = $2";
    let Some(template) = db.query_one_raw(stmt(b, sql, Args::new().s(tenant).s(&alarm.kind))).await? else { return Ok(0) };
    let template = wechat_template_row(&template)?;
    let account_sql = match alarm.subject_kind.as_str() {
        "ACCOUNT" => {
            "SELECT a.id, a.number, a.balance_x100, a.customer_id, '' AS label FROM accounts a WHERE a.tenant_id = $1 AND a.id = $2"
        }
        "METER" => {
            "SELECT a.id, a.number, a.balance_x100, a.customer_id, CASE WHEN m.shop_no = '' THEN m.address ELSE m.shop_no END AS label
             FROM meters m JOIN accounts a ON a.tenant_id = m.tenant_id AND a.id = m.account_id WHERE m.tenant_id = $1 AND m.id = $2"
        }
        _ => return Ok(0),
    };
    let Some(acc) = db.query_one_raw(stmt(b, account_sql, Args::new().s(tenant).s(&alarm.subject_id))).await? else { return Ok(0) };
    let label: String = acc.try_get("", "label")?;
    let number: String = acc.try_get("", "number")?;
    let balance = domain::metering::from_scaled(super::registry::int(&acc, "balance_x100")?, 2);
    let customer: String = acc.try_get("", "customer_id")?;
    let tz = tenant_zone(db, tenant).await?;
    let mut data = serde_json::Map::new();
    for (key, source) in &template.fields {
        use domain::subscribe::{Source, fit};
        let raw = match source {
            Source::Subject => {
                if label.is_empty() {
                    number.clone()
                } else {
                    label.clone()
                }
            }
            Source::Alarm => domain::control::alarm_label(&alarm.kind).to_string(),
            Source::Time => alarm.raised_at.with_timezone(&tz).format("%Y年%m月%d日 %H:%M").to_string(),
            Source::Balance => balance.to_string(),
        };
        match fit(key, &raw) {
            Ok(v) => {
                data.insert(key.clone(), serde_json::json!({ "value": v }));
            }
            Err(why) => {
                tracing::warn!(tenant, template = %template.template_id, %why, "subscription message not queued");
                return Ok(0);
            }
        }
    }
    let params = serde_json::Value::Object(data).to_string();
    let sql = "SELECT openid FROM customer_logins WHERE tenant_id = $1 AND customer_id = $2 ORDER BY openid";
    let mut queued = 0;
    for r in db.query_all_raw(stmt(b, sql, Args::new().s(tenant).s(&customer))).await? {
        let openid: String = r.try_get("", "openid")?;
        // Already queued for this alarm: nothing more, and no subscription is used.
        let sql = "SELECT 1 AS x FROM notifications WHERE tenant_id = $1 AND alarm_id = $2 AND recipient = $3";
        if db.query_one_raw(stmt(b, sql, Args::new().s(tenant).s(&alarm.id).s(&openid))).await?.is_some() {
            continue;
        }
        let used = db
            .execute_raw(stmt(
                b,
                "UPDATE subscription_quotas SET remaining = remaining - 1, updated_at = $4
                 WHERE tenant_id = $1 AND openid = $2 AND template_id = $3 AND remaining > 0",
                Args::new().s(tenant).s(&openid).s(&template.template_id).t(now),
            ))
            .await?
            .rows_affected();
        if used == 0 {
            continue;
        }
        let sql = "INSERT INTO notifications (tenant_id, id, channel, alarm_id, alarm_kind, recipient, template_code, params, created_at, next_attempt_at)
                   VALUES ($1, $2, 'WECHAT', $3, $4, $5, $6, $7, $8, $8)";
        let args = Args::new()
            .s(tenant)
            .s(NotificationId::new_ordered().as_str())
            .s(&alarm.id)
            .s(&alarm.kind)
            .s(&openid)
            .s(&template.template_id)
            .s(&params)
            .t(now);
        queued += db.execute_raw(stmt(b, sql, args)).await?.rows_affected() as usize;
    }
    Ok(queued)
}
