/**
 * Issue 22: a new user's first hour, scripted — the README's "Try it" blocks
 * run as written, line by line, in one bash as a terminal would, on the real
 * engine: `npm run server` (terminal 1), then in a second shell `npm pack`,
 * `npm run engine:install` (the plugins installed with `pulumi plugin install
 * --file`, only the CLI on PATH), a copy of examples/shared with the packed
 * tarball installed, `pulumi up`, `pulumi destroy`, a new stack whose
 * preview names the retained roles and databases, `adopt`, and adopt off.
 * Between the steps the test checks what the issue's items promise:
 *
 * - item 1: the tarball installs into a fresh folder, and the stack type-checks and runs;
 * - item 2: the server's printed `pulumi config set` lines are what the stack needs;
 * - item 4: no "using pulumi-resource-X from $PATH" warning on any command;
 * - item 5: the new stack's preview fails naming what exists; adopt keeps data, owner and
 *   password; adopt off gives the stack's own passwords;
 * - item 7: a validation error reads as Pulumi's own (no stack trace, no colour codes);
 * - item 9: the packed CLI is executable and runs;
 * - item 13: the root-only stack has none of the optional peer SDKs, and a strategy entry
 *   names the one to install;
 * - item 14: `pulumi stack output --show-secrets` fits a screen (one line per output);
 *   the stacks' state is where the README puts it (`~/my-stack/state`), and nothing is
 *   written into the real ~/.pulumi.
 *
 * The README's `npm install` of the clone is not run again (this checkout is installed), and the
 * shell's HOME is a temp folder (`~/my-stack`, `~/.pulumi`) with npm's cache kept where it is.
 */
import { spawn, ChildProcess, ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { buildEngine } from '../../../lab/engine';
import { psql } from '../../../lab/psql';
import { labPath } from '../../../lab/server';
import { ENGINE_BUILD_TIMEOUT } from './support';

/** The commands of the README's fenced block that follows `<!-- try-it:<name> -->`. */
function readmeBlock(name: string): string[] {
  const readme = readFileSync(labPath('README.md'), 'utf8');
  const m = new RegExp(`<!-- try-it:${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\\n\`\`\``).exec(readme);
  if (!m) throw new Error(`README.md has no block <!-- try-it:${name} -->`);
  return (m[1] as string).split('\n');
}

/** What one command printed (stdout and stderr together) and its exit status. */
interface Step {
  line: string;
  code: number;
  output: string;
}

/** One bash, fed one command at a time (stdin of each command is /dev/null), as a terminal session. */
class Shell {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffer = '';
  readonly steps: Step[] = [];

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.child = spawn('bash', ['--noprofile', '--norc'], { cwd, env, stdio: 'pipe' });
    this.child.stdout.on('data', (d) => (this.buffer += d));
    this.child.stderr.on('data', (d) => (this.buffer += d));
    this.child.stdin.write('exec 2>&1\n');
  }

  /** Runs `line` exactly as written (a trailing comment included) and resolves with its exit status and output. */
  async run(line: string, timeoutMs = 10 * 60_000): Promise<Step> {
    const marker = `__done_${this.steps.length}__`;
    this.buffer = '';
    this.child.stdin.write(`{ ${line}\n} </dev/null\nprintf '\\n${marker}%s\\n' "$?"\n`);
    const deadline = Date.now() + timeoutMs;
    const pattern = new RegExp(`\\n${marker}(\\d+)\\n`);
    let m: RegExpExecArray | null;
    while (!(m = pattern.exec(this.buffer))) {
      if (Date.now() > deadline) throw new Error(`\`${line}\` did not finish in ${timeoutMs} ms:\n${this.buffer.slice(-4000)}`);
      if (this.child.exitCode !== null) throw new Error(`the shell exited during \`${line}\`:\n${this.buffer.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const step = { line, code: Number(m[1]), output: this.buffer.slice(0, m.index) };
    this.steps.push(step);
    return step;
  }

  /** {@link run}, failing with the output unless the command exits 0. */
  async ok(line: string, timeoutMs?: number): Promise<Step> {
    const step = await this.run(line, timeoutMs);
    if (step.code !== 0) throw new Error(`\`${line}\` exited ${step.code}:\n${step.output.slice(-6000)}`);
    return step;
  }

  close(): void {
    this.child.stdin.end('exit\n');
  }
}

jest.setTimeout(40 * 60_000);

describe('the README\'s "Try it" path, as written (issue 22)', () => {
  let root: string;
  let home: string;
  let server: ChildProcess | undefined;
  let serverOut = '';
  let shell: Shell;
  /** The blog instance's URL from the first stack (its password is the role's until adopt is turned off). */
  let oldBlogUrl = '';
  /** The OS user's own ~/.pulumi, where `pulumi login --local` keeps a backend: none of this test's state may land there. */
  const realPulumi = join(userInfo().homedir, '.pulumi');
  const BACKEND_ENTRIES = ['meta.yaml', 'meta.yaml.attrs', 'stacks', 'locks', 'history', 'backups'];
  const realPulumiBefore = (): Record<string, number> =>
    Object.fromEntries(BACKEND_ENTRIES.filter((f) => existsSync(join(realPulumi, f))).map((f) => [f, statSync(join(realPulumi, f)).mtimeMs]));
  let realPulumiAtStart: Record<string, number> = {};

  beforeAll(async () => {
    await buildEngine();
    root = mkdtempSync(join(tmpdir(), 'ps-first-hour-'));
    chmodSync(root, 0o755); // the embedded server runs as the OS user postgres (as root) and reads below TMPDIR
    home = join(root, 'home');
    mkdirSync(home);
    realPulumiAtStart = realPulumiBefore();
  }, ENGINE_BUILD_TIMEOUT);

  afterAll(() => {
    shell?.close();
    // `npm pack` in the README writes the tarball into the clone.
    for (const f of readdirSync(labPath()).filter((n) => /^postgres-strategies-.*\.tgz$/.test(n))) rmSync(labPath(f), { force: true });
    if (server && server.exitCode === null && server.pid !== undefined) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    rmSync(root, { recursive: true, force: true });
  });

  test('terminal 1: `npm run server` keeps a PostgreSQL with TLS and prints the config lines', async () => {
    const block = readmeBlock('server').map((l) => l.replace(/\s+#.*$/, ''));
    expect(block).toEqual(['npm install', 'npm run server']);
    server = spawn('sh', ['-c', block[1]!], { cwd: labPath(), env: { ...process.env, TMPDIR: root }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (d) => (serverOut += d));
    server.stderr!.on('data', (d) => (serverOut += d));
    const deadline = Date.now() + 180_000;
    while (!/Keep this running/.test(serverOut)) {
      if (server.exitCode !== null || Date.now() > deadline) throw new Error(`npm run server did not start:\n${serverOut}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(serverOut).toMatch(/^PostgreSQL 17 \(embedded\) with TLS on localhost:\d+/m);
  });

  test('terminal 2: pack, install the engine and the tarball into a new folder, as written', async () => {
    const { PULUMI_HOME: _home, PULUMI_BACKEND_URL: _backend, PULUMI_CONFIG_PASSPHRASE: _pass, ...rest } = process.env;
    shell = new Shell(labPath(), {
      ...rest,
      HOME: home,
      TMPDIR: root,
      // npm's cache stays the machine's (packages come from it, not downloaded again).
      npm_config_cache: process.env['npm_config_cache'] ?? join(homedir(), '.npm'),
      // Go's caches likewise, should `npm run engine:install` have to build.
      GOCACHE: process.env['GOCACHE'] ?? join(homedir(), '.cache', 'go-build'),
      GOMODCACHE: process.env['GOMODCACHE'] ?? join(homedir(), 'go', 'pkg', 'mod'),
      // Pulumi finds its home through the OS user, not $HOME: PULUMI_HOME is where a user's ~/.pulumi
      // would be (its plugins). The backend is the README's own (PULUMI_BACKEND_URL, in the stack's folder).
      PULUMI_HOME: join(home, '.pulumi'),
      // Nothing may be downloaded: every plugin must come from `npm run engine:install`.
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
      PULUMI_SKIP_UPDATE_CHECK: 'true',
    });
    for (const line of readmeBlock('install')) await shell.ok(line);
    const stack = join(home, 'my-stack');
    expect((await shell.ok('pwd')).output.trim()).toBe(stack);

    // item 9: the packed CLI keeps its executable bit, and runs from the installed package.
    const listing = (await shell.ok('tar -tvzf "$tgz" package/dist/src/cli/main.js')).output;
    expect(listing).toMatch(/^-rwxr-xr-x /);
    expect((await shell.ok('npx postgres-strategies --help')).output).toContain('usage: postgres-strategies <command>');

    // item 4: the plugins are installed in the plugin folder, not found on PATH.
    expect(readdirSync(join(home, '.pulumi', 'plugins')).filter((f) => !f.endsWith('.lock')).sort()).toEqual([
      'resource-docker-v5.0.0',
      'resource-postgresql-v3.18.0',
      'resource-random-v4.21.1',
      'resource-tls-v5.5.1',
    ]);
    expect((await shell.ok('command -v pulumi-resource-postgresql || echo none')).output.trim()).toBe('none');

    // item 13: none of the strategies' SDKs came along; a strategy entry names what to install.
    for (const sdk of ['aws', 'docker', 'hcloud', 'tls']) expect(existsSync(join(stack, 'node_modules', '@pulumi', sdk))).toBe(false);
    const rds = await shell.run(`node -e "require('postgres-strategies/rds')"`);
    expect(rds.code).not.toBe(0);
    expect(rds.output).toContain("postgres-strategies/rds: needs @pulumi/aws, which is not installed");
    expect(rds.output).toContain("npm install '@pulumi/aws@^7.48.0'");

    // item 1: the stack type-checks against the installed package.
    await shell.ok('npx tsc --noEmit -p .');
  });

  test('the example\'s steps with the printed config lines: `pulumi up` works, with no warning', async () => {
    const configLines = serverOut.split('\n').filter((l) => l.startsWith('pulumi config set '));
    expect(configLines.length).toBeGreaterThanOrEqual(8);
    for (const line of readmeBlock('example')) {
      if (/^# paste the `pulumi config set` lines/.test(line)) {
        for (const c of configLines) await shell.ok(c);
      } else {
        await shell.ok(line);
      }
    }
    const urls = JSON.parse((await shell.ok('pulumi stack output --json --show-secrets urls')).output) as Record<string, string>;
    expect(Object.keys(urls).sort()).toEqual(['admin', 'api', 'blog']);

    // item 14: every output at a glance, one line each (no pages of bootstrap SQL first).
    const listing = (await shell.ok('pulumi stack output --show-secrets')).output.trimEnd().split('\n');
    expect(listing[0]).toMatch(/^Current stack outputs \((\d+)\):$/);
    const count = Number(/\((\d+)\)/.exec(listing[0]!)![1]);
    expect(listing.slice(2).map((l) => l.trim().split(/\s+/)[0]).sort()).toEqual(['budget', 'gatewayEnvs', 'kratosDsns', 'kratosMigrateDsns', 'pgxUrls', 'pooledUrls', 'sslmode', 'urls']);
    expect(listing).toHaveLength(count + 2);
    // The stack's state is in the folder the README names, with the stack in it.
    const state = join(home, 'my-stack', 'state', '.pulumi');
    expect(existsSync(join(state, 'meta.yaml'))).toBe(true);
    expect(readdirSync(join(state, 'stacks', 'postgres-strategies-shared'))).toContain('dev.json');

    // Data the adopting stack must keep: written as the instance's own role.
    const write = await psql(urls['blog']!, "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('written before destroy')");
    expect(write.stderr).toBe('');
    oldBlogUrl = urls['blog']!;

    // item 7: a bad input fails the preview as Pulumi's own error: no stack trace, no colour codes.
    await shell.ok('pulumi stack init bad-input --copy-config-from dev');
    await shell.ok('pulumi config set postgres-strategies:sslmode prefer');
    const bad = await shell.run('pulumi preview');
    expect(bad.code).not.toBe(0);
    expect(bad.output).toMatch(/error: ExternalPostgres\.sslmode: "prefer" is not permitted/);
    expect(bad.output).not.toMatch(/unhandled exception|^\s+at .+\(.+:\d+:\d+\)$|\u001b\[/m);
    await shell.ok('pulumi stack rm --yes bad-input');
    await shell.ok('pulumi stack select dev');
  });

  test('destroy, then a new stack: its preview names what exists; adopt keeps data, owner and password; adopt off gives its own', async () => {
    let adopting = false;
    for (const line of readmeBlock('adopt')) {
      const command = line.replace(/\s+#.*$/, '');
      if (command === 'pulumi config set postgres-strategies:adopt true') adopting = true;
      if (command === 'pulumi config set postgres-strategies:adopt false') adopting = false;
      if (command === 'pulumi preview') {
        const preview = await shell.run(line);
        expect(preview.code).not.toBe(0);
        expect(preview.output).toMatch(/error: InstanceDatabase "shared-blog": database "vw_blog" and role "vw_blog" already exist on localhost:\d+, and this stack has not created them/);
        expect(preview.output).toContain('pulumi config set postgres-strategies:adopt true');
        expect(preview.output).not.toMatch(/unhandled exception|error serializing/);
        continue;
      }
      await shell.ok(line);
      if (command === 'pulumi destroy --yes') {
        // Retained: the old URL still logs in and reads its data.
        expect((await psql(oldBlogUrl, 'SELECT note FROM kept')).stdout.trim()).toBe('written before destroy');
      }
      if (command === 'pulumi up --yes' && adopting) {
        // Adopted: the same data, owner and password (the old URL still works).
        const r = await psql(oldBlogUrl, "SELECT note, pg_get_userbyid(datdba) FROM kept, pg_database WHERE datname = current_database()");
        expect(r.stdout.trim()).toBe('written before destroy|vw_blog');
        const state = (await shell.ok('pulumi stack export')).output;
        expect(state).toContain('"id": "vw_blog"');
      }
    }
    // Adopt off: the roles have this stack's passwords, the ones in its outputs.
    const urls = JSON.parse((await shell.ok('pulumi stack output --json --show-secrets urls')).output) as Record<string, string>;
    expect(urls['blog']).not.toBe(oldBlogUrl);
    expect((await psql(urls['blog']!, 'SELECT note FROM kept')).stdout.trim()).toBe('written before destroy');
    expect((await psql(oldBlogUrl, 'SELECT 1')).stderr).toMatch(/password authentication failed/);
    const noop = await shell.ok('pulumi preview --expect-no-changes');
    expect(noop.output).not.toMatch(/warning: .*adopt is still on/);
  });

  test('no command warned "using pulumi-resource-X from $PATH" (item 4)', () => {
    const pulumiSteps = shell.steps.filter((s) => /^pulumi /.test(s.line));
    expect(pulumiSteps.length).toBeGreaterThan(10);
    expect(pulumiSteps.filter((s) => /from \$PATH/.test(s.output)).map((s) => s.line)).toEqual([]);
  });

  test('nothing was written into the real ~/.pulumi (the README keeps the state in the stack\'s folder)', () => {
    expect(realPulumiBefore()).toEqual(realPulumiAtStart);
  });

  test('Ctrl-C in terminal 1 stops the server and removes its data', async () => {
    const exited = new Promise((res) => server!.once('exit', res));
    process.kill(-server!.pid!, 'SIGINT');
    await exited;
    expect(serverOut).toMatch(/stopped PostgreSQL 17 on localhost:\d+; its data and CA are removed/);
    expect(readdirSync(join(root, 'postgres-strategies-server'))).toEqual([]);
  });
});
