/**
 * Bench section 4: what loading the package costs a Pulumi program.
 *
 * One fresh Node process per entry and run, started in a consumer directory
 * whose node_modules holds the package under its own name (a symlink to this
 * repository), so the `exports` map is what resolves it. The process times
 * `require('@pulumi/pulumi')` alone (which every Pulumi program loads
 * anyway), then `require(entry)`: the second figure is what the entry adds
 * to the SDK alone. Both are measured inside the process (Node's own
 * start-up is not in them). Measured in the same process because the
 * baseline alone varies between processes by more than the target on a busy
 * machine (2.2–4.3 s at load 15 on 2 cores), so a difference of medians of
 * separate processes would mostly show noise. The pure entries (core,
 * managed) are also timed alone, in processes that load nothing else.
 * Target (issue 7): `require('postgres-strategies')` adds ≤ 100 ms to
 * `@pulumi/pulumi` alone; every subpath is held to the same target. Runs
 * rotate the order of the entries, one process at a time.
 */
import { ROOT, consumerDir, entrySpecifiers, packageOf } from '../lab/consumer';
import { run } from '../lab/run';
import { markdownTable, max, median, min, num, textTable } from './stats';

/** ms that an entry may add to `require('@pulumi/pulumi')` alone. */
export const REQUIRE_TARGET_MS = 100;

export interface RequireFigure {
  /** The package or one of its subpaths, as a consumer names it. */
  spec: string;
  runs: number;
  /** Median ms of `require('@pulumi/pulumi')` in the same processes (the baseline). */
  pulumiMs: number;
  /** Median ms of `require(entry)` after it: what the entry adds (the target's figure). */
  extraMs: number;
  extraMin: number;
  extraMax: number;
  /** Median ms of `require(entry)` in a process that loads nothing before (pure entries only). */
  aloneMs?: number;
  /** Distinct packages (below node_modules) that requiring the entry alone loads. */
  packages: string[];
  /** Files the entry adds to those of @pulumi/pulumi (require.cache entries). */
  files: number;
}

export interface RequireReport {
  runs: number;
  entries: RequireFigure[];
  /** Entries of the exports map whose target does not exist (not built, or not written yet). */
  missing: string[];
}

interface OneRun {
  pulumiMs: number;
  ms: number;
  /** Files loaded by the entry, beyond those of the first require (if any). */
  files: string[];
}

// argv: [first ('' for none), entry]
const SCRIPT = `
  const [first, spec] = process.argv.slice(1);
  const t0 = process.hrtime.bigint();
  if (first) require(first);
  const t1 = process.hrtime.bigint();
  const before = new Set(Object.keys(require.cache));
  require(spec);
  const t2 = process.hrtime.bigint();
  process.stdout.write(JSON.stringify({
    pulumiMs: Number(t1 - t0) / 1e6,
    ms: Number(t2 - t1) / 1e6,
    files: Object.keys(require.cache).filter((f) => !before.has(f)),
  }));
`;

async function requireOnce(first: string, spec: string, cwd: string): Promise<OneRun> {
  const r = await run(process.execPath, ['-e', SCRIPT, first, spec], { cwd });
  if (r.code !== 0) throw new Error(`require('${spec}') exited ${r.code}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as OneRun;
}

/** Runs the section: `runs` fresh processes per entry and for the baseline. */
export async function requireSection(runs: number, progress: (line: string) => void): Promise<RequireReport> {
  const consumer = consumerDir(entrySpecifiers()[0] as string);
  const dir = consumer.dir;
  try {
    // The baseline by absolute path: the consumer directory has only our package.
    const pulumi = require.resolve('@pulumi/pulumi', { paths: [ROOT] });
    const missing: string[] = [];
    const specs: string[] = [];
    for (const spec of entrySpecifiers()) {
      try {
        require.resolve(spec, { paths: [dir] });
        specs.push(spec);
      } catch {
        missing.push(spec);
      }
    }
    const after = new Map<string, OneRun[]>(specs.map((s) => [s, []]));
    const alone = new Map<string, OneRun[]>(specs.map((s) => [s, []]));
    for (let i = 0; i < runs; i++) {
      const order = specs.map((_, k) => specs[(k + i) % specs.length] as string);
      for (const spec of order) {
        const r = await requireOnce(pulumi, spec, dir);
        (after.get(spec) as OneRun[]).push(r);
        let line = `  require run ${i + 1}/${runs}  ${spec.padEnd(30)} @pulumi/pulumi ${num(r.pulumiMs).padStart(6)} ms, then the entry ${num(r.ms).padStart(5)} ms`;
        // Alone: every run for the pure entries, one run for the others (to list what they load).
        const a = await (i === 0 || !r.files.some((f) => packageOf(f) === '@pulumi/pulumi') ? requireOnce('', spec, dir) : undefined);
        if (a) {
          (alone.get(spec) as OneRun[]).push(a);
          line += `; alone ${num(a.ms).padStart(5)} ms`;
        }
        progress(line);
      }
    }
    const entries = specs.map((spec): RequireFigure => {
      const rs = after.get(spec) as OneRun[];
      const as = alone.get(spec) as OneRun[];
      const extra = rs.map((r) => r.ms);
      const aloneFiles = (as[0] as OneRun).files;
      const pure = !aloneFiles.some((f) => packageOf(f)?.startsWith('@pulumi/'));
      return {
        spec,
        runs: rs.length,
        pulumiMs: median(rs.map((r) => r.pulumiMs)),
        extraMs: median(extra),
        extraMin: min(extra),
        extraMax: max(extra),
        ...(pure ? { aloneMs: median(as.map((r) => r.ms)) } : {}),
        packages: [...new Set(aloneFiles.map(packageOf).filter((p): p is string => p !== undefined))].sort(),
        files: (rs[0] as OneRun).files.length,
      };
    });
    return { runs, entries, missing };
  } finally {
    consumer.remove();
  }
}

/** The `@pulumi/*` packages of a figure, shortened (`docker, tls`). */
function providers(f: RequireFigure): string {
  const p = f.packages.filter((x) => x.startsWith('@pulumi/') && x !== '@pulumi/pulumi').map((x) => x.slice('@pulumi/'.length));
  const sdk = f.packages.includes('@pulumi/pulumi');
  return [sdk ? 'pulumi' : '', ...p].filter(Boolean).join(', ') || 'none';
}

/** The section's text lines, markdown and number of missed targets. */
export function requireLines(r: RequireReport): { lines: string[]; md: string[]; failed: number } {
  let failed = 0;
  const rows: string[][] = [];
  const mdRows: string[][] = [];
  for (const e of r.entries) {
    const v = e.extraMs <= REQUIRE_TARGET_MS ? 'PASS' : 'FAIL';
    if (v === 'FAIL') failed++;
    const alone = e.aloneMs === undefined ? '' : num(e.aloneMs);
    rows.push([e.spec, String(e.runs), num(e.pulumiMs), `${num(e.extraMs)} ${v}`, `${num(e.extraMin)}–${num(e.extraMax)}`, alone, num(e.files), providers(e)]);
    mdRows.push([`\`${e.spec}\``, num(e.pulumiMs), `**${num(e.extraMs)}** ${v}`, alone, providers(e)]);
  }
  for (const m of r.missing) {
    failed++;
    rows.push([m, '0', '', 'FAIL (entry missing)', '', '', '', '']);
    mdRows.push([`\`${m}\``, '', 'FAIL (entry missing)', '', '']);
  }
  const lines = [
    `4. require(): a fresh process per run requires @pulumi/pulumi, then the entry through the package's exports map (median of ${r.runs} runs;`,
    `   target: the entry adds ≤ ${REQUIRE_TARGET_MS} ms; "alone": the pure entries in a process that loads nothing else)`,
    textTable(['require', 'runs', '@pulumi/pulumi ms', `entry adds ms (≤ ${REQUIRE_TARGET_MS})`, 'min–max ms', 'alone ms', 'files added', 'Pulumi packages it loads'], rows, 'lrrrrrrl'),
  ];
  const md = [
    `\`require()\` of each entry: a fresh Node process per run requires \`@pulumi/pulumi\` (every Pulumi program does), then the entry through the package's \`exports\` map (median of ${r.runs} runs; target: the entry adds ≤ ${REQUIRE_TARGET_MS} ms):`,
    '',
    markdownTable(['require', '`@pulumi/pulumi` (ms)', 'entry adds (ms)', 'alone (ms)', 'Pulumi packages it loads'], mdRows, 'lrrrl'),
  ];
  return { lines, md, failed };
}
