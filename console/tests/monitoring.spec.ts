// The Monitoring page reads the tenant's monitoring endpoint (never the
// public /metrics) and shows what a function prints in its recent logs,
// picking up new lines on its own.

import { consoleUrl, expect, signIn, test } from './support/console';
import { ADMIN_USER, TENANT } from './support/users';

test('a line a function prints shows in the Monitoring page logs', async ({ page }) => {
  const requested: string[] = [];
  page.on('request', (request) => requested.push(new URL(request.url()).pathname));
  await signIn(page, ADMIN_USER);
  await page.goto(consoleUrl(`#/t/${TENANT}/monitoring`));
  await expect(page.getByRole('heading', { level: 1, name: 'Monitoring' })).toBeVisible();
  await expect(page.getByRole('figure', { name: /Requests by status/ })).toBeVisible();
  await page.getByLabel('Plugin', { exact: true }).selectOption('printer');
  const table = page.getByRole('table', { name: /Recent log lines of printer/ });
  await expect(table).toContainText('hello from the printer');

  const marker = `printed at ${Date.now()}`;
  const response = await fetch(`${process.env.PA_URL}/t/${TENANT}/fn/printer/print?${encodeURIComponent(marker)}`);
  expect(response.status).toBe(200);
  await expect(table).toContainText(`out: ${marker}`, { timeout: 15_000 });
  await expect(table).toContainText(`err: ${marker}`);

  await page.getByLabel('Stream').selectOption('stderr');
  await expect(table).toContainText(`err: ${marker}`);
  await expect(table).not.toContainText(`out: ${marker}`);

  expect(requested.filter((path) => path === '/metrics')).toEqual([]);
  expect(requested).toContain(`/api/v1/tenants/${TENANT}/monitoring`);
});
