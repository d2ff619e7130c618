/**
 * The pure parts of migrate: tool versions and the choice of pg_dump, the
 * tools' arguments, the server budget arithmetic, the comparison of the two
 * sides, the report, and the command line's refusals of bad options.
 */
import { MigrateErrorCode } from '../../../src/migrate/errors';
import { checkServerBudget } from '../../../src/migrate/budget';
import { conninfoDbname, pgDumpArgs, pgRestoreArgs, withoutExtensionComments } from '../../../src/migrate/copy';
import { main } from '../../../src/migrate/cli';
import { MigrateOutcome, MigrateResult, MigrateStatus } from '../../../src/migrate/migrate';
import { formatBytes, renderProgress, renderReport, renderTable } from '../../../src/migrate/report';
import { PgTools, candidateDirs, parseToolVersion, pickPgTools, serverMajor } from '../../../src/migrate/tools';
import { SideReading, compare, compareSequence, sameObjects } from '../../../src/migrate/verify';
import { SequenceState } from '../../../src/migrate/catalog';
import { SslMode } from '../../../src/core/tls';
import { RowHash } from '../../../src/migrate/catalog';
import { expectFieldError } from '../core/helpers';

describe('tool versions', () => {
  test.each([
    ['pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)', { version: '15.20', major: 15 }],
    ['pg_restore (PostgreSQL) 18.1', { version: '18.1', major: 18 }],
    ['pg_dump (PostgreSQL) 17beta2', { version: '17', major: 17 }],
    ['pg_dump (PostgreSQL) 9.6.24', { version: '9.6.24', major: 9 }],
    ['something else 15.2', undefined],
  ])('%s', (line, expected) => {
    expect(parseToolVersion(line)).toEqual(expected);
  });

  test('server majors from server_version_num', () => {
    expect([serverMajor(150020), serverMajor(180001), serverMajor(90624)]).toEqual([15, 18, 9]);
  });

  test('candidate directories: PATH entries come after the versioned layouts', () => {
    const dirs = candidateDirs('/opt/a:/opt/b');
    expect(dirs.slice(-2)).toEqual(['/opt/a', '/opt/b']);
  });

  const tools = (major: number): PgTools => ({ dir: `/pg${major}`, pgDump: `/pg${major}/pg_dump`, pgRestore: `/pg${major}/pg_restore`, version: `${major}.1`, major });
  test('picks the newest pair at least as new as the source', () => {
    expect(pickPgTools([tools(17), tools(15)], 15, '15.20').major).toBe(17);
    expect(pickPgTools([tools(15)], 14, '14.9').major).toBe(15);
  });

  test('refuses a source newer than every pg_dump, naming both versions and the fix', () => {
    const e = expectFieldError(() => pickPgTools([tools(15)], 18, '18.4'), '--from', 'PostgreSQL 18.4', 'pg_dump 15.1 (/pg15/pg_dump)', 'postgresql-client-18', '--pg-bin');
    expect((e as { code?: string }).code).toBe(MigrateErrorCode.Tools);
    expectFieldError(() => pickPgTools([], 16, '16.2', '/nowhere'), '--pg-bin', 'no pg_dump with pg_restore in /nowhere');
  });
});

describe('pg_dump and pg_restore arguments', () => {
  test('custom format, no owner, the target role, no grants, one transaction; no connection details or password', () => {
    const dump = pgDumpArgs('app', '00000003-1');
    expect(dump).toEqual(expect.arrayContaining(['--format=custom', '--compress=0', '--no-owner', '--no-privileges', '--no-password', '--snapshot=00000003-1']));
    expect(dump[dump.length - 1]).toBe("--dbname=dbname='app'");
    expect(dump.filter((a) => /host|port|user|password=/i.test(a))).toEqual([]);
    const restore = pgRestoreArgs('vw_blog', 'vw_blog_owner');
    expect(restore).toEqual(expect.arrayContaining(['--no-owner', '--role=vw_blog_owner', '--no-privileges', '--single-transaction', '--exit-on-error', "--dbname=dbname='vw_blog'"]));
    expect(pgRestoreArgs('x', 'r', false)).not.toContain('--single-transaction');
  });

  test('database names are quoted for libpq conninfo, so "=" or a URL prefix is not read as a connection string', () => {
    expect(conninfoDbname("it's a\\db")).toBe("dbname='it\\'s a\\\\db'");
    expect(conninfoDbname('postgres://x')).toBe("dbname='postgres://x'");
  });
});

describe('checkServerBudget', () => {
  const roles = (...limits: number[]): Array<{ role: string; connectionLimit: number }> => limits.map((l, i) => ({ role: `r${i}`, connectionLimit: l }));
  test('passes when the CONNECTION LIMITs fit the usable slots and two are free now; unlimited roles are listed, not counted', () => {
    const b = checkServerBudget({ maxConnections: 100, reservedConnections: 3, inUse: 10, loginRoles: [...roles(20, 20), { role: 'admin', connectionLimit: -1 }] });
    expect(b).toEqual({ maxConnections: 100, reservedConnections: 3, usable: 97, committed: 40, unlimitedRoles: ['admin'], inUse: 10, migrateNeeds: 2, ok: true, problems: [] });
  });

  test('exactly full is allowed; one more is refused with the sum and the largest roles', () => {
    expect(checkServerBudget({ maxConnections: 30, reservedConnections: 3, inUse: 0, loginRoles: roles(20, 7) }).ok).toBe(true);
    const b = checkServerBudget({ maxConnections: 30, reservedConnections: 3, inUse: 0, loginRoles: roles(20, 8) });
    expect(b.ok).toBe(false);
    expect(b.problems).toEqual([expect.stringMatching(/add up to 28, more than the 27 usable slots \(max_connections 30 − 3 reserved\).*largest: r0 20, r1 8/)]);
  });

  test('refuses when the connections in use leave no room for migrate\'s two', () => {
    expect(checkServerBudget({ maxConnections: 30, reservedConnections: 3, inUse: 25, loginRoles: [] }).ok).toBe(true);
    expect(checkServerBudget({ maxConnections: 30, reservedConnections: 3, inUse: 26, loginRoles: [] }).problems).toEqual(['26 of the 27 usable slots are in use, and migrate needs 2 more']);
  });
});

function side(over: Partial<SideReading> = {}): SideReading {
  return {
    inventory: { objects: [{ kind: 'table', name: 'public.t', owner: 'vw_app' }, { kind: 'extension', name: 'pgcrypto', owner: 'postgres' }], largeObjects: 1, largeObjectsNotOwned: 0 },
    tables: new Map([['public.t', { rows: 2, checksum: 'aa' }]]),
    sequences: new Map([['public.t_id_seq', { lastValue: '2', isCalled: true, increment: '1' }]]),
    largeObjects: { rows: 1, checksum: 'lo' },
    extensions: new Map([['pgcrypto', '1.3'], ['plpgsql', '1.0']]),
    ...over,
  };
}

describe('compare', () => {
  test('equal sides: no difference; extension owners do not count; versions may differ', () => {
    const v = compare(side(), side({ extensions: new Map([['pgcrypto', '1.4'], ['plpgsql', '1.0']]) }), 'vw_app');
    expect(v.differences).toBe(0);
    expect(v.ownership).toEqual({ role: 'vw_app', objects: 2, notOwned: [], largeObjectsNotOwned: 0, equal: true });
  });

  test('every kind of difference is counted once per item', () => {
    const target = side({
      inventory: { objects: [{ kind: 'table', name: 'public.t', owner: 'postgres' }, { kind: 'view', name: 'public.v', owner: 'vw_app' }], largeObjects: 1, largeObjectsNotOwned: 1 },
      tables: new Map([['public.t', { rows: 2, checksum: 'bb' }]]),
      sequences: new Map([['public.t_id_seq', { lastValue: '2', isCalled: false, increment: '1' }]]),
      largeObjects: { rows: 1, checksum: 'other' },
      extensions: new Map([['plpgsql', '1.0']]),
    });
    const v = compare(side(), target, 'vw_app');
    expect(v.tables.map((t) => t.equal)).toEqual([false]);
    expect(v.sequences.map((s) => s.equal)).toEqual([false]);
    expect(v.largeObjects.equal).toBe(false);
    expect(v.extensions.map((e) => [e.extension, e.equal])).toEqual([['pgcrypto', false], ['plpgsql', true]]);
    expect(v.objects).toEqual({ onlyInSource: ['extension pgcrypto'], onlyInTarget: ['view public.v'], equal: false });
    expect(v.ownership.notOwned).toEqual([{ kind: 'table', name: 'public.t', owner: 'postgres' }]);
    // table, sequence, large objects, extension, 2 objects, 1 not owned, large objects not owned
    expect(v.differences).toBe(8);
  });

  test('privileges the app and read-only roles lack on the target count one each', () => {
    const v = compare(side(), side({ privileges: { roles: ['vw_app', 'vw_app_ro'], missing: ['vw_app: USAGE on schema billing', 'vw_app_ro: SELECT on table billing.invoices'] } }), 'vw_app_owner');
    expect(v.privileges).toEqual({ roles: ['vw_app', 'vw_app_ro'], missing: ['vw_app: USAGE on schema billing', 'vw_app_ro: SELECT on table billing.invoices'], equal: false });
    expect(compare(side(), side(), 'vw_app').privileges).toEqual({ roles: [], missing: [], equal: true });
  });

  test('a table on one side only is a difference', () => {
    const v = compare(side(), side({ tables: new Map() }), 'vw_app');
    expect(v.tables).toEqual([{ table: 'public.t', source: { rows: 2, checksum: 'aa' }, target: null, equal: false }]);
  });

  test('sameObjects: the same kinds and names and as many large objects, owners aside', () => {
    const a = side().inventory;
    expect(sameObjects(a, { ...a, objects: a.objects.map((o) => ({ ...o, owner: 'x' })).reverse() })).toBe(true);
    expect(sameObjects(a, { ...a, largeObjects: 2 })).toBe(false);
    expect(sameObjects(a, { ...a, objects: a.objects.slice(1) })).toBe(false);
  });
});

describe('compareSequence: the target must lie between the source at the snapshot and after the copy', () => {
  const at = (lastValue: string, isCalled = true, increment = '1'): SequenceState => ({ lastValue, isCalled, increment });
  test('a source that did not move: exactly the same state', () => {
    expect(compareSequence('s', at('5'), at('5'), at('5'))).toEqual({ sequence: 's', source: at('5'), target: at('5'), equal: true });
    expect(compareSequence('s', at('1', false), at('1', false), at('1', true))).toMatchObject({ equal: false, ahead: 'target' });
  });

  test('a source that moved during the run (nextval): any value in between is the copy pg_dump read; how far it moved is reported', () => {
    for (const t of [at('10'), at('12'), at('16')]) {
      expect(compareSequence('s', at('10'), at('16'), t)).toEqual({ sequence: 's', source: at('10'), target: t, equal: true, sourceAfter: at('16'), moved: '6' });
    }
    // not called yet at the snapshot: its next value is its last_value
    expect(compareSequence('s', at('1', false), at('3'), at('1'))).toMatchObject({ equal: true, moved: '3' });
  });

  test('outside the range: the side that is further along', () => {
    expect(compareSequence('s', at('10'), at('16'), at('17'))).toMatchObject({ equal: false, ahead: 'target' });
    expect(compareSequence('s', at('10'), at('16'), at('9'))).toMatchObject({ equal: false, ahead: 'source' });
    expect(compareSequence('s', at('10'), at('10'), at('9'))).toMatchObject({ equal: false, ahead: 'source' });
  });

  test('descending sequences and large increments: in steps of the increment, in its direction', () => {
    expect(compareSequence('s', at('-10', true, '-5'), at('-40', true, '-5'), at('-25', true, '-5'))).toMatchObject({ equal: true, moved: '6' });
    expect(compareSequence('s', at('-10', true, '-5'), at('-40', true, '-5'), at('-45', true, '-5'))).toMatchObject({ equal: false, ahead: 'target' });
    expect(compareSequence('s', at('9223372036854775000', true, '100'), at('9223372036854775800', true, '100'), at('9223372036854775100', true, '100'))).toMatchObject({ equal: true, moved: '8' });
  });

  test('missing on one side', () => {
    expect(compareSequence('s', null, null, at('1'))).toEqual({ sequence: 's', source: null, target: at('1'), equal: false });
    expect(compareSequence('s', at('1'), at('1'), null)).toEqual({ sequence: 's', source: at('1'), target: null, equal: false });
  });
});

describe('withoutExtensionComments: the list pg_restore --use-list reads', () => {
  // pg_restore --list of pg_dump 15 (a database with citext, hstore and pg_stat_statements)
  const LIST = [
    ';',
    '; Selected TOC Entries:',
    ';',
    '4; 3079 16544 EXTENSION - citext ',
    '3550; 0 0 COMMENT - EXTENSION citext ',
    '2; 3079 16385 EXTENSION - hstore ',
    '3551; 0 0 COMMENT - EXTENSION hstore ',
    '3; 3079 16513 EXTENSION - pg_stat_statements ',
    '3552; 0 0 COMMENT - EXTENSION pg_stat_statements ',
    '5; 3079 16600 EXTENSION - "Odd Ext" ',
    '3554; 0 0 COMMENT - EXTENSION "Odd Ext" ',
    '219; 1259 16649 TABLE public kv postgres',
    '3553; 0 0 COMMENT public TABLE kv postgres',
    '',
  ].join('\n');

  test('comments out the comments on the named extensions only; the extensions and other comments stay', () => {
    const { list, skipped } = withoutExtensionComments(LIST, ['pg_stat_statements', 'hstore', 'Odd Ext', 'absent']);
    expect(skipped).toEqual(['hstore', 'pg_stat_statements', 'Odd Ext']);
    expect(list.split('\n').filter((l) => l.startsWith(';') && /^;\d/.test(l))).toEqual([
      ';3551; 0 0 COMMENT - EXTENSION hstore ',
      ';3552; 0 0 COMMENT - EXTENSION pg_stat_statements ',
      ';3554; 0 0 COMMENT - EXTENSION "Odd Ext" ',
    ]);
    expect(list).toContain('\n3550; 0 0 COMMENT - EXTENSION citext \n');
    expect(list).toContain('\n2; 3079 16385 EXTENSION - hstore \n');
    expect(list).toContain('\n3553; 0 0 COMMENT public TABLE kv postgres\n');
    // an extension whose name is a prefix of another's is not confused with it
    expect(withoutExtensionComments(LIST, ['pg_stat']).skipped).toEqual([]);
  });
});

describe('report', () => {
  const result = (differences = 0, recordHashTables: string[] = []): MigrateResult => {
    const v = compare(side(), differences ? side({ tables: new Map([['public.t', { rows: 3, checksum: 'bb' }]]) }) : side(), 'vw_app');
    return {
      ok: v.differences === 0,
      status: v.differences === 0 ? MigrateStatus.Verified : MigrateStatus.Differs,
      outcome: MigrateOutcome.Copied,
      source: { host: 'old', port: 5432, database: 'app', user: 'postgres', sslmode: SslMode.Disable, serverVersion: '15.20' },
      target: { host: 'new', port: 5432, database: 'vw_app', user: 'vw_app', sslmode: SslMode.VerifyFull, serverVersion: '17.10', role: 'vw_app' },
      tools: { pgDump: '/usr/lib/postgresql/15/bin/pg_dump', pgRestore: '/usr/lib/postgresql/15/bin/pg_restore', version: '15.20', major: 15 },
      notes: [],
      rowHash: RowHash.HashTextExtended,
      recordHashTables,
      budget: checkServerBudget({ maxConnections: 100, reservedConnections: 3, inUse: 1, loginRoles: [{ role: 'vw_app', connectionLimit: 20 }] }),
      copy: { bytes: 1_234_567, tables: 1, seconds: 1.5 },
      verification: v,
      ...(v.differences ? { nextStep: 'do this' } : {}),
      seconds: { checks: 0.5, copy: 1.5, verify: 0.2, total: 2.2 },
    };
  };

  test('a verified copy: the header, the endpoints without passwords, one line per item', () => {
    const text = renderReport(result());
    expect(text).toContain('postgres-strategies migrate: copied and verified: no difference\n');
    expect(text).toContain('  from   postgres@old:5432/app (PostgreSQL 15.20, sslmode=disable)');
    expect(text).toContain('objects owned by vw_app');
    expect(text).toContain('copy 1.5 s (1.2 MB, 1 tables)');
    expect(text).toContain('(/usr/lib/postgresql/15/bin); row checksums: hashtextextended');
    expect(text).toMatch(/^table +public\.t +2 +2 +aa +aa +ok$/m);
    expect(text).toMatch(/^sequence +public\.t_id_seq +2 +2 +ok$/m);
    expect(text).toMatch(/^ownership +owner vw_app +2 of 2 +ok$/m);
    expect(text).not.toContain('next step');
  });

  test('a sequence the source moved during the run shows both values and how far; privileges of the app and read-only roles', () => {
    const r = result();
    r.verification.sequences = [compareSequence('public.t_id_seq', { lastValue: '2', isCalled: true, increment: '1' }, { lastValue: '9', isCalled: true, increment: '1' }, { lastValue: '4', isCalled: true, increment: '1' })];
    r.verification.privileges = { roles: ['vw_app', 'vw_app_ro'], missing: ['vw_app_ro: SELECT on table billing.t'], equal: false };
    const text = renderReport(r);
    expect(text).toMatch(/^sequence +public\.t_id_seq +2 → 9 \(moved 7 during the run\) +4 +ok$/m);
    expect(text).toMatch(/^privileges +vw_app, vw_app_ro +1 missing +DIFFERS$/m);
    expect(text).toMatch(/^  missing +vw_app_ro: SELECT on table billing\.t +DIFFERS$/m);
  });

  test('the tables hashed by their column types are counted in the tools line', () => {
    expect(renderReport(result(0, ['public.t']))).toContain('row checksums: by column types (hash_record_extended) for 1 of 1 tables, else hashtextextended');
  });

  test('differences: the count in the header, DIFFERS on the line, and the next step', () => {
    const text = renderReport(result(1));
    expect(text).toContain('1 difference(s) found after the copy');
    expect(text).toMatch(/^table +public\.t +2 +3 +aa +bb +DIFFERS$/m);
    expect(text).toContain('\nnext step: do this');
  });

  test('tables, bytes and progress lines', () => {
    expect(renderTable(['a', 'n'], [['x', '1'], ['yy', '22']], [false, true])).toBe('a    n\n--  --\nx    1\nyy  22');
    expect([formatBytes(999), formatBytes(1000), formatBytes(1_500_000_000)]).toEqual(['999 B', '1.0 kB', '1.5 GB']);
    expect(renderProgress({ phase: 'copy', bytes: 2_000_000, tablesDone: 1, tables: 3, table: 'public.big' })).toBe(
      'migrate: copying: 2.0 MB through the pipe, 1/3 tables restored (loading public.big)',
    );
    expect(renderProgress({ phase: 'verify', side: 'target', done: 2, total: 6 })).toBe('migrate: verifying the target: 2/6 checksum parts');
  });
});

describe('the command line refuses bad options with exit 2, before connecting anywhere', () => {
  let out = '';
  let err = '';
  beforeEach(() => {
    out = '';
    err = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
    jest.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  });
  afterEach(() => jest.restoreAllMocks());

  test('--help prints the usage and exits 0', async () => {
    expect(await main(['--help'])).toBe(0);
    expect(out).toContain('usage: postgres-strategies migrate --from <libpq URL> --to <libpq URL>');
  });

  test.each<[string[], RegExp]>([
    [['--to', 'postgres://u@h/d?sslmode=disable'], /--from: is missing\. Give --from <libpq URL> or --from-env <VAR>/],
    [['--from', 'x', '--from-env', 'Y', '--to', 'z'], /--from: both --from and --from-env are given/],
    [['--from-env', 'PS_MIGRATE_UNSET_VARIABLE', '--to', 'z'], /--from-env: environment variable PS_MIGRATE_UNSET_VARIABLE is not set/],
    [['--from', 'postgres://u@h/d', '--to', 'postgres://u@h/e?sslmode=disable'], /--from: the URL has no sslmode/],
    [['--frm', 'x'], /Unknown option '--frm'/],
    [['--from', 'x', '--to', 'y', '--row-hash', 'sha1'], /--row-hash: "sha1" is not a row hash\. Use one of: hashtextextended, md5/],
  ])('%p', async (args, message) => {
    expect(await main(args)).toBe(2);
    expect(err).toMatch(message);
  });

  test('--json prints the refusal as JSON', async () => {
    expect(await main(['--json', '--to', 'z'])).toBe(2);
    expect(JSON.parse(out)).toEqual({ ok: false, status: 'refused', refused: { code: 'bad-input', field: '--from', problem: 'is missing', fix: 'Give --from <libpq URL> or --from-env <VAR>' } });
  });

  test('--help lists every exit code with its status', async () => {
    expect(await main(['--help'])).toBe(0);
    for (const line of [/^ {2}0 +verified /m, /^ {2}1 +differs /m, /^ {2}2 +refused +.*nothing was written/m, /^ {2}3 +not-verified +the target holds the copy/m, /^ {2}130 +interrupted +SIGINT \(143: SIGTERM\)/m]) {
      expect(out).toMatch(line);
    }
  });
});
