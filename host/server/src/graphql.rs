//! GraphQL at `/api/graphql`: the control plane's read model (tenants, their
//! plugins, members, teams, keys, usage, audit log, monitoring figures and
//! plugin logs) over the same store and the same RBAC as `/api/v1`: every
//! tenant field checks the permission its REST twin needs, so a caller sees
//! exactly what the REST API would show them. Queries are limited in depth
//! and complexity.

use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema, SimpleObject};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use pa_runtime::BUFFER_LINES;

use crate::api::monitoring::{self, LogLine, LogParams, PluginFigures};
use crate::auth::{self, Caller, Permission};
use crate::error::ApiError;
use crate::platform::Platform;

/// Deepest nesting a query may have.
pub const MAX_DEPTH: usize = 8;
/// Most a query may cost (each field 1; lists of audit entries `limit` times their fields).
pub const MAX_COMPLEXITY: usize = 1_000;
/// Most audit entries one query may ask for.
const MAX_AUDIT: i64 = 1_000;

/// The schema served at `/api/graphql`.
pub type ApiSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// The schema with its limits.
pub fn schema() -> ApiSchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

fn graphql_error(e: ApiError) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    async_graphql::Error::new(e.message).extend_with(|_, ext| ext.set("code", e.code))
}

fn store_error(e: pa_store::StoreError) -> async_graphql::Error {
    graphql_error(e.into())
}

/// The caller's view of one tenant, checked field by field.
async fn allowed(ctx: &Context<'_>, tenant: &str, permission: Permission) -> async_graphql::Result<Platform> {
    let platform = ctx.data::<Platform>()?;
    let caller = ctx.data::<Caller>()?;
    auth::require(platform, caller, tenant, permission)
        .await
        .map_err(graphql_error)?;
    Ok(platform.clone())
}

/// The root of every query.
pub struct Query;

#[Object]
impl Query {
    /// Who is asking.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Me> {
        let caller = ctx.data::<Caller>()?;
        Ok(Me {
            actor: caller.actor(),
            platform_admin: caller.is_platform_admin(),
        })
    }

    /// A tenant the caller may read (`tenant.read`).
    async fn tenant(&self, ctx: &Context<'_>, id: String) -> async_graphql::Result<Tenant> {
        let platform = allowed(ctx, &id, Permission::TenantRead).await?;
        if !platform.store.tenant_exists(&id).await.map_err(store_error)? {
            return Err(graphql_error(ApiError::not_found(format!("tenant `{id}` not found"))));
        }
        Ok(Tenant { id })
    }
}

/// The caller.
#[derive(SimpleObject)]
pub struct Me {
    /// How the audit log names them.
    actor: String,
    /// Whether they administer the platform.
    platform_admin: bool,
}

/// A tenant.
pub struct Tenant {
    id: String,
}

/// One uploaded version of a plugin.
#[derive(SimpleObject)]
pub struct PluginVersion {
    version: String,
    sha256: String,
    world: String,
    size: i64,
    created_at: String,
}

/// A plugin with its versions.
#[derive(SimpleObject)]
pub struct Plugin {
    name: String,
    /// The version serving calls, if enabled.
    enabled_version: Option<String>,
    versions: Vec<PluginVersion>,
}

/// A member and their role.
#[derive(SimpleObject)]
pub struct Member {
    username: String,
    role: String,
}

/// A team.
#[derive(SimpleObject)]
pub struct Team {
    id: String,
    name: String,
    parent: Option<String>,
    role: Option<String>,
}

/// An API key (never its secret).
#[derive(SimpleObject)]
pub struct ApiKey {
    id: String,
    name: String,
    role: String,
    created_at: String,
    expires_at: Option<String>,
    revoked_at: Option<String>,
}

/// One plugin's usage in a month.
#[derive(SimpleObject)]
pub struct PluginUsage {
    plugin: String,
    invocations: i64,
    wall_micros: i64,
    fuel: i64,
    peak_memory_bytes: i64,
    egress_bytes: i64,
}

/// A month's usage.
#[derive(SimpleObject)]
pub struct Usage {
    period: String,
    plan: String,
    plugins: Vec<PluginUsage>,
}

/// An audit log entry.
#[derive(SimpleObject)]
pub struct AuditEntry {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    outcome: String,
    source_ip: String,
    request_id: String,
}

/// Where a log line came from.
#[derive(Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[graphql(name = "LogStream", remote = "pa_runtime::LogStream")]
enum Stream {
    /// The guest's standard output.
    Stdout,
    /// The guest's standard error.
    Stderr,
    /// The host: a call that failed (trap, timeout, memory limit).
    Host,
}

#[async_graphql::ComplexObject]
impl LogLine {
    /// `STDOUT` or `STDERR` for what the guest printed, `HOST` for a call
    /// that failed (trap, timeout, memory limit).
    async fn stream(&self) -> Stream {
        self.stream.into()
    }
}

#[Object]
impl Tenant {
    async fn id(&self) -> &str {
        &self.id
    }

    /// Plugins with their versions (`plugin.read`).
    async fn plugins(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Plugin>> {
        let platform = allowed(ctx, &self.id, Permission::PluginRead).await?;
        let enabled = platform.deployments.enabled(&self.id);
        let mut plugins: Vec<Plugin> = Vec::new();
        for v in platform.store.versions(&self.id).await.map_err(store_error)? {
            if plugins.last().is_none_or(|p| p.name != v.name) {
                plugins.push(Plugin {
                    enabled_version: enabled.get(&v.name).map(|l| l.version.clone()),
                    name: v.name.clone(),
                    versions: Vec::new(),
                });
            }
            plugins.last_mut().expect("pushed above").versions.push(PluginVersion {
                version: v.version,
                sha256: v.sha256,
                world: v.world,
                size: v.size,
                created_at: v.created_at,
            });
        }
        Ok(plugins)
    }

    /// Members and their roles (`user.read`).
    async fn members(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Member>> {
        let platform = allowed(ctx, &self.id, Permission::UserRead).await?;
        let members = platform.store.members(&self.id).await.map_err(store_error)?;
        Ok(members
            .into_iter()
            .map(|m| Member {
                username: m.username,
                role: m.role,
            })
            .collect())
    }

    /// Teams (`user.read`).
    async fn teams(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Team>> {
        let platform = allowed(ctx, &self.id, Permission::UserRead).await?;
        let teams = platform.store.teams(&self.id).await.map_err(store_error)?;
        Ok(teams
            .into_iter()
            .map(|t| Team {
                id: t.id,
                name: t.name,
                parent: t.parent,
                role: t.role,
            })
            .collect())
    }

    /// API keys (`key.manage`).
    async fn api_keys(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ApiKey>> {
        let platform = allowed(ctx, &self.id, Permission::KeyManage).await?;
        let keys = platform.store.api_keys(&self.id).await.map_err(store_error)?;
        Ok(keys
            .into_iter()
            .map(|k| ApiKey {
                id: k.id,
                name: k.name,
                role: k.role,
                created_at: k.created_at,
                expires_at: k.expires_at,
                revoked_at: k.revoked_at,
            })
            .collect())
    }

    /// Usage of a month, `YYYY-MM` (`billing.read`).
    async fn usage(&self, ctx: &Context<'_>, period: String) -> async_graphql::Result<Usage> {
        let platform = allowed(ctx, &self.id, Permission::BillingRead).await?;
        let plan = platform
            .store
            .tenant_plan(&self.id)
            .await
            .map_err(store_error)?
            .map(|p| p.name)
            .unwrap_or_default();
        if period == crate::metering::current_period() {
            platform.metering.flush().await;
        }
        let rows = platform.store.usage(&self.id, &period).await.map_err(store_error)?;
        Ok(Usage {
            period,
            plan,
            plugins: rows
                .into_iter()
                .map(|u| PluginUsage {
                    plugin: u.plugin,
                    invocations: u.invocations,
                    wall_micros: u.wall_micros,
                    fuel: u.fuel,
                    peak_memory_bytes: u.peak_memory_bytes,
                    egress_bytes: u.egress_bytes,
                })
                .collect(),
        })
    }

    /// Its plugins' figures on this node since it started, as `GET
    /// …/monitoring` shows them (`plugin.read`).
    async fn monitoring(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PluginFigures>> {
        let platform = allowed(ctx, &self.id, Permission::PluginRead).await?;
        Ok(monitoring::tenant_report(&platform, self.id.clone()).await.plugins)
    }

    /// A plugin's newest log lines on this node (at most `limit`, after
    /// `since`, of one `stream`), oldest first, as `GET …/plugins/{name}/logs`
    /// shows them (`plugin.read`). Each line costs its fields in the query's
    /// complexity.
    #[graphql(complexity = "limit.clamp(1, BUFFER_LINES as i64) as usize * child_complexity")]
    async fn logs(
        &self,
        ctx: &Context<'_>,
        plugin: String,
        #[graphql(default = 100)] limit: i64,
        since: Option<String>,
        stream: Option<Stream>,
    ) -> async_graphql::Result<Vec<LogLine>> {
        let platform = allowed(ctx, &self.id, Permission::PluginRead).await?;
        let params = LogParams {
            limit: Some(limit),
            since,
            stream: stream.map(Into::into),
        };
        let page = monitoring::log_page(&platform, &self.id, plugin, params).map_err(graphql_error)?;
        Ok(page.entries)
    }

    /// Audit entries, oldest first, after `after` (`audit.read`). Each entry
    /// costs its fields in the query's complexity.
    #[graphql(complexity = "limit.clamp(1, MAX_AUDIT) as usize * child_complexity")]
    async fn audit(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] limit: i64,
        after: Option<i64>,
    ) -> async_graphql::Result<Vec<AuditEntry>> {
        let platform = allowed(ctx, &self.id, Permission::AuditRead).await?;
        if !(1..=MAX_AUDIT).contains(&limit) {
            return Err(graphql_error(ApiError::bad_request(format!(
                "`limit` must be between 1 and {MAX_AUDIT}"
            ))));
        }
        let query = pa_store::AuditQuery {
            after,
            limit,
            ..Default::default()
        };
        let entries = platform.store.audit(&self.id, &query).await.map_err(store_error)?;
        Ok(entries
            .into_iter()
            .map(|e| AuditEntry {
                seq: e.seq,
                at: e.at,
                actor: e.actor,
                action: e.action,
                target: e.target,
                outcome: e.outcome,
                source_ip: e.source_ip,
                request_id: e.request_id,
            })
            .collect())
    }
}

/// `POST /api/graphql` with `{"query", "variables"?, "operationName"?}`, as
/// any API caller (401 without credentials).
pub async fn handle(State(platform): State<Platform>, headers: HeaderMap, body: Bytes) -> Response {
    let caller = match auth::authenticate(&platform, &headers).await {
        Ok(Some(caller)) => caller,
        Ok(None) => {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "GraphQL needs an API key or access token",
            )
            .into_response();
        }
        Err(e) => return e.into_response(),
    };
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return ApiError::bad_request(format!("invalid GraphQL request: {e}")).into_response(),
    };
    let response = platform
        .graphql
        .execute(request.data(platform.clone()).data(caller))
        .await;
    Json(response).into_response()
}
