/**
 * The local strategy's pure core: image/major parsing, the volume mount per
 * major, publishing rules, postgresql.conf and pg_hba.conf of the container,
 * the container plan (seed Strategy 1 ordering), Kratos' config and
 * exit-code gate, and the compose/.env rendering.
 */
import { parse } from 'yaml';
import { ConnectionBudgetError, DEFAULT_ADMIN_MAX_CONNECTIONS, DEFAULT_MAINTENANCE_CONNECTIONS } from '../../../src/core/budget';
import { composeFileSources, escapeComposeValue, renderComposeFile } from '../../../src/local/compose';
import {
  KRATOS_DEFAULT_IMAGE,
  OneShotFailedError,
  checkOneShotExit,
  kratosDsnToLibpq,
  redactLogs,
  kratosConfigWithDsn,
  renderKratosConfig,
  validateKratosConfig,
} from '../../../src/core/kratos';
import {
  BootstrapMode,
  CONTAINER_PATHS,
  VOLUME_OWNER_LABEL,
  checkLocalMajorChange,
  checkVolumeOwner,
  checkHostPortFree,
  checkImageAvailable,
  localHostPorts,
  localImages,
  FileContent,
  SECRET_FILES,
  ServiceCondition,
  dataMountPath,
  dockerNames,
  healthcheckTest,
  imageTag,
  localCapacity,
  localServerSettings,
  parsePostgresImage,
  planLocalStack,
  planPublish,
  renderLocalBootstrapSql,
  renderSuperuserPasswordSql,
} from '../../../src/local/plan';
import { scramSha256Verifier } from '../../../src/core/scram';
import { COMPOSE_CASES } from './compose-cases';
import { ValidationError } from '../../../src/core/errors';
import { localDataGuardProvider } from '../../../src/local/data-guard';
import { InstanceSpec, RoleShape } from '../../../src/core/plan';

describe('image and major version', () => {
  test.each([
    ['postgres:17-alpine', 17],
    ['postgres:17.2-alpine', 17],
    ['postgres:16', 16],
    ['postgres:18-bookworm', 18],
    ['docker.io/library/postgres:14.12', 14],
    ['registry.example.com:5000/team/postgres:17-alpine', 17],
    [`postgres:17-alpine@sha256:${'a'.repeat(64)}`, 17],
  ])('%s → %i', (image, major) => {
    expect(parsePostgresImage(image).major).toBe(major);
  });

  test('the minor release, when the tag pins one', () => {
    expect(parsePostgresImage('postgres:17.2-alpine').minor).toBe(2);
    expect(parsePostgresImage('docker.io/library/postgres:14.12').minor).toBe(12);
    expect(parsePostgresImage('postgres:17-alpine').minor).toBeUndefined();
    expect(parsePostgresImage('postgres:17.2.1').minor).toBeUndefined();
  });

  test('the tag is read after the last slash (a registry port is not a tag)', () => {
    expect(imageTag('registry.example.com:5000/postgres')).toBeUndefined();
    expect(imageTag('registry.example.com:5000/postgres:16')).toBe('16');
  });

  test.each(['postgres:latest', 'postgres', `postgres@sha256:${'b'.repeat(64)}`, 'ghcr.io/acme/pg-vector:1.2.0x'])('%s needs majorVersion', (image) => {
    expect(() => parsePostgresImage(image)).toThrow(/does not name a PostgreSQL major version.*give majorVersion for a custom image/s);
    expect(parsePostgresImage(image, 16).major).toBe(16);
  });

  test('a major that disagrees with the tag, or below 14, is refused', () => {
    expect(() => parsePostgresImage('postgres:17-alpine', 16)).toThrow(/majorVersion: 16 disagrees with the image tag "17-alpine"/);
    expect(() => parsePostgresImage('postgres:13')).toThrow(/image: PostgreSQL 13 is older than the supported 14/);
    expect(() => parsePostgresImage('postgres 17')).toThrow(/is not an image reference/);
  });

  test('18+ images keep PGDATA below /var/lib/postgresql, so the volume moves up', () => {
    expect(dataMountPath(17)).toBe('/var/lib/postgresql/data');
    expect(dataMountPath(18)).toBe('/var/lib/postgresql');
  });
});

describe('publishing', () => {
  test('127.0.0.1 by default; clients on this machine use the bound address', () => {
    expect(planPublish(5432, undefined, 'publishPort')).toEqual({ hostPort: 5432, address: '127.0.0.1', allInterfaces: false, clientHost: '127.0.0.1' });
  });

  test('every interface only when 0.0.0.0 or :: is given; clients then use loopback', () => {
    expect(planPublish(5433, '0.0.0.0', 'publishPort')).toMatchObject({ allInterfaces: true, clientHost: '127.0.0.1' });
    expect(planPublish(5433, '::', 'publishPort')).toMatchObject({ allInterfaces: true, clientHost: '::1' });
  });

  test('bad ports and addresses, and an address with nothing published, are refused', () => {
    expect(() => planPublish(70000, undefined, 'publishPort')).toThrow(/publishPort: 70000 is not a whole number of port between 1 and 65535/);
    expect(() => planPublish(5432, 'localhost', 'publishPort')).toThrow(/publishAddress: "localhost" is not an IP address/);
    expect(() => planLocalStack({ publishAddress: '0.0.0.0' })).toThrow(/publishAddress: is set to "0.0.0.0" but nothing is published/);
  });
});

describe('postgresql.conf of the container', () => {
  test('defaults restate what initdb would have written, then the user\'s overrides, then managed TLS settings', () => {
    const s = localServerSettings({ shared_buffers: '256MB', 'pg_stat_statements.track': 'all' }, true);
    expect(s).toMatchObject({
      listen_addresses: '*',
      max_connections: 100,
      password_encryption: 'scram-sha-256',
      shared_buffers: '256MB',
      'pg_stat_statements.track': 'all',
      ssl: true,
      ssl_min_protocol_version: 'TLSv1.2',
      ssl_cert_file: CONTAINER_PATHS.certFile,
      ssl_key_file: CONTAINER_PATHS.keyFile,
    });
    expect(localServerSettings({}, false)['ssl']).toBe(false);
  });

  test.each([
    ['bad-key', /pgConfig\.bad-key: "bad-key" is not a postgresql\.conf parameter name/],
    ['shared_buffers = 1GB\nssl', /is not a postgresql\.conf parameter name/],
    ['ssl_cert_file', /pgConfig\.ssl_cert_file: "ssl_cert_file" is managed by this component/],
    ['listen_addresses', /pgConfig\.listen_addresses: "listen_addresses" is managed/],
    ['password_encryption', /is managed/],
    ['port', /is managed/],
  ])('key %j is refused', (key, message) => {
    expect(() => localServerSettings({ [key]: 'x' }, false)).toThrow(message);
  });

  test('a value with a line break is refused (it would smuggle in a directive)', () => {
    expect(() => localServerSettings({ work_mem: "4MB'\nssl = off" }, true)).toThrow(/pgConfig\.work_mem: contains a control character/);
  });

  test('capacity comes from max_connections and the reserved slots', () => {
    expect(localCapacity(localServerSettings({ max_connections: 50, superuser_reserved_connections: 5 }, false))).toEqual({
      maxConnections: 50,
      reservedConnections: 5,
      adminConnections: DEFAULT_ADMIN_MAX_CONNECTIONS,
      maintenanceConnections: DEFAULT_MAINTENANCE_CONNECTIONS,
    });
    // Read as the server reads postgresql.conf (the core's capacityFromPgConfig): "200" is 200.
    expect(localCapacity({ max_connections: '200' }, 17).maxConnections).toBe(200);
    expect(() => localCapacity({ max_connections: 'many' })).toThrow(/^pgConfig\.max_connections: "many" is not a whole number of connections/);
  });
});

describe('the container plan (seed Strategy 1)', () => {
  const plan = planLocalStack({ tls: true, publishPort: 5432, instances: [{ name: 'blog' }], kratos: {} });
  const byService = Object.fromEntries(plan.containers.map((c) => [c.service, c]));

  test('postgres, the one-shot bootstrap, kratos-migrate, kratos — dependencies first', () => {
    expect(plan.containers.map((c) => c.service)).toEqual(['postgres', 'postgres-bootstrap', 'kratos-migrate', 'kratos']);
    expect(byService['postgres-bootstrap']!.dependsOn).toEqual([{ service: 'postgres', condition: ServiceCondition.Healthy }]);
    expect(byService['kratos-migrate']!.dependsOn).toEqual([{ service: 'postgres-bootstrap', condition: ServiceCondition.CompletedSuccessfully }]);
    expect(byService['kratos']!.dependsOn).toEqual([{ service: 'kratos-migrate', condition: ServiceCondition.CompletedSuccessfully }]);
  });

  test('the healthcheck is pg_isready with the actual user, database and port, over TCP, at the seed\'s timing', () => {
    expect(byService['postgres']!.healthcheck).toEqual({
      test: ['CMD', 'pg_isready', '-h', '127.0.0.1', '-p', '5432', '-U', 'postgres', '-d', 'postgres'],
      intervalSeconds: 5,
      timeoutSeconds: 5,
      retries: 10,
      startPeriodSeconds: 30,
    });
    expect(planLocalStack({ database: 'auth' }).containers[0]!.healthcheck!.test).toEqual(healthcheckTest('postgres', 'auth'));
  });

  test('the server: its own config files, seed 004\'s initdb arguments, the superuser\'s password as a secret file (POSTGRES_PASSWORD_FILE)', () => {
    const pg = byService['postgres']!;
    expect(pg.command).toEqual(['postgres', '-c', 'config_file=/etc/postgresql/postgresql.conf', '-c', 'hba_file=/etc/postgresql/pg_hba.conf']);
    expect(pg.entrypoint).toEqual(['/bin/sh', CONTAINER_PATHS.entrypointScript]);
    expect(pg.env).toEqual([
      { name: 'POSTGRES_USER', value: 'postgres' },
      { name: 'POSTGRES_PASSWORD_FILE', value: '/run/secrets/postgres-password' },
      { name: 'POSTGRES_DB', value: 'postgres' },
      { name: 'POSTGRES_INITDB_ARGS', value: '--auth-host=scram-sha-256 --data-checksums' },
    ]);
    expect(pg.ports).toEqual([{ internal: 5432, external: 5432, address: '127.0.0.1' }]);
    expect(pg.files.find((f) => f.content === FileContent.ServerKey)).toEqual({ path: CONTAINER_PATHS.keyUpload, content: FileContent.ServerKey, mode: '0600' });
    // By default no init script: nothing of the server depends on the instances.
    expect(pg.files[0]).toEqual({ path: '/run/secrets/postgres-password', content: FileContent.SuperuserPassword, mode: '0600' });
    expect(SECRET_FILES.has(FileContent.SuperuserPassword)).toBe(true);
    expect(pg.files.map((f) => f.content)).toEqual([FileContent.SuperuserPassword, FileContent.PostgresqlConf, FileContent.PgHba, FileContent.TlsEntrypoint, FileContent.ServerCert, FileContent.ServerKey]);
    expect(pg.socketVolumePath).toBe('/var/run/postgresql');
  });

  test('the bootstrap: psql as the OS user postgres on the shared Unix socket, no password, no TLS', () => {
    const b = byService['postgres-bootstrap']!;
    expect(b).toMatchObject({ user: 'postgres', socketVolumePath: '/var/run/postgresql', oneShot: true, restart: 'no' });
    expect(b.env).toEqual([
      { name: 'PGHOST', value: '/var/run/postgresql' },
      { name: 'PGPORT', value: '5432' },
      { name: 'PGUSER', value: 'postgres' },
      { name: 'PGDATABASE', value: 'postgres' },
      { name: 'PGCONNECT_TIMEOUT', value: '10' },
      { name: 'PGAPPNAME', value: 'postgres-strategies-bootstrap' },
    ]);
    expect(b.files.map((f) => f.path)).toEqual([CONTAINER_PATHS.bootstrapScript]);
    // The server's socket is where the bootstrap looks, and peer admits the OS user postgres there.
    expect(plan.settings['unix_socket_directories']).toBe('/var/run/postgresql');
    expect(plan.postgresqlConf).toContain("unix_socket_directories = '/var/run/postgresql'");
  });

  test('kratos-migrate is the seed\'s one-shot migrate sql -e --yes on oryd/kratos:v1.3.1, the DSN from the mounted config (a secret file), not the environment', () => {
    const m = byService['kratos-migrate']!;
    expect(m).toMatchObject({ command: ['migrate', 'sql', '-e', '--yes', '--config', CONTAINER_PATHS.kratosConfig], oneShot: true, restart: 'no', env: [] });
    expect(plan.kratos!.image).toBe(KRATOS_DEFAULT_IMAGE);
    expect(m.files.map((f) => f.path)).toEqual([CONTAINER_PATHS.kratosConfig, CONTAINER_PATHS.kratosIdentitySchema, CONTAINER_PATHS.clientCaFile]);
    expect(SECRET_FILES.has(FileContent.KratosConfig)).toBe(true);
    expect(byService['kratos']!.env).toEqual([]);
    expect(plan.staticFiles).not.toHaveProperty(FileContent.KratosConfig);
  });

  test('pg_hba: peer for the entrypoint\'s superuser on the socket, hostssl only, then reject', () => {
    expect(plan.pgHbaConf).toMatch(/^local\s+all\s+postgres\s+peer$/m);
    expect(plan.pgHbaConf).toMatch(/^hostnossl\s+all\s+all\s+0\.0\.0\.0\/0\s+reject/m);
    expect(plan.pgHbaConf).not.toMatch(/^host\s+all\s+all\s+\S+\s+scram-sha-256/m);
    expect(plan.pgHbaConf.trimEnd().split('\n').pop()).toMatch(/^host\s+all\s+all\s+::\/0\s+reject/);
  });

  test('the certificate covers postgres, localhost and 127.0.0.1 (and a specific published address)', () => {
    expect(plan.certificates!.server).toMatchObject({ dnsNames: ['postgres', 'localhost'], ipAddresses: ['127.0.0.1'] });
    const lan = planLocalStack({ tls: true, publishPort: 5432, publishAddress: '192.168.1.5' });
    expect(lan.certificates!.server.ipAddresses).toEqual(['127.0.0.1', '192.168.1.5']);
  });

  test('bootstrap modes: one-shot by default (the server does not change with the instances), init script only, both', () => {
    const only = (mode?: BootstrapMode) => planLocalStack({ instances: [{ name: 'blog' }], bootstrap: mode });
    expect(only().bootstrap).toBe(BootstrapMode.OneShot);
    const init = only(BootstrapMode.InitScript);
    expect(init.containers.map((c) => c.service)).toEqual(['postgres']);
    expect(init.containers[0]!.files.some((f) => f.content === FileContent.BootstrapSql)).toBe(true);
    expect(init.containers[0]!.socketVolumePath).toBeUndefined();
    const oneShot = only(BootstrapMode.OneShot);
    expect(oneShot.containers.map((c) => c.service)).toEqual(['postgres', 'postgres-bootstrap']);
    expect(oneShot.containers[0]!.files.some((f) => f.content === FileContent.BootstrapSql)).toBe(false);
    const both = only(BootstrapMode.InitScriptAndOneShot);
    expect(both.containers[0]!.files.some((f) => f.content === FileContent.BootstrapSql)).toBe(true);
    // Without instances the one-shot still runs: it keeps the superuser's password current on a kept volume.
    expect(planLocalStack({}).containers.map((c) => c.service)).toEqual(['postgres', 'postgres-bootstrap']);
    expect(planLocalStack({}).hasBootstrapSql).toBe(false);
  });

  test('the server container\'s plan does not depend on the instances or their pools', () => {
    const server = (instances: InstanceSpec[]) => JSON.stringify(planLocalStack({ tls: true, publishPort: 5432, instances }).containers[0]);
    expect(server([{ name: 'a' }, { name: 'b', gatewayPool: { maxConns: 3, minConns: 1 } }])).toBe(server([{ name: 'a' }]));
  });

  test('without a bootstrap container, kratos-migrate waits for the healthy server', () => {
    const p = planLocalStack({ kratos: {}, bootstrap: BootstrapMode.InitScript });
    expect(p.containers.find((c) => c.service === 'kratos-migrate')!.dependsOn).toEqual([{ service: 'postgres', condition: ServiceCondition.Healthy }]);
  });

  test('PostgreSQL 18: the volume is mounted at /var/lib/postgresql', () => {
    expect(planLocalStack({ image: 'postgres:18-alpine' }).containers[0]!.dataVolumePath).toBe('/var/lib/postgresql');
  });
});

describe('Kratos and its instance', () => {
  test('Kratos gets an instance "kratos" when none is declared, or the only one', () => {
    expect(planLocalStack({ kratos: {} }).server.instances.map((i) => i.database)).toEqual(['kratos']);
    expect(planLocalStack({ kratos: {}, instances: [{ name: 'app' }], namePrefix: 'vw_' }).kratos!.instance).toBe('app');
  });

  test.each<[string, Parameters<typeof planLocalStack>[0], RegExp]>([
    ['least-privilege instance', { instances: [{ name: 'app', shape: RoleShape.LeastPrivilege }], kratos: {} }, /kratos\.instance: instance "app" uses the least-privilege shape, whose login role cannot create tables, so `kratos migrate sql` would fail\. Give Kratos an instance with the owner shape/],
    ['unknown instance', { instances: [{ name: 'app' }], kratos: { instance: 'auth' } }, /kratos\.instance: no instance is named "auth"/],
    ['several instances, none named', { instances: [{ name: 'a' }, { name: 'b' }], kratos: {} }, /kratos\.instance: is not set and there are 2 instances/],
    ['a config with a dsn', { kratos: { config: 'dsn: postgres://x:y@h/db\nserve: {}\n' } }, /kratos\.config\.dsn: is set in the config file/],
    ['a config that is not a mapping', { kratos: { config: '- a\n- b\n' } }, /kratos\.config: is not a YAML mapping/],
    ['a bad public URL', { kratos: { publicBaseUrl: 'ftp://x' } }, /kratos\.publicBaseUrl: "ftp:\/\/x" is not an http\(s\) URL/],
    ['over budget', { pgConfig: { max_connections: 30 }, instances: [{ name: 'a' }, { name: 'b' }] }, /2 instances need 40 connections but the server allows 20/],
  ])('%s is refused', (_, options, message) => {
    expect(() => planLocalStack(options)).toThrow(message);
  });

  test('the plan counts the admin provider and the maintenance headroom as the server handle does', () => {
    // Two instances of default pools (20 each) fit 43 − 3 reserved only if the admin and the headroom are not counted.
    const fitsWithoutAdmin = { pgConfig: { max_connections: 43 }, instances: [{ name: 'a' }, { name: 'b' }] };
    expect(() => planLocalStack(fitsWithoutAdmin)).toThrow(ConnectionBudgetError);
    const fitsWithAdmin = { pgConfig: { max_connections: 43 + DEFAULT_ADMIN_MAX_CONNECTIONS + DEFAULT_MAINTENANCE_CONNECTIONS }, instances: [{ name: 'a' }, { name: 'b' }] };
    expect(planLocalStack(fitsWithAdmin).server.budget.headroom).toBe(0);
  });

  test('the over-budget error is the budget error of the shared strategy', () => {
    expect(() => planLocalStack({ pgConfig: { max_connections: 30 }, instances: [{ name: 'a' }, { name: 'b' }] })).toThrow(ConnectionBudgetError);
  });

  test('the rendered config is valid YAML with the required keys and no dsn', () => {
    const text = renderKratosConfig({ publicBaseUrl: 'http://127.0.0.1:4433/', adminBaseUrl: 'http://kratos:4434/', returnUrl: 'http://127.0.0.1:4455/', identitySchemaPath: '/etc/config/kratos/identity.schema.json' });
    const doc = parse(text) as Record<string, any>;
    expect(doc['dsn']).toBeUndefined();
    expect(doc['selfservice']['default_browser_return_url']).toBe('http://127.0.0.1:4455/');
    expect(doc['identity']['schemas']).toEqual([{ id: 'default', url: 'file:///etc/config/kratos/identity.schema.json' }]);
    expect(validateKratosConfig(text, 'kratos.config')).toBe(text);
  });

  test('kratosConfigWithDsn: the DSN first, the rest of the file (comments too) unchanged; a config that already has one is refused', () => {
    const config = '# mine\nserve:\n  public:\n    base_url: http://x/ # trailing\nsecrets: { cookie: [abc] }\n';
    const dsn = 'postgres://kratos:p%40ss%3A%2F@postgres:5432/kratos?sslmode=verify-full&max_conns=10';
    const out = kratosConfigWithDsn(config, dsn);
    expect(parse(out)).toEqual({ dsn, serve: { public: { base_url: 'http://x/' } }, secrets: { cookie: ['abc'] } });
    expect(out).toContain('# mine');
    expect(out).toContain('# trailing');
    expect(() => kratosConfigWithDsn('dsn: x\n', dsn, 'kratos.config')).toThrow(/^kratos\.config\.dsn: is set in the config file/);
  });
});

describe('the exit-code gate', () => {
  test('exit 0 passes', () => {
    expect(() => checkOneShotExit('auth-kratos-migrate', 0, 'ok', 'auth-kratos')).not.toThrow();
  });

  test('any other exit names the container, the code, what does not start, and shows redacted logs', () => {
    let e: unknown;
    try {
      checkOneShotExit('auth-kratos-migrate', 1, 'line\nerror: failed to connect to `postgres://kratos:Sup3rS3cret@postgres:5432/kratos`\nPGPASSWORD=hunter2 password=abc', 'auth-kratos');
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(OneShotFailedError);
    const message = (e as Error).message;
    expect(message).toMatch(/^auth-kratos-migrate finished with exit code 1, so auth-kratos is not started\./);
    expect(message).toContain('postgres://kratos:REDACTED@postgres:5432/kratos');
    expect(message).not.toMatch(/Sup3rS3cret|hunter2|abc$/);
    expect((e as OneShotFailedError).exitCode).toBe(1);
  });

  test('no exit code (it never finished) fails too', () => {
    expect(() => checkOneShotExit('x', undefined, undefined, 'y')).toThrow(/x finished with no exit code/);
  });

  test('redaction keeps the user and host', () => {
    expect(redactLogs('dial postgres://u%40x:p%3Aw@h:1/db?sslmode=disable')).toBe('dial postgres://u%40x:REDACTED@h:1/db?sslmode=disable');
  });

  test('a Kratos DSN becomes a libpq URL without Kratos\' pool keys', () => {
    expect(kratosDsnToLibpq('postgres://k:p@postgres:5432/kratos?sslmode=disable&connect_timeout=10&max_conns=10&max_idle_conns=2&max_conn_lifetime=1h0m0s')).toBe(
      'postgres://k:p@postgres:5432/kratos?sslmode=disable&connect_timeout=10',
    );
  });
});

describe('compose', () => {
  const plan = planLocalStack({ tls: true, publishPort: 5433, instances: [{ name: 'blog' }], kratos: { instance: 'blog', publishPublicPort: 4433 } });
  const doc = parse(renderComposeFile(plan)) as Record<string, any>;

  test('services and the volume of the seed, in dependency order', () => {
    expect(Object.keys(doc['services'])).toEqual(['postgres', 'postgres-bootstrap', 'kratos-migrate', 'kratos']);
    expect(doc['volumes']).toEqual({ postgres_data: {}, postgres_socket: {} });
    expect(doc['services']['postgres']['volumes'].slice(0, 2)).toEqual(['postgres_data:/var/lib/postgresql/data', 'postgres_socket:/var/run/postgresql']);
    expect(doc['services']['postgres-bootstrap']['volumes'][0]).toBe('postgres_socket:/var/run/postgresql');
    expect(doc['services']['postgres-bootstrap']['user']).toBe('postgres');
    expect(doc['services']['postgres']['healthcheck']).toEqual({
      test: ['CMD', 'pg_isready', '-h', '127.0.0.1', '-p', '5432', '-U', 'postgres', '-d', 'postgres'],
      interval: '5s',
      timeout: '5s',
      retries: 10,
      start_period: '30s',
    });
    expect(doc['services']['kratos-migrate']['depends_on']).toEqual({ 'postgres-bootstrap': { condition: 'service_completed_successfully' } });
    expect(doc['services']['kratos']['depends_on']).toEqual({ 'kratos-migrate': { condition: 'service_completed_successfully' } });
    expect(doc['services']['postgres-bootstrap']['depends_on']).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(doc['services']['kratos-migrate']['restart']).toBe('no');
  });

  test('the superuser\'s password is a compose secret (a file), Kratos has no environment; ports are bound to 127.0.0.1', () => {
    expect(doc['services']['postgres']['environment']['POSTGRES_PASSWORD_FILE']).toBe('/run/secrets/postgres-password');
    expect(doc['services']['postgres']['secrets']).toEqual(['postgres-password']);
    expect(doc['secrets']).toEqual({ 'postgres-password': { file: './secrets/postgres-password' } });
    expect(doc['services']['kratos']['environment']).toBeUndefined();
    expect(doc['services']['postgres']['ports']).toEqual(['127.0.0.1:5433:5432']);
    expect(doc['services']['kratos']['ports']).toEqual(['127.0.0.1:4433:4433']);
  });

  test('every file the compose file mounts is listed once', () => {
    const sources = composeFileSources(plan).map((s) => s.source);
    expect(new Set(sources).size).toBe(sources.length);
    const mounted = Object.values(doc['services']).flatMap((s: any) => (s.volumes ?? []).filter((v: string) => v.startsWith('./')).map((v: string) => v.split(':')[0]!.slice(2)));
    const secrets = Object.values(doc['secrets'] as Record<string, { file: string }>).map((s) => s.file.slice(2));
    expect([...new Set([...mounted, ...secrets])].sort()).toEqual([...sources].sort());
  });

  test.each(COMPOSE_CASES)('%s: one service per container, in order, each volume declared, no secret in the YAML', (_, options) => {
    const p = planLocalStack(options);
    const text = renderComposeFile(p);
    const d = parse(text) as Record<string, any>;
    expect(Object.keys(d['services'])).toEqual(p.containers.map((c) => c.service));
    const named = Object.values(d['services']).flatMap((s: any) => (s.volumes ?? []).filter((v: string) => !v.startsWith('./')).map((v: string) => v.split(':')[0]));
    expect(Object.keys(d['volumes']).sort()).toEqual([...new Set(named)].sort());
    for (const c of p.containers) for (const e of c.env) expect([c.service, e.name]).not.toEqual([c.service, expect.stringMatching(/PASSWORD$|DSN/)]);
  });

  test('a literal $ is escaped for compose; IPv6 binds are bracketed', () => {
    expect(escapeComposeValue('a$b$$c')).toBe('a$$b$$$$c');
    const v6 = parse(renderComposeFile(planLocalStack({ publishPort: 5432, publishAddress: '::1' }))) as Record<string, any>;
    expect(v6['services']['postgres']['ports']).toEqual(['[::1]:5432:5432']);
  });
});

describe('Docker names and shell quoting', () => {
  test('names derive from the component name; a name Docker refuses is refused first', () => {
    const n = dockerNames('auth');
    expect([n.network, n.volume, n.container('postgres')]).toEqual(['auth-network', 'auth-postgres-data', 'auth-postgres']);
    expect(() => dockerNames('my stack')).toThrow(/name: "my stack" cannot name Docker containers/);
    expect(() => dockerNames('ok', '-bad')).toThrow(/volumeName: "-bad" is not a Docker volume name/);
  });

  test('a prefix (the component\'s default is "<project>-<stack>-") starts every name, the volume\'s too', () => {
    const n = dockerNames('auth', undefined, 'shop-dev-');
    expect([n.network, n.volume, n.socketVolume, n.container('postgres')]).toEqual(['shop-dev-auth-network', 'shop-dev-auth-postgres-data', 'shop-dev-auth-postgres-socket', 'shop-dev-auth-postgres']);
    expect(dockerNames('auth', 'kept-data', 'shop-dev-').volume).toBe('kept-data');
    expect(() => dockerNames('auth', undefined, '.x')).toThrow(/^dockerNamePrefix: "\.x" cannot start Docker names \(it makes "\.xauth"\)/);
  });
});

describe('the superuser part of the bootstrap', () => {
  const verifier = scramSha256Verifier('NewStackPassword1', Buffer.alloc(16, 7));

  test('sets the superuser\'s password to the verifier only when the stored one differs, and says so', () => {
    const sql = renderSuperuserPasswordSql(verifier);
    expect(sql).toContain(`IF (SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = 'postgres') IS DISTINCT FROM '${verifier}' THEN`);
    expect(sql).toContain(`ALTER ROLE "postgres" PASSWORD '${verifier}';`);
    expect(sql).toContain("RAISE NOTICE '%', 'postgres-strategies: set the password of role postgres';");
    expect(sql).not.toContain('NewStackPassword1');
  });

  test('a plain password is refused', () => {
    expect(() => renderSuperuserPasswordSql('NewStackPassword1')).toThrow(/^superuserPassword: is not a SCRAM-SHA-256 verifier/);
  });

  test('the local bootstrap is the superuser part, then the instances\' script', () => {
    expect(renderLocalBootstrapSql(verifier, '-- instances\n')).toBe(`${renderSuperuserPasswordSql(verifier)}-- instances\n`);
  });

  test('redactLogs removes SCRAM verifiers, also cut short (psql echoes the failing statement)', () => {
    const log = `ERROR:  boom\nLINE 3:     ALTER ROLE "postgres" PASSWORD '${verifier}';\nLINE 9: ...PASSWORD '${verifier.slice(0, 40)}...`;
    const redacted = redactLogs(log);
    expect(redacted).not.toContain(verifier.split('$')[1]!.split(':')[1]!); // the salt
    expect(redacted).toContain(`PASSWORD 'SCRAM-SHA-256$REDACTED';`);
    expect(redacted.match(/SCRAM-SHA-256\$REDACTED/g)).toHaveLength(2);
  });
});

describe('published ports', () => {
  test.each<[string, Parameters<typeof planLocalStack>[0], RegExp]>([
    ['the server and Kratos\' public API', { publishPort: 4433, kratos: { publishPublicPort: 4433 } }, /^kratos\.publishPublicPort: host port 4433 is already published by publishPort/],
    ['the server and Kratos\' admin API', { publishPort: 5432, kratos: { publishAdminPort: 5432 } }, /^kratos\.publishAdminPort: host port 5432 is already published by publishPort/],
    ['Kratos\' two APIs', { kratos: { publishPublicPort: 4433, publishAdminPort: 4433 } }, /^kratos\.publishAdminPort: host port 4433 is already published by kratos\.publishPublicPort/],
  ])('one host port for %s is refused', (_, options, message) => {
    expect(() => planLocalStack(options)).toThrow(message);
  });

  test('distinct ports pass', () => {
    expect(planLocalStack({ publishPort: 5432, kratos: { publishPublicPort: 4433, publishAdminPort: 4434 } }).kratos!.publish.map((p) => p.external)).toEqual([4433, 4434]);
  });
});

describe('a user\'s Kratos config stays out of the plan', () => {
  test('checked, but neither in plan.kratos nor in the static files', () => {
    const config = 'secrets:\n  cookie: ["CookieSecretCookieSecret0123456789"]\n';
    const plan = planLocalStack({ kratos: { config } });
    expect(JSON.stringify(plan)).not.toContain('CookieSecret');
    expect(plan.kratos).toMatchObject({ ownConfig: true });
    expect(plan.staticFiles[FileContent.KratosConfig]).toBeUndefined();
    expect(planLocalStack({ kratos: {} }, CONTAINER_PATHS, { kratosConfigSupplied: true }).kratos).toMatchObject({ ownConfig: true });
  });
});

describe('pgConfig against the image\'s major', () => {
  test('a typo is refused at plan time with the name it meant (the server would not start)', () => {
    expect(() => planLocalStack({ pgConfig: { shared_bufers: '256MB' } })).toThrow(/^pgConfig\.shared_bufers: .*shared_buffers/);
  });

  test('a parameter of a newer major is refused on an older image', () => {
    // io_method arrived in PostgreSQL 18.
    expect(() => planLocalStack({ image: 'postgres:17-alpine', pgConfig: { io_method: 'worker' } })).toThrow(/^pgConfig\.io_method: /);
    expect(planLocalStack({ image: 'postgres:18-alpine', pgConfig: { io_method: 'worker' } }).settings['io_method']).toBe('worker');
  });
});

describe('another PostgreSQL major over a kept volume (LocalDataGuard)', () => {
  const old = { volume: 'app-auth-postgres-data', image: 'postgres:15', major: 15 };

  test('the same major (a new minor or variant) or a new volume is fine', () => {
    expect(checkLocalMajorChange(old, { ...old, image: 'postgres:15.8-alpine' })).toBeUndefined();
    expect(checkLocalMajorChange(old, { volume: 'app-auth17-postgres-data', image: 'postgres:17-alpine', major: 17 })).toBeUndefined();
  });

  test('another major over the same volume is refused, naming image, both majors and the migrate procedure', () => {
    const e = checkLocalMajorChange(old, { ...old, image: 'postgres:17-alpine', major: 17 });
    expect(e).toBeInstanceOf(ValidationError);
    expect(e!.message).toMatch(/^image: postgres:15 → postgres:17-alpine changes PostgreSQL 15 → 17, but the data volume "app-auth-postgres-data" holds a PostgreSQL 15 data directory/);
    expect(e!.fix).toContain('npx postgres-strategies migrate --from-env FROM --to-env TO');
    expect(e!.fix).toContain('Keep image "postgres:15"');
  });

  test('the guard\'s check refuses it as the engine calls it (at preview), and accepts a first deployment', async () => {
    const guarded = { ...old, owner: 'p/s/auth', adopt: false };
    const noEngine = process.env['DOCKER_HOST'];
    process.env['DOCKER_HOST'] = 'unix:///nonexistent/docker.sock'; // no engine to ask: the owner check is skipped
    try {
      expect(await localDataGuardProvider.check({}, guarded)).toEqual({ inputs: guarded });
    } finally {
      if (noEngine === undefined) delete process.env['DOCKER_HOST'];
      else process.env['DOCKER_HOST'] = noEngine;
    }
    const refused = await localDataGuardProvider.check(guarded, { ...guarded, image: 'postgres:17-alpine', major: 17 });
    expect(refused.failures).toEqual([{ property: 'image', reason: expect.stringContaining('postgres-strategies migrate') }]);
    expect((await localDataGuardProvider.diff('x', guarded, { ...guarded, image: 'postgres:15.8' })).changes).toBe(true);
  });
});

describe('a data volume another stack owns', () => {
  const owner = 'proj/dev/auth';
  test('a volume of this stack, or without an owner label (by hand, or an older release), is accepted', () => {
    expect(() => checkVolumeOwner('v', [{ label: VOLUME_OWNER_LABEL, value: owner }], owner, false)).not.toThrow();
    expect(() => checkVolumeOwner('v', [], owner, false)).not.toThrow();
    expect(() => checkVolumeOwner('v', undefined, owner, false)).not.toThrow();
  });
  test('another stack\'s volume is refused, naming volumeName, the volume and its owner; adoptVolume takes it over', () => {
    const theirs = [{ label: VOLUME_OWNER_LABEL, value: 'proj/prod/auth' }];
    expect(() => checkVolumeOwner('auth-data', theirs, owner, false)).toThrow(/^volumeName: the Docker volume "auth-data" belongs to proj\/prod\/auth/);
    expect(() => checkVolumeOwner('auth-data', theirs, owner, true)).not.toThrow();
  });
});

describe('a busy host port, an image the engine cannot get: refused at preview by the guard', () => {
  const plan = planLocalStack({ publishPort: 15432, kratos: { publishPublicPort: 14433, publishAdminPort: 14434 } }, CONTAINER_PATHS);
  test('the ports and images the guard checks name the arguments', () => {
    expect(localHostPorts(plan)).toEqual([
      { field: 'publishPort', address: '127.0.0.1', port: 15432 },
      { field: 'kratos.publishPublicPort', address: '127.0.0.1', port: 14433 },
      { field: 'kratos.publishAdminPort', address: '127.0.0.1', port: 14434 },
    ]);
    expect(localImages(plan).map((i) => i.field)).toEqual(['image', 'kratos.image']);
    expect(localImages(planLocalStack({}, CONTAINER_PATHS))).toEqual([{ field: 'image', image: plan.postgres.image }]);
  });
  test('the messages name the argument, the port or image, and what holds or lacks it', () => {
    const claim = { field: 'kratos.publishAdminPort', address: '127.0.0.1', port: 14434 };
    expect(() => checkHostPortFree(claim, undefined)).not.toThrow();
    expect(() => checkHostPortFree(claim, { container: 'other-kratos' })).toThrow(/^kratos\.publishAdminPort: host port 14434 on 127\.0\.0\.1 is already in use \(the container other-kratos publishes it\)/);
    expect(() => checkHostPortFree(claim, { bindError: 'EADDRINUSE on 127.0.0.1:14434' })).toThrow(ValidationError);
    expect(() => checkImageAvailable({ field: 'image', image: 'postgres:16-alpine' }, undefined)).not.toThrow();
    expect(() => checkImageAvailable({ field: 'image', image: 'postgres:16-alpine' }, 'no such host')).toThrow(/^image: the image "postgres:16-alpine" is not in the Docker engine.*\(no such host\)/);
  });
});
