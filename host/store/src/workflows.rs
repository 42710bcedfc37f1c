//! Workflow definitions, runs and steps. The engine changes a run only in
//! [`Store::transition_run`], one transaction that holds the run (a row lock
//! on PostgreSQL, the write lock on SQLite) so concurrent finishes of
//! parallel steps see each other; workers take ready steps with
//! [`Store::claim_step`] under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL).

use sqlx::Connection;

use crate::db::{begin_write, begin_write_on, now, on_pool, on_writer};
use crate::{Store, StoreError};

/// A saved version of a workflow.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct StoredWorkflow {
    /// Name, unique in the tenant.
    pub name: String,
    /// 1, 2, … per save.
    pub version: i64,
    /// The definition as JSON.
    pub definition: String,
    /// Who saved it.
    pub created_by: String,
    /// When.
    pub created_at: String,
}

/// A run of a workflow.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Run {
    /// Id (a UUID).
    pub id: String,
    /// Tenant.
    pub tenant: String,
    /// Workflow name.
    pub workflow: String,
    /// Workflow version.
    pub version: i64,
    /// `running`, `compensating`, `succeeded`, `failed` or `cancelled`.
    pub state: String,
    /// The input, as JSON.
    pub input: String,
    /// The output once succeeded, as JSON.
    pub output: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// The run that started this one as a step, if any.
    pub parent_run: Option<String>,
    /// That run's step.
    pub parent_step: Option<String>,
    /// Who started it.
    pub started_by: String,
    /// When it was started.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// When it ended.
    pub finished_at: Option<String>,
}

/// One step of a run (or one compensation, `compensate.<step>`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct StepRow {
    /// Run id.
    pub run_id: String,
    /// Step id.
    pub step_id: String,
    /// `pending`, `ready`, `running`, `waiting` (approval), `succeeded`,
    /// `failed`, `skipped` or `cancelled`.
    pub state: String,
    /// Attempts started.
    pub attempt: i64,
    /// Order among compensations.
    pub seq: i64,
    /// When it may start.
    pub ready_at: Option<String>,
    /// The worker holding it.
    pub lease_owner: Option<String>,
    /// Until when.
    pub lease_until: Option<String>,
    /// The input of its last attempt, as JSON.
    pub input: Option<String>,
    /// Its output, as JSON.
    pub output: Option<String>,
    /// Its last error.
    pub error: Option<String>,
    /// Who approved or rejected it.
    pub decided_by: Option<String>,
    /// When its first attempt started.
    pub started_at: Option<String>,
    /// When it ended.
    pub finished_at: Option<String>,
}

impl StepRow {
    /// A step that has not started, ready at `ready_at` or waiting for its needs.
    pub fn new(run_id: &str, step_id: &str, ready_at: Option<String>) -> StepRow {
        StepRow {
            run_id: run_id.into(),
            step_id: step_id.into(),
            state: if ready_at.is_some() { "ready" } else { "pending" }.into(),
            attempt: 0,
            seq: 0,
            ready_at,
            lease_owner: None,
            lease_until: None,
            input: None,
            output: None,
            error: None,
            decided_by: None,
            started_at: None,
            finished_at: None,
        }
    }
}

/// A run with its steps (all, or those asked for), as one transaction sees them.
#[derive(Debug, Clone)]
pub struct RunSnapshot {
    /// The run.
    pub run: Run,
    /// Its steps, by id.
    pub steps: Vec<StepRow>,
}

impl RunSnapshot {
    /// The step with id `id`.
    pub fn step(&self, id: &str) -> Option<&StepRow> {
        self.steps.iter().find(|s| s.step_id == id)
    }
}

/// A change [`Store::transition_run`] writes: steps are written whole
/// (inserted or replaced), the run's state and results are replaced.
#[derive(Debug, Clone, Default)]
pub struct Transition {
    /// Steps to insert or replace.
    pub steps: Vec<StepRow>,
    /// The run's new state, output and error, and whether it ended.
    pub run: Option<RunChange>,
}

/// A run's new state.
#[derive(Debug, Clone)]
pub struct RunChange {
    /// New state.
    pub state: String,
    /// Output (JSON).
    pub output: Option<String>,
    /// Error.
    pub error: Option<String>,
    /// Whether the run ended.
    pub finished: bool,
}

/// A step a worker took, with its lease.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Claim {
    /// Run id.
    pub run_id: String,
    /// Step id.
    pub step_id: String,
    /// This attempt's number (from 1).
    pub attempt: i64,
}

/// Inserts or replaces step rows in one statement (a macro: the statement is
/// built for each backend's executor).
macro_rules! upsert_steps {
    ($executor:expr, $steps:expr) => {{
        let steps: &[StepRow] = $steps;
        if !steps.is_empty() {
            let rows: Vec<String> = (0..steps.len())
                .map(|i| {
                    let params: Vec<String> = (1..=14).map(|n| format!("${}", i * 14 + n)).collect();
                    format!("({})", params.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO workflow_steps ({STEP_COLUMNS}) VALUES {} \
                 ON CONFLICT (run_id, step_id) DO UPDATE SET state = excluded.state, attempt = excluded.attempt, \
                 seq = excluded.seq, ready_at = excluded.ready_at, lease_owner = excluded.lease_owner, \
                 lease_until = excluded.lease_until, input = excluded.input, output = excluded.output, \
                 error = excluded.error, decided_by = excluded.decided_by, started_at = excluded.started_at, \
                 finished_at = excluded.finished_at",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for step in steps {
                query = query
                    .bind(&step.run_id)
                    .bind(&step.step_id)
                    .bind(&step.state)
                    .bind(step.attempt)
                    .bind(step.seq)
                    .bind(&step.ready_at)
                    .bind(&step.lease_owner)
                    .bind(&step.lease_until)
                    .bind(&step.input)
                    .bind(&step.output)
                    .bind(&step.error)
                    .bind(&step.decided_by)
                    .bind(&step.started_at)
                    .bind(&step.finished_at);
            }
            query.execute($executor).await?;
        }
    }};
}

/// `$2, $3, …`: one placeholder per step id, after the run id's `$1`.
fn step_placeholders(ids: &[String]) -> String {
    let list: Vec<String> = (2..ids.len() + 2).map(|n| format!("${n}")).collect();
    list.join(", ")
}

/// A run and its step rows in order, all of them or only those named, in one
/// statement (a round trip less than two). A macro: the query is built for
/// each backend's executor.
macro_rules! select_run {
    ($executor:expr, $run_id:expr, $only:expr) => {{
        let only: Option<&[String]> = $only;
        let join = match only {
            Some([]) => String::new(),
            Some(ids) => format!(
                " LEFT JOIN workflow_steps s ON s.run_id = r.id AND s.step_id IN ({})",
                step_placeholders(ids)
            ),
            None => " LEFT JOIN workflow_steps s ON s.run_id = r.id".to_string(),
        };
        let (columns, order) = if join.is_empty() {
            (RUN_COLUMNS_OF_R.to_string(), "")
        } else {
            (
                format!("{RUN_COLUMNS_OF_R}, {STEP_COLUMNS_OF_S}"),
                " ORDER BY s.seq, s.step_id",
            )
        };
        let sql = format!("SELECT {columns} FROM workflow_runs r{join} WHERE r.id = $1{order}");
        let mut query = sqlx::query(&sql).bind($run_id);
        for id in only.unwrap_or_default() {
            query = query.bind(id);
        }
        let rows = query.fetch_all($executor).await?;
        match rows.first() {
            None => None,
            Some(first) => {
                use sqlx::{FromRow, Row};
                let run = Run::from_row(first)?;
                let mut steps = Vec::new();
                for row in &rows {
                    let Some(step_id) = (if join.is_empty() {
                        None
                    } else {
                        row.try_get("s_step_id")?
                    }) else {
                        continue;
                    };
                    steps.push(StepRow {
                        run_id: run.id.clone(),
                        step_id,
                        state: row.try_get("s_state")?,
                        attempt: row.try_get("s_attempt")?,
                        seq: row.try_get("s_seq")?,
                        ready_at: row.try_get("s_ready_at")?,
                        lease_owner: row.try_get("s_lease_owner")?,
                        lease_until: row.try_get("s_lease_until")?,
                        input: row.try_get("s_input")?,
                        output: row.try_get("s_output")?,
                        error: row.try_get("s_error")?,
                        decided_by: row.try_get("s_decided_by")?,
                        started_at: row.try_get("s_started_at")?,
                        finished_at: row.try_get("s_finished_at")?,
                    });
                }
                Some(RunSnapshot { run, steps })
            }
        }
    }};
}

const RUN_COLUMNS: &str = "id, tenant, workflow, version, state, input, output, error, parent_run, parent_step, \
     started_by, created_at, updated_at, finished_at";
const STEP_COLUMNS: &str = "run_id, step_id, state, attempt, seq, ready_at, lease_owner, lease_until, input, output, \
     error, decided_by, started_at, finished_at";
/// The run columns of `workflow_runs r`, named as in [`RUN_COLUMNS`].
const RUN_COLUMNS_OF_R: &str = "r.id AS id, r.tenant AS tenant, r.workflow AS workflow, r.version AS version, \
     r.state AS state, r.input AS input, r.output AS output, r.error AS error, r.parent_run AS parent_run, \
     r.parent_step AS parent_step, r.started_by AS started_by, r.created_at AS created_at, \
     r.updated_at AS updated_at, r.finished_at AS finished_at";
/// The step columns of `workflow_steps s` (but its run id), prefixed `s_`.
const STEP_COLUMNS_OF_S: &str = "s.step_id AS s_step_id, s.state AS s_state, s.attempt AS s_attempt, s.seq AS s_seq, \
     s.ready_at AS s_ready_at, s.lease_owner AS s_lease_owner, s.lease_until AS s_lease_until, s.input AS s_input, \
     s.output AS s_output, s.error AS s_error, s.decided_by AS s_decided_by, s.started_at AS s_started_at, \
     s.finished_at AS s_finished_at";

impl Store {
    /// Saves `definition` (JSON) as the next version of `name`; returns the version.
    pub async fn put_workflow(&self, tenant: &str, name: &str, definition: &str, by: &str) -> Result<i64, StoreError> {
        let at = now();
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(begin_write(pool)).await?;
            let latest: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM workflows WHERE tenant = $1 AND name = $2")
                    .bind(tenant)
                    .bind(name)
                    .fetch_one(&mut *tx)
                    .await?;
            let version = latest.unwrap_or(0) + 1;
            sqlx::query(
                "INSERT INTO workflows (tenant, name, version, definition, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(tenant)
            .bind(name)
            .bind(version)
            .bind(definition)
            .bind(by)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(version)
        })
    }

    /// Version `version` of workflow `name`, or its newest with `None`.
    pub async fn workflow(
        &self,
        tenant: &str,
        name: &str,
        version: Option<i64>,
    ) -> Result<Option<StoredWorkflow>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT name, version, definition, created_by, created_at FROM workflows \
             WHERE tenant = $1 AND name = $2 AND ($3 IS NULL OR version = $3) ORDER BY version DESC LIMIT 1"
        )
        .bind(tenant)
        .bind(name)
        .bind(version)
        .fetch_optional(pool)
        .await)?)
    }

    /// The newest version of every workflow of `tenant`, by name.
    pub async fn workflows(&self, tenant: &str) -> Result<Vec<StoredWorkflow>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT w.name, w.version, w.definition, w.created_by, w.created_at FROM workflows w \
             WHERE w.tenant = $1 AND w.version = (SELECT MAX(version) FROM workflows v \
             WHERE v.tenant = w.tenant AND v.name = w.name) ORDER BY w.name"
        )
        .bind(tenant)
        .fetch_all(pool)
        .await)?)
    }

    /// Records a new run and its first steps in one transaction.
    pub async fn create_run(&self, run: &Run, steps: &[StepRow]) -> Result<(), StoreError> {
        on_writer!(self, |conn| {
            let begin = begin_write_on(&*conn);
            let mut tx = conn.begin_with(begin).await?;
            sqlx::query(&format!(
                "INSERT INTO workflow_runs ({RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
            ))
            .bind(&run.id)
            .bind(&run.tenant)
            .bind(&run.workflow)
            .bind(run.version)
            .bind(&run.state)
            .bind(&run.input)
            .bind(&run.output)
            .bind(&run.error)
            .bind(&run.parent_run)
            .bind(&run.parent_step)
            .bind(&run.started_by)
            .bind(&run.created_at)
            .bind(&run.updated_at)
            .bind(&run.finished_at)
            .execute(&mut *tx)
            .await?;
            upsert_steps!(&mut *tx, steps);
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// The run `id`, with its steps; only `tenant`'s when one is named.
    pub async fn run(&self, tenant: Option<&str>, id: &str) -> Result<Option<RunSnapshot>, StoreError> {
        on_pool!(self, |pool| {
            let run: Option<Run> = sqlx::query_as(&format!(
                "SELECT {RUN_COLUMNS} FROM workflow_runs WHERE id = $1 AND ($2 IS NULL OR tenant = $2)"
            ))
            .bind(id)
            .bind(tenant)
            .fetch_optional(pool)
            .await?;
            let Some(run) = run else { return Ok(None) };
            let steps = sqlx::query_as(&format!(
                "SELECT {STEP_COLUMNS} FROM workflow_steps WHERE run_id = $1 ORDER BY seq, started_at, step_id"
            ))
            .bind(id)
            .fetch_all(pool)
            .await?;
            Ok(Some(RunSnapshot { run, steps }))
        })
    }

    /// The run `id` with only its steps named in `steps`.
    pub async fn run_steps(&self, id: &str, steps: &[String]) -> Result<Option<RunSnapshot>, StoreError> {
        on_pool!(self, |pool| Ok(select_run!(pool, id, Some(steps))))
    }

    /// The newest runs of `tenant` (of one workflow, if named), newest first.
    pub async fn runs(&self, tenant: &str, workflow: Option<&str>, limit: i64) -> Result<Vec<Run>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT {RUN_COLUMNS} FROM workflow_runs WHERE tenant = $1 AND ($2 IS NULL OR workflow = $2) \
             ORDER BY created_at DESC, id LIMIT $3"
        ))
        .bind(tenant)
        .bind(workflow)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
    }

    /// Sub-workflow runs that ended while the parent step that started them
    /// still waits for them: the parent was not told (its node stopped
    /// between the child's last transaction and the parent's).
    pub async fn unreported_children(&self) -> Result<Vec<Run>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT {RUN_COLUMNS} FROM workflow_runs \
             WHERE (parent_run, parent_step) IN (SELECT run_id, step_id FROM workflow_steps WHERE state = 'waiting') \
             AND state IN ('succeeded', 'failed', 'cancelled') ORDER BY finished_at, id"
        ))
        .fetch_all(pool)
        .await)?)
    }

    /// Steps waiting for a worker (ready and due) and steps running, per
    /// tenant: `(tenant, ready, running)`, one query for the metrics.
    pub async fn step_queue(&self) -> Result<Vec<(String, i64, i64)>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT r.tenant, \
                    SUM(CASE WHEN s.state = 'ready' AND s.ready_at <= $1 THEN 1 ELSE 0 END), \
                    SUM(CASE WHEN s.state = 'running' THEN 1 ELSE 0 END) \
             FROM workflow_steps s JOIN workflow_runs r ON r.id = s.run_id \
             WHERE s.state IN ('ready', 'running') GROUP BY r.tenant ORDER BY r.tenant"
        )
        .bind(now())
        .fetch_all(pool)
        .await)?)
    }

    /// Takes one step that is ready (or whose lease ran out) for `owner`
    /// until `lease_until`, counting an attempt.
    pub async fn claim_step(&self, owner: &str, lease_until: &str) -> Result<Option<Claim>, StoreError> {
        let at = now();
        let lock = if self.backend() == "postgres" {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE workflow_steps SET state = 'running', lease_owner = $1, lease_until = $2, \
             attempt = attempt + 1, started_at = COALESCE(started_at, $3) \
             WHERE (run_id, step_id) IN (SELECT run_id, step_id FROM workflow_steps \
             WHERE (state = 'ready' AND ready_at <= $3) OR (state = 'running' AND lease_until < $3) \
             ORDER BY ready_at LIMIT 1{lock}) RETURNING run_id, step_id, attempt"
        );
        on_writer!(self, |conn| {
            let claim = sqlx::query_as(&sql)
                .bind(owner)
                .bind(lease_until)
                .bind(&at)
                .fetch_optional(&mut *conn)
                .await?;
            Ok::<_, StoreError>(claim)
        })
    }

    /// Extends `owner`'s lease on a step; false when it no longer holds it.
    pub async fn extend_lease(&self, claim: &Claim, owner: &str, until: &str) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| sqlx::query(
            "UPDATE workflow_steps SET lease_until = $1 \
             WHERE run_id = $2 AND step_id = $3 AND state = 'running' AND lease_owner = $4 AND attempt = $5"
        )
        .bind(until)
        .bind(&claim.run_id)
        .bind(&claim.step_id)
        .bind(owner)
        .bind(claim.attempt)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// Changes run `run_id` as `decide` says, given the run and its steps (all,
    /// or only those named in `steps`) as they are while the run is held;
    /// returns what `decide` returned.
    pub async fn transition_run<T>(
        &self,
        run_id: &str,
        steps: Option<&[String]>,
        decide: impl FnOnce(&RunSnapshot) -> Result<(Transition, T), StoreError>,
    ) -> Result<T, StoreError> {
        let at = now();
        on_writer!(self, |conn| {
            let begin = begin_write_on(&*conn);
            let mut tx = conn.begin_with(begin).await?;
            if self.backend() == "postgres" {
                // Locked first and read in the next statement: a read in the
                // locking one would see the steps as they were before the
                // lock's previous holder committed.
                sqlx::query("SELECT id FROM workflow_runs WHERE id = $1 FOR UPDATE")
                    .bind(run_id)
                    .execute(&mut *tx)
                    .await?;
                // The steps it reads too: `claim_step` takes a ready step
                // without the run's lock, and a decision made on a step read
                // as ready must not overwrite a claim committed meanwhile.
                if steps.is_none_or(|ids| !ids.is_empty()) {
                    let only = steps.map_or(String::new(), |ids| {
                        format!("AND step_id IN ({})", step_placeholders(ids))
                    });
                    let sql = format!("SELECT step_id FROM workflow_steps WHERE run_id = $1 {only} FOR UPDATE");
                    let mut lock = sqlx::query(&sql).bind(run_id);
                    for id in steps.unwrap_or_default() {
                        lock = lock.bind(id);
                    }
                    lock.execute(&mut *tx).await?;
                }
            }
            let snapshot =
                select_run!(&mut *tx, run_id, steps).ok_or_else(|| StoreError::NotFound(format!("run `{run_id}`")))?;
            let (transition, result) = decide(&snapshot)?;
            upsert_steps!(&mut *tx, &transition.steps);
            if let Some(change) = &transition.run {
                sqlx::query(
                    "UPDATE workflow_runs SET state = $1, output = $2, error = $3, updated_at = $4, \
                     finished_at = CASE WHEN $5 THEN $4 ELSE finished_at END WHERE id = $6",
                )
                .bind(&change.state)
                .bind(&change.output)
                .bind(&change.error)
                .bind(&at)
                .bind(change.finished)
                .bind(run_id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(result)
        })
    }
}

/// A line a step logged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct StepLogLine {
    /// The step (or `compensate.<id>`).
    pub step_id: String,
    /// The attempt that logged it.
    pub attempt: i64,
    /// `debug`, `info`, `warning`, `error`, ….
    pub level: String,
    /// What it said.
    pub message: String,
    /// When (RFC 3339).
    pub at: String,
}

impl Store {
    /// Keeps what an attempt of a step logged.
    pub async fn append_step_logs(&self, run_id: &str, lines: &[StepLogLine]) -> Result<(), StoreError> {
        if lines.is_empty() {
            return Ok(());
        }
        on_writer!(self, |conn| {
            let mut tx = conn.begin().await?;
            for (seq, line) in lines.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO workflow_logs (run_id, step_id, attempt, seq, level, message, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                )
                .bind(run_id)
                .bind(&line.step_id)
                .bind(line.attempt)
                .bind(seq as i64)
                .bind(&line.level)
                .bind(&line.message)
                .bind(&line.at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// Everything the steps of a run logged, in order.
    pub async fn run_logs(&self, run_id: &str) -> Result<Vec<StepLogLine>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT step_id, attempt, level, message, at FROM workflow_logs WHERE run_id = $1 \
             ORDER BY at, step_id, attempt, seq"
        )
        .bind(run_id)
        .fetch_all(pool)
        .await)?)
    }
}
