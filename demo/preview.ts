/**
 * An offline preview: evaluates an example program under Pulumi's mock
 * runtime and lists the resources it declares, parents before children.
 */
import { installMocks, settled } from '../lab/pulumi-mocks';

export interface PreviewResource {
  type: string;
  name: string;
  parent: string;
  depth: number;
  dependsOn: string[];
  retainOnDelete: boolean;
}

/** Where the example's server is, for its config. */
export interface PreviewTarget {
  host: string;
  port: number;
  adminUser: string;
  sslrootcert?: string;
}

const EXAMPLES: Record<string, (t: PreviewTarget) => Record<string, string>> = {
  shared: (t) => ({
    'postgres-strategies:host': t.host,
    'postgres-strategies:port': String(t.port),
    'postgres-strategies:adminUser': t.adminUser,
    'postgres-strategies:adminPassword': 'preview-only',
    'postgres-strategies:kind': 'self-managed',
    ...(t.sslrootcert ? { 'postgres-strategies:sslmode': 'verify-full', 'postgres-strategies:sslrootcert': t.sslrootcert } : {}),
  }),
  // The seed's Strategy 1 on this machine's Docker (its own server): TLS like the demo's, published on 127.0.0.1:5432.
  local: (t) => ({
    'postgres-strategies:tls': String(t.sslrootcert !== undefined),
    'postgres-strategies:publishPort': '5432',
  }),
};

/**
 * Evaluates examples/<strategy> with mocks and returns its resources.
 * @throws for an unknown strategy.
 */
export async function offlinePreview(strategy: string, target: PreviewTarget): Promise<PreviewResource[]> {
  const config = EXAMPLES[strategy];
  if (!config) throw new Error(`--strategy: no example "${strategy}"; have ${Object.keys(EXAMPLES).join(', ')}`);
  const rt = installMocks({ preview: true, config: config(target), secretKeys: ['postgres-strategies:adminPassword'] });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(`../examples/${strategy}/index`);
  await settled();
  const short = (urn: string): string => urn.split('::').pop() ?? '';
  const byName = new Map(rt.resources.map((r) => [r.name, r]));
  const depth = (name: string): number => {
    const p = short(byName.get(name)?.parent ?? '');
    return p && byName.has(p) ? 1 + depth(p) : 0;
  };
  const rows = rt.resources.map((r) => ({
    type: r.type,
    name: r.name,
    parent: short(r.parent),
    depth: depth(r.name),
    dependsOn: r.dependencies.map(short),
    retainOnDelete: r.retainOnDelete === true,
  }));
  // Parents first, then children in registration order.
  const ordered: PreviewResource[] = [];
  const visit = (parent: string): void => {
    for (const r of rows.filter((x) => x.parent === parent)) {
      ordered.push(r);
      visit(r.name);
    }
  };
  visit('');
  return ordered;
}
