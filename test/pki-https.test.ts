/**
 * The generated kubeconfigs work against a TLS server holding the generated API server certificate,
 * with hostname verification on: curl (not this project) connects to each kubeconfig's server URL —
 * the VIP/endpoint or the node's own address — and to every master address, with the kubeconfig's CA
 * and client certificate. The server is a Node https stand-in on 127.0.0.1; curl's --connect-to sends
 * the connection there while verifying the certificate against the URL's host.
 */
import { execFile } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { createServer, Server } from 'https';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { ClusterSpec, planCluster, PreparedPki, preparePki } from '../lib';
import { pkiProfile } from '../lib/pki/profile';
import { hostPort, urlHost } from '../lib/util/net';
import { kubeconfigParts, nodeFile } from './harness/pki';
import { haSpec, spec } from './util';

interface Curl { code: number; stdout: string; stderr: string }

function curl(args: string[]): Promise<Curl> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '5', ...args], { timeout: 10_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as NodeJS.ErrnoException & { code?: number }).code as unknown as number) ?? -1 : 0, stdout, stderr });
    });
  });
}

const CASES: { name: string; spec: ClusterSpec }[] = [
  { name: 'IPv4, 3 masters behind VIP 192.168.10.100:8443', spec: haSpec({ name: 'https4' }) },
  {
    name: 'IPv6, 3 masters, DNS endpoint',
    spec: spec({
      name: 'https6',
      controlPlaneEndpoint: { host: 'api.cluster.example', port: 6443 },
      masters: [{ name: 'm1', address: 'fd00::11' }, { name: 'm2', address: 'fd00::12' }, { name: 'm3', address: 'fd00::13' }],
      networking: { serviceSubnet: 'fd00:96::/112', podSubnet: 'fd00:244::/56' },
    }),
  },
];

describe.each(CASES)('$name', ({ spec: base }) => {
  const s: ClusterSpec = { ...base, pki: { mode: 'generate', keyAlgorithm: 'ECDSA-P256' } };
  const plan = planCluster(s);
  let dir = '';
  let pki: PreparedPki;
  const servers = new Map<string, { server: Server; port: number }>();
  const file = (name: string, content: string) => { const f = join(dir, name.replace(/[/:]/g, '_')); writeFileSync(f, content, { mode: 0o600 }); return f; };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hacp-pki-https-'));
    pki = await preparePki(s, { dir: join(dir, 'state') });
    for (const m of plan.masters) {
      // The API server stand-in: this master's certificate and key, client certificates checked against ca.crt.
      const server = createServer({
        cert: nodeFile(pki, m.name, '/etc/kubernetes/pki/apiserver.crt'),
        key: nodeFile(pki, m.name, '/etc/kubernetes/pki/apiserver.key'),
        ca: nodeFile(pki, m.name, '/etc/kubernetes/pki/ca.crt'),
        requestCert: true,
        rejectUnauthorized: false,
      }, (req, res) => {
        const sock = req.socket as import('tls').TLSSocket;
        const peer = sock.getPeerCertificate();
        res.end(JSON.stringify({ node: m.name, authorized: sock.authorized, user: peer?.subject?.CN ?? null, groups: peer?.subject?.O ?? null }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      servers.set(m.name, { server, port: (server.address() as AddressInfo).port });
    }
  });
  afterAll(async () => {
    for (const { server } of servers.values()) await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  /** curl to `url` with the connection sent to `node`'s stand-in; hostname verification stays on. */
  function via(node: string, url: string, tls: { ca: string; cert?: string; key?: string }): Promise<Curl> {
    const u = new URL(url);
    const port = u.port || '443';
    return curl([
      '--cacert', tls.ca, ...(tls.cert ? ['--cert', tls.cert, '--key', tls.key!] : []),
      '--connect-to', `${u.hostname}:${port}:127.0.0.1:${servers.get(node)!.port}`,
      `${url.replace(/\/$/, '')}/livez`,
    ]);
  }

  test('every kubeconfig of every master reaches its server URL with its CA and client certificate, as its user', async () => {
    const profile = pkiProfile(plan);
    const seen: string[] = [];
    for (const node of profile.nodes) {
      for (const leaf of node.leaves) {
        if (leaf.output.kind !== 'kubeconfig') continue;
        const k = kubeconfigParts(nodeFile(pki, node.node, leaf.output.path));
        const r = await via(node.node, k.server, { ca: file(`${node.node}-${leaf.id}-ca`, k.ca), cert: file(`${node.node}-${leaf.id}-crt`, k.cert), key: file(`${node.node}-${leaf.id}-key`, k.key) });
        expect({ conf: `${node.node} ${leaf.id} ${k.server}`, code: r.code, stderr: r.stderr, body: r.stdout ? JSON.parse(r.stdout) : null }).toEqual({
          conf: `${node.node} ${leaf.id} ${k.server}`, code: 0, stderr: '',
          body: { node: node.node, authorized: true, user: leaf.commonName, groups: leaf.organizations.length ? leaf.organizations[0] : null },
        });
        seen.push(`${node.node} ${leaf.id}`);
      }
    }
    expect(seen).toHaveLength(3 * 4 + 1);
    expect(seen).toContain(`${plan.masters[0].name} super-admin.conf`);
  });

  test('each master\'s API server certificate is valid for the endpoint and for every master address', async () => {
    const ca = file('ca', nodeFile(pki, plan.masters[0].name, '/etc/kubernetes/pki/ca.crt'));
    for (const m of plan.masters) {
      const urls = [`https://${hostPort(plan.endpoint.host, plan.endpoint.port)}`, ...plan.masters.map((x) => `https://${hostPort(x.address, plan.apiServer.bindPort)}`)];
      for (const url of urls) {
        const r = await via(m.name, url, { ca });
        expect({ m: m.name, url, code: r.code, stderr: r.stderr, node: r.stdout ? JSON.parse(r.stdout).node : null }).toEqual({ m: m.name, url, code: 0, stderr: '', node: m.name });
      }
    }
  });

  test('negative controls: a name outside the certificate, and another cluster\'s CA, fail verification (curl exit 60)', async () => {
    const m = plan.masters[0].name;
    const ca = file('ca-neg', nodeFile(pki, m, '/etc/kubernetes/pki/ca.crt'));
    const wrongName = await via(m, `https://not-in-the-certificate.example:${plan.apiServer.bindPort}`, { ca });
    expect({ code: wrongName.code, said: /no alternative certificate subject name matches|does not match/.test(wrongName.stderr) }).toEqual({ code: 60, said: true });
    const wrongIp = await via(m, `https://${urlHost(plan.masters[0].family === 6 ? 'fd00::99' : '192.0.2.99')}:${plan.apiServer.bindPort}`, { ca });
    expect(wrongIp.code).toBe(60);
    const otherCa = file('other-ca', nodeFile(pki, m, '/etc/kubernetes/pki/front-proxy-ca.crt'));
    const wrongCa = await via(m, `https://${hostPort(plan.endpoint.host, plan.endpoint.port)}`, { ca: otherCa });
    expect(wrongCa.code).toBe(60);
  });
});
