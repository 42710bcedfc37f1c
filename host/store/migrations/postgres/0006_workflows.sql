-- (The PostgreSQL twin of SQLite 0007.) Workflows: versioned definitions per tenant, their runs, and each run's steps. Every state
-- change of a run is one transaction that holds the run's row; workers claim ready steps with a lease.
CREATE TABLE workflows (
    tenant TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, name, version)
);

CREATE TABLE workflow_runs (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL REFERENCES tenants(id),
    workflow TEXT NOT NULL,
    version BIGINT NOT NULL,
    state TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    parent_run TEXT,
    parent_step TEXT,
    started_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX workflow_runs_by_tenant ON workflow_runs (tenant, created_at);

CREATE TABLE workflow_steps (
    run_id TEXT NOT NULL REFERENCES workflow_runs(id),
    step_id TEXT NOT NULL,
    state TEXT NOT NULL,
    attempt BIGINT NOT NULL DEFAULT 0,
    seq BIGINT NOT NULL DEFAULT 0,
    ready_at TEXT,
    lease_owner TEXT,
    lease_until TEXT,
    input TEXT,
    output TEXT,
    error TEXT,
    decided_by TEXT,
    started_at TEXT,
    finished_at TEXT,
    PRIMARY KEY (run_id, step_id)
);
CREATE INDEX workflow_steps_ready ON workflow_steps (state, ready_at);
