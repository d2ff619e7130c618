/**
 * The real Pulumi engine for the e2e suites, the demo and the bench: the
 * binaries `npm run engine` builds (lab/build-engine.sh), run offline.
 *
 * Every run gets its own `PULUMI_HOME` and a file backend in a temp folder,
 * update checks and plugin downloads off, so nothing is downloaded. The
 * plugins are installed as Pulumi installs plugins (lab/install-engine.sh:
 * `pulumi plugin install resource <name> <version> --file <binary>`, once per
 * build into `.cache/engine/<key>/home/plugins`, which every sandbox's
 * `PULUMI_HOME/plugins` links to); only the CLI and its language host are on
 * `PATH`, so the engine never warns "using pulumi-resource-X from $PATH".
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import type { PreviewDigest } from '../src/preview-guard/preview';
import { labPath } from './server';

let built: Promise<string> | undefined;

/**
 * Builds the engine unless its binaries for the installed SDK versions exist
 * (`bash lab/build-engine.sh`, progress on stderr) and resolves to the folder
 * of the binaries. Built once per process.
 * @throws when the build fails, with the script's last output.
 */
export function buildEngine(): Promise<string> {
  built ??= new Promise((resolve, reject) => {
    const child = spawn('bash', [labPath('lab', 'build-engine.sh')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d).slice(-8000);
      process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && last) resolve(last);
      else reject(new Error(`npm run engine failed (exit ${code}):\n${stderr.trim()}`));
    });
  });
  return built;
}

/** A build of the engine installed for use: {@link installEngine}. */
export interface InstalledEngine {
  /** The folder to put on PATH: `pulumi`, its Node.js language host and the dynamic-provider launcher only. */
  cliDir: string;
  /** The plugin folder the provider plugins were installed into (`pulumi plugin install --file`). */
  pluginsDir: string;
}

/**
 * Installs a build's provider plugins with lab/install-engine.sh into
 * `.cache/engine/<key>/home/plugins`, once per build (a marker file says it
 * is done; concurrent first calls each install into their own folder and
 * the first rename wins), and returns where they are.
 * @throws when the install script fails.
 */
export function installEngine(binDir: string): InstalledEngine {
  const home = join(dirname(binDir), 'home');
  const cliDir = join(dirname(binDir), 'cli');
  if (!existsSync(join(home, '.installed')) || !existsSync(cliDir)) {
    const partial = `${home}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    execFileSync('bash', [labPath('lab', 'install-engine.sh'), '--bin', binDir], {
      env: { ...process.env, PULUMI_HOME: partial },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    writeFileSync(join(partial, '.installed'), '');
    try {
      renameSync(partial, home);
    } catch {
      rmSync(partial, { recursive: true, force: true }); // another process installed it first
    }
  }
  return { cliDir, pluginsDir: join(home, 'plugins') };
}

/** A private, offline Pulumi home: its environment and a way to remove it. */
export interface EngineSandbox {
  /** The folder of the engine's binaries (the build; not on PATH). */
  binDir: string;
  /** The folder on PATH: the CLI and its language host ({@link installEngine}). */
  cliDir: string;
  /** Temp folder holding PULUMI_HOME and the file backend. */
  dir: string;
  /** Environment for `pulumi` and the Automation API. */
  env: NodeJS.ProcessEnv;
  remove(): void;
}

/** The passphrase of the sandbox's stacks (the passphrase secrets provider encrypts config secrets with it). */
export const SANDBOX_PASSPHRASE = 'postgres-strategies-e2e';

/**
 * A sandbox around the built engine: PULUMI_HOME and a `file://` backend in a
 * new temp folder, the installed plugins ({@link installEngine}) as its
 * plugin folder, the CLI first on PATH, update checks and plugin acquisition
 * off.
 */
export function engineSandbox(binDir: string): EngineSandbox {
  const { cliDir, pluginsDir } = installEngine(binDir);
  const dir = mkdtempSync(join(tmpdir(), 'ps-engine-'));
  mkdirSync(join(dir, 'backend'));
  mkdirSync(join(dir, 'home'));
  symlinkSync(pluginsDir, join(dir, 'home', 'plugins'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: [cliDir, process.env['PATH'] ?? ''].join(delimiter),
    PULUMI_HOME: join(dir, 'home'),
    PULUMI_BACKEND_URL: `file://${join(dir, 'backend')}`,
    PULUMI_CONFIG_PASSPHRASE: SANDBOX_PASSPHRASE,
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
    PULUMI_SKIP_CONFIRMATIONS: 'true',
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: 'false',
    // No colours or progress animation in captured output.
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: 'true',
    NO_COLOR: '1',
  };
  return { binDir, cliDir, dir, env, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** What a `pulumi` command printed and how it exited. */
export interface PulumiResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time, in milliseconds. */
  ms: number;
}

/** Options of {@link pulumi}. */
export interface PulumiRunOptions {
  /** Working directory: the Pulumi project. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Written to stdin (e.g. a secret for `config set --secret`). */
  input?: string;
  /** Kill the command after this many milliseconds (it then resolves with code -1). @default 900000 */
  timeoutMs?: number;
}

/** Runs the `pulumi` CLI of the sandbox's PATH with `--non-interactive` and resolves when it exits (never rejects on a non-zero exit). */
export function pulumi(args: string[], options: PulumiRunOptions): Promise<PulumiResult> {
  return pulumiRaw([...args, '--non-interactive'], options);
}

/** {@link pulumi} with the arguments exactly as given. */
function pulumiRaw(args: string[], options: PulumiRunOptions): Promise<PulumiResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('pulumi', args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 900_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started });
    });
    child.stdin!.end(options.input ?? '');
  });
}

/** The examples a user can `cd` into and `pulumi up` (examples/<name>). */
export type ExampleName = 'shared' | 'local' | 'rds' | 'hetzner' | 'move';

/** A value for `pulumi config set` (secrets go through stdin, never argv). */
export interface ConfigValue {
  value: string;
  secret?: boolean;
}

/**
 * One stack of an example, driven with the `pulumi` CLI exactly as a user
 * does in `examples/<name>`: `pulumi stack init`, `pulumi config set`,
 * `pulumi up`, … The stack's config file (`Pulumi.<stack>.yaml`, written by
 * the CLI into the example's folder) is removed by {@link remove}.
 */
export class ExampleStack {
  readonly dir: string;

  /**
   * @param dir the project's folder when it is not `examples/<example>` (the
   *   bench's own program).
   */
  constructor(
    readonly example: ExampleName,
    readonly stack: string,
    readonly sandbox: EngineSandbox,
    dir?: string,
  ) {
    this.dir = dir ?? labPath('examples', example);
  }

  /** Runs `pulumi <args> --stack <stack>` in the example's folder. */
  run(args: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<PulumiResult> {
    return pulumi([...args, '--stack', this.stack], { cwd: this.dir, env: { ...this.sandbox.env, ...options.env }, input: options.input, timeoutMs: options.timeoutMs });
  }

  /** Like {@link run}, rejecting with the output on a non-zero exit. */
  async must(args: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<PulumiResult> {
    const r = await this.run(args, options);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(' ')} (stack ${this.stack} of examples/${this.example}) exited ${r.code}:\n${r.stdout.slice(-8000)}\n${r.stderr.slice(-4000)}`);
    return r;
  }

  /** `pulumi stack init`. */
  async init(): Promise<void> {
    await pulumi(['stack', 'init', this.stack], { cwd: this.dir, env: this.sandbox.env }).then((r) => {
      if (r.code !== 0) throw new Error(`pulumi stack init ${this.stack} exited ${r.code}: ${r.stderr}`);
    });
  }

  /** `pulumi config set <namespace>:<key> …` for each entry (secrets read from stdin). */
  async config(values: Record<string, string | ConfigValue>, namespace = 'postgres-strategies'): Promise<void> {
    for (const [key, v] of Object.entries(values)) {
      const { value, secret } = typeof v === 'string' ? { value: v, secret: false } : v;
      const name = key.includes(':') ? key : `${namespace}:${key}`;
      // `--` so values that start with a dash are values; JSON values need --path=false semantics (the default).
      // Flags before `--`, so a value that starts with a dash stays a value.
      const args = ['--non-interactive', 'config', 'set', name, '--stack', this.stack, ...(secret ? ['--secret'] : []), ...(secret ? [] : ['--', value])];
      const r = await pulumiRaw(args, { cwd: this.dir, env: this.sandbox.env, input: secret ? value : '' });
      if (r.code !== 0) throw new Error(`pulumi config set ${name} (stack ${this.stack}) exited ${r.code}: ${r.stderr.trim()}`);
    }
  }

  /** `pulumi up --yes` (rejects on failure). */
  up(extra: string[] = [], timeoutMs?: number): Promise<PulumiResult> {
    return this.must(['up', '--yes', '--skip-preview', ...extra], { timeoutMs });
  }

  /** `pulumi preview --json`, parsed. */
  async preview(extra: string[] = []): Promise<PreviewJson> {
    const r = await this.run(['preview', '--json', ...extra]);
    let parsed: PreviewJson;
    try {
      parsed = JSON.parse(r.stdout) as PreviewJson;
    } catch {
      throw new Error(`pulumi preview --json (stack ${this.stack}) printed no JSON (exit ${r.code}):\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
    }
    if (r.code !== 0) throw new Error(`pulumi preview --json (stack ${this.stack}) exited ${r.code}:\n${JSON.stringify(parsed.diagnostics ?? [], null, 1).slice(-6000)}`);
    return parsed;
  }

  /** `pulumi stack output --json --show-secrets`, parsed. */
  async outputs(): Promise<Record<string, unknown>> {
    const r = await this.must(['stack', 'output', '--json', '--show-secrets']);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  /** `pulumi stack export` (the checkpoint), as text. */
  async exportState(): Promise<string> {
    return (await this.must(['stack', 'export'])).stdout;
  }

  /** `pulumi destroy --yes`, `pulumi stack rm --yes`, and the stack's config file. */
  async remove(options: { destroy?: boolean } = {}): Promise<void> {
    if (options.destroy ?? true) await this.run(['destroy', '--yes', '--skip-preview']);
    await this.run(['stack', 'rm', '--yes', '--force']);
    rmSync(join(this.dir, `Pulumi.${this.stack}.yaml`), { force: true });
  }
}

/** `pulumi preview --json` output: the guard's reading of Pulumi's `display.PreviewDigest`. */
export type PreviewJson = PreviewDigest;

/** The resource name at the end of a URN. */
export function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf('::') + 2);
}
