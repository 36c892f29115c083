/**
 * A per-entry lock file, held while one process refreshes an entry so that the others wait and then read its
 * result instead of signing (or prompting for MFA) themselves.
 *
 * Node has no flock, so the lock is a file created with O_EXCL that records its holder (pid, host, time, nonce).
 * A lock is stale when its holder on this host is gone, or when it is older than `staleMs` (which also covers pid
 * reuse and other hosts sharing a home directory). A stale lock is broken by renaming it to a name of our own and
 * checking that what we moved is the lock we judged stale; if another process took the lock in between, it is put
 * back with link(), which fails rather than replace a newer lock. Even a lock broken wrongly costs only a second
 * signing: entries are written atomically under unique temporary names, so two writers never mix their files.
 */
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

export interface LockOptions {
  /** A lock older than this is stale whatever its holder; default 120 s (longer than any MFA prompt should take). */
  staleMs?: number;
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

interface Holder {
  pid: number;
  host: string;
  at: number;
  nonce: string;
}

/**
 * Takes the lock at `path`, waiting while a live holder has it and breaking it when stale. Resolves to undefined
 * when `shouldStop` ends the wait, or when the lock cannot be created at all (read-only directory): the caller then
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
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const mine: Holder = { pid: process.pid, host: hostName(), at: Date.now(), nonce: `${process.pid}-${Math.random().toString(36).slice(2)}` };
  const content = JSON.stringify(mine);
  for (;;) {
    const outcome = tryCreate(path, content);
    if (outcome === 'created') return { release: () => releaseLock(path, content) };
    if (outcome === 'failed') return undefined;
    if (options.shouldStop?.()) return undefined;
    const current = readHolder(path);
    if (current === 'gone') continue;
    // Something that cannot be judged (a directory in its place) or a stale lock that cannot be moved: refreshing
    // without the lock is safe, spinning here is not.
    if (current === 'unreadable') return undefined;
    if (!isStale(current, staleMs, mine.host)) await sleep(pollMs);
    else if (!breakStaleLock(path, current.raw, mine.nonce)) return undefined;
  }
}

function tryCreate(path: string, content: string): 'created' | 'exists' | 'failed' {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EEXIST' ? 'exists' : 'failed';
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return 'created';
}

type Judged = Partial<Holder> & { raw: string; mtimeMs: number };

function readHolder(path: string): Judged | 'gone' | 'unreadable' {
  try {
    const mtimeMs = statSync(path).mtimeMs;
    const raw = readFileSync(path, 'utf8');
    let holder: Partial<Holder> = {};
    try {
      holder = JSON.parse(raw) as Partial<Holder>;
    } catch {
      // Created but not yet written, or cut short by a crash: judged by its age alone.
    }
    return { ...holder, raw, mtimeMs };
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'unreadable';
  }
}

function isStale(holder: Judged, staleMs: number, host: string): boolean {
  const since = typeof holder.at === 'number' ? holder.at : holder.mtimeMs;
  if (Date.now() - since > staleMs) return true;
  return holder.host === host && typeof holder.pid === 'number' && !processAlive(holder.pid);
}

/**
 * os.hostname(), read on Linux from procfs (the same UTS name): in the CLI's signing file node:os is loaded on first
 * use, and loading it costs 0.2 ms of every signing.
 */
function hostName(): string {
  try {
    return readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
  } catch {
    return hostname();
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, but another user's
  }
}

/** Moves a stale lock out of the way; false when it cannot be moved at all. */
function breakStaleLock(path: string, staleContent: string, nonce: string): boolean {
  const moved = `${path}.${nonce}.stale`;
  try {
    renameSync(path, moved);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'; // someone else broke or released it first
  }
  try {
    if (readFileSync(moved, 'utf8') !== staleContent) linkSync(moved, path); // a live lock taken meanwhile: put it back
  } catch {
    // a newer lock already exists: leave it
  } finally {
    removeQuietly(moved);
  }
  return true;
}

function releaseLock(path: string, content: string): void {
  try {
    if (readFileSync(path, 'utf8') === content) unlinkSync(path);
  } catch {
    // already gone (broken as stale by a waiter)
  }
}

// unlinkSync, not rmSync: rmSync loads Node's rimraf module, a measurable part of a cold call.
function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
