/**
 * getToken and createTokenProvider from the root entry, against the STS emulator: tokens it accepts, one refresh for
 * 100 concurrent callers at expiry, and no token served past its credentials' expiry. The emulator and the provider
 * share a clock that the test moves, so a 15-minute expiry is crossed without waiting for it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyToken } from '../../src/api/verify.js';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { createTokenProvider, EksAuthError, getToken, type AwsCredentialIdentity } from '../../src/index.js';

const [alice] = DEMO_EMULATOR_CONFIG.identities;
const ADMIN_ROLE = DEMO_EMULATOR_CONFIG.roles![0]!.arn;
const MINUTE = 60_000;

/** A clock the test moves by hand. */
function testClock(start = Date.now()) {
  let at = start;
  return { now: () => new Date(at), advance: (ms: number) => (at += ms) };
}

/** Alice's keys, through a provider that counts its calls: each signing asks it once. */
function countingCredentials(extra: Partial<AwsCredentialIdentity> = {}) {
  const counter = { calls: 0 };
  const provider = async (): Promise<AwsCredentialIdentity> => {
    counter.calls += 1;
    return { accessKeyId: alice!.accessKeyId, secretAccessKey: alice!.secretAccessKey, ...extra };
  };
  return { counter, provider };
}

describe('getToken and createTokenProvider', () => {
  const clock = testClock();
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG, { now: clock.now });
  });
  afterAll(() => emulator?.close());

  const verify = (token: string) => verifyToken(token, { clusterId: 'prod', stsEndpoint: emulator.url, now: clock.now() });

  it('getToken: a token for the cluster name, its expiry and STS host', async () => {
    const { provider } = countingCredentials();
    const token = await getToken({ clusterName: 'prod', region: 'eu-west-1', credentials: provider, now: clock.now });
    expect(token.stsHost).toBe('sts.eu-west-1.amazonaws.com');
    expect(token.expiresAt.getTime() - clock.now().getTime()).toBe(14 * MINUTE);
    expect((await verify(token.token)).identity.arn).toBe(alice!.arn);
  });

  it('getToken: refuses clusterName and clusterId together, and stops at an aborted signal', async () => {
    const { provider, counter } = countingCredentials();
    await expect(getToken({ clusterName: 'a', clusterId: 'b', region: 'eu-west-1', credentials: provider })).rejects.toMatchObject({ code: 'ERR_USAGE' });
    await expect(getToken({ region: 'eu-west-1', credentials: provider })).rejects.toBeInstanceOf(EksAuthError);
    const reason = new Error('caller gave up');
    await expect(getToken({ clusterName: 'prod', region: 'eu-west-1', credentials: provider, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(counter.calls).toBe(0);
  });

  it('100 concurrent callers share one signing, then get the cached token, and one refresh after expiry', async () => {
    const { provider, counter } = countingCredentials();
    const tokens = createTokenProvider({ clusterName: 'prod', region: 'eu-west-1', credentials: provider, now: clock.now });
    const first = await Promise.all(Array.from({ length: 100 }, () => tokens.getToken()));
    expect(counter.calls).toBe(1);
    expect(new Set(first.map((t) => t.token)).size).toBe(1);
    clock.advance(12 * MINUTE);
    expect((await tokens.getToken()).token).toBe(first[0]!.token);
    expect(counter.calls).toBe(1);

    clock.advance(3 * MINUTE + 1000); // past the old token's 15 minutes at STS
    await expect(verify(first[0]!.token)).rejects.toBeInstanceOf(EksAuthError);
    const second = await Promise.all(Array.from({ length: 100 }, () => tokens.getToken()));
    expect(counter.calls).toBe(2);
    expect(new Set(second.map((t) => t.token)).size).toBe(1);
    expect(second[0]!.token).not.toBe(first[0]!.token);
    expect((await verify(second[0]!.token)).identity.arn).toBe(alice!.arn);
  });

  it('never serves a token past its credentials’ expiry', async () => {
    const expiration = new Date(clock.now().getTime() + 5 * MINUTE);
    const { provider, counter } = countingCredentials({ sessionToken: 'session', expiration });
    const tokens = createTokenProvider({ clusterName: 'prod', region: 'eu-west-1', credentials: provider, now: clock.now });
    expect((await tokens.getToken()).expiresAt).toEqual(expiration);
    clock.advance(4 * MINUTE + 30_000); // inside the one-minute margin before the credentials expire
    await tokens.getToken();
    expect(counter.calls).toBe(2);
  });

  it('keeps assumed-role credentials: a refresh signs again without a second AssumeRole', async () => {
    // The SDK signs AssumeRole with the real clock: this emulator keeps it; only the provider's clock moves.
    const realTime = await startEmulator(DEMO_EMULATOR_CONFIG);
    vi.stubEnv('AWS_ENDPOINT_URL_STS', realTime.url); // the SDK's STS client reads its endpoint from the process
    try {
      const providerClock = testClock();
      const { provider, counter } = countingCredentials();
      const tokens = createTokenProvider({ clusterName: 'prod', region: 'eu-west-1', credentials: provider, roleArn: ADMIN_ROLE, now: providerClock.now });
      const first = await tokens.getToken();
      const { identity } = await verifyToken(first.token, { clusterId: 'prod', stsEndpoint: realTime.url });
      expect(identity.arn).toMatch(/assumed-role\/eks-admin\/EKSGetTokenAuth$/);
      providerClock.advance(14 * MINUTE);
      expect((await tokens.getToken()).token).not.toBe(first.token);
      expect(realTime.stats().byAction.AssumeRole).toBe(1);
      expect(counter.calls).toBe(1);
      tokens.invalidate();
      await tokens.getToken();
      expect(realTime.stats().byAction.AssumeRole).toBe(2);
    } finally {
      vi.unstubAllEnvs();
      await realTime.close();
    }
  });

  it('a caller that aborts stops waiting; the shared refresh still completes for the others', async () => {
    const { provider, counter } = countingCredentials();
    const tokens = createTokenProvider({ clusterName: 'prod', region: 'eu-west-1', credentials: provider, now: clock.now });
    const controller = new AbortController();
    const aborted = tokens.getToken({ signal: controller.signal });
    const other = tokens.getToken();
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect((await other).token).toMatch(/^k8s-aws-v1\./);
    expect(counter.calls).toBe(1);
  });
});
