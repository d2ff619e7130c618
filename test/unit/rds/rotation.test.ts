/**
 * Issue 23 on RDS under Pulumi's mock runtime (no AWS here): with
 * `manageMasterUserPassword` the admin provider's password is what the
 * Secrets Manager secret holds now — read with `getSecretVersion` on the
 * secret's ARN without a version id or stage (AWSCURRENT), an invoke that
 * Pulumi runs on every `preview`/`up` and never keeps in the state, so a
 * password Secrets Manager rotated reaches the provider on the next run.
 * The same password reaches the handle's admin URL (for the login
 * rotation's SQL), and `loginRotation` on RdsPostgres gives every instance
 * on its handle the alternating logins.
 */
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
import { rdsState } from './fixture';

const SECRET_TOKEN = 'aws:secretsmanager/getSecretVersion:getSecretVersion';
const calls: Array<Record<string, unknown>> = [];
/** What Secrets Manager holds now. */
const current = 'rotated-by-secrets-manager-1';
const rt = installMocks({
  project: 'shop',
  stack: 'prod',
  state: rdsState,
  call: (token, inputs) => {
    if (token !== SECRET_TOKEN) return inputs;
    calls.push(inputs);
    return { ...inputs, arn: inputs['secretId'], secretString: JSON.stringify({ username: 'postgres', password: current }), versionId: 'v1', versionStages: ['AWSCURRENT'] };
  },
});

import * as pulumi from '@pulumi/pulumi';
import { RdsPostgres } from '../../../src/rds/component';
import { SharedPostgres } from '../../../src/provisioning/shared';
import { unwrapSecret } from '../../support/graph';

const db = new RdsPostgres('app-db', {
  vpcId: 'vpc-1',
  subnetIds: ['s-1', 's-2'],
  allowedSecurityGroupIds: ['sg-app'],
  manageMasterUserPassword: true,
  sslrootcert: 'global-bundle.pem',
  loginRotation: { enabled: true, rotateAfterDays: 90 },
});
const shared = new SharedPostgres('shared', { server: db.handle, namePrefix: 'vw_', instances: [{ name: 'blog' }, { name: 'api', loginRotation: { enabled: false } }] });

beforeAll(settled);

test('the admin provider reads the secret\'s current version on every run: no version id or stage pinned, nothing kept in the state', async () => {
  const arn = (await settle(db.masterUserSecretArn as pulumi.Output<string>)).value;
  expect(calls).toEqual([{ secretId: arn }]);
  const password = unwrapSecret(rt.named('app-db-admin').inputs['password']);
  expect(password).toEqual({ secret: true, value: 'rotated-by-secrets-manager-1' });
  // Only the provider and the rotation's revocation (its admin URL) hold it, both as secrets; the instance gets none.
  const holders = rt.resources.filter((r) => JSON.stringify(r.inputs).includes(current));
  expect(holders.map((r) => r.name)).toEqual(['app-db-admin', 'shared-blog-login-revocation']);
  expect(unwrapSecret(rt.named('shared-blog-login-revocation').inputs['adminUrl']).secret).toBe(true);
  expect(rt.named('app-db-instance').inputs['password']).toBeUndefined();
});

test('the handle\'s admin URL carries the same password (secret), through the RDS address with TLS', async () => {
  const url = await settle(db.handle.adminUrl as pulumi.Output<string>);
  expect(url.secret).toBe(true);
  const u = new URL(url.value as string);
  expect([u.username, decodeURIComponent(u.password), u.pathname]).toEqual(['postgres', 'rotated-by-secrets-manager-1', '/postgres']);
  expect(u.hostname).toMatch(/\.rds\.amazonaws\.com$/);
  expect(u.searchParams.get('sslmode')).toBe('verify-full');
  expect(u.searchParams.get('sslrootcert')).toBe('global-bundle.pem');
});

test('loginRotation on RdsPostgres: instances on its handle get the alternating logins; an instance may opt out', async () => {
  expect(rt.named('shared-blog-login-rotation').inputs).toMatchObject({ rotation: 0, revocation: 0, rotateAfterDays: 90 });
  expect(rt.named('shared-blog-login-revocation').inputs['adminUrl']).toBeDefined();
  expect(rt.resources.some((r) => r.name === 'shared-api-login-rotation')).toBe(false);
  const urls = (await settle(shared.urls)).value as Record<string, string>;
  expect(new URL(urls['blog'] as string).username).toBe('vw_blog_a');
  expect(new URL(urls['api'] as string).username).toBe('vw_api');
  expect((await settle(shared.rotationStates)).value).toEqual({
    blog: expect.objectContaining({ currentLogin: 'vw_blog_a', previousLogin: 'vw_blog', rotations: 0 }),
  });
});
