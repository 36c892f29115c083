import { describe, expect, it, vi } from 'vitest';
import { createBatchedDescribe, createRateLimiter } from '../../../src/authn/mapping/ec2-batch.js';

const ids = (count: number, from = 0): string[] => Array.from({ length: count }, (_, i) => `i-${(from + i).toString(16).padStart(17, '0')}`);

describe('createBatchedDescribe', () => {
  it('sends the first lookups alone and batches the ones that arrive while those are in flight, as the reference', async () => {
    const calls: string[][] = [];
    const describeBatch = vi.fn(async (instanceIds: readonly string[]) => {
      calls.push([...instanceIds]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      return new Map(instanceIds.map((id) => [id, `${id}.internal`]));
    });
    const lookup = createBatchedDescribe(describeBatch, { maxInFlight: 5, maxBatch: 100, maxWaitMs: 50 });
    const names = await Promise.all(ids(205).map((id) => lookup(id)));
    expect(names[0]).toBe(`${ids(1)[0]}.internal`);
    expect(names.every((name, i) => name === `${ids(205)[i]}.internal`)).toBe(true);
    // 5 alone, then 200 queued: two full batches of 100, sent at once.
    expect(calls.map((call) => call.length)).toEqual([1, 1, 1, 1, 1, 100, 100]);
  });

  it('sends a partial batch after maxWaitMs, and answers undefined for ids EC2 does not know', async () => {
    const calls: string[][] = [];
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const lookup = createBatchedDescribe(async (instanceIds) => {
      calls.push([...instanceIds]);
      if (calls.length === 1) await blocked;
      return new Map(instanceIds.filter((id) => !id.endsWith('2')).map((id) => [id, 'dns']));
    }, { maxInFlight: 1, maxWaitMs: 30 });
    const [first, ...rest] = ids(3).map((id) => lookup(id));
    expect(await Promise.all(rest)).toEqual(['dns', undefined]);
    expect(calls).toEqual([[ids(1)[0]], ids(2, 1)]);
    release();
    expect(await first).toBe('dns');
  });

  it('rejects every lookup of a failed batch', async () => {
    const lookup = createBatchedDescribe(async () => {
      throw new Error('RequestLimitExceeded');
    }, { maxInFlight: 0, maxWaitMs: 1 });
    const results = await Promise.allSettled(ids(3).map((id) => lookup(id)));
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected', 'rejected']);
  });
});

describe('createRateLimiter', () => {
  it('lets a burst through at once, then qps calls a second', async () => {
    const limit = createRateLimiter(20, 3);
    const started = Date.now();
    const times: number[] = [];
    await Promise.all(Array.from({ length: 7 }, () => limit().then(() => times.push(Date.now() - started))));
    expect(times.slice(0, 3).every((ms) => ms < 40)).toBe(true);
    // Four more at 20/s need about 200 ms.
    expect(times[6]).toBeGreaterThanOrEqual(180);
  });

  it('does not limit with qps 0, and refuses a burst below 1', async () => {
    await Promise.all(Array.from({ length: 100 }, createRateLimiter(0, 0)));
    expect(() => createRateLimiter(10, 0)).toThrow(/burst >= 1/);
  });
});
