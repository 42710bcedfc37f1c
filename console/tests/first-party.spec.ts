// First-party components: a platform administrator creates a tenant with
// some enabled, and its admin enables another from the Plugins page.

import { serverApi } from './support/api';
import { checkAccessibility, consoleUrl, expect, signIn, test } from './support/console';

const PLATFORM_ADMIN = { username: 'pat', password: 'pat-password-1' };

test('a platform admin creates a tenant with smartui, then enables coding from its Plugins page', async ({ page }) => {
  await serverApi().must('POST', '/api/v1/users', { ...PLATFORM_ADMIN, platform_admin: true });
  await signIn(page, PLATFORM_ADMIN);

  // Every tenant of the platform is listed; a new one is created with smartui.
  const all = page.getByRole('region', { name: 'All tenants (platform administrator)' });
  await expect(all.getByRole('link', { name: /acme/ })).toBeVisible();
  const form = page.getByRole('form', { name: 'Create a tenant' });
  await form.getByLabel('Tenant id').fill('newco');
  await form.getByRole('checkbox', { name: 'smartui' }).check();
  await checkAccessibility(page, 'the tenant picker of a platform admin');
  await form.getByRole('button', { name: 'Create tenant' }).click();

  // Its Plugins page: smartui enabled on creation, coding enabled on request.
  await expect(page.getByRole('heading', { level: 1, name: 'Plugins' })).toBeVisible();
  await expect(page).toHaveURL(consoleUrl('#/t/newco/plugins'));
  const offer = page.getByRole('group', { name: 'First-party components' });
  await offer.locator('summary').click();
  await expect(offer.getByTestId('first-party-smartui')).toContainText('enabled');
  await offer.getByRole('button', { name: 'Enable coding' }).click();
  await expect(offer.getByTestId('first-party-coding')).toContainText('enabled');
  await expect(page.getByRole('heading', { name: 'coding' })).toBeVisible();
  await checkAccessibility(page, 'the Plugins page with the first-party offer open');
});
