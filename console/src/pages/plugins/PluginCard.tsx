// One plugin: its versions, the enabled one with health, canary and last
// rollback, and the enable/disable controls the caller's permissions allow.

import { useState } from 'react';
import { api, messageOf, tenantPath } from '../../api/client';
import type { Plugin } from '../../api/types';
import { KIND_LABEL, kindOfWorld } from '../../api/worlds';
import { ErrorText, Notice, StateBadge, formatBytes, formatTime, scrollable } from '../../components/ui';
import { useTenant } from '../../session/SessionContext';
import { EnableForm } from './EnableForm';

function PluginStatusView({ plugin }: { plugin: Plugin }) {
  const status = plugin.status;
  if (!status) return null;
  return (
    <dl className="facts">
      <dt>Circuit</dt>
      <dd>
        <StateBadge state={status.health.state} />
        {status.health.consecutive_failures !== undefined && ` ${status.health.consecutive_failures} consecutive failures`}
        {status.health.retry_in_ms !== undefined && `, retry in ${status.health.retry_in_ms} ms`}
      </dd>
      {status.canary && (
        <>
          <dt>Canary</dt>
          <dd>
            {status.canary.version} at {status.canary.weight}% — {status.canary.stats.calls} calls, {status.canary.stats.errors}{' '}
            errors
          </dd>
        </>
      )}
      {status.last_rollback && (
        <>
          <dt>Last rollback</dt>
          <dd>
            {status.last_rollback.version}: {status.last_rollback.reason} ({new Date(status.last_rollback.at * 1000).toLocaleString()})
          </dd>
        </>
      )}
    </dl>
  );
}

export function PluginCard({ plugin, onChanged }: { plugin: Plugin; onChanged: () => void }) {
  const { tenant, can } = useTenant();
  const [editing, setEditing] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const mayEnable = can('plugin.enable');
  const newest = plugin.versions[plugin.versions.length - 1];
  const kind = newest ? KIND_LABEL[kindOfWorld(newest.world)] : '';

  async function disable() {
    setError(null);
    try {
      await api('POST', tenantPath(tenant, `/plugins/${encodeURIComponent(plugin.name)}/disable`));
      setMessage(`Disabled ${plugin.name}.`);
      onChanged();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <article className="card plugin" aria-labelledby={`plugin-${plugin.name}`}>
      <header className="plugin-header">
        <h2 id={`plugin-${plugin.name}`}>{plugin.name}</h2>
        <span className="kind">{kind}</span>
        {plugin.enabled_version ? (
          <StateBadge state="enabled" />
        ) : (
          <StateBadge state="disabled" />
        )}
      </header>
      {plugin.enabled_version && (
        <p>
          Serving <strong>{plugin.enabled_version}</strong>
          {plugin.fuel_consumed !== null && ` — ${plugin.fuel_consumed.toLocaleString()} fuel consumed`}
        </p>
      )}
      <PluginStatusView plugin={plugin} />
      <div {...scrollable(`Versions of ${plugin.name}`)}>
        <table>
          <caption>Versions of {plugin.name}</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">World</th>
              <th scope="col">Size</th>
              <th scope="col">Uploaded</th>
              <th scope="col">SHA-256</th>
            </tr>
          </thead>
          <tbody>
            {plugin.versions.map((v) => (
              <tr key={v.version}>
                <td>{v.version}</td>
                <td>{v.world}</td>
                <td>{formatBytes(v.size)}</td>
                <td>{formatTime(v.created_at)}</td>
                <td>
                  <code title={v.sha256}>{v.sha256.slice(0, 12)}…</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Notice>{message}</Notice>
      <ErrorText>{error}</ErrorText>
      {editing ? (
        <EnableForm
          tenant={tenant}
          plugin={plugin}
          onCancel={() => setEditing(false)}
          onDone={(done) => {
            setEditing(false);
            setMessage(done);
            onChanged();
          }}
        />
      ) : (
        <div className="actions">
          <button type="button" disabled={!mayEnable} onClick={() => setEditing(true)}>
            {plugin.enabled_version ? `Change ${plugin.name}` : `Enable ${plugin.name}`}
          </button>
          {plugin.enabled_version && (
            <button type="button" className="secondary" disabled={!mayEnable} onClick={disable}>
              Disable {plugin.name}
            </button>
          )}
          {!mayEnable && <span className="hint">Your role may not enable or disable plugins.</span>}
        </div>
      )}
    </article>
  );
}
