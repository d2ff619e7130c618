/**
 * Why `migrate` refused to copy: one code per kind of refusal, the option
 * the user gave (`--from`, `--to`, `--role`, `--pg-bin`), what is wrong and
 * the exact next step. Nothing has been written to the target when one of
 * these is thrown, except where the message says otherwise.
 */
import { REDACTED } from '../core/dsn';
import { ValidationError } from '../core/errors';

/** What kind of refusal a {@link MigrateError} is. */
export enum MigrateErrorCode {
  /** A URL or an option cannot be used as given. */
  BadInput = 'bad-input',
  /** No TCP connection (host unknown, port closed, timeout). */
  Unreachable = 'unreachable',
  /** The TLS handshake failed or the server refused TLS as asked by sslmode. */
  Tls = 'tls',
  /** The server refused the login (password, pg_hba). */
  Auth = 'auth',
  /** The database named in the URL does not exist. */
  NoDatabase = 'no-database',
  /** `--from` and `--to` are the same database. */
  SameDatabase = 'same-database',
  /** No pg_dump/pg_restore of a major ≥ the source's. */
  Tools = 'tools',
  /** The target role is missing or cannot own what is restored. */
  Role = 'role',
  /** The target database holds objects that are not a copy of the source. */
  TargetNotEmpty = 'target-not-empty',
  /** The target server cannot take the connections (now, or when every pool is full). */
  Budget = 'budget',
  /** Another migrate (or its pg_restore) is still working on the target. */
  Busy = 'busy',
  /** pg_dump or pg_restore failed; the restore was rolled back. */
  CopyFailed = 'copy-failed',
}

/** A refusal of `migrate`: `message` is `"<option>: <problem>. <fix>"`, with no password in it. */
export class MigrateError extends ValidationError {
  readonly code: MigrateErrorCode;

  constructor(code: MigrateErrorCode, field: string, problem: string, fix: string) {
    super(field, problem, fix);
    this.name = 'MigrateError';
    this.code = code;
  }
}

/**
 * Replaces every occurrence of each secret (as is and percent-encoded) in
 * `text` by `REDACTED`: for tool output and driver messages, which should
 * not contain a password, before they are shown.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length === 0) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join(REDACTED);
  }
  return out;
}
