/**
 * The server's mapping backends, in the configured precedence (`backendMode` order): the mapping file (or the config
 * file's embedded mappings), the aws-auth ConfigMap, the IAMIdentityMapping resources, the DynamicFile and the
 * cluster's EKS access entries, each kept
 * current while the server runs; and, with `dynamicBackendModePath`, a switch to another list of backends while it
 * runs (see backend-mode-file.ts).
 */
import { parseDynamicFile, type DynamicFileOptions } from '../authn/mapping/dynamic-file/dynamic-file.js';
import { parseMappingFile } from '../authn/mapping/file/mapping-file.js';
import type { AwsAuthParseOptions, MappingSource } from '../authn/mapping/types.js';
import type { EksClientOptions } from '../aws/eks.js';
import { EksAuthError } from '../errors.js';
import { followBackendModeFile, reportDynamicFileMode } from './backend-mode-file.js';
import { readEmbeddedMappings, type BackendMode, type ServerConfig } from './config.js';
import { watchAwsAuthConfigMap } from './configmap-source.js';
import { watchIdentityMappings } from './crd-source.js';
import { watchMappingFile } from './file-source.js';
import type { KubernetesAccess } from './kubernetes-access.js';
import type { Logger } from './logger.js';
import type { MappingSourceState, ServerMetrics } from './metrics.js';
import { SourceHolder, watchedSource, type SourceReporter, type WatchedSource } from './watched-source.js';

export interface ServerMappings {
  /** The sources to map with, in precedence order; only those with a version loaded. */
  sources(): readonly MappingSource[];
  /** True once every configured source has loaded a version. */
  ready(): boolean;
  states(): MappingSourceState[];
  close(): Promise<void>;
}

/** One list of running backends; a backend-mode switch replaces the whole chain. */
export interface BackendChain extends ServerMappings {
  readonly modes: readonly BackendMode[];
}

export interface ServerMappingsOptions {
  log: Logger;
  metrics: ServerMetrics;
  /** For EKSConfigMap and CRD; default: `config.kubeconfig` when set, else discovered (see kube-access.ts). */
  kubernetes?: KubernetesAccess;
  /** How EKSAccessEntries calls EKS; see {@link AccessEntriesEksOptions}. */
  eks?: AccessEntriesEksOptions;
}

/**
 * How the EKSAccessEntries backend calls EKS; each part defaults to the server's own: the credentials of the SDK's
 * default chain, `config.region` (else AWS_REGION), and the SDK's endpoint (which honours AWS_ENDPOINT_URL_EKS).
 */
export type AccessEntriesEksOptions = Partial<EksClientOptions>;

/**
 * Starts every backend of `config.backendMode` (or of the backend-mode file, when there is one). Rejects when a
 * backend cannot start (a missing mapping file, no way to reach the Kubernetes API); the API-backed sources load in
 * the background and `ready()` turns true when they have.
 *
 * @example
 * ```ts
 * const mappings = await startServerMappings(config, { log, metrics });
 * const result = await mapIdentity(identity, mappings.sources(), { reservedPrefixAllowList: config.reservedPrefixAllowList });
 * ```
 */
export async function startServerMappings(config: ServerConfig, options: ServerMappingsOptions): Promise<ServerMappings> {
  const start = (modes: readonly BackendMode[]): Promise<BackendChain> => startBackendChain(modes, config, options);
  if (config.dynamicBackendModePath === undefined) {
    const chain = await start(config.backendMode);
    reportDynamicFileMode(options.metrics, chain.modes);
    return chain;
  }
  return followBackendModeFile({ path: config.dynamicBackendModePath, config, start, log: options.log, metrics: options.metrics });
}

/** Starts the backends of `modes`, in that order; on failure stops those already started and rejects. */
async function startBackendChain(modes: readonly BackendMode[], config: ServerConfig, options: ServerMappingsOptions): Promise<BackendChain> {
  let ordered: readonly MappingSource[] = [];
  const watched: WatchedSource[] = [];
  const rebuild = (): void => {
    ordered = watched.map((source) => source.current()).filter((source): source is MappingSource => source !== undefined);
  };
  const reporter = { log: options.log, metrics: options.metrics, onChange: rebuild };
  try {
    for (const mode of modes) {
      watched.push(await startBackend(mode, config, options, reporter));
      rebuild();
    }
  } catch (err) {
    await Promise.all(watched.map((source) => source.close()));
    throw err;
  }
  return {
    modes: [...modes],
    sources: () => ordered,
    ready: () => watched.every((source) => source.state().loaded),
    states: () => watched.map((source) => source.state()),
    close: async () => {
      await Promise.all(watched.map((source) => source.close()));
    },
  };
}

function startBackend(mode: BackendMode, config: ServerConfig, options: ServerMappingsOptions, reporter: SourceReporter): Promise<WatchedSource> {
  const api = { access: kubernetesAccess(config, options), ...(config.master === undefined ? {} : { master: config.master }) };
  switch (mode) {
    case 'MountedFile':
      return startFileBackend(config, reporter);
    case 'EKSConfigMap':
      return watchAwsAuthConfigMap({ ...api, ...config.configMap, parse: parseOptionsOf(config) }, reporter);
    case 'CRD':
      return watchIdentityMappings(api, reporter);
    case 'DynamicFile':
      return startDynamicFileBackend(config, reporter);
    case 'EKSAccessEntries':
      return startAccessEntriesBackend(config, options, reporter);
  }
}

/**
 * The cluster's access entries from the EKS API (`clusterId` is the cluster name), as `options.eks` says, else with
 * the server's credentials and region and the SDK's EKS endpoint.
 */
async function startAccessEntriesBackend(config: ServerConfig, options: ServerMappingsOptions, reporter: SourceReporter): Promise<WatchedSource> {
  const region = options.eks?.region ?? config.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (region === undefined || region === '') {
    throw new EksAuthError('ERR_NO_REGION', 'The EKSAccessEntries backend calls EKS in the cluster\'s region: set server.region (--ec2-region) or AWS_REGION.');
  }
  const { watchAccessEntries } = await import('./access-entries-source.js');
  const credentials = options.eks?.credentials ?? await (await import('../aws/credentials.js')).resolveBaseCredentials();
  const eks = { ...options.eks, region, credentials };
  return watchAccessEntries({ clusterName: config.clusterId, eks, intervalMs: config.accessEntriesRefreshIntervalMs }, reporter);
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
  return watchedSource(holder, async () => undefined);
}

/** The DynamicFile: maps nobody while the file is absent (EKS writes it), as the reference's waits for it. */
function startDynamicFileBackend(config: ServerConfig, reporter: SourceReporter): Promise<WatchedSource> {
  const path = config.dynamicFilePath;
  if (path === undefined) {
    // resolveServerConfig and the backend-mode file both refuse DynamicFile without a path; this is the last guard.
    return Promise.reject(new EksAuthError('ERR_INVALID_CONFIG', 'The DynamicFile backend needs its file: set server.dynamicfilepath (or --dynamicfile-path).'));
  }
  const { metrics } = reporter;
  let loaded = false;
  const options: DynamicFileOptions = {
    userIdStrict: config.dynamicFileUserIdStrict,
    ...parseOptionsOf(config),
    // As the reference: how long after EKS wrote a version (its LastUpdatedDateTime) it was served. The version found at
    // start says nothing about that delay (it may be days old), so only later versions are measured.
    onUpdatedAt: (seconds) => {
      if (loaded) metrics.dynamicFileLatency('dynamic_file', seconds);
      loaded = true;
    },
  };
  const parse = (text: string, file: string): MappingSource => parseDynamicFile(text, file, options);
  // The reference counts the DynamicFile's failed loads on their own, besides the per-source error count.
  const counting: ServerMetrics = Object.assign(Object.create(metrics) as ServerMetrics, {
    mappingSourceError: (source: string, kind: 'invalid' | 'watch' | 'read'): void => {
      metrics.mappingSourceError(source, kind);
      metrics.dynamicFileFailure();
    },
  });
  const whenAbsent = parseDynamicFile('', path, { ...options, onUpdatedAt: () => undefined });
  return watchMappingFile({ path, parse, intervalMs: config.mappingReloadIntervalMs, whenAbsent }, { ...reporter, metrics: counting });
}

function parseOptionsOf(config: ServerConfig): AwsAuthParseOptions {
  return { ssoRoleMatch: config.featureGates.SSORoleMatch };
}

function kubernetesAccess(config: ServerConfig, options: ServerMappingsOptions): KubernetesAccess {
  if (options.kubernetes !== undefined) return options.kubernetes;
  return config.kubeconfig === undefined ? { discover: true } : { kubeconfigPath: config.kubeconfig };
}
