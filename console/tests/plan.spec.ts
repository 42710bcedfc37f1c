// The orchestrator plans a requirement from the Workflows page.

import { serverApi } from './support/api';
import { consoleUrl, expect, signIn, test } from './support/console';
import { ADMIN_USER, REQUIREMENT, TENANT } from './support/users';

const OCR_TENANT = 'ocr';

test('a requirement is planned with the rules planner as the OCR experience template', async ({ page }) => {
  await signIn(page, ADMIN_USER);
  await page.goto(consoleUrl(`#/t/${TENANT}/workflows`));
  const box = page.getByRole('region', { name: 'Plan from a requirement' });
  await box.getByLabel(/^Requirement/).fill(REQUIREMENT);
  await box.getByRole('button', { name: 'Plan', exact: true }).click();

  const plan = box.getByTestId('plan');
  await expect(plan).toContainText('ocr-experience');
  await expect(plan.locator('dd').nth(0)).toHaveText('ocr-experience');
  await expect(plan.locator('dd').nth(2)).toHaveText('rules');
  await expect(plan.getByLabel('Parameters of the plan')).toContainText('"requirement"');
  await expect(box.getByRole('button', { name: 'Start this plan' })).toBeEnabled();
});

test('a planned requirement is started with extra input and its run is shown', async ({ page }) => {
  const admin = serverApi();
  await admin.createTenant(OCR_TENANT);
  await admin.must('PUT', `/api/v1/tenants/${OCR_TENANT}/members/${ADMIN_USER.username}`, { role: 'admin' });
  const grants: Record<string, object> = {
    requirements: { model: true },
    implementation: { ocr: true },
    release: { key_value_stores: ['default'] },
    operations: { key_value_stores: ['default'] },
  };
  for (const agent of ['requirements', 'design', 'implementation', 'testing', 'release', 'operations']) {
    await admin.deploy(OCR_TENANT, `ocr-${agent}`, `ocr_${agent}.wasm`, { grants: grants[agent] ?? {} });
  }

  await signIn(page, ADMIN_USER);
  await page.goto(consoleUrl(`#/t/${OCR_TENANT}/workflows`));
  const box = page.getByRole('region', { name: 'Plan from a requirement' });
  await box.getByLabel(/^Requirement/).fill(REQUIREMENT);
  await box.getByLabel(/^Extra run input/).fill('{"samples": []}');
  await box.getByRole('button', { name: 'Plan', exact: true }).click();
  await box.getByRole('button', { name: 'Start this plan' }).click();

  await expect(page).toHaveURL(/#\/t\/ocr\/workflows\/runs\/[^/]+$/);
  const view = page.getByRole('region', { name: /Run of ocr-experience/ });
  await expect(view.getByTestId('step-requirements')).toContainText('succeeded');
  const runId = decodeURIComponent(page.url().split('/').pop() ?? '');
  const run = await admin.must('GET', `/api/v1/tenants/${OCR_TENANT}/runs/${runId}`);
  expect(run.workflow).toBe('ocr-experience');
  expect(run.input).toMatchObject({ samples: [], requirement: REQUIREMENT });
});
