/**
 * Builds the Go programs of the e2e suite (test/consumers/<name>/: the real
 * pgx v5 client, the real Ory Kratos, actionlint) from the Go module proxy, once:
 * binaries go to `.cache/go-consumers/<name>-<hash>/<name>`, where the hash
 * covers go.mod, go.sum and the module's .go files, so an unchanged module is
 * not rebuilt. Progress goes to stderr. Only Go modules are downloaded (by
 * the go command, from GOPROXY); nothing else.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { labPath } from './server';

/** A consumer the suite can build. */
export interface GoConsumer {
  /** Folder under test/consumers/ holding its go.mod. */
  name: string;
  /** Package to build, relative to the module (`.`) or an import path of a dependency. */
  pkg: string;
  /** Extra environment (e.g. CGO_ENABLED=0). */
  env?: Record<string, string>;
  /** `go build -ldflags` value (e.g. a version stamp). */
  ldflags?: string;
}

/** The pgx v5 consumer (test/consumers/pgx/main.go). */
export const PGX_CONSUMER: GoConsumer = { name: 'pgx', pkg: '.', env: { CGO_ENABLED: '0' } };
/**
 * Ory Kratos v1.3.1 itself, through the wrapper module test/consumers/kratos
 * (its `tool` line requires github.com/ory/kratos and repeats Kratos'
 * replace directives). Built without cgo: no SQLite, PostgreSQL only.
 */
export const KRATOS_CONSUMER: GoConsumer = {
  name: 'kratos',
  pkg: 'github.com/ory/kratos',
  env: { CGO_ENABLED: '0' },
  // what Ory's release build stamps (`kratos version`)
  ldflags: '-X github.com/ory/kratos/driver/config.Version=v1.3.1',
};

/** The `go` binary: on PATH, else the standard install location /usr/local/go/bin/go. */
export function findGo(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), '/usr/local/go/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'go');
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function moduleDir(name: string): string {
  return labPath('test', 'consumers', name);
}

/** Hash of the build settings, go.mod, go.sum and every .go file of the module (sorted, with names). */
export function moduleHash(consumer: GoConsumer): string {
  const dir = moduleDir(consumer.name);
  const hash = createHash('sha256');
  hash.update(`${JSON.stringify(consumer)}\0`);
  const files = readdirSync(dir)
    .filter((f) => f === 'go.mod' || f === 'go.sum' || f.endsWith('.go'))
    .sort();
  for (const f of files) {
    hash.update(`${f}\0`);
    hash.update(readFileSync(join(dir, f)));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** Where the binary of a consumer goes (whether built or not). */
export function consumerBinaryPath(consumer: GoConsumer): string {
  return labPath('.cache', 'go-consumers', `${consumer.name}-${moduleHash(consumer)}`, consumer.name);
}

function goRun(go: string, args: string[], cwd: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(go, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d;
      process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`go ${args.join(' ')} (in ${cwd}) exited ${code}:\n${stderr.trim().slice(-4000)}`)),
    );
  });
}

/**
 * Builds a consumer unless its binary for the current sources exists, and
 * returns the binary's path. `go build -mod=readonly` uses the committed
 * go.sum (modules come from GOPROXY into the module cache).
 * @throws when `go` is missing or the build fails (with go's output).
 */
export async function buildGoConsumer(consumer: GoConsumer): Promise<string> {
  const binary = consumerBinaryPath(consumer);
  if (existsSync(binary)) return binary;
  const go = findGo();
  if (!go) throw new Error('go is not installed (looked on PATH and in /usr/local/go/bin)');
  const outDir = join(binary, '..');
  const tmp = `${binary}.building-${process.pid}`;
  mkdirSync(outDir, { recursive: true });
  const started = Date.now();
  process.stderr.write(`[go-consumers] building ${consumer.name} (${consumer.pkg}) into ${outDir} ...\n`);
  try {
    const ldflags = consumer.ldflags ? [`-ldflags=${consumer.ldflags}`] : [];
    await goRun(go, ['build', '-mod=readonly', '-trimpath', ...ldflags, '-o', tmp, consumer.pkg], moduleDir(consumer.name), {
      GOFLAGS: '-buildvcs=false',
      ...consumer.env,
    });
    renameSync(tmp, binary);
  } finally {
    rmSync(tmp, { force: true });
  }
  // Older builds of the same consumer (other sources or settings) are not used again.
  const cacheDir = join(outDir, '..');
  for (const entry of readdirSync(cacheDir)) {
    if (entry.startsWith(`${consumer.name}-`) && join(cacheDir, entry) !== outDir) rmSync(join(cacheDir, entry), { recursive: true, force: true });
  }
  process.stderr.write(`[go-consumers] built ${consumer.name} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return binary;
}

/**
 * rhysd/actionlint v1.7.12, the GitHub Actions workflow linter, through the
 * wrapper module test/consumers/actionlint (its `tool` line): it lints the
 * preview guard's example workflow (shellcheck on the `run:` scripts when
 * shellcheck is on PATH).
 */
export const ACTIONLINT_CONSUMER: GoConsumer = {
  name: 'actionlint',
  pkg: 'github.com/rhysd/actionlint/cmd/actionlint',
  env: { CGO_ENABLED: '0' },
  // what actionlint's release build stamps (`actionlint -version`)
  ldflags: '-X github.com/rhysd/actionlint.version=v1.7.12',
};

/** Every consumer of the e2e suite. */
export const GO_CONSUMERS: readonly GoConsumer[] = [PGX_CONSUMER, KRATOS_CONSUMER, ACTIONLINT_CONSUMER];

// `node dist/lab/go-consumers.js [name...]`: builds the consumers (all by default) and prints their paths.
if (require.main === module) {
  const wanted = process.argv.slice(2);
  (async () => {
    for (const consumer of GO_CONSUMERS.filter((c) => wanted.length === 0 || wanted.includes(c.name))) {
      process.stdout.write(`${consumer.name}\t${await buildGoConsumer(consumer)}\n`);
    }
  })().catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  });
}
