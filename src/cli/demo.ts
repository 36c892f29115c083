import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { getCallerIdentity } from '../authn/get-caller-identity.js';
import { DEMO_EMULATOR_CONFIG } from '../emulator/config.js';
import { startEmulator, type Emulator } from '../emulator/server.js';
import { isEksAuthError } from '../errors.js';
import { EXEC_API_V1 } from '../exec/exec-info.js';
import { decodeToken } from '../token/format.js';

const run = promisify(execFile);
const CLUSTER = 'demo-cluster';
const REGION = 'eu-west-1';

/**
 * `eksauth demo`: the chain on local defaults. Starts the STS emulator, runs the real `eksauth token` the way kubectl
 * does, decodes the token and asks the emulator who it belongs to, for a user and for an assumed role.
 */
export async function runDemo(): Promise<void> {
  const emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
  try {
    say(`STS emulator listening on ${emulator.url} (checks SigV4 signatures for real)\n`);
    const [alice] = DEMO_EMULATOR_CONFIG.identities;
    if (alice === undefined) throw new Error('the demo configuration has no identities');
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: alice.accessKeyId,
      AWS_SECRET_ACCESS_KEY: alice.secretAccessKey,
      AWS_ENDPOINT_URL_STS: emulator.url,
      AWS_EC2_METADATA_DISABLED: 'true',
      KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion: EXEC_API_V1, kind: 'ExecCredential', spec: { interactive: false } }),
    };
    await showToken(emulator, ['token', '--cluster-name', CLUSTER, '--region', REGION], env, `as ${alice.arn}`);
    const role = DEMO_EMULATOR_CONFIG.roles?.[0];
    if (role !== undefined) {
      await showToken(emulator, ['token', '--cluster-name', CLUSTER, '--region', REGION, '--role-arn', role.arn], env, `assuming ${role.arn}`);
    }
  } finally {
    await emulator.close();
  }
}

async function showToken(emulator: Emulator, args: string[], env: NodeJS.ProcessEnv, label: string): Promise<void> {
  say(`$ eksauth ${args.join(' ')}    # ${label}`);
  const { stdout } = await run(process.execPath, [process.argv[1] ?? 'eksauth', ...args], { env });
  const credential = JSON.parse(stdout) as { apiVersion: string; status: { token: string; expirationTimestamp: string } };
  say(`  ExecCredential ${credential.apiVersion}, expires ${credential.status.expirationTimestamp}`);
  const url = new URL(decodeToken(credential.status.token) ?? '');
  describeUrl(url);
  const identity = await getCallerIdentity(url, { clusterId: CLUSTER, stsEndpoint: emulator.url });
  say(`  STS says: ${identity.arn} (account ${identity.account}, user id ${identity.userId})`);
  await showReplayRefused(url, emulator);
  say('');
}

// Shows the parts of the presigned URL a person can check; the signature and session token stay hidden.
function describeUrl(url: URL): void {
  const q = url.searchParams;
  say(`  token → GET https://${url.host}/ Action=${q.get('Action')} X-Amz-Date=${q.get('X-Amz-Date')}`);
  say(`          SignedHeaders=${q.get('X-Amz-SignedHeaders')} Expires=${q.get('X-Amz-Expires')} ` +
    `Credential=${q.get('X-Amz-Credential')?.split('/').slice(1).join('/')} ` +
    `session token: ${q.has('X-Amz-Security-Token') ? 'yes (hidden)' : 'no'}`);
}

async function showReplayRefused(url: URL, emulator: Emulator): Promise<void> {
  try {
    await getCallerIdentity(url, { clusterId: 'another-cluster', stsEndpoint: emulator.url });
    say('  replay against another-cluster: ACCEPTED (unexpected)');
  } catch (err) {
    if (!isEksAuthError(err)) throw err;
    say(`  replay against another-cluster: refused (${err.code})`);
  }
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
