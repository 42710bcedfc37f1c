//! Workflow definitions: a graph of steps, written as JSON or YAML, checked
//! as a whole when saved so a run never meets a broken definition.
//!
//! ```yaml
//! description: Recognise a page and publish it
//! steps:
//!   - id: recognise
//!     component: { plugin: ocr-step, input: { image: "${input.image}" } }
//!     retry: { max_attempts: 3, backoff_ms: 200 }
//!   - id: review
//!     needs: [recognise]
//!     approval: { message: "Publish ${steps.recognise.output.title}?" }
//!   - id: publish
//!     needs: [review]
//!     tool: { plugin: site, name: publish, arguments: { text: "${steps.recognise.output.text}" } }
//! ```

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::template::{self, Reference};

/// Longest definition accepted, in steps.
pub const MAX_STEPS: usize = 1_000;

/// A workflow: its steps, run in the order their `needs` allow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// What the workflow does, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The steps; ids are unique.
    pub steps: Vec<Step>,
}

/// One step: an action, when it may start, and what to do when it fails.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique within the workflow: lowercase letters, digits, `_` and `-`.
    pub id: String,
    /// Steps that must finish (succeed or be skipped) before this one starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
    /// Runs the step only when this holds; otherwise it is skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// Runs the action once per element of this list (a `${…}` reference);
    /// the step's output is the list of the iterations' outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_each: Option<String>,
    /// Calls a workflow-step component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentCall>,
    /// Calls an MCP tool of a tool-server plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<ToolCall>,
    /// Runs another workflow of the tenant and waits for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<SubWorkflow>,
    /// Waits a while.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<Wait>,
    /// Suspends until someone allowed to approve approves or rejects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    /// How often and how patiently a failed attempt is tried again.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// Longest one attempt may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// What undoes the step's effect when the run fails later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compensate: Option<Compensation>,
}

/// A call of a workflow-step component's `run`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentCall {
    /// The enabled plugin that implements the workflow-step world.
    pub plugin: String,
    /// The input, with `${…}` references filled in when the step starts.
    #[serde(default)]
    pub input: Value,
}

/// A call of an MCP tool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCall {
    /// The enabled plugin that serves the tool.
    pub plugin: String,
    /// The tool's name.
    pub name: String,
    /// The arguments (a JSON object), with `${…}` references filled in.
    #[serde(default = "empty_object")]
    pub arguments: Value,
}

/// A run of another workflow, as one step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubWorkflow {
    /// The workflow (its newest version when the step starts).
    pub name: String,
    /// Its input, with `${…}` references filled in.
    #[serde(default)]
    pub input: Value,
}

/// A timer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wait {
    /// How long, in seconds.
    pub seconds: u64,
}

/// A decision a person makes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// What the approver is asked, with `${…}` references filled in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What undoes a step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compensation {
    /// A component to call (`${steps.<this step>.output}` is the step's output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentCall>,
    /// Or a tool to call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<ToolCall>,
}

/// Attempts and the pause between them: `backoff_ms × multiplier^(n-1)`,
/// at most `max_backoff_ms`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retry).
    pub max_attempts: u32,
    /// Pause before the second attempt.
    pub backoff_ms: u64,
    /// Growth of the pause per attempt.
    pub multiplier: f64,
    /// Longest pause.
    pub max_backoff_ms: u64,
    /// Error codes never retried (besides errors the step marks non-retryable).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub non_retryable: Vec<String>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 1,
            backoff_ms: 1_000,
            multiplier: 2.0,
            max_backoff_ms: 60_000,
            non_retryable: Vec::new(),
        }
    }
}

impl RetryPolicy {
    /// The pause after failed attempt `attempt` (1-based).
    pub fn backoff_after(&self, attempt: u32) -> std::time::Duration {
        let factor = self.multiplier.powi(attempt.saturating_sub(1).min(64) as i32);
        let millis = (self.backoff_ms as f64 * factor).min(self.max_backoff_ms as f64);
        std::time::Duration::from_millis(millis as u64)
    }
}

/// A test of a value a step can see.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The `${…}` reference tested.
    pub value: String,
    /// How it is tested.
    #[serde(flatten)]
    pub test: Test,
}

/// A comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// Equal to this JSON value.
    Equals(Value),
    /// Not equal to this JSON value.
    NotEquals(Value),
    /// A number greater than this.
    Gt(f64),
    /// A number at least this.
    Gte(f64),
    /// A number less than this.
    Lt(f64),
    /// A number at most this.
    Lte(f64),
    /// Truthy (`true`) or falsy (`false`): false, null, 0, "", [] and {} are falsy.
    Truthy(bool),
}

impl Condition {
    /// Whether `value` passes the test.
    pub fn holds(&self, value: &Value) -> bool {
        let number = value.as_f64();
        match &self.test {
            Test::Equals(expected) => value == expected,
            Test::NotEquals(expected) => value != expected,
            Test::Gt(n) => number.is_some_and(|v| v > *n),
            Test::Gte(n) => number.is_some_and(|v| v >= *n),
            Test::Lt(n) => number.is_some_and(|v| v < *n),
            Test::Lte(n) => number.is_some_and(|v| v <= *n),
            Test::Truthy(expected) => truthy(value) == *expected,
        }
    }
}

/// JavaScript-like truth, minus its surprises: false, null, 0, "", [] and {} are false.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// What a definition's steps call, so the caller can check they exist.
#[derive(Debug, Default, PartialEq)]
pub struct Needs {
    /// Plugins called as workflow-step components.
    pub components: BTreeSet<String>,
    /// Plugins and tools called as MCP tools.
    pub tools: BTreeSet<(String, String)>,
    /// Other workflows run as steps.
    pub workflows: BTreeSet<String>,
}

/// Why a definition was refused; the message names the step and the field.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct Invalid(pub String);

/// A parse error with the path of the field it is about.
fn located<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> Invalid {
    Invalid(format!("at `{}`: {}", e.path(), e.inner()))
}

impl Definition {
    /// Parses JSON or YAML (JSON is YAML too, but its errors read better as
    /// JSON) and validates it; returns it with what its steps call.
    pub fn parse(text: &str) -> Result<(Definition, Needs), Invalid> {
        let definition: Definition = if text.trim_start().starts_with('{') {
            let mut de = serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(&mut de).map_err(located)?
        } else {
            let de = serde_yaml_ng::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(located)?
        };
        let needs = definition.validate()?;
        Ok((definition, needs))
    }

    /// Checks the whole graph: ids, one action per step, known `needs`, no
    /// cycle, references only to input, needed steps and the loop item.
    /// Returns what the steps call, for the caller to check against the tenant.
    pub fn validate(&self) -> Result<Needs, Invalid> {
        if self.steps.is_empty() {
            return Err(Invalid("a workflow needs at least one step".into()));
        }
        if self.steps.len() > MAX_STEPS {
            return Err(Invalid(format!("a workflow has at most {MAX_STEPS} steps")));
        }
        let mut index = HashMap::new();
        for (i, step) in self.steps.iter().enumerate() {
            if !valid_id(&step.id) {
                return Err(Invalid(format!(
                    "step id `{}` is invalid: use 1 to 63 lowercase letters, digits, `_` or `-`, starting with a letter",
                    step.id
                )));
            }
            if index.insert(step.id.as_str(), i).is_some() {
                return Err(Invalid(format!("step id `{}` is used twice", step.id)));
            }
        }
        for step in &self.steps {
            for need in &step.needs {
                if !index.contains_key(need.as_str()) {
                    return Err(Invalid(format!("step `{}` needs unknown step `{need}`", step.id)));
                }
            }
        }
        self.check_acyclic(&index)?;
        let mut needs = Needs::default();
        for step in &self.steps {
            step.check(&self.ancestors(&index, step), &mut needs)?;
        }
        Ok(needs)
    }

    /// The steps that need step `id`.
    pub fn dependents<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Step> {
        self.steps.iter().filter(move |s| s.needs.iter().any(|n| n == id))
    }

    /// The steps no other step needs: their outputs are the run's, and once
    /// they have all finished so has every step (a step starts only after
    /// what it needs has finished).
    pub fn last_steps(&self) -> impl Iterator<Item = &Step> {
        let needed: HashSet<&str> = self
            .steps
            .iter()
            .flat_map(|s| s.needs.iter().map(String::as_str))
            .collect();
        self.steps.iter().filter(move |s| !needed.contains(s.id.as_str()))
    }

    /// Refuses a cycle, naming the steps on it.
    fn check_acyclic(&self, index: &HashMap<&str, usize>) -> Result<(), Invalid> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Open,
            Done,
        }
        fn visit(
            steps: &[Step],
            index: &HashMap<&str, usize>,
            marks: &mut [Mark],
            path: &mut Vec<usize>,
            at: usize,
        ) -> Result<(), Invalid> {
            match marks[at] {
                Mark::Done => return Ok(()),
                Mark::Open => {
                    let start = path.iter().position(|&p| p == at).expect("an open step is on the path");
                    let cycle: Vec<&str> = path[start..]
                        .iter()
                        .chain([&at])
                        .map(|&p| steps[p].id.as_str())
                        .collect();
                    return Err(Invalid(format!("the steps form a cycle: {}", cycle.join(" → "))));
                }
                Mark::New => {}
            }
            marks[at] = Mark::Open;
            path.push(at);
            for need in &steps[at].needs {
                visit(steps, index, marks, path, index[need.as_str()])?;
            }
            path.pop();
            marks[at] = Mark::Done;
            Ok(())
        }
        let mut marks = vec![Mark::New; self.steps.len()];
        for at in 0..self.steps.len() {
            visit(&self.steps, index, &mut marks, &mut Vec::new(), at)?;
        }
        Ok(())
    }

    /// Every step `step` transitively needs.
    fn ancestors<'a>(&'a self, index: &HashMap<&str, usize>, step: &'a Step) -> BTreeSet<&'a str> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&str> = step.needs.iter().map(String::as_str).collect();
        while let Some(id) = todo.pop() {
            if seen.insert(id) {
                todo.extend(self.steps[index[id]].needs.iter().map(String::as_str));
            }
        }
        seen
    }
}

impl Step {
    /// Checks one step against the steps it may see.
    fn check(&self, visible: &BTreeSet<&str>, needs: &mut Needs) -> Result<(), Invalid> {
        let id = &self.id;
        let actions = [
            ("component", self.component.is_some()),
            ("tool", self.tool.is_some()),
            ("workflow", self.workflow.is_some()),
            ("wait", self.wait.is_some()),
            ("approval", self.approval.is_some()),
        ];
        let set: Vec<&str> = actions.iter().filter(|(_, on)| *on).map(|(name, _)| *name).collect();
        if set.len() != 1 {
            return Err(Invalid(format!(
                "step `{id}` must have exactly one of component, tool, workflow, wait, approval (it has {})",
                if set.is_empty() {
                    "none".to_string()
                } else {
                    set.join(", ")
                }
            )));
        }
        if self.for_each.is_some() && self.component.is_none() && self.tool.is_none() {
            return Err(Invalid(format!(
                "step `{id}`: for_each works with component and tool steps"
            )));
        }
        let scope = Scope {
            step: id,
            visible,
            in_loop: self.for_each.is_some(),
            own_output: false,
        };
        if let Some(list) = &self.for_each {
            scope.whole_reference("for_each", list)?;
        }
        if let Some(condition) = &self.when {
            scope.whole_reference("when.value", &condition.value)?;
        }
        if let Some(call) = &self.component {
            check_name(id, "component.plugin", &call.plugin)?;
            scope.value("component.input", &call.input)?;
            needs.components.insert(call.plugin.clone());
        }
        if let Some(call) = &self.tool {
            check_tool(id, "tool", call)?;
            scope.value("tool.arguments", &call.arguments)?;
            needs.tools.insert((call.plugin.clone(), call.name.clone()));
        }
        if let Some(sub) = &self.workflow {
            check_name(id, "workflow.name", &sub.name)?;
            scope.value("workflow.input", &sub.input)?;
            needs.workflows.insert(sub.name.clone());
        }
        if let Some(approval) = &self.approval
            && let Some(message) = &approval.message
        {
            scope.text("approval.message", message)?;
        }
        self.check_policy()?;
        if let Some(undo) = &self.compensate {
            if self.approval.is_some() || self.wait.is_some() {
                return Err(Invalid(format!(
                    "step `{id}`: waits and approvals have nothing to compensate"
                )));
            }
            let scope = Scope {
                own_output: true,
                in_loop: false,
                ..scope
            };
            match (&undo.component, &undo.tool) {
                (Some(call), None) => {
                    check_name(id, "compensate.component.plugin", &call.plugin)?;
                    scope.value("compensate.component.input", &call.input)?;
                    needs.components.insert(call.plugin.clone());
                }
                (None, Some(call)) => {
                    check_tool(id, "compensate.tool", call)?;
                    scope.value("compensate.tool.arguments", &call.arguments)?;
                    needs.tools.insert((call.plugin.clone(), call.name.clone()));
                }
                _ => {
                    return Err(Invalid(format!(
                        "step `{id}`: compensate needs exactly one of component, tool"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The steps whose outputs its `${…}` references name (its
    /// compensation's included).
    pub fn references(&self) -> BTreeSet<String> {
        let mut texts: Vec<&str> = Vec::new();
        texts.extend(self.for_each.as_deref());
        texts.extend(self.when.as_ref().map(|c| c.value.as_str()));
        texts.extend(self.approval.as_ref().and_then(|a| a.message.as_deref()));
        let undo = self.compensate.as_ref();
        let values = [
            self.component.as_ref().map(|c| &c.input),
            self.tool.as_ref().map(|t| &t.arguments),
            self.workflow.as_ref().map(|w| &w.input),
            undo.and_then(|u| u.component.as_ref()).map(|c| &c.input),
            undo.and_then(|u| u.tool.as_ref()).map(|t| &t.arguments),
        ];
        for value in values.into_iter().flatten() {
            strings(value, &mut texts);
        }
        texts
            .into_iter()
            .flat_map(|text| template::references(text).unwrap_or_default())
            .filter_map(|r| match r {
                Reference::Step(id, _) => Some(id),
                _ => None,
            })
            .collect()
    }

    fn check_policy(&self) -> Result<(), Invalid> {
        let id = &self.id;
        let retry = &self.retry;
        if !(1..=100).contains(&retry.max_attempts) {
            return Err(Invalid(format!("step `{id}`: retry.max_attempts must be 1 to 100")));
        }
        if !(retry.multiplier.is_finite() && (1.0..=10.0).contains(&retry.multiplier)) {
            return Err(Invalid(format!("step `{id}`: retry.multiplier must be 1 to 10")));
        }
        if retry.max_backoff_ms > 86_400_000 || retry.backoff_ms > retry.max_backoff_ms {
            return Err(Invalid(format!(
                "step `{id}`: retry.backoff_ms must be at most retry.max_backoff_ms, at most a day"
            )));
        }
        if self.timeout_ms.is_some_and(|t| t == 0 || t > 86_400_000) {
            return Err(Invalid(format!("step `{id}`: timeout_ms must be 1 ms to a day")));
        }
        if self.wait.as_ref().is_some_and(|w| w.seconds > 366 * 86_400) {
            return Err(Invalid(format!("step `{id}`: wait.seconds is at most a year")));
        }
        Ok(())
    }
}

/// Every string inside a JSON value.
fn strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(text) => out.push(text),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(fields) => fields.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// What `${…}` references in one field of one step may name.
#[derive(Clone, Copy)]
struct Scope<'a> {
    step: &'a str,
    visible: &'a BTreeSet<&'a str>,
    in_loop: bool,
    own_output: bool,
}

impl Scope<'_> {
    /// A field that must be exactly one reference.
    fn whole_reference(&self, field: &str, text: &str) -> Result<(), Invalid> {
        match template::whole(text) {
            Some(reference) => self.reference(field, &reference),
            None => Err(Invalid(format!(
                "step `{}`: {field} must be one `${{…}}` reference, not `{text}`",
                self.step
            ))),
        }
    }

    /// Every string inside a JSON value.
    fn value(&self, field: &str, value: &Value) -> Result<(), Invalid> {
        match value {
            Value::String(text) => self.text(field, text),
            Value::Array(items) => items.iter().try_for_each(|v| self.value(field, v)),
            Value::Object(fields) => fields.values().try_for_each(|v| self.value(field, v)),
            _ => Ok(()),
        }
    }

    /// Every reference inside a string.
    fn text(&self, field: &str, text: &str) -> Result<(), Invalid> {
        let references =
            template::references(text).map_err(|e| Invalid(format!("step `{}`: {field}: {e}", self.step)))?;
        references.iter().try_for_each(|r| self.reference(field, r))
    }

    fn reference(&self, field: &str, reference: &Reference) -> Result<(), Invalid> {
        let step = self.step;
        match reference {
            Reference::Input(_) => Ok(()),
            Reference::Item(_) | Reference::Index if self.in_loop => Ok(()),
            Reference::Item(_) | Reference::Index => Err(Invalid(format!(
                "step `{step}`: {field} uses the loop item but the step has no for_each"
            ))),
            Reference::Step(other, _) if self.visible.contains(other.as_str()) => Ok(()),
            Reference::Step(other, _) if self.own_output && other == step => Ok(()),
            Reference::Step(other, _) => Err(Invalid(format!(
                "step `{step}`: {field} uses the output of `{other}`, which it does not need (add `{other}` to its needs)"
            ))),
        }
    }
}

/// 1 to 63 lowercase letters, digits, `-` and the `extra` characters,
/// starting with a letter.
fn is_name(text: &str, extra: &[char]) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && text.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || extra.contains(&c))
}

/// Step ids may also use `_`.
fn valid_id(id: &str) -> bool {
    is_name(id, &['_'])
}

/// Plugin and workflow names follow the API's name pattern.
fn check_name(step: &str, field: &str, name: &str) -> Result<(), Invalid> {
    if is_name(name, &[]) {
        Ok(())
    } else {
        Err(Invalid(format!("step `{step}`: {field} `{name}` is not a valid name")))
    }
}

fn check_tool(step: &str, field: &str, call: &ToolCall) -> Result<(), Invalid> {
    check_name(step, &format!("{field}.plugin"), &call.plugin)?;
    if call.name.is_empty() || call.name.len() > 128 {
        return Err(Invalid(format!(
            "step `{step}`: {field}.name must be 1 to 128 characters"
        )));
    }
    if !call.arguments.is_object() {
        return Err(Invalid(format!(
            "step `{step}`: {field}.arguments must be a JSON object"
        )));
    }
    Ok(())
}
