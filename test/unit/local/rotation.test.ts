/**
 * Issue 23: LocalPostgres with `loginRotation` under Pulumi's mock runtime.
 * Its own instances (Kratos' too) rotate through the bootstrap script, which
 * the one-shot container re-runs whenever it changes; Kratos' DSN in its
 * mounted config file and the compose files follow the current login; its
 * handle gives instances provisioned on it the default and the admin URL.
 *
 * Proves, at rotation 0 (`auth`) and rotation 1 (`next`, its state set
 * through the mocks): the LoginRotation per rotating instance, the
 * bootstrap script's two-login shape at the state, Kratos' config and the
 * compose files carrying the current login (`kratos_a`, then `kratos_b`)
 * with the current password, the `rotationState` and `user` outputs, and
 * the handle's default (an InstanceDatabase on it rotates) and admin URL.
 */
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks({
  state: (_type, name) =>
    name === 'next-kratos-login-rotation' ? { counter: 1, revokedBelow: -1, rotatedAt: '2026-02-01T00:00:00.000Z', rotation: 1, revocation: 0, cause: 'rotation' } : undefined,
});

import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import { LocalPostgres } from '../../../src/local/component';
import { InstanceDatabase } from '../../../src/provisioning/instance-database';
import { unwrapSecret } from '../../support/graph';

jest.setTimeout(30_000);

const auth = new LocalPostgres('auth', { publishPort: 5432, kratos: {}, loginRotation: { enabled: true, rotateAfterDays: 30 } });
const next = new LocalPostgres('next', { kratos: {}, loginRotation: { enabled: true, rotation: 1 } });
const onHandle = new InstanceDatabase('extra', { server: auth.handle, instance: { name: 'extra' } });

beforeAll(settled, 60_000);

const value = async <T>(o: pulumi.Output<T>): Promise<T> => (await settle(o)).value as T;
const kratosConfig = (container: string): Record<string, unknown> => {
  const upload = (rt.named(container).inputs['uploads'] as Array<Record<string, unknown>>).find((u) => String(u['file']).endsWith('kratos.yml'));
  return parse(String(unwrapSecret(upload?.['content']).value)) as Record<string, unknown>;
};

test('a LoginRotation for Kratos\' instance; no GrantRole or LoginRevocation (the bootstrap does it all)', () => {
  expect(rt.named('auth-kratos-login-rotation').inputs).toMatchObject({ rotation: 0, revocation: 0, rotateAfterDays: 30 });
  expect(rt.named('auth-kratos-login-a-password').inputs['keepers']).toEqual({ generation: '0' });
  expect(rt.resources.filter((r) => r.name.startsWith('auth-') && r.type.includes('LoginRevocation'))).toEqual([]);
});

test('rotation 0: the bootstrap script makes kratos_a current and keeps the base; Kratos\' config and the compose files carry kratos_a', async () => {
  const sql = await value(auth.bootstrapSql);
  expect(sql).toContain('-- alternating logins: rotation 0, current kratos_a, previous kratos');
  expect(sql).toContain(`ALTER ROLE "kratos_a" SET role TO 'kratos';`);
  const dsn = await value(auth.kratosDsn as pulumi.Output<string>);
  expect(dsn).toMatch(/^postgres:\/\/kratos_a:[A-Za-z0-9]{32}@postgres:5432\/kratos\?/);
  expect(kratosConfig('auth-kratos')['dsn']).toBe(dsn);
  expect(kratosConfig('auth-kratos-migrate')['dsn']).toBe(dsn);
  expect((await value(auth.composeFiles))['kratos/kratos.yml']).toContain(dsn);
  const instance = auth.instances['kratos']!;
  expect(await value(instance.user)).toBe('kratos_a');
  expect(await value(instance.rotationState as pulumi.Output<unknown>)).toMatchObject({ currentLogin: 'kratos_a', previousLogin: 'kratos', rotations: 0, nextDueAt: '2026-01-31T00:00:00.000Z' });
});

test('rotation 1: kratos_b with its own password; the base no longer logs in', async () => {
  const sql = await value(next.bootstrapSql);
  expect(sql).toContain('-- alternating logins: rotation 1, current kratos_b, previous kratos_a');
  expect(sql).toContain('CREATE ROLE "kratos" NOLOGIN');
  const dsn = await value(next.kratosDsn as pulumi.Output<string>);
  expect(dsn).toMatch(/^postgres:\/\/kratos_b:/);
  expect(decodeURIComponent(new URL(dsn).password)).toBe(await value(next.instances['kratos']!.password));
  expect(kratosConfig('next-kratos')['dsn']).toBe(dsn);
});

test('the handle: the server default reaches instances provisioned on it; the admin URL is a secret through the published port', async () => {
  expect(onHandle.plan.rotation?.logins).toEqual(['extra_a', 'extra_b']);
  const url = await settle(auth.handle.adminUrl as pulumi.Output<string>);
  expect(url.secret).toBe(true);
  expect(url.value).toMatch(/^postgres:\/\/postgres:[A-Za-z0-9]{32}@127\.0\.0\.1:5432\/postgres\?sslmode=disable/);
});
