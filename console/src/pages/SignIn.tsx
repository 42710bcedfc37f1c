// Sign in with a password; LDAP and OIDC when the tenant offers them
// (`GET /api/v1/auth/providers?tenant=`).

import { useState, type FormEvent } from 'react';
import { messageOf } from '../api/client';
import type { Provider } from '../api/types';
import { ErrorText, Notice } from '../components/ui';
import { oidcStartUrl, signInOptions, signInWithLdap, signInWithPassword } from '../session/auth';

interface Props {
  notice: string | null;
  onSignedIn: () => void;
}

export function SignIn({ notice, onSignedIn }: Props) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [tenant, setTenant] = useState('');
  const [providers, setProviders] = useState<Provider[] | null>(null);
  const [ldapProvider, setLdapProvider] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (ldapProvider) await signInWithLdap(tenant, ldapProvider, username, password);
      else await signInWithPassword(username, password);
      onSignedIn();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  }

  async function lookUpProviders(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      setProviders(await signInOptions(tenant.trim()));
    } catch (e) {
      setProviders(null);
      setError(messageOf(e));
    }
  }

  const ldap = providers?.filter((p) => p.kind === 'ldap') ?? [];
  const oidc = providers?.filter((p) => p.kind === 'oidc') ?? [];

  return (
    <main id="main" className="sign-in">
      <h1>PowerAutomation console</h1>
      <Notice>{notice}</Notice>
      <form onSubmit={submit} aria-labelledby="sign-in-title" className="card">
        <h2 id="sign-in-title">{ldapProvider ? `Sign in with ${ldapProvider} (LDAP)` : 'Sign in'}</h2>
        <label>
          Username
          <input name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <ErrorText>{error}</ErrorText>
        <div className="actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
          {ldapProvider && (
            <button type="button" className="secondary" onClick={() => setLdapProvider(null)}>
              Use a password account instead
            </button>
          )}
        </div>
      </form>

      <form onSubmit={lookUpProviders} className="card" aria-labelledby="sso-title">
        <h2 id="sso-title">Single sign-on</h2>
        <label>
          Organisation (tenant)
          <input name="tenant" value={tenant} pattern="[a-z][a-z0-9\-]{0,62}" required onChange={(e) => setTenant(e.target.value)} />
        </label>
        <button type="submit" className="secondary">
          Show sign-in options
        </button>
        {providers && providers.length === 0 && <p>Tenant {tenant} has no single sign-on providers.</p>}
        {(ldap.length > 0 || oidc.length > 0) && (
          <ul className="provider-list" aria-label="Sign-in providers">
            {ldap.map((p) => (
              <li key={p.name}>
                <button type="button" onClick={() => setLdapProvider(p.name)}>
                  Sign in with {p.name} (LDAP)
                </button>
              </li>
            ))}
            {oidc.map((p) => (
              <li key={p.name}>
                <a className="button" href={oidcStartUrl(tenant, p.name)}>
                  Sign in with {p.name} (OpenID Connect)
                </a>
              </li>
            ))}
          </ul>
        )}
      </form>
    </main>
  );
}
