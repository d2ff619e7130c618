/**
 * The rotation bench (`npm run bench -- --only rotation`, issue 23):
 * `SharedPostgres` with 50 instances on `ExternalPostgres`, the real engine
 * (`npm run engine`), embedded PostgreSQL 17 with TLS verify-full and a
 * CREATEDB CREATEROLE admin — the program and server of the engine bench
 * (bench/engine.ts). One stack: `pulumi up` without rotation, `pulumi up`
 * turning `loginRotation` on (every instance gains its two logins), then
 * the measured `pulumi up` of rotation 1 for all 50 instances at once, and a
 * no-op preview after it. Per `up`: the wall time and the most sessions the
 * admin held at once (pg_stat_activity, sampled every 50 ms: the provider's
 * and the rotation's own SQL, which connects as the admin too). Target: the
 * rotation's admin sessions stay inside the admin's share (the connection
 * budget counts that share, nothing more).
 */
import { buildEngine } from '../lab/engine';
import { sampleConnections } from '../lab/inspect';
import { startLabServer } from '../lab/server';
import { benchStack, timedUp } from './engine';
import { BENCH_MAX_CONNECTIONS, adminShare, lanesOf } from './programs';
import { markdownTable, num, textTable } from './stats';

/** Instances rotated in one `up`. */
export const ROTATION_INSTANCES = 50;

/** The section's printed lines, markdown, and how many targets were missed. */
export interface RotationSection {
  lines: string[];
  md: string[];
  failed: number;
}

interface Step {
  label: string;
  upMs: number;
  peakAdminSessions: number;
}

/** Runs the rotation bench and reports it. */
export async function rotationSection(progress: (s: string) => void): Promise<RotationSection> {
  const binDir = await buildEngine();
  const server = await startLabServer({ version: 17, tls: true, conf: { fsync: false, max_connections: 100 } });
  const steps: Step[] = [];
  let noopMs = 0;
  let made: Awaited<ReturnType<typeof benchStack>> | undefined;
  try {
    made = await benchStack(binDir, server, 'component', ROTATION_INSTANCES, `bench-rotation-${ROTATION_INSTANCES}`);
    const { stack, admin } = made;
    const up = async (label: string, loginRotation: Record<string, unknown> | undefined): Promise<void> => {
      if (loginRotation) await stack.config({ loginRotation: JSON.stringify(loginRotation) }, 'bench');
      progress(`[bench rotation] ${label}`);
      const sessions = await sampleConnections(server.admin(), admin.user, 50);
      const { result } = await timedUp(stack, 30 * 60_000);
      const { peak } = await sessions.stop();
      if (result.code !== 0) throw new Error(`pulumi up (${label}) exited ${result.code}:\n${result.stdout.slice(-3000)}`);
      steps.push({ label, upMs: result.ms, peakAdminSessions: peak });
    };
    await up(`${ROTATION_INSTANCES} instances, no rotation`, undefined);
    await up('loginRotation turned on (two logins each)', { enabled: true });
    await up(`rotation 1 of all ${ROTATION_INSTANCES}`, { enabled: true, rotation: 1 });
    const preview = await stack.run(['preview', '--expect-no-changes']);
    if (preview.code !== 0) throw new Error(`the no-op preview after the rotation exited ${preview.code}:\n${preview.stdout.slice(-3000)}`);
    noopMs = preview.ms;
  } finally {
    await made?.stack.remove({ destroy: false }).catch(() => undefined);
    made?.sandbox.remove();
    await server.stop();
  }
  const share = adminShare(BENCH_MAX_CONNECTIONS);
  const rotation = steps[steps.length - 1] as Step;
  const ok = rotation.peakAdminSessions <= share;
  const header = ['pulumi up', 'time (s)', 'admin sessions (peak)'];
  const rows = steps.map((s) => [s.label, num(s.upMs / 1000, 1), String(s.peakAdminSessions)]);
  rows.push(['no-op preview after the rotation', num(noopMs / 1000, 1), '']);
  const verdict = `admin sessions during the rotation: ${rotation.peakAdminSessions} of the share ${share} ${ok ? 'PASS' : 'FAIL'}`;
  const intro =
    `Rotation of ${ROTATION_INSTANCES} instances in one \`pulumi up\` (real engine, embedded PostgreSQL 17, TLS verify-full, CREATEDB CREATEROLE admin; ` +
    `admin share ${share} for the declared max_connections ${BENCH_MAX_CONNECTIONS}: ${lanesOf(BENCH_MAX_CONNECTIONS)} instances at once), one stack, one run`;
  return {
    lines: [`8. ${intro}`, textTable(header, rows, 'lrr'), `   ${verdict}`],
    md: [`${intro}:`, '', markdownTable(header, rows, 'lrr'), '', `${verdict.charAt(0).toUpperCase()}${verdict.slice(1)}.`],
    failed: ok ? 0 : 1,
  };
}
