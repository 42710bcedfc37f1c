//! Metering, quotas and invoices through the real binary, on both store
//! backends: calls are counted with their time, fuel, memory and egress; a
//! plan's invocation and storage quotas refuse work cleanly when used up;
//! the month's invoice prices the usage by plan, over the API and the CLI.

use std::process::Command;

use reqwest::Method;
use serde_json::{Value, json};

use crate::backends::{Backend, Platform, on_both_backends};
use crate::support::{ADMIN, get, guest_bytes, origin, pa_bin};

on_both_backends!(
    usage_is_metered_quotas_hold_and_invoices_add_up,
    key_value_writes_stop_at_the_storage_quota,
);

/// `pa billing <args>` against `platform` as the platform admin.
fn cli(platform: &Platform, args: &[&str]) -> (bool, String) {
    let out = Command::new(pa_bin())
        .arg("billing")
        .args(args)
        .args(["--server", &platform.pa.url, "--tenant", "acme"])
        .env("PA_TOKEN", ADMIN)
        .output()
        .unwrap();
    crate::support::outcome(&out)
}

async fn usage_is_metered_quotas_hold_and_invoices_add_up(backend: Backend) {
    let platform = Platform::start(backend);
    let admin = platform.api(ADMIN);
    admin.create_tenant("acme").await;
    admin.create_tenant("globex").await;
    let (status, plan) = admin
        .send_json(
            Method::PUT,
            "/api/v1/plans/tiny",
            json!({
                "currency": "EUR",
                "monthly_price_cents": 1_000,
                "invocations_quota": 3,
                "price_per_million_invocations_cents": 2_000_000,
            }),
        )
        .await;
    assert_eq!(status, 200, "{plan}");
    let (status, body) = admin
        .send_json(Method::PUT, "/api/v1/tenants/acme/plan", json!({ "plan": "tiny" }))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = admin
        .send_json(Method::PUT, "/api/v1/tenants/acme/plan", json!({ "plan": "nope" }))
        .await;
    assert_eq!(status, 404);

    let port = origin().await;
    let grants = json!({ "grants": { "allowed_outbound_hosts": [format!("http://127.0.0.1:{port}")] } });
    admin.deploy("acme", "faults", "1.0.0", "faults.wasm", grants).await;
    admin
        .deploy("globex", "hello", "1.0.0", "hello_p2.wasm", json!({}))
        .await;
    let call = |path: &str| {
        let url = format!("{}/t/acme/fn/faults/{path}", platform.pa.url);
        async move { get(&url).await }
    };

    // Three calls fit the quota: one fetches from the origin (egress).
    let fetch = format!("fetch?url=http://127.0.0.1:{port}/");
    for path in ["ok", fetch.as_str(), "ok"] {
        let (status, body) = call(path).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    // The fourth is refused before it runs: 429 with the reason and when it resets.
    let response = reqwest::get(format!("{}/t/acme/fn/faults/ok", platform.pa.url))
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=31 * 24 * 3600).contains(&retry_after), "{retry_after}");
    let refused: Value = response.json().await.unwrap();
    assert_eq!(refused["error"]["code"], "quota_exceeded", "{refused}");
    assert!(
        refused["error"]["message"].as_str().unwrap().contains("3 invocations"),
        "{refused}"
    );
    // Another tenant, on the default plan, is not limited.
    for _ in 0..5 {
        assert_eq!(get(&format!("{}/t/globex/fn/hello", platform.pa.url)).await.0, 200);
    }

    // Usage counts exactly the admitted calls, with what they consumed.
    let (status, usage) = admin.send(Method::GET, "/api/v1/tenants/acme/usage", None).await;
    assert_eq!(status, 200, "{usage}");
    let faults = &usage["plugins"][0];
    assert_eq!(
        (faults["plugin"].as_str(), faults["invocations"].as_i64()),
        (Some("faults"), Some(3)),
        "{usage}"
    );
    for measure in ["wall_micros", "fuel", "peak_memory_bytes", "egress_bytes"] {
        assert!(faults[measure].as_i64().unwrap() > 0, "{measure}: {usage}");
    }
    let component = guest_bytes("faults.wasm").len() as i64;
    assert_eq!(faults["storage_bytes"].as_i64(), Some(component), "{usage}");
    assert_eq!(
        usage["quotas"]["invocations"],
        json!({ "limit": 3, "used": 3 }),
        "{usage}"
    );
    let (_, globex) = admin.send(Method::GET, "/api/v1/tenants/globex/usage", None).await;
    assert_eq!(globex["totals"]["invocations"], 5, "{globex}");
    assert!(
        !globex.to_string().contains("faults"),
        "no tenant sees another's usage: {globex}"
    );

    // The invoice: the plan's fee plus 3 invocations at 2 cents each.
    let period = usage["period"].as_str().unwrap().to_string();
    let (status, invoice) = admin
        .send(Method::GET, &format!("/api/v1/tenants/acme/invoices/{period}"), None)
        .await;
    assert_eq!(status, 200, "{invoice}");
    assert_eq!(
        (invoice["status"].as_str(), invoice["currency"].as_str()),
        (Some("open"), Some("EUR"))
    );
    assert_eq!(invoice["lines"][0]["amount_cents"], 1_000, "{invoice}");
    assert_eq!(invoice["lines"][1]["quantity"], 3, "{invoice}");
    assert_eq!(invoice["lines"][1]["amount_cents"], 6, "{invoice}");
    assert_eq!(
        invoice["total_cents"], 1_006,
        "compute and egress are free on this plan: {invoice}"
    );
    let (status, _) = admin
        .send(Method::GET, "/api/v1/tenants/acme/invoices/2999-01", None)
        .await;
    assert_eq!(status, 404, "no invoice for a month that has not started");
    let (status, _) = admin
        .send(Method::GET, "/api/v1/tenants/acme/invoices/2026-13", None)
        .await;
    assert_eq!(status, 400);

    // The same from the command line.
    let (ok, text) = cli(&platform, &["invoice", "--period", &period]);
    assert!(ok && text.contains("Total") && text.contains("10.06 EUR"), "{text}");
    let (ok, text) = cli(&platform, &["usage"]);
    assert!(
        ok && text.contains("faults") && text.contains("invocations: 3 used of 3"),
        "{text}"
    );
    let (ok, text) = cli(&platform, &["invoice", "--period", "2026-13"]);
    assert!(!ok && text.contains("invalid period"), "{text}");

    // Storage: a quota just above what acme keeps refuses a larger upload, and nothing of it remains.
    let (status, body) = admin
        .send_json(
            Method::PUT,
            "/api/v1/plans/tiny",
            json!({ "currency": "EUR", "monthly_price_cents": 1_000, "storage_quota_bytes": component + 10 }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = admin
        .upload("acme", "hello", "1.0.0", guest_bytes("hello_p2.wasm"))
        .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "storage_quota_exceeded", "{body}");
    let (status, _) = admin
        .send(Method::GET, "/api/v1/tenants/acme/plugins/hello/versions/1.0.0", None)
        .await;
    assert_eq!(status, 404, "a refused upload leaves nothing behind");
    // With the new plan the invocation quota is gone (plans apply at once).
    assert_eq!(call("ok").await.0, 200);

    // Usage is read with billing.read: operators yes, viewers no.
    for (role, expected) in [("operator", 200), ("viewer", 403)] {
        let api = platform.api(&admin.create_key("acme", role).await);
        assert_eq!(
            api.send(Method::GET, "/api/v1/tenants/acme/usage", None).await.0,
            expected,
            "{role}"
        );
    }
}

async fn key_value_writes_stop_at_the_storage_quota(backend: Backend) {
    let platform = Platform::start(backend);
    let admin = platform.api(ADMIN);
    admin.create_tenant("acme").await;
    let kv = json!({ "grants": { "key_value_stores": ["default"] } });
    admin.deploy("acme", "kv", "1.0.0", "spin5_kv.wasm", kv).await;
    let component = guest_bytes("spin5_kv.wasm").len() as i64;
    let (status, plan) = admin
        .send_json(
            Method::PUT,
            "/api/v1/plans/small",
            json!({ "currency": "EUR", "monthly_price_cents": 100, "storage_quota_bytes": component + 1_000 }),
        )
        .await;
    assert_eq!(status, 200, "{plan}");
    let (status, body) = admin
        .send_json(Method::PUT, "/api/v1/tenants/acme/plan", json!({ "plan": "small" }))
        .await;
    assert_eq!(status, 200, "{body}");

    let http = reqwest::Client::new();
    let url = |key: &str| format!("{}/t/acme/fn/kv/kv/{key}", platform.pa.url);
    let put = |key: &'static str, bytes: usize| {
        let request = http.put(url(key)).body(vec![b'x'; bytes]);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    assert_eq!(put("a", 600).await.0, 201, "600 bytes fit");
    let (status, body) = put("b", 600).await;
    assert_eq!(status, 500, "the app reports the store's refusal: {body}");
    assert!(body.contains("storage quota"), "{body}");
    assert_eq!(get(&url("b")).await.0, 404, "nothing of the refused write is kept");
    assert_eq!(get(&url("a")).await, (200, "x".repeat(600)));
    // Within the quota writes go on, here and after the quota state is reloaded.
    assert_eq!(put("c", 100).await.0, 201);
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert_eq!(put("d", 100).await.0, 201);
    let (status, body) = put("e", 600).await;
    assert_eq!(status, 500, "{body}");
}
