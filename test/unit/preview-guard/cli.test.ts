/**
 * `postgres-strategies check-preview` as a user runs it: the exit status,
 * `--allow`, the three formats, stdin, bad usage and bad input, and that
 * no password in a preview's inputs reaches the report.
 *
 * The previews are built like providers.test.ts's (our components under the
 * mock runtime, one input changed); the bin itself runs from dist/ in a
 * child process (npm test builds it; alone: `npx tsc -p tsconfig.json`).
 */
import { installMocks, settled } from '../../../lab/pulumi-mocks';
import { rdsState } from '../rds/fixture';
const rt = installMocks({ stack: 'prod', state: rdsState });

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as postgresql from '@pulumi/postgresql';
import { RdsPostgres } from '../../../src/rds/component';
import { main } from '../../../src/preview-guard/cli';
import { JsonReport, MARKDOWN_MARKER } from '../../../src/preview-guard';
import { previewOf, stepFor } from './fixtures';

jest.setTimeout(60_000);

// allowDeletion: neither protected nor retained, so its replacement is a plain error (no failed preview).
new RdsPostgres('app-db', { sslrootcert: 'global-bundle.pem', vpcId: 'vpc-0abc', subnetIds: ['subnet-a', 'subnet-b'], allowedSecurityGroupIds: ['sg-app'], allowDeletion: true, deletionProtection: false });
new postgresql.Role('reporting', { name: 'reporting', login: true, password: 'pw' });
new postgresql.Database('odd', { name: 'a|b*c_`x`' });

const dir = mkdtempSync(join(tmpdir(), 'ps-check-preview-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

/**
 * Plain values a preview carries when the program did not mark them secret
 * (the engine masks the marked ones as `[secret]`, even with `--show-secrets`).
 */
const SECRET_PASSWORD = 'hunter2-do-not-print';
const SECRET_VERIFIER = 'SCRAM-SHA-256$4096:c2FsdHNhbHQ=$c3RvcmVk:c2VydmVy';

let replaced = '';
let withSecrets = '';
let odd = '';
beforeAll(async () => {
  await settled();
  replaced = file('replaced.json', JSON.stringify(previewOf(stepFor(rt.named('app-db-instance'), { kmsKeyId: 'arn:aws:kms:eu-central-1:123456789012:key/2' }))));
  const role = rt.named('reporting');
  const renamed = stepFor({ ...role, inputs: { ...role.inputs, password: SECRET_VERIFIER } }, { name: 'reports', password: SECRET_PASSWORD });
  const dropped = stepFor({ ...rt.named('app-db-instance'), inputs: { ...rt.named('app-db-instance').inputs, password: SECRET_PASSWORD, skipFinalSnapshot: true } }, 'delete', false);
  withSecrets = file('secrets.json', JSON.stringify({ ...previewOf(renamed, dropped), config: { 'app:dbPassword': SECRET_PASSWORD } }));
  odd = file('odd.json', JSON.stringify(previewOf(stepFor(rt.named('odd'), 'delete'))));
});

/** Runs main() in this process, capturing what it writes. */
async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

test('an unacknowledged error fails (exit 1) and says how to acknowledge it', async () => {
  const r = await run(replaced);
  expect(r.code).toBe(1);
  expect(r.stdout).toContain('check-preview: 1 error, 0 warnings: 1 change would lose data');
  expect(r.stdout).toContain('ERROR  replace  RDS instance "postgres-strategies-prod-app-db" (RdsPostgres "app-db")');
  expect(r.stdout).toContain('  caused by: kmsKeyId');
  expect(r.stdout).toContain('  to do it on purpose: --allow app-db-instance');
  expect(r.stderr).toBe('');
});

test.each([['app-db-instance'], ['app-db'], ['urn:pulumi:prod::postgres-strategies::postgres-strategies:index:RdsPostgres$aws:rds/instance:Instance::app-db-instance']])(
  '--allow %s acknowledges it: exit 0, still reported',
  async (allow) => {
    const r = await run(replaced, '--allow', allow);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ERROR (acknowledged)  replace  RDS instance "postgres-strategies-prod-app-db"');
    expect(r.stdout).toContain(`acknowledged by --allow ${allow}`);
  },
);

test('an --allow that acknowledges nothing is reported on stderr, and does not help', async () => {
  const r = await run(replaced, '--allow', 'app-db-replica', '--allow', 'app-db-instanc');
  expect(r.code).toBe(1);
  expect(r.stderr).toBe('check-preview: --allow app-db-replica acknowledged nothing in this preview\ncheck-preview: --allow app-db-instanc acknowledged nothing in this preview\n');
});

test('--format markdown writes a PR comment: the marker, a headline, a row per finding, what to do instead', async () => {
  const r = await run(replaced, '--format', 'markdown');
  expect(r.code).toBe(1);
  const lines = r.stdout.split('\n');
  expect(lines[0]).toBe(MARKDOWN_MARKER);
  expect(lines[1]).toBe('### 🛑 Data-loss guard: 1 error, 0 warnings: 1 change would lose data');
  expect(lines).toContain('| 1 | 🛑 error | `replace` | RDS instance `postgres-strategies-prod-app-db` (RdsPostgres `app-db`) | `kmsKeyId` |');
  expect(r.stdout).toContain('- **Instead:** Keep the property. To change encryption');
  expect(r.stdout).toContain('- To do it on purpose: `--allow app-db-instance`.');
});

test('--format json writes the machine-readable report', async () => {
  const r = await run(replaced, '--format', 'json', '--allow', 'app-db');
  expect(r.code).toBe(0);
  const report = JSON.parse(r.stdout) as JsonReport;
  expect(report).toMatchObject({ version: 1, passed: true, summary: { errors: 1, warnings: 0, acknowledged: 1 } });
  expect(report.findings).toEqual([
    expect.objectContaining({ severity: 'error', code: 'replaced', op: 'replace', type: 'aws:rds/instance:Instance', properties: ['kmsKeyId'], component: 'RdsPostgres', componentName: 'app-db', acknowledgedBy: 'app-db' }),
  ]);
});

test('no password in the preview\'s inputs or config reaches any format (names only)', async () => {
  for (const format of ['text', 'markdown', 'json']) {
    const r = await run(withSecrets, '--format', format);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('reporting');
    expect(r.stdout).not.toContain(SECRET_PASSWORD);
    expect(r.stdout).not.toContain(SECRET_VERIFIER);
    expect(r.stdout).not.toContain('c2FsdHNhbHQ');
  }
});

test('names that are Markdown stay literal in the comment: code spans, a longer fence around backticks, pipes escaped in the table', async () => {
  const r = await run(odd, '--format', 'markdown');
  expect(r.stdout).toContain('| 1 | 🛑 error | `delete` | database `` a\\|b*c_`x` `` (Database `odd`) | — |');
  expect(r.stdout).toContain('**1.** database `` a|b*c_`x` `` (Database `odd`) — `delete`');
});

describe('bad usage and bad input exit 2 and say why', () => {
  test.each([
    [[], 'give one preview file (or - for stdin)'],
    [['a.json', 'b.json'], 'give one preview file (or - for stdin), not 2'],
    [['x.json', '--format', 'html'], '--format must be text, markdown or json, not "html"'],
    [['x.json', '--allwo', 'x'], "Unknown option '--allwo'"],
    [['/nonexistent/preview.json'], 'cannot read /nonexistent/preview.json'],
  ])('%j', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  test('text that is not JSON (the human preview) is refused with a hint', async () => {
    const r = await run(file('human.txt', 'Previewing update (dev)\n\n     Type  Name\n'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^check-preview: the preview is not JSON \(run `pulumi preview --json`, not `pulumi preview`\): /);
  });

  test('JSON that is not a preview is refused', async () => {
    const r = await run(file('other.json', JSON.stringify({ name: 'package.json' })));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('check-preview: the JSON has no "steps", "changeSummary" or "diagnostics": it is not the output of `pulumi preview --json`\n');
  });
});

test('--help prints the usage and exits 0', async () => {
  const r = await run('--help');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^usage: postgres-strategies check-preview <preview.json \| -> \[--allow <urn or name>\]\.\.\. \[--format text\|markdown\|json\]/);
});

test('the bin reads the preview from stdin with -, through the package\'s command line', async () => {
  const bin = resolve(__dirname, '../../../dist/src/cli/main.js');
  const result = await new Promise<{ code: number | null; stdout: string }>((done) => {
    const child = execFile(process.execPath, [bin, 'check-preview', '-', '--format', 'json'], (error, stdout) => done({ code: error ? (error.code as number) : 0, stdout }));
    child.stdin!.end(JSON.stringify(previewOf(stepFor(rt.named('app-db-instance'), { kmsKeyId: 'arn:aws:kms:eu-central-1:123456789012:key/3' }))));
  });
  expect(result.code).toBe(1);
  expect((JSON.parse(result.stdout) as JsonReport).findings.map((f) => f.code)).toEqual(['replaced']);
});
