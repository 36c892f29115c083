// Tokens per second for a Node program: eksauth's createTokenProvider (cached: every call after the first; uncached:
// getToken, a fresh signature each call), memory per provider, against spawning `eksauth token --no-cache` and
// `aws eks get-token` (when the aws CLI is installed) for each token. Static keys, no network: signing is local.
// Prints figures and asserts nothing.
//
//   npm run bench:library
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenProvider, getToken } from 'eksauth';

const credentials = { accessKeyId: 'EKSAUTHBENCHKEY00001', secretAccessKey: 'eksauth/bench/not+a+real+secret/0000001' };
const options = { clusterName: 'prod', region: 'eu-west-1', credentials };
const home = mkdtempSync(join(tmpdir(), 'eksauth-bench-lib-'));
const env = {
  PATH: process.env.PATH, HOME: home, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  AWS_CONFIG_FILE: join(home, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'), AWS_EC2_METADATA_DISABLED: 'true',
};

/** Calls `fn` for about `ms` (at least `min` times) and returns calls per second. */
async function rate(fn, ms = 2000, min = 5) {
  let calls = 0;
  const start = performance.now();
  while (calls < min || performance.now() - start < ms) {
    await fn();
    calls += 1;
  }
  return calls / ((performance.now() - start) / 1000);
}

function spawnRate(command, args, runs) {
  const start = performance.now();
  for (let i = 0; i < runs; i += 1) {
    const run = spawnSync(command, args, { env, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${command} failed: ${run.stderr.trim().split('\n')[0]}`);
  }
  return runs / ((performance.now() - start) / 1000);
}

const rows = [];
const provider = createTokenProvider(options);
await provider.getToken();
rows.push(['createTokenProvider, cached', await rate(() => provider.getToken())]);
rows.push(['getToken (sign each call)', await rate(() => getToken(options))]);
rows.push(['spawn eksauth token --no-cache', spawnRate(process.execPath, [new URL('../dist/cli/eksauth.cjs', import.meta.url).pathname, 'token', '--cluster-name', 'prod', '--region', 'eu-west-1', '--no-cache'], 20)]);
if (spawnSync('aws', ['--version']).status === 0) {
  rows.push(['spawn aws eks get-token', spawnRate('aws', ['eks', 'get-token', '--cluster-name', 'prod', '--region', 'eu-west-1'], 5)]);
}

// Memory: heap held by 1000 providers, each with its token.
globalThis.gc?.();
const before = process.memoryUsage().heapUsed;
const providers = Array.from({ length: 1000 }, (_, i) => createTokenProvider({ ...options, clusterName: `c${i}` }));
await Promise.all(providers.map((p) => p.getToken()));
globalThis.gc?.();
const perProvider = (process.memoryUsage().heapUsed - before) / providers.length;

for (const [name, perSecond] of rows) console.log(`${name.padEnd(34)} ${perSecond.toFixed(perSecond < 100 ? 1 : 0).padStart(10)} tokens/s`);
console.log(`${'memory per provider (with a token)'.padEnd(34)} ${(perProvider / 1024).toFixed(1).padStart(10)} KiB${globalThis.gc ? '' : ' (run with --expose-gc for a steadier figure)'}`);
rmSync(home, { recursive: true, force: true });
