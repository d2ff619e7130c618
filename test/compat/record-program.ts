/**
 * The fixed programs (programs.ts) under Pulumi's mock runtime, one after
 * another in one process, each in a fresh runtime of its own project and
 * stack (a new mock monitor per program, as each `pulumi up` is), against
 * the sources under COMPAT_ROOT (the working tree, or an old release's tree
 * whose node_modules is this one's). Prints one JSON line per program:
 * `[id, resources]`, every registered resource as the recorder saw it, or
 * `null` when the tree has none of the program's components.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { installMocks, settled } from '../../lab/pulumi-mocks';
import { rdsState } from '../unit/rds/fixture';
import { PROGRAMS } from './programs';

const root = process.env['COMPAT_ROOT'] ?? join(__dirname, '..', '..');
const load = (...candidates: string[]): Record<string, unknown> | undefined => {
  const found = candidates.map((c) => join(root, c)).find((p) => existsSync(p));
  return found ? (require(found) as Record<string, unknown>) : undefined;
};

void (async () => {
  for (const program of PROGRAMS) {
    // What AWS computes on create (the instance's address and port, which the handle checks).
    const rt = installMocks({ project: program.project, stack: program.stack, state: rdsState });
    const ran = program.run(load);
    if (ran) await settled();
    process.stdout.write(`${JSON.stringify([program.id, ran ? rt.resources : null])}\n`);
  }
})();
