// The enable form's fields, where they start (the stored configuration of an
// enabled plugin, the defaults otherwise) and the `POST …/enable` body they make.

import type { CanaryPolicy, EnableRequest, EnabledConfig, Grants, ShownGrants } from '../../api/types';

export interface EnableFields {
  version: string;
  access: 'public' | 'api-key';
  outboundHosts: string;
  keyValueStores: string;
  variables: string;
  model: boolean;
  ocr: boolean;
  sites: string;
  memoryMib: string;
  timeoutMs: string;
  maxConcurrency: string;
  toolPrefix: string;
  useToolPrefix: boolean;
  circuitFailures: string;
  circuitOpenMs: string;
  canaryVersion: string;
  canaryWeight: string;
  canaryMaxErrorRate: string;
  canaryMinCalls: string;
}

/** The server's defaults (host/runtime/src/limits.rs, host/server/src/health.rs). */
export function defaultFields(version: string): EnableFields {
  return {
    version,
    access: 'public',
    outboundHosts: '',
    keyValueStores: '',
    variables: '',
    model: false,
    ocr: false,
    sites: '',
    memoryMib: '128',
    timeoutMs: '30000',
    maxConcurrency: '64',
    toolPrefix: '',
    useToolPrefix: false,
    circuitFailures: '5',
    circuitOpenMs: '30000',
    canaryVersion: '',
    canaryWeight: '10',
    canaryMaxErrorRate: '0.1',
    canaryMinCalls: '20',
  };
}

/** The form's fields showing a stored configuration. */
export function fieldsFrom(stored: EnableRequest): EnableFields {
  const { grants, limits, circuit, canary } = stored;
  return {
    ...defaultFields(stored.version),
    access: stored.access,
    outboundHosts: grants.allowed_outbound_hosts.join('\n'),
    keyValueStores: grants.key_value_stores.join('\n'),
    variables: Object.entries(grants.variables)
      .map(([name, value]) => `${name}=${value}`)
      .join('\n'),
    model: grants.model,
    ocr: grants.ocr,
    sites: grants.sites.join('\n'),
    memoryMib: String(limits.memory_mib),
    timeoutMs: String(limits.timeout_ms),
    maxConcurrency: String(limits.max_concurrency),
    toolPrefix: stored.tool_prefix ?? '',
    useToolPrefix: stored.tool_prefix !== undefined,
    circuitFailures: String(circuit.failures),
    circuitOpenMs: String(circuit.open_ms),
    ...(canary && canaryFields(canary)),
  };
}

function canaryFields(canary: CanaryPolicy): Partial<EnableFields> {
  return {
    canaryVersion: canary.version,
    canaryWeight: String(canary.weight),
    canaryMaxErrorRate: String(canary.max_error_rate),
    canaryMinCalls: String(canary.min_calls),
  };
}

/** An enabled plugin's configuration as a request; throws when variable values are hidden from the caller. */
export function storedRequest(enabled: EnabledConfig): EnableRequest {
  const { grants, canary, ...rest } = enabled;
  const request: EnableRequest = { ...rest, grants: revealed(grants) };
  if (canary) {
    const { grants: canaryGrants, ...policy } = canary;
    request.canary = canaryGrants ? { ...policy, grants: revealed(canaryGrants) } : policy;
  }
  return request;
}

function revealed(grants: ShownGrants): Grants {
  const variables: Record<string, string> = {};
  for (const [name, value] of Object.entries(grants.variables)) {
    if (value === null) throw new Error(`the value of variable \`${name}\` is hidden from your role`);
    variables[name] = value;
  }
  return { ...grants, variables };
}

const lines = (text: string) =>
  text
    .split(/[\n,]/)
    .map((l) => l.trim())
    .filter(Boolean);

/** `name=value` lines as an object; throws naming a line without `=`. */
export function parseVariables(text: string): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf('=');
    if (at <= 0) throw new Error(`variable line \`${line}\` needs the form name=value`);
    variables[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return variables;
}

/**
 * The request: the stored configuration (when the plugin is enabled) overlaid
 * with the form's values, so what the form does not show (a canary's own
 * grants, fields the server adds later) is kept.
 */
export function toRequest(f: EnableFields, stored: EnableRequest | null): EnableRequest {
  const request: EnableRequest = {
    ...stored,
    version: f.version,
    access: f.access,
    grants: {
      ...stored?.grants,
      allowed_outbound_hosts: lines(f.outboundHosts),
      key_value_stores: lines(f.keyValueStores),
      variables: parseVariables(f.variables),
      model: f.model,
      ocr: f.ocr,
      sites: lines(f.sites),
    },
    limits: {
      ...stored?.limits,
      memory_mib: Number(f.memoryMib),
      timeout_ms: Number(f.timeoutMs),
      max_concurrency: Number(f.maxConcurrency),
    },
    circuit: { ...stored?.circuit, failures: Number(f.circuitFailures), open_ms: Number(f.circuitOpenMs) },
  };
  // Whether these are present is the form's choice.
  delete request.tool_prefix;
  delete request.canary;
  if (f.useToolPrefix) request.tool_prefix = f.toolPrefix;
  if (f.canaryVersion) {
    request.canary = {
      ...stored?.canary,
      version: f.canaryVersion,
      weight: Number(f.canaryWeight),
      max_error_rate: Number(f.canaryMaxErrorRate),
      min_calls: Number(f.canaryMinCalls),
    };
  }
  return request;
}
