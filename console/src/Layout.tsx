// The frame of every signed-in page: banner (who, which tenant, sign out),
// navigation of the pages the permissions allow, and the main region.

import { useRef, type ReactNode } from 'react';
import { PAGES } from './pages';
import { href } from './router';
import { displayName, useSession, type TenantScope } from './session/SessionContext';

interface Props {
  scope: TenantScope | null;
  page: string;
  children: ReactNode;
}

export function Layout({ scope, page, children }: Props) {
  const { me, signOut } = useSession();
  const main = useRef<HTMLElement>(null);
  const pages = scope ? PAGES.filter((p) => scope.can(p.needs)) : [];

  return (
    <div className="layout">
      <button type="button" className="skip-link" onClick={() => main.current?.focus()}>
        Skip to content
      </button>
      <header className="banner">
        <a className="brand" href={href(null)}>
          PowerAutomation
        </a>
        {scope && (
          <span className="tenant" data-testid="current-tenant">
            Tenant <strong>{scope.tenant}</strong> · {scope.role}
          </span>
        )}
        <span className="spacer" />
        <a href={href(null)} className="switch">
          Switch tenant
        </a>
        <span className="who">{displayName(me)}</span>
        <button type="button" className="secondary small" onClick={signOut}>
          Sign out
        </button>
      </header>
      {scope && (
        <nav aria-label="Sections" className="sections">
          <ul>
            {pages.map((p) => (
              <li key={p.id}>
                <a href={href(scope.tenant, p.id)} aria-current={p.id === page ? 'page' : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      )}
      <main id="main" ref={main} tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
