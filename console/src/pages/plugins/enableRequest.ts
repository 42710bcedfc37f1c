// The enable form's fields and the `POST …/enable` body they make.

import type { EnableRequest } from '../../api/types';

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

export function toRequest(f: EnableFields): EnableRequest {
  const request: EnableRequest = {
    version: f.version,
    access: f.access,
    grants: {
      allowed_outbound_hosts: lines(f.outboundHosts),
      key_value_stores: lines(f.keyValueStores),
      variables: parseVariables(f.variables),
      model: f.model,
      ocr: f.ocr,
      sites: lines(f.sites),
    },
    limits: {
      memory_mib: Number(f.memoryMib),
      timeout_ms: Number(f.timeoutMs),
      max_concurrency: Number(f.maxConcurrency),
    },
    circuit: { failures: Number(f.circuitFailures), open_ms: Number(f.circuitOpenMs) },
  };
  if (f.useToolPrefix) request.tool_prefix = f.toolPrefix;
  if (f.canaryVersion) {
    request.canary = {
      version: f.canaryVersion,
      weight: Number(f.canaryWeight),
      max_error_rate: Number(f.canaryMaxErrorRate),
      min_calls: Number(f.canaryMinCalls),
    };
  }
  return request;
}
