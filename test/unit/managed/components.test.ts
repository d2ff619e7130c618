/**
 * The presets feed the real components under Pulumi's mock runtime:
 * `new ExternalPostgres(name, preset.server)` and `SharedPostgres` with the
 * preset's client defaults give the admin provider on the direct endpoint
 * and each instance's pooled outputs on the provider's pooler (Neon's
 * `-pooler` host; Supabase's port 6543 with `vw_blog.<ref>`), all secret.
 */
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks();

import { ExternalPostgres } from '../../../src/provisioning/external';
import { SharedPostgres } from '../../../src/provisioning/shared';
import { neonServer } from '../../../src/managed/neon';
import { supabaseServer } from '../../../src/managed/supabase';
import { ManagedPreset } from '../../../src/managed/common';
import { unwrapSecret } from '../../support/graph';

function deploy(name: string, preset: ManagedPreset): SharedPostgres {
  const server = new ExternalPostgres(name, preset.server);
  return new SharedPostgres(`${name}-apps`, {
    server: server.handle,
    namePrefix: 'vw_',
    connectTimeoutSeconds: preset.clients.connectTimeoutSeconds,
    instances: [{ name: 'blog', gatewayPool: preset.clients.gatewayPool, kratosPool: preset.clients.kratosPool }],
  });
}

const neon = deploy('neon', neonServer({ host: 'ep-cool-rain-12345.eu-central-1.aws.neon.tech', adminPassword: 'neon-admin-pw' }));
const supabase = deploy('supa', supabaseServer({ projectRef: 'abcdefgh', poolerHost: 'aws-0-eu-central-1.pooler.supabase.com', adminPassword: 'supa-admin-pw' }));

beforeAll(settled);

async function value(o: Parameters<typeof settle>[0]): Promise<string> {
  const s = await settle(o);
  expect(s.secret).toBe(true);
  return s.value as string;
}

test('Neon: the admin provider on the direct host (system CA, no file), the instances through the -pooler host', async () => {
  const p = rt.named('neon-admin');
  expect(p.inputs).toMatchObject({ host: 'ep-cool-rain-12345.eu-central-1.aws.neon.tech', port: '5432', username: 'neondb_owner', database: 'neondb', sslmode: 'verify-full', superuser: 'false' });
  expect(p.inputs['sslrootcert']).toBeUndefined();
  expect(unwrapSecret(p.inputs['password'])).toEqual({ secret: true, value: 'neon-admin-pw' });
  const blog = neon.instances['blog']!;
  const pooled = new URL(await value(blog.pooledUrl));
  expect([pooled.hostname, pooled.port, pooled.username]).toEqual(['ep-cool-rain-12345-pooler.eu-central-1.aws.neon.tech', '5432', 'vw_blog']);
  expect(pooled.searchParams.get('sslrootcert')).toBe('system');
  expect(pooled.searchParams.get('connect_timeout')).toBe('15');
  const kratos = new URL(await value(blog.kratosDsn));
  expect([kratos.hostname, kratos.searchParams.get('default_query_exec_mode')]).toEqual(['ep-cool-rain-12345-pooler.eu-central-1.aws.neon.tech', 'exec']);
  const pgx = new URL(await value(blog.pgxUrl));
  expect([pgx.searchParams.get('pool_max_conns'), pgx.searchParams.get('pool_min_conns'), pgx.searchParams.get('default_query_exec_mode')]).toEqual(['10', '1', 'exec']);
  const migrate = new URL(await value(blog.kratosMigrateDsn));
  expect([migrate.hostname, migrate.searchParams.get('default_query_exec_mode')]).toEqual(['ep-cool-rain-12345.eu-central-1.aws.neon.tech', null]);
  expect(new URL(await value(blog.url)).hostname).toBe('ep-cool-rain-12345.eu-central-1.aws.neon.tech');
});

test('Supabase: the admin on db.<ref>.supabase.co as postgres, the instances on Supavisor 6543 as vw_blog.<ref>', async () => {
  expect(rt.named('supa-admin').inputs).toMatchObject({ host: 'db.abcdefgh.supabase.co', port: '5432', username: 'postgres', sslmode: 'require', superuser: 'false' });
  const blog = supabase.instances['blog']!;
  const pooled = new URL(await value(blog.pooledUrl));
  expect([pooled.hostname, pooled.port, decodeURIComponent(pooled.username)]).toEqual(['aws-0-eu-central-1.pooler.supabase.com', '6543', 'vw_blog.abcdefgh']);
  expect(new URL(await value(blog.kratosDsn)).searchParams.get('default_query_exec_mode')).toBe('exec');
  const direct = new URL(await value(blog.url));
  expect([direct.hostname, direct.port, direct.username]).toEqual(['db.abcdefgh.supabase.co', '5432', 'vw_blog']);
});

test('the budget counts the pooler: Supabase free tier (60 connections) holds the instance at its Pool Size 15', () => {
  expect(supabase.budget.shares.map((s) => s.connections)).toEqual([15]);
  expect(neon.budget.shares.map((s) => s.connections)).toEqual([20]); // min(93, Kratos 10 + gateway 10)
});
