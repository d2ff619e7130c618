/**
 * The real-engine bench (`npm run bench -- --only engine`): `pulumi up` of
 * `SharedPostgres` on `ExternalPostgres` at 10 / 50 / 100 instances, with
 * the CLI, language host and plugins `npm run engine` builds, against an
 * embedded PostgreSQL 17 with TLS verify-full and a CREATEDB CREATEROLE
 * admin (what managed services give), next to the hand-written program
 * declaring the same resources with the same provider settings
 * (bench/programs.ts). Both are the Pulumi project bench/engine-program,
 * configured by `bench:program` and `bench:instances`.
 *
 * Per run, a fresh server and a fresh stack: the wall time of `pulumi up`,
 * the peak memory of the whole process tree (CLI, language host, program,
 * plugins: the sum of their RSS, sampled every 100 ms), and the most
 * sessions the admin held at once; then a no-op `pulumi preview` and a
 * `pulumi refresh`. Targets: `up` ≤ 1.2× the hand-written program's time;
 * the no-op preview of 50 instances < 15 s.
 *
 * Information only: the hand-written program without the admin provider's
 * lanes ("unchained", how the components were before issue 12) at 50
 * instances, stopped after a time limit: it hangs.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { ExampleStack, PulumiResult, buildEngine, engineSandbox } from '../lab/engine';
import { sampleConnections, withPg } from '../lab/inspect';
import { LabServer, labPath, startLabServer } from '../lab/server';
import { AnyProgramName, BENCH_MAX_CONNECTIONS, adminShare, lanesOf } from './programs';
import { markdownTable, median, num, textTable, times, verdict } from './stats';

export const ENGINE_UP_TARGET = 1.2;
export const ENGINE_PREVIEW_TARGET_MS = 15_000;
const PREVIEW_TARGET_SIZE = 50;
/** How long the unchained program may run before it is called hung. */
const HANG_LIMIT_MS = 5 * 60_000;

/** One measured run of one program at one size. */
export interface EngineRun {
  program: AnyProgramName;
  instances: number;
  /** `pulumi up` wall time, ms (the time limit when it hung). */
  upMs: number;
  /** Whether `up` was stopped at the time limit. */
  hung: boolean;
  /** Peak of the summed RSS of the pulumi process tree during `up`, MiB. */
  peakRssMiB: number;
  /** Most sessions the admin held at once during `up`. */
  peakAdminSessions: number;
  /** No-op `pulumi preview --expect-no-changes`, ms. */
  previewMs?: number;
  /** `pulumi refresh`, ms. */
  refreshMs?: number;
}

/** The sum of the RSS of `pid` and all its descendants, MiB (Linux /proc). */
function treeRssMiB(pid: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ... ; comm may hold spaces and parentheses
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      rss.set(Number(entry), kb);
    } catch {
      // the process ended while being read
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    total += rss.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total / 1024;
}

/** Runs `pulumi up` of the stack while sampling the process tree's memory. */
async function timedUp(stack: ExampleStack, timeoutMs: number): Promise<{ result: PulumiResult; peakRssMiB: number }> {
  let peak = 0;
  let pid: number | undefined;
  const timer = setInterval(() => {
    pid ??= findPulumiPid(stack.stack);
    if (pid !== undefined) peak = Math.max(peak, treeRssMiB(pid));
  }, 100);
  try {
    const result = await stack.run(['up', '--yes', '--skip-preview'], { timeoutMs });
    return { result, peakRssMiB: peak };
  } finally {
    clearInterval(timer);
  }
}

/** The pid of the running `pulumi up … --stack <stack>`. */
function findPulumiPid(stackName: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('pulumi') && cmd.includes('up') && cmd.includes(stackName)) return Number(entry);
    } catch {
      // gone
    }
  }
  return undefined;
}

/** A CREATEDB CREATEROLE admin on the server. */
async function deployer(server: LabServer): Promise<{ user: string; password: string }> {
  const password = 'bench-deployer-password';
  await withPg(server.admin(), (c) => c.query(`CREATE ROLE deployer LOGIN CREATEDB CREATEROLE PASSWORD '${password}'`));
  return { user: 'deployer', password };
}

async function oneRun(binDir: string, program: AnyProgramName, instances: number, options: { noop: boolean; timeoutMs: number }): Promise<EngineRun> {
  const server = await startLabServer({ version: 17, tls: true, conf: { fsync: false, max_connections: 100 } });
  const sandbox = engineSandbox(binDir);
  // the bench program is its own Pulumi project
  const stack = new ExampleStack('shared', `bench-${program}-${instances}`, sandbox, labPath('bench', 'engine-program'));
  try {
    const admin = await deployer(server);
    await stack.init();
    await stack.config(
      {
        program,
        instances: String(instances),
        host: server.host,
        port: String(server.port),
        adminUser: admin.user,
        adminPassword: { value: admin.password, secret: true },
        sslrootcert: server.caFile as string,
      },
      'bench',
    );
    const sessions = await sampleConnections(server.admin(), admin.user, 50);
    const { result, peakRssMiB } = await timedUp(stack, options.timeoutMs);
    const { peak } = await sessions.stop();
    const hung = result.code === -1;
    if (result.code !== 0 && !hung) throw new Error(`pulumi up (${program}, ${instances}) exited ${result.code}:\n${result.stdout.slice(-3000)}`);
    const run: EngineRun = { program, instances, upMs: result.ms, hung, peakRssMiB, peakAdminSessions: peak };
    if (options.noop && !hung) {
      const preview = await stack.run(['preview', '--expect-no-changes']);
      if (preview.code !== 0) throw new Error(`the no-op preview (${program}, ${instances}) exited ${preview.code}:\n${preview.stdout.slice(-3000)}`);
      run.previewMs = preview.ms;
      const refresh = await stack.run(['refresh', '--yes', '--skip-preview']);
      if (refresh.code !== 0) throw new Error(`refresh (${program}, ${instances}) exited ${refresh.code}:\n${refresh.stdout.slice(-3000)}`);
      run.refreshMs = refresh.ms;
    }
    return run;
  } finally {
    await stack.remove({ destroy: false }).catch(() => undefined);
    sandbox.remove();
    await server.stop();
  }
}

/** Sizes and repetitions of the engine bench. */
export interface EnginePlan {
  /** Instance counts, each with its number of runs per program (the median is reported). */
  sizes: Array<{ n: number; runs: number }>;
  /** Also run the unchained hand-written program once at 50 instances (it hangs). */
  unchained: boolean;
}

/** The section's printed lines, markdown, and how many targets were missed. */
export interface EngineSection {
  lines: string[];
  md: string[];
  failed: number;
}

/** Runs the engine bench and reports it. */
export async function engineSection(plan: EnginePlan, progress: (s: string) => void): Promise<EngineSection> {
  const binDir = await buildEngine();
  const runs: EngineRun[] = [];
  for (const { n, runs: count } of plan.sizes) {
    for (let i = 0; i < count; i++) {
      // alternate the order, so neither program always runs on a warmer machine
      const order: AnyProgramName[] = i % 2 === 0 ? ['component', 'handwritten'] : ['handwritten', 'component'];
      for (const program of order) {
        progress(`[bench engine] ${program} × ${n} (run ${i + 1}/${count})`);
        runs.push(await oneRun(binDir, program, n, { noop: true, timeoutMs: 30 * 60_000 }));
      }
    }
  }
  if (plan.unchained) {
    progress(`[bench engine] unchained hand-written × ${PREVIEW_TARGET_SIZE} (stopped after ${HANG_LIMIT_MS / 1000} s if it hangs)`);
    runs.push(await oneRun(binDir, 'unchained', PREVIEW_TARGET_SIZE, { noop: false, timeoutMs: HANG_LIMIT_MS }));
  }
  return engineReport(runs);
}

function engineReport(runs: EngineRun[]): EngineSection {
  const lines: string[] = [];
  const md: string[] = [];
  let failed = 0;
  const of = (program: AnyProgramName, n: number): EngineRun[] => runs.filter((r) => r.program === program && r.instances === n);
  const med = (rs: EngineRun[], pick: (r: EngineRun) => number | undefined): number => median(rs.map(pick).filter((v): v is number => v !== undefined));
  const sizes = [...new Set(runs.filter((r) => r.program === 'component').map((r) => r.instances))];
  const rows: string[][] = [];
  for (const n of sizes) {
    const c = of('component', n);
    const h = of('handwritten', n);
    const ratio = med(c, (r) => r.upMs) / med(h, (r) => r.upMs);
    const v = verdict(ratio, ENGINE_UP_TARGET);
    if (v === 'FAIL') failed++;
    const preview = med(c, (r) => r.previewMs);
    const pv = n === PREVIEW_TARGET_SIZE ? (preview < ENGINE_PREVIEW_TARGET_MS ? 'PASS' : 'FAIL') : '';
    if (pv === 'FAIL') failed++;
    rows.push([String(n), 'SharedPostgres', num(med(c, (r) => r.upMs) / 1000, 1), num(med(c, (r) => r.peakRssMiB)), String(Math.max(...c.map((r) => r.peakAdminSessions))), num(preview / 1000, 1) + (pv ? ` ${pv}` : ''), num(med(c, (r) => r.refreshMs) / 1000, 1)]);
    rows.push(['', 'hand-written', num(med(h, (r) => r.upMs) / 1000, 1), num(med(h, (r) => r.peakRssMiB)), String(Math.max(...h.map((r) => r.peakAdminSessions))), num(med(h, (r) => r.previewMs) / 1000, 1), num(med(h, (r) => r.refreshMs) / 1000, 1)]);
    rows.push(['', `ratio (target ≤ ${ENGINE_UP_TARGET}×)`, `${times(ratio)} ${v}`, times(med(c, (r) => r.peakRssMiB) / med(h, (r) => r.peakRssMiB)), '', '', '']);
  }
  const header = ['instances', 'program', 'up (s)', 'peak RSS (MiB)', 'admin sessions', 'no-op preview (s)', 'refresh (s)'];
  lines.push(
    `5. Real engine: pulumi up of ${sizes.join(' / ')} instances on embedded PostgreSQL 17 (TLS verify-full, CREATEDB CREATEROLE admin, admin share ${adminShare(BENCH_MAX_CONNECTIONS)}: ${lanesOf(BENCH_MAX_CONNECTIONS)} instances at once), ` +
      `a fresh server and stack per run, median of ${sizes.map((n) => of('component', n).length).join(' / ')} runs`,
    textTable(header, rows, 'llrrrrr'),
  );
  md.push(
    `Real engine (CLI ${'v' + (process.env['npm_package_dependencies__pulumi_pulumi'] ?? '3.248')}, built by \`npm run engine\`): \`pulumi up\` of \`ExternalPostgres\` + \`SharedPostgres\` against the hand-written program declaring the same resources with the same provider settings, on embedded PostgreSQL 17 with TLS verify-full and a CREATEDB CREATEROLE admin (the admin's default share for the declared max_connections ${BENCH_MAX_CONNECTIONS}: ${adminShare(BENCH_MAX_CONNECTIONS)}, so ${lanesOf(BENCH_MAX_CONNECTIONS)} instances at once; the provider's pool is max_connections); a fresh server and stack per run, median of ${sizes.map((n) => of('component', n).length).join(' / ')} runs at ${sizes.join(' / ')} instances; peak RSS is the sum over the CLI, language host, program and plugins; admin sessions is the most the admin held at once (sampled from pg_stat_activity):`,
    '',
    markdownTable(header, rows, 'llrrrrr'),
  );
  const unchained = runs.find((r) => r.program === 'unchained');
  if (unchained) {
    const text = unchained.hung
      ? `hand-written without the lanes (unchained), ${unchained.instances} instances: HUNG — stopped after ${num(unchained.upMs / 1000)} s with ${unchained.peakAdminSessions} admin sessions open (issue 12 defect 3; information)`
      : `hand-written without the lanes (unchained), ${unchained.instances} instances: finished in ${num(unchained.upMs / 1000, 1)} s with up to ${unchained.peakAdminSessions} admin sessions (information)`;
    lines.push(`   ${text}`);
    md.push('', `${text.charAt(0).toUpperCase()}${text.slice(1)}.`);
  }
  return { lines, md, failed };
}
