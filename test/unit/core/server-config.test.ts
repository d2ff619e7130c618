import {
  ConfValue,
  HbaMethod,
  HbaRule,
  HbaType,
  MANAGED_CONF_KEYS,
  renderConfValue,
  renderPgHba,
  renderPostgresqlConf,
  standardHba,
  tlsServerSettings,
  validateCidr,
  validateConfKey,
  validatePgConfig,
} from '../../../src/core/server-config';
import { expectFieldError } from './helpers';

describe('renderConfValue follows seed 002\'s pg_config type rules', () => {
  test.each<[ConfValue, string]>([
    [200, '200'],
    [0, '0'],
    [-1, '-1'],
    [1.5, '1.5'],
    [1.1, '1.1'],
    [0.25, '0.25'],
    [200.0, '200'], // a whole float is an integer
    [true, 'on'],
    [false, 'off'],
    ['256MB', "'256MB'"],
    ['ddl', "'ddl'"],
    ["it's", "'it''s'"],
    ["''", "''''''"],
    ['a\\b', "'a\\\\b'"], // backslash doubled: the config lexer reads escapes in quoted values
    ['C:\\data\\x', "'C:\\\\data\\\\x'"],
    ['', "''"],
    ['# not a comment', "'# not a comment'"],
    ['ünïcode', "'ünïcode'"],
  ])('%j renders as %s', (value, expected) => {
    expect(renderConfValue(value, 'pgConfig.x')).toBe(expected);
  });

  test.each(['a\nb', 'a\rb', 'a\tb', 'a\0b', 'a\x7fb', "x'\nssl = off"])('a string with a control character (%j) throws naming the field', (value) => {
    expectFieldError(() => renderConfValue(value, 'pgConfig.search_path'), 'pgConfig.search_path', 'control character');
  });

  test.each([NaN, Infinity, -Infinity])('%d throws: not a finite number', (value) => {
    expectFieldError(() => renderConfValue(value, 'pgConfig.work_mem'), 'pgConfig.work_mem', 'not a finite number');
  });

  test('a value of another type throws', () => {
    expectFieldError(() => renderConfValue({} as unknown as ConfValue, 'pgConfig.x'), 'pgConfig.x', 'unsupported type object');
  });

  // BUG (src/core/server-config.ts, renderConfValue): numbers are rendered
  // with JS String()/toFixed(), which gives exponent forms without a decimal
  // point ("1e-7", "1e+21"). PostgreSQL's config lexer only accepts an
  // exponent after a decimal point ("1.0e-7" parses; "1e-7" and "1e+21" are
  // "syntax error ... near token" and the server refuses to start - checked
  // against the embedded PostgreSQL 17 binary). Expected: a form postgres
  // parses (e.g. "0.0000001" / "1.0e-7"), or a ValidationError.
  test('very small and very large numbers render in a form postgresql.conf accepts', () => {
    const unquotedNumber = /^-?(?:\d+|(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?)$/;
    for (const value of [1e-7, 1e21]) {
      expect(renderConfValue(value, 'pgConfig.x')).toMatch(unquotedNumber);
    }
  });
});

describe('postgresql.conf keys', () => {
  test.each(['max_connections', 'shared_buffers', 'log_min_messages', 'random_page_cost', 'pg_stat_statements.track'])(
    '%s is a valid key (one "." allowed for extension settings)',
    (key) => {
      expect(() => validateConfKey(key, 'pgConfig')).not.toThrow();
    },
  );

  test.each(['max_connections = 1\nssl', 'Shared_Buffers', 'a;b', '1abc', '', '_x', 'a b', 'a=b', "a'b", 'work-mem', 'a\0b', 'é'])(
    'key %j is rejected by the key regex, naming <field>.<key>',
    (key) => {
      expectFieldError(() => validateConfKey(key, 'pgConfig'), `pgConfig.${key}`, 'not a postgresql.conf parameter name');
      expectFieldError(() => validatePgConfig({ [key]: 1 }), `pgConfig.${key}`);
    },
  );

  test.each(['ssl_cert_file', 'ssl_key_file', 'ssl_ca_file', 'hba_file', 'data_directory', 'config_file', 'include', 'include_dir', 'port', 'ssl'])(
    'managed key %s is refused by validatePgConfig',
    (key) => {
      expect(MANAGED_CONF_KEYS.has(key)).toBe(true);
      expectFieldError(() => validatePgConfig({ [key]: 'x' }), `pgConfig.${key}`, 'is managed by this component');
    },
  );

  test('validatePgConfig accepts the seed\'s pg_config example', () => {
    expect(() =>
      validatePgConfig({
        max_connections: 200,
        shared_buffers: '1GB',
        work_mem: '16MB',
        effective_cache_size: '3GB',
        random_page_cost: 1.1,
        log_connections: true,
        log_disconnections: true,
        log_min_messages: 'warning',
        log_statement: 'ddl',
      }),
    ).not.toThrow();
  });

  test('validatePgConfig checks values too', () => {
    expectFieldError(() => validatePgConfig({ search_path: 'a\nb' }, 'server.pgConfig'), 'server.pgConfig.search_path', 'control character');
  });

  test('a custom managed set replaces the default one', () => {
    expect(() => validatePgConfig({ port: 5433 }, 'pgConfig', new Set())).not.toThrow();
    expectFieldError(() => validatePgConfig({ work_mem: '4MB' }, 'pgConfig', new Set(['work_mem'])), 'pgConfig.work_mem');
  });

  // BUG (src/core/server-config.ts, validateConfKey): /^[a-z][a-z0-9_.]*$/
  // lets any number of dots anywhere after the first letter, but
  // postgresql.conf's lexer only knows NAME or NAME.NAME: "a..b", "a." and
  // "a.b.c" are "syntax error in file ... near token" and the server does not
  // start (checked against the embedded PostgreSQL 17 binary).
  test.each(['a..b', 'a.', 'a.b.c', 'a.1b'])('key %j, which postgresql.conf cannot parse, is rejected', (key) => {
    expect(() => validateConfKey(key, 'pgConfig')).toThrow();
  });
});

describe('renderPostgresqlConf', () => {
  test('renders one "key = value" line per setting, sorted by key, under a header comment', () => {
    expect(renderPostgresqlConf({ shared_buffers: '256MB', max_connections: 200, log_connections: true, random_page_cost: 1.1 })).toBe(
      [
        '# postgres-strategies: rendered settings',
        'log_connections = on',
        'max_connections = 200',
        'random_page_cost = 1.1',
        "shared_buffers = '256MB'",
        '',
      ].join('\n'),
    );
  });

  test('it renders the TLS settings the strategy manages (managed keys allowed here)', () => {
    expect(renderPostgresqlConf(tlsServerSettings({ certFile: '/etc/pg/server.crt', keyFile: '/etc/pg/server.key', caFile: '/etc/pg/ca.crt' }), 'tls', 'tls')).toBe(
      [
        '# tls',
        'ssl = on',
        "ssl_ca_file = '/etc/pg/ca.crt'",
        "ssl_cert_file = '/etc/pg/server.crt'",
        "ssl_key_file = '/etc/pg/server.key'",
        "ssl_min_protocol_version = 'TLSv1.2'",
        '',
      ].join('\n'),
    );
  });

  test('tlsServerSettings omits ssl_ca_file without a CA file', () => {
    expect(tlsServerSettings({ certFile: '/c', keyFile: '/k' })).toEqual({ ssl: true, ssl_cert_file: '/c', ssl_key_file: '/k', ssl_min_protocol_version: 'TLSv1.2' });
  });

  test('a key that would inject a directive is refused', () => {
    expectFieldError(() => renderPostgresqlConf({ 'max_connections = 1\nssl': 1 }), 'pgConfig.max_connections = 1\nssl');
  });

  test('a value that would inject a line is refused', () => {
    expectFieldError(() => renderPostgresqlConf({ search_path: "x'\nssl = off\n#" }), 'pgConfig.search_path');
  });
});

describe('validateCidr', () => {
  test.each(['10.0.0.0/8', '0.0.0.0/0', '192.168.1.10/32', '::/0', 'fd00::/8', '2001:db8::/32', '::1/128'])('%s is a CIDR block', (cidr) => {
    expect(() => validateCidr(cidr, 'allowedCidrs[0]')).not.toThrow();
  });

  test.each(['10.0.0.0', '10.0.0.0/33', '::/129', '10.0.0.0/8/1', 'abc/8', '10.0.0.0/-1', '10.0.0.0/ 8', '10.0.0.0/', '/8', '10.0.0.256/8', 'all', 'db.example.com/32', '10.0.0.0/8 trust'])(
    '%j is not a CIDR block',
    (cidr) => {
      expectFieldError(() => validateCidr(cidr, 'allowedCidrs[0]'), 'allowedCidrs[0]', 'is not a CIDR block');
    },
  );
});

describe('renderPgHba', () => {
  const cells = (line: string): string[] => line.split(/\s{2,}/);

  test('renders aligned columns under a header, comments after "#"', () => {
    const text = renderPgHba([
      { type: HbaType.Local, database: 'all', user: 'postgres', method: HbaMethod.Peer },
      { type: HbaType.HostSsl, database: 'vw_blog', user: '+vw_apps', address: '10.0.0.0/8', method: HbaMethod.ScramSha256, comment: 'apps' },
      { type: HbaType.Host, database: 'all', user: 'all', address: 'all', method: HbaMethod.Reject },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toBe('# pg_hba.conf rendered by postgres-strategies');
    expect(cells(lines[1]!)).toEqual(['# TYPE', 'DATABASE', 'USER', 'ADDRESS', 'METHOD']);
    expect(cells(lines[2]!)).toEqual(['local', 'all', 'postgres', 'peer']);
    expect(lines[2]!.split(/\s+/)).toEqual(['local', 'all', 'postgres', 'peer']);
    expect(cells(lines[3]!)).toEqual(['hostssl', 'vw_blog', '+vw_apps', '10.0.0.0/8', 'scram-sha-256', '# apps']);
    expect(cells(lines[4]!)).toEqual(['host', 'all', 'all', 'all', 'reject']);
    expect(lines[5]).toBe('');
    expect(lines).toHaveLength(6);
    // the METHOD column starts at the same offset on every rule line
    const methodAt = lines[1]!.indexOf('METHOD');
    expect(lines[3]!.indexOf('scram-sha-256')).toBe(methodAt);
    expect(lines[4]!.indexOf('reject')).toBe(methodAt);
  });

  test('a newline in a comment cannot start a new rule', () => {
    const text = renderPgHba([{ type: HbaType.Host, database: 'all', user: 'all', address: 'all', method: HbaMethod.Reject, comment: 'x\nhost all all all trust' }]);
    expect(text.split('\n').filter((l) => l.startsWith('host'))).toHaveLength(1);
    expect(text).not.toMatch(/^host\s+all\s+all\s+all\s+trust/m);
  });

  test.each<[string, HbaRule, string]>([
    ['an unknown type', { type: 'hostgssenc' as HbaType, database: 'all', user: 'all', address: 'all', method: HbaMethod.Reject }, 'pgHba[0].type'],
    ['an unsupported method', { type: HbaType.Host, database: 'all', user: 'all', address: 'all', method: 'md5' as HbaMethod }, 'pgHba[0].method'],
    ['a case-folded database "honeyDue"', { type: HbaType.Host, database: 'honeyDue', user: 'all', address: 'all', method: HbaMethod.Reject }, 'pgHba[0].database'],
    ['a database list', { type: HbaType.Host, database: 'a,b', user: 'all', address: 'all', method: HbaMethod.Reject }, 'pgHba[0].database'],
    ['a "+group" in the database column', { type: HbaType.Host, database: '+apps', user: 'all', address: 'all', method: HbaMethod.Reject }, 'pgHba[0].database'],
    ['an upper-case group', { type: HbaType.Host, database: 'all', user: '+Apps', address: 'all', method: HbaMethod.Reject }, 'pgHba[0].user'],
    ['a user with a space', { type: HbaType.Host, database: 'all', user: 'a b', address: 'all', method: HbaMethod.Reject }, 'pgHba[0].user'],
    ['a host rule without address', { type: HbaType.Host, database: 'all', user: 'all', method: HbaMethod.Reject }, 'pgHba[0].address'],
    ['a local rule with an address', { type: HbaType.Local, database: 'all', user: 'all', address: '10.0.0.0/8', method: HbaMethod.Peer }, 'pgHba[0].address'],
    ['a bad CIDR', { type: HbaType.HostSsl, database: 'all', user: 'all', address: '10.0.0.0/40', method: HbaMethod.ScramSha256 }, 'pgHba[0].address'],
  ])('%s is rejected naming %s', (_what, rule, field) => {
    expectFieldError(() => renderPgHba([rule]), field);
  });

  test.each(['all', 'sameuser', 'samerole', 'replication'])('database key word %s is accepted', (database) => {
    expect(() => renderPgHba([{ type: HbaType.Host, database, user: 'all', address: 'samenet', method: HbaMethod.Reject }])).not.toThrow();
  });
});

describe('standardHba', () => {
  const rows = (rules: HbaRule[]): string[] => rules.map((r) => [r.type, r.database, r.user, r.address ?? '-', r.method].join(' '));

  test('with tls: local, then hostnossl reject, then hostssl scram, then host reject at the end', () => {
    expect(rows(standardHba({ tls: true }))).toEqual([
      'local all all - scram-sha-256',
      'hostnossl all all 0.0.0.0/0 reject',
      'hostnossl all all ::/0 reject',
      'hostssl all all 0.0.0.0/0 scram-sha-256',
      'hostssl all all ::/0 scram-sha-256',
      'host all all 0.0.0.0/0 reject',
      'host all all ::/0 reject',
    ]);
  });

  test('with tls every hostnossl line comes before every hostssl line, and no plain "host" rule accepts a password', () => {
    const rules = standardHba({ tls: true, allowedCidrs: ['10.0.0.0/8', 'fd00::/8'] });
    const lastNoSsl = Math.max(...rules.map((r, i) => (r.type === HbaType.HostNoSsl ? i : -1)));
    const firstSsl = rules.findIndex((r) => r.type === HbaType.HostSsl);
    expect(lastNoSsl).toBeGreaterThanOrEqual(0);
    expect(lastNoSsl).toBeLessThan(firstSsl);
    expect(rules.filter((r) => r.type === HbaType.HostNoSsl).every((r) => r.method === HbaMethod.Reject)).toBe(true);
    expect(rules.filter((r) => r.type === HbaType.Host).every((r) => r.method === HbaMethod.Reject)).toBe(true);
    expect(rules.filter((r) => r.type === HbaType.HostSsl).map((r) => r.address)).toEqual(['10.0.0.0/8', 'fd00::/8']);
    expect(rules.slice(-2).map((r) => `${r.type} ${r.address} ${r.method}`)).toEqual(['host 0.0.0.0/0 reject', 'host ::/0 reject']);
  });

  test('without tls: no hostssl or hostnossl, host scram for the allowed networks, then host reject', () => {
    const rules = standardHba({ tls: false, allowedCidrs: ['172.18.0.0/16'] });
    expect(rules.some((r) => r.type === HbaType.HostSsl || r.type === HbaType.HostNoSsl)).toBe(false);
    expect(rows(rules)).toEqual([
      'local all all - scram-sha-256',
      'host all all 172.18.0.0/16 scram-sha-256',
      'host all all 0.0.0.0/0 reject',
      'host all all ::/0 reject',
    ]);
  });

  test('localPeerUser comes first with peer; localMethod sets the general socket rule', () => {
    const rules = standardHba({ tls: true, localPeerUser: 'postgres', localMethod: HbaMethod.Trust });
    expect(rows(rules).slice(0, 2)).toEqual(['local all postgres - peer', 'local all all - trust']);
  });

  test('an invalid CIDR never reaches pg_hba.conf: its renderer refuses it (the strategies check the user\'s field before)', () => {
    // standardHba builds rules; the CIDRs are checked once where the user gave them (e.g. the Hetzner
    // plan's allowedCidrs[i]) and by renderPgHba, not a third time here.
    const rules = standardHba({ tls: true, allowedCidrs: ['10.0.0.0/8', '10.0.0.0'] });
    expectFieldError(() => renderPgHba(rules), 'pgHba[4].address', 'is not a CIDR block');
  });

  test('the standard rules render without error and end with the reject lines', () => {
    const lines = renderPgHba(standardHba({ tls: true })).trimEnd().split('\n');
    expect(lines.at(-1)!.split(/\s+/).slice(0, 5)).toEqual(['host', 'all', 'all', '::/0', 'reject']);
    expect(lines.some((l) => /^hostnossl\s+all\s+all\s+0\.0\.0\.0\/0\s+reject/.test(l))).toBe(true);
  });
});
