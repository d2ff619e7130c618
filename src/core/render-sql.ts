/**
 * Renders a server plan as an idempotent psql bootstrap script.
 *
 * - Idempotent: every change is guarded by a catalog check, so running the
 *   script again changes nothing (each change it does make is reported as a
 *   `NOTICE:  postgres-strategies: …` line).
 * - Runs as a superuser, or as an admin with CREATEDB and CREATEROLE, which
 *   is how the RDS master user, Neon's `neondb_owner` and Supabase's
 *   `postgres` are. A non-superuser must be able to `SET ROLE` to a database's
 *   owner to create it (PostgreSQL 16+; membership before 16): the script
 *   grants the admin membership in each owner role it manages
 *   (`WITH INHERIT TRUE, SET TRUE` on 16+) and keeps it: without it the
 *   admin could not even connect to the database once PUBLIC's CONNECT is
 *   revoked. The Pulumi path (`InstanceDatabase`) ends in the same state
 *   through a `GrantRole` (admin → owner), since `postgresql_database` revokes
 *   its own temporary grant. On 16+ the admin holds ADMIN OPTION on roles it
 *   created, so this adds no power it did not have.
 * - Passwords appear only as SCRAM-SHA-256 verifiers; a plain password is refused.
 * - Needs psql (it uses `\gexec` for CREATE DATABASE, which cannot run in a
 *   transaction block, and `\connect` for grants inside a database) — the
 *   same client the official postgres image runs init scripts with.
 *
 * As a non-superuser the current password of a role cannot be read, so the
 * verifier is written again on every run; the stored value stays the same.
 */
import { ValidationError } from './errors';
import { quoteIdent, quoteLiteral } from './identifiers';
import { DatabaseGrantPlan, InstancePlan, RolePlan, SchemaGrantPlan, SchemaObjectType } from './plan';
import { LoginStatus, RotatingRoles, RotationState, lastRotationRevoked, rotatingRoles, statusLogsIn } from './rotation';
import { isScramVerifier } from './scram';

/** Prefix of every NOTICE the script raises for a change it makes. */
export const CHANGE_NOTICE_PREFIX = 'postgres-strategies:';

/** Options of {@link renderBootstrapSql}. */
export interface BootstrapSqlOptions {
  /**
   * SCRAM-SHA-256 verifiers of every login role, by role name (of a rotating
   * instance: of the roles that log in at its rotation state).
   */
  verifiers: Record<string, string>;
  /**
   * The rotation state of each instance with alternating logins, by instance
   * name. @default for each, the state rotation starts in (counter 0: slot a
   * current, the base login previous, slot b unused)
   */
  rotations?: Record<string, RotationState>;
}

/** The state rotation starts in, when none is given (its time matters only after a revocation). */
const STARTING_ROTATION: RotationState = { counter: 0, revokedBelow: -1, rotatedAt: '1970-01-01T00:00:00.000Z', rotation: 0, revocation: 0 };

const TAG = '$ps_bootstrap$';
const DB_PRIVILEGES = ['CONNECT', 'TEMPORARY', 'CREATE'] as const;

function notice(text: string): string {
  return `RAISE NOTICE '%', ${quoteLiteral(`${CHANGE_NOTICE_PREFIX} ${text}`)};`;
}

function doBlock(lines: string[]): string {
  const body = lines.join('\n');
  if (body.includes(TAG)) throw new ValidationError('bootstrap', `a value contains the quote tag ${TAG}`, 'Change that value');
  return `DO ${TAG}\n${body}\n${TAG};`;
}

function verifierFor(role: RolePlan, options: BootstrapSqlOptions): string | undefined {
  if (!role.login) return undefined;
  const v = options.verifiers[role.name];
  if (v === undefined) {
    throw new ValidationError(`verifiers.${role.name}`, 'no password verifier is given for this login role', 'Pass its SCRAM-SHA-256 verifier (scramSha256Verifier)');
  }
  if (!isScramVerifier(v)) {
    throw new ValidationError(
      `verifiers.${role.name}`,
      'is not a SCRAM-SHA-256 verifier; plain passwords are never written into scripts',
      'Pass scramSha256Verifier(password, salt) instead of the password',
    );
  }
  return v;
}

/**
 * @param clearPassword remove the role's password (a rotating instance's
 *   login that no longer logs in): `PASSWORD NULL`, always as a non-superuser
 *   admin (who cannot read it), only when one is set as a superuser.
 */
function ensureRole(role: RolePlan, verifier: string | undefined, clearPassword = false): string[] {
  const name = quoteLiteral(role.name);
  const ident = quoteIdent(role.name);
  const login = role.login ? 'LOGIN' : 'NOLOGIN';
  const password = verifier !== undefined ? ` PASSWORD ${quoteLiteral(verifier)}` : '';
  const lines = [
    `  SELECT * INTO r FROM pg_catalog.pg_roles WHERE rolname = ${name};`,
    '  IF NOT FOUND THEN',
    `    CREATE ROLE ${ident} ${login} NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT CONNECTION LIMIT ${role.connectionLimit}${password};`,
    `    ${notice(`created role ${role.name}`)}`,
    '  ELSE',
    '    IF r.rolsuper THEN',
    `      RAISE EXCEPTION 'role % is a superuser; an app instance''s role must not be', ${name};`,
    '    END IF;',
    `    IF r.rolcanlogin IS DISTINCT FROM ${role.login} OR r.rolconnlimit <> ${role.connectionLimit} OR r.rolcreatedb OR r.rolcreaterole THEN`,
    `      ALTER ROLE ${ident} WITH ${login} NOCREATEDB NOCREATEROLE CONNECTION LIMIT ${role.connectionLimit};`,
    `      ${notice(`altered role ${role.name}`)}`,
    '    END IF;',
  ];
  if (verifier !== undefined) {
    lines.push(
      '    IF NOT admin_is_superuser THEN',
      `      ALTER ROLE ${ident} PASSWORD ${quoteLiteral(verifier)};`,
      `    ELSIF (SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = ${name}) IS DISTINCT FROM ${quoteLiteral(verifier)} THEN`,
      `      ALTER ROLE ${ident} PASSWORD ${quoteLiteral(verifier)};`,
      `      ${notice(`set the password of role ${role.name}`)}`,
      '    END IF;',
    );
  } else if (clearPassword) {
    lines.push(
      '    IF NOT admin_is_superuser THEN',
      `      ALTER ROLE ${ident} PASSWORD NULL;`,
      `    ELSIF (SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = ${name}) IS NOT NULL THEN`,
      `      ALTER ROLE ${ident} PASSWORD NULL;`,
      `      ${notice(`removed the password of role ${role.name}`)}`,
      '    END IF;',
    );
  }
  lines.push('  END IF;');
  return lines;
}

/**
 * A rotating login's membership in its base (INHERIT, and on PostgreSQL 16+
 * `SET TRUE` explicitly) and its switch to the base at login (`ALTER ROLE …
 * SET role`), so what it creates belongs to the base.
 */
function ensureLoginOfBase(login: string, base: string): string[] {
  const member = `m.roleid = ${regrole(base)}::oid AND m.member = ${regrole(login)}::oid`;
  const setting = `role=${base}`;
  return [
    "  IF current_setting('server_version_num')::int >= 160000 THEN",
    `    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m WHERE ${member} AND m.inherit_option AND m.set_option) THEN`,
    `      EXECUTE ${quoteLiteral(`GRANT ${quoteIdent(base)} TO ${quoteIdent(login)} WITH INHERIT TRUE, SET TRUE`)};`,
    `      ${notice(`granted role ${base} to ${login}`)}`,
    '    END IF;',
    `  ELSIF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m WHERE ${member}) THEN`,
    `    GRANT ${quoteIdent(base)} TO ${quoteIdent(login)};`,
    `    ${notice(`granted role ${base} to ${login}`)}`,
    '  END IF;',
    `  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles lr WHERE lr.rolname = ${quoteLiteral(login)} AND ${quoteLiteral(setting)} = ANY (lr.rolconfig)) THEN`,
    `    ALTER ROLE ${quoteIdent(login)} SET role TO ${quoteLiteral(base)};`,
    `    ${notice(`made ${login} switch to role ${base} at login`)}`,
    '  END IF;',
  ];
}

/** Sessions to terminate for an emergency revocation. */
export interface SessionCut {
  /** Every session of these roles is terminated. */
  roles: string[];
  /** And the sessions of this role (the new current login) that began before `before`. */
  current?: { role: string; before: string };
}

/**
 * A `DO` block that terminates the sessions of {@link SessionCut} (never its
 * own) and reports how many as a change NOTICE. An admin that may not
 * signal them (neither a member of the role nor of `pg_signal_backend`; a
 * CREATEROLE admin that is neither, e.g. on PostgreSQL 16+ where it holds
 * only ADMIN on the roles it created) grants itself the role for the moment
 * and revokes it again in the same transaction. Runs through psql or any
 * driver; the emergency revocation of both paths (bootstrap SQL and the
 * `LoginRevocation` resource) uses it.
 */
export function renderSessionCutSql(cut: SessionCut): string {
  const all = [...cut.roles, ...(cut.current ? [cut.current.role] : [])];
  const whom = [
    ...(cut.roles.length > 0 ? [`a.usename IN (${cut.roles.map(quoteLiteral).join(', ')})`] : []),
    ...(cut.current ? [`(a.usename = ${quoteLiteral(cut.current.role)} AND a.backend_start < ${quoteLiteral(cut.current.before)}::timestamptz)`] : []),
  ].join(' OR ');
  return doBlock([
    'DECLARE',
    '  n integer := 0;',
    '  p integer;',
    "  granted text[] := '{}';",
    '  g text;',
    'BEGIN',
    ...all.flatMap((role) => [
      `  IF NOT (pg_catalog.pg_has_role(current_user, ${quoteLiteral(role)}, 'USAGE') OR pg_catalog.pg_has_role(current_user, 'pg_signal_backend', 'USAGE')) THEN`,
      `    EXECUTE ${quoteLiteral(`GRANT ${quoteIdent(role)} TO CURRENT_USER`)};`,
      `    granted := granted || ${quoteLiteral(role)}::text;`,
      '  END IF;',
    ]),
    // A loop, not `WHERE … AND pg_terminate_backend(pid)`: the planner orders a WHERE clause's
    // conditions by cost, and may call the function on every session before filtering (seen: it
    // terminated the admin's own).
    `  FOR p IN SELECT a.pid FROM pg_catalog.pg_stat_activity a WHERE (${whom || 'false'}) AND a.pid <> pg_catalog.pg_backend_pid() LOOP`,
    '    IF pg_catalog.pg_terminate_backend(p) THEN',
    '      n := n + 1;',
    '    END IF;',
    '  END LOOP;',
    '  FOREACH g IN ARRAY granted LOOP',
    "    EXECUTE format('REVOKE %I FROM CURRENT_USER', g);",
    '  END LOOP;',
    '  IF n > 0 THEN',
    `    RAISE NOTICE '%', ${quoteLiteral(`${CHANGE_NOTICE_PREFIX} terminated `)} || n || ${quoteLiteral(` session(s) of revoked logins (${all.join(', ')})`)};`,
    '  END IF;',
    'END',
  ]);
}

/**
 * A `DO` block that removes the passwords of `roles` (`PASSWORD NULL`): the
 * logins of a rotating instance that no longer log in. What the
 * `LoginRevocation` resource runs on the Pulumi path (the provider's Role
 * cannot remove a password); the bootstrap script does the same inside
 * its role checks.
 */
export function renderClearPasswordsSql(roles: readonly string[]): string {
  return doBlock([
    'DECLARE',
    '  admin_is_superuser boolean := (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);',
    'BEGIN',
    ...roles.flatMap((role) => [
      // pg_authid only as a superuser (IF/ELSIF: an OR could still read it).
      '  IF NOT admin_is_superuser THEN',
      `    ALTER ROLE ${quoteIdent(role)} PASSWORD NULL;`,
      `  ELSIF (SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = ${quoteLiteral(role)}) IS NOT NULL THEN`,
      `    ALTER ROLE ${quoteIdent(role)} PASSWORD NULL;`,
      `    ${notice(`removed the password of role ${role}`)}`,
      '  END IF;',
    ]),
    'END',
  ]);
}

function ensureAdminMembership(owner: RolePlan): string[] {
  const name = quoteLiteral(owner.name);
  const ident = quoteIdent(owner.name);
  return [
    '  IF NOT admin_is_superuser THEN',
    "    IF current_setting('server_version_num')::int >= 160000 THEN",
    `      IF NOT (pg_has_role(current_user, ${name}, 'SET') AND pg_has_role(current_user, ${name}, 'USAGE')) THEN`,
    `        EXECUTE ${quoteLiteral(`GRANT ${ident} TO CURRENT_USER WITH INHERIT TRUE, SET TRUE`)};`,
    `        ${notice(`granted the admin membership in role ${owner.name}`)}`,
    '      END IF;',
    `    ELSIF NOT pg_has_role(current_user, ${name}, 'USAGE') THEN`,
    `      EXECUTE ${quoteLiteral(`GRANT ${ident} TO CURRENT_USER`)};`,
    `      ${notice(`granted the admin membership in role ${owner.name}`)}`,
    '    END IF;',
    '  END IF;',
  ];
}

/** A role name as a `regrole` constant (its text is read as an identifier: quoted, so any name works). */
function regrole(role: string): string {
  return `${quoteLiteral(quoteIdent(role))}::regrole`;
}

/** A schema name as a `regnamespace` constant (quoted like {@link regrole}: `Audit Log`, `Billing`). */
function regnamespace(schema: string): string {
  return `${quoteLiteral(quoteIdent(schema))}::regnamespace`;
}

/** SQL that is true when `grantee` holds `privilege` explicitly in the ACL `acl` (NULL = defaults of `kind` for `owner`). */
function holds(aclExpr: string, grantee: string, privilege: string): string {
  const granteeOid = grantee === 'PUBLIC' ? '0' : `${regrole(grantee)}::oid`;
  return `EXISTS (SELECT 1 FROM aclexplode(${aclExpr}) a WHERE a.grantee = ${granteeOid} AND a.privilege_type = ${quoteLiteral(privilege)})`;
}

function grantee(role: string): string {
  return role === 'PUBLIC' ? 'PUBLIC' : quoteIdent(role);
}

function ensureDatabaseGrant(database: string, grant: DatabaseGrantPlan): string[] {
  const acl = `(SELECT COALESCE(datacl, acldefault('d', datdba)) FROM pg_catalog.pg_database WHERE datname = ${quoteLiteral(database)})`;
  const lines: string[] = [];
  for (const privilege of DB_PRIVILEGES) {
    const wanted = grant.privileges.includes(privilege);
    const statement = wanted
      ? `GRANT ${privilege} ON DATABASE ${quoteIdent(database)} TO ${grantee(grant.role)}`
      : `REVOKE ${privilege} ON DATABASE ${quoteIdent(database)} FROM ${grantee(grant.role)}`;
    lines.push(
      `  IF ${wanted ? 'NOT ' : ''}${holds(acl, grant.role, privilege)} THEN`,
      `    ${statement};`,
      `    ${notice(`${wanted ? 'granted' : 'revoked'} ${privilege} on database ${database} ${wanted ? 'to' : 'from'} ${grant.role}`)}`,
      '  END IF;',
    );
  }
  return lines;
}

const DEFAULT_ACL_OBJTYPE: Record<string, string> = { table: 'r', sequence: 'S' };
const RELKINDS: Record<string, string> = { table: "('r','p','v','m','f')", sequence: "('S')" };
const PLURAL: Record<string, string> = { table: 'TABLES', sequence: 'SEQUENCES' };

function ensureSchemaGrant(owner: string, g: SchemaGrantPlan): string[] {
  const schema = quoteIdent(g.schema);
  const who = grantee(g.role);
  const privs = g.privileges.join(', ');
  if (g.objectType === SchemaObjectType.Schema) {
    const nsp = `(SELECT nspowner FROM pg_catalog.pg_namespace WHERE nspname = ${quoteLiteral(g.schema)})`;
    const acl = `(SELECT COALESCE(nspacl, acldefault('n', nspowner)) FROM pg_catalog.pg_namespace WHERE nspname = ${quoteLiteral(g.schema)})`;
    // Before PostgreSQL 15 schema public belongs to the bootstrap superuser: an admin who is
    // neither a superuser nor a member of the schema's owner can only warn.
    const canChange = `admin_is_superuser OR pg_has_role(current_user, ${nsp}, 'USAGE')`;
    const lines: string[] = [];
    for (const privilege of ['USAGE', 'CREATE']) {
      const wanted = g.privileges.includes(privilege);
      // The ACL entry itself, as the provider's GRANT writes it (the same catalog on both paths), not
      // the effective privilege: on 15+ the owner role already has CREATE through pg_database_owner.
      const explicit = holds(acl, g.role, privilege);
      const effective = g.role === 'PUBLIC' ? explicit : `has_schema_privilege(${quoteLiteral(g.role)}, ${quoteLiteral(g.schema)}, ${quoteLiteral(privilege)})`;
      const statement = wanted ? `GRANT ${privilege} ON SCHEMA ${schema} TO ${who}` : `REVOKE ${privilege} ON SCHEMA ${schema} FROM ${who}`;
      const done = wanted ? `granted ${privilege} on schema ${g.schema} to ${g.role}` : `revoked ${privilege} on schema ${g.schema} from ${g.role}`;
      const state = wanted ? `lacks ${privilege} on` : `holds ${privilege} on`;
      // An admin that cannot change the schema warns only when the role's effective privilege is wrong.
      const wrong = wanted ? `NOT ${effective}` : effective;
      lines.push(
        `  IF ${wanted ? 'NOT ' : ''}${explicit} THEN`,
        `    IF ${canChange} THEN`,
        `      ${statement};`,
        `      ${notice(done)}`,
        `    ELSIF ${wrong} THEN`,
        `      RAISE WARNING ${quoteLiteral(
          `postgres-strategies: ${g.role} ${state} schema ${g.schema} of database %, which the admin does not own ` +
            `(PostgreSQL before 15 gives schema public to the bootstrap superuser); as a superuser run: ${statement}`,
        )}, current_database();`,
        '    END IF;',
        '  END IF;',
      );
    }
    return lines;
  }
  const relkinds = RELKINDS[g.objectType] as string;
  // CASE keeps the privilege check from running on rows of another relkind
  // (has_sequence_privilege raises an error on a table).
  const held = g.privileges
    .map((p) => `has_${g.objectType === SchemaObjectType.Table ? 'table' : 'sequence'}_privilege(${quoteLiteral(g.role)}, c.oid, ${quoteLiteral(p)})`)
    .join(' AND ');
  const lines = [
    `  IF EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.relnamespace = ${regnamespace(g.schema)} AND CASE WHEN c.relkind IN ${relkinds} THEN NOT (${held}) ELSE false END) THEN`,
    `    GRANT ${privs} ON ALL ${PLURAL[g.objectType]} IN SCHEMA ${schema} TO ${who};`,
    `    ${notice(`granted ${privs} on all ${g.objectType}s in schema ${g.schema} to ${g.role}`)}`,
    '  END IF;',
  ];
  if (g.defaults) {
    const defacl = `(SELECT d.defaclacl FROM pg_catalog.pg_default_acl d WHERE d.defaclrole = ${regrole(owner)} AND d.defaclnamespace = ${regnamespace(g.schema)} AND d.defaclobjtype = ${quoteLiteral(DEFAULT_ACL_OBJTYPE[g.objectType] as string)})`;
    const all = g.privileges.map((p) => holds(defacl, g.role, p)).join(' AND ');
    lines.push(
      `  IF NOT (${all}) THEN`,
      `    ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(owner)} IN SCHEMA ${schema} GRANT ${privs} ON ${PLURAL[g.objectType]} TO ${who};`,
      `    ${notice(`set default privileges ${privs} on ${g.objectType}s in schema ${g.schema} for ${g.role}`)}`,
      '  END IF;',
    );
  }
  return lines;
}

/**
 * The roles of a plan as they are at the instance's rotation state: a
 * rotating instance's base and slots log in only while current or previous
 * (their passwords removed otherwise). Other roles as planned.
 */
export interface EffectiveRole {
  role: RolePlan;
  /** Remove the password (a rotating login that no longer logs in). */
  clearPassword: boolean;
}

/**
 * Each role of `plan` at the rotation state `state` (see {@link EffectiveRole}),
 * and the rotating roles' statuses when the instance rotates.
 */
export function effectiveRoles(plan: InstancePlan, state?: RotationState): { roles: EffectiveRole[]; rotating?: RotatingRoles } {
  if (!plan.rotation) return { roles: plan.roles.map((role) => ({ role, clearPassword: false })) };
  const rotating = rotatingRoles(plan.rotation, state ?? STARTING_ROTATION);
  const status = new Map([rotating.base, ...rotating.slots].map((r) => [r.role, r.status]));
  return {
    rotating,
    roles: plan.roles.map((role) => {
      const s = status.get(role.name);
      if (s === undefined) return { role, clearPassword: false };
      const logsIn = statusLogsIn(s);
      return { role: { ...role, login: logsIn }, clearPassword: !logsIn };
    }),
  };
}

/**
 * The sessions an emergency revocation terminates, while it is the
 * instance's last rotation: every session of the logins that no longer log
 * in, and the sessions of the current login that began before the
 * revocation (they logged in with its password of two rotations ago).
 * Undefined otherwise.
 */
export function revocationCut(rotating: RotatingRoles | undefined, state: RotationState | undefined): SessionCut | undefined {
  if (!rotating || !state || !lastRotationRevoked(state)) return undefined;
  const gone = [rotating.base, ...rotating.slots].filter((r) => r.status === LoginStatus.Revoked || r.status === LoginStatus.Retired).map((r) => r.role);
  return { roles: gone, current: { role: rotating.current.role, before: state.rotatedAt } };
}

/** The psql script of one instance (see {@link renderBootstrapSql}). */
export function renderInstanceSql(plan: InstancePlan, options: BootstrapSqlOptions): string {
  const db = plan.database;
  const owner = plan.owner.name;
  const state = options.rotations?.[plan.instance];
  const { roles, rotating } = effectiveRoles(plan, state);
  const cut = revocationCut(rotating, state);
  const out: string[] = [
    `-- instance ${plan.instance}: database ${db}, roles ${plan.roles.map((r) => r.name).join(', ')} (${plan.shape} shape)`,
    ...(rotating
      ? [`-- alternating logins: rotation ${state?.counter ?? 0}, current ${rotating.current.role}${rotating.previous ? `, previous ${rotating.previous.role}` : ''}`]
      : []),
    doBlock([
      'DECLARE',
      '  admin_is_superuser boolean := (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);',
      '  r pg_catalog.pg_roles%ROWTYPE;',
      'BEGIN',
      ...roles.flatMap(({ role, clearPassword }) => ensureRole(role, verifierFor(role, options), clearPassword)),
      ...ensureAdminMembership(plan.owner),
      ...plan.roles.flatMap((role) => (role.memberOf !== undefined ? ensureLoginOfBase(role.name, role.memberOf) : [])),
      `  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = ${quoteLiteral(db)}) THEN`,
      `    ${notice(`creating database ${db} owned by ${owner}`)}`,
      '  END IF;',
      'END',
    ]),
    ...(cut ? [renderSessionCutSql(cut)] : []),
    `SELECT ${quoteLiteral(`CREATE DATABASE ${quoteIdent(db)} OWNER ${quoteIdent(owner)}`)} WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = ${quoteLiteral(db)}) \\gexec`,
    doBlock([
      'BEGIN',
      `  IF (SELECT pg_get_userbyid(datdba) FROM pg_catalog.pg_database WHERE datname = ${quoteLiteral(db)}) <> ${quoteLiteral(owner)} THEN`,
      `    ALTER DATABASE ${quoteIdent(db)} OWNER TO ${quoteIdent(owner)};`,
      `    ${notice(`made ${owner} the owner of database ${db}`)}`,
      '  END IF;',
      `  SET LOCAL ROLE ${quoteIdent(owner)};`,
      ...plan.databaseGrants.flatMap((g) => ensureDatabaseGrant(db, g)),
      'END',
    ]),
  ];
  if (plan.schemaGrants.length > 0) {
    out.push(`\\connect ${quoteIdent(db)}`, renderSchemaGrantsSql(owner, plan.schemaGrants), '\\connect :"ps_admin_database"');
  }
  return out.join('\n');
}

/**
 * One idempotent `DO` block that makes `grants` hold in the session's
 * database (each change reported as a NOTICE): the schema privileges as the
 * session's user (before PostgreSQL 15 schema public belongs to the
 * bootstrap superuser, not to the database owner), then the object and
 * default privileges as `owner` (`SET LOCAL ROLE`), who owns the objects.
 * Used by the bootstrap script, and by `migrate` for the schemas it restores
 * outside public (`grantsLikePublic` in plan.ts). Runs through psql or any driver.
 */
export function renderSchemaGrantsSql(owner: string, grants: readonly SchemaGrantPlan[]): string {
  return doBlock([
    'DECLARE',
    '  admin_is_superuser boolean := (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);',
    'BEGIN',
    ...grants.filter((g) => g.objectType === SchemaObjectType.Schema).flatMap((g) => ensureSchemaGrant(owner, g)),
    `  SET LOCAL ROLE ${quoteIdent(owner)};`,
    ...grants.filter((g) => g.objectType !== SchemaObjectType.Schema).flatMap((g) => ensureSchemaGrant(owner, g)),
    'END',
  ]);
}

/**
 * Renders the idempotent bootstrap script of all instances, for psql.
 * @throws ValidationError when a login role has no verifier or a plain password.
 */
export function renderBootstrapSql(plans: InstancePlan[], options: BootstrapSqlOptions): string {
  const header = [
    `-- postgres-strategies bootstrap: ${plans.length} app instance(s): ${plans.map((p) => p.instance).join(', ')}`,
    '-- Idempotent: running it again changes nothing. Run it with psql as a superuser or as an',
    '-- admin with CREATEDB and CREATEROLE:  psql "<admin url>" -v ON_ERROR_STOP=1 -f <this file>',
    '-- Passwords appear only as SCRAM-SHA-256 verifiers.',
    '\\set ON_ERROR_STOP on',
    'SET standard_conforming_strings = on;',
    "SELECT current_database() AS ps_admin_database \\gset",
  ];
  return [...header, ...plans.map((p) => renderInstanceSql(p, options)), ''].join('\n');
}
