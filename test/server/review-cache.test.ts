import { describe, expect, it } from 'vitest';
import { createReviewCache } from '../../src/server/review-cache.js';

describe('createReviewCache', () => {
  it('reuses a verified answer until the TTL runs out', async () => {
    let now = 1_000;
    const cache = createReviewCache<string>({ ttlMs: 100, maxEntries: 10, now: () => now });
    let calls = 0;
    const verify = async () => ({ value: `identity-${++calls}`, validUntil: 1_000_000 });
    expect(await cache.get('token-a', verify)).toEqual({ value: 'identity-1', result: 'miss' });
    expect(await cache.get('token-a', verify)).toEqual({ value: 'identity-1', result: 'hit' });
    now += 100;
    expect(await cache.get('token-a', verify)).toEqual({ value: 'identity-2', result: 'miss' });
  });

  it('never keeps an answer past the token’s own validity', async () => {
    let now = 1_000;
    const cache = createReviewCache<string>({ ttlMs: 60_000, maxEntries: 10, now: () => now });
    let calls = 0;
    const verify = async () => ({ value: `v${++calls}`, validUntil: 1_050 });
    await cache.get('t', verify);
    now = 1_049;
    expect((await cache.get('t', verify)).result).toBe('hit');
    now = 1_050;
    expect((await cache.get('t', verify)).result).toBe('miss');
  });

  it('stores nothing for an answer with no validity or an already expired token', async () => {
    const cache = createReviewCache<string>({ ttlMs: 60_000, maxEntries: 10, now: () => 5_000 });
    await cache.get('a', async () => ({ value: 'x' }));
    await cache.get('b', async () => ({ value: 'y', validUntil: 4_000 }));
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
    const first = cache.get('t', failing);
    const second = cache.get('t', failing);
    await Promise.resolve();
    release?.();
    await expect(first).rejects.toThrow('STS down');
    await expect(second).rejects.toThrow('STS down');
    expect(calls).toBe(1);
    const retry = cache.get('t', failing);
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
    const answers = await Promise.all(Array.from({ length: 20 }, () => cache.get('same-token', verify)));
    expect(calls).toBe(1);
    expect(answers.filter((a) => a.result === 'miss')).toHaveLength(1);
    expect(answers.filter((a) => a.result === 'coalesced')).toHaveLength(19);
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const cache = createReviewCache<string>({ ttlMs: 60_000, maxEntries: 2 });
    const verify = (value: string) => async () => ({ value, validUntil: Date.now() + 60_000 });
    await cache.get('a', verify('A'));
    await cache.get('b', verify('B'));
    await cache.get('a', verify('A'));
    await cache.get('c', verify('C'));
    expect(cache.size()).toBe(2);
    expect((await cache.get('a', verify('A2'))).result).toBe('hit');
    expect((await cache.get('b', verify('B2'))).result).toBe('miss');
  });

  it('with a TTL of 0 stores nothing but still coalesces', async () => {
    const cache = createReviewCache<string>({ ttlMs: 0, maxEntries: 10 });
    let calls = 0;
    const verify = async () => ({ value: `v${++calls}`, validUntil: Date.now() + 60_000 });
    await Promise.all([cache.get('t', verify), cache.get('t', verify)]);
    await cache.get('t', verify);
    expect(calls).toBe(2);
    expect(cache.size()).toBe(0);
  });
});
