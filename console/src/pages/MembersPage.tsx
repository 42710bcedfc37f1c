// Members of the tenant: list, add (creating a password user), change role, remove.

import { useState, type FormEvent } from 'react';
import { api, get, messageOf, tenantPath } from '../api/client';
import type { Member, Role } from '../api/types';
import { useLoad } from '../components/useLoad';
import { Empty, ErrorText, Notice, PageHeader, scrollable } from '../components/ui';
import { useTenant } from '../session/SessionContext';
import { Select } from '../components/Select';

function memberPath(tenant: string, username: string) {
  return tenantPath(tenant, `/members/${encodeURIComponent(username)}`);
}

function AddMember({ roles, onChanged }: { roles: Role[]; onChanged: () => void }) {
  const { tenant } = useTenant();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState('viewer');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setMessage(null);
    try {
      await api('PUT', memberPath(tenant, username), { json: password ? { role, password } : { role } });
      setMessage(`${username} is now ${role}.`);
      setUsername('');
      setPassword('');
      onChanged();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <form className="card" onSubmit={submit} aria-labelledby="add-member-title">
      <h2 id="add-member-title">Add a member or change a role</h2>
      <div className="row">
        <label>
          Username
          <input value={username} required onChange={(e) => setUsername(e.target.value)} autoComplete="off" />
        </label>
        <Select label="Role" value={role} onChange={setRole} options={roles.map((r) => r.name)} />
        <label>
          Password (only to create a new user)
          <input type="password" value={password} minLength={8} autoComplete="new-password" onChange={(e) => setPassword(e.target.value)} />
        </label>
      </div>
      <ErrorText>{error}</ErrorText>
      <Notice>{message}</Notice>
      <button type="submit">Save member</button>
    </form>
  );
}

export function MembersPage() {
  const { tenant, can } = useTenant();
  const members = useLoad(() => get<{ members: Member[] }>(tenantPath(tenant, '/members')), [tenant]);
  const roles = useLoad(() => get<{ roles: Role[] }>(tenantPath(tenant, '/roles')), [tenant]);
  const [error, setError] = useState<string | null>(null);
  const manage = can('user.manage');

  async function remove(username: string) {
    setError(null);
    try {
      await api('DELETE', memberPath(tenant, username));
      members.reload();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <>
      <PageHeader title="Members" />
      {manage && roles.data && <AddMember roles={roles.data.roles} onChanged={members.reload} />}
      <ErrorText>{members.error ?? error}</ErrorText>
      {members.data?.members.length === 0 && <Empty>No members.</Empty>}
      {members.data && members.data.members.length > 0 && (
        <div {...scrollable(`Members of ${tenant}`)}>
          <table>
            <caption>Members of {tenant}</caption>
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Role</th>
                {manage && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {members.data.members.map((m) => (
                <tr key={m.user_id}>
                  <td>{m.username}</td>
                  <td>{m.role}</td>
                  {manage && (
                    <td>
                      <button type="button" className="danger small" onClick={() => remove(m.username)}>
                        Remove {m.username}
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
