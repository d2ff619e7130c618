/**
 * `postgres-strategies backup`, `backups list` and `restore`: the command
 * lines of {@link backupDatabase}, {@link listBackups} and
 * {@link restoreDatabase} / {@link restoreDrill} (loaded by src/cli/main.ts).
 *
 * Exit codes: 0 done (restore: verified); 1 a restore's verification found
 * a difference; 2 refused (bad input, a check failed, the dump's bytes
 * altered, a tool failed and its work was rolled back or aborted).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BACKUP_KEY_ENV, formatS3Location, parseS3Location } from '../core/backup';
import { ValidationError } from '../core/errors';
import { COMMON_OPTIONS, PG_TOOL_OPTIONS, parseCommand } from '../cli/options';
import { RowHash } from '../migrate/catalog';
import { formatBytes, renderTable } from '../migrate/report';
import { parseBackupKey } from './crypto';
import { BackupError, BackupErrorCode } from './errors';
import { backupDatabase } from './backup';
import { listBackups } from './list';
import { RestoreResult, restoreDatabase, restoreDrill } from './restore';
import { openStore } from './store';

const STORE_HELP = `The object store comes from the AWS SDK variables: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_REGION, AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) for a store other than AWS S3 (path-style
addressing then, unless POSTGRES_STRATEGIES_S3_PATH_STYLE=0), AWS_CA_BUNDLE for a private CA.`;

export const BACKUP_USAGE = `usage: postgres-strategies backup --from <libpq URL> --to s3://<bucket>/<prefix> [options]

Dumps the database with pg_dump (custom format) into s3://<bucket>/<prefix>/<database>/<stamp>/dump,
with a manifest read in the dump's own snapshot (per-table row counts and checksums, sequences,
large objects, extensions, versions, the dump's SHA-256) that restore verifies against.

options:
  --from <url>          the database, e.g. postgres://app:pw@db.example.com/app?sslmode=verify-full&sslrootcert=ca.pem
  --from-env <VAR>      read the URL from environment variable VAR (keeps the password out of the process list)
  --to <s3 url>         where the backups of this database go
  --key-env <VAR>       encrypt with the key in VAR (32 bytes, base64: openssl rand -base64 32)
  --key-file <path>     encrypt with the key in this file
  --keep <n>            then delete older backups of the database beyond the newest n (default 0: keep all)
  --max-age-days <d>    then delete backups older than d days (default 0: keep them)
  --row-hash md5        hash rows by their text with md5 (restorable and verifiable on any server)
  --pg-bin <dir>        the directory of pg_dump and pg_restore (default: the newest found)
  --json                print the result as JSON
  -h, --help            this text

${STORE_HELP}
Exit: 0 backed up, 2 refused (nothing written; a failed dump aborts its upload).
`;

export const LIST_USAGE = `usage: postgres-strategies backups list s3://<bucket>/<prefix> [--json]

Lists the backups under the location, newest first: id, age, size, and whether each is complete
(has its manifest; only complete backups are restored).

${STORE_HELP}
`;

export const RESTORE_USAGE = `usage: postgres-strategies restore --from s3://<bucket>/<prefix>[/<database>/<stamp>] --to <libpq URL> [options]

Restores the backup (the newest under the prefix when no stamp is given) into the empty --to
database in one transaction, then verifies it against the backup's manifest. The dump's bytes are
checked against the manifest's SHA-256 before pg_restore may commit: altered bytes are refused.

options:
  --from <s3 url>       a backup, or a prefix (its newest backup)
  --to <url>            the empty target database (as its owner, or an admin that may SET ROLE to it)
  --to-env <VAR>        read the target URL from environment variable VAR
  --role <owner>        the role that owns what is restored (default: the target database's owner)
  --verify-only         the restore drill: --to is the server (a role that may CREATE DATABASE);
                        restore into a scratch database, verify, drop it
  --key-env <VAR>       the backup's key, from environment variable VAR
  --key-file <path>     the backup's key, from a file
  --pg-bin <dir>        the directory of pg_restore (default: the newest found)
  --json                print the result as JSON
  -h, --help            this text

${STORE_HELP}
Exit: 0 verified, 1 differences found, 2 refused (nothing written to the target).
`;

type Values = { [k: string]: string | boolean | undefined };

function fromEnv(values: Values, name: string, what: string): string {
  const direct = values[name] as string | undefined;
  const envName = values[`${name}-env`] as string | undefined;
  if (direct !== undefined && envName !== undefined) throw new BackupError(BackupErrorCode.BadInput, `--${name}`, `both --${name} and --${name}-env are given`, 'Give one of them');
  if (envName !== undefined) {
    const v = process.env[envName];
    if (v === undefined || v === '') throw new BackupError(BackupErrorCode.BadInput, `--${name}-env`, `environment variable ${envName} is not set`, `Export ${envName}=<${what}> first`);
    return v;
  }
  if (direct === undefined) throw new BackupError(BackupErrorCode.BadInput, `--${name}`, 'is missing', `Give --${name} <${what}> or --${name}-env <VAR>`);
  return direct;
}

function key(values: Values): Buffer | undefined {
  const envName = values['key-env'] as string | undefined;
  const file = values['key-file'] as string | undefined;
  if (envName !== undefined && file !== undefined) throw new BackupError(BackupErrorCode.BadInput, '--key-env', 'both --key-env and --key-file are given', 'Give one of them');
  if (envName !== undefined) {
    const v = process.env[envName];
    if (v === undefined || v === '') throw new BackupError(BackupErrorCode.Key, '--key-env', `environment variable ${envName} is not set`, `Export ${envName} (e.g. ${BACKUP_KEY_ENV}) with the backup key`);
    return parseBackupKey(v, '--key-env');
  }
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new BackupError(BackupErrorCode.Key, '--key-file', `cannot read ${file}`, 'Give the path of the file holding the key');
    }
    return parseBackupKey(text, '--key-file');
  }
  return undefined;
}

function count(values: Values, name: string): number | undefined {
  const v = values[name] as string | undefined;
  if (v === undefined) return undefined;
  if (!/^\d{1,5}$/.test(v)) throw new BackupError(BackupErrorCode.BadInput, `--${name}`, `"${v}" is not a whole number`, `Give e.g. --${name} 7 (0: no limit)`);
  return Number(v);
}

/** Runs a command body; prints refusals; resolves to the exit code. */
async function guarded(command: string, usage: string, json: () => boolean, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof ValidationError) {
      const code = (e as { code?: string }).code ?? BackupErrorCode.BadInput;
      if (json()) process.stdout.write(`${JSON.stringify({ ok: false, refused: { code, field: e.field, problem: e.problem, fix: e.fix } }, null, 2)}\n`);
      process.stderr.write(`postgres-strategies ${command}: refused: ${e.message}\n`);
      return 2;
    }
    const message = e instanceof Error ? e.message : String(e);
    const isUsage = (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
    if (json()) process.stdout.write(`${JSON.stringify({ ok: false, refused: { code: isUsage ? BackupErrorCode.BadInput : 'error', field: '', problem: message, fix: '' } }, null, 2)}\n`);
    process.stderr.write(`postgres-strategies ${command}: ${message}${isUsage ? `\n\n${usage}` : '\n'}`);
    return 2;
  }
}

/** `backup`. */
export async function backupMain(argv: string[]): Promise<number> {
  let json = false;
  return guarded('backup', BACKUP_USAGE, () => json, async () => {
    const values = parseCommand(
      argv,
      {
        from: { type: 'string' },
        'from-env': { type: 'string' },
        to: { type: 'string' },
        'key-env': { type: 'string' },
        'key-file': { type: 'string' },
        keep: { type: 'string' },
        'max-age-days': { type: 'string' },
        ...PG_TOOL_OPTIONS,
      },
      BACKUP_USAGE,
    );
    if (!values) return 0;
    json = values.json === true;
    const rowHash = values['row-hash'];
    if (rowHash !== undefined && rowHash !== RowHash.Md5) throw new BackupError(BackupErrorCode.BadInput, '--row-hash', `"${rowHash}" is not accepted`, 'Give --row-hash md5, or leave it out');
    if (values.to === undefined) throw new BackupError(BackupErrorCode.BadInput, '--to', 'is missing', 'Give --to s3://<bucket>/<prefix>');
    const keep = count(values, 'keep');
    const maxAgeDays = count(values, 'max-age-days');
    const k = key(values);
    const result = await backupDatabase({
      from: fromEnv(values, 'from', 'libpq URL'),
      to: values.to,
      ...(k ? { key: k } : {}),
      ...(keep !== undefined ? { keep } : {}),
      ...(maxAgeDays !== undefined ? { maxAgeDays } : {}),
      ...(rowHash !== undefined ? { rowHash: RowHash.Md5 } : {}),
      ...(values['pg-bin'] !== undefined ? { pgBin: values['pg-bin'] } : {}),
      onProgress: (p) => process.stderr.write(`backup: ${p.phase === 'check' ? p.message : p.phase === 'dump' ? `${formatBytes(p.bytes)} uploaded` : `manifest: ${p.done}/${p.total} checksum parts`}\n`),
    });
    const m = result.manifest;
    const rows = Object.values(m.tables).reduce((s, t) => s + t.rows, 0);
    process.stdout.write(
      json
        ? `${JSON.stringify(result, null, 2)}\n`
        : [
            `postgres-strategies backup: ${result.location}`,
            `  from      ${result.source.user}@${result.source.host}:${result.source.port}/${result.source.database} (PostgreSQL ${result.source.serverVersion})`,
            `  dump      ${formatBytes(m.dump.bytes)}${m.dump.encryption ? ', encrypted (aes-256-gcm)' : ''}, sha256 ${m.dump.sha256}, pg_dump ${m.tools.pgDump}`,
            `  manifest  ${Object.keys(m.tables).length} tables (${rows} rows), ${Object.keys(m.sequences).length} sequences, ${m.largeObjects.rows} large objects, ${m.inventory.objects.length} objects`,
            `  time      checks ${result.seconds.checks} s, dump and manifest ${result.seconds.dump} s, total ${result.seconds.total} s`,
            ...(result.pruned.deleted.length > 0 ? [`  pruned    ${result.pruned.deleted.join(', ')}`] : []),
            '',
          ].join('\n'),
    );
    return 0;
  });
}

/** `backups list`. */
export async function listMain(argv: string[]): Promise<number> {
  let json = false;
  return guarded('backups', LIST_USAGE, () => json, async () => {
    const { values, positionals } = parseArgs({ args: argv, options: COMMON_OPTIONS, strict: true, allowPositionals: true });
    json = values.json === true;
    if (values.help || positionals[0] === undefined) {
      process.stdout.write(LIST_USAGE);
      return values.help ? 0 : 2;
    }
    const [verb, where, ...extra] = positionals;
    if (verb !== 'list' || where === undefined || extra.length > 0) throw new BackupError(BackupErrorCode.BadInput, 'backups', `"${positionals.join(' ')}" is not a backups command`, 'Run: postgres-strategies backups list s3://<bucket>/<prefix>');
    const location = parseS3Location(where, 'location');
    const store = openStore();
    try {
      await store.check(location, 'location');
      const entries = await listBackups(store, location);
      const now = Date.now();
      if (json) {
        process.stdout.write(`${JSON.stringify(entries.map((e) => ({ ...e, location: formatS3Location({ bucket: location.bucket, prefix: e.folder }), ageSeconds: Math.round((now - e.createdAt.getTime()) / 1000) })), null, 2)}\n`);
      } else {
        const age = (t: Date): string => {
          const s = Math.max(0, (now - t.getTime()) / 1000);
          return s < 3600 ? `${Math.round(s / 60)} min` : s < 172800 ? `${(s / 3600).toFixed(1)} h` : `${(s / 86400).toFixed(1)} d`;
        };
        const rows = entries.map((e) => [e.id, e.createdAt.toISOString(), age(e.createdAt), formatBytes(e.bytes), e.complete ? 'complete' : 'INCOMPLETE (no manifest)']);
        process.stdout.write(`${formatS3Location(location)}: ${entries.length} backup(s)\n${renderTable(['backup', 'taken', 'age', 'size', ''], rows, [false, false, true, true, false])}\n`);
      }
      return 0;
    } finally {
      store.close();
    }
  });
}

/** A restore's result for a person. */
export function renderRestore(r: RestoreResult & { scratchDatabase?: string }): string {
  const v = r.verification;
  const rows = v.tables.reduce((s, t) => s + (t.target?.rows ?? 0), 0);
  const diffs = [
    ...v.tables.filter((t) => !t.equal).map((t) => `table ${t.table}: backup ${t.source ? `${t.source.rows} rows ${t.source.checksum.slice(0, 12)}` : 'missing'}, restored ${t.target ? `${t.target.rows} rows ${t.target.checksum.slice(0, 12)}` : 'missing'}`),
    ...v.sequences.filter((s) => !s.equal).map((s) => `sequence ${s.sequence}: backup ${s.source?.lastValue ?? 'missing'}, restored ${s.target?.lastValue ?? 'missing'}`),
    ...(v.largeObjects.equal ? [] : [`large objects: backup ${v.largeObjects.source.rows}, restored ${v.largeObjects.target.rows}`]),
    ...v.extensions.filter((e) => !e.equal).map((e) => `extension ${e.extension}: backup ${e.source ?? 'missing'}, restored ${e.target ?? 'missing'}`),
    ...v.objects.onlyInSource.map((o) => `${o}: in the backup, not restored`),
    ...v.objects.onlyInTarget.map((o) => `${o}: restored, not in the backup`),
    ...v.ownership.notOwned.map((o) => `${o.kind} ${o.name}: owned by ${o.owner}, not ${v.ownership.role}`),
  ];
  return [
    `postgres-strategies restore: ${r.ok ? `${r.outcome === 'restored' ? 'restored and verified' : 'already restored; verified'}: no difference` : `${v.differences} difference(s) from the backup's manifest`}`,
    `  backup  ${r.backup} (taken ${r.createdAt})`,
    `  to      ${r.target.user}@${r.target.host}:${r.target.port}/${r.target.database}${r.scratchDatabase ? ' (scratch database, dropped)' : ''} (PostgreSQL ${r.target.serverVersion}); objects owned by ${r.target.role}`,
    `  checked ${v.tables.length} tables (${rows} rows), ${v.sequences.length} sequences, ${v.largeObjects.target.rows} large objects, ${v.extensions.length} extensions, ${v.ownership.objects} owned objects`,
    `  time    checks ${r.seconds.checks} s, restore ${r.seconds.restore} s, verify ${r.seconds.verify} s`,
    ...(r.notes ?? []).map((n) => `  note    ${n}`),
    ...diffs.map((d) => `  DIFFERS ${d}`),
    ...(r.nextStep ? ['', `next step: ${r.nextStep}`] : []),
    '',
  ].join('\n');
}

/** `restore`. */
export async function restoreMain(argv: string[]): Promise<number> {
  let json = false;
  return guarded('restore', RESTORE_USAGE, () => json, async () => {
    const values = parseCommand(
      argv,
      {
        from: { type: 'string' },
        to: { type: 'string' },
        'to-env': { type: 'string' },
        role: { type: 'string' },
        'verify-only': { type: 'boolean', default: false },
        'key-env': { type: 'string' },
        'key-file': { type: 'string' },
        'pg-bin': PG_TOOL_OPTIONS['pg-bin'],
      },
      RESTORE_USAGE,
    );
    if (!values) return 0;
    json = values.json === true;
    if (values.from === undefined) throw new BackupError(BackupErrorCode.BadInput, '--from', 'is missing', 'Give --from s3://<bucket>/<prefix> (its newest backup) or s3://<bucket>/<prefix>/<database>/<stamp>');
    if (values['verify-only'] && values.role !== undefined) throw new BackupError(BackupErrorCode.BadInput, '--role', 'is not used with --verify-only (the scratch database belongs to the --to user)', 'Leave --role out');
    const k = key(values);
    const to = fromEnv(values, 'to', 'libpq URL');
    const common = {
      from: values.from,
      ...(k ? { key: k } : {}),
      ...(values['pg-bin'] !== undefined ? { pgBin: values['pg-bin'] } : {}),
      onProgress: (p: Parameters<NonNullable<Parameters<typeof restoreDatabase>[0]['onProgress']>>[0]) =>
        process.stderr.write(`restore: ${p.phase === 'check' ? p.message : p.phase === 'restore' ? `${formatBytes(p.bytes)} of ${formatBytes(p.total)} restored` : `verifying: ${p.done}/${p.total} checksum parts`}\n`),
    };
    const result = values['verify-only'] ? await restoreDrill({ ...common, server: to }) : await restoreDatabase({ ...common, to, ...(values.role !== undefined ? { role: values.role } : {}) });
    process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : renderRestore(result));
    return result.ok ? 0 : 1;
  });
}
