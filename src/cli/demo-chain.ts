/**
 * The `eksauth demo` section that runs the whole chain as a cluster does: kubectl runs `eksauth token`, the test API
 * server sends a TokenReview for the token to `eksauth server` (its webhook kubeconfig, as kube-apiserver's
 * `--authentication-token-webhook-config-file`), the server asks the STS emulator who signed it and maps the identity
 * from the aws-auth ConfigMap it watches, and `kubectl auth whoami` prints the mapped user. `eksauth emulator
 * --with-api-server` (src/cli/kit.ts) starts the same local cluster and kubeconfig and leaves them running.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import type { Emulator } from '../emulator/server.js';
import { startServer, type RunningServer } from '../server/run.js';
import { startTestApiServer, type BearerAuthenticator, type TestApiServer } from '../testbed/apiserver.js';
import { webhookAuthenticator } from '../testbed/webhook-client.js';
import { selfCommand } from './self.js';

const run = promisify(execFile);
const SERVICE_ACCOUNT_TOKEN = 'eksauth-demo-service-account';

export interface WholeChainOptions {
  emulator: Emulator;
  cluster: string;
  region: string;
  /** aws-auth rows in the mapping-file form (`mapUsers:` and `mapRoles:` lists). */
  mapping: string;
  /** Credentials for `eksauth token`, and the STS endpoint it assumes roles at. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Run `eksauth token` also with `--role-arn` this role. */
  roleArn?: string;
}

/**
 * Runs the chain and prints what `kubectl auth whoami` says, then edits aws-auth and shows the change applied without a
 * restart. Skips the kubectl part, saying why, when kubectl is not installed.
 *
 * @example
 * ```ts
 * await showWholeChain({ emulator, cluster: 'demo-cluster', region: 'eu-west-1', mapping, credentials: alice });
 * ```
 */
export async function showWholeChain(options: WholeChainOptions): Promise<void> {
  say('The whole chain: kubectl → eksauth token → API server → TokenReview → eksauth server → STS');
  const kubectlVersion = await run('kubectl', ['version', '--client', '-o', 'json']).catch(() => undefined);
  if (kubectlVersion === undefined) {
    say('  skipped: kubectl is not installed (it runs `eksauth token` and prints the user); install it to see this part\n');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'eksauth-demo-'));
  const cluster = await startLocalCluster();
  try {
    const server = await cluster.connectWebhook({ clusterId: options.cluster, stsEndpoint: options.emulator.url, mapping: options.mapping, dir });
    say(`  eksauth server: ${server.url} (webhook kubeconfig ${server.kubeconfigPath ?? ''}), aws-auth from the API server`);
    say(`  API server:     ${cluster.api.url}, --authentication-token-webhook-version=v1\n`);
    await runKubectl(options, cluster, dir);
  } finally {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A local cluster: the test API server, and once connected the `eksauth server` webhook that authenticates for it. */
export interface LocalCluster {
  api: TestApiServer;
  /** Starts `eksauth server` on the aws-auth rows and makes the API server send it its TokenReviews. */
  connectWebhook(options: WebhookOptions): Promise<RunningServer>;
  /** Replaces the aws-auth rows; the webhook's watch applies them without a restart. */
  setMapping(mapping: string): void;
  close(): Promise<void>;
}

export interface WebhookOptions {
  clusterId: string;
  /** The STS endpoint the webhook asks who signed a token: the emulator's URL. */
  stsEndpoint: string;
  /** aws-auth rows in the mapping-file form (`mapUsers:` and `mapRoles:` lists). */
  mapping: string;
  /** Where the webhook keeps its certificate and kubeconfig. */
  dir: string;
}

/**
 * Starts the API server first (the emulator may report its URL as a cluster endpoint); the webhook, which needs the
 * emulator's URL, connects after.
 *
 * @example
 * ```ts
 * const cluster = await startLocalCluster();
 * await cluster.connectWebhook({ clusterId: 'prod', stsEndpoint: emulator.url, mapping, dir });
 * // kubectl against cluster.api.url, trusting cluster.api.caPem
 * await cluster.close();
 * ```
 */
export async function startLocalCluster(tls?: { certPem: string; keyPem: string; caPem: string }): Promise<LocalCluster> {
  // The webhook's informer reads aws-auth from the API server; the authenticator is set once the webhook has written
  // its kubeconfig.
  let authenticate: BearerAuthenticator = async () => undefined;
  const api = await startTestApiServer({
    authenticate: (token) => authenticate(token),
    staticTokens: { [SERVICE_ACCOUNT_TOKEN]: { username: 'system:serviceaccount:kube-system:eksauth' } },
    ...(tls ? { tls } : {}),
  });
  let server: RunningServer | undefined;
  const setMapping = (mapping: string): void => {
    api.configMaps.put('kube-system', 'aws-auth', awsAuthData(mapping));
  };
  return {
    api,
    setMapping,
    async connectWebhook(options) {
      setMapping(options.mapping);
      const kubeconfigPath = join(options.dir, 'webhook-kubeconfig.yaml');
      server = await startServer({
        clusterId: options.clusterId, port: 0, opsPort: null, stateDir: join(options.dir, 'state'), backendMode: ['EKSConfigMap'],
        stsEndpoint: options.stsEndpoint, generateKubeconfig: kubeconfigPath, logLevel: 'error',
      }, { kubernetes: { server: api.url, caPem: api.caPem, token: SERVICE_ACCOUNT_TOKEN }, logDestination: process.stderr });
      authenticate = webhookAuthenticator({ kubeconfigPath, version: 'v1' });
      return server;
    },
    async close() {
      await server?.close();
      await api.close();
    },
  };
}

async function runKubectl(options: WholeChainOptions, cluster: LocalCluster, dir: string): Promise<void> {
  const kubeconfig = join(dir, 'kubeconfig');
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    AWS_ACCESS_KEY_ID: options.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: options.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_STS: options.emulator.url,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const kubectl = (args: string[]) => run('kubectl', ['--kubeconfig', kubeconfig, ...args], { env });
  const tokenArgs = ['token', '--cluster-name', options.cluster, '--region', options.region];
  await writeKubeconfig(kubectl, {
    cluster: { name: 'demo', server: cluster.api.url, caPem: cluster.api.caPem },
    users: [
      { name: 'demo', args: tokenArgs },
      ...(options.roleArn ? [{ name: 'demo-admin', args: [...tokenArgs, '--role-arn', options.roleArn] }] : []),
    ],
    dir,
  });
  const contexts = [{ context: 'demo', label: 'as the user' }, ...(options.roleArn ? [{ context: 'demo-admin', label: `assuming ${options.roleArn}` }] : [])];
  for (const { context, label } of contexts) {
    say(`$ kubectl --context ${context} auth whoami    # ${label}`);
    say(indent((await kubectl(['--context', context, 'auth', 'whoami'])).stdout));
  }
  const renamed = options.mapping.includes('username: alice') ? 'alice-renamed' : undefined;
  if (renamed === undefined) return;
  cluster.setMapping(options.mapping.replace('username: alice', `username: ${renamed}`));
  say(`Edited aws-auth (alice → ${renamed}); the running server picks it up from its watch:`);
  say(`$ kubectl --context demo auth whoami`);
  say(indent(await untilUsername(kubectl, renamed)));
}

export interface KubeconfigUser {
  /** The user's and its context's name. */
  name: string;
  /** `eksauth` arguments, e.g. `['token', '--cluster-name', 'prod', '--region', 'eu-west-1']`. */
  args: string[];
  /** Environment of the exec plugin, e.g. the emulator's keys and `AWS_ENDPOINT_URL_STS`. */
  env?: Record<string, string>;
}

/**
 * Writes the kubeconfig with kubectl itself, as a user would: the cluster, a user per entry of `users` that runs this
 * eksauth (the Node and script running now, so no install on PATH is needed), and a context for each.
 */
export async function writeKubeconfig(
  kubectl: (args: string[]) => Promise<unknown>,
  options: { cluster: { name: string; server: string; caPem: string }; users: KubeconfigUser[]; dir: string },
): Promise<void> {
  const caFile = join(options.dir, 'ca.pem');
  writeFileSync(caFile, options.cluster.caPem);
  const { name: clusterName, server } = options.cluster;
  await kubectl(['config', 'set-cluster', clusterName, `--server=${server}`, `--certificate-authority=${caFile}`, '--embed-certs=true']);
  const self = selfCommand();
  for (const user of options.users) {
    await kubectl([
      'config', 'set-credentials', user.name, '--exec-api-version=client.authentication.k8s.io/v1', `--exec-command=${self.command}`,
      '--exec-interactive-mode=Never', ...[...self.args, ...user.args].map((arg) => `--exec-arg=${arg}`),
      ...Object.entries(user.env ?? {}).map(([key, value]) => `--exec-env=${key}=${value}`),
    ]);
    await kubectl(['config', 'set-context', user.name, `--cluster=${clusterName}`, `--user=${user.name}`]);
  }
}

/** `kubectl auth whoami` until it shows `username` (the watch delivers the edit within moments; bounded). */
async function untilUsername(kubectl: (args: string[]) => Promise<{ stdout: string }>, username: string): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const { stdout } = await kubectl(['--context', 'demo', 'auth', 'whoami']);
    if (stdout.includes(username)) return stdout;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the aws-auth edit did not reach the server (kubectl auth whoami never showed ${username})`);
}

/** The mapping-file form as ConfigMap data: each section a YAML string, as aws-auth stores them. */
function awsAuthData(mapping: string): Record<string, string> {
  const doc = parse(mapping) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(doc).map(([section, rows]) => [section, stringify(rows)]));
}

function indent(text: string): string {
  return text.trimEnd().split('\n').map((line) => `  ${line}`).join('\n') + '\n';
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
