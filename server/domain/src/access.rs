//! Who may do what: permissions, the built-in roles, the password policy and the login
//! throttle's arithmetic. Pure; the store keeps roles, the API enforces them.

use std::collections::BTreeSet;

use super::Invalid;

/// One thing an operator may be allowed to do (权限). Reading what is in scope needs none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// Tenant settings: tariffs, prices, friendly hours, notification settings (设置).
    Settings,
    /// The registry: properties, areas, customers, gateways, meters, accounts (档案).
    Meters,
    /// Remote control: trip, close, hold power, pushes, batches (远程控制).
    Control,
    /// Sales: recharges, purchases, transfers, invoices (售电).
    Sales,
    /// Refunds and reversals (退费/冲正).
    Refunds,
    /// Reports, bills and finance figures (报表).
    Reports,
    /// Operators, roles, sessions, park clients and the audit log (操作员).
    Operators,
    /// Payee merchant accounts (收款账户).
    Payees,
    /// Forwarding to park platforms (数据转发).
    Forwarding,
}

pub const ALL_PERMISSIONS: [Permission; 9] = [
    Permission::Settings,
    Permission::Meters,
    Permission::Control,
    Permission::Sales,
    Permission::Refunds,
    Permission::Reports,
    Permission::Operators,
    Permission::Payees,
    Permission::Forwarding,
];

impl Permission {
    pub fn code(self) -> &'static str {
        match self {
            Permission::Settings => "SETTINGS",
            Permission::Meters => "METERS",
            Permission::Control => "CONTROL",
            Permission::Sales => "SALES",
            Permission::Refunds => "REFUNDS",
            Permission::Reports => "REPORTS",
            Permission::Operators => "OPERATORS",
            Permission::Payees => "PAYEES",
            Permission::Forwarding => "FORWARDING",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        ALL_PERMISSIONS.into_iter().find(|p| p.code() == code)
    }
}

/// A set of permissions, stored as a comma-separated list of codes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionSet(BTreeSet<Permission>);

impl PermissionSet {
    pub fn of(perms: &[Permission]) -> Self {
        Self(perms.iter().copied().collect())
    }

    pub fn all() -> Self {
        Self::of(&ALL_PERMISSIONS)
    }

    pub fn has(&self, p: Permission) -> bool {
        self.0.contains(&p)
    }

    /// Whether every permission of `other` is here.
    pub fn covers(&self, other: &PermissionSet) -> bool {
        other.0.is_subset(&self.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = Permission> + '_ {
        self.0.iter().copied()
    }

    /// Reads a stored list; unknown codes are dropped (a permission removed from the product
    /// grants nothing).
    pub fn decode(stored: &str) -> Self {
        Self(stored.split(',').filter_map(|c| Permission::parse(c.trim())).collect())
    }

    pub fn encode(&self) -> String {
        self.0.iter().map(|p| p.code()).collect::<Vec<_>>().join(",")
    }

    /// From user input: every code must be known.
    pub fn parse_input(field: &'static str, codes: &[String]) -> Result<Self, Invalid> {
        let mut set = BTreeSet::new();
        for c in codes {
            set.insert(Permission::parse(c).ok_or_else(|| Invalid::new(field, format!("unknown permission {c}")))?);
        }
        Ok(Self(set))
    }
}

/// The roles every tenant starts with (内置角色).
pub fn builtin_roles() -> [(&'static str, PermissionSet); 4] {
    use Permission::*;
    [
        ("tenant admin", PermissionSet::all()),
        ("finance", PermissionSet::of(&[Sales, Refunds, Reports, Payees])),
        ("operator", PermissionSet::of(&[Meters, Control, Sales])),
        ("viewer", PermissionSet::default()),
    ]
}

pub const TENANT_ADMIN_ROLE: &str = "tenant admin";

/// The password policy (密码策略): 10 to 128 characters, at least three of lower case, upper
/// case, digits and symbols, not containing the username, not one of the commonest passwords.
pub fn check_password(username: &str, password: &str) -> Result<(), Invalid> {
    let field = "password";
    let n = password.chars().count();
    if n < 10 {
        return Err(Invalid::new(field, "at least 10 characters"));
    }
    if n > 128 {
        return Err(Invalid::new(field, "at most 128 characters"));
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|x| **x).count() < 3 {
        return Err(Invalid::new(field, "use at least three of: lower case, upper case, digits, symbols"));
    }
    let lower = password.to_lowercase();
    if username.chars().count() >= 3 && lower.contains(&username.to_lowercase()) {
        return Err(Invalid::new(field, "must not contain the username"));
    }
    const COMMON: [&str; 8] = ["password", "qwerty", "123456", "admin", "letmein", "welcome", "iloveyou", "abc123"];
    if COMMON.iter().any(|c| lower.contains(c)) {
        return Err(Invalid::new(field, "too easy to guess"));
    }
    Ok(())
}

/// Login throttling limits (per account and per source address).
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failed logins of one account within `window_s` that lock it.
    pub account_failures: u64,
    /// Login attempts from one address within `window_s`.
    pub address_attempts: u64,
    pub window_s: u64,
    /// How long a lock lasts.
    pub lockout_s: u64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self { account_failures: 5, address_attempts: 30, window_s: 900, lockout_s: 900 }
    }
}

/// What a park-platform client token may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ParkScope {
    BillsRead,
    EnergyRead,
}

impl ParkScope {
    pub fn code(self) -> &'static str {
        match self {
            ParkScope::BillsRead => "bills:read",
            ParkScope::EnergyRead => "energy:read",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [ParkScope::BillsRead, ParkScope::EnergyRead].into_iter().find(|s| s.code() == code)
    }
}

/// What a grantor (an operator: its permissions and property scope, `None` = every
/// property) may give another operator or a role: never more than it holds itself —
/// no permission it lacks, no property outside its scope, and a scoped grantor never "all
/// properties". `scope` is `None` when unchanged, `Some(None)` for all properties.
pub fn may_grant(
    grantor: (&PermissionSet, Option<&[String]>),
    permissions: Option<&PermissionSet>,
    scope: Option<Option<&[String]>>,
) -> Result<(), Invalid> {
    let (held, own) = grantor;
    if let Some(p) = permissions
        && !held.covers(p)
    {
        return Err(Invalid::new("permissions", "you cannot grant permissions you do not hold"));
    }
    match (scope, own) {
        (Some(None), Some(_)) => Err(Invalid::new("propertyIds", "you are limited to some properties and cannot grant all of them")),
        (Some(Some(wanted)), Some(own)) if wanted.iter().any(|p| !own.contains(p)) => {
            Err(Invalid::new("propertyIds", "you cannot grant properties outside your own"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[allow(clippy::unwrap_used)]
    fn nobody_grants_more_than_it_holds() {
        use Permission::*;
        let me = PermissionSet::of(&[Meters, Operators]);
        let mine = vec!["p1".to_string()];
        assert!(may_grant((&me, None), Some(&PermissionSet::of(&[Meters])), Some(None)).is_ok());
        assert_eq!(may_grant((&me, None), Some(&PermissionSet::of(&[Settings])), None).unwrap_err().field, "permissions");
        assert_eq!(may_grant((&me, Some(&mine)), None, Some(None)).unwrap_err().field, "propertyIds");
        let wider = vec!["p1".to_string(), "p2".to_string()];
        assert_eq!(may_grant((&me, Some(&mine)), None, Some(Some(&wider))).unwrap_err().field, "propertyIds");
        assert!(may_grant((&me, Some(&mine)), Some(&me), Some(Some(&mine))).is_ok());
        assert!(may_grant((&me, Some(&mine)), None, None).is_ok(), "unchanged scope");
    }
    use super::*;

    #[test]
    fn password_policy() {
        assert!(check_password("li", "Short1!").is_err());
        assert!(check_password("li", "alllowercaseletters").is_err());
        assert!(check_password("wangfang", "Wangfang2026!").is_err());
        assert!(check_password("li", "MyPassword99").is_err());
        assert!(check_password("li", "Dian-Biao 2026").is_ok());
        assert!(check_password("li", "电表余额充值Ab12").is_ok());
    }

    #[test]
    fn permission_sets_round_trip_and_drop_unknown_codes() {
        let set = PermissionSet::of(&[Permission::Control, Permission::Sales]);
        assert_eq!(PermissionSet::decode(&set.encode()), set);
        assert_eq!(PermissionSet::decode("SALES,FLY"), PermissionSet::of(&[Permission::Sales]));
        assert!(PermissionSet::parse_input("permissions", &["FLY".into()]).is_err());
        assert_eq!(builtin_roles()[0].1, PermissionSet::all());
        assert!(!builtin_roles()[3].1.has(Permission::Meters));
    }
}
