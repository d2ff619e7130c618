/**
 * The main job end to end: `npm run demo` (dist/demo/main.js, built by
 * `npm test`'s tsc step) on its embedded server and, with --admin-url,
 * against an existing server as a CREATEDB/CREATEROLE admin that is not a
 * superuser. Asserts on its --json output and exit code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { libpqUrl } from '../../src/core/dsn';
import { psqlOk } from '../../lab/psql';
import { RunResult, run } from '../../lab/run';
import { LabServer, startLabServer } from '../../lab/server';

const DEMO = join(__dirname, '..', '..', 'dist', 'demo', 'main.js');

function runDemo(args: string[]): Promise<RunResult> {
  return run(process.execPath, [DEMO, ...args], { env: { PATH: process.env['PATH'], HOME: process.env['HOME'] } });
}

interface DemoJson {
  server: { version: string; maxConnections: number };
  instances: Record<string, { database: string; user: string; connectionLimit: number; url: string; kratosDsn: string; pgxUrl: string }>;
  checks: Array<{ name: string; ok: boolean; detail: string }>;
  bootstrap: { changes: string[]; secondRunChanges: string[] };
  preview: Array<{ type: string; name: string; retainOnDelete: boolean }>;
}

describe('npm run demo on the embedded PostgreSQL 17', () => {
  let result: RunResult;
  let out: DemoJson;
  beforeAll(async () => {
    result = await runDemo(['--json']);
    out = JSON.parse(result.stdout) as DemoJson;
  }, 120_000);

  test('exits 0 with every check passed', () => {
    expect(result.code).toBe(0);
    expect(out.checks.filter((c) => !c.ok)).toEqual([]);
    expect(out.server.version).toMatch(/^17\./);
  });

  test('proves verify-full logins, isolation both ways, TLS required and a no-op second run', () => {
    const names = out.checks.map((c) => c.name);
    for (const i of ['blog', 'admin', 'api']) expect(names).toContain(`${i} connects with sslmode=verify-full`);
    expect(names.filter((n) => / cannot connect to /.test(n))).toHaveLength(6);
    expect(names).toContain('a connection without TLS is refused');
    expect(names).toContain('a second provisioning run changes nothing');
    expect(out.bootstrap.changes.length).toBeGreaterThan(0);
    expect(out.bootstrap.secondRunChanges).toEqual([]);
  });

  test('instances.<name>.url is a libpq URL with the password redacted, and kratosDsn carries Kratos\' pool keys', () => {
    for (const i of ['blog', 'admin', 'api']) {
      const r = out.instances[i]!;
      expect(r.url).toMatch(new RegExp(`^postgres://vw_${i}:REDACTED@localhost:\\d+/vw_${i}\\?sslmode=verify-full&sslrootcert=`));
      expect(r.kratosDsn).toContain('max_conns=5&max_idle_conns=1');
      expect(r.kratosDsn).not.toContain('pool_min_conns');
      expect(r.connectionLimit).toBe(10);
    }
  });

  test('the offline preview lists the example\'s resources with databases retained', () => {
    const dbs = out.preview.filter((r) => r.type === 'postgresql:index/database:Database');
    expect(dbs.map((d) => d.name).sort()).toEqual(['shared-admin-database', 'shared-api-database', 'shared-blog-database']);
    expect(dbs.every((d) => d.retainOnDelete)).toBe(true);
  });

  test('--show-secrets prints passwords that log in (checked by the demo itself) instead of REDACTED', async () => {
    const shown = await runDemo(['--json', '--show-secrets', '--version', '16']);
    expect(shown.code).toBe(0);
    const j = JSON.parse(shown.stdout) as DemoJson;
    expect(j.server.version).toMatch(/^16\./);
    expect(j.instances['blog']!.url).not.toContain('REDACTED');
  }, 120_000);
});

describe('npm run demo -- --admin-url (an existing server, admin without superuser)', () => {
  let server: LabServer;
  beforeAll(async () => {
    server = await startLabServer({ version: 17, tls: true });
    await psqlOk(libpqUrl(server.admin()), "CREATE ROLE cloud_admin LOGIN CREATEDB CREATEROLE PASSWORD 'cloud-admin-pw'");
  }, 60_000);
  afterAll(async () => server?.stop());

  test('provisions, proves every check, and a second demo run against the same server changes nothing', async () => {
    const admin = libpqUrl({ ...server.admin(), user: 'cloud_admin', password: 'cloud-admin-pw', tls: { sslmode: server.admin().tls.sslmode } });
    const first = await runDemo(['--json', '--admin-url', admin, '--sslrootcert', server.caFile!]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const j = JSON.parse(first.stdout) as DemoJson;
    expect(j.checks.every((c) => c.ok)).toBe(true);
    expect(j.checks.find((c) => c.name === 'a second provisioning run changes nothing')!.detail).toContain('needs a superuser');
    // A fresh demo run generates new passwords: the only changes are the passwords' verifiers, which a
    // non-superuser cannot compare, so the script reports nothing and the roles are reused.
    const again = await runDemo(['--json', '--admin-url', admin, '--sslrootcert', server.caFile!]);
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as DemoJson).bootstrap.changes).toEqual([]);
  }, 120_000);

  test('a bad admin URL fails with a clear message and exit code 2', async () => {
    const r = await runDemo(['--admin-url', 'not a url']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/demo failed: /);
    // a fresh Node process that loads the Pulumi SDK: seconds on a loaded machine
  }, 60_000);
});

describe('the documented `--json` command line (issue 22 item 8)', () => {
  test('prints pure JSON on stdout when run exactly as docs/development.md writes it', async () => {
    const docs = readFileSync(join(__dirname, '..', '..', 'docs', 'development.md'), 'utf8');
    const line = docs.split('\n').find((l) => /^npm run\b.* demo -- --json\b/.test(l));
    expect(line).toBeDefined();
    const command = line!.replace(/\s+#.*$/, '');
    // The README names the same command in its text.
    expect(readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8')).toContain(`\`${command}\``);
    const r = await run('sh', ['-c', command], { cwd: join(__dirname, '..', '..'), env: { PATH: process.env['PATH'], HOME: process.env['HOME'] } });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as DemoJson;
    expect(j.checks.every((c) => c.ok)).toBe(true);
  }, 180_000);
});

describe('npm run demo -- --admin-url on a server without TLS (issue 22 item 11)', () => {
  let server: LabServer;
  beforeAll(async () => {
    server = await startLabServer({ version: 17, tls: false });
  }, 60_000);
  afterAll(async () => server?.stop());
  const url = (query: string): string => `postgres://${server.superuser}:${encodeURIComponent(server.superuserPassword)}@${server.host}:${server.port}/postgres${query}`;

  test('asked for TLS (the default sslmode=require), it fails with a hint, not only libpq\'s message', async () => {
    const r = await runDemo(['--admin-url', url('')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does not support SSL');
    expect(r.stderr).toContain('offers no TLS');
    expect(r.stderr).toContain('?sslmode=disable');
  }, 60_000);

  test('with sslmode=disable every check passes or says why it does not apply (no raw "over no")', async () => {
    const r = await runDemo(['--admin-url', url('?sslmode=disable')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/over no\b/);
    expect(r.stdout).toMatch(/✓ blog connects with sslmode=disable — as vw_blog to vw_blog without TLS \(sslmode=disable: not encrypted\)/);
    expect(r.stdout).toMatch(/– a connection without TLS is refused — not checked: the server is used with sslmode=disable/);
    expect(r.stdout).toMatch(/\d+ checks passed, 0 failed, 1 not applicable/);
    const j = JSON.parse((await runDemo(['--json', '--admin-url', url('?sslmode=disable')])).stdout) as DemoJson;
    expect(j.checks.filter((c) => !c.ok)).toEqual([]);
  }, 120_000);
});
