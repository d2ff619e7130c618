/**
 * A preview takes no turns in the admin's lanes (issue 20 item 3): it runs
 * no provider operation on the server, so every instance registers at once
 * — the same graph as `pulumi up`, without the waits.
 */
import { installMocks, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks({ preview: true });

import * as pulumi from '@pulumi/pulumi';
import { ExternalPostgres } from '../../../src/provisioning/external';
import { SharedPostgres } from '../../../src/provisioning/shared';
import { RecordedResource } from '../../../lab/pulumi-mocks';

const server = new ExternalPostgres('small', { host: 'small.example.com', adminUser: 'deployer', adminPassword: pulumi.secret('p'), maxConnections: 200, adminMaxConnections: 4 });
new SharedPostgres('s', { server: server.handle, namePrefix: 's_', instances: ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name })) });

beforeAll(async () => {
  await settled();
});

test('in a preview the third instance of a lane registers before the first is answered', () => {
  const of = (inst: string): RecordedResource[] => rt.resources.filter((r) => r.type.startsWith('postgresql:index/') && r.name.startsWith(`s-${inst}-`));
  const firstOfC = of('c').reduce((x, y) => (x.registeredAt < y.registeredAt ? x : y));
  const lastOfA = of('a').reduce((x, y) => (x.registeredAt > y.registeredAt ? x : y));
  expect(server.handle.lanes.count).toBe(2);
  expect(firstOfC.registeredAt).toBeLessThan(lastOfA.answeredAt);
});
