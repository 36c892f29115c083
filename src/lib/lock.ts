/**
 * The lock-file protocol behind both of eksauth's locks: `<kubeconfig>.lock` around an update-kubeconfig write, and
 * the token cache's per-entry locks. Node has no flock, so a lock is a file at a fixed path; kubectl (client-go)
 * creates `<kubeconfig>.lock` itself, empty, with O_CREAT|O_EXCL, and removes it after its write, so that name keeps
 * eksauth and kubectl out of each other's way.
 *
 * Taking the lock. The holder record (pid, host, nonce, when taken, the process's start time) is written to a unique
 * temporary file beside the lock, which is then hard-linked to the lock path: the link fails with EEXIST while the
 * lock is held, and an eksauth lock is never seen empty. The descriptor of that file stays open while the lock is
 * held; a heartbeat refreshes its mtime through it (only ever our own file), so age means "not touched lately".
 *
 * Judging a held lock. A lock is stale when its holder on this host no longer runs (its pid is gone, or on Linux
 * the pid now belongs to a process that started at another time), or when it was not touched for `staleMs` (a
 * holder on another host, or frozen). A lock without a holder record (kubectl's, or an older eksauth's cut short
 * by a crash) is stale after `unreadableStaleMs`. The lock is read non-blocking, bounded and only when it is a
 * regular file (regular-file.ts); anything else there is either replaced as stale (`replaceHostile`, in the cache's
 * private directory) or reported and left alone.
 *
 * Breaking a stale lock, without trusting inode numbers (a freed inode is handed to the next file at once):
 * 1. Take a break token: link(lock, `<lock>.break-N`). Its creation is atomic, so breakers take turns; the link
 *    also pins the file the lock named at that instant, whose inode then cannot be reused.
 * 2. Read the pinned file through the token and compare it with what was judged stale (content, type, mtime). A
 *    mismatch means the lock changed hands meanwhile: drop the token and look again.
 * 3. Replace the lock with our own in one rename(temp, lock). The lock path is never empty, so no process can
 *    create a lock in between, and nobody but us replaces it: other breakers wait on the token, and the holder
 *    judged stale is gone.
 * 4. Remove the token.
 * A token left by a breaker killed mid-break is recognised by its age (ctime older than BREAK_ABANDONED_MS; a break
 * takes microseconds) and skipped: the next token number is used, and the abandoned one removed after the break.
 * The protocol is then safe except for a double fault, which is assumed not to happen: a breaker paused for longer
 * than BREAK_ABANDONED_MS between steps 1 and 3, or a holder judged stale by age that wakes up and releases exactly
 * while a breaker replaces its lock.
 *
 * Releasing removes the lock only if it still holds our record.
 */
import { closeSync, constants, futimesSync, linkSync, lstatSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { hostname } from 'node:os';
import { describeFileType, readRegularFile } from './regular-file.js';

/** How one use of the lock judges, waits and gives up. */
export interface LockPolicy {
  /** A lock not touched for this long is stale, whatever its holder. */
  staleMs: number;
  /** A lock without a holder record (empty, or not eksauth's) is stale once not touched for this long. */
  unreadableStaleMs: number;
  /** Longest wait for a live holder; then the outcome is 'timeout'. */
  timeoutMs: number;
  /** First pause between looks while waiting; each pause doubles, up to `maxPollMs`. Jittered by ±50% so that
   *  waiters do not move in lockstep. */
  pollMs: number;
  maxPollMs: number;
  /** True: anything at the lock path that is not a trusted regular file (a FIFO, a symlink) is replaced as stale. */
  replaceHostile: boolean;
  /** Which lock files to believe, judged on the opened descriptor; others count as hostile. Default: all. */
  trust?: (stat: Stats) => boolean;
  /** Asked at every look while waiting: true ends the wait without the lock ('stopped'). */
  shouldStop?: () => boolean;
}

/** The record an eksauth lock file holds. Older versions wrote fewer fields; kubectl writes none. */
export interface LockHolder {
  pid?: number;
  host?: string;
  nonce?: string;
  /** When the lock was taken, ISO 8601. */
  since?: string;
  /** Linux: the holder's start time (field 22 of /proc/<pid>/stat), so that a reused pid is not taken for it. */
  start?: string;
}

export type LockOutcome =
  | { held: true; release: () => void }
  | { held: false; why: 'stopped' }
  | { held: false; why: 'timeout'; holder: LockHolder | undefined }
  /** Something that is not a lock file is at the lock path (`what`: "a FIFO", …) and was left alone. */
  | { held: false; why: 'occupied'; what: string }
  /** The lock cannot be created or broken here (`detail`: the path and the system error). */
  | { held: false; why: 'failed'; detail: string };

type Failed = Extract<LockOutcome, { why: 'failed' }>;

/** An eksauth holder record is ~150 bytes; anything larger is not one. */
const HOLDER_MAX_BYTES = 4096;
/** A break token older than this was left by a breaker that died: breaking takes microseconds. */
const BREAK_ABANDONED_MS = 3_000;
/** Break tokens tried before waiting: more than one is needed only after breakers died mid-break. */
const BREAK_TOKENS = 4;
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/** What the lock path held when it was judged. */
interface Seen {
  raw: string;
  holder: LockHolder | undefined;
  mtimeMs: number;
  /** Set when it is not a trusted regular lock file: "a FIFO", "a symlink", …. */
  hostile: string | undefined;
}

/** Our side of one acquisition: the record to write and the temporary file it is written to. */
interface Claim {
  content: string;
  temp: string;
  host: string;
}

/**
 * Takes the lock at `path` under `policy`: waits while a live holder has it, breaks it when stale.
 *
 * @example
 * ```ts
 * import { acquireFileLock } from './lock.js';
 * const lock = await acquireFileLock('/home/me/.kube/config.lock', {
 *   staleMs: 10_000, unreadableStaleMs: 10_000, timeoutMs: 20_000, pollMs: 5, maxPollMs: 100, replaceHostile: false,
 * });
 * if (lock.held) {
 *   try {
 *     // read, merge and write the kubeconfig
 *   } finally {
 *     lock.release();
 *   }
 * }
 * ```
 */
export async function acquireFileLock(path: string, policy: LockPolicy): Promise<LockOutcome> {
  const claim = newClaim(path);
  const started = Date.now();
  for (let attempt = 0; ; attempt += 1) {
    // Look before creating: while the lock is held, a look is one open, a creation attempt five calls that each
    // change the directory.
    const seen = look(path, policy);
    if (seen === 'gone') {
      const created = createLock(path, claim);
      if (typeof created === 'number') return hold(path, claim.content, created, policy.staleMs);
      if (created !== 'exists') return created;
      continue; // taken between our look and our attempt
    }
    if ('why' in seen) return seen;
    if (policy.shouldStop?.()) return { held: false, why: 'stopped' };
    if (seen.hostile !== undefined && !policy.replaceHostile) return { held: false, why: 'occupied', what: seen.hostile };
    if (isStale(seen, policy, claim.host)) {
      const broken = breakStaleLock(path, seen, claim, policy);
      if (typeof broken === 'number') return hold(path, claim.content, broken, policy.staleMs);
      if (broken === 'retry') continue;
      if (broken !== 'wait') return broken;
    }
    if (Date.now() - started >= policy.timeoutMs) return { held: false, why: 'timeout', holder: seen.holder };
    await sleep(Math.min(policy.pollMs * 2 ** attempt, policy.maxPollMs) * (0.5 + Math.random()));
  }
}

function newClaim(path: string): Claim {
  const host = hostName();
  const nonce = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  const holder: LockHolder = { pid: process.pid, host, nonce, since: new Date().toISOString() };
  const start = startTimeOf(process.pid);
  if (start !== undefined) holder.start = start;
  return { content: `${JSON.stringify(holder)}\n`, temp: `${path}.${nonce}.tmp`, host };
}

/** The lock's descriptor once our record is at `path`; 'exists' while another lock is there. */
function createLock(path: string, claim: Claim): number | 'exists' | Failed {
  const fd = writeClaim(claim);
  if (typeof fd !== 'number') return fd;
  try {
    linkSync(claim.temp, path);
    return fd;
  } catch (err) {
    closeSync(fd);
    const code = errorCode(err);
    return code === 'EEXIST' ? 'exists' : failed(`cannot create ${path} (${code})`);
  } finally {
    removeQuietly(claim.temp);
  }
}

/** Writes our record to the claim's temporary file (0600, never through a symlink) and returns its descriptor. */
function writeClaim(claim: Claim): number | Failed {
  let fd: number;
  try {
    fd = openSync(claim.temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NO_FOLLOW, 0o600);
  } catch (err) {
    return failed(`cannot create ${claim.temp} (${errorCode(err)})`);
  }
  try {
    writeSync(fd, claim.content);
    return fd;
  } catch (err) {
    closeSync(fd);
    removeQuietly(claim.temp);
    return failed(`cannot write ${claim.temp} (${errorCode(err)})`);
  }
}

function look(path: string, policy: Pick<LockPolicy, 'trust'>): Seen | 'gone' | Failed {
  const read = readRegularFile(path, { maxBytes: HOLDER_MAX_BYTES, ...(policy.trust === undefined ? {} : { trust: policy.trust }) });
  if ('bytes' in read) {
    const raw = read.bytes.toString('utf8');
    return { raw, holder: parseHolder(raw), mtimeMs: read.stat.mtimeMs, hostile: undefined };
  }
  switch (read.reason) {
    case 'missing':
      return 'gone';
    case 'unreadable':
      return read.code === 'EACCES' ? unreadableLock(path) : failed(`cannot read ${path} (${read.code})`);
    case 'untrusted':
      return hostileSeen(`a file of user ${read.stat.uid}, not trusted here`);
    default:
      return hostileSeen(read.what);
  }
}

/**
 * A lock we may not open: kubectl creates its lock with mode 0. Judged, like any lock without a record, by its age
 * (lstat, which neither follows nor opens it).
 */
function unreadableLock(path: string): Seen | 'gone' | Failed {
  try {
    const stat = lstatSync(path);
    return stat.isFile() ? { raw: '', holder: undefined, mtimeMs: stat.mtimeMs, hostile: undefined } : hostileSeen(describeFileType(stat));
  } catch (err) {
    const code = errorCode(err);
    return code === 'ENOENT' ? 'gone' : failed(`cannot read ${path} (${code})`);
  }
}

function hostileSeen(what: string): Seen {
  return { raw: '', holder: undefined, mtimeMs: 0, hostile: what };
}

function parseHolder(raw: string): LockHolder | undefined {
  try {
    const parsed: unknown = JSON.parse(raw);
    return typeof parsed === 'object' && parsed !== null ? (parsed as LockHolder) : undefined;
  } catch {
    return undefined; // kubectl's empty lock, or an older eksauth's cut short between create and write
  }
}

function isStale(seen: Seen, policy: LockPolicy, host: string): boolean {
  if (seen.hostile !== undefined) return policy.replaceHostile;
  const age = Date.now() - seen.mtimeMs;
  if (seen.holder === undefined || typeof seen.holder.pid !== 'number') return age > policy.unreadableStaleMs;
  return age > policy.staleMs || (seen.holder.host === host && !isRunning(seen.holder.pid, seen.holder.start));
}

function isRunning(pid: number, start: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (errorCode(err) !== 'EPERM') return false; // EPERM: it exists, as another user's process
  }
  // The pid runs; it is the holder unless it started at another time (a pid reused after the holder died).
  const current = start === undefined ? undefined : startTimeOf(pid);
  return current === undefined || current === start;
}

/**
 * Steps 1 to 4 of the module comment. Our descriptor once the stale lock is replaced by ours; 'retry' when the lock
 * changed meanwhile; 'wait' while another breaker is at work.
 */
function breakStaleLock(path: string, judged: Seen, claim: Claim, policy: LockPolicy): number | 'retry' | 'wait' | Failed {
  const token = takeBreakToken(path);
  if (typeof token !== 'object' || 'why' in token) return token;
  try {
    const pinned = look(token.name, policy);
    if (pinned === 'gone' || 'why' in pinned || !sameAsJudged(pinned, judged)) return 'retry';
    const fd = writeClaim(claim);
    if (typeof fd !== 'number') return fd;
    try {
      renameSync(claim.temp, path);
    } catch (err) {
      closeSync(fd);
      removeQuietly(claim.temp);
      return failed(`cannot replace the stale lock ${path} (${errorCode(err)})`);
    }
    token.abandoned.forEach(removeQuietly);
    return fd;
  } finally {
    removeQuietly(token.name);
  }
}

function sameAsJudged(pinned: Seen, judged: Seen): boolean {
  return pinned.raw === judged.raw && pinned.hostile === judged.hostile && pinned.mtimeMs === judged.mtimeMs;
}

/** Links the lock to the first free break token; tokens abandoned by dead breakers are skipped (and returned). */
function takeBreakToken(path: string): { name: string; abandoned: string[] } | 'retry' | 'wait' | Failed {
  const abandoned: string[] = [];
  for (let n = 0; n < BREAK_TOKENS; n += 1) {
    const name = `${path}.break-${n}`;
    try {
      linkSync(path, name);
      return { name, abandoned };
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ENOENT') return 'retry'; // the lock was released meanwhile
      if (code !== 'EEXIST') return failed(`cannot break the stale lock ${path} (${code})`);
      if (!isAbandoned(name)) return 'wait';
      abandoned.push(name);
    }
  }
  return 'wait';
}

function isAbandoned(token: string): boolean {
  try {
    // ctime, not mtime: link() and unlink() set it, so it tells when a breaker last acted on the token's file.
    return Date.now() - lstatSync(token).ctimeMs > BREAK_ABANDONED_MS;
  } catch {
    return false; // removed meanwhile: its breaker finished
  }
}

function hold(path: string, content: string, fd: number, staleMs: number): LockOutcome {
  // Keeps the lock young while held, so that a long critical section is not taken for a dead one. Through our own
  // descriptor: if the lock was broken meanwhile, the new holder's file is not touched.
  const heartbeat = setInterval(() => touch(fd), Math.max(50, Math.floor(staleMs / 3)));
  heartbeat.unref();
  return {
    held: true,
    release: () => {
      clearInterval(heartbeat);
      closeSync(fd);
      const current = readRegularFile(path, { maxBytes: HOLDER_MAX_BYTES });
      // After a stall long enough for our lock to be broken, the lock file at `path` is someone else's.
      if ('bytes' in current && current.bytes.toString('utf8') === content) removeQuietly(path);
    },
  };
}

function touch(fd: number): void {
  const now = Date.now() / 1000;
  try {
    futimesSync(fd, now, now);
  } catch {
    // a read-only or odd file system: the lock then ages, and only its holder's liveness keeps it
  }
}

/**
 * The host name, read on Linux from procfs (the same UTS name as os.hostname()): on the token path node:os is
 * loaded on first use, and loading it costs 0.2 ms.
 */
function hostName(): string {
  try {
    return readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
  } catch {
    return hostname();
  }
}

/** Linux: a process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat); elsewhere undefined. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2, the command name, is in parentheses and may itself hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function failed(detail: string): Failed {
  return { held: false, why: 'failed', detail };
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
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
