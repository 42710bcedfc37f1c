//! OpenID Connect sign-in: the authorization code flow with PKCE (S256), the
//! provider found by discovery, and the ID token checked against its JWKS
//! (signature, issuer, audience, expiry, nonce).

use std::sync::LazyLock;
use std::time::Duration;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Digest;
use utoipa::ToSchema;

use super::{ExternalIdentity, RoleRule};
use crate::error::ApiError;

/// The path of the platform's redirect URI.
pub const CALLBACK_PATH: &str = "/api/v1/auth/oidc/callback";

/// An OpenID Connect provider's settings.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The issuer URL (its discovery document is under `/.well-known/openid-configuration`).
    #[schema(pattern = r"^(https://\S+|http://(127\.0\.0\.1|localhost|\[::1\])([:/]\S*)?)$")]
    pub issuer: String,
    /// The client id the provider registered for this tenant.
    #[schema(pattern = "^[^\\x00 ]+$")]
    pub client_id: String,
    /// The client secret, for a confidential client (sent as `client_secret_post`).
    #[schema(pattern = "^[^\\x00 ]+$")]
    pub client_secret: Option<String>,
    /// This platform's callback as registered at the provider:
    /// `https://<platform>/api/v1/auth/oidc/callback`.
    #[schema(pattern = r"^(https://\S+|http://(127\.0\.0\.1|localhost|\[::1\])([:/]\S*)?)/api/v1/auth/oidc/callback$")]
    pub redirect_uri: String,
    /// Scopes asked for besides `openid` (always asked for), separated by spaces.
    #[serde(default = "default_scope")]
    #[schema(pattern = "^[^\\x00]*$")]
    pub scope: String,
    /// The ID token claim that lists the user's groups.
    #[serde(default = "default_groups_claim")]
    #[schema(pattern = "^[^\\x00 ]+$")]
    pub groups_claim: String,
    /// Groups and the roles they give, first match wins.
    #[schema(min_items = 1)]
    pub roles: Vec<RoleRule>,
}

fn default_scope() -> String {
    "profile email".into()
}

fn default_groups_claim() -> String {
    "groups".into()
}

/// Whether `url` is https, or plain http on a loopback host (a provider on
/// the same machine). Anything else about it is the provider's to answer.
fn acceptable_url(url: &str) -> bool {
    if let Some(rest) = url.strip_prefix("https://") {
        return !rest.is_empty() && !url.contains(char::is_whitespace);
    }
    ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|host| {
            url.strip_prefix(host)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
        })
}

impl OidcConfig {
    /// Checks the settings' shape.
    pub fn validate(&self) -> Result<(), ApiError> {
        if !acceptable_url(&self.issuer) {
            return Err(ApiError::bad_request(format!(
                "invalid issuer `{}`: use an https URL (http only on a loopback host)",
                self.issuer
            )));
        }
        if !acceptable_url(&self.redirect_uri) || !self.redirect_uri.ends_with(CALLBACK_PATH) {
            return Err(ApiError::bad_request(format!(
                "invalid redirect_uri `{}`: use this platform's https://<host>{CALLBACK_PATH}",
                self.redirect_uri
            )));
        }
        let texts = [&self.client_id, &self.groups_claim]
            .into_iter()
            .chain(self.client_secret.iter());
        for text in texts {
            if text.is_empty() || text.contains(['\0', ' ']) {
                return Err(ApiError::bad_request(
                    "client_id, client_secret and groups_claim must be non-empty, without spaces or NUL",
                ));
            }
        }
        if self.scope.contains('\0') {
            return Err(ApiError::bad_request("`scope` must not contain NUL characters"));
        }
        Ok(())
    }
}

/// The client the platform talks to providers with.
static HTTP: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a TLS backend is compiled in")
});

fn provider_failed(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        "identity_provider_failed",
        format!("the OpenID provider failed: {what}: {e}"),
    )
}

fn refused(message: String) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

/// The endpoints discovery gives.
#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

async fn get_json<T: serde::de::DeserializeOwned>(url: &str, what: &str) -> Result<T, ApiError> {
    let response = HTTP.get(url).send().await.map_err(|e| provider_failed(what, e))?;
    if !response.status().is_success() {
        return Err(provider_failed(what, format!("status {}", response.status())));
    }
    response.json().await.map_err(|e| provider_failed(what, e))
}

async fn discover(config: &OidcConfig) -> Result<Discovery, ApiError> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        config.issuer.trim_end_matches('/')
    );
    let found: Discovery = get_json(&url, "discovery").await?;
    if found.issuer.trim_end_matches('/') != config.issuer.trim_end_matches('/') {
        return Err(provider_failed(
            "discovery",
            format!("it names issuer `{}`, not `{}`", found.issuer, config.issuer),
        ));
    }
    Ok(found)
}

/// A sign-in to start: where to send the browser, and what to keep for the callback.
pub struct Start {
    /// The provider's authorization URL with every parameter.
    pub location: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
}

/// The provider's authorization URL for a sign-in with `state`.
pub async fn start(config: &OidcConfig, state: &str) -> Result<Start, ApiError> {
    let found = discover(config).await?;
    let verifier = crate::auth::tokens::random_token("");
    let nonce = crate::auth::tokens::random_token("");
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let scope = std::iter::once("openid")
        .chain(config.scope.split_whitespace().filter(|s| *s != "openid"))
        .collect::<Vec<_>>()
        .join(" ");
    let location = Url::parse_with_params(
        &found.authorization_endpoint,
        [
            ("response_type", "code"),
            ("client_id", config.client_id.as_str()),
            ("redirect_uri", config.redirect_uri.as_str()),
            ("scope", scope.as_str()),
            ("state", state),
            ("nonce", nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .map_err(|e| provider_failed("discovery", format!("invalid authorization_endpoint: {e}")))?;
    Ok(Start {
        location: location.into(),
        verifier,
        nonce,
    })
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: String,
}

/// Redeems `code` with the PKCE `verifier` and checks the ID token.
pub async fn finish(
    config: &OidcConfig,
    code: &str,
    verifier: &str,
    nonce: &str,
) -> Result<ExternalIdentity, ApiError> {
    let found = discover(config).await?;
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", config.redirect_uri.as_str()),
        ("client_id", config.client_id.as_str()),
        ("code_verifier", verifier),
    ];
    if let Some(secret) = &config.client_secret {
        form.push(("client_secret", secret));
    }
    let response = HTTP
        .post(&found.token_endpoint)
        .form(&form)
        .send()
        .await
        .map_err(|e| provider_failed("token", e))?;
    if response.status().is_client_error() {
        let body: Value = response.json().await.unwrap_or_default();
        let error = body["error"].as_str().unwrap_or("refused");
        return Err(refused(format!("the OpenID provider refused the code: {error}")));
    }
    if !response.status().is_success() {
        return Err(provider_failed("token", format!("status {}", response.status())));
    }
    let tokens: TokenResponse = response.json().await.map_err(|e| provider_failed("token", e))?;
    let keys: JwkSet = get_json(&found.jwks_uri, "jwks").await?;
    let claims = verify_id_token(config, &found.issuer, &keys, &tokens.id_token)?;
    if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
        return Err(refused("the ID token's nonce does not match this sign-in".into()));
    }
    identity(config, &claims)
}

/// Algorithms accepted for ID tokens: asymmetric ones only.
const ALGORITHMS: [Algorithm; 7] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
];

/// The claims of a valid ID token: signed by a key of `keys` with an
/// asymmetric algorithm, from `issuer`, for this client, not expired.
fn verify_id_token(
    config: &OidcConfig,
    issuer: &str,
    keys: &JwkSet,
    token: &str,
) -> Result<Map<String, Value>, ApiError> {
    let invalid = |e: &dyn std::fmt::Display| refused(format!("invalid ID token: {e}"));
    let header = jsonwebtoken::decode_header(token).map_err(|e| invalid(&e))?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(invalid(&format!("algorithm {:?} is not accepted", header.alg)));
    }
    let key = match &header.kid {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
    .ok_or_else(|| invalid(&"signed with a key the provider does not publish"))?;
    let key = DecodingKey::from_jwk(key).map_err(|e| invalid(&e))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[&config.client_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 60;
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).map_err(|e| invalid(&e))?;
    Ok(data.claims)
}

/// Who the claims name, with their groups.
fn identity(config: &OidcConfig, claims: &Map<String, Value>) -> Result<ExternalIdentity, ApiError> {
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or_else(|| refused("the ID token has no subject".into()))?;
    let name = ["preferred_username", "email"]
        .iter()
        .find_map(|c| claims.get(*c).and_then(Value::as_str))
        .unwrap_or(subject);
    let groups = match claims.get(&config.groups_claim) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(String::from).collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    Ok(ExternalIdentity {
        subject: subject.to_string(),
        name: name.to_string(),
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> OidcConfig {
        OidcConfig {
            issuer: "https://id.example.com".into(),
            client_id: "pa".into(),
            client_secret: None,
            redirect_uri: format!("https://pa.example.com{CALLBACK_PATH}"),
            scope: default_scope(),
            groups_claim: "groups".into(),
            roles: vec![],
        }
    }

    #[test]
    fn settings_are_checked() {
        assert!(config().validate().is_ok());
        let local = OidcConfig {
            issuer: "http://127.0.0.1:8080".into(),
            ..config()
        };
        assert!(
            local.validate().is_ok(),
            "plain http on loopback is for local providers"
        );
        for bad in [
            OidcConfig {
                issuer: "http://id.example.com".into(),
                ..config()
            },
            OidcConfig {
                redirect_uri: "https://pa.example.com/elsewhere".into(),
                ..config()
            },
            OidcConfig {
                client_secret: Some(String::new()),
                ..config()
            },
            OidcConfig {
                client_id: "a b".into(),
                ..config()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tokens_signed_with_a_shared_secret_are_refused() {
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &serde_json::json!({ "sub": "x", "iss": "https://id.example.com", "aud": "pa", "exp": 4_000_000_000u64 }),
            &jsonwebtoken::EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        let keys = JwkSet { keys: vec![] };
        let err = verify_id_token(&config(), "https://id.example.com", &keys, &token).unwrap_err();
        assert!(err.message.contains("HS256"), "{}", err.message);
    }

    #[test]
    fn identities_come_from_the_claims() {
        let claims = serde_json::json!({ "sub": "s1", "preferred_username": "ada", "groups": ["a", "b", 3] });
        let found = identity(&config(), claims.as_object().unwrap()).unwrap();
        assert_eq!((found.subject.as_str(), found.name.as_str()), ("s1", "ada"));
        assert_eq!(found.groups, ["a", "b"]);
        let bare = serde_json::json!({ "sub": "s2" });
        assert_eq!(identity(&config(), bare.as_object().unwrap()).unwrap().name, "s2");
    }
}
