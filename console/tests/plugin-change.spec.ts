// Changing an enabled plugin: the form shows what the plugin is enabled with,
// and changing one limit keeps every grant, limit and setting it did not touch,
// including what the form does not show (the canary's own grants).

import { serverApi, guestBytes } from './support/api';
import { checkAccessibility, expect, openSection, signIn, test } from './support/console';
import { ADMIN_USER, TENANT } from './support/users';

const PLUGIN = 'keeper';

const CONFIG = {
  version: '1.0.0',
  access: 'api-key',
  grants: {
    allowed_outbound_hosts: ['https://api.example.com'],
    key_value_stores: ['default', 'cache'],
    variables: { greeting: 'hi', region: 'eu=west' },
    model: true,
    ocr: false,
    sites: ['docs'],
  },
  limits: { memory_mib: 256, timeout_ms: 5000, max_concurrency: 8 },
  tool_prefix: 'keep',
  circuit: { failures: 3, open_ms: 10000 },
  canary: { version: '1.1.0', weight: 25, max_error_rate: 0.2, min_calls: 40, grants: { key_value_stores: ['canary'] } },
};

async function enabledConfig(): Promise<Record<string, any>> {
  const listed = await serverApi().must('GET', `/api/v1/tenants/${TENANT}/plugins`);
  const plugin = (listed.plugins as { name: string; enabled: Record<string, any> | null }[]).find((p) => p.name === PLUGIN);
  if (!plugin?.enabled) throw new Error(`${PLUGIN} is listed as enabled`);
  return plugin.enabled;
}

test('changing one limit of an enabled plugin keeps its grants, limits, access, tool prefix, circuit and canary', async ({ page }) => {
  const api = serverApi();
  for (const version of ['1.0.0', '1.1.0']) {
    await api.must('PUT', `/api/v1/tenants/${TENANT}/plugins/${PLUGIN}/versions/${version}`, undefined, guestBytes('conformance.wasm'));
  }
  await api.must('POST', `/api/v1/tenants/${TENANT}/plugins/${PLUGIN}/enable`, CONFIG);
  const before = await enabledConfig();
  expect(before).toMatchObject({ ...CONFIG, canary: { ...CONFIG.canary, grants: { key_value_stores: ['canary'] } } });

  await signIn(page, ADMIN_USER);
  await openSection(page, TENANT, 'plugins', 'Plugins');
  const card = page.getByRole('article', { name: PLUGIN });
  await card.getByRole('button', { name: `Change ${PLUGIN}` }).click();
  const form = card.getByRole('form', { name: `Enable ${PLUGIN}` });

  // Every field shows the stored configuration.
  await expect(form.getByLabel('Version', { exact: true })).toHaveValue('1.0.0');
  await expect(form.getByLabel('Who may call it')).toHaveValue('api-key');
  await expect(form.getByLabel(/^Outbound hosts/)).toHaveValue('https://api.example.com');
  await expect(form.getByLabel(/^Key-value stores/)).toHaveValue('default\ncache');
  await expect(form.getByLabel(/^Variables/)).toHaveValue('greeting=hi\nregion=eu=west');
  await expect(form.getByLabel(/^Chat model/)).toBeChecked();
  await expect(form.getByLabel(/^Text recognition/)).not.toBeChecked();
  await expect(form.getByLabel(/^Sites it may publish/)).toHaveValue('docs');
  await expect(form.getByLabel('Memory per instance (MiB)')).toHaveValue('256');
  await expect(form.getByLabel('Timeout (ms)')).toHaveValue('5000');
  await expect(form.getByLabel('Concurrent requests')).toHaveValue('8');
  await expect(form.getByLabel(/^Set a tool prefix/)).toBeChecked();
  await expect(form.getByLabel(/^Tool prefix/)).toHaveValue('keep');
  await expect(form.getByLabel('Circuit: failures that open it')).toHaveValue('3');
  await expect(form.getByLabel('Circuit: open for (ms)')).toHaveValue('10000');
  await expect(form.getByLabel('Canary version')).toHaveValue('1.1.0');
  await expect(form.getByLabel('Weight (% of calls)')).toHaveValue('25');
  await expect(form.getByLabel(/^Roll back past error rate/)).toHaveValue('0.2');
  await expect(form.getByLabel('Minimum calls before judging')).toHaveValue('40');
  await checkAccessibility(page, 'the change form of an enabled plugin');

  // Change only the timeout.
  await form.getByLabel('Timeout (ms)').fill('12000');
  await form.getByRole('button', { name: 'Enable 1.0.0' }).click();
  await expect(card.getByText(`Enabled ${PLUGIN} 1.0.0.`)).toBeVisible();

  expect(await enabledConfig()).toEqual({ ...before, limits: { ...before.limits, timeout_ms: 12000 } });
});
