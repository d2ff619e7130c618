/**
 * Why `backup` or `restore` refused: one code per kind of refusal, the
 * option the user gave, what is wrong and the exact next step. Nothing has
 * been written (to the bucket by `backup`, to the target by `restore`) when
 * one of these is thrown, except where the message says otherwise.
 *
 * Connection, URL and tool refusals come from migrate's own checks (a
 * `MigrateError`, the same base class): the commands connect exactly as
 * `migrate` does.
 */
import { ValidationError } from '../core/errors';

/** What kind of refusal a {@link BackupError} is. */
export enum BackupErrorCode {
  /** A URL, a location or an option cannot be used as given. */
  BadInput = 'bad-input',
  /** The object store cannot be reached, or refuses the credentials or the bucket. */
  Store = 'store',
  /** No backup at the location given. */
  NotFound = 'not-found',
  /** The backup's bytes (or its manifest) are not what the backup wrote. */
  Altered = 'altered',
  /** The backup is encrypted and no key, or another key, was given. */
  Key = 'key',
  /** pg_restore is older than the pg_dump that wrote the backup. */
  Tools = 'tools',
  /** The target database holds objects that are not this backup's. */
  TargetNotEmpty = 'target-not-empty',
  /** pg_dump or pg_restore failed (a restore was rolled back; an upload aborted). */
  Failed = 'failed',
}

/** A refusal of `backup` / `restore`: `message` is `"<option>: <problem>. <fix>"`, with no password or key in it. */
export class BackupError extends ValidationError {
  readonly code: BackupErrorCode;

  constructor(code: BackupErrorCode, field: string, problem: string, fix: string) {
    super(field, problem, fix);
    this.name = 'BackupError';
    this.code = code;
  }
}
