/**
 * Issue 7 items 12 and 14: what `npm pack` ships and what package.json
 * promises a consumer — every exports target in the tarball and nothing of
 * the tests, lab or bench; source maps only pointing at shipped files; the
 * licence, repository and keywords; README links that work on the registry
 * page; `@pulumi/pulumi` a peer dependency, the providers dependencies.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { builtinModules } from 'node:module';
import { join, posix } from 'node:path';
import { OPTIONAL_PEERS } from '../../../src/provisioning/peer-dependencies';
import { ENTRIES, ROOT, distEntry, execFileAsync, packageJson } from './consumer';

jest.setTimeout(60_000);

const pkg = packageJson();
let shipped: Set<string>;

beforeAll(async () => {
  // --ignore-scripts: no prepack/prepare (no clean, no rebuild); lists what is on disk now.
  const { stdout } = await execFileAsync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  const [result] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
  shipped = new Set((result?.files ?? []).map((f) => f.path));
});

/** Every file below `dir` (relative to ROOT, posix separators). */
function walk(dir: string): string[] {
  if (!existsSync(join(ROOT, dir))) return [];
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? walk(`${dir}/${d.name}`) : [`${dir}/${d.name}`],
  );
}

describe('npm pack', () => {
  it('cleans dist/src before a real pack or publish (prepack; prepare then rebuilds), so no stale output ships', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-prepack-'));
    try {
      mkdirSync(join(dir, 'dist', 'src', 'old'), { recursive: true });
      mkdirSync(join(dir, 'dist', 'test'), { recursive: true });
      writeFileSync(join(dir, 'dist', 'src', 'old', 'renamed.js'), '');
      await execFileAsync('sh', ['-c', pkg.scripts['prepack'] as string], { cwd: dir });
      expect(existsSync(join(dir, 'dist', 'src'))).toBe(false);
      expect(existsSync(join(dir, 'dist', 'test'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ships every exports target, main and types, and every typesVersions target', () => {
    const targets = new Set<string>([pkg.main, pkg.types]);
    for (const t of Object.values(pkg.exports)) {
      for (const f of typeof t === 'string' ? [t] : Object.values(t)) targets.add(f.replace(/^\.\//, ''));
    }
    for (const list of Object.values(pkg.typesVersions?.['*'] ?? {})) for (const f of list) targets.add(f);
    expect([...targets].filter((f) => !shipped.has(f)).sort()).toEqual([]);
    for (const e of ENTRIES) expect(targets).toContain(distEntry(e.folder, '.js'));
  });

  it('ships only the library (dist/src, src), LICENSE, README.md and package.json', () => {
    const outside = [...shipped].filter((f) => !f.startsWith('dist/src/') && !f.startsWith('src/') && !['LICENSE', 'README.md', 'package.json'].includes(f));
    expect(outside).toEqual([]);
    const testish = [...shipped].filter((f) => /(^|\/)(test|lab|bench|demo|examples|node_modules)\//.test(f) || /\.test\.(ts|js)$/.test(f) || f.endsWith('.tsbuildinfo'));
    expect(testish).toEqual([]);
  });

  // Stale output of a renamed source is not checked here: the dry run skips
  // scripts, while a real `npm pack` / `npm publish` runs prepack (which
  // removes dist/src) and then prepare (which rebuilds it).
  it('ships every source with its .js and .d.ts', () => {
    const sources = [...shipped].filter((f) => f.startsWith('src/') && f.endsWith('.ts'));
    expect(sources.flatMap((f) => [`dist/${f.replace(/\.ts$/, '.js')}`, `dist/${f.replace(/\.ts$/, '.d.ts')}`]).filter((f) => !shipped.has(f))).toEqual([]);
    // and the whole of src/ is shipped (no source left out by `files`)
    expect(walk('src').filter((f) => f.endsWith('.ts') && !shipped.has(f))).toEqual([]);
  });

  it('ships source maps (.js.map, .d.ts.map) whose sources are all in the package', () => {
    const maps = [...shipped].filter((f) => f.endsWith('.map'));
    expect(maps.some((f) => f.endsWith('.js.map'))).toBe(true);
    expect(maps.some((f) => f.endsWith('.d.ts.map'))).toBe(true);
    const broken: string[] = [];
    for (const m of maps) {
      const map = JSON.parse(readFileSync(join(ROOT, m), 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const s of map.sources) {
        const target = posix.normalize(posix.join(posix.dirname(m), map.sourceRoot ?? '', s));
        if (!shipped.has(target)) broken.push(`${m} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('ships every map a .js or .d.ts refers to (sourceMappingURL)', () => {
    const missing: string[] = [];
    for (const f of [...shipped].filter((p) => p.endsWith('.js') || p.endsWith('.d.ts'))) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(ROOT, f), 'utf8'))?.[1];
      if (url && !shipped.has(posix.join(posix.dirname(f), url))) missing.push(`${f} → ${url}`);
    }
    expect(missing).toEqual([]);
  });
});

describe('package.json metadata', () => {
  it('has an Apache-2.0 LICENSE file with the full licence text, matching "license"', () => {
    expect(pkg.license).toBe('Apache-2.0');
    const text = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(text).toContain('Apache License');
    expect(text).toContain('Version 2.0, January 2004');
    expect(text).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
    expect(text).toContain('END OF TERMS AND CONDITIONS');
    expect(text.split('\n').length).toBeGreaterThan(190);
  });

  it('names its git repository and has keywords', () => {
    expect(pkg.repository?.type).toBe('git');
    expect(pkg.repository?.url).toMatch(/^git\+https:\/\/[^/]+\/[^/]+\/[^/]+\.git$/);
    expect(pkg.keywords).toEqual(expect.arrayContaining(['pulumi', 'postgresql']));
  });

  it('takes @pulumi/pulumi as a caret-range peer dependency, pinned only for its own development', () => {
    expect(pkg.dependencies['@pulumi/pulumi']).toBeUndefined();
    const peer = pkg.peerDependencies?.['@pulumi/pulumi'];
    expect(peer).toMatch(/^\^3\.\d+\.\d+$/);
    // The dev pin lies inside the peer range (same major, not below its minimum).
    const installed = (JSON.parse(readFileSync(require.resolve('@pulumi/pulumi/package.json'), 'utf8')) as { version: string }).version;
    const [min, have] = [(peer as string).slice(1), installed].map((v) => v.split('.').map(Number)) as [number[], number[]];
    expect(have[0]).toBe(min[0]);
    expect((have[1] as number) * 1e6 + (have[2] as number)).toBeGreaterThanOrEqual((min[1] as number) * 1e6 + (min[2] as number));
    expect(pkg.devDependencies['@pulumi/pulumi']).toMatch(/^~?3\.248\.\d+$/);
  });

  it('lists every package the shipped sources import as a dependency (providers) or peer (@pulumi/pulumi)', () => {
    const builtins = new Set(builtinModules);
    const imported = new Map<string, string>();
    for (const f of walk('src').filter((p) => p.endsWith('.ts'))) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^'.][^']*)'|^\s*import\s+'([^'.][^']*)'|(?<![.\w])require\('([^'.][^']*)'\)/gm)) {
        const spec = (m[1] ?? m[2] ?? m[3]) as string;
        if (spec.startsWith('node:') || builtins.has(spec)) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string);
        if (!imported.has(name)) imported.set(name, f);
      }
    }
    expect(imported.get('@pulumi/pulumi')).toBeDefined();
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies ?? {})]);
    expect([...imported].filter(([name]) => !declared.has(name)).map(([name, f]) => `${name} (imported by ${f})`)).toEqual([]);
    // The root entry's providers are dependencies.
    for (const p of ['@pulumi/postgresql', '@pulumi/random']) expect(pkg.dependencies[p]).toBeDefined();
  });

  it('takes the strategy entries\' provider SDKs as optional peer dependencies, at the ranges the entries name (issue 22 item 13)', () => {
    const optional = Object.entries(pkg.peerDependenciesMeta ?? {}).filter(([, m]) => m.optional).map(([name]) => name).sort();
    expect(optional).toEqual(['@pulumi/aws', '@pulumi/docker', '@pulumi/hcloud', '@pulumi/tls']);
    for (const p of optional) {
      expect(pkg.dependencies[p]).toBeUndefined();
      expect(pkg.devDependencies[p]).toBeDefined();
      expect(pkg.peerDependencies?.[p]).toBe(OPTIONAL_PEERS[p]);
    }
    expect(Object.keys(OPTIONAL_PEERS).sort()).toEqual(optional);
  });
});

describe('README', () => {
  // npm renders the README on the registry page, where a relative link
  // resolves against npmjs.com: only links to files in the package (or
  // absolute URLs, or anchors) work there.
  it('links only to absolute URLs, anchors, or files the package ships', () => {
    const text = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/```[\s\S]*?```/g, '');
    const links = [
      ...[...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] as string),
      ...[...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/gm)].map((m) => m[1] as string),
      ...[...text.matchAll(/<(?:a|img)\b[^>]*\b(?:href|src)="([^"]+)"/gi)].map((m) => m[1] as string),
    ];
    const broken = links.filter((l) => {
      if (/^(https?:|mailto:)/i.test(l) || l.startsWith('#')) return false;
      const file = posix.normalize(l.replace(/[#?].*$/, '')).replace(/^\.\//, '').replace(/\/$/, '');
      return !shipped.has(file);
    });
    expect(broken).toEqual([]);
  });
});
