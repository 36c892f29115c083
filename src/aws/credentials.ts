import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Logger } from '@smithy/types';
import { EksAuthError } from '../errors.js';
import { DEFAULT_TIMEOUTS, explainNetworkFailure, lazyRequestHandler, type NetworkOptions } from './network.js';

export type { AwsCredentialIdentity, AwsCredentialIdentityProvider };

/** Credentials as the SDK returns them: with the `$source` record of the providers that made them. */
export type SourcedCredentials = AwsCredentialIdentity & { $source?: Record<string, string> };

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
  /**
   * Proxy, CA bundle and timeouts for the chain's own AWS calls (SSO, SSO OIDC, web identity and assumed-role
   * profiles' STS); default: the proxy variables of the environment. IMDS and the container endpoint are local
   * addresses and are never proxied.
   */
  network?: NetworkOptions;
  /** Clock, for tests: credentials that expire at or before it are refused (ERR_CREDENTIALS_EXPIRED). */
  now?: () => Date;
}

// IMDS is the last source in the chain; off EC2 an unbounded probe stalls every kubectl call (aws-iam-authenticator#347).
const IMDS_TIMEOUT_MS = 1000;
const IMDS_MAX_RETRIES = 1;

/**
 * The SDK warns on stderr when AWS_PROFILE and static keys are both set; kubectl would show that on every call, so
 * nothing is printed. Its debug lines are kept instead: they hold why each provider of the chain passed, which the
 * chain's final "could not load credentials" drops (an expired credential_process answer among them).
 */
function quietLogger(): Logger & { notes: string[] } {
  const notes: string[] = [];
  return { notes, debug: (...parts: unknown[]) => notes.push(parts.map(String).join(' ')), info() {}, warn() {}, error() {} };
}

/**
 * Resolves the caller's own AWS credentials: the given ones, static keys from the environment when no profile is
 * named (no SDK code is loaded for that), or else the SDK's whole default chain (profiles, SSO, credential_process,
 * web identity, container / Pod Identity, IMDS).
 *
 * @example
 * ```ts
 * import { resolveBaseCredentials } from './credentials.js';
 * const credentials = await resolveBaseCredentials({ profile: 'prod' });
 * ```
 */
export async function resolveBaseCredentials(options: BaseCredentialOptions = {}): Promise<AwsCredentialIdentity> {
  const env = options.env ?? process.env;
  if (options.credentials !== undefined) {
    return typeof options.credentials === 'function' ? options.credentials() : options.credentials;
  }
  if (options.profile === undefined) {
    const fromEnvironment = staticEnvCredentials(env, options.now ?? (() => new Date()));
    if (fromEnvironment) return fromEnvironment;
  }
  if (options.store === undefined) return loadFromDefaultChain(options);
  return options.store.reuse('base', () => loadFromDefaultChain(options));
}

function staticEnvCredentials(env: NodeJS.ProcessEnv, now: () => Date): SourcedCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  const expiration = env.AWS_CREDENTIAL_EXPIRATION ? new Date(env.AWS_CREDENTIAL_EXPIRATION) : undefined;
  // The SDK's own environment provider passes such credentials on; botocore refuses them, and so does eksauth.
  if (expiration !== undefined && expiration.getTime() <= now().getTime()) {
    throw new EksAuthError(
      'ERR_CREDENTIALS_EXPIRED',
      `AWS_CREDENTIAL_EXPIRATION (${env.AWS_CREDENTIAL_EXPIRATION}) is in the past: the session credentials in ` +
        'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN have expired; refresh the credentials in your ' +
        'environment (or unset them and use a profile)',
    );
  }
  return {
    accessKeyId,
    secretAccessKey,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    ...(expiration && !Number.isNaN(expiration.getTime()) ? { expiration } : {}),
    // Recorded the way the SDK's own environment provider records it (see credential-source.ts).
    $source: { CREDENTIALS_ENV_VARS: 'g' },
  };
}

async function loadFromDefaultChain(options: BaseCredentialOptions): Promise<AwsCredentialIdentity> {
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  const logger = quietLogger();
  const provider = fromNodeProviderChain({
    ...(options.profile === undefined ? {} : { profile: options.profile }),
    logger,
    timeout: IMDS_TIMEOUT_MS,
    maxRetries: IMDS_MAX_RETRIES,
    mfaCodeProvider: (serial: string) => promptForMfaCode(serial, options),
    // Passed on to the chain's inner clients (STS for roles and web identity, SSO, SSO OIDC).
    clientConfig: { requestHandler: lazyRequestHandler(options.network ?? {}, DEFAULT_TIMEOUTS) },
  });
  let credentials: AwsCredentialIdentity;
  try {
    credentials = await provider();
  } catch (err) {
    const what = `loading AWS credentials for profile ${options.profile ?? 'default'}`;
    throw explainNetworkFailure(err, what, options.network) ?? explainCredentialFailure(err, options.profile, logger.notes);
  }
  assertUnexpired(credentials, (options.now ?? (() => new Date()))(), (at) => chainExpiryText(credentials, options.profile, at));
  return credentials;
}

/**
 * Throws ERR_CREDENTIALS_EXPIRED when `credentials` carry an expiry at or before `now`, as botocore refuses
 * ("the refreshed credentials are still expired"): STS would reject a token signed with them, and kubectl would show
 * a bare 401. `explain` gets the expiry time and says where the credentials came from and how to refresh them; it
 * runs only on failure.
 *
 * @example
 * ```ts
 * import { assertUnexpired } from './credentials.js';
 * assertUnexpired(credentials, new Date(), (at) => `the credentials given to getToken expired at ${at}: pass fresh ones`);
 * ```
 */
export function assertUnexpired(credentials: AwsCredentialIdentity, now: Date, explain: (expiredAt: string) => string): void {
  const expiration = credentials.expiration;
  if (expiration === undefined || expiration.getTime() > now.getTime()) return;
  throw new EksAuthError('ERR_CREDENTIALS_EXPIRED', explain(expiration.toISOString()));
}

// What the SDK marks on credentials it found (`$source`, its user-agent feature ids), for the user to recognise.
const CHAIN_SOURCES: readonly [RegExp, string][] = [
  [/PROCESS/, 'credential_process'],
  [/SSO/, 'SSO'],
  [/WEB_ID/, 'web identity (AWS_WEB_IDENTITY_TOKEN_FILE)'],
  [/HTTP/, 'the container credentials endpoint'],
  [/IMDS/, 'EC2 instance metadata'],
  [/ENV_VARS/, 'the environment'],
];

function chainExpiryText(credentials: AwsCredentialIdentity, profile: string | undefined, expiredAt: string): string {
  const features = Object.keys((credentials as { $source?: Record<string, unknown> }).$source ?? {}).join(' ');
  const source = CHAIN_SOURCES.find(([pattern]) => pattern.test(features))?.[1] ?? 'the AWS SDK credential chain';
  return `${source} for profile ${profile ?? 'default'} returned credentials that expired at ${expiredAt}: refresh them at their source, then retry`;
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

/**
 * Turns an SDK credential failure into an error that names the cause and the next step. `notes` are the chain's
 * debug lines (see quietLogger): a provider's own failure, when the chain's final error hides it.
 */
export function explainCredentialFailure(err: unknown, profile: string | undefined, notes: readonly string[] = []): EksAuthError {
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
  // fromProcess refuses an answer whose Expiration has passed, and the chain then moves on and reports that it found
  // nothing; the SDK's own message names neither the time nor a remedy.
  if ([message, ...notes].some((line) => /credential_process returned expired credentials/i.test(line))) {
    return new EksAuthError(
      'ERR_CREDENTIALS_EXPIRED',
      `credential_process for profile ${profileName} returned credentials whose Expiration has passed: fix the command ` +
        '(or refresh whatever it reads, e.g. its own cache or login), then retry',
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
