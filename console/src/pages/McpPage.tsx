// The tenant's MCP endpoint: its URL and access setting, its tools with
// their schemas (a real `initialize` + `tools/list`), and a tool-call playground.

import { useEffect, useState, type FormEvent } from 'react';
import { api, get, messageOf, tenantPath } from '../api/client';
import { McpClient, type Tool, type ToolResult } from '../api/mcp';
import { useLoad } from '../components/useLoad';
import { Empty, ErrorText, JsonView, Loading, Notice, PageHeader } from '../components/ui';
import { useTenant } from '../session/SessionContext';
import { Select } from '../components/Select';

interface McpSettings {
  endpoint: string;
  access: 'api-key' | 'public';
}

function AccessSetting({ settings, onChanged }: { settings: McpSettings; onChanged: () => void }) {
  const { tenant, can } = useTenant();
  const [error, setError] = useState<string | null>(null);

  async function change(access: string) {
    setError(null);
    try {
      await api('PUT', tenantPath(tenant, '/mcp'), { json: { access } });
      onChanged();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <>
      <Select
        label="Who may use the endpoint"
        value={settings.access}
        disabled={!can('tenant.manage')}
        onChange={(access) => void change(access)}
        options={[
          { value: 'api-key', text: 'API keys and signed-in members with mcp.call' },
          { value: 'public', text: 'anyone (public)' },
        ]}
      />
      {!can('tenant.manage') && <p className="hint">Your role may not change the endpoint’s access.</p>}
      <ErrorText>{error}</ErrorText>
    </>
  );
}

/** A starting argument object: each required property with an empty value of its type. */
function exampleArguments(schema: unknown): Record<string, unknown> {
  const s = schema as { properties?: Record<string, { type?: string }>; required?: string[] } | undefined;
  const example: Record<string, unknown> = {};
  for (const name of s?.required ?? []) {
    const type = s?.properties?.[name]?.type;
    example[name] =
      type === 'number' || type === 'integer' ? 0 : type === 'boolean' ? false : type === 'array' ? [] : type === 'object' ? {} : '';
  }
  return example;
}

function Playground({ client, tools }: { client: McpClient; tools: Tool[] }) {
  const [name, setName] = useState(tools[0]?.name ?? '');
  const tool = tools.find((t) => t.name === name);
  const [args, setArgs] = useState(() => JSON.stringify(exampleArguments(tools[0]?.inputSchema), null, 2));
  const [result, setResult] = useState<ToolResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  function pick(next: string) {
    setName(next);
    setArgs(JSON.stringify(exampleArguments(tools.find((t) => t.name === next)?.inputSchema), null, 2));
    setResult(null);
  }

  async function call(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setResult(null);
    setBusy(true);
    try {
      setResult(await client.callTool(name, JSON.parse(args || '{}')));
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="playground-title">
      <h2 id="playground-title">Call a tool</h2>
      <form onSubmit={call}>
        <Select label="Tool" value={name} onChange={pick} options={tools.map((t) => t.name)} />
        {tool?.description && <p>{tool.description}</p>}
        <label>
          Arguments (JSON)
          <textarea rows={5} value={args} onChange={(e) => setArgs(e.target.value)} spellCheck={false} />
        </label>
        <button type="submit" disabled={busy || !name}>
          {busy ? 'Calling…' : 'Call tool'}
        </button>
      </form>
      <ErrorText>{error}</ErrorText>
      {result && (
        <div data-testid="tool-result">
          <p>{result.isError ? 'The tool reported an error:' : 'Result:'}</p>
          {result.content?.map((c, i) =>
            c.type === 'text' ? (
              <pre key={i} className="json">
                {c.text}
              </pre>
            ) : (
              <JsonView key={i} value={c} label={`Content ${i + 1}`} />
            ),
          )}
          {result.structuredContent !== undefined && <JsonView value={result.structuredContent} label="Structured content" />}
        </div>
      )}
    </section>
  );
}

function ToolsView({ endpoint }: { endpoint: string }) {
  const [apiKey, setApiKey] = useState('');
  const [usedKey, setUsedKey] = useState<string | undefined>(undefined);
  const [client, setClient] = useState<McpClient | null>(null);
  const [server, setServer] = useState<string | null>(null);
  const tools = useLoad(async () => {
    const next = new McpClient(endpoint, usedKey);
    const info = await next.initialize();
    const list = await next.listTools();
    setClient(next);
    setServer(`${info.serverInfo.title ?? info.serverInfo.name} ${info.serverInfo.version}, protocol ${info.protocolVersion}`);
    return list;
  }, [endpoint, usedKey]);

  useEffect(() => () => void client?.close().catch(() => {}), [client]);

  return (
    <>
      <form
        className="card inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setUsedKey(apiKey || undefined);
        }}
      >
        <label>
          API key (optional; your session’s token is used otherwise)
          <input type="password" value={apiKey} autoComplete="off" onChange={(e) => setApiKey(e.target.value)} />
        </label>
        <button type="submit" className="secondary">
          Connect
        </button>
      </form>
      <ErrorText>{tools.error}</ErrorText>
      {tools.loading && <Loading what="tools" />}
      <Notice>{server && `Connected: ${server}`}</Notice>
      {tools.data && tools.data.length === 0 && <Empty>No tools: enable an MCP tool-server plugin first.</Empty>}
      {tools.data && tools.data.length > 0 && (
        <>
          <section aria-labelledby="tools-title">
            <h2 id="tools-title">Tools ({tools.data.length})</h2>
            {tools.data.map((t) => (
              <details key={t.name} className="card tool">
                <summary>
                  <code>{t.name}</code> {t.title ?? ''}
                </summary>
                {t.description && <p>{t.description}</p>}
                <JsonView value={t.inputSchema} label={`Input schema of ${t.name}`} />
                {t.outputSchema !== undefined && <JsonView value={t.outputSchema} label={`Output schema of ${t.name}`} />}
              </details>
            ))}
          </section>
          {client && <Playground key={usedKey ?? 'session'} client={client} tools={tools.data} />}
        </>
      )}
    </>
  );
}

export function McpPage() {
  const { tenant, can } = useTenant();
  const settings = useLoad(() => get<McpSettings>(tenantPath(tenant, '/mcp')), [tenant]);
  const url = settings.data ? `${window.location.origin}${settings.data.endpoint}` : '';

  return (
    <>
      <PageHeader title="MCP" />
      <ErrorText>{settings.error}</ErrorText>
      {settings.data && (
        <section className="card" aria-labelledby="endpoint-title">
          <h2 id="endpoint-title">Endpoint</h2>
          <p>
            <code data-testid="mcp-endpoint">{url}</code>
          </p>
          <AccessSetting settings={settings.data} onChanged={settings.reload} />
        </section>
      )}
      {settings.data &&
        (can('mcp.call') || settings.data.access === 'public' ? (
          <ToolsView endpoint={settings.data.endpoint} />
        ) : (
          <p className="hint">Your role may not call the MCP endpoint.</p>
        ))}
    </>
  );
}
