/**
 * Issue 23 on the real Docker lab: `examples/local` (TLS) with
 * `loginRotation` on the real engine, the lab's Docker engine and offline
 * images (lab/docker.ts), Kratos' and an app instance's logins rotating
 * with one `pulumi up` each, checked from outside (psql through the
 * published port, Kratos' admin API, `docker inspect`):
 *
 * 1. turning rotation on at the first `up`: the bootstrap makes `kratos_a`
 *    and `blog_a` current; Kratos runs on `kratos_a` (its DSN in the
 *    mounted config file and in the compose files), `rotationState` says so;
 *    a table `kratos migrate` created belongs to `kratos`, never the login;
 * 2. rotation 1 with one `pulumi up`: the bootstrap container re-runs, the
 *    Kratos container is replaced with `kratos_b`'s DSN and answers with the
 *    identity created before; the compose files carry the new DSN; the
 *    previous login (`blog_a`'s DSN of step 1) still connects, the new one
 *    too; a second preview changes nothing;
 * 3. rotation 2: the DSN of step 1 is refused, those of rotations 1 and 2
 *    connect.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ExampleStack } from '../../../lab/engine';
import { freePorts } from '../../../lab/server';
import { ENGINE_BUILD_TIMEOUT, STEP_TIMEOUT, useEngine } from './support';
import { containers, createIdentity, kratosGet, listIdentities, localStack, query, saveCa, throughPublishedPort, useDockerLab, waitFor } from './local-support';

jest.setTimeout(STEP_TIMEOUT);

const sandbox = useEngine();
const lab = useDockerLab(sandbox);
let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ps-local-rotation-'));
}, ENGINE_BUILD_TIMEOUT);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('examples/local with loginRotation (TLS): Kratos and an app instance rotate with one pulumi up', () => {
  let stack: ExampleStack;
  let port: number;
  let adminPort: number;
  let caFile: string;
  let identity: string;
  let step1: Record<string, unknown>;
  let step2: Record<string, unknown>;
  const prefix = (): string => `postgres-strategies-local-${stack.stack}-`;
  const name = (service: string): string => `${prefix()}auth-${service}`;
  const admin = (): string => `http://127.0.0.1:${adminPort}`;
  const urlOf = (outputs: Record<string, unknown>, instance: string): string =>
    throughPublishedPort((outputs['urls'] as Record<string, string>)[instance] as string, port, caFile);
  const kratosConfigDsn = (outputs: Record<string, unknown>): string => {
    const file = (outputs['composeFiles'] as Record<string, string>)['kratos/kratos.yml'] as string;
    return String((parse(file) as Record<string, unknown>)['dsn']);
  };
  const rotation = (spec: Record<string, unknown>) => stack.config({ loginRotation: JSON.stringify({ enabled: true, ...spec }) });
  const kratosReady = () => waitFor('Kratos ready', async () => (await kratosGet(`${admin()}/health/ready`)).status === 200);

  afterAll(async () => {
    if (!stack) return;
    await stack.remove();
    await lab().docker(['volume', 'rm', '-f', `${prefix()}auth-postgres-data`]);
  }, 2 * STEP_TIMEOUT);

  test('1. rotation on from the first up: Kratos and blog on login a; Kratos\' tables belong to kratos', async () => {
    [port, adminPort] = await freePorts(2);
    stack = await localStack(sandbox(), {
      tls: 'true',
      publishPort: String(port),
      kratosAdminPort: String(adminPort),
      instances: JSON.stringify([{ name: 'blog' }]),
      loginRotation: JSON.stringify({ enabled: true }),
    });
    await stack.up();
    step1 = await stack.outputs();
    caFile = saveCa(step1, work) as string;
    expect(new URL(step1['kratosDsn'] as string).username).toBe('kratos_a');
    expect(kratosConfigDsn(step1)).toBe(step1['kratosDsn']);
    expect(step1['rotationStates']).toMatchObject({ kratos: { currentLogin: 'kratos_a', previousLogin: 'kratos', rotations: 0 }, blog: { currentLogin: 'blog_a' } });
    await kratosReady();
    identity = await createIdentity(admin(), 'rotation@example.com');
    expect(await query(urlOf(step1, 'blog'), 'SELECT session_user, current_user')).toBe('blog_a|blog');
    expect(await query(urlOf(step1, 'kratos'), "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'")).toBe('kratos');
  });

  test('2. rotation 1 in one up: the bootstrap re-runs, Kratos is replaced with kratos_b\'s DSN and keeps its data; the previous login still connects', async () => {
    const before = await containers(lab(), prefix());
    await rotation({ rotation: 1 });
    await stack.up();
    step2 = await stack.outputs();
    const after = await containers(lab(), prefix());
    expect(after[name('kratos')]?.id).not.toBe(before[name('kratos')]?.id);
    expect(after[name('postgres')]?.id).toBe(before[name('postgres')]?.id);
    expect(after[name('postgres-bootstrap')]).toMatchObject({ status: 'exited', exitCode: 0 });
    expect(new URL(step2['kratosDsn'] as string).username).toBe('kratos_b');
    expect(kratosConfigDsn(step2)).toBe(step2['kratosDsn']);
    expect(step2['rotationStates']).toMatchObject({ kratos: { currentLogin: 'kratos_b', previousLogin: 'kratos_a', rotations: 1 }, blog: { currentLogin: 'blog_b', previousLogin: 'blog_a' } });
    await kratosReady();
    expect(await listIdentities(admin())).toMatchObject({ [identity]: 'rotation@example.com' });
    expect(await query(urlOf(step2, 'blog'), 'SELECT session_user')).toBe('blog_b');
    expect(await query(urlOf(step1, 'blog'), 'SELECT session_user')).toBe('blog_a');
    expect(await query(urlOf(step1, 'kratos'), 'SELECT session_user')).toBe('kratos_a');
    expect((await stack.preview()).changeSummary).not.toHaveProperty('update');
  });

  test('3. rotation 2: the DSN of the first up is refused; those of rotations 1 and 2 connect', async () => {
    await rotation({ rotation: 2 });
    await stack.up();
    const step3 = await stack.outputs();
    await expect(query(urlOf(step1, 'blog'), 'SELECT 1')).rejects.toThrow(/password authentication failed for user "blog_a"/);
    expect(await query(urlOf(step2, 'blog'), 'SELECT session_user')).toBe('blog_b');
    expect(await query(urlOf(step3, 'blog'), 'SELECT session_user')).toBe('blog_a');
    await kratosReady();
    expect(await listIdentities(admin())).toMatchObject({ [identity]: 'rotation@example.com' });
  });
});
