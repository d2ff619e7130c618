/**
 * Every connection-input mistake of issue 7 (item 7) fails in the
 * constructor, before ANY resource is registered, naming the user's field
 * (`ExternalPostgres.host`, not `connection.hosts[0].port`) and the fix; a
 * value known only at deploy fails with the same message when it is known.
 * Under the mock runtime with its recorder: each bad program starts with an
 * empty graph and must leave it empty.
 */
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks();

import * as pulumi from '@pulumi/pulumi';
import { planServerCertificates } from '../../../src/core/certificates';
import { ValidationError } from '../../../src/core/errors';
import { ServerKind, SslMode } from '../../../src/core/tls';
import { ExternalPostgres, ExternalPostgresArgs } from '../../../src/provisioning/external';
import { InstanceDatabase } from '../../../src/provisioning/instance-database';
import { checkedInput } from '../../../src/provisioning/checked-input';
import { validateHost, validatePort } from '../../../src/core/validate';
import { CertificateFiles, makeCertificates } from '../../../lab/certs';
import { TEST_CA_FILE } from '../../support/ca-file';

let certs: CertificateFiles;
beforeAll(async () => {
  certs = await makeCertificates(planServerCertificates({ dnsNames: ['db.internal'] }));
});

const BASE: ExternalPostgresArgs = { host: 'db.example.com', adminUser: 'admin', adminPassword: 'pw' };

/** Runs `make` on a graph that must stay as it is, and returns the ValidationError it throws. */
async function refusedBeforeAnyResource(make: () => unknown): Promise<ValidationError> {
  await settled();
  const before = rt.resources.length;
  let thrown: unknown;
  try {
    make();
  } catch (e) {
    thrown = e;
  }
  await settled();
  expect(rt.resources.length).toBe(before);
  expect(thrown).toBeInstanceOf(ValidationError);
  return thrown as ValidationError;
}

describe('ExternalPostgres: plain values are refused before any resource', () => {
  const cases: Array<[string, () => Partial<ExternalPostgresArgs> & Record<string, unknown>, string, RegExp]> = [
    ['a host with a port (RDS endpoint)', () => ({ host: 'mydb.abc.eu-west-1.rds.amazonaws.com:5432' }), 'ExternalPostgres.host', /includes a port\. Give the host alone \("mydb\.abc\.eu-west-1\.rds\.amazonaws\.com"\) and the port as ExternalPostgres\.port \(5432\)/],
    ['a host with a scheme', () => ({ host: 'postgres://db.example.com' }), 'ExternalPostgres.host', /is a URL \(postgres:\/\/…\), not a host\. Give the host alone \("db\.example\.com"\)/],
    ['a host with a path', () => ({ host: 'db.example.com/app' }), 'ExternalPostgres.host', /contains a path/],
    ['a bracketed IPv6 host', () => ({ host: '[fd00::5]' }), 'ExternalPostgres.host', /has brackets/],
    ['a bad IPv4 address', () => ({ host: '10.0.0.256' }), 'ExternalPostgres.host', /is not a valid IPv4 address/],
    ['a host with whitespace', () => ({ host: 'db.example.com ' }), 'ExternalPostgres.host', /contains whitespace/],
    ['a port out of range', () => ({ port: 70000 }), 'ExternalPostgres.port', /70000 \(a number\) is not a TCP port\. Give a whole number from 1 to 65535/],
    ['port 0', () => ({ port: 0 }), 'ExternalPostgres.port', /is not a TCP port/],
    ['a port given as a string', () => ({ port: '5432' as never }), 'ExternalPostgres.port', /"5432" is a string, not a number\. Give the port as a number \(5432\); from stack config read it with config\.requireNumber/],
    ['sslmode prefer on a self-managed server', () => ({ kind: ServerKind.SelfManaged, sslmode: SslMode.Prefer }), 'ExternalPostgres.sslmode', /"prefer" is not permitted for a self-managed server, the auth gateway's tls_mode refuses it/],
    ['sslmode allow on a local server', () => ({ kind: ServerKind.Local, sslmode: SslMode.Allow }), 'ExternalPostgres.sslmode', /"allow" is not permitted/],
    ['sslmode disable on a managed server', () => ({ sslmode: SslMode.Disable }), 'ExternalPostgres.sslmode', /"disable" is not permitted for a managed server, which enforces TLS/],
    ['an sslmode libpq does not know', () => ({ sslmode: 'verify' as never }), 'ExternalPostgres.sslmode', /"verify" is not a valid sslmode/],
    ['verify-full without a root certificate', () => ({ sslmode: SslMode.VerifyFull }), 'ExternalPostgres.sslrootcert', /verifies the server certificate but no root certificate is given/],
    ['a rootCertPem that is not PEM', () => ({ rootCertPem: 'MIIB…' }), 'ExternalPostgres.rootCertPem', /is not a PEM certificate/],
    ['a rootCertPem that does not parse', () => ({ rootCertPem: '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ3d4\n-----END CERTIFICATE-----\n' }), 'ExternalPostgres.rootCertPem', /does not parse/],
    ['the server certificate as rootCertPem with verify-full', () => ({ sslrootcert: TEST_CA_FILE, rootCertPem: certs.serverCertPem }), 'ExternalPostgres.rootCertPem', /is not a CA certificate .*verify-full cannot check the server with it/],
    ['a private key in rootCertPem', () => ({ rootCertPem: `${certs.caCertPem}${certs.caKeyPem}` }), 'ExternalPostgres.rootCertPem', /contains a private key/],
  ];
  test.each(cases)('%s', async (_, overrides, field, message) => {
    const e = await refusedBeforeAnyResource(() => new ExternalPostgres('bad', { ...BASE, ...overrides() } as ExternalPostgresArgs));
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
  });

  test('the same program with the fixes applied registers the provider', async () => {
    const before = rt.resources.length;
    const ok = new ExternalPostgres('fixed', { ...BASE, host: 'mydb.abc.eu-west-1.rds.amazonaws.com', port: 5432, sslrootcert: TEST_CA_FILE, rootCertPem: certs.caCertPem });
    await settled();
    expect(rt.resources.length).toBe(before + 2); // the component and its provider
    expect(rt.named('fixed-admin').inputs).toMatchObject({ host: 'mydb.abc.eu-west-1.rds.amazonaws.com', port: '5432', sslmode: 'verify-full' });
    expect(ok.handle.sslmode).toBe(SslMode.VerifyFull);
  });
});

describe('values known only at deploy are checked when known, with the same message', () => {
  // ExternalPostgres and InstanceDatabase pass an Output host/port/rootCertPem through checkedInput with
  // the same validator as a plain value. (A rejected input fails the provider's registration and the
  // deployment; under the mock runtime that rejection would end the test process, so the check is
  // shown on checkedInput itself and the passing path through the component.)
  test('an Output host with a port rejects naming ExternalPostgres.host, with the message of the plain value', async () => {
    const check = (h: string): unknown => validateHost(h, 'ExternalPostgres.host', { portField: 'ExternalPostgres.port' });
    const plain = await refusedBeforeAnyResource(() => checkedInput('mydb.abc.rds.amazonaws.com:5432', check));
    const later = checkedInput(pulumi.output('mydb.abc.rds.amazonaws.com:5432'), check);
    await expect(settle(pulumi.output(later))).rejects.toThrow(plain.message);
  });

  test('an Output port that is a string rejects naming ExternalPostgres.port', async () => {
    const later = checkedInput(pulumi.output('5432' as unknown as number), (p) => validatePort(p, 'ExternalPostgres.port'));
    await expect(settle(pulumi.output(later))).rejects.toThrow(/^ExternalPostgres\.port: "5432" is a string, not a number/);
  });

  test('a Promise is checked when it resolves', async () => {
    const later = checkedInput(Promise.resolve(70000), (p) => validatePort(p, 'ExternalPostgres.port'));
    await expect(settle(pulumi.output(later))).rejects.toThrow(/^ExternalPostgres\.port: 70000 \(a number\) is not a TCP port/);
  });

  test('a good host output passes through unchanged and keeps its secretness', async () => {
    const s = new ExternalPostgres('later-ok', { ...BASE, host: pulumi.secret('db.example.com') });
    const r = await settle(pulumi.output(s.handle.host));
    expect(r).toMatchObject({ value: 'db.example.com', secret: true });
  });
});

describe('InstanceDatabase: a hand-made handle is checked before any resource', () => {
  let server: ExternalPostgres;
  beforeAll(() => {
    server = new ExternalPostgres('shared', { ...BASE, maxConnections: 500 });
  });

  test.each<[string, Record<string, unknown>, string, RegExp]>([
    ['a host with a port', { host: 'db.example.com:5432' }, 'server.host', /includes a port\. Give the host alone \("db\.example\.com"\) and the port as server\.port \(5432\)/],
    ['a port out of range', { port: 65536 }, 'server.port', /65536 \(a number\) is not a TCP port/],
    ['a port as a string', { port: '6543' }, 'server.port', /"6543" is a string, not a number/],
    ['sslmode prefer on a self-managed server', { kind: ServerKind.SelfManaged, sslmode: SslMode.Prefer }, 'server.sslmode', /"prefer" is not permitted for a self-managed server/],
    ['a root certificate that is not PEM', { rootCertPem: 'not a certificate' }, 'server.rootCertPem', /is not a PEM certificate/],
  ])('%s', async (_, override, field, message) => {
    const e = await refusedBeforeAnyResource(
      () => new InstanceDatabase(`bad-${field}`, { server: { ...server.handle, ...override } as never, instance: { name: `app${Object.keys(override).length}` } }),
    );
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
    expect(e.message).not.toMatch(/connection\.hosts/);
  });
});
