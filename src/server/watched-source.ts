/**
 * A mapping source that changes while the server runs (a file, a ConfigMap): the version currently served, and what
 * the logs, metrics and `/readyz` say about it. A new version replaces the old one only when it parses; otherwise the
 * last good version stays in service and the source is reported unhealthy until a good version arrives — including
 * the last good content itself, put back after a bad edit.
 *
 * What is reported about a rejected version names the source, the location in it and the kind of problem, never what
 * was written there (a row's ARN, a username): `/readyz` is served on the plain-HTTP ops port and logs are widely
 * read. The full message, with the content, is logged at debug level only.
 */
import { createHash } from 'node:crypto';
import type { MappingSource } from '../authn/mapping/types.js';
import { EksAuthError } from '../errors.js';
import type { Logger } from './logger.js';
import type { MappingSourceState, ServerMetrics } from './metrics.js';

export interface WatchedSource {
  readonly name: string;
  /** The version in service; undefined until one has loaded. */
  current(): MappingSource | undefined;
  state(): MappingSourceState;
  close(): Promise<void>;
}

export interface SourceReporter {
  log: Logger;
  metrics: ServerMetrics;
  /** Called after the served version changes, so the server can rebuild its source list. */
  onChange: () => void;
}

/**
 * The {@link WatchedSource} of a holder, stopped by `close`.
 *
 * @example
 * ```ts
 * return watchedSource(holder, () => supervisor.stop(informer));
 * ```
 */
export function watchedSource(holder: SourceHolder, close: () => Promise<void>): WatchedSource {
  return { name: holder.name, current: () => holder.current(), state: () => holder.state(), close };
}

/** Why a new version was refused: `summary` for `/readyz`, metrics and the error log; `detail` for the debug log. */
export interface Rejection {
  summary: string;
  detail: string;
}

export interface RejectOptions {
  /** Before the first good version, serve this (no rows) so that one bad source does not keep the server unready. */
  serveEmpty?: MappingSource;
}

/**
 * The rejection for an error thrown while parsing: its content-free summary when it has one, else only its code.
 *
 * @example
 * ```ts
 * rejectionOf(invalidMapping('file:/m.yaml: mapAccounts[0]', "('12') is not a 12-digit AWS account id", undefined, {
 *   summary: 'is not a 12-digit AWS account id',
 * })).summary; // 'file:/m.yaml: mapAccounts[0] is not a 12-digit AWS account id'
 * ```
 */
export function rejectionOf(err: EksAuthError): Rejection {
  return { summary: err.summary ?? `the new version is invalid (${err.code})`, detail: err.message };
}

/**
 * Holds the served version of one source and reports every change. The watcher calls {@link offer} with new
 * content, or {@link accept} / {@link reject} for versions that are not content (a deleted ConfigMap, an unreadable
 * file).
 *
 * @example
 * ```ts
 * const holder = new SourceHolder('file:/etc/eksauth/mapping.yaml', reporter);
 * holder.offer(text, 'file changed', () => parseMappingFile(text, path));
 * holder.current()?.candidates().length;
 * ```
 */
export class SourceHolder {
  private served: MappingSource | undefined;
  private loaded = false;
  private problem: string | undefined;
  // Digest of the content whose outcome (served, or rejected) is the current state; undefined after anything else.
  private offered: string | undefined;

  constructor(readonly name: string, private readonly reporter: SourceReporter) {}

  current(): MappingSource | undefined {
    return this.served;
  }

  state(): MappingSourceState {
    return {
      source: this.name,
      loaded: this.loaded,
      healthy: this.loaded && this.problem === undefined,
      rows: this.served?.candidates().length ?? 0,
      ...(this.problem === undefined ? {} : { error: this.problem }),
    };
  }

  /**
   * Parses and serves new content, or rejects it when `parse` throws an EksAuthError (other errors propagate, as do
   * all with `rethrow`, for a first load that must not fail quietly). Content equal to the latest offered is skipped
   * whatever came of it — not only the last good version, or putting that back after a bad edit would change nothing.
   */
  offer(content: string, why: string, parse: () => MappingSource, options: RejectOptions & { rethrow?: boolean } = {}): void {
    const digest = createHash('sha256').update(content).digest('hex');
    if (digest === this.offered) return;
    let source: MappingSource;
    try {
      source = parse();
    } catch (err) {
      if (options.rethrow === true || !(err instanceof EksAuthError)) throw err;
      this.reject(rejectionOf(err), 'invalid', options);
      this.offered = digest;
      return;
    }
    this.accept(source, why);
    this.offered = digest;
  }

  /** Serves `source` from now on; what it left out (its `problems`) is reported as warnings, and it is healthy. */
  accept(source: MappingSource, why: string): void {
    const recovered = this.problem !== undefined;
    this.served = source;
    this.loaded = true;
    this.problem = undefined;
    this.offered = undefined;
    this.report();
    this.reporter.log.info({ source: this.name, rows: source.candidates().length, recovered }, `mapping source loaded: ${why}`);
    this.reportSkipped(source);
    this.reporter.onChange();
  }

  /** What the accepted version left out: one warning and one count each; the written values at debug level only. */
  private reportSkipped(source: MappingSource): void {
    for (const problem of source.problems ?? []) {
      this.reporter.metrics.mappingSkipped(this.name, problem.kind);
      this.reporter.log.warn({ source: this.name, kind: problem.kind, problem: problem.summary }, 'mapping source: part skipped, the rest applies');
      this.reporter.log.debug({ source: this.name, kind: problem.kind, detail: problem.detail }, 'mapping source: part skipped: the full message');
    }
  }

  /**
   * Keeps serving the last good version (or, before the first one, nothing: `serveEmpty` then marks the source loaded
   * with no rows, so that one bad source does not keep the server unready).
   */
  reject(problem: Rejection, kind: 'invalid' | 'read', options: RejectOptions = {}): void {
    this.problem = problem.summary;
    this.offered = undefined;
    this.reporter.metrics.mappingSourceError(this.name, kind);
    const keeping = this.served === undefined ? (options.serveEmpty === undefined ? 'nothing loaded yet' : 'serving no rows') : 'keeping the last good version';
    if (this.served === undefined && options.serveEmpty !== undefined) {
      this.served = options.serveEmpty;
      this.loaded = true;
      this.reporter.onChange();
    }
    this.report();
    this.reporter.log.error({ source: this.name, kind, error: problem.summary }, `mapping source not updated (${keeping})`);
    this.reporter.log.debug({ source: this.name, kind, detail: problem.detail }, 'mapping source not updated: the full message');
  }

  /** A transient failure (a watch dropped, a list refused): the served version is unchanged, and retried later. */
  transientFailure(problem: string): void {
    this.reporter.metrics.mappingSourceError(this.name, 'watch');
    this.reporter.log.warn({ source: this.name, error: problem }, 'mapping source watch failed; retrying');
  }

  private report(): void {
    this.reporter.metrics.mappingSource(this.state());
  }
}
