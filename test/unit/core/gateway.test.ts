import { ConnectionDescription, PoolerMode, libpqUrl, pgxUrl } from '../../../src/core/dsn';
import { DEFAULT_GATEWAY_CONNECT_TIMEOUT, DEFAULT_GATEWAY_TLS_MODE, GatewayDatabaseConfig, buildGatewayDsn, gatewayEnv, urlQueryKeys } from '../../../src/core/gateway';
import { SslMode } from '../../../src/core/tls';
import { expectFieldError, queryKeys, queryPairs } from './helpers';

// URLs exactly as the primary seed writes them (with the ${...} placeholders).
const STRATEGY2 = 'postgres://vibewarden:${DB_PASSWORD}@db.example.com:5432/vibewarden?sslmode=require';
const RDS = 'postgres://vibewarden:${DB_PASSWORD}@mydb.abc123.eu-west-1.rds.amazonaws.com:5432/vibewarden';
const SUPABASE_DIRECT = 'postgres://postgres.abcdefgh:${DB_PASSWORD}@aws-0-eu-central-1.pooler.supabase.com:5432/postgres';
const SUPABASE_POOLER = 'postgres://postgres.abcdefgh:${DB_PASSWORD}@aws-0-eu-central-1.pooler.supabase.com:6543/postgres';
const NEON = 'postgres://vibewarden:${DB_PASSWORD}@ep-cool-rain-12345.eu-central-1.aws.neon.tech/neondb?sslmode=require';
const VW_BLOG = 'postgres://vw_blog:${DB_PASSWORD_BLOG}@shared-db.example.com:5432/vw_blog';
const VW_ADMIN = 'postgres://vw_admin:${DB_PASSWORD_ADMIN}@shared-db.example.com:5432/vw_admin';

describe('buildGatewayDsn builds the seed configurations', () => {
  test.each<[string, GatewayDatabaseConfig, string]>([
    [
      'Strategy 2: sslmode already in the URL, the rest appended',
      { externalUrl: STRATEGY2, tlsMode: 'require', connectTimeout: '10s', maxConns: 10, minConns: 2 },
      `${STRATEGY2}&connect_timeout=10&pool_max_conns=10&pool_min_conns=2`,
    ],
    [
      'RDS with tls_mode verify-full: sslmode appended after "?"',
      { externalUrl: RDS, tlsMode: 'verify-full', connectTimeout: '10s', maxConns: 10, minConns: 2 },
      `${RDS}?sslmode=verify-full&connect_timeout=10&pool_max_conns=10&pool_min_conns=2`,
    ],
    [
      'Supabase direct connection with the free-tier pool 5/1',
      { externalUrl: SUPABASE_DIRECT, tlsMode: 'require', connectTimeout: '10s', maxConns: 5, minConns: 1 },
      `${SUPABASE_DIRECT}?sslmode=require&connect_timeout=10&pool_max_conns=5&pool_min_conns=1`,
    ],
    [
      'Supabase transaction pooler with pool 10/2',
      { externalUrl: SUPABASE_POOLER, tlsMode: 'require', connectTimeout: '10s', maxConns: 10, minConns: 2 },
      `${SUPABASE_POOLER}?sslmode=require&connect_timeout=10&pool_max_conns=10&pool_min_conns=2`,
    ],
    [
      'Neon with connect_timeout "15s" and min_conns 1',
      { externalUrl: NEON, tlsMode: 'require', connectTimeout: '15s', maxConns: 10, minConns: 1 },
      `${NEON}&connect_timeout=15&pool_max_conns=10&pool_min_conns=1`,
    ],
    [
      'Strategy 3 blog instance (no connect_timeout in the config: default 10s)',
      { externalUrl: VW_BLOG, tlsMode: 'require', maxConns: 5, minConns: 1 },
      `${VW_BLOG}?sslmode=require&connect_timeout=10&pool_max_conns=5&pool_min_conns=1`,
    ],
    [
      'Strategy 3 admin instance',
      { externalUrl: VW_ADMIN, tlsMode: 'require', maxConns: 5, minConns: 1 },
      `${VW_ADMIN}?sslmode=require&connect_timeout=10&pool_max_conns=5&pool_min_conns=1`,
    ],
  ])('%s', (_name, config, expected) => {
    expect(buildGatewayDsn(config)).toBe(expected);
  });
});

describe('buildGatewayDsn merge rule: parameters already in external_url win', () => {
  test('defaults are tls_mode=require, connect_timeout=10s, pool.max_conns=10, pool.min_conns=2', () => {
    expect(DEFAULT_GATEWAY_TLS_MODE).toBe('require');
    expect(DEFAULT_GATEWAY_CONNECT_TIMEOUT).toBe('10s');
    expect(buildGatewayDsn({ externalUrl: VW_BLOG })).toBe(`${VW_BLOG}?sslmode=require&connect_timeout=10&pool_max_conns=10&pool_min_conns=2`);
  });

  test('a URL with sslmode=verify-full keeps it even when tls_mode is require', () => {
    const url = buildGatewayDsn({ externalUrl: `${RDS}?sslmode=verify-full`, tlsMode: 'require' });
    expect(queryPairs(url).filter(([k]) => k === 'sslmode')).toEqual([['sslmode', 'verify-full']]);
  });

  test('a URL with sslmode=disable keeps it even when tls_mode is verify-full', () => {
    const url = buildGatewayDsn({ externalUrl: `${VW_BLOG}?sslmode=disable`, tlsMode: 'verify-full' });
    expect(queryPairs(url).filter(([k]) => k === 'sslmode')).toEqual([['sslmode', 'disable']]);
  });

  test('connect_timeout and pool keys already in the URL win over the config', () => {
    const url = buildGatewayDsn({
      externalUrl: `${VW_BLOG}?connect_timeout=3&pool_max_conns=7`,
      connectTimeout: '30s',
      maxConns: 20,
      minConns: 4,
    });
    expect(url).toBe(`${VW_BLOG}?connect_timeout=3&pool_max_conns=7&sslmode=require&pool_min_conns=4`);
  });

  test('a URL that already has every parameter comes back unchanged', () => {
    const full = `${VW_BLOG}?sslmode=verify-ca&connect_timeout=5&pool_max_conns=3&pool_min_conns=0`;
    expect(buildGatewayDsn({ externalUrl: full, tlsMode: 'require', connectTimeout: '10s', maxConns: 10, minConns: 2 })).toBe(full);
  });

  test('other parameters in the URL are kept in place', () => {
    expect(buildGatewayDsn({ externalUrl: `${VW_BLOG}?application_name=vw&search_path=vw` })).toBe(
      `${VW_BLOG}?application_name=vw&search_path=vw&sslmode=require&connect_timeout=10&pool_max_conns=10&pool_min_conns=2`,
    );
  });

  test('a percent-encoded key in the URL counts as present (Go decodes query keys)', () => {
    const url = buildGatewayDsn({ externalUrl: `${VW_BLOG}?ssl%6Dode=disable`, tlsMode: 'verify-full' });
    expect(queryKeys(url).filter((k) => k === 'sslmode')).toHaveLength(1);
    expect(url).not.toContain('sslmode=verify-full');
  });

  test.each([
    ['a trailing "?"', `${VW_BLOG}?`, `${VW_BLOG}?sslmode=require`],
    ['a trailing "&"', `${VW_BLOG}?application_name=vw&`, `${VW_BLOG}?application_name=vw&sslmode=require`],
  ])('a URL with %s gets no empty parameter', (_what, externalUrl, prefix) => {
    const url = buildGatewayDsn({ externalUrl });
    expect(url.startsWith(`${prefix}&connect_timeout=10`)).toBe(true);
    expect(url).not.toMatch(/\?&|&&/);
  });

  test('a fragment stays at the end, after the appended parameters', () => {
    expect(buildGatewayDsn({ externalUrl: `${VW_BLOG}?application_name=vw#frag` })).toBe(
      `${VW_BLOG}?application_name=vw&sslmode=require&connect_timeout=10&pool_max_conns=10&pool_min_conns=2#frag`,
    );
  });

  test('surrounding whitespace is trimmed and postgresql:// is accepted', () => {
    expect(buildGatewayDsn({ externalUrl: '  postgresql://u:p@h:5432/d  ' })).toBe(
      'postgresql://u:p@h:5432/d?sslmode=require&connect_timeout=10&pool_max_conns=10&pool_min_conns=2',
    );
  });

  test.each([
    ['1m30s', '90'],
    ['1500ms', '2'],
    ['15s', '15'],
    ['2m', '120'],
  ])('connect_timeout %s is applied as connect_timeout=%s whole seconds', (timeout, seconds) => {
    expect(queryPairs(buildGatewayDsn({ externalUrl: VW_BLOG, connectTimeout: timeout }))).toContainEqual(['connect_timeout', seconds]);
  });

  test.each(['disable', 'require', 'verify-ca', 'verify-full'])('tls_mode %s is applied as sslmode', (mode) => {
    expect(queryPairs(buildGatewayDsn({ externalUrl: VW_BLOG, tlsMode: mode }))).toContainEqual(['sslmode', mode]);
  });
});

describe('buildGatewayDsn validation', () => {
  test.each(['prefer', 'allow', 'REQUIRE', 'verify_full', ''])('tls_mode %j throws naming database.tls_mode', (mode) => {
    expectFieldError(() => buildGatewayDsn({ externalUrl: VW_BLOG, tlsMode: mode }), 'database.tls_mode', 'Use one of: disable, require, verify-ca, verify-full');
  });

  test('tls_mode is validated even when the URL already has sslmode (Validate() checks the config)', () => {
    expectFieldError(() => buildGatewayDsn({ externalUrl: `${VW_BLOG}?sslmode=require`, tlsMode: 'prefer' }), 'database.tls_mode');
  });

  test.each(['10', 'ten seconds', '0s', '-5s', ''])('connect_timeout %j throws naming database.connect_timeout', (timeout) => {
    expectFieldError(() => buildGatewayDsn({ externalUrl: VW_BLOG, connectTimeout: timeout }), 'database.connect_timeout');
  });

  test.each<[Partial<GatewayDatabaseConfig>, string]>([
    [{ maxConns: 0 }, 'database.pool.maxConns'],
    [{ maxConns: 1.5 }, 'database.pool.maxConns'],
    [{ minConns: -1 }, 'database.pool.minConns'],
    [{ maxConns: 5, minConns: 6 }, 'database.pool.minConns'],
    [{ maxConns: 1 }, 'database.pool.minConns'], // default min_conns 2 > max_conns 1
  ])('pool %j throws naming %s', (patch, field) => {
    expectFieldError(() => buildGatewayDsn({ externalUrl: VW_BLOG, ...patch }), field);
  });

  test.each(['mysql://u:p@h:3306/d', 'db.example.com:5432/vibewarden', 'http://db.example.com', '', 'postgres:/h/d'])(
    'a non-postgres URL %j throws naming database.external_url',
    (externalUrl) => {
      expectFieldError(() => buildGatewayDsn({ externalUrl }), 'database.external_url', 'not a postgres:// or postgresql:// URL');
    },
  );
});

describe('urlQueryKeys', () => {
  test.each<[string, string[]]>([
    ['postgres://h/d', []],
    ['postgres://h/d?', []],
    ['postgres://h/d?a=1&b=2', ['a', 'b']],
    ['postgres://h/d?a=1&&b', ['a', 'b']],
    ['postgres://h/d?ssl%6Dode=x', ['sslmode']],
    ['postgres://h/d?a+b=1', ['a b']],
    ['postgres://h/d?a=1#b=2', ['a']],
  ])('%s has keys %j', (url, keys) => {
    expect(urlQueryKeys(url)).toEqual(keys);
  });
});

describe('gatewayEnv', () => {
  const blog: ConnectionDescription = {
    hosts: [{ host: 'shared-db.example.com', port: 5432 }],
    database: 'vw_blog',
    user: 'vw_blog',
    password: 'pw-blog',
    tls: { sslmode: SslMode.Require },
    connectTimeoutSeconds: 15,
  };

  test('returns exactly the five VIBEWARDEN_DATABASE_* variables of the seed env table', () => {
    const env = gatewayEnv(blog, { maxConns: 5, minConns: 1 });
    expect(env).toEqual({
      VIBEWARDEN_DATABASE_EXTERNAL_URL: 'postgres://vw_blog:pw-blog@shared-db.example.com:5432/vw_blog?sslmode=require&connect_timeout=15',
      VIBEWARDEN_DATABASE_TLS_MODE: 'require',
      VIBEWARDEN_DATABASE_POOL_MAX_CONNS: '5',
      VIBEWARDEN_DATABASE_POOL_MIN_CONNS: '1',
      VIBEWARDEN_DATABASE_CONNECT_TIMEOUT: '15s',
    });
  });

  test('defaults: pool 10/2 and connect timeout "10s"; the URL is the libpq URL', () => {
    const c = { ...blog, connectTimeoutSeconds: undefined };
    const env = gatewayEnv(c);
    expect(env.VIBEWARDEN_DATABASE_EXTERNAL_URL).toBe(libpqUrl(c));
    expect(env.VIBEWARDEN_DATABASE_POOL_MAX_CONNS).toBe('10');
    expect(env.VIBEWARDEN_DATABASE_POOL_MIN_CONNS).toBe('2');
    expect(env.VIBEWARDEN_DATABASE_CONNECT_TIMEOUT).toBe('10s');
  });

  test('what the gateway builds from these variables (BuildDSN) is the pgx URL of the same description', () => {
    const pool = { maxConns: 5, minConns: 1 };
    const env = gatewayEnv(blog, pool);
    const built = buildGatewayDsn({
      externalUrl: env.VIBEWARDEN_DATABASE_EXTERNAL_URL,
      tlsMode: env.VIBEWARDEN_DATABASE_TLS_MODE,
      connectTimeout: env.VIBEWARDEN_DATABASE_CONNECT_TIMEOUT,
      maxConns: Number(env.VIBEWARDEN_DATABASE_POOL_MAX_CONNS),
      minConns: Number(env.VIBEWARDEN_DATABASE_POOL_MIN_CONNS),
    });
    expect(built).toBe(pgxUrl(blog, pool));
  });

  test.each([SslMode.Allow, SslMode.Prefer])('sslmode %s is refused naming <field>.tls.sslmode (the gateway does not accept it)', (mode) => {
    expectFieldError(() => gatewayEnv({ ...blog, tls: { sslmode: mode } }, undefined, 'instances[0].connection'), 'instances[0].connection.tls.sslmode');
  });

  test('an invalid pool is refused naming <field>.pool', () => {
    expectFieldError(() => gatewayEnv(blog, { maxConns: 2, minConns: 3 }), 'connection.pool.minConns');
  });

  // DOUBTFUL (src/core/gateway.ts, gatewayEnv): the gateway is a pgx client
  // (pool_max_conns is pgx's dialect) and the seed wires the same URL as
  // Kratos' DSN, yet gatewayEnv ignores `pooler` and hands out the plain libpq
  // URL. Behind a transaction pooler (Supabase 6543, Neon -pooler) neither the
  // gateway nor Kratos then gets default_query_exec_mode=exec, which
  // provider-facts.md says pgx needs there; pgxUrl/kratosDsn do add it.
  test('behind a transaction pooler the gateway URL carries default_query_exec_mode=exec, like pgxUrl', () => {
    const pooled: ConnectionDescription = {
      ...blog,
      hosts: [{ host: 'aws-0-eu-central-1.pooler.supabase.com', port: 6543 }],
      pooler: PoolerMode.Transaction,
    };
    const env = gatewayEnv(pooled);
    expect(queryPairs(env.VIBEWARDEN_DATABASE_EXTERNAL_URL)).toContainEqual(['default_query_exec_mode', 'exec']);
  });
});
