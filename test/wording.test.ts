/**
 * Wording of messages (issue #16 item 11): counts agree with their nouns, subnets are shown as networks,
 * one problem is one line, and the README's default priorities are the ones the code picks.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { validateSpec } from '../lib/plan/validate';
import { CliIo, runCli } from '../lib/cli';
import { defaultPriorities } from '../lib/plan/lb-plan';
import { formatCidr, formatIp, ipToBigInt, parseCidr } from '../lib/util/net';
import { pkiSummary } from '../lib/pki/summary';
import { count } from '../lib/plan/check';
import { haSpec, spec } from './util';

const root = path.resolve(__dirname, '..');

describe('counts', () => {
  test('count() agrees with the number', () => {
    expect([0, 1, 2].map((n) => count(n, 'node'))).toEqual(['0 nodes', '1 node', '2 nodes']);
    expect(count(1, 'priority', 'priorities')).toBe('1 priority');
    expect(count(3, 'priority', 'priorities')).toBe('3 priorities');
  });

  describe('the CLI', () => {
    let tmp: string;
    beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wording-')); });
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const run = async (args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const io: CliIo = { stdout: (t) => { out.push(t); }, stderr: (t) => { err.push(t); }, cwd: tmp, env: {} };
      const code = await runCli(args, io);
      return { code, out: out.join(''), err: err.join('') };
    };
    const masters = (n: number) => Array.from({ length: n }, (_, i) => `  - { name: master-${i + 1}, address: 10.0.0.${11 + i} }`).join('\n');
    const specText = (n: number) => `name: prod\nkubernetesVersion: "1.36.1"\ncontrolPlaneEndpoint: { host: 10.0.0.100, port: 8443, external: true }\nmasters:\n${masters(n)}\n`;

    test('validate: "1 node" and "1 warning"; "3 nodes"', async () => {
      fs.writeFileSync(path.join(tmp, 'one.yaml'), specText(1));
      fs.writeFileSync(path.join(tmp, 'two.yaml'), specText(2));
      fs.writeFileSync(path.join(tmp, 'three.yaml'), specText(3));
      expect((await run(['validate', '--spec', 'one.yaml'])).out).toBe('valid: one.yaml (cluster prod: 1 node, Kubernetes 1.36.1, stacked etcd 3.6.8)\n');
      expect((await run(['validate', '--spec', 'two.yaml'])).out).toBe('valid: two.yaml (cluster prod: 2 nodes, Kubernetes 1.36.1, stacked etcd 3.6.8, 1 warning)\n');
      expect((await run(['validate', '--spec', 'three.yaml'])).out).toMatch(/: 3 nodes, /);
    });

    test('synth: "1 node"', async () => {
      fs.writeFileSync(path.join(tmp, 'one.yaml'), specText(1));
      const r = await run(['synth', '--spec', 'one.yaml', '--out', 'out']);
      expect(r.code).toBe(0);
      expect(r.out.split('\n')[0]).toBe('wrote out/prod/ (cluster prod, Kubernetes 1.36.1, 1 node)');
    });
  });

  test('the PKI summary: "1 certificate"', () => {
    const report = { created: [], loaded: ['ca'], issued: [{ node: 'm1', id: 'apiserver', reason: 'new' }], reused: 2, restarts: new Map(), warnings: [] };
    const text = pkiSummary({ dir: '/state', report, files: new Map([['m1', []]]), rbacApplyCommand: 'x' } as any, true);
    expect(text.split('\n')[0]).toBe('pki: /state: no new CA; loaded ca; would issue 1 certificate, reused 2');
  });

  test('keepalived.priorities for one master: "1 priority", "one number"', () => {
    const e = validateSpec(haSpec({ masters: [{ name: 'master-1', address: '192.168.10.11' }], keepalived: { interface: 'eth0', priorities: [150, 100] } })).errors;
    expect(e).toEqual([expect.objectContaining({ path: 'keepalived.priorities', problem: 'is not 1 priority from 1 to 254 (one per master)', fix: 'list one number, e.g. [150]' })]);
  });

  test('one worker without workerProxy: "is listed", and the value names it', () => {
    const w = validateSpec(spec({ workers: [{ name: 'w1', address: '192.168.10.31' }] })).warnings;
    expect(w).toEqual([expect.objectContaining({ path: 'workers', value: ['w1'], problem: 'is listed but workerProxy is not set, so it gets no bundle and nothing uses it' })]);
    const two = validateSpec(spec({ workers: [{ name: 'w1', address: '192.168.10.31' }, { name: 'w2', address: '192.168.10.32' }] })).warnings;
    expect(two[0].problem).toBe('are listed but workerProxy is not set, so they get no bundle and nothing uses them');
  });
});

describe('subnets are shown as networks, in one line', () => {
  test('formatIp and formatCidr', () => {
    expect(formatCidr(parseCidr('192.168.5.100/24')!)).toBe('192.168.5.0/24');
    expect(formatCidr(parseCidr('fd00:0:0:1::100/64')!)).toBe('fd00:0:0:1::/64');
    expect(formatCidr(parseCidr('fd00::1/128')!)).toBe('fd00::1/128');
    expect(formatIp(0n, 6)).toBe('::');
    expect(formatIp(ipToBigInt('2001:db8:0:1:0:0:0:1'), 6)).toBe('2001:db8:0:1::1');
    expect(formatIp(ipToBigInt('1:0:1:0:1:0:1:0'), 6)).toBe('1:0:1:0:1:0:1:0');
  });

  test('a VIP in another subnet than every master: one error naming the network, not one per master', () => {
    const e = validateSpec(haSpec({ controlPlaneEndpoint: { host: '192.168.5.100', port: 8443 } })).errors;
    expect(e).toHaveLength(1);
    expect(e[0].path).toBe('controlPlaneEndpoint.host');
    expect(e[0].problem).toContain('192.168.5.0/24');
    expect(e[0].problem).not.toContain('192.168.5.100/24');
  });

  test('one master outside the VIP\'s subnet: an error on that master, the subnet as a network', () => {
    const e = validateSpec(haSpec({ masters: [{ name: 'a', address: '192.168.10.11' }, { name: 'b', address: '192.168.10.12' }, { name: 'c', address: '192.168.20.13' }] })).errors;
    expect(e).toEqual([expect.objectContaining({ path: 'masters[2].address', problem: 'is outside the VIP\'s subnet 192.168.10.0/24, so VRRP cannot move the VIP to it' })]);
  });

  test('IPv6: the subnet compressed', () => {
    const e = validateSpec(haSpec({ controlPlaneEndpoint: { host: 'fd00:1::100', port: 8443 }, masters: [{ name: 'a', address: 'fd00:2::11' }, { name: 'b', address: 'fd00:2::12' }, { name: 'c', address: 'fd00:2::13' }] })).errors;
    expect(e).toHaveLength(1);
    expect(e[0].problem).toMatch(/^is in the subnet fd00:1::\/64 /);
  });
});

describe('README: default VRRP priorities', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  test.each([2, 3, 4, 5, 6])('%d nodes: the README lists what defaultPriorities picks', (n) => {
    expect(readme).toContain(defaultPriorities(n).join('/'));
  });

  test('no claim that priorities start at 150 for any group size (5 nodes start at 250)', () => {
    expect(defaultPriorities(5)[0]).toBe(250);
    expect(readme.replace(/\s+/g, ' ')).not.toMatch(/start at 150 for any group size/);
  });
});
