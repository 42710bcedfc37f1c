//! The engine: starts runs, lets workers take ready steps under a lease, runs
//! them through a [`StepRunner`], and moves each run on in one transaction
//! per state change, so a killed process leaves nothing half-done: another
//! worker takes the step once its lease runs out, and the step's idempotency
//! key (the same for every attempt) lets the component do its effect once.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pa_store::{Claim, Run, RunChange, RunSnapshot, StepRow, Store, StoreError, Transition, format_time};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::definition::{Definition, Step};
use crate::template::{self, Context};

/// What a step asks the platform to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Call a workflow-step component's `run` with this input.
    Component {
        /// Plugin name.
        plugin: String,
        /// Input.
        input: Value,
    },
    /// Call an MCP tool.
    Tool {
        /// Plugin name.
        plugin: String,
        /// Tool name.
        name: String,
        /// Arguments.
        arguments: Value,
    },
}

impl Action {
    /// The input (or arguments) it passes.
    pub fn input(&self) -> &Value {
        match self {
            Action::Component { input, .. } => input,
            Action::Tool { arguments, .. } => arguments,
        }
    }
}

/// One attempt of an action.
#[derive(Debug, Clone)]
pub struct StepCall {
    /// The tenant the run belongs to.
    pub tenant: String,
    /// The run.
    pub run_id: String,
    /// The step (or `compensate.<step>`).
    pub step_id: String,
    /// Attempt number, from 1.
    pub attempt: i64,
    /// Stays the same for every attempt of the same effect: a component
    /// that records it can do its effect exactly once.
    pub idempotency_key: String,
    /// What to do.
    pub action: Action,
}

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct StepError {
    /// A short code a retry policy can name (`timeout`, the component's own…).
    pub code: String,
    /// What went wrong.
    pub message: String,
    /// Whether trying again may help.
    pub retryable: bool,
}

/// What runs the actions: the platform's components and tools.
pub trait StepRunner: Send + Sync + 'static {
    /// Runs one attempt; `Ok` carries the output.
    fn run(&self, call: StepCall) -> impl Future<Output = Result<Value, StepError>> + Send;
}

/// A refusal of an engine operation, by kind.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No such workflow, run or step.
    #[error("{0}")]
    NotFound(String),
    /// The run or step is not in a state that allows it.
    #[error("{0}")]
    Conflict(String),
    /// The input does not fit.
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The durable workflow engine of one process.
pub struct Engine<R> {
    store: Store,
    runner: R,
    owner: String,
    lease: Duration,
    work: Notify,
    /// Set when the process stops: workers take no new step.
    stopping: AtomicBool,
    definitions: Mutex<HashMap<(String, String, i64), Arc<Definition>>>,
    /// Store failures of the workers (taking, finishing, renewing steps).
    store_errors: AtomicU64,
}

/// The most steps of one run a worker takes one after the other before it
/// looks for other work again.
const MAX_CHAIN: u32 = 16;

/// A step taken while finishing another, with its run.
type Next = Option<(Claim, RunSnapshot)>;

/// Run states that are final.
pub const ENDED: [&str; 3] = ["succeeded", "failed", "cancelled"];
/// Step states a dependent may follow.
const DONE: [&str; 2] = ["succeeded", "skipped"];
/// Prefix of compensation rows.
const COMPENSATE: &str = "compensate.";

fn at(offset: Duration) -> String {
    format_time(OffsetDateTime::now_utc() + offset)
}

fn json(value: &Value) -> String {
    value.to_string()
}

impl<R: StepRunner> Engine<R> {
    /// An engine working as `owner` (unique per process) with `lease` per step.
    pub fn new(store: Store, runner: R, owner: impl Into<String>, lease: Duration) -> Self {
        Engine {
            store,
            runner,
            owner: owner.into(),
            lease,
            work: Notify::new(),
            stopping: AtomicBool::new(false),
            definitions: Mutex::new(HashMap::new()),
            store_errors: AtomicU64::new(0),
        }
    }

    /// Store failures the workers met since the engine started.
    pub fn store_errors(&self) -> u64 {
        self.store_errors.load(Ordering::Relaxed)
    }

    /// The parsed definition of a saved version (versions never change, so it is cached).
    async fn definition(&self, tenant: &str, name: &str, version: i64) -> Result<Arc<Definition>, EngineError> {
        let key = (tenant.to_string(), name.to_string(), version);
        if let Some(found) = self.definitions.lock().expect("not poisoned").get(&key) {
            return Ok(found.clone());
        }
        let stored = self
            .store
            .workflow(tenant, name, Some(version))
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("workflow `{name}` version {version} not found")))?;
        let parsed: Definition = serde_json::from_str(&stored.definition)
            .map_err(|e| EngineError::Invalid(format!("stored workflow `{name}` does not parse: {e}")))?;
        let parsed = Arc::new(parsed);
        self.definitions
            .lock()
            .expect("not poisoned")
            .insert(key, parsed.clone());
        Ok(parsed)
    }

    /// Starts a run of workflow `name` (its newest version) with `input`.
    pub async fn start(&self, tenant: &str, name: &str, input: Value, by: &str) -> Result<Run, EngineError> {
        self.start_child(tenant, (name, None), input, by, None).await
    }

    /// Starts a new run of a failed or cancelled run's workflow version with
    /// the same input.
    pub async fn retry(&self, tenant: &str, run_id: &str, by: &str) -> Result<Run, EngineError> {
        let old = self
            .store
            .run(Some(tenant), run_id)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("run `{run_id}` not found")))?
            .run;
        if !matches!(old.state.as_str(), "failed" | "cancelled") {
            return Err(EngineError::Conflict(format!(
                "run `{run_id}` is {}; only failed or cancelled runs can be retried",
                old.state
            )));
        }
        if let Some(parent) = &old.parent_run {
            return Err(EngineError::Conflict(format!(
                "run `{run_id}` is a sub-workflow of run `{parent}`; retry that run"
            )));
        }
        let input = serde_json::from_str(&old.input).unwrap_or(Value::Null);
        self.start_child(tenant, (&old.workflow, Some(old.version)), input, by, None)
            .await
    }

    /// Starts version `version` of workflow `name` (its newest with `None`).
    async fn start_child(
        &self,
        tenant: &str,
        (name, version): (&str, Option<i64>),
        input: Value,
        by: &str,
        parent: Option<(&str, &str)>,
    ) -> Result<Run, EngineError> {
        let stored = self
            .store
            .workflow(tenant, name, version)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("workflow `{name}` not found")))?;
        let definition = self.definition(tenant, name, stored.version).await?;
        // A step starts the same child however often it is attempted.
        let id = match parent {
            Some((run, step)) => {
                let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("{run}/{step}").as_bytes()).to_string();
                if let Some(existing) = self.store.run(Some(tenant), &id).await? {
                    return Ok(existing.run);
                }
                id
            }
            None => uuid::Uuid::new_v4().to_string(),
        };
        let now = at(Duration::ZERO);
        let run = Run {
            id,
            tenant: tenant.into(),
            workflow: name.into(),
            version: stored.version,
            state: "running".into(),
            input: json(&input),
            output: None,
            error: None,
            parent_run: parent.map(|(run, _)| run.to_string()),
            parent_step: parent.map(|(_, step)| step.to_string()),
            started_by: by.into(),
            created_at: now.clone(),
            updated_at: now,
            finished_at: None,
        };
        let steps: Vec<StepRow> = definition
            .steps
            .iter()
            .map(|step| {
                let mut row = StepRow::new(&run.id, &step.id, None);
                if step.needs.is_empty() {
                    make_ready(&mut row, step);
                }
                row
            })
            .collect();
        self.store.create_run(&run, &steps).await?;
        self.work.notify_waiters();
        Ok(run)
    }

    /// Takes and runs one ready step; false when none was ready.
    pub async fn work_once(&self) -> Result<bool, EngineError> {
        let Some(claim) = self.store.claim_step(&self.owner, &at(self.lease)).await? else {
            return Ok(false);
        };
        self.execute(claim).await?;
        Ok(true)
    }

    /// Works until [`Engine::stop`]: takes ready steps, and when there are
    /// none waits for new work or `poll` (timers, other nodes' runs). On
    /// start and once per lease it also moves on parents that were not told
    /// that their sub-workflow ended ([`Engine::resume_parents`]).
    pub async fn work(self: Arc<Self>, poll: Duration) {
        let mut swept: Option<Instant> = None;
        while !self.stopping.load(Ordering::Acquire) {
            if swept.is_none_or(|at| at.elapsed() >= self.lease) {
                swept = Some(Instant::now());
                if let Err(e) = self.resume_parents().await {
                    self.report(&e, "resuming the parents of ended sub-workflows");
                }
            }
            let notified = self.work.notified();
            match self.work_once().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => self.report(&e, "workflow worker"),
            }
            let _ = tokio::time::timeout(poll, notified).await;
        }
    }

    /// Logs a worker's failure, counting the store's.
    fn report(&self, e: &EngineError, what: &str) {
        if matches!(e, EngineError::Store(_)) {
            self.store_errors.fetch_add(1, Ordering::Relaxed);
        }
        tracing::warn!(error = %e, "{what}")
    }

    /// Moves on the parents of sub-workflow runs that ended without their
    /// parent being told (its node stopped between the child's last
    /// transaction and the parent's). Each parent moves on once however many
    /// workers sweep at a time; returns how many this call moved on.
    pub async fn resume_parents(&self) -> Result<usize, EngineError> {
        let mut resumed = 0;
        for child in self.store.unreported_children().await? {
            if self.tell_parent(Some(child)).await? {
                resumed += 1;
            }
        }
        Ok(resumed)
    }

    /// Makes the workers finish the steps they run and then return, taking
    /// no new step (the process is stopping; other nodes take the rest).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        self.work.notify_waiters();
    }

    /// Runs a claimed step and records what came of it; then, up to
    /// [`MAX_CHAIN`] times, a step of the same run that this made ready, taken
    /// in the same transaction (no separate claim, no second read of the run).
    async fn execute(&self, claim: Claim) -> Result<(), EngineError> {
        let Some(snapshot) = self.store.run_steps(&claim.run_id, &[]).await? else {
            return Ok(());
        };
        let mut next = Some((claim, snapshot));
        let mut chained = 0;
        while let Some((claim, snapshot)) = next.take() {
            chained += 1;
            let chain = chained < MAX_CHAIN && !self.stopping.load(Ordering::Acquire);
            next = self.execute_claimed(claim, &snapshot, chain).await?;
        }
        Ok(())
    }

    /// Runs `claim` of `snapshot`; with `chain`, returns the next step of the
    /// run it took when finishing, with the run as it then was.
    async fn execute_claimed(&self, claim: Claim, snapshot: &RunSnapshot, chain: bool) -> Result<Next, EngineError> {
        let run = &snapshot.run;
        let definition = self.definition(&run.tenant, &run.workflow, run.version).await?;
        let (step, compensating) = match claim.step_id.strip_prefix(COMPENSATE) {
            Some(original) => (find(&definition, original)?, true),
            None => (find(&definition, &claim.step_id)?, false),
        };
        // The outputs the step reads, if the snapshot lacks some.
        let read: Vec<String> = step.references().into_iter().collect();
        let fetched;
        let snapshot = if read.iter().all(|id| snapshot.step(id).is_some()) {
            snapshot
        } else {
            fetched = self.store.run_steps(&run.id, &read).await?;
            match &fetched {
                Some(fetched) => fetched,
                None => return Ok(None),
            }
        };
        let run = &snapshot.run;
        let input: Value = serde_json::from_str(&run.input).unwrap_or(Value::Null);
        let outputs: Vec<(String, Value)> = snapshot
            .steps
            .iter()
            .filter(|s| s.state == "succeeded")
            .map(|s| (s.step_id.clone(), s.output.as_deref().map_or(Value::Null, parse)))
            .collect();
        let context = Context {
            input: Some(&input),
            steps: outputs.iter().map(|(id, out)| (id.as_str(), out)).collect(),
            item: None,
        };
        if !compensating && let Some(condition) = &step.when {
            let value = template::whole(&condition.value).map_or(Value::Null, |r| context.resolve(&r));
            if !condition.holds(&value) {
                return self.finish(&claim, &definition, (Outcome::Skipped, None), chain).await;
            }
        }
        let mut recorded = None;
        let outcome = if compensating {
            let undo = step
                .compensate
                .as_ref()
                .expect("compensation rows exist for compensated steps");
            let action = match (&undo.component, &undo.tool) {
                (Some(call), _) => Action::Component {
                    plugin: call.plugin.clone(),
                    input: render(&context, &call.input)?,
                },
                (_, Some(call)) => Action::Tool {
                    plugin: call.plugin.clone(),
                    name: call.name.clone(),
                    arguments: render(&context, &call.arguments)?,
                },
                _ => unreachable!("a validated compensation has one action"),
            };
            recorded = Some(action.input().clone());
            self.attempt(&claim, run, step, action, claim.step_id.clone()).await
        } else if step.wait.is_some() {
            // A wait is ready only once its time has come.
            Outcome::Succeeded(Value::Null)
        } else if let Some(approval) = &step.approval {
            // Finished by `decide`; the approver is shown the message with its references filled in.
            recorded = Some(render(&context, &serde_json::json!({ "message": approval.message }))?);
            Outcome::Waiting(Value::Null)
        } else if let Some(sub) = &step.workflow {
            let sub_input = render(&context, &sub.input)?;
            let recorded = sub_input.clone();
            match self
                .start_child(
                    &run.tenant,
                    (&sub.name, None),
                    sub_input,
                    &run.started_by,
                    Some((&run.id, &step.id)),
                )
                .await
            {
                Ok(child) => {
                    let waiting = Outcome::Waiting(Value::String(child.id.clone()));
                    self.finish(&claim, &definition, (waiting, Some(recorded)), false)
                        .await?;
                    // A child that ended before its step was marked waiting is taken in now.
                    let child = self.store.run(None, &child.id).await?.map(|s| s.run);
                    self.after(child.filter(|c| ENDED.contains(&c.state.as_str()))).await?;
                    return Ok(None);
                }
                Err(e) => Outcome::Failed(StepError {
                    code: "workflow".into(),
                    message: e.to_string(),
                    retryable: false,
                }),
            }
        } else if let Some(list) = &step.for_each {
            let items = template::whole(list).map_or(Value::Null, |r| context.resolve(&r));
            match items {
                Value::Array(items) => {
                    let mut inputs = Vec::with_capacity(items.len());
                    let mut outputs = Vec::with_capacity(items.len());
                    let mut failed = None;
                    for (index, item) in items.iter().enumerate() {
                        let context = Context {
                            input: context.input,
                            steps: context.steps.clone(),
                            item: Some((item, index)),
                        };
                        let key = format!("{}/{}/{index}", run.id, step.id);
                        let action = action_of(step, &context)?;
                        inputs.push(action.input().clone());
                        match self.attempt(&claim, run, step, action, key).await {
                            Outcome::Succeeded(out) => outputs.push(out),
                            other => {
                                failed = Some(other);
                                break;
                            }
                        }
                    }
                    recorded = Some(Value::Array(inputs));
                    failed.unwrap_or(Outcome::Succeeded(Value::Array(outputs)))
                }
                other => Outcome::Failed(StepError {
                    code: "for_each".into(),
                    message: format!("for_each `{list}` is {other}, not a list"),
                    retryable: false,
                }),
            }
        } else {
            let key = format!("{}/{}", run.id, step.id);
            let action = action_of(step, &context)?;
            recorded = Some(action.input().clone());
            self.attempt(&claim, run, step, action, key).await
        };
        self.finish(&claim, &definition, (outcome, recorded), chain).await
    }

    /// One call of the runner, under the step's timeout, keeping the lease alive.
    async fn attempt(&self, claim: &Claim, run: &Run, step: &Step, action: Action, key: String) -> Outcome {
        let call = StepCall {
            tenant: run.tenant.clone(),
            run_id: run.id.clone(),
            step_id: claim.step_id.clone(),
            attempt: claim.attempt,
            idempotency_key: key,
            action,
        };
        let work = self.runner.run(call);
        let limit = step.timeout_ms.map_or(Duration::MAX, Duration::from_millis);
        let heartbeat = async {
            loop {
                tokio::time::sleep(self.lease / 3).await;
                match self.store.extend_lease(claim, &self.owner, &at(self.lease)).await {
                    Ok(true) => {}
                    // Lost (cancelled, or taken after a stall): finishing will be refused anyway.
                    Ok(false) => std::future::pending::<()>().await,
                    Err(e) => {
                        self.store_errors.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(error = %e, "extending a workflow lease")
                    }
                }
            }
        };
        let result = tokio::select! {
            result = tokio::time::timeout(limit, work) => result,
            _ = heartbeat => unreachable!("the heartbeat never ends"),
        };
        match result {
            Ok(Ok(output)) => Outcome::Succeeded(output),
            Ok(Err(e)) => Outcome::Failed(e),
            Err(_) => Outcome::Failed(StepError {
                code: "timeout".into(),
                message: format!("the step took longer than {} ms", limit.as_millis()),
                retryable: true,
            }),
        }
    }

    /// Records an attempt's outcome and moves the run on, if this worker still holds the step.
    /// Records the outcome of a claimed attempt (and the input it was given)
    /// if the claim still holds; with `chain`, takes a step of the run that
    /// is now ready in the same transaction.
    async fn finish(
        &self,
        claim: &Claim,
        definition: &Definition,
        (outcome, input): (Outcome, Option<Value>),
        chain: bool,
    ) -> Result<Next, EngineError> {
        let owner = self.owner.clone();
        let claim = claim.clone();
        let lease_until = at(self.lease);
        let rows = match &outcome {
            Outcome::Failed(_) => None,
            _ => rows_to_finish(definition, &claim.step_id),
        };
        let (ended, next, wake) = self
            .store
            .transition_run(&claim.run_id, rows.as_deref(), |snapshot| {
                let held = snapshot.step(&claim.step_id).is_some_and(|s| {
                    s.state == "running" && s.lease_owner.as_deref() == Some(&owner) && s.attempt == claim.attempt
                });
                if !held {
                    return Ok((Transition::default(), (None, None, false)));
                }
                let mut plan = Plan::new(snapshot, definition);
                plan.record(&claim.step_id, outcome, input.as_ref());
                let next = if chain {
                    plan.claim_ready(&owner, &lease_until)
                } else {
                    None
                };
                let (transition, ended, after) = plan.finish();
                // Steps made ready that this worker does not take are work for the others.
                let wake = transition.steps.iter().any(|s| s.state == "ready");
                Ok((transition, (ended, next.map(|claim| (claim, after)), wake)))
            })
            .await?;
        if wake {
            self.work.notify_waiters();
        }
        self.tell_parent(ended).await?;
        Ok(next)
    }

    /// Wakes the workers, and tells a parent run that its child ended.
    async fn after(&self, ended: Option<Run>) -> Result<(), EngineError> {
        self.work.notify_waiters();
        self.tell_parent(ended).await.map(|_| ())
    }

    /// Tells a parent run that `ended`, its child, ended; true when the
    /// parent's step was still waiting for it and has now moved on.
    async fn tell_parent(&self, ended: Option<Run>) -> Result<bool, EngineError> {
        let Some(child) = ended else { return Ok(false) };
        let (Some(parent), Some(step)) = (&child.parent_run, &child.parent_step) else {
            return Ok(false);
        };
        let snapshot = self.store.run_steps(parent, &[]).await?;
        let Some(snapshot) = snapshot else { return Ok(false) };
        let definition = self
            .definition(&snapshot.run.tenant, &snapshot.run.workflow, snapshot.run.version)
            .await?;
        let outcome = match child.state.as_str() {
            "succeeded" => Outcome::Succeeded(child.output.as_deref().map_or(Value::Null, parse)),
            state => Outcome::Failed(StepError {
                code: "workflow".into(),
                message: format!(
                    "sub-workflow run {} {state}: {}",
                    child.id,
                    child.error.as_deref().unwrap_or("")
                ),
                retryable: false,
            }),
        };
        let child_id = child.id.clone();
        let told = self
            .store
            .transition_run(parent, None, |snapshot| {
                let waiting = snapshot.step(step).is_some_and(|s| {
                    s.state == "waiting" && s.output.as_deref() == Some(json(&Value::String(child_id.clone())).as_str())
                });
                if !waiting {
                    return Ok((Transition::default(), None));
                }
                let mut plan = Plan::new(snapshot, &definition);
                plan.record(step, outcome, None);
                let (transition, ended, _) = plan.finish();
                Ok((transition, Some(ended)))
            })
            .await?;
        let Some(ended) = told else { return Ok(false) };
        Box::pin(self.after(ended)).await?;
        Ok(true)
    }

    /// Approves or rejects a step waiting for approval.
    pub async fn decide(
        &self,
        tenant: &str,
        run_id: &str,
        step_id: &str,
        approve: bool,
        by: &str,
        comment: Option<&str>,
    ) -> Result<(), EngineError> {
        let snapshot = self
            .store
            .run(Some(tenant), run_id)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("run `{run_id}` not found")))?;
        let definition = self
            .definition(tenant, &snapshot.run.workflow, snapshot.run.version)
            .await?;
        let is_approval = find(&definition, step_id).is_ok_and(|s| s.approval.is_some());
        if !is_approval {
            return Err(EngineError::NotFound(format!(
                "run `{run_id}` has no approval step `{step_id}`"
            )));
        }
        let decision = serde_json::json!({ "approved": approve, "by": by, "comment": comment });
        let ended = self
            .store
            .transition_run(run_id, None, |snapshot| {
                let waiting = snapshot.step(step_id).is_some_and(|s| s.state == "waiting");
                if !waiting {
                    return Err(StoreError::Conflict(format!(
                        "step `{step_id}` of run `{run_id}` is not waiting for approval"
                    )));
                }
                let mut plan = Plan::new(snapshot, &definition);
                plan.decided_by(step_id, by);
                let outcome = if approve {
                    Outcome::Succeeded(decision)
                } else {
                    Outcome::Failed(StepError {
                        code: "rejected".into(),
                        message: format!(
                            "rejected by {by}{}",
                            comment.map(|c| format!(": {c}")).unwrap_or_default()
                        ),
                        retryable: false,
                    })
                };
                plan.record(step_id, outcome, None);
                let (transition, ended, _) = plan.finish();
                Ok((transition, ended))
            })
            .await
            .map_err(conflict)?;
        self.after(ended).await
    }

    /// Cancels a run: its unfinished steps stop being taken (a running
    /// attempt's result is discarded); no compensation runs.
    pub async fn cancel(&self, tenant: &str, run_id: &str, by: &str) -> Result<(), EngineError> {
        self.store
            .run(Some(tenant), run_id)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("run `{run_id}` not found")))?;
        let ended = self
            .store
            .transition_run(run_id, None, |snapshot| {
                if ENDED.contains(&snapshot.run.state.as_str()) {
                    return Err(StoreError::Conflict(format!(
                        "run `{run_id}` has already {}",
                        snapshot.run.state
                    )));
                }
                let mut transition = Transition::default();
                for step in &snapshot.steps {
                    if !ENDED.contains(&step.state.as_str()) && step.state != "skipped" {
                        transition.steps.push(StepRow {
                            state: "cancelled".into(),
                            lease_owner: None,
                            lease_until: None,
                            finished_at: Some(at(Duration::ZERO)),
                            ..step.clone()
                        });
                    }
                }
                transition.run = Some(RunChange {
                    state: "cancelled".into(),
                    output: None,
                    error: Some(format!("cancelled by {by}")),
                    finished: true,
                });
                let mut ended = snapshot.run.clone();
                ended.state = "cancelled".into();
                ended.error = Some(format!("cancelled by {by}"));
                Ok((transition, Some(ended)))
            })
            .await
            .map_err(conflict)?;
        self.after(ended).await
    }
}

fn conflict(e: StoreError) -> EngineError {
    match e {
        StoreError::Conflict(message) => EngineError::Conflict(message),
        other => EngineError::Store(other),
    }
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

fn find<'a>(definition: &'a Definition, id: &str) -> Result<&'a Step, EngineError> {
    definition
        .steps
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(|| EngineError::NotFound(format!("the workflow has no step `{id}`")))
}

fn render(context: &Context<'_>, template: &Value) -> Result<Value, EngineError> {
    context.render(template).map_err(EngineError::Invalid)
}

/// The component or tool call of a step, its input filled in.
fn action_of(step: &Step, context: &Context<'_>) -> Result<Action, EngineError> {
    if let Some(call) = &step.component {
        return Ok(Action::Component {
            plugin: call.plugin.clone(),
            input: render(context, &call.input)?,
        });
    }
    let call = step
        .tool
        .as_ref()
        .expect("a validated step calls a component or a tool here");
    Ok(Action::Tool {
        plugin: call.plugin.clone(),
        name: call.name.clone(),
        arguments: render(context, &call.arguments)?,
    })
}

/// The step rows finishing step `id` (not as a failure) reads: the step, the
/// steps it may make ready with the rows they need and read, and the last
/// steps (whether the run has ended, and its output); all for a compensation.
fn rows_to_finish(definition: &Definition, id: &str) -> Option<Vec<String>> {
    if id.starts_with(COMPENSATE) {
        return None;
    }
    let mut rows = BTreeSet::from([id.to_string()]);
    for next in definition.dependents(id) {
        rows.insert(next.id.clone());
        rows.extend(next.needs.iter().cloned());
        rows.extend(next.references());
    }
    rows.extend(definition.last_steps().map(|s| s.id.clone()));
    Some(rows.into_iter().collect())
}

/// A step whose needs are met: a wait becomes ready at its time, the rest
/// now (an approval then waits for a person once a worker has taken it and
/// checked its condition).
fn make_ready(row: &mut StepRow, step: &Step) {
    row.state = "ready".into();
    let delay = step
        .wait
        .as_ref()
        .map_or(Duration::ZERO, |w| Duration::from_secs(w.seconds));
    row.ready_at = Some(at(delay));
}

/// What came of an attempt.
#[derive(Debug)]
enum Outcome {
    Succeeded(Value),
    Failed(StepError),
    Skipped,
    /// Waiting for something else (a sub-workflow run, whose id it holds).
    Waiting(Value),
}

/// The changes one transaction makes to a run, worked out from its snapshot.
struct Plan<'a> {
    run: Run,
    steps: Vec<StepRow>,
    changed: Vec<usize>,
    definition: &'a Definition,
    run_change: Option<RunChange>,
}

impl<'a> Plan<'a> {
    fn new(snapshot: &RunSnapshot, definition: &'a Definition) -> Self {
        Plan {
            run: snapshot.run.clone(),
            steps: snapshot.steps.clone(),
            changed: Vec::new(),
            definition,
            run_change: None,
        }
    }

    fn index(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.step_id == id)
    }

    fn touch(&mut self, at: usize) -> &mut StepRow {
        if !self.changed.contains(&at) {
            self.changed.push(at);
        }
        &mut self.steps[at]
    }

    fn decided_by(&mut self, id: &str, by: &str) {
        if let Some(i) = self.index(id) {
            self.touch(i).decided_by = Some(by.into());
        }
    }

    /// Records `outcome` for step `id` and follows its consequences.
    fn record(&mut self, id: &str, outcome: Outcome, input: Option<&Value>) {
        let Some(i) = self.index(id) else { return };
        let compensating = id.starts_with(COMPENSATE);
        let original = id.strip_prefix(COMPENSATE).unwrap_or(id);
        let policy = self
            .definition
            .steps
            .iter()
            .find(|s| s.id == original)
            .map(|s| s.retry.clone())
            .unwrap_or_default();
        let now = at(Duration::ZERO);
        let row = self.touch(i);
        row.lease_owner = None;
        row.lease_until = None;
        if let Some(input) = input {
            row.input = Some(json(input));
        }
        match outcome {
            Outcome::Succeeded(output) => {
                row.state = "succeeded".into();
                row.output = Some(json(&output));
                row.error = None;
                row.finished_at = Some(now);
            }
            Outcome::Skipped => {
                row.state = "skipped".into();
                row.finished_at = Some(now);
            }
            Outcome::Waiting(holding) => {
                row.state = "waiting".into();
                row.output = Some(json(&holding));
            }
            Outcome::Failed(error) => {
                let retry = error.retryable
                    && !policy.non_retryable.contains(&error.code)
                    && row.attempt < i64::from(policy.max_attempts);
                row.error = Some(format!("{}: {}", error.code, error.message));
                if retry {
                    row.state = "ready".into();
                    let attempt = u32::try_from(row.attempt).unwrap_or(u32::MAX);
                    row.ready_at = Some(at(policy.backoff_after(attempt)));
                    return;
                }
                row.state = "failed".into();
                row.finished_at = Some(now);
                if !compensating {
                    let reason = format!("step `{id}` failed: {}: {}", error.code, error.message);
                    self.fail(reason);
                    return;
                }
            }
        }
        if compensating {
            self.next_compensation();
        } else {
            self.advance();
        }
    }

    /// Makes every step (of those read) whose needs are met ready, and ends
    /// the run when all are done (the last steps are always read).
    fn advance(&mut self) {
        if self.run.state != "running" {
            return;
        }
        let states: HashMap<String, String> = self
            .steps
            .iter()
            .map(|s| (s.step_id.clone(), s.state.clone()))
            .collect();
        let definition = self.definition;
        for step in &definition.steps {
            let Some(i) = self.index(&step.id) else { continue };
            let met = step
                .needs
                .iter()
                .all(|n| states.get(n).is_some_and(|s| DONE.contains(&s.as_str())));
            if self.steps[i].state == "pending" && met {
                make_ready(self.touch(i), step);
            }
        }
        let all_done = self.steps.iter().all(|s| DONE.contains(&s.state.as_str()));
        if all_done {
            let needed: std::collections::HashSet<&str> = definition
                .steps
                .iter()
                .flat_map(|s| s.needs.iter().map(String::as_str))
                .collect();
            let mut output = Map::new();
            for step in &self.steps {
                if !needed.contains(step.step_id.as_str()) && step.state == "succeeded" {
                    output.insert(step.step_id.clone(), step.output.as_deref().map_or(Value::Null, parse));
                }
            }
            self.end("succeeded", Some(json(&Value::Object(output))), None);
        }
    }

    /// Fails the run: its unfinished steps are cancelled and the finished
    /// ones that can be undone are, newest first.
    fn fail(&mut self, reason: String) {
        let now = at(Duration::ZERO);
        for i in 0..self.steps.len() {
            if matches!(
                self.steps[i].state.as_str(),
                "pending" | "ready" | "running" | "waiting"
            ) {
                let row = self.touch(i);
                row.state = "cancelled".into();
                row.lease_owner = None;
                row.lease_until = None;
                row.finished_at = Some(now.clone());
            }
        }
        let mut done: Vec<&StepRow> = self
            .steps
            .iter()
            .filter(|s| s.state == "succeeded" && !s.step_id.starts_with(COMPENSATE))
            .filter(|s| {
                self.definition
                    .steps
                    .iter()
                    .any(|d| d.id == s.step_id && d.compensate.is_some())
            })
            .collect();
        done.sort_by(|a, b| b.finished_at.cmp(&a.finished_at).then(b.step_id.cmp(&a.step_id)));
        let rows: Vec<StepRow> = done
            .iter()
            .enumerate()
            .map(|(n, s)| {
                // The newest is undone first; each next one once the one before has ended.
                let ready_at = (n == 0).then(|| now.clone());
                let mut row = StepRow::new(&self.run.id, &format!("{COMPENSATE}{}", s.step_id), ready_at);
                row.seq = n as i64 + 1;
                row
            })
            .collect();
        self.run.error = Some(reason.clone());
        if rows.is_empty() {
            self.end("failed", None, Some(reason));
        } else {
            for row in rows {
                self.steps.push(row);
                self.changed.push(self.steps.len() - 1);
            }
            self.run.state = "compensating".into();
            self.run_change = Some(RunChange {
                state: "compensating".into(),
                output: None,
                error: Some(reason),
                finished: false,
            });
        }
    }

    /// Starts the next compensation, or ends the run when there is none.
    fn next_compensation(&mut self) {
        let next = self
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.step_id.starts_with(COMPENSATE) && s.state == "pending")
            .min_by_key(|(_, s)| s.seq)
            .map(|(i, _)| i);
        match next {
            Some(i) => {
                let row = self.touch(i);
                row.state = "ready".into();
                row.ready_at = Some(at(Duration::ZERO));
            }
            None => {
                let failed: Vec<&str> = self
                    .steps
                    .iter()
                    .filter(|s| s.step_id.starts_with(COMPENSATE) && s.state == "failed")
                    .map(|s| s.step_id.as_str())
                    .collect();
                let mut reason = self.run.error.clone().unwrap_or_default();
                if !failed.is_empty() {
                    reason.push_str(&format!("; compensation failed: {}", failed.join(", ")));
                }
                self.end("failed", None, Some(reason));
            }
        }
    }

    fn end(&mut self, state: &str, output: Option<String>, error: Option<String>) {
        self.run.state = state.into();
        self.run.output = output.clone();
        self.run.error = error.clone();
        self.run_change = Some(RunChange {
            state: state.into(),
            output,
            error,
            finished: true,
        });
    }

    /// Takes for `owner` a step of the (still running) run that is ready now.
    fn claim_ready(&mut self, owner: &str, lease_until: &str) -> Option<Claim> {
        if self.run_change.is_some() {
            return None;
        }
        let now = at(Duration::ZERO);
        let i = self
            .steps
            .iter()
            .position(|s| s.state == "ready" && s.ready_at.as_deref().is_some_and(|r| r <= now.as_str()))?;
        let row = self.touch(i);
        row.state = "running".into();
        row.lease_owner = Some(owner.into());
        row.lease_until = Some(lease_until.into());
        row.attempt += 1;
        row.started_at.get_or_insert(now);
        Some(Claim {
            run_id: row.run_id.clone(),
            step_id: row.step_id.clone(),
            attempt: row.attempt,
        })
    }

    /// The transition to write, the run if it ended, and the run as it will be.
    fn finish(self) -> (Transition, Option<Run>, RunSnapshot) {
        let ended = self
            .run_change
            .as_ref()
            .is_some_and(|c| c.finished)
            .then(|| self.run.clone());
        let steps = self.changed.iter().map(|&i| self.steps[i].clone()).collect();
        let after = RunSnapshot {
            run: self.run,
            steps: self.steps,
        };
        (
            Transition {
                steps,
                run: self.run_change,
            },
            ended,
            after,
        )
    }
}
