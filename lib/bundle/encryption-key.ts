import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SpecError } from '../spec/errors';

/** Directory (relative to the working directory, or the spec file's for the CLI) that holds cluster state. */
export const STATE_DIR_NAME = 'ha-control-plane-state';

/** Name of the encryption key file in a cluster's state directory. */
export const ENCRYPTION_KEY_FILE = 'encryption-key';

/** Bytes of a secretbox key. */
const KEY_BYTES = 32;

/** The state directory of a cluster: `<baseDir>/ha-control-plane-state/<cluster>`. */
export function clusterStateDir(baseDir: string, cluster: string): string {
  return path.join(baseDir, STATE_DIR_NAME, cluster);
}

/** True when `text` is the base64 encoding of exactly 32 bytes. The text itself never goes into a message. */
export function isEncryptionKey(text: string): boolean {
  const t = text.trim();
  return /^[A-Za-z0-9+/]{43}=$/.test(t) && Buffer.from(t, 'base64').length === KEY_BYTES;
}

/**
 * Reads a user-supplied key file: the base64 encoding of 32 bytes. Errors name the spec field and the
 * file, never its content.
 */
export function readEncryptionKeyFile(file: string, field = 'security.encryptionKeyFile'): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SpecError([{ path: field, value: file, problem: `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, fix: 'give the path of a readable key file, or omit it to use the generated key in the state directory' }]);
  }
  if (!isEncryptionKey(text)) {
    throw new SpecError([{ path: field, value: file, problem: 'does not hold the base64 encoding of a 32-byte key', fix: 'write one with: head -c 32 /dev/urandom | base64 > <file>; chmod 600 <file>' }]);
  }
  return text.trim();
}

/** An encryption key and, when it was generated now, the step that stores it. */
export interface StateKey {
  /** Base64 of the 32-byte key. */
  readonly key: string;
  /** Writes a newly generated key to the state directory (a no-op for a key that was read). */
  readonly persist: () => void;
}

/**
 * The cluster's encryption key, kept as state: read from `<stateDir>/encryption-key` when it exists,
 * otherwise generated with a CSPRNG (crypto.randomBytes) and stored there by `persist()` (file 0600,
 * created exclusively; directory 0700), which the caller runs once everything else has succeeded, so a
 * failed synth leaves no new state behind. A new key on every synth would make every existing Secret
 * unreadable.
 */
export function loadOrGenerateEncryptionKey(stateDir: string): StateKey {
  const file = path.join(stateDir, ENCRYPTION_KEY_FILE);
  if (fs.existsSync(file)) return { key: readEncryptionKeyFile(file, 'security (state file)'), persist: () => {} };
  const key = randomBytes(KEY_BYTES).toString('base64');
  const persist = () => {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(stateDir, 0o700);
    try {
      fs.writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // Another synth stored a key first; ours was used in this bundle, so it must be the same one.
      if (readEncryptionKeyFile(file, 'security (state file)') !== key) {
        throw new Error(`${file} was created by another synth while this one ran (fix: run synth again; it will use that key)`);
      }
    }
  };
  return { key, persist };
}

/** loadOrGenerateEncryptionKey, stored at once: the key of the state directory. */
export function loadOrCreateEncryptionKey(stateDir: string): string {
  const k = loadOrGenerateEncryptionKey(stateDir);
  k.persist();
  return k.key;
}
