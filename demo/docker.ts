/**
 * `npm run demo -- --docker`: the primary seed's Strategy 1 as a user runs
 * it — `cd examples/local && pulumi up` with TLS on a real Docker engine
 * (the lab's own, lab/docker.ts, with the offline images) through the real
 * Pulumi engine — then what a user sees and checks: the Kratos URL and its
 * health, every output URL connecting through the published port with
 * verify-full against the CA output, the instances isolated from each
 * other, no password in any container's environment; then `pulumi destroy`
 * (the volume too: the demo sets allowDataDeletion) and the engine let go.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDockerLab } from '../lab/docker';
import { ensureLabImages } from '../lab/docker-images';
import { ExampleStack, buildEngine, engineSandbox } from '../lab/engine';
import { freePort } from '../lab/server';
import { Check, connectionChecks, firstLine } from './checks';

/** What the Docker demo saw. */
export interface DockerDemoReport {
  stack: string;
  kratosPublicUrl: string;
  /** The instances' URLs through the published port (with passwords). */
  urls: Record<string, string>;
  /** `pulumi up`'s summary lines. */
  upSummary: string[];
  containers: string[];
  checks: Check[];
}

/** The URL of the stack's network (host `postgres`) as this machine reaches it. */
function published(url: string, port: number, caFile: string): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  u.searchParams.set('sslrootcert', caFile);
  return u.toString();
}

/** Runs examples/local with TLS on the lab's Docker engine, checks it, and tears it down. */
export async function dockerDemo(log: (line: string) => void): Promise<DockerDemoReport> {
  log('docker     the lab\'s Docker engine (Debian\'s dockerd, its own socket) with the offline images (npm run docker-lab)');
  const lab = await startDockerLab({ log });
  const work = mkdtempSync(join(tmpdir(), 'ps-demo-docker-'));
  let stack: ExampleStack | undefined;
  try {
    await ensureLabImages(lab, { log });
    log('engine     building or finding the Pulumi CLI and plugins, docker included (npm run engine)');
    const sandbox = engineSandbox(await buildEngine());
    Object.assign(sandbox.env, { DOCKER_HOST: lab.host, DOCKER_CONFIG: lab.configDir });
    const [port, publicPort] = [await freePort(), await freePort()];
    stack = new ExampleStack('local', `demo-${Math.random().toString(36).slice(2, 8)}`, sandbox);
    log(`pulumi     cd examples/local && pulumi stack init ${stack.stack} && pulumi config set tls true, publishPort ${port}, kratosPublicPort ${publicPort}, instances [blog]`);
    await stack.init();
    await stack.config({ tls: 'true', publishPort: String(port), kratosPublicPort: String(publicPort), instances: JSON.stringify([{ name: 'blog' }]), allowDataDeletion: 'true' });
    log('pulumi     pulumi up');
    const up = await stack.up();
    const lines = up.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('Resources:'));
    const upSummary = (at < 0 ? [] : lines.slice(at)).map((l) => l.trim()).filter((l) => l && !l.startsWith('warning:'));
    const outputs = await stack.outputs();
    const caFile = join(work, 'postgres-ca.pem');
    writeFileSync(caFile, outputs['caPem'] as string);

    const checks: Check[] = [];
    const check = (name: string, ok: boolean, detail: string): void => void checks.push({ name, ok, detail });
    const ps = await lab.dockerOk(['ps', '-a', '--filter', `name=^/postgres-strategies-local-${stack.stack}-`, '--format', '{{.Names}}\t{{.Status}}']);
    const containers = ps.stdout.trim().split('\n').filter(Boolean);
    const kratosPublicUrl = `http://127.0.0.1:${publicPort}/`;
    let health = { status: 0, body: '' };
    for (let i = 0; i < 60 && health.status !== 200; i++) {
      try {
        const r = await fetch(`${kratosPublicUrl}health/ready`, { signal: AbortSignal.timeout(3000) });
        health = { status: r.status, body: await r.text() };
      } catch (e) {
        health = { status: 0, body: (e as Error).message };
      }
      if (health.status !== 200) await new Promise((r) => setTimeout(r, 1000));
    }
    check('Kratos answers /health/ready on its published port', health.status === 200, `${health.status} ${health.body.trim()}`);
    const urls = Object.fromEntries(Object.entries(outputs['urls'] as Record<string, string>).map(([n, u]) => [n, published(u, port, caFile)]));
    checks.push(
      ...(await connectionChecks(Object.entries(urls).map(([instance, url]) => ({ instance, database: instance, user: instance, url })))),
    );
    const envs = (await lab.dockerOk(['inspect', '--format', '{{.Name}} {{join .Config.Env " "}}', ...containers.map((c) => c.split('\t')[0] as string)])).stdout;
    const secrets = [outputs['hostUrl'], ...Object.values(outputs['urls'] as Record<string, string>)].map((u) => decodeURIComponent(new URL(u as string).password));
    const leaked = secrets.filter((s) => envs.includes(s)).length;
    check('no password in any container\'s environment (docker inspect)', leaked === 0, leaked === 0 ? 'POSTGRES_PASSWORD_FILE and Kratos\' mounted config instead' : `${leaked} password(s) visible`);
    const second = await stack.run(['preview', '--expect-no-changes']);
    check('a second preview changes nothing', second.code === 0, second.code === 0 ? 'no changes' : firstLine(second.stdout + second.stderr));
    return { stack: stack.stack, kratosPublicUrl, urls, upSummary, containers, checks };
  } finally {
    if (stack) {
      log('pulumi     pulumi destroy (containers, network and, with allowDataDeletion, the volume)');
      await stack.remove();
    }
    rmSync(work, { recursive: true, force: true });
    await lab.release();
  }
}
