/**
 * The Hetzner user-data renderer, directly: the document's shape, the
 * postgresql.conf and pg_hba.conf it installs, the admin SQL (verifier
 * only), backup settings, the 32 KiB limit, and the errors it raises.
 * (cloud-init's schema and shellcheck: test/integration/hetzner-cloud-init.test.ts;
 * the setup run for real: test/e2e/hetzner-setup.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { ValidationError } from '../../../src/core/errors';
import { renderBootstrapSql } from '../../../src/core/render-sql';
import { planInstances } from '../../../src/core/plan';
import { scramSha256Verifier } from '../../../src/core/scram';
import { USER_DATA_LIMIT_BYTES, renderAdminSql, renderCloudConfig } from '../../../src/hetzner/cloud-init';
import { CREATECLUSTER_CONF_PATH, postgresMajorFor } from '../../../src/hetzner/debian';
import { shellQuote } from '../../../src/core/shell';
import { SETUP_SCRIPT } from '../../../src/hetzner/scripts';
import { ADMIN_PASSWORD, SampleOverrides, sampleSettings } from './fixture';

/** Each line is a whole line of the text. */
const expectLines = (text: string, lines: string[]): void => {
  expect(text.split('\n')).toEqual(expect.arrayContaining(lines));
};

const fileOf = (r: ReturnType<typeof renderCloudConfig>, path: string): string => {
  const f = r.files.find((x) => x.path === path);
  if (!f) throw new Error(`no file ${path}; have ${r.files.map((x) => x.path).join(', ')}`);
  return f.content;
};

describe('the document', () => {
  const r = renderCloudConfig(sampleSettings());
  const postgresqlConf = fileOf(r, '/etc/postgres-strategies/postgresql.conf');
  const pgHba = fileOf(r, '/etc/postgres-strategies/pg_hba.conf');
  const doc = parse(r.userData) as { write_files: Array<{ path: string; permissions: string; owner: string }>; runcmd: string[][] };

  test('is a #cloud-config with write_files and one runcmd: the setup program', () => {
    expect(r.userData.startsWith('#cloud-config\n')).toBe(true);
    expect(Object.keys(doc)).toEqual(['write_files', 'runcmd']);
    expect(doc.runcmd).toEqual([['/usr/local/sbin/postgres-strategies-setup']]);
  });

  test('files over 1 KiB are written gzip + base64 (cloud-init decodes them), smaller ones as text', () => {
    const entries = doc.write_files as unknown as Array<{ path: string; content: string; encoding?: string }>;
    for (const [i, f] of r.files.entries()) {
      const e = entries[i]!;
      if (Buffer.byteLength(f.content) > 1024) {
        expect({ path: e.path, encoding: e.encoding }).toEqual({ path: f.path, encoding: 'gz+b64' });
        expect(gunzipSync(Buffer.from(e.content, 'base64')).toString('utf8')).toBe(f.content);
      } else {
        expect({ path: e.path, encoding: e.encoding, content: e.content }).toEqual({ path: f.path, encoding: undefined, content: f.content });
      }
    }
    expect(entries.find((e) => e.path === '/usr/local/sbin/postgres-strategies-setup')!.encoding).toBe('gz+b64');
  });

  test('writes the createcluster drop-in first (before the package is installed) and keeps secrets root-only', () => {
    expect(doc.write_files[0]!.path).toBe(CREATECLUSTER_CONF_PATH);
    const modes = Object.fromEntries(doc.write_files.map((f) => [f.path, f.permissions]));
    expect(modes).toMatchObject({
      '/etc/postgres-strategies/server.key': '0600',
      '/etc/postgres-strategies/admin.sql': '0600',
      '/etc/postgres-strategies/backup.conf': '0600',
      '/usr/local/sbin/postgres-strategies-setup': '0755',
      '/usr/local/sbin/postgres-strategies-backup': '0755',
    });
    expect(doc.write_files.every((f) => f.owner === 'root:root')).toBe(true);
  });

  test('postgresql.conf: private IP only, port 5432, scram, TLS 1.2+, Debian paths of the major, then pgConfig', () => {
    expectLines(postgresqlConf, [
      "listen_addresses = '10.0.1.10'",
      'port = 5432',
      "password_encryption = 'scram-sha-256'",
      'ssl = on',
      "ssl_min_protocol_version = 'TLSv1.2'",
      "ssl_cert_file = '/etc/postgresql/15/main/server.crt'",
      "ssl_key_file = '/etc/postgresql/15/main/server.key'",
      'max_connections = 120',
      "shared_buffers = '256MB'",
      'log_connections = on',
    ]);
    expect(r.dataDirectory).toBe('/var/lib/postgresql/15/main');
  });

  test('pg_hba.conf: peer for postgres on the socket, hostnossl rejected, hostssl + scram from the admitted networks, reject the rest', () => {
    const rows = pgHba.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/).slice(0, 5).join(' '));
    expect(rows).toEqual([
      'local all postgres peer #',
      'local all all scram-sha-256',
      'hostnossl all all 0.0.0.0/0 reject',
      'hostnossl all all ::/0 reject',
      'hostssl all all 10.0.1.0/24 scram-sha-256',
      'hostssl all all 192.0.2.0/24 scram-sha-256',
      'host all all 0.0.0.0/0 reject',
      'host all all ::/0 reject',
    ]);
  });

  test('the volume is mounted by id and the setup waits for it', () => {
    const conf = fileOf(r, '/etc/postgres-strategies/setup.conf');
    expectLines(conf, ['VOLUME_DEVICE=/dev/disk/by-id/scsi-0HC_Volume_4242', 'MOUNT_POINT=/var/lib/postgresql', 'PG_PACKAGE=postgresql-15', 'RUN_BOOTSTRAP=0', "UPGRADE_FROM_MAJOR=''"]);
    expect(SETUP_SCRIPT).toContain('while [ ! -b "$VOLUME_DEVICE" ]');
  });

  test('no plain password anywhere: the admin role gets its verifier', () => {
    expect(r.userData).not.toContain(ADMIN_PASSWORD);
    const sql = fileOf(r, '/etc/postgres-strategies/admin.sql');
    expect(sql).toMatch(/CREATE ROLE "pgadmin" LOGIN NOSUPERUSER CREATEDB CREATEROLE PASSWORD 'SCRAM-SHA-256\$4096:/);
  });

  test('backups: keep 7 and no age limit by default, on the volume with 20 % of it kept free, nightly', () => {
    const conf = fileOf(r, '/etc/postgres-strategies/backup.conf');
    expectLines(conf, ['BACKUP_DIR=/var/lib/postgresql/backups', 'BACKUP_KEEP=7', 'BACKUP_MAX_AGE_DAYS=0', 'BACKUP_MIN_FREE_PERCENT=20', 'BACKUP_S3=0']);
    expect(fileOf(r, '/etc/systemd/system/postgres-strategies-backup.timer')).toContain('OnCalendar=*-*-* 03:15:00 UTC\n');
  });
});

test('S3 backups: rclone settings from the bucket, with the key quoted for sh; 30 dumps kept by default', () => {
  const r = renderCloudConfig(sampleSettings({ backup: { maxAgeDays: 14, s3: { endpoint: 'https://fsn1.your-objectstorage.com', bucket: 'pg-dumps', prefix: 'prod/', accessKeyId: 'AK', secretAccessKey: "a'b" } } }));
  const conf = fileOf(r, '/etc/postgres-strategies/backup.conf');
  expect(conf).toContain('BACKUP_S3=1\n');
  expect(conf).toContain('BACKUP_KEEP=30\n');
  expect(conf).toContain('RCLONE_CONFIG_BACKUP_ENDPOINT=https://fsn1.your-objectstorage.com\n');
  expect(conf).toContain(`RCLONE_CONFIG_BACKUP_SECRET_ACCESS_KEY=${shellQuote("a'b")}\n`);
  expect(shellQuote("a'b")).toBe("'a'\\''b'");
  expect(fileOf(r, '/etc/postgres-strategies/setup.conf')).toContain('BACKUP_S3=1\n');
});

test('the instances\' bootstrap SQL is written and run when given', () => {
  const plans = planInstances([{ name: 'blog' }], { namePrefix: 'vw_' });
  const sql = renderBootstrapSql(plans, { verifiers: { vw_blog: scramSha256Verifier('x'.repeat(20), Buffer.alloc(16, 1)) } });
  const r = renderCloudConfig(sampleSettings({ bootstrapSql: sql }));
  expect(fileOf(r, '/etc/postgres-strategies/bootstrap.sql')).toBe(sql);
  expect(fileOf(r, '/etc/postgres-strategies/setup.conf')).toContain('RUN_BOOTSTRAP=1\n');
});

test('the admin SQL refuses a plain password', () => {
  expect(() => renderAdminSql('pgadmin', 'hunter2')).toThrow(/adminVerifier: is not a SCRAM-SHA-256 verifier; plain passwords are never written into user data/);
});

test('Hetzner\'s 32 KiB user-data limit is checked (large files are compressed, so it takes incompressible text to reach it)', () => {
  const big = `-- ${randomBytes(USER_DATA_LIMIT_BYTES).toString('base64')}\n`;
  expect(() => renderCloudConfig(sampleSettings({ bootstrapSql: big }))).toThrow(/userData: is \d+ bytes, over Hetzner's limit of 32768/);
  expect(Buffer.byteLength(renderCloudConfig(sampleSettings()).userData)).toBeLessThan(16 * 1024);
});

const CA_KEY = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIfake\n-----END EC PRIVATE KEY-----\n';

describe('the server renews its own certificate when given the CA key', () => {
  const renewing = renderCloudConfig(sampleSettings({ caKeyPem: CA_KEY, certificateValidityDays: 825, certificateRenewBeforeDays: 30 }));
  const plain = renderCloudConfig(sampleSettings());

  test('the CA key (root-only), the daily timer and its service; the setup knows the validity and the window', () => {
    expect(renewing.files.find((f) => f.path === '/etc/postgres-strategies/ca.key')).toEqual({ path: '/etc/postgres-strategies/ca.key', content: CA_KEY, permissions: '0600' });
    expectLines(fileOf(renewing, '/etc/postgres-strategies/setup.conf'), ['CERT_RENEW=1', 'CERT_VALIDITY_DAYS=825', 'CERT_RENEW_BEFORE_DAYS=30']);
    expectLines(fileOf(renewing, '/etc/systemd/system/postgres-strategies-renew-cert.service'), ['ExecStart=/usr/local/sbin/postgres-strategies-setup --renew-certificate']);
    expectLines(fileOf(renewing, '/etc/systemd/system/postgres-strategies-renew-cert.timer'), ['OnCalendar=daily', 'Persistent=true', 'WantedBy=timers.target']);
    // The setup script is the same program either way; only its settings differ.
    expect(fileOf(renewing, '/usr/local/sbin/postgres-strategies-setup')).toBe(SETUP_SCRIPT);
  });

  test('without it: no key, no timer, CERT_RENEW=0', () => {
    expect(plain.files.map((f) => f.path).filter((p) => /ca\.key|renew-cert/.test(p))).toEqual([]);
    expectLines(fileOf(plain, '/etc/postgres-strategies/setup.conf'), ['CERT_RENEW=0']);
  });

  test('the CA key is TLS material: a new one never asks for a rebuilt server (rebuildKey)', () => {
    const other = renderCloudConfig(sampleSettings({ caKeyPem: CA_KEY.replace('fake', 'other'), certificateValidityDays: 825, certificateRenewBeforeDays: 30 }));
    expect(other.rebuildKey).toBe(renewing.rebuildKey);
  });
});

describe('errors name the field', () => {
  const cases: Array<[string, SampleOverrides, RegExp]> = [
    ['a managed key in pgConfig', { pgConfig: { listen_addresses: '*' } }, /pgConfig\.listen_addresses: "listen_addresses" is managed by this component/],
    ['ssl in pgConfig', { pgConfig: { ssl: false } }, /pgConfig\.ssl: "ssl" is managed/],
    ['an injected key', { pgConfig: { "work_mem = '1MB'\nssl": 'off' } }, /is not a postgresql\.conf parameter name/],
    ['a bad CIDR (the renderer never writes a malformed pg_hba line)', { admittedCidrs: ['10.0.1.0/33'] }, /pgHba\[\d+\]\.address: "10\.0\.1\.0\/33" is not a CIDR block/],
    ['a negative minFreePercent', { backup: { minFreePercent: -1 } }, /backup\.minFreePercent: -1 is not a whole percentage between 0 and 90/],
    ['an upgrade from a newer major', { upgradeFromMajor: 16 }, /postgresMajorUpgradeFrom: 16 is not an older PostgreSQL major than 15/],
    ['a negative keep', { backup: { keep: -1 } }, /backup\.keep: -1 is not a whole number of dumps/],
    ['a schedule with a newline', { backup: { schedule: 'daily\nExecStart=/bin/sh' } }, /backup\.schedule: "daily\\nExecStart=\/bin\/sh" is not a systemd OnCalendar expression/],
    ['a bucket with upper case', { backup: { s3: { endpoint: 'https://x.example', bucket: 'Bad', accessKeyId: 'a', secretAccessKey: 'b' } } }, /backup\.s3\.bucket: "Bad" is not a bucket name/],
    ['a key that is not PEM', { serverKeyPem: 'secret' }, /serverKeyPem: is not a PEM block/],
    ['a device outside /dev', { volumeDevice: '/tmp/x; rm -rf /' }, /volumeDevice: .* is not a device path/],
    ['a CA key that is not PEM', { caKeyPem: 'secret' }, /caKeyPem: is not a PEM block/],
    ['a renewal window longer than the validity', { caKeyPem: CA_KEY, certificateValidityDays: 20 }, /certificateValidityDays: 20 is not a whole number of days longer than the renewal window \(30\)/],
    ['no renewal window', { caKeyPem: CA_KEY, certificateRenewBeforeDays: 0 }, /certificateRenewBeforeDays: 0 is not a positive whole number of days/],
  ];
  test.each(cases)('%s', (_, overrides, message) => {
    let error: unknown;
    try {
      renderCloudConfig(sampleSettings(overrides));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect(String((error as Error).message)).toMatch(message);
  });
});

test('the PostgreSQL major comes from the image: Debian 12 ships 15, Debian 13 ships 17', () => {
  expect(postgresMajorFor('debian-12')).toBe(15);
  expect(postgresMajorFor('debian-13')).toBe(17);
  expect(postgresMajorFor('ubuntu-24.04', 16)).toBe(16);
  expect(() => postgresMajorFor('ubuntu-24.04')).toThrow(/image: "ubuntu-24\.04" is not an image whose PostgreSQL major is known/);
});
