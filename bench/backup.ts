/**
 * `backup` and `restore` against the bare commands they replace, on the
 * data set the migrate bench makes (bench/migrate.ts: Debian's PostgreSQL 15
 * source, an embedded PostgreSQL 17 target) and a real S3-compatible store
 * (versitygw over HTTPS, lab/object-store.ts), all on this machine:
 *
 * - bare backup: `pg_dump --format=custom` (its default compression) of the
 *   database, its output uploaded as it comes (the same multipart upload
 *   through the same SDK client, nothing else);
 * - backup: `backupDatabase()` — the checks, the dump in an exported
 *   snapshot, SHA-256 of the stored bytes, the manifest's checksums of every
 *   table read in the same snapshot meanwhile, the manifest;
 * - bare restore: the object downloaded into `pg_restore --no-owner
 *   --no-privileges --exit-on-error` into an empty database;
 * - restore: `restoreDatabase()` — the checks, the download checked against
 *   the manifest into `pg_restore --single-transaction`, then the
 *   verification of every table, sequence and large object.
 *
 * Runs alternate (bare, ours, ours, bare, …) with a CHECKPOINT before each.
 * Target: ≤ 1.2× each (medians).
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { libpqUrl } from '../src/core/dsn';
import { quoteIdent } from '../src/core/identifiers';
import { planServer } from '../src/core/plan';
import { renderBootstrapSql } from '../src/core/render-sql';
import { backupDatabase } from '../src/backup/backup';
import { restoreDatabase } from '../src/backup/restore';
import { openStore, storeSettingsFromEnv } from '../src/backup/store';
import { startObjectStore } from '../lab/object-store';
import { psqlOk } from '../lab/psql';
import { DEBIAN_PG15_BIN, haveDebianPg15 } from '../lab/server';
import { credentialsFor } from '../test/integration/support';
import { fillSource, startIn } from './migrate';
import { median } from './stats';

export const BACKUP_TARGET = 1.2;

export interface BackupBenchReport {
  sourceBytes: number;
  rows: number;
  dumpBytes: number;
  runs: Array<{ kind: 'bare backup' | 'backup' | 'bare restore' | 'restore'; seconds: number }>;
  bareBackup: number;
  backup: number;
  bareRestore: number;
  restore: number;
  backupRatio: number;
  restoreRatio: number;
  /** restoreDatabase's own phases (medians). */
  restorePhases: { checks: number; restore: number; verify: number };
}

function child(command: string, args: string[], env: NodeJS.ProcessEnv, stdio: ['ignore' | 'pipe', 'pipe' | 'ignore', 'pipe']): { proc: ReturnType<typeof spawn>; done: Promise<void> } {
  const proc = spawn(command, args, { env, stdio });
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const done = new Promise<void>((resolve, reject) => proc.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${err.slice(-2000)}`)))));
  return { proc, done };
}

export async function backupSection(mb: number, runs: number, dataDir: string, progress: (s: string) => void): Promise<BackupBenchReport> {
  if (!haveDebianPg15()) throw new Error(`the backup bench needs Debian's PostgreSQL 15 as its source (${DEBIAN_PG15_BIN})`);
  const [store, source, target] = await Promise.all([startObjectStore({ buckets: ['bench'], parentDir: dataDir }), startIn(dataDir, 15), startIn(dataDir, 17)]);
  const savedEnv = { ...process.env };
  Object.assign(process.env, store.env());
  const client = openStore(storeSettingsFromEnv(process.env));
  try {
    const filled = await fillSource(source, mb, progress);
    await psqlOk(libpqUrl(source.admin('app')), 'VACUUM ANALYZE;');
    progress(`  backup bench: source database ${(filled.bytes / 1e6).toFixed(0)} MB`);
    const plan = planServer([{ name: 'bench' }], { maxConnections: 100, reservedConnections: 3 }, { namePrefix: 'vw_' }).instances[0]!;
    const creds = credentialsFor([plan]);
    await psqlOk(libpqUrl(target.admin()), renderBootstrapSql([plan], { verifiers: creds.verifiers }));
    const role = plan.owner.name;
    const from = libpqUrl(source.admin('app'));
    const checkpoint = (): Promise<unknown> => Promise.all([source, target].map((s) => psqlOk(libpqUrl(s.admin()), 'CHECKPOINT;')));
    const pgEnv = (url: string): NodeJS.ProcessEnv => ({ PATH: process.env['PATH'], PGDATABASE: url });
    const out: BackupBenchReport['runs'] = [];
    const phases: BackupBenchReport['restorePhases'][] = [];
    let dumpBytes = 0;
    let latest = '';
    const order = (a: string, b: string): string[] => Array.from({ length: runs }, (_, i) => (i % 2 === 0 ? [a, b] : [b, a])).flat();
    for (const [i, kind] of order('bare backup', 'backup').entries()) {
      await checkpoint();
      const t0 = performance.now();
      if (kind === 'bare backup') {
        const dump = child(`${DEBIAN_PG15_BIN}/pg_dump`, ['--format=custom', '--no-owner', '--no-privileges', `--dbname=${from}`], pgEnv(from), ['ignore', 'pipe', 'pipe']);
        await Promise.all([client.put('bench', `bare/${i}.dump`, dump.proc.stdout!), dump.done]);
      } else {
        const r = await backupDatabase({ from, to: 's3://bench/ours', store: client });
        dumpBytes = r.manifest.dump.bytes;
        latest = r.location;
      }
      const seconds = (performance.now() - t0) / 1000;
      out.push({ kind: kind as 'backup', seconds });
      progress(`  backup bench: ${kind.padEnd(12)} ${seconds.toFixed(1).padStart(6)} s`);
    }
    for (const [i, kind] of order('bare restore', 'restore').entries()) {
      const database = `restore_${i}`;
      await psqlOk(libpqUrl(target.admin()), `CREATE DATABASE ${quoteIdent(database)} OWNER ${quoteIdent(role)};`);
      const to = libpqUrl({ ...target.admin(database), user: role, password: creds.passwords[role] as string });
      await checkpoint();
      const t0 = performance.now();
      if (kind === 'bare restore') {
        const { body } = await client.get('bench', 'bare/0.dump');
        const restore = child(`${DEBIAN_PG15_BIN}/pg_restore`, ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${to}`], pgEnv(to), ['pipe', 'ignore', 'pipe']);
        body.pipe(restore.proc.stdin!);
        await restore.done;
      } else {
        const r = await restoreDatabase({ from: latest, to, store: client });
        if (!r.ok) throw new Error(`restore found ${r.verification.differences} difference(s)`);
        phases.push(r.seconds);
      }
      const seconds = (performance.now() - t0) / 1000;
      out.push({ kind: kind as 'restore', seconds });
      progress(`  backup bench: ${kind.padEnd(12)} ${seconds.toFixed(1).padStart(6)} s`);
      await psqlOk(libpqUrl(target.admin()), `DROP DATABASE ${quoteIdent(database)};`);
    }
    const med = (k: string): number => median(out.filter((r) => r.kind === k).map((r) => r.seconds));
    return {
      sourceBytes: filled.bytes,
      rows: filled.rows,
      dumpBytes,
      runs: out,
      bareBackup: med('bare backup'),
      backup: med('backup'),
      bareRestore: med('bare restore'),
      restore: med('restore'),
      backupRatio: med('backup') / med('bare backup'),
      restoreRatio: med('restore') / med('bare restore'),
      restorePhases: { checks: median(phases.map((p) => p.checks)), restore: median(phases.map((p) => p.restore)), verify: median(phases.map((p) => p.verify)) },
    };
  } finally {
    client.close();
    process.env = savedEnv;
    await Promise.all([store.stop(), source.stop(), target.stop()]);
  }
}

/** The section's lines (text and markdown) and whether a target was missed. */
export function backupLines(r: BackupBenchReport): { lines: string[]; md: string[]; failed: number } {
  const ok = (ratio: number): string => (ratio <= BACKUP_TARGET ? '✓' : '✗ MISSED');
  const rows: Array<[string, string]> = [
    ['bare `pg_dump -Fc` → multipart upload', r.bareBackup.toFixed(1)],
    ['`postgres-strategies backup` (snapshot, SHA-256, manifest checksums)', r.backup.toFixed(1)],
    [`**backup ratio** (target ≤ ${BACKUP_TARGET}×)`, `**${r.backupRatio.toFixed(2)}×** ${ok(r.backupRatio)}`],
    ['bare download → `pg_restore`', r.bareRestore.toFixed(1)],
    ['`postgres-strategies restore` (checked download, one transaction, verification)', r.restore.toFixed(1)],
    [`**restore ratio** (target ≤ ${BACKUP_TARGET}×)`, `**${r.restoreRatio.toFixed(2)}×** ${ok(r.restoreRatio)}`],
    ['of which checks / restore / verification', `${r.restorePhases.checks} / ${r.restorePhases.restore} / ${r.restorePhases.verify}`],
  ];
  const head = `7. backup and restore: the ${(r.sourceBytes / 1e6).toFixed(0)} MB database of the migrate bench (PostgreSQL 15 → 17), dump ${(r.dumpBytes / 1e6).toFixed(0)} MB, versitygw over HTTPS on this machine (median of ${r.runs.length / 4} runs each, alternating)`;
  return {
    lines: [head, ...rows.map(([k, v]) => `  ${k.replace(/[`*]/g, '').padEnd(82)} ${v.replace(/\*/g, '')}`)],
    md: [head.replace(/^7\. /, ''), '', '| step | time (s) |', '|:--|--:|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)],
    failed: (r.backupRatio <= BACKUP_TARGET ? 0 : 1) + (r.restoreRatio <= BACKUP_TARGET ? 0 : 1),
  };
}
