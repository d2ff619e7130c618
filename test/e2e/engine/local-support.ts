/**
 * What the local-strategy suites on the real engine and a real Docker
 * engine share: the lab's engine with the images loaded (its DOCKER_HOST
 * and DOCKER_CONFIG in the sandbox, as a user exports them), stacks of
 * `examples/local`, the stack's containers as Docker sees them, and the
 * checks from outside: psql and pgx through the published port (verify-full
 * against the CA from the stack output), Kratos' health and its API.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigValue, EngineSandbox, ExampleStack } from '../../../lab/engine';
import { DockerLab, startDockerLab } from '../../../lab/docker';
import { ensureLabImages } from '../../../lab/docker-images';
import { PGX_CONSUMER, buildGoConsumer } from '../../../lab/go-consumers';
import { psql } from '../../../lab/psql';
import { run } from '../../../lab/run';
import { newStack } from './support';

/** Building the images once per machine (two debootstraps, the Kratos binary) takes minutes. */
export const LAB_SETUP_TIMEOUT = 40 * 60_000;

/** Holds the lab's Docker engine for the file (images built when missing); the sandbox's `pulumi` talks to it. */
export function useDockerLab(sandbox: () => EngineSandbox): () => DockerLab {
  let lab: DockerLab | undefined;
  beforeAll(async () => {
    lab = await startDockerLab();
    await ensureLabImages(lab);
    Object.assign(sandbox().env, { DOCKER_HOST: lab.host, DOCKER_CONFIG: lab.configDir });
  }, LAB_SETUP_TIMEOUT);
  afterAll(async () => lab?.release(), 180_000);
  return () => {
    if (!lab) throw new Error('the lab Docker engine is not running (its beforeAll failed)');
    return lab;
  };
}

/** A new stack of examples/local. */
export function localStack(sandbox: EngineSandbox, config: Record<string, string | ConfigValue>): Promise<ExampleStack> {
  return newStack(sandbox, 'local', config, 'local');
}

/** One container as `docker inspect` shows it. */
export interface ContainerFacts {
  id: string;
  name: string;
  status: string;
  exitCode: number;
  health?: string;
  env: string[];
  restartCount: number;
  pid: number;
  mounts: Array<{ Type: string; Name?: string; Destination: string }>;
}

/** The containers whose names start with `prefix`, by name. */
export async function containers(lab: DockerLab, prefix: string): Promise<Record<string, ContainerFacts>> {
  const ids = (await lab.dockerOk(['ps', '-aq', '--filter', `name=^/${prefix}`])).stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return {};
  const all = JSON.parse((await lab.dockerOk(['inspect', ...ids])).stdout) as Array<{
    Id: string;
    Name: string;
    RestartCount: number;
    State: { Status: string; ExitCode: number; Pid: number; Health?: { Status: string } };
    Config: { Env: string[] };
    Mounts: Array<{ Type: string; Name?: string; Destination: string }>;
  }>;
  return Object.fromEntries(
    all.map((c) => [
      c.Name.replace(/^\//, ''),
      {
        id: c.Id,
        name: c.Name.replace(/^\//, ''),
        status: c.State.Status,
        exitCode: c.State.ExitCode,
        health: c.State.Health?.Status,
        env: c.Config.Env,
        restartCount: c.RestartCount,
        pid: c.State.Pid,
        mounts: c.Mounts,
      },
    ]),
  );
}

/** Waits until `check` resolves truthy (polling), or throws with `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, limitMs = 120_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - started > limitMs) throw new Error(`timed out after ${limitMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A URL of the stack's network (host `postgres`) as this machine reaches it: the published port, the CA file here. */
export function throughPublishedPort(url: string, port: number, caFile?: string): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  if (caFile && u.searchParams.has('sslrootcert')) u.searchParams.set('sslrootcert', caFile);
  return u.toString();
}

/** Writes the stack's `caPem` output to `<dir>/postgres-ca.pem` and returns its path (undefined without TLS). */
export function saveCa(outputs: Record<string, unknown>, dir: string): string | undefined {
  if (typeof outputs['caPem'] !== 'string') return undefined;
  const file = join(dir, 'postgres-ca.pem');
  writeFileSync(file, outputs['caPem']);
  return file;
}

/** psql: the query's rows (`-At`), throwing with psql's stderr on failure. */
export async function query(url: string, sql: string): Promise<string> {
  const r = await psql(url, sql);
  if (r.code !== 0) throw new Error(`psql failed: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

let pgxBinary: Promise<string> | undefined;

/** The real pgx v5 client (test/consumers/pgx): connects with `url` and runs one query; its JSON result. */
export async function pgx(url: string): Promise<{ code: number; result?: { query?: unknown }; stderr: string }> {
  pgxBinary ??= buildGoConsumer(PGX_CONSUMER);
  const r = await run(await pgxBinary, ['-url', url]);
  return { code: r.code, stderr: r.stderr, ...(r.code === 0 ? { result: JSON.parse(r.stdout) as { query?: unknown } } : {}) };
}

/** GET a Kratos endpoint: status and body. */
export async function kratosGet(url: string): Promise<{ status: number; body: string }> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return { status: r.status, body: await r.text() };
  } catch (e) {
    return { status: 0, body: (e as Error).message };
  }
}

/** Creates an identity through Kratos' admin API; its id. */
export async function createIdentity(adminBase: string, email: string): Promise<string> {
  const r = await fetch(`${adminBase}/admin/identities`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ schema_id: 'default', traits: { email } }),
  });
  const body = (await r.json()) as { id?: string };
  if (r.status !== 201 || !body.id) throw new Error(`Kratos did not create the identity (${r.status}): ${JSON.stringify(body)}`);
  return body.id;
}

/** The identities Kratos lists through its admin API, as id → email. */
export async function listIdentities(adminBase: string): Promise<Record<string, string>> {
  const r = await fetch(`${adminBase}/admin/identities`);
  if (r.status !== 200) throw new Error(`Kratos did not list identities (${r.status}): ${await r.text()}`);
  const list = (await r.json()) as Array<{ id: string; traits: { email: string } }>;
  return Object.fromEntries(list.map((i) => [i.id, i.traits.email]));
}
