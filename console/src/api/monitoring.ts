// A tenant's monitoring figures and its plugins' recent log lines
// (`/monitoring` and `/plugins/{name}/logs`; this server node's).

import { get, tenantPath } from './client';

export interface Latency {
  count: number;
  sum_seconds: number;
  p50_seconds: number | null;
  p95_seconds: number | null;
  p99_seconds: number | null;
  buckets: { le: number; count: number }[];
}

export interface PluginFigures {
  plugin: string;
  version: string | null;
  requests: { '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  errors: Record<string, number>;
  limit_hits: Record<string, number>;
  latency: Latency;
  in_flight: number;
  concurrency_limit: number | null;
  fuel: number;
  peak_memory_bytes: number;
  steps: Record<string, number>;
  step_latency: Latency;
}

export interface MonitoringReport {
  tenant: string;
  plugins: PluginFigures[];
}

export type LogStream = 'stdout' | 'stderr' | 'host';

export interface LogLine {
  at: string;
  version: string;
  stream: LogStream;
  level: 'info' | 'error';
  message: string;
  trace_id: string | null;
}

export function monitoring(tenant: string): Promise<MonitoringReport> {
  return get<MonitoringReport>(tenantPath(tenant, '/monitoring'));
}

/** The newest `limit` lines of `plugin` (of one stream if given), oldest first. */
export async function pluginLogs(tenant: string, plugin: string, limit: number, stream?: LogStream): Promise<LogLine[]> {
  const params = new URLSearchParams({ limit: String(limit) });
  if (stream) params.set('stream', stream);
  const path = tenantPath(tenant, `/plugins/${encodeURIComponent(plugin)}/logs?${params}`);
  return (await get<{ plugin: string; entries: LogLine[] }>(path)).entries;
}

/** The sum of a map of counts. */
export function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}
