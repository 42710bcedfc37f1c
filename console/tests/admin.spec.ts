// The tenant admin's path through the console: upload (refused, then
// accepted), enable with a grant, call the function, find the audit entry.

import { readFileSync } from 'node:fs';
import { consoleUrl, expect, openSection, signIn, test } from './support/console';
import { guestPath } from './support/api';
import { ADMIN_USER, TENANT } from './support/users';

const NOT_A_COMPONENT = Buffer.from('\0asm\x01\0\0\0'); // a core module, not a component

test('a tenant admin uploads, sees a refusal, enables with a grant, calls the function and finds the audit entry', async ({
  page,
  guard,
}) => {
  guard.allow(/Failed to load resource: the server responded with a status of 4\d\d/);
  await signIn(page, ADMIN_USER);

  // The tenant picker lists the user's tenants with their role.
  await expect(page.getByRole('heading', { name: 'Choose a tenant' })).toBeVisible();
  await page.getByRole('link', { name: /acme\s*role: admin/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Plugins' })).toBeVisible();

  // A refused upload, dropped on the drop zone: the server's message, verbatim.
  const dataTransfer = await page.evaluateHandle((bytes) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(bytes)], 'broken.wasm', { type: 'application/wasm' }));
    return transfer;
  }, [...NOT_A_COMPONENT]);
  await page.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer });
  await expect(page.getByTestId('drop-zone')).toContainText('broken.wasm (8 bytes)');
  await expect(page.getByLabel('Plugin name')).toHaveValue('broken');
  const refusedAnswer = page.waitForResponse((r) => r.url().includes('/plugins/broken/versions/1.0.0'));
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  const refused = await refusedAnswer;
  expect(refused.status()).toBeGreaterThanOrEqual(400);
  const message = ((await refused.json()) as { error: { message: string } }).error.message;
  await expect(page.getByTestId('upload-refusal')).toHaveText(message);

  // A real component through the file chooser, with progress.
  await page.getByLabel('Choose a file').setInputFiles({
    name: 'hello_p2.wasm',
    mimeType: 'application/wasm',
    buffer: readFileSync(guestPath('hello_p2.wasm')),
  });
  await page.getByLabel('Plugin name').fill('greeter');
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Uploaded greeter 1.0.0 (wasi:http/proxy@0.2).' })).toBeVisible();
  await expect(page.getByLabel('Upload progress')).toHaveJSProperty('value', 1);
  await expect(page.getByTestId('upload-refusal')).toHaveCount(0);

  // Enable it with grants: a variable and a key-value store.
  const greeter = page.getByRole('article', { name: 'greeter' });
  await greeter.getByRole('button', { name: 'Enable greeter' }).click();
  await greeter.getByLabel('Variables (name=value, one per line)').fill('greeting=hi');
  await greeter.getByLabel('Key-value stores (one per line, e.g. default)').fill('default');
  const enableAnswer = page.waitForRequest((r) => r.url().endsWith('/plugins/greeter/enable'));
  await greeter.getByRole('button', { name: 'Enable 1.0.0' }).click();
  const sent = (await enableAnswer).postDataJSON() as { grants: { variables: Record<string, string>; key_value_stores: string[] } };
  expect(sent.grants).toMatchObject({ variables: { greeting: 'hi' }, key_value_stores: ['default'] });
  await expect(greeter.getByText('Enabled greeter 1.0.0.')).toBeVisible();
  await expect(greeter.getByText('Serving 1.0.0')).toBeVisible();

  // Call it from the "try it" box.
  await openSection(page, TENANT, 'functions', 'Functions');
  await expect(page.getByRole('table', { name: 'Routes' })).toContainText(`/t/${TENANT}/fn/greeter/…`);
  await page.getByLabel('Function', { exact: true }).selectOption('greeter');
  await page.getByLabel(/^Path after/).fill('/hi');
  await page.getByRole('button', { name: 'Send request' }).click();
  await expect(page.getByTestId('answer-status')).toHaveText('200');
  await expect(page.getByTestId('answer-body')).toHaveText('hello from pa');
  await expect(page.getByRole('table', { name: 'Response headers' })).toContainText('text/plain');

  // The audit log has the enable, by alice.
  await openSection(page, TENANT, 'audit', 'Audit log');
  await page.getByLabel('Action (e.g. plugin.enable)').fill('plugin.enable');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  const row = page.getByTestId('audit-table').getByRole('row').filter({ hasText: '/plugins/greeter/enable' });
  await expect(row).toContainText('plugin.enable');
  await expect(row).toContainText(`user:${ADMIN_USER.username}`);
  await expect(row).toContainText('success');

  // And exports it as CSV.
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe(`audit-${TENANT}.csv`);
  const csv = readFileSync(await file.path(), 'utf8');
  expect(csv).toContain('plugin.enable');
  expect(csv).toContain('greeter');
  expect(page.url()).toContain(consoleUrl('#/t/acme/audit'));
});
