import { formatIssue, readSpec, loadSpec, SpecError, SpecIssue } from '../lib';
import { SchemaChecker } from '../lib/spec/schema-check';
import { formatPath, parsePath } from '../lib/spec/source';

const VALID = `name: prod
kubernetesVersion: "1.37"
controlPlaneEndpoint:
  host: 10.0.0.100
  port: 6443
masters:
  - name: master-1
    address: 10.0.0.11
  - name: master-2
    address: 10.0.0.12
  - name: master-3
    address: 10.0.0.13
`;

/** The SpecError readSpec throws for a text (fails the test if it throws anything else, or nothing). */
function errorOf(text: string, file = 'cluster.yaml'): SpecError {
  try {
    readSpec(text, file);
  } catch (e) {
    if (e instanceof SpecError) return e;
    throw new Error(`expected a SpecError, got ${String(e)}`);
  }
  throw new Error('expected a SpecError, got none');
}

const lines = (e: SpecError) => e.issues.map(formatIssue);
const replace = (from: string, to: string) => {
  if (!VALID.includes(from)) throw new Error(`not in VALID: ${from}`);
  return VALID.replace(from, to);
};

describe('a valid spec', () => {
  test('loads as plain data, equal to what YAML says', () => {
    expect(loadSpec(VALID, 'cluster.yaml')).toEqual({
      name: 'prod',
      kubernetesVersion: '1.37',
      controlPlaneEndpoint: { host: '10.0.0.100', port: 6443 },
      masters: [1, 2, 3].map((i) => ({ name: `master-${i}`, address: `10.0.0.1${i}` })),
    });
  });

  test('JSON is YAML: the same spec from JSON, positions included', () => {
    const json = JSON.stringify(loadSpec(VALID, 'c.yaml'), null, 2);
    expect(loadSpec(json, 'cluster.json')).toEqual(loadSpec(VALID, 'c.yaml'));
    const bad = json.replace('"10.0.0.12"', '"10.0.0.300"');
    expect(lines(errorOf(bad, 'cluster.json'))).toEqual([
      'cluster.json:15:18 masters[1].address: "10.0.0.300" is not an IPv4/IPv6 address (fix: use the node\'s IP address, e.g. "10.0.0.11")',
    ]);
  });

  test('warnings are returned with their location, not thrown', () => {
    const two = VALID.replace(/  - name: master-3\n    address: 10.0.0.13\n/, '');
    const { warnings } = readSpec(two, 'cluster.yaml');
    expect(warnings.map(formatIssue)).toEqual([
      'cluster.yaml:4:9 controlPlaneEndpoint.host: "10.0.0.100" is an IP address no master has, and without loadBalancer nothing in this spec will hold this VIP: clients, kubeconfigs and joining nodes would reach no API server (fix: add loadBalancer: { type: "haproxy" } with keepalived.interface (and controlPlaneEndpoint.port other than apiServer.bindPort, e.g. 8443), or set controlPlaneEndpoint.external: true when your own load balancer holds it)',
      'cluster.yaml:7:3 masters: 2 is an even number of etcd members: it tolerates no more failures than one member fewer (fix: run 3 or 5 masters (an even count is fine only while replacing a member))',
    ]);
  });

  test('aliases are plain YAML and allowed', () => {
    const text = `${VALID}apiServer:\n  extraArgs: &args\n    - { name: v, value: "2" }\ncontrollerManager:\n  extraArgs: *args\n`;
    expect(loadSpec(text, 'c.yaml').controllerManager?.extraArgs).toEqual([{ name: 'v', value: '2' }]);
  });
});

describe('schema errors name the file, line and column of the field', () => {
  test('a type error: YAML read 1.30 as a number, so the fix quotes what was written', () => {
    expect(lines(errorOf(replace('kubernetesVersion: "1.37"', 'kubernetesVersion: 1.30')))).toEqual([
      'cluster.yaml:2:20 kubernetesVersion: 1.3 is not a string (fix: quote it: "1.30")',
    ]);
  });

  test('a quoted number where a port belongs: named as a TCP port (a named type of the schema), at the value', () => {
    expect(lines(errorOf(replace('port: 6443', 'port: "6443"')))).toEqual([
      'cluster.yaml:5:9 controlPlaneEndpoint.port: "6443" is not a TCP port (fix: remove the quotes: 6443)',
    ]);
    expect(lines(errorOf(replace('port: 6443', 'port: 70000')))).toEqual([
      'cluster.yaml:5:9 controlPlaneEndpoint.port: 70000 is not a TCP port (fix: use a whole number from 1 to 65535)',
    ]);
  });

  test('a mapping where a list belongs', () => {
    const e = errorOf(`${VALID}caCertificatePaths:\n  a: /etc/pki\n`);
    expect(lines(e)).toEqual([
      'cluster.yaml:14:3 caCertificatePaths: {"a":"/etc/pki"} is not a list (fix: write a list, e.g. ["/etc/ca-certificates","/usr/local/share/ca-certificates","/usr/share/ca-certificates"]: one "- item" per line, or [a, b])',
    ]);
  });

  test('an unknown field points at its key, with a did-you-mean and the known fields', () => {
    expect(lines(errorOf(replace('    address: 10.0.0.12', '    adress: 10.0.0.12')))).toEqual([
      'cluster.yaml:9:5 masters[1].address: is missing (fix: add address (the node\'s IPv4 or IPv6 address: API server advertise address and etcd peer/client address))',
      'cluster.yaml:10:5 masters[1].adress: "10.0.0.12" is not a known field (fix: remove it or check the spelling (did you mean address?); known fields: name, address, etcdState)',
    ]);
  });

  test.each([
    ['pki', 'pki:\n  keyAlgoritm: RSA-2048\n', 'pki.keyAlgoritm', 'keyAlgorithm'],
    ['security', 'security:\n  profil: hardened\n', 'security.profil', 'profile'],
  ])('a misspelt %s field gets one message with the "did you mean"', (_what, extra, field, meant) => {
    const e = errorOf(`${VALID}${extra}`);
    expect(e.issues).toHaveLength(1);
    expect(formatIssue(e.issues[0])).toMatch(new RegExp(`^cluster\\.yaml:14:3 ${field.replace('.', '\\.')}: .* is not a known field \\(fix: remove it or check the spelling \\(did you mean ${meant}\\?\\)`));
  });

  test('an unknown top-level field', () => {
    const e = errorOf(`${VALID}master:\n  - name: x\n`);
    expect(e.issues).toHaveLength(1);
    expect(formatIssue(e.issues[0])).toMatch(/^cluster\.yaml:13:1 master: \[\{"name":"x"\}\] is not a known field \(fix: remove it or check the spelling \(did you mean masters\?\); known fields: name, kubernetesVersion, controlPlaneEndpoint, masters, /);
  });

  test('a missing required field points at the mapping that lacks it', () => {
    const e = errorOf(VALID.replace(/controlPlaneEndpoint:\n  host: 10.0.0.100\n  port: 6443\n/, ''));
    expect(lines(e)).toEqual([
      'cluster.yaml:1:1 controlPlaneEndpoint: is missing (fix: add controlPlaneEndpoint (the control-plane endpoint (VIP or DNS name and port) clients and kubeconfigs use))',
    ]);
  });

  test('an enum: the allowed values, and the description that explains them', () => {
    const e = errorOf(replace('    address: 10.0.0.11\n', '    address: 10.0.0.11\n    etcdState: joining\n'));
    expect(lines(e)).toEqual([
      'cluster.yaml:9:16 masters[0].etcdState: "joining" is not "new", "existing" or "replacement" (fix: use "new", "existing" or "replacement" (how this member\'s etcd starts: `new` for a founding member, which bootstraps a fresh cluster with the other founding members; `existing` for a member that joins a running cluster later (after `etcdctl member add`); `replacement` for a new node that takes a dead member\'s place (after `etcdctl member remove` of the dead one and `member add` of this one)))',
    ]);
  });

  test('a value of the wrong type for an enum (null, a number) names the allowed values; one message per field', () => {
    const e = errorOf(`${VALID}loadBalancer:\n  type: 5\nsecurity:\n  profile:\n`);
    expect(lines(e)).toEqual([
      'cluster.yaml:14:9 loadBalancer.type: 5 is not a load balancer type (fix: use "haproxy", "nginx", "lvs-dr" or "vip-only" (how clients reach the API servers through the VIP: a TCP proxy behind the VIP (`haproxy`, `nginx`), IPVS direct routing (`lvs-dr`), or no load balancing at all (`vip-only`)))',
      'cluster.yaml:16:11 security.profile: null is not "kubeadm" or "hardened" (fix: use "kubeadm" or "hardened" (`kubeadm` for kubeadm\'s flags, `hardened` for the CIS Kubernetes Benchmark v1.12 profile))',
    ]);
  });

  test('a static-pod restriction keeps its specific explanation', () => {
    const e = errorOf(`${VALID}apiServer:\n  serviceAccountName: api\n`);
    expect(lines(e)).toEqual([
      'cluster.yaml:14:23 apiServer.serviceAccountName: "api" references a ServiceAccount, which a static pod cannot use: the kubelet 1.37 refuses the manifest (fix: put the data in a host file and mount it with extraVolumes (hostPath), or use literal extraEnvs)',
    ]);
  });

  // The schema first; the semantic rules only on data that passed it (they read typed data). Each stage
  // reports all of its problems at once.
  const allAtOnce = (port: number, role: string) => `name: Prod_1
controlPlaneEndpoint: { host: 10.0.0.100, port: ${port} }
masters:
  - { name: a, address: 10.0.0.300 }
  - { name: a, address: 10.0.0.2${role} }
networking: { serviceSubnet: 10.96.0.0/12, podSubnet: 10.96.0.0/16 }
`;

  test('every schema problem is reported at once, in file order, one per field; the semantic rules wait for them', () => {
    const e = errorOf(allAtOnce(0, ', role: master'));
    expect(lines(e)).toEqual([
      'cluster.yaml:2:49 controlPlaneEndpoint.port: 0 is not a TCP port (fix: use a whole number from 1 to 65535)',
      'cluster.yaml:5:35 masters[1].role: "master" is not a known field (fix: remove it or check the spelling; known fields: name, address, etcdState)',
    ]);
    expect(e.message).toMatch(/^invalid cluster spec \(2 problems\):\n {2}- cluster\.yaml:2:49 controlPlaneEndpoint\.port: /);
  });

  test('once the schema passes, every semantic problem is reported at once, in file order', () => {
    const e = errorOf(allAtOnce(8443, ''));
    expect(lines(e)).toEqual([
      'cluster.yaml:1:7 name: "Prod_1" is not a DNS label (fix: use lower-case letters, digits and "-", at most 63 characters, e.g. "prod")',
      'cluster.yaml:4:25 masters[0].address: "10.0.0.300" is not an IPv4/IPv6 address (fix: use the node\'s IP address, e.g. "10.0.0.11")',
      'cluster.yaml:5:13 masters[1].name: "a" is the same as masters[0].name (fix: give every master a distinct name)',
      'cluster.yaml:6:55 networking.podSubnet: "10.96.0.0/16" overlaps networking.serviceSubnet (fix: use disjoint service and pod networks)',
    ]);
    expect(e.message).toMatch(/^invalid cluster spec \(4 problems\):\n {2}- cluster\.yaml:1:7 name: /);
  });
});

describe('semantic errors get line:col too', () => {
  test('a bad address', () => {
    expect(lines(errorOf(replace('address: 10.0.0.12', 'address: 10.0.0.300')))).toEqual([
      'cluster.yaml:10:14 masters[1].address: "10.0.0.300" is not an IPv4/IPv6 address (fix: use the node\'s IP address, e.g. "10.0.0.11")',
    ]);
  });

  test('a clash names both fields', () => {
    expect(lines(errorOf(replace('address: 10.0.0.13', 'address: 10.0.0.11')))).toEqual([
      'cluster.yaml:12:14 masters[2].address: "10.0.0.11" is the same as masters[0].address (fix: give every master its own address)',
    ]);
  });

  test('errors found while planning (an image whose tag names no etcd version)', () => {
    const e = errorOf(`${VALID}etcd:\n  local:\n    image: registry.example.com/etcd@sha256:${'a'.repeat(64)}\n`);
    expect(lines(e)).toEqual([
      `cluster.yaml:15:12 etcd.local.image: "registry.example.com/etcd@sha256:${'a'.repeat(43)}... does not tell which etcd version runs, so its flags cannot be spelled (fix: set etcd.local.version to the etcd version of the image, e.g. "3.5.24")`,
    ]);
  });
});

describe('YAML errors', () => {
  test.each([
    ['a nested compact mapping', 'name: a: b\n', 'cluster.yaml:1:7 (yaml): nested mappings are not allowed in compact mappings (fix: correct the YAML here: check the indentation, the ": " after keys, and closing quotes and brackets)'],
    ['a duplicate key', `${VALID}name: again\n`, 'cluster.yaml:13:1 (yaml): a key appears twice in one mapping (fix: keep one of them)'],
    ['a tab as indentation', 'name: x\nmasters:\n\t- name: a\n', 'cluster.yaml:3:1 (yaml): a tab indents this line (fix: indent with spaces)'],
    ['two documents', `${VALID}---\nname: other\n`, 'cluster.yaml:13:1 (yaml): the file holds more than one YAML document (fix: keep one cluster spec per file (remove the "---" and what follows))'],
    ['an unclosed quote', 'name: "prod\n', 'cluster.yaml:2:1 (yaml): missing closing "quote (fix: correct the YAML here: check the indentation, the ": " after keys, and closing quotes and brackets)'],
    ['a tag that is not plain data', 'name: !!binary aGVsbG8=\n', 'cluster.yaml:1:16 (yaml): tag !!binary is not plain data (fix: remove the tag: a cluster spec holds strings, numbers, booleans, lists and mappings)'],
    ['an alias without anchor', 'name: *x\n', 'cluster.yaml:1:7 (yaml): alias *x has no anchor &x before it (fix: define &x earlier, or write the value out)'],
    ['a list as a key', '? [a, b]\n: c\n', 'cluster.yaml:1:3 (yaml): a mapping key is a list or a mapping (fix: use a plain name as the key)'],
    ['an alias inside its own anchor', 'name: x\nmasters: &m [*m]\n', 'cluster.yaml:2:14 masters[0]: contains itself (an alias inside its own anchor) (fix: write the value out instead of the alias)'],
    ['an empty file', '', 'cluster.yaml:1:1 (spec): is empty (fix: write a cluster spec with name, controlPlaneEndpoint and masters (`ha-control-plane init` prints an example))'],
    ['only comments', '# nothing here\n', 'cluster.yaml:1:1 (spec): is empty (fix: write a cluster spec with name, controlPlaneEndpoint and masters (`ha-control-plane init` prints an example))'],
    ['a list instead of a mapping', '- a\n', 'cluster.yaml:1:1 (spec): ["a"] is not a mapping (fix: write a mapping with name, controlPlaneEndpoint and masters)'],
  ])('%s', (_name, text, message) => {
    expect(lines(errorOf(text))).toEqual([message]);
  });

  test('a lone carriage return in the input still gives one-line messages (found by the property test)', () => {
    for (const text of ['>\r', 'name: [\r', 'name: "a\rb']) {
      const ls = lines(errorOf(text));
      expect(ls.length).toBeGreaterThan(0);
      for (const l of ls) expect(l).toMatch(/^cluster\.yaml:\d+:\d+ \S+: [^\r\n]+\(fix: [^\r\n]+\)$/);
    }
  });

  test('an alias bomb is refused, not expanded', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(10).fill(`*${'abcdefghi'[i]}`).join(', ')}]`)].join('\n');
    expect(lines(errorOf(bomb))[0]).toMatch(/^cluster\.yaml:1:1 \(yaml\): cannot be read as data: excessive alias count/);
  });

  test('absurd nesting is refused', () => {
    expect(lines(errorOf(`name: ${'['.repeat(200)}${']'.repeat(200)}\n`))[0]).toMatch(/^cluster\.yaml:\d+:\d+ \S+: (nests deeper than 64 levels|.*\(yaml\))/);
  });
});

describe('issue formatting stays backward compatible', () => {
  const issue: SpecIssue = { path: 'masters[0].address', value: 'bad', problem: 'is not an IPv4/IPv6 address', fix: 'use an IP' };
  test('without a location: path: value problem (fix: ...)', () => {
    expect(formatIssue(issue)).toBe('masters[0].address: "bad" is not an IPv4/IPv6 address (fix: use an IP)');
    expect(formatIssue({ ...issue, value: undefined })).toBe('masters[0].address: undefined is not an IPv4/IPv6 address (fix: use an IP)');
  });
  test('with a location: file:line:col first', () => {
    expect(formatIssue({ ...issue, location: { file: 'c.yaml', line: 3, col: 5 } })).toBe('c.yaml:3:5 masters[0].address: "bad" is not an IPv4/IPv6 address (fix: use an IP)');
  });
});

describe('field paths', () => {
  test.each([
    ['(spec)', []],
    ['name', ['name']],
    ['masters[1].address', ['masters', 1, 'address']],
    ['apiServer.extraVolumes[0].hostPath', ['apiServer', 'extraVolumes', 0, 'hostPath']],
    ['apiServer["bad key"]', ['apiServer', 'bad key']],
  ] as [string, (string | number)[]][])('%s', (text, segments) => {
    expect(parsePath(text)).toEqual(segments);
    expect(formatPath(segments)).toBe(text);
  });
});

describe('schema unions (anyOf) are explained by their closest branch', () => {
  const checker = new SchemaChecker({
    $ref: '#/definitions/Root',
    definitions: {
      Root: {
        type: 'object',
        properties: {
          lb: { anyOf: [{ $ref: '#/definitions/Haproxy' }, { $ref: '#/definitions/Lvs' }] },
          v: { anyOf: [{ type: 'string' }, { type: 'number' }] },
        },
        additionalProperties: false,
      },
      Haproxy: { type: 'object', properties: { type: { type: 'string', const: 'haproxy' }, port: { type: 'integer' } }, required: ['type'], additionalProperties: false },
      Lvs: { type: 'object', properties: { type: { type: 'string', const: 'lvs' }, scheduler: { type: 'string', enum: ['rr', 'wlc'] } }, required: ['type'], additionalProperties: false },
    },
  });
  const explain = (data: unknown) => checker.check(data).map((i) => `${formatPath(i.segments)}: ${i.problem} (fix: ${i.fix})`);

  test.each([
    [{ lb: { type: 'haproxy' }, v: 'a' }, []],
    [{ lb: { type: 'lvs', scheduler: 'x' } }, ['lb.scheduler: is not "rr" or "wlc" (fix: use "rr" or "wlc")']],
    [{ lb: { type: 'haproxy', port: '80' } }, ['lb.port: is not a whole number (fix: remove the quotes: 80)']],
    [{ lb: { type: 'haproxy', sheduler: 'rr' } }, ['lb.sheduler: is not a known field (fix: remove it or check the spelling; known fields: type, port)']],
    [{ lb: 5 }, ['lb: is not a mapping (fix: use a mapping)']],
    [{ v: true }, ['v: is not a string or a number (fix: use a string or a number)']],
  ] as [unknown, string[]][])('%j', (data, expected) => {
    expect(explain(data)).toEqual(expected);
  });
});
