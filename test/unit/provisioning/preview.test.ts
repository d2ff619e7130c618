/**
 * A first `pulumi preview`: generated passwords and salts are unknown, so
 * every URL is unknown too. The components must declare the same resources
 * and not crash on the unknowns.
 */
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks({ preview: true });

import { ExternalPostgres } from '../../../src/provisioning/external';
import { SharedPostgres } from '../../../src/provisioning/shared';
import { RoleShape } from '../../../src/core/plan';

const external = new ExternalPostgres('db', { host: 'shared-db.example.com', adminUser: 'admin', adminPassword: 'pw' });
const shared = new SharedPostgres('shared', {
  server: external.handle,
  namePrefix: 'vw_',
  instances: [{ name: 'blog' }, { name: 'api', shape: RoleShape.LeastPrivilege }],
});

test('outputs derived from generated passwords are unknown and still secret', async () => {
  await settled();
  for (const output of [shared.instances['blog']!.url, shared.instances['blog']!.kratosDsn, shared.instances['api']!.readOnlyUrl!, shared.urls, shared.bootstrapSql]) {
    const s = await settle(output as never);
    expect(s.known).toBe(false);
    expect(s.secret).toBe(true);
  }
});

test('the same resources are declared as in an update', async () => {
  await settled();
  const count = (type: string): number => rt.ofType(type).length;
  expect(count('postgresql:index/role:Role')).toBe(4);
  expect(count('postgresql:index/database:Database')).toBe(2);
  expect(count('postgresql:index/grant:Grant') + count('postgresql:index/defaultPrivileges:DefaultPrivileges')).toBe(1 + 15);
  expect(rt.named('shared-blog-database').inputs).toMatchObject({ name: 'vw_blog', owner: 'vw_blog' });
});
