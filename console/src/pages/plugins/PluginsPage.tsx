// Plugins of the tenant: upload, versions, enable/disable.

import { get, tenantPath } from '../../api/client';
import type { Plugin } from '../../api/types';
import { useLoad } from '../../components/useLoad';
import { Empty, ErrorText, Loading, PageHeader } from '../../components/ui';
import { useTenant } from '../../session/SessionContext';
import { FirstPartyBox } from './FirstPartyBox';
import { PluginCard } from './PluginCard';
import { UploadBox } from './UploadBox';

export function PluginsPage() {
  const { tenant, can } = useTenant();
  const plugins = useLoad(() => get<{ plugins: Plugin[] }>(tenantPath(tenant, '/plugins')), [tenant]);

  return (
    <>
      <PageHeader title="Plugins" />
      {can('plugin.upload') ? (
        <UploadBox tenant={tenant} onUploaded={plugins.reload} />
      ) : (
        <p className="hint">Your role may not upload plugins.</p>
      )}
      {plugins.data && <FirstPartyBox plugins={plugins.data.plugins} onEnabled={plugins.reload} />}
      <ErrorText>{plugins.error}</ErrorText>
      {plugins.loading && !plugins.data && <Loading what="plugins" />}
      {plugins.data?.plugins.length === 0 && <Empty>No plugins uploaded yet.</Empty>}
      {plugins.data?.plugins.map((p) => <PluginCard key={p.name} plugin={p} onChanged={plugins.reload} />)}
    </>
  );
}
