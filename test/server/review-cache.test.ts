import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StsIdentity } from '../../src/authn/arn.js';
import { parseMappingFile } from '../../src/authn/mapping/file/mapping-file.js';
import { verdictScope } from '../../src/authn/verify.js';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { resolveServerConfig } from '../../src/server/config.js';
import type { ServerMappings } from '../../src/server/mappings.js';
import { createServerMetrics } from '../../src/server/metrics.js';
import { createReviewCache, type ReviewCache } from '../../src/server/review-cache.js';
import { createTokenReviewer, type TokenReviewer } from '../../src/server/review.js';
import { tempDir } from '../support/tools.js';
import { ALICE, mintToken } from './helpers.js';

const PROD = { clusterId: 'prod' };

describe('createReviewCache', () => {
  it('reuses a verified answer until the TTL runs out', async () => {
    let now = 1_000;
    const cache = createReviewCache<string>({ ttlMs: 100, maxEntries: 10, now: () => now });
    let calls = 0;
    const verify = async () => ({ value: `identity-${++calls}`, validUntil: 1_000_000 });
    expect(await cache.get('token-a', PROD, verify)).toEqual({ value: 'identity-1', result: 'miss' });
    expect(await cache.get('token-a', PROD, verify)).toEqual({ value: 'identity-1', result: 'hit' });
    now += 100;
    expect(await cache.get('token-a', PROD, verify)).toEqual({ value: 'identity-2', result: 'miss' });
  });

  it('never keeps an answer past the token’s own validity', async () => {
    let now = 1_000;
    const cache = createReviewCache<string>({ ttlMs: 60_000, maxEntries: 10, now: () => now });
    let calls = 0;
    const verify = async () => ({ value: `v${++calls}`, validUntil: 1_050 });
    await cache.get('t', PROD, verify);
    now = 1_049;
    expect((await cache.get('t', PROD, verify)).result).toBe('hit');
    now = 1_050;
    expect((await cache.get('t', PROD, verify)).result).toBe('miss');
  });

  it('stores nothing for an answer with no validity or an already expired token', async () => {
    const cache = createReviewCache<string>({ ttlMs: 60_000, maxEntries: 10, now: () => 5_000 });
    await cache.get('a', PROD, async () => ({ value: 'x' }));
    await cache.get('b', PROD, async () => ({ value: 'y', validUntil: 4_000 }));
    expect(cache.size()).toBe(0);
  });

  it('caches successes only: a failure is shared with callers in flight, then forgotten', async () => {
    const cache = createReviewCache<string>({ ttlMs: 60_000, maxEntries: 10 });
    let calls = 0;
    let release: (() => void) | undefined;
    const failing = () => {
      calls += 1;
      return new Promise<never>((_, reject) => { release = () => reject(new Error('STS down')); });
    };
    const first = cache.get('t', PROD, failing);
    const second = cache.get('t', PROD, failing);
    await Promise.resolve();
    release?.();
    await expect(first).rejects.toThrow('STS down');
    await expect(second).rejects.toThrow('STS down');
    expect(calls).toBe(1);
    const retry = cache.get('t', PROD, failing);
    release?.();
    await expect(retry).rejects.toThrow('STS down');
    expect(calls).toBe(2);
  });

  it('makes identical concurrent lookups share one verification', async () => {
    const cache = createReviewCache<string>({ ttlMs: 60_000, maxEntries: 10 });
    let calls = 0;
    const verify = async () => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { value: 'who', validUntil: Date.now() + 60_000 };
    };
    const answers = await Promise.all(Array.from({ length: 20 }, () => cache.get('same-token', PROD, verify)));
    expect(calls).toBe(1);
    expect(answers.filter((a) => a.result === 'miss')).toHaveLength(1);
    expect(answers.filter((a) => a.result === 'coalesced')).toHaveLength(19);
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const cache = createReviewCache<string>({ ttlMs: 60_000, maxEntries: 2 });
    const verify = (value: string) => async () => ({ value, validUntil: Date.now() + 60_000 });
    await cache.get('a', PROD, verify('A'));
    await cache.get('b', PROD, verify('B'));
    await cache.get('a', PROD, verify('A'));
    await cache.get('c', PROD, verify('C'));
    expect(cache.size()).toBe(2);
    expect((await cache.get('a', PROD, verify('A2'))).result).toBe('hit');
    expect((await cache.get('b', PROD, verify('B2'))).result).toBe('miss');
  });

  it('with a TTL of 0 stores nothing but still coalesces', async () => {
    const cache = createReviewCache<string>({ ttlMs: 0, maxEntries: 10 });
    let calls = 0;
    const verify = async () => ({ value: `v${++calls}`, validUntil: Date.now() + 60_000 });
    await Promise.all([cache.get('t', PROD, verify), cache.get('t', PROD, verify)]);
    await cache.get('t', PROD, verify);
    expect(calls).toBe(2);
    expect(cache.size()).toBe(0);
  });
});

/**
 * Two reviewers of different clusters sharing one cache, against the STS emulator: STS's verdict depends on the
 * cluster id, so a token verified for one cluster must not pass the other from the cache.
 */
describe('a review cache shared by reviewers of different clusters', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
  });
  afterAll(async () => emulator?.close());

  async function reviewerFor(clusterId: string, cache: ReviewCache<StsIdentity>): Promise<TokenReviewer> {
    const config = resolveServerConfig({ clusterId, port: 0, opsPort: null, stateDir: join(tempDir(), 'state'), stsEndpoint: emulator.url });
    const source = parseMappingFile(`mapUsers:\n  - userarn: ${ALICE.arn}\n    username: alice\n`, 'mapping.yaml');
    const mappings: ServerMappings = { sources: () => [source], ready: () => true, states: () => [], close: async () => undefined };
    return createTokenReviewer({ config, mappings, metrics: await createServerMetrics(), cache });
  }

  it('keys on the cluster id: a token for cluster A is refused by B before and after A verified it', async () => {
    const cache = createReviewCache<StsIdentity>({ ttlMs: 60_000, maxEntries: 100 });
    const [clusterA, clusterB] = [await reviewerFor('cluster-a', cache), await reviewerFor('cluster-b', cache)];
    const token = await mintToken(ALICE, 'cluster-a');
    const statuses = [(await clusterB(token)).status, (await clusterA(token)).status, (await clusterB(token)).status];
    expect(statuses).toEqual([403, 200, 403]);
  });

  it('keys on everything the verdict depends on, and on nothing else', () => {
    const base = { clusterId: 'prod' };
    const scopes = [
      base, { clusterId: 'staging' }, { ...base, partitions: ['aws', 'aws-cn'] }, { ...base, regions: ['eu-west-1'] },
      { ...base, stsEndpoint: 'https://sts.internal' }, { ...base, maxClockSkewSeconds: 30 },
    ].map(verdictScope);
    expect(new Set(scopes).size).toBe(scopes.length);
    expect(verdictScope({ ...base, timeoutMs: 1, now: new Date(0) })).toBe(verdictScope(base));
  });
});
