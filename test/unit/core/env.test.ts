import { ConnectionDescription, PoolerMode, TargetSessionAttrs, kratosDsn, libpqUrl } from '../../../src/core/dsn';
import { databaseUrlEnv, kratosEnv, libpqEnv } from '../../../src/core/env';
import { SslMode } from '../../../src/core/tls';
import { expectFieldError } from './helpers';

const rds: ConnectionDescription = {
  hosts: [{ host: 'mydb.abc123.eu-west-1.rds.amazonaws.com', port: 5432 }],
  database: 'vibewarden',
  user: 'vibewarden',
  password: 'p@ss word+1',
  tls: { sslmode: SslMode.VerifyFull, sslrootcert: '/etc/ssl/certs/rds-global-bundle.pem' },
};

const supabasePooler: ConnectionDescription = {
  hosts: [{ host: 'aws-0-eu-central-1.pooler.supabase.com', port: 6543 }],
  database: 'postgres',
  user: 'postgres.abcdefgh',
  password: 'pw',
  tls: { sslmode: SslMode.Require },
  pooler: PoolerMode.Transaction,
};

describe('kratosEnv', () => {
  test.each([
    ['RDS', rds],
    ['Supabase transaction pooler', supabasePooler],
  ])('%s: DSN is exactly kratosDsn of the same description and nothing else', (_name, c) => {
    expect(kratosEnv(c)).toEqual({ DSN: kratosDsn(c) });
  });

  test('a custom Kratos pool reaches the DSN', () => {
    const pool = { maxConns: 4, maxIdleConns: 1, maxConnLifetimeSeconds: 600 };
    expect(kratosEnv(supabasePooler, pool).DSN).toBe(kratosDsn(supabasePooler, pool));
    expect(kratosEnv(supabasePooler, pool).DSN).toContain('max_conns=4&max_idle_conns=1&max_conn_lifetime=600s');
  });

  test('errors name the caller\'s field', () => {
    expectFieldError(() => kratosEnv({ ...rds, params: { pool_min_conns: '1' } }, undefined, 'kratos'), 'kratos.params.pool_min_conns');
  });
});

describe('databaseUrlEnv', () => {
  test('DATABASE_URL is the libpq URL', () => {
    expect(databaseUrlEnv(rds)).toEqual({ DATABASE_URL: libpqUrl(rds) });
    expect(databaseUrlEnv(supabasePooler).DATABASE_URL).not.toContain('default_query_exec_mode');
  });
});

describe('libpqEnv', () => {
  test('a single-host description gives PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE, PGSSLROOTCERT, PGCONNECT_TIMEOUT', () => {
    expect(libpqEnv(rds)).toEqual({
      PGHOST: 'mydb.abc123.eu-west-1.rds.amazonaws.com',
      PGPORT: '5432',
      PGDATABASE: 'vibewarden',
      PGUSER: 'vibewarden',
      PGPASSWORD: 'p@ss word+1', // plain: env vars are not URL-encoded
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: '/etc/ssl/certs/rds-global-bundle.pem',
      PGCONNECT_TIMEOUT: '10',
    });
  });

  test('PGSSLROOTCERT and PGPASSWORD are absent when not set; PGAPPNAME is set from applicationName', () => {
    const env = libpqEnv({ ...supabasePooler, password: undefined, applicationName: 'kratos', connectTimeoutSeconds: 15 });
    expect(env).toEqual({
      PGHOST: 'aws-0-eu-central-1.pooler.supabase.com',
      PGPORT: '6543',
      PGDATABASE: 'postgres',
      PGUSER: 'postgres.abcdefgh',
      PGSSLMODE: 'require',
      PGCONNECT_TIMEOUT: '15',
      PGAPPNAME: 'kratos',
    });
    expect(env).not.toHaveProperty('PGSSLROOTCERT');
    expect(env).not.toHaveProperty('PGPASSWORD');
  });

  test('a multi-host description gives comma-separated PGHOST and PGPORT in the same order', () => {
    const env = libpqEnv({
      ...rds,
      hosts: [
        { host: 'db-0.internal', port: 5432 },
        { host: '::1', port: 5433 },
      ],
    });
    expect(env.PGHOST).toBe('db-0.internal,::1');
    expect(env.PGPORT).toBe('5432,5433');
  });

  test('it validates like libpqUrl: a non-libpq parameter throws', () => {
    expectFieldError(() => libpqEnv({ ...rds, params: { pool_max_conns: '5' } }), 'connection.params.pool_max_conns');
  });

  // DOUBTFUL (src/core/env.ts, libpqEnv): target_session_attrs is dropped.
  // libpq reads PGTARGETSESSIONATTRS (PostgreSQL 10+), so a multi-host
  // read-write description connects to any host - possibly a standby - through
  // the env map, but to the primary through the URL.
  test('targetSessionAttrs is carried as PGTARGETSESSIONATTRS so the env map connects like the URL', () => {
    const env = libpqEnv({
      ...rds,
      hosts: [
        { host: 'db-0.internal', port: 5432 },
        { host: 'db-1.internal', port: 5432 },
      ],
      targetSessionAttrs: TargetSessionAttrs.ReadWrite,
    });
    expect(env['PGTARGETSESSIONATTRS']).toBe('read-write');
  });
});
