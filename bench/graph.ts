/**
 * The resource graph the mock recorder saw: its longest dependency chain
 * (how many resources the engine must create one after another) and a
 * signature of the custom resources, to check that two programs declare the
 * same resources.
 */
import { createHash } from 'node:crypto';
import { RecordedResource } from '../lab/pulumi-mocks';

/** Last segment of a URN (the resource's logical name). */
export function shortName(urn: string): string {
  return urn.split('::').pop() ?? urn;
}

/** The URN of a provider reference (`<urn>::<id>`). */
function providerUrn(ref: string): string {
  if (!ref) return '';
  const i = ref.lastIndexOf('::');
  return i < 0 ? ref : ref.slice(0, i);
}

/**
 * What each resource waits for before the engine can create it: its
 * dependencies (explicit dependsOn and the resources behind its inputs) and
 * its provider.
 */
export function waitsFor(r: RecordedResource): string[] {
  const p = providerUrn(r.provider);
  return p ? [...r.dependencies, p] : [...r.dependencies];
}

/** The longest dependency chain: its length in resources, and one such chain (names, first created first). */
export function longestChain(resources: RecordedResource[]): { length: number; chain: string[] } {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const memo = new Map<string, string[]>();
  const visiting = new Set<string>();
  const longestTo = (urn: string): string[] => {
    const known = memo.get(urn);
    if (known) return known;
    if (visiting.has(urn)) throw new Error(`dependency cycle through ${urn}`);
    visiting.add(urn);
    let best: string[] = [];
    for (const d of waitsFor(byUrn.get(urn) as RecordedResource)) {
      if (!byUrn.has(d)) continue;
      const c = longestTo(d);
      if (c.length > best.length) best = c;
    }
    visiting.delete(urn);
    const chain = [...best, urn];
    memo.set(urn, chain);
    return chain;
  };
  let best: string[] = [];
  for (const r of resources) {
    const c = longestTo(r.urn);
    if (c.length > best.length) best = c;
  }
  return { length: best.length, chain: best.map(shortName) };
}

/** A value with its object keys sorted, so that key order does not change its JSON. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value as object).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/**
 * A hash of the custom resources (providers excluded): type, name, inputs,
 * dependencies (by name), provider (by name), retainOnDelete — independent of
 * registration order and of the component parents in the URNs.
 */
export function customResourceSignature(resources: RecordedResource[]): string {
  const rows = resources
    .filter((r) => r.custom && !r.type.startsWith('pulumi:providers:'))
    .map((r) =>
      JSON.stringify([
        r.type,
        r.name,
        canonical(r.inputs),
        [...r.dependencies].map(shortName).sort(),
        shortName(providerUrn(r.provider)),
        r.retainOnDelete === true,
      ]),
    )
    .sort();
  return createHash('sha256').update(rows.join('\n')).digest('hex').slice(0, 16);
}
