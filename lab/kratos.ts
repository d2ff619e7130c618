/**
 * Ory Kratos as the e2e suites run it: `kratos serve` (the binary built by
 * lab/go-consumers.ts) with the rendered minimal config on free ports,
 * waited for until `/health/ready` (which pings the database) answers 200,
 * and stopped with SIGTERM.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KRATOS_IDENTITY_SCHEMA, kratosServeCommand, renderKratosConfig } from '../src/core/kratos';
import { freePorts } from './server';

/** Polls `url` until it answers 200, `child` exits or `limitMs` passes; returns the last status and body. */
export async function waitForHealth(url: string, child: ChildProcess, limitMs: number): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + limitMs;
  let last = { status: 0, body: '' };
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      last = { status: r.status, body: await r.text() };
      if (r.status === 200) return last;
    } catch (e) {
      last = { status: 0, body: (e as Error).message };
    }
    await new Promise((res) => setTimeout(res, 500));
  }
  return last;
}

/** A running `kratos serve`. */
export interface KratosServe {
  /** `http://127.0.0.1:<admin port>` */
  adminBase: string;
  /** `http://127.0.0.1:<public port>` */
  publicBase: string;
  /** What it printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, and resolves when it exited; returns everything it printed. */
  stop(): Promise<string>;
}

/**
 * Starts `kratos serve --dev` with the rendered minimal config (in a new
 * folder under `parentDir`) and `DSN` = `dsn`, and waits until its admin and
 * public `/health/ready` answer 200.
 * @param env the process's whole environment besides `DSN` and the ports (give PATH and HOME).
 * @throws when it does not become ready within 120 s (it is stopped then).
 */
export async function startKratosServe(binary: string, dsn: string, parentDir: string, env: NodeJS.ProcessEnv): Promise<KratosServe> {
  const [publicPort, adminPort] = await freePorts(2);
  const dir = mkdtempSync(join(parentDir, 'serve-'));
  const schemaPath = join(dir, 'identity.schema.json');
  writeFileSync(schemaPath, KRATOS_IDENTITY_SCHEMA);
  const configPath = join(dir, 'kratos.yml');
  writeFileSync(
    configPath,
    renderKratosConfig({
      publicBaseUrl: `http://127.0.0.1:${publicPort}/`,
      adminBaseUrl: `http://127.0.0.1:${adminPort}/`,
      returnUrl: 'http://127.0.0.1:3000/',
      identitySchemaPath: schemaPath,
    }),
  );
  const child = spawn(binary, kratosServeCommand(configPath, true), {
    env: { ...env, DSN: dsn, SERVE_PUBLIC_HOST: '127.0.0.1', SERVE_PUBLIC_PORT: String(publicPort), SERVE_ADMIN_HOST: '127.0.0.1', SERVE_ADMIN_PORT: String(adminPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((res) => child.once('close', () => res()));
  const stop = async (): Promise<string> => {
    child.kill('SIGTERM');
    await exited;
    return output;
  };
  const adminBase = `http://127.0.0.1:${adminPort}`;
  const publicBase = `http://127.0.0.1:${publicPort}`;
  const admin = await waitForHealth(`${adminBase}/admin/health/ready`, child, 120_000);
  const pub = admin.status === 200 ? await waitForHealth(`${publicBase}/health/ready`, child, 10_000) : admin;
  if (admin.status !== 200 || pub.status !== 200) {
    await stop();
    throw new Error(`kratos serve did not become ready (admin ${admin.status} ${admin.body}, public ${pub.status}):\n${output.slice(-4000)}`);
  }
  return { adminBase, publicBase, output: () => output, stop };
}
