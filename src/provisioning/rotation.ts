/**
 * The Pulumi side of password rotation (the scheme: `src/core/rotation.ts`):
 * - `LoginRotation`, a dynamic resource that keeps an instance's rotation
 *   state and decides at preview whether this deployment rotates (in its
 *   `check`, from the stored state, the trigger and the clock; a dynamic
 *   provider's preview outputs are its checked inputs, so the decision and
 *   everything derived from it are known at preview);
 * - `LoginRevocation`, a dynamic resource that runs the SQL the postgresql
 *   provider has no resource for: it removes the passwords of the logins
 *   that no longer log in (`PASSWORD NULL`) and, on an emergency
 *   revocation, terminates the sessions of every login of the instance
 *   (with `pg`, through the handle's admin URL, a secret input that the
 *   state keeps encrypted);
 * - {@link rotationLogins}: the slots' generated passwords (new whenever a
 *   slot is rotated: `random` keepers), which role logs in with what, the
 *   current login's name and password for the outputs, and the notice a
 *   preview prints for an instance that rotates.
 *
 * Both providers are serialized into the Pulumi state by Pulumi's closure
 * serializer, with what they call (see `src/hetzner/boot-user-data.ts`).
 */
import * as pulumi from '@pulumi/pulumi';
import { InstancePlan } from '../core/plan';
import { renderClearPasswordsSql, renderSessionCutSql } from '../core/render-sql';
import {
  LoginRotationStatus,
  LoginRotationTrigger,
  RotatingRoles,
  RotationCause,
  RotationState,
  advanceRotation,
  parseRotationState,
  rotatingRoles,
  rotationNotice,
  rotationStatus,
  statusLogsIn,
} from '../core/rotation';
import { GeneratedLogin, generateLogin } from './logins';

/** The inputs of {@link LoginRotation} as its provider sees them (the state filled in by `check`). */
type LoginRotationInputs = LoginRotationTrigger & Partial<Omit<RotationState, 'rotation' | 'revocation'>>;

const STATE_KEYS = ['counter', 'revokedBelow', 'rotatedAt', 'rotation', 'revocation', 'cause', 'rotateAfterDays'] as const;

/** The provider of {@link LoginRotation} (exported for the tests, which call it as the engine does). */
export const loginRotationProvider = {
  async check(olds: Partial<LoginRotationInputs>, news: LoginRotationInputs): Promise<pulumi.dynamic.CheckResult> {
    const trigger: LoginRotationTrigger = { rotation: news.rotation, revocation: news.revocation, rotateAfterDays: news.rotateAfterDays };
    const previous = olds.counter === undefined ? undefined : parseRotationState(olds);
    const { state } = advanceRotation(previous, trigger, new Date());
    return { inputs: { ...trigger, ...state } };
  },
  async diff(_id: string, olds: LoginRotationInputs, news: LoginRotationInputs): Promise<pulumi.dynamic.DiffResult> {
    return { changes: STATE_KEYS.some((k) => olds[k] !== news[k]), replaces: [], deleteBeforeReplace: false };
  },
  async create(inputs: LoginRotationInputs): Promise<pulumi.dynamic.CreateResult> {
    return { id: 'login-rotation', outs: inputs };
  },
  async update(_id: string, _olds: LoginRotationInputs, news: LoginRotationInputs): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: news };
  },
};

/**
 * One instance's rotation state (no secrets). Created with counter 0 when
 * rotation is turned on; each deployment's preview decides whether it
 * rotates (see `advanceRotation`). Removing it from the state starts over
 * at counter 0 (slot a current, with a new password unless it had rotation
 * 0's).
 */
export class LoginRotation extends pulumi.dynamic.Resource {
  declare public readonly counter: pulumi.Output<number>;
  declare public readonly revokedBelow: pulumi.Output<number>;
  declare public readonly rotatedAt: pulumi.Output<string>;
  declare public readonly rotation: pulumi.Output<number>;
  declare public readonly revocation: pulumi.Output<number>;
  declare public readonly cause: pulumi.Output<RotationCause | undefined>;

  constructor(name: string, trigger: LoginRotationTrigger, opts?: pulumi.CustomResourceOptions) {
    super(
      loginRotationProvider,
      name,
      { ...trigger, counter: undefined, revokedBelow: undefined, rotatedAt: undefined, cause: undefined },
      opts,
      'postgres-strategies',
      'LoginRotation',
    );
  }

  /** The state as the core reads it. */
  get state(): pulumi.Output<RotationState> {
    return pulumi
      .all([this.counter, this.revokedBelow, this.rotatedAt, this.rotation, this.revocation, this.cause])
      .apply(([counter, revokedBelow, rotatedAt, rotation, revocation, cause]) => parseRotationState({ counter, revokedBelow, rotatedAt, rotation, revocation, cause }));
  }
}

/** The inputs of {@link LoginRevocation} as its provider sees them. */
export interface LoginRevocationInputs {
  /** libpq URL of the admin (secret). */
  adminUrl: string;
  /** Roles whose password is removed (they do not log in at this state). */
  passwordless: string[];
  /** Every login of the instance (the base and both slots): what an emergency revocation cuts. */
  roles: string[];
  counter: number;
  revokedBelow: number;
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...(b ?? [])].sort());
}

/** Runs the revocation's SQL as the admin: passwords removed, and the sessions cut when `cut`. */
async function revokeLogins(inputs: LoginRevocationInputs, cut: boolean): Promise<void> {
  // Loaded here: the provider runs in Pulumi's dynamic-provider host, from the program's folder.
  const { parse, toClientConfig } = require('pg-connection-string') as typeof import('pg-connection-string');
  const pg = require('pg') as typeof import('pg');
  const parsed = parse(inputs.adminUrl, { useLibpqCompat: true });
  const config = toClientConfig(parsed);
  // pg reads its connect timeout from connectionTimeoutMillis only (toClientConfig leaves the URL's connect_timeout aside).
  const timeoutSeconds = Number(parsed['connect_timeout'] ?? 0);
  const client = new pg.Client({
    ...config,
    ...(timeoutSeconds > 0 ? { connectionTimeoutMillis: timeoutSeconds * 1000 } : {}),
    application_name: 'postgres-strategies login-revocation',
  });
  client.on('error', () => undefined);
  const password = typeof config.password === 'string' ? config.password : '';
  const clean = (e: unknown): Error => {
    const text = e instanceof Error ? e.message : String(e);
    return new Error(`LoginRevocation: ${password ? text.split(password).join('[secret]') : text}`);
  };
  try {
    await client.connect();
    if (inputs.passwordless.length > 0) await client.query(renderClearPasswordsSql(inputs.passwordless));
    if (cut) await client.query(renderSessionCutSql({ roles: inputs.roles }));
  } catch (e) {
    throw clean(e);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The provider of {@link LoginRevocation} (exported for the tests). */
export const loginRevocationProvider = {
  async diff(_id: string, olds: LoginRevocationInputs, news: LoginRevocationInputs): Promise<pulumi.dynamic.DiffResult> {
    // The admin URL alone (a rotated admin password) changes nothing on the server.
    const changes = !sameList(olds.passwordless, news.passwordless) || !sameList(olds.roles, news.roles) || olds.revokedBelow !== news.revokedBelow || olds.counter !== news.counter;
    return { changes, replaces: [], deleteBeforeReplace: false };
  },
  async create(inputs: LoginRevocationInputs): Promise<pulumi.dynamic.CreateResult> {
    await revokeLogins(inputs, false);
    const { adminUrl: _url, ...outs } = inputs;
    return { id: 'login-revocation', outs };
  },
  async update(_id: string, olds: LoginRevocationInputs, news: LoginRevocationInputs): Promise<pulumi.dynamic.UpdateResult> {
    // An emergency revocation that this deployment made: cut every session of the instance's logins.
    const cut = news.counter > 0 && news.revokedBelow === news.counter && olds.revokedBelow !== news.revokedBelow;
    await revokeLogins(news, cut);
    const { adminUrl: _url, ...outs } = news;
    return { outs };
  },
};

/** Arguments of {@link LoginRevocation}. */
export interface LoginRevocationArgs {
  adminUrl: pulumi.Input<string>;
  passwordless: pulumi.Input<string[]>;
  roles: string[];
  counter: pulumi.Input<number>;
  revokedBelow: pulumi.Input<number>;
}

/**
 * Removes the passwords of a rotating instance's logins that no longer log
 * in, and terminates the sessions of all its logins when the deployment
 * made an emergency revocation. Runs after the roles are updated (their new
 * passwords are set first). Its admin URL is a secret input (encrypted in
 * the state, never in its outputs); a changed admin URL alone changes
 * nothing.
 */
export class LoginRevocation extends pulumi.dynamic.Resource {
  declare public readonly revokedBelow: pulumi.Output<number>;

  constructor(name: string, args: LoginRevocationArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      loginRevocationProvider,
      name,
      { ...args, adminUrl: pulumi.secret(args.adminUrl) },
      { ...opts, additionalSecretOutputs: ['adminUrl'] },
      'postgres-strategies',
      'LoginRevocation',
    );
  }
}

/** What {@link rotationLogins} gives a component. */
export interface RotationLogins {
  /** The rotating logins: the base, slot a, slot b. */
  roles: string[];
  schedule: LoginRotation;
  state: pulumi.Output<RotationState>;
  /** Each rotating role's status at the state. */
  rotating: pulumi.Output<RotatingRoles>;
  /** Generated passwords of slot a and slot b (new whenever the slot is rotated). */
  slots: [GeneratedLogin, GeneratedLogin];
  /** Whether each rotating role (base and slots) logs in, by role name. */
  logsIn(role: string): pulumi.Output<boolean>;
  /** The rotating roles that do not log in at the state (their passwords are removed). */
  passwordless: pulumi.Output<string[]>;
  /** The current login's name and password. */
  current: { user: pulumi.Output<string>; password: pulumi.Output<string> };
  /** What `rotationState` outputs carry. */
  status: pulumi.Output<LoginRotationStatus>;
}

/**
 * The rotation of one instance: its {@link LoginRotation} (`<prefix>-login-rotation`),
 * the slots' passwords (`<prefix>-login-a-password`, …, keepers: the
 * rotation each slot last got a password at), and the current login. Logs,
 * at preview and up, which instance rotates and why (a warning with the
 * blast radius for an emergency revocation).
 */
export function rotationLogins(prefix: string, plan: InstancePlan, passwordLength: number, parent: pulumi.Resource): RotationLogins {
  const rotation = plan.rotation;
  if (!rotation) throw new Error(`rotationLogins: instance ${plan.instance} does not rotate`);
  const startedAt = Date.now();
  const schedule = new LoginRotation(`${prefix}-login-rotation`, rotation.trigger, { parent });
  const state = schedule.state;
  const rotating = state.apply((s) => rotatingRoles(rotation, s));
  const slot = (i: 0 | 1, purpose: string): GeneratedLogin =>
    generateLogin(`${prefix}-${purpose}`, passwordLength, parent, { generation: rotating.apply((r) => String(r.slots[i].generation)) });
  const slots: [GeneratedLogin, GeneratedLogin] = [slot(0, 'login-a'), slot(1, 'login-b')];
  const current = {
    user: rotating.apply((r) => r.current.role),
    password: pulumi.secret(pulumi.all([rotating, slots[0].password, slots[1].password]).apply(([r, a, b]) => (r.current.role === rotation.logins[0] ? a : b))),
  };
  // The preview names every instance that rotates (the state's time is this run's: check ran after the program started).
  state.apply((s) => {
    if (s.cause === undefined || Date.parse(s.rotatedAt) < startedAt) return;
    const text = rotationNotice(plan.instance, rotation, { cause: s.cause, state: s }, plan.consumers);
    if (s.cause === RotationCause.Revocation) void pulumi.log.warn(text, parent);
    else void pulumi.log.info(text, parent);
  });
  return {
    roles: [rotation.base, ...rotation.logins],
    schedule,
    state,
    passwordless: rotating.apply((r) => [r.base, ...r.slots].filter((x) => !statusLogsIn(x.status)).map((x) => x.role)),
    rotating,
    slots,
    logsIn: (role) =>
      rotating.apply((r) => {
        const found = [r.base, ...r.slots].find((x) => x.role === role);
        return found !== undefined && statusLogsIn(found.status);
      }),
    current,
    status: state.apply((s) => rotationStatus(rotation, s, rotation.trigger)),
  };
}
