/**
 * `postgres-strategies migrate`: the command line of {@link migrateDatabase}
 * (loaded by src/cli/main.ts).
 *
 * Exit codes ({@link MIGRATE_EXIT_CODES}): 0 copied (or already copied) and
 * verified; 1 the verification found a difference; 2 refused (bad input, a
 * check failed, the copy failed and was rolled back) — nothing was written
 * to the target then; 3 the target holds the copy but it was not verified
 * (a failure after the restore committed); 130/143 interrupted by
 * SIGINT/SIGTERM (pg_dump and pg_restore stopped, sessions closed, password
 * files removed; the message says whether the restore had committed).
 */
import { constants } from 'node:os';
import { PG_TOOL_OPTIONS, parseCommand } from '../cli/options';
import { RowHash } from './catalog';
import { removeAllPassFiles } from './connection';
import { MigrateError, MigrateErrorCode, MigrateNotVerifiedError } from './errors';
import { MIGRATE_EXIT_CODES, MigrateStatus, migrateDatabase } from './migrate';
import { renderProgress, renderReport } from './report';

export const USAGE = `usage: postgres-strategies migrate --from <libpq URL> --to <libpq URL> [options]

Copies the --from database into the empty --to database with pg_dump/pg_restore
(custom format, one restore transaction, objects owned by the target's owner role,
no grants of the source's roles; in the least-privilege shape the app and read-only
roles get in every restored schema what they get in public), then verifies per table
row counts and content checksums, sequences, large objects, extensions, ownership and
those roles' privileges.

options:
  --from <url>        the source, e.g. postgres://postgres:pw@127.0.0.1:5432/app?sslmode=disable
  --to <url>          the target, e.g. postgres://vw_app:pw@db.example.com/vw_app?sslmode=verify-full&sslrootcert=ca.pem
  --from-env <VAR>    read the source URL from environment variable VAR (keeps the password out of the process list)
  --to-env <VAR>      read the target URL from environment variable VAR
  --role <owner>      the role that owns what is restored (default: the target database's owner)
  --pg-bin <dir>      the directory of pg_dump and pg_restore (default: the newest found)
  --row-hash <h>      md5 or hashtextextended: hash every row's text with it (default: rows of tables
                      whose column types all have value-only hashes by hash_record_extended when
                      both servers are 14+ and agree on a probe; the others' text by hashtextextended
                      when both servers agree on a probe, else md5)
  --json              print the result as JSON (progress still goes to stderr)
  -h, --help          this text

URLs need sslmode (disable, require, verify-ca or verify-full; verify-* with sslrootcert).

exit codes (the JSON's "status"):
  0    verified       copied (or already copied) and verified: no difference
  1    differs        the verification found differences (see "next step")
  2    refused        a check failed, or the copy failed and rolled back: nothing was written to the target
  3    not-verified   the target holds the copy, but its verification did not finish (run again to verify it)
  130  interrupted    SIGINT (143: SIGTERM): pg_dump/pg_restore stopped, password files removed;
                      before the restore committed nothing stays in the target, after it as for 3
`;

/** How long an interrupted run may take to stop before the process exits anyway. */
const STOP_SECONDS = 10;

/** 128 + the signal's number: a shell's exit status for a process ended by it. */
function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

function url(values: { [k: string]: string | boolean | undefined }, name: 'from' | 'to'): string {
  const direct = values[name] as string | undefined;
  const envName = values[`${name}-env`] as string | undefined;
  if (direct !== undefined && envName !== undefined) {
    throw new MigrateError(MigrateErrorCode.BadInput, `--${name}`, `both --${name} and --${name}-env are given`, 'Give one of them');
  }
  if (envName !== undefined) {
    const v = process.env[envName];
    if (v === undefined || v === '') throw new MigrateError(MigrateErrorCode.BadInput, `--${name}-env`, `environment variable ${envName} is not set`, `Export ${envName}=<libpq URL> first`);
    return v;
  }
  if (direct === undefined) throw new MigrateError(MigrateErrorCode.BadInput, `--${name}`, 'is missing', `Give --${name} <libpq URL> or --${name}-env <VAR>`);
  return direct;
}

/** Runs `migrate` with `argv` (after the command name); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let json = false;
  try {
    const values = parseCommand(
      argv,
      {
        from: { type: 'string' },
        to: { type: 'string' },
        'from-env': { type: 'string' },
        'to-env': { type: 'string' },
        role: { type: 'string' },
        ...PG_TOOL_OPTIONS,
      },
      USAGE,
    );
    if (!values) return 0;
    json = values.json === true;
    const rowHash = values['row-hash'];
    if (rowHash !== undefined && !Object.values(RowHash).includes(rowHash as RowHash)) {
      throw new MigrateError(MigrateErrorCode.BadInput, '--row-hash', `"${rowHash}" is not a row hash`, `Use one of: ${Object.values(RowHash).join(', ')}`);
    }
    const from = url(values, 'from');
    const to = url(values, 'to');
    const result = await interruptible((signal) =>
      migrateDatabase({
        from,
        to,
        ...(values.role !== undefined ? { role: values.role } : {}),
        ...(values['pg-bin'] !== undefined ? { pgBin: values['pg-bin'] } : {}),
        ...(rowHash !== undefined ? { rowHash: rowHash as RowHash } : {}),
        onProgress: (p) => process.stderr.write(`${renderProgress(p)}\n`),
        signal,
      }),
    );
    process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : renderReport(result));
    return MIGRATE_EXIT_CODES[result.status];
  } catch (e) {
    return failed(e, json);
  }
}

/** A signal that stopped the run, with what the run threw then. */
class Interrupted extends Error {
  constructor(
    readonly signal: NodeJS.Signals,
    readonly cause: unknown,
  ) {
    super(`interrupted by ${signal}`);
  }
}

/**
 * Runs `work` with SIGINT and SIGTERM handled: the first aborts it (pg_dump
 * and pg_restore are stopped, the sessions closed, the password files
 * removed by the run itself) and, once it has settled, rejects with
 * {@link Interrupted} if it failed (a run that finished all the same is
 * returned as it is); a second one, or {@link STOP_SECONDS} without the run
 * settling, removes the password files and exits at once.
 */
async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const now = (signal: NodeJS.Signals): never => {
    removeAllPassFiles();
    process.exit(signalExitCode(signal));
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled !== undefined) now(signal);
    signalled = signal;
    process.stderr.write(`postgres-strategies migrate: ${signal}: stopping pg_dump/pg_restore and closing the sessions (send it again to quit at once)\n`);
    controller.abort();
    setTimeout(() => now(signal), STOP_SECONDS * 1000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // A run that finished all the same (the signal came at its very end) reports what it did.
    return await work(controller.signal).catch((e: unknown) => {
      throw signalled !== undefined ? new Interrupted(signalled, e) : e;
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Prints why the run did not return a result; returns the exit code. */
function failed(e: unknown, json: boolean): number {
  const print = (status: MigrateStatus, body: Record<string, unknown>, line: string): void => {
    if (json) process.stdout.write(`${JSON.stringify({ ok: false, status, ...body }, null, 2)}\n`);
    process.stderr.write(`postgres-strategies migrate: ${line}\n`);
  };
  if (e instanceof Interrupted) {
    const copied = e.cause instanceof MigrateNotVerifiedError ? e.cause : undefined;
    const problem = copied
      ? `interrupted by ${e.signal} after the restore committed: ${copied.problem}`
      : `interrupted by ${e.signal} before the restore committed: nothing of the copy stays in the target`;
    const fix = copied ? copied.fix : 'Run migrate again to copy';
    print(MigrateStatus.Interrupted, { signal: e.signal, ...(copied ? { outcome: copied.outcome } : {}), interrupted: { problem, fix } }, `${problem}. ${fix}`);
    return signalExitCode(e.signal);
  }
  if (e instanceof MigrateNotVerifiedError) {
    print(MigrateStatus.NotVerified, { outcome: e.outcome, ...(e.copy ? { copy: e.copy } : {}), notVerified: { problem: e.problem, fix: e.fix } }, `not verified: ${e.message}`);
    return MIGRATE_EXIT_CODES[MigrateStatus.NotVerified];
  }
  if (e instanceof MigrateError) {
    print(MigrateStatus.Refused, { refused: { code: e.code, field: e.field, problem: e.problem, fix: e.fix } }, `refused: ${e.message}`);
    return MIGRATE_EXIT_CODES[MigrateStatus.Refused];
  }
  const message = e instanceof Error ? e.message : String(e);
  // parseArgs' errors (unknown option, missing value) are usage errors.
  const usage = (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
  print(MigrateStatus.Refused, { refused: { code: usage ? MigrateErrorCode.BadInput : 'error', field: '', problem: message, fix: '' } }, `${message}${usage ? `\n\n${USAGE}` : ''}`);
  return MIGRATE_EXIT_CODES[MigrateStatus.Refused];
}
