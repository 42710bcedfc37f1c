//! The recent log lines of every plugin on this node, by tenant and plugin
//! (each node keeps its own; the shipped `pa::guest` log events have them all).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use pa_runtime::LogBuffer;

/// Every plugin's log buffer on this node.
#[derive(Default)]
pub struct PluginLogs(RwLock<HashMap<(String, String), Arc<LogBuffer>>>);

impl PluginLogs {
    /// The buffer of a plugin, made on first use (shared by its versions).
    pub fn buffer(&self, tenant: &str, plugin: &str) -> Arc<LogBuffer> {
        let key = (tenant.to_string(), plugin.to_string());
        if let Some(buffer) = self.0.read().unwrap().get(&key) {
            return buffer.clone();
        }
        self.0.write().unwrap().entry(key).or_default().clone()
    }

    /// The buffer of a plugin that ran on this node, if it did.
    pub fn get(&self, tenant: &str, plugin: &str) -> Option<Arc<LogBuffer>> {
        self.0
            .read()
            .unwrap()
            .get(&(tenant.to_string(), plugin.to_string()))
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tenant_and_plugin_has_its_own_buffer() {
        let logs = PluginLogs::default();
        let acme = logs.buffer("acme", "hello");
        assert!(Arc::ptr_eq(&acme, &logs.buffer("acme", "hello")));
        assert!(!Arc::ptr_eq(&acme, &logs.buffer("globex", "hello")));
        assert!(Arc::ptr_eq(&acme, &logs.get("acme", "hello").unwrap()));
        assert!(logs.get("acme", "other").is_none());
    }
}
