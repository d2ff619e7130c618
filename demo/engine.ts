/**
 * `npm run demo -- --engine`: examples/shared through the real Pulumi engine
 * (built by `npm run engine` if needed) on the demo's embedded server, the
 * way a user runs it — `pulumi stack init`, `pulumi config set …`,
 * `pulumi up` — then the live checks on what it created, a no-op
 * `preview` and a drift-free `refresh`, and `pulumi destroy`, which leaves
 * the databases on the server (retained on delete).
 */
import { randomBytes } from 'node:crypto';
import { ExampleStack, buildEngine, engineSandbox } from '../lab/engine';
import { withPg } from '../lab/inspect';
import { LabServer } from '../lab/server';
import { Check, connectionChecks } from './checks';

/** An instance of the stack, as the demo prints it. */
export interface EngineDemoInstance {
  database: string;
  user: string;
  url: string;
  pgxUrl: string;
  kratosDsn: string;
}

/** What the engine demo did and saw. */
export interface EngineDemoReport {
  stack: string;
  /** Lines of `pulumi up`'s summary ("+ 22 created", "Duration: 9s"). */
  upSummary: string[];
  instances: Record<string, EngineDemoInstance>;
  checks: Check[];
}

/** The summary lines at the end of a `pulumi up`/`destroy` (the "Resources:" block and "Duration"). */
function summary(stdout: string): string[] {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith('Resources:'));
  return (at < 0 ? [] : lines.slice(at)).map((l) => l.trim()).filter((l) => l && !l.startsWith('warning:'));
}

/**
 * Runs examples/shared on `lab` through the engine and checks it.
 * @param log progress (the engine build, each pulumi command).
 */
export async function engineDemo(lab: LabServer, log: (line: string) => void): Promise<EngineDemoReport> {
  log('engine     building or finding the Pulumi CLI, the Node.js language host and the postgresql/random plugins (npm run engine)');
  const sandbox = engineSandbox(await buildEngine());
  const stack = new ExampleStack('shared', `demo-${randomBytes(3).toString('hex')}`, sandbox);
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string): void => {
    checks.push({ name, ok, detail });
  };
  try {
    log(`pulumi     cd examples/shared && pulumi stack init ${stack.stack} && pulumi config set … (verify-full, the server's superuser)`);
    await stack.init();
    await stack.config({
      host: lab.host,
      port: String(lab.port),
      adminUser: lab.superuser,
      adminPassword: { value: lab.superuserPassword, secret: true },
      adminIsSuperuser: 'true',
      kind: 'self-managed',
      sslmode: 'verify-full',
      sslrootcert: lab.caFile as string,
    });
    log('pulumi     pulumi up');
    const up = await stack.up();
    const upSummary = summary(up.stdout);
    for (const l of upSummary) log(`             ${l}`);
    const outputs = await stack.outputs();
    const urls = outputs['urls'] as Record<string, string>;
    const pgxUrls = outputs['pgxUrls'] as Record<string, string>;
    const kratosDsns = outputs['kratosDsns'] as Record<string, string>;
    const instances: Record<string, EngineDemoInstance> = {};
    for (const [name, url] of Object.entries(urls)) {
      const u = new URL(url);
      instances[name] = { database: decodeURIComponent(u.pathname.slice(1)), user: decodeURIComponent(u.username), url, pgxUrl: pgxUrls[name] as string, kratosDsn: kratosDsns[name] as string };
    }
    checks.push(...(await connectionChecks(Object.entries(instances).map(([instance, i]) => ({ instance, database: i.database, user: i.user, url: i.url })))));

    log('pulumi     pulumi preview --expect-no-changes; pulumi refresh --expect-no-changes');
    const preview = await stack.run(['preview', '--expect-no-changes']);
    check('a second pulumi preview plans no change', preview.code === 0, preview.code === 0 ? 'no changes' : `exit ${preview.code}`);
    const refresh = await stack.run(['refresh', '--yes', '--expect-no-changes']);
    check('pulumi refresh finds no drift', refresh.code === 0, refresh.code === 0 ? 'no drift' : `exit ${refresh.code}`);

    log('pulumi     pulumi destroy');
    const destroyed = await stack.must(['destroy', '--yes', '--skip-preview']);
    for (const l of summary(destroyed.stdout)) log(`             ${l}`);
    const kept = await withPg(lab.admin(), async (c) =>
      (await c.query<{ datname: string; owner: string }>('SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = ANY($1) ORDER BY 1', [Object.values(instances).map((i) => i.database)])).rows,
    );
    check(
      'pulumi destroy leaves every database, owned by its role (retained on delete)',
      kept.length === Object.keys(instances).length && kept.every((k) => Object.values(instances).some((i) => i.database === k.datname && i.user === k.owner)),
      kept.map((k) => `${k.datname} (owner ${k.owner})`).join(', ') || 'none left',
    );
    return { stack: stack.stack, upSummary, instances, checks };
  } finally {
    await stack.remove({ destroy: false });
    sandbox.remove();
  }
}
