/**
 * `eksauth server` settings: defaults, the config file and flags, validated into one {@link ServerConfig}.
 *
 * The config file is a superset of aws-iam-authenticator's `config.yaml`: `clusterID` at the top, everything else
 * under `server:` with the reference's key names (`port`, `stateDir`, `generateKubeconfig`, `backendMode`, `mapRoles`,
 * …), matched case-insensitively as viper does. So an existing file works unchanged: every reference key is read,
 * and any other key is an error (a typo must not silently become a default). `scrubbedAccounts`, `reservedPrefixConfig` and the EC2 lookup settings work as in the
 * reference. Every scalar is read as the string that was written, so `012345678901` stays an account
 * id, and converted here.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { parseDocument } from 'yaml';
import { AWS_AUTH_SECTIONS, buildAwsAuthSource, type AwsAuthSections } from '../authn/mapping/aws-auth-format.js';
import { RESERVED_USERNAME_PREFIXES } from '../authn/mapping/map-identity.js';
import { DEFAULT_FEATURE_GATES, type FeatureGates } from '../authn/mapping/feature-gates.js';
import type { AwsAuthParseOptions, MappingSource } from '../authn/mapping/types.js';
import { EksAuthError } from '../errors.js';

/** Mapping backends, named as aws-iam-authenticator's `--backend-mode`; the order given is the precedence. */
export type BackendMode = 'MountedFile' | 'EKSConfigMap' | 'CRD' | 'DynamicFile' | 'EKSAccessEntries';

/** Every backend: the reference's, in the order it documents them, then eksauth's own EKSAccessEntries (the cluster's access entries, read from the EKS API). */
export const BACKEND_MODES: readonly BackendMode[] = ['MountedFile', 'EKSConfigMap', 'CRD', 'DynamicFile', 'EKSAccessEntries'];

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Everything `eksauth server` runs with; see {@link resolveServerConfig} for the defaults. */
export interface ServerConfig {
  /** This cluster's id, sent to STS as `x-k8s-aws-id`; tokens for other clusters fail. */
  clusterId: string;
  /** Address the webhook listens on (HTTPS). */
  address: string;
  port: number;
  /** Host name in the webhook URL and the certificate; default: the address (127.0.0.1 when it is a wildcard). */
  hostname: string;
  /** Where the serving certificate and key live (`cert.pem`, `key.pem`); generated there when missing. */
  stateDir: string;
  /** Where to write the webhook kubeconfig for kube-apiserver; undefined: not written. */
  generateKubeconfig?: string;
  /** The kubeconfig was written by `eksauth server init`; the server leaves it alone. */
  kubeconfigPregenerated: boolean;
  backendMode: BackendMode[];
  /** The MountedFile mapping: a file of its own, or (when unset) the mappings embedded in the config file. */
  mappingFile?: string;
  /** Set when the config file holds `server.mapRoles/mapUsers/mapAccounts`. */
  embeddedMappings?: { path: string };
  /** The DynamicFile backend's JSON mapping file (aws-iam-authenticator's `dynamicfilepath`). */
  dynamicFilePath?: string;
  /** DynamicFile rows match on the STS principal id (`userid`), not the ARN (`dynamicfileUserIDStrict`). */
  dynamicFileUserIdStrict: boolean;
  /** A JSON file whose `backendMode` replaces `backendMode` while the server runs (`dynamicBackendModePath`). */
  dynamicBackendModePath?: string;
  /** The aws-auth ConfigMap the EKSConfigMap backend watches. */
  configMap: { namespace: string; name: string };
  /**
   * Kubeconfig for the backends that read the Kubernetes API (EKSConfigMap, CRD); default: the pod's service account
   * in a pod, else KUBECONFIG or ~/.kube/config (see kube-access.ts).
   */
  kubeconfig?: string;
  /** API server URL that replaces the kubeconfig's (aws-iam-authenticator's `--master`). */
  master?: string;
  partitions: string[];
  regions: string[];
  /** Connect to this STS address instead of the token's host (VPC endpoint, emulator). */
  stsEndpoint?: string;
  maxClockSkewSeconds?: number;
  /** Longest a verified identity is reused; never past the token's own validity. 0 turns the cache off. */
  cacheTtlMs: number;
  cacheMaxEntries: number;
  /** Every review is answered within this, whatever STS does. */
  reviewTimeoutMs: number;
  maxRequestBytes: number;
  allowedAccounts?: string[];
  reservedPrefixAllowList: string[];
  /**
   * aws-iam-authenticator's `reservedPrefixConfig`: per backend, username prefixes its rows may not produce, e.g.
   * `{ EKSConfigMap: ['admin:'] }`.
   */
  reservedPrefixConfig: Partial<Record<BackendMode, string[]>>;
  /**
   * aws-iam-authenticator's `scrubbedAccounts`: for identities of these accounts the answer has uid
   * `aws-iam-authenticator:administrative:<username>` and no extra, and logs name neither ARN nor ids.
   */
  scrubbedAccounts: string[];
  /** aws-iam-authenticator's `--feature-gates`; `SSORoleMatch` turns on `sso` rows. */
  featureGates: FeatureGates;
  /** Role assumed for `{{EC2PrivateDNSName}}` lookups (another account's instances); default: the server's own credentials. */
  ec2DescribeInstancesRoleArn?: string;
  /** Sent with that AssumeRole as `x-amz-source-arn` (and its account as `x-amz-source-account`), as the reference sends it. */
  sourceArn?: string;
  /** Most DescribeInstances calls a second (0: no limit) and the burst above that, as the reference's flags. */
  ec2DescribeInstancesQps: number;
  ec2DescribeInstancesBurst: number;
  /** Region for `{{EC2PrivateDNSName}}` lookups; default AWS_REGION. Without one, such rows cannot be applied. */
  region?: string;
  /** Plain-HTTP listener for /healthz, /readyz and /metrics (kubelet probes, Prometheus); port null: none. */
  opsAddress: string;
  opsPort: number | null;
  /**
   * Most connections the webhook listener holds. When full, a new connection closes the least recently used one
   * that is not waiting for its answer; only when every one is, it is refused.
   */
  maxConnections: number;
  /** The same for the ops listener: smaller, so probes and scrapes can never take the webhook's file descriptors. */
  opsMaxConnections: number;
  /** A connection that has not started a request within this (TLS handshake included) is closed. */
  idleTimeoutMs: number;
  /** A request's headers and body must arrive within this; a slow sender (slowloris) is cut off. */
  readTimeoutMs: number;
  /** Most connections to STS at once; default `maxConnections`, so that no review ever waits for a free one. */
  stsMaxSockets: number;
  mappingReloadIntervalMs: number;
  /**
   * How often the EKSAccessEntries backend reads the access entries again (one ListAccessEntries and one
   * DescribeAccessEntry per entry each time); entries created, changed or deleted apply within this.
   */
  accessEntriesRefreshIntervalMs: number;
  shutdownTimeoutMs: number;
  logLevel: LogLevel;
}

/** What callers and config files may set; everything but `clusterId` has a default. */
export type ServerConfigInput = Partial<ServerConfig> & { clusterId?: string };

/** aws-iam-authenticator's port for the webhook, kept so existing kube-apiserver setups need no change. */
export const DEFAULT_WEBHOOK_PORT = 21362;
/** aws-iam-authenticator serves its health check on this port. */
export const DEFAULT_OPS_PORT = 21363;

/**
 * Sized for one kube-apiserver (one connection per review in flight: ~50 at 10,000 reviews/s) with ten times the
 * headroom, and for memory: about 31 KiB per idle TLS connection (measured), so 16 MiB when full (deploy/eksauth.yaml).
 */
const DEFAULT_MAX_CONNECTIONS = 512;

const DEFAULTS: Omit<ServerConfig, 'clusterId' | 'hostname'> = {
  address: '127.0.0.1',
  port: DEFAULT_WEBHOOK_PORT,
  stateDir: '/var/eksauth',
  kubeconfigPregenerated: false,
  backendMode: ['MountedFile'],
  dynamicFileUserIdStrict: false,
  configMap: { namespace: 'kube-system', name: 'aws-auth' },
  partitions: ['aws'],
  regions: [],
  cacheTtlMs: 60_000,
  cacheMaxEntries: 10_000,
  reviewTimeoutMs: 5_000,
  maxRequestBytes: 64 * 1024,
  // aws-auth's standard node rows (system:node:{{EC2PrivateDNSName}}) need no entry: the mapping allows them itself.
  reservedPrefixAllowList: [],
  reservedPrefixConfig: {},
  scrubbedAccounts: [],
  featureGates: DEFAULT_FEATURE_GATES,
  // The reference's defaults (--ec2-describeInstances-qps / -burst).
  ec2DescribeInstancesQps: 15,
  ec2DescribeInstancesBurst: 5,
  opsAddress: '127.0.0.1',
  opsPort: DEFAULT_OPS_PORT,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  opsMaxConnections: 32,
  idleTimeoutMs: 5_000,
  readTimeoutMs: 10_000,
  stsMaxSockets: DEFAULT_MAX_CONNECTIONS,
  mappingReloadIntervalMs: 1_000,
  // EKS applies an access-entry change within seconds; half a minute keeps EKS calls low (EKS throttles at ~10/s).
  accessEntriesRefreshIntervalMs: 30_000,
  shutdownTimeoutMs: 10_000,
  logLevel: 'info',
};

const BACKEND_ALIASES: Record<string, BackendMode> = {
  mountedfile: 'MountedFile',
  file: 'MountedFile',
  eksconfigmap: 'EKSConfigMap',
  configmap: 'EKSConfigMap',
  crd: 'CRD',
  dynamicfile: 'DynamicFile',
  eksaccessentries: 'EKSAccessEntries',
};
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/**
 * Fills in defaults and checks every value, throwing `ERR_INVALID_CONFIG` (or `ERR_NO_CLUSTER`) naming the setting.
 *
 * @example
 * ```ts
 * import { resolveServerConfig } from 'eksauth/server';
 * const config = resolveServerConfig({ clusterId: 'prod', port: 8443 });
 * console.log(config.backendMode, config.port, config.stateDir); // → [ 'MountedFile' ] 8443 /var/eksauth
 * ```
 */
export function resolveServerConfig(input: ServerConfigInput): ServerConfig {
  const given = withoutUndefined(input);
  const merged = { ...DEFAULTS, stsMaxSockets: given.maxConnections ?? DEFAULTS.stsMaxSockets, ...given };
  const clusterId = merged.clusterId ?? '';
  if (clusterId === '') {
    throw new EksAuthError('ERR_NO_CLUSTER', 'eksauth server needs the cluster id: pass --cluster-id or set clusterID in the config file.');
  }
  check(/^[\x21-\x7e]{1,256}$/.test(clusterId), 'clusterID', 'must be 1 to 256 printable ASCII characters without spaces');
  check(isPort(merged.port), 'port', 'must be a whole number from 0 to 65535');
  check(merged.opsPort === null || isPort(merged.opsPort), 'opsPort', 'must be a whole number from 0 to 65535');
  checkBackendModes(merged.backendMode, 'backendMode');
  // As aws-iam-authenticator: the DynamicFile backend and its path come together or not at all.
  check(!merged.backendMode.includes('DynamicFile') || merged.dynamicFilePath !== undefined, 'backendMode',
    'includes DynamicFile but dynamicfilepath is not set; set server.dynamicfilepath (or --dynamicfile-path)');
  check(merged.backendMode.includes('DynamicFile') || merged.dynamicFilePath === undefined, 'dynamicfilepath',
    'is set but backendMode does not include DynamicFile; add DynamicFile or remove the path');
  check(merged.mappingFile === undefined || merged.embeddedMappings === undefined, 'mappingFile',
    'is set while the config file also embeds mapRoles/mapUsers/mapAccounts; keep the mappings in one place');
  check(merged.partitions.length > 0, 'partition', 'needs at least one partition, e.g. aws');
  check(LOG_LEVELS.includes(merged.logLevel), 'logLevel', `must be one of ${LOG_LEVELS.join(', ')}`);
  for (const [name, value] of Object.entries({
    reviewTimeout: merged.reviewTimeoutMs, cacheMaxEntries: merged.cacheMaxEntries, maxRequestBytes: merged.maxRequestBytes,
    mappingReloadInterval: merged.mappingReloadIntervalMs, accessEntriesRefreshInterval: merged.accessEntriesRefreshIntervalMs,
    shutdownTimeout: merged.shutdownTimeoutMs,
    idleTimeout: merged.idleTimeoutMs, readTimeout: merged.readTimeoutMs,
  })) {
    check(Number.isFinite(value) && value > 0, name, 'must be more than zero');
  }
  for (const [name, value] of Object.entries({
    maxConnections: merged.maxConnections, opsMaxConnections: merged.opsMaxConnections, stsMaxSockets: merged.stsMaxSockets,
  })) {
    check(Number.isInteger(value) && value > 0, name, 'must be a whole number more than zero');
  }
  check(Number.isFinite(merged.cacheTtlMs) && merged.cacheTtlMs >= 0, 'cacheTTL', 'must be zero (off) or more');
  check(Number.isInteger(merged.ec2DescribeInstancesQps) && merged.ec2DescribeInstancesQps >= 0, 'ec2DescribeInstancesQps', 'must be a whole number, 0 for no limit');
  check(Number.isInteger(merged.ec2DescribeInstancesBurst) && merged.ec2DescribeInstancesBurst >= 1, 'ec2DescribeInstancesBurst', 'must be a whole number more than zero');
  check(merged.scrubbedAccounts.every((account) => /^\d{12}$/.test(account)), 'scrubbedAccounts', 'must list 12-digit AWS account ids');
  check(merged.sourceArn === undefined || /^arn:[^:]+:[^:]*:[^:]*:\d{12}:.+$/.test(merged.sourceArn), 'sourceARN', 'must be an ARN with an account id, e.g. arn:aws:eks:eu-west-1:111122223333:cluster/prod');
  const notReserved = merged.reservedPrefixAllowList.find((prefix) => !RESERVED_USERNAME_PREFIXES.some((reserved) => prefix.startsWith(reserved)));
  check(notReserved === undefined, 'reservedPrefixAllowList', `entry "${notReserved ?? ''}" does not start with a reserved prefix (${RESERVED_USERNAME_PREFIXES.join(', ')})`);
  const hostname = merged.hostname ?? (isWildcard(merged.address) ? '127.0.0.1' : merged.address);
  return { ...merged, clusterId, hostname };
}

/**
 * Checks a backend list as aws-iam-authenticator's ValidateBackendMode does: at least one, none twice.
 *
 * @example
 * ```ts
 * import { checkBackendModes } from 'eksauth/server';
 * checkBackendModes(['EKSConfigMap', 'MountedFile'], '--backend-mode'); // passes
 * ```
 */
export function checkBackendModes(modes: readonly BackendMode[], key: string): void {
  check(modes.length > 0, key, `needs at least one of ${BACKEND_MODES.join(', ')}`);
  check(new Set(modes).size === modes.length, key, 'lists a backend twice');
}

/** The config file, parsed: settings for {@link resolveServerConfig} and warnings (deprecated backend-mode names). */
export interface ConfigFile {
  settings: ServerConfigInput;
  warnings: string[];
}

/**
 * Reads an eksauth (or aws-iam-authenticator) server config file.
 *
 * @example
 * ```ts
 * import { loadServerConfigFile, resolveServerConfig } from 'eksauth/server';
 * const { settings, warnings } = await loadServerConfigFile('config.yaml'); // aws-iam-authenticator's format
 * warnings.forEach((warning) => console.warn(warning));
 * const config = resolveServerConfig({ ...settings, port: 8443 });
 * console.log(config.clusterId, config.port, config.embeddedMappings?.path); // → prod 8443 config.yaml
 * ```
 */
export async function loadServerConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new EksAuthError('ERR_INVALID_CONFIG', `Cannot read the server config file ${path} (${code}); check --config.`);
  }
  return parseServerConfigFile(text, path);
}

/**
 * Parses config file text; `path` names the file in errors and is where embedded mappings are reloaded from.
 *
 * @example
 * ```ts
 * import { parseServerConfigFile } from 'eksauth/server';
 * parseServerConfigFile('clusterID: prod\nserver:\n  port: 8443\n', 'config.yaml').settings; // { clusterId: 'prod', port: 8443 }
 * ```
 */
export function parseServerConfigFile(text: string, path: string): ConfigFile {
  const reader = new ConfigReader(path);
  const top = reader.fields(readYamlStrings(text, path) ?? {}, '', TOP_KEYS);
  const server = top.server === undefined ? {} : reader.fields(top.server, 'server', Object.keys(SERVER_KEYS));
  const settings: ServerConfigInput = {};
  if (top.clusterid !== undefined) settings.clusterId = reader.string(top.clusterid, 'clusterID');
  const warnings: string[] = [];
  for (const [key, value] of Object.entries(server)) {
    const read = SERVER_KEYS[key];
    if (read === undefined || value === undefined) continue;
    read(reader, value, settings);
  }
  if (settings.backendMode !== undefined) warnings.push(...backendModeWarnings(reader.stringOrList(server.backendmode, 'server.backendMode')));
  // An empty `mapAccounts:` (as in the reference's example file) is no mapping.
  if (AWS_AUTH_SECTIONS.some((section) => server[section.toLowerCase()] != null)) settings.embeddedMappings = { path };
  return { settings, warnings };
}

/**
 * The mapping source held in a config file's `server.mapRoles`, `server.mapUsers` and `server.mapAccounts`, named
 * `file:<path>` (the MountedFile backend reads it when no separate mapping file is set).
 *
 * @example
 * ```ts
 * import { readEmbeddedMappings } from 'eksauth/server';
 * const source = readEmbeddedMappings('clusterID: prod\nserver:\n  mapAccounts: ["111122223333"]\n', 'config.yaml');
 * source.name; // 'file:config.yaml'
 * ```
 */
export function readEmbeddedMappings(text: string, path: string, options: AwsAuthParseOptions = {}): MappingSource {
  const reader = new ConfigReader(path);
  const top = reader.fields(readYamlStrings(text, path) ?? {}, '', TOP_KEYS);
  const server = top.server === undefined ? {} : reader.fields(top.server, 'server', Object.keys(SERVER_KEYS));
  const sections: AwsAuthSections = {};
  for (const section of AWS_AUTH_SECTIONS) sections[section] = server[section.toLowerCase()];
  return buildAwsAuthSource(sections, { name: `file:${path}`, kind: 'file', where: `${path}: server.` }, options);
}

/**
 * Reads a duration the way Go and kube-apiserver flags write them (`90s`, `2m`, `1m30s`, `500ms`); a bare number is
 * seconds. Returns milliseconds.
 *
 * @example
 * ```ts
 * import { parseDuration } from 'eksauth/server';
 * parseDuration('1m30s', '--cache-ttl'); // 90000
 * ```
 */
export function parseDuration(text: string, what: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) {
    throw new EksAuthError('ERR_INVALID_CONFIG', `${what} "${text}" is not a duration; write e.g. 30s, 2m, 1m30s or 500ms.`);
  }
  return parts.reduce((ms, [, value, unit]) => ms + Number(value) * (units[unit ?? 's'] ?? 1000), 0);
}

/**
 * Normalises backend names: aws-iam-authenticator's (`MountedFile`, `EKSConfigMap`, `CRD`, `DynamicFile`, and the
 * deprecated `File` and `ConfigMap`) in any case, from a list or one string separated by commas (the flag) or spaces
 * (the backend-mode file, and viper's reading of a string in the config file).
 *
 * @example
 * ```ts
 * import { parseBackendModes } from 'eksauth/server';
 * parseBackendModes('EKSConfigMap,MountedFile'); // ['EKSConfigMap', 'MountedFile']
 * parseBackendModes('DynamicFile CRD'); // ['DynamicFile', 'CRD']
 * ```
 */
export function parseBackendModes(value: string | readonly string[]): BackendMode[] {
  const names = (typeof value === 'string' ? [value] : value).flatMap((item) => item.split(/[\s,]+/)).filter((name) => name !== '');
  return names.map((name) => {
    const mode = BACKEND_ALIASES[name.toLowerCase()];
    if (mode !== undefined) return mode;
    throw new EksAuthError('ERR_INVALID_CONFIG', `backend-mode "${name.slice(0, 60)}" is not a valid mode; use ${BACKEND_MODES.join(', ')}.`);
  });
}

const DEPRECATED_BACKEND_MODES: Record<string, BackendMode> = { file: 'MountedFile', configmap: 'EKSConfigMap' };

/**
 * The warnings aws-iam-authenticator logs for its deprecated backend names, `File` and `ConfigMap`.
 *
 * @example
 * ```ts
 * import { backendModeWarnings } from 'eksauth/server';
 * backendModeWarnings('File,EKSConfigMap'); // ['backend-mode "File" is deprecated, use "MountedFile" instead']
 * ```
 */
export function backendModeWarnings(value: string | readonly string[]): string[] {
  const names = (typeof value === 'string' ? [value] : value).flatMap((item) => item.split(/[\s,]+/));
  return names.flatMap((name) => {
    const replacement = DEPRECATED_BACKEND_MODES[name.toLowerCase()];
    return replacement === undefined ? [] : [`backend-mode "${name}" is deprecated, use "${replacement}" instead`];
  });
}

const TOP_KEYS = ['clusterid', 'server'];

type KeyReader = (reader: ConfigReader, value: unknown, settings: ServerConfigInput) => void;

/** `server:` keys (lower-cased, as compared) and how each is read. */
const SERVER_KEYS: Record<string, KeyReader> = {
  port: (r, v, s) => { s.port = r.integer(v, 'server.port'); },
  address: (r, v, s) => { s.address = r.string(v, 'server.address'); },
  hostname: (r, v, s) => { s.hostname = r.string(v, 'server.hostname'); },
  statedir: (r, v, s) => { s.stateDir = r.string(v, 'server.stateDir'); },
  generatekubeconfig: (r, v, s) => { s.generateKubeconfig = r.string(v, 'server.generateKubeconfig'); },
  kubeconfigpregenerated: (r, v, s) => { s.kubeconfigPregenerated = r.boolean(v, 'server.kubeconfigPregenerated'); },
  backendmode: (r, v, s) => { s.backendMode = parseBackendModes(r.stringOrList(v, 'server.backendMode')); },
  kubeconfig: (r, v, s) => { s.kubeconfig = r.string(v, 'server.kubeconfig'); },
  master: (r, v, s) => { s.master = r.string(v, 'server.master'); },
  partition: (r, v, s) => { s.partitions = r.stringOrList(v, 'server.partition'); },
  partitions: (r, v, s) => { s.partitions = r.stringOrList(v, 'server.partitions'); },
  regions: (r, v, s) => { s.regions = r.stringOrList(v, 'server.regions'); },
  region: (r, v, s) => { s.region = r.string(v, 'server.region'); },
  mappingfile: (r, v, s) => { s.mappingFile = r.string(v, 'server.mappingFile'); },
  dynamicfilepath: (r, v, s) => { s.dynamicFilePath = r.string(v, 'server.dynamicfilepath'); },
  dynamicfileuseridstrict: (r, v, s) => { s.dynamicFileUserIdStrict = r.boolean(v, 'server.dynamicfileUserIDStrict'); },
  dynamicbackendmodepath: (r, v, s) => { s.dynamicBackendModePath = r.string(v, 'server.dynamicBackendModePath'); },
  configmap: (r, v, s) => { s.configMap = parseConfigMapRef(r.string(v, 'server.configMap')); },
  stsendpoint: (r, v, s) => { s.stsEndpoint = r.string(v, 'server.stsEndpoint'); },
  maxclockskew: (r, v, s) => { s.maxClockSkewSeconds = r.duration(v, 'server.maxClockSkew') / 1000; },
  cachettl: (r, v, s) => { s.cacheTtlMs = r.duration(v, 'server.cacheTTL'); },
  cachemaxentries: (r, v, s) => { s.cacheMaxEntries = r.integer(v, 'server.cacheMaxEntries'); },
  reviewtimeout: (r, v, s) => { s.reviewTimeoutMs = r.duration(v, 'server.reviewTimeout'); },
  maxrequestbytes: (r, v, s) => { s.maxRequestBytes = r.integer(v, 'server.maxRequestBytes'); },
  allowedaccounts: (r, v, s) => { s.allowedAccounts = r.stringOrList(v, 'server.allowedAccounts'); },
  reservedprefixallowlist: (r, v, s) => { s.reservedPrefixAllowList = r.stringOrList(v, 'server.reservedPrefixAllowList'); },
  opsaddress: (r, v, s) => { s.opsAddress = r.string(v, 'server.opsAddress'); },
  opsport: (r, v, s) => { s.opsPort = r.integer(v, 'server.opsPort'); },
  maxconnections: (r, v, s) => { s.maxConnections = r.integer(v, 'server.maxConnections'); },
  opsmaxconnections: (r, v, s) => { s.opsMaxConnections = r.integer(v, 'server.opsMaxConnections'); },
  idletimeout: (r, v, s) => { s.idleTimeoutMs = r.duration(v, 'server.idleTimeout'); },
  readtimeout: (r, v, s) => { s.readTimeoutMs = r.duration(v, 'server.readTimeout'); },
  stsmaxsockets: (r, v, s) => { s.stsMaxSockets = r.integer(v, 'server.stsMaxSockets'); },
  mappingreloadinterval: (r, v, s) => { s.mappingReloadIntervalMs = r.duration(v, 'server.mappingReloadInterval'); },
  accessentriesrefreshinterval: (r, v, s) => { s.accessEntriesRefreshIntervalMs = r.duration(v, 'server.accessEntriesRefreshInterval'); },
  shutdowntimeout: (r, v, s) => { s.shutdownTimeoutMs = r.duration(v, 'server.shutdownTimeout'); },
  loglevel: (r, v, s) => { s.logLevel = r.string(v, 'server.logLevel') as LogLevel; },
  // Read by readEmbeddedMappings.
  maproles: () => undefined,
  mapusers: () => undefined,
  mapaccounts: () => undefined,
  ec2describeinstancesqps: (r, v, s) => { s.ec2DescribeInstancesQps = r.integer(v, 'server.ec2DescribeInstancesQps'); },
  ec2describeinstancesburst: (r, v, s) => { s.ec2DescribeInstancesBurst = r.integer(v, 'server.ec2DescribeInstancesBurst'); },
  ec2describeinstancesrolearn: (r, v, s) => { s.ec2DescribeInstancesRoleArn = r.string(v, 'server.ec2DescribeInstancesRoleARN'); },
  sourcearn: (r, v, s) => { s.sourceArn = r.string(v, 'server.sourceARN'); },
  scrubbedaccounts: (r, v, s) => { s.scrubbedAccounts = r.stringOrList(v, 'server.scrubbedAccounts'); },
  reservedprefixconfig: (r, v, s) => { s.reservedPrefixConfig = readReservedPrefixConfig(r, v); },
};

/**
 * The reference's `reservedPrefixConfig`: a list of `{backendMode, usernamePrefixReserveList}`, keyed here by backend.
 */
function readReservedPrefixConfig(reader: ConfigReader, value: unknown): Partial<Record<BackendMode, string[]>> {
  if (!Array.isArray(value)) reader.fail('server.reservedPrefixConfig', 'must be a list of {backendMode, usernamePrefixReserveList}');
  const config: Partial<Record<BackendMode, string[]>> = {};
  value.forEach((item, i) => {
    const key = `server.reservedPrefixConfig[${i}]`;
    const fields = reader.fields(item, key, ['backendmode', 'usernameprefixreservelist']);
    const [mode] = parseBackendModes(reader.string(fields.backendmode, `${key}.backendMode`));
    const prefixes = fields.usernameprefixreservelist === undefined ? [] : reader.stringOrList(fields.usernameprefixreservelist, `${key}.usernamePrefixReserveList`);
    if (mode !== undefined) config[mode] = prefixes;
  });
  return config;
}

/**
 * Reads `namespace/name` (or just `name`, in kube-system).
 *
 * @example
 * ```ts
 * import { parseConfigMapRef } from 'eksauth/server';
 * parseConfigMapRef('kube-system/aws-auth'); // { namespace: 'kube-system', name: 'aws-auth' }
 * ```
 */
export function parseConfigMapRef(ref: string): { namespace: string; name: string } {
  const [first = '', second] = ref.split('/');
  const namespace = second === undefined ? 'kube-system' : first;
  const name = second ?? first;
  const dnsLabel = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
  if (!dnsLabel.test(namespace) || !dnsLabel.test(name) || ref.split('/').length > 2) {
    throw new EksAuthError('ERR_INVALID_CONFIG', `configMap "${ref}" is not namespace/name (e.g. kube-system/aws-auth).`);
  }
  return { namespace, name };
}

class ConfigReader {
  constructor(private readonly path: string) {}

  fail(key: string, problem: string): never {
    throw new EksAuthError('ERR_INVALID_CONFIG', `${this.path}: ${key === '' ? 'the document' : key} ${problem}.`);
  }

  /** The mapping's entries keyed by lower-cased name; unknown keys are errors. */
  fields(value: unknown, key: string, allowed: readonly string[]): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(key, 'must be a mapping');
    const out: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(value)) {
      const lower = name.toLowerCase();
      if (!allowed.includes(lower)) this.fail(`${key === '' ? '' : `${key}.`}${name}`, 'is not a setting eksauth knows (see the README, "eksauth server")');
      if (Object.hasOwn(out, lower)) this.fail(`${key === '' ? '' : `${key}.`}${name}`, 'is set twice');
      out[lower] = field;
    }
    return out;
  }

  string(value: unknown, key: string): string {
    if (typeof value !== 'string' || value === '') this.fail(key, 'must be a non-empty string');
    return value;
  }

  integer(value: unknown, key: string): number {
    const text = this.string(value, key);
    if (!/^\d+$/.test(text)) this.fail(key, `must be a whole number (got "${text}")`);
    return Number(text);
  }

  boolean(value: unknown, key: string): boolean {
    const text = this.string(value, key).toLowerCase();
    if (text !== 'true' && text !== 'false') this.fail(key, `must be true or false (got "${text}")`);
    return text === 'true';
  }

  duration(value: unknown, key: string): number {
    return parseDuration(this.string(value, key), `${this.path}: ${key}`);
  }

  stringOrList(value: unknown, key: string): string[] {
    if (typeof value === 'string') return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
    if (!Array.isArray(value)) this.fail(key, 'must be a list or a comma-separated string');
    return value.map((item, i) => this.string(item, `${key}[${i}]`));
  }
}

/** YAML with the failsafe schema: every scalar is the string that was written. */
function readYamlStrings(text: string, path: string): unknown {
  const doc = parseDocument(text, { schema: 'failsafe' });
  const [error] = doc.errors;
  if (error !== undefined) {
    const line = error.linePos === undefined ? '' : ` at line ${error.linePos[0].line}`;
    throw new EksAuthError('ERR_INVALID_CONFIG', `${path} is not valid YAML${line}: ${error.message.split('\n')[0] ?? ''}`);
  }
  return doc.toJS() ?? undefined;
}

function check(ok: boolean, key: string, problem: string): void {
  if (!ok) throw new EksAuthError('ERR_INVALID_CONFIG', `Server setting ${key} ${problem}.`);
}

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= 65535;
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || isIP(address) === 0;
}

function withoutUndefined<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Partial<T>;
}
