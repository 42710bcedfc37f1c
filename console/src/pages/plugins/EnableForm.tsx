// Enabling a plugin version with grants, limits, circuit breaker and canary;
// changing an enabled plugin starts from what it is enabled with.

import { useState, type FormEvent, type ReactNode } from 'react';
import { api, messageOf, tenantPath } from '../../api/client';
import type { EnableRequest, Plugin } from '../../api/types';
import { ErrorText } from '../../components/ui';
import { kindOfWorld } from '../../api/worlds';
import { defaultFields, fieldsFrom, storedRequest, toRequest, type EnableFields } from './enableRequest';
import { Select } from '../../components/Select';

interface Props {
  tenant: string;
  plugin: Plugin;
  onDone: (message: string) => void;
  onCancel: () => void;
}

/** The stored configuration of an enabled plugin (null when it is not), or why it cannot be used. */
function storedOf(plugin: Plugin): { request: EnableRequest | null } | { problem: string } {
  try {
    return { request: plugin.enabled && storedRequest(plugin.enabled) };
  } catch (e) {
    return { problem: messageOf(e) };
  }
}

/** The form, starting from what the plugin is enabled with, or from the defaults. */
export function EnableForm(props: Props) {
  const [start] = useState(() => storedOf(props.plugin));
  if ('problem' in start) {
    return (
      <div className="actions">
        <ErrorText>Cannot change {props.plugin.name}: {start.problem}.</ErrorText>
        <button type="button" className="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    );
  }
  return <EnableFormFields {...props} stored={start.request} />;
}

function EnableFormFields({ tenant, plugin, onDone, onCancel, stored }: Props & { stored: EnableRequest | null }) {
  const newest = plugin.versions[plugin.versions.length - 1]?.version ?? '';
  const [fields, setFields] = useState<EnableFields>(() => (stored ? fieldsFrom(stored) : defaultFields(newest)));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const isToolServer = plugin.versions.some((v) => v.version === fields.version && kindOfWorld(v.world) === 'tools');
  const id = (field: string) => `${plugin.name}-${field}`;

  const set = <K extends keyof EnableFields>(key: K, value: EnableFields[K]) =>
    setFields((f) => ({ ...f, [key]: value }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = toRequest(fields, stored);
      await api('POST', tenantPath(tenant, `/plugins/${encodeURIComponent(plugin.name)}/enable`), { json: body });
      onDone(`Enabled ${plugin.name} ${body.version}.`);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  }

  const text = (key: keyof EnableFields, label: string, extra: Record<string, unknown> = {}): ReactNode => (
    <label htmlFor={id(key)}>
      {label}
      <input id={id(key)} value={String(fields[key])} onChange={(e) => set(key, e.target.value as never)} {...extra} />
    </label>
  );

  return (
    <form className="enable-form" onSubmit={submit} aria-label={`Enable ${plugin.name}`}>
      <fieldset>
        <legend>Version and access</legend>
        <Select
          label="Version"
          value={fields.version}
          onChange={(v) => set('version', v)}
          options={plugin.versions.map((v) => v.version)}
        />
        <Select
          label="Who may call it"
          value={fields.access}
          onChange={(v) => set('access', v as EnableFields['access'])}
          options={[
            { value: 'public', text: 'anyone (public)' },
            { value: 'api-key', text: 'callers with a key of the tenant' },
          ]}
        />
      </fieldset>
      <fieldset>
        <legend>Grants</legend>
        <label htmlFor={id('outbound')}>
          Outbound hosts (one per line, e.g. https://api.example.com)
          <textarea id={id('outbound')} rows={2} value={fields.outboundHosts} onChange={(e) => set('outboundHosts', e.target.value)} />
        </label>
        <label htmlFor={id('kv')}>
          Key-value stores (one per line, e.g. default)
          <textarea id={id('kv')} rows={2} value={fields.keyValueStores} onChange={(e) => set('keyValueStores', e.target.value)} />
        </label>
        <label htmlFor={id('vars')}>
          Variables (name=value, one per line)
          <textarea id={id('vars')} rows={2} value={fields.variables} onChange={(e) => set('variables', e.target.value)} />
        </label>
        <label className="check">
          <input type="checkbox" checked={fields.model} onChange={(e) => set('model', e.target.checked)} />
          Chat model (the tenant’s model provider, or the built-in model)
        </label>
        <label className="check">
          <input type="checkbox" checked={fields.ocr} onChange={(e) => set('ocr', e.target.checked)} />
          Text recognition in images (OCR)
        </label>
        <label htmlFor={id('sites')}>
          Sites it may publish (one per line, e.g. docs)
          <textarea id={id('sites')} rows={2} value={fields.sites} onChange={(e) => set('sites', e.target.value)} />
        </label>
      </fieldset>
      <fieldset>
        <legend>Limits</legend>
        <div className="row">
          {text('memoryMib', 'Memory per instance (MiB)', { type: 'number', min: 1, max: 4096 })}
          {text('timeoutMs', 'Timeout (ms)', { type: 'number', min: 1, max: 3600000 })}
          {text('maxConcurrency', 'Concurrent requests', { type: 'number', min: 1, max: 10000 })}
        </div>
      </fieldset>
      {isToolServer && (
        <>
          <fieldset>
            <legend>MCP tools</legend>
            <label className="check">
              <input type="checkbox" checked={fields.useToolPrefix} onChange={(e) => set('useToolPrefix', e.target.checked)} />
              Set a tool prefix (otherwise the plugin name)
            </label>
            {fields.useToolPrefix && text('toolPrefix', 'Tool prefix (empty keeps the component’s names)')}
            <div className="row">
              {text('circuitFailures', 'Circuit: failures that open it', { type: 'number', min: 1 })}
              {text('circuitOpenMs', 'Circuit: open for (ms)', { type: 'number', min: 1 })}
            </div>
          </fieldset>
          <fieldset>
            <legend>Canary</legend>
            <Select
              label="Canary version"
              value={fields.canaryVersion}
              onChange={(v) => set('canaryVersion', v)}
              options={[
                { value: '', text: 'none' },
                ...plugin.versions.filter((v) => v.version !== fields.version).map((v) => v.version),
              ]}
            />
            {fields.canaryVersion && (
              <div className="row">
                {text('canaryWeight', 'Weight (% of calls)', { type: 'number', min: 1, max: 99 })}
                {text('canaryMaxErrorRate', 'Roll back past error rate (0–1)', { type: 'number', min: 0, max: 1, step: 0.01 })}
                {text('canaryMinCalls', 'Minimum calls before judging', { type: 'number', min: 1 })}
              </div>
            )}
          </fieldset>
        </>
      )}
      <ErrorText>{error}</ErrorText>
      <div className="actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Enabling…' : `Enable ${fields.version}`}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
