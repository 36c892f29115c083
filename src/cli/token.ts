import { writeSync } from 'node:fs';
import { networkOptions, type NetworkFlags } from '../aws/network.js';
import { sharedFilePaths } from '../aws/shared-files.js';
import { closestChoice } from '../lib/edit-distance.js';
import { CONFIG_FILE_MAX_BYTES, readRegularFile } from '../lib/regular-file.js';
import type { ColorMode, OutputFormat } from './aws-output.js';
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
  /** The aws CLI's `--output`: json, text, table, yaml or yaml-stream. */
  output?: string;
  /** The aws CLI's `--query`: a JMESPath expression applied to the ExecCredential. */
  query?: string;
  /** The aws CLI's `--color` (on, off, auto); only the table output has colours. */
  color?: string;
  /** `--debug`: what was resolved and from where, on stderr. */
  debug?: boolean;
  /** False with `--no-cli-pager`, accepted from aws CLI v2 commands: eksauth never pages. */
  cliPager?: boolean;
  /** False with `--no-cache`; `--cache` (aws-iam-authenticator's flag) is accepted and changes nothing. */
  cache?: boolean;
  forceRefresh?: boolean;
  /** Accepted as `aws eks get-token` accepts it; it applies to no call there either (get-token calls no EKS API). */
  endpointUrl?: string;
  /** Sign for a region the SDK's data does not list (also: EKSAUTH_ALLOW_UNKNOWN_REGION=1). */
  allowUnknownRegion?: boolean;
}

/**
 * How the command was written. `eks get-token` is the aws CLI's form and prints as it does: indented JSON, or the
 * output AWS_DEFAULT_OUTPUT or the profile's `output` names. `token` prints one line of JSON whatever those say
 * (they would break kubectl), and the aws CLI's layout only when --output or --query asks for it.
 */
export type TokenForm = 'token' | 'eks get-token';

/** What to print: kubectl's one line, the bare token, or the aws CLI's output (loaded only for more than JSON). */
type TokenOutput =
  | { kind: 'exec-credential' }
  | { kind: 'token-only' }
  | { kind: 'aws'; format: string; query?: string; color: string };

const OUTPUT_CHOICES = ['json', 'text', 'table', 'yaml', 'yaml-stream'];
const COLOR_CHOICES = ['on', 'off', 'auto'];

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
export async function runToken(flags: TokenFlags, env: NodeJS.ProcessEnv = process.env, form: TokenForm = 'token'): Promise<void> {
  const output = await tokenOutput(flags, env, form);
  const debug = flags.debug ? (message: string) => writeSync(2, `eksauth: debug: ${message}\n`) : undefined;
  const info = readExecInfo(env.KUBERNETES_EXEC_INFO);
  for (const warning of info.warnings) writeSync(2, `${warning}\n`);
  const request = tokenRequest(flags, info, env, form, debug);
  debug?.(`command: eksauth ${form}; cluster ${request.options.clusterId}; ExecCredential ${request.apiVersion}; output ${describeOutput(output)}`);
  const cached = request.cache && readCachedToken(request.cache);
  debug?.(request.cache === undefined ? 'cache: off (--no-cache or EKSAUTH_NO_CACHE)' : cached ? 'cache: hit' : 'cache: miss, signing');
  const result = cached ?? (await refresh(request, env));
  // A plain write to fd 1: constructing process.stdout costs more than the rest of the output step.
  writeSync(1, await render(result, request.apiVersion, output));
}

async function render(result: CachedToken, apiVersion: ExecApiVersion, output: TokenOutput): Promise<string> {
  if (output.kind === 'token-only') return `${result.token}\n`;
  const credential = toExecCredential(result, apiVersion);
  if (output.kind === 'exec-credential') return `${JSON.stringify(credential)}\n`;
  // `aws eks get-token` prints a newline after its output, whatever the format: hence the blank last line.
  if (output.format === 'json' && output.query === undefined) return `${JSON.stringify(credential, null, 4)}\n\n`;
  const { formatAwsOutput, stdoutTerminal } = await import('./aws-output.js');
  return `${formatAwsOutput(credential, {
    format: output.format as OutputFormat,
    ...(output.query === undefined ? {} : { query: output.query }),
    color: output.color as ColorMode,
    title: 'get-token',
    ...stdoutTerminal(),
  })}\n`;
}

/** Works out and checks the output before anything is signed, as the aws CLI checks --output and --query first. */
async function tokenOutput(flags: TokenFlags, env: NodeJS.ProcessEnv, form: TokenForm): Promise<TokenOutput> {
  const color = flags.color ?? 'auto';
  if (!COLOR_CHOICES.includes(color)) throw choiceError('--color', color, COLOR_CHOICES);
  if (flags.output !== undefined && !OUTPUT_CHOICES.includes(flags.output)) throw choiceError('--output', flags.output, OUTPUT_CHOICES);
  if (flags.tokenOnly) {
    if (flags.query !== undefined || (flags.output !== undefined && flags.output !== 'json')) {
      throw new EksAuthError('ERR_USAGE', '--token-only prints the bare token: leave out --query and --output, or use --query status.token --output text instead');
    }
    return { kind: 'token-only' };
  }
  if (form === 'token' && flags.output === undefined && flags.query === undefined) return { kind: 'exec-credential' };
  const format = flags.output ?? (form === 'eks get-token' ? await configuredOutput(flags, env) : 'json');
  if (flags.query !== undefined) (await import('./aws-output.js')).checkQuery(flags.query);
  return { kind: 'aws', format, color, ...(flags.query === undefined ? {} : { query: flags.query }) };
}

/**
 * The aws CLI's default output: AWS_DEFAULT_OUTPUT, the profile's `output`, else json. The config file is parsed
 * only when it has an `output` line at all, so the usual file costs one read.
 */
async function configuredOutput(flags: TokenFlags, env: NodeJS.ProcessEnv): Promise<string> {
  const fromEnv = env.AWS_DEFAULT_OUTPUT?.trim();
  const named = fromEnv || (configNamesOutput(env) ? await (await import('./aws-output.js')).profileOutput(flags.profile, env) : undefined);
  if (named !== undefined && !OUTPUT_CHOICES.includes(named)) {
    const where = fromEnv ? 'AWS_DEFAULT_OUTPUT' : `the output of profile ${flags.profile ?? env.AWS_PROFILE ?? 'default'}`;
    throw new EksAuthError('ERR_INVALID_CONFIG', `${where} is ${JSON.stringify(named)}, not an output format: use one of ${OUTPUT_CHOICES.join(', ')}`);
  }
  return named ?? 'json';
}

function configNamesOutput(env: NodeJS.ProcessEnv): boolean {
  const read = readRegularFile(sharedFilePaths(env).configFile, { maxBytes: CONFIG_FILE_MAX_BYTES, followSymlinks: true });
  return 'bytes' in read && /^[ \t]*output[ \t]*=/m.test(read.bytes.toString('utf8'));
}

function choiceError(flag: string, value: string, choices: string[]): EksAuthError {
  const near = closestChoice(value, choices);
  return new EksAuthError('ERR_USAGE', `${flag} ${value} is not one of ${choices.join(', ')}${near === undefined ? '' : `; did you mean ${flag} ${near}?`}`);
}

function describeOutput(output: TokenOutput): string {
  if (output.kind !== 'aws') return output.kind;
  return `${output.format}${output.query === undefined ? '' : ` with --query ${JSON.stringify(output.query)}`}`;
}

async function refresh(request: TokenRequest, env: NodeJS.ProcessEnv): Promise<CachedToken> {
  // The SDK's Node-version notice would reach the user's terminal through kubectl on every call.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { refreshToken } = await import('./token-refresh.js');
  return refreshToken(request);
}

function tokenRequest(flags: TokenFlags, info: ExecInfo, env: NodeJS.ProcessEnv, form: TokenForm, debug?: (message: string) => void): TokenRequest {
  const apiVersion = flags.apiVersion === undefined ? info.apiVersion : parseApiVersion(flags.apiVersion);
  const target = tokenTarget(flags, info, env.KUBERNETES_EXEC_INFO);
  const roleArn = flags.roleArn ?? flags.role ?? (form === 'token' ? defaultRole(env) : undefined);
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
    ...(debug === undefined ? {} : { debug }),
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
