import fc from 'fast-check';
import { parse } from 'pg-connection-string';
import {
  ConnectionDescription,
  DEFAULT_CONNECT_TIMEOUT_SECONDS,
  DEFAULT_GATEWAY_POOL,
  DEFAULT_KRATOS_POOL,
  PoolerMode,
  REDACTED,
  TargetSessionAttrs,
  KRATOS_REFUSED_LIBPQ_KEYWORDS,
  PGX_REFUSED_LIBPQ_KEYWORDS,
  kratosDsn,
  libpqUrl,
  percentEncode,
  pgxUrl,
  readerConnection,
  redactPassword,
  urlHost,
  withSslMode,
} from '../../../src/core/dsn';
import { parseGoDuration } from '../../../src/core/duration';
import { kratosDsnToLibpq } from '../../../src/core/kratos';
import { KRATOS_POOL_KEYWORDS, LIBPQ_KEYWORDS, PGX_ONLY_KEYWORDS, PGX_POOLER_SAFE_EXEC_MODE, TYPED_KEYWORDS } from '../../../src/core/params';
import { SslMode } from '../../../src/core/tls';
import { expectFieldError, queryKeys, queryPairs } from './helpers';

// Hosts and names from the primary seed's provider sections.
const RDS_HOST = 'mydb.abc123.eu-west-1.rds.amazonaws.com';
const SUPABASE_POOLER = 'aws-0-eu-central-1.pooler.supabase.com';
const NEON_HOST = 'ep-cool-rain-12345.eu-central-1.aws.neon.tech';
const SHARED_HOST = 'shared-db.example.com';

const rds: ConnectionDescription = {
  hosts: [{ host: RDS_HOST, port: 5432 }],
  database: 'vibewarden',
  user: 'vibewarden',
  password: 'strongpassword',
  tls: { sslmode: SslMode.VerifyFull, sslrootcert: '/etc/ssl/certs/rds-global-bundle.pem' },
};

const supabaseSession: ConnectionDescription = {
  hosts: [{ host: SUPABASE_POOLER, port: 5432 }],
  database: 'postgres',
  user: 'postgres.abcdefgh',
  password: 'strongpassword',
  tls: { sslmode: SslMode.Require },
  pooler: PoolerMode.Session,
};

const supabaseTransaction: ConnectionDescription = {
  ...supabaseSession,
  hosts: [{ host: SUPABASE_POOLER, port: 6543 }],
  pooler: PoolerMode.Transaction,
};

const neon: ConnectionDescription = {
  hosts: [{ host: NEON_HOST, port: 5432 }],
  database: 'neondb',
  user: 'vibewarden',
  password: 'strongpassword',
  tls: { sslmode: SslMode.Require },
  connectTimeoutSeconds: 15,
};

const vwBlog: ConnectionDescription = {
  hosts: [{ host: SHARED_HOST, port: 5432 }],
  database: 'vw_blog',
  user: 'vw_blog',
  password: 'pw-blog',
  tls: { sslmode: SslMode.Require },
};

const vwAdmin: ConnectionDescription = { ...vwBlog, database: 'vw_admin', user: 'vw_admin', password: 'pw-admin' };

const POOL_KEYS = ['pool_max_conns', 'pool_min_conns', 'max_conns', 'max_idle_conns', 'max_conn_lifetime', 'max_conn_idle_time'];

describe('libpqUrl builds the seed examples exactly', () => {
  test.each<[string, ConnectionDescription, string]>([
    [
      'RDS with verify-full and a CA bundle path (sslrootcert keeps "/" readable)',
      rds,
      `postgres://vibewarden:strongpassword@${RDS_HOST}:5432/vibewarden?sslmode=verify-full&sslrootcert=/etc/ssl/certs/rds-global-bundle.pem&connect_timeout=10`,
    ],
    ['Supabase session pooler on 5432', supabaseSession, `postgres://postgres.abcdefgh:strongpassword@${SUPABASE_POOLER}:5432/postgres?sslmode=require&connect_timeout=10`],
    [
      'Supabase transaction pooler on 6543 (no default_query_exec_mode: libpq would reject it)',
      supabaseTransaction,
      `postgres://postgres.abcdefgh:strongpassword@${SUPABASE_POOLER}:6543/postgres?sslmode=require&connect_timeout=10`,
    ],
    ['Neon with connect_timeout 15', neon, `postgres://vibewarden:strongpassword@${NEON_HOST}:5432/neondb?sslmode=require&connect_timeout=15`],
    ['shared cluster, vw_blog', vwBlog, `postgres://vw_blog:pw-blog@${SHARED_HOST}:5432/vw_blog?sslmode=require&connect_timeout=10`],
    ['shared cluster, vw_admin', vwAdmin, `postgres://vw_admin:pw-admin@${SHARED_HOST}:5432/vw_admin?sslmode=require&connect_timeout=10`],
  ])('%s', (_name, c, expected) => {
    expect(libpqUrl(c)).toBe(expected);
  });

  test('without a password the URL has no ":" in the user info', () => {
    expect(libpqUrl({ ...vwBlog, password: undefined })).toBe(`postgres://vw_blog@${SHARED_HOST}:5432/vw_blog?sslmode=require&connect_timeout=10`);
  });

  test('an empty password is kept as an empty password (user:@host)', () => {
    expect(libpqUrl({ ...vwBlog, password: '' })).toBe(`postgres://vw_blog:@${SHARED_HOST}:5432/vw_blog?sslmode=require&connect_timeout=10`);
  });

  test('the connect_timeout default is 10 seconds (primary seed)', () => {
    expect(DEFAULT_CONNECT_TIMEOUT_SECONDS).toBe(10);
    expect(queryPairs(libpqUrl(vwBlog))).toContainEqual(['connect_timeout', '10']);
  });

  test('application_name and target_session_attrs are libpq parameters, values percent-encoded', () => {
    expect(libpqUrl({ ...vwBlog, applicationName: 'vibewarden blog', targetSessionAttrs: TargetSessionAttrs.ReadWrite })).toBe(
      `postgres://vw_blog:pw-blog@${SHARED_HOST}:5432/vw_blog?sslmode=require&connect_timeout=10&application_name=vibewarden%20blog&target_session_attrs=read-write`,
    );
  });

  test('extra libpq parameters are appended sorted by key', () => {
    expect(libpqUrl({ ...vwBlog, params: { tcp_user_timeout: '5000', keepalives_idle: '30', channel_binding: 'require' } })).toBe(
      `postgres://vw_blog:pw-blog@${SHARED_HOST}:5432/vw_blog?sslmode=require&connect_timeout=10&channel_binding=require&keepalives_idle=30&tcp_user_timeout=5000`,
    );
  });

  test('a password with URL delimiters is percent-encoded, including "+" and space', () => {
    expect(libpqUrl({ ...vwBlog, password: `p@ss:w/rd?#%'" +&=!()*~` })).toBe(
      `postgres://vw_blog:p%40ss%3Aw%2Frd%3F%23%25%27%22%20%2B%26%3D%21%28%29%2A~@${SHARED_HOST}:5432/vw_blog?sslmode=require&connect_timeout=10`,
    );
  });

  test('a case-sensitive database name (seed 003 "honeyDue") is kept as is in the URL', () => {
    expect(libpqUrl({ ...neon, database: 'honeyDue', user: 'neondb_owner' })).toBe(
      `postgres://neondb_owner:strongpassword@${NEON_HOST}:5432/honeyDue?sslmode=require&connect_timeout=15`,
    );
  });
});

describe('multi-host URLs and IPv6 hosts', () => {
  test('several hosts are comma-separated with their ports, tried in order', () => {
    const c: ConnectionDescription = {
      hosts: [
        { host: 'db-0.clowk-lp.voodu', port: 5432 },
        { host: 'db-1.clowk-lp.voodu', port: 5433 },
        { host: 'db-2.clowk-lp.voodu', port: 5432 },
      ],
      database: 'app',
      user: 'app',
      password: 'pw',
      tls: { sslmode: SslMode.Disable },
      targetSessionAttrs: TargetSessionAttrs.ReadWrite,
    };
    expect(libpqUrl(c)).toBe(
      'postgres://app:pw@db-0.clowk-lp.voodu:5432,db-1.clowk-lp.voodu:5433,db-2.clowk-lp.voodu:5432/app?sslmode=disable&connect_timeout=10&target_session_attrs=read-write',
    );
  });

  test.each([
    ['::1', 5432, '[::1]:5432'],
    ['fd00::5', 6432, '[fd00::5]:6432'],
    ['2001:db8::1', 5432, '[2001:db8::1]:5432'],
    ['10.0.0.5', 5432, '10.0.0.5:5432'],
  ])('host %s is written %s', (host, port, written) => {
    const url = libpqUrl({ ...vwBlog, hosts: [{ host, port }] });
    expect(url).toBe(`postgres://vw_blog:pw-blog@${written}/vw_blog?sslmode=require&connect_timeout=10`);
  });

  // Issue 7, item 10: a zone's "%" must be "%25" in a URL (RFC 6874), a non-ASCII name its IDNA form.
  test.each([
    ['fe80::1%eth0', 5432, '[fe80::1%25eth0]:5432'],
    ['fe80::1%25', 5432, '[fe80::1%2525]:5432'], // a zone named "25" stays "25"
    ['fe80::abcd%enp0s31f6', 6432, '[fe80::abcd%25enp0s31f6]:6432'],
    ['bücher.example', 5432, 'xn--bcher-kva.example:5432'],
    ['ДБ.пример.рф', 5432, 'xn--90af.xn--e1afmkfd.xn--p1ai:5432'],
    ['xn--bcher-kva.example', 5432, 'xn--bcher-kva.example:5432'],
    ['DB.Example.com', 5432, 'DB.Example.com:5432'], // ASCII names are left as given
  ])('host %s is written %s', (host, port, written) => {
    const url = libpqUrl({ ...vwBlog, hosts: [{ host, port }] });
    expect(url).toBe(`postgres://vw_blog:pw-blog@${written}/vw_blog?sslmode=require&connect_timeout=10`);
  });

  test('urlHost uses node:url domainToASCII for IDNA (the WHATWG URL rules), as the WHATWG URL parser does for http', () => {
    for (const name of ['bücher.example', 'ДБ.пример.рф', 'straße.de', 'ｅｘａｍｐｌｅ.com']) {
      expect(urlHost(name)).toBe(new URL(`http://${name}/`).hostname);
    }
  });

  test('a non-ASCII host comes back from pg-connection-string in its IDNA form, resolvable by getaddrinfo', () => {
    const parsed = parse(libpqUrl({ ...vwBlog, tls: { sslmode: SslMode.Disable }, hosts: [{ host: 'bücher.example', port: 5433 }] }));
    expect(parsed).toMatchObject({ host: 'xn--bcher-kva.example', port: '5433', user: 'vw_blog', password: 'pw-blog', database: 'vw_blog' });
  });

  // pg-connection-string parses with the WHATWG URL parser, which has no IPv6 zones (RFC 6874 was
  // never adopted there): node-postgres cannot take a zone in a URL at all; libpq can (see
  // test/integration/url-host.test.ts). The libpq URL is still the only correct spelling.
  test('pg-connection-string (WHATWG URL) refuses an IPv6 zone in any spelling; node-postgres users pass the host separately', () => {
    expect(() => parse(libpqUrl({ ...vwBlog, hosts: [{ host: 'fe80::1%eth0', port: 5432 }] }))).toThrow(/Invalid URL/);
    expect(() => parse('postgres://u:p@[fe80::1%eth0]:5432/db')).toThrow(/Invalid URL/);
  });

  test('an IPv6 host round-trips through pg-connection-string', () => {
    const parsed = parse(libpqUrl({ ...vwBlog, tls: { sslmode: SslMode.Disable }, hosts: [{ host: 'fd00::5', port: 6432 }] }));
    expect(parsed.host).toBe('fd00::5');
    expect(parsed.port).toBe('6432');
  });

  test('IPv6 and names mix in one multi-host URL', () => {
    const url = libpqUrl({ ...vwBlog, hosts: [{ host: '::1', port: 5432 }, { host: 'standby.internal', port: 5432 }] });
    expect(url.startsWith('postgres://vw_blog:pw-blog@[::1]:5432,standby.internal:5432/vw_blog?')).toBe(true);
  });
});

describe('pgxUrl (the gateway dialect)', () => {
  test('adds pool_max_conns/pool_min_conns after the libpq parameters, defaults 10/2', () => {
    expect(DEFAULT_GATEWAY_POOL).toEqual({ maxConns: 10, minConns: 2 });
    expect(pgxUrl(rds)).toBe(
      `postgres://vibewarden:strongpassword@${RDS_HOST}:5432/vibewarden?sslmode=verify-full&sslrootcert=/etc/ssl/certs/rds-global-bundle.pem&connect_timeout=10&pool_max_conns=10&pool_min_conns=2`,
    );
  });

  test.each<[string, ConnectionDescription, { maxConns: number; minConns: number }, string]>([
    [
      'Supabase direct/session 5432 with the free-tier pool 5/1: no exec mode',
      supabaseSession,
      { maxConns: 5, minConns: 1 },
      `postgres://postgres.abcdefgh:strongpassword@${SUPABASE_POOLER}:5432/postgres?sslmode=require&connect_timeout=10&pool_max_conns=5&pool_min_conns=1`,
    ],
    [
      'Supabase transaction pooler 6543: default_query_exec_mode=exec',
      supabaseTransaction,
      { maxConns: 10, minConns: 2 },
      `postgres://postgres.abcdefgh:strongpassword@${SUPABASE_POOLER}:6543/postgres?sslmode=require&connect_timeout=10&default_query_exec_mode=exec&pool_max_conns=10&pool_min_conns=2`,
    ],
    [
      'Neon with connect_timeout 15 and min_conns 1',
      neon,
      { maxConns: 10, minConns: 1 },
      `postgres://vibewarden:strongpassword@${NEON_HOST}:5432/neondb?sslmode=require&connect_timeout=15&pool_max_conns=10&pool_min_conns=1`,
    ],
    [
      'shared cluster vw_blog with pool 5/1',
      vwBlog,
      { maxConns: 5, minConns: 1 },
      `postgres://vw_blog:pw-blog@${SHARED_HOST}:5432/vw_blog?sslmode=require&connect_timeout=10&pool_max_conns=5&pool_min_conns=1`,
    ],
  ])('%s', (_name, c, pool, expected) => {
    expect(pgxUrl(c, pool)).toBe(expected);
  });

  test('an explicit default_query_exec_mode in params wins over the pooler default and appears once', () => {
    const url = pgxUrl({ ...supabaseTransaction, params: { default_query_exec_mode: 'simple_protocol' } });
    expect(queryPairs(url).filter(([k]) => k === 'default_query_exec_mode')).toEqual([['default_query_exec_mode', 'simple_protocol']]);
  });

  test('pgx-only keys such as statement_cache_capacity are accepted in params', () => {
    expect(queryPairs(pgxUrl({ ...vwBlog, params: { statement_cache_capacity: '0' } }))).toContainEqual(['statement_cache_capacity', '0']);
  });

  test('unknown keys are rejected (pgx would send them to the server as run-time parameters)', () => {
    expectFieldError(() => pgxUrl({ ...vwBlog, params: { max_conns: '5' } }), 'connection.params.max_conns', 'not a pgx connection parameter');
  });

  test.each([
    [{ maxConns: 0, minConns: 0 }, 'connection.pool.maxConns'],
    [{ maxConns: 5, minConns: 6 }, 'connection.pool.minConns'],
    [{ maxConns: 5, minConns: -1 }, 'connection.pool.minConns'],
    [{ maxConns: 2.5, minConns: 1 }, 'connection.pool.maxConns'],
  ])('an invalid pool %j is rejected naming %s', (pool, field) => {
    expectFieldError(() => pgxUrl(vwBlog, pool), field);
  });

  // BUG (src/core/dsn.ts, pgxUrl): pool_max_conns / pool_min_conns are
  // accepted in `params` (they are PGX_ONLY_KEYWORDS) and then pushed again
  // from `pool`, so the URL carries the key twice
  // ("...&pool_max_conns=20&pool_max_conns=10&..."); which one pgx uses
  // depends on its query parsing. Expected: reject them in params (the pool
  // argument sets them) or emit each key once.
  test('pool keys given in params are either rejected or appear exactly once', () => {
    let url: string | undefined;
    try {
      url = pgxUrl({ ...vwBlog, params: { pool_max_conns: '20' } });
    } catch {
      return; // rejecting them is fine
    }
    expect(queryKeys(url).filter((k) => k === 'pool_max_conns')).toHaveLength(1);
  });
});

describe('kratosDsn (Ory Kratos dialect)', () => {
  test('adds max_conns/max_idle_conns (defaults 10/2) and never a pool_* key', () => {
    expect(DEFAULT_KRATOS_POOL).toEqual({ maxConns: 10, maxIdleConns: 2 });
    const url = kratosDsn(rds);
    expect(url).toBe(
      `postgres://vibewarden:strongpassword@${RDS_HOST}:5432/vibewarden?sslmode=verify-full&sslrootcert=/etc/ssl/certs/rds-global-bundle.pem&connect_timeout=10&max_conns=10&max_idle_conns=2`,
    );
    expect(queryKeys(url).some((k) => k.startsWith('pool_'))).toBe(false);
  });

  test('behind the Supabase transaction pooler it adds default_query_exec_mode=exec', () => {
    expect(kratosDsn(supabaseTransaction)).toBe(
      `postgres://postgres.abcdefgh:strongpassword@${SUPABASE_POOLER}:6543/postgres?sslmode=require&connect_timeout=10&default_query_exec_mode=exec&max_conns=10&max_idle_conns=2`,
    );
  });

  test('behind a session pooler it does not add default_query_exec_mode', () => {
    expect(queryKeys(kratosDsn(supabaseSession))).not.toContain('default_query_exec_mode');
  });

  test('max_conn_lifetime and max_conn_idle_time are written as Go durations when set', () => {
    const url = kratosDsn(vwBlog, { maxConns: 8, maxIdleConns: 4, maxConnLifetimeSeconds: 3600, maxConnIdleTimeSeconds: 300 });
    expect(url).toBe(
      `postgres://vw_blog:pw-blog@${SHARED_HOST}:5432/vw_blog?sslmode=require&connect_timeout=10&max_conns=8&max_idle_conns=4&max_conn_lifetime=3600s&max_conn_idle_time=300s`,
    );
    const pairs = new Map(queryPairs(url));
    expect(parseGoDuration(pairs.get('max_conn_lifetime')!, 'f')).toBe(3600);
    expect(parseGoDuration(pairs.get('max_conn_idle_time')!, 'f')).toBe(300);
  });

  test.each(['pool_min_conns', 'pool_max_conns', 'pool_max_conn_lifetime', 'pool_health_check_period'])(
    'a %s parameter is rejected (Kratos rejects pool_* keys)',
    (key) => {
      expectFieldError(() => kratosDsn({ ...vwBlog, params: { [key]: '1' } }), `connection.params.${key}`, 'not a Kratos connection parameter');
    },
  );

  test.each([
    [{ maxConns: 0, maxIdleConns: 0 }, 'connection.kratosPool.maxConns'],
    [{ maxConns: 5, maxIdleConns: 6 }, 'connection.kratosPool.maxIdleConns'],
    [{ maxConns: 5, maxIdleConns: 1, maxConnLifetimeSeconds: 0 }, 'connection.kratosPool.maxConnLifetimeSeconds'],
    [{ maxConns: 5, maxIdleConns: 1, maxConnLifetimeSeconds: 1.5 }, 'connection.kratosPool.maxConnLifetimeSeconds'],
    [{ maxConns: 5, maxIdleConns: 1, maxConnIdleTimeSeconds: -1 }, 'connection.kratosPool.maxConnIdleTimeSeconds'],
  ])('an invalid Kratos pool %j is rejected naming %s', (pool, field) => {
    expectFieldError(() => kratosDsn(vwBlog, pool), field);
  });
});

describe('libpq-only keywords never reach pgx (found with a real pgx login, test/e2e/pgx.test.ts)', () => {
  test.each([...PGX_REFUSED_LIBPQ_KEYWORDS])('%s: accepted in the libpq URL, refused for pgx and Kratos naming the field', (key) => {
    expect(LIBPQ_KEYWORDS.has(key)).toBe(true);
    expect(queryKeys(libpqUrl({ ...vwBlog, params: { [key]: '1' } }))).toContain(key);
    expectFieldError(() => pgxUrl({ ...vwBlog, params: { [key]: '1' } }), `connection.params.${key}`, 'libpq-only');
    expectFieldError(() => kratosDsn({ ...vwBlog, params: { [key]: '1' } }), `connection.params.${key}`, 'libpq-only');
  });
});

describe("keys pgx 5.12 reads but Kratos v1.3.1's pgx 5.6 forwards to the server (channel_binding, …)", () => {
  test.each([...KRATOS_REFUSED_LIBPQ_KEYWORDS])('%s: in the libpq and pgx URLs, refused for Kratos naming the field', (key) => {
    expect(LIBPQ_KEYWORDS.has(key)).toBe(true);
    expect(PGX_REFUSED_LIBPQ_KEYWORDS.has(key)).toBe(false);
    const c = { ...vwBlog, params: { [key]: 'require' } };
    expect(queryKeys(libpqUrl(c))).toContain(key);
    expect(queryKeys(pgxUrl(c))).toContain(key);
    expectFieldError(() => kratosDsn(c), `connection.params.${key}`, "Kratos v1.3.1's pgx (v5.6)", 'refuses the login');
  });
});

describe('kratosDsnToLibpq keeps only what libpq accepts', () => {
  test('a pooled Kratos DSN loses default_query_exec_mode and the pool keys, and keeps the rest', () => {
    const dsn = kratosDsn(supabaseTransaction);
    expect(queryKeys(dsn)).toContain('default_query_exec_mode');
    const url = kratosDsnToLibpq(dsn);
    expect(queryKeys(url)).toEqual(['sslmode', 'connect_timeout']);
    expect(queryKeys(url).every((k) => LIBPQ_KEYWORDS.has(k))).toBe(true);
    expect(url.split('?')[0]).toBe(dsn.split('?')[0]);
  });
});

describe('readerConnection (standbys first, then the primary, prefer-standby)', () => {
  test('orders the hosts and drops repeats', () => {
    const primary = { ...vwBlog, hosts: [{ host: 'primary.internal', port: 5432 }] };
    const reader = readerConnection(primary, [
      { host: 'replica-1.internal', port: 5432 },
      { host: 'replica-1.internal', port: 5432 },
      { host: 'primary.internal', port: 5432 },
      { host: 'replica-2.internal', port: 5433 },
    ]);
    expect(reader.hosts).toEqual([
      { host: 'replica-1.internal', port: 5432 },
      { host: 'primary.internal', port: 5432 },
      { host: 'replica-2.internal', port: 5433 },
    ]);
    const url = libpqUrl(readerConnection(primary, [{ host: 'replica-1.internal', port: 5432 }]));
    expect(url.split('@')[1]!.split('/')[0]).toBe('replica-1.internal:5432,primary.internal:5432');
    expect(queryPairs(url)).toContainEqual(['target_session_attrs', 'prefer-standby']);
  });

  test('without standbys it is the primary with prefer-standby', () => {
    const reader = readerConnection(vwBlog, []);
    expect(reader.hosts).toEqual(vwBlog.hosts);
    expect(reader.targetSessionAttrs).toBe(TargetSessionAttrs.PreferStandby);
  });
});

describe('dialect separation', () => {
  const descriptions = [rds, supabaseSession, supabaseTransaction, neon, vwBlog, vwAdmin];

  test.each(descriptions.map((c) => [libpqUrl(c), c] as const))('libpq URL %s has no pool or pgx-only key', (url) => {
    for (const k of queryKeys(url)) {
      expect(LIBPQ_KEYWORDS.has(k)).toBe(true);
      expect(POOL_KEYS).not.toContain(k);
      expect(k).not.toBe('default_query_exec_mode');
    }
  });

  test.each(descriptions.map((c) => [kratosDsn(c), c] as const))('Kratos DSN %s carries only libpq keys, pgx non-pool keys and Kratos pool keys', (url) => {
    for (const k of queryKeys(url)) {
      expect(LIBPQ_KEYWORDS.has(k) || KRATOS_POOL_KEYWORDS.has(k) || (PGX_ONLY_KEYWORDS.has(k) && !k.startsWith('pool_'))).toBe(true);
    }
  });

  test('the Kratos DSN and the pgx URL differ only in their pool keys for the same description', () => {
    const strip = (url: string, keys: string[]): string[] => queryKeys(url).filter((k) => !keys.includes(k));
    for (const c of descriptions) {
      expect(strip(kratosDsn(c), POOL_KEYS)).toEqual(strip(pgxUrl(c), POOL_KEYS));
    }
  });

  test('no dialect emits a key twice', () => {
    for (const c of descriptions) {
      for (const url of [libpqUrl(c), pgxUrl(c), kratosDsn(c)]) {
        const keys = queryKeys(url);
        expect(new Set(keys).size).toBe(keys.length);
      }
    }
  });

  test('the parameter tables are disjoint where they must be', () => {
    for (const k of [...PGX_ONLY_KEYWORDS, ...KRATOS_POOL_KEYWORDS]) expect(LIBPQ_KEYWORDS.has(k)).toBe(false);
    for (const k of TYPED_KEYWORDS) expect(LIBPQ_KEYWORDS.has(k)).toBe(true);
    expect(PGX_POOLER_SAFE_EXEC_MODE).toBe('exec');
  });
});

describe('libpqUrl rejects what libpq would reject', () => {
  test.each(['pool_max_conns', 'pool_min_conns', 'max_conns', 'default_query_exec_mode', 'statement_cache_capacity', 'foo', 'sslMode'])(
    'the non-libpq parameter %s throws (libpq: invalid URI query parameter)',
    (key) => {
      expectFieldError(() => libpqUrl({ ...vwBlog, params: { [key]: '1' } }), `connection.params.${key}`, 'not a libpq connection parameter');
    },
  );

  test.each([...TYPED_KEYWORDS])('the typed key %s may not be repeated in params (all dialects)', (key) => {
    const c = { ...vwBlog, params: { [key]: 'x' } };
    expectFieldError(() => libpqUrl(c), `connection.params.${key}`, 'set by a typed field');
    expectFieldError(() => pgxUrl(c), `connection.params.${key}`, 'set by a typed field');
    expectFieldError(() => kratosDsn(c), `connection.params.${key}`, 'set by a typed field');
  });

  test('the field prefix given by the caller is used in errors', () => {
    expectFieldError(() => libpqUrl({ ...vwBlog, params: { foo: '1' } }, 'instances[3].connection'), 'instances[3].connection.params.foo');
  });
});

describe('validateConnection (through libpqUrl)', () => {
  test.each<[string, string, Partial<ConnectionDescription>]>([
    ['no host', 'connection.hosts', { hosts: [] }],
    ['an empty host', 'connection.hosts[0].host', { hosts: [{ host: '', port: 5432 }] }],
    ['a host with a scheme', 'connection.hosts[0].host', { hosts: [{ host: 'postgres://db.example.com', port: 5432 }] }],
    ['a host with a path', 'connection.hosts[0].host', { hosts: [{ host: 'db.example.com/vibewarden', port: 5432 }] }],
    ['a host with a space', 'connection.hosts[0].host', { hosts: [{ host: 'db example.com', port: 5432 }] }],
    ['a host with user info', 'connection.hosts[0].host', { hosts: [{ host: 'u@db.example.com', port: 5432 }] }],
    ['a host list in one host', 'connection.hosts[0].host', { hosts: [{ host: 'a,b', port: 5432 }] }],
    ['a bracketed host', 'connection.hosts[0].host', { hosts: [{ host: '[::1]', port: 5432 }] }],
    ['port 0', 'connection.hosts[0].port', { hosts: [{ host: 'h', port: 0 }] }],
    ['port 65536', 'connection.hosts[0].port', { hosts: [{ host: 'h', port: 65536 }] }],
    ['a fractional port', 'connection.hosts[0].port', { hosts: [{ host: 'h', port: 5432.5 }] }],
    ['the second host bad', 'connection.hosts[1].host', { hosts: [{ host: 'h', port: 5432 }, { host: 'x?y', port: 5432 }] }],
    ['an empty database', 'connection.database', { database: '' }],
    ['an empty user', 'connection.user', { user: '' }],
    ['an invalid sslmode', 'connection.tls.sslmode', { tls: { sslmode: 'Require' as SslMode } }],
    ['connect timeout 0', 'connection.connectTimeoutSeconds', { connectTimeoutSeconds: 0 }],
    ['a fractional connect timeout', 'connection.connectTimeoutSeconds', { connectTimeoutSeconds: 1.5 }],
  ])('%s is rejected naming %s', (_what, field, patch) => {
    expectFieldError(() => libpqUrl({ ...vwBlog, ...patch }), field);
  });

  // BUG (src/core/dsn.ts, validateConnection/formatHost): a host that carries
  // a port - e.g. the RDS `endpoint` output "host:5432", which
  // provider-facts.md names as a common mistake - passes validation because
  // only IPv6 is expected to contain ':'; it is then bracketed as if it were
  // IPv6: "postgres://...@[mydb...amazonaws.com:5432]:5432/...". Expected: a
  // ValidationError on connection.hosts[0].host ("no scheme, port or path").
  test('a host with a port (the RDS endpoint "host:5432") is rejected', () => {
    expectFieldError(() => libpqUrl({ ...rds, hosts: [{ host: `${RDS_HOST}:5432`, port: 5432 }] }), 'connection.hosts[0].host');
  });
});

describe('percentEncode', () => {
  test.each([
    ['abcXYZ019-._~', 'abcXYZ019-._~'],
    ['a b', 'a%20b'],
    ['a+b', 'a%2Bb'],
    ["!'()*", '%21%27%28%29%2A'],
    ['@:/?#[]', '%40%3A%2F%3F%23%5B%5D'],
    ['%', '%25'],
    ['é', '%C3%A9'],
    ['😀', '%F0%9F%98%80'],
  ])('%j is encoded as %s (only RFC 3986 unreserved characters stay)', (input, expected) => {
    expect(percentEncode(input)).toBe(expected);
  });

  test('the output only ever contains unreserved characters and %XX escapes, and decodes back', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const e = percentEncode(s);
        expect(e).toMatch(/^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*$/);
        expect(decodeURIComponent(e)).toBe(s);
      }),
      { numRuns: 500 },
    );
  });
});

describe('round-trip of user, password and database (property)', () => {
  // Characters that break naive URL building, mixed with arbitrary Unicode.
  const tricky = fc.constantFrom('@', ':', '/', '?', '#', '%', "'", '"', ' ', '+', '&', '=', ',', '[', ']', '\\', ';', '$', '\t', 'é', '😀');
  const char = fc.oneof(tricky, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }));
  // libpq cannot carry NUL or broken UTF-16; those are rejected (property below).
  const carriable = (t: string): boolean => !t.includes('\0') && !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(t);
  const text = fc.string({ unit: char, minLength: 1, maxLength: 24 }).filter(carriable);

  test('a user or password with NUL or a lone surrogate is rejected naming the field, never encoded', () => {
    fc.assert(
      fc.property(fc.string({ unit: char, maxLength: 8 }), fc.constantFrom('\0', '\uD800', '\uDC00'), fc.constantFrom('user', 'password'), (t, bad, which) => {
        const value = t + bad;
        expectFieldError(() => libpqUrl(describe_(which === 'user' ? value : 'u', which === 'password' ? value : 'p', 'app')), `connection.${which}`);
      }),
    );
  });
  // pg-connection-string decodes the path with decodeURI, which leaves the
  // escapes of ; / ? : @ & = + $ , # encoded, and WHATWG URL parsing drops
  // "." and ".." path segments: both are limits of that parser, not of the
  // URL (libpq and Go decode every escape), so the database property through
  // pg-connection-string excludes them and a second property checks every
  // database name with a full percent-decoding of the path.
  const decodeUriReserved = /[;/?:@&=+$,#]/;
  const isDotSegment = (s: string): boolean => s === '.' || s === '..';

  const describe_ = (user: string, password: string, database: string): ConnectionDescription => ({
    hosts: [{ host: 'db.example.com', port: 5432 }],
    database,
    user,
    password,
    tls: { sslmode: SslMode.Disable },
  });

  test('user and password come back exactly from pg-connection-string parse()', () => {
    fc.assert(
      fc.property(text, text, (user, password) => {
        const parsed = parse(libpqUrl(describe_(user, password, 'app')));
        expect(parsed.user).toBe(user);
        expect(parsed.password).toBe(password);
        expect(parsed.database).toBe('app');
        expect(parsed.host).toBe('db.example.com');
        expect(parsed.port).toBe('5432');
      }),
      { numRuns: 1000 },
    );
  });

  test('the database comes back exactly from pg-connection-string parse()', () => {
    const db = text.filter((s) => !decodeUriReserved.test(s) && !isDotSegment(s));
    fc.assert(
      fc.property(db, (database) => {
        expect(parse(libpqUrl(describe_('u', 'p', database))).database).toBe(database);
      }),
      { numRuns: 1000 },
    );
  });

  test('every database name comes back from the URL path with full percent-decoding', () => {
    fc.assert(
      fc.property(
        text.filter((s) => !isDotSegment(s)),
        (database) => {
          const url = new URL(libpqUrl(describe_('u', 'p', database)));
          expect(decodeURIComponent(url.pathname.slice(1))).toBe(database);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('no raw "+" or space remains in any dialect, and the query keeps its structure', () => {
    fc.assert(
      fc.property(text, text, text, text, (user, password, database, appName) => {
        const c = { ...describe_(user, password, database), applicationName: appName };
        for (const url of [libpqUrl(c), pgxUrl(c), kratosDsn(c)]) {
          expect(url).not.toMatch(/[+ ]/);
          expect(url.match(/@/g)).toHaveLength(1);
          expect(url.match(/\?/g)).toHaveLength(1);
          expect(url).not.toContain('#');
          expect(queryPairs(url)).toContainEqual(['application_name', appName]);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('redactPassword and withSslMode', () => {
  test('redactPassword replaces the password with REDACTED and leaves the rest', () => {
    const r = redactPassword(vwBlog);
    expect(r.password).toBe(REDACTED);
    expect(libpqUrl(r)).toBe(`postgres://vw_blog:REDACTED@${SHARED_HOST}:5432/vw_blog?sslmode=require&connect_timeout=10`);
    expect(vwBlog.password).toBe('pw-blog');
  });

  test('redactPassword leaves a description without password unchanged', () => {
    const c = { ...vwBlog, password: undefined };
    expect(redactPassword(c)).toBe(c);
  });

  test('withSslMode forces the sslmode without touching sslrootcert or the input', () => {
    const d = withSslMode(rds, SslMode.Disable);
    expect(d.tls).toEqual({ sslmode: 'disable', sslrootcert: '/etc/ssl/certs/rds-global-bundle.pem' });
    expect(rds.tls.sslmode).toBe('verify-full');
  });
});
