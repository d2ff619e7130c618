/**
 * A TCP relay in front of a server, for tests that drop the network at a
 * chosen moment: every client connection is relayed byte for byte (TLS
 * passes through untouched); `cut()` destroys every relayed connection and
 * refuses the ones that come after, as a network that went away.
 */
import { Server, Socket, connect, createServer } from 'node:net';

export interface TcpProxy {
  /** The port it listens on (127.0.0.1). */
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Drops every relayed connection now and every later one at once. */
  cut(): void;
  close(): Promise<void>;
}

export interface TcpProxyOptions {
  /**
   * Called when the client side of a relayed connection closes, with its
   * number (1 for the first accepted), e.g. to cut the rest then.
   */
  onClientClosed?: (connection: number, proxy: TcpProxy) => void;
}

/** Starts a relay on a free port of 127.0.0.1 to `host:port`. */
export async function startTcpProxy(host: string, port: number, options: TcpProxyOptions = {}): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let accepted = 0;
  let cutting = false;
  const server: Server = createServer((client) => {
    const n = ++accepted;
    if (cutting) {
      client.destroy();
      return;
    }
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('error', () => undefined);
      s.on('close', () => open.delete(s));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => {
      upstream.destroy();
      options.onClientClosed?.(n, proxy);
    });
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address');
  const proxy: TcpProxy = {
    port: address.port,
    get accepted() {
      return accepted;
    },
    cut: () => {
      cutting = true;
      for (const s of open) s.destroy();
    },
    close: async () => {
      proxy.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
