// A tiny hash router: `#/t/{tenant}/{page}/{rest…}`; `#/` picks a tenant.

import { useEffect, useState } from 'react';

export interface Route {
  tenant: string | null;
  page: string;
  rest: string[];
}

export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 't' && parts[1]) {
    return { tenant: parts[1], page: parts[2] ?? 'plugins', rest: parts.slice(3) };
  }
  return { tenant: null, page: parts[0] ?? '', rest: parts.slice(1) };
}

export function href(tenant: string | null, page = '', ...rest: string[]): string {
  const parts = tenant ? ['t', tenant, page, ...rest] : [page, ...rest];
  return `#/${parts.filter(Boolean).map(encodeURIComponent).join('/')}`;
}

export function navigate(to: string): void {
  window.location.hash = to;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
