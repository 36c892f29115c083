/**
 * A bounded LRU cache of values that expire, where concurrent loads of the same key share one call. Failures are never
 * stored. Used for STS answers (the webhook's review cache) and EC2 lookups ({{EC2PrivateDNSName}}).
 */

/** How a value was obtained: stored and still fresh, loaded now, or shared with a load already in flight. */
export type CacheResult = 'hit' | 'miss' | 'coalesced';

export interface Loaded<V> {
  value: V;
  /** Epoch ms until which the value may be served; at or before now, it is returned but not stored. */
  expiresAt: number;
}

export interface ExpiringCache<V> {
  get(key: string, load: () => Promise<Loaded<V>>): Promise<{ value: V; result: CacheResult }>;
  size(): number;
  clear(): void;
}

/**
 * Creates an expiring cache holding at most `maxEntries` values, the least recently used going first.
 *
 * @example
 * ```ts
 * const cache = createExpiringCache<string>({ maxEntries: 100 });
 * const { value, result } = await cache.get('i-0abc', async () => ({ value: 'ip-10-0-0-1', expiresAt: Date.now() + 60_000 }));
 * ```
 */
export function createExpiringCache<V>(options: { maxEntries: number; now?: () => number }): ExpiringCache<V> {
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order: re-inserting on every hit keeps the least recently used entry first.
  const entries = new Map<string, Loaded<V>>();
  const inFlight = new Map<string, Promise<V>>();

  const store = (key: string, loaded: Loaded<V>): void => {
    if (!(loaded.expiresAt > now())) return;
    entries.set(key, loaded);
    for (const oldest of entries.keys()) {
      if (entries.size <= options.maxEntries) break;
      entries.delete(oldest);
    }
  };

  return {
    async get(key, load) {
      const hit = entries.get(key);
      if (hit !== undefined) {
        entries.delete(key);
        if (hit.expiresAt > now()) {
          entries.set(key, hit); // most recently used now; the expiry stays that of the answer
          return { value: hit.value, result: 'hit' };
        }
      }
      const pending = inFlight.get(key);
      if (pending !== undefined) return { value: await pending, result: 'coalesced' };
      const call = load().then((loaded) => {
        store(key, loaded);
        return loaded.value;
      });
      inFlight.set(key, call);
      try {
        return { value: await call, result: 'miss' };
      } finally {
        inFlight.delete(key);
      }
    },
    size: () => entries.size,
    clear: () => entries.clear(),
  };
}
