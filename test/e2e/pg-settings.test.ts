/**
 * The pgConfig checks against each major's own server: PostgreSQL 14, 16,
 * 17, 18 (embedded) and 15 (Debian's postgresql-15), one server per major,
 * started once.
 *
 * Proves:
 * - the committed parameter data (src/core/pg-settings/data.ts) equals what
 *   each major's pg_settings gives now, probed the generator's own way
 *   (lab/gen-pg-settings.ts, `npm run gen:pg-settings`);
 * - validatePgSetting accepts exactly the values the server accepts, for
 *   every settable parameter of every major: each value is tried with
 *   `ALTER SYSTEM SET`, which runs the server's parser and check hooks
 *   without applying anything. Values per type: bool spellings and prefixes,
 *   every enum value in two cases plus bool synonyms, integers and reals in
 *   decimal/hex/octal/fraction/exponent form, with memory and time units
 *   (right and wrong case, wrong kind, blanks), and each range edge ± 1.
 */
import { readFileSync } from 'node:fs';
import { Client, ClientConfig } from 'pg';
import { PgSetting, PgSettingContext, PgSettingType, pgSetting, pgSettingNames, validatePgSetting } from '../../src/core/pg-settings';
import {
  DEBIAN_PG15_BIN,
  GENERATED_MAJORS,
  PG_SETTINGS_MODULE,
  PgSettingRow,
  haveDebianPg15,
  readSettings,
  renderPgSettingsModule,
  withPgSettingsServer,
} from '../../lab/gen-pg-settings';

/** Values tried on each parameter, by type (and unit kind): the tricky spellings of guc.c's parsers. */
function candidateValues(s: PgSetting): string[] {
  switch (s.vartype) {
    case PgSettingType.Bool:
      return ['on', 'OFF', 'of', 'o', 't', 'yes', 'N', '1', '0', '2', 'true ', 'enabled', ''];
    case PgSettingType.Enum:
      return [...new Set([...(s.enumvals ?? []), ...(s.enumvals ?? []).map((v) => v.toUpperCase()), 'on', 'true', '1', 'nonsense'])];
    case PgSettingType.Real:
      return ['0', '1', '1.5', '.5', '-1', '1e999', 'inf', 'nan', '0x10', '2 ms', '500us', '1min', '10MB', 'abc', `${s.max ?? 0}`];
    case PgSettingType.Integer: {
      const edges = [s.min, s.max].filter((v): v is number => v !== undefined).flatMap((v) => [String(v), String(v - 1), String(v + 1)]);
      const base = ['1', '100', '1.5', '1e3', '0x10', '010', '08', ' 7 ', '-1', '2147483648', 'abc', '', ...edges];
      if (s.unit === undefined) return [...base, '10MB', '5s'];
      return /B$/.test(s.unit)
        ? [...base, '64kB', '4MB', '1GB', '1.5MB', '30.1GB', '1TB', '100TB', '4 MB', '4mb', '8192B', '4MBx', '10s']
        : [...base, '250ms', '30s', '5min', '1.5h', '1d', '2500us', '30 s', '30S', '10MB'];
    }
    default:
      return [];
  }
}

/**
 * Parameters whose check hook compares them with other parameters, which
 * pg_settings does not describe: max_connections + autovacuum workers +
 * worker processes + WAL senders must stay below MAX_BACKENDS. Their upper
 * edge is not tried.
 */
const CROSS_CHECKED = new Set(['max_connections', 'max_worker_processes', 'autovacuum_max_workers', 'max_wal_senders', 'autovacuum_worker_slots']);

/** ALTER SYSTEM refuses this one whatever the value (it may not be in postgresql.auto.conf). */
const NOT_IN_AUTO_CONF = new Set(['allow_alter_system']);

interface Disagreement {
  name: string;
  value: string;
  server: string;
  ours: string;
}

/** Every candidate value of every settable parameter: the server's ALTER SYSTEM verdict against ours. */
async function disagreements(config: ClientConfig, major: number): Promise<Disagreement[]> {
  const work: Array<[string, string]> = [];
  for (const name of pgSettingNames(major)) {
    const s = pgSetting(name, major) as PgSetting;
    if (s.context === PgSettingContext.Internal || NOT_IN_AUTO_CONF.has(name.toLowerCase())) continue;
    for (const value of candidateValues(s)) {
      if (CROSS_CHECKED.has(name) && s.max !== undefined && Number(value) >= s.max - 8) continue;
      work.push([name, value]);
    }
  }
  const out: Disagreement[] = [];
  // A few connections in parallel: ALTER SYSTEM serialises on its file lock, the round trips overlap.
  const worker = async (): Promise<void> => {
    const client = new Client(config);
    await client.connect();
    try {
      for (let item = work.pop(); item !== undefined; item = work.pop()) {
        const [name, value] = item;
        const server = await client.query(`ALTER SYSTEM SET ${client.escapeIdentifier(name)} = ${client.escapeLiteral(value)}`).then(
          () => 'accepted',
          (e: Error) => `refused: ${e.message}`,
        );
        let ours = 'accepted';
        try {
          validatePgSetting(name.toLowerCase(), value, major, `pgConfig.${name}`);
        } catch (e) {
          ours = `refused: ${(e as Error).message}`;
        }
        if ((server === 'accepted') !== (ours === 'accepted')) out.push({ name, value, server, ours });
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out.sort((a, b) => (a.name + a.value < b.name + b.value ? -1 : 1));
}

const generated = new Map<number, PgSettingRow[]>();
const found = new Map<number, Disagreement[]>();
const failed: string[] = [];

beforeAll(async () => {
  for (const major of GENERATED_MAJORS) {
    if (major === 15 && !haveDebianPg15()) {
      failed.push(`PostgreSQL 15: ${DEBIAN_PG15_BIN}/postgres is missing (apt-get install postgresql-15) or not running as root`);
      continue;
    }
    await withPgSettingsServer(major, async (config) => {
      generated.set(major, await readSettings(config));
      found.set(major, await disagreements(config, major));
    });
  }
}, 900_000);

test('every major could be started (15 is Debian\'s postgresql-15)', () => {
  expect(failed).toEqual([]);
});

test('the committed data equals what the servers give now (else: npm run gen:pg-settings)', () => {
  expect([...generated.keys()]).toEqual([...GENERATED_MAJORS]);
  expect(renderPgSettingsModule(generated)).toBe(readFileSync(PG_SETTINGS_MODULE, 'utf8'));
});

test.each([...GENERATED_MAJORS])('PostgreSQL %i: validatePgSetting accepts exactly the values ALTER SYSTEM accepts', (major) => {
  expect(found.has(major)).toBe(true);
  expect(found.get(major)).toEqual([]);
});
