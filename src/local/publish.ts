/**
 * What the local stack publishes on the host: each port bound to one
 * address (127.0.0.1 unless every interface is asked for on purpose), and
 * no host port used twice.
 */
import { isIP } from 'node:net';
import { check, checkInteger } from '../core/errors';

/** A port published on the host. */
export interface PublishPlan {
  /** The host port. */
  hostPort: number;
  /** The host address it is bound to. */
  address: string;
  /** Whether that is every interface (0.0.0.0 or ::). */
  allInterfaces: boolean;
  /** The address clients on the host connect to (127.0.0.1 for 0.0.0.0, ::1 for ::). */
  clientHost: string;
}

/** Whether an address is a loopback address. */
export function isLoopback(address: string): boolean {
  return address === '::1' || (isIP(address) === 4 && address.startsWith('127.'));
}

/**
 * Plans a published port: bound to `address` (default 127.0.0.1), never to
 * every interface unless that address (0.0.0.0 or ::) is given on purpose.
 * @throws ValidationError for a bad port, an address that is not an IP
 *   address, or an address without a port.
 */
export function planPublish(port: number | undefined, address: string | undefined, portField: string, addressField = 'publishAddress'): PublishPlan | undefined {
  if (port === undefined) return undefined;
  checkInteger(port, portField, 1, 65535, 'port');
  const bind = address ?? '127.0.0.1';
  check(
    isIP(bind) !== 0,
    addressField,
    `"${bind}" is not an IP address`,
    'Give the host address to bind to, e.g. "127.0.0.1" (the default, this machine only) or, on purpose, "0.0.0.0" (every interface)',
  );
  const allInterfaces = bind === '0.0.0.0' || bind === '::';
  const clientHost = bind === '0.0.0.0' ? '127.0.0.1' : bind === '::' ? '::1' : bind;
  return { hostPort: port, address: bind, allInterfaces, clientHost };
}

/** A host port and the argument that asks for it. */
export interface PublishedPort {
  /** The argument's name, e.g. `kratos.publishAdminPort`. */
  field: string;
  /** The host port, when the argument is set. */
  port: number | undefined;
}

/**
 * Checks that no two arguments publish the same host port (they all bind to
 * the same `publishAddress`, so Docker would refuse the second one only when
 * the container starts).
 * @throws ValidationError naming the later argument and the one it clashes with.
 */
export function checkDistinctPorts(ports: PublishedPort[]): void {
  const seen = new Map<number, string>();
  for (const { field, port } of ports) {
    if (port === undefined) continue;
    const earlier = seen.get(port);
    check(
      earlier === undefined,
      field,
      `host port ${port} is already published by ${earlier}`,
      `Give ${field} and ${earlier} different host ports`,
    );
    seen.set(port, field);
  }
}
