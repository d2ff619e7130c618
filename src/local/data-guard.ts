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
import { DockerLabel, HostPortClaim, ImageClaim, PortHolder, checkHostPortFree, checkImageAvailable, checkVolumeOwner } from './plan';

/** The guard's inputs. */
export interface DataGuardInputs extends DataGeneration {
  /** `<project>/<stack>/<component name>`: the owner label of the volumes this component creates. */
  owner: string;
  /** `adoptVolume`. */
  adopt: boolean;
  /** The host ports the stack publishes (a new one is checked free). */
  hostPorts?: HostPortClaim[];
  /** The images the stack runs (a new one is checked present or pullable). */
  images?: ImageClaim[];
}

/** Where the Docker engine of `DOCKER_HOST` answers (a Unix socket or plain TCP), and whether it runs on this machine. */
function dockerTarget(dockerHost: string | undefined): { target: { socketPath: string } | { host: string; port: number }; local: boolean } | undefined {
  const host = dockerHost ?? 'unix:///var/run/docker.sock';
  if (host.startsWith('unix://')) return { target: { socketPath: host.slice('unix://'.length) }, local: true };
  if (host.startsWith('tcp://') && !process.env['DOCKER_TLS_VERIFY']) {
    const u = new URL(`http://${host.slice('tcp://'.length)}`);
    return { target: { host: u.hostname, port: Number(u.port || 2375) }, local: ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) };
  }
  return undefined;
}

/** GET `path` of the Docker engine API: status and body, undefined when the engine cannot be asked. */
async function dockerGet(path: string, dockerHost: string | undefined, timeoutMs = 5000): Promise<{ status: number; body: string } | undefined> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const http = require('node:http') as typeof import('node:http');
  const engine = dockerTarget(dockerHost);
  if (!engine) return undefined;
  return new Promise((resolve) => {
    const req = http.request({ ...engine.target, path, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => {
      req.destroy();
      resolve(undefined);
    });
    req.end();
  });
}

/** The labels of a Docker volume (GET /volumes/{name}), undefined when there is none or the engine cannot be asked. */
export async function dockerVolumeLabels(volume: string, dockerHost: string | undefined = process.env['DOCKER_HOST']): Promise<DockerLabel[] | undefined> {
  const res = await dockerGet(`/volumes/${encodeURIComponent(volume)}`, dockerHost);
  if (res?.status !== 200) return undefined;
  try {
    const labels = (JSON.parse(res.body) as { Labels?: Record<string, string> | null }).Labels ?? {};
    return Object.entries(labels).map(([label, value]) => ({ label, value }));
  } catch {
    return undefined;
  }
}

/**
 * Why the Docker engine cannot run `image`: undefined when it has it, when
 * its registry describes it (GET /distribution/{name}/json: a pull would
 * work), or when the engine cannot be asked; else the registry's answer.
 */
export async function dockerImageUnavailable(image: string, dockerHost: string | undefined = process.env['DOCKER_HOST']): Promise<string | undefined> {
  const name = image.split('/').map(encodeURIComponent).join('/');
  const local = await dockerGet(`/images/${name}/json`, dockerHost);
  if (local === undefined || local.status === 200) return undefined;
  const remote = await dockerGet(`/distribution/${name}/json`, dockerHost, 20_000);
  if (remote === undefined) return 'the registry did not answer in 20 s';
  if (remote.status === 200) return undefined;
  try {
    return (JSON.parse(remote.body) as { message?: string }).message ?? `HTTP ${remote.status}`;
  } catch {
    return `HTTP ${remote.status}`;
  }
}

/**
 * What holds `address:port`: a running container of the engine that
 * publishes it, else (an engine on this machine) the error of binding it
 * here. Undefined when it is free or nothing can tell.
 */
export async function hostPortHolder(address: string, port: number, dockerHost: string | undefined = process.env['DOCKER_HOST']): Promise<PortHolder | undefined> {
  const res = await dockerGet('/containers/json', dockerHost);
  if (res?.status === 200) {
    try {
      for (const c of JSON.parse(res.body) as { Names?: string[]; Ports?: { PublicPort?: number; Type?: string }[] }[]) {
        if ((c.Ports ?? []).some((p) => p.PublicPort === port && p.Type === 'tcp')) return { container: (c.Names?.[0] ?? '?').replace(/^\//, '') };
      }
    } catch {
      // an answer that is not the list: the bind below still tells
    }
  }
  if (!dockerTarget(dockerHost)?.local) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const net = require('node:net') as typeof import('node:net');
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE' ? { bindError: `${e.code} on ${address}:${port}` } : undefined));
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** A failure of the guard's check: the argument and the problem with its fix. */
function failure(e: unknown, property: string): { property: string; reason: string } {
  const problem = e as { field?: string; problem?: string; fix?: string; message: string };
  return { property: problem.field ?? property, reason: problem.problem ? `${problem.problem}. ${problem.fix}` : problem.message };
}

/** The provider (exported for the tests, which call it as the engine does). */
export const localDataGuardProvider = {
  async check(olds: Partial<DataGuardInputs>, news: DataGuardInputs): Promise<pulumi.dynamic.CheckResult> {
    const failures: { property: string; reason: string }[] = [];
    const deployed = olds.volume !== undefined && olds.image !== undefined && olds.major !== undefined;
    if (deployed && olds.volume === news.volume) {
      const problem = checkLocalMajorChange({ volume: olds.volume!, image: olds.image!, major: olds.major! }, news);
      if (problem) failures.push({ property: problem.field, reason: `${problem.problem}. ${problem.fix}` });
    } else {
      // A volume this stack has not used yet: whose is it?
      try {
        checkVolumeOwner(news.volume, await dockerVolumeLabels(news.volume), news.owner, news.adopt);
      } catch (e) {
        failures.push(failure(e, 'volume'));
      }
    }
    // Host ports and images this stack does not use yet (its own containers hold the ports it
    // publishes; a stack deployed by a release that did not record them is not asked).
    const heldPorts = new Set((olds.hostPorts ?? []).map((p) => `${p.address}:${p.port}`));
    if (!deployed || olds.hostPorts !== undefined) {
      for (const claim of news.hostPorts ?? []) {
        if (heldPorts.has(`${claim.address}:${claim.port}`)) continue;
        try {
          checkHostPortFree(claim, await hostPortHolder(claim.address, claim.port));
        } catch (e) {
          failures.push(failure(e, claim.field));
        }
      }
    }
    const knownImages = new Set([...(olds.images ?? []).map((i) => i.image), ...(olds.image !== undefined ? [olds.image] : [])]);
    for (const claim of news.images ?? []) {
      if (knownImages.has(claim.image)) continue;
      try {
        checkImageAvailable(claim, await dockerImageUnavailable(claim.image));
      } catch (e) {
        failures.push(failure(e, claim.field));
      }
    }
    return failures.length ? { inputs: news, failures } : { inputs: news };
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
