/**
 * `check-preview` on the real engine: `pulumi preview --json --show-sames`
 * of examples/shared (the CLI, the Node.js language host and the
 * postgresql/random plugins `npm run engine` builds) after each change a
 * pull request could make, against an embedded PostgreSQL 17 with TLS.
 *
 * What the engine really does, and the guard's exact findings:
 * - a new `namePrefix` is an in-place `update` of every Database and owner
 *   Role (`name`; the provider runs ALTER … RENAME): a warning each, no error;
 * - a renamed instance creates a new, empty database and role and deletes
 *   the old ones — retained (`delete` with `retainOnDelete`): one error (the
 *   new empty database), the two retained deletes as warnings; with the
 *   former name in `previousNames` (what the finding says to do) it is an
 *   in-place rename: warnings only;
 * - a removed instance is a `delete` of a retained database and role (not a
 *   `discard`): warnings only; once `allowDeletion` is deployed, the same
 *   removal drops them: two errors. `allowDeletion` set in the same change
 *   as the removal still retains (the old state decides), and on its own it
 *   is invisible without `--show-sames` (a `same` step): with it, a warning
 *   per database and role;
 * - the admin's database changed is an `update` of the postgresql provider
 *   (`database`), not a replacement of the resources on it: one warning;
 *   so is a new host or sslmode (a warning each);
 *   made an instance's own database, the program refuses it and the preview
 *   fails: an error that cannot be acknowledged;
 * - harmless changes — no change, a new instance, a new pool size — give no
 *   finding at all;
 * - a SharedPostgres moved to another server handle (two-handles.ts) shows
 *   no step at all without `--show-sames`; with it, `same` steps whose
 *   provider changes: an error per database and role when the handles reach
 *   different hosts, a warning when the same host and port.
 * And the command line on these previews: the exit status, `--allow`, a
 * Markdown comment (the sample in docs/preview-guard.md is the renamed instance's, byte for
 * byte), the note about `--show-sames`; and that the engine
 * keeps secrets as `[secret]` even with `--show-secrets`, none of which
 * (nor any password) reaches a report.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ExampleStack } from '../../../lab/engine';
import { labPath } from '../../../lab/server';
import { withPg } from '../../../lab/inspect';
import { Finding, JsonReport, MARKDOWN_MARKER, PreviewDigest, checkPreview, previewNotes } from '../../../src/preview-guard';
import { main } from '../../../src/preview-guard/cli';
import { STEP_TIMEOUT, instancesConfig, newStack, sharedConfig, superuserAdmin, useEngine, useTlsServer } from './support';

jest.setTimeout(STEP_TIMEOUT);

const seed = (name: string, maxConns = 5): Record<string, unknown> => ({ name, gatewayPool: { maxConns, minConns: 1 }, kratosPool: { maxConns: 5, maxIdleConns: 1 } });
const SEED = ['blog', 'admin', 'api'].map((n) => seed(n));

/** The sample comment in docs/preview-guard.md (the ````markdown block after "A sample comment"). */
function docsSample(): string {
  const readme = readFileSync(labPath('docs', 'preview-guard.md'), 'utf8');
  const start = readme.indexOf('````markdown\n', readme.indexOf('**A sample comment**'));
  const end = readme.indexOf('\n````', start);
  return `${readme.slice(start + '````markdown\n'.length, end)}\n`;
}

/** [severity, code, op, properties, resource] per finding: what a reviewer reads. */
type Row = [string, string, string, string[], string];
const rows = (findings: Finding[]): Row[] => findings.map((f) => [f.severity, f.code, f.op, f.properties, f.resource]);
const instanceLabel = (kind: string, name: string, instance: string): string => `${kind} "${name}" (SharedPostgres "shared", instance "${instance}")`;

/** Runs `check-preview` (in this process) on a preview, capturing its output. */
async function cli(preview: PreviewDigest, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ps-guard-e2e-'));
  const file = join(dir, 'preview.json');
  writeFileSync(file, JSON.stringify(preview));
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((c) => ((stdout += String(c)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((c) => ((stderr += String(c)), true));
  try {
    return { code: await main([file, ...argv]), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('examples/shared', () => {
  const sandbox = useEngine();
  const server = useTlsServer();
  let stack: ExampleStack;

  beforeAll(async () => {
    stack = await newStack(sandbox(), 'shared', sharedConfig(server(), superuserAdmin(server()), { namePrefix: 'vw_', instances: instancesConfig(SEED) }));
    await stack.up();
  }, STEP_TIMEOUT);
  afterAll(async () => stack?.remove({ destroy: false }), STEP_TIMEOUT);

  /** `pulumi preview --json --show-sames` with `config` changed, then the config as it was. */
  async function previewWith(config: Record<string, string>, extra: string[] = ['--show-sames']): Promise<PreviewDigest> {
    await stack.config(config);
    try {
      return (await stack.preview(extra)) as unknown as PreviewDigest;
    } finally {
      await stack.config({ namePrefix: 'vw_', instances: instancesConfig(SEED), allowDeletion: 'false', adminDatabase: 'postgres' });
    }
  }

  describe('harmless changes give no finding', () => {
    test.each([
      ['no change', {}, []],
      ['a new instance', { instances: instancesConfig([...SEED, seed('shop')]) }, ['create shared-shop-database', 'create shared-shop-owner-role']],
      ['a new pool size', { instances: instancesConfig([seed('blog'), seed('admin'), seed('api', 8)]) }, ['update shared-api-owner-role']],
    ])('%s', async (_label, config, expectedSteps) => {
      const preview = await previewWith(config as Record<string, string>);
      // Sanity: the change is really in the preview.
      const changed = (preview.steps ?? []).filter((s) => s.op !== 'same').map((s) => `${s.op} ${s.urn.slice(s.urn.lastIndexOf('::') + 2)}`);
      for (const step of expectedSteps) expect(changed).toContain(step);
      expect(rows(checkPreview(preview))).toEqual([]);
      expect((await cli(preview)).code).toBe(0);
    });
  });

  test('a new namePrefix renames every database and role in place: a warning each', async () => {
    const preview = await previewWith({ namePrefix: 'app_' });
    const findings = checkPreview(preview);
    const expected: Row[] = [];
    for (const kind of ['role', 'database']) {
      for (const name of ['blog', 'admin', 'api']) expected.push(['warning', 'renamed', 'update', ['name'], instanceLabel(kind, `vw_${name}`, name)]);
    }
    expect(rows(findings).sort()).toEqual(expected.sort());
    expect(findings.find((f) => f.resource === instanceLabel('database', 'vw_blog', 'blog'))?.effect).toContain('("vw_blog" → "app_blog")');
    const r = await cli(preview);
    expect(r.code).toBe(0);
  });

  test('a renamed instance moves the app onto a new, empty database: an error; the old ones are retained (warnings)', async () => {
    const preview = await previewWith({ instances: instancesConfig([seed('journal'), seed('admin'), seed('api')]) });
    expect(rows(checkPreview(preview))).toEqual([
      ['error', 'new-empty', 'create', [], instanceLabel('database', 'vw_journal', 'journal')],
      ['warning', 'retained', 'delete', [], instanceLabel('database', 'vw_blog', 'blog')],
      ['warning', 'retained', 'delete', [], instanceLabel('role', 'vw_blog', 'blog')],
    ]);
    const failing = await cli(preview);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('to do it on purpose: --allow shared-journal-database');
    // The sample comment in docs/preview-guard.md is this very output (its URNs name the stack `dev`).
    const comment = (await cli(preview, '--format', 'markdown')).stdout.split(`urn:pulumi:${stack.stack}::`).join('urn:pulumi:dev::');
    if (process.env['WRITE_DOCS_SAMPLE']) writeFileSync(process.env['WRITE_DOCS_SAMPLE'], comment);
    expect(docsSample()).toBe(comment);
    // Acknowledged by the new instance's name (the InstanceDatabase `shared-journal`).
    const allowed = await cli(preview, '--allow', 'shared-journal', '--format', 'json');
    expect(allowed.code).toBe(0);
    expect((JSON.parse(allowed.stdout) as JsonReport).summary).toEqual({ errors: 1, warnings: 2, acknowledged: 1 });
  });

  test('what the finding says to do instead works: with previousNames the same rename is in place (warnings only)', async () => {
    const preview = await previewWith({ instances: instancesConfig([{ ...seed('journal'), previousNames: ['blog'] }, seed('admin'), seed('api')]) });
    expect(rows(checkPreview(preview))).toEqual([
      ['warning', 'renamed', 'update', ['name'], instanceLabel('role', 'vw_blog', 'journal')],
      ['warning', 'renamed', 'update', ['name'], instanceLabel('database', 'vw_blog', 'journal')],
    ]);
  });

  test('a removed instance is retained: warnings only, and nothing is dropped', async () => {
    const preview = await previewWith({ instances: instancesConfig([seed('blog'), seed('admin')]) });
    expect(rows(checkPreview(preview))).toEqual([
      ['warning', 'retained', 'delete', [], instanceLabel('database', 'vw_api', 'api')],
      ['warning', 'retained', 'delete', [], instanceLabel('role', 'vw_api', 'api')],
    ]);
    expect((await cli(preview)).code).toBe(0);
  });

  test('allowDeletion: invisible without --show-sames, a warning per database and role with it; set with the removal it still retains', async () => {
    const flipped = { allowDeletion: 'true' };
    const plain = await previewWith(flipped, []);
    expect(rows(checkPreview(plain))).toEqual([]);
    expect(previewNotes(plain)).toHaveLength(1);
    const sames = await previewWith(flipped);
    expect(previewNotes(sames)).toEqual([]);
    expect(rows(checkPreview(sames)).map(([s, c, o, p]) => [s, c, o, p])).toEqual(Array(6).fill(['warning', 'protection-removed', 'same', ['retainOnDelete']]));
    const together = await previewWith({ ...flipped, instances: instancesConfig([seed('blog'), seed('admin')]) });
    expect(rows(checkPreview(together)).filter(([, code]) => code !== 'protection-removed')).toEqual([
      ['warning', 'retained', 'delete', [], instanceLabel('database', 'vw_api', 'api')],
      ['warning', 'retained', 'delete', [], instanceLabel('role', 'vw_api', 'api')],
    ]);
  });

  test('with allowDeletion deployed, a removed instance drops its database and role: two errors', async () => {
    await stack.config({ allowDeletion: 'true' });
    try {
      await stack.up();
      await stack.config({ instances: instancesConfig([seed('blog'), seed('admin')]) });
      const preview = (await stack.preview(['--show-sames'])) as unknown as PreviewDigest;
      expect(rows(checkPreview(preview))).toEqual([
        ['error', 'deleted', 'delete', [], instanceLabel('database', 'vw_api', 'api')],
        ['error', 'deleted', 'delete', [], instanceLabel('role', 'vw_api', 'api')],
      ]);
      const r = await cli(preview, '--format', 'markdown');
      expect(r.code).toBe(1);
      expect(r.stdout.split('\n')[0]).toBe(MARKDOWN_MARKER);
      expect(r.stdout).toContain('🛑 Data-loss guard: 2 errors, 0 warnings: 2 changes would lose data');
    } finally {
      await stack.config({ instances: instancesConfig(SEED), allowDeletion: 'false' });
      await stack.up();
    }
  });

  test('the admin\'s database changed is an update of the admin connection, nothing else: a warning', async () => {
    await withPg(server().admin(), (c) => c.query('CREATE DATABASE admin_db'));
    const preview = await previewWith({ adminDatabase: 'admin_db' });
    expect(rows(checkPreview(preview))).toEqual([['warning', 'admin-database-changed', 'update', ['database'], 'admin connection (ExternalPostgres "shared-db")']]);
    expect((await cli(preview)).code).toBe(0);
  });

  test.each([
    ['host', { host: '127.0.0.1' }, 'endpoint-changed'],
    ['sslmode', { sslmode: 'require' }, 'tls-changed'],
  ])('the server\'s %s changed is an update of the admin connection: a warning', async (property, config, code) => {
    const preview = await stack.config(config).then(() => stack.preview(['--show-sames'])).finally(() => stack.config({ host: server().host, sslmode: 'verify-full' }));
    expect(rows(checkPreview(preview as unknown as PreviewDigest))).toEqual([['warning', code, 'update', [property], 'admin connection (ExternalPostgres "shared-db")']]);
  });

  test('an instance\'s own database as the admin\'s: the program refuses it, the preview fails, the check fails', async () => {
    await stack.config({ adminDatabase: 'vw_blog' });
    let r;
    try {
      r = await stack.run(['preview', '--json', '--show-sames']);
    } finally {
      await stack.config({ adminDatabase: 'postgres' });
    }
    expect(r.code).not.toBe(0);
    const preview = JSON.parse(r.stdout) as PreviewDigest;
    const findings = checkPreview(preview, { allow: ['shared-db', 'shared-db-admin'] });
    expect(findings.filter((f) => f.code === 'preview-incomplete')).toEqual([expect.objectContaining({ severity: 'error', op: 'preview' })]);
    expect(findings.find((f) => f.code === 'preview-incomplete')?.acknowledgedBy).toBeUndefined();
    expect((await cli(preview, '--allow', 'shared-db')).code).toBe(1);
  });

  test('without --show-sames the findings are the same, named by the instance component, with a note', async () => {
    const preview = await previewWith({ namePrefix: 'app_' }, []);
    expect(rows(checkPreview(preview)).map((r) => r[4]).sort()).toEqual(
      ['role', 'database'].flatMap((kind) => ['blog', 'admin', 'api'].map((n) => `${kind} "vw_${n}" (SharedPostgres instance "shared-${n}")`)).sort(),
    );
    const r = await cli(preview);
    expect(r.stdout).toContain('note: The preview was made without `--show-sames`');
  });

  test('--show-secrets: the engine still prints every secret as [secret], and no password reaches any format', async () => {
    const secrets = (await stack.outputs()) as { urls: Record<string, string> };
    const passwords = [server().superuserPassword, ...Object.values(secrets.urls).map((u) => decodeURIComponent(new URL(u).password))];
    expect(passwords.every((p) => p.length >= 16)).toBe(true);
    const preview = await previewWith({ namePrefix: 'app_', instances: instancesConfig([seed('journal'), seed('admin')]) }, ['--show-sames', '--show-secrets']);
    // pkg/backend/display/json.go masks secrets whatever the flag: the admin's password and every generated one.
    const text = JSON.stringify(preview);
    for (const p of passwords) expect(text).not.toContain(p);
    const adminProvider = (preview.steps ?? []).find((s) => s.urn.endsWith('::shared-db-admin'));
    expect(adminProvider?.newState?.inputs?.['password']).toBe('[secret]');
    const generated = (preview.steps ?? []).find((s) => s.urn.endsWith('::shared-admin-owner-password'));
    expect(generated?.oldState?.outputs?.['result']).toBe('[secret]');
    for (const format of ['text', 'markdown', 'json']) {
      const r = await cli(preview, '--format', format);
      expect(r.code).toBe(1);
      expect(r.stdout).not.toContain('[secret]');
      for (const p of passwords) expect(r.stdout).not.toContain(p);
    }
  });
});

describe('a SharedPostgres moved to another server handle (test/e2e/engine/two-handles.ts)', () => {
  const sandbox = useEngine();
  const server = useTlsServer();
  let stack: ExampleStack;

  beforeAll(async () => {
    stack = new ExampleStack('shared', `move-${randomBytes(4).toString('hex')}`, sandbox(), labPath('test', 'e2e', 'engine', 'two-handles'));
    await stack.init();
    await stack.config(sharedConfig(server(), superuserAdmin(server())));
    await stack.up();
  }, STEP_TIMEOUT);
  afterAll(async () => stack?.remove({ destroy: false }), STEP_TIMEOUT);

  const moved = async (config: Record<string, string>, extra: string[]): Promise<PreviewDigest> => {
    await stack.config(config);
    try {
      return (await stack.preview(extra)) as unknown as PreviewDigest;
    } finally {
      await stack.config({ handle: 'a', hostB: server().host });
    }
  };
  const label = (kind: string): string => `${kind} "mv_one" (SharedPostgres "apps", instance "one")`;

  test('without --show-sames the move shows no step at all (the guard says what it cannot see)', async () => {
    const preview = await moved({ handle: 'b' }, []);
    expect((preview.steps ?? []).filter((s) => s.op !== 'same')).toEqual([]);
    expect(rows(checkPreview(preview))).toEqual([]);
    expect(previewNotes(preview)).toHaveLength(1);
  });

  test('to a handle of the same host and port: a warning per database and role', async () => {
    const preview = await moved({ handle: 'b' }, ['--show-sames']);
    expect(rows(checkPreview(preview))).toEqual([
      ['warning', 'moved', 'same', ['provider'], label('role')],
      ['warning', 'moved', 'same', ['provider'], label('database')],
    ]);
  });

  test('to a handle of another host: an error per database and role (and the new handle\'s host, a warning)', async () => {
    const preview = await moved({ handle: 'b', hostB: '127.0.0.1' }, ['--show-sames']);
    const findings = checkPreview(preview);
    expect(rows(findings)).toEqual([
      ['error', 'moved', 'same', ['provider'], label('role')],
      ['error', 'moved', 'same', ['provider'], label('database')],
      ['warning', 'endpoint-changed', 'update', ['host'], 'admin connection (ExternalPostgres "db-b")'],
    ]);
    const port = server().port;
    expect(findings[1]?.effect).toContain(`moves from the admin connection "db-a-admin" to "db-b-admin" (localhost:${port} → 127.0.0.1:${port})`);
  });
});

describe('components moved in the program (test/e2e/engine/guard-moves.ts)', () => {
  const sandbox = useEngine();
  const server = useTlsServer();
  let stack: ExampleStack;
  const BASE = { serverName: 'db', serverAlias: '', wrapper: '', wrapperAlias: 'false', namePrefix: 'gm_' };

  beforeAll(async () => {
    stack = new ExampleStack('shared', `moves-${randomBytes(4).toString('hex')}`, sandbox(), labPath('test', 'e2e', 'engine', 'guard-moves'));
    await stack.init();
    await stack.config({ ...sharedConfig(server(), superuserAdmin(server())), ...BASE });
    await stack.up();
    // Data the moves must keep.
    await withPg(server().admin('gm_one'), (c) => c.query('CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$row$$)'));
  }, STEP_TIMEOUT);
  afterAll(async () => stack?.remove({ destroy: false }), STEP_TIMEOUT);

  const previewWith = async (config: Record<string, string>): Promise<PreviewDigest> => {
    await stack.config(config);
    try {
      return (await stack.preview(['--show-sames'])) as unknown as PreviewDigest;
    } finally {
      await stack.config(BASE);
    }
  };
  /** The database OIDs and roles named gm_* / gx_* (what the server really holds). */
  const catalog = (): Promise<string[]> =>
    withPg(server().admin(), async (c) => {
      const dbs = await c.query<{ d: string }>(`SELECT oid::text || ' ' || datname AS d FROM pg_catalog.pg_database WHERE datname ~ '^g[mx]_' ORDER BY datname`);
      const roles = await c.query<{ r: string }>(`SELECT oid::text || ' ' || rolname AS r FROM pg_catalog.pg_roles WHERE rolname ~ '^g[mx]_' ORDER BY rolname`);
      return [...dbs.rows.map((r) => `database ${r.d}`), ...roles.rows.map((r) => `role ${r.r}`)];
    });
  const label = (kind: string, name: string, instance: string, shared = 'apps'): string => `${kind} "${name}" (SharedPostgres ${shared === '' ? '' : `"${shared}", `}instance "${instance}")`;

  test('the SharedPostgres put inside a component of the user\'s own, without aliases: the preview fails on the names that exist (aliases advised), and `up` does fail on already exists', async () => {
    // The program reads the server's catalog at preview (ExternalPostgres): the new URNs would create roles and
    // databases the server holds, so the preview itself fails, naming them and the fix (aliases). check-preview's
    // `recreated` finding covers servers whose catalog a preview cannot read (test/unit/preview-guard).
    await stack.config({ wrapper: 'platform' });
    let refused;
    try {
      refused = await stack.run(['preview', '--diff']);
    } finally {
      await stack.config(BASE);
    }
    expect(refused.code).not.toBe(0);
    const said = `${refused.stdout}\n${refused.stderr}`;
    for (const i of ['one', 'two']) {
      expect(said).toContain(`InstanceDatabase "apps-${i}": database "gm_${i}" and role "gm_${i}" already exist on localhost:${server().port}`);
    }
    expect(said).toMatch(/a component moved under another parent or renamed without `aliases`/);
    expect(said).toMatch(/give it `aliases` with its old parent or name/);
    // Past the preview (--skip-preview) `up` does fail on the names that exist; the next `up` as before changes nothing on the server.
    const before = await catalog();
    await stack.config({ wrapper: 'platform' });
    let failed;
    try {
      failed = await stack.run(['up', '--yes', '--skip-preview']);
    } finally {
      await stack.config(BASE);
    }
    expect(failed.code).not.toBe(0);
    expect(`${failed.stdout}\n${failed.stderr}`).toMatch(/already exists/);
    await stack.up();
    expect(await catalog()).toEqual(before);
  });

  test('… and with a new namePrefix: the app moves onto new, empty databases on the same server (an error each)', async () => {
    const preview = await previewWith({ wrapper: 'platform', namePrefix: 'gx_' });
    expect(rows(checkPreview(preview)).filter(([severity]) => severity === 'error').sort()).toEqual(
      ['one', 'two'].map((i): Row => ['error', 'new-empty', 'create', [], label('database', `gx_${i}`, i)]).sort(),
    );
    expect((await cli(preview)).code).toBe(1);
  });

  test('what the finding says to do works: with `aliases: [{ parent: pulumi.rootStackResource }]` nothing moves (no finding)', async () => {
    const preview = await previewWith({ wrapper: 'platform', wrapperAlias: 'true' });
    expect(rows(checkPreview(preview))).toEqual([]);
    expect((await cli(preview)).code).toBe(0);
  });

  test('the server component renamed with aliases (the guard\'s own advice): no finding, and `up` keeps every database and role with its data', async () => {
    const renamed = { serverName: 'postgres', serverAlias: 'db' };
    const preview = await previewWith(renamed);
    // What the engine does: the provider at its new URN (its old one in the old state); the databases keep their URNs, their old state names the old provider URN.
    const provider = (preview.steps ?? []).find((s) => s.urn.endsWith('::postgres-admin'));
    expect([provider?.op, provider?.oldState?.urn?.endsWith('::db-admin')]).toEqual(['same', true]);
    const database = (preview.steps ?? []).find((s) => s.urn.endsWith('::apps-one-database'));
    expect([database?.op, database?.oldState?.provider?.includes('::db-admin::'), database?.newState?.provider?.includes('::postgres-admin::')]).toEqual(['same', true, true]);
    expect(rows(checkPreview(preview))).toEqual([]);
    expect((await cli(preview)).code).toBe(0);
    const before = await catalog();
    await stack.config(renamed);
    try {
      await stack.up();
      expect(await catalog()).toEqual(before);
      const kept = await withPg(server().admin('gm_one'), (c) => c.query<{ v: string }>('SELECT v FROM kept'));
      expect(kept.rows).toEqual([{ v: 'row' }]);
    } finally {
      await stack.config(BASE);
    }
  });
});
