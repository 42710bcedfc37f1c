// A run waiting for approval is approved from the console and succeeds.

import { serverApi } from './support/api';
import { consoleUrl, expect, signIn, test } from './support/console';
import { FLOWS_TENANT, OPERATOR_USER, RELEASE_WORKFLOW } from './support/users';

test('an operator approves a waiting workflow step from the console and the run succeeds', async ({ page }) => {
  const admin = serverApi();
  await admin.must('PUT', `/api/v1/tenants/${FLOWS_TENANT}/workflows/deploy`, undefined, RELEASE_WORKFLOW);
  const run = await admin.must('POST', `/api/v1/tenants/${FLOWS_TENANT}/workflows/deploy/runs`, { input: { tag: 'v2' } });

  await signIn(page, OPERATOR_USER);
  await page.getByRole('link', { name: /flows\s*role: operator/ }).click();
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Workflows' }).click();
  await page.getByRole('link', { name: run.id as string }).click();
  expect(page.url()).toBe(consoleUrl(`#/t/${FLOWS_TENANT}/workflows/runs/${run.id}`));

  const approve = page.getByTestId('step-approve');
  await expect(approve).toContainText('waiting');
  await expect(page.getByTestId('step-build')).toContainText('succeeded');
  await expect(page.getByTestId('step-ship')).toContainText('pending');
  await expect(approve).toContainText('Ship v2?'); // the message as the engine filled it in
  await approve.getByLabel('Comment for step approve').fill('looks good');
  await approve.getByRole('button', { name: 'Approve approve' }).click();

  await expect(page.getByRole('heading', { name: /Run of deploy/ })).toContainText('succeeded', { timeout: 30_000 });
  await expect(page.getByTestId('step-ship')).toContainText('succeeded');
  await expect(approve).toContainText(`user:${OPERATOR_USER.username}`);

  const finished = await admin.must('GET', `/api/v1/tenants/${FLOWS_TENANT}/runs/${run.id}`);
  expect(finished.state).toBe('succeeded');
  const step = (finished.steps as { id: string; output: { approved: boolean; comment: string } }[]).find((s) => s.id === 'approve');
  expect(step?.output).toMatchObject({ approved: true, comment: 'looks good' });
});
