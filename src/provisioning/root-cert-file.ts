/**
 * The CA bundle file an admin connection names (`sslrootcert`, a path on the
 * machine that runs Pulumi), checked at preview: a relative path works only
 * from the folder Pulumi runs the program in, and ends up in every client URL
 * that inherits it, so it is made absolute; a file that does not exist, or is
 * not a certificate, would otherwise pass preview and fail inside the
 * provider during `up`.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ValidationError } from '../core/errors';
import { validateRootCertPem } from '../core/validate';

/** libpq's `sslrootcert=system` (the operating system's trusted CAs, libpq 16+): not a file. */
export const SYSTEM_ROOT_CERT = 'system';

/**
 * The absolute path of `path` (relative to the program's working directory,
 * the Pulumi project folder), after checking that it is a readable file of
 * PEM certificates; `system` is returned as it is.
 * @param verify the sslmode verifies the server (verify-ca, verify-full): the
 *   file must hold a CA certificate that has not expired.
 * @throws ValidationError naming `field`: no such file (with the absolute path
 *   looked at), a folder, an unreadable file, or not PEM certificates.
 */
export function checkRootCertFile(path: string, field: string, options: { verify: boolean }): string {
  if (path === SYSTEM_ROOT_CERT) return path;
  if (typeof path !== 'string' || path.length === 0) {
    throw new ValidationError(field, 'is empty', 'Give the path of the CA bundle on the machine that runs Pulumi, or "system"');
  }
  const absolute = resolve(path);
  const given = isAbsolute(path) ? '' : ` ("${path}" from ${process.cwd()})`;
  let text: string;
  try {
    if (statSync(absolute).isDirectory()) throw new ValidationError(field, `${absolute}${given} is a folder`, 'Give the CA bundle file itself');
    text = readFileSync(absolute, 'utf8');
  } catch (e) {
    if (e instanceof ValidationError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ValidationError(
      field,
      code === 'ENOENT' ? `no file at ${absolute}${given}` : `${absolute}${given} cannot be read (${code ?? String(e)})`,
      'Give the path of the CA bundle on the machine that runs Pulumi (a relative path starts at the Pulumi project folder); the apps\' own path goes in clientSslRootCert',
    );
  }
  validateRootCertPem(text, field, { verify: options.verify });
  return absolute;
}
