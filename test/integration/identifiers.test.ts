/**
 * src/core/identifiers.ts against the real SQL grammar (PostgreSQL 14, 16, 17, 18).
 *
 * Proves:
 * - the reserved-keyword list is complete: every key word the server itself
 *   classes as reserved (pg_get_keywords catcode R) or "reserved, can be
 *   function or type" (T) is in RESERVED_KEYWORDS;
 * - it is not too broad for database names: every listed word fails as an
 *   unquoted `CREATE DATABASE <kw>` (a syntax error) — except `system_user`
 *   on 14, which only became a key word in 16 (the list covers 14–18);
 * - for role names the grammar is looser: `CREATE ROLE <kw>` fails for every
 *   R word (syntax error, or "cannot be used as a role name" for
 *   current_user/current_role/session_user), while the T words (left, join,
 *   verbose, authorization, …) ARE accepted unquoted as role names. The test
 *   pins that exact set, so a change of the list or the grammar shows up;
 *   the validator rejecting them for roles is stricter than needed, never unsafe;
 * - quoted, the same words work (the failures are about quoting, nothing else);
 * - names the validator accepts (vw_blog, a_1, _x, a 63-byte name, the plan's
 *   role names) work unquoted as role and database names and are stored
 *   exactly as written; a 64-byte name is silently truncated by the server
 *   (why the validator rejects it); `CREATE ROLE pg_x` fails as reserved;
 * - the "honeyDue" trap: `CREATE DATABASE "honeyDue"` succeeds, but unquoted
 *   SQL and a lower-cased connection look for "honeydue" and fail.
 */
import { Client } from 'pg';
import { libpqUrl } from '../../src/core/dsn';
import { ValidationError } from '../../src/core/errors';
import { IdentifierKind, RESERVED_KEYWORDS, identifierProblem, quoteIdent, validateIdentifier } from '../../src/core/identifiers';
import { withPg } from '../../lab/inspect';
import { psql } from '../../lab/psql';
import { ALL_VERSIONS, SERVER_TIMEOUT, useLabServer } from './support';

/**
 * Listed words the grammar accepts as unquoted role names: PostgreSQL's
 * RoleId is a NonReservedWord, which includes type_func_name_keyword (catcode T).
 */
const T_KEYWORDS_ACCEPTED_AS_ROLE_NAMES = [
  'authorization', 'binary', 'collation', 'concurrently', 'cross', 'current_schema', 'freeze', 'full',
  'ilike', 'inner', 'is', 'isnull', 'join', 'left', 'like', 'natural', 'notnull', 'outer', 'overlaps',
  'right', 'similar', 'tablesample', 'verbose',
];
/** Listed words that are no key word at all in a version. */
const NOT_YET_KEYWORDS: Record<number, string[]> = { 14: ['system_user'], 16: [], 17: [], 18: [] };

/** Runs `sql`; returns the SQLSTATE of the error, or null on success. */
async function attempt(client: Client, sql: string): Promise<string | null> {
  try {
    await client.query(sql);
    return null;
  } catch (e) {
    return (e as { code?: string }).code ?? 'unknown';
  }
}

describe.each(ALL_VERSIONS)('identifiers on PostgreSQL %i', (version) => {
  const server = useLabServer(() => ({ version }));
  const listed = [...RESERVED_KEYWORDS].sort();

  test(
    'every key word the server reserves (catcode R or T) is in RESERVED_KEYWORDS',
    async () => {
      const words = await withPg(server().admin(), async (c) =>
        (await c.query<{ word: string; catcode: string }>('SELECT word, catcode FROM pg_get_keywords()')).rows,
      );
      const reserved = words.filter((w) => w.catcode === 'R' || w.catcode === 'T').map((w) => w.word);
      expect(reserved.length).toBeGreaterThan(70);
      expect(reserved.filter((w) => !RESERVED_KEYWORDS.has(w))).toEqual([]);
      // Listed words that are no key word on this version, and T words, are exactly the known ones.
      const catcode = new Map(words.map((w) => [w.word, w.catcode]));
      expect(listed.filter((w) => !catcode.has(w))).toEqual(NOT_YET_KEYWORDS[version]);
      expect(listed.filter((w) => catcode.get(w) === 'T')).toEqual(T_KEYWORDS_ACCEPTED_AS_ROLE_NAMES);
    },
    SERVER_TIMEOUT,
  );

  test(
    'every listed key word fails as an unquoted database name, and works quoted',
    async () => {
      const accepted: string[] = [];
      await withPg(server().admin(), async (c) => {
        for (const kw of listed) {
          const code = await attempt(c, `CREATE DATABASE ${kw}`);
          if (code === null) {
            accepted.push(kw);
            await c.query(`DROP DATABASE ${quoteIdent(kw)}`);
          } else {
            expect({ kw, code }).toEqual({ kw, code: '42601' }); // syntax_error
          }
        }
        expect(await attempt(c, `CREATE DATABASE ${quoteIdent('select')}`)).toBeNull();
        await c.query(`DROP DATABASE ${quoteIdent('select')}`);
      });
      expect(accepted).toEqual(NOT_YET_KEYWORDS[version]);
    },
    SERVER_TIMEOUT,
  );

  test(
    'every listed R key word fails as an unquoted role name; the T words are accepted (pinned)',
    async () => {
      const accepted: string[] = [];
      const codes: Record<string, string> = {};
      await withPg(server().admin(), async (c) => {
        for (const kw of listed) {
          await c.query('BEGIN');
          const code = await attempt(c, `CREATE ROLE ${kw}`);
          await c.query('ROLLBACK');
          if (code === null) accepted.push(kw);
          else codes[kw] = code;
        }
        await c.query('BEGIN');
        for (const kw of listed) expect({ kw, code: await attempt(c, `CREATE ROLE ${quoteIdent(kw)}`) }).toEqual({ kw, code: null });
        await c.query('ROLLBACK');
      });
      expect(accepted).toEqual([...T_KEYWORDS_ACCEPTED_AS_ROLE_NAMES, ...NOT_YET_KEYWORDS[version]!].sort());
      // reserved_name (42939) for the role-specifying key words, syntax errors for all others.
      const special = Object.entries(codes).filter(([, code]) => code !== '42601');
      expect(special).toEqual([
        ['current_role', '42939'],
        ['current_user', '42939'],
        ['session_user', '42939'],
      ]);
      // The validator rejects them all (stricter than the role grammar needs).
      for (const kw of listed) expect(identifierProblem(kw, IdentifierKind.Role)).toBeDefined();
    },
    SERVER_TIMEOUT,
  );

  test(
    'names the validator accepts work unquoted and are stored exactly; pg_x is reserved; 64 bytes are truncated',
    async () => {
      const long63 = `a${'b'.repeat(62)}`;
      const names = ['vw_blog', 'a_1', '_x', 'vw_api_owner', 'vw_api_ro', 'app2', long63];
      for (const n of names) expect({ n, problem: identifierProblem(n, IdentifierKind.Database) }).toEqual({ n, problem: undefined });
      await withPg(server().admin(), async (c) => {
        // (CREATE DATABASE copies the template: a few names suffice for databases.)
        const dbNames = ['_x', long63];
        for (const n of names) await c.query(`CREATE ROLE ${n}`);
        for (const n of dbNames) await c.query(`CREATE DATABASE ${n} OWNER ${n}`);
        const roles = (await c.query('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [names])).rows.map((r) => r.rolname);
        const dbs = (await c.query('SELECT datname FROM pg_database WHERE datname = ANY($1)', [names])).rows.map((r) => r.datname);
        expect(roles.sort()).toEqual([...names].sort());
        expect(dbs.sort()).toEqual([...dbNames].sort());
        for (const n of dbNames) await c.query(`DROP DATABASE ${n}`);
        for (const n of names) await c.query(`DROP ROLE ${n}`);

        expect(() => validateIdentifier('pg_x', IdentifierKind.Role, 'role')).toThrow(ValidationError);
        await expect(c.query('CREATE ROLE pg_x')).rejects.toThrow('role name "pg_x" is reserved');

        const long64 = `${long63}c`;
        expect(identifierProblem(long64, IdentifierKind.Role)?.problem).toMatch(/64 bytes long/);
        await c.query(`CREATE ROLE ${long64}`); // accepted with a NOTICE …
        const stored = (await c.query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'abbb%'")).rows.map((r) => r.rolname);
        expect(stored).toEqual([long63]); // … and stored truncated to 63 bytes
        await c.query(`DROP ROLE ${long63}`);
      });
    },
    SERVER_TIMEOUT,
  );

  test(
    'the honeyDue trap: a quoted mixed-case database is unreachable by its unquoted or lower-cased name',
    async () => {
      const s = server();
      expect(() => validateIdentifier('honeyDue', IdentifierKind.Database, 'database')).toThrow(/upper-case letters.*"honeydue"/);
      await withPg(s.admin(), async (c) => {
        await c.query('CREATE DATABASE "honeyDue"');
        // Unquoted in SQL it is folded to honeydue.
        await expect(c.query('GRANT CONNECT ON DATABASE honeyDue TO PUBLIC')).rejects.toThrow('database "honeydue" does not exist');
        await expect(c.query('ALTER DATABASE honeyDue SET work_mem = 1024')).rejects.toThrow('database "honeydue" does not exist');
      });
      // A client given the lower-case name (as every tool that folds names does) cannot connect.
      const lower = await psql(libpqUrl(s.admin('honeydue')), 'SELECT 1;');
      expect(lower.code).toBe(2);
      expect(lower.stderr).toContain('database "honeydue" does not exist');
      // psql's own \connect with an unquoted name folds nothing: only the exact spelling works.
      const exact = await psql(libpqUrl(s.admin()), '\\connect honeyDue\nSELECT current_database();');
      expect(exact.stdout.trim().split('\n').pop()).toBe('honeyDue');
      await withPg(s.admin(), (c) => c.query('DROP DATABASE "honeyDue"'));
    },
    SERVER_TIMEOUT,
  );
});
