/**
 * The MountedFile backend: a mapping file (or the config file's embedded mappings), reloaded when it changes.
 *
 * Changes are found by polling the file's status (lib/watch-file.ts), which follows symlinks: a ConfigMap volume
 * replaces its files by swapping a `..data` symlink, which event-based watchers on the file itself miss.
 */
import { readFile } from 'node:fs/promises';
import { fileVersion, watchFileVersions } from '../lib/watch-file.js';
import type { MappingSource } from '../authn/mapping/types.js';
import { EksAuthError } from '../errors.js';
import { SourceHolder, watchedSource, type SourceReporter, type WatchedSource } from './watched-source.js';

export interface FileSourceOptions {
  path: string;
  /** Turns the file's text into a source; throws `ERR_INVALID_MAPPING` (or any EksAuthError) for bad content. */
  parse: (text: string, path: string) => MappingSource;
  intervalMs: number;
  /**
   * Served while the file does not exist (at start, or once deleted) instead of failing the start or keeping the last
   * version: DynamicFile's file is written by someone else, and its absence means nobody is mapped by it.
   */
  whenAbsent?: MappingSource;
}

/**
 * Loads the file (failing when it is missing or invalid: a server must not start without its mappings; with
 * `whenAbsent`, serving that instead) and reloads it on every change, keeping the last good version when a new one does
 * not parse.
 *
 * @example
 * ```ts
 * const source = await watchMappingFile({ path: '/etc/eksauth/mapping.yaml', parse: parseMappingFile, intervalMs: 1000 }, reporter);
 * source.current(); // the parsed mapping
 * await source.close();
 * ```
 */
export async function watchMappingFile(options: FileSourceOptions, reporter: SourceReporter): Promise<WatchedSource> {
  const { path } = options;
  const holder = new SourceHolder(`file:${path}`, reporter);
  const load = async (why: string, initial: boolean): Promise<void> => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && options.whenAbsent !== undefined) {
        holder.accept(options.whenAbsent, 'no such file: nobody is mapped by it');
        return;
      }
      const problem = `cannot read ${path} (${code ?? 'unreadable'})`;
      if (initial) throw new EksAuthError('ERR_INVALID_CONFIG', `The mapping file: ${problem}; check the path.`);
      holder.reject({ summary: problem, detail: problem }, 'read');
      return;
    }
    // A file someone else writes (whenAbsent) never stops the start: a bad first version serves no rows, as the
    // reference's DynamicFile waits for a good one; the operator's own mapping file must load.
    const firstLoad = options.whenAbsent === undefined ? { rethrow: initial } : { serveEmpty: options.whenAbsent };
    holder.offer(text, why, () => options.parse(text, path), firstLoad);
  };
  const seen = await fileVersion(path);
  await load('initial load', true);
  // Reloads run one at a time, in order, so an older read never replaces a newer one.
  let queue = Promise.resolve();
  const onChange = (): void => {
    queue = queue.then(() => load('file changed', false)).catch((err: unknown) => {
      // Not an EksAuthError: a parser bug, whose message may quote the content; the summary says only where.
      const detail = err instanceof Error ? err.message : String(err);
      holder.reject({ summary: `${path} could not be parsed (an internal error; see the debug log)`, detail }, 'invalid');
    });
  };
  const stop = watchFileVersions(path, options.intervalMs, seen, onChange);
  return watchedSource(holder, async () => {
    stop();
    await queue;
  });
}
