// API keys of the tenant: create (the secret is shown once), list, revoke.

import { useState, type FormEvent } from 'react';
import { api, get, messageOf, tenantPath } from '../api/client';
import type { KeyInfo, NewKey, Role } from '../api/types';
import { useLoad } from '../components/useLoad';
import { Empty, ErrorText, PageHeader, formatTime, scrollable } from '../components/ui';
import { useTenant } from '../session/SessionContext';
import { Select } from '../components/Select';

const EXPIRY_CHOICES: [string, number | null][] = [
  ['never', null],
  ['in 1 day', 86_400],
  ['in 30 days', 30 * 86_400],
  ['in 1 year', 365 * 86_400],
];

/** `roles` is null when the caller may not list roles: the role is typed then. */
function CreateKey({ roles, onCreated }: { roles: Role[] | null; onCreated: () => void }) {
  const { tenant, can } = useTenant();
  const grantable = (roles ?? []).filter((r) => r.permissions.every((p) => can(p)));
  const [name, setName] = useState('');
  const [role, setRole] = useState(grantable[0]?.name ?? 'viewer');
  const [expiry, setExpiry] = useState('0');
  const [created, setCreated] = useState<NewKey | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setCreated(null);
    const seconds = EXPIRY_CHOICES[Number(expiry)]?.[1] ?? null;
    try {
      const key = await api<NewKey>('POST', tenantPath(tenant, '/api-keys'), {
        json: seconds ? { name, role, expires_in_secs: seconds } : { name, role },
      });
      setCreated(key);
      setName('');
      onCreated();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <form className="card" onSubmit={submit} aria-labelledby="create-key-title">
      <h2 id="create-key-title">Create a key</h2>
      <div className="row">
        <label>
          Label
          <input value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
        </label>
        {roles ? (
          <Select label="Role" value={role} onChange={setRole} options={grantable.map((r) => r.name)} />
        ) : (
          <label>
            Role
            <input value={role} required onChange={(e) => setRole(e.target.value)} />
          </label>
        )}
        <Select
          label="Expires"
          value={expiry}
          onChange={setExpiry}
          options={EXPIRY_CHOICES.map(([text], i) => ({ value: String(i), text }))}
        />
      </div>
      <ErrorText>{error}</ErrorText>
      {created && (
        <div className="secret" role="status">
          <p>
            <strong>Copy the key now: it is shown only once.</strong>
          </p>
          <label>
            New key ({created.role})
            <input readOnly value={created.key} data-testid="new-key" onFocus={(e) => e.target.select()} />
          </label>
          <button type="button" className="secondary" onClick={() => void navigator.clipboard?.writeText(created.key)}>
            Copy to clipboard
          </button>
        </div>
      )}
      <button type="submit">Create key</button>
    </form>
  );
}

export function ApiKeysPage() {
  const { tenant, can } = useTenant();
  const keys = useLoad(() => get<{ keys: KeyInfo[] }>(tenantPath(tenant, '/api-keys')), [tenant]);
  const roles = useLoad(
    () => (can('user.read') ? get<{ roles: Role[] }>(tenantPath(tenant, '/roles')).then((r) => r.roles) : Promise.resolve(null)),
    [tenant],
  );
  const [error, setError] = useState<string | null>(null);

  async function revoke(id: string) {
    setError(null);
    try {
      await api('DELETE', tenantPath(tenant, `/api-keys/${encodeURIComponent(id)}`));
      keys.reload();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <>
      <PageHeader title="API keys" />
      {roles.data !== undefined && <CreateKey roles={roles.data} onCreated={keys.reload} />}
      <ErrorText>{keys.error ?? roles.error ?? error}</ErrorText>
      {keys.data?.keys.length === 0 && <Empty>No keys.</Empty>}
      {keys.data && keys.data.keys.length > 0 && (
        <div {...scrollable('API keys')}>
          <table>
            <caption>Keys of {tenant} (secrets are never shown again)</caption>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Label</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Revoked</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.keys.map((k) => (
                <tr key={k.id}>
                  <td>
                    <code>{k.id}</code>
                  </td>
                  <td>{k.name || '—'}</td>
                  <td>{k.role}</td>
                  <td>{formatTime(k.created_at)}</td>
                  <td>{formatTime(k.expires_at)}</td>
                  <td>{formatTime(k.revoked_at)}</td>
                  <td>
                    {!k.revoked_at && (
                      <button type="button" className="danger small" onClick={() => revoke(k.id)}>
                        Revoke {k.id}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
