/**
 * What a later `pulumi up` may change about the Hetzner server, and what the
 * new server then boots (issue 15's "routine changes replace the server with
 * stale user data"): the rules (checkServerChange) and the provider of
 * BootUserData, called as the engine calls it — check(olds = the previous
 * inputs, news), diff(olds = the previous outputs, news), create — both
 * directly and as the engine runs it: deserialized from the `__provider`
 * text the component records in the state (Pulumi's closure serializer).
 *
 * The engine facts this relies on (Pulumi docs, "ignoreChanges"): an ignored
 * property keeps its old value from the state, for updates and for
 * replacements alike; a provider that reports no change keeps its outputs.
 * hcloud facts (terraform-provider-hcloud, internal/server/resource.go):
 * image, location, user_data and ssh_keys force a new server; name,
 * server_type, labels, firewall_ids, backups and the protections update in
 * place (so do the names of the volume, network and firewall).
 */
import { installMocks, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks();

import fc from 'fast-check';
import { BootUserDataInputs, BootUserDataOutputs, bootUserDataProvider } from '../../../src/hetzner/boot-user-data';
import { HetznerPostgres } from '../../../src/hetzner/component';
import { ServerChange, ServerGeneration, checkServerChange } from '../../../src/hetzner/plan';
import { unwrapSecret } from '../../support/graph';

jest.setTimeout(30_000);

new HetznerPostgres('db', { serverType: 'cx23' });
beforeAll(settled);

const booted: BootUserDataInputs = {
  userData: '#cloud-config\n# certificate A, pgConfig A\n',
  rebuildKey: 'key-A',
  image: 'debian-12',
  location: 'fsn1',
  postgresMajor: 15,
  reprovision: false,
  postgresMajorUpgradeFrom: 0,
};
type Provider = typeof bootUserDataProvider;

/** One `pulumi up` of BootUserData as the engine runs it: check, then diff, then create on a replacement. */
async function up(provider: Provider, previous: BootUserDataOutputs, news: BootUserDataInputs): Promise<{ failure?: string; replaced: boolean; boots: string }> {
  const checked = await provider.check(previous, news);
  if (checked.failures && checked.failures.length > 0) return { failure: `${checked.failures[0]!.property}: ${checked.failures[0]!.reason}`, replaced: false, boots: previous.bootUserData };
  const diff = await provider.diff('boot-user-data', previous, news);
  if (diff.replaces && diff.replaces.length > 0) {
    const created = await provider.create(news);
    return { replaced: true, boots: (created.outs as BootUserDataOutputs).bootUserData };
  }
  expect(diff.changes).toBe(false);
  // No change: the engine keeps the outputs, so the server's user data input stays the same.
  return { replaced: false, boots: previous.bootUserData };
}

async function first(provider: Provider, inputs: BootUserDataInputs): Promise<BootUserDataOutputs> {
  expect((await provider.check({}, inputs)).failures).toBeUndefined();
  return (await provider.create(inputs)).outs as BootUserDataOutputs;
}

/** The provider as the engine runs it: deserialized from the state. */
function deserialized(): Provider {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const requireFromString = require('require-from-string') as (code: string) => { handler(): Provider };
  const text = unwrapSecret(rt.named('db-user-data').inputs['__provider']).value as string;
  return requireFromString(text).handler();
}

describe.each([
  ['called directly', (): Provider => bootUserDataProvider],
  ['deserialized from the state', deserialized],
])('BootUserData\'s provider, %s', (_, providerOf) => {
  test('a renewed certificate (user data changes, rebuild key does not): no change, the server keeps its boot user data — in both modes', async () => {
    for (const reprovision of [false, true]) {
      const p = providerOf();
      const state = await first(p, { ...booted, reprovision });
      const r = await up(p, state, { ...booted, reprovision, userData: '#cloud-config\n# certificate B, pgConfig A\n' });
      expect(r).toEqual({ replaced: false, boots: booted.userData });
    }
  });

  test('a pgConfig change: kept by default (setupScript brings it), a rebuild with the new user data when re-provisioning', async () => {
    const p = providerOf();
    const next = { ...booted, userData: '#cloud-config\n# certificate A, pgConfig B\n', rebuildKey: 'key-B' };
    expect(await up(p, await first(p, booted), next)).toEqual({ replaced: false, boots: booted.userData });
    const r = await up(p, await first(p, { ...booted, reprovision: true }), { ...next, reprovision: true });
    expect(r).toEqual({ replaced: true, boots: next.userData });
  });

  test('an image change (same major): refused by default; with re-provisioning the new server boots the current user data, never the old one', async () => {
    const p = providerOf();
    const next = { ...booted, image: '123456789', userData: '#cloud-config\n# certificate B, pgConfig B\n', rebuildKey: 'key-B' };
    expect((await up(p, await first(p, booted), next)).failure).toMatch(/^image: changes from debian-12 to 123456789, which replaces the server.*Set reprovisionOnUserDataChange: true/);
    const r = await up(p, await first(p, booted), { ...next, reprovision: true });
    expect(r).toEqual({ replaced: true, boots: next.userData });
  });

  test('another PostgreSQL major (debian-12 → debian-13): refused unless it is the explicit upgrade', async () => {
    const p = providerOf();
    const state = await first(p, booted);
    const next = { ...booted, image: 'debian-13', postgresMajor: 17, userData: '#cloud-config\n# postgresql-17\n', rebuildKey: 'key-17' };
    expect((await up(p, state, next)).failure).toMatch(/^image: debian-12 → debian-13 changes PostgreSQL 15 → 17, and the volume holds PostgreSQL 15's cluster\. Keep image "debian-12", or upgrade on purpose: .*postgresMajorUpgradeFrom: 15/);
    expect((await up(p, state, { ...next, reprovision: true })).failure).toMatch(/postgresMajorUpgradeFrom: 15/);
    expect((await up(p, state, { ...next, postgresMajorUpgradeFrom: 15 })).failure).toMatch(/reprovisionOnUserDataChange: true/);
    expect(await up(p, state, { ...next, postgresMajorUpgradeFrom: 15, reprovision: true })).toEqual({ replaced: true, boots: next.userData });
  });

  test('a new location: always refused (a volume cannot move)', async () => {
    const p = providerOf();
    const r = await up(p, await first(p, booted), { ...booted, location: 'nbg1', reprovision: true });
    expect(r.failure).toMatch(/^location: changes from fsn1 to nbg1, but a Hetzner volume cannot move between locations/);
  });
});

test('property: a change is allowed exactly when the rules say, and what is allowed never leaves the server on old user data', () => {
  const generation = fc.record({ image: fc.constantFrom('debian-12', 'debian-13', '4711'), location: fc.constantFrom('fsn1', 'nbg1'), postgresMajor: fc.constantFrom(15, 17) });
  fc.assert(
    fc.asyncProperty(generation, generation, fc.boolean(), fc.constantFrom(0, 15, 17), fc.boolean(), async (prev: ServerGeneration, next: ServerGeneration, reprovision, upgradeFrom, configChanged) => {
      const change: ServerChange = { ...next, reprovision, ...(upgradeFrom ? { postgresMajorUpgradeFrom: upgradeFrom } : {}) };
      const allowed =
        prev.location === next.location &&
        (prev.postgresMajor !== next.postgresMajor ? upgradeFrom === prev.postgresMajor && reprovision : prev.image === next.image || reprovision);
      expect(checkServerChange(prev, change) === undefined).toBe(allowed);
      const before = { ...booted, ...prev };
      const after = { ...booted, ...next, reprovision, postgresMajorUpgradeFrom: upgradeFrom, userData: 'new', rebuildKey: configChanged ? 'key-B' : booted.rebuildKey };
      const r = await up(bootUserDataProvider, { ...before, bootUserData: 'old' }, after);
      if (!allowed) return expect(r.failure).toBeDefined();
      // A replaced server (new image, major) always boots the current user data.
      const generationChanged = prev.image !== next.image || prev.postgresMajor !== next.postgresMajor;
      if (generationChanged || (reprovision && configChanged)) expect(r).toEqual({ replaced: true, boots: 'new' });
      else expect(r).toEqual({ replaced: false, boots: 'old' });
    }),
  );
});
