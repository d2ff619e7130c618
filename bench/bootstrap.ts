/**
 * Real bootstrap time on the embedded PostgreSQL 17 (lab/server.ts): our
 * rendered idempotent script for N instances, run by psql, against the
 * floor — a psql script with nothing but `CREATE ROLE … LOGIN PASSWORD
 * '<verifier>'` and `CREATE DATABASE … OWNER …` for the same names and
 * verifiers. After each run of our script it is run again (a no-op run).
 *
 * - Every run gets a fresh server: CREATE DATABASE's cost depends on the
 *   cluster's state.
 * - No TLS, so the figures are SQL rather than handshakes.
 * - By default the data directory is on tmpfs, so they are SQL rather than
 *   this machine's disk: each CREATE DATABASE writes the template's ~7 MB
 *   through the WAL, and on this VM's disk the same script took 4 s or 30 s
 *   depending on the writeback the previous run left behind.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { libpqUrl } from '../src/core/dsn';
import { quoteIdent, quoteLiteral } from '../src/core/identifiers';
import { planServer } from '../src/core/plan';
import { renderBootstrapSql } from '../src/core/render-sql';
import { scramSha256Verifier } from '../src/core/scram';
import { psql, psqlOk } from '../lab/psql';
import { LabServer, startLabServer } from '../lab/server';
import { instanceNames } from './programs';

export type BootstrapKind = 'ours' | 'floor';

export interface BootstrapRun {
  kind: BootstrapKind;
  /** Wall time of the psql run (process start to exit), ms. */
  ms: number;
  /** Our script only: the second run on the same server, ms. */
  secondMs?: number;
  /** Our script only: changes the first run reported. */
  changes?: number;
  /** Our script only: changes the second run reported (must be 0). */
  secondChanges?: number;
  serverVersion: string;
}

export interface BootstrapScripts {
  ours: string;
  floor: string;
}

/** The two scripts for n instances (vw_i0 … vw_i<n-1>), with the same SCRAM verifiers. */
export function bootstrapScripts(n: number): BootstrapScripts {
  // The plan's budget needs only numbers: nothing connects as these roles.
  const plan = planServer(
    instanceNames(n).map((name) => ({ name })),
    { maxConnections: 5000, reservedConnections: 3 },
    { namePrefix: 'vw_', adminUser: 'postgres' },
  );
  const verifiers: Record<string, string> = {};
  for (const role of plan.instances.flatMap((p) => p.roles).filter((r) => r.login)) {
    verifiers[role.name] = scramSha256Verifier(`bench-password-${role.name}`, Buffer.from(role.name.padEnd(16, '.')));
  }
  const ours = renderBootstrapSql(plan.instances, { verifiers });
  const floor = [
    '\\set ON_ERROR_STOP on',
    ...plan.instances.flatMap((p) => [
      `CREATE ROLE ${quoteIdent(p.owner.name)} LOGIN PASSWORD ${quoteLiteral(verifiers[p.owner.name] as string)};`,
      `CREATE DATABASE ${quoteIdent(p.database)} OWNER ${quoteIdent(p.owner.name)};`,
    ]),
    '',
  ].join('\n');
  return { ours, floor };
}

async function countObjects(url: string): Promise<{ roles: number; databases: number }> {
  const r = await psqlOk(
    url,
    "SELECT (SELECT count(*) FROM pg_roles WHERE rolname ~ '^vw_i[0-9]+$') || ' ' || (SELECT count(*) FROM pg_database WHERE datname ~ '^vw_i[0-9]+$')",
  );
  const [roles, databases] = r.stdout.trim().split(' ').map(Number);
  return { roles: roles as number, databases: databases as number };
}

/** Where the servers' data directories go: /dev/shm (tmpfs) when it is usable, else the OS temp directory. */
export function defaultDataDir(): string {
  try {
    if (statSync('/dev/shm').isDirectory()) {
      accessSync('/dev/shm', constants.W_OK);
      return '/dev/shm';
    }
  } catch {
    // no tmpfs: fall back
  }
  return tmpdir();
}

/** Starts a lab server whose data directory is under `dataDir` (lab/server.ts makes it in os.tmpdir()). */
async function startServer(dataDir: string): Promise<LabServer> {
  const saved = process.env['TMPDIR'];
  process.env['TMPDIR'] = dataDir;
  try {
    return await startLabServer({ version: 17, tls: false });
  } finally {
    if (saved === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = saved;
  }
}

/** One run on a fresh server. @throws when a script fails or leaves the wrong objects. */
export async function bootstrapRun(kind: BootstrapKind, n: number, scripts: BootstrapScripts, dataDir: string): Promise<BootstrapRun> {
  let lab: LabServer | undefined;
  try {
    lab = await startServer(dataDir);
    const url = libpqUrl(lab.admin());
    const serverVersion = (await psqlOk(url, 'SHOW server_version')).stdout.trim();
    const t0 = performance.now();
    const first = await psql(url, kind === 'ours' ? scripts.ours : scripts.floor);
    const ms = performance.now() - t0;
    if (first.code !== 0) throw new Error(`${kind} bootstrap failed: ${first.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const counted = await countObjects(url);
    if (counted.roles !== n || counted.databases !== n) {
      throw new Error(`${kind} bootstrap left ${counted.roles} roles and ${counted.databases} databases, expected ${n} each`);
    }
    if (kind === 'floor') return { kind, ms, serverVersion };
    const t1 = performance.now();
    const second = await psql(url, scripts.ours);
    const secondMs = performance.now() - t1;
    if (second.code !== 0) throw new Error(`second bootstrap run failed: ${second.stderr.trim()}`);
    return { kind, ms, secondMs, changes: first.changes.length, secondChanges: second.changes.length, serverVersion };
  } finally {
    if (lab) await lab.stop();
  }
}
