import { parse, parseAllDocuments } from 'yaml';
import { ClusterSpec, SpecError } from '../lib';
import { validateSpec } from '../lib/plan/validate';
import { defaultPriorities } from '../lib/plan/lb-plan';
import { haSpec, render, spec } from './util';

const M = (n: number, base = '192.168.10.') => Array.from({ length: n }, (_, i) => ({ name: `master-${i + 1}`, address: `${base}${11 + i}` }));
const file = (s: ClusterSpec, node: string, path: string) => {
  const f = render(s).get(node)?.get(path);
  if (!f) throw new Error(`no ${path} on ${node}`);
  return f;
};
const podOf = (s: ClusterSpec, node: string, name: string) => parse(file(s, node, `etc/kubernetes/manifests/${name}.yaml`).content);

describe('keepalived + haproxy on the masters (the default example)', () => {
  const s = haSpec();
  const ka = (node: string) => file(s, node, 'etc/keepalived/keepalived.conf').content;

  test('keepalived.conf snapshot (master-1)', () => {
    expect(ka('master-1')).toMatchSnapshot();
  });

  test('VRRPv3, 100 ms adverts, priorities 150/100/50, MASTER only on the highest', () => {
    expect(ka('master-1')).toMatch(/vrrp_version 3/);
    expect(ka('master-1')).toMatch(/advert_int 0\.1\n/);
    expect(ka('master-1')).toMatch(/state MASTER\n/);
    expect(ka('master-1')).toMatch(/priority 150\n/);
    expect(ka('master-2')).toMatch(/state BACKUP\n[\s\S]*priority 100\n/);
    expect(ka('master-3')).toMatch(/state BACKUP\n[\s\S]*priority 50\n/);
    expect(ka('master-1')).not.toMatch(/authentication/);
    expect(ka('master-1')).toMatch(/virtual_router_id 51\n/);
    expect(ka('master-1')).toMatch(/192\.168\.10\.100\/24 dev eth0/);
  });

  test('unicast peers: own address as source, the two others as peers', () => {
    expect(ka('master-2')).toMatch(/unicast_src_ip 192\.168\.10\.12\n  unicast_peer \{\n    192\.168\.10\.11\n    192\.168\.10\.13\n  \}/);
  });

  test('tracks the local load balancer: script weight beyond the priority range, process tracking to FAULT', () => {
    const c = ka('master-1');
    // 150 - 110 = 40 < 50: a node whose LB fails ranks below every healthy node.
    expect(c).toMatch(/weight -110\n/);
    expect(c).toMatch(/script "\/etc\/keepalived\/check_apiserver\.sh"/);
    expect(c).toMatch(/vrrp_track_process track_load_balancer \{\n  process haproxy\n  quorum 1\n  weight 0\n\}/);
    expect(c).toMatch(/track_process \{\n    track_load_balancer\n  \}/);
    expect(c).toMatch(/enable_script_security/);
    const script = file(s, 'master-1', 'etc/keepalived/check_apiserver.sh');
    expect(script.mode).toBe(0o755);
    // It checks the node's own load balancer on the endpoint port, not a remote API server.
    expect(script.content).toMatch(/https:\/\/127\.0\.0\.1:8443\/healthz\n$/);
    // curl gives up inside keepalived's 1 s script timeout, so its own failure is what keepalived sees.
    expect(script.content).toMatch(/ --max-time 0\.8 /);
  });

  test('keepalived pod: NET_ADMIN, NET_BROADCAST, NET_RAW only; hostPID for process tracking; configs mounted as File', () => {
    const p = podOf(s, 'master-1', 'keepalived');
    const c = p.spec.containers[0];
    expect(c.securityContext).toEqual({ capabilities: { add: ['NET_ADMIN', 'NET_BROADCAST', 'NET_RAW'] } });
    expect(c.securityContext.privileged).toBeUndefined();
    expect(p.spec.hostPID).toBe(true);
    expect(p.spec.hostNetwork).toBe(true);
    expect(p.spec.volumes).toEqual([
      { name: 'check-script', hostPath: { path: '/etc/keepalived/check_apiserver.sh', type: 'File' } },
      { name: 'config', hostPath: { path: '/etc/keepalived/keepalived.conf', type: 'File' } },
    ]);
    expect(c.volumeMounts.every((m: any) => m.readOnly === true)).toBe(true);
    expect(p.metadata.annotations['ha-control-plane.io/config-checksum']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(c.command).toEqual(['keepalived', '--dont-fork', '--log-console', '--log-detail', '--use-file', '/etc/keepalived/keepalived.conf']);
    expect(c.image).toBe('localhost/keepalived:2.3.3');
  });

  test('haproxy.cfg: TCP on every address of the endpoint port, HTTPS /readyz checks, redispatch, long timeouts', () => {
    const cfg = file(s, 'master-1', 'etc/haproxy/haproxy.cfg').content;
    expect(cfg).toMatchSnapshot();
    expect(cfg).toMatch(/mode tcp/);
    expect(cfg).toMatch(/bind :::8443 v4v6/);
    expect(cfg).toMatch(/option redispatch 1/);
    expect(cfg).toMatch(/retries 2\n/);
    expect(cfg).toMatch(/timeout connect 250ms/);
    expect(cfg).toMatch(/no strict-limits/);
    expect(cfg).toMatch(/option srvtcpka\n  srvtcpka-idle 30s/);
    expect(cfg).not.toMatch(/shutdown-sessions/);
    expect(cfg).toMatch(/timeout client 3600s/);
    expect(cfg).toMatch(/timeout server 3600s/);
    expect(cfg).toMatch(/http-check send meth GET uri \/readyz/);
    expect(cfg).toMatch(/check check-ssl verify none inter 500ms .* fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down\n/);
    expect(cfg.match(/^  server /gm)).toHaveLength(3);
    expect(cfg).toMatch(/server master-3 192\.168\.10\.13:6443\n/);
    expect(cfg).toMatch(/balance roundrobin/);
  });

  test('haproxy pod: config mounted read-only as File, checksum changes with the config', () => {
    const p = podOf(s, 'master-1', 'haproxy');
    expect(p.spec.volumes).toEqual([{ name: 'config', hostPath: { path: '/etc/haproxy/haproxy.cfg', type: 'File' } }]);
    expect(p.spec.containers[0].command).toEqual(['haproxy', '-W', '-db', '-f', '/etc/haproxy/haproxy.cfg']);
    const other = podOf(haSpec({ loadBalancer: { type: 'haproxy', checkIntervalMs: 300 } }), 'master-1', 'haproxy');
    expect(other.metadata.annotations['ha-control-plane.io/config-checksum']).not.toBe(p.metadata.annotations['ha-control-plane.io/config-checksum']);
  });

  test('kubeadm config: endpoint through the VIP and every master in the certificate SANs', () => {
    const docs = parseAllDocuments(file(s, 'master-2', 'etc/kubernetes/kubeadm-config.yaml').content).map((d) => d.toJS());
    expect(docs[0]).toMatchObject({ kind: 'InitConfiguration', apiVersion: 'kubeadm.k8s.io/v1beta4', localAPIEndpoint: { advertiseAddress: '192.168.10.12', bindPort: 6443 }, nodeRegistration: { name: 'master-2' } });
    expect(docs[1]).toMatchObject({ kind: 'ClusterConfiguration', controlPlaneEndpoint: '192.168.10.100:8443', kubernetesVersion: 'v1.37.2', networking: { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12' } });
    expect(docs[1].apiServer.certSANs).toEqual(['192.168.10.100', 'master-1', '192.168.10.11', 'master-2', '192.168.10.12', 'master-3', '192.168.10.13']);
    expect(docs[1].etcd.local).toMatchObject({ imageTag: '3.7.0-0', dataDir: '/var/lib/etcd' });
  });
});

describe('variants', () => {
  test('nginx: passive fail-over (250 ms connect timeout, one try per master), long proxy timeout, tracked by process', () => {
    const s = haSpec({ loadBalancer: { type: 'nginx' } });
    const cfg = file(s, 'master-1', 'etc/nginx/nginx.conf').content;
    expect(cfg).toMatchSnapshot();
    expect(cfg).toMatch(/listen 8443;\n    listen \[::\]:8443;/);
    expect(cfg).toMatch(/proxy_connect_timeout 250ms;/);
    expect(cfg).toMatch(/proxy_next_upstream_tries 3;/);
    expect(cfg).toMatch(/proxy_timeout 3600s;/);
    expect(cfg).toMatch(/server 192\.168\.10\.11:6443 max_fails=1 fail_timeout=2s; # master-1/);
    expect(cfg).toMatch(/zone kube_apiserver 64k;/);
    expect(file(s, 'master-1', 'etc/keepalived/keepalived.conf').content).toMatch(/process nginx\n/);
    const p = podOf(s, 'master-1', 'nginx');
    expect(p.spec.containers[0].command).toEqual(['nginx', '-c', '/etc/nginx/nginx.conf', '-g', 'daemon off;']);
    expect(render(s).get('master-1')!.has('etc/kubernetes/manifests/haproxy.yaml')).toBe(false);
  });

  test('VRRPv2 with multicast and a password: whole-second adverts, authentication, no unicast peers', () => {
    const c = file(haSpec({ keepalived: { vrrpVersion: 2, advertIntervalMs: 1000, peering: 'multicast', authPass: 'k8sVIP' } }), 'master-1', 'etc/keepalived/keepalived.conf').content;
    expect(c).toMatch(/vrrp_version 2/);
    expect(c).toMatch(/advert_int 1\n/);
    expect(c).toMatch(/auth_type PASS\n    auth_pass k8sVIP/);
    expect(c).not.toMatch(/unicast/);
  });

  test('5 masters get 250/200/150/100/50 and a weight of 210', () => {
    const s = haSpec({ masters: M(5) });
    const prios = [1, 2, 3, 4, 5].map((i) => /priority (\d+)/.exec(file(s, `master-${i}`, 'etc/keepalived/keepalived.conf').content)![1]);
    expect(prios).toEqual(['250', '200', '150', '100', '50']);
    expect(file(s, 'master-1', 'etc/keepalived/keepalived.conf').content).toMatch(/weight -210\n/);
  });

  test('IPv6: VIP /64, [::1] check URL, bracketed backends', () => {
    const s = haSpec({
      controlPlaneEndpoint: { host: 'fd00::100', port: 8443 },
      masters: [1, 2, 3].map((i) => ({ name: `master-${i}`, address: `fd00::${10 + i}` })),
      networking: { serviceSubnet: 'fd00:96::/112' },
    });
    expect(file(s, 'master-1', 'etc/keepalived/keepalived.conf').content).toMatch(/fd00::100\/64 dev eth0/);
    expect(file(s, 'master-1', 'etc/keepalived/check_apiserver.sh').content).toMatch(/https:\/\/\[::1\]:8443\/healthz/);
    expect(file(s, 'master-1', 'etc/haproxy/haproxy.cfg').content).toMatch(/server master-1 \[fd00::11\]:6443/);
  });
});

describe('dedicated LB hosts and LVS direct routing', () => {
  const hosts = [{ name: 'lb-1', address: '192.168.10.21' }, { name: 'lb-2', address: '192.168.10.22' }];

  test('haproxy + keepalived move to the LB hosts, which run a standalone kubelet; the masters keep only the control plane', () => {
    const s = haSpec({ loadBalancers: hosts, controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 } });
    const b = render(s);
    expect([...b.keys()]).toEqual(['master-1', 'master-2', 'master-3', 'lb-1', 'lb-2']);
    expect([...b.get('master-1')!.keys()].filter((p) => p.includes('/manifests/')).sort()).toEqual(
      ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((c) => `etc/kubernetes/manifests/${c}.yaml`));
    expect([...b.get('lb-1')!.keys()].sort()).toEqual([
      'etc/haproxy/haproxy.cfg', 'etc/keepalived/check_apiserver.sh', 'etc/keepalived/keepalived.conf',
      'etc/kubernetes/kubelet-standalone.yaml', 'etc/kubernetes/manifests/haproxy.yaml', 'etc/kubernetes/manifests/keepalived.yaml',
      'etc/systemd/system/kubelet.service.d/20-ha-control-plane-standalone.conf',
    ]);
    // The LB may listen on the API server's own port there.
    expect(b.get('lb-1')!.get('etc/haproxy/haproxy.cfg')!.content).toMatch(/bind :::6443 v4v6/);
    const kubelet = parse(b.get('lb-1')!.get('etc/kubernetes/kubelet-standalone.yaml')!.content);
    expect(kubelet).toMatchObject({
      kind: 'KubeletConfiguration', staticPodPath: '/etc/kubernetes/manifests', enableServer: false,
      authentication: { webhook: { enabled: false }, anonymous: { enabled: false } }, authorization: { mode: 'AlwaysAllow' }, cgroupDriver: 'systemd',
    });
    expect(b.get('lb-1')!.get('etc/systemd/system/kubelet.service.d/20-ha-control-plane-standalone.conf')!.content)
      .toMatch(/ExecStart=\nExecStart=\/usr\/bin\/kubelet --config=\/etc\/kubernetes\/kubelet-standalone\.yaml/);
    const init = parseAllDocuments(b.get('master-1')!.get('etc/kubernetes/kubeadm-config.yaml')!.content)[1].toJS();
    expect(init.apiServer.certSANs).toEqual(expect.arrayContaining(['192.168.10.100', 'lb-1', '192.168.10.21', 'lb-2', '192.168.10.22']));
    expect(b.get('lb-2')!.get('etc/keepalived/keepalived.conf')!.content).toMatch(/unicast_src_ip 192\.168\.10\.22\n  unicast_peer \{\n    192\.168\.10\.21\n  \}/);
  });

  test('lvs-dr: directors run keepalived with IPVS DR and TLS checks; masters bind the VIP on lo without ARP', () => {
    const s = haSpec({ loadBalancers: hosts, loadBalancer: { type: 'lvs-dr' }, controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 } });
    const b = render(s);
    const ka = b.get('lb-1')!.get('etc/keepalived/keepalived.conf')!.content;
    expect(ka).toMatchSnapshot();
    expect(ka).toMatch(/virtual_server 192\.168\.10\.100 6443 \{\n  delay_loop 1\n  lb_algo rr\n  lb_kind DR\n  protocol TCP/);
    expect(ka.match(/real_server /g)).toHaveLength(3);
    expect(ka).toMatch(/SSL_GET \{\n      url \{\n        path \/readyz\n        status_code 200/);
    expect(ka).not.toMatch(/track_process|vrrp_script/);
    expect(b.get('lb-1')!.has('etc/kubernetes/manifests/haproxy.yaml')).toBe(false);
    expect(b.get('lb-1')!.get('etc/modules-load.d/ha-control-plane-ipvs.conf')!.content).toBe('ip_vs\nip_vs_rr\n');
    const vip = parse(b.get('master-1')!.get('etc/kubernetes/manifests/lvs-dr-vip.yaml')!.content);
    const init = vip.spec.initContainers[0];
    expect(init.securityContext).toEqual({ privileged: true });
    expect(init.command[2]).toMatch(/sysctl -w net\.ipv4\.conf\.all\.arp_ignore=1\n/);
    expect(init.command[2]).toMatch(/sysctl -w net\.ipv4\.conf\.eth0\.arp_announce=2\n/);
    expect(init.command[2]).toMatch(/ip addr add 192\.168\.10\.100\/32 dev lo$/);
    expect(vip.spec.containers[0].image).toBe('registry.k8s.io/pause:3.10.2');
    expect(b.get('master-1')!.get('etc/sysctl.d/90-ha-control-plane-lvs-dr.conf')!.content).toMatch(/net\.ipv4\.conf\.all\.arp_ignore = 1\nnet\.ipv4\.conf\.all\.arp_announce = 2\nnet\.ipv4\.conf\.eth0\.arp_ignore = 1/);
    expect(vip.spec.hostNetwork).toBe(true);
  });
});

describe('vip-only: keepalived alone on the masters, the VIP straight on the API servers', () => {
  const s = haSpec({ loadBalancer: { type: 'vip-only' }, controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 } });
  const b = render(s);
  const ka = (node: string) => b.get(node)!.get('etc/keepalived/keepalived.conf')!.content;

  test('keepalived.conf snapshot (master-1)', () => {
    expect(ka('master-1')).toMatchSnapshot();
  });

  test('no proxy, no loopback VIP: only keepalived beside the control plane', () => {
    for (const m of ['master-1', 'master-2', 'master-3']) {
      const manifests = [...b.get(m)!.keys()].filter((p) => p.startsWith('etc/kubernetes/manifests/')).sort();
      expect(manifests).toEqual(['etcd', 'keepalived', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((n) => `etc/kubernetes/manifests/${n}.yaml`));
      expect(b.get(m)!.has('etc/haproxy/haproxy.cfg')).toBe(false);
      expect(b.get(m)!.has('etc/sysctl.d/90-ha-control-plane-lvs-dr.conf')).toBe(false);
    }
    expect([...b.keys()].sort()).toEqual(['master-1', 'master-2', 'master-3']);
  });

  test('the same VRRPv3, unicast and priority defaults as the other topologies; the VIP on the NIC', () => {
    expect(ka('master-1')).toMatch(/vrrp_version 3\n/);
    expect(ka('master-1')).toMatch(/advert_int 0\.1\n/);
    expect(ka('master-1')).toMatch(/state MASTER\n[\s\S]*priority 150\n/);
    expect(ka('master-2')).toMatch(/state BACKUP\n[\s\S]*priority 100\n/);
    expect(ka('master-3')).toMatch(/state BACKUP\n[\s\S]*priority 50\n/);
    expect(ka('master-2')).toMatch(/unicast_src_ip 192\.168\.10\.12\n  unicast_peer \{\n    192\.168\.10\.11\n    192\.168\.10\.13\n  \}/);
    expect(ka('master-1')).toMatch(/virtual_ipaddress \{\n    192\.168\.10\.100\/24 dev eth0\n  \}/);
    expect(ka('master-1')).not.toMatch(/virtual_server|authentication/);
  });

  test('checks the local API server: /readyz over HTTPS on the bind port, inside the interval, failed until it answers', () => {
    const c = ka('master-1');
    expect(c).toMatch(/vrrp_script chk_apiserver \{\n  script "\/etc\/keepalived\/check_apiserver\.sh"\n  interval 1\n  timeout 1\n  fall 2\n  rise 2\n  weight -110\n  init_fail\n\}/);
    expect(c).toMatch(/track_script \{\n    chk_apiserver\n  \}/);
    const script = b.get('master-1')!.get('etc/keepalived/check_apiserver.sh')!;
    expect(script.mode).toBe(0o755);
    expect(script.content).toMatch(/\nexec curl --silent --fail --insecure --max-time 0\.8 --output \/dev\/null https:\/\/127\.0\.0\.1:6443\/readyz\n$/);
  });

  test('tracks the kube-apiserver process with a fork delay (a kubelet restart does not bounce the VIP); hostPID', () => {
    const c = ka('master-1');
    expect(c).toMatch(/vrrp_track_process track_apiserver \{\n  process kube-apiserver\n  quorum 1\n  weight 0\n  fork_delay 3\n\}/);
    expect(c).toMatch(/track_process \{\n    track_apiserver\n  \}/);
    const p = podOf(s, 'master-1', 'keepalived');
    expect(p.spec.hostPID).toBe(true);
    expect(p.spec.containers[0].securityContext).toEqual({ capabilities: { add: ['NET_ADMIN', 'NET_BROADCAST', 'NET_RAW'] } });
  });

  test('the health path, interval and counts of loadBalancer drive the check; an IPv6 master checks ::1', () => {
    const v6 = haSpec({
      masters: [1, 2, 3].map((i) => ({ name: `m${i}`, address: `fd00::${i}` })), networking: { serviceSubnet: 'fd00:96::/112' },
      controlPlaneEndpoint: { host: 'fd00::100', port: 6443 }, apiServer: { bindPort: 6443 },
      loadBalancer: { type: 'vip-only', healthCheckPath: '/livez', checkIntervalMs: 2000, fall: 3, rise: 1 },
    });
    const r = render(v6);
    expect(r.get('m1')!.get('etc/keepalived/keepalived.conf')!.content).toMatch(/interval 2\n  timeout 2\n  fall 3\n  rise 1\n/);
    expect(r.get('m1')!.get('etc/keepalived/check_apiserver.sh')!.content).toMatch(/--max-time 1\.8 --output \/dev\/null https:\/\/\[::1\]:6443\/livez\n$/);
  });

  test('the API server listens on every address and its certificate and kubeadm config carry the VIP', () => {
    const api = podOf(s, 'master-1', 'kube-apiserver');
    expect(api.spec.containers[0].command.some((a: string) => a.startsWith('--bind-address='))).toBe(false);
    const cluster = parseAllDocuments(b.get('master-1')!.get('etc/kubernetes/kubeadm-config.yaml')!.content)[1].toJS();
    expect(cluster.controlPlaneEndpoint).toBe('192.168.10.100:6443');
    expect(cluster.apiServer.certSANs).toEqual(expect.arrayContaining(['192.168.10.100']));
  });
});

describe('worker local proxy', () => {
  const workers = [{ name: 'worker-1', address: '192.168.10.31' }, { name: 'worker-2', address: '192.168.10.32' }];

  test.each(['nginx', 'haproxy'] as const)('%s on 127.0.0.1 and ::1 in front of every master, in its own worker bundle', (type) => {
    const s = haSpec({ workers, workerProxy: { type } });
    const b = render(s);
    const cfgPath = `etc/kubernetes/kube-apiserver-proxy/${type === 'nginx' ? 'nginx.conf' : 'haproxy.cfg'}`;
    expect([...b.get('worker-2')!.keys()].sort()).toEqual([cfgPath, 'etc/kubernetes/manifests/kube-apiserver-proxy.yaml']);
    const cfg = b.get('worker-1')!.get(cfgPath)!.content;
    if (type === 'nginx') {
      expect(cfg).toMatch(/listen 127\.0\.0\.1:6443;\n    listen \[::1\]:6443;/);
    } else {
      expect(cfg).toMatch(/bind 127\.0\.0\.1:6443\n  bind \[::1\]:6443/);
      expect(cfg).toMatch(/http-check send meth GET uri \/readyz/);
    }
    expect(cfg.match(/192\.168\.10\.1[123]:6443/g)).toHaveLength(3);
    const p = parse(b.get('worker-1')!.get('etc/kubernetes/manifests/kube-apiserver-proxy.yaml')!.content);
    expect(p.spec.volumes).toEqual([{ name: 'config', hostPath: { path: `/${cfgPath}`, type: 'File' } }]);
    // Workers reach the API at https://localhost:6443: the API server certificate must say so.
    const cluster = parseAllDocuments(b.get('master-1')!.get('etc/kubernetes/kubeadm-config.yaml')!.content)[1].toJS();
    expect(cluster.apiServer.certSANs).toEqual(expect.arrayContaining(['localhost', '127.0.0.1', '::1']));
  });
});

describe('invalid LB/VIP layouts fail with the field, the value and the fix', () => {
  const hosts = [{ name: 'lb-1', address: '192.168.10.21' }, { name: 'lb-2', address: '192.168.10.22' }];
  const cases: [string, Partial<ClusterSpec>, RegExp][] = [
    ['LB port equal to the API server port on the masters', { controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 } }, /controlPlaneEndpoint\.port: 6443 is also the API server's port .*\(fix: use another port/],
    ['VIP equal to a master address', { controlPlaneEndpoint: { host: '192.168.10.12', port: 8443 } }, /controlPlaneEndpoint\.host: "192\.168\.10\.12" is masters\[1\]\.address; the VIP must be an address no node owns/],
    ['VIP outside the masters\' subnet', { controlPlaneEndpoint: { host: '10.0.0.100', port: 8443 } }, /^invalid cluster spec: controlPlaneEndpoint\.host: "10\.0\.0\.100" is in the subnet 10\.0\.0\.0\/24 \(keepalived\.vipPrefixLength 24\), which holds none of the masters \(192\.168\.10\.11, 192\.168\.10\.12, 192\.168\.10\.13\)/],
    ['VIP outside one master\'s subnet', { masters: [{ name: 'master-1', address: '192.168.10.11' }, { name: 'master-2', address: '192.168.10.12' }, { name: 'master-3', address: '192.168.11.13' }] }, /^invalid cluster spec: masters\[2\]\.address: "192\.168\.11\.13" is outside the VIP's subnet 192\.168\.10\.0\/24, so VRRP/],
    ['a DNS name instead of a VIP', { controlPlaneEndpoint: { host: 'api.example.com', port: 8443 } }, /controlPlaneEndpoint\.host: "api\.example\.com" is a DNS name, but keepalived needs the VIP as an IP address \(fix: add loadBalancer\.vip/],
    ['equal priorities', { keepalived: { priorities: [100, 100, 50] } }, /keepalived\.priorities: \[100,100,50\] has equal priorities/],
    ['priorities too close for sub-second adverts', { keepalived: { priorities: [100, 99, 98] } }, /keepalived\.priorities: \[100,99,98\] are closer than 20 apart with 100 ms adverts/],
    ['priority count', { keepalived: { priorities: [150, 100] } }, /keepalived\.priorities: \[150,100\] is not 3 priorities/],
    ['priority range too wide for any weight', { keepalived: { priorities: [254, 130, 1] } }, /span more than 243/],
    ['authentication with VRRPv3', { keepalived: { authPass: 'secret' } }, /keepalived\.authPass: "\(hidden\)" is set but VRRPv3 forbids authentication/],
    ['fractional advert with VRRPv2', { keepalived: { vrrpVersion: 2, advertIntervalMs: 500 } }, /keepalived\.advertIntervalMs: 500 is not whole seconds, which VRRPv2 requires/],
    ['VRRPv2 with an IPv6 VIP', { controlPlaneEndpoint: { host: 'fd00::100', port: 8443 }, masters: [1, 2, 3].map((i) => ({ name: `m${i}`, address: `fd00::${i}` })), networking: { serviceSubnet: 'fd00:96::/112' }, keepalived: { vrrpVersion: 2, advertIntervalMs: 1000 } }, /keepalived\.vrrpVersion: 2 cannot carry an IPv6 VIP/],
    ['bad router id', { keepalived: { virtualRouterId: 300 } }, /keepalived\.virtualRouterId: 300 is not a VRRP router id/],
    ['bad interface', { keepalived: { interface: 'eth 0' } }, /keepalived\.interface: "eth 0" is not a network interface name/],
    ['short idle timeout', { loadBalancer: { idleTimeoutSeconds: 20 } }, /loadBalancer\.idleTimeoutSeconds: 20 is too short for kubectl logs -f/],
    ['lvs-dr on the masters', { loadBalancer: { type: 'lvs-dr' }, controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 } }, /loadBalancer\.type: "lvs-dr" needs dedicated director hosts: a backup director that is also a master .* bounces packets back/],
    ['lvs-dr with a port change', { loadBalancer: { type: 'lvs-dr' }, loadBalancers: hosts, controlPlaneEndpoint: { host: '192.168.10.100', port: 8443 } }, /controlPlaneEndpoint\.port: 8443 differs from apiServer\.bindPort \(6443\); direct routing cannot change the port/],
    ['one LB host', { loadBalancers: [hosts[0]] }, /loadBalancers: 1 is a single host: the VIP has nowhere to fail over to/],
    ['an LB host that is a master', { loadBalancers: [hosts[0], { name: 'master-2', address: '192.168.10.40' }] }, /loadBalancers\[1\]\.name: "master-2" is also masters\[1\]\.name/],
    ['an LB host with a master\'s address', { loadBalancers: [hosts[0], { name: 'lb-9', address: '192.168.10.13' }] }, /loadBalancers\[1\]\.address: "192\.168\.10\.13" is also masters\[2\]\.address/],
    ['VIP outside the LB hosts\' subnet', { loadBalancers: [{ name: 'lb-1', address: '10.1.0.21' }, { name: 'lb-2', address: '10.1.0.22' }], controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 } }, /controlPlaneEndpoint\.host: "192\.168\.10\.100" is in the subnet 192\.168\.10\.0\/24 .*which holds none of the load-balancer hosts \(10\.1\.0\.21, 10\.1\.0\.22\)/],
    ['unknown load balancer type', { loadBalancer: { type: 'traefik' as any } }, /loadBalancer\.type: "traefik" is not a load balancer type \(fix: use "haproxy", "nginx", "lvs-dr" or "vip-only" \(how clients reach the API servers through the VIP: .*`vip-only`\)\)\)$/m],
    ['vip-only with dedicated LB hosts', { loadBalancer: { type: 'vip-only' }, loadBalancers: hosts, controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 } }, /loadBalancers: 2 are listed, but loadBalancer\.type "vip-only" puts the VIP on the masters' own API servers: a dedicated host has nothing to run \(fix: remove loadBalancers/],
    ['vip-only with another port than the API server\'s', { loadBalancer: { type: 'vip-only' }, controlPlaneEndpoint: { host: '192.168.10.100', port: 8443 } }, /controlPlaneEndpoint\.port: 8443 differs from apiServer\.bindPort \(6443\); with vip-only clients reach the VIP holder's API server itself, .* \(fix: set controlPlaneEndpoint\.port to 6443\)/],
    ['vip-only with the API server bound to one address', { loadBalancer: { type: 'vip-only' }, controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 }, apiServer: { extraArgs: [{ name: 'v', value: '2' }, { name: 'bind-address', value: '192.168.10.11' }] } }, /apiServer\.extraArgs\[1\]\.value: "192\.168\.10\.11" is the API server's --bind-address, so it does not listen on the VIP, but clients reach the API server on the VIP \(vip-only\)/],
    ['lvs-dr with the API server bound to loopback', { loadBalancer: { type: 'lvs-dr' }, loadBalancers: hosts, controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 }, apiServer: { extraArgs: [{ name: 'bind-address', value: '127.0.0.1' }] } }, /apiServer\.extraArgs\[0\]\.value: "127\.0\.0\.1" is the API server's --bind-address, so it does not listen on the VIP, but the masters answer clients on the VIP they hold on loopback \(lvs-dr\)/],
    ['unknown keepalived field', { keepalived: { intervace: 'eth0' } as any }, /keepalived\.intervace: "eth0" is not a known field/],
  ];
  test.each(cases)('%s', (_n, overrides, message) => {
    let error: unknown;
    try {
      render(haSpec(overrides));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpecError);
    expect((error as Error).message).toMatch(message);
  });

  test('vip-only and lvs-dr accept a bind address of every address (0.0.0.0, ::, an earlier one overridden)', () => {
    const ok = (extraArgs: { name: string; value: string }[]) => validateSpec(haSpec({ loadBalancer: { type: 'vip-only' }, controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 }, apiServer: { extraArgs } })).errors;
    expect(ok([{ name: 'bind-address', value: '0.0.0.0' }])).toEqual([]);
    expect(ok([{ name: 'bind-address', value: '::' }])).toEqual([]);
    expect(ok([{ name: 'bind-address', value: '192.168.10.11' }, { name: 'bind-address', value: '0:0::0' }])).toEqual([]);
    expect(ok([{ name: 'bind-address', value: '192.168.10.11' }]).map((e) => e.path)).toEqual(['apiServer.extraArgs[0].value']);
    // With a proxy in front, the API server may bind its node address.
    expect(validateSpec(haSpec({ apiServer: { extraArgs: [{ name: 'bind-address', value: '192.168.10.11' }] } })).errors).toEqual([]);
  });

  test('vip-only or lvs-dr with a proxy image: warned, ignored', () => {
    const w = validateSpec(haSpec({ loadBalancer: { type: 'vip-only', image: 'haproxy:3' }, controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 } })).warnings;
    expect(w.find((x) => x.path === 'loadBalancer.image')?.problem).toBe('is ignored: loadBalancer.type "vip-only" runs no proxy');
  });

  test('keepalived without loadBalancer: the warning names vip-only', () => {
    const w = validateSpec(spec({ keepalived: { interface: 'eth0' } })).warnings.find((x) => x.path === 'keepalived');
    expect(w?.fix).toMatch(/loadBalancer: \{ type: "vip-only" \} for the VIP alone on the masters' API servers/);
  });

  test('the password never appears in an error', () => {
    expect(() => render(haSpec({ keepalived: { authPass: 'topsecret1' } }))).toThrow(SpecError);
    try {
      render(haSpec({ keepalived: { authPass: 'topsecret1' } }));
    } catch (e) {
      expect((e as Error).message).not.toMatch(/topsecret1/);
    }
  });
});

describe('default VRRP priorities', () => {
  test('50 apart, highest at least 150, lowest at least 50, closer for large groups', () => {
    expect(defaultPriorities(1)).toEqual([150]);
    expect(defaultPriorities(2)).toEqual([150, 100]);
    expect(defaultPriorities(3)).toEqual([150, 100, 50]);
    expect(defaultPriorities(5)).toEqual([250, 200, 150, 100, 50]);
    expect(defaultPriorities(7)).toEqual([248, 215, 182, 149, 116, 83, 50]);
  });

  test('two dedicated LB hosts get 150 and 100 in their keepalived.conf', () => {
    const s: ClusterSpec = { ...haSpec(), loadBalancers: [{ name: 'lb-1', address: '192.168.10.21' }, { name: 'lb-2', address: '192.168.10.22' }] };
    expect(file(s, 'lb-1', 'etc/keepalived/keepalived.conf').content).toMatch(/\n\s*priority 150\n/);
    expect(file(s, 'lb-2', 'etc/keepalived/keepalived.conf').content).toMatch(/\n\s*priority 100\n/);
  });
});

describe('the etcd image in the kubeadm config', () => {
  const etcdOf = (s: ClusterSpec) => parseAllDocuments(file(s, 'master-1', 'etc/kubernetes/kubeadm-config.yaml').content)[1].toJS().etcd.local;
  const warningsOf = (s: ClusterSpec) => validateSpec(s).warnings.map((w) => w.path);

  test('the default image: only the tag (the cluster imageRepository applies)', () => {
    expect(etcdOf(haSpec())).toMatchObject({ imageTag: '3.7.0-0' });
    expect(etcdOf(haSpec())).not.toHaveProperty('imageRepository');
  });

  test('a mirrored <repository>/etcd:<tag> image: its repository and tag', () => {
    const s = haSpec({ etcd: { local: { image: 'mirror.example:5000/k8s/etcd:3.5.24-0' } } });
    expect(etcdOf(s)).toMatchObject({ imageRepository: 'mirror.example:5000/k8s', imageTag: '3.5.24-0' });
    expect(warningsOf(s)).not.toContain('etcd.local.image');
  });

  test('an image by digest: no made-up tag, and a warning that kubeadm would use its default image', () => {
    const s = haSpec({ etcd: { local: { image: 'mirror.example/etcd@sha256:' + 'a'.repeat(64), version: '3.5.24' } } });
    expect(etcdOf(s)).not.toHaveProperty('imageTag');
    expect(etcdOf(s)).not.toHaveProperty('imageRepository');
    expect(warningsOf(s)).toContain('etcd.local.image');
    // The manifest itself runs the digest image.
    expect(podOf(s, 'master-1', 'etcd').spec.containers[0].image).toBe('mirror.example/etcd@sha256:' + 'a'.repeat(64));
  });
});
