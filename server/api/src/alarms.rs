//! GraphQL for alarms (F23, F38, F41): the list and history, acknowledgement, and the live
//! subscription behind the portal's bell.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures::Stream;

use super::graphql::{Res, err};
use super::graphql::{parse_id, tenant};
use domain::Invalid;
use domain::ids::{AlarmId, PropertyId};
use store::{self, ALARM_KINDS, AlarmFilter, TenantStore};

/// One alarm: raised when its condition began, cleared when it ended.
#[derive(SimpleObject, Clone)]
pub struct Alarm {
    pub id: ID,
    /// GATEWAY_LOST, METER_LOST, PHASE_LOSS, UNDER_VOLTAGE, OVER_VOLTAGE, OVERLOAD,
    /// REVERSE_ENERGY, TRIPPED, CONSUMPTION_WHILE_TRIPPED, TAMPER, SUDDEN_DROP, LOW_BALANCE_1,
    /// LOW_BALANCE_2, ARREARS, PAYMENT_DIFFERENCE.
    pub kind: String,
    /// CRITICAL, MAJOR, MINOR or INFO.
    pub severity: String,
    /// ACTIVE or CLEARED.
    pub state: String,
    /// METER, GATEWAY, ACCOUNT or PAYEE.
    pub subject_kind: String,
    pub subject_id: ID,
    /// The alarm this one is folded under (a lost meter behind a lost gateway).
    pub parent_id: Option<ID>,
    /// How many alarms are folded under this one.
    pub folded: i64,
    pub detail: String,
    pub raised_at: DateTime<Utc>,
    pub cleared_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    /// The subject as people name it: a meter's address, a gateway's serial, an account's
    /// number, a payee's name.
    pub subject_label: String,
    /// The subject's property (an account's: of its meters).
    pub property_id: Option<ID>,
}

impl From<store::AlarmRow> for Alarm {
    fn from(a: store::AlarmRow) -> Self {
        Self {
            id: ID(a.id),
            kind: a.kind,
            severity: a.severity,
            state: a.state,
            subject_kind: a.subject_kind,
            subject_id: ID(a.subject_id),
            parent_id: a.parent_id.map(ID),
            folded: a.folded,
            detail: a.detail,
            raised_at: a.raised_at,
            cleared_at: a.cleared_at,
            acknowledged_at: a.acknowledged_at,
            acknowledged_by: a.acknowledged_by,
            subject_label: a.subject_label,
            property_id: a.property_id.map(ID),
        }
    }
}

#[derive(Default)]
pub struct AlarmQuery;

// A GraphQL field's arguments are its filter.
#[allow(clippy::too_many_arguments)]
#[Object]
impl AlarmQuery {
    /// Alarms newest first: the live centre (`activeOnly`) or the history. Alarms folded under
    /// another are left out unless `includeFolded`.
    #[graphql(complexity = "(first.clamp(1, 1000) as usize) * child_complexity")]
    async fn alarms(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] active_only: bool,
        kind: Option<String>,
        subject_id: Option<ID>,
        #[graphql(default)] include_folded: bool,
        #[graphql(default = 100)] first: i32,
        property_id: Option<ID>,
    ) -> Res<Vec<Alarm>> {
        if !(1..=1000).contains(&first) {
            return Err(err(Invalid::new("first", "between 1 and 1000")));
        }
        if let Some(k) = &kind
            && !ALARM_KINDS.contains(&k.as_str())
        {
            return Err(err(Invalid::new("kind", format!("one of {}", ALARM_KINDS.join(", ")))));
        }
        let property = match property_id.as_ref().map(|p| PropertyId::parse(p.as_str())) {
            Some(None) => return Ok(Vec::new()),
            other => other.flatten().map(|p| p.as_str().to_string()),
        };
        let f = AlarmFilter {
            active_only,
            kind,
            // Any spelling of an id names the same subject (the guard checked the canonical one).
            subject_id: match subject_id.as_ref().map(|s| uuid::Uuid::parse_str(s.trim())) {
                None => None,
                Some(Ok(u)) => Some(u.to_string()),
                Some(Err(_)) => return Ok(Vec::new()),
            },
            folded: include_folded,
            limit: first as u64,
            property,
        };
        Ok(tenant(ctx)?.alarms(&f).await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    async fn alarm(&self, ctx: &Context<'_>, id: ID) -> Res<Alarm> {
        let id = parse_id(&id, AlarmId::parse)?;
        Ok(tenant(ctx)?.alarm(id.as_str()).await.map_err(err)?.into())
    }
}

#[derive(Default)]
pub struct AlarmMutation;

#[Object]
impl AlarmMutation {
    /// Acknowledges an alarm and the alarms folded under it; the first acknowledgement stays.
    async fn acknowledge_alarm(&self, ctx: &Context<'_>, id: ID) -> Res<Alarm> {
        let id = parse_id(&id, AlarmId::parse)?;
        let t = tenant(ctx)?;
        let by = match ctx.data_opt::<super::auth::Principal>() {
            Some(super::auth::Principal::Operator { username, .. }) => username.clone(),
            Some(p) => p.actor().1,
            None => return Err(err(super::ApiError::Unauthenticated)),
        };
        Ok(t.acknowledge_alarm(id.as_str(), &by, Utc::now()).await.map_err(err)?.into())
    }
}

/// A change of an alarm, pushed live.
#[derive(SimpleObject, Clone)]
pub struct AlarmChange {
    /// RAISED or CLEARED.
    pub change: String,
    pub alarm: Alarm,
}

#[derive(Default)]
pub struct AlarmSubscription;

#[Subscription]
impl AlarmSubscription {
    /// Alarms of the caller's tenant as they are raised and cleared (folded ones excepted).
    async fn alarm_changes(&self, ctx: &Context<'_>) -> async_graphql::Result<impl Stream<Item = AlarmChange>> {
        // Subscriptions do not pass the guard's resolver hook; the same check runs here.
        let rule = super::guard::rule("Subscription", "alarmChanges");
        let principal = ctx.data_opt::<super::auth::Principal>();
        let suspended = ctx.data_opt::<super::guard::Suspended>().is_some();
        super::guard::admit(rule, "alarmChanges", principal, suspended, ctx.data_opt::<TenantStore>(), &[]).await.map_err(err)?;
        let t: TenantStore = tenant(ctx)?.clone();
        let rx = t.alarm_events();
        Ok(futures::stream::unfold((rx, t), |(mut rx, t)| async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                match rx.recv().await {
                    Ok(e) if e.tenant_id == t.tenant_id().as_str() => {
                        if let Ok(a) = t.alarm(&e.alarm_id).await
                            && a.parent_id.is_none()
                            && in_scope(&t, &a).await
                        {
                            return Some((AlarmChange { change: e.change.to_string(), alarm: a.into() }, (rx, t)));
                        }
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return None,
                }
            }
        }))
    }
}

/// A scoped operator's stream carries the alarms of its properties' meters, gateways and
/// accounts only.
async fn in_scope(t: &TenantStore, a: &store::AlarmRow) -> bool {
    match t.scope() {
        None => true,
        Some(scope) => t.within_scope(std::slice::from_ref(&a.subject_id), scope, true).await.unwrap_or(false),
    }
}

// ---- notifications (F24) ----

/// The tenant's SMS account, as shown (the secret never comes back).
#[derive(SimpleObject)]
pub struct NotificationSettingsView {
    /// ALIYUN or TENCENT.
    pub provider: String,
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_set: bool,
    pub sign_name: String,
    pub sdk_app_id: String,
    pub region: String,
    /// Phones that receive meter and gateway alarms.
    pub contacts: Vec<String>,
    /// Quiet hours `HH:MM`–`HH:MM` local: messages wait until they end.
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
    /// Messages one recipient may get in 24 hours; more are suppressed.
    pub daily_limit: i64,
}

#[derive(async_graphql::InputObject)]
pub struct NotificationSettingsInput {
    /// ALIYUN or TENCENT.
    pub provider: String,
    /// Default: the provider's public endpoint.
    pub endpoint: Option<String>,
    pub access_key_id: String,
    /// Required the first time; left out, the stored secret stays.
    pub access_key_secret: Option<String>,
    pub sign_name: String,
    #[graphql(default)]
    pub sdk_app_id: String,
    #[graphql(default)]
    pub region: String,
    #[graphql(default)]
    pub contacts: Vec<String>,
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
    #[graphql(default = 5)]
    pub daily_limit: i64,
}

/// One message of the delivery log.
#[derive(SimpleObject)]
pub struct Notification {
    pub id: ID,
    /// SMS or WECHAT (subscription message, 订阅消息).
    pub channel: String,
    pub alarm_id: ID,
    pub alarm_kind: String,
    pub recipient: String,
    pub template_code: String,
    /// The template parameters (JSON object of strings).
    pub params: String,
    /// PENDING, SENT, FAILED or SUPPRESSED.
    pub status: String,
    pub attempts: i64,
    pub last_error: String,
    /// The provider's id (BizId / SerialNo).
    pub provider_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<store::NotificationRow> for Notification {
    fn from(n: store::NotificationRow) -> Self {
        Self {
            id: ID(n.id),
            channel: n.channel,
            alarm_id: ID(n.alarm_id),
            alarm_kind: n.alarm_kind,
            recipient: n.recipient,
            template_code: n.template_code,
            params: n.params,
            status: n.status,
            attempts: n.attempts,
            last_error: n.last_error,
            provider_ref: n.provider_ref,
            created_at: n.created_at,
            next_attempt_at: n.next_attempt_at,
            sent_at: n.sent_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct NotificationTemplate {
    pub alarm_kind: String,
    pub template_code: String,
}

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn minute_of(field: &'static str, text: &str) -> Res<u16> {
    let bad = || err(Invalid::new(field, "HH:MM from 00:00 to 23:59"));
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h >= 24 || m >= 60 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn view(s: store::NotificationSettings) -> NotificationSettingsView {
    NotificationSettingsView {
        provider: s.provider.as_str().into(),
        endpoint: s.endpoint,
        access_key_id: s.access_key_id,
        secret_set: true,
        sign_name: s.sign_name,
        sdk_app_id: s.sdk_app_id,
        region: s.region,
        contacts: s.contacts,
        quiet_start: s.quiet.map(|(a, _)| hhmm(a)),
        quiet_end: s.quiet.map(|(_, b)| hhmm(b)),
        daily_limit: s.daily_limit,
    }
}

fn valid_phone(p: &str) -> bool {
    let digits = p.strip_prefix("+86").unwrap_or(p);
    digits.len() == 11 && digits.bytes().all(|b| b.is_ascii_digit())
}

#[derive(Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// WeChat subscription-message templates per alarm kind (订阅消息模板).
    async fn wechat_templates(&self, ctx: &Context<'_>) -> Res<Vec<WechatTemplate>> {
        Ok(tenant(ctx)?.wechat_templates().await.map_err(err)?.into_iter().map(Into::into).collect())
    }

    async fn notification_settings(&self, ctx: &Context<'_>) -> Res<Option<NotificationSettingsView>> {
        Ok(tenant(ctx)?.notification_settings().await.map_err(err)?.map(|(s, _)| view(s)))
    }

    async fn notification_templates(&self, ctx: &Context<'_>) -> Res<Vec<NotificationTemplate>> {
        let list = tenant(ctx)?.notification_templates().await.map_err(err)?;
        Ok(list.into_iter().map(|(alarm_kind, template_code)| NotificationTemplate { alarm_kind, template_code }).collect())
    }

    /// The delivery log, newest first.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        status: Option<String>,
        #[graphql(default = 100)] first: i32,
    ) -> Res<Vec<Notification>> {
        if !(1..=1000).contains(&first) {
            return Err(err(Invalid::new("first", "between 1 and 1000")));
        }
        Ok(tenant(ctx)?.notifications(status.as_deref(), first as u64).await.map_err(err)?.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct NotificationMutation;

#[Object]
impl NotificationMutation {
    /// The subscription-message template WeChat approved for an alarm kind, and which alarm
    /// fact fills each of its keys (设置订阅消息模板).
    async fn set_wechat_template(&self, ctx: &Context<'_>, input: WechatTemplateInput) -> Res<WechatTemplate> {
        if !ALARM_KINDS.contains(&input.alarm_kind.as_str()) {
            return Err(err(Invalid::new("alarmKind", "not an alarm kind")));
        }
        if input.template_id.trim().is_empty() {
            return Err(err(Invalid::new("templateId", "required")));
        }
        if input.fields.is_empty() {
            return Err(err(Invalid::new("fields", "at least one")));
        }
        let mut fields = Vec::new();
        for f in &input.fields {
            let source = f.source.domain();
            domain::subscribe::check_field(&f.key, source).map_err(err)?;
            fields.push((f.key.clone(), source));
        }
        let row = store::WechatTemplateRow {
            alarm_kind: input.alarm_kind,
            template_id: input.template_id.trim().to_string(),
            fields,
            page: input.page.unwrap_or_default(),
        };
        tenant(ctx)?.set_wechat_template(&row).await.map_err(err)?;
        Ok(row.into())
    }

    /// Sends one SMS now to `phone` with the tenant's account and the template set for
    /// `alarmKind`, its parameters filled with sample values (subject 测试, the alarm's name,
    /// the local time): the provider's answer, whatever it is. Nothing is queued or logged.
    async fn send_test_notification(&self, ctx: &Context<'_>, alarm_kind: String, phone: String) -> Res<TestNotification> {
        if !ALARM_KINDS.contains(&alarm_kind.as_str()) {
            return Err(err(Invalid::new("alarmKind", format!("one of {}", ALARM_KINDS.join(", ")))));
        }
        let phone = phone.trim().to_string();
        if !valid_phone(&phone) {
            return Err(err(Invalid::new("phone", "a mainland mobile number (11 digits starting with 1)")));
        }
        let t = tenant(ctx)?;
        let Some(account) = t.sms_account().await.map_err(err)? else {
            return Err(err(Invalid::new("alarmKind", "set up the SMS account first")));
        };
        let Some((_, template)) = t.notification_templates().await.map_err(err)?.into_iter().find(|(k, _)| *k == alarm_kind) else {
            return Err(err(Invalid::new("alarmKind", "this alarm kind has no template")));
        };
        let tz: chrono_tz::Tz = t.tenant_row().await.map_err(err)?.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
        let params = vec![
            ("alarm".to_string(), domain::control::alarm_label(&alarm_kind).to_string()),
            ("subject".to_string(), "测试".to_string()),
            ("time".to_string(), chrono::Utc::now().with_timezone(&tz).format("%m-%d %H:%M").to_string()),
        ];
        Ok(match connectors::notify::send_test(&account, &phone, &template, &params).await {
            Ok(reference) => TestNotification { sent: true, template_code: template, provider_ref: Some(reference), error: None },
            Err(e) => TestNotification { sent: false, template_code: template, provider_ref: None, error: Some(e.to_string()) },
        })
    }

    /// Sets the tenant's SMS account; the secret is stored encrypted and never shown again.
    async fn set_notification_settings(&self, ctx: &Context<'_>, input: NotificationSettingsInput) -> Res<NotificationSettingsView> {
        let provider =
            connectors::notify::sms::Provider::parse(&input.provider).ok_or_else(|| err(Invalid::new("provider", "ALIYUN or TENCENT")))?;
        let endpoint = input.endpoint.clone().unwrap_or_else(|| provider.default_endpoint().to_string());
        let endpoint = super::outbound_url(ctx, "endpoint", &endpoint)?;
        if input.access_key_id.trim().is_empty() {
            return Err(err(Invalid::new("accessKeyId", "required")));
        }
        if input.sign_name.trim().is_empty() {
            return Err(err(Invalid::new("signName", "required")));
        }
        if provider == connectors::notify::sms::Provider::Tencent && input.sdk_app_id.trim().is_empty() {
            return Err(err(Invalid::new("sdkAppId", "required for Tencent Cloud")));
        }
        if let Some(bad) = input.contacts.iter().find(|p| !valid_phone(p)) {
            return Err(err(Invalid::new("contacts", format!("{bad} is not a mainland mobile number"))));
        }
        if input.access_key_secret.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err(err(Invalid::new("accessKeySecret", "must not be empty")));
        }
        let quiet = match (&input.quiet_start, &input.quiet_end) {
            (Some(a), Some(b)) => Some((minute_of("quietStart", a)?, minute_of("quietEnd", b)?)),
            (None, None) => None,
            _ => return Err(err(Invalid::new("quietEnd", "give both ends of the quiet hours or neither"))),
        };
        if !(1..=100).contains(&input.daily_limit) {
            return Err(err(Invalid::new("dailyLimit", "between 1 and 100")));
        }
        let s = store::NotificationSettings {
            provider,
            endpoint,
            access_key_id: input.access_key_id.trim().into(),
            sign_name: input.sign_name,
            sdk_app_id: input.sdk_app_id,
            region: input.region,
            contacts: input.contacts,
            quiet,
            daily_limit: input.daily_limit,
        };
        let t = tenant(ctx)?;
        t.set_notification_settings(&s, input.access_key_secret.as_deref()).await.map_err(|e| match e {
            store::StoreError::Conflict(m) => err(Invalid::new("accessKeySecret", m)),
            other => err(other),
        })?;
        Ok(view(s))
    }

    /// Sets the SMS template for an alarm kind (an empty code stops messages for it).
    /// Parameters: `alarm`, `subject` (shop no., meter address, account no. or gateway
    /// serial) and `time`; Tencent templates get them in that order as {1}, {2}, {3}.
    async fn set_notification_template(
        &self,
        ctx: &Context<'_>,
        alarm_kind: String,
        template_code: String,
    ) -> Res<Vec<NotificationTemplate>> {
        if !ALARM_KINDS.contains(&alarm_kind.as_str()) {
            return Err(err(Invalid::new("alarmKind", format!("one of {}", ALARM_KINDS.join(", ")))));
        }
        let t = tenant(ctx)?;
        t.set_notification_template(&alarm_kind, template_code.trim()).await.map_err(err)?;
        let list = t.notification_templates().await.map_err(err)?;
        Ok(list.into_iter().map(|(alarm_kind, template_code)| NotificationTemplate { alarm_kind, template_code }).collect())
    }
}

/// What the SMS provider answered to a test message.
#[derive(SimpleObject)]
pub struct TestNotification {
    pub sent: bool,
    /// The template used (the one set for the alarm kind).
    pub template_code: String,
    /// The provider's id for the message (BizId / SerialNo).
    pub provider_ref: Option<String>,
    /// Why it was not sent: the provider's refusal or the network's error.
    pub error: Option<String>,
}

/// Which alarm fact fills a template key.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum TemplateSource {
    /// Shop number or meter address, or the account number.
    Subject,
    /// What happened (告警名称).
    Alarm,
    /// When, local time.
    Time,
    /// The account balance (余额).
    Balance,
}

impl TemplateSource {
    fn domain(self) -> domain::subscribe::Source {
        use domain::subscribe::Source;
        match self {
            TemplateSource::Subject => Source::Subject,
            TemplateSource::Alarm => Source::Alarm,
            TemplateSource::Time => Source::Time,
            TemplateSource::Balance => Source::Balance,
        }
    }

    fn from_domain(s: domain::subscribe::Source) -> Self {
        use domain::subscribe::Source;
        match s {
            Source::Subject => TemplateSource::Subject,
            Source::Alarm => TemplateSource::Alarm,
            Source::Time => TemplateSource::Time,
            Source::Balance => TemplateSource::Balance,
        }
    }
}

/// One key of a subscription-message template.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "TemplateFieldInput")]
pub struct TemplateField {
    /// The template's key, e.g. `thing1`, `amount2`, `time3`.
    pub key: String,
    pub source: TemplateSource,
}

#[derive(InputObject)]
pub struct WechatTemplateInput {
    /// e.g. LOW_BALANCE_1, ARREARS, TRIPPED.
    pub alarm_kind: String,
    /// The template id from the mini-program's console.
    pub template_id: String,
    pub fields: Vec<TemplateField>,
    /// The mini-program page the message opens.
    pub page: Option<String>,
}

/// A subscription-message template (订阅消息模板).
#[derive(SimpleObject)]
pub struct WechatTemplate {
    pub alarm_kind: String,
    pub template_id: String,
    pub fields: Vec<TemplateField>,
    pub page: String,
}

impl From<store::WechatTemplateRow> for WechatTemplate {
    fn from(t: store::WechatTemplateRow) -> Self {
        Self {
            alarm_kind: t.alarm_kind,
            template_id: t.template_id,
            fields: t.fields.into_iter().map(|(key, s)| TemplateField { key, source: TemplateSource::from_domain(s) }).collect(),
            page: t.page,
        }
    }
}
