/**
 * The container side of the static-pod runner (pod-runner.ts): which host binaries stand in for an
 * image (IMAGES, the one table), the kubelet's hostPath type checks, and the shell script that builds a
 * container's private filesystem (a tmpfs root holding only the image's files and the pod's volumes)
 * and execs the container's command chrooted into it.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'fs';
import { join, posix } from 'path';
import { builtVersionOf, etcdBinary, k8sBinary } from './binaries';

/** What an image provides inside the container. */
export interface ImageFs {
  /** The image reference it was made for. */
  readonly image: string;
  /** What stands in for it, for messages ("built kube-apiserver v1.37.2", "Debian's /usr/sbin/haproxy"). */
  readonly description: string;
  /** Host files bind-mounted read-only at a path of the container (the image's own binaries). */
  readonly files: readonly { readonly target: string; readonly source: string }[];
  /** Host directories bind-mounted read-only at the same path (what dynamically linked programs need). */
  readonly hostDirs: readonly string[];
  /** Files written into the container's filesystem (image content that is not a host file). */
  readonly content: readonly { readonly target: string; readonly text: string; readonly mode: number }[];
  /** Empty writable directories of the image. */
  readonly dirs: readonly string[];
  /** The image's PATH. */
  readonly path: string;
  /** The image's ENTRYPOINT, used when the container gives no command. */
  readonly entrypoint?: readonly string[];
}

const STD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The host's root-level directories a dynamically linked Debian program needs (merged /usr: /bin etc. are links). */
const DEBIAN_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib64'];

/** `pause`: sleeps until signalled, exits 0 on SIGTERM/SIGINT (as /pause does). */
const PAUSE_SH = '#!/bin/sh\ntrap \'exit 0\' TERM INT\nwhile :; do sleep 3600 & wait $!; done\n';

function k8sImage(image: string, component: string, minor: string): ImageFs {
  const version = builtVersionOf('k8s', minor);
  if (!version) throw new Error(`image ${image}: no Kubernetes ${minor} release is built by this project (tools/k8s has none)`);
  return {
    image,
    description: `built ${component} ${version}`,
    files: [{ target: `/usr/local/bin/${component}`, source: k8sBinary(component, version) }],
    hostDirs: [], content: [], dirs: [], path: STD_PATH,
  };
}

function etcdImage(image: string, line: string): ImageFs {
  if (line === '3.4') {
    // No 3.4 is built here; Debian's etcd-server is 3.4 (dynamically linked).
    return {
      image, description: 'Debian\'s etcd 3.4 (/usr/bin/etcd)',
      files: [], hostDirs: DEBIAN_DIRS, content: [], dirs: [], path: STD_PATH,
    };
  }
  const version = builtVersionOf('etcd', line);
  if (!version) throw new Error(`image ${image}: no etcd ${line} release is built by this project (tools/etcd has none)`);
  return {
    image,
    description: `built etcd ${version}`,
    files: (['etcd', 'etcdctl'] as const).map((c) => ({ target: `/usr/local/bin/${c}`, source: etcdBinary(c, version) })),
    hostDirs: [], content: [], dirs: [], path: STD_PATH,
  };
}

function debianDaemon(image: string, binary: string, extra: Partial<ImageFs> = {}): ImageFs {
  if (!existsSync(binary)) throw new Error(`image ${image} runs Debian's ${binary}, which is missing: run \`bash scripts/test-deps.sh\``);
  return {
    image,
    description: `Debian's ${binary}`,
    files: [], hostDirs: DEBIAN_DIRS, content: [], dirs: [], path: STD_PATH,
    ...extra,
  };
}

/**
 * THE image table: image reference pattern → what stands in for it. Kubernetes components run the
 * built binary of the same minor (`builtVersionOf('k8s', minor)`), etcd the built etcd of the same 3.N
 * line, the LB tier Debian's daemons, busybox and pause the host's /usr (dash as sh, iproute2's ip,
 * procps' sysctl).
 */
export interface ImageEntry {
  /** Matched against the image reference (without an @sha256 digest). */
  readonly pattern: RegExp;
  /** An image it matches, for messages. */
  readonly example: string;
  make(image: string, m: RegExpExecArray): ImageFs;
}

export const IMAGES: readonly ImageEntry[] = [
  {
    pattern: /^(?:.+\/)?(kube-apiserver|kube-controller-manager|kube-scheduler):v(\d+\.\d+)\.\d+$/,
    example: 'registry.k8s.io/kube-apiserver:v1.37.1',
    make: (image, m) => k8sImage(image, m[1], m[2]),
  },
  {
    pattern: /^(?:.+\/)?etcd:v?(3\.\d+)\.\d+(?:-\d+)?$/,
    example: 'registry.k8s.io/etcd:3.6.5-0',
    make: (image, m) => etcdImage(image, m[1]),
  },
  {
    pattern: /^(?:.+\/)?keepalived:[^/]+$/,
    example: 'localhost/keepalived:2.3.3',
    make: (image) => debianDaemon(image, '/usr/sbin/keepalived'),
  },
  {
    pattern: /^(?:.+\/)?haproxy:[^/]+$/,
    example: 'docker.io/library/haproxy:3.2.26-alpine',
    make: (image) => debianDaemon(image, '/usr/sbin/haproxy', { dirs: ['/var/lib/haproxy', '/run/haproxy'], entrypoint: ['haproxy', '-f', '/usr/local/etc/haproxy/haproxy.cfg'] }),
  },
  {
    pattern: /^(?:.+\/)?nginx:[^/]+$/,
    example: 'docker.io/library/nginx:1.30.6-alpine',
    // The official image has the stream module built in; Debian's nginx loads it from a module file
    // (/usr/lib/nginx/modules, under /usr), which the image's modules-enabled names.
    make: (image) => debianDaemon(image, '/usr/sbin/nginx', {
      content: existsSync('/etc/nginx/modules-enabled/50-mod-stream.conf')
        ? [{ target: '/etc/nginx/modules-enabled/50-mod-stream.conf', text: readFileSync('/etc/nginx/modules-enabled/50-mod-stream.conf', 'utf8'), mode: 0o644 }] : [],
      dirs: ['/var/lib/nginx', '/var/log/nginx', '/var/cache/nginx'],
      entrypoint: ['nginx', '-g', 'daemon off;'],
    }),
  },
  {
    pattern: /^(?:.+\/)?busybox:[^/]+$/,
    example: 'docker.io/library/busybox:1.36.1',
    make: (image) => ({ ...hostUsrImage(image, ['sh']), description: 'the host\'s /usr (dash as sh, iproute2 ip, procps sysctl, coreutils)' }),
  },
  {
    pattern: /^(?:.+\/)?pause:[^/]+$/,
    example: 'registry.k8s.io/pause:3.10',
    make: (image) => ({
      image, description: 'a /pause shell loop on the host\'s /usr',
      files: [], hostDirs: DEBIAN_DIRS, content: [{ target: '/pause', text: PAUSE_SH, mode: 0o755 }], dirs: [], path: STD_PATH, entrypoint: ['/pause'],
    }),
  },
];

/** The image's filesystem (`extra` entries first, then IMAGES), or an error naming the image and the images this runner knows. */
export function resolveImage(image: string, extra: readonly ImageEntry[] = []): ImageFs {
  const ref = image.replace(/@sha256:[0-9a-f]{64}$/, '');
  const table = [...extra, ...IMAGES];
  for (const entry of table) {
    const m = entry.pattern.exec(ref);
    if (m) return entry.make(image, m);
  }
  throw new Error(`image ${JSON.stringify(image)} is not known to the pod runner (known: ${table.map((e) => `${e.pattern.source} e.g. ${e.example}`).join('; ')})`);
}

/** An image whose programs are the host's /usr (as busybox here): for extra table entries. */
export function hostUsrImage(image: string, entrypoint?: readonly string[]): ImageFs {
  return { image, description: 'the host\'s /usr', files: [], hostDirs: DEBIAN_DIRS, content: [], dirs: [], path: STD_PATH, entrypoint };
}

// ---------------------------------------------------------------------------------------------------
// hostPath volumes.

/** A pod volume resolved on the node. */
export interface ResolvedVolume {
  readonly name: string;
  /** The path on the node (under the node's root), or a per-pod directory for emptyDir. */
  readonly source: string;
  readonly hostPath?: string;
  readonly type?: string;
}

/**
 * The kubelet's hostPath type check (pkg/volume/hostpath checkTypeInternal): DirectoryOrCreate makes the
 * directory (MkdirAll 0755), FileOrCreate the file (0644, the parent must exist), Directory/File/Socket/
 * CharDevice/BlockDevice must exist as such. Returns the error message the kubelet's FailedMount event
 * carries, or undefined. An unset type checks nothing; containerd's CRI then creates a missing source as
 * a directory (MkdirAll 0755) when it builds the container's mounts (see createMissingSource).
 */
export function checkHostPathType(source: string, shownPath: string, type: string | undefined): string | undefined {
  const st = (() => { try { return statSync(source); } catch { return undefined; } })();
  switch (type ?? '') {
    case '':
      return undefined;
    case 'DirectoryOrCreate':
      if (!st) {
        try { mkdirSync(source, { recursive: true, mode: 0o755 }); } catch (e) { return `mkdir ${shownPath}: ${(e as Error).message}`; }
        return undefined;
      }
      return st.isDirectory() ? undefined : `hostPath type check failed: ${shownPath} is not a directory`;
    case 'Directory':
      return st?.isDirectory() ? undefined : `hostPath type check failed: ${shownPath} is not a directory`;
    case 'FileOrCreate':
      if (!st) {
        try { writeFileSync(source, '', { flag: 'a', mode: 0o644 }); } catch (e) { return `open ${shownPath}: ${(e as Error).message}`; }
        return undefined;
      }
      return st.isFile() ? undefined : `hostPath type check failed: ${shownPath} is not a file`;
    case 'File':
      return st?.isFile() ? undefined : `hostPath type check failed: ${shownPath} is not a file`;
    case 'Socket':
      return st?.isSocket() ? undefined : `hostPath type check failed: ${shownPath} is not a socket file`;
    case 'CharDevice':
      return st?.isCharacterDevice() ? undefined : `hostPath type check failed: ${shownPath} is not a character device`;
    case 'BlockDevice':
      return st?.isBlockDevice() ? undefined : `hostPath type check failed: ${shownPath} is not a block device`;
    default:
      return `${type} is an invalid volume type`;
  }
}

/** containerd's CRI: a bind source that does not exist is created as a directory (0755) before the container starts. */
export function createMissingSource(source: string): string | undefined {
  if (existsSync(source)) return undefined;
  try { mkdirSync(source, { recursive: true, mode: 0o755 }); return undefined; } catch (e) { return `failed to mkdir ${JSON.stringify(source)}: ${(e as Error).message}`; }
}

// ---------------------------------------------------------------------------------------------------
// The container's filesystem.

/** One mount of the container: a volume at its mountPath. */
export interface ContainerMount {
  readonly source: string;
  readonly mountPath: string;
  readonly readOnly: boolean;
}

/** Everything the setup script needs. */
export interface RootfsPlan {
  /** An empty host directory; the private tmpfs root is mounted over it (inside the mount namespace only). */
  readonly rootDir: string;
  /** The minimal /etc to copy (a host directory with passwd, group, …). */
  readonly etcDir: string;
  readonly image: ImageFs;
  readonly mounts: readonly ContainerMount[];
  readonly hostname: string;
  readonly workingDir: string;
  /** The container's full environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Command and args after $(VAR) expansion. */
  readonly argv: readonly string[];
  /** securityContext.privileged: /sys and /proc/sys writable (else read-only, as runc's defaults). */
  readonly privileged: boolean;
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The shell script (run by the host's /bin/sh inside `unshare --mount --uts --propagation private`)
 * that mounts a tmpfs as the new root, puts the image's files, a fresh /tmp and /run, /dev, /proc and
 * /sys (read-only parts unless privileged), a minimal /etc and the pod's volumes into it, sets the hostname and execs the
 * command chrooted there (`unshare --root --wd`: no fork, so the container keeps the PID we hold).
 * Setup failures print a line starting with "pod-runner:" and exit 125.
 */
export function setupScript(p: RootfsPlan): string {
  const R = '"$R"';
  const L: string[] = [
    'set -u',
    'fail() { echo "pod-runner: container setup failed: $*" >&2; exit 125; }',
    'run() { "$@" || fail "$*"; }',
    `R=${q(p.rootDir)}`,
    `run mount -t tmpfs -o mode=0755 tmpfs ${R}`,
    `run mkdir -p ${R}/etc ${R}/tmp ${R}/run ${R}/var ${R}/dev ${R}/proc ${R}/sys ${R}/root`,
    `run ln -s ../run ${R}/var/run`,
    `run mount -t tmpfs -o mode=1777 tmpfs ${R}/tmp`,
    `run mount -t tmpfs -o mode=0755 tmpfs ${R}/run`,
    `run mount --rbind /dev ${R}/dev`,
    `run mount -t proc proc ${R}/proc`,
    `run mount --rbind /sys ${R}/sys`,
    // An unprivileged container gets /sys and runc's readonlyPaths of /proc read-only; a privileged one neither.
    ...(p.privileged ? [] : [
      `run mount -o remount,bind,ro ${R}/sys`,
      ...['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'].flatMap((d) => [
        `if [ -e ${R}${d} ]; then run mount --bind ${R}${d} ${R}${d}; run mount -o remount,bind,ro ${R}${d}; fi`]),
    ]),
    `run cp -a ${q(p.etcDir)}/. ${R}/etc/`,
  ];
  // Host directories (read-only); on a merged-/usr host /bin, /sbin, /lib, /lib64 are links into /usr.
  for (const d of p.image.hostDirs) {
    const st = (() => { try { return lstatSync(d); } catch { return undefined; } })();
    if (!st) continue;
    if (st.isSymbolicLink()) {
      L.push(`run ln -s ${q(readlinkSync(d))} ${R}${q(d)}`);
    } else {
      L.push(`run mkdir -p ${R}${q(d)}`, `run mount --rbind ${q(d)} ${R}${q(d)}`, `run mount -o remount,bind,ro ${R}${q(d)}`);
    }
  }
  for (const d of p.image.dirs) L.push(`run mkdir -p ${R}${q(d)}`);
  for (const f of p.image.content) {
    L.push(`run mkdir -p ${R}${q(posix.dirname(f.target))}`);
    L.push(`printf '%s' ${q(f.text)} > ${R}${q(f.target)} || fail "write ${f.target}"`, `run chmod ${f.mode.toString(8)} ${R}${q(f.target)}`);
  }
  for (const f of p.image.files) {
    L.push(`run mkdir -p ${R}${q(posix.dirname(f.target))}`, `run touch ${R}${q(f.target)}`,
      `run mount --bind ${q(f.source)} ${R}${q(f.target)}`, `run mount -o remount,bind,ro ${R}${q(f.target)}`);
  }
  // Volumes, parents before children (as the runtime sorts mounts by depth).
  const mounts = [...p.mounts].sort((a, b) => depth(a.mountPath) - depth(b.mountPath));
  for (const m of mounts) {
    const t = `${R}${q(m.mountPath)}`;
    const isDir = (() => { try { return statSync(m.source).isDirectory(); } catch { return true; } })();
    L.push(isDir ? `[ -d ${t} ] || run mkdir -p ${t}` : `[ -e ${t} ] || { run mkdir -p ${R}${q(posix.dirname(m.mountPath))}; run touch ${t}; }`);
    L.push(`run mount --rbind ${q(m.source)} ${t}`);
    if (m.readOnly) L.push(`run mount -o remount,bind,ro ${t}`);
  }
  L.push(`run hostname ${q(p.hostname)}`);
  const env = Object.entries(p.env).map(([k, v]) => q(`${k}=${v}`)).join(' ');
  L.push(`exec /usr/bin/env -i ${env} /usr/bin/unshare --root=${R} --wd=${q(p.workingDir)} -- ${p.argv.map(q).join(' ')}`);
  return L.join('\n') + '\n';
}

function depth(p: string): number {
  return posix.normalize(p).split('/').filter(Boolean).length;
}

/** Writes the minimal /etc every container gets (copied into its root, never the host's /etc). */
export function writeMinimalEtc(dir: string, hostname: string, address: string): void {
  mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {
    passwd: ['root:x:0:0:root:/root:/bin/sh', 'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin', 'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin',
      'haproxy:x:99:99::/var/lib/haproxy:/usr/sbin/nologin', 'nginx:x:101:101:nginx:/var/cache/nginx:/usr/sbin/nologin',
      'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin'].join('\n') + '\n',
    group: ['root:x:0:', 'daemon:x:1:', 'www-data:x:33:', 'haproxy:x:99:', 'nginx:x:101:', 'nogroup:x:65534:'].join('\n') + '\n',
    'nsswitch.conf': 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n',
    hosts: `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${address}\t${hostname}\n`,
    hostname: `${hostname}\n`,
    'resolv.conf': existsSync('/etc/resolv.conf') ? readFileSync('/etc/resolv.conf', 'utf8') : 'nameserver 127.0.0.1\n',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o644 });
}
