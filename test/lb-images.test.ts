/**
 * One source of truth for the LB tier's images and the daemons the configs are checked with:
 * - every default image in LB_IMAGES has the same major.minor as the daemon of the Debian unstable
 *   line pinned in scripts/lb-daemons.txt, which test/lb-checkers.test.ts runs on every generated
 *   config (and which reports that exact version there);
 * - images/keepalived/Containerfile, shipped in the npm package, builds the default keepalived image:
 *   its version argument is the tag's, it installs every program the generated check script runs, and
 *   its CMD is the static pod's command;
 * - the README's Images table says the same.
 * Pure file reads: needs no root and no network.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { parse } from 'yaml';
import { LB_IMAGES } from '../lib/plan/lb-plan';
import { REPO_ROOT } from './harness/binaries';
import { LB_DAEMONS, LbDaemon, majorMinor, pinnedDaemonVersions, pinnedDebs } from './harness/lb-daemons';
import { haSpec, render } from './util';

const CONTAINERFILE = join(REPO_ROOT, 'images', 'keepalived', 'Containerfile');

/** The version in an image reference's tag: "docker.io/library/haproxy:3.2.26-alpine" → "3.2.26". */
function tagVersion(image: string): string {
  const m = /:(\d+\.\d+\.\d+)(?:-[a-z0-9.]+)?$/.exec(image);
  if (!m) throw new Error(`${image} has no X.Y.Z version tag`);
  return m[1];
}

/** The instruction lines of a Containerfile, continuation lines joined. */
function instructions(text: string): string[] {
  return text.replace(/\\\n/g, ' ').split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
}

/** The programs a generated shell script runs: its interpreter and each command line's first word. */
function programsOf(script: string): string[] {
  const lines = script.split('\n');
  const programs = [lines[0].replace(/^#!\s*/, '').split(/\s+/)[0]];
  for (const l of lines.slice(1)) {
    if (l.trim() === '' || l.trimStart().startsWith('#')) continue;
    const words = l.trim().split(/\s+/);
    programs.push(words[0] === 'exec' ? words[1] : words[0]);
  }
  return programs.map((p) => p.replace(/^.*\//, ''));
}

describe('default images and the tested daemons', () => {
  test('scripts/lb-daemons.txt pins haproxy, nginx with its stream module, and keepalived', () => {
    const names = pinnedDebs().map((d) => d.name);
    for (const n of ['haproxy', 'nginx', 'libnginx-mod-stream', 'keepalived', 'libc6']) expect(names).toContain(n);
    const debs = pinnedDebs();
    // The stream module is the one built for that nginx.
    expect(debs.find((d) => d.name === 'libnginx-mod-stream')!.version).toBe(debs.find((d) => d.name === 'nginx')!.version);
  });

  test.each(LB_DAEMONS.map((d) => [d] as const))('%s: the default image is on the major.minor the configs are checked with', (d: LbDaemon) => {
    const image = LB_IMAGES[d];
    expect({ image, line: majorMinor(tagVersion(image)) }).toEqual({ image, line: majorMinor(pinnedDaemonVersions()[d]) });
  });

  test('haproxy and nginx default to their official images; keepalived to the one this package builds', () => {
    expect(LB_IMAGES.haproxy).toMatch(/^docker\.io\/library\/haproxy:\d+\.\d+\.\d+-alpine$/);
    expect(LB_IMAGES.nginx).toMatch(/^docker\.io\/library\/nginx:\d+\.\d+\.\d+-alpine$/);
    expect(LB_IMAGES.keepalived).toMatch(/^localhost\/keepalived:\d+\.\d+\.\d+$/);
  });
});

test('the README\'s Images table names the default images and the versions the configs are checked with', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n### Images\n'), readme.indexOf('\n## ', readme.indexOf('\n### Images\n')));
  const rows = section.split('\n').filter((l) => LB_DAEMONS.some((d) => l.startsWith(`| ${d} `)));
  expect(rows.map((r) => r.split(' ')[1])).toEqual([...LB_DAEMONS]);
  const pinned = pinnedDaemonVersions();
  for (const [i, d] of LB_DAEMONS.entries()) {
    expect(rows[i]).toContain(`\`${LB_IMAGES[d]}\``);
    expect(rows[i]).toContain(`${d} ${pinned[d]} `);
  }
});

describe('images/keepalived/Containerfile', () => {
  const text = readFileSync(CONTAINERFILE, 'utf8');
  const lines = instructions(text);

  test('builds from a maintained Debian release, its keepalived on the default tag\'s version', () => {
    expect(lines.filter((l) => /^FROM /.test(l))).toEqual(['FROM docker.io/library/debian:trixie-slim']);
    expect(lines).toContain(`ARG KEEPALIVED_VERSION=${tagVersion(LB_IMAGES.keepalived)}`);
    // The build checks the installed keepalived against that argument.
    expect(text).toMatch(/keepalived --version[^\n]*\n[^\n]*"\$have" != "\$KEEPALIVED_VERSION"/);
    // The build instructions in its header name the default image.
    expect(text).toContain(`podman build -t ${LB_IMAGES.keepalived} `);
  });

  test('installs keepalived and every program the generated check script runs', () => {
    const install = lines.find((l) => /apt-get install/.test(l));
    expect(install).toBeDefined();
    const packages = /apt-get install -y --no-install-recommends ([a-z0-9 .+-]+?)(?:\s+&&|$)/.exec(install!)?.[1].split(/\s+/);
    expect(packages).toContain('keepalived');
    // The check scripts of both kinds: the proxy's (haproxy) and the API server's (vip-only).
    const scripts = [haSpec(), haSpec({ controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 }, loadBalancer: { type: 'vip-only' } })]
      .map((s) => render(s).get('master-1')!.get('etc/keepalived/check_apiserver.sh')!.content);
    expect(new Set(scripts).size).toBe(2);
    const programs = [...new Set(scripts.flatMap((s) => programsOf(s)))];
    expect(programs).toEqual(['sh', 'curl']);
    // sh is Debian's essential dash; everything else must be installed.
    for (const p of programs.filter((x) => x !== 'sh')) expect(packages).toContain(p);
  });

  test('its CMD is the command of the generated keepalived static pod', () => {
    const manifest = parse(render(haSpec()).get('master-1')!.get('etc/kubernetes/manifests/keepalived.yaml')!.content);
    const cmd = lines.find((l) => /^CMD /.test(l));
    expect(JSON.parse(cmd!.slice(4))).toEqual(manifest.spec.containers[0].command);
  });

  test('is in the npm package', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
    expect(pkg.files).toContain('images');
  });
});
