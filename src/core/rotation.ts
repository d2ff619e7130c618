/**
 * Password rotation without downtime: alternating logins per app instance.
 *
 * The scheme (AWS CDK's "multi user" rotation, seed 002's `new-password`,
 * seed 004's "rotate every 90 days"): an instance with rotation on has two
 * login roles, `<login>_a` and `<login>_b`, both members of the role whose
 * privileges the app uses (the owner in the owner shape, the app role in
 * the least-privilege shape) and switched to it at login (`ALTER ROLE … SET
 * role = <base>`), so grants and default privileges never depend on which
 * login is current, and whatever a login creates (Kratos' tables) belongs to
 * the base role, never to the login.
 *
 * Rotation `k` gives slot `k % 2` a new password and makes it current in
 * every output; the other slot keeps the password it got at rotation
 * `k − 1` (the previous login), so a client started with the old DSN keeps
 * working until rotation `k + 1`. The login role that existed before
 * rotation was enabled (the base) counts as the credential of rotation −1:
 * it keeps its LOGIN and password while the counter is 0 and becomes
 * NOLOGIN, its password removed, at rotation 1.
 *
 * An emergency revocation is a rotation that also revokes every earlier
 * credential at once: the previous login loses its password too, and the
 * sessions of all of the instance's logins are terminated.
 *
 * What rotates when is decided from the stored state (the counter, when the
 * current login got its password, the trigger numbers seen last) and the
 * trigger ({@link advanceRotation}): a changed rotation or revocation
 * number, or `rotateAfterDays` elapsed. Pure; the components keep the state
 * in a Pulumi resource and decide at preview.
 */
import { ValidationError, check, checkInteger } from './errors';

/**
 * Alternating logins of an app instance (opt-in), as the user gives them:
 * on an instance (`InstanceSpec.loginRotation`) and as a default for every
 * instance on a server (the strategies' `loginRotation`). The instance's
 * fields win over the server's; the two `rotation` numbers add up, and so do
 * the two `revocation` numbers, so raising the server's rotates every
 * instance and raising an instance's rotates that one.
 */
export interface LoginRotationSpec {
  /**
   * Give the instance two alternating login roles, `<login>_a` and
   * `<login>_b`, and put the current one in every output. Turning it on
   * switches the outputs to `<login>_a`; the login of today keeps working
   * until the first rotation (see docs/rotation.md).
   * @default false
   */
  enabled?: boolean;
  /**
   * The rotation number, a whole number 0–1000000000: any change (e.g. 0 → 1)
   * rotates once on the next `pulumi up`: the inactive login gets a new
   * password and becomes current; the previous one keeps working until the
   * next rotation. @default 0
   */
  rotation?: number;
  /**
   * Rotate on the first `pulumi up` at least this many days (1–3650) after
   * the current login got its password. @default none (only `rotation` and
   * `revocation` rotate)
   */
  rotateAfterDays?: number;
  /**
   * The revocation number (emergency), 0–1000000000: any change rotates at
   * once and revokes every earlier login in the same `pulumi up`: their
   * passwords are removed and their sessions terminated, so only the new
   * DSNs of that deploy log in. @default 0
   */
  revocation?: number;
}

/** What triggers rotations of one instance, after merging the server's default. */
export interface LoginRotationTrigger {
  /** Sum of the server's and the instance's rotation numbers. */
  rotation: number;
  /** Sum of the server's and the instance's revocation numbers. */
  revocation: number;
  /** Days after which the current login is rotated; 0 = never. */
  rotateAfterDays: number;
}

const MAX_TRIGGER = 1_000_000_000;

function checkSpec(spec: LoginRotationSpec | undefined, field: string): void {
  if (spec === undefined) return;
  check(typeof spec === 'object' && spec !== null && !Array.isArray(spec), field, 'is not an object', 'Give e.g. { enabled: true, rotateAfterDays: 90 }');
  const known = new Set(['enabled', 'rotation', 'rotateAfterDays', 'revocation']);
  for (const key of Object.keys(spec)) {
    check(known.has(key), `${field}.${key}`, 'is not a login rotation setting', `Use ${[...known].join(', ')}`);
  }
  if (spec.enabled !== undefined) check(typeof spec.enabled === 'boolean', `${field}.enabled`, `${JSON.stringify(spec.enabled)} is not true or false`, 'Give true or false');
  if (spec.rotation !== undefined) checkInteger(spec.rotation, `${field}.rotation`, 0, MAX_TRIGGER, 'rotations');
  if (spec.revocation !== undefined) checkInteger(spec.revocation, `${field}.revocation`, 0, MAX_TRIGGER, 'revocations');
  if (spec.rotateAfterDays !== undefined) checkInteger(spec.rotateAfterDays, `${field}.rotateAfterDays`, 1, 3650, 'days');
}

/**
 * Merges an instance's rotation settings over the server's default.
 * @param field the instance's field (e.g. `instances[0].loginRotation`).
 * @param serverField the server default's field (e.g. `loginRotation`).
 * @returns the trigger, or undefined when rotation is off for the instance.
 * @throws ValidationError for a setting that is not a whole number in range,
 *   an unknown key, or numbers on an instance whose rotation is off.
 */
export function resolveLoginRotation(
  instance: LoginRotationSpec | undefined,
  server: LoginRotationSpec | undefined,
  field: string,
  serverField = 'loginRotation',
): LoginRotationTrigger | undefined {
  checkSpec(server, serverField);
  checkSpec(instance, field);
  const enabled = instance?.enabled ?? server?.enabled ?? false;
  if (!enabled) {
    const set = (['rotation', 'rotateAfterDays', 'revocation'] as const).find((k) => instance?.[k] !== undefined);
    check(
      set === undefined,
      `${field}.${set}`,
      'is set, but alternating logins are off for this instance',
      `Set ${field}.enabled to true (or the server's ${serverField}.enabled), or remove ${set}`,
    );
    return undefined;
  }
  return {
    rotation: (server?.rotation ?? 0) + (instance?.rotation ?? 0),
    revocation: (server?.revocation ?? 0) + (instance?.revocation ?? 0),
    rotateAfterDays: instance?.rotateAfterDays ?? server?.rotateAfterDays ?? 0,
  };
}

/** The rotation state one instance keeps between deployments. */
export interface RotationState {
  /** Rotations since rotation was enabled (0: enabled, none yet). The current login is slot `counter % 2`. */
  counter: number;
  /** Credentials of rotations below this are revoked (an emergency revocation at counter `c` sets `c`); −1: none. */
  revokedBelow: number;
  /** When the current login got its password (ISO 8601, UTC). */
  rotatedAt: string;
  /** The trigger's rotation number seen last. */
  rotation: number;
  /** The trigger's revocation number seen last. */
  revocation: number;
  /** Why the last rotation happened; absent before the first. */
  cause?: RotationCause;
}

/** Why a deployment rotates. */
export enum RotationCause {
  /** The revocation number changed: an emergency revocation. */
  Revocation = 'revocation',
  /** The rotation number changed. */
  Rotation = 'rotation',
  /** `rotateAfterDays` elapsed since the current login got its password. */
  Due = 'due',
}

/** The outcome of {@link advanceRotation}. */
export interface RotationStep {
  state: RotationState;
  /** Why this deployment rotates; undefined when it does not. */
  cause?: RotationCause;
}

const DAY_MS = 86_400_000;

/** The state of an instance whose rotation was just enabled: counter 0, nothing revoked. */
export function initialRotationState(trigger: LoginRotationTrigger, now: Date): RotationState {
  return { counter: 0, revokedBelow: -1, rotatedAt: now.toISOString(), rotation: trigger.rotation, revocation: trigger.revocation };
}

/**
 * Decides whether this deployment rotates, from the stored state and the
 * trigger. At most one rotation per deployment: a changed revocation number
 * (an emergency: everything before the new credential is revoked), else a
 * changed rotation number, else `rotateAfterDays` elapsed since `rotatedAt`.
 * The same state, trigger and time give the same answer (a preview and the
 * `up` after it agree unless a period ends in between).
 * @param previous the stored state; undefined when rotation is being enabled.
 */
export function advanceRotation(previous: RotationState | undefined, trigger: LoginRotationTrigger, now: Date): RotationStep {
  if (previous === undefined) return { state: initialRotationState(trigger, now) };
  const rotated = (cause: RotationCause): RotationStep => {
    const counter = previous.counter + 1;
    return {
      cause,
      state: {
        counter,
        revokedBelow: cause === RotationCause.Revocation ? counter : previous.revokedBelow,
        rotatedAt: now.toISOString(),
        rotation: trigger.rotation,
        revocation: trigger.revocation,
        cause,
      },
    };
  };
  if (trigger.revocation !== previous.revocation) return rotated(RotationCause.Revocation);
  if (trigger.rotation !== previous.rotation) return rotated(RotationCause.Rotation);
  const due = nextRotationDue(previous, trigger);
  if (due !== undefined && now.getTime() >= Date.parse(due)) return rotated(RotationCause.Due);
  return { state: previous };
}

/** When `rotateAfterDays` rotates next (ISO 8601), or undefined without it. */
export function nextRotationDue(state: RotationState, trigger: LoginRotationTrigger): string | undefined {
  if (trigger.rotateAfterDays <= 0) return undefined;
  return new Date(Date.parse(state.rotatedAt) + trigger.rotateAfterDays * DAY_MS).toISOString();
}

/** What a login role of a rotating instance is at a given state. */
export enum LoginStatus {
  /** In every output; logs in. */
  Current = 'current',
  /** The one before: still logs in, until the next rotation. */
  Previous = 'previous',
  /** Superseded by two rotations: NOLOGIN, password removed. */
  Retired = 'retired',
  /** Revoked by an emergency revocation: NOLOGIN, password removed, sessions terminated. */
  Revoked = 'revoked',
  /** Not used yet (slot b before the first rotation): NOLOGIN, no password. */
  Unused = 'unused',
}

/** Whether a login of this status may log in (LOGIN with a password). */
export function statusLogsIn(status: LoginStatus): boolean {
  return status === LoginStatus.Current || status === LoginStatus.Previous;
}

/** The names of a rotating instance's login roles. */
export interface RotationRoleNames {
  /** The login before rotation (the owner, or the least-privilege app role): the logins' privileges come from it. */
  base: string;
  /** Slot a (`<base>_a`) and slot b (`<base>_b`). */
  logins: readonly [string, string];
}

/** One role of a rotating instance at a given state. */
export interface RotatingRole {
  role: string;
  status: LoginStatus;
  /**
   * The rotation whose password the role holds (slot a: even numbers, slot b:
   * odd ones; −1 for the base and for a slot not used yet). A slot's password
   * is generated anew whenever this changes.
   */
  generation: number;
}

/** Every login role of a rotating instance at a given state. */
export interface RotatingRoles {
  base: RotatingRole;
  /** Slot a and slot b. */
  slots: readonly [RotatingRole, RotatingRole];
  /** The login in every output. */
  current: RotatingRole;
  /** The login that still works until the next rotation, when there is one. */
  previous?: RotatingRole;
}

/**
 * The status of each login role at `state`: slot `counter % 2` is current
 * (the credential of rotation `counter`), the other slot previous (rotation
 * `counter − 1`) unless an emergency revoked it, the base previous while
 * the counter is 0 and retired (or revoked) after.
 */
export function rotatingRoles(names: RotationRoleNames, state: RotationState): RotatingRoles {
  const c = state.counter;
  const credential = (generation: number): LoginStatus => {
    if (generation === c) return LoginStatus.Current;
    if (generation === c - 1) return generation >= state.revokedBelow ? LoginStatus.Previous : LoginStatus.Revoked;
    return state.revokedBelow > generation ? LoginStatus.Revoked : LoginStatus.Retired;
  };
  const slot = (s: 0 | 1): RotatingRole => {
    const role = names.logins[s];
    if (c < s) return { role, status: LoginStatus.Unused, generation: -1 };
    const generation = c - ((c - s) % 2);
    return { role, status: credential(generation), generation };
  };
  const base: RotatingRole = { role: names.base, status: credential(-1), generation: -1 };
  const slots = [slot(0), slot(1)] as const;
  const current = slots[c % 2] as RotatingRole;
  const previous = [base, ...slots].find((r) => r.status === LoginStatus.Previous);
  return { base, slots, current, ...(previous ? { previous } : {}) };
}

/**
 * What dashboards and alerts read about one instance's rotation
 * (`rotationState` outputs). No secrets.
 */
export interface LoginRotationStatus {
  /** The login role in every output now. */
  currentLogin: string;
  /** The login that still works until the next rotation; null when none (after an emergency revocation). */
  previousLogin: string | null;
  /** Rotations since rotation was enabled. */
  rotations: number;
  /** When the current login got its password (ISO 8601, UTC). */
  lastRotatedAt: string;
  /** When `rotateAfterDays` rotates next (ISO 8601, UTC); null without it. */
  nextDueAt: string | null;
  /** Whether the last rotation was an emergency revocation (every earlier login revoked). */
  revoked: boolean;
}

/** The {@link LoginRotationStatus} of a state. */
export function rotationStatus(names: RotationRoleNames, state: RotationState, trigger: LoginRotationTrigger): LoginRotationStatus {
  const roles = rotatingRoles(names, state);
  return {
    currentLogin: roles.current.role,
    previousLogin: roles.previous?.role ?? null,
    rotations: state.counter,
    lastRotatedAt: state.rotatedAt,
    nextDueAt: nextRotationDue(state, trigger) ?? null,
    revoked: state.revokedBelow === state.counter && state.counter > 0,
  };
}

/** Whether the state's last rotation was an emergency revocation (its sessions are to be cut). */
export function lastRotationRevoked(state: RotationState): boolean {
  return state.counter > 0 && state.revokedBelow === state.counter;
}

/** What a preview says about one instance that rotates (no secrets: role names and counts only). */
export function rotationNotice(
  instance: string,
  names: RotationRoleNames,
  step: { cause: RotationCause; state: RotationState },
  consumers: ReadonlyArray<{ name: string; maxConnections: number }>,
): string {
  const roles = rotatingRoles(names, step.state);
  const why =
    step.cause === RotationCause.Revocation ? 'the revocation number changed' : step.cause === RotationCause.Rotation ? 'the rotation number changed' : 'rotateAfterDays elapsed';
  const head = `instance "${instance}" rotates its login (rotation ${step.state.counter}, ${why}): every DSN output switches to login ${roles.current.role} with a new password`;
  if (step.cause === RotationCause.Revocation) {
    const cut = [roles.base.role, ...names.logins];
    const clients = consumers.map((c) => `${c.name} (up to ${c.maxConnections})`).join(', ');
    return (
      `${head}. EMERGENCY REVOCATION — blast radius: every session of ${cut.join(', ')} is terminated during this deploy and every earlier password stops working at once; ` +
      `only the new DSNs of this deploy log in. Restart every client of the instance with them: ${clients || 'none declared'}.`
    );
  }
  const previous = roles.previous ? `${roles.previous.role} keeps working until the next rotation` : 'no earlier login keeps working';
  const retired = [roles.base, ...roles.slots].filter((r) => r.status === LoginStatus.Retired || r.status === LoginStatus.Revoked).map((r) => r.role);
  const refused = retired.length === 0 ? '' : `; ${retired.join(', ')} no longer log${retired.length === 1 ? 's' : ''} in`;
  return `${head}; ${previous}${refused}. Restart the instance's clients with the new DSNs before the next rotation.`;
}

/** Checks a stored state read back from a Pulumi resource. @throws ValidationError when it is not one. */
export function parseRotationState(value: unknown, field = 'rotationState'): RotationState {
  const v = value as Partial<RotationState> | undefined;
  const ok =
    typeof v === 'object' &&
    v !== null &&
    Number.isInteger(v.counter) &&
    Number.isInteger(v.revokedBelow) &&
    typeof v.rotatedAt === 'string' &&
    !Number.isNaN(Date.parse(v.rotatedAt)) &&
    Number.isInteger(v.rotation) &&
    Number.isInteger(v.revocation) &&
    (v.cause === undefined || Object.values(RotationCause).includes(v.cause));
  if (!ok) throw new ValidationError(field, 'is not a login rotation state', 'Run `pulumi refresh`, or remove the rotation resource from the state to start over');
  return {
    counter: v.counter as number,
    revokedBelow: v.revokedBelow as number,
    rotatedAt: v.rotatedAt as string,
    rotation: v.rotation as number,
    revocation: v.revocation as number,
    ...(v.cause !== undefined ? { cause: v.cause } : {}),
  };
}
