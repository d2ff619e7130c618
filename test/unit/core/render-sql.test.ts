import { InstancePlan, RoleShape, planInstance, planServer } from '../../../src/core/plan';
import { CHANGE_NOTICE_PREFIX, renderBootstrapSql, renderInstanceSql } from '../../../src/core/render-sql';
import { scramSha256Verifier } from '../../../src/core/scram';
import { expectFieldError } from './helpers';

const CAPACITY = { maxConnections: 100, reservedConnections: 3 };
const SALT = 'c2FsdHNhbHRzYWx0c2FsdA==';

// Known plain passwords, deliberately including SQL and psql meta characters.
const PASSWORDS: Record<string, string> = {
  vw_blog: "Blog-Secret-Passw0rd!'; DROP ROLE x; --",
  vw_x: 'X-App-Secret\\gexec $ps_bootstrap$',
  vw_x_ro: 'X-ReadOnly-Secret "quoted" :variable',
};
const VERIFIERS: Record<string, string> = Object.fromEntries(Object.entries(PASSWORDS).map(([role, pw]) => [role, scramSha256Verifier(pw, SALT)]));

const plans = planServer([{ name: 'blog' }, { name: 'x', shape: RoleShape.LeastPrivilege }], CAPACITY, { namePrefix: 'vw_' }).instances;
const script = renderBootstrapSql(plans, { verifiers: VERIFIERS });
const blogPlan = plans[0]!;
const xPlan = plans[1]!;

/** The lines of the script between the comment of one instance and the next. */
function section(text: string, instance: string): string {
  const start = text.indexOf(`-- instance ${instance}:`);
  const next = text.indexOf('-- instance ', start + 1);
  return text.slice(start, next < 0 ? undefined : next);
}

describe('renderBootstrapSql: passwords', () => {
  test('no plain password appears anywhere in the script, not even a fragment', () => {
    for (const pw of Object.values(PASSWORDS)) {
      expect(script).not.toContain(pw);
    }
    for (const fragment of ['Blog-Secret', 'X-App-Secret', 'X-ReadOnly-Secret']) expect(script).not.toContain(fragment);
  });

  test('each login role gets exactly its verifier in CREATE ROLE', () => {
    expect(script).toContain(
      `CREATE ROLE "vw_blog" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT CONNECTION LIMIT 20 PASSWORD '${VERIFIERS['vw_blog']}';`,
    );
    expect(script).toContain(`CREATE ROLE "vw_x" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT CONNECTION LIMIT 20 PASSWORD '${VERIFIERS['vw_x']}';`);
    expect(script).toContain(`CREATE ROLE "vw_x_ro" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT CONNECTION LIMIT 2 PASSWORD '${VERIFIERS['vw_x_ro']}';`);
  });

  test('the NOLOGIN owner gets no password and needs no verifier', () => {
    expect(script).toContain('CREATE ROLE "vw_x_owner" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT CONNECTION LIMIT -1;');
    expect(VERIFIERS).not.toHaveProperty('vw_x_owner');
    expect(script).not.toMatch(/ALTER ROLE "vw_x_owner" PASSWORD/);
  });

  test('a plain password given as verifier is refused naming verifiers.<role>', () => {
    expectFieldError(
      () => renderBootstrapSql([blogPlan], { verifiers: { vw_blog: PASSWORDS['vw_blog']! } }),
      'verifiers.vw_blog',
      'not a SCRAM-SHA-256 verifier',
    );
  });

  test('a missing verifier for a login role is refused naming verifiers.<role>', () => {
    expectFieldError(() => renderBootstrapSql([blogPlan], { verifiers: {} }), 'verifiers.vw_blog', 'no password verifier');
    expectFieldError(
      () => renderBootstrapSql([xPlan], { verifiers: { vw_x: VERIFIERS['vw_x']! } }),
      'verifiers.vw_x_ro',
      'no password verifier',
    );
  });

  test('a verifier with SQL appended is refused', () => {
    expectFieldError(() => renderBootstrapSql([blogPlan], { verifiers: { vw_blog: `${VERIFIERS['vw_blog']}'; DROP ROLE postgres; --` } }), 'verifiers.vw_blog');
  });
});

describe('renderBootstrapSql: script structure', () => {
  test('the header stops on error, sets standard_conforming_strings and remembers the admin database', () => {
    const lines = script.split('\n');
    expect(lines[0]).toBe('-- postgres-strategies bootstrap: 2 app instance(s): blog, x');
    expect(lines).toContain('\\set ON_ERROR_STOP on');
    expect(lines).toContain('SET standard_conforming_strings = on;');
    expect(lines).toContain('SELECT current_database() AS ps_admin_database \\gset');
    expect(lines.indexOf('\\set ON_ERROR_STOP on')).toBeLessThan(lines.findIndex((l) => l.startsWith('DO ')));
  });

  test('PUBLIC loses CONNECT, TEMPORARY and CREATE on the database', () => {
    for (const priv of ['CONNECT', 'TEMPORARY', 'CREATE']) {
      expect(script).toContain(`REVOKE ${priv} ON DATABASE "vw_blog" FROM PUBLIC;`);
      expect(script).toContain(`REVOKE ${priv} ON DATABASE "vw_x" FROM PUBLIC;`);
    }
  });

  test('CREATE DATABASE is generated with \\gexec (it cannot run in a DO block) and only when missing', () => {
    const line = script.split('\n').find((l) => l.includes('CREATE DATABASE "vw_blog"'));
    expect(line).toBe(
      `SELECT 'CREATE DATABASE "vw_blog" OWNER "vw_blog"' WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = 'vw_blog') \\gexec`,
    );
    expect(script).toContain(
      `SELECT 'CREATE DATABASE "vw_x" OWNER "vw_x_owner"' WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = 'vw_x') \\gexec`,
    );
    expect(script).not.toMatch(/^\s*CREATE DATABASE/m);
  });

  test('roles are created before their database, the owner first', () => {
    const x = section(script, 'x');
    const owner = x.indexOf('CREATE ROLE "vw_x_owner"');
    const app = x.indexOf('CREATE ROLE "vw_x"');
    const ro = x.indexOf('CREATE ROLE "vw_x_ro"');
    const db = x.indexOf('CREATE DATABASE "vw_x"');
    expect(owner).toBeGreaterThanOrEqual(0);
    expect(owner).toBeLessThan(app);
    expect(app).toBeLessThan(ro);
    expect(ro).toBeLessThan(db);
  });

  test('the owner shape needs no \\connect; the least-privilege shape connects into its database and back', () => {
    const blog = section(script, 'blog');
    const x = section(script, 'x');
    expect(blog).not.toContain('\\connect');
    expect(x).toContain('\n\\connect "vw_x"\n');
    expect(x.trimEnd().endsWith('\\connect :"ps_admin_database"')).toBe(true);
    expect(x.indexOf('\\connect "vw_x"')).toBeLessThan(x.indexOf('ALTER DEFAULT PRIVILEGES'));
  });

  test('least-privilege default privileges are set FOR ROLE "vw_x_owner" for the app and read-only roles', () => {
    expect(script).toContain('ALTER DEFAULT PRIVILEGES FOR ROLE "vw_x_owner" IN SCHEMA "public" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "vw_x";');
    expect(script).toContain('ALTER DEFAULT PRIVILEGES FOR ROLE "vw_x_owner" IN SCHEMA "public" GRANT SELECT, USAGE ON SEQUENCES TO "vw_x";');
    expect(script).toContain('ALTER DEFAULT PRIVILEGES FOR ROLE "vw_x_owner" IN SCHEMA "public" GRANT SELECT ON TABLES TO "vw_x_ro";');
    expect(script).toContain('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "public" TO "vw_x";');
  });

  test('least-privilege database grants: app CONNECT+TEMPORARY, read-only CONNECT only', () => {
    expect(script).toContain('GRANT CONNECT ON DATABASE "vw_x" TO "vw_x";');
    expect(script).toContain('GRANT TEMPORARY ON DATABASE "vw_x" TO "vw_x";');
    expect(script).toContain('GRANT CONNECT ON DATABASE "vw_x" TO "vw_x_ro";');
    expect(script).toContain('REVOKE TEMPORARY ON DATABASE "vw_x" FROM "vw_x_ro";');
    expect(script).not.toMatch(/GRANT CREATE ON DATABASE/);
    // as a statement (the other occurrence is the hint inside the PostgreSQL-14 warning)
    expect(script.match(/^ +GRANT CREATE ON SCHEMA "public" TO "[a-z_]+";$/gm)?.map((l) => l.trim())).toEqual(['GRANT CREATE ON SCHEMA "public" TO "vw_x_owner";']);
  });

  test('every DO block is opened and closed with the same dollar-quote tag', () => {
    const opened = script.match(/^DO \$ps_bootstrap\$$/gm) ?? [];
    const closed = script.match(/^\$ps_bootstrap\$;$/gm) ?? [];
    expect(opened.length).toBeGreaterThan(0);
    expect(closed.length).toBe(opened.length);
    expect(script.match(/\$ps_bootstrap\$/g)).toHaveLength(opened.length * 2);
  });

  test('every change is reported with a NOTICE carrying the change prefix', () => {
    expect(CHANGE_NOTICE_PREFIX).toBe('postgres-strategies:');
    expect(script).toContain(`RAISE NOTICE '%', 'postgres-strategies: created role vw_blog';`);
    expect(script).toContain(`RAISE NOTICE '%', 'postgres-strategies: revoked CONNECT on database vw_blog from PUBLIC';`);
  });

  test('rendering is deterministic', () => {
    expect(renderBootstrapSql(plans, { verifiers: VERIFIERS })).toBe(script);
  });

  test('the whole script is the header plus each instance\'s script', () => {
    for (const p of plans) expect(script).toContain(renderInstanceSql(p, { verifiers: VERIFIERS }));
  });
});

describe('renderInstanceSql: quoting of names it is given', () => {
  // Plans are data; build one with names the validator would refuse, to check
  // that the renderer still quotes instead of trusting them.
  function crafted(database: string, owner: string): InstancePlan {
    const p = planInstance({ name: 'q' }, 'vw_');
    const role = { ...p.owner, name: owner };
    return { ...p, database, owner: role, login: role, roles: [role] };
  }

  test('double quotes in identifiers are doubled and single quotes in literals are doubled', () => {
    const sql = renderInstanceSql(crafted('we"ird\'db', 'o"wn\'er'), { verifiers: { 'o"wn\'er': VERIFIERS['vw_blog']! } });
    expect(sql).toContain('CREATE ROLE "o""wn\'er" LOGIN');
    expect(sql).toContain("WHERE rolname = 'o\"wn''er'");
    expect(sql).toContain('REVOKE CONNECT ON DATABASE "we""ird\'db" FROM PUBLIC;');
    expect(sql).toContain(`SELECT 'CREATE DATABASE "we""ird''db" OWNER "o""wn''er"' WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = 'we"ird''db') \\gexec`);
  });

  test('a value containing the dollar-quote tag is refused naming "bootstrap"', () => {
    expectFieldError(
      () => renderInstanceSql(crafted('db$ps_bootstrap$', 'vw_q'), { verifiers: { vw_q: VERIFIERS['vw_blog']! } }),
      'bootstrap',
      'quote tag',
    );
  });
});

describe('renderBootstrapSql: the admin keeps its membership in each owner role (as InstanceDatabase\'s GrantRole)', () => {
  test('every instance, both shapes: granted before CREATE DATABASE, for a non-superuser admin only, never revoked', () => {
    for (const [plan, owner] of [
      [blogPlan, 'vw_blog'],
      [xPlan, 'vw_x_owner'],
    ] as const) {
      const sql = section(script, plan.instance);
      const grant = sql.indexOf(`GRANT "${owner}" TO CURRENT_USER WITH INHERIT TRUE, SET TRUE`);
      expect(grant).toBeGreaterThan(0);
      expect(sql).toContain(`GRANT "${owner}" TO CURRENT_USER'`); // before PostgreSQL 16
      expect(grant).toBeLessThan(sql.indexOf('CREATE DATABASE'));
      expect(sql.slice(0, grant)).toContain('IF NOT admin_is_superuser THEN');
      expect(sql).not.toMatch(new RegExp(`REVOKE "${owner}" FROM`));
    }
  });
});

describe('renderBootstrapSql: alternating logins (issue 23)', () => {
  const rotating = planInstance({ name: 'blog', loginRotation: { enabled: true } }, 'vw_');
  const at = (counter: number, revokedBelow = -1) => ({ counter, revokedBelow, rotatedAt: '2026-05-01T10:00:00.000Z', rotation: counter, revocation: 0 });
  const verifier = (role: string): string => scramSha256Verifier(`pw-${role}`, SALT);

  test('rotation 0: the base keeps LOGIN and its verifier, slot a logs in, slot b is NOLOGIN without one; the slots join the base and switch to it', () => {
    const sql = renderBootstrapSql([rotating], { verifiers: { vw_blog: verifier('vw_blog'), vw_blog_a: verifier('vw_blog_a') } });
    expect(sql).toContain(`CREATE ROLE "vw_blog" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT CONNECTION LIMIT 20 PASSWORD '${verifier('vw_blog')}';`);
    expect(sql).toContain(`CREATE ROLE "vw_blog_a" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT CONNECTION LIMIT 20 PASSWORD '${verifier('vw_blog_a')}';`);
    expect(sql).toContain('CREATE ROLE "vw_blog_b" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT CONNECTION LIMIT 20;');
    expect(sql).toContain(`EXECUTE 'GRANT "vw_blog" TO "vw_blog_a" WITH INHERIT TRUE, SET TRUE';`);
    expect(sql).toContain(`ALTER ROLE "vw_blog_b" SET role TO 'vw_blog';`);
    expect(sql).toContain('-- alternating logins: rotation 0, current vw_blog_a, previous vw_blog');
    expect(sql).not.toContain('pg_terminate_backend');
  });

  test('rotation 1: the base is NOLOGIN with its password removed; a verifier is required only for the logins that log in', () => {
    const sql = renderBootstrapSql([rotating], { verifiers: { vw_blog_a: verifier('vw_blog_a'), vw_blog_b: verifier('vw_blog_b') }, rotations: { blog: at(1) } });
    expect(sql).toContain('CREATE ROLE "vw_blog" NOLOGIN');
    expect(section(sql, 'blog')).toMatch(/IF NOT admin_is_superuser THEN\n\s+ALTER ROLE "vw_blog" PASSWORD NULL;/);
    expect(sql).not.toContain(verifier('vw_blog'));
    expectFieldError(() => renderBootstrapSql([rotating], { verifiers: { vw_blog_a: verifier('vw_blog_a') }, rotations: { blog: at(1) } }), 'verifiers.vw_blog_b', 'no password verifier');
  });

  test('an emergency revocation, while it is the last rotation, terminates the revoked logins\' sessions and the current login\'s older ones, in a loop', () => {
    const sql = renderBootstrapSql([rotating], { verifiers: { vw_blog_b: verifier('vw_blog_b') }, rotations: { blog: at(3, 3) } });
    expect(sql).toContain(
      `FOR p IN SELECT a.pid FROM pg_catalog.pg_stat_activity a WHERE (a.usename IN ('vw_blog', 'vw_blog_a') OR (a.usename = 'vw_blog_b' AND a.backend_start < '2026-05-01T10:00:00.000Z'::timestamptz)) AND a.pid <> pg_catalog.pg_backend_pid() LOOP`,
    );
    expect(sql).not.toMatch(/WHERE[^\n]*AND pg_catalog\.pg_terminate_backend/);
    // the next rotation does not cut again
    expect(renderBootstrapSql([rotating], { verifiers: { vw_blog_a: verifier('vw_blog_a'), vw_blog_b: verifier('vw_blog_b') }, rotations: { blog: at(4, 3) } })).not.toContain('pg_terminate_backend');
  });
});
