// Load test of `eksauth server` over loopback HTTPS: TokenReviews at a fixed concurrency, for cache hits (tokens
// already verified) and cache misses (every token new, so every review asks the STS emulator), each compared with a
// bare node:https server answering a fixed TokenReview, measured in the same run; and the server's peak RSS. Two
// hostile rows: misses at 150 concurrent while STS takes 1 s (review deadline 2 s), and cache hits while another
// process keeps thousands of idle TCP and TLS connections open to the webhook.
//
// The server runs as deployed: the real CLI in its own process after `eksauth server init`, with the NODE_OPTIONS of
// deploy/Dockerfile, mapping from the aws-auth ConfigMap (an informer on a test API server) and a mapping file; the
// STS emulator runs in another process. Bounded: a fixed number of reviews per row, and the run is abandoned after
// EKSAUTH_BENCH_LIMIT_S seconds. Exits non-zero when a target is missed.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveStsEndpoint } from '../dist/lib/aws/sts-endpoint.js';
import { encodeToken } from '../dist/lib/token/format.js';
import { presignGetCallerIdentity } from '../dist/lib/token/presign.js';
import { startTestApiServer } from '../dist/testbed/apiserver.js';

const REVIEWS = Number.parseInt(process.env.EKSAUTH_BENCH_REVIEWS ?? '10000', 10);
const CONCURRENCY = Number.parseInt(process.env.EKSAUTH_BENCH_CONCURRENCY ?? '100', 10);
const LIMIT_S = Number.parseInt(process.env.EKSAUTH_BENCH_LIMIT_S ?? '300', 10);
const TARGETS = { hitRatio: 0.5, rssMiB: 150 };
const SLOW_STS = { latencyMs: 1_000, concurrency: 150, reviews: 1_500 };
const REVIEW_TIMEOUT = '2s';
// Idle connections the flood keeps open (reopening each one the server closes 10 ms later), half TCP and half TLS:
// more than the server holds (maxConnections, default 512), so the flood keeps displacing itself, which costs the
// server an accept (and for TLS, a handshake) per displaced connection.
const FLOOD_CONNECTIONS = 6_000;
// What the server's connection caps allow at most: the webhook's 512, the ops listener's 32, 512 to STS and 64 of its own.
const FD_BUDGET = 512 + 32 + 512 + 64;
const CLUSTER = 'bench-cluster';
const ACCOUNT = '111122223333';
// Distinct tokens for the misses: one per identity and signing second (SigV4 is deterministic within a second).
const IDENTITIES = 100;
const SECONDS = Math.ceil(REVIEWS / IDENTITIES);

const root = new URL('..', import.meta.url);
const cli = new URL('dist/cli/eksauth.cjs', root).pathname;
const NODE_OPTIONS = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(readFileSync(new URL('deploy/Dockerfile', root), 'utf8'))?.[1] ?? '';
const work = mkdtempSync(join(tmpdir(), 'eksauth-bench-server-'));
const children = [];
const limit = setTimeout(() => fail(`the benchmark took longer than ${LIMIT_S} s`), LIMIT_S * 1000);

function fail(message) {
  process.stderr.write(`bench:server: ${message}\n`);
  cleanUp();
  process.exit(1);
}

function cleanUp() {
  clearTimeout(limit);
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}

/**
 * Starts `node ARGS`; resolves with the child and the match of `ready` on its stdout (at once when `ready` is null).
 * Rejects if it exits first. Its output keeps being drained: a child blocked on a full pipe would skew the numbers.
 */
function startChild(args, ready, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH, HOME: work, AWS_EC2_METADATA_DISABLED: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      if (ready === undefined) return;
      out += chunk.toString('utf8');
      const match = ready?.exec(out);
      if (match) {
        ready = undefined;
        resolve({ child, match });
      }
    });
    child.stderr.on('data', (chunk) => { err += chunk.toString('utf8'); });
    child.once('exit', (code) => reject(new Error(`node ${args.slice(1, 3).join(' ')} exited ${code}: ${err || out}`)));
    if (ready === null) {
      ready = undefined;
      resolve({ child, exited: new Promise((_, failed) => child.once('exit', (code) => failed(new Error(`exited ${code}: ${err}`)))) });
    }
  });
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function identity(i) {
  const n = String(i).padStart(4, '0');
  return {
    accessKeyId: `EKSAUTHBENCHUSER${n}`,
    secretAccessKey: `eksauth/bench/user/${n}/not+a+real+secret/0000`.slice(0, 40),
    arn: `arn:aws:iam::${ACCOUNT}:user/bench-${n}`,
    userId: `AIDAEKSAUTHBENCH${n}`,
  };
}

async function mintTokens(users, seconds, newestSecondsAgo) {
  const endpoint = resolveStsEndpoint({ region: 'eu-west-1' });
  const now = Date.now();
  const tokens = [];
  for (let s = 0; s < seconds; s++) {
    for (const user of users) {
      const signingDate = new Date(now - (newestSecondsAgo + s) * 1000);
      tokens.push(encodeToken(await presignGetCallerIdentity({ credentials: user, clusterId: CLUSTER, endpoint, signingDate })));
    }
  }
  return tokens;
}

/** `count` TokenReview POSTs for `tokens` (cycled), `concurrency` at a time on kept-alive connections. */
async function load(url, ca, tokens, count, concurrency = CONCURRENCY) {
  const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency, ca });
  const bodies = tokens.map((token) => JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } }));
  const latencies = new Float64Array(count);
  const errors = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const started = process.hrtime.bigint();
      const status = await post(url, agent, bodies[i % bodies.length]).catch((err) => `error ${err.code ?? err.message}`);
      latencies[i] = Number(process.hrtime.bigint() - started) / 1e6;
      if (status !== 200) errors.push(status);
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort();
  const at = (q) => latencies[Math.min(count - 1, Math.floor(q * count))];
  return { rps: count / seconds, p50: at(0.5), p99: at(0.99), errors };
}

function post(url, agent, body) {
  return new Promise((resolve, reject) => {
    const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
    const req = https.request(url, { method: 'POST', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

function get(url, ca) {
  return new Promise((resolve, reject) => {
    https.get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

/** Polls `/readyz` until the server (which wrote its certificate at init) is ready. */
async function waitUntilReady(url, ca) {
  for (;;) {
    const status = await get(url, ca).then((r) => r.status, () => 0);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Peak open file descriptors of a process while `work` runs, sampled from /proc (Linux). */
async function peakFds(pid, work) {
  let peak = 0;
  const sample = () => {
    try {
      peak = Math.max(peak, readdirSync(`/proc/${pid}/fd`).length);
    } catch {
      // no /proc
    }
  };
  const timer = setInterval(sample, 50);
  try {
    return { result: await work(), fds: peak };
  } finally {
    clearInterval(timer);
  }
}

/** Sets the emulator's injected fault (see src/emulator/faults.ts); undefined clears it. */
async function setEmulatorFault(emulatorUrl, fault) {
  const { request } = await import('node:http');
  await new Promise((resolve, reject) => {
    const req = request(`${emulatorUrl}/_emulator/fault`, { method: 'PUT' }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode < 300 ? resolve() : reject(new Error(`the emulator refused the fault: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(fault === undefined ? undefined : JSON.stringify(fault));
  });
}

// A process that keeps COUNT idle connections open to PORT, half plain TCP and half TLS (left idle after the
// handshake), reopening each one the server closes.
const FLOOD = `
import net from 'node:net';
import tls from 'node:tls';
const [port, count] = [Number(process.env.PORT), Number(process.env.COUNT)];
let open = 0;
function connect(i) {
  const socket = i % 2 === 0 ? net.connect(port, '127.0.0.1') : tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  open += 1;
  socket.on('error', () => undefined);
  socket.once('close', () => { open -= 1; setTimeout(() => connect(i), 10); });
}
for (let i = 0; i < count; i++) setTimeout(() => connect(i), Math.floor(i / 100) * 20);
setInterval(() => console.log('open ' + open), 1000);
`;

/** Peak resident set size of a process, from /proc (Linux). */
function peakRssMiB(pid) {
  try {
    const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) / 1024;
  } catch {
    return undefined;
  }
}

const BARE_SERVER = `
import https from 'node:https';
import { readFileSync } from 'node:fs';
const [cert, key] = [process.env.CERT, process.env.KEY].map((path) => readFileSync(path, 'utf8'));
const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { creationTimestamp: null }, spec: {},
  status: { authenticated: true, user: { username: 'alice', uid: 'aws-iam-authenticator:${ACCOUNT}:AIDAEXAMPLE', groups: ['developers'],
  extra: { arn: ['arn:aws:iam::${ACCOUNT}:user/alice'] } } } });
const server = https.createServer({ cert, key, minVersion: 'TLSv1.2' }, (req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 120000;
server.listen(0, '127.0.0.1', () => console.log('listening on ' + server.address().port));
`;

/** The emulator, the API server holding aws-auth, `eksauth server init`, then `eksauth server` and the bare server. */
async function startEverything(users) {
  const emulatorConfig = join(work, 'identities.json');
  writeFileSync(emulatorConfig, JSON.stringify({ identities: users }));
  const { match: emulatorUrl } = await startChild([cli, 'emulator', '--config', emulatorConfig], /listening on (http:\/\/127\.0\.0\.1:\d+)/);

  // aws-auth maps the whole account (every bench user); the mapping file holds a break-glass row nobody uses.
  const api = await startTestApiServer({ authenticate: async () => undefined, staticTokens: { 'bench-sa': { username: 'system:serviceaccount:kube-system:eksauth' } } });
  api.configMaps.put('kube-system', 'aws-auth', { mapAccounts: `- "${ACCOUNT}"\n` });
  const apiKubeconfig = join(work, 'api-kubeconfig.yaml');
  writeFileSync(apiKubeconfig, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'bench',
    clusters: [{ name: 'bench', cluster: { server: api.url, 'certificate-authority-data': Buffer.from(api.caPem).toString('base64') } }],
    users: [{ name: 'bench', user: { token: 'bench-sa' } }],
    contexts: [{ name: 'bench', context: { cluster: 'bench', user: 'bench' } }],
  }));
  const mappingFile = join(work, 'mapping.yaml');
  writeFileSync(mappingFile, 'mapRoles:\n  - rolearn: arn:aws:iam::999988887777:role/break-glass\n    username: break-glass\n    groups: [system:masters]\n');

  const port = await freePort();
  const stateDir = join(work, 'state');
  const files = ['-i', CLUSTER, '--port', String(port), '--state-dir', stateDir, '--generate-kubeconfig', join(work, 'webhook.yaml')];
  await startChild([cli, 'server', 'init', ...files], /wrote/);
  const { child: server, exited } = await startChild([
    cli, 'server', ...files, '--kubeconfig-pregenerated', '--ops-port', 'off', '--backend-mode', 'EKSConfigMap,MountedFile',
    '--kubeconfig', apiKubeconfig, '--mapping-file', mappingFile, '--sts-endpoint', emulatorUrl[1], '--cache-ttl', '5m',
    '--review-timeout', REVIEW_TIMEOUT,
  ], null, { NODE_OPTIONS });
  const ca = readFileSync(join(stateDir, 'cert.pem'), 'utf8');
  await Promise.race([waitUntilReady(`https://127.0.0.1:${port}/readyz`, ca), exited]);
  const { match: barePort } = await startChild(['--input-type=module', '-e', BARE_SERVER], /listening on (\d+)/, {
    CERT: join(stateDir, 'cert.pem'), KEY: join(stateDir, 'key.pem'),
  });
  return {
    api, server, ca, port, emulatorUrl: emulatorUrl[1],
    url: `https://127.0.0.1:${port}/authenticate`, bareUrl: `https://127.0.0.1:${barePort[1]}/authenticate`,
  };
}

function report(r) {
  const { bare } = r;
  const ratio = (value, base) => `${(value / base).toFixed(2)}×`;
  const row = (name, x) =>
    `| ${name} | ${Math.round(x.rps)} (${ratio(x.rps, bare.rps)}) | ${x.p50.toFixed(2)} ms (${ratio(x.p50, bare.p50)}) | ${x.p99.toFixed(2)} ms (${ratio(x.p99, bare.p99)}) | ${x.errors.length} |`;
  const mib = (value) => (value === undefined ? 'unknown (no /proc)' : `${value.toFixed(1)} MiB`);
  const lines = [
    `${REVIEWS} reviews per row at concurrency ${CONCURRENCY} over loopback HTTPS (the slow-STS row: ${SLOW_STS.reviews} at ${SLOW_STS.concurrency}), Node ${process.version}; ratios against the bare server`,
    '',
    '| server | reviews/s | p50 | p99 | errors |',
    '|---|---|---|---|---|',
    row('bare node:https, fixed TokenReview', bare),
    row('eksauth server, cache hits', r.hits),
    row('eksauth server, cache misses (STS emulator)', r.misses),
    row(`eksauth server, cache misses, STS answering in ${SLOW_STS.latencyMs} ms, ${SLOW_STS.concurrency} concurrent (deadline ${REVIEW_TIMEOUT})`, r.slowSts),
    row(`eksauth server, cache hits beside a flood of ${FLOOD_CONNECTIONS} idle connections`, r.flooded),
    '',
    `cache hits counted by the server in the hit row: ${r.cacheHits}`,
    `eksauth server peak RSS: ${mib(r.rss)} after the first three rows, ${mib(r.rssAfterAll)} after all (NODE_OPTIONS="${NODE_OPTIONS}", from deploy/Dockerfile)`,
    `during the flood: at most ${r.floodFds} open descriptors in the server; it closed ${r.floodClosed} connections (${r.floodReasons})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n\n`);
  const problems = [];
  if (r.hits.rps / bare.rps < TARGETS.hitRatio) problems.push(`cache hits at ${ratio(r.hits.rps, bare.rps)} the bare server's rate, target ≥ ${TARGETS.hitRatio}×`);
  if (r.floodFds > FD_BUDGET) problems.push(`${r.floodFds} descriptors open in the server during the flood, more than the caps allow (${FD_BUDGET})`);
  for (const [name, x] of [['bare', bare], ['cache hit', r.hits], ['cache miss', r.misses], ['slow-STS', r.slowSts], ['flooded', r.flooded]]) {
    if (x.errors.length > 0) problems.push(`${x.errors.length} ${name} reviews failed (${[...new Set(x.errors)].slice(0, 3).join(', ')})`);
  }
  if (r.cacheHits < REVIEWS) problems.push(`only ${r.cacheHits} of the ${REVIEWS} hit-row reviews were cache hits`);
  for (const value of [r.rss, r.rssAfterAll]) {
    if (value !== undefined && value > TARGETS.rssMiB) problems.push(`peak RSS ${value.toFixed(1)} MiB, target ≤ ${TARGETS.rssMiB} MiB`);
  }
  process.stdout.write(problems.length === 0
    ? `targets met: cache hits ≥ ${TARGETS.hitRatio}× bare, no errors (none with STS at 1 s, none beside the flood), descriptors within the caps, peak RSS ≤ ${TARGETS.rssMiB} MiB\n`
    : `targets missed:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  return problems.length === 0;
}

/** Misses at SLOW_STS.concurrency while the emulator holds every STS answer for SLOW_STS.latencyMs. */
async function slowStsRow(everything, tokens) {
  await setEmulatorFault(everything.emulatorUrl, { latencyMs: SLOW_STS.latencyMs });
  try {
    return await load(everything.url, everything.ca, tokens, SLOW_STS.reviews, SLOW_STS.concurrency);
  } finally {
    await setEmulatorFault(everything.emulatorUrl, undefined);
  }
}

/** Cache hits while a flood process keeps FLOOD_CONNECTIONS idle connections open to the webhook. */
async function floodedRow(everything, tokens) {
  const { url, ca, port, server } = everything;
  const closedCounts = async () => [...(await get(url.replace('/authenticate', '/metrics'), ca)).body
    .matchAll(/eksauth_connections_closed_total\{listener="webhook",reason="(\w+)"\} (\d+)/g)].map(([, reason, n]) => [reason, Number(n)]);
  const { child: flood } = await startChild(['--input-type=module', '-e', FLOOD], /open \d+/, { PORT: String(port), COUNT: String(FLOOD_CONNECTIONS) });
  try {
    const { result, fds } = await peakFds(server.pid, () => load(url, ca, tokens, REVIEWS));
    const reasons = await closedCounts();
    return {
      flooded: result,
      floodFds: fds,
      floodClosed: reasons.reduce((sum, [, n]) => sum + n, 0),
      floodReasons: reasons.map(([reason, n]) => `${reason} ${n}`).join(', '),
    };
  } finally {
    flood.kill('SIGTERM');
  }
}

try {
  const users = Array.from({ length: IDENTITIES }, (_, i) => identity(i));
  const everything = await startEverything(users);
  const { api, server, ca, url, bareUrl } = everything;
  const slowSeconds = Math.ceil(SLOW_STS.reviews / IDENTITIES);
  process.stdout.write(`minting ${IDENTITIES * (SECONDS + slowSeconds + 1)} tokens…\n`);
  const hitTokens = await mintTokens(users, 1, 0);
  const missTokens = await mintTokens(users, SECONDS, 5);
  const slowTokens = await mintTokens(users, slowSeconds, 5 + SECONDS);
  const hitCount = async () => Number(/eksauth_review_cache_lookups_total\{result="hit"\} (\d+)/.exec((await get(url.replace('/authenticate', '/metrics'), ca)).body)?.[1] ?? 0);

  // Warm-up: connections, JIT, and the tokens the hit row reuses (misses here, hits from then on).
  await load(bareUrl, ca, hitTokens, 2_000);
  const warm = await load(url, ca, hitTokens, 2_000);
  if (warm.errors.length > 0) fail(`warm-up reviews failed: ${warm.errors.slice(0, 3).join(', ')}`);

  const bare = await load(bareUrl, ca, hitTokens, REVIEWS);
  const hitsBefore = await hitCount();
  const hits = await load(url, ca, hitTokens, REVIEWS);
  const cacheHits = (await hitCount()) - hitsBefore;
  const misses = await load(url, ca, missTokens, REVIEWS);
  const rss = peakRssMiB(server.pid);
  const slowSts = await slowStsRow(everything, slowTokens);
  const flood = await floodedRow(everything, hitTokens);
  const rssAfterAll = peakRssMiB(server.pid);
  await api.close();
  const met = report({ bare, hits, misses, slowSts, ...flood, rss, rssAfterAll, cacheHits });
  cleanUp();
  process.exitCode = met ? 0 : 1;
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
