/**
 * The fixture the mapping tests share: an STS emulator, a test API server that accepts the server's service-account
 * token, tokens for alice and bob, and servers started against both (closed after the file's tests).
 */
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import type { ServerConfigInput } from '../../src/server/config.js';
import type { KubernetesAccess } from '../../src/server/kubernetes-access.js';
import { startServer, type RunningServer } from '../../src/server/run.js';
import { startTestApiServer, type TestApiServer } from '../../src/testbed/apiserver.js';
import { tempDir } from '../support/tools.js';
import { ALICE, BOB, logSink, mintToken, request, review } from './helpers.js';

export const CLUSTER = 'prod-eu';
const SERVICE_ACCOUNT_TOKEN = 'eksauth-server-service-account-token';

export interface MappingServers {
  /** Set before the first test. */
  env: { api: TestApiServer; tokens: { alice: string; bob: string } };
  /** Starts a server reading the test API server (or `kubernetes`), reloading files every 50 ms. */
  start(settings: ServerConfigInput, log?: ReturnType<typeof logSink>, kubernetes?: KubernetesAccess): Promise<RunningServer>;
  /** The API server access the servers get, pointed elsewhere. */
  accessTo(server: string): KubernetesAccess;
}

/** Registers the fixture's beforeAll/afterAll hooks in the calling file. */
export function useMappingServers(): MappingServers {
  let emulator: Emulator;
  const env = {} as MappingServers['env'];
  const running: RunningServer[] = [];
  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
    env.api = await startTestApiServer({
      authenticate: async () => undefined,
      staticTokens: { [SERVICE_ACCOUNT_TOKEN]: { username: 'system:serviceaccount:kube-system:eksauth' } },
    });
    env.tokens = { alice: await mintToken(ALICE, CLUSTER), bob: await mintToken(BOB, CLUSTER) };
  });
  afterAll(async () => {
    await Promise.all(running.map((server) => server.close()));
    await env.api?.close();
    await emulator?.close();
  });
  const accessTo = (server: string): KubernetesAccess => ({ server, caPem: env.api.caPem, token: SERVICE_ACCOUNT_TOKEN });
  return {
    env,
    accessTo,
    start: async (settings, log = logSink(), kubernetes = accessTo(env.api.url)) => {
      const server = await startServer({
        clusterId: CLUSTER, port: 0, opsPort: null, stateDir: join(tempDir(), 'state'), stsEndpoint: emulator.url,
        mappingReloadIntervalMs: 50, ...settings,
      }, { logDestination: log, kubernetes });
      running.push(server);
      return server;
    },
  };
}

/** The username a review of `token` gives, undefined when refused. */
export async function usernameOf(server: RunningServer, token: string): Promise<string | undefined> {
  return (await review(server, token)).body.status?.user?.username;
}

export function readyz(server: RunningServer) {
  return request(server.url.replace('/authenticate', '/readyz'), { caPem: server.caPem });
}

export async function metricsOf(server: RunningServer): Promise<string> {
  return (await request(server.url.replace('/authenticate', '/metrics'), { caPem: server.caPem })).text;
}
