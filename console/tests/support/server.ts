// Starting the real `pa serve` for the tests: a temporary data folder, a free
// port (the server picks it and prints `listening on URL`), the bootstrap admin token.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const ADMIN_TOKEN = 'console-test-admin-token';

export interface Server {
  url: string;
  process: ChildProcess;
  dataDir: string;
  stop: () => Promise<void>;
}

export function requiredPath(variable: string): string {
  const value = process.env[variable];
  if (!value) throw new Error(`set ${variable}: the tests need it (see console/README.md)`);
  const path = resolve(value);
  if (!existsSync(path)) throw new Error(`${variable}=${path} does not exist`);
  return path;
}

export async function startServer(bin: string, consoleDist: string): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pa-console-test-'));
  const child = spawn(bin, ['serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
    env: {
      ...process.env,
      PA_ADMIN_TOKEN: ADMIN_TOKEN,
      PA_LOG: 'warn',
      PA_CONSOLE_DIR: consoleDist,
      // The first-party components are among the built guests.
      PA_FIRST_PARTY_DIR: process.env.PA_GUESTS,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((ok, fail) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => fail(new Error('pa serve did not start listening within 60 s')), 60_000);
    child.once('exit', (code) => fail(new Error(`pa serve exited with ${code} before listening`)));
    lines.on('line', (line) => {
      const at = line.indexOf('listening on ');
      if (at >= 0) {
        clearTimeout(timer);
        ok(line.slice(at + 'listening on '.length).trim());
      }
    });
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((done) => setTimeout(done, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { url, process: child, dataDir, stop };
}

export async function waitUntilReady(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const response = await fetch(`${url}/readyz`).catch(() => null);
    if (response?.ok) return;
    if (Date.now() > deadline) throw new Error(`${url}/readyz never answered 200`);
    await new Promise((done) => setTimeout(done, 200));
  }
}
