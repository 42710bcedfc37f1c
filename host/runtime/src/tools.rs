//! MCP tool servers: components of the `powerautomation:plugin/tool-server`
//! world, called on a fresh instance per request with the plugin's sandbox,
//! and the host services they import (log, progress, sampling, elicitation,
//! key-value, config).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::Semaphore;
use wasmtime::Store;
use wasmtime::component::{HasSelf, InstancePre};

use crate::InvokeError;
use crate::exports::ExportedFunc;
use crate::sandbox::Sandbox;
use crate::state::InstanceState;

#[allow(missing_docs)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "powerautomation:plugin/tool-server",
        imports: {
            "powerautomation:plugin/host.sample": async | trappable,
            "powerautomation:plugin/host.elicit": async | trappable,
            "powerautomation:plugin/host.ask": async | trappable,
            default: async,
        },
        exports: { default: async },
    });
}

/// The optional `tasks` export of a tool server.
#[allow(missing_docs)]
mod task_bindings {
    wasmtime::component::bindgen!({
        inline: "package powerautomation:host-side;
                 world task-support { export powerautomation:plugin/tasks@0.1.0; }",
        path: "../../wit",
        exports: { default: async },
    });
}

use bindings::ToolServerPre;
/// The host-service interfaces, shared with the workflow-step world.
pub(crate) use bindings::powerautomation::plugin as interfaces;
use bindings::powerautomation::plugin::{config, host, key_value};
use task_bindings::exports::powerautomation::plugin::tasks::GuestIndices as TasksIndices;
/// How a tool's calls may become MCP tasks (its server's `tasks` export).
pub use task_bindings::exports::powerautomation::plugin::tasks::TaskSupport;

/// The data types of the tool-server world (tools, content blocks, results).
pub use bindings::powerautomation::plugin::types;

/// Why the client's answers to [`ToolPeer::ask`] are not available.
#[derive(Debug)]
pub enum AskError {
    /// The client cannot or will not answer; the guest gets this message.
    Refused(String),
    /// The answers come with a later request: the call stops here and is run
    /// again from the start then (the stateless protocol's `input_required`).
    Suspend,
}

/// The MCP client a tool request came from: where the host services a guest
/// calls during that request go.
#[async_trait::async_trait]
pub trait ToolPeer: Send + Sync {
    /// A log message for the client.
    fn log(&self, level: types::LogLevel, logger: Option<String>, data: String);
    /// A progress report for the current request.
    fn progress(&self, progress: f64, total: Option<f64>, message: Option<String>);
    /// Asks the client the questions; returns each answer (JSON) by key.
    async fn ask(&self, requests: Vec<types::InputRequest>) -> Result<Vec<(String, String)>, AskError>;
    /// The capabilities the client declared, as a JSON object.
    fn client_capabilities(&self) -> String;
    /// Turns the call into a task the client polls, if the tool and the
    /// client support that; returns whether it did.
    async fn begin_task(&self) -> bool {
        false
    }
}

/// The error that stops a guest whose questions await the client's answers.
#[derive(Debug)]
pub(crate) struct Suspended;

impl std::fmt::Display for Suspended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request awaits the client's answers")
    }
}

impl std::error::Error for Suspended {}

/// An enabled tool-server plugin version. Cheap to clone.
#[derive(Clone)]
pub struct ToolServer(Arc<Inner>);

struct Inner {
    sandbox: Arc<Sandbox>,
    permits: Arc<Semaphore>,
    kind: Kind,
    /// Instances that finished a call cleanly, kept for the next one.
    idle: Mutex<Vec<Warm>>,
}

/// Idle instances kept per plugin version.
const MAX_IDLE: usize = 16;
/// Calls one instance serves before it is replaced (bounds leaks).
const CALLS_PER_INSTANCE: u32 = 1000;

/// An instance with the store it lives in.
struct Warm {
    store: Store<InstanceState>,
    instance: Instantiated,
    calls: u32,
}

/// A running instance of either kind of tool server.
enum Instantiated {
    World(bindings::ToolServer, wasmtime::component::Instance),
    Exports(wasmtime::component::Instance),
}

/// A component of the tool-server world, or one with plain WIT exports.
#[derive(Clone)]
pub(crate) enum Kind {
    /// The world's bindings, and those of the `tasks` export when it has one.
    World(ToolServerPre<InstanceState>, Option<Arc<TasksIndices>>),
    Exports(InstancePre<InstanceState>, Arc<Vec<ExportedFunc>>),
}

impl Kind {
    /// A component of the tool-server world, with its `tasks` export if any.
    pub(crate) fn world(pre: InstancePre<InstanceState>) -> wasmtime::Result<Kind> {
        let tasks = TasksIndices::new(&pre).ok().map(Arc::new);
        Ok(Kind::World(ToolServerPre::new(pre)?, tasks))
    }

    fn engine(&self) -> &wasmtime::Engine {
        match self {
            Kind::World(pre, _) => pre.engine(),
            Kind::Exports(pre, _) => pre.engine(),
        }
    }
}

type Guest = bindings::exports::powerautomation::plugin::tools::Guest;

impl ToolServer {
    /// Binds a tool server to a plugin's sandbox.
    pub(crate) fn new(kind: Kind, sandbox: Sandbox) -> ToolServer {
        let permits = Arc::new(Semaphore::new(sandbox.limits.max_concurrency as usize));
        ToolServer(Arc::new(Inner {
            sandbox: Arc::new(sandbox),
            permits,
            kind,
            idle: Mutex::new(Vec::new()),
        }))
    }

    /// Fuel consumed by every finished call so far.
    pub fn fuel_consumed(&self) -> u64 {
        self.0.sandbox.fuel_consumed.load(Ordering::Relaxed)
    }

    /// The largest linear memory any instance reached, in bytes.
    pub fn peak_memory(&self) -> u64 {
        self.0.sandbox.peak_memory.load(Ordering::Relaxed)
    }

    /// Runs `call` within the plugin's limits on an instance (an idle one
    /// when there is one, else a new one), with `peer` receiving the guest's
    /// host-service calls. An instance that finished cleanly is kept for the
    /// next call, like a long-running MCP server process; one that failed is
    /// dropped.
    async fn run<R>(
        &self,
        metered: bool,
        peer: Option<Arc<dyn ToolPeer>>,
        call: impl AsyncFnOnce(&mut Store<InstanceState>, &Instantiated) -> wasmtime::Result<R>,
    ) -> Result<R, InvokeError> {
        let result = self.run_in(metered, peer, call).await;
        self.0.sandbox.log_failure(&result);
        result
    }

    async fn run_in<R>(
        &self,
        metered: bool,
        peer: Option<Arc<dyn ToolPeer>>,
        call: impl AsyncFnOnce(&mut Store<InstanceState>, &Instantiated) -> wasmtime::Result<R>,
    ) -> Result<R, InvokeError> {
        let sandbox = &self.0.sandbox;
        let _permit = self
            .0
            .permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| InvokeError::Busy {
                limit: sandbox.limits.max_concurrency,
            })?;
        let _call = metered.then(|| sandbox.usage.call());
        let timeout = sandbox.timeout();
        let deadline = Instant::now() + timeout;
        let idle = self.0.idle.lock().unwrap().pop();
        let (mut store, mut instance, calls) = match idle {
            Some(warm) => (warm.store, Some(warm.instance), warm.calls),
            None => (sandbox.store(self.0.kind.engine()), None, 0),
        };
        store.data_mut().peer = peer;
        store.data_mut().questions = 0;
        sandbox.rearm(&mut store);
        let run = async {
            if instance.is_none() {
                instance = Some(self.instantiate(&mut store).await?);
            }
            call(&mut store, instance.as_ref().expect("set above")).await
        };
        let result = tokio::time::timeout_at(deadline.into(), run).await;
        // A pooled instance may serve several calls: its fuel goes to the totals.
        sandbox.record(&store);
        store.data_mut().peer = None;
        match result {
            Ok(Ok(value)) => {
                if let Some(instance) = instance
                    && calls + 1 < CALLS_PER_INSTANCE
                {
                    let mut idle = self.0.idle.lock().unwrap();
                    if idle.len() < MAX_IDLE {
                        idle.push(Warm {
                            store,
                            instance,
                            calls: calls + 1,
                        });
                    }
                }
                Ok(value)
            }
            Ok(Err(e)) => Err(sandbox.classify(e, store.data().limiter.refused)),
            Err(_) => Err(InvokeError::Timeout(timeout)),
        }
    }

    async fn instantiate(&self, store: &mut Store<InstanceState>) -> wasmtime::Result<Instantiated> {
        Ok(match &self.0.kind {
            Kind::World(pre, _) => {
                let instance = pre.instance_pre().instantiate_async(&mut *store).await?;
                Instantiated::World(bindings::ToolServer::new(&mut *store, &instance)?, instance)
            }
            Kind::Exports(pre, _) => Instantiated::Exports(pre.instantiate_async(store).await?),
        })
    }

    /// Runs `call` on a tool-server-world component; `None` for a component
    /// with plain exports.
    async fn run_world<R>(
        &self,
        metered: bool,
        peer: Option<Arc<dyn ToolPeer>>,
        call: impl AsyncFnOnce(&Guest, &mut Store<InstanceState>) -> wasmtime::Result<R>,
    ) -> Option<Result<R, InvokeError>> {
        if !matches!(self.0.kind, Kind::World(..)) {
            return None;
        }
        Some(
            self.run(metered, peer, async |store, instance| match instance {
                Instantiated::World(tools, _) => call(tools.powerautomation_plugin_tools(), store).await,
                Instantiated::Exports(_) => unreachable!("the kind is World"),
            })
            .await,
        )
    }

    /// The tools the server offers.
    pub async fn list_tools(&self) -> Result<Vec<types::Tool>, InvokeError> {
        match &self.0.kind {
            Kind::World(..) => self
                .run_world(false, None, async |g, s| g.call_list_tools(s).await)
                .await
                .expect("world"),
            Kind::Exports(_, funcs) => Ok(funcs.iter().map(|f| f.tool.clone()).collect()),
        }
    }

    /// The tools whose calls may become tasks, and how (none when the
    /// component does not export `tasks`).
    pub async fn task_tools(&self) -> Result<Vec<(String, TaskSupport)>, InvokeError> {
        let Kind::World(_, Some(indices)) = &self.0.kind else {
            return Ok(Vec::new());
        };
        let indices = indices.clone();
        self.run(false, None, async move |store, instance| {
            let Instantiated::World(_, instance) = instance else {
                unreachable!("the kind is World")
            };
            let tasks = indices.load(&mut *store, instance)?;
            tasks.call_task_tools(&mut *store).await
        })
        .await
    }

    /// Calls tool `name` with `arguments` (a JSON object as text).
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: &str,
        peer: Arc<dyn ToolPeer>,
    ) -> Result<Result<types::CallResult, types::ServerError>, InvokeError> {
        if let Kind::Exports(_, funcs) = &self.0.kind {
            return self.call_export(funcs, name, arguments, peer).await;
        }
        self.run_world(true, Some(peer), async |g, s| {
            g.call_call_tool(s, name, arguments).await
        })
        .await
        .expect("world")
    }

    async fn call_export(
        &self,
        funcs: &[ExportedFunc],
        name: &str,
        arguments: &str,
        peer: Arc<dyn ToolPeer>,
    ) -> Result<Result<types::CallResult, types::ServerError>, InvokeError> {
        let Some(func) = funcs.iter().find(|f| f.tool.name == name) else {
            return Ok(Err(types::ServerError::NotFound(format!("no tool named `{name}`"))));
        };
        let arguments: serde_json::Value = match serde_json::from_str(arguments) {
            Ok(arguments) => arguments,
            Err(e) => {
                return Ok(Err(types::ServerError::InvalidParams(format!(
                    "arguments are not JSON: {e}"
                ))));
            }
        };
        let params = match func.arguments(&arguments) {
            Ok(params) => params,
            Err(message) => return Ok(Err(types::ServerError::InvalidParams(message))),
        };
        let mut results = func.result_slots();
        self.run(true, Some(peer), async |store, instance| {
            let Instantiated::Exports(instance) = instance else {
                unreachable!("the kind is Exports")
            };
            let f = instance
                .get_func(&mut *store, func.index)
                .ok_or_else(|| wasmtime::format_err!("the component has no export `{name}`"))?;
            f.call_async(&mut *store, &params, &mut results).await
        })
        .await?;
        Ok(Ok(func.call_result(&results)))
    }

    /// The resources the server offers.
    pub async fn list_resources(&self) -> Result<Vec<types::ResourceInfo>, InvokeError> {
        self.run_world(false, None, async |g, s| g.call_list_resources(s).await)
            .await
            .unwrap_or(Ok(Vec::new()))
    }

    /// The resource templates the server offers.
    pub async fn list_resource_templates(&self) -> Result<Vec<types::ResourceTemplate>, InvokeError> {
        self.run_world(false, None, async |g, s| g.call_list_resource_templates(s).await)
            .await
            .unwrap_or(Ok(Vec::new()))
    }

    /// Reads the resource at `uri`.
    pub async fn read_resource(
        &self,
        uri: &str,
    ) -> Result<Result<Vec<types::ResourceContents>, types::ServerError>, InvokeError> {
        self.run_world(true, None, async |g, s| g.call_read_resource(s, uri).await)
            .await
            .unwrap_or_else(|| Ok(Err(types::ServerError::NotFound(format!("no resource `{uri}`")))))
    }

    /// The prompts the server offers.
    pub async fn list_prompts(&self) -> Result<Vec<types::PromptInfo>, InvokeError> {
        self.run_world(false, None, async |g, s| g.call_list_prompts(s).await)
            .await
            .unwrap_or(Ok(Vec::new()))
    }

    /// Renders prompt `name` with `arguments`.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: &[(String, String)],
        peer: Arc<dyn ToolPeer>,
    ) -> Result<Result<types::PromptResult, types::ServerError>, InvokeError> {
        self.run_world(true, Some(peer), async |g, s| {
            g.call_get_prompt(s, name, arguments).await
        })
        .await
        .unwrap_or_else(|| Ok(Err(types::ServerError::NotFound(format!("no prompt `{name}`")))))
    }

    /// Completes an argument of a prompt or resource template.
    pub async fn complete(
        &self,
        target: &types::CompletionRef,
        argument: &str,
        value: &str,
    ) -> Result<Result<Vec<String>, types::ServerError>, InvokeError> {
        self.run_world(false, None, async |g, s| {
            g.call_complete(s, target, argument, value).await
        })
        .await
        .unwrap_or(Ok(Ok(Vec::new())))
    }
}

/// Adds the tool-server world's imports to a linker.
pub(crate) fn add_to_linker(linker: &mut wasmtime::component::Linker<InstanceState>) -> wasmtime::Result<()> {
    host::add_to_linker::<_, HasSelf<InstanceState>>(linker, |s| s)?;
    key_value::add_to_linker::<_, HasSelf<InstanceState>>(linker, |s| s)?;
    config::add_to_linker::<_, HasSelf<InstanceState>>(linker, |s| s)
}

impl types::Host for InstanceState {}

impl host::Host for InstanceState {
    async fn log(&mut self, level: types::LogLevel, logger: Option<String>, data: String) {
        if let Some(peer) = &self.peer {
            peer.log(level, logger, data);
        }
    }

    async fn progress(&mut self, progress: f64, total: Option<f64>, message: Option<String>) {
        if let Some(peer) = &self.peer {
            peer.progress(progress, total, message);
        }
    }

    async fn sample(&mut self, request: String) -> wasmtime::Result<Result<String, String>> {
        self.ask_one("sampling", "sampling/createMessage", request).await
    }

    async fn elicit(&mut self, request: String) -> wasmtime::Result<Result<String, String>> {
        self.ask_one("elicitation", "elicitation/create", request).await
    }

    async fn ask(
        &mut self,
        requests: Vec<types::InputRequest>,
    ) -> wasmtime::Result<Result<Vec<(String, String)>, String>> {
        let Some(peer) = self.peer.clone() else {
            return Ok(Err("the client can only be asked while a request is served".into()));
        };
        match peer.ask(requests).await {
            Ok(answers) => Ok(Ok(answers)),
            Err(AskError::Refused(message)) => Ok(Err(message)),
            Err(AskError::Suspend) => Err(wasmtime::Error::new(Suspended)),
        }
    }

    async fn client_capabilities(&mut self) -> String {
        self.peer
            .as_ref()
            .map_or_else(|| "{}".to_string(), |p| p.client_capabilities())
    }

    async fn begin_task(&mut self) -> bool {
        match self.peer.clone() {
            Some(peer) => peer.begin_task().await,
            None => false,
        }
    }
}

impl InstanceState {
    /// One question, keyed `{kind}-{n}` by its order in the request (the
    /// same on every run of a replayed request).
    async fn ask_one(&mut self, kind: &str, method: &str, params: String) -> wasmtime::Result<Result<String, String>> {
        self.questions += 1;
        let key = format!("{kind}-{}", self.questions);
        let request = types::InputRequest {
            key: key.clone(),
            method: method.into(),
            params,
        };
        let answers = host::Host::ask(self, vec![request]).await?;
        Ok(answers.map(|answers| {
            answers
                .into_iter()
                .find(|(k, _)| *k == key)
                .map(|(_, answer)| answer)
                .unwrap_or_else(|| "null".into())
        }))
    }
}

/// The key-value store a tool server's `key-value` interface uses.
const TOOL_STORE: &str = "default";

impl key_value::Host for InstanceState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, String> {
        let scope = self.spin_ctx().scope(TOOL_STORE)?;
        self.spin_ctx().kv.get(&scope, &key).await.map_err(|e| e.to_string())
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), String> {
        let scope = self.spin_ctx().scope(TOOL_STORE)?;
        self.spin_ctx()
            .kv
            .set(&scope, &key, &value)
            .await
            .map_err(|e| e.to_string())
    }

    async fn delete(&mut self, key: String) -> Result<(), String> {
        let scope = self.spin_ctx().scope(TOOL_STORE)?;
        self.spin_ctx().kv.delete(&scope, &key).await.map_err(|e| e.to_string())
    }

    async fn list_keys(&mut self) -> Result<Vec<String>, String> {
        let scope = self.spin_ctx().scope(TOOL_STORE)?;
        self.spin_ctx().kv.keys(&scope).await.map_err(|e| e.to_string())
    }
}

impl config::Host for InstanceState {
    async fn get(&mut self, key: String) -> Option<String> {
        self.spin_ctx().variables.get(&key).cloned()
    }
}
