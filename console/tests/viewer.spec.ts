// A viewer sees plugins, sites, the model and runs but cannot change them:
// the console hides or disables those controls, and the API refuses them anyway.

import { Api, guestBytes, serverApi } from './support/api';
import { expect, openSection, signIn, test } from './support/console';
import { TENANT, VIEWER_USER } from './support/users';

test('a viewer cannot upload or enable plugins', async ({ page }) => {
  await signIn(page, VIEWER_USER);
  await openSection(page, TENANT, 'plugins', 'Plugins');
  await expect(page.getByTestId('current-tenant')).toContainText('viewer');

  await expect(page.getByRole('form', { name: 'Upload a version' })).toHaveCount(0);
  await expect(page.getByTestId('drop-zone')).toHaveCount(0);
  await expect(page.getByText('Your role may not upload plugins.')).toBeVisible();

  const hello = page.getByRole('article', { name: 'hello' });
  await expect(hello.getByText('Serving 1.0.0')).toBeVisible();
  await expect(hello.getByRole('button', { name: 'Change hello' })).toBeDisabled();
  await expect(hello.getByRole('button', { name: 'Disable hello' })).toBeDisabled();
  await expect(hello.getByText('Your role may not enable or disable plugins.')).toBeVisible();

  // Sections the viewer's permissions do not cover are not offered.
  const nav = page.getByRole('navigation', { name: 'Sections' });
  await expect(nav.getByRole('link', { name: 'Plugins' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Workflows' })).toBeVisible();
  for (const hidden of ['Members', 'API keys', 'Audit log', 'Usage and invoices']) {
    await expect(nav.getByRole('link', { name: hidden })).toHaveCount(0);
  }

  // The API refuses the same calls with the viewer's own token.
  const login = await serverApi().must('POST', '/api/v1/auth/login', { username: VIEWER_USER.username, password: VIEWER_USER.password });
  const viewer = new Api(serverApi().url, login.access_token as string);
  const upload = await viewer.send('PUT', `/api/v1/tenants/${TENANT}/plugins/sneaky/versions/1.0.0`, undefined, guestBytes('hello_p2.wasm'));
  expect(upload.status).toBe(403);
  const enable = await viewer.send('POST', `/api/v1/tenants/${TENANT}/plugins/hello/enable`, { version: '1.0.0' });
  expect(enable.status).toBe(403);
});

test('a viewer sees sites, the model and failed runs without the controls to change them', async ({ page, guard }) => {
  await signIn(page, VIEWER_USER);
  await openSection(page, TENANT, 'sites/handbook', 'Sites');
  await expect(page.getByRole('table', { name: /Versions of handbook/ })).toContainText('index.html');
  await expect(page.getByText('Your role may not change the live version.')).toBeVisible();
  await expect(page.getByRole('button', { name: /version/ })).toHaveCount(0);

  await openSection(page, TENANT, 'model', 'Model');
  await expect(page.getByTestId('model-current')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Save provider' })).toHaveCount(0);
  await expect(page.getByText('Your role may not change the model provider.')).toBeVisible();

  const runs = await serverApi().must('GET', `/api/v1/tenants/${TENANT}/runs?workflow=flaky&limit=1`);
  await openSection(page, TENANT, `workflows/runs/${runs.runs[0].id}`, 'Workflows');
  await expect(page.getByRole('button', { name: 'Retry run' })).toBeDisabled();
  await expect(page.getByRole('region', { name: 'Plan from a requirement' })).toHaveCount(0);
});
