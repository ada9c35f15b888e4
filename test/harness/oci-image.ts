/**
 * OCI images without a registry: an image layout tarball (oci-layout, index.json, blobs/sha256/…) with
 * one uncompressed layer made of given host files, written from TypeScript with the npm `tar` package,
 * named exactly as a manifest names its image (the index's io.containerd.image.name and
 * org.opencontainers.image.ref.name annotations), so that `ctr -n k8s.io images import` gives the
 * container runtime the image the kubelet asks for and nothing is ever pulled.
 *
 * The pause image is a static binary compiled with gcc from the few lines of C below (sleep until
 * SIGINT/SIGTERM, reap children), at /pause as the upstream image has it.
 */
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import * as tar from 'tar';

/** One file of the image's only layer. */
export interface ImageFile {
  /** Absolute path in the image ("/usr/local/bin/etcd"). */
  readonly path: string;
  /** The host file whose content it gets. */
  readonly source: string;
  /** @default the source's mode */
  readonly mode?: number;
}

/** What to write. */
export interface OciImageProps {
  /** The full reference, as a manifest's `image:` says it ("registry.k8s.io/etcd:3.7.0-0"). */
  readonly name: string;
  readonly files: readonly ImageFile[];
  /** @default [] (the pod's command decides) */
  readonly entrypoint?: readonly string[];
  /** @default [] */
  readonly cmd?: readonly string[];
  /** @default ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] */
  readonly env?: readonly string[];
  /** Empty directories of the image (0755), absolute paths. @default [] */
  readonly dirs?: readonly string[];
}

const DEFAULT_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Writes the image layout of `props` as the tar file `out` (for `ctr images import`); returns the manifest digest. */
export async function writeOciImage(props: OciImageProps, out: string): Promise<string> {
  if (!/^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+:[\w.-]+$/.test(props.name)) throw new Error(`image name "${props.name}" is not a full reference with a tag (registry/repository:tag)`);
  const work = mkdtempSync(join(tmpdir(), 'hacp-oci-'));
  try {
    // The layer: the files under a staging root, every directory 0755, owned by root.
    const stage = join(work, 'rootfs');
    mkdirSync(stage);
    const top = new Set<string>();
    for (const f of props.files) {
      if (!f.path.startsWith('/') || f.path.includes('..')) throw new Error(`image file path "${f.path}" must be absolute and have no ".."`);
      const dest = join(stage, f.path);
      mkdirSync(dirname(dest), { recursive: true, mode: 0o755 });
      copyFileSync(f.source, dest);
      chmodSync(dest, f.mode ?? statSync(f.source).mode & 0o7777);
      top.add(f.path.split('/')[1]);
    }
    for (const d of props.dirs ?? []) {
      if (!d.startsWith('/') || d.includes('..')) throw new Error(`image directory "${d}" must be absolute and have no ".."`);
      mkdirSync(join(stage, d), { recursive: true, mode: 0o755 });
      top.add(d.split('/')[1]);
    }
    const layer = join(work, 'layer.tar');
    await tar.c({ file: layer, cwd: stage, portable: true, noMtime: true, mtime: new Date(0) }, [...top].sort());
    const layerBytes = readFileSync(layer);
    const layerDigest = sha256(layerBytes);

    const config = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: [...(props.env ?? DEFAULT_ENV)], Entrypoint: props.entrypoint ? [...props.entrypoint] : undefined, Cmd: props.cmd ? [...props.cmd] : undefined, WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
      history: [{ created_by: 'cdk8s-ha-control-plane test/harness/oci-image.ts' }],
    });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha256(config)}`, size: Buffer.byteLength(config) },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerDigest}`, size: layerBytes.length }],
    });
    const manifestDigest = `sha256:${sha256(manifest)}`;
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: manifestDigest,
        size: Buffer.byteLength(manifest),
        platform: { architecture: 'amd64', os: 'linux' },
        annotations: { 'io.containerd.image.name': props.name, 'org.opencontainers.image.ref.name': props.name },
      }],
    });

    const layout = join(work, 'layout');
    const blobs = join(layout, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    copyFileSync(layer, join(blobs, layerDigest));
    writeFileSync(join(blobs, sha256(config)), config);
    writeFileSync(join(blobs, sha256(manifest)), manifest);
    writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(join(layout, 'index.json'), index);
    await tar.c({ file: out, cwd: layout, portable: true, noMtime: true }, ['oci-layout', 'index.json', 'blobs']);
    return manifestDigest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Host programs for an image: each program at its own path, with every shared library `ldd` lists for
 * it (the dynamic loader included) at the path the loader finds it by. For Debian's daemons in a lab
 * image; the host's versions, not the upstream image's.
 */
export function hostProgramFiles(programs: readonly string[]): ImageFile[] {
  const files = new Map<string, ImageFile>();
  for (const program of programs) {
    files.set(program, { path: program, source: program });
    let out: string;
    try {
      out = execFileSync('ldd', [program], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string };
      if (/not a dynamic executable/.test(`${err.stdout ?? ''}${err.stderr ?? ''}`)) continue; // static
      throw new Error(`ldd ${program}: ${err.stderr || err.message}`);
    }
    for (const line of out.split('\n')) {
      if (/=> not found/.test(line)) throw new Error(`ldd ${program}: ${line.trim()}`);
      const m = /(\/\S+) \(0x[0-9a-f]+\)/.exec(line);
      if (m) files.set(m[1], { path: m[1], source: m[1] });
    }
  }
  return [...files.values()];
}

/** The pause process: sleeps until SIGINT or SIGTERM, reaping any child that exits meanwhile. */
const PAUSE_C = `#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
static void quit(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, 0, WNOHANG) > 0) {} }
int main(void) {
  signal(SIGINT, quit);
  signal(SIGTERM, quit);
  signal(SIGCHLD, reap);
  for (;;) pause();
}
`;

/** Compiles the pause binary (gcc -static) into `dir`; returns its path. */
export function buildPauseBinary(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const src = join(dir, 'pause.c');
  const bin = join(dir, 'pause');
  writeFileSync(src, PAUSE_C);
  try {
    execFileSync('gcc', ['-static', '-O2', '-o', bin, src], { stdio: 'pipe' });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`gcc -static could not build the pause image's binary (Debian: apt-get install gcc libc6-dev): ${err.stderr?.toString() || err.message}`);
  }
  return bin;
}

/** The pause image `name` (the sandbox image the runtime is configured with), written to `out`. */
export async function writePauseImage(name: string, out: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'hacp-pause-'));
  try {
    const bin = buildPauseBinary(dir);
    return await writeOciImage({ name, files: [{ path: '/pause', source: bin, mode: 0o755 }], entrypoint: ['/pause'] }, out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
