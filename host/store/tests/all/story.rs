//! What the store must do, whatever the backend.

use pa_runtime::{KeyValueBackend, KvScope};
use pa_store::{Deployment, PluginVersion, PutOutcome, Store, StoreError};

crate::on_both_backends!(
    versions_are_immutable_and_idempotent,
    deployments_replace_and_remove,
    keys_are_stored_hashed_and_scoped,
    mcp_access_defaults_to_api_key_and_is_per_tenant,
    key_value_is_scoped_per_tenant_and_plugin,
);

fn version(version: &str, sha: &str) -> PluginVersion {
    PluginVersion {
        name: "hello".into(),
        version: version.into(),
        sha256: sha.into(),
        world: "wasi:http/proxy@0.2".into(),
        size: 3,
        created_at: String::new(),
    }
}

async fn versions_are_immutable_and_idempotent(s: Store) {
    s.ensure_tenant("acme").await.unwrap();
    assert_eq!(
        s.put_version("acme", &version("1.0.0", "aa")).await.unwrap(),
        PutOutcome::Created
    );
    assert_eq!(
        s.put_version("acme", &version("1.0.0", "aa")).await.unwrap(),
        PutOutcome::Unchanged
    );
    let err = s.put_version("acme", &version("1.0.0", "bb")).await.unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict { ref existing, .. } if existing == "aa"));
    let stored = s.version("acme", "hello", "1.0.0").await.unwrap().unwrap();
    assert_eq!((stored.sha256.as_str(), stored.size), ("aa", 3));
    assert!(stored.created_at.ends_with('Z'), "{}", stored.created_at);
    assert_eq!(s.versions("acme").await.unwrap().len(), 1);
    assert!(s.versions("other").await.unwrap().is_empty());
    assert!(s.version("other", "hello", "1.0.0").await.unwrap().is_none());
}

async fn deployments_replace_and_remove(s: Store) {
    s.ensure_tenant("acme").await.unwrap();
    s.put_version("acme", &version("1.0.0", "aa")).await.unwrap();
    s.put_version("acme", &version("2.0.0", "bb")).await.unwrap();
    let mut d = Deployment {
        tenant: "acme".into(),
        name: "hello".into(),
        version: "1.0.0".into(),
        config: "{}".into(),
    };
    s.set_deployment(&d).await.unwrap();
    d.version = "2.0.0".into();
    s.set_deployment(&d).await.unwrap();
    let all = s.deployments().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].version, "2.0.0");
    d.version = "9.9.9".into();
    assert!(
        s.set_deployment(&d).await.is_err(),
        "a deployment names an uploaded version"
    );
    assert!(s.remove_deployment("acme", "hello").await.unwrap());
    assert!(!s.remove_deployment("acme", "hello").await.unwrap());
    assert!(s.deployments().await.unwrap().is_empty());
}

async fn keys_are_stored_hashed_and_scoped(s: Store) {
    s.ensure_tenant("acme").await.unwrap();
    s.ensure_api_key("secret", Some("acme"), "admin").await.unwrap();
    s.ensure_api_key("secret", Some("acme"), "admin").await.unwrap();
    let info = s.key_info("secret").await.unwrap().unwrap();
    assert_eq!(info.tenant.as_deref(), Some("acme"));
    assert!(s.key_info("other").await.unwrap().is_none());
    assert!(!s.has_admin_key().await.unwrap());
    s.ensure_api_key("root", None, "admin").await.unwrap();
    assert!(s.has_admin_key().await.unwrap());
}

async fn mcp_access_defaults_to_api_key_and_is_per_tenant(s: Store) {
    s.ensure_tenant("acme").await.unwrap();
    s.ensure_tenant("globex").await.unwrap();
    assert!(s.tenant_exists("acme").await.unwrap());
    assert!(!s.tenant_exists("nobody").await.unwrap());
    assert_eq!(s.mcp_access("acme").await.unwrap().as_deref(), Some("api-key"));
    s.set_mcp_access("acme", "public").await.unwrap();
    assert_eq!(s.mcp_access("acme").await.unwrap().as_deref(), Some("public"));
    assert_eq!(s.mcp_access("globex").await.unwrap().as_deref(), Some("api-key"));
    assert!(s.mcp_access("nobody").await.unwrap().is_none());
    assert!(matches!(
        s.set_mcp_access("nobody", "public").await,
        Err(StoreError::NotFound(_))
    ));
}

async fn key_value_is_scoped_per_tenant_and_plugin(s: Store) {
    let a = KvScope {
        tenant: "a".into(),
        plugin: "p".into(),
        store: "default".into(),
    };
    let b = KvScope {
        tenant: "b".into(),
        ..a.clone()
    };
    s.set(&a, "k", b"v1").await.unwrap();
    assert_eq!(s.get(&a, "k").await.unwrap().as_deref(), Some(&b"v1"[..]));
    assert_eq!(s.get(&b, "k").await.unwrap(), None);
    s.set(&a, "k", &[0, 255, 1]).await.unwrap();
    assert_eq!(s.get(&a, "k").await.unwrap().as_deref(), Some(&[0u8, 255, 1][..]));
    assert_eq!(s.keys(&a).await.unwrap(), vec!["k".to_string()]);
    s.delete(&a, "k").await.unwrap();
    assert!(!s.exists(&a, "k").await.unwrap());
}
