/**
 * The compose output's real consumer: Debian's `docker-compose` (1.29)
 * validates the rendered docker-compose.yml with its .env and mounted files
 * — no Docker engine needed for `config`. For every option combination the
 * unit tests render (test/unit/local/compose-cases.ts), the files are
 * written into a temporary directory the way the README tells users to
 * (docker-compose.yml, .env from `renderDotEnv`, the `composeFiles` next to
 * them), then:
 *
 * - `docker-compose config` exits 0 with no warning, resolves every secret
 *   from .env literally (a `$` in a value is not interpolated; the YAML
 *   holds only the `${VAR:?…}` reference), and keeps the commands, user,
 *   healthcheck, dependency conditions, ports and volumes the plan asks for;
 * - `docker-compose config --services` lists the plan's services;
 * - without the .env file, `config` refuses with the message of the
 *   `${VAR:?…}` reference.
 *
 * Every docker-compose run starts a Python interpreter (about half a second
 * of CPU), so the runs are made up front, a few at a time.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { RunResult, run } from '../../lab/run';
import { composeFileSources, escapeComposeValue, renderComposeFile, renderDotEnv } from '../../src/local/compose';
import { EnvSecret, LocalStackPlan, planLocalStack } from '../../src/local/plan';
import { COMPOSE_CASES } from '../unit/local/compose-cases';

type Run = RunResult;

/** docker-compose in the case's directory (lab/run). No daemon is contacted by `config`; DOCKER_HOST points nowhere to prove it. */
async function compose(dir: string, args: string[]): Promise<Run> {
  try {
    return await run('docker-compose', ['--project-directory', dir, '-f', join(dir, 'docker-compose.yml'), ...args], {
      cwd: dir,
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], LANG: 'C.UTF-8', DOCKER_HOST: 'unix:///nonexistent.sock' },
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('docker-compose is needed for this test (Debian: apt-get install docker-compose; .ci/run installs it)');
    throw e;
  }
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

/** Stand-in secrets: distinctive, .env-safe, and with a `$` compose must not interpolate. */
const SECRETS: Record<EnvSecret, string> = {
  [EnvSecret.SuperuserPassword]: 'SuperuserPw$NotAVariable123',
  [EnvSecret.KratosDsn]: 'postgres://kratos:Pw%24x@postgres:5432/kratos?sslmode=disable&max_conns=10',
};

interface Case {
  title: string;
  plan: LocalStackPlan;
  dir: string;
  secretNames: EnvSecret[];
  config?: Run;
  services?: Run;
}

const root = mkdtempSync(join(tmpdir(), 'ps-compose-'));
const cases: Case[] = COMPOSE_CASES.map(([title, options], i) => {
  const plan = planLocalStack(options);
  return { title, plan, dir: join(root, `case-${i}`), secretNames: [...new Set(plan.containers.flatMap((c) => c.env.flatMap((e) => (e.secret ? [e.secret] : []))))] };
});
let withoutEnv: Run | undefined;

/** Writes a case's docker-compose.yml and mounted files, and its .env unless told not to. */
function writeCase(c: Case, dir: string, withEnv: boolean): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'docker-compose.yml'), renderComposeFile(c.plan));
  for (const f of composeFileSources(c.plan)) {
    mkdirSync(dirname(join(dir, f.source)), { recursive: true });
    writeFileSync(join(dir, f.source), `# ${f.content}\n`);
  }
  if (withEnv) writeFileSync(join(dir, '.env'), renderDotEnv(Object.fromEntries(c.secretNames.map((n) => [n, SECRETS[n]]))));
}

beforeAll(async () => {
  for (const c of cases) writeCase(c, c.dir, true);
  const first = cases[0] as Case;
  writeCase(first, join(root, 'no-env'), false);
  const jobs: Array<() => Promise<void>> = [
    async () => {
      withoutEnv = await compose(join(root, 'no-env'), ['config', '-q']);
    },
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
}, 240_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

test('without .env, compose refuses and says which variable to set', () => {
  expect(withoutEnv!.code).not.toBe(0);
  expect(withoutEnv!.stderr).toContain('set POSTGRES_PASSWORD in the .env file next to docker-compose.yml');
});

describe.each(cases.map((c) => [c.title, c] as const))('docker-compose config: %s', (_, c) => {
  test('valid with its .env, no warning; secrets resolved literally; the plan\'s services, commands, user, healthcheck, conditions, ports and volumes', () => {
    const { plan } = c;
    expect([c.config!.code, c.config!.stderr]).toEqual([0, '']);
    const resolved = parse(c.config!.stdout) as { services: Record<string, any>; volumes: Record<string, unknown> };
    expect(Object.keys(resolved.services).sort()).toEqual(plan.containers.map((x) => x.service).sort());
    for (const x of plan.containers) {
      const s = resolved.services[x.service];
      // `config` prints a compose file again, so a literal `$` comes back as `$$`: taken literally, not interpolated.
      for (const e of x.env) expect([x.service, e.name, s.environment[e.name]]).toEqual([x.service, e.name, escapeComposeValue(e.secret ? SECRETS[e.secret] : (e.value as string))]);
      expect(s.command).toEqual(x.command);
      expect(s.user).toBe(x.user);
      for (const d of x.dependsOn) expect(s.depends_on[d.service]).toEqual({ condition: d.condition });
      expect(s.ports ?? []).toHaveLength(x.ports.length);
      if (x.healthcheck) expect(s.healthcheck.test).toEqual(x.healthcheck.test);
    }
    expect(Object.keys(resolved.volumes).sort()).toEqual(plan.oneShotBootstrap ? ['postgres_data', 'postgres_socket'] : ['postgres_data']);
  });

  test('config --services lists the plan\'s services', () => {
    expect(c.services!.code).toBe(0);
    expect(c.services!.stdout.trim().split('\n').sort()).toEqual(c.plan.containers.map((x) => x.service).sort());
  });
});
