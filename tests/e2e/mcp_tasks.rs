//! MCP tasks (the `io.modelcontextprotocol/tasks` extension) through the real
//! binary: tools of the conformance fixture that begin tasks, polled,
//! answered, cancelled and refused as the extension says, over the stateless
//! (2026-07-28) protocol; on two nodes, one serving the tasks the other runs,
//! and a task whose node died reported failed.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cluster::Cluster;
use crate::support::{ADMIN, Api, Pa};

const EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// A stateless client of one tenant's endpoint.
struct Client {
    http: reqwest::Client,
    url: String,
    key: String,
    /// The client's capabilities, sent with every request.
    capabilities: Value,
}

impl Client {
    fn new(pa: &Pa, tenant: &str, key: &str, tasks: bool) -> Client {
        let capabilities = if tasks {
            json!({ "elicitation": {}, "extensions": { EXTENSION: {} } })
        } else {
            json!({ "elicitation": {} })
        };
        Client {
            http: reqwest::Client::new(),
            url: format!("{}/t/{tenant}/mcp", pa.url.replace("127.0.0.1", "localhost")),
            key: key.to_string(),
            capabilities,
        }
    }

    /// Sends `method` with `params`; returns the HTTP status and the response.
    async fn send(&self, method: &str, mut params: Value) -> (u16, Value) {
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": self.capabilities,
        });
        let mut request = self
            .http
            .post(&self.url)
            .bearer_auth(&self.key)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", method);
        if let Some(name) = params.get("name").or(params.get("taskId")).and_then(Value::as_str) {
            request = request.header("mcp-name", name);
        }
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let response = request.body(body.to_string()).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// The result of `method`, asserting it succeeded.
    async fn result(&self, method: &str, params: Value) -> Value {
        let (status, response) = self.send(method, params).await;
        assert_eq!(status, 200, "{method}: {response}");
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    /// The JSON-RPC error `method` answered with.
    async fn error(&self, method: &str, params: Value) -> Value {
        let (_, response) = self.send(method, params).await;
        assert!(response.get("result").is_none(), "{method} should fail: {response}");
        response["error"].clone()
    }

    async fn call(&self, tool: &str, arguments: Value) -> Value {
        self.result("tools/call", json!({ "name": tool, "arguments": arguments }))
            .await
    }

    async fn get(&self, task: &str) -> Value {
        self.result("tasks/get", json!({ "taskId": task })).await
    }

    /// Waits (up to 5 s) until the fixture's one instance (`max_concurrency`
    /// 1) answers `greet` again, i.e. no call holds it.
    async fn wait_until_free(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let (_, answer) = self
                .send("tools/call", json!({ "name": "greet", "arguments": { "name": "C" } }))
                .await;
            if answer["result"]["content"][0]["text"] == "Hello, C!" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "a cancelled call still holds the instance: {answer}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls task `task` until its status is one of `statuses`.
    async fn wait_for(&self, task: &str, statuses: &[&str]) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let task_now = self.get(task).await;
            if statuses.iter().any(|s| task_now["status"] == *s) {
                return task_now;
            }
            assert!(
                Instant::now() < deadline,
                "task {task} never became {statuses:?}: {task_now}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// An answer accepting an elicitation with `content`.
fn accept(content: Value) -> Value {
    json!({ "action": "accept", "content": content })
}

/// A tenant serving the fixture's tools under their own names; its key.
async fn fixture_tenant(admin: &Api, tenant: &str, limits: Value) -> String {
    let key = admin.create_tenant(tenant).await;
    let config = json!({ "tool_prefix": "", "limits": limits });
    admin
        .deploy(tenant, "fixture", "1.0.0", "conformance.wasm", config)
        .await;
    key
}

#[tokio::test]
async fn tool_calls_become_tasks_the_client_polls_answers_and_cancels() {
    let dir = tempfile::tempdir().unwrap();
    let pa = Pa::serve(dir.path(), &[]);
    let admin = Api::new(&pa, ADMIN);
    let key = fixture_tenant(&admin, "acme", json!({})).await;
    // A tool server of the plain world (no `tasks` export), as third parties write them.
    admin.deploy("acme", "bare", "1.0.0", "tool_bare.wasm", json!({})).await;
    let tasks = Client::new(&pa, "acme", &key, true);
    let plain = Client::new(&pa, "acme", &key, false);

    // The extension is advertised, and each tool says whether it runs as a task.
    let discovered = tasks.result("server/discover", json!({})).await;
    assert!(
        discovered["capabilities"]["extensions"][EXTENSION].is_object(),
        "{discovered}"
    );
    let listed = tasks.result("tools/list", json!({})).await;
    let support = |name: &str| {
        listed["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} listed"))["execution"]["taskSupport"]
            .clone()
    };
    assert_eq!(support("slow_compute"), "optional");
    assert_eq!(support("failing_job"), "required");
    assert_eq!(support("greet"), Value::Null);
    assert_eq!(support("bare_shout"), Value::Null);

    // A task-supporting call becomes a task, resolvable at once and polled to its result.
    let created = tasks
        .call("slow_compute", json!({ "seconds": 0.3, "label": "sum" }))
        .await;
    assert_eq!(created["resultType"], "task", "{created}");
    assert_eq!(created["status"], "working", "{created}");
    assert!(
        created.get("result").is_none() && created.get("task").is_none(),
        "{created}"
    );
    assert!(created["ttlMs"].as_i64().unwrap() > 0 && created["pollIntervalMs"].as_i64().unwrap() > 0);
    let id = created["taskId"].as_str().unwrap().to_string();
    assert_eq!(tasks.get(&id).await["taskId"], id.as_str());
    let done = tasks.wait_for(&id, &["completed", "failed", "cancelled"]).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["resultType"], "complete");
    assert_eq!(done["result"]["content"][0]["text"], "sum: done after 0.3 s", "{done}");
    // A tool that never begins a task answers as before.
    let greeted = tasks.call("greet", json!({ "name": "Ada" })).await;
    assert_eq!(greeted["resultType"], "complete");
    assert_eq!(greeted["content"][0]["text"], "Hello, Ada!");
    let shouted = tasks.call("bare_shout", json!({ "text": "hi" })).await;
    assert_eq!(
        (shouted["resultType"].as_str(), shouted["content"][0]["text"].as_str()),
        (Some("complete"), Some("HI"))
    );

    // A tool error completes the task with `isError`; a protocol error fails it.
    let failing = tasks.call("failing_job", json!({})).await;
    let failed = tasks
        .wait_for(failing["taskId"].as_str().unwrap(), &["completed", "failed"])
        .await;
    assert_eq!(
        (failed["status"].as_str(), failed["result"]["isError"].as_bool()),
        (Some("completed"), Some(true)),
        "{failed}"
    );
    let broken = tasks.call("protocol_error_job", json!({})).await;
    let broken = tasks
        .wait_for(broken["taskId"].as_str().unwrap(), &["completed", "failed"])
        .await;
    assert_eq!(broken["status"], "failed", "{broken}");
    assert_eq!(broken["error"]["code"], -32603, "{broken}");
    assert!(broken.get("result").is_none(), "{broken}");

    // Questions park the task until every one is answered, one at a time if need be.
    let asking = tasks.call("multi_input", json!({})).await;
    let asking = asking["taskId"].as_str().unwrap().to_string();
    let parked = tasks.wait_for(&asking, &["input_required"]).await;
    assert_eq!(
        parked["inputRequests"]["first"]["method"], "elicitation/create",
        "{parked}"
    );
    let wrong = tasks
        .error(
            "tasks/update",
            json!({ "taskId": asking, "inputResponses": { "first": { "nope": 1 } } }),
        )
        .await;
    assert_eq!(wrong["code"], -32602, "{wrong}");
    assert!(
        wrong["message"].as_str().unwrap().contains("inputResponses.first"),
        "{wrong}"
    );
    let ack = tasks
        .result(
            "tasks/update",
            json!({ "taskId": asking, "inputResponses": { "first": accept(json!({ "name": "A" })), "other": {} } }),
        )
        .await;
    assert_eq!(ack, json!({ "resultType": "complete" }));
    let half = tasks.get(&asking).await;
    assert_eq!(half["status"], "input_required", "{half}");
    let open: Vec<&String> = half["inputRequests"].as_object().unwrap().keys().collect();
    assert_eq!(open, ["second"], "{half}");
    tasks
        .result(
            "tasks/update",
            json!({ "taskId": asking, "inputResponses": { "second": accept(json!({ "name": "B" })) } }),
        )
        .await;
    let answered = tasks.wait_for(&asking, &["completed", "failed"]).await;
    assert_eq!(answered["result"]["content"][0]["text"], "Got A and B", "{answered}");

    // A tool may ask within the request first, then become a task.
    let round = tasks.call("test_tool_with_task", json!({})).await;
    assert_eq!(round["resultType"], "input_required", "{round}");
    assert!(round.get("taskId").is_none(), "{round}");
    let round = tasks
        .result(
            "tools/call",
            json!({ "name": "test_tool_with_task", "arguments": {},
                    "inputResponses": { "user_name": accept(json!({ "name": "Alice" })) },
                    "requestState": round["requestState"] }),
        )
        .await;
    assert_eq!(round["resultType"], "task", "{round}");
    assert!(round.get("requestState").is_none(), "{round}");
    let greeted = tasks
        .wait_for(round["taskId"].as_str().unwrap(), &["completed", "failed"])
        .await;
    assert_eq!(greeted["result"]["content"][0]["text"], "Hello, Alice!", "{greeted}");

    // Without the extension: optional tools answer within the request, required
    // ones and the task methods are refused naming it.
    let direct = plain.call("slow_compute", json!({ "seconds": 0 })).await;
    assert_eq!(direct["resultType"], "complete", "{direct}");
    assert!(direct.get("taskId").is_none(), "{direct}");
    let (status, refused) = plain
        .send("tools/call", json!({ "name": "failing_job", "arguments": {} }))
        .await;
    assert_eq!(
        (status, refused["error"]["code"].as_i64()),
        (400, Some(-32021)),
        "{refused}"
    );
    assert!(refused["error"]["data"]["requiredCapabilities"]["extensions"][EXTENSION].is_object());
    for method in ["tasks/get", "tasks/cancel"] {
        let refused = plain.error(method, json!({ "taskId": id })).await;
        assert_eq!(refused["code"], -32021, "{method}: {refused}");
    }

    // Unknown tasks, another tenant's and another caller's of the same tenant
    // are invalid params; removed methods are unknown.
    let unknown = tasks.error("tasks/get", json!({ "taskId": "no-such-task" })).await;
    assert_eq!(unknown["code"], -32602, "{unknown}");
    let globex = fixture_tenant(&admin, "globex", json!({})).await;
    let stranger = Client::new(&pa, "globex", &globex, true);
    let hidden = stranger.error("tasks/get", json!({ "taskId": id })).await;
    assert_eq!(hidden["code"], -32602, "{hidden}");
    let colleague_key = admin.create_key("acme", "developer").await;
    let colleague = Client::new(&pa, "acme", &colleague_key, true);
    let running = tasks.call("slow_compute", json!({ "seconds": 1 })).await;
    let running = running["taskId"].as_str().unwrap().to_string();
    for method in ["tasks/get", "tasks/update", "tasks/cancel"] {
        let hidden = colleague
            .error(method, json!({ "taskId": running, "inputResponses": {} }))
            .await;
        assert_eq!(hidden["code"], -32602, "{method}: {hidden}");
        assert_eq!(hidden["message"], format!("Invalid task: no task `{running}`"));
    }
    let finished = tasks.wait_for(&running, &["completed", "cancelled"]).await;
    assert_eq!(
        finished["status"], "completed",
        "another caller cancelled it: {finished}"
    );
    let own = colleague.call("greet", json!({ "name": "D" })).await;
    assert_eq!(
        own["content"][0]["text"], "Hello, D!",
        "the colleague's own calls work: {own}"
    );
    for method in ["tasks/result", "tasks/list"] {
        let removed = tasks.error(method, json!({ "taskId": id })).await;
        assert_eq!(removed["code"], -32601, "{method}: {removed}");
    }
}

#[tokio::test]
async fn cancelling_a_task_stops_its_call() {
    let dir = tempfile::tempdir().unwrap();
    let pa = Pa::serve(dir.path(), &[]);
    let admin = Api::new(&pa, ADMIN);
    // One instance at a time: a call still running would hold it.
    let key = fixture_tenant(&admin, "acme", json!({ "max_concurrency": 1 })).await;
    let tasks = Client::new(&pa, "acme", &key, true);

    let long = tasks.call("slow_compute", json!({ "seconds": 60 })).await;
    let id = long["taskId"].as_str().unwrap().to_string();
    let (_, busy) = tasks
        .send("tools/call", json!({ "name": "greet", "arguments": { "name": "B" } }))
        .await;
    assert_eq!(
        busy["error"]["code"], -32000,
        "the task holds the plugin's one instance: {busy}"
    );

    let ack = tasks.result("tasks/cancel", json!({ "taskId": id })).await;
    assert_eq!(ack, json!({ "resultType": "complete" }));
    assert_eq!(tasks.get(&id).await["status"], "cancelled");
    // Cancelling an ended task changes nothing.
    let again = tasks.result("tasks/cancel", json!({ "taskId": id })).await;
    assert_eq!(again, json!({ "resultType": "complete" }));
    assert_eq!(tasks.get(&id).await["status"], "cancelled");

    // The instance is free again: the call was stopped, not just relabelled.
    tasks.wait_until_free().await;
}

#[tokio::test]
async fn a_task_running_on_one_node_is_answered_and_cancelled_through_another() {
    let cluster = Cluster::new();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut a, b) = (cluster.node(&dir_a), cluster.node(&dir_b));
    let key = fixture_tenant(&Api::new(&a, ADMIN), "acme", json!({ "max_concurrency": 1 })).await;
    let (on_a, on_b) = (Client::new(&a, "acme", &key, true), Client::new(&b, "acme", &key, true));
    let deadline = Instant::now() + Duration::from_secs(10);
    while on_b.send("tools/list", json!({})).await.1["result"]["tools"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        assert!(
            Instant::now() < deadline,
            "node B never served the plugin enabled on node A"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Node A runs the task; node B shows its question and takes the answer.
    let asking = on_a.call("confirm_delete", json!({ "filename": "old.log" })).await;
    let id = asking["taskId"].as_str().unwrap().to_string();
    let parked = on_b.wait_for(&id, &["input_required"]).await;
    assert_eq!(
        parked["inputRequests"]["confirm"]["method"], "elicitation/create",
        "{parked}"
    );
    on_b.result(
        "tasks/update",
        json!({ "taskId": id, "inputResponses": { "confirm": accept(json!({ "confirm": true })) } }),
    )
    .await;
    let done = on_b.wait_for(&id, &["completed", "failed"]).await;
    assert_eq!(done["result"]["content"][0]["text"], "Deleted old.log", "{done}");

    // A cancellation received by node B stops the call on node A.
    let long = on_a.call("slow_compute", json!({ "seconds": 60 })).await;
    let id = long["taskId"].as_str().unwrap().to_string();
    on_b.result("tasks/cancel", json!({ "taskId": id })).await;
    assert_eq!(on_a.get(&id).await["status"], "cancelled");
    on_a.wait_until_free().await;

    // A task whose node dies is reported failed once its lease (2 s here) runs out.
    let orphan = on_a.call("slow_compute", json!({ "seconds": 60 })).await;
    let id = orphan["taskId"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        on_b.get(&id).await["status"],
        "working",
        "the lease is renewed while the task runs"
    );
    a.kill();
    let lost = on_b.wait_for(&id, &["completed", "failed", "cancelled"]).await;
    assert_eq!(lost["status"], "failed", "{lost}");
    assert!(lost["error"]["message"].as_str().unwrap().contains("stopped"), "{lost}");
}

#[tokio::test]
async fn a_session_that_declared_the_extension_gets_tasks_too_and_only_its_caller_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let pa = Pa::serve(dir.path(), &[]);
    let admin = Api::new(&pa, ADMIN);
    let key = fixture_tenant(&admin, "acme", json!({})).await;
    let url = format!("{}/t/acme/mcp", pa.url.replace("127.0.0.1", "localhost"));
    let http = reqwest::Client::new();
    let post = |key: &str, session: Option<&str>, body: Value| {
        let mut request = http
            .post(&url)
            .bearer_auth(key)
            .header("content-type", "application/json")
            .header("accept", "application/json");
        if let Some(session) = session {
            request = request
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-11-25");
        }
        request.body(body.to_string()).send()
    };
    let initialized = post(
        &key,
        None,
        json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": { "extensions": { EXTENSION: {} } },
            "clientInfo": { "name": "e2e", "version": "1" } } }),
    )
    .await
    .unwrap();
    let session = initialized.headers()["mcp-session-id"].to_str().unwrap().to_string();
    let offered: Value = initialized.json().await.unwrap();
    assert!(
        offered["result"]["capabilities"]["extensions"][EXTENSION].is_object(),
        "{offered}"
    );

    // The session is bound to the key that opened it.
    let colleague_key = admin.create_key("acme", "developer").await;
    let borrowed = post(
        &colleague_key,
        Some(&session),
        json!({ "jsonrpc": "2.0", "id": 9, "method": "tools/list" }),
    )
    .await
    .unwrap();
    assert_eq!(borrowed.status(), 404, "another key used the session");

    let call = |id: u32, method: &str, params: Value| {
        post(
            &key,
            Some(&session),
            json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }),
        )
    };
    let created: Value = call(
        1,
        "tools/call",
        json!({ "name": "slow_compute", "arguments": { "seconds": 0.2 } }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let id = created["result"]["taskId"]
        .as_str()
        .unwrap_or_else(|| panic!("a task: {created}"))
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let task: Value = call(2, "tasks/get", json!({ "taskId": id }))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if task["result"]["status"] == "completed" {
            assert_eq!(
                task["result"]["result"]["content"][0]["text"], "computation: done after 0.2 s",
                "{task}"
            );
            break;
        }
        assert_eq!(task["result"]["status"], "working", "{task}");
        assert!(Instant::now() < deadline, "never completed: {task}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
