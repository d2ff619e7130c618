/**
 * `postgres-strategies migrate`: the command line of {@link migrateDatabase}
 * (loaded by src/cli/main.ts).
 *
 * Exit codes: 0 copied (or already copied) and verified; 1 the verification
 * found a difference; 2 refused (bad input, a check failed, the copy failed
 * and was rolled back) — nothing was written to the target then.
 */
import { parseArgs } from 'node:util';
import { RowHash } from './catalog';
import { MigrateError, MigrateErrorCode } from './errors';
import { migrateDatabase } from './migrate';
import { renderProgress, renderReport } from './report';

export const USAGE = `usage: postgres-strategies migrate --from <libpq URL> --to <libpq URL> [options]

Copies the --from database into the empty --to database with pg_dump/pg_restore
(custom format, one restore transaction, objects owned by the target's owner role,
no grants of the source's roles), then verifies per table row counts and content
checksums, sequences, large objects, extensions and ownership.

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
Exit: 0 verified, 1 differences found, 2 refused (nothing written to the target).
`;

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
    const { values } = parseArgs({
      args: argv,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        'from-env': { type: 'string' },
        'to-env': { type: 'string' },
        role: { type: 'string' },
        'pg-bin': { type: 'string' },
        'row-hash': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    json = values.json === true;
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const rowHash = values['row-hash'];
    if (rowHash !== undefined && !Object.values(RowHash).includes(rowHash as RowHash)) {
      throw new MigrateError(MigrateErrorCode.BadInput, '--row-hash', `"${rowHash}" is not a row hash`, `Use one of: ${Object.values(RowHash).join(', ')}`);
    }
    const result = await migrateDatabase({
      from: url(values, 'from'),
      to: url(values, 'to'),
      ...(values.role !== undefined ? { role: values.role } : {}),
      ...(values['pg-bin'] !== undefined ? { pgBin: values['pg-bin'] } : {}),
      ...(rowHash !== undefined ? { rowHash: rowHash as RowHash } : {}),
      onProgress: (p) => process.stderr.write(`${renderProgress(p)}\n`),
    });
    process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : renderReport(result));
    return result.ok ? 0 : 1;
  } catch (e) {
    if (e instanceof MigrateError) {
      if (json) process.stdout.write(`${JSON.stringify({ ok: false, refused: { code: e.code, field: e.field, problem: e.problem, fix: e.fix } }, null, 2)}\n`);
      process.stderr.write(`postgres-strategies migrate: refused: ${e.message}\n`);
      return 2;
    }
    const message = e instanceof Error ? e.message : String(e);
    // parseArgs' errors (unknown option, missing value) are usage errors.
    const usage = (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
    if (json) process.stdout.write(`${JSON.stringify({ ok: false, refused: { code: usage ? MigrateErrorCode.BadInput : 'error', field: '', problem: message, fix: '' } }, null, 2)}\n`);
    process.stderr.write(`postgres-strategies migrate: ${message}${usage ? `\n\n${USAGE}` : '\n'}`);
    return 2;
  }
}
