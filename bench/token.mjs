// What kubectl pays for eksauth, measured in one run with the commands alternated so that machine noise hits all of
// them alike. It prints medians and ratios and asserts nothing: times are for people to read (tests never assert
// them). Loopback only; every loop is bounded.
//
//   1. `eksauth token` cold (cache miss: sign and store; also with a ~/.aws/config, and before the signing file's
//      code cache exists) and warm (cache hit) against `node -e 0`, and `aws eks get-token` when the aws CLI is
//      installed.
//   2. 20 `kubectl get --raw /api` calls against the loopback test API server per kubeconfig: a static bearer
//      token, a `node -e` exec plugin printing a fixed ExecCredential (the floor for any Node plugin), eksauth, and
//      `aws eks get-token`.
//   3. Peak RSS of `eksauth token`.
//   The single-file binary (dist/bin/eksauth-<os>-<arch>, `npm run build:binary`) is measured beside the Node build
//   in each part when it is built: against `node -e 0`, and in the kubectl loop against `cat` printing a fixed
//   ExecCredential, the floor for any exec plugin. With NODE_EXTRA_CA_CERTS (a CA bundle), warm runs of both builds
//   and `node -e 0` are measured again, since Node reads that bundle at every start.
//
// EKSAUTH_BENCH_RUNS sets the samples per command (default 21; at least 10).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApiServer } from '../dist/testbed/apiserver.js';

const runs = Math.max(10, Number.parseInt(process.env.EKSAUTH_BENCH_RUNS ?? '21', 10));
const KUBECTL_CALLS = 20;
const root = mkdtempSync(join(tmpdir(), 'eksauth-bench-'));
const dir = (name) => {
  const path = join(root, name);
  mkdirSync(path, { recursive: true });
  return path;
};
// The CLI runs from a copy of the build, so a rebuild while the bench runs (npm test does one) cannot disturb it.
cpSync(new URL('../dist/cli', import.meta.url), join(root, 'cli'), { recursive: true });
const cli = join(root, 'cli', 'eksauth.cjs');
const platform = `${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
const builtBinary = new URL(`../dist/bin/eksauth-${platform}`, import.meta.url);
const binary = existsSync(builtBinary) ? join(root, 'eksauth-binary') : undefined;
if (binary) cpSync(builtBinary, binary);
else process.stderr.write(`dist/bin/eksauth-${platform} is not built (npm run build:binary; Bun not installed?): measuring the Node build only\n`);
const CA_BUNDLE = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'].find((path) => existsSync(path));

// No AWS files at all, as in CI; a second home has a ~/.aws/config, as on a workstation. Nothing from the caller's
// environment leaks in (NODE_EXTRA_CA_CERTS alone adds ~35 ms to every Node start).
const bareHome = dir('bare');
const configHome = dir('with-config');
mkdirSync(join(configHome, '.aws'));
writeFileSync(join(configHome, '.aws', 'config'), '[default]\nregion = us-east-1\noutput = json\n');
const baseEnv = {
  PATH: process.env.PATH,
  HOME: bareHome,
  AWS_ACCESS_KEY_ID: 'EKSAUTHBENCHKEY00001',
  AWS_SECRET_ACCESS_KEY: 'bench-secret-key-bench-secret-key-000000',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  KUBERNETES_EXEC_INFO: '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{"interactive":false}}',
};
const hasAws = spawnSync('aws', ['--version'], { env: baseEnv }).status === 0;
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { env: baseEnv }).status === 0;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (ms) => `${ms.toFixed(1).padStart(7)} ms`;
const verdict = (value, ok) => (ok ? `${value}  met` : `${value}  MISSED`);

/**
 * Runs the commands `samples` times each, alternating, after one untimed pass; returns the wall times. Children are
 * awaited, not run with spawnSync: the test API server lives in this process and must keep answering meanwhile.
 */
async function measure(commands, samples) {
  for (const command of commands) await runOnce(command);
  const times = new Map(commands.map((c) => [c.name, []]));
  for (let i = 0; i < samples; i++) for (const command of commands) times.get(command.name).push(await runOnce(command));
  return times;
}

function runOnce({ name, file, args, env, quiet }) {
  const childArgs = typeof args === 'function' ? args() : args;
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(file, childArgs, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`${name} failed (${code}): ${stderr}`));
      else if (quiet && stderr !== '') reject(new Error(`${name} wrote to stderr: ${stderr}`));
      else resolve(ms);
    });
  });
}

// 1. eksauth token, cold and warm. A cold run is a cache miss in an existing cache directory, as when an entry has
// expired: each asks for a cluster no run has asked for before.
const token = [cli, 'token', '--cluster-name', 'bench'];
const cacheEnv = { ...baseEnv, KUBECACHEDIR: dir('cache') };
let coldRuns = 0;
const coldToken = () => [cli, 'token', '--cluster-name', `bench-cold-${coldRuns++}`];
const tokenCommands = [
  { name: 'node -e 0', file: process.execPath, args: ['-e', '0'], env: baseEnv },
  { name: 'eksauth token, warm (cache hit)', file: process.execPath, args: token, env: cacheEnv, quiet: true },
  { name: 'eksauth token, cold (cache miss)', file: process.execPath, args: coldToken, env: cacheEnv, quiet: true },
  { name: 'eksauth token, cold, ~/.aws/config', file: process.execPath, args: coldToken, env: { ...cacheEnv, HOME: configHome }, quiet: true },
  // A miss before the signing file's code cache exists (the first miss after an install or a Node upgrade).
  { name: 'eksauth token, cold, no code cache', file: process.execPath, args: coldToken, env: { ...cacheEnv, NODE_DISABLE_COMPILE_CACHE: '1' }, quiet: true },
];
const binaryToken = token.slice(1);
const binaryColdToken = () => coldToken().slice(1);
if (binary) {
  tokenCommands.push(
    { name: 'binary token, warm (cache hit)', file: binary, args: binaryToken, env: cacheEnv, quiet: true },
    { name: 'binary token, cold (cache miss)', file: binary, args: binaryColdToken, env: cacheEnv, quiet: true },
    { name: 'binary token, cold, ~/.aws/config', file: binary, args: binaryColdToken, env: { ...cacheEnv, HOME: configHome }, quiet: true },
  );
}
// What a CA bundle in NODE_EXTRA_CA_CERTS costs each build's start (Node parses it before running any code).
if (CA_BUNDLE) {
  const caEnv = (env) => ({ ...env, NODE_EXTRA_CA_CERTS: CA_BUNDLE });
  tokenCommands.push(
    { name: 'node -e 0, NODE_EXTRA_CA_CERTS', file: process.execPath, args: ['-e', '0'], env: caEnv(baseEnv) },
    { name: 'eksauth token, warm, NODE_EXTRA_CA_CERTS', file: process.execPath, args: token, env: caEnv(cacheEnv), quiet: true },
    ...(binary ? [{ name: 'binary token, warm, NODE_EXTRA_CA_CERTS', file: binary, args: binaryToken, env: caEnv(cacheEnv), quiet: true }] : []),
  );
}
if (hasAws) tokenCommands.push({ name: 'aws eks get-token', file: 'aws', args: ['eks', 'get-token', '--cluster-name', 'bench'], env: baseEnv });
const tokenTimes = await measure(tokenCommands, runs);

// 2. kubectl against the loopback test API server. It accepts the static token and any k8s-aws-v1. token without
// a network call, so the four kubeconfigs differ only in how the client gets its credential.
const STATIC_TOKEN = 'eksauth-bench-static-token';
const server = await startTestApiServer({
  authenticate: async (bearer) => (bearer === STATIC_TOKEN || bearer.startsWith('k8s-aws-v1.') ? { username: 'bench' } : undefined),
});
const FIXED_CREDENTIAL = JSON.stringify({
  kind: 'ExecCredential',
  apiVersion: 'client.authentication.k8s.io/v1beta1',
  spec: {},
  status: { expirationTimestamp: '2099-01-01T00:00:00Z', token: 'k8s-aws-v1.bench-node-floor' },
});
const credentialFile = join(root, 'credential.json');
writeFileSync(credentialFile, FIXED_CREDENTIAL);
const exec = (command, args) => ({ exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command, args, interactiveMode: 'Never' } });
const kubeconfigUsers = [
  ['static bearer token', { token: STATIC_TOKEN }],
  ['node -e exec plugin (Node floor)', exec(process.execPath, ['-e', `process.stdout.write(${JSON.stringify(FIXED_CREDENTIAL)})`])],
  ['cat of a fixed ExecCredential (exec floor)', exec('cat', [credentialFile])],
  ['eksauth token', exec(process.execPath, [cli, 'token', '--cluster-name', 'bench', '--region', 'us-east-1'])],
  ...(binary ? [['eksauth binary token', exec(binary, ['token', '--cluster-name', 'bench', '--region', 'us-east-1'])]] : []),
  ...(hasAws ? [['aws eks get-token', exec('aws', ['--region', 'us-east-1', 'eks', 'get-token', '--cluster-name', 'bench', '--output', 'json'])]] : []),
];
const kubectlCommands = kubeconfigUsers.map(([name, user], i) => {
  const path = join(dir('kubeconfigs'), `kubeconfig-${i}.json`);
  writeFileSync(path, JSON.stringify(kubeconfig(user)), { mode: 0o600 });
  return { name, file: 'kubectl', args: ['--kubeconfig', path, 'get', '--raw', '/api'], env: { ...baseEnv, KUBECACHEDIR: dir('cache-kubectl') } };
});
const kubectlTimes = hasKubectl ? await measure(kubectlCommands, KUBECTL_CALLS) : new Map();
await server.close();

function kubeconfig(user) {
  const cluster = { server: server.url, 'certificate-authority-data': Buffer.from(server.caPem).toString('base64') };
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'bench', cluster }],
    users: [{ name: 'bench', user }],
    contexts: [{ name: 'bench', context: { cluster: 'bench', user: 'bench' } }],
    'current-context': 'bench',
  };
}

// 3. Peak RSS: the child's own maxRSS at exit, written by a preloaded one-liner to a file (never to its stdout/stderr).
const rssFile = join(root, 'rss');
writeFileSync(join(root, 'rss.cjs'), `process.on('exit', () => require('fs').appendFileSync(${JSON.stringify(rssFile)}, process.resourceUsage().maxRSS + '\\n'));`);
const rssOf = (args, env) => {
  rmSync(rssFile, { force: true });
  for (let i = 0; i < 5; i++) {
    const result = spawnSync(process.execPath, ['-r', join(root, 'rss.cjs'), ...(typeof args === 'function' ? args() : args)], { env, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`peak RSS run failed: ${result.stderr}`);
  }
  return median(readFileSync(rssFile, 'utf8').trim().split('\n').map(Number)) / 1024;
};
// The binary is no Node process: its peak RSS is what GNU time reports for it, when GNU time is installed.
const GNU_TIME = '/usr/bin/time';
const binaryRssOf = (args, env) => {
  const values = [];
  for (let i = 0; i < 5; i++) {
    const result = spawnSync(GNU_TIME, ['-f', '%M', binary, ...(typeof args === 'function' ? args() : args)], { env, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`peak RSS run failed: ${result.stderr}`);
    values.push(Number(result.stderr.trim().split('\n').pop()));
  }
  return median(values) / 1024;
};
const rss = [
  ['node -e 0', rssOf(['-e', '0'], baseEnv)],
  ['eksauth token, warm', rssOf(token, cacheEnv)],
  ['eksauth token, cold', rssOf(coldToken, cacheEnv)],
  ...(binary && existsSync(GNU_TIME)
    ? [['binary token, warm', binaryRssOf(binaryToken, cacheEnv)], ['binary token, cold', binaryRssOf(binaryColdToken, cacheEnv)]]
    : []),
];
rmSync(root, { recursive: true, force: true });

// Report.
const out = (line = '') => process.stdout.write(`${line}\n`);
const tokenMedians = new Map([...tokenTimes].map(([name, values]) => [name, median(values)]));
const baseline = tokenMedians.get('node -e 0');
const warm = tokenMedians.get('eksauth token, warm (cache hit)') / baseline;
const cold = tokenMedians.get('eksauth token, cold (cache miss)') / baseline;
out(`\neksauth token: ${runs} runs each, alternated; median wall time, Node ${process.version}, ${cpus().length} CPUs`);
for (const [name, m] of tokenMedians) out(`  ${name.padEnd(38)} ${fmt(m)}   ${(m / baseline).toFixed(2)}× node -e 0`);

if (hasKubectl) {
  const loops = new Map([...kubectlTimes].map(([name, values]) => [name, { total: values.reduce((a, b) => a + b, 0), median: median(values) }]));
  const staticLoop = loops.get('static bearer token').total;
  out(`\nkubectl get --raw /api, ${KUBECTL_CALLS} calls per kubeconfig, alternated (eksauth's cache warm, as between refreshes)`);
  for (const [name, { total, median: m }] of loops) {
    out(`  ${name.padEnd(36)} ${fmt(total)} for ${KUBECTL_CALLS}   ${fmt(m)} median per call   ${(total / staticLoop).toFixed(2)}× static`);
  }
  const eksauthLoop = loops.get('eksauth token').total;
  const floorLoop = loops.get('node -e exec plugin (Node floor)').total;
  out();
  out(verdict(`kubectl loop: eksauth / Node floor = ${(eksauthLoop / floorLoop).toFixed(2)} (target ≤ 1.10)`, eksauthLoop / floorLoop <= 1.1));
  const catLoop = loops.get('cat of a fixed ExecCredential (exec floor)').total;
  const binaryLoop = loops.get('eksauth binary token')?.total;
  if (binaryLoop !== undefined) out(verdict(`kubectl loop: binary / cat floor = ${(binaryLoop / catLoop).toFixed(2)} (target ≤ 1.10)`, binaryLoop / catLoop <= 1.1));
  if (loops.has('aws eks get-token')) {
    const speedup = loops.get('aws eks get-token').total / eksauthLoop;
    out(verdict(`kubectl loop: aws CLI / eksauth = ${speedup.toFixed(2)}× (target ≥ 2.5×)`, speedup >= 2.5));
    if (binaryLoop !== undefined) {
      const binarySpeedup = loops.get('aws eks get-token').total / binaryLoop;
      out(verdict(`kubectl loop: aws CLI / binary = ${binarySpeedup.toFixed(2)}× (target ≥ 8×)`, binarySpeedup >= 8));
    }
  } else {
    out('aws CLI not found: no aws eks get-token loop');
  }
} else {
  out('\nkubectl not found: no kubectl loops');
}
out(verdict(`eksauth token warm / node -e 0 = ${warm.toFixed(2)} (target ≤ 1.10)`, warm <= 1.1));
out(verdict(`eksauth token cold / node -e 0 = ${cold.toFixed(2)} (target ≤ 1.30)`, cold <= 1.3));
if (binary) {
  const binaryWarm = tokenMedians.get('binary token, warm (cache hit)') / baseline;
  const binaryCold = tokenMedians.get('binary token, cold (cache miss)') / baseline;
  out(verdict(`binary token warm / node -e 0 = ${binaryWarm.toFixed(2)} (target ≤ 0.50)`, binaryWarm <= 0.5));
  out(verdict(`binary token cold / node -e 0 = ${binaryCold.toFixed(2)} (target ≤ 0.70)`, binaryCold <= 0.7));
}
out('\npeak RSS (maxRSS at exit, median of 5)');
for (const [name, mib] of rss) out(`  ${name.padEnd(36)} ${mib.toFixed(1).padStart(7)} MiB`);
const binaryHitRss = rss.find(([name]) => name === 'binary token, warm')?.[1];
if (binaryHitRss !== undefined) out(verdict(`binary token warm peak RSS = ${binaryHitRss.toFixed(1)} MiB (target ≤ 25)`, binaryHitRss <= 25));
