// The platform's first-party components: what each does, whether the tenant
// has it enabled, and a button to enable it (stored as the plugin of its name).

import { useState } from 'react';
import { api, get, messageOf, tenantPath } from '../../api/client';
import type { FirstPartyOffer, Plugin } from '../../api/types';
import { useLoad } from '../../components/useLoad';
import { ErrorText } from '../../components/ui';
import { useTenant } from '../../session/SessionContext';

interface Props {
  plugins: Plugin[];
  onEnabled: () => void;
}

export function FirstPartyBox({ plugins, onEnabled }: Props) {
  const { tenant, can } = useTenant();
  const offers = useLoad(() => get<{ components: FirstPartyOffer[] }>('/api/v1/first-party'), []);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const components = offers.data?.components ?? [];
  if (components.length === 0 && !offers.error) return null;

  async function enable(name: string) {
    setBusy(name);
    setError(null);
    try {
      await api('POST', tenantPath(tenant, `/first-party/${encodeURIComponent(name)}/enable`), { json: {} });
      onEnabled();
    } catch (e) {
      setError(`${name}: ${messageOf(e)}`);
    } finally {
      setBusy(null);
    }
  }

  return (
    <details className="card" aria-label="First-party components">
      <summary>
        <h2>First-party components</h2>
      </summary>
      <p className="hint">The platform's own components, enabled with the grants they need.</p>
      <ErrorText>{offers.error ?? error}</ErrorText>
      <ul className="first-party-list">
        {components.map((offer) => {
          const enabled = plugins.some((p) => p.name === offer.name && p.enabled_version === offer.version);
          return (
            <li key={offer.name} data-testid={`first-party-${offer.name}`}>
              <strong>{offer.name}</strong> <span className="hint">{offer.version}</span>
              <p>{offer.description}</p>
              {enabled ? (
                <span className="badge">enabled</span>
              ) : (
                can('plugin.enable') && (
                  <button type="button" disabled={busy !== null} onClick={() => void enable(offer.name)}>
                    {busy === offer.name ? 'Enabling…' : `Enable ${offer.name}`}
                  </button>
                )
              )}
            </li>
          );
        })}
      </ul>
    </details>
  );
}
