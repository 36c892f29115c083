/**
 * Polls a file's status and calls back when it differs from the version last seen, starting from the version its
 * caller read. Not `fs.watchFile`: that compares each poll with its own previous one, whose first is taken after the
 * caller has read the file, so an edit made in between becomes its baseline and is never reported. Polling, not
 * events, because it follows symlinks: a ConfigMap volume replaces its files by swapping a `..data` symlink.
 */
import { stat, type Stats } from 'node:fs';

/** What identifies a version of the file; `undefined` while it is missing. */
export type FileVersion = Pick<Stats, 'mtimeMs' | 'size' | 'ino'> | undefined;

/**
 * The file's version now (following symlinks), or undefined when it is missing or unreadable.
 *
 * @example
 * ```ts
 * const seen = await fileVersion('/etc/eksauth/mapping.yaml'); // take it before reading the file
 * ```
 */
export function fileVersion(path: string): Promise<FileVersion> {
  return new Promise((resolve) => stat(path, (err, stats) => resolve(err ? undefined : stats)));
}

/**
 * Calls `onChange` each time a poll finds a version other than the last one seen, `seen` being the version the
 * caller read. Returns the function that stops polling.
 *
 * @example
 * ```ts
 * const seen = await fileVersion(path);
 * const text = await readFile(path, 'utf8');
 * const stop = watchFileVersions(path, 1000, seen, () => void reload());
 * ```
 */
export function watchFileVersions(path: string, intervalMs: number, seen: FileVersion, onChange: () => void): () => void {
  let last = seen;
  let polling = false;
  const poll = async (): Promise<void> => {
    if (polling) return;
    polling = true;
    const current = await fileVersion(path);
    polling = false;
    if (sameVersion(current, last)) return;
    last = current;
    onChange();
  };
  const timer = setInterval(() => void poll(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function sameVersion(a: FileVersion, b: FileVersion): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino;
}
