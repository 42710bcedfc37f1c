//! The plugin registry through the real binary: upload, enable, call,
//! restart, bad uploads, tenant isolation and upgrades under load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::support::{ADMIN, Api, Pa, cli, get, guest, guest_bytes, wait_in_flight};

#[tokio::test]
async fn spin_apps_run_unchanged_and_keep_their_data_across_restarts() {
    let data = tempfile::tempdir().unwrap();
    let pa = Pa::serve(data.path(), &[]);
    for (name, file) in [("spin5", "spin5_kv.wasm"), ("spin7", "spin7_kv.wasm")] {
        let out = cli(
            &pa,
            &[
                "plugin",
                "push",
                guest(file).to_str().unwrap(),
                "--name",
                name,
                "--version",
                "1.0.0",
            ],
        );
        assert!(
            out.status.success(),
            "push {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let greeting = format!("greeting=hi from {name}");
        let out = cli(
            &pa,
            &[
                "plugin",
                "enable",
                name,
                "--version",
                "1.0.0",
                "--kv-store",
                "default",
                "--var",
                &greeting,
            ],
        );
        assert!(
            out.status.success(),
            "enable {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = cli(&pa, &["plugin", "list"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains("\"enabled_version\": \"1.0.0\""), "{listed}");

    let client = reqwest::Client::new();
    for name in ["spin5", "spin7"] {
        let base = format!("{}/t/default/fn/{name}", pa.url);
        for root in [base.clone(), format!("{base}/")] {
            assert_eq!(get(&root).await, (200, format!("{name} hello")), "{root}");
        }
        assert_eq!(get(&format!("{base}/var")).await, (200, format!("hi from {name}")));
        assert_eq!(get(&format!("{base}/kv/k")).await.0, 404);
        let put = client
            .put(format!("{base}/kv/k"))
            .body(format!("value of {name}"))
            .send()
            .await
            .unwrap();
        assert_eq!(put.status().as_u16(), 201);
        assert_eq!(get(&format!("{base}/kv/k")).await, (200, format!("value of {name}")));
    }
    pa.stop();

    let pa = Pa::serve(data.path(), &[]);
    let (status, ready) = get(&format!("{}/readyz", pa.url)).await;
    assert_eq!(status, 200, "{ready}");
    for name in ["spin5", "spin7"] {
        let base = format!("{}/t/default/fn/{name}", pa.url);
        assert_eq!(get(&format!("{base}/kv/k")).await, (200, format!("value of {name}")));
        assert_eq!(get(&format!("{base}/var")).await, (200, format!("hi from {name}")));
    }
    let (status, metrics) = get(&format!("{}/metrics", pa.url)).await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("pa_function_requests_total{plugin=\"spin5\",status=\"200\",tenant=\"default\"}"),
        "{metrics}"
    );
}

/// A Spin app written in Python: Spin's Python SDK imports every Spin
/// interface, whatever the app uses. Its key-value, variables (also through
/// `wasi:config`) and `wasi:keyvalue` counters work on the tenant's data; a
/// service the host does not provide answers with its interface's error.
#[tokio::test]
async fn a_spin_python_app_runs_unchanged() {
    let data = tempfile::tempdir().unwrap();
    let pa = Pa::serve(data.path(), &[]);
    let api = Api::new(&pa, ADMIN);
    let redis = "redis://127.0.0.1:6379";
    let grants = |outbound: &[&str]| {
        json!({ "grants": {
            "key_value_stores": ["default"],
            "allowed_outbound_hosts": outbound,
            "variables": { "greeting": "hi from python", "redis_address": redis },
        } })
    };
    api.deploy("default", "py", "1.0.0", "spin_python.wasm", grants(&[redis]))
        .await;
    api.deploy("default", "ungranted", "1.0.0", "spin_python.wasm", grants(&[]))
        .await;
    api.deploy(
        "default",
        "wildcard",
        "1.0.0",
        "spin_python.wasm",
        grants(&["redis://*:6379"]),
    )
    .await;
    let base = format!("{}/t/default/fn/py", pa.url);
    assert_eq!(get(&base).await, (200, "python hello".into()));
    assert_eq!(get(&format!("{base}/var")).await, (200, "hi from python".into()));
    assert_eq!(
        get(&format!("{base}/config")).await,
        (
            200,
            "hi from python [('greeting', 'hi from python'), ('redis_address', 'redis://127.0.0.1:6379')]".into()
        )
    );
    assert_eq!(get(&format!("{base}/kv/k")).await.0, 404);
    let client = reqwest::Client::new();
    let put = client.put(format!("{base}/kv/k")).body("v1").send().await.unwrap();
    assert_eq!(put.status().as_u16(), 201);
    assert_eq!(get(&format!("{base}/kv/k")).await, (200, "v1".into()));

    // Concurrent increments each count once: every answer differs, the
    // last is the total, and the counter reads back as decimal text.
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let url = format!("{base}/count/c");
        calls.spawn(async move { get(&url).await });
    }
    let mut counts: Vec<u32> = calls
        .join_all()
        .await
        .into_iter()
        .map(|(status, body)| {
            assert_eq!(status, 200, "{body}");
            body.parse().unwrap()
        })
        .collect();
    counts.sort();
    assert_eq!(counts, (1..=12).collect::<Vec<_>>());
    assert_eq!(get(&format!("{base}/kv/c")).await, (200, "12".into()));

    // Outbound Redis, to the granted address only: a wildcard grant does not
    // reach a loopback address.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let key = format!("pa-e2e-{}-{}", std::process::id(), now.as_nanos());
    for count in 1..=2 {
        let set = client
            .post(format!("{base}/redis/{key}"))
            .body("v1")
            .send()
            .await
            .unwrap();
        assert_eq!(
            (set.status().as_u16(), set.text().await.unwrap()),
            (200, format!("v1 {count}"))
        );
    }
    for refused in ["ungranted", "wildcard"] {
        let url = format!("{}/t/default/fn/{refused}/redis/{key}", pa.url);
        assert_eq!(get(&url).await, (503, "Error_InvalidAddress".into()), "{refused}");
    }
    // The Redis traffic is the app's egress (it makes no other outbound
    // call); usage is written every second.
    let egress = async {
        loop {
            let (status, usage) = api
                .send(reqwest::Method::GET, "/api/v1/tenants/default/usage", None)
                .await;
            assert_eq!(status, 200, "{usage}");
            let py = usage["plugins"]
                .as_array()
                .and_then(|plugins| plugins.iter().find(|p| p["plugin"] == "py"))
                .and_then(|p| p["egress_bytes"].as_i64());
            match py {
                Some(bytes) if bytes > 0 => return bytes,
                _ => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), egress)
        .await
        .expect("the app's Redis bytes are counted as egress");

    assert_eq!(
        get(&format!("{base}/llm")).await,
        (503, "Error_ModelNotSupported".into())
    );
}

#[tokio::test]
async fn bad_uploads_are_refused_with_a_reason_and_nothing_is_stored() {
    let data = tempfile::tempdir().unwrap();
    let pa = Pa::serve(data.path(), &["--max-upload-bytes", "2000000"]);
    let api = Api::new(&pa, ADMIN);
    let hello = guest_bytes("hello_p2.wasm");
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "random",
            (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect(),
            400,
            "not a WebAssembly binary",
        ),
        ("empty", vec![], 400, "empty"),
        (
            "core",
            b"\0asm\x01\0\0\0".to_vec(),
            400,
            "core WebAssembly module, not a component",
        ),
        ("truncated", hello[..hello.len() / 2].to_vec(), 400, "malformed"),
        (
            "missing",
            guest_bytes("needs_missing.wasm"),
            422,
            "acme:missing/greeter@1.0.0",
        ),
        ("huge", vec![0u8; 2_000_001], 413, "upload limit"),
    ];
    for (name, bytes, status, message) in cases {
        let (got, body) = api.upload("default", name, "1.0.0", bytes).await;
        assert_eq!(got, status, "{name}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(message),
            "{name}: {body}"
        );
    }
    for (path, message) in [
        (
            "/api/v1/tenants/default/plugins/..%2Fetc/versions/1.0.0",
            "invalid plugin name",
        ),
        (
            "/api/v1/tenants/default/plugins/Hello/versions/1.0.0",
            "invalid plugin name",
        ),
        (
            "/api/v1/tenants/default/plugins/hello/versions/latest",
            "invalid version",
        ),
        (
            "/api/v1/tenants/..%2F..%2Fetc/plugins/hello/versions/1.0.0",
            "invalid tenant name",
        ),
    ] {
        let (got, body) = api.send(Method::PUT, path, Some(hello.clone())).await;
        assert_eq!(got, 400, "{path}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(message),
            "{path}: {body}"
        );
    }
    let (status, list) = api.send(Method::GET, "/api/v1/tenants/default/plugins", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["plugins"], json!([]), "nothing may be stored: {list}");
    let blobs = std::fs::read_dir(data.path().join("blobs")).unwrap().count();
    assert_eq!(blobs, 0, "no blob may be written");

    // Versions are immutable: same bytes are idempotent, other bytes conflict.
    assert_eq!(api.upload("default", "hello", "1.0.0", hello.clone()).await.0, 201);
    assert_eq!(api.upload("default", "hello", "1.0.0", hello).await.0, 200);
    let (status, body) = api
        .upload("default", "hello", "1.0.0", guest_bytes("faults.wasm"))
        .await;
    assert_eq!(status, 409, "{body}");
    // Bad enable requests.
    let (status, body) = api.enable("default", "hello", json!({ "version": "9.9.9" })).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = api
        .enable(
            "default",
            "hello",
            json!({ "version": "1.0.0", "limits": { "timeout_ms": 0 } }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = api
        .enable(
            "default",
            "hello",
            json!({ "version": "1.0.0", "grants": { "allowed_outbound_hosts": ["example.com"] } }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = api
        .send(
            Method::POST,
            "/api/v1/tenants/default/plugins/hello/enable",
            Some(b"{not json".to_vec()),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn tenants_cannot_reach_each_other() {
    let data = tempfile::tempdir().unwrap();
    let pa = Pa::serve(data.path(), &[]);
    let admin = Api::new(&pa, ADMIN);
    let key_a = admin.create_tenant("alpha").await;
    let key_b = admin.create_tenant("beta").await;
    let a = Api::new(&pa, &key_a);
    let b = Api::new(&pa, &key_b);
    let private = json!({ "access": "api-key", "grants": { "key_value_stores": ["default"] } });
    a.deploy("alpha", "kv", "1.0.0", "spin5_kv.wasm", private.clone()).await;
    b.deploy("beta", "kv", "1.0.0", "spin5_kv.wasm", private).await;

    // The control plane refuses cross-tenant use.
    assert_eq!(a.send(Method::GET, "/api/v1/tenants/beta/plugins", None).await.0, 403);
    assert_eq!(
        a.upload("beta", "kv", "2.0.0", guest_bytes("hello_p2.wasm")).await.0,
        403
    );
    assert_eq!(
        a.upload("beta", "kv", "1.0.0", guest_bytes("hello_p2.wasm")).await.0,
        403
    );
    assert_eq!(a.enable("beta", "kv", json!({ "version": "1.0.0" })).await.0, 403);
    assert_eq!(
        a.send(Method::POST, "/api/v1/tenants/beta/plugins/kv/disable", None)
            .await
            .0,
        403
    );
    assert_eq!(
        a.send(Method::POST, "/api/v1/tenants", Some(br#"{"id":"gamma"}"#.to_vec()))
            .await
            .0,
        403
    );

    // Functions behind API keys: only the tenant's own keys call them.
    let put = |api: &Api, tenant: &str, value: &str| {
        let request = api
            .http
            .put(format!("{}/t/{tenant}/fn/kv/kv/secret", api.url))
            .bearer_auth(&api.token)
            .body(value.to_string());
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(put(&a, "alpha", "alpha's").await, 201);
    assert_eq!(put(&a, "beta", "stolen").await, 403);
    assert_eq!(get(&format!("{}/t/beta/fn/kv/kv/secret", pa.url)).await.0, 401);
    let read = |api: &Api, tenant: &str| {
        let request = api
            .http
            .get(format!("{}/t/{tenant}/fn/kv/kv/secret", api.url))
            .bearer_auth(&api.token);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    assert_eq!(read(&a, "alpha").await, (200, "alpha's".to_string()));
    // Same plugin name, other tenant: its own, empty key-value data.
    assert_eq!(read(&b, "beta").await.0, 404);
    assert_eq!(read(&a, "beta").await.0, 403);
}

#[tokio::test]
async fn upgrading_under_load_loses_no_request() {
    let data = tempfile::tempdir().unwrap();
    let pa = Pa::serve(data.path(), &[]);
    let api = Api::new(&pa, ADMIN);
    api.deploy("default", "svc", "1.0.0", "hello_p2.wasm", json!({})).await;
    assert_eq!(
        api.upload("default", "svc", "2.0.0", guest_bytes("faults.wasm"))
            .await
            .0,
        201
    );

    let url = format!("{}/t/default/fn/svc/ok", pa.url);
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed, upgraded) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let mut workers = Vec::new();
    for _ in 0..8 {
        let (url, stop, ok, failed, upgraded) =
            (url.clone(), stop.clone(), ok.clone(), failed.clone(), upgraded.clone());
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                match client.get(&url).send().await {
                    Ok(r) if r.status() == 200 => {
                        ok.fetch_add(1, Ordering::Relaxed);
                        if r.text().await.unwrap() == "ok" {
                            upgraded.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, body) = api.enable("default", "svc", json!({ "version": "2.0.0" })).await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    assert_eq!(failed.load(Ordering::Relaxed), 0, "requests failed during the upgrade");
    assert!(
        ok.load(Ordering::Relaxed) > 50,
        "too few requests to show anything: {}",
        ok.load(Ordering::Relaxed)
    );
    assert!(
        upgraded.load(Ordering::Relaxed) > 0,
        "no request reached the new version"
    );
    assert_eq!(get(&url).await, (200, "ok".to_string()));
}

#[tokio::test]
async fn shutdown_finishes_requests_in_flight() {
    let data = tempfile::tempdir().unwrap();
    let mut pa = Pa::serve(data.path(), &[]);
    let api = Api::new(&pa, ADMIN);
    api.deploy(
        "default",
        "slow",
        "1.0.0",
        "faults.wasm",
        json!({ "limits": { "timeout_ms": 1000 } }),
    )
    .await;
    let url = format!("{}/t/default/fn/slow/loop", pa.url);
    let in_flight = tokio::spawn(async move {
        let response = reqwest::get(&url).await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    });
    wait_in_flight(&pa.url, "default", "slow").await;
    let status = tokio::task::spawn_blocking(move || pa.terminate()).await.unwrap();
    // The request in flight was answered (its function hit its timeout), not dropped.
    let (code, body) = in_flight.await.unwrap();
    assert_eq!(code, 504, "{body}");
    assert!(status.success(), "pa exited with {status}");
}

#[tokio::test]
async fn the_plugin_list_shows_what_a_plugin_was_enabled_with() {
    let data = tempfile::tempdir().unwrap();
    let pa = Pa::serve(data.path(), &[]);
    let admin = Api::new(&pa, ADMIN);
    admin.create_tenant("acme").await;
    let config = json!({
        "grants": {"key_value_stores": ["default"], "variables": {"greeting": "s3cret"}},
        "limits": {"timeout_ms": 1500},
        "access": "api-key",
    });
    admin.deploy("acme", "web", "1.0.0", "hello_p2.wasm", config).await;
    let plugin_of = |list: &serde_json::Value| {
        list["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "web")
            .cloned()
            .unwrap()
    };

    // Whoever may enable sees the whole configuration, to change it without losing any of it.
    let (status, list) = admin.send(Method::GET, "/api/v1/tenants/acme/plugins", None).await;
    assert_eq!(status, 200, "{list}");
    let enabled = &plugin_of(&list)["enabled"];
    assert_eq!(enabled["version"], "1.0.0", "{enabled}");
    assert_eq!(enabled["grants"]["key_value_stores"], json!(["default"]), "{enabled}");
    assert_eq!(
        enabled["grants"]["variables"],
        json!({"greeting": "s3cret"}),
        "{enabled}"
    );
    assert_eq!(enabled["limits"]["timeout_ms"], 1500, "{enabled}");
    assert_eq!(enabled["access"], "api-key", "{enabled}");

    // A viewer sees the variables' names, not their values.
    let viewer = Api {
        token: admin.create_key("acme", "viewer").await,
        ..admin.clone()
    };
    let (status, list) = viewer.send(Method::GET, "/api/v1/tenants/acme/plugins", None).await;
    assert_eq!(status, 200, "{list}");
    let enabled = &plugin_of(&list)["enabled"];
    assert_eq!(enabled["grants"]["variables"], json!({"greeting": null}), "{enabled}");
    assert_eq!(enabled["limits"]["timeout_ms"], 1500, "{enabled}");
}
