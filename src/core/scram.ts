/**
 * SCRAM-SHA-256 password verifiers, computed on the client so that plain
 * passwords never appear in SQL scripts, logs, init scripts or cloud-init
 * user-data. PostgreSQL stores a verifier given to `CREATE ROLE … PASSWORD`
 * as-is, and the plain password then logs in (provider-facts.md, verified on
 * a real server by the integration tests).
 *
 * Sources: RFC 5802 / RFC 7677 (SCRAM-SHA-256), PostgreSQL's
 * `scram_build_secret` (src/common/scram-common.c: 16-byte salt, 4096
 * iterations by default, format `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`)
 * and `pg_saslprep` (src/common/saslprep.c: ASCII passwords are used as they
 * are; otherwise SASLprep, falling back to the raw bytes when the password
 * is not a valid SASLprep string — libpq does the same on the client).
 */
import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes } from 'node:crypto';
import saslprep from '@mongodb-js/saslprep';
import { ValidationError, checkInteger } from './errors';

/** PostgreSQL's default `scram_iterations`. */
export const SCRAM_DEFAULT_ITERATIONS = 4096;
/** PostgreSQL's salt length, in bytes. */
export const SCRAM_SALT_BYTES = 16;

const VERIFIER = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2}):([A-Za-z0-9+/]+={0,2})$/;

/** The password as PostgreSQL's `pg_saslprep` prepares it. */
export function preparePassword(password: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  try {
    // Unassigned code points (Unicode 3.2, e.g. emoji) are prohibited, as in pg_saslprep:
    // saslprep then throws and the raw password is used.
    return saslprep(password);
  } catch {
    return password;
  }
}

/**
 * Computes a SCRAM-SHA-256 verifier.
 * @param password the plain password.
 * @param salt the salt (16 bytes, or its base64); give a stable salt for a
 *   stable verifier — a changing verifier would rewrite the role's password
 *   on every deployment.
 * @param iterations PBKDF2 iterations. @default 4096
 * @throws ValidationError for an empty password, a short salt or bad iterations.
 */
export function scramSha256Verifier(password: string, salt: Buffer | string, iterations = SCRAM_DEFAULT_ITERATIONS): string {
  const inputs = verifierInputs(password, salt, iterations);
  return formatVerifier(pbkdf2Sync(inputs.password, inputs.salt, iterations, 32, 'sha256'), inputs.salt, iterations);
}

/**
 * {@link scramSha256Verifier} with PBKDF2 on libuv's thread pool, so that
 * many verifiers (one per role of a large deployment) are computed in
 * parallel and off the main thread. Same result, same errors.
 */
export async function scramSha256VerifierAsync(password: string, salt: Buffer | string, iterations = SCRAM_DEFAULT_ITERATIONS): Promise<string> {
  const inputs = verifierInputs(password, salt, iterations);
  const salted = await new Promise<Buffer>((resolve, reject) =>
    pbkdf2(inputs.password, inputs.salt, iterations, 32, 'sha256', (err, key) => (err ? reject(err) : resolve(key))),
  );
  return formatVerifier(salted, inputs.salt, iterations);
}

function verifierInputs(password: string, salt: Buffer | string, iterations: number): { password: Buffer; salt: Buffer } {
  if (password.length === 0) {
    throw new ValidationError('password', 'is empty', 'Give a password; PostgreSQL rejects empty SCRAM passwords');
  }
  const saltBytes = typeof salt === 'string' ? Buffer.from(salt, 'base64') : salt;
  if (saltBytes.length < 8) {
    throw new ValidationError('salt', `is ${saltBytes.length} bytes`, `Give at least 8 random bytes (PostgreSQL uses ${SCRAM_SALT_BYTES})`);
  }
  checkInteger(iterations, 'iterations', 1, 100_000_000, 'iterations');
  return { password: Buffer.from(preparePassword(password), 'utf8'), salt: saltBytes };
}

/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` from the salted password (RFC 5802). */
function formatVerifier(salted: Buffer, salt: Buffer, iterations: number): string {
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** A fresh random salt (16 bytes), base64. */
export function newScramSalt(): string {
  return randomBytes(SCRAM_SALT_BYTES).toString('base64');
}

/** Whether a string is a SCRAM-SHA-256 verifier (rather than a plain password). */
export function isScramVerifier(text: string): boolean {
  return VERIFIER.test(text);
}

/** Whether `password` matches `verifier` (recomputes with the verifier's salt and iterations). */
export function verifyScramPassword(password: string, verifier: string): boolean {
  const m = VERIFIER.exec(verifier);
  if (!m || password.length === 0) return false;
  return scramSha256Verifier(password, m[2] as string, Number(m[1])) === verifier;
}
