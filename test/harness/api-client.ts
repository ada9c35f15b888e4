/**
 * A client of the real API server for failover measurements: every `intervalMs` it creates a ConfigMap
 * (a write, acknowledged by 201 Created) and reads one back (GET), each on a fresh TLS connection through
 * the given endpoint (the VIP, or a worker's local proxy), with the admin kubeconfig's client
 * certificate. One JSON line per request to stdout; run as a lab process in a node's namespace.
 */
import { readFileSync, writeFileSync } from 'fs';
import { parse } from 'yaml';

/** One request's outcome, as the client logs it. */
export interface ApiRequest {
  /** "w" write (create ConfigMap), "r" read (GET ConfigMap). */
  readonly op: 'w' | 'r';
  /** Sequence number; a write's ConfigMap is `<prefix><seq>`. */
  readonly seq: number;
  /** Start and end, ms since the epoch. */
  readonly s: number;
  readonly e: number;
  readonly ok: boolean;
  /** HTTP status, or undefined on a connection error. */
  readonly status?: number;
  readonly err?: string;
}

const CLIENT_JS = `// API client: create + get a ConfigMap every interval, each on a fresh TLS connection.
const https = require('https');
const fs = require('fs');
const [endpoint, credsFile, prefix, intervalMs, timeoutMs] = process.argv.slice(2);
const creds = JSON.parse(fs.readFileSync(credsFile, 'utf8'));
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
let seq = 0;
let lastOk = -1;
function request(op, n, method, path, body) {
  const s = Date.now();
  let done = false;
  const finish = (ok, status, err) => { if (done) return; done = true; clearTimeout(t); out({ op, seq: n, s, e: Date.now(), ok, status, err }); if (op === 'w' && ok) lastOk = n; };
  const req = https.request('https://' + endpoint + path, { method, agent: false, ca: creds.ca, cert: creds.cert, key: creds.key, servername: creds.servername,
    headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
    res.resume();
    res.on('end', () => finish(res.statusCode === (op === 'w' ? 201 : 200), res.statusCode));
    res.on('error', (e) => finish(false, res.statusCode, e.code || e.message));
  });
  const t = setTimeout(() => { finish(false, undefined, 'TIMEOUT'); req.destroy(); }, Number(timeoutMs));
  req.on('error', (e) => finish(false, undefined, e.code || e.message));
  req.end(body);
}
function tick() {
  const n = seq++;
  request('w', n, 'POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: prefix + n }, data: { seq: String(n) } }));
  if (lastOk >= 0) request('r', lastOk, 'GET', '/api/v1/namespaces/default/configmaps/' + prefix + lastOk);
}
setInterval(tick, Number(intervalMs));
process.on('SIGTERM', () => process.exit(0));
`;

/** Writes the client program and its credentials (from a kubeconfig) into `dir`; returns their paths. */
export function writeApiClient(dir: string, kubeconfig: string): { script: string; creds: string } {
  const kc = parse(readFileSync(kubeconfig, 'utf8'));
  const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  const cluster = kc.clusters[0].cluster;
  const user = kc.users[0].user;
  const script = `${dir}/api-client.js`;
  const creds = `${dir}/api-client-creds.json`;
  writeFileSync(script, CLIENT_JS);
  writeFileSync(creds, JSON.stringify({
    ca: b64(cluster['certificate-authority-data']), cert: b64(user['client-certificate-data']), key: b64(user['client-key-data']),
    servername: new URL(cluster.server).hostname,
  }), { mode: 0o600 });
  return { script, creds };
}

/** Reads the client's log lines. */
export function readApiRequests(logFile: string): ApiRequest[] {
  return readFileSync(logFile, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ApiRequest);
}

/** What the client saw around a fault. */
export interface ApiOutcome {
  /** Requests of each kind from the fault on. */
  readonly writes: number;
  readonly reads: number;
  readonly failedWrites: number;
  readonly failedReads: number;
  /** Longest span from the fault on in which every write (read) failed: first failure's start to the next success's end. */
  readonly writeOutageMs: number;
  readonly readOutageMs: number;
  /** Errors by kind (HTTP status or connection error). */
  readonly errors: Readonly<Record<string, number>>;
}

/** Summarizes the requests that started at or after `faultAt`. */
export function summarizeApi(reqs: readonly ApiRequest[], faultAt: number): ApiOutcome {
  const after = reqs.filter((r) => r.s >= faultAt).sort((a, b) => a.s - b.s);
  const outage = (op: 'w' | 'r') => {
    let worst = 0;
    let firstFail: number | undefined;
    for (const r of after.filter((x) => x.op === op)) {
      if (!r.ok) firstFail ??= r.s;
      else if (firstFail !== undefined) {
        worst = Math.max(worst, r.e - firstFail);
        firstFail = undefined;
      }
    }
    if (firstFail !== undefined) worst = Math.max(worst, Date.now() - firstFail);
    return worst;
  };
  const errors: Record<string, number> = {};
  for (const r of after) if (!r.ok) errors[r.err ?? `HTTP${r.status}`] = (errors[r.err ?? `HTTP${r.status}`] ?? 0) + 1;
  return {
    writes: after.filter((r) => r.op === 'w').length,
    reads: after.filter((r) => r.op === 'r').length,
    failedWrites: after.filter((r) => r.op === 'w' && !r.ok).length,
    failedReads: after.filter((r) => r.op === 'r' && !r.ok).length,
    writeOutageMs: outage('w'),
    readOutageMs: outage('r'),
    errors,
  };
}
