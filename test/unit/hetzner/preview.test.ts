/**
 * HetznerPostgres in a first `pulumi preview` (mock runtime in preview mode):
 * ids, keys and passwords are unknown, so the user data is unknown too; the
 * component and SharedPostgres on its handle must still evaluate and declare
 * the same graph, with the user data still marked secret, and the installed
 * config files (plan only) already known.
 */
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks({ preview: true });

import { HetznerPostgres } from '../../../src/hetzner/component';
import { SharedPostgres } from '../../../src/provisioning/shared';
import { seedInstances } from '../../../examples/shared/instances';

jest.setTimeout(30_000);

const db = new HetznerPostgres('db', { serverType: 'cx23', instances: [{ name: 'kratos' }] });
new SharedPostgres('apps', { server: db.handle, namePrefix: 'vw_', instances: seedInstances });

beforeAll(settled);

test('evaluates with unknown ids and keys: the user data is unknown and secret, the graph is complete', async () => {
  const userData = await settle(db.userData);
  expect(userData.known).toBe(false);
  expect(userData.secret).toBe(true);
  expect(rt.ofType('hcloud:index/server:Server').map((r) => r.name)).toEqual(['db-server']);
  expect(rt.ofType('postgresql:index/database:Database').map((r) => r.inputs['name']).sort()).toEqual(['vw_admin', 'vw_api', 'vw_blog']);
  expect(rt.named('db-server').ignoreChanges).toEqual(['userData', 'sshKeys', 'name']);
  // The boot user data is unknown too (its provider runs in the update); the setup payload is secret.
  expect(await settle(db.bootUserData.bootUserData)).toMatchObject({ known: false });
  expect(await settle(db.setupScript)).toMatchObject({ known: false, secret: true });
  // The config files come from the plan alone: known already, and not secret.
  const conf = await settle(db.postgresqlConf);
  expect(conf).toMatchObject({ known: true, secret: false });
  expect(conf.value).toContain("listen_addresses = '10.0.1.10'");
  expect((await settle(db.pgHba)).value).toContain('hostssl');
});
