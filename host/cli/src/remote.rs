//! Talking to a running `pa serve` from the command line.

use clap::Args;
use serde_json::Value;

/// Which server, as whom, in which tenant.
#[derive(Args)]
pub struct ServerArgs {
    /// The `pa serve` to talk to.
    #[arg(long, env = "PA_SERVER", default_value = "http://127.0.0.1:8080", global = true)]
    pub server: String,
    /// API key or access token.
    #[arg(long, env = "PA_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Tenant.
    #[arg(long, env = "PA_TENANT", default_value = "default", global = true)]
    pub tenant: String,
}

impl ServerArgs {
    /// `{server}/api/v1/tenants/{tenant}{path}`.
    pub fn tenant_url(&self, path: &str) -> String {
        format!(
            "{}/api/v1/tenants/{}{path}",
            self.server.trim_end_matches('/'),
            self.tenant
        )
    }

    /// Sends `request` with the token; the JSON answer, or the API's error
    /// message as the failure.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let token = self
            .token
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("set PA_TOKEN (or --token) to an API key or access token"))?;
        let response = request.bearer_auth(token).send().await?;
        let status = response.status();
        let text = response.text().await?;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if !status.is_success() {
            let message = body
                .pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| body.to_string());
            anyhow::bail!("{status}: {message}");
        }
        Ok(body)
    }
}
