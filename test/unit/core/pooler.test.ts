/**
 * One pooler rule (src/core/pooler.ts) for every place that takes a pooler:
 * the server handle (`ExternalPostgres`, every strategy) and the managed
 * presets. Where the copies disagreed, the decision is pinned here as a
 * property over generated input:
 * - a preset accepts a pooler exactly when the server handle does (same
 *   field, same message), for host, port, user suffix and pool size alike;
 * - host and port follow the server's own rules (`validateHost`,
 *   `validatePort`): IPv6 and IDNA names pass, `10.0.0.999` does not;
 * - the user suffix alphabet is `[A-Za-z0-9._-]`, at most 63, and every
 *   accepted suffix comes back out of the pooled URL as written;
 * - the server pool size is 1–262143 (PostgreSQL's largest max_connections),
 *   the same for Supabase's Pool Size and `ExternalPostgres`.
 * And the provider URLs: every host the core accepts is written by the one
 * URL writer (`urlHost`), so the URL parses back to that host.
 */
import fc from 'fast-check';
import { domainToASCII } from 'node:url';
import { parse } from 'pg-connection-string';
import { PoolerMode, libpqUrl, throughPooler } from '../../../src/core/dsn';
import { ValidationError } from '../../../src/core/errors';
import { MAX_SERVER_POOL_SIZE, validatePooler } from '../../../src/core/pooler';
import { SslMode } from '../../../src/core/tls';
import { validateHost, validatePort } from '../../../src/core/validate';
import { supabaseServer } from '../../../src/managed/supabase';
import { tlsEnforcedConnectionString, tlsEnforcedServer } from '../../../src/managed/tls-enforced';
import { validateServerHandleArgs } from '../../../src/provisioning/server-handle';
import { ServerKind } from '../../../src/core/tls';

/** The ValidationError `f` throws (its message), or undefined. */
function outcome(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (e instanceof ValidationError) return e.message;
    throw e;
  }
}

const HOSTS = fc.oneof(
  fc.constantFrom('pool.example.com', 'ep-x-1-pooler.eu-central-1.aws.neon.tech', 'fd00::5', 'fe80::1%eth0', 'bücher.example', '10.0.0.5', 'pgbouncer_1', 'localhost'),
  fc.constantFrom('10.0.0.999', 'p:6432', '[fd00::5]', 'postgres://p', 'a b', 'h/x', 'u@h', 'a,b', '', '-bad.example', 'x'.repeat(64)),
  fc.string({ maxLength: 20 }),
  fc.domain(),
  fc.ipV4(),
  fc.ipV6(),
);
const PORTS = fc.oneof(fc.integer({ min: -2, max: 70000 }), fc.constantFrom(0.5, Number.NaN), fc.constant('6432' as unknown as number));
const SUFFIXES = fc.oneof(
  fc.constantFrom('', '.abcdefghijklmnopqrst', '.a-b_c', 'a b', '.ref%', '+tenant', '.é', 'x'.repeat(64), '#', '@h', ':x', '/x'),
  fc.string({ maxLength: 70 }),
);
const SIZES = fc.oneof(fc.integer({ min: -1, max: 300000 }), fc.constantFrom(1.5, 10000, 10001, 262143, 262144));
const MODES = fc.constantFrom(PoolerMode.Transaction, PoolerMode.Session, PoolerMode.None, 'pooled' as PoolerMode);

const POOLER = fc.record(
  { host: HOSTS, port: PORTS, mode: MODES, userSuffix: SUFFIXES, serverPoolSize: SIZES },
  { requiredKeys: ['host', 'port', 'mode'] },
);

const handleArgs = {
  host: 'db.example.com',
  port: 5432,
  kind: ServerKind.Managed,
  sslmode: SslMode.Require,
  maxConnections: 100,
  reservedConnections: 3,
  adminUser: 'admin',
  adminIsSuperuser: false,
};

test('a preset accepts a pooler exactly when the server handle (ExternalPostgres) does, with the same message', () => {
  fc.assert(
    fc.property(POOLER, (pooler) => {
      const preset = outcome(() => tlsEnforcedServer({ host: 'db.example.com', adminUser: 'admin', adminPassword: 's', pooler }));
      const handle = outcome(() => validateServerHandleArgs({ ...handleArgs, pooler }));
      expect(preset).toBe(handle);
    }),
    { numRuns: 2000 },
  );
});

test('host and port: exactly the server\'s own rules', () => {
  fc.assert(
    fc.property(HOSTS, PORTS, (host, port) => {
      const pooler = outcome(() => validatePooler({ host, port: 6432, mode: PoolerMode.Transaction }));
      expect(pooler).toBe(outcome(() => validateHost(host, 'pooler.host', { portField: 'pooler.port' })));
      const p = outcome(() => validatePooler({ host: 'pool.example.com', port, mode: PoolerMode.Transaction }));
      expect(p).toBe(outcome(() => validatePort(port, 'pooler.port')));
    }),
    { numRuns: 2000 },
  );
  // What the handle's old bare-host pattern let through, or refused, and the one rule decides otherwise.
  expect(outcome(() => validatePooler({ host: '10.0.0.999', port: 6432, mode: PoolerMode.Transaction }))).toMatch(/^pooler\.host: "10\.0\.0\.999" is not a valid IPv4 address/);
  expect(outcome(() => validatePooler({ host: 'fd00::5', port: 6432, mode: PoolerMode.Transaction }))).toBeUndefined();
});

test('user suffix: [A-Za-z0-9._-]{0,63}, and an accepted suffix comes back out of the pooled URL unchanged', () => {
  fc.assert(
    fc.property(SUFFIXES, (userSuffix) => {
      const error = outcome(() => validatePooler({ host: 'p.example.com', port: 6543, mode: PoolerMode.Transaction, userSuffix }));
      expect(error === undefined).toBe(/^[A-Za-z0-9._-]{0,63}$/.test(userSuffix));
      if (error !== undefined) {
        expect(error).toMatch(/^pooler\.userSuffix: /);
        return;
      }
      const direct = { hosts: [{ host: 'db.example.com', port: 5432 }], database: 'vw_blog', user: 'vw_blog', password: 'pw', tls: { sslmode: SslMode.Require } };
      const url = libpqUrl(throughPooler(direct, { host: 'p.example.com', port: 6543, mode: PoolerMode.Transaction, userSuffix }));
      expect(parse(url).user).toBe(`vw_blog${userSuffix}`);
    }),
    { numRuns: 2000 },
  );
});

test('server pool size: 1 to 262143 (PostgreSQL\'s largest max_connections), the same for Supabase\'s Pool Size and ExternalPostgres', () => {
  expect(MAX_SERVER_POOL_SIZE).toBe(262143);
  fc.assert(
    fc.property(SIZES, (size) => {
      const ok = Number.isInteger(size) && size >= 1 && size <= 262143;
      expect(outcome(() => validatePooler({ host: 'p', port: 6432, mode: PoolerMode.Transaction, serverPoolSize: size })) === undefined).toBe(ok);
      // The Supabase preset either refuses the Pool Size, or hands ExternalPostgres a pooler it accepts.
      let preset: ReturnType<typeof supabaseServer> | undefined;
      const presetError = outcome(() => {
        preset = supabaseServer({ projectRef: 'abcdefgh', poolerHost: 'aws-0-eu-central-1.pooler.supabase.com', adminPassword: 's', poolSize: size, maxConnections: 262143 });
      });
      expect(presetError === undefined).toBe(ok);
      if (preset) {
        const server = preset.server;
        expect(
          outcome(() =>
            validateServerHandleArgs({ ...handleArgs, maxConnections: server.maxConnections as number, pooler: server.pooler }),
          ),
        ).toBeUndefined();
      }
    }),
    { numRuns: 1000 },
  );
});

test('provider URLs write every accepted host with urlHost: the URL parses back to the host (IPv6 zones, IDNA)', () => {
  fc.assert(
    fc.property(HOSTS, (host) => {
      if (outcome(() => validateHost(host, 'host')) !== undefined) {
        expect(outcome(() => tlsEnforcedConnectionString({ host, user: 'u', password: 'p', database: 'd' }))).toMatch(/^host: /);
        return;
      }
      const url = tlsEnforcedConnectionString({ host, user: 'u', password: 'p w', database: 'd', sslmode: SslMode.Require });
      const written = url.slice(url.indexOf('@') + 1, url.lastIndexOf(':5432/'));
      expect(written).toBe(host.includes(':') ? `[${host.replace('%', '%25')}]` : /[^\x00-\x7f]/.test(host) ? domainToASCII(host) : host);
      // WHATWG URL has no IPv6 zones (libpq reads them: test/integration/url-host.test.ts); everything else it parses.
      if (host.includes('%')) return;
      const parsed = new URL(url);
      expect([parsed.port, decodeURIComponent(parsed.password), parsed.searchParams.get('sslmode')]).toEqual(['5432', 'p w', 'require']);
    }),
    { numRuns: 2000 },
  );
  // Before: the zone's "%" went into the URL raw, and a non-ASCII name unconverted.
  expect(tlsEnforcedConnectionString({ host: 'fe80::1%eth0', user: 'u', password: 'p', database: 'd' })).toBe('postgres://u:p@[fe80::1%25eth0]:5432/d');
  expect(tlsEnforcedConnectionString({ host: 'bücher.example', user: 'u', password: 'p', database: 'd' })).toBe('postgres://u:p@xn--bcher-kva.example:5432/d');
});
