/**
 * The lab's Docker engine: a private `dockerd` from Debian's `docker.io`
 * package (20.10, API 1.41), with Docker Compose v2 as its CLI plugin, for
 * the e2e suites, the demo, the bench and `npm run docker-lab`.
 *
 * One daemon per machine, shared: every user (a suite, the demo, a
 * terminal's `npm run docker-lab`) holds it through a holder file; the
 * daemon starts with the first holder and stops when the last one lets go
 * (holders of dead processes are pruned), so two worktrees or two suites on
 * one machine never start two daemons that would both want `docker0` and
 * 172.17.0.0/16. Everything lives in one folder
 * (`/var/cache/postgres-strategies/docker-lab`, or
 * `$POSTGRES_STRATEGIES_CACHE/docker-lab`): `data/` (`--data-root`: images,
 * kept between runs so images are built once per machine), `exec/`
 * (`--exec-root`), `docker.sock` (`-H unix://…`), `docker.pid`,
 * `dockerd.log`, and `config/` (the lab's `DOCKER_CONFIG`, whose
 * `cli-plugins/docker-compose` is Compose v2 built from the Go module
 * proxy). The machine's default socket and `~/.docker` are never touched.
 *
 * `POSTGRES_STRATEGIES_DOCKER_HOST=unix:///var/run/docker.sock` (any
 * engine already running) makes the lab use that engine instead: nothing
 * is started or stopped then.
 *
 * `node dist/lab/docker.js` (`npm run docker-lab`) starts the engine, builds
 * the missing images (lab/docker-images.ts) with progress, and prints
 * `DOCKER_HOST=unix://…` last; `npm run docker-lab -- stop` lets go of it
 * (and stops it unless a running suite still holds it: `stop --force`
 * stops it anyway); `npm run docker-lab -- prepare` builds what is missing
 * (Compose, the images) and lets go again (`.ci/run` runs it beside the
 * unit tests and the engine build).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { DEBIAN_ROOT_CACHE } from './debian-root';
import { ensureLabImages } from './docker-images';
import { findGo } from './go-consumers';
import { RunResult, run, runOk } from './run';

/** The folder of the lab's engine (see the file's doc). */
export const DOCKER_LAB_DIR = join(DEBIAN_ROOT_CACHE, 'docker-lab');
/** Docker Compose v2 release the lab builds (Go module `github.com/docker/compose/v2`). */
export const COMPOSE_VERSION = 'v2.40.3';
/** Debian's packages the lab engine needs (`.ci/run` installs them). */
export const DOCKER_APT_PACKAGES = ['docker.io'] as const;

const paths = {
  data: join(DOCKER_LAB_DIR, 'data'),
  exec: join(DOCKER_LAB_DIR, 'exec'),
  socket: join(DOCKER_LAB_DIR, 'docker.sock'),
  pidfile: join(DOCKER_LAB_DIR, 'docker.pid'),
  log: join(DOCKER_LAB_DIR, 'dockerd.log'),
  config: join(DOCKER_LAB_DIR, 'config'),
  holders: join(DOCKER_LAB_DIR, 'holders'),
  lock: join(DOCKER_LAB_DIR, 'lock'),
};

/** The holder name of `npm run docker-lab` (kept until `npm run docker-lab -- stop`). */
export const MANUAL_HOLDER = 'docker-lab';

/** The lab engine, as one holder sees it. */
export interface DockerLab {
  /** `unix://…` of the engine's socket. */
  host: string;
  /** The lab's DOCKER_CONFIG folder (holds the Compose plugin). */
  configDir: string;
  /** Whether the lab started (and will stop) this engine, rather than using one given by POSTGRES_STRATEGIES_DOCKER_HOST. */
  owned: boolean;
  /** Environment for `docker`, `docker compose` and `pulumi` (DOCKER_HOST, DOCKER_CONFIG). */
  env: NodeJS.ProcessEnv;
  /** Runs the Docker CLI against the engine (never rejects on a non-zero exit). */
  docker(args: string[], options?: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<RunResult>;
  /** {@link docker}, throwing with the output on a non-zero exit. */
  dockerOk(args: string[], options?: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<RunResult>;
  /**
   * Stops and starts the engine (as a machine's reboot or a Docker upgrade
   * does): containers come back by their restart policies. Every holder
   * sees it. @throws for an engine the lab does not own.
   */
  restartEngine(): Promise<void>;
  /** Lets go of the engine: it stops when no other holder is left. */
  release(): Promise<void>;
}

/** The Docker CLI: Debian's (the engine's own release) when installed, else `docker` on PATH. */
export function dockerCli(): string {
  return existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
}

/** `dockerd`: Debian's in /usr/sbin. */
function dockerdPath(): string | undefined {
  for (const p of ['/usr/sbin/dockerd', '/usr/bin/dockerd']) if (existsSync(p)) return p;
  return undefined;
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` holding the lock folder `name` under the lab folder (mkdir is
 * atomic; a lock whose owner process is gone is taken over).
 */
export async function withLabLock<T>(name: string, fn: () => Promise<T>, timeoutMs = 30 * 60_000): Promise<T> {
  mkdirSync(DOCKER_LAB_DIR, { recursive: true });
  const dir = join(DOCKER_LAB_DIR, `${name}.lock`);
  const started = Date.now();
  let told = false;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      } catch {
        // being written or removed
      }
      const age = (() => {
        try {
          return Date.now() - statSync(dir).mtimeMs;
        } catch {
          return 0;
        }
      })();
      if ((!Number.isNaN(owner) && !pidAlive(owner)) || (Number.isNaN(owner) && age > 10_000)) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for the lab lock ${dir} (held by pid ${owner})`);
      if (!told) {
        process.stderr.write(`[docker-lab] waiting for ${name} (held by pid ${owner})\n`);
        told = true;
      }
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** GET /_ping on a Unix socket: whether an engine answers there. */
export function pingSocket(socket: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

function daemonPid(): number | undefined {
  try {
    const pid = Number(readFileSync(paths.pidfile, 'utf8').trim());
    return pidAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Live holders (files of dead processes are removed). */
function liveHolders(): string[] {
  mkdirSync(paths.holders, { recursive: true });
  const live: string[] = [];
  for (const h of readdirSync(paths.holders)) {
    const pid = Number(readFileSync(join(paths.holders, h), 'utf8').trim() || 'NaN');
    if (h === MANUAL_HOLDER || pidAlive(pid)) live.push(h);
    else rmSync(join(paths.holders, h), { force: true });
  }
  return live;
}

async function startDaemon(log: (l: string) => void): Promise<void> {
  const dockerd = dockerdPath();
  if (!dockerd) throw new Error("dockerd is not installed: apt-get install docker.io (Debian's Docker engine)");
  if (process.getuid?.() !== 0) throw new Error('the lab Docker engine runs as root (dockerd)');
  for (const d of [paths.data, paths.exec, paths.config]) mkdirSync(d, { recursive: true });
  rmSync(paths.socket, { force: true });
  const out = openSync(paths.log, 'a');
  const started = Date.now();
  log(`[docker-lab] starting dockerd (data ${paths.data}, socket ${paths.socket})`);
  const child = spawn(
    dockerd,
    ['--data-root', paths.data, '--exec-root', paths.exec, '-H', `unix://${paths.socket}`, '--pidfile', paths.pidfile, '--log-level', 'warn'],
    // Its own session: a Ctrl-C of the terminal that started it does not reach it.
    { detached: true, stdio: ['ignore', out, out], env: { ...process.env, PATH: `/usr/sbin:/usr/bin:/sbin:/bin:${process.env['PATH'] ?? ''}` } },
  );
  child.unref();
  closeSync(out);
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  while (!(await pingSocket(paths.socket))) {
    if (exited !== null || Date.now() - started > 60_000) {
      const tail = existsSync(paths.log) ? readFileSync(paths.log, 'utf8').split('\n').slice(-30).join('\n') : '';
      if (exited === null) child.kill('SIGKILL');
      throw new Error(`dockerd did not start (${exited !== null ? `exited ${exited}` : 'no answer in 60 s'}); the end of ${paths.log}:\n${tail}`);
    }
    await sleep(200);
  }
  log(`[docker-lab] dockerd ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function stopDaemon(log: (l: string) => void): Promise<void> {
  const pid = daemonPid();
  if (pid === undefined) return;
  log(`[docker-lab] stopping dockerd (pid ${pid})`);
  process.kill(pid, 'SIGTERM');
  // dockerd stops its containers (15 s shutdown timeout each, in parallel) and its containerd.
  const started = Date.now();
  while (pidAlive(pid)) {
    if (Date.now() - started > 90_000) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await sleep(200);
  }
  // Whatever is left of this engine (containerd, shims) ran from its exec root.
  for (const p of leftoverProcesses()) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(paths.socket, { force: true });
  rmSync(paths.pidfile, { force: true });
}

/** Processes whose command line names the lab's exec root or data root (containerd, its shims, dockerd). */
export function leftoverProcesses(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a) => a.startsWith(paths.exec) || a.startsWith(paths.data) || a === `unix://${paths.socket}`)) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

function labFromHost(host: string, owned: boolean, release: () => Promise<void>): DockerLab {
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: host, DOCKER_CONFIG: paths.config };
  const docker = (args: string[], options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> =>
    run(dockerCli(), args, { cwd: options.cwd, env: { ...env, ...options.env }, input: options.input });
  const dockerOk = (args: string[], options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> =>
    runOk(dockerCli(), args, { cwd: options.cwd, env: { ...env, ...options.env }, input: options.input });
  const restartEngine = async (): Promise<void> => {
    if (!owned) throw new Error(`the engine at ${host} is not the lab's own: not restarting it`);
    const log = (l: string): void => void process.stderr.write(`${l}\n`);
    await withLabLock('daemon', async () => {
      await stopDaemon(log);
      await startDaemon(log);
    });
  };
  return { host, configDir: paths.config, owned, env, docker, dockerOk, restartEngine, release };
}

/**
 * Holds the lab engine, starting it when no holder runs it yet, and makes
 * sure the Compose plugin is built.
 * @param holder a name for `npm run docker-lab` ({@link MANUAL_HOLDER}); by
 *   default this process (pruned once it is gone).
 * @throws when dockerd is missing, not root, or the engine does not start
 *   (with the end of its log).
 */
export async function startDockerLab(options: { holder?: string; log?: (line: string) => void } = {}): Promise<DockerLab> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const given = process.env['POSTGRES_STRATEGIES_DOCKER_HOST'];
  mkdirSync(paths.config, { recursive: true });
  if (given) {
    await ensureCompose(log);
    return labFromHost(given, false, async () => undefined);
  }
  const holder = options.holder ?? `pid-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  await withLabLock('daemon', async () => {
    liveHolders();
    writeFileSync(join(paths.holders, holder), holder === MANUAL_HOLDER ? '' : String(process.pid));
    if (daemonPid() === undefined || !(await pingSocket(paths.socket))) {
      await stopDaemon(log); // a daemon that stopped answering
      try {
        await startDaemon(log);
      } catch (e) {
        rmSync(join(paths.holders, holder), { force: true });
        throw e;
      }
    }
  });
  await ensureCompose(log);
  let released = false;
  return labFromHost(`unix://${paths.socket}`, true, async () => {
    if (released) return;
    released = true;
    await releaseDockerLab(holder, false, log);
  });
}

/**
 * Removes `holder`; stops the engine when no live holder is left (or at
 * once with `force`). Resolves to the holders still running it.
 */
export async function releaseDockerLab(holder: string, force: boolean, log: (line: string) => void = () => undefined): Promise<string[]> {
  return withLabLock('daemon', async () => {
    rmSync(join(paths.holders, holder), { force: true });
    const left = liveHolders();
    if (left.length === 0 || force) {
      await stopDaemon(log);
      for (const h of left) rmSync(join(paths.holders, h), { force: true });
      return [];
    }
    return left;
  });
}

/**
 * Docker Compose v2 ({@link COMPOSE_VERSION}) as the CLI plugin of the lab's
 * DOCKER_CONFIG, built once per machine from the Go module proxy (`go mod
 * download`, then `go build ./cmd` in the module, stamped with its version).
 * @returns the plugin's path
 */
export async function ensureCompose(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  const plugin = join(paths.config, 'cli-plugins', 'docker-compose');
  const stamp = `${plugin}.version`;
  const ready = (): boolean => existsSync(plugin) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === COMPOSE_VERSION;
  if (ready()) return plugin;
  return withLabLock('compose', async () => {
    if (ready()) return plugin;
    const go = findGo();
    if (!go) throw new Error('go is not installed (looked on PATH and in /usr/local/go/bin): Docker Compose is built from the Go module proxy');
    const started = Date.now();
    log(`[docker-lab] building Docker Compose ${COMPOSE_VERSION} from the Go module proxy (once per machine, ~6 min cold)`);
    const env = { ...process.env, GOFLAGS: '-buildvcs=false -mod=mod', GOTOOLCHAIN: 'local', CGO_ENABLED: '0' };
    const dl = await runOk(go, ['mod', 'download', '-json', `github.com/docker/compose/v2@${COMPOSE_VERSION}`], { env });
    const moduleDir = (JSON.parse(dl.stdout) as { Dir: string }).Dir;
    mkdirSync(join(paths.config, 'cli-plugins'), { recursive: true });
    const tmp = `${plugin}.building-${process.pid}`;
    try {
      await runOk(go, ['build', '-trimpath', '-ldflags', `-w -X github.com/docker/compose/v2/internal.Version=${COMPOSE_VERSION}`, '-o', tmp, './cmd'], { cwd: moduleDir, env });
      renameSync(tmp, plugin);
    } finally {
      rmSync(tmp, { force: true });
    }
    writeFileSync(stamp, `${COMPOSE_VERSION}\n`);
    log(`[docker-lab] built Docker Compose in ${Math.round((Date.now() - started) / 1000)} s`);
    return plugin;
  });
}

/** `npm run docker-lab [-- stop [--force]]`. */
async function main(argv: string[]): Promise<void> {
  const log = (l: string): void => void process.stderr.write(`${l}\n`);
  if (argv[0] === 'stop') {
    const left = await releaseDockerLab(MANUAL_HOLDER, argv.includes('--force'), log);
    if (left.length > 0) {
      log(`[docker-lab] still in use by ${left.join(', ')}: left running (it stops when they end; \`npm run docker-lab -- stop --force\` stops it now)`);
      return;
    }
    const leftover = leftoverProcesses();
    if (leftover.length > 0) throw new Error(`processes of the lab engine are still running: ${leftover.join(', ')}`);
    log('[docker-lab] stopped; nothing of it is running');
    return;
  }
  if (argv[0] === 'prepare') {
    const started = Date.now();
    const lab = await startDockerLab({ log });
    try {
      await ensureLabImages(lab, { log });
    } finally {
      await lab.release();
    }
    log(`[docker-lab] prepared (Compose and the images) in ${Math.round((Date.now() - started) / 1000)} s`);
    return;
  }
  const lab = await startDockerLab({ holder: MANUAL_HOLDER, log });
  // The images the examples name, built when missing.
  await ensureLabImages(lab, { log });
  process.stdout.write(`DOCKER_CONFIG=${lab.configDir}   # for \`docker compose\` (the Compose plugin)\n`);
  process.stdout.write(`DOCKER_HOST=${lab.host}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  });
}
