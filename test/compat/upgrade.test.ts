/**
 * Upgrading the package must not replace, recreate or rename what a stack
 * already has. Every fixed program (programs.ts) is evaluated under the
 * mock runtime against the working tree, and its kept children (the
 * data-bearing, protected, retained, credential and trust-anchor ones,
 * force-new.ts) are compared with the record of every release in
 * fixtures/: a different URN, a different value of an input the provider
 * replaces on, or of one that renames — for an unchanged program — fails
 * the test, unless CHANGELOG.md lists it as a deliberate change
 * (`compat: <program>/<child>[.<input>]`). An exception that matches
 * nothing fails too, so the list stays true.
 *
 * Recording a release (when it is cut, from its own tree):
 *   COMPAT_RECORD='0.2.0 (2027-01-10, abc1234)' COMPAT_FIXTURE=0.2.0 [COMPAT_ROOT=<tree>] npx jest test/compat
 * writes fixtures/<COMPAT_FIXTURE>.json from the tree at COMPAT_ROOT (the
 * working tree by default; an old release's tree needs this tree's
 * node_modules linked into it).
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordedAlias, RecordedResource } from '../../lab/pulumi-mocks';
import { tsProgramArgs } from '../../lab/ts-program';
import { CompatRecord, CurrentChild, Difference, changelogExceptions, compare, covers, fixtureOf, keptChildren } from './compat';
import { PROGRAMS } from './programs';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(__dirname, 'fixtures');

/** Every program's registrations, in a fresh Node process (null: the tree has none of its components). */
async function recordAll(root: string): Promise<Map<string, RecordedResource[] | null>> {
  const r = await new Promise<{ stdout: string; stderr: string; error: Error | null }>((resolve) =>
    execFile(
      process.execPath,
      tsProgramArgs(join(__dirname, 'record-program.ts')),
      // The programs' relative `sslrootcert: 'ca.pem'` must name a CA file that exists (it is read at preview).
      { cwd: join(ROOT, 'test', 'support', 'fixtures'), encoding: 'utf8', timeout: 150_000, maxBuffer: 64 << 20, env: { ...process.env, COMPAT_ROOT: root } },
      (error, stdout, stderr) => resolve({ stdout, stderr, error }),
    ),
  );
  const lines = r.stdout.trim().split('\n').filter((l) => l.startsWith('['));
  if (lines.length !== PROGRAMS.length) throw new Error(`the compat programs printed ${lines.length} of ${PROGRAMS.length} records (${r.error?.message ?? 'no error'}): ${r.stderr}`);
  return new Map(lines.map((l) => JSON.parse(l) as [string, RecordedResource[] | null]));
}

type Current = Record<string, { children: Record<string, CurrentChild>; components: Map<string, { parent: string; aliases: RecordedAlias[] }> } | null>;

let current: Current;
let fixtures: CompatRecord[];

beforeAll(async () => {
  const root = process.env['COMPAT_ROOT'] ?? ROOT;
  const recorded = [...(await recordAll(root)).entries()];
  current = Object.fromEntries(
    recorded.map(([id, resources]) => [
      id,
      resources === null ? null : { children: keptChildren(resources), components: new Map(resources.map((r) => [r.urn, { parent: r.parent, aliases: r.aliases ?? [] }])) },
    ]),
  );
  const label = process.env['COMPAT_RECORD'];
  if (label) {
    const out: CompatRecord = { release: label, programs: {} };
    for (const [id, now] of Object.entries(current)) if (now) out.programs[id] = fixtureOf(now.children);
    writeFileSync(join(FIXTURES, `${process.env['COMPAT_FIXTURE'] ?? 'unnamed'}.json`), `${JSON.stringify(out, null, 2)}\n`);
  }
  fixtures = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as CompatRecord);
}, 180_000);

const describeDifference = (d: Difference): string => `  ${d.key} — from ${d.release}: ${d.what}`;

test('every fixed program runs against the working tree', () => {
  expect(Object.entries(current).filter(([, now]) => now === null).map(([id]) => id)).toEqual([]);
});

test('upgrading from any release replaces, recreates or renames nothing that CHANGELOG.md does not list', () => {
  expect(fixtures.length).toBeGreaterThan(0);
  const exceptions = changelogExceptions(readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8'));
  const differences = fixtures.flatMap((f) => compare(f, current));
  const unlisted = differences.filter((d) => !exceptions.some((e) => covers(e, d.key)));
  if (unlisted.length > 0) {
    throw new Error(
      `An unchanged program would change on upgrade (list it in CHANGELOG.md as \`compat: <key>\` only if it is deliberate):\n${unlisted.map(describeDifference).join('\n')}`,
    );
  }
  const stale = exceptions.filter((e) => !differences.some((d) => covers(e, d.key)));
  expect(stale).toEqual([]);
});

test('the record keeps the children an upgrade could break: data, credentials, trust anchors, the admin provider', () => {
  const kinds = new Set(Object.values(current).flatMap((now) => Object.values(now?.children ?? {}).map((c) => c.type)));
  for (const type of [
    'postgresql:index/database:Database',
    'postgresql:index/role:Role',
    'pulumi:providers:postgresql',
    'aws:rds/instance:Instance',
    'aws:ec2/securityGroup:SecurityGroup',
    'aws:rds/subnetGroup:SubnetGroup',
    'aws:rds/parameterGroup:ParameterGroup',
    'hcloud:index/server:Server',
    'hcloud:index/volume:Volume',
    'docker:index/volume:Volume',
    'random:index/randomPassword:RandomPassword',
    'tls:index/selfSignedCert:SelfSignedCert',
    'tls:index/certRequest:CertRequest',
  ]) {
    expect(kinds).toContain(type);
  }
});
