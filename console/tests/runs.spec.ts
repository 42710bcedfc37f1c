// The run view shows what a step was given and what it logged, follows the
// run through the event stream, and retries a failed run.

import { serverApi } from './support/api';
import { consoleUrl, expect, signIn, test } from './support/console';
import { ADMIN_USER, TENANT } from './support/users';

test('a failed run shows its step input and logs and is retried from the console', async ({ page }) => {
  const admin = serverApi();
  const failed = await admin.runToEnd(TENANT, 'flaky');
  expect(failed.state).toBe('failed');

  const streams: string[] = [];
  page.on('request', (r) => r.url().endsWith('/events') && streams.push(r.url()));
  await signIn(page, ADMIN_USER);
  await page.goto(consoleUrl(`#/t/${TENANT}/workflows/runs/${failed.id}`));
  await expect(page.getByRole('heading', { name: /Run of flaky/ })).toContainText('failed');
  expect(streams).toContain(`${process.env.PA_URL}/api/v1/tenants/${TENANT}/runs/${failed.id}/events`);

  const step = page.getByTestId('step-work');
  await expect(step).toContainText('failing attempt 1 of 5 as asked');
  await expect(step.getByRole('list', { name: 'Logs of work' })).toContainText('hello from the step');
  await step.getByText('Input and output of work').click();
  const given = step.getByLabel('Input given to work');
  await expect(given).toContainText('"fail": 5');
  await expect(given).toContainText('"retryable": false');

  await page.getByRole('button', { name: 'Retry run' }).click();
  await expect(page).not.toHaveURL(new RegExp(`${failed.id}$`));
  const retriedId = decodeURIComponent(page.url().split('/').pop() ?? '');
  expect(retriedId).not.toBe(failed.id);
  const view = page.getByRole('region', { name: /Run of flaky/ });
  await expect(view).toContainText(retriedId);
  await expect(view.getByRole('heading', { name: /Run of flaky/ })).toContainText('failed');
  await expect(view.getByRole('list', { name: 'Logs of work' })).toContainText('hello from the step');

  const retried = await admin.must('GET', `/api/v1/tenants/${TENANT}/runs/${retriedId}`);
  expect(retried).toMatchObject({ workflow: 'flaky', version: failed.version, state: 'failed', started_by: `user:${ADMIN_USER.username}` });
  expect(retried.steps[0].logs[0].message).toContain('hello from the step');
});

test('without the event stream the run view falls back to polling', async ({ page, guard }) => {
  guard.allow(/net::ERR_FAILED/);
  const runs = await serverApi().must('GET', `/api/v1/tenants/${TENANT}/runs?workflow=release&limit=1`);
  const run = runs.runs[0] as { id: string };
  await page.route('**/events', (route) => route.abort());
  await signIn(page, ADMIN_USER);
  await page.goto(consoleUrl(`#/t/${TENANT}/workflows/runs/${run.id}`));
  await expect(page.getByText('Following the run, refreshed every second.')).toBeVisible();
  await expect(page.getByTestId('step-approve')).toContainText('waiting');
});
