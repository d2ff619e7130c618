/**
 * The pgConfig checks against each major's own server: PostgreSQL 14, 16,
 * 17, 18 (embedded) and 15 (Debian's postgresql-15), one server per major,
 * started once.
 *
 * 15 is read from each Debian release at hand: the installed one and, when
 * apt's candidate is another minor release (bookworm 15.18,
 * bookworm-security 15.20), that one too, unpacked without installing it.
 *
 * Proves:
 * - the committed parameter data (src/core/pg-settings/data.ts) equals what
 *   each major's pg_settings gives now, probed the generator's own way
 *   (lab/gen-pg-settings.ts, `npm run gen:pg-settings`), whichever minor
 *   release the server is (the parameters minor releases added are kept
 *   apart, in src/core/pg-settings/minor-releases.ts);
 * - a server has each of those exactly from its recorded release on, with
 *   the recorded description; validatePgSetting given the server's minor
 *   accepts exactly what the server accepts, and without the minor it
 *   cautions (a server of another major that has one the record does not
 *   know for it fails the test: record its release);
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
import {
  MINOR_RELEASE_PARAMETERS,
  MinorReleaseParameter,
  PgSetting,
  PgSettingContext,
  PgSettingType,
  pgSetting,
  pgSettingCaution,
  pgSettingNames,
  validatePgSetting,
} from '../../src/core/pg-settings';
import {
  DEBIAN_PG15_BIN,
  GENERATED_MAJORS,
  PG_SETTINGS_MODULE,
  PgSettingRow,
  debianPg15Builds,
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

/** The candidate values of a parameter minor releases added, tried like any other (its description from the record). */
function minorReleaseCandidates(p: MinorReleaseParameter): string[] {
  return candidateValues({ name: p.name, vartype: p.vartype as PgSettingType, context: p.context as PgSettingContext, ...(p.enumvals ? { enumvals: p.enumvals } : {}) });
}

/** One server read: its release, its parameters, and where validatePgSetting and the server disagree. */
interface Read {
  major: number;
  /** The server's release, e.g. "15.18" (server_version_num). */
  release: string;
  minor: number;
  rows: PgSettingRow[];
  disagreements: Disagreement[];
  /** What the server says of each parameter minor releases added: present or not, and its pg_settings row. */
  minorRelease: Array<{ name: string; present: boolean; row?: PgSettingRow; disagreements: Disagreement[] }>;
}

async function readServer(config: ClientConfig, major: number): Promise<Read> {
  const client = new Client(config);
  await client.connect();
  let num: number;
  try {
    num = Number((await client.query<{ n: string }>('SELECT current_setting(\'server_version_num\') AS n')).rows[0]?.n);
  } finally {
    await client.end().catch(() => undefined);
  }
  const minor = num % 100;
  const rows = await readSettings(config);
  const minorRelease: Read['minorRelease'] = [];
  for (const p of MINOR_RELEASE_PARAMETERS) {
    const row = rows.find((r) => r.name === p.name);
    const verdicts: Disagreement[] = [];
    // Where the record knows the major, validatePgSetting given the server's minor must agree with the server.
    if (p.since[major] !== undefined) verdicts.push(...(await agreement(config, major, p.name, minorReleaseCandidates(p), minor)));
    minorRelease.push({ name: p.name, present: row !== undefined, ...(row ? { row } : {}), disagreements: verdicts });
  }
  return { major, release: `${Math.floor(num / 10000)}.${minor}`, minor, rows, disagreements: await disagreements(config, major), minorRelease };
}

/** The server's ALTER SYSTEM verdict on each value of one parameter against validatePgSetting's (with the server's minor). */
async function agreement(config: ClientConfig, major: number, name: string, values: string[], minor: number): Promise<Disagreement[]> {
  const client = new Client(config);
  await client.connect();
  const out: Disagreement[] = [];
  try {
    for (const value of values) {
      const server = await client.query(`ALTER SYSTEM SET ${client.escapeIdentifier(name)} = ${client.escapeLiteral(value)}`).then(
        () => 'accepted',
        (e: Error) => `refused: ${e.message}`,
      );
      let ours = 'accepted';
      try {
        validatePgSetting(name, value, major, `pgConfig.${name}`, minor);
      } catch (e) {
        ours = `refused: ${(e as Error).message}`;
      }
      if ((server === 'accepted') !== (ours === 'accepted')) out.push({ name, value, server, ours });
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  return out;
}

const reads: Read[] = [];
const failed: string[] = [];

beforeAll(async () => {
  for (const major of GENERATED_MAJORS) {
    if (major === 15 && !haveDebianPg15()) {
      failed.push(`PostgreSQL 15: ${DEBIAN_PG15_BIN}/postgres is missing (apt-get install postgresql-15) or not running as root`);
      continue;
    }
    // 15: the installed release, and apt's candidate when it is another one (two minor releases of one major).
    for (const bin of major === 15 ? debianPg15Builds() : [undefined]) {
      reads.push(await withPgSettingsServer(major, (config) => readServer(config, major), bin));
    }
  }
}, 900_000);

test('every major could be started (15 is Debian\'s postgresql-15)', () => {
  expect(failed).toEqual([]);
  expect([...new Set(reads.map((r) => r.major))]).toEqual([...GENERATED_MAJORS]);
});

test.each([...GENERATED_MAJORS])('PostgreSQL %i: the committed data equals what each of its servers gives now, whatever its minor release (else: npm run gen:pg-settings)', (major) => {
  const committed = readFileSync(PG_SETTINGS_MODULE, 'utf8');
  const servers = reads.filter((r) => r.major === major);
  expect(servers.length).toBeGreaterThan(0);
  for (const read of servers) {
    // The module of every major's first server, this major's from this server.
    const byMajor = new Map(GENERATED_MAJORS.map((m) => [m, (m === major ? read : reads.find((r) => r.major === m))?.rows ?? []]));
    expect({ release: read.release, same: renderPgSettingsModule(byMajor) === committed }).toEqual({ release: read.release, same: true });
  }
});

test.each([...GENERATED_MAJORS])('PostgreSQL %i: validatePgSetting accepts exactly the values ALTER SYSTEM accepts', (major) => {
  const servers = reads.filter((r) => r.major === major);
  expect(servers.length).toBeGreaterThan(0);
  for (const read of servers) expect({ release: read.release, disagreements: read.disagreements }).toEqual({ release: read.release, disagreements: [] });
});

test('parameters minor releases added: a server has one exactly from the recorded release on, described as recorded; where no release is recorded, none has it and validation warns', () => {
  const seen: string[] = [];
  for (const read of reads) {
    for (const { name, present, row, disagreements: found } of read.minorRelease) {
      const p = MINOR_RELEASE_PARAMETERS.find((q) => q.name === name) as MinorReleaseParameter;
      const since = p.since[read.major];
      // A server with a parameter the record does not know for its major: record the release that brought it.
      expect({ release: read.release, name, present }).toEqual({ release: read.release, name, present: since !== undefined && read.minor >= since });
      if (row) {
        expect(row).toEqual({ name, vartype: p.vartype, unit: null, context: p.context, min: null, max: null, enumvals: p.enumvals ? [...p.enumvals] : null, hidden: null });
      }
      expect({ release: read.release, name, found }).toEqual({ release: read.release, name, found: [] });
      // Without the minor, the value is checked and a caution says what an older server does.
      const caution = pgSettingCaution(name, read.major);
      expect(caution).toContain('unrecognized configuration parameter');
      expect(pgSettingCaution(name, read.major, read.minor) === undefined).toBe(present);
      seen.push(`${read.release} ${name} ${present ? 'has it' : 'has not'}`);
    }
  }
  process.stdout.write(`parameters minor releases added, per server: ${seen.join('; ')}\n`);
});
