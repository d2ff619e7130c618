/**
 * The host, port and root-certificate validators: a table of what each
 * accepts and refuses, and that every refusal names the user's field and
 * gives a fix that is itself accepted.
 */
import { planServerCertificates } from '../../../src/core/certificates';
import { HostKind, validateHost, validatePort, validateRootCertPem } from '../../../src/core/validate';
import { CertificateFiles, makeCertificates } from '../../../lab/certs';
import { expectFieldError } from './helpers';

const F = 'ExternalPostgres.host';

describe('validateHost', () => {
  test.each<[string, HostKind]>([
    ['db.example.com', HostKind.DnsName],
    ['db.example.com.', HostKind.DnsName],
    ['mydb.abc123.eu-west-1.rds.amazonaws.com', HostKind.DnsName],
    ['ep-cool-rain-12345-pooler.eu-central-1.aws.neon.tech', HostKind.DnsName],
    ['postgres', HostKind.DnsName],
    ['localhost', HostKind.DnsName],
    ['my_db', HostKind.DnsName], // Docker service names may have "_"
    ['DB.Example.COM', HostKind.DnsName],
    ['bücher.example', HostKind.DnsName], // IDNA
    ['xn--bcher-kva.example', HostKind.DnsName],
    ['10.0.0.5', HostKind.Ipv4],
    ['127.0.0.1', HostKind.Ipv4],
    ['::1', HostKind.Ipv6],
    ['fd00::5', HostKind.Ipv6],
    ['fe80::1%eth0', HostKind.Ipv6],
    ['2001:db8::1', HostKind.Ipv6],
  ])('%s is a %s host', (host, kind) => {
    expect(validateHost(host, F)).toBe(kind);
  });

  test.each<[unknown, string, string]>([
    ['db.example.com:5432', '"db.example.com:5432" includes a port', 'Give the host alone ("db.example.com") and the port as ExternalPostgres.port (5432)'],
    ['mydb.abc.eu-west-1.rds.amazonaws.com:5432', 'includes a port', "use the instance's `address` output, not `endpoint`"],
    ['10.0.0.5:6543', 'includes a port', 'the port as ExternalPostgres.port (6543)'],
    ['[::1]:5432', 'has brackets and a port', 'Give the host alone ("::1") and the port as ExternalPostgres.port (5432)'],
    ['[fd00::5]', 'has brackets', 'Give the host alone ("fd00::5")'],
    ['postgres://db.example.com:5432/app', 'is a URL (postgres://…), not a host', 'Give the host alone ("db.example.com") and the port as ExternalPostgres.port (5432)'],
    ['https://db.example.com', 'is a URL (https://…)', 'Give the host alone ("db.example.com")'],
    ['postgresql://u:p@[fd00::5]:6432/db', 'is a URL', 'Give the host alone ("fd00::5") and the port as ExternalPostgres.port (6432)'],
    ['db.example.com/app', 'contains a path or query', 'Give the host alone ("db.example.com")'],
    ['/var/run/postgresql', 'is a path (a Unix socket directory)', 'host name or IP address'],
    ['admin@db.example.com', 'contains user info', 'Give the host alone ("db.example.com")'],
    ['a.example.com,b.example.com', 'is a list of hosts', 'Give one host'],
    [' db.example.com', 'contains whitespace', 'Remove it: "db.example.com"'],
    ['db example.com', 'contains whitespace', 'Remove it'],
    ['', 'is empty', 'host name or IP address'],
    ['999.1.1.1', 'is not a valid IPv4 address', 'four numbers from 0 to 255'],
    ['10.0.0', 'is not a valid IPv4 address', 'four numbers'],
    ['fe80::1%eth 0', 'contains whitespace', 'Remove it'],
    ['fe80::1%eth/0', 'contains a path or query', 'Give the host alone'],
    ['fe80::zz', 'is not a valid IPv6 address', 'without brackets'],
    ['db..example.com', 'is not a valid host name', 'each 1–63 characters'],
    ['-db.example.com', 'is not a valid host name', 'not starting or ending with "-"'],
    [`${'a'.repeat(64)}.example.com`, 'is not a valid host name', '1–63'],
    ['db%41.example.com', 'contains "%"', 'without percent-encoding'],
    // A URL host parser reads "\\" as a path separator ("a\\b" → "a", "0\\" → 0.0.0.0): not a host name.
    ['a\\b.example.com', 'is not a valid host name', 'Use labels'],
    ['0\\', 'is not a valid host name', 'Use labels'],
    [5432, '5432 (a number) is not a host name', 'Give the host as a string'],
    [undefined, 'undefined (a undefined) is not a host name', 'Give the host as a string'],
  ])('%j is refused', (host, problem, fix) => {
    expectFieldError(() => validateHost(host, F, { portField: 'ExternalPostgres.port' }), F, problem, fix);
  });

  test('a provider\'s fixed port: the fix says to give the host alone, naming no port field', () => {
    expectFieldError(() => validateHost('ep-x.neon.tech:5432', F, { portField: '' }), F, 'includes a port', 'Give the host alone ("ep-x.neon.tech"); the port is not part of the host');
  });

  test('the host a fix suggests is itself accepted', () => {
    for (const bad of ['db.example.com:5432', '[::1]:5432', 'postgres://db.example.com:5432/app', 'admin@db.example.com', 'db.example.com/app']) {
      const e = expectFieldError(() => validateHost(bad, F), F);
      const suggested = /Give the host alone \("([^"]+)"\)/.exec(e.fix)?.[1];
      expect(suggested).toBeDefined();
      expect(() => validateHost(suggested, F)).not.toThrow();
    }
  });
});

describe('validatePort', () => {
  test.each([1, 5432, 6543, 65535])('%i is a port', (port) => {
    expect(validatePort(port, 'ExternalPostgres.port')).toBe(port);
  });

  test.each<[unknown, string, string]>([
    ['5432', '"5432" is a string, not a number', 'Give the port as a number (5432); from stack config read it with config.requireNumber'],
    ['abc', '"abc" is a string, not a number', 'Give the port as a number;'],
    [0, '0 (a number) is not a TCP port', 'from 1 to 65535'],
    [65536, '65536 (a number) is not a TCP port', 'from 1 to 65535'],
    [-1, 'is not a TCP port', '1 to 65535'],
    [5432.5, '5432.5 (a number) is not a TCP port', 'whole number'],
    [Number.NaN, 'is not a TCP port', 'whole number'],
    [null, 'null (a null) is not a TCP port', 'whole number'],
    [true, 'true (a boolean) is not a TCP port', 'whole number'],
  ])('%j is refused', (port, problem, fix) => {
    expectFieldError(() => validatePort(port, 'ExternalPostgres.port'), 'ExternalPostgres.port', problem, fix);
  });
});

describe('validateRootCertPem', () => {
  let certs: CertificateFiles;
  let other: CertificateFiles;
  beforeAll(async () => {
    certs = await makeCertificates(planServerCertificates({ dnsNames: ['db.internal'] }));
    other = await makeCertificates(planServerCertificates({ dnsNames: ['other.internal'] }));
  });
  const field = 'ExternalPostgres.rootCertPem';

  test('a CA certificate, and a bundle of two, parse; verify needs a CA', () => {
    expect(validateRootCertPem(certs.caCertPem, field, { verify: true })).toHaveLength(1);
    expect(validateRootCertPem(`# bundle\n${certs.caCertPem}\n${other.caCertPem}`, field, { verify: true })).toHaveLength(2);
  });

  test('the server\'s own certificate is not a CA: refused for verify-full, with the fix', () => {
    expect(() => validateRootCertPem(certs.serverCertPem, field)).not.toThrow();
    expectFieldError(() => validateRootCertPem(certs.serverCertPem, field, { verify: true }), field, 'is not a CA certificate (basicConstraints CA:FALSE', 'not the server\'s own');
  });

  test('an expired or not yet valid CA is refused for verify-full', () => {
    const later = new Date(Date.now() + 20 * 365 * 24 * 3600 * 1000);
    expectFieldError(() => validateRootCertPem(certs.caCertPem, field, { verify: true, now: later }), field, 'the CA certificate expired on', 'current certificate');
    expectFieldError(() => validateRootCertPem(certs.caCertPem, field, { verify: true, now: new Date('2000-01-01') }), field, 'is not valid before');
  });

  test('a private key is never accepted, even next to a certificate', () => {
    expectFieldError(() => validateRootCertPem(`${certs.caCertPem}${certs.caKeyPem}`, field), field, 'contains a private key', 'never a key');
  });

  test('a damaged certificate does not parse', () => {
    const damaged = certs.caCertPem.replace(/\n([A-Za-z0-9+/]{10})/, '\n$1!!');
    expectFieldError(() => validateRootCertPem(damaged, field), field, 'certificate 1 of 1 does not parse');
  });

  test.each([undefined, 42, '', 'MIIB...'])('%j is not PEM', (pem) => {
    expectFieldError(() => validateRootCertPem(pem, field), field, /is not (a )?PEM/);
  });
});
