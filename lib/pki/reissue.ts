/**
 * When a stored certificate is reused and when it is reissued: its inputs (subject, SANs, usages, key
 * algorithm, issuing CA) must equal the wanted ones, its key must match, and it must not be within
 * renewBeforeDays of expiry.
 */
import { bigIntToIp, ipFamily, ipToBigInt } from '../util/net';
import { KeyAlgorithm } from '../spec/types';
import type { Ca } from './issue';
import { LeafSpec } from './profile';

const DAY_MS = 86_400_000;

/** Why a stored certificate must be replaced, or undefined when it can be reused. */
export async function reissueReason(
  crypto: typeof import('./issue'), leaf: LeafSpec, crt: string | undefined, key: string | undefined, ca: Ca,
  alg: KeyAlgorithm, now: Date, renewBeforeDays: number,
): Promise<string | undefined> {
  if (crt === undefined || key === undefined) return 'new';
  let facts;
  try {
    facts = await crypto.certFacts(crt, ca);
    if (!crypto.keyMatchesCert(key, crt)) return 'stored key does not match the certificate';
  } catch {
    return 'stored certificate or key unreadable';
  }
  if (!facts.signedBy) return `not issued by the current ${leaf.ca}`;
  if (facts.commonName !== leaf.commonName || !sameSet(facts.organizations, leaf.organizations)) {
    return `subject changed (CN=${facts.commonName} O=${facts.organizations.join('+') || '-'} → CN=${leaf.commonName} O=${leaf.organizations.join('+') || '-'})`;
  }
  const sans = sanDiff([...facts.dnsNames, ...facts.ipAddresses.map(normIp)], [...leaf.dnsNames, ...leaf.ipAddresses.map(normIp)]);
  if (sans) return `SANs changed (${sans})`;
  if (!sameSet(facts.usages, leaf.usages)) return `usages changed (${facts.usages.join(',')} → ${leaf.usages.join(',')})`;
  if (facts.keyAlgorithm !== alg) return `key algorithm changed (${facts.keyAlgorithm ?? 'other'} → ${alg})`;
  if (facts.notAfter.getTime() - now.getTime() < renewBeforeDays * DAY_MS) return `expires ${facts.notAfter.toISOString().slice(0, 10)} (within ${renewBeforeDays} days)`;
  return undefined;
}

/** One spelling per IP address (IPv6 as eight unpadded groups), so a stored SAN compares equal to the spec's. */
function normIp(ip: string): string {
  return ipFamily(ip) === 6 ? bigIntToIp(ipToBigInt(ip), 6) : ip;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

/** "+added -removed", or '' when equal. */
function sanDiff(stored: readonly string[], wanted: readonly string[]): string {
  const added = wanted.filter((s) => !stored.includes(s));
  const removed = stored.filter((s) => !wanted.includes(s));
  return [...added.map((s) => `+${s}`), ...removed.map((s) => `-${s}`)].join(' ');
}
