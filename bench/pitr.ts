/**
 * Point-in-time recovery of the Hetzner server (pgBackRest), timed on the
 * server its user data sets up: the Debian 12 root of lab/hetzner-root.ts
 * (Debian's PostgreSQL 15 with the settings a default `HetznerPostgres`
 * renders, the volume an ext4 image on a loop device on this machine's disk)
 * with `pitr` pointing pgBackRest 2.45 at the lab's object store (versitygw
 * over HTTPS, its objects under the bench's data directory):
 *
 * 1. the migrate bench's data set (bench/migrate.ts: `events` with two
 *    indexes and `users`) of --migrate-mb megabytes loaded by the admin over
 *    TLS, with WAL archived as it is written;
 * 2. a full backup, by the command of the setup's systemd unit;
 * 3. writes after it (5 % more `events` rows, then 1 % of all rows
 *    updated), which recovery has to replay; the row counts read; the time
 *    T noted;
 * 4. more writes (rows added and deleted, users added), the WAL switched
 *    and archived;
 * 5. `postgres-strategies-pitr-restore T`, timed from its start until it
 *    returns (the server accepting connections, promoted): it stops the
 *    server, moves the data directory aside, restores the full backup
 *    and replays the archived WAL to T. The server's log splits the time:
 *    pgBackRest's restore (until PostgreSQL starts) and recovery (until it
 *    accepts connections);
 * 6. the row counts read again: they must be those at T; a write must
 *    succeed.
 *
 * No target: the figures say how long a PITR takes for this size. Load
 * average (1 min) of the machine before the load and at the restore is
 * printed with them.
 */
import { loadavg } from 'node:os';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { planHetzner } from '../src/hetzner/plan';
import { PITR_RESTORE_SCRIPT_PATH, pitrUnitPath } from '../src/hetzner/backup';
import { HetznerRootLab, canRunHetznerRoot, startHetznerRoot } from '../lab/hetzner-root';
import { psqlOk } from '../lab/psql';
import { run } from '../lab/run';
import { fillSource } from './migrate';

export interface PitrBenchReport {
  requestedMb: number;
  serverVersion: string;
  pgbackrestVersion: string;
  /** pg_database_size of the loaded database, bytes. */
  databaseBytes: number;
  loadSeconds: number;
  backupSeconds: number;
  /** The full backup: the cluster's size, and what is stored in the bucket (compressed, encrypted). */
  backupBytes: number;
  backupStoredBytes: number;
  /** The archived WAL in the bucket at the restore. */
  walStoredBytes: number;
  /** Rows written after the backup and before T (inserted + updated). */
  rowsBeforeT: number;
  /** The script's time from start to return, and its parts. */
  restore: { total: number; stop: number; pgbackrest: number; recovery: number };
  atT: string;
  restored: string;
  after: string;
  ok: boolean;
  load: { before: number; restore: number; end: number };
}

const COUNTS = "SELECT (SELECT count(*) FROM events) || ' events, max id ' || (SELECT max(id) FROM events) || ', ' || (SELECT count(*) FROM events WHERE kind = 'refund') || ' refunds, ' || (SELECT count(*) FROM users) || ' users';";

/** Timestamp (ms) of a server log line (Debian's log_line_prefix `%m [%p] `), when the log is in UTC. */
function logTime(line: string): number | undefined {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) (UTC|GMT) \[/.exec(line);
  return m ? Date.parse(`${m[1]}T${m[2]}Z`) : undefined;
}

/**
 * Runs the section.
 * @param mb the size of the data set in MB (docs/benchmark.md's figure is 1024).
 * @param dataDir where the object store keeps the repository.
 * @throws when the machine cannot run the root, or a step fails.
 */
export async function pitrSection(mb: number, dataDir: string, progress: (s: string) => void): Promise<PitrBenchReport> {
  if (!canRunHetznerRoot()) throw new Error('the pitr bench needs root, debootstrap, unshare, nsenter and psql (it runs the Hetzner server in a Debian root)');
  const load = { before: loadavg()[0] ?? 0, restore: 0, end: 0 };
  const plan = planHetzner({ serverType: 'cx23', serverName: 'db-bench' });
  // The cluster, its copy moved aside by the restore, WAL: sparse, so only what is written takes disk space.
  const lab: HetznerRootLab = await startHetznerRoot({ plan, volumeMb: 1024 + 6 * mb, pitr: { bucket: 'pitr', prefix: 'db-bench' }, storeParentDir: dataDir, log: (l) => progress(`  pitr bench: ${l}`) });
  const major = plan.postgresMajor;
  const asPostgres = (sql: string, database = 'postgres'): string => {
    const r = lab.inRoot(['runuser', '-u', 'postgres', '--', 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', database, '-c', sql]);
    if (r.code !== 0) throw new Error(`psql in the root: ${r.out}`);
    return r.out.trim();
  };
  const pgbackrest = (...args: string[]): string => {
    const r = lab.inRoot(['runuser', '-u', 'postgres', '--', 'pgbackrest', `--stanza=main`, ...args]);
    if (r.code !== 0) throw new Error(`pgbackrest ${args.join(' ')}: ${r.out}`);
    return r.out;
  };
  const app = lab.adminUrl('app');
  try {
    if (!/changed: took the first full backup \(pgBackRest\)/.test(lab.firstRun)) throw new Error(`the setup did not take the first full backup:\n${lab.firstRun}`);
    const serverVersion = asPostgres('SHOW server_version').split(' ')[0] ?? '';
    const pgbackrestVersion = lab.inRoot(['pgbackrest', 'version']).out.trim().replace(/^pgBackRest /, '');

    // 1. The data set, by the admin over TLS (WAL archived as it goes).
    const t0 = performance.now();
    const filled = await fillSource(lab, mb, progress);
    const loadSeconds = (performance.now() - t0) / 1000;
    progress(`  pitr bench: loaded ${(filled.bytes / 1e6).toFixed(0)} MB (${filled.rows} events) in ${loadSeconds.toFixed(0)} s`);

    // 2. A full backup, by the command of its systemd unit (as postgres).
    const unit = readFileSync(lab.rootPath(pitrUnitPath('full', 'service')), 'utf8');
    const execStart = /^ExecStart=(.*)$/m.exec(unit)![1]!.split(' ');
    const t1 = performance.now();
    const full = lab.inRoot(['runuser', '-u', 'postgres', '--', ...execStart]);
    if (full.code !== 0) throw new Error(`full backup: ${full.out}`);
    const backupSeconds = (performance.now() - t1) / 1000;
    const info = JSON.parse(pgbackrest('--output=json', 'info')) as Array<{ backup: Array<{ type: string; info: { size: number; repository: { delta: number } } }> }>;
    const last = info[0]!.backup.at(-1)!;
    if (last.type !== 'full') throw new Error(`the newest backup is a ${last.type} backup`);
    progress(`  pitr bench: full backup in ${backupSeconds.toFixed(0)} s (${(last.info.size / 1e6).toFixed(0)} MB, ${(last.info.repository.delta / 1e6).toFixed(0)} MB stored)`);

    // 3. Writes after the backup that recovery replays; the counts at T; T.
    const more = Math.max(1000, Math.round(filled.rows * 0.05));
    const insert = (from: number, n: number, kind: string): string =>
      `INSERT INTO events (user_id, at, amount, kind, body, doc)
       SELECT 1 + i % 10000, timestamptz '2026-06-01' + i * interval '1 second', i / 7.0, '${kind}', md5(i::text) || md5((i * 13)::text), jsonb_build_object('i', i)
         FROM generate_series(${from}, ${from + n - 1}) i;`;
    await psqlOk(app, `${insert(1, more, 'update')} UPDATE events SET kind = 'refund' WHERE id % 100 = 0;`);
    const atT = (await psqlOk(app, COUNTS)).stdout.trim();
    const t = asPostgres("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'");
    progress(`  pitr bench: T = ${t}: ${atT}`);
    await new Promise((r) => setTimeout(r, 1500));

    // 4. More writes, after T; their WAL reaches the repository.
    await psqlOk(app, `${insert(more + 1, more, 'logout')} DELETE FROM events WHERE id % 10 = 1; INSERT INTO users SELECT i, 'late' || i || '@example.com', now() FROM generate_series(10001, 10500) i;`);
    const after = (await psqlOk(app, COUNTS)).stdout.trim();
    const segment = asPostgres('SELECT pg_walfile_name(pg_switch_wal())');
    const archived = (): boolean => asPostgres(`SELECT coalesce(last_archived_wal, '') >= '${segment}' FROM pg_stat_archiver`) === 't';
    for (let i = 0; i < 1200 && !archived(); i++) await new Promise((r) => setTimeout(r, 250));
    if (!archived()) throw new Error(`WAL segment ${segment} was not archived within 300 s`);
    const du = await run('du', ['-sb', `${lab.store!.dataDir}/pitr/db-bench/archive`]);
    const walStoredBytes = Number(du.stdout.split('\t')[0]);

    // 5. The restore to T, timed; the server's log splits it.
    const logFile = lab.rootPath(`var/log/postgresql/postgresql-${major}-main.log`);
    const logOffset = existsSync(logFile) ? statSync(logFile).size : 0;
    load.restore = loadavg()[0] ?? 0;
    progress(`  pitr bench: ${PITR_RESTORE_SCRIPT_PATH} '${t}' (load average ${load.restore.toFixed(2)})`);
    const started = Date.now();
    let restoring = 0;
    let out = '';
    const script = lab.spawnInRoot([PITR_RESTORE_SCRIPT_PATH, t]);
    script.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (!restoring && out.includes('restoring to')) restoring = Date.now();
    });
    script.stderr!.on('data', (d: Buffer) => (out += d));
    const code = await new Promise<number | null>((resolve) => script.on('close', resolve));
    const ended = Date.now();
    if (code !== 0 || !out.includes('the server runs and takes writes')) throw new Error(`${PITR_RESTORE_SCRIPT_PATH} exited ${code}:\n${out}`);
    const log = readFileSync(logFile).subarray(logOffset).toString('utf8').split('\n');
    const at = (pattern: RegExp): number => {
      const line = log.find((l) => pattern.test(l));
      const time = line === undefined ? undefined : logTime(line);
      if (time === undefined) throw new Error(`the server log has no UTC-stamped line matching ${pattern}:\n${log.join('\n').slice(-3000)}`);
      return time;
    };
    const serverStart = at(/LOG: {2}starting PostgreSQL/);
    const ready = at(/LOG: {2}database system is ready to accept connections/);
    const restore = { total: (ended - started) / 1000, stop: (restoring - started) / 1000, pgbackrest: (serverStart - restoring) / 1000, recovery: (ready - serverStart) / 1000 };
    progress(`  pitr bench: restored in ${restore.total.toFixed(1)} s (stop ${restore.stop.toFixed(1)}, pgBackRest ${restore.pgbackrest.toFixed(1)}, recovery ${restore.recovery.toFixed(1)})`);

    // 6. The rows at T, and the server takes writes.
    const restored = (await psqlOk(app, COUNTS)).stdout.trim();
    await psqlOk(app, insert(10_000_000, 1, 'login'));
    load.end = loadavg()[0] ?? 0;
    return {
      requestedMb: mb,
      serverVersion,
      pgbackrestVersion,
      databaseBytes: filled.bytes,
      loadSeconds,
      backupSeconds,
      backupBytes: last.info.size,
      backupStoredBytes: last.info.repository.delta,
      walStoredBytes,
      rowsBeforeT: more + Math.floor((filled.rows + more) / 100),
      restore,
      atT,
      restored,
      after,
      ok: restored === atT && after !== atT,
      load,
    };
  } finally {
    await lab.stop();
  }
}

/** The section's lines (text and markdown) and whether the check failed. */
export function pitrLines(r: PitrBenchReport): { lines: string[]; md: string[]; failed: number } {
  const mb = (b: number): string => (b / 1e6).toFixed(0);
  const rows: Array<[string, string]> = [
    ['load of the data set (admin over TLS, WAL archived meanwhile)', `${r.loadSeconds.toFixed(0)} s`],
    [`full backup (\`pgbackrest --type=full backup\`): ${mb(r.backupBytes)} MB, ${mb(r.backupStoredBytes)} MB stored`, `${r.backupSeconds.toFixed(1)} s`],
    [`**PITR restore to T** (\`postgres-strategies-pitr-restore\`, until the server accepts connections)`, `**${r.restore.total.toFixed(1)} s**`],
    ['of which stop + data directory moved aside', `${r.restore.stop.toFixed(1)} s`],
    ['of which pgBackRest restore of the full backup', `${r.restore.pgbackrest.toFixed(1)} s`],
    [`of which recovery (WAL replay to T of ~${Math.round(r.rowsBeforeT).toLocaleString('en')} rows written after the backup, promote)`, `${r.restore.recovery.toFixed(1)} s`],
    [`archived WAL in the bucket`, `${mb(r.walStoredBytes)} MB`],
    [`rows after the restore = rows at T (${r.atT})`, r.ok ? '✓' : `✗ FAIL: ${r.restored}`],
  ];
  const head =
    `9. PITR of the Hetzner server: a ${mb(r.databaseBytes)} MB database (the migrate bench's data set) on Debian's PostgreSQL ${r.serverVersion} in the lab's Debian root, ` +
    `pgBackRest ${r.pgbackrestVersion} to versitygw over HTTPS on this machine; load average ${r.load.before.toFixed(1)} before, ${r.load.restore.toFixed(1)} at the restore`;
  return {
    lines: [head, ...rows.map(([k, v]) => `  ${k.replace(/[`*]/g, '').padEnd(100)} ${v.replace(/\*/g, '')}`)],
    md: [head.replace(/^9\. /, ''), '', '| step | figure |', '|:--|--:|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)],
    failed: r.ok ? 0 : 1,
  };
}
