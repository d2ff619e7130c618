/**
 * systemd unit text the library renders: the Hetzner server's timers and
 * the off-site backup job's (pure).
 */

/**
 * A `.timer` unit: runs its service at `onCalendar` (systemd.time(7), e.g.
 * `daily`, `*-*-* 03:00:00`), spread by up to `randomizedDelay` (a systemd
 * time span: `15min`, `1h`), and at boot for a run missed while the machine
 * was off (`Persistent=true`).
 */
export function systemdTimer(description: string, onCalendar: string, randomizedDelay: string): string {
  return ['[Unit]', `Description=${description}`, '', '[Timer]', `OnCalendar=${onCalendar}`, `RandomizedDelaySec=${randomizedDelay}`, 'Persistent=true', '', '[Install]', 'WantedBy=timers.target', ''].join('\n');
}
