/**
 * `eksauth verify` end to end: tokens made by `eksauth token` and `aws eks get-token` are validated, identified by the
 * STS emulator and mapped; other clusters, garbage, and an STS that is down, slow or throttling each end with their
 * own exit code, within the timeout.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG, type EmulatorConfig } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { mintToken } from '../server/helpers.js';
import { ADMIM, ALICA, LEAK_EMULATOR_CONFIG, LEAK_MAPPING } from '../support/cross-account.js';
import { parseExecCredential, runEksauth } from '../support/eksauth.js';
import { freePort, hasCommand, runCommand, tempDir } from '../support/tools.js';

const [ALICE, BOB] = DEMO_EMULATOR_CONFIG.identities;
const keys = (who: typeof ALICE) => ({ AWS_ACCESS_KEY_ID: who?.accessKeyId, AWS_SECRET_ACCESS_KEY: who?.secretAccessKey });
const CLUSTER = 'prod-eu';
const MAPPING = `mapRoles:
  - rolearn: arn:aws:iam::111122223333:role/eks-admin
    username: "admin:{{SessionName}}"
    groups: [system:masters]
mapUsers:
  - userarn: arn:aws:iam::111122223333:user/alice
    username: alice
    groups: [developers]
`;

/** An emulator with `config`'s identities, and a mapping file with `mapping`. */
async function startWithMapping(config: EmulatorConfig, mapping: string): Promise<{ emulator: Emulator; mappingFile: string }> {
  const mappingFile = join(tempDir(), 'mapping.yaml');
  writeFileSync(mappingFile, mapping);
  return { emulator: await startEmulator(config), mappingFile };
}

describe('eksauth verify against the STS emulator', () => {
  let emulator: Emulator;
  let mappingFile: string;
  beforeAll(async () => {
    ({ emulator, mappingFile } = await startWithMapping(DEMO_EMULATOR_CONFIG, MAPPING));
  });
  afterEach(() => emulator.setFault(undefined));
  afterAll(async () => emulator?.close());

  async function tokenOf(who: typeof ALICE, extra: string[] = [], cluster = CLUSTER): Promise<string> {
    const result = await runEksauth(['token', '--cluster-name', cluster, '--region', 'eu-west-1', ...extra], {
      env: { ...keys(who), AWS_ENDPOINT_URL_STS: emulator.url },
    });
    return parseExecCredential(result).status.token;
  }
  function verify(token: string, extra: string[] = [], timeoutMs = 60_000) {
    // The token goes in on stdin, as the help suggests, to keep it out of the process list.
    return runEksauth(['verify', '-t', '-', '-i', CLUSTER, '--sts-endpoint', emulator.url, '--mapping', mappingFile, ...extra], {
      input: token,
      timeoutMs,
    });
  }

  it('maps an IAM user and prints the decoded token without secrets', async () => {
    const token = await tokenOf(ALICE);
    const result = await verify(token);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/STS host\s+sts\.eu-west-1\.amazonaws\.com/);
    expect(result.stdout).toMatch(/signed headers\s+host;x-k8s-aws-id/);
    expect(result.stdout).toMatch(/arn\s+arn:aws:iam::111122223333:user\/alice/);
    expect(result.stdout).toMatch(/username\s+alice\n/);
    expect(result.stdout).toMatch(/groups\s+developers/);
    const url = new URL(Buffer.from(token.slice(11), 'base64url').toString());
    expect(result.stdout).not.toContain(url.searchParams.get('X-Amz-Signature'));
    expect(result.stdout).not.toContain(token.slice(11, 60));
  });

  it('maps an assumed role by its canonical ARN, with the session name in the username (JSON output)', async () => {
    const token = await tokenOf(ALICE, ['--role-arn', 'arn:aws:iam::111122223333:role/eks-admin', '-s', 'ops-alice']);
    const result = await verify(token, ['-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.outcome).toBe('mapped');
    expect(report.identity).toMatchObject({
      arn: 'arn:aws:sts::111122223333:assumed-role/eks-admin/ops-alice',
      canonicalArn: 'arn:aws:iam::111122223333:role/eks-admin',
      sessionName: 'ops-alice',
      accountId: '111122223333',
    });
    expect(report.token.sessionToken).toBe(true);
    expect(report.mapping.user).toMatchObject({
      username: 'admin:ops-alice',
      groups: ['system:masters'],
      uid: expect.stringMatching(/^aws-iam-authenticator:111122223333:AROA/),
      extra: expect.objectContaining({ sessionName: ['ops-alice'], canonicalArn: ['arn:aws:iam::111122223333:role/eks-admin'] }),
    });
    expect(result.stdout).not.toMatch(/"token": "k8s-aws-v1/);
  });

  if (!hasCommand('aws')) console.warn('test/e2e/verify.test.ts: the aws CLI is not on PATH; its case is skipped.');
  it.skipIf(!hasCommand('aws'))('accepts a token made by the aws CLI', async () => {
    const made = await runCommand('aws', ['eks', 'get-token', '--cluster-name', CLUSTER, '--region', 'us-west-2'], { env: keys(ALICE) });
    const result = await verify(parseExecCredential(made).status.token);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/username\s+alice\n/);
  });

  it('exits 5 for an unmapped identity and names the closest mapping', async () => {
    const result = await verify(await tokenOf(BOB));
    expect(result.code).toBe(5);
    expect(result.stdout).toMatch(/not mapped: arn:aws:iam::111122223333:user\/bob is not mapped/);
    expect(result.stdout).toMatch(/\n  hint: .*closest row of your account: user arn:aws:iam::111122223333:user\/alice in /);
  });

  it('exits 4 when STS refuses a token made for another cluster', async () => {
    const result = await verify(await tokenOf(ALICE, [], 'staging-eu'));
    expect(result.code).toBe(4);
    expect(result.stdout).toContain('(ERR_STS_REJECTED)');
  });

  it('exits 3 for a malformed token, naming the rule', async () => {
    const result = await verify(`k8s-aws-v1.${Buffer.from('https://sts.eu-west-1.amazonaws.com.evil.example/?Action=GetCallerIdentity').toString('base64url')}`);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('(ERR_TOKEN_HOST)');
  });

  it('exits 6 when STS is down', async () => {
    const token = await tokenOf(ALICE);
    const port = await freePort();
    const result = await runEksauth(['verify', '-t', '-', '-i', CLUSTER, '--sts-endpoint', `http://127.0.0.1:${port}`], { input: token });
    expect(result.code).toBe(6);
    expect(result.stdout).toContain('(ERR_STS_UNAVAILABLE)');
  });

  it('exits 6 when STS is slower than --timeout, well before the STS answer would come', async () => {
    const token = await tokenOf(ALICE);
    emulator.setFault({ latencyMs: 60_000 });
    // The child is killed after 30 s (room for a busy machine's start-up), half the STS latency: only a verifier that
    // honours its 1 s timeout can exit with 6.
    const result = await verify(token, ['--timeout', '1'], 30_000);
    expect(result.signal).toBeNull();
    expect(result.code).toBe(6);
    expect(result.stdout).toContain('(ERR_STS_UNAVAILABLE)');
  });

  it('exits 6 with ERR_STS_THROTTLED when STS throttles', async () => {
    const token = await tokenOf(ALICE);
    emulator.setFault({ throttle: true });
    const result = await verify(token);
    expect(result.code).toBe(6);
    expect(result.stdout).toContain('(ERR_STS_THROTTLED)');
  });
});

describe('eksauth verify hints for unmapped principals', () => {
  let emulator: Emulator;
  let mappingFile: string;
  beforeAll(async () => {
    ({ emulator, mappingFile } = await startWithMapping(LEAK_EMULATOR_CONFIG, LEAK_MAPPING));
  });
  afterAll(async () => emulator?.close());

  async function verifyAs(who: typeof ALICA) {
    const args = ['verify', '-t', '-', '-i', CLUSTER, '--sts-endpoint', emulator.url, '--mapping', mappingFile];
    return runEksauth(args, { input: await mintToken(who, CLUSTER) });
  }

  it('names the nearest row of the principal\'s own account', async () => {
    const result = await verifyAs(ALICA);
    expect(result.code).toBe(5);
    expect(result.stdout).not.toContain('111122223333');
    expect(result.stdout).toMatch(/\n  hint: searched file:.*; closest row of your account: user arn:aws:iam::444455556666:user\/alicia in file:/);
  });

  it('never names a row of another account, even one edit away', async () => {
    const result = await verifyAs(ADMIM);
    expect(result.code).toBe(5);
    expect(result.stdout).not.toMatch(/111122223333|eks-admin\b/);
    expect(result.stdout).toContain('not mapped: arn:aws:iam::555566667777:role/eks-admim is not mapped');
    expect(result.stdout).toContain('no row names a principal of account 555566667777');
  });
});
