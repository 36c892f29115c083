/**
 * The one way eksauth reads a file that someone else could have replaced with something that is not a file: the
 * cache's entries and locks, the kubeconfig and its lock, the AWS config and credentials files.
 *
 * The path is opened non-blocking (a FIFO opens at once instead of waiting for a writer), by default without
 * following a symlink, and its type is checked with fstat on the opened descriptor, so that what is judged is what
 * is read: a FIFO, device, socket, directory or symlink is refused before a byte is read. A regular file is read up
 * to a bound, so a file that keeps growing cannot grow the process. Synchronous, like the token path that uses it.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

// Windows has neither flag; there a symlink is followed and a named pipe cannot sit at a plain path anyway.
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
const NON_BLOCK = constants.O_NONBLOCK ?? 0;

/** A generous bound for configuration files (kubeconfig, AWS config): real ones are a few KiB, large ones 1 MiB. */
export const CONFIG_FILE_MAX_BYTES = 16 * 1024 * 1024;

export interface ReadRegularFileOptions {
  /** Files larger than this are refused ('too-large') after reading at most this many bytes plus one. */
  maxBytes: number;
  /** Follow a symlink at `path` (a kubeconfig kept in a dotfile repository); default false: a symlink is refused. */
  followSymlinks?: boolean;
  /** Asked with the descriptor's fstat before anything is read; false refuses the file ('untrusted'). */
  trust?: (stat: Stats) => boolean;
}

/** Why a file was not read; `what` completes "<path> is …" or "cannot be read (…)". */
export type FileRefusal =
  | { reason: 'missing' }
  | { reason: 'not-regular'; what: string }
  | { reason: 'untrusted'; stat: Stats }
  | { reason: 'too-large'; what: string }
  | { reason: 'unreadable'; code: string };

export type RegularFileRead = { bytes: Buffer; stat: Stats } | FileRefusal;

/**
 * The bytes of `path` when it is a regular file within `maxBytes` (and trusted by `trust`), else why not. Never
 * throws, never blocks on a FIFO, never reads more than `maxBytes + 1` bytes.
 *
 * @example
 * ```ts
 * import { readRegularFile } from './regular-file.js';
 * const read = readRegularFile('/home/me/.kube/config', { maxBytes: 16 * 1024 * 1024, followSymlinks: true });
 * if ('bytes' in read) console.log(read.bytes.length);
 * else console.log(read.reason); // 'missing', 'not-regular', 'untrusted', 'too-large' or 'unreadable'
 * ```
 */
export function readRegularFile(path: string, options: ReadRegularFileOptions): RegularFileRead {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | NON_BLOCK | (options.followSymlinks ? 0 : NO_FOLLOW));
  } catch (err) {
    return refusalOfOpenError(err as NodeJS.ErrnoException);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { reason: 'not-regular', what: describeFileType(stat) };
    if (options.trust !== undefined && !options.trust(stat)) return { reason: 'untrusted', stat };
    const bytes = readAtMost(fd, stat.size, options.maxBytes);
    return bytes === undefined ? { reason: 'too-large', what: `larger than ${options.maxBytes} bytes` } : { bytes, stat };
  } catch (err) {
    return { reason: 'unreadable', code: (err as NodeJS.ErrnoException).code ?? String(err) };
  } finally {
    closeSync(fd);
  }
}

/**
 * What a non-regular file is, for messages: "a FIFO", "a directory", ….
 *
 * @example
 * ```ts
 * import { statSync } from 'node:fs';
 * import { describeFileType } from './regular-file.js';
 * describeFileType(statSync('/dev/zero')); // 'a character device'
 * ```
 */
export function describeFileType(stat: Stats): string {
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  if (stat.isSymbolicLink()) return 'a symlink';
  return stat.isFile() ? 'a regular file' : 'not a regular file';
}

function refusalOfOpenError(err: NodeJS.ErrnoException): FileRefusal {
  switch (err.code) {
    case 'ENOENT':
      return { reason: 'missing' };
    case 'ELOOP': // O_NOFOLLOW on a symlink (Linux, macOS)
    case 'EMLINK': // the same on FreeBSD
      return { reason: 'not-regular', what: 'a symlink' };
    case 'ENXIO': // a socket, or a device with nothing behind it
      return { reason: 'not-regular', what: 'a socket or device' };
    default:
      return { reason: 'unreadable', code: err.code ?? String(err) };
  }
}

/** Reads to end of file, or undefined once more than `maxBytes` came (the file grew past `size`, or lied about it). */
function readAtMost(fd: number, size: number, maxBytes: number): Buffer | undefined {
  let buffer = Buffer.allocUnsafe(Math.min(size, maxBytes) + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length > maxBytes) return undefined;
      const bigger = Buffer.allocUnsafe(Math.min(buffer.length * 2, maxBytes + 1));
      buffer.copy(bigger, 0, 0, length);
      buffer = bigger;
    }
    const read = readSync(fd, buffer, length, buffer.length - length, null);
    if (read === 0) return buffer.subarray(0, length);
    length += read;
  }
}
