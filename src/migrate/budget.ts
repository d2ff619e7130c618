/**
 * The target server's connection budget, read from the live server before
 * anything is copied (the move from per-app servers into one shared server,
 * seed Strategy 2 → 3).
 *
 * The library gives every instance's login roles a CONNECTION LIMIT equal to
 * their pools (core/plan.ts), so the sum of the CONNECTION LIMITs of the
 * login roles on a server is what its apps may open when every pool is full.
 * Two checks, both against `max_connections` minus the reserved slots
 * (`superuser_reserved_connections` + `reserved_connections` on 16+):
 *
 * 1. committed: Σ CONNECTION LIMIT of non-superuser login roles ≤ usable
 *    slots — else, once every app runs with full pools, the server refuses
 *    logins ("sorry, too many clients already");
 * 2. now: the connections in use + what migrate opens on the target
 *    ({@link MIGRATE_TARGET_CONNECTIONS}) ≤ usable slots.
 *
 * Login roles without a limit (-1: admins, roles made by hand) cannot be
 * counted; they are listed in the report.
 */

/** Sessions per side that compute the table checksums in parallel (migrate's own session included). */
export const VERIFY_SESSIONS = 2;
/**
 * Connections migrate holds on the target at once: its own session and
 * pg_restore's during the copy, then its {@link VERIFY_SESSIONS} checksum sessions.
 */
export const MIGRATE_TARGET_CONNECTIONS = Math.max(2, VERIFY_SESSIONS);
/**
 * Connections migrate holds on the source at once: pg_dump's and the
 * {@link VERIFY_SESSIONS} checksum sessions (its own session, which exported
 * the snapshot, among them), which read during the copy.
 */
export const MIGRATE_SOURCE_CONNECTIONS = 1 + VERIFY_SESSIONS;

/** What the target server says about its connections. */
export interface ServerConnections {
  /** `max_connections`. */
  maxConnections: number;
  /** `superuser_reserved_connections` + `reserved_connections` (16+). */
  reservedConnections: number;
  /** Client sessions open now (pg_stat_activity, backend_type = client backend). */
  inUse: number;
  /** Non-superuser login roles and their CONNECTION LIMIT (-1 = none). */
  loginRoles: Array<{ role: string; connectionLimit: number }>;
}

/** The budget part of the report. */
export interface BudgetCheck {
  maxConnections: number;
  reservedConnections: number;
  /** maxConnections − reservedConnections. */
  usable: number;
  /** Σ CONNECTION LIMIT of the login roles that have one. */
  committed: number;
  /** Login roles without a CONNECTION LIMIT (not counted in `committed`). */
  unlimitedRoles: string[];
  inUse: number;
  /** What migrate opens on the target. */
  migrateNeeds: number;
  /** Both checks pass. */
  ok: boolean;
  /** Why not, when not ok. */
  problems: string[];
}

/** Checks the budget (pure). */
export function checkServerBudget(s: ServerConnections, migrateNeeds = MIGRATE_TARGET_CONNECTIONS): BudgetCheck {
  const usable = s.maxConnections - s.reservedConnections;
  const limited = s.loginRoles.filter((r) => r.connectionLimit >= 0);
  const committed = limited.reduce((sum, r) => sum + r.connectionLimit, 0);
  const unlimitedRoles = s.loginRoles.filter((r) => r.connectionLimit < 0).map((r) => r.role).sort();
  const problems: string[] = [];
  if (committed > usable) {
    const top = [...limited].sort((a, b) => b.connectionLimit - a.connectionLimit || a.role.localeCompare(b.role)).slice(0, 5);
    problems.push(
      `the login roles' CONNECTION LIMITs add up to ${committed}, more than the ${usable} usable slots (max_connections ${s.maxConnections} − ${s.reservedConnections} reserved), ` +
        `so with every pool full the server refuses logins (largest: ${top.map((r) => `${r.role} ${r.connectionLimit}`).join(', ')})`,
    );
  }
  if (s.inUse + migrateNeeds > usable) {
    problems.push(`${s.inUse} of the ${usable} usable slots are in use, and migrate needs ${migrateNeeds} more`);
  }
  return {
    maxConnections: s.maxConnections,
    reservedConnections: s.reservedConnections,
    usable,
    committed,
    unlimitedRoles,
    inUse: s.inUse,
    migrateNeeds,
    ok: problems.length === 0,
    problems,
  };
}
