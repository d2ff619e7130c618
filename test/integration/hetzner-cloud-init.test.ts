/**
 * The Hetzner user data checked by the real tools: Debian's cloud-init 22.4
 * validates the rendered `#cloud-config` against its schema
 * (`cloud-init schema --config-file`) and decodes its files with its own
 * write_files code (the large ones are gzip + base64); shellcheck (POSIX sh)
 * passes every shell program the document installs, the settings files
 * they source and the setup payload for a running server (`setupScript`);
 * sh reads every file back out of that payload byte for byte — for the
 * default document, one with S3 backups and bootstrap SQL and awkward values
 * (quotes in the S3 secret), one without a volume, and an upgrade.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
  ['an upgrade from PostgreSQL 15 to 17', sampleSettings({ postgresMajor: 17, upgradeFromMajor: 15, pgConfig: { reserved_connections: 2 } })],
  ['the server renews its own certificate', sampleSettings({ caKeyPem: '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIfake\n-----END EC PRIVATE KEY-----\n', certificateValidityDays: 825, certificateRenewBeforeDays: 30 })],
  [
    'PITR with pgBackRest (private CA)',
    sampleSettings({
      pitr: { endpoint: 'https://s3.example.com:8443', location: 's3://pitr-repo/db-1', accessKeyId: 'AKID', secretAccessKey: "it's $ecret", encryptionKey: 'x'.repeat(44), caPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' },
    }),
  ],
];

/** The files as Debian's cloud-init decodes them (its write_files module's own functions). */
function cloudInitDecoded(file: string): Array<{ path: string; content: string; permissions: string }> {
  const script = [
    'import json, sys, yaml',
    'from cloudinit.config.cc_write_files import canonicalize_extraction, extract_contents',
    'doc = yaml.safe_load(open(sys.argv[1]).read())',
    'out = []',
    'for f in doc["write_files"]:',
    '    c = extract_contents(f.get("content", ""), canonicalize_extraction(f.get("encoding")))',
    '    out.append({"path": f["path"], "content": c.decode() if isinstance(c, bytes) else c, "permissions": f["permissions"]})',
    'print(json.dumps(out))',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`cloud-init's write_files decoding failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Array<{ path: string; content: string; permissions: string }>;
}

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

  test('cloud-init decodes the exact files (what it writes is what was rendered)', () => {
    const file = join(dir, `${label.replace(/\W+/g, '-')}-decode.yaml`);
    writeFileSync(file, rendered.userData);
    expect(cloudInitDecoded(file).map((f) => [f.path, f.content, f.permissions])).toEqual(rendered.files.map((f) => [f.path, f.content, f.permissions]));
    expect((parse(rendered.userData) as { runcmd: string[][] }).runcmd).toEqual(rendered.runcmd);
  });

  test('the setup payload: shellcheck passes it, and sh writes every file byte for byte, then runs the setup', async () => {
    const file = join(dir, `${label.replace(/\W+/g, '-')}-setup-script.sh`);
    writeFileSync(file, rendered.setupScript);
    const check = await run('shellcheck', ['--shell=sh', '--severity=style', file]);
    expect({ out: check.stdout, code: check.code }).toEqual({ out: '', code: 0 });
    // The same program with its two effects pointed at a scratch root: put_file writes below
    // $ROOT, and the setup command is only recorded (it runs for real in test/e2e/hetzner-setup).
    const root = join(dir, `${label.replace(/\W+/g, '-')}-root`);
    const body = rendered.setupScript.replace(/^put_file\(\) \{[\s\S]*?^\}$/m, 'put_file() { mkdir -p "$ROOT$(dirname "$1")"; printf \'%s\' "$3" > "$ROOT$1"; chmod "$2" "$ROOT$1"; }');
    expect(body).not.toBe(rendered.setupScript);
    const lines = body.trimEnd().split('\n');
    expect(lines.pop()).toBe('/usr/local/sbin/postgres-strategies-setup');
    const r = spawnSync('sh', ['-c', lines.join('\n')], { encoding: 'utf8', env: { ...process.env, ROOT: root } });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    for (const f of rendered.files) {
      expect({ path: f.path, content: readFileSync(join(root, f.path), 'utf8'), mode: (statSync(join(root, f.path)).mode & 0o777).toString(8).padStart(4, '0') }).toEqual({ path: f.path, content: f.content, mode: f.permissions });
    }
  }, 60_000);

  test('shellcheck passes every program and the settings files they source', async () => {
    const shells = rendered.files.filter((f) => f.content.startsWith('#!/bin/sh') || f.path.endsWith('.conf') && /^[A-Z_]+=/m.test(f.content));
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
