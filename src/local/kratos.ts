/**
 * Ory Kratos next to the local server (the primary seed's Strategy 1): its
 * instance, image, config and published ports, and its two containers —
 * the one-shot `kratos-migrate` (`migrate sql -e --yes`) and `kratos serve`,
 * started only once the migration exited 0.
 */
import { check } from '../core/errors';
import {
  KRATOS_ADMIN_PORT,
  KRATOS_DEFAULT_IMAGE,
  KRATOS_IDENTITY_SCHEMA,
  KRATOS_MIGRATE_COMMAND,
  KRATOS_PUBLIC_PORT,
  KratosConfigOptions,
  kratosServeCommand,
  renderKratosConfig,
  validateKratosConfig,
} from '../core/kratos';
import { InstanceSpec, RoleShape } from '../core/plan';
import { ContainerPlan, FileContent, FileMount, ImageRef, PortPlan, ServiceCondition, ServiceDependency } from './containers';
import { IMAGE_REFERENCE } from './image';
import { LocalPaths } from './paths';
import { planPublish } from './publish';

/** Kratos settings of the stack. */
export interface LocalKratosOptions {
  /** The instance whose database and login Kratos uses. @default the only instance, or a new instance "kratos" when there is none */
  instance?: string;
  /** @default "oryd/kratos:v1.3.1" (the seed's pin) */
  image?: string;
  /**
   * Kratos' config file (YAML) instead of the minimal one rendered here. It
   * must not set `dsn` (the component adds the instance's DSN to it). The minimal
   * identity schema is still mounted at /etc/config/kratos/identity.schema.json.
   * It carries cookie and cipher secrets: it is uploaded as a secret and
   * kept out of the plan.
   * Warning: any change replaces the Kratos container.
   */
  config?: string;
  /** Kratos' public URL, as browsers reach it. @default http://127.0.0.1:<publishPublicPort or 4433>/ */
  publicBaseUrl?: string;
  /** Where browsers return after self-service flows. @default "http://127.0.0.1:4455/" */
  returnUrl?: string;
  /** Publish Kratos' public API (4433) on this host port (bound like publishAddress). */
  publishPublicPort?: number;
  /** Publish Kratos' admin API (4434, no authentication) on this host port (bound like publishAddress). */
  publishAdminPort?: number;
  /** Run `kratos serve --dev` (insecure cookies over plain HTTP). @default false */
  dev?: boolean;
}

/** The Kratos part of the plan (no secrets). */
export interface LocalKratosPlan {
  /** The instance Kratos uses. */
  instance: string;
  image: string;
  /** Whether the user gives the config (then it is not in the plan: it holds secrets). */
  ownConfig: boolean;
  /** The rendered minimal config (YAML, no secrets), when the user gives none. */
  config?: string;
  identitySchema: string;
  publish: PortPlan[];
}

/**
 * Which instance Kratos uses: the named one, the only one, or a new
 * instance "kratos" when there is none.
 * @throws ValidationError for an unknown instance, several unnamed ones,
 *   or a least-privilege instance (its login cannot run Kratos' migrations).
 */
export function pickKratosInstance(specs: InstanceSpec[], kratos: LocalKratosOptions): { specs: InstanceSpec[]; instance: string } {
  let picked: { specs: InstanceSpec[]; instance: string };
  if (kratos.instance !== undefined) {
    const spec = specs.find((s) => s.name === kratos.instance);
    check(
      spec !== undefined,
      'kratos.instance',
      `no instance is named "${kratos.instance}"`,
      `Name one of the instances (${specs.map((s) => s.name).join(', ') || 'none given'}), or leave kratos.instance out to get an instance "kratos"`,
    );
    picked = { specs, instance: kratos.instance };
  } else if (specs.length === 0) {
    picked = { specs: [{ name: 'kratos' }], instance: 'kratos' };
  } else {
    check(specs.length === 1, 'kratos.instance', `is not set and there are ${specs.length} instances`, 'Name the instance whose database Kratos uses');
    picked = { specs, instance: (specs[0] as InstanceSpec).name };
  }
  const spec = picked.specs.find((s) => s.name === picked.instance) as InstanceSpec;
  check(
    (spec.shape ?? RoleShape.Owner) === RoleShape.Owner,
    'kratos.instance',
    `instance "${picked.instance}" uses the ${RoleShape.LeastPrivilege} shape, whose login role cannot create tables, so \`kratos migrate sql\` would fail`,
    `Give Kratos an instance with the ${RoleShape.Owner} shape (the default)`,
  );
  return picked;
}

/** What {@link planKratos} needs from the rest of the stack. */
export interface KratosContext {
  instance: string;
  tls: boolean;
  publishAddress?: string;
  /** The config is given later (a Pulumi Input the component validates); render none. */
  configSupplied: boolean;
  /** What kratos-migrate waits for: the bootstrap's success, or the healthy server; nothing for a server outside the stack. */
  migrateAfter?: ServiceDependency;
  paths: LocalPaths;
}

/**
 * Plans Kratos' config, ports and containers.
 * @throws ValidationError for a bad image, publish port, URL or config.
 */
export function planKratos(k: LocalKratosOptions, ctx: KratosContext): { kratos: LocalKratosPlan; containers: ContainerPlan[]; staticFiles: Partial<Record<FileContent, string>> } {
  const { paths } = ctx;
  const image = k.image ?? KRATOS_DEFAULT_IMAGE;
  check(typeof image === 'string' && IMAGE_REFERENCE.test(image), 'kratos.image', `"${String(image)}" is not an image reference`, `Give a pinned reference like "${KRATOS_DEFAULT_IMAGE}"`);
  const publicPublish = planPublish(k.publishPublicPort, ctx.publishAddress, 'kratos.publishPublicPort');
  const adminPublish = planPublish(k.publishAdminPort, ctx.publishAddress, 'kratos.publishAdminPort');
  const configOptions: KratosConfigOptions = {
    publicBaseUrl: k.publicBaseUrl ?? `http://127.0.0.1:${publicPublish?.hostPort ?? KRATOS_PUBLIC_PORT}/`,
    adminBaseUrl: `http://kratos:${KRATOS_ADMIN_PORT}/`,
    returnUrl: k.returnUrl ?? 'http://127.0.0.1:4455/',
    identitySchemaPath: paths.kratosIdentitySchema,
  };
  const ownConfig = k.config !== undefined || ctx.configSupplied;
  // The user's config is checked here when it is plain text, but never kept: it holds secrets.
  if (k.config !== undefined) validateKratosConfig(k.config, 'kratos.config');
  const config = ownConfig ? undefined : renderKratosConfig(configOptions, 'kratos');
  // The config file is not static: the component adds the DSN to it (kratosConfigWithDsn), a secret.
  const staticFiles: Partial<Record<FileContent, string>> = { [FileContent.IdentitySchema]: KRATOS_IDENTITY_SCHEMA };
  const ports: PortPlan[] = [];
  if (publicPublish) ports.push({ internal: KRATOS_PUBLIC_PORT, external: publicPublish.hostPort, address: publicPublish.address });
  if (adminPublish) ports.push({ internal: KRATOS_ADMIN_PORT, external: adminPublish.hostPort, address: adminPublish.address });
  const caMount: FileMount = { path: paths.clientCaFile, content: FileContent.CaCert, mode: '0644' };
  // The DSN (with the role's password) is in the config file, never in the environment.
  const clientFiles: FileMount[] = [
    { path: paths.kratosConfig, content: FileContent.KratosConfig, mode: '0644' },
    { path: paths.kratosIdentitySchema, content: FileContent.IdentitySchema, mode: '0644' },
    ...(ctx.tls ? [caMount] : []),
  ];
  const containers: ContainerPlan[] = [
    {
      service: 'kratos-migrate',
      image: ImageRef.Kratos,
      // -e: the DSN from the environment or, here, the config file's `dsn` key (Kratos v1.3.1 cmd/migrate/sql.go).
      command: [...KRATOS_MIGRATE_COMMAND, '--config', paths.kratosConfig],
      env: [],
      files: clientFiles,
      ports: [],
      aliases: [],
      oneShot: true,
      restart: 'no',
      dependsOn: ctx.migrateAfter ? [ctx.migrateAfter] : [],
    },
    {
      service: 'kratos',
      image: ImageRef.Kratos,
      command: kratosServeCommand(paths.kratosConfig, k.dev ?? false),
      env: [],
      files: clientFiles,
      ports,
      aliases: ['kratos'],
      oneShot: false,
      restart: 'unless-stopped',
      dependsOn: [{ service: 'kratos-migrate', condition: ServiceCondition.CompletedSuccessfully }],
    },
  ];
  return {
    kratos: { instance: ctx.instance, image, ownConfig, ...(config !== undefined ? { config } : {}), identitySchema: KRATOS_IDENTITY_SCHEMA, publish: ports },
    containers,
    staticFiles,
  };
}
