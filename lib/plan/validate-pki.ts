import { SPEC_DEFAULTS as D } from './defaults';
import { Report } from './check';
import { KeyAlgorithm, PkiSpec } from '../spec/types';

/** The key algorithms kubeadm offers (encryptionAlgorithm), in the order the docs list them. */
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['RSA-2048', 'RSA-3072', 'RSA-4096', 'ECDSA-P256', 'ECDSA-P384'];

/**
 * Checks the `pki` settings of a spec that passed the schema check (which holds the modes, algorithms
 * and day ranges); the state directory itself is checked when it is read, see lib/pki/prepare.ts.
 */
export function checkPki(err: Report, pki: PkiSpec | undefined): void {
  if (pki === undefined) return;
  if (pki.dir !== undefined && (pki.dir.trim() === '' || pki.dir.includes('\0'))) {
    err('pki.dir', pki.dir, 'is not a directory path', 'give a directory outside the bundle output, e.g. "ha-control-plane-state/prod/pki"');
  }
  const leaf = pki.certificateValidityDays ?? D.PkiSpec.certificateValidityDays;
  const ca = pki.caCertificateValidityDays ?? D.PkiSpec.caCertificateValidityDays;
  const renew = pki.renewBeforeDays ?? D.PkiSpec.renewBeforeDays;
  if (leaf > ca && (pki.certificateValidityDays !== undefined || pki.caCertificateValidityDays !== undefined)) {
    err('pki.certificateValidityDays', leaf, `is longer than the CA validity (${ca} days): the certificates would outlive their CA`, 'shorten certificateValidityDays or lengthen caCertificateValidityDays');
  }
  if (renew >= leaf && (pki.renewBeforeDays !== undefined || pki.certificateValidityDays !== undefined)) {
    err('pki.renewBeforeDays', renew, `is not shorter than the certificate validity (${leaf} days): every synth would reissue every certificate`, 'use fewer days than certificateValidityDays, e.g. 30');
  }
}
