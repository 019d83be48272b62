//! Who is calling: bearer tokens (HS256 JWT), password hashes (argon2id), the login
//! throttle, and the principal a request runs as. Tokens name the principal kind, the tenant
//! and (for people) the session; resolvers never take a tenant id from the request body.
//! `alg: none` and every algorithm but HS256 are refused.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm as ArgonAlg, Argon2, Params, Version};
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use domain::access::{ParkScope, PermissionSet, ThrottlePolicy};
use domain::ids::TenantId;
use store::counters::Counters;
use store::{Store, TenantStore};

/// Access tokens live this long; refresh tokens renew them.
pub const ACCESS_TTL: chrono::Duration = chrono::Duration::minutes(15);
/// A session (the refresh token chain) ends this long after login.
pub const SESSION_TTL: chrono::Duration = chrono::Duration::days(7);
/// Customer (mini-program) sessions.
pub const CUSTOMER_SESSION_TTL: chrono::Duration = chrono::Duration::days(30);
/// Park-platform client tokens (client credentials, no refresh).
pub const PARK_TTL: chrono::Duration = chrono::Duration::hours(1);

const ISSUER: &str = "voltledger";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Operator,
    Customer,
    Park,
    Admin,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Operator id, openid, park client row id, or `platform-admin`.
    pub sub: String,
    /// Tenant id (absent for the SaaS admin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    pub kind: Kind,
    /// Session id (operators and customers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(<redacted>)")
    }
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret) }
    }

    pub fn issue(
        &self,
        kind: Kind,
        tenant: Option<&TenantId>,
        sub: &str,
        sid: Option<&str>,
        ttl: chrono::Duration,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: sub.to_string(),
            tid: tenant.map(|t| t.to_string()),
            kind,
            sid: sid.map(str::to_string),
            iss: ISSUER.into(),
            iat: now,
            exp: now + ttl.num_seconds(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The claims of a well-signed, unexpired HS256 token of ours.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 5;
        decode::<Claims>(token, &self.decoding, &validation).ok().map(|d| d.claims)
    }
}

// ---- passwords ----

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(ArgonAlg::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| e.to_string())?;
    argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// Spends the same time as a real check when the account does not exist, so timing does
/// not tell which usernames are taken.
pub fn burn_password_check(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("not a real password, only for timing").unwrap_or_default());
    let _ = verify_password(password, hash);
}

// ---- the login throttle ----

/// Counts login attempts per address and failures per account, in the store's expiring
/// counters: Redis when configured (shared by every API replica), in-process with the
/// embedded default.
pub struct Throttle {
    policy: ThrottlePolicy,
    counters: Counters,
}

/// Refused for `retry_after_s` seconds.
#[derive(Debug, Clone, Copy)]
pub struct Throttled {
    pub retry_after_s: u64,
}

impl Throttle {
    pub fn memory(policy: ThrottlePolicy) -> Self {
        Throttle { policy, counters: Counters::memory() }
    }

    pub async fn redis(url: &str, namespace: &str, policy: ThrottlePolicy) -> Result<Self, String> {
        Ok(Throttle { policy, counters: Counters::redis(url, &format!("{namespace}:login")).await? })
    }

    fn policy(&self) -> ThrottlePolicy {
        self.policy
    }

    async fn bump(&self, key: &str, by: u64, ttl_s: u64) -> (u64, u64) {
        self.counters.bump(key, by, ttl_s).await
    }

    async fn clear(&self, key: &str) {
        self.counters.clear(key).await
    }

    /// Called before a secret is checked, in one of separate buckets (`login`, `refresh`,
    /// `wechat`, `token`): counts the attempt from `address` against its rate in that bucket,
    /// and counts it against the pair (account, address) *now* — so a burst of parallel
    /// guesses is counted before any is checked, and refused past the limit. A lock is per
    /// (account, address): an attacker elsewhere cannot lock a victim out by failing on
    /// purpose. A success clears the pair ([`Throttle::succeeded`]).
    pub async fn attempt(&self, bucket: &str, account: &str, address: &str) -> Result<(), Throttled> {
        let p = self.policy();
        let (from_address, left) = self.bump(&format!("addr:{bucket}:{address}"), 1, p.window_s).await;
        if from_address > p.address_attempts {
            return Err(Throttled { retry_after_s: left.max(1) });
        }
        if account.is_empty() {
            return Ok(()); // a bucket limited by address only (refresh, WeChat login)
        }
        let (tries, left) = self.bump(&format!("acct:{bucket}:{account}@{address}"), 1, p.lockout_s).await;
        if tries > p.account_failures {
            return Err(Throttled { retry_after_s: left.max(1) });
        }
        Ok(())
    }

    /// A plain rate: at most `limit` calls per `window_s` for `key` in `bucket`.
    pub async fn rate(&self, bucket: &str, key: &str, limit: u64, window_s: u64) -> Result<(), Throttled> {
        let (count, left) = self.bump(&format!("rate:{bucket}:{key}"), 1, window_s).await;
        // Counters unavailable (Redis down): a rate fails open; logins still fail closed.
        if count > limit && count != u64::MAX { Err(Throttled { retry_after_s: left.max(1) }) } else { Ok(()) }
    }

    pub async fn succeeded(&self, bucket: &str, account: &str, address: &str) {
        self.clear(&format!("acct:{bucket}:{account}@{address}")).await;
    }
}

// ---- the principal ----

/// Who a request runs as, resolved from its token and the store on every request (so a
/// revoked session, a disabled operator or a changed role takes effect at once).
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    Operator {
        tenant: TenantId,
        id: String,
        username: String,
        session: String,
        permissions: PermissionSet,
        /// `None` = every property of the tenant.
        properties: Option<Vec<String>>,
    },
    Customer {
        tenant: TenantId,
        openid: String,
        session: String,
        /// The customer the openid is bound to, once bound.
        customer: Option<String>,
    },
    Park {
        tenant: TenantId,
        client: String,
        name: String,
        scopes: Vec<ParkScope>,
        properties: Vec<String>,
    },
    /// The SaaS operator (tenants only): a console login (`id` its operator id, `name` its
    /// username) or a CLI token (`platform-admin`).
    Admin {
        id: String,
        name: String,
    },
}

impl Principal {
    pub fn kind(&self) -> &'static str {
        match self {
            Principal::Operator { .. } => "operator",
            Principal::Customer { .. } => "customer",
            Principal::Park { .. } => "park",
            Principal::Admin { .. } => "admin",
        }
    }

    /// (id, display name) for the audit log.
    pub fn actor(&self) -> (String, String) {
        match self {
            Principal::Operator { id, username, .. } => (id.clone(), username.clone()),
            Principal::Customer { openid, customer, .. } => (openid.clone(), customer.clone().unwrap_or_default()),
            Principal::Park { client, name, .. } => (client.clone(), name.clone()),
            Principal::Admin { id, name } => (id.clone(), name.clone()),
        }
    }
}

/// How a customer signed in, read from the login's subject: the mini-program's openid as
/// is, the official account's openid after `oa:`, a login by account number and binding code
/// (the mobile pages outside WeChat) as `code:` and the customer's id. Openids are checked to
/// be WeChat's alphabet (`connectors::wechat::is_openid`) before they become subjects, so no
/// answer from WeChat can name another kind of login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerLogin<'a> {
    /// The mini-program (openid under the mini-program's AppID).
    MiniProgram(&'a str),
    /// The mobile pages in WeChat's browser (openid under the official account's AppID).
    OfficialAccount(&'a str),
    /// The mobile pages elsewhere: no WeChat identity, so no WeChat Pay and no subscriptions.
    Code,
}

pub const OFFICIAL_ACCOUNT_PREFIX: &str = "oa:";
pub const CODE_PREFIX: &str = "code:";

impl<'a> CustomerLogin<'a> {
    pub fn of(subject: &'a str) -> Self {
        if let Some(openid) = subject.strip_prefix(OFFICIAL_ACCOUNT_PREFIX) {
            CustomerLogin::OfficialAccount(openid)
        } else if subject.starts_with(CODE_PREFIX) {
            CustomerLogin::Code
        } else {
            CustomerLogin::MiniProgram(subject)
        }
    }
}

/// What a bearer token amounts to.
// Made once per request and taken apart at once: the size of the store handle does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Authenticated {
    /// A live principal and, for tenant principals, the store handle it may use.
    Principal(Box<Principal>, Option<TenantStore>),
    /// A valid token of a suspended tenant.
    Suspended,
}

/// The subject of SaaS-operator tokens minted by the CLI (`voltledger admin-token`).
pub use store::CLI_ADMIN;

/// Resolves a bearer token: signature, expiry, kind, tenant state, then the live session,
/// operator, client or binding behind it. `None` for anything not valid.
pub async fn authenticate(store: &Store, keys: &TokenKeys, token: &str) -> Option<Authenticated> {
    let claims = keys.verify(token)?;
    if claims.kind == Kind::Admin {
        if claims.tid.is_some() {
            return None;
        }
        let name = match claims.sid.as_deref() {
            // A token minted by `voltledger admin-token` on the server itself.
            None if claims.sub == CLI_ADMIN => CLI_ADMIN.to_string(),
            None => return None,
            // A console login: its session must still be open and its operator active.
            Some(session) => store
                .platform()
                .console_session_live(session, &claims.sub, Utc::now())
                .await
                .map_err(|e| tracing::error!(cause = %e, "console session lookup failed"))
                .ok()??,
        };
        return Some(Authenticated::Principal(Box::new(Principal::Admin { id: claims.sub, name }), None));
    }
    let tenant = TenantId::parse(claims.tid.as_deref()?)?;
    if !store.tenant_active(&tenant) {
        return Some(Authenticated::Suspended);
    }
    let t = store.tenant(tenant.clone());
    let now = Utc::now();
    let lookup = |e: store::StoreError| tracing::error!(cause = %e, "token lookup failed");
    match claims.kind {
        Kind::Operator => {
            let session = claims.sid?;
            let op = t.active_operator(&session, &claims.sub, now).await.map_err(lookup).ok()??;
            let t = t.scoped(op.properties.clone()).acting_as(&op.username);
            let principal = Principal::Operator {
                tenant,
                id: op.id,
                username: op.username,
                session,
                permissions: op.role.permissions,
                properties: op.properties,
            };
            Some(Authenticated::Principal(Box::new(principal), Some(t)))
        }
        Kind::Customer => {
            let session = claims.sid?;
            if !t.session_live(&session, "customer", &claims.sub, now).await.map_err(lookup).ok()? {
                return None;
            }
            let customer = t.customer_of_openid(&claims.sub).await.map_err(lookup).ok()?;
            Some(Authenticated::Principal(Box::new(Principal::Customer { tenant, openid: claims.sub, session, customer }), Some(t)))
        }
        Kind::Park => {
            let client = t.park_client(&claims.sub).await.map_err(lookup).ok()??;
            if client.revoked_at.is_some() || client.rotated_at.is_some_and(|r| r.timestamp() > claims.iat) {
                return None;
            }
            let scopes = client.scopes.iter().filter_map(|s| ParkScope::parse(s)).collect();
            let t = t.scoped(Some(client.properties.clone()));
            let principal = Principal::Park { tenant, client: client.id, name: client.name, scopes, properties: client.properties };
            Some(Authenticated::Principal(Box::new(principal), Some(t)))
        }
        Kind::Admin => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tokens_with_a_wrong_key_alg_none_another_issuer_or_expired_are_refused() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef");
        let tenant = TenantId::from_uuid(uuid::Uuid::new_v4());
        let token = keys.issue(Kind::Operator, Some(&tenant), "op", Some("s1"), chrono::Duration::hours(1)).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(claims.tid.as_deref(), Some(tenant.as_str()));
        assert_eq!(claims.kind, Kind::Operator);
        assert!(TokenKeys::new(b"another key another key another!").verify(&token).is_none());
        let expired = keys.issue(Kind::Operator, Some(&tenant), "op", Some("s1"), chrono::Duration::hours(-2)).unwrap();
        assert!(keys.verify(&expired).is_none());
        // alg none: header {"alg":"none"} with the same claims and no signature.
        let parts: Vec<&str> = token.split('.').collect();
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1]);
        assert!(keys.verify(&none).is_none());
        // HS512 with the same secret: a different algorithm is refused too.
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &keys.verify(&token).unwrap(),
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .unwrap();
        assert!(keys.verify(&hs512).is_none());
    }

    #[test]
    fn argon2id_hashes_verify_only_the_same_password() {
        let hash = hash_password("Dian-Biao 2026").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("Dian-Biao 2026", &hash));
        assert!(!verify_password("Dian-Biao 2027", &hash));
        assert!(!verify_password("Dian-Biao 2026", "not a hash"));
    }

    #[tokio::test]
    async fn the_memory_throttle_locks_an_account_and_limits_an_address() {
        let t = Throttle::memory(ThrottlePolicy { account_failures: 3, address_attempts: 5, window_s: 60, lockout_s: 60 });
        for _ in 0..3 {
            assert!(t.attempt("login", "a", "1.2.3.4").await.is_ok());
        }
        assert!(t.attempt("login", "a", "1.2.3.4").await.is_err(), "locked after three attempts without success");
        assert!(t.attempt("login", "a", "9.9.9.9").await.is_ok(), "not for the account's owner elsewhere");
        assert!(t.attempt("login", "b", "1.2.3.4").await.is_ok(), "the fifth attempt from the address");
        assert!(t.attempt("login", "b", "1.2.3.4").await.is_err(), "the address is over its rate");
        assert!(t.attempt("refresh", "b", "1.2.3.4").await.is_ok(), "another bucket counts apart");
        assert!(t.attempt("login", "c", "5.6.7.8").await.is_ok());
        t.succeeded("login", "c", "5.6.7.8").await;
        assert!(t.attempt("login", "c", "5.6.7.8").await.is_ok());
    }
}
