/**
 * What `eksauth token` and `update-kubeconfig` refuse before anything is signed or sent: expired credentials
 * (ERR_CREDENTIALS_EXPIRED) and a region the SDK's partition data does not list (ERR_INVALID_REGION, with a "did you
 * mean"), each as one stderr line with its code, exit status 1 and nothing on stdout; the real aws CLI run beside it
 * where it refuses the same thing. Then the switch that accepts a region newer than the SDK data, and
 * aws-iam-authenticator's DEFAULT_ROLE, through the STS emulator.
 */
import { exitStatusOf, type ErrorCode } from '../../src/errors.js';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCallerIdentity } from '../../src/authn/get-caller-identity.js';
import { DEMO_EMULATOR_CONFIG, type EmulatorConfig } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { getToken } from '../../src/token/generate.js';
import { parseExecCredential, runEksauth, tokenUrl } from '../support/eksauth.js';
import { hasCommand, runCommand, tempDir, type CommandResult } from '../support/tools.js';

const HAS_AWS = hasCommand('aws');
if (!HAS_AWS) console.warn('test/e2e/credentials-regions.test.ts: the aws CLI is not on PATH; its comparisons are skipped.');

const ADMIN_ROLE = 'arn:aws:iam::111122223333:role/eks-admin';
const [ALICE] = DEMO_EMULATOR_CONFIG.identities;
const KEYS = { AWS_ACCESS_KEY_ID: ALICE?.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE?.secretAccessKey };
const SESSION_TOKEN = 'session-token-that-must-not-be-printed';
const PAST = '2020-01-01T00:00:00Z';

/** One line on stderr ending in the code, the code's exit status (the README's table), nothing on stdout; returns that line. */
function expectRefusal(result: CommandResult, code: ErrorCode): string {
  expect(result.stdout).toBe('');
  expect(result.code).toBe(exitStatusOf(code));
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^eksauth: .*\\(${code}\\)$`));
  return lines[0] ?? '';
}

/** AWS config (and credentials) files in a fresh directory, as the environment that points at them. */
function awsFiles(config: string, credentials = ''): Record<string, string> {
  const dir = tempDir('eksauth-creds-regions-');
  writeFileSync(join(dir, 'config'), config);
  writeFileSync(join(dir, 'credentials'), credentials);
  return { AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), KUBECACHEDIR: join(dir, 'kube') };
}

/** A credential_process that answers with session credentials expiring at `expiration`. */
function processProfile(expiration: string): Record<string, string> {
  const answer = JSON.stringify({ Version: 1, AccessKeyId: 'PROCESSKEY0000000001', SecretAccessKey: 'process-secret', SessionToken: SESSION_TOKEN, Expiration: expiration });
  const dir = tempDir('eksauth-creds-process-');
  const script = join(dir, 'credentials.cjs');
  writeFileSync(script, `process.stdout.write(${JSON.stringify(answer)});\n`);
  return awsFiles(`[profile tools]\nregion = eu-west-1\ncredential_process = ${process.execPath} ${script}\n`);
}

describe('expired credentials are refused, not signed (ERR_CREDENTIALS_EXPIRED)', () => {
  const expiredEnv = { ...KEYS, AWS_SESSION_TOKEN: SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION: PAST };

  it('session credentials in the environment whose AWS_CREDENTIAL_EXPIRATION has passed', async () => {
    const line = expectRefusal(await runEksauth(['token', '--cluster-name', 'prod', '--region', 'eu-west-1'], { env: expiredEnv }), 'ERR_CREDENTIALS_EXPIRED');
    expect(line).toContain(`AWS_CREDENTIAL_EXPIRATION (${PAST}) is in the past`);
    expect(line).toContain('refresh the credentials in your environment');
    expect(line).not.toContain(SESSION_TOKEN);
    expect(line).not.toContain(ALICE?.secretAccessKey);
  });

  it('a credential_process answer whose Expiration has passed (the SDK chain reports only "could not load")', async () => {
    const line = expectRefusal(await runEksauth(['token', '--cluster-name', 'prod', '--profile', 'tools'], { env: processProfile(PAST) }), 'ERR_CREDENTIALS_EXPIRED');
    expect(line).toContain('credential_process for profile tools returned credentials whose Expiration has passed');
    expect(line).not.toContain(SESSION_TOKEN);
  });

  describe('from the container credentials endpoint (EKS Pod Identity, ECS)', () => {
    // AWS's side of the container provider: the endpoint answers with session credentials that expired long ago.
    let endpoint: Server;
    let env: Record<string, string | undefined>;
    beforeAll(async () => {
      const answer = JSON.stringify({ AccessKeyId: 'CONTAINERKEY00000001', SecretAccessKey: 'container-secret', Token: SESSION_TOKEN, Expiration: PAST });
      endpoint = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(answer));
      await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
      env = { ...awsFiles(''), AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/credentials` };
    });
    afterAll(async () => new Promise<void>((resolve) => endpoint.close(() => resolve())));

    it('which the SDK passes on as they are, is refused with the source named', async () => {
      const line = expectRefusal(await runEksauth(['token', '--cluster-name', 'prod', '--region', 'eu-west-1'], { env }), 'ERR_CREDENTIALS_EXPIRED');
      expect(line).toContain('the container credentials endpoint for profile default returned credentials that expired at 2020-01-01T00:00:00.000Z');
      expect(line).not.toContain(SESSION_TOKEN);
    });
  });

  it.skipIf(!HAS_AWS)('the aws CLI refuses both as well', async () => {
    const fromEnv = await runCommand('aws', ['eks', 'get-token', '--cluster-name', 'prod', '--region', 'eu-west-1'], { env: expiredEnv });
    const fromProcess = await runCommand('aws', ['eks', 'get-token', '--cluster-name', 'prod', '--profile', 'tools'], { env: processProfile(PAST) });
    for (const result of [fromEnv, fromProcess]) {
      expect(result.code).toBe(255);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('the refreshed credentials are still expired');
    }
  });

  it('credentials handed to the library with a past expiration', async () => {
    const credentials = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', sessionToken: SESSION_TOKEN, expiration: new Date(PAST) };
    await expect(getToken({ clusterId: 'prod', region: 'eu-west-1', credentials, env: {} })).rejects.toMatchObject({
      code: 'ERR_CREDENTIALS_EXPIRED',
      message: expect.stringContaining('the credentials passed to getToken expired at 2020-01-01T00:00:00.000Z'),
    });
  });

  describe('a cached role session', () => {
    let emulator: Emulator;
    beforeAll(async () => {
      emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
    });
    afterAll(async () => emulator?.close());

    it('is not used once expired: the role is assumed again and the token is signed with the new session', async () => {
      // No AWS files at all: a file written within the last two seconds would keep anything from being cached.
      const dir = tempDir('eksauth-creds-role-');
      const cache = join(dir, 'kube');
      const missing = { AWS_CONFIG_FILE: join(dir, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none') };
      const env = { ...missing, KUBECACHEDIR: cache, ...KEYS, AWS_ENDPOINT_URL_STS: emulator.url, AWS_REGION: 'eu-west-1' };
      const keyOf = (result: CommandResult) => tokenUrl(parseExecCredential(result).status.token).searchParams.get('X-Amz-Credential')?.split('/')[0];
      const first = keyOf(await runEksauth(['token', '--cluster-name', 'prod', '--role-arn', ADMIN_ROLE], { env }));
      const cacheDir = join(cache, 'eksauth');
      const roleEntry = join(cacheDir, readdirSync(cacheDir).find((name) => name.startsWith('role-') && name.endsWith('.json')) ?? '');
      const entry = JSON.parse(readFileSync(roleEntry, 'utf8')) as Record<string, unknown>;
      writeFileSync(roleEntry, JSON.stringify({ ...entry, expiresAt: Date.parse(PAST) }), { mode: 0o600 });

      emulator.resetStats();
      const second = keyOf(await runEksauth(['token', '--cluster-name', 'staging', '--role-arn', ADMIN_ROLE], { env }));
      expect(emulator.stats().byAction.AssumeRole).toBe(1);
      expect(second).not.toBe(first);
    });
  });
});

describe('a region the SDK does not list is refused with a "did you mean" (ERR_INVALID_REGION)', () => {
  const profileFiles = () => awsFiles('[profile dev]\nregion = eu-wset-1\n', `[dev]\naws_access_key_id = ${ALICE?.accessKeyId}\naws_secret_access_key = ${ALICE?.secretAccessKey}\n`);
  const execInfo = JSON.stringify({
    kind: 'ExecCredential',
    apiVersion: 'client.authentication.k8s.io/v1',
    spec: { interactive: false, cluster: { server: 'https://127.0.0.1', config: { region: 'eu-wset-1', clusterId: 'prod' } } },
  });

  it.each([
    ['--region', ['token', '--cluster-name', 'prod', '--region', 'eu-wset-1'], () => KEYS, '(from --region)'],
    ['AWS_REGION', ['eks', 'get-token', '--cluster-name', 'prod'], () => ({ ...KEYS, AWS_REGION: 'eu-wset-1' }), '(from AWS_REGION)'],
    ['AWS_DEFAULT_REGION', ['token', '--cluster-name', 'prod'], () => ({ ...KEYS, AWS_DEFAULT_REGION: 'eu-wset-1' }), '(from AWS_DEFAULT_REGION)'],
    ['the profile', ['token', '--cluster-name', 'prod', '--profile', 'dev'], profileFiles, '(from the region of profile dev in '],
    ['the cluster info', ['token'], () => ({ ...KEYS, KUBERNETES_EXEC_INFO: execInfo }), '(from KUBERNETES_EXEC_INFO (spec.cluster.config.region))'],
  ])('token, region from %s', async (_source, args, env, where) => {
    const line = expectRefusal(await runEksauth(args, { env: env() }), 'ERR_INVALID_REGION');
    expect(line).toContain(`region "eu-wset-1" ${where}`);
    expect(line).toContain('did you mean eu-west-1?');
    expect(line).toContain('--allow-unknown-region');
  });

  describe('update-kubeconfig, against the emulator', () => {
    let emulator: Emulator;
    beforeAll(async () => {
      emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
    });
    afterAll(async () => emulator?.close());

    it.each([
      ['--region', ['--name', 'prod', '--region', 'eu-wset-1'], '(from --region)'],
      ['--regions', ['--all', '--regions', 'eu-west-1,eu-wset-1'], '(from --regions)'],
    ])('refuses a region from %s before calling EKS', async (_source, args, where) => {
      const kubeconfig = join(tempDir('eksauth-creds-regions-kc-'), 'config');
      emulator.resetStats();
      const result = await runEksauth(['update-kubeconfig', ...args, '--kubeconfig', kubeconfig, '--endpoint-url', emulator.url], { env: KEYS });
      const line = expectRefusal(result, 'ERR_INVALID_REGION');
      expect(line).toContain(`region "eu-wset-1" ${where}`);
      expect(line).toContain('did you mean eu-west-1?');
      expect(emulator.stats().requests).toBe(0);
    });
  });

  it.skipIf(!HAS_AWS)('where the aws CLI signs a token for a host that does not exist (eksauth refuses on purpose)', async () => {
    const result = await runCommand('aws', ['eks', 'get-token', '--cluster-name', 'prod', '--region', 'eu-wset-1'], { env: KEYS });
    expect(result.code).toBe(0);
    expect(tokenUrl((JSON.parse(result.stdout) as { status: { token: string } }).status.token).host).toBe('sts.eu-wset-1.amazonaws.com');
  });
});

describe('a region newer than the SDK data is accepted with the switch', () => {
  const hostOf = (result: CommandResult) => tokenUrl(parseExecCredential(result).status.token).host;

  it('--allow-unknown-region or EKSAUTH_ALLOW_UNKNOWN_REGION=1 signs for the partition its name matches; =0 does not', async () => {
    const args = ['token', '--cluster-name', 'prod', '--region', 'eu-north-9'];
    expect(hostOf(await runEksauth([...args, '--allow-unknown-region'], { env: KEYS }))).toBe('sts.eu-north-9.amazonaws.com');
    expect(hostOf(await runEksauth(args, { env: { ...KEYS, EKSAUTH_ALLOW_UNKNOWN_REGION: '1' } }))).toBe('sts.eu-north-9.amazonaws.com');
    const cn = ['token', '--cluster-name', 'prod', '--region', 'cn-south-7', '--allow-unknown-region'];
    expect(hostOf(await runEksauth(cn, { env: KEYS }))).toBe('sts.cn-south-7.amazonaws.com.cn');
    const refused = expectRefusal(await runEksauth(args, { env: { ...KEYS, EKSAUTH_ALLOW_UNKNOWN_REGION: '0' } }), 'ERR_INVALID_REGION');
    expect(refused).toContain('did you mean eu-north-1?');
  });

  it('update-kubeconfig writes the switch into the exec block for a cluster EKS reports in such a region', async () => {
    const config: EmulatorConfig = {
      ...DEMO_EMULATOR_CONFIG,
      clusters: [{ name: 'next', region: 'eu-north-9', endpoint: 'https://127.0.0.1:1', certificateAuthorityData: Buffer.from('not a real CA').toString('base64'), status: 'ACTIVE' }],
    };
    const emulator = await startEmulator(config);
    try {
      const kubeconfig = join(tempDir('eksauth-creds-regions-kc-'), 'config');
      const args = ['update-kubeconfig', '--name', 'next', '--region', 'eu-north-9', '--kubeconfig', kubeconfig, '--endpoint-url', emulator.url];
      expectRefusal(await runEksauth(args, { env: KEYS }), 'ERR_INVALID_REGION');
      const written = await runEksauth([...args, '--allow-unknown-region'], { env: KEYS });
      expect(written.code, written.stderr).toBe(0);
      type Doc = { users: { user: { exec: { args: string[] } } }[] };
      const execArgs = (parse(readFileSync(kubeconfig, 'utf8')) as Doc).users[0]?.user.exec.args ?? [];
      expect(execArgs).toContain('--allow-unknown-region');
      expect(hostOf(await runEksauth(execArgs, { env: KEYS }))).toBe('sts.eu-north-9.amazonaws.com');
    } finally {
      await emulator.close();
    }
  });
});

describe("aws-iam-authenticator's DEFAULT_ROLE", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
  });
  afterAll(async () => emulator?.close());

  async function signer(args: string[], extraEnv: Record<string, string>): Promise<string> {
    const result = await runEksauth([...args, '--cluster-name', 'prod', '--region', 'eu-west-1', '--no-cache'], {
      env: { ...KEYS, AWS_ENDPOINT_URL_STS: emulator.url, ...extraEnv },
    });
    const identity = await getCallerIdentity(tokenUrl(parseExecCredential(result).status.token), { clusterId: 'prod', stsEndpoint: emulator.url });
    return identity.arn;
  }

  it('is the role `token` assumes when -r/--role-arn is not given; the flag wins; empty means none', async () => {
    expect(await signer(['token'], { DEFAULT_ROLE: ADMIN_ROLE })).toBe('arn:aws:sts::111122223333:assumed-role/eks-admin/EKSGetTokenAuth');
    expect(await signer(['token'], { DEFAULT_ROLE: 'not-a-role' }).catch((err: Error) => err.message)).toMatch(/"not-a-role" is not an IAM role ARN/);
    expect(await signer(['token', '-r', ADMIN_ROLE], { DEFAULT_ROLE: 'not-a-role' })).toContain('assumed-role/eks-admin/');
    expect(await signer(['token'], { DEFAULT_ROLE: '' })).toBe('arn:aws:iam::111122223333:user/alice');
  });

  it('is ignored by the `eks get-token` form, as by `aws eks get-token`', async () => {
    expect(await signer(['eks', 'get-token'], { DEFAULT_ROLE: ADMIN_ROLE })).toBe('arn:aws:iam::111122223333:user/alice');
  });
});
