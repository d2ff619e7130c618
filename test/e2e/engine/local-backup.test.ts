/**
 * LocalBackup (src/local/backup.ts) in a real container of the lab's Docker
 * engine, on the LocalPostgres stack's network, to the lab's object store
 * (versitygw over HTTPS with a private CA, lab/object-store.ts; served on the
 * Docker bridge's gateway too, so containers reach it):
 * - `pulumi up` of local-backup/ (postgres:15 with an instance `app`, the
 *   backup container: the lab's postgres:15 with this machine's node, so
 *   its program installs nothing and needs no network at start; the
 *   program's node_modules mounted read-only, the store's CA uploaded as
 *   `storeCaPem`);
 * - rows written, the container restarted (a round runs at each start):
 *   its log shows the round's status 0, the backup is in the bucket;
 * - `postgres-strategies restore --verify-only` of it from this machine
 *   (the drill: a scratch database restored, verified, dropped) succeeds;
 * - no secret in the container's log.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../../lab/consumer';
import { BACKUP_IMAGE, ensureBackupImage } from '../../../lab/docker-images';
import { ExampleStack } from '../../../lab/engine';
import { ObjectStoreLab, startObjectStore } from '../../../lab/object-store';
import { run } from '../../../lab/run';
import { freePorts, labPath } from '../../../lab/server';
import { STEP_TIMEOUT, useEngine } from './support';
import { query, useDockerLab, waitFor } from './local-support';

const sandbox = useEngine();
const lab = useDockerLab(sandbox);
const KEY = randomBytes(32).toString('base64');

describe('LocalBackup in the lab Docker engine, to an HTTPS object store with a private CA', () => {
  let stack: ExampleStack | undefined;
  let store: ObjectStoreLab | undefined;
  let modules: string | undefined;

  afterAll(async () => {
    if (stack) {
      await stack.remove();
      await lab().docker(['volume', 'rm', '-f', `postgres-strategies-local-backup-${stack.stack}-auth-postgres-data`]);
    }
    await store?.stop();
    if (modules) rmSync(modules, { recursive: true, force: true });
  }, 3 * STEP_TIMEOUT);

  test('up, rows written, a round on restart: status 0; restore --verify-only of the backup succeeds', async () => {
    await ensureBackupImage(lab(), (l) => process.stderr.write(`${l}\n`));
    const gateway = (await lab().dockerOk(['network', 'inspect', 'bridge', '--format', '{{(index .IPAM.Config 0).Gateway}}'])).stdout.trim();
    store = await startObjectStore({ buckets: ['backups'], addresses: [gateway] });
    // The program's node_modules as a consumer has it: its dependencies and the package (hard links, one file system).
    modules = mkdtempSync(join(tmpdir(), 'ps-backup-modules-'));
    const nodeModules = join(modules, 'node_modules');
    await run('cp', ['-al', join(ROOT, 'node_modules'), nodeModules]);
    mkdirSync(join(nodeModules, 'postgres-strategies'));
    cpSync(join(ROOT, 'package.json'), join(nodeModules, 'postgres-strategies', 'package.json'));
    cpSync(join(ROOT, 'dist'), join(nodeModules, 'postgres-strategies', 'dist'), { recursive: true });

    const [port] = await freePorts(1);
    stack = new ExampleStack('local', `backup-${randomBytes(4).toString('hex')}`, sandbox(), labPath('test', 'e2e', 'engine', 'local-backup'));
    await stack.init();
    await stack.config({
      publishPort: String(port),
      storeEndpoint: `https://${gateway}:${store.port}`,
      storeCaPem: store.certificates.caCertPem,
      accessKeyId: { value: store.accessKeyId, secret: true },
      secretAccessKey: { value: store.secretAccessKey, secret: true },
      backupKey: { value: KEY, secret: true },
      backupImage: BACKUP_IMAGE,
      nodeModulesDir: nodeModules,
    });
    await stack.up();
    const outputs = await stack.outputs();
    const container = outputs['backupContainer'] as string;
    const rounds = async (): Promise<string[]> => {
      const logs = await lab().dockerOk(['logs', container]);
      return `${logs.stdout}${logs.stderr}`.split('\n').filter((l) => l.includes('round done'));
    };
    await waitFor('the first round', async () => (await rounds()).length >= 1, 180_000);

    await query(outputs['appUrl'] as string, 'CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, md5(g::text) FROM generate_series(1, 500) g');
    expect(await query(outputs['appUrl'] as string, 'SELECT count(*) FROM notes')).toBe('500');
    await lab().dockerOk(['restart', container]);
    await waitFor('the round after the restart', async () => (await rounds()).length >= 2, 180_000);
    const logs = await lab().dockerOk(['logs', container]);
    const text = `${logs.stdout}${logs.stderr}`;
    console.log(text.slice(-3000));
    expect(await rounds()).toEqual([expect.stringMatching(/status 0$/), expect.stringMatching(/status 0$/)]);
    expect(text).not.toContain('installing postgresql-client');
    for (const secret of [store.secretAccessKey, KEY]) expect(text).not.toContain(secret);

    const drill = await run(process.execPath, [labPath('dist', 'src', 'cli', 'main.js'), 'restore', '--verify-only', '--from', 's3://backups/local/app', '--to-env', 'ADMIN_URL', '--key-env', 'BACKUP_KEY'], {
      env: { ...process.env, ...store.env(), ADMIN_URL: outputs['adminUrl'] as string, BACKUP_KEY: KEY },
    });
    console.log(drill.stdout, drill.stderr);
    expect({ code: drill.code, err: drill.code === 0 ? '' : drill.stderr }).toEqual({ code: 0, err: '' });
    expect(drill.stdout).toMatch(/restored and verified: no difference/);
  }, 20 * 60_000);
});
