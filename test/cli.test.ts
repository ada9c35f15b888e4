import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { CliIo, runCli } from '../lib/cli';

const root = path.resolve(__dirname, '..');
const bin = path.join(root, 'bin', 'ha-control-plane.js');
let tmp: string;

const VALID = `# yaml-language-server: $schema=../schema/cluster-spec.schema.json
name: prod
kubernetesVersion: "1.36"
controlPlaneEndpoint: { host: 10.0.0.100, port: 8443, external: true }
masters:
  - name: master-1
    address: 10.0.0.11
  - name: master-2
    address: 10.0.0.12
  - name: master-3
    address: 10.0.0.13
`;
/** Two semantic problems (the schema check passes, so both are reported). */
const INVALID = VALID.replace('address: 10.0.0.12', 'address: 10.0.0.300').replace('name: prod', 'name: Prod_1');
/** A schema problem: the semantic rules wait until it is fixed. */
const SCHEMA_INVALID = INVALID.replace('port: 8443', 'port: "8443"');

interface Result { code: number | null; stdout: string; stderr: string }

/** Runs the real command (node bin/ha-control-plane.js) in the temp directory. */
function cli(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Result {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: tmp, input: opts.input, encoding: 'utf8', env: { ...process.env, ...opts.env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(name: string, text: string): string {
  fs.writeFileSync(path.join(tmp, name), text);
  return name;
}

/** Every file under a directory: relative path → mode and content (to prove a directory unchanged). */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = fs.statSync(p);
      const rel = path.relative(dir, p);
      if (e.isDirectory()) {
        out[`${rel}/`] = (st.mode & 0o7777).toString(8);
        walk(p);
      } else {
        out[rel] = `${(st.mode & 0o7777).toString(8)} ${st.mtimeMs} ${fs.readFileSync(p, 'utf8')}`;
      }
    }
  };
  walk(dir);
  return out;
}

const NO_STACK = /^\s+at .+\(.*:\d+:\d+\)$/m;

beforeAll(() => {
  // The bin runs the compiled CLI: build once, as `npm run build` does.
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'pipe', encoding: 'utf8' });
  } catch (e) {
    throw new Error(`npx tsc -p tsconfig.json failed:\n${(e as { stdout?: string }).stdout ?? String(e)}`);
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ha-cp-cli-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('usage errors exit 2', () => {
  test.each([
    [[], 'error: no command given'],
    [['deploy'], 'error: unknown command "deploy"; the commands are synth, bundle, validate, schema, init, help'],
    [['synth'], 'error: --spec FILE is required (the cluster spec, YAML or JSON)'],
    [['validate', '--spec'], 'error: option --spec needs a value'],
    [['validate', '--spec', 'a.yaml', '--out', 'x'], 'error: unknown option --out (options of this command: --spec, --pki-dir)'],
    [['synth', '--spec', 'a.yaml', 'extra'], 'error: unexpected argument extra (options of this command: --spec, --out, --pki-dir)'],
    [['schema', '--force'], 'error: unknown option --force (options of this command: none)'],
  ])('%j', (args, message) => {
    const r = cli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`${message}\nrun "ha-control-plane help" for usage\n`);
  });

  test('help with an unknown command or two arguments is a usage error', async () => {
    for (const [args, message] of [[['help', 'deploy'], 'error: unknown command "deploy"; the commands are synth, bundle, validate, schema, init, help'], [['help', 'synth', 'init'], 'error: unexpected argument init (help takes one command name)']] as const) {
      const out: string[] = [];
      const err: string[] = [];
      expect(await runCli(args, { stdout: (t) => { out.push(t); }, stderr: (t) => { err.push(t); }, cwd: tmp, env: {} })).toBe(2);
      expect(out).toEqual([]);
      expect(err.join('')).toBe(`${message}\nrun "ha-control-plane help" for usage\n`);
    }
  });

  test('help prints the commands and exits 0', () => {
    const r = cli(['help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: ha-control-plane <command> \[options\]\n/);
    for (const c of ['synth --spec FILE [--out DIR]', 'bundle --spec FILE [--out DIR]', 'validate --spec FILE', 'schema', 'init [--out FILE] [--force]']) expect(r.stdout).toContain(c);
  });
});

describe('validate', () => {
  test('a valid spec: "valid" on stdout, exit 0', () => {
    const r = cli(['validate', '--spec', write('ok.yaml', VALID)]);
    expect(r).toEqual({ code: 0, stdout: 'valid: ok.yaml (cluster prod: 3 nodes, Kubernetes 1.36.3, stacked etcd 3.6.8)\n', stderr: '' });
  });

  test('warnings are printed with their location and do not fail', () => {
    const two = VALID.replace('  - name: master-3\n    address: 10.0.0.13\n', '');
    const r = cli(['validate', '--spec', write('two.yaml', two)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^valid: two\.yaml .*1 warning\)\n$/);
    expect(r.stderr).toBe('warning: two.yaml:6:3 masters: 2 is an even number of etcd members: it tolerates no more failures than one member fewer (fix: run 3 or 5 masters (an even count is fine only while replacing a member))\n');
  });

  test('an invalid spec: every problem with file:line:col, exit 1, no stack trace', () => {
    const r = cli(['validate', '--spec', write('bad.yaml', INVALID)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe([
      'error: bad.yaml:2:7 name: "Prod_1" is not a DNS label (fix: use lower-case letters, digits and "-", at most 63 characters, e.g. "prod")',
      'error: bad.yaml:9:14 masters[1].address: "10.0.0.300" is not an IPv4/IPv6 address (fix: use the node\'s IP address, e.g. "10.0.0.11")',
      '',
    ].join('\n'));
  });

  test('a schema problem is reported first, alone: the semantic rules run on data that passed the schema', () => {
    const r = cli(['validate', '--spec', write('bad-schema.yaml', SCHEMA_INVALID)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: bad-schema.yaml:4:49 controlPlaneEndpoint.port: "8443" is not a TCP port (fix: remove the quotes: 8443)\n');
  });

  test('a YAML syntax error', () => {
    const r = cli(['validate', '--spec', write('syntax.yaml', 'name: prod\nmasters:\n  - name: a\n   address: b\n')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: syntax\.yaml:4:\d+ \(yaml\): .+ \(fix: .+\)\n$/);
    expect(r.stderr).not.toMatch(NO_STACK);
  });

  test.each([
    ['a missing file', 'missing.yaml', 'error: (file): "missing.yaml" does not exist (fix: check the path of the spec file; `ha-control-plane init` writes an example)\n'],
    ['a directory', '.', 'error: (file): "." is a directory (fix: give the path of the spec file (YAML or JSON), e.g. cluster.yaml)\n'],
    ['a device', '/dev/zero', 'error: (file): "/dev/zero" is not a regular file (fix: give the path of the spec file (YAML or JSON), e.g. cluster.yaml)\n'],
  ])('%s: exit 1', (_name, file, message) => {
    expect(cli(['validate', '--spec', file])).toEqual({ code: 1, stdout: '', stderr: message });
  });

  test('--spec - reads standard input', () => {
    expect(cli(['validate', '--spec', '-'], { input: VALID }).code).toBe(0);
    const r = cli(['validate', '--spec', '-'], { input: INVALID });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: \(stdin\):9:14 masters\[1\]\.address: /m);
  });
});

describe('synth', () => {
  test('writes one bundle per node and prints a table', () => {
    const r = cli(['synth', '--spec', write('ok.yaml', VALID), '--out', 'out']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('wrote out/prod/ (cluster prod, Kubernetes 1.36.3, 3 nodes)');
    expect(lines[1]).toMatch(/^NODE +ROLE +FILES +PODS$/);
    expect(lines.slice(2, 5).map((l) => l.split(/ {2,}/))).toEqual(['master-1', 'master-2', 'master-3'].map((n) => [
      n, 'master', String(fs.readdirSync(path.join(tmp, 'out/prod', n), { recursive: true }).filter((f) => fs.statSync(path.join(tmp, 'out/prod', n, String(f))).isFile()).length),
      'etcd, kube-apiserver, kube-controller-manager, kube-scheduler',
    ]));
    // Then every file written, per node, host files (the kubeadm config) first, as cdk8s synth reports them.
    const onDisk = (n: string) => (fs.readdirSync(path.join(tmp, 'out/prod', n), { recursive: true }) as string[])
      .filter((f) => fs.statSync(path.join(tmp, 'out/prod', n, f)).isFile()).map((f) => `/${f}`);
    expect(lines.slice(5)).toEqual(['master-1', 'master-2', 'master-3'].flatMap((n) => [
      `out/prod/${n}/ (master: etcd, kube-apiserver, kube-controller-manager, kube-scheduler; 5 files)`,
      ...['/etc/kubernetes/kubeadm-config.yaml', ...onDisk(n).filter((f) => f.includes('/manifests/')).sort()].map((f) => `  ${f} 0600`),
    ]));
    for (const n of ['master-1', 'master-2', 'master-3']) expect(onDisk(n)).toHaveLength(5);
    const manifest = path.join(tmp, 'out/prod/master-2/etc/kubernetes/manifests/kube-apiserver.yaml');
    expect(fs.statSync(manifest).mode & 0o777).toBe(0o600);
    expect(parse(fs.readFileSync(manifest, 'utf8')).spec.containers[0].command).toContain('--advertise-address=10.0.0.12');
  });

  test('an invalid spec creates no output directory', () => {
    const r = cli(['synth', '--spec', write('bad.yaml', INVALID), '--out', 'never']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: bad\.yaml:9:14 masters\[1\]\.address: /m);
    expect(fs.existsSync(path.join(tmp, 'never'))).toBe(false);
  });

  test('an invalid spec leaves an existing output directory byte-identical', () => {
    expect(cli(['synth', '--spec', write('ok.yaml', VALID), '--out', 'keep']).code).toBe(0);
    fs.writeFileSync(path.join(tmp, 'keep', 'notes.txt'), 'mine');
    const before = tree(path.join(tmp, 'keep'));
    for (const spec of [write('bad.yaml', INVALID), write('syntax.yaml', 'name: [\n'), 'missing.yaml']) {
      expect(cli(['synth', '--spec', spec, '--out', 'keep']).code).toBe(1);
      expect(tree(path.join(tmp, 'keep'))).toEqual(before);
    }
    // A valid spec for another cluster adds its directory and keeps the rest.
    expect(cli(['synth', '--spec', write('other.yaml', VALID.replace('name: prod', 'name: other')), '--out', 'keep']).code).toBe(0);
    expect(Object.keys(tree(path.join(tmp, 'keep')))).toEqual(expect.arrayContaining([...Object.keys(before), 'other/']));
  });

  test('--out that is a file: exit 1, the file untouched', () => {
    write('afile', 'content');
    const r = cli(['synth', '--spec', write('ok.yaml', VALID), '--out', 'afile']);
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'error: --out "afile" is not a directory (fix: give a directory; it is created when missing)\n' });
    expect(fs.readFileSync(path.join(tmp, 'afile'), 'utf8')).toBe('content');
  });

  test('the listing names every file written, the LB tier\'s host files too (the init spec)', () => {
    expect(cli(['init', '--out', 'lb.yaml']).code).toBe(0);
    const r = cli(['synth', '--spec', 'lb.yaml', '--out', 'lb-out']);
    expect(r.code).toBe(0);
    const listed = new Map<string, string[]>();
    let node = '';
    for (const l of r.stdout.split('\n')) {
      const head = /^lb-out\/prod\/([^/]+)\/ \(/.exec(l);
      if (head) listed.set(node = head[1], []);
      else if (node && l.startsWith('  /')) listed.get(node)!.push(l.trim().split(' ')[0]);
    }
    expect([...listed.keys()]).toEqual(['master-1', 'master-2', 'master-3']);
    for (const [n, files] of listed) {
      const dir = path.join(tmp, 'lb-out/prod', n);
      const onDisk = (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).map((f) => `/${f}`);
      expect([...files].sort()).toEqual(onDisk.sort());
      for (const f of ['/etc/haproxy/haproxy.cfg', '/etc/keepalived/keepalived.conf', '/etc/kubernetes/kubeadm-config.yaml']) expect(files).toContain(f);
      expect(files.some((f) => /^\/etc\/keepalived\/.*check.*\.sh$/.test(f))).toBe(true);
    }
  });

  test('input the spec checks miss but the constructs refuse is still an input error, not a crash', () => {
    const clash = `${VALID}apiServer:\n  extraVolumes:\n    - { name: k8s-certs, hostPath: /srv/certs, mountPath: /srv/certs }\n`;
    const r = cli(['synth', '--spec', write('clash.yaml', clash), '--out', 'clash-out']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: apiServer\.extraVolumes\[0\]\.name: "k8s-certs" is already used by kube-apiserver's own volume "k8s-certs" .*\(fix: choose another volume name\)/);
    expect(fs.existsSync(path.join(tmp, 'clash-out'))).toBe(false);
  });
});

describe('bundle', () => {
  test('writes the node trees plus a tarball per node with SHA256SUMS, and says how to install', () => {
    const r = cli(['bundle', '--spec', write('ok.yaml', VALID), '--out', 'bundled']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('wrote bundled/prod/ (cluster prod, Kubernetes 1.36.3, 3 nodes)');
    expect(lines.slice(-3)).toEqual([
      'installable bundles: bundled/prod/bundles/<node>.tar.gz (checksums in bundled/prod/bundles/SHA256SUMS)',
      'on each node: tar -xzf <node>.tar.gz && sudo sh <node>/install.sh   (--dry-run shows the changes first)',
      'or with Ansible, node by node with health gates: ansible-playbook -i bundled/prod/ansible/inventory.yml bundled/prod/ansible/rolling-update.yml   (install.yml for a new cluster)',
    ]);
    expect(fs.readdirSync(path.join(tmp, 'bundled/prod')).sort()).toEqual(['ansible', 'bundles', 'master-1', 'master-2', 'master-3']);
    const dir = path.join(tmp, 'bundled/prod/bundles');
    expect(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' })).toBe('master-1.tar.gz: OK\nmaster-2.tar.gz: OK\nmaster-3.tar.gz: OK\n');
    const listing = execFileSync('tar', ['-tzf', 'master-3.tar.gz'], { cwd: dir, encoding: 'utf8' });
    expect(listing).toContain('master-3/files/etc/kubernetes/manifests/kube-apiserver.yaml\n');
    expect(listing).toContain('master-3/install.sh\n');
  });

  test('an invalid spec writes nothing', () => {
    const r = cli(['bundle', '--spec', write('bad.yaml', INVALID), '--out', 'never-bundled']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: bad\.yaml:9:14 masters\[1\]\.address: /m);
    expect(fs.existsSync(path.join(tmp, 'never-bundled'))).toBe(false);
  });

  test('a node named like the tarball directory is an input error, nothing written', () => {
    const r = cli(['bundle', '--spec', write('clash-bundles.yaml', VALID.replace('name: master-3', 'name: bundles')), '--out', 'clash-bundles']);
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'error: cluster prod: a node named "bundles" would share its directory with the installable bundles (fix: rename the node)\n' });
    expect(fs.existsSync(path.join(tmp, 'clash-bundles'))).toBe(false);
    // synth, which writes no tarballs, accepts that name.
    expect(cli(['synth', '--spec', 'clash-bundles.yaml', '--out', 'clash-bundles']).code).toBe(0);
  });
});

describe('schema and init', () => {
  test('schema prints the committed schema', () => {
    const r = cli(['schema']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(fs.readFileSync(path.join(root, 'schema/cluster-spec.schema.json'), 'utf8'));
  });

  test('init prints an example whose first line names the schema', () => {
    const r = cli(['init']);
    expect(r.code).toBe(0);
    const ref = /^# yaml-language-server: \$schema=(.+)\n/.exec(r.stdout)![1];
    expect(fs.existsSync(path.resolve(tmp, ref))).toBe(true);
  });

  test('init --out writes a valid spec with a relative schema path; refuses to overwrite without --force', () => {
    fs.mkdirSync(path.join(tmp, 'project'), { recursive: true });
    expect(cli(['init', '--out', 'project/cluster.yaml'])).toEqual({ code: 0, stdout: 'wrote project/cluster.yaml\n', stderr: '' });
    const text = fs.readFileSync(path.join(tmp, 'project/cluster.yaml'), 'utf8');
    const ref = /^# yaml-language-server: \$schema=(.+)\n/.exec(text)![1];
    expect(fs.existsSync(path.resolve(tmp, 'project', ref))).toBe(true);
    expect(cli(['validate', '--spec', 'project/cluster.yaml']).code).toBe(0);

    const again = cli(['init', '--out', 'project/cluster.yaml']);
    expect(again).toEqual({ code: 1, stdout: '', stderr: 'error: "project/cluster.yaml" exists (fix: pass --force to overwrite it, or choose another --out)\n' });
    fs.writeFileSync(path.join(tmp, 'project/cluster.yaml'), 'edited');
    expect(cli(['init', '--out', 'project/cluster.yaml', '--force']).code).toBe(0);
    expect(fs.readFileSync(path.join(tmp, 'project/cluster.yaml'), 'utf8')).toBe(text);
  });

  test('init --out into a missing directory: exit 1', () => {
    const r = cli(['init', '--out', 'nowhere/cluster.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot write "nowhere\/cluster\.yaml": .*\(fix: check that its directory exists and is writable\)\n$/);
  });
});

describe('main.ts (cdk8s synth) reads HA_CLUSTER_SPEC', () => {
  const main = path.join(root, 'build', 'main.js');

  test('synthesizes the named spec file', () => {
    const r = spawnSync(process.execPath, [main], { cwd: tmp, encoding: 'utf8', env: { ...process.env, HA_CLUSTER_SPEC: write('main.yaml', VALID), CDK8S_OUTDIR: 'main-out' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    // The app's report on stderr: each node and every file written (host files first).
    const files = ['etc/kubernetes/kubeadm-config.yaml', ...['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((p) => `etc/kubernetes/manifests/${p}.yaml`)];
    expect(r.stderr.trimEnd().split('\n')).toEqual(['master-1', 'master-2', 'master-3'].flatMap((n) => [
      `main-out/prod/${n}/ (master: etcd, kube-apiserver, kube-controller-manager, kube-scheduler; 5 files)`,
      ...files.map((f) => `  /${f} 0600`),
    ]));
    for (const f of files) expect(fs.existsSync(path.join(tmp, 'main-out/prod/master-2', f))).toBe(true);
  });

  test('--bundle (npm run bundle) also writes the tarballs', () => {
    const r = spawnSync(process.execPath, [main, '--bundle'], { cwd: tmp, encoding: 'utf8', env: { ...process.env, HA_CLUSTER_SPEC: write('main.yaml', VALID), CDK8S_OUTDIR: 'main-bundle' } });
    expect(r.status).toBe(0);
    expect(r.stderr.trimEnd().split('\n').pop()).toBe('main-bundle/prod/bundles/: master-1.tar.gz, master-2.tar.gz, master-3.tar.gz, SHA256SUMS');
    expect(fs.readdirSync(path.join(tmp, 'main-bundle/prod/bundles')).sort()).toEqual(['SHA256SUMS', 'master-1.tar.gz', 'master-2.tar.gz', 'master-3.tar.gz']);
  });

  test('an invalid spec file: located errors, exit 1, nothing written', () => {
    const r = spawnSync(process.execPath, [main], { cwd: tmp, encoding: 'utf8', env: { ...process.env, HA_CLUSTER_SPEC: write('bad.yaml', INVALID), CDK8S_OUTDIR: 'main-bad' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml:9:14 masters\[1\]\.address: "10\.0\.0\.300" is not an IPv4\/IPv6 address/);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(fs.existsSync(path.join(tmp, 'main-bad'))).toBe(false);
  });

  test('the same path as the CLI: its errors read as the CLI\'s, with the same exit codes', () => {
    const viaMain = spawnSync(process.execPath, [main], { cwd: tmp, encoding: 'utf8', env: { ...process.env, HA_CLUSTER_SPEC: write('bad.yaml', INVALID), CDK8S_OUTDIR: 'main-bad' } });
    const viaCli = cli(['synth', '--spec', 'bad.yaml', '--out', 'main-bad']);
    expect([viaMain.status, viaMain.stdout, viaMain.stderr]).toEqual([1, '', viaCli.stderr]);
    expect(viaMain.stderr.split('\n')).toEqual([
      'error: bad.yaml:2:7 name: "Prod_1" is not a DNS label (fix: use lower-case letters, digits and "-", at most 63 characters, e.g. "prod")',
      'error: bad.yaml:9:14 masters[1].address: "10.0.0.300" is not an IPv4/IPv6 address (fix: use the node\'s IP address, e.g. "10.0.0.11")',
      '',
    ]);
    // An output directory that is a file: a user error (exit 1, one line), not a bug with a stack trace.
    write('a-file', 'x');
    const r = spawnSync(process.execPath, [main], { cwd: tmp, encoding: 'utf8', env: { ...process.env, HA_CLUSTER_SPEC: write('main.yaml', VALID), CDK8S_OUTDIR: 'a-file' } });
    expect([r.status, r.stderr]).toEqual([1, 'error: the output directory "a-file" is not a directory (fix: give a directory; it is created when missing)\n']);
    expect(fs.readFileSync(path.join(tmp, 'a-file'), 'utf8')).toBe('x');
  });
});

describe('one command\'s usage: <command> --help, <command> -h, help <command>', () => {
  const run = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { stdout: (t) => { out.push(t); }, stderr: (t) => { err.push(t); }, cwd: tmp, env: {} });
    return { code, stdout: out.join(''), stderr: err.join('') };
  };
  const synopses: Record<string, string> = {
    synth: 'synth --spec FILE [--out DIR] [--pki-dir DIR]',
    bundle: 'bundle --spec FILE [--out DIR] [--pki-dir DIR]',
    validate: 'validate --spec FILE [--pki-dir DIR]',
    schema: 'schema',
    init: 'init [--out FILE] [--force]',
  };

  test.each(Object.keys(synopses))('%s', async (command) => {
    const forms = [[command, '--help'], [command, '-h'], ['help', command], ['--help', command]];
    const results = await Promise.all(forms.map(run));
    for (const r of results) {
      expect(r).toEqual({ code: 0, stdout: results[0].stdout, stderr: '' });
    }
    const text = results[0].stdout;
    expect(text.split('\n')[0]).toBe(`usage: ha-control-plane ${synopses[command]}`);
    // Only this command: no other command's synopsis.
    for (const other of Object.keys(synopses).filter((c) => c !== command)) expect(text).not.toContain(`ha-control-plane ${other}`);
    expect(text).toContain('Exit codes: 0 ok');
  });

  test('--help wins over the command\'s work and its other flags: nothing is read or written', async () => {
    const r = await run(['synth', '--spec', 'missing.yaml', '--out', 'never', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: ha-control-plane synth /);
    expect(fs.existsSync(path.join(tmp, 'never'))).toBe(false);
    const init = await run(['init', '--out', 'never.yaml', '-h']);
    expect(init.code).toBe(0);
    expect(fs.existsSync(path.join(tmp, 'never.yaml'))).toBe(false);
  });

  test('help help and help alone print the full usage', async () => {
    const full = await run(['help']);
    expect((await run(['help', 'help'])).stdout).toBe(full.stdout);
    expect(full.stdout).toContain('help [COMMAND], --version');
  });
});

describe('runCli in process', () => {
  const io = (over: Partial<CliIo> = {}): CliIo & { err: string[] } => {
    const err: string[] = [];
    return { stdout: () => undefined, stderr: (t) => err.push(t), cwd: tmp, env: {}, err, ...over };
  };

  test('an unexpected exception is an internal error: exit 70, message and hint, no stack', async () => {
    const x = io({ stdout: () => { throw new Error('disk on fire'); } });
    expect(await runCli(['schema'], x)).toBe(70);
    expect(x.err.join('')).toBe('internal error: disk on fire\nhint: this is a bug in cdk8s-ha-control-plane; please report it with the spec that triggers it (HA_CONTROL_PLANE_DEBUG=1 prints the stack trace)\n');
  });

  test('HA_CONTROL_PLANE_DEBUG=1 adds the stack trace', async () => {
    const x = io({ stdout: () => { throw new Error('disk on fire'); }, env: { HA_CONTROL_PLANE_DEBUG: '1' } });
    expect(await runCli(['schema'], x)).toBe(70);
    expect(x.err.join('')).toMatch(NO_STACK);
  });
});
