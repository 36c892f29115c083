/**
 * eksauth/client-node across real expiries, in real time: the emulator issues role sessions that live a few seconds
 * (`sessionLifetimeSeconds`) and answers ExpiredToken for a token signed with an expired one, as STS does; the test
 * API server asks it who signed each bearer token. A token never outlives its credentials, so every expiry of a
 * session forces the provider to assume the role again and sign anew.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eksKubeConfig, type EksKubeConfig } from '../../src/api/client-node.js';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import type { TokenProvider } from '../../src/index.js';
import { emulatorAuthenticator, startTestApiServer, type TestApiServer } from '../../src/testbed/apiserver.js';

const [alice] = DEMO_EMULATOR_CONFIG.identities;
const ROLE_ARN = 'arn:aws:iam::111122223333:role/eks-admin';
const SESSION_ARN = 'arn:aws:sts::111122223333:assumed-role/eks-admin/EKSGetTokenAuth';
// Generous for a loaded 2-core machine: a token is handed out until 2 s before its session ends, and a request
// (even one of 100 at once) reaches the emulator well within those 2 s.
const SESSION_SECONDS = 6;
const REFRESH_MARGIN_MS = 2_000;

describe('eksauth/client-node across role-session expiries (real time)', { timeout: 90_000 }, () => {
  let emulator: Emulator;
  let api: TestApiServer;
  let kc: EksKubeConfig;
  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG, { sessionLifetimeSeconds: SESSION_SECONDS });
    vi.stubEnv('AWS_ENDPOINT_URL_STS', emulator.url); // the SDK's STS client (AssumeRole) reads its endpoint from the process
    api = await startTestApiServer({ authenticate: emulatorAuthenticator({ clusterId: 'prod', stsEndpoint: emulator.url }) });
    kc = await eksKubeConfig({
      clusterName: 'prod',
      region: 'eu-west-1',
      server: api.url,
      certificateAuthorityData: Buffer.from(api.caPem).toString('base64'),
      credentials: { accessKeyId: alice!.accessKeyId, secretAccessKey: alice!.secretAccessKey },
      roleArn: ROLE_ARN,
      refreshMarginMs: REFRESH_MARGIN_MS,
    });
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await api?.close();
    await emulator?.close();
  });

  const assumed = () => emulator.stats().byAction.AssumeRole ?? 0;
  const served = () => api.requests().filter((r) => r.path === '/api/v1/namespaces' && r.username === SESSION_ARN && r.status === 200).length;
  const provider = (): TokenProvider => [...kc.eksAuthenticator.providers.values()][0]!;
  const listNames = async (core: CoreV1Api) => (await core.listNamespace()).items.map((n) => n.metadata?.name);

  it('keeps listing namespaces with zero failures while two sessions (and their tokens) expire', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const failures: unknown[] = [];
    const expiries = new Set<number>();
    let calls = 0;
    // Until two tokens the program used are past their expiry, their sessions refused by STS by now.
    while ([...expiries].filter((at) => at < Date.now()).length < 2) {
      calls += 1;
      await listNames(core).then((names) => expect(names).toEqual(['default']), (err: unknown) => failures.push(err));
      expiries.add((await provider().getToken()).expiresAt.getTime());
      await sleep(250);
    }
    expect(failures).toEqual([]);
    expect(served()).toBe(calls);
    expect(expiries.size).toBeGreaterThanOrEqual(3);
    expect(assumed()).toBe(expiries.size); // one AssumeRole per token: no more, no fewer
  });

  it('100 requests fired once the session has expired cause exactly one refresh', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const { expiresAt } = await provider().getToken();
    while (Date.now() <= expiresAt.getTime()) await sleep(expiresAt.getTime() - Date.now() + 50);
    const [assumedBefore, servedBefore] = [assumed(), served()];
    const outcomes = await Promise.allSettled(Array.from({ length: 100 }, () => listNames(core)));
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    expect(outcomes.every((o) => o.status === 'fulfilled' && o.value.join() === 'default')).toBe(true);
    expect(served()).toBe(servedBefore + 100);
    expect(assumed()).toBe(assumedBefore + 1);
    expect(kc.eksAuthenticator.providers.size).toBe(1);
  });
});
