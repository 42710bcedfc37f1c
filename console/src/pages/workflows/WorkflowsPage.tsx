// Workflows: plan from a requirement, definitions (view, save, start a run)
// and runs (list, live view, retry).

import { useState, type FormEvent } from 'react';
import { api, get, messageOf, tenantPath } from '../../api/client';
import type { Run, Workflow, WorkflowSummary } from '../../api/types';
import { useLoad } from '../../components/useLoad';
import { Empty, ErrorText, JsonView, Loading, Notice, PageHeader, StateBadge, formatTime, scrollable } from '../../components/ui';
import { href, navigate, useRoute } from '../../router';
import { useTenant } from '../../session/SessionContext';
import { PlanBox } from './PlanBox';
import { RunView } from './RunView';

function SaveDefinition({ onSaved }: { onSaved: () => void }) {
  const { tenant } = useTenant();
  const [name, setName] = useState('');
  const [text, setText] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function save(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setMessage(null);
    try {
      const saved = await api<{ name: string; version: number }>('PUT', tenantPath(tenant, `/workflows/${encodeURIComponent(name)}`), {
        body: text,
        headers: { 'content-type': 'application/yaml' },
      });
      setMessage(`Saved ${saved.name} as version ${saved.version}.`);
      onSaved();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <details className="card">
      <summary>Save a definition (JSON or YAML)</summary>
      <form onSubmit={save}>
        <label>
          Workflow name
          <input value={name} required pattern="[a-z][a-z0-9\-]{0,62}" onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Definition
          <textarea rows={10} value={text} required spellCheck={false} onChange={(e) => setText(e.target.value)} />
        </label>
        <ErrorText>{error}</ErrorText>
        <Notice>{message}</Notice>
        <button type="submit">Save definition</button>
      </form>
    </details>
  );
}

function StartRun({ workflow }: { workflow: string }) {
  const { tenant } = useTenant();
  const [input, setInput] = useState('{}');
  const [error, setError] = useState<string | null>(null);

  async function start(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const parsed: unknown = JSON.parse(input || 'null');
      const run = await api<Run>('POST', tenantPath(tenant, `/workflows/${encodeURIComponent(workflow)}/runs`), {
        json: { input: parsed },
      });
      navigate(href(tenant, 'workflows', 'runs', run.id));
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <form onSubmit={start} className="inline-form">
      <label>
        Input of a new run of {workflow} (JSON)
        <textarea rows={2} value={input} spellCheck={false} onChange={(e) => setInput(e.target.value)} />
      </label>
      <button type="submit">Start run</button>
      <ErrorText>{error}</ErrorText>
    </form>
  );
}

function DefinitionView({ name }: { name: string }) {
  const { tenant, can } = useTenant();
  const workflow = useLoad(() => get<Workflow>(tenantPath(tenant, `/workflows/${encodeURIComponent(name)}`)), [tenant, name]);
  if (workflow.error) return <ErrorText>{workflow.error}</ErrorText>;
  if (!workflow.data) return <Loading what="the definition" />;
  return (
    <section className="card" aria-labelledby="definition-title">
      <h2 id="definition-title">
        {name}, version {workflow.data.version}
      </h2>
      <p>
        Saved by {workflow.data.created_by} on {formatTime(workflow.data.created_at)}
      </p>
      {can('workflow.run') ? <StartRun workflow={name} /> : <p className="hint">Your role may not start runs.</p>}
      <JsonView value={workflow.data.definition} label={`Definition of ${name}`} />
    </section>
  );
}

function RunsTable({ runs }: { runs: Run[] }) {
  const { tenant } = useTenant();
  if (runs.length === 0) return <Empty>No runs yet.</Empty>;
  return (
    <div {...scrollable('Runs')}>
      <table>
        <caption>Runs, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Workflow</th>
            <th scope="col">State</th>
            <th scope="col">Started</th>
            <th scope="col">By</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id}>
              <td>
                <a href={href(tenant, 'workflows', 'runs', r.id)}>{r.id}</a>
              </td>
              <td>
                {r.workflow} v{r.version}
              </td>
              <td>
                <StateBadge state={r.state} />
              </td>
              <td>{formatTime(r.created_at)}</td>
              <td>{r.started_by}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function WorkflowsPage() {
  const { tenant, can } = useTenant();
  const route = useRoute();
  const [kind, id] = route.rest;
  const workflows = useLoad(() => get<{ workflows: WorkflowSummary[] }>(tenantPath(tenant, '/workflows')), [tenant]);
  const runs = useLoad(() => get<{ runs: Run[] }>(tenantPath(tenant, '/runs?limit=50')), [tenant, kind, id]);

  return (
    <>
      <PageHeader title="Workflows" />
      {kind === 'runs' && id && <RunView key={id} runId={id} />}
      {kind === 'definitions' && id && <DefinitionView key={id} name={id} />}
      {can('workflow.run') && <PlanBox />}
      <section aria-labelledby="definitions-title">
        <h2 id="definitions-title">Definitions</h2>
        <ErrorText>{workflows.error}</ErrorText>
        {workflows.loading && !workflows.data && <Loading what="workflows" />}
        {workflows.data?.workflows.length === 0 && <Empty>No workflows saved yet.</Empty>}
        <ul className="card-list">
          {workflows.data?.workflows.map((w) => (
            <li key={w.name} className="card">
              <a href={href(tenant, 'workflows', 'definitions', w.name)}>
                <strong>{w.name}</strong>
              </a>{' '}
              v{w.version}, {w.steps} steps{w.description ? ` — ${w.description}` : ''}
            </li>
          ))}
        </ul>
        {can('workflow.write') && <SaveDefinition onSaved={workflows.reload} />}
      </section>
      <section aria-labelledby="runs-title">
        <h2 id="runs-title">Runs</h2>
        <button type="button" className="secondary" onClick={runs.reload}>
          Refresh runs
        </button>
        <ErrorText>{runs.error}</ErrorText>
        {runs.data && <RunsTable runs={runs.data.runs} />}
      </section>
    </>
  );
}
