/**
 * Validators of the connection inputs every strategy takes — host, port,
 * root certificate — that name the user's field and say how to fix it, so
 * that a mistake fails `pulumi preview` before any resource is registered
 * instead of surfacing from inside an output at deploy time.
 *
 * Host rules: a bare host as libpq's `host` keyword takes it for TCP — an
 * IPv4 address, an IPv6 address without brackets (an interface zone such as
 * `fe80::1%eth0` allowed), or a DNS name (RFC 1123 labels; `_` allowed, as
 * Docker service names use it; non-ASCII names are converted with IDNA by
 * the WHATWG URL rules, `node:url` `domainToASCII`). No scheme, port, path,
 * user info, whitespace or host list.
 *
 * Port rules: a whole number 1–65535, given as a number (Pulumi config
 * values are strings: read them with `config.requireNumber`).
 *
 * Root certificate rules: PEM text of one or more X.509 certificates that
 * `node:crypto` can parse, no private key, and for a verifying sslmode at
 * least one CA certificate (basicConstraints CA:TRUE) that has not expired.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { ValidationError } from './errors';

/** Options of {@link validateHost}. */
export interface HostFieldOptions {
  /**
   * The user's field of the port, named in the fix when the host carries
   * one; `""` when the port is not the user's to give (a provider's fixed
   * port), so the fix only says to give the host alone. @default "port"
   */
  portField?: string;
}

/** What kind of host a valid host is. */
export enum HostKind {
  Ipv4 = 'ipv4',
  Ipv6 = 'ipv6',
  DnsName = 'dns',
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

function describeValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : `${String(value)} (a ${value === null ? 'null' : typeof value})`;
}

/** Splits "[v6]:port", "host:port" into host and port, when the text has that shape. */
function splitHostPort(text: string): { host: string; port?: string } | undefined {
  const bracketed = /^\[([^\]]*)\](?::(\d*))?$/.exec(text);
  if (bracketed) return { host: bracketed[1] as string, ...(bracketed[2] ? { port: bracketed[2] } : {}) };
  const m = /^([^:]+):(\d+)$/.exec(text);
  return m ? { host: m[1] as string, port: m[2] as string } : undefined;
}

/**
 * Checks a host for a TCP connection and tells what it is.
 * @param field the user's field, e.g. `ExternalPostgres.host`.
 * @throws ValidationError naming `field`: not a string, empty, whitespace, a
 *   URL or scheme, a port (`host:5432`, RDS's `endpoint`), brackets, a path
 *   or socket directory, user info, a host list, a bad IPv4/IPv6 address or
 *   DNS name.
 */
export function validateHost(host: unknown, field: string, options: HostFieldOptions = {}): HostKind {
  const portField = options.portField ?? 'port';
  if (typeof host !== 'string') {
    throw new ValidationError(field, `${describeValue(host)} is not a host name`, 'Give the host as a string, e.g. "db.example.com" or "10.0.0.5"');
  }
  const shown = JSON.stringify(host);
  if (host.trim().length === 0) throw new ValidationError(field, 'is empty', 'Give the server\'s host name or IP address');
  if (/\s/.test(host)) {
    throw new ValidationError(field, `${shown} contains whitespace`, `Remove it${host.trim() !== host ? `: "${host.trim()}"` : ''}`);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(host);
  if (scheme) {
    let hint = 'Give the host name alone';
    try {
      const url = new URL(host);
      const name = url.hostname.replace(/^\[(.*)\]$/, '$1');
      if (name) hint = `Give the host alone ("${decodeURIComponent(name)}")${url.port && portField ? ` and the port as ${portField} (${url.port})` : ''}`;
    } catch {
      // keep the general hint
    }
    throw new ValidationError(field, `${shown} is a URL (${scheme[1]}://…), not a host`, `${hint}; user, password and database have their own fields`);
  }
  if (host.startsWith('/')) {
    throw new ValidationError(field, `${shown} is a path (a Unix socket directory), not a TCP host`, 'Give the server\'s host name or IP address');
  }
  if (host.includes('@')) {
    throw new ValidationError(field, `${shown} contains user info ("user@")`, `Give the host alone ("${host.slice(host.lastIndexOf('@') + 1)}"); the user has its own field`);
  }
  if (host.includes(',')) throw new ValidationError(field, `${shown} is a list of hosts`, 'Give one host');
  if (/[/?#]/.test(host)) {
    throw new ValidationError(field, `${shown} contains a path or query ("/", "?", "#")`, `Give the host alone ("${host.split(/[/?#]/)[0]}")`);
  }
  const split = splitHostPort(host);
  if (split && (split.port !== undefined || host.startsWith('['))) {
    const bare = split.host;
    const fix = `Give the host alone ("${bare}")${split.port && portField ? ` and the port as ${portField} (${split.port})` : ''}`;
    if (host.startsWith('[')) throw new ValidationError(field, `${shown} has brackets${split.port ? ' and a port' : ''}`, `${fix}; brackets are added where a URL needs them`);
    throw new ValidationError(
      field,
      `${shown} includes a port`,
      portField ? `${fix} (for RDS use the instance's \`address\` output, not \`endpoint\`, which is host:port)` : `${fix}; the port is not part of the host (host:port)`,
    );
  }
  if (host.includes(':')) {
    const [address, zone] = host.split('%') as [string, string?];
    if (isIP(address) !== 6) throw new ValidationError(field, `${shown} is not a valid IPv6 address`, 'Give an IPv6 address without brackets, e.g. "fd00::5"');
    if (zone !== undefined && !/^[A-Za-z0-9._~-]+$/.test(zone)) {
      throw new ValidationError(field, `${shown} has an invalid IPv6 zone "${zone}"`, 'Give the interface name after %, e.g. "fe80::1%eth0"');
    }
    return HostKind.Ipv6;
  }
  if (host.includes('%')) throw new ValidationError(field, `${shown} contains "%"`, 'Give the host name without percent-encoding');
  const trimmed = host.endsWith('.') ? host.slice(0, -1) : host;
  const labels = trimmed.split('.');
  // Like the WHATWG URL parser: a name whose last label is numeric is an IPv4 address.
  if (/^(0x[0-9a-f]*|\d+)$/i.test(labels[labels.length - 1] as string)) {
    if (isIP(trimmed) === 4) return HostKind.Ipv4;
    throw new ValidationError(field, `${shown} is not a valid IPv4 address`, 'Give four numbers from 0 to 255, e.g. "10.0.0.5"');
  }
  const ascii = domainToASCII(trimmed);
  const asciiLabels = ascii.split('.');
  // domainToASCII parses like a URL host: "a\\b" comes back as "a". An ASCII name must come back as itself (lower-cased).
  const altered = !/[^\x00-\x7f]/.test(trimmed) && ascii !== trimmed.toLowerCase();
  if (ascii === '' || altered || ascii.length > 253 || !asciiLabels.every((l) => LABEL.test(l))) {
    throw new ValidationError(
      field,
      `${shown} is not a valid host name`,
      'Use labels of letters, digits, "-" and "_" separated by dots, each 1–63 characters, not starting or ending with "-"',
    );
  }
  return HostKind.DnsName;
}

/**
 * Checks a TCP port.
 * @throws ValidationError naming `field`: a string (even "5432"), not a
 *   whole number, or outside 1–65535.
 */
export function validatePort(port: unknown, field: string): number {
  if (typeof port === 'string') {
    const n = /^\s*\d+\s*$/.test(port) ? Number(port) : undefined;
    throw new ValidationError(
      field,
      `${JSON.stringify(port)} is a string, not a number`,
      `Give the port as a number${n !== undefined ? ` (${n})` : ''}; from stack config read it with config.requireNumber(…)`,
    );
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ValidationError(field, `${describeValue(port)} is not a TCP port`, 'Give a whole number from 1 to 65535 (PostgreSQL listens on 5432 by default)');
  }
  return port;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Options of {@link validateRootCertPem}. */
export interface RootCertOptions {
  /** The certificate must be able to verify a server (sslmode verify-ca / verify-full): a CA that has not expired. */
  verify?: boolean;
  /** The time to check expiry against. @default now */
  now?: Date;
}

/**
 * Checks a root certificate (bundle) given as PEM text.
 * @returns the parsed certificates.
 * @throws ValidationError naming `field`: not PEM, a block that does not
 *   parse, a private key, and with `verify` no CA certificate or only
 *   expired ones.
 */
export function validateRootCertPem(pem: unknown, field: string, options: RootCertOptions = {}): X509Certificate[] {
  if (typeof pem !== 'string') {
    throw new ValidationError(field, `${describeValue(pem)} is not PEM text`, 'Give the CA certificate as PEM text starting with -----BEGIN CERTIFICATE-----');
  }
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  if (blocks.some((b) => /PRIVATE KEY/.test(b[1] as string))) {
    throw new ValidationError(field, 'contains a private key', 'Give only the CA certificate (never a key): a root certificate is public');
  }
  const certs = blocks.filter((b) => b[1] === 'CERTIFICATE');
  if (certs.length === 0) {
    throw new ValidationError(field, 'is not a PEM certificate', 'Give the CA certificate as PEM text starting with -----BEGIN CERTIFICATE-----');
  }
  const parsed = certs.map((b, i) => {
    try {
      return new X509Certificate(b[0]);
    } catch (e) {
      throw new ValidationError(
        field,
        `certificate ${i + 1} of ${certs.length} does not parse (${e instanceof Error ? e.message : String(e)})`,
        'Give the certificate exactly as the CA published it (PEM, base64 between the BEGIN and END lines)',
      );
    }
  });
  if (options.verify) {
    const now = options.now ?? new Date();
    const cas = parsed.filter((c) => c.ca);
    if (cas.length === 0) {
      throw new ValidationError(
        field,
        `is not a CA certificate (basicConstraints CA:FALSE; subject ${parsed[0]?.subject.replace(/\n/g, ', ')}), so verify-full cannot check the server with it`,
        'Give the certificate of the CA that signed the server certificate (e.g. RDS global-bundle.pem), not the server\'s own',
      );
    }
    const valid = cas.filter((c) => new Date(c.validFrom) <= now && now <= new Date(c.validTo));
    if (valid.length === 0) {
      const first = cas[0] as X509Certificate;
      const expired = new Date(first.validTo) < now;
      throw new ValidationError(
        field,
        expired ? `the CA certificate expired on ${new Date(first.validTo).toISOString()}` : `the CA certificate is not valid before ${new Date(first.validFrom).toISOString()}`,
        'Give the CA\'s current certificate',
      );
    }
  }
  return parsed;
}
