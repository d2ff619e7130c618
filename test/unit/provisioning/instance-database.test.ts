/**
 * InstanceDatabase on its own (the primary seed's Strategy 2: one instance on
 * a managed server): deletion opt-in, the single-instance budget check, the
 * transaction-pooler dialect, and the bootstrap SQL output.
 */
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks();

import { ExternalPostgres } from '../../../src/provisioning/external';
import { InstanceDatabase } from '../../../src/provisioning/instance-database';
import { PoolerMode } from '../../../src/core/dsn';
import { isScramVerifier } from '../../../src/core/scram';

const supabasePooler = new ExternalPostgres('supabase', {
  host: 'aws-0-eu-central-1.pooler.supabase.com',
  port: 6543,
  adminUser: 'postgres.abcdefgh',
  adminPassword: 'pw',
  pooler: PoolerMode.Transaction,
  maxConnections: 60,
});

const vw = new InstanceDatabase('vibewarden', {
  server: supabasePooler.handle,
  instance: { name: 'vibewarden', gatewayPool: { maxConns: 10, minConns: 2 }, kratosPool: { maxConns: 5, maxIdleConns: 1 } },
  allowDeletion: true,
  passwordLength: 40,
});

beforeAll(settled);

test('allowDeletion lets destroy drop the database and its owner role', () => {
  expect(rt.named('vibewarden-database').retainOnDelete).toBe(false);
  expect(rt.named('vibewarden-owner-role').retainOnDelete).toBe(false);
  expect(rt.named('vibewarden-owner-password').inputs['length']).toBe(40);
});

test('behind a transaction pooler the Kratos DSN and pgx URL use default_query_exec_mode=exec, the libpq URL does not', async () => {
  const kratos = (await settle(vw.kratosDsn)).value as string;
  const pgx = (await settle(vw.pgxUrl)).value as string;
  const url = (await settle(vw.url)).value as string;
  expect(kratos).toContain('default_query_exec_mode=exec');
  expect(pgx).toContain('default_query_exec_mode=exec');
  expect(pgx).toContain('pool_max_conns=10&pool_min_conns=2');
  expect(url).not.toContain('default_query_exec_mode');
  expect(url.startsWith('postgres://vibewarden:')).toBe(true);
  expect(url).toContain('@aws-0-eu-central-1.pooler.supabase.com:6543/vibewarden?sslmode=require');
});

test('the bootstrap SQL output holds the verifier, not the password', async () => {
  const sql = (await settle(vw.bootstrapSql)).value as string;
  const password = (await settle(vw.password)).value as string;
  expect(sql).not.toContain(password);
  const verifier = /PASSWORD '(SCRAM-SHA-256[^']+)'/.exec(sql)?.[1];
  expect(verifier && isScramVerifier(verifier)).toBe(true);
});

test('one instance whose pools exceed the server is rejected before any resource', () => {
  const before = rt.resources.length;
  expect(
    () =>
      new InstanceDatabase('huge', {
        server: supabasePooler.handle,
        instance: { name: 'huge', gatewayPool: { maxConns: 50, minConns: 2 }, kratosPool: { maxConns: 10, maxIdleConns: 2 } },
      }),
  ).toThrow(/1 instance needs 60 connections but the server allows 57.*At most 57 connections per instance fit/);
  expect(rt.resources.length).toBe(before);
});

test('password length outside 16–128 is rejected', () => {
  expect(() => new InstanceDatabase('short', { server: supabasePooler.handle, instance: { name: 'short' }, passwordLength: 8 })).toThrow(
    /passwordLength: 8 is not a whole number of characters between 16 and 128/,
  );
});
