/**
 * One defaults table (lib/plan/defaults.ts SPEC_DEFAULTS): the `@default` / `@defaultValue` tags of
 * lib/spec/types.ts, the defaults of the published schema and the README's defaults tables say what it
 * says, and the plan applies it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { planCluster } from '../lib';
import { CLUSTER_SPEC_SCHEMA } from '../lib/spec/schema-check';
import { ContextDefault, SPEC_DEFAULTS } from '../lib/plan/defaults';
import { haSpec } from './util';

const root = path.resolve(__dirname, '..');
type Table = Record<string, Record<string, unknown>>;
const TABLE = SPEC_DEFAULTS as unknown as Table;

const isContext = (v: unknown): v is ContextDefault<unknown, never> =>
  typeof v === 'object' && v !== null && typeof (v as { of?: unknown }).of === 'function' && typeof (v as { words?: unknown }).words === 'string';

/** Every entry of the table: interface, field, default. */
const entries = Object.entries(TABLE).flatMap(([iface, fields]) => Object.entries(fields).map(([field, value]) => ({ iface, field, value })));

/** The `@default` and `@defaultValue` tags of every interface field in types.ts, by `Interface.field`. */
function typeTags(): Map<string, { default?: string; defaultValue?: string }> {
  const file = path.join(root, 'lib', 'spec', 'types.ts');
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out = new Map<string, { default?: string; defaultValue?: string }>();
  sf.forEachChild((n) => {
    if (!ts.isInterfaceDeclaration(n)) return;
    for (const m of n.members) {
      if (!ts.isPropertySignature(m) || !m.name || !ts.isIdentifier(m.name)) continue;
      const tags: { default?: string; defaultValue?: string } = {};
      for (const t of ts.getJSDocTags(m)) {
        const name = t.tagName.text;
        if (name === 'default' || name === 'defaultValue') tags[name] = (ts.getTextOfJSDocComment(t.comment) ?? '').trim();
      }
      if (tags.default !== undefined || tags.defaultValue !== undefined) out.set(`${n.name.text}.${m.name.text}`, tags);
    }
  });
  return out;
}

describe('lib/spec/types.ts states the defaults of the table', () => {
  const tags = typeTags();

  test('the tags are found (the check is not vacuous)', () => {
    expect(tags.size).toBeGreaterThan(40);
    expect(entries.length).toBeGreaterThan(40);
    expect(entries.filter((e) => isContext(e.value)).length).toBeGreaterThanOrEqual(4);
  });

  test.each(entries.map((e) => [`${e.iface}.${e.field}`, e.value] as [string, unknown]))('%s', (key, value) => {
    const tag = tags.get(key);
    if (isContext(value)) {
      // A context-dependent default says so in words, and puts no single value into the schema.
      expect(tag).toEqual({ defaultValue: value.words });
    } else {
      expect(tag?.defaultValue).toBeUndefined();
      expect(tag?.default).toBeDefined();
      expect(JSON.parse(tag!.default!)).toEqual(value);
    }
  });

  test('every tagged field is in the table', () => {
    const untabled = [...tags.keys()].filter((k) => {
      const [iface, field] = k.split('.');
      return !(TABLE[iface] && field in TABLE[iface]);
    });
    expect(untabled).toEqual([]);
  });
});

describe('the published schema documents the defaults of the table', () => {
  interface Def { properties?: Record<string, { default?: unknown }> }
  const definitions = (CLUSTER_SPEC_SCHEMA as { definitions: Record<string, Def> }).definitions;
  /** The table's fields of a definition, with those it inherits from ComponentSpec (the generator flattens `extends`). */
  const tableOf = (def: string): Record<string, unknown> => ({
    ...(['ApiServerSpec', 'LocalEtcdSpec'].includes(def) ? TABLE.ComponentSpec : {}),
    ...(TABLE[def] ?? {}),
  });

  test('every schema default is the table\'s, and every literal of the table is a schema default', () => {
    const wrong: string[] = [];
    for (const [def, d] of Object.entries(definitions)) {
      const table = tableOf(def);
      for (const [field, p] of Object.entries(d.properties ?? {})) {
        const want = table[field];
        if (p.default === undefined && want !== undefined && !isContext(want)) wrong.push(`${def}.${field}: no default in the schema, table says ${JSON.stringify(want)}`);
        if (p.default !== undefined && (want === undefined || isContext(want))) wrong.push(`${def}.${field}: schema default ${JSON.stringify(p.default)}, none in the table`);
        if (p.default !== undefined && want !== undefined && !isContext(want) && JSON.stringify(p.default) !== JSON.stringify(want)) {
          wrong.push(`${def}.${field}: schema default ${JSON.stringify(p.default)}, table ${JSON.stringify(want)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  test('the two formerly wrong defaults are documented in words, with no single value in the schema', () => {
    const ka = definitions.KeepalivedSpec.properties!;
    expect(ka.vipPrefixLength.default).toBeUndefined();
    expect(ka.advertIntervalMs.default).toBeUndefined();
    expect(SPEC_DEFAULTS.KeepalivedSpec.vipPrefixLength.words).toMatch(/64 for an IPv6 VIP/);
    expect(SPEC_DEFAULTS.KeepalivedSpec.advertIntervalMs.words).toMatch(/1000 with vrrpVersion 2/);
  });
});

describe('the plan applies the table', () => {
  const v4 = haSpec({ keepalived: { interface: 'eth0' } });
  const v6 = haSpec({
    keepalived: { interface: 'eth0' },
    controlPlaneEndpoint: { host: 'fd00::100', port: 8443 },
    masters: [{ name: 'm1', address: 'fd00::11' }, { name: 'm2', address: 'fd00::12' }, { name: 'm3', address: 'fd00::13' }],
  });

  test('vipPrefixLength: 24 for an IPv4 VIP, 64 for an IPv6 VIP', () => {
    expect(planCluster(v4).loadBalancer!.keepalived.vipPrefixLength).toBe(24);
    expect(planCluster(v6).loadBalancer!.keepalived.vipPrefixLength).toBe(64);
    expect(SPEC_DEFAULTS.KeepalivedSpec.vipPrefixLength.of(4)).toBe(24);
    expect(SPEC_DEFAULTS.KeepalivedSpec.vipPrefixLength.of(6)).toBe(64);
  });

  test('advertIntervalMs: 100 with VRRPv3, 1000 with VRRPv2', () => {
    expect(planCluster(v4).loadBalancer!.keepalived.advertIntervalMs).toBe(100);
    expect(planCluster({ ...v4, keepalived: { interface: 'eth0', vrrpVersion: 2 } }).loadBalancer!.keepalived.advertIntervalMs).toBe(1000);
  });

  test('literal defaults reach the plan', () => {
    const p = planCluster(v4);
    const D = SPEC_DEFAULTS;
    expect(p.loadBalancer!.keepalived).toMatchObject({
      interface: D.KeepalivedSpec.interface, virtualRouterId: D.KeepalivedSpec.virtualRouterId, vrrpVersion: D.KeepalivedSpec.vrrpVersion,
      peering: D.KeepalivedSpec.peering, image: D.KeepalivedSpec.image,
    });
    expect(p.loadBalancer!.check).toEqual({ path: D.LoadBalancerSpec.healthCheckPath, intervalMs: D.LoadBalancerSpec.checkIntervalMs, fall: D.LoadBalancerSpec.fall, rise: D.LoadBalancerSpec.rise });
    expect(p.loadBalancer!.idleTimeoutSeconds).toBe(D.LoadBalancerSpec.idleTimeoutSeconds);
    expect(p.networking).toMatchObject({ serviceSubnet: D.NetworkingSpec.serviceSubnet, dnsDomain: D.NetworkingSpec.dnsDomain });
    expect(p.pki).toMatchObject({ mode: D.PkiSpec.mode, keyAlgorithm: D.PkiSpec.keyAlgorithm, certificateValidityDays: D.PkiSpec.certificateValidityDays });
  });
});

describe('the README\'s defaults tables say what the table says', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  interface Def { $ref?: string; items?: Def; properties?: Record<string, Def> }
  const definitions = (CLUSTER_SPEC_SCHEMA as { definitions: Record<string, Def> }).definitions;
  /** The interface (definition name) of a dotted spec path such as `etcd.local` or `masters[]`. */
  const ifaceOf = (dotted: string): string | undefined => {
    let name = 'ClusterSpec';
    for (const seg of dotted.replace(/\[\]$/, '').split('.')) {
      let p: Def | undefined = definitions[name]?.properties?.[seg];
      while (p?.items) p = p.items;
      if (!p?.$ref) return undefined;
      name = p.$ref.replace('#/definitions/', '');
    }
    return name;
  };
  /** The table's field of an interface, inherited ComponentSpec fields included. */
  const tableField = (iface: string, field: string): { found: boolean; value?: unknown } => {
    for (const t of [TABLE[iface], ['ApiServerSpec', 'LocalEtcdSpec'].includes(iface) ? TABLE.ComponentSpec : undefined]) {
      if (t && field in t) return { found: true, value: t[field] };
    }
    return { found: false };
  };
  /** How the README writes a literal default: unquoted. */
  const shown = (v: unknown) => (Array.isArray(v) ? JSON.stringify(v) : String(v));
  /** A README value against the table: a literal's first word (then e.g. `| hardened`), a context default's exact words. */
  const agrees = (text: string, want: unknown) => (isContext(want) ? text === want.words : text.split(/\s/)[0].replace(/^"|"$/g, '') === shown(want));

  /** `field = value` pairs inside `{ ... }`, split at top-level commas. */
  function pairs(cell: string): [string, string][] {
    const out: [string, string][] = [];
    for (const group of cell.match(/`\{[^`]*\}`/g) ?? []) {
      let depth = 0;
      let cur = '';
      const parts: string[] = [];
      for (const ch of group.slice(2, -2)) {
        if (ch === '(') depth++;
        if (ch === ')') depth--;
        if (ch === ',' && depth === 0) {
          parts.push(cur);
          cur = '';
        } else cur += ch;
      }
      parts.push(cur);
      for (const p of parts) {
        const m = /^\s*(\w+) = (.+?)\s*$/.exec(p);
        if (m) out.push([m[1], m[2]]);
      }
    }
    return out;
  }

  const specRows = (() => {
    const section = readme.slice(readme.indexOf('### The spec'));
    const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| field |')));
    return table.split('\n').filter((l) => /^\| `/.test(l)).map((l) => l.split(' | '));
  })();

  test('the spec table is found', () => {
    expect(specRows.length).toBeGreaterThan(15);
  });

  test('every `field = value` in the spec table is the table\'s default of that field', () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const [fieldCell, , meaning] of specRows) {
      const ifaces = [...fieldCell.matchAll(/`([^`]+)`/g)].map((m) => ifaceOf(m[1])).filter((i): i is string => i !== undefined);
      for (const [field, text] of pairs(meaning)) {
        const iface = ifaces.find((i) => tableField(i, field).found);
        if (!iface) {
          wrong.push(`${fieldCell}: ${field} = ${text}: no default in the table`);
          continue;
        }
        checked++;
        const want = tableField(iface, field).value;
        if (!agrees(text, want)) wrong.push(`${fieldCell}: ${field} = ${text}, table: ${isContext(want) ? want.words : shown(want)}`);
      }
    }
    expect(checked).toBeGreaterThan(25);
    expect(wrong).toEqual([]);
  });

  test('every literal default of a row\'s field is in that row', () => {
    const missing: string[] = [];
    for (const [fieldCell, , meaning] of specRows) {
      const paths = [...fieldCell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      const listed = new Set(pairs(meaning).map(([f]) => f));
      if (!/\{ *\w+ =/.test(meaning)) continue; // rows that describe their fields in prose
      for (const p of paths) {
        const iface = ifaceOf(p);
        for (const [field, value] of Object.entries((iface && TABLE[iface]) ?? {})) {
          if (!isContext(value) && !listed.has(field)) missing.push(`${p}.${field} (${shown(value)})`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  test('the default column of a top-level field is the table\'s', () => {
    const wrong: string[] = [];
    for (const [fieldCell, dflt] of specRows) {
      const field = /^\| `(\w+)`$/.exec(fieldCell)?.[1];
      const want = field && TABLE.ClusterSpec[field];
      if (want === undefined || typeof want === 'object') continue;
      if (!agrees(dflt.replace(/`/g, ''), want)) wrong.push(`${field}: ${dflt}, table: ${shown(want)}`);
    }
    expect(wrong).toEqual([]);
  });

  test('the load-balancing settings table agrees too', () => {
    const rows = readme.split('\n').filter((l) => /^\| `(keepalived|loadBalancer|workerProxy)\.\w+` \| /.test(l)).map((l) => l.split(' | '));
    expect(rows.length).toBeGreaterThan(4);
    const wrong: string[] = [];
    for (const [fieldCell, dflt] of rows) {
      const [, section, field] = /`(\w+)\.(\w+)`/.exec(fieldCell)!;
      const want = tableField(ifaceOf(section)!, field);
      expect(want.found).toBe(true);
      const ok = isContext(want.value) ? dflt.startsWith(want.value.words) : agrees(dflt, want.value);
      if (!ok) wrong.push(`${section}.${field}: ${dflt}`);
    }
    expect(wrong).toEqual([]);
  });
});
