// The tenant's model provider: set with a key that is never shown back, then removed.

import { consoleUrl, expect, signIn, test } from './support/console';
import { ADMIN_USER, TENANT } from './support/users';

const KEY = 'sk-console-test-secret-1234';

test('a tenant admin sets the model provider, sees that a key is set but not the key, and removes it', async ({ page, guard }) => {
  await signIn(page, ADMIN_USER);
  await page.goto(consoleUrl(`#/t/${TENANT}/model`));
  const current = page.getByTestId('model-current');
  await expect(current).toContainText('Built-in model');

  await page.getByLabel(/^Base URL/).fill('https://models.example.com/v1');
  await page.getByLabel('Model', { exact: true }).fill('tiny-llm');
  await page.getByLabel(/^API key/).fill(KEY);
  await page.getByRole('button', { name: 'Save provider' }).click();

  await expect(current).toContainText('https://models.example.com/v1');
  await expect(current).toContainText('tiny-llm');
  await expect(current).toContainText('key set');
  await expect(page.getByLabel(/^API key/)).toHaveValue('');
  await expect(page.getByLabel(/^API key/)).toHaveAttribute('type', 'password');
  expect(await page.content()).not.toContain(KEY);
  await page.reload();
  await expect(current).toContainText('key set');
  expect(await page.content()).not.toContain(KEY);

  await page.getByRole('button', { name: 'Remove provider' }).click();
  await expect(current).toContainText('Built-in model');
  await expect(page.getByRole('button', { name: 'Remove provider' })).toHaveCount(0);
});
