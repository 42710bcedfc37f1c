// Who is signed in (`GET /api/v1/auth/me`) and what they may do in the
// tenant being viewed: the permissions the API reports, never role names.

import { createContext, useContext } from 'react';
import type { Me, Permission } from '../api/types';

export interface Session {
  me: Me;
  signOut: () => void;
}

export interface TenantScope {
  tenant: string;
  role: string;
  permissions: ReadonlySet<Permission>;
  can: (permission: Permission) => boolean;
}

export const SessionContext = createContext<Session | null>(null);
export const TenantContext = createContext<TenantScope | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in session');
  return session;
}

export function useTenant(): TenantScope {
  const scope = useContext(TenantContext);
  if (!scope) throw new Error('useTenant outside a tenant');
  return scope;
}

export function scopeOf(tenant: string, role: string, permissions: Iterable<Permission>): TenantScope {
  const held = new Set(permissions);
  return { tenant, role, permissions: held, can: (p) => held.has(p) };
}

export function displayName(me: Me): string {
  if (me.user) return me.user.username;
  if (me.key) return me.key.name ? `API key ${me.key.name}` : `API key ${me.key.id}`;
  return 'unknown';
}
