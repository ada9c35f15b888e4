import { Construct } from 'constructs';
import { TcpProxyOptions, tcpProxyPod } from '../components/tcp-proxy';
import { HostFile } from './host-file';
import { StaticPod } from './static-pod';

/** Props of a TCP proxy static pod in front of the API servers. */
export type TcpProxyProps = TcpProxyOptions;

/** haproxy or nginx as a static pod with its config as a host file: the pod of tcpProxyPod (lib/components/tcp-proxy.ts). */
export class TcpProxy extends StaticPod {
  /** The config host file. */
  public readonly configFile: HostFile;

  constructor(scope: Construct, id: string, props: TcpProxyProps) {
    super(scope, id, tcpProxyPod(props));
    this.configFile = this.files[0];
  }
}
