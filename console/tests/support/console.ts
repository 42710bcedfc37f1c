// The browser side of the tests: a `test` that fails on any browser console
// error or page error the test did not declare, signing in, axe checks and
// screenshots.

import { test as base, expect, type Page } from '@playwright/test';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const SCREENSHOTS = 'test-results/screenshots';
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Collects console errors and uncaught page errors. */
export class ConsoleGuard {
  readonly problems: string[] = [];
  private readonly allowed: RegExp[] = [];

  constructor(page: Page) {
    page.on('console', (message) => {
      if (message.type() === 'error') this.problems.push(`console error: ${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (error) => this.problems.push(`page error: ${error.message}`));
  }

  /** Declares an error the test provokes on purpose (e.g. the 422 of a refused upload). */
  allow(pattern: RegExp): void {
    this.allowed.push(pattern);
  }

  unexpected(): string[] {
    return this.problems.filter((p) => !this.allowed.some((a) => a.test(p)));
  }
}

export const test = base.extend<{ guard: ConsoleGuard }>({
  guard: [
    async ({ page }, use) => {
      const guard = new ConsoleGuard(page);
      await use(guard);
      expect(guard.unexpected(), 'browser console errors and page errors').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export function consoleUrl(hash = ''): string {
  const url = process.env.PA_URL;
  if (!url) throw new Error('PA_URL is set by the global setup');
  return `${url}/console/${hash}`;
}

export async function signIn(page: Page, user: { username: string; password: string }): Promise<void> {
  await page.goto(consoleUrl());
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

/** Opens a page of a tenant through the navigation and waits for its heading. */
export async function openSection(page: Page, tenant: string, id: string, heading: string): Promise<void> {
  await page.goto(consoleUrl(`#/t/${tenant}/${id}`));
  await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
}

/**
 * Runs axe-core on the page; fails on serious or critical violations. The
 * console's Content-Security-Policy forbids inline scripts, so axe is
 * evaluated through the DevTools protocol rather than added as a <script>.
 */
export async function checkAccessibility(page: Page, what: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<any> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return (result.violations as any[]).map((v) => ({
      id: v.id as string,
      impact: v.impact as string,
      help: v.help as string,
      targets: (v.nodes as any[]).slice(0, 5).map((n) => String(n.target)),
    }));
  });
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, `serious accessibility violations on ${what}`).toEqual([]);
}

export async function screenshot(page: Page, name: string, size: 'desktop' | 'phone'): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}/${name}-${size}.png`, fullPage: true });
}
