/**
 * Why `migrate` refused to copy: one code per kind of refusal, the option
 * the user gave (`--from`, `--to`, `--role`, `--pg-bin`), what is wrong and
 * the exact next step. Nothing has been written to the target when one of
 * these is thrown. After the restore committed, a failure is a
 * {@link MigrateNotVerifiedError} instead.
 */
import { REDACTED } from '../core/dsn';
import { ValidationError } from '../core/errors';
import type { CopyResult } from './copy';
import type { MigrateOutcome } from './migrate';

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
  /** pg_dump or pg_restore failed (or was stopped); the restore was rolled back and the target is still empty. */
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
 * The target holds the copy, but it was not verified: the restore committed
 * (or the target already held an earlier run's copy), then the verification
 * could not finish — a session error, a dropped connection, the run
 * interrupted. Not a refusal: the target is no longer as it was. Running
 * migrate again (once the cause is gone) finds the copy and verifies it
 * without copying (`already-copied`). The command exits 3.
 * `message` is `"<problem>. <fix>"`, with no password in it.
 */
export class MigrateNotVerifiedError extends Error {
  /** `copied` (this run restored the copy) or `already-copied` (an earlier run did). */
  readonly outcome: MigrateOutcome;
  /** The copy this run made (absent for `already-copied`). */
  readonly copy?: CopyResult;
  readonly problem: string;
  readonly fix: string;

  constructor(outcome: MigrateOutcome, copy: CopyResult | undefined, problem: string, fix: string) {
    super(`${problem}. ${fix}`);
    this.name = 'MigrateNotVerifiedError';
    this.outcome = outcome;
    if (copy !== undefined) this.copy = copy;
    this.problem = problem;
    this.fix = fix;
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
