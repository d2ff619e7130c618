/**
 * Issue 23 on the real engine with real clients: examples/shared on an
 * embedded PostgreSQL 17 with TLS (verify-full), as a CREATEDB CREATEROLE
 * admin (what RDS, Neon and Supabase give), with the pgx v5 consumer in its
 * load mode and Ory Kratos v1.3.1 (both built from the Go module proxy),
 * driven with the `pulumi` CLI as a user does.
 *
 * Proves, in order on one stack:
 * 1. turning `loginRotation` on for an existing instance switches every DSN
 *    output to `vw_blog_a`, while a pgx pool still on the owner's DSN
 *    (reconnecting every 500 ms) runs through the `up` with zero failures;
 *    the preview's check-preview finding is a warning;
 * 2. `kratos migrate sql` run by login a creates Kratos' tables owned by
 *    the owner `vw_blog`, never by the login;
 * 3. rotation 1 (`rotation: 1`): the preview names the instances that
 *    rotate and check-preview warns (`rotated`, no error); during `pulumi up`
 *    a pgx load loop on login a's DSN (new connections every 500 ms) and
 *    `kratos serve` on it (its pool renews connections every second) see
 *    zero failed queries and health checks; the outputs carry `vw_blog_b`;
 *    the next preview changes nothing;
 * 4. clients restarted with the new DSNs connect (pgx, `kratos serve`), and
 *    `kratos migrate sql` by login b on a database it migrates first leaves
 *    every table to the owner;
 * 5. rotation 2: the load loop and Kratos on login b's DSN see zero
 *    failures; login a's password of rotation 0 is refused, its new one
 *    logs in;
 * 6. the admin's own password changed on the server and in the config
 *    (single-user rotation of an admin the library does not own): the
 *    preview updates the admin provider only, nothing is replaced, `up`
 *    works and the next preview is empty;
 * 7. an emergency revocation (`revocation: 1`) in one `up`: the preview warns
 *    (`revoked`) and states the blast radius; the load loop and Kratos on
 *    login b's DSN lose their sessions (terminated) and cannot reconnect;
 *    the new DSN logs in, every earlier one is refused;
 * 8. no password of any DSN, nor the admin's, is in the checkpoint (`pulumi
 *    stack export`) or in a preview.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExampleStack, PreviewJson } from '../../../lab/engine';
import { KRATOS_CONSUMER, PGX_CONSUMER, buildGoConsumer } from '../../../lab/go-consumers';
import { withPg } from '../../../lab/inspect';
import { KratosServe, startKratosServe } from '../../../lab/kratos';
import { run } from '../../../lab/run';
import { KRATOS_MIGRATE_COMMAND } from '../../../src/core/kratos';
import { Finding, checkPreview } from '../../../src/preview-guard';
import { STEP_TIMEOUT, StackAdmin, createDeployer, instancesConfig, newStack, sharedConfig, useEngine, useTlsServer } from './support';

const BUILD_TIMEOUT = 40 * 60_000;
jest.setTimeout(STEP_TIMEOUT);

interface LoadResult {
  queries: number;
  failures: number;
  errors: string[];
  session_users: Record<string, number>;
  new_conns: number;
}

let pgxBinary = '';
let kratosBinary = '';
let scratch = '';
const running: Array<() => Promise<unknown>> = [];

/** The pgx consumer's load loop on `url` (a new server connection every 500 ms per pooled one), once its first query succeeded. */
async function startLoad(url: string): Promise<{ stop(): Promise<LoadResult> }> {
  const child: ChildProcess = spawn(pgxBinary, ['-load', '-workers', '3', '-url', `${url}&pool_max_conn_lifetime=500ms`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  const exited = new Promise<void>((res) => child.once('close', () => res()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the pgx load loop did not get ready: ${stderr}`)), 60_000);
    child.stderr!.on('data', (d) => {
      stderr += d;
      if (stderr.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('close', () => reject(new Error(`the pgx load loop exited: ${stderr}`)));
  });
  const stop = async (): Promise<LoadResult> => {
    child.kill('SIGTERM');
    await exited;
    return (JSON.parse(stdout) as { load: LoadResult }).load;
  };
  running.push(stop);
  return { stop };
}

/** Polls Kratos' admin API (identities: a database read each time) every 250 ms until stopped; counts failures. */
function pollKratos(kratos: KratosServe): { stop(): Promise<{ polls: number; failures: string[] }> } {
  let polling = true;
  const failures: string[] = [];
  let polls = 0;
  const loop = (async () => {
    while (polling) {
      polls += 1;
      try {
        const r = await fetch(`${kratos.adminBase}/admin/identities`, { signal: AbortSignal.timeout(5000) });
        if (r.status !== 200) failures.push(`${r.status} ${(await r.text()).slice(0, 200)}`);
        else await r.text();
      } catch (e) {
        failures.push((e as Error).message);
      }
      await new Promise((res) => setTimeout(res, 250));
    }
  })();
  return {
    stop: async () => {
      polling = false;
      await loop;
      return { polls, failures };
    },
  };
}

const kratosEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env['PATH'] ?? '', HOME: scratch, LOG_LEVEL: 'info' });

async function kratosServe(dsn: string): Promise<KratosServe> {
  const kratos = await startKratosServe(kratosBinary, dsn, scratch, kratosEnv());
  running.push(kratos.stop);
  return kratos;
}

async function kratosMigrate(dsn: string): Promise<void> {
  const r = await run(kratosBinary, [...KRATOS_MIGRATE_COMMAND], { env: { ...kratosEnv(), DSN: dsn } });
  if (r.code !== 0) throw new Error(`kratos migrate exited ${r.code}:\n${(r.stdout + r.stderr).slice(-3000)}`);
}

/**
 * pgx through `url` for two seconds (the consumer's load mode: its one-query
 * mode reads pg_stat_ssl, whose row a login that switched to its base may
 * not see): the queries, failures and the logins the server saw.
 */
async function pgxBriefly(url: string): Promise<LoadResult> {
  const r = spawn(pgxBinary, ['-load', '-workers', '1', '-url', url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  r.stdout!.on('data', (d) => (stdout += d));
  const exited = new Promise<void>((res) => r.once('close', () => res()));
  await new Promise((res) => setTimeout(res, 2000));
  r.kill('SIGTERM');
  await exited;
  return (JSON.parse(stdout) as { load: LoadResult }).load;
}
const connects = (l: LoadResult, user: string) => [l.failures, Object.keys(l.session_users)].toString() === [0, [user]].toString() && l.queries > 0;
const refused = (l: LoadResult, user: string) => l.queries > 0 && l.failures === l.queries && l.errors.every((e) => e.includes(`password authentication failed for user "${user}"`));

const passwordOf = (url: string): string => decodeURIComponent(new URL(url).password);

describe('password rotation on the real engine with pgx and Kratos (PostgreSQL 17, TLS verify-full, CREATEROLE admin)', () => {
  const sandbox = useEngine();
  const server = useTlsServer();
  let admin: StackAdmin;
  let stack: ExampleStack;
  /** Every password an output or the config carried, for the checkpoint check. */
  const seen = new Set<string>();
  const outputs = async (): Promise<{ urls: Record<string, string>; pgxUrls: Record<string, string>; kratosDsns: Record<string, string>; kratosMigrateDsns: Record<string, string>; rotationStates: Record<string, { currentLogin: string; previousLogin: string | null; rotations: number; revoked: boolean }> }> => {
    const o = (await stack.outputs()) as never as Awaited<ReturnType<typeof outputs>>;
    for (const map of [o.urls, o.pgxUrls, o.kratosDsns, o.kratosMigrateDsns]) for (const u of Object.values(map)) seen.add(passwordOf(u));
    return o;
  };
  const findings = (preview: PreviewJson): Array<[string, string, string]> => checkPreview(preview).map((f: Finding) => [f.severity, f.code, f.resource]);
  const diagnostics = (preview: PreviewJson): string => (preview.diagnostics ?? []).map((d) => d.message ?? '').join('\n');
  const rotation = (spec: Record<string, unknown>) => stack.config({ loginRotation: JSON.stringify({ enabled: true, ...spec }) });
  const tables = (database: string) =>
    withPg(
      server().admin(database),
      async (c) => (await c.query<{ owner: string; n: string }>("SELECT pg_get_userbyid(relowner) AS owner, count(*) AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'S', 'v') GROUP BY 1")).rows,
    );

  let rotation0: Awaited<ReturnType<typeof outputs>>;
  let rotation1: Awaited<ReturnType<typeof outputs>>;
  let rotation2: Awaited<ReturnType<typeof outputs>>;
  let kratosB: KratosServe;
  let loadB: { stop(): Promise<LoadResult> };

  beforeAll(async () => {
    [pgxBinary, kratosBinary] = [await buildGoConsumer(PGX_CONSUMER), await buildGoConsumer(KRATOS_CONSUMER)];
    scratch = mkdtempSync(join(tmpdir(), 'ps-rotation-e2e-'));
    admin = await createDeployer(server());
    seen.add(admin.password);
    const instances = [
      { name: 'blog', kratosPool: { maxConns: 5, maxIdleConns: 1, maxConnLifetimeSeconds: 1 } },
      { name: 'shop', kratosPool: { maxConns: 5, maxIdleConns: 1 } },
    ];
    stack = await newStack(sandbox(), 'shared', sharedConfig(server(), admin, { namePrefix: 'vw_', instances: instancesConfig(instances) }));
    await stack.up();
  }, BUILD_TIMEOUT);
  afterAll(async () => {
    for (const stop of running) await stop().catch(() => undefined);
    await stack?.remove({ destroy: false });
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }, STEP_TIMEOUT);

  test('1. turning rotation on: the outputs switch to login a; a pool on the owner\'s DSN runs through the up without a failure', async () => {
    const before = await outputs();
    expect(before.urls['blog']).toMatch(/^postgres:\/\/vw_blog:/);
    const legacy = await startLoad(before.pgxUrls['blog'] as string);
    await rotation({});
    const preview = await stack.preview();
    expect(findings(preview)).toEqual(expect.arrayContaining([['warning', 'rotated', 'login rotation (SharedPostgres instance "shared-blog")']]));
    expect(findings(preview).filter((f) => f[0] === 'error')).toEqual([]);
    await stack.up();
    const result = await legacy.stop();
    expect(result.failures).toBe(0);
    expect(result.new_conns).toBeGreaterThan(3);
    expect(result.session_users).toEqual({ vw_blog: result.queries });
    rotation0 = await outputs();
    expect(rotation0.urls['blog']).toMatch(/^postgres:\/\/vw_blog_a:/);
    expect(rotation0.rotationStates['blog']).toMatchObject({ currentLogin: 'vw_blog_a', previousLogin: 'vw_blog', rotations: 0, revoked: false });
    // The owner's own DSN still logs in until the first rotation.
    expect(connects(await pgxBriefly(before.pgxUrls['blog'] as string), 'vw_blog')).toBe(true);
  });

  test('2. kratos migrate sql by login a: every table belongs to the owner', async () => {
    await kratosMigrate(rotation0.kratosMigrateDsns['blog'] as string);
    const owners = await tables('vw_blog');
    expect(owners.map((r) => r.owner)).toEqual(['vw_blog']);
    expect(Number(owners[0]?.n)).toBeGreaterThan(20);
  });

  test('3. rotation 1 while pgx and Kratos run on login a: zero failed queries; the outputs carry login b', async () => {
    const kratosA = await kratosServe(rotation0.kratosDsns['blog'] as string);
    const loadA = await startLoad(rotation0.pgxUrls['blog'] as string);
    const poll = pollKratos(kratosA);
    await rotation({ rotation: 1 });
    const preview = await stack.preview();
    expect(findings(preview).filter((f) => f[1] === 'rotated').map((f) => f[2]).sort()).toEqual([
      'login rotation (SharedPostgres instance "shared-blog")',
      'login rotation (SharedPostgres instance "shared-shop")',
    ]);
    expect(findings(preview).filter((f) => f[0] === 'error')).toEqual([]);
    expect(diagnostics(preview)).toContain('instance "blog" rotates its login (rotation 1, the rotation number changed): every DSN output switches to login vw_blog_b');
    await stack.up();
    await new Promise((res) => setTimeout(res, 2000));
    const kratosResult = await poll.stop();
    const load = await loadA.stop();
    expect(load.failures).toBe(0);
    expect(load.errors).toEqual([]);
    expect(load.new_conns).toBeGreaterThan(10);
    expect(Object.keys(load.session_users)).toEqual(['vw_blog_a']);
    expect(kratosResult.failures).toEqual([]);
    expect(kratosResult.polls).toBeGreaterThan(10);
    await kratosA.stop();
    rotation1 = await outputs();
    expect(rotation1.urls['blog']).toMatch(/^postgres:\/\/vw_blog_b:/);
    expect(rotation1.rotationStates['blog']).toMatchObject({ currentLogin: 'vw_blog_b', previousLogin: 'vw_blog_a', rotations: 1 });
    // No perpetual diff: the next preview changes nothing.
    expect((await stack.preview()).changeSummary).not.toHaveProperty('update');
  });

  test('4. clients restarted with the new DSNs connect; Kratos migrated first by login b leaves its tables to the owner', async () => {
    expect(connects(await pgxBriefly(rotation1.pgxUrls['blog'] as string), 'vw_blog_b')).toBe(true);
    await kratosMigrate(rotation1.kratosMigrateDsns['shop'] as string);
    await kratosMigrate(rotation1.kratosMigrateDsns['blog'] as string);
    expect((await tables('vw_shop')).map((r) => r.owner)).toEqual(['vw_shop']);
    expect((await tables('vw_blog')).map((r) => r.owner)).toEqual(['vw_blog']);
    kratosB = await kratosServe(rotation1.kratosDsns['blog'] as string);
    loadB = await startLoad(rotation1.pgxUrls['blog'] as string);
  });

  test('5. rotation 2: pgx and Kratos on login b see no failure; login a\'s password of rotation 0 is refused, its new one logs in', async () => {
    const poll = pollKratos(kratosB);
    const during = await startLoad(rotation1.pgxUrls['blog'] as string);
    await rotation({ rotation: 2 });
    await stack.up();
    await new Promise((res) => setTimeout(res, 2000));
    const load = await during.stop();
    expect([load.failures, load.errors]).toEqual([0, []]);
    expect((await poll.stop()).failures).toEqual([]);
    rotation2 = await outputs();
    expect(rotation2.rotationStates['blog']).toMatchObject({ currentLogin: 'vw_blog_a', previousLogin: 'vw_blog_b', rotations: 2 });
    const oldest = await pgxBriefly(rotation0.pgxUrls['blog'] as string);
    expect(refused(oldest, 'vw_blog_a')).toBe(true);
    expect(JSON.stringify(oldest)).not.toContain(passwordOf(rotation0.pgxUrls['blog'] as string));
    expect(connects(await pgxBriefly(rotation2.pgxUrls['blog'] as string), 'vw_blog_a')).toBe(true);
    expect(connects(await pgxBriefly(rotation1.pgxUrls['blog'] as string), 'vw_blog_b')).toBe(true);
  });

  test('6. the admin\'s password rotated outside Pulumi, then in the config: the provider is updated, nothing is replaced', async () => {
    const next = `${admin.password}-rotated`;
    await withPg(server().admin(), (c) => c.query(`ALTER ROLE ${admin.user} PASSWORD '${next.replace(/'/g, "''")}'`));
    seen.add(next);
    await stack.config({ adminPassword: { value: next, secret: true } });
    const preview = await stack.preview();
    const changed = (preview.steps ?? []).filter((s) => s.op !== 'same');
    expect(changed.map((s) => [s.op, s.urn.slice(s.urn.lastIndexOf('::') + 2)])).toEqual([['update', 'shared-db-admin']]);
    expect(findings(preview)).toEqual([]);
    await stack.up();
    expect((await stack.preview()).changeSummary).not.toHaveProperty('update');
    admin = { ...admin, password: next };
  });

  test('7. an emergency revocation in one up: the old sessions are cut, only the new DSN logs in', async () => {
    await rotation({ rotation: 2, revocation: 1 });
    const preview = await stack.preview();
    expect(findings(preview).filter((f) => f[2].includes('shared-blog'))).toEqual([['warning', 'revoked', 'login rotation (SharedPostgres instance "shared-blog")']]);
    expect(diagnostics(preview)).toContain('EMERGENCY REVOCATION — blast radius: every session of vw_blog, vw_blog_a, vw_blog_b is terminated during this deploy');
    await stack.up();
    const load = await loadB.stop();
    expect(load.failures).toBeGreaterThan(0);
    expect(load.errors.join('\n')).toMatch(/terminating connection due to administrator command|password authentication failed/);
    await new Promise((res) => setTimeout(res, 2000));
    const health = await fetch(`${kratosB.adminBase}/admin/identities`).then((r) => r.status, () => 0);
    expect(health).not.toBe(200);
    const revoked = await outputs();
    expect(revoked.rotationStates['blog']).toMatchObject({ currentLogin: 'vw_blog_b', previousLogin: null, rotations: 3, revoked: true });
    expect(connects(await pgxBriefly(revoked.pgxUrls['blog'] as string), 'vw_blog_b')).toBe(true);
    expect(refused(await pgxBriefly(rotation1.pgxUrls['blog'] as string), 'vw_blog_b')).toBe(true);
    const a = await pgxBriefly(rotation2.pgxUrls['blog'] as string);
    expect(a.failures === a.queries && a.errors.every((e) => /not permitted to log in|password authentication failed/.test(e))).toBe(true);
    const sessions = await withPg(server().admin(), async (c) => (await c.query("SELECT usename FROM pg_stat_activity WHERE usename LIKE 'vw_blog%'")).rows);
    expect(sessions.filter((s) => s.usename !== 'vw_blog_b')).toEqual([]);
  });

  test('8. no password in the checkpoint or in a preview', async () => {
    const state = await stack.exportState();
    const preview = JSON.stringify(await stack.preview());
    expect(seen.size).toBeGreaterThan(8);
    for (const password of seen) {
      for (const text of [state, preview]) {
        expect(text.includes(password)).toBe(false);
        expect(text.includes(encodeURIComponent(password))).toBe(false);
      }
    }
  });
});
