/**
 * `eksauth emulator --with-api-server`: the offline kit. Starts, until Ctrl+C, a local CA, the test API server (its
 * certificate signed by that CA), the STS/EKS emulator (its cluster's endpoint is that API server and its CA data that
 * CA, so `update-kubeconfig` against the emulator writes a working entry) and `eksauth server` on the user's mapping,
 * and writes a kubeconfig, so that `kubectl get namespaces` runs the whole chain with no AWS account.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseMappingFile } from '../authn/mapping/file/mapping-file.js';
import type { EmulatorCluster, EmulatorConfig } from '../emulator/config.js';
import { startEmulator } from '../emulator/server.js';
import { EksAuthError } from '../errors.js';
import { createCertificateAuthority } from '../server/tls.js';
import { startLocalCluster, writeKubeconfig, type KubeconfigUser } from './demo-chain.js';
import { DEMO_MAPPING } from './demo.js';

const run = promisify(execFile);
/** The cluster the kit serves when the configuration lists none. */
const DEFAULT_CLUSTER = { name: 'local', region: 'us-east-1' } as const;

export interface KitOptions {
  /** The identities, roles and clusters; its first cluster is the one the API server plays. */
  config: EmulatorConfig;
  /** aws-auth rows in the mapping-file form; default: the demo mapping. */
  mappingFile?: string;
  /** The kubeconfig to write (kubectl merges into an existing one). */
  kubeconfig: string;
  host: string;
  port: number;
  /** AssumeRole's credentials live at most this many seconds (EmulatorOptions.sessionLifetimeSeconds). */
  sessionLifetimeSeconds?: number;
}

export interface RunningKit {
  /** The emulator's URL, and the configuration it serves (its first cluster played by the API server). */
  emulator: { url: string; config: EmulatorConfig };
  /** What to print: the emulator's and the cluster's addresses, and the kubectl command to run. */
  summary: string;
  close(): Promise<void>;
}

/**
 * Starts the kit and writes the kubeconfig; the caller prints `summary` and closes it on a stop signal.
 *
 * @example
 * ```ts
 * const kit = await startKit({ config: DEMO_EMULATOR_CONFIG, kubeconfig: './kubeconfig', host: '127.0.0.1', port: 0 });
 * // kubectl --kubeconfig ./kubeconfig get namespaces
 * await kit.close();
 * ```
 * @throws EksAuthError ERR_INVALID_MAPPING for an unreadable or invalid mapping file, ERR_KUBECONFIG_INACCESSIBLE when kubectl
 *   cannot write the kubeconfig
 */
export async function startKit(options: KitOptions): Promise<RunningKit> {
  const mapping = readMapping(options.mappingFile);
  const ca = await createCertificateAuthority({ commonName: 'eksauth emulator local CA' });
  const tls = { ...(await ca.issue({ commonName: 'eksauth-kit-apiserver', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] })), caPem: ca.certPem };
  const cluster = await startLocalCluster(tls);
  const dir = mkdtempSync(join(tmpdir(), 'eksauth-kit-'));
  const stop = async (): Promise<void> => {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const served = servedCluster(options.config, cluster.api.url);
    const config = { ...options.config, clusters: [served, ...(options.config.clusters ?? []).slice(1)] };
    const { host, port, sessionLifetimeSeconds } = options;
    const emulator = await startEmulator(config, { host, port, certificateAuthority: ca, sessionLifetimeSeconds });
    const close = async (): Promise<void> => {
      await stop();
      await emulator.close();
    };
    try {
      const server = await cluster.connectWebhook({ clusterId: served.name, stsEndpoint: emulator.url, mapping: mapping.text, dir });
      const users = kubeconfigUsers(config, served, emulator.url);
      await writeKitKubeconfig(options.kubeconfig, { cluster: { name: served.name, server: cluster.api.url, caPem: ca.certPem }, users, dir });
      const summary = [
        `Test API server ${cluster.api.url}: cluster ${served.name} in ${served.region}, its certificate signed by the emulator's local CA`,
        `eksauth server ${server.url}: aws-auth from ${mapping.source}`,
        `Kubeconfig ${options.kubeconfig}: contexts ${users.map((user) => user.name).join(', ')} (current: ${users[0]?.name ?? ''})`,
        '',
        `  kubectl --kubeconfig ${options.kubeconfig} get namespaces`,
        `  kubectl --kubeconfig ${options.kubeconfig} auth whoami`,
        '',
      ].join('\n');
      return { emulator: { url: emulator.url, config }, summary, close };
    } catch (err) {
      await close();
      throw err;
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The configuration's first cluster (or `local`), served by the API server at `endpoint` with the local CA's data. */
function servedCluster(config: EmulatorConfig, endpoint: string): EmulatorCluster {
  const first: EmulatorCluster = config.clusters?.[0] ?? { ...DEFAULT_CLUSTER, endpoint };
  // No CA data of its own: the emulator then reports the local CA's, which signed the API server's certificate.
  return { ...first, endpoint, status: 'ACTIVE', certificateAuthorityData: undefined };
}

function readMapping(path: string | undefined): { text: string; source: string } {
  if (path === undefined) return { text: DEMO_MAPPING, source: 'the demo mapping (alice, and role eks-admin)' };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EksAuthError('ERR_INVALID_MAPPING', `Cannot read the mapping file ${path} (${(err as NodeJS.ErrnoException).code ?? 'read error'}); check the path given to --mapping.`, { cause: err });
  }
  parseMappingFile(text, path);
  return { text, source: path };
}

/**
 * A user and context per identity (its own keys), then one per role (assumed with the first identity's keys), each
 * running `eksauth token` against the emulator with the keys in the exec plugin's environment.
 */
function kubeconfigUsers(config: EmulatorConfig, cluster: EmulatorCluster, stsEndpoint: string): KubeconfigUser[] {
  const tokenArgs = ['token', '--cluster-name', cluster.name, '--region', cluster.region];
  const envOf = (identity: EmulatorConfig['identities'][number]): Record<string, string> => ({
    AWS_ACCESS_KEY_ID: identity.accessKeyId,
    AWS_SECRET_ACCESS_KEY: identity.secretAccessKey,
    ...(identity.sessionToken === undefined ? {} : { AWS_SESSION_TOKEN: identity.sessionToken }),
    AWS_ENDPOINT_URL_STS: stsEndpoint,
  });
  const identities = config.identities.map((identity) => ({ name: lastSegment(identity.arn), args: tokenArgs, env: envOf(identity) }));
  const [first] = config.identities;
  const roles = first === undefined ? [] : (config.roles ?? []).map((role) => ({
    name: lastSegment(role.arn),
    args: [...tokenArgs, '--role-arn', role.arn, ...(role.externalId === undefined ? [] : ['--external-id', role.externalId])],
    env: envOf(first),
  }));
  return [...identities, ...roles];
}

function lastSegment(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1).replace(/[^\w.@-]/g, '-') || arn;
}

/** Writes the entries with kubectl (demo-chain's writer), then makes the first user's context current. */
async function writeKitKubeconfig(path: string, options: Parameters<typeof writeKubeconfig>[1]): Promise<void> {
  const kubectl = async (args: string[]): Promise<unknown> => {
    try {
      return await run('kubectl', ['--kubeconfig', resolve(path), ...args]);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'kubectl is not on PATH; install kubectl' : ((err as { stderr?: string }).stderr ?? String(err)).trim().split('\n')[0];
      throw new EksAuthError('ERR_KUBECONFIG_INACCESSIBLE', `Could not write the kubeconfig ${path}: ${reason}.`, { cause: err });
    }
  };
  await writeKubeconfig(kubectl, options);
  const first = options.users[0];
  if (first !== undefined) await kubectl(['config', 'use-context', first.name]);
}
