/**
 * Issue 22 item 5: adopting the roles and databases an earlier stack left
 * (the `import` resource option with their names as IDs, passwords kept
 * while adopting), and the message a preview gives when a new stack would
 * trip on them. The whole path — up, destroy, a new stack's preview, adopt,
 * adopt off — runs on the real engine in test/e2e/engine/first-hour.test.ts.
 */
import { installMocks, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks();

import { ExternalPostgres } from '../../../src/provisioning/external';
import { SharedPostgres } from '../../../src/provisioning/shared';
import { retainedError } from '../../../src/provisioning/retained';
import { ServerKind, SslMode } from '../../../src/core/tls';

function shared(name: string, adopt: boolean | undefined): void {
  const server = new ExternalPostgres(`${name}-db`, { host: 'db.example.com', adminUser: 'admin', adminPassword: 'pw', kind: ServerKind.SelfManaged, sslmode: SslMode.Require });
  new SharedPostgres(name, { server: server.handle, namePrefix: `${name}_`, instances: [{ name: 'blog' }, { name: 'api', readOnlyRole: true } as never], ...(adopt === undefined ? {} : { adopt }) });
}

describe('SharedPostgres adopt', () => {
  beforeAll(async () => {
    shared('adopting', true);
    shared('fresh', undefined);
    await settled();
  });
  const of = (prefix: string, type: string) => rt.resources.filter((r) => r.name.startsWith(prefix) && r.type === type);

  it('imports every role and database by its name, keeping the roles\' passwords (ignoreChanges) while adopting', () => {
    const roles = of('adopting-', 'postgresql:index/role:Role');
    const databases = of('adopting-', 'postgresql:index/database:Database');
    expect(roles.length).toBeGreaterThanOrEqual(2);
    expect(databases.map((d) => [d.name, d.importId]).sort()).toEqual([
      ['adopting-api-database', 'adopting_api'],
      ['adopting-blog-database', 'adopting_blog'],
    ]);
    for (const r of roles) {
      expect(r.importId).toBe(r.inputs['name']);
      expect(r.ignoreChanges.sort()).toEqual(['password', 'roles']);
    }
  });

  it('imports nothing without adopt, and manages the passwords', () => {
    const created = [...of('fresh-', 'postgresql:index/role:Role'), ...of('fresh-', 'postgresql:index/database:Database')];
    expect(created.length).toBeGreaterThanOrEqual(4);
    expect(created.filter((r) => r.importId !== '')).toEqual([]);
    for (const r of of('fresh-', 'postgresql:index/role:Role')) expect(r.ignoreChanges).toEqual(['roles']);
  });

  it('keeps the database name an input the engine sees as the plain name', () => {
    expect(of('fresh-', 'postgresql:index/database:Database').map((d) => d.inputs['name']).sort()).toEqual(['fresh_api', 'fresh_blog']);
  });
});

describe('the message for roles and databases a new stack would create', () => {
  it('names what exists and where, and gives both ways on: adopt, or the DROP statements', () => {
    const e = retainedError('InstanceDatabase "shared-blog"', { roles: ['vw_blog', 'vw_blog_owner'], databases: ['vw_blog'], where: 'db.example.com:5432' });
    expect(e?.field).toBe('InstanceDatabase "shared-blog"');
    expect(e?.message).toMatch(/^InstanceDatabase "shared-blog": database "vw_blog" and roles "vw_blog", "vw_blog_owner" already exist on db\.example\.com:5432, and this stack has not created them/);
    expect(e?.message).toContain('`pulumi config set postgres-strategies:adopt true`');
    expect(e?.message).toContain('set adopt back to false and run `pulumi up` again');
    expect(e?.message).toMatch(/DROP DATABASE "vw_blog"; DROP ROLE "vw_blog", "vw_blog_owner";$/);
  });

  it('is none when nothing exists', () => {
    expect(retainedError('x', { roles: [], databases: [], where: 'h:1' })).toBeUndefined();
  });
});
