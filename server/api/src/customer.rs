//! GraphQL for the customers' own app (the mini-program and the mobile pages) beyond their
//! accounts and bills: usage by day and month, the price changes of the tariffs pricing their
//! meters, the contact of their properties, the subscription templates, their receipts; and
//! the tenant's official account the mobile pages sign in with.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::ApiError;
use super::auth::Principal;
use super::graphql::{Res, err, parse_id, tenant};
use super::identity::principal;
use super::tariffs::RatePrice;
use domain::Invalid;
use domain::ids::*;
use domain::metering::from_scaled;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum UsageBucket {
    /// Local days (up to 92).
    Day,
    /// Local calendar months (up to 24).
    Month,
}

/// Usage of one bucket (用电量).
#[derive(SimpleObject)]
pub struct UsagePoint {
    /// Where the bucket starts (local midnight, or the first of the month).
    pub at: DateTime<Utc>,
    /// kWh over the account's meters (primary side, as bills count it).
    pub energy: Decimal,
    /// Energy charges posted in the bucket, yuan (prepaid accounts; post-paid ones are charged
    /// on their bills and show 0 here).
    pub cost: Decimal,
}

/// A price change of a tariff pricing the customer's meters (调价公示).
#[derive(SimpleObject)]
pub struct PriceChange {
    pub tariff_name: String,
    pub effective_from: DateTime<Utc>,
    /// The prices until then (empty for a tariff's first version).
    pub before: Vec<RatePrice>,
    pub after: Vec<RatePrice>,
}

/// Whom a customer calls about a property (物业联系方式).
#[derive(SimpleObject)]
pub struct PropertyContact {
    pub id: ID,
    pub name: String,
    pub contact_name: String,
    pub contact_phone: String,
}

/// A WeChat subscription template the mini-program asks customers to accept.
#[derive(SimpleObject)]
pub struct SubscriptionTemplate {
    pub alarm_kind: String,
    pub template_id: String,
}

/// The tenant's WeChat mini-program, as shown (the secret never comes back).
#[derive(SimpleObject)]
pub struct MiniProgramView {
    pub app_id: String,
    pub api_base: String,
}

/// The tenant's WeChat official account, as shown (the secret never comes back).
#[derive(SimpleObject)]
pub struct OfficialAccountView {
    pub app_id: String,
    pub api_base: String,
    /// WeChat's web authorization page.
    pub authorize_url: String,
}

#[derive(InputObject)]
pub struct SetWechatOfficialAccountInput {
    /// Official account AppID (公众号 AppID).
    pub app_id: String,
    /// AppSecret; stored encrypted, never shown again.
    pub app_secret: String,
    /// WeChat API base; default `https://api.weixin.qq.com`.
    pub api_base: Option<String>,
    /// Web authorization page; default `https://open.weixin.qq.com/connect/oauth2/authorize`.
    pub authorize_url: Option<String>,
}

/// The signed-in customer's id, or none yet (not bound).
fn customer_of(ctx: &Context<'_>) -> Res<Option<CustomerId>> {
    match principal(ctx)? {
        Principal::Customer { customer, .. } => Ok(customer.as_deref().and_then(CustomerId::parse)),
        _ => Err(err(ApiError::Forbidden("customers only".into()))),
    }
}

fn prices(spec: &domain::tariff::TariffSpec) -> Vec<RatePrice> {
    spec.prices.iter().map(|(r, p)| RatePrice { rate: (*r).into(), price: *p }).collect()
}

/// The first instant of the local month of `date`.
fn month_start(tz: chrono_tz::Tz, date: NaiveDate) -> DateTime<Utc> {
    super::desk::midnight(tz, date.with_day(1).unwrap_or(date))
}

#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// Customers: usage of one of their accounts by local day or month over `[from, to)`;
    /// buckets start at local midnight (or the month's first day) at or before `from`.
    async fn my_usage(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
        bucket: UsageBucket,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Res<Vec<UsagePoint>> {
        if to <= from {
            return Err(err(Invalid::new("to", "must be after from")));
        }
        let customer = customer_of(ctx)?.ok_or_else(|| err(ApiError::NotFound))?;
        let id = parse_id(&account_id, AccountId::parse)?;
        let t = tenant(ctx)?;
        let account = t.account(&id).await.map_err(err)?.ok_or_else(|| err(ApiError::NotFound))?;
        if account.customer_id != customer {
            return Err(err(ApiError::NotFound));
        }
        let tz = super::desk::time_zone(t).await?;
        let (first_local, last_local) = (from.with_timezone(&tz).date_naive(), to.with_timezone(&tz).date_naive());
        let mut bounds = Vec::new();
        match bucket {
            UsageBucket::Day => {
                if to - from > Duration::days(92) {
                    return Err(err(Invalid::new("to", "at most 92 days after from")));
                }
                let mut d = first_local;
                bounds.push(super::desk::midnight(tz, d));
                while *bounds.last().unwrap_or(&to) < to {
                    d = d.succ_opt().ok_or_else(|| err(Invalid::new("to", "out of range")))?;
                    bounds.push(super::desk::midnight(tz, d));
                }
            }
            UsageBucket::Month => {
                let months = (last_local.year() - first_local.year()) * 12 + last_local.month() as i32 - first_local.month() as i32;
                if months > 24 {
                    return Err(err(Invalid::new("to", "at most 24 months after from")));
                }
                let mut d = first_local.with_day(1).unwrap_or(first_local);
                bounds.push(month_start(tz, d));
                while *bounds.last().unwrap_or(&to) < to {
                    d = d.checked_add_months(chrono::Months::new(1)).ok_or_else(|| err(Invalid::new("to", "out of range")))?;
                    bounds.push(month_start(tz, d));
                }
            }
        }
        let usage = t.account_usage(&id, &bounds).await.map_err(err)?;
        Ok(bounds
            .iter()
            .zip(usage)
            .map(|(at, (energy, cost))| UsagePoint { at: *at, energy: from_scaled(energy, 2), cost: from_scaled(cost, 2) })
            .collect())
    }

    /// Customers: price changes of the tariffs pricing their meters that took effect in the
    /// last 30 days or will take effect, soonest first (the notice shown when prices change).
    async fn my_price_changes(&self, ctx: &Context<'_>) -> Res<Vec<PriceChange>> {
        let Some(customer) = customer_of(ctx)? else { return Ok(Vec::new()) };
        let since = Utc::now() - Duration::days(30);
        let mut out = Vec::new();
        for tariff in tenant(ctx)?.customer_tariffs(&customer).await.map_err(err)? {
            let mut previous: Option<&store::TariffVersionRow> = None;
            for v in &tariff.versions {
                // A change: a version after another (a tariff's first version changes nothing).
                if v.effective_from >= since && previous.is_some() {
                    out.push(PriceChange {
                        tariff_name: tariff.name.clone(),
                        effective_from: v.effective_from,
                        before: previous.map(|p| prices(&p.spec)).unwrap_or_default(),
                        after: prices(&v.spec),
                    });
                }
                previous = Some(v);
            }
        }
        out.sort_by_key(|c| c.effective_from);
        Ok(out)
    }

    /// Customers: how they signed in — MINI_PROGRAM, OFFICIAL_ACCOUNT (the mobile pages in
    /// WeChat) or BINDING_CODE (the mobile pages elsewhere: no WeChat Pay, no subscriptions).
    async fn my_login(&self, ctx: &Context<'_>) -> Res<String> {
        let Principal::Customer { openid, .. } = principal(ctx)? else {
            return Err(err(ApiError::Forbidden("customers only".into())));
        };
        Ok(match super::auth::CustomerLogin::of(openid) {
            super::auth::CustomerLogin::MiniProgram(_) => "MINI_PROGRAM",
            super::auth::CustomerLogin::OfficialAccount(_) => "OFFICIAL_ACCOUNT",
            super::auth::CustomerLogin::Code => "BINDING_CODE",
        }
        .to_string())
    }

    /// Customers: the properties their accounts' meters are in, with whom to call.
    async fn my_properties(&self, ctx: &Context<'_>) -> Res<Vec<PropertyContact>> {
        let Some(customer) = customer_of(ctx)? else { return Ok(Vec::new()) };
        let rows = tenant(ctx)?.customer_properties(&customer).await.map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|p| PropertyContact {
                id: ID(p.id.to_string()),
                name: p.name,
                contact_name: p.contact_name,
                contact_phone: p.contact_phone,
            })
            .collect())
    }

    /// Customers: the subscription templates (alarm kind and template id) the mini-program
    /// asks to accept with `wx.requestSubscribeMessage`.
    async fn my_subscription_templates(&self, ctx: &Context<'_>) -> Res<Vec<SubscriptionTemplate>> {
        customer_of(ctx)?;
        let rows = tenant(ctx)?.wechat_templates().await.map_err(err)?;
        Ok(rows.into_iter().map(|t| SubscriptionTemplate { alarm_kind: t.alarm_kind, template_id: t.template_id }).collect())
    }

    /// Customers: one of their own receipts (电子收据); another's is null.
    async fn my_receipt(&self, ctx: &Context<'_>, number: i64) -> Res<Option<super::money::Receipt>> {
        let Some(customer) = customer_of(ctx)? else { return Ok(None) };
        super::money::receipt_view(tenant(ctx)?, number, Some(customer.as_str())).await
    }

    /// The tenant's WeChat mini-program (小程序), if set (`setWechatApp`).
    async fn wechat_app(&self, ctx: &Context<'_>) -> Res<Option<MiniProgramView>> {
        let app = tenant(ctx)?.wechat_app().await.map_err(err)?;
        Ok(app.map(|a| MiniProgramView { app_id: a.app_id, api_base: a.api_base }))
    }

    /// The tenant's WeChat official account (公众号), if set.
    async fn wechat_official_account(&self, ctx: &Context<'_>) -> Res<Option<OfficialAccountView>> {
        let oa = tenant(ctx)?.wechat_official_account().await.map_err(err)?;
        Ok(oa.map(|(a, authorize_url)| OfficialAccountView { app_id: a.app_id, api_base: a.api_base, authorize_url }))
    }
}

#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    /// The tenant's WeChat official account (公众号), whose web authorization signs customers
    /// in on the mobile pages inside WeChat; the secret is stored encrypted.
    async fn set_wechat_official_account(&self, ctx: &Context<'_>, input: SetWechatOfficialAccountInput) -> Res<OfficialAccountView> {
        let app_id = input.app_id.trim();
        if app_id.is_empty() || app_id.len() > 32 || !app_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(err(Invalid::new("appId", "the AppID, letters and digits")));
        }
        if input.app_secret.len() < 16 {
            return Err(err(Invalid::new("appSecret", "too short")));
        }
        let base = input.api_base.unwrap_or_else(|| "https://api.weixin.qq.com".into());
        let base = super::outbound_url(ctx, "apiBase", &base)?;
        let authorize = input.authorize_url.unwrap_or_else(|| "https://open.weixin.qq.com/connect/oauth2/authorize".into());
        let authorize = super::outbound_url(ctx, "authorizeUrl", &authorize)?;
        let app = store::WechatApp { app_id: app_id.to_string(), secret: input.app_secret, api_base: base };
        tenant(ctx)?.set_wechat_official_account(&app, &authorize).await.map_err(|e| match e {
            store::StoreError::Conflict(_) | store::StoreError::Duplicate => err(Invalid::new("appId", "used by another tenant")),
            e => err(e),
        })?;
        Ok(OfficialAccountView { app_id: app.app_id, api_base: app.api_base, authorize_url: authorize })
    }
}
