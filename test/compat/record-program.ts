/**
 * One fixed program (programs.ts) under Pulumi's mock runtime, in a process
 * of its own (a fresh runtime per program, as each `pulumi up` is), against
 * the sources under COMPAT_ROOT (the working tree, or an old release's
 * tree whose node_modules is this one's). Prints one JSON line: every
 * registered resource as the recorder saw it, or `null` when the tree has
 * none of the program's components.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { installMocks, settled } from '../../lab/pulumi-mocks';
import { rdsState } from '../unit/rds/fixture';
import { PROGRAMS } from './programs';

const root = process.env['COMPAT_ROOT'] ?? join(__dirname, '..', '..');
const program = PROGRAMS.find((p) => p.id === process.env['COMPAT_PROGRAM']);
if (!program) throw new Error(`no compat program ${process.env['COMPAT_PROGRAM']}`);

// What AWS computes on create (the instance's address and port, which the handle checks).
const rt = installMocks({ project: program.project, stack: program.stack, state: rdsState });
const load = (...candidates: string[]): Record<string, unknown> | undefined => {
  const found = candidates.map((c) => join(root, c)).find((p) => existsSync(p));
  return found ? (require(found) as Record<string, unknown>) : undefined;
};
if (!program.run(load)) {
  process.stdout.write('null\n');
} else {
  void settled().then(() => process.stdout.write(`${JSON.stringify(rt.resources)}\n`));
}
