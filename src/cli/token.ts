import { writeSync } from 'node:fs';
import { networkOptions, type NetworkFlags } from '../aws/network.js';
import { cacheKeys } from '../cache/key.js';
import { readCachedToken, type CachedToken, type TokenCacheRequest } from '../cache/token-cache.js';
import { EksAuthError } from '../errors.js';
import { toExecCredential } from '../exec/exec-credential.js';
import { ALLOW_UNKNOWN_REGION_ENV, isEnvFlagSet } from '../lib/env-flag.js';
import { clusterFromExecInfo, parseApiVersion, readExecInfo, type ExecApiVersion, type ExecInfo } from '../exec/exec-info.js';
import type { GetTokenOptions } from '../token/generate.js';

export interface TokenFlags extends NetworkFlags {
  clusterName?: string;
  clusterId?: string;
  roleArn?: string;
  role?: string;
  region?: string;
  profile?: string;
  externalId?: string;
  sessionName?: string;
  forwardSessionName?: boolean;
  tokenOnly?: boolean;
  apiVersion?: string;
  output?: string;
  /** False with `--no-cache`; `--cache` (aws-iam-authenticator's flag) is accepted and changes nothing. */
  cache?: boolean;
  forceRefresh?: boolean;
  /** Accepted as `aws eks get-token` accepts it; it applies to no call there either (get-token calls no EKS API). */
  endpointUrl?: string;
  /** Sign for a region the SDK's data does not list (also: EKSAUTH_ALLOW_UNKNOWN_REGION=1). */
  allowUnknownRegion?: boolean;
}

/** Which form ran: `token` reads aws-iam-authenticator's DEFAULT_ROLE, `eks get-token` (as the aws CLI) does not. */
export type TokenCommand = 'token' | 'eks get-token';

/** One `eksauth token` call, worked out from flags and environment before any signing code is loaded. */
export interface TokenRequest {
  options: GetTokenOptions;
  apiVersion: ExecApiVersion;
  tokenOnly: boolean;
  /** Undefined with `--no-cache` or EKSAUTH_NO_CACHE. */
  cache?: TokenCacheRequest;
}

/**
 * `eksauth token`: stdout gets the ExecCredential and nothing else; warnings go to stderr. A cache hit is served
 * from this module alone; only a miss loads the signing path (token-refresh.ts, its own bundle).
 *
 * @example
 * ```ts
 * import { runToken } from './token.js';
 * await runToken({ clusterName: 'prod', region: 'eu-west-1' }); // prints {"kind":"ExecCredential",…}
 * ```
 */
export async function runToken(flags: TokenFlags, env: NodeJS.ProcessEnv = process.env, command: TokenCommand = 'token'): Promise<void> {
  if (flags.output !== undefined && flags.output !== 'json') {
    throw new EksAuthError('ERR_USAGE', `--output ${flags.output} is not supported: eksauth token prints JSON (--output json)`);
  }
  const info = readExecInfo(env.KUBERNETES_EXEC_INFO);
  for (const warning of info.warnings) writeSync(2, `${warning}\n`);
  const request = tokenRequest(flags, info, env, command);
  const result = (request.cache && readCachedToken(request.cache)) ?? (await refresh(request, env));
  // A plain write to fd 1: constructing process.stdout costs more than the rest of the output step.
  writeSync(1, request.tokenOnly ? `${result.token}\n` : `${JSON.stringify(toExecCredential(result, request.apiVersion))}\n`);
}

async function refresh(request: TokenRequest, env: NodeJS.ProcessEnv): Promise<CachedToken> {
  // The SDK's Node-version notice would reach the user's terminal through kubectl on every call.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { refreshToken } = await import('./token-refresh.js');
  return refreshToken(request);
}

function tokenRequest(flags: TokenFlags, info: ExecInfo, env: NodeJS.ProcessEnv, command: TokenCommand): TokenRequest {
  const apiVersion = flags.apiVersion === undefined ? info.apiVersion : parseApiVersion(flags.apiVersion);
  const target = tokenTarget(flags, info, env.KUBERNETES_EXEC_INFO);
  const roleArn = flags.roleArn ?? flags.role ?? (command === 'token' ? defaultRole(env) : undefined);
  const options: GetTokenOptions = {
    ...target,
    // Decided here, not left to the signer's settings: it is part of the cache key, so a token signed under the switch
    // is not served once it is off.
    allowUnknownRegion: flags.allowUnknownRegion === true || isEnvFlagSet(env[ALLOW_UNKNOWN_REGION_ENV]),
    ...(roleArn === undefined ? {} : { roleArn }),
    ...(flags.profile === undefined ? {} : { profile: flags.profile }),
    ...(flags.externalId === undefined ? {} : { externalId: flags.externalId }),
    ...(flags.sessionName === undefined ? {} : { sessionName: flags.sessionName }),
    forwardSessionName: flags.forwardSessionName === true,
    ...(info.interactive === undefined ? {} : { interactive: info.interactive }),
    network: networkOptions(flags, env),
    env,
  };
  const request: TokenRequest = { options, apiVersion, tokenOnly: flags.tokenOnly === true };
  if (flags.cache === false || isEnvFlagSet(env.EKSAUTH_NO_CACHE)) return request;
  return { ...request, cache: { keys: cacheKeys({ ...options, env }), env, forceRefresh: flags.forceRefresh === true } };
}

// aws-iam-authenticator binds its role setting to DEFAULT_ROLE (viper.BindEnv("role", "DEFAULT_ROLE")): the flag wins,
// and an empty variable counts as unset (viper's default).
function defaultRole(env: NodeJS.ProcessEnv): string | undefined {
  return env.DEFAULT_ROLE === undefined || env.DEFAULT_ROLE === '' ? undefined : env.DEFAULT_ROLE;
}

// Flags name the cluster; without them a ClusterProfile's exec extension does (cluster-inventory mode).
function tokenTarget(flags: TokenFlags, info: ExecInfo, rawExecInfo: string | undefined): Pick<GetTokenOptions, 'clusterId' | 'region' | 'regionSource'> {
  if (flags.clusterName !== undefined && flags.clusterId !== undefined) {
    throw new EksAuthError(
      'ERR_USAGE',
      '--cluster-name and --cluster-id cannot be used together: use --cluster-id only for Outposts local clusters',
    );
  }
  const clusterId = flags.clusterName ?? flags.clusterId;
  if (clusterId !== undefined) return { clusterId, ...(flags.region === undefined ? {} : { region: flags.region }) };
  const fromProfile = clusterFromExecInfo(info, rawExecInfo);
  if (flags.region !== undefined) return { clusterId: fromProfile.clusterId, region: flags.region };
  return { clusterId: fromProfile.clusterId, region: fromProfile.region, regionSource: 'KUBERNETES_EXEC_INFO (spec.cluster.config.region)' };
}
