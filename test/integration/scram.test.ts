/**
 * SCRAM-SHA-256 verifiers computed by src/core/scram.ts against a real
 * server and the real libpq client (PostgreSQL 14 and 18).
 *
 * Proves:
 * - a role created as the bootstrap creates it (CREATE ROLE … PASSWORD
 *   '<verifier>') stores exactly the verifier we computed in
 *   pg_authid.rolpassword (SCRAM-SHA-256$4096:…); neither it nor the rendered
 *   bootstrap script contains the plain password (bootstrap.test.ts checks
 *   the verifiers of bootstrap-created roles too);
 * - psql logs in with the plain password, for ASCII and non-ASCII passwords
 *   (umlauts, fullwidth letters, emoji, a no-break space, a soft hyphen, a
 *   ligature) — i.e. our SASLprep matches libpq's and the server's;
 * - strings SASLprep maps to the same prepared password log in too (the
 *   fullwidth "ｐａｓｓｗｏｒｄ" as "password", decomposed umlauts, NBSP as
 *   space, soft hyphen dropped, "ﬁ" as "fi"), and our verifier for them is
 *   byte-identical under the same salt;
 * - passwords SASLprep prohibits (a control character, mixed right-to-left
 *   and left-to-right text) fall back to their raw bytes on both sides, as
 *   PostgreSQL's pg_saslprep does;
 * - a wrong password is refused ("password authentication failed"), and on
 *   16+ the session's system_user shows the scram-sha-256 method;
 * - oracle: for each password our verifier equals the one the server itself
 *   computes from the plain password (ALTER ROLE … PASSWORD '<plain>') when
 *   given the same salt.
 *
 * Passwords with code points unassigned in Unicode 3.2 (e.g. emoji) are not
 * SASLprep-normalized: PostgreSQL's pg_saslprep treats them as prohibited and
 * falls back to the raw bytes, and scram.ts does the same.
 */
import { libpqUrl, percentEncode } from '../../src/core/dsn';
import { planServer } from '../../src/core/plan';
import { renderBootstrapSql } from '../../src/core/render-sql';
import { quoteIdent, quoteLiteral } from '../../src/core/identifiers';
import { isScramVerifier, newScramSalt, scramSha256Verifier, verifyScramPassword } from '../../src/core/scram';
import { catalogSnapshot, withPg } from '../../lab/inspect';
import { psql, psqlOk } from '../../lab/psql';
import { SERVER_TIMEOUT, asLogin, describeFailure, roleNames, useLabServer } from './support';

interface Case {
  /** Instance name (role sc_<name>). */
  name: string;
  password: string;
  /** Other strings that must log in too (same SASLprep result). */
  equivalents: string[];
  /** A near miss that must be refused. */
  wrong: string;
}

const CASES: Case[] = [
  { name: 'ascii', password: "Plain-ASCII pw'1", equivalents: [], wrong: "plain-ascii pw'1" },
  { name: 'umlaut', password: 'pässwörd-ü', equivalents: ['pa\u0308sswo\u0308rd-u\u0308'], wrong: 'passwort-u' },
  { name: 'fullwidth', password: 'ｐａｓｓｗｏｒｄ', equivalents: ['password'], wrong: 'passwore' },
  // Emoji are unassigned in Unicode 3.2: PostgreSQL uses the raw bytes, so the decomposed é is another password.
  { name: 'emoji', password: '🔐-cl\u00e9-🦄', equivalents: [], wrong: '🔐-cle\u0301-🦄' },
  { name: 'nbsp', password: 'correct\u00a0horse', equivalents: ['correct horse'], wrong: 'correcthorse' },
  { name: 'soft_hyphen', password: 'x\u00ady-ü', equivalents: ['xy-ü'], wrong: 'x-y-ü' },
  { name: 'ligature', password: '\ufb01-ligature', equivalents: ['fi-ligature'], wrong: 'f-ligature' },
  // SASLprep prohibits these: both sides use the raw UTF-8 bytes.
  { name: 'control', password: 'ü\u0007bell', equivalents: [], wrong: 'übell' },
  { name: 'bidi', password: 'שלום-abc', equivalents: [], wrong: 'שלום-abd' },
];

/** Passwords PostgreSQL prepares as raw bytes (unassigned code point) that scram.ts normalizes: the bug. */
const UNASSIGNED_CASES: Case[] = [
  { name: 'emoji_fullwidth', password: 'ｐａｓｓ-🔑', equivalents: [], wrong: 'pass-🔑' },
  { name: 'emoji_decomposed', password: '🔐-cle\u0301-🦄', equivalents: [], wrong: '🔐-cl\u00e9-🦄' },
  { name: 'emoji_nbsp', password: 'correct\u00a0horse🐴', equivalents: [], wrong: 'correct horse🐴' },
];
const ALL_CASES = [...CASES, ...UNASSIGNED_CASES];

const plans = planServer(
  ALL_CASES.map((c) => ({ name: c.name.replace(/_/g, '-') })),
  { maxConnections: 1000, reservedConnections: 3 },
  { namePrefix: 'sc_' },
).instances;
const salts = Object.fromEntries(ALL_CASES.map((c) => [c.name, newScramSalt()]));
const role = (c: Case): string => `sc_${c.name}`;
const verifiers = Object.fromEntries(ALL_CASES.map((c) => [role(c), scramSha256Verifier(c.password, salts[c.name] as string)]));

describe('verifiers of SASLprep-equivalent passwords (no server)', () => {
  test.each(CASES.filter((c) => c.equivalents.length > 0))('$name: equivalents give the identical verifier', (c) => {
    const salt = salts[c.name] as string;
    for (const e of c.equivalents) expect(scramSha256Verifier(e, salt)).toBe(verifiers[role(c)]);
    expect(scramSha256Verifier(c.wrong, salt)).not.toBe(verifiers[role(c)]);
  });
});

// SCRAM and SASLprep are the same code in every supported major (src/common): the oldest and the newest suffice.
describe.each([14, 18] as const)('SCRAM on PostgreSQL %i', (version) => {
  const server = useLabServer(
    () => ({ version }),
    async (s) => {
      // The roles as the bootstrap creates them (CREATE ROLE … PASSWORD '<verifier>'), without
      // their databases (CREATE DATABASE costs ~0.4 s each here); they log into "postgres".
      await psqlOk(
        libpqUrl(s.admin()),
        ALL_CASES.map((c) => `CREATE ROLE ${quoteIdent(role(c))} LOGIN PASSWORD ${quoteLiteral(verifiers[role(c)] as string)};`).join('\n'),
      );
    },
  );

  test(
    'pg_authid holds exactly our verifiers and no plain password appears anywhere',
    async () => {
      const snap = await catalogSnapshot(server().admin(), { roles: roleNames(plans), databases: [] });
      const script = renderBootstrapSql(plans, { verifiers });
      for (const c of ALL_CASES) {
        const stored = snap.roles[role(c)]?.rolpassword;
        expect(stored).toBe(verifiers[role(c)]);
        expect(stored).toMatch(/^SCRAM-SHA-256\$4096:/);
        expect(isScramVerifier(stored as string)).toBe(true);
        expect(verifyScramPassword(c.password, stored as string)).toBe(true);
        expect(stored).not.toContain(c.password);
        expect(script).not.toContain(c.password);
        expect(script).not.toContain(percentEncode(c.password));
      }
    },
    SERVER_TIMEOUT,
  );

  test.each(CASES)(
    '$name: psql logs in with the password and its SASLprep equivalents, not with a near miss',
    async (c) => {
      const s = server();
      const db = role(c);
      for (const candidate of [c.password, ...c.equivalents]) {
        const r = await asLogin(s, 'postgres', db, candidate, 'SELECT current_user;');
        expect({ candidate, result: describeFailure(r) }).toEqual({ candidate, result: 'exit 0: ' });
        expect(r.stdout.trim()).toBe(db);
      }
      const wrong = await asLogin(s, 'postgres', db, c.wrong, 'SELECT 1;');
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain(`password authentication failed for user "${db}"`);
    },
    SERVER_TIMEOUT,
  );

  /** Whether our verifier equals the server's own for the same plain password and salt. */
  const oracle = async (cases: Case[]): Promise<Array<{ name: string; same: boolean }>> =>
    withPg(server().admin(), async (client) => {
      await client.query('CREATE ROLE sc_oracle NOLOGIN');
      try {
        const out: Array<{ name: string; same: boolean }> = [];
        for (const c of cases) {
          await client.query(`SET password_encryption = 'scram-sha-256'; ALTER ROLE sc_oracle PASSWORD ${quoteLiteral(c.password)}`);
          const theirs = (await client.query("SELECT rolpassword FROM pg_authid WHERE rolname = 'sc_oracle'")).rows[0]?.rolpassword as string;
          const salt = /^SCRAM-SHA-256\$4096:([^$]+)\$/.exec(theirs)?.[1] as string;
          out.push({ name: c.name, same: scramSha256Verifier(c.password, salt) === theirs });
        }
        return out;
      } finally {
        await client.query('DROP ROLE sc_oracle');
      }
    });

  test(
    'oracle: our verifier equals the server\'s own for the same plain password and salt',
    async () => {
      expect(await oracle(CASES)).toEqual(CASES.map((c) => ({ name: c.name, same: true })));
    },
    SERVER_TIMEOUT,
  );

  // PostgreSQL treats unassigned code points as prohibited and uses the raw bytes; so does scram.ts.
  test(
    'oracle: the same holds for passwords with unassigned code points (emoji) that SASLprep would change',
    async () => {
      expect(await oracle(UNASSIGNED_CASES)).toEqual(UNASSIGNED_CASES.map((c) => ({ name: c.name, same: true })));
    },
    SERVER_TIMEOUT,
  );

  for (const c of UNASSIGNED_CASES) {
    test(
      `${c.name}: psql logs in with the plain password (unassigned code points: SASLprep is skipped, as in pg_saslprep)`,
      async () => {
        const db = role(c);
        const r = await asLogin(server(), 'postgres', db, c.password, 'SELECT current_user;');
        expect(describeFailure(r)).toBe('exit 0: ');
      },
      SERVER_TIMEOUT,
    );
  }

  if (version >= 16) {
    test(
      'the session authenticated with scram-sha-256 (system_user)',
      async () => {
        const r = await psql(libpqUrl({ ...server().admin(), user: 'sc_umlaut', password: 'pässwörd-ü' }), 'SELECT system_user;');
        expect(describeFailure(r)).toBe('exit 0: ');
        expect(r.stdout.trim()).toBe('scram-sha-256:sc_umlaut');
      },
      SERVER_TIMEOUT,
    );
  }
});
