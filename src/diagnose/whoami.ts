/**
 * "Who am I to EKS?": the credentials a token would be signed with (where they came from, which profile, when they
 * expire), who STS says they are (and the canonical ARN that aws-auth rows and access entries are matched against),
 * the STS host a token would be presigned for, and whether `eksauth token` holds a cached token for a cluster.
 *
 * The identity is asked exactly as a verifier asks it: a GetCallerIdentity URL is presigned the way `eksauth token`
 * presigns one (same credentials chain, same STS host) and sent with the cluster's `x-k8s-aws-id`, to the STS host or
 * to AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL when set. The token cache is only read, never written.
 */
import { toStsIdentity, type StsIdentity } from '../authn/arn.js';
import { getCallerIdentity } from '../authn/get-caller-identity.js';
import { credentialSource, type CredentialSource, type SourcedCredentials } from '../aws/credential-source.js';
import { resolveBaseCredentials } from '../aws/credentials.js';
import { resolveAwsSettings } from '../aws/settings.js';
import { configuredStsEndpoint, resolveStsEndpoint, type StsEndpoint } from '../aws/sts-endpoint.js';
import { cacheKeys } from '../cache/key.js';
import { readCachedToken } from '../cache/token-cache.js';
import { formatTimestamp } from '../exec/exec-credential.js';
import { presignGetCallerIdentity } from '../token/presign.js';

export interface WhoamiOptions {
  /** The cluster a token would be for: sent as `x-k8s-aws-id`, and the cached token looked up. */
  clusterName?: string;
  /** As `eksauth token --region`. */
  region?: string;
  /** As `eksauth token --profile`; default AWS_PROFILE, then the SDK's default chain. */
  profile?: string;
  env?: NodeJS.ProcessEnv;
  /** Clock, for tests. */
  now?: () => Date;
}

export interface WhoamiReport {
  credentials: {
    source: CredentialSource;
    /** The profile in effect (flag or AWS_PROFILE); undefined when none was named (the chain's default). */
    profile?: string;
    accessKeyId: string;
    /** True for temporary credentials (with a session token). */
    temporary: boolean;
    /** When the credentials expire, if they do (ISO 8601). */
    expiration?: string;
  };
  identity: StsIdentity;
  sts: StsEndpoint & {
    /** Where GetCallerIdentity was sent instead of the host (AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL), if anywhere. */
    endpointOverride?: string;
  };
  /** The region in effect (flag, environment or profile); undefined means the global STS endpoint. */
  region?: string;
  /** With a cluster name: the expiry (as the ExecCredential gave it) of the token `eksauth token` cached, or null when there is none. */
  cachedToken?: { cluster: string; expiration: string; remainingSeconds: number } | { cluster: string; expiration: null };
}

/** The `x-k8s-aws-id` sent when no cluster is named: STS signs over it, and a made-up name binds nothing. */
const NO_CLUSTER_ID = 'eksauth-whoami';

/**
 * Resolves credentials and asks STS who they are, as a token for `clusterName` would be made and verified.
 *
 * @example
 * ```ts
 * import { whoami } from './whoami.js';
 * const report = await whoami({ clusterName: 'prod', region: 'eu-west-1' });
 * report.identity.canonicalArn; // 'arn:aws:iam::111122223333:role/Admin'
 * report.credentials.source.description; // 'IAM Identity Center (SSO) profile'
 * ```
 * @throws EksAuthError ERR_PROFILE_NOT_FOUND, ERR_NO_CREDENTIALS, ERR_SSO_SESSION_EXPIRED, ERR_CREDENTIALS, ERR_STS_*
 */
export async function whoami(options: WhoamiOptions = {}): Promise<WhoamiReport> {
  const env = options.env ?? process.env;
  const now = options.now ?? (() => new Date());
  const settings = await resolveAwsSettings({ ...(options.profile === undefined ? {} : { profile: options.profile }), ...(options.region === undefined ? {} : { region: options.region }), env });
  const endpoint = resolveStsEndpoint(settings);
  const credentials: SourcedCredentials = await resolveBaseCredentials({ ...(settings.profile === undefined ? {} : { profile: settings.profile }), env });
  const clusterId = options.clusterName ?? NO_CLUSTER_ID;
  const url = await presignGetCallerIdentity({ credentials, clusterId, endpoint, signingDate: now() });
  const endpointOverride = configuredStsEndpoint(env);
  const caller = await getCallerIdentity(new URL(url), { clusterId, ...(endpointOverride ? { stsEndpoint: endpointOverride } : {}) });
  return {
    credentials: {
      source: credentialSource(credentials),
      ...(settings.profile === undefined ? {} : { profile: settings.profile }),
      accessKeyId: credentials.accessKeyId,
      temporary: credentials.sessionToken !== undefined,
      ...(credentials.expiration === undefined ? {} : { expiration: credentials.expiration.toISOString() }),
    },
    identity: toStsIdentity(caller, credentials.accessKeyId),
    sts: { ...endpoint, ...(endpointOverride ? { endpointOverride } : {}) },
    ...(settings.region === undefined ? {} : { region: settings.region }),
    ...(options.clusterName === undefined ? {} : { cachedToken: cachedTokenOf(options, env, now()) }),
  };
}

/** The token `eksauth token --cluster-name C [--region R] [--profile P]` would serve from its cache right now. */
function cachedTokenOf(options: WhoamiOptions, env: NodeJS.ProcessEnv, now: Date): NonNullable<WhoamiReport['cachedToken']> {
  const cluster = options.clusterName!;
  const keys = cacheKeys({
    clusterId: cluster,
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
    env,
    nowMs: now.getTime(),
  });
  // A margin of 0: any token with life left counts, even one `eksauth token` would already replace.
  const hit = readCachedToken({ keys, env, forceRefresh: false, marginMs: 0, now: () => now.getTime() });
  if (hit === undefined) return { cluster, expiration: null };
  // The expiry as the ExecCredential told kubectl (whole seconds).
  return { cluster, expiration: formatTimestamp(hit.expiration), remainingSeconds: Math.floor((hit.expiration.getTime() - now.getTime()) / 1000) };
}
