// Load test of `eksauth server` over loopback HTTPS: TokenReviews at a fixed concurrency, for cache hits (tokens
// already verified) and cache misses (every token new, so every review asks the STS emulator), each compared with a
// bare node:https server that answers a fixed TokenReview, measured in the same run. Also the server's peak RSS.
//
// Everything runs as it would in production: the real CLI in its own process (with the aws-auth ConfigMap informer
// on a test API server and the mapping file), the emulator in another. Bounded: a fixed number of reviews per phase,
// and the whole run is abandoned after EKSAUTH_BENCH_LIMIT_S seconds. Exits non-zero when a target is missed.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeToken, presignGetCallerIdentity, resolveStsEndpoint } from '../dist/lib/index.js';
import { startTestApiServer } from '../dist/lib/testbed/apiserver.js';

const REVIEWS = Number.parseInt(process.env.EKSAUTH_BENCH_REVIEWS ?? '10000', 10);
const CONCURRENCY = Number.parseInt(process.env.EKSAUTH_BENCH_CONCURRENCY ?? '100', 10);
const LIMIT_S = Number.parseInt(process.env.EKSAUTH_BENCH_LIMIT_S ?? '300', 10);
const TARGETS = { hitRatio: 0.5, rssMiB: 150 };
const CLUSTER = 'bench-cluster';
const ACCOUNT = '111122223333';
// Distinct tokens for the misses: one per identity and signing second (SigV4 is deterministic within a second).
const IDENTITIES = 100;
const SECONDS = Math.ceil(REVIEWS / IDENTITIES);

const cli = new URL('../dist/cli/eksauth.cjs', import.meta.url).pathname;
const work = process.env.EKSAUTH_BENCH_SNAPSHOT ?? mkdtempSync(join(tmpdir(), 'eksauth-bench-server-'));
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
  if (!process.env.EKSAUTH_BENCH_SNAPSHOT) rmSync(work, { recursive: true, force: true });
}

/** Starts a child and resolves with it and the first stdout line matching `ready` (at once when `ready` is null). */
function startChild(args, ready, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH, HOME: work, AWS_EC2_METADATA_DISABLED: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    let err = '';
    const onData = (chunk) => {
      out += chunk.toString('utf8');
      const match = ready.exec(out);
      if (match) {
        child.stdout.off('data', onData);
        child.stdout.resume(); // keep draining: a child blocked on a full pipe would skew the numbers
        resolve({ child, match });
      }
    };
    if (ready === null) {
      child.stdout.resume();
      resolve({ child });
    } else {
      child.stdout.on('data', onData);
    }
    child.stderr.on('data', (chunk) => { err += chunk.toString('utf8'); });
    child.once('exit', (code) => reject(new Error(`${args.slice(1, 3).join(' ')} exited ${code}: ${err || out}`)));
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

/** `count` POSTs of TokenReviews for `tokens` (cycled), `CONCURRENCY` at a time on kept-alive connections. */
async function load(url, ca, tokens, count) {
  const agent = new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca });
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
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort();
  const at = (q) => latencies[Math.min(count - 1, Math.floor(q * count))];
  return { rps: count / seconds, p50: at(0.5), p99: at(0.99), errors };
}

function post(url, agent, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Peak resident set size of a process, from /proc (Linux). */
function peakRssMiB(pid) {
  try {
    const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) / 1024;
  } catch {
    return undefined;
  }
}

/** Polls `/readyz` (the server writes its certificate first) and returns the certificate to trust. */
async function waitUntilReady(url, certPath) {
  for (;;) {
    try {
      const ca = readFileSync(certPath, 'utf8');
      const status = await new Promise((resolve, reject) => https.get(url, { ca }, (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject));
      if (status === 200) return ca;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function metric(url, ca, pattern) {
  const text = await new Promise((resolve, reject) => {
    https.get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
  return Number(pattern.exec(text)?.[1] ?? 0);
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

try {
  const users = Array.from({ length: IDENTITIES }, (_, i) => identity(i));
  const emulatorConfig = join(work, 'identities.json');
  writeFileSync(emulatorConfig, JSON.stringify({ identities: users }));
  const { match: emulatorUrl } = await startChild([cli, 'emulator', '--config', emulatorConfig], /listening on (http:\/\/127\.0\.0\.1:\d+)/);

  // The aws-auth ConfigMap maps the account (every bench user); the file maps nobody.
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
  writeFileSync(mappingFile, process.env.EKSAUTH_BENCH_BACKENDS === 'MountedFile' ? 'mapAccounts: ["111122223333"]\n' : '');

  const port = await freePort();
  const stateDir = join(work, 'state');
  const { child: server } = await startChild([
    cli, 'server', '-i', CLUSTER, '--port', String(port), '--ops-port', 'off', '--state-dir', stateDir,
    '--backend-mode', process.env.EKSAUTH_BENCH_BACKENDS ?? 'EKSConfigMap,MountedFile', '--kubeconfig', apiKubeconfig, '--mapping-file', mappingFile,
    '--sts-endpoint', emulatorUrl[1], '--cache-ttl', '5m', ...(process.env.EKSAUTH_BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean),
  ], null, process.env.EKSAUTH_BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.EKSAUTH_BENCH_NODE_OPTIONS } : {});
  const ca = await Promise.race([
    waitUntilReady(`https://127.0.0.1:${port}/readyz`, join(stateDir, 'cert.pem')),
    new Promise((_, reject) => server.once('exit', (code) => reject(new Error(`eksauth server exited ${code} before it was ready`)))),
  ]);
  const url = `https://127.0.0.1:${port}/authenticate`;
  const { child: bareServer, match: barePort } = await startChild(['--input-type=module', '-e', BARE_SERVER], /listening on (\d+)/, {
    CERT: join(stateDir, 'cert.pem'), KEY: join(stateDir, 'key.pem'),
  });
  const bareUrl = `https://127.0.0.1:${barePort[1]}/authenticate`;

  process.stdout.write(`minting ${IDENTITIES * SECONDS + CONCURRENCY} tokens…\n`);
  const hitTokens = await mintTokens(users, 1, 0);
  const missTokens = await mintTokens(users, SECONDS, 5);

  // Warm-up: connections, JIT, and the tokens the hit phase reuses (misses here, hits from then on).
  await load(bareUrl, ca, hitTokens, 2_000);
  const warm = await load(url, ca, hitTokens, hitTokens.length);
  if (warm.errors.length > 0) fail(`warm-up reviews failed: ${warm.errors.slice(0, 3).join(', ')}`);
  await load(url, ca, hitTokens, 2_000);

  const hitsBefore = await metric(`https://127.0.0.1:${port}/metrics`, ca, /eksauth_review_cache_lookups_total\{result="hit"\} (\d+)/);
  const bare = await load(bareUrl, ca, hitTokens, REVIEWS);
  const rssIdle = peakRssMiB(server.pid);
  const hits = await load(url, ca, hitTokens, REVIEWS);
  const rssHits = peakRssMiB(server.pid);
  const misses = await load(url, ca, missTokens, REVIEWS);
  if (process.env.EKSAUTH_BENCH_SNAPSHOT) {
    server.kill('SIGUSR2');
    await new Promise((resolve) => setTimeout(resolve, 8000));
  }
  if (process.env.EKSAUTH_BENCH_DEBUG) {
    process.stdout.write(`peak RSS after warm-up ${rssIdle}, after hits ${rssHits}; bare server ${peakRssMiB(bareServer.pid)}\n`);
    const text = await new Promise((resolve) => https.get(`https://127.0.0.1:${port}/metrics`, { ca }, (res) => { let b = ''; res.on('data', (c) => { b += c; }); res.on('end', () => resolve(b)); }));
    process.stdout.write(text.split('\n').filter((l) => /heap_space_size_(total|used)_bytes\{space="(new|old|code|large_object)"|resident|external_memory|heap_size_(total|used)/.test(l) && !l.startsWith('#')).join('\n') + '\n');
  }
  const hitsAfter = await metric(`https://127.0.0.1:${port}/metrics`, ca, /eksauth_review_cache_lookups_total\{result="hit"\} (\d+)/);
  const rss = peakRssMiB(server.pid);
  await api.close();

  const row = (name, r) => {
    const ratio = (value, base) => `${(value / base).toFixed(2)}×`;
    return `| ${name} | ${Math.round(r.rps)} (${ratio(r.rps, bare.rps)}) | ${r.p50.toFixed(2)} ms (${ratio(r.p50, bare.p50)}) | ${r.p99.toFixed(2)} ms (${ratio(r.p99, bare.p99)}) | ${r.errors.length} |`;
  };
  const lines = [
    `${REVIEWS} reviews per row at concurrency ${CONCURRENCY}, loopback HTTPS, Node ${process.version}; ratios against the bare server`,
    '',
    '| server | reviews/s | p50 | p99 | errors |',
    '|---|---|---|---|---|',
    row('bare node:https, fixed TokenReview', bare),
    row('eksauth server, cache hits', hits),
    row('eksauth server, cache misses (STS emulator)', misses),
    '',
    `cache hits counted by the server during these rows: ${hitsAfter - hitsBefore}`,
    `eksauth server peak RSS: ${rss === undefined ? 'unknown (no /proc)' : `${rss.toFixed(1)} MiB`}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n\n`);

  const problems = [];
  if (hits.rps / bare.rps < TARGETS.hitRatio) problems.push(`cache hits at ${(hits.rps / bare.rps).toFixed(2)}× the bare server, target ≥ ${TARGETS.hitRatio}×`);
  for (const [name, r] of [['bare', bare], ['hits', hits], ['misses', misses]]) {
    if (r.errors.length > 0) problems.push(`${r.errors.length} ${name} reviews failed (${[...new Set(r.errors)].slice(0, 3).join(', ')})`);
  }
  if (hitsAfter - hitsBefore < REVIEWS) problems.push(`only ${hitsAfter - hitsBefore} of the ${REVIEWS} hit-row reviews were cache hits`);
  if (rss !== undefined && rss > TARGETS.rssMiB) problems.push(`peak RSS ${rss.toFixed(1)} MiB, target ≤ ${TARGETS.rssMiB} MiB`);
  process.stdout.write(problems.length === 0
    ? `targets met: cache hits ≥ ${TARGETS.hitRatio}× bare, no errors, RSS ≤ ${TARGETS.rssMiB} MiB\n`
    : `targets missed:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  cleanUp();
  process.exitCode = problems.length === 0 ? 0 : 1;
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
