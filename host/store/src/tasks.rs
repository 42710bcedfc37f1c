//! MCP tasks: tool calls that outlive their request. The node running one
//! records each change of its state here, so any node answers `tasks/get`;
//! answers and cancellations sent to any node reach the runner through here.

use std::time::Duration;

use crate::db::{format_time, now, on_pool};
use crate::{Store, StoreError};

/// Statuses after which a task no longer changes.
const TERMINAL: &str = "('completed', 'failed', 'cancelled')";

/// A task as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TaskRecord {
    /// Unguessable, unique across tenants.
    pub id: String,
    /// The tenant whose endpoint created it.
    pub tenant: String,
    /// The caller that started it (`key:<id>`, `user:<name>`); `None` when
    /// the endpoint is public.
    pub owner: Option<String>,
    /// The tool called, as the client named it.
    pub tool: String,
    /// `working`, `input_required`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// A human-readable note on the status.
    pub status_message: Option<String>,
    /// The tool result (JSON) once `completed`.
    pub result: Option<String>,
    /// The JSON-RPC error (JSON) once `failed`.
    pub error: Option<String>,
    /// The open questions by key (JSON object) while `input_required`.
    pub input_requests: Option<String>,
    /// How long after its creation the task is kept.
    pub ttl_ms: i64,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, the last change of status.
    pub updated_at: String,
    /// RFC 3339, when it is forgotten.
    pub expires_at: String,
    /// RFC 3339: until when the node running it vouches for it.
    pub lease_until: String,
}

/// A task's next state, as its runner records it.
#[derive(Debug, Clone, Default)]
pub struct TaskState<'a> {
    /// The new status.
    pub status: &'a str,
    /// A note on it.
    pub status_message: Option<&'a str>,
    /// The result (JSON), when `completed`.
    pub result: Option<&'a str>,
    /// The error (JSON), when `failed`.
    pub error: Option<&'a str>,
    /// The open questions (JSON), when `input_required`.
    pub input_requests: Option<&'a str>,
}

impl Store {
    /// Records a new `working` task of `tool`, started by `owner`, kept
    /// `ttl_ms`, leased to its node for `lease`; forgets expired ones.
    pub async fn create_task(
        &self,
        id: &str,
        tenant: &str,
        owner: Option<&str>,
        tool: &str,
        ttl_ms: i64,
        lease: Duration,
    ) -> Result<TaskRecord, StoreError> {
        let created = time::OffsetDateTime::now_utc();
        let at = format_time(created);
        let expires = format_time(created + time::Duration::milliseconds(ttl_ms));
        let lease_until = format_time(created + lease);
        on_pool!(self, |pool| {
            sqlx::query(
                "DELETE FROM mcp_task_answers WHERE task_id IN (SELECT id FROM mcp_tasks WHERE expires_at < $1)",
            )
            .bind(&at)
            .execute(pool)
            .await?;
            sqlx::query("DELETE FROM mcp_tasks WHERE expires_at < $1")
                .bind(&at)
                .execute(pool)
                .await?;
            sqlx::query_as(
                "INSERT INTO mcp_tasks (id, tenant, tool, status, ttl_ms, created_at, updated_at, expires_at, \
                 lease_until, owner) VALUES ($1, $2, $3, 'working', $4, $5, $5, $6, $7, $8) RETURNING *",
            )
            .bind(id)
            .bind(tenant)
            .bind(tool)
            .bind(ttl_ms)
            .bind(&at)
            .bind(&expires)
            .bind(&lease_until)
            .bind(owner)
            .fetch_one(pool)
            .await
        })
        .map_err(StoreError::from)
    }

    /// Tenant `tenant`'s task `id`, unless it expired.
    pub async fn task(&self, tenant: &str, id: &str) -> Result<Option<TaskRecord>, StoreError> {
        let at = now();
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM mcp_tasks WHERE tenant = $1 AND id = $2 AND expires_at >= $3"
        )
        .bind(tenant)
        .bind(id)
        .bind(&at)
        .fetch_optional(pool)
        .await)
        .map_err(StoreError::from)
    }

    /// Extends the lease of a task not ended by `lease` from now.
    pub async fn renew_task(&self, tenant: &str, id: &str, lease: Duration) -> Result<(), StoreError> {
        let until = format_time(time::OffsetDateTime::now_utc() + lease);
        on_pool!(self, |pool| sqlx::query(&format!(
            "UPDATE mcp_tasks SET lease_until = $1 WHERE tenant = $2 AND id = $3 AND status NOT IN {TERMINAL}"
        ))
        .bind(&until)
        .bind(tenant)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Moves a task that has not ended to `state`; `false` when it had
    /// ended (been cancelled, say) or is gone.
    pub async fn update_task(&self, tenant: &str, id: &str, state: &TaskState<'_>) -> Result<bool, StoreError> {
        let at = now();
        let done = on_pool!(self, |pool| sqlx::query(&format!(
            "UPDATE mcp_tasks SET status = $1, status_message = $2, result = $3, error = $4, \
             input_requests = $5, updated_at = $6 \
             WHERE tenant = $7 AND id = $8 AND status NOT IN {TERMINAL}"
        ))
        .bind(state.status)
        .bind(state.status_message)
        .bind(state.result)
        .bind(state.error)
        .bind(state.input_requests)
        .bind(&at)
        .bind(tenant)
        .bind(id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(done == 1)
    }

    /// Records the client's `answers` (by key) to a task's open questions,
    /// if those are still `open` (the JSON read with the task), and leaves
    /// `still_open` (`None`: none, the task is `working` again). `false`
    /// when the questions changed meanwhile: read the task again.
    pub async fn answer_task(
        &self,
        tenant: &str,
        id: &str,
        open: &str,
        still_open: Option<&str>,
        answers: &[(String, String)],
    ) -> Result<bool, StoreError> {
        let at = now();
        let status = if still_open.is_some() {
            "input_required"
        } else {
            "working"
        };
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let swapped = sqlx::query(
                "UPDATE mcp_tasks SET status = $1, input_requests = $2, updated_at = $3 \
                 WHERE tenant = $4 AND id = $5 AND status = 'input_required' AND input_requests = $6",
            )
            .bind(status)
            .bind(still_open)
            .bind(&at)
            .bind(tenant)
            .bind(id)
            .bind(open)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if swapped != 1 {
                return Ok(false);
            }
            for (key, answer) in answers {
                sqlx::query(
                    "INSERT INTO mcp_task_answers (task_id, key, answer) VALUES ($1, $2, $3) \
                     ON CONFLICT (task_id, key) DO NOTHING",
                )
                .bind(id)
                .bind(key)
                .bind(answer)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Takes the recorded answers of a task, by key.
    pub async fn take_task_answers(&self, id: &str) -> Result<Vec<(String, String)>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(
            "DELETE FROM mcp_task_answers WHERE task_id = $1 RETURNING key, answer"
        )
        .bind(id)
        .fetch_all(pool)
        .await)
        .map_err(StoreError::from)
    }
}
