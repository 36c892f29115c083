/**
 * The three kubeconfig entries update-kubeconfig writes for a cluster, built exactly as aws-cli builds them (names,
 * key order, the cluster named by its ARN), with an exec block that runs `eksauth token` (or, with an `aws` exec
 * command, the aws CLI's own `eks get-token` form).
 */
import { basename } from 'node:path';
import type { EksCluster } from '../aws/eks.js';
import { sdkListedRegion } from '../aws/sts-endpoint.js';
import { EksAuthError } from '../errors.js';

export interface ClusterEntry {
  cluster: { 'certificate-authority-data': string; server: string; 'proxy-url'?: string };
  name: string;
}

/** `users[].user.exec` as written; keys in aws-cli's order. */
export interface ExecEntry {
  apiVersion: string;
  args: string[];
  command: string;
  env?: { name: string; value: string }[];
  interactiveMode?: InteractiveMode;
}

export interface UserEntry {
  name: string;
  user: { exec: ExecEntry };
}

export interface ContextEntry {
  context: { cluster: string; user: string };
  name: string;
}

export interface KubeconfigEntries {
  cluster: ClusterEntry;
  user: UserEntry;
  context: ContextEntry;
}

export type InteractiveMode = 'Never' | 'IfAvailable' | 'Always';
const INTERACTIVE_MODES: readonly InteractiveMode[] = ['Never', 'IfAvailable', 'Always'];
const EXEC_API_PREFIX = 'client.authentication.k8s.io/';

export interface EntryOptions {
  /** The name the user gave (`--name`); written as `--cluster-name`. Default: the cluster's own name. */
  clusterName?: string;
  /** `--proxy-url`: added to the cluster entry. */
  proxyUrl?: string;
  /** `--role-arn`: the role the token is made with (`--role-arn` for eksauth, `--role` for aws). */
  roleArn?: string;
  /**
   * The profile to make tokens with; written as a `--profile` argument, not as aws-cli's `AWS_PROFILE` env entry,
   * because static keys in the environment silently win over AWS_PROFILE (aws-cli#7794).
   */
  profile?: string;
  /** Context name (`--alias`); default: the user name. May hold {cluster}, {region}, {account} and {arn}. */
  alias?: string;
  /** User name (`--user-alias`); default: the cluster ARN. May hold the same placeholders. */
  userAlias?: string;
  /** The exec command; default `eksauth`. A command named `aws` gets the aws CLI's `eks get-token` arguments. */
  execCommand?: string;
  /** `v1beta1` (default, as aws-cli) or `v1`, which requires an interactiveMode. */
  apiVersion?: string;
  /** Written when given; with apiVersion v1 it defaults to IfAvailable (client-go's own default). */
  interactiveMode?: string;
}

/**
 * Builds the cluster, user and context entries for a described cluster.
 *
 * @example
 * ```ts
 * import { buildKubeconfigEntries } from 'eksauth/kubeconfig';
 * const entries = buildKubeconfigEntries(
 *   { name: 'prod', arn: 'arn:aws:eks:eu-west-1:111122223333:cluster/prod', endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', certificateAuthorityData: 'LS0t', status: 'ACTIVE' },
 *   { alias: '{cluster}-{region}' },
 * );
 * console.log(entries.context.name, entries.user.user.exec.args.join(' ')); // → prod-eu-west-1 token --cluster-name prod --region eu-west-1
 * ```
 * @throws EksAuthError ERR_USAGE for an unknown placeholder, apiVersion or interactiveMode
 */
export function buildKubeconfigEntries(cluster: EksCluster, options: EntryOptions = {}): KubeconfigEntries {
  const vars = templateVariables(cluster);
  const clusterEntry: ClusterEntry = {
    cluster: { 'certificate-authority-data': cluster.certificateAuthorityData, server: cluster.endpoint },
    name: cluster.arn,
  };
  if (options.proxyUrl !== undefined) clusterEntry.cluster['proxy-url'] = options.proxyUrl;
  const userName = renderNameTemplate(options.userAlias || cluster.arn, vars);
  const user: UserEntry = { name: userName, user: { exec: execEntry(cluster, vars.region, options) } };
  const context: ContextEntry = {
    context: { cluster: clusterEntry.name, user: userName },
    name: options.alias ? renderNameTemplate(options.alias, vars) : userName,
  };
  return { cluster: clusterEntry, user, context };
}

function execEntry(cluster: EksCluster, region: string, options: EntryOptions): ExecEntry {
  const command = options.execCommand || 'eksauth';
  const [idFlag, id] = isOutpostsLocalCluster(cluster)
    ? ['--cluster-id', cluster.id ?? cluster.name]
    : ['--cluster-name', options.clusterName ?? cluster.name];
  const aws = isAwsCli(command);
  const args = aws
    ? ['--region', region, 'eks', 'get-token', idFlag, id, '--output', 'json']
    : ['token', idFlag, id, '--region', region];
  if (options.roleArn !== undefined) args.push(aws ? '--role' : '--role-arn', options.roleArn);
  if (options.profile !== undefined) args.push('--profile', options.profile);
  // EKS itself named this region, so it exists even when this eksauth's SDK data is older: let the token sign for it.
  if (!aws && sdkListedRegion(region) === undefined) args.push('--allow-unknown-region');
  const exec: ExecEntry = { apiVersion: execApiVersion(options.apiVersion), args, command };
  const mode = interactiveMode(options.interactiveMode, exec.apiVersion);
  if (mode !== undefined) exec.interactiveMode = mode;
  return exec;
}

/**
 * Outposts local clusters are known to their API servers by id. The rule of aws CLI v2's update_kubeconfig.py: an
 * `outpostConfig` without `etcdInstanceType` is a local cluster (`--cluster-id`); with one, or without
 * `outpostConfig`, the cluster is named (`--cluster-name`).
 */
function isOutpostsLocalCluster(cluster: EksCluster): boolean {
  return cluster.outpostConfig !== undefined && cluster.outpostConfig.etcdInstanceType == null;
}

/** True for `aws`, `/usr/local/bin/aws`, `aws.exe`, `aws.cmd`. */
function isAwsCli(command: string): boolean {
  return /^aws(\.exe|\.cmd)?$/i.test(basename(command.replace(/\\/g, '/')));
}

function execApiVersion(value: string | undefined): string {
  const short = (value ?? 'v1beta1').replace(EXEC_API_PREFIX, '');
  if (short !== 'v1' && short !== 'v1beta1') {
    throw new EksAuthError('ERR_USAGE', `--api-version ${value} is not supported: use v1beta1 (the default, as aws-cli writes) or v1`);
  }
  return EXEC_API_PREFIX + short;
}

function interactiveMode(value: string | undefined, apiVersion: string): InteractiveMode | undefined {
  if (value === undefined) return apiVersion.endsWith('/v1') ? 'IfAvailable' : undefined;
  const mode = INTERACTIVE_MODES.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
  if (mode === undefined) throw new EksAuthError('ERR_USAGE', `--interactive-mode ${value} is not valid: use ${INTERACTIVE_MODES.join(', ')}`);
  return mode;
}

/** The values placeholders in names stand for. */
export interface NameVariables {
  cluster: string;
  region: string;
  account: string;
  arn: string;
}

function templateVariables(cluster: EksCluster): NameVariables {
  // arn:<partition>:eks:<region>:<account>:cluster/<name>; aws-cli takes the region from field 3 the same way.
  const fields = cluster.arn.split(':');
  return { cluster: cluster.name, region: fields[3] ?? '', account: fields[4] ?? '', arn: cluster.arn };
}

/**
 * Replaces `{cluster}`, `{region}`, `{account}` and `{arn}` in a context or user name.
 *
 * @example
 * ```ts
 * import { renderNameTemplate } from 'eksauth/kubeconfig';
 * const variables = { cluster: 'prod', region: 'eu-west-1', account: '111122223333', arn: 'arn:aws:eks:eu-west-1:111122223333:cluster/prod' };
 * console.log(renderNameTemplate('{cluster}-{region}', variables)); // → prod-eu-west-1
 * ```
 * @throws EksAuthError ERR_USAGE for any other `{placeholder}`
 */
export function renderNameTemplate(template: string, vars: NameVariables): string {
  return template.replace(/\{([^{}]*)\}/g, (whole, key: string) => {
    if (Object.hasOwn(vars, key)) return vars[key as keyof NameVariables];
    throw new EksAuthError('ERR_USAGE', `unknown placeholder ${whole} in "${template}": use {cluster}, {region}, {account} or {arn}`);
  });
}
