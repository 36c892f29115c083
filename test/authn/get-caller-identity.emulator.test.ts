/**
 * getCallerIdentity with tokens made by the real `aws eks get-token`, verified by the project's STS emulator, which
 * checks SigV4 signatures, including the signed x-k8s-aws-id header.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getCallerIdentity } from '../../src/authn/get-caller-identity.js';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator } from '../../src/emulator/server.js';
import type { Emulator } from '../../src/emulator/server.js';
import { EksAuthError } from '../../src/errors.js';
import { decodeToken } from '../../src/token/format.js';
import { hasCommand, runCommand } from '../support/tools.js';

const [ALICE, BOB] = DEMO_EMULATOR_CONFIG.identities;
const HAS_AWS = hasCommand('aws');
if (!HAS_AWS) console.warn('test/authn/get-caller-identity.emulator.test.ts: the aws CLI is not on PATH; skipped.');

/** Runs `aws eks get-token` offline with one identity's keys and returns the presigned URL inside the token. */
async function awsGetToken(keys: { accessKeyId: string; secretAccessKey: string }, clusterName: string): Promise<URL> {
  const result = await runCommand('aws', ['eks', 'get-token', '--cluster-name', clusterName, '--region', 'us-east-1'], {
    env: { AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey },
  });
  expect(result.code, result.stderr).toBe(0);
  const token: string = JSON.parse(result.stdout).status.token;
  const url = decodeToken(token);
  if (url === undefined) throw new Error('aws eks get-token printed a token that does not decode');
  return new URL(url);
}

describe.skipIf(!HAS_AWS)('getCallerIdentity against the STS emulator with tokens from aws eks get-token', () => {
  let emulator: Emulator;
  let aliceUrl: URL;
  let bobUrl: URL;

  beforeAll(async () => {
    if (!ALICE || !BOB) throw new Error('DEMO_EMULATOR_CONFIG no longer has alice and bob');
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
    [aliceUrl, bobUrl] = await Promise.all([awsGetToken(ALICE, 'c1'), awsGetToken(BOB, 'c1')]);
  });
  afterEach(() => emulator.setFault(undefined));
  afterAll(() => emulator?.close());

  const identify = (url: URL, clusterId: string, options: { timeoutMs?: number } = {}) =>
    getCallerIdentity(url, { clusterId, stsEndpoint: emulator.url, ...options });

  const failure = async (promise: Promise<unknown>): Promise<EksAuthError> => {
    const err = await promise.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(EksAuthError);
    const error = err as EksAuthError;
    expect(error.message).not.toContain(aliceUrl.search.slice(1));
    expect(error.message).not.toContain(aliceUrl.searchParams.get('X-Amz-Signature') ?? 'no signature');
    return error;
  };

  it('aws-cli signs for the regional STS host that the emulator is asked about', () => {
    expect(aliceUrl.hostname).toBe('sts.us-east-1.amazonaws.com');
    expect(aliceUrl.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
  });

  it('identifies alice for the cluster her token was made for', async () => {
    await expect(identify(aliceUrl, 'c1')).resolves.toEqual({
      arn: ALICE?.arn, account: '111122223333', userId: ALICE?.userId,
    });
  });

  it('identifies bob as bob', async () => {
    await expect(identify(bobUrl, 'c1')).resolves.toMatchObject({ arn: BOB?.arn });
  });

  it('is ERR_STS_REJECTED for another cluster: the signed x-k8s-aws-id no longer matches', async () => {
    const err = await failure(identify(aliceUrl, 'c2'));
    expect(err.code).toBe('ERR_STS_REJECTED');
    expect(err.message).toContain('SignatureDoesNotMatch');
    expect(err.message).toContain('"c2"');
  });

  it('is ERR_STS_REJECTED when the query was tampered with', async () => {
    const tampered = new URL(aliceUrl);
    tampered.searchParams.set('X-Amz-Expires', '900');
    expect((await failure(identify(tampered, 'c1'))).code).toBe('ERR_STS_REJECTED');
  });

  it('is ERR_STS_THROTTLED when STS throttles', async () => {
    emulator.setFault({ throttle: true });
    expect((await failure(identify(aliceUrl, 'c1'))).code).toBe('ERR_STS_THROTTLED');
  });

  it('is ERR_STS_UNAVAILABLE when STS fails with 5xx', async () => {
    emulator.setFault({ status: 503 });
    const err = await failure(identify(aliceUrl, 'c1'));
    expect(err.code).toBe('ERR_STS_UNAVAILABLE');
    expect(err.message).toContain('ServiceUnavailable');
  });

  it('is ERR_STS_RESPONSE when STS answers 200 with something that is not STS', async () => {
    emulator.setFault({ garbage: true });
    expect((await failure(identify(aliceUrl, 'c1'))).code).toBe('ERR_STS_RESPONSE');
  });

  it('is ERR_STS_UNAVAILABLE when STS is slower than the deadline', async () => {
    emulator.setFault({ latencyMs: 5_000, times: 1 });
    expect((await failure(identify(aliceUrl, 'c1', { timeoutMs: 100 }))).code).toBe('ERR_STS_UNAVAILABLE');
  });

  it('works again once the fault is gone', async () => {
    emulator.setFault({ status: 500, times: 1 });
    expect((await failure(identify(aliceUrl, 'c1'))).code).toBe('ERR_STS_UNAVAILABLE');
    await expect(identify(aliceUrl, 'c1')).resolves.toMatchObject({ arn: ALICE?.arn });
  });
});
