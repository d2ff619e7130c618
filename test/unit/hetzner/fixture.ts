/** Settings of a rendered Hetzner user data, shared by the unit, integration and e2e tests. */
import { CloudConfigSettings } from '../../../src/hetzner/cloud-init';
import { scramSha256Verifier } from '../../../src/core/scram';

export const ADMIN_PASSWORD = 'admin-password-never-in-user-data';

const PEM = (kind: string): string => `-----BEGIN ${kind}-----\nMIIBfake\n-----END ${kind}-----\n`;

/** A complete settings object with placeholder PEMs (unit and schema tests). */
export function sampleSettings(overrides: Partial<CloudConfigSettings> = {}): CloudConfigSettings {
  return {
    postgresMajor: 15,
    listenAddresses: ['10.0.1.10'],
    admittedCidrs: ['10.0.1.0/24', '192.0.2.0/24'],
    volumeDevice: '/dev/disk/by-id/scsi-0HC_Volume_4242',
    adminUser: 'pgadmin',
    adminVerifier: scramSha256Verifier(ADMIN_PASSWORD, Buffer.alloc(16, 7)),
    serverCertPem: PEM('CERTIFICATE'),
    serverKeyPem: PEM('PRIVATE KEY'),
    caCertPem: PEM('CERTIFICATE'),
    pgConfig: { max_connections: 120, shared_buffers: '256MB', log_connections: true },
    ...overrides,
  };
}
