/**
 * `eksauth update-kubeconfig --exec-command aws` and the real `aws eks update-kubeconfig`, run side by side on copies
 * of the same kubeconfig for the same cluster, must leave documents that are equal field by field and in key order
 * (the comparison is of the parsed documents, serialised with their key order). First against the project's
 * emulator, then against moto_server, whose cluster data (random endpoint, random CA) this project did not write.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { runEksauth } from '../support/eksauth.js';
import { HAS_MOTO, startMoto, type Moto } from '../support/moto.js';
import { hasCommand, runCommand, tempDir } from '../support/tools.js';

const HAS_AWS = hasCommand('aws');
if (!HAS_AWS) console.warn('test/e2e/update-kubeconfig-parity.test.ts: the aws CLI is not on PATH; skipped.');
if (HAS_AWS && !HAS_MOTO) console.warn('test/e2e/update-kubeconfig-parity.test.ts: moto_server is not on PATH; the moto comparison is skipped.');

const [ALICE] = DEMO_EMULATOR_CONFIG.identities;
const KEYS = { AWS_ACCESS_KEY_ID: ALICE?.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE?.secretAccessKey };
const fixture = (name: string): string => readFileSync(new URL(`../kubeconfig/fixtures/${name}`, import.meta.url), 'utf8');

interface Written {
  /** The whole document as parsed, serialised in its key order. */
  document: string;
  stdout: string;
  mode: number;
}

interface Pair {
  aws: Written;
  ours: Written;
}

/** Runs both tools on their own copy of `initial` (none: a new file) and returns what each left behind. */
async function runBoth(endpoint: string, args: string[], initial?: string, env: Record<string, string | undefined> = KEYS): Promise<Pair> {
  const files = [0, 1].map(() => join(tempDir('eksauth-parity-'), 'kube', 'config')) as [string, string];
  if (initial !== undefined) {
    for (const file of files) {
      mkdirSync(join(file, '..'));
      writeFileSync(file, initial, { mode: 0o600 });
    }
  }
  const [aws, ours] = await Promise.all([
    runCommand('aws', ['eks', 'update-kubeconfig', ...args, '--kubeconfig', files[0], '--endpoint-url', endpoint], { env }),
    runEksauth(['update-kubeconfig', '--exec-command', 'aws', ...args, '--kubeconfig', files[1], '--endpoint-url', endpoint], { env }),
  ]);
  expect(aws.code, aws.stderr).toBe(0);
  expect(ours.code, ours.stderr).toBe(0);
  expect(ours.stderr).toBe('');
  const written = (file: string, stdout: string): Written => ({
    document: JSON.stringify(parse(readFileSync(file, 'utf8'))),
    stdout: stdout.replace(file, '<kubeconfig>'),
    mode: statSync(file).mode & 0o777,
  });
  return { aws: written(files[0], aws.stdout), ours: written(files[1], ours.stdout) };
}

function expectSame({ aws, ours }: Pair): void {
  expect(JSON.parse(ours.document)).toEqual(JSON.parse(aws.document)); // a readable diff when they differ
  expect(ours.document).toBe(aws.document); // and the same key order
  expect(ours.stdout).toBe(aws.stdout);
  expect(ours.mode).toBe(aws.mode);
}

describe.skipIf(!HAS_AWS)('update-kubeconfig --exec-command aws equals aws eks update-kubeconfig (emulator)', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
  });
  afterAll(async () => emulator?.close());

  const prod = ['--name', 'prod', '--region', 'eu-west-1'];
  // One case at a time: run concurrently on a busy 2-core machine, each case's clock also counted the others' work.
  it.each([
    ['a new file', prod, undefined],
    ['an existing file with another cluster', prod, fixture('valid-existing.yaml')],
    ['the same ARN, replaced in place', prod, fixture('same-arn-old.yaml')],
    ['--alias and --user-alias', [...prod, '--alias', 'prod-ctx', '--user-alias', 'prod-admin'], fixture('valid-existing.yaml')],
    ['--user-alias alone (the context takes its name)', [...prod, '--user-alias', 'prod-admin'], undefined],
    ['--role-arn', [...prod, '--role-arn', 'arn:aws:iam::111122223333:role/eks-admin'], fixture('same-arn-old.yaml')],
    // Not http(s)://: aws CLI v1 would fetch such a parameter value as a URL (its cli_follow_urlparam feature).
    ['--proxy-url', [...prod, '--proxy-url', 'socks5://127.0.0.1:1080'], undefined],
    ['an Outposts local cluster (--cluster-id)', ['--name', 'edge', '--region', 'us-west-2'], fixture('valid-existing.yaml')],
    ['a file with null lists', prod, fixture('null-lists.yaml')],
    ['a file without lists', prod, fixture('no-lists.yaml')],
  ])('for %s', async (_, args, initial) => {
    expectSame(await runBoth(emulator.url, args, initial));
  });

  it('with --profile, differing only in passing the profile as an argument instead of AWS_PROFILE (aws-cli#7794)', async () => {
    const dir = tempDir('eksauth-parity-profile-');
    writeFileSync(join(dir, 'credentials'), `[dev]\naws_access_key_id = ${ALICE?.accessKeyId}\naws_secret_access_key = ${ALICE?.secretAccessKey}\n`);
    writeFileSync(join(dir, 'config'), '[profile dev]\nregion = eu-west-1\n');
    const env = { AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_CONFIG_FILE: join(dir, 'config') };
    const { aws, ours } = await runBoth(emulator.url, ['--name', 'prod', '--profile', 'dev'], undefined, env);
    type Doc = { users: { user: { exec: { args: string[]; env?: unknown } } }[] };
    const awsDoc = JSON.parse(aws.document) as Doc;
    const ourDoc = JSON.parse(ours.document) as Doc;
    const ourExec = ourDoc.users[0]!.user.exec;
    expect(ourExec.args.slice(-2)).toEqual(['--profile', 'dev']);
    expect(awsDoc.users[0]!.user.exec.env).toEqual([{ name: 'AWS_PROFILE', value: 'dev' }]);
    ourExec.args = ourExec.args.slice(0, -2);
    ourExec.env = [{ name: 'AWS_PROFILE', value: 'dev' }];
    expect(JSON.stringify(ourDoc)).toBe(aws.document);
  });
});

describe.skipIf(!HAS_AWS || !HAS_MOTO)('update-kubeconfig --exec-command aws equals aws eks update-kubeconfig (moto_server)', () => {
  let moto: Moto;
  const env = { AWS_ACCESS_KEY_ID: 'motoaccesskey', AWS_SECRET_ACCESS_KEY: 'motosecret' };
  beforeAll(async () => {
    moto = await startMoto();
    await Promise.all([['eu-west-1', 'moto-prod'], ['us-east-1', 'moto-dev']].map(async ([region, name]) => {
      const created = await runCommand('aws', [
        'eks', 'create-cluster', '--endpoint-url', moto.url, '--region', region!, '--name', name!,
        '--role-arn', 'arn:aws:iam::123456789012:role/eks-cluster', '--resources-vpc-config', 'subnetIds=subnet-0a1b2c3d',
      ], { env });
      expect(created.code, created.stderr).toBe(0);
    }));
  });
  afterAll(async () => moto?.stop());

  it('for a new file and for an existing one, with the same ARN replaced in place', { timeout: 240_000 }, async () => {
    const args = ['--name', 'moto-prod', '--region', 'eu-west-1'];
    const first = await runBoth(moto.url, args, undefined, env);
    expectSame(first);
    const doc = JSON.parse(first.aws.document) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
    expect(doc.clusters[0]?.cluster.server).toMatch(/^https:\/\/.+\.eu-west-1\.eks\.amazonaws\.com/);
    expect(doc.clusters[0]?.cluster['certificate-authority-data'].length).toBeGreaterThan(1000);
    expectSame(await runBoth(moto.url, [...args, '--alias', 'moto', '--role-arn', 'arn:aws:iam::123456789012:role/dev'], fixture('same-arn-old.yaml'), env));
    expectSame(await runBoth(moto.url, args, readFileSync(new URL('../kubeconfig/fixtures/valid-existing.yaml', import.meta.url), 'utf8'), env));
  });

  it('--all finds both clusters through EC2 DescribeRegions, with the entries aws writes for each', async () => {
    const file = join(tempDir('eksauth-parity-all-'), 'config');
    const all = await runEksauth(['update-kubeconfig', '--all', '--exec-command', 'aws', '--region', 'us-east-1', '--endpoint-url', moto.url, '--kubeconfig', file], {
      env: { ...env, AWS_ENDPOINT_URL_EC2: moto.url },
    });
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^eu-west-1 +moto-prod +ACTIVE +arn:aws:eks:eu-west-1:123456789012:cluster\/moto-prod +added$/m);
    expect(all.stdout).toMatch(/^us-east-1 +moto-dev +ACTIVE +arn:aws:eks:us-east-1:123456789012:cluster\/moto-dev +added$/m);
    type Doc = { clusters: { name: string }[]; users: { name: string }[]; 'current-context': string };
    const ours = parse(readFileSync(file, 'utf8')) as Doc;
    expect(ours['current-context']).toBe(''); // --all leaves the current context alone
    for (const [region, name] of [['eu-west-1', 'moto-prod'], ['us-east-1', 'moto-dev']] as const) {
      const { aws } = await runBoth(moto.url, ['--name', name, '--region', region], undefined, env);
      const single = JSON.parse(aws.document) as Doc;
      expect(ours.clusters).toContainEqual(single.clusters[0]);
      expect(ours.users).toContainEqual(single.users[0]);
    }
    // --all asks moto in every region, then the aws CLI (a Python start each) runs twice: on a busy 2-core machine
    // that passed 90 s.
  }, 240_000);
});
