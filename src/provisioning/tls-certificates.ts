/**
 * The core's certificate plan (`planServerCertificates`) as `@pulumi/tls`
 * resources: a private CA (PrivateKey + SelfSignedCert) and a server
 * certificate it signs (PrivateKey + CertRequest + LocallySignedCert), with
 * exactly the plan's key algorithm, subject, SANs, validity and uses — the
 * same settings the tests give `lab/certs.ts` to make real certificates.
 */
import * as pulumi from '@pulumi/pulumi';
import * as tls from '@pulumi/tls';
import { CertificateSpec, KeyAlgorithm, ServerCertificatePlan } from '../core/certificates';

/** PEMs of a CA and the server certificate it signed. */
export interface ServerCertificates {
  /** The CA certificate (PEM): what clients verify the server against. */
  caCertPem: pulumi.Output<string>;
  /** The server certificate (PEM). */
  serverCertPem: pulumi.Output<string>;
  /** The server's private key (PKCS#8 PEM; secret). */
  serverKeyPem: pulumi.Output<string>;
  /** When the server certificate expires (RFC 3339, `validityEndTime`). */
  serverCertValidUntil: pulumi.Output<string>;
  /** The CA's private key (PEM; secret): for a server that renews its own certificate. */
  caKeyPem: pulumi.Output<string>;
  /** When the CA certificate expires (RFC 3339). */
  caCertValidUntil: pulumi.Output<string>;
}

/** Options of {@link createServerCertificates}. */
export interface ServerCertificateOptions {
  /**
   * The server certificate's DNS names and subject are defaults that name a
   * new certificate only: later changes of them are ignored (a renewal keeps
   * them). @default false
   */
  namesFixedAtCreation?: boolean;
}

/** Hours before expiry from which a `pulumi up` renews the server certificate: 30 days. */
export const SERVER_CERT_EARLY_RENEWAL_HOURS = 30 * 24;
/** Hours before expiry from which a `pulumi up` renews the CA (and so the server certificate): one year. */
export const CA_CERT_EARLY_RENEWAL_HOURS = 365 * 24;

/** The early renewal window of a certificate: `preferred`, but never more than a third of its validity. */
export function earlyRenewalHours(validityHours: number, preferred: number): number {
  return Math.min(preferred, Math.floor(validityHours / 3));
}

function keyArgs(spec: CertificateSpec): tls.PrivateKeyArgs {
  return spec.key.algorithm === KeyAlgorithm.Rsa
    ? { algorithm: 'RSA', rsaBits: spec.key.rsaBits ?? 2048 }
    : { algorithm: 'ECDSA', ecdsaCurve: spec.key.ecdsaCurve ?? 'P256' };
}

function subject(spec: CertificateSpec): { commonName: string; organization?: string } {
  return { commonName: spec.subject.commonName, ...(spec.subject.organization ? { organization: spec.subject.organization } : {}) };
}

/**
 * Creates the CA and the server certificate of a plan, as children of `parent`.
 * Resources: `<name>-ca-key`, `<name>-ca`, `<name>-server-key`,
 * `<name>-server-csr`, `<name>-server-cert`.
 *
 * Renewal: a `pulumi up` within 30 days of the server certificate's expiry
 * (a year of the CA's) replaces it (`earlyRenewalHours`), and with it the
 * containers or files that hold it; without such an `up` it expires.
 *
 * Warning: the keys live in the Pulumi state (encrypted as secrets);
 * replacing `<name>-ca-key` makes a new CA, which every client must then get
 * (a renewed CA too: clients that saved `caPem` need the new one).
 */
export function createServerCertificates(name: string, plan: ServerCertificatePlan, parent: pulumi.Resource, options: ServerCertificateOptions = {}): ServerCertificates {
  const opts = { parent };
  const caKey = new tls.PrivateKey(`${name}-ca-key`, keyArgs(plan.ca), opts);
  const ca = new tls.SelfSignedCert(
    `${name}-ca`,
    {
      privateKeyPem: caKey.privateKeyPem,
      subject: subject(plan.ca),
      validityPeriodHours: plan.ca.validityHours,
      earlyRenewalHours: earlyRenewalHours(plan.ca.validityHours, CA_CERT_EARLY_RENEWAL_HOURS),
      isCaCertificate: true,
      allowedUses: plan.ca.allowedUses,
      setSubjectKeyId: true,
    },
    opts,
  );
  const serverKey = new tls.PrivateKey(`${name}-server-key`, keyArgs(plan.server), opts);
  const csr = new tls.CertRequest(
    `${name}-server-csr`,
    {
      privateKeyPem: serverKey.privateKeyPem,
      subject: subject(plan.server),
      dnsNames: plan.server.dnsNames,
      ipAddresses: plan.server.ipAddresses,
    },
    // Names that are defaults are fixed when the certificate is first issued (a new default never re-issues it).
    { ...opts, ...(options.namesFixedAtCreation ? { ignoreChanges: ['dnsNames', 'subject'] } : {}) },
  );
  const cert = new tls.LocallySignedCert(
    `${name}-server-cert`,
    {
      certRequestPem: csr.certRequestPem,
      caCertPem: ca.certPem,
      caPrivateKeyPem: caKey.privateKeyPem,
      validityPeriodHours: plan.server.validityHours,
      earlyRenewalHours: earlyRenewalHours(plan.server.validityHours, SERVER_CERT_EARLY_RENEWAL_HOURS),
      isCaCertificate: false,
      allowedUses: plan.server.allowedUses,
    },
    opts,
  );
  return {
    caCertPem: ca.certPem,
    serverCertPem: cert.certPem,
    serverKeyPem: pulumi.secret(serverKey.privateKeyPemPkcs8),
    serverCertValidUntil: cert.validityEndTime,
    caKeyPem: pulumi.secret(caKey.privateKeyPem),
    caCertValidUntil: ca.validityEndTime,
  };
}

/** The TLS part of a `@pulumi/postgresql` provider's arguments. */
export interface InlineAdminTls {
  sslrootcert: pulumi.Output<string>;
  clientcert: { cert: pulumi.Output<string>; key: pulumi.Output<string>; sslinline: boolean };
}

/**
 * The admin provider's TLS settings with the CA itself, not a file: the
 * provider's state then holds everything it needs, so `pulumi refresh` and
 * `pulumi destroy` (which configure the provider from the state, without
 * the program) verify the server too, on any machine.
 *
 * How: the postgresql provider passes `sslinline=true` to lib/pq only with
 * a client certificate (terraform-provider-postgresql ff936b95
 * `postgresql/config.go` `connParams`), and lib/pq then reads
 * `sslrootcert` as PEM text as well (lib/pq `ssl.go`
 * `sslCertificateAuthority`). So this makes a client key and a self-signed
 * client certificate, `<name>-admin-client-key` and `-admin-client-cert`
 * (100 years): PostgreSQL asks for a client certificate only with
 * `ssl_ca_file` set, which these servers never set, and lib/pq does not
 * check its own certificate's dates. The key is a secret of the state.
 */
export function createInlineAdminTls(name: string, caCertPem: pulumi.Input<string>, parent: pulumi.Resource): InlineAdminTls {
  const opts = { parent };
  const key = new tls.PrivateKey(`${name}-admin-client-key`, { algorithm: 'ECDSA', ecdsaCurve: 'P256' }, opts);
  const cert = new tls.SelfSignedCert(
    `${name}-admin-client-cert`,
    { privateKeyPem: key.privateKeyPem, subject: { commonName: 'postgres-strategies admin provider' }, validityPeriodHours: 100 * 365 * 24, allowedUses: ['client_auth', 'digital_signature'] },
    opts,
  );
  return { sslrootcert: pulumi.output(caCertPem), clientcert: { cert: cert.certPem, key: pulumi.secret(key.privateKeyPemPkcs8), sslinline: true } };
}
