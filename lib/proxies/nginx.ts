import { hostPort } from '../util/net';
import { CONNECT_TIMEOUT_MS, generatedBy, ProxyConfig, ProxyTypeRecord } from './proxy';

/**
 * nginx.conf with a `stream {}` TCP proxy in front of the API servers. Open-source nginx has no active
 * health checks, so fail-over is passive: a backend that refuses or does not answer within 1 s is skipped
 * for `fail_timeout` after one failure, and the connection tries the next backend (up to one try per
 * backend). `include /etc/nginx/modules-enabled/*.conf` loads Debian's stream module where nginx is a
 * distribution service; the official image has it built in and no such directory (the include then
 * matches nothing).
 */
export function renderNginx(cfg: ProxyConfig): string {
  const failTimeout = Math.max(2, Math.ceil((cfg.check.intervalMs * cfg.check.rise) / 1000));
  const listen = cfg.listen.flatMap((a) => (a === '*' ? [`    listen ${cfg.port};`, `    listen [::]:${cfg.port};`] : [`    listen ${hostPort(a, cfg.port)};`]));
  return [
    generatedBy('nginx.conf'),
    'include /etc/nginx/modules-enabled/*.conf;',
    'worker_processes auto;',
    'error_log stderr notice;',
    'pid /tmp/nginx.pid;',
    '',
    'events {',
    '  worker_connections 4096;',
    '}',
    '',
    'stream {',
    // No per-connection access log: /dev/stdout cannot be opened when stdout is a socket (journald,
    // some supervisors); errors still go to stderr.
    '  access_log off;',
    '',
    '  upstream kube_apiserver {',
    '    zone kube_apiserver 64k;',
    ...cfg.backends.map((b) => `    server ${hostPort(b.address, b.port)} max_fails=1 fail_timeout=${failTimeout}s; # ${b.name}`),
    '  }',
    '',
    '  server {',
    ...listen,
    '    proxy_pass kube_apiserver;',
    `    proxy_connect_timeout ${CONNECT_TIMEOUT_MS}ms;`,
    `    proxy_timeout ${cfg.idleTimeoutSeconds}s;`,
    '    proxy_next_upstream on;',
    `    proxy_next_upstream_tries ${cfg.backends.length};`,
    `    proxy_next_upstream_timeout ${cfg.backends.length * 2}s;`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * nginx (the stream module): passive fail-over only. The default image is the official one of the 1.30
 * stable branch, whose daemon checks the generated configs in the tests.
 */
export const NGINX = {
  description: 'nginx on every LB node, behind the keepalived VIP',
  image: 'docker.io/library/nginx:1.30.6-alpine',
  configPath: '/etc/nginx/nginx.conf',
  command: (configPath: string) => ['nginx', '-c', configPath, '-g', 'daemon off;'],
  render: renderNginx,
  process: 'nginx',
  configCheck: (configPath: string) => ['nginx', '-t', '-c', configPath],
} as const satisfies ProxyTypeRecord;
