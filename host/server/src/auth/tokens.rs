//! Signed-in users' credentials: argon2id password hashes, short-lived JWT
//! access tokens (HS256) and opaque refresh tokens.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// How long an access token lives.
pub const ACCESS_TTL: Duration = Duration::from_secs(15 * 60);
/// How long a refresh token lives.
pub const REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
const ISSUER: &str = "powerautomation";
const AUDIENCE: &str = "pa-api";

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Username.
    pub name: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Expiry (seconds since the epoch).
    pub exp: u64,
}

fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// Signs an access token for a user.
pub fn issue_access(key: &[u8], user_id: &str, username: &str) -> String {
    let now = epoch_secs();
    let claims = Claims {
        sub: user_id.to_string(),
        name: username.to_string(),
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        iat: now,
        exp: now + ACCESS_TTL.as_secs(),
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(key))
        .expect("HS256 signing does not fail")
}

/// Checks an access token's signature, algorithm, issuer, audience and expiry.
pub fn verify_access(key: &[u8], token: &str) -> Result<Claims, String> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.leeway = 0;
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(key), &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the access token has expired; refresh it".to_string(),
            jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                "the access token's signature is not valid".to_string()
            }
            _ => format!("the access token is not valid: {e}"),
        })
}

/// Whether a bearer token is shaped like a JWT (three base64url parts).
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3 && token.starts_with("eyJ")
}

/// A new random secret: `prefix` and 48 hex digits.
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 24];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// The stored form of the time `after` from now.
pub fn rfc3339_in(after: Duration) -> String {
    pa_store::format_time(time::OffsetDateTime::now_utc() + after)
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default parameters does not fail")
        .to_string()
}

/// A hash to verify against when the user does not exist, so the answer takes
/// as long either way.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_password("not a real password"));

/// Checks a password against a stored hash (`None`: no such user; still takes the time).
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    let matches = |hash: &str| {
        PasswordHash::new(hash)
            .map(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
            .unwrap_or(false)
    };
    match stored {
        Some(hash) => matches(hash),
        None => {
            matches(DUMMY_HASH.as_str());
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", Some(&hash)));
        assert!(!verify_password("wrong", Some(&hash)));
        assert!(!verify_password("correct horse", None));
        assert!(!verify_password("x", Some("not a hash")));
    }

    #[test]
    fn access_tokens_are_checked() {
        let token = issue_access(b"k1", "u1", "ada");
        assert!(looks_like_jwt(&token));
        assert_eq!(verify_access(b"k1", &token).unwrap().sub, "u1");
        assert!(verify_access(b"k2", &token).unwrap_err().contains("signature"));
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"sub": "admin", "name": "x", "iss": ISSUER, "aud": AUDIENCE, "iat": 0, "exp": u64::MAX / 2}),
            &EncodingKey::from_secret(b"k2"),
        )
        .unwrap();
        let forged_payload = forged.split('.').nth(1).unwrap().to_string();
        parts[1] = &forged_payload;
        assert!(
            verify_access(b"k1", &parts.join(".")).is_err(),
            "a swapped payload fails"
        );
        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"sub": "u1", "name": "ada", "iss": ISSUER, "aud": AUDIENCE, "iat": 0, "exp": 1}),
            &EncodingKey::from_secret(b"k1"),
        )
        .unwrap();
        assert!(verify_access(b"k1", &expired).unwrap_err().contains("expired"));
    }
}
