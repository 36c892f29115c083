/**
 * aws-iam-authenticator's other backends end to end, as Kubernetes runs them: real kubectl runs `eksauth token`; the
 * test API server sends every bearer token to `eksauth server` (the CLI, in its own process) as kube-apiserver's webhook
 * token authenticator does; the server maps from a DynamicFile (with `userid` strictness), from IAMIdentityMapping
 * resources it watches on the API server (CRD) and from the aws-auth ConfigMap, and switches between them when the
 * backend-mode file changes — while kubectl requests keep arriving, none of which may fail.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startTestApiServer, type TestApiServer } from '../../src/testbed/apiserver.js';
import { webhookAuthenticator, type WebhookAuthenticator } from '../../src/testbed/webhook-client.js';
import { EKSAUTH_CLI, runEksauth } from '../support/eksauth.js';
import { writeKubeconfig, type KubeconfigUser } from '../support/kubeconfig.js';
import { freePort, hasCommand, runCommand, tempDir } from '../support/tools.js';
import { ALICE, BOB, eventually, mintToken, request, spawnServer, type ServerProcess } from '../server/helpers.js';

const HAS_KUBECTL = hasCommand('kubectl');
if (!HAS_KUBECTL) console.warn('test/e2e/server-backends-kubectl.test.ts: kubectl is not on PATH; skipped.');

const CLUSTER = 'prod-eu';
const SERVICE_ACCOUNT_TOKEN = 'eksauth-backends-sa-token';
const modeFile = (backendMode: string, version: number) => JSON.stringify({ backendMode, Version: String(version), LastUpdatedDateTime: String(Math.floor(Date.now() / 1000)) });

describe.skipIf(!HAS_KUBECTL)('kubectl → test API server → eksauth server with DynamicFile, CRD and a backend-mode file', () => {
  let emulator: Emulator;
  let api: TestApiServer;
  let webhook: WebhookAuthenticator;
  let server: ServerProcess;
  const dir = tempDir();
  const dynamicFile = join(dir, 'dynamic.json');
  const backendModeFile = join(dir, 'backend-mode.json');

  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
    const port = String(await freePort());
    const webhookKubeconfig = join(dir, 'webhook.yaml');
    const shared = ['-i', CLUSTER, '--port', port, '--state-dir', join(dir, 'state'), '--generate-kubeconfig', webhookKubeconfig];
    expect((await runEksauth(['server', 'init', ...shared])).code).toBe(0);
    webhook = webhookAuthenticator({ kubeconfigPath: webhookKubeconfig, version: 'v1', retry: { initialDelayMs: 50 } });
    api = await startTestApiServer({ authenticate: webhook, staticTokens: { [SERVICE_ACCOUNT_TOKEN]: { username: 'system:serviceaccount:kube-system:eksauth' } } });
    // EKS's file: alice by her principal id; bob's name with the id of a deleted-and-re-created bob.
    writeFileSync(dynamicFile, JSON.stringify({
      Version: '1', LastUpdatedDateTime: '1733130000', ClusterId: CLUSTER,
      mapUsers: [
        { userarn: ALICE.arn, username: 'alice-dynamic', groups: ['dynamic'], userid: ALICE.userId },
        { userarn: BOB.arn, username: 'old-bob', groups: [], userid: 'AIDAOLDBOBDELETED0001' },
      ],
    }));
    api.identityMappings.put('', 'alice', { arn: ALICE.arn, username: 'alice-crd', groups: ['crd'] });
    api.configMaps.put('kube-system', 'aws-auth', { mapUsers: `- userarn: ${ALICE.arn}\n  username: alice-configmap\n  groups: [configmap]\n` });
    writeFileSync(backendModeFile, modeFile('DynamicFile', 1));
    const apiKubeconfig = await writeKubeconfig({ server: api.url, caPem: api.caPem, user: { token: SERVICE_ACCOUNT_TOKEN } });
    server = spawnServer([
      ...shared, '--kubeconfig-pregenerated', '--backend-mode', 'MountedFile,DynamicFile', '--dynamicfile-path', dynamicFile,
      '--dynamicfile-user-id-strict', '--dynamic-backend-mode-path', backendModeFile, '--kubeconfig', apiKubeconfig,
      '--sts-endpoint', emulator.url, '--ops-port', 'off',
    ]);
    const caPem = readFileSync(join(dir, 'state', 'cert.pem'), 'utf8');
    await eventually(async () => (await request(`https://127.0.0.1:${port}/readyz`, { caPem }).catch(() => undefined))?.status === 200, 'eksauth server ready');
  });
  afterAll(async () => {
    server?.stop();
    await server?.exited;
    await api?.close();
    await emulator?.close();
  });

  async function kubectl(user: KubeconfigUser, args: string[], who = ALICE) {
    const kubeconfig = await writeKubeconfig({ server: api.url, caPem: api.caPem, user });
    return runCommand('kubectl', ['--kubeconfig', kubeconfig, ...args], {
      env: { AWS_ACCESS_KEY_ID: who.accessKeyId, AWS_SECRET_ACCESS_KEY: who.secretAccessKey, AWS_ENDPOINT_URL_STS: emulator.url },
    });
  }
  const execUser: KubeconfigUser = { exec: { command: EKSAUTH_CLI, interactiveMode: 'Never', args: ['token', '--cluster-name', CLUSTER, '--region', 'eu-west-1'] } };
  async function whoami(who = ALICE): Promise<{ username: string; groups: string[] } | undefined> {
    const result = await kubectl(execUser, ['auth', 'whoami', '-o', 'json'], who);
    return result.code === 0 ? (JSON.parse(result.stdout) as { status: { userInfo: { username: string; groups: string[] } } }).status.userInfo : undefined;
  }

  it('DynamicFile with dynamicfileUserIDStrict: alice by her principal id; a re-created bob is not the old bob', async () => {
    expect(await whoami()).toMatchObject({ username: 'alice-dynamic', groups: ['dynamic', 'system:authenticated'] });
    expect(await whoami(BOB)).toBeUndefined();
    expect(server.output()).toMatch(/"outcome":"unmapped".*user\/bob is not mapped/);
  });

  it('switches backends on each backend-mode file change while kubectl requests are in flight: 0 failed reviews', async () => {
    const token = await mintToken(ALICE, CLUSTER);
    const before = webhook.exchanges().length;
    let running = true;
    const results: (number | null)[] = [];
    const loop = async (): Promise<void> => {
      while (running) results.push((await kubectl({ token }, ['get', '--raw', '/api'])).code);
    };
    const loops = [loop(), loop()];
    const switches: [string, string][] = [['CRD', 'alice-crd'], ['EKSConfigMap DynamicFile', 'alice-configmap'], ['DynamicFile,CRD', 'alice-dynamic'], ['CRD EKSConfigMap', 'alice-crd']];
    for (const [index, [backendMode, username]] of switches.entries()) {
      writeFileSync(backendModeFile, modeFile(backendMode, index + 2));
      await eventually(async () => (await whoami())?.username === username, `kubectl sees ${username} after the switch to ${backendMode}`, 20_000);
    }
    rmSync(backendModeFile);
    await eventually(async () => (await whoami())?.username === 'alice-dynamic', 'the configured MountedFile,DynamicFile again', 20_000);
    running = false;
    await Promise.all(loops);
    const exchanges = webhook.exchanges().slice(before);
    expect(results.length).toBeGreaterThan(4);
    expect(results.filter((code) => code !== 0)).toEqual([]);
    // Every TokenReview of the period: answered 200 and authenticated at the first attempt (no retry hid a failure).
    expect(exchanges.filter((e) => e.status !== 200 || e.attempts !== 1 || !e.authenticated)).toEqual([]);
    expect(server.output().match(/"msg":"backend modes in service"/g)).toHaveLength(1 + switches.length + 1);
  });

  it('CRD: a new IAMIdentityMapping takes effect while the server runs', async () => {
    writeFileSync(backendModeFile, modeFile('CRD', 10));
    await eventually(async () => (await whoami())?.username === 'alice-crd', 'the CRD backend');
    expect(await whoami(BOB)).toBeUndefined();
    api.identityMappings.put('', 'bob', { arn: BOB.arn, username: 'bob-crd', groups: ['viewers'] });
    await eventually(async () => (await whoami(BOB))?.username === 'bob-crd', 'bob mapped');
    expect(await whoami(BOB)).toMatchObject({ username: 'bob-crd', groups: ['viewers', 'system:authenticated'] });
  });
});
