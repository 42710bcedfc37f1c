// The tenants the signed-in user belongs to, with their role there; for a
// platform administrator also every tenant of the platform, and a form to
// create one with first-party components enabled in it.

import { useState, type FormEvent } from 'react';
import { api, get, messageOf } from '../api/client';
import type { FirstPartyOffer, TenantSummary } from '../api/types';
import { href, navigate } from '../router';
import { useLoad } from '../components/useLoad';
import { Empty, ErrorText, PageHeader } from '../components/ui';
import { useSession } from '../session/SessionContext';

export function TenantPicker() {
  const { me } = useSession();
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
      {me.platform_admin && <PlatformTenants />}
    </>
  );
}

/** Every tenant, and creating one (platform administrators only). */
function PlatformTenants() {
  const tenants = useLoad(() => get<{ tenants: TenantSummary[] }>('/api/v1/tenants'), []);
  const offers = useLoad(() => get<{ components: FirstPartyOffer[] }>('/api/v1/first-party'), []);
  const [id, setId] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [creating, setCreating] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function create(event: FormEvent) {
    event.preventDefault();
    setCreating(true);
    setError(null);
    try {
      await api('POST', '/api/v1/tenants', { json: { id: id.trim(), first_party: chosen } });
      navigate(href(id.trim(), 'plugins'));
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setCreating(false);
    }
  }

  function toggle(name: string, on: boolean) {
    setChosen((current) => (on ? [...current, name] : current.filter((n) => n !== name)));
  }

  return (
    <>
      <section className="card" aria-labelledby="all-tenants">
        <h2 id="all-tenants">All tenants (platform administrator)</h2>
        <ErrorText>{tenants.error}</ErrorText>
        <ul className="tenant-list">
          {tenants.data?.tenants.map((t) => (
            <li key={t.id}>
              <a href={href(t.id, 'plugins')} className="tenant-link">
                <strong>{t.id}</strong>
                <span>plan: {t.plan}</span>
              </a>
            </li>
          ))}
        </ul>
      </section>
      <form onSubmit={create} className="card" aria-labelledby="new-tenant">
        <h2 id="new-tenant">Create a tenant</h2>
        <label>
          Tenant id
          <input value={id} required pattern="[a-z][a-z0-9\-]{0,62}" onChange={(e) => setId(e.target.value)} />
        </label>
        {(offers.data?.components.length ?? 0) > 0 && (
          <fieldset className="checks">
            <legend>First-party components to enable</legend>
            {offers.data?.components.map((offer) => (
              <label key={offer.name} className="check" title={offer.description}>
                <input
                  type="checkbox"
                  checked={chosen.includes(offer.name)}
                  onChange={(e) => toggle(offer.name, e.target.checked)}
                />
                {offer.name}
              </label>
            ))}
          </fieldset>
        )}
        <ErrorText>{error ?? offers.error}</ErrorText>
        <button type="submit" disabled={creating}>
          {creating ? 'Creating…' : 'Create tenant'}
        </button>
      </form>
    </>
  );
}
