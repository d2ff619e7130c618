/**
 * What upgrading to the release of issue 20 does to a stack, on the real
 * engine with the providers that run here (upgrade-program.ts):
 *
 * - An existing stack deployed with `sslmode=require` and default names
 *   moves to an admin provider that verifies the server against the CA held
 *   in its own state, and to new defaults fixed at creation: the preview is
 *   one provider update and nothing else (no replacement, no rename); `up`
 *   connects with verify-full (lib/pq reading the CA inline); the role and
 *   the random id keep the names they were created with; `refresh` and
 *   `destroy`, which configure the provider from the state alone, verify the
 *   server too, with no CA file anywhere.
 * - A new stack gets the new default names.
 * - A server whose certificate another CA signed is refused: the deployment
 *   fails with the certificate error instead of connecting unverified.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExampleStack } from '../../../lab/engine';
import { makeCertificates } from '../../../lab/certs';
import { withPg } from '../../../lab/inspect';
import { labPath } from '../../../lab/server';
import { planServerCertificates } from '../../../src/core/certificates';
import { checkPreview } from '../../../src/preview-guard';
import { STEP_TIMEOUT, useEngine, useTlsServer } from './support';

const PROGRAM = labPath('test', 'e2e', 'engine', 'upgrade-program');

describe('upgrading a stack: the admin provider verifies against the CA in its state; default names stay as created', () => {
  const sandbox = useEngine();
  const server = useTlsServer();
  const stacks: ExampleStack[] = [];
  afterAll(async () => {
    for (const s of stacks) await s.remove({ destroy: false });
  }, STEP_TIMEOUT);

  const newStack = async (config: Record<string, string>): Promise<ExampleStack> => {
    const stack = new ExampleStack('shared', `upg-${randomBytes(4).toString('hex')}`, sandbox(), PROGRAM);
    stacks.push(stack);
    await stack.init();
    const s = server();
    await stack.config({ host: s.host, port: String(s.port), adminUser: s.superuser, adminPassword: { value: s.superuserPassword, secret: true }, caFile: s.caFile as string, ...config });
    return stack;
  };
  const roles = async (): Promise<string[]> =>
    withPg(server().admin(), async (c) => (await c.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname LIKE 'upg_%' ORDER BY 1")).rows.map((r) => r.rolname));

  test('an existing stack: a provider update (its role shows an update without a changed property, once), nothing replaced or renamed; up, refresh and destroy verify the server', async () => {
    // What a release up to 2026-12-04 deployed: sslmode=require, default names of then.
    const stack = await newStack({ admin: 'require', roleName: 'upg_old', identifier: 'app-db-prod' });
    await stack.up([], STEP_TIMEOUT);
    expect(await roles()).toContain('upg_old');

    // The upgrade: verify-full against the CA in the state, and new defaults fixed at creation.
    await stack.config({ admin: 'inline', roleName: 'upg_new', identifier: 'shop-prod-app-db', fixedNames: 'true' });
    const preview = await stack.preview();
    const steps = (preview.steps ?? []).filter((s) => s.op !== 'same');
    // The provider's new client certificate is unknown until it is created, so the engine cannot diff the role
    // with the new provider in this preview: it shows an update without a changed property (once, at the upgrade).
    expect(steps.map((s) => `${s.op} ${s.urn.slice(s.urn.lastIndexOf('::') + 2)} ${[...(s.diffReasons ?? [])].sort().join(',')}`).sort()).toEqual([
      'create srv-admin-client-cert ',
      'create srv-admin-client-key ',
      'update app-role ',
      'update srv-admin clientcert,sslmode,sslrootcert',
    ]);
    // The guard: no error; a warning for the admin connection's TLS.
    const findings = checkPreview(preview).map((f) => [f.severity, f.code, f.resourceName]);
    expect(findings).toEqual([['warning', 'tls-changed', 'srv-admin']]);
    await stack.up([], STEP_TIMEOUT);
    expect((await stack.preview(['--expect-no-changes'])).changeSummary).toEqual({ same: expect.any(Number) });
    expect(await stack.outputs()).toEqual({ roleName: 'upg_old', identifier: 'app-db-prod' });
    expect(await roles()).toEqual(['upg_old']);
    // No CA file on this machine any more: refresh configures the provider from the state and still verifies.
    const state = await stack.exportState();
    expect(state).toContain('"sslmode": "verify-full"');
    expect(state).not.toContain(server().caFile as string);
    await stack.must(['refresh', '--yes', '--skip-preview'], { timeoutMs: STEP_TIMEOUT });
    expect((await stack.preview(['--expect-no-changes'])).changeSummary).toEqual({ same: expect.any(Number) });
    await stack.must(['destroy', '--yes', '--skip-preview'], { timeoutMs: STEP_TIMEOUT });
    expect(await roles()).toEqual([]);
  }, 4 * STEP_TIMEOUT);

  test('a new stack gets the new default names', async () => {
    const stack = await newStack({ admin: 'inline', roleName: 'upg_new', identifier: 'shop-prod-app-db', fixedNames: 'true' });
    await stack.up([], STEP_TIMEOUT);
    expect(await stack.outputs()).toEqual({ roleName: 'upg_new', identifier: 'shop-prod-app-db' });
    await stack.must(['destroy', '--yes', '--skip-preview'], { timeoutMs: STEP_TIMEOUT });
  }, 2 * STEP_TIMEOUT);

  test('a server whose certificate another CA signed is refused: the deployment fails on the certificate', async () => {
    const other = await makeCertificates(planServerCertificates({ dnsNames: ['other'] }));
    const otherCa = join(server().workDir, 'other-ca.pem');
    writeFileSync(otherCa, other.caCertPem);
    const stack = await newStack({ admin: 'inline', roleName: 'upg_refused', identifier: 'x', caFile: otherCa });
    const r = await stack.run(['up', '--yes', '--skip-preview'], { timeoutMs: STEP_TIMEOUT });
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}\n${r.stderr}`).toMatch(/certificate signed by unknown authority|x509/);
    expect(await roles()).not.toContain('upg_refused');
  }, 2 * STEP_TIMEOUT);
});
