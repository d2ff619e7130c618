/**
 * Generates src/core/pg-settings/data.ts: every server parameter of each
 * supported PostgreSQL major, and those of the preloaded extensions
 * ({@link PRELOADED_EXTENSIONS}), read from a real server's `pg_settings`
 * (name, vartype, unit, context, min_val, max_val, enumvals), plus the enum
 * spellings the server accepts but does not list (`on`/`true`/`1`… for
 * `synchronous_commit`, `archive` for `wal_level`), found by trying each one
 * with `ALTER SYSTEM SET`, which runs the server's own value parser.
 *
 * Sources: embedded PostgreSQL 14, 16, 17, 18 (lab/server.ts); 15 from
 * Debian's `postgresql-15` package (/usr/lib/postgresql/15/bin), started as
 * the OS user `postgres` on a Unix socket.
 *
 * Usage: `npm run gen:pg-settings` (= `tsc -p tsconfig.json && node
 * dist/lab/gen-pg-settings.js`); `--check` compares instead of writing and
 * exits 1 on a difference. test/e2e/pg-settings.test.ts (`npm run e2e`)
 * regenerates and compares the same way.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { postgresOsUser } from './run';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, ClientConfig } from 'pg';
import { minorReleaseParameter } from '../src/core/pg-settings';
import { DEBIAN_PG15_BIN, freePort, haveDebianPg15, labPath, LabVersion, startLabServer } from './server';

export { DEBIAN_PG15_BIN, haveDebianPg15 };

/** One parameter as pg_settings describes it, plus accepted unlisted enum spellings. */
export interface PgSettingRow {
  name: string;
  vartype: string;
  unit: string | null;
  context: string;
  min: string | null;
  max: string | null;
  enumvals: string[] | null;
  /** Enum spellings the server accepts that pg_settings does not list. */
  hidden: string[] | null;
}

/** Majors the data covers, and where each comes from. */
export const GENERATED_MAJORS = [14, 15, 16, 17, 18] as const;

/** Spellings tried on every enum: bool synonyms and old wal_level names. */
const HIDDEN_CANDIDATES = ['on', 'off', 'true', 'false', 'yes', 'no', '1', '0', 'archive', 'hot_standby'];

/**
 * The extensions (contrib modules) whose parameters the data also holds:
 * loaded at server start (`shared_preload_libraries`), as RDS and most
 * servers load them, so their parameters are real rows of `pg_settings`.
 * Each ships with every PostgreSQL build here and on RDS.
 */
export const PRELOADED_EXTENSIONS = ['auto_explain', 'pg_prewarm', 'pg_stat_statements'] as const;

const QUERY = `SELECT name, vartype, unit, context, min_val, max_val, enumvals
                 FROM pg_catalog.pg_settings
                WHERE name NOT LIKE '%.%' OR split_part(name, '.', 1) = ANY($1)
                ORDER BY name COLLATE "C"`;

/** Reads pg_settings (and probes unlisted enum spellings) through a superuser connection. */
export async function readSettings(config: ClientConfig): Promise<PgSettingRow[]> {
  const client = new Client(config);
  await client.connect();
  try {
    const rows = (await client.query(QUERY, [[...PRELOADED_EXTENSIONS]])).rows as Array<Record<string, unknown>>;
    const out: PgSettingRow[] = [];
    for (const r of rows) {
      const enumvals = (r['enumvals'] as string[] | null) ?? null;
      let hidden: string[] | null = null;
      if (r['vartype'] === 'enum' && r['context'] !== 'internal') {
        const listed = new Set((enumvals ?? []).map((v) => v.toLowerCase()));
        const accepted: string[] = [];
        for (const candidate of HIDDEN_CANDIDATES.filter((c) => !listed.has(c))) {
          // ALTER SYSTEM parses and checks the value without applying it; the server is thrown away after.
          const ok = await client.query(`ALTER SYSTEM SET ${client.escapeIdentifier(String(r['name']))} = ${client.escapeLiteral(candidate)}`).then(
            () => true,
            () => false,
          );
          if (ok) accepted.push(candidate);
        }
        hidden = accepted.length > 0 ? accepted : null;
      }
      // An internal parameter cannot be set at all; its bounds are build facts (server_version_num), left out
      // so that a new minor release does not change the data.
      const internal = r['context'] === 'internal';
      out.push({
        name: String(r['name']),
        vartype: String(r['vartype']),
        unit: (r['unit'] as string | null) ?? null,
        context: String(r['context']),
        min: internal ? null : ((r['min_val'] as string | null) ?? null),
        max: internal ? null : ((r['max_val'] as string | null) ?? null),
        enumvals: internal ? null : enumvals,
        hidden,
      });
    }
    return out;
  } finally {
    await client.end().catch(() => undefined);
  }
}


async function waitForSocket(config: ClientConfig, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`PostgreSQL 15 exited with ${child.exitCode}: ${log()}`);
    const client = new Client(config);
    const ok = await client.connect().then(
      () => true,
      () => false,
    );
    await client.end().catch(() => undefined);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`PostgreSQL 15 did not accept connections: ${log()}`);
}

/** The version of a Debian package: installed, and the candidate `apt-get install` would take (`apt-cache policy`). */
function debianVersions(pkg: string): { installed?: string; candidate?: string } {
  const text = execFileSync('apt-cache', ['policy', pkg], { stdio: 'pipe' }).toString();
  const field = (name: string): string | undefined => {
    const v = new RegExp(`^\\s*${name}:\\s*(\\S+)`, 'm').exec(text)?.[1];
    return v && v !== '(none)' ? v : undefined;
  };
  const installed = field('Installed');
  const candidate = field('Candidate');
  return { ...(installed ? { installed } : {}), ...(candidate ? { candidate } : {}) };
}

/**
 * The builds of Debian's PostgreSQL 15 to read: the installed one
 * ({@link DEBIAN_PG15_BIN}) and, when apt's candidate is another release
 * (bookworm has 15.18, bookworm-security 15.20), that one too, unpacked
 * from its package (`apt-get download`, `dpkg-deb -x`) under
 * `.cache/debian/` without installing it — so that two minor releases are
 * compared where the machine offers them. Each entry is a bin folder.
 * @throws when the candidate cannot be downloaded or unpacked
 */
export function debianPg15Builds(): string[] {
  const { installed, candidate } = debianVersions('postgresql-15');
  if (!candidate || candidate === installed) return [DEBIAN_PG15_BIN];
  const root = labPath('.cache', 'debian', `postgresql-15_${candidate.replace(/[^0-9A-Za-z.+~-]/g, '_')}`);
  const bin = join(root, 'usr', 'lib', 'postgresql', '15', 'bin');
  if (!existsSync(join(bin, 'postgres'))) {
    const download = mkdtempSync(join(tmpdir(), 'ps-deb-'));
    try {
      execFileSync('apt-get', ['download', `postgresql-15=${candidate}`], { cwd: download, stdio: 'pipe' });
      const deb = readdirSync(download).find((f) => f.endsWith('.deb'));
      if (!deb) throw new Error(`apt-get download postgresql-15=${candidate} wrote no package`);
      const unpacking = `${root}.partial`;
      rmSync(unpacking, { recursive: true, force: true });
      mkdirSync(unpacking, { recursive: true });
      execFileSync('dpkg-deb', ['-x', join(download, deb), unpacking], { stdio: 'pipe' });
      execFileSync('chmod', ['-R', 'a+rX', unpacking]); // the OS user postgres runs it
      rmSync(root, { recursive: true, force: true });
      renameSync(unpacking, root);
    } finally {
      rmSync(download, { recursive: true, force: true });
    }
  }
  return [DEBIAN_PG15_BIN, bin];
}

/** Runs `fn` with a superuser connection to Debian's PostgreSQL 15 (initdb + postgres as the OS user postgres, Unix socket only). */
async function withDebianPg15<T>(fn: (config: ClientConfig) => Promise<T>, binDir = DEBIAN_PG15_BIN): Promise<T> {
  const owner = postgresOsUser();
  if (!owner) throw new Error('there is no OS user "postgres" to run PostgreSQL 15 as');
  const { uid, gid } = owner;
  const dir = mkdtempSync(join(tmpdir(), 'ps-pg15-'));
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  let child: ChildProcess | undefined;
  try {
    execFileSync(join(binDir, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C'], {
      uid,
      gid,
      cwd: dir,
      stdio: 'pipe',
    });
    const port = await freePort();
    let log = '';
    const preload = `shared_preload_libraries=${PRELOADED_EXTENSIONS.join(',')}`;
    child = spawn(join(binDir, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=', '-c', 'fsync=off', '-c', preload], {
      uid,
      gid,
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (log += d));
    child.stderr!.on('data', (d) => (log += d));
    const config: ClientConfig = { host: dir, port, user: 'postgres', database: 'postgres' };
    await waitForSocket(config, child, () => log);
    return await fn(config);
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGINT'); // fast shutdown
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Starts a throwaway server of `major` (embedded for 14/16/17/18, Debian's
 * for 15: `debianBin`, default the installed one), runs `fn` with a
 * superuser connection config, and stops it.
 * @throws when the server cannot be started
 */
export async function withPgSettingsServer<T>(major: number, fn: (config: ClientConfig) => Promise<T>, debianBin = DEBIAN_PG15_BIN): Promise<T> {
  if (major === 15) return withDebianPg15(fn, debianBin);
  const server = await startLabServer({ version: major as LabVersion, conf: { fsync: false, shared_preload_libraries: PRELOADED_EXTENSIONS.join(',') } });
  try {
    return await fn({ host: '127.0.0.1', port: server.port, user: server.superuser, password: server.superuserPassword, database: 'postgres' });
  } finally {
    await server.stop();
  }
}

/** Reads the parameters of one major from a real server. @throws when the server cannot be started */
export async function collectPgSettings(major: number): Promise<PgSettingRow[]> {
  return withPgSettingsServer(major, readSettings);
}

/** Collapses "14,15,16,17,18" into "14-18" (consecutive runs joined with "-"). */
function majorsText(majors: number[]): string {
  const parts: string[] = [];
  let start = majors[0] as number;
  let prev = start;
  for (const m of [...majors.slice(1), Number.NaN]) {
    if (m === prev + 1) {
      prev = m;
      continue;
    }
    parts.push(start === prev ? String(start) : `${start}-${prev}`);
    start = m;
    prev = m;
  }
  return parts.join(',');
}

/**
 * Renders the data module: one row per distinct (name, description), with
 * the majors it holds for, leaving out the parameters minor releases added
 * (kept in src/core/pg-settings/minor-releases.ts), so that every minor
 * release of a major gives the same module. Deterministic: rows sorted by
 * name, then by first major.
 */
export function renderPgSettingsModule(byMajor: ReadonlyMap<number, PgSettingRow[]>): string {
  const majors = [...byMajor.keys()].sort((a, b) => a - b);
  const groups = new Map<string, { row: PgSettingRow; majors: number[] }>();
  for (const major of majors) {
    // Whether a server has these depends on its minor release: src/core/pg-settings/minor-releases.ts records them.
    for (const row of (byMajor.get(major) as PgSettingRow[]).filter((r) => !minorReleaseParameter(r.name))) {
      const key = JSON.stringify(row);
      const g = groups.get(key);
      if (g) g.majors.push(major);
      else groups.set(key, { row, majors: [major] });
    }
  }
  const sorted = [...groups.values()].sort((a, b) => (a.row.name < b.row.name ? -1 : a.row.name > b.row.name ? 1 : (a.majors[0] as number) - (b.majors[0] as number)));
  const lines = sorted.map(({ row, majors: ms }) => {
    const tuple = [row.name, majorsText(ms), row.vartype, row.unit, row.context, row.min, row.max, row.enumvals, row.hidden];
    while (tuple.length > 5 && tuple[tuple.length - 1] === null) tuple.pop();
    return `  ${JSON.stringify(tuple)},`;
  });
  return [
    '/**',
    ' * GENERATED by lab/gen-pg-settings.ts (`npm run gen:pg-settings`) from each',
    " * major's own `pg_settings`; do not edit. test/e2e/pg-settings.test.ts",
    ' * regenerates it from the real servers and compares.',
    ' *',
    ' * Row: [name, majors ("14-18", "14,16"), vartype, unit, context, min_val,',
    ' * max_val, enumvals, unlisted enum spellings the server accepts]; trailing',
    ' * nulls are left out.',
    ' */',
    '/* eslint-disable */',
    `export const PG_SETTINGS_MAJORS: readonly number[] = ${JSON.stringify(majors)};`,
    '',
    'export type PgSettingTuple = readonly [string, string, string, (string | null)?, string?, (string | null)?, (string | null)?, (readonly string[] | null)?, (readonly string[] | null)?];',
    '',
    'export const PG_SETTINGS_ROWS: readonly PgSettingTuple[] = [',
    ...lines,
    '];',
    '',
  ].join('\n');
}

/** Where the generated module lives. */
export const PG_SETTINGS_MODULE = labPath('src', 'core', 'pg-settings', 'data.ts');

/** Collects every major that can be started here. `skipped` lists the ones that could not (with why). */
export async function collectAll(): Promise<{ byMajor: Map<number, PgSettingRow[]>; skipped: string[] }> {
  const byMajor = new Map<number, PgSettingRow[]>();
  const skipped: string[] = [];
  for (const major of GENERATED_MAJORS) {
    if (major === 15 && !haveDebianPg15()) {
      skipped.push(`15: ${DEBIAN_PG15_BIN}/postgres is missing or not running as root (apt-get install postgresql-15)`);
      continue;
    }
    byMajor.set(major, await collectPgSettings(major));
  }
  return { byMajor, skipped };
}

async function main(): Promise<void> {
  const checkOnly = process.argv.includes('--check');
  const { byMajor, skipped } = await collectAll();
  for (const s of skipped) process.stderr.write(`skipped PostgreSQL ${s}\n`);
  if (skipped.length > 0) {
    process.stderr.write('not writing: every major must be available\n');
    process.exit(1);
  }
  const text = renderPgSettingsModule(byMajor);
  if (checkOnly) {
    const same = existsSync(PG_SETTINGS_MODULE) && readFileSync(PG_SETTINGS_MODULE, 'utf8') === text;
    process.stdout.write(same ? 'pg-settings data is up to date\n' : 'pg-settings data differs from the servers: run npm run gen:pg-settings\n');
    process.exit(same ? 0 : 1);
  }
  writeFileSync(PG_SETTINGS_MODULE, text);
  for (const [major, rows] of byMajor) process.stdout.write(`PostgreSQL ${major}: ${rows.length} parameters\n`);
  process.stdout.write(`wrote ${PG_SETTINGS_MODULE}\n`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
