import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a file atomically: a temporary file in the same directory (dot-prefixed, so a kubelet watching
 * the directory ignores it), fsync, chmod, then rename over the target.
 */
export function writeFileAtomic(file: string, content: string, mode: number): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  writeNewFile(tmp, content, mode, { flush: true });
  fs.renameSync(tmp, file);
}

/** Options of {@link writeNewFile}. */
export interface WriteNewFileOptions {
  /**
   * Flush the file to disk (fsync) before it is closed.
   * @default false
   */
  readonly flush?: boolean;
}

/**
 * Writes a new file (it must not exist) with exactly `mode` whatever the umask; a failed write removes
 * it. Not flushed to disk unless asked: for files in a directory no reader sees until it is complete
 * (the bundles' staging directory), which can be made again from the spec and its state.
 */
export function writeNewFile(file: string, content: string, mode: number, options: WriteNewFileOptions = {}): void {
  const fd = fs.openSync(file, 'wx', mode);
  try {
    fs.writeFileSync(fd, content);
    fs.fchmodSync(fd, mode);
    if (options.flush) fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw e;
  }
  fs.closeSync(fd);
}
