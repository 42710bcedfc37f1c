//! The client as a tool call sees it: where a guest's log messages, progress
//! reports and sampling/elicitation requests go during one request.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};

use pa_runtime::tool_types::{InputRequest, LogLevel};
use pa_runtime::{AskError, ToolPeer};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::convert::{level_name, level_rank};
use super::jsonrpc;
use super::session::Session;
use super::tasks::{TaskOffer, TaskRun};

/// The client of one request.
pub struct ClientPeer {
    /// Messages for the client, sent before the response on its stream;
    /// `None` when the response is plain JSON (nothing can be sent first).
    pub outbox: Option<mpsc::UnboundedSender<Value>>,
    /// The stateful session, if any (needed to ask the client anything).
    pub session: Option<Arc<Session>>,
    /// The request's `_meta.progressToken`.
    pub progress_token: Option<Value>,
    /// The lowest level logged, or `None` for no logging.
    pub log_level: Option<u8>,
    /// What the client said it supports.
    pub capabilities: Value,
    /// The stateless revision's answers and open questions.
    pub replay: Option<Replay>,
    /// A capability the guest needed and the client lacks (the stateless
    /// revision answers the request with an error naming it).
    pub missing_capability: Mutex<Option<String>>,
    /// The task this call may become (a task-supporting tool called by a
    /// client with tasks), taken when the guest begins it.
    pub task_offer: Mutex<Option<TaskOffer>>,
    /// The task this call became.
    pub task: OnceLock<Arc<TaskRun>>,
}

impl ClientPeer {
    fn send(&self, message: Value) {
        if let Some(outbox) = &self.outbox {
            let _ = outbox.send(message);
        }
    }

    /// Sends the questions over the session's stream and waits for every answer.
    async fn ask_over_session(
        &self,
        session: &Session,
        questions: Vec<(InputRequest, Value)>,
    ) -> Result<Vec<(String, String)>, AskError> {
        let Some(outbox) = &self.outbox else {
            return Err(AskError::Refused(
                "asking the client needs a response stream; it did not accept text/event-stream".into(),
            ));
        };
        let mut waiting = Vec::new();
        for (question, params) in questions {
            let (id, answer) = session.new_request();
            let request = json!({ "jsonrpc": "2.0", "id": id, "method": question.method, "params": params });
            outbox
                .send(request)
                .map_err(|_| AskError::Refused("the client went away".into()))?;
            waiting.push((question, answer));
        }
        let mut answers = Vec::new();
        for (question, answer) in waiting {
            match answer.await {
                Ok(Ok(result)) => answers.push((question.key, result.to_string())),
                Ok(Err(error)) => {
                    return Err(AskError::Refused(format!(
                        "the client refused {}: {}",
                        question.method,
                        error.get("message").and_then(Value::as_str).unwrap_or("no message")
                    )));
                }
                Err(_) => return Err(AskError::Refused("the session ended before the client answered".into())),
            }
        }
        Ok(answers)
    }

    /// Answers from the request's `inputResponses` what it can, then parks
    /// the task until the client has answered the rest.
    async fn ask_in_task(
        &self,
        run: &TaskRun,
        questions: Vec<(InputRequest, Value)>,
    ) -> Result<Vec<(String, String)>, AskError> {
        let (mut answers, open) = match &self.replay {
            Some(replay) => replay.answer(questions),
            None => (Vec::new(), questions),
        };
        if !open.is_empty() {
            answers.extend(run.ask(super::tasks::open_questions(&open)).await?);
        }
        Ok(answers)
    }

    /// Answers the questions from the request's `inputResponses` (and earlier
    /// rounds' state); any unanswered one suspends the call.
    fn ask_stateless(
        &self,
        replay: &Replay,
        questions: Vec<(InputRequest, Value)>,
    ) -> Result<Vec<(String, String)>, AskError> {
        let (answers, open) = replay.answer(questions);
        if open.is_empty() {
            return Ok(answers);
        }
        replay
            .pending
            .lock()
            .unwrap()
            .extend(super::tasks::open_questions(&open));
        Err(AskError::Suspend)
    }
}

/// The client capability each question method needs.
fn capability_of(method: &str) -> Option<&'static str> {
    match method {
        "elicitation/create" => Some("elicitation"),
        "sampling/createMessage" => Some("sampling"),
        "roots/list" => Some("roots"),
        _ => None,
    }
}

/// Whether `answer` has the shape of a result of `method`.
pub(super) fn answers_method(method: &str, answer: &Value) -> bool {
    match method {
        "elicitation/create" => answer.get("action").is_some_and(Value::is_string),
        "sampling/createMessage" => answer.get("content").is_some_and(Value::is_object),
        "roots/list" => answer.get("roots").is_some_and(Value::is_array),
        _ => false,
    }
}

/// The stateless revision's multi-round requests: the answers known so far,
/// those the guest used, and the questions still open.
#[derive(Default)]
pub struct Replay {
    pub answers: HashMap<String, Value>,
    pub used: Mutex<BTreeMap<String, Value>>,
    pub pending: Mutex<Vec<(String, Value)>>,
}

/// A question for the client with its parsed params.
type Question = (InputRequest, Value);

impl Replay {
    /// Splits `questions` into those the request answers (their answers,
    /// noted as used) and those still open.
    fn answer(&self, questions: Vec<Question>) -> (Vec<(String, String)>, Vec<Question>) {
        let mut answers = Vec::new();
        let mut open = Vec::new();
        for (question, params) in questions {
            match self
                .answers
                .get(&question.key)
                .filter(|a| answers_method(&question.method, a))
            {
                Some(answer) => {
                    self.used.lock().unwrap().insert(question.key.clone(), answer.clone());
                    answers.push((question.key, answer.to_string()));
                }
                None => open.push((question, params)),
            }
        }
        (answers, open)
    }
}

#[async_trait::async_trait]
impl ToolPeer for ClientPeer {
    fn log(&self, level: LogLevel, logger: Option<String>, data: String) {
        let name = level_name(level);
        let minimum = match (&self.session, self.log_level) {
            (Some(session), _) => Some(session.log_level.load(Ordering::Relaxed)),
            (None, level) => level,
        };
        let Some(minimum) = minimum else { return };
        if level_rank(name).unwrap_or(0) < minimum {
            return;
        }
        let data = serde_json::from_str::<Value>(&data).unwrap_or(Value::String(data));
        let mut params = json!({ "level": name, "data": data });
        if let Some(logger) = logger {
            params["logger"] = logger.into();
        }
        self.send(jsonrpc::notification("notifications/message", params));
    }

    fn progress(&self, progress: f64, total: Option<f64>, message: Option<String>) {
        let Some(token) = &self.progress_token else { return };
        let mut params = json!({ "progressToken": token, "progress": progress });
        if let Some(total) = total {
            params["total"] = total.into();
        }
        if let Some(message) = message {
            params["message"] = message.into();
        }
        self.send(jsonrpc::notification("notifications/progress", params));
    }

    async fn ask(&self, requests: Vec<InputRequest>) -> Result<Vec<(String, String)>, AskError> {
        let mut questions = Vec::new();
        for request in requests {
            let Some(capability) = capability_of(&request.method) else {
                return Err(AskError::Refused(format!(
                    "cannot ask the client `{}`: use elicitation/create, sampling/createMessage or roots/list",
                    request.method
                )));
            };
            if self.capabilities.get(capability).is_none() {
                *self.missing_capability.lock().unwrap() = Some(capability.to_string());
                return Err(AskError::Refused(format!("the client does not support {capability}")));
            }
            let params: Value = serde_json::from_str(&request.params)
                .map_err(|e| AskError::Refused(format!("the {} params are not JSON: {e}", request.method)))?;
            questions.push((request, params));
        }
        if let Some(run) = self.task.get() {
            return self.ask_in_task(run, questions).await;
        }
        match (&self.session, &self.replay) {
            (Some(session), _) => self.ask_over_session(session, questions).await,
            (None, Some(replay)) => self.ask_stateless(replay, questions),
            (None, None) => Err(AskError::Refused("this request cannot ask the client anything".into())),
        }
    }

    fn client_capabilities(&self) -> String {
        self.capabilities.to_string()
    }

    async fn begin_task(&self) -> bool {
        if self.task.get().is_some() {
            return true;
        }
        let Some(offer) = self.task_offer.lock().unwrap().take() else {
            return false;
        };
        let Some(run) = offer.accept().await else {
            return false;
        };
        let _ = self.task.set(run);
        true
    }
}
