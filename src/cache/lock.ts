/**
 * A per-entry lock file, held while one process refreshes an entry so that the others wait and then read its
 * result instead of signing (or prompting for MFA) themselves. The protocol is the one shared with the kubeconfig
 * lock (src/lib/lock.ts); what is particular to the cache:
 * - the directory is the user's own (0700), so a lock file is believed only when it is a regular file of the user's,
 *   and anything else at a lock path (a FIFO, a symlink, a device, another user's file) is replaced as stale;
 * - nobody but eksauth creates these locks, and eksauth's are never empty, so a lock without a holder record was
 *   cut short by a crash of an older version: stale after a second, not after `staleMs`;
 * - when the lock cannot be used at all (a directory in its place, a read-only directory) or a live holder takes
 *   longer than `timeoutMs`, the refresh goes ahead without it. That is safe here: entries are written atomically
 *   under unique temporary names, so a lock missed costs at most a second signing.
 */
import { acquireFileLock } from '../lib/lock.js';
import { isOwnFile } from './store.js';

export interface LockOptions {
  /** A lock not touched for this long is stale whatever its holder; default 120 s (longer than any MFA prompt should take). */
  staleMs?: number;
  /** Longest wait for a live holder, after which the refresh goes ahead without the lock; default `staleMs`. */
  timeoutMs?: number;
  /** How often a waiting process looks again; default 10 ms. */
  pollMs?: number;
  /**
   * Asked at every look while waiting: true ends the wait without the lock (acquireLock then resolves to undefined),
   * as when the holder has stored what the waiter came for. Waiters then leave together instead of one by one.
   */
  shouldStop?: () => boolean;
}

export interface HeldLock {
  /** Removes the lock if it is still ours. */
  release(): void;
}

const DEFAULT_STALE_MS = 120_000;
const DEFAULT_POLL_MS = 10;
/** A lock without a holder record younger than this may be an older eksauth's between its create and its write. */
const EMPTY_LOCK_GRACE_MS = 1_000;

/**
 * Takes the lock at `path`, waiting while a live holder has it and breaking it when stale. Resolves to undefined
 * when `shouldStop` ends the wait, when the wait times out, or when the lock cannot be used at all: the caller then
 * looks for the holder's result, or refreshes without the lock.
 *
 * @example
 * ```ts
 * import { acquireLock } from './lock.js';
 * const lock = await acquireLock('/tmp/token-0123456789abcdef.lock');
 * try {
 *   // refresh the entry; other processes wait here
 * } finally {
 *   lock?.release();
 * }
 * ```
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<HeldLock | undefined> {
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const outcome = await acquireFileLock(path, {
    staleMs,
    unreadableStaleMs: Math.min(EMPTY_LOCK_GRACE_MS, staleMs),
    timeoutMs: options.timeoutMs ?? staleMs,
    // No backoff: a waiter leaves as soon as the holder has stored the entry (shouldStop), within a poll.
    pollMs: options.pollMs ?? DEFAULT_POLL_MS,
    maxPollMs: options.pollMs ?? DEFAULT_POLL_MS,
    replaceHostile: true,
    trust: isOwnFile,
    ...(options.shouldStop === undefined ? {} : { shouldStop: options.shouldStop }),
  });
  return outcome.held ? outcome : undefined;
}
