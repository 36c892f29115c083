/**
 * The whole chain, run as Kubernetes runs it: `eksauth server init` writes the webhook kubeconfig; the test API server
 * reads it like kube-apiserver's `--authentication-token-webhook-config-file` and sends a TokenReview (v1 on one
 * server, v1beta1 on the other) for every bearer token; `eksauth server` (the real CLI, in its own process) verifies
 * tokens with the STS emulator and maps them from the aws-auth ConfigMap it watches on the API server; real kubectl
 * runs `eksauth token` and prints who it is.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG, type EmulatorConfig } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { startTestApiServer, type TestApiServer } from '../../src/testbed/apiserver.js';
import { webhookAuthenticator } from '../../src/testbed/webhook-client.js';
import { EKSAUTH_CLI, runEksauth } from '../support/eksauth.js';
import { writeKubeconfig, type KubeconfigUser } from '../support/kubeconfig.js';
import { cleanEnv, hasCommand, runCommand, tempDir } from '../support/tools.js';
import { ALICE, BOB, eventually, mintToken, request } from '../server/helpers.js';
import { freePort } from '../support/tools.js';

const HAS_KUBECTL = hasCommand('kubectl');
if (!HAS_KUBECTL) console.warn('test/e2e/server-kubectl.test.ts: kubectl is not on PATH; skipped.');

const CLUSTER = 'prod-eu';
const SERVICE_ACCOUNT_TOKEN = 'eksauth-server-sa-token';
// Carol lives in another account, which aws-auth maps whole (mapAccounts).
const CAROL = { accessKeyId: 'EKSAUTHDEMOCAROL0001', secretAccessKey: 'eksauth/demo/carol/not+a+real+secret/01', arn: 'arn:aws:iam::444455556666:user/carol', userId: 'AIDAEKSAUTHDEMOCAROL1' };
const EMULATOR_CONFIG: EmulatorConfig = { ...DEMO_EMULATOR_CONFIG, identities: [...DEMO_EMULATOR_CONFIG.identities, CAROL] };
const AWS_AUTH = {
  mapRoles: '- rolearn: arn:aws:iam::111122223333:role/eks-admin\n  username: "admin:{{SessionName}}"\n  groups: [system:masters]\n',
  mapUsers: '- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n  groups: [developers]\n',
  mapAccounts: '- "444455556666"\n',
};

interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

describe.skipIf(!HAS_KUBECTL)('kubectl → eksauth token → test API server → eksauth server (webhook) → STS emulator', () => {
  let emulator: Emulator;
  let apiV1: TestApiServer;
  let apiV1beta1: TestApiServer;
  let server: ChildProcess;
  let serverLog = '';
  let exited: Promise<number | null>;
  const dir = tempDir();
  const webhookKubeconfig = join(dir, 'webhook', 'kubeconfig.yaml');
  const stateDir = join(dir, 'state');

  beforeAll(async () => {
    emulator = await startEmulator(EMULATOR_CONFIG);
    const port = String(await freePort());
    const shared = ['-i', CLUSTER, '--port', port, '--state-dir', stateDir, '--generate-kubeconfig', webhookKubeconfig];
    const init = await runEksauth(['server', 'init', ...shared]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain('--authentication-token-webhook-config-file=');

    const retry = { initialDelayMs: 50 };
    apiV1 = await startTestApiServer({
      authenticate: webhookAuthenticator({ kubeconfigPath: webhookKubeconfig, version: 'v1', retry }),
      staticTokens: { [SERVICE_ACCOUNT_TOKEN]: { username: 'system:serviceaccount:kube-system:eksauth' } },
    });
    apiV1beta1 = await startTestApiServer({ authenticate: webhookAuthenticator({ kubeconfigPath: webhookKubeconfig, version: 'v1beta1', retry }) });
    apiV1.configMaps.put('kube-system', 'aws-auth', AWS_AUTH);
    const apiKubeconfig = await writeKubeconfig({ server: apiV1.url, caPem: apiV1.caPem, user: { token: SERVICE_ACCOUNT_TOKEN } });

    server = spawn(process.execPath, [
      EKSAUTH_CLI, 'server', ...shared, '--kubeconfig-pregenerated', '--backend-mode', 'EKSConfigMap', '--kubeconfig', apiKubeconfig,
      '--sts-endpoint', emulator.url, '--ops-port', 'off',
    ], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout?.on('data', (chunk: Buffer) => { serverLog += chunk.toString('utf8'); });
    server.stderr?.on('data', (chunk: Buffer) => { serverLog += chunk.toString('utf8'); });
    exited = new Promise((resolve) => server.once('exit', (code) => resolve(code)));
    const caPem = readFileSync(join(stateDir, 'cert.pem'), 'utf8');
    await eventually(async () => {
      const ready = await request(`https://127.0.0.1:${port}/readyz`, { caPem }).catch(() => undefined);
      return ready?.status === 200;
    }, `eksauth server ready (log so far: ${serverLog})`);
  });
  afterAll(async () => {
    server?.kill('SIGTERM');
    await exited;
    await apiV1?.close();
    await apiV1beta1?.close();
    await emulator?.close();
  });

  async function kubectl(api: TestApiServer, user: KubeconfigUser, args: string[], who = ALICE) {
    const kubeconfig = await writeKubeconfig({ server: api.url, caPem: api.caPem, user });
    return runCommand('kubectl', ['--kubeconfig', kubeconfig, ...args], {
      env: { AWS_ACCESS_KEY_ID: who.accessKeyId, AWS_SECRET_ACCESS_KEY: who.secretAccessKey, AWS_ENDPOINT_URL_STS: emulator.url },
    });
  }
  const execUser = (extra: string[] = [], cluster = CLUSTER): KubeconfigUser => ({
    exec: { command: EKSAUTH_CLI, interactiveMode: 'Never', args: ['token', '--cluster-name', cluster, '--region', 'eu-west-1', ...extra] },
  });
  async function whoami(api: TestApiServer, user: KubeconfigUser, who = ALICE): Promise<UserInfo> {
    const result = await kubectl(api, user, ['auth', 'whoami', '-o', 'json'], who);
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { status: { userInfo: UserInfo } }).status.userInfo;
  }

  it.each([['v1', () => apiV1], ['v1beta1', () => apiV1beta1]] as const)(
    'a mapped IAM user, through TokenReview %s: kubectl auth whoami shows what aws-iam-authenticator would',
    async (_, api) => {
      expect(await whoami(api(), execUser())).toEqual({
        username: 'alice',
        uid: 'aws-iam-authenticator:111122223333:AIDAEKSAUTHDEMOALICE1',
        groups: ['developers', 'system:authenticated'],
        extra: {
          arn: [ALICE.arn],
          canonicalArn: [ALICE.arn],
          sessionName: [''],
          accessKeyId: [ALICE.accessKeyId],
          principalId: ['AIDAEKSAUTHDEMOALICE1'],
          'sigs.k8s.io/aws-iam-authenticator/principalId': ['AIDAEKSAUTHDEMOALICE1'],
        },
      });
      const raw = await kubectl(api(), execUser(), ['get', '--raw', '/api']);
      expect(JSON.parse(raw.stdout)).toMatchObject({ kind: 'APIVersions' });
    },
  );

  it('a mapped role, assumed by the plugin: the session name fills the template', async () => {
    const user = await whoami(apiV1, execUser(['--role-arn', 'arn:aws:iam::111122223333:role/eks-admin']));
    expect(user).toMatchObject({
      username: 'admin:EKSGetTokenAuth',
      groups: ['system:masters', 'system:authenticated'],
      extra: { canonicalArn: ['arn:aws:iam::111122223333:role/eks-admin'], sessionName: ['EKSGetTokenAuth'] },
    });
    expect(user.uid).toMatch(/^aws-iam-authenticator:111122223333:AROA[A-Z0-9]+$/);
  });

  it('a mapped account: every principal of it is its own ARN, with no groups', async () => {
    expect(await whoami(apiV1, execUser(), CAROL)).toMatchObject({ username: CAROL.arn, groups: ['system:authenticated'] });
  });

  it('an unmapped identity, a token for another cluster and an expired token are Unauthorized', async () => {
    const unmapped = await kubectl(apiV1, execUser(), ['get', '--raw', '/api'], BOB);
    const otherCluster = await kubectl(apiV1, execUser([], 'other-cluster'), ['get', '--raw', '/api']);
    const expired = await kubectl(apiV1, { token: await mintToken(ALICE, CLUSTER, new Date(Date.now() - 20 * 60_000)) }, ['get', '--raw', '/api']);
    for (const result of [unmapped, otherCluster, expired]) {
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/Unauthorized/);
    }
    const reasons = apiV1.requests().filter((r) => r.status === 401).map((r) => r.authError);
    expect(reasons).toEqual(expect.arrayContaining(['webhook-http-403']));
    expect(serverLog).toMatch(/"outcome":"unmapped".*user\/bob is not mapped/);
    expect(serverLog).toMatch(/"outcome":"sts_rejected"/);
    expect(serverLog).toMatch(/"outcome":"invalid_token".*ERR_TOKEN_EXPIRED/);
  });

  it('an edit of the aws-auth ConfigMap takes effect while the server runs', async () => {
    const before = await kubectl(apiV1, execUser(), ['auth', 'whoami', '-o', 'json'], BOB);
    expect(before.stderr).toMatch(/Unauthorized/);
    apiV1.configMaps.put('kube-system', 'aws-auth', {
      ...AWS_AUTH,
      mapUsers: `${AWS_AUTH.mapUsers}- userarn: ${BOB.arn}\n  username: bob\n  groups: [viewers]\n`,
    });
    await eventually(async () => (await kubectl(apiV1, execUser(), ['auth', 'whoami', '-o', 'json'], BOB)).code === 0, 'bob mapped');
    expect(await whoami(apiV1, execUser(), BOB)).toMatchObject({ username: 'bob', groups: ['viewers', 'system:authenticated'] });
  });

  it('never writes a token to its log, and stops cleanly on SIGTERM', async () => {
    const token = await mintToken(ALICE, CLUSTER);
    const answer = await kubectl(apiV1, { token }, ['get', '--raw', '/api']);
    expect(answer.code, answer.stderr).toBe(0);
    expect(serverLog).not.toContain(token.slice(11, 60));
    expect(serverLog).not.toContain('X-Amz-Signature');
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(serverLog).toContain('"msg":"eksauth server stopped"');
  });
});

it('eksauth server init refuses to write a kubeconfig without a fixed port', async () => {
  const result = await runEksauth(['server', 'init', '-i', CLUSTER, '--port', '0', '--state-dir', join(tempDir(), 's'), '--generate-kubeconfig', join(tempDir(), 'k.yaml')]);
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/needs a fixed --port/);
});

it.each([
  ['--port', 'the webhook', '--port (server.port in a config file)'],
  ['--ops-port', 'the health and metrics listener', '--ops-port (server.opsPort in a config file)'],
])('eksauth server with %s taken says which address is in use, in one line, and exits 2', async (flag, what, setting) => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as AddressInfo).port;
  try {
    const ports = flag === '--port' ? ['--port', String(port), '--ops-port', 'off'] : ['--port', '0', '--ops-port', String(port)];
    const result = await runEksauth(['server', '-i', CLUSTER, ...ports, '--state-dir', join(tempDir(), 's')]);
    expect(result.code).toBe(2);
    const lastLine = result.stderr.trimEnd().split('\n').at(-1);
    expect(lastLine).toBe(`eksauth: The address of ${what}, 127.0.0.1:${port}, is already in use; stop what holds it or choose another ${setting} (0 picks a free port). (ERR_USAGE)`);
  } finally {
    taken.close();
  }
});
