/**
 * update-kubeconfig as library calls: describe the cluster(s), build the entries, choose the file by aws-cli's
 * rules, and merge and write it under a lock, atomically. `applyKubeconfigEntries` is the file half alone, for
 * callers that already have the entries.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { assumeRole } from '../aws/assume-role.js';
import { resolveBaseCredentials } from '../aws/credentials.js';
import type { DiscoveredCluster, DiscoveryProgress, EksCluster } from '../aws/eks.js';
import { assertClusterUsable, describeCluster, discoverClusters, listEnabledRegions } from '../aws/eks.js';
import { withProfileCaBundle, type NetworkOptions } from '../aws/network.js';
import { resolveAwsSettings } from '../aws/settings.js';
import { isRegionName, knownRegionPartition } from '../aws/sts-endpoint.js';
import { EksAuthError } from '../errors.js';
import type { EntryOptions, KubeconfigEntries } from './entries.js';
import { buildKubeconfigEntries } from './entries.js';
import type { KubeconfigPathOptions } from './load.js';
import { chooseKubeconfig, kubeconfigPaths, loadKubeconfig } from './load.js';
import type { LockOptions } from './lock.js';
import { withFileLock } from './lock.js';
import type { MergeOptions, MergeResult } from './merge.js';
import { mergeKubeconfigEntries, serializeKubeconfig } from './merge.js';
import { resolveWriteTarget, writeFileAtomic } from './write.js';

/** The role session name for `--assume-role-arn`, as aws-cli names it. */
export const DESCRIBE_CLUSTER_SESSION_NAME = 'EKSDescribeClusterSession';

export interface ApplyEntriesOptions extends KubeconfigPathOptions, MergeOptions, LockOptions {
  /** Compute the merged file without writing it (and without locking). */
  dryRun?: boolean;
  /** Receives non-fatal problems, e.g. a later KUBECONFIG file that could not be read. */
  onWarning?: (message: string) => void;
}

/** One kubeconfig file after the update. */
export interface UpdatedFile {
  /** The path as selected (a symlink is written through). */
  path: string;
  /** The merged kubeconfig text. */
  text: string;
  /** False for a dry run. */
  written: boolean;
  /** False when the file was created (or would be). */
  existed: boolean;
  merges: (MergeResult & { entries: KubeconfigEntries })[];
}

/**
 * Merges entries into the kubeconfig chosen for each (KUBECONFIG rules), one locked atomic write per file.
 *
 * @example
 * ```ts
 * import { describeCluster } from 'eksauth/eks';
 * import { applyKubeconfigEntries, buildKubeconfigEntries } from 'eksauth/kubeconfig';
 * const cluster = await describeCluster('prod', { region: 'eu-west-1' });
 * const [file] = await applyKubeconfigEntries([buildKubeconfigEntries(cluster, { alias: 'prod' })], { kubeconfig: 'team-kubeconfig.yaml' });
 * console.log(file?.merges[0]?.action, file?.path); // → added …/team-kubeconfig.yaml
 * ```
 * @throws EksAuthError ERR_KUBECONFIG_CORRUPT, ERR_KUBECONFIG_INACCESSIBLE, ERR_KUBECONFIG_LOCKED; the file is then unchanged
 */
export async function applyKubeconfigEntries(list: readonly KubeconfigEntries[], options: ApplyEntriesOptions = {}): Promise<UpdatedFile[]> {
  const paths = kubeconfigPaths(options);
  const byFile = new Map<string, KubeconfigEntries[]>();
  for (const entries of list) {
    // With one candidate there is nothing to choose; it is loaded (and checked) under the lock below.
    const path = paths.length === 1 ? paths[0]! : (await chooseKubeconfig(paths, entries.cluster.name, options.onWarning)).path;
    byFile.set(path, [...(byFile.get(path) ?? []), entries]);
  }
  const updated: UpdatedFile[] = [];
  for (const [path, entriesList] of byFile) updated.push(await updateFile(path, entriesList, options));
  return updated;
}

async function updateFile(path: string, list: KubeconfigEntries[], options: ApplyEntriesOptions): Promise<UpdatedFile> {
  const merge = async (): Promise<UpdatedFile> => {
    const file = await loadKubeconfig(path);
    const merges = list.map((entries) => ({ ...mergeKubeconfigEntries(file, entries, options), entries }));
    return { path, text: serializeKubeconfig(file), written: false, existed: file.existed, merges };
  };
  if (options.dryRun) return merge();
  await loadKubeconfig(path); // refuse a corrupt or unreadable file before creating a lock beside it
  const target = await resolveWriteTarget(path);
  // kubectl locks the path it was given; we lock that and, through a symlink, the real file too.
  const lockPaths = [...new Set([path, target])];
  const locked = lockPaths.reduceRight<() => Promise<UpdatedFile>>(
    (inner, lockPath) => () => withFileLock(lockPath, inner, options),
    async () => {
      const result = await merge();
      await writeFileAtomic(target, result.text);
      return { ...result, written: true };
    },
  );
  return locked();
}

/** How to reach EKS: the same settings as the AWS CLI's global options. */
export interface EksAccessOptions {
  /** Region for the EKS calls; default AWS_REGION, AWS_DEFAULT_REGION, then the profile. */
  region?: string;
  /** Profile for the EKS calls, and written into the exec block; default AWS_PROFILE. */
  profile?: string;
  /** EKS endpoint URL (`--endpoint-url`). */
  endpointUrl?: string;
  /** Accept a region the SDK's data does not list (default: EKSAUTH_ALLOW_UNKNOWN_REGION); else ERR_INVALID_REGION with a "did you mean". */
  allowUnknownRegion?: boolean;
  /** Role to assume for the EKS calls only (discovery in another account); not written into the kubeconfig. */
  assumeRoleArn?: string;
  /** Credentials to start from instead of the default chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Proxy, CA bundle and timeouts of every AWS call (EKS, EC2, STS, SSO); default: the environment, then the profile's ca_bundle. */
  network?: NetworkOptions;
  env?: NodeJS.ProcessEnv;
}

export interface EksAccess {
  region: string;
  /** Whether regions the SDK's data does not list are accepted (the option, else EKSAUTH_ALLOW_UNKNOWN_REGION). */
  allowUnknownRegion: boolean;
  profile?: string;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  endpoint?: string;
  network: NetworkOptions;
}

/**
 * The region, credentials, endpoint and network settings for EKS calls, as the AWS CLI resolves them. `fallbackRegion`
 * serves when no region is configured anywhere (with --all, the first of --regions).
 *
 * @example
 * ```ts
 * const eks = await resolveEksAccess({ profile: "prod" });
 * await describeCluster("prod", eks);
 * ```
 */
export async function resolveEksAccess(options: EksAccessOptions, fallbackRegion?: string): Promise<EksAccess> {
  const env = options.env ?? process.env;
  const settings = await resolveAwsSettings({
    ...pick(options, 'profile', 'region', 'allowUnknownRegion'),
    env,
  });
  const region = settings.region ?? fallbackRegion;
  if (region === undefined) {
    throw new EksAuthError('ERR_NO_REGION', 'no AWS region for the EKS call: pass --region, set AWS_REGION, or set `region` in your AWS profile (with --all, --regions also does)');
  }
  if (!isRegionName(region)) throw new EksAuthError('ERR_INVALID_REGION', `"${region}" is not an AWS region name; pass one such as --region eu-west-1`);
  knownRegionPartition(region, { ...settings, regionSource: settings.regionSource ?? '--regions' });
  const network = withProfileCaBundle(options.network ?? { env }, settings);
  let credentials = options.credentials ?? (await resolveBaseCredentials({ ...(settings.profile === undefined ? {} : { profile: settings.profile }), env, network }));
  if (options.assumeRoleArn !== undefined) {
    const base = typeof credentials === 'function' ? await credentials() : credentials;
    credentials = await assumeRole(base, { roleArn: options.assumeRoleArn, sessionName: DESCRIBE_CLUSTER_SESSION_NAME, region, network });
  }
  return {
    region,
    allowUnknownRegion: settings.allowUnknownRegion === true,
    credentials,
    network,
    ...(settings.profile === undefined ? {} : { profile: settings.profile }),
    ...(options.endpointUrl === undefined ? {} : { endpoint: options.endpointUrl }),
  };
}

export interface UpdateKubeconfigOptions extends EksAccessOptions, Omit<EntryOptions, 'clusterName' | 'profile'>, ApplyEntriesOptions {
  /** The cluster to describe (`--name`). */
  name: string;
}

export interface UpdateKubeconfigResult {
  cluster: EksCluster;
  entries: KubeconfigEntries;
  file: UpdatedFile;
  merge: MergeResult;
}

/**
 * `eksauth update-kubeconfig --name NAME`: DescribeCluster, then the cluster, user and context entries merged into
 * the kubeconfig.
 *
 * @example
 * ```ts
 * import { updateKubeconfig } from 'eksauth/kubeconfig';
 * const { merge, file } = await updateKubeconfig({ name: 'prod', region: 'eu-west-1' }); // into KUBECONFIG, else ~/.kube/config
 * console.log(`${merge.action} context ${merge.context} in ${file.path}`);
 * // → … context arn:aws:eks:eu-west-1:111122223333:cluster/prod in …/.kube/config
 * ```
 * @throws EksAuthError ERR_CLUSTER_NOT_FOUND, ERR_CLUSTER_STATUS, ERR_EKS_…, ERR_KUBECONFIG_…; the file is then unchanged
 */
export async function updateKubeconfig(options: UpdateKubeconfigOptions): Promise<UpdateKubeconfigResult> {
  const access = await resolveEksAccess(options);
  const cluster = await describeCluster(options.name, access);
  assertClusterUsable(cluster);
  const entries = buildKubeconfigEntries(cluster, entryOptions(options, access, options.name));
  const [file] = await applyKubeconfigEntries([entries], options);
  return { cluster, entries, file: file!, merge: file!.merges[0]! };
}

function entryOptions(options: Omit<EntryOptions, 'clusterName' | 'profile'>, access: EksAccess, clusterName: string): EntryOptions {
  const { proxyUrl, roleArn, alias, userAlias, execCommand, apiVersion, interactiveMode } = options;
  return { proxyUrl, roleArn, alias, userAlias, execCommand, apiVersion, interactiveMode, clusterName, ...(access.profile === undefined ? {} : { profile: access.profile }) };
}

export interface UpdateAllOptions extends EksAccessOptions, Omit<EntryOptions, 'clusterName' | 'profile'>, ApplyEntriesOptions {
  /** Regions to search; default every region enabled for the account (EC2 DescribeRegions). */
  regions?: string[];
  /** EKS requests in flight at once; default 8. */
  concurrency?: number;
  onProgress?: (progress: DiscoveryProgress) => void;
}

/** One line of the `--all` summary: a cluster, or a region that could not be listed. */
export interface ClusterOutcome {
  region: string;
  /** Undefined for a region whose ListClusters failed. */
  name?: string;
  status?: string;
  context?: string;
  result: 'added' | 'updated' | 'skipped' | 'failed';
  /** Why it was skipped or failed. */
  error?: EksAuthError;
  /** The kubeconfig it went into. */
  path?: string;
}

/**
 * `eksauth update-kubeconfig --all`: every cluster in the given (or every enabled) region, written in one locked
 * update per file. `current-context` is left alone unless `setCurrentContext` is true: there is no one new context.
 *
 * @example
 * ```ts
 * import { updateKubeconfigForAllClusters } from 'eksauth/kubeconfig';
 * const { outcomes } = await updateKubeconfigForAllClusters({ regions: ['eu-west-1', 'us-west-2'], alias: '{cluster}-{region}' });
 * for (const o of outcomes) console.log(`${o.region} ${o.name}: ${o.result}${o.error ? ` (${o.error.code})` : ''}`);
 * // → eu-west-1 prod: …
 * // → eu-west-1 staging: skipped (ERR_CLUSTER_STATUS)
 * // → us-west-2 edge: added
 * ```
 * @throws EksAuthError ERR_USAGE when the names would collide, and the errors of the kubeconfig write
 */
export async function updateKubeconfigForAllClusters(options: UpdateAllOptions): Promise<{ outcomes: ClusterOutcome[]; files: UpdatedFile[] }> {
  const bad = options.regions?.find((region) => !isRegionName(region));
  if (bad !== undefined) throw new EksAuthError('ERR_INVALID_REGION', `"${bad}" in --regions is not an AWS region name; list names such as eu-west-1,us-east-1`);
  const access = await resolveEksAccess(options, options.regions?.[0]);
  for (const region of options.regions ?? []) knownRegionPartition(region, { regionSource: '--regions', allowUnknownRegion: access.allowUnknownRegion });
  const regions = options.regions ?? (await listEnabledRegions({ region: access.region, credentials: access.credentials, network: access.network }));
  const found = await discoverClusters({ ...access, regions, ...pick(options, 'concurrency', 'onProgress') });
  const outcomes: ClusterOutcome[] = found.failures.map(({ region, error }) => ({ region, result: 'failed', error }));
  const toWrite = planWrites(found.clusters, outcomes, (cluster, name) => buildKubeconfigEntries(cluster, entryOptions(options, access, name)));
  rejectNameCollisions(toWrite.map(({ entries }) => entries));
  const files = await applyKubeconfigEntries(toWrite.map(({ entries }) => entries), { ...options, setCurrentContext: options.setCurrentContext ?? false });
  recordResults(toWrite, files);
  return { outcomes: outcomes.sort((a, b) => a.region.localeCompare(b.region) || (a.name ?? '').localeCompare(b.name ?? '')), files };
}

type PlannedWrite = { outcome: ClusterOutcome; entries: KubeconfigEntries };

/** An outcome per discovered cluster (pushed onto `outcomes`) and the entries of those that are usable. */
function planWrites(
  clusters: DiscoveredCluster[],
  outcomes: ClusterOutcome[],
  build: (cluster: EksCluster, name: string) => KubeconfigEntries,
): PlannedWrite[] {
  const planned: PlannedWrite[] = [];
  for (const { region, name, cluster, error } of clusters) {
    const outcome: ClusterOutcome = { region, name, result: 'failed', ...(cluster ? { status: cluster.status } : {}), ...(error ? { error } : {}) };
    outcomes.push(outcome);
    if (cluster === undefined) continue;
    try {
      assertClusterUsable(cluster);
    } catch (err) {
      Object.assign(outcome, { result: 'skipped', error: err });
      continue;
    }
    planned.push({ outcome, entries: build(cluster, name) });
  }
  return planned;
}

function pick<T extends object, K extends keyof T>(object: T, ...keys: K[]): Partial<Pick<T, K>> {
  return Object.fromEntries(keys.filter((key) => object[key] !== undefined).map((key) => [key, object[key]])) as Partial<Pick<T, K>>;
}

function recordResults(toWrite: PlannedWrite[], files: UpdatedFile[]): void {
  for (const file of files) {
    for (const merge of file.merges) {
      const written = toWrite.find(({ entries }) => entries === merge.entries);
      if (written !== undefined) Object.assign(written.outcome, { result: merge.action, context: merge.context, path: file.path });
    }
  }
}

/** Two clusters must not get one context or user name: the second would silently replace the first. */
function rejectNameCollisions(list: KubeconfigEntries[]): void {
  for (const kind of ['context', 'user'] as const) {
    const seen = new Map<string, string>();
    for (const entries of list) {
      const name = entries[kind].name;
      const first = seen.get(name);
      if (first !== undefined && first !== entries.cluster.name) {
        throw new EksAuthError(
          'ERR_USAGE',
          `the ${kind} name "${name}" would be given to both ${first} and ${entries.cluster.name}; ` +
            `make ${kind === 'context' ? '--alias' : '--user-alias'} unique with placeholders, e.g. '{cluster}-{region}'`,
        );
      }
      seen.set(name, entries.cluster.name);
    }
  }
}
