/**
 * Real certificates from the core's certificate plan, made with
 * @peculiar/x509 on Node's WebCrypto: the same key algorithm, subject, SANs,
 * validity and key usages the Pulumi components give @pulumi/tls — and, as
 * @pulumi/tls does when it renews, a new server certificate from the same CA,
 * or one valid in a given window (an expired one).
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { CertificateSpec, KeyAlgorithm, KeySpec, ServerCertificatePlan } from '../src/core/certificates';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** PEM files of a CA and a server certificate. */
export interface CertificateFiles {
  caCertPem: string;
  caKeyPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

function algorithm(key: KeySpec): (webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams) & { hash: string } {
  if (key.algorithm === KeyAlgorithm.Rsa) {
    return { name: 'RSASSA-PKCS1-v1_5', modulusLength: key.rsaBits ?? 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  }
  return { name: 'ECDSA', namedCurve: key.ecdsaCurve === 'P384' ? 'P-384' : 'P-256', hash: key.ecdsaCurve === 'P384' ? 'SHA-384' : 'SHA-256' };
}

const USAGE_BITS: Record<string, number> = {
  digital_signature: x509.KeyUsageFlags.digitalSignature,
  key_encipherment: x509.KeyUsageFlags.keyEncipherment,
  cert_signing: x509.KeyUsageFlags.keyCertSign,
  crl_signing: x509.KeyUsageFlags.cRLSign,
};
const EXTENDED_USAGES: Record<string, string> = { server_auth: x509.ExtendedKeyUsage.serverAuth, client_auth: x509.ExtendedKeyUsage.clientAuth };

function name(spec: CertificateSpec): string {
  const esc = (v: string): string => v.replace(/([,+"\\<>;=])/g, '\\$1');
  return [`CN=${esc(spec.subject.commonName)}`, spec.subject.organization ? `O=${esc(spec.subject.organization)}` : ''].filter(Boolean).join(', ');
}

function extensions(spec: CertificateSpec): x509.Extension[] {
  const flags = spec.allowedUses.reduce((f, u) => f | (USAGE_BITS[u] ?? 0), 0);
  const ext: x509.Extension[] = [new x509.BasicConstraintsExtension(spec.isCa, undefined, true), new x509.KeyUsagesExtension(flags, true)];
  const eku = spec.allowedUses.map((u) => EXTENDED_USAGES[u]).filter((u): u is string => u !== undefined);
  if (eku.length > 0) ext.push(new x509.ExtendedKeyUsageExtension(eku));
  const san = [...spec.dnsNames.map((d) => ({ type: 'dns' as const, value: d })), ...spec.ipAddresses.map((ip) => ({ type: 'ip' as const, value: ip }))];
  if (san.length > 0) ext.push(new x509.SubjectAlternativeNameExtension(san));
  return ext;
}

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** Options of {@link makeCertificates}. */
export interface CertificateOptions {
  /** Sign with this CA (PEMs of an earlier call) instead of making a new one: a renewal. */
  ca?: Pick<CertificateFiles, 'caCertPem' | 'caKeyPem'>;
  /** The server certificate's validity window. @default from a minute ago, for the plan's validity */
  notBefore?: Date;
  notAfter?: Date;
}

/** Makes the CA and the server certificate of a plan (or only a new server certificate, from a given CA). */
export async function makeCertificates(plan: ServerCertificatePlan, options: CertificateOptions = {}): Promise<CertificateFiles> {
  const now = Date.now();
  const serial = (): string => webcrypto.getRandomValues(new Uint8Array(16)).reduce((s, b) => s + b.toString(16).padStart(2, '0'), '7');
  const caAlg = algorithm(plan.ca.key);
  let ca: x509.X509Certificate;
  let caSigningKey: webcrypto.CryptoKey;
  if (options.ca) {
    ca = new x509.X509Certificate(options.ca.caCertPem);
    caSigningKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(options.ca.caKeyPem), caAlg, true, ['sign']);
  } else {
    const caKeys = (await webcrypto.subtle.generateKey(caAlg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: name(plan.ca),
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + plan.ca.validityHours * 3_600_000),
      signingAlgorithm: caAlg,
      keys: caKeys,
      extensions: [...extensions(plan.ca), await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey)],
    });
    caSigningKey = caKeys.privateKey;
  }
  const serverAlg = algorithm(plan.server.key);
  const serverKeys = (await webcrypto.subtle.generateKey(serverAlg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: name(plan.server),
    issuer: ca.subject,
    notBefore: options.notBefore ?? new Date(now - 60_000),
    notAfter: options.notAfter ?? new Date(now + plan.server.validityHours * 3_600_000),
    signingAlgorithm: caAlg,
    publicKey: serverKeys.publicKey,
    signingKey: caSigningKey,
    extensions: [...extensions(plan.server), await x509.AuthorityKeyIdentifierExtension.create(ca)],
  });
  return {
    caCertPem: options.ca ? options.ca.caCertPem : ca.toString('pem'),
    caKeyPem: options.ca ? options.ca.caKeyPem : await pkcs8Pem(caSigningKey),
    serverCertPem: server.toString('pem'),
    serverKeyPem: await pkcs8Pem(serverKeys.privateKey),
  };
}
