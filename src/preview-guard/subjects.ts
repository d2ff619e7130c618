/**
 * What a preview step is about: which resources hold data (or carry what
 * clients connect with), and, for the library's own, which component and
 * instance they belong to — so a finding can name the resource as the
 * program wrote it.
 *
 * How the library's resources are recognised (the marker): by their URN.
 * Every step of `pulumi preview --json` has one, whatever its operation,
 * even when the engine could not serialise the resource's state, and it
 * holds the parent type chain and the logical name:
 *
 *     urn:pulumi:dev::app::postgres-strategies:index:SharedPostgres$postgres-strategies:index:InstanceDatabase$postgresql:index/database:Database::shared-blog-database
 *
 * The components set both parts on purpose and they are already a stable
 * contract: the type tokens (`postgres-strategies:index:<Component>`) and
 * the children's name suffixes (`<component name>-database`,
 * `-owner-role`, `-data`, `-instance`, …) are what the engine keys state on,
 * so neither can change without every existing stack replacing its
 * resources (which this guard would report). {@link LIBRARY_CHILDREN} lists
 * them; test/unit/preview-guard/library.test.ts registers every component
 * under Pulumi's mock runtime and checks that each resource it retains on
 * delete (the library's own "this holds data" flag) is recognised here with
 * the right role, so a new or renamed child cannot slip past.
 *
 * A marker inside the resource (an input, a tag, a resource option) was
 * weighed and not used: it is stored only by the next `pulumi up`, so the
 * first preview after upgrading — of every stack that exists today — would
 * not carry it; a `docker.Volume` label forces the volume's replacement
 * (kreuzwerker/docker `labels` is ForceNew), so adding one would destroy
 * the data it marks; `postgresql.Database` and `Role` have no free-form
 * field; and the component's own registered outputs are not in the JSON
 * when the component is unchanged (`same` steps are left out).
 *
 * Anything else is judged by its type alone: a `postgresql.Database`, a
 * `postgresql.Role`, an RDS instance, a Hetzner volume or a Docker volume of
 * the user's own program holds data as much as ours does.
 */
import { ParsedUrn, PreviewResourceState, PreviewStep, parseUrn } from './preview';

/** Type tokens the guard knows. */
export const TYPES = {
  database: 'postgresql:index/database:Database',
  role: 'postgresql:index/role:Role',
  postgresqlProvider: 'pulumi:providers:postgresql',
  rdsInstance: 'aws:rds/instance:Instance',
  rdsParameterGroup: 'aws:rds/parameterGroup:ParameterGroup',
  hcloudVolume: 'hcloud:index/volume:Volume',
  hcloudServer: 'hcloud:index/server:Server',
  dockerVolume: 'docker:index/volume:Volume',
  dockerContainer: 'docker:index/container:Container',
  tlsSelfSignedCert: 'tls:index/selfSignedCert:SelfSignedCert',
  loginRotation: 'pulumi-nodejs:dynamic/postgres-strategies:LoginRotation',
  tlsLocallySignedCert: 'tls:index/locallySignedCert:LocallySignedCert',
} as const;

/** The library's components (their Pulumi type tokens). */
export const COMPONENTS = {
  SharedPostgres: 'postgres-strategies:index:SharedPostgres',
  InstanceDatabase: 'postgres-strategies:index:InstanceDatabase',
  ExternalPostgres: 'postgres-strategies:index:ExternalPostgres',
  LocalPostgres: 'postgres-strategies:index:LocalPostgres',
  RdsPostgres: 'postgres-strategies:index:RdsPostgres',
  HetznerPostgres: 'postgres-strategies:index:HetznerPostgres',
} as const;

/** What a resource is to the guard. */
export enum SubjectKind {
  /** A PostgreSQL database: its rows. */
  Database = 'database',
  /** A role that owns a database's objects (ours), or a role of the user's own (ownership unknown). */
  OwnerRole = 'owner-role',
  /** One of our login or read-only roles that owns nothing (least-privilege shape). */
  LoginRole = 'login-role',
  /** An RDS instance that is not a replica. */
  RdsInstance = 'rds-instance',
  /** An RDS read replica (`replicateSourceDb` set): a copy of its source. */
  RdsReplica = 'rds-replica',
  /** A Hetzner Cloud volume. */
  HetznerVolume = 'hetzner-volume',
  /** The Hetzner server of `HetznerPostgres`, which mounts the data volume. */
  HetznerServer = 'hetzner-server',
  /** A Docker volume (ours: the data volume only). */
  DockerVolume = 'docker-volume',
  /** The PostgreSQL container of `LocalPostgres` (its published port is in the clients' URLs). */
  ServerContainer = 'server-container',
  /** A `@pulumi/postgresql` provider: the admin connection to a server. */
  AdminProvider = 'admin-provider',
  /** The private CA of `LocalPostgres`/`HetznerPostgres`: clients verify the server with it. */
  CertificateAuthority = 'certificate-authority',
  /** An RDS parameter group (it holds `rds.force_ssl`). */
  RdsParameterGroup = 'rds-parameter-group',
  /** An instance's login rotation state (alternating logins): which login every DSN output carries. */
  LoginRotation = 'login-rotation',
  /** The server certificate of `HetznerPostgres` (its server serves it; a new one reaches it by its own renewal or setupScript). */
  ServerCertificate = 'server-certificate',
}

/** A child resource the library's components create, as the guard recognises it. */
export interface LibraryChild {
  /** The component that registers it (its direct parent). */
  component: string;
  /** The child's type token. */
  type: string;
  /** Its logical name is `<component name><suffix>`. */
  suffix: string;
  kind: SubjectKind;
}

/**
 * The library's children the guard knows by name, and what each is. A child
 * of the library not listed here is judged by its type, like the user's own
 * (the test in test/unit/preview-guard/library.test.ts keeps this list and
 * the components in step).
 */
export const LIBRARY_CHILDREN: readonly LibraryChild[] = [
  { component: COMPONENTS.InstanceDatabase, type: TYPES.database, suffix: '-database', kind: SubjectKind.Database },
  { component: COMPONENTS.InstanceDatabase, type: TYPES.role, suffix: '-owner-role', kind: SubjectKind.OwnerRole },
  { component: COMPONENTS.InstanceDatabase, type: TYPES.role, suffix: '-app-role', kind: SubjectKind.LoginRole },
  { component: COMPONENTS.InstanceDatabase, type: TYPES.role, suffix: '-read-only-role', kind: SubjectKind.LoginRole },
  { component: COMPONENTS.InstanceDatabase, type: TYPES.role, suffix: '-login-a-role', kind: SubjectKind.LoginRole },
  { component: COMPONENTS.InstanceDatabase, type: TYPES.role, suffix: '-login-b-role', kind: SubjectKind.LoginRole },
  { component: COMPONENTS.InstanceDatabase, type: TYPES.loginRotation, suffix: '-login-rotation', kind: SubjectKind.LoginRotation },
  { component: COMPONENTS.LocalPostgres, type: TYPES.loginRotation, suffix: '-login-rotation', kind: SubjectKind.LoginRotation },
  { component: COMPONENTS.LocalPostgres, type: TYPES.dockerVolume, suffix: '-data', kind: SubjectKind.DockerVolume },
  { component: COMPONENTS.LocalPostgres, type: TYPES.dockerContainer, suffix: '-postgres', kind: SubjectKind.ServerContainer },
  { component: COMPONENTS.LocalPostgres, type: TYPES.tlsSelfSignedCert, suffix: '-ca', kind: SubjectKind.CertificateAuthority },
  { component: COMPONENTS.RdsPostgres, type: TYPES.rdsInstance, suffix: '-instance', kind: SubjectKind.RdsInstance },
  { component: COMPONENTS.RdsPostgres, type: TYPES.rdsInstance, suffix: '-replica', kind: SubjectKind.RdsReplica },
  { component: COMPONENTS.RdsPostgres, type: TYPES.rdsParameterGroup, suffix: '-parameters', kind: SubjectKind.RdsParameterGroup },
  { component: COMPONENTS.HetznerPostgres, type: TYPES.hcloudVolume, suffix: '-data', kind: SubjectKind.HetznerVolume },
  { component: COMPONENTS.HetznerPostgres, type: TYPES.hcloudServer, suffix: '-server', kind: SubjectKind.HetznerServer },
  { component: COMPONENTS.HetznerPostgres, type: TYPES.tlsSelfSignedCert, suffix: '-ca', kind: SubjectKind.CertificateAuthority },
  { component: COMPONENTS.HetznerPostgres, type: TYPES.tlsLocallySignedCert, suffix: '-server-cert', kind: SubjectKind.ServerCertificate },
  { component: COMPONENTS.ExternalPostgres, type: TYPES.postgresqlProvider, suffix: '-admin', kind: SubjectKind.AdminProvider },
  { component: COMPONENTS.LocalPostgres, type: TYPES.postgresqlProvider, suffix: '-admin', kind: SubjectKind.AdminProvider },
  { component: COMPONENTS.RdsPostgres, type: TYPES.postgresqlProvider, suffix: '-admin', kind: SubjectKind.AdminProvider },
  { component: COMPONENTS.HetznerPostgres, type: TYPES.postgresqlProvider, suffix: '-admin', kind: SubjectKind.AdminProvider },
];

/** Children of the library that hold nothing the guard judges (so their type alone does not count). */
const LIBRARY_IGNORED: readonly Omit<LibraryChild, 'kind'>[] = [
  // The Unix-socket volume the bootstrap container logs in through: no data.
  { component: COMPONENTS.LocalPostgres, type: TYPES.dockerVolume, suffix: '-socket' },
];

/** Where one of the library's resources sits, as the program wrote it. */
export interface Owner {
  /** The component type's short name, e.g. `SharedPostgres`. */
  component: string;
  /** The component's name, when the preview shows it. */
  componentName?: string;
  /** The app instance (SharedPostgres / InstanceDatabase children). */
  instance?: string;
}

/** A step's resource as the guard sees it. */
export interface Subject {
  kind: SubjectKind;
  urn: ParsedUrn;
  /** The library's component it belongs to; undefined for the user's own resources. */
  owner?: Owner;
  /** The name the resource has where it lives (database, role, identifier, volume name), when the preview shows it. */
  objectName?: string;
}

/**
 * Short name of a type token: `postgres-strategies:index:SharedPostgres` →
 * `SharedPostgres`, `pulumi:providers:postgresql` → `postgresql provider`.
 */
export function shortType(type: string): string {
  if (type.startsWith('pulumi:providers:')) return `${type.slice('pulumi:providers:'.length)} provider`;
  const i = type.lastIndexOf(':');
  return i < 0 ? type : type.slice(i + 1);
}

/** The URNs of a preview that name components, to find a component's name from its children. */
export class UrnIndex {
  private readonly parents = new Map<string, string>();
  private readonly known = new Set<string>();
  private readonly states = new Map<string, { old?: PreviewResourceState; new?: PreviewResourceState }>();

  constructor(steps: readonly PreviewStep[]) {
    for (const step of steps) {
      this.known.add(step.urn);
      this.states.set(step.urn, { ...(step.oldState ? { old: step.oldState } : {}), ...(step.newState ? { new: step.newState } : {}) });
      for (const state of [step.oldState, step.newState]) {
        if (!state) continue;
        if (state.parent) {
          this.parents.set(state.urn ?? step.urn, state.parent);
          this.known.add(state.parent);
        }
      }
    }
  }

  /** The parent URN of `urn`, when some step of the preview shows it. */
  parentOf(urn: string): string | undefined {
    return this.parents.get(urn);
  }

  /** The old and new state of the resource `urn`, when a step of the preview shows it. */
  statesOf(urn: string): { old?: PreviewResourceState; new?: PreviewResourceState } | undefined {
    return this.states.get(urn);
  }

  /** Every URN the preview mentions (steps and their parents). */
  urns(): IterableIterator<string> {
    return this.known.values();
  }
}

/** A name-like input, printed only when it is a plain string (never `[secret]`). */
export function nameInput(state: PreviewResourceState | undefined, key: string): string | undefined {
  const value = state?.inputs?.[key];
  if (typeof value !== 'string' || value === '' || value === '[secret]') return undefined;
  return value;
}

function libraryChild(urn: ParsedUrn): LibraryChild | 'ignored' | undefined {
  const parentType = urn.typeChain[urn.typeChain.length - 2];
  if (parentType === undefined) return undefined;
  const matches = (c: Omit<LibraryChild, 'kind'>): boolean => c.component === parentType && c.type === urn.type && urn.name.endsWith(c.suffix) && urn.name.length > c.suffix.length;
  if (LIBRARY_IGNORED.some(matches)) return 'ignored';
  return LIBRARY_CHILDREN.find(matches);
}

/**
 * Who owns one of our children: the component's short type and name, and
 * for SharedPostgres/InstanceDatabase the instance. The SharedPostgres
 * name is known when the preview shows the InstanceDatabase's parent
 * (`--show-sames`, or a created/deleted instance); otherwise the instance
 * is named by its InstanceDatabase (`<shared name>-<instance>`).
 */
function ownerOf(urn: ParsedUrn, child: LibraryChild, state: PreviewResourceState | undefined, index: UrnIndex): Owner {
  const componentName = urn.name.slice(0, urn.name.length - child.suffix.length);
  if (child.component !== COMPONENTS.InstanceDatabase) return { component: shortType(child.component), componentName };
  // The InstanceDatabase's own type chain: from its URN when the state names it, else from ours.
  const instanceUrn = state?.parent ?? findComponentUrn(index, urn.typeChain.slice(0, -1), componentName);
  const instanceChain = (instanceUrn ? parseUrn(instanceUrn)?.typeChain : undefined) ?? urn.typeChain.slice(0, -1);
  const inShared = instanceChain[instanceChain.length - 2] === COMPONENTS.SharedPostgres;
  if (!inShared) return { component: 'InstanceDatabase', componentName, instance: componentName };
  const sharedUrn = instanceUrn ? index.parentOf(instanceUrn) : undefined;
  const shared = sharedUrn ? parseUrn(sharedUrn) : undefined;
  if (shared && componentName.startsWith(`${shared.name}-`)) {
    return { component: 'SharedPostgres', componentName: shared.name, instance: componentName.slice(shared.name.length + 1) };
  }
  return { component: 'SharedPostgres', instance: componentName };
}

function findComponentUrn(index: UrnIndex, typeChain: string[], name: string): string | undefined {
  for (const u of index.urns()) {
    const p = parseUrn(u);
    if (p && p.name === name && p.typeChain.join('$') === typeChain.join('$')) return u;
  }
  return undefined;
}

/** The kind of a resource judged by its type alone (the user's own, or a child the library does not list). */
function kindByType(urn: ParsedUrn, state: PreviewResourceState | undefined): SubjectKind | undefined {
  switch (urn.type) {
    case TYPES.database:
      return SubjectKind.Database;
    case TYPES.role:
      return SubjectKind.OwnerRole;
    case TYPES.rdsInstance:
      return nameInput(state, 'replicateSourceDb') !== undefined || state?.inputs?.['replicateSourceDb'] === '[secret]' ? SubjectKind.RdsReplica : SubjectKind.RdsInstance;
    case TYPES.hcloudVolume:
      return SubjectKind.HetznerVolume;
    case TYPES.dockerVolume:
      return SubjectKind.DockerVolume;
    case TYPES.postgresqlProvider:
      return SubjectKind.AdminProvider;
    case TYPES.rdsParameterGroup:
      return SubjectKind.RdsParameterGroup;
    default:
      return undefined;
  }
}

/** The input that holds the resource's own name where it lives. */
const OBJECT_NAME_INPUT: Partial<Record<SubjectKind, string>> = {
  [SubjectKind.Database]: 'name',
  [SubjectKind.OwnerRole]: 'name',
  [SubjectKind.LoginRole]: 'name',
  [SubjectKind.RdsInstance]: 'identifier',
  [SubjectKind.RdsReplica]: 'identifier',
  [SubjectKind.HetznerVolume]: 'name',
  [SubjectKind.HetznerServer]: 'name',
  [SubjectKind.DockerVolume]: 'name',
  [SubjectKind.ServerContainer]: 'name',
};

/**
 * What a step's resource is, or undefined when the guard does not judge it
 * (a resource that holds no data and carries nothing clients connect with).
 */
export function subjectOf(step: PreviewStep, index: UrnIndex): Subject | undefined {
  const urn = parseUrn(step.urn);
  if (!urn) return undefined;
  const state = step.newState ?? step.oldState;
  const child = libraryChild(urn);
  if (child === 'ignored') return undefined;
  // An RDS child is a replica by its inputs, whatever its name says.
  const kind = child ? (child.type === TYPES.rdsInstance ? kindByType(urn, state) : child.kind) : kindByType(urn, state);
  if (kind === undefined) return undefined;
  const input = OBJECT_NAME_INPUT[kind];
  const objectName = input ? (nameInput(step.oldState, input) ?? nameInput(step.newState, input)) : undefined;
  return {
    kind,
    urn,
    ...(child ? { owner: ownerOf(urn, child, state, index) } : {}),
    ...(objectName !== undefined ? { objectName } : {}),
  };
}

/** What each kind is called in a finding. */
export const NOUNS: Record<SubjectKind, string> = {
  [SubjectKind.Database]: 'database',
  [SubjectKind.OwnerRole]: 'role',
  [SubjectKind.LoginRole]: 'login role',
  [SubjectKind.RdsInstance]: 'RDS instance',
  [SubjectKind.RdsReplica]: 'RDS read replica',
  [SubjectKind.HetznerVolume]: 'Hetzner volume',
  [SubjectKind.HetznerServer]: 'Hetzner server',
  [SubjectKind.DockerVolume]: 'Docker volume',
  [SubjectKind.ServerContainer]: 'PostgreSQL container',
  [SubjectKind.AdminProvider]: 'admin connection',
  [SubjectKind.CertificateAuthority]: 'CA certificate',
  [SubjectKind.RdsParameterGroup]: 'RDS parameter group',
  [SubjectKind.LoginRotation]: 'login rotation',
  [SubjectKind.ServerCertificate]: 'server certificate',
};

/** How a label shows a name: quoted in text, a code span in Markdown. */
export type NameStyle = (name: string) => string;

/** The component part of a label: `SharedPostgres "shared", instance "blog"`. */
export function ownerLabel(owner: Owner, name: NameStyle = JSON.stringify): string {
  if (owner.component === 'SharedPostgres') {
    return owner.componentName !== undefined
      ? `SharedPostgres ${name(owner.componentName)}, instance ${name(owner.instance ?? '')}`
      : `SharedPostgres instance ${name(owner.instance ?? '')}`;
  }
  return `${owner.component} ${name(owner.componentName ?? '')}`;
}

/**
 * A resource as the program wrote it: `database "vw_blog" (SharedPostgres
 * "shared", instance "blog")`; the user's own by type and logical name,
 * `database "app" (Database "app-db")`.
 */
export function resourceLabel(
  subject: { kind: SubjectKind; objectName?: string; owner?: Owner; type: string; logicalName: string } | Subject,
  name: NameStyle = JSON.stringify,
): string {
  const parts = 'urn' in subject ? { kind: subject.kind, objectName: subject.objectName, owner: subject.owner, type: subject.urn.type, logicalName: subject.urn.name } : subject;
  const noun = NOUNS[parts.kind];
  const named = parts.objectName !== undefined ? `${noun} ${name(parts.objectName)}` : noun;
  return parts.owner ? `${named} (${ownerLabel(parts.owner, name)})` : `${named} (${shortType(parts.type)} ${name(parts.logicalName)})`;
}
