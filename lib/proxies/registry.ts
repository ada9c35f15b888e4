import { WorkerProxySpec } from '../spec/types';
import { HAPROXY } from './haproxy';
import { NGINX } from './nginx';
import { ProxyTypeRecord } from './proxy';

/**
 * A proxy type (the TCP proxies the LB tier and the worker proxy can run): a key of PROXY_TYPES. Spelled
 * as the spec's `workerProxy.type`, which stays a literal union in lib/spec/types.ts for the JSON
 * Schema's enum (and so the public docs show the names); PROXY_TYPES' `satisfies` and the check below
 * keep the two equal.
 */
export type ProxyType = NonNullable<WorkerProxySpec['type']>;

/**
 * Every TCP proxy type, by name: the proxies of `loadBalancer.type` (each one a load-balancer type
 * behind the keepalived VIP, lib/plan/lb-plan.ts) and of `workerProxy.type`. Everything that differs
 * between them is read from here: adding a type is adding its record (lib/proxies/<type>.ts) to this
 * list and its name to the literal unions of lib/spec/types.ts.
 */
export const PROXY_TYPES = {
  haproxy: HAPROXY,
  nginx: NGINX,
} as const satisfies Readonly<Record<ProxyType, ProxyTypeRecord>>;

/** The proxy types, in the registry's order. */
export const PROXY_TYPE_NAMES = Object.keys(PROXY_TYPES) as readonly ProxyType[];

/** True for a proxy type (untrusted input). */
export function isProxyType(v: unknown): v is ProxyType {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(PROXY_TYPES, v);
}

/**
 * Compile-time check: `workerProxy.type` in lib/spec/types.ts stays a literal union (the JSON Schema
 * generator turns it into the enum) and names exactly the proxy types of this registry.
 */
const workerProxyTypesMatch: SameKeys<keyof typeof PROXY_TYPES, ProxyType> = true;
void workerProxyTypesMatch;

/** `true` when the two unions are equal, else `never` (so assigning `true` fails to compile). */
export type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
