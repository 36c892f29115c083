/**
 * The whole chain with real clients: kubectl runs `aws eks get-token` as its exec plugin, the test API server
 * authenticates the bearer token by asking the STS emulator (emulatorAuthenticator), and `kubectl auth whoami`
 * shows the IAM identity.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator } from '../../src/emulator/server.js';
import type { Emulator } from '../../src/emulator/server.js';
import { emulatorAuthenticator, startTestApiServer } from '../../src/testbed/apiserver.js';
import type { TestApiServer } from '../../src/testbed/apiserver.js';
import { writeKubeconfig } from '../support/kubeconfig.js';
import { hasCommand, runCommand } from '../support/tools.js';

const MISSING = ['kubectl', 'aws'].filter((tool) => !hasCommand(tool));
if (MISSING.length > 0) console.warn(`test/testbed/kubectl-aws-emulator.test.ts: ${MISSING.join(' and ')} not on PATH; skipped.`);

const [ALICE] = DEMO_EMULATOR_CONFIG.identities;

describe.skipIf(MISSING.length > 0)('kubectl → aws eks get-token → test API server → STS emulator', () => {
  let emulator: Emulator;
  let server: TestApiServer;

  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
    server = await startTestApiServer({ authenticate: emulatorAuthenticator({ clusterId: 'c1', stsEndpoint: emulator.url }) });
  });
  afterAll(async () => {
    await server?.close();
    await emulator?.close();
  });

  const whoami = async (clusterName: string) => {
    const kubeconfig = await writeKubeconfig({
      server: server.url,
      caPem: server.caPem,
      user: {
        exec: {
          command: 'aws',
          args: ['eks', 'get-token', '--cluster-name', clusterName, '--region', 'us-east-1'],
          apiVersion: 'client.authentication.k8s.io/v1',
          interactiveMode: 'Never',
        },
      },
    });
    // kubectl passes its environment to the plugin, so alice's keys reach aws-cli this way.
    return runCommand('kubectl', ['--kubeconfig', kubeconfig, 'auth', 'whoami', '-o', 'json'], {
      env: { AWS_ACCESS_KEY_ID: ALICE?.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE?.secretAccessKey },
    });
  };

  it('authenticates alice by her IAM ARN', async () => {
    const result = await whoami('c1');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).status.userInfo).toEqual({
      username: 'arn:aws:iam::111122223333:user/alice',
      uid: `aws-iam-authenticator:111122223333:${ALICE?.userId}`,
      groups: ['system:authenticated'],
    });
  });

  it('refuses a token made for another cluster with Unauthorized', async () => {
    const before = server.requests().length;
    const result = await whoami('c2');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Unauthorized/);
    expect(server.requests().slice(before)).toContainEqual(expect.objectContaining({ status: 401, authError: 'rejected' }));
  });
});
