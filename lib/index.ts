/**
 * cdk8s-ha-control-plane: a highly available Kubernetes control plane as per-node static-pod bundles.
 *
 * @packageDocumentation
 */
export * from './spec/types';
export * from './spec/errors';
export { validateSpec, ValidationResult } from './plan/validate';
export { EXAMPLE_SPEC } from './spec/example';
export * from './plan/plan';
export * from './plan/defaults';
export * from './plan/versions';
export { argsToCommand } from './plan/args';
export * from './plan/security';
export * from './constructs/static-pod';
export * from './constructs/host-file';
export * from './constructs/node-chart';
export * from './constructs/etcd';
export * from './constructs/kube-apiserver';
export * from './constructs/kube-controller-manager';
export * from './constructs/kube-scheduler';
export * from './ha-control-plane';
export * from './constructs/api-server-hardening';
export * from './bundle/app';
export { BundleFile, writeBundles, WriteBundlesOptions } from './bundle/files';
export { writeFileAtomic } from './util/files';
export { clusterStateDir, newEncryptionKeyWarning, loadOrCreateEncryptionKey, loadOrGenerateEncryptionKey, StateKey, readEncryptionKeyFile, STATE_DIR_NAME, ENCRYPTION_KEY_FILE } from './bundle/encryption-key';
export { TARBALLS_DIR, TARBALL_MTIME, writeTarball, writeTarballs, nodePackages } from './bundle/tarball';
export { PackageEntry, nodePackage, installerScript, INSTALLER_NAME } from './bundle/package';
export { LoadedSpec, readSpec, loadSpec, readSpecFile, loadSpecFile } from './plan/load';
export { CLUSTER_SPEC_SCHEMA } from './spec/schema-check';
export { LIBRARY_VERSION, VERSION_ANNOTATION, PACKAGE_NAME } from './version';
export { preparePki, preparePkiForPlan, PreparePkiOptions, PreparedPki, PkiFile, PkiReport, IssuedCert } from './pki/prepare';
export { pkiProfile, PkiProfile, NodePkiSpec, LeafSpec, CaSpec, SharedFile, apiServerSans } from './pki/profile';
export { RBAC_MANIFEST_PATH, RBAC_APPLY_COMMAND } from './pki/rbac';
export { pkiSummary } from './pki/summary';
export { KEY_ALGORITHMS } from './plan/validate-pki';
