/**
 * The lab's offline images (lab/docker-images.ts) keep the contract of the
 * official images that the local strategy relies on, checked in the lab's
 * real Docker engine (lab/docker.ts) from outside with psql:
 * - `postgres:17-alpine` and `postgres:15`: the `postgres` user with the
 *   variant's uid (70, 999); PGDATA and its volume; `STOPSIGNAL SIGINT`
 *   (`docker stop` makes a fast shutdown, not a kill); `POSTGRES_USER`,
 *   `POSTGRES_DB`, `POSTGRES_INITDB_ARGS` and `POSTGRES_PASSWORD_FILE`
 *   (a Docker secret as a file) applied on an empty volume;
 *   `/docker-entrypoint-initdb.d` run once there (as the OS user postgres)
 *   and skipped on the kept volume, where a new `POSTGRES_PASSWORD` changes
 *   nothing; the server's major is the tag's;
 * - `oryd/kratos:v1.3.1`: `kratos version` is v1.3.1, as the user `ory`
 *   (uid 10000), entrypoint `kratos`, command `serve`.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerLab, startDockerLab } from '../../lab/docker';
import { KRATOS_IMAGE, KRATOS_UID, POSTGRES_IMAGES, PostgresImageSpec, ensureLabImages } from '../../lab/docker-images';
import { psql } from '../../lab/psql';
import { freePort } from '../../lab/server';

jest.setTimeout(10 * 60_000);

let lab: DockerLab;
let work: string;
beforeAll(async () => {
  lab = await startDockerLab();
  await ensureLabImages(lab);
  work = mkdtempSync(join(tmpdir(), 'ps-images-'));
  chmodSync(work, 0o755);
}, 60 * 60_000);
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await lab?.release();
}, 120_000);

async function inspectImage(name: string): Promise<{ Config: { User: string; Env: string[]; Entrypoint: string[]; Cmd: string[]; StopSignal: string; Volumes: Record<string, unknown> } }> {
  return (JSON.parse((await lab.dockerOk(['image', 'inspect', name])).stdout) as Array<{ Config: never }>)[0] as never;
}

async function waitReady(url: string): Promise<void> {
  const started = Date.now();
  for (;;) {
    const r = await psql(url, 'SELECT 1');
    if (r.code === 0) return;
    if (Date.now() - started > 90_000) throw new Error(`no answer at the published port: ${r.stderr}`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

describe.each(POSTGRES_IMAGES.map((s) => [s.name, s] as [string, PostgresImageSpec]))('%s', (name, spec) => {
  const id = `ps-contract-${spec.major}-${process.pid}`;
  const volume = `${id}-data`;
  afterAll(async () => {
    await lab.docker(['rm', '-f', id]);
    await lab.docker(['volume', 'rm', '-f', volume]);
  });

  test('the official image contract: user uid, PGDATA and its volume, entrypoint, command, STOPSIGNAL SIGINT', async () => {
    const { Config } = await inspectImage(name);
    expect(Config.Entrypoint).toEqual(['docker-entrypoint.sh']);
    expect(Config.Cmd).toEqual(['postgres']);
    expect(Config.StopSignal).toBe('SIGINT');
    expect(Config.Env).toContain('PGDATA=/var/lib/postgresql/data');
    expect(Object.keys(Config.Volumes)).toEqual(['/var/lib/postgresql/data']);
    const ids = await lab.dockerOk(['run', '--rm', '--entrypoint', 'id', name, 'postgres']);
    expect(ids.stdout.trim()).toMatch(new RegExp(`^uid=${spec.uid}\\(postgres\\) gid=${spec.uid}\\(postgres\\)`));
  });

  test('an empty volume: POSTGRES_* and POSTGRES_PASSWORD_FILE applied, init scripts run once; a kept volume: both skipped; docker stop is a fast shutdown', async () => {
    const port = await freePort();
    const secret = join(work, `${id}-password`);
    writeFileSync(secret, 'first-secret-pw\n', { mode: 0o644 });
    const init = join(work, `${id}-init`);
    rmSync(init, { recursive: true, force: true });
    mkdirSync(init);
    writeFileSync(join(init, '10-marker.sql'), 'CREATE TABLE IF NOT EXISTS marker (n int); INSERT INTO marker VALUES (1);\n');
    const start = (env: string[]): Promise<unknown> =>
      lab.dockerOk([
        'run', '-d', '--name', id,
        '-p', `127.0.0.1:${port}:5432`,
        '-v', `${volume}:/var/lib/postgresql/data`,
        '-v', `${secret}:/run/secrets/pg-password:ro`,
        '-v', `${init}:/docker-entrypoint-initdb.d:ro`,
        ...env.flatMap((e) => ['-e', e]),
        name,
      ]);
    await start(['POSTGRES_USER=alice', 'POSTGRES_DB=appdb', 'POSTGRES_PASSWORD_FILE=/run/secrets/pg-password', 'POSTGRES_INITDB_ARGS=--data-checksums --auth-host=scram-sha-256']);
    const url = `postgresql://alice:first-secret-pw@127.0.0.1:${port}/appdb?sslmode=disable`;
    await waitReady(url);
    const first = await psql(url, "SELECT current_setting('server_version_num')::int / 10000, current_setting('data_checksums'), (SELECT count(*) FROM marker), (SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'alice')");
    expect(first.stderr).toBe('');
    expect(first.stdout.trim()).toBe(`${spec.major}|on|1|t`);
    const inspect = JSON.parse((await lab.dockerOk(['inspect', id])).stdout)[0] as { Config: { Env: string[] } };
    expect(inspect.Config.Env.join('\n')).not.toContain('first-secret-pw');

    await lab.dockerOk(['stop', '-t', '30', id]);
    const stopped = JSON.parse((await lab.dockerOk(['inspect', id])).stdout)[0] as { State: { ExitCode: number } };
    expect(stopped.State.ExitCode).toBe(0);
    expect((await lab.dockerOk(['logs', id])).stderr + (await lab.dockerOk(['logs', id])).stdout).toContain('received fast shutdown request');
    await lab.dockerOk(['rm', id]);

    // The kept volume: a new password and the init script again change nothing.
    await start(['POSTGRES_USER=alice', 'POSTGRES_DB=appdb', 'POSTGRES_PASSWORD=another-password']);
    await waitReady(url);
    const again = await psql(url, 'SELECT count(*) FROM marker');
    expect(again.stdout.trim()).toBe('1');
    const logs = await lab.dockerOk(['logs', id]);
    expect(logs.stdout + logs.stderr).toContain('Skipping initialization');
    expect((await psql(`postgresql://alice:another-password@127.0.0.1:${port}/appdb?sslmode=disable`, 'SELECT 1')).code).not.toBe(0);
  });
});

describe(KRATOS_IMAGE, () => {
  test('Ory\'s image contract: user ory (uid 10000), entrypoint kratos, command serve, kratos version v1.3.1', async () => {
    const { Config } = await inspectImage(KRATOS_IMAGE);
    expect(Config.Entrypoint).toEqual(['kratos']);
    expect(Config.Cmd).toEqual(['serve']);
    expect(Config.User).toBe('ory');
    const version = await lab.dockerOk(['run', '--rm', KRATOS_IMAGE, 'version']);
    expect(version.stdout).toContain('v1.3.1');
    // The user `ory` of the image's own /etc/passwd.
    const cid = (await lab.dockerOk(['create', KRATOS_IMAGE])).stdout.trim();
    try {
      await lab.dockerOk(['cp', `${cid}:/etc/passwd`, join(work, 'kratos-passwd')]);
      expect(readFileSync(join(work, 'kratos-passwd'), 'utf8')).toMatch(new RegExp(`^ory:x:${KRATOS_UID}:${KRATOS_UID}:`, 'm'));
    } finally {
      await lab.docker(['rm', '-f', cid]);
    }
  });
});
