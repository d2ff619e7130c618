/**
 * The repository's own shell scripts against their real consumer's linter:
 * `npm run engine` (lab/build-engine.sh) and the CI entry point (.ci/run).
 */
import { spawnSync } from 'node:child_process';
import { labPath } from '../../../lab/server';

test.each(['lab/build-engine.sh', 'lab/install-engine.sh', '.ci/run'])('%s passes shellcheck', (script) => {
  const r = spawnSync('shellcheck', ['--shell=bash', labPath(script)], { encoding: 'utf8' });
  if (r.error) throw new Error(`shellcheck is needed (Debian: apt-get install shellcheck; .ci/run installs it): ${r.error.message}`);
  expect({ status: r.status, out: r.stdout }).toEqual({ status: 0, out: '' });
});
