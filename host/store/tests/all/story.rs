//! What the store must do, whatever the backend.

use pa_runtime::{KeyValueBackend, KvScope, UsageSample};
use pa_store::{
    AuditQuery, CustomRole, Deployment, IdentityProvider, ModelProvider, NewAudit, NewKey, OidcLogin, Plan,
    PluginVersion, PutOutcome, Refresh, StoreError, Team, User,
};

use crate::backends::TestDb;

crate::on_both_backends!(
    versions_are_immutable_and_idempotent,
    deployments_replace_and_remove,
    keys_are_stored_hashed_and_scoped,
    mcp_access_defaults_to_api_key_and_is_per_tenant,
    key_value_is_scoped_per_tenant_and_plugin,
    key_value_swaps_only_the_value_it_read,
    users_belong_to_tenants_with_a_role,
    custom_roles_are_per_tenant,
    refresh_tokens_are_used_once,
    audit_chain_detects_edits,
    audit_chain_detects_deleted_rows,
    audit_chain_detects_reordered_rows,
    audit_chain_detects_a_cut_tail,
    audit_appends_are_serialised,
    teams_nest_and_pass_their_roles_down,
    usage_adds_up_per_plugin_and_month,
    tenants_move_between_plans,
    identity_providers_and_oidc_sign_ins,
    sites_keep_every_version_and_serve_one,
    audit_keeps_entries_whose_text_has_nul,
    model_providers_are_per_tenant,
);

async fn sites_keep_every_version_and_serve_one(s: TestDb) {
    s.ensure_tenant("acme").await.unwrap();
    s.ensure_tenant("globex").await.unwrap();
    assert_eq!(
        s.publish_site("acme", "docs", r#"{"index.html":"a"}"#, 10, "pub")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.publish_site("acme", "docs", r#"{"index.html":"b"}"#, 30, "pub")
            .await
            .unwrap(),
        2
    );
    assert_eq!(s.publish_site("globex", "docs", "{}", 5, "pub").await.unwrap(), 1);
    assert_eq!(s.site("acme", "docs").await.unwrap().unwrap().live_version, 2);
    let versions = s.site_versions("acme", "docs").await.unwrap();
    assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), [2, 1]);
    assert!(s.set_live_site_version("acme", "docs", 1).await.unwrap());
    assert!(
        !s.set_live_site_version("acme", "docs", 3).await.unwrap(),
        "no version 3"
    );
    assert!(!s.set_live_site_version("acme", "nope", 1).await.unwrap());
    assert_eq!(s.site("acme", "docs").await.unwrap().unwrap().live_version, 1);
    assert_eq!(
        s.site_version("acme", "docs", 1).await.unwrap().unwrap().files,
        r#"{"index.html":"a"}"#
    );
    assert_eq!(s.sites("globex").await.unwrap().len(), 1);
    let storage = s.storage("acme").await.unwrap();
    assert_eq!(
        storage,
        [("pub".to_string(), 40)],
        "site versions count in the publisher's storage"
    );
}

async fn model_providers_are_per_tenant(s: TestDb) {
    s.ensure_tenant("acme").await.unwrap();
    assert_eq!(s.model_provider("acme").await.unwrap(), None);
    let provider = ModelProvider {
        base_url: "http://127.0.0.1:8000/v1".into(),
        model: "m".into(),
        api_key_sealed: Some("sealed".into()),
        updated_at: "2026-11-26T00:00:00.000Z".into(),
    };
    s.put_model_provider("acme", &provider).await.unwrap();
    let replaced = ModelProvider {
        api_key_sealed: None,
        ..provider
    };
    s.put_model_provider("acme", &replaced).await.unwrap();
    assert_eq!(s.model_provider("acme").await.unwrap(), Some(replaced));
    assert_eq!(s.model_provider("globex").await.unwrap(), None);
    assert!(s.delete_model_provider("acme").await.unwrap());
    assert!(!s.delete_model_provider("acme").await.unwrap());
}

async fn teams_nest_and_pass_their_roles_down(s: TestDb) {
    s.ensure_tenant("acme").await.unwrap();
    s.ensure_tenant("globex").await.unwrap();
    s.create_user(&user("u1", "ada")).await.unwrap();
    let team = |id: &str, parent: Option<&str>, role: Option<&str>| Team {
        id: id.into(),
        name: id.to_uppercase(),
        parent: parent.map(Into::into),
        role: role.map(Into::into),
    };
    s.put_team("acme", &team("eng", None, Some("viewer"))).await.unwrap();
    s.put_team("acme", &team("platform", Some("eng"), Some("developer")))
        .await
        .unwrap();
    s.put_team("acme", &team("sre", Some("platform"), None)).await.unwrap();
    assert!(matches!(
        s.put_team("acme", &team("x", Some("nope"), None)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        matches!(
            s.put_team("acme", &team("eng", Some("sre"), None)).await,
            Err(StoreError::Conflict(_))
        ),
        "a team cannot go under its own descendant"
    );
    assert!(matches!(
        s.put_team("globex", &team("y", Some("eng"), None)).await,
        Err(StoreError::NotFound(_))
    ));
    s.add_team_member("acme", "sre", "u1").await.unwrap();
    s.add_team_member("acme", "sre", "u1").await.unwrap();
    assert_eq!(s.team_members("acme", "sre").await.unwrap(), ["ada"]);
    assert_eq!(s.team_roles("acme", "u1").await.unwrap(), ["developer", "viewer"]);
    assert!(s.team_roles("globex", "u1").await.unwrap().is_empty());
    assert_eq!(s.teams("acme").await.unwrap().len(), 3);
    assert!(matches!(
        s.delete_team("acme", "platform").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(s.delete_team("acme", "sre").await.unwrap());
    assert!(s.team_roles("acme", "u1").await.unwrap().is_empty());
    assert!(!s.delete_team("acme", "sre").await.unwrap());
}

const AUDIT_KEY: &[u8] = b"test audit key";

fn user(id: &str, name: &str) -> User {
    User {
        id: id.into(),
        username: name.into(),
        password_hash: Some("$argon2id$...".into()),
        provider: "password".into(),
        platform_admin: false,
        created_at: String::new(),
    }
}

async fn users_belong_to_tenants_with_a_role(s: TestDb) {
    s.ensure_tenant("acme").await.unwrap();
    s.ensure_tenant("globex").await.unwrap();
    s.create_user(&user("u1", "ada")).await.unwrap();
    assert!(matches!(
        s.create_user(&user("u2", "ada")).await,
        Err(StoreError::Conflict(_))
    ));
    let ada = s.user_by_name("ada").await.unwrap().unwrap();
    assert_eq!(ada.id, "u1");
    assert_eq!(ada.password_hash.as_deref(), Some("$argon2id$..."));
    assert!(!ada.platform_admin);
    assert!(s.user("u1").await.unwrap().is_some());
    assert!(s.user_by_name("bob").await.unwrap().is_none());
    s.set_membership("acme", "u1", "viewer").await.unwrap();
    s.set_membership("acme", "u1", "developer").await.unwrap();
    assert_eq!(s.membership("acme", "u1").await.unwrap().as_deref(), Some("developer"));
    assert_eq!(s.membership("globex", "u1").await.unwrap(), None);
    let members = s.members("acme").await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(
        (members[0].username.as_str(), members[0].role.as_str()),
        ("ada", "developer")
    );
    assert!(s.members("globex").await.unwrap().is_empty());
    assert_eq!(s.memberships_of("u1").await.unwrap(), members);
    assert!(s.role_in_use("acme", "developer").await.unwrap());
    assert!(s.remove_membership("acme", "u1").await.unwrap());
    assert!(!s.remove_membership("acme", "u1").await.unwrap());
}

async fn custom_roles_are_per_tenant(s: TestDb) {
    s.ensure_tenant("acme").await.unwrap();
    s.ensure_tenant("globex").await.unwrap();
    let role = CustomRole {
        name: "auditor".into(),
        permissions: vec!["audit.read".into(), "billing.read".into()],
    };
    s.put_role("acme", &role).await.unwrap();
    let roles = s.roles("acme").await.unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].permissions, role.permissions);
    assert!(s.roles("globex").await.unwrap().is_empty());
    assert!(!s.role_in_use("acme", "auditor").await.unwrap());
    assert!(s.delete_role("acme", "auditor").await.unwrap());
    assert!(!s.delete_role("acme", "auditor").await.unwrap());
}

async fn refresh_tokens_are_used_once(s: TestDb) {
    s.create_user(&user("u1", "ada")).await.unwrap();
    s.insert_refresh_token("r1", "u1", "f1", "2099-01-01T00:00:00.000Z")
        .await
        .unwrap();
    s.insert_refresh_token("r2", "u1", "f1", "2099-01-01T00:00:00.000Z")
        .await
        .unwrap();
    s.insert_refresh_token("old", "u1", "f2", "2000-01-01T00:00:00.000Z")
        .await
        .unwrap();
    assert_eq!(
        s.use_refresh_token("r1").await.unwrap(),
        Refresh::Valid {
            user_id: "u1".into(),
            family: "f1".into()
        }
    );
    assert_eq!(s.use_refresh_token("r1").await.unwrap(), Refresh::Reused);
    assert_eq!(
        s.use_refresh_token("r2").await.unwrap(),
        Refresh::Reused,
        "reuse revokes the family"
    );
    assert_eq!(s.use_refresh_token("old").await.unwrap(), Refresh::Invalid, "expired");
    assert_eq!(s.use_refresh_token("nope").await.unwrap(), Refresh::Invalid);
    assert_eq!(s.refresh_family("r2").await.unwrap().as_deref(), Some("f1"));
}

async fn record(s: &TestDb, tenant: &str, action: &str) {
    s.append_audit(
        AUDIT_KEY,
        NewAudit {
            tenant: tenant.into(),
            actor: "user:ada".into(),
            action: action.into(),
            target: "plugin/hello".into(),
            outcome: "success".into(),
            source_ip: "127.0.0.1".into(),
            request_id: format!("req-{action}"),
            detail: "{}".into(),
        },
    )
    .await
    .unwrap();
}

async fn five_rows(s: &TestDb) {
    for action in ["a1", "a2", "a3", "a4", "a5"] {
        record(s, "acme", action).await;
    }
    record(s, "globex", "g1").await;
    let reports = s.verify_audit(AUDIT_KEY, None).await.unwrap();
    assert_eq!(reports.len(), 2);
    assert!(reports.iter().all(|r| r.problems.is_empty()), "{reports:?}");
    assert_eq!(reports[0].rows, 5);
}

async fn audit_keeps_entries_whose_text_has_nul(s: TestDb) {
    let entry = NewAudit {
        tenant: "acme".into(),
        actor: "user:ad\0a".into(),
        action: "auth.login".into(),
        target: "user/\0".into(),
        outcome: "denied".into(),
        source_ip: "127.0.0.1".into(),
        request_id: "req-nul".into(),
        detail: "{}".into(),
    };
    let kept = s.append_audit(AUDIT_KEY, entry).await.unwrap();
    assert_eq!(kept.actor, "user:ad\u{fffd}a");
    assert!(
        s.verify_audit(AUDIT_KEY, Some("acme")).await.unwrap()[0]
            .problems
            .is_empty()
    );
}

async fn problems(s: &TestDb) -> Vec<String> {
    let reports = s.verify_audit(AUDIT_KEY, Some("acme")).await.unwrap();
    let globex = s.verify_audit(AUDIT_KEY, Some("globex")).await.unwrap();
    assert!(globex[0].problems.is_empty(), "other tenants' chains are not affected");
    reports[0].problems.clone()
}

async fn audit_chain_detects_edits(s: TestDb) {
    five_rows(&s).await;
    let all = s
        .audit(
            "acme",
            &AuditQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    let only = AuditQuery {
        action: Some("a2".into()),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(s.audit("acme", &only).await.unwrap().len(), 1);
    let page = AuditQuery {
        after: Some(3),
        limit: 1,
        ..Default::default()
    };
    assert_eq!(s.audit("acme", &page).await.unwrap()[0].seq, 4);
    s.raw("UPDATE audit SET outcome = 'denied' WHERE tenant = 'acme' AND seq = 3")
        .await;
    let found = problems(&s).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("row 3"), "{found:?}");
    assert!(
        !s.verify_audit(b"another key", Some("globex")).await.unwrap()[0]
            .problems
            .is_empty()
    );
}

async fn audit_chain_detects_deleted_rows(s: TestDb) {
    five_rows(&s).await;
    s.raw("DELETE FROM audit WHERE tenant = 'acme' AND seq = 2").await;
    let found = problems(&s).await;
    assert!(found.iter().any(|p| p.contains("row 2 is missing")), "{found:?}");
}

async fn audit_chain_detects_reordered_rows(s: TestDb) {
    five_rows(&s).await;
    s.raw(
        "UPDATE audit SET seq = -1 WHERE tenant = 'acme' AND seq = 2; \
         UPDATE audit SET seq = 2 WHERE tenant = 'acme' AND seq = 4; \
         UPDATE audit SET seq = 4 WHERE tenant = 'acme' AND seq = -1;",
    )
    .await;
    let found = problems(&s).await;
    assert!(found.iter().any(|p| p.contains("row 2")), "{found:?}");
}

async fn audit_chain_detects_a_cut_tail(s: TestDb) {
    five_rows(&s).await;
    s.raw("DELETE FROM audit WHERE tenant = 'acme' AND seq = 5").await;
    let found = problems(&s).await;
    assert!(found.iter().any(|p| p.contains("should end at row 5")), "{found:?}");
}

async fn audit_appends_are_serialised(s: TestDb) {
    let appends = (0..20).map(|i| {
        let s = &s;
        async move { record(s, "acme", &format!("c{i}")).await }
    });
    futures::future::join_all(appends).await;
    let reports = s.verify_audit(AUDIT_KEY, Some("acme")).await.unwrap();
    assert_eq!(reports[0].rows, 20);
    assert!(reports[0].problems.is_empty(), "{:?}", reports[0].problems);
}

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

async fn versions_are_immutable_and_idempotent(s: TestDb) {
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

async fn deployments_replace_and_remove(s: TestDb) {
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

async fn keys_are_stored_hashed_and_scoped(s: TestDb) {
    s.ensure_tenant("acme").await.unwrap();
    let key = |token, tenant, name| NewKey {
        token,
        tenant,
        role: "developer",
        name,
        expires_at: Some("2099-01-01T00:00:00.000Z"),
    };
    let id = s.insert_api_key(&key("secret", Some("acme"), "ci")).await.unwrap();
    assert_eq!(s.insert_api_key(&key("secret", Some("acme"), "ci")).await.unwrap(), id);
    let info = s.key_info("secret").await.unwrap().unwrap();
    assert_eq!(info.id, id);
    assert_eq!(info.tenant.as_deref(), Some("acme"));
    assert_eq!((info.role.as_str(), info.name.as_str()), ("developer", "ci"));
    assert_eq!(info.expires_at.as_deref(), Some("2099-01-01T00:00:00.000Z"));
    assert!(s.key_info("other").await.unwrap().is_none());
    assert!(!s.has_admin_key().await.unwrap());
    s.insert_api_key(&key("root", None, "root")).await.unwrap();
    assert!(s.has_admin_key().await.unwrap());
    assert_eq!(s.api_keys("acme").await.unwrap(), vec![info]);
    assert!(matches!(
        s.revoke_api_key("globex", &id).await,
        Err(StoreError::NotFound(_))
    ));
    let revoked = s.revoke_api_key("acme", &id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(
        s.key_info("secret").await.unwrap().unwrap().revoked_at,
        revoked.revoked_at
    );
}

async fn mcp_access_defaults_to_api_key_and_is_per_tenant(s: TestDb) {
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

/// The same store of plugin `p` in tenants `a` and `b`.
fn two_tenants_scopes() -> (KvScope, KvScope) {
    let a = KvScope {
        tenant: "a".into(),
        plugin: "p".into(),
        store: "default".into(),
    };
    let b = KvScope {
        tenant: "b".into(),
        ..a.clone()
    };
    (a, b)
}

async fn key_value_is_scoped_per_tenant_and_plugin(s: TestDb) {
    let (a, b) = two_tenants_scopes();
    s.set(&a, "k", b"v1").await.unwrap();
    assert_eq!(s.get(&a, "k").await.unwrap().as_deref(), Some(&b"v1"[..]));
    assert_eq!(s.get(&b, "k").await.unwrap(), None);
    s.set(&a, "k", &[0, 255, 1]).await.unwrap();
    assert_eq!(s.get(&a, "k").await.unwrap().as_deref(), Some(&[0u8, 255, 1][..]));
    assert_eq!(s.keys(&a).await.unwrap(), vec!["k".to_string()]);
    s.delete(&a, "k").await.unwrap();
    assert!(!s.exists(&a, "k").await.unwrap());
}

async fn key_value_swaps_only_the_value_it_read(s: TestDb) {
    let (a, b) = two_tenants_scopes();
    assert!(
        s.compare_and_swap(&a, "n", None, b"1").await.unwrap(),
        "absent, created"
    );
    assert!(
        !s.compare_and_swap(&a, "n", None, b"9").await.unwrap(),
        "no longer absent"
    );
    assert!(
        !s.compare_and_swap(&a, "n", Some(b"0"), b"9").await.unwrap(),
        "stale value"
    );
    assert!(
        s.compare_and_swap(&a, "n", Some(b"1"), b"2").await.unwrap(),
        "current value"
    );
    assert_eq!(s.get(&a, "n").await.unwrap().as_deref(), Some(&b"2"[..]));
    assert!(
        !s.compare_and_swap(&b, "n", Some(b"2"), b"3").await.unwrap(),
        "another tenant's key"
    );
    assert_eq!(s.get(&b, "n").await.unwrap(), None);
}

async fn usage_adds_up_per_plugin_and_month(s: TestDb) {
    s.ensure_tenant("acme").await.unwrap();
    let sample = |invocations, peak_memory| UsageSample {
        invocations,
        wall_micros: 1_500,
        fuel: 10,
        peak_memory,
        egress_bytes: 7,
    };
    s.add_usage("acme", "hello", "2026-11", &sample(2, 4096)).await.unwrap();
    s.add_usage("acme", "hello", "2026-11", &sample(3, 1024)).await.unwrap();
    s.add_usage("acme", "tools", "2026-11", &sample(1, 0)).await.unwrap();
    s.add_usage("acme", "hello", "2026-12", &sample(9, 0)).await.unwrap();
    s.add_usage("globex", "hello", "2026-11", &sample(100, 0))
        .await
        .unwrap();
    let usage = s.usage("acme", "2026-11").await.unwrap();
    assert_eq!(usage.len(), 2);
    assert_eq!(
        (usage[0].plugin.as_str(), usage[0].invocations, usage[0].wall_micros),
        ("hello", 5, 3_000)
    );
    assert_eq!(
        (usage[0].fuel, usage[0].peak_memory_bytes, usage[0].egress_bytes),
        (20, 4096, 14)
    );
    assert_eq!(s.invocations("acme", "2026-11").await.unwrap(), 6);
    assert_eq!(s.invocations("acme", "2027-01").await.unwrap(), 0);

    s.put_version("acme", &version("1.0.0", "aa")).await.unwrap();
    let scope = KvScope {
        tenant: "acme".into(),
        plugin: "hello".into(),
        store: "default".into(),
    };
    s.set(&scope, "ké", b"12345").await.unwrap();
    s.set(
        &KvScope {
            plugin: "kv".into(),
            ..scope.clone()
        },
        "k",
        b"1",
    )
    .await
    .unwrap();
    assert_eq!(
        s.storage("acme").await.unwrap(),
        [("hello".to_string(), 3 + 3 + 5), ("kv".to_string(), 2)],
        "component bytes plus key (UTF-8 bytes) and value bytes"
    );
    assert!(s.storage("globex").await.unwrap().is_empty());
}

async fn tenants_move_between_plans(s: TestDb) {
    s.ensure_tenant("globex").await.unwrap();
    s.ensure_tenant("acme").await.unwrap();
    let default = s.tenant_plan("acme").await.unwrap().unwrap();
    assert_eq!((default.name.as_str(), default.invocations_quota), ("default", None));
    let pro = Plan {
        name: "pro".into(),
        currency: "EUR".into(),
        monthly_price_cents: 4_900,
        invocations_quota: Some(1_000_000),
        storage_quota_bytes: Some(1 << 30),
        price_per_million_invocations_cents: 20,
        price_per_compute_hour_cents: 5,
        price_per_gib_egress_cents: 9,
    };
    s.put_plan(&pro).await.unwrap();
    s.set_tenant_plan("acme", "pro").await.unwrap();
    assert_eq!(s.tenant_plan("acme").await.unwrap(), Some(pro.clone()));
    s.put_plan(&Plan {
        monthly_price_cents: 5_900,
        ..pro.clone()
    })
    .await
    .unwrap();
    assert_eq!(s.tenant_plan("acme").await.unwrap().unwrap().monthly_price_cents, 5_900);
    assert!(matches!(
        s.set_tenant_plan("acme", "nope").await,
        Err(StoreError::NotFound(_))
    ));
    let listed: Vec<(String, String)> = s.tenants().await.unwrap().into_iter().map(|t| (t.id, t.plan)).collect();
    assert_eq!(
        listed,
        [("acme".into(), "pro".into()), ("globex".into(), "default".into())],
        "every tenant by id, with its plan"
    );
    assert!(matches!(
        s.set_tenant_plan("nobody", "pro").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.tenant_plan("nobody").await.unwrap(), None);
    let names: Vec<_> = s.plans().await.unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["default", "pro"]);
}

async fn identity_providers_and_oidc_sign_ins(s: TestDb) {
    s.ensure_tenant("acme").await.unwrap();
    let provider = IdentityProvider {
        name: "corp".into(),
        kind: "ldap".into(),
        config: "{}".into(),
    };
    s.put_identity_provider("acme", &provider).await.unwrap();
    let changed = IdentityProvider {
        kind: "oidc".into(),
        ..provider.clone()
    };
    s.put_identity_provider("acme", &changed).await.unwrap();
    assert_eq!(
        s.identity_providers("acme").await.unwrap(),
        std::slice::from_ref(&changed)
    );
    assert_eq!(s.identity_provider("acme", "corp").await.unwrap(), Some(changed));
    assert_eq!(s.identity_provider("globex", "corp").await.unwrap(), None);

    s.create_user(&user("u1", "ada@corp.acme")).await.unwrap();
    assert_eq!(s.external_user("acme", "corp", "uid=ada").await.unwrap(), None);
    s.link_external_user("acme", "corp", "uid=ada", "u1").await.unwrap();
    assert_eq!(
        s.external_user("acme", "corp", "uid=ada").await.unwrap().as_deref(),
        Some("u1")
    );
    assert_eq!(s.external_user("globex", "corp", "uid=ada").await.unwrap(), None);

    let login = |expires_at: &str| OidcLogin {
        tenant: "acme".into(),
        provider: "corp".into(),
        nonce: "n".into(),
        verifier: "v".into(),
        return_to: None,
        expires_at: expires_at.into(),
    };
    s.put_oidc_login("state-1", &login("2999-01-01T00:00:00.000Z"))
        .await
        .unwrap();
    s.put_oidc_login("state-2", &login("2000-01-01T00:00:00.000Z"))
        .await
        .unwrap();
    assert_eq!(
        s.take_oidc_login("state-1").await.unwrap(),
        Some(login("2999-01-01T00:00:00.000Z"))
    );
    assert_eq!(
        s.take_oidc_login("state-1").await.unwrap(),
        None,
        "a sign-in is taken once"
    );
    assert_eq!(
        s.take_oidc_login("state-2").await.unwrap(),
        None,
        "an expired sign-in is gone"
    );

    assert!(s.delete_identity_provider("acme", "corp").await.unwrap());
    assert!(!s.delete_identity_provider("acme", "corp").await.unwrap());
}
