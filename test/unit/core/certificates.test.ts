import { KeyAlgorithm, ServerCertificateOptions, planServerCertificates } from '../../../src/core/certificates';
import { expectFieldError } from './helpers';

describe('planServerCertificates: defaults', () => {
  const plan = planServerCertificates({ dnsNames: ['postgres', 'db.example.com'], ipAddresses: ['10.0.0.5', 'fd00::5'] });

  test('a CA valid 3650 days that may sign certificates', () => {
    expect(plan.ca).toEqual({
      key: { algorithm: KeyAlgorithm.Ecdsa, ecdsaCurve: 'P256' },
      subject: { commonName: 'postgres-strategies PostgreSQL CA', organization: 'postgres-strategies' },
      validityHours: 3650 * 24,
      isCa: true,
      allowedUses: ['cert_signing', 'crl_signing', 'digital_signature'],
      dnsNames: [],
      ipAddresses: [],
    });
  });

  test('a server certificate valid 825 days for server auth, CN = first name, SANs = every name and address', () => {
    expect(plan.server).toEqual({
      key: { algorithm: KeyAlgorithm.Ecdsa, ecdsaCurve: 'P256' },
      subject: { commonName: 'postgres', organization: 'postgres-strategies' },
      validityHours: 825 * 24,
      isCa: false,
      allowedUses: ['server_auth', 'digital_signature', 'key_encipherment'],
      dnsNames: ['postgres', 'db.example.com'],
      ipAddresses: ['10.0.0.5', 'fd00::5'],
    });
    expect(plan.server.allowedUses).not.toContain('cert_signing');
  });

  test('the server certificate never outlives the CA', () => {
    expect(plan.server.validityHours).toBeLessThanOrEqual(plan.ca.validityHours);
  });

  test('the plan copies the names (later changes to the options do not leak in)', () => {
    const options = { dnsNames: ['postgres'] };
    const p = planServerCertificates(options);
    options.dnsNames.push('other');
    expect(p.server.dnsNames).toEqual(['postgres']);
  });
});

describe('planServerCertificates: options', () => {
  test('organization, validity and an RSA key are applied to both certificates', () => {
    const p = planServerCertificates({
      dnsNames: ['pg.internal'],
      organization: 'acme',
      caValidityDays: 365,
      serverValidityDays: 90,
      key: { algorithm: KeyAlgorithm.Rsa, rsaBits: 4096 },
    });
    expect(p.ca.subject).toEqual({ commonName: 'acme PostgreSQL CA', organization: 'acme' });
    expect(p.server.subject).toEqual({ commonName: 'pg.internal', organization: 'acme' });
    expect(p.ca.validityHours).toBe(365 * 24);
    expect(p.server.validityHours).toBe(90 * 24);
    expect(p.ca.key).toEqual({ algorithm: 'RSA', rsaBits: 4096 });
    expect(p.server.key).toEqual({ algorithm: 'RSA', rsaBits: 4096 });
    expect(p.server.ipAddresses).toEqual([]);
  });

  test('server validity equal to the CA validity is allowed', () => {
    expect(() => planServerCertificates({ dnsNames: ['pg'], caValidityDays: 100, serverValidityDays: 100 })).not.toThrow();
  });

  test.each(['postgres', 'db.example.com', '*.example.com', 'ep-cool-rain-12345.eu-central-1.aws.neon.tech', 'DB.Example.COM', 'a', 'x1-2y', `${'a'.repeat(63)}.com`])(
    'DNS name %s is accepted',
    (name) => {
      expect(planServerCertificates({ dnsNames: [name] }).server.dnsNames).toEqual([name]);
    },
  );
});

describe('planServerCertificates: errors', () => {
  test('no DNS name is rejected naming tls.dnsNames', () => {
    expectFieldError(() => planServerCertificates({ dnsNames: [] }), 'tls.dnsNames', 'no server name');
  });

  test.each([
    ['an underscore', 'db_host'],
    ['a leading hyphen', '-db.example.com'],
    ['a trailing hyphen', 'db-.example.com'],
    ['an empty label', 'db..example.com'],
    ['a trailing dot', 'db.example.com.'],
    ['a space', 'db example.com'],
    ['a port', 'db.example.com:5432'],
    ['a scheme', 'https://db.example.com'],
    ['a wildcard not leftmost', 'db.*.example.com'],
    ['a bare wildcard', '*'],
    ['a 64-character label', `${'a'.repeat(64)}.com`],
    ['an empty name', ''],
  ])('a DNS name with %s (%j) is rejected naming tls.dnsNames[i]', (_what, name) => {
    expectFieldError(() => planServerCertificates({ dnsNames: ['postgres', name] }), 'tls.dnsNames[1]', 'is not a DNS name');
  });

  test.each(['10.0.0.300', '10.0.0', 'fd00:::5', 'localhost', '10.0.0.0/8', ''])('IP address %j is rejected naming tls.ipAddresses[i]', (ip) => {
    expectFieldError(() => planServerCertificates({ dnsNames: ['postgres'], ipAddresses: ['127.0.0.1', ip] }), 'tls.ipAddresses[1]', 'is not an IP address');
  });

  test.each<[Partial<ServerCertificateOptions>, string]>([
    [{ caValidityDays: 0 }, 'tls.caValidityDays'],
    [{ caValidityDays: 36501 }, 'tls.caValidityDays'],
    [{ caValidityDays: 1.5 }, 'tls.caValidityDays'],
    [{ serverValidityDays: 0 }, 'tls.serverValidityDays'],
    [{ serverValidityDays: 10.5 }, 'tls.serverValidityDays'],
    [{ caValidityDays: 365, serverValidityDays: 366 }, 'tls.serverValidityDays'],
    [{ caValidityDays: 100 }, 'tls.serverValidityDays'], // default server validity 825 > CA 100
    [{ key: { algorithm: KeyAlgorithm.Rsa, rsaBits: 1024 } }, 'tls.key.rsaBits'],
    [{ key: { algorithm: KeyAlgorithm.Rsa, rsaBits: 16384 } }, 'tls.key.rsaBits'],
  ])('%j is rejected naming %s', (patch, field) => {
    expectFieldError(() => planServerCertificates({ dnsNames: ['postgres'], ...patch }), field);
  });
});
