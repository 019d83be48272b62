//! The wall in front of every resolver: one table says which principal and permission each
//! root field needs (a field missing from it is refused, and a test walks the schema so a
//! new field cannot ship without a rule); ids in the arguments are checked against an
//! operator's property scope; every mutation is written to the audit log with the before and
//! after image of the object it names.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextResolve, ResolveInfo};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ErrorExtensions, Pos, ServerError, ServerResult, Value, Variables};
use chrono::Utc;

use super::ApiError;
use super::auth::Principal;
use domain::access::{ParkScope, Permission};
use store::{AuditRow, TenantStore};

/// What a root field requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Any operator; reads what is in the operator's scope.
    Read,
    /// An operator holding this permission.
    Needs(Permission),
    /// Any operator, acting on themself (`changeMyPassword`).
    Myself,
    /// Any signed-in principal (`me`).
    Anyone,
    /// A mini-program customer.
    Customer,
    /// Any operator (reading, in scope) or the customer owning the account (the resolver
    /// checks ownership).
    AccountOwner,
    /// A park-platform client with this scope.
    Park(ParkScope),
    /// The SaaS operator.
    Admin,
}

/// The rule of each root field; `None` = refused.
pub fn rule(root: &str, field: &str) -> Option<Rule> {
    use Permission::*;
    use Rule::*;
    let rule = match (root, field) {
        ("Query", "me") => Anyone,
        (
            "Query",
            "notificationSettings" | "notificationTemplates" | "notifications" | "wechatTemplates" | "wechatOfficialAccount" | "wechatApp",
        ) => Needs(Settings),
        ("Query", "operators" | "roles" | "sessions" | "parkClients" | "auditLog") => Needs(Operators),
        (
            "Query",
            "tenant"
            | "properties"
            | "areas"
            | "customers"
            | "meters"
            | "meter"
            | "gateways"
            | "gateway"
            | "account"
            | "accounts"
            | "ledgerEntry"
            | "receipt"
            | "tariffs"
            | "tariff"
            | "moneySettings"
            | "priceNotice"
            | "settlementAnomalies"
            | "anomalyResolutionPreview"
            | "commands"
            | "bills"
            | "bill"
            | "allocationGroups"
            | "alarms"
            | "alarm"
            | "commandBatch"
            | "commandBatches"
            | "friendlyHours"
            | "overview"
            | "meterTrend",
        ) => Read,
        // Operators in scope, or the customer owning the account (the mini-program shows the
        // fee before paying).
        ("Query", "rechargeFee") => AccountOwner,
        ("Query", "ledgerEntries" | "ledgerTotals") => Read,
        (
            "Query",
            "myAccounts"
            | "mySubscriptions"
            | "myBills"
            | "myUsage"
            | "myPriceChanges"
            | "myProperties"
            | "mySubscriptionTemplates"
            | "myReceipt"
            | "myLogin",
        ) => Customer,
        ("Query", "payees") => Needs(Payees),
        ("Query", "paymentSummary" | "reconciliations" | "paymentDifferences" | "salesReport") => Needs(Reports),
        ("Query", "meterReadingReport" | "lowBalanceReport" | "energyReport" | "demandReport" | "lostDevicesReport") => Read,
        ("Query", "accountStatement") => Read,
        ("Query", "forwardTargets") => Needs(Forwarding),
        ("Query", "reportSchedules") => Needs(Reports),
        (
            "Mutation",
            "createReportSchedule" | "pauseReportSchedule" | "resumeReportSchedule" | "retireReportSchedule" | "runReportSchedule",
        ) => Needs(Reports),
        (
            "Mutation",
            "createForwardTarget" | "pauseForwardTarget" | "resumeForwardTarget" | "retireForwardTarget" | "replayForwardTarget",
        ) => Needs(Forwarding),
        ("Query", "deviceProfiles" | "meterProfile" | "meterFreezes") => Read,
        ("Mutation", "createDeviceProfile" | "retireDeviceProfile" | "setMeterProfile" | "forgetMeterLacks") => Needs(Meters),
        ("Query", "rechargeOrders") => AccountOwner,
        ("Query", "parkBills") => Park(ParkScope::BillsRead),
        ("Query", "parkDailyEnergy") => Park(ParkScope::EnergyRead),
        ("Query", "platformTenants" | "paymentProvider" | "platformAuditLog" | "platformHealth") => Admin,
        (
            "Mutation",
            "createProperty"
            | "updateProperty"
            | "retireProperty"
            | "createArea"
            | "updateArea"
            | "retireArea"
            | "createCustomer"
            | "updateCustomer"
            | "retireCustomer"
            | "registerGateway"
            | "updateGateway"
            | "retireGateway"
            | "registerMeter"
            | "updateMeter"
            | "retireMeter"
            | "openAccount"
            | "closeAccount"
            | "assignMeterToAccount"
            | "releaseMeter"
            | "replaceMeter"
            | "setAccountTerms"
            | "rotateDeviceCredential"
            | "revokeDeviceCredential"
            | "issueBindingCode",
        ) => Needs(Meters),
        ("Mutation", "recharge" | "transferBalance" | "markInvoiced" | "purchaseForMeter" | "markBillPaid" | "rerate") => Needs(Sales),
        ("Mutation", "refund" | "reverseEntry" | "resolvePaymentDifference") => Needs(Refunds),
        (
            "Mutation",
            "setHoldPower" | "restorePrepaid" | "tripMeter" | "closeMeter" | "setMeterHoldPower" | "readMeterNow" | "cancelCommand"
            | "resendCommand" | "batchCommand" | "pushMeterSettings" | "pushMeterPrices" | "pushMeterTou" | "syncMeterTime"
            | "acknowledgeAlarm",
        ) => Needs(Control),
        (
            "Mutation",
            "createTariff"
            | "addTariffVersion"
            | "assignTariff"
            | "retireTariff"
            | "setPriceRule"
            | "setServiceFee"
            | "setBillingSettings"
            | "setDefaultThresholds"
            | "resolveSettlementAnomaly"
            | "setNotificationSettings"
            | "setNotificationTemplate"
            | "sendTestNotification"
            | "setReadingSchedule"
            | "setFriendlyHours"
            | "setWechatApp"
            | "setWechatOfficialAccount"
            | "setWechatTemplate",
        ) => Needs(Settings),
        (
            "Mutation",
            "runBills"
            | "issueBill"
            | "reissueBill"
            | "freezeRegisters"
            | "createAllocationGroup"
            | "runAllocation"
            | "retireAllocationGroup",
        ) => Needs(Reports),
        (
            "Mutation",
            "createOperator"
            | "updateOperator"
            | "setOperatorActive"
            | "resetOperatorPassword"
            | "createRole"
            | "updateRole"
            | "revokeSession"
            | "createParkClient"
            | "rotateParkClientSecret"
            | "revokeParkClient",
        ) => Needs(Operators),
        ("Mutation", "changeMyPassword") => Myself,
        ("Mutation", "bindAccount" | "reportSubscriptions" | "createRechargeOrder" | "createBillOrder") => Customer,
        ("Mutation", "createPayee" | "setPayeeWechatKeys" | "setPayeeAlipay" | "refreshWechatPayCertificates") => Needs(Payees),
        ("Mutation", "refundPayment") => Needs(Refunds),
        ("Mutation", "reconcilePayments") => Needs(Reports),
        ("Query", "paymentRefunds") => Read,
        ("Mutation", "createTenant" | "suspendTenant" | "reactivateTenant" | "setPaymentProvider" | "refreshProviderCertificates") => Admin,
        ("Subscription", "alarmChanges") => Read,
        _ => return None,
    };
    Some(rule)
}

/// Fields a property-scoped operator may call without naming an object: their answers are
/// already limited to the scope (or hold no property data).
const SCOPE_AWARE: &[&str] = &[
    "me",
    // The meter models: no property data.
    "deviceProfiles",
    "tenant",
    "properties",
    "areas",
    "gateways",
    "meters",
    "tariffs",
    "tariff",
    "moneySettings",
    "priceNotice",
    "friendlyHours",
    "changeMyPassword",
    // Lists the store limits to the handle's properties.
    "customers",
    "accounts",
    "alarms",
    "commands",
    "bills",
    "overview",
    "ledgerEntries",
    "ledgerTotals",
    "salesReport",
    "meterReadingReport",
    "lowBalanceReport",
    "energyReport",
    "demandReport",
    "lostDevicesReport",
    "alarmChanges",
    "commandBatches",
    // A customer without an account belongs to no property yet (`scope_of`): any operator
    // may add one, and opening its account names the meters that scope it.
    "createCustomer",
];

/// Marks a request whose valid token names a suspended tenant.
pub struct Suspended;

/// The caller's network address, for the audit log.
#[derive(Clone, Debug, Default)]
pub struct Source(pub String);

pub struct Guard;

impl ExtensionFactory for Guard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GuardExtension { variables: Mutex::default(), operation: Mutex::default() })
    }
}

struct GuardExtension {
    variables: Mutex<Variables>,
    /// The operation the request names (whose variable defaults the resolvers will see).
    operation: Mutex<Option<String>>,
}

/// The objects a call names: every value of an id argument (`id`, `…Id`, `…Ids`, at any
/// depth), in the canonical form the resolvers parse it into — a UUID spelled without
/// hyphens, in braces, as a URN or in capitals is the same object. A value of an id
/// argument that is not a UUID at all is kept as written (it names nothing, and is refused
/// for scoped principals). Other strings (notes, idempotency keys) are not ids.
fn named_ids(v: &serde_json::Value, out: &mut Vec<String>) {
    fn is_id_key(k: &str) -> bool {
        let k = k.to_ascii_lowercase();
        k == "id" || k == "ids" || k.ends_with("id") || k.ends_with("ids")
    }
    fn push(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => {
                out.push(uuid::Uuid::parse_str(s.trim()).map(|u| u.to_string()).unwrap_or_else(|_| s.clone()));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| push(x, out)),
            _ => {}
        }
    }
    match v {
        serde_json::Value::Array(a) => a.iter().for_each(|x| named_ids(x, out)),
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                if is_id_key(k) && !x.is_object() {
                    push(x, out);
                } else {
                    named_ids(x, out);
                }
            }
        }
        _ => {}
    }
}

/// The first string value under one of `keys`, at any depth.
fn find_str(v: &serde_json::Value, keys: &[&str]) -> Option<String> {
    match v {
        serde_json::Value::Object(o) => o
            .iter()
            .find_map(|(k, x)| if keys.contains(&k.as_str()) { x.as_str().map(str::to_string) } else { None })
            .or_else(|| o.values().find_map(|x| find_str(x, keys))),
        serde_json::Value::Array(a) => a.iter().find_map(|x| find_str(x, keys)),
        _ => None,
    }
}

/// Arguments with passwords, secrets and keys blanked, for the audit log.
fn redacted(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(o) => serde_json::Value::Object(
            o.iter()
                .map(|(k, x)| {
                    let lower = k.to_lowercase();
                    if ["password", "secret", "key", "token"].iter().any(|w| lower.contains(w)) {
                        (k.clone(), serde_json::Value::from("***"))
                    } else {
                        (k.clone(), redacted(x))
                    }
                })
                .collect(),
        ),
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(redacted).collect()),
        other => other.clone(),
    }
}

fn refuse(e: ApiError) -> ServerError {
    e.extend().into_server_error(Pos::default())
}

/// Checks `rule` for `principal`; `Ok` means the resolver may run.
pub async fn admit(
    rule: Option<Rule>,
    field: &str,
    principal: Option<&Principal>,
    suspended: bool,
    store: Option<&TenantStore>,
    ids: &[String],
) -> Result<(), ApiError> {
    if suspended {
        return Err(ApiError::Forbidden("the tenant is suspended; contact the platform operator".into()));
    }
    let Some(principal) = principal else {
        return Err(ApiError::Unauthenticated);
    };
    let Some(rule) = rule else {
        return Err(ApiError::Forbidden(format!("{field} is not available")));
    };
    let denied = || ApiError::Forbidden(format!("your role does not allow {field}"));
    match (rule, principal) {
        (Rule::Anyone, _) => Ok(()),
        (Rule::Admin, Principal::Admin { .. }) => Ok(()),
        (Rule::Customer | Rule::AccountOwner, Principal::Customer { .. }) => Ok(()),
        (Rule::Park(scope), Principal::Park { scopes, .. }) => {
            if scopes.contains(&scope) {
                Ok(())
            } else {
                Err(ApiError::Forbidden(format!("this client lacks the {} scope", scope.code())))
            }
        }
        (Rule::Read | Rule::AccountOwner | Rule::Needs(_) | Rule::Myself, Principal::Operator { permissions, properties, .. }) => {
            if let Rule::Needs(p) = rule
                && !permissions.has(p)
            {
                return Err(denied());
            }
            let Some(scope) = properties else {
                return Ok(());
            };
            if ids.is_empty() && !SCOPE_AWARE.contains(&field) {
                return Err(ApiError::Forbidden(format!(
                    "you are limited to some properties: {field} needs a meter, account or property of yours"
                )));
            }
            let store = store.ok_or(ApiError::Unauthenticated)?;
            // Out of scope looks exactly like another tenant's object: not found.
            if store.within_scope(ids, scope, rule == Rule::Read).await? { Ok(()) } else { Err(ApiError::NotFound) }
        }
        _ => Err(denied()),
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for GuardExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: async_graphql::Request,
        next: async_graphql::extensions::NextPrepareRequest<'_>,
    ) -> ServerResult<async_graphql::Request> {
        *self.operation.lock().unwrap_or_else(|p| p.into_inner()) = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        // The guard must see the arguments as the resolver will: a variable the request
        // leaves out takes its default from the operation that runs — the one named by the
        // request, or the only one (with several and none named, nothing runs).
        let name = self.operation.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let op = match &document.operations {
            async_graphql::parser::types::DocumentOperations::Single(op) => Some(op),
            async_graphql::parser::types::DocumentOperations::Multiple(ops) => match &name {
                Some(n) => ops.iter().find(|(k, _)| k.as_str() == n).map(|(_, op)| op),
                None if ops.len() == 1 => ops.values().next(),
                None => None,
            },
        };
        let mut seen = variables.clone();
        for def in op.map(|o| o.node.variable_definitions.as_slice()).unwrap_or_default() {
            let name = def.node.name.node.clone();
            if let Some(default) = &def.node.default_value
                && !variables.contains_key(&name)
            {
                seen.insert(name, default.node.clone());
            }
        }
        *self.variables.lock().unwrap_or_else(|p| p.into_inner()) = seen;
        Ok(document)
    }

    async fn resolve(&self, ctx: &ExtensionContext<'_>, info: ResolveInfo<'_>, next: NextResolve<'_>) -> ServerResult<Option<Value>> {
        let root = match info.parent_type {
            "QueryRoot" => "Query",
            "MutationRoot" => "Mutation",
            _ => return next.run(ctx, info).await,
        };
        // Introspection (`__schema`, `__type`, `__typename`) describes the public schema only.
        if info.path_node.parent.is_some() || info.is_for_introspection || info.name.starts_with("__") {
            return next.run(ctx, info).await;
        }
        let field = info.name.to_string();
        let args = {
            let vars = self.variables.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let mut map = serde_json::Map::new();
            for (name, value) in &info.field.arguments {
                let c = value.node.clone().into_const_with(|n| Ok::<_, ()>(vars.get(&n).cloned().unwrap_or(Value::Null)));
                let json = c.ok().and_then(|c| c.into_json().ok()).unwrap_or(serde_json::Value::Null);
                map.insert(name.node.to_string(), json);
            }
            serde_json::Value::Object(map)
        };
        // On a WebSocket the identity was taken when the socket opened: every operation
        // checks that its token still names the same principal (logout, expiry, a disabled
        // operator, a changed role or scope, a suspended tenant end it).
        if let Some(ws) = ctx.data_opt::<super::http::WsIdentity>()
            && !ws.still_valid().await
        {
            return Err(refuse(ApiError::Unauthenticated));
        }
        let mut ids = Vec::new();
        named_ids(&args, &mut ids);
        let principal = ctx.data_opt::<Principal>();
        let store = ctx.data_opt::<TenantStore>();
        let source = ctx.data_opt::<Source>().map(|s| s.0.clone()).unwrap_or_default();
        if let Err(refused) = admit(rule(root, &field), &field, principal, ctx.data_opt::<Suspended>().is_some(), store, &ids).await {
            // A refused mutation is recorded like any other: who tried what, from where.
            if root == "Mutation" {
                match (principal, store) {
                    (Some(p), Some(store)) => {
                        let (actor_id, actor_name) = p.actor();
                        let record = AuditRow {
                            id: uuid::Uuid::new_v4().to_string(),
                            at: Utc::now(),
                            actor_kind: p.kind().into(),
                            actor_id,
                            actor_name,
                            action: field.clone(),
                            target_id: ids.first().cloned(),
                            input: redacted(&args).to_string(),
                            before_state: None,
                            after_state: None,
                            outcome: refused.code().into(),
                            source: source.clone(),
                        };
                        if let Err(e) = store.record_audit(&record).await {
                            tracing::error!(cause = %e, action = %record.action, "audit record not written");
                        }
                    }
                    _ => tracing::warn!(action = %field, outcome = refused.code(), %source, "mutation refused without a tenant principal"),
                }
            }
            return Err(refuse(refused));
        }
        // The SaaS operator's mutations go to the platform audit log.
        if let (Some(admin @ Principal::Admin { .. }), "Mutation", Some(platform)) = (principal, root, ctx.data_opt::<store::Store>()) {
            let result = next.run(ctx, info).await;
            let outcome = match &result {
                Ok(_) => "OK".to_string(),
                Err(e) => e
                    .extensions
                    .as_ref()
                    .and_then(|x| x.get("code"))
                    .map(|c| c.to_string().trim_matches('"').to_string())
                    .unwrap_or_else(|| "ERROR".into()),
            };
            let record = store::PlatformAuditRow {
                id: uuid::Uuid::new_v4().to_string(),
                at: Utc::now(),
                actor: admin.actor().1,
                action: field,
                subject_tenant: find_str(&args, &["slug", "tenantId"]),
                input: redacted(&args).to_string(),
                outcome,
                source,
            };
            if let Err(e) = platform.platform().record_audit(&record).await {
                tracing::error!(cause = %e, action = %record.action, "platform audit record not written");
            }
            return result;
        }
        let (Some(principal), Some(store), "Mutation") = (principal, store, root) else {
            return next.run(ctx, info).await;
        };
        // The audit record: the object the call names, before and after.
        let target = ids.first().cloned();
        let before = match &target {
            Some(id) => store.snapshot(id).await.ok().flatten(),
            None => None,
        };
        let result = next.run(ctx, info).await;
        let (outcome, created) = match &result {
            Ok(value) => {
                let json = value.clone().and_then(|v| v.into_json().ok());
                let id = json.as_ref().and_then(|j| j.get("id")).and_then(|i| i.as_str()).map(str::to_string);
                ("OK".to_string(), id)
            }
            Err(e) => {
                let code = e.extensions.as_ref().and_then(|x| x.get("code")).map(|c| c.to_string()).unwrap_or_else(|| "ERROR".into());
                (code.trim_matches('"').to_string(), None)
            }
        };
        let target = target.or(created);
        let after = match &target {
            Some(id) if outcome == "OK" => store.snapshot(id).await.ok().flatten(),
            _ => None,
        };
        let (actor_id, actor_name) = principal.actor();
        let record = AuditRow {
            id: uuid::Uuid::new_v4().to_string(),
            at: Utc::now(),
            actor_kind: principal.kind().into(),
            actor_id,
            actor_name,
            action: field,
            target_id: target,
            input: redacted(&args).to_string(),
            before_state: before.map(|(_, j)| j.to_string()),
            after_state: after.map(|(_, j)| j.to_string()),
            outcome,
            source,
        };
        if let Err(e) = store.record_audit(&record).await {
            tracing::error!(cause = %e, action = %record.action, "audit record not written");
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_root_field_of_the_schema_has_a_rule() {
        let sdl = super::super::graphql::schema().sdl();
        let (mut missing, mut seen) = (Vec::new(), 0);
        let (mut root, mut in_doc) = ("", false);
        for line in sdl.lines() {
            let trimmed = line.trim();
            // Skip descriptions, one-line or block.
            if line.matches("\"\"\"").count() % 2 == 1 {
                in_doc = !in_doc;
                continue;
            }
            if in_doc || trimmed.starts_with('"') {
                continue;
            }
            if let Some(rest) = line.strip_prefix("type ") {
                root = match rest.split_whitespace().next() {
                    Some("QueryRoot") => "Query",
                    Some("MutationRoot") => "Mutation",
                    Some("AlarmSubscription") => "Subscription",
                    _ => "",
                };
                continue;
            }
            if line.starts_with('}') {
                root = "";
            }
            // Root fields are indented by one tab; their arguments deeper.
            if root.is_empty() || !line.starts_with('\t') || line.starts_with("\t\t") || trimmed.starts_with('"') {
                continue;
            }
            let name: String = trimmed.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if name.is_empty() {
                continue;
            }
            seen += 1;
            if rule(root, &name).is_none() {
                missing.push(format!("{root}.{name}"));
            }
        }
        assert!(seen > 100, "the walk found only {seen} root fields");
        assert!(missing.is_empty(), "root fields without an access rule: {missing:?}");
        assert_eq!(rule("Mutation", "someNewMutation"), None, "unknown fields are refused");
    }

    #[test]
    fn ids_are_found_anywhere_in_the_arguments_and_secrets_are_blanked() {
        let id = uuid::Uuid::new_v4().to_string();
        let args = serde_json::json!({"input": {"meterIds": [id], "note": "x", "password": "p", "idempotencyKey": "k"}});
        let mut ids = Vec::new();
        named_ids(&args, &mut ids);
        assert_eq!(ids, vec![id]);
        let r = redacted(&args);
        assert_eq!(r["input"]["password"], "***");
        assert_eq!(r["input"]["idempotencyKey"], "***");
        assert_eq!(r["input"]["note"], "x");
    }
}
