/**
 * Issue 22 item 8: `npm run demo` (and `npm run server`, `npm run cli`, `npm run docker-lab`) run
 * the build `npm install` made through lab/fresh.mjs, which recompiles only
 * when a source is newer than its output — checked here on a throwaway
 * project tree, as the launcher's staleness check sees it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../../../lab/consumer';

const FRESH = pathToFileURL(join(ROOT, 'lab', 'fresh.mjs')).href;

function stale(root: string): string | null {
  const script = `import { staleSource } from ${JSON.stringify(FRESH)}; process.stdout.write(JSON.stringify(staleSource(process.argv[1]) ?? null));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script, root]).toString()) as string | null;
}

describe('lab/fresh.mjs staleness check', () => {
  let dir: string;
  const at = (file: string, seconds: number): void => utimesSync(join(dir, file), seconds, seconds);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ps-fresh-'));
    mkdirSync(join(dir, 'src', 'sub'), { recursive: true });
    mkdirSync(join(dir, 'out', 'src', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { outDir: 'out' }, include: ['src'] }));
    writeFileSync(join(dir, 'package.json'), '{}');
    for (const f of ['src/a.ts', 'src/sub/b.ts', 'src/types.d.ts', 'out/src/a.js', 'out/src/sub/b.js']) writeFileSync(join(dir, f), '');
    for (const f of ['tsconfig.json', 'package.json', 'src/a.ts', 'src/sub/b.ts', 'src/types.d.ts']) at(f, 1000);
    for (const f of ['out/src/a.js', 'out/src/sub/b.js']) at(f, 2000);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds nothing to rebuild when every output is newer than its source', () => {
    expect(stale(dir)).toBeNull();
  });

  it('names a source edited after the build', () => {
    at('src/sub/b.ts', 3000);
    expect(stale(dir)).toBe(join('src', 'sub', 'b.ts'));
  });

  it('names a source that has no output yet', () => {
    writeFileSync(join(dir, 'src', 'new.ts'), '');
    at('src/new.ts', 1000);
    expect(stale(dir)).toBe(join('src', 'new.ts'));
  });

  it('rebuilds after tsconfig.json or package.json changed', () => {
    at('package.json', 3000);
    expect(stale(dir)).toBe('tsconfig.json or package.json');
  });
});

describe('the repository\'s run scripts', () => {
  it('start their compiled entry through lab/fresh.mjs (no tsc on every run): demo, server, cli, docker-lab', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect({
      demo: scripts['demo'],
      server: scripts['server'],
      cli: scripts['cli'],
      'docker-lab': scripts['docker-lab'],
    }).toEqual({
      demo: 'node lab/fresh.mjs dist/demo/main.js',
      server: 'node lab/fresh.mjs dist/lab/server-cli.js',
      cli: 'node lab/fresh.mjs dist/src/cli/main.js',
      'docker-lab': 'node lab/fresh.mjs dist/lab/docker.js',
    });
  });
});
