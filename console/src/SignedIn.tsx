// Everything after sign-in: who the caller is, the tenant from the route
// with the caller's permissions there, and the page.

import { useMemo } from 'react';
import { get, tenantPath } from './api/client';
import type { Me, Role } from './api/types';
import { useLoad } from './components/useLoad';
import { ErrorText, Loading } from './components/ui';
import { Layout } from './Layout';
import { PAGES } from './pages';
import { TenantPicker } from './pages/TenantPicker';
import { useRoute } from './router';
import { SessionContext, TenantContext, scopeOf, type TenantScope } from './session/SessionContext';

/** The caller's permissions in `tenant`: their membership, or `admin`'s for a platform administrator. */
function useScope(me: Me | undefined, tenant: string | null) {
  const membership = me?.tenants.find((t) => t.tenant === tenant);
  const needsAdminRole = Boolean(me?.platform_admin && tenant && !membership);
  const adminRole = useLoad(
    () =>
      needsAdminRole && tenant
        ? get<{ roles: Role[] }>(tenantPath(tenant, '/roles')).then((r) => r.roles.find((x) => x.name === 'admin') ?? null)
        : Promise.resolve(null),
    [tenant, needsAdminRole],
  );
  return useMemo((): { scope: TenantScope | null; error: string | null; loading: boolean } => {
    if (!tenant || !me) return { scope: null, error: null, loading: false };
    if (membership) return { scope: scopeOf(tenant, membership.role, membership.permissions), error: null, loading: false };
    if (needsAdminRole) {
      if (adminRole.data) return { scope: scopeOf(tenant, 'platform admin', adminRole.data.permissions), error: null, loading: false };
      return { scope: null, error: adminRole.error, loading: adminRole.loading };
    }
    return { scope: null, error: `You are not a member of tenant ${tenant}.`, loading: false };
  }, [tenant, me, membership, needsAdminRole, adminRole.data, adminRole.error, adminRole.loading]);
}

export function SignedIn({ onSignOut }: { onSignOut: () => void }) {
  const route = useRoute();
  const me = useLoad(() => get<Me>('/api/v1/auth/me'), []);
  const { scope, error, loading } = useScope(me.data, route.tenant);

  if (!me.data) {
    return <main id="main">{me.error ? <ErrorText>{me.error}</ErrorText> : <Loading what="your account" />}</main>;
  }
  const entry = PAGES.find((p) => p.id === route.page);
  let content;
  if (!route.tenant) content = <TenantPicker />;
  else if (!scope) content = loading ? <Loading what="your permissions" /> : <ErrorText>{error}</ErrorText>;
  else if (!entry) content = <ErrorText>There is no page “{route.page}”.</ErrorText>;
  else if (!scope.can(entry.needs)) content = <ErrorText>Your role may not see {entry.title}.</ErrorText>;
  else content = <entry.component key={`${scope.tenant}/${entry.id}`} />;

  return (
    <SessionContext.Provider value={{ me: me.data, signOut: onSignOut }}>
      <TenantContext.Provider value={scope}>
        <Layout scope={scope} page={route.page}>
          {content}
        </Layout>
      </TenantContext.Provider>
    </SessionContext.Provider>
  );
}
