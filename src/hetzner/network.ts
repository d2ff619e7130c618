/**
 * The private network plan of a Hetzner server (pure, no Pulumi import):
 * IPv4 ranges of the network and subnet, the server's fixed private IP, the
 * network zone of a location, and the firewall rules.
 *
 * Sources: Hetzner Cloud docs "Networks" (private ranges within RFC 1918,
 * the subnet's first address is the gateway, network zones `eu-central`
 * (fsn1, nbg1, hel1), `us-east` (ash), `us-west` (hil), `ap-southeast`
 * (sin)); "Firewalls" (rules per direction/protocol/port/source IPs; they
 * filter the public interfaces only, never traffic inside a private network).
 */
import { check } from '../core/errors';
import { validateCidr } from '../core/server-config';

/** Hetzner network zone of each location. */
export const LOCATION_NETWORK_ZONE: Readonly<Record<string, string>> = {
  fsn1: 'eu-central',
  nbg1: 'eu-central',
  hel1: 'eu-central',
  ash: 'us-east',
  hil: 'us-west',
  sin: 'ap-southeast',
};

interface Ipv4Range {
  base: number;
  bits: number;
}

function ipv4ToNumber(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function parseIpv4Range(cidr: string, field: string): Ipv4Range {
  validateCidr(cidr, field);
  const [address, bits] = cidr.split('/') as [string, string];
  const base = ipv4ToNumber(address);
  check(base !== undefined, field, `"${cidr}" is not an IPv4 range`, 'Hetzner private networks are IPv4: write it like "10.0.1.0/24"');
  const size = 2 ** (32 - Number(bits));
  check(base % size === 0, field, `"${cidr}" has host bits set`, `Write the range's first address, e.g. "${numberToIpv4(base - (base % size))}/${bits}"`);
  return { base, bits: Number(bits) };
}

function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function contains(outer: Ipv4Range, inner: Ipv4Range): boolean {
  return inner.bits >= outer.bits && Math.floor(inner.base / 2 ** (32 - outer.bits)) === Math.floor(outer.base / 2 ** (32 - outer.bits));
}

/** Options of {@link planNetwork}. */
export interface NetworkOptions {
  /** The network's range (a new network only). @default "10.0.0.0/16" */
  networkIpRange?: string;
  /** The subnet's range. @default "10.0.1.0/24" */
  subnetIpRange?: string;
  /** The server's private IP. @default the subnet's 10th address, e.g. "10.0.1.10" */
  privateIp?: string;
  /** An existing network to join instead of creating one. */
  existingNetworkId?: number;
  /** Location of the server and volume. @default "fsn1" */
  location?: string;
  /** The subnet's network zone. @default the location's zone */
  networkZone?: string;
}

/** The checked network plan. */
export interface NetworkPlan {
  /** The network's range, when this stack creates the network. */
  networkIpRange?: string;
  subnetIpRange: string;
  privateIp: string;
  location: string;
  networkZone: string;
  existingNetworkId?: number;
}

/**
 * Checks and completes the network settings.
 * @throws ValidationError for a range that is not private IPv4, a subnet
 *   outside the network, a private IP outside the subnet or on its reserved
 *   first address, or an unknown location without a network zone.
 */
export function planNetwork(options: NetworkOptions): NetworkPlan {
  const location = options.location ?? 'fsn1';
  check(/^[a-z][a-z0-9-]*$/.test(location), 'location', `"${location}" is not a Hetzner location name`, `Use one of: ${Object.keys(LOCATION_NETWORK_ZONE).join(', ')}`);
  const networkZone = options.networkZone ?? LOCATION_NETWORK_ZONE[location];
  check(networkZone !== undefined, 'networkZone', `the network zone of location "${location}" is not known`, 'Set networkZone (e.g. "eu-central")');
  const subnetIpRange = options.subnetIpRange ?? '10.0.1.0/24';
  const subnet = parseIpv4Range(subnetIpRange, 'subnetIpRange');
  check(subnet.bits <= 29, 'subnetIpRange', `"${subnetIpRange}" is too small`, 'Give a /29 or larger subnet');
  const privateRanges = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map((r) => parseIpv4Range(r, 'internal'));
  let networkIpRange: string | undefined;
  if (options.existingNetworkId !== undefined) {
    check(Number.isSafeInteger(options.existingNetworkId) && options.existingNetworkId > 0, 'existingNetworkId', `${options.existingNetworkId} is not a network id`, 'Give the numeric id of the Hetzner network (hcloud network list)');
    check(options.networkIpRange === undefined, 'networkIpRange', 'is set together with existingNetworkId', 'Remove networkIpRange: the existing network keeps its range');
  } else {
    networkIpRange = options.networkIpRange ?? '10.0.0.0/16';
    const network = parseIpv4Range(networkIpRange, 'networkIpRange');
    check(privateRanges.some((r) => contains(r, network)), 'networkIpRange', `"${networkIpRange}" is not within a private range (RFC 1918)`, 'Use a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16');
    check(contains(network, subnet), 'subnetIpRange', `"${subnetIpRange}" is not inside the network's range ${networkIpRange}`, 'Give a subnet inside networkIpRange');
  }
  check(privateRanges.some((r) => contains(r, subnet)), 'subnetIpRange', `"${subnetIpRange}" is not within a private range (RFC 1918)`, 'Use a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16');
  const privateIp = options.privateIp ?? numberToIpv4(subnet.base + 10);
  const ip = ipv4ToNumber(privateIp);
  check(ip !== undefined, 'privateIp', `"${privateIp}" is not an IPv4 address`, `Give an address inside ${subnetIpRange}, e.g. "${numberToIpv4(subnet.base + 10)}"`);
  const size = 2 ** (32 - subnet.bits);
  check(
    ip >= subnet.base + 2 && ip < subnet.base + size - 1,
    'privateIp',
    `${privateIp} is not a host address of the subnet ${subnetIpRange} (its first address is Hetzner's gateway, the last its broadcast)`,
    `Give an address between ${numberToIpv4(subnet.base + 2)} and ${numberToIpv4(subnet.base + size - 2)}`,
  );
  return {
    ...(networkIpRange !== undefined ? { networkIpRange } : {}),
    subnetIpRange,
    privateIp,
    location,
    networkZone,
    ...(options.existingNetworkId !== undefined ? { existingNetworkId: options.existingNetworkId } : {}),
  };
}

/** One `hcloud.Firewall` rule (field names as in @pulumi/hcloud's `FirewallRule`). */
export interface FirewallRulePlan {
  direction: 'in';
  protocol: 'tcp';
  port: string;
  sourceIps: string[];
  description: string;
}

/** Options of {@link planFirewallRules}: the user's lists, unchecked. */
export interface FirewallOptions {
  subnetIpRange: string;
  allowedCidrs: string[];
  sshAllowedCidrs: string[];
  /** Whether PostgreSQL may be open to the world (`0.0.0.0/0` in allowedCidrs). @default false */
  publicAccess?: boolean;
}

/** The sources PostgreSQL admits (firewall and pg_hba alike): the private subnet and the client CIDRs, each once. */
export function admittedCidrs(subnetIpRange: string, allowedCidrs: readonly string[]): string[] {
  return [...new Set([subnetIpRange, ...allowedCidrs])];
}

/**
 * Inbound rules: PostgreSQL (5432) from the private network and the given
 * client CIDRs, SSH (22) only from the given SSH CIDRs. Nothing else is
 * open; with no rule for a port, Hetzner drops it. This is where the client
 * CIDRs are checked (once, with the user's field names); pg_hba is built
 * from the same list.
 * @throws ValidationError naming `allowedCidrs[i]` / `sshAllowedCidrs[i]`
 *   for a malformed CIDR, or for the whole internet in allowedCidrs without
 *   `publicAccess`.
 */
export function planFirewallRules(options: FirewallOptions): FirewallRulePlan[] {
  for (const [field, list] of [['allowedCidrs', options.allowedCidrs], ['sshAllowedCidrs', options.sshAllowedCidrs]] as const) {
    list.forEach((c, i) => {
      validateCidr(c, `${field}[${i}]`);
      check(
        !/^(0\.0\.0\.0|::)\/0$/.test(c) || field === 'sshAllowedCidrs' || options.publicAccess === true,
        `${field}[${i}]`,
        `"${c}" admits the whole internet`,
        'Give the client networks, or set publicAccess: true to open PostgreSQL to the world on purpose',
      );
    });
  }
  const rules: FirewallRulePlan[] = [
    { direction: 'in', protocol: 'tcp', port: '5432', sourceIps: admittedCidrs(options.subnetIpRange, options.allowedCidrs), description: 'PostgreSQL from the private network and allowed clients' },
  ];
  if (options.sshAllowedCidrs.length > 0) {
    rules.push({ direction: 'in', protocol: 'tcp', port: '22', sourceIps: [...new Set(options.sshAllowedCidrs)], description: 'SSH from the given networks only' });
  }
  return rules;
}
