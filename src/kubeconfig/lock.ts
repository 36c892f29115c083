/**
 * An exclusive lock on a kubeconfig for the read-merge-write of an update, so that parallel runs (a loop over
 * profiles and regions, `--all` next to a script) never lose each other's entries.
 *
 * The lock is `<file>.lock`, the name client-go (`kubectl config …`) creates and removes around its own writes, so
 * eksauth and kubectl also wait for each other. The protocol is the one shared with the token cache's locks
 * (src/lib/lock.ts): eksauth's lock holds its owner's record, is refreshed while held, and is broken when its owner
 * on this host no longer runs or when it was not touched for `staleMs`; kubectl's empty lock is judged by its age
 * alone. Waiting is bounded; then ERR_KUBECONFIG_LOCKED says who holds the lock and how to clear it. Something that
 * is not a regular file at `<file>.lock` (a FIFO, a symlink, a directory) is never opened for reading or waited on:
 * ERR_KUBECONFIG_LOCKED at once, naming it. It is not removed, because the kubeconfig's directory is not eksauth's
 * alone and the user should see what put it there.
 *
 * No npm package fits better: proper-lockfile (mkdir-based, same stale-by-mtime idea) is unmaintained since 2021, pulls
 * in three dependencies and uses a lock name kubectl does not know.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EksAuthError } from '../errors.js';
import { acquireFileLock, type LockHolder, type LockOutcome } from '../lib/lock.js';

export interface LockOptions {
  /** Longest wait for the lock; default 20 000 ms. */
  timeoutMs?: number;
  /** A lock whose file was not touched for this long is stale; default 10 000 ms. */
  staleMs?: number;
}

const DEFAULT_TIMEOUT_MS = 20_000;
const DEFAULT_STALE_MS = 10_000;
// Waiting backs off from 5 ms to 100 ms: a short wait is answered quickly, and a long one costs little CPU.
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 100;

/**
 * Runs `fn` while holding `<path>.lock`, and removes the lock afterwards (also when `fn` throws).
 *
 * @example
 * ```ts
 * import { withFileLock } from './lock.js';
 * await withFileLock('/home/me/.kube/config', async () => {
 *   // read, merge and write the file
 * });
 * ```
 * @throws EksAuthError ERR_KUBECONFIG_LOCKED after `timeoutMs` or when something else is at the lock path,
 *   ERR_KUBECONFIG_INACCESSIBLE when the lock cannot be created
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lockPath = `${path}.lock`;
  if (!existsSync(dirname(lockPath))) await makeDirectory(dirname(lockPath));
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const lock = await acquireFileLock(lockPath, { staleMs, unreadableStaleMs: staleMs, timeoutMs, pollMs: FIRST_POLL_MS, maxPollMs: MAX_POLL_MS, replaceHostile: false });
  if (!lock.held) throw lockError(lockPath, lock, timeoutMs);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/**
 * Creates a missing kubeconfig directory, 0700: it holds credentials configuration.
 *
 * @example
 * ```ts
 * await makeDirectory('/home/me/.kube');
 * ```
 * @throws EksAuthError ERR_KUBECONFIG_INACCESSIBLE
 */
export async function makeDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new EksAuthError('ERR_KUBECONFIG_INACCESSIBLE', `cannot create the directory ${dir} for the kubeconfig (${code}); create it or pass --kubeconfig elsewhere`, { cause: err });
  }
}

function lockError(lockPath: string, outcome: Exclude<LockOutcome, { held: true }>, timeoutMs: number): EksAuthError {
  switch (outcome.why) {
    case 'occupied':
      return new EksAuthError(
        'ERR_KUBECONFIG_LOCKED',
        `the kubeconfig lock ${lockPath} is ${outcome.what}, not a lock file; remove it and retry (nothing was changed)`,
      );
    case 'failed':
      return new EksAuthError(
        'ERR_KUBECONFIG_INACCESSIBLE',
        `cannot lock the kubeconfig: ${outcome.detail}; check the directory's permissions (nothing was changed)`,
      );
    default:
      return lockedError(lockPath, outcome.why === 'timeout' ? outcome.holder : undefined, timeoutMs);
  }
}

function lockedError(lockPath: string, holder: LockHolder | undefined, timeoutMs: number): EksAuthError {
  const who = holder?.pid === undefined ? 'another program (kubectl?)' : `process ${holder.pid} on ${holder.host ?? 'an unknown host'} since ${holder.since ?? '?'}`;
  return new EksAuthError(
    'ERR_KUBECONFIG_LOCKED',
    `the kubeconfig is locked by ${who}: waited ${Math.round(timeoutMs / 1000)} s for ${lockPath}; ` +
      `if nothing is writing the kubeconfig, delete ${lockPath} and retry (nothing was changed)`,
  );
}
