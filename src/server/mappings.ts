/**
 * The server's mapping sources, in the configured precedence (`backendMode` order): the mapping file (or the config
 * file's embedded mappings) and the aws-auth ConfigMap, each kept current while the server runs.
 */
import { parseMappingFile } from '../authn/mapping/file/mapping-file.js';
import type { AwsAuthParseOptions, MappingSource } from '../authn/mapping/types.js';
import { readEmbeddedMappings, type ServerConfig } from './config.js';
import { watchAwsAuthConfigMap, type KubernetesAccess } from './configmap-source.js';
import { watchMappingFile } from './file-source.js';
import type { Logger } from './logger.js';
import type { MappingSourceState, ServerMetrics } from './metrics.js';
import { SourceHolder, type SourceReporter, type WatchedSource } from './watched-source.js';

export interface ServerMappings {
  /** The sources to map with, in precedence order; only those with a version loaded. */
  sources(): readonly MappingSource[];
  /** True once every configured source has loaded a version. */
  ready(): boolean;
  states(): MappingSourceState[];
  close(): Promise<void>;
}

export interface ServerMappingsOptions {
  log: Logger;
  metrics: ServerMetrics;
  /** For EKSConfigMap; default: `config.kubeconfig` when set, else the pod's service account. */
  kubernetes?: KubernetesAccess;
}

/**
 * Starts every backend of `config.backendMode`. Rejects when the mapping file cannot be loaded (a server must not come
 * up without it); the ConfigMap loads in the background and `ready()` turns true when it has.
 *
 * @example
 * ```ts
 * const mappings = await startServerMappings(config, { log, metrics });
 * const result = await mapIdentity(identity, mappings.sources(), { reservedPrefixAllowList: config.reservedPrefixAllowList });
 * ```
 */
export async function startServerMappings(config: ServerConfig, options: ServerMappingsOptions): Promise<ServerMappings> {
  let ordered: readonly MappingSource[] = [];
  const watched: WatchedSource[] = [];
  const rebuild = (): void => {
    ordered = watched.map((source) => source.current()).filter((source): source is MappingSource => source !== undefined);
  };
  const reporter = { log: options.log, metrics: options.metrics, onChange: rebuild };
  try {
    for (const mode of config.backendMode) {
      watched.push(mode === 'MountedFile'
        ? await startFileBackend(config, reporter)
        : await watchAwsAuthConfigMap({ access: kubernetesAccess(config, options), ...config.configMap, parse: parseOptionsOf(config) }, reporter));
      rebuild();
    }
  } catch (err) {
    await Promise.all(watched.map((source) => source.close()));
    throw err;
  }
  return {
    sources: () => ordered,
    ready: () => watched.every((source) => source.state().loaded),
    states: () => watched.map((source) => source.state()),
    close: async () => {
      await Promise.all(watched.map((source) => source.close()));
    },
  };
}

/** The mapping file, else the config file's embedded mappings, else (as aws-iam-authenticator) no rows at all. */
async function startFileBackend(config: ServerConfig, reporter: SourceReporter): Promise<WatchedSource> {
  const intervalMs = config.mappingReloadIntervalMs;
  const parseOptions = parseOptionsOf(config);
  if (config.mappingFile !== undefined) {
    return watchMappingFile({ path: config.mappingFile, parse: (text, path) => parseMappingFile(text, path, parseOptions), intervalMs }, reporter);
  }
  if (config.embeddedMappings !== undefined) {
    return watchMappingFile({ path: config.embeddedMappings.path, parse: (text, path) => readEmbeddedMappings(text, path, parseOptions), intervalMs }, reporter);
  }
  reporter.log.warn('MountedFile backend without a mapping file or mappings in the config file: it maps nobody');
  const holder = new SourceHolder('file:(none)', reporter);
  holder.accept(parseMappingFile('', '(none)'), 'no mappings configured');
  return { name: holder.name, current: () => holder.current(), state: () => holder.state(), close: async () => undefined };
}

function parseOptionsOf(config: ServerConfig): AwsAuthParseOptions {
  return { ssoRoleMatch: config.featureGates.SSORoleMatch };
}

function kubernetesAccess(config: ServerConfig, options: ServerMappingsOptions): KubernetesAccess {
  if (options.kubernetes !== undefined) return options.kubernetes;
  return config.kubeconfig === undefined ? { inCluster: true } : { kubeconfigPath: config.kubeconfig };
}
