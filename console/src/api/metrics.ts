// Reading the platform's Prometheus text (`GET /metrics`) for one tenant.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) {
      if (key !== undefined && value !== undefined) labels[key] = value.replace(/\\(.)/g, '$1');
    }
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

export interface PluginMetrics {
  plugin: string;
  requests: number;
  errors: number;
  /** Mean latency in milliseconds, when there were requests. */
  meanLatencyMs: number | null;
  inFlight: number;
  fuel: number;
  peakMemoryBytes: number;
  limitHits: number;
}

/** Per-plugin figures of `tenant` from the function metric families. */
export function pluginMetrics(samples: Sample[], tenant: string): PluginMetrics[] {
  const byPlugin = new Map<string, PluginMetrics & { latencySum: number; latencyCount: number }>();
  const entry = (plugin: string) => {
    let found = byPlugin.get(plugin);
    if (!found) {
      found = {
        plugin,
        requests: 0,
        errors: 0,
        meanLatencyMs: null,
        inFlight: 0,
        fuel: 0,
        peakMemoryBytes: 0,
        limitHits: 0,
        latencySum: 0,
        latencyCount: 0,
      };
      byPlugin.set(plugin, found);
    }
    return found;
  };
  for (const s of samples) {
    const plugin = s.labels.plugin;
    if (s.labels.tenant !== tenant || plugin === undefined) continue;
    const e = entry(plugin);
    switch (s.name) {
      case 'pa_function_requests_total':
        e.requests += s.value;
        if (Number(s.labels.status) >= 500) e.errors += s.value;
        break;
      case 'pa_function_request_duration_seconds_sum':
        e.latencySum += s.value;
        break;
      case 'pa_function_request_duration_seconds_count':
        e.latencyCount += s.value;
        break;
      case 'pa_function_requests_in_flight':
        e.inFlight = s.value;
        break;
      case 'pa_function_fuel_total':
        e.fuel = s.value;
        break;
      case 'pa_function_peak_memory_bytes':
        e.peakMemoryBytes = s.value;
        break;
      case 'pa_limit_hits_total':
        e.limitHits += s.value;
        break;
    }
  }
  return [...byPlugin.values()]
    .map(({ latencySum, latencyCount, ...rest }) => ({
      ...rest,
      meanLatencyMs: latencyCount > 0 ? (latencySum / latencyCount) * 1000 : null,
    }))
    .sort((a, b) => a.plugin.localeCompare(b.plugin));
}
