// Signing in and out: password, LDAP, OIDC (tokens come back in the URL fragment).

import { api, tokensFrom, type TokenPair } from '../api/client';
import { clearTokens, loadTokens, saveTokens } from '../api/tokens';
import type { Provider } from '../api/types';

export async function signInWithPassword(username: string, password: string): Promise<void> {
  const pair = await api<TokenPair>('POST', '/api/v1/auth/login', { json: { username, password }, anonymous: true });
  saveTokens(tokensFrom(pair));
}

export async function signInWithLdap(tenant: string, provider: string, username: string, password: string) {
  const pair = await api<TokenPair>('POST', '/api/v1/auth/ldap/login', {
    json: { tenant, provider, username, password },
    anonymous: true,
  });
  saveTokens(tokensFrom(pair));
}

export function oidcStartUrl(tenant: string, provider: string): string {
  const params = new URLSearchParams({ tenant, provider, return_to: '/console/' });
  return `/api/v1/auth/oidc/start?${params}`;
}

export async function signInOptions(tenant: string): Promise<Provider[]> {
  const query = new URLSearchParams({ tenant });
  const answer = await api<{ providers: Provider[] }>('GET', `/api/v1/auth/providers?${query}`, { anonymous: true });
  return answer.providers;
}

/** After an OIDC sign-in the callback sends the browser to `/console/#access_token=…&tenant=…`. */
export function takeTokensFromFragment(): string | null {
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const access = fragment.get('access_token');
  if (!access) return null;
  saveTokens({ access, refresh: fragment.get('refresh_token') ?? undefined });
  const tenant = fragment.get('tenant');
  history.replaceState(null, '', `${window.location.pathname}${tenant ? `#/t/${encodeURIComponent(tenant)}` : '#/'}`);
  return tenant;
}

export async function signOut(): Promise<void> {
  const refresh = loadTokens()?.refresh;
  clearTokens();
  if (refresh) {
    await api('POST', '/api/v1/auth/logout', { json: { refresh_token: refresh }, anonymous: true }).catch(() => {});
  }
}
