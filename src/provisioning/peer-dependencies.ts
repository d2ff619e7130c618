/**
 * The provider SDKs only some entries need are optional peer dependencies
 * (package.json `peerDependencies` + `peerDependenciesMeta.optional`): npm
 * does not install them with the package, so a stack that only uses the root
 * entry (`ExternalPostgres`, `SharedPostgres`) carries neither `@pulumi/aws`
 * (~84 MB) nor `@pulumi/hcloud`, `@pulumi/docker` or `@pulumi/tls`. Each
 * strategy entry checks for its SDKs first thing ({@link requirePeers}) and
 * names the `npm install` that is missing, instead of Node's bare
 * "Cannot find module".
 */
import { ValidationError } from '../core/errors';

/**
 * The optional peer dependencies and the ranges this package works with
 * (the same as package.json's `peerDependencies`; test/unit/packaging checks
 * they agree).
 */
export const OPTIONAL_PEERS: Readonly<Record<string, string>> = {
  '@pulumi/aws': '^7.48.0',
  '@pulumi/docker': '>=5.0.0 <6',
  '@pulumi/hcloud': '^1.41.0',
  '@pulumi/tls': '^5.5.1',
};

/**
 * Throws unless every package of `names` can be loaded from the user's
 * program (Node's resolution from this package's folder, which reaches the
 * program's node_modules).
 * @param entry the entry that needs them, e.g. `postgres-strategies/local`
 * @param resolve the resolver (tests give their own). @default require.resolve
 * @throws ValidationError naming the entry, the missing packages and the
 *   `npm install` command with their ranges. Under `pulumi preview` it reads
 *   as Pulumi's own error, without a stack trace.
 */
export function requirePeers(entry: string, names: string[], resolve: (name: string) => unknown = require.resolve): void {
  const missing = names.filter((name) => {
    try {
      resolve(name);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  const list = missing.join(' and ');
  throw new ValidationError(
    entry,
    `needs ${list}, which ${missing.length === 1 ? 'is' : 'are'} not installed (optional peer ${missing.length === 1 ? 'dependency' : 'dependencies'} of postgres-strategies: only the entries that use ${missing.length === 1 ? 'it' : 'them'} need ${missing.length === 1 ? 'it' : 'them'})`,
    `Install ${missing.length === 1 ? 'it' : 'them'} in your program's folder: npm install ${missing.map((m) => `'${m}@${OPTIONAL_PEERS[m] ?? '*'}'`).join(' ')}`,
  );
}
