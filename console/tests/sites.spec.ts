// A site published twice by a workflow step is rolled back from the console,
// and the platform serves the earlier version again.

import { serverApi, guestBytes } from './support/api';
import { consoleUrl, expect, signIn, test } from './support/console';
import { ADMIN_USER, PUBLISH_WORKFLOW, TENANT } from './support/users';

test('a plugin enabled with a site grant publishes two versions; the console rolls back to the first', async ({ page }) => {
  const admin = serverApi();
  await admin.must('PUT', `/api/v1/tenants/${TENANT}/plugins/publisher/versions/1.0.0`, undefined, guestBytes('test_step.wasm'));

  // The new grants on the enable form.
  await signIn(page, ADMIN_USER);
  await page.goto(consoleUrl(`#/t/${TENANT}/plugins`));
  const publisher = page.getByRole('article', { name: 'publisher' });
  await publisher.getByRole('button', { name: 'Enable publisher' }).click();
  await publisher.getByLabel('Key-value stores (one per line, e.g. default)').fill('default');
  await publisher.getByLabel('Sites it may publish (one per line, e.g. docs)').fill('pages');
  await publisher.getByLabel(/^Chat model/).check();
  await publisher.getByRole('button', { name: 'Enable 1.0.0' }).click();
  await expect(publisher).toContainText('Enabled publisher 1.0.0.');

  await admin.must('PUT', `/api/v1/tenants/${TENANT}/workflows/publish-pages`, undefined, PUBLISH_WORKFLOW('publisher'));
  for (const html of ['<h1>v1</h1>', '<h1>v2</h1>']) {
    const run = await admin.runToEnd(TENANT, 'publish-pages', { site: 'pages', html });
    expect(run.state, JSON.stringify(run.steps)).toBe('succeeded');
  }
  const live = () => fetch(`${process.env.PA_URL}/t/${TENANT}/sites/pages/`).then((r) => r.text());
  expect(await live()).toContain('<h1>v2</h1>');

  await page.goto(consoleUrl(`#/t/${TENANT}/sites`));
  await page.getByRole('link', { name: 'pages', exact: true }).click();
  await expect(page.getByTestId('live-version')).toHaveText('2');
  const versions = page.getByRole('table', { name: /Versions of pages/ });
  await expect(versions).toContainText('index.html');
  await expect(versions).toContainText('publisher');
  await page.getByRole('button', { name: 'Roll back to version 1' }).click();
  await expect(page.getByTestId('live-version')).toHaveText('1');
  await expect(page.getByRole('button', { name: 'Serve version 2' })).toBeVisible();
  expect(await live()).toContain('<h1>v1</h1>');
  await expect(page.getByRole('link', { name: `/t/${TENANT}/sites/pages/` }).first()).toHaveAttribute('href', `/t/${TENANT}/sites/pages/`);
});
