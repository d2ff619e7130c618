/**
 * One mock-runtime measurement, in its own process (the Pulumi runtime is
 * global state, and peak memory must not mix runs):
 *
 *   node --expose-gc dist/bench/mock-run.js --program component|handwritten|plain --instances N
 *
 * prints one JSON line ({@link MockRunResult}). `--profile <file.cpuprofile>`
 * writes a CPU profile of the measured window only (open it in Chrome
 * DevTools); `node --cpu-prof` profiles the whole process, module loading
 * included.
 *
 * Time: from just before the program is constructed (modules loaded, mocks
 * installed) until its exports have resolved and Pulumi's RPC queue has
 * drained (`settled()`: every registration and registerOutputs; every output
 * of the programs is computed by then). `untilIdleMs` goes on until the event
 * loop is empty, which adds the garbage-collection tasks V8 schedules for
 * the end (for information).
 * Memory: the process's peak RSS (`process.resourceUsage().maxRSS`), and
 * the heap still in use after a forced GC with the program alive.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { parseArgs } from 'node:util';
import { installMocks, settle, settled } from '../lab/pulumi-mocks';
import { customResourceSignature, longestChain } from './graph';
import { PROGRAMS, ProgramName, runProgram } from './programs';

export interface MockRunResult {
  program: ProgramName;
  instances: number;
  /** Evaluation time, ms: until the exports resolved and settled(). */
  ms: number;
  /** Until the event loop was idle, ms. */
  untilIdleMs: number;
  /** CPU time (user + system, all threads) of the process until settled(), ms. */
  cpuMs: number;
  /** Until the program's constructors returned, ms. */
  constructMs: number;
  /** Peak RSS of the process, MiB. */
  peakRssMiB: number;
  /** RSS just before the program was constructed, MiB. */
  baseRssMiB: number;
  /** Heap used after a forced GC at the end (program alive), MiB. */
  heapUsedMiB: number;
  /** Registrations (components, providers, custom resources). */
  resources: number;
  /** Registrations of instance i0 (its component node included). */
  resourcesPerInstance: number;
  /** Longest dependency chain, in resources. */
  longestChain: number;
  /** One longest chain, by name. */
  chain: string[];
  /** Hash of the custom resources' types, names, inputs, dependencies, options. */
  signature: string;
  /** Hash of the exported URLs and DSNs. */
  exportsHash: string;
  /** Whether both exports are secrets. */
  exportsSecret: boolean;
}

const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { program: { type: 'string' }, instances: { type: 'string' }, profile: { type: 'string' } } });
  const program = values.program as ProgramName;
  const n = Number(values.instances);
  if (!PROGRAMS.includes(program)) throw new Error(`--program: one of ${PROGRAMS.join(', ')}`);
  if (!Number.isInteger(n) || n < 1) throw new Error('--instances: a positive integer');
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');

  const rt = installMocks();
  gc();
  const baseRss = process.memoryUsage.rss();
  const profiler = values.profile ? startProfiler() : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const exported = runProgram(program, n);
  const constructMs = performance.now() - t0;
  const [urls, dsns] = await Promise.all([settle(exported.urls), settle(exported.kratosDsns)]);
  await settled();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);

  // Then wait until nothing is left to run, and measure memory.
  process.once('beforeExit', () => {
    const untilIdleMs = performance.now() - t0;
    if (profiler && values.profile) stopProfiler(profiler, values.profile);
    gc();
    const heapUsed = process.memoryUsage().heapUsed;
    const peakRss = process.resourceUsage().maxRSS * 1024;
    const { length, chain } = longestChain(rt.resources);
    const mine = rt.resources.filter((r) => r.name === 'shared-i0' || r.name.startsWith('shared-i0-'));
    const result: MockRunResult = {
      program,
      instances: n,
      ms,
      untilIdleMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      constructMs,
      peakRssMiB: peakRss / MiB,
      baseRssMiB: baseRss / MiB,
      heapUsedMiB: heapUsed / MiB,
      resources: rt.resources.length,
      resourcesPerInstance: mine.length,
      longestChain: length,
      chain,
      signature: customResourceSignature(rt.resources),
      exportsHash: createHash('sha256').update(JSON.stringify([urls.value, dsns.value])).digest('hex').slice(0, 16),
      exportsSecret: urls.secret && dsns.secret,
    };
    if (Object.keys(urls.value ?? {}).length !== n || Object.keys(dsns.value ?? {}).length !== n) {
      throw new Error(`expected ${n} URLs and DSNs, got ${Object.keys(urls.value ?? {}).length} and ${Object.keys(dsns.value ?? {}).length}`);
    }
    void exported.keep;
    process.stdout.write(`${JSON.stringify(result)}\n`);
  });
}

function startProfiler(): Session {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 100 });
  session.post('Profiler.start');
  return session;
}

function stopProfiler(session: Session, file: string): void {
  session.post('Profiler.stop', (err, result) => {
    if (err) throw err;
    writeFileSync(file, JSON.stringify(result.profile));
    session.disconnect();
  });
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
