/** Helpers to read the resource graph the mock runtime recorded. */
import { RecordedResource } from '../../lab/pulumi-mocks';

/** Short name of a URN (its last segment). */
export function short(urn: string): string {
  return urn.split('::').pop() ?? urn;
}

/** Names of the resources `r` depends on. */
export function depsOf(r: RecordedResource): string[] {
  return r.dependencies.map(short);
}

/** All resources that `name` reaches through dependencies (transitively). */
export function reachable(resources: RecordedResource[], name: string): Set<string> {
  const byName = new Map(resources.map((r) => [r.name, r]));
  const seen = new Set<string>();
  const stack = [name];
  while (stack.length > 0) {
    const n = stack.pop() as string;
    for (const d of depsOf(byName.get(n) as RecordedResource)) {
      if (!seen.has(d) && byName.has(d)) {
        seen.add(d);
        stack.push(d);
      }
    }
  }
  return seen;
}

/** The value of a secret input as recorded (Pulumi's secret envelope unwrapped), and whether it was secret. */
export function unwrapSecret(value: unknown): { secret: boolean; value: unknown } {
  const sig = '4dabf18193072939515e22adb298388d';
  if (value && typeof value === 'object' && (value as Record<string, unknown>)[sig] === '1b47061264138c4ac30d75fd1eb44270') {
    return { secret: true, value: (value as Record<string, unknown>)['value'] };
  }
  return { secret: false, value };
}
