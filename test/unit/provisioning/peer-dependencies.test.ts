/**
 * Issue 22 item 13: a strategy entry imported without its provider SDK (an
 * optional peer dependency) names the package and the `npm install` to run.
 * The packed tarball in a stack with only the root entry is checked in
 * test/e2e/engine/first-hour.test.ts.
 */
import * as pulumi from '@pulumi/pulumi';
import { ValidationError } from '../../../src/core/errors';
import { OPTIONAL_PEERS, requirePeers } from '../../../src/provisioning/peer-dependencies';

const missing = (...names: string[]) => (name: string): string => {
  if (names.includes(name)) throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
  return `/node_modules/${name}/index.js`;
};

describe('requirePeers', () => {
  it('passes when every package resolves', () => {
    expect(() => requirePeers('postgres-strategies/local', ['@pulumi/docker', '@pulumi/tls'], missing())).not.toThrow();
  });

  it('names the entry, the one missing package and the install command with its range', () => {
    let error: unknown;
    try {
      requirePeers('postgres-strategies/rds', ['@pulumi/aws'], missing('@pulumi/aws'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect(pulumi.RunError.isInstance(error)).toBe(true);
    expect((error as ValidationError).field).toBe('postgres-strategies/rds');
    expect((error as Error).message).toBe(
      "postgres-strategies/rds: needs @pulumi/aws, which is not installed (optional peer dependency of postgres-strategies: only the entries that use it need it). " +
        "Install it in your program's folder: npm install '@pulumi/aws@^7.48.0'",
    );
  });

  it('lists only the missing ones when several are needed', () => {
    expect(() => requirePeers('postgres-strategies/local', ['@pulumi/docker', '@pulumi/tls'], missing('@pulumi/docker', '@pulumi/tls'))).toThrow(
      /needs @pulumi\/docker and @pulumi\/tls, which are not installed.*npm install '@pulumi\/docker@>=5\.0\.0 <6' '@pulumi\/tls@\^5\.5\.1'$/,
    );
    expect(() => requirePeers('postgres-strategies/hetzner', ['@pulumi/hcloud', '@pulumi/tls'], missing('@pulumi/tls'))).toThrow(/needs @pulumi\/tls, which is not/);
  });

  it('resolves the real packages of this checkout (they are dev dependencies here)', () => {
    expect(() => requirePeers('test', Object.keys(OPTIONAL_PEERS))).not.toThrow();
  });
});
