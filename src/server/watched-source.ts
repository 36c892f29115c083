/**
 * A mapping source that changes while the server runs (a file, a ConfigMap): the version currently served, and what
 * the logs, metrics and `/readyz` say about it. A new version replaces the old one only when it parses; otherwise the
 * last good version stays in service and the source is reported unhealthy until a good version arrives.
 */
import type { MappingSource } from '../authn/mapping/types.js';
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
 * Holds the served version of one source and reports every change. The watcher calls {@link accept} with a freshly
 * parsed version or {@link reject} with why the new content is unusable.
 *
 * @example
 * ```ts
 * const holder = new SourceHolder('file:/etc/eksauth/mapping.yaml', reporter);
 * holder.accept(parseMappingFile(text, path), 'file changed');
 * holder.current()?.candidates().length;
 * ```
 */
export class SourceHolder {
  private served: MappingSource | undefined;
  private loaded = false;
  private problem: string | undefined;

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

  /** Serves `source` from now on. */
  accept(source: MappingSource, why: string): void {
    const recovered = this.problem !== undefined;
    this.served = source;
    this.loaded = true;
    this.problem = undefined;
    this.report();
    this.reporter.log.info({ source: this.name, rows: source.candidates().length, recovered }, `mapping source loaded: ${why}`);
    this.reporter.onChange();
  }

  /**
   * Keeps serving the last good version (or, before the first one, nothing: `serveEmpty` then marks the source loaded
   * with no rows, so that one bad source does not keep the server unready).
   */
  reject(problem: string, kind: 'invalid' | 'read', options: { serveEmpty?: MappingSource } = {}): void {
    this.problem = problem;
    this.reporter.metrics.mappingSourceError(this.name, kind);
    const keeping = this.served === undefined ? (options.serveEmpty === undefined ? 'nothing loaded yet' : 'serving no rows') : 'keeping the last good version';
    if (this.served === undefined && options.serveEmpty !== undefined) {
      this.served = options.serveEmpty;
      this.loaded = true;
      this.reporter.onChange();
    }
    this.report();
    this.reporter.log.error({ source: this.name, kind, error: problem }, `mapping source not updated (${keeping})`);
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
