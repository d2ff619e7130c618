/**
 * TLS rules for client connections: libpq's `sslmode` values, what each one
 * needs on the client, and which modes each kind of server permits.
 *
 * Sources: libpq "SSL Support" (§34.19, the sslmode table), the primary
 * seed's "TLS mode values" and config reference (`tls_mode` accepts exactly
 * disable, require, verify-ca, verify-full), provider-facts.md (managed
 * services enforce TLS).
 */
import { ValidationError } from './errors';
import { validateRootCertPem } from './validate';

/** libpq's `sslmode` values, spelled exactly as libpq spells them. */
export enum SslMode {
  Disable = 'disable',
  Allow = 'allow',
  Prefer = 'prefer',
  Require = 'require',
  VerifyCa = 'verify-ca',
  VerifyFull = 'verify-full',
}

/** All libpq sslmode values, weakest first. */
export const SSL_MODES: readonly SslMode[] = [
  SslMode.Disable, SslMode.Allow, SslMode.Prefer, SslMode.Require, SslMode.VerifyCa, SslMode.VerifyFull,
];

/** The auth gateway's `database.tls_mode` values (primary seed, config reference). */
export const GATEWAY_TLS_MODES: readonly SslMode[] = [
  SslMode.Disable, SslMode.Require, SslMode.VerifyCa, SslMode.VerifyFull,
];

/** Where a server runs, which decides the TLS modes it permits. */
export enum ServerKind {
  /** A container on a private Docker network or loopback; any mode is allowed. */
  Local = 'local',
  /** A server this stack or its owners run themselves (Hetzner VM, bare metal). */
  SelfManaged = 'self-managed',
  /** RDS, Neon, Supabase, Hetzner Managed Databases, ...: TLS is enforced, never `disable`. */
  Managed = 'managed',
}

/** Whether a mode encrypts for certain (`allow`/`prefer` may fall back to plain text). */
export function sslModeRequiresTls(mode: SslMode): boolean {
  return mode === SslMode.Require || mode === SslMode.VerifyCa || mode === SslMode.VerifyFull;
}

/** Whether a mode checks the server certificate against a root certificate. */
export function sslModeVerifiesCertificate(mode: SslMode): boolean {
  return mode === SslMode.VerifyCa || mode === SslMode.VerifyFull;
}

/**
 * Parses an sslmode value.
 * @param allowed the accepted values (default: all of libpq's).
 * @throws ValidationError naming `field` and listing the accepted values.
 */
export function parseSslMode(value: string, field: string, allowed: readonly SslMode[] = SSL_MODES): SslMode {
  const mode = allowed.find((m) => m === value);
  if (mode === undefined) {
    throw new ValidationError(field, `"${value}" is not a valid sslmode`, `Use one of: ${allowed.join(', ')}`);
  }
  return mode;
}

/**
 * The TLS modes a kind of server permits for client connections: what the
 * auth gateway's `tls_mode` accepts (disable, require, verify-ca,
 * verify-full — never `allow`/`prefer`, which may silently fall back to
 * plain text), and on a managed server, which enforces TLS, not `disable`.
 */
export function permittedSslModes(kind: ServerKind): readonly SslMode[] {
  switch (kind) {
    case ServerKind.Managed:
      return [SslMode.Require, SslMode.VerifyCa, SslMode.VerifyFull];
    case ServerKind.SelfManaged:
    case ServerKind.Local:
      return GATEWAY_TLS_MODES;
  }
}

/** Client-side TLS settings of one connection. */
export interface ClientTls {
  /** libpq sslmode. */
  sslmode: SslMode;
  /**
   * Path of the root certificate (PEM) on the client, passed as libpq's
   * `sslrootcert`; `system` means the operating system's CA store (libpq 16+).
   */
  sslrootcert?: string;
  /** The root certificate itself (PEM), when the caller has it rather than a path. */
  rootCertPem?: string;
}

/**
 * Checks the client TLS settings against the server kind.
 * @throws ValidationError when a verify mode has no root certificate (path or
 *   PEM), or the server kind does not permit the mode (a managed service
 *   never accepts `disable`; `allow`/`prefer` may silently use plain text).
 */
export function validateClientTls(tls: ClientTls, kind: ServerKind, field: string): void {
  const permitted = permittedSslModes(kind);
  if (!permitted.includes(tls.sslmode)) {
    const why =
      tls.sslmode === SslMode.Allow || tls.sslmode === SslMode.Prefer
        ? `the auth gateway's tls_mode refuses it, and it may silently fall back to plain text`
        : 'which enforces TLS';
    throw new ValidationError(
      `${field}.sslmode`,
      `"${tls.sslmode}" is not permitted for a ${kind} server, ${why}`,
      `Use one of: ${permitted.join(', ')} (verify-full checks the certificate and host name)`,
    );
  }
  if (sslModeVerifiesCertificate(tls.sslmode) && !tls.sslrootcert && !tls.rootCertPem) {
    throw new ValidationError(
      `${field}.sslrootcert`,
      `sslmode=${tls.sslmode} verifies the server certificate but no root certificate is given`,
      'Give sslrootcert (the CA file path on the client, or "system") or the CA PEM, or use sslmode=require',
    );
  }
  if (tls.sslrootcert === 'system' && tls.sslmode !== SslMode.VerifyFull) {
    throw new ValidationError(
      `${field}.sslmode`,
      `sslrootcert=system requires sslmode=verify-full (libpq 16+ refuses weaker modes with it)`,
      'Use sslmode=verify-full, or give a CA file path as sslrootcert',
    );
  }
  if (tls.rootCertPem !== undefined) {
    validateRootCertPem(tls.rootCertPem, `${field}.rootCertPem`, { verify: sslModeVerifiesCertificate(tls.sslmode) });
  }
}
