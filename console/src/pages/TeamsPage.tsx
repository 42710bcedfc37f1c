// Teams of the tenant: the tree (company → department → team), each team's
// role and members; saving teams and adding members needs user.manage.

import { useState, type FormEvent } from 'react';
import { api, get, messageOf, tenantPath } from '../api/client';
import type { Role, Team } from '../api/types';
import { useLoad } from '../components/useLoad';
import { Empty, ErrorText, Notice, PageHeader } from '../components/ui';
import { useTenant } from '../session/SessionContext';
import { Select } from '../components/Select';

function TeamTree({ teams, parent, onChanged }: { teams: Team[]; parent: string | null; onChanged: () => void }) {
  const children = teams.filter((t) => t.parent === parent);
  if (children.length === 0) return null;
  return (
    <ul className="team-tree">
      {children.map((t) => (
        <li key={t.id}>
          <TeamNode team={t} onChanged={onChanged} />
          <TeamTree teams={teams} parent={t.id} onChanged={onChanged} />
        </li>
      ))}
    </ul>
  );
}

function TeamNode({ team, onChanged }: { team: Team; onChanged: () => void }) {
  const { tenant, can } = useTenant();
  const [username, setUsername] = useState('');
  const [error, setError] = useState<string | null>(null);
  const path = (rest = '') => tenantPath(tenant, `/teams/${encodeURIComponent(team.id)}${rest}`);

  async function run(action: () => Promise<unknown>) {
    setError(null);
    try {
      await action();
      onChanged();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <div className="card team">
      <h3>
        {team.name} <code>{team.id}</code>
      </h3>
      <p>Role: {team.role ?? 'none'}</p>
      <p>Members: {team.members.length > 0 ? team.members.join(', ') : 'none'}</p>
      {can('user.manage') && (
        <>
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void run(() => api('PUT', path(`/members/${encodeURIComponent(username)}`)));
            }}
          >
            <label>
              Add a member to {team.name}
              <input value={username} required onChange={(e) => setUsername(e.target.value)} />
            </label>
            <button type="submit" className="secondary">
              Add
            </button>
          </form>
          <div className="actions">
            {team.members.map((m) => (
              <button
                key={m}
                type="button"
                className="secondary small"
                onClick={() => void run(() => api('DELETE', path(`/members/${encodeURIComponent(m)}`)))}
              >
                Remove {m} from {team.name}
              </button>
            ))}
            <button type="button" className="danger small" onClick={() => void run(() => api('DELETE', path()))}>
              Delete team {team.name}
            </button>
          </div>
        </>
      )}
      <ErrorText>{error}</ErrorText>
    </div>
  );
}

function SaveTeam({ teams, roles, onSaved }: { teams: Team[]; roles: Role[]; onSaved: () => void }) {
  const { tenant } = useTenant();
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [parent, setParent] = useState('');
  const [role, setRole] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setMessage(null);
    try {
      await api('PUT', tenantPath(tenant, `/teams/${encodeURIComponent(id)}`), {
        json: { name, parent: parent || undefined, role: role || undefined },
      });
      setMessage(`Saved team ${name}.`);
      onSaved();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <form className="card" onSubmit={submit} aria-labelledby="save-team-title">
      <h2 id="save-team-title">Save a team</h2>
      <div className="row">
        <label>
          Team id
          <input value={id} required pattern="[a-z][a-z0-9\-]{0,62}" onChange={(e) => setId(e.target.value)} />
        </label>
        <label>
          Display name
          <input value={name} required maxLength={100} onChange={(e) => setName(e.target.value)} />
        </label>
        <Select
          label="Part of"
          value={parent}
          onChange={setParent}
          options={[{ value: '', text: 'nothing (top level)' }, ...teams.map((t) => ({ value: t.id, text: t.name }))]}
        />
        <Select
          label="Role of its members"
          value={role}
          onChange={setRole}
          options={[{ value: '', text: 'none' }, ...roles.map((r) => r.name)]}
        />
      </div>
      <ErrorText>{error}</ErrorText>
      <Notice>{message}</Notice>
      <button type="submit">Save team</button>
    </form>
  );
}

export function TeamsPage() {
  const { tenant, can } = useTenant();
  const teams = useLoad(() => get<{ teams: Team[] }>(tenantPath(tenant, '/teams')), [tenant]);
  const roles = useLoad(() => get<{ roles: Role[] }>(tenantPath(tenant, '/roles')), [tenant]);
  const list = teams.data?.teams ?? [];

  return (
    <>
      <PageHeader title="Teams" />
      <ErrorText>{teams.error}</ErrorText>
      {teams.data && list.length === 0 && <Empty>No teams yet.</Empty>}
      <TeamTree teams={list} parent={null} onChanged={teams.reload} />
      {can('user.manage') && roles.data && <SaveTeam teams={list} roles={roles.data.roles} onSaved={teams.reload} />}
    </>
  );
}
