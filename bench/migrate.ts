/**
 * `migrate` against the bare copy it replaces, on real servers: Debian's
 * PostgreSQL 15 (the source, with its pg_dump/pg_restore 15) → embedded
 * PostgreSQL 17 (the target), both on this machine with their data
 * directories under the bench's data directory (tmpfs by default).
 *
 * The source database is made once, of about the requested size
 * (`pg_database_size`): an `events` table (bigint key, a secondary index,
 * timestamptz, numeric, text, jsonb) and a small `users` table. Each run
 * copies it into a fresh, empty target database:
 *
 * - bare: `pg_dump --format=custom --compress=0 --no-owner --no-privileges
 *   | pg_restore --no-owner --no-privileges --dbname=…` (a shell pipe, the
 *   same archive format and options, nothing else);
 * - migrate: `migrateDatabase()` as the command runs it: the checks, the
 *   copy in one restore transaction, and the whole verification (row
 *   counts and content checksums of every table on both sides, sequences,
 *   large objects, extensions, ownership).
 *
 * Runs alternate (bare, migrate, migrate, bare, …); a CHECKPOINT on both
 * servers before each run; the target database is dropped after each.
 * Target: migrate ≤ 1.3× bare (medians).
 */
import { performance } from 'node:perf_hooks';
import { libpqUrl } from '../src/core/dsn';
import { quoteIdent } from '../src/core/identifiers';
import { planServer } from '../src/core/plan';
import { MigrateResult, migrateDatabase } from '../src/migrate/migrate';
import { psqlOk } from '../lab/psql';
import { run } from '../lab/run';
import { DEBIAN_PG15_BIN, LabServer, haveDebianPg15, startLabServer } from '../lab/server';
import { credentialsFor } from '../test/integration/support';
import { renderBootstrapSql } from '../src/core/render-sql';
import { median } from './stats';

export const MIGRATE_TARGET = 1.3;

/** One measured copy. */
export interface CopyRun {
  kind: 'bare' | 'migrate';
  seconds: number;
  /** migrate only: its own phases. */
  phases?: MigrateResult['seconds'];
  archiveBytes?: number;
}

export interface MigrateBenchReport {
  requestedMb: number;
  dataDir: string;
  sourceBytes: number;
  rows: number;
  sourceVersion: string;
  targetVersion: string;
  runs: CopyRun[];
  bare: number;
  migrate: number;
  ratio: number;
  phases: MigrateResult['seconds'];
  archiveBytes: number;
}

/** Starts a lab server whose data directory is under `dataDir`. */
export function startIn(dataDir: string, version: 15 | 17): Promise<LabServer> {
  // A bigger max_wal_size on both: a 1 GB restore otherwise checkpoints every few seconds.
  return startLabServer({ version, tls: false, conf: { max_wal_size: '4GB', fsync: false }, parentDir: dataDir });
}

/** Creates the `app` database (as the server's admin) and fills it to about `mb` megabytes; returns its size and row count. */
export async function fillSource(source: Pick<LabServer, 'admin'>, mb: number, progress: (s: string) => void): Promise<{ bytes: number; rows: number }> {
  const url = libpqUrl(source.admin('postgres'));
  await psqlOk(url, 'CREATE DATABASE app;');
  const app = libpqUrl(source.admin('app'));
  await psqlOk(
    app,
    `CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE, created timestamptz NOT NULL);
     INSERT INTO users SELECT i, 'user' || i || '@example.com', timestamptz '2026-01-01' + i * interval '1 minute' FROM generate_series(1, 10000) i;
     CREATE TABLE events (id bigserial PRIMARY KEY, user_id int NOT NULL REFERENCES users, at timestamptz NOT NULL, amount numeric(14, 4), kind text, body text, doc jsonb);
     CREATE INDEX events_user_at ON events (user_id, at);`,
  );
  // About 330 bytes per row with its indexes; filled in batches so that progress shows.
  const target = mb * 1_000_000;
  const batch = 250_000;
  let rows = 0;
  for (;;) {
    const size = Number((await psqlOk(app, 'SELECT pg_database_size(current_database());')).stdout.trim());
    if (size >= target) return { bytes: size, rows };
    await psqlOk(
      app,
      `INSERT INTO events (user_id, at, amount, kind, body, doc)
       SELECT 1 + i % 10000, timestamptz '2026-03-01' + i * interval '1 second', i / 7.0, (ARRAY['login', 'logout', 'update', 'purchase'])[1 + i % 4],
              md5(i::text) || md5((i * 31)::text) || md5((i * 17)::text), jsonb_build_object('i', i, 'ok', i % 3 = 0, 'tag', 't' || i % 100)
         FROM generate_series(${rows + 1}, ${rows + batch}) i;`,
    );
    rows += batch;
    progress(`  data set: filled to ${rows} rows`);
  }
}

async function checkpoint(...servers: LabServer[]): Promise<void> {
  await Promise.all(servers.map((s) => psqlOk(libpqUrl(s.admin()), 'CHECKPOINT;')));
}

/**
 * Runs the comparison.
 * @param mb the source database's size in MB (docs/benchmark.md's figure is 1024).
 * @param runs measured runs of each kind.
 */
export async function migrateSection(mb: number, runs: number, dataDir: string, progress: (s: string) => void): Promise<MigrateBenchReport> {
  if (!haveDebianPg15()) throw new Error(`the migrate bench needs Debian's PostgreSQL 15 as its source (${DEBIAN_PG15_BIN}; apt-get install postgresql-15, as root)`);
  const [source, target] = await Promise.all([startIn(dataDir, 15), startIn(dataDir, 17)]);
  try {
    const filled = await fillSource(source, mb, progress);
    await psqlOk(libpqUrl(source.admin('app')), 'VACUUM ANALYZE;');
    progress(`  migrate bench: source database ${(filled.bytes / 1e6).toFixed(0)} MB, ${filled.rows} events`);
    const sourceVersion = (await psqlOk(libpqUrl(source.admin()), 'SHOW server_version;')).stdout.trim();
    const targetVersion = (await psqlOk(libpqUrl(target.admin()), 'SHOW server_version;')).stdout.trim();
    // The instance's owner role on the target, as the library provisions it (owner shape).
    const plan = planServer([{ name: 'bench' }], { maxConnections: 100, reservedConnections: 3 }, { namePrefix: 'vw_' }).instances[0]!;
    const creds = credentialsFor([plan]);
    await psqlOk(libpqUrl(target.admin()), renderBootstrapSql([plan], { verifiers: creds.verifiers }));
    const role = plan.owner.name;
    const password = creds.passwords[role] as string;
    const from = libpqUrl(source.admin('app'));
    const out: CopyRun[] = [];
    const order: Array<'bare' | 'migrate'> = [];
    for (let i = 0; i < runs; i++) order.push(...((i % 2 === 0 ? ['bare', 'migrate'] : ['migrate', 'bare']) as Array<'bare' | 'migrate'>));
    for (const [i, kind] of order.entries()) {
      const database = `copy_${i}`;
      await psqlOk(libpqUrl(target.admin()), `CREATE DATABASE ${quoteIdent(database)} OWNER ${quoteIdent(role)};`);
      const to = libpqUrl({ ...target.admin(database), user: role, password });
      await checkpoint(source, target);
      const t0 = performance.now();
      let r: CopyRun;
      if (kind === 'bare') {
        const pipe = `${DEBIAN_PG15_BIN}/pg_dump --format=custom --compress=0 --no-owner --no-privileges "$FROM" | ${DEBIAN_PG15_BIN}/pg_restore --no-owner --no-privileges --exit-on-error --dbname="$TO"`;
        const done = await run('bash', ['-o', 'pipefail', '-c', pipe], { env: { PATH: process.env['PATH'], FROM: from, TO: to } });
        if (done.code !== 0) throw new Error(`bare pg_dump | pg_restore failed: ${done.stderr.trim().slice(-2000)}`);
        r = { kind, seconds: (performance.now() - t0) / 1000 };
      } else {
        const result = await migrateDatabase({ from, to });
        if (!result.ok) throw new Error(`migrate found ${result.verification.differences} difference(s)`);
        r = { kind, seconds: (performance.now() - t0) / 1000, phases: result.seconds, archiveBytes: result.copy?.bytes ?? 0 };
      }
      out.push(r);
      progress(`  migrate bench: run ${i + 1}/${order.length}  ${kind.padEnd(7)} ${r.seconds.toFixed(1).padStart(6)} s${r.phases ? `  (checks ${r.phases.checks} s, copy ${r.phases.copy} s, verify ${r.phases.verify} s)` : ''}`);
      await psqlOk(libpqUrl(target.admin()), `DROP DATABASE ${quoteIdent(database)};`);
    }
    const bare = median(out.filter((r) => r.kind === 'bare').map((r) => r.seconds));
    const ms = out.filter((r) => r.kind === 'migrate');
    const migrate = median(ms.map((r) => r.seconds));
    const phases = {
      checks: median(ms.map((r) => r.phases!.checks)),
      copy: median(ms.map((r) => r.phases!.copy)),
      verify: median(ms.map((r) => r.phases!.verify)),
      total: median(ms.map((r) => r.phases!.total)),
    };
    return {
      requestedMb: mb,
      dataDir,
      sourceBytes: filled.bytes,
      rows: filled.rows,
      sourceVersion,
      targetVersion,
      runs: out,
      bare,
      migrate,
      ratio: migrate / bare,
      phases,
      archiveBytes: median(ms.map((r) => r.archiveBytes ?? 0)),
    };
  } finally {
    await Promise.all([source.stop(), target.stop()]);
  }
}
