import { systemdTimer } from '../../../src/core/systemd';
import { RENEW_TIMER, backupTimer } from '../../../src/hetzner/scripts';

/** The unit's sections and their keys, as systemd reads them (one `key=value` per line). */
function sections(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let current = '';
  for (const line of text.split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) out[(current = header[1]!)] = {};
    else if (line !== '') {
      const [key, ...value] = line.split('=');
      out[current]![key!] = value.join('=');
    }
  }
  return out;
}

describe('systemd timers', () => {
  test('a timer: its description, calendar and spread; missed runs at boot; enabled by timers.target', () => {
    expect(sections(systemdTimer('postgres-strategies: x', '*-*-* 03:00:00', '15min'))).toEqual({
      Unit: { Description: 'postgres-strategies: x' },
      Timer: { OnCalendar: '*-*-* 03:00:00', RandomizedDelaySec: '15min', Persistent: 'true' },
      Install: { WantedBy: 'timers.target' },
    });
  });

  test('the Hetzner server\'s timers: the certificate check daily (spread 1 h), the nightly dumps at their schedule', () => {
    expect(sections(RENEW_TIMER).Timer).toEqual({ OnCalendar: 'daily', RandomizedDelaySec: '1h', Persistent: 'true' });
    expect(sections(backupTimer('*-*-* 02:30:00')).Timer).toEqual({ OnCalendar: '*-*-* 02:30:00', RandomizedDelaySec: '30min', Persistent: 'true' });
    expect(backupTimer('daily').endsWith('WantedBy=timers.target\n')).toBe(true);
  });
});
