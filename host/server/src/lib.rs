//! The `pa` HTTP server: health and metrics, the control-plane API under
//! `/api/v1`, tenants' HTTP functions under `/t/{tenant}/fn/{plugin}` and
//! their MCP endpoints at `/t/{tenant}/mcp`.
//! Also serves a Spin manifest for `pa up`.
#![deny(missing_docs)]

mod api;
mod auth;
pub mod backup;
mod capabilities;
mod cluster;
mod console;
mod deploy;
mod error;
mod first_party;
mod graphql;
mod health;
mod idp;
mod invoke;
mod logs;
pub mod manifest;
mod mcp;
mod metering;
mod metrics;
mod openapi;
mod orchestrator;
mod platform;
mod quota_kv;
mod ratelimit;
mod routes;
mod sites;
mod telemetry;
pub mod up;
mod versioning;
mod workflows;

pub use console::locate as locate_console;
pub use first_party::locate as locate_first_party;
pub use pa_runtime::{Compiler, compile_worker};
pub use platform::{Platform, PlatformConfig, app, verify_audit};
pub use ratelimit::{Rate, RateLimits};

/// Waits for Ctrl-C or SIGTERM, for graceful shutdown.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
