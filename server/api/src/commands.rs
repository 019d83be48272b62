//! GraphQL for commands to meters: the queue, an operator's trip, close, hold, read now,
//! cancel and resend, and meter-side purchases.

use super::graphql::{Res, err, parse_id, tenant};
use super::money::{Posting, money};
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use domain::Invalid;
use domain::ids::*;
use rust_decimal::Decimal;
use store::{self};

/// A command decided for a meter (控制指令); relay commands are sent by the dispatcher.
#[derive(SimpleObject)]
pub struct Command {
    pub id: ID,
    pub meter_id: ID,
    pub account_id: Option<ID>,
    /// TRIP, CLOSE, PURCHASE, …
    pub kind: String,
    /// AUTO (decided by settlement or a recharge), OPERATOR, SCHEDULE (polling), or CONFIRM (a
    /// meter with a profile of its own read back after a relay command was acknowledged).
    pub source: String,
    pub reason: String,
    pub payload: String,
    /// QUEUED, SENT, ACKNOWLEDGED (the meter accepted the frame), CONFIRMED (a later reading
    /// shows the wanted state), FAILED (refused, with the meter's error bits in `reason`),
    /// TIMED_OUT, EXPIRED, CANCELLED.
    pub status: String,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// When the meter's reply (normal or abnormal) reached the platform.
    pub replied_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The meter's address (表地址).
    pub meter_address: String,
}

impl From<store::CommandRow> for Command {
    fn from(c: store::CommandRow) -> Self {
        Self {
            id: ID(c.id.to_string()),
            meter_id: ID(c.meter_id.to_string()),
            account_id: c.account_id.map(ID),
            kind: c.kind,
            source: c.source,
            reason: c.reason,
            payload: c.payload,
            status: c.status,
            attempts: c.attempts,
            created_at: c.created_at,
            sent_at: c.sent_at,
            replied_at: c.replied_at,
            confirmed_at: c.confirmed_at,
            meter_address: c.meter_address,
        }
    }
}

#[derive(SimpleObject)]
pub struct MeterPurchase {
    pub posting: Posting,
    /// The purchase counter the meter will check (购电次数).
    pub counter: i64,
}

/// An operator's command for one meter.
#[derive(InputObject)]
pub struct MeterCommandInput {
    pub meter_id: ID,
    /// Why (kept with the command).
    #[graphql(default)]
    pub reason: String,
}

async fn operator_command(ctx: &Context<'_>, input: &MeterCommandInput, kind: &str) -> Res<Command> {
    let meter = parse_id(&input.meter_id, MeterId::parse)?;
    if input.reason.chars().count() > 200 {
        return Err(err(Invalid::new("reason", "at most 200 characters")));
    }
    let reason = if input.reason.trim().is_empty() { "operator".to_string() } else { input.reason.trim().to_string() };
    tenant(ctx)?.operator_command(&meter, kind, &reason).await.map(Into::into).map_err(err)
}

#[derive(Default)]
pub struct CommandQuery;

#[Object]
impl CommandQuery {
    /// Commands decided for meters, newest first.
    async fn commands(
        &self,
        ctx: &Context<'_>,
        meter_id: Option<ID>,
        #[graphql(default = 100)] first: i32,
        #[graphql(desc = "QUEUED, SENT, ACKNOWLEDGED, CONFIRMED, FAILED, TIMED_OUT, EXPIRED or CANCELLED.")] status: Option<String>,
        #[graphql(desc = "TRIP, CLOSE, HOLD_ON, HOLD_OFF, READ, TIME_SYNC, WRITE or PURCHASE.")] kind: Option<String>,
    ) -> Res<Vec<Command>> {
        if !(1..=1000).contains(&first) {
            return Err(err(Invalid::new("first", "between 1 and 1000")));
        }
        const STATUSES: [&str; 8] = ["QUEUED", "SENT", "ACKNOWLEDGED", "CONFIRMED", "FAILED", "TIMED_OUT", "EXPIRED", "CANCELLED"];
        if let Some(s) = &status
            && !STATUSES.contains(&s.as_str())
        {
            return Err(err(Invalid::new("status", format!("one of {}", STATUSES.join(", ")))));
        }
        if let Some(k) = &kind
            && !domain::control::COMMAND_KINDS.contains(&k.as_str())
        {
            return Err(err(Invalid::new("kind", format!("one of {}", domain::control::COMMAND_KINDS.join(", ")))));
        }
        let meter = match meter_id.as_ref().map(|m| MeterId::parse(m.as_str())) {
            Some(None) => return Ok(vec![]),
            other => other.flatten(),
        };
        let t = tenant(ctx)?;
        let rows = t.commands_filtered(meter.as_ref(), status.as_deref(), kind.as_deref(), first as u64).await.map_err(err)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct CommandMutation;

#[Object]
impl CommandMutation {
    /// Trips a meter now (拉闸) as an operator; sent by the dispatcher, confirmed by the
    /// relay state the meter reports next.
    async fn trip_meter(&self, ctx: &Context<'_>, input: MeterCommandInput) -> Res<Command> {
        operator_command(ctx, &input, "TRIP").await
    }

    /// Closes a meter's relay now (合闸) as an operator.
    async fn close_meter(&self, ctx: &Context<'_>, input: MeterCommandInput) -> Res<Command> {
        operator_command(ctx, &input, "CLOSE").await
    }

    /// Hold power on one meter (保电), or its release, as an operator.
    async fn set_meter_hold_power(&self, ctx: &Context<'_>, input: MeterCommandInput, hold: bool) -> Res<Command> {
        operator_command(ctx, &input, if hold { "HOLD_ON" } else { "HOLD_OFF" }).await
    }

    /// Reads a meter now (立即抄表): clock, energy registers, power and status; confirmed when
    /// the fresh reading is stored.
    async fn read_meter_now(&self, ctx: &Context<'_>, input: MeterCommandInput) -> Res<Command> {
        operator_command(ctx, &input, "READ").await
    }

    /// Cancels a queued or sent command.
    async fn cancel_command(&self, ctx: &Context<'_>, id: ID) -> Res<Command> {
        let id = parse_id(&id, CommandId::parse)?;
        tenant(ctx)?.cancel_command(&id).await.map(Into::into).map_err(err)
    }

    /// Re-sends a failed, timed-out or cancelled command.
    async fn resend_command(&self, ctx: &Context<'_>, id: ID) -> Res<Command> {
        let id = parse_id(&id, CommandId::parse)?;
        tenant(ctx)?.resend_command(&id).await.map(Into::into).map_err(err)
    }

    /// Loads money into a meter-side prepaid meter (表端购电) with the next purchase counter.
    async fn purchase_for_meter(&self, ctx: &Context<'_>, meter_id: ID, amount: Decimal) -> Res<MeterPurchase> {
        let meter = parse_id(&meter_id, MeterId::parse)?;
        let amount = money("amount", amount)?;
        let (posted, counter) = tenant(ctx)?.meter_purchase(&meter, amount).await.map_err(err)?;
        Ok(MeterPurchase { posting: posted.into(), counter })
    }
}
