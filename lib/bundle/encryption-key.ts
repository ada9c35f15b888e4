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

/**
 * The cluster's encryption key, kept as state: read from `<stateDir>/encryption-key` when it exists,
 * otherwise generated once with a CSPRNG (crypto.randomBytes) and written there (file 0600, created
 * exclusively; directory 0700). A new key on every synth would make every existing Secret unreadable.
 */
export function loadOrCreateEncryptionKey(stateDir: string): string {
  const file = path.join(stateDir, ENCRYPTION_KEY_FILE);
  if (fs.existsSync(file)) return readEncryptionKeyFile(file, 'security (state file)');
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(stateDir, 0o700);
  const key = randomBytes(KEY_BYTES).toString('base64');
  try {
    fs.writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    // Another synth created it first: use that one.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return readEncryptionKeyFile(file, 'security (state file)');
    throw e;
  }
  return key;
}
