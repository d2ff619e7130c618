/**
 * The Pulumi program of stability.test.ts, run in its own Node process (a
 * fresh mock runtime per evaluation, as each `pulumi up` is): a
 * LocalPostgres named `auth` with the JSON arguments in STACK_ARGS. Prints
 * one JSON line: the recorded inputs and dependencies of every container.
 */
import { installMocks, settled } from '../../../lab/pulumi-mocks';
import { LocalPostgres, LocalPostgresArgs } from '../../../src/local/component';

const rt = installMocks();
new LocalPostgres('auth', JSON.parse(process.env['STACK_ARGS'] ?? '{}') as LocalPostgresArgs);
void settled().then(() => {
  const containers = rt.ofType('docker:index/container:Container');
  process.stdout.write(`${JSON.stringify(Object.fromEntries(containers.map((c) => [c.name, { inputs: c.inputs, dependencies: c.dependencies }])))}\n`);
});
