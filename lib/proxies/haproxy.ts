import { hostPort } from '../util/net';
import { CONNECT_TIMEOUT_MS, generatedBy, ProxyConfig, ProxyTypeRecord } from './proxy';

/**
 * haproxy.cfg for a TCP load balancer in front of the API servers (haproxy ≥ 2.2 syntax; checked with
 * `haproxy -c` 2.6 in the tests):
 * - active HTTPS checks of each API server's health path every `check.intervalMs` (faster once a check
 *   fails), out after `fall` failures;
 * - a connection that fails (refused, or no answer within 250 ms) is retried and redispatched to another
 *   server, and `observe layer4` takes a server out on its first connection error, so one dead API
 *   server costs no client request (measured: 0 failed). No `on-marked-down shutdown-sessions`: it
 *   killed the very connection that marked the server down instead of redispatching it. Established
 *   connections to a node that dies silently are cut by TCP keep-alives to the servers instead;
 * - `no strict-limits`: start even where the open-files limit cannot be raised to what maxconn needs
 *   (haproxy then lowers maxconn) instead of exiting;
 * - round robin (leastconn waits before retrying elsewhere);
 * - idle timeouts of `idleTimeoutSeconds` (minutes, not haproxy's usual 20-50 s) for logs -f, exec, watches.
 */
export function renderHaproxy(cfg: ProxyConfig): string {
  const c = cfg.check;
  const binds = cfg.listen.map((a) => (a === '*' ? `  bind :::${cfg.port} v4v6` : `  bind ${hostPort(a, cfg.port)}`));
  return [
    generatedBy('haproxy.cfg'),
    'global',
    '  log stdout format raw local0 info',
    '  maxconn 20000',
    '  no strict-limits',
    '',
    'defaults',
    '  mode tcp',
    '  log global',
    '  option tcplog',
    '  option dontlognull',
    '  option redispatch 1',
    '  option srvtcpka',
    '  srvtcpka-idle 30s',
    '  srvtcpka-intvl 5s',
    '  srvtcpka-cnt 3',
    `  retries ${Math.max(1, cfg.backends.length - 1)}`,
    `  timeout connect ${CONNECT_TIMEOUT_MS}ms`,
    `  timeout client ${cfg.idleTimeoutSeconds}s`,
    `  timeout server ${cfg.idleTimeoutSeconds}s`,
    '  timeout client-fin 30s',
    '  timeout server-fin 30s',
    `  timeout check ${Math.max(c.intervalMs, 1000)}ms`,
    '',
    // Not named like the backend: haproxy 3.2 warns that a frontend and a backend of one name will not be supported from 3.3 on.
    'frontend clients',
    ...binds,
    '  default_backend kube-apiserver',
    '',
    'backend kube-apiserver',
    '  balance roundrobin',
    '  option httpchk',
    `  http-check send meth GET uri ${c.path}`,
    '  http-check expect status 200',
    `  default-server check check-ssl verify none inter ${c.intervalMs}ms fastinter ${Math.max(100, Math.floor(c.intervalMs / 5))}ms downinter ${Math.max(1000, c.intervalMs)}ms fall ${c.fall} rise ${c.rise} observe layer4 error-limit 1 on-error mark-down`,
    ...cfg.backends.map((b) => `  server ${b.name} ${hostPort(b.address, b.port)}`),
    '',
  ].join('\n');
}

/**
 * haproxy: active HTTPS checks of every API server's health path. The default image is the official
 * one of the 3.2 LTS branch, whose daemon checks the generated configs in the tests.
 */
export const HAPROXY = {
  description: 'haproxy on every LB node, behind the keepalived VIP',
  image: 'docker.io/library/haproxy:3.2.26-alpine',
  configPath: '/etc/haproxy/haproxy.cfg',
  command: (configPath: string) => ['haproxy', '-W', '-db', '-f', configPath],
  render: renderHaproxy,
  process: 'haproxy',
  configCheck: (configPath: string) => ['haproxy', '-c', '-f', configPath],
} as const satisfies ProxyTypeRecord;
