/**
 * InstanceDatabase on its own (the primary seed's Strategy 2: one instance on
 * a managed server): deletion opt-in, the single-instance budget check, the
 * direct and pooled endpoints (Supabase: direct `db.<ref>.supabase.co:5432`
 * for the admin and migrations, Supavisor's transaction port 6543 with the
 * `postgres.<ref>`-style user for the apps), and the bootstrap SQL output.
 */
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks();

import * as pulumi from '@pulumi/pulumi';
import { ExternalPostgres } from '../../../src/provisioning/external';
import { InstanceDatabase } from '../../../src/provisioning/instance-database';
import { SharedPostgres } from '../../../src/provisioning/shared';
import { ConnectionBudgetError } from '../../../src/core/budget';
import { PoolerMode } from '../../../src/core/dsn';
import { isScramVerifier } from '../../../src/core/scram';

const supabase = new ExternalPostgres('supabase', {
  host: 'db.abcdefgh.supabase.co',
  port: 5432,
  adminUser: 'postgres',
  adminPassword: 'pw',
  maxConnections: 60,
  pooler: { host: 'aws-0-eu-central-1.pooler.supabase.com', port: 6543, mode: PoolerMode.Transaction, userSuffix: '.abcdefgh', serverPoolSize: 3 },
});

const vw = new InstanceDatabase('vibewarden', {
  server: supabase.handle,
  instance: { name: 'vibewarden', gatewayPool: { maxConns: 10, minConns: 2 }, kratosPool: { maxConns: 5, maxIdleConns: 1 } },
  allowDeletion: true,
  passwordLength: 40,
});

const session = new ExternalPostgres('session', {
  host: 'db.abcdefgh.supabase.co',
  adminUser: 'postgres',
  adminPassword: 'pw',
  maxConnections: 60,
  pooler: { host: 'aws-0-eu-central-1.pooler.supabase.com', port: 5432, mode: PoolerMode.Session, userSuffix: '.abcdefgh', serverPoolSize: 3 },
});
const sess = new InstanceDatabase('sess', { server: session.handle, instance: { name: 'sess' } });

const direct = new ExternalPostgres('direct', { host: 'mydb.example.com', adminUser: 'admin', adminPassword: 'pw', maxConnections: 60 });
const plain = new InstanceDatabase('plain', { server: direct.handle, instance: { name: 'plain' } });

beforeAll(settled);

const value = async (o: pulumi.Output<unknown>): Promise<string> => (await settle(o)).value as string;

test('allowDeletion lets destroy drop the database and its owner role', () => {
  expect(rt.named('vibewarden-database').retainOnDelete).toBe(false);
  expect(rt.named('vibewarden-owner-role').retainOnDelete).toBe(false);
  expect(rt.named('vibewarden-owner-password').inputs['length']).toBe(40);
});

describe('direct and pooled endpoints', () => {
  test('the admin provider always uses the direct endpoint', () => {
    expect(rt.named('supabase-admin').inputs).toMatchObject({ host: 'db.abcdefgh.supabase.co', port: '5432', username: 'postgres' });
    expect(supabase.handle.pooler).toEqual({ host: 'aws-0-eu-central-1.pooler.supabase.com', port: 6543, mode: PoolerMode.Transaction, userSuffix: '.abcdefgh', serverPoolSize: 3 });
  });

  test('url and kratosMigrateDsn are direct, with the plain role name and no exec mode', async () => {
    const url = await value(vw.url);
    const migrate = await value(vw.kratosMigrateDsn);
    for (const u of [url, migrate]) {
      expect(u).toMatch(/^postgres:\/\/vibewarden:[A-Za-z0-9]{40}@db\.abcdefgh\.supabase\.co:5432\/vibewarden\?sslmode=require/);
      expect(u).not.toContain('default_query_exec_mode');
    }
    expect(migrate).toContain('max_conns=5&max_idle_conns=1');
    expect((await settle(vw.env.databaseUrl)).value!.DATABASE_URL).toBe(url);
    expect((await settle(vw.env.libpq)).value).toMatchObject({ PGHOST: 'db.abcdefgh.supabase.co', PGPORT: '5432', PGUSER: 'vibewarden' });
  });

  test('pooledUrl, kratosDsn, pgxUrl and the gateway env go through the transaction pooler as <role>.<ref>, with default_query_exec_mode=exec where pgx reads it', async () => {
    const at = /@aws-0-eu-central-1\.pooler\.supabase\.com:6543\/vibewarden\?sslmode=require/;
    const pooled = await value(vw.pooledUrl);
    const kratos = await value(vw.kratosDsn);
    const pgx = await value(vw.pgxUrl);
    const gateway = (await settle(vw.env.gateway)).value!;
    for (const u of [pooled, kratos, pgx, gateway.VIBEWARDEN_DATABASE_EXTERNAL_URL]) {
      expect(u).toMatch(at);
      expect(new URL(u).username).toBe('vibewarden.abcdefgh');
    }
    expect(pooled).not.toContain('default_query_exec_mode'); // libpq would refuse the key
    expect(kratos).toContain('default_query_exec_mode=exec');
    expect(pgx).toContain('default_query_exec_mode=exec');
    expect(pgx).toContain('pool_max_conns=10&pool_min_conns=2');
    expect(gateway.VIBEWARDEN_DATABASE_EXTERNAL_URL).toContain('default_query_exec_mode=exec');
    expect((await settle(vw.env.kratos)).value!.DSN).toBe(kratos);
  });

  test('behind a session pooler the clients go through it without the exec mode', async () => {
    const kratos = await value(sess.kratosDsn);
    expect(kratos).toMatch(/@aws-0-eu-central-1\.pooler\.supabase\.com:5432\/sess\?/);
    expect(new URL(kratos).username).toBe('sess.abcdefgh');
    expect(kratos).not.toContain('default_query_exec_mode');
  });

  test('without a pooler pooledUrl is the direct url and everything is direct', async () => {
    expect(await value(plain.pooledUrl)).toBe(await value(plain.url));
    expect(await value(plain.kratosDsn)).toMatch(/@mydb\.example\.com:5432\/plain\?/);
    expect(plain.pooledConnection).toBeUndefined();
  });

  test('every output that carries a password is a secret', async () => {
    for (const db of [vw, sess, plain]) {
      const outputs: Record<string, pulumi.Output<unknown> | undefined> = {
        password: db.password,
        connection: db.connection,
        pooledConnection: db.pooledConnection,
        url: db.url,
        pooledUrl: db.pooledUrl,
        pgxUrl: db.pgxUrl,
        kratosDsn: db.kratosDsn,
        kratosMigrateDsn: db.kratosMigrateDsn,
        'env.kratos': db.env.kratos,
        'env.gateway': db.env.gateway,
        'env.databaseUrl': db.env.databaseUrl,
        'env.libpq': db.env.libpq,
        bootstrapSql: db.bootstrapSql,
      };
      for (const [name, output] of Object.entries(outputs)) {
        if (output === undefined) continue;
        expect([name, await pulumi.isSecret(output)]).toEqual([name, true]);
      }
    }
  });
});

describe('the budget counts what reaches the server', () => {
  test('behind a transaction pooler: the pooler\'s serverPoolSize per instance, not the clients\' 15', () => {
    expect(supabase.handle.claims.claimed).toEqual([{ instance: 'vibewarden/vibewarden', connections: 3, consumers: [{ name: 'pooler', maxConnections: 3 }] }]);
  });

  test('behind a session pooler: every client connection holds a server connection', () => {
    expect(session.handle.claims.claimed.map((c) => c.connections)).toEqual([20]);
  });

  test('the transaction pooler lets 15 instances of 20 client connections share 60 − 11 slots (3 each)', () => {
    const many = new SharedPostgres('many', { server: supabase.handle, instances: Array.from({ length: 15 }, (_, i) => ({ name: `app${i}` })) });
    // 60 − 3 reserved − 5 admin (a tenth of 57) − 3 maintenance
    expect(many.budget).toMatchObject({ adminConnections: 5, available: 49, total: 3 + 45, headroom: 1 });
  });

  test('direct consumers (extra workers) are counted in full even behind the pooler', () => {
    const before = rt.resources.length;
    expect(
      () => new InstanceDatabase('workers', { server: supabase.handle, instance: { name: 'workers', extraConsumers: [{ name: 'worker', maxConnections: 5 }] } }),
    ).toThrow(ConnectionBudgetError);
    expect(() => new InstanceDatabase('workers', { server: supabase.handle, instance: { name: 'workers', extraConsumers: [{ name: 'worker', maxConnections: 5 }] } })).toThrow(
      'shares: workers/workers 8 (pooler 3 + worker 5)',
    );
    expect(rt.resources.length).toBe(before);
  });
});

describe('rejected before anything is created', () => {
  test('one instance whose pools exceed the server', () => {
    const before = rt.resources.length;
    expect(
      () =>
        new InstanceDatabase('huge', {
          server: direct.handle,
          instance: { name: 'huge', gatewayPool: { maxConns: 40, minConns: 2 }, kratosPool: { maxConns: 10, maxIdleConns: 2 } },
        }),
    ).toThrow(/1 instance needs 50 connections but the server allows 29 .*At most 29 connections per instance fit/);
    expect(rt.resources.length).toBe(before);
  });

  test('password length outside 16–128', () => {
    expect(() => new InstanceDatabase('short', { server: direct.handle, instance: { name: 'short' }, passwordLength: 8 })).toThrow(
      /passwordLength: 8 is not a whole number of characters between 16 and 128/,
    );
  });

  test.each([
    ['mode none', { mode: PoolerMode.None }, /^pooler\.mode: "none" is not a pooler mode/],
    ['a host with a port', { host: 'pooler.example.com:6543' }, /^pooler\.host: "pooler\.example\.com:6543" includes a port\. Give the host alone \("pooler\.example\.com"\) and the port as pooler\.port \(6543\)/],
    ['an IPv4 address out of range', { host: '10.0.0.999' }, /^pooler\.host: "10\.0\.0\.999" is not a valid IPv4 address/],
    ['a port out of range', { port: 70000 }, /^pooler\.port: 70000 \(a number\) is not a TCP port/],
    ['a port given as a string', { port: '6543' as unknown as number }, /^pooler\.port: "6543" is a string, not a number/],
    ['a server pool of 0', { serverPoolSize: 0 }, /^pooler\.serverPoolSize: 0 is not a whole number of connections between 1 and 262143/],
    ['a user suffix with @', { userSuffix: '@ref' }, /^pooler\.userSuffix: "@ref" is not a pooler user suffix/],
  ])('a pooler with %s', (_, patch, message) => {
    const before = rt.resources.length;
    const pooler = { host: 'pooler.example.com', port: 6543, mode: PoolerMode.Transaction, ...patch };
    expect(() => new ExternalPostgres('bad-pooler', { host: 'h.example.com', adminUser: 'a', adminPassword: 'p', pooler })).toThrow(message);
    expect(rt.resources.length).toBe(before);
  });
});

test('the bootstrap SQL output holds the verifier, not the password', async () => {
  const sql = (await settle(vw.bootstrapSql)).value as string;
  const password = (await settle(vw.password)).value as string;
  expect(sql).not.toContain(password);
  const verifier = /PASSWORD '(SCRAM-SHA-256[^']+)'/.exec(sql)?.[1];
  expect(verifier && isScramVerifier(verifier)).toBe(true);
});
