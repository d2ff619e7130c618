import {
  GATEWAY_TLS_MODES,
  SSL_MODES,
  ServerKind,
  SslMode,
  parseSslMode,
  permittedSslModes,
  sslModeRequiresTls,
  sslModeVerifiesCertificate,
  validateClientTls,
} from '../../../src/core/tls';
import { planServerCertificates } from '../../../src/core/certificates';
import { makeCertificates } from '../../../lab/certs';
import { expectFieldError } from './helpers';

/** A real CA certificate (PEM), made before the tests. */
let PEM = '';
beforeAll(async () => {
  PEM = (await makeCertificates(planServerCertificates({ dnsNames: ['db.internal'] }))).caCertPem;
});

describe('parseSslMode', () => {
  test('libpq has exactly six sslmode values, weakest first', () => {
    expect(SSL_MODES).toEqual(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']);
  });

  test.each(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'])('accepts libpq value %s', (mode) => {
    expect(parseSslMode(mode, 'tls.sslmode')).toBe(mode);
  });

  test.each(['', 'Require', 'REQUIRE', 'verify_full', 'verifyfull', 'true', 'on', 'ssl', ' require', 'require '])(
    'rejects %j naming the field and listing the accepted values',
    (mode) => {
      expectFieldError(() => parseSslMode(mode, 'tls.sslmode'), 'tls.sslmode', 'not a valid sslmode', 'disable, allow, prefer, require, verify-ca, verify-full');
    },
  );

  test('the gateway accepts exactly disable, require, verify-ca and verify-full (primary seed)', () => {
    expect([...GATEWAY_TLS_MODES]).toEqual(['disable', 'require', 'verify-ca', 'verify-full']);
    for (const m of GATEWAY_TLS_MODES) expect(parseSslMode(m, 'database.tls_mode', GATEWAY_TLS_MODES)).toBe(m);
    for (const m of ['allow', 'prefer']) {
      expectFieldError(() => parseSslMode(m, 'database.tls_mode', GATEWAY_TLS_MODES), 'database.tls_mode', 'Use one of: disable, require, verify-ca, verify-full');
    }
  });
});

describe('sslmode properties', () => {
  test.each([
    [SslMode.Disable, false, false],
    [SslMode.Allow, false, false],
    [SslMode.Prefer, false, false],
    [SslMode.Require, true, false],
    [SslMode.VerifyCa, true, true],
    [SslMode.VerifyFull, true, true],
  ])('%s: encrypts for certain=%s, verifies the certificate=%s', (mode, tls, verifies) => {
    expect(sslModeRequiresTls(mode)).toBe(tls);
    expect(sslModeVerifiesCertificate(mode)).toBe(verifies);
  });

  test('a managed server permits only require, verify-ca and verify-full; local and self-managed what the gateway accepts', () => {
    expect([...permittedSslModes(ServerKind.Managed)]).toEqual(['require', 'verify-ca', 'verify-full']);
    expect([...permittedSslModes(ServerKind.Local)]).toEqual(['disable', 'require', 'verify-ca', 'verify-full']);
    expect([...permittedSslModes(ServerKind.SelfManaged)]).toEqual(['disable', 'require', 'verify-ca', 'verify-full']);
  });
});

describe('validateClientTls', () => {
  test.each([SslMode.Disable, SslMode.Allow, SslMode.Prefer])('a managed server rejects %s, naming <field>.sslmode', (mode) => {
    expectFieldError(
      () => validateClientTls({ sslmode: mode }, ServerKind.Managed, 'connection.tls'),
      'connection.tls.sslmode',
      `"${mode}" is not permitted for a managed server`,
    );
  });

  test.each([ServerKind.SelfManaged, ServerKind.Local])('a %s server rejects allow and prefer, which the gateway refuses', (kind) => {
    for (const mode of [SslMode.Allow, SslMode.Prefer]) {
      expectFieldError(
        () => validateClientTls({ sslmode: mode }, kind, 'ExternalPostgres'),
        'ExternalPostgres.sslmode',
        `"${mode}" is not permitted for a ${kind} server, the auth gateway's tls_mode refuses it`,
        'Use one of: disable, require, verify-ca, verify-full',
      );
    }
  });

  test('a managed server accepts require without a root certificate', () => {
    expect(() => validateClientTls({ sslmode: SslMode.Require }, ServerKind.Managed, 'tls')).not.toThrow();
  });

  test('a local server accepts disable (private Docker network)', () => {
    expect(() => validateClientTls({ sslmode: SslMode.Disable }, ServerKind.Local, 'tls')).not.toThrow();
  });

  test.each([SslMode.VerifyCa, SslMode.VerifyFull])('%s without sslrootcert or PEM throws naming <field>.sslrootcert', (mode) => {
    for (const kind of [ServerKind.Managed, ServerKind.SelfManaged, ServerKind.Local]) {
      expectFieldError(() => validateClientTls({ sslmode: mode }, kind, 'tls'), 'tls.sslrootcert', `sslmode=${mode} verifies the server certificate`);
      expectFieldError(() => validateClientTls({ sslmode: mode, sslrootcert: '' }, kind, 'tls'), 'tls.sslrootcert');
    }
  });

  test.each([
    ['a CA file path', () => ({ sslrootcert: '/etc/ssl/certs/rds-global-bundle.pem' })],
    ['the PEM itself', () => ({ rootCertPem: PEM })],
  ])('verify-full with %s is accepted', (_what, extra) => {
    expect(() => validateClientTls({ sslmode: SslMode.VerifyFull, ...extra() }, ServerKind.Managed, 'tls')).not.toThrow();
  });

  test('verify-full with sslrootcert=system (libpq 16+) is accepted', () => {
    expect(() => validateClientTls({ sslmode: SslMode.VerifyFull, sslrootcert: 'system' }, ServerKind.Managed, 'tls')).not.toThrow();
  });

  test.each([
    ['not a certificate', 'is not a PEM certificate'],
    ['-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----', 'contains a private key'],
    ['-----BEGIN CERTIFICATE-----', 'is not a PEM certificate'],
    ['', 'is not a PEM certificate'],
    ['-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ3d4\n-----END CERTIFICATE-----\n', 'certificate 1 of 1 does not parse'],
  ])('a bad rootCertPem %j throws naming <field>.rootCertPem', (pem, problem) => {
    expectFieldError(
      () => validateClientTls({ sslmode: SslMode.VerifyFull, sslrootcert: '/ca.pem', rootCertPem: pem }, ServerKind.Managed, 'tls'),
      'tls.rootCertPem',
      problem,
    );
  });

  test('a non-PEM rootCertPem is rejected even with sslmode=require', () => {
    expectFieldError(() => validateClientTls({ sslmode: SslMode.Require, rootCertPem: 'garbage' }, ServerKind.Managed, 'tls'), 'tls.rootCertPem');
  });

  // DOUBTFUL (src/core/tls.ts, validateClientTls): libpq 16+ forces
  // sslmode=verify-full when sslrootcert=system and treats any weaker sslmode
  // as an error (libpq docs, "sslrootcert"). validateClientTls accepts
  // verify-ca / require with sslrootcert=system, so the connection string it
  // approves is refused by psql.
  test('sslrootcert=system with a mode weaker than verify-full is rejected, as libpq 16+ does', () => {
    for (const mode of [SslMode.VerifyCa, SslMode.Require]) {
      expect(() => validateClientTls({ sslmode: mode, sslrootcert: 'system' }, ServerKind.Managed, 'tls')).toThrow();
    }
  });
});
