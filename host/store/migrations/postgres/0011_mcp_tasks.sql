-- MCP tasks (the io.modelcontextprotocol/tasks extension): tool calls that
-- outlive their request, polled by the client from any node.
CREATE TABLE mcp_tasks (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    tool TEXT NOT NULL,
    status TEXT NOT NULL,
    status_message TEXT,
    -- JSON: the tool result (completed), the JSON-RPC error (failed), the
    -- open questions by key (input_required).
    result TEXT,
    error TEXT,
    input_requests TEXT,
    ttl_ms BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    -- Renewed by the node running the task; a task not ended whose lease
    -- ran out lost its node.
    lease_until TEXT NOT NULL
);
CREATE INDEX mcp_tasks_by_expiry ON mcp_tasks (expires_at);

-- Answers a client sent (tasks/update) to a task's open questions, until the
-- node running the task takes them.
CREATE TABLE mcp_task_answers (
    task_id TEXT NOT NULL,
    key TEXT NOT NULL,
    answer TEXT NOT NULL,
    PRIMARY KEY (task_id, key)
);
