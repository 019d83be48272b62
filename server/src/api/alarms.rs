//! GraphQL for alarms (F23, F38, F41): the list and history, acknowledgement, and the live
//! subscription behind the portal's bell.

use async_graphql::{Context, ID, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures::Stream;

use super::graphql::{Res, err};
use super::graphql::{parse_id, tenant};
use crate::domain::Invalid;
use crate::domain::ids::AlarmId;
use crate::store::{self, ALARM_KINDS, AlarmFilter, TenantStore};

/// One alarm: raised when its condition began, cleared when it ended.
#[derive(SimpleObject, Clone)]
pub struct Alarm {
    pub id: ID,
    /// GATEWAY_LOST, METER_LOST, PHASE_LOSS, UNDER_VOLTAGE, OVER_VOLTAGE, OVERLOAD,
    /// REVERSE_ENERGY, TRIPPED, CONSUMPTION_WHILE_TRIPPED, LOW_BALANCE_1, LOW_BALANCE_2, ARREARS.
    pub kind: String,
    /// CRITICAL, MAJOR, MINOR or INFO.
    pub severity: String,
    /// ACTIVE or CLEARED.
    pub state: String,
    /// METER, GATEWAY or ACCOUNT.
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
        }
    }
}

#[derive(Default)]
pub struct AlarmQuery;

#[Object]
impl AlarmQuery {
    /// Alarms newest first: the live centre (`activeOnly`) or the history. Alarms folded under
    /// another are left out unless `includeFolded`.
    async fn alarms(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] active_only: bool,
        kind: Option<String>,
        subject_id: Option<ID>,
        #[graphql(default)] include_folded: bool,
        #[graphql(default = 100)] first: i32,
    ) -> Res<Vec<Alarm>> {
        if !(1..=1000).contains(&first) {
            return Err(err(Invalid::new("first", "between 1 and 1000")));
        }
        if let Some(k) = &kind
            && !ALARM_KINDS.contains(&k.as_str())
        {
            return Err(err(Invalid::new("kind", format!("one of {}", ALARM_KINDS.join(", ")))));
        }
        let f =
            AlarmFilter { active_only, kind, subject_id: subject_id.map(|s| s.to_string()), folded: include_folded, limit: first as u64 };
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
        Ok(t.acknowledge_alarm(id.as_str(), "operator", Utc::now()).await.map_err(err)?.into())
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
        let t: TenantStore = tenant(ctx)?.clone();
        let rx = t.alarm_events();
        Ok(futures::stream::unfold((rx, t), |(mut rx, t)| async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                match rx.recv().await {
                    Ok(e) if e.tenant_id == t.tenant_id().as_str() => {
                        if let Ok(a) = t.alarm(&e.alarm_id).await
                            && a.parent_id.is_none()
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
