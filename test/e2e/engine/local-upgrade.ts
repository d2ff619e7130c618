/**
 * The program of test/e2e/engine/local-upgrade.test.ts (run from
 * local-upgrade/, compiled by `npm run e2e`'s tsc): docs/local-docker.md's procedure
 * for a new PostgreSQL major under LocalPostgres. `auth` runs `image` with
 * an instance `kratos`; with `newImage`, a second LocalPostgres `auth-next`
 * on it (its own volume and published port); Kratos runs next to the one
 * `kratosOn` names (`old` by default). Config (namespace
 * `postgres-strategies`): `image`, `publishPort`, `kratosAdminPort`,
 * `newImage`, `newPublishPort`, `newKratosAdminPort`, `kratosOn`.
 */
import * as pulumi from '@pulumi/pulumi';
import { LocalPostgres } from '../../../src/local';

const cfg = new pulumi.Config('postgres-strategies');
const kratosOn = cfg.get('kratosOn') ?? 'old';

const old = new LocalPostgres('auth', {
  image: cfg.require('image'),
  publishPort: cfg.requireNumber('publishPort'),
  instances: [{ name: 'kratos' }],
  ...(kratosOn === 'old' ? { kratos: { instance: 'kratos', publishAdminPort: cfg.requireNumber('kratosAdminPort') } } : {}),
  allowDataDeletion: true,
});
const newImage = cfg.get('newImage');
const next = newImage
  ? new LocalPostgres('auth-next', {
      image: newImage,
      publishPort: cfg.requireNumber('newPublishPort'),
      instances: [{ name: 'kratos' }],
      ...(kratosOn === 'new' ? { kratos: { instance: 'kratos', publishAdminPort: cfg.requireNumber('newKratosAdminPort') } } : {}),
      allowDataDeletion: true,
    })
  : undefined;

/** The kratos database of the old server, from this machine (secret). */
export const oldUrl = old.instances['kratos']!.hostUrl;
/** The kratos database of the new one (secret). */
export const newUrl = next?.instances['kratos']!.hostUrl;
