//! Bearer tokens (HS256 JWT). The token names the principal kind and the tenant; resolvers
//! never take a tenant id from the request body. `alg: none` and other algorithms are refused.

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::domain::ids::TenantId;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    /// Tenant id.
    pub tid: String,
    /// Principal kind: `operator` for now (customers and park platforms come with issue 5).
    pub kind: String,
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

    /// A tenant administrator token, as printed by `voltledger tenant create`.
    pub fn issue_admin(&self, tenant: &TenantId, ttl: chrono::Duration) -> Result<String, jsonwebtoken::errors::Error> {
        let now = Utc::now().timestamp();
        let claims =
            Claims { sub: "tenant-admin".into(), tid: tenant.to_string(), kind: "operator".into(), iat: now, exp: now + ttl.num_seconds() };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The tenant a valid token speaks for.
    pub fn verify(&self, token: &str) -> Option<TenantId> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = decode::<Claims>(token, &self.decoding, &validation).ok()?;
        (data.claims.kind == "operator").then_some(())?;
        TenantId::parse(&data.claims.tid)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tokens_with_a_wrong_key_alg_none_or_expired_are_refused() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef");
        let tenant = TenantId::from_uuid(uuid::Uuid::new_v4());
        let token = keys.issue_admin(&tenant, chrono::Duration::hours(1)).unwrap();
        assert_eq!(keys.verify(&token), Some(tenant.clone()));
        assert_eq!(TokenKeys::new(b"another key another key another!").verify(&token), None);
        let expired = keys.issue_admin(&tenant, chrono::Duration::hours(-2)).unwrap();
        assert_eq!(keys.verify(&expired), None);
        // alg none: header {"alg":"none"} with the same claims and no signature.
        let parts: Vec<&str> = token.split('.').collect();
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1]);
        assert_eq!(keys.verify(&none), None);
    }
}
