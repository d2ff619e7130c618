/**
 * The compose output's real consumer: Docker Compose v2 (the lab's plugin,
 * built from the Go module proxy: lab/docker.ts) validates the rendered
 * docker-compose.yml with its mounted files — no Docker engine needed for
 * `config` (the same files run on a real engine in
 * test/e2e/engine/local-compose.test.ts). For every option
 * combination the unit tests render (test/unit/local/compose-cases.ts), the
 * files are written into a temporary directory the way the README tells
 * users to (docker-compose.yml, the `composeFiles` next to it), then:
 *
 * - `docker-compose config` exits 0 with no warning, keeps every
 *   environment value literally (a `$` is not interpolated), the
 *   superuser's password as a file secret, and the commands, user,
 *   healthcheck, dependency conditions, ports and volumes the plan asks for;
 * - `docker-compose config --services` lists the plan's services.
 *
 * Every docker-compose run starts a Python interpreter (about half a second
 * of CPU), so the runs are made up front, a few at a time.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { ensureCompose, dockerCli } from '../../lab/docker';
import { RunResult, run } from '../../lab/run';
import { composeFileSources, escapeComposeValue, renderComposeFile } from '../../src/local/compose';
import { LocalStackPlan, planLocalStack } from '../../src/local/plan';
import { COMPOSE_CASES } from '../unit/local/compose-cases';

type Run = RunResult;

let configDir = '';

/** `docker compose` in the case's directory. No daemon is contacted by `config`; DOCKER_HOST points nowhere to prove it. */
function compose(dir: string, args: string[]): Promise<Run> {
  return run(dockerCli(), ['compose', '--project-directory', dir, '-f', join(dir, 'docker-compose.yml'), ...args], {
    cwd: dir,
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], LANG: 'C.UTF-8', DOCKER_HOST: 'unix:///nonexistent.sock', DOCKER_CONFIG: configDir },
  });
}

/** Runs the jobs, at most `limit` at a time. */
async function pool<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await (jobs[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

interface Case {
  title: string;
  plan: LocalStackPlan;
  dir: string;
  config?: Run;
  services?: Run;
}

const root = mkdtempSync(join(tmpdir(), 'ps-compose-'));
const cases: Case[] = COMPOSE_CASES.map(([title, options], i) => {
  const plan = planLocalStack(options);
  return { title, plan, dir: join(root, `case-${i}`) };
});

/** Writes a case's docker-compose.yml and mounted files. */
function writeCase(c: Case, dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'docker-compose.yml'), renderComposeFile(c.plan));
  for (const f of composeFileSources(c.plan)) {
    mkdirSync(dirname(join(dir, f.source)), { recursive: true });
    writeFileSync(join(dir, f.source), `# ${f.content}\n`);
  }
}

beforeAll(async () => {
  configDir = dirname(dirname(await ensureCompose()));
  for (const c of cases) writeCase(c, c.dir);
  const jobs: Array<() => Promise<void>> = [
    ...cases.flatMap((c) => [
      async () => {
        c.config = await compose(c.dir, ['config']);
      },
      async () => {
        c.services = await compose(c.dir, ['config', '--services']);
      },
    ]),
  ];
  await pool(jobs, 3);
}, 30 * 60_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(cases.map((c) => [c.title, c] as const))('docker compose config: %s', (_, c) => {
  test('valid, no warning; values kept literally; the password a file secret; the plan\'s services, commands, user, healthcheck, conditions, ports and volumes', () => {
    const { plan } = c;
    expect([c.config!.code, c.config!.stderr]).toEqual([0, '']);
    const resolved = parse(c.config!.stdout) as { services: Record<string, any>; volumes: Record<string, unknown> };
    expect(Object.keys(resolved.services).sort()).toEqual(plan.containers.map((x) => x.service).sort());
    for (const x of plan.containers) {
      const s = resolved.services[x.service];
      // `config` prints a compose file again, so a literal `$` comes back as `$$`: taken literally, not interpolated.
      for (const e of x.env) expect([x.service, e.name, s.environment[e.name]]).toEqual([x.service, e.name, escapeComposeValue(e.value)]);
      expect(s.command).toEqual(x.command);
      expect(s.user).toBe(x.user);
      for (const d of x.dependsOn) expect(s.depends_on[d.service]).toMatchObject({ condition: d.condition });
      expect(s.ports ?? []).toHaveLength(x.ports.length);
      if (x.healthcheck) expect(s.healthcheck.test).toEqual(x.healthcheck.test);
    }
    expect(Object.keys(resolved.volumes).sort()).toEqual(plan.oneShotBootstrap ? ['postgres_data', 'postgres_socket'] : ['postgres_data']);
    expect(resolved.services['postgres'].environment['POSTGRES_PASSWORD_FILE']).toBe('/run/secrets/postgres-password');
    expect(JSON.stringify(resolved.services['postgres'].secrets)).toContain('postgres-password');
  });

  test('config --services lists the plan\'s services', () => {
    expect(c.services!.code).toBe(0);
    expect(c.services!.stdout.trim().split('\n').sort()).toEqual(c.plan.containers.map((x) => x.service).sort());
  });
});
