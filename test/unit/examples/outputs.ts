/**
 * What `pulumi stack output --show-secrets` prints of an example: each
 * export on one line, except a string holding line breaks (objects and
 * arrays are printed as one line of JSON). An example's outputs are read at a
 * glance; the multi-line ones are only the files a documented command reads by
 * name (docs/examples.md, "Stack outputs").
 */
import * as pulumi from '@pulumi/pulumi';
import { settle } from '../../../lab/pulumi-mocks';

/** The names of the program's exports whose printed value spans several lines (an undefined export is not printed at all). */
export async function multiLineExports(program: Record<string, unknown>): Promise<string[]> {
  const names: string[] = [];
  for (const [name, value] of Object.entries(program)) {
    const printed = pulumi.Output.isInstance(value) ? (await settle(value as pulumi.Output<unknown>)).value : value;
    if (typeof printed === 'string' && printed.includes('\n')) names.push(name);
  }
  return names.sort();
}
