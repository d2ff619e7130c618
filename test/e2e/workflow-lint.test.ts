/**
 * The preview guard's example workflow (docs/github-actions/preview-guard.yml)
 * against a real workflow linter: rhysd/actionlint v1.7.12, built from the Go
 * module proxy by lab/go-consumers.ts (test/consumers/actionlint) and cached
 * under .cache/go-consumers.
 *
 * Proves:
 * - actionlint finds nothing in the workflow: its syntax, expressions and
 *   step-output references, the inputs it gives `pulumi/actions@v6`,
 *   `actions/checkout@v5`, `actions/setup-node@v5` and
 *   `actions/github-script@v8` (actionlint knows their action.yml), and,
 *   with shellcheck on PATH (Debian's), every `run:` script;
 * - the linter really checks those: a copy with an input pulumi/actions does
 *   not have, one that reads the output of a step that does not exist, and
 *   one with an unquoted path in a script each get their error.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACTIONLINT_CONSUMER, buildGoConsumer } from '../../lab/go-consumers';
import { labPath } from '../../lab/server';
import { run } from '../../lab/run';

const BUILD_TIMEOUT = 15 * 60_000;
const WORKFLOW = labPath('docs', 'github-actions', 'preview-guard.yml');

interface LintError {
  message: string;
  kind: string;
  line: number;
}

let actionlint = '';
const dir = mkdtempSync(join(tmpdir(), 'ps-actionlint-'));
beforeAll(async () => {
  actionlint = await buildGoConsumer(ACTIONLINT_CONSUMER);
}, BUILD_TIMEOUT);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function lint(file: string): Promise<LintError[]> {
  const r = await run(actionlint, ['-no-color', '-format', '{{json .}}', file]);
  // exit 0: no error; 1: errors found (the JSON lists them); anything else: actionlint itself failed.
  if (r.code !== 0 && r.code !== 1) throw new Error(`actionlint exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout || '[]') as LintError[];
}

/** A copy of the workflow with one text replaced (the replaced text must be there). */
function variant(name: string, from: string, to: string): string {
  const text = readFileSync(WORKFLOW, 'utf8');
  expect(text).toContain(from);
  const file = join(dir, `${name}.yml`);
  writeFileSync(file, text.replace(from, to));
  return file;
}

test('actionlint is the release it says, and runs shellcheck', async () => {
  const version = await run(actionlint, ['-version']);
  expect(version.stdout.split('\n')[0]).toBe('v1.7.12');
  const shellcheck = await run('shellcheck', ['--version']);
  expect(shellcheck.code).toBe(0);
});

test('the workflow passes actionlint', async () => {
  expect(await lint(WORKFLOW)).toEqual([]);
});

test.each([
  ['an input pulumi/actions@v6 does not have', 'comment-on-pr: true', 'comment-on-prs: true', 'action'],
  ['the output of a step that does not exist', "steps.guard.outputs.status != '0'", "steps.gaurd.outputs.status != '0'", 'expression'],
  ['an unquoted path in a script', '> "$RUNNER_TEMP/preview.json"', '> $RUNNER_TEMP/preview.json', 'shellcheck'],
])('a copy with %s fails', async (name, from, to, kind) => {
  const errors = await lint(variant(name.replace(/\W+/g, '-'), from, to));
  expect(errors.map((e) => e.kind)).toEqual([kind]);
});
