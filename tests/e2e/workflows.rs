//! Workflows through the real binary, on both store backends: definitions
//! checked when saved, runs of real workflow-step components and MCP tools
//! that retry, join, wait for approval (which a viewer cannot give), fail,
//! compensate and cancel.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::backends::{Backend, Platform, on_both_backends};
use crate::support::{ADMIN, Api};

on_both_backends!(
    bad_definitions_are_refused_naming_the_problem,
    runs_retry_join_and_wait_for_approval,
    a_failed_run_compensates_and_a_rejected_or_cancelled_one_stops,
    a_run_survives_its_node_being_killed,
    a_stopping_node_finishes_its_running_step_and_takes_no_other,
);

/// Nodes share runs through PostgreSQL (the multi-node store).
#[tokio::test]
async fn postgres_another_node_finishes_what_a_killed_one_left() {
    another_node_finishes_what_a_killed_one_left(Backend::Postgres).await
}

const T: &str = "/api/v1/tenants/acme";

/// Acme with the test step (`steps`), a tool server (`tools`) and an HTTP function (`web`).
async fn tenant(platform: &Platform) -> Api {
    let admin = platform.api(ADMIN);
    admin.create_tenant("acme").await;
    let kv = json!({"grants": {"key_value_stores": ["default"]}});
    admin.deploy("acme", "steps", "1.0.0", "test_step.wasm", kv).await;
    admin
        .deploy("acme", "tools", "1.0.0", "conformance.wasm", json!({}))
        .await;
    admin.deploy("acme", "web", "1.0.0", "hello_p2.wasm", json!({})).await;
    admin
}

async fn save(api: &Api, name: &str, definition: &str) -> (u16, Value) {
    api.send(
        Method::PUT,
        &format!("{T}/workflows/{name}"),
        Some(definition.as_bytes().to_vec()),
    )
    .await
}

/// Polls run `id` of `tenant` until `done` says so.
pub async fn wait_for_run(api: &Api, tenant: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let path = format!("/api/v1/tenants/{tenant}/runs/{id}");
        let (status, run) = api.send(Method::GET, &path, None).await;
        assert_eq!(status, 200, "{run}");
        if done(&run) {
            return run;
        }
        assert!(Instant::now() < deadline, "run {id} stalled: {run}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub fn ended(run: &Value) -> bool {
    ["succeeded", "failed", "cancelled"].contains(&run["state"].as_str().unwrap())
}

fn step<'a>(run: &'a Value, id: &str) -> &'a Value {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id} in {run}"))
}

pub async fn start(api: &Api, workflow: &str, input: Value) -> String {
    let (status, run) = api
        .send_json(
            Method::POST,
            &format!("{T}/workflows/{workflow}/runs"),
            json!({ "input": input }),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    assert_eq!(run["state"], "running");
    run["id"].as_str().unwrap().to_string()
}

async fn bad_definitions_are_refused_naming_the_problem(backend: Backend) {
    let platform = Platform::start(backend);
    let admin = tenant(&platform).await;
    let refused = [
        (
            r#"{"steps": [{"id": "a", "needs": ["b"], "wait": {"seconds": 1}}, {"id": "b", "needs": ["a"], "wait": {"seconds": 1}}]}"#,
            "cycle",
        ),
        (
            r#"{"steps": [{"id": "a", "needs": ["nowhere"], "wait": {"seconds": 1}}]}"#,
            "unknown step `nowhere`",
        ),
        (
            r#"{"steps": [{"id": "a", "component": {"plugin": "ghost"}}]}"#,
            "component `ghost` is not an enabled plugin of tenant `acme`",
        ),
        (
            r#"{"steps": [{"id": "a", "component": {"plugin": "web"}}]}"#,
            "component `web` is not a workflow step",
        ),
        (
            r#"{"steps": [{"id": "a", "tool": {"plugin": "tools", "name": "no_such_tool"}}]}"#,
            "tool server `tools` has no tool `no_such_tool`",
        ),
        (
            r#"{"steps": [{"id": "a", "wait": {"seconds": "soon"}}]}"#,
            "steps[0].wait.seconds",
        ),
        (
            r#"{"steps": [{"id": "a", "workflow": {"name": "elsewhere"}}]}"#,
            "workflow `elsewhere` does not exist",
        ),
        ("steps: [oops", "line"),
    ];
    for (definition, expected) in refused {
        let (status, body) = save(&admin, "broken", definition).await;
        assert_eq!(status, 400, "{definition}: {body}");
        assert_eq!(body["error"]["code"], "invalid_workflow", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "`{message}` should name `{expected}`");
    }
    let (status, _) = admin.send(Method::GET, &format!("{T}/workflows/broken"), None).await;
    assert_eq!(status, 404, "nothing of a refused definition is kept");

    // YAML and JSON; each save is a new version.
    let yaml = "description: one step\nsteps:\n  - id: only\n    component: { plugin: steps, input: { n: 1 } }\n";
    let (status, body) = save(&admin, "simple", yaml).await;
    assert_eq!((status, body["version"].clone()), (201, json!(1)), "{body}");
    let (status, body) = save(
        &admin,
        "simple",
        r#"{"steps": [{"id": "only", "wait": {"seconds": 0}}]}"#,
    )
    .await;
    assert_eq!((status, body["version"].clone()), (201, json!(2)), "{body}");
    let (status, body) = admin.send(Method::GET, &format!("{T}/workflows/simple"), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["version"], 2);
    assert_eq!(body["definition"]["steps"][0]["wait"]["seconds"], 0);
    let (_, list) = admin.send(Method::GET, &format!("{T}/workflows"), None).await;
    assert_eq!(list["workflows"].as_array().unwrap().len(), 1, "{list}");

    // A step plugin is not an HTTP function.
    let (status, text) = crate::support::get(&format!("{}/t/acme/fn/steps/", platform.pa.url)).await;
    assert_eq!(status, 404);
    assert!(text.contains("workflow step"), "{text}");
}

async fn runs_retry_join_and_wait_for_approval(backend: Backend) {
    let platform = Platform::start(backend);
    let admin = tenant(&platform).await;
    let definition = r#"
description: retry, fan out, join, approve
steps:
  - id: flaky
    component: { plugin: steps, input: { fail: 2, effect: prepared, tag: "${input.tag}" } }
    retry: { max_attempts: 3, backoff_ms: 20 }
  - id: left
    needs: [flaky]
    component: { plugin: steps, input: { side: left, effect: left } }
  - id: right
    needs: [flaky]
    tool: { plugin: tools, name: test_simple_text }
  - id: approve
    needs: [left, right]
    approval: { message: "Ship ${input.tag}?" }
  - id: ship
    needs: [approve]
    component: { plugin: steps, input: { by: "${steps.approve.output.by}", text: "${steps.right.output.text}" } }
"#;
    let (status, body) = save(&admin, "release", definition).await;
    assert_eq!(status, 201, "{body}");
    let id = start(&admin, "release", json!({"tag": "v1"})).await;
    let waiting = wait_for_run(&admin, "acme", &id, |run| step(run, "approve")["state"] == "waiting").await;
    assert_eq!(waiting["state"], "running");
    let flaky = step(&waiting, "flaky");
    assert_eq!(flaky["state"], "succeeded");
    assert_eq!(flaky["attempt"], 3, "two failures, then success: {flaky}");
    assert_eq!(flaky["output"]["attempt"], 3);
    assert_eq!(flaky["output"]["effects"], 1, "the effect is recorded once");
    assert_eq!(flaky["output"]["key"], format!("{id}/flaky"));
    assert_eq!(flaky["output"]["input"]["tag"], "v1");
    assert_eq!(
        step(&waiting, "right")["output"]["text"],
        "This is a simple text response for testing."
    );
    assert_eq!(step(&waiting, "ship")["state"], "pending");

    // A viewer may watch but not decide; an operator may.
    let viewer = platform.api(&admin.create_key("acme", "viewer").await);
    let approve = format!("{T}/runs/{id}/steps/approve/approve");
    let (status, body) = viewer.send_json(Method::POST, &approve, json!({})).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = viewer.send(Method::GET, &format!("{T}/runs/{id}"), None).await;
    assert_eq!(status, 200);
    let operator = platform.api(&admin.create_key("acme", "operator").await);
    let (status, body) = operator
        .send_json(Method::POST, &approve, json!({"comment": "looks good"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = operator.send_json(Method::POST, &approve, json!({})).await;
    assert_eq!(status, 409, "approved twice: {body}");

    let done = wait_for_run(&admin, "acme", &id, ended).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let ship = step(&done, "ship");
    assert!(
        ship["output"]["input"]["by"].as_str().unwrap().starts_with("key:"),
        "{ship}"
    );
    assert_eq!(
        ship["output"]["input"]["text"],
        "This is a simple text response for testing."
    );
    assert_eq!(done["output"]["ship"]["step"], "ship");
    assert!(
        step(&done, "approve")["decided_by"]
            .as_str()
            .unwrap()
            .starts_with("key:")
    );

    let (_, runs) = admin
        .send(Method::GET, &format!("{T}/runs?workflow=release"), None)
        .await;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1, "{runs}");
    let (status, _) = admin.send(Method::GET, &format!("{T}/runs?limit=0"), None).await;
    assert_eq!(status, 400);
    let (status, _) = admin
        .send(Method::GET, &format!("/api/v1/tenants/globex/runs/{id}"), None)
        .await;
    assert_eq!(status, 404, "another tenant does not see the run");
}

async fn a_failed_run_compensates_and_a_rejected_or_cancelled_one_stops(backend: Backend) {
    let platform = Platform::start(backend);
    let admin = tenant(&platform).await;
    let saga = r#"{"steps": [
        {"id": "book", "component": {"plugin": "steps", "input": {"effect": "booked"}},
         "compensate": {"component": {"plugin": "steps", "input": {"effect": "unbooked", "of": "${steps.book.output.key}"}}}},
        {"id": "pay", "needs": ["book"], "component": {"plugin": "steps", "input": {"fail": 5, "retryable": false}},
         "retry": {"max_attempts": 4, "backoff_ms": 1}}]}"#;
    let (status, body) = save(&admin, "saga", saga).await;
    assert_eq!(status, 201, "{body}");
    let id = start(&admin, "saga", json!({})).await;
    let done = wait_for_run(&admin, "acme", &id, ended).await;
    assert_eq!(done["state"], "failed", "{done}");
    let error = done["error"].as_str().unwrap();
    assert!(
        error.contains("step `pay` failed") && error.contains("asked_to_fail"),
        "{error}"
    );
    assert_eq!(step(&done, "pay")["attempt"], 1, "a non-retryable error is not retried");
    let undo = step(&done, "compensate.book");
    assert_eq!(undo["state"], "succeeded", "{done}");
    assert_eq!(undo["output"]["input"]["of"], format!("{id}/book"));

    let gate = r#"{"steps": [{"id": "gate", "approval": {}}, {"id": "after", "needs": ["gate"], "component": {"plugin": "steps"}}]}"#;
    let (status, body) = save(&admin, "gate", gate).await;
    assert_eq!(status, 201, "{body}");
    let id = start(&admin, "gate", json!({})).await;
    wait_for_run(&admin, "acme", &id, |run| step(run, "gate")["state"] == "waiting").await;
    let (status, body) = admin
        .send_json(
            Method::POST,
            &format!("{T}/runs/{id}/steps/gate/reject"),
            json!({"comment": "not now"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let done = wait_for_run(&admin, "acme", &id, ended).await;
    assert_eq!(done["state"], "failed");
    assert!(done["error"].as_str().unwrap().contains("not now"), "{done}");
    assert_eq!(step(&done, "after")["state"], "cancelled");

    let id = start(&admin, "gate", json!({})).await;
    wait_for_run(&admin, "acme", &id, |run| step(run, "gate")["state"] == "waiting").await;
    let (status, body) = admin.send(Method::POST, &format!("{T}/runs/{id}/cancel"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "cancelled");
    let (status, body) = admin.send(Method::POST, &format!("{T}/runs/{id}/cancel"), None).await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = admin
        .send_json(Method::POST, &format!("{T}/runs/{id}/steps/gate/approve"), json!({}))
        .await;
    assert_eq!(status, 409, "a cancelled run's approval is gone: {body}");
}

/// Nodes give up a silent node's steps after 2 s.
const SHORT_LEASE: [&str; 2] = ["--workflow-lease-secs", "2"];

/// A chain of 100 steps of `sleep_ms` each, each recording its effect once
/// under its idempotency key.
pub async fn save_chain(api: &Api, sleep_ms: u64) {
    let steps: Vec<Value> = (0..100)
        .map(|i| {
            let mut step = json!({"id": format!("s{i}"), "component": {"plugin": "steps", "input": {"effect": "chain", "sleep_ms": sleep_ms}}});
            if i > 0 {
                step["needs"] = json!([format!("s{}", i - 1)]);
            }
            step
        })
        .collect();
    let (status, body) = save(api, "chain", &json!({ "steps": steps }).to_string()).await;
    assert_eq!(status, 201, "{body}");
}

pub fn succeeded_steps(run: &Value) -> usize {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["state"] == "succeeded")
        .count()
}

/// Every step succeeded and saw exactly the effects of the steps before it
/// and its own: none lost, none done twice.
pub fn assert_effects_once(run: &Value) {
    assert_eq!(run["state"], "succeeded", "{run}");
    for i in 0..100 {
        let step = step(run, &format!("s{i}"));
        assert_eq!(step["state"], "succeeded", "{step}");
        assert_eq!(step["output"]["effects"], i + 1, "effects after s{i}: {step}");
    }
}

async fn a_run_survives_its_node_being_killed(backend: Backend) {
    let mut platform = Platform::start_with(backend, &SHORT_LEASE);
    let admin = tenant(&platform).await;
    save_chain(&admin, 10).await;
    let id = start(&admin, "chain", json!({})).await;
    wait_for_run(&admin, "acme", &id, |run| succeeded_steps(run) >= 30).await;
    platform.crash_and_restart(&SHORT_LEASE);
    let admin = platform.api(ADMIN);
    let done = wait_for_run(&admin, "acme", &id, ended).await;
    assert_effects_once(&done);
}

async fn another_node_finishes_what_a_killed_one_left(backend: Backend) {
    let mut platform = Platform::start_with(backend, &SHORT_LEASE);
    let other = platform.node(&SHORT_LEASE);
    let admin = tenant(&platform).await;
    save_chain(&admin, 10).await;
    let id = start(&admin, "chain", json!({})).await;
    wait_for_run(&admin, "acme", &id, |run| succeeded_steps(run) >= 30).await;
    platform.pa.kill();
    let survivor = Api::new(&other, ADMIN);
    let done = wait_for_run(&survivor, "acme", &id, ended).await;
    assert_effects_once(&done);
}

async fn a_stopping_node_finishes_its_running_step_and_takes_no_other(backend: Backend) {
    let mut platform = Platform::start_with(backend, &SHORT_LEASE);
    let admin = tenant(&platform).await;
    let definition = json!({"steps": [
        {"id": "slow", "component": {"plugin": "steps", "input": {"effect": "drain", "sleep_ms": 1500}}},
        {"id": "next", "needs": ["slow"], "component": {"plugin": "steps", "input": {"effect": "drain"}}},
    ]});
    let (status, body) = save(&admin, "drain", &definition.to_string()).await;
    assert_eq!(status, 201, "{body}");
    let id = start(&admin, "drain", json!({})).await;
    wait_for_run(&admin, "acme", &id, |run| step(run, "slow")["state"] == "running").await;
    let stopped = tokio::task::spawn_blocking(move || {
        let status = platform.terminate();
        (platform, status)
    });
    let (mut platform, status) = stopped.await.unwrap();
    assert!(status.success(), "pa exited with {status}");

    // The stopped node finished `slow` once and left `next` for another node.
    platform.restart(&SHORT_LEASE);
    let admin = platform.api(ADMIN);
    let done = wait_for_run(&admin, "acme", &id, ended).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let slow = step(&done, "slow");
    assert_eq!(
        slow["attempt"], 1,
        "the step was run again after the node stopped: {slow}"
    );
    assert_eq!(slow["output"]["effects"], 1, "{slow}");
    assert_eq!(step(&done, "next")["output"]["effects"], 2, "{done}");
}
