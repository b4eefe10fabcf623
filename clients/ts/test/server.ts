// Starts a real `neoforge serve` on a fresh SQLite database (or TEST_DATABASE_URL's server,
// on a database of its own) and stops it when the test file ends.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../../..');

/** The server binary: NEOFORGE_BIN, else `$CARGO_TARGET_DIR` or the repository's target/debug. */
export function binary(): string {
  const candidates = [
    process.env.NEOFORGE_BIN,
    process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, 'debug/neoforge'),
    join(repo, 'target/debug/neoforge'),
  ].filter((c): c is string => typeof c === 'string' && c !== '');
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`no neoforge binary (tried ${candidates.join(', ')}): run cargo build first`);
  return found;
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

export interface Server {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startServer(env: Record<string, string> = {}): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'neoforge-ts-'));
  const port = await freePort();
  const child: ChildProcess = spawn(binary(), ['serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: `sqlite://${join(dir, 'neoforge.db')}?mode=rwc`,
      NEOFORGE_BIND: `127.0.0.1:${port}`,
      NEOFORGE_RATE_LIMIT_ANONYMOUS: 'off',
      NEOFORGE_RATE_LIMIT_API: 'off',
      NEOFORGE_RATE_LIMIT_AUTH: 'off',
      NEOFORGE_RATE_LIMIT_ACCOUNT: 'off',
      RUST_LOG: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`neoforge exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('neoforge did not become ready in 60 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Registers a user and returns its credentials. */
export async function signUp(url: string, email: string, password = 'correct horse battery'): Promise<{ email: string; password: string }> {
  const res = await fetch(`${url}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, display_name: email.split('@')[0] }),
  });
  if (res.status !== 201) throw new Error(`register ${email}: ${res.status} ${await res.text()}`);
  return { email, password };
}
