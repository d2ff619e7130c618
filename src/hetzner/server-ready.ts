/**
 * `ServerReady`: a Pulumi dynamic resource that waits, on create, until the
 * new server accepts TCP connections on PostgreSQL's port from the machine
 * running Pulumi — cloud-init installs and configures PostgreSQL a few
 * minutes after Hetzner reports the server as running, and the admin
 * provider would otherwise fail its first connection. It changes nothing
 * anywhere; once created it never waits again (a later `up` finds it in
 * the state).
 *
 * The provider is serialized into the Pulumi state by Pulumi's closure
 * serializer, so it only uses Node's built-in modules, required inside the
 * function.
 */
import * as pulumi from '@pulumi/pulumi';

/** Inputs of {@link ServerReady}. */
export interface ServerReadyArgs {
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  /** How long to wait, in seconds. */
  timeoutSeconds: pulumi.Input<number>;
  /** Seconds to wait after the port opened (the setup creates the admin role right after the start). */
  settleSeconds: pulumi.Input<number>;
  /** Changes of this value (e.g. the server id) make it wait again. */
  trigger: pulumi.Input<string>;
}

interface ReadyInputs {
  host: string;
  port: number;
  timeoutSeconds: number;
  settleSeconds: number;
  trigger: string;
}

/** Polls `host:port` until a TCP connection succeeds; resolves the seconds it took. @throws Error at the timeout */
export async function waitForPort(host: string, port: number, timeoutSeconds: number, settleSeconds: number): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const net = require('net') as typeof import('net');
  const started = Date.now();
  const attempt = (): Promise<boolean> =>
    new Promise((resolve) => {
      const socket = net.connect({ host, port });
      const done = (ok: boolean): void => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(5000, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
  for (;;) {
    if (await attempt()) {
      await new Promise((r) => setTimeout(r, settleSeconds * 1000));
      return Math.round((Date.now() - started) / 1000);
    }
    if (Date.now() - started > timeoutSeconds * 1000) {
      throw new Error(`PostgreSQL on ${host}:${port} did not accept connections within ${timeoutSeconds} s: is this machine inside the private network (or adminHost reachable), and did cloud-init finish (journalctl -u cloud-final on the server)?`);
    }
    await new Promise((r) => setTimeout(r, 5000));
  }
}

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: ReadyInputs) {
    const seconds = await waitForPort(inputs.host, inputs.port, inputs.timeoutSeconds, inputs.settleSeconds);
    return { id: `${inputs.host}:${inputs.port}`, outs: { ...inputs, waitedSeconds: seconds } };
  },
  async diff(_id: string, olds: ReadyInputs, news: ReadyInputs) {
    const replace = olds.trigger !== news.trigger || olds.host !== news.host || olds.port !== news.port;
    return { changes: replace || olds.timeoutSeconds !== news.timeoutSeconds || olds.settleSeconds !== news.settleSeconds, replaces: replace ? ['trigger'] : [] };
  },
  async update(_id: string, _olds: ReadyInputs, news: ReadyInputs) {
    return { outs: { ...news } };
  },
};

/** Waits until the server accepts connections (see the module doc). */
export class ServerReady extends pulumi.dynamic.Resource {
  /** Seconds the first deployment waited. */
  declare public readonly waitedSeconds: pulumi.Output<number>;

  constructor(name: string, args: ServerReadyArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { ...args, waitedSeconds: undefined }, opts, 'postgres-strategies', 'ServerReady');
  }
}
