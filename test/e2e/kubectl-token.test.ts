/**
 * kubectl (real) runs `eksauth token` from a kubeconfig exec block; the loopback HTTPS test API server checks every
 * bearer token with the STS emulator; `kubectl auth whoami` shows who the token belongs to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { emulatorAuthenticator, startTestApiServer, type TestApiServer } from '../../src/testbed/apiserver.js';
import { eksauthBuilds } from '../support/eksauth.js';
import { writeKubeconfig, type ExecUserConfig } from '../support/kubeconfig.js';
import { hasCommand, runCommand } from '../support/tools.js';

const HAS_KUBECTL = hasCommand('kubectl');
if (!HAS_KUBECTL) console.warn('test/e2e/kubectl-token.test.ts: kubectl is not on PATH; skipped.');
const [ALICE] = DEMO_EMULATOR_CONFIG.identities;
const CLUSTER = 'prod-eu';

const BUILDS = eksauthBuilds('test/e2e/kubectl-token.test.ts');

describe.skipIf(!HAS_KUBECTL).each(BUILDS)('kubectl → eksauth token ($name build) → test API server → STS emulator', (build) => {
  let emulator: Emulator;
  let server: TestApiServer;
  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
    server = await startTestApiServer({ authenticate: emulatorAuthenticator({ clusterId: CLUSTER, stsEndpoint: emulator.url }) });
  });
  afterAll(async () => {
    await server?.close();
    await emulator?.close();
  });

  async function kubectl(exec: Omit<ExecUserConfig, 'command'>, args: string[], execExtension?: Record<string, unknown>) {
    const kubeconfig = await writeKubeconfig({
      server: server.url,
      caPem: server.caPem,
      user: { exec: { ...exec, command: build.command } },
      ...(execExtension ? { execExtension } : {}),
    });
    return runCommand('kubectl', ['--kubeconfig', kubeconfig, ...args], {
      env: { AWS_ACCESS_KEY_ID: ALICE?.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE?.secretAccessKey, AWS_ENDPOINT_URL_STS: emulator.url },
    });
  }
  const whoami = async (exec: Omit<ExecUserConfig, 'command'>, execExtension?: Record<string, unknown>) => {
    const result = await kubectl(exec, ['auth', 'whoami', '-o', 'json'], execExtension);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    return (JSON.parse(result.stdout) as { status: { userInfo: { username: string } } }).status.userInfo.username;
  };

  it('with client.authentication.k8s.io/v1beta1', async () => {
    const exec = { apiVersion: 'client.authentication.k8s.io/v1beta1', args: ['token', '--cluster-name', CLUSTER, '--region', 'eu-west-1'] };
    expect(await whoami(exec)).toBe(ALICE?.arn);
    const raw = await kubectl(exec, ['get', '--raw', '/api']);
    expect(JSON.parse(raw.stdout)).toMatchObject({ kind: 'APIVersions' });
  });

  it('with client.authentication.k8s.io/v1 and interactiveMode: Never', async () => {
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', interactiveMode: 'Never', args: ['token', '-i', CLUSTER, '--region', 'eu-west-1'] };
    expect(await whoami(exec)).toBe(ALICE?.arn);
  });

  it('with provideClusterInfo and the ClusterProfile exec extension carrying region and clusterId', async () => {
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', interactiveMode: 'Never', provideClusterInfo: true, args: ['token'] };
    expect(await whoami(exec, { region: 'eu-west-1', clusterId: CLUSTER })).toBe(ALICE?.arn);
  });

  it('with the aws CLI argument form after swapping `command: aws` for eksauth', async () => {
    const exec = { args: ['--region', 'eu-west-1', 'eks', 'get-token', '--cluster-name', CLUSTER, '--output', 'json'] };
    expect(await whoami(exec)).toBe(ALICE?.arn);
  });

  it('as an assumed role', async () => {
    const exec = { args: ['token', '--cluster-name', CLUSTER, '--region', 'eu-west-1', '--role-arn', 'arn:aws:iam::111122223333:role/eks-admin'] };
    expect(await whoami(exec)).toBe('arn:aws:sts::111122223333:assumed-role/eks-admin/EKSGetTokenAuth');
  });

  it('is refused with Unauthorized for a token bound to another cluster', async () => {
    const result = await kubectl({ args: ['token', '--cluster-name', 'other-cluster', '--region', 'eu-west-1'] }, ['get', '--raw', '/api']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Unauthorized/);
  });

  it('shows the plugin’s one-line error when the cluster extension is missing', async () => {
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', interactiveMode: 'Never', provideClusterInfo: true, args: ['token'] };
    const result = await kubectl(exec, ['get', '--raw', '/api']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('eksauth: missing ExecCredential.Spec.Cluster.Config (extensions)');
    expect(result.stderr).toMatch(/exec: executable .* failed with exit code 2/);
  });
});
