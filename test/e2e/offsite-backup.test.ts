/**
 * The off-site backup job of any server handle (src/core/backup-job.ts),
 * rendered for two instances on one server, and checked by its consumers:
 *
 * - the GitHub Actions workflow passes actionlint v1.7.12 (built from the Go
 *   module proxy; shellcheck on its `run:` scripts);
 * - its backup and drill steps' `run:` scripts run here with bash, with the
 *   step's environment (the secrets replaced by the lab's values) in a
 *   project that has the package installed (`npx postgres-strategies` as a
 *   workflow runs it after `npm ci`), against a real S3-compatible store
 *   (versitygw over HTTPS) and Debian's PostgreSQL 15: each instance's
 *   database is backed up (encrypted) and the drill restores it into a
 *   scratch database on an embedded PostgreSQL 17 and verifies it;
 * - the systemd variant: each `ExecStart` of the rendered service runs with
 *   the variables of its environment file (read as systemd reads
 *   double-quoted values), and `backups list` then shows a complete backup
 *   of both databases.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BACKUP_KEY_ENV, planBackupDestination, planRetention } from '../../src/core/backup';
import { BackupJobPlan, renderBackupSystemd, renderBackupWorkflow, urlSecretName } from '../../src/core/backup-job';
import { libpqUrl } from '../../src/core/dsn';
import { InstancePlan, planServer } from '../../src/core/plan';
import { ACTIONLINT_CONSUMER, buildGoConsumer } from '../../lab/go-consumers';
import { ObjectStoreLab, startObjectStore } from '../../lab/object-store';
import { consumerDir } from '../../lab/consumer';
import { run } from '../../lab/run';
import { LabServer, haveDebianPg15, startLabServer } from '../../lab/server';
import { bootstrap, credentialsFor, loginUrl } from '../integration/support';

jest.setTimeout(600_000);

const KEY = randomBytes(32).toString('base64');
let store: ObjectStoreLab;
let source: LabServer;
let drillServer: LabServer;
let plans: InstancePlan[];
let passwords: Record<string, string>;
let project: { dir: string; remove: () => void };
let actionlint = '';
const dir = mkdtempSync(join(tmpdir(), 'ps-offsite-'));

function jobPlan(): BackupJobPlan {
  return {
    instances: plans.map((p) => ({ name: p.instance })),
    destination: planBackupDestination({ location: 's3://offsite/prod', endpoint: store.endpoint }, 'backup'),
    retention: planRetention({ keep: 7, maxAgeDays: 30 }, 'backup'),
    encrypt: true,
    drill: true,
  };
}

/** What a runner gives a step: the job's and the step's env, `${{ … }}` replaced by the lab's values. */
function stepEnv(jobEnv: Record<string, string>, stepEnv: Record<string, string>, matrix: { instance: string; url_secret: string }): Record<string, string> {
  const secrets: Record<string, string> = {
    BACKUP_AWS_ACCESS_KEY_ID: store.accessKeyId,
    BACKUP_AWS_SECRET_ACCESS_KEY: store.secretAccessKey,
    [BACKUP_KEY_ENV]: KEY,
    PS_DRILL_URL: libpqUrl(drillServer.admin('postgres')),
  };
  for (const p of plans) secrets[urlSecretName(p.instance)] = loginUrl(source, p.database, p.login.name, passwords[p.login.name]!);
  const expand = (v: string): string =>
    v.replace(/\$\{\{ secrets\.([A-Z0-9_]+) \}\}/g, (_m, k: string) => secrets[k] ?? '').replace(/\$\{\{ secrets\[matrix\.url_secret\] \}\}/g, () => secrets[matrix.url_secret] ?? '');
  return Object.fromEntries(Object.entries({ ...jobEnv, ...stepEnv }).map(([k, v]) => [k, expand(String(v))]));
}

function bash(script: string, env: Record<string, string>): ReturnType<typeof run> {
  return run('bash', ['-eo', 'pipefail', '-c', script], {
    cwd: project.dir,
    env: { PATH: `${join(project.dir, 'node_modules', '.bin')}:${process.env['PATH']}`, HOME: process.env['HOME'], AWS_CA_BUNDLE: store.caFile, ...env },
  });
}

beforeAll(async () => {
  if (!haveDebianPg15()) throw new Error('Debian PostgreSQL 15 is needed as the server: apt-get install postgresql-15 (and run as root)');
  [store, source, drillServer, actionlint] = await Promise.all([
    startObjectStore({ buckets: ['offsite'] }),
    startLabServer({ version: 15, tls: true, conf: { fsync: false } }),
    startLabServer({ version: 17, tls: true, conf: { fsync: false } }),
    buildGoConsumer(ACTIONLINT_CONSUMER),
  ]);
  plans = planServer([{ name: 'blog' }, { name: 'api' }], { maxConnections: 100, reservedConnections: 3 }, { namePrefix: 'vw_' }).instances;
  const creds = credentialsFor(plans, () => `pw:${randomBytes(9).toString('base64url')}@/?`);
  passwords = creds.passwords;
  await bootstrap(libpqUrl(source.admin()), plans, creds);
  for (const p of plans) {
    const r = await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', loginUrl(source, p.database, p.login.name, passwords[p.login.name]!)], {
      input: `CREATE TABLE notes (id serial PRIMARY KEY, body text); INSERT INTO notes (body) SELECT '${p.instance} ' || i FROM generate_series(1, 1000) i;`,
    });
    expect(r.stderr).toBe('');
  }
  // A project with the package installed, as `npm ci` leaves it on a runner.
  project = consumerDir('postgres-strategies');
  mkdirSync(join(project.dir, 'node_modules', '.bin'));
  // npm links the bin and makes its target executable; a wrapper does the same without touching dist/.
  writeFileSync(join(project.dir, 'node_modules', '.bin', 'postgres-strategies'), `#!/bin/sh\nexec node "$(dirname "$0")/../postgres-strategies/dist/src/cli/main.js" "$@"\n`, { mode: 0o755 });
}, 900_000);
afterAll(async () => {
  project?.remove();
  rmSync(dir, { recursive: true, force: true });
  await Promise.all([store?.stop(), source?.stop(), drillServer?.stop()]);
});

test('the workflow passes actionlint (and shellcheck on its scripts)', async () => {
  const file = join(dir, 'postgres-backups.yml');
  writeFileSync(file, renderBackupWorkflow(jobPlan()));
  const r = await run(actionlint, ['-no-color', '-format', '{{json .}}', file]);
  expect({ code: r.code, errors: JSON.parse(r.stdout || '[]') }).toEqual({ code: 0, errors: [] });
});

test("the workflow's backup and drill steps, run with bash: each instance backed up, each backup restored in a scratch database and verified", async () => {
  const doc = parse(renderBackupWorkflow(jobPlan())) as { jobs: { backup: { env: Record<string, string>; strategy: { matrix: { include: Array<{ instance: string; url_secret: string }> } }; steps: Array<{ name?: string; run?: string; env?: Record<string, string> }> } } };
  const job = doc.jobs.backup;
  const backupStep = job.steps.find((s) => s.name?.startsWith('backup '))!;
  const drillStep = job.steps.find((s) => s.name?.startsWith('restore drill '))!;
  expect(job.strategy.matrix.include.map((m) => m.instance)).toEqual(['blog', 'api']);
  for (const matrix of job.strategy.matrix.include) {
    const backup = await bash(backupStep.run!, stepEnv(job.env, backupStep.env ?? {}, matrix));
    expect({ code: backup.code, err: backup.code === 0 ? '' : backup.stderr }).toEqual({ code: 0, err: '' });
    expect(backup.stdout).toMatch(new RegExp(`postgres-strategies backup: s3://offsite/prod/vw_${matrix.instance}/\\d{8}T`));
    expect(backup.stdout).toMatch(/encrypted \(aes-256-gcm\)/);
    // The AWS SDK's Node.js support warning does not reach a job's log (issue 21 follow-up).
    expect(backup.stderr).not.toMatch(/NodeVersionSupportWarning/);
    const drill = await bash(drillStep.run!, stepEnv(job.env, drillStep.env ?? {}, matrix));
    expect({ code: drill.code, err: drill.code === 0 ? '' : drill.stderr }).toEqual({ code: 0, err: '' });
    expect(drill.stdout).toMatch(/restored and verified: no difference/);
    expect(drill.stderr).not.toMatch(/NodeVersionSupportWarning/);
    expect(drill.stdout).toMatch(/scratch database, dropped/);
    expect(drill.stdout).toMatch(/checked 1 tables \(1000 rows\)/);
  }
});

test("the systemd variant: every ExecStart runs with its environment file's variables; both databases have a complete backup", async () => {
  const urls = Object.fromEntries(plans.map((p) => [p.instance, loginUrl(source, p.database, p.login.name, passwords[p.login.name]!)]));
  const units = renderBackupSystemd(jobPlan(), { urls, accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey, backupKey: KEY }, 'npx --no-install postgres-strategies');
  expect(units.timer).toMatch(/^OnCalendar=\*-\*-\* 03:15:00 UTC$/m);
  // systemd's EnvironmentFile: KEY="value" with \" and \\ escaped.
  const env = Object.fromEntries(
    units.environmentFile
      .split('\n')
      .filter((l) => /^[A-Z_][A-Z0-9_]*="/.test(l))
      .map((l) => {
        const i = l.indexOf('=');
        return [l.slice(0, i), JSON.parse(l.slice(i + 1)) as string];
      }),
  );
  const execStarts = units.service.split('\n').filter((l) => l.startsWith('ExecStart=')).map((l) => l.slice('ExecStart='.length));
  expect(execStarts).toHaveLength(2);
  for (const cmd of execStarts) {
    const r = await bash(cmd, env);
    expect({ code: r.code, err: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, err: '' });
    expect(r.stderr).not.toMatch(/NodeVersionSupportWarning/);
  }
  const list = await bash("npx --no-install postgres-strategies backups list s3://offsite/prod --json", env);
  const entries = JSON.parse(list.stdout) as Array<{ database: string; complete: boolean }>;
  expect(new Set(entries.filter((e) => e.complete).map((e) => e.database))).toEqual(new Set(['vw_blog', 'vw_api']));
  expect(entries.filter((e) => e.complete)).toHaveLength(4);
});
