/**
 * The program of test/e2e/engine/local-backup.test.ts (run from
 * local-backup/, compiled by `npm run e2e`'s tsc): a LocalPostgres on
 * postgres:15 with an instance `app`, and a LocalBackup of it (encrypted)
 * to `s3://backups/local` on a store with a private CA. Config (namespace
 * `postgres-strategies`): `publishPort`, `storeEndpoint`, `storeCaPem`,
 * `accessKeyId`, `secretAccessKey` and `backupKey` (secrets),
 * `backupImage`, `nodeModulesDir`.
 */
import * as pulumi from '@pulumi/pulumi';
import { LocalBackup, LocalPostgres } from '../../../src/local';

const cfg = new pulumi.Config('postgres-strategies');

const db = new LocalPostgres('auth', { image: 'postgres:15', publishPort: cfg.requireNumber('publishPort'), instances: [{ name: 'app' }], allowDataDeletion: true });
const backup = new LocalBackup(
  'auth-backup',
  {
    network: db.network.name,
    instances: ['app'],
    urls: { app: db.instances['app']!.url },
    location: 's3://backups/local',
    endpoint: cfg.require('storeEndpoint'),
    storeCaPem: cfg.require('storeCaPem'),
    accessKeyId: cfg.requireSecret('accessKeyId'),
    secretAccessKey: cfg.requireSecret('secretAccessKey'),
    encrypt: true,
    backupKey: cfg.requireSecret('backupKey'),
    postgresMajor: 15,
    intervalSeconds: 3600,
    image: cfg.require('backupImage'),
    nodeModulesDir: cfg.require('nodeModulesDir'),
    namePrefix: `${pulumi.getProject()}-${pulumi.getStack()}-auth`,
  },
  { dependsOn: [db] },
);

/** The superuser from this machine (secret). */
export const adminUrl = db.hostUrl;
/** The app instance from this machine (secret). */
export const appUrl = db.instances['app']!.hostUrl;
/** The backup container's name. */
export const backupContainer = backup.container.name;
