/**
 * migrate's URL handling (src/migrate/connection.ts): what it accepts, the
 * `pg` TLS settings per sslmode (libpq semantics through pg-connection-string),
 * the environment pg_dump/pg_restore get (no password in it), the PGPASSFILE,
 * and the failure classification — never a password in a message.
 */
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libpqUrl } from '../../../src/core/dsn';
import { SslMode } from '../../../src/core/tls';
import { MIGRATE_APPLICATION_NAME, connectionError, parseEndpoint, writePassFiles } from '../../../src/migrate/connection';
import { MigrateError, MigrateErrorCode, redact } from '../../../src/migrate/errors';
import { expectFieldError } from '../core/helpers';

const dir = mkdtempSync(join(tmpdir(), 'ps-migrate-unit-'));
const ca = join(dir, 'ca.pem');
writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PASSWORD = `p@ss:w/o?r#d%41 'single' "dq" sp+ace&=é\\`;
/** A URL built by the library; `password: null` leaves it out. */
const url = (sslmode: SslMode, password: string | null = PASSWORD, sslrootcert?: string): string =>
  libpqUrl({ hosts: [{ host: 'db.example.com', port: 6543 }], database: 'vw_blog', user: 'vw_blog', ...(password === null ? {} : { password }), tls: { sslmode, sslrootcert } });

describe('parseEndpoint', () => {
  test('reads host, port, user, database, sslmode and the password of a libpq URL built by the library', () => {
    const e = parseEndpoint(url(SslMode.VerifyFull, PASSWORD, ca), '--to');
    expect([e.field, e.host, e.port, e.user, e.database, e.sslmode, e.sslrootcert, e.password]).toEqual(['--to', 'db.example.com', 6543, 'vw_blog', 'vw_blog', 'verify-full', ca, PASSWORD]);
    expect(e.client).toEqual(expect.objectContaining({ host: 'db.example.com', port: 6543, user: 'vw_blog', database: 'vw_blog', application_name: MIGRATE_APPLICATION_NAME, connectionTimeoutMillis: 10_000 }));
  });

  test('takes an instance\'s `url` output as it is (with its connect_timeout and application_name): the command\'s sessions keep their own name', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.constantFrom('blog', 'vw_api', 'a-b'), fc.integer({ min: 1, max: 600 }), (password, applicationName, timeout) => {
        const text = libpqUrl({
          hosts: [{ host: 'db.example.com', port: 5432 }],
          database: 'vw_blog',
          user: 'vw_blog',
          password,
          tls: { sslmode: SslMode.VerifyFull, sslrootcert: ca },
          connectTimeoutSeconds: timeout,
          applicationName,
        });
        const e = parseEndpoint(text, '--from');
        expect([e.password, e.client.application_name, e.client.connectionTimeoutMillis]).toEqual([password, MIGRATE_APPLICATION_NAME, timeout * 1000]);
      }),
    );
  });

  test('the tools\' environment carries everything but the password', () => {
    const e = parseEndpoint(url(SslMode.VerifyFull, PASSWORD, ca), '--to');
    expect(e.libpqEnv).toEqual({
      PGHOST: 'db.example.com',
      PGPORT: '6543',
      PGUSER: 'vw_blog',
      PGDATABASE: 'vw_blog',
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: ca,
      PGCONNECT_TIMEOUT: '10',
      PGAPPNAME: MIGRATE_APPLICATION_NAME,
    });
    expect(JSON.stringify(e.libpqEnv)).not.toContain('p@ss');
  });

  // libpq's sslmode table: what `pg` must do for each mode.
  test.each([
    [SslMode.Disable, undefined, false],
    [SslMode.Require, undefined, { rejectUnauthorized: false }],
    [SslMode.VerifyCa, ca, { ca: expect.stringContaining('BEGIN CERTIFICATE'), checkServerIdentity: expect.any(Function) }],
    [SslMode.VerifyFull, ca, { ca: expect.stringContaining('BEGIN CERTIFICATE') }],
  ])('sslmode=%s → pg ssl %p', (mode, root, ssl) => {
    const e = parseEndpoint(url(mode, PASSWORD, root), '--from');
    expect(e.client.ssl).toEqual(ssl);
    if (mode === SslMode.VerifyFull) {
      // verify-full verifies: certificate chain (no rejectUnauthorized: false) and host name (Node's default check).
      expect((e.client.ssl as Record<string, unknown>)['rejectUnauthorized']).toBeUndefined();
      expect((e.client.ssl as Record<string, unknown>)['checkServerIdentity']).toBeUndefined();
    }
  });

  test('require with a root certificate verifies the chain, as libpq does (verify-ca)', () => {
    const e = parseEndpoint(url(SslMode.Require, PASSWORD, ca), '--from');
    expect(e.client.ssl).toEqual({ ca: expect.any(String), checkServerIdentity: expect.any(Function) });
  });

  test('pg never falls back to PGPASSWORD or ~/.pgpass: a URL without a password gives a function that refuses', () => {
    const e = parseEndpoint(url(SslMode.Disable, null), '--from');
    expect(e.password).toBeUndefined();
    expectFieldError(() => (e.client.password as () => string)(), '--from', 'the server asks for a password and the URL has none');
    expect((parseEndpoint(url(SslMode.Disable), '--from').client.password as () => string)()).toBe(PASSWORD);
  });

  test.each<[string, string, string | RegExp]>([
    ['postgres://u:pw@db/app', 'has no sslmode', /"prefer", which falls back to plain text/],
    ['postgres://u:pw@db/app?sslmode=prefer', 'sslmode "prefer" is not accepted', 'accepted: disable, require, verify-ca, verify-full'],
    ['postgres://u:pw@db/app?sslmode=allow', 'sslmode "allow" is not accepted', 'verify-full'],
    ['postgres://u:pw@db/app?sslmode=verify-full', 'sslmode=verify-full needs the CA', 'sslrootcert='],
    // pg-connection-string refuses this one itself (libpq would read ~/.postgresql/root.crt)
    ['postgres://u:pw@db/app?sslmode=verify-ca', 'verify-ca requires specifying a CA with sslrootcert', 'sslmode=verify-full'],
    ['postgres://u:pw@db/app?sslmode=disable&pool_max_conns=5', '"pool_max_conns" are not supported', 'accepted: sslmode, sslrootcert, sslcert, sslkey, connect_timeout, application_name'],
    ['postgres://u:pw@db/app?sslmode=disable&options=-c%20x%3D1', '"options" are not supported', 'Remove them'],
    ['postgres://u:pw@/app?sslmode=disable', 'names no host', 'no Unix socket'],
    ['postgres://u:pw@a,b/app?sslmode=disable', '"a,b" is not one TCP host', 'no multi-host list'],
    ['postgres://u:pw@db/app?sslmode=disable&host=/var/run/postgresql', 'is not one TCP host', 'no Unix socket'],
    ['postgres://:pw@db/app?sslmode=disable', 'names no user', 'postgres://user:password@host/database'],
    ['postgres://u:pw@db?sslmode=disable', 'names no database', 'postgres://user@host:5432/<database>'],
    ['postgres://u:pw@db/app?sslmode=disable&connect_timeout=0', 'connect_timeout "0"', 'connect_timeout=10'],
    ['postgres://u:pw@db:99999/app?sslmode=disable', 'is not a libpq URL', 'percent-encoded'],
  ])('refuses %s', (text, problem, fix) => {
    const e = expectFieldError(() => parseEndpoint(text, '--from'), '--from', problem, fix);
    expect((e as MigrateError).code).toBe(MigrateErrorCode.BadInput);
    expect(e.message).not.toContain(':pw@');
  });

  test('no refusal ever shows the password (any password, in a URL with a bad parameter)', () => {
    fc.assert(
      // A marker prefix, so that the password cannot occur in the message's own words by chance.
      fc.property(fc.string({ maxLength: 30 }).map((p) => `Zq9#${p}`), (password) => {
        const bad = `${libpqUrl({ hosts: [{ host: 'db', port: 5432 }], database: 'app', user: 'u', password, tls: { sslmode: SslMode.Disable } })}&nope=1`;
        try {
          parseEndpoint(bad, '--to');
        } catch (e) {
          return !(e as Error).message.includes(password) && !(e as Error).message.includes(encodeURIComponent(password));
        }
        return false;
      }),
    );
  });
});

describe('connectionError', () => {
  const e = parseEndpoint(url(SslMode.VerifyFull, PASSWORD, ca), '--to');
  test.each<[Record<string, string>, MigrateErrorCode, string]>([
    [{ code: '28P01', message: 'password authentication failed for user "vw_blog"' }, MigrateErrorCode.Auth, 'refused the password of role "vw_blog"'],
    [{ code: '28000', message: 'pg_hba.conf rejects connection' }, MigrateErrorCode.Auth, 'Check pg_hba.conf admits role "vw_blog" to database "vw_blog" from here with sslmode=verify-full'],
    [{ code: '3D000', message: 'database "vw_blog" does not exist' }, MigrateErrorCode.NoDatabase, 'database "vw_blog" does not exist on db.example.com:6543'],
    [{ message: 'The server does not support SSL connections' }, MigrateErrorCode.Tls, 'does not offer TLS'],
    [{ code: 'SELF_SIGNED_CERT_IN_CHAIN', message: 'self-signed certificate in certificate chain' }, MigrateErrorCode.Tls, `does not verify with sslmode=verify-full and sslrootcert=${ca}`],
    [{ code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: "Hostname/IP does not match certificate's altnames" }, MigrateErrorCode.Tls, 'a host name the certificate names'],
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:6543' }, MigrateErrorCode.Unreachable, 'cannot reach db.example.com:6543 (ECONNREFUSED)'],
    [{ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND db.example.com' }, MigrateErrorCode.Unreachable, 'Check the host and port'],
    [{ message: 'Connection terminated due to connection timeout' }, MigrateErrorCode.Unreachable, 'cannot reach'],
    // pg's words when the answer to the TLS request is neither yes nor no: another service on the port
    [{ message: 'There was an error establishing an SSL connection' }, MigrateErrorCode.Unreachable, 'the service at db.example.com:6543 is not a PostgreSQL server'],
    [{ code: 'EPROTO', message: 'write EPROTO 40B8:error:0A00010B:SSL routines:ssl3_get_record:wrong version number' }, MigrateErrorCode.Tls, 'the TLS handshake with db.example.com:6543 failed'],
    [{ message: 'Received unexpected message from server' }, MigrateErrorCode.Unreachable, 'cannot connect to db.example.com:6543'],
  ])('%p → %s', (err, code, text) => {
    const m = connectionError(Object.assign(new Error(err['message']), err), e, [PASSWORD]);
    expect([m.code, m.field]).toEqual([code, '--to']);
    expect(m.message).toContain(text);
  });

  test('a driver message that would hold the password is redacted', () => {
    const m = connectionError(new Error(`odd failure for ${PASSWORD} / ${encodeURIComponent(PASSWORD)}`), e, [PASSWORD]);
    expect(m.message).not.toContain('p@ss');
    expect(m.message).toContain('odd failure for REDACTED / REDACTED');
  });
});

describe('redact', () => {
  test('replaces the raw and the percent-encoded forms; leaves text without secrets alone', () => {
    expect(redact('a p@ss b p%40ss c', ['p@ss'])).toBe('a REDACTED b REDACTED c');
    expect(redact('nothing here', ['', 'secret'])).toBe('nothing here');
  });
});

describe('writePassFiles', () => {
  test('one 0600 PGPASSFILE per endpoint in a 0700 directory, escaped; the environment holds no password; remove() deletes it', () => {
    const withPw = parseEndpoint(url(SslMode.Disable, 'a:b\\c'), '--from');
    const without = parseEndpoint(url(SslMode.Disable, null), '--to');
    const files = writePassFiles([withPw, without]);
    const env = files.envFor(withPw);
    const path = env['PGPASSFILE'] as string;
    expect(readFileSync(path, 'utf8')).toBe('*:*:*:*:a\\:b\\\\c\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(readFileSync(files.envFor(without)['PGPASSFILE'] as string, 'utf8')).toBe('');
    expect(Object.keys(env).sort()).toEqual(['LANG', 'LC_ALL', 'PATH', 'PGAPPNAME', 'PGCONNECT_TIMEOUT', 'PGDATABASE', 'PGHOST', 'PGPASSFILE', 'PGPORT', 'PGSSLMODE', 'PGUSER']);
    expect(JSON.stringify(env)).not.toContain('a:b');
    files.remove();
    expect(() => statSync(path)).toThrow();
  });
});
