import fc from 'fast-check';
import { ValidationError } from '../../../src/core/errors';
import {
  IdentifierKind,
  MAX_IDENTIFIER_BYTES,
  RESERVED_KEYWORDS,
  RESERVED_NAMES,
  RESERVED_PREFIXES,
  identifierProblem,
  quoteIdent,
  quoteLiteral,
  validateIdentifier,
} from '../../../src/core/identifiers';
import { expectFieldError } from './helpers';

const KINDS = [IdentifierKind.Role, IdentifierKind.Database];

describe('validateIdentifier accepts plain lower-case names', () => {
  test.each([
    'vw_blog',
    'vw_admin',
    'vibewarden',
    'neondb',
    '_private',
    'a',
    'app1',
    'a1_b2_c3',
    'pg', // only "pg_" is a reserved prefix
    'users', // "user" is reserved, "users" is not
    'a'.repeat(MAX_IDENTIFIER_BYTES),
  ])('%s is accepted and returned unchanged for roles and databases', (name) => {
    for (const kind of KINDS) {
      expect(validateIdentifier(name, kind, 'instances[0].database')).toBe(name);
      expect(identifierProblem(name, kind)).toBeUndefined();
    }
  });
});

describe('validateIdentifier rejects each category with the field in the error', () => {
  test('an empty name is rejected as empty, naming the field and the kind', () => {
    expectFieldError(() => validateIdentifier('', IdentifierKind.Database, 'instances[2].database'), 'instances[2].database', 'database name is empty');
    expectFieldError(() => validateIdentifier('', IdentifierKind.Role, 'adminUser'), 'adminUser', 'role name is empty');
  });

  test('a 64-byte ASCII name is rejected because Postgres truncates names to 63 bytes', () => {
    expectFieldError(
      () => validateIdentifier('a'.repeat(64), IdentifierKind.Role, 'role'),
      'role',
      '64 bytes',
      'truncates names to 63 bytes',
      'Shorten it to at most 63 bytes',
    );
  });

  test('length is counted in UTF-8 bytes, not characters: 32 × "é" (32 chars, 64 bytes) is too long', () => {
    const name = 'é'.repeat(32);
    expect(name.length).toBe(32);
    expectFieldError(() => validateIdentifier(name, IdentifierKind.Database, 'db'), 'db', 'is 64 bytes long');
  });

  test('a 3-byte character pushes a 61-char name over 63 bytes', () => {
    const name = 'a'.repeat(61) + '€'; // 61 + 3 = 64 bytes, 62 chars
    expectFieldError(() => validateIdentifier(name, IdentifierKind.Database, 'db'), 'db', 'is 64 bytes long');
  });

  test('"honeyDue" (seed 003) is rejected: the message says unquoted SQL means "honeydue" and suggests it', () => {
    const e = expectFieldError(
      () => validateIdentifier('honeyDue', IdentifierKind.Database, 'instances[0].database'),
      'instances[0].database',
      'upper-case',
      'without double quotes means "honeydue"',
      'Use "honeydue"',
    );
    expect(e.fix).toContain('"honeydue"');
  });

  test.each(['VW_BLOG', 'Blog', 'vwBlog', 'vw_Admin'])('upper-case %s is rejected with a lower-case suggestion', (name) => {
    expectFieldError(() => validateIdentifier(name, IdentifierKind.Role, 'role'), 'role', 'upper-case', `Use "${name.toLowerCase()}"`);
  });

  test.each([
    ['hyphen', 'vw-blog'],
    ['space', 'vw blog'],
    ['double quote', 'vw"blog'],
    ['single quote', "vw'blog"],
    ['dollar', 'vw$blog'],
    ['dot', 'vw.blog'],
    ['semicolon', 'vw;drop'],
    ['non-ASCII letter', 'café'],
    ['leading digit', '1blog'],
    ['only digits', '123'],
    ['NUL', 'vw\0blog'],
    ['newline', 'vw\nblog'],
  ])('a name with a %s (%j) is rejected as not a plain SQL identifier', (_what, name) => {
    expectFieldError(() => validateIdentifier(name, IdentifierKind.Database, 'instances[1].database'), 'instances[1].database', 'not a plain SQL identifier');
  });

  test.each(['user', 'select', 'table', 'all', 'grant', 'from', 'where', 'order', 'group', 'current_user', 'session_user', 'left', 'join', 'verbose'])(
    'reserved key word %s is rejected as a key word',
    (word) => {
      for (const kind of KINDS) {
        expectFieldError(() => validateIdentifier(word, kind, 'role'), 'role', 'reserved SQL key word', `"${word}_db"`);
      }
    },
  );

  test.each([
    'postgres',
    'template0',
    'template1',
    'public',
    'none',
    'information_schema',
    'rdsadmin',
    'rdsrepladmin',
    'neon_superuser',
    'cloud_admin',
    'neondb_owner',
    'authenticator',
    'anon',
    'authenticated',
    'service_role',
    'pgbouncer',
    'azuresu',
    'alloydbadmin',
    'replication',
    'sameuser',
    'samerole',
  ])('reserved name %s is rejected as owned by Postgres or a managed service', (name) => {
    for (const kind of KINDS) {
      expectFieldError(() => validateIdentifier(name, kind, 'db'), 'db', 'reserved by PostgreSQL or a managed service');
    }
  });

  test.each([
    ['pg_', 'pg_monitor'],
    ['pg_', 'pg_app'],
    ['rds_', 'rds_superuser'],
    ['supabase_', 'supabase_admin'],
    ['azure_', 'azure_pg_admin'],
    ['cloudsql', 'cloudsqlsuperuser'],
    ['cloudsql', 'cloudsql_app'],
  ])('a name with reserved prefix %s (%s) is rejected naming the prefix', (prefix, name) => {
    for (const kind of KINDS) {
      expectFieldError(() => validateIdentifier(name, kind, 'role'), 'role', `starting with "${prefix}"`);
    }
  });

  test('the reserved lists contain the documented entries', () => {
    for (const k of ['user', 'select', 'table']) expect(RESERVED_KEYWORDS.has(k)).toBe(true);
    for (const n of ['postgres', 'template0', 'template1', 'public', 'rdsadmin', 'neon_superuser', 'authenticator']) {
      expect(RESERVED_NAMES.has(n)).toBe(true);
    }
    expect([...RESERVED_PREFIXES].sort()).toEqual(['azure_', 'cloudsql', 'pg_', 'rds_', 'supabase_'].sort());
  });
});

describe('identifier properties', () => {
  const UNQUOTED = /^[a-z_][a-z0-9_]*$/;
  const candidates = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 70 }),
    fc.string({ unit: 'grapheme-ascii', maxLength: 70 }),
    fc.stringMatching(/^[a-z_][a-z0-9_]{0,70}$/),
    fc.constantFrom(...RESERVED_KEYWORDS, ...RESERVED_NAMES),
    fc.tuple(fc.constantFrom(...RESERVED_PREFIXES), fc.stringMatching(/^[a-z0-9_]{0,10}$/)).map(([p, s]) => p + s),
  );

  test('any accepted name matches ^[a-z_][a-z0-9_]*$, is at most 63 bytes and is not reserved', () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(candidates, fc.constantFrom(...KINDS), (name, kind) => {
        let ok = true;
        try {
          expect(validateIdentifier(name, kind, 'f')).toBe(name);
        } catch (e) {
          expect(e).toBeInstanceOf(ValidationError);
          expect((e as ValidationError).field).toBe('f');
          ok = false;
        }
        if (ok) {
          accepted++;
          expect(name).toMatch(UNQUOTED);
          expect(Buffer.byteLength(name, 'utf8')).toBeLessThanOrEqual(63);
          expect(RESERVED_KEYWORDS.has(name)).toBe(false);
          expect(RESERVED_NAMES.has(name)).toBe(false);
          expect(RESERVED_PREFIXES.some((p) => name.startsWith(p))).toBe(false);
        } else {
          rejected++;
        }
      }),
      { numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });

  test('any string containing an upper-case ASCII letter is rejected', () => {
    const upper = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ');
    const withUpper = fc
      .tuple(fc.oneof(fc.stringMatching(/^[a-z_][a-z0-9_]{0,20}$/), fc.string({ unit: 'binary', maxLength: 20 })), upper, fc.stringMatching(/^[a-z0-9_]{0,20}$/))
      .map(([a, u, b]) => a + u + b);
    fc.assert(
      fc.property(withUpper, fc.constantFrom(...KINDS), (name, kind) => {
        expect(identifierProblem(name, kind)).toBeDefined();
        expect(() => validateIdentifier(name, kind, 'f')).toThrow(ValidationError);
      }),
      { numRuns: 500 },
    );
  });
});

describe('quoteIdent and quoteLiteral', () => {
  test.each([
    ['vw_blog', '"vw_blog"'],
    ['honeyDue', '"honeyDue"'],
    ['a"b', '"a""b"'],
    ['""', '""""""'],
    ["it's", '"it\'s"'],
    ['', '""'],
  ])('quoteIdent(%j) is %s (double quotes doubled)', (input, expected) => {
    expect(quoteIdent(input)).toBe(expected);
  });

  test.each([
    ["it's", "'it''s'"],
    ["''", "''''''"],
    ['a\\b', "'a\\b'"], // backslash stays literal (standard_conforming_strings = on)
    ['plain', "'plain'"],
    ['SCRAM-SHA-256$4096:abc$def:ghi', "'SCRAM-SHA-256$4096:abc$def:ghi'"],
  ])('quoteLiteral(%j) is %s (single quotes doubled)', (input, expected) => {
    expect(quoteLiteral(input)).toBe(expected);
  });

  test('quoteIdent rejects a NUL byte with field "identifier"', () => {
    expectFieldError(() => quoteIdent('a\0b'), 'identifier', 'NUL');
  });

  test('quoteLiteral rejects a NUL byte with field "literal"', () => {
    expectFieldError(() => quoteLiteral('a\0b'), 'literal', 'NUL');
  });

  test('quoting is reversible: stripping the outer quotes and un-doubling gives the input back', () => {
    const noNul = fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(noNul, (s) => {
        const qi = quoteIdent(s);
        expect(qi.startsWith('"') && qi.endsWith('"')).toBe(true);
        const innerI = qi.slice(1, -1);
        expect(innerI.replace(/""/g, '')).not.toContain('"');
        expect(innerI.replace(/""/g, '"')).toBe(s);
        const ql = quoteLiteral(s);
        const innerL = ql.slice(1, -1);
        expect(innerL.replace(/''/g, '')).not.toContain("'");
        expect(innerL.replace(/''/g, "'")).toBe(s);
      }),
      { numRuns: 500 },
    );
  });
});
