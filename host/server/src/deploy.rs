//! Enabled plugins: their stored configuration and the live table the
//! function router reads. Enabling swaps the table entry atomically, so
//! requests in flight finish on the version they started with.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};

use axum::http::StatusCode;
use pa_runtime::{AllowList, CapabilityGrants, FunctionConfig, Limits, Plugin};
use pa_store::Deployment;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::health::{Breaker, CanaryPolicy, CanaryStats, CircuitPolicy};
use crate::mcp::Catalog;
use crate::platform::Platform;

/// Who may call an HTTP function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Anyone (like Spin and Workers routes).
    #[default]
    Public,
    /// Only callers with an API key of the tenant.
    ApiKey,
}

/// Capabilities granted to a plugin.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Grants {
    /// Outbound hosts, in Spin's `allowed_outbound_hosts` syntax.
    pub allowed_outbound_hosts: Vec<String>,
    /// Key-value store labels.
    pub key_value_stores: Vec<String>,
    /// Variable values.
    pub variables: BTreeMap<String, String>,
    /// Chat-model inference with the tenant's model (its key stays with the host).
    pub model: bool,
    /// Text recognition in images.
    pub ocr: bool,
    /// Sites the plugin may publish under `/t/{tenant}/sites/{site}/`.
    pub sites: Vec<String>,
}

/// The body of `POST …/plugins/{name}/enable`, also what is stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnableRequest {
    /// The version to serve.
    #[schema(pattern = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")]
    pub version: String,
    /// Capabilities.
    #[serde(default)]
    pub grants: Grants,
    /// Limits.
    #[serde(default)]
    pub limits: Limits,
    /// Who may call it.
    #[serde(default)]
    pub access: Access,
    /// For a tool server: the prefix of its tool and prompt names at the
    /// tenant's MCP endpoint (`{prefix}_{name}`). The plugin name when
    /// absent; empty for the component's own names. Names that clash with
    /// another enabled plugin's are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^([a-z][a-z0-9-]{0,62})?$")]
    pub tool_prefix: Option<String>,
    /// When repeated failures make a tool server fail fast.
    #[serde(default)]
    pub circuit: CircuitPolicy,
    /// A second version served to a share of tool calls, rolled back
    /// automatically when its error rate passes the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanaryPolicy>,
}

/// One enabled plugin, as the routers see it.
pub struct Live {
    pub request: EnableRequest,
    pub version: String,
    pub access: Access,
    pub plugin: Plugin,
    /// What a tool server offers (`None` for HTTP functions).
    pub catalog: Option<Arc<Catalog>>,
    pub breaker: Breaker,
    pub canary: Option<Canary>,
}

/// The canary version of a tool server.
pub struct Canary {
    pub policy: CanaryPolicy,
    pub catalog: Option<Arc<Catalog>>,
    pub stats: CanaryStats,
}

/// A tenant's enabled plugins by name: a snapshot, replaced as a whole when
/// one of them changes, so readers hold it without a lock.
pub type TenantPlugins = BTreeMap<String, Arc<Live>>;

/// The live table of enabled plugins, and each tenant's concurrency budget.
pub struct Deployments {
    /// Indexed by tenant, so a request's lookup costs the same however many
    /// tenants the node serves.
    live: RwLock<HashMap<String, Arc<TenantPlugins>>>,
    /// The last automatic rollback of each plugin.
    rollbacks: RwLock<HashMap<(String, String), Value>>,
    tenant_permits: RwLock<HashMap<String, Arc<Semaphore>>>,
    tenant_concurrency: u32,
}

impl Deployments {
    pub fn new(tenant_concurrency: u32) -> Self {
        Deployments {
            live: RwLock::default(),
            rollbacks: RwLock::default(),
            tenant_permits: RwLock::default(),
            tenant_concurrency,
        }
    }

    pub fn get(&self, tenant: &str, plugin: &str) -> Option<Arc<Live>> {
        self.live.read().unwrap().get(tenant)?.get(plugin).cloned()
    }

    /// Every enabled plugin of a tenant.
    pub fn enabled(&self, tenant: &str) -> Arc<TenantPlugins> {
        self.live.read().unwrap().get(tenant).cloned().unwrap_or_default()
    }

    /// Every enabled plugin (for metrics).
    pub fn all(&self) -> Vec<(String, String, Arc<Live>)> {
        let live = self.live.read().unwrap();
        live.iter()
            .flat_map(|(t, plugins)| plugins.iter().map(|(p, l)| (t.clone(), p.clone(), l.clone())))
            .collect()
    }

    /// Changes a tenant's plugins: a new snapshot replaces the old one.
    fn update<R>(&self, tenant: &str, change: impl FnOnce(&mut TenantPlugins) -> R) -> R {
        let mut live = self.live.write().unwrap();
        let plugins = live.entry(tenant.to_string()).or_default();
        let result = change(Arc::make_mut(plugins));
        if plugins.is_empty() {
            live.remove(tenant);
        }
        result
    }

    pub fn tenant_permits(&self, tenant: &str) -> Arc<Semaphore> {
        if let Some(s) = self.tenant_permits.read().unwrap().get(tenant) {
            return s.clone();
        }
        let mut permits = self.tenant_permits.write().unwrap();
        permits
            .entry(tenant.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.tenant_concurrency as usize)))
            .clone()
    }

    pub fn tenant_concurrency(&self) -> u32 {
        self.tenant_concurrency
    }

    /// Builds the function for `request` (compiling from the blob if needed)
    /// without touching the live table.
    pub async fn build(
        platform: &Platform,
        tenant: &str,
        plugin: &str,
        request: &EnableRequest,
    ) -> Result<Live, ApiError> {
        if platform
            .store
            .version(tenant, plugin, &request.version)
            .await?
            .is_none()
        {
            return Err(ApiError::not_found(format!(
                "plugin `{plugin}` has no version `{}`",
                request.version
            )));
        }
        request.limits.validate().map_err(ApiError::bad_request)?;
        request.circuit.validate().map_err(ApiError::bad_request)?;
        let prefix = request.tool_prefix.as_deref().unwrap_or(plugin);
        if !prefix.is_empty() {
            crate::api::check_name("tool prefix", prefix)?;
        }
        let (plugin_handle, catalog) = Self::build_version(
            platform,
            tenant,
            plugin,
            &request.version,
            &request.grants,
            request,
            prefix,
        )
        .await?;
        let canary = match &request.canary {
            Some(policy) => {
                policy.validate(&request.version).map_err(ApiError::bad_request)?;
                if catalog.is_none() {
                    return Err(ApiError::bad_request(
                        "canary versions are supported for MCP tool servers only",
                    ));
                }
                let grants = policy.grants.as_ref().unwrap_or(&request.grants);
                let (_, canary_catalog) =
                    Self::build_version(platform, tenant, plugin, &policy.version, grants, request, prefix).await?;
                Some(Canary {
                    policy: policy.clone(),
                    catalog: canary_catalog,
                    stats: CanaryStats::default(),
                })
            }
            None => None,
        };
        Ok(Live {
            request: request.clone(),
            version: request.version.clone(),
            access: request.access,
            plugin: plugin_handle,
            catalog,
            breaker: Breaker::new(request.circuit.clone()),
            canary,
        })
    }

    /// Loads one version with its grants and the request's limits; lists a
    /// tool server's offer under `prefix`.
    async fn build_version(
        platform: &Platform,
        tenant: &str,
        plugin: &str,
        version: &str,
        grants: &Grants,
        request: &EnableRequest,
        prefix: &str,
    ) -> Result<(Plugin, Option<Arc<Catalog>>), ApiError> {
        let allow =
            AllowList::parse(&grants.allowed_outbound_hosts).map_err(|e| ApiError::bad_request(e.to_string()))?;
        for site in &grants.sites {
            crate::api::check_name("grants.sites: site", site)?;
        }
        let stored = platform
            .store
            .version(tenant, plugin, version)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("plugin `{plugin}` has no version `{version}`")))?;
        let bytes = platform.blobs.get(&stored.sha256).await.map_err(ApiError::internal)?;
        let runtime = platform.runtime.clone();
        let prepared = tokio::task::spawn_blocking(move || runtime.prepare(&bytes))
            .await
            .map_err(ApiError::internal)??;
        let config = FunctionConfig {
            tenant: tenant.to_string(),
            plugin: plugin.to_string(),
            version: version.to_string(),
            limits: request.limits.clone(),
            allowed_outbound_hosts: allow,
            key_value_stores: grants.key_value_stores.clone(),
            variables: grants.variables.clone().into_iter().collect(),
            grants: CapabilityGrants {
                model: grants.model,
                ocr: grants.ocr,
                sites: grants.sites.clone(),
            },
            usage: platform.metering.usage(tenant, plugin),
            logs: platform.logs.buffer(tenant, plugin),
        };
        let plugin_handle = Plugin::new(&platform.runtime, &prepared, config);
        let catalog = match &plugin_handle {
            Plugin::Tools(server) => {
                let catalog = Catalog::load(server.clone(), prefix).await.map_err(|m| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_tool_server",
                        format!("plugin `{plugin}` version `{version}` cannot be served over MCP: {m}"),
                    )
                })?;
                Some(Arc::new(catalog))
            }
            Plugin::Http(_) | Plugin::Step(_) => None,
        };
        Ok((plugin_handle, catalog))
    }

    /// Stops routing calls to a plugin's canary, for good: the stored
    /// configuration loses it and the rollback is recorded.
    pub async fn roll_back(&self, platform: &Platform, tenant: &str, plugin: &str, reason: String) {
        let Some(current) = self.get(tenant, plugin) else {
            return;
        };
        let Some(canary) = &current.canary else { return };
        let mut request = current.request.clone();
        request.canary = None;
        let stable = Live {
            request: request.clone(),
            version: current.version.clone(),
            access: current.access,
            plugin: current.plugin.clone(),
            catalog: current.catalog.clone(),
            breaker: Breaker::new(request.circuit.clone()),
            canary: None,
        };
        let swapped = self.update(tenant, |plugins| match plugins.get(plugin) {
            Some(now) if Arc::ptr_eq(now, &current) => {
                plugins.insert(plugin.to_string(), Arc::new(stable));
                true
            }
            _ => false,
        });
        if !swapped {
            return;
        }
        let record = json!({
            "version": canary.policy.version,
            "reason": reason,
            "at": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            "stats": canary.stats.snapshot(),
        });
        tracing::warn!(tenant, plugin, canary = %canary.policy.version, %reason, "canary rolled back");
        self.rollbacks
            .write()
            .unwrap()
            .insert((tenant.to_string(), plugin.to_string()), record);
        let stored = Deployment {
            tenant: tenant.to_string(),
            name: plugin.to_string(),
            version: request.version.clone(),
            config: serde_json::to_string(&request).unwrap_or_default(),
        };
        if let Err(e) = platform.store.set_deployment(&stored).await {
            tracing::error!(tenant, plugin, error = %e, "could not store the rollback");
        }
        platform.mcp.changed(tenant);
    }

    /// Health, canary and last rollback of a plugin, for the API.
    pub fn status(&self, tenant: &str, plugin: &str, live: &Live) -> Value {
        let rollback = self
            .rollbacks
            .read()
            .unwrap()
            .get(&(tenant.to_string(), plugin.to_string()))
            .cloned();
        json!({
            "health": live.breaker.snapshot(),
            "canary": live.canary.as_ref().map(|c| json!({
                "version": c.policy.version,
                "weight": c.policy.weight,
                "stats": c.stats.snapshot(),
            })),
            "last_rollback": rollback,
        })
    }

    /// Enables `request` for a plugin: built first, then stored, then swapped in.
    pub async fn enable(
        &self,
        platform: &Platform,
        tenant: &str,
        plugin: &str,
        request: &EnableRequest,
    ) -> Result<(), ApiError> {
        let live = Self::build(platform, tenant, plugin, request).await?;
        self.check_clashes(tenant, plugin, &live)?;
        let config = serde_json::to_string(request).map_err(ApiError::internal)?;
        let deployment = Deployment {
            tenant: tenant.to_string(),
            name: plugin.to_string(),
            version: request.version.clone(),
            config,
        };
        platform.store.set_deployment(&deployment).await?;
        self.update(tenant, |plugins| plugins.insert(plugin.to_string(), Arc::new(live)));
        platform.mcp.changed(tenant);
        Ok(())
    }

    /// Refuses a tool server whose tool or prompt names another enabled
    /// plugin of the tenant already uses.
    fn check_clashes(&self, tenant: &str, plugin: &str, live: &Live) -> Result<(), ApiError> {
        let Some(catalog) = &live.catalog else { return Ok(()) };
        for (other, other_live) in self.enabled(tenant).iter() {
            let Some(other_catalog) = &other_live.catalog else {
                continue;
            };
            let clashes = catalog.clashes(other_catalog);
            if other != plugin && !clashes.is_empty() {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "name_clash",
                    format!(
                        "plugin `{plugin}` would serve {} that plugin `{other}` already serves; \
                         enable it with another `tool_prefix`",
                        clashes.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Brings back a stored deployment at start.
    /// The live plugin, loaded from the store when this node does not have
    /// it yet (it was enabled through another node).
    pub async fn get_or_load(&self, platform: &Platform, tenant: &str, plugin: &str) -> Option<Arc<Live>> {
        if let Some(live) = self.get(tenant, plugin) {
            return Some(live);
        }
        let stored = match platform.store.deployment(tenant, plugin).await {
            Ok(stored) => stored?,
            Err(e) => {
                tracing::warn!(tenant, plugin, error = %e, "looking up a deployment");
                return None;
            }
        };
        if let Err(e) = self.restore(platform, &stored).await {
            tracing::warn!(tenant, plugin, error = %e.message, "loading a plugin enabled elsewhere");
            return None;
        }
        self.get(tenant, plugin)
    }

    pub async fn restore(&self, platform: &Platform, d: &Deployment) -> Result<(), ApiError> {
        let request: EnableRequest = serde_json::from_str(&d.config).map_err(ApiError::internal)?;
        let live = Self::build(platform, &d.tenant, &d.name, &request).await?;
        self.update(&d.tenant, |plugins| plugins.insert(d.name.clone(), Arc::new(live)));
        Ok(())
    }

    /// Brings one plugin in line with the store, after another node changed it.
    pub async fn sync(&self, platform: &Platform, tenant: &str, plugin: &str) {
        match platform.store.deployment(tenant, plugin).await {
            Ok(Some(stored)) => self.sync_stored(platform, &stored).await,
            Ok(None) => self.forget(platform, tenant, plugin),
            Err(e) => tracing::warn!(tenant, plugin, error = %e, "looking up a changed deployment"),
        }
    }

    /// Brings every plugin in line with the store.
    pub async fn sync_all(&self, platform: &Platform) {
        let stored = match platform.store.deployments().await {
            Ok(stored) => stored,
            Err(e) => {
                tracing::warn!(error = %e, "reading the enabled plugins");
                return;
            }
        };
        let enabled: HashSet<(&str, &str)> = stored.iter().map(|d| (d.tenant.as_str(), d.name.as_str())).collect();
        for (tenant, plugin, _) in self.all() {
            if !enabled.contains(&(tenant.as_str(), plugin.as_str())) {
                self.forget(platform, &tenant, &plugin);
            }
        }
        for d in &stored {
            self.sync_stored(platform, d).await;
        }
    }

    /// Rebuilds a plugin whose stored configuration differs from the live one.
    async fn sync_stored(&self, platform: &Platform, d: &Deployment) {
        let unchanged = serde_json::from_str::<EnableRequest>(&d.config)
            .is_ok_and(|stored| self.get(&d.tenant, &d.name).is_some_and(|live| live.request == stored));
        if unchanged {
            return;
        }
        match self.restore(platform, d).await {
            Ok(()) => {
                tracing::info!(tenant = %d.tenant, plugin = %d.name, version = %d.version, "following a change made on another node");
                platform.mcp.changed(&d.tenant);
            }
            Err(e) => {
                tracing::warn!(tenant = %d.tenant, plugin = %d.name, error = %e.message, "loading a plugin changed on another node")
            }
        }
    }

    /// Stops serving a plugin that was disabled on another node.
    fn forget(&self, platform: &Platform, tenant: &str, plugin: &str) {
        if self.update(tenant, |plugins| plugins.remove(plugin)).is_some() {
            tracing::info!(tenant, plugin, "disabled on another node");
            platform.mcp.changed(tenant);
        }
    }

    pub async fn disable(&self, platform: &Platform, tenant: &str, plugin: &str) -> Result<(), ApiError> {
        if !platform.store.remove_deployment(tenant, plugin).await? {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_enabled",
                format!("plugin `{plugin}` is not enabled"),
            ));
        }
        self.update(tenant, |plugins| plugins.remove(plugin));
        platform.mcp.changed(tenant);
        Ok(())
    }
}
