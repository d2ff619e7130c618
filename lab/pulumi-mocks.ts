/**
 * Pulumi's mock runtime with a recorder: every resource registration is kept
 * with its type, name, parent, dependencies, provider and resource options
 * (retainOnDelete, protect, deleteBeforeReplace, deletedWith, …), so tests can assert the resource graph, the demo
 * can print an offline preview, and the bench can measure it.
 *
 * Mocked provider state: random passwords and salts are deterministic per
 * resource name (so runs are repeatable); everything else echoes its inputs,
 * plus the few computed outputs the components read (tls PEMs, docker ids
 * and exit codes). With `preview: true` and `unknownInPreview`, the random
 * outputs are left out so they resolve as unknown, as in a real first preview.
 */
import { createHash } from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';

/** One registered resource. */
export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  parent: string;
  provider: string;
  /** URNs this resource depends on (explicit dependsOn and inputs' resources). */
  dependencies: string[];
  retainOnDelete: boolean | undefined;
  protect: boolean | undefined;
  /** The `ignoreChanges` resource option. */
  ignoreChanges: string[];
  /** The `deleteBeforeReplace` resource option. */
  deleteBeforeReplace: boolean;
  /** URN of the `deletedWith` resource option ("" when none). */
  deletedWith: string;
  /** The `additionalSecretOutputs` resource option (outputs the engine stores as secrets). */
  additionalSecretOutputs: string[];
  /** The `aliases` resource option: old URNs, or the parts of an old URN that differ (a missing part is the resource's own). */
  aliases: RecordedAlias[];
  /** The `import` resource option: the ID of an existing resource to adopt ("" when none). */
  importId: string;
  inputs: Record<string, unknown>;
  /** When the program registered it: a step of one counter shared with {@link answeredAt}. */
  registeredAt: number;
  /** When the monitor's answer reached the program (-1 until then). */
  answeredAt: number;
}

/** One alias as the SDK sends it: a URN, or a spec of the parts that differ. */
export interface RecordedAlias {
  urn?: string;
  name?: string;
  type?: string;
  /** The old parent's URN. */
  parentUrn?: string;
  /** The resource had no parent. */
  noParent?: boolean;
}

export interface MockOptions {
  project?: string;
  stack?: string;
  preview?: boolean;
  /** In preview, leave generated values (passwords, salts, keys) unknown. @default true */
  unknownInPreview?: boolean;
  /** Stack configuration, `{ "<project>:<key>": "<value>" }`. */
  config?: Record<string, string>;
  /** Config keys that are secret. */
  secretKeys?: string[];
  /** Extra computed state per resource type. */
  state?: (type: string, name: string, inputs: Record<string, unknown>) => Record<string, unknown> | undefined;
}

export interface MockRuntime {
  resources: RecordedResource[];
  /** Registrations by type. */
  ofType(type: string): RecordedResource[];
  /** The resource with this logical name. */
  named(name: string): RecordedResource;
}

/** When the mock's tls certificates are issued (their `validityEndTime` counts from it): 2026-01-01T00:00:00Z. */
export const MOCK_ISSUE_TIME = Date.UTC(2026, 0, 1);

function digest(seed: string, bytes: number): Buffer {
  return createHash('sha256').update(seed).digest().subarray(0, bytes);
}

function fakePem(kind: string, seed: string): string {
  return `-----BEGIN ${kind}-----\n${digest(seed, 32).toString('base64')}\n-----END ${kind}-----\n`;
}

/** Mock state for the types our components read outputs of. */
export function computedState(type: string, name: string, inputs: Record<string, unknown>, generate: boolean): Record<string, unknown> {
  switch (type) {
    case 'random:index/randomPassword:RandomPassword': {
      if (!generate) return {};
      const length = Number(inputs['length'] ?? 32);
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
      const raw = createHash('sha512').update(`password:${name}`).digest();
      let result = '';
      for (let i = 0; i < length; i++) result += alphabet[(raw[i % raw.length] as number) % alphabet.length];
      return { result, bcryptHash: '' };
    }
    case 'random:index/randomBytes:RandomBytes': {
      if (!generate) return {};
      const bytes = digest(`salt:${name}`, Number(inputs['length'] ?? 16));
      return { base64: bytes.toString('base64'), hex: bytes.toString('hex') };
    }
    case 'tls:index/privateKey:PrivateKey':
      return generate ? { privateKeyPem: fakePem('EC PRIVATE KEY', name), privateKeyPemPkcs8: fakePem('PRIVATE KEY', name), publicKeyPem: fakePem('PUBLIC KEY', name) } : {};
    case 'tls:index/selfSignedCert:SelfSignedCert':
    case 'tls:index/locallySignedCert:LocallySignedCert':
      // Issued at MOCK_ISSUE_TIME, valid for validityPeriodHours.
      return generate
        ? { certPem: fakePem('CERTIFICATE', name), validityEndTime: new Date(MOCK_ISSUE_TIME + Number(inputs['validityPeriodHours'] ?? 0) * 3_600_000).toISOString() }
        : {};
    case 'tls:index/certRequest:CertRequest':
      return generate ? { certRequestPem: fakePem('CERTIFICATE REQUEST', name) } : {};
    case 'docker:index/remoteImage:RemoteImage':
      return { imageId: `sha256:${digest(`image:${String(inputs['name'])}`, 32).toString('hex')}`, repoDigest: '' };
    case 'docker:index/container:Container':
      return { exitCode: 0, containerLogs: '' };
    case 'pulumi-nodejs:dynamic/postgres-strategies:BootUserData':
      // What its provider's create does: the server boots the user data given now.
      return inputs['userData'] === undefined ? {} : { bootUserData: inputs['userData'] };
    default:
      return {};
  }
}

/**
 * Installs the mock runtime and the recorder. Call before constructing
 * resources (and before requiring a Pulumi program).
 */
export function installMocks(options: MockOptions = {}): MockRuntime {
  const resources: RecordedResource[] = [];
  const preview = options.preview ?? false;
  const generate = !(preview && (options.unknownInPreview ?? true));
  const project = options.project ?? 'postgres-strategies';
  const stack = options.stack ?? 'test';
  pulumi.runtime.setAllConfig(options.config ?? {}, options.secretKeys ?? []);
  void pulumi.runtime.setMocks(
    {
      newResource: (args: pulumi.runtime.MockResourceArgs) => {
        const inputs = args.inputs as Record<string, unknown>;
        const extra = options.state?.(args.type, args.name, inputs) ?? {};
        return {
          id: preview ? undefined : `${args.name}-id`,
          state: { ...inputs, ...computedState(args.type, args.name, inputs, generate), ...extra },
        };
      },
      call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
    },
    project,
    stack,
    preview,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource: (req: RegisterRequest, cb: unknown) => unknown;
  };
  const original = monitor.registerResource.bind(monitor);
  let step = 0;
  monitor.registerResource = (req: RegisterRequest, cb: unknown) => {
    const record: RecordedResource = {
      urn: '',
      type: req.getType(),
      name: req.getName(),
      custom: req.getCustom(),
      parent: req.getParent(),
      provider: req.getProvider(),
      dependencies: req.getDependenciesList(),
      retainOnDelete: req.hasRetainondelete?.() === false ? undefined : req.getRetainondelete(),
      protect: req.hasProtect?.() === false ? undefined : req.getProtect(),
      ignoreChanges: req.getIgnorechangesList?.() ?? [],
      deleteBeforeReplace: req.getDeletebeforereplace?.() ?? false,
      deletedWith: req.getDeletedwith?.() ?? '',
      additionalSecretOutputs: req.getAdditionalsecretoutputsList?.() ?? [],
      aliases: [...(req.getAliasurnsList?.() ?? []).map((urn) => ({ urn })), ...(req.getAliasesList?.() ?? []).map(recordAlias)],
      importId: req.getImportid?.() ?? '',
      inputs: req.getObject()?.toJavaScript() ?? {},
      registeredAt: step++,
      answeredAt: -1,
    };
    resources.push(record);
    // The URN is the monitor's, as dependencies name it.
    const callback = cb as (err: unknown, resp: { getUrn(): string } | undefined) => void;
    return original(req, (err: unknown, resp: { getUrn(): string } | undefined) => {
      if (resp) record.urn = resp.getUrn();
      record.answeredAt = step++;
      callback(err, resp);
    });
  };
  return {
    resources,
    ofType: (type) => resources.filter((r) => r.type === type),
    named: (name) => {
      const r = resources.find((x) => x.name === name);
      if (!r) throw new Error(`no resource named ${name}; have: ${resources.map((x) => x.name).join(', ')}`);
      return r;
    },
  };
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getParent(): string;
  getProvider(): string;
  getDependenciesList(): string[];
  getRetainondelete(): boolean;
  hasRetainondelete?(): boolean;
  getProtect(): boolean;
  hasProtect?(): boolean;
  getIgnorechangesList?(): string[];
  getDeletebeforereplace?(): boolean;
  getDeletedwith?(): string;
  getAdditionalsecretoutputsList?(): string[];
  getAliasurnsList?(): string[];
  getAliasesList?(): AliasMessage[];
  getImportid?(): string;
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}

interface AliasMessage {
  getUrn(): string;
  hasSpec(): boolean;
  getSpec(): { getName(): string; getType(): string; getParenturn(): string; getNoparent(): boolean } | undefined;
}

function recordAlias(a: AliasMessage): RecordedAlias {
  const spec = a.hasSpec() ? a.getSpec() : undefined;
  if (!spec) return { urn: a.getUrn() };
  return {
    ...(spec.getName() ? { name: spec.getName() } : {}),
    ...(spec.getType() ? { type: spec.getType() } : {}),
    ...(spec.getParenturn() ? { parentUrn: spec.getParenturn() } : {}),
    ...(spec.getNoparent() ? { noParent: true } : {}),
  };
}

/** Resolves an Output's value (undefined when unknown), with its secret-ness. */
export async function settle<T>(output: pulumi.Output<T>): Promise<{ value: T | undefined; known: boolean; secret: boolean }> {
  const o = output as unknown as { promise(): Promise<T>; isKnown: Promise<boolean>; isSecret: Promise<boolean> };
  const [value, known, secret] = await Promise.all([o.promise(), o.isKnown, o.isSecret]);
  return { value: known ? value : undefined, known, secret };
}

/**
 * Waits until every registration and output resolution the program started
 * has gone through the mock monitor (Pulumi's own RPC queue drain).
 */
export async function settled(): Promise<void> {
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}
