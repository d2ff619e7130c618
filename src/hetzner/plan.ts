/**
 * The plan of a self-managed PostgreSQL server on Hetzner Cloud (pure, no
 * Pulumi import): every argument of `HetznerPostgres` checked and completed
 * before any resource is registered — resource names, network, firewall
 * rules, certificate SANs, PostgreSQL major of the image, the server's
 * postgresql.conf and pg_hba.conf (rendered here, once), capacity and the
 * instances declared for the cloud-init bootstrap — and the rules a later
 * deployment's change of image, location or major must follow
 * ({@link checkServerChange}).
 */
import { DEFAULT_MAINTENANCE_CONNECTIONS, ServerCapacity, capacityFromPgConfig, connectionBudget, defaultAdminConnections } from '../core/budget';
import { ServerCertificatePlan, planServerCertificates } from '../core/certificates';
import { ValidationError, check, checkInteger } from '../core/errors';
import { IdentifierKind, nameFromText, validateIdentifier } from '../core/identifiers';
import { InstanceSpec, ServerPlan, planServer } from '../core/plan';
import { ConfValue } from '../core/server-config';
import { SslMode } from '../core/tls';
import { DEFAULT_IMAGE, postgresMajorFor } from './debian';
import { FirewallRulePlan, NetworkOptions, NetworkPlan, admittedCidrs, planFirewallRules, planNetwork } from './network';
import { DumpBackupSettings, HetznerServerConfig, renderServerConfig, validateBackupSettings } from './cloud-init';
import { PitrOptions, PitrPlan, planPitr } from './backup';

/** Longest default server name: the longest suffix (`-network`) still fits Hetzner's 63 characters. */
export const DEFAULT_SERVER_NAME_MAX = 55;

/**
 * The default server name of a new server: `<project>-<stack>-<name>` as a
 * DNS label (lower case, letters, digits and `-`; cut with a hash beyond 55
 * characters), so the stacks of one program, and the `prod` stacks of two
 * programs, can share a Hetzner project, whose names must be unique. The
 * network, firewall and volume are named after it. Like a Pulumi auto-name
 * it names new resources only (the component ignores later changes of
 * defaulted names): servers created by the releases of 2026-11-27
 * (`<name>`) and 2026-12-04 (`<name>-<stack>`) keep theirs.
 */
export function defaultServerName(name: string, stack: string, project: string): string {
  return nameFromText(`${project}-${stack}-${name}`, DEFAULT_SERVER_NAME_MAX);
}

/** The Hetzner names of the resources, from the server name. */
export interface HetznerResourceNames {
  server: string;
  network: string;
  firewall: string;
  volume: string;
}

/** The names of the server's network, firewall and volume: `<serverName>-network`, `-firewall`, `-data`. */
export function hetznerResourceNames(serverName: string): HetznerResourceNames {
  return { server: serverName, network: `${serverName}-network`, firewall: `${serverName}-firewall`, volume: `${serverName}-data` };
}


/** The plain (non-Pulumi) arguments the plan checks. */
export interface HetznerPlanOptions extends NetworkOptions {
  /** Hetzner server type, e.g. `"cx23"`. */
  serverType: string;
  /** @default "debian-12" */
  image?: string;
  postgresMajor?: number;
  /** The major the volume's cluster runs before an explicit major upgrade. */
  postgresMajorUpgradeFrom?: number;
  /** The server's name (see {@link defaultServerName}). */
  serverName: string;
  /**
   * The server name is the default: the Hetzner names (and, without
   * `publicHostName`, the certificate's) name new resources only. @default false
   */
  serverNameIsDefault?: boolean;
  allowedCidrs?: string[];
  sshAllowedCidrs?: string[];
  publicHostName?: string;
  publicAccess?: boolean;
  /** Volume size, in GB. @default 20 */
  volumeSize?: number;
  pgConfig?: Record<string, ConfValue>;
  /** @default "pgadmin" */
  adminUser?: string;
  instances?: InstanceSpec[];
  namePrefix?: string;
  backup?: DumpBackupSettings;
  /** Continuous WAL archiving and PITR (backup.ts). */
  pitr?: PitrOptions;
  labels?: Record<string, string>;
}

/** The checked plan. */
export interface HetznerPlan {
  serverName: string;
  /** Hetzner names of the server, network, firewall and volume. */
  names: HetznerResourceNames;
  /**
   * The names are defaults, fixed when each resource is created (a later
   * default never renames it): the server name was not given.
   */
  namesFixedAtCreation: boolean;
  /**
   * The certificate's names (common name and DNS SAN) are the default
   * server name, fixed when it is first issued: neither `serverName` nor
   * `publicHostName` was given.
   */
  certificateNamesFixedAtCreation: boolean;
  serverType: string;
  image: string;
  postgresMajor: number;
  /** The older major of an explicit upgrade (the setup creates the new cluster beside it). */
  postgresMajorUpgradeFrom?: number;
  network: NetworkPlan;
  firewallRules: FirewallRulePlan[];
  /** pg_hba's admitted client networks: the private subnet, then allowedCidrs. */
  admittedCidrs: string[];
  listenAddresses: string[];
  certificates: ServerCertificatePlan;
  volumeSize: number;
  adminUser: string;
  pgConfig: Record<string, ConfValue>;
  /** The server's postgresql.conf fragment and pg_hba.conf, rendered once. */
  config: HetznerServerConfig;
  capacity: ServerCapacity;
  /** The instances the cloud-init bootstrap creates (empty when none are declared) and their budget. */
  server: ServerPlan;
  /** pgBackRest's repository and schedules, when `pitr` is given. */
  pitr?: PitrPlan;
  labels: Record<string, string>;
}

/**
 * Checks every argument and plans the server.
 * @throws ValidationError naming the user's field (network ranges, CIDRs,
 *   image/major, server type, name, volume size, pgConfig, admin user,
 *   instances, connection budget, labels).
 */
export function planHetzner(o: HetznerPlanOptions): HetznerPlan {
  check(typeof o.serverType === 'string' && /^[a-z][a-z0-9-]*$/.test(o.serverType), 'serverType', `"${o.serverType}" is not a Hetzner server type`, 'Give a type such as "cx23" or "cpx22" (hcloud server-type list)');
  check(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(o.serverName), 'serverName', `"${o.serverName}" is not a valid server name`, 'Use lower-case letters, digits and "-" (it is also the certificate\'s common name)');
  const image = o.image ?? DEFAULT_IMAGE;
  const postgresMajor = postgresMajorFor(image, o.postgresMajor);
  if (o.postgresMajorUpgradeFrom !== undefined) {
    check(
      Number.isInteger(o.postgresMajorUpgradeFrom) && o.postgresMajorUpgradeFrom >= 13 && o.postgresMajorUpgradeFrom < postgresMajor,
      'postgresMajorUpgradeFrom',
      `${o.postgresMajorUpgradeFrom} is not a PostgreSQL major older than the image's ${postgresMajor}`,
      'Give the major the volume\'s cluster runs now (e.g. 15 when moving from debian-12 to debian-13), or remove it once the upgrade is done',
    );
  }
  const network = planNetwork(o);
  const publicAccess = o.publicAccess ?? false;
  check(typeof publicAccess === 'boolean', 'publicAccess', 'is not a boolean', 'Give true or false');
  // The one check of the client CIDRs, with the user's field names.
  const allowedCidrs = o.allowedCidrs ?? [];
  const firewallRules = planFirewallRules({ subnetIpRange: network.subnetIpRange, allowedCidrs, sshAllowedCidrs: o.sshAllowedCidrs ?? [], publicAccess });
  const admitted = admittedCidrs(network.subnetIpRange, allowedCidrs);
  const listenAddresses = publicAccess ? ['*'] : [network.privateIp];
  const certificates = planServerCertificates({
    dnsNames: [o.publicHostName ?? o.serverName],
    ipAddresses: [network.privateIp],
  });
  const volumeSize = o.volumeSize ?? 20;
  checkInteger(volumeSize, 'volumeSize', 10, 10240, 'GB');
  const adminUser = validateIdentifier(o.adminUser ?? 'pgadmin', IdentifierKind.Role, 'adminUser');
  const pgConfig = o.pgConfig ?? {};
  // Same checks as every strategy, plus the keys this setup manages; rendered here once.
  const config = renderServerConfig({ postgresMajor, listenAddresses, admittedCidrs: admitted, pgConfig });
  const { maxConnections, reservedConnections } = capacityFromPgConfig(pgConfig, { major: postgresMajor });
  const capacity: ServerCapacity = {
    maxConnections,
    reservedConnections,
    // The handle's numbers (the nightly pg_dump and a psql session fit the maintenance headroom).
    adminConnections: defaultAdminConnections(maxConnections, reservedConnections),
    maintenanceConnections: DEFAULT_MAINTENANCE_CONNECTIONS,
  };
  const server: ServerPlan =
    o.instances && o.instances.length > 0
      ? planServer(o.instances, capacity, { namePrefix: o.namePrefix ?? '', adminUser, adminDatabase: 'postgres' })
      : { instances: [], budget: connectionBudget(capacity, []) };
  if (o.backup !== undefined) validateBackupSettings(o.backup);
  const pitr = o.pitr !== undefined ? planPitr(o.pitr) : undefined;
  const labels = o.labels ?? {};
  for (const [k, v] of Object.entries(labels)) {
    check(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/.test(k), `labels.${k}`, `"${k}" is not a Hetzner label key`, 'Use letters, digits, ".", "_" and "-", at most 63 characters, with an optional "prefix/"');
    check(/^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/.test(v), `labels.${k}`, `"${v}" is not a Hetzner label value`, 'Use letters, digits, ".", "_" and "-", at most 63 characters');
  }
  return {
    serverName: o.serverName,
    names: hetznerResourceNames(o.serverName),
    namesFixedAtCreation: o.serverNameIsDefault === true,
    certificateNamesFixedAtCreation: o.serverNameIsDefault === true && o.publicHostName === undefined,
    serverType: o.serverType,
    image,
    postgresMajor,
    ...(o.postgresMajorUpgradeFrom !== undefined ? { postgresMajorUpgradeFrom: o.postgresMajorUpgradeFrom } : {}),
    network,
    firewallRules,
    admittedCidrs: admitted,
    listenAddresses,
    certificates,
    volumeSize,
    adminUser,
    pgConfig,
    config,
    capacity,
    server,
    ...(pitr !== undefined ? { pitr } : {}),
    labels: { 'managed-by': 'postgres-strategies', ...labels },
  };
}

/** What a server was created from: a change of any of these replaces it. */
export interface ServerGeneration {
  image: string;
  location: string;
  postgresMajor: number;
}

/** The next deployment's generation and how it may change. */
export interface ServerChange extends ServerGeneration {
  /** `reprovisionOnUserDataChange`: a replaced server boots the current user data. */
  reprovision: boolean;
  /** `postgresMajorUpgradeFrom`. */
  postgresMajorUpgradeFrom?: number;
}

/**
 * The rules for changing what the server was created from (checked at
 * preview, against the previous deployment, by the component's user-data
 * resource):
 * - `location`: never. A Hetzner volume cannot move between locations; the
 *   server would come up on a new, empty volume.
 * - the PostgreSQL major (an image of another Debian release): only as an
 *   explicit upgrade, `postgresMajorUpgradeFrom` = the previous major, with
 *   `reprovisionOnUserDataChange` (the new server must boot the new major's
 *   user data); the setup then creates the new major's cluster beside the
 *   old one, and the dumps are restored into it (docs/hetzner.md).
 * - `image` of the same major: only with `reprovisionOnUserDataChange`.
 *   Hetzner replaces the server; with user-data changes ignored, Pulumi
 *   would give the new server the old server's user data (its certificate,
 *   settings and setup program).
 * @returns undefined when the change is allowed, else the error to show
 *   (field, problem, fix).
 */
export function checkServerChange(previous: ServerGeneration, next: ServerChange): ValidationError | undefined {
  if (previous.location !== next.location) {
    return new ValidationError(
      'location',
      `changes from ${previous.location} to ${next.location}, but a Hetzner volume cannot move between locations: the server would come up on a new, empty volume`,
      `Keep location "${previous.location}". To move, deploy a second HetznerPostgres in ${next.location} and restore the dumps into it (https://github.com/VibeWarden/postgres-strategies/blob/main/docs/hetzner.md#moving-and-upgrading)`,
    );
  }
  if (previous.postgresMajor !== next.postgresMajor) {
    if (next.postgresMajorUpgradeFrom !== previous.postgresMajor || !next.reprovision) {
      return new ValidationError(
        'image',
        `${previous.image} → ${next.image} changes PostgreSQL ${previous.postgresMajor} → ${next.postgresMajor}, and the volume holds PostgreSQL ${previous.postgresMajor}'s cluster`,
        `Keep image "${previous.image}", or upgrade on purpose: take a dump, then set postgresMajorUpgradeFrom: ${previous.postgresMajor}, reprovisionOnUserDataChange: true and deleteProtection: false, and restore the dumps into the new cluster (https://github.com/VibeWarden/postgres-strategies/blob/main/docs/hetzner.md#moving-and-upgrading)`,
      );
    }
    return undefined;
  }
  if (previous.image !== next.image && !next.reprovision) {
    return new ValidationError(
      'image',
      `changes from ${previous.image} to ${next.image}, which replaces the server, and with user-data changes ignored the new server would boot the old server's user data (its certificate, settings and setup program)`,
      'Set reprovisionOnUserDataChange: true and deleteProtection: false for this update: the new server boots the current user data and adopts the cluster on the volume; or keep the image',
    );
  }
  return undefined;
}

/**
 * The admin provider's sslmode: verify-full when it connects to a name or
 * address the server certificate holds (the private IP by default, the
 * `publicHostName`), else verify-ca (a public IP, a tunnel, a value known
 * only at deployment): the chain is still checked against this server's
 * own private CA, which signs nothing else, so only a server holding a
 * certificate of this stack's CA is accepted.
 */
export function adminSslMode(certificates: ServerCertificatePlan, adminHost?: string): SslMode {
  if (adminHost === undefined) return SslMode.VerifyFull;
  const names = [...certificates.server.dnsNames.map((n) => n.toLowerCase()), ...certificates.server.ipAddresses];
  return names.includes(adminHost.toLowerCase()) ? SslMode.VerifyFull : SslMode.VerifyCa;
}

/** The device path of a Hetzner volume (what Hetzner's docs mount: by id, not /dev/sdX). */
export function hetznerVolumeDevice(volumeId: number | string): string {
  check(/^[A-Za-z0-9-]+$/.test(String(volumeId)), 'volumeId', `"${volumeId}" is not a volume id`, 'Give the numeric id');
  return `/dev/disk/by-id/scsi-0HC_Volume_${volumeId}`;
}
