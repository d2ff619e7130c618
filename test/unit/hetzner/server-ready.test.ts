/**
 * The wait of ServerReady against real sockets: it returns once a listener
 * accepts, and times out with a message naming the likely causes. Its
 * provider must survive Pulumi's closure serializer (it is stored in state).
 */
import { createServer, Server } from 'node:net';
import * as pulumi from '@pulumi/pulumi';
import { waitForPort } from '../../../src/hetzner/server-ready';

jest.setTimeout(30_000);

test('returns once the port accepts connections (the listener starts later)', async () => {
  const server: Server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  server.close();
  await new Promise((r) => setTimeout(r, 50));
  const waiting = waitForPort('127.0.0.1', port, 20, 0);
  setTimeout(() => server.listen(port, '127.0.0.1'), 1500);
  const seconds = await waiting;
  server.close();
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThan(15);
});

test('times out with a message that says what to check', async () => {
  await expect(waitForPort('127.0.0.1', 1, 0, 0)).rejects.toThrow(/PostgreSQL on 127\.0\.0\.1:1 did not accept connections within 0 s: is this machine inside the private network/);
});

test('the provider function serializes (it is stored in the Pulumi state)', async () => {
  const serialized = await pulumi.runtime.serializeFunction(() => waitForPort, { isFactoryFunction: true });
  expect(serialized.text).toContain("require('net')");
});
