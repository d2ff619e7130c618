/**
 * The compose path for real, with Docker Compose v2 (the lab's plugin) on
 * the lab's Docker engine:
 * - Strategy 1: the `composeYaml` and `composeFiles` outputs of a TLS stack
 *   of examples/local (taken from `pulumi stack output`, the stack then
 *   destroyed so its ports are free), written next to each other as the
 *   docs/local-docker.md says: `docker compose up -d --wait` exits 0 (the one-shots exit
 *   0 before their dependants start), the server is healthy, Kratos
 *   answers; the URLs connect with verify-full through the published port;
 *   `docker inspect` shows no password in any environment, the superuser's
 *   as a compose secret file; `down` then `up` keeps the data.
 * - Strategy 2 (the seed's external_url switch): `renderExternalKratosCompose`
 *   — Kratos (migrate, serve) and no PostgreSQL container — pointed at the
 *   Kratos DSN of an instance provisioned by the library's bootstrap SQL on
 *   a TLS-only PostgreSQL 17 outside Docker (on this machine, reached from
 *   the containers through the host gateway, verify-full against the
 *   mounted CA); Kratos migrates, serves, creates an identity, and the DSN
 *   is nowhere in `docker inspect`.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { DockerLab } from '../../../lab/docker';
import { ExampleStack } from '../../../lab/engine';
import { LabServer, freePort, freePorts, startLabServer } from '../../../lab/server';
import { planServerCertificates } from '../../../src/core/certificates';
import { kratosDsn } from '../../../src/core/dsn';
import { planServer } from '../../../src/core/plan';
import { SslMode } from '../../../src/core/tls';
import { renderExternalKratosCompose } from '../../../src/local/kratos-compose';
import { bootstrap, credentialsFor } from '../../integration/support';
import { STEP_TIMEOUT, useEngine } from './support';
import { containers, createIdentity, kratosGet, localStack, query, throughPublishedPort, useDockerLab, waitFor } from './local-support';

jest.setTimeout(STEP_TIMEOUT);

const sandbox = useEngine();
const lab = useDockerLab(sandbox);
let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ps-compose-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Writes the compose file and its files (with their modes) into a new folder. */
function writeProject(name: string, composeYaml: string, files: Record<string, string>, modes: Record<string, string> = {}): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'docker-compose.yml'), composeYaml);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
    chmodSync(join(dir, path), Number.parseInt(modes[path] ?? '0644', 8));
  }
  return dir;
}

/** `docker compose -p <project>` in `dir`. */
function compose(l: DockerLab, project: string, dir: string, args: string[]): ReturnType<DockerLab['docker']> {
  return l.docker(['compose', '-p', project, ...args], { cwd: dir });
}

describe('Strategy 1: the component\'s docker-compose.yml and files', () => {
  const project = `ps-compose-${randomBytes(3).toString('hex')}`;
  let dir: string;
  let outputs: Record<string, unknown>;
  let port: number;
  let publicPort: number;
  let caFile: string;

  afterAll(async () => {
    if (dir) await compose(lab(), project, dir, ['down', '-v']);
  }, STEP_TIMEOUT);

  test('the outputs of a TLS stack of examples/local, the stack destroyed', async () => {
    [port, publicPort] = await freePorts(2);
    const stack: ExampleStack = await localStack(sandbox(), { tls: 'true', publishPort: String(port), kratosPublicPort: String(publicPort), allowDataDeletion: 'true' });
    try {
      await stack.up();
      outputs = await stack.outputs();
    } finally {
      await stack.remove();
    }
    const files = outputs['composeFiles'] as Record<string, string>;
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['secrets/postgres-password', 'kratos/kratos.yml', 'postgres/tls/server.key']));
    // The modes the plan gives: the password and the key only for root (the entrypoint reads them before it steps down).
    dir = writeProject('strategy-1', outputs['composeYaml'] as string, files, { 'secrets/postgres-password': '0600', 'postgres/tls/server.key': '0600' });
    caFile = join(dir, 'postgres/tls/ca.crt');
  });

  test('docker compose up -d --wait: healthy server, one-shots exit 0, Kratos answers; verify-full URLs; no password in any environment', async () => {
    const up = await compose(lab(), project, dir, ['up', '-d', '--wait']);
    expect([up.code, up.code === 0 ? '' : up.stderr]).toEqual([0, '']);
    const c = await containers(lab(), `${project}-`);
    const by = (service: string): (typeof c)[string] => c[`${project}-${service}-1`] as (typeof c)[string]; // compose v2: <project>-<service>-<n>
    expect(by('postgres')).toMatchObject({ status: 'running', health: 'healthy' });
    expect(by('postgres-bootstrap')).toMatchObject({ status: 'exited', exitCode: 0 });
    expect(by('kratos-migrate')).toMatchObject({ status: 'exited', exitCode: 0 });
    expect(by('kratos')).toMatchObject({ status: 'running' });
    await waitFor('Kratos ready', async () => (await kratosGet(`http://127.0.0.1:${publicPort}/health/ready`)).status === 200);

    const hostUrl = throughPublishedPort(outputs['hostUrl'] as string, port, caFile);
    expect(await query(hostUrl, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).toBe('t');
    const kratosUrl = throughPublishedPort((outputs['urls'] as Record<string, string>)['kratos'] as string, port, caFile);
    expect(await query(kratosUrl, "SELECT count(*) > 0 FROM information_schema.tables WHERE table_name = 'identities'")).toBe('t');

    const passwords = [outputs['hostUrl'], (outputs['urls'] as Record<string, string>)['kratos']].map((u) => decodeURIComponent(new URL(u as string).password));
    for (const x of Object.values(c)) for (const p of passwords) expect([x.name, x.env.join('\n').includes(p)]).toEqual([x.name, false]);
    expect(by('postgres').env).toContain('POSTGRES_PASSWORD_FILE=/run/secrets/postgres-password');
    expect(by('postgres').mounts.some((m) => m.Destination === '/run/secrets/postgres-password')).toBe(true);
    expect(parse(readCompose(dir))['services']['kratos']['environment']).toBeUndefined();
  });

  test('down, then up -d --wait: the data is kept', async () => {
    const hostUrl = throughPublishedPort(outputs['hostUrl'] as string, port, caFile);
    await query(hostUrl, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
    expect((await compose(lab(), project, dir, ['down'])).code).toBe(0);
    expect(await containers(lab(), `${project}-`)).toEqual({});
    const up = await compose(lab(), project, dir, ['up', '-d', '--wait']);
    expect([up.code, up.code === 0 ? '' : up.stderr]).toEqual([0, '']);
    expect(await query(hostUrl, 'SELECT n FROM kept')).toBe('42');
  });
});

function readCompose(dir: string): string {
  return readFileSync(join(dir, 'docker-compose.yml'), 'utf8');
}

describe('Strategy 2: Kratos in compose against a TLS-only PostgreSQL outside Docker', () => {
  const project = `ps-kratos-ext-${randomBytes(3).toString('hex')}`;
  let server: LabServer;
  let dir: string;

  afterAll(async () => {
    if (dir) await compose(lab(), project, dir, ['down', '-v']);
    await server?.stop();
  }, STEP_TIMEOUT);

  test('renderExternalKratosCompose: Kratos migrates and serves with verify-full through the host gateway; no PostgreSQL container; no DSN in any environment', async () => {
    // The Docker host's address on the default bridge: what `host-gateway` means in a container.
    const gateway = (await lab().dockerOk(['network', 'inspect', 'bridge', '--format', '{{ (index .IPAM.Config 0).Gateway }}'])).stdout.trim();
    expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    server = await startLabServer({
      tls: true,
      conf: { listen_addresses: `127.0.0.1,${gateway}`, fsync: false },
      certificates: planServerCertificates({ dnsNames: ['localhost', 'host.docker.internal'], ipAddresses: ['127.0.0.1'] }),
    });
    const plan = planServer([{ name: 'kratos' }], { maxConnections: 100, reservedConnections: 3 }, { namePrefix: 'ext_' }).instances[0]!;
    const credentials = credentialsFor([plan]);
    await bootstrap(libpq(server), [plan], credentials);
    const dsn = kratosDsn(
      {
        hosts: [{ host: 'host.docker.internal', port: server.port }],
        database: plan.database,
        user: plan.login.name,
        password: credentials.passwords[plan.login.name] as string,
        tls: { sslmode: SslMode.VerifyFull, sslrootcert: server.caFile as string },
        applicationName: 'kratos',
      },
      plan.kratosPool,
    );
    const adminPort = await freePort();
    const bundle = renderExternalKratosCompose({
      dsn,
      caPem: server.certificates!.caCertPem,
      publishAdminPort: adminPort,
      extraHosts: { 'host.docker.internal': 'host-gateway' },
    });
    const doc = parse(bundle.composeYaml) as { services: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.services)).toEqual(['kratos-migrate', 'kratos']);
    expect(bundle.composeYaml).not.toContain(credentials.passwords[plan.login.name] as string);
    dir = writeProject('strategy-2', bundle.composeYaml, bundle.files, bundle.modes);

    const up = await compose(lab(), project, dir, ['up', '-d', '--wait']);
    expect([up.code, up.code === 0 ? '' : up.stderr]).toEqual([0, '']);
    const admin = `http://127.0.0.1:${adminPort}`;
    await waitFor('Kratos ready', async () => (await kratosGet(`${admin}/health/ready`)).status === 200);
    await createIdentity(admin, 'external@example.com');
    const asLogin = `postgresql://${plan.login.name}:${encodeURIComponent(credentials.passwords[plan.login.name] as string)}@localhost:${server.port}/${plan.database}?sslmode=verify-full&sslrootcert=${encodeURIComponent(server.caFile as string)}`;
    expect(await query(asLogin, "SELECT traits->>'email' FROM identities")).toBe('external@example.com');
    // The migration and Kratos connected over TLS.
    expect(await query(libpq(server), `SELECT count(*) = 0 FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = '${plan.login.name}' AND NOT s.ssl`)).toBe('t');
    const c = await containers(lab(), `${project}-`);
    expect(Object.keys(c).some((n) => n.includes('postgres'))).toBe(false);
    for (const x of Object.values(c)) expect([x.name, x.env.join('\n').includes(credentials.passwords[plan.login.name] as string)]).toEqual([x.name, false]);
  });
});

function libpq(server: LabServer): string {
  const a = server.admin();
  return `postgresql://${a.user}:${encodeURIComponent(a.password as string)}@localhost:${server.port}/postgres?sslmode=verify-full&sslrootcert=${encodeURIComponent(server.caFile as string)}`;
}
