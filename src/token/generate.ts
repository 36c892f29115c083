import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { assertRoleArn, assertSessionName, assumeRole } from '../aws/assume-role.js';
import { assertUnexpired, resolveBaseCredentials, type CredentialStore } from '../aws/credentials.js';
import { withProfileCaBundle, type NetworkOptions } from '../aws/network.js';
import { resolveAwsSettings, type AwsSettings } from '../aws/settings.js';
import { configuredStsEndpoint, resolveStsEndpoint, type StsEndpoint } from '../aws/sts-endpoint.js';
import { EksAuthError } from '../errors.js';
import { encodeToken, TOKEN_LIFETIME_MS } from './format.js';
import { presignGetCallerIdentity } from './presign.js';

export interface GetTokenOptions {
  /** The `x-k8s-aws-id` the token is bound to: the cluster name, or the cluster id of an Outposts local cluster. */
  clusterId: string;
  /** The cluster's region; defaults to AWS_REGION, AWS_DEFAULT_REGION, then the profile's region. */
  region?: string;
  /** Where `region` came from, named if it is refused; default `--region`. */
  regionSource?: string;
  /**
   * Sign for a region the SDK's partition data does not list (one newer than this eksauth); default
   * EKSAUTH_ALLOW_UNKNOWN_REGION. Otherwise such a region is refused (ERR_INVALID_REGION, with a "did you mean").
   */
  allowUnknownRegion?: boolean;
  /** AWS profile; defaults to AWS_PROFILE. */
  profile?: string;
  /** Role to assume before signing. */
  roleArn?: string;
  externalId?: string;
  /** Role session name; defaults to `EKSGetTokenAuth` as `aws eks get-token` uses. */
  sessionName?: string;
  /** Reuse the caller's own session name when assuming `roleArn` (as aws-iam-authenticator does). */
  forwardSessionName?: boolean;
  /** Credentials to sign with instead of the default chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  useFipsEndpoint?: boolean;
  useDualstackEndpoint?: boolean;
  stsRegionalEndpoints?: 'legacy' | 'regional';
  /** Whether an MFA prompt may be shown on this terminal. */
  interactive?: boolean;
  /** Keeps temporary credentials (SSO, assumed roles, MFA sessions) between calls; see src/cache/refresh.ts. */
  credentialStore?: CredentialStore;
  /**
   * Proxy, CA bundle and timeouts of the AWS calls made to get credentials (AssumeRole, SSO, web identity,
   * `forwardSessionName`'s GetCallerIdentity); the token itself is signed with no network. Default: the
   * environment's HTTPS_PROXY/NO_PROXY and AWS_CA_BUNDLE, then the profile's ca_bundle.
   */
  network?: NetworkOptions;
  env?: NodeJS.ProcessEnv;
  /** Clock, for tests. */
  now?: () => Date;
  /** Told what was resolved and from where (`--debug`): profile, region, STS host, credential source. Never a secret. */
  debug?: (message: string) => void;
}

export interface EksToken {
  /** The bearer token, `k8s-aws-v1.…`. Treat it as a secret: it is valid for 15 minutes. */
  token: string;
  /** When clients should stop using it: 14 minutes after signing, or earlier if the credentials expire first. */
  expiration: Date;
  endpoint: StsEndpoint;
}

/**
 * Creates an EKS bearer token, exactly as `aws eks get-token` and `aws-iam-authenticator token` do. The CLI's signer,
 * with its cache and network options; the library's `getToken` (src/api/token.ts) wraps it.
 *
 * @example
 * ```ts
 * import { getToken } from './generate.js';
 * const { token, expiration } = await getToken({ clusterId: 'prod', region: 'eu-west-1' });
 * // Authorization: Bearer ${token}
 * ```
 */
export async function getToken(options: GetTokenOptions): Promise<EksToken> {
  assertTokenOptions(options);
  const settings = await resolveAwsSettings(options);
  const endpoint = resolveStsEndpoint(settings);
  const network = withProfileCaBundle(options.network ?? { ...(options.env === undefined ? {} : { env: options.env }) }, settings);
  options.debug?.(`profile: ${settings.profile ?? '(none named: the default credential chain)'}`);
  options.debug?.(`region: ${settings.region ?? '(none)'}${settings.regionSource === undefined ? '' : ` from ${settings.regionSource}`}`);
  options.debug?.(`STS host: ${endpoint.hostname} (partition ${endpoint.partition}, signing region ${endpoint.signingRegion})`);
  const now = options.now ?? (() => new Date());
  const credentials = await resolveSigningCredentials({ ...options, network, now }, settings, endpoint);
  options.debug?.(`credentials: ${credentialSource(credentials, options)}`);
  const signingDate = now();
  assertUnexpired(credentials, signingDate, (at) => expiredCredentialsText(options, at));
  const url = await presignGetCallerIdentity({ credentials, clusterId: options.clusterId, endpoint, signingDate });
  return { token: encodeToken(url), expiration: tokenExpiration(signingDate, credentials.expiration), endpoint };
}

function assertTokenOptions(options: GetTokenOptions): void {
  if (!options.clusterId || options.clusterId.trim() !== options.clusterId) {
    throw new EksAuthError(
      'ERR_NO_CLUSTER',
      'no cluster given: pass --cluster-name NAME (or -i/--cluster-id; --cluster-id for Outposts local clusters)',
    );
  }
  if (options.roleArn !== undefined) assertRoleArn(options.roleArn);
  if (options.sessionName !== undefined) assertSessionName(options.sessionName);
  if (options.sessionName !== undefined && options.forwardSessionName) {
    throw new EksAuthError('ERR_USAGE', '--session-name and --forward-session-name cannot be used together: pick one');
  }
}

async function resolveSigningCredentials(
  options: GetTokenOptions,
  settings: AwsSettings,
  endpoint: StsEndpoint,
): Promise<AwsCredentialIdentity> {
  const { credentialStore: store, roleArn } = options;
  const base = () => resolveBaseCredentials({ ...options, profile: settings.profile, ...(store === undefined ? {} : { store }) });
  if (roleArn === undefined) return base();
  const assume = async () => {
    const source = await base();
    const sessionName = options.forwardSessionName ? await callerSessionName(source, endpoint, options) : options.sessionName;
    return assumeRole(source, {
      roleArn,
      region: endpoint.signingRegion,
      ...(options.network === undefined ? {} : { network: options.network }),
      ...(sessionName === undefined ? {} : { sessionName }),
      ...(options.externalId === undefined ? {} : { externalId: options.externalId }),
    });
  };
  // With a store, kept role credentials skip both the source credentials and the AssumeRole call.
  return store === undefined ? assume() : store.reuse('role', assume);
}

// Base credentials from the environment or the SDK chain are checked where they are found, with their own next step;
// this catches what is left: role credentials, and credentials handed in by a library caller.
function expiredCredentialsText(options: GetTokenOptions, expiredAt: string): string {
  if (options.roleArn !== undefined) {
    return `the credentials STS issued for ${options.roleArn} expired at ${expiredAt}, before they could be used: ` +
      "check this machine's clock, then retry (with --force-refresh to skip cached credentials)";
  }
  return `the credentials passed to getToken expired at ${expiredAt}: pass fresh ones (or a provider that refreshes them)`;
}

// The caller's session name is the part of its UserId after the colon; IAM users have none.
async function callerSessionName(
  credentials: AwsCredentialIdentity,
  endpoint: StsEndpoint,
  options: Pick<GetTokenOptions, 'env' | 'network'>,
): Promise<string | undefined> {
  const { getCallerIdentity } = await import('../authn/get-caller-identity.js');
  const url = await presignGetCallerIdentity({ credentials, clusterId: 'eksauth-forward-session-name', endpoint });
  const stsEndpoint = configuredStsEndpoint(options.env ?? process.env);
  const { connectTimeoutMs, readTimeoutMs } = options.network ?? {};
  const identity = await getCallerIdentity(new URL(url), {
    clusterId: 'eksauth-forward-session-name',
    ...(stsEndpoint ? { stsEndpoint } : {}),
    network: options.network ?? {},
    // getCallerIdentity's limits must be positive; 0 (no limit) keeps its defaults.
    ...(connectTimeoutMs ? { connectTimeoutMs } : {}),
    ...(readTimeoutMs ? { timeoutMs: Math.max(readTimeoutMs, connectTimeoutMs ?? 0) } : {}),
  });
  const session = identity.userId.split(':')[1];
  return session === undefined || session.length < 2 ? undefined : session.slice(0, 64);
}

/** Where the signing credentials came from, in the SDK's own terms ($source), and their access key id's kind. */
function credentialSource(credentials: AwsCredentialIdentity, options: GetTokenOptions): string {
  const sources = Object.keys((credentials as { $source?: Record<string, string> }).$source ?? {});
  const from = sources.length > 0 ? sources.join(', ') : 'kept in the eksauth credential cache';
  const kind = credentials.accessKeyId.startsWith('ASIA') ? 'temporary' : 'long-term';
  return `${from}; ${kind}${options.roleArn === undefined ? '' : `, role ${options.roleArn}`}`;
}

/** 14 minutes after signing, or the credentials' own expiry when that comes first. */
export function tokenExpiration(signingDate: Date, credentialExpiration?: Date): Date {
  const tokenEnd = signingDate.getTime() + TOKEN_LIFETIME_MS;
  const end = credentialExpiration === undefined ? tokenEnd : Math.min(tokenEnd, credentialExpiration.getTime());
  return new Date(end);
}
