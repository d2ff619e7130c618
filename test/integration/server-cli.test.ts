/**
 * Issue 22 item 2: `npm run server` starts a PostgreSQL with TLS and keeps it
 * until Ctrl-C or `npm run server -- stop`, printing the admin URL, the CA
 * file and the `pulumi config set` lines for examples/shared. Run here as the
 * README writes it (through npm, its own folder by --dir); the lines are
 * applied on the real engine in test/e2e/engine/first-hour.test.ts.
 */
import { spawn, ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { psql } from '../../lab/psql';
import { run } from '../../lab/run';
import { ROOT } from '../../lab/consumer';
import { expectedConfigLines } from '../support/server-cli-lines';

interface Started {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

/** `npm run -s server -- <args>` in its own process group (as a terminal runs it), resolved once it printed its stop hint. */
async function startServer(args: string[]): Promise<Started> {
  const child = spawn('npm', ['run', '-s', 'server', '--', ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const deadline = Date.now() + 120_000;
  while (!/Keep this running/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm run server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, out: () => out, exited };
}

describe('npm run server', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ps-server-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('prints a working verify-full admin URL, its CA and the examples/shared config lines; `stop` ends it and removes its data', async () => {
    const s = await startServer(['--dir', dir]);
    try {
      const text = s.out();
      const url = /^admin URL +(\S+)$/m.exec(text)?.[1];
      const ca = /^CA +(\S+)$/m.exec(text)?.[1];
      expect(url).toMatch(/^postgres:\/\/postgres:[^@]+@localhost:\d+\/postgres\?sslmode=verify-full&sslrootcert=/);
      expect(ca && existsSync(ca)).toBe(true);
      const r = await psql(url!, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
      expect(r.stdout.trim()).toBe('t');
      const lines = text.split('\n').filter((l) => l.startsWith('pulumi config set '));
      const port = new URL(url!).port;
      expect(lines).toEqual(expectedConfigLines(url!, ca!));
      expect(lines[0]).toBe('pulumi config set postgres-strategies:host localhost');
      // A second server on the same folder is refused while the first runs.
      const second = await run('npm', ['run', '-s', 'server', '--', '--dir', dir], { cwd: ROOT });
      expect(second.code).toBe(1);
      expect(second.stderr).toContain('is running');

      const stop = await run('npm', ['run', '-s', 'server', '--', 'stop', '--dir', dir], { cwd: ROOT });
      expect(stop.stdout).toContain(`stopped PostgreSQL 17 on localhost:${port}`);
      expect(stop.code).toBe(0);
      expect(await s.exited).toBe(0);
      expect(readdirSync(dir)).toEqual([]);
      expect((await psql(url!, 'SELECT 1')).code).not.toBe(0);
    } finally {
      if (s.child.exitCode === null) process.kill(-s.child.pid!, 'SIGTERM');
    }
  }, 240_000);

  test('Ctrl-C (SIGINT to its process group) stops it and removes its data', async () => {
    const s = await startServer(['--dir', dir, '--version', '16']);
    expect(s.out()).toMatch(/^PostgreSQL 16 \(embedded\) with TLS on localhost:\d+/m);
    process.kill(-s.child.pid!, 'SIGINT');
    await s.exited;
    expect(s.out()).toMatch(/stopped PostgreSQL 16 on localhost:\d+; its data and CA are removed/);
    expect(readdirSync(dir)).toEqual([]);
  }, 240_000);
});
