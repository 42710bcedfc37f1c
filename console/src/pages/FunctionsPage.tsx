// The tenant's HTTP functions (enabled `wasi:http` plugins, served under
// `/t/{tenant}/fn/{plugin}/…`) and a "try it" box that calls one.

import { useState, type FormEvent } from 'react';
import { get, messageOf, tenantPath } from '../api/client';
import { loadTokens } from '../api/tokens';
import type { Plugin } from '../api/types';
import { kindOfWorld } from '../api/worlds';
import { useLoad } from '../components/useLoad';
import { Empty, ErrorText, Loading, PageHeader, scrollable } from '../components/ui';
import { useTenant } from '../session/SessionContext';
import { Select } from '../components/Select';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

interface Answer {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: string;
  ms: number;
}

function functionBase(tenant: string, plugin: string): string {
  return `/t/${encodeURIComponent(tenant)}/fn/${encodeURIComponent(plugin)}`;
}

function parseHeaders(text: string): Headers {
  const headers = new Headers();
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf(':');
    if (at <= 0) throw new Error(`header line \`${line}\` needs the form Name: value`);
    headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  return headers;
}

function TryIt({ tenant, functions }: { tenant: string; functions: Plugin[] }) {
  const [plugin, setPlugin] = useState(functions[0]?.name ?? '');
  const [method, setMethod] = useState('GET');
  const [path, setPath] = useState('/');
  const [headerText, setHeaderText] = useState('');
  const [body, setBody] = useState('');
  const [withToken, setWithToken] = useState(false);
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const url = `${functionBase(tenant, plugin)}${path.startsWith('/') ? path : `/${path}`}`;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setAnswer(null);
    try {
      const headers = parseHeaders(headerText);
      const token = loadTokens()?.access;
      if (withToken && token) headers.set('authorization', `Bearer ${token}`);
      const started = performance.now();
      const hasBody = !['GET', 'HEAD'].includes(method) && body !== '';
      const response = await fetch(url, { method, headers, body: hasBody ? body : undefined });
      const text = await response.text();
      setAnswer({
        status: response.status,
        statusText: response.statusText,
        headers: [...response.headers.entries()],
        body: text,
        ms: Math.round(performance.now() - started),
      });
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="try-it-title">
      <h2 id="try-it-title">Try it</h2>
      <form onSubmit={submit}>
        <div className="row">
          <Select label="Function" value={plugin} onChange={setPlugin} options={functions.map((f) => f.name)} />
          <Select label="Method" value={method} onChange={setMethod} options={METHODS} />
          <label className="grow">
            Path after {functionBase(tenant, plugin)}
            <input value={path} onChange={(e) => setPath(e.target.value)} />
          </label>
        </div>
        <label>
          Request headers (Name: value, one per line)
          <textarea rows={2} value={headerText} onChange={(e) => setHeaderText(e.target.value)} />
        </label>
        <label>
          Request body
          <textarea rows={3} value={body} onChange={(e) => setBody(e.target.value)} />
        </label>
        <label className="check">
          <input type="checkbox" checked={withToken} onChange={(e) => setWithToken(e.target.checked)} />
          Send my access token (for functions enabled with API-key access)
        </label>
        <button type="submit" disabled={busy || !plugin}>
          {busy ? 'Sending…' : 'Send request'}
        </button>
      </form>
      <ErrorText>{error}</ErrorText>
      {answer && (
        <section aria-labelledby="answer-title" className="answer" data-testid="function-answer">
          <h3 id="answer-title">
            Response: <span data-testid="answer-status">{answer.status}</span> {answer.statusText} ({answer.ms} ms)
          </h3>
          <div {...scrollable('Response headers')}>
            <table>
              <caption>Response headers</caption>
              <tbody>
                {answer.headers.map(([name, value]) => (
                  <tr key={name}>
                    <th scope="row">{name}</th>
                    <td>{value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h4>Body</h4>
          <pre className="json" tabIndex={0} aria-label="Response body" data-testid="answer-body">
            {answer.body}
          </pre>
        </section>
      )}
    </section>
  );
}

export function FunctionsPage() {
  const { tenant } = useTenant();
  const plugins = useLoad(() => get<{ plugins: Plugin[] }>(tenantPath(tenant, '/plugins')), [tenant]);
  const functions = (plugins.data?.plugins ?? []).filter((p) => {
    const enabled = p.versions.find((v) => v.version === p.enabled_version);
    return enabled && kindOfWorld(enabled.world) === 'http';
  });

  return (
    <>
      <PageHeader title="Functions" />
      <ErrorText>{plugins.error}</ErrorText>
      {plugins.loading && !plugins.data && <Loading what="functions" />}
      {plugins.data && functions.length === 0 && <Empty>No HTTP function is enabled. Enable one on the Plugins page.</Empty>}
      {functions.length > 0 && (
        <>
          <div {...scrollable('Routes')}>
            <table>
              <caption>Routes</caption>
              <thead>
                <tr>
                  <th scope="col">Function</th>
                  <th scope="col">Version</th>
                  <th scope="col">Route</th>
                </tr>
              </thead>
              <tbody>
                {functions.map((f) => (
                  <tr key={f.name}>
                    <td>{f.name}</td>
                    <td>{f.enabled_version}</td>
                    <td>
                      <code>
                        {window.location.origin}
                        {functionBase(tenant, f.name)}/…
                      </code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <TryIt tenant={tenant} functions={functions} />
        </>
      )}
    </>
  );
}
