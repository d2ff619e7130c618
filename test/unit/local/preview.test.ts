/**
 * A first `pulumi preview` of LocalPostgres: generated passwords, salts and
 * keys are unknown. The component declares the same resources, derived
 * outputs are unknown and still secret, and the compose file (which holds
 * no secret) is known already.
 */
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks({ preview: true });

import { parse } from 'yaml';
import { LocalPostgres } from '../../../src/local/component';

const local = new LocalPostgres('auth', { tls: true, publishPort: 5432, instances: [{ name: 'blog' }], kratos: {} });

test('outputs derived from generated values are unknown and secret', async () => {
  await settled();
  for (const output of [local.superuserPassword, local.kratosDsn!, local.hostUrl!, local.bootstrapSql, local.composeFiles, local.instances['blog']!.url]) {
    const s = await settle(output as never);
    expect(s.known).toBe(false);
    expect(s.secret).toBe(true);
  }
});

test('the same resources as in an update, and the compose file already known', async () => {
  await settled();
  expect(rt.ofType('docker:index/container:Container').map((c) => c.name)).toEqual(['auth-postgres', 'auth-postgres-bootstrap', 'auth-kratos-migrate', 'auth-kratos']);
  expect(rt.named('auth-data').retainOnDelete).toBe(true);
  const compose = await settle(local.composeYaml);
  expect(compose.known).toBe(true);
  expect(Object.keys((parse(compose.value as string) as { services: object }).services)).toHaveLength(4);
});
