import { Construct } from 'constructs';
import { StandaloneKubeletOptions, standaloneKubeletFiles } from '../components/standalone-kubelet';
import { HostFile } from './host-file';

export { STANDALONE_KUBELET_CONFIG } from '../components/standalone-kubelet';

/** Props of the standalone kubelet host files. */
export type StandaloneKubeletProps = StandaloneKubeletOptions;

/** The host files of a standalone kubelet (no API server): those of standaloneKubeletFiles (lib/components/standalone-kubelet.ts). */
export class StandaloneKubelet extends Construct {
  constructor(scope: Construct, id: string, props: StandaloneKubeletProps = {}) {
    super(scope, id);
    for (const f of standaloneKubeletFiles(props)) new HostFile(this, `file${f.path.replace(/\//g, '-')}`, f);
  }
}
