/**
 * `eksauth server` and `eksauth server init`: flags and the config file into a server configuration; the webhook
 * itself is `src/server/`.
 */
import {
  backendModeWarnings,
  loadServerConfigFile,
  parseBackendModes,
  parseConfigMapRef,
  parseDuration,
  resolveServerConfig,
  type LogLevel,
  type ServerConfigInput,
} from '../server/config.js';
import { configuredStsEndpoint } from '../aws/sts-endpoint.js';
import { parseFeatureGates } from '../authn/mapping/feature-gates.js';
import { initServerFiles } from '../server/init.js';
import { startServer } from '../server/run.js';
import { EksAuthError } from '../errors.js';
import type { ServerFlags } from './server-command.js';
import { untilStopSignal } from './signals.js';

/**
 * Runs the webhook until SIGTERM or SIGINT, then drains reviews in flight and exits.
 *
 * @example
 * ```ts
 * await runServer({ config: '/etc/eksauth/config.yaml', kubeconfigPregenerated: true }); // eksauth server --config …
 * ```
 */
export async function runServer(flags: ServerFlags): Promise<void> {
  const { settings, warnings } = await settingsFrom(flags);
  const region = settings.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  // Only {{EC2PrivateDNSName}} lookups use the AWS SDK, which warns about Node versions it will stop supporting.
  if (region !== undefined && region !== '') process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Listening before startup: a stop signal sent while it starts (or as soon as it logs) still drains and exits 0.
  const stopped = untilStopSignal();
  const server = await startServer({ ...settings, ...(region ? { region } : {}) }, { processMetrics: true, warnings });
  const signal = await stopped;
  process.stderr.write(`eksauth server: ${signal}, stopping after the reviews in flight\n`);
  await server.close();
}

/**
 * Writes the key, certificate and webhook kubeconfig, and says what to do with them.
 *
 * @example
 * ```ts
 * await runServerInit({ clusterId: 'prod', generateKubeconfig: '/etc/kubernetes/eksauth/kubeconfig.yaml' });
 * ```
 */
export async function runServerInit(flags: ServerFlags): Promise<void> {
  const { settings, warnings } = await settingsFrom(flags);
  warnings.forEach((warning) => process.stderr.write(`warning: ${warning}\n`));
  const result = await initServerFiles(resolveServerConfig(settings));
  const lines = [
    `${result.createdCertificate ? 'wrote' : 'kept'} ${result.certPath} and ${result.keyPath} (the serving certificate and key)`,
    `wrote ${result.kubeconfigPath} (webhook ${result.url})`,
    'Copy them to the same paths on every control-plane node, then start kube-apiserver with:',
    `  --authentication-token-webhook-config-file=${result.kubeconfigPath}`,
    '  --authentication-token-webhook-version=v1',
    'and run `eksauth server` with the same settings and --kubeconfig-pregenerated.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function settingsFrom(flags: ServerFlags): Promise<{ settings: ServerConfigInput; warnings: string[] }> {
  const file = flags.config === undefined ? { settings: {}, warnings: [] } : await loadServerConfigFile(flags.config);
  const settings: ServerConfigInput = { ...file.settings, ...definedOnly(flagSettings(flags)) };
  // A mapping file given on the command line replaces mappings embedded in the config file.
  if (flags.mappingFile !== undefined) delete settings.embeddedMappings;
  // As every AWS SDK: with no STS endpoint given, AWS_ENDPOINT_URL_STS (then AWS_ENDPOINT_URL) is the STS address.
  const envStsEndpoint = configuredStsEndpoint();
  if (settings.stsEndpoint === undefined && envStsEndpoint !== undefined) settings.stsEndpoint = envStsEndpoint;
  return { settings, warnings: [...file.warnings, ...backendModeWarnings(flags.backendMode ?? [])] };
}

function definedOnly(settings: ServerConfigInput): ServerConfigInput {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

/** The settings the flags give; absent flags leave the config file's value (or the default). */
function flagSettings(flags: ServerFlags): ServerConfigInput {
  const settings: ServerConfigInput = {
    clusterId: flags.clusterId,
    address: flags.address,
    hostname: flags.hostname,
    stateDir: flags.stateDir,
    generateKubeconfig: flags.generateKubeconfig,
    mappingFile: flags.mappingFile,
    kubeconfig: flags.kubeconfig,
    master: flags.master,
    dynamicFilePath: flags.dynamicfilePath,
    dynamicBackendModePath: flags.dynamicBackendModePath,
    stsEndpoint: flags.stsEndpoint,
    region: flags.ec2Region,
    allowedAccounts: flags.allowedAccount,
    opsAddress: flags.opsAddress,
    logLevel: flags.logLevel as LogLevel | undefined,
  };
  if (flags.port !== undefined) settings.port = integerFlag(flags.port, '--port');
  if (flags.kubeconfigPregenerated === true) settings.kubeconfigPregenerated = true;
  if (flags.dynamicfileUserIdStrict === true) settings.dynamicFileUserIdStrict = true;
  if (flags.backendMode !== undefined) settings.backendMode = parseBackendModes(flags.backendMode);
  if (flags.configmap !== undefined) settings.configMap = parseConfigMapRef(flags.configmap);
  if (flags.partition !== undefined) settings.partitions = flags.partition;
  if (flags.stsRegion !== undefined) settings.regions = flags.stsRegion;
  if (flags.cacheTtl !== undefined) settings.cacheTtlMs = parseDuration(flags.cacheTtl, '--cache-ttl');
  if (flags.reviewTimeout !== undefined) settings.reviewTimeoutMs = parseDuration(flags.reviewTimeout, '--review-timeout');
  if (flags.accessEntriesRefreshInterval !== undefined) settings.accessEntriesRefreshIntervalMs = parseDuration(flags.accessEntriesRefreshInterval, '--access-entries-refresh-interval');
  if (flags.maxConnections !== undefined) settings.maxConnections = integerFlag(flags.maxConnections, '--max-connections');
  if (flags.opsMaxConnections !== undefined) settings.opsMaxConnections = integerFlag(flags.opsMaxConnections, '--ops-max-connections');
  if (flags.stsMaxSockets !== undefined) settings.stsMaxSockets = integerFlag(flags.stsMaxSockets, '--sts-max-sockets');
  if (flags.idleTimeout !== undefined) settings.idleTimeoutMs = parseDuration(flags.idleTimeout, '--idle-timeout');
  if (flags.readTimeout !== undefined) settings.readTimeoutMs = parseDuration(flags.readTimeout, '--read-timeout');
  if (flags.featureGates !== undefined) settings.featureGates = parseFeatureGates(flags.featureGates, '--feature-gates');
  if (flags.ec2DescribeInstancesQps !== undefined) settings.ec2DescribeInstancesQps = integerFlag(flags.ec2DescribeInstancesQps, '--ec2-describeInstances-qps');
  if (flags.ec2DescribeInstancesBurst !== undefined) settings.ec2DescribeInstancesBurst = integerFlag(flags.ec2DescribeInstancesBurst, '--ec2-describeInstances-burst');
  if (flags.opsPort !== undefined) settings.opsPort = flags.opsPort === 'off' ? null : integerFlag(flags.opsPort, '--ops-port');
  return settings;
}

function integerFlag(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new EksAuthError('ERR_USAGE', `${flag} must be a whole number (got "${value}").`);
  return Number(value);
}
