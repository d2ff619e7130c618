/**
 * The pure parts of the backups: s3:// locations, destinations, retention,
 * the command lines the schedules run (no secret in them), the store
 * settings from the AWS SDK variables, keys and their check values, the
 * manifest's MAC, backup ids and how a listing groups into backups, the
 * off-site workflow and systemd units' shape, and the Hetzner pgBackRest
 * settings; the manifest's sequences read before and after the dump.
 */
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { ValidationError } from '../../../src/core/errors';
import { backupCommandArgs, formatS3Location, parseS3Location, planBackupDestination, planRetention, retentionDays } from '../../../src/core/backup';
import { renderBackupSystemd, renderBackupWorkflow } from '../../../src/core/backup-job';
import { storeSettingsFromEnv } from '../../../src/backup/store';
import { keyMatches, keyCheck, macMatches, manifestMac, parseBackupKey } from '../../../src/backup/crypto';
import { BackupManifest, backupId, backupStamp, manifestReading, readingParts } from '../../../src/backup/manifest';
import type { SideReading } from '../../../src/migrate/verify';
import { compare } from '../../../src/migrate/verify';
import { backupsIn, stampTime } from '../../../src/backup/list';
import { planPitr, renderPgbackrestConf } from '../../../src/hetzner/backup';

function fieldOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ValidationError) return `${e.field}: ${e.problem}`;
    throw e;
  }
  return 'no error';
}

test.each([
  ['s3://backups', { bucket: 'backups', prefix: '' }],
  ['s3://backups/', { bucket: 'backups', prefix: '' }],
  ['s3://backups/prod/app', { bucket: 'backups', prefix: 'prod/app/' }],
  ['s3://my.bucket-1/a=b/c+d/', { bucket: 'my.bucket-1', prefix: 'a=b/c+d/' }],
])('parseS3Location(%s)', (url, expected) => {
  expect(parseS3Location(url, '--to')).toEqual(expected);
  expect(parseS3Location(formatS3Location(expected), '--to')).toEqual(expected);
});

test.each([
  ['https://backups/x', /not an s3:\/\/ location/],
  ['s3://Backups/x', /not a bucket name/],
  ['s3://ab/x', /not a bucket name/],
  ['s3://backups/../x', /not a key prefix/],
  ['s3://backups/a//b', /not a key prefix/],
  ['s3://backups/a b', /not a key prefix/],
])('parseS3Location refuses %s', (url, problem) => {
  expect(fieldOf(() => parseS3Location(url, '--to'))).toMatch(new RegExp(`^--to: .*${problem.source}`));
});

test('destinations: path-style with an endpoint, region checked, endpoint without a path', () => {
  expect(planBackupDestination({ location: 's3://b-1/p', endpoint: 'https://fsn1.your-objectstorage.com/' }, 'backup')).toEqual({ bucket: 'b-1', prefix: 'p/', region: 'us-east-1', pathStyle: true, endpoint: 'https://fsn1.your-objectstorage.com' });
  expect(planBackupDestination({ location: 's3://b-1' }, 'backup')).toEqual({ bucket: 'b-1', prefix: '', region: 'us-east-1', pathStyle: false });
  expect(fieldOf(() => planBackupDestination({ location: 's3://b-1', endpoint: 'https://x.example/path' }, 'backup'))).toMatch(/^backup\.endpoint: /);
  expect(fieldOf(() => planBackupDestination({ location: 's3://b-1', region: 'EU Central' }, 'backup'))).toMatch(/^backup\.region: /);
});

test('retention: defaults, bounds, and the days a retention promises', () => {
  expect(planRetention({}, 'backup')).toEqual({ keep: 14, maxAgeDays: 30 });
  expect(fieldOf(() => planRetention({ keep: -1 }, 'backup'))).toMatch(/^backup\.keep: /);
  expect(retentionDays({ keep: 14, maxAgeDays: 30 })).toBe(14);
  expect(retentionDays({ keep: 0, maxAgeDays: 5 })).toBe(5);
  expect(retentionDays({ keep: 3, maxAgeDays: 0 }, 7)).toBe(21);
  expect(retentionDays({ keep: 0, maxAgeDays: 0 })).toBe(Infinity);
});

test('the backup command names the URL variable, never a URL or key', () => {
  const destination = planBackupDestination({ location: 's3://b-1/prod' }, 'backup');
  expect(backupCommandArgs({ urlEnv: 'PS_BACKUP_URL_BLOG', destination, retention: { keep: 7, maxAgeDays: 0 }, encrypt: true })).toEqual([
    'backup', '--from-env', 'PS_BACKUP_URL_BLOG', '--to', 's3://b-1/prod', '--keep', '7', '--max-age-days', '0', '--key-env', 'POSTGRES_STRATEGIES_BACKUP_KEY',
  ]);
  expect(fieldOf(() => backupCommandArgs({ urlEnv: 'postgres://u:pw@h/db', destination, retention: { keep: 1, maxAgeDays: 0 }, encrypt: false }))).toMatch(/^urlEnv: /);
});

test('store settings from the AWS SDK variables', () => {
  expect(storeSettingsFromEnv({})).toEqual({ region: 'us-east-1', pathStyle: false });
  expect(storeSettingsFromEnv({ AWS_DEFAULT_REGION: 'eu-central-1' })).toEqual({ region: 'eu-central-1', pathStyle: false });
  expect(storeSettingsFromEnv({ AWS_REGION: 'fsn1', AWS_ENDPOINT_URL: 'https://fsn1.your-objectstorage.com', AWS_CA_BUNDLE: '/ca.pem' })).toEqual({ region: 'fsn1', endpoint: 'https://fsn1.your-objectstorage.com', pathStyle: true, caBundle: '/ca.pem' });
  // The S3-specific variable wins; path style can be turned off.
  expect(storeSettingsFromEnv({ AWS_ENDPOINT_URL: 'https://a.example', AWS_ENDPOINT_URL_S3: 'https://s3.example', POSTGRES_STRATEGIES_S3_PATH_STYLE: '0' })).toEqual({ region: 'us-east-1', endpoint: 'https://s3.example', pathStyle: false });
  expect(() => storeSettingsFromEnv({ AWS_ENDPOINT_URL_S3: 'fsn1.example' })).toThrow(/AWS_ENDPOINT_URL_S3: "fsn1.example" is not an http\(s\) URL/);
});

test('keys: base64 or hex of 32 bytes; check values and MACs tell keys and texts apart', () => {
  const raw = randomBytes(32);
  expect(parseBackupKey(`${raw.toString('base64')}\n`, '--key-env')).toEqual(raw);
  expect(parseBackupKey(raw.toString('hex'), '--key-env')).toEqual(raw);
  expect(() => parseBackupKey('short', '--key-env')).toThrow(/--key-env: is not a backup key/);
  expect(() => parseBackupKey(randomBytes(16).toString('base64'), '--key-file')).toThrow(/--key-file: is not a backup key/);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.string(), (a, b, text) => {
      const ka = Buffer.from(a);
      const kb = Buffer.from(b);
      expect(keyMatches(ka, 'db/1', keyCheck(ka, 'db/1'))).toBe(true);
      expect(keyMatches(kb, 'db/1', keyCheck(ka, 'db/1'))).toBe(ka.equals(kb));
      expect(macMatches(ka, 'db/1', text, manifestMac(ka, 'db/1', text))).toBe(true);
      expect(macMatches(ka, 'db/1', `${text}x`, manifestMac(ka, 'db/1', text))).toBe(false);
    }),
    { numRuns: 50 },
  );
});

test('backup ids sort as their times; a listing groups into complete and incomplete backups, newest first', () => {
  const t = new Date('2026-05-01T14:03:00.120Z');
  expect(backupStamp(t)).toBe('20260501T140300120Z');
  expect(stampTime(backupStamp(t))).toEqual(t);
  expect(backupId('app', t)).toBe('app/20260501T140300120Z');
  const o = (key: string, bytes = 10) => ({ key, bytes, lastModified: new Date(0) });
  const listing = [
    o('prod/app/20260501T140300120Z/dump', 100),
    o('prod/app/20260501T140300120Z/manifest.json'),
    o('prod/app/20260502T000000000Z/dump', 50),
    o('prod/other/20260101T000000000Z/dump', 7),
    o('prod/other/20260101T000000000Z/manifest.json'),
    o('prod/app/not-a-stamp/dump'),
    o('prod/stray.txt'),
  ];
  expect(backupsIn('prod/', listing).map((b) => [b.id, b.complete, b.bytes, b.folder])).toEqual([
    ['app/20260502T000000000Z', false, 50, 'prod/app/20260502T000000000Z/'],
    ['app/20260501T140300120Z', true, 100, 'prod/app/20260501T140300120Z/'],
    ['other/20260101T000000000Z', true, 7, 'prod/other/20260101T000000000Z/'],
  ]);
  // A prefix that names the database, or one backup, finds the same folders.
  expect(backupsIn('prod/app/', listing).map((b) => b.id)).toEqual(['app/20260502T000000000Z', 'app/20260501T140300120Z']);
  expect(backupsIn('prod/app/20260501T140300120Z/', listing).map((b) => b.folder)).toEqual(['prod/app/20260501T140300120Z/']);
});

test('the off-site workflow: a daily schedule, one matrix entry per instance, secrets by name only', () => {
  const plan = { instances: [{ name: 'blog' }, { name: 'api-v2' }], destination: planBackupDestination({ location: 's3://b-1/prod', endpoint: 'https://s3.example' }, 'backup'), retention: { keep: 14, maxAgeDays: 30 }, encrypt: true };
  const yml = renderBackupWorkflow(plan);
  expect(yml).toMatch(/cron: 15 3 \* \* \*/);
  expect(yml).toMatch(/url_secret: API_V2_DATABASE_URL/);
  expect(yml).toMatch(/AWS_ENDPOINT_URL_S3: https:\/\/s3.example/);
  expect(yml).toMatch(/POSTGRES_STRATEGIES_S3_PATH_STYLE: "1"/);
  expect(yml).not.toMatch(/restore drill/);
  expect(fieldOf(() => renderBackupWorkflow({ ...plan, cron: 'daily' }))).toMatch(/^cron: /);
  expect(fieldOf(() => renderBackupWorkflow({ ...plan, instances: [] }))).toMatch(/^instances: is empty/);
  const units = renderBackupSystemd(plan, { urls: { blog: 'postgres://a:"q\\@h/db', 'api-v2': 'postgres://b@h/db' }, accessKeyId: 'AK', secretAccessKey: 'SK', backupKey: 'K' });
  expect(units.service.match(/^ExecStart=/gm)).toHaveLength(2);
  expect(units.service).not.toMatch(/postgres:\/\//);
  expect(units.environmentFile).toContain('PS_BACKUP_URL_BLOG="postgres://a:\\"q\\\\@h/db"');
  expect(fieldOf(() => renderBackupSystemd(plan, { urls: { blog: 'x' }, accessKeyId: 'AK', secretAccessKey: 'SK', backupKey: 'K' }))).toMatch(/^urls\.api-v2: is missing/);
});

test('pgBackRest: HTTPS only, a retention of at least 7 days, path-style S3 settings', () => {
  const o = { endpoint: 'https://fsn1.your-objectstorage.com', location: 's3://pitr-1/db', accessKeyId: 'AK', secretAccessKey: 'SK', encryptionKey: 'k'.repeat(32) };
  const plan = planPitr(o);
  expect(plan).toMatchObject({ host: 'fsn1.your-objectstorage.com', port: 443, bucket: 'pitr-1', repoPath: '/db', retentionDays: 14, privateCa: false });
  const conf = renderPgbackrestConf(o, plan, '/var/lib/postgresql/15/main', '/etc/pgbackrest-ca.pem');
  expect(conf).toMatch(/^repo1-s3-uri-style=path$/m);
  expect(conf).toMatch(/^repo1-storage-port=443$/m);
  expect(conf).toMatch(/^repo1-cipher-type=aes-256-cbc$/m);
  expect(conf).toMatch(/^repo1-retention-full-type=time$/m);
  expect(conf).not.toMatch(/repo1-storage-ca-file/);
  expect(fieldOf(() => planPitr({ ...o, endpoint: 'http://s3.example' }))).toMatch(/^pitr\.endpoint: .*only HTTPS/);
  expect(fieldOf(() => planPitr({ ...o, retentionDays: 3 }))).toMatch(/^pitr\.retentionDays: /);
  expect(fieldOf(() => planPitr({ ...o, encryptionKey: 'short' }))).toMatch(/^pitr\.encryptionKey: /);
});

describe("the manifest's sequences (a sequence is outside the dump's snapshot)", () => {
  const seq = (lastValue: string): { lastValue: string; isCalled: boolean; increment: string } => ({ lastValue, isCalled: true, increment: '1' });
  const reading = (sequences: Record<string, string>, after?: Record<string, string>): SideReading => ({
    inventory: { objects: [], largeObjects: 0, largeObjectsNotOwned: 0 },
    tables: new Map(),
    sequences: new Map(Object.entries(sequences).map(([k, v]) => [k, seq(v)])),
    ...(after ? { sequencesAfter: new Map(Object.entries(after).map(([k, v]) => [k, seq(v)])) } : {}),
    largeObjects: { rows: 0, checksum: '0' },
    extensions: new Map(),
  });
  const restored = (value: string): boolean => compare(manifestReading(readingParts(source) as BackupManifest), reading({ 'public.s': value }), 'owner').sequences[0]!.equal;
  let source: SideReading;

  test('none moved during the dump: no sequencesAfter in the manifest, the restored value must be the one at the snapshot', () => {
    source = reading({ 'public.s': '10' }, { 'public.s': '10' });
    expect(readingParts(source)).not.toHaveProperty('sequencesAfter');
    expect([restored('10'), restored('11')]).toEqual([true, false]);
  });

  test('one moved: both readings kept, a restored value between them verifies, one outside differs', () => {
    source = reading({ 'public.s': '10' }, { 'public.s': '15' });
    expect(readingParts(source).sequencesAfter).toEqual({ 'public.s': seq('15') });
    expect([restored('9'), restored('10'), restored('13'), restored('15'), restored('16')]).toEqual([false, true, true, true, false]);
  });
});
