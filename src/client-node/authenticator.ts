import type { KubeConfig, User } from '@kubernetes/client-node';
import { createTokenProvider, type TokenProvider, type TokenProviderOptions } from '../api/token.js';
import { parseTokenExec, type ExecTokenTarget } from './exec-args.js';

/** client-node's Authenticator interface (the same in 1.x and 2.x), which its package root does not export by name. */
export type Authenticator = Parameters<KubeConfig['addAuthenticator']>[0];

/** The `auth-provider` name under which a kubeconfig user is served by this library. */
export const AUTH_PROVIDER_NAME = 'eksauth';

/** Options every user served by the authenticator shares; what a user's exec block or entry says comes first. */
export type EksAuthenticatorOptions = Omit<TokenProviderOptions, 'clusterName' | 'clusterId'>;

/** A client-node Authenticator that signs EKS tokens in this process, with one cached provider per cluster and role. */
export interface EksAuthenticator extends Authenticator {
  /** The providers made so far, one per distinct target: to count or invalidate them. */
  readonly providers: ReadonlyMap<string, TokenProvider>;
}

/**
 * An Authenticator for `KubeConfig#addAuthenticator`: users whose `auth-provider` is `eksauth` (see
 * {@link useEksAuthenticator}) or whose exec block runs `eksauth token`, `aws eks get-token` or
 * `aws-iam-authenticator token` get a token signed here, from a provider that caches it until a minute before expiry.
 *
 * @example
 * ```ts
 * import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
 * import { createEksAuthenticator, useEksAuthenticator } from 'eksauth/client-node';
 * const authenticator = createEksAuthenticator({ refreshMarginMs: 120_000 }); // re-sign 2 minutes before expiry
 * const kc = new KubeConfig();
 * kc.loadFromDefault();
 * useEksAuthenticator(kc, authenticator);
 * await kc.makeApiClient(CoreV1Api).listNamespace();
 * console.log(authenticator.providers.size); // → 1
 * ```
 */
export function createEksAuthenticator(options: EksAuthenticatorOptions = {}): EksAuthenticator {
  const providers = new Map<string, TokenProvider>();
  const providerFor = (target: ExecTokenTarget): TokenProvider => {
    const key = JSON.stringify(target);
    let provider = providers.get(key);
    if (provider === undefined) {
      const { env, ...named } = target;
      const baseEnv = options.env ?? process.env;
      provider = createTokenProvider({ ...options, ...named, env: Object.keys(env).length === 0 ? baseEnv : { ...baseEnv, ...env } });
      providers.set(key, provider);
    }
    return provider;
  };
  return {
    providers,
    isAuthProvider: (user: User) => targetOf(user) !== undefined,
    async applyAuthentication(user: User, opts: Parameters<Authenticator['applyAuthentication']>[1]) {
      const target = targetOf(user);
      if (target === undefined) return;
      const { token } = await providerFor(target).getToken();
      opts.headers = { ...opts.headers, Authorization: `Bearer ${token}` };
    },
  };
}

/**
 * Serves a KubeConfig's EKS users in process: adds `authenticator` and turns each user whose exec block runs an EKS
 * token command into an `eksauth` auth-provider user. The rewrite is needed because client-node asks its own exec
 * support before any added authenticator, so an exec user would otherwise still spawn a process per token. Other
 * users are left as they are. Returns how many users were switched.
 *
 * @example
 * ```ts
 * import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
 * import { createEksAuthenticator, useEksAuthenticator } from 'eksauth/client-node';
 * const kc = new KubeConfig();
 * kc.loadFromDefault(); // say, written by `aws eks update-kubeconfig` or `eksauth update-kubeconfig`
 * console.log(useEksAuthenticator(kc, createEksAuthenticator())); // → 1
 * const { items } = await kc.makeApiClient(CoreV1Api).listNamespace(); // no process spawned
 * console.log(items.map((namespace) => namespace.metadata?.name)); // → [ 'default' ]
 * ```
 */
export function useEksAuthenticator(kc: KubeConfig, authenticator: EksAuthenticator): number {
  kc.addAuthenticator(authenticator);
  let switched = 0;
  kc.users = kc.users.map((user) => {
    const target = user.exec ? parseTokenExec(user.exec as Parameters<typeof parseTokenExec>[0]) : undefined;
    if (target === undefined) return user;
    switched += 1;
    const { exec: _exec, ...rest } = user;
    return { ...rest, authProvider: { name: AUTH_PROVIDER_NAME, config: targetConfig(target) } };
  });
  return switched;
}

/** A target as an auth-provider `config` (a map of strings, as kubeconfig files hold it). */
export function targetConfig(target: ExecTokenTarget): Record<string, string> {
  const { env, ...named } = target;
  return { ...(named as Record<string, string>), ...(Object.keys(env).length === 0 ? {} : { env: JSON.stringify(env) }) };
}

function targetOf(user: User): ExecTokenTarget | undefined {
  const provider = user.authProvider as { name?: string; config?: Record<string, string> } | undefined;
  if (provider?.name === AUTH_PROVIDER_NAME) {
    const { env, ...named } = provider.config ?? {};
    return { ...named, env: env === undefined ? {} : (JSON.parse(env) as Record<string, string>) };
  }
  return user.exec ? parseTokenExec(user.exec as Parameters<typeof parseTokenExec>[0]) : undefined;
}
