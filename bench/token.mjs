// Wall time of `eksauth token` with static credentials in the environment, against `node -e 0` and
// `aws eks get-token`, measured in the same run with the commands alternated so machine noise hits all of them
// alike. Prints medians and ratios; it asserts nothing (times are for people to read).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runs = Number.parseInt(process.env.EKSAUTH_BENCH_RUNS ?? '21', 10);
const cli = new URL('../dist/cli/eksauth.cjs', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'eksauth-bench-'));
// As in CI: no AWS files at all. A second home has a ~/.aws/config, as on a workstation.
const bareHome = join(root, 'bare');
const configHome = join(root, 'with-config');
mkdirSync(bareHome);
mkdirSync(join(configHome, '.aws'), { recursive: true });
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
const token = [cli, 'token', '--cluster-name', 'bench'];
const commands = [
  { name: 'node -e 0', file: process.execPath, args: ['-e', '0'], env: baseEnv },
  { name: 'eksauth token', file: process.execPath, args: token, env: baseEnv },
  { name: 'eksauth token (~/.aws/config)', file: process.execPath, args: token, env: { ...baseEnv, HOME: configHome } },
];
if (spawnSync('aws', ['--version'], { env: baseEnv }).status === 0) {
  commands.push({ name: 'aws eks get-token', file: 'aws', args: ['eks', 'get-token', '--cluster-name', 'bench'], env: baseEnv });
} else {
  process.stdout.write('aws CLI not found: skipping the aws eks get-token comparison\n');
}

function timeOnce({ file, args, name, env }) {
  const start = process.hrtime.bigint();
  const result = spawnSync(file, args, { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${name} failed: ${result.stderr}`);
  if (name.startsWith('eksauth') && result.stderr !== '') throw new Error(`${name} wrote to stderr: ${result.stderr}`);
  return ms;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

for (const command of commands) timeOnce(command); // warm the file cache
const samples = new Map(commands.map((c) => [c.name, []]));
for (let i = 0; i < runs; i++) for (const command of commands) samples.get(command.name).push(timeOnce(command));
rmSync(root, { recursive: true, force: true });

const medians = new Map([...samples].map(([name, values]) => [name, median(values)]));
const baseline = medians.get('node -e 0');
process.stdout.write(`\n${runs} runs each, alternated; median wall time on Node ${process.version}\n`);
for (const [name, m] of medians) {
  process.stdout.write(`  ${name.padEnd(32)} ${m.toFixed(1).padStart(7)} ms   ${(m / baseline).toFixed(2)}× node -e 0\n`);
}
process.stdout.write(`\neksauth token / node -e 0 = ${(medians.get('eksauth token') / baseline).toFixed(2)} (target ≤ 1.40)\n`);
if (medians.has('aws eks get-token')) {
  process.stdout.write(`aws eks get-token takes ${(medians.get('aws eks get-token') / medians.get('eksauth token')).toFixed(1)}× as long as eksauth token\n`);
}
