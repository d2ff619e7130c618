/**
 * Scenario 4 of the local strategy on the real engine and the lab's Docker
 * engine: a new PostgreSQL major over a kept volume.
 * - `image` postgres:15 → postgres:17-alpine under a running stack is
 *   refused at `pulumi preview` (and by `pulumi up`, which changes nothing:
 *   the same containers keep running), the message naming both majors and
 *   the upgrade procedure — never a container crash-looping on PostgreSQL
 *   15's data directory;
 * - that procedure, run for real (test/e2e/engine/local-upgrade.ts): a
 *   second LocalPostgres on postgres:17-alpine, `postgres-strategies
 *   migrate` from the old instance's `hostUrl` to the new one's, Kratos
 *   moved to the new server — and Kratos lists the identities it created on
 *   PostgreSQL 15, with the same ids.
 */
import { ExampleStack } from '../../../lab/engine';
import { run } from '../../../lab/run';
import { freePorts, labPath } from '../../../lab/server';
import { STEP_TIMEOUT, useEngine } from './support';
import { containers, createIdentity, kratosGet, listIdentities, query, useDockerLab, waitFor } from './local-support';
import { randomBytes } from 'node:crypto';

jest.setTimeout(STEP_TIMEOUT);

const sandbox = useEngine();
const lab = useDockerLab(sandbox);

describe('a new PostgreSQL major under LocalPostgres (test/e2e/engine/local-upgrade.ts)', () => {
  let stack: ExampleStack;
  let ports: Record<'publishPort' | 'kratosAdminPort' | 'newPublishPort' | 'newKratosAdminPort', number>;
  let identities: Record<string, string>;
  const prefix = (): string => `postgres-strategies-local-upgrade-${stack.stack}-`;

  afterAll(async () => {
    if (!stack) return;
    await stack.remove();
    for (const v of ['auth', 'auth-next']) await lab().docker(['volume', 'rm', '-f', `${prefix()}${v}-postgres-data`]);
  }, 3 * STEP_TIMEOUT);

  test('up on postgres:15 with Kratos; identities created through Kratos', async () => {
    const [publishPort, kratosAdminPort, newPublishPort, newKratosAdminPort] = await freePorts(4);
    ports = { publishPort, kratosAdminPort, newPublishPort, newKratosAdminPort };
    stack = new ExampleStack('local', `upgrade-${randomBytes(4).toString('hex')}`, sandbox(), labPath('test', 'e2e', 'engine', 'local-upgrade'));
    await stack.init();
    await stack.config({ image: 'postgres:15', publishPort: String(ports.publishPort), kratosAdminPort: String(ports.kratosAdminPort) });
    await stack.up();
    const admin = `http://127.0.0.1:${ports.kratosAdminPort}`;
    await waitFor('Kratos ready', async () => (await kratosGet(`${admin}/health/ready`)).status === 200);
    identities = {};
    for (const email of ['ada@example.com', 'grace@example.com']) identities[await createIdentity(admin, email)] = email;
    const outputs = await stack.outputs();
    expect(await query(outputs['oldUrl'] as string, "SELECT current_setting('server_version_num')::int / 10000")).toBe('15');
  });

  test('postgres:15 → postgres:17-alpine over the same volume: refused at preview with the procedure; up changes nothing', async () => {
    const before = await containers(lab(), prefix());
    await stack.config({ image: 'postgres:17-alpine' });
    const preview = await stack.run(['preview']);
    const text = preview.stdout + preview.stderr;
    expect(preview.code).not.toBe(0);
    expect(text).toContain('postgres:15 → postgres:17-alpine changes PostgreSQL 15 → 17');
    expect(text).toContain('npx postgres-strategies migrate --from-env FROM --to-env TO');
    const up = await stack.run(['up', '--yes', '--skip-preview']);
    expect(up.code).not.toBe(0);
    expect(up.stdout + up.stderr).toContain('changes PostgreSQL 15 → 17');
    const after = await containers(lab(), prefix());
    expect(Object.fromEntries(Object.values(after).map((c) => [c.name, [c.id, c.status]]))).toEqual(Object.fromEntries(Object.values(before).map((c) => [c.name, [c.id, c.status]])));
    await stack.config({ image: 'postgres:15' });
    await stack.must(['preview', '--expect-no-changes']);
  });

  test('the procedure: a second LocalPostgres on 17, postgres-strategies migrate, Kratos moved: it lists the same identities', async () => {
    await stack.config({ newImage: 'postgres:17-alpine', newPublishPort: String(ports.newPublishPort) });
    await stack.up();
    const outputs = await stack.outputs();
    expect(await query(outputs['newUrl'] as string, "SELECT current_setting('server_version_num')::int / 10000")).toBe('17');
    const migrate = await run(process.execPath, [labPath('dist', 'src', 'cli', 'main.js'), 'migrate', '--from-env', 'FROM', '--to-env', 'TO'], {
      env: { ...process.env, FROM: outputs['oldUrl'] as string, TO: outputs['newUrl'] as string },
    });
    expect([migrate.code, migrate.code === 0 ? '' : migrate.stderr.slice(-3000)]).toEqual([0, '']);

    await stack.config({ kratosOn: 'new', newKratosAdminPort: String(ports.newKratosAdminPort) });
    await stack.up();
    const admin = `http://127.0.0.1:${ports.newKratosAdminPort}`;
    await waitFor('Kratos ready on the new server', async () => (await kratosGet(`${admin}/health/ready`)).status === 200);
    expect(await listIdentities(admin)).toEqual(identities);
    const c = await containers(lab(), prefix());
    expect(c[`${prefix()}auth-next-kratos-migrate`]).toMatchObject({ exitCode: 0 });
    expect(c[`${prefix()}auth-kratos`]).toBeUndefined();
  });
});
