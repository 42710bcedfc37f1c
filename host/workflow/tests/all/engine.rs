//! The engine on a real store (SQLite and PostgreSQL), with a scripted step
//! runner standing in for the platform's components.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pa_store::{RunChange, RunSnapshot, Store, Transition};
use pa_workflow::{Action, Definition, Engine, EngineError, StepCall, StepError, StepRunner};
use serde_json::{Value, json};

/// What the scripted runner does for a plugin.
#[derive(Clone)]
enum Behaviour {
    /// Answers `{"echo": input, "n": calls so far}`.
    Echo,
    /// Fails retryably this many times, then echoes.
    Flaky(u32),
    /// Always fails, not retryably.
    Broken,
    /// Sleeps this long, then echoes.
    Slow(Duration),
}

/// One call the runner saw.
#[derive(Debug, Clone)]
struct Seen {
    step: String,
    attempt: i64,
    key: String,
    input: Value,
    at: Instant,
}

#[derive(Clone, Default)]
struct Script {
    plugins: Arc<HashMap<String, Behaviour>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    failures: Arc<Mutex<HashMap<String, u32>>>,
}

impl Script {
    fn new(plugins: &[(&str, Behaviour)]) -> Self {
        Script {
            plugins: Arc::new(plugins.iter().map(|(n, b)| (n.to_string(), b.clone())).collect()),
            ..Default::default()
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn calls_of(&self, step: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.step == step).collect()
    }
}

impl StepRunner for Script {
    async fn run(&self, call: StepCall) -> Result<Value, StepError> {
        let (plugin, input) = match call.action {
            Action::Component { plugin, input } => (plugin, input),
            Action::Tool { plugin, arguments, .. } => (plugin, arguments),
        };
        self.seen.lock().unwrap().push(Seen {
            step: call.step_id.clone(),
            attempt: call.attempt,
            key: call.idempotency_key.clone(),
            input: input.clone(),
            at: Instant::now(),
        });
        let fail = |retryable| StepError {
            code: "scripted".into(),
            message: format!("{plugin} failed"),
            retryable,
        };
        match self.plugins.get(&plugin).cloned().unwrap_or(Behaviour::Echo) {
            Behaviour::Echo => {}
            Behaviour::Flaky(times) => {
                let mut failures = self.failures.lock().unwrap();
                let n = failures.entry(call.step_id.clone()).or_default();
                if *n < times {
                    *n += 1;
                    return Err(fail(true));
                }
            }
            Behaviour::Broken => return Err(fail(false)),
            Behaviour::Slow(pause) => tokio::time::sleep(pause).await,
        }
        Ok(json!({ "echo": input }))
    }
}

static NEXT_OWNER: AtomicU32 = AtomicU32::new(0);

fn engine(store: &Store, script: &Script) -> Engine<Script> {
    let owner = format!("test-{}", NEXT_OWNER.fetch_add(1, Ordering::Relaxed));
    Engine::new(store.clone(), script.clone(), owner, Duration::from_secs(30))
}

async fn save(store: &Store, name: &str, text: &str) {
    let (definition, _) = Definition::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let json = serde_json::to_string(&definition).unwrap();
    store.put_workflow("acme", name, &json, "tester").await.unwrap();
}

/// Works until run `id` stops changing state by itself (ended, or waiting for a person).
async fn drive(engine: &Engine<Script>, store: &Store, id: &str) -> RunSnapshot {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "run {id} did not settle");
        if engine.work_once().await.unwrap() {
            continue;
        }
        let snapshot = store.run(Some("acme"), id).await.unwrap().unwrap();
        let settled = ["succeeded", "failed", "cancelled"].contains(&snapshot.run.state.as_str())
            || snapshot.steps.iter().any(|s| s.state == "waiting")
                && !snapshot
                    .steps
                    .iter()
                    .any(|s| ["ready", "running"].contains(&s.state.as_str()));
        if settled {
            return snapshot;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn state_of<'a>(snapshot: &'a RunSnapshot, step: &str) -> &'a str {
    &snapshot.step(step).unwrap_or_else(|| panic!("no step {step}")).state
}

fn output_of(snapshot: &RunSnapshot, step: &str) -> Value {
    serde_json::from_str(snapshot.step(step).unwrap().output.as_deref().unwrap()).unwrap()
}

async fn a_chain_passes_values_along_and_parallel_branches_join(store: Store) {
    save(
        &store,
        "fan",
        r#"
steps:
  - id: start
    component: { plugin: echo, input: { n: "${input.n}" } }
  - id: left
    needs: [start]
    component: { plugin: echo, input: "${steps.start.output.echo.n}" }
  - id: right
    needs: [start]
    tool: { plugin: echo, name: t, arguments: { side: right } }
  - id: join
    needs: [left, right]
    component: { plugin: echo, input: ["${steps.left.output.echo}", "${steps.right.output.echo.side}"] }
"#,
    )
    .await;
    let script = Script::new(&[]);
    let engine = engine(&store, &script);
    let run = engine.start("acme", "fan", json!({"n": 7}), "alice").await.unwrap();
    let done = drive(&engine, &store, &run.id).await;
    assert_eq!(done.run.state, "succeeded", "{:?}", done.run.error);
    assert_eq!(output_of(&done, "join"), json!({"echo": [7, "right"]}));
    let output: Value = serde_json::from_str(done.run.output.as_deref().unwrap()).unwrap();
    assert_eq!(output, json!({"join": {"echo": [7, "right"]}}));
    let order: Vec<String> = script.seen().into_iter().map(|s| s.step).collect();
    assert_eq!(order.first().map(String::as_str), Some("start"));
    assert_eq!(order.last().map(String::as_str), Some("join"));
    assert_eq!(order.len(), 4);
    let keys: Vec<String> = script.seen().into_iter().map(|s| s.key).collect();
    assert!(keys.contains(&format!("{}/left", run.id)), "{keys:?}");
}

async fn a_failing_step_retries_with_backoff_then_succeeds(store: Store) {
    save(
        &store,
        "flaky",
        r#"{"steps": [{"id": "shaky", "component": {"plugin": "flaky", "input": 1},
            "retry": {"max_attempts": 4, "backoff_ms": 50, "multiplier": 2}}]}"#,
    )
    .await;
    let script = Script::new(&[("flaky", Behaviour::Flaky(2))]);
    let engine = engine(&store, &script);
    let run = engine.start("acme", "flaky", json!({}), "alice").await.unwrap();
    let done = drive(&engine, &store, &run.id).await;
    assert_eq!(done.run.state, "succeeded", "{:?}", done.run.error);
    let calls = script.calls_of("shaky");
    assert_eq!(calls.iter().map(|c| c.attempt).collect::<Vec<_>>(), [1, 2, 3]);
    // Every attempt carries the same idempotency key; the pauses grow.
    assert!(calls.iter().all(|c| c.key == calls[0].key));
    assert!(calls[1].at - calls[0].at >= Duration::from_millis(50));
    assert!(calls[2].at - calls[1].at >= Duration::from_millis(100));
    assert_eq!(done.step("shaky").unwrap().attempt, 3);
}

async fn retries_end_at_max_attempts(store: Store) {
    save(
        &store,
        "hopeless",
        r#"{"steps": [{"id": "shaky", "component": {"plugin": "flaky", "input": 1},
            "retry": {"max_attempts": 2, "backoff_ms": 1}}]}"#,
    )
    .await;
    let script = Script::new(&[("flaky", Behaviour::Flaky(5))]);
    let engine = engine(&store, &script);
    let run = engine.start("acme", "hopeless", json!({}), "alice").await.unwrap();
    let done = drive(&engine, &store, &run.id).await;
    assert_eq!(done.run.state, "failed");
    assert_eq!(script.calls_of("shaky").len(), 2);
    assert!(
        done.run.error.as_deref().unwrap().contains("step `shaky` failed"),
        "{:?}",
        done.run.error
    );
}

async fn a_non_retryable_error_fails_the_run_and_compensates(store: Store) {
    save(
        &store,
        "saga",
        r#"
steps:
  - id: book
    component: { plugin: echo, input: hotel }
    compensate: { component: { plugin: echo, input: { cancel: "${steps.book.output.echo}" } } }
  - id: pay
    needs: [book]
    component: { plugin: echo, input: card }
    compensate: { tool: { plugin: echo, name: refund, arguments: { of: "${steps.pay.output.echo}" } } }
  - id: note
    needs: [book]
    component: { plugin: echo, input: log }
  - id: ship
    needs: [pay, note]
    component: { plugin: broken }
    retry: { max_attempts: 5, backoff_ms: 1 }
  - id: never
    needs: [ship]
    component: { plugin: echo }
"#,
    )
    .await;
    let script = Script::new(&[("broken", Behaviour::Broken)]);
    let engine = engine(&store, &script);
    let run = engine.start("acme", "saga", json!({}), "alice").await.unwrap();
    let done = drive(&engine, &store, &run.id).await;
    assert_eq!(done.run.state, "failed");
    assert_eq!(script.calls_of("ship").len(), 1, "a non-retryable error is not retried");
    assert_eq!(state_of(&done, "never"), "cancelled");
    assert_eq!(state_of(&done, "compensate.pay"), "succeeded");
    assert_eq!(state_of(&done, "compensate.book"), "succeeded");
    assert!(done.step("compensate.note").is_none());
    // Newest first, each with what the step produced.
    let undone: Vec<(String, Value)> = script
        .seen()
        .into_iter()
        .filter(|s| s.step.starts_with("compensate."))
        .map(|s| (s.step, s.input))
        .collect();
    assert_eq!(
        undone,
        [
            ("compensate.pay".to_string(), json!({"of": "card"})),
            ("compensate.book".to_string(), json!({"cancel": "hotel"})),
        ]
    );
    assert!(done.run.error.as_deref().unwrap().contains("ship"));
}

async fn an_approval_suspends_until_approved_or_rejected(store: Store) {
    save(
        &store,
        "release",
        r#"
steps:
  - id: build
    component: { plugin: echo, input: v1 }
  - id: review
    needs: [build]
    approval: { message: "Ship ${steps.build.output.echo}?" }
  - id: ship
    needs: [review]
    component: { plugin: echo, input: "${steps.review.output.by}" }
"#,
    )
    .await;
    let script = Script::new(&[]);
    let engine = engine(&store, &script);

    let run = engine.start("acme", "release", json!({}), "alice").await.unwrap();
    let waiting = drive(&engine, &store, &run.id).await;
    assert_eq!(waiting.run.state, "running");
    assert_eq!(state_of(&waiting, "review"), "waiting");
    assert_eq!(
        waiting.step("review").unwrap().input.as_deref(),
        Some(r#"{"message":"Ship v1?"}"#),
        "the approver sees the message filled in"
    );
    assert_eq!(state_of(&waiting, "ship"), "pending");
    let err = engine
        .decide("acme", &run.id, "build", true, "bob", None)
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::NotFound(_)), "{err}");
    let err = engine
        .decide("other", &run.id, "review", true, "bob", None)
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::NotFound(_)), "another tenant's run: {err}");
    engine
        .decide("acme", &run.id, "review", true, "bob", Some("ok"))
        .await
        .unwrap();
    let err = engine
        .decide("acme", &run.id, "review", true, "bob", None)
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Conflict(_)), "decided twice: {err}");
    let done = drive(&engine, &store, &run.id).await;
    assert_eq!(done.run.state, "succeeded", "{:?}", done.run.error);
    assert_eq!(output_of(&done, "ship"), json!({"echo": "bob"}));
    assert_eq!(done.step("review").unwrap().decided_by.as_deref(), Some("bob"));

    let run = engine.start("acme", "release", json!({}), "alice").await.unwrap();
    drive(&engine, &store, &run.id).await;
    engine
        .decide("acme", &run.id, "review", false, "carol", Some("not yet"))
        .await
        .unwrap();
    let done = drive(&engine, &store, &run.id).await;
    assert_eq!(done.run.state, "failed");
    assert_eq!(state_of(&done, "ship"), "cancelled");
    assert!(
        done.run
            .error
            .as_deref()
            .unwrap()
            .contains("rejected by carol: not yet")
    );
}

async fn conditions_skip_loops_fan_out_and_waits_wait(store: Store) {
    save(
        &store,
        "shapes",
        r#"
steps:
  - id: pages
    for_each: "${input.pages}"
    component: { plugin: echo, input: { page: "${item}", at: "${index}" } }
  - id: cheap
    needs: [pages]
    when: { value: "${input.mode}", equals: fast }
    component: { plugin: echo }
  - id: thorough
    needs: [pages]
    when: { value: "${input.mode}", not_equals: fast }
    component: { plugin: echo }
  - id: pause
    needs: [cheap, thorough]
    wait: { seconds: 1 }
"#,
    )
    .await;
    let script = Script::new(&[]);
    let engine = engine(&store, &script);
    let started = Instant::now();
    let run = engine
        .start(
            "acme",
            "shapes",
            json!({"pages": ["a", "b", "c"], "mode": "fast"}),
            "alice",
        )
        .await
        .unwrap();
    let done = drive(&engine, &store, &run.id).await;
    assert_eq!(done.run.state, "succeeded", "{:?}", done.run.error);
    assert!(started.elapsed() >= Duration::from_secs(1), "the wait waited");
    assert_eq!(
        output_of(&done, "pages"),
        json!([{"echo": {"page": "a", "at": 0}}, {"echo": {"page": "b", "at": 1}}, {"echo": {"page": "c", "at": 2}}])
    );
    let keys: Vec<String> = script.calls_of("pages").into_iter().map(|s| s.key).collect();
    assert_eq!(
        keys,
        (0..3).map(|i| format!("{}/pages/{i}", run.id)).collect::<Vec<_>>()
    );
    assert_eq!(state_of(&done, "cheap"), "succeeded");
    assert_eq!(state_of(&done, "thorough"), "skipped");
    assert_eq!(state_of(&done, "pause"), "succeeded");
}

/// Saves `child` (one echo step) and `parent`, which calls `child` and then
/// echoes what it returned.
async fn save_parent_and_child(store: &Store) {
    save(
        store,
        "child",
        r#"{"steps": [{"id": "work", "component": {"plugin": "echo", "input": "${input}"}}]}"#,
    )
    .await;
    save(
        store,
        "parent",
        r#"{"steps": [
            {"id": "call", "workflow": {"name": "child", "input": {"x": 1}}},
            {"id": "after", "needs": ["call"], "component": {"plugin": "echo", "input": "${steps.call.output.work.echo.x}"}}]}"#,
    )
    .await;
}

async fn a_sub_workflow_runs_as_one_step(store: Store) {
    save_parent_and_child(&store).await;
    let script = Script::new(&[]);
    let engine = engine(&store, &script);
    let run = engine.start("acme", "parent", json!({}), "alice").await.unwrap();
    let done = drive(&engine, &store, &run.id).await;
    assert_eq!(done.run.state, "succeeded", "{:?}", done.run.error);
    assert_eq!(output_of(&done, "after"), json!({"echo": 1}));
    let child_id = output_of(&done, "call");
    let runs = store.runs("acme", Some("child"), 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].parent_run.as_deref(), Some(run.id.as_str()));
    assert_ne!(child_id, Value::Null);
}

/// A run of `parent` whose sub-workflow ended while the parent's node
/// stopped before telling it: its `call` step waits for a child that has
/// succeeded. Returns the parent's id.
async fn a_parent_not_told(store: &Store, engine: &Engine<Script>) -> String {
    let run = engine.start("acme", "parent", json!({}), "alice").await.unwrap();
    assert!(engine.work_once().await.unwrap(), "the parent's step starts the child");
    let parent = store.run(Some("acme"), &run.id).await.unwrap().unwrap();
    assert_eq!(state_of(&parent, "call"), "waiting");
    let child = output_of(&parent, "call").as_str().unwrap().to_string();
    // The child's last step is taken and ends the child (as the engine's
    // finish does), and its node stops before the parent's transaction.
    let lease = pa_store::format_time(time::OffsetDateTime::now_utc() + time::Duration::seconds(30));
    let claim = store.claim_step("stopping-node", &lease).await.unwrap().unwrap();
    assert_eq!(
        (claim.run_id.as_str(), claim.step_id.as_str()),
        (child.as_str(), "work")
    );
    store
        .transition_run(&child, None, |snapshot| {
            let mut work = snapshot.step("work").unwrap().clone();
            work.state = "succeeded".into();
            work.lease_owner = None;
            work.lease_until = None;
            work.output = Some(r#"{"echo":{"x":1}}"#.into());
            work.finished_at = Some(pa_store::now());
            let change = RunChange {
                state: "succeeded".into(),
                output: Some(r#"{"work":{"echo":{"x":1}}}"#.into()),
                error: None,
                finished: true,
            };
            Ok((
                Transition {
                    steps: vec![work],
                    run: Some(change),
                },
                (),
            ))
        })
        .await
        .unwrap();
    assert!(!engine.work_once().await.unwrap(), "nothing is ready: the parent waits");
    run.id
}

/// Waits until run `id` has ended (the workers run elsewhere).
async fn ended(store: &Store, id: &str) -> RunSnapshot {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let snapshot = store.run(Some("acme"), id).await.unwrap().unwrap();
        if ["succeeded", "failed", "cancelled"].contains(&snapshot.run.state.as_str()) {
            return snapshot;
        }
        assert!(Instant::now() < deadline, "run {id} did not end: {snapshot:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn a_parent_not_told_that_its_child_ended_is_moved_on_once(store: Store) {
    save_parent_and_child(&store).await;
    let script = Script::new(&[]);
    let (one, two) = (engine(&store, &script), engine(&store, &script));

    // Two workers sweeping at once: the parent moves on once.
    let id = a_parent_not_told(&store, &one).await;
    let (a, b) = tokio::join!(one.resume_parents(), two.resume_parents());
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(two.resume_parents().await.unwrap(), 0);
    let done = drive(&two, &store, &id).await;
    assert_eq!(done.run.state, "succeeded", "{:?}", done.run.error);
    assert_eq!(output_of(&done, "call"), json!({"work": {"echo": {"x": 1}}}));
    assert_eq!(output_of(&done, "after"), json!({"echo": 1}));

    // A worker starting (the node restarting, or another one) sweeps.
    let id = a_parent_not_told(&store, &one).await;
    let restarted = Arc::new(engine(&store, &script));
    let worker = tokio::spawn(restarted.clone().work(Duration::from_millis(10)));
    let done = ended(&store, &id).await;
    restarted.stop();
    worker.await.unwrap();
    assert_eq!(done.run.state, "succeeded", "{:?}", done.run.error);
    assert_eq!(output_of(&done, "after"), json!({"echo": 1}));
    assert_eq!(script.calls_of("after").len(), 2, "once per run");
}

async fn a_join_of_parallel_branches_reads_every_branch_output(store: Store) {
    save(
        &store,
        "branches",
        r#"
steps:
  - id: start
    component: { plugin: echo, input: go }
  - id: a
    needs: [start]
    component: { plugin: slow, input: a }
  - id: b
    needs: [start]
    component: { plugin: slow, input: b }
  - id: c
    needs: [start]
    component: { plugin: slow, input: c }
  - id: join
    needs: [a, b, c]
    component: { plugin: echo, input: ["${steps.a.output.echo}", "${steps.b.output.echo}", "${steps.c.output.echo}"] }
  - id: report
    needs: [join]
    component: { plugin: echo, input: { a: "${steps.a.output.echo}", c: "${steps.c.output.echo}", all: "${steps.join.output.echo}" } }
"#,
    )
    .await;
    let script = Script::new(&[("slow", Behaviour::Slow(Duration::from_millis(20)))]);
    // Three nodes' workers finish the branches of three runs in whatever order.
    let engines: Vec<Arc<Engine<Script>>> = (0..3).map(|_| Arc::new(engine(&store, &script))).collect();
    let workers: Vec<_> = engines
        .iter()
        .map(|e| tokio::spawn(e.clone().work(Duration::from_millis(10))))
        .collect();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            engines[0]
                .start("acme", "branches", json!({}), "alice")
                .await
                .unwrap()
                .id,
        );
    }
    for id in &ids {
        let done = ended(&store, id).await;
        assert_eq!(done.run.state, "succeeded", "{:?}", done.run.error);
        assert_eq!(output_of(&done, "join"), json!({"echo": ["a", "b", "c"]}));
        let report = json!({"echo": {"a": "a", "c": "c", "all": ["a", "b", "c"]}});
        assert_eq!(output_of(&done, "report"), report);
        let output: Value = serde_json::from_str(done.run.output.as_deref().unwrap()).unwrap();
        assert_eq!(output, json!({ "report": report }));
    }
    for engine in &engines {
        engine.stop();
    }
    for worker in workers {
        worker.await.unwrap();
    }
    for step in ["a", "b", "c", "join", "report"] {
        assert_eq!(script.calls_of(step).len(), 3, "{step} ran once per run");
    }
}

async fn a_cancelled_run_discards_a_running_attempt(store: Store) {
    save(
        &store,
        "slow",
        r#"{"steps": [{"id": "long", "component": {"plugin": "slow"}}, {"id": "next", "needs": ["long"], "component": {"plugin": "echo"}}]}"#,
    )
    .await;
    let script = Script::new(&[("slow", Behaviour::Slow(Duration::from_millis(500)))]);
    let engine = Arc::new(engine(&store, &script));
    let run = engine.start("acme", "slow", json!({}), "alice").await.unwrap();
    let worker = tokio::spawn({
        let engine = engine.clone();
        async move { engine.work_once().await }
    });
    while script.calls_of("long").is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    engine.cancel("acme", &run.id, "alice").await.unwrap();
    assert!(worker.await.unwrap().unwrap());
    let done = store.run(Some("acme"), &run.id).await.unwrap().unwrap();
    assert_eq!(done.run.state, "cancelled");
    assert_eq!(state_of(&done, "long"), "cancelled");
    assert_eq!(state_of(&done, "next"), "cancelled");
    assert!(!engine.work_once().await.unwrap());
    let err = engine.cancel("acme", &run.id, "alice").await.unwrap_err();
    assert!(matches!(err, EngineError::Conflict(_)), "{err}");
}

async fn a_step_whose_worker_died_is_taken_over_after_its_lease(store: Store) {
    save(
        &store,
        "one",
        r#"{"steps": [{"id": "only", "component": {"plugin": "echo"}}]}"#,
    )
    .await;
    let script = Script::new(&[]);
    let engine = engine(&store, &script);
    let run = engine.start("acme", "one", json!({}), "alice").await.unwrap();
    // A worker that took the step and vanished: its lease ran out a moment ago.
    let expired = pa_store::format_time(time::OffsetDateTime::now_utc() - time::Duration::seconds(1));
    let claim = store.claim_step("dead-node", &expired).await.unwrap().unwrap();
    assert_eq!(claim.step_id, "only");
    let done = drive(&engine, &store, &run.id).await;
    assert_eq!(done.run.state, "succeeded", "{:?}", done.run.error);
    let calls = script.calls_of("only");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].attempt, 2, "the lost attempt counts");
}

async fn a_run_of_an_unknown_workflow_is_refused(store: Store) {
    let engine = engine(&store, &Script::new(&[]));
    let err = engine.start("acme", "ghost", json!({}), "alice").await.unwrap_err();
    assert!(matches!(err, EngineError::NotFound(_)), "{err}");
}

macro_rules! on_both_backends {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $story() {
                let db = crate::backends::open("sqlite").await;
                super::$story(db.store.clone()).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $story() {
                let db = crate::backends::open("postgres").await;
                super::$story(db.store.clone()).await
            })*
        }
    };
}

on_both_backends!(
    a_chain_passes_values_along_and_parallel_branches_join,
    a_failing_step_retries_with_backoff_then_succeeds,
    retries_end_at_max_attempts,
    a_non_retryable_error_fails_the_run_and_compensates,
    an_approval_suspends_until_approved_or_rejected,
    conditions_skip_loops_fan_out_and_waits_wait,
    a_sub_workflow_runs_as_one_step,
    a_parent_not_told_that_its_child_ended_is_moved_on_once,
    a_join_of_parallel_branches_reads_every_branch_output,
    a_cancelled_run_discards_a_running_attempt,
    a_step_whose_worker_died_is_taken_over_after_its_lease,
    a_run_of_an_unknown_workflow_is_refused,
);
