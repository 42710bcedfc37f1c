// Laying out a workflow's steps as levels: a step sits one level below the
// deepest step it needs.

import type { StepDefinition } from '../../api/types';

export function levels(steps: StepDefinition[]): StepDefinition[][] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const depth = new Map<string, number>();
  const depthOf = (step: StepDefinition, seen: Set<string>): number => {
    const known = depth.get(step.id);
    if (known !== undefined) return known;
    if (seen.has(step.id)) return 0; // a cycle cannot be saved; guard anyway
    seen.add(step.id);
    const needs = (step.needs ?? []).map((n) => byId.get(n)).filter((s): s is StepDefinition => s !== undefined);
    const d = needs.length === 0 ? 0 : Math.max(...needs.map((n) => depthOf(n, seen))) + 1;
    depth.set(step.id, d);
    return d;
  };
  const rows: StepDefinition[][] = [];
  for (const step of steps) {
    const d = depthOf(step, new Set());
    (rows[d] ??= []).push(step);
  }
  return rows.filter(Boolean);
}

export function actionOf(step: StepDefinition): string {
  if (step.component) return `component ${step.component.plugin}`;
  if (step.tool) return `tool ${step.tool.plugin}/${step.tool.name}`;
  if (step.workflow) return `workflow ${step.workflow.name}`;
  if (step.wait) return `wait ${step.wait.seconds} s`;
  if (step.approval) return 'approval';
  return 'step';
}

/** What the step is given, as written in the definition (before `${…}` are resolved). */
export function inputOf(step: StepDefinition): unknown {
  return step.component?.input ?? step.tool?.arguments ?? step.workflow?.input ?? step.approval ?? step.wait ?? null;
}

export const ENDED_RUN_STATES = ['succeeded', 'failed', 'cancelled'];
