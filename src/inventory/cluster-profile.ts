/**
 * The controller side of kubernetes-sigs/cluster-inventory-api: a ClusterProfile's access providers and a providers
 * file, combined into the access for one cluster as the reference Go library (pkg/credentials) does — first provider
 * of the file that the profile offers, the deprecated `credentialProviders` read first and overridden by
 * `accessProviders`, the profile's extra args and env applied by the provider's policies.
 */
import { readFile } from 'node:fs/promises';
import { EksAuthError } from '../errors.js';
import type { ExecBlock } from '../client-node/exec-args.js';

/** `client.authentication.k8s.io/exec`: the cluster extension whose value reaches the plugin as spec.cluster.config. */
export const EXEC_EXTENSION = 'client.authentication.k8s.io/exec';
const ADDITIONAL_ARGS_EXTENSION = 'clusterprofiles.multicluster.x-k8s.io/exec/additional-args';
const ADDITIONAL_ENVS_EXTENSION = 'clusterprofiles.multicluster.x-k8s.io/exec/additional-envs';

/** A kubeconfig `Cluster` (v1, as JSON) inside an access provider. */
export interface ProfileCluster {
  server: string;
  'certificate-authority-data'?: string;
  'proxy-url'?: string;
  extensions?: { name: string; extension: unknown }[];
}

export interface AccessProvider {
  name: string;
  cluster: ProfileCluster;
}

/** The parts of a `multicluster.x-k8s.io/v1alpha1` ClusterProfile read here. */
export interface ClusterProfile {
  metadata?: { name?: string; namespace?: string };
  status?: { accessProviders?: AccessProvider[]; credentialProviders?: AccessProvider[] };
}

/** An exec plugin, as the providers file gives it (a client-go ExecConfig). */
export interface ExecConfig extends ExecBlock {
  command: string;
  apiVersion?: string;
  provideClusterInfo?: boolean;
  interactiveMode?: string;
}

export interface CredentialProvider {
  name: string;
  execConfig: ExecConfig;
  profileSourcedCLIArgsPolicy?: 'Append' | 'Ignore';
  profileSourcedEnvVarsPolicy?: 'AppendIfNotExists' | 'Replace' | 'Ignore';
}

/** `{"providers":[{name, execConfig}]}`, the file a controller's `--clusterprofile-provider-file` names. */
export interface ProvidersFile {
  providers: CredentialProvider[];
}

/** How to reach one cluster: its endpoint and CA, and the plugin (with the profile's args and env) that authenticates. */
export interface ClusterAccess {
  /** The ClusterProfile's name. */
  name: string;
  provider: string;
  server: string;
  /** Base64 PEM, as in a kubeconfig. */
  certificateAuthorityData?: string;
  proxyUrl?: string;
  exec: ExecConfig;
  /** The value of the cluster's `client.authentication.k8s.io/exec` extension (spec.cluster.config for the plugin). */
  execClusterConfig?: unknown;
}

/**
 * Reads a providers file's text.
 *
 * @example
 * ```ts
 * import { parseProvidersFile } from 'eksauth/inventory';
 * const { providers } = parseProvidersFile('{"providers":[{"name":"eks","execConfig":{"command":"eksauth","args":["token"],"provideClusterInfo":true}}]}');
 * console.log(providers.map((provider) => provider.name)); // → [ 'eks' ]
 * ```
 * @throws EksAuthError ERR_INVALID_CONFIG, naming what is wrong
 */
export function parseProvidersFile(text: string, where = 'the providers file'): ProvidersFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new EksAuthError('ERR_INVALID_CONFIG', `${where} is not JSON (${(err as Error).message}): write {"providers":[{"name":…,"execConfig":{…}}]}`);
  }
  const providers = (parsed as { providers?: unknown } | null)?.providers;
  if (!Array.isArray(providers)) throw new EksAuthError('ERR_INVALID_CONFIG', `${where} has no "providers" list: write {"providers":[…]}`);
  providers.forEach((provider: Partial<CredentialProvider>, i) => {
    if (typeof provider?.name !== 'string' || typeof provider.execConfig?.command !== 'string') {
      throw new EksAuthError('ERR_INVALID_CONFIG', `${where}: providers[${i}] needs a "name" and an "execConfig" with a "command"`);
    }
  });
  return { providers: providers as CredentialProvider[] };
}

/**
 * Reads a providers file from disk.
 *
 * @example
 * ```ts
 * import { loadProvidersFile } from 'eksauth/inventory';
 * const { providers } = await loadProvidersFile('providers.json'); // the controller's --clusterprofile-provider-file
 * console.log(providers.map((provider) => provider.name)); // → [ 'gke', 'eks' ]
 * ```
 */
export async function loadProvidersFile(path: string): Promise<ProvidersFile> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new EksAuthError('ERR_INVALID_CONFIG', `cannot read the providers file ${path} (${err.code ?? err.message}): check the path`);
  });
  return parseProvidersFile(text, path);
}

/**
 * The access to a ClusterProfile's cluster through the first provider of `providers` that the profile offers.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { clusterAccess, loadProvidersFile } from 'eksauth/inventory';
 * const profile = JSON.parse(await readFile('cluster-profile.json', 'utf8')); // a controller lists them from its hub cluster
 * const access = clusterAccess(profile, await loadProvidersFile('providers.json'));
 * console.log(access.provider, access.exec.command, access.server); // → eks eksauth https://127.0.0.1:…
 * ```
 * @throws EksAuthError ERR_INVALID_CONFIG when the profile offers none of the providers, or an extension is malformed
 */
export function clusterAccess(profile: ClusterProfile, providers: ProvidersFile): ClusterAccess {
  const name = profile.metadata?.name ?? '(unnamed)';
  const offered = new Map<string, AccessProvider>();
  for (const accessor of [...(profile.status?.credentialProviders ?? []), ...(profile.status?.accessProviders ?? [])]) offered.set(accessor.name, accessor);
  const provider = providers.providers.find((candidate) => offered.has(candidate.name));
  if (provider === undefined) {
    throw new EksAuthError(
      'ERR_INVALID_CONFIG',
      `ClusterProfile ${name} offers none of the providers of the providers file (offers: ${[...offered.keys()].join(', ') || 'none'}): add one of them to the file`,
    );
  }
  const { cluster } = offered.get(provider.name)!;
  const exec: ExecConfig = { ...provider.execConfig, args: [...(provider.execConfig.args ?? [])], env: [...(provider.execConfig.env ?? [])], interactiveMode: 'Never' };
  const extension = (key: string) => cluster.extensions?.find((ext) => ext.name === key)?.extension;
  applyArgs(exec, extension(ADDITIONAL_ARGS_EXTENSION), provider.profileSourcedCLIArgsPolicy, name);
  applyEnv(exec, extension(ADDITIONAL_ENVS_EXTENSION), provider.profileSourcedEnvVarsPolicy, name);
  const execClusterConfig = extension(EXEC_EXTENSION);
  return {
    name,
    provider: provider.name,
    server: cluster.server,
    ...(cluster['certificate-authority-data'] === undefined ? {} : { certificateAuthorityData: cluster['certificate-authority-data'] }),
    ...(cluster['proxy-url'] ? { proxyUrl: cluster['proxy-url'] } : {}),
    exec,
    ...(execClusterConfig === undefined ? {} : { execClusterConfig }),
  };
}

function applyArgs(exec: ExecConfig, value: unknown, policy: CredentialProvider['profileSourcedCLIArgsPolicy'], profile: string): void {
  if (value === undefined || policy === undefined || policy === 'Ignore') return;
  if (policy !== 'Append') throw new EksAuthError('ERR_INVALID_CONFIG', `unsupported profileSourcedCLIArgsPolicy "${String(policy)}": use Append or Ignore`);
  if (!Array.isArray(value) || !value.every((arg) => typeof arg === 'string')) {
    throw new EksAuthError('ERR_INVALID_CONFIG', `ClusterProfile ${profile}: the additional-args extension must be a list of strings`);
  }
  exec.args = [...(exec.args ?? []), ...value];
}

function applyEnv(exec: ExecConfig, value: unknown, policy: CredentialProvider['profileSourcedEnvVarsPolicy'], profile: string): void {
  if (value === undefined || policy === undefined || policy === 'Ignore') return;
  if (policy !== 'AppendIfNotExists' && policy !== 'Replace') {
    throw new EksAuthError('ERR_INVALID_CONFIG', `unsupported profileSourcedEnvVarsPolicy "${String(policy)}": use AppendIfNotExists, Replace or Ignore`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new EksAuthError('ERR_INVALID_CONFIG', `ClusterProfile ${profile}: the additional-envs extension must map names to strings`);
  }
  const own = Object.fromEntries((exec.env ?? []).map(({ name, value: v }) => [name, v]));
  // AppendIfNotExists: the provider's own values win; Replace: the profile's do.
  const merged = policy === 'Replace' ? { ...own, ...(value as Record<string, string>) } : { ...(value as Record<string, string>), ...own };
  exec.env = Object.entries(merged).map(([name, v]) => ({ name, value: v }));
}
