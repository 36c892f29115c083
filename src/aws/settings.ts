import { EksAuthError } from '../errors.js';
import { ALLOW_UNKNOWN_REGION_ENV, isEnvFlagSet } from '../lib/env-flag.js';
import { CONFIG_FILE_MAX_BYTES, readRegularFile } from '../lib/regular-file.js';
import { sharedFilePaths } from './shared-files.js';
import type { StsEndpointOptions } from './sts-endpoint.js';

/** The AWS settings that shape a token, gathered from flags, the environment and the shared config files. */
export interface AwsSettings extends StsEndpointOptions {
  /** The profile named by the caller or AWS_PROFILE; undefined means the SDK default chain decides. */
  profile?: string;
  /** The profile's `ca_bundle` (AWS_CA_BUNDLE and --ca-bundle come first; see network.ts networkOptions). */
  profileCaBundle?: string;
}

export interface AwsSettingsInput extends StsEndpointOptions {
  profile?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Fills in what the caller did not say, the way the AWS CLI and SDKs do: explicit values first, then the
 * environment, then the profile in ~/.aws/config and ~/.aws/credentials. A profile that was named but exists in
 * neither file is an error here, before any credential provider runs, so the message can list what does exist.
 *
 * @example
 * ```ts
 * import { resolveAwsSettings } from './settings.js';
 * const settings = await resolveAwsSettings({ profile: 'prod' }); // { profile: 'prod', region: 'eu-west-1', … }
 * ```
 */
export async function resolveAwsSettings(input: AwsSettingsInput = {}): Promise<AwsSettings> {
  const env = input.env ?? process.env;
  const profile = input.profile ?? nonEmpty(env.AWS_PROFILE);
  const fileSettings = await readProfile(profile, env);
  return {
    profile,
    ...regionAndSource(input, env, fileSettings.region, profile),
    allowUnknownRegion: input.allowUnknownRegion ?? isEnvFlagSet(env[ALLOW_UNKNOWN_REGION_ENV]),
    useFipsEndpoint: input.useFipsEndpoint ?? booleanSetting(env.AWS_USE_FIPS_ENDPOINT ?? fileSettings.use_fips_endpoint),
    useDualstackEndpoint:
      input.useDualstackEndpoint ?? booleanSetting(env.AWS_USE_DUALSTACK_ENDPOINT ?? fileSettings.use_dualstack_endpoint),
    stsRegionalEndpoints:
      input.stsRegionalEndpoints ?? regionalSetting(env.AWS_STS_REGIONAL_ENDPOINTS ?? fileSettings.sts_regional_endpoints),
    ...(nonEmpty(fileSettings.ca_bundle) === undefined ? {} : { profileCaBundle: nonEmpty(fileSettings.ca_bundle) }),
  };
}

type ProfileSettings = Record<string, string | undefined>;

/** The first region given, in the AWS CLI's order, and where it came from (named when it is refused). */
function regionAndSource(
  input: AwsSettingsInput,
  env: NodeJS.ProcessEnv,
  profileRegion: string | undefined,
  profile: string | undefined,
): Pick<AwsSettings, 'region' | 'regionSource'> {
  if (input.region !== undefined) return { region: input.region, regionSource: input.regionSource ?? '--region' };
  const fromEnv = (['AWS_REGION', 'AWS_DEFAULT_REGION'] as const).find((name) => nonEmpty(env[name]) !== undefined);
  if (fromEnv !== undefined) return { region: nonEmpty(env[fromEnv]), regionSource: fromEnv };
  if (profileRegion === undefined) return {};
  return { region: profileRegion, regionSource: `the region of profile ${profile ?? 'default'} in ${env.AWS_CONFIG_FILE || '~/.aws/config'}` };
}

/**
 * One setting of the profile (`--profile`, else AWS_PROFILE, else default) from the shared files, e.g. `output`.
 *
 * @example
 * ```ts
 * await profileSetting('output', { profile: 'prod' }); // 'text', or undefined when the profile does not say
 * ```
 */
export async function profileSetting(name: string, input: { profile?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string | undefined> {
  const env = input.env ?? process.env;
  return nonEmpty((await readProfile(input.profile ?? nonEmpty(env.AWS_PROFILE), env))[name]);
}

async function readProfile(profile: string | undefined, env: NodeJS.ProcessEnv): Promise<ProfileSettings> {
  const { configFile, credentialsFile } = sharedFilePaths(env);
  const contents = [configFile, credentialsFile].map(readIfPresent);
  // With neither file (CI, containers) there is nothing to parse; skip loading the parser at all.
  if (profile === undefined && contents.every((text) => text === undefined)) return {};
  const { externalDataInterceptor, loadSharedConfigFiles } = await import('@smithy/shared-ini-file-loader');
  // The files are read synchronously above and handed to the SDK's parser: its own asynchronous read starts libuv's
  // thread pool, which measured ~4 ms of every kubectl call.
  [configFile, credentialsFile].forEach((path, i) => externalDataInterceptor.interceptFile(path, contents[i] ?? ''));
  const files = await loadSharedConfigFiles({ filepath: credentialsFile, configFilepath: configFile });
  const name = profile ?? 'default';
  const settings = { ...files.credentialsFile[name], ...files.configFile[name] };
  if (profile !== undefined && files.configFile[name] === undefined && files.credentialsFile[name] === undefined) {
    const known = [...new Set([...Object.keys(files.configFile), ...Object.keys(files.credentialsFile)])].sort();
    const list = known.length > 0 ? `profiles found: ${known.join(', ')}` : 'no profiles are configured';
    throw new EksAuthError(
      'ERR_PROFILE_NOT_FOUND',
      `AWS profile "${profile}" does not exist in ${env.AWS_CONFIG_FILE || '~/.aws/config'} or ` +
        `${env.AWS_SHARED_CREDENTIALS_FILE || '~/.aws/credentials'} (${list}); create it with ` +
        `\`aws configure --profile ${profile}\` or pass an existing --profile`,
    );
  }
  return settings;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function booleanSetting(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}

function regionalSetting(value: string | undefined): 'legacy' | 'regional' {
  return value?.trim().toLowerCase() === 'legacy' ? 'legacy' : 'regional';
}

/**
 * The text of a shared AWS file, or undefined when there is none. Only a regular file (through symlinks) of at most
 * 16 MiB is read: anything else counts as absent (AWS_CONFIG_FILE=/dev/null is the usual way to say "no file"), so a
 * FIFO or a device there can neither hang `eksauth token` nor grow it.
 */
function readIfPresent(path: string): string | undefined {
  const read = readRegularFile(path, { maxBytes: CONFIG_FILE_MAX_BYTES, followSymlinks: true });
  if ('bytes' in read) return read.bytes.toString('utf8');
  if (read.reason === 'missing' || read.reason === 'not-regular') return undefined;
  const why = read.reason === 'too-large' ? `it is ${read.what}` : `${'code' in read ? read.code : read.reason}`;
  throw new EksAuthError('ERR_INVALID_CONFIG', `cannot read ${path}: ${why}; fix it or point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE elsewhere`);
}
