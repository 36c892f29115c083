/**
 * aws-iam-authenticator's `dynamicBackendModePath`: a JSON file, `{"backendMode": "DynamicFile EKSConfigMap",
 * "Version": "3", "LastUpdatedDateTime": "1733130000"}`, whose `backendMode` (space- or comma-separated) replaces the
 * configured backends while the server runs. A deleted (or absent) file means the configured `backendMode` again.
 *
 * A switch never drops a review: the new chain is started and made ready (its ConfigMap listed, its files read) while
 * the old one keeps serving; then the chain is swapped in one assignment, and the old one is stopped. Reviews in
 * flight finish on the sources they started with (sources are immutable snapshots). The reference swaps first and
 * loads after, so reviews during a switch to EKSConfigMap or CRD find no rows until the first list.
 * A file that does not parse, or names a backend that cannot start, leaves the current chain in service.
 */
import { fileVersion, watchFileVersions } from '../lib/watch-file.js';
import { readFile } from 'node:fs/promises';
import { isPlainObject, lastUpdatedSeconds, parseYamlStrings } from '../authn/mapping/fields.js';
import { EksAuthError } from '../errors.js';
import { backendModeWarnings, checkBackendModes, parseBackendModes, type BackendMode, type ServerConfig } from './config.js';
import type { Logger } from './logger.js';
import type { BackendChain, ServerMappings } from './mappings.js';
import type { ServerMetrics } from './metrics.js';

export interface BackendModeFileOptions {
  path: string;
  config: ServerConfig;
  /** Starts a chain of backends (startBackendChain). */
  start: (modes: readonly BackendMode[]) => Promise<BackendChain>;
  log: Logger;
  metrics: ServerMetrics;
  /** How often a chain being switched to is checked for readiness. Default 50 ms. */
  readyPollMs?: number;
}

/**
 * Reads a backend-mode file's text into the backends it names, checked as `--backend-mode` is, and the warnings for
 * deprecated names.
 *
 * @example
 * ```ts
 * import { parseBackendModeFile } from './backend-mode-file.js';
 * parseBackendModeFile('{"backendMode":"DynamicFile ConfigMap","Version":"2"}', '/var/eksauth/mode.json', config);
 * // { modes: ['DynamicFile', 'EKSConfigMap'], warnings: ['backend-mode "ConfigMap" is deprecated, use "EKSConfigMap" instead'] }
 * ```
 */
export function parseBackendModeFile(
  text: string,
  path: string,
  config: Pick<ServerConfig, 'dynamicFilePath'>,
): { modes: BackendMode[]; warnings: string[]; updatedAt?: number } {
  const doc = parseYamlStrings(text, `backend-mode file ${path}`);
  const entry = isPlainObject(doc) ? Object.entries(doc).find(([key]) => key.toLowerCase() === 'backendmode') : undefined;
  if (entry === undefined || typeof entry[1] !== 'string') {
    throw new EksAuthError('ERR_INVALID_CONFIG', `The backend-mode file ${path} has no backendMode string; write e.g. {"backendMode": "DynamicFile"}.`);
  }
  const modes = parseBackendModes(entry[1]);
  checkBackendModes(modes, `backendMode in ${path}`);
  if (modes.includes('DynamicFile') && config.dynamicFilePath === undefined) {
    throw new EksAuthError('ERR_INVALID_CONFIG', `The backend-mode file ${path} names DynamicFile but dynamicfilepath is not set; set server.dynamicfilepath.`);
  }
  const updatedAt = isPlainObject(doc) ? lastUpdatedSeconds(doc) : undefined;
  return { modes, warnings: backendModeWarnings(entry[1]).map((warning) => `${path}: ${warning}`), ...(updatedAt === undefined ? {} : { updatedAt }) };
}

/**
 * Serves the chain the backend-mode file names (else `config.backendMode`) and follows the file's changes.
 *
 * @example
 * ```ts
 * const mappings = await followBackendModeFile({ path: '/var/eksauth/mode.json', config, start, log, metrics });
 * mappings.sources(); // the current chain's sources
 * ```
 */
export async function followBackendModeFile(options: BackendModeFileOptions): Promise<ServerMappings> {
  // As the reference: a file that cannot be applied at start leaves the configured backends (and is reported).
  const seen = await fileVersion(options.path);
  const { modes } = await desiredModes(options).catch((err: unknown) => {
    if (err instanceof EksAuthError) return { modes: options.config.backendMode };
    throw err;
  });
  const switcher = new ChainSwitcher(options, await options.start(modes));
  const stop = watchFileVersions(options.path, options.config.mappingReloadIntervalMs, seen, switcher.onChange);
  return {
    sources: () => switcher.current.sources(),
    ready: () => switcher.current.ready(),
    states: () => switcher.current.states(),
    close: async () => {
      stop();
      await switcher.close();
    },
  };
}

/**
 * The modes the file names (the configured ones when it is absent) and its `LastUpdatedDateTime`. Throws (and reports)
 * when it cannot be applied.
 */
async function desiredModes(options: BackendModeFileOptions): Promise<{ modes: BackendMode[]; updatedAt?: number }> {
  const { path, config, log } = options;
  try {
    const text = await readFile(path, 'utf8').catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      if (code === 'ENOENT') return undefined;
      throw new EksAuthError('ERR_INVALID_CONFIG', `Cannot read the backend-mode file ${path} (${code}); check dynamicBackendModePath.`);
    });
    if (text === undefined) return { modes: config.backendMode };
    const { warnings, ...desired } = parseBackendModeFile(text, path, config);
    for (const warning of warnings) log.warn(warning);
    return desired;
  } catch (err) {
    if (!(err instanceof EksAuthError)) throw err;
    options.metrics.mappingSourceError(`backend-mode-file:${path}`, 'invalid');
    options.metrics.dynamicFileFailure();
    log.error({ source: `backend-mode-file:${path}`, error: err.message }, 'backend-mode file not applied (keeping the current backends)');
    throw err;
  }
}

/** Holds the chain in service and replaces it, one switch at a time, only with a chain that is ready. */
class ChainSwitcher {
  current: BackendChain;
  private pending: BackendChain | undefined;
  private generation = 0;
  private closed = false;
  private queue = Promise.resolve();

  constructor(private readonly options: BackendModeFileOptions, initial: BackendChain) {
    this.current = initial;
    options.log.info({ backendMode: initial.modes }, 'backend modes in service');
    reportDynamicFileMode(options.metrics, initial.modes);
  }

  readonly onChange = (): void => {
    const generation = ++this.generation;
    this.queue = this.queue.then(() => this.follow(generation)).catch(() => undefined);
  };

  async close(): Promise<void> {
    this.closed = true;
    this.generation += 1;
    await this.queue;
    await this.pending?.close();
    await this.current.close();
  }

  /** Applies the file as it is now, unless a newer change has arrived meanwhile. */
  private async follow(generation: number): Promise<void> {
    let desired: { modes: BackendMode[]; updatedAt?: number };
    try {
      desired = await desiredModes(this.options);
    } catch {
      return; // reported by desiredModes; the current chain stays
    }
    if (generation !== this.generation) return;
    if (!sameModes(desired.modes, this.current.modes)) await this.switchTo(desired.modes, generation);
    // As the reference: each version read after start (switched to or not) is measured from when EKS wrote it.
    if (desired.updatedAt !== undefined) this.options.metrics.dynamicFileLatency('dynamic_backend_mode', desired.updatedAt);
  }

  private async switchTo(modes: BackendMode[], generation: number): Promise<void> {
    const { log } = this.options;
    log.info({ from: this.current.modes, to: modes }, 'backend-mode file changed: starting the new backends');
    let next: BackendChain;
    try {
      next = await this.options.start(modes);
    } catch (err) {
      log.error({ to: modes, error: err instanceof Error ? err.message : String(err) }, 'backend-mode switch failed (keeping the current backends)');
      return;
    }
    this.pending = next;
    const superseded = (): boolean => this.closed || generation !== this.generation;
    while (!next.ready() && !superseded()) await sleep(this.options.readyPollMs ?? 50);
    this.pending = undefined;
    if (superseded()) {
      await next.close();
      return;
    }
    const old = this.current;
    this.current = next;
    log.info({ backendMode: modes }, 'backend modes in service');
    reportDynamicFileMode(this.options.metrics, modes);
    await old.close();
  }
}

/** aws-iam-authenticator's `dynamic_file_enabled` and `dynamic_file_only` gauges, for the backends in service. */
export function reportDynamicFileMode(metrics: ServerMetrics, modes: readonly BackendMode[]): void {
  metrics.dynamicFileMode({ enabled: modes.includes('DynamicFile'), only: modes.length === 1 && modes[0] === 'DynamicFile' });
}

function sameModes(a: readonly BackendMode[], b: readonly BackendMode[]): boolean {
  return a.length === b.length && a.every((mode, i) => mode === b[i]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
