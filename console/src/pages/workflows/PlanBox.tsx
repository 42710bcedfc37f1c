// "Plan from a requirement": the orchestrator turns plain language into a
// template and parameters; starting it saves the template as the tenant's
// workflow and runs it (then the run is shown).

import { useState, type FormEvent } from 'react';
import { api, messageOf, tenantPath } from '../../api/client';
import type { Plan } from '../../api/types';
import { ErrorText, JsonView } from '../../components/ui';
import { href, navigate } from '../../router';
import { useTenant } from '../../session/SessionContext';

/** The optional extra input: empty, or a JSON object. */
function parseInput(text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('The extra input must be a JSON object, e.g. {"samples": []}.');
  }
  return parsed as Record<string, unknown>;
}

function PlanView({ plan }: { plan: Plan }) {
  return (
    <div className="plan" data-testid="plan">
      <h3>Plan</h3>
      <dl className="facts">
        <dt>Template</dt>
        <dd>
          <code>{plan.template}</code>
        </dd>
        <dt>Workflow</dt>
        <dd>{plan.workflow}</dd>
        <dt>Planner</dt>
        <dd>{plan.planner}</dd>
        <dt>What it does</dt>
        <dd>{plan.description}</dd>
        <dt>Why</dt>
        <dd>{plan.reasoning}</dd>
      </dl>
      <JsonView value={plan.parameters} label="Parameters of the plan" />
    </div>
  );
}

export function PlanBox() {
  const { tenant, can } = useTenant();
  const [requirement, setRequirement] = useState('');
  const [input, setInput] = useState('');
  const [plan, setPlan] = useState<Plan | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const mayStart = can('workflow.write');

  async function ask(start: boolean) {
    setError(null);
    setBusy(true);
    try {
      const answer = await api<Plan>('POST', tenantPath(tenant, '/orchestrator/plan'), {
        json: { requirement, start, input: parseInput(input) },
      });
      setPlan(answer);
      if (answer.run) navigate(href(tenant, 'workflows', 'runs', answer.run.id));
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    void ask(false);
  }

  return (
    <section className="card" aria-labelledby="plan-title">
      <h2 id="plan-title">Plan from a requirement</h2>
      <form onSubmit={submit}>
        <label>
          Requirement (what the product should do, in plain language)
          <textarea
            rows={3}
            value={requirement}
            required
            maxLength={10000}
            onChange={(e) => {
              setRequirement(e.target.value);
              setPlan(null);
            }}
          />
        </label>
        <label>
          Extra run input (optional JSON object merged over the plan’s parameters, e.g. samples)
          <textarea rows={3} value={input} spellCheck={false} onChange={(e) => setInput(e.target.value)} />
        </label>
        <ErrorText>{error}</ErrorText>
        <div className="actions">
          <button type="submit" disabled={busy}>
            Plan
          </button>
          {plan && (
            <button type="button" disabled={busy || !mayStart} onClick={() => void ask(true)}>
              Start this plan
            </button>
          )}
        </div>
        {plan && !mayStart && <p className="hint">Starting a plan saves a workflow: your role may not.</p>}
      </form>
      {plan && <PlanView plan={plan} />}
    </section>
  );
}
