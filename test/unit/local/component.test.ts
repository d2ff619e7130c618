/**
 * LocalPostgres under Pulumi's mock runtime: the whole graph (images,
 * network, volume, server, bootstrap, migration, Kratos, certificates,
 * admin provider), ordering, secrets, volume retention, localhost-only
 * publishing, the server handle (and its error when unpublished), the
 * compose outputs, and errors raised before anything is created.
 */
import { installMocks, settle, settled, RecordedResource } from '../../../lab/pulumi-mocks';
const rt = installMocks();

import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import { LocalPostgres } from '../../../src/local/component';
import { SharedPostgres } from '../../../src/provisioning/shared';
import { planLocalStack } from '../../../src/local/plan';
import { RoleShape } from '../../../src/core/plan';
import { isScramVerifier, verifyScramPassword } from '../../../src/core/scram';
import { ServerKind, SslMode } from '../../../src/core/tls';
import { depsOf, reachable, unwrapSecret } from '../../support/graph';

// Under a loaded machine each mock evaluation can take seconds.
jest.setTimeout(30_000);

const local = new LocalPostgres('auth', {
  tls: true,
  publishPort: 5432,
  namePrefix: 'vw_',
  instances: [{ name: 'blog' }, { name: 'api', shape: RoleShape.LeastPrivilege }],
  kratos: { instance: 'blog' },
});
const plain = new LocalPostgres('dev', { kratos: {} });

beforeAll(settled, 60_000);

const mine = (prefix: string): RecordedResource[] => rt.resources.filter((r) => r.name === prefix || r.name.startsWith(`${prefix}-`));
const envOf = (r: RecordedResource): Record<string, string> => {
  const { value } = unwrapSecret(r.inputs['envs']);
  return Object.fromEntries((value as string[]).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
};
const upload = (r: RecordedResource, file: string): Record<string, unknown> => {
  const u = (r.inputs['uploads'] as Array<Record<string, unknown>>).find((x) => x['file'] === file);
  if (!u) throw new Error(`${r.name} has no upload ${file}`);
  return u;
};

describe('the graph', () => {
  test('images, network, volume, four containers, certificates, passwords and the admin provider', () => {
    const types = mine('auth').map((r) => `${r.type}|${r.name}`);
    expect(types.sort()).toEqual(
      [
        'postgres-strategies:index:LocalPostgres|auth',
        'docker:index/remoteImage:RemoteImage|auth-postgres-image',
        'docker:index/remoteImage:RemoteImage|auth-kratos-image',
        'docker:index/network:Network|auth-network',
        'docker:index/volume:Volume|auth-data',
        'docker:index/volume:Volume|auth-socket',
        'pulumi-nodejs:dynamic/postgres-strategies:LocalDataGuard|auth-data-guard',
        'docker:index/container:Container|auth-postgres',
        'docker:index/container:Container|auth-postgres-bootstrap',
        'docker:index/container:Container|auth-kratos-migrate',
        'docker:index/container:Container|auth-kratos',
        'tls:index/privateKey:PrivateKey|auth-ca-key',
        'tls:index/selfSignedCert:SelfSignedCert|auth-ca',
        'tls:index/privateKey:PrivateKey|auth-server-key',
        'tls:index/certRequest:CertRequest|auth-server-csr',
        'tls:index/locallySignedCert:LocallySignedCert|auth-server-cert',
        'random:index/randomPassword:RandomPassword|auth-superuser-password',
        'random:index/randomBytes:RandomBytes|auth-superuser-scram-salt',
        'random:index/randomPassword:RandomPassword|auth-blog-owner-password',
        'random:index/randomBytes:RandomBytes|auth-blog-owner-scram-salt',
        'random:index/randomPassword:RandomPassword|auth-api-app-password',
        'random:index/randomBytes:RandomBytes|auth-api-app-scram-salt',
        'random:index/randomPassword:RandomPassword|auth-api-read-only-password',
        'random:index/randomBytes:RandomBytes|auth-api-read-only-scram-salt',
        'pulumi:providers:postgresql|auth-admin',
      ].sort(),
    );
    for (const r of mine('auth').filter((x) => x.name !== 'auth')) expect(r.parent).toMatch(/::auth$/);
  });

  test('pinned images, kept locally on destroy', () => {
    expect(rt.named('auth-postgres-image').inputs).toMatchObject({ name: 'postgres:17-alpine', keepLocally: true });
    expect(rt.named('auth-kratos-image').inputs).toMatchObject({ name: 'oryd/kratos:v1.3.1', keepLocally: true });
  });

  test('a private network on which the server answers as "postgres"; every container joins it', () => {
    expect(rt.named('auth-network').inputs).toMatchObject({ name: 'postgres-strategies-test-auth-network', driver: 'bridge' });
    const server = rt.named('auth-postgres').inputs;
    expect(server['networksAdvanced']).toEqual([{ name: 'postgres-strategies-test-auth-network', aliases: ['postgres'] }]);
    for (const c of ['auth-postgres-bootstrap', 'auth-kratos-migrate', 'auth-kratos']) {
      expect((rt.named(c).inputs['networksAdvanced'] as Array<{ name: string }>)[0]!.name).toBe('postgres-strategies-test-auth-network');
    }
  });

  test('the named volume is retained on delete and mounted where PGDATA is for 17; the socket volume is shared with the bootstrap', () => {
    expect(rt.named('auth-data').inputs['name']).toBe('postgres-strategies-test-auth-postgres-data');
    expect(rt.named('auth-data').retainOnDelete).toBe(true);
    expect(rt.named('auth-socket').inputs['name']).toBe('postgres-strategies-test-auth-postgres-socket');
    const socket = { volumeName: 'postgres-strategies-test-auth-postgres-socket', containerPath: '/var/run/postgresql' };
    expect(rt.named('auth-postgres').inputs['volumes']).toEqual([{ volumeName: 'postgres-strategies-test-auth-postgres-data', containerPath: '/var/lib/postgresql/data' }, socket]);
    expect(rt.named('auth-postgres-bootstrap').inputs['volumes']).toEqual([socket]);
  });

  test('Docker names carry the project and stack (two stacks on one host never collide), or dockerNamePrefix', async () => {
    expect(rt.ofType('docker:index/container:Container').filter((c) => c.name.startsWith('auth-')).map((c) => c.inputs['name'])).toEqual([
      'postgres-strategies-test-auth-postgres',
      'postgres-strategies-test-auth-postgres-bootstrap',
      'postgres-strategies-test-auth-kratos-migrate',
      'postgres-strategies-test-auth-kratos',
    ]);
    new LocalPostgres('named', { dockerNamePrefix: 'shop-' });
    await settled();
    expect([rt.named('named-network').inputs['name'], rt.named('named-data').inputs['name'], rt.named('named-postgres').inputs['name']]).toEqual([
      'shop-named-network',
      'shop-named-postgres-data',
      'shop-named-postgres',
    ]);
    expect(() => new LocalPostgres('x', { dockerNamePrefix: '-bad ' })).toThrow(/^dockerNamePrefix: "-bad " cannot start Docker names/);
  });

  test('allowDataDeletion lets the volume go; PostgreSQL 18 mounts at /var/lib/postgresql', async () => {
    new LocalPostgres('pg18', { image: 'postgres:18-alpine', allowDataDeletion: true });
    await settled();
    expect(rt.named('pg18-data').retainOnDelete).toBe(false);
    expect((rt.named('pg18-postgres').inputs['volumes'] as Array<{ containerPath: string }>)[0]!.containerPath).toBe('/var/lib/postgresql');
  });
});

describe('the server container', () => {
  const server = (): RecordedResource => rt.named('auth-postgres');

  test('healthcheck pg_isready with the actual values at the seed\'s timing; wait until healthy', () => {
    expect(server().inputs).toMatchObject({
      name: 'postgres-strategies-test-auth-postgres',
      healthcheck: { tests: ['CMD', 'pg_isready', '-h', '127.0.0.1', '-p', '5432', '-U', 'postgres', '-d', 'postgres'], interval: '5s', timeout: '5s', retries: 10, startPeriod: '30s' },
      wait: true,
      restart: 'unless-stopped',
      mustRun: true,
      destroyGraceSeconds: 60,
    });
  });

  test('its own postgresql.conf and pg_hba.conf through -c config_file / hba_file, behind the TLS wrapper', () => {
    const plan = planLocalStack({ tls: true, publishPort: 5432, namePrefix: 'vw_', instances: [{ name: 'blog' }, { name: 'api', shape: RoleShape.LeastPrivilege }], kratos: { instance: 'blog' } });
    expect(server().inputs['command']).toEqual(['postgres', '-c', 'config_file=/etc/postgresql/postgresql.conf', '-c', 'hba_file=/etc/postgresql/pg_hba.conf']);
    expect(server().inputs['entrypoints']).toEqual(['/bin/sh', '/etc/postgresql/postgres-strategies-entrypoint.sh']);
    expect(upload(server(), '/etc/postgresql/postgresql.conf')).toMatchObject({ content: plan.postgresqlConf, permissions: '0644' });
    expect(upload(server(), '/etc/postgresql/pg_hba.conf')).toMatchObject({ content: plan.pgHbaConf });
    expect(upload(server(), '/etc/postgresql/postgres-strategies-entrypoint.sh')).toMatchObject({ content: plan.tlsEntrypoint });
    expect(plan.postgresqlConf).toContain("ssl_min_protocol_version = 'TLSv1.2'");
  });

  test('the TLS key is uploaded as a secret, 0600; the certificate next to it', () => {
    const key = upload(server(), '/etc/postgresql/tls/server.key');
    expect(key['permissions']).toBe('0600');
    expect(unwrapSecret(key['content']).secret).toBe(true);
    expect(String(unwrapSecret(key['content']).value)).toContain('PRIVATE KEY');
    expect(String(upload(server(), '/etc/postgresql/tls/server.crt')['content'])).toContain('BEGIN CERTIFICATE');
  });

  test('env: POSTGRES_USER postgres, the password as a file (POSTGRES_PASSWORD_FILE, a secret upload, root-only), POSTGRES_DB, seed 004\'s initdb args — no password in it', async () => {
    const password = (await settle(local.superuserPassword)).value as string;
    expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(envOf(server())).toEqual({
      POSTGRES_USER: 'postgres',
      POSTGRES_PASSWORD_FILE: '/run/secrets/postgres-password',
      POSTGRES_DB: 'postgres',
      POSTGRES_INITDB_ARGS: '--auth-host=scram-sha-256 --data-checksums',
    });
    const file = upload(server(), '/run/secrets/postgres-password');
    expect(unwrapSecret(file['content'])).toEqual({ secret: true, value: password });
    expect(file['permissions']).toBe('0600');
    expect(rt.named('auth-superuser-password').inputs).toMatchObject({ length: 32, special: false });
  });

  test('no init script by default: nothing of the server depends on the instances', () => {
    expect((server().inputs['uploads'] as Array<{ file: string }>).map((u) => u.file)).toEqual([
      '/run/secrets/postgres-password',
      '/etc/postgresql/postgresql.conf',
      '/etc/postgresql/pg_hba.conf',
      '/etc/postgresql/postgres-strategies-entrypoint.sh',
      '/etc/postgresql/tls/server.crt',
      '/etc/postgresql/tls/server.key',
    ]);
  });

  test('the bootstrap script holds SCRAM verifiers (the superuser\'s first), never a password', async () => {
    const sql = String(unwrapSecret(upload(rt.named('auth-postgres-bootstrap'), '/etc/postgres-strategies/bootstrap.sql')['content']).value);
    expect(sql).toContain('CREATE ROLE "vw_blog" LOGIN');
    expect(sql.indexOf('ALTER ROLE "postgres" PASSWORD')).toBeGreaterThan(-1);
    expect(sql.indexOf('ALTER ROLE "postgres" PASSWORD')).toBeLessThan(sql.indexOf('CREATE ROLE "vw_blog"'));
    const verifiers = sql.match(/SCRAM-SHA-256\$[^']+/g) ?? [];
    expect(verifiers.length).toBeGreaterThan(0);
    for (const v of verifiers) expect(isScramVerifier(v)).toBe(true);
    for (const inst of Object.values(local.instances)) expect(sql).not.toContain((await settle(inst.password)).value as string);
    expect(sql).not.toContain((await settle(local.superuserPassword)).value as string);
  });

  test('published on 127.0.0.1 only', () => {
    expect(server().inputs['ports']).toEqual([{ internal: 5432, external: 5432, ip: '127.0.0.1', protocol: 'tcp' }]);
  });

  test('unpublished: no ports at all', () => {
    expect(rt.named('dev-postgres').inputs['ports']).toBeUndefined();
  });

  test('every interface only when asked explicitly, with a warning', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    new LocalPostgres('lan', { publishPort: 15432, publishAddress: '0.0.0.0' });
    await settled();
    expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).toContain('publishAddress 0.0.0.0: the published ports are reachable on every interface of this machine');
    warn.mockRestore();
    expect(rt.named('lan-postgres').inputs['ports']).toEqual([{ internal: 5432, external: 15432, ip: '0.0.0.0', protocol: 'tcp' }]);
  });
});

test('a pgConfig parameter a minor release added: a warning for an image of the major alone, refused for an older pinned release', async () => {
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  new LocalPostgres('minor', { image: 'postgres:15-alpine', pgConfig: { output_plugin_libraries: 'pgoutput, wal2json' } });
  new LocalPostgres('pinned', { image: 'postgres:15.20-alpine', pgConfig: { output_plugin_libraries: 'pgoutput, wal2json' } });
  await settled();
  const warned = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('output_plugin_libraries'));
  warn.mockRestore();
  // One warning (the image of the major alone); the pinned 15.20 has it.
  expect(warned).toEqual([expect.stringContaining('pgConfig.output_plugin_libraries: "output_plugin_libraries" came with PostgreSQL 15.19, a minor release')]);
  expect(() => new LocalPostgres('old', { image: 'postgres:15.18-alpine', pgConfig: { output_plugin_libraries: 'pgoutput' } })).toThrow(
    /^pgConfig\.output_plugin_libraries: PostgreSQL 15\.18 has no parameter "output_plugin_libraries": it came with PostgreSQL 15\.19/,
  );
});

describe('ordering: server healthy → bootstrap → migration exits 0 → Kratos', () => {
  test('the bootstrap depends on the server; the migration on the bootstrap; Kratos on the migration', () => {
    expect(depsOf(rt.named('auth-postgres-bootstrap'))).toContain('auth-postgres');
    expect(depsOf(rt.named('auth-kratos-migrate'))).toContain('auth-postgres-bootstrap');
    expect(depsOf(rt.named('auth-kratos'))).toContain('auth-kratos-migrate');
    expect([...reachable(rt.resources, 'auth-kratos')]).toEqual(expect.arrayContaining(['auth-kratos-migrate', 'auth-postgres-bootstrap', 'auth-postgres', 'auth-data', 'auth-network']));
  });

  test('one-shots: attach, logs, mustRun false, rm false, restart "no"', () => {
    for (const name of ['auth-postgres-bootstrap', 'auth-kratos-migrate']) {
      expect(rt.named(name).inputs).toMatchObject({ attach: true, logs: true, mustRun: false, rm: false, restart: 'no' });
    }
    expect(rt.named('auth-kratos-migrate').inputs['command']).toEqual(['migrate', 'sql', '-e', '--yes', '--config', '/etc/config/kratos/kratos.yml']);
    expect(rt.named('auth-postgres-bootstrap').inputs['command']).toEqual(['psql', '-X', '-w', '-v', 'ON_ERROR_STOP=1', '-f', '/etc/postgres-strategies/bootstrap.sql']);
  });

  test('the gated containers run the pulled images once the one-shots exited 0', () => {
    const kratosImageId = rt.named('auth-kratos-image');
    expect(kratosImageId).toBeDefined();
    expect(rt.named('auth-kratos').inputs['image']).toMatch(/^sha256:/);
    expect(rt.named('auth-kratos').inputs['image']).toBe(rt.named('auth-kratos-migrate').inputs['image']);
  });

  test('Kratos and its migration read the DSN from the mounted config (a secret upload), never from their environment; the identity schema and the CA beside it', async () => {
    const k = rt.named('auth-kratos');
    const m = rt.named('auth-kratos-migrate');
    expect(k.inputs['command']).toEqual(['serve', '-c', '/etc/config/kratos/kratos.yml']);
    expect(m.inputs['command']).toEqual(['migrate', 'sql', '-e', '--yes', '--config', '/etc/config/kratos/kratos.yml']);
    for (const c of [k, m]) {
      const config = unwrapSecret(upload(c, '/etc/config/kratos/kratos.yml')['content']);
      expect(config.secret).toBe(true);
      expect(parse(String(config.value))).toMatchObject({ dsn: (await settle(local.kratosDsn!)).value, identity: { default_schema_id: 'default' } });
      expect(JSON.parse(String(upload(c, '/etc/config/kratos/identity.schema.json')['content']))).toMatchObject({ type: 'object' });
      expect(String(upload(c, '/etc/postgres-strategies/ca.crt')['content'])).toContain('BEGIN CERTIFICATE');
      expect(envOf(c)).toEqual({});
    }
  });

  test('the bootstrap container logs in on the server\'s Unix socket as the OS user postgres, with no password', async () => {
    const b = rt.named('auth-postgres-bootstrap');
    expect(b.inputs['user']).toBe('postgres');
    expect(envOf(b)).toEqual({
      PGHOST: '/var/run/postgresql',
      PGPORT: '5432',
      PGUSER: 'postgres',
      PGDATABASE: 'postgres',
      PGCONNECT_TIMEOUT: '10',
      PGAPPNAME: 'postgres-strategies-bootstrap',
    });
    expect((b.inputs['uploads'] as Array<{ file: string }>).map((u) => u.file)).toEqual(['/etc/postgres-strategies/bootstrap.sql']);
    expect(unwrapSecret(upload(b, '/etc/postgres-strategies/bootstrap.sql')['content']).secret).toBe(true);
  });

  test('the bootstrap sets the superuser\'s password to the verifier of the stack\'s current one', async () => {
    const sql = (await settle(local.bootstrapSql)).value as string;
    const verifier = /ALTER ROLE "postgres" PASSWORD '([^']+)'/.exec(sql)![1]!;
    expect(isScramVerifier(verifier)).toBe(true);
    expect(verifyScramPassword((await settle(local.superuserPassword)).value as string, verifier)).toBe(true);
    // Also without instances: the one-shot then only repairs the superuser's password.
    expect(rt.ofType('docker:index/container:Container').filter((c) => c.name.startsWith('pg18-')).map((c) => c.name)).toEqual(['pg18-postgres', 'pg18-postgres-bootstrap']);
  });
});

describe('certificates', () => {
  test('ECDSA P256 CA and server key; the server certificate names postgres, localhost and 127.0.0.1', () => {
    expect(rt.named('auth-ca-key').inputs).toMatchObject({ algorithm: 'ECDSA', ecdsaCurve: 'P256' });
    expect(rt.named('auth-ca').inputs).toMatchObject({ isCaCertificate: true, allowedUses: ['cert_signing', 'crl_signing', 'digital_signature'], validityPeriodHours: 87600 });
    expect(rt.named('auth-server-csr').inputs).toMatchObject({ dnsNames: ['postgres', 'localhost'], ipAddresses: ['127.0.0.1'], subject: { commonName: 'postgres' } });
    expect(rt.named('auth-server-cert').inputs).toMatchObject({ isCaCertificate: false, allowedUses: ['server_auth', 'digital_signature', 'key_encipherment'], validityPeriodHours: 825 * 24 });
  });

  test('early renewal: an `up` in the server certificate\'s last 30 days (the CA\'s last year) renews it before it expires', () => {
    expect(rt.named('auth-server-cert').inputs['earlyRenewalHours']).toBe(30 * 24);
    expect(rt.named('auth-ca').inputs['earlyRenewalHours']).toBe(365 * 24);
  });
});

describe('outputs', () => {
  test('every password-bearing output is a secret', async () => {
    const blog = local.instances['blog']!;
    const outputs: Record<string, pulumi.Output<unknown>> = {
      superuserPassword: local.superuserPassword,
      hostUrl: local.hostUrl!,
      kratosDsn: local.kratosDsn!,
      kratosEnv: local.kratosEnv!,
      bootstrapSql: local.bootstrapSql,
      composeFiles: local.composeFiles,
      'blog.password': blog.password,
      'blog.connection': blog.connection,
      'blog.url': blog.url,
      'blog.pgxUrl': blog.pgxUrl,
      'blog.kratosDsn': blog.kratosDsn,
      'blog.hostUrl': blog.hostUrl!,
      'blog.env.kratos': blog.env.kratos,
      'blog.env.gateway': blog.env.gateway,
      'blog.env.databaseUrl': blog.env.databaseUrl,
      'blog.env.libpq': blog.env.libpq,
      'api.readOnlyUrl': local.instances['api']!.readOnlyUrl!,
    };
    for (const [name, output] of Object.entries(outputs)) expect([name, await pulumi.isSecret(output)]).toEqual([name, true]);
    expect(await pulumi.isSecret(local.composeYaml)).toBe(false);
  });

  test('the Kratos DSN: its instance\'s role on host postgres, verify-full against the uploaded CA, Kratos\' pool keys', async () => {
    const dsn = (await settle(local.kratosDsn!)).value as string;
    const password = (await settle(local.instances['blog']!.password)).value as string;
    expect(dsn).toBe(
      `postgres://vw_blog:${password}@postgres:5432/vw_blog?sslmode=verify-full&sslrootcert=/etc/postgres-strategies/ca.crt&connect_timeout=10&application_name=blog&max_conns=10&max_idle_conns=2`,
    );
    expect((await settle(local.kratosEnv!)).value).toEqual({ DSN: dsn });
  });

  test('without TLS the DSN uses sslmode=disable on the private network (the seed) and Kratos gets an instance "kratos"', async () => {
    const dsn = (await settle(plain.kratosDsn!)).value as string;
    expect(dsn).toMatch(/^postgres:\/\/kratos:[A-Za-z0-9]{32}@postgres:5432\/kratos\?sslmode=disable&connect_timeout=10/);
    expect(plain.caPem).toBeUndefined();
    expect(rt.resources.filter((r) => r.name.startsWith('dev-') && r.type.startsWith('tls:'))).toEqual([]);
  });

  test('the host URL goes through the published port on 127.0.0.1 with verify-full against the saved CA', async () => {
    const url = new URL((await settle(local.hostUrl!)).value as string);
    expect([url.hostname, url.port, url.username, url.pathname]).toEqual(['127.0.0.1', '5432', 'postgres', '/postgres']);
    expect(url.searchParams.get('sslmode')).toBe('verify-full');
    expect(url.searchParams.get('sslrootcert')).toBe('postgres-ca.pem');
    expect(plain.hostUrl).toBeUndefined();
  });

  test('the CA PEM is an output when TLS is on', async () => {
    expect((await settle(local.caPem!)).value).toContain('BEGIN CERTIFICATE');
  });

  test('compose: parses, holds no password; the password file and Kratos\' config (with the DSN) are among its files, which are complete', async () => {
    const yaml = (await settle(local.composeYaml)).value as string;
    const doc = parse(yaml) as Record<string, any>;
    expect(Object.keys(doc['services'])).toEqual(['postgres', 'postgres-bootstrap', 'kratos-migrate', 'kratos']);
    const passwords = [local.superuserPassword, ...Object.values(local.instances).map((i) => i.password)];
    for (const p of passwords) expect(yaml).not.toContain((await settle(p)).value as string);
    const files = (await settle(local.composeFiles)).value as Record<string, string>;
    expect(files['secrets/postgres-password']).toBe((await settle(local.superuserPassword)).value);
    expect(parse(files['kratos/kratos.yml'] as string)['dsn']).toBe((await settle(local.kratosDsn!)).value);
    expect(Object.keys(files).sort()).toEqual(
      ['secrets/postgres-password', 'kratos/identity.schema.json', 'kratos/kratos.yml', 'postgres/bootstrap.sql', 'postgres/entrypoint.sh', 'postgres/pg_hba.conf', 'postgres/postgresql.conf', 'postgres/tls/ca.crt', 'postgres/tls/server.crt', 'postgres/tls/server.key'].sort(),
    );
    expect(files['postgres/bootstrap.sql']).toBe((await settle(local.bootstrapSql)).value);
  });
});

describe('the server handle', () => {
  test('published: host postgres and port 5432 for app containers, the admin provider through 127.0.0.1', () => {
    expect(local.handle).toMatchObject({
      host: 'postgres',
      port: 5432,
      kind: ServerKind.Local,
      sslmode: SslMode.VerifyFull,
      sslrootcert: '/etc/postgres-strategies/ca.crt',
      maxConnections: 100,
      adminUser: 'postgres',
      adminIsSuperuser: true,
    });
    expect(local.handle.provider).toBe(local.provider);
    expect(rt.named('auth-admin').inputs).toMatchObject({ host: '127.0.0.1', port: '5432', username: 'postgres', database: 'postgres', sslmode: 'require', superuser: 'true' });
    expect(unwrapSecret(rt.named('auth-admin').inputs['password']).secret).toBe(true);
    // The admin logs in once the bootstrap has set the superuser's password (a kept volume may hold another).
    expect(depsOf(rt.named('auth-admin'))).toContain('auth-postgres-bootstrap');
  });

  test('the handle budgets against what the local instances leave', () => {
    let error: unknown;
    try {
      new SharedPostgres('crowd', { server: local.handle, instances: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] });
    } catch (e) {
      error = e;
    }
    // The local instances' shares (blog 10 + 10, api 10 + 10 + 2 read-only) are already claimed on the server.
    expect(String(error)).toMatch(/3 instances need 60 connections but the server allows \d+ \(max_connections 100 − 3 reserved .*auth\/blog 20, auth\/api 22/);
  });

  test('SharedPostgres runs on a local server through the handle, after the server is healthy', async () => {
    const shared = new SharedPostgres('more', { server: local.handle, namePrefix: 'app_', instances: [{ name: 'shop' }] });
    await settled();
    expect(rt.named('more-shop-database').provider).toMatch(/pulumi:providers:postgresql::auth-admin::/);
    expect(depsOf(rt.named('more-shop-owner-role'))).toContain('auth-postgres-bootstrap');
    expect((await settle(shared.instances['shop']!.url)).value).toMatch(/@postgres:5432\/app_shop\?sslmode=verify-full&sslrootcert=\/etc\/postgres-strategies\/ca\.crt/);
  });

  test('unpublished: using the handle is an error naming publishPort, and nothing is created', () => {
    const before = rt.resources.length;
    expect(plain.hasHandle).toBe(false);
    expect(() => new SharedPostgres('nope', { server: plain.handle, instances: [{ name: 'x' }] })).toThrow(
      /^publishPort: the local server is not published on this machine, so Pulumi has no admin connection.*Set publishPort/s,
    );
    expect(rt.resources.length).toBe(before);
    expect(rt.named('dev-superuser-password')).toBeDefined();
    expect(rt.resources.some((r) => r.name === 'dev-admin')).toBe(false);
  });
});

describe('rejected before anything is created', () => {
  const cases: Array<[string, ConstructorParameters<typeof LocalPostgres>[1], RegExp]> = [
    ['an image tag without a major', { image: 'postgres:latest' }, /^image: the tag of "postgres:latest" does not name a PostgreSQL major version/],
    ['a major below 14', { image: 'postgres:13-alpine' }, /^image: PostgreSQL 13 is older than the supported 14/],
    ['a pgConfig key that fails the pattern', { pgConfig: { 'shared buffers': '1GB' } }, /^pgConfig\.shared buffers: "shared buffers" is not a postgresql\.conf parameter name/],
    ['a managed pgConfig key', { pgConfig: { ssl_cert_file: '/x' } }, /^pgConfig\.ssl_cert_file: "ssl_cert_file" is managed by this component/],
    ['a host name as publish address', { publishPort: 5432, publishAddress: 'localhost' }, /^publishAddress: "localhost" is not an IP address/],
    ['a publish address without a port', { publishAddress: '0.0.0.0' }, /^publishAddress: is set to "0\.0\.0\.0" but nothing is published/],
    ['a port out of range', { publishPort: 0 }, /^publishPort: 0 is not a whole number of port/],
    ['Kratos on a least-privilege instance', { instances: [{ name: 'a', shape: RoleShape.LeastPrivilege }], kratos: {} }, /^kratos\.instance: instance "a" uses the least-privilege shape/],
    ['an over-budget server', { pgConfig: { max_connections: 20 }, instances: [{ name: 'a' }] }, /^instances: 1 instance needs 20 connections but the server allows 10 \(max_connections 20 − 3 reserved − 4 admin \(deploys: 2 instances at once\) − 3 maintenance headroom\)/],
    ['a Kratos config with a DSN', { kratos: { config: 'dsn: postgres://u:p@h/d\n' } }, /^kratos\.config\.dsn: is set in the config file/],
    ['a short password length', { passwordLength: 8 }, /^passwordLength: 8 is not a whole number of characters between 16 and 128/],
    ['a host port published twice (server and Kratos)', { publishPort: 4433, kratos: { publishPublicPort: 4433 } }, /^kratos\.publishPublicPort: host port 4433 is already published by publishPort\. Give kratos\.publishPublicPort and publishPort different host ports/],
    ['Kratos\' two APIs on one host port', { kratos: { publishPublicPort: 4433, publishAdminPort: 4433 } }, /^kratos\.publishAdminPort: host port 4433 is already published by kratos\.publishPublicPort/],
  ];
  test.each(cases)('%s', (_, args, message) => {
    const before = rt.resources.length;
    expect(() => new LocalPostgres('bad', args)).toThrow(message);
    expect(rt.resources.length).toBe(before);
  });

  test('a name Docker refuses', () => {
    const before = rt.resources.length;
    expect(() => new LocalPostgres('my stack', {})).toThrow(/^name: "my stack" cannot name Docker containers/);
    expect(rt.resources.length).toBe(before);
  });
});

describe('secrets in the state', () => {
  test('one-shot containers keep their output (containerLogs) as an additional secret output', async () => {
    // The engine (not the mock runtime) applies additionalSecretOutputs: the recorder shows what it is asked to.
    for (const name of ['auth-postgres-bootstrap', 'auth-kratos-migrate', 'dev-postgres-bootstrap']) {
      expect([name, rt.named(name).additionalSecretOutputs]).toEqual([name, ['containerLogs']]);
    }
    for (const name of ['auth-postgres', 'auth-kratos']) expect([name, rt.named(name).additionalSecretOutputs]).toEqual([name, []]);
  });

  const kratosYaml = 'secrets:\n  cookie: ["CookieSecretCookieSecret0123456789"]\n  cipher: ["CipherSecretCipherSecret01234567"]\nserve: {}\n';

  test.each([
    ['an Input (a secret config value)', 'ownout', () => pulumi.secret(kratosYaml)],
    ['plain text', 'owntext', () => kratosYaml],
  ])('a user\'s Kratos config given as %s is uploaded as a secret and kept out of plan', async (_, name, config) => {
    const own = new LocalPostgres(name, { kratos: { config: config() } });
    await settled();
    const dsn = (await settle(own.kratosDsn!)).value as string;
    const withDsn = { dsn, ...parse(kratosYaml) };
    const uploaded = unwrapSecret(upload(rt.named(`${name}-kratos`), '/etc/config/kratos/kratos.yml')['content']);
    expect([uploaded.secret, parse(String(uploaded.value))]).toEqual([true, withDsn]);
    expect(JSON.stringify(own.plan)).not.toContain('CookieSecret');
    expect(own.plan.kratos).toMatchObject({ ownConfig: true });
    expect(own.plan.kratos!.config).toBeUndefined();
    expect(own.plan.staticFiles).not.toHaveProperty('kratos.yml');
    const files = await settle(own.composeFiles);
    expect([files.secret, parse(files.value!['kratos/kratos.yml'] as string)]).toEqual([true, withDsn]);
  }, 30_000);

  test('the minimal Kratos config (no secrets) stays in plan; uploaded with the DSN, as a secret', async () => {
    expect(plain.plan.kratos).toMatchObject({ ownConfig: false });
    expect(plain.plan.kratos!.config).toContain('default_schema_id');
    expect(plain.plan.kratos!.config).not.toMatch(/^dsn:/m);
    const uploaded = unwrapSecret(upload(rt.named('dev-kratos'), '/etc/config/kratos/kratos.yml')['content']);
    expect(uploaded).toEqual({ secret: true, value: expect.stringContaining(`dsn: ${(await settle(plain.kratosDsn!)).value}\n`) });
  });
});
