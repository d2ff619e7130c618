// The e2e suites pick the host ports they publish with freePorts(n): n distinct ports, each free when
// picked (two separate freePort() calls could return the same port once the first one is released).
import { createServer } from 'node:net';
import { freePorts } from '../../../lab/server';

test('freePorts: distinct ports, each one bindable on loopback afterwards', async () => {
  for (let round = 0; round < 20; round++) {
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
    for (const port of ports) {
      const s = createServer();
      await new Promise<void>((res, rej) => {
        s.once('error', rej);
        s.listen(port, '127.0.0.1', () => res());
      });
      await new Promise<void>((res) => s.close(() => res()));
    }
  }
});
