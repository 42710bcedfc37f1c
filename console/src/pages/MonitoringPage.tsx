// Monitoring: per-plugin requests, errors, latency and resource use from the
// tenant's monitoring endpoint, the month's usage, and each plugin's recent
// log lines (what it printed and its failed calls), refreshed every few seconds.

import { useEffect, useState } from 'react';
import { get, messageOf, tenantPath } from '../api/client';
import { monitoring, pluginLogs, total, type LogLine, type LogStream, type PluginFigures } from '../api/monitoring';
import type { Usage } from '../api/types';
import { BarChart, type Series } from '../components/BarChart';
import { Select } from '../components/Select';
import { useLoad } from '../components/useLoad';
import { Empty, ErrorText, PageHeader, formatTime, scrollable } from '../components/ui';
import { useTenant } from '../session/SessionContext';

const REFRESH_MS = 5000;
const LOG_LINES = 200;
const BLUE = '#1f5fbf';
const RED = '#b3261e';
const GREEN = '#1b7f3b';
const AMBER = '#8a5a00';
const GREY = '#5f6368';
const PALETTE = [RED, AMBER, BLUE, GREEN, GREY, '#6a3fb5', '#00796b'];

/** Calls `load` now and every REFRESH_MS while `running`; the latest answer or error. */
function useRefreshing<T>(load: () => Promise<T>, deps: unknown[], running = true): { data?: T; error: string | null } {
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
      if (!stopped && running) timer = setTimeout(tick, REFRESH_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [...deps, running]);
  return { data, error };
}

const ms = (seconds: number | null) => Number(((seconds ?? 0) * 1000).toFixed(2));

/** One series per error code, over the plugins. */
function errorSeries(plugins: PluginFigures[]): Series[] {
  const codes = [...new Set(plugins.flatMap((p) => Object.keys(p.errors)))].sort();
  return codes.map((code, i) => ({
    label: code,
    values: plugins.map((p) => p.errors[code] ?? 0),
    color: PALETTE[i % PALETTE.length] ?? RED,
  }));
}

function FunctionCharts({ plugins: functions }: { plugins: PluginFigures[] }) {
  if (functions.length === 0) return <Empty>No plugin is enabled or has been called on this server.</Empty>;
  const labels = functions.map((p) => p.plugin);
  const errors = errorSeries(functions);
  return (
    <div className="charts">
      <BarChart
        title="Requests by status"
        labels={labels}
        series={[
          { label: '2xx', values: functions.map((p) => p.requests['2xx']), color: GREEN },
          { label: '3xx', values: functions.map((p) => p.requests['3xx']), color: GREY },
          { label: '4xx', values: functions.map((p) => p.requests['4xx']), color: AMBER },
          { label: '5xx', values: functions.map((p) => p.requests['5xx']), color: RED },
        ]}
      />
      <BarChart
        title="Errors by code"
        labels={labels}
        series={errors.length > 0 ? errors : [{ label: 'errors', values: functions.map(() => 0), color: RED }]}
      />
      <BarChart
        title="Latency percentiles"
        unit="ms"
        labels={labels}
        series={[
          { label: 'p50', values: functions.map((p) => ms(p.latency.p50_seconds)), color: GREEN },
          { label: 'p95', values: functions.map((p) => ms(p.latency.p95_seconds)), color: AMBER },
          { label: 'p99', values: functions.map((p) => ms(p.latency.p99_seconds)), color: RED },
        ]}
      />
      <BarChart
        title="In flight and concurrency limit"
        labels={labels}
        series={[
          { label: 'in flight', values: functions.map((p) => p.in_flight), color: BLUE },
          { label: 'limit', values: functions.map((p) => p.concurrency_limit ?? 0), color: GREY },
        ]}
      />
      <BarChart
        title="Peak memory of an instance"
        unit="MiB"
        labels={labels}
        series={[{ label: 'peak memory', values: functions.map((p) => Number((p.peak_memory_bytes / 2 ** 20).toFixed(1))), color: GREEN }]}
      />
      <BarChart
        title="Fuel"
        unit="millions"
        labels={labels}
        series={[{ label: 'fuel', values: functions.map((p) => Number((p.fuel / 1e6).toFixed(2))), color: BLUE }]}
      />
    </div>
  );
}

function StepCharts({ plugins }: { plugins: PluginFigures[] }) {
  const steps = plugins.filter((p) => total(p.steps) > 0);
  if (steps.length === 0) return null;
  const labels = steps.map((p) => p.plugin);
  return (
    <div className="charts">
      <BarChart
        title="Workflow step attempts"
        labels={labels}
        series={[
          { label: 'ok', values: steps.map((p) => p.steps.ok ?? 0), color: GREEN },
          { label: 'failed', values: steps.map((p) => total(p.steps) - (p.steps.ok ?? 0)), color: RED },
        ]}
      />
      <BarChart
        title="Step duration percentiles"
        unit="ms"
        labels={labels}
        series={[
          { label: 'p50', values: steps.map((p) => ms(p.step_latency.p50_seconds)), color: GREEN },
          { label: 'p95', values: steps.map((p) => ms(p.step_latency.p95_seconds)), color: AMBER },
        ]}
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

const STREAMS: { value: '' | LogStream; text: string }[] = [
  { value: '', text: 'All' },
  { value: 'stdout', text: 'Standard output' },
  { value: 'stderr', text: 'Standard error' },
  { value: 'host', text: 'Failed calls' },
];

function LogTable({ plugin, lines }: { plugin: string; lines: LogLine[] }) {
  if (lines.length === 0) return <Empty>No lines from {plugin} on this server yet.</Empty>;
  return (
    <div {...scrollable(`Log lines of ${plugin}`)}>
      <table className="log-table" data-testid="log-table">
        <caption>Recent log lines of {plugin}, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Stream</th>
            <th scope="col">Version</th>
            <th scope="col">Message</th>
          </tr>
        </thead>
        <tbody>
          {[...lines].reverse().map((line, i) => (
            <tr key={`${line.at}-${i}`} className={line.level === 'error' ? 'level-error' : undefined}>
              <td>{formatTime(line.at)}</td>
              <td>{line.stream}</td>
              <td>{line.version}</td>
              <td>
                <code className="log-message">{line.message}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RecentLogs({ tenant, plugins }: { tenant: string; plugins: string[] }) {
  const [chosen, setChosen] = useState('');
  const [stream, setStream] = useState<'' | LogStream>('');
  const [live, setLive] = useState(true);
  const plugin = plugins.includes(chosen) ? chosen : (plugins[0] ?? '');
  const logs = useRefreshing(
    () => (plugin ? pluginLogs(tenant, plugin, LOG_LINES, stream || undefined) : Promise.resolve([])),
    [tenant, plugin, stream],
    live,
  );
  if (plugins.length === 0) return <Empty>No plugins yet.</Empty>;
  return (
    <>
      <div className="row">
        <Select label="Plugin" value={plugin} onChange={setChosen} options={plugins} />
        <Select label="Stream" value={stream} onChange={(v) => setStream(v as '' | LogStream)} options={STREAMS} />
      </div>
      <label className="check">
        <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} />
        Refresh every {REFRESH_MS / 1000} s
      </label>
      <ErrorText>{logs.error}</ErrorText>
      {logs.data && <LogTable plugin={plugin} lines={logs.data} />}
    </>
  );
}

export function MonitoringPage() {
  const { tenant, can } = useTenant();
  const report = useRefreshing(() => monitoring(tenant), [tenant]);
  const usage = useLoad(
    () => (can('billing.read') ? get<Usage>(tenantPath(tenant, '/usage')) : Promise.resolve(null)),
    [tenant],
  );
  const plugins = report.data?.plugins ?? [];

  return (
    <>
      <PageHeader title="Monitoring" />
      <p className="hint">Figures and logs of this server since it started; every server of a cluster keeps its own.</p>
      <section aria-labelledby="functions-title">
        <h2 id="functions-title">Plugins (live, every {REFRESH_MS / 1000} s)</h2>
        <ErrorText>{report.error}</ErrorText>
        {report.data && <FunctionCharts plugins={plugins} />}
        {report.data && <StepCharts plugins={plugins} />}
      </section>
      <section aria-labelledby="logs-title">
        <h2 id="logs-title">Recent logs</h2>
        {report.data && <RecentLogs tenant={tenant} plugins={plugins.map((p) => p.plugin)} />}
      </section>
      {can('billing.read') && (
        <section aria-labelledby="usage-title">
          <h2 id="usage-title">Usage this month (every kind of call)</h2>
          <ErrorText>{usage.error}</ErrorText>
          {usage.data && <UsageCharts usage={usage.data} />}
        </section>
      )}
    </>
  );
}
