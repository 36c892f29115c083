/**
 * eksauth/client-node inside a program: @kubernetes/client-node's CoreV1Api against the test API server, whose bearer
 * tokens the STS emulator checks. The emulator and the token provider share a clock the test moves, so the program
 * crosses a token's 15-minute lifetime without waiting; 100 requests at once after it cause one signing. Expiries in
 * real time, of short role sessions, are in client-node-expiry.test.ts.
 */
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEksAuthenticator, eksKubeConfig, parseTokenExec, useEksAuthenticator } from '../../src/api/client-node.js';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import type { AwsCredentialIdentity } from '../../src/index.js';
import { emulatorAuthenticator, startTestApiServer, type TestApiServer } from '../../src/testbed/apiserver.js';

const [alice] = DEMO_EMULATOR_CONFIG.identities;
const MINUTE = 60_000;

describe('eksauth/client-node', () => {
  let at = Date.now();
  const now = () => new Date(at);
  let emulator: Emulator;
  let api: TestApiServer;
  let signings = 0;
  const credentials = async (): Promise<AwsCredentialIdentity> => {
    signings += 1;
    return { accessKeyId: alice!.accessKeyId, secretAccessKey: alice!.secretAccessKey };
  };
  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG, { now });
    api = await startTestApiServer({ authenticate: emulatorAuthenticator({ clusterId: 'prod', stsEndpoint: emulator.url }) });
  });
  afterAll(async () => {
    await api?.close();
    await emulator?.close();
  });
  const served = () => api.requests().filter((r) => r.path === '/api/v1/namespaces' && r.username === alice!.arn && r.status === 200).length;

  it('eksKubeConfig keeps a program working across token expiry; 100 requests at expiry cause one refresh', async () => {
    const kc = await eksKubeConfig({
      clusterName: 'prod', region: 'eu-west-1', server: api.url, certificateAuthorityData: Buffer.from(api.caPem).toString('base64'), credentials, now,
    });
    const core = kc.makeApiClient(CoreV1Api);
    expect((await core.listNamespace()).items.map((n) => n.metadata?.name)).toEqual(['default']);
    expect(signings).toBe(1);

    at += 15 * MINUTE + 1000; // the first token is now refused by STS
    const before = served();
    const lists = await Promise.all(Array.from({ length: 100 }, () => core.listNamespace()));
    expect(lists.every((list) => list.items.length === 1)).toBe(true);
    expect(served()).toBe(before + 100);
    expect(signings).toBe(2);
    expect(kc.eksAuthenticator.providers.size).toBe(1);
  });

  it('useEksAuthenticator serves exec users of eksauth and aws eks get-token in process, and leaves others alone', async () => {
    const kc = new KubeConfig();
    const cluster = { name: 'prod', server: api.url, caData: Buffer.from(api.caPem).toString('base64'), skipTLSVerify: false };
    kc.loadFromOptions({
      clusters: [cluster],
      users: [
        { name: 'aws', exec: { command: 'aws', args: ['--region', 'eu-west-1', 'eks', 'get-token', '--cluster-name', 'prod', '--output', 'json'], env: null } },
        { name: 'other', exec: { command: 'gke-gcloud-auth-plugin', args: [] } },
      ],
      contexts: [{ name: 'prod', cluster: 'prod', user: 'aws' }],
      currentContext: 'prod',
    });
    const signedBefore = signings;
    expect(useEksAuthenticator(kc, createEksAuthenticator({ credentials, now }))).toBe(1);
    expect(kc.getUser('other')?.exec).toBeDefined();
    expect((await kc.makeApiClient(CoreV1Api).listNamespace()).items).toHaveLength(1);
    expect(signings).toBe(signedBefore + 1);
  });

  it('parseTokenExec reads the three token commands and ignores other programs', () => {
    expect(parseTokenExec({ command: '/usr/local/bin/eksauth', args: ['token', '-i', 'abc', '--region', 'us-west-2', '-r', 'arn:aws:iam::1:role/x'], env: [{ name: 'AWS_PROFILE', value: 'p' }] }))
      .toEqual({ clusterId: 'abc', region: 'us-west-2', roleArn: 'arn:aws:iam::1:role/x', env: { AWS_PROFILE: 'p' } });
    expect(parseTokenExec({ command: 'aws', args: ['--profile', 'dev', 'eks', 'get-token', '--cluster-name', 'prod', '--role-arn', 'arn:aws:iam::1:role/y'] }))
      .toEqual({ clusterName: 'prod', profile: 'dev', roleArn: 'arn:aws:iam::1:role/y', env: {} });
    expect(parseTokenExec({ command: 'aws-iam-authenticator', args: ['token', '-i', 'prod'] })).toEqual({ clusterId: 'prod', env: {} });
    expect(parseTokenExec({ command: 'aws', args: ['sts', 'get-caller-identity'] })).toBeUndefined();
    expect(parseTokenExec({ command: 'kubelogin', args: ['get-token'] })).toBeUndefined();
  });
});
