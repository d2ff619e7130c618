/**
 * examples/local (the seed's Strategy 1 as one Pulumi program) under the
 * mock runtime with `pulumi config` values: TLS switched on by
 * `postgres-strategies:tls`, published on 127.0.0.1, Kratos on its own
 * database, secret outputs, and the compose output.
 */
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
const KRATOS_CONFIG = 'secrets:\n  cookie: ["ExampleCookieSecret0123456789abcdef"]\n';
const rt = installMocks({
  config: {
    'postgres-strategies:tls': 'true',
    'postgres-strategies:publishPort': '5432',
    'postgres-strategies:instances': '[{"name":"blog"}]',
    'postgres-strategies:kratosConfig': KRATOS_CONFIG,
  },
  secretKeys: ['postgres-strategies:kratosConfig'],
});

import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import { unwrapSecret } from '../../support/graph';
import { multiLineExports } from './outputs';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const program = require('../../../examples/local/index') as typeof import('../../../examples/local/index');

beforeAll(settled, 60_000);

test('declares Postgres, kratos-migrate and Kratos, with TLS from config and the port on 127.0.0.1', () => {
  expect(rt.ofType('docker:index/container:Container').map((c) => c.name)).toEqual(['auth-postgres', 'auth-postgres-bootstrap', 'auth-kratos-migrate', 'auth-kratos']);
  expect(rt.ofType('tls:index/locallySignedCert:LocallySignedCert')).toHaveLength(1);
  expect(rt.named('auth-postgres').inputs['ports']).toEqual([{ internal: 5432, external: 5432, ip: '127.0.0.1', protocol: 'tcp' }]);
  expect(program.sslmode).toBe('verify-full');
});

test('Kratos has its own database next to the configured app database', async () => {
  const dsn = (await settle(program.kratosDsn!)).value as string;
  expect(dsn).toMatch(/^postgres:\/\/kratos:[A-Za-z0-9]{32}@postgres:5432\/kratos\?sslmode=verify-full&sslrootcert=\/etc\/postgres-strategies\/ca\.crt/);
  expect(Object.keys((await settle(program.urls)).value!)).toEqual(['kratos', 'blog']);
});

test('secrets stay secret; the compose file parses and names the seed\'s services', async () => {
  for (const o of [program.kratosDsn!, program.hostUrl!, program.composeFiles, program.urls] as pulumi.Output<unknown>[]) {
    expect(await pulumi.isSecret(o)).toBe(true);
  }
  const doc = parse((await settle(program.composeYaml)).value as string) as { services: Record<string, unknown> };
  expect(Object.keys(doc.services)).toEqual(['postgres', 'postgres-bootstrap', 'kratos-migrate', 'kratos']);
});

test('the secret Kratos config from `pulumi config set --secret` is uploaded as a secret; Docker names carry project and stack', () => {
  const uploads = rt.named('auth-kratos').inputs['uploads'] as Array<{ file: string; content: unknown }>;
  const config = uploads.find((u) => u.file === '/etc/config/kratos/kratos.yml')!;
  const { secret, value } = unwrapSecret(config.content);
  expect(secret).toBe(true);
  // The user's config, with the Kratos DSN added (Kratos reads it there, never from its environment).
  expect(parse(String(value))).toEqual({ dsn: expect.stringMatching(/^postgres:\/\/kratos:/), ...parse(KRATOS_CONFIG) });
  expect(rt.named('auth-postgres').inputs['name']).toBe('postgres-strategies-test-auth-postgres');
});

test('the only multi-line exports are the files a documented command reads by name (the CA, the compose file)', async () => {
  expect(await multiLineExports(program)).toEqual(['caPem', 'composeYaml']);
});
