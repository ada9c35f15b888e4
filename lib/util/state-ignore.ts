import * as fs from 'node:fs';
import * as path from 'node:path';

/** What a state directory's `.gitignore` holds: everything in it, itself included, stays out of git. */
export const STATE_GITIGNORE = '# Cluster state of cdk8s-ha-control-plane (keys, CAs): never in version control.\n*\n';

/**
 * Writes `<dir>/.gitignore` (ignoring everything in the directory) unless one is there: `git add .` in
 * a consumer's repository then cannot commit a key, whatever its own `.gitignore` says.
 */
export function ensureStateGitignore(dir: string): void {
  const file = path.join(dir, '.gitignore');
  if (fs.existsSync(file)) return;
  try {
    fs.writeFileSync(file, STATE_GITIGNORE, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/**
 * ensureStateGitignore for a state directory that already exists (made by an older version, say), at
 * synth time: a directory that cannot be written to keeps what it has, and the synth goes on.
 */
export function ensureStateGitignoreIfExists(dir: string): void {
  if (!fs.existsSync(dir)) return;
  try {
    ensureStateGitignore(dir);
  } catch {
    // read-only or foreign directory: nothing new is stored in it by this synth either
  }
}
