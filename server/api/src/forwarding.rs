//! GraphQL for forwarding to park platforms (数据转发): targets, their secrets (shown once),
//! pause, resume, replay from a time, retire, and the delivery log.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::ApiError;
use super::graphql::{Res, err, tenant};
use domain::Invalid;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ForwardEvent {
    /// Every reading stored (interval readings).
    Reading,
    /// Money received (recharges at the desk and online).
    Recharge,
    /// A post-paid bill when it is issued.
    Bill,
    /// Each meter's energy of a local day, with its TOU split, after the midnight freeze.
    DailyEnergy,
    /// An alarm raised or cleared.
    Alarm,
}

impl ForwardEvent {
    fn code(self) -> &'static str {
        match self {
            ForwardEvent::Reading => "READING",
            ForwardEvent::Recharge => "RECHARGE",
            ForwardEvent::Bill => "BILL",
            ForwardEvent::DailyEnergy => "DAILY_ENERGY",
            ForwardEvent::Alarm => "ALARM",
        }
    }

    fn of(code: &str) -> Option<Self> {
        match code {
            "READING" => Some(ForwardEvent::Reading),
            "RECHARGE" => Some(ForwardEvent::Recharge),
            "BILL" => Some(ForwardEvent::Bill),
            "DAILY_ENERGY" => Some(ForwardEvent::DailyEnergy),
            "ALARM" => Some(ForwardEvent::Alarm),
            _ => None,
        }
    }
}

/// How a target is reached.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum ForwardTransportKind {
    /// An HTTPS endpoint: batches `POST`ed, signed in headers.
    #[default]
    Webhook,
    /// The park's own MQTT broker (`mqtts://host:port/topic-prefix`), with its credentials:
    /// each event published (QoS 1, MQTT 5) to `<prefix>/<kind>/<subject>`, signed in user
    /// properties.
    Mqtt,
}

/// A park platform's webhook or broker (转发目标).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ForwardTarget {
    pub id: ID,
    pub name: String,
    pub url: String,
    pub events: Vec<ForwardEvent>,
    /// The properties whose events it receives; empty = every property.
    pub property_ids: Vec<ID>,
    /// ACTIVE or PAUSED (deliveries wait).
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub transport: ForwardTransportKind,
    /// The broker login of an MQTT target (the password is never shown).
    pub username: String,
}

impl From<store::ForwardTarget> for ForwardTarget {
    fn from(t: store::ForwardTarget) -> Self {
        Self {
            id: ID(t.id),
            name: t.name,
            url: t.url,
            events: t.events.iter().filter_map(|e| ForwardEvent::of(e)).collect(),
            property_ids: t.properties.into_iter().map(ID).collect(),
            state: t.state,
            created_at: t.created_at,
            transport: if t.transport == "MQTT" { ForwardTransportKind::Mqtt } else { ForwardTransportKind::Webhook },
            username: t.username,
        }
    }
}

/// One event for one target (投递).
#[derive(SimpleObject)]
pub struct ForwardDelivery {
    pub kind: String,
    pub reference: String,
    pub subject: String,
    pub at: DateTime<Utc>,
    /// PENDING, DELIVERED or DEAD.
    pub state: String,
    pub attempts: i64,
    pub next_at: DateTime<Utc>,
    pub last_error: String,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// One request to the target (投递日志).
#[derive(SimpleObject)]
pub struct ForwardAttemptView {
    pub at: DateTime<Utc>,
    pub events: i64,
    /// The HTTP status; 0 when no answer came.
    pub status: i64,
    pub error: String,
    pub duration_ms: i64,
}

#[derive(SimpleObject)]
pub struct ForwardCounts {
    pub pending: i64,
    pub delivered: i64,
    pub dead: i64,
}

#[ComplexObject]
impl ForwardTarget {
    async fn counts(&self, ctx: &Context<'_>) -> Res<ForwardCounts> {
        let c = tenant(ctx)?.forward_counts(self.id.as_str()).await.map_err(err)?;
        let n = |k: &str| c.get(k).copied().unwrap_or(0);
        Ok(ForwardCounts { pending: n("PENDING"), delivered: n("DELIVERED"), dead: n("DEAD") })
    }

    /// Deliveries, newest first, optionally of one state (PENDING, DELIVERED, DEAD).
    async fn deliveries(&self, ctx: &Context<'_>, state: Option<String>, #[graphql(default = 50)] first: i32) -> Res<Vec<ForwardDelivery>> {
        let rows = tenant(ctx)?.forward_deliveries(self.id.as_str(), state.as_deref(), first.clamp(1, 500) as u64).await.map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|d| ForwardDelivery {
                kind: d.kind,
                reference: d.reference,
                subject: d.subject,
                at: d.at,
                state: d.state,
                attempts: d.attempts,
                next_at: d.next_at,
                last_error: d.last_error,
                delivered_at: d.delivered_at,
            })
            .collect())
    }

    /// Requests made to the target, newest first.
    async fn attempts(&self, ctx: &Context<'_>, #[graphql(default = 50)] first: i32) -> Res<Vec<ForwardAttemptView>> {
        let rows = tenant(ctx)?.forward_attempts(self.id.as_str(), first.clamp(1, 500) as u64).await.map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|a| ForwardAttemptView { at: a.at, events: a.events, status: a.status, error: a.error, duration_ms: a.duration_ms })
            .collect())
    }
}

/// A new target and the secret its requests are signed with — shown this once.
#[derive(SimpleObject)]
pub struct ForwardTargetSecret {
    pub target: ForwardTarget,
    pub secret: String,
}

#[derive(InputObject)]
pub struct CreateForwardTargetInput {
    pub name: String,
    /// The park platform's HTTPS endpoint, or for MQTT its broker and topic prefix
    /// (`mqtts://mqtt.park.example.cn:8883/park/energy`).
    pub url: String,
    pub events: Vec<ForwardEvent>,
    /// Limit to these properties; empty = every property.
    #[graphql(default)]
    pub property_ids: Vec<ID>,
    #[graphql(default)]
    pub transport: ForwardTransportKind,
    /// The park broker's login (MQTT only).
    pub username: Option<String>,
    /// The park broker's password (MQTT only; kept wrapped, never shown).
    pub password: Option<String>,
}

#[derive(Default)]
pub struct ForwardingQuery;

#[Object]
impl ForwardingQuery {
    /// The tenant's forwarding targets (数据转发).
    async fn forward_targets(&self, ctx: &Context<'_>) -> Res<Vec<ForwardTarget>> {
        Ok(tenant(ctx)?.forward_targets().await.map_err(err)?.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct ForwardingMutation;

#[Object]
impl ForwardingMutation {
    /// A park platform's webhook: events are signed with a new secret (returned once) and sent
    /// in order from now on.
    async fn create_forward_target(&self, ctx: &Context<'_>, input: CreateForwardTargetInput) -> Res<ForwardTargetSecret> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(err(Invalid::new("name", "1 to 100 characters")));
        }
        if input.events.is_empty() {
            return Err(err(Invalid::new("events", "at least one")));
        }
        let (url, transport) = match input.transport {
            ForwardTransportKind::Webhook => {
                if input.username.is_some() || input.password.is_some() {
                    return Err(err(Invalid::new("username", "a webhook takes no broker login")));
                }
                (super::outbound_url(ctx, "url", input.url.trim())?, store::ForwardTransport::Webhook)
            }
            ForwardTransportKind::Mqtt => {
                let allow_local = ctx.data_opt::<super::OutboundPolicy>().is_some_and(|p| p.allow_local);
                domain::outbound::check_broker("url", &input.url, allow_local).map_err(err)?;
                let username = input.username.as_deref().unwrap_or("").trim().to_string();
                let password = input.password.clone().unwrap_or_default();
                if username.is_empty() || username.chars().count() > 200 || username.chars().any(char::is_control) {
                    return Err(err(Invalid::new("username", "the park broker's login, 1 to 200 characters")));
                }
                if password.is_empty() || password.len() > 500 {
                    return Err(err(Invalid::new("password", "the park broker's password, 1 to 500 bytes")));
                }
                (input.url.trim().to_string(), store::ForwardTransport::Mqtt { username, password })
            }
        };
        let mut events: Vec<String> = input.events.iter().map(|e| e.code().to_string()).collect();
        events.sort();
        events.dedup();
        let properties: Vec<String> = input.property_ids.iter().map(|p| p.to_string()).collect();
        let secret = hex::encode(rand::random::<[u8; 32]>());
        let target = tenant(ctx)?.create_forward_target(name, &url, &events, &properties, &secret, &transport).await.map_err(err)?;
        Ok(ForwardTargetSecret { target: target.into(), secret })
    }

    /// Deliveries wait (and keep queuing) until resumed.
    async fn pause_forward_target(&self, ctx: &Context<'_>, id: ID) -> Res<ForwardTarget> {
        Ok(tenant(ctx)?.set_forward_state(id.as_str(), "PAUSED").await.map_err(err)?.into())
    }

    async fn resume_forward_target(&self, ctx: &Context<'_>, id: ID) -> Res<ForwardTarget> {
        Ok(tenant(ctx)?.set_forward_state(id.as_str(), "ACTIVE").await.map_err(err)?.into())
    }

    /// Stops forwarding to the target for good.
    async fn retire_forward_target(&self, ctx: &Context<'_>, id: ID) -> Res<ForwardTarget> {
        Ok(tenant(ctx)?.set_forward_state(id.as_str(), "RETIRED").await.map_err(err)?.into())
    }

    /// Sends again everything the target takes from `from` on (delivered and dead events
    /// too); returns how many events wait to be sent.
    async fn replay_forward_target(&self, ctx: &Context<'_>, id: ID, from: DateTime<Utc>) -> Res<i64> {
        if from > Utc::now() {
            return Err(err(Invalid::new("from", "must not be in the future")));
        }
        match tenant(ctx)?.replay_forward(id.as_str(), from).await {
            Ok(n) => Ok(n as i64),
            Err(store::StoreError::NotFound) => Err(err(ApiError::NotFound)),
            Err(e) => Err(err(e)),
        }
    }
}
