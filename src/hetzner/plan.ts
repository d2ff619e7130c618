/**
 * The plan of a self-managed PostgreSQL server on Hetzner Cloud (pure, no
 * Pulumi import): every argument of `HetznerPostgres` checked and completed
 * before any resource is registered — network, firewall rules, certificate
 * SANs, PostgreSQL major of the image, postgresql.conf settings, capacity
 * and the instances declared for the cloud-init bootstrap.
 */
import { DEFAULT_ADMIN_MAX_CONNECTIONS, DEFAULT_MAINTENANCE_CONNECTIONS, ServerCapacity } from '../core/budget';
import { ServerCertificatePlan, planServerCertificates } from '../core/certificates';
import { check, checkInteger } from '../core/errors';
import { IdentifierKind, validateIdentifier } from '../core/identifiers';
import { InstanceSpec, ServerClaims, ServerPlan, planInstances } from '../core/plan';
import { ConfValue, validateCidr } from '../core/server-config';
import { DEFAULT_IMAGE, postgresMajorFor } from './debian';
import { FirewallRulePlan, NetworkOptions, NetworkPlan, planFirewallRules, planNetwork } from './network';
import { DumpBackupSettings, hetznerServerSettings, validateBackupSettings } from './cloud-init';


/** The plain (non-Pulumi) arguments the plan checks. */
export interface HetznerPlanOptions extends NetworkOptions {
  /** Hetzner server type, e.g. `"cx23"`. */
  serverType: string;
  /** @default "debian-12" */
  image?: string;
  postgresMajor?: number;
  /** The server's name. */
  serverName: string;
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
  labels?: Record<string, string>;
}

/** The checked plan. */
export interface HetznerPlan {
  serverName: string;
  serverType: string;
  image: string;
  postgresMajor: number;
  network: NetworkPlan;
  firewallRules: FirewallRulePlan[];
  /** pg_hba's admitted client networks: the private subnet, then allowedCidrs. */
  admittedCidrs: string[];
  listenAddresses: string[];
  certificates: ServerCertificatePlan;
  volumeSize: number;
  adminUser: string;
  pgConfig: Record<string, ConfValue>;
  capacity: ServerCapacity;
  /** The instances the cloud-init bootstrap creates (empty when none are declared) and their budget. */
  server: ServerPlan;
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
  const network = planNetwork(o);
  const allowedCidrs = o.allowedCidrs ?? [];
  const sshAllowedCidrs = o.sshAllowedCidrs ?? [];
  const firewallRules = planFirewallRules({ subnetIpRange: network.subnetIpRange, allowedCidrs, sshAllowedCidrs });
  for (const [field, list] of [['allowedCidrs', allowedCidrs], ['sshAllowedCidrs', sshAllowedCidrs]] as const) {
    list.forEach((c, i) => {
      validateCidr(c, `${field}[${i}]`);
      check(!/^(0\.0\.0\.0|::)\/0$/.test(c) || field === 'sshAllowedCidrs' || o.publicAccess === true, `${field}[${i}]`, `"${c}" admits the whole internet`, 'Give the client networks, or set publicAccess: true to open PostgreSQL to the world on purpose');
    });
  }
  const publicAccess = o.publicAccess ?? false;
  check(typeof publicAccess === 'boolean', 'publicAccess', 'is not a boolean', 'Give true or false');
  const listenAddresses = publicAccess ? ['*'] : [network.privateIp];
  const certificates = planServerCertificates({
    dnsNames: [o.publicHostName ?? o.serverName],
    ipAddresses: [network.privateIp],
  });
  const volumeSize = o.volumeSize ?? 20;
  checkInteger(volumeSize, 'volumeSize', 10, 10240, 'GB');
  const adminUser = validateIdentifier(o.adminUser ?? 'pgadmin', IdentifierKind.Role, 'adminUser');
  const pgConfig = o.pgConfig ?? {};
  // Same checks as every strategy, plus the keys this setup manages.
  hetznerServerSettings({ postgresMajor, listenAddresses, pgConfig });
  const maxConnections = pgConfig['max_connections'] ?? 100;
  check(typeof maxConnections === 'number', 'pgConfig.max_connections', `${JSON.stringify(maxConnections)} is not a number`, 'Give a whole number, e.g. 100');
  const superuserReserved = pgConfig['superuser_reserved_connections'] ?? 3;
  check(typeof superuserReserved === 'number', 'pgConfig.superuser_reserved_connections', 'is not a number', 'Give a whole number, e.g. 3');
  const reserved = (pgConfig['reserved_connections'] ?? 0) as number;
  const capacity: ServerCapacity = {
    maxConnections,
    reservedConnections: superuserReserved + (typeof reserved === 'number' ? reserved : 0),
    // The handle's numbers (the nightly pg_dump and a psql session fit the maintenance headroom).
    adminConnections: DEFAULT_ADMIN_MAX_CONNECTIONS,
    maintenanceConnections: DEFAULT_MAINTENANCE_CONNECTIONS,
  };
  const claims = new ServerClaims(capacity, { user: adminUser, database: 'postgres' });
  const instances = o.instances && o.instances.length > 0 ? planInstances(o.instances, { namePrefix: o.namePrefix ?? '', adminUser, adminDatabase: 'postgres' }) : [];
  const server: ServerPlan = { instances, budget: claims.check(o.serverName, instances) };
  if (o.backup !== undefined) validateBackupSettings(o.backup);
  const labels = o.labels ?? {};
  for (const [k, v] of Object.entries(labels)) {
    check(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/.test(k), `labels.${k}`, `"${k}" is not a Hetzner label key`, 'Use letters, digits, ".", "_" and "-", at most 63 characters, with an optional "prefix/"');
    check(/^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/.test(v), `labels.${k}`, `"${v}" is not a Hetzner label value`, 'Use letters, digits, ".", "_" and "-", at most 63 characters');
  }
  return {
    serverName: o.serverName,
    serverType: o.serverType,
    image,
    postgresMajor,
    network,
    firewallRules,
    admittedCidrs: [...new Set([network.subnetIpRange, ...allowedCidrs])],
    listenAddresses,
    certificates,
    volumeSize,
    adminUser,
    pgConfig,
    capacity,
    server,
    labels: { 'managed-by': 'postgres-strategies', ...labels },
  };
}

/** The device path of a Hetzner volume (what Hetzner's docs mount: by id, not /dev/sdX). */
export function hetznerVolumeDevice(volumeId: number | string): string {
  check(/^[A-Za-z0-9-]+$/.test(String(volumeId)), 'volumeId', `"${volumeId}" is not a volume id`, 'Give the numeric id');
  return `/dev/disk/by-id/scsi-0HC_Volume_${volumeId}`;
}
