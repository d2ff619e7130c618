/**
 * `npm run server -- --flavour docker` (lab/docker-server.ts): a PostgreSQL
 * with TLS in a container of the lab's Docker engine, kept until `stop` (or
 * Ctrl-C), printing the admin URL, the CA file and the `pulumi config set`
 * lines for examples/shared as the embedded flavour does
 * (test/integration/server-cli.test.ts). Checked from outside with psql
 * (verify-full); `stop` removes the container and the folder, and leaves the
 * lab engine to its other holders.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../lab/consumer';
import { DockerLab, startDockerLab } from '../../lab/docker';
import { psql } from '../../lab/psql';
import { run } from '../../lab/run';
import { expectedConfigLines } from '../support/server-cli-lines';

jest.setTimeout(15 * 60_000);

let lab: DockerLab;
let dir: string;
beforeAll(async () => {
  lab = await startDockerLab(); // held here too: the check below sees the engine after the server let go of it
  dir = mkdtempSync(join(tmpdir(), 'ps-docker-server-'));
}, 10 * 60_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await lab?.release();
}, 120_000);

test('--flavour docker: a verify-full admin URL, its CA, the examples/shared lines; `stop` removes the container and the data', async () => {
  const child = spawn('npm', ['run', '-s', 'server', '--', '--flavour', 'docker', '--version', '15', '--dir', dir], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  try {
    const deadline = Date.now() + 10 * 60_000; // the lab builds postgres:15 when it has no image yet
    while (!/Keep this running/.test(out)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm run server -- --flavour docker did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(out).toMatch(/^PostgreSQL 15 \(docker\) with TLS on 127\.0\.0\.1:\d+, max_connections 100$/m);
    const url = /^admin URL +(\S+)$/m.exec(out)?.[1];
    const ca = /^CA +(\S+)$/m.exec(out)?.[1];
    expect(url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/postgres\?sslmode=verify-full&sslrootcert=/);
    expect(ca && existsSync(ca)).toBe(true);
    const r = await psql(url!, "SELECT ssl, current_setting('server_version_num')::int / 10000 FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    expect(r.stdout.trim()).toBe('t|15');
    const port = new URL(url!).port;
    const lines = out.split('\n').filter((l) => l.startsWith('pulumi config set '));
    expect(lines).toEqual(expectedConfigLines(url!, ca!));
    expect(lines[0]).toBe('pulumi config set postgres-strategies:host 127.0.0.1');
    // The password reaches the container as a file, never in its environment.
    const listed = (await lab.dockerOk(['ps', '--filter', 'name=^/postgres-strategies-server-', '--format', '{{.ID}} {{.Ports}}'])).stdout.split('\n');
    const ids = listed.filter((l) => l.includes(`127.0.0.1:${port}->5432/tcp`)).map((l) => l.split(' ')[0]!);
    expect(ids).toHaveLength(1);
    const env = JSON.parse((await lab.dockerOk(['inspect', '--format', '{{json .Config.Env}}', ids[0]!])).stdout) as string[];
    expect(env.join('\n')).not.toContain(decodeURIComponent(new URL(url!).password));

    const stop = await run('npm', ['run', '-s', 'server', '--', 'stop', '--dir', dir], { cwd: ROOT });
    expect(stop.stdout).toContain(`stopped PostgreSQL 15 on 127.0.0.1:${port}`);
    expect(stop.code).toBe(0);
    expect(await exited).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
    expect((await lab.docker(['inspect', ids[0]!])).code).not.toBe(0);
    expect((await psql(url!, 'SELECT 1')).code).not.toBe(0);
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
  }
});

test('--flavour docker refuses a major the lab has no image of', async () => {
  const r = await run('npm', ['run', '-s', 'server', '--', '--flavour', 'docker', '--version', '18', '--dir', dir], { cwd: ROOT });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--version: 18 is not one of 17, 15 (the docker flavour)');
});
