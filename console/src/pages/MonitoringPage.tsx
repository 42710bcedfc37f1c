// Monitoring: per-plugin requests, errors, latency and resource use from
// `/metrics` (this tenant's series) and the usage endpoint, and the recent
// audit log.

import { useEffect, useState } from 'react';
import { get, messageOf, tenantPath } from '../api/client';
import { recentAudit } from '../api/audit';
import { parsePrometheus, pluginMetrics, type PluginMetrics } from '../api/metrics';
import type { AuditEntry, Usage } from '../api/types';
import { BarChart } from '../components/BarChart';
import { useLoad } from '../components/useLoad';
import { Empty, ErrorText, PageHeader, formatTime, scrollable } from '../components/ui';
import { useTenant } from '../session/SessionContext';

const REFRESH_MS = 5000;
const BLUE = '#1f5fbf';
const RED = '#b3261e';
const GREEN = '#1b7f3b';

async function tenantMetrics(tenant: string): Promise<PluginMetrics[]> {
  const response = await fetch('/metrics');
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  return pluginMetrics(parsePrometheus(await response.text()), tenant);
}

function useRefreshing<T>(load: () => Promise<T>, deps: unknown[]): { data?: T; error: string | null } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const next = await load();
        if (!stopped) {
          setData(next);
          setError(null);
        }
      } catch (e) {
        if (!stopped) setError(messageOf(e));
      }
      if (!stopped) timer = setTimeout(tick, REFRESH_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, deps);
  return { data, error };
}

function FunctionCharts({ metrics }: { metrics: PluginMetrics[] }) {
  if (metrics.length === 0) return <Empty>No function requests recorded since the server started.</Empty>;
  const labels = metrics.map((m) => m.plugin);
  return (
    <div className="charts">
      <BarChart
        title="Function requests"
        labels={labels}
        series={[
          { label: 'requests', values: metrics.map((m) => m.requests), color: BLUE },
          { label: 'errors (5xx)', values: metrics.map((m) => m.errors), color: RED },
          { label: 'limit hits', values: metrics.map((m) => m.limitHits), color: GREEN },
        ]}
      />
      <BarChart
        title="Mean latency"
        unit="ms"
        labels={labels}
        series={[{ label: 'mean latency', values: metrics.map((m) => Number((m.meanLatencyMs ?? 0).toFixed(2))), color: BLUE }]}
      />
      <BarChart
        title="Peak memory of an instance"
        unit="MiB"
        labels={labels}
        series={[{ label: 'peak memory', values: metrics.map((m) => Number((m.peakMemoryBytes / 2 ** 20).toFixed(1))), color: GREEN }]}
      />
    </div>
  );
}

function UsageCharts({ usage }: { usage: Usage }) {
  if (usage.plugins.length === 0) return <Empty>No usage in {usage.period}.</Empty>;
  const labels = usage.plugins.map((p) => p.plugin);
  return (
    <div className="charts">
      <BarChart
        title={`Invocations in ${usage.period}`}
        labels={labels}
        series={[{ label: 'invocations', values: usage.plugins.map((p) => p.invocations), color: BLUE }]}
      />
      <BarChart
        title={`Call time in ${usage.period}`}
        unit="ms"
        labels={labels}
        series={[{ label: 'call time', values: usage.plugins.map((p) => Math.round(p.wall_micros / 1000)), color: GREEN }]}
      />
      <BarChart
        title={`Fuel in ${usage.period}`}
        labels={labels}
        series={[{ label: 'fuel', values: usage.plugins.map((p) => p.fuel), color: RED }]}
      />
    </div>
  );
}

function RecentAudit({ entries }: { entries: AuditEntry[] }) {
  if (entries.length === 0) return <Empty>Nothing in the last hour.</Empty>;
  return (
    <div {...scrollable('Recent audit entries')}>
      <table>
        <caption>Latest audit entries of the last hour</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Outcome</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.seq}>
              <td>{formatTime(e.at)}</td>
              <td>{e.actor}</td>
              <td>{e.action}</td>
              <td>{e.target}</td>
              <td>{e.outcome}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function MonitoringPage() {
  const { tenant, can } = useTenant();
  const metrics = useRefreshing(() => tenantMetrics(tenant), [tenant]);
  const usage = useLoad(
    () => (can('billing.read') ? get<Usage>(tenantPath(tenant, '/usage')) : Promise.resolve(null)),
    [tenant],
  );
  const audit = useLoad(() => (can('audit.read') ? recentAudit(tenant, 1, 20) : Promise.resolve(null)), [tenant]);

  return (
    <>
      <PageHeader title="Monitoring" />
      <section aria-labelledby="functions-title">
        <h2 id="functions-title">HTTP functions (live, every {REFRESH_MS / 1000} s)</h2>
        <ErrorText>{metrics.error}</ErrorText>
        {metrics.data && <FunctionCharts metrics={metrics.data} />}
      </section>
      {can('billing.read') && (
        <section aria-labelledby="usage-title">
          <h2 id="usage-title">Usage this month (every kind of call)</h2>
          <ErrorText>{usage.error}</ErrorText>
          {usage.data && <UsageCharts usage={usage.data} />}
        </section>
      )}
      {can('audit.read') && (
        <section aria-labelledby="recent-title">
          <h2 id="recent-title">Recent activity</h2>
          <ErrorText>{audit.error}</ErrorText>
          {audit.data && <RecentAudit entries={audit.data} />}
        </section>
      )}
    </>
  );
}
