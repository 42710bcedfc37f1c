// The tenants the signed-in user belongs to, with their role there.

import { useState, type FormEvent } from 'react';
import { href, navigate } from '../router';
import { Empty, PageHeader } from '../components/ui';
import { useSession } from '../session/SessionContext';

export function TenantPicker() {
  const { me } = useSession();
  const [other, setOther] = useState('');

  function open(event: FormEvent) {
    event.preventDefault();
    navigate(href(other.trim(), 'plugins'));
  }

  return (
    <>
      <PageHeader title="Choose a tenant" />
      {me.tenants.length === 0 && !me.platform_admin && <Empty>You are not a member of any tenant yet.</Empty>}
      <ul className="tenant-list">
        {me.tenants.map((t) => (
          <li key={t.tenant}>
            <a href={href(t.tenant, 'plugins')} className="card tenant-link">
              <strong>{t.tenant}</strong>
              <span>role: {t.role}</span>
            </a>
          </li>
        ))}
      </ul>
      {me.platform_admin && (
        <form onSubmit={open} className="card inline-form" aria-labelledby="any-tenant">
          <h2 id="any-tenant">Open any tenant (platform administrator)</h2>
          <label>
            Tenant id
            <input value={other} required pattern="[a-z][a-z0-9\-]{0,62}" onChange={(e) => setOther(e.target.value)} />
          </label>
          <button type="submit">Open</button>
        </form>
      )}
    </>
  );
}
