// Setting up what the browser tests need through the public API, as the
// Rust end-to-end tests do (tests/e2e/support.rs).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export class Api {
  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  async send(method: string, path: string, body?: unknown, raw?: Uint8Array | string): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    let payload: BodyInit | undefined;
    if (raw !== undefined) payload = raw as BodyInit;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const response = await fetch(`${this.url}${path}`, { method, headers, body: payload });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep text
    }
    return { status: response.status, body: parsed };
  }

  async must(method: string, path: string, body?: unknown, raw?: Uint8Array | string): Promise<any> {
    const answer = await this.send(method, path, body, raw);
    if (answer.status >= 300) {
      throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    return answer.body;
  }

  createTenant(id: string) {
    return this.must('POST', '/api/v1/tenants', { id });
  }

  /** A password user with `role` in `tenant` (created on first use). */
  member(tenant: string, username: string, role: string, password: string) {
    return this.must('PUT', `/api/v1/tenants/${tenant}/members/${username}`, { role, password });
  }

  async deploy(tenant: string, name: string, file: string, enable: Record<string, unknown> = {}) {
    await this.must('PUT', `/api/v1/tenants/${tenant}/plugins/${name}/versions/1.0.0`, undefined, guestBytes(file));
    await this.must('POST', `/api/v1/tenants/${tenant}/plugins/${name}/enable`, { version: '1.0.0', ...enable });
  }

  /** Waits until the run has ended; returns it (with its steps). */
  async finished(tenant: string, run: string, timeoutMs = 20_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await this.must('GET', `/api/v1/tenants/${tenant}/runs/${run}`);
      if (['succeeded', 'failed', 'cancelled'].includes(answer.state)) return answer;
      if (Date.now() > deadline) throw new Error(`run ${run} is still ${answer.state} after ${timeoutMs} ms`);
      await new Promise((done) => setTimeout(done, 100));
    }
  }

  /** Starts a run of `workflow` and waits until it has ended. */
  async runToEnd(tenant: string, workflow: string, input: unknown = {}): Promise<any> {
    const run = await this.must('POST', `/api/v1/tenants/${tenant}/workflows/${workflow}/runs`, { input });
    return this.finished(tenant, run.id as string);
  }

  async apiKey(tenant: string, role: string): Promise<string> {
    const created = await this.must('POST', `/api/v1/tenants/${tenant}/api-keys`, { role, name: `${role} key` });
    return created.key as string;
  }
}

export function guestPath(file: string): string {
  const dir = process.env.PA_GUESTS;
  if (!dir) throw new Error('set PA_GUESTS to the folder of built guest components');
  return join(dir, file);
}

export function guestBytes(file: string): Uint8Array {
  return new Uint8Array(readFileSync(guestPath(file)));
}

export function serverApi(token = process.env.PA_ADMIN_TOKEN_FOR_TESTS ?? ''): Api {
  const url = process.env.PA_URL;
  if (!url) throw new Error('PA_URL is set by the global setup');
  return new Api(url, token);
}
