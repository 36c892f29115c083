/**
 * The scripts of examples/, run as a user runs them (node, importing `eksauth/…` through the package's exports, build
 * first) against the EKS/STS emulator and the test API server, which asks the emulator who signed each bearer token.
 */
import { writeFileSync } from 'node:fs';
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
  let staging: TestApiServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    let authenticate: BearerAuthenticator = async () => undefined;
    let authenticateStaging: BearerAuthenticator = async () => undefined;
    api = await startTestApiServer({ authenticate: (token) => authenticate(token) });
    staging = await startTestApiServer({ authenticate: (token) => authenticateStaging(token) });
    const cluster = { name: 'prod', region: 'eu-west-1', endpoint: api.url, certificateAuthorityData: Buffer.from(api.caPem).toString('base64') };
    emulator = await startEmulator({ ...DEMO_EMULATOR_CONFIG, clusters: [cluster] });
    // Each API server accepts only tokens bound to its own cluster, as EKS does.
    authenticate = emulatorAuthenticator({ clusterId: 'prod', stsEndpoint: emulator.url });
    authenticateStaging = emulatorAuthenticator({ clusterId: 'staging', stsEndpoint: emulator.url });
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
    await staging?.close();
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

  it('inventory-controller.mjs: clients for two ClusterProfiles (current and deprecated field) from a providers file, in process', async () => {
    const dir = tempDir('eksauth-inventory-');
    const accessor = (server: TestApiServer, clusterId: string) => ({
      name: 'eks',
      cluster: {
        server: server.url,
        'certificate-authority-data': Buffer.from(server.caPem).toString('base64'),
        extensions: [{ name: 'client.authentication.k8s.io/exec', extension: { region: 'eu-west-1', clusterId } }],
      },
    });
    const profiles = [
      { apiVersion: 'multicluster.x-k8s.io/v1alpha1', kind: 'ClusterProfile', metadata: { name: 'prod' }, status: { accessProviders: [accessor(api, 'prod')] } },
      { apiVersion: 'multicluster.x-k8s.io/v1alpha1', kind: 'ClusterProfile', metadata: { name: 'staging' }, status: { credentialProviders: [accessor(staging, 'staging')] } },
    ];
    const files = profiles.map((profile) => {
      const file = join(dir, `${profile.metadata.name}.json`);
      writeFileSync(file, JSON.stringify(profile));
      return file;
    });
    const providers = join(dir, 'providers.json');
    writeFileSync(providers, JSON.stringify({
      providers: [
        { name: 'gke', execConfig: { apiVersion: 'client.authentication.k8s.io/v1', command: 'gke-gcloud-auth-plugin' } },
        { name: 'eks', execConfig: { apiVersion: 'client.authentication.k8s.io/v1', command: 'eksauth', args: ['token'], provideClusterInfo: true } },
      ],
    }));
    const before = requestsBy(alice!.arn).length;
    const run = await runCommand(process.execPath, [join(ROOT, 'examples/inventory-controller.mjs')], {
      cwd: ROOT,
      env: { ...env, CLUSTER_PROFILES: files.join(','), PROVIDERS_FILE: providers, PATH: '/nonexistent' },
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('prod: default\nstaging: default\n');
    expect(requestsBy(alice!.arn).length).toBe(before + 1);
    expect(staging.requests().filter((r) => r.username === alice!.arn && r.status === 200)).toHaveLength(1);
  });
});
