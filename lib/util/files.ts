import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a file atomically: a temporary file in the same directory (dot-prefixed, so a kubelet watching
 * the directory ignores it), fsync, chmod, then rename over the target.
 */
export function writeFileAtomic(file: string, content: string, mode: number): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    fs.writeFileSync(fd, content);
    fs.fchmodSync(fd, mode);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}

/**
 * Writes a new file (it must not exist) with exactly `mode` whatever the umask, without flushing it to
 * disk: for files in a directory no reader sees until it is complete (the bundles' staging directory),
 * which can be made again from the spec and its state.
 */
export function writeNewFile(file: string, content: string, mode: number): void {
  const fd = fs.openSync(file, 'wx', mode);
  try {
    fs.writeFileSync(fd, content);
    fs.fchmodSync(fd, mode);
  } finally {
    fs.closeSync(fd);
  }
}
