/**
 * TLS on a real server (PostgreSQL 14 and 17), with certificates made from
 * the core's certificate plan (`planServerCertificates`, SAN = DNS
 * "localhost" only, no IP address) and pg_hba.conf from `standardHba({ tls: true })`.
 *
 * Proves, with the real psql client (libpq):
 * - every instance's login role connects with the URL `libpqUrl` builds
 *   (sslmode=verify-full, sslrootcert=<CA file>) and its session is
 *   encrypted (pg_stat_ssl.ssl = true, TLS ≥ 1.2);
 * - sslmode=disable is refused by pg_hba.conf ("no encryption");
 * - verify-full fails against a host name not in the certificate's SANs
 *   (127.0.0.1), while verify-ca (chain only) succeeds there — so the
 *   failure is the host-name check;
 * - a CA that did not sign the server certificate fails verification;
 * - the `pg` helper of lab/inspect.ts verifies the same way (it is what the
 *   catalog snapshots use on TLS servers).
 */
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planServerCertificates } from '../../src/core/certificates';
import { ConnectionDescription, libpqUrl, withSslMode } from '../../src/core/dsn';
import { RoleShape, planServer } from '../../src/core/plan';
import { SslMode } from '../../src/core/tls';
import { makeCertificates } from '../../lab/certs';
import { withPg } from '../../lab/inspect';
import { psql } from '../../lab/psql';
import { SERVER_TIMEOUT, bootstrap, credentialsFor, describeFailure, loginDescription, loginRoles, useLabServer } from './support';

const TLS_VERSIONS = [14, 17] as const;

const plans = planServer(
  [{ name: 'blog' }, { name: 'admin' }, { name: 'api', shape: RoleShape.LeastPrivilege }],
  { maxConnections: 100, reservedConnections: 3 },
  { namePrefix: 'vw_' },
).instances;
const creds = credentialsFor(plans);
const logins = loginRoles(plans).map((r) => ({ role: r.name, database: plans.find((p) => p.roles.includes(r))!.database }));

describe.each(TLS_VERSIONS)('TLS on PostgreSQL %i', (version) => {
  let otherCaFile = '';
  const server = useLabServer(
    () => ({ version, tls: true, certificates: planServerCertificates({ dnsNames: ['localhost'] }) }),
    async (s) => {
      await bootstrap(libpqUrl(s.admin()), plans, creds);
      // A second, unrelated CA from the same plan.
      const other = await makeCertificates(planServerCertificates({ dnsNames: ['localhost'] }));
      otherCaFile = join(s.workDir, 'other-ca.pem');
      writeFileSync(otherCaFile, other.caCertPem);
    },
  );
  const login = (role: string, database: string): ConnectionDescription =>
    loginDescription(server(), database, role, creds.passwords[role] as string);
  const SSL_QUERY = 'SELECT current_user, ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid();';

  test.each(logins)(
    '$role logs into $database over verified TLS with the libpq URL',
    async ({ role, database }) => {
      const url = libpqUrl(login(role, database));
      expect(url).toContain('sslmode=verify-full');
      expect(url).toContain(`sslrootcert=${server().caFile}`);
      const r = await psql(url, SSL_QUERY);
      expect(describeFailure(r)).toBe('exit 0: ');
      const [user, ssl, tlsVersion] = r.stdout.trim().split('|');
      expect(user).toBe(role);
      expect(ssl).toBe('t');
      expect(tlsVersion).toMatch(/^TLSv1\.[23]$/);
    },
    SERVER_TIMEOUT,
  );

  test(
    'sslmode=disable is refused by pg_hba.conf for every login',
    async () => {
      for (const { role, database } of logins) {
        const r = await psql(libpqUrl(withSslMode(login(role, database), SslMode.Disable)), 'SELECT 1;');
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`pg_hba.conf rejects connection for host "127.0.0.1", user "${role}", database "${database}", no encryption`);
      }
    },
    SERVER_TIMEOUT,
  );

  test(
    'verify-full fails for a host name the certificate does not name; verify-ca passes there',
    async () => {
      // The certificate made from the plan names exactly "localhost".
      expect(new X509Certificate(server().certificates!.serverCertPem).subjectAltName).toBe('DNS:localhost');
      const byIp: ConnectionDescription = { ...login('vw_blog', 'vw_blog'), hosts: [{ host: '127.0.0.1', port: server().port }] };
      const full = await psql(libpqUrl(byIp), 'SELECT 1;');
      expect(full.code).toBe(2);
      // libpq also counts the subject CN ("and 1 other name").
      expect(full.stderr).toMatch(/server certificate for "localhost"( \(and \d+ other names?\))? does not match host name "127\.0\.0\.1"/);
      const ca = await psql(libpqUrl(withSslMode(byIp, SslMode.VerifyCa)), SSL_QUERY);
      expect(describeFailure(ca)).toBe('exit 0: ');
      expect(ca.stdout.trim()).toMatch(/^vw_blog\|t\|/);
    },
    SERVER_TIMEOUT,
  );

  test(
    'a CA that did not sign the server certificate fails verification',
    async () => {
      for (const mode of [SslMode.VerifyFull, SslMode.VerifyCa]) {
        const c = login('vw_blog', 'vw_blog');
        const r = await psql(libpqUrl({ ...c, tls: { sslmode: mode, sslrootcert: otherCaFile } }), 'SELECT 1;');
        expect(r.code).toBe(2);
        expect(r.stderr).toContain('certificate verify failed');
      }
    },
    SERVER_TIMEOUT,
  );

  test(
    'the pg helper (lab/inspect.ts) verifies the chain and the host name like libpq',
    async () => {
      const c = login('vw_admin', 'vw_admin');
      const ssl = await withPg(c, async (client) => (await client.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0]?.ssl);
      expect(ssl).toBe(true);
      await expect(withPg({ ...c, hosts: [{ host: '127.0.0.1', port: server().port }] }, async () => 1)).rejects.toThrow(/IP: 127\.0\.0\.1 is not in the cert's list/);
      await expect(withPg({ ...c, tls: { sslmode: SslMode.VerifyFull, sslrootcert: otherCaFile } }, async () => 1)).rejects.toThrow(/self[- ]signed|unable to verify|unable to get local issuer/i);
      await expect(withPg(withSslMode(c, SslMode.Disable), async () => 1)).rejects.toThrow(/no encryption/);
    },
    SERVER_TIMEOUT,
  );
});
