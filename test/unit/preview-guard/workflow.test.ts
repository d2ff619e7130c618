/**
 * The example workflow's own logic (docs/github-actions/preview-guard.yml),
 * run here the way GitHub runs it; actionlint checks the file as a whole in
 * test/e2e/workflow-lint.test.ts.
 *
 * Proves:
 * - the `check-preview` step, run by `bash -eo pipefail` (GitHub's shell) in
 *   a consumer project where `npx --no-install postgres-strategies` is this
 *   package's bin, writes the Markdown report to the job summary and the
 *   exit status to the step's outputs: 1 for an unacknowledged error, 0
 *   once `.github/preview-guard-allow` lists the resource (comments, blank
 *   lines, spaces and a last line without a newline are read right);
 * - the `comment the findings` script creates one comment, then updates
 *   that same comment (found by the report's marker) instead of adding
 *   another, and leaves Pulumi's own comment alone.
 *
 * The step runs the package's bin from dist/ (npm test builds it; alone:
 * `npx tsc -p tsconfig.json` first).
 */
import { installMocks, settled } from '../../../lab/pulumi-mocks';
import { rdsState } from '../rds/fixture';
const rt = installMocks({ stack: 'prod', state: rdsState });

import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { RdsPostgres } from '../../../src/rds/component';
import { MARKDOWN_MARKER } from '../../../src/preview-guard';
import { consumerDir } from '../packaging/consumer';
import { previewOf, stepFor } from './fixtures';

jest.setTimeout(60_000);

const ROOT = resolve(__dirname, '../../..');
interface Step {
  name?: string;
  run?: string;
  with?: { script?: string };
}
const workflow = parse(readFileSync(join(ROOT, 'docs/github-actions/preview-guard.yml'), 'utf8')) as { jobs: { preview: { steps: Step[] } } };
const step = (name: string): Step => {
  const found = workflow.jobs.preview.steps.find((s) => s.name === name);
  if (!found) throw new Error(`no step "${name}"`);
  return found;
};

// allowDeletion: neither protected nor retained, so its replacement is a plain error (no failed preview).
new RdsPostgres('app-db', { sslrootcert: 'global-bundle.pem', vpcId: 'vpc-0abc', subnetIds: ['subnet-a', 'subnet-b'], allowedSecurityGroupIds: ['sg-app'], allowDeletion: true, deletionProtection: false });

const consumer = consumerDir('postgres-strategies');
afterAll(() => consumer.remove());
const runnerTemp = join(consumer.dir, 'runner-temp');

beforeAll(async () => {
  await settled();
  mkdirSync(runnerTemp);
  // What `npm ci` links for a dependency's bin.
  mkdirSync(join(consumer.dir, 'node_modules', '.bin'));
  const bin = join(consumer.dir, 'node_modules', '.bin', 'postgres-strategies');
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${join(consumer.dir, 'node_modules/postgres-strategies/dist/src/cli/main.js')}" "$@"\n`);
  chmodSync(bin, 0o755);
  writeFileSync(join(consumer.dir, 'package.json'), JSON.stringify({ name: 'app', private: true, dependencies: { 'postgres-strategies': '*' } }));
  writeFileSync(join(runnerTemp, 'preview.json'), JSON.stringify(previewOf(stepFor(rt.named('app-db-instance'), { kmsKeyId: 'arn:aws:kms:eu-central-1:123456789012:key/2' }))));
});

/** Runs the `check-preview` step's script as GitHub does and returns its outputs and job summary. */
async function runGuardStep(): Promise<{ outputs: string; summary: string }> {
  const outputs = join(runnerTemp, `output-${Date.now()}`);
  const summary = join(runnerTemp, `summary-${Date.now()}`);
  writeFileSync(outputs, '');
  writeFileSync(summary, '');
  await promisify(execFile)('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step('check-preview').run as string], {
    cwd: consumer.dir,
    env: { ...process.env, RUNNER_TEMP: runnerTemp, GITHUB_OUTPUT: outputs, GITHUB_STEP_SUMMARY: summary, npm_config_yes: 'false' },
  });
  return { outputs: readFileSync(outputs, 'utf8'), summary: readFileSync(summary, 'utf8') };
}

test('check-preview step: an unacknowledged error gives status=1 and the report in the job summary', async () => {
  const { outputs, summary } = await runGuardStep();
  expect(outputs).toBe('status=1\n');
  expect(summary.startsWith(`${MARKDOWN_MARKER}\n### 🛑 Data-loss guard: 1 error, 0 warnings: 1 change would lose data`)).toBe(true);
});

test('check-preview step: .github/preview-guard-allow acknowledges it (comments, blanks, spaces, no final newline)', async () => {
  mkdirSync(join(consumer.dir, '.github'), { recursive: true });
  writeFileSync(join(consumer.dir, '.github', 'preview-guard-allow'), '# planned: re-encryption with the new key\n\n   app-db-instance   # ticket 42\nshared-old-database');
  const { outputs, summary } = await runGuardStep();
  expect(outputs).toBe('status=0\n');
  expect(summary).toContain('Acknowledged by `--allow app-db-instance`.');
});

describe('comment the findings', () => {
  type Comment = { id: number; body: string };
  const script = step('comment the findings').with?.script as string;
  const report = join(runnerTemp, 'guard.md');

  /** Runs the github-script with a fake `github` holding `comments`; returns the calls it made. */
  async function runScript(comments: Comment[]): Promise<string[]> {
    const calls: string[] = [];
    const listComments = async (): Promise<never> => {
      throw new Error('called through paginate only');
    };
    const github = {
      paginate: async (fn: unknown, params: Record<string, unknown>) => {
        expect(fn).toBe(listComments);
        expect(params).toEqual({ owner: 'acme', repo: 'app', issue_number: 7, per_page: 100 });
        return comments;
      },
      rest: {
        issues: {
          listComments,
          updateComment: async (p: { comment_id: number; body: string }) => void calls.push(`update ${p.comment_id}: ${p.body.split('\n')[1]}`),
          createComment: async (p: { issue_number: number; body: string }) => void calls.push(`create on ${p.issue_number}: ${p.body.split('\n')[1]}`),
        },
      },
    };
    const context = { repo: { owner: 'acme', repo: 'app' }, issue: { number: 7 } };
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
    const previous = process.env['REPORT'];
    process.env['REPORT'] = report;
    try {
      await new AsyncFunction('github', 'context', 'require', script)(github, context, require);
    } finally {
      if (previous === undefined) delete process.env['REPORT'];
      else process.env['REPORT'] = previous;
    }
    return calls;
  }

  test('creates the comment once, then updates the same one; Pulumi\'s comment is left alone', async () => {
    await runGuardStep(); // writes guard.md
    const headline = readFileSync(report, 'utf8').split('\n')[1];
    const pulumi: Comment = { id: 1, body: '#### :tropical_drink: `preview` on acme/app/prod\n...' };
    expect(await runScript([pulumi])).toEqual([`create on 7: ${headline}`]);
    expect(await runScript([pulumi, { id: 2, body: `${MARKDOWN_MARKER}\n### ✅ Data-loss guard: old` }])).toEqual([`update 2: ${headline}`]);
  });
});
