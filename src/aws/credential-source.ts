/**
 * Where credentials came from, as the AWS SDK for JavaScript records it: each credential provider tags what it
 * returns with a feature id in `$source` (the ids it also reports in its user agent), e.g. `CREDENTIALS_PROFILE_SSO`
 * for an SSO profile, or `CREDENTIALS_PROFILE_SOURCE_PROFILE` plus `CREDENTIALS_STS_ASSUME_ROLE` for a role profile.
 * eksauth tags the static environment keys it reads itself (without the SDK) the same way.
 */

/** The SDK's credential feature ids, most specific first, with what each means for a person. */
const SOURCES: readonly (readonly [string, string])[] = [
  ['CREDENTIALS_PROFILE_SSO', 'IAM Identity Center (SSO) profile'],
  ['CREDENTIALS_PROFILE_SSO_LEGACY', 'IAM Identity Center (SSO) profile, legacy sso_start_url form'],
  ['CREDENTIALS_SSO', 'IAM Identity Center (SSO)'],
  ['CREDENTIALS_SSO_LEGACY', 'IAM Identity Center (SSO), legacy form'],
  ['CREDENTIALS_PROFILE_LOGIN', 'profile with `aws login` credentials'],
  ['CREDENTIALS_LOGIN', '`aws login` credentials'],
  ['CREDENTIALS_PROFILE_STS_WEB_ID_TOKEN', 'profile with web_identity_token_file (AssumeRoleWithWebIdentity)'],
  ['CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN', 'web identity from AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (IRSA)'],
  ['CREDENTIALS_STS_ASSUME_ROLE_WEB_ID', 'AssumeRoleWithWebIdentity'],
  ['CREDENTIALS_PROFILE_SOURCE_PROFILE', 'profile with role_arn (AssumeRole from source_profile or credential_source)'],
  ['CREDENTIALS_PROFILE_NAMED_PROVIDER', 'profile with role_arn and credential_source'],
  ['CREDENTIALS_STS_ASSUME_ROLE', 'AssumeRole'],
  ['CREDENTIALS_PROFILE_PROCESS', 'profile with credential_process'],
  ['CREDENTIALS_PROCESS', 'credential_process'],
  ['CREDENTIALS_PROFILE', 'shared credentials/config file, static keys'],
  ['CREDENTIALS_ENV_VARS', 'environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)'],
  ['CREDENTIALS_HTTP', 'container credentials endpoint (ECS task role or EKS Pod Identity)'],
  ['CREDENTIALS_IMDS', 'EC2 instance metadata (instance profile)'],
  ['CREDENTIALS_CODE', 'credentials given in code'],
];

/** What was recorded about where credentials came from. */
export interface CredentialSource {
  /** The SDK's feature ids, as recorded (most specific first); empty when nothing was recorded. */
  ids: string[];
  /** For people: the most specific source, or a plain statement that none was recorded. */
  description: string;
}

import type { SourcedCredentials } from './credentials.js';

export type { SourcedCredentials };

/**
 * Reads the `$source` record of credentials.
 *
 * @example
 * ```ts
 * import { credentialSource } from './credential-source.js';
 * credentialSource({ accessKeyId: 'A', secretAccessKey: 'S', $source: { CREDENTIALS_PROFILE_SSO: 'r', CREDENTIALS_SSO: 's' } });
 * // { ids: ['CREDENTIALS_PROFILE_SSO', 'CREDENTIALS_SSO'], description: 'IAM Identity Center (SSO) profile' }
 * ```
 */
export function credentialSource(credentials: SourcedCredentials): CredentialSource {
  const recorded = Object.keys(credentials.$source ?? {});
  const known = SOURCES.filter(([id]) => recorded.includes(id));
  const ids = [...known.map(([id]) => id), ...recorded.filter((id) => !SOURCES.some(([known]) => known === id)).sort()];
  const description = known[0]?.[1] ?? (recorded.length > 0 ? `recorded as ${recorded.join(', ')}` : 'not recorded by the AWS SDK');
  return { ids, description };
}
