/**
 * The TLS certificates a self-run server needs, as data: a private CA and a
 * server certificate signed by it. The Pulumi components give these settings
 * to `@pulumi/tls` (PrivateKey, SelfSignedCert, CertRequest,
 * LocallySignedCert); the tests and the demo make real certificates from the
 * same settings, so what is verified is what is deployed.
 *
 * Names follow @pulumi/tls: algorithm `ECDSA`/`RSA`, curve `P256`/`P384`,
 * `allowedUses` values as in its `allowed_uses` list.
 */
import { isIP } from 'node:net';
import { check, checkInteger } from './errors';

/** @pulumi/tls key algorithms used here. */
export enum KeyAlgorithm {
  Ecdsa = 'ECDSA',
  Rsa = 'RSA',
}

/** A private key's settings. */
export interface KeySpec {
  algorithm: KeyAlgorithm;
  /** For ECDSA. @default "P256" */
  ecdsaCurve?: 'P256' | 'P384';
  /** For RSA, in bits. @default 2048 */
  rsaBits?: number;
}

/** A certificate's settings. */
export interface CertificateSpec {
  key: KeySpec;
  subject: { commonName: string; organization?: string };
  /** Validity, in hours. */
  validityHours: number;
  isCa: boolean;
  /** @pulumi/tls allowed_uses values. */
  allowedUses: string[];
  /** Subject alternative names (DNS). */
  dnsNames: string[];
  /** Subject alternative names (IP addresses). */
  ipAddresses: string[];
}

/** A CA and the server certificate it signs. */
export interface ServerCertificatePlan {
  ca: CertificateSpec;
  server: CertificateSpec;
}

/** Options of {@link planServerCertificates}. */
export interface ServerCertificateOptions {
  /** Names clients use to reach the server; the first is the certificate's common name. */
  dnsNames: string[];
  /** IP addresses clients use to reach the server. @default [] */
  ipAddresses?: string[];
  /** The subject's organization. @default "postgres-strategies" */
  organization?: string;
  /** CA validity, in days. @default 3650 */
  caValidityDays?: number;
  /** Server certificate validity, in days. @default 825 (the CA/Browser Forum ceiling) */
  serverValidityDays?: number;
  /** Key settings for both keys. @default ECDSA P256 */
  key?: KeySpec;
}

/**
 * Plans a private CA and a server certificate whose SANs cover every name
 * and address clients use, so that `sslmode=verify-full` succeeds.
 * @throws ValidationError for a missing or malformed name or address, or bad validity.
 */
export function planServerCertificates(options: ServerCertificateOptions): ServerCertificatePlan {
  check(options.dnsNames.length > 0, 'tls.dnsNames', 'no server name is given', 'Give the host name clients connect to (e.g. "postgres")');
  options.dnsNames.forEach((n, i) =>
    check(isIP(n) === 0, `tls.dnsNames[${i}]`, `"${n}" is an IP address`, 'Put IP addresses in ipAddresses, which become IP subject alternative names'),
  );
  options.dnsNames.forEach((n, i) =>
    check(
      /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(n),
      `tls.dnsNames[${i}]`,
      `"${n}" is not a DNS name`,
      'Give a host name such as "postgres" or "db.example.com"',
    ),
  );
  const ips = options.ipAddresses ?? [];
  ips.forEach((ip, i) => check(isIP(ip) !== 0, `tls.ipAddresses[${i}]`, `"${ip}" is not an IP address`, 'Give an IPv4 or IPv6 address'));
  const caDays = options.caValidityDays ?? 3650;
  const serverDays = options.serverValidityDays ?? 825;
  checkInteger(caDays, 'tls.caValidityDays', 1, 36500, 'days');
  checkInteger(serverDays, 'tls.serverValidityDays', 1, caDays, 'days');
  const key = options.key ?? { algorithm: KeyAlgorithm.Ecdsa, ecdsaCurve: 'P256' };
  if (key.algorithm === KeyAlgorithm.Rsa) checkInteger(key.rsaBits ?? 2048, 'tls.key.rsaBits', 2048, 8192, 'bits');
  const organization = options.organization ?? 'postgres-strategies';
  return {
    ca: {
      key,
      subject: { commonName: `${organization} PostgreSQL CA`, organization },
      validityHours: caDays * 24,
      isCa: true,
      allowedUses: ['cert_signing', 'crl_signing', 'digital_signature'],
      dnsNames: [],
      ipAddresses: [],
    },
    server: {
      key,
      subject: { commonName: options.dnsNames[0] as string, organization },
      validityHours: serverDays * 24,
      isCa: false,
      allowedUses: ['server_auth', 'digital_signature', 'key_encipherment'],
      dnsNames: [...options.dnsNames],
      ipAddresses: ips,
    },
  };
}
