import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Logger } from '@smithy/types';
import { EksAuthError } from '../errors.js';

export type { AwsCredentialIdentity, AwsCredentialIdentityProvider };

/**
 * Keeps temporary credentials between runs (eksauth token's disk cache, src/cache/refresh.ts); without one,
 * every run resolves its credentials afresh. `base` holds what the SDK chain produced for the caller, `role` the
 * result of `--role-arn`.
 */
export interface CredentialStore {
  /** Returns credentials kept for `slot` that are still good, or runs `load` and keeps its result when worth it. */
  reuse(slot: 'base' | 'role', load: () => Promise<AwsCredentialIdentity>): Promise<AwsCredentialIdentity>;
}

export interface BaseCredentialOptions {
  /** Profile from --profile or AWS_PROFILE. With a profile, static keys in the environment are not used (as the SDK does). */
  profile?: string;
  /** Given credentials or provider; skips the default chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /**
   * Whether a person can answer an MFA prompt (KUBERNETES_EXEC_INFO spec.interactive); when unknown, whether stdin
   * is a terminal, checked only if a prompt is needed (loading node:tty costs kubectl's every call ~2 ms).
   */
  interactive?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Where credentials from the SDK chain (SSO, assumed-role profiles, MFA) are kept between runs. */
  store?: CredentialStore;
}

// IMDS is the last source in the chain; off EC2 an unbounded probe stalls every kubectl call (aws-iam-authenticator#347).
const IMDS_TIMEOUT_MS = 1000;
const IMDS_MAX_RETRIES = 1;

// The SDK warns on stderr when AWS_PROFILE and static keys are both set; kubectl would show that on every call.
const quietLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Resolves the caller's own AWS credentials: the given ones, static keys from the environment when no profile is
 * named (no SDK code is loaded for that), or else the SDK's whole default chain (profiles, SSO, credential_process,
 * web identity, container / Pod Identity, IMDS).
 *
 * @example
 * ```ts
 * import { resolveBaseCredentials } from 'eksauth';
 * const credentials = await resolveBaseCredentials({ profile: 'prod' });
 * ```
 */
export async function resolveBaseCredentials(options: BaseCredentialOptions = {}): Promise<AwsCredentialIdentity> {
  const env = options.env ?? process.env;
  if (options.credentials !== undefined) {
    return typeof options.credentials === 'function' ? options.credentials() : options.credentials;
  }
  if (options.profile === undefined) {
    const fromEnvironment = staticEnvCredentials(env);
    if (fromEnvironment) return fromEnvironment;
  }
  if (options.store === undefined) return loadFromDefaultChain(options);
  return options.store.reuse('base', () => loadFromDefaultChain(options));
}

function staticEnvCredentials(env: NodeJS.ProcessEnv): AwsCredentialIdentity | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  const expiration = env.AWS_CREDENTIAL_EXPIRATION ? new Date(env.AWS_CREDENTIAL_EXPIRATION) : undefined;
  return {
    accessKeyId,
    secretAccessKey,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    ...(expiration && !Number.isNaN(expiration.getTime()) ? { expiration } : {}),
    // The SDK's own attribution for these (its fromEnv says the same), which `--debug` reports.
    $source: { CREDENTIALS_ENV_VARS: 'g' },
  } as AwsCredentialIdentity;
}

async function loadFromDefaultChain(options: BaseCredentialOptions): Promise<AwsCredentialIdentity> {
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  const provider = fromNodeProviderChain({
    ...(options.profile === undefined ? {} : { profile: options.profile }),
    logger: quietLogger,
    timeout: IMDS_TIMEOUT_MS,
    maxRetries: IMDS_MAX_RETRIES,
    mfaCodeProvider: (serial: string) => promptForMfaCode(serial, options),
  });
  try {
    return await provider();
  } catch (err) {
    throw explainCredentialFailure(err, options.profile);
  }
}

async function promptForMfaCode(serial: string, options: BaseCredentialOptions): Promise<string> {
  const interactive = options.interactive ?? (await import('node:tty')).isatty(0);
  if (!interactive) {
    throw new EksAuthError(
      'ERR_CREDENTIALS',
      `profile ${options.profile ?? 'default'} needs an MFA code for ${serial}, but eksauth is running without a terminal: ` +
        'set `interactiveMode: IfAvailable` (or Always) in the kubeconfig exec block, or run the same `eksauth token` ' +
        'command once in a terminal: the MFA session it opens is cached for the calls that follow',
    );
  }
  const { createInterface } = await import('node:readline/promises');
  // Prompts go to stderr: stdout belongs to the ExecCredential that kubectl parses.
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return (await rl.question(`MFA code for ${serial}: `)).trim();
  } finally {
    rl.close();
  }
}

const SOURCES_TRIED =
  'environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), shared files (~/.aws/credentials, ~/.aws/config), ' +
  'SSO, credential_process, web identity (AWS_WEB_IDENTITY_TOKEN_FILE), container / EKS Pod Identity, EC2 instance metadata';

/** Turns an SDK credential failure into an error that names the cause and the next step. */
export function explainCredentialFailure(err: unknown, profile: string | undefined): EksAuthError {
  if (err instanceof EksAuthError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const profileName = profile ?? 'default';
  if (/sso/i.test(message) && /(expired|refresh|sso login|invalid)/i.test(message)) {
    return new EksAuthError(
      'ERR_SSO_SESSION_EXPIRED',
      `the SSO session for profile ${profileName} has expired or is invalid: run \`aws sso login --profile ${profileName}\`, then retry`,
      { cause: err },
    );
  }
  if (/could not load credentials from any providers/i.test(message)) {
    const where = profile === undefined ? '' : ` for profile ${profile}`;
    return new EksAuthError(
      'ERR_NO_CREDENTIALS',
      `no AWS credentials found${where}; tried ${SOURCES_TRIED}. Configure them with \`aws configure\`, ` +
        '`aws sso login --profile NAME` or pass --profile',
      { cause: err },
    );
  }
  return new EksAuthError('ERR_CREDENTIALS', `could not load AWS credentials for profile ${profileName}: ${message}`, { cause: err });
}
