import { Construct } from 'constructs';
import { renderHaproxy } from '../render/haproxy';
import { renderNginx } from '../render/nginx';
import { ProxyConfig } from '../render/proxy';
import { HostFile } from './host-file';
import { StaticPod } from './static-pod';

/** Props of a TCP proxy static pod in front of the API servers. */
export interface TcpProxyProps {
  /** `haproxy` or `nginx`. */
  readonly type: 'haproxy' | 'nginx';
  /** Container image. */
  readonly image: string;
  /** What to proxy. */
  readonly config: ProxyConfig;
  /**
   * Pod and manifest name.
   * @default the type ("haproxy" / "nginx")
   */
  readonly name?: string;
  /**
   * Path of the config on the host (mounted read-only at the same path, hostPath type File).
   * @default "/etc/haproxy/haproxy.cfg" or "/etc/nginx/nginx.conf"
   */
  readonly configPath?: string;
}

const DEFAULT_PATHS = { haproxy: '/etc/haproxy/haproxy.cfg', nginx: '/etc/nginx/nginx.conf' } as const;

/**
 * haproxy or nginx as a static pod with its config as a host file: on the masters (or LB hosts) behind
 * the VIP, or on workers as a local proxy on loopback. The config is mounted with hostPath type `File`
 * and its checksum annotated, so a config change rolls the pod.
 */
export class TcpProxy extends StaticPod {
  /** The config host file. */
  public readonly configFile: HostFile;

  constructor(scope: Construct, id: string, props: TcpProxyProps) {
    const name = props.name ?? props.type;
    const configPath = props.configPath ?? DEFAULT_PATHS[props.type];
    const command = props.type === 'haproxy'
      ? ['haproxy', '-W', '-db', '-f', configPath]
      : ['nginx', '-c', configPath, '-g', 'daemon off;'];
    super(scope, id, {
      name,
      image: props.image,
      command,
      requests: { cpu: '25m', memory: '32Mi' },
    });
    const content = props.type === 'haproxy' ? renderHaproxy(props.config) : renderNginx(props.config);
    this.configFile = new HostFile(this, 'config', { path: configPath, content, mode: 0o644 });
    this.mountHostFile('config', this.configFile);
  }
}
