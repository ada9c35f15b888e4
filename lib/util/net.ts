import { isIPv4, isIPv6 as isIPv6Text } from 'node:net';

/**
 * node:net's isIPv6, asked only of text with a colon (every IPv6 address has one): its pattern is large,
 * and most addresses here are IPv4, so a plain synth need not compile it (~3 ms).
 */
function isIPv6(address: string): boolean {
  return address.includes(':') && isIPv6Text(address);
}

/** 4 or 6 for an IP address, 0 for anything else (IPv6 zone ids such as fe80::1%eth0 included: they cannot go in URLs). */
export function ipFamily(address: string): 0 | 4 | 6 {
  if (address.includes('%')) return 0;
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  return 0;
}

/** Host part of a URL or host:port: IPv6 addresses go in brackets. */
export function urlHost(address: string): string {
  return isIPv6(address) ? `[${address}]` : address;
}

/** `host:port` with IPv6 brackets, as Go's net.JoinHostPort. */
export function hostPort(address: string, port: number): string {
  return `${urlHost(address)}:${port}`;
}

/** The loopback address of an address's family. */
export function loopbackFor(address: string): string {
  return isIPv6(address) ? '::1' : '127.0.0.1';
}

/** An IPv4 address as a bigint, or an IPv6 one (both families share this to keep CIDR math in one place). */
export function ipToBigInt(address: string): bigint {
  if (isIPv4(address)) {
    return address.split('.').reduce((acc, part) => (acc << 8n) + BigInt(Number(part)), 0n);
  }
  if (!isIPv6(address)) throw new Error(`not an IP address: ${address}`);
  let text = address;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const v4 = text.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    const n = ipToBigInt(v4[1]);
    text = `${text.slice(0, -v4[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const missing = 8 - headParts.length - tailParts.length;
  const parts = [...headParts, ...Array(tail === undefined ? 0 : missing).fill('0'), ...tailParts];
  return parts.reduce((acc, part) => (acc << 16n) + BigInt(parseInt(part, 16)), 0n);
}

/** A parsed CIDR: family, network address as a number, prefix length. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly prefix: number;
}

/** Parses `addr/prefix`; undefined when it is not a CIDR. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) return undefined;
  const family = ipFamily(m[1]);
  const prefix = Number(m[2]);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
  const bits = family === 4 ? 32 : 128;
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
  return { family, network: ipToBigInt(m[1]) & mask, prefix };
}

/** True when two CIDRs of the same family share any address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const bits = a.family === 4 ? 32 : 128;
  const prefix = Math.min(a.prefix, b.prefix);
  const shift = BigInt(bits - prefix);
  return (a.network >> shift) === (b.network >> shift);
}

/** True when an address lies inside a CIDR. */
export function cidrContains(cidr: Cidr, address: string): boolean {
  const family = ipFamily(address);
  if (family !== cidr.family) return false;
  return cidrsOverlap(cidr, { family, network: ipToBigInt(address), prefix: family === 4 ? 32 : 128 });
}

/** A DNS-1123 label: lower-case alphanumerics and '-', at most 63 characters. */
export function isDnsLabel(name: string): boolean {
  return /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name);
}

/** A DNS-1123 subdomain: dot-separated labels, at most 253 characters. */
export function isDnsSubdomain(name: string): boolean {
  return name.length <= 253 && name.split('.').every(isDnsLabel);
}

/** A number back to an address of the given family (IPv6 in full, lower-case hextets). */
export function bigIntToIp(n: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.');
  return Array.from({ length: 8 }, (_, i) => ((n >> BigInt(16 * (7 - i))) & 0xffffn).toString(16)).join(':');
}

/** The first host address of a CIDR (network + 1): the API server's service IP of a service subnet. */
export function firstHostAddress(cidr: string): string | undefined {
  const c = parseCidr(cidr);
  return c && bigIntToIp(c.network + 1n, c.family);
}

/** An address in its usual text form: IPv6 compressed (RFC 5952: the longest run of zero hextets as ::). */
export function formatIp(n: bigint, family: 4 | 6): string {
  if (family === 4) return bigIntToIp(n, 4);
  const parts = bigIntToIp(n, 6).split(':');
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && parts[j] === '0') j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return parts.join(':');
  return `${parts.slice(0, best.at).join(':')}::${parts.slice(best.at + best.len).join(':')}`;
}

/** A CIDR as network/prefix, e.g. 192.168.5.100/24 → "192.168.5.0/24". */
export function formatCidr(c: Cidr): string {
  return `${formatIp(c.network, c.family)}/${c.prefix}`;
}

/** True when two strings are the same IP address (in any spelling). */
export function sameIp(a: string, b: string): boolean {
  const fa = ipFamily(a);
  return fa !== 0 && fa === ipFamily(b) && ipToBigInt(a) === ipToBigInt(b);
}
