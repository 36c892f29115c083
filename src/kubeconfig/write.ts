/**
 * Writing a kubeconfig so that no reader ever sees half a file and a crash never leaves one: the text goes to a
 * temporary file beside the target, is flushed to disk, and replaces the target with one rename. A symlinked
 * kubeconfig (dotfile repositories do this) keeps its link: the write goes to the file the link points to. An
 * existing file keeps its mode (and, when run as root, its owner); a new one is created 0600.
 */
import { randomBytes } from 'node:crypto';
import { lstat, open, readlink, rename, stat, unlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { EksAuthError } from '../errors.js';
import { makeDirectory } from './lock.js';

const MAX_SYMLINK_HOPS = 40;

/**
 * The file a path finally names after following symlinks, also when the last link dangles (the file it names is
 * then created).
 *
 * @example
 * ```ts
 * import { resolveWriteTarget } from './write.js';
 * await resolveWriteTarget('/home/me/.kube/config'); // '/home/me/dotfiles/kubeconfig' when config is a symlink to it
 * ```
 * @throws EksAuthError ERR_KUBECONFIG_INACCESSIBLE for a symlink loop
 */
export async function resolveWriteTarget(path: string): Promise<string> {
  let current = path;
  for (let hop = 0; hop < MAX_SYMLINK_HOPS; hop += 1) {
    let info: Stats;
    try {
      info = await lstat(current);
    } catch {
      return current; // missing (or unreadable, which the write reports)
    }
    if (!info.isSymbolicLink()) return current;
    const target = await readlink(current);
    current = isAbsolute(target) ? target : resolve(dirname(current), target);
  }
  throw new EksAuthError('ERR_KUBECONFIG_INACCESSIBLE', `kubeconfig ${path} is a symlink loop; point it at a real file (nothing was changed)`);
}

/**
 * Replaces `target` with `text` atomically: temporary file in the same directory, fsync, rename, fsync of the
 * directory. The target must already be resolved (see {@link resolveWriteTarget}).
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from './write.js';
 * await writeFileAtomic('/home/me/.kube/config', 'apiVersion: v1\nkind: Config\n');
 * ```
 * @throws EksAuthError ERR_KUBECONFIG_INACCESSIBLE naming the path and the system error
 */
export async function writeFileAtomic(target: string, text: string): Promise<void> {
  const dir = dirname(target);
  await makeDirectory(dir);
  const existing = await stat(target).catch(() => undefined);
  const temp = join(dir, `.${basename(target)}.eksauth-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      if (existing !== undefined) await keepOwnership(handle, existing);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new EksAuthError('ERR_KUBECONFIG_INACCESSIBLE', `cannot write kubeconfig ${target} (${code}); check the permissions of ${dir}, or pass --kubeconfig elsewhere (the file was not changed)`, { cause: err });
  }
  await syncDirectory(dir);
}

async function keepOwnership(handle: Awaited<ReturnType<typeof open>>, existing: Stats): Promise<void> {
  await handle.chmod(existing.mode & 0o7777);
  // Only root can give a file away; `sudo eksauth update-kubeconfig` must not leave the user a root-owned config.
  if (process.getuid?.() === 0 && (existing.uid !== 0 || existing.gid !== 0)) await handle.chown(existing.uid, existing.gid);
}

/** Makes the rename itself durable; some file systems cannot open a directory, which is fine to ignore. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}
