/**
 * The cache directory and the only ways eksauth reads and writes files in it.
 *
 * `$KUBECACHEDIR/eksauth`, else `~/.kube/cache/eksauth`: a 0700 directory of the user's own, holding 0600 JSON
 * files. A file is trusted only when it is a regular file (never followed through a symlink), owned by this user and
 * unreadable to anyone else, and it is read only up to a bound; anything else (a FIFO, a device, a symlink to
 * /dev/zero) is treated as absent without blocking or reading it, and the next write replaces it. Writes go to a
 * uniquely named temporary file that is renamed over the entry, so a reader sees the old entry or the new one, never
 * a mix, and two writers never share a temporary file.
 */
import { chmodSync, closeSync, constants, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { homeDirectory } from '../aws/shared-files.js';
import { EksAuthError } from '../errors.js';
import { readRegularFile } from '../lib/regular-file.js';
import { CACHE_FORMAT } from './key.js';

/** Group and world permission bits: none may be set on the directory or an entry. */
const OTHERS = 0o077;
// Windows has neither O_NOFOLLOW nor the permission bits checked here; openCacheDir keeps the cache off there.
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
/** An entry is a few hundred bytes of JSON; one this large was not written by eksauth. */
export const ENTRY_MAX_BYTES = 64 * 1024;

/**
 * The cache directory for `env`, whether or not it exists.
 *
 * @example
 * ```ts
 * import { cacheDirPath } from './store.js';
 * cacheDirPath({ KUBECACHEDIR: '/tmp/kube' }); // '/tmp/kube/eksauth'
 * ```
 */
export function cacheDirPath(env: NodeJS.ProcessEnv): string {
  const base = env.KUBECACHEDIR ? env.KUBECACHEDIR : join(homeDirectory(env), '.kube', 'cache');
  return join(base, 'eksauth');
}

/**
 * The cache directory when it is safe to use, else undefined. With `create`, a missing directory is made (0700) and
 * one of ours with looser permissions is tightened; a directory owned by someone else is never used, and neither is
 * any on Windows, where these permissions cannot be checked.
 *
 * @example
 * ```ts
 * import { openCacheDir } from './store.js';
 * const dir = openCacheDir(process.env, { create: true }); // '/home/me/.kube/cache/eksauth' or undefined
 * ```
 */
export function openCacheDir(env: NodeJS.ProcessEnv, options: { create: boolean }): string | undefined {
  if (process.platform === 'win32') return undefined;
  const dir = cacheDirPath(env);
  try {
    let stat = statSync(dir, { throwIfNoEntry: false });
    if (stat === undefined) {
      if (!options.create) return undefined;
      makeDirectory(dir);
      stat = statSync(dir);
    }
    if (!stat.isDirectory() || !isOwnFile(stat)) return undefined;
    if ((stat.mode & OTHERS) !== 0) {
      if (!options.create) return undefined;
      // Ours but open to others (made by hand or under a loose umask): close it; each file is still checked on read.
      chmodSync(dir, 0o700);
    }
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * The entry `name` in `dir` when it is trustworthy and was written for exactly `key`; otherwise undefined (missing,
 * corrupt, a symlink, foreign-owned, readable by others, another format or another key).
 *
 * @example
 * ```ts
 * import { openCacheDir, readEntry, writeEntry } from './store.js';
 * const dir = openCacheDir({ KUBECACHEDIR: '/tmp/kube' }, { create: true })!;
 * writeEntry(dir, 'token-0123456789abcdef', '["token","prod"]', { token: 'k8s-aws-v1.x' });
 * readEntry(dir, 'token-0123456789abcdef', '["token","prod"]'); // { v: 1, key: '["token","prod"]', token: 'k8s-aws-v1.x' }
 * readEntry(dir, 'token-0123456789abcdef', '["token","staging"]'); // undefined
 * ```
 */
export function readEntry(dir: string, name: string, key: string): Record<string, unknown> | undefined {
  const content = readTrustedFile(dir, `${name}.json`, ENTRY_MAX_BYTES);
  if (content === undefined) return undefined;
  try {
    const entry: unknown = JSON.parse(content.toString('utf8'));
    if (typeof entry !== 'object' || entry === null) return undefined;
    const record = entry as Record<string, unknown>;
    return record.v === CACHE_FORMAT && record.key === key ? record : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stores `fields` as entry `name` for `key`, atomically and 0600. Returns false (and leaves no trace) when the
 * directory cannot be written: the cache is an optimisation, never a reason to fail.
 *
 * @example
 * ```ts
 * import { openCacheDir, writeEntry } from './store.js';
 * const dir = openCacheDir({ KUBECACHEDIR: '/tmp/kube' }, { create: true })!;
 * writeEntry(dir, 'token-0123456789abcdef', '["token","prod"]', { token: 'k8s-aws-v1.x', expiresAt: Date.now() + 840_000 }); // true
 * ```
 */
export function writeEntry(dir: string, name: string, key: string, fields: Record<string, unknown>): boolean {
  return writeFileAtomically(dir, `${name}.json`, JSON.stringify({ v: CACHE_FORMAT, key, ...fields }));
}

/**
 * The bytes of `file` in `dir` when it is a regular file of this user's that nobody else can read, of at most
 * `maxBytes`; otherwise undefined. It is opened without following a symlink and without blocking, and judged on
 * the opened descriptor (see src/lib/regular-file.ts), so a FIFO or a symlink to a device is never read.
 *
 * @example
 * ```ts
 * import { ENTRY_MAX_BYTES, openCacheDir, readTrustedFile } from './store.js';
 * const dir = openCacheDir(process.env, { create: false });
 * const bytes = dir === undefined ? undefined : readTrustedFile(dir, 'token-0123456789abcdef.json', ENTRY_MAX_BYTES);
 * ```
 */
export function readTrustedFile(dir: string, file: string, maxBytes: number): Buffer | undefined {
  const read = readRegularFile(join(dir, file), { maxBytes, trust: isPrivateFile });
  return 'bytes' in read ? read.bytes : undefined;
}

/**
 * Whether an opened file may be believed in the cache as an entry: this user's, with no group or world permission
 * bits (entries hold tokens and credentials).
 *
 * @example
 * ```ts
 * import { fstatSync, openSync } from 'node:fs';
 * import { isPrivateFile } from './store.js';
 * isPrivateFile(fstatSync(openSync('/home/me/.kube/cache/eksauth/token-0123456789abcdef.json', 'r'))); // true
 * ```
 */
export function isPrivateFile(stat: Stats): boolean {
  return isOwnFile(stat) && (stat.mode & OTHERS) === 0;
}

/**
 * Whether an opened file is this user's (always true where there are no uids): what a lock file must be to be
 * believed, since its record is no secret.
 *
 * @example
 * ```ts
 * import { statSync } from 'node:fs';
 * import { isOwnFile } from './store.js';
 * isOwnFile(statSync('/home/me/.kube/cache/eksauth/token-0123456789abcdef.lock')); // true
 * ```
 */
export function isOwnFile(stat: Stats): boolean {
  return process.getuid === undefined || stat.uid === process.getuid();
}

/**
 * Writes `data` to `file` in `dir` through a uniquely named 0600 temporary file renamed over it, so that readers see
 * the old content or the new, never a mix. False, with nothing left behind, when that fails.
 *
 * @example
 * ```ts
 * import { openCacheDir, writeFileAtomically } from './store.js';
 * const dir = openCacheDir({ KUBECACHEDIR: '/tmp/kube' }, { create: true })!;
 * writeFileAtomically(dir, 'notes.txt', 'hello'); // true
 * ```
 */
export function writeFileAtomically(dir: string, file: string, data: string | Uint8Array): boolean {
  const temp = join(dir, `${file}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  try {
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NO_FOLLOW, 0o600);
    try {
      writeFileSync(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, join(dir, file));
    return true;
  } catch {
    try {
      unlinkSync(temp);
    } catch {
      // never created
    }
    return false;
  }
}

/**
 * Deletes the cache directory with everything in it (entries, locks, temporary files) and returns how many entries
 * it held. A directory that is not the user's own is left alone: ERR_CACHE_DIR.
 *
 * @example
 * ```ts
 * import { cleanCache } from './store.js';
 * const { dir, entries } = cleanCache(process.env);
 * ```
 */
export function cleanCache(env: NodeJS.ProcessEnv): { dir: string; entries: number } {
  const dir = cacheDirPath(env);
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (stat === undefined) return { dir, entries: 0 };
  if (!stat.isDirectory() || !isOwnFile(stat)) {
    throw new EksAuthError('ERR_CACHE_DIR', `${dir} is not a directory of this user's, so eksauth leaves it alone: remove it yourself or set KUBECACHEDIR`);
  }
  const names = readdirSync(dir);
  rmSync(dir, { recursive: true, force: true });
  return { dir, entries: names.filter((name) => name.endsWith('.json')).length };
}

/**
 * `mkdir -p` with 0700 for what it creates. Not mkdirSync's own `recursive`, which never returns when a parent cannot
 * be created and the system keeps answering ENOENT (KUBECACHEDIR under /proc): here each level is tried once.
 */
function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const parent = dirname(dir);
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || parent === dir) throw err;
    makeDirectory(parent);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
    }
  }
}

