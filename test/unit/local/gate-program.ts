/**
 * The Pulumi program of local-gate.test.ts, run in its own Node process as
 * the language host runs a program: the mock runtime, a LocalPostgres with
 * Kratos, published (so with an admin provider), and a one-shot container
 * (GATE_SERVICE: kratos-migrate or postgres-bootstrap) whose exit code is
 * GATE_EXIT_CODE.
 *
 * Pulumi fails a deployment through an unhandled rejection of the failing
 * registration (runtime/resource.ts, runAsyncResourceOp), which Jest would
 * claim as a failure of its own test; hence the separate process. Prints one
 * JSON line: the registered resource names and the deployment's errors.
 */
import { installMocks, settled } from '../../../lab/pulumi-mocks';
import { LocalPostgres } from '../../../src/local/component';

const exitCode = Number(process.env['GATE_EXIT_CODE'] ?? '0');
const service = process.env['GATE_SERVICE'] ?? 'kratos-migrate';
const logs: Record<string, string> = {
  'kratos-migrate': [
    'time=2025-01-01 level=info msg=Applying migrations',
    'time=2025-01-01 level=error msg=Unable to ping the database connection dsn=postgres://kratos:Hunter2Hunter2@postgres:5432/kratos?sslmode=disable',
    'failed to connect to `host=postgres user=kratos database=kratos`: server error (FATAL: password authentication failed for user "kratos")',
  ].join('\n'),
  // What psql prints when a statement of the script fails: the statement, with its verifier.
  'postgres-bootstrap': [
    'psql:/etc/postgres-strategies/bootstrap.sql:12: ERROR:  permission denied to alter role',
    "LINE 1: ALTER ROLE \"kratos\" PASSWORD 'SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$c3RvcmVkS2V5c3RvcmVkS2V5c3RvcmVkS2V5MDEyMzQ=:c2VydmVyS2V5c2VydmVyS2V5c2VydmVyS2V5MDEyMzQ='",
  ].join('\n'),
};
const rt = installMocks({ state: (_type, name) => (name === `gate-${service}` ? { exitCode, containerLogs: logs[service] } : undefined) });
const errors: string[] = [];
process.on('unhandledRejection', (e) => errors.push(e instanceof Error ? e.message : String(e)));

new LocalPostgres('gate', { kratos: {}, publishPort: 5432, dockerNamePrefix: '' });
let printed = false;
const print = (): void => {
  if (printed) return;
  printed = true;
  process.stdout.write(`${JSON.stringify({ registered: rt.resources.map((r) => r.name), errors })}\n`);
  process.exit(errors.length > 0 ? 1 : 0);
};
// A failed registration leaves its dependants waiting forever: the event loop then
// empties without `settled()` resolving, so the result is printed then too.
process.on('beforeExit', print);
void settled().then(() => setTimeout(print, 200));
