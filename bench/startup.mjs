// Ways to leave plain Node start-up behind, measured against the CLI as shipped: a single executable application
// (SEA) with V8's code cache, a SEA with a startup snapshot, `node --snapshot-blob`, and Node's compile cache
// (NODE_COMPILE_CACHE, Node ≥ 22.1). Each runs `eksauth token` warm (cache hit) and cold (cache miss) against
// `node -e 0`, alternated, medians printed. Not part of `npm run bench` or `npm test`: each SEA copies the node
// binary (~100 MB) and postject comes from the npm registry.
//
//   npm run bench:startup                      # on this Node
//   npx -p node@24 node bench/startup.mjs      # on Node 24, which has the compile cache
//
// The snapshot variants run a fixed `eksauth token --cluster-name bench` (main.ts parses argv when it loads, which a
// snapshot taken at build time cannot wait for), and a SEA can neither require the files beside it (the SDK's
// credential chain) nor import the other commands' ES module chunks: good enough to time static credentials, not a
// build to ship.
import { build } from 'esbuild';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { common, tokenPathModules } from '../scripts/esbuild-options.mjs';

const runs = Math.max(10, Number.parseInt(process.env.EKSAUTH_BENCH_RUNS ?? '21', 10));
const root = mkdtempSync(join(tmpdir(), 'eksauth-startup-'));
// The shipped files run from a copy, so a rebuild while the bench runs (npm test does one) cannot disturb them.
cpSync(new URL('../dist/cli', import.meta.url), join(root, 'cli'), { recursive: true });
const cli = join(root, 'cli', 'eksauth.cjs');
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const out = (line = '') => process.stdout.write(`${line}\n`);

const SNAPSHOT_ENTRY = `
import { startupSnapshot } from 'node:v8';
import 'node:crypto';
import { refreshToken } from './src/cli/token-refresh.ts';
import { runToken } from './src/cli/token.ts';
void refreshToken; // loaded into the snapshot, signing path included
startupSnapshot.setDeserializeMainFunction(() => {
  const forceRefresh = process.env.EKSAUTH_BENCH_FORCE_REFRESH === '1';
  runToken({ clusterName: 'bench', forceRefresh }).catch((err) => { process.stderr.write(String(err) + '\\n'); process.exitCode = 1; });
});
`;

async function bundle(name, options) {
  const outfile = join(root, `${name}.cjs`);
  await build({ ...common, format: 'cjs', outfile, plugins: [tokenPathModules], logLevel: 'error', ...options });
  return outfile;
}

function run(file, args, options = {}) {
  const result = spawnSync(file, args, { cwd: root, encoding: 'utf8', ...options });
  if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} failed: ${result.stderr}`);
}

function sea(name, main, config) {
  const blob = join(root, `${name}.blob`);
  const binary = join(root, name);
  writeFileSync(join(root, `${name}.json`), JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, ...config }));
  run(process.execPath, ['--experimental-sea-config', `${name}.json`]);
  copyFileSync(process.execPath, binary);
  // Under `npx -p node@24 node bench/startup.mjs` the outer npx's settings (npm_config_package) would make this npx
  // look for postject among that run's packages; it gets a clean npm environment instead.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('npm_')));
  run('npx', ['--yes', 'postject', binary, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { env });
  return binary;
}

const token = ['token', '--cluster-name', 'bench'];
const variants = [{ name: 'node dist/cli/eksauth.cjs (shipped)', file: process.execPath, args: [cli, ...token] }];
if (typeof (await import('node:module')).enableCompileCache === 'function') {
  variants.push({ name: 'shipped + NODE_COMPILE_CACHE', file: process.execPath, args: [cli, ...token], env: { NODE_COMPILE_CACHE: join(root, 'compile-cache') } });
} else {
  out(`Node ${process.version} has no compile cache (Node ≥ 22.1): run this on Node 24 to measure it`);
}
process.stderr.write('building the SEA and snapshot variants…\n');
const single = await bundle('single', { entryPoints: ['src/cli/main.ts'] });
variants.push({ name: 'SEA + code cache', file: sea('eksauth-sea', single, { useCodeCache: true }), args: token });
const snapshotEntry = await bundle('snapshot-entry', { stdin: { contents: SNAPSHOT_ENTRY, resolveDir: common.absWorkingDir, loader: 'ts' } });
variants.push({ name: 'SEA + startup snapshot', file: sea('eksauth-snap', snapshotEntry, { useSnapshot: true }), args: token });
run(process.execPath, ['--snapshot-blob', join(root, 'snap.blob'), '--build-snapshot', snapshotEntry]);
variants.push({ name: 'node --snapshot-blob', file: process.execPath, args: ['--snapshot-blob', join(root, 'snap.blob')] });

const baseEnv = {
  PATH: process.env.PATH,
  HOME: root,
  AWS_ACCESS_KEY_ID: 'EKSAUTHBENCHKEY00001',
  AWS_SECRET_ACCESS_KEY: 'bench-secret-key-bench-secret-key-000000',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
};
let caches = 0;
const cacheDir = () => {
  const dir = join(root, `cache-${caches++}`);
  mkdirSync(dir);
  return dir;
};
const commands = [{ name: 'node -e 0', file: process.execPath, args: ['-e', '0'], env: () => baseEnv }];
// Cold is a miss in a cache directory that is in use (as when an entry has expired): --force-refresh, which signs
// and stores without reading the entry; the snapshot entries, whose argv is fixed, take it from the environment.
for (const variant of variants) {
  const [warm, cold] = [cacheDir(), cacheDir()];
  const coldArgs = variant.args.at(-1) === 'bench' ? [...variant.args, '--force-refresh'] : variant.args;
  commands.push({ name: `${variant.name}, warm`, file: variant.file, args: variant.args, env: () => ({ ...baseEnv, ...variant.env, KUBECACHEDIR: warm }) });
  commands.push({
    name: `${variant.name}, cold`,
    file: variant.file,
    args: coldArgs,
    env: () => ({ ...baseEnv, ...variant.env, KUBECACHEDIR: cold, EKSAUTH_BENCH_FORCE_REFRESH: '1' }),
  });
}

function runOnce({ name, file, args, env }) {
  const childEnv = env();
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(file, args, { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 && stderr === '' ? resolve(Number(process.hrtime.bigint() - start) / 1e6) : reject(new Error(`${name}: ${code} ${stderr}`))));
  });
}

for (const command of commands) await runOnce(command);
const times = new Map(commands.map((c) => [c.name, []]));
for (let i = 0; i < runs; i++) for (const command of commands) times.get(command.name).push(await runOnce(command));
rmSync(root, { recursive: true, force: true });

const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const baseline = median(times.get('node -e 0'));
const shippedWarm = median(times.get(`${variants[0].name}, warm`));
out(`\n${runs} runs each, alternated; median wall time on Node ${process.version}`);
for (const [name, values] of times) {
  const m = median(values);
  const vsShipped = name.endsWith(', warm') ? `   ${(((shippedWarm - m) / shippedWarm) * 100).toFixed(0).padStart(3)}% off the shipped warm path` : '';
  out(`  ${name.padEnd(44)} ${m.toFixed(1).padStart(6)} ms   ${(m / baseline).toFixed(2)}× node -e 0${vsShipped}`);
}
