/**
 * `LocalDataGuard`: the guard of a local data volume. A Pulumi dynamic
 * resource that changes nothing outside the state: it records the volume's
 * name, the image, its PostgreSQL major and the stack that owns the volume,
 * and its `check` refuses, at `pulumi preview` and before any step of
 * `pulumi up`:
 * - another major over the same volume ({@link checkLocalMajorChange}),
 *   with the upgrade procedure in the message;
 * - a volume this stack has not used yet whose owner label (set on the
 *   volumes the component creates) names another stack
 *   ({@link checkVolumeOwner}): Docker's volume create would hand that
 *   stack's volume back, and a second server would open its data directory.
 *   The volume is read from the Docker engine the provider uses
 *   (`DOCKER_HOST`, a Unix socket or plain TCP; another scheme, or no
 *   answer, skips this check).
 * A new image of the same major, or a new volume, updates the record.
 *
 * The provider is serialized into the Pulumi state by Pulumi's closure
 * serializer, with what it calls.
 */
import * as pulumi from '@pulumi/pulumi';
import { DataGeneration, checkLocalMajorChange } from './image';
import { DockerLabel, checkVolumeOwner } from './plan';

/** The guard's inputs. */
export interface DataGuardInputs extends DataGeneration {
  /** `<project>/<stack>/<component name>`: the owner label of the volumes this component creates. */
  owner: string;
  /** `adoptVolume`. */
  adopt: boolean;
}

/** The labels of a Docker volume (GET /volumes/{name}), undefined when there is none or the engine cannot be asked. */
export async function dockerVolumeLabels(volume: string, dockerHost: string | undefined = process.env['DOCKER_HOST']): Promise<DockerLabel[] | undefined> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const http = require('node:http') as typeof import('node:http');
  const host = dockerHost ?? 'unix:///var/run/docker.sock';
  let target: { socketPath: string } | { host: string; port: number };
  if (host.startsWith('unix://')) target = { socketPath: host.slice('unix://'.length) };
  else if (host.startsWith('tcp://') && !process.env['DOCKER_TLS_VERIFY']) {
    const u = new URL(`http://${host.slice('tcp://'.length)}`);
    target = { host: u.hostname, port: Number(u.port || 2375) };
  } else return undefined;
  return new Promise((resolve) => {
    const req = http.request({ ...target, path: `/volumes/${encodeURIComponent(volume)}`, method: 'GET', timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve(undefined);
        try {
          const labels = (JSON.parse(body) as { Labels?: Record<string, string> | null }).Labels ?? {};
          resolve(Object.entries(labels).map(([label, value]) => ({ label, value })));
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => {
      req.destroy();
      resolve(undefined);
    });
    req.end();
  });
}

/** The provider (exported for the tests, which call it as the engine does). */
export const localDataGuardProvider = {
  async check(olds: Partial<DataGuardInputs>, news: DataGuardInputs): Promise<pulumi.dynamic.CheckResult> {
    if (olds.volume !== undefined && olds.image !== undefined && olds.major !== undefined && olds.volume === news.volume) {
      const problem = checkLocalMajorChange({ volume: olds.volume, image: olds.image, major: olds.major }, news);
      return problem ? { inputs: news, failures: [{ property: problem.field, reason: `${problem.problem}. ${problem.fix}` }] } : { inputs: news };
    }
    // A volume this stack has not used yet: whose is it?
    try {
      checkVolumeOwner(news.volume, await dockerVolumeLabels(news.volume), news.owner, news.adopt);
    } catch (e) {
      const problem = e as { field?: string; problem?: string; fix?: string; message: string };
      return { inputs: news, failures: [{ property: 'volume', reason: problem.problem ? `${problem.problem}. ${problem.fix}` : problem.message }] };
    }
    return { inputs: news };
  },
  async diff(_id: string, olds: DataGuardInputs, news: DataGuardInputs): Promise<pulumi.dynamic.DiffResult> {
    const keys = ['volume', 'image', 'major', 'owner', 'adopt'] as const;
    return { changes: keys.some((k) => olds[k] !== news[k]), replaces: [], deleteBeforeReplace: false };
  },
  async create(inputs: DataGuardInputs): Promise<pulumi.dynamic.CreateResult> {
    return { id: 'local-data-guard', outs: inputs };
  },
  async update(_id: string, _olds: DataGuardInputs, news: DataGuardInputs): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: news };
  },
};

/** Guards the data volume's major and owner (see the module doc). */
export class LocalDataGuard extends pulumi.dynamic.Resource {
  constructor(name: string, args: DataGuardInputs, opts?: pulumi.CustomResourceOptions) {
    super(localDataGuardProvider, name, args, opts, 'postgres-strategies', 'LocalDataGuard');
  }
}
