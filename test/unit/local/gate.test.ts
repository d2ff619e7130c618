/**
 * The exit-code gate between kratos-migrate and Kratos, end to end under the
 * mock runtime (in a child process, see gate-program.ts): Docker's
 * `attach` never fails on a non-zero exit, so the component derives the
 * Kratos container's image from the migration's exitCode. Exit 1 fails the
 * deployment with a message naming the migration, its exit code and its
 * (redacted) output, and Kratos is never registered; exit 0 lets it start.
 * A failed bootstrap likewise stops kratos-migrate and the admin provider
 * (the superuser's password may not be the stack's yet), with the SCRAM
 * verifiers psql echoes redacted.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tsProgramArgs } from '../../../lab/ts-program';

interface Outcome {
  status: number | null;
  registered: string[];
  errors: string[];
}

function deploy(exitCode: number, service = 'kratos-migrate'): Outcome {
  const r = spawnSync(process.execPath, tsProgramArgs(join(__dirname, 'gate-program.ts')), { cwd: join(__dirname, '..', '..', '..'), encoding: 'utf8', timeout: 60_000, env: { ...process.env, GATE_EXIT_CODE: String(exitCode), GATE_SERVICE: service } });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`the program printed no result (status ${r.status}): ${r.stderr}`);
  return { status: r.status, ...(JSON.parse(line) as { registered: string[]; errors: string[] }) };
}

test('a migration that exits 1 fails the deployment with a clear message, and Kratos is not created', () => {
  const out = deploy(1);
  expect(out.status).toBe(1);
  expect(out.registered).toContain('gate-kratos-migrate');
  expect(out.registered).not.toContain('gate-kratos');
  // The one failure, reported once per promise chain that carries it.
  expect(new Set(out.errors).size).toBe(1);
  const message = out.errors[0]!;
  expect(message).toContain('gate-kratos-migrate finished with exit code 1, so gate-kratos is not started');
  expect(message).toContain('password authentication failed for user "kratos"');
  expect(message).toContain('postgres://kratos:REDACTED@postgres:5432/kratos');
  expect(message).not.toContain('Hunter2Hunter2');
}, 60_000);

test('a migration that exits 0 lets Kratos start', () => {
  const out = deploy(0);
  expect(out.errors).toEqual([]);
  expect(out.status).toBe(0);
  expect(out.registered).toEqual(expect.arrayContaining(['gate-kratos-migrate', 'gate-kratos', 'gate-admin']));
}, 60_000);

test('a bootstrap that exits 1 stops the migration and the admin connection, its verifiers redacted', () => {
  const out = deploy(1, 'postgres-bootstrap');
  expect(out.status).toBe(1);
  expect(out.registered).toContain('gate-postgres-bootstrap');
  expect(out.registered).not.toContain('gate-kratos-migrate');
  expect(out.registered).not.toContain('gate-admin');
  const all = out.errors.join('\n');
  expect(all).toContain('gate-postgres-bootstrap finished with exit code 1, so gate-kratos-migrate is not started');
  expect(all).toContain('gate-postgres-bootstrap finished with exit code 1, so the admin connection gate-admin is not started');
  expect(all).toContain("ALTER ROLE \"kratos\" PASSWORD 'SCRAM-SHA-256$REDACTED'");
  expect(all).not.toContain('c2FsdHNhbHRzYWx0c2FsdA');
}, 60_000);
