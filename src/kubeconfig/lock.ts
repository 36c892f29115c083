/**
 * An exclusive lock on a kubeconfig for the read-merge-write of an update, so that parallel runs (a loop over
 * profiles and regions, `--all` next to a script) never lose each other's entries.
 *
 * Node has no flock, so the lock is a file created with O_EXCL beside the kubeconfig, named `<file>.lock`: the same
 * name client-go (`kubectl config …`) uses, so eksauth and kubectl also wait for each other. eksauth's lock file
 * holds the owner's pid, host name and a nonce, and its mtime is refreshed while held. A lock is stale, and is
 * broken, when its owner on this host no longer runs, or when its mtime is older than `staleMs` (an owner on
 * another host, a kubectl lock, or a crash without a pid). Waiting is bounded; then ERR_KUBECONFIG_LOCKED says who
 * holds the lock and how to clear it.
 *
 * No npm package fits better: proper-lockfile (mkdir-based, same stale-by-mtime idea) is unmaintained since 2021, pulls
 * in three dependencies and uses a lock name kubectl does not know.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EksAuthError } from '../errors.js';

export interface LockOptions {
  /** Longest wait for the lock; default 20 000 ms. */
  timeoutMs?: number;
  /** A lock whose file was not touched for this long is stale; default 10 000 ms. */
  staleMs?: number;
}

interface LockOwner {
  pid?: number;
  host?: string;
  nonce?: string;
  since?: string;
}

const DEFAULT_TIMEOUT_MS = 20_000;
const DEFAULT_STALE_MS = 10_000;

/**
 * Runs `fn` while holding `<path>.lock`, and removes the lock afterwards (also when `fn` throws).
 *
 * @example
 * ```ts
 * import { withFileLock } from 'eksauth';
 * await withFileLock('/home/me/.kube/config', async () => {
 *   // read, merge and write the file
 * });
 * ```
 * @throws EksAuthError ERR_KUBECONFIG_LOCKED after `timeoutMs`, ERR_KUBECONFIG_INACCESSIBLE when the lock cannot be created
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lockPath = `${path}.lock`;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const nonce = await acquire(lockPath, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, staleMs);
  // Keeps the lock fresh while held, so a slow disk is not mistaken for a dead owner.
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(lockPath, now, now).catch(() => undefined);
  }, Math.max(50, Math.floor(staleMs / 3)));
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await release(lockPath, nonce);
  }
}

async function acquire(lockPath: string, timeoutMs: number, staleMs: number): Promise<string> {
  const nonce = randomBytes(12).toString('hex');
  const owner: LockOwner = { pid: process.pid, host: hostname(), nonce, since: new Date().toISOString() };
  const started = Date.now();
  for (let attempt = 0; ; attempt += 1) {
    if (await tryCreate(lockPath, owner)) return nonce;
    const held = await inspect(lockPath);
    if (held === undefined) continue; // released between our attempt and the look
    if (isStale(held, staleMs)) {
      await breakLock(lockPath, held.ino);
      continue;
    }
    if (Date.now() - started >= timeoutMs) throw lockedError(lockPath, held.owner, timeoutMs);
    // Backoff with jitter: parallel waiters do not retry in lockstep.
    await sleep(Math.min(5 * 2 ** attempt, 100) * (0.5 + Math.random()));
  }
}

async function tryCreate(lockPath: string, owner: LockOwner, madeDirectory = false): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, 'wx', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'ENOENT' && !madeDirectory) {
      await makeDirectory(dirname(lockPath));
      return tryCreate(lockPath, owner, true);
    }
    throw new EksAuthError('ERR_KUBECONFIG_INACCESSIBLE', `cannot create the lock file ${lockPath} (${code ?? String(err)}); check the directory's permissions (nothing was changed)`, { cause: err });
  }
  try {
    await handle.writeFile(`${JSON.stringify(owner)}\n`);
  } finally {
    await handle.close();
  }
  return true;
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

interface HeldLock {
  ino: number;
  mtimeMs: number;
  owner: LockOwner;
}

async function inspect(lockPath: string): Promise<HeldLock | undefined> {
  try {
    const info = await stat(lockPath);
    let owner: LockOwner = {};
    try {
      owner = JSON.parse(await readFile(lockPath, 'utf8')) as LockOwner;
    } catch {
      // kubectl's lock files are empty (and mode 0): only the age tells whether they are stale.
    }
    return { ino: info.ino, mtimeMs: info.mtimeMs, owner };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function isStale(held: HeldLock, staleMs: number): boolean {
  if (Date.now() - held.mtimeMs > staleMs) return true;
  return held.owner.host === hostname() && typeof held.owner.pid === 'number' && !isRunning(held.owner.pid);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, but belongs to someone else
  }
}

/**
 * Removes a stale lock without removing a fresh one that replaced it meanwhile: the lock is first renamed aside,
 * and put back if it turns out not to be the file judged stale.
 */
async function breakLock(lockPath: string, staleIno: number): Promise<void> {
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return; // someone else broke or released it first
  }
  try {
    if ((await stat(aside)).ino !== staleIno) await link(aside, lockPath).catch(() => undefined);
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

async function release(lockPath: string, nonce: string): Promise<void> {
  try {
    const owner = JSON.parse(await readFile(lockPath, 'utf8')) as LockOwner;
    // After a stall long enough for another process to break our lock, the lock file is theirs.
    if (owner.nonce === nonce) await unlink(lockPath);
  } catch {
    // already gone
  }
}

function lockedError(lockPath: string, owner: LockOwner, timeoutMs: number): EksAuthError {
  const who = owner.pid === undefined ? 'another program (kubectl?)' : `process ${owner.pid} on ${owner.host ?? 'an unknown host'} since ${owner.since ?? '?'}`;
  return new EksAuthError(
    'ERR_KUBECONFIG_LOCKED',
    `the kubeconfig is locked by ${who}: waited ${Math.round(timeoutMs / 1000)} s for ${lockPath}; ` +
      `if nothing is writing the kubeconfig, delete ${lockPath} and retry (nothing was changed)`,
  );
}
