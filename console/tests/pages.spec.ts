// Every page at desktop and phone width: no serious accessibility
// violation (axe-core), no console error, and a screenshot in
// test-results/screenshots/<page>-<desktop|phone>.png.

import type { Page } from '@playwright/test';
import { serverApi } from './support/api';
import { DESKTOP, PHONE, checkAccessibility, consoleUrl, expect, screenshot, signIn, test } from './support/console';
import { ADMIN_USER, REQUIREMENT, TENANT } from './support/users';

interface Shot {
  name: string;
  hash: string;
  heading: string;
  /** What shows the page has its data. */
  ready?: (page: Page) => Promise<void>;
  /** The page keeps a stream open (a run's events): the network never idles. */
  live?: boolean;
}

async function shots(): Promise<Shot[]> {
  const newestRun = async (workflow: string) => {
    const runs = await serverApi().must('GET', `/api/v1/tenants/${TENANT}/runs?workflow=${workflow}&limit=1`);
    const id = (runs.runs as { id: string }[])[0]?.id;
    if (!id) throw new Error(`the global setup started a run of \`${workflow}\``);
    return id;
  };
  const runId = await newestRun('release');
  const failedRunId = await newestRun('flaky');
  const t = (page: string) => `#/t/${TENANT}/${page}`;
  return [
    { name: 'tenants', hash: '#/', heading: 'Choose a tenant' },
    {
      name: 'plugins',
      hash: t('plugins'),
      heading: 'Plugins',
      ready: (p) => expect(p.getByRole('article', { name: 'hello' })).toBeVisible(),
    },
    {
      name: 'functions',
      hash: t('functions'),
      heading: 'Functions',
      ready: (p) => expect(p.getByRole('table', { name: 'Routes' })).toBeVisible(),
    },
    {
      name: 'mcp',
      hash: t('mcp'),
      heading: 'MCP',
      ready: (p) => expect(p.getByRole('heading', { name: /^Tools \(\d+\)$/ })).toBeVisible(),
    },
    {
      name: 'workflows',
      hash: t('workflows'),
      heading: 'Workflows',
      ready: (p) => expect(p.getByRole('table', { name: 'Runs, newest first' })).toBeVisible(),
    },
    {
      name: 'workflow-run',
      hash: t(`workflows/runs/${runId}`),
      heading: 'Workflows',
      ready: (p) => expect(p.getByTestId('step-approve')).toContainText('waiting'),
      live: true,
    },
    {
      name: 'workflow-run-failed',
      hash: t(`workflows/runs/${failedRunId}`),
      heading: 'Workflows',
      ready: async (p) => {
        await expect(p.getByRole('list', { name: 'Logs of work' })).toContainText('hello from the step');
        await p.getByText('Input and output of work').click();
        await expect(p.getByLabel('Input given to work')).toBeVisible();
      },
    },
    {
      name: 'workflow-plan',
      hash: t('workflows'),
      heading: 'Workflows',
      ready: async (p) => {
        await p.getByLabel(/^Requirement/).fill(REQUIREMENT);
        await p.getByRole('button', { name: 'Plan', exact: true }).click();
        await expect(p.getByTestId('plan')).toContainText('ocr-experience');
      },
    },
    {
      name: 'workflow-definition',
      hash: t('workflows/definitions/release'),
      heading: 'Workflows',
      ready: (p) => expect(p.getByRole('heading', { name: /release, version/ })).toBeVisible(),
    },
    {
      name: 'sites',
      hash: t('sites'),
      heading: 'Sites',
      ready: (p) => expect(p.getByRole('link', { name: 'handbook', exact: true })).toBeVisible(),
    },
    {
      name: 'site',
      hash: t('sites/handbook'),
      heading: 'Sites',
      ready: (p) => expect(p.getByRole('table', { name: /Versions of handbook/ })).toContainText('index.html'),
    },
    {
      name: 'model',
      hash: t('model'),
      heading: 'Model',
      ready: (p) => expect(p.getByTestId('model-current')).toBeVisible(),
    },
    {
      name: 'monitoring',
      hash: t('monitoring'),
      heading: 'Monitoring',
      ready: async (p) => {
        await expect(p.getByRole('figure').first()).toBeVisible();
        await p.getByLabel('Plugin', { exact: true }).selectOption('printer');
        await expect(p.getByRole('table', { name: /Recent log lines of printer/ })).toContainText('hello from the printer');
      },
    },
    {
      name: 'members',
      hash: t('members'),
      heading: 'Members',
      ready: (p) => expect(p.getByRole('table', { name: `Members of ${TENANT}` })).toBeVisible(),
    },
    {
      name: 'teams',
      hash: t('teams'),
      heading: 'Teams',
      ready: (p) => expect(p.getByRole('heading', { name: /Platform team/ })).toBeVisible(),
    },
    {
      name: 'roles',
      hash: t('roles'),
      heading: 'Roles',
      ready: (p) => expect(p.getByRole('table', { name: 'Roles and their permissions' })).toBeVisible(),
    },
    {
      name: 'api-keys',
      hash: t('api-keys'),
      heading: 'API keys',
      ready: (p) => expect(p.getByRole('button', { name: 'Create key' })).toBeVisible(),
    },
    {
      name: 'audit',
      hash: t('audit'),
      heading: 'Audit log',
      ready: (p) => expect(p.getByTestId('audit-table')).toBeVisible(),
    },
    {
      name: 'billing',
      hash: t('billing'),
      heading: 'Usage and invoices',
      ready: (p) => expect(p.getByRole('heading', { name: /^Invoice / })).toBeVisible(),
    },
  ];
}

for (const [size, viewport] of [
  ['desktop', DESKTOP],
  ['phone', PHONE],
] as const) {
  test(`every page at ${size} width is accessible and has a screenshot`, async ({ page, guard }) => {
    await page.setViewportSize(viewport);
    await page.goto(consoleUrl());
    await expect(page.getByRole('heading', { name: 'Sign in', exact: true })).toBeVisible();
    await checkAccessibility(page, `sign-in (${size})`);
    await screenshot(page, 'sign-in', size);

    await signIn(page, ADMIN_USER);
    for (const shot of await shots()) {
      await page.goto(consoleUrl(shot.hash));
      await expect(page.getByRole('heading', { level: 1, name: shot.heading })).toBeVisible();
      await shot.ready?.(page);
      if (!shot.live) await page.waitForLoadState('networkidle');
      await checkAccessibility(page, `${shot.name} (${size})`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${shot.name} is wider than the ${size} viewport`).toBeLessThanOrEqual(0);
      await screenshot(page, shot.name, size);
    }
  });
}

test('the API key page shows a new key once', async ({ page }) => {
  await signIn(page, ADMIN_USER);
  await page.goto(consoleUrl(`#/t/${TENANT}/api-keys`));
  await page.getByLabel('Label').fill('ci deploys');
  await page.getByLabel('Role', { exact: true }).selectOption('developer');
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = await page.getByTestId('new-key').inputValue();
  expect(key).toMatch(/^pa_/);
  await expect(page.getByRole('table', { name: /Keys of acme/ })).toContainText('ci deploys');
  await page.reload();
  await expect(page.getByRole('table', { name: /Keys of acme/ })).toContainText('ci deploys');
  await expect(page.getByTestId('new-key')).toHaveCount(0);
  expect(await page.content()).not.toContain(key);

  // The key works on the MCP endpoint: the playground connects with it.
  await page.goto(consoleUrl(`#/t/${TENANT}/mcp`));
  await page.getByLabel(/^API key/).fill(key);
  await page.getByRole('button', { name: 'Connect' }).click();
  await expect(page.getByRole('heading', { name: /^Tools \(\d+\)$/ })).toBeVisible();
  await page.getByLabel('Tool', { exact: true }).selectOption('tools_test_simple_text');
  await page.getByRole('button', { name: 'Call tool' }).click();
  await expect(page.getByTestId('tool-result')).toContainText('This is a simple text response for testing.');
});
