/**
 * Issue 23 under Pulumi's mock runtime: what `InstanceDatabase` and
 * `SharedPostgres` register with `loginRotation` on, and what their outputs
 * carry at a given rotation state (the `LoginRotation` resource's state is
 * set per test through the mocks, as its provider's `check` would).
 *
 * Proves: the slots' roles (with `assumeRole`, and the base in their own
 * `roles`: the provider re-grants it on each update), passwords with keepers, the LoginRevocation after every other
 * resource of the instance with the admin URL as a secret input; the
 * outputs carry slot a at rotation 0 and slot b at rotation 1, as secrets,
 * and `rotationState` says so; the base keeps its password and LOGIN at 0
 * and loses both at 1; the server-wide default and an instance's opt-out;
 * a handle without an admin URL is refused; the decision made at preview
 * is logged per instance; the providers' `check`/`diff` behave as the
 * engine calls them (state kept, one rotation per changed number, the
 * admin URL alone changes nothing).
 */
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
const STATES: Record<string, Record<string, unknown>> = {
  'one-login-rotation': { counter: 1, revokedBelow: -1, rotatedAt: '2026-02-01T00:00:00.000Z', rotation: 1, revocation: 0, cause: 'rotation' },
};
const rt = installMocks({ state: (_type, name) => STATES[name] });

import * as pulumi from '@pulumi/pulumi';
import { ExternalPostgres } from '../../../src/provisioning/external';
import { InstanceDatabase } from '../../../src/provisioning/instance-database';
import { SharedPostgres } from '../../../src/provisioning/shared';
import { createServerHandle } from '../../../src/provisioning/server-handle';
import { loginRevocationProvider, loginRotationProvider } from '../../../src/provisioning/rotation';
import { ServerKind, SslMode } from '../../../src/core/tls';
import { isScramVerifier } from '../../../src/core/scram';
import { expectFieldError } from '../core/helpers';
import { unwrapSecret } from '../../support/graph';

const server = new ExternalPostgres('db', { host: 'db.example.com', adminUser: 'admin', adminPassword: 'admin-pw-1', maxConnections: 200, sslmode: SslMode.Require });
const zero = new InstanceDatabase('zero', { server: server.handle, instance: { name: 'zero', loginRotation: { enabled: true, rotateAfterDays: 90 } } });
const one = new InstanceDatabase('one', { server: server.handle, instance: { name: 'one', loginRotation: { enabled: true } } });
const plain = new InstanceDatabase('plain', { server: server.handle, instance: { name: 'plain' } });
const defaults = new ExternalPostgres('fleet', { host: 'fleet.example.com', adminUser: 'admin', adminPassword: 'pw', maxConnections: 200, loginRotation: { enabled: true, rotation: 3 } });
const shared = new SharedPostgres('apps', { server: defaults.handle, namePrefix: 'vw_', instances: [{ name: 'blog' }, { name: 'admin', loginRotation: { enabled: false } }] });

beforeAll(settled);

const value = async <T>(o: pulumi.Output<T>): Promise<T> => (await settle(o)).value as T;

describe('resources', () => {
  test('the slots: LOGIN roles switching to the base, each a member of it; passwords keyed by the rotation they got them at', () => {
    // The membership is the Role's own `roles` (the provider re-grants it on every update of the login), not a GrantRole.
    expect(rt.named('zero-login-a-role').inputs).toMatchObject({ name: 'zero_a', assumeRole: 'zero', roles: ['zero'], inherit: true, connectionLimit: 20 });
    expect(rt.named('zero-login-b-role').inputs).toMatchObject({ name: 'zero_b', assumeRole: 'zero', roles: ['zero'] });
    expect(rt.named('zero-login-a-role').ignoreChanges).toEqual([]);
    expect(rt.named('zero-owner-role').ignoreChanges).toEqual(['roles']);
    expect(rt.resources.filter((r) => r.type === 'postgresql:index/grantRole:GrantRole' && r.name.startsWith('zero-login'))).toEqual([]);
    expect(rt.named('zero-login-a-password').inputs['keepers']).toEqual({ generation: '0' });
    expect(rt.named('zero-login-b-password').inputs['keepers']).toEqual({ generation: '-1' });
    expect(rt.named('zero-login-a-scram-salt').inputs['keepers']).toEqual({ generation: '0' });
    expect(rt.named('one-login-b-password').inputs['keepers']).toEqual({ generation: '1' });
  });

  test('rotation 0: the base and slot a log in with verifiers, slot b has no password; rotation 1: the base has neither', () => {
    expect(rt.named('zero-owner-role').inputs['login']).toBe(true);
    const password = (name: string) => unwrapSecret(rt.named(name).inputs['password']);
    expect(password('zero-owner-role').secret).toBe(true);
    expect(isScramVerifier(String(password('zero-owner-role').value))).toBe(true);
    expect(rt.named('zero-login-a-role').inputs['login']).toBe(true);
    expect(password('zero-login-a-role').secret).toBe(true);
    expect(isScramVerifier(String(password('zero-login-a-role').value))).toBe(true);
    expect(rt.named('zero-login-b-role').inputs['login']).toBe(false);
    // (a secret that resolved to nothing: the engine sends the provider no password)
    expect(password('zero-login-b-role').value ?? null).toBeNull();
    expect(rt.named('one-owner-role').inputs['login']).toBe(false);
    expect(password('one-owner-role').value ?? null).toBeNull();
    expect(rt.named('one-login-b-role').inputs['login']).toBe(true);
  });

  test('the LoginRevocation runs last, with the admin URL as a secret input, the base and slots, and the passwordless logins', () => {
    const rev = rt.named('one-login-revocation');
    expect(rev.type).toBe('pulumi-nodejs:dynamic/postgres-strategies:LoginRevocation');
    expect(rev.additionalSecretOutputs).toEqual(['adminUrl']);
    expect(rev.inputs).toMatchObject({ roles: ['one', 'one_a', 'one_b'], passwordless: ['one'], counter: 1, revokedBelow: -1 });
    const url = unwrapSecret(rev.inputs['adminUrl']);
    expect(url).toEqual({ secret: true, value: 'postgres://admin:admin-pw-1@db.example.com:5432/postgres?sslmode=require&connect_timeout=15&application_name=postgres-strategies-admin' });
    const grants = rt.resources.filter((r) => r.parent === rt.named('one-login-revocation').parent && r.type.startsWith('postgresql:'));
    expect(rev.dependencies).toContain(grants[grants.length - 1]?.urn);
    expect(rt.named('zero-login-revocation').inputs['passwordless']).toEqual(['zero_b']);
    expect(rt.named('zero-login-rotation').inputs).toMatchObject({ rotation: 0, revocation: 0, rotateAfterDays: 90 });
  });

  test('an instance without rotation registers none of it', () => {
    expect(rt.resources.filter((r) => r.name.startsWith('plain-login-'))).toEqual([]);
    expect(plain.rotationState).toBeUndefined();
  });
});

describe('outputs', () => {
  test('rotation 0: every DSN carries slot a and its password; rotationState says so', async () => {
    const url = await value(zero.url);
    expect(url).toMatch(/^postgres:\/\/zero_a:[A-Za-z0-9]{32}@db\.example\.com:5432\/zero\?/);
    expect(await value(zero.user)).toBe('zero_a');
    expect((await settle(zero.kratosDsn)).secret).toBe(true);
    expect((await settle(zero.password)).secret).toBe(true);
    expect(await value(zero.kratosDsn)).toContain('postgres://zero_a:');
    expect((await value(zero.env.gateway)).VIBEWARDEN_DATABASE_EXTERNAL_URL).toContain('zero_a:');
    expect(await value(zero.rotationState as pulumi.Output<unknown>)).toEqual({
      currentLogin: 'zero_a',
      previousLogin: 'zero',
      rotations: 0,
      lastRotatedAt: '2026-01-01T00:00:00.000Z',
      nextDueAt: '2026-04-01T00:00:00.000Z',
      revoked: false,
    });
  });

  test('rotation 1: slot b, with a password other than slot a\'s', async () => {
    const url = await value(one.url);
    expect(url).toMatch(/^postgres:\/\/one_b:/);
    expect(await value(one.password)).not.toBe(await value((one.rotation as NonNullable<typeof one.rotation>).slots[0].password));
    expect(await value(one.rotationState as pulumi.Output<unknown>)).toMatchObject({ currentLogin: 'one_b', previousLogin: 'one_a', rotations: 1 });
  });

  test('the bootstrap SQL renders the instance at its rotation state', async () => {
    const sql = await value(one.bootstrapSql);
    expect(sql).toContain('-- alternating logins: rotation 1, current one_b, previous one_a');
    expect(sql).toContain('CREATE ROLE "one" NOLOGIN');
  });

  test('the server-wide default turns it on for every instance but the one that opts out; rotationStates lists them', async () => {
    expect(rt.named('apps-blog-login-rotation').inputs).toMatchObject({ rotation: 3 });
    expect(rt.resources.filter((r) => r.name.startsWith('apps-admin-login-'))).toEqual([]);
    expect(Object.keys(await value(shared.rotationStates))).toEqual(['blog']);
    expect(await value(shared.urls)).toMatchObject({ blog: expect.stringMatching(/^postgres:\/\/vw_blog_a:/), admin: expect.stringMatching(/^postgres:\/\/vw_admin:/) });
  });
});

test('a handle without an admin URL is refused for a rotating instance, before any resource', () => {
  const handle = createServerHandle({
    host: 'h',
    port: 5432,
    kind: ServerKind.SelfManaged,
    sslmode: SslMode.Require,
    maxConnections: 100,
    reservedConnections: 3,
    adminUser: 'admin',
    adminIsSuperuser: true,
    provider: server.provider,
  });
  const before = rt.resources.length;
  expectFieldError(() => new InstanceDatabase('nourl', { server: handle, instance: { name: 'nourl', loginRotation: { enabled: true } } }), 'instance.loginRotation', "admin URL");
  expect(rt.resources.length).toBe(before);
});

describe('the providers as the engine calls them', () => {
  const trigger = { rotation: 0, revocation: 0, rotateAfterDays: 0 };

  test('LoginRotation.check: created at 0; the same trigger keeps the state (no diff); a changed number rotates once', async () => {
    const created = (await loginRotationProvider.check({}, { ...trigger })).inputs as Record<string, unknown>;
    expect(created).toMatchObject({ counter: 0, revokedBelow: -1 });
    const kept = (await loginRotationProvider.check(created, { ...trigger })).inputs as Record<string, unknown>;
    expect(kept).toEqual(created);
    expect((await loginRotationProvider.diff('id', created as never, kept as never)).changes).toBe(false);
    const rotated = (await loginRotationProvider.check(created, { ...trigger, rotation: 1 })).inputs as Record<string, unknown>;
    expect(rotated).toMatchObject({ counter: 1, cause: 'rotation' });
    expect((await loginRotationProvider.diff('id', created as never, rotated as never)).changes).toBe(true);
    const revoked = (await loginRotationProvider.check(rotated, { ...trigger, rotation: 1, revocation: 1 })).inputs as Record<string, unknown>;
    expect(revoked).toMatchObject({ counter: 2, revokedBelow: 2, cause: 'revocation' });
  });

  test('LoginRevocation.diff: a new admin URL alone (a rotated admin password) changes nothing; new passwordless logins or a revocation do', async () => {
    const olds = { adminUrl: 'postgres://admin:old@h/postgres', passwordless: ['x'], roles: ['x', 'x_a', 'x_b'], counter: 1, revokedBelow: -1 };
    expect((await loginRevocationProvider.diff('id', olds, { ...olds, adminUrl: 'postgres://admin:new@h/postgres' })).changes).toBe(false);
    expect((await loginRevocationProvider.diff('id', olds, { ...olds, passwordless: ['x', 'x_a'] })).changes).toBe(true);
    expect((await loginRevocationProvider.diff('id', olds, { ...olds, counter: 2, revokedBelow: 2 })).changes).toBe(true);
  });
});
