/**
 * The scripts of examples/, run as a user runs them (node, importing `eksauth/…` through the package's exports, build
 * first) against the EKS/STS emulator and the test API server, which asks the emulator who signed each bearer token.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { emulatorAuthenticator, startTestApiServer, type BearerAuthenticator, type TestApiServer } from '../../src/testbed/apiserver.js';
import { runEksauth } from '../support/eksauth.js';
import { cleanEnv, runCommand, tempDir } from '../support/tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const [alice] = DEMO_EMULATOR_CONFIG.identities;

describe('examples/ (build first)', { timeout: 60_000 }, () => {
  let emulator: Emulator;
  let api: TestApiServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    let authenticate: BearerAuthenticator = async () => undefined;
    api = await startTestApiServer({ authenticate: (token) => authenticate(token) });
    const cluster = { name: 'prod', region: 'eu-west-1', endpoint: api.url, certificateAuthorityData: Buffer.from(api.caPem).toString('base64') };
    emulator = await startEmulator({ ...DEMO_EMULATOR_CONFIG, clusters: [cluster] });
    authenticate = emulatorAuthenticator({ clusterId: 'prod', stsEndpoint: emulator.url });
    env = cleanEnv({
      AWS_ACCESS_KEY_ID: alice!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: alice!.secretAccessKey,
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_EKS: emulator.url,
      AWS_ENDPOINT_URL_STS: emulator.url,
      // The SDK's own notice on Node 20 (DescribeCluster loads the SDK in the user's program); not eksauth's to silence.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
  });
  afterAll(async () => {
    await api?.close();
    await emulator?.close();
  });

  const requestsBy = (username: string) => api.requests().filter((r) => r.path === '/api/v1/namespaces' && r.username === username && r.status === 200);

  it('list-namespaces.mjs: eksKubeConfig finds the cluster with DescribeCluster and lists namespaces as alice', async () => {
    const before = requestsBy(alice!.arn).length;
    const run = await runCommand(process.execPath, [join(ROOT, 'examples/list-namespaces.mjs')], { cwd: ROOT, env: { ...env, CLUSTER_NAME: 'prod' } });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('default\n');
    expect(requestsBy(alice!.arn).length).toBe(before + 1);
    expect(emulator.stats().byAction.DescribeCluster).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['eksauth update-kubeconfig', []],
    ['the aws eks get-token form', ['--exec-command', 'aws']],
  ])('kubeconfig-in-process.mjs: a kubeconfig from update-kubeconfig (%s), served with no process spawned', async (_, extra) => {
    const kubeconfig = join(tempDir('eksauth-example-'), 'config');
    const update = await runEksauth(['update-kubeconfig', '--name', 'prod', '--region', 'eu-west-1', '--kubeconfig', kubeconfig, ...extra], { env });
    expect(update.code, update.stderr).toBe(0);
    const before = requestsBy(alice!.arn).length;
    // PATH holds neither eksauth nor aws: an exec plugin run would fail.
    const run = await runCommand(process.execPath, [join(ROOT, 'examples/kubeconfig-in-process.mjs')], {
      cwd: ROOT,
      env: { ...env, KUBECONFIG: kubeconfig, PATH: '/nonexistent' },
    });
    expect(run.stderr).toBe('serving 1 EKS user(s) in process\n');
    expect(run.stdout).toBe('default\n');
    expect(requestsBy(alice!.arn).length).toBe(before + 1);
  });
});
