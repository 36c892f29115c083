/**
 * Writes kubeconfig files for the test API server, with a static token or an exec plugin as the user.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { tempDir } from './tools.js';

/** Name of the cluster extension client-go hands to exec plugins as `spec.cluster.config`. */
export const EXEC_CLUSTER_EXTENSION = 'client.authentication.k8s.io/exec';

/** `users[].user.exec` as clientcmd v1 reads it. Omitted fields are left out of the file. */
export interface ExecUserConfig {
  command: string;
  args?: string[];
  /** A map is written as clientcmd's `[{name, value}]` list. */
  env?: Record<string, string> | { name: string; value: string }[];
  /** Default `client.authentication.k8s.io/v1beta1`; pass `null` to leave it out (to test client-go's validation). */
  apiVersion?: string | null;
  /** `Never`, `IfAvailable` or `Always`; any other string is written as given (to test client-go's validation). */
  interactiveMode?: string;
  provideClusterInfo?: boolean;
  installHint?: string;
}

export type KubeconfigUser =
  | { token: string }
  | { exec: ExecUserConfig }
  /** Written as given, for shapes the helpers do not model. */
  | { raw: Record<string, unknown> };

export interface KubeconfigOptions {
  /** `https://127.0.0.1:<port>`, e.g. `TestApiServer.url`. */
  server: string;
  /** PEM the client trusts, e.g. `TestApiServer.caPem`; written as `certificate-authority-data`. */
  caPem: string;
  user: KubeconfigUser;
  /** The `client.authentication.k8s.io/exec` cluster extension (a ClusterProfile access provider's config). */
  execExtension?: Record<string, unknown>;
  /** Where to write; default `<new temp dir>/kubeconfig`. */
  path?: string;
  /** Cluster, user and context name; default `test`. */
  name?: string;
}

/** Builds the kubeconfig document (a plain object) without writing it. */
export function buildKubeconfig(options: KubeconfigOptions): Record<string, unknown> {
  const name = options.name ?? 'test';
  const cluster: Record<string, unknown> = {
    server: options.server,
    'certificate-authority-data': Buffer.from(options.caPem, 'utf8').toString('base64'),
  };
  if (options.execExtension !== undefined) {
    cluster.extensions = [{ name: EXEC_CLUSTER_EXTENSION, extension: options.execExtension }];
  }
  return {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [{ name, cluster }],
    users: [{ name, user: userBlock(options.user) }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
  };
}

/**
 * Writes a kubeconfig and returns its path.
 *
 * @example
 * const path = await writeKubeconfig({
 *   server: api.url, caPem: api.caPem,
 *   user: { exec: { command: 'eksauth', args: ['token', '--cluster-name', 'c1'], interactiveMode: 'Never' } },
 * });
 */
export async function writeKubeconfig(options: KubeconfigOptions): Promise<string> {
  const path = options.path ?? join(tempDir('eksauth-kubeconfig-'), 'kubeconfig');
  await writeFile(path, stringify(buildKubeconfig(options)), { mode: 0o600 });
  return path;
}

function userBlock(user: KubeconfigUser): Record<string, unknown> {
  if ('token' in user) return { token: user.token };
  if ('raw' in user) return user.raw;
  return { exec: execBlock(user.exec) };
}

function execBlock(exec: ExecUserConfig): Record<string, unknown> {
  const block: Record<string, unknown> = {};
  if (exec.apiVersion !== null) block.apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1beta1';
  block.command = exec.command;
  if (exec.args !== undefined) block.args = exec.args;
  if (exec.env !== undefined) {
    block.env = Array.isArray(exec.env) ? exec.env : Object.entries(exec.env).map(([name, value]) => ({ name, value }));
  }
  if (exec.interactiveMode !== undefined) block.interactiveMode = exec.interactiveMode;
  if (exec.provideClusterInfo !== undefined) block.provideClusterInfo = exec.provideClusterInfo;
  if (exec.installHint !== undefined) block.installHint = exec.installHint;
  return block;
}
