// The tenant's chat model: the OpenAI-compatible provider plugins granted
// `model` are answered by, or the built-in model when none is set. The key
// is write-only: the API says only whether one is stored.

import { useState, type FormEvent } from 'react';
import { api, get, messageOf, tenantPath } from '../api/client';
import type { ModelProvider, ModelSetting } from '../api/types';
import { useLoad } from '../components/useLoad';
import { ErrorText, Loading, Notice, PageHeader, formatTime } from '../components/ui';
import { useTenant } from '../session/SessionContext';

/** The provider, or null when the built-in model answers (`configured: false`). */
async function loadProvider(tenant: string): Promise<ModelProvider | null> {
  const setting = await get<ModelSetting>(tenantPath(tenant, '/model-provider'));
  return setting.configured ? setting : null;
}

function CurrentProvider({ provider }: { provider: ModelProvider | null }) {
  if (!provider) {
    return (
      <p data-testid="model-current">
        <strong>Built-in model.</strong> Plugins granted the chat model get the platform’s deterministic, extractive
        model (the same messages always get the same answer).
      </p>
    );
  }
  return (
    <dl className="facts" data-testid="model-current">
      <dt>Base URL</dt>
      <dd>
        <code>{provider.base_url}</code>
      </dd>
      <dt>Model</dt>
      <dd>{provider.model}</dd>
      <dt>API key</dt>
      <dd>{provider.api_key_set ? 'key set' : 'no key'}</dd>
      <dt>Updated</dt>
      <dd>{formatTime(provider.updated_at)}</dd>
    </dl>
  );
}

function ProviderForm({ current, onSaved }: { current: ModelProvider | null; onSaved: (message: string) => void }) {
  const { tenant } = useTenant();
  const [baseUrl, setBaseUrl] = useState(current?.base_url ?? '');
  const [model, setModel] = useState(current?.model ?? '');
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const saved = await api<ModelProvider>('PUT', tenantPath(tenant, '/model-provider'), {
        json: key ? { base_url: baseUrl, model, api_key: key } : { base_url: baseUrl, model },
      });
      setKey('');
      onSaved(`Plugins now ask ${saved.model} at ${saved.base_url}.`);
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <form className="card" onSubmit={submit} aria-labelledby="provider-form-title">
      <h2 id="provider-form-title">Set the provider</h2>
      <p className="hint">Any OpenAI-compatible API (llama.cpp, Ollama, vLLM or a cloud API); /chat/completions is added.</p>
      <label>
        Base URL (e.g. http://127.0.0.1:8000/v1)
        <input type="url" value={baseUrl} required maxLength={2048} onChange={(e) => setBaseUrl(e.target.value)} />
      </label>
      <label>
        Model
        <input value={model} required maxLength={256} onChange={(e) => setModel(e.target.value)} />
      </label>
      <label>
        API key (never shown again; leave empty to keep the stored one)
        <input type="password" value={key} maxLength={4096} autoComplete="new-password" onChange={(e) => setKey(e.target.value)} />
      </label>
      <ErrorText>{error}</ErrorText>
      <button type="submit">Save provider</button>
    </form>
  );
}

export function ModelPage() {
  const { tenant, can } = useTenant();
  const provider = useLoad(() => loadProvider(tenant), [tenant]);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const mayManage = can('tenant.manage');

  async function remove() {
    setError(null);
    setMessage(null);
    try {
      await api('DELETE', tenantPath(tenant, '/model-provider'));
      setMessage('Removed the provider: the built-in model answers again.');
      provider.reload();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  const saved = (text: string) => {
    setError(null);
    setMessage(text);
    provider.reload();
  };

  return (
    <>
      <PageHeader title="Model" />
      <section className="card" aria-labelledby="current-model-title">
        <h2 id="current-model-title">Chat model of {tenant}</h2>
        <ErrorText>{provider.error ?? error}</ErrorText>
        {provider.data === undefined ? <Loading what="the model provider" /> : <CurrentProvider provider={provider.data} />}
        <Notice>{message}</Notice>
        {mayManage && provider.data && (
          <button type="button" className="danger" onClick={remove}>
            Remove provider
          </button>
        )}
      </section>
      {!mayManage && <p className="hint">Your role may not change the model provider.</p>}
      {mayManage && provider.data !== undefined && (
        <ProviderForm key={provider.data?.updated_at ?? 'built-in'} current={provider.data} onSaved={saved} />
      )}
    </>
  );
}
