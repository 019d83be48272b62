//! GraphQL for the WeChat mini-program's customers: the tenant's mini-program, binding a
//! customer's WeChat login to an account, the customer's accounts and message subscriptions.

use super::ApiError;
use super::auth::{CustomerLogin, Principal};
use super::graphql::{Res, err, tenant};
use super::identity::*;
use async_graphql::{Context, InputObject, Object, SimpleObject};
use domain::Invalid;
use domain::ids::*;
use store::{self};

#[derive(InputObject)]
pub struct SetWechatAppInput {
    /// Mini-program AppID.
    pub app_id: String,
    /// AppSecret; stored encrypted, never shown again.
    pub app_secret: String,
    /// WeChat API base; default `https://api.weixin.qq.com`.
    pub api_base: Option<String>,
}

#[derive(InputObject)]
pub struct BindAccountInput {
    /// The account number on the customer's card or bill (户号).
    pub account_number: String,
    /// The `code` from the mini-program's getPhoneNumber button; or give `bindingCode`.
    pub phone_code: Option<String>,
    /// The binding code the property printed for the account (绑定码); or give `phoneCode`.
    pub binding_code: Option<String>,
}

/// One-time subscriptions left for a template (订阅次数).
#[derive(SimpleObject)]
pub struct Subscription {
    pub template_id: String,
    pub remaining: i64,
}

#[derive(InputObject)]
pub struct ReportSubscriptionsInput {
    /// Template ids answered `accept`.
    pub accepted: Vec<String>,
}

#[derive(Default)]
pub struct MiniappQuery;

#[Object]
impl MiniappQuery {
    /// Mini-program: the signed-in customer's accounts (我的账户); empty until bound.
    async fn my_accounts(&self, ctx: &Context<'_>) -> Res<Vec<super::money::Account>> {
        let Principal::Customer { customer: Some(c), .. } = principal(ctx)? else {
            return Ok(vec![]);
        };
        let customer = CustomerId::parse(c).ok_or_else(|| err(ApiError::NotFound))?;
        let (rows, _) = tenant(ctx)?.accounts(Some(&customer), 1, 100).await.map_err(err)?;
        Ok(rows.into_iter().map(super::money::Account).collect())
    }

    /// Mini-program: the post-paid bills of the signed-in customer's accounts that were
    /// issued to them (ISSUED and PAID; no drafts, no superseded versions), newest first.
    async fn my_bills(&self, ctx: &Context<'_>) -> Res<Vec<super::billing::Bill>> {
        let Principal::Customer { customer: Some(c), .. } = principal(ctx)? else {
            return Ok(vec![]);
        };
        let customer = CustomerId::parse(c).ok_or_else(|| err(ApiError::NotFound))?;
        let t = tenant(ctx)?;
        let (accounts, _) = t.accounts(Some(&customer), 1, 100).await.map_err(err)?;
        let mut out = Vec::new();
        for a in accounts {
            let f = store::BillFilter { account: Some(a.id.clone()), published_only: true, ..Default::default() };
            out.extend(t.bills_where(&f, 0, 120, true).await.map_err(err)?.into_iter().map(super::billing::Bill::from));
        }
        out.sort_by(|a, b| b.period.cmp(&a.period).then(b.created_at.cmp(&a.created_at)));
        Ok(out)
    }

    /// Mini-program: one-time subscriptions left per template (剩余订阅次数).
    async fn my_subscriptions(&self, ctx: &Context<'_>) -> Res<Vec<Subscription>> {
        let Principal::Customer { openid, .. } = principal(ctx)? else {
            return Err(err(ApiError::Forbidden("customers only".into())));
        };
        let rows = tenant(ctx)?.subscriptions(openid).await.map_err(err)?;
        Ok(rows.into_iter().map(|(template_id, remaining)| Subscription { template_id, remaining }).collect())
    }
}

#[derive(Default)]
pub struct MiniappMutation;

#[Object]
impl MiniappMutation {
    /// The tenant's WeChat mini-program (小程序配置); the secret is stored encrypted.
    async fn set_wechat_app(&self, ctx: &Context<'_>, input: SetWechatAppInput) -> Res<bool> {
        if input.app_id.trim().is_empty() {
            return Err(err(Invalid::new("appId", "required")));
        }
        if input.app_secret.len() < 16 {
            return Err(err(Invalid::new("appSecret", "too short")));
        }
        let base = input.api_base.unwrap_or_else(|| "https://api.weixin.qq.com".into());
        let base = super::outbound_url(ctx, "apiBase", &base)?;
        tenant(ctx)?.set_wechat_app(input.app_id.trim(), &input.app_secret, &base).await.map_err(|e| match e {
            store::StoreError::Conflict(_) | store::StoreError::Duplicate => err(Invalid::new("appId", "used by another tenant")),
            e => err(e),
        })?;
        Ok(true)
    }

    /// Mini-program: binds the caller's WeChat login to the customer holding an account,
    /// proved by the phone number WeChat vouches for (绑定户号).
    async fn bind_account(&self, ctx: &Context<'_>, input: BindAccountInput) -> Res<Vec<super::money::Account>> {
        let Principal::Customer { openid, .. } = principal(ctx)? else {
            return Err(err(ApiError::Forbidden("customers only".into())));
        };
        let login = CustomerLogin::of(openid);
        if login == CustomerLogin::Code {
            // A login by binding code is that customer's; another account's code is another login.
            return Err(err(ApiError::Forbidden("signed in with a binding code: sign in with the other account's number and code".into())));
        }
        let t = tenant(ctx)?;
        let number = input.account_number.trim();
        let customer = match (input.phone_code.as_deref(), input.binding_code.as_deref()) {
            (Some(_), None) if login != CustomerLogin::MiniProgram(openid) => {
                return Err(err(Invalid::new("phoneCode", "the phone number's code comes from the mini-program; give the binding code")));
            }
            (Some(phone_code), None) => {
                let app = t.wechat_app().await.map_err(err)?.ok_or_else(|| err(ApiError::Conflict("no mini-program configured".into())))?;
                let phone =
                    connectors::wechat::phone_number(&app.api_base, &app.app_id, &app.secret, phone_code).await.map_err(|e| match e {
                        connectors::wechat::WechatError::Refused { errcode, errmsg } => {
                            err(Invalid::new("phoneCode", format!("WeChat refused the code: {errcode} {errmsg}")))
                        }
                        other => {
                            // The detail stays in the log; the caller learns only that WeChat failed.
                            tracing::warn!(error = %other, "getuserphonenumber failed");
                            err(ApiError::Conflict("WeChat could not be reached; try again".into()))
                        }
                    })?;
                t.bind_openid(openid, number, &phone)
                    .await
                    .map_err(|_| err(Invalid::new("accountNumber", "no account with this number and phone")))?
            }
            (None, Some(code)) => {
                let subject = |_: &str| openid.clone();
                t.bind_by_code(subject, number, code, chrono::Utc::now())
                    .await
                    .map_err(|e| match e {
                        store::StoreError::Conflict(m) => err(Invalid::new("bindingCode", m)),
                        _ => err(Invalid::new("bindingCode", "no account with this number and binding code")),
                    })?
                    .0
            }
            _ => return Err(err(Invalid::new("phoneCode", "give the phone number's code or the binding code, one of them"))),
        };
        let customer = CustomerId::parse(&customer).ok_or_else(|| err(ApiError::NotFound))?;
        let (rows, _) = t.accounts(Some(&customer), 1, 100).await.map_err(err)?;
        Ok(rows.into_iter().map(super::money::Account).collect())
    }

    /// The binding code (绑定码) of an open account, to print for its customer (who binds the
    /// mini-program or the mobile pages with the account number and this code); made on the
    /// first ask, or anew with `rotate` (the old one stops working).
    async fn issue_binding_code(&self, ctx: &Context<'_>, account_id: async_graphql::ID, #[graphql(default)] rotate: bool) -> Res<String> {
        let account = super::graphql::parse_id(&account_id, AccountId::parse)?;
        tenant(ctx)?.binding_code(&account, rotate).await.map_err(err)
    }

    /// Mini-program: the templates `wx.requestSubscribeMessage` answered `accept` for; each
    /// allows one more message (订阅).
    async fn report_subscriptions(&self, ctx: &Context<'_>, input: ReportSubscriptionsInput) -> Res<Vec<Subscription>> {
        let Principal::Customer { openid, .. } = principal(ctx)? else {
            return Err(err(ApiError::Forbidden("customers only".into())));
        };
        if !matches!(CustomerLogin::of(openid), CustomerLogin::MiniProgram(_)) {
            return Err(err(ApiError::Forbidden("subscription messages reach the mini-program only".into())));
        }
        if input.accepted.len() > 3 {
            return Err(err(Invalid::new("accepted", "WeChat asks for at most three templates at a time")));
        }
        let rows = tenant(ctx)?.add_subscriptions(openid, &input.accepted).await.map_err(|e| match e {
            store::StoreError::Conflict(m) => err(Invalid::new("accepted", m)),
            e => err(e),
        })?;
        Ok(rows.into_iter().map(|(template_id, remaining)| Subscription { template_id, remaining }).collect())
    }
}
