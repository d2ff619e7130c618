/** Settings of a rendered Hetzner user data, shared by the unit, integration and e2e tests. */
import { CloudConfigSettings, ServerConfigSettings, renderServerConfig } from '../../../src/hetzner/cloud-init';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { scramSha256Verifier } from '../../../src/core/scram';

export const ADMIN_PASSWORD = 'admin-password-never-in-user-data';

const PEM = (kind: string): string => `-----BEGIN ${kind}-----\nMIIBfake\n-----END ${kind}-----\n`;

/** Overrides of {@link sampleSettings}: the user data's settings, and what its server config is rendered from. */
export type SampleOverrides = Partial<CloudConfigSettings> & Partial<ServerConfigSettings>;

/** A complete settings object with placeholder PEMs (unit and schema tests). */
export function sampleSettings(overrides: SampleOverrides = {}): CloudConfigSettings {
  const { postgresMajor, listenAddresses, admittedCidrs, pgConfig, ...rest } = overrides;
  return {
    config: renderServerConfig({
      postgresMajor: postgresMajor ?? 15,
      listenAddresses: listenAddresses ?? ['10.0.1.10'],
      admittedCidrs: admittedCidrs ?? ['10.0.1.0/24', '192.0.2.0/24'],
      pgConfig: pgConfig ?? { max_connections: 120, shared_buffers: '256MB', log_connections: true },
    }),
    volumeDevice: '/dev/disk/by-id/scsi-0HC_Volume_4242',
    adminUser: 'pgadmin',
    adminVerifier: scramSha256Verifier(ADMIN_PASSWORD, Buffer.alloc(16, 7)),
    serverCertPem: PEM('CERTIFICATE'),
    serverKeyPem: PEM('PRIVATE KEY'),
    caCertPem: PEM('CERTIFICATE'),
    ...rest,
  };
}

/** One file of a rendered document's write_files, decoded as cloud-init decodes it (`gz+b64`). */
export interface DocumentFile {
  path: string;
  content: string;
  permissions: string;
}

/** The files a `#cloud-config` document writes, decoded. */
export function userDataFiles(userData: string): DocumentFile[] {
  const doc = parse(userData) as { write_files: Array<DocumentFile & { encoding?: string }> };
  return doc.write_files.map((f) => ({
    path: f.path,
    content: f.encoding === 'gz+b64' ? gunzipSync(Buffer.from(f.content, 'base64')).toString('utf8') : f.content,
    permissions: f.permissions,
  }));
}
