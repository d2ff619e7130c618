/**
 * The local strategy on a real Docker engine (`npm run bench -- --only
 * docker`): `pulumi up` of examples/local (the server, the bootstrap,
 * `kratos migrate`, Kratos; no TLS, published on 127.0.0.1) from nothing
 * until Kratos answers `/health/ready`, against `docker compose up -d
 * --wait` of the same containers on the same images (the stack's own
 * `composeYaml` and `composeFiles`) until the same answer; and a no-op
 * `pulumi up`. The lab's Docker engine (lab/docker.ts) with the offline
 * images; runs alternate between the two, each from nothing (volumes
 * removed). Target: ≤ 1.3× the compose time.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DockerLab, startDockerLab } from '../lab/docker';
import { ensureLabImages } from '../lab/docker-images';
import { ExampleStack, buildEngine, engineSandbox } from '../lab/engine';
import { freePorts } from '../lab/server';
import { markdownTable, median, num, textTable, times, verdict } from './stats';

export const DOCKER_UP_TARGET = 1.3;

/** What the section prints. */
export interface DockerSection {
  lines: string[];
  md: string[];
  failed: number;
}

async function kratosReady(url: string, limitMs = 180_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) return;
    } catch {
      // not yet
    }
    if (Date.now() - started > limitMs) throw new Error(`Kratos did not become ready at ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the section: `runs` alternating runs of each. */
export async function dockerSection(runs: number, progress: (s: string) => void): Promise<DockerSection> {
  const lab: DockerLab = await startDockerLab({ log: progress });
  const work = mkdtempSync(join(tmpdir(), 'ps-bench-docker-'));
  const pulumiMs: number[] = [];
  const noopMs: number[] = [];
  const composeMs: number[] = [];
  try {
    await ensureLabImages(lab, { log: progress });
    const sandbox = engineSandbox(await buildEngine());
    Object.assign(sandbox.env, { DOCKER_HOST: lab.host, DOCKER_CONFIG: lab.configDir });
    const [port, publicPort] = await freePorts(2);
    const ready = `http://127.0.0.1:${publicPort}/health/ready`;
    let composeDir: string | undefined;
    for (let i = 0; i < runs; i++) {
      const stack = new ExampleStack('local', `bench-${i}-${Math.random().toString(36).slice(2, 6)}`, sandbox);
      await stack.init();
      await stack.config({ publishPort: String(port), kratosPublicPort: String(publicPort), allowDataDeletion: 'true' });
      progress(`docker: pulumi up of examples/local, run ${i + 1}/${runs}`);
      let t = Date.now();
      await stack.up();
      await kratosReady(ready);
      pulumiMs.push(Date.now() - t);
      t = Date.now();
      await stack.up();
      noopMs.push(Date.now() - t);
      if (!composeDir) {
        const outputs = await stack.outputs();
        composeDir = join(work, 'compose');
        mkdirSync(composeDir, { recursive: true });
        writeFileSync(join(composeDir, 'docker-compose.yml'), outputs['composeYaml'] as string);
        for (const [path, content] of Object.entries(outputs['composeFiles'] as Record<string, string>)) {
          mkdirSync(dirname(join(composeDir, path)), { recursive: true });
          writeFileSync(join(composeDir, path), content);
          chmodSync(join(composeDir, path), path === 'secrets/postgres-password' ? 0o600 : 0o644);
        }
      }
      await stack.remove();

      progress(`docker: docker compose up -d --wait of the same containers, run ${i + 1}/${runs}`);
      const project = `ps-bench-${i}`;
      t = Date.now();
      await lab.dockerOk(['compose', '-p', project, 'up', '-d', '--wait'], { cwd: composeDir });
      await kratosReady(ready);
      composeMs.push(Date.now() - t);
      await lab.dockerOk(['compose', '-p', project, 'down', '-v'], { cwd: composeDir });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    await lab.release();
  }
  const ratio = median(pulumiMs) / median(composeMs);
  const v = verdict(ratio, DOCKER_UP_TARGET);
  const header = ['examples/local on Docker, until Kratos /health/ready', 'time (ms)'];
  const rows = [
    ['`pulumi up` from nothing', num(median(pulumiMs))],
    ['`docker compose up -d --wait` of the same containers', num(median(composeMs))],
    [`**ratio** (target ≤ ${DOCKER_UP_TARGET}×)`, `**${times(ratio)}** ${v}`],
    ['no-op `pulumi up`', num(median(noopMs))],
  ];
  const title = `Local strategy on Docker 20.10 (lab engine, offline images; median of ${runs} alternating runs; each from nothing):`;
  return {
    lines: [title, textTable(header, rows.map((r) => r.map((c) => c.replace(/\*\*|`/g, ''))), 'lr'), `  pulumi up runs: ${pulumiMs.map((x) => num(x)).join(', ')}; compose runs: ${composeMs.map((x) => num(x)).join(', ')}`],
    md: [title, '', markdownTable(header, rows, 'lr')],
    failed: v === 'PASS' ? 0 : 1,
  };
}
