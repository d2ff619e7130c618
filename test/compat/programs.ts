/**
 * The fixed programs of the compatibility test: each is what a user could
 * have written against any release that has its components, with the same
 * arguments forever. Changing one invalidates every fixture recorded from
 * it, so never change one: add a new program instead (its fixtures then
 * start with the release that records it).
 *
 * A program gets its components through `load`, which finds them in the
 * tree being recorded (the layout moved between releases: `src/components/`
 * up to 2026-11-22, `src/<strategy>/` since), so the same program runs
 * against an old release's sources and against the working tree.
 */

/** Finds a module of the tree being recorded: the first of these paths (relative to its root) that exists. */
export type Loader = (...candidates: string[]) => Record<string, unknown> | undefined;

/** One fixed program. */
export interface CompatProgram {
  /** Key of the program in the fixtures and in CHANGELOG.md's `compat:` entries. */
  id: string;
  project: string;
  stack: string;
  /** Registers the program's resources; returns false when the tree has no such component (nothing recorded). */
  run(load: Loader): boolean;
}

type Ctor = new (name: string, args: Record<string, unknown>, opts?: Record<string, unknown>) => Record<string, unknown>;

const provisioning = ['src/provisioning/index.ts', 'src/index.ts'];

function component(load: Loader, name: string, ...candidates: string[]): Ctor | undefined {
  return load(...candidates)?.[name] as Ctor | undefined;
}

/** The admin connection of an external server, as every release accepts it. */
const EXTERNAL_SERVER = {
  host: 'db.internal.example.com',
  port: 5432,
  adminUser: 'pgadmin',
  adminPassword: 'admin-password',
  sslmode: 'verify-full',
  sslrootcert: 'ca.pem',
};

export const PROGRAMS: CompatProgram[] = [
  {
    // LocalPostgres with TLS, one instance, a published port.
    id: 'local',
    project: 'shop',
    stack: 'dev',
    run(load) {
      const LocalPostgres = component(load, 'LocalPostgres', 'src/local/index.ts', 'src/components/local.ts');
      if (!LocalPostgres) return false;
      new LocalPostgres('auth', { tls: true, publishPort: 5432, namePrefix: 'vw_', instances: [{ name: 'blog' }] });
      return true;
    },
  },
  {
    // SharedPostgres on an ExternalPostgres: the seed's Strategy 3.
    id: 'external-shared',
    project: 'shop',
    stack: 'prod',
    run(load) {
      const ExternalPostgres = component(load, 'ExternalPostgres', ...provisioning);
      const SharedPostgres = component(load, 'SharedPostgres', ...provisioning);
      if (!ExternalPostgres || !SharedPostgres) return false;
      const server = new ExternalPostgres('shared-db', EXTERNAL_SERVER);
      new SharedPostgres('shared', { server: server['handle'], namePrefix: 'vw_', instances: [{ name: 'blog' }, { name: 'admin' }] });
      return true;
    },
  },
  {
    // One InstanceDatabase on its own, on an ExternalPostgres.
    id: 'instance-database',
    project: 'shop',
    stack: 'prod',
    run(load) {
      const ExternalPostgres = component(load, 'ExternalPostgres', ...provisioning);
      const InstanceDatabase = component(load, 'InstanceDatabase', ...provisioning);
      if (!ExternalPostgres || !InstanceDatabase) return false;
      const server = new ExternalPostgres('main-db', EXTERNAL_SERVER);
      new InstanceDatabase('billing', { server: server['handle'], instance: { name: 'billing' } });
      return true;
    },
  },
  {
    // RdsPostgres with its defaults (identifier <name>-<stack>) and a SharedPostgres on it.
    id: 'rds',
    project: 'shop',
    stack: 'prod',
    run(load) {
      const RdsPostgres = component(load, 'RdsPostgres', 'src/rds/index.ts');
      const SharedPostgres = component(load, 'SharedPostgres', ...provisioning);
      if (!RdsPostgres || !SharedPostgres) return false;
      const db = new RdsPostgres('app-db', { vpcId: 'vpc-0abc', subnetIds: ['subnet-a', 'subnet-b'], allowedSecurityGroupIds: ['sg-app'], sslrootcert: 'global-bundle.pem' });
      new SharedPostgres('shared', { server: db['handle'], namePrefix: 'vw_', instances: [{ name: 'blog' }] });
      return true;
    },
  },
  {
    // RdsPostgres with a custom identifier and port, a KMS key, a major, CIDRs and a read replica.
    id: 'rds-custom',
    project: 'shop',
    stack: 'prod',
    run(load) {
      const RdsPostgres = component(load, 'RdsPostgres', 'src/rds/index.ts');
      if (!RdsPostgres) return false;
      new RdsPostgres('orders', {
        vpcId: 'vpc-0abc',
        subnetIds: ['subnet-a', 'subnet-b'],
        allowedCidrs: ['10.0.0.0/16'],
        identifier: 'orders-main',
        port: 6432,
        engineVersion: '16',
        instanceClass: 'db.m7g.large',
        kmsKeyId: 'arn:aws:kms:eu-central-1:111122223333:key/orders',
        readReplica: {},
        sslrootcert: 'global-bundle.pem',
      });
      return true;
    },
  },
  {
    // HetznerPostgres with its defaults and a SharedPostgres on it.
    id: 'hetzner',
    project: 'shop',
    stack: 'prod',
    run(load) {
      const HetznerPostgres = component(load, 'HetznerPostgres', 'src/hetzner/index.ts');
      const SharedPostgres = component(load, 'SharedPostgres', ...provisioning);
      if (!HetznerPostgres || !SharedPostgres) return false;
      const db = new HetznerPostgres('db', { serverType: 'cx23', sshAllowedCidrs: ['203.0.113.7/32'] });
      new SharedPostgres('apps', { server: db['handle'], instances: [{ name: 'blog' }] });
      return true;
    },
  },
  {
    // HetznerPostgres with its own names, a public host name, another location and cloud-init instances.
    id: 'hetzner-custom',
    project: 'shop',
    stack: 'prod',
    run(load) {
      const HetznerPostgres = component(load, 'HetznerPostgres', 'src/hetzner/index.ts');
      if (!HetznerPostgres) return false;
      new HetznerPostgres('pg', {
        serverType: 'cpx22',
        serverName: 'pg-main',
        location: 'nbg1',
        publicHostName: 'db.example.com',
        publicAccess: true,
        allowedCidrs: ['198.51.100.0/24'],
        volumeSize: 50,
        instances: [{ name: 'blog' }],
      });
      return true;
    },
  },
];
