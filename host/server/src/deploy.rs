//! Enabled plugins: their stored configuration and the live table the
//! function router reads. Enabling swaps the table entry atomically, so
//! requests in flight finish on the version they started with.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use axum::http::StatusCode;
use pa_runtime::{AllowList, FunctionConfig, HttpFunction, Limits};
use pa_store::Deployment;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::platform::Platform;

/// Who may call an HTTP function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Anyone (like Spin and Workers routes).
    #[default]
    Public,
    /// Only callers with an API key of the tenant.
    ApiKey,
}

/// Capabilities granted to a plugin.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Grants {
    /// Outbound hosts, in Spin's `allowed_outbound_hosts` syntax.
    pub allowed_outbound_hosts: Vec<String>,
    /// Key-value store labels.
    pub key_value_stores: Vec<String>,
    /// Variable values.
    pub variables: BTreeMap<String, String>,
}

/// The body of `POST …/plugins/{name}/enable`, also what is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnableRequest {
    /// The version to serve.
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
}

/// One enabled plugin, as the router sees it.
pub struct Live {
    pub version: String,
    pub access: Access,
    pub function: HttpFunction,
}

/// The live table of enabled plugins, and each tenant's concurrency budget.
pub struct Deployments {
    live: RwLock<HashMap<(String, String), Arc<Live>>>,
    tenant_permits: RwLock<HashMap<String, Arc<Semaphore>>>,
    tenant_concurrency: u32,
}

impl Deployments {
    pub fn new(tenant_concurrency: u32) -> Self {
        Deployments {
            live: RwLock::default(),
            tenant_permits: RwLock::default(),
            tenant_concurrency,
        }
    }

    pub fn get(&self, tenant: &str, plugin: &str) -> Option<Arc<Live>> {
        self.live
            .read()
            .unwrap()
            .get(&(tenant.to_string(), plugin.to_string()))
            .cloned()
    }

    /// Every enabled plugin of a tenant with its version.
    pub fn enabled(&self, tenant: &str) -> HashMap<String, Arc<Live>> {
        let live = self.live.read().unwrap();
        live.iter()
            .filter(|((t, _), _)| t == tenant)
            .map(|((_, p), l)| (p.clone(), l.clone()))
            .collect()
    }

    /// Every enabled plugin (for metrics).
    pub fn all(&self) -> Vec<(String, String, Arc<Live>)> {
        let live = self.live.read().unwrap();
        live.iter()
            .map(|((t, p), l)| (t.clone(), p.clone(), l.clone()))
            .collect()
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
        request.limits.validate().map_err(ApiError::bad_request)?;
        let allow = AllowList::parse(&request.grants.allowed_outbound_hosts)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let version = platform
            .store
            .version(tenant, plugin, &request.version)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("plugin `{plugin}` has no version `{}`", request.version)))?;
        let bytes = platform.blobs.get(&version.sha256).await.map_err(ApiError::internal)?;
        let runtime = platform.runtime.clone();
        let prepared = tokio::task::spawn_blocking(move || runtime.prepare(&bytes))
            .await
            .map_err(ApiError::internal)??;
        let config = FunctionConfig {
            tenant: tenant.to_string(),
            plugin: plugin.to_string(),
            limits: request.limits.clone(),
            allowed_outbound_hosts: allow,
            key_value_stores: request.grants.key_value_stores.clone(),
            variables: request.grants.variables.clone().into_iter().collect(),
        };
        Ok(Live {
            version: request.version.clone(),
            access: request.access,
            function: HttpFunction::new(&platform.runtime, &prepared, config),
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
        let config = serde_json::to_string(request).map_err(ApiError::internal)?;
        let deployment = Deployment {
            tenant: tenant.to_string(),
            name: plugin.to_string(),
            version: request.version.clone(),
            config,
        };
        platform.store.set_deployment(&deployment).await?;
        self.live
            .write()
            .unwrap()
            .insert((tenant.to_string(), plugin.to_string()), Arc::new(live));
        Ok(())
    }

    /// Brings back a stored deployment at start.
    pub async fn restore(&self, platform: &Platform, d: &Deployment) -> Result<(), ApiError> {
        let request: EnableRequest = serde_json::from_str(&d.config).map_err(ApiError::internal)?;
        let live = Self::build(platform, &d.tenant, &d.name, &request).await?;
        self.live
            .write()
            .unwrap()
            .insert((d.tenant.clone(), d.name.clone()), Arc::new(live));
        Ok(())
    }

    pub async fn disable(&self, platform: &Platform, tenant: &str, plugin: &str) -> Result<(), ApiError> {
        if !platform.store.remove_deployment(tenant, plugin).await? {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_enabled",
                format!("plugin `{plugin}` is not enabled"),
            ));
        }
        self.live
            .write()
            .unwrap()
            .remove(&(tenant.to_string(), plugin.to_string()));
        Ok(())
    }
}
