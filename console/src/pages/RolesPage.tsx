// Roles of the tenant: built-in and custom, with their permissions; custom
// roles can be saved and deleted.

import { useState, type FormEvent } from 'react';
import { api, get, messageOf, tenantPath } from '../api/client';
import type { Permission, Role } from '../api/types';
import { useLoad } from '../components/useLoad';
import { ErrorText, Notice, PageHeader, scrollable } from '../components/ui';
import { useTenant } from '../session/SessionContext';

function SaveRole({ known, onSaved }: { known: Permission[]; onSaved: () => void }) {
  const { tenant, can } = useTenant();
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<Set<Permission>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  function toggle(p: Permission, on: boolean) {
    setChosen((old) => {
      const next = new Set(old);
      if (on) next.add(p);
      else next.delete(p);
      return next;
    });
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setMessage(null);
    try {
      await api('PUT', tenantPath(tenant, `/roles/${encodeURIComponent(name)}`), { json: { permissions: [...chosen] } });
      setMessage(`Saved role ${name}.`);
      onSaved();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <form className="card" onSubmit={submit} aria-labelledby="save-role-title">
      <h2 id="save-role-title">Save a custom role</h2>
      <label>
        Role name
        <input value={name} required pattern="[a-z][a-z0-9\-]{0,62}" onChange={(e) => setName(e.target.value)} />
      </label>
      <fieldset className="checks">
        <legend>Permissions (only those you hold can be granted)</legend>
        {known.map((p) => (
          <label key={p} className="check">
            <input type="checkbox" checked={chosen.has(p)} disabled={!can(p)} onChange={(e) => toggle(p, e.target.checked)} />
            {p}
          </label>
        ))}
      </fieldset>
      <ErrorText>{error}</ErrorText>
      <Notice>{message}</Notice>
      <button type="submit">Save role</button>
    </form>
  );
}

export function RolesPage() {
  const { tenant, can } = useTenant();
  const roles = useLoad(() => get<{ roles: Role[] }>(tenantPath(tenant, '/roles')), [tenant]);
  const [error, setError] = useState<string | null>(null);
  const list = roles.data?.roles ?? [];
  // Every permission the API names: the admin role holds them all.
  const known = [...new Set(list.flatMap((r) => r.permissions))].sort();

  async function remove(name: string) {
    setError(null);
    try {
      await api('DELETE', tenantPath(tenant, `/roles/${encodeURIComponent(name)}`));
      roles.reload();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <>
      <PageHeader title="Roles" />
      <ErrorText>{roles.error ?? error}</ErrorText>
      {list.length > 0 && (
        <div {...scrollable('Roles')}>
          <table>
            <caption>Roles and their permissions</caption>
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col">Kind</th>
                <th scope="col">Permissions</th>
                {can('user.manage') && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <tr key={r.name}>
                  <td>{r.name}</td>
                  <td>{r.built_in ? 'built-in' : 'custom'}</td>
                  <td>{r.permissions.join(', ')}</td>
                  {can('user.manage') && (
                    <td>
                      {!r.built_in && (
                        <button type="button" className="danger small" onClick={() => remove(r.name)}>
                          Delete {r.name}
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {can('user.manage') && known.length > 0 && <SaveRole known={known} onSaved={roles.reload} />}
    </>
  );
}
