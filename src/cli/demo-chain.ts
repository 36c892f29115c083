/**
 * The `eksauth demo` section that runs the whole chain as a cluster does: kubectl runs `eksauth token`, the test API
 * server sends a TokenReview for the token to `eksauth server` (its webhook kubeconfig, as kube-apiserver's
 * `--authentication-token-webhook-config-file`), the server asks the STS emulator who signed it and maps the identity
 * from the aws-auth ConfigMap it watches, and `kubectl auth whoami` prints the mapped user.
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
  // The API server exists first (the webhook's informer reads aws-auth from it); its authenticator is set once the
  // webhook has written its kubeconfig.
  let authenticate: BearerAuthenticator = async () => undefined;
  const api = await startTestApiServer({
    authenticate: (token) => authenticate(token),
    staticTokens: { [SERVICE_ACCOUNT_TOKEN]: { username: 'system:serviceaccount:kube-system:eksauth' } },
  });
  let server: RunningServer | undefined;
  try {
    api.configMaps.put('kube-system', 'aws-auth', awsAuthData(options.mapping));
    server = await startServer({
      clusterId: options.cluster, port: 0, opsPort: null, stateDir: join(dir, 'state'), backendMode: ['EKSConfigMap'],
      stsEndpoint: options.emulator.url, generateKubeconfig: join(dir, 'webhook-kubeconfig.yaml'), logLevel: 'error',
    }, { kubernetes: { server: api.url, caPem: api.caPem, token: SERVICE_ACCOUNT_TOKEN }, logDestination: process.stderr });
    authenticate = webhookAuthenticator({ kubeconfigPath: join(dir, 'webhook-kubeconfig.yaml'), version: 'v1' });
    say(`  eksauth server: ${server.url} (webhook kubeconfig ${server.kubeconfigPath ?? ''}), aws-auth from the API server`);
    say(`  API server:     ${api.url}, --authentication-token-webhook-version=v1\n`);
    await runKubectl(options, api, dir);
  } finally {
    await server?.close();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runKubectl(options: WholeChainOptions, api: TestApiServer, dir: string): Promise<void> {
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
  await writeKubeconfig(kubectl, options, api, dir);
  const contexts = [{ context: 'demo', label: 'as the user' }, ...(options.roleArn ? [{ context: 'demo-admin', label: `assuming ${options.roleArn}` }] : [])];
  for (const { context, label } of contexts) {
    say(`$ kubectl --context ${context} auth whoami    # ${label}`);
    say(indent((await kubectl(['--context', context, 'auth', 'whoami'])).stdout));
  }
  const renamed = options.mapping.includes('username: alice') ? 'alice-renamed' : undefined;
  if (renamed === undefined) return;
  api.configMaps.put('kube-system', 'aws-auth', awsAuthData(options.mapping.replace('username: alice', `username: ${renamed}`)));
  say(`Edited aws-auth (alice → ${renamed}); the running server picks it up from its watch:`);
  say(`$ kubectl --context demo auth whoami`);
  say(indent(await untilUsername(kubectl, renamed)));
}

/** Writes the kubeconfig with kubectl itself, as a user would: the cluster, an exec user per identity, contexts. */
async function writeKubeconfig(kubectl: (args: string[]) => Promise<unknown>, options: WholeChainOptions, api: TestApiServer, dir: string): Promise<void> {
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, api.caPem);
  await kubectl(['config', 'set-cluster', 'demo', `--server=${api.url}`, `--certificate-authority=${caFile}`, '--embed-certs=true']);
  const tokenArgs = [process.argv[1] ?? 'eksauth', 'token', '--cluster-name', options.cluster, '--region', options.region];
  const users: [string, string[]][] = [['demo', tokenArgs], ...(options.roleArn ? [['demo-admin', [...tokenArgs, '--role-arn', options.roleArn]] as [string, string[]]] : [])];
  for (const [name, args] of users) {
    await kubectl([
      'config', 'set-credentials', name, '--exec-api-version=client.authentication.k8s.io/v1', `--exec-command=${process.execPath}`,
      '--exec-interactive-mode=Never', ...args.map((arg) => `--exec-arg=${arg}`),
    ]);
    await kubectl(['config', 'set-context', name, '--cluster=demo', `--user=${name}`]);
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
