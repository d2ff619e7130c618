/**
 * `checkPreview`: the data-loss guard's rules, applied to the steps of one
 * `pulumi preview --json`.
 *
 * Which properties replace which resource is decided by the engine and the
 * provider (the step's op and its `replaceReasons`), not guessed here; the
 * guard judges what a step does to the data. The providers' own sources
 * say which properties force a replacement (ForceNew), for the fixtures of
 * the providers that cannot run here (test/fixtures/preview-guard/README.md):
 * - `postgresql` Database: `template`, `encoding`, `lcCollate`, `lcCtype`
 *   (terraform-provider-postgresql `resource_postgresql_database.go`); a
 *   changed `name`/`owner` is applied in place (`ALTER DATABASE`); Role has
 *   no ForceNew property (renames are `ALTER ROLE … RENAME`);
 * - `aws.rds.Instance`: `kmsKeyId`, `storageEncrypted`, `username`,
 *   `engine`, `dbName`, `availabilityZone`, `snapshotIdentifier`, … —
 *   `identifier` is renamed in place since terraform-provider-aws v5.0
 *   (`ModifyDBInstance` `NewDBInstanceIdentifier`): the data stays, the
 *   address changes (`internal/service/rds/instance.go`);
 * - `hcloud.Volume`: `location`; `hcloud.Server`: `image`, `location`,
 *   `userData`, `sshKeys` (terraform-provider-hcloud `internal/volume`,
 *   `internal/server`);
 * - `docker.Volume`: `name`, `labels`, `driver`, `driverOpts`;
 *   `docker.Container`: `ports` among others (kreuzwerker/docker v4.5.0,
 *   which @pulumi/docker 5 bridges).
 */
import { backupFindings } from './backups';
import { Finding, FindingCode, Severity } from './findings';
import { PreviewDigest, PreviewResourceState, PreviewStep, parsePreview, parseUrn } from './preview';
import { NOUNS, Subject, SubjectKind, UrnIndex, nameInput, resourceLabel, subjectOf } from './subjects';

/** Options of {@link checkPreview}. */
export interface CheckPreviewOptions {
  /**
   * Findings acknowledged on purpose: each value is a resource's URN, its
   * name in the program (the last part of its URN, e.g.
   * `shared-blog-database`), or the name of the library component it belongs
   * to (e.g. `shared-blog`, or the SharedPostgres `shared` when the preview
   * shows it). An acknowledged error no longer fails the check; it is still
   * reported. @default []
   */
  allow?: readonly string[];
  /** The time certificate expiry is judged against. @default now */
  now?: Date;
}

const REPLACEMENT_HALVES = new Set(['create-replacement', 'delete-replaced']);

/** Kinds whose `create` next to a `delete` of the same kind and place means "moved onto an empty one". */
const PAIRED_KINDS = new Set([SubjectKind.Database, SubjectKind.RdsInstance, SubjectKind.HetznerVolume, SubjectKind.DockerVolume]);


/** What a finding says, before it is tied to its step. */
interface Verdict {
  severity: Severity;
  code: FindingCode;
  properties?: string[];
  effect: string;
  instead: string;
}

interface Judged {
  step: PreviewStep;
  op: 'same' | 'create' | 'update' | 'delete' | 'replace';
  subject: Subject;
}

/** What the rules may look up besides the step. */
interface Context {
  /** Resources of the same kind and place that leave the stack in this preview. */
  leaving: (j: Judged) => Subject[];
  /** Databases or roles with the same name on the same server that leave the stack in this preview. */
  sameName: (j: Judged) => Judged[];
  index: UrnIndex;
  /** The current URN of a resource the preview shows under an alias (its old URN), else the URN itself. */
  current: (urn: string) => string;
  /** Milliseconds since the epoch: what "expires in N days" counts from. */
  now: number;
}

function quote(name: string): string {
  return JSON.stringify(name);
}

function reasons(step: PreviewStep, replacement: boolean): string[] {
  const list = replacement && step.replaceReasons && step.replaceReasons.length > 0 ? step.replaceReasons : (step.diffReasons ?? []);
  return [...new Set(list)];
}

function changed(step: PreviewStep, ...keys: string[]): string[] {
  const diff = new Set([...(step.diffReasons ?? []), ...(step.replaceReasons ?? [])]);
  return keys.filter((k) => diff.has(k));
}

/** A warning when any of `properties` changed in the step (`effect` may name the ones that did). */
function warnIfChanged(step: PreviewStep, properties: string[], code: FindingCode, effect: string | ((hit: string[]) => string), instead: string): Verdict[] {
  const hit = changed(step, ...properties);
  if (hit.length === 0) return [];
  return [{ severity: Severity.Warning, code, properties: hit, effect: typeof effect === 'string' ? effect : effect(hit), instead }];
}

function renameText(step: PreviewStep, input: string): string {
  const before = nameInput(step.oldState, input);
  const after = nameInput(step.newState, input);
  return before !== undefined && after !== undefined ? ` (${quote(before)} → ${quote(after)})` : '';
}

/** What to do when the program moved a resource (a new name or a new parent): keep its URN with aliases. */
const KEEP_THE_URN =
  'keep its URN: give the component (or resource) that moved `aliases` — renamed: `aliases: [{ name: "<old name>" }]`; put under a parent of your own: `aliases: [{ parent: pulumi.rootStackResource }]` (or `{ parent: <its old parent> }`) — then preview again';

/** What to do instead of a rename that would create a new, empty resource. */
function keepTheData(subject: Subject): string {
  if (subject.owner?.instance !== undefined) {
    const was = subject.owner.component === 'SharedPostgres' ? ' (e.g. `{ name: "journal", previousNames: ["blog"] }`)' : '';
    return `If the instance was renamed, list its former name in the instance's \`previousNames\`${was}: the same change then renames its database and roles in place, with the data. If the component was renamed or moved in the program, ${KEEP_THE_URN}.`;
  }
  return `If it was renamed or moved in the program, ${KEEP_THE_URN}.`;
}
const DUMP_FIRST = 'take a dump first (`pg_dump -Fc`), or copy it to its new place with `postgres-strategies migrate`';

function providerReplaced(props: string[]): boolean {
  return props.includes('provider');
}

const PROVIDER_REPLACED_EFFECT =
  "its admin connection (the postgresql provider) is replaced — its provider treats the changed setting as another server — so the engine replaces every resource on it: the old one is dropped (or, retained, left behind) and a new, empty one created";
const PROVIDER_REPLACED_INSTEAD =
  'Keep the provider setting, or, when the server really changes, copy each database first with `postgres-strategies migrate` and move the state (`pulumi state`), so no step replaces the databases.';

/** The verdicts of one step (most steps have none or one). */
function judge(j: Judged, context: Context): Verdict[] {
  const lasting = [...movedVerdicts(j, context), ...protectionVerdicts(j), ...expiryVerdicts(j, context.now)];
  if (j.op === 'same') return lasting;
  return [...stepVerdicts(j, context), ...lasting];
}

const OBJECT_KINDS: ReadonlySet<SubjectKind> = new Set([SubjectKind.Database, SubjectKind.OwnerRole, SubjectKind.LoginRole]);

/**
 * A database or role created while one of the same name on the same server
 * leaves the stack: the program moved it (a new parent chain or logical
 * name) and the engine sees a new resource. Learnt on the engine: a
 * SharedPostgres put inside a component of the user's own, without
 * aliases, gives exactly that, and `pulumi up` fails on `CREATE … already
 * exists`.
 */
function recreatedVerdicts(j: Judged, context: Context): Verdict[] {
  if (j.op !== 'create' || !OBJECT_KINDS.has(j.subject.kind)) return [];
  const leaving = context.sameName(j);
  if (leaving.length === 0) return [];
  const what = j.subject.kind === SubjectKind.Database ? 'database' : 'role';
  const retained = leaving.every((l) => l.step.oldState?.retainOnDelete === true);
  return [{
    severity: Severity.Error,
    code: FindingCode.Recreated,
    effect:
      `created anew while the same ${what} on the same server leaves the stack under another URN (${leaving.map((l) => resourceLabel(l.subject)).join(', ')}): the program moved it (a new parent, such as a component of your own around it, or a new name) and the engine sees a new ${what}, so \`pulumi up\` fails on \`CREATE ${what === 'database' ? 'DATABASE' : 'ROLE'} … already exists\`` +
      (retained ? ' (the one leaving is retained: it stays on the server, no longer managed)' : ', and the one leaving is dropped with its data'),
    instead: `To keep managing the same ${what} with its data, ${KEEP_THE_URN}. If it is really a new ${what}, drop or rename the old one on the server yourself first, and acknowledge it.`,
  }];
}

function stepVerdicts(j: Judged, context: Context): Verdict[] {
  const recreated = recreatedVerdicts(j, context);
  const verdicts = recreated.length > 0 ? recreated : kindVerdicts(j, context.leaving);
  const { step, op } = j;
  // The engine refuses to replace or delete a protected resource (the preview fails, `up` too).
  if ((op === 'replace' || op === 'delete') && step.oldState?.protect === true && (step.newState?.protect ?? true)) {
    return verdicts.map((v) => ({ ...v, effect: `${v.effect} — it is protected (\`protect\`), so the preview fails and \`pulumi up\` refuses this until the protection is lifted` }));
  }
  return verdicts;
}

function kindVerdicts(j: Judged, paired: (j: Judged) => Subject[]): Verdict[] {
  const { step, op, subject } = j;
  const retained = step.oldState?.retainOnDelete === true;
  const props = reasons(step, op === 'replace');
  const lossVerdicts = (what: string, gone: string, instead: string): Verdict[] => {
    if (op === 'delete') {
      if (retained) {
        return [{
          severity: Severity.Warning,
          code: FindingCode.Retained,
          effect: `leaves the stack; the ${what} stays where it is (retained on delete), no longer managed by Pulumi`,
          instead: `Nothing is lost. To manage it again, import it (\`pulumi import\`, or the \`import\` resource option) rather than creating it anew.`,
        }];
      }
      return [{ severity: Severity.Error, code: FindingCode.Deleted, effect: gone, instead }];
    }
    if (op === 'replace') {
      if (providerReplaced(props)) return [{ severity: Severity.Error, code: FindingCode.Replaced, properties: props, effect: PROVIDER_REPLACED_EFFECT, instead: PROVIDER_REPLACED_INSTEAD }];
      return [{
        severity: Severity.Error,
        code: FindingCode.Replaced,
        properties: props,
        effect: `replaced: a new, empty ${what} is created and the old one ${retained ? 'is left behind (retained) with the data' : 'is deleted with its data'}`,
        instead,
      }];
    }
    if (op === 'create' && PAIRED_KINDS.has(subject.kind)) {
      const leaving = paired(j);
      if (leaving.length > 0) {
        const names = leaving.map((l) => resourceLabel(l)).join(', ');
        return [{
          severity: Severity.Error,
          code: FindingCode.NewEmpty,
          effect: `a new, empty ${what} is created while ${names} leaves the stack: the app moves onto an empty ${what} (a renamed ${subject.owner?.instance !== undefined ? 'instance' : 'resource'} or component, or one moved under another parent, looks like this)`,
          instead: `${keepTheData(subject)} If it is really a new ${what} and the other one's removal is intended, acknowledge it.`,
        }];
      }
    }
    return [];
  };

  switch (subject.kind) {
    case SubjectKind.Database: {
      const verdicts = lossVerdicts(
        'database',
        'drops the database and every row in it (`DROP DATABASE … WITH (FORCE)`, after terminating its sessions)',
        `Keep the ${subject.owner?.instance !== undefined ? 'instance' : 'database'}, or ${DUMP_FIRST}, and only then remove it. To change its template, encoding or collation, create a new database beside it and copy the data with \`postgres-strategies migrate\`.`,
      );
      return [
        ...verdicts,
        ...renamedInPlace(
          j,
          'DATABASE',
          'the data stays, but the rename fails while sessions are open, and apps still using the old name can no longer connect',
          `Stop the apps that use it, deploy, then roll them out with the new URLs — or keep the old name${subject.owner?.instance !== undefined ? ' (set the instance\'s `database`, or keep `namePrefix`)' : ''}.`,
        ),
      ];
    }
    case SubjectKind.OwnerRole:
    case SubjectKind.LoginRole: {
      // A login role of ours owns nothing: dropping it breaks its clients only. A retained one just leaves the stack.
      const loginOnly = subject.kind === SubjectKind.LoginRole && !(op === 'delete' && retained);
      const verdicts: Verdict[] = loginOnly
        ? loginRemoved(op, props)
        : lossVerdicts(
            'role',
            'drops the role: the provider runs `REASSIGN OWNED BY` it to the admin and `DROP OWNED BY` it (in the admin\'s database), revokes every privilege granted to it, and its logins stop working',
            'Keep the role (it owns the database\'s objects), or reassign what it owns to another role yourself first and acknowledge the removal.',
          );
      return [
        ...verdicts,
        ...renamedInPlace(
          j,
          'ROLE',
          'what it owns and its grants stay, but clients logging in with the old name are refused',
          'Deploy the new URLs to the apps together with this change (their user name changes), or keep the old name.',
        ),
      ];
    }
    case SubjectKind.RdsInstance: {
      if (op === 'delete' && !retained) {
        if (step.oldState?.inputs?.['skipFinalSnapshot'] === true) {
          return [{
            severity: Severity.Error,
            code: FindingCode.Deleted,
            properties: ['skipFinalSnapshot'],
            effect: 'deletes the RDS instance without a final snapshot (`skipFinalSnapshot: true`): the data is gone, only automated backups may remain',
            instead: `Set \`skipFinalSnapshot: false\` with a \`finalSnapshotIdentifier\` and deploy that first, or ${DUMP_FIRST}.`,
          }];
        }
        const snapshot = nameInput(step.oldState, 'finalSnapshotIdentifier');
        return [{
          severity: Severity.Warning,
          code: FindingCode.DeletedWithSnapshot,
          effect: `deletes the RDS instance; its data survives in the final snapshot${snapshot ? ` ${quote(snapshot)}` : ''} (restore with \`snapshotIdentifier\`)`,
          instead: 'Make sure nothing still uses it; to move it, restore the snapshot into the new instance or use `postgres-strategies migrate` before deleting.',
        }];
      }
      const verdicts = lossVerdicts(
        'RDS instance',
        'deletes the RDS instance',
        'Keep the property. To change encryption (`kmsKeyId`, `storageEncrypted`), the master user or the engine: snapshot the instance, copy the snapshot with the new key if needed, restore it as a new instance (`snapshotIdentifier`), switch the apps, then remove the old one — or copy the databases with `postgres-strategies migrate`.',
      );
      if (op === 'update') verdicts.push(...rdsEndpointVerdicts(step));
      return verdicts;
    }
    case SubjectKind.RdsReplica: {
      if (op === 'delete' || op === 'replace') {
        return [{
          severity: Severity.Warning,
          code: FindingCode.ReplicaRebuilt,
          ...(op === 'replace' ? { properties: props } : {}),
          effect: `${op === 'replace' ? 'replaced' : 'deleted'}: a read replica holds a copy of its source, nothing of its own; readers lose it until ${op === 'replace' ? 'the new one has copied the source' : 'they are moved'} (a \`prefer-standby\` reader URL falls back to the primary)`,
          instead: 'Nothing is lost. Expect the reader endpoint to be down or slower meanwhile; a new identifier also changes the readers\' host.',
        }];
      }
      return op === 'update' ? rdsEndpointVerdicts(step) : [];
    }
    case SubjectKind.HetznerVolume:
      return lossVerdicts(
        'volume',
        'deletes the volume that holds the PostgreSQL data directory: every database on the server is gone',
        `Keep the volume (a Hetzner volume cannot move to another location). To move the server, create a new one with its own volume in the new location, copy each database with \`postgres-strategies migrate\`, switch the apps, then remove the old one.`,
      );
    case SubjectKind.HetznerServer:
      if (op === 'delete' || op === 'replace') {
        return [{
          severity: Severity.Error,
          code: op === 'delete' ? FindingCode.Deleted : FindingCode.Replaced,
          ...(op === 'replace' ? { properties: props } : {}),
          effect:
            op === 'replace'
              ? 'replaced: the server that mounts the data volume is deleted first (deleteBeforeReplace); PostgreSQL is down until a new server has booted, run cloud-init and adopted the cluster on the volume; its public addresses change'
              : 'deletes the server that mounts the data volume: PostgreSQL stops and every client loses it',
          instead:
            op === 'replace'
              ? 'Plan the downtime (a maintenance window, a fresh dump), keep `reprovisionOnUserDataChange` off unless the new cloud-init is needed, then acknowledge it.'
              : 'Keep the server while anything uses the database; to move, copy the databases to the new server with `postgres-strategies migrate` first.',
        }];
      }
      return [];
    case SubjectKind.DockerVolume:
      return lossVerdicts(
        'volume',
        'deletes the Docker volume and the PostgreSQL data directory on it',
        `Keep the volume (\`allowDataDeletion\` off), or ${DUMP_FIRST}. A changed \`volumeName\` or \`dockerNamePrefix\` creates a new, empty volume: set \`volumeName\` to the old name to keep using it.`,
      );
    case SubjectKind.ServerContainer:
      return op === 'replace' || op === 'update'
        ? warnIfChanged(
            step,
            ['ports'],
            FindingCode.EndpointChanged,
            'the published port changes: clients on the host connect to another port (their URLs change); the container is recreated on the same data volume',
            'Deploy the new URLs to the host\'s clients together with this change.',
          )
        : [];
    case SubjectKind.AdminProvider:
      return providerVerdicts(step, op);
    case SubjectKind.CertificateAuthority:
      if (op === 'replace' || op === 'delete') {
        return [{
          severity: Severity.Warning,
          code: FindingCode.TlsChanged,
          ...(op === 'replace' ? { properties: props } : {}),
          effect: 'a new CA certificate: clients that verify the server (`sslmode=verify-ca`/`verify-full`) with the old `rootCertPem` are refused until they get the new one',
          instead: 'Distribute the new `rootCertPem` to the clients together with this change (a CA in its last year is renewed by design).',
        }];
      }
      return [];
    case SubjectKind.RdsParameterGroup:
      return forceSslVerdicts(step);
    case SubjectKind.LoginRotation:
      return rotationVerdicts(step, op);
    case SubjectKind.ServerCertificate:
      if (op !== 'replace') return [];
      return [{
        severity: Severity.Warning,
        code: FindingCode.CertificateExpiring,
        properties: props,
        effect: props.includes('readyForRenewal')
          ? `is in its last 30 days${expiresOn(step)} and is re-issued in the state. ${SERVER_RENEWS}`
          : `is re-issued (${props.join(', ')}). ${SERVER_RENEWS}`,
        instead: CHECK_SERVED,
      }];
    default:
      return [];
  }
}

function numberInput(state: PreviewResourceState | undefined, key: string): number | undefined {
  const value = state?.inputs?.[key];
  return typeof value === 'number' ? value : undefined;
}

/**
 * An instance's login rotation: a rotation changes the DSNs (user and
 * password) but loses nothing, and the previous login keeps working until
 * the next one; an emergency revocation cuts the old logins now.
 */
function rotationVerdicts(step: PreviewStep, op: Judged['op']): Verdict[] {
  const OUTPUTS = 'every DSN output of the instance (libpq and pgx URLs, Kratos DSNs, env maps, `.env`)';
  if (op === 'create') {
    return [{
      severity: Severity.Warning,
      code: FindingCode.Rotated,
      effect: `alternating logins are turned on: ${OUTPUTS} switches to the login \`<login>_a\` with a new password; the login of today keeps working until the first rotation`,
      instead: 'Nothing is lost. Roll the clients out with the new DSNs before the first rotation.',
    }];
  }
  if (op === 'delete') {
    return [{
      severity: Severity.Warning,
      code: FindingCode.Rotated,
      effect: `alternating logins are turned off: ${OUTPUTS} goes back to the instance's own login with its original password (its LOGIN restored); the logins \`<login>_a\` and \`<login>_b\` leave the stack and stay on the server as they are (retained, still logging in)`,
      instead: 'Roll the clients out with the new DSNs, then drop the two logins on the server when nothing uses them.',
    }];
  }
  if (op !== 'update') return [];
  const before = numberInput(step.oldState, 'counter');
  const after = numberInput(step.newState, 'counter');
  if (before === undefined || after === undefined || before === after) return [];
  const revoked = numberInput(step.newState, 'revokedBelow') === after && numberInput(step.oldState, 'revokedBelow') !== after;
  if (revoked) {
    return [{
      severity: Severity.Warning,
      code: FindingCode.Revoked,
      properties: ['revocation'],
      effect: `emergency revocation (rotation ${before} → ${after}): every earlier password of the instance stops working and every session of its logins is terminated during the deploy; only the new DSNs of this deploy log in, so its clients fail until they restart with them`,
      instead: 'Intended after a leak. Restart every client of the instance with the new DSNs right after the deploy; for an ordinary rotation change `rotation` instead of `revocation`.',
    }];
  }
  return [{
    severity: Severity.Warning,
    code: FindingCode.Rotated,
    properties: ['counter'],
    effect: `the login rotates (rotation ${before} → ${after}): ${OUTPUTS} changes its user and password; the previous login keeps working until the next rotation, and the one before it stops — nothing is lost`,
    instead: 'Roll the clients out with the new DSNs before the next rotation.',
  }];
}

const SERVER_RENEWS =
  'A server set up by a release with its own renewal renews the certificate it serves from 30 days before its expiry (a daily timer); a server set up by an older release, or with `renewCertificateOnServer: false`, keeps serving the old one until `setupScript` runs, and verify-full clients refuse it once it expires';
const CHECK_SERVED =
  'Check what the server serves: `openssl s_client -starttls postgres -connect <host>:5432 </dev/null | openssl x509 -noout -enddate`. On a server set up by an older release run this release\'s `setupScript` once (it installs the renewal), or after this `up`.';

/** Days before expiry from which a certificate still in the state is reported: the server certificate, the CA. */
const EXPIRY_WARNING_DAYS: Partial<Record<SubjectKind, number>> = { [SubjectKind.ServerCertificate]: 45, [SubjectKind.CertificateAuthority]: 400 };

function validityEnd(step: PreviewStep): number | undefined {
  const end = step.oldState?.outputs?.['validityEndTime'];
  const t = typeof end === 'string' ? Date.parse(end) : NaN;
  return Number.isNaN(t) ? undefined : t;
}

function expiresOn(step: PreviewStep): string {
  const end = validityEnd(step);
  return end === undefined ? '' : ` (it expires on ${new Date(end).toISOString().slice(0, 10)})`;
}

/**
 * A certificate the stack keeps (a `same` step shows with `--show-sames`)
 * whose expiry nears: 45 days for Hetzner's server certificate (the
 * renewals start at 30), 400 for a CA (`pulumi up` re-issues it in its last
 * year, and every client needs the new one).
 */
function expiryVerdicts(j: Judged, now: number): Verdict[] {
  const within = EXPIRY_WARNING_DAYS[j.subject.kind];
  const end = validityEnd(j.step);
  if (within === undefined || end === undefined || (j.op !== 'same' && j.op !== 'update')) return [];
  const days = Math.floor((end - now) / 86_400_000);
  if (days > within) return [];
  const when = `${days < 0 ? 'expired' : 'expires'} on ${new Date(end).toISOString().slice(0, 10)} (${days < 0 ? `${-days} days ago` : `in ${days} days`})`;
  if (j.subject.kind === SubjectKind.CertificateAuthority) {
    return [{
      severity: Severity.Warning,
      code: FindingCode.CertificateExpiring,
      effect: `${when}: a \`pulumi up\` re-issues it in its last year (same key); clients keep verifying with the old one until it expires, then refuse the server`,
      instead: 'Run `pulumi up`, bring the new CA to the server (`setupScript` on Hetzner), and give every client the new `caPem` before the old one expires.',
    }];
  }
  return [{ severity: Severity.Warning, code: FindingCode.CertificateExpiring, effect: `the one in the state ${when}. ${SERVER_RENEWS}`, instead: CHECK_SERVED }];
}

/**
 * A provider reference is `<provider URN>::<provider ID>`; the ID changes
 * with every provider replacement. The URN is resolved through the
 * preview's aliases: a step's old state carries its provider's old URN
 * when the provider's component was renamed with `aliases` (learnt on the
 * engine), which is the same provider.
 */
function providerReference(reference: string | undefined, current: (urn: string) => string): { urn: string; reference: string } | undefined {
  if (!reference) return undefined;
  const i = reference.lastIndexOf('::');
  const urn = current(i < 0 ? reference : reference.slice(0, i));
  return { urn, reference: i < 0 ? urn : `${urn}${reference.slice(i)}` };
}

/** Where a database or role lives: its admin connection's host and port when the preview shows them, else the connection's URN. */
function serverOf(state: PreviewResourceState | undefined, context: Pick<Context, 'index' | 'current'>): string | undefined {
  const ref = providerReference(state?.provider, context.current);
  if (!ref) return undefined;
  const states = context.index.statesOf(ref.urn);
  return endpoint(states?.new ?? states?.old) ?? ref.urn;
}

function endpoint(state: PreviewResourceState | undefined): string | undefined {
  const host = nameInput(state, 'host');
  const port = state?.inputs?.['port'];
  return host !== undefined && port !== undefined && port !== '[secret]' ? `${host}:${String(port)}` : undefined;
}

/**
 * A database or role whose provider reference changes moves to another
 * admin connection: the engine sees no diff (`same`, shown only with
 * `--show-sames`) and copies nothing. Learnt on the engine: switching a
 * SharedPostgres to another server handle gives exactly that.
 */
function movedVerdicts(j: Judged, context: Context): Verdict[] {
  const { step, subject } = j;
  const { index } = context;
  if (j.op !== 'same' && j.op !== 'update') return [];
  if (!OBJECT_KINDS.has(subject.kind)) return [];
  const fromRef = providerReference(step.oldState?.provider, context.current);
  const toRef = providerReference(step.newState?.provider, context.current);
  // The same provider under a new URN (an aliased rename of its component) is the same admin connection.
  if (!fromRef || !toRef || fromRef.reference === toRef.reference) return [];
  const from = fromRef.urn;
  const to = toRef.urn;
  const fromName = parseUrn(from)?.name ?? from;
  const toName = parseUrn(to)?.name ?? to;
  const before = endpoint(index.statesOf(from)?.new ?? index.statesOf(from)?.old);
  const after = endpoint(index.statesOf(to)?.new ?? index.statesOf(to)?.old);
  const sameServer = before !== undefined && before === after;
  const data = subject.kind !== SubjectKind.LoginRole;
  return [{
    severity: sameServer || !data ? Severity.Warning : Severity.Error,
    code: FindingCode.Moved,
    properties: ['provider'],
    effect: sameServer
      ? `moves from the admin connection ${quote(fromName)} to ${quote(toName)}, which reach the same host and port (${before}): only Pulumi's bookkeeping moves`
      : `moves from the admin connection ${quote(fromName)} to ${quote(toName)}${before && after ? ` (${before} → ${after})` : ''}: nothing copies it — on another server the stack would manage, and the apps would be given, a ${NOUNS[subject.kind]} that does not exist there`,
    instead: sameServer
      ? 'Nothing to do if both connections reach the same server.'
      : subject.owner
        ? 'Copy each database to the new server first with `postgres-strategies migrate`, then switch the component to the new server handle; or keep the old handle.'
        : 'Copy the database to the new server first with `postgres-strategies migrate`, then point the resource at the new provider; or keep the old provider.',
  }];
}

/** Switched-off protections: nothing happens now, a later delete loses the data. */
function protectionVerdicts(j: Judged): Verdict[] {
  const { step, subject } = j;
  if (j.op !== 'same' && j.op !== 'update') return [];
  const oldInputs = step.oldState?.inputs ?? {};
  const newInputs = step.newState?.inputs ?? {};
  const turnedOff: string[] = [];
  const dataKinds = [SubjectKind.Database, SubjectKind.OwnerRole, SubjectKind.RdsInstance, SubjectKind.HetznerVolume, SubjectKind.DockerVolume];
  if (!dataKinds.includes(subject.kind)) return [];
  if (step.oldState?.retainOnDelete === true && step.newState !== undefined && step.newState.retainOnDelete !== true) turnedOff.push('retainOnDelete');
  if (subject.kind === SubjectKind.RdsInstance) {
    if (oldInputs['deletionProtection'] === true && newInputs['deletionProtection'] === false) turnedOff.push('deletionProtection');
    if (oldInputs['skipFinalSnapshot'] !== true && newInputs['skipFinalSnapshot'] === true) turnedOff.push('skipFinalSnapshot');
  }
  if (subject.kind === SubjectKind.HetznerVolume && oldInputs['deleteProtection'] === true && newInputs['deleteProtection'] === false) turnedOff.push('deleteProtection');
  if (turnedOff.length === 0) return [];
  return [{
    severity: Severity.Warning,
    code: FindingCode.ProtectionRemoved,
    properties: turnedOff,
    effect: `no longer protected (${turnedOff.map((p) => `\`${p}\``).join(', ')}): nothing is lost by this deploy, but from the next one on, removing it ${subject.kind === SubjectKind.RdsInstance && turnedOff.includes('skipFinalSnapshot') ? 'deletes it without a final snapshot' : 'deletes its data'} (\`allowDeletion\`/\`allowDataDeletion\` turned on does this)`,
    instead: 'Switch protection off only in the change that removes the resource on purpose, after a dump or a final snapshot.',
  }];
}

/** A database or role whose `name` changes in an update: the provider's `ALTER <what> … RENAME`. */
function renamedInPlace(j: Judged, what: 'DATABASE' | 'ROLE', consequence: string, instead: string): Verdict[] {
  if (j.op !== 'update') return [];
  return warnIfChanged(j.step, ['name'], FindingCode.Renamed, `renamed in place${renameText(j.step, 'name')} with \`ALTER ${what} … RENAME\`: ${consequence}`, instead);
}

function loginRemoved(op: Judged['op'], props: string[]): Verdict[] {
  if (op !== 'delete' && op !== 'replace') return [];
  return [{
    severity: Severity.Warning,
    code: FindingCode.LoginRemoved,
    ...(op === 'replace' ? { properties: props } : {}),
    effect: op === 'replace' ? 'replaced: the login is dropped and created again; its sessions end and its grants are made anew' : 'drops the login role: apps and tools logging in as it can no longer connect (it owns no objects)',
    instead: 'Move the apps to another login first, then remove it.',
  }];
}

function rdsEndpointVerdicts(step: PreviewStep): Verdict[] {
  return [
    ...warnIfChanged(
      step,
      ['identifier'],
      FindingCode.Renamed,
      `renamed in place${renameText(step, 'identifier')} (\`ModifyDBInstance\`): the data stays, but the instance reboots and its address changes, so every client URL changes`,
      'Deploy the new URLs (the instance\'s `address`) to the apps together with this change, in a maintenance window.',
    ),
    ...warnIfChanged(
      step,
      ['port'],
      FindingCode.EndpointChanged,
      'the port changes: every client URL changes',
      'Deploy the new URLs to the apps together with this change, and admit the new port in the security groups.',
    ),
    ...warnIfChanged(
      step,
      ['caCertIdentifier'],
      FindingCode.TlsChanged,
      'the server certificate moves to another RDS certificate authority: clients that verify it with a bundle lacking the new CA are refused',
      'Give the clients AWS\'s current `global-bundle.pem` (it holds every RDS CA) before this change.',
    ),
  ];
}

function providerVerdicts(step: PreviewStep, op: Judged['op']): Verdict[] {
  if (op !== 'update' && op !== 'replace') return [];
  return [
    ...warnIfChanged(
      step,
      ['host', 'port'],
      FindingCode.EndpointChanged,
      (hit) =>
        `the server's ${hit.join(' and ')} changes for the admin connection and every instance's URLs; if it is another server, the databases are not copied there — the stack would manage databases that do not exist on it`,
      'Same server under a new address: deploy the new URLs to the apps. Another server: copy each database first with `postgres-strategies migrate`, then switch.',
    ),
    ...warnIfChanged(
      step,
      ['database'],
      FindingCode.AdminDatabaseChanged,
      `the admin connection moves to another database of the server${renameText(step, 'database')}: nothing on the server changes now and no app URL changes, but if that database does not exist or the admin cannot connect to it, every later \`pulumi up\` and \`refresh\` fails; a removed role's objects are then reassigned (\`REASSIGN OWNED\`) in that database`,
      'Make sure the database exists and the admin may connect to it before merging; it must not be an instance\'s database.',
    ),
    ...warnIfChanged(
      step,
      ['sslmode', 'sslrootcert', 'clientcert'],
      FindingCode.TlsChanged,
      'the admin connection\'s TLS settings change; the clients\' `sslmode`/`sslrootcert` in the instance URLs change with the server handle',
      'Check that the server offers what the new settings require (a certificate the CA file verifies) and deploy the new URLs to the apps together with this change.',
    ),
  ];
}

function forceSsl(state: PreviewResourceState | undefined): string | undefined {
  const params = state?.inputs?.['parameters'];
  if (!Array.isArray(params)) return undefined;
  for (const p of params) {
    if (typeof p === 'object' && p !== null && (p as Record<string, unknown>)['name'] === 'rds.force_ssl') {
      const value = (p as Record<string, unknown>)['value'];
      return typeof value === 'string' ? value : undefined;
    }
  }
  return undefined;
}

function forceSslVerdicts(step: PreviewStep): Verdict[] {
  if (step.op === 'delete' || step.op === 'create') return [];
  const before = forceSsl(step.oldState) ?? '0';
  const after = forceSsl(step.newState) ?? '0';
  if (before === after) return [];
  return [{
    severity: Severity.Warning,
    code: FindingCode.TlsChanged,
    properties: ['parameters'],
    effect: `\`rds.force_ssl\` changes from ${before} to ${after}: ${after === '1' ? 'clients without TLS are refused' : 'the server stops refusing clients without TLS'}`,
    instead: after === '1' ? 'Make sure every client connects with `sslmode=require` or stricter before this change.' : 'Keep `rds.force_ssl=1` unless a client truly cannot use TLS.',
  }];
}

function opOf(step: PreviewStep): Judged['op'] | undefined {
  switch (step.op) {
    case 'create':
    case 'update':
    case 'delete':
    case 'replace':
    case 'same':
      return step.op as Judged['op'];
    default:
      return REPLACEMENT_HALVES.has(step.op) ? 'replace' : undefined;
  }
}

/**
 * Where a resource sits, so that what leaves and what comes pair up: a
 * database by its server (whatever its parent chain: a component put
 * around it moves it without moving the data), anything else by its type
 * chain (components included).
 */
function place(j: Judged, context: Pick<Context, 'index' | 'current'>): string {
  if (j.subject.kind === SubjectKind.Database) {
    const server = serverOf(j.step.newState ?? j.step.oldState, context);
    if (server !== undefined) return `${j.subject.kind}|server|${server}`;
  }
  return `${j.subject.kind}|${j.subject.urn.typeChain.join('$')}`;
}

/** A database's or role's name on its server: the same name of the same family (databases, roles) on the same server is the same object. */
function physicalName(j: Judged, context: Pick<Context, 'index' | 'current'>): string | undefined {
  if (!OBJECT_KINDS.has(j.subject.kind) || j.subject.objectName === undefined) return undefined;
  const server = serverOf(j.step.newState ?? j.step.oldState, context);
  if (server === undefined) return undefined;
  return `${j.subject.kind === SubjectKind.Database ? 'database' : 'role'}|${server}|${j.subject.objectName}`;
}

/** Old URN → current URN, for every resource the preview shows under an alias (its old state has the old URN). */
function aliasMap(steps: readonly PreviewStep[]): (urn: string) => string {
  const current = new Map<string, string>();
  for (const step of steps) {
    const old = step.oldState?.urn;
    if (old && old !== step.urn && step.op !== 'delete') current.set(old, step.urn);
  }
  return (urn) => current.get(urn) ?? urn;
}

function acknowledgement(finding: Finding, subject: Subject | undefined, allow: readonly string[]): string | undefined {
  if (!subject) return undefined;
  const names = new Set([finding.urn, subject.urn.name]);
  if (subject.owner?.componentName !== undefined) names.add(subject.owner.componentName);
  if (subject.owner?.component === 'SharedPostgres' && subject.owner.instance !== undefined) {
    names.add(subject.owner.componentName !== undefined ? `${subject.owner.componentName}-${subject.owner.instance}` : subject.owner.instance);
  }
  return allow.find((a) => names.has(a));
}

/**
 * Judges every step of a `pulumi preview --json` and returns the findings,
 * errors first, in the order of the steps.
 *
 * Errors (the check fails unless each is acknowledged with `allow`): a
 * delete or replacement that loses data — a `postgresql` Database or owner
 * Role (ours: the instance's owner; the user's own roles count as owners),
 * an RDS instance (a delete without a final snapshot; any replacement), a
 * Hetzner volume and the `HetznerPostgres` server that mounts it, a Docker
 * volume (ours: the data volume) — and a new, empty database, RDS instance
 * or volume created while one of the same kind and place leaves the stack
 * (a renamed instance or component; a database pairs with one leaving
 * the same server, whatever its parent chain), and a database or role
 * created while one of the same name on the same server leaves the stack
 * (the program moved it without aliases: `up` fails on `already exists`).
 * A database or role whose admin connection is the same provider under an
 * alias (its component renamed with `aliases`) has not moved. A preview
 * with error diagnostics is an error too (its steps may be partial); it
 * cannot be acknowledged.
 *
 * Warnings (reported, never failing): what breaks clients but keeps the
 * data — a database, role or RDS instance renamed in place, a changed
 * server host or port, a TLS change (sslmode, a new CA, RDS's
 * `caCertIdentifier`, `rds.force_ssl`), a resource that leaves the stack
 * but is retained, an RDS instance deleted with a final snapshot, a read
 * replica rebuilt, a login role that owns nothing dropped.
 *
 * Pure: reads only its arguments (no Pulumi import, no I/O). Findings carry
 * names, types, operations and property names, never input values other
 * than the resources' own names (a database's, role's, volume's or
 * instance's): a value the program did not mark secret (the engine masks
 * the marked ones as `[secret]`, even with `--show-secrets`) is not repeated.
 *
 * @param preview the text `pulumi preview --json` printed, or its parsed document.
 * @throws PreviewFormatError when `preview` is not `pulumi preview --json` output.
 */
export function checkPreview(preview: string | PreviewDigest, options: CheckPreviewOptions = {}): Finding[] {
  const digest = parsePreview(preview);
  const allow = options.allow ?? [];
  const steps = digest.steps ?? [];
  const index = new UrnIndex(steps);

  // One judgement per resource: a `replace` step stands for its two halves
  // (both appear with --show-replacement-steps).
  const replaced = new Set(steps.filter((s) => s.op === 'replace').map((s) => s.urn));
  const seen = new Set<string>();
  const judged: Judged[] = [];
  for (const step of steps) {
    const op = opOf(step); // undefined for ops that change nothing the guard judges (read, refresh, import, discard…)
    if (!op) continue;
    if (REPLACEMENT_HALVES.has(step.op) && (replaced.has(step.urn) || seen.has(`replace|${step.urn}`))) continue;
    const subject = subjectOf(step, index);
    if (!subject) continue;
    seen.add(`${op}|${step.urn}`);
    judged.push({ step, op, subject });
  }
  const lookup = { index, current: aliasMap(steps) };
  const deletedAt = new Map<string, Subject[]>();
  const deletedNamed = new Map<string, Judged[]>();
  for (const j of judged) {
    if (j.op !== 'delete') continue;
    const at = place(j, lookup);
    deletedAt.set(at, [...(deletedAt.get(at) ?? []), j.subject]);
    const name = physicalName(j, lookup);
    if (name !== undefined) deletedNamed.set(name, [...(deletedNamed.get(name) ?? []), j]);
  }
  const context: Context = {
    ...lookup,
    now: (options.now ?? new Date()).getTime(),
    leaving: (c) => deletedAt.get(place(c, lookup)) ?? [],
    sameName: (c) => {
      const name = physicalName(c, lookup);
      return name === undefined ? [] : (deletedNamed.get(name) ?? []);
    },
  };

  const findings: Finding[] = [];
  for (const j of judged) {
    for (const v of judge(j, context)) {
      const finding: Finding = {
        severity: v.severity,
        code: v.code,
        op: j.step.op,
        urn: j.step.urn,
        type: j.subject.urn.type,
        resource: resourceLabel(j.subject),
        kind: j.subject.kind,
        ...(j.subject.objectName !== undefined ? { name: j.subject.objectName } : {}),
        resourceName: j.subject.urn.name,
        ...(j.subject.owner ? { component: j.subject.owner.component } : {}),
        ...(j.subject.owner?.componentName !== undefined ? { componentName: j.subject.owner.componentName } : {}),
        ...(j.subject.owner?.instance !== undefined ? { instance: j.subject.owner.instance } : {}),
        properties: v.properties ?? [],
        effect: v.effect,
        instead: v.instead,
      };
      const ack = acknowledgement(finding, j.subject, allow);
      findings.push(ack !== undefined ? { ...finding, acknowledgedBy: ack } : finding);
    }
  }

  findings.push(...backupFindings(steps));

  const errors = (digest.diagnostics ?? []).filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    findings.push({
      severity: Severity.Error,
      code: FindingCode.PreviewIncomplete,
      op: 'preview',
      urn: '',
      type: '',
      resource: 'the preview',
      properties: [],
      effect: `the preview reported ${errors.length} error${errors.length === 1 ? '' : 's'}, so its steps may be partial: the guard cannot vouch for what it did not see`,
      instead: 'Fix the errors `pulumi preview` printed and run the check on a preview that completes.',
    });
  }
  const rank = (f: Finding): number => (f.severity === Severity.Error ? 0 : 1);
  return findings.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
}

/**
 * What the preview could not show, as sentences for the report: a preview
 * without `--show-sames` leaves out unchanged steps, and with them a
 * database moved to another server handle and a switched-off
 * `retainOnDelete` (both are `same` steps: learnt on the engine).
 * @throws PreviewFormatError as {@link checkPreview}.
 */
export function previewNotes(preview: string | PreviewDigest): string[] {
  const digest = parsePreview(preview);
  const sames = (digest.steps ?? []).filter((s) => s.op === 'same').length;
  const expected = digest.changeSummary?.['same'] ?? 0;
  return sames < expected
    ? ['The preview was made without `--show-sames`: a database moved to another server, or a `retainOnDelete` switched off, only shows with it (`pulumi preview --json --show-sames`).']
    : [];
}

/** `allow` values that acknowledged no finding (a typo, or a change that is gone): worth telling the user. */
export function unusedAllows(findings: readonly Finding[], allow: readonly string[]): string[] {
  const used = new Set(findings.map((f) => f.acknowledgedBy).filter((a): a is string => a !== undefined));
  return [...new Set(allow)].filter((a) => !used.has(a));
}


