import type { AwsCredentialIdentity } from '@smithy/types';
import { EksAuthError } from '../errors.js';
import { DEFAULT_TIMEOUTS, explainNetworkFailure, lazyRequestHandler, type NetworkOptions } from './network.js';

/** The session name `aws eks get-token --role-arn` uses; audit logs and `{{SessionName}}` mappings see it. */
export const DEFAULT_ROLE_SESSION_NAME = 'EKSGetTokenAuth';

const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const SESSION_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/;

export interface AssumeRoleOptions {
  roleArn: string;
  sessionName?: string;
  externalId?: string;
  /** Region of the STS client; AWS_ENDPOINT_URL_STS (or the profile's endpoint_url) still overrides its endpoint. */
  region: string;
  /** Proxy, CA bundle and timeouts of the STS call; default: the proxy variables of the environment. */
  network?: NetworkOptions;
}

/** Throws ERR_INVALID_ROLE_ARN unless `roleArn` is an IAM role ARN. */
export function assertRoleArn(roleArn: string): void {
  if (ROLE_ARN_PATTERN.test(roleArn)) return;
  throw new EksAuthError(
    'ERR_INVALID_ROLE_ARN',
    `"${roleArn}" is not an IAM role ARN; give one such as arn:aws:iam::123456789012:role/eks-admin`,
  );
}

/** Throws ERR_USAGE unless `name` is a valid STS role session name. */
export function assertSessionName(name: string): void {
  if (SESSION_NAME_PATTERN.test(name)) return;
  throw new EksAuthError(
    'ERR_USAGE',
    `"${name}" is not a valid role session name: use 2 to 64 letters, digits or the characters +=,.@_-`,
  );
}

/**
 * Exchanges `source` credentials for a role's temporary credentials through STS AssumeRole.
 *
 * @example
 * ```ts
 * import { assumeRole } from './assume-role.js';
 * import { resolveBaseCredentials } from './credentials.js';
 * const base = await resolveBaseCredentials();
 * const role = await assumeRole(base, { roleArn: 'arn:aws:iam::111122223333:role/eks-admin', region: 'eu-west-1' });
 * ```
 */
export async function assumeRole(source: AwsCredentialIdentity, options: AssumeRoleOptions): Promise<AwsCredentialIdentity> {
  assertRoleArn(options.roleArn);
  const sessionName = options.sessionName ?? DEFAULT_ROLE_SESSION_NAME;
  assertSessionName(sessionName);
  const { fromTemporaryCredentials } = await import('@aws-sdk/credential-providers');
  const provider = fromTemporaryCredentials({
    masterCredentials: source,
    params: {
      RoleArn: options.roleArn,
      RoleSessionName: sessionName,
      ...(options.externalId === undefined ? {} : { ExternalId: options.externalId }),
    },
    clientConfig: { region: options.region, maxAttempts: 2, requestHandler: lazyRequestHandler(options.network ?? {}, DEFAULT_TIMEOUTS) },
  });
  try {
    return await provider();
  } catch (err) {
    throw explainNetworkFailure(err, `STS AssumeRole of ${options.roleArn}`, options.network) ?? explainAssumeRoleFailure(err, options.roleArn);
  }
}

function explainAssumeRoleFailure(err: unknown, roleArn: string): EksAuthError {
  if (err instanceof EksAuthError) return err;
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'AccessDenied' || name === 'AccessDeniedException') {
    return new EksAuthError(
      'ERR_ASSUME_ROLE_DENIED',
      `STS refused to let you assume ${roleArn}: ${message}. Check that the role's trust policy allows your identity ` +
        '(and the --external-id, if the policy requires one)',
      { cause: err },
    );
  }
  if (name === 'InvalidClientTokenId' || name === 'SignatureDoesNotMatch' || name === 'ExpiredToken') {
    return new EksAuthError(
      'ERR_ASSUME_ROLE_FAILED',
      `STS rejected the credentials used to assume ${roleArn} (${name}: ${message}); refresh them (e.g. \`aws sso login\`) and retry`,
      { cause: err },
    );
  }
  return new EksAuthError('ERR_ASSUME_ROLE_FAILED', `could not assume ${roleArn}: ${name ? `${name}: ` : ''}${message}`, { cause: err });
}
