/**
 * The guard's rules where the engine suite (test/e2e/engine/preview-guard.test.ts)
 * cannot reach with examples/shared: a database's template, the
 * least-privilege shape's roles, a user's own role, the engine's own
 * replacement keys (`provider`), the halves of a replacement that
 * `--show-replacement-steps` adds, the ops that change nothing, and the
 * preview document and URNs themselves. Resources are our components'
 * (Pulumi's mock runtime); steps follow fixtures.ts.
 */
import { installMocks, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks({ stack: 'prod' });

import * as postgresql from '@pulumi/postgresql';
import { ExternalPostgres } from '../../../src/provisioning/external';
import { SharedPostgres } from '../../../src/provisioning/shared';
import { RoleShape } from '../../../src/core/plan';
import { Finding, PreviewFormatError, checkPreview, parsePreview, parseUrn } from '../../../src/preview-guard';
import { PreviewStep } from '../../../src/preview-guard/preview';
import { previewOf, stepFor } from './fixtures';

jest.setTimeout(60_000);

const external = new ExternalPostgres('db', { host: 'db.example.com', adminUser: 'admin', adminPassword: 'pw' });
new SharedPostgres('apps', {
  server: external.handle,
  namePrefix: 'vw_',
  instances: [{ name: 'shop', shape: RoleShape.LeastPrivilege }, { name: 'blog' }, { name: 'web', loginRotation: { enabled: true } }],
});
new postgresql.Role('reporting', { name: 'reporting', login: true });
new postgresql.Database('ledger', { name: 'ledger' });

beforeAll(settled);

const summary = (findings: Finding[]): [string, string, string, string[], string][] => findings.map((f) => [f.severity, f.code, f.op, f.properties, f.resource]);
const check = (...steps: Parameters<typeof previewOf>): ReturnType<typeof summary> => summary(checkPreview(previewOf(...steps)));
const named = (name: string) => rt.named(name);
const SHOP = (kind: string, name: string): string => `${kind} "${name}" (SharedPostgres instance "apps-shop")`;

test('a new template, encoding or collation replaces the database with an empty one: an error', () => {
  expect(check(stepFor(named('apps-shop-database'), { template: 'template1', lcCollate: 'de_DE.UTF-8' }))).toEqual([
    ['error', 'replaced', 'replace', ['lcCollate', 'template'], SHOP('database', 'vw_shop')],
  ]);
});

test('least-privilege shape: the owner role is data, the app and read-only logins are not', () => {
  expect(check(stepFor(named('apps-shop-owner-role'), 'delete', false))).toEqual([['error', 'deleted', 'delete', [], SHOP('role', 'vw_shop_owner')]]);
  expect(check(stepFor(named('apps-shop-app-role'), 'delete', false), stepFor(named('apps-shop-read-only-role'), 'delete', true))).toEqual([
    ['warning', 'login-removed', 'delete', [], SHOP('login role', 'vw_shop')],
    ['warning', 'retained', 'delete', [], SHOP('login role', 'vw_shop_ro')],
  ]);
  const replaced: PreviewStep = { ...stepFor(named('apps-shop-app-role'), { name: 'vw_shop2' })!, op: 'replace', replaceReasons: ['id'] };
  expect(check(replaced)).toEqual([['warning', 'login-removed', 'replace', ['id'], SHOP('login role', 'vw_shop')]]);
});

describe('login rotation (issue 23): a DSN change, never data loss', () => {
  const WEB = (kind: string, name?: string): string => `${kind}${name ? ` "${name}"` : ''} (SharedPostgres instance "apps-web")`;
  /** The LoginRotation's step from one state to another, as the engine prints an update. */
  const rotation = (before: Record<string, number>, after: Record<string, number>): PreviewStep => {
    const r = named('apps-web-login-rotation');
    const at = (s: Record<string, number>) => ({ urn: r.urn, type: r.type, custom: true, parent: r.parent, inputs: { ...r.inputs, revokedBelow: -1, ...s } });
    return { op: 'update', urn: r.urn, oldState: at(before), newState: at(after), diffReasons: Object.keys(after).filter((k) => before[k] !== after[k]) };
  };

  test('a rotation: one warning on the instance\'s rotation, none on its roles, passwords or memberships', () => {
    const roleUpdate: PreviewStep = { ...stepFor(named('apps-web-login-b-role'), { login: true })!, diffReasons: ['login', 'password'] };
    const passwordReplaced: PreviewStep = { ...stepFor(named('apps-web-login-b-password'), { keepers: { generation: '1' } })!, op: 'replace', replaceReasons: ['keepers'] };
    expect(check(rotation({ counter: 0 }, { counter: 1 }), roleUpdate, passwordReplaced)).toEqual([['warning', 'rotated', 'update', ['counter'], WEB('login rotation')]]);
    const [finding] = checkPreview(previewOf(rotation({ counter: 4 }, { counter: 5 })));
    expect(finding?.effect).toContain('rotation 4 → 5');
    expect(finding?.effect).toContain('the previous login keeps working until the next rotation');
  });

  test('an emergency revocation: a warning that says the old logins are cut now', () => {
    const [finding, ...rest] = checkPreview(previewOf(rotation({ counter: 2, revokedBelow: -1 }, { counter: 3, revokedBelow: 3 })));
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ severity: 'warning', code: 'revoked', resource: WEB('login rotation') });
    expect(finding?.effect).toContain('every session of its logins is terminated during the deploy');
  });

  test('no rotation (the state unchanged, e.g. a new admin password): nothing', () => {
    expect(check(rotation({ counter: 2 }, { counter: 2 }))).toEqual([]);
  });

  test('turned on and off: warnings; a slot dropped is a login removed, never an error', () => {
    const r = named('apps-web-login-rotation');
    expect(check({ op: 'create', urn: r.urn, newState: { urn: r.urn, type: r.type, parent: r.parent, inputs: r.inputs } }).map((f) => f.slice(0, 2))).toEqual([['warning', 'rotated']]);
    expect(check(stepFor(r, 'delete')).map((f) => f.slice(0, 2))).toEqual([['warning', 'rotated']]);
    expect(check(stepFor(named('apps-web-login-a-role'), 'delete')).map((f) => f.slice(0, 2))).toEqual([['warning', 'retained']]);
  });
});

test('a role of the user\'s own program is judged by its type: it may own data', () => {
  expect(check(stepFor(named('reporting'), 'delete'))).toEqual([['error', 'deleted', 'delete', [], 'role "reporting" (Role "reporting")']]);
});

test('a replaced admin connection replaces every database on it (replaceReasons ["provider"], the engine\'s own key): an error each', () => {
  const db = named('apps-blog-database');
  // The engine's own replacement (step_generator.go `providerChanged`): no input changed, the provider did.
  const step: PreviewStep = { ...stepFor(db, { owner: 'x' })!, op: 'replace', diffReasons: ['provider'], replaceReasons: ['provider'] };
  const [finding] = checkPreview(previewOf(step));
  expect(finding).toMatchObject({ severity: 'error', code: 'replaced', properties: ['provider'] });
  expect(finding?.effect).toMatch(/^its admin connection \(the postgresql provider\) is replaced/);
});

test('--show-replacement-steps: the halves of a replacement count once, with or without the logical step', () => {
  const replace = stepFor(named('apps-shop-database'), { template: 'template1' })!;
  const create = { ...replace, op: 'create-replacement' };
  const remove = { ...replace, op: 'delete-replaced' };
  expect(check(remove, replace, create).map((f) => f[2])).toEqual(['replace']);
  expect(check(create, remove).map((f) => f[2])).toEqual(['create-replacement']);
});

test.each(['read', 'refresh', 'discard', 'discard-replaced', 'import', 'import-replacement', 'remove-pending-replace'])('%s changes nothing the guard judges', (op) => {
  expect(check({ ...stepFor(named('apps-blog-database'), 'delete', false)!, op })).toEqual([]);
});

test('a database and role moved to another admin connection (a `same` step, --show-sames): an error, or a warning on the same host and port', () => {
  const db = named('apps-blog-database');
  const from = `${named('db-admin').urn}::11111111-1111-1111-1111-111111111111`;
  const to = 'urn:pulumi:prod::postgres-strategies::postgres-strategies:index:ExternalPostgres$pulumi:providers:postgresql::other-admin::22222222-2222-2222-2222-222222222222';
  const state = { urn: db.urn, type: db.type, parent: db.parent, inputs: db.inputs, retainOnDelete: true };
  const moved: PreviewStep = { op: 'same', urn: db.urn, oldState: { ...state, provider: from }, newState: { ...state, provider: to } };
  const provider = (urn: string, host: string): PreviewStep => {
    const bare = urn.slice(0, urn.lastIndexOf('::'));
    const s = { urn: bare, type: 'pulumi:providers:postgresql', inputs: { host, port: '5432', password: '[secret]' } };
    return { op: 'same', urn: bare, oldState: s, newState: s };
  };
  const other = check(provider(from, 'db.example.com'), provider(to, 'db2.example.com'), moved);
  expect(other).toEqual([['error', 'moved', 'same', ['provider'], 'database "vw_blog" (SharedPostgres instance "apps-blog")']]);
  const same = checkPreview(previewOf(provider(from, 'db.example.com'), provider(to, 'db.example.com'), moved));
  expect(summary(same)).toEqual([['warning', 'moved', 'same', ['provider'], 'database "vw_blog" (SharedPostgres instance "apps-blog")']]);
  expect(same[0]?.effect).toContain('which reach the same host and port (db.example.com:5432)');
  // Without the providers' own steps the endpoints are unknown: an error.
  expect(check(moved).map((f) => f[0])).toEqual(['error']);
});

/** The admin provider's own step: `same`, at `urn`, and at `oldUrn` in its old state (an alias). */
const providerStep = (urn: string, host: string, oldUrn = urn): PreviewStep => {
  const s = { type: 'pulumi:providers:postgresql', inputs: { host, port: '5432', password: '[secret]' } };
  return { op: 'same', urn, oldState: { ...s, urn: oldUrn }, newState: { ...s, urn } };
};
const PROVIDER_ID = '11111111-1111-1111-1111-111111111111';

test('the server component renamed with aliases (what the guard advises): the same provider under its new URN, no finding', () => {
  // Learnt on the engine (test/e2e/engine/preview-guard.test.ts): the provider's step is at its new URN with its
  // old URN in oldState, and each database and role on it keeps the old provider URN in its old state.
  const oldProvider = named('db-admin').urn;
  const newProvider = oldProvider.replace('::db-admin', '::server-admin').replace('ExternalPostgres$', 'ExternalPostgres$');
  const onIt = ['apps-blog-database', 'apps-blog-owner-role'].map((name): PreviewStep => {
    const r = named(name);
    const state = { urn: r.urn, type: r.type, parent: r.parent, inputs: r.inputs, retainOnDelete: true };
    return { op: 'same', urn: r.urn, oldState: { ...state, provider: `${oldProvider}::${PROVIDER_ID}` }, newState: { ...state, provider: `${newProvider}::${PROVIDER_ID}` } };
  });
  expect(check(providerStep(newProvider, 'db.example.com', oldProvider), ...onIt)).toEqual([]);
  // The same references without the alias in the preview: another admin connection (the step the guard cannot vouch for).
  expect(check(providerStep(newProvider, 'db.example.com'), ...onIt).map((f) => f.slice(0, 2))).toEqual([['error', 'moved'], ['error', 'moved']]);
});

describe('a SharedPostgres put inside a component of the user\'s own without aliases: new URNs, the same server', () => {
  const provider = (): string => `${named('db-admin').urn}::${PROVIDER_ID}`;
  // The engine's URNs carry the whole parent type chain (the mock runtime's only the parent's type).
  const SHARED = 'postgres-strategies:index:SharedPostgres$postgres-strategies:index:InstanceDatabase';
  const urnOf = (name: string, chain: string): string => `urn:pulumi:prod::postgres-strategies::${chain}$${named(name).type}::${name}`;
  /** The step of our resource `name` created again under the user's component `acme:index:Platform` (another parent chain). */
  const moved = (name: string, inputs: Record<string, unknown> = {}): PreviewStep => {
    const r = named(name);
    const urn = urnOf(name, `acme:index:Platform$${SHARED}`);
    const parent = 'urn:pulumi:prod::postgres-strategies::acme:index:Platform$' + SHARED + '::apps-blog';
    return { op: 'create', urn, newState: { urn, type: r.type, parent, inputs: { ...r.inputs, ...inputs }, provider: provider(), retainOnDelete: true } };
  };
  /** The step of our resource `name` leaving the stack from where it was (retained). */
  const leaving = (name: string): PreviewStep => {
    const r = named(name);
    const urn = urnOf(name, SHARED);
    return { op: 'delete', urn, oldState: { urn, type: r.type, parent: r.parent, inputs: r.inputs, provider: provider(), retainOnDelete: true } };
  };
  const BLOG = (kind: string, name: string): string => `${kind} "${name}" (SharedPostgres instance "apps-blog")`;

  test('the same names: an error per database and role (`up` fails on already exists), the retained ones leaving a warning each', () => {
    const findings = checkPreview(previewOf(leaving('apps-blog-database'), leaving('apps-blog-owner-role'), moved('apps-blog-database'), moved('apps-blog-owner-role')));
    expect(summary(findings)).toEqual([
      ['error', 'recreated', 'create', [], BLOG('database', 'vw_blog')],
      ['error', 'recreated', 'create', [], BLOG('role', 'vw_blog')],
      ['warning', 'retained', 'delete', [], BLOG('database', 'vw_blog')],
      ['warning', 'retained', 'delete', [], BLOG('role', 'vw_blog')],
    ]);
    expect(findings[0]?.effect).toContain('`pulumi up` fails on `CREATE DATABASE … already exists` (the one leaving is retained');
    expect(findings[0]?.instead).toContain('`aliases: [{ parent: pulumi.rootStackResource }]`');
  });

  test('with a new namePrefix too: a new, empty database on the same server while the old one leaves (an error)', () => {
    expect(check(leaving('apps-blog-database'), moved('apps-blog-database', { name: 'app_blog' }))).toEqual([
      ['error', 'new-empty', 'create', [], BLOG('database', 'app_blog')],
      ['warning', 'retained', 'delete', [], BLOG('database', 'vw_blog')],
    ]);
  });

  test('a database created on another server pairs with nothing', () => {
    const elsewhere = moved('apps-blog-database');
    elsewhere.newState = { ...elsewhere.newState!, provider: `urn:pulumi:prod::postgres-strategies::pulumi:providers:postgresql::other::${PROVIDER_ID}` };
    expect(check(leaving('apps-blog-database'), elsewhere, providerStep(named('db-admin').urn, 'db.example.com'))).toEqual([['warning', 'retained', 'delete', [], BLOG('database', 'vw_blog')]]);
  });
});

test('a user\'s own database: the advice speaks of the database, not of an instance', () => {
  const own = named('ledger');
  const [deleted] = checkPreview(previewOf(stepFor(own, 'delete', false)));
  expect(deleted?.resource).toBe('database "ledger" (Database "ledger")');
  expect(deleted?.instead).toMatch(/^Keep the database, or take a dump first/);
  const [renamed] = checkPreview(previewOf(stepFor(own, { name: 'ledger2' })));
  expect(renamed?.instead).toBe('Stop the apps that use it, deploy, then roll them out with the new URLs — or keep the old name.');
  for (const f of [deleted, renamed]) expect(`${f?.effect} ${f?.instead}`).not.toMatch(/instance/);
});

test('errors come first, then warnings, each in the order of the steps', () => {
  const rows = check(
    stepFor(named('apps-blog-database'), { name: 'vw_journal' }),
    stepFor(named('apps-blog-owner-role'), 'delete', false),
    stepFor(named('apps-shop-database'), 'delete', false),
  );
  expect(rows.map((r) => `${r[0]} ${r[4]}`)).toEqual([
    'error role "vw_blog" (SharedPostgres instance "apps-blog")',
    'error database "vw_shop" (SharedPostgres instance "apps-shop")',
    'warning database "vw_blog" (SharedPostgres instance "apps-blog")',
  ]);
});

test('a preview with error diagnostics is an error no --allow acknowledges', () => {
  const findings = checkPreview({ ...previewOf(), diagnostics: [{ severity: 'error', message: 'boom' }, { severity: 'warning', message: 'meh' }] }, { allow: ['', 'the preview'] });
  expect(summary(findings)).toEqual([['error', 'preview-incomplete', 'preview', [], 'the preview']]);
  expect(findings[0]?.acknowledgedBy).toBeUndefined();
});

describe('parseUrn', () => {
  test('the parts, the parent types and a name holding "::"', () => {
    expect(parseUrn('urn:pulumi:dev::app::a:b:C$postgresql:index/database:Database::x::y')).toEqual({
      stack: 'dev',
      project: 'app',
      typeChain: ['a:b:C', 'postgresql:index/database:Database'],
      type: 'postgresql:index/database:Database',
      name: 'x::y',
    });
  });
  test.each(['', 'urn:pulumi:dev::app', 'arn:aws:rds:x', 'urn:pulumi:dev::app::::name'])('%j is not a URN', (urn) => {
    expect(parseUrn(urn)).toBeUndefined();
  });
});

describe('parsePreview refuses what is not a preview, naming what is wrong', () => {
  test.each([
    ['[]', 'the preview is not a JSON object (expected the output of `pulumi preview --json`)'],
    ['{"steps": {}}', '"steps" is not a list'],
    ['{"steps": [{"urn": "urn:pulumi:a::b::c:d:E::n"}]}', 'steps[0] has no "op"'],
    ['{"steps": [{"op": "delete", "urn": "x"}]}', 'steps[0] has no valid "urn"'],
    ['{"steps": [{"op": "delete", "urn": "urn:pulumi:a::b::c:d:E::n", "diffReasons": "name"}]}', 'steps[0].diffReasons is not a list of property names'],
    ['{"steps": [{"op": "delete", "urn": "urn:pulumi:a::b::c:d:E::n", "oldState": {"inputs": {}}}]}', 'steps[0].oldState is not a resource state'],
    ['{"changeSummary": {}, "diagnostics": {}}', '"diagnostics" is not a list'],
  ])('%s', (text, message) => {
    expect(() => parsePreview(text)).toThrow(new PreviewFormatError(message));
  });

  test('a preview with no change at all (no "steps") is fine', () => {
    expect(checkPreview('{"changeSummary": {"same": 3}}')).toEqual([]);
  });
});
