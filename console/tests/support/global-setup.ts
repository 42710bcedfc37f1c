// Starts `pa serve` (PA_BIN) with the built console, checks it serves the
// console at /console/, and seeds tenants, users and plugins through the API.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Api } from './api';
import { ADMIN_TOKEN, requiredPath, startServer, waitUntilReady } from './server';
import {
  ADMIN_USER,
  FLAKY_WORKFLOW,
  FLOWS_TENANT,
  OPERATOR_USER,
  PUBLISH_WORKFLOW,
  RELEASE_WORKFLOW,
  TENANT,
  VIEWER_USER,
} from './users';

async function seed(api: Api): Promise<void> {
  await api.createTenant(TENANT);
  await api.createTenant(FLOWS_TENANT);
  for (const user of [ADMIN_USER, VIEWER_USER]) await api.member(TENANT, user.username, user.role, user.password);
  await api.must('PUT', `/api/v1/tenants/${TENANT}/members/${OPERATOR_USER.username}`, {
    role: OPERATOR_USER.role,
    password: OPERATOR_USER.password,
  });
  await api.must('PUT', `/api/v1/tenants/${FLOWS_TENANT}/members/${OPERATOR_USER.username}`, { role: OPERATOR_USER.role });

  await api.deploy(TENANT, 'hello', 'hello_p2.wasm');
  await api.deploy(TENANT, 'tools', 'conformance.wasm');
  await api.deploy(FLOWS_TENANT, 'tools', 'conformance.wasm');
  await api.must('PUT', `/api/v1/tenants/${TENANT}/workflows/release`, undefined, RELEASE_WORKFLOW);
  await api.must('POST', `/api/v1/tenants/${TENANT}/workflows/release/runs`, { input: { tag: 'v0.9' } });

  // A workflow-step plugin: a failed run with a log line, a published site.
  await api.deploy(TENANT, 'steps', 'test_step.wasm', { grants: { key_value_stores: ['default'], sites: ['handbook'] } });
  await api.must('PUT', `/api/v1/tenants/${TENANT}/workflows/flaky`, undefined, FLAKY_WORKFLOW);
  await api.runToEnd(TENANT, 'flaky');
  await api.must('PUT', `/api/v1/tenants/${TENANT}/workflows/publish`, undefined, PUBLISH_WORKFLOW('steps'));
  await api.runToEnd(TENANT, 'publish', { site: 'handbook', html: '<h1>Handbook</h1>' });

  await api.must('PUT', `/api/v1/tenants/${TENANT}/teams/company`, { name: 'Acme Inc.' });
  await api.must('PUT', `/api/v1/tenants/${TENANT}/teams/platform`, { name: 'Platform team', parent: 'company', role: 'developer' });
  await api.must('PUT', `/api/v1/tenants/${TENANT}/teams/platform/members/${ADMIN_USER.username}`);
  for (let i = 0; i < 3; i++) await fetch(`${api.url}/t/${TENANT}/fn/hello/`);

  // A function that prints (functions/faults), for the Monitoring page's logs.
  await api.deploy(TENANT, 'printer', 'faults.wasm');
  await fetch(`${api.url}/t/${TENANT}/fn/printer/print?hello%20from%20the%20printer`);
}

async function checkConsoleIsServed(url: string): Promise<void> {
  const response = await fetch(`${url}/console/`);
  const text = await response.text();
  if (!response.ok || !text.includes('id="root"')) {
    throw new Error(
      `pa serve does not serve the console at ${url}/console/ (HTTP ${response.status}); ` +
        'it must serve console/dist there (PA_CONSOLE_DIR is set to it)',
    );
  }
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const bin = requiredPath('PA_BIN');
  requiredPath('PA_GUESTS');
  const dist = fileURLToPath(new URL('../../dist', import.meta.url));
  if (!existsSync(`${dist}/index.html`)) throw new Error(`${dist}/index.html is missing: run \`npm run build\` first`);
  const server = await startServer(bin, dist);
  try {
    await waitUntilReady(server.url);
    await checkConsoleIsServed(server.url);
    await seed(new Api(server.url, ADMIN_TOKEN));
  } catch (e) {
    await server.stop();
    throw e;
  }
  process.env.PA_URL = server.url;
  process.env.PA_ADMIN_TOKEN_FOR_TESTS = ADMIN_TOKEN;
  return server.stop;
}
