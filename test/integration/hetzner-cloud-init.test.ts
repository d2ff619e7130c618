/**
 * The Hetzner user data checked by the real tools: Debian's cloud-init 22.4
 * validates the rendered `#cloud-config` against its schema
 * (`cloud-init schema --config-file`), and shellcheck (POSIX sh) passes
 * every shell program the document installs and the settings files they
 * source — for the default document, one with S3 backups and bootstrap SQL,
 * and one with awkward values (quotes in the S3 secret).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { run } from '../../lab/run';
import { CloudConfigSettings, RenderedCloudConfig, renderCloudConfig } from '../../src/hetzner/cloud-init';
import { sampleSettings } from '../unit/hetzner/fixture';

const dir = mkdtempSync(join(tmpdir(), 'hetzner-cloud-init-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const variants: Array<[string, CloudConfigSettings]> = [
  ['default', sampleSettings()],
  [
    'S3 backups and bootstrap SQL',
    sampleSettings({
      bootstrapSql: "-- bootstrap\nSELECT 1;\n",
      backup: { keep: 14, maxAgeDays: 30, schedule: 'daily', s3: { endpoint: 'https://fsn1.your-objectstorage.com', bucket: 'db-backups', prefix: 'prod/', accessKeyId: 'AKID', secretAccessKey: "it's $ecret `x` \"q\"" } },
    }),
  ],
  ['no volume, public listen', sampleSettings({ volumeDevice: '', listenAddresses: ['*'] })],
];

describe.each(variants)('%s', (label, settings) => {
  let rendered: RenderedCloudConfig;
  beforeAll(() => {
    rendered = renderCloudConfig(settings);
  });

  test('cloud-init schema accepts the document', async () => {
    const file = join(dir, `${label.replace(/\W+/g, '-')}.yaml`);
    writeFileSync(file, rendered.userData);
    const r = await run('cloud-init', ['schema', '--config-file', file]);
    expect(`${r.stdout}${r.stderr}`).toMatch(/Valid cloud-config/);
    expect(r.code).toBe(0);
  }, 60_000);

  test('the YAML round-trips to the exact files (what cloud-init writes is what was rendered)', () => {
    const doc = parse(rendered.userData) as { write_files: Array<{ path: string; content: string; permissions: string }>; runcmd: string[][] };
    expect(doc.write_files.map((f) => [f.path, f.content, f.permissions])).toEqual(rendered.files.map((f) => [f.path, f.content, f.permissions]));
    expect(doc.runcmd).toEqual(rendered.runcmd);
  });

  test('shellcheck passes every program and the settings files they source', async () => {
    const shells = rendered.files.filter((f) => f.content.startsWith('#!/bin/sh') || f.path.endsWith('.conf') && /^[A-Z_]+='/m.test(f.content));
    expect(shells.map((f) => f.path)).toEqual(
      expect.arrayContaining(['/usr/local/sbin/postgres-strategies-setup', '/usr/local/sbin/postgres-strategies-backup', '/etc/postgres-strategies/setup.conf', '/etc/postgres-strategies/backup.conf']),
    );
    for (const f of shells) {
      const file = join(dir, f.path.replace(/\//g, '_'));
      writeFileSync(file, f.content);
      const r = await run('shellcheck', ['--shell=sh', '--severity=style', file]);
      expect({ path: f.path, out: r.stdout }).toEqual({ path: f.path, out: '' });
      expect(r.code).toBe(0);
    }
  }, 60_000);

  test('sourcing the settings gives back the exact values (quoting)', () => {
    const conf = rendered.files.find((f) => f.path.endsWith('backup.conf'))!;
    const file = join(dir, 'backup.conf');
    writeFileSync(file, conf.content);
    const r = spawnSync('sh', ['-c', '. "$1"; printf %s "${RCLONE_CONFIG_BACKUP_SECRET_ACCESS_KEY-unset}"', 'sh', file], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(settings.backup?.s3?.secretAccessKey ?? 'unset');
  });
});
