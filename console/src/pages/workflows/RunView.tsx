// One run, live: the step graph with each step's state, attempts, timings,
// input, output and logs; approve/reject waiting approvals; cancel a running
// run, retry a failed or cancelled one.

import { useEffect, useRef, useState } from 'react';
import { api, get, messageOf, tenantPath } from '../../api/client';
import type { Run, StepDefinition, StepLog, StepRun, Workflow } from '../../api/types';
import { useLoad } from '../../components/useLoad';
import { ErrorText, JsonView, Loading, Notice, StateBadge, duration, formatTime } from '../../components/ui';
import { href, navigate } from '../../router';
import { useTenant } from '../../session/SessionContext';
import { ENDED_RUN_STATES, actionOf, inputOf, levels } from './graph';
import { useLiveRun } from './useLiveRun';

const RETRYABLE_RUN_STATES = ['failed', 'cancelled'];

/** `info` from the level as the API reports it (e.g. `loglevel::info` or `Info`). */
function levelName(level: string): string {
  return level.slice(level.lastIndexOf(':') + 1).toLowerCase();
}

/** A JSON block with a visible label that also names it for assistive technology. */
function LabelledJson({ value, label, text }: { value: unknown; label: string; text: string }) {
  return (
    <>
      <p className="json-label" aria-hidden="true">
        {text}
      </p>
      <JsonView value={value} label={label} />
    </>
  );
}

function StepLogs({ step, logs }: { step: string; logs: StepLog[] }) {
  if (logs.length === 0) return null;
  return (
    <ol className="logs" aria-label={`Logs of ${step}`}>
      {logs.map((l, i) => (
        <li key={i}>
          <span className={`badge level-${levelName(l.level)}`}>{levelName(l.level)}</span>{' '}
          <span className="hint">
            attempt {l.attempt}, {formatTime(l.at)}:
          </span>{' '}
          <span className="message">{l.message}</span>
        </li>
      ))}
    </ol>
  );
}

/** The approval message as the engine filled it in (the step's recorded input). */
function askedOf(input: unknown): string | undefined {
  if (input && typeof input === 'object' && 'message' in input && typeof input.message === 'string') return input.message;
  return undefined;
}

function Decision({
  run,
  step,
  asked,
  onDecided,
}: {
  run: Run;
  step: StepDefinition;
  asked: string | undefined;
  onDecided: (r: Run) => void;
}) {
  const { tenant, can } = useTenant();
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  const allowed = can('workflow.approve');

  async function decide(verdict: 'approve' | 'reject') {
    setError(null);
    try {
      const path = tenantPath(tenant, `/runs/${encodeURIComponent(run.id)}/steps/${encodeURIComponent(step.id)}/${verdict}`);
      onDecided(await api<Run>('POST', path, { json: comment ? { comment } : {} }));
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <div className="decision">
      {(asked ?? step.approval?.message) && <p>{asked ?? step.approval?.message}</p>}
      <label>
        Comment for step {step.id}
        <input value={comment} maxLength={1000} disabled={!allowed} onChange={(e) => setComment(e.target.value)} />
      </label>
      <div className="actions">
        <button type="button" disabled={!allowed} onClick={() => decide('approve')}>
          Approve {step.id}
        </button>
        <button type="button" className="danger" disabled={!allowed} onClick={() => decide('reject')}>
          Reject {step.id}
        </button>
      </div>
      {!allowed && <p className="hint">Your role may not approve or reject.</p>}
      <ErrorText>{error}</ErrorText>
    </div>
  );
}

function StepNode({
  definition,
  state,
  run,
  onDecided,
}: {
  definition: StepDefinition;
  state: StepRun | undefined;
  run: Run;
  onDecided: (r: Run) => void;
}) {
  const status = state?.state ?? 'pending';
  return (
    <li className={`step-node state-${status}`} data-testid={`step-${definition.id}`}>
      <h4>
        {definition.id} <StateBadge state={status} />
      </h4>
      <p className="kind">{actionOf(definition)}</p>
      {definition.needs && definition.needs.length > 0 && <p className="needs">after {definition.needs.join(', ')}</p>}
      {state && (
        <dl className="facts">
          <dt>Attempt</dt>
          <dd>{state.attempt}</dd>
          <dt>Started</dt>
          <dd>{formatTime(state.started_at)}</dd>
          <dt>Took</dt>
          <dd>{duration(state.started_at, state.finished_at)}</dd>
          {state.decided_by && (
            <>
              <dt>Decided by</dt>
              <dd>{state.decided_by}</dd>
            </>
          )}
        </dl>
      )}
      {state?.error && <p className="error">{state.error}</p>}
      <details>
        <summary>Input and output of {definition.id}</summary>
        {state?.input !== undefined && state.input !== null && (
          <LabelledJson value={state.input} label={`Input given to ${definition.id}`} text="Input given (resolved)" />
        )}
        <LabelledJson value={inputOf(definition)} label={`Input of ${definition.id} as defined`} text="Input as defined" />
        <LabelledJson value={state?.output ?? null} label={`Output of ${definition.id}`} text="Output" />
      </details>
      <StepLogs step={definition.id} logs={state?.logs ?? []} />
      {definition.approval && status === 'waiting' && run.state === 'running' && (
        <Decision run={run} step={definition} asked={askedOf(state?.input)} onDecided={onDecided} />
      )}
    </li>
  );
}

export function RunView({ runId }: { runId: string }) {
  const { tenant, can } = useTenant();
  const { run, setRun, error, setError, following } = useLiveRun(tenant, runId);
  const section = useRef<HTMLElement>(null);
  const shown = run !== null;
  useEffect(() => {
    // The run shows at the top of the page; bring it into view when it opens.
    if (shown) section.current?.scrollIntoView({ block: 'start' });
  }, [shown]);
  const workflow = useLoad(
    () => (run ? get<Workflow>(tenantPath(tenant, `/workflows/${encodeURIComponent(run.workflow)}`)) : Promise.resolve(null)),
    [tenant, run?.workflow],
  );

  async function act(action: 'cancel' | 'retry') {
    setError(null);
    try {
      const answer = await api<Run>('POST', tenantPath(tenant, `/runs/${encodeURIComponent(runId)}/${action}`));
      if (action === 'retry') navigate(href(tenant, 'workflows', 'runs', answer.id));
      else setRun(answer);
    } catch (e) {
      setError(messageOf(e));
    }
  }

  if (!run) return error ? <ErrorText>{error}</ErrorText> : <Loading what="the run" />;
  const definition = workflow.data?.definition;
  const byId = new Map((run.steps ?? []).map((s) => [s.id, s]));
  const extra = (run.steps ?? []).filter((s) => !definition?.steps.some((d) => d.id === s.id));

  return (
    <section className="card run" aria-labelledby="run-title" ref={section}>
      <h2 id="run-title">
        Run of {run.workflow} <StateBadge state={run.state} />
      </h2>
      <dl className="facts">
        <dt>Run</dt>
        <dd>
          <code>{run.id}</code>
        </dd>
        <dt>Version</dt>
        <dd>{run.version}</dd>
        <dt>Started by</dt>
        <dd>{run.started_by}</dd>
        <dt>Started</dt>
        <dd>{formatTime(run.created_at)}</dd>
        <dt>Took</dt>
        <dd>{duration(run.created_at, run.finished_at)}</dd>
      </dl>
      <ErrorText>{error}</ErrorText>
      {run.error && <p className="error">{run.error}</p>}
      {!ENDED_RUN_STATES.includes(run.state) && (
        <p className="hint" role="status">
          {following === 'stream' ? 'Following the run live.' : 'Following the run, refreshed every second.'}
        </p>
      )}
      {run.state === 'running' && (
        <div className="actions">
          <button type="button" className="danger" disabled={!can('workflow.run')} onClick={() => act('cancel')}>
            Cancel run
          </button>
        </div>
      )}
      {RETRYABLE_RUN_STATES.includes(run.state) && (
        <div className="actions">
          <button type="button" disabled={!can('workflow.run')} onClick={() => act('retry')}>
            Retry run
          </button>
          {!can('workflow.run') && <span className="hint">Your role may not retry runs.</span>}
        </div>
      )}
      {workflow.data && workflow.data.version !== run.version && (
        <Notice>
          The graph shows version {workflow.data.version} of the definition; this run used version {run.version}.
        </Notice>
      )}
      <h3>Steps</h3>
      {definition ? (
        <ol className="step-graph" aria-label="Step graph, one level per row">
          {levels(definition.steps).map((level, i) => (
            <li key={i} className="level">
              <ul aria-label={`Level ${i + 1}`}>
                {level.map((d) => (
                  <StepNode key={d.id} definition={d} state={byId.get(d.id)} run={run} onDecided={setRun} />
                ))}
              </ul>
            </li>
          ))}
        </ol>
      ) : (
        <Loading what="the definition" />
      )}
      {extra.length > 0 && (
        <>
          <h3>Compensation</h3>
          <ul className="step-list">
            {extra.map((s) => (
              <li key={s.id}>
                <code>{s.id}</code> <StateBadge state={s.state} /> {s.error}
              </li>
            ))}
          </ul>
        </>
      )}
      <div className="row">
        <div className="grow">
          <h3>Input</h3>
          <JsonView value={run.input} label="Run input" />
        </div>
        <div className="grow">
          <h3>Output</h3>
          <JsonView value={run.output} label="Run output" />
        </div>
      </div>
    </section>
  );
}
