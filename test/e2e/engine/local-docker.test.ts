/**
 * The primary seed's Strategy 1 for real: `cd examples/local && pulumi up`
 * on the real engine (the Docker provider built from source) against the
 * lab's Docker engine with the offline images (lab/docker.ts,
 * lab/docker-images.ts), each step checked from outside — psql and pgx
 * through the published port (verify-full against the CA from the stack
 * output), Kratos' health endpoints and its admin API, `docker inspect`:
 *
 * 1. With TLS: the server becomes healthy, the bootstrap and `kratos
 *    migrate` exit 0, Kratos answers; every output URL connects; the app
 *    instances are isolated from each other; no password in any
 *    container's environment (`docker inspect`), the superuser's as a file.
 *    Without TLS: the same over sslmode=disable.
 * 2. A second `up`, `preview --expect-no-changes`, `refresh
 *    --expect-no-changes`: nothing changes, no container is recreated.
 * 3. A `pgConfig` change that needs a restart replaces the server container
 *    (delete first: the fixed host port is free again) over the kept volume:
 *    the data survives, Kratos keeps working, `check-preview` finds no data
 *    loss in that preview.
 * 6. The server process killed: `restart: unless-stopped` brings it back;
 *    the Docker engine restarted: the stack comes back; Kratos' container
 *    removed by hand: `refresh` + `up` recreate it.
 * 5. `pulumi destroy`: the data volume is kept; a new `up` re-attaches it
 *    (new passwords, applied by the bootstrap) with the data; with
 *    `allowDataDeletion` the volume goes with `destroy`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExampleStack } from '../../../lab/engine';
import { freePort, freePorts } from '../../../lab/server';
import { checkPreview } from '../../../src/preview-guard';
import { ENGINE_BUILD_TIMEOUT, STEP_TIMEOUT, useEngine } from './support';
import {
  containers,
  createIdentity,
  kratosGet,
  listIdentities,
  localStack,
  pgx,
  query,
  saveCa,
  throughPublishedPort,
  useDockerLab,
  waitFor,
} from './local-support';

jest.setTimeout(STEP_TIMEOUT);

const sandbox = useEngine();
const lab = useDockerLab(sandbox);
let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ps-local-'));
}, ENGINE_BUILD_TIMEOUT);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The stack's Docker name prefix (the example's default: <project>-<stack>-). */
const prefixOf = (stack: ExampleStack): string => `postgres-strategies-local-${stack.stack}-`;

describe('examples/local with TLS', () => {
  let stack: ExampleStack;
  let port: number;
  let publicPort: number;
  let adminPort: number;
  let outputs: Record<string, unknown>;
  let caFile: string;
  let ids: Record<string, string>;
  let identity: string;
  const prefix = (): string => prefixOf(stack);
  const name = (service: string): string => `${prefix()}auth-${service}`;
  const admin = (): string => `http://127.0.0.1:${adminPort}`;
  const hostUrl = (): string => throughPublishedPort(outputs['hostUrl'] as string, port, caFile);
  const urlOf = (instance: string): string => throughPublishedPort((outputs['urls'] as Record<string, string>)[instance] as string, port, caFile);

  afterAll(async () => {
    if (!stack) return;
    await stack.remove();
    await lab().docker(['volume', 'rm', '-f', `${prefix()}auth-postgres-data`]);
  }, 2 * STEP_TIMEOUT);

  test('1. pulumi up: healthy server, bootstrap and migration exit 0, Kratos answers; every URL connects with verify-full; instances isolated; no password in any environment', async () => {
    [port, publicPort, adminPort] = await freePorts(3);
    stack = await localStack(sandbox(), {
      tls: 'true',
      publishPort: String(port),
      kratosPublicPort: String(publicPort),
      kratosAdminPort: String(adminPort),
      instances: JSON.stringify([{ name: 'blog' }, { name: 'shop' }]),
    });
    await stack.up();
    outputs = await stack.outputs();
    caFile = saveCa(outputs, work) as string;
    const c = await containers(lab(), prefix());
    expect(Object.keys(c).sort()).toEqual([name('kratos'), name('kratos-migrate'), name('postgres'), name('postgres-bootstrap')].sort());
    expect(c[name('postgres')]).toMatchObject({ status: 'running', health: 'healthy' });
    expect(c[name('postgres-bootstrap')]).toMatchObject({ status: 'exited', exitCode: 0 });
    expect(c[name('kratos-migrate')]).toMatchObject({ status: 'exited', exitCode: 0 });
    expect(c[name('kratos')]).toMatchObject({ status: 'running' });
    ids = Object.fromEntries(Object.values(c).map((x) => [x.name, x.id]));

    // Kratos: health on its published ports, and its admin API on its own database.
    expect((await kratosGet(`http://127.0.0.1:${publicPort}/health/ready`)).status).toBe(200);
    expect((await kratosGet(`${admin()}/health/ready`)).status).toBe(200);
    identity = await createIdentity(admin(), 'first@example.com');

    // psql with the stack's own URLs, verify-full against the CA output.
    expect(await query(hostUrl(), "SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).toBe('postgres|t');
    expect(await query(urlOf('blog'), 'SELECT current_user, current_database()')).toBe('blog|blog');
    expect(await query(urlOf('kratos'), "SELECT count(*) FROM identities WHERE traits->>'email' = 'first@example.com'")).toBe('1');
    const kratosDsn = throughPublishedPort(outputs['kratosDsn'] as string, port, caFile);
    expect(new URL(kratosDsn).searchParams.get('sslmode')).toBe('verify-full');
    // pgx, as the auth gateway reads a URL.
    const viaPgx = await pgx(urlOf('shop'));
    expect([viaPgx.code, viaPgx.stderr]).toEqual([0, '']);
    expect(viaPgx.result?.query).toMatchObject({ current_user: 'shop', current_database: 'shop', ssl: true });
    // Isolation: blog's login cannot open shop's database, nor read Kratos' tables.
    const crossed = new URL(urlOf('blog'));
    crossed.pathname = '/shop';
    await expect(query(crossed.toString(), 'SELECT 1')).rejects.toThrow(/permission denied for database "shop"/);
    crossed.pathname = '/kratos';
    await expect(query(crossed.toString(), 'SELECT 1')).rejects.toThrow(/permission denied for database "kratos"/);
    // verify-full: a host name the certificate does not name is refused.
    const wrongName = new URL(hostUrl());
    wrongName.hostname = 'not-the-server.example';
    wrongName.searchParams.set('hostaddr', '127.0.0.1');
    await expect(query(wrongName.toString(), 'SELECT 1')).rejects.toThrow(/does not match host name "not-the-server\.example"/);

    // Docker secrets: no password in any container's environment.
    const secrets = [outputs['hostUrl'], ...Object.values(outputs['urls'] as Record<string, string>)].map((u) => decodeURIComponent(new URL(u as string).password));
    for (const x of Object.values(c)) for (const p of secrets) expect([x.name, x.env.join('\n').includes(p)]).toEqual([x.name, false]);
    expect(c[name('postgres')]!.env).toContain('POSTGRES_PASSWORD_FILE=/run/secrets/postgres-password');
  });

  test('2. a second up, preview --expect-no-changes and refresh --expect-no-changes change nothing; no container is recreated', async () => {
    const up = await stack.up();
    expect(up.stdout + up.stderr).not.toMatch(/is expected to have version/);
    expect(up.stdout).not.toMatch(/[+~-]\s+\d+ to (create|update|replace|delete)|replaced|updated|created/);
    await stack.must(['preview', '--expect-no-changes']);
    await stack.must(['refresh', '--yes', '--skip-preview', '--expect-no-changes']);
    await stack.must(['preview', '--expect-no-changes']);
    const c = await containers(lab(), prefix());
    expect(Object.fromEntries(Object.values(c).map((x) => [x.name, x.id]))).toEqual(ids);
  });

  test('3. a pgConfig change that needs a restart replaces the server over the kept volume: data and Kratos survive; check-preview finds no data loss', async () => {
    await query(urlOf('blog'), 'CREATE TABLE posts (id int); INSERT INTO posts VALUES (1), (2)');
    await stack.config({ pgConfig: JSON.stringify({ shared_buffers: '64MB' }) });
    const preview = await stack.preview();
    const replaced = (preview.steps ?? []).filter((s) => s.op === 'replace' || s.op === 'delete-replaced' || s.op === 'create-replacement').map((s) => s.urn.slice(s.urn.lastIndexOf('::') + 2));
    expect(replaced).toContain('auth-postgres');
    expect(replaced).not.toContain('auth-data');
    const findings = checkPreview(preview);
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    await stack.up();
    const c = await containers(lab(), prefix());
    expect(c[name('postgres')]!.id).not.toBe(ids[name('postgres')]);
    expect(c[name('postgres')]).toMatchObject({ status: 'running', health: 'healthy' });
    expect(await query(hostUrl(), 'SHOW shared_buffers')).toBe('64MB');
    expect(await query(urlOf('blog'), 'SELECT count(*) FROM posts')).toBe('2');
    await waitFor('Kratos ready after the server was replaced', async () => (await kratosGet(`${admin()}/health/ready`)).status === 200);
    expect(await listIdentities(admin())).toEqual({ [identity]: 'first@example.com' });
    ids = Object.fromEntries(Object.values(c).map((x) => [x.name, x.id]));
  });

  test('6. the server killed: restart brings it back; the Docker engine restarted: the stack comes back; Kratos removed by hand: refresh + up repair it', async () => {
    const before = (await containers(lab(), prefix()))[name('postgres')]!;
    process.kill(before.pid, 'SIGKILL');
    await waitFor('the server restarted by its restart policy', async () => {
      const now = (await containers(lab(), prefix()))[name('postgres')];
      return now && now.restartCount > before.restartCount && now.health === 'healthy';
    });
    expect(await query(urlOf('blog'), 'SELECT count(*) FROM posts')).toBe('2');

    await lab().restartEngine();
    await waitFor('the server healthy after the engine restarted', async () => (await containers(lab(), prefix()))[name('postgres')]?.health === 'healthy');
    await waitFor('Kratos ready after the engine restarted', async () => (await kratosGet(`${admin()}/health/ready`)).status === 200);
    expect(await query(urlOf('blog'), 'SELECT count(*) FROM posts')).toBe('2');

    await lab().dockerOk(['rm', '-f', name('kratos')]);
    await stack.must(['refresh', '--yes', '--skip-preview']);
    await stack.up();
    await waitFor('Kratos ready after refresh + up', async () => (await kratosGet(`${admin()}/health/ready`)).status === 200);
    expect(await listIdentities(admin())).toEqual({ [identity]: 'first@example.com' });
    await stack.must(['preview', '--expect-no-changes']);
  });

  test('5. destroy keeps the volume; a new up re-attaches it with new passwords; with allowDataDeletion destroy deletes it', async () => {
    const volume = `${prefix()}auth-postgres-data`;
    await stack.must(['destroy', '--yes', '--skip-preview']);
    expect(await containers(lab(), prefix())).toEqual({});
    expect((await lab().docker(['volume', 'inspect', volume])).code).toBe(0);

    const oldHost = hostUrl();
    await stack.up();
    outputs = await stack.outputs();
    caFile = saveCa(outputs, work) as string;
    expect(hostUrl()).not.toBe(oldHost); // new generated passwords, applied to the kept data by the bootstrap
    expect(await query(urlOf('blog'), 'SELECT count(*) FROM posts')).toBe('2');
    await waitFor('Kratos ready on the re-attached volume', async () => (await kratosGet(`${admin()}/health/ready`)).status === 200);
    expect(await listIdentities(admin())).toEqual({ [identity]: 'first@example.com' });

    await stack.config({ allowDataDeletion: 'true' });
    await stack.up();
    await stack.must(['destroy', '--yes', '--skip-preview']);
    expect((await lab().docker(['volume', 'inspect', volume])).code).not.toBe(0);
  });
});

describe('examples/local without TLS (the seed\'s sslmode=disable on the private network)', () => {
  let stack: ExampleStack;
  afterAll(async () => {
    if (!stack) return;
    await stack.remove();
    await lab().docker(['volume', 'rm', '-f', `${prefixOf(stack)}auth-postgres-data`]);
  }, 2 * STEP_TIMEOUT);

  test('1. pulumi up: healthy, one-shots exit 0, Kratos answers; the URLs connect without TLS', async () => {
    const [port, publicPort] = await freePorts(2);
    stack = await localStack(sandbox(), { publishPort: String(port), kratosPublicPort: String(publicPort) });
    await stack.up();
    const outputs = await stack.outputs();
    const c = await containers(lab(), prefixOf(stack));
    expect(c[`${prefixOf(stack)}auth-postgres-bootstrap`]).toMatchObject({ exitCode: 0 });
    expect(c[`${prefixOf(stack)}auth-kratos-migrate`]).toMatchObject({ exitCode: 0 });
    expect((await kratosGet(`http://127.0.0.1:${publicPort}/health/ready`)).status).toBe(200);
    const kratosUrl = throughPublishedPort((outputs['urls'] as Record<string, string>)['kratos'] as string, port);
    expect(new URL(kratosUrl).searchParams.get('sslmode')).toBe('disable');
    expect(await query(kratosUrl, "SELECT count(*) > 0 FROM information_schema.tables WHERE table_name = 'identities'")).toBe('t');
    expect(await query(outputs['hostUrl'] as string, 'SHOW ssl')).toBe('off');
    await stack.must(['preview', '--expect-no-changes']);
  });

  test('2. publishPort moved: up publishes the new port; the next preview passes the guard (the port its own container holds is not "in use")', async () => {
    const [moved] = await freePorts(1);
    await stack.config({ publishPort: String(moved) });
    await stack.up();
    expect(await query((await stack.outputs())['hostUrl'] as string, 'SELECT 1')).toBe('1');
    await stack.must(['preview', '--expect-no-changes']);
  });
});

describe('7. bad input: a clear error, nothing of another stack touched', () => {
  const stacks: ExampleStack[] = [];
  afterAll(async () => {
    for (const s of stacks) {
      await s.remove();
      await lab().docker(['volume', 'rm', '-f', `${prefixOf(s)}auth-postgres-data`]);
    }
    await lab().docker(['volume', 'rm', '-f', `taken-${process.pid}`]);
  }, 3 * STEP_TIMEOUT);

  test('a published port already in use: refused at preview, naming publishPort and the port; up creates nothing', async () => {
    const busy = createServer();
    const port = await freePort();
    await new Promise<void>((r) => busy.listen(port, '127.0.0.1', r));
    try {
      const stack = await localStack(sandbox(), { publishPort: String(port) });
      stacks.push(stack);
      const preview = await stack.run(['preview']);
      expect(preview.code).not.toBe(0);
      // The engine prints a check failure as `property <field> value {…} has a problem: <problem>. <fix>`.
      expect(preview.stdout + preview.stderr).toContain(`property publishPort value {<nil>} has a problem: host port ${port} on 127.0.0.1 is already in use (binding it failed: EADDRINUSE`);
      const r = await stack.run(['up', '--yes', '--skip-preview']);
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).toContain(`property publishPort value {<nil>} has a problem: host port ${port} on 127.0.0.1 is already in use`);
      expect(await containers(lab(), prefixOf(stack))).toEqual({});
    } finally {
      busy.close();
    }
  });

  test('an image that is neither here nor pullable: refused at preview, naming image, the image and the registry\'s answer; up creates nothing', async () => {
    const stack = await localStack(sandbox(), { image: 'postgres:16-alpine' });
    stacks.push(stack);
    const preview = await stack.run(['preview']);
    expect(preview.code).not.toBe(0);
    expect(preview.stdout + preview.stderr).toMatch(/property image value \{postgres:16-alpine\} has a problem: the image "postgres:16-alpine" is not in the Docker engine, and its registry could not be asked for it \(.*registry/);
    const r = await stack.run(['up', '--yes', '--skip-preview']);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('property image value {postgres:16-alpine} has a problem: the image "postgres:16-alpine" is not in the Docker engine');
    expect(await containers(lab(), prefixOf(stack))).toEqual({});
  });

  test('a data volume name another stack uses: refused, that stack\'s server untouched', async () => {
    const ownerPort = await freePort();
    const owner = await localStack(sandbox(), { volumeName: `taken-${process.pid}`, publishPort: String(ownerPort) });
    stacks.push(owner);
    await owner.up();
    // Its published port, asked for by another stack: refused at preview, naming the container that holds it.
    const sameHostPort = await localStack(sandbox(), { publishPort: String(ownerPort) });
    stacks.push(sameHostPort);
    const clash = await sameHostPort.run(['preview']);
    expect(clash.code).not.toBe(0);
    expect(clash.stdout + clash.stderr).toContain(`property publishPort value {<nil>} has a problem: host port ${ownerPort} on 127.0.0.1 is already in use (the container ${prefixOf(owner)}auth-postgres publishes it)`);
    const ownerContainers = await containers(lab(), prefixOf(owner));
    const intruder = await localStack(sandbox(), { volumeName: `taken-${process.pid}` });
    stacks.push(intruder);
    const r = await intruder.run(['up', '--yes', '--skip-preview']);
    const text = r.stdout + r.stderr;
    console.log(text.slice(-3000));
    expect(r.code).not.toBe(0);
    expect(text).toContain(`taken-${process.pid}`);
    expect(await containers(lab(), prefixOf(intruder))).toEqual({});
    const after = await containers(lab(), prefixOf(owner));
    expect(Object.fromEntries(Object.values(after).map((c) => [c.name, [c.id, c.status]]))).toEqual(Object.fromEntries(Object.values(ownerContainers).map((c) => [c.name, [c.id, c.status]])));
    await owner.must(['preview', '--expect-no-changes']);
  });
});
