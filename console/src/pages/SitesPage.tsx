// Sites the tenant's plugins published: each with its versions (files,
// size, publishing plugin), the live one linked, and rollback to another.

import { useState } from 'react';
import { api, get, messageOf, tenantPath } from '../api/client';
import type { Site, SiteDetail, SiteVersion } from '../api/types';
import { useLoad } from '../components/useLoad';
import { Empty, ErrorText, Loading, Notice, PageHeader, formatBytes, formatTime, scrollable } from '../components/ui';
import { href, useRoute } from '../router';
import { useTenant } from '../session/SessionContext';

function sitePath(tenant: string, site: string, rest = '') {
  return tenantPath(tenant, `/sites/${encodeURIComponent(site)}${rest}`);
}

function VersionRow({ site, version, onServe }: { site: SiteDetail; version: SiteVersion; onServe: (v: number) => void }) {
  const { can } = useTenant();
  const live = version.version === site.live_version;
  const verb = version.version < site.live_version ? 'Roll back to' : 'Serve';
  return (
    <tr>
      <td>
        {version.version} {live && <span className="badge state-enabled">live</span>}
      </td>
      <td>
        <ul className="plain">
          {version.files.map((f) => (
            <li key={f}>
              <code>{f}</code>
            </li>
          ))}
        </ul>
      </td>
      <td>{formatBytes(version.bytes)}</td>
      <td>{version.plugin}</td>
      <td>{formatTime(version.created_at)}</td>
      <td>
        {!live && can('plugin.enable') && (
          <button type="button" className="small" onClick={() => onServe(version.version)}>
            {verb} version {version.version}
          </button>
        )}
      </td>
    </tr>
  );
}

function SiteView({ name }: { name: string }) {
  const { tenant, can } = useTenant();
  const loaded = useLoad(() => get<SiteDetail>(sitePath(tenant, name)), [tenant, name]);
  const [site, setSite] = useState<SiteDetail | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const shown = site ?? loaded.data;

  async function serve(version: number) {
    setError(null);
    setMessage(null);
    try {
      setSite(await api<SiteDetail>('POST', sitePath(tenant, name, '/rollback'), { json: { version } }));
      setMessage(`Version ${version} of ${name} is live.`);
    } catch (e) {
      setError(messageOf(e));
    }
  }

  if (loaded.error) return <ErrorText>{loaded.error}</ErrorText>;
  if (!shown) return <Loading what={`site ${name}`} />;
  return (
    <section className="card" aria-labelledby="site-title">
      <h2 id="site-title">Site {shown.name}</h2>
      <dl className="facts">
        <dt>Live version</dt>
        <dd data-testid="live-version">{shown.live_version}</dd>
        <dt>Address</dt>
        <dd>
          <a href={shown.url}>{shown.url}</a>
        </dd>
        <dt>Updated</dt>
        <dd>{formatTime(shown.updated_at)}</dd>
      </dl>
      <Notice>{message}</Notice>
      <ErrorText>{error}</ErrorText>
      {!can('plugin.enable') && <p className="hint">Your role may not change the live version.</p>}
      <div {...scrollable(`Versions of ${shown.name}`)}>
        <table>
          <caption>Versions of {shown.name}, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Files</th>
              <th scope="col">Size</th>
              <th scope="col">Published by</th>
              <th scope="col">Published</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {shown.versions.map((v) => (
              <VersionRow key={v.version} site={shown} version={v} onServe={serve} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function SitesPage() {
  const { tenant } = useTenant();
  const [name] = useRoute().rest;
  const sites = useLoad(() => get<{ sites: Site[] }>(tenantPath(tenant, '/sites')), [tenant, name]);

  return (
    <>
      <PageHeader title="Sites" />
      {name && <SiteView key={name} name={name} />}
      <section aria-labelledby="sites-title">
        <h2 id="sites-title">Published sites</h2>
        <ErrorText>{sites.error}</ErrorText>
        {sites.loading && !sites.data && <Loading what="sites" />}
        {sites.data?.sites.length === 0 && <Empty>No site published yet: plugins granted a site publish one.</Empty>}
        <ul className="card-list">
          {sites.data?.sites.map((s) => (
            <li key={s.name} className="card">
              <a href={href(tenant, 'sites', s.name)}>
                <strong>{s.name}</strong>
              </a>{' '}
              version {s.live_version} live at <a href={s.url}>{s.url}</a>, updated {formatTime(s.updated_at)}
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}
