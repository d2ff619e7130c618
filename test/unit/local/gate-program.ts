/**
 * The Pulumi program of local-gate.test.ts, run in its own Node process as
 * the language host runs a program: the mock runtime, a LocalPostgres with
 * Kratos, and a kratos-migrate container whose exit code is GATE_EXIT_CODE.
 *
 * Pulumi fails a deployment through an unhandled rejection of the failing
 * registration (runtime/resource.ts, runAsyncResourceOp), which Jest would
 * claim as a failure of its own test; hence the separate process. Prints one
 * JSON line: the registered resource names and the deployment's errors.
 */
import { installMocks, settled } from '../../../lab/pulumi-mocks';
import { LocalPostgres } from '../../../src/local/component';

const exitCode = Number(process.env['GATE_EXIT_CODE'] ?? '0');
const logs = [
  'time=2025-01-01 level=info msg=Applying migrations',
  'time=2025-01-01 level=error msg=Unable to ping the database connection dsn=postgres://kratos:Hunter2Hunter2@postgres:5432/kratos?sslmode=disable',
  'failed to connect to `host=postgres user=kratos database=kratos`: server error (FATAL: password authentication failed for user "kratos")',
].join('\n');
const rt = installMocks({ state: (_type, name) => (name === 'gate-kratos-migrate' ? { exitCode, containerLogs: logs } : undefined) });
const errors: string[] = [];
process.on('unhandledRejection', (e) => errors.push(e instanceof Error ? e.message : String(e)));

new LocalPostgres('gate', { kratos: {} });
void settled().then(() =>
  setTimeout(() => {
    process.stdout.write(`${JSON.stringify({ registered: rt.resources.map((r) => r.name), errors })}\n`);
    process.exit(errors.length > 0 ? 1 : 0);
  }, 200),
);
