/**
 * Keeping `{{EC2PrivateDNSName}}` lookups from storming EC2 when every kubelet authenticates at once (a control-plane
 * restart): a rate limit on DescribeInstances calls, and batching as aws-iam-authenticator batches them — a few
 * lookups go out alone, and while those are in flight the next ones wait up to 200 ms and go out together, up to 100
 * instance ids in one call.
 */
import { EksAuthError } from '../../errors.js';

/** One DescribeInstances call: instance id → private DNS name, for the ids EC2 knows (others absent). */
export type DescribeBatch = (instanceIds: readonly string[]) => Promise<ReadonlyMap<string, string>>;

export interface BatchOptions {
  /** Lookups that go out alone at once; past that they are batched. Default 5, as the reference. */
  maxInFlight?: number;
  /** Most ids in one batch; a full batch goes out at once. Default 100, as the reference. */
  maxBatch?: number;
  /** Longest a lookup waits for its batch to fill. Default 200 ms, as the reference. */
  maxWaitMs?: number;
}

interface Waiter {
  instanceId: string;
  resolve: (name: string | undefined) => void;
  reject: (err: unknown) => void;
}

/**
 * Wraps `describe` so that at most `maxInFlight` single-id calls run at once and further lookups are batched.
 * Resolves to the private DNS name, or `undefined` when EC2 does not know the instance; a failed call rejects every
 * lookup it carried.
 *
 * @example
 * ```ts
 * import { createBatchedDescribe } from './ec2-batch.js';
 * const lookup = createBatchedDescribe(async (ids) => new Map(ids.map((id) => [id, `${id}.internal`])));
 * await lookup('i-0123456789abcdef0'); // 'i-0123456789abcdef0.internal'
 * ```
 */
export function createBatchedDescribe(describe: DescribeBatch, options: BatchOptions = {}): (instanceId: string) => Promise<string | undefined> {
  const { maxInFlight = 5, maxBatch = 100, maxWaitMs = 200 } = options;
  let inFlight = 0;
  let queue: Waiter[] = [];
  let timer: NodeJS.Timeout | undefined;

  const send = (waiters: Waiter[]): void => {
    describe([...new Set(waiters.map((waiter) => waiter.instanceId))]).then(
      (names) => waiters.forEach((waiter) => waiter.resolve(names.get(waiter.instanceId))),
      (err: unknown) => waiters.forEach((waiter) => waiter.reject(err)),
    );
  };
  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    const batch = queue.slice(0, maxBatch);
    queue = queue.slice(maxBatch);
    if (batch.length > 0) send(batch);
    if (queue.length > 0) timer = setTimeout(flush, maxWaitMs);
  };

  return (instanceId) => new Promise<string | undefined>((resolve, reject) => {
    if (inFlight < maxInFlight) {
      inFlight += 1;
      const done = (): void => {
        inFlight -= 1;
      };
      send([{ instanceId, resolve: (name) => { done(); resolve(name); }, reject: (err) => { done(); reject(err); } }]);
      return;
    }
    queue.push({ instanceId, resolve, reject });
    if (queue.length >= maxBatch) flush();
    else timer ??= setTimeout(flush, maxWaitMs);
  });
}

/**
 * A token bucket: `qps` calls a second on average, `burst` at once. `qps` 0 means no limit (as the reference).
 *
 * @example
 * ```ts
 * import { createRateLimiter } from './ec2-batch.js';
 * const limit = createRateLimiter(15, 5);
 * await limit(); // resolves when a call may go out
 * ```
 */
export function createRateLimiter(qps: number, burst: number, now: () => number = Date.now): () => Promise<void> {
  if (qps === 0) return async () => undefined;
  if (!(qps > 0) || !Number.isInteger(burst) || burst < 1) {
    throw new EksAuthError('ERR_INVALID_CONFIG', `EC2 DescribeInstances rate ${qps}/s with burst ${burst} is not usable; give qps >= 0 and burst >= 1.`);
  }
  let tokens = burst;
  let last = now();
  // Calls waiting are served in order: each takes the next token as it comes.
  let tail = Promise.resolve();
  const take = async (): Promise<void> => {
    const current = now();
    tokens = Math.min(burst, tokens + ((current - last) / 1000) * qps);
    last = current;
    if (tokens < 1) {
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(((1 - tokens) / qps) * 1000)));
      tokens = Math.min(burst, tokens + ((now() - last) / 1000) * qps);
      last = now();
    }
    tokens -= 1;
  };
  return () => {
    tail = tail.then(take);
    return tail;
  };
}
