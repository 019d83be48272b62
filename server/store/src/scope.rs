//! Property scope: which tables are reachable by id, which lists are scoped, and the clauses
//! that limit a statement to the caller's properties.

use super::identity::*;
use super::sql::{Args, stmt};
use super::{Result, TenantStore};
use sea_orm::ConnectionTrait;

/// Tables an id in a request may name, with how to find the property it belongs to. Used
/// for the property scope and for the audit log's before/after images.
pub(crate) const SCOPED_TABLES: &[(&str, &str)] = &[
    ("properties", "SELECT id AS p FROM properties WHERE tenant_id = $1 AND id = $2"),
    ("areas", "SELECT property_id AS p FROM areas WHERE tenant_id = $1 AND id = $2"),
    ("gateways", "SELECT property_id AS p FROM gateways WHERE tenant_id = $1 AND id = $2"),
    ("meters", "SELECT property_id AS p FROM meters WHERE tenant_id = $1 AND id = $2"),
    (
        "accounts",
        "SELECT m.property_id AS p FROM accounts a LEFT JOIN meters m ON m.tenant_id = a.tenant_id AND m.account_id = a.id
         WHERE a.tenant_id = $1 AND a.id = $2",
    ),
    (
        "customers",
        // An account without meters (closed, or all released) still binds its customer: it
        // yields '' (no property), so the customer is no scoped operator's.
        "SELECT COALESCE(m.property_id, CASE WHEN a.id IS NOT NULL THEN '' END) AS p FROM customers c
         LEFT JOIN accounts a ON a.tenant_id = c.tenant_id AND a.customer_id = c.id
         LEFT JOIN meters m ON m.tenant_id = a.tenant_id AND m.account_id = a.id WHERE c.tenant_id = $1 AND c.id = $2",
    ),
    (
        "commands",
        "SELECT m.property_id AS p FROM commands c JOIN meters m ON m.tenant_id = c.tenant_id AND m.id = c.meter_id
         WHERE c.tenant_id = $1 AND c.id = $2",
    ),
    (
        "alarms",
        "SELECT COALESCE(m.property_id, g.property_id, am.property_id, py.property_id) AS p FROM alarms a
         LEFT JOIN meters m ON m.tenant_id = a.tenant_id AND m.id = a.subject_id
         LEFT JOIN gateways g ON g.tenant_id = a.tenant_id AND g.id = a.subject_id
         LEFT JOIN meters am ON am.tenant_id = a.tenant_id AND am.account_id = a.subject_id
         LEFT JOIN payees py ON py.tenant_id = a.tenant_id AND py.id = a.subject_id WHERE a.tenant_id = $1 AND a.id = $2",
    ),
    (
        "payment_orders",
        "SELECT m.property_id AS p FROM payment_orders o LEFT JOIN meters m ON m.tenant_id = o.tenant_id AND m.account_id = o.account_id
         WHERE o.tenant_id = $1 AND o.id = $2",
    ),
    ("payees", "SELECT property_id AS p FROM payees WHERE tenant_id = $1 AND id = $2"),
    (
        "bills",
        "SELECT m.property_id AS p FROM bills b LEFT JOIN meters m ON m.tenant_id = b.tenant_id AND m.account_id = b.account_id
         WHERE b.tenant_id = $1 AND b.id = $2",
    ),
    (
        "ledger_entries",
        "SELECT m.property_id AS p FROM ledger_entries e LEFT JOIN meters m ON m.tenant_id = e.tenant_id AND m.account_id = e.account_id
         WHERE e.tenant_id = $1 AND e.id = $2",
    ),
    (
        "settlement_anomalies",
        "SELECT m.property_id AS p FROM settlement_anomalies x JOIN meters m ON m.tenant_id = x.tenant_id AND m.id = x.meter_id
         WHERE x.tenant_id = $1 AND x.id = $2",
    ),
    (
        "payment_refunds",
        "SELECT m.property_id AS p FROM payment_refunds r JOIN payment_orders o ON o.tenant_id = r.tenant_id AND o.id = r.order_id
         LEFT JOIN meters m ON m.tenant_id = o.tenant_id AND m.account_id = o.account_id WHERE r.tenant_id = $1 AND r.id = $2",
    ),
    (
        "payment_differences",
        "SELECT p.property_id AS p FROM payment_differences d JOIN payees p ON p.tenant_id = d.tenant_id AND p.id = d.payee_id WHERE d.tenant_id = $1 AND d.id = $2",
    ),
];

/// Tables whose every property must be in scope (an object spanning properties is not a
/// scoped operator's to act on): a batch's meters, an operator's properties (an operator of
/// all properties is in no scope), a shared area's common meter and members (a run charges
/// every member).
pub(crate) const WHOLLY_SCOPED_TABLES: &[(&str, &str)] = &[
    (
        "allocation_groups",
        "SELECT m.property_id AS p FROM allocation_groups g JOIN meters m ON m.tenant_id = g.tenant_id AND m.id = g.meter_id
         WHERE g.tenant_id = $1 AND g.id = $2
         UNION ALL SELECT m.property_id AS p FROM allocation_members a JOIN meters m ON m.tenant_id = a.tenant_id AND m.account_id = a.account_id
         WHERE a.tenant_id = $1 AND a.group_id = $2",
    ),
    (
        "command_batches",
        "SELECT m.property_id AS p FROM command_batches b JOIN commands c ON c.tenant_id = b.tenant_id AND c.batch_id = b.id
         JOIN meters m ON m.tenant_id = c.tenant_id AND m.id = c.meter_id WHERE b.tenant_id = $1 AND b.id = $2",
    ),
    (
        "operators",
        "SELECT CASE WHEN o.all_properties <> 0 THEN '*' ELSE x.property_id END AS p FROM operators o
         LEFT JOIN operator_properties x ON x.tenant_id = o.tenant_id AND x.operator_id = o.id WHERE o.tenant_id = $1 AND o.id = $2",
    ),
];

/// Where an id named in a request stands for a property-scoped principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// An object of the principal's properties (or of none: a customer without accounts).
    InScope,
    /// An object of another property: it must look like another tenant's (not found).
    OutOfScope,
    /// A tenant-wide reference object (a tariff).
    Shared,
    /// Nothing a scoped principal may name: no such object, or a tenant-wide one (roles,
    /// park clients, …).
    Unknown,
}

pub(crate) fn in_list(args: &mut Args, items: &[String]) -> String {
    if items.is_empty() {
        return "(NULL)".into();
    }
    let marks: Vec<String> = items.iter().map(|i| format!("${}", args.push(i.clone().into()))).collect();
    format!("({})", marks.join(", "))
}

impl TenantStore {
    /// Where `id` (canonical UUID text) stands for a principal limited to `scope`.
    pub async fn scope_of(&self, id: &str, scope: &[String]) -> Result<Named> {
        for (table, sql) in SCOPED_TABLES {
            let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args().s(id))).await?;
            if rows.is_empty() {
                continue;
            }
            let properties: Vec<Option<String>> = rows.iter().map(|r| r.try_get("", "p")).collect::<std::result::Result<_, _>>()?;
            // In scope when one of its properties is. Bound to none: a customer without
            // accounts yet is anyone's to open one for; anything else (a tenant-wide payee,
            // an account whose meters were all released) is no scoped operator's.
            let known: Vec<&String> = properties.iter().flatten().collect();
            let in_scope = if known.is_empty() { *table == "customers" } else { known.iter().any(|p| scope.contains(p)) };
            return Ok(if in_scope { Named::InScope } else { Named::OutOfScope });
        }
        for (_, sql) in WHOLLY_SCOPED_TABLES {
            let rows = self.db().query_all_raw(stmt(self.backend(), sql, self.args().s(id))).await?;
            if rows.is_empty() {
                continue;
            }
            let properties: Vec<Option<String>> = rows.iter().map(|r| r.try_get("", "p")).collect::<std::result::Result<_, _>>()?;
            let all_in = properties.iter().all(|p| p.as_ref().is_some_and(|p| scope.contains(p)));
            return Ok(if all_in { Named::InScope } else { Named::OutOfScope });
        }
        for table in SHARED_TABLES {
            let sql = format!("SELECT 1 AS x FROM {table} WHERE tenant_id = $1 AND id = $2");
            if self.db().query_one_raw(stmt(self.backend(), &sql, self.args().s(id))).await?.is_some() {
                return Ok(Named::Shared);
            }
        }
        Ok(Named::Unknown)
    }

    /// Whether a principal limited to `scope` may make a call naming `ids` (canonical): every
    /// id names an object of its properties, except tenant-wide reference objects (tariffs),
    /// which a read may name and a change only beside an object of its own. Anything else —
    /// another property's object, an unknown or tenant-wide id — is refused.
    pub async fn within_scope(&self, ids: &[String], scope: &[String], read_only: bool) -> Result<bool> {
        let mut own = false;
        let mut shared = false;
        for id in ids {
            match self.scope_of(id, scope).await? {
                Named::InScope => own = true,
                Named::Shared => shared = true,
                Named::OutOfScope | Named::Unknown => return Ok(false),
            }
        }
        Ok(!shared || own || read_only)
    }

    /// ` AND {column} IN (…)` for a property-scoped handle, empty otherwise.
    pub(crate) fn scope_clause(&self, column: &str, args: &mut Args) -> String {
        match &self.scope {
            None => String::new(),
            Some(props) => format!(" AND {column} IN {}", in_list(args, props)),
        }
    }
}
