// Session handling: an expired access token is refreshed; a session that
// cannot be refreshed goes back to sign-in; signing out ends the session.

import { serverApi } from './support/api';
import { consoleUrl, expect, openSection, signIn, test } from './support/console';
import { ADMIN_USER, TENANT } from './support/users';

const TOKENS = 'pa.console.tokens';

async function storedTokens(page: import('@playwright/test').Page): Promise<{ access: string; refresh?: string }> {
  return JSON.parse((await page.evaluate((key) => sessionStorage.getItem(key), TOKENS)) ?? 'null');
}

test('a refused access token is refreshed once; a dead session returns to sign-in', async ({ page, guard }) => {
  guard.allow(/Failed to load resource: the server responded with a status of 401/);
  await signIn(page, ADMIN_USER);
  const first = await storedTokens(page);

  // The access token no longer works (as after its 15 minutes): the refresh token gets a new pair.
  await page.evaluate(([key, refresh]) => sessionStorage.setItem(key!, JSON.stringify({ access: 'expired', refresh })), [TOKENS, first.refresh]);
  await openSection(page, TENANT, 'members', 'Members');
  await expect(page.getByRole('table', { name: `Members of ${TENANT}` })).toContainText(ADMIN_USER.username);
  const second = await storedTokens(page);
  expect(second.access).not.toBe('expired');
  expect(second.refresh).not.toBe(first.refresh);

  // Neither token works: back to sign-in, saying why.
  await page.evaluate((key) => sessionStorage.setItem(key, JSON.stringify({ access: 'expired', refresh: 'par_spent' })), TOKENS);
  await page.goto(consoleUrl(`#/t/${TENANT}/plugins`));
  await expect(page.getByText('Your session has expired. Please sign in again.')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Sign in', exact: true })).toBeVisible();
});

test('signing out ends the session on the server too', async ({ page }) => {
  await signIn(page, ADMIN_USER);
  const tokens = await storedTokens(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByText('You have signed out.')).toBeVisible();
  expect(await page.evaluate((key) => sessionStorage.getItem(key), TOKENS)).toBeNull();
  await expect
    .poll(async () => (await serverApi().send('POST', '/api/v1/auth/refresh', { refresh_token: tokens.refresh })).status)
    .toBe(401);
});
