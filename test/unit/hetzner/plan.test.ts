/**
 * The Hetzner plan, directly: network ranges and the fixed private IP,
 * network zones, firewall rules, certificate SANs, capacity and the
 * cloud-init instances' budget, and every error naming the user's field.
 */
import fc from 'fast-check';
import { planFirewallRules, planNetwork } from '../../../src/hetzner/network';
import { adminSslMode, defaultServerName, hetznerResourceNames, hetznerVolumeDevice, planHetzner } from '../../../src/hetzner/plan';
import { SslMode } from '../../../src/core/tls';
import { seedInstances } from '../../../examples/shared/instances';

const base = { serverType: 'cx23', serverName: 'db' };

test('defaults: 10.0.0.0/16, subnet 10.0.1.0/24, private IP 10.0.1.10, fsn1 in eu-central, Debian 12 with PostgreSQL 15', () => {
  const p = planHetzner(base);
  expect(p.network).toEqual({ networkIpRange: '10.0.0.0/16', subnetIpRange: '10.0.1.0/24', privateIp: '10.0.1.10', location: 'fsn1', networkZone: 'eu-central' });
  expect(p.image).toBe('debian-12');
  expect(p.postgresMajor).toBe(15);
  expect(p.listenAddresses).toEqual(['10.0.1.10']);
  expect(p.admittedCidrs).toEqual(['10.0.1.0/24']);
  expect(p.adminUser).toBe('pgadmin');
  expect(p.volumeSize).toBe(20);
  expect(p.labels).toEqual({ 'managed-by': 'postgres-strategies' });
});

test('the certificate covers the private IP and the public name (common name)', () => {
  const p = planHetzner({ ...base, publicHostName: 'db.example.com' });
  expect(p.certificates.server.ipAddresses).toEqual(['10.0.1.10']);
  expect(p.certificates.server.dnsNames).toEqual(['db.example.com']);
  expect(p.certificates.server.subject.commonName).toBe('db.example.com');
  expect(planHetzner(base).certificates.server.dnsNames).toEqual(['db']);
});

test('firewall: 5432 from the private subnet and the allowed CIDRs, SSH only from the SSH CIDRs, nothing when none', () => {
  expect(planFirewallRules({ subnetIpRange: '10.0.1.0/24', allowedCidrs: [], sshAllowedCidrs: [] })).toEqual([
    { direction: 'in', protocol: 'tcp', port: '5432', sourceIps: ['10.0.1.0/24'], description: expect.any(String) },
  ]);
  const p = planHetzner({ ...base, allowedCidrs: ['192.0.2.0/24'], sshAllowedCidrs: ['203.0.113.7/32'] });
  expect(p.firewallRules.map((r) => [r.port, r.sourceIps])).toEqual([
    ['5432', ['10.0.1.0/24', '192.0.2.0/24']],
    ['22', ['203.0.113.7/32']],
  ]);
  expect(p.admittedCidrs).toEqual(['10.0.1.0/24', '192.0.2.0/24']);
});

test('other locations map to their network zones; an existing network keeps its range', () => {
  expect(planNetwork({ location: 'ash' }).networkZone).toBe('us-east');
  expect(planNetwork({ location: 'sin' }).networkZone).toBe('ap-southeast');
  expect(planNetwork({ existingNetworkId: 42, subnetIpRange: '172.16.5.0/24' })).toEqual({ subnetIpRange: '172.16.5.0/24', privateIp: '172.16.5.10', location: 'fsn1', networkZone: 'eu-central', existingNetworkId: 42 });
});

test('property: every default private IP is a host address inside its subnet', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 16, max: 28 }), (third, bits) => {
      const size = 2 ** (32 - bits);
      const start = Math.floor((third * 256) / size) * size;
      const subnet = `10.42.${Math.floor(start / 256)}.${start % 256}/${bits}`;
      const p = planNetwork({ networkIpRange: '10.42.0.0/16', subnetIpRange: subnet });
      const ip = p.privateIp.split('.').map(Number);
      const n = ip[2]! * 256 + ip[3]!;
      return n > start + 1 && n < start + size - 1;
    }),
  );
});

test('the cloud-init instances are planned and budgeted against max_connections', () => {
  const p = planHetzner({ ...base, instances: seedInstances, namePrefix: 'vw_', pgConfig: { max_connections: 50 } });
  expect(p.server.instances.map((i) => i.database)).toEqual(['vw_blog', 'vw_admin', 'vw_api']);
  expect(p.capacity).toEqual({ maxConnections: 50, reservedConnections: 3, adminConnections: 4, maintenanceConnections: 3 });
  expect(p.server.budget.total).toBe(30);
  expect(() => planHetzner({ ...base, instances: seedInstances, pgConfig: { max_connections: 30 } })).toThrow(/instances/);
});

test('the volume device is the by-id path Hetzner documents', () => {
  expect(hetznerVolumeDevice('123456')).toBe('/dev/disk/by-id/scsi-0HC_Volume_123456');
});

describe('rejected before anything is created, naming the field', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a server type with a space', { serverType: 'cx 23' }, /serverType: "cx 23" is not a Hetzner server type/],
    ['an unknown image without a major', { image: 'ubuntu-24.04' }, /image: "ubuntu-24\.04" is not an image whose PostgreSQL major is known/],
    ['a public network range', { networkIpRange: '8.8.0.0/16', subnetIpRange: '8.8.1.0/24' }, /networkIpRange: "8\.8\.0\.0\/16" is not within a private range/],
    ['a subnet outside the network', { subnetIpRange: '10.1.1.0/24' }, /subnetIpRange: "10\.1\.1\.0\/24" is not inside the network's range 10\.0\.0\.0\/16/],
    ['host bits in the subnet', { subnetIpRange: '10.0.1.5/24' }, /subnetIpRange: "10\.0\.1\.5\/24" has host bits set/],
    ['the gateway as private IP', { privateIp: '10.0.1.1' }, /privateIp: 10\.0\.1\.1 is not a host address of the subnet 10\.0\.1\.0\/24/],
    ['a private IP outside the subnet', { privateIp: '10.0.2.10' }, /privateIp: 10\.0\.2\.10 is not a host address/],
    ['an unknown location', { location: 'mars1' }, /networkZone: the network zone of location "mars1" is not known/],
    ['a network range with an existing network', { existingNetworkId: 7, networkIpRange: '10.0.0.0/16' }, /networkIpRange: is set together with existingNetworkId/],
    ['a bad allowed CIDR', { allowedCidrs: ['10.0.0.0/40'] }, /allowedCidrs\[0\]: "10\.0\.0\.0\/40" is not a CIDR block/],
    ['the whole internet without publicAccess', { allowedCidrs: ['0.0.0.0/0'] }, /allowedCidrs\[0\]: "0\.0\.0\.0\/0" admits the whole internet/],
    ['a bad SSH CIDR', { sshAllowedCidrs: ['me'] }, /sshAllowedCidrs\[0\]: "me" is not a CIDR block/],
    ['a tiny volume', { volumeSize: 5 }, /volumeSize: 5 is not a whole number of GB between 10 and 10240/],
    ['postgres as admin', { adminUser: 'postgres' }, /adminUser: "postgres" is reserved by PostgreSQL/],
    ['a managed pgConfig key', { pgConfig: { listen_addresses: '*' } }, /pgConfig\.listen_addresses: "listen_addresses" is managed by this component/],
    ['a parameter PostgreSQL 15 does not have', { pgConfig: { shared_bufers: '1GB' } }, /pgConfig\.shared_bufers/],
    ['a string max_connections', { pgConfig: { max_connections: 'many' } }, /pgConfig\.max_connections/],
    ['an upgrade from a newer major', { postgresMajorUpgradeFrom: 16 }, /postgresMajorUpgradeFrom: 16 is not a PostgreSQL major older than the image's 15/],
    ['a bad label', { labels: { 'bad key!': 'x' } }, /labels\.bad key!: "bad key!" is not a Hetzner label key/],
    ['a bad backup keep', { backup: { keep: 1.5 } }, /backup\.keep: 1\.5 is not a whole number of dumps/],
    ['a cloud-init instance with loginRotation', { instances: [{ name: 'blog', loginRotation: { enabled: true } }] }, /instances\[0\]\.loginRotation: the instances cloud-init creates cannot rotate/],
    ['an instance named like the admin', { adminUser: 'vw_blog', instances: [{ name: 'blog' }], namePrefix: 'vw_' }, /instances\[0\]\.database: role "vw_blog" would be the admin role itself/],
  ];
  test.each(cases)('%s', (_, overrides, message) => {
    expect(() => planHetzner({ ...base, ...overrides } as Parameters<typeof planHetzner>[0])).toThrow(message);
  });
});

describe('names across stacks (Hetzner names are unique per project)', () => {
  test('the default server name is <project>-<stack>-<name>; the network, firewall and volume are named after it', () => {
    expect(defaultServerName('db', 'dev', 'shop')).toBe('shop-dev-db');
    expect(defaultServerName('db', 'prod', 'shop')).toBe('shop-prod-db');
    // Two projects' prod stacks with a component `db` no longer share a name (both were `db-prod`).
    expect(defaultServerName('db', 'prod', 'blog')).not.toBe(defaultServerName('db', 'prod', 'shop'));
    expect(defaultServerName('MyDB', 'Prod_EU', 'Shop')).toBe('shop-prod-eu-mydb');
    expect(hetznerResourceNames('shop-dev-db')).toEqual({ server: 'shop-dev-db', network: 'shop-dev-db-network', firewall: 'shop-dev-db-firewall', volume: 'shop-dev-db-data' });
  });

  test('default names are fixed at creation (the certificate\'s too, unless publicHostName names it); given ones follow the arguments', () => {
    expect(planHetzner({ ...base, serverNameIsDefault: true })).toMatchObject({ namesFixedAtCreation: true, certificateNamesFixedAtCreation: true });
    expect(planHetzner({ ...base, serverNameIsDefault: true, publicHostName: 'db.example.com' })).toMatchObject({ namesFixedAtCreation: true, certificateNamesFixedAtCreation: false });
    expect(planHetzner(base)).toMatchObject({ namesFixedAtCreation: false, certificateNamesFixedAtCreation: false });
  });

  test('property: every default name is a valid server name whose derived names fit 63 characters, and two stacks never share one', () => {
    const part = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABC0123456789-_.'.split('')), minLength: 1, maxLength: 60 }).filter((s) => /[A-Za-z0-9]/.test(s));
    fc.assert(
      fc.property(part, part, part, part, (name, a, b, project) => {
        const one = defaultServerName(name, a, project);
        expect(() => planHetzner({ ...base, serverName: one })).not.toThrow();
        expect(Object.values(hetznerResourceNames(one)).every((n) => n.length <= 63)).toBe(true);
        expect(defaultServerName(name, a, project)).toBe(one);
        if (a.toLowerCase().replace(/[^a-z0-9]+/g, '-') !== b.toLowerCase().replace(/[^a-z0-9]+/g, '-')) expect(defaultServerName(name, b, project)).not.toBe(one);
      }),
    );
  });
});

test('the server\'s postgresql.conf and pg_hba.conf are rendered once, in the plan', () => {
  const p = planHetzner({ ...base, allowedCidrs: ['192.0.2.0/24'], pgConfig: { max_connections: 80 } });
  expect(p.config.postgresMajor).toBe(15);
  expect(p.config.postgresqlConf).toContain('max_connections = 80\n');
  expect(p.config.postgresqlConf).toContain("listen_addresses = '10.0.1.10'\n");
  expect(p.config.pgHba).toMatch(/hostssl\s+all\s+all\s+192\.0\.2\.0\/24\s+scram-sha-256/);
});

test('the admin provider verifies the host name where the certificate holds it, else the chain (verify-ca)', () => {
  const certs = planHetzner({ ...base, publicHostName: 'db.example.com' }).certificates;
  expect(adminSslMode(certs)).toBe(SslMode.VerifyFull);
  expect(adminSslMode(certs, '10.0.1.10')).toBe(SslMode.VerifyFull);
  expect(adminSslMode(certs, 'DB.Example.com')).toBe(SslMode.VerifyFull);
  expect(adminSslMode(certs, '127.0.0.1')).toBe(SslMode.VerifyCa);
  expect(adminSslMode(certs, '203.0.113.9')).toBe(SslMode.VerifyCa);
  expect(adminSslMode(certs, '')).toBe(SslMode.VerifyCa);
});
