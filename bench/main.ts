/**
 * `npm run bench`: what the components cost.
 *
 * 1. Pulumi mock runtime, 10 / 100 / 1000 app instances: evaluation time and
 *    peak memory of `SharedPostgres` (with `ExternalPostgres`) next to a
 *    hand-written program declaring the same `@pulumi/postgresql` and
 *    `@pulumi/random` resources (bench/programs.ts). Target: ≤ 1.25× time and
 *    peak RSS. Each run is a fresh process (bench/mock-run.ts), one at a
 *    time; runs alternate between the programs (9 / 7 / 3 runs each), and
 *    the ratio is that of the medians. The median of the per-pair ratios
 *    (each component run against the hand-written run next to it) is printed
 *    too: on a noisy machine it shows whether the ratio is stable.
 * 2. The resource graph: resources per instance, and the longest dependency
 *    chain. Target: one instance's chain at every size (no dependency
 *    between instances in the state; the lanes that bound how many
 *    provision at once are the program's turns).
 * 3. Real bootstrap of 100 instances on the embedded PostgreSQL 17: our
 *    idempotent psql script against the bare CREATE ROLE + CREATE DATABASE
 *    floor, a fresh server per run, 3 runs each after one warm-up run
 *    (bench/bootstrap.ts).
 *    Target: ≤ 1.3×.
 * 4. `require()` of the package and each subpath in a fresh process, through
 *    its exports map, against `require('@pulumi/pulumi')` alone
 *    (bench/require.ts). Target: ≤ 100 ms more.
 * 5. The real engine (bench/engine.ts): `pulumi up`, a no-op preview and a
 *    refresh of `SharedPostgres` at 10 / 50 / 100 instances (median of 3 / 3 /
 *    1 runs) against the hand-written program, on embedded PostgreSQL 17, and
 *    the hand-written program without lanes at 50 (it hangs; stopped after
 *    300 s). Targets: up ≤ 1.2×,
 *    no-op preview of 50 instances < 15 s.
 * 6. `migrate` of a database of --migrate-mb megabytes (default 256; the
 *    figure in docs/benchmark.md is 1024) from Debian's PostgreSQL 15 to embedded 17,
 *    verification included, against a bare `pg_dump | pg_restore` of the
 *    same data (bench/migrate.ts). Target: ≤ 1.3×.
 *
 * 7. The local strategy on a real Docker engine (bench/docker.ts): `pulumi
 *    up` of examples/local until Kratos is ready, against `docker compose up
 *    -d --wait` of the same containers and images; a no-op `pulumi up`.
 *    Target: ≤ 1.3×.
 * 8. Password rotation of 50 instances in one `pulumi up` on the real engine
 *    (bench/rotation.ts): time and the admin's peak sessions. Target: inside
 *    the admin's share.
 *
 * 9. Point-in-time recovery of the Hetzner server (bench/pitr.ts): the
 *    migrate bench's data set of --migrate-mb megabytes in the Debian root
 *    its user data sets up (lab/hetzner-root.ts), a full pgBackRest backup
 *    to the lab's object store, writes, a time T, more writes; the time of
 *    `postgres-strategies-pitr-restore T` until the server accepts
 *    connections (pgBackRest restore and recovery apart), and the row counts
 *    after it against those at T. No target; skipped (with a line saying
 *    so) where the root cannot run.
 *
 * Options: --quick (fewer runs, no 1000; engine at 10 and 50 only; migrate 1 run each), --markdown (also print the docs/benchmark.md
 * tables), --only mock|bootstrap|require|engine|migrate|docker|backup|rotation|pitr, --data-dir, --migrate-mb. Exit code 1 when a target is missed or the
 * programs do not declare the same resources; 2 on an error.
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { havePsql } from '../lab/psql';
import { run } from '../lab/run';
import { BootstrapRun, bootstrapRun, bootstrapScripts, defaultDataDir } from './bootstrap';
import { DockerSection, dockerSection } from './docker';
import { EngineSection, engineSection } from './engine';
import { rotationSection } from './rotation';
import type { MockRunResult } from './mock-run';
import { LANES, ProgramName } from './programs';
import { MIGRATE_TARGET, MigrateBenchReport, migrateSection } from './migrate';
import { backupLines, backupSection } from './backup';
import { pitrLines, pitrSection } from './pitr';
import { canRunHetznerRoot } from '../lab/hetzner-root';
import { RequireReport, requireLines, requireSection } from './require';
import { markdownTable, max, median, min, num, textTable, times, verdict } from './stats';

const MOCK_TARGET = 1.25;
const BOOTSTRAP_TARGET = 1.3;
const BOOTSTRAP_INSTANCES = 100;

const USAGE = `Usage: npm run bench -- [options]
  --quick            3 runs for 10 and 100 instances, no 1000, 1 bootstrap run each, 3 require runs
  --markdown         also print the tables as markdown (for docs/benchmark.md)
  --only <section>   mock, bootstrap, require, engine, migrate, backup, docker, rotation or pitr
  --migrate-mb <n>   size of the migrate bench's source database in MB, also used by backup and pitr
                     (default 256; docs/benchmark.md's figure: 1024)
  --data-dir <dir>   where the bootstrap servers keep their data (default: /dev/shm when
                     usable, so that disk writeback does not swamp the SQL being measured)
  --help`;

const LABEL: Record<ProgramName, string> = {
  component: 'SharedPostgres',
  handwritten: 'hand-written',
  plain: 'hand-written, plain password (info)',
};

interface Plan {
  sizes: Array<{ n: number; runs: number; plainRuns: number }>;
  bootstrapRuns: number;
  requireRuns: number;
  migrateRuns: number;
  migrateMb: number;
  dataDir: string;
}

function progress(text: string): void {
  process.stderr.write(`${text}\n`);
}

async function mockRun(program: ProgramName, n: number): Promise<MockRunResult> {
  const r = await run(process.execPath, ['--expose-gc', join(__dirname, 'mock-run.js'), '--program', program, '--instances', String(n)]);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !line.startsWith('{')) {
    throw new Error(`mock run ${program} × ${n} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return JSON.parse(line) as MockRunResult;
}

/** A program's runs at one size: the medians of the measured figures, and what every run shares. */
type ProgramSummary = Omit<MockRunResult, 'instances' | 'untilIdleMs' | 'cpuMs' | 'constructMs'> & {
  runs: number;
  msMin: number;
  msMax: number;
};

function summarize(program: ProgramName, results: MockRunResult[]): ProgramSummary {
  const first = results[0] as MockRunResult;
  for (const r of results) {
    if (r.signature !== first.signature || r.longestChain !== first.longestChain || r.exportsHash !== first.exportsHash) {
      throw new Error(`${program}: runs of the same program disagree on the resource graph or exports`);
    }
  }
  const ms = results.map((r) => r.ms);
  return {
    program,
    runs: results.length,
    ms: median(ms),
    msMin: min(ms),
    msMax: max(ms),
    peakRssMiB: median(results.map((r) => r.peakRssMiB)),
    baseRssMiB: median(results.map((r) => r.baseRssMiB)),
    heapUsedMiB: median(results.map((r) => r.heapUsedMiB)),
    resources: first.resources,
    resourcesPerInstance: first.resourcesPerInstance,
    longestChain: first.longestChain,
    chain: first.chain,
    signature: first.signature,
    exportsHash: first.exportsHash,
    exportsSecret: first.exportsSecret,
  };
}

interface SizeReport {
  n: number;
  programs: Partial<Record<ProgramName, ProgramSummary>>;
  timeRatio: number;
  /** Median of component/hand-written over the runs made next to each other. */
  pairedTimeRatio: number;
  rssRatio: number;
  heapRatio: number;
  sameResources: boolean;
  sameExports: boolean;
}

async function mockSection(plan: Plan): Promise<SizeReport[]> {
  const reports: SizeReport[] = [];
  for (const { n, runs, plainRuns } of plan.sizes) {
    const results: Record<ProgramName, MockRunResult[]> = { component: [], handwritten: [], plain: [] };
    for (let i = 0; i < runs; i++) {
      // Alternate the order so that drift (thermal, caches) spreads over both.
      const order: ProgramName[] = i % 2 === 0 ? ['component', 'handwritten'] : ['handwritten', 'component'];
      if (i < plainRuns) order.push('plain');
      for (const program of order) {
        const r = await mockRun(program, n);
        results[program].push(r);
        progress(`  mock ${String(n).padStart(4)} instances  run ${i + 1}/${runs}  ${LABEL[program].padEnd(36)} ${num(r.ms).padStart(7)} ms  ${num(r.peakRssMiB).padStart(5)} MiB`);
      }
    }
    const component = summarize('component', results.component);
    const handwritten = summarize('handwritten', results.handwritten);
    const programs: SizeReport['programs'] = { component, handwritten };
    if (results.plain.length > 0) programs.plain = summarize('plain', results.plain);
    reports.push({
      n,
      programs,
      timeRatio: component.ms / handwritten.ms,
      pairedTimeRatio: median(results.component.map((c, i) => c.ms / (results.handwritten[i] as MockRunResult).ms)),
      rssRatio: component.peakRssMiB / handwritten.peakRssMiB,
      heapRatio: component.heapUsedMiB / handwritten.heapUsedMiB,
      sameResources: component.signature === handwritten.signature,
      sameExports: Object.values(programs).every((p) => p.exportsHash === component.exportsHash) && component.exportsSecret && handwritten.exportsSecret,
    });
  }
  return reports;
}

interface BootstrapReport {
  runs: number;
  dataDir: string;
  serverVersion: string;
  ours: { ms: number; msMin: number; msMax: number };
  floor: { ms: number; msMin: number; msMax: number };
  second: { ms: number; msMin: number; msMax: number };
  changes: number;
  secondChanges: number;
  ratio: number;
}

async function bootstrapSection(plan: Plan): Promise<BootstrapReport> {
  const scripts = bootstrapScripts(BOOTSTRAP_INSTANCES);
  const ours: BootstrapRun[] = [];
  const floor: BootstrapRun[] = [];
  // One run that is not counted: the first server after the mock runs was
  // markedly slower than the next ones (3.8 s against 2.3 s in one run).
  const warmUp = await bootstrapRun('floor', BOOTSTRAP_INSTANCES, scripts, plan.dataDir);
  progress(`  bootstrap ${BOOTSTRAP_INSTANCES} instances  warm-up (not counted)  floor ${num(warmUp.ms).padStart(6)} ms`);
  for (let i = 0; i < plan.bootstrapRuns; i++) {
    const order: Array<'ours' | 'floor'> = i % 2 === 0 ? ['ours', 'floor'] : ['floor', 'ours'];
    for (const kind of order) {
      const r = await bootstrapRun(kind, BOOTSTRAP_INSTANCES, scripts, plan.dataDir);
      (kind === 'ours' ? ours : floor).push(r);
      progress(
        `  bootstrap ${BOOTSTRAP_INSTANCES} instances  run ${i + 1}/${plan.bootstrapRuns}  ${kind.padEnd(5)} ${num(r.ms).padStart(6)} ms` +
          (r.secondMs !== undefined ? `  (second run ${num(r.secondMs)} ms, ${r.secondChanges} changes)` : ''),
      );
    }
  }
  const stat = (xs: number[]): { ms: number; msMin: number; msMax: number } => ({ ms: median(xs), msMin: min(xs), msMax: max(xs) });
  const o = stat(ours.map((r) => r.ms));
  const f = stat(floor.map((r) => r.ms));
  return {
    runs: plan.bootstrapRuns,
    dataDir: plan.dataDir,
    serverVersion: (ours[0] as BootstrapRun).serverVersion,
    ours: o,
    floor: f,
    second: stat(ours.map((r) => r.secondMs as number)),
    changes: median(ours.map((r) => r.changes as number)),
    secondChanges: Math.max(...ours.map((r) => r.secondChanges as number)),
    ratio: o.ms / f.ms,
  };
}

interface Verdicts {
  lines: string[];
  failed: number;
}

/**
 * The longest chain must be one instance's, at every size: the state
 * records no dependency between instances (issue 20: `destroy --target`,
 * `state delete` and `--continue-on-error` concern one instance). What
 * bounds the instances provisioned at once is the program's turn in a lane
 * (ProviderLanes), which the graph does not show.
 */
function chainVerdict(reports: SizeReport[]): { ok: boolean; text: string } {
  const chains = reports.map((r) => ({ n: r.n, c: (r.programs.component as ProgramSummary).longestChain }));
  const first = chains[0];
  if (!first) return { ok: true, text: 'no mock runs' };
  const ok = chains.every((c) => c.c === first.c);
  return {
    ok,
    text:
      `${chains.map((c) => `${c.c} at ${c.n}`).join(', ')} → ${ok ? 'PASS' : 'FAIL'} ` +
      `(target: one instance's chain at every size — no dependency between instances; ${LANES} lanes bound them in the program)`,
  };
}

function report(
  mock: SizeReport[] | undefined,
  boot: BootstrapReport | undefined,
  markdown: boolean,
  quick: boolean,
  req?: RequireReport,
  engine?: EngineSection,
  mig?: MigrateBenchReport,
): Verdicts {
  const lines: string[] = [];
  let failed = 0;
  const mark = (v: 'PASS' | 'FAIL'): string => {
    if (v === 'FAIL') failed++;
    return v;
  };
  const print = (s = ''): void => {
    lines.push(s);
  };
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  print(
    `postgres-strategies bench — Node ${process.version}, ${cpus().length} × ${cpu}, load average ${loadavg()[0]?.toFixed(2)} at the end` +
      (quick ? ' — QUICK (fewer runs, no 1000)' : ''),
  );
  const md: string[] = [];

  if (mock && mock.length > 0) {
    print();
    print('1. Pulumi mock runtime: evaluation of N app instances (median of fresh processes; time from constructing the program until its exports');
    print('   resolved and every registration and output was done; peak RSS of the process; heap in use after a forced GC at the end)');
    const header = ['instances', 'program', 'runs', 'time ms', 'min–max ms', 'peak RSS MiB', 'heap MiB', 'resources', 'per instance', 'longest chain'];
    const rows: string[][] = [];
    const mdRows: string[][] = [];
    for (const r of mock) {
      for (const p of ['component', 'handwritten', 'plain'] as ProgramName[]) {
        const s = r.programs[p];
        if (!s) continue;
        rows.push([String(r.n), LABEL[p], String(s.runs), num(s.ms), `${num(s.msMin)}–${num(s.msMax)}`, num(s.peakRssMiB), num(s.heapUsedMiB, 1), num(s.resources), String(s.resourcesPerInstance), String(s.longestChain)]);
        mdRows.push([String(r.n), p === 'component' ? '`SharedPostgres`' : LABEL[p], num(s.ms), num(s.peakRssMiB), num(s.heapUsedMiB, 1), num(s.resources), String(s.resourcesPerInstance), String(s.longestChain)]);
      }
      const tv = mark(verdict(r.timeRatio, MOCK_TARGET));
      const mv = mark(verdict(r.rssRatio, MOCK_TARGET));
      rows.push([String(r.n), `ratio (target ≤ ${MOCK_TARGET}×)`, '', `${times(r.timeRatio)} ${tv}`, `pairs ${times(r.pairedTimeRatio)}`, `${times(r.rssRatio)} ${mv}`, times(r.heapRatio), '', '', '']);
      mdRows.push([String(r.n), `**ratio** (target ≤ ${MOCK_TARGET}×)`, `**${times(r.timeRatio)}** ${tv}`, `**${times(r.rssRatio)}** ${mv}`, times(r.heapRatio), '', '', '']);
    }
    print(textTable(header, rows, 'rlrrrrrrrr'));
    const base = mock.flatMap((r) => Object.values(r.programs).map((p) => p.baseRssMiB));
    print(`   every process holds ${num(median(base))} MiB RSS (modules loaded, mocks installed) before the program is constructed`);
    for (const r of mock) {
      if (!r.sameResources) print(`   ${r.n}: FAIL — SharedPostgres and the hand-written program do not declare the same custom resources`);
      if (!r.sameExports) print(`   ${r.n}: FAIL — the programs' exported URLs / DSNs differ or are not secret`);
      if (!r.sameResources || !r.sameExports) failed++;
    }
    if (mock.every((r) => r.sameResources && r.sameExports)) {
      print('   check: both programs declare the same custom resources (types, names, inputs, dependencies, options) and export identical secret URLs and DSNs');
    }
    const cv = chainVerdict(mock);
    if (!cv.ok) failed++;
    const chainNames = (mock[0]?.programs.component as ProgramSummary).chain;
    print();
    const perInstance = (p: ProgramName): number | undefined => mock[0]?.programs[p]?.resourcesPerInstance;
    print(
      `2. Resource graph: ${perInstance('component')} registrations per instance (${(perInstance('component') ?? 1) - 1} resources + its InstanceDatabase component; ` +
        `hand-written: ${perInstance('handwritten')})`,
    );
    print(`   longest dependency chain (resources, provider included): ${cv.text}`);
    print(`   ${chainNames.join(' → ')}`);

    md.push(
      `Pulumi mock runtime (median of ${[...new Set(mock.map((r) => (r.programs.component as ProgramSummary).runs))].join(' / ')} fresh processes per figure; ` +
        'time from constructing the program until its exports have resolved and every registration and output is done; ' +
        'peak RSS of the process, which holds ~' +
        `${num(median(mock.flatMap((r) => Object.values(r.programs).map((p) => p.baseRssMiB))))} MiB before the program starts; heap in use after a forced GC at the end):`,
      '',
      markdownTable(['instances', 'program', 'time (ms)', 'peak RSS (MiB)', 'heap after GC (MiB)', 'resources', 'per instance', 'longest chain'], mdRows, 'rlrrrrrr'),
      '',
      `Longest dependency chain: ${cv.text.replace('→', '—')}: ${chainNames.map((c) => `\`${c}\``).join(' → ')}.`,
    );
  }

  if (boot) {
    const bv = mark(verdict(boot.ratio, BOOTSTRAP_TARGET));
    if (boot.secondChanges !== 0) failed++;
    print();
    print(
      `3. Real bootstrap: ${BOOTSTRAP_INSTANCES} instances on embedded PostgreSQL ${boot.serverVersion} (no TLS, data directory in ${boot.dataDir}), psql, ` +
        `a fresh server per run (median of ${boot.runs}, after a warm-up run)`,
    );
    const rows = [
      ['renderBootstrapSql (idempotent, PUBLIC revoked)', num(boot.ours.ms), `${num(boot.ours.msMin)}–${num(boot.ours.msMax)}`, `${boot.changes} changes`],
      ['floor: CREATE ROLE + CREATE DATABASE only', num(boot.floor.ms), `${num(boot.floor.msMin)}–${num(boot.floor.msMax)}`, ''],
      [`ratio (target ≤ ${BOOTSTRAP_TARGET}×)`, `${times(boot.ratio)} ${bv}`, '', ''],
      ['renderBootstrapSql, second run (no-op)', num(boot.second.ms), `${num(boot.second.msMin)}–${num(boot.second.msMax)}`, `${boot.secondChanges} changes${boot.secondChanges === 0 ? '' : ' — FAIL'}`],
    ];
    print(textTable(['script', 'time ms', 'min–max ms', ''], rows, 'lrrl'));
    md.push(
      '',
      `Real bootstrap of ${BOOTSTRAP_INSTANCES} instances on embedded PostgreSQL ${boot.serverVersion} (psql, no TLS, data directory on ${boot.dataDir === '/dev/shm' ? 'tmpfs' : boot.dataDir}, a fresh server per run, median of ${boot.runs} after a warm-up run):`,
      '',
      markdownTable(
        ['script', 'time (ms)'],
        [
          ['`renderBootstrapSql` (idempotent, PUBLIC revoked)', num(boot.ours.ms)],
          ['floor: bare `CREATE ROLE` + `CREATE DATABASE`', num(boot.floor.ms)],
          [`**ratio** (target ≤ ${BOOTSTRAP_TARGET}×)`, `**${times(boot.ratio)}** ${bv}`],
          ['`renderBootstrapSql`, second run (changes nothing)', num(boot.second.ms)],
        ],
        'lr',
      ),
    );
  }

  if (req) {
    const r = requireLines(req);
    failed += r.failed;
    print();
    for (const l of r.lines) print(l);
    md.push('', ...r.md);
  }

  if (engine) {
    failed += engine.failed;
    print();
    for (const l of engine.lines) print(l);
    md.push('', ...engine.md);
  }

  if (mig) {
    const mv = mark(verdict(mig.ratio, MIGRATE_TARGET));
    const mb = (b: number): string => num(b / 1e6);
    const perKind = (k: 'bare' | 'migrate'): string[] => mig.runs.filter((r) => r.kind === k).map((r) => r.seconds.toFixed(1));
    print();
    print(
      `6. migrate: a ${mb(mig.sourceBytes)} MB database (${num(mig.rows)} events + 10 000 users) from PostgreSQL ${mig.sourceVersion} to ${mig.targetVersion}, ` +
        `pg_dump/pg_restore 15, no TLS, data directories in ${mig.dataDir} (median of ${mig.runs.length / 2} runs each, alternating)`,
    );
    const rows = [
      ['bare pg_dump -Fc -Z0 | pg_restore', mig.bare.toFixed(1), perKind('bare').join(', ')],
      ['postgres-strategies migrate (checks + copy + verification)', mig.migrate.toFixed(1), perKind('migrate').join(', ')],
      [`ratio (target ≤ ${MIGRATE_TARGET}×)`, `${times(mig.ratio)} ${mv}`, ''],
      [`  of which checks / copy / verification`, `${mig.phases.checks} / ${mig.phases.copy} / ${mig.phases.verify}`, `archive ${mb(mig.archiveBytes)} MB`],
    ];
    print(textTable(['copy', 'time s', 'runs s'], rows, 'lrl'));
    md.push(
      '',
      `\`migrate\` of a ${mb(mig.sourceBytes)} MB database (${num(mig.rows)} rows in \`events\` with two indexes, 10 000 in \`users\`) from Debian's PostgreSQL ${mig.sourceVersion} to embedded ${mig.targetVersion}, ` +
        `pg_dump/pg_restore 15, both servers on this machine, no TLS, median of ${mig.runs.length / 2} runs each, load average ${loadavg()[0]?.toFixed(1)} at the end:`,
      '',
      markdownTable(
        ['copy', 'time (s)'],
        [
          ['bare `pg_dump -Fc -Z0 \\| pg_restore`', mig.bare.toFixed(1)],
          ['`postgres-strategies migrate`, verification included', mig.migrate.toFixed(1)],
          [`**ratio** (target ≤ ${MIGRATE_TARGET}×)`, `**${times(mig.ratio)}** ${mv}`],
          ['of which checks / copy / verification', `${mig.phases.checks} / ${mig.phases.copy} / ${mig.phases.verify}`],
        ],
        'lr',
      ),
    );
  }

  print();
  print(failed === 0 ? 'all targets met' : `${failed} target(s) missed or check(s) failed`);
  if (markdown) {
    print();
    print('---- markdown ----');
    print(md.join('\n'));
  }
  return { lines, failed };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      markdown: { type: 'boolean', default: false },
      only: { type: 'string' },
      'data-dir': { type: 'string' },
      'migrate-mb': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const only = values.only;
  if (only !== undefined && !['mock', 'bootstrap', 'require', 'engine', 'migrate', 'backup', 'docker', 'rotation', 'pitr'].includes(only)) throw new Error('--only: mock, bootstrap, require, engine, migrate, backup, docker, rotation or pitr');
  const migrateMb = Number(values['migrate-mb'] ?? 256);
  if (!Number.isInteger(migrateMb) || migrateMb < 1) throw new Error('--migrate-mb: a whole number of megabytes ≥ 1');
  const quick = values.quick ?? false;
  const dataDir = values['data-dir'] ?? defaultDataDir();
  const plan: Plan = quick
    ? { sizes: [{ n: 10, runs: 3, plainRuns: 1 }, { n: 100, runs: 3, plainRuns: 1 }], bootstrapRuns: 1, requireRuns: 3, migrateRuns: 1, migrateMb, dataDir }
    : { sizes: [{ n: 10, runs: 9, plainRuns: 3 }, { n: 100, runs: 7, plainRuns: 3 }, { n: 1000, runs: 3, plainRuns: 1 }], bootstrapRuns: 3, requireRuns: 5, migrateRuns: 3, migrateMb, dataDir };
  const started = Date.now();
  let mock: SizeReport[] | undefined;
  let boot: BootstrapReport | undefined;
  let req: RequireReport | undefined;
  if (only === undefined || only === 'mock') mock = await mockSection(plan);
  if (only === undefined || only === 'bootstrap') {
    if (!havePsql()) throw new Error('psql (libpq) is needed: install postgresql-client (Debian: apt-get install postgresql-client)');
    boot = await bootstrapSection(plan);
  }
  if (only === undefined || only === 'require') req = await requireSection(plan.requireRuns, progress);
  const engine =
    only === undefined || only === 'engine'
      ? await engineSection({ sizes: quick ? [{ n: 10, runs: 1 }, { n: 50, runs: 1 }] : [{ n: 10, runs: 3 }, { n: 50, runs: 3 }, { n: 100, runs: 1 }], unchained: !quick }, progress)
      : undefined;
  let mig: MigrateBenchReport | undefined;
  if (only === undefined || only === 'migrate') mig = await migrateSection(plan.migrateMb, plan.migrateRuns, plan.dataDir, progress);
  const docker: DockerSection | undefined = only === undefined || only === 'docker' ? await dockerSection(quick ? 1 : 3, progress) : undefined;
  const { lines, failed: reportFailed } = report(mock, boot, values.markdown ?? false, quick, req, engine, mig);
  console.log(lines.join('\n'));
  let failed = reportFailed;
  if (docker) {
    console.log(['', ...docker.lines, ...(values.markdown ? ['', '---- markdown (docker) ----', ...docker.md] : [])].join('\n'));
  }
  // 7. backup and restore against the bare commands (bench/backup.ts), on the migrate bench's data set.
  if (only === undefined || only === 'backup') {
    const bk = backupLines(await backupSection(plan.migrateMb, plan.migrateRuns, plan.dataDir, progress));
    failed += bk.failed;
    console.log(['', ...bk.lines, ...(values.markdown ? ['', '---- markdown (backup) ----', ...bk.md] : [])].join('\n'));
  }
  // 8. rotation of 50 instances in one up on the real engine (bench/rotation.ts).
  if (only === undefined || only === 'rotation') {
    const rot = await rotationSection(progress);
    failed += rot.failed;
    console.log(['', ...rot.lines, ...(values.markdown ? ['', '---- markdown (rotation) ----', ...rot.md] : [])].join('\n'));
  }
  // 9. PITR restore of the Hetzner server (bench/pitr.ts), on the same data set.
  if (only === 'pitr' || (only === undefined && canRunHetznerRoot())) {
    const pt = pitrLines(await pitrSection(plan.migrateMb, plan.dataDir, progress));
    failed += pt.failed;
    console.log(['', ...pt.lines, ...(values.markdown ? ['', '---- markdown (pitr) ----', ...pt.md] : [])].join('\n'));
  } else if (only === undefined) {
    console.log('\n9. PITR of the Hetzner server: skipped (needs root, debootstrap, unshare, nsenter and psql)');
  }
  console.log(`(bench took ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  return failed + (docker?.failed ?? 0) === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(2);
  },
);
