/**
 * The roots of the PKI in the state directory: the CAs and the service-account key pair. Loaded when
 * present, created when absent, an error (naming pki.dir, never showing key material) when half there
 * or unusable. A CA is never replaced.
 */
import { KeyAlgorithm } from '../spec/types';
import type { Ca, Validity } from './issue';
import { CaId, CaSpec, CERT_MODE, SECRET_MODE } from './profile';
import { PkiState, stateError } from './state';

/** Loads or creates every CA of `specs` and the service-account key pair (queued in `state`, not yet written). */
export async function loadOrCreateRoots(
  crypto: typeof import('./issue'), state: PkiState, specs: readonly CaSpec[], alg: KeyAlgorithm, validity: Validity,
): Promise<{ cas: Map<CaId, Ca>; created: string[]; loaded: string[] }> {
  const created: string[] = [];
  const loaded: string[] = [];

  // The CAs: loaded when present, created when absent, an error when half there or unusable.
  const cas = new Map<CaId, Ca>();
  await Promise.all(specs.map(async (spec) => {
    const crtPem = state.read(`${spec.id}.crt`);
    const keyPem = state.read(`${spec.id}.key`);
    if (crtPem === undefined && keyPem === undefined) {
      const ca = await crypto.createCa(spec, alg, validity);
      state.write(`${spec.id}.crt`, ca.cert.toString('pem') + '\n', CERT_MODE);
      state.write(`${spec.id}.key`, ca.key.pem, SECRET_MODE);
      cas.set(spec.id, ca);
      created.push(spec.id);
      return;
    }
    if (crtPem === undefined || keyPem === undefined) {
      const [has, lacks] = crtPem === undefined ? [`${spec.id}.key`, `${spec.id}.crt`] : [`${spec.id}.crt`, `${spec.id}.key`];
      throw stateError(state.dir, `has ${has} but no ${lacks}`, `put the matching ${lacks} beside it (a CA brought from an existing cluster needs both files), or remove ${has} to have a new CA made`);
    }
    cas.set(spec.id, await loadCa(crypto, state.dir, spec.id, crtPem, keyPem, validity.now));
    loaded.push(spec.id);
  }));

  // The service-account key pair.
  const saKey = state.read('sa.key');
  const saPub = state.read('sa.pub');
  if (saKey === undefined) {
    if (saPub !== undefined) throw stateError(state.dir, 'has sa.pub but no sa.key', 'put the matching sa.key beside it, or remove sa.pub to have a new pair made');
    const key = await crypto.generateKey(alg);
    state.write('sa.key', key.pem, SECRET_MODE);
    state.write('sa.pub', crypto.publicKeyPem(key.pem), SECRET_MODE);
    created.push('sa');
  } else {
    let pub: string;
    try {
      await crypto.importKey(saKey);
      pub = crypto.publicKeyPem(saKey);
    } catch (e) {
      throw stateError(state.dir, `sa.key ${(e as Error).message}`, 'replace sa.key with the cluster\'s service-account signing key (PEM)');
    }
    if (saPub !== undefined && saPub.trim() !== pub.trim()) throw stateError(state.dir, 'sa.pub is not the public key of sa.key', 'remove sa.pub: it is derived from sa.key');
    if (saPub === undefined) state.write('sa.pub', pub, SECRET_MODE);
    loaded.push('sa');
  }

  return { cas, created, loaded };
}

/** Loads a CA pair and checks it can sign: a CA certificate, its own key, not expired. */
async function loadCa(crypto: typeof import('./issue'), dir: string, id: CaId, crtPem: string, keyPem: string, now: Date): Promise<Ca> {
  let cert;
  try {
    cert = crypto.parseCaCert(crtPem);
  } catch (e) {
    throw stateError(dir, `${id}.crt ${(e as Error).message}`, `replace ${id}.crt with the cluster's CA certificate (PEM)`);
  }
  let key;
  try {
    key = await crypto.importKey(keyPem);
  } catch (e) {
    throw stateError(dir, `${id}.key ${(e as Error).message}`, `replace ${id}.key with the CA's private key (PEM: PKCS#1, SEC1 or PKCS#8)`);
  }
  if (!crypto.publicKeyDer(keyPem).equals(crypto.certPublicKeyDer(cert))) {
    throw stateError(dir, `${id}.key is not the key of ${id}.crt`, `put the key that belongs to ${id}.crt beside it`);
  }
  if (cert.notAfter.getTime() <= now.getTime()) {
    throw stateError(dir, `${id}.crt expired on ${cert.notAfter.toISOString()}`, 'a new CA means a new cluster trust root: rotate the CA deliberately (see README, PKI), then point pki.dir at the new one');
  }
  return { cert, key };
}

