/**
 * Pod fields a static pod cannot use: the kubelet refuses static pods that reference API objects (by
 * default from 1.34, always from 1.37) and the API server refuses their mirror pods on every minor. The
 * spec has no such fields; when a user writes one (copied from a Deployment, say), the schema check
 * explains why instead of saying only "is not a known field", with the reason of the spec's minor
 * (`reason`, from the version table: lib/plan/validate.ts apiReferenceReason).
 */

/** Why a field is refused, and what to do instead. */
interface Refused {
  readonly problem: string;
  readonly fix: string;
}

const componentField = (what: string) => (reason: string): Refused => ({
  problem: `references ${what}, which a static pod cannot use: ${reason}`,
  fix: 'put the data in a host file and mount it with extraVolumes (hostPath), or use literal extraEnvs',
});
const volumeSource = (src: string) => (reason: string): Refused => ({
  problem: `is a ${src} volume, which a static pod cannot use: ${reason}`,
  fix: 'write the content to a host file and use hostPath, or use emptyDir',
});
const envSource = (kind: string) => (reason: string): Refused => ({
  problem: `reads a ${kind}, which a static pod cannot use: ${reason}`,
  fix: 'use a literal value, or mount a host file with extraVolumes',
});

type Explain = (reason: string) => Refused;

const COMPONENT_FIELDS: Readonly<Record<string, Explain>> = {
  serviceAccountName: componentField('a ServiceAccount'),
  serviceAccount: componentField('a ServiceAccount'),
  imagePullSecrets: componentField('Secrets'),
  envFrom: componentField('ConfigMaps or Secrets'),
};

/** By schema definition: the Pod fields each spec object might be mistaken for. */
const REFUSED: Readonly<Record<string, Readonly<Record<string, Explain>>>> = {
  ComponentSpec: COMPONENT_FIELDS,
  ApiServerSpec: COMPONENT_FIELDS,
  LocalEtcdSpec: COMPONENT_FIELDS,
  ExtraVolume: Object.fromEntries(['secret', 'configMap', 'projected', 'persistentVolumeClaim', 'csi', 'ephemeral'].map((s) => [s, volumeSource(s)])),
  EnvVarSource: { secretKeyRef: envSource('Secret'), configMapKeyRef: envSource('ConfigMap') },
};

/**
 * The explanation of an unknown field of a spec object that a Pod would have, if it is one (see
 * SchemaChecker.check); `reason` says why a static pod cannot reference API objects on the spec's minor.
 */
export function explainStaticPodField(definition: string | undefined, field: string, reason: string): Refused | undefined {
  const byField = definition === undefined ? undefined : REFUSED[definition];
  return byField && Object.prototype.hasOwnProperty.call(byField, field) ? byField[field](reason) : undefined;
}
