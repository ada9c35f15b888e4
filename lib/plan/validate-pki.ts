import { DEFAULTS } from './defaults';
import { isInt, isObj, known, Report } from './check';
import { KeyAlgorithm } from '../spec/types';

/** The key algorithms kubeadm offers (encryptionAlgorithm), in the order the docs list them. */
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['RSA-2048', 'RSA-3072', 'RSA-4096', 'ECDSA-P256', 'ECDSA-P384'];

const FIELDS = ['mode', 'dir', 'keyAlgorithm', 'certificateValidityDays', 'caCertificateValidityDays', 'renewBeforeDays', 'backdateMinutes'];

/** Checks the `pki` settings (the state directory itself is checked when it is read, see lib/pki/prepare.ts). */
export function checkPki(err: Report, pki: unknown): void {
  if (pki === undefined) return;
  if (!isObj(pki)) {
    err('pki', pki, 'is not an object', 'write pki: { mode: "generate" } or leave it out for kubeadm-made certificates');
    return;
  }
  known(err, 'pki', pki, FIELDS);
  if (pki.mode !== undefined && pki.mode !== 'kubeadm' && pki.mode !== 'generate') {
    err('pki.mode', pki.mode, 'is not a PKI mode', 'use "kubeadm" (kubeadm makes the certificates on the nodes) or "generate"');
  }
  if (pki.dir !== undefined && (typeof pki.dir !== 'string' || pki.dir.trim() === '' || pki.dir.includes('\0'))) {
    err('pki.dir', pki.dir, 'is not a directory path', 'give a directory outside the bundle output, e.g. "ha-control-plane-state/prod/pki"');
  }
  if (pki.keyAlgorithm !== undefined && !KEY_ALGORITHMS.includes(pki.keyAlgorithm as KeyAlgorithm)) {
    err('pki.keyAlgorithm', pki.keyAlgorithm, 'is not a supported key algorithm', `use one of ${KEY_ALGORITHMS.join(', ')}`);
  }
  const days = (field: string, lo: number, fix: string): number | undefined => {
    const v = pki[field];
    if (v === undefined) return undefined;
    if (!isInt(v, lo, 100 * 365)) {
      err(`pki.${field}`, v, lo === 0 ? 'is not a whole number ≥ 0' : 'is not a whole number of days ≥ 1', fix);
      return undefined;
    }
    return v;
  };
  const leaf = days('certificateValidityDays', 1, 'use a whole number of days, e.g. 365 (kubeadm\'s default)') ?? DEFAULTS.pki.certificateValidityDays;
  const ca = days('caCertificateValidityDays', 1, 'use a whole number of days, e.g. 3650 (kubeadm\'s default)') ?? DEFAULTS.pki.caCertificateValidityDays;
  const renew = days('renewBeforeDays', 0, 'use a whole number of days, e.g. 30') ?? DEFAULTS.pki.renewBeforeDays;
  days('backdateMinutes', 0, 'use a whole number of minutes, e.g. 5 (kubeadm\'s default)');
  if (leaf > ca && (pki.certificateValidityDays !== undefined || pki.caCertificateValidityDays !== undefined)) {
    err('pki.certificateValidityDays', leaf, `is longer than the CA validity (${ca} days): the certificates would outlive their CA`, 'shorten certificateValidityDays or lengthen caCertificateValidityDays');
  }
  if (renew >= leaf && (pki.renewBeforeDays !== undefined || pki.certificateValidityDays !== undefined)) {
    err('pki.renewBeforeDays', renew, `is not shorter than the certificate validity (${leaf} days): every synth would reissue every certificate`, 'use fewer days than certificateValidityDays, e.g. 30');
  }
}
