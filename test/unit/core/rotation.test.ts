/**
 * Issue 23: the rotation scheme as data — settings merged over the server's
 * default, the decision a preview makes (at most one rotation per deploy,
 * deterministic within a period), which login logs in at each state, and
 * the plan's two-login shape. Properties over random trigger sequences
 * (fast-check): exactly the current and the previous credential log in, a
 * slot's password changes only when it becomes current, the login a client
 * was given keeps working through the next rotation and is refused after
 * the one after it, and an emergency revocation leaves only the new one.
 */
import fc from 'fast-check';
import { RolePurpose, RoleShape, ServerClaims, planInstance, planInstances } from '../../../src/core/plan';
import {
  LoginRotationTrigger,
  RotationCause,
  RotationState,
  advanceRotation,
  initialRotationState,
  lastRotationRevoked,
  nextRotationDue,
  parseRotationState,
  resolveLoginRotation,
  rotatingRoles,
  rotationNotice,
  rotationStatus,
  statusLogsIn,
} from '../../../src/core/rotation';
import { expectFieldError } from './helpers';

const NAMES = { base: 'vw_blog', logins: ['vw_blog_a', 'vw_blog_b'] as const };
const T0 = new Date('2026-03-01T12:00:00.000Z');
const DAY = 86_400_000;
const trigger = (rotation = 0, revocation = 0, rotateAfterDays = 0): LoginRotationTrigger => ({ rotation, revocation, rotateAfterDays });
const at = (days: number): Date => new Date(T0.getTime() + days * DAY);

describe('resolveLoginRotation: the instance over the server default', () => {
  test('off unless enabled on the instance or the server', () => {
    expect(resolveLoginRotation(undefined, undefined, 'instance.loginRotation')).toBeUndefined();
    expect(resolveLoginRotation({ enabled: false }, { enabled: true }, 'instance.loginRotation')).toBeUndefined();
    expect(resolveLoginRotation(undefined, { enabled: true }, 'instance.loginRotation')).toEqual(trigger());
  });

  test('the rotation and revocation numbers add up; rotateAfterDays and enabled: the instance wins', () => {
    expect(resolveLoginRotation({ rotation: 2, revocation: 1 }, { enabled: true, rotation: 5, revocation: 3, rotateAfterDays: 90 }, 'f')).toEqual(trigger(7, 4, 90));
    expect(resolveLoginRotation({ rotateAfterDays: 30 }, { enabled: true, rotateAfterDays: 90 }, 'f')).toEqual(trigger(0, 0, 30));
  });

  test.each([
    [{ enabled: true, rotation: -1 }, 'instances[0].loginRotation.rotation', 'whole number of rotations'],
    [{ enabled: true, rotation: 1.5 }, 'instances[0].loginRotation.rotation', 'whole number'],
    [{ enabled: true, revocation: 2e9 }, 'instances[0].loginRotation.revocation', 'between 0 and 1000000000'],
    [{ enabled: true, rotateAfterDays: 0 }, 'instances[0].loginRotation.rotateAfterDays', 'days between 1 and 3650'],
    [{ enabled: 'yes' }, 'instances[0].loginRotation.enabled', 'not true or false'],
    [{ enabled: true, every: 90 }, 'instances[0].loginRotation.every', 'not a login rotation setting'],
    [{ rotation: 1 }, 'instances[0].loginRotation.rotation', 'alternating logins are off'],
  ])('%j is refused naming %s', (spec, field, fragment) => {
    expectFieldError(() => resolveLoginRotation(spec as never, undefined, 'instances[0].loginRotation'), field, fragment);
  });

  test('a bad server default names the server field', () => {
    expectFieldError(() => resolveLoginRotation(undefined, { enabled: true, rotateAfterDays: 4000 }, 'instances[0].loginRotation'), 'loginRotation.rotateAfterDays', '3650');
  });
});

describe('advanceRotation: what a deployment decides', () => {
  const start = initialRotationState(trigger(), T0);

  test('enabling starts at counter 0 with nothing revoked and no cause', () => {
    expect(advanceRotation(undefined, trigger(3, 1), T0)).toEqual({ state: { counter: 0, revokedBelow: -1, rotatedAt: T0.toISOString(), rotation: 3, revocation: 1 } });
  });

  test('nothing changed: the same state (the outputs stay, no diff)', () => {
    expect(advanceRotation(start, trigger(), at(400))).toEqual({ state: start });
  });

  test('a changed rotation number rotates once, whatever the change', () => {
    for (const rotation of [1, 7, -3]) {
      const step = advanceRotation(start, trigger(rotation), at(1));
      expect(step.cause).toBe(RotationCause.Rotation);
      expect(step.state).toEqual({ counter: 1, revokedBelow: -1, rotatedAt: at(1).toISOString(), rotation, revocation: 0, cause: RotationCause.Rotation });
    }
  });

  test('a changed revocation number rotates once and revokes everything before the new credential', () => {
    const step = advanceRotation(start, trigger(1, 1), at(1));
    expect(step.cause).toBe(RotationCause.Revocation);
    expect(step.state).toMatchObject({ counter: 1, revokedBelow: 1, rotation: 1, revocation: 1 });
    expect(lastRotationRevoked(step.state)).toBe(true);
    // the next deployment does not revoke again
    expect(advanceRotation(step.state, trigger(1, 1), at(2))).toEqual({ state: step.state });
  });

  test('rotateAfterDays: due at the day, not a millisecond before; counted from the last rotation, not the epoch', () => {
    const t = trigger(0, 0, 90);
    expect(nextRotationDue(start, t)).toBe(at(90).toISOString());
    expect(advanceRotation(start, t, new Date(at(90).getTime() - 1)).cause).toBeUndefined();
    const due = advanceRotation(start, t, at(90));
    expect(due.cause).toBe(RotationCause.Due);
    // A rotation by number on day 100 restarts the period: not due again on day 180.
    const manual = advanceRotation(due.state, trigger(1, 0, 90), at(100)).state;
    expect(advanceRotation(manual, trigger(1, 0, 90), at(180)).cause).toBeUndefined();
    expect(advanceRotation(manual, trigger(1, 0, 90), at(190)).cause).toBe(RotationCause.Due);
    expect(nextRotationDue(start, trigger())).toBeUndefined();
  });

  test('a preview and the up after it agree within the period', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 * DAY }), fc.integer({ min: 0, max: 60_000 }), (offset, later) => {
        const t = trigger(0, 0, 30);
        const preview = advanceRotation(start, t, new Date(T0.getTime() + offset));
        const up = advanceRotation(start, t, new Date(T0.getTime() + offset + later));
        const boundary = T0.getTime() + 30 * DAY;
        const crosses = T0.getTime() + offset < boundary && T0.getTime() + offset + later >= boundary;
        return crosses || preview.cause === up.cause;
      }),
    );
  });

  test('the stored state reads back; anything else is refused', () => {
    const state = advanceRotation(start, trigger(1), at(1)).state;
    expect(parseRotationState(JSON.parse(JSON.stringify({ ...state, __provider: 'x' })))).toEqual(state);
    expectFieldError(() => parseRotationState({ counter: '1' }), 'rotationState', 'not a login rotation state');
    expectFieldError(() => parseRotationState({ ...state, cause: 'whim' }), 'rotationState');
  });
});

/** A state after `counter` rotations, the last `revoked` ones by revocation. */
function stateAt(counter: number, revokedBelow = -1): RotationState {
  return { counter, revokedBelow, rotatedAt: T0.toISOString(), rotation: counter, revocation: 0 };
}

describe('rotatingRoles: which login logs in', () => {
  const statuses = (s: RotationState): string[] => {
    const r = rotatingRoles(NAMES, s);
    return [r.base, ...r.slots].map((x) => `${x.role}:${x.status}:${x.generation}`);
  };

  test.each<[string, RotationState, string[], string, string | undefined]>([
    ['enabled (0)', stateAt(0), ['vw_blog:previous:-1', 'vw_blog_a:current:0', 'vw_blog_b:unused:-1'], 'vw_blog_a', 'vw_blog'],
    ['rotation 1', stateAt(1), ['vw_blog:retired:-1', 'vw_blog_a:previous:0', 'vw_blog_b:current:1'], 'vw_blog_b', 'vw_blog_a'],
    ['rotation 2', stateAt(2), ['vw_blog:retired:-1', 'vw_blog_a:current:2', 'vw_blog_b:previous:1'], 'vw_blog_a', 'vw_blog_b'],
    ['rotation 5', stateAt(5), ['vw_blog:retired:-1', 'vw_blog_a:previous:4', 'vw_blog_b:current:5'], 'vw_blog_b', 'vw_blog_a'],
    ['revocation at 1', stateAt(1, 1), ['vw_blog:revoked:-1', 'vw_blog_a:revoked:0', 'vw_blog_b:current:1'], 'vw_blog_b', undefined],
    ['rotation 2 after a revocation at 1', stateAt(2, 1), ['vw_blog:revoked:-1', 'vw_blog_a:current:2', 'vw_blog_b:previous:1'], 'vw_blog_a', 'vw_blog_b'],
    ['revocation at 4', stateAt(4, 4), ['vw_blog:revoked:-1', 'vw_blog_a:current:4', 'vw_blog_b:revoked:3'], 'vw_blog_a', undefined],
  ])('%s', (_label, state, expected, current, previous) => {
    expect(statuses(state)).toEqual(expected);
    const r = rotatingRoles(NAMES, state);
    expect(r.current.role).toBe(current);
    expect(r.previous?.role).toBe(previous);
  });

  test('rotationStatus: what dashboards read', () => {
    expect(rotationStatus(NAMES, stateAt(1), trigger(1, 0, 90))).toEqual({
      currentLogin: 'vw_blog_b',
      previousLogin: 'vw_blog_a',
      rotations: 1,
      lastRotatedAt: T0.toISOString(),
      nextDueAt: at(90).toISOString(),
      revoked: false,
    });
    expect(rotationStatus(NAMES, stateAt(1, 1), trigger())).toMatchObject({ previousLogin: null, nextDueAt: null, revoked: true });
  });
});

describe('properties over random trigger sequences', () => {
  /** One deployment: the trigger change it carries and the days since the previous one. */
  const deploy = fc.record({ bump: fc.constantFrom('none', 'rotation', 'revocation'), days: fc.integer({ min: 0, max: 120 }) });

  /** Runs a sequence; returns each deployment's state and the credential each role holds. */
  function run(steps: Array<{ bump: string; days: number }>, rotateAfterDays: number) {
    let t = trigger(0, 0, rotateAfterDays);
    let now = T0.getTime();
    let state = advanceRotation(undefined, t, new Date(now)).state;
    const history = [{ state, cause: undefined as RotationCause | undefined }];
    for (const s of steps) {
      now += s.days * DAY;
      if (s.bump === 'rotation') t = { ...t, rotation: t.rotation + 1 };
      if (s.bump === 'revocation') t = { ...t, revocation: t.revocation + 1 };
      const step = advanceRotation(state, t, new Date(now));
      state = step.state;
      history.push({ state, cause: step.cause });
    }
    return history;
  }
  const loggingIn = (s: RotationState): Map<string, number> => {
    const r = rotatingRoles(NAMES, s);
    return new Map([r.base, ...r.slots].filter((x) => statusLogsIn(x.status)).map((x) => [x.role, x.generation]));
  };

  test('invariants hold at every state', () => {
    fc.assert(
      fc.property(fc.array(deploy, { maxLength: 25 }), fc.constantFrom(0, 30, 90), (steps, days) => {
        for (const { state } of run(steps, days)) {
          const r = rotatingRoles(NAMES, state);
          const live = loggingIn(state);
          // the current login is slot counter % 2 holding the newest credential
          expect(r.current.role).toBe(NAMES.logins[state.counter % 2]);
          expect(live.get(r.current.role)).toBe(state.counter);
          // at most two credentials log in: the current and the one just before it
          expect(live.size).toBeLessThanOrEqual(2);
          for (const g of live.values()) expect([state.counter, state.counter - 1]).toContain(g);
          // after a revocation, only the new credential
          if (lastRotationRevoked(state)) expect([...live.keys()]).toEqual([r.current.role]);
        }
      }),
    );
  });

  test('a client keeps working through the next rotation, unless revoked, and is refused after the one after it; a password changes only when its slot becomes current', () => {
    fc.assert(
      fc.property(fc.array(deploy, { maxLength: 25 }), (steps) => {
        const history = run(steps, 0);
        for (let i = 1; i < history.length; i++) {
          const before = history[i - 1]!.state;
          const { state, cause } = history[i]!;
          const was = rotatingRoles(NAMES, before);
          const now = loggingIn(state);
          if (cause === undefined) {
            expect(state).toEqual(before);
            continue;
          }
          expect(state.counter).toBe(before.counter + 1);
          // the login clients were given still logs in with the same credential, unless revoked
          if (cause !== RotationCause.Revocation) expect(now.get(was.current.role)).toBe(before.counter);
          else expect(now.has(was.current.role)).toBe(false);
          // what was previous before is refused now (its slot got a new password, or the base retired)
          if (was.previous) expect(now.get(was.previous.role)).not.toBe(was.previous.generation);
          // only the slot that becomes current changes its generation (its password)
          const gens = (s: RotationState): number[] => rotatingRoles(NAMES, s).slots.map((x) => x.generation);
          const changed = gens(before).map((g, k) => (g !== gens(state)[k] ? NAMES.logins[k] : undefined)).filter(Boolean);
          expect(changed).toEqual([rotatingRoles(NAMES, state).current.role]);
        }
      }),
    );
  });
});

describe('the plan: two alternating logins', () => {
  test('owner shape: vw_blog_a and vw_blog_b, members of the owner, with its connection limit; the owner stays the base', () => {
    const p = planInstance({ name: 'blog', loginRotation: { enabled: true, rotateAfterDays: 90 } }, 'vw_');
    expect(p.rotation).toEqual({ base: 'vw_blog', logins: ['vw_blog_a', 'vw_blog_b'], trigger: trigger(0, 0, 90) });
    expect(p.roles.map((r) => [r.name, r.purpose, r.memberOf])).toEqual([
      ['vw_blog', RolePurpose.Owner, undefined],
      ['vw_blog_a', RolePurpose.LoginA, 'vw_blog'],
      ['vw_blog_b', RolePurpose.LoginB, 'vw_blog'],
    ]);
    expect(p.roles[1]).toMatchObject({ login: true, connectionLimit: p.owner.connectionLimit });
    expect(p.login).toBe(p.owner);
  });

  test('least-privilege shape: members of the app role (not the owner); the read-only role does not rotate', () => {
    const p = planInstance({ name: 'api', shape: RoleShape.LeastPrivilege, loginRotation: { enabled: true } }, 'vw_');
    expect(p.rotation?.base).toBe('vw_api');
    expect(p.roles.filter((r) => r.memberOf !== undefined).map((r) => [r.name, r.memberOf])).toEqual([
      ['vw_api_a', 'vw_api'],
      ['vw_api_b', 'vw_api'],
    ]);
  });

  test('the server default applies to every instance; an instance may opt out', () => {
    const plans = planInstances([{ name: 'blog' }, { name: 'admin', loginRotation: { enabled: false } }], { namePrefix: 'vw_', loginRotation: { enabled: true, rotation: 2 } });
    expect(plans.map((p) => p.rotation?.trigger)).toEqual([trigger(2), undefined]);
  });

  test('a slot taking another instance\'s name is refused, within a component and across components on a server', () => {
    expectFieldError(() => planInstances([{ name: 'blog', loginRotation: { enabled: true } }, { name: 'blog_a' }], { namePrefix: 'vw_' }), 'instances[1].database', 'role "vw_blog_a" is used by both');
    const claims = new ServerClaims({ maxConnections: 200, reservedConnections: 3 }, { user: 'postgres' });
    claims.claim('one', [planInstance({ name: 'blog_b' }, 'vw_')]);
    expectFieldError(() => claims.check('two', [planInstance({ name: 'blog', loginRotation: { enabled: true } }, 'vw_')], ['instance']), 'instance.database', 'role "vw_blog_b" is already claimed');
  });

  test('a database name with no room for the suffix is refused naming the field', () => {
    // (the field names the role, as for the least-privilege shape's `_owner` and `_ro`)
    expectFieldError(() => planInstance({ name: 'x', database: 'd'.repeat(62), loginRotation: { enabled: true } }), `instance.database (role "${'d'.repeat(62)}_a" of loginRotation)`, 'is 64 bytes long');
  });
});

describe('rotationNotice: what a preview says', () => {
  test('a rotation names the new current login, what keeps working and what stops', () => {
    const text = rotationNotice('blog', NAMES, { cause: RotationCause.Due, state: stateAt(1) }, []);
    expect(text).toBe(
      'instance "blog" rotates its login (rotation 1, rotateAfterDays elapsed): every DSN output switches to login vw_blog_b with a new password; vw_blog_a keeps working until the next rotation; vw_blog no longer logs in. Restart the instance\'s clients with the new DSNs before the next rotation.',
    );
  });

  test('an emergency revocation states its blast radius: the logins cut and the clients to restart', () => {
    const text = rotationNotice('blog', NAMES, { cause: RotationCause.Revocation, state: stateAt(3, 3) }, [
      { name: 'kratos', maxConnections: 10 },
      { name: 'gateway', maxConnections: 5 },
    ]);
    expect(text).toContain('EMERGENCY REVOCATION');
    expect(text).toContain('every session of vw_blog, vw_blog_a, vw_blog_b is terminated');
    expect(text).toContain('kratos (up to 10), gateway (up to 5)');
    expect(text).toContain('switches to login vw_blog_b');
  });
});
