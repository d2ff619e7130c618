/**
 * `npm run demo`: the shared strategy end to end on a real PostgreSQL.
 *
 * 1. Boots an embedded PostgreSQL 17 with TLS (a throwaway CA made now), or
 *    uses `--admin-url` (with `--sslrootcert` for its CA).
 * 2. Plans blog / admin / api (the primary seed's Strategy 3), checks the
 *    connection budget against the server's real max_connections, and
 *    provisions them with the rendered bootstrap SQL through psql.
 * 3. Prints each instance's outputs (passwords redacted unless
 *    `--show-secrets`; `--json` for machine-readable output).
 * 4. Proves on the live server: every instance connects with
 *    sslmode=verify-full; no instance can connect to another's database; a
 *    connection without TLS is refused; a second run changes nothing.
 * 5. Evaluates examples/shared under Pulumi's mock runtime and prints the
 *    resources it declares (an offline preview).
 * With `--engine`, steps 2–5 are the real Pulumi engine instead
 * (demo/engine.ts): `pulumi up` of examples/shared, the same checks on what
 * it created, a no-op preview and refresh, and `pulumi destroy`.
 * With `--docker`, the local strategy instead (demo/docker.ts): `pulumi up`
 * of examples/local with TLS on the lab's Docker engine, what a user sees
 * (the Kratos URL, the connection checks), then `pulumi destroy`.
 * Everything it starts, it stops. Exit code 1 if any check fails.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { parse as parseConnectionString } from 'pg-connection-string';
import { ConnectionDescription, REDACTED, kratosDsn, libpqUrl, pgxUrl, redactPassword } from '../src/core/dsn';
import { gatewayEnv } from '../src/core/gateway';
import { InstancePlan, planServer } from '../src/core/plan';
import { renderBootstrapSql } from '../src/core/render-sql';
import { newScramSalt, scramSha256Verifier } from '../src/core/scram';
import { SslMode, parseSslMode } from '../src/core/tls';
import { seedInstances } from '../examples/shared/instances';
import { catalogSnapshot, withPg } from '../lab/inspect';
import { havePsql, psql } from '../lab/psql';
import { LabServer, startLabServer } from '../lab/server';
import { Check, connectionChecks } from './checks';
import { dockerDemo } from './docker';
import { engineDemo } from './engine';
import { offlinePreview, PreviewResource } from './preview';

interface InstanceReport {
  database: string;
  user: string;
  connectionLimit: number;
  url: string;
  pgxUrl: string;
  kratosDsn: string;
  env: Record<string, string>;
}

const USAGE = `Usage: npm run demo -- [options]
  --json               machine-readable output (instances.<name>.url, .kratosDsn, ...)
  --show-secrets       print passwords instead of ${REDACTED}
  --admin-url <url>    provision on this server instead of an embedded one (a superuser, or an
                       admin with CREATEDB and CREATEROLE); the demo's roles and databases stay there
  --sslrootcert <path> CA certificate of --admin-url's server (enables verify-full)
  --version <major>    embedded PostgreSQL major: 14, 16, 17 (default) or 18
  --strategy <name>    offline preview of examples/<name> (shared, the default)
  --engine             provision through the real Pulumi engine instead of psql: \`pulumi up\` of
                       examples/shared on the embedded server (builds the engine first if needed,
                       see \`npm run engine\`), the same checks, a no-op preview and refresh, then
                       \`pulumi destroy\` (the databases stay: retained on delete)
  --docker             the local strategy instead: \`pulumi up\` of examples/local with TLS and Kratos on
                       the lab's own Docker engine (npm run docker-lab; images built offline if missing),
                       the Kratos URL and the connection checks, then \`pulumi destroy\`
  --help`;

function adminFromUrl(url: string, sslrootcert: string | undefined): ConnectionDescription {
  const c = parseConnectionString(url);
  if (!c.host || !c.user) throw new Error('--admin-url: give a URL with host and user, e.g. postgres://admin:pw@db.example.com:5432/postgres');
  // pg-connection-string keeps every query parameter on the result, sslmode included.
  const given = (c as { sslmode?: string }).sslmode;
  const sslmode = sslrootcert ? SslMode.VerifyFull : parseSslMode(given ?? 'require', '--admin-url sslmode');
  return {
    hosts: [{ host: c.host, port: Number(c.port ?? 5432) }],
    database: c.database ?? 'postgres',
    user: c.user,
    password: c.password,
    tls: { sslmode, ...(sslrootcert ? { sslrootcert } : {}) },
  };
}

/** A check as the text output shows it: ✓ passed, ✗ failed, – not applicable. */
function checkLine(c: Check): string {
  return `  ${c.skipped ? '–' : c.ok ? '✓' : '✗'} ${c.name} — ${c.detail}`;
}

function summaryLine(checks: Check[], started: number): string {
  const failed = checks.filter((c) => !c.ok).length;
  const skipped = checks.filter((c) => c.skipped).length;
  return `${checks.length - failed - skipped} checks passed, ${failed} failed${skipped ? `, ${skipped} not applicable` : ''}, in ${((Date.now() - started) / 1000).toFixed(1)} s`;
}

/**
 * The admin's first connection, with a hint for the one failure a first try
 * meets most: a server without TLS asked for it (the URL's sslmode defaults to
 * `require`).
 */
async function serverFacts(admin: ConnectionDescription): Promise<{ version: string; max: string; reserved: string; superuser: boolean }> {
  try {
    return await withPg(admin, async (c) => {
      const r = await c.query<{ version: string; max: string; reserved: string; superuser: boolean }>(
        `SELECT current_setting('server_version') AS version, current_setting('max_connections') AS max,
                (current_setting('superuser_reserved_connections')::int
                 + coalesce(current_setting('reserved_connections', true)::int, 0))::text AS reserved,
                (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser`,
      );
      return r.rows[0]!;
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (/does not support SSL/i.test(message)) {
      const { host, port } = admin.hosts[0]!;
      throw new Error(
        `${message}: the server at ${host}:${port} offers no TLS, and --admin-url asks for sslmode=${admin.tls.sslmode}. ` +
          'Turn TLS on at the server (ssl = on, a certificate and key), or try the demo without it: add ?sslmode=disable to --admin-url ' +
          '(passwords then cross the network in the clear; only on a trusted network or loopback)',
      );
    }
    throw e;
  }
}

function secret(text: string, password: string | undefined, show: boolean): string {
  return show || !password ? text : text.split(password).join(REDACTED);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      'show-secrets': { type: 'boolean', default: false },
      'admin-url': { type: 'string' },
      sslrootcert: { type: 'string' },
      version: { type: 'string', default: '17' },
      strategy: { type: 'string', default: 'shared' },
      engine: { type: 'boolean', default: false },
      docker: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!havePsql()) throw new Error('psql (libpq) is needed: install postgresql-client (Debian: apt-get install postgresql-client)');
  const json = values.json ?? false;
  const show = values['show-secrets'] ?? false;
  const out = (line = ''): void => {
    if (!json) console.log(line);
  };
  const started = Date.now();

  if (values.docker) {
    const report = await dockerDemo((line) => out(line));
    const hide = (text: string): string => (show ? text : text.replace(/\/\/([^:/@]+):[^@]*@/, `//$1:${REDACTED}@`));
    out();
    out(`postgres-strategies demo — local strategy (seed Strategy 1) on Docker, stack ${report.stack}`);
    for (const l of report.upSummary) out(`  ${l}`);
    out('containers');
    for (const c of report.containers) out(`  ${c}`);
    out(`kratos     ${report.kratosPublicUrl} (public API)`);
    for (const [name, url] of Object.entries(report.urls)) out(`${name.padEnd(10)} ${hide(url)}`);
    out();
    out('checks');
    for (const c of report.checks) out(`  ${c.ok ? '✓' : '✗'} ${c.name} — ${c.detail}`);
    const failed = report.checks.filter((c) => !c.ok).length;
    out();
    out(`${report.checks.length - failed} checks passed, ${failed} failed, in ${((Date.now() - started) / 1000).toFixed(1)} s (torn down)`);
    if (json) console.log(JSON.stringify({ ...report, urls: Object.fromEntries(Object.entries(report.urls).map(([n, u]) => [n, hide(u)])) }, null, 2));
    return failed === 0 ? 0 : 1;
  }

  let lab: LabServer | undefined;
  try {
    // 1. The server.
    let admin: ConnectionDescription;
    let serverLabel: string;
    if (values['admin-url']) {
      admin = adminFromUrl(values['admin-url'], values.sslrootcert);
      serverLabel = `${admin.hosts[0]!.host}:${admin.hosts[0]!.port} (--admin-url)`;
    } else {
      const version = Number(values.version);
      if (![14, 16, 17, 18].includes(version)) throw new Error(`--version: ${values.version} is not one of 14, 16, 17, 18`);
      lab = await startLabServer({ version: version as 14 | 16 | 17 | 18, tls: true });
      admin = lab.admin();
      serverLabel = `embedded PostgreSQL ${version} on ${lab.host}:${lab.port}, TLS with a throwaway CA`;
    }
    const facts = await serverFacts(admin);
    out(`postgres-strategies demo — shared strategy (seed Strategy 3)${values.engine ? ' through the real Pulumi engine' : ''}`);
    out(`server     PostgreSQL ${facts.version}: ${serverLabel}`);
    out(`admin      ${admin.user} (${facts.superuser ? 'superuser' : 'not a superuser: CREATEDB/CREATEROLE path'}), max_connections ${facts.max}, ${facts.reserved} reserved`);

    if (values.engine) {
      if (!lab) throw new Error('--engine provisions the embedded server: leave out --admin-url');
      const report = await engineDemo(lab, (line) => out(line));
      for (const [name, i] of Object.entries(report.instances)) {
        const hide = (text: string): string => secret(text, decodeURIComponent(new URL(i.url).password), show);
        out();
        out(`instance ${name}: database ${i.database}, role ${i.user} (from the stack's outputs)`);
        out(`  url (libpq)   ${hide(i.url)}`);
        out(`  pgx           ${hide(i.pgxUrl)}`);
        out(`  kratos DSN    ${hide(i.kratosDsn)}`);
      }
      out();
      out('checks on the live server');
      for (const c of report.checks) out(checkLine(c));
      const failed = report.checks.filter((c) => !c.ok).length;
      out();
      out(summaryLine(report.checks, started));
      if (json) {
        const redacted = Object.fromEntries(
          Object.entries(report.instances).map(([n, i]) => {
            const hide = (text: string): string => secret(text, decodeURIComponent(new URL(i.url).password), show);
            return [n, { ...i, url: hide(i.url), pgxUrl: hide(i.pgxUrl), kratosDsn: hide(i.kratosDsn) }];
          }),
        );
        console.log(JSON.stringify({ server: { version: facts.version, host: lab.host, port: lab.port }, engine: { stack: report.stack, up: report.upSummary }, instances: redacted, checks: report.checks }, null, 2));
      }
      return failed === 0 ? 0 : 1;
    }

    // 2. Plan, budget, passwords, bootstrap.
    const plan = planServer(seedInstances, { maxConnections: Number(facts.max), reservedConnections: Number(facts.reserved) }, { namePrefix: 'vw_', adminUser: admin.user });
    const budgetLine = plan.budget.shares.map((s) => `${s.instance} ${s.connections} (${s.consumers.map((c) => `${c.name} ${c.maxConnections}`).join(' + ')})`).join(', ');
    out(`budget     ${budgetLine} → ${plan.budget.total} of ${plan.budget.available} (${plan.budget.headroom} spare)`);
    const passwords = new Map<string, string>();
    const verifiers: Record<string, string> = {};
    for (const role of plan.instances.flatMap((p) => p.roles).filter((r) => r.login)) {
      // URL-hostile on purpose: the URLs must carry any password.
      const password = `${randomBytes(18).toString('base64url')}@:/?#%'" +&=`;
      passwords.set(role.name, password);
      verifiers[role.name] = scramSha256Verifier(password, newScramSalt());
    }
    const sql = renderBootstrapSql(plan.instances, { verifiers });
    const adminUrl = libpqUrl(admin);
    let t = Date.now();
    const first = await psql(adminUrl, sql);
    if (first.code !== 0) throw new Error(`bootstrap failed: ${secret(first.stderr, admin.password, show)}`);
    out(`bootstrap  psql as ${admin.user}: ${first.changes.length} changes in ${Date.now() - t} ms`);
    for (const c of first.changes) out(`             ${c}`);
    for (const w of first.warnings) out(`             ${w}`);

    // 3. Outputs.
    const instances: Record<string, InstanceReport> = {};
    const connection = (p: InstancePlan, user = p.login.name, database = p.database): ConnectionDescription => ({
      hosts: admin.hosts,
      database,
      user,
      password: passwords.get(user),
      tls: { sslmode: admin.tls.sslmode, ...(admin.tls.sslrootcert ? { sslrootcert: admin.tls.sslrootcert } : {}) },
      connectTimeoutSeconds: 10,
      applicationName: p.instance,
    });
    for (const p of plan.instances) {
      const c = show ? connection(p) : redactPassword(connection(p));
      instances[p.instance] = {
        database: p.database,
        user: p.login.name,
        connectionLimit: p.login.connectionLimit,
        url: libpqUrl(c),
        pgxUrl: pgxUrl(c, p.gatewayPool),
        kratosDsn: kratosDsn(c, p.kratosPool),
        env: { ...gatewayEnv(c, p.gatewayPool) },
      };
      const r = instances[p.instance]!;
      out();
      out(`instance ${p.instance}: database ${r.database}, role ${r.user}, connection limit ${r.connectionLimit}`);
      out(`  url (libpq)   ${r.url}`);
      out(`  pgx           ${r.pgxUrl}`);
      out(`  kratos DSN    ${r.kratosDsn}`);
      for (const [k, v] of Object.entries(r.env)) out(`  ${k}=${v}`);
    }

    // 4. Proofs on the live server.
    const checks: Check[] = await connectionChecks(plan.instances.map((p) => ({ instance: p.instance, database: p.database, user: p.login.name, url: libpqUrl(connection(p)) })));
    const check = (name: string, ok: boolean, detail: string): void => {
      checks.push({ name, ok, detail });
    };
    const names = { roles: plan.instances.flatMap((p) => p.roles.map((r) => r.name)), databases: plan.instances.map((p) => p.database) };
    const before = facts.superuser ? JSON.stringify(await catalogSnapshot(admin, names)) : undefined;
    t = Date.now();
    const second = await psql(adminUrl, sql);
    const after = facts.superuser ? JSON.stringify(await catalogSnapshot(admin, names)) : undefined;
    check(
      'a second provisioning run changes nothing',
      second.code === 0 && second.changes.length === 0 && before === after,
      `${second.changes.length} changes in ${Date.now() - t} ms; ${facts.superuser ? (before === after ? 'catalog snapshot identical' : 'catalog snapshot DIFFERS') : 'catalog not compared (needs a superuser)'}`,
    );
    out();
    out('checks on the live server');
    for (const c of checks) out(checkLine(c));

    // 5. Offline preview of the example program.
    const preview = await offlinePreview(values.strategy ?? 'shared', {
      host: admin.hosts[0]!.host,
      port: admin.hosts[0]!.port,
      adminUser: admin.user,
      sslrootcert: admin.tls.sslrootcert,
    });
    out();
    out(`offline preview of examples/${values.strategy} (Pulumi mock runtime): ${preview.length} resources`);
    for (const r of preview) out(`  + ${'  '.repeat(r.depth)}${r.type}  ${r.name}${r.retainOnDelete ? '  [retained on delete]' : ''}`);

    const failed = checks.filter((c) => !c.ok).length;
    out();
    out(summaryLine(checks, started));
    if (json) {
      console.log(
        JSON.stringify(
          {
            server: { version: facts.version, host: admin.hosts[0]!.host, port: admin.hosts[0]!.port, maxConnections: Number(facts.max), reservedConnections: Number(facts.reserved) },
            budget: plan.budget,
            bootstrap: { changes: first.changes, secondRunChanges: second.changes },
            instances,
            checks,
            preview: preview as PreviewResource[],
          },
          null,
          2,
        ),
      );
    }
    return failed === 0 ? 0 : 1;
  } finally {
    if (lab) await lab.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(2);
  },
);

