-- Sub-workflow runs by the parent step that started them: a worker finds the
-- children that ended while their parent's step still waits for them.
CREATE INDEX workflow_runs_by_parent ON workflow_runs (parent_run, parent_step);
